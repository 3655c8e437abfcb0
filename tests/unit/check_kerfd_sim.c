/*
 * check_kerfd_sim.c - kerfd's provisioning loop end to end: the built kerfd
 * on the sim cluster and provider with binpack-ffd, under the virtual
 * clock, its --report read back with jansson and checked exactly.
 *
 * The simulated cloud is seeded and the clock virtual, so every figure
 * (nodes, types, batches, times) is the same on every run.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/slurp.h"

#define KERFD KERF_TEST_BUILDDIR "/core/kerfd"
#define DATA KERF_TEST_DATADIR "/kerfd"

struct run {
	int status;
	char *err;
	json_t *report;
};

/* Runs `kerfd --config CONFIG --report TMP ARGS` in dir (plugin paths are relative to it). */
static void kerfd(struct run *r, const char *dir, const char *config, const char *args)
{
	char errpath[] = "/tmp/check_kerfd_sim.err.XXXXXX";
	char reportpath[] = "/tmp/check_kerfd_sim.json.XXXXXX";
	char cmd[4096];
	int efd = mkstemp(errpath), rfd = mkstemp(reportpath);
	FILE *p, *e;

	ck_assert_int_ge(efd, 0);
	ck_assert_int_ge(rfd, 0);
	close(efd);
	close(rfd);
	unlink(reportpath);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd),
				  "cd '%s' && '%s' --config '%s' --report '%s' %s 2>'%s'", dir, KERFD,
				  config, reportpath, args, errpath),
			 (int)sizeof(cmd));
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	free(slurp(p));
	r->status = pclose(p);
	ck_assert(WIFEXITED(r->status));
	r->status = WEXITSTATUS(r->status);
	e = fopen(errpath, "r");
	ck_assert_ptr_nonnull(e);
	r->err = slurp(e);
	fclose(e);
	unlink(errpath);
	r->report = json_load_file(reportpath, 0, NULL);
	unlink(reportpath);
}

/* A run that must finish and write its report. */
static void kerfd_ok(struct run *r, const char *dir, const char *config, const char *args)
{
	kerfd(r, dir, config, args);
	ck_assert_msg(r->status == 0, "kerfd failed: %s", r->err);
	ck_assert_msg(r->report != NULL, "no report: %s", r->err);
}

static void run_free(struct run *r)
{
	json_decref(r->report);
	free(r->err);
}

static json_int_t int_at(const json_t *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');

	if (dot) {
		ck_assert_uint_lt((size_t)(dot - path), sizeof(key));
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		return int_at(json_object_get(o, key), dot + 1);
	}
	const json_t *v = json_object_get(o, path);
	ck_assert_msg(json_is_integer(v), "no integer \"%s\"", path);
	return json_integer_value(v);
}

static double real_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_number(v), "no number \"%s\"", key);
	return json_number_value(v);
}

/* nodes.by_type holds exactly one entry: count x type capacity_type. */
static void check_one_type(const json_t *report, const char *type, const char *ct,
			   json_int_t count)
{
	const json_t *by = json_object_get(json_object_get(report, "nodes"), "by_type");
	ck_assert_uint_eq(json_array_size(by), 1);
	const json_t *t = json_array_get(by, 0);
	ck_assert_str_eq(json_string_value(json_object_get(t, "instance_type")), type);
	ck_assert_str_eq(json_string_value(json_object_get(t, "capacity_type")), ct);
	ck_assert_int_eq(int_at(t, "count"), count);
}

/*
 * The demo: 20 t3.xlarge on-demand for 20 Ray workers, then the pool's cpu
 * limit; 4 workers pending on the limit and the head pod on the taint.
 */
START_TEST(ray_demo_stops_at_the_cpu_limit)
{
	struct run r;
	const json_t *pending, *p;
	size_t i, limit = 0, taint = 0;

	kerfd_ok(&r, KERF_TEST_SRCDIR, "examples/sim/kerf.yaml", "");
	ck_assert_int_eq(int_at(r.report, "batches"), 1);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 20);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 20);
	check_one_type(r.report, "t3.xlarge", "on-demand", 20);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 20);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 5);
	/* 20 x $0.1664 per hour. */
	ck_assert_int_eq(int_at(r.report, "cost_per_hour_micro_usd"), 3328000);
	pending = json_object_get(r.report, "pending");
	ck_assert_uint_eq(json_array_size(pending), 5);
	json_array_foreach(pending, i, p) {
		const char *pod = json_string_value(json_object_get(p, "pod"));
		const json_t *reasons = json_object_get(p, "reasons");
		ck_assert_uint_eq(json_array_size(reasons), 1);
		const json_t *why = json_array_get(reasons, 0);
		const char *text = json_string_value(json_object_get(why, "reason"));
		ck_assert_str_eq(json_string_value(json_object_get(why, "nodepool")),
				 "ray-worker-nodepool");
		if (strcmp(pod, "ray/ray-head") == 0) {
			ck_assert_ptr_nonnull(strstr(text, "untolerated taint"));
			taint++;
		} else {
			ck_assert_ptr_nonnull(strstr(pod, "ray/ray-worker-"));
			ck_assert_ptr_nonnull(strstr(text, "limit cpu"));
			limit++;
		}
	}
	ck_assert_uint_eq(limit, 4);
	ck_assert_uint_eq(taint, 1);
	/* Each worker waited for the batch (1 s), the launch (30 s) and readiness (15 s). */
	const json_t *tts = json_object_get(r.report, "time_to_schedule_seconds");
	ck_assert_int_eq(int_at(tts, "samples"), 20);
	ck_assert_double_eq(real_at(tts, "p50"), 46.0);
	ck_assert_double_eq(real_at(tts, "p99"), 46.0);
	run_free(&r);
}
END_TEST

/* Seven 1-cpu pods: three m5.xlarge, every pod bound once its node registered and is ready. */
START_TEST(deployment_bound_after_registration)
{
	struct run r;

	kerfd_ok(&r, DATA, "deployment.yaml", "");
	ck_assert_int_eq(int_at(r.report, "batches"), 1);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 3);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 3);
	check_one_type(r.report, "m5.xlarge", "on-demand", 3);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 7);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r.report, "pending")), 0);
	ck_assert_int_eq(int_at(r.report, "time_to_schedule_seconds.samples"), 7);
	/* cpu: 7 of 3 x 3.92 allocatable. */
	double cpu = real_at(json_object_get(r.report, "utilisation"), "cpu");
	ck_assert_double_eq_tol(cpu, 7000.0 / (3 * 3920.0), 1e-9);
	run_free(&r);
}
END_TEST

/* The second batch's pod goes on the NodeClaim the first batch is still launching. */
START_TEST(second_batch_reuses_launching_claim)
{
	struct run r;

	kerfd_ok(&r, DATA, "reuse.yaml", "");
	ck_assert_int_eq(int_at(r.report, "batches"), 2);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 1);
	check_one_type(r.report, "m5.xlarge", "on-demand", 1);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 2);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	run_free(&r);
}
END_TEST

/*
 * Registration takes 20 minutes: each claim is deleted after 15 and its pod
 * goes into the next batch.  In 40 minutes: launched at 1 s, about 15 and 30
 * minutes, none running at the end, the pod never bound.
 */
START_TEST(unregistered_claim_deleted_and_retried)
{
	struct run r;

	kerfd_ok(&r, DATA, "timeout.yaml", "--until 40m");
	ck_assert_int_eq(int_at(r.report, "batches"), 3);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 3);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 0);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 0);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "did not register within 15 minutes"));
	ck_assert_double_eq(real_at(r.report, "simulated_seconds"), 2400.0);
	run_free(&r);
}
END_TEST

/*
 * A trace's arrivals at 0, 30 and 60 s (scaled by 2): the run lasts until
 * the last pods are bound, and each batch fills the room the earlier ones
 * left (six 1-cpu pods on two m5.xlarge).
 */
START_TEST(trace_runs_to_its_last_arrival)
{
	struct run r;

	kerfd_ok(&r, DATA, "trace.yaml", "");
	ck_assert_int_eq(int_at(r.report, "batches"), 3);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 2);
	check_one_type(r.report, "m5.xlarge", "on-demand", 2);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 6);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	ck_assert_double_eq(real_at(r.report, "simulated_seconds"), 77.0);
	run_free(&r);
}
END_TEST

/* An invalid NodePool in kerf.yaml's manifests stops kerfd with its position. */
START_TEST(bad_manifest_stops_kerfd)
{
	struct run r;

	kerfd(&r, DATA, "bad.yaml", "");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_null(r.report);
	ck_assert_msg(strstr(r.err, "bad-pool.yaml:7:11: NodePool/heavy: spec.weight") != NULL,
		      "%s", r.err);
	run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kerfd_sim");
	TCase *tc = tcase_create("provisioning");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ray_demo_stops_at_the_cpu_limit);
	tcase_add_test(tc, deployment_bound_after_registration);
	tcase_add_test(tc, second_batch_reuses_launching_claim);
	tcase_add_test(tc, unregistered_claim_deleted_and_retried);
	tcase_add_test(tc, trace_runs_to_its_last_arrival);
	tcase_add_test(tc, bad_manifest_stops_kerfd);
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
