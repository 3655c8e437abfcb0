/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workloads.c - the benchmarks' shared workloads, plugins and result check
 * (workloads.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/quantity.h>

#include "util.h"
#include "workloads.h"

const char *bench_prog = "bench";

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------ random */

/*
 * splitmix64: Karpenter draws from Go's math/rand seeded with 42, whose
 * stream C cannot reproduce without Go's seed table.  The distributions
 * (uniform over the same small sets) are what matter, and a fixed seed
 * keeps every run of the same size identical.
 */
static uint64_t rng_state = 42;

void bench_seed(uint64_t seed)
{
	rng_state = seed;
}

size_t rnd(size_t n)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (size_t)(z % n);
}

/* ------------------------------------------------------------ instance types */

static void req(struct kerf_requirements *r, const char *key, const char *const *values,
		size_t n)
{
	struct kerf_requirement *q = kerf_requirements_append(r);

	q->key = xstrdup(key);
	q->op = n ? KERF_OP_IN : KERF_OP_DOES_NOT_EXIST;
	q->n_values = n;
	q->values = n ? xcalloc(n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < n; i++)
		q->values[i] = xstrdup(values[i]);
}

static void req1(struct kerf_requirements *r, const char *key, const char *value)
{
	req(r, key, &value, value ? 1 : 0);
}

static const char *const fake_zones[] = {"test-zone-1", "test-zone-2", "test-zone-3"};

/*
 * Karpenter's fake.InstanceTypes(400): type i has i+1 vCPU, 2(i+1) GiB and
 * 10(i+1) pods, less the fake's kube-reserved 100m and 10Mi; spot in two
 * zones and on-demand in three, all at PriceFromResources (0.1 USD per vCPU
 * plus 0.1 USD per 1e9 bytes of memory, per hour); the fake's labels
 * (size small or large, "special" on the large ones, "integer" = vCPUs).
 */
struct kerf_instance_type_list *karpenter_types(size_t n)
{
	static const char *const oses[] = {"darwin", "linux", "windows"};
	static const char *const cts[] = {"on-demand", "spot"};
	static const struct {
		const char *zone;
		kerf_capacity_type ct;
	} offers[] = {
	    {"test-zone-1", KERF_CAPACITY_SPOT},      {"test-zone-2", KERF_CAPACITY_SPOT},
	    {"test-zone-1", KERF_CAPACITY_ON_DEMAND}, {"test-zone-2", KERF_CAPACITY_ON_DEMAND},
	    {"test-zone-3", KERF_CAPACITY_ON_DEMAND},
	};
	struct kerf_instance_type_list *l = kerf_instance_type_list_new();

	for (size_t i = 0; i < n; i++) {
		struct kerf_instance_type *t = kerf_instance_type_list_append(l);
		int64_t cpus = (int64_t)i + 1, mem = 2 * cpus * Gi;
		bool large = cpus > 4 && mem > 8 * Gi;
		char name[32], integer[24];
		kerf_price_t price;

		snprintf(name, sizeof(name), "fake-it-%zu", i);
		snprintf(integer, sizeof(integer), "%" PRId64, cpus);
		t->name = xstrdup(name);
		req1(&t->requirements, "node.kubernetes.io/instance-type", name);
		req1(&t->requirements, "kubernetes.io/arch", "amd64");
		req(&t->requirements, "kubernetes.io/os", oses, 3);
		req(&t->requirements, L_ZONE, fake_zones, 3);
		req(&t->requirements, "karpenter.sh/capacity-type", cts, 2);
		req1(&t->requirements, "size", large ? "large" : "small");
		req1(&t->requirements, "special", large ? "optional" : NULL);
		req1(&t->requirements, "integer", integer);

		kerf_resources_init(&t->capacity);
		kerf_resources_set(&t->capacity, KERF_RESOURCE_CPU, cpus * 1000, NULL);
		kerf_resources_set(&t->capacity, KERF_RESOURCE_MEMORY, mem, NULL);
		kerf_resources_set(&t->capacity, KERF_RESOURCE_PODS, cpus * 10, NULL);
		t->allocatable = t->capacity;
		t->allocatable.cpu_millis -= 100;
		t->allocatable.memory_bytes -= 10 * Mi;

		/* micro-USD: 0.1e6 per vCPU, and 0.1e6 per 1e9 bytes = 1 per 1e4 bytes. */
		price = 100000 * cpus + (mem + 5000) / 10000;
		for (size_t o = 0; o < sizeof(offers) / sizeof(offers[0]); o++) {
			struct kerf_offering *of = kerf_instance_type_add_offering(t);

			of->zone = xstrdup(offers[o].zone);
			of->capacity_type = offers[o].ct;
			of->price = price;
			of->available = true;
		}
	}
	return l;
}

/* ------------------------------------------------------------ pods */

struct kerf_pod *new_pod(struct pods *ps, int64_t cpu_m, int64_t mem, int64_t gpus)
{
	struct kerf_pod *p = kerf_pod_new();
	char name[32];

	snprintf(name, sizeof(name), "pod-%zu", ps->n);
	p->meta->name = xstrdup(name);
	p->meta->namespace_ = xstrdup("default");
	p->meta->kind = xstrdup("Pod");
	p->phase = KERF_POD_PENDING;
	p->unschedulable = true;
	kerf_resources_init(&p->requests);
	kerf_resources_set(&p->requests, KERF_RESOURCE_CPU, cpu_m, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_MEMORY, mem, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_PODS, 1, NULL);
	if (gpus)
		kerf_resources_set(&p->requests, KERF_RESOURCE_NVIDIA_GPU, gpus, NULL);
	xgrow(ps->items, ps->cap, ps->n + 1);
	ps->items[ps->n++] = p;
	return p;
}

void pods_free(struct pods *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		kerf_pod_free(ps->items[i]);
	free(ps->items);
}

/* The benchmark's label values, requests and selectors. */
static const char *random_value(void)
{
	static const char *const v[] = {"a", "b", "c", "d", "e", "f", "g"};
	return v[rnd(7)];
}

static struct kerf_pod *random_pod(struct pods *ps, const char *label_key, const char *label_value)
{
	static const int64_t cpu[] = {100, 250, 500, 1000, 1500};
	static const int64_t mem[] = {100, 256, 512, 1024, 2048, 4096};
	/* Drawn after the labels, as the Go struct literal evaluates them. */
	int64_t c = cpu[rnd(5)];
	struct kerf_pod *p = new_pod(ps, c, mem[rnd(6)] * Mi, 0);

	kerf_labels_set(&p->meta->labels, label_key, label_value);
	return p;
}

static void add_generic(struct pods *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		random_pod(ps, "my-label", random_value());
}

void pod_spread(struct kerf_pod *p, const char *key, const char *label, const char *value)
{
	struct kerf_topology_spread *s = kerf_pod_add_spread(p);

	s->max_skew = 1;
	s->topology_key = xstrdup(key);
	s->when_unsatisfiable = KERF_SPREAD_DO_NOT_SCHEDULE;
	kerf_labels_set(&s->selector->match_labels, label, value);
}

/* Labels and selector drawn independently: a pod need not match its own spread. */
static void add_spread(struct pods *ps, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		const char *label = random_value(), *selects = random_value();

		pod_spread(random_pod(ps, "my-label", label), key, "my-label", selects);
	}
}

static void term(struct kerf_pod_affinity_term *t, const char *key, const char *label,
		 const char *value)
{
	t->topology_key = xstrdup(key);
	kerf_labels_set(&t->selector->match_labels, label, value);
}

/* Self-affinity, as upstream: affinity to a label no pod carries would leave them all pending. */
static void add_affinity(struct pods *ps, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = random_value();
		struct kerf_pod *p = random_pod(ps, "my-affininity", v);

		term(kerf_pod_add_affinity(p), key, "my-affininity", v);
	}
}

static void add_anti_affinity(struct pods *ps, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		struct kerf_pod *p = random_pod(ps, "app", "nginx");

		term(kerf_pod_add_anti_affinity(p), key, "app", "nginx");
	}
}

void karpenter_pods(struct pods *ps, size_t count)
{
	size_t each = count / 5;

	add_generic(ps, each);
	add_spread(ps, each, L_ZONE);
	add_spread(ps, each, L_HOSTNAME);
	add_affinity(ps, each, L_ZONE);
	add_anti_affinity(ps, each, L_HOSTNAME);
	add_generic(ps, count - ps->n);
}

/* Reads a simulator CSV (arrival_s,cpu_millicores,memory_mib,gpu,count[,...]). */
void trace_pods(struct pods *ps, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int col_cpu = -1, col_mem = -1, col_gpu = -1, col_count = -1;
	unsigned lineno = 0;
	bool header = false;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		int64_t v[16] = {0};
		char *save = NULL, *tok, *end;
		int i = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!header) {
			for (tok = strtok_r(line, ",", &save); tok && i < 16;
			     tok = strtok_r(NULL, ",", &save), i++) {
				if (strcmp(tok, "cpu_millicores") == 0)
					col_cpu = i;
				else if (strcmp(tok, "memory_mib") == 0)
					col_mem = i;
				else if (strcmp(tok, "gpu") == 0)
					col_gpu = i;
				else if (strcmp(tok, "count") == 0)
					col_count = i;
			}
			if (col_cpu < 0 || col_mem < 0 || col_gpu < 0 || col_count < 0)
				die("%s:%u: header needs cpu_millicores, memory_mib, gpu and count",
				    path, lineno);
			header = true;
			continue;
		}
		/* strtok_r would merge empty cells and shift the columns. */
		for (tok = line; i < 16; i++) {
			errno = 0;
			v[i] = strtoll(tok, &end, 10);
			if (errno || end == tok || (*end != ',' && *end != '\0'))
				break;
			if (*end == '\0') {
				i++;
				break;
			}
			tok = end + 1;
		}
		if (i <= col_cpu || i <= col_mem || i <= col_gpu || i <= col_count)
			die("%s:%u: not an integer row", path, lineno);
		for (int64_t c = 0; c < v[col_count]; c++)
			new_pod(ps, v[col_cpu], v[col_mem] * Mi, v[col_gpu]);
	}
	fclose(f);
	if (!header)
		die("%s: no header line", path);
}

/* ------------------------------------------------------------ plugins */

void plugin_up(struct loader *ldr, struct plugin_instance *p, const char *name, uint32_t kind,
	       const char *instance, const struct yt_node *config)
{
	struct kerf_error err;

	const struct instance_env env = {.config = config};

	kerf_error_clear(&err);
	if (loader_open(ldr, name, kind, &p->plugin, &err) ||
	    instance_create(p, instance, &env, &err))
		die("%s", err.message);
}

void plugin_down(struct plugin_instance *p)
{
	if (p->plugin)
		instance_destroy(p);
}

/*
 * The catalogue as the sim plugin serves it with its defaults.  Only the
 * file's path is given: the default is the installed copy, and a benchmark
 * of the build tree must read the source tree's.
 */
struct kerf_instance_type_list *sim_types(struct loader *ldr, struct plugin_instance *sim,
					  const char *catalogue)
{
	struct kerf_instance_type_list *l = NULL;
	struct yt_stream *yaml = NULL;
	struct strbuf sb;
	struct kerf_error err = KERF_ERROR_INIT;

	sb_init(&sb);
	sb_puts(&sb, "catalogue: \"");
	for (const char *c = catalogue; *c; c++) {
		if (*c == '"' || *c == '\\')
			sb_puts(&sb, "\\");
		sb_append(&sb, c, 1);
	}
	sb_puts(&sb, "\"\n");
	kerf_error_clear(&err);
	if (yt_parse_string("sim config", sb.buf, sb.len, &yaml, &err))
		die("%s", err.message);
	plugin_up(ldr, sim, "sim", KERF_KIND_PROVIDER, "provider/sim", yaml->docs[0].root);
	yt_stream_free(yaml);
	sb_free(&sb);
	if (sim->plugin->provider.get_instance_types(sim->state, NULL, &l, &err))
		die("sim: get_instance_types: %s", err.message);
	return l;
}

/* ------------------------------------------------------------ checks */

static bool anti_affine(const struct kerf_pod *p)
{
	return p->n_anti_affinity && strcmp(p->anti_affinity[0]->topology_key, L_HOSTNAME) == 0;
}

void check(const struct prov_input *in, const struct prov_result *r, size_t *placed)
{
	unsigned char *seen = xcalloc(in->n_pods, 1);

	*placed = 0;
	for (size_t c = 0; c < r->n_claims; c++) {
		const struct prov_claim *cl = &r->claims[c];
		struct kerf_resources used;
		char failed[KERF_RESOURCE_NAME_MAX];
		size_t anti = 0;

		kerf_resources_init(&used);
		for (size_t i = 0; i < cl->n_pods; i++) {
			const struct kerf_pod *p = in->pods[cl->pods[i]];

			if (seen[cl->pods[i]]++)
				die("pod %s placed twice", p->meta->name);
			kerf_resources_add(&used, &p->requests);
			anti += anti_affine(p);
		}
		if (!kerf_resources_fit(&used, &cl->type->allocatable, failed))
			die("NodeClaim %s (%s) overcommits %s", cl->claim->meta->name,
			    cl->type->name, failed);
		if (anti > 1)
			die("NodeClaim %s holds %zu pods with hostname anti-affinity",
			    cl->claim->meta->name, anti);
		*placed += cl->n_pods;
	}
	for (size_t i = 0; i < r->n_unschedulable; i++)
		if (seen[r->unschedulable[i].pod]++)
			die("pod %s both placed and unschedulable",
			    in->pods[r->unschedulable[i].pod]->meta->name);
	for (size_t i = 0; i < in->n_pods; i++)
		if (!seen[i])
			die("pod %s neither placed nor reported", in->pods[i]->meta->name);
	free(seen);
}

static const char nodepool_yaml[] =
    "apiVersion: karpenter.sh/v1\n"
    "kind: NodePool\n"
    "metadata:\n"
    "  name: default\n"
    "spec:\n"
    "  limits:\n"
    "    cpu: \"10000000\"\n"
    "    memory: 10000000Gi\n"
    "  template:\n"
    "    spec:\n"
    "      nodeClassRef:\n"
    "        group: karpenter.k8s.aws\n"
    "        kind: EC2NodeClass\n"
    "        name: default\n"
    "      requirements:\n";

/* Karpenter's benchmark pool has no requirements; the trace's pool says linux, spot or on-demand. */
const char trace_requirements[] =
    "        - key: kubernetes.io/os\n"
    "          operator: In\n"
    "          values: [linux]\n"
    "        - key: karpenter.sh/capacity-type\n"
    "          operator: In\n"
    "          values: [spot, on-demand]\n";


void bench_nodepool(struct mf_set *set, const char *requirements)
{
	struct strbuf pool;
	struct kerf_error err;

	kerf_error_clear(&err);
	sb_init(&pool);
	sb_puts(&pool, nodepool_yaml);
	sb_puts(&pool, requirements ? requirements : "          []\n");
	mf_set_init(set);
	if (mf_load_string(set, "bench NodePool", pool.buf, pool.len, NULL, &err) ||
	    set->n_nodepools != 1)
		die("NodePool: %s", err.message);
	sb_free(&pool);
}
