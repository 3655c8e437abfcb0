/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_parts.c - the ec2 provider's prices, insufficient-capacity
 * marks and user data, from fixtures shaped as AWS documents its answers
 * (tests/data/ec2) and from the formats the EKS AMIs read.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include <pthread.h>
#include <time.h>

#include "aws.h"
#include "ec2_batch.h"
#include "ec2_prices.h"
#include "ec2_userdata.h"
#include "ec2_xml.h"

#define DATA KERF_TEST_DATADIR "/ec2/"

static char *slurp_file(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

START_TEST(on_demand_prices)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_prices p = {0};
	size_t len;
	char *text = slurp_file("get-products.json", &len);
	json_t *page = NULL;

	ck_assert_int_eq(aws_json_parse(text, len, &page, &err), 0);
	ck_assert_int_eq(ec2_prices_add_products(&p, page, &err), 0);
	ec2_prices_sort(&p);
	ck_assert_int_eq(ec2_prices_get(&p, "c5.2xlarge", ""), 340000);
	ck_assert_int_eq(ec2_prices_get(&p, "t3.micro", ""), 10400);
	/* A zero price is not an offer: the catalogue's stands. */
	ck_assert_int_eq(ec2_prices_get(&p, "m5d.large", ""), -1);
	ck_assert_int_eq(ec2_prices_get(&p, "c5.2xlarge", "us-east-1a"), -1);
	ck_assert_str_eq(json_string_value(json_object_get(page, "NextToken")), "eyJwYWdlIjoyfQ==");
	json_decref(page);
	free(text);

	page = json_pack("{s:[s]}", "PriceList", "{not json");
	ck_assert_int_eq(ec2_prices_add_products(&p, page, &err), KERF_E_PARSE);
	json_decref(page);
	page = json_pack("{s:s}", "FormatVersion", "aws_v1");
	ck_assert_int_eq(ec2_prices_add_products(&p, page, &err), KERF_E_PARSE);
	ck_assert(strstr(err.message, "PriceList") != NULL);
	json_decref(page);
	ec2_prices_clear(&p);
}
END_TEST

START_TEST(products_request)
{
	json_t *r = ec2_products_request("eu-west-1", NULL), *f;
	size_t i;
	bool region = false;

	ck_assert_str_eq(json_string_value(json_object_get(r, "ServiceCode")), "AmazonEC2");
	ck_assert_ptr_null(json_object_get(r, "NextToken"));
	json_array_foreach(json_object_get(r, "Filters"), i, f)
	{
		ck_assert_str_eq(json_string_value(json_object_get(f, "Type")), "TERM_MATCH");
		if (strcmp(json_string_value(json_object_get(f, "Field")), "regionCode") == 0)
			region = strcmp(json_string_value(json_object_get(f, "Value")),
					"eu-west-1") == 0;
	}
	ck_assert(region);
	json_decref(r);
	r = ec2_products_request("eu-west-1", "tok");
	ck_assert_str_eq(json_string_value(json_object_get(r, "NextToken")), "tok");
	json_decref(r);
}
END_TEST

START_TEST(spot_prices_newest_per_zone)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_prices p = {0};
	size_t len;
	char *text = slurp_file("describe-spot-price-history.xml", &len);
	xmlDoc *doc = NULL;

	ck_assert_int_eq(aws_xml_parse(text, len, &doc, &err), 0);
	ck_assert_int_eq(ec2_prices_add_spot(&p, doc, &err), 0);
	ec2_prices_sort(&p);
	ck_assert_int_eq(ec2_prices_get(&p, "c5.2xlarge", "us-east-1a"), 131200);
	ck_assert_int_eq(ec2_prices_get(&p, "c5.2xlarge", "us-east-1b"), 155000);
	ck_assert_int_eq(ec2_prices_get(&p, "t3.micro", "us-east-1c"), 3100);
	ck_assert_int_eq(ec2_prices_get(&p, "t3.micro", "us-east-1a"), -1);
	/* An empty <nextToken/> ends the pages. */
	ck_assert_ptr_null(ec2_xml_next_token(doc));
	xmlFreeDoc(doc);
	free(text);
	ec2_prices_clear(&p);
}
END_TEST

START_TEST(ice_marks_expire_after_three_minutes)
{
	struct ec2_ice ice = {0};
	kerf_mono_ms_t t0 = 1000000;

	ck_assert(!ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT, t0));
	ec2_ice_mark(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT, t0);
	ck_assert(ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT, t0));
	/* Only that offering: another zone, capacity type or type is untouched. */
	ck_assert(!ec2_ice_blocked(&ice, "c5.large", "us-east-1b", KERF_CAPACITY_SPOT, t0));
	ck_assert(!ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_ON_DEMAND, t0));
	ck_assert(!ec2_ice_blocked(&ice, "c5.xlarge", "us-east-1a", KERF_CAPACITY_SPOT, t0));
	ck_assert(ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT,
				  t0 + EC2_ICE_TTL_MS - 1));
	ck_assert(!ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT,
				   t0 + EC2_ICE_TTL_MS));
	ck_assert_uint_eq(ice.n, 0);
	/* A new error renews the mark. */
	ec2_ice_mark(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT, t0);
	ec2_ice_mark(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT, t0 + 60000);
	ck_assert_uint_eq(ice.n, 1);
	ck_assert(ec2_ice_blocked(&ice, "c5.large", "us-east-1a", KERF_CAPACITY_SPOT,
				  t0 + EC2_ICE_TTL_MS + 1000));
	ec2_ice_clear(&ice);
	ck_assert(ec2_is_capacity_code("InsufficientInstanceCapacity"));
	ck_assert(ec2_is_capacity_code("MaxSpotInstanceCountExceeded"));
	ck_assert(ec2_is_capacity_code("UnfulfillableCapacity"));
	ck_assert(!ec2_is_capacity_code("InvalidParameterValue"));
	ck_assert(!ec2_is_capacity_code(NULL));
}
END_TEST

/* ------------------------------------------------------------ user data */

static const struct ec2_cluster_info cluster = {
    .name = "demo",
    .endpoint = "https://ABCD.gr7.us-east-1.eks.amazonaws.com",
    .ca_b64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
    .cidr = "10.100.0.0/16",
    .dns_ip = "10.100.0.10",
};

static struct kerf_labels labels;
static struct kerf_taints taints;

static void node_setup(void)
{
	struct kerf_taint *t;

	kerf_labels_set(&labels, "karpenter.sh/nodepool", "general");
	kerf_labels_set(&labels, "team", "web");
	t = kerf_taints_append(&taints);
	t->key = strdup("karpenter.sh/unregistered");
	t->effect = KERF_EFFECT_NO_EXECUTE;
	t = kerf_taints_append(&taints);
	t->key = strdup("dedicated");
	t->value = strdup("web");
	t->effect = KERF_EFFECT_NO_SCHEDULE;
}

static void node_teardown(void)
{
	kerf_labels_clear(&labels);
	kerf_taints_clear(&taints);
}

static char *ud(const char *family, const char *user, int64_t max_pods)
{
	struct ec2_bootstrap b = {.labels = &labels, .taints = &taints, .max_pods = max_pods};
	struct kerf_error err = KERF_ERROR_INIT;
	char *out = NULL;
	int rc = ec2_user_data(family, &cluster, &b, user, &out, &err);

	ck_assert_msg(rc == 0, "%s: %s", family, err.message);
	return out;
}

static bool before(const char *s, const char *a, const char *b)
{
	const char *pa = strstr(s, a), *pb = strstr(s, b);
	return pa && pb && pa < pb;
}

START_TEST(al2_bootstrap_in_mime)
{
	char *s = ud("AL2", "#!/bin/bash\necho hello\n", 20);

	ck_assert(strncmp(s, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"",
			  60) == 0);
	ck_assert(strstr(s, "/etc/eks/bootstrap.sh 'demo' --apiserver-endpoint "
			    "'https://ABCD.gr7.us-east-1.eks.amazonaws.com' --b64-cluster-ca "
			    "'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t'") != NULL);
	ck_assert(strstr(s, "--node-labels=\"karpenter.sh/nodepool=general,team=web\"") != NULL);
	ck_assert(strstr(s, "--register-with-taints=\"karpenter.sh/unregistered=:NoExecute,"
			    "dedicated=web:NoSchedule\"") != NULL);
	ck_assert(strstr(s, "--use-max-pods false") && strstr(s, "--max-pods=20"));
	/* The user's script runs first, as its own part. */
	ck_assert(before(s, "echo hello", "/etc/eks/bootstrap.sh"));
	ck_assert(strstr(s, "\n--//--\n") != NULL);
	free(s);
}
END_TEST

START_TEST(al2_merges_user_mime_parts)
{
	static const char *user =
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n"
	    "--BOUNDARY\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n"
	    "#!/bin/bash\necho one\n"
	    "--BOUNDARY\nContent-Type: text/cloud-config\n\nruncmd: [ls]\n"
	    "--BOUNDARY--\n";
	char *s = ud("AL2", user, 0);

	ck_assert(before(s, "echo one", "runcmd: [ls]"));
	ck_assert(before(s, "runcmd: [ls]", "/etc/eks/bootstrap.sh"));
	ck_assert_ptr_null(strstr(s, "BOUNDARY"));
	ck_assert_ptr_null(strstr(s, "--max-pods"));
	free(s);
}
END_TEST

START_TEST(al2023_nodeconfig)
{
	char *s = ud("AL2023",
		     "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  "
		     "kubelet:\n    config:\n      shutdownGracePeriod: 30s\n",
		     110);

	ck_assert(strstr(s, "Content-Type: application/node.eks.aws\n\napiVersion: "
			    "node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: "
			    "demo\n") != NULL);
	ck_assert(strstr(s, "    cidr: 10.100.0.0/16\n") != NULL);
	ck_assert(strstr(s, "      maxPods: 110\n") != NULL);
	ck_assert(strstr(s, "      - key: dedicated\n        value: web\n        effect: "
			    "NoSchedule\n") != NULL);
	ck_assert(strstr(s, "--node-labels=karpenter.sh/nodepool=general,team=web") != NULL);
	/* The user's NodeConfig comes after kerf's, so nodeadm lets it win. */
	ck_assert(before(s, "name: demo", "shutdownGracePeriod"));
	free(s);
}
END_TEST

START_TEST(bottlerocket_toml_merge)
{
	char *s = ud("Bottlerocket",
		     "[settings.kubernetes]\nmax-pods = 5\nimage-gc-high-threshold-percent = 85\n"
		     "[settings.host-containers.admin]\nenabled = true\n",
		     30);

	ck_assert(strstr(s, "[settings.kubernetes]\ncluster-name = \"demo\"\n") != NULL);
	ck_assert(strstr(s, "max-pods = 30\n") != NULL);
	ck_assert_ptr_null(strstr(s, "max-pods = 5"));
	ck_assert(strstr(s, "image-gc-high-threshold-percent = 85\n") != NULL);
	ck_assert(strstr(s, "[settings.host-containers.admin]\nenabled = true\n") != NULL);
	ck_assert(strstr(s, "\"team\" = \"web\"\n") != NULL);
	ck_assert(strstr(s, "\"dedicated\" = [\"web:NoSchedule\"]\n") != NULL);
	/* One [settings.kubernetes] table: TOML refuses a second. */
	ck_assert_ptr_null(
	    strstr(strstr(s, "[settings.kubernetes]\n") + 1, "[settings.kubernetes]\n"));
	free(s);
	s = ud("Bottlerocket", NULL, 0);
	ck_assert(strncmp(s, "[settings.kubernetes]\ncluster-name", 34) == 0);
	free(s);
}
END_TEST

START_TEST(windows_and_custom)
{
	struct ec2_bootstrap b = {.labels = &labels};
	struct kerf_error err = KERF_ERROR_INIT;
	char *s = ud("Windows2022", NULL, 0), *out = NULL;

	ck_assert(strncmp(s, "<powershell>\n", 13) == 0);
	ck_assert(strstr(s, "-EKSClusterName 'demo'") != NULL);
	free(s);
	s = ud("Custom", "#!/bin/sh\nmine\n", 0);
	ck_assert_str_eq(s, "#!/bin/sh\nmine\n");
	free(s);
	ck_assert_int_eq(ec2_user_data("Custom", &cluster, &b, NULL, &out, &err), KERF_E_INVALID);
	ck_assert(strstr(err.message, "userData") != NULL);
	ck_assert_int_eq(ec2_user_data("Plan9", &cluster, &b, NULL, &out, &err), KERF_E_INVALID);
	ck_assert_ptr_null(out);
}
END_TEST

/* ------------------------------------------------------------ batching */

#define N_THREADS 8

static struct ec2_batcher batcher;
static size_t batch_sizes[N_THREADS];

/*
 * The first call stays in flight until every other request has queued
 * behind it, as when one DescribeInstances is on the wire while the host's
 * workers ask for more.
 */
static void run_batch(void *ctx, size_t n, struct ec2_batch_req **reqs)
{
	size_t call = ec2_batcher_calls(&batcher) - 1;

	(void)ctx;
	batch_sizes[call] = n;
	if (call == 0)
		while (ec2_batcher_queued(&batcher) < N_THREADS - 1) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	for (size_t i = 0; i < n; i++) {
		reqs[i]->rc = strcmp(reqs[i]->id, "i-missing") == 0 ? KERF_E_NOTFOUND : 0;
		reqs[i]->out = (void *)reqs[i]->id;
	}
}

static void *submitter(void *arg)
{
	struct ec2_batch_req *r = arg;
	ec2_batch_submit(&batcher, r);
	return NULL;
}

START_TEST(concurrent_requests_share_a_call)
{
	static const char *const ids[N_THREADS] = {"i-1", "i-2", "i-3",	      "i-4",
						   "i-5", "i-6", "i-missing", "i-8"};
	struct ec2_batch_req reqs[N_THREADS];
	pthread_t th[N_THREADS];

	memset(reqs, 0, sizeof(reqs));
	ec2_batcher_init(&batcher, 100, run_batch, NULL);
	for (size_t i = 0; i < N_THREADS; i++) {
		reqs[i].id = ids[i];
		ck_assert_int_eq(pthread_create(&th[i], NULL, submitter, &reqs[i]), 0);
		/* The first request's call is under way before the others arrive. */
		while (i == 0 && ec2_batcher_calls(&batcher) == 0) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	/* A lone request went at once; the seven that queued behind it shared one call. */
	ck_assert_uint_eq(ec2_batcher_calls(&batcher), 2);
	ck_assert_uint_eq(batch_sizes[0], 1);
	ck_assert_uint_eq(batch_sizes[1], N_THREADS - 1);
	for (size_t i = 0; i < N_THREADS; i++) {
		ck_assert_ptr_eq(reqs[i].out, ids[i]);
		ck_assert_int_eq(reqs[i].rc, i == 6 ? KERF_E_NOTFOUND : 0);
	}
	ec2_batcher_destroy(&batcher);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_parts");
	TCase *p = tcase_create("prices"), *u = tcase_create("userdata");

	tcase_add_test(p, on_demand_prices);
	tcase_add_test(p, products_request);
	tcase_add_test(p, spot_prices_newest_per_zone);
	tcase_add_test(p, ice_marks_expire_after_three_minutes);
	tcase_add_test(p, concurrent_requests_share_a_call);
	tcase_add_checked_fixture(u, node_setup, node_teardown);
	tcase_add_test(u, al2_bootstrap_in_mime);
	tcase_add_test(u, al2_merges_user_mime_parts);
	tcase_add_test(u, al2023_nodeconfig);
	tcase_add_test(u, bottlerocket_toml_merge);
	tcase_add_test(u, windows_and_custom);
	suite_add_tcase(s, p);
	suite_add_tcase(s, u);
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
