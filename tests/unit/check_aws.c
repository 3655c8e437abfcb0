/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_aws.c - the ec2 plugin's AWS client (plugins/ec2/aws.h) against the
 * loopback fake AWS (tests/fakes/fake_aws.h), through the real host table
 * and its libcurl client: signing, every credential source, refresh before
 * expiry, retries and back-off (counted, never slept: the client's sleep
 * seam advances the virtual host clock instead), error mapping, limits,
 * pagination, and the fake's EC2 behaviour the provider relies on.
 *
 * Run as `check_aws --dump DIR` it writes the fake's answers instead, for
 * tests/fake-aws-shapes.sh.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kerf/error.h>
#include <kerf/host.h>

#include "../fakes/fake_aws.h"
#include "aws.h"
#include "host.h"
#include "http.h"

/* 2026-12-07T23:00:00Z */
#define T0 INT64_C(1796684400000)

/* ------------------------------------------------------------ fixture */

static struct fake_aws *fake;
static struct http_client *http;
static struct host_clock *clk;
static struct kerf_host *host;
static struct aws_client *client;
static char tmpdir[256];

static struct {
	char name[64];
	char value[1024];
} envs[32];
static size_t n_envs;

static void set_env(const char *name, const char *value)
{
	for (size_t i = 0; i < n_envs; i++)
		if (strcmp(envs[i].name, name) == 0) {
			snprintf(envs[i].value, sizeof(envs[i].value), "%s", value);
			return;
		}
	if (n_envs == 32)
		abort(); /* a test sets more variables than the table holds */
	snprintf(envs[n_envs].name, sizeof(envs[n_envs].name), "%s", name);
	snprintf(envs[n_envs].value, sizeof(envs[n_envs].value), "%s", value);
	n_envs++;
}

static const char *test_getenv(void *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = 0; i < n_envs; i++)
		if (strcmp(envs[i].name, name) == 0)
			return envs[i].value;
	return NULL;
}

/* Every log line, as the plugin wrote it (before any redaction). */
static char logbuf[1 << 16];
static size_t loglen;
static pthread_mutex_t loglock = PTHREAD_MUTEX_INITIALIZER;

static void test_log(void *ctx, kerf_log_level level, const char *fmt, ...)
{
	(void)ctx;
	(void)level;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&loglock);
	size_t l = strlen(line);
	if (loglen + l + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, l);
		loglen += l;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
	pthread_mutex_unlock(&loglock);
}

static int64_t sleeps[64];
static size_t n_sleeps;

/* The back-off waits in host time: counted, and the virtual clock moves. */
static void test_sleep(void *arg, int64_t ms)
{
	(void)arg;
	if (n_sleeps < 64)
		sleeps[n_sleeps] = ms;
	n_sleeps++;
	ck_assert_int_ge(ms, 0);
	host_clock_advance(clk, ms);
}

static void setup(void)
{
	fake = fake_aws_start();
	ck_assert_ptr_nonnull(fake);
	fake_aws_set_time(fake, T0);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(http_client_new(NULL, &http, &err), 0);
	clk = host_clock_new_virtual(T0);
	host = host_new("provider/ec2", NULL, clk, http);
	host->getenv = test_getenv;
	host->log = test_log;
	n_envs = 0;
	loglen = 0;
	logbuf[0] = '\0';
	n_sleeps = 0;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_aws.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	set_env("HOME", tmpdir);
	client = NULL;
}

static void teardown(void)
{
	aws_client_free(client);
	host_free(host);
	http_client_free(http);
	host_clock_free(clk);
	fake_aws_stop(fake);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void mkdir_aws(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/.aws", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
}

static char *write_file(const char *leaf, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, leaf);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* A client with every endpoint on the fake (IMDS only when imds). */
static void new_client(bool imds)
{
	struct aws_config cfg = {.region = FAKE_AWS_REGION, .max_attempts = 0};
	for (int s = 0; s < AWS_SERVICE_COUNT; s++)
		cfg.endpoint[s] = (s != AWS_IMDS || imds) ? fake_aws_url(fake) : NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	aws_client_set_sleep(client, test_sleep, NULL);
	aws_client_set_seed(client, 42);
}

static void env_keys(void)
{
	set_env("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY);
	set_env("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY);
}

static size_t count_items(xmlDoc *doc, const char *set)
{
	size_t n = 0;
	for (xmlNode *i = aws_xml_child(aws_xml_child(xmlDocGetRootElement(doc), set), "item"); i;
	     i = aws_xml_next(i))
		n++;
	return n;
}

/* DescribeSubnets by the discovery tag: 3 subnets; returns the call's rc. */
static int describe_subnets(struct kerf_error *err)
{
	struct aws_params p = {0};
	aws_params_add(&p, "Filter.1.Name", "tag:karpenter.sh/discovery");
	aws_params_add(&p, "Filter.1.Value.1", FAKE_AWS_CLUSTER);
	xmlDoc *doc = NULL;
	int rc = aws_query(client, AWS_EC2, "DescribeSubnets", &p, &doc, err);
	if (rc == 0) {
		ck_assert_uint_eq(count_items(doc, "subnetSet"), 3);
		xmlFreeDoc(doc);
	}
	aws_params_clear(&p);
	return rc;
}

/* ------------------------------------------------------------ signing and protocols */

START_TEST(query_signed_with_host_clock)
{
	env_keys();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	ck_assert_str_eq(fake_aws_param(fake, "DescribeSubnets", 0, "header:X-Amz-Date"),
			 "20261207T230000Z");
	ck_assert_str_eq(fake_aws_param(fake, "DescribeSubnets", 0, "Version"), "2016-11-15");
	const char *auth = fake_aws_param(fake, "DescribeSubnets", 0, "header:Authorization");
	ck_assert_ptr_nonnull(strstr(auth, "Credential=AKIDEXAMPLE/20261207/us-west-2/ec2/"));
	ck_assert_ptr_null(
	    fake_aws_param(fake, "DescribeSubnets", 0, "header:X-Amz-Security-Token"));
	ck_assert_str_eq(aws_client_credential_source(client), "env");
	/* An hour later the date signed moves with the host clock. */
	host_clock_advance(clk, 3600 * 1000);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(fake_aws_param(fake, "DescribeSubnets", 1, "header:X-Amz-Date"),
			 "20261208T000000Z");
}
END_TEST

START_TEST(wrong_secret_is_signature_mismatch)
{
	set_env("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY);
	set_env("AWS_SECRET_ACCESS_KEY", "not-the-secret");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_str_eq(err.provider_code, "SignatureDoesNotMatch");
	ck_assert_int_eq(err.http_status, 403);
	ck_assert_ptr_nonnull(strstr(err.message, "SignatureDoesNotMatch: The request signature"));
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 1); /* never retried */
	ck_assert_ptr_null(strstr(logbuf, "not-the-secret"));
}
END_TEST

START_TEST(unknown_key_is_auth_failure)
{
	set_env("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000");
	set_env("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY);
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_str_eq(err.provider_code, "AuthFailure");
	/* JSON services name it their own way. */
	json_t *body = json_pack("{s:s}", "Name", "/x");
	json_t *out = NULL;
	ck_assert_int_eq(aws_json(client, AWS_SSM, "AmazonSSM.GetParameter", body, &out, &err),
			 KERF_E_AUTH);
	ck_assert_str_eq(err.provider_code, "UnrecognizedClientException");
	json_decref(body);
}
END_TEST

START_TEST(json_protocol_ssm)
{
	env_keys();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	json_t *body = json_pack("{s:s}", "Name",
				 "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/"
				 "standard/recommended/image_id");
	json_t *out = NULL;
	ck_assert_int_eq(aws_json(client, AWS_SSM, "AmazonSSM.GetParameter", body, &out, &err), 0);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(out, "Parameter"), "Value")),
	    "ami-0a2023a0000000001");
	ck_assert_str_eq(fake_aws_param(fake, "GetParameter", 0, "header:Content-Type"),
			 "application/x-amz-json-1.1");
	json_decref(out);
	json_decref(body);
	body = json_pack("{s:s}", "Name", "/no/such/parameter");
	ck_assert_int_eq(aws_json(client, AWS_SSM, "AmazonSSM.GetParameter", body, &out, &err),
			 KERF_E_NOTFOUND);
	ck_assert_str_eq(err.provider_code, "ParameterNotFound");
	ck_assert_int_eq(err.http_status, 400);
	json_decref(body);
}
END_TEST

/* Pricing is signed for its own region, not the cluster's, and pages by NextToken. */
START_TEST(json_protocol_pricing_pages)
{
	env_keys();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	size_t products = 0, pages = 0;
	char *token = NULL;
	do {
		json_t *body =
		    json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "ServiceCode", "AmazonEC2",
			      "FormatVersion", "aws_v1", "Filters", "Type", "TERM_MATCH", "Field",
			      "operatingSystem", "Value", "Linux");
		if (token)
			json_object_set_new(body, "NextToken", json_string(token));
		free(token);
		token = NULL;
		json_t *out = NULL;
		ck_assert_int_eq(aws_json(client, AWS_PRICING, "AWSPriceListService.GetProducts",
					  body, &out, &err),
				 0);
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(out, "PriceList"), i, s)
		{
			json_t *doc = NULL;
			const char *text = json_string_value(s);
			ck_assert_int_eq(aws_json_parse(text, strlen(text), &doc, &err), 0);
			ck_assert_ptr_nonnull(
			    json_object_get(json_object_get(doc, "terms"), "OnDemand"));
			json_decref(doc);
			products++;
		}
		const char *next = json_string_value(json_object_get(out, "NextToken"));
		token = next ? strdup(next) : NULL;
		json_decref(out);
		json_decref(body);
		pages++;
	} while (token);
	ck_assert_uint_eq(products, 7);
	ck_assert_uint_eq(pages, 3);
	ck_assert_ptr_nonnull(strstr(fake_aws_param(fake, "GetProducts", 0, "header:Authorization"),
				     "/us-east-1/pricing/aws4_request"));
}
END_TEST

/* REST-JSON: EKS DescribeCluster, signed as eks, 404 mapped to not found. */
START_TEST(rest_json_eks)
{
	env_keys();
	new_client(false);
	fake_aws_set_cluster(fake, FAKE_AWS_CLUSTER, "https://ABCD.gr7.us-west-2.eks.amazonaws.com",
			     "LS0tLS1CRUdJTg==");
	struct kerf_error err = KERF_ERROR_INIT;
	json_t *out = NULL;
	ck_assert_int_eq(
	    aws_rest_json(client, AWS_EKS, "GET", "/clusters/" FAKE_AWS_CLUSTER, NULL, &out, &err),
	    0);
	json_t *cl = json_object_get(out, "cluster");
	ck_assert_str_eq(json_string_value(json_object_get(cl, "endpoint")),
			 "https://ABCD.gr7.us-west-2.eks.amazonaws.com");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(cl, "certificateAuthority"), "data")),
	    "LS0tLS1CRUdJTg==");
	json_decref(out);
	ck_assert_ptr_nonnull(
	    strstr(fake_aws_param(fake, "DescribeCluster", 0, "header:Authorization"),
		   "/us-west-2/eks/aws4_request"));
	ck_assert_int_eq(aws_rest_json(client, AWS_EKS, "GET", "/clusters/other", NULL, &out, &err),
			 KERF_E_NOTFOUND);
	ck_assert_str_eq(err.provider_code, "ResourceNotFoundException");
	ck_assert_int_eq(err.http_status, 404);
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	/* An endpoint with a path (a proxy's prefix) is signed as sent. */
	aws_client_free(client);
	struct aws_config cfg = {.region = FAKE_AWS_REGION};
	char prefixed[128];
	snprintf(prefixed, sizeof(prefixed), "%s/eks-proxy/", fake_aws_url(fake));
	cfg.endpoint[AWS_EKS] = prefixed;
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	ck_assert_int_eq(
	    aws_rest_json(client, AWS_EKS, "GET", "/clusters/" FAKE_AWS_CLUSTER, NULL, &out, &err),
	    0);
	json_decref(out);
	ck_assert_str_eq(fake_aws_param(fake, "DescribeCluster", 2, "header:Host"),
			 fake_aws_url(fake) + strlen("http://"));
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
}
END_TEST

static int count_types(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	(void)err;
	*(size_t *)arg += count_items(doc, "instanceTypeSet");
	return 0;
}

START_TEST(query_pages_follow_next_token)
{
	env_keys();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	size_t n = 0;
	ck_assert_int_eq(aws_query_pages(client, AWS_EC2, "DescribeInstanceTypes", NULL, 0,
					 count_types, &n, &err),
			 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeInstanceTypes"), 3);
	ck_assert_ptr_null(fake_aws_param(fake, "DescribeInstanceTypes", 0, "NextToken"));
	ck_assert_str_eq(fake_aws_param(fake, "DescribeInstanceTypes", 2, "NextToken"),
			 "fake-page-6");
	/* A bound on pages stops a server that never ends. */
	n = 0;
	ck_assert_int_eq(aws_query_pages(client, AWS_EC2, "DescribeInstanceTypes", NULL, 2,
					 count_types, &n, &err),
			 KERF_E_RANGE);
}
END_TEST

/* ------------------------------------------------------------ retries */

START_TEST(throttling_retried_with_backoff)
{
	env_keys();
	new_client(false);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_THROTTLE, 2);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 3);
	ck_assert_uint_eq(n_sleeps, 2);
	ck_assert_int_le(sleeps[0], 1000);
	ck_assert_int_le(sleeps[1], 2000);
}
END_TEST

START_TEST(throttling_bounded)
{
	env_keys();
	new_client(false);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_THROTTLE, 100);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_THROTTLED);
	ck_assert_str_eq(err.provider_code, "RequestLimitExceeded");
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 5);
	ck_assert_uint_eq(n_sleeps, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_le(sleeps[i], INT64_C(1000) << i);
}
END_TEST

START_TEST(retry_after_honoured)
{
	env_keys();
	new_client(false);
	fake_aws_set_retry_after(fake, 3);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_THROTTLE, 1);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(n_sleeps, 1);
	ck_assert_int_eq(sleeps[0], 3000);
}
END_TEST

START_TEST(server_errors_retried)
{
	env_keys();
	new_client(false);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_INTERNAL, 1);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_UNAVAILABLE, 1);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 3);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_INTERNAL, 5);
	ck_assert_int_eq(describe_subnets(&err), KERF_E_HTTP);
	ck_assert_str_eq(err.provider_code, "InternalError");
	ck_assert_int_eq(err.http_status, 500);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 8);
}
END_TEST

START_TEST(dropped_connections_retried)
{
	env_keys();
	new_client(false);
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_DROP, 2);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 3);
	ck_assert_uint_eq(n_sleeps, 2);
	/* Bounded: 5 attempts, 4 waits (libcurl may itself retry a kept-alive
	 * connection that died, so the fake may count more requests). */
	fake_aws_inject(fake, "DescribeSubnets", FAKE_AWS_DROP, 100);
	ck_assert_int_eq(describe_subnets(&err), KERF_E_IO);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_uint_eq(n_sleeps, 2 + 4);
	ck_assert_uint_ge(fake_aws_calls(fake, "DescribeSubnets"), 3 + 5);
}
END_TEST

START_TEST(validation_and_notfound_not_retried)
{
	env_keys();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	struct aws_params p = {0};
	aws_params_add(&p, "SubnetId.1", "subnet-0000000000000dead");
	xmlDoc *doc = NULL;
	ck_assert_int_eq(aws_query(client, AWS_EC2, "DescribeSubnets", &p, &doc, &err),
			 KERF_E_NOTFOUND);
	ck_assert_str_eq(err.provider_code, "InvalidSubnetID.NotFound");
	aws_params_clear(&p);
	aws_params_add(&p, "LaunchTemplateName", "kerf-abc");
	aws_params_add(&p, "LaunchTemplateData.ImageId", "ami-0a2023a0000000001");
	ck_assert_int_eq(aws_query(client, AWS_EC2, "CreateLaunchTemplate", &p, &doc, &err), 0);
	xmlFreeDoc(doc);
	ck_assert_int_eq(aws_query(client, AWS_EC2, "CreateLaunchTemplate", &p, &doc, &err),
			 KERF_E_INVALID);
	ck_assert_str_eq(err.provider_code, "InvalidLaunchTemplateName.AlreadyExistsException");
	ck_assert_str_eq(err.message, "InvalidLaunchTemplateName.AlreadyExistsException: Launch "
				      "template name already in use.");
	ck_assert_uint_eq(fake_aws_calls(fake, "CreateLaunchTemplate"), 2);
	ck_assert_uint_eq(n_sleeps, 0);
	aws_params_clear(&p);
}
END_TEST

/* ------------------------------------------------------------ credentials */

START_TEST(web_identity)
{
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE",
		write_file("token", FAKE_AWS_WEB_IDENTITY_TOKEN "\n"));
	set_env("AWS_ROLE_SESSION_NAME", "kerf-test");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "web-identity");
	ck_assert_uint_eq(fake_aws_calls(fake, "AssumeRoleWithWebIdentity"), 1);
	ck_assert_ptr_null(
	    fake_aws_param(fake, "AssumeRoleWithWebIdentity", 0, "header:Authorization"));
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRoleWithWebIdentity", 0, "RoleSessionName"),
			 "kerf-test");
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRoleWithWebIdentity", 0, "WebIdentityToken"),
			 FAKE_AWS_WEB_IDENTITY_TOKEN);
	ck_assert_ptr_nonnull(
	    strstr(fake_aws_param(fake, "DescribeSubnets", 0, "header:Authorization"),
		   "Credential=ASIAFAKE"));
	ck_assert_ptr_nonnull(
	    fake_aws_param(fake, "DescribeSubnets", 0, "header:X-Amz-Security-Token"));
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	/* No secret reached the log. */
	ck_assert_ptr_null(strstr(logbuf, FAKE_AWS_WEB_IDENTITY_TOKEN));
	ck_assert_ptr_null(strstr(logbuf, "fAkEsEcReT"));
	ck_assert_ptr_null(strstr(logbuf, "FwoGZXIvYXdzE"));
}
END_TEST

START_TEST(web_identity_rejected)
{
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", "stale-token"));
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_str_eq(err.provider_code, "InvalidIdentityToken");
	ck_assert_ptr_nonnull(strstr(err.message, "web identity"));
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 0);
	ck_assert_ptr_null(strstr(logbuf, "stale-token"));
	ck_assert_ptr_null(strstr(err.message, "stale-token"));
}
END_TEST

START_TEST(container_pod_identity)
{
	char uri[128];
	snprintf(uri, sizeof(uri), "%s/v1/credentials", fake_aws_url(fake));
	set_env("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri);
	set_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		write_file("eks-pod-identity-token", FAKE_AWS_CONTAINER_TOKEN));
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "container");
	ck_assert_uint_eq(fake_aws_calls(fake, "container"), 1);
	ck_assert_str_eq(fake_aws_param(fake, "container", 0, "header:Authorization"),
			 FAKE_AWS_CONTAINER_TOKEN);
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
	ck_assert_ptr_null(strstr(logbuf, FAKE_AWS_CONTAINER_TOKEN));
}
END_TEST

START_TEST(profile_static_keys)
{
	set_env("AWS_SHARED_CREDENTIALS_FILE",
		write_file("creds", "[default]\naws_access_key_id = AKIAWRONGWRONGWRONG0\n"
				    "aws_secret_access_key = nope\n\n[prod]\n"
				    "aws_access_key_id=" FAKE_AWS_ACCESS_KEY "\n"
				    "aws_secret_access_key = " FAKE_AWS_SECRET_KEY "\n"));
	set_env("AWS_PROFILE", "prod");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "profile:prod");
	ck_assert_ptr_null(strstr(logbuf, FAKE_AWS_SECRET_KEY));
}
END_TEST

/* The config file's [profile NAME] sections, named by aws_config.profile. */
START_TEST(profile_from_config_file)
{
	set_env("AWS_CONFIG_FILE",
		write_file("config", "# comment\n[profile ops]\nregion = us-west-2\n"
				     "aws_access_key_id = " FAKE_AWS_ACCESS_KEY "\n"
				     "aws_secret_access_key = " FAKE_AWS_SECRET_KEY
				     "\ns3 =\n  max_concurrent_requests = 2\n"));
	/* Named in kerf.yaml, the profile wins over keys in the environment. */
	set_env("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0");
	set_env("AWS_SECRET_ACCESS_KEY", "nope");
	struct aws_config cfg = {.region = FAKE_AWS_REGION, .profile = "ops"};
	for (int s = 0; s < AWS_SERVICE_COUNT; s++)
		cfg.endpoint[s] = fake_aws_url(fake);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "profile:ops");
}
END_TEST

START_TEST(profile_role_chain)
{
	set_env("AWS_CONFIG_FILE",
		write_file("config",
			   "[profile base]\naws_access_key_id = " FAKE_AWS_ACCESS_KEY "\n"
			   "aws_secret_access_key = " FAKE_AWS_SECRET_KEY "\n"
			   "[profile app]\nrole_arn = arn:aws:iam::111122223333:role/app\n"
			   "source_profile = base\nrole_session_name = app-session\n"
			   "[profile top]\nrole_arn = arn:aws:iam::111122223333:role/top\n"
			   "source_profile = app\nexternal_id = ext-42\n"));
	set_env("AWS_PROFILE", "top");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "assume-role:top");
	ck_assert_uint_eq(fake_aws_calls(fake, "AssumeRole"), 2);
	/* The base keys assume app; app's temporary keys assume top. */
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRole", 0, "RoleArn"),
			 "arn:aws:iam::111122223333:role/app");
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRole", 0, "RoleSessionName"), "app-session");
	ck_assert_ptr_nonnull(strstr(fake_aws_param(fake, "AssumeRole", 0, "header:Authorization"),
				     "Credential=AKIDEXAMPLE/"));
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRole", 1, "RoleArn"),
			 "arn:aws:iam::111122223333:role/top");
	ck_assert_str_eq(fake_aws_param(fake, "AssumeRole", 1, "ExternalId"), "ext-42");
	ck_assert_ptr_nonnull(strstr(fake_aws_param(fake, "AssumeRole", 1, "header:Authorization"),
				     "Credential=ASIAFAKE"));
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
}
END_TEST

START_TEST(profile_loop_and_missing)
{
	set_env("AWS_CONFIG_FILE",
		write_file("config",
			   "[profile a]\nrole_arn = arn:aws:iam::111122223333:role/a\n"
			   "source_profile = b\n[profile b]\n"
			   "role_arn = arn:aws:iam::111122223333:role/b\nsource_profile = a\n"));
	set_env("AWS_PROFILE", "a");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err.message, "loop"));
	ck_assert_uint_eq(fake_aws_calls(fake, "AssumeRole"), 0);
	set_env("AWS_PROFILE", "absent");
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err.message, "profile absent not found"));
}
END_TEST

static void imds_env(void)
{
	set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_aws_url(fake));
}

START_TEST(imds_v2_instance_role)
{
	imds_env();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "imds");
	ck_assert_uint_eq(fake_aws_calls(fake, "imds"), 3);
	ck_assert_str_eq(
	    fake_aws_param(fake, "imds", 0, "header:X-aws-ec2-metadata-token-ttl-seconds"),
	    "21600");
	const char *tok = fake_aws_param(fake, "imds", 1, "header:X-aws-ec2-metadata-token");
	ck_assert_ptr_nonnull(tok);
	ck_assert_str_eq(fake_aws_param(fake, "imds", 2, "header:X-aws-ec2-metadata-token"), tok);
	ck_assert_ptr_null(strstr(logbuf, tok));
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
}
END_TEST

/* Temporary credentials are fetched again 5 minutes before they expire, not before. */
START_TEST(refreshed_before_expiry)
{
	imds_env();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "imds"), 3);
	host_clock_advance(clk, 50 * 60 * 1000);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "imds"), 3);
	host_clock_advance(clk, 6 * 60 * 1000); /* 4 minutes left */
	fake_aws_set_time(fake, T0 + 56 * 60 * 1000);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "imds"), 6);
	ck_assert_uint_eq(fake_aws_auth_failures(fake), 0);
}
END_TEST

/* A refresh that fails keeps the credentials that have not expired yet. */
START_TEST(failed_refresh_keeps_valid_credentials)
{
	imds_env();
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	host_clock_advance(clk, 57 * 60 * 1000);
	fake_aws_inject(fake, "imds", FAKE_AWS_INTERNAL, 100);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_ptr_nonnull(strstr(logbuf, "using the current ones"));
	host_clock_advance(clk, 4 * 60 * 1000); /* now past expiry */
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
}
END_TEST

/* Credentials revoked early answer as expired: fetched again once, the call succeeds. */
START_TEST(expired_token_refreshes)
{
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", FAKE_AWS_WEB_IDENTITY_TOKEN));
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), 0);
	fake_aws_expire_credentials(fake);
	ck_assert_int_eq(describe_subnets(&err), 0);
	ck_assert_uint_eq(fake_aws_calls(fake, "AssumeRoleWithWebIdentity"), 2);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 3);
	ck_assert_uint_eq(n_sleeps, 0);
}
END_TEST

START_TEST(chain_order)
{
	/* Environment keys win over everything configured after them. */
	env_keys();
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", FAKE_AWS_WEB_IDENTITY_TOKEN));
	imds_env();
	new_client(false);
	ck_assert_int_eq(aws_client_resolve_credentials(client, NULL), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "env");
	aws_client_free(client);
	/* Then web identity, before profiles and IMDS. */
	n_envs = 0;
	set_env("HOME", tmpdir);
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", FAKE_AWS_WEB_IDENTITY_TOKEN));
	set_env("AWS_SHARED_CREDENTIALS_FILE",
		write_file("creds", "[default]\naws_access_key_id = " FAKE_AWS_ACCESS_KEY
				    "\naws_secret_access_key = " FAKE_AWS_SECRET_KEY "\n"));
	imds_env();
	new_client(false);
	ck_assert_int_eq(aws_client_resolve_credentials(client, NULL), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "web-identity");
	aws_client_free(client);
	/* Then the default profile, before IMDS. */
	n_envs = 0;
	set_env("HOME", tmpdir);
	set_env("AWS_SHARED_CREDENTIALS_FILE",
		write_file("creds2", "[default]\n"
				     "aws_access_key_id = " FAKE_AWS_ACCESS_KEY
				     "\naws_secret_access_key = " FAKE_AWS_SECRET_KEY "\n"));
	imds_env();
	new_client(false);
	ck_assert_int_eq(aws_client_resolve_credentials(client, NULL), 0);
	ck_assert_str_eq(aws_client_credential_source(client), "profile:default");
	ck_assert_uint_eq(fake_aws_calls(fake, "imds"), 0);
}
END_TEST

START_TEST(no_credentials)
{
	set_env("AWS_EC2_METADATA_DISABLED", "true");
	new_client(false);
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(describe_subnets(&err), KERF_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err.message, "no credentials"));
	ck_assert_uint_eq(fake_aws_calls(fake, NULL), 0);
}
END_TEST

struct racer {
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct kerf_error err = KERF_ERROR_INIT;
	r->rc = describe_subnets(&err);
	return NULL;
}

/* Threads that need credentials at once share one resolution. */
START_TEST(concurrent_callers_share_one_resolution)
{
	set_env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/kerf-controller");
	set_env("AWS_WEB_IDENTITY_TOKEN_FILE", write_file("token", FAKE_AWS_WEB_IDENTITY_TOKEN));
	new_client(false);
	pthread_t t[6];
	struct racer r[6];
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].rc, 0);
	}
	ck_assert_uint_eq(fake_aws_calls(fake, "AssumeRoleWithWebIdentity"), 1);
	ck_assert_uint_eq(fake_aws_calls(fake, "DescribeSubnets"), 6);
}
END_TEST

START_TEST(client_config)
{
	struct aws_config cfg = {0};
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, "region"));
	set_env("AWS_REGION", "eu-central-1");
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	aws_client_free(client);
	client = NULL;
	/* The profile's region in the config file, when the environment has none. */
	n_envs = 0;
	set_env("HOME", tmpdir);
	mkdir_aws();
	write_file(".aws/config",
		   "[default]\nregion = ap-south-1\n[profile eu]\nregion = eu-west-3\n");
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	aws_client_free(client);
	client = NULL;
	set_env("AWS_CONFIG_FILE", write_file("config2", "[profile eu]\nregion = eu-west-3\n"));
	set_env("AWS_PROFILE", "eu");
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), 0);
	aws_client_free(client);
	client = NULL;
	set_env("AWS_PROFILE", "none");
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), KERF_E_CONFIG);
	set_env("AWS_REGION", "eu-central-1");
	cfg.endpoint[AWS_EC2] = "ftp://example";
	ck_assert_int_eq(aws_client_new(host, &cfg, &client, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, "ec2"));
}
END_TEST

/* ------------------------------------------------------------ decoding and mapping */

START_TEST(error_mapping)
{
	static const struct {
		const char *code;
		int status, rc;
	} cases[] = {
	    {"RequestLimitExceeded", 503, KERF_E_THROTTLED},
	    {"Throttling", 400, KERF_E_THROTTLED},
	    {"ThrottlingException", 400, KERF_E_THROTTLED},
	    {"", 429, KERF_E_THROTTLED},
	    {"", 503, KERF_E_THROTTLED},
	    {"AuthFailure", 401, KERF_E_AUTH},
	    {"SignatureDoesNotMatch", 403, KERF_E_AUTH},
	    {"ExpiredToken", 403, KERF_E_AUTH},
	    {"UnauthorizedOperation", 403, KERF_E_AUTH},
	    {"InsufficientInstanceCapacity", 500, KERF_E_CAPACITY},
	    {"InsufficientHostCapacity", 400, KERF_E_CAPACITY},
	    {"MaxSpotInstanceCountExceeded", 400, KERF_E_CAPACITY},
	    {"UnfulfillableCapacity", 400, KERF_E_CAPACITY},
	    {"InsufficientFreeAddressesInSubnet", 400, KERF_E_CAPACITY},
	    {"InvalidInstanceID.NotFound", 400, KERF_E_NOTFOUND},
	    {"InvalidLaunchTemplateName.NotFoundException", 400, KERF_E_INVALID},
	    {"ParameterNotFound", 400, KERF_E_NOTFOUND},
	    {"InvalidParameterValue", 400, KERF_E_INVALID},
	    {"InternalError", 500, KERF_E_HTTP},
	    {"", 502, KERF_E_HTTP},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(aws_error_map(cases[i].code, cases[i].status) == cases[i].rc, "%s/%d",
			      cases[i].code, cases[i].status);
}
END_TEST

START_TEST(error_decoding)
{
	char code[64], msg[256];
	static const char ec2[] = "<?xml version=\"1.0\"?><Response><Errors><Error><Code>"
				  "InvalidAMIID.Malformed</Code><Message>Invalid id: \"ami-x\""
				  "</Message></Error></Errors><RequestID>r</RequestID></Response>";
	ck_assert(aws_error_decode(ec2, strlen(ec2), NULL, code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "InvalidAMIID.Malformed");
	ck_assert_str_eq(msg, "Invalid id: \"ami-x\"");
	static const char sts[] =
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	    "<Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>gone"
	    "</Message></Error></ErrorResponse>";
	ck_assert(aws_error_decode(sts, strlen(sts), NULL, code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "ExpiredToken");
	static const char json[] = "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
				   "\"Message\":\"bad\"}";
	ck_assert(aws_error_decode(json, strlen(json), NULL, code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "ValidationException");
	ck_assert_str_eq(msg, "bad");
	ck_assert(aws_error_decode("", 0, "ThrottlingException:http://internal.amazon.com/", code,
				   sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "ThrottlingException");
	ck_assert(!aws_error_decode("<html>", 6, NULL, code, sizeof(code), msg, sizeof(msg)));
}
END_TEST

START_TEST(decode_limits)
{
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *doc = NULL;
	char deep[4096] = "";
	for (int i = 0; i < AWS_MAX_XML_DEPTH + 1; i++)
		strcat(deep, "<a>");
	for (int i = 0; i < AWS_MAX_XML_DEPTH + 1; i++)
		strcat(deep, "</a>");
	ck_assert_int_eq(aws_xml_parse(deep, strlen(deep), &doc, &err), KERF_E_RANGE);
	ck_assert_ptr_null(doc);
	static const char dtd[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>";
	ck_assert_int_eq(aws_xml_parse(dtd, strlen(dtd), &doc, &err), KERF_E_PARSE);
	ck_assert_int_eq(aws_xml_parse("<a>", 3, &doc, &err), KERF_E_PARSE);
	ck_assert_int_eq(aws_xml_parse("<a/>", AWS_MAX_RESPONSE_BYTES + 1, &doc, &err),
			 KERF_E_RANGE);
	json_t *j = NULL;
	char jdeep[512] = "";
	for (int i = 0; i < AWS_MAX_JSON_DEPTH + 1; i++)
		strcat(jdeep, "[");
	for (int i = 0; i < AWS_MAX_JSON_DEPTH + 1; i++)
		strcat(jdeep, "]");
	ck_assert_int_eq(aws_json_parse(jdeep, strlen(jdeep), &j, &err), KERF_E_RANGE);
	ck_assert_int_eq(aws_json_parse("{\"a\":1,\"a\":2}", 13, &j, &err), KERF_E_PARSE);
	/* At the limit is fine. */
	jdeep[AWS_MAX_JSON_DEPTH] = '\0';
	memset(jdeep + AWS_MAX_JSON_DEPTH, ']', AWS_MAX_JSON_DEPTH);
	jdeep[2 * AWS_MAX_JSON_DEPTH] = '\0';
	ck_assert_int_eq(aws_json_parse(jdeep, strlen(jdeep), &j, &err), 0);
	json_decref(j);
}
END_TEST

START_TEST(backoff_bounds)
{
	uint64_t state = 7;
	for (int retry = 1; retry <= 12; retry++) {
		int64_t cap_e = 200, cap_t = 1000;
		for (int i = 1; i < retry; i++) {
			cap_e = cap_e * 2 > 20000 ? 20000 : cap_e * 2;
			cap_t = cap_t * 2 > 20000 ? 20000 : cap_t * 2;
		}
		for (int k = 0; k < 50; k++) {
			int64_t e = aws_backoff_ms(retry, false, 0, &state);
			int64_t t = aws_backoff_ms(retry, true, 0, &state);
			ck_assert(e >= 0 && e <= cap_e);
			ck_assert(t >= 0 && t <= cap_t);
		}
	}
	ck_assert_int_eq(aws_backoff_ms(1, true, 5000, &state), 5000);
	ck_assert_int_eq(aws_backoff_ms(1, true, 90000, &state), 20000);
}
END_TEST

/* ------------------------------------------------------------ the fake's EC2 state */

static xmlDoc *query_ok(const char *action, struct aws_params *p)
{
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *doc = NULL;
	int rc = aws_query(client, AWS_EC2, action, p, &doc, &err);
	ck_assert_msg(rc == 0, "%s: %s", action, err.message);
	return doc;
}

static void fleet_params(struct aws_params *p, const char *token)
{
	aws_params_clear(p);
	aws_params_add(p, "Type", "instant");
	aws_params_add(p, "ClientToken", token);
	aws_params_add(p, "TargetCapacitySpecification.TotalTargetCapacity", "1");
	aws_params_add(p, "TargetCapacitySpecification.DefaultTargetCapacityType", "on-demand");
	aws_params_add(p, "OnDemandOptions.AllocationStrategy", "lowest-price");
	aws_params_add(p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName",
		       "kerf-lt");
	aws_params_add(p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version", "$Latest");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.1.InstanceType", "m5.large");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.1.SubnetId",
		       "subnet-0a00000000000000a");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.2.InstanceType", "m5.large");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.2.SubnetId",
		       "subnet-0a00000000000000b");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.3.InstanceType", "m5.xlarge");
	aws_params_add(p, "LaunchTemplateConfigs.1.Overrides.3.SubnetId",
		       "subnet-0a00000000000000a");
	aws_params_add(p, "TagSpecification.1.ResourceType", "instance");
	aws_params_add(p, "TagSpecification.1.Tag.1.Key", "karpenter.sh/nodeclaim");
	aws_params_add(p, "TagSpecification.1.Tag.1.Value", token);
}

START_TEST(fake_fleet_idempotent_and_ice)
{
	env_keys();
	new_client(false);
	struct aws_params p = {0};
	aws_params_add(&p, "LaunchTemplateName", "kerf-lt");
	aws_params_add(&p, "LaunchTemplateData.ImageId", "ami-0a2023a0000000001");
	aws_params_add(&p, "LaunchTemplateData.MetadataOptions.HttpTokens", "required");
	xmlFreeDoc(query_ok("CreateLaunchTemplate", &p));
	ck_assert_str_eq(
	    fake_aws_launch_template_data(fake, "kerf-lt", "MetadataOptions.HttpTokens"),
	    "required");

	fleet_params(&p, "claim-a");
	xmlDoc *a = query_ok("CreateFleet", &p);
	xmlDoc *b = query_ok("CreateFleet", &p); /* a retried launch */
	char *ida = aws_xml_text(
	    aws_xml_path(xmlDocGetRootElement(a), "fleetInstanceSet/item/instanceIds"), "item");
	char *idb = aws_xml_text(
	    aws_xml_path(xmlDocGetRootElement(b), "fleetInstanceSet/item/instanceIds"), "item");
	ck_assert_str_eq(ida, idb);
	ck_assert_uint_eq(fake_aws_n_instances(fake, "running"), 1);
	struct fake_aws_instance in;
	ck_assert(fake_aws_instance(fake, 0, &in));
	ck_assert_str_eq(in.type, "m5.large");
	ck_assert_str_eq(in.zone, "us-west-2a");
	ck_assert_str_eq(in.image, "ami-0a2023a0000000001");
	ck_assert_str_eq(fake_aws_instance_tag(fake, in.id, "karpenter.sh/nodeclaim"), "claim-a");
	xmlFreeDoc(a);
	xmlFreeDoc(b);
	free(ida);
	free(idb);

	/* No m5.large on demand in us-west-2a: the next cheapest pool, and the error said. */
	fake_aws_set_capacity(fake, "m5.large", "us-west-2a", "on-demand", false);
	fleet_params(&p, "claim-b");
	xmlDoc *c = query_ok("CreateFleet", &p);
	xmlNode *root = xmlDocGetRootElement(c);
	char *code = aws_xml_text(aws_xml_path(root, "errorSet/item"), "errorCode");
	ck_assert_str_eq(code, "InsufficientInstanceCapacity");
	free(code);
	ck_assert(fake_aws_instance(fake, 1, &in));
	ck_assert_str_eq(in.zone, "us-west-2b");
	xmlFreeDoc(c);

	/* Nothing left: no instance, only errors. */
	fake_aws_set_capacity(fake, "m5.large", "us-west-2b", NULL, false);
	fake_aws_set_capacity(fake, "m5.xlarge", "us-west-2a", NULL, false);
	fleet_params(&p, "claim-c");
	c = query_ok("CreateFleet", &p);
	ck_assert_ptr_null(aws_xml_path(xmlDocGetRootElement(c), "fleetInstanceSet/item"));
	ck_assert_uint_eq(fake_aws_n_instances(fake, NULL), 2);
	xmlFreeDoc(c);

	/* DescribeInstances by tag, then terminate. */
	aws_params_clear(&p);
	aws_params_add(&p, "Filter.1.Name", "tag:karpenter.sh/nodeclaim");
	aws_params_add(&p, "Filter.1.Value.1", "claim-*");
	aws_params_add(&p, "Filter.2.Name", "instance-state-name");
	aws_params_add(&p, "Filter.2.Value.1", "running");
	xmlDoc *d = query_ok("DescribeInstances", &p);
	ck_assert_uint_eq(count_items(d, "reservationSet"), 2);
	xmlFreeDoc(d);
	aws_params_clear(&p);
	aws_params_add(&p, "InstanceId.1", in.id);
	xmlFreeDoc(query_ok("TerminateInstances", &p));
	ck_assert_uint_eq(fake_aws_n_instances(fake, "running"), 1);
	ck_assert_uint_eq(fake_aws_n_instances(fake, "terminated"), 1);
	aws_params_clear(&p);
}
END_TEST

/* A launch whose answer was lost is retried with its ClientToken: one instance, not two. */
START_TEST(lost_fleet_answer_launches_once)
{
	env_keys();
	new_client(false);
	struct aws_params p = {0};
	aws_params_add(&p, "LaunchTemplateName", "kerf-lt");
	aws_params_add(&p, "LaunchTemplateData.ImageId", "ami-0a2023a0000000001");
	xmlFreeDoc(query_ok("CreateLaunchTemplate", &p));
	fake_aws_inject(fake, "CreateFleet", FAKE_AWS_DROP_ANSWER, 2);
	fleet_params(&p, "claim-lost");
	xmlDoc *d = query_ok("CreateFleet", &p);
	/* libcurl itself resends once on a kept-alive connection that died, so
	 * the client waited once or twice; either way the fake saw three. */
	ck_assert_uint_eq(fake_aws_calls(fake, "CreateFleet"), 3);
	ck_assert(n_sleeps >= 1 && n_sleeps <= 2);
	ck_assert_uint_eq(fake_aws_n_instances(fake, NULL), 1);
	struct fake_aws_instance in;
	ck_assert(fake_aws_instance(fake, 0, &in));
	char *id = aws_xml_text(
	    aws_xml_path(xmlDocGetRootElement(d), "fleetInstanceSet/item/instanceIds"), "item");
	ck_assert_str_eq(id, in.id);
	free(id);
	xmlFreeDoc(d);
	aws_params_clear(&p);
}
END_TEST

START_TEST(fake_describe_filters)
{
	env_keys();
	new_client(false);
	struct aws_params p = {0};
	aws_params_add(&p, "Owner.1", "amazon");
	aws_params_add(&p, "Filter.1.Name", "name");
	aws_params_add(&p, "Filter.1.Value.1", "amazon-eks-node-al2023-*");
	xmlDoc *d = query_ok("DescribeImages", &p);
	ck_assert_uint_eq(count_items(d, "imagesSet"), 2);
	xmlFreeDoc(d);
	aws_params_clear(&p);
	aws_params_add(&p, "Filter.1.Name", "tag-key");
	aws_params_add(&p, "Filter.1.Value.1", "kubernetes.io/cluster/" FAKE_AWS_CLUSTER);
	d = query_ok("DescribeSecurityGroups", &p);
	ck_assert_uint_eq(count_items(d, "securityGroupInfo"), 1);
	xmlFreeDoc(d);
	aws_params_clear(&p);
	aws_params_add(&p, "LocationType", "availability-zone");
	aws_params_add(&p, "Filter.1.Name", "location");
	aws_params_add(&p, "Filter.1.Value.1", "us-west-2b");
	aws_params_add(&p, "MaxResults", "100");
	d = query_ok("DescribeInstanceTypeOfferings", &p);
	ck_assert_uint_eq(count_items(d, "instanceTypeOfferingSet"), 3); /* page of 3 */
	ck_assert_ptr_nonnull(aws_xml_child(xmlDocGetRootElement(d), "nextToken"));
	xmlFreeDoc(d);
	aws_params_clear(&p);
	aws_params_add(&p, "InstanceType.1", "m5.large");
	d = query_ok("DescribeSpotPriceHistory", &p);
	ck_assert_uint_eq(count_items(d, "spotPriceHistorySet"), 3);
	xmlFreeDoc(d);
	aws_params_clear(&p);
}
END_TEST

/* ------------------------------------------------------------ --dump */

/*
 * `check_aws --dump DIR`: one answer of the fake per API the provider
 * calls, written to DIR/OPERATION.xml or .json for tests/fake-aws-shapes.py,
 * which checks each against botocore's model of the service and AWS's
 * documented examples.  Runs without Check, so it reports on stderr.
 */
static int dump_failed;

static void dump_write(const char *dir, const char *op, const char *ext, const char *text,
		       size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, op, ext);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len) {
		fprintf(stderr, "check_aws --dump: cannot write %s\n", path);
		dump_failed = 1;
	}
	if (f)
		fclose(f);
}

static void dump_query(const char *dir, enum aws_service svc, const char *op, struct aws_params *p)
{
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *doc = NULL;
	if (aws_query(client, svc, op, p, &doc, &err) != 0) {
		fprintf(stderr, "check_aws --dump: %s: %s\n", op, err.message);
		dump_failed = 1;
	} else {
		xmlChar *text = NULL;
		int len = 0;
		xmlDocDumpMemory(doc, &text, &len);
		dump_write(dir, op, "xml", (const char *)text, (size_t)len);
		xmlFree(text);
		xmlFreeDoc(doc);
	}
	aws_params_clear(p);
}

static void dump_json(const char *dir, const char *op, int rc, json_t *out,
		      const struct kerf_error *err)
{
	if (rc != 0) {
		fprintf(stderr, "check_aws --dump: %s: %s\n", op, err->message);
		dump_failed = 1;
		return;
	}
	char *text = json_dumps(out, JSON_COMPACT);
	dump_write(dir, op, "json", text, strlen(text));
	free(text);
	json_decref(out);
}

static int dump_responses(const char *dir)
{
	struct kerf_error err = KERF_ERROR_INIT;
	if (http_global_init(&err) != 0)
		return 1;
	fake = fake_aws_start();
	if (!fake || http_client_new(NULL, &http, &err) != 0)
		return 1;
	fake_aws_set_time(fake, T0);
	fake_aws_set_cluster(fake, FAKE_AWS_CLUSTER, "https://ABCD.gr7.us-west-2.eks.amazonaws.com",
			     "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t");
	clk = host_clock_new_virtual(T0);
	host = host_new("provider/ec2", NULL, clk, http);
	host->getenv = test_getenv;
	host->log = test_log;
	set_env("AWS_ACCESS_KEY_ID", FAKE_AWS_ACCESS_KEY);
	set_env("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET_KEY);
	struct aws_config cfg = {.region = FAKE_AWS_REGION};
	for (int s = 0; s < AWS_SERVICE_COUNT; s++)
		cfg.endpoint[s] = fake_aws_url(fake);
	if (aws_client_new(host, &cfg, &client, &err) != 0)
		return 1;

	struct aws_params p = {0};
	aws_params_add(&p, "InstanceType.1", "g4dn.xlarge");
	aws_params_add(&p, "InstanceType.2", "c6gd.large");
	aws_params_add(&p, "InstanceType.3", "t3.micro");
	dump_query(dir, AWS_EC2, "DescribeInstanceTypes", &p);
	aws_params_add(&p, "LocationType", "availability-zone");
	dump_query(dir, AWS_EC2, "DescribeInstanceTypeOfferings", &p);
	dump_query(dir, AWS_EC2, "DescribeAvailabilityZones", &p);
	dump_query(dir, AWS_EC2, "DescribeSubnets", &p);
	dump_query(dir, AWS_EC2, "DescribeSecurityGroups", &p);
	dump_query(dir, AWS_EC2, "DescribeImages", &p);
	aws_params_add(&p, "ProductDescription.1", "Linux/UNIX");
	dump_query(dir, AWS_EC2, "DescribeSpotPriceHistory", &p);
	aws_params_add(&p, "LaunchTemplateName", "kerf-shapes");
	aws_params_add(&p, "LaunchTemplateData.ImageId", "ami-0a2023a0000000001");
	aws_params_add(&p, "TagSpecification.1.ResourceType", "launch-template");
	aws_params_add(&p, "TagSpecification.1.Tag.1.Key",
		       "kubernetes.io/cluster/" FAKE_AWS_CLUSTER);
	aws_params_add(&p, "TagSpecification.1.Tag.1.Value", "owned");
	dump_query(dir, AWS_EC2, "CreateLaunchTemplate", &p);
	dump_query(dir, AWS_EC2, "DescribeLaunchTemplates", &p);
	fake_aws_set_capacity(fake, "m5.large", "us-west-2a", NULL, false);
	aws_params_clear(&p);
	aws_params_add(&p, "Type", "instant");
	aws_params_add(&p, "ClientToken", "shape-claim");
	aws_params_add(&p, "TargetCapacitySpecification.TotalTargetCapacity", "1");
	aws_params_add(&p, "TargetCapacitySpecification.DefaultTargetCapacityType", "spot");
	aws_params_add(&p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName",
		       "kerf-shapes");
	aws_params_add(&p, "LaunchTemplateConfigs.1.Overrides.1.InstanceType", "m5.large");
	aws_params_add(&p, "LaunchTemplateConfigs.1.Overrides.1.SubnetId",
		       "subnet-0a00000000000000a");
	aws_params_add(&p, "LaunchTemplateConfigs.1.Overrides.2.InstanceType", "m5.large");
	aws_params_add(&p, "LaunchTemplateConfigs.1.Overrides.2.SubnetId",
		       "subnet-0a00000000000000b");
	aws_params_add(&p, "TagSpecification.1.ResourceType", "instance");
	aws_params_add(&p, "TagSpecification.1.Tag.1.Key", "karpenter.sh/nodeclaim");
	aws_params_add(&p, "TagSpecification.1.Tag.1.Value", "shape-claim");
	dump_query(dir, AWS_EC2, "CreateFleet", &p);
	dump_query(dir, AWS_EC2, "DescribeInstances", &p);
	struct fake_aws_instance in;
	if (!fake_aws_instance(fake, 0, &in))
		return 1;
	aws_params_add(&p, "ResourceId.1", in.id);
	aws_params_add(&p, "Tag.1.Key", "Name");
	aws_params_add(&p, "Tag.1.Value", "shape");
	dump_query(dir, AWS_EC2, "CreateTags", &p);
	aws_params_add(&p, "InstanceId.1", in.id);
	dump_query(dir, AWS_EC2, "TerminateInstances", &p);
	aws_params_add(&p, "LaunchTemplateName", "kerf-shapes");
	dump_query(dir, AWS_EC2, "DeleteLaunchTemplate", &p);
	aws_params_add(&p, "RoleArn", "arn:aws:iam::111122223333:role/app");
	aws_params_add(&p, "RoleSessionName", "shapes");
	dump_query(dir, AWS_STS, "AssumeRole", &p);
	aws_params_add(&p, "RoleArn", "arn:aws:iam::111122223333:role/app");
	aws_params_add(&p, "RoleSessionName", "shapes");
	aws_params_add(&p, "WebIdentityToken", FAKE_AWS_WEB_IDENTITY_TOKEN);
	dump_query(dir, AWS_STS, "AssumeRoleWithWebIdentity", &p);
	dump_query(dir, AWS_STS, "GetCallerIdentity", &p);

	json_t *out = NULL;
	json_t *body = json_pack("{s:s}", "Name",
				 "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/"
				 "standard/recommended/image_id");
	int rc = aws_json(client, AWS_SSM, "AmazonSSM.GetParameter", body, &out, &err);
	dump_json(dir, "GetParameter", rc, out, &err);
	json_decref(body);
	body = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "ServiceCode", "AmazonEC2",
			 "FormatVersion", "aws_v1", "Filters", "Type", "TERM_MATCH", "Field",
			 "operatingSystem", "Value", "Linux");
	rc = aws_json(client, AWS_PRICING, "AWSPriceListService.GetProducts", body, &out, &err);
	dump_json(dir, "GetProducts", rc, out, &err);
	json_decref(body);
	rc = aws_rest_json(client, AWS_EKS, "GET", "/clusters/" FAKE_AWS_CLUSTER, NULL, &out, &err);
	dump_json(dir, "DescribeCluster", rc, out, &err);

	char calls[512];
	snprintf(calls, sizeof(calls), "%s/calls.jsonl", dir);
	if (fake_aws_write_calls(fake, calls) != 0) {
		fprintf(stderr, "check_aws --dump: cannot write %s\n", calls);
		dump_failed = 1;
	}
	aws_client_free(client);
	host_free(host);
	http_client_free(http);
	host_clock_free(clk);
	fake_aws_stop(fake);
	http_global_cleanup();
	return dump_failed;
}

static Suite *aws_suite(void)
{
	Suite *s = suite_create("aws");
	TCase *tc = tcase_create("protocols");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, query_signed_with_host_clock);
	tcase_add_test(tc, wrong_secret_is_signature_mismatch);
	tcase_add_test(tc, unknown_key_is_auth_failure);
	tcase_add_test(tc, json_protocol_ssm);
	tcase_add_test(tc, json_protocol_pricing_pages);
	tcase_add_test(tc, query_pages_follow_next_token);
	tcase_add_test(tc, rest_json_eks);
	tcase_add_test(tc, client_config);
	suite_add_tcase(s, tc);
	tc = tcase_create("retries");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, throttling_retried_with_backoff);
	tcase_add_test(tc, throttling_bounded);
	tcase_add_test(tc, retry_after_honoured);
	tcase_add_test(tc, server_errors_retried);
	tcase_add_test(tc, dropped_connections_retried);
	tcase_add_test(tc, validation_and_notfound_not_retried);
	suite_add_tcase(s, tc);
	tc = tcase_create("credentials");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, web_identity);
	tcase_add_test(tc, web_identity_rejected);
	tcase_add_test(tc, container_pod_identity);
	tcase_add_test(tc, profile_static_keys);
	tcase_add_test(tc, profile_from_config_file);
	tcase_add_test(tc, profile_role_chain);
	tcase_add_test(tc, profile_loop_and_missing);
	tcase_add_test(tc, imds_v2_instance_role);
	tcase_add_test(tc, refreshed_before_expiry);
	tcase_add_test(tc, failed_refresh_keeps_valid_credentials);
	tcase_add_test(tc, expired_token_refreshes);
	tcase_add_test(tc, chain_order);
	tcase_add_test(tc, no_credentials);
	tcase_add_test(tc, concurrent_callers_share_one_resolution);
	suite_add_tcase(s, tc);
	tc = tcase_create("decoding");
	tcase_add_test(tc, error_mapping);
	tcase_add_test(tc, error_decoding);
	tcase_add_test(tc, decode_limits);
	tcase_add_test(tc, backoff_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("fake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fake_fleet_idempotent_and_ice);
	tcase_add_test(tc, fake_describe_filters);
	tcase_add_test(tc, lost_fleet_answer_launches_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump_responses(argv[2]);
	struct kerf_error err = KERF_ERROR_INIT;
	if (http_global_init(&err) != 0) {
		fprintf(stderr, "http_global_init: %s\n", err.message);
		return 1;
	}
	SRunner *sr = srunner_create(aws_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	http_global_cleanup();
	return nf ? 1 : 0;
}
