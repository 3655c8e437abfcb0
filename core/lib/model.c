/*
 * model.c - freeing the shared model structs, the sorted label map and the
 * enum names.
 *
 * Every clear function leaves its object zeroed, so clearing twice or freeing
 * after a clear is harmless; that keeps error paths in the parsers simple.
 */
#include <stdlib.h>
#include <string.h>

#include <kerf/doc.h>
#include <kerf/types.h>

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
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

void kerf_labels_clear(struct kerf_labels *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Index of key, or of the slot it would be inserted at (*found false). */
static size_t labels_find(const struct kerf_labels *l, const char *key, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->items[mid].key, key);
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
	return found ? l->items[i].value : NULL;
}

int kerf_labels_set(struct kerf_labels *l, const char *key, const char *value)
{
	bool found;
	size_t i;
	char *v, *k;
	struct kerf_label *items;

	if (!l || !key || !value)
		return KERF_E_INVALID;
	i = labels_find(l, key, &found);
	v = dup_str(value);
	if (!v)
		return KERF_E_NOMEM;
	if (found) {
		free(l->items[i].value);
		l->items[i].value = v;
		return 0;
	}
	k = dup_str(key);
	items = k ? realloc(l->items, (l->n + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(k);
		free(v);
		return KERF_E_NOMEM;
	}
	memmove(&items[i + 1], &items[i], (l->n - i) * sizeof(*items));
	items[i].key = k;
	items[i].value = v;
	l->items = items;
	l->n++;
	return 0;
}

/* -------------------------------------------------- requirements, taints */

void kerf_requirements_clear(struct kerf_requirements *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].key);
		free_strv(r->items[i].values, r->items[i].n_values);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

void kerf_taints_clear(struct kerf_taints *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].key);
		free(t->items[i].value);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}

void kerf_tolerations_clear(struct kerf_tolerations *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].key);
		free(t->items[i].value);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}

void kerf_meta_clear(struct kerf_meta *m)
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
	memset(m, 0, sizeof(*m));
}

/* --------------------------------------------------------------- pods */

static void label_selector_clear(struct kerf_label_selector *s)
{
	kerf_labels_clear(&s->match_labels);
	kerf_requirements_clear(&s->match_expressions);
}

static void pod_affinity_term_clear(struct kerf_pod_affinity_term *t)
{
	label_selector_clear(&t->selector);
	free_strv(t->namespaces, t->n_namespaces);
	free(t->topology_key);
	memset(t, 0, sizeof(*t));
}

static void pod_affinity_terms_free(struct kerf_pod_affinity_term *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		pod_affinity_term_clear(&t[i]);
	free(t);
}

static void weighted_terms_free(struct kerf_weighted_pod_affinity_term *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		pod_affinity_term_clear(&t[i].term);
	free(t);
}

void kerf_pod_free(struct kerf_pod *p)
{
	if (!p)
		return;
	kerf_meta_clear(&p->meta);
	free(p->node_name);
	free(p->priority_class);
	kerf_labels_clear(&p->node_selector);
	if (p->required_terms) {
		for (size_t i = 0; i < p->n_required_terms; i++)
			kerf_requirements_clear(&p->required_terms[i]);
		free(p->required_terms);
	}
	if (p->preferred_terms) {
		for (size_t i = 0; i < p->n_preferred_terms; i++)
			kerf_requirements_clear(&p->preferred_terms[i].preference);
		free(p->preferred_terms);
	}
	kerf_tolerations_clear(&p->tolerations);
	if (p->spreads) {
		for (size_t i = 0; i < p->n_spreads; i++) {
			free(p->spreads[i].topology_key);
			label_selector_clear(&p->spreads[i].selector);
		}
		free(p->spreads);
	}
	pod_affinity_terms_free(p->affinity, p->n_affinity);
	pod_affinity_terms_free(p->anti_affinity, p->n_anti_affinity);
	weighted_terms_free(p->preferred_affinity, p->n_preferred_affinity);
	weighted_terms_free(p->preferred_anti_affinity, p->n_preferred_anti_affinity);
	if (p->host_ports) {
		for (size_t i = 0; i < p->n_host_ports; i++)
			free(p->host_ports[i].host_ip);
		free(p->host_ports);
	}
	free(p);
}

/* ------------------------------------------------- nodes and NodePools */

void kerf_node_free(struct kerf_node *n)
{
	if (!n)
		return;
	kerf_meta_clear(&n->meta);
	free(n->provider_id);
	kerf_taints_clear(&n->taints);
	free(n);
}

static void node_class_ref_clear(struct kerf_node_class_ref *r)
{
	free(r->group);
	free(r->kind);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

void kerf_nodepool_free(struct kerf_nodepool *np)
{
	if (!np)
		return;
	kerf_meta_clear(&np->meta);
	kerf_labels_clear(&np->template_labels);
	kerf_labels_clear(&np->template_annotations);
	node_class_ref_clear(&np->node_class_ref);
	kerf_requirements_clear(&np->requirements);
	kerf_taints_clear(&np->taints);
	kerf_taints_clear(&np->startup_taints);
	if (np->budgets) {
		for (size_t i = 0; i < np->n_budgets; i++)
			free(np->budgets[i].schedule);
		free(np->budgets);
	}
	free(np);
}

void kerf_nodeclaim_free(struct kerf_nodeclaim *nc)
{
	if (!nc)
		return;
	kerf_meta_clear(&nc->meta);
	free(nc->nodepool);
	node_class_ref_clear(&nc->node_class_ref);
	kerf_requirements_clear(&nc->requirements);
	kerf_taints_clear(&nc->taints);
	kerf_taints_clear(&nc->startup_taints);
	free(nc->provider_id);
	free(nc->node_name);
	free(nc->image_id);
	free(nc);
}

/* --------------------------------------------------------- node classes */

void kerf_node_class_free(struct kerf_node_class *nc)
{
	if (!nc)
		return;
	kerf_meta_clear(&nc->meta);
	node_class_ref_clear(&nc->ref);
	kerf_doc_free(nc->doc);
	free(nc);
}

/* ------------------------------------------------------ instance types */

void kerf_instance_type_clear(struct kerf_instance_type *it)
{
	if (!it)
		return;
	free(it->name);
	kerf_requirements_clear(&it->requirements);
	if (it->offerings) {
		for (size_t i = 0; i < it->n_offerings; i++) {
			free(it->offerings[i].zone);
			free(it->offerings[i].reservation_id);
		}
		free(it->offerings);
	}
	memset(it, 0, sizeof(*it));
}

void kerf_instance_type_list_free(struct kerf_instance_type_list *l)
{
	if (!l)
		return;
	if (l->items) {
		for (size_t i = 0; i < l->n; i++)
			kerf_instance_type_clear(&l->items[i]);
		free(l->items);
	}
	free(l);
}

void kerf_instance_clear(struct kerf_instance *in)
{
	if (!in)
		return;
	free(in->provider_id);
	free(in->instance_type);
	free(in->zone);
	free(in->image_id);
	kerf_labels_clear(&in->tags);
	free(in->state);
	memset(in, 0, sizeof(*in));
}

void kerf_instance_free(struct kerf_instance *in)
{
	if (!in)
		return;
	kerf_instance_clear(in);
	free(in);
}

void kerf_instance_list_free(struct kerf_instance_list *l)
{
	if (!l)
		return;
	if (l->items) {
		for (size_t i = 0; i < l->n; i++)
			kerf_instance_clear(&l->items[i]);
		free(l->items);
	}
	free(l);
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
