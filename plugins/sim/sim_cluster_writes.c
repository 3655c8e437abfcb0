/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_writes.c - the cluster ops that write (NodeClaims, Nodes, evictions,
 * events) and the op table of the cluster kind, whose entries take struct
 * sim's lock around the op (the host calls writes from its launch workers
 * while the loop polls).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim.h"
#include "sim_cluster_int.h"

/* ------------------------------------------------------------ writes */

static int conflict(struct kerf_error *err, const char *what, const char *name, const char *have,
		    const char *given)
{
	return kerf_error_set(err, KERF_E_CONFLICT,
			      "sim: %s %s: resourceVersion %s is stale (now %s)", what, name, given,
			      have);
}

static bool stale(const struct kerf_meta *stored, const struct kerf_meta *given)
{
	return given->resource_version && stored->resource_version &&
	       strcmp(given->resource_version, stored->resource_version) != 0;
}

static int sim_create_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	struct kerf_nodeclaim *d;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NodeClaim without a name");
	if (simc_find_claim(c, claim->meta->name, NULL))
		return kerf_error_set(err, KERF_E_CONFLICT, "sim: NodeClaim %s already exists",
				      claim->meta->name);
	d = kerf_nodeclaim_copy(claim);
	simc_new_meta(c, d->meta, "karpenter.sh/v1", "NodeClaim", simc_now_ms(c));
	PUSH(c->h, c->claims, c->n_claims, c->cap_claims, d);
	c->w->dirty = true;
	simc_emit(c, KERF_EVENT_ADDED, KERF_OBJ_NODECLAIM, d);
	if (stored)
		*stored = kerf_nodeclaim_copy(d);
	return 0;
}

static void claim_remove(struct sim_cluster *c, size_t index)
{
	struct kerf_nodeclaim *d = c->claims[index];

	simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODECLAIM, d);
	kerf_nodeclaim_free(d);
	memmove(&c->claims[index], &c->claims[index + 1],
		(c->n_claims - index - 1) * sizeof(*c->claims));
	c->n_claims--;
	c->w->dirty = true;
}

static int sim_update_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	struct kerf_nodeclaim *old, *d;
	size_t index;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NodeClaim without a name");
	if (!simc_find_claim(c, claim->meta->name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no NodeClaim %s",
				      claim->meta->name);
	old = c->claims[index];
	if (stale(old->meta, claim->meta))
		return conflict(err, "NodeClaim", claim->meta->name, old->meta->resource_version,
				claim->meta->resource_version);
	d = kerf_nodeclaim_copy(claim);
	/* What the API server owns stays its own. */
	simc_replace(c->h, &d->meta->uid, old->meta->uid);
	simc_replace(c->h, &d->meta->api_version, old->meta->api_version);
	simc_replace(c->h, &d->meta->kind, old->meta->kind);
	d->meta->creation_ms = old->meta->creation_ms;
	d->meta->deletion_ms = old->meta->deletion_ms;
	simc_touch(c, d->meta);
	c->claims[index] = d;
	kerf_nodeclaim_free(old);
	c->w->dirty = true;
	if (stored)
		*stored = kerf_nodeclaim_copy(d);
	/* A claim being deleted goes once its last finalizer is removed. */
	if (d->meta->deletion_ms && d->meta->n_finalizers == 0)
		claim_remove(c, index);
	else
		simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODECLAIM, d);
	return 0;
}

int simc_claim_delete(struct sim_cluster *c, const char *name, struct kerf_error *err)
{
	struct kerf_nodeclaim *d;
	size_t index;

	if (!name || !simc_find_claim(c, name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no NodeClaim %s",
				      name ? name : "(null)");
	d = c->claims[index];
	if (d->meta->n_finalizers == 0) {
		claim_remove(c, index);
		return 0;
	}
	/* Finalizers hold it: it is marked for deletion, as the API server does. */
	if (!d->meta->deletion_ms) {
		d->meta->deletion_ms = simc_now_ms(c);
		simc_touch(c, d->meta);
		c->w->dirty = true;
		simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODECLAIM, d);
	}
	return 0;
}

/* metadata.finalizers as the writer gives them (KERF_CAP_CLUSTER_FINALIZERS). */
static void set_finalizers(struct sim_cluster *c, struct kerf_meta *dst,
			   const struct kerf_meta *src)
{
	for (size_t i = 0; i < dst->n_finalizers; i++)
		free(dst->finalizers[i]);
	free(dst->finalizers);
	dst->n_finalizers = 0;
	dst->finalizers = calloc(src->n_finalizers + 1, sizeof(char *));
	if (!dst->finalizers)
		abort();
	for (size_t i = 0; i < src->n_finalizers; i++)
		simc_replace(c->h, &dst->finalizers[dst->n_finalizers++], src->finalizers[i]);
}

static int sim_delete_nodeclaim(void *inst, const char *name, struct kerf_error *err)
{
	return simc_claim_delete(simc_cluster_of(inst), name, err);
}

static int sim_update_node(void *inst, const struct kerf_node *node, struct kerf_node **stored,
			   struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	struct sim_node *sn;
	struct kerf_node *n;

	if (!node || !node->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: Node without a name");
	sn = simc_find_node(c, node->meta->name, NULL);
	if (!sn)
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no Node %s", node->meta->name);
	n = sn->node;
	if (stale(n->meta, node->meta))
		return conflict(err, "Node", node->meta->name, n->meta->resource_version,
				node->meta->resource_version);
	kerf_labels_clear(&n->meta->labels);
	kerf_labels_copy(&n->meta->labels, &node->meta->labels);
	kerf_taints_clear(&n->taints);
	simc_taints_add_all(&n->taints, &node->taints);
	n->unschedulable = node->unschedulable;
	set_finalizers(c, n->meta, node->meta);
	simc_touch(c, n->meta);
	c->dirty = true;
	c->ds_dirty = true;
	c->w->dirty = true;
	if (stored)
		*stored = kerf_node_copy(n);
	/* A node being deleted goes once its last finalizer is removed. */
	if (n->meta->deletion_ms && n->meta->n_finalizers == 0) {
		size_t index;
		if (simc_find_node(c, n->meta->name, &index))
			simc_node_remove(c, index);
	} else {
		simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODE, n);
	}
	return 0;
}

int simc_node_delete(struct sim_cluster *c, const char *name, struct kerf_error *err)
{
	size_t index;

	struct sim_node *sn;

	if (!name || (sn = simc_find_node(c, name, &index)) == NULL)
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no Node %s",
				      name ? name : "(null)");
	if (sn->node->meta->n_finalizers == 0) {
		simc_node_remove(c, index);
		return 0;
	}
	if (!sn->node->meta->deletion_ms) {
		sn->node->meta->deletion_ms = simc_now_ms(c);
		simc_touch(c, sn->node->meta);
		c->w->dirty = true;
		simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODE, sn->node);
	}
	return 0;
}

static int sim_delete_node(void *inst, const char *name, struct kerf_error *err)
{
	return simc_node_delete(simc_cluster_of(inst), name, err);
}

static int sim_evict_pod(void *inst, const char *ns, const char *name, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	const struct sim_pdb *b;
	struct sim_pod *sp;
	size_t index;

	if (!name || (sp = simc_find_pod(c, ns, name, &index)) == NULL)
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no pod %s/%s",
				      ns ? ns : "default", name ? name : "(null)");
	if ((b = simc_pdb_blocking(c, sp)) != NULL) {
		c->evictions_refused++;
		return kerf_error_set(err, KERF_E_THROTTLED,
				      "sim: cannot evict pod %s/%s: it would violate the pod's "
				      "disruption budget %s/%s",
				      ns ? ns : "default", name, b->namespace_, b->name);
	}
	c->evictions++;
	if (!sp->terminating)
		simc_pod_evict(c, index);
	return 0;
}

static int sim_emit_event(void *inst, const struct kerf_event *e, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);

	if (!e)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NULL event");
	c->events_recorded++;
	c->h->log(c->h->ctx, KERF_LOG_INFO, "event %s %s %s%s%s: %s", e->type ? e->type : "Normal",
		  e->reason ? e->reason : "", e->namespace_ ? e->namespace_ : "",
		  e->namespace_ ? "/" : "", e->name ? e->name : "", e->message ? e->message : "");
	return 0;
}

/* ------------------------------------------------------------ locking */

static int locked_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, simc_start(inst, sink, err), err);
}

static int locked_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, simc_poll(inst, timeout_ms, err), err);
}

static int locked_create_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				   struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_create_nodeclaim(inst, claim, stored, err), err);
}

static int locked_update_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				   struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_update_nodeclaim(inst, claim, stored, err), err);
}

static int locked_delete_nodeclaim(void *inst, const char *name, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_delete_nodeclaim(inst, name, err), err);
}

static int locked_update_node(void *inst, const struct kerf_node *node, struct kerf_node **stored,
			      struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_update_node(inst, node, stored, err), err);
}

static int locked_delete_node(void *inst, const char *name, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_delete_node(inst, name, err), err);
}

static int locked_evict_pod(void *inst, const char *ns, const char *name, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_evict_pod(inst, ns, name, err), err);
}

static int locked_emit_event(void *inst, const struct kerf_event *e, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_emit_event(inst, e, err), err);
}

static int locked_virtual_end(void *inst, kerf_mono_ms_t *end_ms, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, simc_virtual_end(inst, end_ms, err), err);
}

const struct kerf_cluster_ops sim_cluster_ops = {
    .start = locked_start,
    .poll = locked_poll,
    .create_nodeclaim = locked_create_nodeclaim,
    .update_nodeclaim = locked_update_nodeclaim,
    .delete_nodeclaim = locked_delete_nodeclaim,
    .update_node = locked_update_node,
    .delete_node = locked_delete_node,
    .evict_pod = locked_evict_pod,
    .emit_event = locked_emit_event,
    .virtual_end = locked_virtual_end,
};
