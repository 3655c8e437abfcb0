/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_workloads.c - the simulated workload controllers (ReplicaSet,
 * StatefulSet, Job, bare Pod, DaemonSet) and the scenario and trace actions
 * that create, scale and delete workloads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"

#define MiB (1024ll * 1024)

/* ------------------------------------------------------------ workloads */

static struct sim_workload *find_workload(const struct sim_cluster *c, const char *kind,
					  const char *ns, const char *name, size_t *index)
{
	for (size_t i = 0; i < c->n_workloads; i++) {
		struct sim_workload *wl = c->workloads[i];
		if (strcmp(wl->kind, kind) == 0 && strcmp(wl->namespace_, ns) == 0 &&
		    strcmp(wl->name, name) == 0) {
			if (index)
				*index = i;
			return wl;
		}
	}
	return NULL;
}

static struct sim_workload *workload_add(struct sim_cluster *c, const char *kind, const char *ns,
					 const char *name, struct kerf_pod *tmpl)
{
	const struct kerf_host *h = c->h;
	struct sim_workload *wl = h->calloc(h->ctx, 1, sizeof(*wl));

	wl->kind = h->strdup(h->ctx, kind);
	wl->namespace_ = h->strdup(h->ctx, ns);
	wl->name = h->strdup(h->ctx, name);
	wl->tmpl = tmpl;
	wl->duration_ms = -1;
	PUSH(h, c->workloads, c->n_workloads, c->cap_workloads, wl);
	return wl;
}

/*
 * The DaemonSet object itself, as the API lists it: its pod template under
 * the DaemonSet's name.  ADDED the first time, MODIFIED when re-applied.
 */
static void daemonset_object(struct sim_cluster *c, struct sim_workload *wl)
{
	const struct kerf_host *h = c->h;
	struct kerf_pod *ds = kerf_pod_copy(wl->tmpl);
	bool added = wl->ds_object == NULL;

	simc_replace(h, &ds->meta->name, wl->name);
	simc_replace(h, &ds->meta->namespace_, wl->namespace_);
	h->free(h->ctx, ds->node_name);
	ds->node_name = NULL;
	ds->daemonset = true;
	ds->phase = KERF_POD_PENDING;
	ds->unschedulable = false;
	if (added) {
		simc_new_meta(c, ds->meta, "apps/v1", "DaemonSet", simc_now_ms(c));
	} else {
		/* Same object, new spec: keep its identity. */
		simc_replace(h, &ds->meta->api_version, "apps/v1");
		simc_replace(h, &ds->meta->kind, "DaemonSet");
		simc_replace(h, &ds->meta->uid, wl->ds_object->meta->uid);
		ds->meta->creation_ms = wl->ds_object->meta->creation_ms;
		ds->meta->deletion_ms = 0;
		simc_touch(c, ds->meta);
		kerf_pod_free(wl->ds_object);
	}
	wl->ds_object = ds;
	simc_emit(c, added ? KERF_EVENT_ADDED : KERF_EVENT_MODIFIED, KERF_OBJ_DAEMONSET, ds);
}

void simc_workload_apply(struct sim_cluster *c, const struct kerf_workload *k)
{
	const char *ns = k->namespace_ ? k->namespace_ : "default";
	struct sim_workload *wl = find_workload(c, k->kind, ns, k->name, NULL);
	struct kerf_pod *tmpl = kerf_pod_copy(k->pod);

	if (wl) {
		/* No rollout: the new template is for the pods created from now on. */
		kerf_pod_free(wl->tmpl);
		wl->tmpl = tmpl;
	} else {
		wl = workload_add(c, k->kind, ns, k->name, tmpl);
	}
	wl->replicas = k->replicas;
	wl->daemonset = k->daemonset;
	if (wl->daemonset)
		daemonset_object(c, wl);
	c->ds_dirty = true;
	c->h->log(c->h->ctx, KERF_LOG_DEBUG, "applied %s %s/%s: %d replicas", k->kind, ns, k->name,
		  k->daemonset ? -1 : k->replicas);
}

void simc_workload_free(const struct kerf_host *h, struct sim_workload *wl)
{
	kerf_pod_free(wl->tmpl);
	kerf_pod_free(wl->ds_object);
	h->free(h->ctx, wl->kind);
	h->free(h->ctx, wl->namespace_);
	h->free(h->ctx, wl->name);
	h->free(h->ctx, wl);
}

static void workload_delete(struct sim_cluster *c, size_t index)
{
	struct sim_workload *wl = c->workloads[index];

	for (size_t i = c->n_pods; i-- > 0;)
		if (c->pods[i]->owner == wl)
			simc_pod_remove(c, i, false);
	if (wl->ds_object) {
		wl->ds_object->meta->deletion_ms = simc_now_ms(c);
		simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_DAEMONSET, wl->ds_object);
	}
	simc_workload_free(c->h, wl);
	memmove(&c->workloads[index], &c->workloads[index + 1],
		(c->n_workloads - index - 1) * sizeof(*c->workloads));
	c->n_workloads--;
}

/* The pod a scale-down removes first: unbound before bound, then the newest. */
static size_t scale_down_victim(const struct sim_cluster *c, const struct sim_workload *wl)
{
	size_t best = c->n_pods;

	for (size_t i = 0; i < c->n_pods; i++) {
		const struct sim_pod *sp = c->pods[i], *b;
		/* A terminating pod is no longer one of its workload's live pods. */
		if (sp->owner != wl || sp->terminating)
			continue;
		if (best == c->n_pods) {
			best = i;
			continue;
		}
		b = c->pods[best];
		if (strcmp(wl->kind, "StatefulSet") == 0 ? sp->ordinal > b->ordinal
		    : (!sp->on) != (!b->on)		 ? !sp->on
							 : sp->seq > b->seq)
			best = i;
	}
	return best;
}

/* The lowest StatefulSet ordinal no pod of wl holds. */
static int32_t free_ordinal(const struct sim_cluster *c, const struct sim_workload *wl)
{
	for (int32_t o = 0;; o++) {
		size_t i = 0;
		while (i < c->n_pods && !(c->pods[i]->owner == wl && c->pods[i]->ordinal == o))
			i++;
		if (i == c->n_pods)
			return o;
	}
}

/* The ReplicaSet, StatefulSet and Job controllers, and a Pod's own "controller". */
static void workload_sync(struct sim_cluster *c, struct sim_workload *wl)
{
	int32_t want = wl->replicas - wl->finished;

	if (wl->daemonset)
		return;
	if (want < 0)
		want = 0;
	while (wl->live < want) {
		char name[300];
		int32_t ordinal = 0;

		if (strcmp(wl->kind, "Pod") == 0) {
			snprintf(name, sizeof(name), "%s", wl->name);
		} else if (strcmp(wl->kind, "StatefulSet") == 0) {
			ordinal = free_ordinal(c, wl);
			snprintf(name, sizeof(name), "%s-%" PRId32, wl->name, ordinal);
		} else {
			snprintf(name, sizeof(name), "%s-%" PRIu64, wl->name, wl->next_ordinal++);
		}
		simc_pod_create(c, wl, name, ordinal, NULL);
	}
	while (wl->live > want)
		simc_pod_remove(c, scale_down_victim(c, wl), false);
}

/* Taints with only the given effect, borrowed from t, in buf (t->n entries). */
static struct kerf_taints taints_filter(const struct kerf_taints *t, bool no_execute_only,
					struct kerf_taint **buf)
{
	struct kerf_taints out = {0, buf};

	for (size_t i = 0; i < t->n; i++) {
		struct kerf_taint *x = t->items[i];
		/* A node that is not ready yet still gets its DaemonSet pods created. */
		if (x->key && strcmp(x->key, TAINT_NOT_READY) == 0)
			continue;
		if (no_execute_only && x->effect != KERF_EFFECT_NO_EXECUTE)
			continue;
		buf[out.n++] = x;
	}
	return out;
}

/*
 * The DaemonSet controller's test: a pod is created where the template's
 * node selector and affinity match and NoSchedule/NoExecute taints are
 * tolerated, and stays while NoExecute taints are.
 */
static bool daemon_fits(const struct sim_cluster *c, const struct sim_workload *wl,
			const struct kerf_node *n, bool running)
{
	struct kerf_taint **buf;
	struct kerf_taints t;
	bool ok;

	if (n->meta->deletion_ms ||
	    !kerf_pod_matches_node_labels(wl->tmpl, &n->meta->labels, NULL, 0))
		return false;
	buf = c->h->calloc(c->h->ctx, n->taints.n ? n->taints.n : 1, sizeof(*buf));
	t = taints_filter(&n->taints, running, buf);
	ok = kerf_pod_tolerates(wl->tmpl, &t, NULL, 0);
	c->h->free(c->h->ctx, buf);
	return ok;
}

static void daemonset_sync(struct sim_cluster *c, struct sim_workload *wl)
{
	const struct kerf_host *h = c->h;
	size_t *pod_at = h->calloc(h->ctx, c->n_nodes ? c->n_nodes : 1, sizeof(*pod_at));

	/* pod_at[node index]: 1 + the index of its pod of this DaemonSet, 0 for none. */
	for (size_t i = 0; i < c->n_nodes; i++)
		c->nodes[i]->index = i;
	for (size_t i = 0; i < c->n_pods; i++)
		if (c->pods[i]->owner == wl && c->pods[i]->ds_node)
			pod_at[c->pods[i]->ds_node->index] = i + 1;
	for (size_t i = c->n_nodes; i-- > 0;) {
		struct sim_node *sn = c->nodes[i];
		bool has = pod_at[i] != 0;

		if (!has && daemon_fits(c, wl, sn->node, false)) {
			char name[300];
			snprintf(name, sizeof(name), "%s-%" PRIu64, wl->name, wl->next_ordinal++);
			simc_pod_create(c, wl, name, 0, sn);
		} else if (has && !daemon_fits(c, wl, sn->node, true)) {
			/* Going backwards over nodes keeps the other recorded indices valid. */
			size_t at = pod_at[i] - 1;
			simc_pod_remove(c, at, false);
			for (size_t j = 0; j < i; j++)
				if (pod_at[j] > at + 1)
					pod_at[j]--;
		}
	}
	h->free(h->ctx, pod_at);
}

void simc_controllers(struct sim_cluster *c)
{
	bool ds = c->ds_dirty;

	c->ds_dirty = false;
	for (size_t i = 0; i < c->n_workloads; i++) {
		struct sim_workload *wl = c->workloads[i];
		if (!wl->daemonset)
			workload_sync(c, wl);
		else if (ds)
			daemonset_sync(c, wl);
	}
}

/* ------------------------------------------------------------ actions */

static struct kerf_pod *trace_template(struct sim_cluster *c, const struct sim_action *a,
				       const char *name)
{
	const struct kerf_host *h = c->h;
	struct kerf_pod *p = kerf_pod_new();

	p->meta->name = h->strdup(h->ctx, name);
	p->meta->namespace_ = h->strdup(h->ctx, "default");
	p->meta->owner_kind = h->strdup(h->ctx, "Job");
	p->meta->owner_name = h->strdup(h->ctx, name);
	kerf_labels_set(&p->meta->labels, "job-name", name);
	kerf_resources_init(&p->requests);
	/* The row's numbers are far below every limit, so these cannot fail. */
	kerf_resources_set(&p->requests, KERF_RESOURCE_CPU, a->cpu_millis, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_MEMORY, a->memory_mib * MiB, NULL);
	if (a->gpu > 0)
		kerf_resources_set(&p->requests, KERF_RESOURCE_NVIDIA_GPU, a->gpu, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_PODS, 1, NULL);
	return p;
}

/* kubectl delete nodeclaim / node on what the action's selector picks. */
static void delete_by_hand(struct sim_cluster *c, const struct sim_action *a)
{
	const struct kerf_host *h = c->h;
	bool claims = a->type == SIM_ACT_DELETE_NODECLAIM;
	const char *what = claims ? "delete_nodeclaim" : "delete_node";
	const struct sim_instance **picked =
	    h->calloc(h->ctx, (size_t)a->select.count, sizeof(*picked));
	size_t n = sim_world_pick(c->w, &a->select, c->start_ms + a->at_ms, picked), done = 0;

	for (size_t i = 0; i < n; i++) {
		struct kerf_error err = KERF_ERROR_INIT;
		const char *name = picked[i]->claim;
		if (!claims) {
			name = NULL;
			for (size_t k = 0; k < c->n_nodes; k++)
				if (c->nodes[k]->in == picked[i])
					name = c->nodes[k]->node->meta->name;
		}
		if (!name)
			continue;
		if ((claims ? simc_claim_delete(c, name, &err) : simc_node_delete(c, name, &err)) ==
		    0) {
			h->log(h->ctx, KERF_LOG_INFO, "scenario: %s %s", what, name);
			done++;
		}
	}
	if (done == 0)
		h->log(h->ctx, KERF_LOG_WARN, "scenario: %s: nothing matches", what);
	h->free(h->ctx, picked);
}

/*
 * kubectl delete nodepool: the NodePool is kerf.yaml's, so the cluster
 * reports it deleted by name alone, without finalizers to hold it.
 */
static void delete_nodepool(struct sim_cluster *c, const char *name)
{
	struct kerf_nodepool *np = kerf_nodepool_new();

	simc_replace(c->h, &np->meta->name, name);
	simc_replace(c->h, &np->meta->api_version, "karpenter.sh/v1");
	simc_replace(c->h, &np->meta->kind, "NodePool");
	np->meta->deletion_ms = simc_now_ms(c);
	simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODEPOOL, np);
	c->h->log(c->h->ctx, KERF_LOG_INFO, "scenario: delete_nodepool %s", name);
	kerf_nodepool_free(np);
}

void simc_run_action(struct sim_cluster *c, const struct sim_action *a)
{
	const struct kerf_host *h = c->h;
	struct sim_workload *wl;
	size_t index;
	char name[64];

	switch (a->type) {
	case SIM_ACT_APPLY:
		for (size_t i = 0; i < a->apply->n; i++)
			simc_workload_apply(c, &a->apply->items[i]);
		break;
	case SIM_ACT_SCALE:
	case SIM_ACT_DELETE:
		wl = find_workload(c, a->kind, a->namespace_, a->name, &index);
		if (!wl) {
			h->log(h->ctx, KERF_LOG_WARN, "scenario: %s %s/%s: no such workload",
			       a->type == SIM_ACT_SCALE ? "scale" : "delete", a->namespace_,
			       a->name);
			break;
		}
		if (a->type == SIM_ACT_DELETE) {
			workload_delete(c, index);
			break;
		}
		wl->replicas = a->replicas;
		break;
	case SIM_ACT_TRACE:
		snprintf(name, sizeof(name), "trace-%zu", a->row);
		wl = workload_add(c, "Job", "default", name, trace_template(c, a, name));
		wl->replicas = a->replicas;
		wl->duration_ms = a->duration_ms;
		break;
	case SIM_ACT_INTERRUPT:
	case SIM_ACT_TERMINATE:
		/* At the action's own time, so a late poll changes no deadline. */
		if ((a->type == SIM_ACT_INTERRUPT
			 ? sim_world_interrupt(c->w, &a->select, c->start_ms + a->at_ms)
			 : sim_world_terminate(c->w, &a->select, c->start_ms + a->at_ms)) == 0)
			h->log(h->ctx, KERF_LOG_WARN, "scenario: %s: no live instance matches",
			       a->type == SIM_ACT_INTERRUPT ? "interrupt" : "terminate");
		break;
	case SIM_ACT_DELETE_NODECLAIM:
	case SIM_ACT_DELETE_NODE:
		delete_by_hand(c, a);
		break;
	case SIM_ACT_DELETE_NODEPOOL:
		delete_nodepool(c, a->name);
		break;
	}
}
