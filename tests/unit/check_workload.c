/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_workload.c - Kubernetes workloads into pod templates: the requests
 * arithmetic, every constraint landing in its field, each controller kind,
 * lists and multi-document files, and the bad corpus with exact messages.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#define WDIR KERF_TEST_DATADIR "/workloads"

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parses WDIR/rel, naming it rel in messages. */
static int parse_file(const char *rel, struct kerf_workload_list **out, struct kerf_error *err)
{
	char path[512];
	size_t len;
	char *text;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", WDIR, rel);
	text = read_text(path, &len);
	rc = kerf_workloads_parse(rel, text, len, out, err);
	free(text);
	return rc;
}

static struct kerf_workload_list *parse_ok(const char *rel)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	ck_assert_msg(parse_file(rel, &l, &err) == 0, "%s: %s", rel, err.message);
	ck_assert_ptr_nonnull(l);
	return l;
}

static void assert_req(const struct kerf_requirement *r, const char *key, kerf_operator op,
		       const char *values)
{
	char buf[256] = "";
	size_t off = 0;

	ck_assert_str_eq(r->key, key);
	ck_assert_int_eq(r->op, op);
	for (size_t i = 0; i < r->n_values; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					r->values[i]);
	ck_assert_str_eq(buf, values);
}

/* ------------------------------------------------------------ requests */

#define GI (1024LL * 1024 * 1024)
#define MI (1024LL * 1024)

static const struct {
	const char *what;
	const char *spec; /* the Pod's spec, indented by two */
	int64_t cpu, mem, gpu;
} requests_cases[] = {
    {"containers add up",
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: 500m, memory: 1Gi}}}\n"
     "  - {name: b, resources: {requests: {cpu: 250m, memory: 512Mi}}}\n",
     750, GI + 512 * MI, 0},
    {"requests default to limits",
     "  containers:\n"
     "  - {name: a, resources: {limits: {cpu: '2', memory: 4Gi}}}\n"
     "  - {name: b, resources: {limits: {cpu: '1'}, requests: {cpu: 100m}}}\n",
     2100, 4 * GI, 0},
    {"an init container larger than the sum wins",
     "  initContainers:\n"
     "  - {name: i, resources: {requests: {cpu: '3', memory: 10Mi}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: '1', memory: 1Gi}}}\n",
     3000, GI, 0},
    {"init containers take the max, not the sum",
     "  initContainers:\n"
     "  - {name: i1, resources: {requests: {cpu: '2'}}}\n"
     "  - {name: i2, resources: {requests: {cpu: '3'}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: '1'}}}\n",
     3000, 0, 0},
    {"sidecars run beside the containers",
     "  initContainers:\n"
     "  - {name: s, restartPolicy: Always, resources: {requests: {cpu: 200m, memory: 64Mi}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: '1', memory: 1Gi}}}\n",
     1200, GI + 64 * MI, 0},
    {"init containers run beside the sidecars started before them",
     "  initContainers:\n"
     "  - {name: i1, resources: {requests: {cpu: '2'}}}\n"
     "  - {name: s, restartPolicy: Always, resources: {requests: {cpu: '1'}}}\n"
     "  - {name: i2, resources: {requests: {cpu: '2'}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: 500m}}}\n",
     3000, 0, 0},
    {"overhead comes on top",
     "  overhead: {cpu: 250m, memory: 120Mi}\n"
     "  initContainers:\n"
     "  - {name: i, resources: {requests: {cpu: '2'}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: '1', memory: 1Gi}}}\n",
     2250, GI + 120 * MI, 0},
    {"extended resources add up and take the init max",
     "  initContainers:\n"
     "  - {name: i, resources: {limits: {nvidia.com/gpu: 4}}}\n"
     "  containers:\n"
     "  - {name: a, resources: {limits: {nvidia.com/gpu: 1}}}\n"
     "  - {name: b, resources: {limits: {nvidia.com/gpu: 2}, requests: {nvidia.com/gpu: 2}}}\n",
     0, 0, 4},
    {"pod-level resources replace the container sum",
     "  resources: {requests: {cpu: '4'}, limits: {memory: 8Gi}}\n"
     "  overhead: {cpu: 100m}\n"
     "  containers:\n"
     "  - {name: a, resources: {requests: {cpu: '1', memory: 1Gi}}}\n",
     4100, 8 * GI, 0},
    {"no requests at all",
     "  containers:\n"
     "  - name: a\n",
     0, 0, 0},
};

START_TEST(requests_math)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char text[2048];
	const struct kerf_resources *r;

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n%s",
		 requests_cases[_i].spec);
	ck_assert_msg(kerf_workloads_parse("t.yaml", text, strlen(text), &l, &err) == 0,
		      "%s: %s", requests_cases[_i].what, err.message);
	ck_assert_uint_eq(l->n, 1);
	r = &l->items[0].pod->requests;
	ck_assert_msg(r->cpu_millis == requests_cases[_i].cpu, "%s: cpu %lld",
		      requests_cases[_i].what, (long long)r->cpu_millis);
	ck_assert_msg(r->memory_bytes == requests_cases[_i].mem, "%s: memory %lld",
		      requests_cases[_i].what, (long long)r->memory_bytes);
	ck_assert_int_eq(kerf_resources_get(r, KERF_RESOURCE_NVIDIA_GPU, NULL),
			 requests_cases[_i].gpu);
	ck_assert_int_eq(kerf_resources_get(r, KERF_RESOURCE_PODS, NULL), 1);
	/* Unset: the API server's default applies where it matters. */
	ck_assert_int_eq(l->items[0].pod->termination_grace_period_ms, -1);
	kerf_workload_list_free(l);
}
END_TEST

/* ---------------------------------------------------------- constraints */

static void check_web_pod(const struct kerf_pod *p)
{
	/* identity */
	ck_assert_str_eq(p->meta->api_version, "v1");
	ck_assert_str_eq(p->meta->kind, "Pod");
	ck_assert_str_eq(p->meta->name, "web");
	ck_assert_str_eq(p->meta->namespace_, "shop");
	ck_assert_str_eq(p->meta->owner_kind, "Deployment");
	ck_assert_str_eq(p->meta->owner_name, "web");
	ck_assert_uint_eq(p->meta->labels.n, 2);
	ck_assert_str_eq(kerf_labels_get(&p->meta->labels, "app"), "web");
	ck_assert_ptr_null(kerf_labels_get(&p->meta->labels, "team"));
	ck_assert(p->do_not_disrupt);
	ck_assert(!p->daemonset);
	ck_assert_int_eq(p->priority, 1000);
	ck_assert_str_eq(p->priority_class, "high");
	ck_assert_int_eq(p->termination_grace_period_ms, 45000);
	ck_assert_ptr_null(p->node_name);

	/* max(850m + sidecar.., init 2 + sidecar 100m) + 50m overhead */
	ck_assert_int_eq(p->requests.cpu_millis, 2150);
	ck_assert_int_eq(p->requests.memory_bytes, 3 * GI + 128 * MI + 64 * MI);
	ck_assert_int_eq(kerf_resources_get(&p->requests, "nvidia.com/gpu", NULL), 1);
	ck_assert_int_eq(p->requests.pods, 1);

	ck_assert_uint_eq(p->node_selector.n, 1);
	ck_assert_str_eq(kerf_labels_get(&p->node_selector, "kubernetes.io/arch"), "amd64");

	ck_assert_uint_eq(p->n_required_terms, 2);
	ck_assert_uint_eq(p->required_terms[0]->n, 2);
	assert_req(p->required_terms[0]->items[0], "topology.kubernetes.io/zone", KERF_OP_IN,
		   "us-east-1a,us-east-1b");
	assert_req(p->required_terms[0]->items[1], "karpenter.sh/capacity-type", KERF_OP_NOT_IN,
		   "spot");
	ck_assert_uint_eq(p->required_terms[1]->n, 2);
	assert_req(p->required_terms[1]->items[0], "karpenter.k8s.aws/instance-cpu", KERF_OP_GT,
		   "4");
	assert_req(p->required_terms[1]->items[1], "kubernetes.io/hostname", KERF_OP_IN, "node-1");
	ck_assert_uint_eq(p->n_preferred_terms, 1);
	ck_assert_int_eq(p->preferred_terms[0]->weight, 50);
	ck_assert_uint_eq(p->preferred_terms[0]->preference.n, 1);
	assert_req(p->preferred_terms[0]->preference.items[0], "karpenter.k8s.aws/instance-family",
		   KERF_OP_IN, "m5");

	ck_assert_uint_eq(p->n_affinity, 1);
	ck_assert_str_eq(p->affinity[0]->topology_key, "topology.kubernetes.io/zone");
	ck_assert_str_eq(kerf_labels_get(&p->affinity[0]->selector->match_labels, "app"), "cache");
	ck_assert_uint_eq(p->affinity[0]->n_namespaces, 2);
	ck_assert_str_eq(p->affinity[0]->namespaces[1], "cache");
	/* The required anti-affinity term has no labelSelector: no effect, dropped. */
	ck_assert_uint_eq(p->n_anti_affinity, 0);
	ck_assert_uint_eq(p->n_preferred_affinity, 0);
	ck_assert_uint_eq(p->n_preferred_anti_affinity, 1);
	ck_assert_int_eq(p->preferred_anti_affinity[0]->weight, 100);
	{
		const struct kerf_pod_affinity_term *t = p->preferred_anti_affinity[0]->term;
		ck_assert_str_eq(t->topology_key, "kubernetes.io/hostname");
		ck_assert_uint_eq(t->n_namespaces, 0);
		/* Exists, then matchLabelKeys app (pod-template-hash unset), mismatch tier. */
		ck_assert_uint_eq(t->selector->match_expressions.n, 3);
		assert_req(t->selector->match_expressions.items[0], "app", KERF_OP_EXISTS, "");
		assert_req(t->selector->match_expressions.items[1], "app", KERF_OP_IN, "web");
		assert_req(t->selector->match_expressions.items[2], "tier", KERF_OP_NOT_IN,
			   "front");
	}

	ck_assert_uint_eq(p->tolerations.n, 3);
	ck_assert_str_eq(p->tolerations.items[0]->key, "dedicated");
	ck_assert_int_eq(p->tolerations.items[0]->op, KERF_TOLERATION_EQUAL);
	ck_assert_str_eq(p->tolerations.items[0]->value, "gpu");
	ck_assert_int_eq(p->tolerations.items[0]->effect, KERF_EFFECT_NO_SCHEDULE);
	ck_assert(p->tolerations.items[0]->toleration_seconds == KERF_TOLERATION_FOREVER);
	ck_assert_ptr_null(p->tolerations.items[1]->key);
	ck_assert_int_eq(p->tolerations.items[1]->op, KERF_TOLERATION_EXISTS);
	ck_assert_int_eq(p->tolerations.items[1]->effect, KERF_EFFECT_ANY);
	ck_assert_ptr_null(p->tolerations.items[1]->value);
	ck_assert_str_eq(p->tolerations.items[2]->key, "node.kubernetes.io/unreachable");
	ck_assert_int_eq(p->tolerations.items[2]->effect, KERF_EFFECT_NO_EXECUTE);
	ck_assert_int_eq(p->tolerations.items[2]->toleration_seconds, 300);

	ck_assert_uint_eq(p->n_spreads, 2);
	ck_assert_int_eq(p->spreads[0]->max_skew, 1);
	ck_assert_str_eq(p->spreads[0]->topology_key, "topology.kubernetes.io/zone");
	ck_assert_int_eq(p->spreads[0]->when_unsatisfiable, KERF_SPREAD_DO_NOT_SCHEDULE);
	ck_assert_int_eq(p->spreads[0]->min_domains, 3);
	ck_assert_str_eq(kerf_labels_get(&p->spreads[0]->selector->match_labels, "app"), "web");
	ck_assert_uint_eq(p->spreads[0]->selector->match_expressions.n, 1);
	assert_req(p->spreads[0]->selector->match_expressions.items[0], "tier", KERF_OP_IN,
		   "front");
	ck_assert_int_eq(p->spreads[1]->max_skew, 2);
	ck_assert_int_eq(p->spreads[1]->when_unsatisfiable, KERF_SPREAD_SCHEDULE_ANYWAY);
	ck_assert_int_eq(p->spreads[1]->min_domains, 0);
	ck_assert_uint_eq(p->spreads[1]->selector->match_labels.n, 0);

	ck_assert_uint_eq(p->n_host_ports, 2);
	ck_assert_uint_eq(p->host_ports[0]->port, 80);
	ck_assert_str_eq(p->host_ports[0]->protocol, "TCP");
	ck_assert_ptr_null(p->host_ports[0]->host_ip);
	ck_assert_uint_eq(p->host_ports[1]->port, 9000);
	ck_assert_str_eq(p->host_ports[1]->protocol, "UDP");
	ck_assert_str_eq(p->host_ports[1]->host_ip, "10.0.0.1");
}

START_TEST(every_constraint)
{
	struct kerf_workload_list *l = parse_ok("good/deployment.yaml");
	const struct kerf_workload *w;

	ck_assert_uint_eq(l->n, 1);
	w = &l->items[0];
	ck_assert_str_eq(w->kind, "Deployment");
	ck_assert_str_eq(w->name, "web");
	ck_assert_str_eq(w->namespace_, "shop");
	ck_assert_int_eq(w->replicas, 3);
	ck_assert(!w->daemonset);
	ck_assert_uint_eq(w->line, 2);
	ck_assert_uint_eq(w->column, 1);
	check_web_pod(w->pod);
	kerf_workload_list_free(l);
}
END_TEST

START_TEST(pod_copy)
{
	struct kerf_workload_list *l = parse_ok("good/deployment.yaml");
	struct kerf_pod *copy = kerf_pod_copy(l->items[0].pod);

	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_ne(copy->meta->name, l->items[0].pod->meta->name);
	ck_assert_ptr_ne(copy->affinity, l->items[0].pod->affinity);
	/* The copy outlives the original. */
	kerf_workload_list_free(l);
	check_web_pod(copy);
	kerf_pod_free(copy);
	ck_assert_ptr_null(kerf_pod_copy(NULL));
}
END_TEST

/* ------------------------------------------------------- kinds and lists */

static const struct {
	const char *kind, *ns, *name;
	int32_t replicas;
	bool daemonset;   /* the workload's */
	bool pod_ds;      /* the pod's */
	int64_t cpu, mem;
	const char *owner_kind;
} kinds_expected[] = {
    {"Pod", "default", "solo", 1, false, true, 0, 0, "DaemonSet"},
    {"ReplicaSet", "jobs", "rs", 1, false, false, 1000, 1000000000, "ReplicaSet"},
    {"StatefulSet", "default", "db", 5, false, false, 4000, 16 * GI, "StatefulSet"},
    {"DaemonSet", "kube-system", "agents", 0, true, true, 100, 200 * MI, "DaemonSet"},
    {"Job", "default", "batch", 2, false, false, 2000, 0, "Job"},
    {"Job", "default", "train-", 1, false, false, 0, 2 * GI, "Job"},
    {"Job", "default", "paused", 0, false, false, 0, 0, "Job"},
    {"Pod", "default", "worker-", 1, false, false, 0, 0, NULL},
};

START_TEST(each_kind)
{
	struct kerf_workload_list *l = parse_ok("good/kinds.yaml");
	const struct kerf_pod *p;

	ck_assert_uint_eq(l->n, sizeof(kinds_expected) / sizeof(kinds_expected[0]));
	for (size_t i = 0; i < l->n; i++) {
		const struct kerf_workload *w = &l->items[i];
		ck_assert_str_eq(w->kind, kinds_expected[i].kind);
		ck_assert_str_eq(w->namespace_, kinds_expected[i].ns);
		ck_assert_str_eq(w->name, kinds_expected[i].name);
		ck_assert_str_eq(w->pod->meta->name, kinds_expected[i].name);
		ck_assert_str_eq(w->pod->meta->namespace_, kinds_expected[i].ns);
		ck_assert_int_eq(w->replicas, kinds_expected[i].replicas);
		ck_assert_int_eq(w->daemonset, kinds_expected[i].daemonset);
		ck_assert_int_eq(w->pod->daemonset, kinds_expected[i].pod_ds);
		ck_assert_int_eq(w->pod->requests.cpu_millis, kinds_expected[i].cpu);
		ck_assert_int_eq(w->pod->requests.memory_bytes, kinds_expected[i].mem);
		if (kinds_expected[i].owner_kind)
			ck_assert_str_eq(w->pod->meta->owner_kind, kinds_expected[i].owner_kind);
		else
			ck_assert_ptr_null(w->pod->meta->owner_kind);
	}
	/* The pre-bound, running pod. */
	p = l->items[0].pod;
	ck_assert_str_eq(p->node_name, "node-1");
	ck_assert_int_eq(p->phase, KERF_POD_RUNNING);
	ck_assert_str_eq(p->meta->owner_name, "agents");
	/* StatefulSet: ephemeral storage is a request like any other. */
	ck_assert_int_eq(l->items[2].pod->requests.ephemeral_bytes, 10 * GI);
	/* Extended resources and hugepages default to their limits. */
	p = l->items[5].pod;
	ck_assert_int_eq(kerf_resources_get(&p->requests, "nvidia.com/gpu", NULL), 8);
	ck_assert_int_eq(kerf_resources_get(&p->requests, "hugepages-2Mi", NULL), GI);
	/* hostNetwork: the container port is the host port. */
	p = l->items[7].pod;
	ck_assert_uint_eq(p->n_host_ports, 1);
	ck_assert_uint_eq(p->host_ports[0]->port, 8080);
	kerf_workload_list_free(l);
}
END_TEST

START_TEST(lists)
{
	struct kerf_workload_list *l = parse_ok("good/list.yaml");
	const struct kerf_pod *p;

	ck_assert_uint_eq(l->n, 3);
	p = l->items[0].pod;
	ck_assert_str_eq(l->items[0].kind, "Pod");
	ck_assert_str_eq(p->meta->name, "pending-0");
	ck_assert_str_eq(p->meta->namespace_, "ml");
	ck_assert_str_eq(p->meta->uid, "0d6e2f1a-1111-4111-8111-111111111111");
	ck_assert_str_eq(p->meta->owner_kind, "ReplicaSet");
	ck_assert_str_eq(p->meta->owner_name, "trainer-5d9c");
	ck_assert_int_eq(p->phase, KERF_POD_PENDING);
	ck_assert(p->unschedulable);
	ck_assert_int_eq(p->requests.cpu_millis, 1500);
	ck_assert_int_eq(p->requests.memory_bytes, 6 * GI);
	ck_assert_uint_eq(l->items[0].line, 7);

	ck_assert_str_eq(l->items[1].kind, "Deployment");
	ck_assert_str_eq(l->items[1].name, "api");
	ck_assert_int_eq(l->items[1].replicas, 0);

	/* A typed list's items may leave out apiVersion and kind. */
	ck_assert_str_eq(l->items[2].kind, "Pod");
	ck_assert_str_eq(l->items[2].name, "typed-0");
	ck_assert_str_eq(l->items[2].namespace_, "default");
	ck_assert_int_eq(l->items[2].pod->requests.memory_bytes, 100 * MI);
	kerf_workload_list_free(l);
}
END_TEST

START_TEST(nothing_to_read)
{
	static const char *const texts[] = {
	    "",
	    "---\n",
	    "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: x}\n",
	    "kind: Pod\nmetadata: {name: x}\n",
	    "- a list\n",
	    "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: x}\n",
	};
	struct kerf_workload_list *l;
	struct kerf_error err = KERF_ERROR_INIT;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		l = NULL;
		ck_assert_int_eq(kerf_workloads_parse("t", texts[i], strlen(texts[i]), &l, &err), 0);
		ck_assert_ptr_nonnull(l);
		ck_assert_uint_eq(l->n, 0);
		kerf_workload_list_free(l);
	}
	ck_assert_int_eq(kerf_workloads_parse("t", NULL, 0, &l, &err), KERF_E_INVALID);
	kerf_workload_list_free(NULL);
}
END_TEST

START_TEST(selector_matching)
{
	struct kerf_workload_list *l = parse_ok("good/deployment.yaml");
	const struct kerf_pod_affinity_term *t = l->items[0].pod->preferred_anti_affinity[0]->term;
	struct kerf_labels labels = {0, NULL};

	/* app Exists, app In [web], tier NotIn [front] */
	ck_assert(!kerf_label_selector_matches(t->selector, &labels));
	ck_assert_int_eq(kerf_labels_set(&labels, "app", "web"), 0);
	ck_assert(kerf_label_selector_matches(t->selector, &labels));
	ck_assert_int_eq(kerf_labels_set(&labels, "tier", "front"), 0);
	ck_assert(!kerf_label_selector_matches(t->selector, &labels));
	ck_assert_int_eq(kerf_labels_set(&labels, "tier", "back"), 0);
	ck_assert(kerf_label_selector_matches(t->selector, &labels));
	ck_assert_int_eq(kerf_labels_set(&labels, "app", "api"), 0);
	ck_assert(!kerf_label_selector_matches(t->selector, &labels));
	/* affinity[0]: matchLabels app=cache */
	ck_assert(!kerf_label_selector_matches(l->items[0].pod->affinity[0]->selector, &labels));
	ck_assert_int_eq(kerf_labels_set(&labels, "app", "cache"), 0);
	ck_assert(kerf_label_selector_matches(l->items[0].pod->affinity[0]->selector, &labels));
	/* spreads[1] has no selector: empty selects all; NULL selects nothing. */
	ck_assert(kerf_label_selector_matches(l->items[0].pod->spreads[1]->selector, NULL));
	ck_assert(!kerf_label_selector_matches(NULL, &labels));
	kerf_labels_clear(&labels);
	kerf_workload_list_free(l);
}
END_TEST

/* ---------------------------------------------------------- bad corpus */

static const struct {
	const char *file;
	int rc;
	const char *message;
} bad_cases[] = {
    {"api-version.yaml", KERF_E_CONFIG,
     "bad/api-version.yaml:1:13: Deployment/default/old: apiVersion: \"extensions/v1beta1\" "
     "is not supported: Deployment is apps/v1"},
    {"containers-map.yaml", KERF_E_CONFIG,
     "bad/containers-map.yaml:7:5: Pod/default/p: spec.containers: must be a list, not a "
     "mapping"},
    {"fractional-gpu.yaml", KERF_E_CONFIG,
     "bad/fractional-gpu.yaml:9:32: Pod/default/p: "
     "spec.containers[0].resources.limits[nvidia.com/gpu]: must be an integer"},
    {"match-label-keys.yaml", KERF_E_CONFIG,
     "bad/match-label-keys.yaml:12:25: Pod/default/p: "
     "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
     "matchLabelKeys: must not be specified when labelSelector is not set"},
    {"min-domains.yaml", KERF_E_CONFIG,
     "bad/min-domains.yaml:12:17: Pod/default/p: spec.topologySpreadConstraints[0].minDomains: "
     "can only use minDomains if whenUnsatisfiable=DoNotSchedule"},
    {"missing-name.yaml", KERF_E_CONFIG,
     "bad/missing-name.yaml:4:3: Deployment/(unnamed): metadata.name: required field is "
     "missing"},
    {"no-containers.yaml", KERF_E_CONFIG,
     "bad/no-containers.yaml:6:15: Pod/default/p: spec.containers: must have at least one "
     "container"},
    {"operator.yaml", KERF_E_CONFIG,
     "bad/operator.yaml:14:23: Pod/default/p: "
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].operator: unsupported value \"Inn\": supported "
     "values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\""},
    {"pod-level-gpu.yaml", KERF_E_CONFIG,
     "bad/pod-level-gpu.yaml:7:16: Pod/default/p: spec.resources.requests[nvidia.com/gpu]: "
     "unsupported resource name \"nvidia.com/gpu\": pod-level resources may only be cpu, "
     "memory and hugepages-<size>"},
    {"quantity.yaml", KERF_E_CONFIG,
     "bad/quantity.yaml:10:14: Pod/default/p: spec.containers[0].resources.requests[cpu]: "
     "resource \"cpu\": invalid quantity \"12Zi\": unknown suffix \"Zi\""},
    {"request-over-limit.yaml", KERF_E_CONFIG,
     "bad/request-over-limit.yaml:10:23: Pod/default/p: "
     "spec.containers[0].resources.requests[cpu]: must be less than or equal to cpu limit of "
     "500m"},
    {"resource-name.yaml", KERF_E_CONFIG,
     "bad/resource-name.yaml:9:18: Pod/default/p: spec.containers[0].resources.requests[cpus]: "
     "unsupported resource name \"cpus\": must be cpu, memory, ephemeral-storage, "
     "hugepages-<size> or a domain-qualified extended resource (did you mean \"cpu\"?)"},
    {"selector-mismatch.yaml", KERF_E_CONFIG,
     "bad/selector-mismatch.yaml:11:7: ReplicaSet/prod/rs: spec.template.metadata.labels: "
     "`selector` does not match template `labels`"},
    {"several.yaml", KERF_E_CONFIG,
     "bad/several.yaml:10:26: Pod/default/a: spec.containers[0].resources.requests[memory]: "
     "resource \"memory\": invalid quantity \"lots\": expected a number (and 2 more errors)"},
    {"syntax.yaml", KERF_E_PARSE,
     "bad/syntax.yaml:4:1: did not find expected ',' or '}' (while parsing a flow mapping at "
     "line 3, column 11)"},
    {"toleration-operator.yaml", KERF_E_CONFIG,
     "bad/toleration-operator.yaml:10:15: Pod/default/p: spec.tolerations[0].operator: "
     "unsupported value \"Equals\": supported values: \"Equal\", \"Exists\""},
    {"toleration-seconds.yaml", KERF_E_CONFIG,
     "bad/toleration-seconds.yaml:11:13: Pod/default/p: spec.tolerations[0].effect: effect "
     "must be 'NoExecute' when `tolerationSeconds` is set"},
    {"unknown-field.yaml", KERF_E_CONFIG,
     "bad/unknown-field.yaml:8:5: Pod/default/p: spec.containers[0].resoures: unknown field "
     "\"resoures\" (did you mean \"resources\"?)"},
    {"weight.yaml", KERF_E_CONFIG,
     "bad/weight.yaml:11:17: Pod/default/p: "
     "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
     "weight (101) must be between 1 and 100"},
    {"wrong-type.yaml", KERF_E_CONFIG,
     "bad/wrong-type.yaml:6:13: Deployment/default/web: spec.replicas: must be an integer, not "
     "a string"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(bad_corpus)
{
	struct kerf_workload_list *l = (void *)1;
	struct kerf_error err = KERF_ERROR_INIT;
	char rel[256];

	snprintf(rel, sizeof(rel), "bad/%s", bad_cases[_i].file);
	ck_assert_int_eq(parse_file(rel, &l, &err), bad_cases[_i].rc);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(err.code, bad_cases[_i].rc);
	ck_assert_str_eq(err.message, bad_cases[_i].message);
	ck_assert_uint_ne(err.line, 0);
}
END_TEST

/* Every file of the bad corpus has its expectation above. */
START_TEST(bad_corpus_complete)
{
	DIR *d = opendir(WDIR "/bad");
	struct dirent *e;
	size_t files = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		bool found = false;
		if (e->d_name[0] == '.')
			continue;
		files++;
		for (size_t i = 0; i < N_BAD && !found; i++)
			found = strcmp(bad_cases[i].file, e->d_name) == 0;
		ck_assert_msg(found, "bad/%s has no expected message", e->d_name);
	}
	closedir(d);
	ck_assert_uint_eq(files, N_BAD);
}
END_TEST

START_TEST(report_lists_every_error)
{
	static const char *const expected =
	    "bad/several.yaml:10:26: Pod/default/a: spec.containers[0].resources.requests[memory]: "
	    "resource \"memory\": invalid quantity \"lots\": expected a number\n"
	    "bad/several.yaml:11:3: Pod/default/a: spec.nodeSelectr: unknown field \"nodeSelectr\" "
	    "(did you mean \"nodeSelector\"?)\n"
	    "bad/several.yaml:19:16: Job/batch/j: spec.parallelism: parallelism (-1) must be at "
	    "least 0\n";
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char path[512], *text, *report = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/bad/several.yaml", WDIR);
	text = read_text(path, &len);
	ck_assert_int_eq(kerf_workloads_parse_report("bad/several.yaml", text, len, &l, &report,
						     &err),
			 KERF_E_CONFIG);
	ck_assert_ptr_null(l);
	ck_assert_str_eq(report, expected);
	free(report);
	/* No report when all is well. */
	report = (char *)1;
	ck_assert_int_eq(kerf_workloads_parse_report("t", "", 0, &l, &report, &err), 0);
	ck_assert_ptr_null(report);
	kerf_workload_list_free(l);
	free(text);
}
END_TEST

/* Single-line snippets: the spec of a Pod and the message after "Pod/default/p: ". */
static const struct {
	const char *spec;
	const char *message;
} bad_snippets[] = {
    {"  containers: [{name: c, ports: [{containerPort: 80, hostPort: 80}, {containerPort: 81, "
     "hostPort: 80}]}]\n",
     "spec.containers[0].ports[1]: duplicate host port 80/TCP"},
    {"  containers: [{name: c, resources: {requests: {hugepages-2Mi: 2Mi}}}]\n",
     "spec.containers[0].resources.requests[hugepages-2Mi]: a limit must be set for "
     "hugepages-2Mi, which cannot be overcommitted"},
    {"  containers: [{name: c}]\n  affinity: {nodeAffinity: {requiredDuringScheduling"
     "IgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.uid, "
     "operator: In, values: [x]}]}]}}}\n",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchFields[0].key: unsupported value \"metadata.uid\": supported "
     "values: \"metadata.name\""},
    {"  containers: [{name: c}]\n  affinity: {podAffinity: {requiredDuringScheduling"
     "IgnoredDuringExecution: [{labelSelector: {matchExpressions: [{key: a, operator: Gt, "
     "values: ['1']}]}, topologyKey: zone}]}}\n",
     "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
     "labelSelector.matchExpressions[0].operator: unsupported value \"Gt\": supported values: "
     "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""},
    {"  containers: [{name: c}]\n  tolerations: [{key: a, operator: Exists, value: b}]\n",
     "spec.tolerations[0].value: value must be empty when `operator` is 'Exists'"},
    {"  containers: [{name: c}]\n  topologySpreadConstraints: [{maxSkew: 1, "
     "whenUnsatisfiable: DoNotSchedule}]\n",
     "spec.topologySpreadConstraints[0].topologyKey: required field is missing"},
    {"  containers: [{name: c, restartPolicy: Sometimes}]\n",
     "spec.containers[0].restartPolicy: unsupported value \"Sometimes\": supported values: "
     "\"Always\", \"OnFailure\", \"Never\""},
    {"  initContainers: [{name: i, restartPolicy: Never}]\n  containers: [{name: c}]\n",
     "spec.initContainers[0].restartPolicy: unsupported value \"Never\": supported values: "
     "\"Always\""},
    {"  containers: [{name: c}]\n  nodeSelector: {disk: [ssd]}\n",
     "spec.nodeSelector[disk]: must be a string, not a list"},
    {"  containers: [{name: c}]\n  affinity: {nodeAffinity: {requiredDuringScheduling"
     "IgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: "
     "Exists, values: [b]}]}]}}}\n",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].values: may not be specified when `operator` "
     "is 'Exists' or 'DoesNotExist'"},
    {"  containers: [{name: c, resources: {requests: {cpu: [1]}}}]\n",
     "spec.containers[0].resources.requests[cpu]: must be a quantity (a number or a string), "
     "not a list"},
    {"  containers: [{name: c}]\n  hostNetwork: 'true'\n",
     "spec.hostNetwork: must be a boolean, not a string"},
    {"  containers: [{name: c}]\n  affinity: {nodeAffinity: {requiredDuringScheduling"
     "IgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: "
     "Gt, values: [' 5']}]}]}}}\n",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].values: must be a single integer when "
     "`operator` is 'Lt' or 'Gt'"},
};

START_TEST(bad_snippet)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char text[2048], *colon;

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n%s",
		 bad_snippets[_i].spec);
	ck_assert_int_eq(kerf_workloads_parse("t.yaml", text, strlen(text), &l, &err),
			 KERF_E_CONFIG);
	colon = strstr(err.message, "Pod/default/p: ");
	ck_assert_msg(colon != NULL, "%s", err.message);
	ck_assert_str_eq(colon + strlen("Pod/default/p: "), bad_snippets[_i].message);
}
END_TEST

/* A Deployment of `replicas` pods, or a Job of `parallelism`, as one document. */
static char *counted(const char *kind, const char *field, const char *count)
{
	static const char fmt[] =
	    "apiVersion: %s\nkind: %s\nmetadata:\n  name: w\nspec:\n  %s: %s\n"
	    "%s  template:\n    metadata:\n      labels: {app: w}\n    spec:\n"
	    "      restartPolicy: Never\n      containers: [{name: c, image: x}]\n";
	bool job = strcmp(kind, "Job") == 0;
	char *text = malloc(1024);
	ck_assert_ptr_nonnull(text);
	snprintf(text, 1024, fmt, job ? "batch/v1" : "apps/v1", kind, field, count,
		 job ? "" : "  selector:\n    matchLabels: {app: w}\n");
	return text;
}

static void limited_err(const char *text, const struct kerf_workload_limits *lim,
			const char *want)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	ck_assert_int_eq(kerf_workloads_parse_limited("w.yaml", text, strlen(text), lim, &l,
						      NULL, &err),
			 KERF_E_CONFIG);
	ck_assert_ptr_null(l);
	ck_assert_str_eq(err.message, want);
}

/*
 * Every replica becomes a pod in memory: counts past the limits are
 * positioned errors, not an abort for want of memory, and 2^31 is too
 * large rather than "must be at least 0".
 */
START_TEST(pod_limits)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char *text = counted("Deployment", "replicas", "2147483648");

	limited_err(text, NULL,
		    "w.yaml:6:13: Deployment/default/w: spec.replicas: 2147483648 pods are more "
		    "than one workload may have here: 10000 (settings.max_pods_per_workload)");
	ck_assert_int_eq(kerf_workloads_parse("w.yaml", text, strlen(text), &l, &err),
			 KERF_E_CONFIG);
	free(text);
	text = counted("StatefulSet", "replicas", "10001");
	limited_err(text, NULL,
		    "w.yaml:6:13: StatefulSet/default/w: spec.replicas: 10001 pods are more than "
		    "one workload may have here: 10000 (settings.max_pods_per_workload)");
	struct kerf_workload_limits more = {.max_pods_per_workload = 20000};
	ck_assert_int_eq(kerf_workloads_parse_limited("w.yaml", text, strlen(text), &more, &l,
						      NULL, &err),
			 0);
	ck_assert_int_eq(l->items[0].replicas, 10001);
	kerf_workload_list_free(l);
	/* The simulation's total, counting the pods of earlier files. */
	struct kerf_workload_limits total = {
	    .max_pods_per_workload = 20000, .max_pods = 12000, .pods_before = 2000};
	limited_err(text, &total,
		    "w.yaml:1:1: StatefulSet/default/w: its 10001 pods bring the workloads to more "
		    "than 12000 pods (settings.max_pods)");
	free(text);
	text = counted("Job", "parallelism", "99999999999");
	limited_err(text, NULL,
		    "w.yaml:6:16: Job/default/w: spec.parallelism: 99999999999 pods are more than "
		    "one workload may have here: 10000 (settings.max_pods_per_workload)");
	free(text);

	/* Objects per file: one error at the first object not read. */
	struct kerf_workload_limits few = {.max_objects = 3};
	const char *docs = "{kind: A}\n---\n{kind: B}\n---\n{kind: C}\n---\n{kind: D}\n---\n"
			   "{kind: E}\n";
	limited_err(docs, &few,
		    "w.yaml:7:1: more than 3 objects in one file: the rest is not read (split the "
		    "file)");

	ck_assert_int_eq(kerf_pod_count_check(10000, 0, "trace.csv:3: count", &err), 0);
	ck_assert_int_eq(kerf_pod_count_check(10001, 0, "trace.csv:3: count", &err), KERF_E_RANGE);
	ck_assert_str_eq(err.message, "trace.csv:3: count: 10001 pods are more than one workload "
				      "may have here: 10000");
	ck_assert_int_eq(kerf_pod_count_check(-1, 5, "scale.replicas", &err), KERF_E_RANGE);
}
END_TEST

static Suite *workload_suite(void)
{
	Suite *s = suite_create("workload");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, requests_math, 0,
			    (int)(sizeof(requests_cases) / sizeof(requests_cases[0])));
	tcase_add_test(tc, every_constraint);
	tcase_add_test(tc, pod_copy);
	tcase_add_test(tc, each_kind);
	tcase_add_test(tc, lists);
	tcase_add_test(tc, nothing_to_read);
	tcase_add_test(tc, selector_matching);
	tcase_add_loop_test(tc, bad_corpus, 0, (int)N_BAD);
	tcase_add_test(tc, bad_corpus_complete);
	tcase_add_test(tc, report_lists_every_error);
	tcase_add_test(tc, pod_limits);
	tcase_add_loop_test(tc, bad_snippet, 0,
			    (int)(sizeof(bad_snippets) / sizeof(bad_snippets[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workload_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
