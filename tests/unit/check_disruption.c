/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_disruption.c - the disruption controller: budget schedules and
 * allowances as functions, then the built kerfd on the sim cluster and
 * provider under the virtual clock (tests/data/disruption), read back
 * from the decision log and --report.
 *
 * Every run starts at settings.virtual_start, so the decision log's
 * times are exact: START + the scenario's offsets.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "../common/kerfd_run.h"
#include "../common/slurp.h"
#include "budgets.h"

#define DATA KERF_TEST_DATADIR "/disruption"
#define NONE SIZE_MAX

/* 2026-01-05, a Monday, 00:00 UTC. */
#define MONDAY 1767571200000LL
#define HOUR 3600000LL
#define MINUTE 60000LL

/* --------------------------------------------------------------- budgets */

START_TEST(cron_fields)
{
	ck_assert(budget_cron_matches("0 9 * * mon-fri", MONDAY + 9 * HOUR));
	ck_assert(!budget_cron_matches("0 9 * * mon-fri", MONDAY + 9 * HOUR + MINUTE));
	/* Saturday and Sunday are outside mon-fri; 0 and 7 are both Sunday. */
	ck_assert(!budget_cron_matches("0 9 * * mon-fri", MONDAY + 5 * 24 * HOUR + 9 * HOUR));
	ck_assert(budget_cron_matches("0 9 * * 7", MONDAY - 24 * HOUR + 9 * HOUR));
	ck_assert(budget_cron_matches("*/15 * * * *", MONDAY + 45 * MINUTE));
	ck_assert(!budget_cron_matches("*/15 * * * *", MONDAY + 46 * MINUTE));
	ck_assert(budget_cron_matches("@daily", MONDAY));
	ck_assert(!budget_cron_matches("@daily", MONDAY + HOUR));
	ck_assert(budget_cron_matches("0 0 1 jan *", MONDAY - 4 * 24 * HOUR));
	/* Both days restricted: either matches (the 5th is a Monday, the 6th matches neither). */
	ck_assert(budget_cron_matches("0 0 5 * fri", MONDAY));
	ck_assert(!budget_cron_matches("0 0 4 * fri", MONDAY + 24 * HOUR));
	ck_assert(!budget_cron_matches("61 * * * *", MONDAY));
	ck_assert(!budget_cron_matches("* * * *", MONDAY));
}
END_TEST

START_TEST(allowance_most_restrictive)
{
	struct kerf_nodepool *np = kerf_nodepool_new();
	struct kerf_budget *pct = kerf_nodepool_add_budget(np);
	pct->nodes = 10;
	pct->nodes_percent = true;
	/* 10% of 25 rounds up to 3; of 0 it is 0. */
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY), 3);
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 0, MONDAY), 0);
	struct kerf_budget *hours = kerf_nodepool_add_budget(np);
	hours->nodes = 0;
	hours->schedule = strdup("0 9 * * mon-fri");
	hours->duration_ms = 8 * HOUR;
	hours->reasons = KERF_REASON_UNDERUTILIZED | KERF_REASON_EMPTY;
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY + 9 * HOUR), 0);
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY + 17 * HOUR - 1), 0);
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY + 17 * HOUR), 3);
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY + 9 * HOUR - 1), 3);
	/* A reason the budget does not name is not held by it. */
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_DRIFTED, 25, MONDAY + 10 * HOUR), 3);
	kerf_nodepool_free(np);
	np = kerf_nodepool_new();
	ck_assert_uint_eq(budget_allowed(np, KERF_REASON_EMPTY, 25, MONDAY), SIZE_MAX);
	kerf_nodepool_free(np);
}
END_TEST

/* ------------------------------------------------------------ on the sim */

static void kerfd_in(struct kerfd_run *r, const char *dir, const char *config)
{
	kerfd_run(r, dir, config, "");
}

static void kerfd(struct kerfd_run *r, const char *config)
{
	kerfd_in(r, DATA, config);
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static size_t count(const json_t *log, const char *event)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(log); i++) {
		const char *e = str_of(json_array_get(log, i), "event");
		n += e && strcmp(e, event) == 0;
	}
	return n;
}

static const json_t *first(const json_t *log, const char *event)
{
	for (size_t i = 0; i < json_array_size(log); i++) {
		const char *e = str_of(json_array_get(log, i), "event");
		if (e && strcmp(e, event) == 0)
			return json_array_get(log, i);
	}
	return NULL;
}

/* web's two 3-cpu replicas fill two m5.xlarge nodes; the claims are these two. */
static void check_disrupted(const json_t *line, const char *method, const char *reason,
			    json_int_t pods)
{
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(str_of(line, "method"), method);
	ck_assert_str_eq(str_of(line, "reason"), reason);
	ck_assert_str_eq(str_of(line, "nodepool"), "default");
	ck_assert_uint_eq(json_array_size(json_object_get(line, "nodeclaims")), 1);
	ck_assert_int_eq(int_at(line, "pods"), pods);
	/* m5.xlarge on demand in the sim's catalogue. */
	ck_assert_int_eq(int_at(line, "price_before_micro_usd_per_hour"), 192000);
	ck_assert_int_eq(int_at(line, "price_after_micro_usd_per_hour"), 0);
}

/*
 * WhenEmpty, consolidateAfter 30s: the replica removed at 3m (06:03:00)
 * leaves its node empty; the node is disrupted 30 s later, at 06:03:30,
 * and at no pass before.
 */
START_TEST(empty_after_consolidate_after)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;

	kerfd(&r, "empty.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 1);
	const json_t *d = first(r.log, "disruption");
	check_disrupted(d, "emptiness", "Empty", 0);
	ck_assert_int_eq(int_at(d, "time_ms"), start + 3 * MINUTE + 30000);
	const json_t *end = first(r.log, "empty");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(str_of(end, "nodeclaim"),
			 json_string_value(json_array_get(json_object_get(d, "nodeclaims"), 0)));
	ck_assert_int_eq(int_at(end, "evicted"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "disruption.nodes_by_reason.empty"), 1);
	ck_assert_int_eq(int_at(r.report, "disruption.saved_micro_usd_per_hour"), 192000);
	kerfd_run_free(&r);
}
END_TEST

/*
 * Budgets nodes "1" and, on weekdays from 09:00 for 8 h, nodes "0".  The
 * node emptied at 09:01 is held by the second budget until it ends at
 * 17:00:00, then disrupted at once.
 */
START_TEST(business_hours_budget)
{
	struct kerfd_run r;

	kerfd(&r, "business-hours.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 1);
	const json_t *d = first(r.log, "disruption");
	check_disrupted(d, "emptiness", "Empty", 0);
	ck_assert_int_eq(int_at(d, "time_ms"), MONDAY + 17 * HOUR);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	kerfd_run_free(&r);
}
END_TEST

/*
 * expireAfter 10m under a budget of nodes "0": both nodes, launched at
 * 06:00:01, are disrupted at 06:10:01 (the budget does not hold a
 * forceful method), drained, and their pods get two new nodes.
 */
START_TEST(expiration_ignores_budgets)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;

	kerfd(&r, "expire.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 2);
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *l = json_array_get(r.log, i);
		const char *e = str_of(l, "event");
		if (!e || strcmp(e, "disruption") != 0)
			continue;
		check_disrupted(l, "expiration", "Expired", 1);
		ck_assert_int_eq(int_at(l, "time_ms"), start + 1000 + 10 * MINUTE);
	}
	ck_assert_uint_eq(count(r.log, "expired"), 2);
	ck_assert_int_eq(int_at(first(r.log, "expired"), "evicted"), 1);
	ck_assert_int_eq(int_at(r.report, "batches"), 2);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 4);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.nodes_by_reason.expired"), 2);
	/* Expiration saves nothing: its nodes are replaced. */
	ck_assert_int_eq(int_at(r.report, "disruption.saved_micro_usd_per_hour"), 0);
	kerfd_run_free(&r);
}
END_TEST

/*
 * Three 2-cpu replicas on one m5.2xlarge ($0.384/h); two go at 3m.  The
 * scan at 3m01s finds the node replaceable by an m5.xlarge ($0.192/h),
 * re-checks it 15 s later (3m16s), launches the replacement, and drains
 * the old node only once the replacement is initialised (46 s of the
 * sim's start-up later), one step to taint it and one for its pod to go.
 */
START_TEST(single_node_replaced_by_cheaper)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;

	kerfd(&r, "replace.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 1);
	const json_t *d = first(r.log, "disruption");
	ck_assert_str_eq(str_of(d, "method"), "single-node consolidation");
	ck_assert_str_eq(str_of(d, "reason"), "Underutilized");
	ck_assert_int_eq(int_at(d, "time_ms"), start + 3 * MINUTE + 16000);
	ck_assert_int_eq(int_at(d, "pods"), 1);
	ck_assert_int_eq(int_at(d, "price_before_micro_usd_per_hour"), 384000);
	ck_assert_int_eq(int_at(d, "price_after_micro_usd_per_hour"), 192000);
	ck_assert_str_eq(str_of(d, "replacement_type"), "m5.xlarge");
	ck_assert_uint_eq(count(r.log, "underutilized"), 1);
	const json_t *end = first(r.log, "underutilized");
	ck_assert_int_eq(int_at(end, "time_ms"), start + 4 * MINUTE + 4000);
	ck_assert_int_eq(int_at(end, "evicted"), 1);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(r.report, "nodes"), "by_type"), 1),
		"instance_type")),
	    "m5.xlarge");
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 192000);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.saved_micro_usd_per_hour"), 192000);
	kerfd_run_free(&r);
}
END_TEST

/* The same with karpenter.sh/do-not-disrupt on the pods: the node is never a candidate. */
START_TEST(do_not_disrupt_pod_keeps_node)
{
	struct kerfd_run r;

	kerfd(&r, "do-not-disrupt.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 384000);
	ck_assert_int_eq(int_at(r.report, "disruption.decisions"), 0);
	kerfd_run_free(&r);
}
END_TEST

/*
 * The same where m5.xlarge has no capacity: the replacement's launch
 * fails at once, the decision is rolled back the next step, and the old
 * node, never tainted, keeps its pod.  The offering is then left out, so
 * no cheaper replacement is found again.
 */
START_TEST(failed_replacement_rolls_back)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;

	kerfd(&r, "rollback.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 1);
	ck_assert_uint_eq(count(r.log, "disruption-rollback"), 1);
	const json_t *rb = first(r.log, "disruption-rollback");
	ck_assert_int_eq(int_at(rb, "time_ms"), start + 3 * MINUTE + 17000);
	ck_assert_str_eq(str_of(rb, "nodeclaim"),
			 json_string_value(json_array_get(
			     json_object_get(first(r.log, "disruption"), "nodeclaims"), 0)));
	ck_assert_uint_eq(count(r.log, "underutilized"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 384000);
	ck_assert_int_eq(int_at(r.report, "disruption.decisions"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.pods_evicted"), 0);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	kerfd_run_free(&r);
}
END_TEST

/*
 * Four m5.xlarge nodes ($0.192/h each), each left with one 0.5-cpu pod
 * when the batch pods go at 3m, are folded by multi-node consolidation,
 * decided at 3m01s and carried out after its 15 s re-check (3m16s).
 * packing tries every candidate and keeps one while it adds to the
 * saving: the first three are deleted, their pods moving to the fourth,
 * with nothing launched.  karpenter takes the longest workable prefix,
 * all four, and replaces them with one new m5.xlarge, moving every pod
 * and waiting for the new node.  Both end on one node at $0.192/h.
 */
static void check_fold(const char *config, const char *variant, size_t nodes, kerf_price_t after,
		       json_int_t launched)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;

	kerfd(&r, config);
	ck_assert_uint_eq(count(r.log, "disruption"), 1);
	const json_t *d = first(r.log, "disruption");
	ck_assert_str_eq(str_of(d, "method"), "multi-node consolidation");
	ck_assert_str_eq(str_of(d, "consolidation"), variant);
	ck_assert_str_eq(str_of(d, "reason"), "Underutilized");
	ck_assert_int_eq(int_at(d, "time_ms"), start + 3 * MINUTE + 16000);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "nodeclaims")), nodes);
	ck_assert_int_eq(int_at(d, "pods"), (json_int_t)nodes);
	ck_assert_int_eq(int_at(d, "price_before_micro_usd_per_hour"), 192000 * (json_int_t)nodes);
	ck_assert_int_eq(int_at(d, "price_after_micro_usd_per_hour"), after);
	if (after)
		ck_assert_str_eq(str_of(d, "replacement_type"), "m5.xlarge");
	else
		ck_assert_ptr_null(json_object_get(d, "replacement"));
	ck_assert_uint_eq(count(r.log, "underutilized"), nodes);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), launched);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 192000);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.pods_evicted"), (json_int_t)nodes);
	ck_assert_int_eq(int_at(r.report, "disruption.nodes_by_reason.underutilized"),
			 (json_int_t)nodes);
	ck_assert_int_eq(int_at(r.report, "disruption.saved_micro_usd_per_hour"), 576000);
	kerfd_run_free(&r);
}

START_TEST(multi_node_packing_folds_three_into_the_fourth)
{
	check_fold("fold-packing.yaml", "packing", 3, 0, 4);
}
END_TEST

START_TEST(multi_node_karpenter_replaces_the_longest_prefix)
{
	check_fold("fold-karpenter.yaml", "karpenter", 4, 192000, 5);
}
END_TEST

/* A kerf.yaml in dir keeping the sim's world in dir/state.jsonl, starting at `start`. */
static void write_run_scenario(const char *dir, const char *name, const char *pool,
			       const char *start, const char *scenario);

static void write_run(const char *dir, const char *name, const char *pool, const char *start)
{
	write_run_scenario(dir, name, pool, start, NULL);
}

/* The same with a scenario from DATA (NULL: none). */
static void write_run_scenario(const char *dir, const char *name, const char *pool,
			       const char *start, const char *scenario)
{
	char path[512];
	FILE *f;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name), (int)sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [%s/%s]\n"
		"plugins:\n  sim:\n    workloads: [%s/web.yaml]\n    state_file: state.jsonl\n"
		"%s%s%s%s%s"
		"settings:\n  log_level: info\n  metrics_address: \"\"\n  health_address: \"\"\n"
		"  clock: virtual\n  virtual_start: %s\n",
		DATA, pool, DATA, scenario ? "    scenario: " : "", scenario ? DATA : "",
		scenario ? "/" : "", scenario ? scenario : "", scenario ? "\n" : "", start);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A first run leaves two m5.xlarge nodes of a NodePool labelling them
 * team: blue (web's two replicas) in the state file.  An hour later kerfd
 * starts with the pool relabelled team: green: both adopted NodeClaims
 * carry the old template's karpenter.sh/nodepool-hash, so both drifted.
 * The budget (nodes "1") lets one go at a time: the first is replaced (its
 * replacement launched and initialised, then it is drained), and only
 * once it has ended is the second replaced the same way.
 */
START_TEST(label_change_drifts_every_node_within_budget)
{
	char dir[] = "/tmp/check_disruption.drift.XXXXXX", path[512];
	static const char *const files[] = {"seed.yaml", "relabel.yaml", "state.jsonl",
					    "state.jsonl.tmp", NULL};
	struct kerfd_run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_run(dir, "seed.yaml", "pool-drift.yaml", "2026-01-05T06:00:00Z");
	write_run(dir, "relabel.yaml", "pool-drift-v2.yaml", "2026-01-05T07:00:00Z");
	kerfd_in(&r, dir, "seed.yaml");
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_uint_eq(count(r.log, "disruption"), 0);
	kerfd_run_free(&r);

	kerfd_in(&r, dir, "relabel.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 2);
	ck_assert_uint_eq(count(r.log, "drifted"), 2);
	const char *prev_end = NULL;
	json_int_t prev_end_ms = 0;
	for (size_t i = 0, k = 0; i < json_array_size(r.log); i++) {
		const json_t *l = json_array_get(r.log, i);
		const char *e = str_of(l, "event");
		if (e && strcmp(e, "disruption") == 0) {
			ck_assert_str_eq(str_of(l, "method"), "drift");
			ck_assert_str_eq(str_of(l, "reason"), "Drifted");
			ck_assert_str_eq(str_of(l, "replacement_type"), "m5.xlarge");
			/* The second waits for the first to end: one node at a time. */
			if (k++ == 1) {
				ck_assert_ptr_nonnull(prev_end);
				ck_assert_int_eq(int_at(l, "time_ms"), prev_end_ms + 1000);
			} else {
				ck_assert_ptr_null(prev_end);
			}
		} else if (e && strcmp(e, "drifted") == 0) {
			prev_end = e;
			prev_end_ms = int_at(l, "time_ms");
			ck_assert_int_eq(int_at(l, "evicted"), 1);
		}
	}
	/* The first decision at the first pass after adoption. */
	ck_assert_int_eq(int_at(first(r.log, "disruption"), "time_ms"), MONDAY + 7 * HOUR + 2000);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 4);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.nodes_by_reason.drifted"), 2);
	kerfd_run_free(&r);
	for (size_t i = 0; files[i]; i++) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, files[i]),
				 (int)sizeof(path));
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * replace.yaml on spot: an m5.xlarge ($0.0638/h) would do for the
 * half-empty m5.2xlarge ($0.182363/h), but it is the only cheaper type, and
 * spot-to-spot replacement needs 15: the node stays.
 */
START_TEST(spot_to_spot_needs_15_cheaper_types)
{
	struct kerfd_run r;

	kerfd(&r, "spot.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 182363);
	kerfd_run_free(&r);
}
END_TEST

/*
 * kubectl delete nodepool default at 3m, its two m5.xlarge nodes full of
 * web's six 1-cpu replicas under a budget of one unavailable at a time.
 * Both NodeClaims end through the termination path at the next pass
 * (06:03:01), together and outside the disruption budgets: tainted, then
 * drained one pod at a time across both nodes.  The first evicted pod has
 * nowhere to go but a new node of the fallback NodePool (batch 2, that
 * pod alone: two evicted at once would make it two), never default's
 * again; the rest wait, refused, until it runs, and then fit beside it.
 * Each instance goes once its node is drained; the times and refusals
 * are those of the seeded cloud's start-up times.
 */
START_TEST(deleted_nodepool_ends_its_nodeclaims)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;
	static const json_int_t end_ms[] = {4 * MINUTE + 8000, 4 * MINUTE + 38000};
	static const json_int_t drain_ms[] = {67000, 97000}, refused[] = {17, 33};

	kerfd(&r, "nodepool-delete.yaml");
	size_t batches = 0, ended = 0, late_launches = 0;
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *l = json_array_get(r.log, i);
		const char *e = str_of(l, "event");
		if (json_object_get(l, "batch")) {
			if (++batches == 2) {
				ck_assert_int_eq(int_at(l, "time_ms"), start + 3 * MINUTE + 3000);
				ck_assert_int_eq(int_at(l, "pods"), 1);
			}
		} else if (e && strcmp(e, "launched") == 0 &&
			   int_at(l, "time_ms") >= start + 3 * MINUTE) {
			ck_assert_str_eq(str_of(l, "nodepool"), "fallback");
			ck_assert_str_eq(str_of(l, "instance_type"), "m5.2xlarge");
			late_launches++;
		} else if (e && strcmp(e, "nodepool-deleted") == 0) {
			ck_assert_uint_lt(ended, 2);
			ck_assert_str_eq(str_of(l, "nodepool"), "default");
			ck_assert_int_eq(int_at(l, "time_ms"), start + end_ms[ended]);
			ck_assert_int_eq(int_at(l, "drain_ms"), drain_ms[ended]);
			ck_assert_int_eq(int_at(l, "evicted"), 3);
			ck_assert_int_eq(int_at(l, "evictions_refused"), refused[ended]);
			ended++;
		}
	}
	ck_assert_uint_eq(batches, 2);
	ck_assert_uint_eq(late_launches, 1);
	ck_assert_uint_eq(ended, 2);
	/* Not a disruption decision: no budget held it, and nothing is counted as saved. */
	ck_assert_uint_eq(count(r.log, "disruption"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 3);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 384000);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.pods_evicted"), 6);
	ck_assert_msg(strstr(r.err, "scenario: delete_nodepool default"), "%s", r.err);
	ck_assert_msg(!strstr(r.err, "broken"), "%s", r.err);
	kerfd_run_free(&r);
}
END_TEST

/*
 * A PodDisruptionBudget of maxUnavailable 1 over three replicas, all on
 * the node deleted by hand at 3m: never two evicted at once.  The first
 * evicted pod has nowhere to go but a new node (batch 2, that pod alone:
 * two evicted at once would make it two); the other two are refused
 * until it runs there, then fit beside it.  The simulator logs any pod
 * that left with its node while its budget would have refused the
 * eviction: none does.
 */
START_TEST(pdb_three_replicas_one_at_a_time)
{
	struct kerfd_run r;
	const kerf_wall_ms_t start = MONDAY + 6 * HOUR;
	size_t batches = 0;

	kerfd(&r, "drain-pdb3.yaml");
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *l = json_array_get(r.log, i);
		if (json_object_get(l, "batch") && ++batches == 2) {
			ck_assert_int_eq(int_at(l, "pods"), 1);
			ck_assert_int_eq(int_at(l, "time_ms"), start + 3 * MINUTE + 3000);
		}
	}
	ck_assert_uint_eq(batches, 2);
	ck_assert_uint_eq(count(r.log, "deleted"), 1);
	const json_t *end = first(r.log, "deleted");
	ck_assert_int_eq(int_at(end, "evicted"), 3);
	ck_assert_int_eq(int_at(end, "evictions_refused"), 17);
	ck_assert_int_eq(int_at(end, "drain_ms"), 68000);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	ck_assert_msg(!strstr(r.err, "broken"), "%s", r.err);
	kerfd_run_free(&r);
}
END_TEST

#define KERFCTL KERF_TEST_BUILDDIR "/core/kerfctl"

/*
 * kerfctl disruption-report over a decision log: a consolidation that
 * ended its node (saving counted when the node ends), one rolled back
 * (not counted), an expiration (nothing saved), and the drains' figures.
 */
START_TEST(disruption_report_sums_the_log)
{
	static const char *const lines[] = {
	    "{\"time_ms\":1,\"batch\":1,\"pods\":3,\"nodeclaims\":[]}",
	    "{\"time_ms\":2,\"event\":\"disruption\",\"method\":\"single-node "
	    "consolidation\",\"reason\":\"Underutilized\",\"nodeclaims\":[\"a\"],\"pods\":2,"
	    "\"price_before_micro_usd_per_hour\":384000,\"price_after_micro_usd_per_hour\":192000}",
	    "{\"time_ms\":3,\"event\":\"disruption\",\"method\":\"single-node "
	    "consolidation\",\"reason\":\"Underutilized\",\"nodeclaims\":[\"b\"],\"pods\":1,"
	    "\"price_before_micro_usd_per_hour\":384000,\"price_after_micro_usd_per_hour\":192000}",
	    "{\"time_ms\":4,\"event\":\"disruption-rollback\",\"nodeclaim\":\"b\"}",
	    "{\"time_ms\":5,\"event\":\"disruption\",\"method\":\"expiration\",\"reason\":"
	    "\"Expired\",\"nodeclaims\":[\"c\"],\"pods\":4,\"price_before_micro_usd_per_hour\":"
	    "100,\"price_after_micro_usd_per_hour\":0}",
	    "{\"time_ms\":6,\"event\":\"underutilized\",\"nodeclaim\":\"a\",\"drain_ms\":2000,"
	    "\"evicted\":2,\"evictions_refused\":5}",
	    "{\"time_ms\":7,\"event\":\"expired\",\"nodeclaim\":\"c\",\"drain_ms\":6000,"
	    "\"evicted\":4,\"evictions_refused\":0}",
	    NULL};
	char log[] = "/tmp/check_disruption.report.XXXXXX", cmd[512];
	int fd = mkstemp(log);
	char *out = NULL, *err = NULL;

	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; lines[i]; i++)
		fprintf(f, "%s\n", lines[i]);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_lt(
	    snprintf(cmd, sizeof(cmd), "'%s' disruption-report -o json '%s'", KERFCTL, log),
	    (int)sizeof(cmd));
	ck_assert_int_eq(run_captured(cmd, &out, &err), 0);
	json_t *doc = json_loads(out, 0, NULL);
	ck_assert_msg(doc != NULL, "%s%s", out, err);
	ck_assert_int_eq(int_at(doc, "decisions"), 3);
	ck_assert_int_eq(int_at(doc, "rollbacks"), 1);
	ck_assert_int_eq(int_at(doc, "nodes_by_reason.Underutilized"), 2);
	ck_assert_int_eq(int_at(doc, "nodes_by_reason.Expired"), 1);
	ck_assert_int_eq(int_at(doc, "pods_moved"), 7);
	ck_assert_int_eq(int_at(doc, "saved_micro_usd_per_hour"), 192000);
	ck_assert_int_eq(int_at(doc, "pods_evicted"), 6);
	ck_assert_int_eq(int_at(doc, "evictions_refused"), 5);
	ck_assert_int_eq(int_at(doc, "drains"), 2);
	ck_assert_int_eq(int_at(doc, "drain_max_ms"), 6000);
	json_decref(doc);
	free(out);
	free(err);
	/* A file that is not a decision log is refused with its line. */
	ck_assert_int_lt(
	    snprintf(cmd, sizeof(cmd), "'%s' disruption-report '%s/empty.yaml'", KERFCTL, DATA),
	    (int)sizeof(cmd));
	ck_assert_int_eq(run_captured(cmd, &out, &err), 1);
	ck_assert_msg(strstr(err, "empty.yaml:1: not a JSON object"), "%s", err);
	free(out);
	free(err);
	unlink(log);
}
END_TEST

/*
 * A claim's age is its creationTimestamp's, not the time kerfd adopted it:
 * nodes made at 06:00:01 by a first run expire at 06:10:01 in a second
 * run started at 06:05, five minutes and one second in, not ten.
 */
START_TEST(adopted_claims_keep_their_age)
{
	char dir[] = "/tmp/check_disruption.age.XXXXXX", path[512];
	static const char *const files[] = {"seed.yaml", "resume.yaml", "state.jsonl",
					    "state.jsonl.tmp", NULL};
	struct kerfd_run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_run(dir, "seed.yaml", "pool-expire.yaml", "2026-01-05T06:00:00Z");
	write_run_scenario(dir, "resume.yaml", "pool-expire.yaml", "2026-01-05T06:05:00Z",
			   "expire-scenario.yaml");
	kerfd_in(&r, dir, "seed.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 0);
	kerfd_run_free(&r);
	kerfd_in(&r, dir, "resume.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 2);
	ck_assert_int_eq(int_at(first(r.log, "disruption"), "time_ms"),
			 MONDAY + 6 * HOUR + 10 * MINUTE + 1000);
	kerfd_run_free(&r);
	for (size_t i = 0; files[i]; i++) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, files[i]),
				 (int)sizeof(path));
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A first run leaves two spot m5.xlarge nodes (a catalogue of m5.xlarge
 * alone); an hour later the catalogue has no spot estimate for it, so the
 * sim no longer offers it on spot: both claims' offering is withdrawn,
 * both drift and are replaced on demand, one at a time (the budget is
 * nodes "1"), each replacement initialised before its old node is drained.
 */
START_TEST(withdrawn_offering_drifts)
{
	char dir[] = "/tmp/check_disruption.withdrawn.XXXXXX", path[512];
	static const char *const files[] = {"seed.yaml", "moved.yaml", "state.jsonl",
					    "state.jsonl.tmp", NULL};
	static const char *const catalogues[] = {"m5-spot", "m5-no-spot"};
	struct kerfd_run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, files[i]),
				 (int)sizeof(path));
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(
		    f,
		    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: "
		    "[%s/pool-drift-spot.yaml]\nplugins:\n  sim:\n    workloads: [%s/web.yaml]\n"
		    "    state_file: state.jsonl\n    catalogue: %s/catalogue-%s.tsv\nsettings:\n  "
		    "log_level: info\n"
		    "  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n"
		    "  virtual_start: 2026-01-05T0%zu:00:00Z\n",
		    DATA, DATA, DATA, catalogues[i], 6 + i);
		ck_assert_int_eq(fclose(f), 0);
	}
	kerfd_in(&r, dir, "seed.yaml");
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_str_eq(str_of(first(r.log, "launched"), "capacity_type"), "spot");
	/* Both spot m5.xlarge in one zone, launched together: one price. */
	json_int_t spot_price = int_at(first(r.log, "launched"), "price_micro_usd_per_hour");
	ck_assert_int_gt(spot_price, 0);
	kerfd_run_free(&r);

	kerfd_in(&r, dir, "moved.yaml");
	ck_assert_uint_eq(count(r.log, "disruption"), 2);
	ck_assert_uint_eq(count(r.log, "drifted"), 2);
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *l = json_array_get(r.log, i);
		const char *e = str_of(l, "event");
		if (e && strcmp(e, "disruption") == 0) {
			ck_assert_str_eq(str_of(l, "method"), "drift");
			ck_assert_str_eq(str_of(l, "replacement_type"), "m5.xlarge");
			/* The offering is gone: the price is the one it was launched at. */
			ck_assert_int_eq(int_at(l, "price_before_micro_usd_per_hour"), spot_price);
		} else if (e && strcmp(e, "launched") == 0) {
			ck_assert_str_eq(str_of(l, "capacity_type"), "on-demand");
		}
	}
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "disruption.nodes_by_reason.drifted"), 2);
	kerfd_run_free(&r);
	for (size_t i = 0; files[i]; i++) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, files[i]),
				 (int)sizeof(path));
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("disruption");
	TCase *tb = tcase_create("budgets");
	TCase *tc = tcase_create("kerfd_on_sim");

	tcase_add_test(tb, cron_fields);
	tcase_add_test(tb, allowance_most_restrictive);
	tcase_add_test(tb, disruption_report_sums_the_log);
	suite_add_tcase(s, tb);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_after_consolidate_after);
	tcase_add_test(tc, business_hours_budget);
	tcase_add_test(tc, expiration_ignores_budgets);
	tcase_add_test(tc, single_node_replaced_by_cheaper);
	tcase_add_test(tc, do_not_disrupt_pod_keeps_node);
	tcase_add_test(tc, failed_replacement_rolls_back);
	tcase_add_test(tc, spot_to_spot_needs_15_cheaper_types);
	tcase_add_test(tc, label_change_drifts_every_node_within_budget);
	tcase_add_test(tc, adopted_claims_keep_their_age);
	tcase_add_test(tc, multi_node_packing_folds_three_into_the_fourth);
	tcase_add_test(tc, multi_node_karpenter_replaces_the_longest_prefix);
	tcase_add_test(tc, withdrawn_offering_drifts);
	tcase_add_test(tc, deleted_nodepool_ends_its_nodeclaims);
	tcase_add_test(tc, pdb_three_replicas_one_at_a_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
