/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scheduling.c - the Kubernetes scheduling predicates shared by the core,
 * the packers and the simulated kube-scheduler (kerf/scheduling.h).
 *
 * The node-side rules follow kube-scheduler's filter plugins (NodeAffinity,
 * TaintToleration, NodePorts, NodeResourcesFit, PodTopologySpread,
 * InterPodAffinity); the requirement side follows Karpenter's
 * NewPodRequirements and Compatible.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/scheduling.h>
#include <kerf/taints.h>

#include "util.h"

#define NODE_AFFINITY_PHRASE "node(s) didn't match Pod's node affinity/selector"
#define SPREAD_PHRASE "node(s) didn't match pod topology spread constraints"

static void set_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static void clear_why(char *why, size_t len)
{
	if (why && len)
		why[0] = '\0';
}

static const char *ns_or_default(const char *ns)
{
	return ns ? ns : "default";
}

/* -------------------------------------------------------- expressions */

/* Kubernetes parses Gt/Lt operands with strconv.ParseInt(s, 10, 64). */
static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool values_contain(const struct kerf_requirement *r, const char *v)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (r->values[i] && strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

/* One node-selector or label-selector expression against a label set. */
static bool requirement_holds(const struct kerf_requirement *r, const struct kerf_labels *l)
{
	const char *v = kerf_labels_get(l, r->key);
	int64_t have, bound;

	switch (r->op) {
	case KERF_OP_IN:
		return v && values_contain(r, v);
	case KERF_OP_NOT_IN:
		return !v || !values_contain(r, v);
	case KERF_OP_EXISTS:
		return v != NULL;
	case KERF_OP_DOES_NOT_EXIST:
		return v == NULL;
	default:
		break;
	}
	if (!v || r->n_values != 1 || !parse_i64(v, &have) || !parse_i64(r->values[0], &bound))
		return false;
	switch (r->op) {
	case KERF_OP_GT:
		return have > bound;
	case KERF_OP_LT:
		return have < bound;
	case KERF_OP_GTE:
		return have >= bound;
	case KERF_OP_LTE:
		return have <= bound;
	default:
		return false;
	}
}

/* The first expression of rs that does not hold on l, or NULL. */
static const struct kerf_requirement *first_unmet(const struct kerf_requirements *rs,
						  const struct kerf_labels *l)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!requirement_holds(rs->items[i], l))
			return rs->items[i];
	return NULL;
}

/* The first matchLabels / nodeSelector pair l does not carry, or NULL. */
static const struct kerf_label *first_missing_label(const struct kerf_labels *want,
						    const struct kerf_labels *l)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = kerf_labels_get(l, want->items[i]->key);
		if (!v || strcmp(v, want->items[i]->value) != 0)
			return want->items[i];
	}
	return NULL;
}

bool kerf_label_selector_matches(const struct kerf_label_selector *s,
				 const struct kerf_labels *labels)
{
	if (!s || first_missing_label(&s->match_labels, labels))
		return false;
	/* Gt and Lt are node-selector operators: a label selector never satisfies them. */
	for (size_t i = 0; i < s->match_expressions.n; i++)
		if (s->match_expressions.items[i]->op > KERF_OP_DOES_NOT_EXIST ||
		    !requirement_holds(s->match_expressions.items[i], labels))
			return false;
	return true;
}

/* "key In [a, b]", for reasons. */
static void describe_requirement(struct strbuf *sb, const struct kerf_requirement *r)
{
	sb_printf(sb, "%s %s", r->key, kerf_operator_name(r->op));
	if (r->op == KERF_OP_EXISTS || r->op == KERF_OP_DOES_NOT_EXIST)
		return;
	sb_puts(sb, " [");
	for (size_t i = 0; i < r->n_values; i++)
		sb_printf(sb, "%s%s", i ? ", " : "", r->values[i] ? r->values[i] : "");
	sb_puts(sb, "]");
}

/* ------------------------------------------------------ node side */

bool kerf_pod_matches_node_labels(const struct kerf_pod *pod, const struct kerf_labels *node_labels,
				  char *why, size_t len)
{
	const struct kerf_label *miss;
	const struct kerf_requirement *unmet = NULL;
	struct strbuf sb;

	clear_why(why, len);
	if (!pod)
		return true;
	miss = first_missing_label(&pod->node_selector, node_labels);
	if (miss) {
		const char *have = kerf_labels_get(node_labels, miss->key);
		set_why(why, len, NODE_AFFINITY_PHRASE " (nodeSelector %s=%s, node has %s)", miss->key,
			miss->value, have ? have : "no such label");
		return false;
	}
	if (pod->n_required_terms == 0)
		return true;
	for (size_t i = 0; i < pod->n_required_terms; i++) {
		const struct kerf_requirements *term = pod->required_terms[i];
		const struct kerf_requirement *r;

		/* Kubernetes: an empty term matches no objects. */
		if (term->n == 0)
			continue;
		r = first_unmet(term, node_labels);
		if (!r)
			return true;
		if (!unmet)
			unmet = r;
	}
	sb_init(&sb);
	if (pod->n_required_terms > 1)
		sb_printf(&sb, "none of %zu terms holds; first: ", pod->n_required_terms);
	if (unmet) {
		describe_requirement(&sb, unmet);
		sb_puts(&sb, " does not hold");
	} else {
		sb_puts(&sb, "empty term");
	}
	set_why(why, len, NODE_AFFINITY_PHRASE " (%s)", sb.buf);
	sb_free(&sb);
	return false;
}

bool kerf_pod_tolerates(const struct kerf_pod *pod, const struct kerf_taints *taints, char *why,
			size_t len)
{
	const struct kerf_taint *bad = NULL;
	char buf[512];

	clear_why(why, len);
	if (kerf_tolerations_tolerate_all(pod ? &pod->tolerations : NULL, taints, true, &bad))
		return true;
	/* A taint too long for buf is still named by its prefix. */
	kerf_taint_format(bad, buf, sizeof(buf));
	set_why(why, len, "untolerated taint {%s}", buf);
	return false;
}

bool kerf_pod_fits_resources(const struct kerf_pod *pod, const struct kerf_resources *free,
			     char *why, size_t len)
{
	static const struct kerf_resources none;
	char failed[KERF_RESOURCE_NAME_MAX];

	clear_why(why, len);
	if (!pod || kerf_resources_fit(&pod->requests, free ? free : &none, failed))
		return true;
	if (strcmp(failed, KERF_RESOURCE_PODS) == 0)
		set_why(why, len, "too many pods");
	else
		set_why(why, len, "insufficient %s", failed);
	return false;
}

/* Kubernetes sanitises an empty hostIP to 0.0.0.0, which binds every address. */
static bool ip_wildcard(const char *ip)
{
	return !ip || !*ip || strcmp(ip, "0.0.0.0") == 0;
}

/* protocol is a fixed array that a full name may leave unterminated. */
static const char *port_protocol(const struct kerf_host_port *p)
{
	return p->protocol[0] ? p->protocol : "TCP";
}

bool kerf_host_ports_conflict(const struct kerf_host_port *a, const struct kerf_host_port *b)
{
	if (!a || !b || a->port == 0 || a->port != b->port)
		return false;
	if (strncmp(port_protocol(a), port_protocol(b), sizeof(a->protocol)) != 0)
		return false;
	return ip_wildcard(a->host_ip) || ip_wildcard(b->host_ip) ||
	       strcmp(a->host_ip, b->host_ip) == 0;
}

bool kerf_pod_host_ports_free(const struct kerf_pod *pod, struct kerf_host_port *const *used,
			      size_t n_used, char *why, size_t len)
{
	clear_why(why, len);
	for (size_t i = 0; pod && i < pod->n_host_ports; i++) {
		const struct kerf_host_port *p = pod->host_ports[i];

		for (size_t j = 0; used && j < n_used; j++) {
			if (!kerf_host_ports_conflict(p, used[j]))
				continue;
			set_why(why, len, "host port %u/%.*s in use%s%s", (unsigned)p->port,
				(int)sizeof(p->protocol), port_protocol(p),
				ip_wildcard(p->host_ip) ? "" : " on ",
				ip_wildcard(p->host_ip) ? "" : p->host_ip);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------- requirement side */

size_t kerf_pod_requirement_terms(const struct kerf_pod *pod)
{
	return pod && pod->n_required_terms ? pod->n_required_terms : 1;
}

/*
 * Indices of the preferred terms, heaviest first; a stable insertion sort
 * keeps manifest order among equal weights, as Karpenter's sort does.
 */
static size_t *preferred_order(const struct kerf_pod *pod)
{
	size_t *order = xcalloc(pod->n_preferred_terms, sizeof(*order));

	for (size_t i = 0; i < pod->n_preferred_terms; i++) {
		size_t j = i;

		while (j > 0 && pod->preferred_terms[order[j - 1]]->weight <
				    pod->preferred_terms[i]->weight) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	return order;
}

static int add_preferences(struct kerf_reqset *s, const struct kerf_pod *pod, size_t kept,
			   struct kerf_error *err)
{
	size_t *order;
	int rc = 0;

	if (kept > pod->n_preferred_terms)
		kept = pod->n_preferred_terms;
	if (kept == 0)
		return 0;
	order = preferred_order(pod);
	for (size_t k = 0; k < kept && rc == 0; k++)
		rc = kerf_reqset_add_requirements(s, &pod->preferred_terms[order[k]]->preference,
						  err);
	free(order);
	return rc;
}

int kerf_pod_requirements_with_preferences(const struct kerf_pod *pod, size_t term,
					   size_t n_preferred_kept, struct kerf_reqset **out,
					   struct kerf_error *err)
{
	struct kerf_reqset *s;
	int rc;

	if (!out)
		return kerf_error_set(err, KERF_E_INVALID, "no place for the requirement set");
	*out = NULL;
	if (!pod)
		return kerf_error_set(err, KERF_E_INVALID, "no pod");
	if (term >= kerf_pod_requirement_terms(pod))
		return kerf_error_set(err, KERF_E_INVALID,
				      "node affinity term %zu out of range (the pod has %zu)", term,
				      pod->n_required_terms);
	if (pod->n_required_terms && pod->required_terms[term]->n == 0)
		return kerf_error_set(err, KERF_E_INFEASIBLE,
				      "node affinity term %zu is empty and matches no node", term);
	s = kerf_reqset_new();
	if (!s)
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
	rc = kerf_reqset_add_labels(s, &pod->node_selector, err);
	if (rc == 0 && pod->n_required_terms)
		rc = kerf_reqset_add_requirements(s, pod->required_terms[term], err);
	if (rc == 0)
		rc = add_preferences(s, pod, n_preferred_kept, err);
	if (rc != 0) {
		kerf_reqset_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int kerf_pod_requirements(const struct kerf_pod *pod, size_t term, struct kerf_reqset **out,
			  struct kerf_error *err)
{
	return kerf_pod_requirements_with_preferences(pod, term, 0, out, err);
}

bool kerf_pod_compatible_with(const struct kerf_pod *pod, const struct kerf_reqset *reqs,
			      char *why, size_t len)
{
	size_t n = kerf_pod_requirement_terms(pod);
	char first[512] = "";

	clear_why(why, len);
	for (size_t i = 0; i < n; i++) {
		struct kerf_reqset *p;
		struct kerf_error err;
		char one[512];

		kerf_error_clear(&err);
		if (kerf_pod_requirements(pod, i, &p, &err) != 0) {
			snprintf(one, sizeof(one), "%s", err.message);
		} else {
			bool ok = kerf_reqset_compatible(reqs, p, KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN,
							 one, sizeof(one));
			kerf_reqset_free(p);
			if (ok)
				return true;
		}
		if (i == 0)
			memcpy(first, one, sizeof(first));
	}
	if (n == 1)
		set_why(why, len, "%s", first);
	else
		set_why(why, len, "none of %zu node affinity terms is compatible (term 0: %s)", n,
			first);
	return false;
}

/* ------------------------------------------------------- string index */

/* ------------------------------------------------------------ topology */

/* A domain index that names no domain: the node lacks the key. */
#define DOM_MISSING (-1L)
/* A value that is no known domain of the key: no node has it, nothing counted there. */
#define DOM_UNKNOWN (-2L)

/* One topology key and its domains. */
struct tkey {
	char *key;
	long *dom_of_node;     /* per node: its domain, DOM_MISSING without the label */
	size_t n_node_domains; /* domains [0, n_node_domains) have nodes; counts cover them */
	struct strset domains; /* node domains, then registered ones */
	bool *registered;      /* per domain, kerf_topology_add_domain() */
	size_t cap_registered;
};

struct tnode {
	char *name;
	struct kerf_labels labels;
	struct kerf_taints taints;
	struct kerf_resources allocatable;
	struct kerf_resources requested;
	bool unschedulable;
	size_t n_ports;
	struct kerf_host_port **ports;
};

/* A placed pod: what counting it needs. */
struct tpod {
	char *ns;
	struct kerf_labels labels;
	size_t node;
	bool terminating;
};

/* Pods in one of these namespaces whose labels the selector matches. */
struct clause {
	size_t n_ns;
	char **ns;
	struct kerf_label_selector *sel;
};

/*
 * Pods matching every clause, counted per domain of each key (affinity
 * terms, spreads); or, for existing pods' anti-affinity (symmetry), the
 * pods owning the term.  `id` says what is counted, so pods of one
 * workload share one counter.
 */
struct counter {
	uint64_t hash;
	char *id;
	size_t n_clauses;
	struct clause *clauses;
	size_t n_keys;
	size_t *keys;     /* tkey indices */
	int64_t **counts; /* [key][node domain] */
	int64_t total;
	/* Spreads: only eligible nodes, not pods being deleted. */
	bool spread;
	bool *eligible;     /* per node */
	bool *dom_eligible; /* per node domain of keys[0]: holds an eligible node */
};

struct kerf_topology {
	size_t n_nodes;
	struct tnode *nodes;
	size_t n_pods, cap_pods;
	struct tpod *pods;
	size_t n_keys, cap_keys;
	struct tkey *keys;
	size_t n_counters, cap_counters;
	struct counter **counters;
	size_t n_sym, cap_sym;
	struct counter **sym; /* existing pods' required anti-affinity terms */
};

/* Where a pod would go: an existing node, or a new one known by its labels. */
struct where {
	size_t node;
	const struct kerf_labels *labels; /* non-NULL: a node not built yet */
};

/* Room in k->registered for every domain, new entries false. */
static void registered_grow(struct tkey *k)
{
	size_t old = k->cap_registered;

	xgrow(k->registered, k->cap_registered, k->domains.n + 1);
	memset(k->registered + old, 0, (k->cap_registered - old) * sizeof(*k->registered));
}

static size_t topo_key(struct kerf_topology *t, const char *key)
{
	struct tkey *k;

	for (size_t i = 0; i < t->n_keys; i++)
		if (strcmp(t->keys[i].key, key) == 0)
			return i;
	xgrow(t->keys, t->cap_keys, t->n_keys + 1);
	k = &t->keys[t->n_keys];
	memset(k, 0, sizeof(*k));
	k->key = xstrdup(key);
	k->dom_of_node = xcalloc(t->n_nodes ? t->n_nodes : 1, sizeof(*k->dom_of_node));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const char *v = kerf_labels_get(&t->nodes[i].labels, key);
		k->dom_of_node[i] = v ? (long)strset_add(&k->domains, v) : DOM_MISSING;
	}
	k->n_node_domains = k->domains.n;
	registered_grow(k);
	return t->n_keys++;
}

static long where_domain(const struct kerf_topology *t, size_t key, const struct where *w)
{
	const struct tkey *k = &t->keys[key];
	const char *v;
	long d;

	if (!w->labels)
		return k->dom_of_node[w->node];
	v = kerf_labels_get(w->labels, k->key);
	if (!v)
		return DOM_MISSING;
	d = strset_find(&k->domains, v);
	return d >= 0 ? d : DOM_UNKNOWN;
}

/* The pods a counter holds in domain d of its j-th key; 0 where no node is. */
static int64_t count_at(const struct kerf_topology *t, const struct counter *c, size_t j, long d)
{
	if (d < 0 || (size_t)d >= t->keys[c->keys[j]].n_node_domains)
		return 0;
	return c->counts[j][d];
}

static bool clause_selects(const struct clause *c, const char *ns, const struct kerf_labels *labels)
{
	bool in_ns = false;

	ns = ns_or_default(ns);
	for (size_t i = 0; i < c->n_ns && !in_ns; i++)
		in_ns = strcmp(c->ns[i], ns) == 0;
	return in_ns && kerf_label_selector_matches(c->sel, labels);
}

static bool clauses_select(const struct counter *c, const char *ns, const struct kerf_labels *labels)
{
	for (size_t i = 0; i < c->n_clauses; i++)
		if (!clause_selects(&c->clauses[i], ns, labels))
			return false;
	return true;
}

/* Adds 1 in the domain of `node` under every key of c. */
static void counter_bump(struct kerf_topology *t, struct counter *c, size_t node)
{
	for (size_t j = 0; j < c->n_keys; j++) {
		long d = t->keys[c->keys[j]].dom_of_node[node];

		if (d >= 0) {
			c->counts[j][d]++;
			c->total++;
		}
	}
}

static void counter_count(struct kerf_topology *t, struct counter *c, const struct tpod *p)
{
	if (c->spread && (p->terminating || !c->eligible[p->node]))
		return;
	if (clauses_select(c, p->ns, &p->labels))
		counter_bump(t, c, p->node);
}

/* ---------------------------------------------------- counter identity */

static void id_selector(struct strbuf *sb, const struct kerf_label_selector *s)
{
	for (size_t i = 0; i < s->match_labels.n; i++)
		sb_printf(sb, "%s=%s\t", s->match_labels.items[i]->key,
			  s->match_labels.items[i]->value);
	sb_puts(sb, "|");
	for (size_t i = 0; i < s->match_expressions.n; i++) {
		const struct kerf_requirement *r = s->match_expressions.items[i];

		sb_printf(sb, "%s %d", r->key, (int)r->op);
		for (size_t j = 0; j < r->n_values; j++)
			sb_printf(sb, " %s", r->values[j] ? r->values[j] : "");
		sb_puts(sb, "\t");
	}
	sb_puts(sb, "\n");
}

/* A pod affinity term of owner: its namespaces (or owner's), selector and key. */
static void id_term(struct strbuf *sb, const struct kerf_pod_affinity_term *term,
		    const char *owner_ns)
{
	if (term->n_namespaces == 0)
		sb_printf(sb, "%s\t", ns_or_default(owner_ns));
	for (size_t i = 0; i < term->n_namespaces; i++)
		sb_printf(sb, "%s\t", term->namespaces[i]);
	sb_puts(sb, "\n");
	id_selector(sb, term->selector);
	sb_printf(sb, "%s\n", term->topology_key ? term->topology_key : "");
}

static void id_requirements(struct strbuf *sb, const struct kerf_requirements *rs)
{
	struct kerf_label_selector as_sel = {{0, NULL}, *rs};

	id_selector(sb, &as_sel);
}

static struct counter *counter_find(struct counter **list, size_t n, uint64_t hash, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i]->hash == hash && strcmp(list[i]->id, id) == 0)
			return list[i];
	return NULL;
}

static void clause_init(struct clause *c, size_t n_ns, char *const *ns, const char *owner_ns,
			const struct kerf_label_selector *sel)
{
	c->n_ns = n_ns ? n_ns : 1;
	c->ns = xcalloc(c->n_ns, sizeof(*c->ns));
	for (size_t i = 0; i < c->n_ns; i++)
		c->ns[i] = xstrdup(n_ns ? ns[i] : ns_or_default(owner_ns));
	c->sel = kerf_label_selector_new();
	kerf_labels_copy(&c->sel->match_labels, &sel->match_labels);
	kerf_requirements_copy(&c->sel->match_expressions, &sel->match_expressions);
}

static void clause_clear(struct clause *c)
{
	for (size_t i = 0; i < c->n_ns; i++)
		free(c->ns[i]);
	free(c->ns);
	kerf_label_selector_free(c->sel);
}

static void counter_free(struct counter *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_clauses; i++)
		clause_clear(&c->clauses[i]);
	for (size_t j = 0; j < c->n_keys; j++)
		free(c->counts[j]);
	free(c->clauses);
	free(c->keys);
	free(c->counts);
	free(c->eligible);
	free(c->dom_eligible);
	free(c->id);
	free(c);
}

/* A new counter over *terms[0..n) of owner, with zero counts. */
static struct counter *counter_new(struct kerf_topology *t, char *id,
				   struct kerf_pod_affinity_term *const *terms, size_t n,
				   const char *owner_ns)
{
	struct counter *c = xcalloc(1, sizeof(*c));

	c->id = id;
	c->hash = str_fnv1a(id);
	c->n_clauses = c->n_keys = n;
	c->clauses = xcalloc(n, sizeof(*c->clauses));
	c->keys = xcalloc(n, sizeof(*c->keys));
	c->counts = xcalloc(n, sizeof(*c->counts));
	for (size_t j = 0; j < n; j++) {
		clause_init(&c->clauses[j], terms[j]->n_namespaces, terms[j]->namespaces, owner_ns,
			    terms[j]->selector);
		c->keys[j] = topo_key(t, terms[j]->topology_key ? terms[j]->topology_key : "");
		c->counts[j] = xcalloc(t->keys[c->keys[j]].n_node_domains + 1, sizeof(int64_t));
	}
	return c;
}

static struct counter *counter_keep(struct kerf_topology *t, struct counter *c)
{
	for (size_t i = 0; i < t->n_pods; i++)
		counter_count(t, c, &t->pods[i]);
	xgrow(t->counters, t->cap_counters, t->n_counters + 1);
	t->counters[t->n_counters++] = c;
	return c;
}

/* Pods matching all of the pod's *terms[0..n), per domain of each term's key. */
static struct counter *terms_counter(struct kerf_topology *t, const struct kerf_pod *pod,
				     struct kerf_pod_affinity_term *const *terms, size_t n)
{
	struct strbuf sb;
	struct counter *c;
	char *id;

	sb_init(&sb);
	sb_puts(&sb, "terms\n");
	for (size_t i = 0; i < n; i++)
		id_term(&sb, terms[i], pod->meta->namespace_);
	c = counter_find(t->counters, t->n_counters, str_fnv1a(sb.buf), sb.buf);
	if (c) {
		sb_free(&sb);
		return c;
	}
	id = sb_detach(&sb);
	return counter_keep(t, counter_new(t, id, terms, n, pod->meta->namespace_));
}

/* Does the node carry every key of the pod's spreads of this kind? */
static bool has_spread_keys(const struct kerf_pod *pod, kerf_spread_policy kind,
			    const struct kerf_labels *labels)
{
	for (size_t i = 0; i < pod->n_spreads; i++)
		if (pod->spreads[i]->when_unsatisfiable == kind &&
		    !kerf_labels_get(labels, pod->spreads[i]->topology_key))
			return false;
	return true;
}

/*
 * Pods matching spread s of pod, per domain, on the nodes eligible for
 * it: nodeAffinityPolicy Honor (the pod's node selector and required
 * affinity) and every key of the pod's spreads of the same kind present,
 * as kube-scheduler's PodTopologySpread counts them.
 */
static struct counter *spread_counter(struct kerf_topology *t, const struct kerf_pod *pod,
				      const struct kerf_topology_spread *s)
{
	/* A borrowed view of the spread as a term, so spreads share the counters' code. */
	struct kerf_pod_affinity_term as_term = {s->selector, 0, NULL, s->topology_key};
	struct kerf_pod_affinity_term *as_terms = &as_term;
	struct strbuf sb;
	struct counter *c;
	long d;

	sb_init(&sb);
	sb_printf(&sb, "spread %d\n", (int)s->when_unsatisfiable);
	id_term(&sb, &as_term, pod->meta->namespace_);
	id_selector(&sb, &(struct kerf_label_selector){pod->node_selector, {0, NULL}});
	for (size_t i = 0; i < pod->n_required_terms; i++)
		id_requirements(&sb, pod->required_terms[i]);
	for (size_t i = 0; i < pod->n_spreads; i++)
		if (pod->spreads[i]->when_unsatisfiable == s->when_unsatisfiable)
			sb_printf(&sb, "%s\t", pod->spreads[i]->topology_key);
	c = counter_find(t->counters, t->n_counters, str_fnv1a(sb.buf), sb.buf);
	if (c) {
		sb_free(&sb);
		return c;
	}
	c = counter_new(t, sb_detach(&sb), &as_terms, 1, pod->meta->namespace_);
	c->spread = true;
	c->eligible = xcalloc(t->n_nodes ? t->n_nodes : 1, sizeof(*c->eligible));
	c->dom_eligible = xcalloc(t->keys[c->keys[0]].n_node_domains + 1, sizeof(bool));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct kerf_labels *l = &t->nodes[i].labels;

		c->eligible[i] = kerf_pod_matches_node_labels(pod, l, NULL, 0) &&
				 has_spread_keys(pod, s->when_unsatisfiable, l);
		d = t->keys[c->keys[0]].dom_of_node[i];
		if (c->eligible[i] && d >= 0)
			c->dom_eligible[d] = true;
	}
	return counter_keep(t, c);
}

/* Records that the owner of the anti-affinity term *term now runs on node. */
static void sym_add(struct kerf_topology *t, struct kerf_pod_affinity_term *const *term,
		    const char *owner_ns, size_t node)
{
	struct strbuf sb;
	struct counter *c;

	sb_init(&sb);
	id_term(&sb, *term, owner_ns);
	c = counter_find(t->sym, t->n_sym, str_fnv1a(sb.buf), sb.buf);
	if (c) {
		sb_free(&sb);
	} else {
		c = counter_new(t, sb_detach(&sb), term, 1, owner_ns);
		xgrow(t->sym, t->cap_sym, t->n_sym + 1);
		t->sym[t->n_sym++] = c;
	}
	counter_bump(t, c, node);
}

/* ------------------------------------------------------ building it */

static void place(struct kerf_topology *t, const struct kerf_pod *pod, size_t node)
{
	struct tnode *n = &t->nodes[node];
	struct tpod *p;

	xgrow(t->pods, t->cap_pods, t->n_pods + 1);
	p = &t->pods[t->n_pods++];
	memset(p, 0, sizeof(*p));
	p->ns = xstrdup(ns_or_default(pod->meta->namespace_));
	kerf_labels_copy(&p->labels, &pod->meta->labels);
	p->node = node;
	p->terminating = pod->meta->deletion_ms != 0;
	/* A list with no room for another extended resource keeps what it has. */
	(void)kerf_resources_add(&n->requested, &pod->requests);
	for (size_t i = 0; i < pod->n_host_ports; i++) {
		const struct kerf_host_port *src = pod->host_ports[i];
		struct kerf_host_port *hp = kerf_host_port_new();

		hp->port = src->port;
		memcpy(hp->protocol, src->protocol, sizeof(hp->protocol));
		hp->host_ip = src->host_ip ? xstrdup(src->host_ip) : NULL;
		n->ports = xrealloc(n->ports, (n->n_ports + 1) * sizeof(*n->ports));
		n->ports[n->n_ports++] = hp;
	}
	for (size_t i = 0; i < t->n_counters; i++)
		counter_count(t, t->counters[i], p);
	for (size_t i = 0; i < pod->n_anti_affinity; i++)
		sym_add(t, &pod->anti_affinity[i], pod->meta->namespace_, node);
}

struct kerf_topology *kerf_topology_new(const struct kerf_node *const *nodes, size_t n_nodes,
					const struct kerf_pod *const *pods, size_t n_pods)
{
	struct kerf_topology *t = xcalloc(1, sizeof(*t));
	struct strset names = {0};
	/* Node index by name index: the first node of a name wins. */
	size_t *node_of_name = xcalloc(n_nodes ? n_nodes : 1, sizeof(*node_of_name));

	t->n_nodes = n_nodes;
	t->nodes = xcalloc(n_nodes ? n_nodes : 1, sizeof(*t->nodes));
	for (size_t i = 0; i < n_nodes; i++) {
		const struct kerf_node *src = nodes[i];
		struct tnode *n = &t->nodes[i];

		n->name = xstrdup(src->meta->name ? src->meta->name : "");
		kerf_labels_copy(&n->labels, &src->meta->labels);
		kerf_taints_copy(&n->taints, &src->taints);
		n->allocatable = src->allocatable;
		kerf_resources_init(&n->requested);
		n->unschedulable = src->unschedulable;
		size_t before = names.n;
		size_t at = strset_add(&names, n->name);

		if (names.n > before)
			node_of_name[at] = i;
	}
	for (size_t i = 0; i < n_pods; i++) {
		const struct kerf_pod *p = pods[i];
		long node;

		if (!p || !p->node_name || p->phase == KERF_POD_SUCCEEDED ||
		    p->phase == KERF_POD_FAILED)
			continue;
		node = strset_find(&names, p->node_name);
		if (node >= 0)
			place(t, p, node_of_name[node]);
	}
	strset_clear(&names);
	free(node_of_name);
	return t;
}

static void tkey_clear(struct tkey *k)
{
	free(k->key);
	free(k->dom_of_node);
	strset_clear(&k->domains);
	free(k->registered);
}

void kerf_topology_free(struct kerf_topology *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tnode *n = &t->nodes[i];

		free(n->name);
		kerf_labels_clear(&n->labels);
		kerf_taints_clear(&n->taints);
		for (size_t j = 0; j < n->n_ports; j++)
			kerf_host_port_free(n->ports[j]);
		free(n->ports);
	}
	for (size_t i = 0; i < t->n_pods; i++) {
		free(t->pods[i].ns);
		kerf_labels_clear(&t->pods[i].labels);
	}
	for (size_t i = 0; i < t->n_keys; i++)
		tkey_clear(&t->keys[i]);
	for (size_t i = 0; i < t->n_counters; i++)
		counter_free(t->counters[i]);
	for (size_t i = 0; i < t->n_sym; i++)
		counter_free(t->sym[i]);
	free(t->nodes);
	free(t->pods);
	free(t->keys);
	free(t->counters);
	free(t->sym);
	free(t);
}

size_t kerf_topology_nodes(const struct kerf_topology *t)
{
	return t ? t->n_nodes : 0;
}

int kerf_topology_add_pod(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index)
{
	if (!t || !pod || node_index >= t->n_nodes)
		return KERF_E_INVALID;
	place(t, pod, node_index);
	return 0;
}

void kerf_topology_add_domain(struct kerf_topology *t, const char *key, const char *value)
{
	struct tkey *k;
	size_t d;

	if (!t || !key || !value)
		return;
	k = &t->keys[topo_key(t, key)];
	d = strset_add(&k->domains, value);
	registered_grow(k);
	k->registered[d] = true;
}

/* ------------------------------------------------------------ checks */

/*
 * May the pod's node selector and required node affinity put it on a node
 * whose `key` label is value?  Only expressions on key are looked at: the
 * other labels of a node that does not exist yet are not known.
 */
static bool pod_allows_value(const struct kerf_pod *pod, const char *key, const char *value)
{
	struct kerf_label one = {(char *)key, (char *)value};
	struct kerf_label *items = &one;
	struct kerf_labels l = {1, &items};
	const char *want = kerf_labels_get(&pod->node_selector, key);

	if (want && strcmp(want, value) != 0)
		return false;
	if (pod->n_required_terms == 0)
		return true;
	for (size_t i = 0; i < pod->n_required_terms; i++) {
		const struct kerf_requirements *term = pod->required_terms[i];
		bool holds = term->n > 0;

		for (size_t j = 0; j < term->n && holds; j++)
			if (strcmp(term->items[j]->key, key) == 0)
				holds = requirement_holds(term->items[j], &l);
		if (holds)
			return true;
	}
	return false;
}

/* Does domain i of the spread's key take part in its minimum? */
static bool domain_counts(const struct tkey *k, const struct counter *c, const struct kerf_pod *pod,
			  size_t i)
{
	if (i < k->n_node_domains && c->dom_eligible[i])
		return true;
	return k->registered[i] && pod_allows_value(pod, k->key, k->domains.items[i]);
}

static bool spread_ok(struct kerf_topology *t, const struct kerf_pod *pod,
		      const struct kerf_topology_spread *s, const struct where *w, char *why,
		      size_t len)
{
	struct counter *c = spread_counter(t, pod, s);
	const struct tkey *k = &t->keys[c->keys[0]];
	long d = where_domain(t, c->keys[0], w);
	int64_t min = INT64_MAX, here, self;
	size_t n_dom = 0;
	/* An existing node's domain is among the counted ones when it is eligible. */
	bool d_counted = !w->labels;

	if (d == DOM_MISSING) {
		set_why(why, len, SPREAD_PHRASE " (missing required label)");
		return false;
	}
	here = count_at(t, c, 0, d);
	for (size_t i = 0; i < k->domains.n; i++) {
		if (!domain_counts(k, c, pod, i))
			continue;
		n_dom++;
		if (count_at(t, c, 0, (long)i) < min)
			min = count_at(t, c, 0, (long)i);
		if ((long)i == d)
			d_counted = true;
	}
	/* A new node is eligible by assumption, so its domain exists. */
	if (!d_counted) {
		n_dom++;
		if (here < min)
			min = here;
	}
	if (s->min_domains > 0 && n_dom < (size_t)s->min_domains)
		min = 0;
	self = kerf_label_selector_matches(s->selector, &pod->meta->labels) ? 1 : 0;
	/* No eligible domain at all: kube-scheduler's minimum stays at MaxInt32. */
	if (min != INT64_MAX && here + self - min > s->max_skew) {
		set_why(why, len, SPREAD_PHRASE);
		return false;
	}
	return true;
}

static bool spreads_ok(struct kerf_topology *t, const struct kerf_pod *pod, const struct where *w,
		       const char *only_key, char *why, size_t len)
{
	for (size_t i = 0; i < pod->n_spreads; i++) {
		const struct kerf_topology_spread *s = pod->spreads[i];

		if (s->when_unsatisfiable != KERF_SPREAD_DO_NOT_SCHEDULE)
			continue;
		if (only_key && (!s->topology_key || strcmp(s->topology_key, only_key) != 0))
			continue;
		if (!spread_ok(t, pod, s, w, why, len))
			return false;
	}
	return true;
}

/*
 * kube-scheduler's InterPodAffinity filter.  A pod counts for the pod's
 * affinity only when it matches every term; when no pod does and the pod
 * matches its own terms, it may start the group anywhere the keys exist.
 */
static bool affinity_ok(struct kerf_topology *t, const struct kerf_pod *pod, const struct where *w,
			char *why, size_t len)
{
	if (pod->n_affinity) {
		struct counter *c = terms_counter(t, pod, pod->affinity, pod->n_affinity);
		bool exist = true;

		for (size_t j = 0; j < c->n_keys; j++) {
			long d = where_domain(t, c->keys[j], w);

			if (d == DOM_MISSING) {
				set_why(why, len, "node(s) didn't match pod affinity rules");
				return false;
			}
			if (count_at(t, c, j, d) <= 0)
				exist = false;
		}
		if (!exist && !(c->total == 0 &&
				clauses_select(c, pod->meta->namespace_, &pod->meta->labels))) {
			set_why(why, len, "node(s) didn't match pod affinity rules");
			return false;
		}
	}
	for (size_t i = 0; i < pod->n_anti_affinity; i++) {
		struct counter *c = terms_counter(t, pod, &pod->anti_affinity[i], 1);

		if (count_at(t, c, 0, where_domain(t, c->keys[0], w)) > 0) {
			set_why(why, len, "node(s) didn't match pod anti-affinity rules");
			return false;
		}
	}
	for (size_t i = 0; i < t->n_sym; i++) {
		const struct counter *g = t->sym[i];

		if (clause_selects(&g->clauses[0], pod->meta->namespace_, &pod->meta->labels) &&
		    count_at(t, g, 0, where_domain(t, g->keys[0], w)) > 0) {
			set_why(why, len, "node(s) didn't satisfy existing pods anti-affinity rules");
			return false;
		}
	}
	return true;
}

static bool check_where(struct kerf_topology *t, const struct kerf_pod *pod, const struct where *w,
			char *why, size_t len)
{
	clear_why(why, len);
	if (!t || !pod)
		return true;
	/* kube-scheduler runs PodTopologySpread before InterPodAffinity. */
	return spreads_ok(t, pod, w, NULL, why, len) && affinity_ok(t, pod, w, why, len);
}

bool kerf_topology_check(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index,
			 char *why, size_t len)
{
	struct where w = {node_index, NULL};

	if (t && node_index >= t->n_nodes) {
		set_why(why, len, "no node %zu", node_index);
		return false;
	}
	return check_where(t, pod, &w, why, len);
}

bool kerf_topology_check_labels(struct kerf_topology *t, const struct kerf_pod *pod,
				const struct kerf_labels *node_labels, char *why, size_t len)
{
	static const struct kerf_labels none;
	struct where w = {0, node_labels ? node_labels : &none};

	return check_where(t, pod, &w, why, len);
}

bool kerf_topology_spread_allows(struct kerf_topology *t, const struct kerf_pod *pod,
				 const char *key, const char *domain_value, char *why, size_t len)
{
	struct kerf_label one = {(char *)key, (char *)domain_value};
	struct kerf_label *items = &one;
	struct kerf_labels l = {1, &items};
	struct where w = {0, &l};

	clear_why(why, len);
	if (!t || !pod || !key || !domain_value)
		return true;
	return spreads_ok(t, pod, &w, key, why, len);
}

bool kerf_topology_fits(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index,
			char *why, size_t len)
{
	static const struct kerf_taint cordon = {(char *)"node.kubernetes.io/unschedulable", NULL,
						 KERF_EFFECT_NO_SCHEDULE};
	const struct tnode *n;
	struct kerf_resources free_res;

	clear_why(why, len);
	if (!t || !pod)
		return true;
	if (node_index >= t->n_nodes) {
		set_why(why, len, "no node %zu", node_index);
		return false;
	}
	n = &t->nodes[node_index];
	if (pod->node_name && strcmp(pod->node_name, n->name) != 0) {
		set_why(why, len, "node(s) didn't match the requested node name");
		return false;
	}
	if (n->unschedulable && !kerf_tolerations_tolerate(&pod->tolerations, &cordon)) {
		set_why(why, len, "node(s) were unschedulable");
		return false;
	}
	free_res = n->allocatable;
	kerf_resources_sub(&free_res, &n->requested);
	return kerf_pod_tolerates(pod, &n->taints, why, len) &&
	       kerf_pod_matches_node_labels(pod, &n->labels, why, len) &&
	       kerf_pod_host_ports_free(pod, n->ports, n->n_ports, why, len) &&
	       kerf_pod_fits_resources(pod, &free_res, why, len) &&
	       kerf_topology_check(t, pod, node_index, why, len);
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct kerf_domain_count *)a)->value,
		      ((const struct kerf_domain_count *)b)->value);
}

int kerf_topology_spread_domains(struct kerf_topology *t, const struct kerf_pod *pod,
				 size_t spread, struct kerf_domain_count **out, size_t *n,
				 struct kerf_error *err)
{
	struct counter *c;
	const struct tkey *k;
	struct kerf_domain_count *v;
	size_t m = 0;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!t || !pod || !out || !n || spread >= pod->n_spreads)
		return kerf_error_set(err, KERF_E_INVALID, "no spread constraint %zu", spread);
	c = spread_counter(t, pod, pod->spreads[spread]);
	k = &t->keys[c->keys[0]];
	if (k->domains.n == 0)
		return 0;
	v = xcalloc(k->domains.n, sizeof(*v));
	for (size_t i = 0; i < k->domains.n; i++) {
		if (!domain_counts(k, c, pod, i))
			continue;
		v[m].value = k->domains.items[i];
		v[m].count = count_at(t, c, 0, (long)i);
		m++;
	}
	if (m == 0) {
		free(v);
		return 0;
	}
	qsort(v, m, sizeof(*v), cmp_domain);
	*out = v;
	*n = m;
	return 0;
}
