/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_sched.c - the simulated kube-scheduler: pending pods in queue order to the
 * least allocated node that passes kube-scheduler's filters.
 */
#include <stdio.h>
#include <stdlib.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"

/* ------------------------------------------------------------ scheduler */

static int64_t headroom(int64_t alloc, int64_t used)
{
	return alloc > 0 ? (alloc - used) * 100 / alloc : 0;
}

/* kube-scheduler's LeastAllocated score: the free share of cpu and memory after placing. */
static int64_t score(const struct sim_node *sn, const struct kerf_pod *p)
{
	const struct kerf_resources *a = &sn->node->allocatable;

	return headroom(a->cpu_millis, sn->requested.cpu_millis + p->requests.cpu_millis) +
	       headroom(a->memory_bytes, sn->requested.memory_bytes + p->requests.memory_bytes);
}

/* Queue order: higher priority first, then the older pod. */
static int queue_cmp(const void *a, const void *b)
{
	const struct sim_pod *x = *(const struct sim_pod *const *)a;
	const struct sim_pod *y = *(const struct sim_pod *const *)b;

	if (x->pod->priority != y->pod->priority)
		return x->pod->priority > y->pod->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool pending(const struct sim_pod *sp)
{
	return !sp->pod->node_name && sp->pod->phase == KERF_POD_PENDING &&
	       !sp->pod->meta->deletion_ms;
}

static void bind(struct sim_cluster *c, struct kerf_topology *topo, struct sim_pod *sp,
		 struct sim_node *sn, int64_t now)
{
	struct kerf_pod *p = sp->pod;

	simc_replace(c->h, &p->node_name, sn->node->meta->name);
	p->phase = KERF_POD_RUNNING;
	p->unschedulable = false;
	sp->on = sn;
	sp->bound_ms = now;
	kerf_resources_add(&sn->requested, &p->requests);
	kerf_topology_add_pod(topo, p, sn->index);
	simc_touch(c, p->meta);
	simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, p);
}

/* Binds the pod to its best node, or marks it unschedulable; true when bound. */
static bool schedule_one(struct sim_cluster *c, struct kerf_topology *topo, struct sim_pod *sp,
			 int64_t now)
{
	struct sim_node *best = NULL;
	int64_t best_score = 0;
	size_t n_ready = 0;
	char why[256] = "", first_why[256] = "";

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct sim_node *sn = c->nodes[i];
		int64_t s;

		if (!sn->node->ready || sn->node->meta->deletion_ms)
			continue;
		n_ready++;
		if (!kerf_topology_fits(topo, sp->pod, i, why, sizeof(why))) {
			if (!first_why[0])
				snprintf(first_why, sizeof(first_why), "%s: %s",
					 sn->node->meta->name, why);
			continue;
		}
		s = score(sn, sp->pod);
		if (!best || s > best_score) {
			best = sn;
			best_score = s;
		}
	}
	if (best) {
		bind(c, topo, sp, best, now);
		return true;
	}
	if (sp->pod->unschedulable)
		return false;
	sp->pod->unschedulable = true;
	simc_touch(c, sp->pod->meta);
	c->h->log(c->h->ctx, KERF_LOG_DEBUG,
		  "pod %s/%s unschedulable: 0/%zu nodes are available%s%s",
		  sp->pod->meta->namespace_ ? sp->pod->meta->namespace_ : "default",
		  sp->pod->meta->name, n_ready, first_why[0] ? "; " : "", first_why);
	simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, sp->pod);
	return false;
}

void simc_schedule(struct sim_cluster *c, int64_t now)
{
	const struct kerf_host *h = c->h;
	const struct kerf_node **nodes;
	const struct kerf_pod **pods;
	struct sim_pod **queue;
	struct kerf_topology *topo;
	size_t n_queue = 0;

	if (!c->dirty)
		return;
	c->dirty = false;
	queue = h->calloc(h->ctx, c->n_pods ? c->n_pods : 1, sizeof(*queue));
	for (size_t i = 0; i < c->n_pods; i++) {
		if (!pending(c->pods[i]))
			continue;
		if (now < c->pods[i]->pod->meta->creation_ms + c->cfg.bind_delay_ms) {
			/* Not yet: the scheduler has to look again once the delay has passed. */
			c->dirty = true;
			continue;
		}
		queue[n_queue++] = c->pods[i];
	}
	if (n_queue == 0) {
		h->free(h->ctx, queue);
		return;
	}
	qsort(queue, n_queue, sizeof(*queue), queue_cmp);
	nodes = h->calloc(h->ctx, c->n_nodes ? c->n_nodes : 1, sizeof(*nodes));
	for (size_t i = 0; i < c->n_nodes; i++) {
		nodes[i] = c->nodes[i]->node;
		c->nodes[i]->index = i;
		kerf_resources_init(&c->nodes[i]->requested);
	}
	pods = h->calloc(h->ctx, c->n_pods ? c->n_pods : 1, sizeof(*pods));
	for (size_t i = 0; i < c->n_pods; i++) {
		struct sim_pod *sp = c->pods[i];
		pods[i] = sp->pod;
		if (sp->on && sp->pod->phase != KERF_POD_SUCCEEDED &&
		    sp->pod->phase != KERF_POD_FAILED)
			kerf_resources_add(&sp->on->requested, &sp->pod->requests);
	}
	topo = kerf_topology_new(nodes, c->n_nodes, pods, c->n_pods);
	/*
	 * A pod bound after another failed in this pass can be what the
	 * failed one needed (required pod affinity to it): kube-scheduler
	 * moves unschedulable pods back to its active queue when a pod is
	 * assigned, so the next pass tries them again.
	 */
	bool failed = false;
	for (size_t i = 0; i < n_queue; i++) {
		if (!schedule_one(c, topo, queue[i], now))
			failed = true;
		else if (failed)
			c->dirty = true;
	}
	kerf_topology_free(topo);
	h->free(h->ctx, pods);
	h->free(h->ctx, nodes);
	h->free(h->ctx, queue);
}
