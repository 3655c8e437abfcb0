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
 *     for reason Empty allow;
 *  3. drift (see drift() below);
 *  4. multi-node consolidation, per WhenEmptyOrUnderutilized pool: two or
 *     more candidates whose pods fit on the other nodes and at most one
 *     new node strictly cheaper than them, chosen by the pool's
 *     `consolidation` method (karpenter: the longest workable prefix of
 *     the candidates, by binary search; packing: every candidate tried
 *     with the pool's packer, kept when it adds to the saving);
 *  5. single-node consolidation: the candidate cheapest to move whose
 *     pods fit on the other nodes (delete) or on them and one strictly
 *     cheaper new node (replace).
 *
 * A consolidation is re-checked 15 s later; a replacement is launched and
 * initialised before the old nodes are tainted and drained, and when it
 * fails nothing has been touched.
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
#include <time.h>

#include <kerf/kerf.h>

#include "budgets.h"
#include "decision_log.h"
#include "disruption.h"
#include "log.h"
#include "provisioner_int.h"
#include "util.h"

#define COMPONENT_D "disruption"
#define ANNOTATION_DO_NOT_DISRUPT "karpenter.sh/do-not-disrupt"

/* Karpenter re-checks a consolidation decision after this long before acting on it. */
#define VALIDATION_MS 15000
/* Spot-to-spot replacement needs this many cheaper instance types, as Karpenter asks. */
#define SPOT_TO_SPOT_MIN_TYPES 15
/* A scan that found nothing is repeated on an unchanged cluster only after this long. */
#define RESCAN_MS (5 * 60 * 1000)
/* consolidation: karpenter looks at no more candidates than this, as Karpenter does. */
#define MULTI_NODE_MAX 100
/* consolidation: packing skips at most this many candidates before it stops. */
#define PACKING_MAX_REFUSED 32

/* A consolidation decided and not finished: validating, then waiting for its replacement. */
struct command {
	bool active;
	enum disruption_reason reason; /* Underutilized or Drifted */
	const char *method;	       /* for the decision log */
	const char *variant;	       /* multi-node: "karpenter" or "packing"; else NULL */
	size_t n;
	struct claim_rec **victims; /* owned array */
	bool replace; /* with one cheaper node; otherwise the victims are only deleted */
	kerf_price_t new_price;
	size_t pods;
	kerf_mono_ms_t validate_at;
	struct claim_rec *replacement; /* launched, waiting for it to initialise */
};

struct cand_memo {
	uint64_t pass;
	const struct node_rec *nr;
	size_t moving;
};

struct disruption {
	struct provisioner *p;
	struct decision_log *log;
	kerf_mono_ms_t next_ms; /* the first countdown to end, as of the last pass */
	struct command cmd;
	/* A replacement's victims (owned array), until they are all gone. */
	struct claim_rec **retiring;
	size_t n_retiring;
	struct claim_rec *retiring_for;
	/*
	 * The cluster as of the last consolidation scan that found nothing
	 * (its event count): nothing is simulated again until it changes or
	 * RESCAN_MS passes, as Karpenter waits for the cluster to change.
	 */
	uint64_t scanned_events;
	kerf_mono_ms_t scanned_ms;
	bool scanned;
	/*
	 * When the first claim the last scan passed over for being too
	 * recently changed reaches its consolidateAfter: the cluster has not
	 * changed, but the scan's answer may have.
	 */
	kerf_mono_ms_t eligible_ms;
	/*
	 * The last pass saw a drifted node that will be replaced once its
	 * pool's disruptions end: a virtual run is not over.
	 */
	bool drift_waiting;
	size_t simulations; /* prov_consolidate calls, for the scan's log line */
	/*
	 * What candidate() said of each claim (by its index in the cluster
	 * state) this pass: emptiness, drift and consolidation each look at
	 * every claim, and nothing changes between them until a decision,
	 * which ends the pass.
	 */
	uint64_t pass;
	struct cand_memo *memo;
	size_t n_memo;
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
	if (!d)
		return;
	free(d->cmd.victims);
	free(d->retiring);
	free(d->memo);
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
	if (c->gone || c->deleting || c->launching || c->checking || !c->initialized ||
	    c->has_nominee || c->replacing || c->nominated_until > prov_now(p))
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

/* candidate() for the claim at index i of the cluster state, once a pass. */
static const struct node_rec *candidate_at(struct disruption *d, size_t i, size_t *moving)
{
	if (i >= d->n_memo) {
		size_t n = d->p->st->n_claims > i ? d->p->st->n_claims : i + 1;
		d->memo = xrealloc(d->memo, n * sizeof(*d->memo));
		memset(d->memo + d->n_memo, 0, (n - d->n_memo) * sizeof(*d->memo));
		d->n_memo = n;
	}
	struct cand_memo *m = &d->memo[i];
	if (m->pass != d->pass) {
		m->nr = candidate(d->p, d->p->st->claims[i], &m->moving);
		m->pass = d->pass;
	}
	*moving = m->moving;
	return m->nr;
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

/* One decision's line: method, reason, nodes, pods to move, prices, its replacement. */
static void log_decision(struct disruption *d, const char *method, const char *variant,
			 enum disruption_reason reason, size_t n, struct claim_rec **claims,
			 size_t pods, kerf_price_t after, const struct claim_rec *replacement)
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
	if (d->log) {
		json_t *o = decision_log_line(d->log);
		json_object_set_new(o, "event", json_string("disruption"));
		json_object_set_new(o, "method", json_string(method));
		if (variant)
			json_object_set_new(o, "consolidation", json_string(variant));
		json_object_set_new(o, "reason", json_string(reason_labels[reason]));
		json_object_set_new(o, "nodepool", json_string(pool));
		json_object_set_new(o, "nodeclaims", names);
		json_object_set_new(o, "nodes", nodes);
		json_object_set_new(o, "pods", json_integer((json_int_t)pods));
		json_object_set_new(o, "price_before_micro_usd_per_hour", json_integer(before));
		json_object_set_new(o, "price_after_micro_usd_per_hour", json_integer(after));
		if (replacement) {
			json_object_set_new(o, "replacement",
					    json_string(replacement->claim->meta->name));
			json_object_set_new(o, "replacement_type",
					    json_string(replacement->type_name));
		}
		decision_log_emit(d->log, o);
	} else {
		json_decref(names);
		json_decref(nodes);
	}
}

/* A decision carried out, for the run's figures. */
static void count_decision(struct provisioner *p, enum disruption_reason reason, size_t n,
			   struct claim_rec **claims, size_t pods, kerf_price_t after)
{
	p->disruption.decisions++;
	p->disruption.nodes[reason] += n;
	p->disruption.pods_moved += pods;
	/* An expired node's replacement is provisioning's: nothing is saved by it. */
	if (reason == DISRUPT_EXPIRED)
		return;
	for (size_t i = 0; i < n; i++)
		p->disruption.saved += claims[i]->price;
	p->disruption.saved -= after;
}

static void decide(struct disruption *d, const char *method, enum disruption_reason reason,
		   size_t n, struct claim_rec **claims, size_t pods, kerf_price_t after)
{
	log_decision(d, method, NULL, reason, n, claims, pods, after, NULL);
	count_decision(d->p, reason, n, claims, pods, after);
	for (size_t i = 0; i < n; i++)
		prov_terminate(d->p, claims[i], reason_names[reason], true);
}

/*
 * How old a claim is: from its creationTimestamp as the cluster wrote it,
 * so a claim adopted after a restart keeps its age; from its launch on
 * the host clock until the cluster has delivered it.
 */
static int64_t age(const struct provisioner *p, const struct claim_rec *c, kerf_mono_ms_t now)
{
	const struct kerf_nodeclaim *seen = state_observed_claim(p->st, c->claim->meta->name);
	if (seen && seen->meta->creation_ms > 0)
		return prov_wall(p) - seen->meta->creation_ms;
	return now - c->launched_ms;
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
		    ttl == KERF_DURATION_NEVER || age(p, c, now) < ttl)
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
			if (c->pool != pool || !candidate_at(d, i, &moving))
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

/* ----------------------------------------------------------- consolidation */

/*
 * CPU time of the loop thread: what a scan costs on one core, whatever
 * else the machine runs meanwhile (real time is logged beside it).
 */
static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static kerf_price_t price_of(size_t n, struct claim_rec *const *claims)
{
	kerf_price_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += claims[i]->price;
	return sum;
}

/*
 * What removing `victims` would take, and whether it is worth it: every
 * pod fits on the other nodes (delete), or on them and one new node
 * strictly cheaper than the victims together (replace).  A spot node is
 * replaced by spot only alone and when at least 15 instance types are
 * cheaper.
 */
static bool worth_it(struct disruption *d, size_t n, struct claim_rec *const *victims, bool launch,
		     bool *replace, struct prov_consolidation *out)
{
	struct kerf_error err = KERF_ERROR_INIT;
	bool spot = false;
	for (size_t i = 0; i < n; i++)
		spot |= victims[i]->capacity_type == KERF_CAPACITY_SPOT;
	out->old_price_limit = price_of(n, victims);
	d->simulations++;
	if (prov_consolidate(d->p, n, victims, launch, out, &err) != 0) {
		log_warn(COMPONENT_D, "consolidation of %s%s: %s", victims[0]->claim->meta->name,
			 n > 1 ? " and others" : "", err.message);
		return false;
	}
	if (!out->fits)
		return false;
	if (out->n_new == 0) {
		*replace = false;
		return true;
	}
	if (out->n_new > 1 || out->new_price >= out->old_price_limit)
		return false;
	if (spot && out->new_capacity_type == KERF_CAPACITY_SPOT &&
	    (n > 1 || out->cheaper_types < SPOT_TO_SPOT_MIN_TYPES))
		return false;
	*replace = true;
	return true;
}

/* Fewest pods to move first, then the dearest node (the most saved), then the name. */
static int cmp_cost(const void *a, const void *b)
{
	const struct claim_rec *x = *(struct claim_rec *const *)a,
			       *y = *(struct claim_rec *const *)b;
	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	if (x->price != y->price)
		return x->price > y->price ? -1 : 1;
	return strcmp(x->claim->meta->name, y->claim->meta->name);
}

static bool consolidates(const struct pool_rec *pr)
{
	return !pr->deleted && pr->np->consolidation_policy != KERF_CONSOLIDATE_WHEN_EMPTY &&
	       pr->np->consolidate_after_ms != KERF_DURATION_NEVER;
}

/*
 * Consolidation candidates of `pool` (SIZE_MAX: every pool) whose last
 * pod event is consolidateAfter old, cheapest to move first, in *out
 * (owned by the caller).  Those not old enough yet bring d->eligible_ms
 * forward to when they will be.
 */
static size_t consolidation_candidates(struct disruption *d, size_t pool, kerf_mono_ms_t now,
				       struct claim_rec ***out)
{
	struct provisioner *p = d->p;
	struct claim_rec **cands = NULL;
	size_t n = 0;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		const struct pool_rec *pr = &p->pools[c->pool];
		size_t moving;
		if ((pool != SIZE_MAX && c->pool != pool) || !consolidates(pr) ||
		    !candidate_at(d, i, &moving) || moving == 0 || c->pod_event_ms == 0)
			continue;
		if (now - c->pod_event_ms < pr->np->consolidate_after_ms) {
			kerf_mono_ms_t due = c->pod_event_ms + pr->np->consolidate_after_ms;
			if (due < d->eligible_ms)
				d->eligible_ms = due;
			continue;
		}
		/* The sort key; `entry` is rebuilt by every batch before it is read. */
		c->entry = moving;
		xpush(cands, n, c);
	}
	if (n)
		qsort(cands, n, sizeof(*cands), cmp_cost);
	*out = cands;
	return n;
}

/* A consolidation to validate after VALIDATION_MS; takes victims. */
static void command_set(struct disruption *d, const char *method, const char *variant, size_t n,
			struct claim_rec **victims, bool replace,
			const struct prov_consolidation *out, kerf_mono_ms_t now)
{
	free(d->cmd.victims);
	d->cmd = (struct command){.active = true,
				  .reason = DISRUPT_UNDERUTILIZED,
				  .method = method,
				  .variant = variant,
				  .n = n,
				  .victims = victims,
				  .replace = replace,
				  .new_price = out->new_price,
				  .pods = out->pods,
				  .validate_at = now + VALIDATION_MS};
	log_info(COMPONENT_D, "%s: NodeClaim %s%s can be %s ($%.4f/h -> $%.4f/h): validating",
		 method, victims[0]->claim->meta->name, n > 1 ? " and others" : "",
		 replace ? "replaced" : "deleted", (double)price_of(n, victims) / 1e6,
		 (double)out->new_price / 1e6);
}

static bool pool_wants_karpenter(const struct provisioner *p, const struct pool_rec *pr)
{
	for (size_t i = 0; i < p->cfg.n_pool_packing; i++)
		if (strcmp(p->cfg.pool_packing[i].name, pr->np->meta->name) == 0)
			return p->cfg.pool_packing[i].consolidation_karpenter;
	return false;
}

/*
 * consolidation: karpenter.  The longest prefix of the candidates (at
 * most MULTI_NODE_MAX, at least two) that is worth removing, found by
 * binary search as Karpenter does: about log2(n) simulations, and only
 * prefixes are ever looked at.
 */
static size_t multi_prefix(struct disruption *d, struct claim_rec **cands, size_t max,
			   bool *replace, struct prov_consolidation *best)
{
	size_t lo = 2, hi = max, found = 0;
	while (lo <= hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct prov_consolidation out;
		bool r;
		if (worth_it(d, mid, cands, false, &r, &out)) {
			found = mid;
			*replace = r;
			*best = out;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

/*
 * consolidation: packing.  The candidates, cheapest to move first, join
 * the set in runs: a run joins when the set with it still packs (its pods
 * on the nodes left and at most one new node, the NodePool's packer
 * deciding) and saves strictly more than without it.  A run that joins
 * doubles the next; one that does not is halved, and a single candidate
 * that does not join is skipped, not the end of the search, so the set
 * need not be a prefix.  After PACKING_MAX_REFUSED skipped candidates the
 * search ends: a scan where nothing can go costs that many simulations,
 * not one per candidate.  The set is written to set (room for max).
 */
static size_t multi_packing(struct disruption *d, struct claim_rec **cands, size_t n, size_t max,
			    struct claim_rec **set, bool *replace, struct prov_consolidation *best)
{
	size_t k = 0, i = 0, run = 1, refused = 0;
	kerf_price_t saved = 0;
	while (i < n && k < max && refused < PACKING_MAX_REFUSED) {
		size_t take = run;
		if (take > n - i)
			take = n - i;
		if (take > max - k)
			take = max - k;
		memcpy(set + k, cands + i, take * sizeof(*set));
		struct prov_consolidation out;
		bool r;
		if (worth_it(d, k + take, set, false, &r, &out) &&
		    out.old_price_limit - out.new_price > saved) {
			saved = out.old_price_limit - out.new_price;
			*replace = r;
			*best = out;
			k += take;
			i += take;
			run *= 2;
		} else if (take == 1) {
			i++;
			refused++;
		} else {
			run = take / 2;
		}
	}
	return k >= 2 ? k : 0;
}

/*
 * Multi-node consolidation, per NodePool with its `consolidation` method:
 * two or more candidates removed at once, their pods on the other nodes
 * and at most one new node strictly cheaper than them.
 */
static bool multi_node(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	for (size_t pool = 0; pool < p->n_pools; pool++) {
		const struct pool_rec *pr = &p->pools[pool];
		if (!consolidates(pr))
			continue;
		struct claim_rec **cands;
		size_t n = consolidation_candidates(d, pool, now, &cands), k = 0;
		size_t max = allowance(p, pool, DISRUPT_UNDERUTILIZED);
		bool karpenter = pool_wants_karpenter(p, pr), replace = false;
		struct claim_rec **set = NULL;
		struct prov_consolidation out;
		if (max > n)
			max = n;
		if (karpenter && max > MULTI_NODE_MAX)
			max = MULTI_NODE_MAX;
		if (max >= 2) {
			/* Real time, as a batch's solve_ms: what a decision costs the loop. */
			int64_t t0 = now_mono_ns(), cpu0 = thread_cpu_ns();
			d->simulations = 0;
			set = xcalloc(max, sizeof(*set));
			k = karpenter ? multi_prefix(d, cands, max, &replace, &out)
				      : multi_packing(d, cands, n, max, set, &replace, &out);
			if (karpenter)
				memcpy(set, cands, k * sizeof(*set));
			log_msg(k ? KERF_LOG_INFO : KERF_LOG_DEBUG, COMPONENT_D,
				"multi-node consolidation (%s) of NodePool %s: %zu candidates, "
				"%zu simulations, %.1f ms, %.1f ms CPU, %zu nodes to remove",
				karpenter ? "karpenter" : "packing", pr->np->meta->name, n,
				d->simulations, (double)(now_mono_ns() - t0) / 1e6,
				(double)(thread_cpu_ns() - cpu0) / 1e6, k);
		}
		free(cands);
		if (k == 0) {
			free(set);
			continue;
		}
		command_set(d, "multi-node consolidation", karpenter ? "karpenter" : "packing", k,
			    set, replace, &out, now);
		return true;
	}
	return false;
}

/*
 * Single-node consolidation: the first candidate, cheapest to move, that
 * can go or be replaced by a cheaper node.
 */
static bool single_node(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	struct claim_rec **cands;
	size_t n = consolidation_candidates(d, SIZE_MAX, now, &cands);
	bool decided = false;
	for (size_t i = 0; i < n && !decided; i++) {
		struct claim_rec *c = cands[i];
		struct prov_consolidation out;
		bool replace;
		if (allowance(p, c->pool, DISRUPT_UNDERUTILIZED) == 0 ||
		    !worth_it(d, 1, &c, false, &replace, &out))
			continue;
		struct claim_rec **set = xcalloc(1, sizeof(*set));
		set[0] = c;
		command_set(d, "single-node consolidation", NULL, 1, set, replace, &out, now);
		decided = true;
	}
	free(cands);
	return decided;
}

/*
 * Multi-node, then single-node consolidation; a decision becomes a
 * command, carried out after VALIDATION_MS if it still holds then.
 */
static bool consolidation(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	/*
	 * The pods of nodes still ending are in no simulation until they land
	 * elsewhere: deciding now would count their room twice.
	 */
	if (prov_terminating(p))
		return false;
	if (d->scanned && d->scanned_events == p->st->events && now - d->scanned_ms < RESCAN_MS &&
	    now < d->eligible_ms)
		return false;
	d->eligible_ms = INT64_MAX;
	bool decided = multi_node(d, now) || single_node(d, now);
	d->scanned = !decided;
	d->scanned_events = p->st->events;
	d->scanned_ms = now;
	return decided;
}

/* The command's victims end: counted, tainted and drained. */
static void command_carry_out(struct disruption *d)
{
	struct command *cmd = &d->cmd;
	count_decision(d->p, cmd->reason, cmd->n, cmd->victims, cmd->pods, cmd->new_price);
	for (size_t i = 0; i < cmd->n; i++)
		prov_terminate(d->p, cmd->victims[i], reason_names[cmd->reason], true);
}

/* A command's next step; true while it holds the pass. */
static bool command_step(struct disruption *d, kerf_mono_ms_t now)
{
	struct provisioner *p = d->p;
	struct command *cmd = &d->cmd;
	struct claim_rec *c = cmd->victims[0];
	size_t moving;
	if (cmd->replacement) {
		if (cmd->replacement->gone) {
			/* Nothing was tainted or evicted yet: the candidates simply stay. */
			log_warn(COMPONENT_D,
				 "replacement %s for NodeClaim %s failed: disruption rolled back",
				 cmd->replacement->claim->meta->name, c->claim->meta->name);
			if (d->log) {
				json_t *o = decision_log_line(d->log);
				json_t *names = json_array();
				for (size_t i = 0; i < cmd->n; i++)
					json_array_append_new(
					    names, json_string(cmd->victims[i]->claim->meta->name));
				json_object_set_new(o, "event", json_string("disruption-rollback"));
				json_object_set_new(o, "nodeclaim",
						    json_string(c->claim->meta->name));
				json_object_set_new(o, "nodeclaims", names);
				json_object_set_new(
				    o, "replacement",
				    json_string(cmd->replacement->claim->meta->name));
				decision_log_emit(d->log, o);
			}
			cmd->active = false;
			return false;
		}
		if (!cmd->replacement->initialized)
			return true;
		command_carry_out(d);
		free(d->retiring);
		d->retiring = cmd->victims;
		d->n_retiring = cmd->n;
		d->retiring_for = cmd->replacement;
		cmd->victims = NULL;
		cmd->active = false;
		return true;
	}
	if (now < cmd->validate_at) {
		if (cmd->validate_at < d->next_ms)
			d->next_ms = cmd->validate_at;
		return true;
	}
	cmd->active = false;
	struct prov_consolidation out = {0};
	bool replace, still = allowance(p, c->pool, DISRUPT_UNDERUTILIZED) >= cmd->n;
	for (size_t i = 0; still && i < cmd->n; i++)
		still = candidate(p, cmd->victims[i], &moving) != NULL;
	if (!still || !worth_it(d, cmd->n, cmd->victims, cmd->replace, &replace, &out) ||
	    replace != cmd->replace || out.new_price > cmd->new_price) {
		log_info(COMPONENT_D, "NodeClaim %s: %s no longer holds after %d s",
			 c->claim->meta->name, cmd->method, VALIDATION_MS / 1000);
		if (out.launched)
			prov_terminate(p, out.launched, "consolidation-abandoned", false);
		return false;
	}
	log_decision(d, cmd->method, cmd->variant, DISRUPT_UNDERUTILIZED, cmd->n, cmd->victims,
		     out.pods, out.new_price, out.launched);
	cmd->pods = out.pods;
	cmd->new_price = out.new_price;
	if (!replace) {
		command_carry_out(d);
		return true;
	}
	out.launched->replacing = true;
	cmd->replacement = out.launched;
	cmd->active = true;
	return true;
}

/* ------------------------------------------------------------------- drift */

static bool requirement_holds(const struct kerf_requirement *r, const struct kerf_labels *labels)
{
	const char *v = kerf_labels_get(labels, r->key);
	bool in = false;
	for (size_t i = 0; v && i < r->n_values; i++)
		in |= strcmp(v, r->values[i]) == 0;
	switch (r->op) {
	case KERF_OP_IN:
		return in;
	case KERF_OP_NOT_IN:
		return !in;
	case KERF_OP_EXISTS:
		return v != NULL;
	case KERF_OP_DOES_NOT_EXIST:
		return v == NULL;
	default:
		/* Gt, Lt and their kin: numeric bounds kerf's provisioning already enforced. */
		return true;
	}
}

/*
 * Why c drifted from its NodePool, or NULL: the provider said so, its
 * instance type or offering (zone and capacity type) is no longer among
 * the provider's, the pool's template hash (same hash version) is not the one the claim was
 * made with, or the node's labels no longer meet the pool's requirements.
 */
/*
 * What drift_of() looks up per NodePool, made once a pass by the first
 * claim asking: the pool's template hash as it is now, and its instance
 * types by name (the first of a name, as prov_find_type has it).
 */
struct drift_pass {
	char (*hashes)[32];
	struct hmap *types;
	bool *indexed;
};

static const struct kerf_instance_type *pool_type(const struct pool_rec *pr, size_t pool,
						  struct drift_pass *dp, const char *name)
{
	if (!dp->indexed[pool]) {
		dp->indexed[pool] = true;
		for (size_t i = pr->types->n; i-- > 0;)
			hmap_set_str(&dp->types[pool], pr->types->items[i]->name,
				     pr->types->items[i]);
	}
	return hmap_get_str(&dp->types[pool], name);
}

static const char *drift_of(const struct provisioner *p, const struct claim_rec *c,
			    const struct kerf_node *node, struct drift_pass *dp)
{
	const struct pool_rec *pr = &p->pools[c->pool];
	const struct kerf_nodepool *np = pr->np;
	if (c->drifted)
		return "the provider's drift check";
	/* Withdrawn, not out of capacity: an unavailable offering is still offered. */
	if (pr->types && c->type_name) {
		const struct kerf_instance_type *t = pool_type(pr, c->pool, dp, c->type_name);
		if (!t)
			return "its instance type is no longer offered";
		if (c->zone && prov_offering_price(t, c->zone, c->capacity_type, -1) < 0)
			return "its offering is no longer offered";
	}
	const struct kerf_labels *ann = &c->claim->meta->annotations;
	const char *hash = kerf_labels_get(ann, ANNOTATION_POOL_HASH);
	const char *version = kerf_labels_get(ann, ANNOTATION_POOL_HASH_VERSION);
	if (hash && version && strcmp(version, POOL_HASH_VERSION) == 0) {
		if (!dp->hashes[c->pool][0])
			prov_pool_hash(np, dp->hashes[c->pool], sizeof(dp->hashes[c->pool]));
		if (strcmp(dp->hashes[c->pool], hash) != 0)
			return "the NodePool's template changed";
	}
	for (size_t i = 0; i < np->requirements.n; i++)
		if (!requirement_holds(np->requirements.items[i], &node->meta->labels))
			return "the NodePool's requirements changed";
	return NULL;
}

/*
 * Drift: the first drifted candidate its pool's budgets let go is
 * replaced: its pods are scheduled without it, a new node is launched
 * when they need one and initialised before the drain; when they need
 * none, or more than one, it is drained and provisioning takes them.
 */
static bool drift(struct disruption *d)
{
	struct provisioner *p = d->p;
	struct drift_pass dp = {.hashes = xcalloc(p->n_pools + 1, sizeof(*dp.hashes)),
				.types = xcalloc(p->n_pools + 1, sizeof(*dp.types)),
				.indexed = xcalloc(p->n_pools + 1, sizeof(*dp.indexed))};
	bool decided = false;
	for (size_t i = 0; i < p->st->n_claims && !decided; i++) {
		struct claim_rec *c = p->st->claims[i];
		size_t moving;
		const struct node_rec *nr = candidate_at(d, i, &moving);
		const char *why = nr ? drift_of(p, c, nr->node, &dp) : NULL;
		if (!why)
			continue;
		if (allowance(p, c->pool, DISRUPT_DRIFTED) == 0) {
			size_t total, disrupting;
			pool_counts(p, c->pool, &total, &disrupting);
			d->drift_waiting |= disrupting > 0;
			continue;
		}
		d->drift_waiting = true;
		struct prov_consolidation out;
		struct kerf_error err = KERF_ERROR_INIT;
		out.old_price_limit = INT64_MAX;
		if (prov_consolidate(p, 1, &c, true, &out, &err) != 0) {
			log_warn(COMPONENT_D, "drift of %s: %s", c->claim->meta->name, err.message);
			continue;
		}
		/* Pods with nowhere to go keep their node, drifted or not. */
		if (!out.fits)
			continue;
		log_info(COMPONENT_D, "NodeClaim %s drifted: %s", c->claim->meta->name, why);
		log_decision(d, "drift", NULL, DISRUPT_DRIFTED, 1, &c, out.pods, out.new_price,
			     out.launched);
		if (!out.launched) {
			count_decision(p, DISRUPT_DRIFTED, 1, &c, out.pods, out.new_price);
			prov_terminate(p, c, reason_names[DISRUPT_DRIFTED], true);
			decided = true;
			continue;
		}
		out.launched->replacing = true;
		struct claim_rec **set = xcalloc(1, sizeof(*set));
		set[0] = c;
		free(d->cmd.victims);
		d->cmd = (struct command){.active = true,
					  .reason = DISRUPT_DRIFTED,
					  .method = "drift",
					  .n = 1,
					  .victims = set,
					  .replace = true,
					  .new_price = out.new_price,
					  .pods = out.pods,
					  .replacement = out.launched};
		decided = true;
	}
	for (size_t i = 0; i < p->n_pools; i++)
		hmap_clear(&dp.types[i], NULL);
	free(dp.hashes);
	free(dp.types);
	free(dp.indexed);
	return decided;
}

/*
 * Every NodeClaim of a deleted NodePool ends through the termination
 * controller as one deleted by hand does: tainted, drained under the
 * PodDisruptionBudgets, its instance terminated, its finalizers removed.
 * All at once and outside the budgets, as the cluster's garbage
 * collector deletes a NodePool's NodeClaims together.  A claim still
 * launching is ended once its launch is known, by a later pass.
 */
static void pool_deletions(struct disruption *d)
{
	struct provisioner *p = d->p;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		if (!p->pools[c->pool].deleted || c->gone || c->deleting || c->launching)
			continue;
		log_info(COMPONENT_D, "NodeClaim %s: its NodePool %s was deleted",
			 c->claim->meta->name, p->pools[c->pool].np->meta->name);
		prov_terminate(p, c, "nodepool-deleted", true);
	}
}

void disruption_reconcile(struct disruption *d)
{
	struct provisioner *p = d->p;
	kerf_mono_ms_t now = prov_now(p);
	d->pass++;
	d->next_ms = INT64_MAX;
	d->drift_waiting = false;
	for (size_t i = 0; i < p->st->n_claims; i++)
		p->st->claims[i]->has_nominee = false;
	for (size_t i = 0; i < p->st->n_pods; i++)
		if (p->st->pods[i]->nominated)
			p->st->pods[i]->nominated->has_nominee = true;
	/* A node held for pods left to the scheduler is looked at again once the hold ends. */
	for (size_t i = 0; i < p->st->n_claims; i++) {
		kerf_mono_ms_t until = p->st->claims[i]->nominated_until;
		if (until > now && until < d->next_ms)
			d->next_ms = until;
	}
	if (d->retiring) {
		bool gone = true;
		for (size_t i = 0; i < d->n_retiring; i++)
			gone &= d->retiring[i]->gone;
		if (gone) {
			d->retiring_for->replacing = false;
			free(d->retiring);
			d->retiring = NULL;
			d->n_retiring = 0;
			d->retiring_for = NULL;
		}
	}
	pool_deletions(d);
	if (expiration(d, now))
		return;
	if (d->cmd.active && command_step(d, now))
		return;
	if (emptiness(d, now))
		return;
	if (d->cmd.active || d->retiring)
		return;
	if (drift(d))
		return;
	consolidation(d, now);
}

bool disruption_settled(const struct disruption *d)
{
	return d->next_ms == INT64_MAX && !d->cmd.active && !d->retiring && !d->drift_waiting;
}

kerf_mono_ms_t disruption_next_ms(const struct disruption *d)
{
	return d->next_ms;
}
