/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_kube.c - kerfd with the kube cluster plugin against the fake
 * API server (tests/fakes/fake_kube.h) and the ec2 provider against the
 * fake AWS (tests/fakes/fake_aws.h): the EC2NodeClasses kerfd reads get
 * their status written back through the status subresource, one whose
 * selectors resolve and one whose AMI selector finds nothing.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../fakes/fake_aws.h"
#include "../fakes/fake_kube.h"

/* How long kerfd may take to start and write, at most: the loop ends as soon as it did. */
#define CONVERGE_MS 60000

#define CLASS                                                                                      \
	"{\"apiVersion\":\"karpenter.k8s.aws/"                                                     \
	"v1\",\"kind\":\"EC2NodeClass\",\"metadata\":{\"name\":"                                   \
	"\"%s\"},\"spec\":{\"amiSelectorTerms\":[%s],%s\"role\":"                                  \
	"\"KarpenterNodeRole-" FAKE_AWS_CLUSTER                                                    \
	"\",\"subnetSelectorTerms\":[{\"tags\":{\"karpenter.sh/discovery\":\"" FAKE_AWS_CLUSTER    \
	"\"}}],\"securityGroupSelectorTerms\":[{\"tags\":{\"karpenter.sh/discovery\":"             \
	"\"" FAKE_AWS_CLUSTER "\"}}]}}"
#define POOL                                                                                       \
	"{\"apiVersion\":\"karpenter.sh/"                                                          \
	"v1\",\"kind\":\"NodePool\",\"metadata\":{\"name\":\"%s\"},"                               \
	"\"spec\":{\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":\"karpenter.k8s.aws\","     \
	"\"kind\":\"EC2NodeClass\",\"name\":\"%s\"},\"requirements\":[{\"key\":"                   \
	"\"karpenter.sh/capacity-type\",\"operator\":\"In\",\"values\":[\"on-demand\"]}]}}}}"

/*
 * An EC2NodeClass of the fake AWS's subnets and groups with one AMI term
 * and `more` spec fields, and its NodePool.
 */
static void put_class(struct fake_kube *f, const char *name, const char *ami_term, const char *more)
{
	char text[2048];

	ck_assert_int_lt(snprintf(text, sizeof(text), CLASS, name, ami_term, more),
			 (int)sizeof(text));
	ck_assert_int_eq(fake_kube_put(f, text), 0);
	ck_assert_int_lt(snprintf(text, sizeof(text), POOL, name, name), (int)sizeof(text));
	ck_assert_int_eq(fake_kube_put(f, text), 0);
}

static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The named EC2NodeClass's condition of `type`, borrowed from obj; NULL when it has none. */
static json_t *condition(json_t *obj, const char *type)
{
	json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
			return c;
	}
	return NULL;
}

static const char *field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	ck_assert_msg(s != NULL, "no %s", key);
	return s;
}

#define STATUS_PATH "/apis/karpenter.k8s.aws/v1/ec2nodeclasses/"

/* How many times `what` is in the file at path. */
static size_t count_in(const char *path, const char *what)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	while (fp && fgets(line, sizeof(line), fp))
		n += strstr(line, what) != NULL;
	if (fp)
		fclose(fp);
	return n;
}

/* The named EC2NodeClass once it has a Ready condition (new reference); NULL when it never does. */
static json_t *wait_status(struct fake_kube *f, const char *name)
{
	for (long w = 0; w < CONVERGE_MS; w += 50) {
		json_t *obj = fake_kube_get(f, "karpenter.k8s.aws/v1", "EC2NodeClass", NULL, name);
		if (condition(obj, "Ready"))
			return obj;
		json_decref(obj);
		pause_ms(50);
	}
	return NULL;
}

START_TEST(kerfd_writes_ec2nodeclass_status)
{
	char dir[] = "/tmp/check_ec2_kube.XXXXXX", config[512], log[512];
	struct fake_aws *aws;
	struct fake_kube *kube;
	json_t *good, *bad, *v, *c;
	const char *u;
	size_t i;
	pid_t pid;
	FILE *fp;

	setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("KUBECONFIG");
	aws = fake_aws_start();
	ck_assert_ptr_nonnull(aws);
	fake_aws_set_cluster(aws, FAKE_AWS_CLUSTER, "https://ABCD.gr7.us-west-2.eks.amazonaws.com",
			     "LS0tLS1CRUdJTg==");
	kube = fake_kube_start(NULL);
	ck_assert_ptr_nonnull(kube);
	put_class(kube, "resolved", "{\"alias\":\"al2023@latest\"}", "");
	put_class(kube, "no-ami", "{\"name\":\"no-such-image-*\"}", "\"amiFamily\":\"AL2023\",");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(config, sizeof(config), "%s/kerf.yaml", dir);
	snprintf(log, sizeof(log), "%s/kerfd.log", dir);
	fp = fopen(config, "w");
	ck_assert_ptr_nonnull(fp);
	u = fake_aws_url(aws);
	fprintf(fp,
		"cluster: kube\nprovider: ec2\npackers: [binpack-ffd]\n"
		"plugins:\n  kube:\n    kubeconfig: %s\n"
		"  ec2:\n    region: " FAKE_AWS_REGION "\n    cluster_name: " FAKE_AWS_CLUSTER "\n"
		"    endpoint_ec2: %s\n    endpoint_ssm: %s\n    endpoint_pricing: %s\n"
		"    endpoint_eks: %s\n    endpoint_sts: %s\n"
		"settings:\n  clock: real\n  decision_log: \"\"\n  log_level: info\n"
		"  metrics_address: \"\"\n  health_address: \"\"\n",
		fake_kube_kubeconfig(kube), u, u, u, u, u);
	fclose(fp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *o = freopen(log, "w", stderr);
		if (!o || dup2(fileno(stderr), 1) < 0)
			_exit(126);
		execl(KERF_TEST_BUILDDIR "/core/kerfd", "kerfd", "--config", config, "--until",
		      "300s", (char *)NULL);
		_exit(127);
	}

	good = wait_status(kube, "resolved");
	bad = wait_status(kube, "no-ami");
	/*
	 * The refused class's types are asked for again every 10 s while it
	 * fails: each new status equals the one written, so it is not written
	 * again.
	 */
	for (long w = 0; w < CONVERGE_MS && count_in(log, "NodePool no-ami: instance types") < 3;
	     w += 100)
		pause_ms(100);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_msg(good && bad, "no status written (see %s)", log);
	ck_assert_uint_ge(count_in(log, "NodePool no-ami: instance types"), 3);
	ck_assert_uint_eq(fake_kube_requests(kube, "PATCH", STATUS_PATH "resolved/status"), 1);
	ck_assert_uint_eq(fake_kube_requests(kube, "PATCH", STATUS_PATH "no-ami/status"), 1);

	/* The fake's three tagged subnets, one per zone, with their zone IDs. */
	v = json_object_get(json_object_get(good, "status"), "subnets");
	ck_assert_uint_eq(json_array_size(v), 3);
	json_array_foreach(v, i, c) {
		ck_assert_int_eq(strncmp(field(c, "id"), "subnet-", 7), 0);
		ck_assert_int_eq(strncmp(field(c, "zone"), "us-west-2", 9), 0);
		ck_assert_int_eq(strncmp(field(c, "zoneID"), "usw2-az", 7), 0);
	}
	v = json_object_get(json_object_get(good, "status"), "securityGroups");
	ck_assert_uint_eq(json_array_size(v), 2);
	json_array_foreach(v, i, c) {
		ck_assert_int_eq(strncmp(field(c, "id"), "sg-", 3), 0);
		ck_assert(*field(c, "name"));
	}
	/* The alias's two images, amd64 and arm64. */
	v = json_object_get(json_object_get(good, "status"), "amis");
	ck_assert_uint_eq(json_array_size(v), 2);
	json_array_foreach(v, i, c) {
		json_t *req = json_array_get(json_object_get(c, "requirements"), 0);
		ck_assert_int_eq(strncmp(field(c, "id"), "ami-", 4), 0);
		ck_assert_str_eq(field(req, "key"), "kubernetes.io/arch");
		ck_assert_str_eq(field(req, "operator"), "In");
	}
	ck_assert_str_eq(field(json_object_get(good, "status"), "instanceProfile"),
			 "KarpenterNodeRole-" FAKE_AWS_CLUSTER);
	ck_assert_str_eq(field(condition(good, "Ready"), "status"), "True");
	ck_assert_str_eq(field(condition(good, "ValidationSucceeded"), "status"), "True");
	/* The spec is the user's: the status subresource left it as it was. */
	ck_assert_str_eq(
	    field(json_array_get(json_object_get(json_object_get(good, "spec"), "amiSelectorTerms"),
				 0),
		  "alias"),
	    "al2023@latest");

	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(bad, "status"), "amis")),
			  0);
	ck_assert_uint_eq(
	    json_array_size(json_object_get(json_object_get(bad, "status"), "subnets")), 3);
	ck_assert_str_eq(field(condition(bad, "SubnetsReady"), "status"), "True");
	ck_assert_str_eq(field(condition(bad, "AMIsReady"), "status"), "False");
	ck_assert_str_eq(field(condition(bad, "AMIsReady"), "reason"), "AMINotFound");
	ck_assert_str_eq(field(condition(bad, "AMIsReady"), "message"),
			 "AMISelector did not match any AMIs");
	ck_assert_str_eq(field(condition(bad, "Ready"), "status"), "False");
	ck_assert_str_eq(field(condition(bad, "Ready"), "reason"), "UnhealthyDependents");
	ck_assert_str_eq(field(condition(bad, "Ready"), "message"), "AMIsReady=False");
	ck_assert_uint_eq(fake_aws_auth_failures(aws), 0);

	json_decref(good);
	json_decref(bad);
	fake_kube_stop(kube);
	fake_aws_stop(aws);
	unlink(config);
	unlink(log);
	rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_kube");
	TCase *tc = tcase_create("status");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kerfd_writes_ec2nodeclass_status);
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
