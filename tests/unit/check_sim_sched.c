/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sim_sched.c - the sim plugin's simulated kube-scheduler
 * (plugins/sim/sim_sched.c), linked directly from the plugin's convenience
 * library and driven through simc_schedule() on clusters built by hand:
 * nodes and pods are put straight into the cluster's lists, so each test
 * says exactly what the scheduler sees.  The cluster is treated as inside
 * poll(), so every change reaches the recording sink at once.  Times are
 * plain numbers handed to the scheduler; no clock is read.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"
#include "../common/sim_host.h"

#define MiB (1024ll * 1024)
/* When the tests' pods were created, and when the scheduler runs unless a test says otherwise. */
#define T0 1700000000000ll

/* ------------------------------------------------------------ recording */

struct rec {
	kerf_event_type type;
	kerf_object_kind kind;
	char name[64];
	char node_name[64];
	bool unschedulable;
};

#define MAX_RECS 64
static struct rec recs[MAX_RECS];
static size_t n_recs;

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	const struct kerf_pod *p = object;
	struct rec *r;

	ck_assert_uint_lt(n_recs, MAX_RECS);
	ck_assert_int_eq(kind, KERF_OBJ_POD);
	r = &recs[n_recs++];
	r->type = type;
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", p->meta->name);
	snprintf(r->node_name, sizeof(r->node_name), "%s", p->node_name ? p->node_name : "");
	r->unschedulable = p->unschedulable;
}

/* "MODIFIED pod web-1 node=n2 unschedulable=0", for comparisons and messages. */
static const char *describe(const struct rec *r)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED", "SYNCED"};
	static char buf[200];

	snprintf(buf, sizeof(buf), "%s pod %s node=%s unschedulable=%d", types[r->type], r->name,
		 r->node_name, r->unschedulable);
	return buf;
}

/* Checks that the events since record `from` are exactly `want`. */
static void expect_recs(size_t from, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(from + i < n_recs, "missing event %zu: want \"%s\"", i, want[i]);
		ck_assert_msg(strcmp(describe(&recs[from + i]), want[i]) == 0,
			      "event %zu: want \"%s\", got \"%s\"", i, want[i],
			      describe(&recs[from + i]));
	}
	ck_assert_msg(from + n == n_recs, "%zu more events than expected, first: %s",
		      n_recs - from - n, n_recs > from + n ? describe(&recs[from + n]) : "");
}

#define EXPECT(from, ...)                                                                          \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_recs(from, want_, sizeof(want_) / sizeof(want_[0]));                        \
	} while (0)

/* ------------------------------------------------------------ the cluster */

static struct sim_cluster *c;

static void setup(void)
{
	struct sim_cluster_config cfg;
	struct kerf_error err;
	int rc;

	sim_host_reset(NULL);
	n_recs = 0;
	memset(&cfg, 0, sizeof(cfg));
	kerf_error_clear(&err);
	/* No workloads, scenario or trace: the tests fill the lists themselves. */
	rc = sim_cluster_new(&sim_fake_host, NULL, &cfg, &c, &err);
	ck_assert_msg(rc == 0, "sim_cluster_new: %d %s", rc, err.message);
	c->sink.on_object = on_object;
	c->started = true;
	c->delivering = true;
}

static void teardown(void)
{
	sim_cluster_free(c);
	c = NULL;
}

static void set_resources(struct kerf_resources *r, int64_t cpu_millis, int64_t memory_mib,
			  int64_t pods)
{
	kerf_resources_init(r);
	ck_assert_int_eq(kerf_resources_set(r, KERF_RESOURCE_CPU, cpu_millis, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(r, KERF_RESOURCE_MEMORY, memory_mib * MiB, NULL), 0);
	ck_assert_int_eq(kerf_resources_set(r, KERF_RESOURCE_PODS, pods, NULL), 0);
}

/* A registered node, appended in registration order. */
static struct sim_node *add_node(const char *name, int64_t cpu_millis, int64_t memory_mib,
				 bool ready)
{
	const struct kerf_host *h = c->h;
	struct sim_node *sn = h->calloc(h->ctx, 1, sizeof(*sn));
	struct kerf_node *n = kerf_node_new();

	n->meta->name = h->strdup(h->ctx, name);
	kerf_labels_set(&n->meta->labels, "kubernetes.io/hostname", name);
	set_resources(&n->allocatable, cpu_millis, memory_mib, 110);
	n->capacity = n->allocatable;
	n->ready = ready;
	sn->node = n;
	PUSH(h, c->nodes, c->n_nodes, c->cap_nodes, sn);
	c->dirty = true;
	return sn;
}

/*
 * A pending pod in the default namespace created at T0; seq is its place
 * in creation order, which the tests choose independently of its place in
 * the pod list.
 */
static struct sim_pod *add_pod(const char *name, int64_t cpu_millis, int64_t memory_mib,
			       int32_t priority, uint64_t seq)
{
	const struct kerf_host *h = c->h;
	struct sim_pod *sp = h->calloc(h->ctx, 1, sizeof(*sp));
	struct kerf_pod *p = kerf_pod_new();

	p->meta->name = h->strdup(h->ctx, name);
	p->meta->creation_ms = T0;
	p->phase = KERF_POD_PENDING;
	p->priority = priority;
	set_resources(&p->requests, cpu_millis, memory_mib, 1);
	sp->pod = p;
	sp->seq = seq;
	PUSH(h, c->pods, c->n_pods, c->cap_pods, sp);
	c->dirty = true;
	return sp;
}

/* A pod already bound to sn, in the given phase. */
static struct sim_pod *add_bound_pod(const char *name, int64_t cpu_millis, int64_t memory_mib,
				     struct sim_node *sn, kerf_pod_phase phase)
{
	struct sim_pod *sp = add_pod(name, cpu_millis, memory_mib, 0, 0);

	sp->pod->node_name = c->h->strdup(c->h->ctx, sn->node->meta->name);
	sp->pod->phase = phase;
	sp->on = sn;
	return sp;
}

static void expect_bound(const struct sim_pod *sp, const struct sim_node *sn, int64_t at)
{
	ck_assert_ptr_eq(sp->on, sn);
	ck_assert_str_eq(sp->pod->node_name, sn->node->meta->name);
	ck_assert_int_eq(sp->pod->phase, KERF_POD_RUNNING);
	ck_assert(!sp->pod->unschedulable);
	ck_assert_int_eq(sp->bound_ms, at);
}

static void expect_pending(const struct sim_pod *sp)
{
	ck_assert_ptr_null(sp->on);
	ck_assert_ptr_null(sp->pod->node_name);
	ck_assert_int_eq(sp->pod->phase, KERF_POD_PENDING);
}

/* ------------------------------------------------------------ node choice */

/*
 * LeastAllocated: each of cpu and memory scores the whole percent left
 * free after placing the pod, and the higher sum wins.  For a 500m/512Mi
 * pod, "big" (4 cpu, 16Gi, 3 cpu taken by a running pod) scores
 * 500/4000 -> 12 plus 15872/16384 -> 96, 108 in all; "small" (2 cpu, 4Gi,
 * empty) scores 1500/2000 -> 75 plus 3584/4096 -> 87, 162.  So "small",
 * though "big" comes first and has the more memory.  Were the running
 * pod's requests not counted, "big" would score 87 + 96 = 183 and win.
 */
START_TEST(test_least_allocated_node)
{
	struct sim_node *big = add_node("big", 4000, 16384, true);
	struct sim_node *small = add_node("small", 2000, 4096, true);
	struct sim_pod *p;

	add_bound_pod("batch", 3000, 0, big, KERF_POD_RUNNING);
	p = add_pod("web", 500, 512, 0, 1);
	simc_schedule(c, T0);
	expect_bound(p, small, T0);
	EXPECT(0, "MODIFIED pod web node=small unschedulable=0");
	ck_assert(!c->dirty);
}
END_TEST

/*
 * Equal scores go to the node registered first, and a bind counts at once:
 * after "one" takes a 500m/512Mi pod it scores 1000/2000 -> 50 plus
 * 3072/4096 -> 75, 125, against 162 for the empty "two", so the next pod
 * of the same cycle goes to "two".
 */
START_TEST(test_ties_then_binds_of_the_cycle)
{
	struct sim_node *one = add_node("one", 2000, 4096, true);
	struct sim_node *two = add_node("two", 2000, 4096, true);
	struct sim_pod *a = add_pod("a", 500, 512, 0, 1);
	struct sim_pod *b = add_pod("b", 500, 512, 0, 2);

	simc_schedule(c, T0);
	expect_bound(a, one, T0);
	expect_bound(b, two, T0);
	EXPECT(0, "MODIFIED pod a node=one unschedulable=0",
	       "MODIFIED pod b node=two unschedulable=0");
}
END_TEST

/*
 * cpu and memory weigh the same.  For a 500m/2Gi pod "cpu-rich" (8 cpu,
 * 4Gi) scores 7500/8000 -> 93 plus 2048/4096 -> 50, 143; "mem-rich"
 * (2 cpu, 32Gi) 1500/2000 -> 75 plus 30720/32768 -> 93, 168.  On cpu
 * alone "cpu-rich" would win.
 */
START_TEST(test_cpu_and_memory_count)
{
	struct sim_node *mem_rich;
	struct sim_pod *p;

	add_node("cpu-rich", 8000, 4096, true);
	mem_rich = add_node("mem-rich", 2000, 32768, true);
	p = add_pod("cache", 500, 2048, 0, 1);
	simc_schedule(c, T0);
	expect_bound(p, mem_rich, T0);
	EXPECT(0, "MODIFIED pod cache node=mem-rich unschedulable=0");
}
END_TEST

/*
 * A Succeeded pod still bound to its node takes none of its room, for the
 * filters nor for the score.  For a 500m/512Mi pod "a" (1 cpu, 2Gi, its
 * 1-cpu pod done) scores 500/1000 -> 50 plus 1536/2048 -> 75, 125; "b"
 * (2 cpu, 4Gi, a running 1-cpu/1Gi pod) 500/2000 -> 25 plus 2560/4096
 * -> 62, 87.  Counting the finished pod, "a" would not fit, or score
 * -50 + 25 for cpu and memory.
 */
START_TEST(test_finished_pods_free_their_room)
{
	struct sim_node *a = add_node("a", 1000, 2048, true);
	struct sim_node *b = add_node("b", 2000, 4096, true);
	struct sim_pod *p;

	add_bound_pod("done", 1000, 1024, a, KERF_POD_SUCCEEDED);
	add_bound_pod("busy", 1000, 1024, b, KERF_POD_RUNNING);
	p = add_pod("next", 500, 512, 0, 1);
	simc_schedule(c, T0);
	expect_bound(p, a, T0);
	EXPECT(0, "MODIFIED pod next node=a unschedulable=0");
}
END_TEST

/*
 * Only Ready nodes not being deleted are candidates, and only they are
 * counted in the reason: "fits" goes to "ok" although the two 16-cpu
 * nodes come first, and "huge" fits nowhere among 1 candidate.
 */
START_TEST(test_only_ready_live_nodes)
{
	struct sim_node *ok;
	struct sim_pod *fits, *huge;

	add_node("booting", 16000, 65536, false);
	add_node("leaving", 16000, 65536, true)->node->meta->deletion_ms = T0 - 1;
	ok = add_node("ok", 2000, 4096, true);
	fits = add_pod("fits", 500, 512, 0, 1);
	huge = add_pod("huge", 8000, 512, 0, 2);
	simc_schedule(c, T0);
	expect_bound(fits, ok, T0);
	expect_pending(huge);
	ck_assert(huge->pod->unschedulable);
	ck_assert(sim_host_logged("pod default/huge unschedulable: 0/1 nodes are available; "
				  "ok: insufficient cpu"));
	EXPECT(0, "MODIFIED pod fits node=ok unschedulable=0",
	       "MODIFIED pod huge node= unschedulable=1");
}
END_TEST

/* ------------------------------------------------------------ queue order */

/*
 * Higher priority first, then the older pod (lower seq), whatever the pod
 * list's order.  The node holds one 1-cpu pod: "old-high" (priority 10,
 * seq 2) gets it ahead of "new-high" (10, seq 4), listed before it, and
 * of "oldest-low" (0, seq 1), listed first.  The two left are marked
 * Unschedulable in queue order.
 */
/*
 * A pod whose required hostname affinity selects a pod behind it in the
 * queue fails first; once that pod is bound the scheduler tries it again
 * on its next pass, and binds it beside its target.
 */
START_TEST(test_retried_after_its_affinity_target_binds)
{
	struct sim_node *n = add_node("n", 4000, 16384, true);
	add_node("other", 8000, 32768, true);
	struct sim_pod *follower = add_pod("cache", 1000, 512, 0, 1);
	struct sim_pod *target = add_pod("db", 1500, 512, 0, 2);
	ck_assert_int_eq(kerf_labels_set(&target->pod->meta->labels, "app", "db"), 0);
	struct kerf_pod_affinity_term *t = kerf_pod_add_affinity(follower->pod);
	ck_assert_ptr_nonnull(t);
	t->topology_key = strdup("kubernetes.io/hostname");
	ck_assert_int_eq(kerf_labels_set(&t->selector->match_labels, "app", "db"), 0);

	simc_schedule(c, T0);
	expect_pending(follower);
	ck_assert(follower->pod->unschedulable);
	ck_assert(c->dirty);
	struct sim_node *where = target->on;
	ck_assert_ptr_nonnull(where);
	simc_schedule(c, T0 + 1000);
	expect_bound(follower, where, T0 + 1000);
	ck_assert(!c->dirty);
	(void)n;
}
END_TEST
START_TEST(test_queue_priority_then_age)
{
	struct sim_node *n = add_node("n", 1000, 4096, true);
	struct sim_pod *low = add_pod("oldest-low", 1000, 512, 0, 1);
	struct sim_pod *newer = add_pod("new-high", 1000, 512, 10, 4);
	struct sim_pod *older = add_pod("old-high", 1000, 512, 10, 2);

	simc_schedule(c, T0);
	expect_bound(older, n, T0);
	expect_pending(newer);
	expect_pending(low);
	EXPECT(0, "MODIFIED pod old-high node=n unschedulable=0",
	       "MODIFIED pod new-high node= unschedulable=1",
	       "MODIFIED pod oldest-low node= unschedulable=1");
}
END_TEST

/* A negative priority sorts below the default 0 even when older. */
START_TEST(test_negative_priority_last)
{
	struct sim_node *n = add_node("n", 1000, 4096, true);
	struct sim_pod *filler = add_pod("filler", 1000, 512, -5, 1);
	struct sim_pod *normal = add_pod("normal", 1000, 512, 0, 2);

	simc_schedule(c, T0);
	expect_bound(normal, n, T0);
	expect_pending(filler);
	EXPECT(0, "MODIFIED pod normal node=n unschedulable=0",
	       "MODIFIED pod filler node= unschedulable=1");
}
END_TEST

/* ------------------------------------------------------------ unschedulable */

/*
 * A pod that fits nowhere is marked once, with a new resourceVersion (the
 * cluster's first change: 1) and one MODIFIED event, the log naming the
 * first node's reason; passes that change nothing leave it alone; a node
 * with room binds it and clears the mark (resourceVersion 2).
 */
START_TEST(test_unschedulable_marked_once)
{
	struct sim_node *big;
	struct sim_pod *p;

	add_node("small", 1000, 2048, true);
	p = add_pod("huge", 4000, 1024, 0, 1);
	simc_schedule(c, T0);
	expect_pending(p);
	ck_assert(p->pod->unschedulable);
	ck_assert_str_eq(p->pod->meta->resource_version, "1");
	ck_assert(sim_host_logged("pod default/huge unschedulable: 0/1 nodes are available; "
				  "small: insufficient cpu"));
	EXPECT(0, "MODIFIED pod huge node= unschedulable=1");

	c->dirty = true;
	simc_schedule(c, T0 + 1000);
	ck_assert(p->pod->unschedulable);
	ck_assert_str_eq(p->pod->meta->resource_version, "1");
	ck_assert_uint_eq(n_recs, 1);

	big = add_node("big", 8000, 8192, true);
	simc_schedule(c, T0 + 2000);
	expect_bound(p, big, T0 + 2000);
	ck_assert_str_eq(p->pod->meta->resource_version, "2");
	EXPECT(1, "MODIFIED pod huge node=big unschedulable=0");
}
END_TEST

/* With no node at all the reason is only the count. */
START_TEST(test_unschedulable_without_nodes)
{
	struct sim_pod *p = add_pod("alone", 100, 64, 0, 1);

	simc_schedule(c, T0);
	expect_pending(p);
	ck_assert(sim_host_logged("pod default/alone unschedulable: 0/0 nodes are available"));
	ck_assert(!sim_host_logged("nodes are available; "));
	EXPECT(0, "MODIFIED pod alone node= unschedulable=1");
}
END_TEST

/* ------------------------------------------------------------ when it runs */

/* Nothing new since the last pass: pending pods wait for a change. */
START_TEST(test_runs_only_when_dirty)
{
	struct sim_node *n = add_node("n", 2000, 4096, true);
	struct sim_pod *p = add_pod("p", 500, 512, 0, 1);

	c->dirty = false;
	simc_schedule(c, T0);
	expect_pending(p);
	ck_assert(!p->pod->unschedulable);
	ck_assert_uint_eq(n_recs, 0);

	c->dirty = true;
	simc_schedule(c, T0);
	expect_bound(p, n, T0);
	ck_assert(!c->dirty);
}
END_TEST

/*
 * bind_delay: a pod created at T0 with a 5 s delay is left alone, neither
 * bound nor marked, until T0 + 5 s, and the scheduler stays due to look
 * again meanwhile.  Bound and deleted pods are never queued.
 */
START_TEST(test_bind_delay)
{
	struct sim_node *n = add_node("n", 4000, 8192, true);
	struct sim_pod *p = add_pod("young", 500, 512, 0, 3);
	struct sim_pod *gone = add_pod("gone", 500, 512, 0, 2);

	gone->pod->meta->deletion_ms = T0;
	add_bound_pod("running", 500, 512, n, KERF_POD_RUNNING);
	c->cfg.bind_delay_ms = 5000;
	simc_schedule(c, T0 + 4999);
	expect_pending(p);
	ck_assert(!p->pod->unschedulable);
	ck_assert(c->dirty);
	ck_assert_uint_eq(n_recs, 0);

	simc_schedule(c, T0 + 5000);
	expect_bound(p, n, T0 + 5000);
	expect_pending(gone);
	ck_assert(!c->dirty);
	EXPECT(0, "MODIFIED pod young node=n unschedulable=0");
}
END_TEST

static Suite *sim_sched_suite(void)
{
	Suite *s = suite_create("sim_sched");
	TCase *tc = tcase_create("scheduler");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_least_allocated_node);
	tcase_add_test(tc, test_ties_then_binds_of_the_cycle);
	tcase_add_test(tc, test_cpu_and_memory_count);
	tcase_add_test(tc, test_finished_pods_free_their_room);
	tcase_add_test(tc, test_only_ready_live_nodes);
	tcase_add_test(tc, test_queue_priority_then_age);
	tcase_add_test(tc, test_retried_after_its_affinity_target_binds);
	tcase_add_test(tc, test_negative_priority_last);
	tcase_add_test(tc, test_unschedulable_marked_once);
	tcase_add_test(tc, test_unschedulable_without_nodes);
	tcase_add_test(tc, test_runs_only_when_dirty);
	tcase_add_test(tc, test_bind_delay);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_sched_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
