/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.c - the shared model's constructors, copies and frees, the sorted
 * label map and the enum names.
 *
 * Objects are allocated here at this build's size so that a plugin built
 * against an older minor still gets whole objects (kerf/types.h).  Every
 * clear function leaves its list empty, so clearing twice is harmless;
 * that keeps error paths in the parsers simple.
 */
#include <stdlib.h>
#include <string.h>

#include <kerf/cluster.h>
#include <kerf/doc.h>
#include <kerf/provider.h>
#include <kerf/types.h>

#include "util.h"

/* Frees every element of the pointer array (arr, n) with fn, then the array. */
#define FREE_ALL(arr, n, fn)                                                                       \
	do {                                                                                       \
		for (size_t i_ = 0; (arr) && i_ < (n); i_++)                                       \
			fn((arr)[i_]);                                                             \
		free(arr);                                                                         \
	} while (0)

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char **strv_copy(char *const *v, size_t n)
{
	char **d;

	if (!n)
		return NULL;
	d = xcalloc(n, sizeof(*d));
	for (size_t i = 0; i < n; i++)
		d[i] = dup_or_null(v[i]);
	return d;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* ------------------------------------------------------------- labels */

struct kerf_label *kerf_label_new(void)
{
	return xcalloc(1, sizeof(struct kerf_label));
}

void kerf_label_free(struct kerf_label *l)
{
	if (!l)
		return;
	free(l->key);
	free(l->value);
	free(l);
}

void kerf_labels_clear(struct kerf_labels *l)
{
	if (!l)
		return;
	FREE_ALL(l->items, l->n, kerf_label_free);
	memset(l, 0, sizeof(*l));
}

/* Index of key, or of the slot it would be inserted at (*found false). */
static size_t labels_find(const struct kerf_labels *l, const char *key, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->items[mid]->key, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const char *kerf_labels_get(const struct kerf_labels *l, const char *key)
{
	bool found;
	size_t i;

	if (!l || !key || l->n == 0)
		return NULL;
	i = labels_find(l, key, &found);
	return found ? l->items[i]->value : NULL;
}

int kerf_labels_set(struct kerf_labels *l, const char *key, const char *value)
{
	bool found;
	size_t i;
	char *v, *k;
	struct kerf_label *label, **items;

	if (!l || !key || !value)
		return KERF_E_INVALID;
	i = labels_find(l, key, &found);
	v = dup_str(value);
	if (!v)
		return KERF_E_NOMEM;
	if (found) {
		free(l->items[i]->value);
		l->items[i]->value = v;
		return 0;
	}
	k = dup_str(key);
	label = k ? calloc(1, sizeof(*label)) : NULL;
	items = label ? realloc(l->items, (l->n + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(label);
		free(k);
		free(v);
		return KERF_E_NOMEM;
	}
	label->key = k;
	label->value = v;
	memmove(&items[i + 1], &items[i], (l->n - i) * sizeof(*items));
	items[i] = label;
	l->items = items;
	l->n++;
	return 0;
}

void kerf_labels_copy(struct kerf_labels *dst, const struct kerf_labels *src)
{
	for (size_t i = 0; src && i < src->n; i++) {
		const struct kerf_label *s = src->items[i];
		if (kerf_labels_set(dst, s->key, s->value ? s->value : ""))
			abort();
	}
}

/* -------------------------------------------------------- requirements */

struct kerf_requirement *kerf_requirement_new(void)
{
	return xcalloc(1, sizeof(struct kerf_requirement));
}

void kerf_requirement_free(struct kerf_requirement *r)
{
	if (!r)
		return;
	free(r->key);
	free_strv(r->values, r->n_values);
	free(r);
}

void kerf_requirements_clear(struct kerf_requirements *r)
{
	if (!r)
		return;
	FREE_ALL(r->items, r->n, kerf_requirement_free);
	memset(r, 0, sizeof(*r));
}

struct kerf_requirement *kerf_requirements_append(struct kerf_requirements *r)
{
	struct kerf_requirement *e = kerf_requirement_new();

	xpush(r->items, r->n, e);
	return e;
}

void kerf_requirement_add_value(struct kerf_requirement *r, const char *value)
{
	xpush(r->values, r->n_values, xstrdup(value));
}

void kerf_requirements_copy(struct kerf_requirements *dst, const struct kerf_requirements *src)
{
	for (size_t i = 0; src && i < src->n; i++) {
		const struct kerf_requirement *s = src->items[i];
		struct kerf_requirement *d = kerf_requirements_append(dst);

		d->key = dup_or_null(s->key);
		d->op = s->op;
		d->n_values = s->n_values;
		d->values = strv_copy(s->values, s->n_values);
		d->min_values = s->min_values;
	}
}

/* -------------------------------------------------------------- taints */

struct kerf_taint *kerf_taint_new(void)
{
	return xcalloc(1, sizeof(struct kerf_taint));
}

void kerf_taint_free(struct kerf_taint *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->value);
	free(t);
}

void kerf_taints_clear(struct kerf_taints *t)
{
	if (!t)
		return;
	FREE_ALL(t->items, t->n, kerf_taint_free);
	memset(t, 0, sizeof(*t));
}

struct kerf_taint *kerf_taints_append(struct kerf_taints *t)
{
	struct kerf_taint *e = kerf_taint_new();

	xpush(t->items, t->n, e);
	return e;
}

void kerf_taints_copy(struct kerf_taints *dst, const struct kerf_taints *src)
{
	for (size_t i = 0; src && i < src->n; i++) {
		struct kerf_taint *d = kerf_taints_append(dst);

		d->key = dup_or_null(src->items[i]->key);
		d->value = dup_or_null(src->items[i]->value);
		d->effect = src->items[i]->effect;
	}
}

struct kerf_toleration *kerf_toleration_new(void)
{
	struct kerf_toleration *t = xcalloc(1, sizeof(*t));

	t->toleration_seconds = KERF_TOLERATION_FOREVER;
	return t;
}

void kerf_toleration_free(struct kerf_toleration *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->value);
	free(t);
}

void kerf_tolerations_clear(struct kerf_tolerations *t)
{
	if (!t)
		return;
	FREE_ALL(t->items, t->n, kerf_toleration_free);
	memset(t, 0, sizeof(*t));
}

struct kerf_toleration *kerf_tolerations_append(struct kerf_tolerations *t)
{
	struct kerf_toleration *e = kerf_toleration_new();

	xpush(t->items, t->n, e);
	return e;
}

/* ---------------------------------------------------------------- meta */

struct kerf_meta *kerf_meta_new(void)
{
	return xcalloc(1, sizeof(struct kerf_meta));
}

void kerf_meta_free(struct kerf_meta *m)
{
	if (!m)
		return;
	free(m->api_version);
	free(m->kind);
	free(m->name);
	free(m->namespace_);
	free(m->uid);
	free(m->resource_version);
	kerf_labels_clear(&m->labels);
	kerf_labels_clear(&m->annotations);
	free_strv(m->finalizers, m->n_finalizers);
	free(m->owner_kind);
	free(m->owner_name);
	free(m);
}

struct kerf_meta *kerf_meta_copy(const struct kerf_meta *m)
{
	struct kerf_meta *d;

	if (!m)
		return NULL;
	d = kerf_meta_new();
	d->api_version = dup_or_null(m->api_version);
	d->kind = dup_or_null(m->kind);
	d->name = dup_or_null(m->name);
	d->namespace_ = dup_or_null(m->namespace_);
	d->uid = dup_or_null(m->uid);
	d->resource_version = dup_or_null(m->resource_version);
	kerf_labels_copy(&d->labels, &m->labels);
	kerf_labels_copy(&d->annotations, &m->annotations);
	d->creation_ms = m->creation_ms;
	d->deletion_ms = m->deletion_ms;
	d->n_finalizers = m->n_finalizers;
	d->finalizers = strv_copy(m->finalizers, m->n_finalizers);
	d->owner_kind = dup_or_null(m->owner_kind);
	d->owner_name = dup_or_null(m->owner_name);
	return d;
}

/* --------------------------------------------------------------- pods */

struct kerf_label_selector *kerf_label_selector_new(void)
{
	return xcalloc(1, sizeof(struct kerf_label_selector));
}

void kerf_label_selector_free(struct kerf_label_selector *s)
{
	if (!s)
		return;
	kerf_labels_clear(&s->match_labels);
	kerf_requirements_clear(&s->match_expressions);
	free(s);
}

struct kerf_preferred_term *kerf_preferred_term_new(void)
{
	return xcalloc(1, sizeof(struct kerf_preferred_term));
}

void kerf_preferred_term_free(struct kerf_preferred_term *t)
{
	if (!t)
		return;
	kerf_requirements_clear(&t->preference);
	free(t);
}

struct kerf_pod_affinity_term *kerf_pod_affinity_term_new(void)
{
	struct kerf_pod_affinity_term *t = xcalloc(1, sizeof(*t));

	t->selector = kerf_label_selector_new();
	return t;
}

void kerf_pod_affinity_term_free(struct kerf_pod_affinity_term *t)
{
	if (!t)
		return;
	kerf_label_selector_free(t->selector);
	free_strv(t->namespaces, t->n_namespaces);
	free(t->topology_key);
	free(t);
}

struct kerf_weighted_pod_affinity_term *kerf_weighted_pod_affinity_term_new(void)
{
	struct kerf_weighted_pod_affinity_term *t = xcalloc(1, sizeof(*t));

	t->term = kerf_pod_affinity_term_new();
	return t;
}

void kerf_weighted_pod_affinity_term_free(struct kerf_weighted_pod_affinity_term *t)
{
	if (!t)
		return;
	kerf_pod_affinity_term_free(t->term);
	free(t);
}

struct kerf_topology_spread *kerf_topology_spread_new(void)
{
	struct kerf_topology_spread *s = xcalloc(1, sizeof(*s));

	s->selector = kerf_label_selector_new();
	return s;
}

void kerf_topology_spread_free(struct kerf_topology_spread *s)
{
	if (!s)
		return;
	free(s->topology_key);
	kerf_label_selector_free(s->selector);
	free(s);
}

struct kerf_host_port *kerf_host_port_new(void)
{
	return xcalloc(1, sizeof(struct kerf_host_port));
}

void kerf_host_port_free(struct kerf_host_port *p)
{
	if (!p)
		return;
	free(p->host_ip);
	free(p);
}

struct kerf_pod *kerf_pod_new(void)
{
	struct kerf_pod *p = xcalloc(1, sizeof(*p));

	p->meta = kerf_meta_new();
	p->termination_grace_period_ms = -1;
	return p;
}

static void requirements_free(struct kerf_requirements *r)
{
	kerf_requirements_clear(r);
	free(r);
}

void kerf_pod_free(struct kerf_pod *p)
{
	if (!p)
		return;
	kerf_meta_free(p->meta);
	free(p->node_name);
	free(p->priority_class);
	kerf_labels_clear(&p->node_selector);
	FREE_ALL(p->required_terms, p->n_required_terms, requirements_free);
	FREE_ALL(p->preferred_terms, p->n_preferred_terms, kerf_preferred_term_free);
	kerf_tolerations_clear(&p->tolerations);
	FREE_ALL(p->spreads, p->n_spreads, kerf_topology_spread_free);
	FREE_ALL(p->affinity, p->n_affinity, kerf_pod_affinity_term_free);
	FREE_ALL(p->anti_affinity, p->n_anti_affinity, kerf_pod_affinity_term_free);
	FREE_ALL(p->preferred_affinity, p->n_preferred_affinity,
		 kerf_weighted_pod_affinity_term_free);
	FREE_ALL(p->preferred_anti_affinity, p->n_preferred_anti_affinity,
		 kerf_weighted_pod_affinity_term_free);
	FREE_ALL(p->host_ports, p->n_host_ports, kerf_host_port_free);
	free(p);
}

struct kerf_requirements *kerf_pod_add_required_term(struct kerf_pod *p)
{
	struct kerf_requirements *e = xcalloc(1, sizeof(*e));

	xpush(p->required_terms, p->n_required_terms, e);
	return e;
}

struct kerf_preferred_term *kerf_pod_add_preferred_term(struct kerf_pod *p)
{
	struct kerf_preferred_term *e = kerf_preferred_term_new();

	xpush(p->preferred_terms, p->n_preferred_terms, e);
	return e;
}

struct kerf_topology_spread *kerf_pod_add_spread(struct kerf_pod *p)
{
	struct kerf_topology_spread *e = kerf_topology_spread_new();

	xpush(p->spreads, p->n_spreads, e);
	return e;
}

struct kerf_pod_affinity_term *kerf_pod_add_affinity(struct kerf_pod *p)
{
	struct kerf_pod_affinity_term *e = kerf_pod_affinity_term_new();

	xpush(p->affinity, p->n_affinity, e);
	return e;
}

struct kerf_pod_affinity_term *kerf_pod_add_anti_affinity(struct kerf_pod *p)
{
	struct kerf_pod_affinity_term *e = kerf_pod_affinity_term_new();

	xpush(p->anti_affinity, p->n_anti_affinity, e);
	return e;
}

struct kerf_weighted_pod_affinity_term *kerf_pod_add_preferred_affinity(struct kerf_pod *p)
{
	struct kerf_weighted_pod_affinity_term *e = kerf_weighted_pod_affinity_term_new();

	xpush(p->preferred_affinity, p->n_preferred_affinity, e);
	return e;
}

struct kerf_weighted_pod_affinity_term *kerf_pod_add_preferred_anti_affinity(struct kerf_pod *p)
{
	struct kerf_weighted_pod_affinity_term *e = kerf_weighted_pod_affinity_term_new();

	xpush(p->preferred_anti_affinity, p->n_preferred_anti_affinity, e);
	return e;
}

struct kerf_host_port *kerf_pod_add_host_port(struct kerf_pod *p)
{
	struct kerf_host_port *e = kerf_host_port_new();

	xpush(p->host_ports, p->n_host_ports, e);
	return e;
}

static struct kerf_label_selector *selector_copy(const struct kerf_label_selector *s)
{
	struct kerf_label_selector *d;

	if (!s)
		return NULL;
	d = kerf_label_selector_new();
	kerf_labels_copy(&d->match_labels, &s->match_labels);
	kerf_requirements_copy(&d->match_expressions, &s->match_expressions);
	return d;
}

static struct kerf_pod_affinity_term *affinity_term_copy(const struct kerf_pod_affinity_term *s)
{
	struct kerf_pod_affinity_term *d = xcalloc(1, sizeof(*d));

	d->selector = selector_copy(s->selector);
	d->n_namespaces = s->n_namespaces;
	d->namespaces = strv_copy(s->namespaces, s->n_namespaces);
	d->topology_key = dup_or_null(s->topology_key);
	return d;
}

static void weighted_copy(struct kerf_weighted_pod_affinity_term ***d, size_t *dn,
			  struct kerf_weighted_pod_affinity_term *const *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct kerf_weighted_pod_affinity_term *w = xcalloc(1, sizeof(*w));

		w->weight = s[i]->weight;
		w->term = s[i]->term ? affinity_term_copy(s[i]->term) : NULL;
		xpush(*d, *dn, w);
	}
}

struct kerf_pod *kerf_pod_copy(const struct kerf_pod *p)
{
	struct kerf_pod *d;

	if (!p)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->meta = kerf_meta_copy(p->meta);
	d->node_name = dup_or_null(p->node_name);
	d->phase = p->phase;
	d->unschedulable = p->unschedulable;
	d->daemonset = p->daemonset;
	d->do_not_disrupt = p->do_not_disrupt;
	d->priority = p->priority;
	d->priority_class = dup_or_null(p->priority_class);
	d->termination_grace_period_ms = p->termination_grace_period_ms;
	d->requests = p->requests;
	kerf_labels_copy(&d->node_selector, &p->node_selector);
	for (size_t i = 0; i < p->n_required_terms; i++)
		kerf_requirements_copy(kerf_pod_add_required_term(d), p->required_terms[i]);
	for (size_t i = 0; i < p->n_preferred_terms; i++) {
		struct kerf_preferred_term *t = kerf_pod_add_preferred_term(d);

		t->weight = p->preferred_terms[i]->weight;
		kerf_requirements_copy(&t->preference, &p->preferred_terms[i]->preference);
	}
	for (size_t i = 0; i < p->tolerations.n; i++) {
		const struct kerf_toleration *s = p->tolerations.items[i];
		struct kerf_toleration *t = kerf_tolerations_append(&d->tolerations);

		t->key = dup_or_null(s->key);
		t->op = s->op;
		t->value = dup_or_null(s->value);
		t->effect = s->effect;
		t->toleration_seconds = s->toleration_seconds;
	}
	for (size_t i = 0; i < p->n_spreads; i++) {
		const struct kerf_topology_spread *s = p->spreads[i];
		struct kerf_topology_spread *t = xcalloc(1, sizeof(*t));

		t->max_skew = s->max_skew;
		t->topology_key = dup_or_null(s->topology_key);
		t->when_unsatisfiable = s->when_unsatisfiable;
		t->selector = selector_copy(s->selector);
		t->min_domains = s->min_domains;
		xpush(d->spreads, d->n_spreads, t);
	}
	for (size_t i = 0; i < p->n_affinity; i++)
		xpush(d->affinity, d->n_affinity, affinity_term_copy(p->affinity[i]));
	for (size_t i = 0; i < p->n_anti_affinity; i++)
		xpush(d->anti_affinity, d->n_anti_affinity,
		      affinity_term_copy(p->anti_affinity[i]));
	weighted_copy(&d->preferred_affinity, &d->n_preferred_affinity, p->preferred_affinity,
		      p->n_preferred_affinity);
	weighted_copy(&d->preferred_anti_affinity, &d->n_preferred_anti_affinity,
		      p->preferred_anti_affinity, p->n_preferred_anti_affinity);
	for (size_t i = 0; i < p->n_host_ports; i++) {
		const struct kerf_host_port *s = p->host_ports[i];
		struct kerf_host_port *t = kerf_pod_add_host_port(d);

		t->port = s->port;
		memcpy(t->protocol, s->protocol, sizeof(t->protocol));
		t->host_ip = dup_or_null(s->host_ip);
	}
	return d;
}

/* --------------------------------------------------------------- nodes */

struct kerf_node *kerf_node_new(void)
{
	struct kerf_node *n = xcalloc(1, sizeof(*n));

	n->meta = kerf_meta_new();
	return n;
}

void kerf_node_free(struct kerf_node *n)
{
	if (!n)
		return;
	kerf_meta_free(n->meta);
	free(n->provider_id);
	kerf_taints_clear(&n->taints);
	free(n);
}

struct kerf_node *kerf_node_copy(const struct kerf_node *n)
{
	struct kerf_node *d;

	if (!n)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->meta = kerf_meta_copy(n->meta);
	d->provider_id = dup_or_null(n->provider_id);
	kerf_taints_copy(&d->taints, &n->taints);
	d->capacity = n->capacity;
	d->allocatable = n->allocatable;
	d->ready = n->ready;
	d->unschedulable = n->unschedulable;
	return d;
}

/* ----------------------------------------------- NodePools, NodeClaims */

struct kerf_budget *kerf_budget_new(void)
{
	return xcalloc(1, sizeof(struct kerf_budget));
}

void kerf_budget_free(struct kerf_budget *b)
{
	if (!b)
		return;
	free(b->schedule);
	free(b);
}

struct kerf_node_class_ref *kerf_node_class_ref_new(void)
{
	return xcalloc(1, sizeof(struct kerf_node_class_ref));
}

void kerf_node_class_ref_free(struct kerf_node_class_ref *r)
{
	if (!r)
		return;
	free(r->group);
	free(r->kind);
	free(r->name);
	free(r);
}

/* Karpenter's expireAfter when a spec leaves it out: 720h. */
#define DEFAULT_EXPIRE_AFTER_MS (720LL * 3600 * 1000)

struct kerf_nodepool *kerf_nodepool_new(void)
{
	struct kerf_nodepool *np = xcalloc(1, sizeof(*np));

	np->meta = kerf_meta_new();
	np->node_class_ref = kerf_node_class_ref_new();
	np->expire_after_ms = DEFAULT_EXPIRE_AFTER_MS;
	np->termination_grace_period_ms = -1;
	np->limit_nodes = -1;
	np->replicas = -1;
	return np;
}

void kerf_nodepool_free(struct kerf_nodepool *np)
{
	if (!np)
		return;
	kerf_meta_free(np->meta);
	kerf_labels_clear(&np->template_labels);
	kerf_labels_clear(&np->template_annotations);
	kerf_node_class_ref_free(np->node_class_ref);
	kerf_requirements_clear(&np->requirements);
	kerf_taints_clear(&np->taints);
	kerf_taints_clear(&np->startup_taints);
	FREE_ALL(np->budgets, np->n_budgets, kerf_budget_free);
	free(np);
}

static struct kerf_node_class_ref *ref_copy(const struct kerf_node_class_ref *r);

struct kerf_nodepool *kerf_nodepool_copy(const struct kerf_nodepool *np)
{
	struct kerf_nodepool *d;

	if (!np)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	*d = *np;
	d->meta = kerf_meta_copy(np->meta);
	memset(&d->template_labels, 0, sizeof(d->template_labels));
	memset(&d->template_annotations, 0, sizeof(d->template_annotations));
	kerf_labels_copy(&d->template_labels, &np->template_labels);
	kerf_labels_copy(&d->template_annotations, &np->template_annotations);
	d->node_class_ref = ref_copy(np->node_class_ref);
	memset(&d->requirements, 0, sizeof(d->requirements));
	memset(&d->taints, 0, sizeof(d->taints));
	memset(&d->startup_taints, 0, sizeof(d->startup_taints));
	kerf_requirements_copy(&d->requirements, &np->requirements);
	kerf_taints_copy(&d->taints, &np->taints);
	kerf_taints_copy(&d->startup_taints, &np->startup_taints);
	d->budgets = np->n_budgets ? xcalloc(np->n_budgets, sizeof(*d->budgets)) : NULL;
	for (size_t i = 0; i < np->n_budgets; i++) {
		d->budgets[i] = kerf_budget_new();
		*d->budgets[i] = *np->budgets[i];
		d->budgets[i]->schedule = dup_or_null(np->budgets[i]->schedule);
	}
	return d;
}

struct kerf_budget *kerf_nodepool_add_budget(struct kerf_nodepool *np)
{
	struct kerf_budget *e = kerf_budget_new();

	xpush(np->budgets, np->n_budgets, e);
	return e;
}

struct kerf_nodeclaim *kerf_nodeclaim_new(void)
{
	struct kerf_nodeclaim *nc = xcalloc(1, sizeof(*nc));

	nc->meta = kerf_meta_new();
	nc->node_class_ref = kerf_node_class_ref_new();
	nc->expire_after_ms = DEFAULT_EXPIRE_AFTER_MS;
	nc->termination_grace_period_ms = -1;
	return nc;
}

void kerf_nodeclaim_free(struct kerf_nodeclaim *nc)
{
	if (!nc)
		return;
	kerf_meta_free(nc->meta);
	free(nc->nodepool);
	kerf_node_class_ref_free(nc->node_class_ref);
	kerf_requirements_clear(&nc->requirements);
	kerf_taints_clear(&nc->taints);
	kerf_taints_clear(&nc->startup_taints);
	free(nc->provider_id);
	free(nc->node_name);
	free(nc->image_id);
	free(nc);
}

static struct kerf_node_class_ref *ref_copy(const struct kerf_node_class_ref *r)
{
	struct kerf_node_class_ref *d = kerf_node_class_ref_new();

	if (r) {
		d->group = dup_or_null(r->group);
		d->kind = dup_or_null(r->kind);
		d->name = dup_or_null(r->name);
	}
	return d;
}

struct kerf_nodeclaim *kerf_nodeclaim_copy(const struct kerf_nodeclaim *nc)
{
	struct kerf_nodeclaim *d;

	if (!nc)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->meta = kerf_meta_copy(nc->meta);
	d->nodepool = dup_or_null(nc->nodepool);
	d->node_class_ref = ref_copy(nc->node_class_ref);
	kerf_requirements_copy(&d->requirements, &nc->requirements);
	kerf_taints_copy(&d->taints, &nc->taints);
	kerf_taints_copy(&d->startup_taints, &nc->startup_taints);
	d->resource_requests = nc->resource_requests;
	d->expire_after_ms = nc->expire_after_ms;
	d->termination_grace_period_ms = nc->termination_grace_period_ms;
	d->state = nc->state;
	d->provider_id = dup_or_null(nc->provider_id);
	d->node_name = dup_or_null(nc->node_name);
	d->image_id = dup_or_null(nc->image_id);
	d->capacity = nc->capacity;
	d->allocatable = nc->allocatable;
	d->launched_ms = nc->launched_ms;
	d->registered_ms = nc->registered_ms;
	d->initialized_ms = nc->initialized_ms;
	d->last_pod_event_ms = nc->last_pod_event_ms;
	return d;
}

/* --------------------------------------------------------- node classes */

struct kerf_node_class *kerf_node_class_new(void)
{
	struct kerf_node_class *nc = xcalloc(1, sizeof(*nc));

	nc->meta = kerf_meta_new();
	nc->ref = kerf_node_class_ref_new();
	return nc;
}

struct kerf_node_class *kerf_node_class_copy(const struct kerf_node_class *nc)
{
	struct kerf_node_class *d;

	if (!nc)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->meta = kerf_meta_copy(nc->meta);
	d->ref = ref_copy(nc->ref);
	d->ready = nc->ready;
	d->doc = kerf_doc_copy(nc->doc);
	return d;
}

void kerf_node_class_free(struct kerf_node_class *nc)
{
	if (!nc)
		return;
	kerf_meta_free(nc->meta);
	kerf_node_class_ref_free(nc->ref);
	kerf_doc_free(nc->doc);
	free(nc);
}

/* ------------------------------------------------------ instance types */

struct kerf_offering *kerf_offering_new(void)
{
	return xcalloc(1, sizeof(struct kerf_offering));
}

void kerf_offering_free(struct kerf_offering *o)
{
	if (!o)
		return;
	free(o->zone);
	free(o->reservation_id);
	free(o);
}

struct kerf_instance_type *kerf_instance_type_new(void)
{
	return xcalloc(1, sizeof(struct kerf_instance_type));
}

void kerf_instance_type_free(struct kerf_instance_type *it)
{
	if (!it)
		return;
	free(it->name);
	kerf_requirements_clear(&it->requirements);
	FREE_ALL(it->offerings, it->n_offerings, kerf_offering_free);
	free(it);
}

struct kerf_offering *kerf_instance_type_add_offering(struct kerf_instance_type *it)
{
	struct kerf_offering *e = kerf_offering_new();

	xpush(it->offerings, it->n_offerings, e);
	return e;
}

struct kerf_instance_type_list *kerf_instance_type_list_new(void)
{
	return xcalloc(1, sizeof(struct kerf_instance_type_list));
}

void kerf_instance_type_list_free(struct kerf_instance_type_list *l)
{
	if (!l)
		return;
	FREE_ALL(l->items, l->n, kerf_instance_type_free);
	free(l);
}

struct kerf_instance_type *kerf_instance_type_list_append(struct kerf_instance_type_list *l)
{
	struct kerf_instance_type *e = kerf_instance_type_new();

	xpush(l->items, l->n, e);
	return e;
}

struct kerf_instance *kerf_instance_new(void)
{
	return xcalloc(1, sizeof(struct kerf_instance));
}

void kerf_instance_free(struct kerf_instance *in)
{
	if (!in)
		return;
	free(in->provider_id);
	free(in->instance_type);
	free(in->zone);
	free(in->image_id);
	kerf_labels_clear(&in->tags);
	free(in->state);
	free(in);
}

struct kerf_instance_list *kerf_instance_list_new(void)
{
	return xcalloc(1, sizeof(struct kerf_instance_list));
}

void kerf_instance_list_free(struct kerf_instance_list *l)
{
	if (!l)
		return;
	FREE_ALL(l->items, l->n, kerf_instance_free);
	free(l);
}

struct kerf_instance *kerf_instance_list_append(struct kerf_instance_list *l)
{
	struct kerf_instance *e = kerf_instance_new();

	xpush(l->items, l->n, e);
	return e;
}

/* -------------------------------------------------------------- events */

const struct kerf_meta *kerf_object_meta(kerf_object_kind kind, const void *object)
{
	if (!object)
		return NULL;
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		return ((const struct kerf_pod *)object)->meta;
	case KERF_OBJ_NODE:
		return ((const struct kerf_node *)object)->meta;
	case KERF_OBJ_NODEPOOL:
		return ((const struct kerf_nodepool *)object)->meta;
	case KERF_OBJ_NODECLAIM:
		return ((const struct kerf_nodeclaim *)object)->meta;
	case KERF_OBJ_NODE_CLASS:
		return ((const struct kerf_node_class *)object)->meta;
	}
	return NULL;
}

struct kerf_event *kerf_event_new(void)
{
	return xcalloc(1, sizeof(struct kerf_event));
}

void kerf_event_free(struct kerf_event *e)
{
	free(e);
}

struct kerf_instance_event *kerf_instance_event_new(void)
{
	return xcalloc(1, sizeof(struct kerf_instance_event));
}

void kerf_instance_event_free(struct kerf_instance_event *ev)
{
	if (!ev)
		return;
	free(ev->provider_id);
	free(ev->reason);
	free(ev);
}

/* -------------------------------------------------------------- names */

const char *kerf_operator_name(kerf_operator op)
{
	switch (op) {
	case KERF_OP_IN:
		return "In";
	case KERF_OP_NOT_IN:
		return "NotIn";
	case KERF_OP_EXISTS:
		return "Exists";
	case KERF_OP_DOES_NOT_EXIST:
		return "DoesNotExist";
	case KERF_OP_GT:
		return "Gt";
	case KERF_OP_LT:
		return "Lt";
	case KERF_OP_GTE:
		return "Gte";
	case KERF_OP_LTE:
		return "Lte";
	}
	return "Unknown";
}

const char *kerf_effect_name(kerf_taint_effect e)
{
	switch (e) {
	case KERF_EFFECT_ANY:
		return "";
	case KERF_EFFECT_NO_SCHEDULE:
		return "NoSchedule";
	case KERF_EFFECT_PREFER_NO_SCHEDULE:
		return "PreferNoSchedule";
	case KERF_EFFECT_NO_EXECUTE:
		return "NoExecute";
	}
	return "Unknown";
}

const char *kerf_capacity_type_name(kerf_capacity_type c)
{
	switch (c) {
	case KERF_CAPACITY_ON_DEMAND:
		return "on-demand";
	case KERF_CAPACITY_SPOT:
		return "spot";
	case KERF_CAPACITY_RESERVED:
		return "reserved";
	}
	return "unknown";
}
