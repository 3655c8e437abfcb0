/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_objects.c - the simulated API server's bookkeeping: snapshots of
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

/* Adds each of src's taints to dst, replacing one with the same key and effect. */
void simc_taints_add_all(struct kerf_taints *dst, const struct kerf_taints *src)
{
	for (size_t i = 0; i < src->n; i++)
		kerf_taints_add(dst, src->items[i]);
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
		return kerf_node_copy(object);
	case KERF_OBJ_NODECLAIM:
		return kerf_nodeclaim_copy(object);
	case KERF_OBJ_NODEPOOL:
		return kerf_nodepool_copy(object);
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
		kerf_nodepool_free(object);
		break;
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
