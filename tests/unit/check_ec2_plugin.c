/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_plugin.c - the ec2 provider plugin, loaded as kerfd loads it,
 * against a scripted loopback server answering as AWS does (the fixtures
 * of tests/data/ec2).  The script fixes the order of the calls, so each
 * test also proves which calls are made and which are not: instance types,
 * zones and prices read once and cached; a node class resolved by its
 * selectors and AMI alias; a launch template created once and reused;
 * CreateFleet with the claim's overrides, allocation strategy and
 * ClientToken; capacity errors turned into unavailable offerings for three
 * minutes of the host clock and into KERF_E_CAPACITY; a retried launch
 * finding the instance it made; get, list, delete and drift.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/plugin.h>

#include "cfg.h"
#include "host.h"
#include "http.h"
#include "loader.h"
#include "manifest.h"
#include "../common/plugin_config.h"
#include "../common/slurp.h"
#include "../fakes/fake_http.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/ec2/.libs"
#define DATA KERF_TEST_DATADIR "/ec2/"

static char *fixture(const char *name)
{
	char path[512];
	FILE *f;
	char *text;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	text = slurp(f);
	fclose(f);
	return text;
}

static char *f_types1, *f_types2, *f_offerings, *f_products, *f_spot, *f_subnets, *f_groups,
    *f_instances;

static const char no_products[] = "{\"FormatVersion\":\"aws_v1\",\"PriceList\":[]}";
static const char no_instances[] =
    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>1</requestId><reservationSet/></DescribeInstancesResponse>";
static const char ssm_amd64[] =
    "{\"Parameter\":{\"Name\":\"/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/"
    "standard/recommended/image_id\",\"Type\":\"String\",\"Value\":\"ami-0aaaaaaaaaaaaaa02\","
    "\"Version\":7}}";
static const char ssm_arm64[] =
    "{\"Parameter\":{\"Name\":\"/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/"
    "standard/recommended/image_id\",\"Type\":\"String\",\"Value\":\"ami-0bbbbbbbbbbbbbb01\","
    "\"Version\":7}}";
static const char lt_created[] =
    "<CreateLaunchTemplateResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>2</requestId><launchTemplate><launchTemplateId>lt-0abc</launchTemplateId>"
    "<launchTemplateName>x</launchTemplateName></launchTemplate>"
    "</CreateLaunchTemplateResponse>";
/* c5.2xlarge had no spot capacity in us-east-1a; m5d.large launched in us-east-1b. */
static const char fleet_partial[] =
    "<CreateFleetResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>3</requestId><fleetId>fleet-1</fleetId><errorSet><item>"
    "<errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>no capacity"
    "</errorMessage><launchTemplateAndOverrides><overrides><instanceType>c5.2xlarge"
    "</instanceType><subnetId>subnet-0a1b2c3d4e5f60001</subnetId><availabilityZone>us-east-1a"
    "</availabilityZone></overrides></launchTemplateAndOverrides><lifecycle>spot</lifecycle>"
    "</item></errorSet><fleetInstanceSet><item><instanceIds><item>i-0123456789abcdef0</item>"
    "</instanceIds><instanceType>m5d.large</instanceType><launchTemplateAndOverrides>"
    "<overrides><instanceType>m5d.large</instanceType><subnetId>subnet-0a1b2c3d4e5f60002"
    "</subnetId><availabilityZone>us-east-1b</availabilityZone></overrides>"
    "</launchTemplateAndOverrides><lifecycle>spot</lifecycle></item></fleetInstanceSet>"
    "</CreateFleetResponse>";
static const char fleet_none[] =
    "<CreateFleetResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>4</requestId><fleetId>fleet-2</fleetId><errorSet><item>"
    "<errorCode>MaxSpotInstanceCountExceeded</errorCode><errorMessage>limit</errorMessage>"
    "<launchTemplateAndOverrides><overrides><instanceType>m5d.large</instanceType>"
    "<availabilityZone>us-east-1b</availabilityZone></overrides></launchTemplateAndOverrides>"
    "<lifecycle>spot</lifecycle></item></errorSet><fleetInstanceSet/></CreateFleetResponse>";
static const char terminated_now[] =
    "<TerminateInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>5</requestId><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>"
    "<currentState><code>32</code><name>shutting-down</name></currentState><previousState>"
    "<code>16</code><name>running</name></previousState></item></instancesSet>"
    "</TerminateInstancesResponse>";
static const char terminated_before[] =
    "<TerminateInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>6</requestId><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId>"
    "<currentState><code>48</code><name>terminated</name></currentState><previousState>"
    "<code>48</code><name>terminated</name></previousState></item></instancesSet>"
    "</TerminateInstancesResponse>";

static struct loader *ldr;
static const struct loader_plugin *plug;
static const struct kerf_provider_ops *ops;
static struct cfg_section *sec;
static struct host_clock *clk;
static struct http_client *http;
static struct kerf_host *host;
static void *inst;
static struct fake_http *fake;
static struct mf_set set;

static void setup(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err = KERF_ERROR_INIT;

	f_types1 = fixture("describe-instance-types-1.xml");
	f_types2 = fixture("describe-instance-types-2.xml");
	f_offerings = fixture("describe-instance-type-offerings.xml");
	f_products = fixture("get-products.json");
	f_spot = fixture("describe-spot-price-history.xml");
	f_subnets = fixture("describe-subnets.xml");
	f_groups = fixture("describe-security-groups.xml");
	f_instances = fixture("describe-instances.xml");
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(http_client_new(NULL, &http, &err), 0);
	clk = host_clock_new_virtual(1796683262000ll);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "ec2", KERF_KIND_PROVIDER, &plug, &err) == 0, "%s",
		      err.message);
	ops = &plug->provider;
	mf_set_init(&set);
}

static void teardown(void)
{
	if (inst)
		loader_destroy(plug, inst);
	inst = NULL;
	host_free(host);
	cfg_section_free(sec);
	mf_set_clear(&set);
	loader_free(ldr);
	http_client_free(http);
	http_global_cleanup();
	host_clock_free(clk);
	fake_http_stop(fake);
	fake = NULL;
	free(f_types1);
	free(f_types2);
	free(f_offerings);
	free(f_products);
	free(f_spot);
	free(f_subnets);
	free(f_groups);
	free(f_instances);
}

/* The plugin, configured for the fake, with the steps it will be asked. */
static void up(const struct fake_http_step *steps, size_t n)
{
	struct kerf_error err = KERF_ERROR_INIT;
	char yaml[2048];
	const char *u;

	fake = fake_http_start(steps, n);
	ck_assert_ptr_nonnull(fake);
	u = fake_http_url(fake);
	snprintf(yaml, sizeof(yaml),
		 "region: us-east-1\ncluster_name: demo\n"
		 "cluster_endpoint: https://ABCD.gr7.us-east-1.eks.amazonaws.com\n"
		 "cluster_ca_bundle: LS0tLS1CRUdJTg==\nkubernetes_version: \"1.31\"\n"
		 "max_attempts: 1\n"
		 "endpoint_ec2: %s\nendpoint_ssm: %s\nendpoint_pricing: %s\nendpoint_eks: %s\n"
		 "endpoint_sts: %s\n",
		 u, u, u, u, u);
	ck_assert_msg(tc_plugin_section(plug, yaml, &sec, &err) == 0, "%s", err.message);
	host = host_new("provider/ec2", sec, clk, http);
	ck_assert_msg(loader_create(plug, host, &inst, &err) == 0, "%s", err.message);
}

#define POST(b)                                                                                    \
	{                                                                                          \
		.method = "POST", .body = (b)                                                      \
	}

static const struct kerf_node_class *node_class_from(const char *file)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct mf_diags d;
	char path[512];

	memset(&d, 0, sizeof(d));
	snprintf(path, sizeof(path), DATA "%s", file);
	ck_assert_int_eq(mf_set_add_provider(&set, "ec2", ops, &err), 0);
	ck_assert_msg(mf_load_file(&set, path, &d, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(set.n_node_classes, 1);
	return set.node_classes[0];
}

static const struct kerf_node_class *node_class(void)
{
	return node_class_from("nodeclass-tuned.yaml");
}

static struct kerf_nodeclaim *claim(const char *name)
{
	static const char *const types[] = {"c5.2xlarge", "m5d.large"};
	struct kerf_nodeclaim *c = kerf_nodeclaim_new();
	struct kerf_requirement *r;

	c->meta->name = strdup(name);
	c->meta->uid = strdup(name);
	c->nodepool = strdup("general");
	r = kerf_requirements_append(&c->requirements);
	r->key = strdup("node.kubernetes.io/instance-type");
	for (size_t i = 0; i < 2; i++)
		kerf_requirement_add_value(r, types[i]);
	kerf_resources_set(&c->resource_requests, KERF_RESOURCE_CPU, 500, NULL);
	return c;
}

static const char *body(size_t i)
{
	const struct fake_http_record *r = fake_http_request(fake, i);
	ck_assert_ptr_nonnull(r);
	return r->body;
}

static bool has(size_t i, const char *needle)
{
	return strstr(body(i), needle) != NULL;
}

/* Whether CreateFleet request i has an override of type in zone. */
static bool has_override(size_t i, const char *type, const char *zone)
{
	char want[128];

	for (int k = 1; k <= 60; k++) {
		snprintf(want, sizeof(want), "Overrides.%d.InstanceType=%s&", k, type);
		if (!strstr(body(i), want))
			continue;
		snprintf(want, sizeof(want), "Overrides.%d.AvailabilityZone=%s", k, zone);
		if (strstr(body(i), want))
			return true;
	}
	return false;
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

START_TEST(types_prices_launch_ice)
{
	const struct fake_http_step steps[] = {
	    POST(f_types1), POST(f_types2), POST(f_offerings), POST(f_products), POST(no_products),
	    POST(f_spot),
	    /* create: nothing launched for it yet; resolution; one template; the fleet */
	    POST(no_instances), POST(f_subnets), POST(f_groups), POST(ssm_amd64), POST(ssm_arm64),
	    POST(lt_created), POST(fleet_partial),
	    /* a second claim: the template is reused; no capacity left */
	    POST(no_instances), POST(fleet_none),
	    /* three minutes on, the class is resolved again (its minute is over) */
	    POST(f_subnets), POST(f_groups), POST(ssm_amd64), POST(ssm_arm64)};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_type_list *l = NULL;
	struct kerf_instance *in = NULL;
	const struct kerf_node_class *nc;
	struct kerf_nodeclaim *a, *b;
	int rc;

	up(steps, FAKE_HTTP_N(steps));
	ck_assert_msg(ops->get_instance_types(inst, NULL, &l, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(l->n, 9);
	/* On demand from the Pricing API; m5d.large's zero price falls back on the catalogue. */
	ck_assert_int_eq(offering(l, "t3.micro", "us-east-1a", KERF_CAPACITY_ON_DEMAND)->price,
			 10400);
	ck_assert_int_eq(offering(l, "m5d.large", "us-east-1a", KERF_CAPACITY_ON_DEMAND)->price,
			 113000);
	/* Spot from the newest history entry; a zone without one, the catalogue's estimate. */
	ck_assert_int_eq(offering(l, "c5.2xlarge", "us-east-1a", KERF_CAPACITY_SPOT)->price,
			 131200);
	ck_assert_int_eq(offering(l, "c5.2xlarge", "us-east-1c", KERF_CAPACITY_SPOT)->price,
			 149600);
	ck_assert_ptr_null(offering(l, "p4d.24xlarge", "us-east-1a", KERF_CAPACITY_SPOT));
	kerf_instance_type_list_free(l);
	ck_assert(has(0, "Action=DescribeInstanceTypes"));
	ck_assert(has(1, "NextToken=AAEAAWzdl0Ekl7Yd0eOwXvB6fJR8CRs"));
	ck_assert(has(3, "\"regionCode\""));
	ck_assert(has(4, "eyJwYWdlIjoyfQ=="));
	/* The price in force now: StartTime is the host clock, as ISO 8601. */
	ck_assert(has(5, "Action=DescribeSpotPriceHistory"));
	ck_assert(has(5, "StartTime=2026-12-07T22%3A41%3A02Z"));

	nc = node_class();
	a = claim("general-abcde");
	rc = ops->create(inst, a, nc, &in, &err);
	ck_assert_msg(rc == 0, "create: %d %s", rc, err.message);
	ck_assert_str_eq(in->provider_id, "aws:///us-east-1b/i-0123456789abcdef0");
	ck_assert_str_eq(in->instance_type, "m5d.large");
	ck_assert_int_eq(in->capacity_type, KERF_CAPACITY_SPOT);
	ck_assert_str_eq(in->image_id, "ami-0aaaaaaaaaaaaaa02");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "kubernetes.io/cluster/demo"), "owned");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "eks:eks-cluster-name"), "demo");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodepool"), "general");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.k8s.aws/ec2nodeclass"), "tuned");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodeclaim"), "general-abcde");
	kerf_instance_free(in);
	in = NULL;
	ck_assert(has(6, "Action=DescribeInstances"));
	ck_assert(has(6, "general-abcde"));
	ck_assert(has(7, "Action=DescribeSubnets"));
	ck_assert(has(7, "Filter.1.Name=tag%3Akarpenter.sh%2Fdiscovery"));
	ck_assert(has(9, "amazon-linux-2023/x86_64/standard/recommended/image_id"));
	ck_assert(has(11, "Action=CreateLaunchTemplate"));
	ck_assert(has(11, "LaunchTemplateData.MetadataOptions.HttpTokens=required"));
	ck_assert(has(11, "LaunchTemplateData.ImageId=ami-0aaaaaaaaaaaaaa02"));
	/* The class's 100Gi root volume. */
	ck_assert(has(11, "LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize=100"));
	ck_assert(has(12, "Action=CreateFleet"));
	ck_assert(has(12, "Type=instant"));
	ck_assert(has(12, "SpotOptions.AllocationStrategy=price-capacity-optimized"));
	ck_assert(has(12, "ClientToken=kerf-"));
	/* Two types in the two zones the class has subnets in, cheapest first, spot only. */
	ck_assert(has(12, "LaunchTemplateConfigs.1.Overrides.1.InstanceType=m5d.large&"));
	ck_assert(has(12, "LaunchTemplateConfigs.1.Overrides.4.InstanceType="));
	ck_assert(!has(12, "LaunchTemplateConfigs.1.Overrides.5."));
	ck_assert(!has(12, "on-demand"));

	/* The next claim: no template call, and not the offering EC2 just refused. */
	b = claim("general-fghij");
	rc = ops->create(inst, b, nc, &in, &err);
	ck_assert_int_eq(rc, KERF_E_CAPACITY);
	ck_assert_str_eq(err.provider_code, "MaxSpotInstanceCountExceeded");
	ck_assert(has(14, "Action=CreateFleet"));
	ck_assert(has(14, "LaunchTemplateConfigs.1.Overrides.3.InstanceType="));
	ck_assert(!has(14, "LaunchTemplateConfigs.1.Overrides.4."));
	ck_assert(!has_override(14, "c5.2xlarge", "us-east-1a"));
	ck_assert(has_override(14, "c5.2xlarge", "us-east-1b"));
	ck_assert(has_override(12, "c5.2xlarge", "us-east-1a"));
	/* The refusals reach the core as unavailable offerings. */
	ck_assert_int_eq(ops->get_instance_types(inst, nc, &l, &err), 0);
	ck_assert(!offering(l, "c5.2xlarge", "us-east-1a", KERF_CAPACITY_SPOT)->available);
	ck_assert(!offering(l, "m5d.large", "us-east-1b", KERF_CAPACITY_SPOT)->available);
	ck_assert(offering(l, "c5.2xlarge", "us-east-1b", KERF_CAPACITY_SPOT)->available);
	ck_assert(offering(l, "c5.2xlarge", "us-east-1a", KERF_CAPACITY_ON_DEMAND)->available);
	/* No subnet of the class in us-east-1c: no offering there. */
	ck_assert_ptr_null(offering(l, "c5.2xlarge", "us-east-1c", KERF_CAPACITY_ON_DEMAND));
	kerf_instance_type_list_free(l);
	/* ... for three minutes of the host clock. */
	ck_assert_int_eq(host_clock_advance(clk, 3 * 60 * 1000), 0);
	ck_assert_msg(ops->get_instance_types(inst, nc, &l, &err) == 0, "%s", err.message);
	ck_assert(offering(l, "c5.2xlarge", "us-east-1a", KERF_CAPACITY_SPOT)->available);
	ck_assert(offering(l, "m5d.large", "us-east-1b", KERF_CAPACITY_SPOT)->available);
	kerf_instance_type_list_free(l);
	ck_assert_ptr_null(fake_http_failure(fake));
	ck_assert_uint_eq(fake_http_pending(fake), 0);
	kerf_nodeclaim_free(a);
	kerf_nodeclaim_free(b);
}
END_TEST

START_TEST(retried_launch_get_list_delete)
{
	const struct fake_http_step steps[] = {POST(f_instances), POST(f_instances),
					       POST(f_instances), POST(terminated_now),
					       POST(terminated_before)};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_list *l = NULL;
	struct kerf_instance *in = NULL;
	struct kerf_nodeclaim *a = claim("general-abcde");

	up(steps, FAKE_HTTP_N(steps));
	/* The instance launched for the claim before is the answer: no second launch. */
	ck_assert_int_eq(ops->create(inst, a, node_class(), &in, &err), 0);
	ck_assert_str_eq(in->provider_id, "aws:///us-east-1b/i-0123456789abcdef0");
	kerf_instance_free(in);
	ck_assert_int_eq(ops->get(inst, "aws:///us-east-1b/i-0123456789abcdef0", &in, &err), 0);
	ck_assert_str_eq(in->state, "running");
	kerf_instance_free(in);
	ck_assert(has(1, "Filter.1.Name=instance-id&Filter.1.Value.1=i-0123456789abcdef0"));
	ck_assert_int_eq(ops->list(inst, &l, &err), 0);
	ck_assert_uint_eq(l->n, 2);
	kerf_instance_list_free(l);
	ck_assert(has(2, "Filter.1.Name=tag%3Akubernetes.io%2Fcluster%2Fdemo"));
	ck_assert_int_eq(ops->delete_instance(inst, "aws:///us-east-1b/i-0123456789abcdef0", &err),
			 0);
	ck_assert(has(3, "Action=TerminateInstances"));
	ck_assert_int_eq(ops->delete_instance(inst, "aws:///us-east-1b/i-0123456789abcdef0", &err),
			 KERF_E_NOTFOUND);
	ck_assert_int_eq(ops->get(inst, "sim:///us-east-1a/x", &in, &err), KERF_E_NOTFOUND);
	ck_assert_ptr_null(fake_http_failure(fake));
	ck_assert_uint_eq(fake_http_pending(fake), 0);
	kerf_nodeclaim_free(a);
}
END_TEST

START_TEST(drift)
{
	static const char ssm_newer[] =
	    "{\"Parameter\":{\"Name\":\"x\",\"Type\":\"String\",\"Value\":"
	    "\"ami-0ccccccccccccccc1\",\"Version\":8}}";
	const struct fake_http_step steps[] = {
	    POST(f_subnets), POST(f_groups), POST(ssm_amd64), POST(ssm_arm64), POST(f_instances),
	    /* a minute on: the alias now names a newer AMI */
	    POST(f_subnets), POST(f_groups), POST(ssm_newer), POST(ssm_arm64), POST(f_instances)};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_nodeclaim *a = claim("general-abcde");
	const struct kerf_node_class *nc;
	bool drifted = false;
	char *reason = NULL;

	up(steps, FAKE_HTTP_N(steps));
	nc = node_class();
	a->provider_id = strdup("aws:///us-east-1b/i-0123456789abcdef0");
	/* The instance has a security group the class no longer selects. */
	ck_assert_int_eq(ops->is_drifted(inst, a, nc, &drifted, &reason, &err), 0);
	ck_assert(drifted);
	ck_assert_str_eq(reason, "SecurityGroupDrift");
	free(reason);
	reason = NULL;
	ck_assert_int_eq(host_clock_advance(clk, 61 * 1000), 0);
	ck_assert_int_eq(ops->is_drifted(inst, a, nc, &drifted, &reason, &err), 0);
	ck_assert(drifted);
	ck_assert_str_eq(reason, "AMIDrift");
	free(reason);
	ck_assert_ptr_null(fake_http_failure(fake));
	ck_assert_uint_eq(fake_http_pending(fake), 0);
	kerf_nodeclaim_free(a);
}
END_TEST

/* The virtual clock's start, 1796683262000 ms, as a condition's lastTransitionTime. */
#define NOW "2026-12-07T22:41:02Z"

START_TEST(status_of_a_resolved_class)
{
	static const char want[] =
	    "{\"subnets\":["
	    "{\"id\":\"subnet-0a1b2c3d4e5f60001\",\"zone\":\"us-east-1a\",\"zoneID\":\"use1-az1\"},"
	    "{\"id\":\"subnet-0a1b2c3d4e5f60002\",\"zone\":\"us-east-1b\",\"zoneID\":\"use1-az2\"},"
	    "{\"id\":\"subnet-0a1b2c3d4e5f60003\",\"zone\":\"us-east-1a\",\"zoneID\":\"use1-az1\"}]"
	    ","
	    "\"securityGroups\":[{\"id\":\"sg-0123456789abcdef0\",\"name\":\"eks-cluster-sg-demo\"}"
	    "],"
	    "\"amis\":["
	    "{\"id\":\"ami-0aaaaaaaaaaaaaa02\",\"requirements\":[{\"key\":\"kubernetes.io/arch\","
	    "\"operator\":\"In\",\"values\":[\"amd64\"]}]},"
	    "{\"id\":\"ami-0bbbbbbbbbbbbbb01\",\"requirements\":[{\"key\":\"kubernetes.io/arch\","
	    "\"operator\":\"In\",\"values\":[\"arm64\"]}]}],"
	    "\"instanceProfile\":\"KarpenterNodeRole-demo\",\"conditions\":["
	    "{\"type\":\"SubnetsReady\",\"status\":\"True\",\"reason\":\"SubnetsReady\","
	    "\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"},"
	    "{\"type\":\"SecurityGroupsReady\",\"status\":\"True\",\"reason\":"
	    "\"SecurityGroupsReady\",\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"},"
	    "{\"type\":\"AMIsReady\",\"status\":\"True\",\"reason\":\"AMIsReady\","
	    "\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"},"
	    "{\"type\":\"InstanceProfileReady\",\"status\":\"True\",\"reason\":"
	    "\"InstanceProfileReady\",\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"},"
	    "{\"type\":\"ValidationSucceeded\",\"status\":\"True\",\"reason\":"
	    "\"ValidationSucceeded\",\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"},"
	    "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\","
	    "\"message\":\"\",\"lastTransitionTime\":\"" NOW "\"}]}";
	/* One resolution: the status and the launches share it for its minute. */
	const struct fake_http_step steps[] = {POST(f_subnets), POST(f_groups), POST(ssm_amd64),
					       POST(ssm_arm64)};
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_node_class *nc;
	char *status = NULL, *again = NULL;

	up(steps, FAKE_HTTP_N(steps));
	nc = node_class();
	ck_assert_msg(ops->node_class_status(inst, nc, &status, &err) == 0, "%s", err.message);
	ck_assert_str_eq(status, want);
	ck_assert_int_eq(host_clock_advance(clk, 30 * 1000), 0);
	ck_assert_msg(ops->node_class_status(inst, nc, &again, &err) == 0, "%s", err.message);
	/* No AWS call, and the stored object has no conditions yet: they take the new now. */
	ck_assert_ptr_null(strstr(again, NOW));
	ck_assert_ptr_nonnull(strstr(again, "\"lastTransitionTime\":\"2026-12-07T22:41:32Z\""));
	ck_assert_ptr_null(fake_http_failure(fake));
	ck_assert_uint_eq(fake_http_pending(fake), 0);
	free(status);
	free(again);
}
END_TEST

START_TEST(status_of_a_class_whose_group_is_gone)
{
	static const char no_groups[] =
	    "<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	    "<requestId>7</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>";
	const struct fake_http_step steps[] = {POST(f_subnets), POST(no_groups), POST(ssm_amd64),
					       POST(ssm_arm64)};
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_type_list *l = NULL;
	const struct kerf_node_class *nc;
	char *status = NULL;

	up(steps, FAKE_HTTP_N(steps));
	nc = node_class_from("nodeclass-status.yaml");
	/* The launches refuse the class; its status, from the same calls, says why. */
	ck_assert_int_eq(ops->get_instance_types(inst, nc, &l, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, "0 security groups"));
	kerf_error_clear(&err);
	ck_assert_msg(ops->node_class_status(inst, nc, &status, &err) == 0, "%s", err.message);
	ck_assert_ptr_null(fake_http_failure(fake));
	ck_assert_uint_eq(fake_http_pending(fake), 0);
	/* Emptied, so a merge patch drops the group the stored status still lists. */
	ck_assert_ptr_nonnull(strstr(status, "\"securityGroups\":[]"));
	/* A condition that holds keeps its time; one that changed takes now. */
	ck_assert_ptr_nonnull(strstr(
	    status, "{\"type\":\"SubnetsReady\",\"status\":\"True\",\"reason\":\"SubnetsReady\","
		    "\"message\":\"\",\"lastTransitionTime\":\"2026-11-01T10:00:00Z\","
		    "\"observedGeneration\":3}"));
	ck_assert_ptr_nonnull(strstr(
	    status, "{\"type\":\"SecurityGroupsReady\",\"status\":\"False\",\"reason\":"
		    "\"SecurityGroupsNotFound\",\"message\":\"SecurityGroupSelector did not match "
		    "any SecurityGroups\",\"lastTransitionTime\":\"" NOW "\","
		    "\"observedGeneration\":3}"));
	ck_assert_ptr_nonnull(
	    strstr(status, "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":"
			   "\"UnhealthyDependents\",\"message\":\"SecurityGroupsReady=False\","
			   "\"lastTransitionTime\":\"" NOW "\",\"observedGeneration\":3}"));
	ck_assert_ptr_nonnull(strstr(status, "\"type\":\"AMIsReady\",\"status\":\"True\""));
	free(status);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_plugin");
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, types_prices_launch_ice);
	tcase_add_test(tc, retried_launch_get_list_delete);
	tcase_add_test(tc, drift);
	tcase_add_test(tc, status_of_a_resolved_class);
	tcase_add_test(tc, status_of_a_class_whose_group_is_gone);
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
