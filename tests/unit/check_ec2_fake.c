/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_fake.c - the ec2 provider plugin against the fake AWS
 * (tests/fakes/fake_aws.h), which checks every request's signature, keeps
 * the instances, launch templates and fleets the calls make, and injects
 * throttling, server errors, dropped connections and insufficient
 * capacity.  Under those faults every claim gets exactly one instance,
 * one launch template serves every launch of a node class, a refused
 * offering is avoided for three minutes, and what kerf lists and deletes
 * is what the fake holds.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kerf/plugin.h>

#include "cfg.h"
#include "host.h"
#include "http.h"
#include "loader.h"
#include "manifest.h"
#include "../common/plugin_config.h"
#include "../fakes/fake_aws.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/ec2/.libs"
#define DATA KERF_TEST_DATADIR "/ec2/"
#define T0 1796683262000ll

static struct loader *ldr;
static const struct loader_plugin *plug;
static const struct kerf_provider_ops *ops;
static struct cfg_section *sec;
static struct host_clock *clk;
static struct http_client *http;
static struct kerf_host *host;
static void *inst;
static struct fake_aws *fake;
static struct mf_set set;
static const struct kerf_node_class *nc;

static void setup(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err = KERF_ERROR_INIT;
	struct mf_diags d;
	char yaml[2048];
	const char *u;

	setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	fake = fake_aws_start();
	ck_assert_ptr_nonnull(fake);
	fake_aws_set_time(fake, T0);
	fake_aws_set_cluster(fake, FAKE_AWS_CLUSTER, "https://ABCD.gr7.us-west-2.eks.amazonaws.com",
			     "LS0tLS1CRUdJTg==");
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(http_client_new(NULL, &http, &err), 0);
	clk = host_clock_new_virtual(T0);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_int_eq(loader_open(ldr, "ec2", KERF_KIND_PROVIDER, &plug, &err), 0);
	ops = &plug->provider;
	u = fake_aws_url(fake);
	/* The cluster's endpoint and CA come from the fake's eks:DescribeCluster. */
	snprintf(yaml, sizeof(yaml),
		 "region: " FAKE_AWS_REGION "\ncluster_name: " FAKE_AWS_CLUSTER "\n"
		 "endpoint_ec2: %s\nendpoint_ssm: %s\nendpoint_pricing: %s\nendpoint_eks: %s\n"
		 "endpoint_sts: %s\n",
		 u, u, u, u, u);
	ck_assert_msg(tc_plugin_section(plug, yaml, &sec, &err) == 0, "%s", err.message);
	host = host_new("provider/ec2", sec, clk, http);
	ck_assert_msg(loader_create(plug, host, &inst, &err) == 0, "%s", err.message);
	mf_set_init(&set);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(mf_set_add_provider(&set, "ec2", ops, &err), 0);
	ck_assert_int_eq(mf_load_file(&set, DATA "nodeclass-fake.yaml", &d, &err), 0);
	nc = set.node_classes[0];
}

/* Every request the plugin sent is one the SDKs would send (botocore's models). */
static void requests_as_aws_models_them(void)
{
	char dir[] = "/tmp/check_ec2_fake.XXXXXX", path[512], cmd[1024];
	const char *py = getenv("PYTHON");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/calls.jsonl", dir);
	ck_assert_int_eq(fake_aws_write_calls(fake, path), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' '" KERF_TEST_SRCDIR "/tests/fake-aws-shapes.py' --requests '%s' >/dev/null",
		 py && *py ? py : "python3", path);
	ck_assert_msg(system(cmd) == 0, "requests that botocore's models refuse: %s", cmd);
	unlink(path);
	rmdir(dir);
}

static void teardown(void)
{
	requests_as_aws_models_them();
	loader_destroy(plug, inst);
	inst = NULL;
	host_free(host);
	cfg_section_free(sec);
	mf_set_clear(&set);
	loader_free(ldr);
	http_client_free(http);
	http_global_cleanup();
	host_clock_free(clk);
	fake_aws_stop(fake);
}

static struct kerf_nodeclaim *claim(const char *name, const char *const *types, size_t n_types,
				    const char *capacity_type)
{
	struct kerf_nodeclaim *c = kerf_nodeclaim_new();
	struct kerf_requirement *r;

	c->meta->name = strdup(name);
	c->meta->uid = strdup(name);
	c->nodepool = strdup("default");
	r = kerf_requirements_append(&c->requirements);
	r->key = strdup("node.kubernetes.io/instance-type");
	for (size_t i = 0; i < n_types; i++)
		kerf_requirement_add_value(r, types[i]);
	if (capacity_type) {
		r = kerf_requirements_append(&c->requirements);
		r->key = strdup("karpenter.sh/capacity-type");
		kerf_requirement_add_value(r, capacity_type);
	}
	kerf_resources_set(&c->resource_requests, KERF_RESOURCE_CPU, 1000, NULL);
	return c;
}

static const struct kerf_offering *offering(const struct kerf_instance_type_list *l,
					    const char *type, const char *zone,
					    kerf_capacity_type ct)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i]->name, type) == 0)
			for (size_t k = 0; k < l->items[i]->n_offerings; k++) {
				const struct kerf_offering *o = l->items[i]->offerings[k];
				if (strcmp(o->zone, zone) == 0 && o->capacity_type == ct)
					return o;
			}
	return NULL;
}

struct launch {
	struct kerf_nodeclaim *claim;
	struct kerf_instance *out;
	int rc;
	struct kerf_error err;
};

static void *launch_one(void *arg)
{
	struct launch *l = arg;

	kerf_error_clear(&l->err);
	l->rc = ops->create(inst, l->claim, nc, &l->out, &l->err);
	return NULL;
}

#define N_LAUNCH 6

START_TEST(one_instance_per_claim_under_faults)
{
	static const char *const types[] = {"m5.large", "c5.large", "m5.xlarge"};
	struct launch ls[N_LAUNCH];
	pthread_t th[N_LAUNCH];
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_list *l = NULL;
	struct fake_aws_instance fi;
	char name[32];

	fake_aws_set_page_size(fake, 2);
	fake_aws_inject(fake, "DescribeInstanceTypes", FAKE_AWS_THROTTLE, 1);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_UNAVAILABLE, 1);
	fake_aws_inject(fake, "GetParameter", FAKE_AWS_INTERNAL, 1);
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_DROP, 2);
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_DROP_ANSWER, 2);
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_INTERNAL, 1);
	fake_aws_inject(fake, "TerminateInstances", FAKE_AWS_THROTTLE, 1);
	/* The host's workers launch a batch's claims at once. */
	for (size_t i = 0; i < N_LAUNCH; i++) {
		snprintf(name, sizeof(name), "default-%05zu", i);
		ls[i].claim = claim(name, types, 3, NULL);
		ls[i].out = NULL;
		ck_assert_int_eq(pthread_create(&th[i], NULL, launch_one, &ls[i]), 0);
	}
	for (size_t i = 0; i < N_LAUNCH; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(ls[i].rc == 0, "claim %zu: %d %s", i, ls[i].rc, ls[i].err.message);
		ck_assert_str_eq(kerf_labels_get(&ls[i].out->tags, "karpenter.sh/nodeclaim"),
				 ls[i].claim->meta->name);
	}
	/* No duplicate launch: one running instance per claim, each tagged for it. */
	ck_assert_uint_eq(fake_aws_n_instances(fake, "running"), N_LAUNCH);
	for (size_t i = 0; fake_aws_instance(fake, i, &fi); i++) {
		ck_assert_str_eq(
		    fake_aws_instance_tag(fake, fi.id, "kubernetes.io/cluster/" FAKE_AWS_CLUSTER),
		    "owned");
		ck_assert_str_eq(fake_aws_instance_tag(fake, fi.id, "team"), "platform");
		ck_assert_str_eq(fake_aws_instance_tag(fake, fi.id, "karpenter.sh/nodepool"),
				 "default");
		ck_assert_str_eq(fi.capacity_type, "spot");
	}
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	/* One option set, one launch template, IMDSv2 required. */
	ck_assert_uint_eq(fake_aws_n_launch_templates(fake), 1);
	fake_aws_instance(fake, 0, &fi);
	ck_assert_str_eq(
	    fake_aws_launch_template_data(fake, fi.launch_template, "MetadataOptions.HttpTokens"),
	    "required");
	ck_assert_ptr_nonnull(fake_aws_launch_template_data(fake, fi.launch_template, "UserData"));

	/* Listed, then deleted in as few calls as the workers allow. */
	ck_assert_int_eq(ops->list(inst, &l, &err), 0);
	ck_assert_uint_eq(l->n, N_LAUNCH);
	for (size_t i = 0; i < l->n; i++)
		ck_assert_int_eq(ops->delete_instance(inst, l->items[i]->provider_id, &err), 0);
	ck_assert_uint_eq(fake_aws_n_instances(fake, "running"), 0);
	ck_assert_int_eq(ops->delete_instance(inst, l->items[0]->provider_id, &err),
			 KERF_E_NOTFOUND);
	kerf_instance_list_free(l);
	for (size_t i = 0; i < N_LAUNCH; i++) {
		kerf_instance_free(ls[i].out);
		kerf_nodeclaim_free(ls[i].claim);
	}
}
END_TEST

START_TEST(capacity_errors_move_the_next_launch)
{
	static const char *const types[] = {"c5.large", "m5.large"};
	static const char *const zones[] = {"us-west-2a", "us-west-2b", "us-west-2c"};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_type_list *l = NULL;
	struct kerf_instance *in = NULL;
	struct kerf_nodeclaim *a = claim("default-aaaaa", types, 2, NULL);
	struct kerf_nodeclaim *b = claim("default-bbbbb", types, 2, NULL);

	/* No spot capacity for either type anywhere. */
	for (size_t t = 0; t < 2; t++)
		for (size_t z = 0; z < 3; z++)
			fake_aws_set_capacity(fake, types[t], zones[z], "spot", false);
	ck_assert_int_eq(ops->create(inst, a, nc, &in, &err), KERF_E_CAPACITY);
	ck_assert_uint_eq(fake_aws_n_instances(fake, NULL), 0);
	/* The refusals are unavailable offerings for the core's next decision ... */
	ck_assert_int_eq(ops->get_instance_types(inst, nc, &l, &err), 0);
	for (size_t t = 0; t < 2; t++)
		for (size_t z = 0; z < 3; z++) {
			ck_assert(!offering(l, types[t], zones[z], KERF_CAPACITY_SPOT)->available);
			ck_assert(
			    offering(l, types[t], zones[z], KERF_CAPACITY_ON_DEMAND)->available);
		}
	ck_assert(offering(l, "m5.xlarge", "us-west-2a", KERF_CAPACITY_SPOT)->available);
	kerf_instance_type_list_free(l);
	/* ... which goes on demand, without asking EC2 for spot again. */
	ck_assert_int_eq(ops->create(inst, b, nc, &in, &err), 0);
	ck_assert_int_eq(in->capacity_type, KERF_CAPACITY_ON_DEMAND);
	ck_assert_str_eq(fake_aws_param(fake, "CreateFleet", (size_t)-1,
					"TargetCapacitySpecification.DefaultTargetCapacityType"),
			 "on-demand");
	ck_assert_str_eq(
	    fake_aws_param(fake, "CreateFleet", (size_t)-1, "OnDemandOptions.AllocationStrategy"),
	    "lowest-price");
	kerf_instance_free(in);
	/* Three minutes later spot is tried again. */
	ck_assert_int_eq(host_clock_advance(clk, 3 * 60 * 1000), 0);
	ck_assert_int_eq(ops->get_instance_types(inst, nc, &l, &err), 0);
	ck_assert(offering(l, "c5.large", "us-west-2a", KERF_CAPACITY_SPOT)->available);
	kerf_instance_type_list_free(l);
	kerf_nodeclaim_free(a);
	kerf_nodeclaim_free(b);
}
END_TEST

START_TEST(leaked_instances_are_listed)
{
	static const char *const tags[] = {"kubernetes.io/cluster/" FAKE_AWS_CLUSTER, "owned",
					   "karpenter.sh/nodepool", "default", NULL};
	static const char *const other[] = {"kubernetes.io/cluster/another", "owned",
					    "karpenter.sh/nodepool", "default", NULL};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_list *l = NULL;
	const char *id = fake_aws_run_instance(fake, "m5.large", "us-west-2b", tags);

	fake_aws_run_instance(fake, "m5.large", "us-west-2b", other);
	/* The core's garbage collection sees the cluster's instance, with no NodeClaim tag. */
	ck_assert_int_eq(ops->list(inst, &l, &err), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert(strstr(l->items[0]->provider_id, id) != NULL);
	ck_assert_ptr_null(kerf_labels_get(&l->items[0]->tags, "karpenter.sh/nodeclaim"));
	kerf_instance_list_free(l);
}
END_TEST

START_TEST(ami_from_an_ssm_parameter)
{
	static const char *const types[] = {"m5.large"};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance *in = NULL;
	struct kerf_nodeclaim *a = claim("team-aaaaa", types, 1, NULL);
	struct fake_aws_instance fi;

	ck_assert_uint_eq(set.n_node_classes, 2);
	ck_assert_str_eq(set.node_classes[1]->meta->name, "team-image");
	fake_aws_set_parameter(fake, "/team/ami/current", "ami-0c0570a0000000001");
	ck_assert_msg(ops->create(inst, a, set.node_classes[1], &in, &err) == 0, "%s", err.message);
	ck_assert_str_eq(in->image_id, "ami-0c0570a0000000001");
	ck_assert(fake_aws_instance(fake, 0, &fi));
	ck_assert_str_eq(fi.image, "ami-0c0570a0000000001");
	ck_assert_str_eq(fake_aws_param(fake, "GetParameter", 0, "Name"), "/team/ami/current");
	kerf_instance_free(in);
	kerf_nodeclaim_free(a);
}
END_TEST

START_TEST(a_lost_answer_does_not_launch_twice)
{
	static const char *const types[] = {"m5.large"};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance *first = NULL, *again = NULL;
	struct kerf_nodeclaim *a = claim("default-aaaaa", types, 1, NULL);

	ck_assert_int_eq(ops->create(inst, a, nc, &first, &err), 0);
	/*
	 * The launch is retried (the host lost the answer) while EC2 cannot
	 * list the instance: CreateFleet's ClientToken brings the first
	 * launch's instance back, and nothing new is launched.
	 */
	fake_aws_inject(fake, "DescribeInstances", FAKE_AWS_INTERNAL, 5);
	ck_assert_msg(ops->create(inst, a, nc, &again, &err) == 0, "%s", err.message);
	ck_assert_str_eq(again->provider_id, first->provider_id);
	ck_assert_uint_eq(fake_aws_calls(fake, "CreateFleet"), 2);
	ck_assert_str_eq(fake_aws_param(fake, "CreateFleet", 0, "ClientToken"),
			 fake_aws_param(fake, "CreateFleet", 1, "ClientToken"));
	ck_assert_uint_eq(fake_aws_n_instances(fake, NULL), 1);
	kerf_instance_free(first);
	kerf_instance_free(again);
	kerf_nodeclaim_free(a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_fake");
	TCase *tc = tcase_create("fake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_instance_per_claim_under_faults);
	tcase_add_test(tc, capacity_errors_move_the_next_launch);
	tcase_add_test(tc, leaked_instances_are_listed);
	tcase_add_test(tc, ami_from_an_ssm_parameter);
	tcase_add_test(tc, a_lost_answer_does_not_launch_twice);
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
