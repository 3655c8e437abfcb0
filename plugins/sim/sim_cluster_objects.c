/*
 * sim_cluster_objects.c - the simulated API server's bookkeeping: deep copies of
 * objects, fresh metadata and resourceVersions, and the change events
 * delivered to the sink or queued until the next poll.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"

/* ------------------------------------------------------------ helpers */

static char *sdup(const struct kerf_host *h, const char *s)
{
	return s ? h->strdup(h->ctx, s) : NULL;
}

void simc_replace(const struct kerf_host *h, char **dst, const char *s)
{
	h->free(h->ctx, *dst);
	*dst = sdup(h, s);
}

void simc_labels_copy(struct kerf_labels *dst, const struct kerf_labels *src)
{
	for (size_t i = 0; i < src->n; i++)
		kerf_labels_set(dst, src->items[i].key, src->items[i].value);
}

void simc_taints_copy(struct kerf_taints *dst, const struct kerf_taints *src)
{
	for (size_t i = 0; i < src->n; i++)
		kerf_taints_add(dst, &src->items[i]);
}

static void requirements_copy(const struct kerf_host *h, struct kerf_requirements *dst,
			      const struct kerf_requirements *src)
{
	dst->n = src->n;
	dst->items = h->calloc(h->ctx, src->n ? src->n : 1, sizeof(*dst->items));
	for (size_t i = 0; i < src->n; i++) {
		const struct kerf_requirement *r = &src->items[i];
		struct kerf_requirement *d = &dst->items[i];

		*d = *r;
		d->key = sdup(h, r->key);
		d->values = h->calloc(h->ctx, r->n_values ? r->n_values : 1, sizeof(*d->values));
		for (size_t j = 0; j < r->n_values; j++)
			d->values[j] = sdup(h, r->values[j]);
	}
}

static void meta_copy(const struct kerf_host *h, struct kerf_meta *d, const struct kerf_meta *s)
{
	*d = *s;
	d->api_version = sdup(h, s->api_version);
	d->kind = sdup(h, s->kind);
	d->name = sdup(h, s->name);
	d->namespace_ = sdup(h, s->namespace_);
	d->uid = sdup(h, s->uid);
	d->resource_version = sdup(h, s->resource_version);
	memset(&d->labels, 0, sizeof(d->labels));
	memset(&d->annotations, 0, sizeof(d->annotations));
	simc_labels_copy(&d->labels, &s->labels);
	simc_labels_copy(&d->annotations, &s->annotations);
	d->finalizers =
	    h->calloc(h->ctx, s->n_finalizers ? s->n_finalizers : 1, sizeof(*d->finalizers));
	for (size_t i = 0; i < s->n_finalizers; i++)
		d->finalizers[i] = sdup(h, s->finalizers[i]);
	d->owner_kind = sdup(h, s->owner_kind);
	d->owner_name = sdup(h, s->owner_name);
}

static struct kerf_node *node_copy(const struct kerf_host *h, const struct kerf_node *n)
{
	struct kerf_node *d = h->calloc(h->ctx, 1, sizeof(*d));

	*d = *n;
	meta_copy(h, &d->meta, &n->meta);
	d->provider_id = sdup(h, n->provider_id);
	memset(&d->taints, 0, sizeof(d->taints));
	simc_taints_copy(&d->taints, &n->taints);
	return d;
}

static void ref_copy(const struct kerf_host *h, struct kerf_node_class_ref *d,
		     const struct kerf_node_class_ref *s)
{
	d->group = sdup(h, s->group);
	d->kind = sdup(h, s->kind);
	d->name = sdup(h, s->name);
}

struct kerf_nodeclaim *simc_claim_copy(const struct kerf_host *h, const struct kerf_nodeclaim *c)
{
	struct kerf_nodeclaim *d = h->calloc(h->ctx, 1, sizeof(*d));

	*d = *c;
	meta_copy(h, &d->meta, &c->meta);
	d->nodepool = sdup(h, c->nodepool);
	ref_copy(h, &d->node_class_ref, &c->node_class_ref);
	requirements_copy(h, &d->requirements, &c->requirements);
	memset(&d->taints, 0, sizeof(d->taints));
	memset(&d->startup_taints, 0, sizeof(d->startup_taints));
	simc_taints_copy(&d->taints, &c->taints);
	simc_taints_copy(&d->startup_taints, &c->startup_taints);
	d->provider_id = sdup(h, c->provider_id);
	d->node_name = sdup(h, c->node_name);
	d->image_id = sdup(h, c->image_id);
	return d;
}

int64_t simc_now_ms(const struct sim_cluster *c)
{
	return c->h->wall_ms(c->h->ctx);
}

/* A new resourceVersion: one counter for every object, as etcd's revision. */
void simc_touch(struct sim_cluster *c, struct kerf_meta *m)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, ++c->resource_version);
	simc_replace(c->h, &m->resource_version, buf);
}

void simc_new_meta(struct sim_cluster *c, struct kerf_meta *m, const char *api_version,
		   const char *kind, int64_t at_ms)
{
	char buf[40];

	simc_replace(c->h, &m->api_version, api_version);
	simc_replace(c->h, &m->kind, kind);
	snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012" PRIx64, ++c->uids);
	simc_replace(c->h, &m->uid, buf);
	m->creation_ms = at_ms;
	m->deletion_ms = 0;
	simc_touch(c, m);
}

/* ------------------------------------------------------------- events */

static void *snapshot(const struct sim_cluster *c, kerf_object_kind kind, const void *object)
{
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		return kerf_pod_copy(object);
	case KERF_OBJ_NODE:
		return node_copy(c->h, object);
	case KERF_OBJ_NODECLAIM:
		return simc_claim_copy(c->h, object);
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		break;
	}
	return NULL;
}

void simc_snapshot_free(kerf_object_kind kind, void *object)
{
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		kerf_pod_free(object);
		break;
	case KERF_OBJ_NODE:
		kerf_node_free(object);
		break;
	case KERF_OBJ_NODECLAIM:
		kerf_nodeclaim_free(object);
		break;
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		break;
	}
}

/*
 * Reports a change: at once inside start()/poll(), else queued as a copy.
 * Before start() has listed, nothing: the initial lists carry the state.
 */
void simc_emit(struct sim_cluster *c, kerf_event_type type, kerf_object_kind kind,
	       const void *object)
{
	struct queued_event q;

	if (!c->started)
		return;
	if (c->delivering) {
		c->sink.on_object(c->sink.ctx, type, kind, object);
		return;
	}
	q.type = type;
	q.kind = kind;
	q.object = snapshot(c, kind, object);
	PUSH(c->h, c->queue, c->n_queue, c->cap_queue, q);
}

void simc_flush_queue(struct sim_cluster *c)
{
	for (size_t i = 0; i < c->n_queue; i++) {
		struct queued_event *q = &c->queue[i];
		c->sink.on_object(c->sink.ctx, q->type, q->kind, q->object);
		simc_snapshot_free(q->kind, q->object);
	}
	c->n_queue = 0;
}
