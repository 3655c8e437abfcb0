/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_kube_fake.c - the kube cluster plugin against the fake Kubernetes
 * API server (tests/fakes/fake_kube.h), loaded as kerfd loads it: TLS with
 * a token, client certificates (files, kubeconfig data and an exec
 * plugin's ExecCredential) and the
 * in-cluster service account; the informers' cache across dropped
 * streams, 410 Gone and random faults, checked event by event against the
 * server's objects; malformed objects; the writes as the server stores
 * them; leader election between two instances, and between two kerfd
 * processes.
 *
 * Waiting here is for the server and the plugin to converge, bounded by a
 * generous deadline; no assertion depends on how long anything took.
 */
#include <check.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "../../plugins/kube/kube.h"
#include "../fakes/fake_kube.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "yamltree.h"

#define CASE_TIMEOUT 120
#define CONVERGE_MS 60000

static struct loader *ldr;
static const struct loader_plugin *plugin;
static char tmpdir[64];

/* ------------------------------------------------------------ the sink */

#define MAX_SEEN 4096

/* What the host would hold: every delivered object by kind and key, and every anomaly. */
struct seen {
	pthread_mutex_t lock;
	size_t n;
	struct {
		int kind;
		char key[300];
		char rv[64];
	} items[MAX_SEEN];
	bool synced[6];
	unsigned added_twice, unknown_changed, unknown_deleted, events;
};

static struct seen seen;

static long find_seen(int kind, const char *key)
{
	for (size_t i = 0; i < seen.n; i++)
		if (seen.items[i].kind == kind && strcmp(seen.items[i].key, key) == 0)
			return (long)i;
	return -1;
}

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *obj)
{
	(void)ctx;
	pthread_mutex_lock(&seen.lock);
	if (type == KERF_EVENT_SYNCED) {
		seen.synced[kind] = true;
		pthread_mutex_unlock(&seen.lock);
		return;
	}
	const struct kerf_meta *m = kerf_object_meta(kind, obj);
	char key[300];
	snprintf(key, sizeof(key), "%s%s%s", m->namespace_ ? m->namespace_ : "",
		 m->namespace_ ? "/" : "", m->name);
	long i = find_seen(kind, key);
	seen.events++;
	if (type == KERF_EVENT_ADDED && i >= 0)
		seen.added_twice++;
	if (type == KERF_EVENT_MODIFIED && i < 0)
		seen.unknown_changed++;
	if (type == KERF_EVENT_DELETED) {
		if (i < 0)
			seen.unknown_deleted++;
		else
			seen.items[i] = seen.items[--seen.n];
	} else {
		if (i < 0) {
			ck_assert_uint_lt(seen.n, MAX_SEEN);
			i = (long)seen.n++;
			seen.items[i].kind = kind;
			snprintf(seen.items[i].key, sizeof(seen.items[i].key), "%s", key);
		}
		snprintf(seen.items[i].rv, sizeof(seen.items[i].rv), "%s",
			 m->resource_version ? m->resource_version : "");
	}
	pthread_mutex_unlock(&seen.lock);
}

static const struct kerf_event_sink sink = {.ctx = NULL, .on_object = on_object};

/* True when the sink holds exactly the server's objects of a kind, versions included. */
static bool matches(struct fake_kube *f, const char *api_version, const char *kind_name, int kind)
{
	json_t *list = fake_kube_list(f, api_version, kind_name);
	size_t i, n_seen = 0;
	json_t *o;
	bool ok = true;

	pthread_mutex_lock(&seen.lock);
	for (size_t k = 0; k < seen.n; k++)
		n_seen += seen.items[k].kind == kind;
	if (n_seen != json_array_size(list))
		ok = false;
	json_array_foreach(list, i, o) {
		char *key = kube_json_key(o);
		const char *rv = json_string_value(
		    json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
		long s = find_seen(kind, key);
		if (s < 0 || !rv || strcmp(seen.items[s].rv, rv) != 0)
			ok = false;
		free(key);
	}
	pthread_mutex_unlock(&seen.lock);
	json_decref(list);
	return ok;
}

static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Waits for the cache to equal the server's nodes and pods; false at the deadline. */
static bool converge(struct fake_kube *f)
{
	for (long waited = 0; waited < CONVERGE_MS; waited += 20) {
		if (matches(f, "v1", "Node", KERF_OBJ_NODE) &&
		    matches(f, "v1", "Pod", KERF_OBJ_POD))
			return true;
		pause_ms(20);
	}
	return false;
}

/* ------------------------------------------------------------- fixture */

static char logbuf[1 << 16];
static size_t loglen;
static pthread_mutex_t loglock = PTHREAD_MUTEX_INITIALIZER;

static void log_capture(void *arg, kerf_log_level level, const char *line, size_t len)
{
	(void)arg;
	(void)level;
	pthread_mutex_lock(&loglock);
	if (loglen + len + 1 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, len);
		loglen += len;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
	pthread_mutex_unlock(&loglock);
}

static bool logged(const char *what)
{
	pthread_mutex_lock(&loglock);
	bool yes = strstr(logbuf, what) != NULL;
	pthread_mutex_unlock(&loglock);
	return yes;
}

static void setup(void)
{
	const char *dirs[] = {KERF_TEST_BUILDDIR "/plugins/kube/.libs"};
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_kube_fake.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "kube", KERF_KIND_CLUSTER, &plugin, &err) == 0, "%s",
		      err.message);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	memset(&seen, 0, sizeof(seen));
	pthread_mutex_init(&seen.lock, NULL);
	loglen = 0;
	logbuf[0] = '\0';
	log_init(KERF_LOG_DEBUG, false);
	log_set_sink(log_capture, NULL);
}

static void teardown(void)
{
	char cmd[128];
	log_set_sink(NULL, NULL);
	/* The plugin's log, for a failing case: KUBE_TEST_LOG=1. */
	if (getenv("KUBE_TEST_LOG"))
		fputs(logbuf, stderr);
	loader_free(ldr);
	http_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static int make(const char *yaml, struct plugin_instance *in, struct kerf_error *err)
{
	struct yt_stream *st = NULL;
	ck_assert_int_eq(yt_parse_string("kerf.yaml", yaml, strlen(yaml), &st, err), 0);
	const struct instance_env env = {.config = st->docs[0].root, .network = true};
	memset(in, 0, sizeof(*in));
	in->plugin = plugin;
	int rc = instance_create(in, "cluster/kube", &env, err);
	yt_stream_free(st);
	return rc;
}

/* The plugin on the fake's own kubeconfig, with `extra` config lines. */
static void make_for(struct fake_kube *f, const char *extra, struct plugin_instance *in)
{
	char yaml[1024];
	struct kerf_error err = KERF_ERROR_INIT;
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\nwatch_timeout: 30s\n%s",
		 fake_kube_kubeconfig(f), extra ? extra : "");
	ck_assert_msg(make(yaml, in, &err) == 0, "%s", err.message);
}

static void start(struct plugin_instance *in)
{
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_msg(plugin->cluster.start(in->state, &sink, &err) == 0, "%s", err.message);
	for (int k = 0; k < 6; k++)
		ck_assert_msg(seen.synced[k], "kind %d not synced", k);
}

static void put(struct fake_kube *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct fake_kube *f, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_msg(fake_kube_put(f, text) == 0, "put %s", text);
}

static void put_node(struct fake_kube *f, int i, const char *zone)
{
	put(f,
	    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%d\","
	    "\"labels\":{\"topology.kubernetes.io/zone\":\"%s\"}},\"spec\":{\"providerID\":"
	    "\"aws:///%s/i-%d\"},\"status\":{\"allocatable\":{\"cpu\":\"2\",\"memory\":\"8Gi\","
	    "\"pods\":\"110\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	    i, zone, zone, i);
}

static void put_pod(struct fake_kube *f, int i, int cpu_m)
{
	put(f,
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%d\","
	    "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
	    "[{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{\"requests\":{\"cpu\":\"%dm\"}}}]}"
	    "}",
	    i, cpu_m);
}

static const char *NODEPOOL =
    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\",\"metadata\":{\"name\":"
    "\"default\"},\"spec\":{\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":"
    "\"karpenter.k8s.aws\",\"kind\":\"EC2NodeClass\",\"name\":\"default\"},"
    "\"requirements\":[{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\","
    "\"values\":[\"on-demand\"]}]}}}}";

static struct kube *kube_of(struct plugin_instance *in)
{
	return in->state;
}

/* ----------------------------------------------------------- connection */

START_TEST(tls_token_lists_and_watches)
{
	struct fake_kube_options o = {.tls = true, .token = "fake-token-123"};
	struct fake_kube *f = fake_kube_start(&o);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	put_pod(f, 1, 100);
	put_pod(f, 3, 300);
	ck_assert_int_eq(fake_kube_put(f, NODEPOOL), 0);
	make_for(f, "page_size: 1\n", &in);
	start(&in);
	/* The initial lists are in before start() returns, a page per object. */
	ck_assert(matches(f, "v1", "Node", KERF_OBJ_NODE));
	ck_assert(matches(f, "v1", "Pod", KERF_OBJ_POD));
	ck_assert(matches(f, "karpenter.sh/v1", "NodePool", KERF_OBJ_NODEPOOL));
	ck_assert_uint_ge(fake_kube_requests(f, "GET", "/api/v1/pods"), 2);
	/* Then the watches carry changes. */
	put_node(f, 2, "us-east-1b");
	put_pod(f, 2, 250);
	ck_assert(fake_kube_delete(f, "v1", "Pod", "default", "pod-1") == 0);
	ck_assert(converge(f));
	ck_assert_uint_eq(seen.added_twice + seen.unknown_changed + seen.unknown_deleted, 0);
	ck_assert(!logged("fake-token-123"));
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

/* Base64 of a whole file, for a kubeconfig's *-data fields. */
static char *b64_file(const char *path)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	unsigned char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	char *out = malloc(n * 4 / 3 + 8);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v =
		    buf[i] << 16 | (i + 1 < n ? buf[i + 1] << 8 : 0) | (i + 2 < n ? buf[i + 2] : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

START_TEST(client_certificates)
{
	struct fake_kube_options o = {.tls = true, .client_certs = true};
	struct fake_kube *f = fake_kube_start(&o);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	char path[256], yaml[512];

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	if (_i == 0) {
		/* Files, as the fake's own kubeconfig names them. */
		make_for(f, NULL, &in);
	} else if (_i == 2) {
		/* From an exec plugin's ExecCredential (clientCertificateData, clientKeyData). */
		char cred[256], script[256], text[1024];
		json_t *status = json_object(), *ec = json_object();
		FILE *fp = fopen(fake_kube_client_cert_file(f), "r");
		char pem[16384];
		size_t n = fread(pem, 1, sizeof(pem) - 1, fp);
		pem[n] = '\0';
		fclose(fp);
		json_object_set_new(status, "clientCertificateData", json_string(pem));
		fp = fopen(fake_kube_client_key_file(f), "r");
		n = fread(pem, 1, sizeof(pem) - 1, fp);
		pem[n] = '\0';
		fclose(fp);
		json_object_set_new(status, "clientKeyData", json_string(pem));
		json_object_set_new(ec, "apiVersion",
				    json_string("client.authentication.k8s.io/v1"));
		json_object_set_new(ec, "kind", json_string("ExecCredential"));
		json_object_set_new(ec, "status", status);
		snprintf(cred, sizeof(cred), "%s/cred.json", tmpdir);
		ck_assert_int_eq(json_dump_file(ec, cred, 0), 0);
		json_decref(ec);
		snprintf(script, sizeof(script), "%s/cred.sh", tmpdir);
		fp = fopen(script, "w");
		fprintf(fp, "#!/bin/sh\ncat %s\n", cred);
		fclose(fp);
		ck_assert_int_eq(chmod(script, 0755), 0);
		snprintf(text, sizeof(text),
			 "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: "
			 "u}\nclusters:\n- name: c\n  cluster:\n    server: %s\n"
			 "    certificate-authority: %s\nusers:\n- name: u\n  user:\n    exec:\n"
			 "      apiVersion: client.authentication.k8s.io/v1\n      command: %s\n",
			 fake_kube_url(f), fake_kube_ca_file(f), script);
		snprintf(path, sizeof(path), "%s/kubeconfig", tmpdir);
		fp = fopen(path, "w");
		fputs(text, fp);
		fclose(fp);
		snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", path);
		ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	} else {
		/* The same material inline, as kind and EKS kubeconfigs carry it. */
		char *ca = b64_file(fake_kube_ca_file(f));
		char *crt = b64_file(fake_kube_client_cert_file(f));
		char *key = b64_file(fake_kube_client_key_file(f));
		size_t need = strlen(ca) + strlen(crt) + strlen(key) + 1024;
		char *text = malloc(need);
		snprintf(text, need,
			 "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: "
			 "u}\nclusters:\n- name: c\n  cluster:\n    server: %s\n"
			 "    certificate-authority-data: %s\nusers:\n- name: u\n  user:\n"
			 "    client-certificate-data: %s\n    client-key-data: %s\n",
			 fake_kube_url(f), ca, crt, key);
		snprintf(path, sizeof(path), "%s/kubeconfig", tmpdir);
		FILE *fp = fopen(path, "w");
		fputs(text, fp);
		fclose(fp);
		free(ca);
		free(crt);
		free(key);
		free(text);
		snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", path);
		ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	}
	start(&in);
	ck_assert(matches(f, "v1", "Node", KERF_OBJ_NODE));
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(tls_is_verified)
{
	struct fake_kube_options o = {.tls = true};
	struct fake_kube *f = fake_kube_start(&o);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	char path[256], yaml[512], text[1024];

	ck_assert_ptr_nonnull(f);
	/* No CA: the system store does not know the fake's, so the connection is refused. */
	snprintf(text, sizeof(text),
		 "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster:\n    server: %s\n",
		 fake_kube_url(f));
	snprintf(path, sizeof(path), "%s/kubeconfig", tmpdir);
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", path);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_int_eq(plugin->cluster.start(in.state, &sink, &err), KERF_E_IO);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(in_cluster_service_account)
{
	struct fake_kube_options o = {.tls = true, .token = "sa-token"};
	struct fake_kube *f = fake_kube_start(&o);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	char sa[128], cmd[512], yaml[256], port[16];

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s && cp %s %s/ca.crt && printf 'sa-token\\n' > %s/token", sa,
		 fake_kube_ca_file(f), sa, sa);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(port, sizeof(port), "%u", fake_kube_port(f));
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	snprintf(yaml, sizeof(yaml), "service_account_dir: %s\n", sa);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	start(&in);
	ck_assert(matches(f, "v1", "Node", KERF_OBJ_NODE));
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

/* ---------------------------------------------------------------- cache */

START_TEST(relist_after_gone_delivers_missed_changes)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 5; i++) {
		put_node(f, i, "us-east-1a");
		put_pod(f, i, 100);
	}
	make_for(f, NULL, &in);
	start(&in);
	ck_assert(converge(f));
	/* Changes the plugin sees only by listing again: the streams are cut while
	 * they happen, and history is compacted past them. */
	fake_kube_delay_ms(f, 300);
	fake_kube_drop_streams(f);
	ck_assert(fake_kube_delete(f, "v1", "Node", NULL, "node-0") == 0);
	ck_assert(fake_kube_delete(f, "v1", "Pod", "default", "pod-0") == 0);
	put_pod(f, 1, 900);
	put_node(f, 9, "us-east-1c");
	fake_kube_expire_watches(f);
	fake_kube_delay_ms(f, 0);
	ck_assert(converge(f));
	struct kube *k = kube_of(&in);
	unsigned long relists = 0;
	for (size_t i = 0; i < k->n_informers; i++)
		relists += atomic_load(&k->informers[i].relists);
	ck_assert_uint_ge(relists, 1);
	ck_assert_uint_eq(seen.added_twice + seen.unknown_changed + seen.unknown_deleted, 0);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(dropped_streams_lose_nothing)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	make_for(f, NULL, &in);
	start(&in);
	for (int round = 0; round < 20; round++) {
		put_pod(f, round, 100 + round);
		put_node(f, round % 4, round % 2 ? "us-east-1a" : "us-east-1b");
		if (round % 3 == 0)
			fake_kube_drop_streams(f);
		if (round % 5 == 4)
			ck_assert(fake_kube_delete(f, "v1", "Pod", "default", "pod-1") == 0 ||
				  round > 4);
	}
	ck_assert(converge(f));
	ck_assert_uint_eq(seen.added_twice + seen.unknown_changed + seen.unknown_deleted, 0);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(random_faults_end_with_the_servers_objects)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 10; i++)
		put_pod(f, i, 100);
	make_for(f, "qps: 1000\nburst: 1000\n", &in);
	start(&in);
	fake_kube_random_faults(f, 20261207, 150);
	for (int round = 0; round < 60; round++) {
		put_pod(f, round % 25, 100 + round);
		put_node(f, round % 7, "us-east-1a");
		if (round % 4 == 0)
			fake_kube_delete(f, "v1", "Pod", "default", "pod-3");
		if (round % 9 == 0)
			fake_kube_delete(f, "v1", "Node", NULL, "node-2");
		if (round % 10 == 5)
			fake_kube_expire_watches(f);
		if (round % 6 == 0)
			pause_ms(30);
	}
	fake_kube_random_faults(f, 0, 0);
	/* Whatever streams the faults left, the next change or relist brings the rest. */
	fake_kube_drop_streams(f);
	ck_assert(converge(f));
	ck_assert_uint_eq(seen.added_twice + seen.unknown_changed + seen.unknown_deleted, 0);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(malformed_object_is_named_and_skipped)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	put(f, "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"bad\"},"
	       "\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":\"Sometimes\"}]}}");
	make_for(f, NULL, &in);
	start(&in);
	ck_assert(logged("Node/bad: spec.taints[0].effect"));
	/* The cache holds the readable node only; the stream goes on. */
	pthread_mutex_lock(&seen.lock);
	ck_assert_int_ge(find_seen(KERF_OBJ_NODE, "node-1"), 0);
	ck_assert_int_lt(find_seen(KERF_OBJ_NODE, "bad"), 0);
	pthread_mutex_unlock(&seen.lock);
	/* Malformed JSON from the server is a clear error, not a crash: the next
	 * request for nodes (the watch that follows the cut, or a list) gets it. */
	fake_kube_answer_next(f, "GET", "/api/v1/nodes", 200, "application/json",
			      "{\"type\":\"ADDED\",\"object\":{\"metadata\":\n", 1);
	fake_kube_expire_watches(f);
	fake_kube_drop_streams(f);
	put_node(f, 2, "us-east-1b");
	for (long waited = 0; waited < CONVERGE_MS && !logged("malformed JSON"); waited += 20)
		pause_ms(20);
	ck_assert(logged("nodes: malformed JSON at line"));
	pthread_mutex_lock(&seen.lock);
	long two = find_seen(KERF_OBJ_NODE, "node-2");
	pthread_mutex_unlock(&seen.lock);
	for (long waited = 0; waited < CONVERGE_MS && two < 0; waited += 20) {
		pause_ms(20);
		pthread_mutex_lock(&seen.lock);
		two = find_seen(KERF_OBJ_NODE, "node-2");
		pthread_mutex_unlock(&seen.lock);
	}
	ck_assert_int_ge(two, 0);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

/* --------------------------------------------------------------- writes */

static struct kerf_nodeclaim *claim_named(const char *name)
{
	struct kerf_nodeclaim *c = kerf_nodeclaim_new();
	c->meta->name = strdup(name);
	c->nodepool = strdup("default");
	kerf_labels_set(&c->meta->labels, "karpenter.sh/nodepool", "default");
	c->meta->finalizers = calloc(1, sizeof(char *));
	c->meta->finalizers[0] = strdup("karpenter.sh/termination");
	c->meta->n_finalizers = 1;
	c->node_class_ref->group = strdup("karpenter.k8s.aws");
	c->node_class_ref->kind = strdup("EC2NodeClass");
	c->node_class_ref->name = strdup("default");
	struct kerf_requirement *q = kerf_requirements_append(&c->requirements);
	q->key = strdup("node.kubernetes.io/instance-type");
	kerf_requirement_add_value(q, "m5.large");
	kerf_resources_set(&c->resource_requests, "cpu", 1500, NULL);
	kerf_resources_set(&c->resource_requests, "pods", 3, NULL);
	c->expire_after_ms = 720LL * 3600 * 1000;
	return c;
}

START_TEST(nodeclaim_lifecycle)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_cluster_ops *ops = &plugin->cluster;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fake_kube_put(f, NODEPOOL), 0);
	make_for(f, NULL, &in);
	start(&in);
	struct kerf_nodeclaim *c = claim_named("default-abc12"), *st = NULL;
	ck_assert_msg(ops->create_nodeclaim(in.state, c, &st, &err) == 0, "%s", err.message);
	ck_assert_ptr_nonnull(st->meta->uid);
	json_t *pool = fake_kube_get(f, "karpenter.sh/v1", "NodePool", NULL, "default");
	json_t *nc = fake_kube_get(f, "karpenter.sh/v1", "NodeClaim", NULL, "default-abc12");
	json_t *owner =
	    json_array_get(json_object_get(json_object_get(nc, "metadata"), "ownerReferences"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(owner, "kind")), "NodePool");
	ck_assert_str_eq(
	    json_string_value(json_object_get(owner, "uid")),
	    json_string_value(json_object_get(json_object_get(pool, "metadata"), "uid")));
	json_decref(pool);
	json_decref(nc);

	/* Launched, then registered with its node: the status subresource, with a precondition. */
	st->launched_ms = 1796637600000;
	st->provider_id = strdup("aws:///us-east-1a/i-0abc");
	st->image_id = strdup("ami-123");
	kerf_resources_set(&st->capacity, "cpu", 2000, NULL);
	kerf_resources_set(&st->allocatable, "cpu", 1930, NULL);
	struct kerf_nodeclaim *st2 = NULL;
	ck_assert_msg(ops->update_nodeclaim(in.state, st, &st2, &err) == 0, "%s", err.message);
	ck_assert_int_eq(st2->state, KERF_CLAIM_LAUNCHED);
	ck_assert_str_eq(st2->provider_id, "aws:///us-east-1a/i-0abc");
	ck_assert_int_eq(st2->allocatable.cpu_millis, 1930);
	/* The old version is stale now: 409. */
	ck_assert_int_eq(ops->update_nodeclaim(in.state, st, NULL, &err), KERF_E_CONFLICT);
	nc = fake_kube_get(f, "karpenter.sh/v1", "NodeClaim", NULL, "default-abc12");
	json_t *conds = json_object_get(json_object_get(nc, "status"), "conditions");
	ck_assert_uint_eq(json_array_size(conds), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(conds, 0), "type")),
			 "Launched");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(conds, 0), "status")),
			 "True");
	json_decref(nc);

	/* Deleting keeps it while the finalizer is there; dropping the finalizer ends it. */
	ck_assert_int_eq(ops->delete_nodeclaim(in.state, "default-abc12", &err), 0);
	nc = fake_kube_get(f, "karpenter.sh/v1", "NodeClaim", NULL, "default-abc12");
	ck_assert_ptr_nonnull(
	    json_object_get(json_object_get(nc, "metadata"), "deletionTimestamp"));
	json_decref(nc);
	for (size_t i = 0; i < st2->meta->n_finalizers; i++)
		free(st2->meta->finalizers[i]);
	st2->meta->n_finalizers = 0;
	free(st2->meta->resource_version);
	st2->meta->resource_version = NULL;
	ck_assert_msg(ops->update_nodeclaim(in.state, st2, NULL, &err) == 0 ||
			  err.code == KERF_E_NOTFOUND,
		      "%s", err.message);
	ck_assert_ptr_null(fake_kube_get(f, "karpenter.sh/v1", "NodeClaim", NULL, "default-abc12"));
	ck_assert_int_eq(ops->delete_nodeclaim(in.state, "default-abc12", &err), KERF_E_NOTFOUND);
	kerf_nodeclaim_free(c);
	kerf_nodeclaim_free(st);
	kerf_nodeclaim_free(st2);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(fake_kubelet_registers_launched_claims)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_cluster_ops *ops = &plugin->cluster;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fake_kube_put(f, NODEPOOL), 0);
	make_for(f, "fake_kubelet: true\n", &in);
	start(&in);
	struct kerf_nodeclaim *c = claim_named("default-kw1"), *st = NULL;
	ck_assert_msg(ops->create_nodeclaim(in.state, c, &st, &err) == 0, "%s", err.message);
	/* Not launched yet: no node. */
	ck_assert_ptr_null(fake_kube_get(f, "v1", "Node", NULL, "default-kw1"));
	st->launched_ms = 1796637600000;
	st->provider_id = strdup("kerf-sim:///us-east-1a/i-0kw1");
	kerf_labels_set(&st->meta->labels, "topology.kubernetes.io/zone", "us-east-1a");
	kerf_resources_set(&st->capacity, "cpu", 2000, NULL);
	kerf_resources_set(&st->allocatable, "cpu", 1930, NULL);
	kerf_resources_set(&st->allocatable, "pods", 29, NULL);
	free(st->meta->resource_version);
	st->meta->resource_version = NULL;
	ck_assert_msg(ops->update_nodeclaim(in.state, st, NULL, &err) == 0, "%s", err.message);
	json_t *node = fake_kube_get(f, "v1", "Node", NULL, "default-kw1");
	ck_assert_ptr_nonnull(node);
	json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
	ck_assert_str_eq(
	    json_string_value(json_object_get(labels, "node.kubernetes.io/instance-type")),
	    "m5.large");
	ck_assert_str_eq(json_string_value(json_object_get(labels, "topology.kubernetes.io/zone")),
			 "us-east-1a");
	json_t *spec = json_object_get(node, "spec");
	ck_assert_str_eq(json_string_value(json_object_get(spec, "providerID")),
			 "kerf-sim:///us-east-1a/i-0kw1");
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(spec, "taints"), 0), "key")),
			 "karpenter.sh/unregistered");
	json_t *status = json_object_get(node, "status");
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(status, "conditions"), 0), "status")),
			 "True");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(status, "allocatable"), "cpu")),
	    "1930m");
	json_decref(node);
	/* The kube plugin reads it back as kerf's core would: a Ready node of that providerID. */
	for (long waited = 0; waited < CONVERGE_MS && !matches(f, "v1", "Node", KERF_OBJ_NODE);
	     waited += 20)
		pause_ms(20);
	ck_assert(matches(f, "v1", "Node", KERF_OBJ_NODE));
	/* A later update leaves the node alone. */
	unsigned long posts = fake_kube_requests(f, "POST", "/api/v1/nodes");
	ck_assert_msg(ops->update_nodeclaim(in.state, st, NULL, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(fake_kube_requests(f, "POST", "/api/v1/nodes"), posts);
	kerf_nodeclaim_free(c);
	kerf_nodeclaim_free(st);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(node_cordon_and_pdb_eviction)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_cluster_ops *ops = &plugin->cluster;

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	put_pod(f, 1, 100);
	put(f, "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{"
	       "\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"maxUnavailable\":0,"
	       "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}");
	make_for(f, NULL, &in);
	start(&in);
	struct kerf_node *n = kerf_node_new(), *st = NULL;
	n->meta->name = strdup("node-1");
	kerf_labels_set(&n->meta->labels, "kerf.dev/test", "yes");
	struct kerf_taint *t = kerf_taints_append(&n->taints);
	t->key = strdup("karpenter.sh/disrupted");
	t->effect = KERF_EFFECT_NO_SCHEDULE;
	n->unschedulable = true;
	ck_assert_msg(ops->update_node(in.state, n, &st, &err) == 0, "%s", err.message);
	ck_assert(st->unschedulable);
	ck_assert_uint_eq(st->taints.n, 1);
	/* The zone label the node had is gone: kerf's labels replace the node's. */
	ck_assert_ptr_null(kerf_labels_get(&st->meta->labels, "topology.kubernetes.io/zone"));
	ck_assert_str_eq(kerf_labels_get(&st->meta->labels, "kerf.dev/test"), "yes");
	ck_assert_int_eq(ops->evict_pod(in.state, "default", "pod-1", &err), KERF_E_THROTTLED);
	ck_assert_int_eq(ops->evict_pod(in.state, "default", "nope", &err), KERF_E_NOTFOUND);
	ck_assert_int_eq(ops->delete_node(in.state, "node-1", &err), 0);
	ck_assert_ptr_null(fake_kube_get(f, "v1", "Node", NULL, "node-1"));
	kerf_node_free(n);
	kerf_node_free(st);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

/*
 * An evicted pod on a node waits for its kubelet to confirm the end; with
 * fake_kubelet nothing else would, so the plugin confirms it, and without
 * it the pod stays, marked for deletion.
 */
START_TEST(fake_kubelet_ends_evicted_pods)
{
	for (int fake = 0; fake < 2; fake++) {
		struct fake_kube *f = fake_kube_start(NULL);
		struct plugin_instance in;
		struct kerf_error err = KERF_ERROR_INIT;

		ck_assert_ptr_nonnull(f);
		put_node(f, 1, "us-east-1a");
		put(f, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		       "\"bound\",\"namespace\":\"default\"},\"spec\":{\"nodeName\":\"node-1\","
		       "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
		make_for(f, fake ? "fake_kubelet: true\n" : NULL, &in);
		start(&in);
		ck_assert_msg(plugin->cluster.evict_pod(in.state, "default", "bound", &err) == 0, "%s",
			      err.message);
		json_t *pod = fake_kube_get(f, "v1", "Pod", "default", "bound");
		if (fake) {
			ck_assert_ptr_null(pod);
		} else {
			ck_assert_ptr_nonnull(pod);
			ck_assert_ptr_nonnull(json_object_get(json_object_get(pod, "metadata"),
							      "deletionTimestamp"));
		}
		json_decref(pod);
		instance_destroy(&in);
		fake_kube_stop(f);
	}
}
END_TEST

/*
 * delete_pod: a DELETE with DeleteOptions, whatever the budget says: a
 * uid that is not the pod's is a 409 and leaves it; its own uid and a
 * grace period of 7 s mark the bound pod for deletion with that grace
 * period, not its own 60 s; a grace period of 0 removes it.
 */
START_TEST(pod_delete_with_grace_and_uid)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_cluster_ops *ops = &plugin->cluster;

	ck_assert_ptr_nonnull(f);
	put_node(f, 1, "us-east-1a");
	put(f, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-1\","
	       "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
	       "\"nodeName\":\"node-1\",\"terminationGracePeriodSeconds\":60,\"containers\":"
	       "[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
	put(f, "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{"
	       "\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"maxUnavailable\":0,"
	       "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}");
	make_for(f, NULL, &in);
	start(&in);
	json_t *pod = fake_kube_get(f, "v1", "Pod", "default", "pod-1");
	ck_assert_ptr_nonnull(pod);
	char *uid =
	    strdup(json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid")));
	json_decref(pod);

	ck_assert_int_eq(ops->delete_pod(in.state, "default", "pod-1", "not-its-uid", 7, &err),
			 KERF_E_CONFLICT);
	pod = fake_kube_get(f, "v1", "Pod", "default", "pod-1");
	ck_assert_ptr_null(json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"));
	json_decref(pod);

	kerf_error_clear(&err);
	ck_assert_msg(ops->delete_pod(in.state, "default", "pod-1", uid, 7, &err) == 0, "%s",
		      err.message);
	pod = fake_kube_get(f, "v1", "Pod", "default", "pod-1");
	const json_t *md = json_object_get(pod, "metadata");
	ck_assert_ptr_nonnull(json_object_get(md, "deletionTimestamp"));
	ck_assert_int_eq(json_integer_value(json_object_get(md, "deletionGracePeriodSeconds")), 7);
	json_decref(pod);

	ck_assert_int_eq(ops->delete_pod(in.state, "default", "pod-1", uid, 0, &err), 0);
	ck_assert_ptr_null(fake_kube_get(f, "v1", "Pod", "default", "pod-1"));
	ck_assert_int_eq(ops->delete_pod(in.state, "default", "pod-1", NULL, 0, &err),
			 KERF_E_NOTFOUND);
	ck_assert_int_eq(ops->delete_pod(in.state, "default", "pod-1", NULL, -1, &err),
			 KERF_E_INVALID);
	free(uid);
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(eviction_falls_back_to_v1beta1)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance in;

	ck_assert_ptr_nonnull(f);
	fake_kube_hide(f, "policy/v1");
	make_for(f, NULL, &in);
	start(&in);
	ck_assert_str_eq(kube_of(&in)->eviction_version, "policy/v1beta1");
	instance_destroy(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(leader_hand_over)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct plugin_instance a, b;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_cluster_ops *ops = &plugin->cluster;
	const char *le = "leader_election:\n  enabled: true\n  namespace: kube-system\n"
			 "  lease_duration: 2s\n  renew_deadline: 1s\n  retry_period: 100ms\n";
	bool held = false;

	ck_assert_ptr_nonnull(f);
	make_for(f, le, &a);
	make_for(f, le, &b);
	ck_assert_int_eq(ops->acquire_lease(a.state, "replica-a", 15000, &held, &err), 0);
	ck_assert(held);
	ck_assert_int_eq(ops->acquire_lease(b.state, "replica-b", 15000, &held, &err), 0);
	ck_assert(!held);
	json_t *lease = fake_kube_get(f, "coordination.k8s.io/v1", "Lease", "kube-system",
				      "kerf-leader-election");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(lease, "spec"), "holderIdentity")),
	    "replica-a");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(lease, "spec"),
							    "leaseDurationSeconds")),
			 2);
	json_decref(lease);
	/* a stops renewing (it died): b takes over once the lease has run out. */
	for (long waited = 0; !held && waited < CONVERGE_MS; waited += 100) {
		pause_ms(100);
		ck_assert_int_eq(ops->acquire_lease(b.state, "replica-b", 15000, &held, &err), 0);
	}
	ck_assert(held);
	/* a comes back and finds the lease taken: it must not act. */
	pause_ms(150);
	ck_assert_int_eq(ops->acquire_lease(a.state, "replica-a", 15000, &held, &err), 0);
	ck_assert(!held);
	instance_destroy(&a);
	instance_destroy(&b);
	fake_kube_stop(f);
}
END_TEST

/* ---------------------------------------------------------------- kerfd */

static const char *EC2NODECLASS =
    "{\"apiVersion\":\"karpenter.k8s.aws/v1\",\"kind\":\"EC2NodeClass\",\"metadata\":{\"name\":"
    "\"general\"},\"spec\":{\"amiSelectorTerms\":[{\"alias\":\"al2023@latest\"}],\"role\":"
    "\"KarpenterNodeRole-test\",\"subnetSelectorTerms\":[{\"tags\":{\"karpenter.sh/"
    "discovery\":\"test\"}}],\"securityGroupSelectorTerms\":[{\"tags\":{\"karpenter.sh/"
    "discovery\":\"test\"}}]}}";
static const char *GENERAL_POOL =
    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\",\"metadata\":{\"name\":"
    "\"general\"},\"spec\":{\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":"
    "\"karpenter.k8s.aws\",\"kind\":\"EC2NodeClass\",\"name\":\"general\"},\"requirements\":["
    "{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\",\"values\":[\"on-demand\"]},"
    "{\"key\":\"karpenter.k8s.aws/instance-category\",\"operator\":\"In\",\"values\":[\"c\","
    "\"m\"]}]}},\"disruption\":{\"consolidateAfter\":\"Never\"}}}";

static void put_pending_pod(struct fake_kube *f, const char *name, int cpu)
{
	put(f,
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
	    "\"default\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
	    "\"resources\":{\"requests\":{\"cpu\":\"%d\",\"memory\":\"1Gi\"}}}]},\"status\":{"
	    "\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
	    "\"reason\":\"Unschedulable\",\"message\":\"0/0 nodes are available\"}]}}",
	    name, cpu);
}

/* kerfd on config, its output in log. */
static pid_t spawn_kerfd(const char *config, const char *log)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *o = freopen(log, "w", stderr);
		if (!o || dup2(fileno(stderr), 1) < 0)
			_exit(126);
		execl(KERF_TEST_BUILDDIR "/core/kerfd", "kerfd", "--config", config, "--until",
		      "300s", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool file_has(const char *path, const char *what)
{
	char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	if (fp)
		fclose(fp);
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

/* The Lease's holder, "" when none; the caller frees it. */
static char *lease_holder(struct fake_kube *f)
{
	json_t *l = fake_kube_get(f, "coordination.k8s.io/v1", "Lease", "kube-system", "kerf-test");
	const char *h =
	    json_string_value(json_object_get(json_object_get(l, "spec"), "holderIdentity"));
	char *out = strdup(h ? h : "");
	json_decref(l);
	return out;
}

static bool held_by(struct fake_kube *f, pid_t pid)
{
	char suffix[32];
	char *h = lease_holder(f);
	snprintf(suffix, sizeof(suffix), "_%d", (int)pid);
	size_t n = strlen(h), m = strlen(suffix);
	bool yes = n > m && strcmp(h + n - m, suffix) == 0;
	free(h);
	return yes;
}

/* A NodeClaim other than `except`; NULL when there is none.  The caller frees it. */
static char *other_claim(struct fake_kube *f, const char *except)
{
	json_t *l = fake_kube_list(f, "karpenter.sh/v1", "NodeClaim"), *c;
	char *name = NULL;
	size_t i;
	json_array_foreach(l, i, c) {
		const char *n =
		    json_string_value(json_object_get(json_object_get(c, "metadata"), "name"));
		if (n && (!except || strcmp(n, except) != 0) && !name)
			name = strdup(n);
	}
	json_decref(l);
	return name;
}

static size_t claims(struct fake_kube *f)
{
	json_t *l = fake_kube_list(f, "karpenter.sh/v1", "NodeClaim");
	size_t n = json_array_size(l);
	json_decref(l);
	return n;
}

/* Two kerfd processes on one cluster: only the Lease's holder acts; when it dies the other takes
 * over. */
START_TEST(kerfd_leader_hand_over)
{
	struct fake_kube *f = fake_kube_start(NULL);
	char config[256], text[2048];

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fake_kube_put(f, EC2NODECLASS), 0);
	ck_assert_int_eq(fake_kube_put(f, GENERAL_POOL), 0);
	snprintf(text, sizeof(text),
		 "cluster: kube\nprovider: sim\npackers: [binpack-ffd]\n"
		 "plugins:\n  kube:\n    kubeconfig: %s\n    fake_kubelet: true\n"
		 "    leader_election:\n      enabled: true\n      name: kerf-test\n"
		 "      namespace: kube-system\n      lease_duration: 10s\n"
		 "      renew_deadline: 8s\n      retry_period: 200ms\n"
		 "settings:\n  batch_idle_duration: 1s\n  batch_max_duration: 2s\n"
		 "  clock: real\n  decision_log: \"\"\n  log_level: info\n",
		 fake_kube_kubeconfig(f));
	snprintf(config, sizeof(config), "%s/kerf.yaml", tmpdir);
	FILE *fp = fopen(config, "w");
	fputs(text, fp);
	fclose(fp);

	char log_a[256], log_b[256];
	snprintf(log_a, sizeof(log_a), "%s/kerfd-a.log", tmpdir);
	snprintf(log_b, sizeof(log_b), "%s/kerfd-b.log", tmpdir);
	pid_t a = spawn_kerfd(config, log_a);
	for (long w = 0; w < CONVERGE_MS && !held_by(f, a); w += 50)
		pause_ms(50);
	ck_assert(held_by(f, a));
	pid_t b = spawn_kerfd(config, log_b);
	/* b is up, its caches synced, before the first pod comes. */
	for (long w = 0; w < CONVERGE_MS && !file_has(log_b, "running ("); w += 50)
		pause_ms(50);
	ck_assert(file_has(log_b, "running ("));
	put_pending_pod(f, "first", 1);
	for (long w = 0; w < CONVERGE_MS && claims(f) == 0; w += 50)
		pause_ms(50);
	ck_assert_uint_eq(claims(f), 1);
	/* Several batch windows later still one: b, not holding the lease, launched nothing. */
	pause_ms(5000);
	ck_assert_uint_eq(claims(f), 1);
	ck_assert(held_by(f, a));
	char *first = other_claim(f, NULL);

	/* a dies without a word: b takes the lease once it has run out, and acts.  Its
	 * simulated cloud is its own, so it finds the first claim's instance gone and
	 * replaces it; either way a claim of b's making appears. */
	kill(a, SIGKILL);
	ck_assert_int_eq(waitpid(a, NULL, 0), a);
	for (long w = 0; w < CONVERGE_MS && !held_by(f, b); w += 50)
		pause_ms(50);
	ck_assert(held_by(f, b));
	put_pending_pod(f, "second", 30);
	char *made = NULL;
	for (long w = 0; w < CONVERGE_MS && !(made = other_claim(f, first)); w += 50)
		pause_ms(50);
	if (getenv("KUBE_TEST_LOG") && !made) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "cat %s %s >&2", log_a, log_b);
		ck_assert_int_ge(system(cmd), 0);
	}
	ck_assert_ptr_nonnull(made);
	free(made);
	free(first);
	kill(b, SIGTERM);
	ck_assert_int_eq(waitpid(b, NULL, 0), b);
	fake_kube_stop(f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kube_fake");
	TCase *tc = tcase_create("connection");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, tls_token_lists_and_watches);
	tcase_add_loop_test(tc, client_certificates, 0, 3);
	tcase_add_test(tc, tls_is_verified);
	tcase_add_test(tc, in_cluster_service_account);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, relist_after_gone_delivers_missed_changes);
	tcase_add_test(tc, dropped_streams_lose_nothing);
	tcase_add_test(tc, random_faults_end_with_the_servers_objects);
	tcase_add_test(tc, malformed_object_is_named_and_skipped);
	suite_add_tcase(s, tc);
	tc = tcase_create("writes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, nodeclaim_lifecycle);
	tcase_add_test(tc, fake_kubelet_registers_launched_claims);
	tcase_add_test(tc, node_cordon_and_pdb_eviction);
	tcase_add_test(tc, fake_kubelet_ends_evicted_pods);
	tcase_add_test(tc, pod_delete_with_grace_and_uid);
	tcase_add_test(tc, eviction_falls_back_to_v1beta1);
	tcase_add_test(tc, leader_hand_over);
	suite_add_tcase(s, tc);
	tc = tcase_create("kerfd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, kerfd_leader_hand_over);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
