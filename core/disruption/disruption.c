/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disruption.c - the disruption controller (disruption.h).
 *
 * Each pass, in Karpenter's order, and at most one decision:
 *
 *  1. expiration: a NodeClaim older than its expireAfter is ended,
 *     whatever the budgets and do-not-disrupt say (its
 *     terminationGracePeriod bounds the drain);
 *  2. emptiness: in NodePools whose consolidateAfter is not Never, nodes
 *     with no pod a drain would move (DaemonSet, static and finished pods
 *     do not count) for consolidateAfter, as many as the pool's budgets
 *     for reason Empty allow.
 *
 * Candidates are NodeClaims kerf launched or adopted that are
 * initialised, have a node, are not ending, have no pending pod
 * nominated to them, and carry no karpenter.sh/do-not-disrupt, on the
 * node or on any of its pods.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "budgets.h"
#include "decision_log.h"
#include "disruption.h"
#include "log.h"
#include "provisioner_int.h"
#include "util.h"

#define COMPONENT_D "disruption"
#define ANNOTATION_DO_NOT_DISRUPT "karpenter.sh/do-not-disrupt"

struct disruption {
	struct provisioner *p;
	struct decision_log *log;
	kerf_mono_ms_t next_ms; /* the first countdown to end, as of the last pass */
};

static const char *const reason_names[DISRUPT_N_REASONS] = {"empty", "drifted", "underutilized",
							    "expired"};
static const char *const reason_labels[DISRUPT_N_REASONS] = {"Empty", "Drifted", "Underutilized",
							     "Expired"};
static const uint32_t reason_bits[DISRUPT_N_REASONS] = {KERF_REASON_EMPTY, KERF_REASON_DRIFTED,
							KERF_REASON_UNDERUTILIZED, 0};

struct disruption *disruption_new(struct provisioner *p, struct decision_log *log)
{
	struct disruption *d = xcalloc(1, sizeof(*d));
	d->p = p;
	d->log = log;
	d->next_ms = INT64_MAX;
	return d;
}

void disruption_free(struct disruption *d)
{
	free(d);
}

void disruption_on_object(struct disruption *d, kerf_event_type type, kerf_object_kind kind,
			  const void *object)
{
	const struct kerf_pod *pod = object;
	if (kind != KERF_OBJ_POD || type == KERF_EVENT_SYNCED || !pod || !pod->node_name ||
	    pod->daemonset)
		return;
	const struct node_rec *nr = state_node(d->p->st, pod->node_name);
	struct claim_rec *c = nr ? state_claim_of_node(d->p->st, nr->node) : NULL;
	if (c)
		c->pod_event_ms = prov_now(d->p);
}

/* ------------------------------------------------------------ candidates */

static bool finished(const struct kerf_pod *pod)
{
	return pod->phase == KERF_POD_SUCCEEDED || pod->phase == KERF_POD_FAILED;
}

/* A pod a drain would move: not finished, not a DaemonSet's, not the kubelet's own. */
static bool reschedulable(const struct kerf_pod *pod)
{
	return !finished(pod) && !pod->daemonset &&
	       !(pod->meta->owner_kind && strcmp(pod->meta->owner_kind, "Node") == 0);
}

static bool annotated_do_not_disrupt(const struct kerf_meta *m)
{
	const char *v = kerf_labels_get(&m->annotations, ANNOTATION_DO_NOT_DISRUPT);
	return v && strcmp(v, "true") == 0;
}

/* A claim a graceful method may take, with its node and how many pods would move. */
static const struct node_rec *candidate(const struct provisioner *p, const struct claim_rec *c,
					size_t *moving)
{
	if (c->gone || c->deleting || c->launching || !c->initialized || c->has_nominee)
		return NULL;
	const struct node_rec *nr = state_node_by_pid(p->st, c->claim->provider_id);
	if (!nr || annotated_do_not_disrupt(nr->node->meta) || nr->node->meta->deletion_ms)
		return NULL;
	struct pod_rec *const *pods;
	size_t n = state_pods_on_node(p->st, nr->node->meta->name, &pods);
	*moving = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kerf_pod *pod = pods[i]->pod;
		if (finished(pod))
			continue;
		if (pod->do_not_disrupt || annotated_do_not_disrupt(pod->meta))
			return NULL;
		*moving += reschedulable(pod);
	}
	return nr;
}

/* Nodes of the pool (launched, not ended) and those of them ending now. */
static void pool_counts(const struct provisioner *p, size_t pool, size_t *total, size_t *disrupting)
{
	*total = *disrupting = 0;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		const struct claim_rec *c = p->st->claims[i];
		if (c->pool != pool || c->gone || c->launching)
			continue;
		(*total)++;
		*disrupting += c->deleting;
	}
}

/* How many more of the pool's nodes `reason` may disrupt now. */
static size_t allowance(const struct provisioner *p, size_t pool, enum disruption_reason reason)
{
	size_t total, disrupting;
	pool_counts(p, pool, &total, &disrupting);
	size_t a = budget_allowed(p->pools[pool].np, reason_bits[reason], total, prov_wall(p));
	if (a == SIZE_MAX)
		return SIZE_MAX;
	return a > disrupting ? a - disrupting : 0;
}

/* ------------------------------------------------------------- decisions */

/*
 * Carries out one decision: logs it (method, nodes, pods, prices), counts
 * it, and ends each claim through the termination controller.
 */
static void decide(struct disruption *d, const char *method, enum disruption_reason reason,
		   size_t n, struct claim_rec **claims, size_t pods, kerf_price_t after)
{
	struct provisioner *p = d->p;
	kerf_price_t before = 0;
	json_t *names = json_array(), *nodes = json_array();
	for (size_t i = 0; i < n; i++) {
		before += claims[i]->price;
		json_array_append_new(names, json_string(claims[i]->claim->meta->name));
		json_array_append_new(
		    nodes, claims[i]->node_name ? json_string(claims[i]->node_name) : json_null());
	}
	const char *pool = p->pools[claims[0]->pool].np->meta->name;
	log_info(COMPONENT_D,
		 "%s: %zu node%s of NodePool %s (%s), %zu pod%s to move, $%.4f/h -> $%.4f/h",
		 method, n, n == 1 ? "" : "s", pool, reason_labels[reason], pods,
		 pods == 1 ? "" : "s", (double)before / 1e6, (double)after / 1e6);
	p->disruption.decisions++;
	p->disruption.nodes[reason] += n;
	p->disruption.pods_moved += pods;
	/* An expired node's replacement is provisioning's: nothing is saved by it. */
	if (reason != DISRUPT_EXPIRED)
		p->disruption.saved += before - after;
	if (d->log) {
		json_t *o = decision_log_line(d->log);
		json_object_set_new(o, "event", json_string("disruption"));
		json_object_set_new(o, "method", json_string(method));
		json_object_set_new(o, "reason", json_string(reason_labels[reason]));
		json_object_set_new(o, "nodepool", json_string(pool));
		json_object_set_new(o, "nodeclaims", names);
		json_object_set_new(o, "nodes", nodes);
		json_object_set_new(o, "pods", json_integer((json_int_t)pods));
		json_object_set_new(o, "price_before_micro_usd_per_hour", json_integer(before));
		json_object_set_new(o, "price_after_micro_usd_per_hour", json_integer(after));
		decision_log_emit(d->log, o);
	} else {
		json_decref(names);
		json_decref(nodes);
	}
	for (size_t i = 0; i < n; i++)
		prov_terminate(p, claims[i], reason_names[reason], true);
}

/* Every claim past its expireAfter, ended at once: forceful, so no budget applies. */
static bool expiration(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	bool any = false;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		int64_t ttl = c->claim->expire_after_ms;
		if (c->gone || c->deleting || c->launching || ttl < 0 ||
		    ttl == KERF_DURATION_NEVER || now - c->launched_ms < ttl)
			continue;
		struct pod_rec *const *pods;
		size_t n = c->node_name ? state_pods_on_node(p->st, c->node_name, &pods) : 0,
		       moving = 0;
		for (size_t k = 0; k < n; k++)
			moving += reschedulable(pods[k]->pod);
		decide(d, "expiration", DISRUPT_EXPIRED, 1, &c, moving, 0);
		any = true;
	}
	return any;
}

static bool emptiness(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	struct claim_rec **ready = NULL;
	size_t n_ready = 0;
	for (size_t pool = 0; pool < p->n_pools; pool++) {
		const struct kerf_nodepool *np = p->pools[pool].np;
		if (p->pools[pool].deleted || np->consolidate_after_ms == KERF_DURATION_NEVER)
			continue;
		n_ready = 0;
		for (size_t i = 0; i < p->st->n_claims; i++) {
			struct claim_rec *c = p->st->claims[i];
			size_t moving;
			if (c->pool != pool || !candidate(p, c, &moving))
				continue;
			if (c->pod_event_ms == 0)
				c->pod_event_ms = now;
			if (moving)
				continue;
			kerf_mono_ms_t due = c->pod_event_ms + np->consolidate_after_ms;
			if (now >= due)
				xpush(ready, n_ready, c);
			else if (due < d->next_ms)
				d->next_ms = due;
		}
		if (n_ready == 0)
			continue;
		size_t allowed = allowance(p, pool, DISRUPT_EMPTY);
		if (allowed == 0) {
			log_debug(COMPONENT_D, "NodePool %s: %zu empty node%s held by its budgets",
				  np->meta->name, n_ready, n_ready == 1 ? "" : "s");
			continue;
		}
		if (n_ready > allowed)
			n_ready = allowed;
		decide(d, "emptiness", DISRUPT_EMPTY, n_ready, ready, 0, 0);
		free(ready);
		return true;
	}
	free(ready);
	return false;
}

void disruption_reconcile(struct disruption *d)
{
	struct provisioner *p = d->p;
	kerf_mono_ms_t now = prov_now(p);
	d->next_ms = INT64_MAX;
	for (size_t i = 0; i < p->st->n_claims; i++)
		p->st->claims[i]->has_nominee = false;
	for (size_t i = 0; i < p->st->n_pods; i++)
		if (p->st->pods[i]->nominated)
			p->st->pods[i]->nominated->has_nominee = true;
	if (expiration(d, now))
		return;
	emptiness(d, now);
}

bool disruption_settled(const struct disruption *d)
{
	return d->next_ms == INT64_MAX;
}

kerf_mono_ms_t disruption_next_ms(const struct disruption *d)
{
	return d->next_ms;
}
