/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_e2e.c - kerfd with the simulated cluster and the ec2 provider
 * against the fake AWS (tests/fakes/fake_aws.h), under throttling, server
 * errors, dropped connections (one after the fleet was made) and a zone
 * without spot capacity, with an instance a crashed launch left behind.
 *
 * The simulated cluster's pods make kerfd launch EC2 instances through
 * CreateFleet; the simulated kubelet joins them as nodes (the sim cluster
 * registers instances another provider launched), the pods run, the
 * scale-down empties nodes that kerfd then terminates, and the leaked
 * instance is garbage-collected.  At the end every pod is placed and the
 * fake's running instances are exactly the NodeClaims kerfd still holds,
 * each launched once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/kerfd_run.h"
#include "../fakes/fake_aws.h"

#define DATA KERF_TEST_DATADIR "/ec2/e2e"

START_TEST(kerfd_launches_and_terminates_on_ec2)
{
	static const char *const leaked_tags[] = {"kubernetes.io/cluster/" FAKE_AWS_CLUSTER,
						  "owned", "karpenter.sh/nodepool", "default",
						  NULL};
	char dir[] = "/tmp/check_ec2_e2e.XXXXXX", path[512], cmd[600];
	struct fake_aws *fake;
	struct kerfd_run r;
	struct fake_aws_instance fi;
	json_t *live = json_object(), *launched = json_object(), *line;
	const char *leaked, *u, *name;
	json_t *pid;
	size_t i, n_launched = 0, running = 0;
	FILE *f;

	setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	fake = fake_aws_start();
	ck_assert_ptr_nonnull(fake);
	fake_aws_set_cluster(fake, FAKE_AWS_CLUSTER, "https://ABCD.gr7.us-west-2.eks.amazonaws.com",
			     "LS0tLS1CRUdJTg==");
	leaked = fake_aws_run_instance(fake, "m5.large", "us-west-2b", leaked_tags);
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_THROTTLE, 1);
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_DROP, 1);
	/* A fleet made whose answer is lost: the retry must not make another. */
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_DROP_ANSWER, 1);
	fake_aws_inject(fake, "DescribeInstances", FAKE_AWS_INTERNAL, 1);
	fake_aws_inject(fake, "TerminateInstances", FAKE_AWS_UNAVAILABLE, 1);
	fake_aws_set_capacity(fake, "c5.large", "us-west-2a", "spot", false);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kerf.yaml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	u = fake_aws_url(fake);
	fprintf(f,
		"cluster: sim\nprovider: ec2\npackers: [binpack-ffd]\n"
		"manifests: [" DATA "/pool.yaml]\n"
		"plugins:\n"
		"  ec2:\n    region: " FAKE_AWS_REGION "\n    cluster_name: " FAKE_AWS_CLUSTER "\n"
		"    endpoint_ec2: %s\n    endpoint_ssm: %s\n    endpoint_pricing: %s\n"
		"    endpoint_eks: %s\n    endpoint_sts: %s\n"
		"  sim:\n    region: " FAKE_AWS_REGION "\n"
		"    zones: [us-west-2a, us-west-2b, us-west-2c]\n"
		"    workloads: [" DATA "/web.yaml]\n    scenario: " DATA "/scenario.yaml\n"
		"settings:\n  log_level: info\n  metrics_address: \"\"\n  health_address: \"\"\n"
		"  clock: virtual\n",
		u, u, u, u, u);
	fclose(f);

	kerfd_run(&r, dir, "kerf.yaml", "--until 40m");

	/* The NodeClaims kerfd launched and those it terminated, from its decision log. */
	json_array_foreach(r.log, i, line)
	{
		const char *ev = json_string_value(json_object_get(line, "event"));
		name = json_string_value(json_object_get(line, "nodeclaim"));
		if (!ev || !name)
			continue;
		if (strcmp(ev, "launched") == 0) {
			pid = json_object_get(line, "provider_id");
			ck_assert_msg(json_is_string(pid), "%s launched without an instance", name);
			ck_assert_ptr_null(json_object_get(launched, name));
			json_object_set(launched, name, pid);
			json_object_set(live, name, pid);
			n_launched++;
		} else if (json_object_get(line, "drain_ms")) {
			json_object_del(live, name);
		}
	}
	/* Nine 1-cpu pods need three nodes; the scale-down to two frees some. */
	ck_assert_uint_ge(n_launched, 3);
	ck_assert_uint_gt(json_object_size(live), 0);
	ck_assert_uint_lt(json_object_size(live), n_launched);
	/* Every pod placed. */
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(r.report, "pods"), "pending")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r.report, "pending")), 0);
	/* Each of the nine scheduled at least once (a consolidation moves some again). */
	ck_assert_int_ge(
	    json_integer_value(json_object_get(json_object_get(r.report, "pods"), "scheduled")), 9);

	/* Each launch made one instance; the leaked one was collected. */
	ck_assert_uint_eq(fake_aws_n_instances(fake, NULL), n_launched + 1);
	for (i = 0; fake_aws_instance(fake, i, &fi); i++) {
		const char *claim = fake_aws_instance_tag(fake, fi.id, "karpenter.sh/nodeclaim");
		if (strcmp(fi.id, leaked) == 0) {
			ck_assert_str_eq(fi.state, "terminated");
			continue;
		}
		ck_assert_ptr_nonnull(claim);
		pid = json_object_get(launched, claim);
		ck_assert_msg(pid && strstr(json_string_value(pid), fi.id), "%s: not %s's instance",
			      fi.id, claim);
		/* Running exactly while kerfd holds its NodeClaim. */
		ck_assert_msg((strcmp(fi.state, "running") == 0) ==
				  (json_object_get(live, claim) != NULL),
			      "%s (%s) is %s", fi.id, claim, fi.state);
		running += strcmp(fi.state, "running") == 0;
		/* The zone without spot capacity was left for the rest of the run. */
		ck_assert(!(strcmp(fi.type, "c5.large") == 0 &&
			    strcmp(fi.zone, "us-west-2a") == 0 &&
			    strcmp(fi.capacity_type, "spot") == 0));
	}
	ck_assert_uint_eq(running, json_object_size(live));
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	ck_assert_uint_eq(fake_aws_n_launch_templates(fake), 1);
	/* Every request kerfd sent is one the SDKs would send (botocore's models). */
	snprintf(path, sizeof(path), "%s/calls.jsonl", dir);
	ck_assert_int_eq(fake_aws_write_calls(fake, path), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' '" KERF_TEST_SRCDIR "/tests/fake-aws-shapes.py' --requests '%s'",
		 getenv("PYTHON") && *getenv("PYTHON") ? getenv("PYTHON") : "python3", path);
	ck_assert_msg(system(cmd) == 0, "requests that botocore's models refuse: %s", cmd);

	json_decref(live);
	json_decref(launched);
	kerfd_run_free(&r);
	fake_aws_stop(fake);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_e2e");
	TCase *tc = tcase_create("e2e");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, kerfd_launches_and_terminates_on_ec2);
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
