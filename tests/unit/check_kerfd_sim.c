/* SPDX-License-Identifier: Apache-2.0 */
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
	char *out;
	char *err;
	json_t *report;
};

/* Runs `kerfd --config CONFIG --report TMP ARGS` in dir (plugin paths are relative to it). */
static void kerfd(struct run *r, const char *dir, const char *config, const char *args)
{
	char reportpath[] = "/tmp/check_kerfd_sim.json.XXXXXX";
	char cmd[4096];
	int rfd = mkstemp(reportpath);

	ck_assert_int_ge(rfd, 0);
	close(rfd);
	unlink(reportpath);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' --config '%s' --report '%s' %s",
				  dir, KERFD, config, reportpath, args),
			 (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
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
	free(r->out);
	free(r->err);
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
 * The Ray example: 20 t3.xlarge on-demand for 20 Ray workers, then the
 * pool's cpu limit; 4 workers pending on the limit and the head pod on the
 * taint.
 */
START_TEST(ray_stops_at_the_cpu_limit)
{
	struct run r;
	const json_t *pending, *p;
	size_t i, limit = 0, taint = 0;

	kerfd_ok(&r, KERF_TEST_SRCDIR, "tests/data/kerfd/ray.yaml", "");
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
	ck_assert_double_eq(real_at(tts, "max"), 46.0);
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

/*
 * A DaemonSet (500m cpu) exists from the start, before any node runs its
 * pods, and a 1930m pod would exactly fill an m5.large (1930m allocatable
 * in data/ec2-catalogue.tsv) without it: the first batch counts the
 * DaemonSet listed by the cluster (KERF_OBJ_DAEMONSET) and takes an m5.xlarge
 * (3920m), where the DaemonSet pod then runs next to it.
 */
START_TEST(daemonset_overhead_in_first_batch)
{
	struct run r;

	kerfd_ok(&r, DATA, "daemonset.yaml", "");
	ck_assert_int_eq(int_at(r.report, "batches"), 1);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 1);
	ck_assert_int_eq(int_at(r.report, "nodes.running"), 1);
	check_one_type(r.report, "m5.xlarge", "on-demand", 1);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 1);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);
	/* cpu: the pod and the DaemonSet's pod, 2430m of 3920m. */
	double cpu = real_at(json_object_get(r.report, "utilisation"), "cpu");
	ck_assert_double_eq_tol(cpu, 2430.0 / 3920.0, 1e-9);
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
	/* The last claim initialized at 76 s; its status write is polled back at 77, then ends. */
	ck_assert_double_eq(real_at(r.report, "simulated_seconds"), 78.0);
	run_free(&r);
}
END_TEST

/* GPU families (g4dn, p3, ...): the catalogue has no other type starting with g or p. */
static bool gpu_type(const char *type)
{
	return type[0] == 'g' || type[0] == 'p';
}

/* Counters over the decision log's lines, checked against the report. */
struct decisions {
	size_t batches, launched, registered, initialized;
	size_t claims, claim_pods, existing_pods, unschedulable, pods;
	json_int_t price;
	size_t web_by_zone[3], gpu_claims;
	/* Consolidation: nodes it ended, what they cost, the pods it moved. */
	size_t consolidated, moved;
	json_int_t consolidated_price;
};

static void read_claim(struct decisions *d, const json_t *c)
{
	static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
	const char *pool = json_string_value(json_object_get(c, "nodepool"));
	const char *type = json_string_value(json_object_get(c, "instance_type"));
	const char *zone = json_string_value(json_object_get(c, "zone"));
	const json_t *owners = json_object_get(c, "owners");
	const json_t *web = json_object_get(owners, "default/web");
	const json_t *inference = json_object_get(owners, "ml/inference");
	json_int_t pods = int_at(c, "pods");

	ck_assert_ptr_nonnull(pool);
	ck_assert_ptr_nonnull(type);
	ck_assert_ptr_nonnull(zone);
	ck_assert_str_eq(json_string_value(json_object_get(c, "packer")), "binpack-ffd");
	ck_assert_int_gt(int_at(c, "price_micro_usd_per_hour"), 0);
	d->claims++;
	d->claim_pods += (size_t)pods;
	if (inference) {
		/* GPU pods only in the gpu pool, only on GPU types, and alone there. */
		ck_assert_str_eq(pool, "gpu");
		ck_assert_msg(gpu_type(type), "inference on %s", type);
		ck_assert_int_eq(json_integer_value(inference), pods);
		d->gpu_claims++;
	} else {
		ck_assert_str_eq(pool, "general");
		ck_assert_msg(!gpu_type(type), "CPU pods on %s", type);
	}
	if (web) {
		/* Hostname anti-affinity: never two replicas on one node. */
		ck_assert_int_eq(json_integer_value(web), 1);
		size_t z = 0;
		while (z < 3 && strcmp(zones[z], zone) != 0)
			z++;
		ck_assert_msg(z < 3, "web in zone %s", zone);
		d->web_by_zone[z]++;
	}
}

static void read_decision(struct decisions *d, const json_t *o)
{
	const json_t *event = json_object_get(o, "event");
	const json_t *claims = json_object_get(o, "nodeclaims");
	const json_t *c;
	size_t i;

	ck_assert_int_gt(int_at(o, "time_ms"), 0);
	if (event && strcmp(json_string_value(event), "disruption") == 0) {
		ck_assert_str_eq(json_string_value(json_object_get(o, "method")),
				 "single-node consolidation");
		ck_assert_int_eq(int_at(o, "price_after_micro_usd_per_hour"), 0);
		d->consolidated_price += int_at(o, "price_before_micro_usd_per_hour");
		d->moved += (size_t)int_at(o, "pods");
		return;
	}
	if (event) {
		const char *e = json_string_value(event);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "nodeclaim")));
		if (strcmp(e, "underutilized") == 0) {
			d->consolidated++;
			return;
		}
		if (strcmp(e, "launched") == 0)
			d->launched++;
		else if (strcmp(e, "registered") == 0)
			d->registered++;
		else if (strcmp(e, "initialized") == 0)
			d->initialized++;
		else
			ck_abort_msg("unexpected event %s", e);
		return;
	}
	/* Batches are numbered in order, each on its own line. */
	ck_assert_int_eq(int_at(o, "batch"), (json_int_t)++d->batches);
	ck_assert_str_eq(json_string_value(json_object_get(o, "packer")), "binpack-ffd");
	ck_assert(json_is_number(json_object_get(o, "solve_ms")));
	ck_assert(json_is_array(claims));
	size_t before = d->claim_pods;
	json_int_t price = 0, cpu = 0, alloc = 0;
	json_array_foreach(claims, i, c) {
		read_claim(d, c);
		price += int_at(c, "price_micro_usd_per_hour");
	}
	/* A batch's totals are its claims'; every pod it had went somewhere or has a reason. */
	ck_assert_int_eq(int_at(o, "price_micro_usd_per_hour"), price);
	cpu = int_at(o, "requested.cpu_millicores");
	alloc = int_at(o, "allocatable.cpu_millicores");
	ck_assert_int_le(cpu, alloc);
	ck_assert_int_eq(json_array_size(claims) == 0, alloc == 0);
	d->price += price;
	d->existing_pods += (size_t)int_at(o, "existing_pods");
	d->unschedulable += json_array_size(json_object_get(o, "unschedulable"));
	d->pods += (size_t)int_at(o, "pods");
	ck_assert_int_eq(int_at(o, "pods"),
			 (json_int_t)(d->claim_pods - before) + int_at(o, "existing_pods") +
			     (json_int_t)json_array_size(json_object_get(o, "unschedulable")));
}

/*
 * The mixed example: six web replicas spread over three zones, one per
 * node; three GPU inference replicas at 2 minutes on one GPU node of the
 * gpu pool; a memory-heavy Job at 5 minutes; three more web replicas at 10
 * minutes.  Everything ends scheduled, and the decision log, one valid
 * JSON object per line, adds up to the report.  When the Job arrives, one
 * small web node's replica fits on the others: single-node consolidation
 * deletes that node, and its replica is made again (a 17th pod).
 */
START_TEST(mixed_web_batch_gpu)
{
	char logpath[] = "/tmp/check_kerfd_sim.jsonl.XXXXXX";
	char args[128], line[65536];
	struct decisions d;
	struct run r;
	int fd = mkstemp(logpath);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_lt(snprintf(args, sizeof(args), "--decision-log '%s'", logpath),
			 (int)sizeof(args));
	kerfd_ok(&r, KERF_TEST_SRCDIR, "examples/sim/mixed.yaml", args);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 0);

	memset(&d, 0, sizeof(d));
	FILE *f = fopen(logpath, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		size_t n = strlen(line);
		ck_assert_msg(n > 0 && line[n - 1] == '\n', "unterminated line: %s", line);
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
		ck_assert_msg(json_is_object(o), "not a JSON object: %s (%s)", line, jerr.text);
		read_decision(&d, o);
		json_decref(o);
	}
	fclose(f);
	unlink(logpath);

	ck_assert_int_eq((json_int_t)d.batches, int_at(r.report, "batches"));
	ck_assert_int_eq((json_int_t)d.claims, int_at(r.report, "nodes.launched"));
	ck_assert_uint_eq(d.launched, d.claims);
	ck_assert_uint_eq(d.registered, d.claims);
	ck_assert_uint_eq(d.initialized, d.claims);
	ck_assert_uint_eq(d.consolidated, 1);
	ck_assert_uint_eq(d.moved, 1);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 16 + (json_int_t)d.moved);
	/* Every launch but the consolidated node's still costs what the report says. */
	ck_assert_int_eq(d.price - d.consolidated_price, int_at(r.report, "cost_per_hour_micro_usd"));
	ck_assert_int_eq(d.consolidated_price, int_at(r.report, "disruption.saved_micro_usd_per_hour"));
	ck_assert_uint_eq(d.unschedulable, 0);
	ck_assert_uint_le(d.claim_pods + d.existing_pods, 16 + d.moved);
	ck_assert_uint_eq(d.gpu_claims, 1);
	/* maxSkew 1 over three zones; the scheduler may put a replica on room already there. */
	for (size_t z = 0; z < 3; z++)
		ck_assert_msg(d.web_by_zone[z] >= 2 && d.web_by_zone[z] <= 3,
			      "zone %zu: %zu web replicas", z, d.web_by_zone[z]);
	run_free(&r);
}
END_TEST

/*
 * A decision log that cannot be written (a full disk: /dev/full) is
 * reported once, the run goes on and writes its report, and kerfd exits 1
 * naming the file and the reason; one that cannot be opened stops kerfd
 * before it starts.
 */
START_TEST(decision_log_write_error_logged_once)
{
	struct run r;

	kerfd(&r, DATA, "deployment.yaml", "--decision-log /dev/full");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(r.report != NULL, "no report: %s", r.err);
	ck_assert_int_eq(int_at(r.report, "pods.scheduled"), 7);
	const char *first = strstr(r.err, "/dev/full: write failed (reported once");
	ck_assert_msg(first != NULL, "%s", r.err);
	ck_assert_ptr_null(strstr(first + 1, "/dev/full: write failed (reported once"));
	ck_assert_msg(strstr(r.err, "decision log /dev/full: write failed: No space left on device "
				    "(") != NULL,
		      "%s", r.err);
	run_free(&r);

	kerfd(&r, DATA, "deployment.yaml", "--decision-log /nonexistent/dir/log.jsonl");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "decision log /nonexistent/dir/log.jsonl") != NULL, "%s",
		      r.err);
	run_free(&r);
}
END_TEST

/*
 * --report is checked before the run; one that cannot be written at the
 * end (a file size limit standing in for a full disk) leaves no file,
 * names itself and the reason and makes kerfd exit 1.
 */
START_TEST(report_write_errors)
{
	char cmd[4096];
	char *out, *err;

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd),
				  "cd '%s' && '%s' --config deployment.yaml --report "
				  "/nonexistent/dir/report.json",
				  DATA, KERFD),
			 (int)sizeof(cmd));
	ck_assert_int_eq(run_captured(cmd, &out, &err), 1);
	ck_assert_msg(strstr(err, "--report /nonexistent/dir/report.json: cannot create a file "
				  "beside it: No such file or directory") != NULL,
		      "%s", err);
	ck_assert_msg(strstr(err, "running (") == NULL, "%s", err);
	free(out);
	free(err);

	char dir[] = "/tmp/check_kerfd_sim.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* The report is some 1.7 kB; the limit lets no more than 1 kB into a file. */
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd),
				  "cd '%s' && trap '' XFSZ && ulimit -f 1 && exec '%s' --config "
				  "deployment.yaml --report '%s/report.json'",
				  DATA, KERFD, dir),
			 (int)sizeof(cmd));
	ck_assert_int_eq(run_captured(cmd, &out, &err), 1);
	ck_assert_msg(strstr(err, "/report.json: cannot write it: File too large") != NULL, "%s",
		      err);
	free(out);
	free(err);
	ck_assert_int_eq(rmdir(dir), 0);
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

/* The Ray example ends with 5 pods pending: the last line says so, not "nothing pending". */
START_TEST(finish_counts_what_stays_pending)
{
	struct run r;

	kerfd_ok(&r, KERF_TEST_SRCDIR, "tests/data/kerfd/ray.yaml", "");
	ck_assert_msg(strstr(r.err, "simulation finished: nothing launching, 5 pods pending that "
				    "no NodePool can take") != NULL,
		      "%s", r.err);
	ck_assert_ptr_null(strstr(r.err, "nothing pending"));
	run_free(&r);
}
END_TEST

/*
 * guard's anti-affinity on kubernetes.io/arch keeps the web pod off guard's
 * node, which kerf does not model: the second batch finds room there and
 * launches nothing.  The summary says so, not "not yet batched" for a pod
 * two batches saw, and the report gives the same reason.
 */
START_TEST(summary_names_the_ready_node)
{
	struct run r;

	kerfd_ok(&r, DATA, "left-to-scheduler.yaml", "--until 10m");
	ck_assert_int_eq(int_at(r.report, "batches"), 2);
	ck_assert_int_eq(int_at(r.report, "nodes.launched"), 1);
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 1);
	ck_assert_msg(strstr(r.out, "1 pod (e.g. default/web): default: room on ready node "
				    "ip-10-0-0-1.ec2.internal, where the scheduler has not bound "
				    "it\n") != NULL,
		      "%s", r.out);
	ck_assert_ptr_null(strstr(r.out, "not yet batched"));
	const json_t *pending = json_object_get(r.report, "pending");
	ck_assert_uint_eq(json_array_size(pending), 1);
	const json_t *web = json_array_get(pending, 0);
	const json_t *why = json_array_get(json_object_get(web, "reasons"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(why, "nodepool")), "default");
	run_free(&r);
}
END_TEST

/* A NodePool whose node class no manifest defines: --check warns and still passes. */
START_TEST(check_warns_missing_node_class)
{
	struct run r;

	kerfd(&r, KERF_TEST_DATADIR "/scenarios/48-node-class-missing", "kerfd.yaml", "--check");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.err, "NodePool fast: nodeClassRef names EC2NodeClass missing, which "
				    "no manifest defines; nothing is provisioned from it until the "
				    "cluster has it") != NULL,
		      "%s", r.err);
	ck_assert_ptr_null(strstr(r.err, "NodePool general:"));
	run_free(&r);
}
END_TEST

/* settings.max_nodepools stops kerfd --check at the first NodePool past it. */
START_TEST(check_max_nodepools)
{
	struct run r;

	kerfd(&r, KERF_TEST_DATADIR "/simulate/many-pools", "kerf.yaml", "--check");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "pools.yaml:30:1: NodePool/third: NodePool 3 is more than may "
				    "be loaded: 2 (raise settings.max_nodepools)") != NULL,
		      "%s", r.err);
	run_free(&r);
}
END_TEST

/* ------------------------------------------------------------ packers per NodePool */

/* A NodePool annotation naming a packer that is not loaded stops kerfd, listing the loaded. */
START_TEST(unknown_packer_annotation_stops_kerfd)
{
	struct run r;

	kerfd(&r, DATA, "bad-packer.yaml", "--check");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "NodePool/general: metadata.annotations[kerf.dev/packer]: "
				    "packer \"binpack-lp\" is not loaded (loaded packers: "
				    "binpack-ffd)") != NULL,
		      "%s", r.err);
	run_free(&r);
}
END_TEST

#ifdef BUILD_PLUGIN_BINPACK_ILP
/* A temporary file name for a decision log, created empty. */
static void temp_log(char *path)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* The batch lines of a decision log, in order. */
static json_t *batch_lines(const char *path)
{
	char line[1 << 17];
	json_t *a = json_array();
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		ck_assert_msg(json_is_object(o), "not a JSON object: %s (%s)", line, jerr.text);
		if (json_object_get(o, "batch"))
			json_array_append(a, o);
		json_decref(o);
	}
	fclose(f);
	return a;
}

/* The batch line's record for a NodePool, or NULL. */
static const json_t *pool_record(const json_t *line, const char *pool)
{
	size_t i;
	const json_t *r;

	json_array_foreach(json_object_get(line, "nodepools"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "nodepool")), pool) == 0)
			return r;
	return NULL;
}

/* The NodeClaims of a batch line in a NodePool: count and price; each one's packer checked. */
static void pool_claims(const json_t *line, const char *pool, const char *packer, size_t *n,
			json_int_t *price)
{
	size_t i;
	const json_t *c;

	*n = 0;
	*price = 0;
	json_array_foreach(json_object_get(line, "nodeclaims"), i, c) {
		if (strcmp(json_string_value(json_object_get(c, "nodepool")), pool) != 0)
			continue;
		ck_assert_str_eq(json_string_value(json_object_get(c, "packer")), packer);
		(*n)++;
		*price += json_integer_value(json_object_get(c, "price_micro_usd_per_hour"));
	}
}

/*
 * The demo: the general NodePool is packed by binpack-ffd with binpack-ilp
 * in shadow.  Every NodeClaim is first-fit's; each batch records both
 * plans; the summary and `kerfctl ab-report` compare them.
 */
START_TEST(demo_shadow_acts_on_the_primary_only)
{
	char logpath[] = "/tmp/check_kerfd_sim.ab.XXXXXX";
	char args[128], cmd[512];
	struct run r;
	size_t i, shadow_batches = 0;
	const json_t *line;

	temp_log(logpath);
	ck_assert_int_lt(snprintf(args, sizeof(args), "--decision-log '%s'", logpath),
			 (int)sizeof(args));
	kerfd_ok(&r, KERF_TEST_SRCDIR, "examples/sim/kerf.yaml", args);
	/* The Ray pool as before: its cpu limit leaves four workers pending. */
	ck_assert_int_eq(int_at(r.report, "pods.pending"), 4);
	ck_assert_msg(strstr(r.out, "A/B packing") && strstr(r.out, "NodePool general: shadow"),
		      "%s", r.out);

	json_t *lines = batch_lines(logpath);
	json_array_foreach(lines, i, line) {
		const json_t *rec = pool_record(line, "general");
		if (!rec)
			continue;
		size_t n;
		json_int_t price;
		ck_assert_str_eq(json_string_value(json_object_get(rec, "mode")), "shadow");
		ck_assert_str_eq(json_string_value(json_object_get(rec, "packer")), "binpack-ffd");
		pool_claims(line, "general", "binpack-ffd", &n, &price);
		/* What was launched is exactly the primary's plan. */
		ck_assert_int_eq((json_int_t)n, int_at(rec, "nodes"));
		ck_assert_int_eq(price, int_at(rec, "price_micro_usd_per_hour"));
		const json_t *sh = json_object_get(rec, "shadow");
		ck_assert_ptr_nonnull(sh);
		ck_assert_str_eq(json_string_value(json_object_get(sh, "packer")), "binpack-ilp");
		ck_assert_int_eq(int_at(sh, "pods"), int_at(rec, "pods"));
		/* binpack-ilp starts from first-fit's plan: never fewer pods, never dearer. */
		ck_assert_int_ge(int_at(sh, "placed"), int_at(rec, "placed"));
		if (int_at(sh, "placed") == int_at(rec, "placed"))
			ck_assert_int_le(int_at(sh, "price_micro_usd_per_hour"), price);
		ck_assert_int_le(int_at(sh, "lower_bound_micro_usd_per_hour"),
				 int_at(sh, "price_micro_usd_per_hour"));
		shadow_batches++;
	}
	ck_assert_uint_ge(shadow_batches, 5);
	json_decref(lines);

	const json_t *ab = json_object_get(r.report, "ab");
	ck_assert_msg(json_is_object(ab), "no ab section in the report");
	run_free(&r);

	char *out, *err;
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s/core/kerfctl' ab-report '%s'",
				  KERF_TEST_BUILDDIR, logpath),
			 (int)sizeof(cmd));
	ck_assert_int_eq(run_captured(cmd, &out, &err), 0);
	ck_assert_msg(strstr(out, "binpack-ilp in shadow of binpack-ffd") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "verdict") != NULL, "%s", out);
	free(out);
	free(err);
	unlink(logpath);
}
END_TEST

/* The packer of each batch of a split NodePool, in order, as one string. */
static char *split_sequence(const char *logpath)
{
	json_t *lines = batch_lines(logpath);
	char *seq = calloc(1, 4096);
	size_t i, len = 0;
	const json_t *line;

	ck_assert_ptr_nonnull(seq);
	json_array_foreach(lines, i, line) {
		const json_t *rec = pool_record(line, "general");
		if (!rec)
			continue;
		const char *pk = json_string_value(json_object_get(rec, "packer"));
		size_t n;
		json_int_t price;
		ck_assert_str_eq(json_string_value(json_object_get(rec, "mode")), "split");
		ck_assert_str_eq(json_string_value(json_object_get(rec, "selection")),
				 "binpack-ffd=50,binpack-ilp=50");
		ck_assert_ptr_null(json_object_get(rec, "shadow"));
		/* Each batch's NodeClaims are its chosen packer's. */
		pool_claims(line, "general", pk, &n, &price);
		ck_assert_int_eq((json_int_t)n, int_at(rec, "nodes"));
		len += (size_t)snprintf(seq + len, 4096 - len, "%s ", pk);
		ck_assert_uint_lt(len, 4000);
	}
	json_decref(lines);
	return seq;
}

/* A 50/50 split decides each batch the same way on every rerun, and uses both packers. */
START_TEST(split_is_stable_across_reruns)
{
	char log1[] = "/tmp/check_kerfd_sim.split1.XXXXXX";
	char log2[] = "/tmp/check_kerfd_sim.split2.XXXXXX";
	char args[128];
	struct run r;

	temp_log(log1);
	temp_log(log2);
	ck_assert_int_lt(snprintf(args, sizeof(args), "--decision-log '%s'", log1),
			 (int)sizeof(args));
	kerfd_ok(&r, KERF_TEST_SRCDIR, "tests/data/kerfd/split.yaml", args);
	run_free(&r);
	ck_assert_int_lt(snprintf(args, sizeof(args), "--decision-log '%s'", log2),
			 (int)sizeof(args));
	kerfd_ok(&r, KERF_TEST_SRCDIR, "tests/data/kerfd/split.yaml", args);
	ck_assert_msg(strstr(r.out, "NodePool general: split") != NULL, "%s", r.out);
	run_free(&r);

	char *a = split_sequence(log1), *b = split_sequence(log2);
	ck_assert_str_eq(a, b);
	ck_assert_msg(strstr(a, "binpack-ffd") && strstr(a, "binpack-ilp"), "one packer only: %s",
		      a);
	free(a);
	free(b);
	unlink(log1);
	unlink(log2);
}
END_TEST
#endif

static Suite *suite(void)
{
	Suite *s = suite_create("kerfd_sim");
	TCase *tc = tcase_create("provisioning");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ray_stops_at_the_cpu_limit);
	tcase_add_test(tc, deployment_bound_after_registration);
	tcase_add_test(tc, daemonset_overhead_in_first_batch);
	tcase_add_test(tc, second_batch_reuses_launching_claim);
	tcase_add_test(tc, unregistered_claim_deleted_and_retried);
	tcase_add_test(tc, trace_runs_to_its_last_arrival);
	tcase_add_test(tc, mixed_web_batch_gpu);
	tcase_add_test(tc, decision_log_write_error_logged_once);
	tcase_add_test(tc, report_write_errors);
	tcase_add_test(tc, bad_manifest_stops_kerfd);
	tcase_add_test(tc, check_warns_missing_node_class);
	tcase_add_test(tc, check_max_nodepools);
	tcase_add_test(tc, finish_counts_what_stays_pending);
	tcase_add_test(tc, unknown_packer_annotation_stops_kerfd);
#ifdef BUILD_PLUGIN_BINPACK_ILP
	tcase_add_test(tc, demo_shadow_acts_on_the_primary_only);
	tcase_add_test(tc, split_is_stable_across_reruns);
	tcase_add_test(tc, summary_names_the_ready_node);
#endif
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
