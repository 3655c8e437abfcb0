/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.c - the controllers' shared records and indexes (state.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "state.h"

/* The pods bound to one node, unordered; `node` is the map's key. */
struct pod_list {
	char *node;
	size_t n, cap;
	struct pod_rec **items;
};

void state_init(struct cluster_state *st)
{
	memset(st, 0, sizeof(*st));
}

void state_reasons_free(size_t n, struct prov_reason *r)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].nodepool);
		free(r[i].text);
	}
	free(r);
}

static void pod_rec_free(struct pod_rec *r)
{
	kerf_pod_free(r->pod);
	state_reasons_free(r->n_reasons, r->reasons);
	free(r->key);
	free(r);
}

static void pod_list_free(void *v)
{
	struct pod_list *l = v;
	free(l->node);
	free(l->items);
	free(l);
}

static void claim_rec_free(struct claim_rec *c)
{
	kerf_nodeclaim_free(c->claim);
	kerf_labels_clear(&c->labels);
	free(c->type_name);
	free(c->zone);
	free(c->node_name);
	free(c);
}

static void free_nodeclaim(void *v)
{
	kerf_nodeclaim_free(v);
}

static void free_nodepool(void *v)
{
	kerf_nodepool_free(v);
}

static void free_node_class(void *v)
{
	kerf_node_class_free(v);
}

void state_clear(struct cluster_state *st)
{
	for (size_t i = 0; i < st->n_pods; i++)
		pod_rec_free(st->pods[i]);
	free(st->pods);
	for (size_t i = 0; i < st->n_nodes; i++) {
		kerf_node_free(st->nodes[i]->node);
		free(st->nodes[i]);
	}
	free(st->nodes);
	for (size_t i = 0; i < st->n_claims; i++)
		claim_rec_free(st->claims[i]);
	free(st->claims);
	for (size_t i = 0; i < st->n_ds; i++) {
		kerf_pod_free(st->ds[i].tmpl);
		free(st->ds[i].key);
	}
	free(st->ds);
	hmap_clear(&st->pod_map, NULL);
	hmap_clear(&st->node_map, NULL);
	hmap_clear(&st->node_by_pid, NULL);
	hmap_clear(&st->claim_by_pid, NULL);
	hmap_clear(&st->claim_by_name, NULL);
	hmap_clear(&st->pods_by_node, pod_list_free);
	hmap_clear(&st->observed_claims, free_nodeclaim);
	hmap_clear(&st->nodepools, free_nodepool);
	hmap_clear(&st->node_classes, free_node_class);
	memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------ pods */

static char *pod_key(const struct kerf_meta *m)
{
	struct strbuf key;
	sb_init(&key);
	sb_printf(&key, "%s/%s", m->namespace_ ? m->namespace_ : "default", m->name);
	return sb_detach(&key);
}

static void unbind(struct cluster_state *st, struct pod_rec *r)
{
	if (!r->pod || !r->pod->node_name)
		return;
	struct pod_list *l = hmap_get_str(&st->pods_by_node, r->pod->node_name);
	for (size_t i = 0; l && i < l->n; i++)
		if (l->items[i] == r) {
			l->items[i] = l->items[--l->n];
			break;
		}
}

static void bind(struct cluster_state *st, struct pod_rec *r)
{
	if (!r->pod->node_name)
		return;
	struct pod_list *l = hmap_get_str(&st->pods_by_node, r->pod->node_name);
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		/* The key must outlive the pod that named the node first. */
		l->node = xstrdup(r->pod->node_name);
		hmap_set_str(&st->pods_by_node, l->node, l);
	}
	xgrow(l->items, l->cap, l->n + 1);
	l->items[l->n++] = r;
}

struct pod_rec *state_pod_upsert(struct cluster_state *st, const struct kerf_pod *pod)
{
	char *key = pod_key(pod->meta);
	struct pod_rec *r = hmap_get_str(&st->pod_map, key);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->key = key;
		r->at = st->n_pods;
		xgrow(st->pods, st->cap_pods, st->n_pods + 1);
		st->pods[st->n_pods++] = r;
		hmap_set_str(&st->pod_map, r->key, r);
	} else {
		free(key);
		unbind(st, r);
		kerf_pod_free(r->pod);
	}
	r->pod = kerf_pod_copy(pod);
	bind(st, r);
	return r;
}

struct pod_rec *state_pod(const struct cluster_state *st, const struct kerf_pod *pod)
{
	char *key = pod_key(pod->meta);
	struct pod_rec *r = hmap_get_str(&st->pod_map, key);
	free(key);
	return r;
}

bool state_pod_remove(struct cluster_state *st, const struct kerf_pod *pod)
{
	char *key = pod_key(pod->meta);
	struct pod_rec *r = hmap_get_str(&st->pod_map, key);
	free(key);
	if (!r)
		return false;
	unbind(st, r);
	hmap_del_str(&st->pod_map, r->key);
	st->pods[r->at] = st->pods[--st->n_pods];
	st->pods[r->at]->at = r->at;
	pod_rec_free(r);
	return true;
}

size_t state_pods_on_node(const struct cluster_state *st, const char *node,
			  struct pod_rec *const **out)
{
	const struct pod_list *l = hmap_get_str(&st->pods_by_node, node);
	*out = l ? l->items : NULL;
	return l ? l->n : 0;
}

/* ----------------------------------------------------------------- nodes */

struct node_rec *state_node(const struct cluster_state *st, const char *name)
{
	return hmap_get_str(&st->node_map, name);
}

struct node_rec *state_node_by_pid(const struct cluster_state *st, const char *provider_id)
{
	return hmap_get_str(&st->node_by_pid, provider_id);
}

static void node_unindex(struct cluster_state *st, struct node_rec *r)
{
	hmap_del_str(&st->node_map, r->node->meta->name);
	if (r->node->provider_id && hmap_get_str(&st->node_by_pid, r->node->provider_id) == r)
		hmap_del_str(&st->node_by_pid, r->node->provider_id);
}

struct node_rec *state_node_upsert(struct cluster_state *st, const struct kerf_node *node)
{
	struct node_rec *r = hmap_get_str(&st->node_map, node->meta->name);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->at = st->n_nodes;
		xgrow(st->nodes, st->cap_nodes, st->n_nodes + 1);
		st->nodes[st->n_nodes++] = r;
	} else {
		node_unindex(st, r);
		kerf_node_free(r->node);
	}
	r->node = kerf_node_copy(node);
	hmap_set_str(&st->node_map, r->node->meta->name, r);
	if (r->node->provider_id)
		hmap_set_str(&st->node_by_pid, r->node->provider_id, r);
	return r;
}

bool state_node_remove(struct cluster_state *st, const char *name)
{
	struct node_rec *r = hmap_get_str(&st->node_map, name);
	if (!r)
		return false;
	node_unindex(st, r);
	st->nodes[r->at] = st->nodes[--st->n_nodes];
	st->nodes[r->at]->at = r->at;
	kerf_node_free(r->node);
	free(r);
	return true;
}

/* ------------------------------------------------------------ DaemonSets */

static size_t ds_find(const struct cluster_state *st, const char *key)
{
	size_t i = 0;
	while (i < st->n_ds && strcmp(st->ds[i].key, key) != 0)
		i++;
	return i;
}

void state_ds_set(struct cluster_state *st, const struct kerf_pod *ds)
{
	char *key = pod_key(ds->meta);
	size_t i = ds_find(st, key);
	if (i == st->n_ds) {
		xgrow(st->ds, st->cap_ds, st->n_ds + 1);
		st->ds[st->n_ds].key = key;
		st->ds[st->n_ds].tmpl = NULL;
		st->n_ds++;
	} else {
		free(key);
		kerf_pod_free(st->ds[i].tmpl);
	}
	st->ds[i].tmpl = kerf_pod_copy(ds);
}

void state_ds_remove(struct cluster_state *st, const struct kerf_pod *ds)
{
	char *key = pod_key(ds->meta);
	size_t i = ds_find(st, key);
	free(key);
	if (i == st->n_ds)
		return;
	kerf_pod_free(st->ds[i].tmpl);
	free(st->ds[i].key);
	memmove(&st->ds[i], &st->ds[i + 1], (st->n_ds - i - 1) * sizeof(*st->ds));
	st->n_ds--;
}

/* ---------------------------------------------------------------- claims */

void state_claim_add(struct cluster_state *st, struct claim_rec *c)
{
	xgrow(st->claims, st->cap_claims, st->n_claims + 1);
	st->claims[st->n_claims++] = c;
	hmap_set_str(&st->claim_by_name, c->claim->meta->name, c);
	state_claim_set_pid(st, c);
}

void state_claim_set_pid(struct cluster_state *st, struct claim_rec *c)
{
	if (c->claim->provider_id && !c->gone)
		hmap_set_str(&st->claim_by_pid, c->claim->provider_id, c);
}

void state_claim_end(struct cluster_state *st, struct claim_rec *c, kerf_mono_ms_t now)
{
	if (c->gone)
		return;
	c->gone = true;
	c->ended_ms = now;
	if (hmap_get_str(&st->claim_by_name, c->claim->meta->name) == c)
		hmap_del_str(&st->claim_by_name, c->claim->meta->name);
	if (c->claim->provider_id && hmap_get_str(&st->claim_by_pid, c->claim->provider_id) == c)
		hmap_del_str(&st->claim_by_pid, c->claim->provider_id);
	for (size_t i = 0; i < st->n_pods; i++)
		if (st->pods[i]->nominated == c) {
			st->pods[i]->nominated = NULL;
			st->pods[i]->refused = false;
		}
}

struct claim_rec *state_claim_by_name(const struct cluster_state *st, const char *name)
{
	return hmap_get_str(&st->claim_by_name, name);
}

struct claim_rec *state_claim_by_pid(const struct cluster_state *st, const char *provider_id)
{
	return hmap_get_str(&st->claim_by_pid, provider_id);
}

struct claim_rec *state_claim_of_node(const struct cluster_state *st, const struct kerf_node *n)
{
	return n->provider_id ? hmap_get_str(&st->claim_by_pid, n->provider_id) : NULL;
}

/* ------------------------------------------------- what the cluster lists */

/* Replaces the copy kept under the object's name; its key lives in the copy. */
static void observe(struct hmap *m, kerf_event_type type, const struct kerf_meta *meta,
		    void *copy, void (*free_fn)(void *))
{
	void *old = hmap_del_str(m, meta->name);
	if (old)
		free_fn(old);
	if (type == KERF_EVENT_DELETED)
		free_fn(copy);
	else
		hmap_set_str(m, meta->name, copy);
}

void state_observe(struct cluster_state *st, kerf_event_type type, kerf_object_kind kind,
		   const void *object)
{
	if ((unsigned)kind >= STATE_N_KINDS)
		return;
	if (type == KERF_EVENT_SYNCED) {
		st->synced[kind] = true;
		return;
	}
	if (!object)
		return;
	if (kind == KERF_OBJ_NODECLAIM) {
		struct kerf_nodeclaim *c = kerf_nodeclaim_copy(object);
		observe(&st->observed_claims, type, c->meta, c, free_nodeclaim);
	} else if (kind == KERF_OBJ_NODEPOOL) {
		struct kerf_nodepool *np = kerf_nodepool_copy(object);
		observe(&st->nodepools, type, np->meta, np, free_nodepool);
	} else if (kind == KERF_OBJ_NODE_CLASS) {
		struct kerf_node_class *nc = kerf_node_class_copy(object);
		observe(&st->node_classes, type, nc->meta, nc, free_node_class);
	}
}

const struct kerf_nodeclaim *state_observed_claim(const struct cluster_state *st,
						  const char *name)
{
	return hmap_get_str(&st->observed_claims, name);
}

bool state_synced(const struct cluster_state *st)
{
	for (size_t k = 0; k < STATE_N_KINDS; k++)
		if (!st->synced[k])
			return false;
	return true;
}

bool state_apply(struct cluster_state *st, kerf_event_type type, kerf_object_kind kind,
		 const void *object)
{
	if ((unsigned)kind >= STATE_N_KINDS)
		return false;
	st->events++;
	if (kind == KERF_OBJ_DAEMONSET)
		st->ds_listed = true;
	if (type == KERF_EVENT_SYNCED || !object) {
		state_observe(st, type, kind, object);
		return true;
	}
	const struct kerf_meta *m = kerf_object_meta(kind, object);
	if (!m || !m->name)
		return false;
	switch (kind) {
	case KERF_OBJ_POD:
		if (type == KERF_EVENT_DELETED)
			state_pod_remove(st, object);
		else
			state_pod_upsert(st, object);
		break;
	case KERF_OBJ_NODE:
		if (type == KERF_EVENT_DELETED)
			state_node_remove(st, m->name);
		else
			state_node_upsert(st, object);
		break;
	case KERF_OBJ_DAEMONSET:
		if (type == KERF_EVENT_DELETED)
			state_ds_remove(st, object);
		else
			state_ds_set(st, object);
		break;
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODECLAIM:
	case KERF_OBJ_NODE_CLASS:
		state_observe(st, type, kind, object);
		break;
	}
	return true;
}
