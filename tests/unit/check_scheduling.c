/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_scheduling.c - the shared scheduling predicates: selectors, node
 * affinity, taints, resources, host ports, pod requirements, and the
 * topology (spreads, pod affinity and anti-affinity).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/scheduling.h>
#include <kerf/taints.h>

#define GI (1024LL * 1024 * 1024)

/* ------------------------------------------------------------ builders */

/* Sets "k=v,k2=v2" (NULL: nothing) into l. */
static void set_labels(struct kerf_labels *l, const char *spec)
{
	char *copy, *save = NULL;

	if (!spec)
		return;
	copy = strdup(spec);
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		*eq = '\0';
		ck_assert_int_eq(kerf_labels_set(l, kv, eq + 1), 0);
	}
	free(copy);
}

/* Splits "a,b" (NULL: none) into a new string array. */
static char **split(const char *spec, size_t *n)
{
	char **v = NULL, *copy, *save = NULL;

	*n = 0;
	if (!spec)
		return NULL;
	copy = strdup(spec);
	for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(s);
	}
	free(copy);
	return v;
}

static void add_req(struct kerf_requirements *rs, const char *key, kerf_operator op,
		    const char *values)
{
	struct kerf_requirement *r = kerf_requirements_append(rs);

	r->key = strdup(key);
	r->op = op;
	r->values = split(values, &r->n_values);
}

/* Appends an empty required node-affinity term and returns it. */
static struct kerf_requirements *add_term(struct kerf_pod *p)
{
	return kerf_pod_add_required_term(p);
}

static struct kerf_requirements *add_preferred(struct kerf_pod *p, int32_t weight)
{
	struct kerf_preferred_term *t = kerf_pod_add_preferred_term(p);

	t->weight = weight;
	return &t->preference;
}

static struct kerf_pod *pod_new(const char *name, const char *ns, const char *labels)
{
	struct kerf_pod *p = kerf_pod_new();

	p->meta->name = strdup(name);
	p->meta->namespace_ = ns ? strdup(ns) : NULL;
	set_labels(&p->meta->labels, labels);
	kerf_resources_init(&p->requests);
	ck_assert_int_eq(kerf_resources_set(&p->requests, "cpu", 100, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&p->requests, "pods", 1, NULL), 0);
	p->phase = KERF_POD_PENDING;
	return p;
}

static void bind(struct kerf_pod *p, const char *node)
{
	free(p->node_name);
	p->node_name = strdup(node);
	p->phase = KERF_POD_RUNNING;
}

static void add_spread(struct kerf_pod *p, const char *key, int32_t max_skew,
		       kerf_spread_policy when, const char *selector, int32_t min_domains)
{
	struct kerf_topology_spread *s = kerf_pod_add_spread(p);

	s->topology_key = strdup(key);
	s->max_skew = max_skew;
	s->when_unsatisfiable = when;
	s->min_domains = min_domains;
	set_labels(&s->selector->match_labels, selector);
}

/* Fills t, a term just added to a pod. */
static void add_pod_term(struct kerf_pod_affinity_term *t, const char *key, const char *selector,
			 const char *namespaces)
{
	t->topology_key = strdup(key);
	set_labels(&t->selector->match_labels, selector);
	t->namespaces = split(namespaces, &t->n_namespaces);
}

static struct kerf_node *node_new(const char *name, const char *labels)
{
	struct kerf_node *n = kerf_node_new();
	char host[128];

	n->meta->name = strdup(name);
	snprintf(host, sizeof(host), "kubernetes.io/hostname=%s", name);
	set_labels(&n->meta->labels, host);
	set_labels(&n->meta->labels, labels);
	kerf_resources_init(&n->allocatable);
	ck_assert_int_eq(kerf_resources_set(&n->allocatable, "cpu", 4000, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&n->allocatable, "memory", 8 * GI, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&n->allocatable, "pods", 110, NULL), 0);
	n->ready = true;
	return n;
}

/* A cluster under test: nodes and pods, freed together. */
struct world {
	size_t n_nodes, n_pods;
	struct kerf_node *nodes[16];
	struct kerf_pod *pods[64];
};

static struct kerf_node *w_node(struct world *w, const char *name, const char *labels)
{
	return w->nodes[w->n_nodes++] = node_new(name, labels);
}

static struct kerf_pod *w_pod(struct world *w, const char *ns, const char *labels,
			      const char *node)
{
	char name[32];
	struct kerf_pod *p;

	snprintf(name, sizeof(name), "p%zu", w->n_pods);
	p = pod_new(name, ns, labels);
	if (node)
		bind(p, node);
	return w->pods[w->n_pods++] = p;
}

static struct kerf_topology *w_topology(struct world *w)
{
	return kerf_topology_new((const struct kerf_node *const *)w->nodes, w->n_nodes,
				 (const struct kerf_pod *const *)w->pods, w->n_pods);
}

static void w_free(struct world *w)
{
	for (size_t i = 0; i < w->n_nodes; i++)
		kerf_node_free(w->nodes[i]);
	for (size_t i = 0; i < w->n_pods; i++)
		kerf_pod_free(w->pods[i]);
}

/* Three zones a, b, c with one node each: na, nb, nc. */
static void three_zones(struct world *w)
{
	w_node(w, "na", "topology.kubernetes.io/zone=a");
	w_node(w, "nb", "topology.kubernetes.io/zone=b");
	w_node(w, "nc", "topology.kubernetes.io/zone=c");
}

#define ZONE "topology.kubernetes.io/zone"
#define HOST "kubernetes.io/hostname"

/* ------------------------------------------------------------ selectors */

/* One matchExpression against app=web,tier=front,size=10. */
static const struct {
	const char *key;
	kerf_operator op;
	const char *values;
	bool want;
} expressions[] = {
    {"tier", KERF_OP_IN, "back,front", true},
    {"tier", KERF_OP_IN, "back", false},
    {"tier", KERF_OP_NOT_IN, "back", true},
    {"tier", KERF_OP_NOT_IN, "front", false},
    /* NotIn holds where the label is absent. */
    {"missing", KERF_OP_NOT_IN, "x", true},
    {"app", KERF_OP_EXISTS, NULL, true},
    {"missing", KERF_OP_EXISTS, NULL, false},
    {"app", KERF_OP_DOES_NOT_EXIST, NULL, false},
    {"missing", KERF_OP_DOES_NOT_EXIST, NULL, true},
    /* Gt is no label-selector operator: it never holds there. */
    {"size", KERF_OP_GT, "9", false},
};

START_TEST(selector_expression)
{
	struct kerf_labels l = {0, NULL};
	struct kerf_label_selector s;

	memset(&s, 0, sizeof(s));
	set_labels(&l, "app=web,tier=front,size=10");
	add_req(&s.match_expressions, expressions[_i].key, expressions[_i].op,
		expressions[_i].values);
	ck_assert_msg(kerf_label_selector_matches(&s, &l) == expressions[_i].want, "case %d", _i);
	kerf_requirements_clear(&s.match_expressions);
	kerf_labels_clear(&l);
}
END_TEST

START_TEST(selector_labels)
{
	struct kerf_labels l = {0, NULL};
	struct kerf_label_selector s;

	set_labels(&l, "app=web,tier=front");
	memset(&s, 0, sizeof(s));
	/* Empty matches everything, even no labels; NULL matches nothing. */
	ck_assert(kerf_label_selector_matches(&s, &l));
	ck_assert(kerf_label_selector_matches(&s, NULL));
	ck_assert(!kerf_label_selector_matches(NULL, &l));
	set_labels(&s.match_labels, "app=web");
	ck_assert(kerf_label_selector_matches(&s, &l));
	ck_assert(!kerf_label_selector_matches(&s, NULL));
	/* matchLabels and matchExpressions are ANDed. */
	add_req(&s.match_expressions, "tier", KERF_OP_IN, "back");
	ck_assert(!kerf_label_selector_matches(&s, &l));
	kerf_labels_clear(&s.match_labels);
	set_labels(&s.match_labels, "app=db");
	kerf_requirements_clear(&s.match_expressions);
	ck_assert(!kerf_label_selector_matches(&s, &l));
	kerf_labels_clear(&s.match_labels);
	kerf_labels_clear(&l);
}
END_TEST

/* ------------------------------------------------------- node affinity */

START_TEST(node_affinity)
{
	struct kerf_pod *p = pod_new("p", NULL, NULL);
	struct kerf_labels l = {0, NULL};
	struct kerf_requirements *t;
	char why[256];

	set_labels(&l, "kubernetes.io/arch=amd64,karpenter.k8s.aws/instance-cpu=8,"
		       "topology.kubernetes.io/zone=b");
	ck_assert(kerf_pod_matches_node_labels(p, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "");

	set_labels(&p->node_selector, "kubernetes.io/arch=arm64");
	ck_assert(!kerf_pod_matches_node_labels(p, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match Pod's node affinity/selector "
			      "(nodeSelector kubernetes.io/arch=arm64, node has amd64)");
	kerf_labels_clear(&p->node_selector);
	set_labels(&p->node_selector, "kubernetes.io/arch=amd64");

	/* One term: its expressions are ANDed. */
	t = add_term(p);
	add_req(t, ZONE, KERF_OP_IN, "a,b");
	add_req(t, "karpenter.k8s.aws/instance-cpu", KERF_OP_GT, "8");
	ck_assert(!kerf_pod_matches_node_labels(p, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match Pod's node affinity/selector "
			      "(karpenter.k8s.aws/instance-cpu Gt [8] does not hold)");
	/* A second term is ORed. */
	t = add_term(p);
	add_req(t, "karpenter.k8s.aws/instance-cpu", KERF_OP_LT, "9");
	add_req(t, ZONE, KERF_OP_NOT_IN, "c");
	ck_assert(kerf_pod_matches_node_labels(p, &l, NULL, 0));
	kerf_labels_clear(&l);
	set_labels(&l, "kubernetes.io/arch=amd64,karpenter.k8s.aws/instance-cpu=16,"
		       "topology.kubernetes.io/zone=a");
	ck_assert(kerf_pod_matches_node_labels(p, &l, NULL, 0)); /* term 0 */
	kerf_labels_clear(&l);
	set_labels(&l, "kubernetes.io/arch=amd64,karpenter.k8s.aws/instance-cpu=big,"
		       "topology.kubernetes.io/zone=c");
	ck_assert(!kerf_pod_matches_node_labels(p, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match Pod's node affinity/selector (none of 2 "
			      "terms holds; first: topology.kubernetes.io/zone In [a, b] does "
			      "not hold)");
	kerf_labels_clear(&l);
	kerf_pod_free(p);

	/* An empty term matches no node. */
	p = pod_new("p", NULL, NULL);
	add_term(p);
	ck_assert(!kerf_pod_matches_node_labels(p, NULL, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match Pod's node affinity/selector (empty term)");
	kerf_pod_free(p);
}
END_TEST

/* ------------------------------------------------------------- taints */

START_TEST(tolerations)
{
	struct kerf_pod *p = pod_new("p", NULL, NULL);
	struct kerf_taint t[] = {
	    {"dedicated", "gpu", KERF_EFFECT_NO_SCHEDULE},
	    {"soft", NULL, KERF_EFFECT_PREFER_NO_SCHEDULE},
	    {"gone", NULL, KERF_EFFECT_NO_EXECUTE},
	};
	struct kerf_taint *items[] = {&t[0], &t[1], &t[2]};
	struct kerf_taints taints = {1, items};
	struct kerf_toleration tol = {NULL, KERF_TOLERATION_EXISTS, NULL, KERF_EFFECT_ANY,
				      KERF_TOLERATION_FOREVER};
	struct kerf_toleration *tols = &tol;
	char why[256];

	ck_assert(kerf_pod_tolerates(p, NULL, why, sizeof(why)));
	ck_assert(!kerf_pod_tolerates(p, &taints, why, sizeof(why)));
	ck_assert_str_eq(why, "untolerated taint {dedicated=gpu:NoSchedule}");
	/* PreferNoSchedule alone never blocks. */
	taints.items = &items[1];
	ck_assert(kerf_pod_tolerates(p, &taints, why, sizeof(why)));
	ck_assert_str_eq(why, "");
	taints.n = 2;
	ck_assert(!kerf_pod_tolerates(p, &taints, why, sizeof(why)));
	ck_assert_str_eq(why, "untolerated taint {gone:NoExecute}");
	/* Exists with no key tolerates everything. */
	taints.items = items;
	taints.n = 3;
	p->tolerations.n = 1;
	p->tolerations.items = &tols;
	ck_assert(kerf_pod_tolerates(p, &taints, why, sizeof(why)));
	tol.effect = KERF_EFFECT_NO_SCHEDULE;
	ck_assert(!kerf_pod_tolerates(p, &taints, why, sizeof(why)));
	ck_assert_str_eq(why, "untolerated taint {gone:NoExecute}");
	p->tolerations.n = 0;
	p->tolerations.items = NULL;
	kerf_pod_free(p);
}
END_TEST

/* ------------------------------------------------------------ resources */

START_TEST(resources)
{
	struct kerf_pod *p = pod_new("p", NULL, NULL);
	struct kerf_resources free_res;
	char why[128];

	kerf_resources_init(&free_res);
	ck_assert_int_eq(kerf_resources_set(&free_res, "cpu", 100, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&free_res, "pods", 1, NULL), 0);
	ck_assert(kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_int_eq(kerf_resources_set(&p->requests, "memory", GI, NULL), 0);
	ck_assert(!kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_str_eq(why, "insufficient memory");
	ck_assert_int_eq(kerf_resources_set(&free_res, "memory", GI, NULL), 0);
	ck_assert(kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_int_eq(kerf_resources_set(&free_res, "cpu", 99, NULL), 0);
	ck_assert(!kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_str_eq(why, "insufficient cpu");
	ck_assert_int_eq(kerf_resources_set(&free_res, "cpu", 100, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&free_res, "pods", 0, NULL), 0);
	ck_assert(!kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_str_eq(why, "too many pods");
	ck_assert_int_eq(kerf_resources_set(&free_res, "pods", 1, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(&p->requests, "nvidia.com/gpu", 1, NULL), 0);
	ck_assert(!kerf_pod_fits_resources(p, &free_res, why, sizeof(why)));
	ck_assert_str_eq(why, "insufficient nvidia.com/gpu");
	kerf_pod_free(p);
}
END_TEST

/* ------------------------------------------------------------ host ports */

START_TEST(host_ports)
{
	struct kerf_pod *p = pod_new("p", NULL, NULL);
	struct kerf_host_port ports[] = {
	    {8080, "TCP", NULL},
	    {9090, "UDP", NULL},
	    {7070, "TCP", (char *)"10.0.0.1"},
	};
	struct kerf_host_port *used[] = {&ports[0], &ports[1], &ports[2]};
	char why[128];

	kerf_pod_add_host_port(p);
	p->host_ports[0]->port = 8080;
	memcpy(p->host_ports[0]->protocol, "TCP", 4);
	ck_assert(!kerf_pod_host_ports_free(p, used, 3, why, sizeof(why)));
	ck_assert_str_eq(why, "host port 8080/TCP in use");
	/* Same port, another protocol: fine. */
	memcpy(p->host_ports[0]->protocol, "UDP", 4);
	ck_assert(kerf_pod_host_ports_free(p, used, 3, why, sizeof(why)));
	ck_assert_str_eq(why, "");
	p->host_ports[0]->port = 9090;
	ck_assert(!kerf_pod_host_ports_free(p, used, 3, why, sizeof(why)));
	ck_assert_str_eq(why, "host port 9090/UDP in use");
	/* A specific IP clashes with the wildcard, not with another IP. */
	p->host_ports[0]->port = 8080;
	memcpy(p->host_ports[0]->protocol, "TCP", 4);
	p->host_ports[0]->host_ip = strdup("10.0.0.2");
	ck_assert(!kerf_pod_host_ports_free(p, used, 3, why, sizeof(why)));
	ck_assert_str_eq(why, "host port 8080/TCP in use on 10.0.0.2");
	p->host_ports[0]->port = 7070;
	ck_assert(kerf_pod_host_ports_free(p, used, 3, NULL, 0));
	free(p->host_ports[0]->host_ip);
	p->host_ports[0]->host_ip = strdup("10.0.0.1");
	ck_assert(!kerf_pod_host_ports_free(p, used, 3, NULL, 0));
	free(p->host_ports[0]->host_ip);
	p->host_ports[0]->host_ip = strdup("0.0.0.0");
	ck_assert(!kerf_pod_host_ports_free(p, used, 3, NULL, 0));
	/* An empty protocol is TCP; port 0 is no port. */
	ck_assert(kerf_host_ports_conflict(&(struct kerf_host_port){80, "", NULL},
					   &(struct kerf_host_port){80, "TCP", NULL}));
	ck_assert(!kerf_host_ports_conflict(&(struct kerf_host_port){0, "TCP", NULL},
					    &(struct kerf_host_port){0, "TCP", NULL}));
	ck_assert(kerf_pod_host_ports_free(p, NULL, 0, NULL, 0));
	kerf_pod_free(p);
}
END_TEST

/* ------------------------------------------------------- requirements */

START_TEST(pod_requirements)
{
	struct kerf_pod *p = pod_new("p", NULL, NULL);
	struct kerf_reqset *s, *pool = kerf_reqset_new();
	struct kerf_requirements *t;
	struct kerf_error err = KERF_ERROR_INIT;
	char buf[512];
	const char *zones[] = {"a", "b"};

	ck_assert_uint_eq(kerf_pod_requirement_terms(p), 1);
	ck_assert_int_eq(kerf_pod_requirements(p, 0, &s, &err), 0);
	ck_assert_uint_eq(kerf_reqset_count(s), 0);
	kerf_reqset_free(s);
	ck_assert_int_eq(kerf_pod_requirements(p, 1, &s, &err), KERF_E_INVALID);
	ck_assert_ptr_null(s);

	set_labels(&p->node_selector, "kubernetes.io/arch=amd64");
	t = add_term(p);
	add_req(t, ZONE, KERF_OP_IN, "c");
	t = add_term(p);
	add_req(t, ZONE, KERF_OP_IN, "b");
	t = add_preferred(p, 10);
	add_req(t, "karpenter.sh/capacity-type", KERF_OP_IN, "spot");
	t = add_preferred(p, 50);
	add_req(t, "kubernetes.io/os", KERF_OP_IN, "linux");
	ck_assert_uint_eq(kerf_pod_requirement_terms(p), 2);

	ck_assert_int_eq(kerf_pod_requirements(p, 1, &s, &err), 0);
	ck_assert_int_gt(kerf_reqset_format(s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "kubernetes.io/arch In [amd64], topology.kubernetes.io/zone In [b]");
	kerf_reqset_free(s);
	/* Preferences join heaviest first. */
	ck_assert_int_eq(kerf_pod_requirements_with_preferences(p, 0, 1, &s, &err), 0);
	ck_assert_int_gt(kerf_reqset_format(s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "kubernetes.io/arch In [amd64], kubernetes.io/os In [linux], "
			      "topology.kubernetes.io/zone In [c]");
	kerf_reqset_free(s);
	ck_assert_int_eq(kerf_pod_requirements_with_preferences(p, 0, 9, &s, &err), 0);
	ck_assert_uint_eq(kerf_reqset_count(s), 4);
	kerf_reqset_free(s);

	/* Compatible: some term overlaps the pool's zones. */
	ck_assert_int_eq(kerf_reqset_add(pool, ZONE, KERF_OP_IN, zones, 2, 0, NULL), 0);
	ck_assert(kerf_pod_compatible_with(p, pool, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "");
	p->n_required_terms = 1;
	ck_assert(!kerf_pod_compatible_with(p, pool, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "key \"topology.kubernetes.io/zone\" requires In [c] but only "
			      "In [a, b] is allowed");
	p->n_required_terms = 2;
	kerf_requirements_clear(p->required_terms[1]);
	add_req(p->required_terms[1], ZONE, KERF_OP_IN, "d");
	ck_assert(!kerf_pod_compatible_with(p, pool, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "none of 2 node affinity terms is compatible (term 0: key "
			      "\"topology.kubernetes.io/zone\" requires In [c] but only In [a, b] "
			      "is allowed)");
	/* A custom label the pool does not define is incompatible; a well-known one is not. */
	kerf_requirements_clear(p->required_terms[1]);
	add_req(p->required_terms[1], "team", KERF_OP_IN, "x");
	ck_assert(!kerf_pod_compatible_with(p, pool, NULL, 0));
	kerf_requirements_clear(p->required_terms[1]);
	add_req(p->required_terms[1], "karpenter.sh/capacity-type", KERF_OP_IN, "spot");
	ck_assert(kerf_pod_compatible_with(p, pool, NULL, 0));

	/* Empty term: matches nothing. */
	kerf_requirements_clear(p->required_terms[1]);
	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_pod_requirements(p, 1, &s, &err), KERF_E_INFEASIBLE);
	ck_assert_str_eq(err.message, "node affinity term 1 is empty and matches no node");
	kerf_reqset_free(pool);
	kerf_pod_free(p);
}
END_TEST

/* ------------------------------------------------------------ spreads */

static struct kerf_pod *zone_spread_pod(struct world *w, int32_t min_domains)
{
	struct kerf_pod *p = w_pod(w, NULL, "app=web", NULL);

	add_spread(p, ZONE, 1, KERF_SPREAD_DO_NOT_SCHEDULE, "app=web", min_domains);
	return p;
}

START_TEST(spread_zones)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;
	struct kerf_domain_count *d;
	size_t n;
	char why[128];

	three_zones(&w);
	w_pod(&w, NULL, "app=web", "na");
	w_pod(&w, NULL, "app=web", "nb");
	w_pod(&w, "other", "app=web", "nc"); /* another namespace: not counted */
	w_pod(&w, NULL, "app=db", "nc");     /* another app: not counted */
	p = zone_spread_pod(&w, 0);
	t = w_topology(&w);
	/* Counts 1, 1, 0: only the empty zone. */
	ck_assert(!kerf_topology_check(t, p, 0, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod topology spread constraints");
	ck_assert(!kerf_topology_check(t, p, 1, NULL, 0));
	ck_assert(kerf_topology_check(t, p, 2, why, sizeof(why)));
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(kerf_topology_spread_domains(t, p, 0, &d, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(d[0].value, "a");
	ck_assert_int_eq(d[0].count, 1);
	ck_assert_str_eq(d[2].value, "c");
	ck_assert_int_eq(d[2].count, 0);
	free(d);
	/* Bind it there: 1, 1, 1 allows every zone. */
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 2), 0);
	for (size_t i = 0; i < 3; i++)
		ck_assert(kerf_topology_check(t, p, i, NULL, 0));
	ck_assert(kerf_topology_spread_allows(t, p, ZONE, "a", NULL, 0));
	/* A new zone d would be the minimum (0): 1 + 1 - 0 > 1. */
	ck_assert(kerf_topology_spread_allows(t, p, ZONE, "d", NULL, 0));
	kerf_topology_add_domain(t, ZONE, "d");
	ck_assert(!kerf_topology_spread_allows(t, p, ZONE, "a", why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod topology spread constraints");
	ck_assert(!kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(kerf_topology_spread_allows(t, p, ZONE, "d", NULL, 0));
	/* A registered domain the pod's affinity excludes takes no part. */
	add_req(add_term(p), ZONE, KERF_OP_IN, "a,b,c");
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert_int_eq(kerf_topology_spread_domains(t, p, 0, &d, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	free(d);
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 3), KERF_E_INVALID);
	ck_assert_int_eq(kerf_topology_spread_domains(t, p, 1, &d, &n, NULL), KERF_E_INVALID);
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(spread_node_affinity_and_labels)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;
	struct kerf_labels l = {0, NULL};
	char why[128];

	three_zones(&w);
	w_node(&w, "nx", NULL); /* no zone label */
	w_pod(&w, NULL, "app=web", "na");
	w_pod(&w, NULL, "app=web", "nb");
	p = zone_spread_pod(&w, 0);
	/* Zone c is not eligible (node affinity), so the minimum is 1: a and b allow it. */
	add_req(add_term(p), ZONE, KERF_OP_NOT_IN, "c");
	t = w_topology(&w);
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(kerf_topology_check(t, p, 1, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 3, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod topology spread constraints (missing "
			      "required label)");
	/* A new node: its zone must be on its labels. */
	ck_assert(!kerf_topology_check_labels(t, p, NULL, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod topology spread constraints (missing "
			      "required label)");
	/* A new zone holds 0 pods: 0 + 1 - 0 is within the skew. */
	set_labels(&l, "topology.kubernetes.io/zone=e,kubernetes.io/hostname=new");
	ck_assert(kerf_topology_check_labels(t, p, &l, NULL, 0));
	kerf_labels_clear(&l);
	set_labels(&l, "topology.kubernetes.io/zone=a,kubernetes.io/hostname=new");
	ck_assert(kerf_topology_check_labels(t, p, &l, NULL, 0));
	kerf_labels_clear(&l);
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(spread_min_domains)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;

	w_node(&w, "na", "topology.kubernetes.io/zone=a");
	w_node(&w, "nb", "topology.kubernetes.io/zone=b");
	w_pod(&w, NULL, "app=web", "na");
	w_pod(&w, NULL, "app=web", "nb");
	p = zone_spread_pod(&w, 3);
	t = w_topology(&w);
	/* Two domains of the three wanted: the minimum is 0, skew 2. */
	ck_assert(!kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 1, NULL, 0));
	p->spreads[0]->min_domains = 2;
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	/* ScheduleAnyway never blocks. */
	p->spreads[0]->min_domains = 3;
	p->spreads[0]->when_unsatisfiable = KERF_SPREAD_SCHEDULE_ANYWAY;
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(spread_hostname)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;
	struct kerf_labels l = {0, NULL};

	three_zones(&w);
	p = w_pod(&w, NULL, "app=web", NULL);
	add_spread(p, HOST, 1, KERF_SPREAD_DO_NOT_SCHEDULE, "app=web", 0);
	t = w_topology(&w);
	for (size_t i = 0; i < 3; i++)
		ck_assert(kerf_topology_check(t, p, i, NULL, 0));
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 0), 0);
	ck_assert(!kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(kerf_topology_check(t, p, 1, NULL, 0));
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 1), 0);
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 2), 0);
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 0), 0);
	ck_assert(!kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(kerf_topology_check(t, p, 2, NULL, 0));
	/* A new node has a new hostname, with no pods: always fine. */
	set_labels(&l, "kubernetes.io/hostname=fresh");
	ck_assert(kerf_topology_check_labels(t, p, &l, NULL, 0));
	ck_assert(kerf_topology_spread_allows(t, p, HOST, "fresh", NULL, 0));
	kerf_labels_clear(&l);
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

/* ----------------------------------------------------------- affinity */

START_TEST(affinity_zone)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;
	struct kerf_labels l = {0, NULL};
	char why[128];

	three_zones(&w);
	w_pod(&w, NULL, "app=db", "nb");
	w_pod(&w, "other", "app=cache", "nc");
	p = w_pod(&w, NULL, "app=web", NULL);
	add_pod_term(kerf_pod_add_affinity(p), ZONE, "app=db", NULL);
	t = w_topology(&w);
	ck_assert(!kerf_topology_check(t, p, 0, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod affinity rules");
	ck_assert(kerf_topology_check(t, p, 1, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 2, NULL, 0));
	set_labels(&l, "topology.kubernetes.io/zone=b,kubernetes.io/hostname=new");
	ck_assert(kerf_topology_check_labels(t, p, &l, NULL, 0));
	kerf_labels_clear(&l);
	set_labels(&l, "topology.kubernetes.io/zone=a,kubernetes.io/hostname=new");
	ck_assert(!kerf_topology_check_labels(t, p, &l, NULL, 0));
	kerf_labels_clear(&l);
	kerf_topology_free(t);

	/* Namespaces: the term's own list. */
	kerf_pod_free(p);
	w.n_pods--;
	p = w_pod(&w, NULL, "app=web", NULL);
	add_pod_term(kerf_pod_add_affinity(p), ZONE, "app=cache", "other");
	t = w_topology(&w);
	ck_assert(kerf_topology_check(t, p, 2, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 1, NULL, 0));
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(affinity_first_pod)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;

	three_zones(&w);
	w_node(&w, "nx", NULL);
	/* The pod selects itself and nothing matches yet: it may start the group. */
	p = w_pod(&w, NULL, "app=web", NULL);
	add_pod_term(kerf_pod_add_affinity(p), ZONE, "app=web", NULL);
	t = w_topology(&w);
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 3, NULL, 0)); /* no zone label */
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 0), 0);
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	ck_assert(!kerf_topology_check(t, p, 1, NULL, 0));
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(anti_affinity_hostname)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p;
	char why[128];
	size_t placed = 0;

	three_zones(&w);
	p = w_pod(&w, NULL, "app=web", NULL);
	add_pod_term(kerf_pod_add_anti_affinity(p), HOST, "app=web", NULL);
	t = w_topology(&w);
	/* One per node: three replicas place, the fourth does not. */
	for (int r = 0; r < 4; r++) {
		for (size_t i = 0; i < 3; i++) {
			if (kerf_topology_fits(t, p, i, why, sizeof(why))) {
				ck_assert_int_eq(kerf_topology_add_pod(t, p, i), 0);
				placed++;
				break;
			}
		}
	}
	ck_assert_uint_eq(placed, 3);
	ck_assert(!kerf_topology_check(t, p, 2, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match pod anti-affinity rules");
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(anti_affinity_symmetric)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *e, *p;
	struct kerf_labels l = {0, NULL};
	char why[128];

	three_zones(&w);
	/* An existing pod refuses app=web in its zone. */
	e = w_pod(&w, NULL, "app=db", "na");
	add_pod_term(kerf_pod_add_anti_affinity(e), ZONE, "app=web", NULL);
	p = w_pod(&w, NULL, "app=web", NULL);
	t = w_topology(&w);
	ck_assert(!kerf_topology_check(t, p, 0, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't satisfy existing pods anti-affinity rules");
	ck_assert(kerf_topology_check(t, p, 1, NULL, 0));
	set_labels(&l, "topology.kubernetes.io/zone=a,kubernetes.io/hostname=new");
	ck_assert(!kerf_topology_check_labels(t, p, &l, NULL, 0));
	kerf_labels_clear(&l);
	/* Only in its namespace. */
	free(p->meta->namespace_);
	p->meta->namespace_ = strdup("other");
	ck_assert(kerf_topology_check(t, p, 0, NULL, 0));
	/* The symmetry follows pods bound later too. */
	ck_assert_int_eq(kerf_topology_add_pod(t, e, 1), 0);
	free(p->meta->namespace_);
	p->meta->namespace_ = NULL;
	ck_assert(!kerf_topology_check(t, p, 1, NULL, 0));
	ck_assert(kerf_topology_check(t, p, 2, NULL, 0));
	kerf_topology_free(t);
	w_free(&w);
}
END_TEST

START_TEST(fits_chain)
{
	struct world w = {0};
	struct kerf_topology *t;
	struct kerf_pod *p, *q;
	char why[128];

	w_node(&w, "n0", NULL);
	w_node(&w, "n1", "kubernetes.io/arch=amd64");
	w.nodes[0]->unschedulable = true;
	q = w_pod(&w, NULL, "app=x", "n1");
	ck_assert_int_eq(kerf_resources_set(&q->requests, "cpu", 3900, NULL), 0);
	p = w_pod(&w, NULL, "app=y", NULL);
	/* Terminated pods do not count. */
	w_pod(&w, NULL, "app=z", "n1")->phase = KERF_POD_SUCCEEDED;
	t = w_topology(&w);
	ck_assert(!kerf_topology_fits(t, p, 0, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) were unschedulable");
	ck_assert(kerf_topology_fits(t, p, 1, why, sizeof(why)));
	ck_assert_int_eq(kerf_topology_add_pod(t, p, 1), 0);
	ck_assert(!kerf_topology_fits(t, p, 1, why, sizeof(why)));
	ck_assert_str_eq(why, "insufficient cpu");
	p->node_name = strdup("n0");
	ck_assert(!kerf_topology_fits(t, p, 1, why, sizeof(why)));
	ck_assert_str_eq(why, "node(s) didn't match the requested node name");
	ck_assert(!kerf_topology_fits(t, p, 7, why, sizeof(why)));
	ck_assert_uint_eq(kerf_topology_nodes(t), 2);
	kerf_topology_free(t);
	kerf_topology_free(NULL);
	w_free(&w);
}
END_TEST

static Suite *scheduling_suite(void)
{
	Suite *s = suite_create("scheduling");
	TCase *tc = tcase_create("predicates");

	tcase_add_loop_test(tc, selector_expression, 0,
			    (int)(sizeof(expressions) / sizeof(expressions[0])));
	tcase_add_test(tc, selector_labels);
	tcase_add_test(tc, node_affinity);
	tcase_add_test(tc, tolerations);
	tcase_add_test(tc, resources);
	tcase_add_test(tc, host_ports);
	tcase_add_test(tc, pod_requirements);
	suite_add_tcase(s, tc);
	tc = tcase_create("topology");
	tcase_add_test(tc, spread_zones);
	tcase_add_test(tc, spread_node_affinity_and_labels);
	tcase_add_test(tc, spread_min_domains);
	tcase_add_test(tc, spread_hostname);
	tcase_add_test(tc, affinity_zone);
	tcase_add_test(tc, affinity_first_pod);
	tcase_add_test(tc, anti_affinity_hostname);
	tcase_add_test(tc, anti_affinity_symmetric);
	tcase_add_test(tc, fits_chain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scheduling_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
