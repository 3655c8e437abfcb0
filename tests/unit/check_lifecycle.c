/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_lifecycle.c - the NodeClaim lifecycle end to end: the built kerfd on
 * the sim cluster and provider under the virtual clock, with scenarios that
 * make the simulated cloud interrupt and terminate instances, offerings
 * without capacity, launches that fail for capacity, and a world resumed
 * from a state file with an instance no claim owns and a claim whose
 * instance is gone.
 *
 * Each test reads back the decision log (one JSON object per line) and
 * --report, and asserts on counts and on the order of the lifecycle events.
 * The cloud is seeded and the clock virtual, so every run is the same.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/kerfd_run.h"
#include "../common/slurp.h"

#define DATA KERF_TEST_DATADIR "/lifecycle"
#define NONE SIZE_MAX

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool is_event(const json_t *line, const char *event, const char *claim)
{
	const char *e = str_of(line, "event"), *c = str_of(line, "nodeclaim");
	return e && strcmp(e, event) == 0 && (!claim || (c && strcmp(c, claim) == 0));
}

/* Where the first line at or after `from` with this event (for claim, unless NULL) is. */
static size_t find_from(const json_t *log, size_t from, const char *event, const char *claim)
{
	for (size_t i = from; i < json_array_size(log); i++)
		if (is_event(json_array_get(log, i), event, claim))
			return i;
	return NONE;
}

static size_t find(const json_t *log, const char *event, const char *claim)
{
	return find_from(log, 0, event, claim);
}

static size_t count(const json_t *log, const char *event, const char *claim)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(log); i++)
		n += is_event(json_array_get(log, i), event, claim);
	return n;
}

/* The index of batch line number `batch` (from 1), NONE when there is none. */
static size_t find_batch(const json_t *log, json_int_t batch)
{
	for (size_t i = 0; i < json_array_size(log); i++) {
		const json_t *b = json_object_get(json_array_get(log, i), "batch");
		if (b && json_integer_value(b) == batch)
			return i;
	}
	return NONE;
}

static size_t count_batches(const json_t *log)
{
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(log); i++)
		n += json_object_get(json_array_get(log, i), "batch") != NULL;
	return n;
}

static size_t count_in(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *s = strstr(text, what); s; s = strstr(s + 1, what))
		n++;
	return n;
}

/* A claim's launched, registered and initialized lines, exactly once each and in that order. */
static void check_came_up(const json_t *log, const char *claim)
{
	size_t l = find(log, "launched", claim), g = find(log, "registered", claim),
	       i = find(log, "initialized", claim);

	ck_assert_uint_eq(count(log, "launched", claim), 1);
	ck_assert_uint_eq(count(log, "registered", claim), 1);
	ck_assert_uint_eq(count(log, "initialized", claim), 1);
	ck_assert_msg(l < g && g < i, "%s: launched %zu, registered %zu, initialized %zu", claim, l,
		      g, i);
}

/*
 * When the victim's claim ends, after its launch: the scenario's 3
 * minutes, less the second the first batch waited, plus the step at whose
 * end the cloud's notice is seen.  A terminated instance ends its claim
 * there; an interrupted one is drained first, one step to taint its node
 * and one for its evicted pods to be gone.
 */
#define TERMINATE_ENDED_MS 180000
#define INTERRUPT_ENDED_MS (TERMINATE_ENDED_MS + 2000)

/* Events that end a claim. */
static const char *const endings[] = {"interrupted",	 "instance-terminated",	 "instance-gone",
				      "deleted",	 "registration-timeout", "node-deleted",
				      "launch-failed",	 NULL};

static size_t count_endings(const json_t *log)
{
	size_t n = 0;
	for (size_t k = 0; endings[k]; k++)
		n += count(log, endings[k], NULL);
	return n;
}

/*
 * Two full m5.xlarge nodes (web.yaml's six 1-cpu replicas, three a node);
 * at 3 minutes the cloud takes the first one back, and kerf ends its claim
 * with `event`.  The three pods it held come back pending through their
 * ReplicaSet and go into a second batch, which launches exactly one
 * replacement; everything ends scheduled, on two nodes, with no claim
 * launching.  Returns the ended claim's name (in r->log).
 */
static const char *check_replaced(const struct kerfd_run *r, const char *event, int64_t ended_ms)
{
	const json_t *log = r->log;
	size_t b1 = find_batch(log, 1), b2 = find_batch(log, 2);

	ck_assert_uint_eq(count_batches(log), 2);
	ck_assert_uint_ne(b1, NONE);
	ck_assert_uint_ne(b2, NONE);
	const json_t *first = json_object_get(json_array_get(log, b1), "nodeclaims");
	ck_assert_uint_eq(json_array_size(first), 2);
	ck_assert_int_eq(int_at(json_array_get(log, b1), "pods"), 6);

	/* Exactly one claim ended, the way the cloud took its instance. */
	ck_assert_uint_eq(count(log, event, NULL), 1);
	ck_assert_uint_eq(count_endings(log), 1);
	size_t e = find(log, event, NULL);
	const json_t *ended = json_array_get(log, e);
	const char *victim = str_of(ended, "nodeclaim");
	ck_assert_ptr_nonnull(victim);
	/* The selector picks the first instance in launch order: batch 1's first claim. */
	ck_assert_str_eq(victim, str_of(json_array_get(first, 0), "name"));
	check_came_up(log, victim);
	ck_assert_uint_lt(find(log, "initialized", victim), e);
	ck_assert_ptr_nonnull(str_of(ended, "node"));
	ck_assert_int_eq(int_at(ended, "since_launch_ms"), ended_ms);

	/* Its three pods, and only they, make the second batch: one new claim, after the end. */
	ck_assert_uint_gt(b2, e);
	const json_t *second = json_array_get(log, b2);
	const json_t *repl = json_object_get(second, "nodeclaims");
	ck_assert_int_eq(int_at(second, "pods"), 3);
	ck_assert_int_eq(int_at(second, "existing_pods"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(second, "unschedulable")), 0);
	ck_assert_uint_eq(json_array_size(repl), 1);
	const char *replacement = str_of(json_array_get(repl, 0), "name");
	ck_assert_int_eq(int_at(json_array_get(repl, 0), "pods"), 3);
	check_came_up(log, replacement);
	ck_assert_uint_gt(find(log, "launched", replacement), b2);
	/* The claim that kept its node came up once and never ended. */
	const char *kept = str_of(json_array_get(first, 1), "name");
	check_came_up(log, kept);
	ck_assert_uint_eq(count(log, "launched", NULL), 3);
	ck_assert_uint_eq(count(log, "initialized", NULL), 3);

	/* Six pods and the three made again, all bound; the victim's node is gone. */
	ck_assert_int_eq(int_at(r->report, "batches"), 2);
	ck_assert_int_eq(int_at(r->report, "pods.scheduled"), 9);
	ck_assert_int_eq(int_at(r->report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r->report, "nodes.launched"), 3);
	ck_assert_int_eq(int_at(r->report, "nodes.running"), 2);
	/* What runs at the end costs the two live claims' price, not the victim's too. */
	json_int_t price = int_at(json_array_get(log, find(log, "launched", kept)),
				  "price_micro_usd_per_hour") +
			   int_at(json_array_get(log, find(log, "launched", replacement)),
				  "price_micro_usd_per_hour");
	ck_assert_int_eq(int_at(r->report, "cost_per_hour_micro_usd"), price);
	return victim;
}

/*
 * A spot interruption notice: kerf drains the node (its three pods
 * evicted through the eviction API) and terminates the claim at once,
 * before the notice's two-minute deadline, so the cloud never has to
 * terminate the instance itself.
 */
START_TEST(interruption_drains_and_replaces)
{
	char line[160];
	struct kerfd_run r;

	kerfd_run(&r, DATA, "interrupt.yaml", "");
	const char *victim = check_replaced(&r, "interrupted", INTERRUPT_ENDED_MS);
	ck_assert_msg(count_in(r.err, "the cloud interrupts ") == 1, "%s", r.err);
	ck_assert_int_lt(snprintf(line, sizeof(line),
				  "NodeClaim %s: 3 pods evicted, 0 evictions refused by a disruption budget",
				  victim),
			 (int)sizeof(line));
	ck_assert_msg(count_in(r.err, line) == 1, "%s", r.err);
	/* kerf deleted the instance first: nothing for the deadline to terminate. */
	ck_assert_msg(count_in(r.err, "the cloud terminates ") == 0, "%s", r.err);
	kerfd_run_free(&r);
}
END_TEST

/*
 * kubectl delete nodeclaim on one of two full nodes, under a budget of
 * maxUnavailable 1 over web's six replicas: the finalizer holds the claim
 * while kerf drains it, and the budget lets one pod go at a time.  The
 * first evicted pod has nowhere to run but a new node (batch 2, that one
 * pod alone: two evicted at once would make it two); the other two wait,
 * refused, until it runs there, and then fit beside it without a third
 * batch.  Only then does the instance go.
 */
START_TEST(deleted_claim_drains_under_pdb)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "drain-pdb.yaml", "");
	const json_t *log = r.log;
	ck_assert_uint_eq(count_batches(log), 2);
	const json_t *second = json_array_get(log, find_batch(log, 2));
	ck_assert_int_eq(int_at(second, "pods"), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(second, "nodeclaims")), 1);
	ck_assert_uint_eq(count(log, "deleted", NULL), 1);
	ck_assert_uint_eq(count_endings(log), 1);
	const json_t *ended = json_array_get(log, find(log, "deleted", NULL));
	/* The batch's pod is the first eviction: the end comes after it. */
	ck_assert_uint_lt(find_batch(log, 2), find(log, "deleted", NULL));
	ck_assert_int_eq(int_at(ended, "evicted"), 3);
	/*
	 * Refusals: two pods each try, from 1 s after the first eviction, at
	 * back-off steps of 1, 2, 4, 8 and then 10 s until the new node runs
	 * the first pod; the drain ends when the last two are gone.  The
	 * exact figures are those of the seeded cloud's start-up times.
	 */
	ck_assert_int_eq(int_at(ended, "evictions_refused"), 17);
	ck_assert_int_eq(int_at(ended, "drain_ms"), 68000);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 2);
	ck_assert_msg(count_in(r.err, "scenario: delete_nodeclaim ") == 1, "%s", r.err);
	kerfd_run_free(&r);
}
END_TEST

/*
 * A budget that lets no pod go and a NodePool terminationGracePeriod of
 * 60 s: evictions are refused (three pods at 0, 1, 3, 7, 15, 25 and 35 s
 * of back-off) until 40 s, when the pods' own grace period of 20 s is all
 * the node has left; kerf then deletes the three, bypassing the budget,
 * with a grace period of 20 s, stops evicting them, and the node goes at
 * its deadline, as they do.
 */
START_TEST(grace_period_deletes_outlasting_pods)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "drain-grace.yaml", "");
	const json_t *log = r.log;
	ck_assert_uint_eq(count(log, "deleted", NULL), 1);
	const json_t *ended = json_array_get(log, find(log, "deleted", NULL));
	ck_assert_int_eq(int_at(ended, "evicted"), 0);
	ck_assert_int_eq(int_at(ended, "evictions_refused"), 21);
	ck_assert_int_eq(int_at(ended, "pods_deleted"), 3);
	ck_assert_int_eq(int_at(ended, "drain_ms"), 60000);
	ck_assert_msg(count_in(r.err, "with a grace period of 20 s") == 4, "%s", r.err);
	ck_assert_msg(count_in(r.err, "3 pods deleted with a grace period of 20 s") == 1, "%s",
		      r.err);
	kerfd_run_free(&r);
}
END_TEST

/*
 * FailedScheduling events for 10,000 pods no instance type holds: two
 * batches refuse every one of them (the second once the cloud terminates
 * web's node), yet each pod's event is queued once, since its reason did
 * not change.  The events go to the workers sixteen at a time, one job
 * in flight, so the run does not wait for them: it ends before the last
 * is sent, and what was sent is whole jobs.
 */
START_TEST(failed_scheduling_events_once_per_pod)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "events.yaml", "");
	const json_t *log = r.log;
	ck_assert_uint_eq(count_batches(log), 2);
	for (json_int_t b = 1; b <= 2; b++) {
		const json_t *line = json_array_get(log, find_batch(log, b));
		ck_assert_uint_eq(json_array_size(json_object_get(line, "unschedulable")), 10000);
	}
	const json_t *ev = json_object_get(r.report, "events");
	ck_assert_int_eq(int_at(ev, "queued"), 10000);
	ck_assert_int_eq(int_at(ev, "failed"), 0);
	json_int_t sent = int_at(ev, "sent");
	ck_assert_int_gt(sent, 0);
	ck_assert_int_le(sent, 10000);
	ck_assert_int_eq(sent % 16, 0);
	kerfd_run_free(&r);
}
END_TEST

/*
 * The cloud terminates an instance without notice: kerf ends its claim
 * without draining (there is nothing left to drain to), the node goes
 * with its pods, and their ReplicaSet's new pods get a replacement.
 */
START_TEST(termination_replaces_without_drain)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "terminate.yaml", "");
	check_replaced(&r, "instance-terminated", TERMINATE_ENDED_MS);
	ck_assert_msg(count_in(r.err, "the cloud terminates ") == 1, "%s", r.err);
	ck_assert_msg(count_in(r.err, "pods evicted") == 0, "%s", r.err);
	kerfd_run_free(&r);
}
END_TEST

/* Every launched line: all in `zone`, spot, at one price, returned through *price. */
static void check_launches(const json_t *log, const char *zone, json_int_t *price)
{
	size_t n = 0;

	*price = 0;
	for (size_t i = 0; i < json_array_size(log); i++) {
		const json_t *o = json_array_get(log, i);
		if (!is_event(o, "launched", NULL))
			continue;
		ck_assert_str_eq(str_of(o, "instance_type"), "m5.xlarge");
		ck_assert_str_eq(str_of(o, "capacity_type"), "spot");
		if (zone)
			ck_assert_str_eq(str_of(o, "zone"), zone);
		if (n++ == 0)
			*price = int_at(o, "price_micro_usd_per_hour");
		ck_assert_int_eq(int_at(o, "price_micro_usd_per_hour"), *price);
	}
	ck_assert_uint_eq(n, 2);
}

/*
 * The cheapest offering (m5.xlarge spot in us-east-1c, what the same run
 * takes without the setting) has no capacity: kerf launches the next
 * cheapest spot offering in another zone, dearer, and never tries the
 * unavailable one, because the simulator reports it unavailable in the
 * instance types as well as at launch: no launch fails.
 */
START_TEST(unavailable_offering_never_launched)
{
	struct kerfd_run r;
	json_int_t cheapest, other;

	kerfd_run(&r, DATA, "capacity-baseline.yaml", "");
	check_launches(r.log, "us-east-1c", &cheapest);
	ck_assert_uint_eq(count(r.log, "launch-failed", NULL), 0);
	kerfd_run_free(&r);

	kerfd_run(&r, DATA, "capacity.yaml", "");
	check_launches(r.log, NULL, &other);
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *o = json_array_get(r.log, i);
		if (is_event(o, "launched", NULL))
			ck_assert_str_ne(str_of(o, "zone"), "us-east-1c");
	}
	ck_assert_int_gt(other, cheapest);
	ck_assert_uint_eq(count(r.log, "launch-failed", NULL), 0);
	ck_assert_uint_eq(count_batches(r.log), 1);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 6);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	kerfd_run_free(&r);
}
END_TEST

/* How long kerf leaves out an offering a launch found without capacity (provisioner.h). */
#define UNAVAILABLE_TTL_MS (3 * 60 * 1000)

static bool in_offering(const json_t *o, const char *zone, const char *capacity_type)
{
	return strcmp(str_of(o, "zone"), zone) == 0 &&
	       strcmp(str_of(o, "capacity_type"), capacity_type) == 0;
}

/* The line right after batch line b: a launch-failed in the offering launch_failures names. */
static const json_t *failed_after(const json_t *log, size_t b, size_t k)
{
	const json_t *o = json_array_get(log, b + 1 + k);

	ck_assert_msg(is_event(o, "launch-failed", NULL), "line %zu is no launch-failed",
		      b + 1 + k);
	ck_assert_str_eq(str_of(o, "instance_type"), "m5.xlarge");
	ck_assert(in_offering(o, "us-east-1c", "spot"));
	ck_assert_ptr_null(json_object_get(o, "provider_id"));
	ck_assert_msg(strstr(str_of(o, "reason"), "no capacity for m5.xlarge in us-east-1c (spot)"),
		      "%s", str_of(o, "reason"));
	return o;
}

/*
 * Batch line b launched `n` claims, each right after the line, all in the
 * fallback offering (zone, spot) at `price`, and each came up.
 */
static void launched_after(const json_t *log, size_t b, size_t n, const char *zone,
			   json_int_t price)
{
	const json_t *claims = json_object_get(json_array_get(log, b), "nodeclaims");

	ck_assert_uint_eq(json_array_size(claims), n);
	for (size_t k = 0; k < n; k++) {
		const char *name = str_of(json_array_get(claims, k), "name");
		const json_t *o = json_array_get(log, b + 1 + k);
		ck_assert(is_event(o, "launched", name));
		ck_assert(in_offering(o, zone, "spot"));
		ck_assert_int_eq(int_at(o, "price_micro_usd_per_hour"), price);
		check_came_up(log, name);
	}
}

/*
 * The cheapest offering is listed as available but its launch fails, as
 * EC2's InsufficientInstanceCapacity does (launch_failures).  Batch 1
 * plans both claims there and both launches fail; kerf leaves the
 * offering out for 3 minutes, so batch 2, a second later, launches the
 * same pods in the next cheapest offering, and batch 3, a scale-up two
 * minutes on, goes there at once.  Batch 4, a scale-up at 5 minutes, after
 * the cache expired, tries the cheap offering again, fails again, and
 * batch 5 falls back again.  Every pod ends scheduled; the failed claims
 * are no launched nodes.
 */
START_TEST(launch_failure_left_out_then_retried)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "launch-failures.yaml", "");
	const json_t *log = r.log;
	size_t b[6];

	ck_assert_uint_eq(count_batches(log), 5);
	for (json_int_t i = 1; i <= 5; i++) {
		b[i] = find_batch(log, i);
		ck_assert_uint_ne(b[i], NONE);
		ck_assert(i == 1 || b[i] > b[i - 1]);
	}
	ck_assert_uint_eq(count(log, "launch-failed", NULL), 3);
	ck_assert_uint_eq(count_endings(log), 3);

	/* Batch 1: six pods on two claims, none launched, both failed just after its line. */
	ck_assert_int_eq(int_at(json_array_get(log, b[1]), "pods"), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(log, b[1]), "nodeclaims")),
			  0);
	const json_t *f1 = failed_after(log, b[1], 0);
	failed_after(log, b[1], 1);
	ck_assert_str_ne(str_of(f1, "nodeclaim"),
			 str_of(json_array_get(log, b[1] + 2), "nodeclaim"));
	json_int_t cheap = int_at(f1, "price_micro_usd_per_hour");
	json_int_t failed_at = int_at(f1, "time_ms");

	/* Batch 2: the same six pods, in another offering, dearer. */
	ck_assert_int_eq(int_at(json_array_get(log, b[2]), "pods"), 6);
	const json_t *first = json_array_get(log, b[2] + 1);
	ck_assert(is_event(first, "launched", NULL));
	const char *zone = str_of(first, "zone");
	ck_assert_str_ne(zone, "us-east-1c");
	json_int_t price = int_at(first, "price_micro_usd_per_hour");
	ck_assert_int_gt(price, cheap);
	launched_after(log, b[2], 2, zone, price);

	/* Batch 3, within the 3 minutes: straight to the fallback, nothing fails. */
	ck_assert_int_lt(int_at(json_array_get(log, b[3]), "time_ms") - failed_at,
			 UNAVAILABLE_TTL_MS);
	ck_assert_int_eq(int_at(json_array_get(log, b[3]), "pods"), 3);
	launched_after(log, b[3], 1, zone, price);
	ck_assert_uint_eq(find_from(log, b[1] + 3, "launch-failed", NULL), b[4] + 1);

	/* Batch 4, after them: the cheap offering is tried again and fails again. */
	json_int_t again = int_at(json_array_get(log, b[4]), "time_ms") - failed_at;
	ck_assert_int_ge(again, UNAVAILABLE_TTL_MS);
	ck_assert_int_eq(int_at(json_array_get(log, b[4]), "pods"), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(log, b[4]), "nodeclaims")),
			  0);
	ck_assert_int_eq(int_at(failed_after(log, b[4], 0), "time_ms") - failed_at, again);

	/* Batch 5: its three pods fall back again, a virtual second later. */
	ck_assert_int_eq(int_at(json_array_get(log, b[5]), "pods"), 3);
	ck_assert_int_eq(int_at(json_array_get(log, b[5]), "time_ms") - failed_at, again + 1000);
	ck_assert_uint_eq(b[5], b[4] + 2);
	launched_after(log, b[5], 1, zone, price);

	ck_assert_uint_eq(count(log, "launched", NULL), 4);
	ck_assert_int_eq(int_at(r.report, "batches"), 5);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 12);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 4);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 4);
	const json_t *by_type = json_object_get(json_object_get(r.report, "nodes"), "by_type");
	ck_assert_uint_eq(json_array_size(by_type), 1);
	ck_assert_int_eq(int_at(json_array_get(by_type, 0), "count"), 4);
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 4 * price);
	kerfd_run_free(&r);
}
END_TEST

/* The virtual wall time of a log line starting "2026-12-07T17:41:13.686Z", in ms. */
static int64_t line_time_ms(const char *line)
{
	struct tm tm;
	int ms;

	memset(&tm, 0, sizeof(tm));
	ck_assert_int_eq(sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
				&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
			 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/*
 * Instance types are fetched again every 5 minutes of cluster time.  The
 * run lasts until a scale-up at 11 minutes is served (about 11m46s), so
 * kerf fetches at the start, at 5 and at 10 minutes: three debug lines,
 * each at least 5 minutes after the one before and less than 5 minutes and
 * a pass (one virtual second) later.
 */
START_TEST(instance_types_refreshed_every_5_minutes)
{
	static const char what[] = "provisioner: NodePool default: ";
	struct kerfd_run r;
	int64_t at[8];
	size_t n = 0;

	kerfd_run(&r, DATA, "refresh.yaml", "");
	for (const char *s = strstr(r.err, what); s; s = strstr(s + 1, what)) {
		const char *bol = s;
		while (bol > r.err && bol[-1] != '\n')
			bol--;
		const char *eol = strchr(s, '\n');
		ck_assert_ptr_nonnull(eol);
		if (!strstr(s, " instance types\n") || strstr(s, " instance types\n") > eol)
			continue;
		ck_assert_uint_lt(n, 8);
		at[n++] = line_time_ms(bol);
	}
	ck_assert_msg(n == 3, "%zu fetches: %s", n, r.err);
	for (size_t i = 1; i < n; i++) {
		ck_assert_int_ge(at[i] - at[i - 1], 5 * 60 * 1000);
		ck_assert_int_le(at[i] - at[i - 1], 5 * 60 * 1000 + 1000);
	}
	/* The scale-up's batch ran on the refreshed types and was served. */
	ck_assert_uint_eq(count_batches(r.log), 2);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 9);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	kerfd_run_free(&r);
}
END_TEST

/*
 * Instances that take 20 minutes to register: the claim is deleted after
 * exactly 15 (registration-timeout), and its pod goes into a second batch
 * whose claim is launched after the first one ended.
 */
START_TEST(registration_timeout_relaunches)
{
	struct kerfd_run r;

	kerfd_run(&r, DATA, "timeout.yaml", "--until 16m");
	ck_assert_uint_eq(count(r.log, "registration-timeout", NULL), 1);
	ck_assert_uint_eq(count_endings(r.log), 1);
	size_t t = find(r.log, "registration-timeout", NULL);
	const json_t *line = json_array_get(r.log, t);
	const char *first = str_of(line, "nodeclaim");
	ck_assert_int_eq(int_at(line, "since_launch_ms"), 15 * 60 * 1000);
	ck_assert_uint_lt(find(r.log, "launched", first), t);
	ck_assert_uint_eq(count(r.log, "registered", NULL), 0);
	ck_assert_uint_eq(count(r.log, "launched", NULL), 2);
	size_t again = find_from(r.log, t, "launched", NULL);
	ck_assert_uint_ne(again, NONE);
	ck_assert_str_ne(str_of(json_array_get(r.log, again), "nodeclaim"), first);
	ck_assert_int_eq(int_at(r.report, "batches"), 2);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 1);
	kerfd_run_free(&r);
}
END_TEST

/* ------------------------------------------------ a world kept in a state file */

/* A kerf.yaml in dir, on web9.yaml and the sim's state file dir/state.jsonl. */
static void write_config(const char *dir, const char *name, const char *extra)
{
	char path[512];
	FILE *f;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name), (int)sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"cluster: sim\n"
		"provider: sim\n"
		"packers: [binpack-ffd]\n"
		"manifests: ['%s/pool.yaml']\n"
		"plugins:\n"
		"  sim:\n"
		"    workloads: ['%s/web9.yaml']\n"
		"    state_file: state.jsonl\n"
		"%s"
		"settings:\n"
		"  log_level: info\n"
		"  metrics_address: \"\"\n"
		"  health_address: \"\"\n"
		"  clock: virtual\n",
		DATA, DATA, extra);
	ck_assert_int_eq(fclose(f), 0);
}

/* Every instant in a state line (wall-clock ms), an hour earlier; durations stay. */
static void shift_back(json_t *v, json_int_t by)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			shift_back(x, by);
		return;
	}
	json_object_foreach(v, key, x) {
		size_t n = strlen(key);
		if (json_is_integer(x) && n > 3 && strcmp(key + n - 3, "_ms") == 0 &&
		    json_integer_value(x) > by)
			json_integer_set(x, json_integer_value(x) - by);
		else if (json_is_object(x) || json_is_array(x))
			shift_back(x, by);
	}
}

/*
 * Under the virtual clock kerfd names NodeClaims from a fixed seed, so a
 * resumed run draws the first run's names again.  It must skip those the
 * cluster lists and those its instances carry: the sim's create,
 * idempotent on the claim's name, would hand a new claim the leaked
 * instance of an old one with that name.  The leaked instance keeps its
 * claim's name, which the resumed run's generator draws first; the lost
 * claim is renamed to one it cannot draw (its alphabet has no vowel).
 */
#define LOST "default-lost"

/*
 * Rewrites the state file as an hour older, with the NodeClaim `leak`
 * removed (its instance, still tagged with its name, is owned by nobody),
 * and the instance and node of the claim `lost` removed and the claim
 * renamed LOST (a claim whose instance is gone).
 */
static void edit_state(const char *dir, const char *leak, const char *lost)
{
	char path[512], tmp[520];
	size_t i, kept = 0;
	json_t *o;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/state.jsonl", dir), (int)sizeof(path));
	ck_assert_int_lt(snprintf(tmp, sizeof(tmp), "%s.new", path), (int)sizeof(tmp));
	json_t *lines = kerfd_read_lines(path);
	char *lost_pid = NULL;
	json_array_foreach(lines, i, o) {
		const json_t *in = json_object_get(o, "instance");
		if (in && strcmp(str_of(in, "nodeclaim"), lost) == 0)
			lost_pid = strdup(str_of(in, "provider_id"));
	}
	ck_assert_ptr_nonnull(lost_pid);
	FILE *f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	json_array_foreach(lines, i, o) {
		json_t *in = json_object_get(o, "instance");
		json_t *nc = json_object_get(o, "nodeclaim");
		const json_t *node = json_object_get(o, "node");
		json_t *meta = json_object_get(nc, "meta");
		if ((in && strcmp(str_of(in, "nodeclaim"), lost) == 0) ||
		    (nc && strcmp(str_of(meta, "name"), leak) == 0) ||
		    (node && strcmp(str_of(node, "provider_id"), lost_pid) == 0))
			continue;
		if (nc && strcmp(str_of(meta, "name"), lost) == 0) {
			json_object_set_new(meta, "name", json_string(LOST));
			/*
			 * The sim derives instance IDs from claim names, and the
			 * resumed run may draw `lost` again: the claim must not
			 * name an ID its new instance would get.
			 */
			json_object_set_new(nc, "provider_id",
					    json_string("aws:///us-east-1c/i-00000000000000001"));
		}
		shift_back(o, 3600 * 1000);
		char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		ck_assert_ptr_nonnull(text);
		fprintf(f, "%s\n", text);
		free(text);
		kept++;
	}
	ck_assert_int_eq(fclose(f), 0);
	/* The header, two instances, two NodeClaims and the two nodes left. */
	ck_assert_uint_eq(kept, 7);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(lost_pid);
	json_decref(lines);
}

static void rm_dir(const char *dir)
{
	static const char *const files[] = {"seed.yaml", "resume.yaml", "state.jsonl",
					    "state.jsonl.tmp", NULL};
	char path[512];

	for (size_t i = 0; files[i]; i++) {
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, files[i]),
				 (int)sizeof(path));
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/*
 * A first run leaves three full nodes (web9.yaml) in the state file.  The
 * world is then made an hour old, with one instance whose NodeClaim is
 * gone (a leak: kerf crashed between launch and the claim's write, say)
 * and one NodeClaim whose instance is gone.  kerfd started on it adopts
 * both NodeClaims, ends the one without an instance (instance-gone), and
 * its first garbage collection (30 s after adoption) terminates the leaked
 * instance, whose node then goes with its pods.  The pods of both lost
 * nodes get new claims, neither named as the leaked instance's claim was;
 * in the end three nodes run: the adopted one and two new ones, and no
 * instance is left that no claim owns.
 */
START_TEST(resume_adopts_and_collects)
{
	char dir[] = "/tmp/check_lifecycle.state.XXXXXX", line[256];
	struct kerfd_run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_config(dir, "seed.yaml", "");
	/* Launches take two minutes, so the run outlasts the first collection. */
	write_config(dir, "resume.yaml", "    launch_delay: 2m\n");

	kerfd_run(&r, dir, "seed.yaml", "");
	const json_t *first = json_object_get(json_array_get(r.log, find_batch(r.log, 1)),
					      "nodeclaims");
	ck_assert_uint_eq(json_array_size(first), 3);
	char *kept = strdup(str_of(json_array_get(first, 0), "name"));
	char *leak = strdup(str_of(json_array_get(first, 1), "name"));
	char *lost = strdup(str_of(json_array_get(first, 2), "name"));
	const char *leak_pid =
	    str_of(json_array_get(r.log, find(r.log, "launched", leak)), "provider_id");
	ck_assert_int_lt(snprintf(line, sizeof(line),
				  "instance %s (%s) has no NodeClaim: terminating it", leak_pid, leak),
			 (int)sizeof(line));
	kerfd_run_free(&r);
	edit_state(dir, leak, lost);

	kerfd_run(&r, dir, "resume.yaml", "");
	/* Both claims in the cluster adopted, in name order, before anything else happens. */
	ck_assert_uint_eq(count(r.log, "adopted", NULL), 2);
	ck_assert_uint_eq(count(r.log, "adopted", kept), 1);
	ck_assert_uint_eq(count(r.log, "adopted", LOST), 1);
	ck_assert_uint_lt(find(r.log, "adopted", kept), 2);
	ck_assert_uint_lt(find(r.log, "adopted", LOST), 2);
	/* The claim without an instance ends; the adopted one never does. */
	ck_assert_uint_eq(count(r.log, "instance-gone", NULL), 1);
	ck_assert_uint_gt(find(r.log, "instance-gone", LOST), find(r.log, "adopted", LOST));
	ck_assert_uint_eq(count_endings(r.log), 1);
	/* The leaked instance is terminated once, by kerf's collection. */
	ck_assert_msg(count_in(r.err, line) == 1, "%s", r.err);
	ck_assert_msg(count_in(r.err, "has no NodeClaim") == 1, "%s", r.err);
	ck_assert_msg(count_in(r.err, "sim: terminating ") == 1, "%s", r.err);
	/* A new claim for the lost node's pods, one for the leaked node's, none relaunched. */
	ck_assert_uint_eq(count(r.log, "relaunched", NULL), 0);
	ck_assert_uint_eq(count(r.log, "launched", NULL), 2);
	ck_assert_uint_eq(count(r.log, "launched", leak), 0);
	ck_assert_uint_eq(count(r.log, "initialized", NULL), 2);
	for (size_t i = 0; i < json_array_size(r.log); i++) {
		const json_t *o = json_array_get(r.log, i);
		if (is_event(o, "launched", NULL))
			check_came_up(r.log, str_of(o, "nodeclaim"));
	}
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 3);
	/* The two adopted claims and the two launched. */
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 4);
	kerfd_run_free(&r);
	free(kept);
	free(leak);
	free(lost);
	rm_dir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("kerfd_on_sim");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, interruption_drains_and_replaces);
	tcase_add_test(tc, termination_replaces_without_drain);
	tcase_add_test(tc, deleted_claim_drains_under_pdb);
	tcase_add_test(tc, grace_period_deletes_outlasting_pods);
	tcase_add_test(tc, failed_scheduling_events_once_per_pod);
	tcase_add_test(tc, unavailable_offering_never_launched);
	tcase_add_test(tc, launch_failure_left_out_then_retried);
	tcase_add_test(tc, instance_types_refreshed_every_5_minutes);
	tcase_add_test(tc, registration_timeout_relaunches);
	tcase_add_test(tc, resume_adopts_and_collects);
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
