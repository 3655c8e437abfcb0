/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_provision.c - one provisioning batch, end to end: NodePools from
 * YAML, a small instance-type catalogue with the real EC2 figures of those
 * types, pods built here, and the binpack-ffd plugin loaded as kerfd loads
 * it (the core's own host table).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/plugin.h>
#include <kerf/requirements.h>

#include "cfg.h"
#include "host.h"
#include "loader.h"
#include "manifest.h"
#include "nodeclass.h"
#include "provision.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/binpack-ffd/.libs"
#define DATA KERF_TEST_DATADIR "/provision/"
#define Mi (1024ll * 1024)

static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};

/* ------------------------------------------------------------ packer */

static struct loader *ldr;
static const struct loader_plugin *plug;
static struct kerf_host *host;
static struct cfg_section *section;
static void *inst;

static void setup(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "binpack-ffd", KERF_KIND_PACKER, &plug, &err) == 0, "%s",
		      err.message);
	/* No kerf.yaml: the plugin's defaults, as kerfd gives them. */
	ck_assert_msg(cfg_section_build(NULL, "binpack-ffd", plug->schema, &section, &err) == 0,
		      "%s", err.message);
	host = host_new("packer/binpack-ffd", section, NULL, NULL);
	ck_assert_msg(loader_create(plug, host, &inst, &err) == 0, "%s", err.message);
}

static void teardown(void)
{
	loader_destroy(plug, inst);
	host_free(host);
	cfg_section_free(section);
	loader_free(ldr);
}

/* ------------------------------------------------------------ catalogue */

/* Real us-east-1 figures (data/ec2-catalogue.tsv): allocatable and prices. */
struct spec {
	const char *name, *family, *size, *arch;
	int gen, gpus;
	int64_t cpu_m, mem_mi, alloc_cpu_m, alloc_mem_mi, pods;
	int64_t od, spot;
};

static const struct spec specs[] = {
    {"t3.medium", "t3", "medium", "amd64", 3, 0, 2000, 4096, 1930, 3246, 17, 41600, 18304},
    {"t3.large", "t3", "large", "amd64", 3, 0, 2000, 8192, 1930, 6837, 35, 83200, 31616},
    {"t3.xlarge", "t3", "xlarge", "amd64", 3, 0, 4000, 16384, 3920, 14162, 58, 166400, 66560},
    {"t3.2xlarge", "t3", "2xlarge", "amd64", 3, 0, 8000, 32768, 7910, 29317, 58, 332800,
     116480},
    {"t2.xlarge", "t2", "xlarge", "amd64", 2, 0, 4000, 16384, 3920, 14162, 44, 185600, 60000},
    {"m5.large", "m5", "large", "amd64", 5, 0, 2000, 8192, 1930, 6903, 29, 96000, 36000},
    {"m5.metal", "m5", "metal", "amd64", 5, 0, 96000, 393216, 95690, 355262, 737, 4608000,
     1152000},
    {"g4dn.xlarge", "g4dn", "xlarge", "amd64", 4, 1, 4000, 16384, 3920, 14481, 29, 526000,
     189360},
    {"m6g.large", "m6g", "large", "arm64", 6, 0, 2000, 8192, 1930, 6903, 29, 77000, 30000},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static void req_in(struct kerf_requirements *r, const char *key, const char *value)
{
	struct kerf_requirement *q = kerf_requirements_append(r);
	q->key = strdup(key);
	q->op = KERF_OP_IN;
	kerf_requirement_add_value(q, value);
}

static void resources(struct kerf_resources *r, int64_t cpu_m, int64_t mem_mi, int64_t pods,
		      int gpus)
{
	kerf_resources_init(r);
	kerf_resources_set(r, "cpu", cpu_m, NULL);
	kerf_resources_set(r, "memory", mem_mi * Mi, NULL);
	kerf_resources_set(r, "pods", pods, NULL);
	if (gpus)
		kerf_resources_set(r, KERF_RESOURCE_NVIDIA_GPU, gpus, NULL);
}

/* Every spec offered on-demand and spot in the three zones, minus `unavailable` ("spot"). */
static struct kerf_instance_type_list *catalogue(bool spot_available)
{
	struct kerf_instance_type_list *l = kerf_instance_type_list_new();
	for (size_t i = 0; i < N_SPECS; i++) {
		const struct spec *s = &specs[i];
		struct kerf_instance_type *it = kerf_instance_type_list_append(l);
		char gen[8], gpus[8];
		snprintf(gen, sizeof(gen), "%d", s->gen);
		snprintf(gpus, sizeof(gpus), "%d", s->gpus);
		it->name = strdup(s->name);
		req_in(&it->requirements, "node.kubernetes.io/instance-type", s->name);
		req_in(&it->requirements, "karpenter.k8s.aws/instance-family", s->family);
		req_in(&it->requirements, "karpenter.k8s.aws/instance-size", s->size);
		req_in(&it->requirements, "karpenter.k8s.aws/instance-generation", gen);
		req_in(&it->requirements, "karpenter.k8s.aws/instance-gpu-count", gpus);
		req_in(&it->requirements, "kubernetes.io/arch", s->arch);
		req_in(&it->requirements, "kubernetes.io/os", "linux");
		resources(&it->capacity, s->cpu_m, s->mem_mi, s->pods, s->gpus);
		resources(&it->allocatable, s->alloc_cpu_m, s->alloc_mem_mi, s->pods, s->gpus);
		it->classes = (s->gpus ? KERF_TYPE_GPU : 0) |
			      (strstr(s->size, "metal") ? KERF_TYPE_METAL : 0);
		for (size_t z = 0; z < 3; z++) {
			struct kerf_offering *od = kerf_instance_type_add_offering(it);
			struct kerf_offering *spot = kerf_instance_type_add_offering(it);
			od->zone = strdup(zones[z]);
			od->capacity_type = KERF_CAPACITY_ON_DEMAND;
			od->price = s->od;
			od->available = true;
			/* Zones differ a little in spot price, as the sim plugin's do. */
			spot->zone = strdup(zones[z]);
			spot->capacity_type = KERF_CAPACITY_SPOT;
			spot->price = s->spot + (int64_t)z * 100;
			spot->available = spot_available;
		}
	}
	return l;
}

/* ------------------------------------------------------------ pods */

static struct kerf_pod *pod(const char *name, const char *app, int64_t cpu_m, int64_t mem_mi)
{
	struct kerf_pod *p = kerf_pod_new();
	p->meta->name = strdup(name);
	p->meta->namespace_ = strdup("default");
	p->meta->kind = strdup("Pod");
	kerf_labels_set(&p->meta->labels, "app", app);
	resources(&p->requests, cpu_m, mem_mi, 1, 0);
	p->unschedulable = true;
	return p;
}

static void tolerate(struct kerf_pod *p, const char *key, const char *value)
{
	struct kerf_toleration *t = kerf_tolerations_append(&p->tolerations);
	t->key = strdup(key);
	t->value = strdup(value);
	t->effect = KERF_EFFECT_NO_SCHEDULE;
}

static void select_app(struct kerf_label_selector *s, const char *app)
{
	kerf_labels_set(&s->match_labels, "app", app);
}

static void spread(struct kerf_pod *p, const char *key, int32_t skew)
{
	struct kerf_topology_spread *s = kerf_pod_add_spread(p);
	s->max_skew = skew;
	s->topology_key = strdup(key);
	s->when_unsatisfiable = KERF_SPREAD_DO_NOT_SCHEDULE;
	select_app(s->selector, kerf_labels_get(&p->meta->labels, "app"));
}

static void anti_affinity(struct kerf_pod *p, const char *key)
{
	struct kerf_pod_affinity_term *t = kerf_pod_add_anti_affinity(p);
	t->topology_key = strdup(key);
	select_app(t->selector, kerf_labels_get(&p->meta->labels, "app"));
}

/* n copies of a pod, as a Deployment would make them. */
struct podset {
	size_t n;
	struct kerf_pod *items[256];
};

static void add_pods(struct podset *ps, size_t n, const char *app, int64_t cpu_m, int64_t mem_mi,
		     void (*tweak)(struct kerf_pod *))
{
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s-%zu", app, ps->n);
		struct kerf_pod *p = pod(name, app, cpu_m, mem_mi);
		if (tweak)
			tweak(p);
		ps->items[ps->n++] = p;
	}
}

static void podset_free(struct podset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		kerf_pod_free(ps->items[i]);
}

/* ------------------------------------------------------------ running */

struct batch {
	struct mf_set set;
	struct kerf_instance_type_list *types;
	struct prov_pool pools[8];
	struct prov_input in;
	struct prov_result *res;
};

/*
 * The files name EC2NodeClasses, which provisioning never reads: a stand-in
 * provider serves the kind and accepts any document.  The types are EC2's,
 * so it declares what an EC2 provider does (plugins/ec2/nodeclass.h): the
 * AWS labels pods select on, and the requirements that ask for GPU and
 * bare-metal types.
 */
static int accept_any(const struct kerf_doc_node *object, struct kerf_decoder *dec)
{
	(void)object;
	(void)dec;
	return 0;
}

static const struct kerf_node_class_kind ec2_kind[] = {
    {"karpenter.k8s.aws", "v1", "EC2NodeClass"},
    {NULL, NULL, NULL},
};

static const struct kerf_provider_ops stand_in = {
    .node_class_kinds = ec2_kind,
    .validate_node_class = accept_any,
    .well_known_labels = ec2_well_known_labels,
    .restricted_label_domains = ec2_restricted_label_domains,
    .class_selectors = ec2_class_selectors,
};

static void batch_load(struct batch *b, const char *file, bool spot_available)
{
	struct kerf_error err;

	memset(b, 0, sizeof(*b));
	mf_set_init(&b->set);
	kerf_error_clear(&err);
	ck_assert_int_eq(mf_set_add_provider(&b->set, "stand-in", &stand_in, &err), 0);
	ck_assert_msg(mf_load_file(&b->set, file, NULL, &err) == 0, "%s", err.message);
	b->types = catalogue(spot_available);
	for (size_t i = 0; i < b->set.n_nodepools; i++)
		b->pools[i] = (struct prov_pool){.nodepool = b->set.nodepools[i],
						 .types = b->types,
						 .class_selectors = stand_in.class_selectors};
	b->in.n_pools = b->set.n_nodepools;
	b->in.pools = b->pools;
	b->in.packer = &plug->packer;
	b->in.packer_inst = inst;
}

static void batch_run(struct batch *b, const struct podset *ps)
{
	struct kerf_error err;

	kerf_error_clear(&err);
	prov_result_free(b->res);
	b->res = NULL;
	b->in.n_pods = ps->n;
	b->in.pods = (const struct kerf_pod *const *)ps->items;
	ck_assert_msg(prov_run(&b->in, &b->res, &err) == 0, "%s", err.message);
}

static void batch_free(struct batch *b)
{
	prov_result_free(b->res);
	kerf_instance_type_list_free(b->types);
	mf_set_clear(&b->set);
}

static size_t claims_in_zone(const struct prov_result *r, const char *zone)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_claims; i++)
		if (strcmp(r->claims[i].zone, zone) == 0)
			n += r->claims[i].n_pods;
	return n;
}

static bool claim_has_requirement(const struct prov_claim *c, const char *key, const char *value)
{
	const struct kerf_requirements *r = &c->claim->requirements;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->items[i]->key, key) != 0)
			continue;
		for (size_t v = 0; v < r->items[i]->n_values; v++)
			if (strcmp(r->items[i]->values[v], value) == 0)
				return true;
	}
	return false;
}

/* ------------------------------------------------------------ tests */

static void ray_tolerate(struct kerf_pod *p)
{
	tolerate(p, "ray.io/node-type", "worker");
}

START_TEST(ray_worker_pool_and_cpu_limit)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, KERF_TEST_SRCDIR "/examples/ray-worker.yaml", true);
	/* 3.5 cpu each: one per t3.xlarge (3920m allocatable); 80 cpu is 20 of them. */
	add_pods(&ps, 25, "ray", 3500, 4096, ray_tolerate);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 20);
	for (size_t i = 0; i < b.res->n_claims; i++) {
		const struct prov_claim *c = &b.res->claims[i];
		ck_assert_str_eq(c->type->name, "t3.xlarge");
		ck_assert_int_eq(c->capacity_type, KERF_CAPACITY_ON_DEMAND);
		ck_assert_int_eq(c->price, 166400);
		ck_assert_str_eq(c->claim->nodepool, "ray-worker-nodepool");
		ck_assert(claim_has_requirement(c, "kubernetes.io/arch", "amd64"));
		ck_assert(claim_has_requirement(c, "karpenter.sh/capacity-type", "on-demand"));
		for (size_t o = 0; o < c->n_options; o++)
			ck_assert(strncmp(c->options[o]->name, "t3.", 3) == 0);
		ck_assert_uint_eq(c->claim->taints.n, 1);
	}
	ck_assert_int_eq(b.res->total_price, 20 * 166400);
	ck_assert_uint_eq(b.res->n_unschedulable, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct prov_unschedulable *u = &b.res->unschedulable[i];
		ck_assert_uint_eq(u->n_reasons, 1);
		ck_assert_str_eq(u->reasons[0].nodepool, "ray-worker-nodepool");
		ck_assert_msg(strstr(u->reasons[0].text, "limit cpu"), "%s", u->reasons[0].text);
	}
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

START_TEST(ray_worker_small_pods_get_only_t3_sizes)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, KERF_TEST_SRCDIR "/examples/ray-worker.yaml", true);
	add_pods(&ps, 1, "ray", 500, 512, ray_tolerate);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 1);
	const struct prov_claim *c = &b.res->claims[0];
	/* medium, large, xlarge; never t3.2xlarge (size) nor t2 (generation Gt 2). */
	ck_assert_uint_eq(c->n_options, 3);
	ck_assert_str_eq(c->options[0]->name, "t3.medium");
	ck_assert_str_eq(c->options[1]->name, "t3.large");
	ck_assert_str_eq(c->options[2]->name, "t3.xlarge");
	ck_assert_str_eq(c->zone, "us-east-1a");
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

START_TEST(untolerated_taint_not_provisioned)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, KERF_TEST_SRCDIR "/examples/ray-worker.yaml", true);
	add_pods(&ps, 1, "web", 500, 512, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 0);
	ck_assert_uint_eq(b.res->n_unschedulable, 1);
	ck_assert_uint_eq(b.res->unschedulable[0].n_reasons, 1);
	ck_assert_str_eq(b.res->unschedulable[0].reasons[0].text,
			 "untolerated taint {ray.io/node-type=worker:NoSchedule}");
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

static void zone_spread(struct kerf_pod *p)
{
	spread(p, "topology.kubernetes.io/zone", 1);
}

START_TEST(zone_spread_max_skew_one)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 7, "spread", 1000, 1024, zone_spread);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(claims_in_zone(b.res, "us-east-1a"), 3);
	ck_assert_uint_eq(claims_in_zone(b.res, "us-east-1b"), 2);
	ck_assert_uint_eq(claims_in_zone(b.res, "us-east-1c"), 2);
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

static void hostname_anti(struct kerf_pod *p)
{
	anti_affinity(p, "kubernetes.io/hostname");
}

START_TEST(hostname_anti_affinity_one_per_node)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 4, "solo", 100, 128, hostname_anti);
	add_pods(&ps, 8, "filler", 100, 128, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(b.res->n_claims, 4);
	for (size_t i = 0; i < b.res->n_claims; i++) {
		size_t solo = 0;
		for (size_t k = 0; k < b.res->claims[i].n_pods; k++)
			solo += b.res->claims[i].pods[k] < 4;
		ck_assert_uint_eq(solo, 1);
	}
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

static void wants_gpu(struct kerf_pod *p)
{
	kerf_resources_set(&p->requests, KERF_RESOURCE_NVIDIA_GPU, 1, NULL);
}

START_TEST(gpu_only_for_gpu_pods)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 1, "train", 1000, 1024, wants_gpu);
	/* Without the rule, g4dn.xlarge (16Gi) would be among the web pods' options. */
	add_pods(&ps, 3, "web", 3000, 12000, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	for (size_t i = 0; i < b.res->n_claims; i++) {
		const struct prov_claim *c = &b.res->claims[i];
		bool gpu_pod = c->pods[0] == 0;
		if (gpu_pod)
			ck_assert_str_eq(c->type->name, "g4dn.xlarge");
		for (size_t o = 0; o < c->n_options; o++) {
			ck_assert_int_eq(strcmp(c->options[o]->name, "g4dn.xlarge") == 0, gpu_pod);
			ck_assert_str_ne(c->options[o]->name, "m5.metal");
		}
	}
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

static void on_demand_in_c(struct kerf_pod *p)
{
	/* The deprecated zone alias: it must mean topology.kubernetes.io/zone. */
	kerf_labels_set(&p->node_selector, "failure-domain.beta.kubernetes.io/zone", "us-east-1c");
	kerf_labels_set(&p->node_selector, "karpenter.sh/capacity-type", "on-demand");
}

static void only_m5_large(struct kerf_pod *p)
{
	kerf_labels_set(&p->node_selector, "node.kubernetes.io/instance-type", "m5.large");
}

static void only_metal(struct kerf_pod *p)
{
	kerf_labels_set(&p->node_selector, "karpenter.k8s.aws/instance-size", "metal");
}

/* The claim holding pod i. */
static const struct prov_claim *claim_of(const struct prov_result *r, size_t i)
{
	for (size_t c = 0; c < r->n_claims; c++)
		for (size_t k = 0; k < r->claims[c].n_pods; k++)
			if (r->claims[c].pods[k] == i)
				return &r->claims[c];
	ck_abort_msg("pod %zu is on no claim", i);
	return NULL;
}

/*
 * Groups of one batch that request the same but require different things
 * each get their own instance types, zones and capacity types (the pool's
 * type filter is shared only between equal requirements).
 */
START_TEST(equal_requests_different_requirements)
{
	struct batch b;
	struct podset ps = {0};
	const struct prov_claim *c;

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 1, "m5", 1500, 6000, only_m5_large);
	add_pods(&ps, 1, "odc", 1500, 6000, on_demand_in_c);
	add_pods(&ps, 1, "metal", 1500, 6000, only_metal);
	add_pods(&ps, 1, "free", 1500, 6000, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	c = claim_of(b.res, 0);
	for (size_t o = 0; o < c->n_options; o++)
		ck_assert_str_eq(c->options[o]->name, "m5.large");
	c = claim_of(b.res, 1);
	ck_assert_str_eq(c->zone, "us-east-1c");
	ck_assert_int_eq(c->capacity_type, KERF_CAPACITY_ON_DEMAND);
	c = claim_of(b.res, 2);
	for (size_t o = 0; o < c->n_options; o++)
		ck_assert_str_eq(c->options[o]->name, "m5.metal");
	c = claim_of(b.res, 3);
	for (size_t o = 0; o < c->n_options; o++) {
		ck_assert_str_ne(c->options[o]->name, "m5.metal");
		ck_assert_str_ne(c->options[o]->name, "g4dn.xlarge");
	}
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

START_TEST(weights_choose_pool)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "weighted.yaml", true);
	add_pods(&ps, 2, "web", 500, 1024, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 1);
	/* "arm" weighs 50, "amd" 10: arm wins although "amd" sorts first by name. */
	ck_assert_str_eq(b.res->claims[0].claim->nodepool, "arm");
	ck_assert_str_eq(b.res->claims[0].type->name, "m6g.large");
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

START_TEST(spot_preferred_then_on_demand)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 1, "web", 1000, 1024, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 1);
	ck_assert_int_eq(b.res->claims[0].capacity_type, KERF_CAPACITY_SPOT);
	ck_assert_str_eq(b.res->claims[0].type->name, "t3.medium");
	ck_assert_int_eq(b.res->claims[0].price, 18304);
	batch_free(&b);

	batch_load(&b, DATA "general.yaml", false);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_claims, 1);
	ck_assert_int_eq(b.res->claims[0].capacity_type, KERF_CAPACITY_ON_DEMAND);
	ck_assert_int_eq(b.res->claims[0].price, 41600);
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

START_TEST(second_batch_reuses_launching_claims)
{
	struct batch b;
	struct podset first = {0}, second = {0};

	batch_load(&b, KERF_TEST_SRCDIR "/examples/ray-worker.yaml", true);
	/* 2.5 cpu needs a t3.xlarge (3920m), which keeps 1420m free for the next batch. */
	add_pods(&first, 1, "ray", 2500, 4096, ray_tolerate);
	batch_run(&b, &first);
	ck_assert_uint_eq(b.res->n_claims, 1);
	const struct prov_claim *c = &b.res->claims[0];
	ck_assert_str_eq(c->type->name, "t3.xlarge");

	/* The claim is launching: its type, zone and pods are known. */
	const struct kerf_pod *bound[] = {first.items[0]};
	struct prov_existing ex = {
	    .name = c->claim->meta->name,
	    .nodepool = c->claim->nodepool,
	    .instance_type = c->type->name,
	    .zone = c->zone,
	    .capacity_type = c->capacity_type,
	    .labels = &c->claim->meta->labels,
	    .taints = &c->claim->taints,
	    .capacity = c->type->capacity,
	    .allocatable = c->type->allocatable,
	    .n_pods = 1,
	    .pods = bound,
	};
	struct prov_result *firstres = b.res;
	b.res = NULL;
	b.in.n_existing = 1;
	b.in.existing = &ex;
	add_pods(&second, 1, "ray", 1000, 2048, ray_tolerate);
	batch_run(&b, &second);
	ck_assert_uint_eq(b.res->n_claims, 0);
	ck_assert_uint_eq(b.res->n_reused, 1);
	ck_assert_uint_eq(b.res->reused[0].existing, 0);
	ck_assert_uint_eq(b.res->reused[0].n_pods, 1);
	ck_assert_int_eq(b.res->total_price, 0);

	/* The launching claim counts against the limit: 76 cpu left is 19 more t3.xlarge. */
	podset_free(&second);
	memset(&second, 0, sizeof(second));
	add_pods(&second, 25, "ray", 3500, 4096, ray_tolerate);
	batch_run(&b, &second);
	ck_assert_uint_eq(b.res->n_claims, 19);
	ck_assert_uint_eq(b.res->n_unschedulable, 6);
	prov_result_free(firstres);
	podset_free(&first);
	podset_free(&second);
	batch_free(&b);
}
END_TEST

/* Required hostname affinity to the db pods. */
static void follow_db(struct kerf_pod *p)
{
	struct kerf_pod_affinity_term *t = kerf_pod_add_affinity(p);
	t->topology_key = strdup("kubernetes.io/hostname");
	select_app(t->selector, "db");
}

/*
 * A db pod and a cache pod that must share its node arrive together while
 * a NodeClaim with room for both is launching: the batch puts db there, and
 * cache joins it, as Karpenter adds a follower to the node holding its
 * target, instead of being reported unschedulable.
 */
START_TEST(follower_joins_launching_claim)
{
	struct batch b;
	struct podset first = {0}, second = {0};

	batch_load(&b, DATA "general.yaml", false);
	add_pods(&first, 1, "seed", 1000, 1024, NULL);
	batch_run(&b, &first);
	ck_assert_uint_eq(b.res->n_claims, 1);
	const struct prov_claim *c = &b.res->claims[0];
	const struct kerf_pod *bound[] = {first.items[0]};
	struct prov_existing ex = {
	    .name = c->claim->meta->name,
	    .nodepool = c->claim->nodepool,
	    .instance_type = c->type->name,
	    .zone = c->zone,
	    .capacity_type = c->capacity_type,
	    .labels = &c->claim->meta->labels,
	    .taints = &c->claim->taints,
	    .capacity = c->type->capacity,
	    .allocatable = c->type->allocatable,
	    .n_pods = 1,
	    .pods = bound,
	};
	struct prov_result *firstres = b.res;
	b.res = NULL;
	b.in.n_existing = 1;
	b.in.existing = &ex;
	add_pods(&second, 1, "cache", 400, 512, follow_db);
	add_pods(&second, 1, "db", 400, 512, NULL);
	batch_run(&b, &second);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(b.res->n_claims, 0);
	ck_assert_uint_eq(b.res->n_reused, 1);
	ck_assert_uint_eq(b.res->reused[0].existing, 0);
	ck_assert_uint_eq(b.res->reused[0].n_pods, 2);
	prov_result_free(firstres);
	podset_free(&first);
	podset_free(&second);
	batch_free(&b);
}
END_TEST

START_TEST(limit_spills_to_next_pool)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "weighted.yaml", true);
	/*
	 * "arm" has a 4-cpu limit: two m6g.large; the other two pods fall
	 * through to "amd" and share one node there.
	 */
	add_pods(&ps, 4, "web", 1500, 1024, NULL);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(b.res->n_claims, 3);
	size_t arm = 0;
	for (size_t i = 0; i < b.res->n_claims; i++)
		arm += strcmp(b.res->claims[i].claim->nodepool, "arm") == 0;
	ck_assert_uint_eq(arm, 2);
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

/* Prefers a zone no catalogue has (weight 100), then us-east-1b (weight 10). */
static void prefer_zones(struct kerf_pod *p)
{
	static const char *const want[] = {"us-east-1b", "eu-west-1a"};
	static const int32_t weight[] = {10, 100};

	for (size_t i = 0; i < 2; i++) {
		struct kerf_preferred_term *t = kerf_pod_add_preferred_term(p);
		t->weight = weight[i];
		req_in(&t->preference, "topology.kubernetes.io/zone", want[i]);
	}
}

START_TEST(preferences_relaxed_heaviest_first)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	add_pods(&ps, 1, "web", 1000, 1024, prefer_zones);
	batch_run(&b, &ps);
	/*
	 * Karpenter treats only the heaviest preference as required and drops
	 * it when nothing fits: eu-west-1a fails, then us-east-1b alone holds,
	 * although us-east-1a has the cheapest spot price.
	 */
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(b.res->n_claims, 1);
	ck_assert_str_eq(b.res->claims[0].zone, "us-east-1b");
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

static void host_port(struct kerf_pod *p, const char *ip)
{
	struct kerf_host_port *hp = kerf_pod_add_host_port(p);
	hp->port = 8080;
	hp->host_ip = strdup(ip);
}

static void port_on_any_address(struct kerf_pod *p)
{
	host_port(p, "0.0.0.0");
}

static void port_on_one_address(struct kerf_pod *p)
{
	host_port(p, "10.0.0.1");
}

START_TEST(host_port_wildcard_conflicts)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "general.yaml", true);
	/* 0.0.0.0 binds every address, so the two pods cannot share a node. */
	add_pods(&ps, 1, "agent", 100, 128, port_on_any_address);
	add_pods(&ps, 1, "proxy", 100, 128, port_on_one_address);
	batch_run(&b, &ps);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	ck_assert_uint_eq(b.res->n_claims, 2);
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

/* ------------------------------------------------------------ packers per pool */

/*
 * A deliberately poor packer: every pod alone on a new node of the
 * cheapest type that takes it.  Valid plans, different from first-fit's,
 * so a test can tell whose plan was acted on.
 */
static int solo_calls;

static int solo_solve(void *inst_, const struct kerf_pack_problem *pb, int64_t budget_ms,
		      struct kerf_pack_plan **out, struct kerf_error *err)
{
	(void)inst_;
	(void)budget_ms;
	(void)err;
	solo_calls++;
	struct kerf_pack_plan *plan = kerf_pack_plan_new();
	for (size_t g = 0; g < pb->n_groups; g++) {
		const struct kerf_pack_group *gr = pb->groups[g];
		int64_t best_t = -1, best_o = -1;
		for (size_t i = 0; i < gr->n_types; i++) {
			const struct kerf_pack_type *t = pb->types[gr->types[i]];
			bool fits = true;
			for (uint32_t d = 0; d < pb->n_dims; d++)
				fits = fits && gr->request[d] <= t->allocatable[d];
			for (size_t o = 0; fits && o < t->n_offerings; o++) {
				const struct kerf_pack_offering *of = t->offerings[o];
				if ((gr->zone >= 0 && (uint32_t)gr->zone != of->zone) ||
				    !(gr->capacity_types & (1u << of->capacity_type)))
					continue;
				if (best_o < 0 ||
				    of->price < pb->types[best_t]->offerings[best_o]->price) {
					best_t = gr->types[i];
					best_o = (int64_t)o;
				}
			}
		}
		if (best_t < 0) {
			struct kerf_pack_unplaced *u = kerf_pack_plan_add_unplaced(plan);
			u->group = (uint32_t)g;
			u->count = gr->count;
			u->reason = strdup("no type");
			continue;
		}
		const struct kerf_pack_offering *of = pb->types[best_t]->offerings[best_o];
		for (uint32_t k = 0; k < gr->count; k++) {
			struct kerf_pack_node *n = kerf_pack_plan_add_node(plan);
			struct kerf_pack_assignment *a = kerf_pack_node_add_assignment(n);
			n->nodepool = gr->nodepool;
			n->zone = of->zone;
			n->capacity_type = of->capacity_type;
			n->type = (uint32_t)best_t;
			n->price = of->price;
			n->n_options = 1;
			n->options = calloc(1, sizeof(uint32_t));
			n->options[0] = (uint32_t)best_t;
			a->group = (uint32_t)g;
			a->count = 1;
			plan->total_price += n->price;
		}
	}
	*out = plan;
	return 0;
}

static const struct kerf_packer_ops solo_ops = {.solve = solo_solve};
static const struct prov_packer solo = {&solo_ops, NULL, "solo"};

static void amd_only(struct kerf_pod *p)
{
	kerf_labels_set(&p->node_selector, "kubernetes.io/arch", "amd64");
}

/* The primary's plan is acted on; the shadow's is only measured. */
START_TEST(shadow_measured_not_acted_on)
{
	struct batch b, plain;
	struct podset ps = {0};

	batch_load(&plain, DATA "weighted.yaml", true);
	add_pods(&ps, 6, "web", 500, 1024, amd_only);
	batch_run(&plain, &ps);
	/* Six half-cpu pods share nodes under first-fit. */
	ck_assert_uint_lt(plain.res->n_claims, 6);

	batch_load(&b, DATA "weighted.yaml", true);
	b.in.packer_name = "binpack-ffd";
	b.pools[0].shadow = &solo; /* "amd" */
	solo_calls = 0;
	batch_run(&b, &ps);
	ck_assert_int_eq(solo_calls, 1);
	ck_assert_uint_eq(b.res->n_claims, plain.res->n_claims);
	ck_assert_int_eq(b.res->total_price, plain.res->total_price);
	for (size_t i = 0; i < b.res->n_claims; i++)
		ck_assert_str_eq(b.res->claims[i].type->name, plain.res->claims[i].type->name);

	ck_assert_uint_eq(b.res->n_pool_stats, 1);
	const struct prov_pool_stats *st = &b.res->pool_stats[0];
	ck_assert_uint_eq(st->pool, 0);
	ck_assert_str_eq(st->primary.packer, "binpack-ffd");
	ck_assert_uint_eq(st->primary.pods, 6);
	ck_assert_uint_eq(st->primary.placed, 6);
	ck_assert_uint_eq(st->primary.placed_new, 6);
	ck_assert_uint_eq(st->primary.nodes, b.res->n_claims);
	ck_assert_int_eq(st->primary.price, b.res->total_price);
	ck_assert_int_eq(st->primary.requested.cpu_millis, 3000);
	ck_assert_int_eq(st->primary.requested.memory_bytes, 6 * 1024 * Mi);
	ck_assert(st->primary.allocatable.cpu_millis >= 3000);
	ck_assert(st->has_shadow);
	ck_assert_str_eq(st->shadow.packer, "solo");
	ck_assert_uint_eq(st->shadow.nodes, 6);
	ck_assert_uint_eq(st->shadow.placed_new, 6);
	ck_assert_int_gt(st->shadow.price, st->primary.price);
	podset_free(&ps);
	batch_free(&b);
	batch_free(&plain);
}
END_TEST

/* Each pool packed by its own packer, in one batch. */
START_TEST(packer_per_pool)
{
	struct batch b;
	struct podset ps = {0};

	batch_load(&b, DATA "weighted.yaml", true);
	b.in.packer_name = "binpack-ffd";
	b.pools[1].packer = &solo; /* "arm": two small pods, one node each */
	add_pods(&ps, 2, "web", 500, 1024, NULL);
	add_pods(&ps, 4, "api", 500, 1024, amd_only);
	solo_calls = 0;
	batch_run(&b, &ps);
	ck_assert_int_eq(solo_calls, 1);
	ck_assert_uint_eq(b.res->n_unschedulable, 0);
	size_t arm = 0, amd = 0;
	for (size_t i = 0; i < b.res->n_claims; i++) {
		if (strcmp(b.res->claims[i].claim->nodepool, "arm") == 0) {
			ck_assert_uint_eq(b.res->claims[i].n_pods, 1);
			arm++;
		} else {
			amd++;
		}
	}
	ck_assert_uint_eq(arm, 2);
	ck_assert_uint_eq(amd, 1); /* first-fit puts the four api pods on one node */
	ck_assert_uint_eq(b.res->n_pool_stats, 2);
	/* Pools in the order they are tried: arm (weight 50), then amd. */
	ck_assert_str_eq(b.res->pool_stats[0].primary.packer, "solo");
	ck_assert_uint_eq(b.res->pool_stats[0].pool, 1);
	ck_assert_str_eq(b.res->pool_stats[1].primary.packer, "binpack-ffd");
	ck_assert_uint_eq(b.res->pool_stats[1].primary.placed, 4);
	ck_assert(!b.res->pool_stats[1].has_shadow);
	podset_free(&ps);
	batch_free(&b);
}
END_TEST

/* The split decision: stable for a batch, independent of pod order, close to the weights. */
START_TEST(split_pick_is_stable)
{
	const char *keys[] = {"default/web-1", "default/web-2", "batch/job-7"};
	const char *shuffled[] = {"batch/job-7", "default/web-1", "default/web-2"};
	const unsigned w[] = {70, 30};
	uint64_t h = prov_batch_hash(keys, 3);

	ck_assert_uint_eq(h, prov_batch_hash(shuffled, 3));
	ck_assert_uint_ne(h, prov_batch_hash(keys, 2));
	size_t first = prov_split_pick("general", h, w, 2);
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(prov_split_pick("general", h, w, 2), first);
	ck_assert_uint_eq(prov_split_pick("general", h, w, 1), 0);

	/* Over many batches the shares follow the weights. */
	size_t count[2] = {0, 0};
	for (int i = 0; i < 4000; i++) {
		char k[32];
		const char *one[] = {k};
		snprintf(k, sizeof(k), "default/pod-%d", i);
		count[prov_split_pick("general", prov_batch_hash(one, 1), w, 2)]++;
	}
	ck_assert_msg(count[0] > 2600 && count[0] < 3000, "70%% share was %zu of 4000", count[0]);
}
END_TEST

static Suite *provision_suite(void)
{
	Suite *s = suite_create("provision");
	TCase *tc = tcase_create("batch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ray_worker_pool_and_cpu_limit);
	tcase_add_test(tc, ray_worker_small_pods_get_only_t3_sizes);
	tcase_add_test(tc, untolerated_taint_not_provisioned);
	tcase_add_test(tc, zone_spread_max_skew_one);
	tcase_add_test(tc, hostname_anti_affinity_one_per_node);
	tcase_add_test(tc, gpu_only_for_gpu_pods);
	tcase_add_test(tc, equal_requests_different_requirements);
	tcase_add_test(tc, weights_choose_pool);
	tcase_add_test(tc, spot_preferred_then_on_demand);
	tcase_add_test(tc, second_batch_reuses_launching_claims);
	tcase_add_test(tc, follower_joins_launching_claim);
	tcase_add_test(tc, limit_spills_to_next_pool);
	tcase_add_test(tc, preferences_relaxed_heaviest_first);
	tcase_add_test(tc, host_port_wildcard_conflicts);
	tcase_add_test(tc, shadow_measured_not_acted_on);
	tcase_add_test(tc, packer_per_pool);
	tcase_add_test(tc, split_pick_is_stable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(provision_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
