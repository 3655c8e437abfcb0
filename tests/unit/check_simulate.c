/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_simulate.c - `kerfctl simulate` as a user runs it: the built
 * kerfctl on the examples and on test data, with the sim provider (which
 * kerfctl finds in the build tree, catalogue included) and binpack-ffd, its
 * JSON report read back with jansson and checked exactly.
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
#include "util.h"

#define KERFCTL KERF_TEST_BUILDDIR "/core/kerfctl"
#define RAY_POOL KERF_TEST_SRCDIR "/examples/ray-worker.yaml"
#define RAY_PODS KERF_TEST_SRCDIR "/examples/simulate/ray-pods.yaml"
#define DATA KERF_TEST_DATADIR "/simulate/"
#define MISSING_CLASS KERF_TEST_DATADIR "/scenarios/48-node-class-missing/pools.yaml"
#define PACKERS DATA "packers/"
#define MANY_POOLS DATA "many-pools/"

/* One kerfctl run: exit status, stdout, stderr, and stdout as JSON when it parses. */
struct run {
	int status;
	char *out;
	char *err;
	json_t *doc;
};

/* Runs `kerfctl simulate ARGS`, its stdout and stderr captured. */
static void simulate(struct run *r, const char *args)
{
	char cmd[4096];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s' simulate %s", KERFCTL, args),
			 (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
	r->doc = json_loads(r->out, 0, NULL);
}

/* A run with -o json that must succeed. */
static void simulate_json(struct run *r, const char *args)
{
	char with_json[2048];

	ck_assert_int_lt(snprintf(with_json, sizeof(with_json), "-o json %s", args),
			 (int)sizeof(with_json));
	simulate(r, with_json);
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_msg(r->doc != NULL, "not JSON: %s", r->out);
}

static void run_free(struct run *r)
{
	json_decref(r->doc);
	free(r->out);
	free(r->err);
}

static bool is_ray_worker_type(const char *name)
{
	return strcmp(name, "t3.medium") == 0 || strcmp(name, "t3.large") == 0 ||
	       strcmp(name, "t3.xlarge") == 0;
}

/*
 * Every NodeClaim is in the ray-worker pool, on-demand, on a t3 medium,
 * large or xlarge (amd64), and lists no other type; the total is the sum of
 * the claims.  Returns the number of pods on them.
 */
static size_t check_ray_claims(const json_t *doc)
{
	const json_t *claims = json_object_get(doc, "nodeclaims"), *c;
	json_int_t sum = 0;
	size_t i, pods = 0;

	ck_assert(json_is_array(claims));
	json_array_foreach(claims, i, c)
	{
		const json_t *opts = json_object_get(c, "options"), *o;
		size_t k;
		ck_assert_str_eq(str_at(c, "nodepool"), "ray-worker-nodepool");
		ck_assert_str_eq(str_at(c, "capacity_type"), "on-demand");
		ck_assert_msg(is_ray_worker_type(str_at(c, "instance_type")), "%s",
			      str_at(c, "instance_type"));
		ck_assert_uint_ge(json_array_size(opts), 1);
		ck_assert_str_eq(json_string_value(json_array_get(opts, 0)),
				 str_at(c, "instance_type"));
		json_array_foreach(opts, k, o) ck_assert_msg(
		    is_ray_worker_type(json_string_value(o)), "option %s", json_string_value(o));
		json_int_t micro = int_at(c, "price_micro_usd_per_hour");
		ck_assert_int_gt(micro, 0);
		ck_assert(json_real_value(json_object_get(c, "price_per_hour")) ==
			  (double)micro / 1e6);
		sum += micro;
		pods += json_array_size(json_object_get(c, "pods"));
	}
	ck_assert_int_eq(int_at(doc, "total_price_micro_usd_per_hour"), sum);
	ck_assert(json_real_value(json_object_get(doc, "total_price_per_hour")) ==
		  (double)sum / 1e6);
	return pods;
}

/* The unschedulable entry for pod, or NULL. */
static const json_t *unschedulable(const json_t *doc, const char *pod)
{
	const json_t *u;
	size_t i;

	json_array_foreach(json_object_get(doc, "unschedulable"), i,
			   u) if (strcmp(str_at(u, "pod"), pod) == 0) return u;
	return NULL;
}

/* The pod is pending with exactly one reason, from the ray-worker pool, containing `text`. */
static void check_one_reason(const json_t *doc, const char *pod, const char *text)
{
	const json_t *u = unschedulable(doc, pod), *reasons, *r;

	ck_assert_msg(u != NULL, "%s is not unschedulable", pod);
	reasons = json_object_get(u, "reasons");
	ck_assert_uint_eq(json_array_size(reasons), 1);
	r = json_array_get(reasons, 0);
	ck_assert_str_eq(str_at(r, "nodepool"), "ray-worker-nodepool");
	ck_assert_msg(strstr(str_at(r, "reason"), text), "%s: \"%s\" lacks \"%s\"", pod,
		      str_at(r, "reason"), text);
}

START_TEST(ray_example_hits_cpu_limit)
{
	struct run r;
	const json_t *c;
	size_t i;

	simulate_json(&r, "-f '" RAY_POOL "' -f '" RAY_PODS "'");
	/* 3.5 cpu workers: one t3.xlarge (4 cpu) each, 20 of them fill the 80-cpu limit. */
	ck_assert_uint_eq(check_ray_claims(r.doc), 20);
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "nodeclaims")), 20);
	json_array_foreach(json_object_get(r.doc, "nodeclaims"), i, c)
	{
		char want[64];
		snprintf(want, sizeof(want), "ray/ray-worker-%zu", i + 1);
		ck_assert_str_eq(str_at(c, "instance_type"), "t3.xlarge");
		ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "pods"), 0)),
				 want);
	}
	ck_assert_int_eq(int_at(r.doc, "total_price_micro_usd_per_hour"), 20 * 166400);
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "unschedulable")), 5);
	for (int k = 21; k <= 24; k++) {
		char pod[64];
		snprintf(pod, sizeof(pod), "ray/ray-worker-%d", k);
		check_one_reason(r.doc, pod, "limit cpu");
	}
	check_one_reason(r.doc, "ray/ray-head",
			 "untolerated taint {ray.io/node-type=worker:NoSchedule}");
	run_free(&r);
}
END_TEST

START_TEST(ray_example_text)
{
	static const char table_head[] = "NAME                     NODEPOOL              "
					 "TYPE        ZONE         CAPACITY    PRICE/H   PODS\n"
					 "ray-worker-nodepool-1    ray-worker-nodepool   "
					 "t3.xlarge   us-east-1a   on-demand   $0.1664   1\n";
	struct run r;

	/* The default: a table, one line per NodeClaim, then what is pending and the total. */
	simulate(&r, "-f '" RAY_POOL "' -f '" RAY_PODS "'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strncmp(r.out, table_head, strlen(table_head)) == 0, "%s", r.out);
	ck_assert_ptr_null(strstr(r.out, "NodeClaim ray-worker-nodepool-20\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "Unschedulable pods (5):\n  ray/ray-worker-21\n"));
	ck_assert(str_ends_with(r.out, "\n\ntotal price per hour: $3.3280\n"));
	run_free(&r);

	/* -o wide: each NodeClaim in full. */
	simulate(&r, "-o wide -f '" RAY_POOL "' -f '" RAY_PODS "'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_null(r.doc);
	ck_assert_ptr_nonnull(strstr(r.out, "NodeClaim ray-worker-nodepool-20\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  instance type: t3.xlarge\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  price:         $0.1664 per hour\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "Unschedulable pods (5):\n  ray/ray-worker-21\n"));
	ck_assert_ptr_nonnull(strstr(r.out,
				     "  ray/ray-head\n    ray-worker-nodepool: untolerated taint "
				     "{ray.io/node-type=worker:NoSchedule}\n"));
	ck_assert(str_ends_with(r.out, "\n\ntotal price per hour: $3.3280\n"));
	run_free(&r);
}
END_TEST

START_TEST(small_pods_pack_on_t3_sizes)
{
	struct run r;

	simulate_json(&r, "-f '" RAY_POOL "' -f '" DATA "small-ray.yaml'");
	/* Ten 0.5-cpu workers: seven fill a t3.xlarge, three fit a t3.medium. */
	ck_assert_uint_eq(check_ray_claims(r.doc), 10);
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "nodeclaims")), 2);
	ck_assert_int_eq(int_at(r.doc, "total_price_micro_usd_per_hour"), 166400 + 41600);
	/* The web pods lack the toleration; the bound pod is not simulated at all. */
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "unschedulable")), 2);
	check_one_reason(r.doc, "default/web-1", "untolerated taint {ray.io/node-type=worker");
	check_one_reason(r.doc, "default/web-2", "untolerated taint {ray.io/node-type=worker");
	ck_assert_ptr_null(strstr(r.out, "ray/running"));
	ck_assert_msg(strstr(r.err, "small-ray.yaml:42:1: note: Pod ray/running is bound to node "
				    "ip-10-0-0-1.ec2.internal"),
		      "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(config_and_packer_choose_the_same_plugins)
{
	struct run a, b;

	simulate_json(&a, "-f '" RAY_POOL "' -f '" RAY_PODS "'");
	simulate_json(&b, "-c '" KERF_TEST_SRCDIR "/examples/kerf.yaml' --packer binpack-ffd "
			  "-f '" RAY_POOL "' -f '" RAY_PODS "'");
	ck_assert_str_eq(a.out, b.out);
	run_free(&a);
	run_free(&b);
}
END_TEST

#ifdef BUILD_PLUGIN_BINPACK_ILP
/* The nodepools entry of a -o json report for pool `name`, checked to exist. */
static const json_t *pool_packing(const json_t *doc, const char *name)
{
	const json_t *a = json_object_get(doc, "nodepools"), *o;
	size_t i;

	json_array_foreach(a, i, o) if (strcmp(json_string_value(json_object_get(o, "nodepool")),
					       name) == 0) return o;
	ck_abort_msg("no nodepools entry for %s", name);
	return NULL;
}

static void assert_packing(const json_t *doc, const char *pool, const char *packer,
			   const char *shadow)
{
	const json_t *o = pool_packing(doc, pool), *sh = json_object_get(o, "shadow");
	bool ilp = strcmp(packer, "binpack-ilp") == 0;

	ck_assert_str_eq(json_string_value(json_object_get(o, "packer")), packer);
	/* Only binpack-ilp proves a bound: its gap is a number, FFD's null. */
	ck_assert_int_eq(
	    json_integer_value(json_object_get(o, "lower_bound_micro_usd_per_hour")) > 0, ilp);
	ck_assert_int_eq(json_is_real(json_object_get(o, "gap_percent")), ilp);
	if (!shadow) {
		ck_assert_ptr_null(sh);
		return;
	}
	ck_assert_ptr_nonnull(sh);
	ck_assert_str_eq(json_string_value(json_object_get(sh, "packer")), shadow);
}

/*
 * simulate chooses each NodePool's packer as kerfd does: the annotations
 * (with their shadow), else kerf.yaml's nodepools entry, else the default;
 * --packer overrides them all and drops the shadows.
 */
START_TEST(packer_per_nodepool)
{
	struct run r;

	simulate_json(&r, "-f '" PACKERS "pools.yaml'");
	assert_packing(r.doc, "annotated", "binpack-ilp", "binpack-ffd");
	assert_packing(r.doc, "configured", "binpack-ffd", NULL);
	run_free(&r);

	simulate_json(&r, "-c '" PACKERS "packers.yaml' -f '" PACKERS "pools.yaml'");
	assert_packing(r.doc, "annotated", "binpack-ilp", "binpack-ffd");
	assert_packing(r.doc, "configured", "binpack-ilp", NULL);
	run_free(&r);

	simulate_json(&r, "-c '" PACKERS "packers.yaml' --packer binpack-ffd -f '" PACKERS
			  "pools.yaml'");
	assert_packing(r.doc, "annotated", "binpack-ffd", NULL);
	assert_packing(r.doc, "configured", "binpack-ffd", NULL);
	run_free(&r);

	/* The text report says the same, with the bound and its gap. */
	simulate(&r, "-f '" PACKERS "pools.yaml'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "Packing per NodePool:\n  annotated: binpack-ilp, $") &&
			  strstr(r.out, "(gap ") &&
			  strstr(r.out, "    shadow (not acted on): binpack-ffd, $") &&
			  strstr(r.out, "  configured: binpack-ffd, $"),
		      "%s", r.out);
	run_free(&r);
}
END_TEST
#endif

START_TEST(bad_input_exits_1)
{
	struct run r;

	simulate(&r, "-o json -f '" RAY_POOL "' -f '" DATA "invalid.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "invalid.yaml:18:11: Deployment/default/broken: spec.template."
				    "spec.containers[0].imagePullPolicyy: unknown field"),
		      "%s", r.err);
	run_free(&r);

	simulate(&r, "-f '" RAY_POOL "' --packer no-such-packer");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(
	    strstr(r.err, "packer no-such-packer: plugin \"no-such-packer\" not found"));
	run_free(&r);

	simulate(&r, "-f '" DATA "no-such-file.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no-such-file.yaml: cannot open"));
	run_free(&r);

	simulate(&r, "-o xml -f '" RAY_POOL "'");
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
}
END_TEST

/* Runs `kerfctl validate ARGS`. */
static void validate(struct run *r, const char *args)
{
	char cmd[4096];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s' validate %s", KERFCTL, args),
			 (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
	r->doc = NULL;
}

/* validate refuses the workloads simulate refuses, with the same positioned messages. */
START_TEST(validate_checks_workloads)
{
	static const char invalid[] = "invalid.yaml:18:11: Deployment/default/broken: "
				      "spec.template.spec.containers[0].imagePullPolicyy: unknown "
				      "field";
	static const char huge[] = "huge-replicas.yaml:8:13: Deployment/default/huge: "
				   "spec.replicas: 2147483648 pods are more than one workload may "
				   "have here: 10000 (settings.max_pods_per_workload)";
	struct run r;

	validate(&r, "-f '" DATA "invalid.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, invalid), "%s", r.err);
	run_free(&r);

	validate(&r, "-f '" DATA "huge-replicas.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, huge), "%s", r.err);
	run_free(&r);
	simulate(&r, "-f '" RAY_POOL "' -f '" DATA "huge-replicas.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, huge), "%s", r.err);
	run_free(&r);

	validate(&r, "-f '" RAY_PODS "'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
}
END_TEST

/*
 * settings.max_nodepools: the first NodePool past it is an error at its
 * document in simulate and in validate of the kerf.yaml (what kerfd would
 * refuse); a manifest file validated alone has no limit.
 */
START_TEST(max_nodepools)
{
	static const char third[] = "pools.yaml:30:1: NodePool/third: NodePool 3 is more than may "
				    "be loaded: 2 (raise settings.max_nodepools)";
	char path[] = "/tmp/check_simulate.pools.XXXXXX", args[256];
	struct run r;
	FILE *f;
	int fd;

	simulate(&r, "-c '" MANY_POOLS "kerf.yaml' -f '" MANY_POOLS "pools.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, third), "%s", r.err);
	run_free(&r);
	validate(&r, "'" MANY_POOLS "kerf.yaml'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, third), "%s", r.err);
	run_free(&r);
	validate(&r, "'" MANY_POOLS "pools.yaml'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	/* Without kerf.yaml, the default of 1,000 holds: three pass, 1,001 do not. */
	simulate_json(&r, "-f '" MANY_POOLS "pools.yaml'");
	run_free(&r);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: c}\n"
	      "spec:\n  role: R\n  amiSelectorTerms: [{alias: al2023@latest}]\n"
	      "  subnetSelectorTerms: [{tags: {k: v}}]\n"
	      "  securityGroupSelectorTerms: [{tags: {k: v}}]\n",
	      f);
	for (int i = 1; i <= 1001; i++)
		fprintf(f,
			"---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p%d}\n"
			"spec:\n  template:\n    spec:\n      nodeClassRef: {group: "
			"karpenter.k8s.aws, kind: EC2NodeClass, name: c}\n      requirements: "
			"[{key: karpenter.sh/capacity-type, operator: In, values: [spot]}]\n",
			i);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_lt(snprintf(args, sizeof(args), "-f '%s'", path), (int)sizeof(args));
	simulate(&r, args);
	unlink(path);
	ck_assert_int_eq(r.status, 1);
	/* Eight lines of node class, then nine a NodePool, its "---" first. */
	ck_assert_msg(strstr(r.err, ":9010:1: NodePool/p1001: NodePool 1001 is more than may be "
				    "loaded: 1000 (raise settings.max_nodepools)\n1 error\n"),
		      "%s", r.err);
	run_free(&r);
}
END_TEST

/* -o yaml prints NodeClaims that kerfctl validate reads back as Karpenter's. */
START_TEST(yaml_is_nodeclaims)
{
	char path[] = "/tmp/check_simulate.yaml.XXXXXX", cmd[4096];
	struct run r;
	char *out, *err;
	int fd, status;

	simulate(&r, "-o yaml -f '" RAY_POOL "' -f '" RAY_PODS "'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strncmp(r.out, "---\napiVersion: karpenter.sh/v1\nkind: NodeClaim\n", 48) ==
			  0,
		      "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "      values:\n        - \"t3.xlarge\"\n"));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, r.out, strlen(r.out)), (ssize_t)strlen(r.out));
	close(fd);
	run_free(&r);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s' validate '%s'", KERFCTL, path),
			 (int)sizeof(cmd));
	status = run_captured(cmd, &out, &err);
	unlink(path);
	ck_assert_msg(status == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, ": ok (0 NodePools, 20 NodeClaims)"));
	free(out);
	free(err);
}
END_TEST

/*
 * Karpenter holds a NodePool whose nodeClassRef names no node class not
 * Ready: validate warns (exit 0, the class may come from the cluster),
 * looking across every file given.
 */
START_TEST(validate_warns_missing_node_class)
{
	char cmd[4096];
	char *out, *err;
	int status;

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s' validate -f '%s' -f '%s'", KERFCTL,
				  DATA "nodepool-only.yaml", MISSING_CLASS),
			 (int)sizeof(cmd));
	status = run_captured(cmd, &out, &err);
	ck_assert_msg(status == 0, "%s", err);
	ck_assert_str_eq(err, "warning: NodePool fast: nodeClassRef names EC2NodeClass missing, "
			      "not defined in the files given; the NodePool is not Ready until it "
			      "exists, and kerfd provisions nothing from it\n");
	free(out);
	free(err);

	/* Alone, the NodePool's class is nowhere. */
	ck_assert_int_lt(
	    snprintf(cmd, sizeof(cmd), "'%s' validate '%s'", KERFCTL, DATA "nodepool-only.yaml"),
	    (int)sizeof(cmd));
	status = run_captured(cmd, &out, &err);
	ck_assert_msg(status == 0, "%s", err);
	ck_assert_msg(strstr(err, "warning: NodePool elsewhere: nodeClassRef names EC2NodeClass "
				  "default, not defined in the files given") != NULL,
		      "%s", err);
	free(out);
	free(err);
}
END_TEST

static Suite *simulate_suite(void)
{
	Suite *s = suite_create("simulate");
	TCase *tc = tcase_create("kerfctl");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ray_example_hits_cpu_limit);
	tcase_add_test(tc, ray_example_text);
	tcase_add_test(tc, small_pods_pack_on_t3_sizes);
	tcase_add_test(tc, config_and_packer_choose_the_same_plugins);
	tcase_add_test(tc, bad_input_exits_1);
#ifdef BUILD_PLUGIN_BINPACK_ILP
	tcase_add_test(tc, packer_per_nodepool);
#endif
	tcase_add_test(tc, validate_checks_workloads);
	tcase_add_test(tc, validate_warns_missing_node_class);
	tcase_add_test(tc, max_nodepools);
	tcase_add_test(tc, yaml_is_nodeclaims);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(simulate_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
