/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster.c - the cluster half of the sim plugin: the API server, the
 * workload controllers, the kubelets and kube-scheduler of a simulated
 * cluster whose nodes are the simulated cloud's instances.
 *
 * Each poll() moves the cluster to the host's clock (virtual under
 * simulation, so nothing here ever sleeps):
 *
 *  1. scenario and trace actions that are due run (apply, scale, delete,
 *     trace rows);
 *  2. instances that reached their registration time join as Nodes, as a
 *     kubelet started by Karpenter's user data registers: labels of the
 *     instance type and offering plus the NodeClaim's, the claim's taints
 *     and startup taints, karpenter.sh/unregistered:NoExecute (Karpenter
 *     removes it once it has synced the node) and
 *     node.kubernetes.io/not-ready:NoSchedule;
 *  3. nodes reaching their ready time turn Ready: the not-ready taint and
 *     the startup taints go (the agents that own startup taints, a CNI for
 *     instance, are not simulated, so they finish when the node is ready);
 *     nodes of terminated instances go, with their pods;
 *  4. pods that ran their trace duration succeed and are deleted;
 *  5. controllers: each workload gets back to its replicas (pods named
 *     <workload>-<n>; a StatefulSet reuses the lowest free ordinal), Jobs
 *     and trace rows do not replace pods that succeeded, a bare Pod is not
 *     replaced at all, and each DaemonSet gets one pod per node it should
 *     run on, pinned there by node affinity as the DaemonSet controller
 *     does;
 *  6. the scheduler, when something changed: pending pods in queue order
 *     (priority, then age) go to the ready node that passes
 *     kerf_topology_fits() (kube-scheduler's filters, shared with the core)
 *     and is least allocated, as kube-scheduler's default scoring picks;
 *     pods that fit nowhere get PodScheduled=False/Unschedulable.
 *
 * PodDisruptionBudgets of the workload files are honoured by evict_pod
 * (sim_cluster_pdb.c).  Preemption, graceful termination and rollouts of
 * changed templates are not simulated: an applied change affects the
 * pods created afterwards.
 *
 * Events: a change made by a write op (update_node, evict_pod, ...) is
 * kept as a copy of the object and delivered, in order, at the next poll,
 * so the host sees the cluster change only where a real API server's
 * watch would show it: after the write returned.
 *
 * The simulated cloud acts too: a scenario's interrupt and terminate
 * (sim_world.h) run with the other actions, interrupted instances that
 * kerf left alone are terminated at their deadline, and their nodes go
 * when the instances do.
 *
 * Threads: every op runs under struct sim's lock (sim.h), taken by the
 * wrappers of sim_cluster_writes.c; nothing here takes it.
 *
 * DaemonSets are listed themselves too (KERF_OBJ_DAEMONSET): their
 * pod template under the DaemonSet's name, from start() on, before any node
 * runs their pods.
 *
 * NodePools and node classes are not this plugin's: they come from
 * kerf.yaml's `manifests:`, which the core reads with its own manifest
 * validation (a plugin cannot call it), so their initial lists are empty.
 */
#include <string.h>

#include <kerf/kerf.h>

#include "sim.h"
#include "sim_cluster_int.h"

/* ------------------------------------------------------------ the loop */

static void finish_pods(struct sim_cluster *c, int64_t now)
{
	for (size_t i = c->n_pods; i-- > 0;) {
		struct sim_pod *sp = c->pods[i];
		if (sp->on && sp->owner && sp->owner->duration_ms >= 0 &&
		    sp->bound_ms + sp->owner->duration_ms <= now)
			simc_pod_remove(c, i, true);
	}
}

static bool cloud_action(const struct sim_action *a)
{
	return a->type == SIM_ACT_INTERRUPT || a->type == SIM_ACT_TERMINATE;
}

/* Everything that happened up to now except scheduling. */
static void advance(struct sim_cluster *c, int64_t now)
{
	while (c->next_action < c->script.n &&
	       c->start_ms + c->script.items[c->next_action].at_ms <= now) {
		size_t i = c->next_action++;

		if (cloud_action(&c->script.items[i])) {
			/* Done before a restart: the state file holds what it did. */
			if (i < c->cloud_next)
				continue;
			c->cloud_next = i + 1;
			c->w->dirty = true;
		}
		simc_run_action(c, &c->script.items[i]);
	}
	sim_world_settle(c->w, now);
	sim_world_reached(c->w, SIM_REGISTERED, c->seen_ms, now, simc_node_register, c);
	sim_world_reached(c->w, SIM_READY, c->seen_ms, now, simc_node_ready, c);
	sim_world_reached(c->w, SIM_GONE, c->seen_ms, now, simc_node_gone, c);
	c->seen_ms = now;
	finish_pods(c, now);
	simc_pods_terminated(c, now);
	simc_controllers(c);
}

struct sim_cluster *simc_cluster_of(void *inst)
{
	return ((struct sim *)inst)->cluster;
}

static void list_kind(struct sim_cluster *c, kerf_object_kind kind)
{
	const struct kerf_event_sink *s = &c->sink;

	switch (kind) {
	case KERF_OBJ_POD:
		for (size_t i = 0; i < c->n_pods; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->pods[i]->pod);
		break;
	case KERF_OBJ_NODE:
		for (size_t i = 0; i < c->n_nodes; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->nodes[i]->node);
		break;
	case KERF_OBJ_NODECLAIM:
		for (size_t i = 0; i < c->n_claims; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->claims[i]);
		break;
	case KERF_OBJ_DAEMONSET:
		for (size_t i = 0; i < c->n_workloads; i++)
			if (c->workloads[i]->ds_object)
				s->on_object(s->ctx, KERF_EVENT_ADDED, kind,
					     c->workloads[i]->ds_object);
		break;
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		/* kerf.yaml's manifests: the core's, see the top of this file. */
		break;
	}
	s->on_object(s->ctx, KERF_EVENT_SYNCED, kind, NULL);
}

int simc_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	static const kerf_object_kind kinds[] = {KERF_OBJ_NODEPOOL,  KERF_OBJ_NODE_CLASS,
						 KERF_OBJ_NODECLAIM, KERF_OBJ_NODE,
						 KERF_OBJ_DAEMONSET, KERF_OBJ_POD};
	struct sim_cluster *c = simc_cluster_of(inst);
	int64_t now = simc_now_ms(c);

	if (c->started)
		return kerf_error_set(err, KERF_E_INVALID, "sim: cluster already started");
	if (!sink || !sink->on_object)
		return kerf_error_set(err, KERF_E_INVALID, "sim: start without an event sink");
	c->sink = *sink;
	/* A resumed run keeps its epoch, so the script goes on where it was. */
	if (!c->resumed)
		c->start_ms = now;
	c->start_wall_ms = now;
	c->start_mono_ms = c->h->mono_ms(c->h->ctx);
	c->w->dirty = true;
	for (size_t i = 0; i < c->n_initial; i++)
		for (size_t j = 0; j < c->initial[i]->n; j++)
			simc_workload_apply(c, &c->initial[i]->items[j]);
	advance(c, now);
	c->delivering = true;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		list_kind(c, kinds[i]);
	c->started = true;
	c->delivering = false;
	c->h->log(
	    c->h->ctx, KERF_LOG_INFO,
	    "simulated cluster started: %zu workloads, %zu pods, %zu nodes, %zu timed actions",
	    c->n_workloads, c->n_pods, c->n_nodes, c->script.n);
	return 0;
}

int simc_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	int64_t now = simc_now_ms(c);

	if (!c->started)
		return kerf_error_set(err, KERF_E_INVALID, "sim: poll before start");
	/*
	 * Never waits: under the virtual clock time moves only between calls,
	 * and under the real one kerfd paces a plugin that has nothing new.
	 */
	c->delivering = true;
	simc_flush_queue(c);
	advance(c, now);
	simc_schedule(c, now);
	c->delivering = false;
	return 0;
}

/*
 * The script counts from start_ms on the wall clock; the host wants the
 * end on its monotonic clock, which start() read at the same moment as
 * the wall clock.  A resumed run whose script ended before this start
 * ends at once.
 */
int simc_virtual_end(void *inst, kerf_mono_ms_t *end_ms, struct kerf_error *err)
{
	struct sim_cluster *c = simc_cluster_of(inst);
	int64_t last = sim_script_end_ms(&c->script);
	int64_t end;

	if (!c->started)
		return kerf_error_set(err, KERF_E_INVALID, "sim: virtual_end before start");
	if (!end_ms)
		return kerf_error_set(err, KERF_E_INVALID, "sim: virtual_end without end_ms");
	if (c->script.n == 0) {
		*end_ms = 0;
		return 0;
	}
	end = c->start_mono_ms + (c->start_ms + last - c->start_wall_ms);
	*end_ms = end > c->start_mono_ms ? end : c->start_mono_ms;
	return 0;
}

/* ------------------------------------------------------------ lifetime */

void sim_cluster_config_clear(const struct kerf_host *h, struct sim_cluster_config *cfg)
{
	for (size_t i = 0; i < cfg->n_workloads; i++)
		h->free(h->ctx, cfg->workloads[i]);
	h->free(h->ctx, cfg->workloads);
	h->free(h->ctx, cfg->scenario);
	h->free(h->ctx, cfg->trace);
	memset(cfg, 0, sizeof(*cfg));
}

int sim_cluster_new(const struct kerf_host *h, struct sim_world *w, struct sim_cluster_config *cfg,
		    struct sim_cluster **out, struct kerf_error *err)
{
	struct sim_cluster *c = h->calloc(h->ctx, 1, sizeof(*c));
	int rc = 0;

	c->h = h;
	c->w = w;
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	c->seen_ms = INT64_MIN;
	c->initial =
	    h->calloc(h->ctx, c->cfg.n_workloads ? c->cfg.n_workloads : 1, sizeof(*c->initial));
	for (size_t i = 0; rc == 0 && i < c->cfg.n_workloads; i++) {
		rc = sim_workloads_load(h, c->cfg.workloads[i], &c->initial[i], err);
		if (rc == 0)
			c->n_initial++;
		if (rc == 0)
			rc = simc_pdbs_load(c, c->cfg.workloads[i], err);
	}
	if (rc == 0 && c->cfg.scenario)
		rc = sim_scenario_load(h, c->cfg.scenario, &c->script, err);
	if (rc == 0 && c->cfg.trace)
		rc = sim_trace_load(h, c->cfg.trace, c->cfg.trace_time_scale, &c->script, err);
	if (rc) {
		sim_cluster_free(c);
		return rc;
	}
	sim_script_sort(h, &c->script);
	*out = c;
	return 0;
}

void sim_cluster_free(struct sim_cluster *c)
{
	const struct kerf_host *h;

	if (!c)
		return;
	h = c->h;
	for (size_t i = 0; i < c->n_queue; i++)
		simc_snapshot_free(c->queue[i].kind, c->queue[i].object);
	h->free(h->ctx, c->queue);
	for (size_t i = 0; i < c->n_pods; i++) {
		kerf_pod_free(c->pods[i]->pod);
		h->free(h->ctx, c->pods[i]);
	}
	h->free(h->ctx, c->pods);
	for (size_t i = 0; i < c->n_nodes; i++) {
		kerf_node_free(c->nodes[i]->node);
		kerf_taints_clear(&c->nodes[i]->startup);
		h->free(h->ctx, c->nodes[i]);
	}
	h->free(h->ctx, c->nodes);
	for (size_t i = 0; i < c->n_claims; i++)
		kerf_nodeclaim_free(c->claims[i]);
	h->free(h->ctx, c->claims);
	for (size_t i = 0; i < c->n_saved_nodes; i++)
		kerf_node_free(c->saved_nodes[i]);
	h->free(h->ctx, c->saved_nodes);
	for (size_t i = 0; i < c->n_workloads; i++)
		simc_workload_free(h, c->workloads[i]);
	h->free(h->ctx, c->workloads);
	for (size_t i = 0; i < c->n_initial; i++)
		kerf_workload_list_free(c->initial[i]);
	for (size_t i = 0; i < c->n_pdbs; i++)
		simc_pdb_free(h, c->pdbs[i]);
	h->free(h->ctx, c->pdbs);
	h->free(h->ctx, c->initial);
	sim_script_clear(h, &c->script);
	sim_cluster_config_clear(h, &c->cfg);
	h->free(h->ctx, c);
}
