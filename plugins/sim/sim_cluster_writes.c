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

/*
 * A NodeClaim whose instance another provider launched (kerfd with
 * `cluster: sim` and, say, `provider: ec2`): the simulated cluster's
 * kubelet joins it as it joins the simulated cloud's, so the cluster
 * behaves the same whichever cloud kerf launches in.  The instance enters
 * the world as launched now, of the catalogue type and zone its labels
 * name, with the capacity and allocatable the claim carries.  A claim of a
 * type the catalogue lacks or a zone the simulator does not know is left
 * alone, as a node that never registers.
 */
static void adopt_foreign(struct sim_cluster *c, const struct kerf_nodeclaim *claim)
{
	const struct kerf_host *h = c->h;
	struct sim_world *w = c->w;
	const char *type = kerf_labels_get(&claim->meta->labels, SIM_L_INSTANCE_TYPE);
	const char *zone = kerf_labels_get(&claim->meta->labels, SIM_L_ZONE);
	const char *ct = kerf_labels_get(&claim->meta->labels, SIM_L_CAPACITY_TYPE);
	const struct sim_type *t = type ? sim_world_type(w, type) : NULL;
	struct sim_instance *in;
	size_t z;

	if (!claim->provider_id || !t || !zone || claim->meta->deletion_ms)
		return;
	for (size_t i = 0; i < w->n_instances; i++)
		if (strcmp(w->instances[i]->provider_id, claim->provider_id) == 0)
			return;
	for (z = 0; z < w->cfg.n_zones && strcmp(w->cfg.zones[z], zone) != 0; z++)
		;
	if (z == w->cfg.n_zones)
		return;
	in = h->calloc(h->ctx, 1, sizeof(*in));
	in->provider_id = h->strdup(h->ctx, claim->provider_id);
	in->claim = h->strdup(h->ctx, claim->meta->name);
	in->image_id = h->strdup(h->ctx, claim->image_id ? claim->image_id : "");
	in->type = t;
	in->capacity = claim->capacity;
	in->allocatable = claim->allocatable;
	in->zone = z;
	in->capacity_type =
	    ct && strcmp(ct, "spot") == 0 ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
	in->launch_ms = simc_now_ms(c);
	in->foreign = true;
	if (!sim_world_add(w, in))
		sim_instance_free(h, in);
}

/* The foreign instance of a NodeClaim that went: its node goes with it. */
static void release_foreign(struct sim_cluster *c, const char *claim)
{
	struct sim_world *w = c->w;

	for (size_t i = 0; i < w->n_instances; i++) {
		struct sim_instance *in = w->instances[i];
		if (in->foreign && !in->deleted && strcmp(in->claim, claim) == 0) {
			in->deleted = true;
			in->delete_ms = simc_now_ms(c);
			w->dirty = true;
		}
	}
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
	adopt_foreign(c, d);
	simc_emit(c, KERF_EVENT_ADDED, KERF_OBJ_NODECLAIM, d);
	if (stored)
		*stored = kerf_nodeclaim_copy(d);
	return 0;
}

static void claim_remove(struct sim_cluster *c, size_t index)
{
	struct kerf_nodeclaim *d = c->claims[index];

	simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODECLAIM, d);
	release_foreign(c, d->meta->name);
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
	adopt_foreign(c, d);
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

static int sim_delete_pod(void *inst, const char *ns, const char *name, const char *uid,
			  int64_t grace_period_s, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	struct sim_pod *sp;
	size_t index;

	if (!name || (sp = simc_find_pod(c, ns, name, &index)) == NULL)
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no pod %s/%s",
				      ns ? ns : "default", name ? name : "(null)");
	if (uid && sp->pod->meta->uid && strcmp(uid, sp->pod->meta->uid) != 0)
		return kerf_error_set(err, KERF_E_CONFLICT,
				      "sim: pod %s/%s: uid %s is not the precondition's %s",
				      ns ? ns : "default", name, sp->pod->meta->uid, uid);
	if (grace_period_s < 0 || grace_period_s > INT64_MAX / 1000)
		return kerf_error_set(err, KERF_E_INVALID, "sim: pod %s/%s: grace period %lld s",
				      ns ? ns : "default", name, (long long)grace_period_s);
	c->h->log(c->h->ctx, KERF_LOG_INFO, "deleting pod %s/%s with a grace period of %lld s",
		  ns ? ns : "default", name, (long long)grace_period_s);
	simc_pod_delete(c, index, grace_period_s * 1000);
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

static int locked_delete_pod(void *inst, const char *ns, const char *name, const char *uid,
			     int64_t grace_period_s, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, sim_delete_pod(inst, ns, name, uid, grace_period_s, err), err);
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
    .delete_pod = locked_delete_pod,
};
