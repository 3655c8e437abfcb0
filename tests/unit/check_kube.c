/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_kube.c - the kube cluster plugin's connection, credentials, writes
 * and object decoding, against the scripted loopback server
 * (tests/fakes/fake_http.h) and through the plugin as kerfd loads it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "../../plugins/kube/kube.h"
#include "../fakes/fake_http.h"
#include "host.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "yamltree.h"

#define CASE_TIMEOUT 60

static struct loader *ldr;
static const struct loader_plugin *plugin;
static char tmpdir[64];

/* ------------------------------------------------------------- helpers */

static void write_file(const char *name, const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char logbuf[65536];
static size_t loglen;

static void log_capture(void *arg, kerf_log_level level, const char *line, size_t len)
{
	(void)arg;
	(void)level;
	if (loglen + len + 1 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, len);
		loglen += len;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
}

static void setup(void)
{
	const char *dirs[] = {KERF_TEST_BUILDDIR "/plugins/kube/.libs"};
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_kube.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(http_global_init(&err), 0);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "kube", KERF_KIND_CLUSTER, &plugin, &err) == 0, "%s",
		      err.message);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	loglen = 0;
	logbuf[0] = '\0';
	log_init(KERF_LOG_DEBUG, false);
	log_set_sink(log_capture, NULL);
}

static void teardown(void)
{
	char cmd[128];
	log_set_sink(NULL, NULL);
	loader_free(ldr);
	http_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The plugin as kerfd creates it, from `yaml` (its kerf.yaml section). */
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

static const struct kerf_cluster_ops *ops(void)
{
	return &plugin->cluster;
}

/* A kubeconfig for `url` whose user section is `user` (YAML under "user:"). */
static void kubeconfig(const char *url, const char *user, char *path, size_t size)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
		 "clusters:\n- name: c\n  cluster:\n    server: %s\n"
		 "contexts:\n- name: test\n  context:\n    cluster: c\n    user: u\n"
		 "    namespace: kerf\n"
		 "users:\n- name: u\n  user:\n%s",
		 url, user);
	write_file("kubeconfig", text, path, size);
}

static const struct fake_http_step delete_node_ok = {
    .method = "DELETE", .path = "/api/v1/nodes/n1", .body = "{\"kind\":\"Status\"}"};

/* ---------------------------------------------------------- credentials */

START_TEST(token_from_kubeconfig)
{
	struct fake_http *f = fake_http_start(&delete_node_ok, 1);
	char kc[256], yaml[512];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	kubeconfig(fake_http_url(f), "    token: s3cret-token\n", kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_int_eq(ops()->delete_node(in.state, "n1", &err), 0);
	const struct fake_http_record *r = fake_http_request(f, 0);
	ck_assert_str_eq(fake_http_record_header(r, "Authorization"), "Bearer s3cret-token");
	ck_assert_ptr_null(fake_http_failure(f));
	/* Plain HTTP is said out loud; the token never reaches the log. */
	ck_assert_ptr_nonnull(strstr(logbuf, "plain HTTP"));
	ck_assert_ptr_null(strstr(logbuf, "s3cret-token"));
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(token_file_reread_after_401)
{
	const struct fake_http_step script[] = {
	    delete_node_ok,
	    {.method = "DELETE",
	     .path = "/api/v1/nodes/n1",
	     .status = 401,
	     .body = "{\"kind\":\"Status\",\"message\":\"Unauthorized\"}"},
	    delete_node_ok,
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	char kc[256], tok[256], yaml[512], user[512];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	write_file("token", "first\n", tok, sizeof(tok));
	snprintf(user, sizeof(user), "    tokenFile: %s\n", tok);
	kubeconfig(fake_http_url(f), user, kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	/* The token rotates on disk; the server refuses the old one; kerf reads the new one. */
	write_file("token", "second\n", tok, sizeof(tok));
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	ck_assert_uint_eq(fake_http_n_requests(f), 3);
	ck_assert_str_eq(fake_http_record_header(fake_http_request(f, 0), "Authorization"),
			 "Bearer first");
	ck_assert_str_eq(fake_http_record_header(fake_http_request(f, 1), "Authorization"),
			 "Bearer first");
	ck_assert_str_eq(fake_http_record_header(fake_http_request(f, 2), "Authorization"),
			 "Bearer second");
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

/* An exec plugin: a shell script that counts its runs and prints an ExecCredential. */
static void exec_plugin(const char *api_version, const char *token, const char *expiry, char *user,
			size_t size)
{
	char script[1024], path[256];
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "echo run >> %s/exec-runs\n"
		 "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
		 "test \"$EXTRA\" = yes || exit 4\n"
		 "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		 "\"status\":{\"token\":\"%s\"%s%s%s}}'\n",
		 tmpdir, api_version, token, expiry ? ",\"expirationTimestamp\":\"" : "",
		 expiry ? expiry : "", expiry ? "\"" : "");
	write_file("get-token.sh", script, path, sizeof(path));
	ck_assert_int_eq(chmod(path, 0755), 0);
	snprintf(user, size,
		 "    exec:\n      apiVersion: %s\n      command: %s\n      args: [\"--x\"]\n"
		 "      env:\n      - name: EXTRA\n        value: \"yes\"\n",
		 api_version, path);
}

static int exec_runs(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/exec-runs", tmpdir);
	FILE *f = fopen(path, "r");
	int n = 0, ch;
	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static const char *const exec_versions[] = {"client.authentication.k8s.io/v1",
					    "client.authentication.k8s.io/v1beta1"};

START_TEST(exec_credential_cached_until_expiry)
{
	const struct fake_http_step script[] = {delete_node_ok, delete_node_ok};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	char kc[256], yaml[512], user[1024];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	/* Valid for years: one run serves both requests. */
	exec_plugin(exec_versions[_i], "from-exec", "2999-01-01T00:00:00Z", user, sizeof(user));
	kubeconfig(fake_http_url(f), user, kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	ck_assert_str_eq(fake_http_record_header(fake_http_request(f, 1), "Authorization"),
			 "Bearer from-exec");
	ck_assert_int_eq(exec_runs(), 1);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(exec_credential_refreshed_when_expired)
{
	const struct fake_http_step script[] = {delete_node_ok, delete_node_ok};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	char kc[256], yaml[512], user[1024];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	/* Expired as soon as it is read: every request asks the plugin again. */
	exec_plugin(exec_versions[0], "short-lived", "2000-01-01T00:00:00Z", user, sizeof(user));
	kubeconfig(fake_http_url(f), user, kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->delete_node(in.state, "n1", &err) == 0, "%s", err.message);
	ck_assert_int_eq(exec_runs(), 2);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(exec_credential_wrong_version)
{
	struct fake_http *f = fake_http_start(&delete_node_ok, 1);
	char kc[256], yaml[512], user[1024];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	/* The kubeconfig asks for v1; the plugin answers v1beta1. */
	exec_plugin(exec_versions[1], "t", NULL, user, sizeof(user));
	char *v = strstr(user, "v1beta1");
	ck_assert_ptr_nonnull(v);
	memmove(v + 2, v + 7, strlen(v + 7) + 1);
	kubeconfig(fake_http_url(f), user, kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_int_eq(ops()->delete_node(in.state, "n1", &err), KERF_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err.message, "apiVersion"));
	ck_assert_uint_eq(fake_http_n_requests(f), 0);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

/* ------------------------------------------------------------ kubeconfig */

static struct kube_conn *load(const char *kubeconfig_path, const char *context,
			      struct kerf_error *err, int *rc)
{
	struct kerf_host *h = host_new("cluster/kube", NULL, NULL, NULL);
	struct kube_conn *c = NULL;
	*rc = kube_conn_load(h, kubeconfig_path, context, "/nonexistent", &c, err);
	host_free(h);
	return c;
}

START_TEST(kubeconfig_merge)
{
	char a[256], b[256], list[600];
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	/* kubectl's rules: the first file to name a thing keeps it. */
	write_file("a.yaml",
		   "current-context: prod\n"
		   "contexts:\n- name: prod\n  context: {cluster: east, user: admin}\n"
		   "users:\n- name: admin\n  user:\n    client-certificate: certs/admin.crt\n"
		   "    client-key: /abs/admin.key\n",
		   a, sizeof(a));
	write_file("b.yaml",
		   "current-context: dev\n"
		   "contexts:\n- name: prod\n  context: {cluster: west, user: nobody}\n"
		   "- name: dev\n  context: {cluster: west, namespace: team}\n"
		   "clusters:\n- name: east\n  cluster:\n    server: https://east.example:6443/\n"
		   "    certificate-authority-data: "
		   "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
		   "- name: west\n  cluster:\n    server: https://west.example\n"
		   "    insecure-skip-tls-verify: true\n"
		   "users:\n- name: admin\n  user: {token: ignored}\n",
		   b, sizeof(b));
	snprintf(list, sizeof(list), "%s/missing.yaml:%s:%s", tmpdir, a, b);
	setenv("KUBECONFIG", list, 1);
	struct kube_conn *c = load(NULL, NULL, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.message);
	ck_assert_str_eq(c->server, "https://east.example:6443");
	ck_assert_str_eq(c->ca_pem, "-----BEGIN CERTIFICATE-----\n");
	char want[300];
	snprintf(want, sizeof(want), "%s/certs/admin.crt", tmpdir);
	ck_assert_str_eq(c->cert_file, want);
	ck_assert_str_eq(c->key_file, "/abs/admin.key");
	ck_assert_ptr_null(c->token);
	ck_assert_str_eq(c->namespace_, "default");
	kube_conn_free(c);

	/* A named context instead of current-context. */
	c = load(NULL, "dev", &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.message);
	ck_assert_str_eq(c->server, "https://west.example");
	ck_assert(c->insecure);
	ck_assert_str_eq(c->namespace_, "team");
	kube_conn_free(c);

	c = load(NULL, "nope", &err, &rc);
	ck_assert_int_eq(rc, KERF_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "no context \"nope\""));
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(kubeconfig_errors_name_the_place)
{
	char a[256];
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	write_file("bad.yaml",
		   "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		   "clusters:\n- name: c\n  cluster: {server: \"https://h\"}\n"
		   "users:\n- name: u\n  user:\n    client-certificate-data: \"!!notbase64\"\n",
		   a, sizeof(a));
	ck_assert_ptr_null(load(a, NULL, &err, &rc));
	ck_assert_int_eq(rc, KERF_E_CONFIG);
	ck_assert_msg(strstr(err.message, "user.client-certificate-data: not valid base64") &&
			  strstr(err.message, "bad.yaml:11:"),
		      "%s", err.message);

	write_file("syntax.yaml", "clusters: [\n", a, sizeof(a));
	ck_assert_ptr_null(load(a, NULL, &err, &rc));
	ck_assert_int_eq(rc, KERF_E_PARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "syntax.yaml:"));
}
END_TEST

START_TEST(in_cluster)
{
	char p[512], sa[300];
	struct kerf_error err = KERF_ERROR_INIT;
	struct kube_conn *c = NULL;
	int rc;

	snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
	ck_assert_int_eq(mkdir(sa, 0700), 0);
	write_file("sa/token", "sa-token\n", p, sizeof(p));
	write_file("sa/namespace", "karpenter\n", p, sizeof(p));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct kerf_host *h = host_new("cluster/kube", NULL, NULL, NULL);
	rc = kube_conn_load(h, NULL, NULL, sa, &c, &err);
	ck_assert_msg(rc == 0, "%s", err.message);
	ck_assert_str_eq(c->server, "https://10.96.0.1:443");
	snprintf(p, sizeof(p), "%s/token", sa);
	ck_assert_str_eq(c->token_file, p);
	snprintf(p, sizeof(p), "%s/ca.crt", sa);
	ck_assert_str_eq(c->ca_file, p);
	ck_assert_str_eq(c->namespace_, "karpenter");
	kube_conn_free(c);
	/* No token: refused at once rather than at the first request. */
	snprintf(p, sizeof(p), "%s/token", sa);
	ck_assert_int_eq(unlink(p), 0);
	c = NULL;
	ck_assert_int_ne(kube_conn_load(h, NULL, NULL, sa, &c, &err), 0);
	ck_assert_ptr_null(c);
	host_free(h);
}
END_TEST

START_TEST(insecure_warns)
{
	struct fake_http *f = fake_http_start(&delete_node_ok, 1);
	char kc[256], yaml[512], text[1024];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(text, sizeof(text),
		 "current-context: t\ncontexts:\n- name: t\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster:\n    server: %s\n"
		 "    insecure-skip-tls-verify: true\n",
		 fake_http_url(f));
	write_file("kc", text, kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_ptr_nonnull(strstr(logbuf, "insecure-skip-tls-verify is set"));
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

/* --------------------------------------------------------------- writes */

static void plugin_for(struct fake_http *f, struct plugin_instance *in)
{
	char kc[256], yaml[512];
	struct kerf_error err = KERF_ERROR_INIT;
	kubeconfig(fake_http_url(f), "    token: t\n", kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\n", kc);
	ck_assert_msg(make(yaml, in, &err) == 0, "%s", err.message);
}

START_TEST(eviction_answers)
{
	const struct fake_http_header retry[] = {{"Retry-After", "7"}, {NULL, NULL}};
	const struct fake_http_step script[] = {
	    {.method = "POST",
	     .path = "/api/v1/namespaces/web/pods/a/eviction",
	     .status = 201,
	     .body = "{\"kind\":\"Status\",\"status\":\"Success\"}"},
	    {.method = "POST",
	     .path = "/api/v1/namespaces/web/pods/b/eviction",
	     .status = 429,
	     .headers = retry,
	     .body = "{\"kind\":\"Status\",\"message\":\"Cannot evict pod as it would violate the "
		     "pod's disruption budget.\"}"},
	    {.method = "POST",
	     .path = "/api/v1/namespaces/web/pods/c/eviction",
	     .status = 404,
	     .body = "{\"kind\":\"Status\",\"message\":\"pods \\\"c\\\" not found\"}"},
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	plugin_for(f, &in);
	ck_assert_int_eq(ops()->evict_pod(in.state, "web", "a", &err), 0);
	json_t *body = json_loads(fake_http_request(f, 0)->body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(body, "apiVersion")), "policy/v1");
	ck_assert_str_eq(json_string_value(json_object_get(body, "kind")), "Eviction");
	json_decref(body);
	ck_assert_int_eq(ops()->evict_pod(in.state, "web", "b", &err), KERF_E_THROTTLED);
	ck_assert_int_eq(err.retry_after_ms, 7000);
	ck_assert_ptr_nonnull(strstr(err.message, "disruption budget"));
	ck_assert_int_eq(ops()->evict_pod(in.state, "web", "c", &err), KERF_E_NOTFOUND);
	ck_assert_ptr_null(fake_http_failure(f));
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(node_patch_conflict)
{
	const struct fake_http_step script[] = {
	    {.method = "PATCH",
	     .path = "/api/v1/nodes/n1",
	     .status = 409,
	     .body = "{\"kind\":\"Status\",\"message\":\"the object has been modified\"}"},
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	plugin_for(f, &in);
	struct kerf_node *n = kerf_node_new();
	n->meta->name = strdup("n1");
	n->meta->resource_version = strdup("41");
	kerf_labels_set(&n->meta->labels, "team", "a");
	struct kerf_taint *t = kerf_taints_append(&n->taints);
	t->key = strdup("karpenter.sh/disrupted");
	t->effect = KERF_EFFECT_NO_SCHEDULE;
	n->unschedulable = true;
	ck_assert_int_eq(ops()->update_node(in.state, n, NULL, &err), KERF_E_CONFLICT);
	const struct fake_http_record *r = fake_http_request(f, 0);
	ck_assert_str_eq(fake_http_record_header(r, "Content-Type"),
			 "application/merge-patch+json");
	json_t *body = json_loads(r->body, 0, NULL);
	ck_assert_str_eq(json_string_value(
			     json_object_get(json_object_get(body, "metadata"), "resourceVersion")),
			 "41");
	json_t *spec = json_object_get(body, "spec");
	ck_assert(json_is_true(json_object_get(spec, "unschedulable")));
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(spec, "taints"), 0), "effect")),
			 "NoSchedule");
	json_decref(body);
	kerf_node_free(n);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(nodeclaim_create_as_karpenter_writes_it)
{
	const char *stored =
	    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\",\"metadata\":{\"name\":"
	    "\"default-x1\",\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"labels\":{\"karpenter.sh/"
	    "nodepool\":\"default\"},\"finalizers\":[\"karpenter.sh/termination\"]},\"spec\":{"
	    "\"nodeClassRef\":{\"group\":\"karpenter.k8s.aws\",\"kind\":\"EC2NodeClass\",\"name\":"
	    "\"default\"},\"requirements\":[{\"key\":\"node.kubernetes.io/instance-type\","
	    "\"operator\":\"In\",\"values\":[\"m5.large\"]}],\"resources\":{\"requests\":{\"cpu\":"
	    "\"1500m\"}}}}";
	const struct fake_http_step script[] = {
	    {.method = "POST",
	     .path = "/apis/karpenter.sh/v1/nodeclaims",
	     .status = 201,
	     .body = stored},
	    {.method = "POST",
	     .path = "/apis/karpenter.sh/v1/nodeclaims",
	     .status = 409,
	     .body = "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\"}"},
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	plugin_for(f, &in);
	struct kerf_nodeclaim *c = kerf_nodeclaim_new(), *out = NULL;
	c->meta->name = strdup("default-x1");
	c->nodepool = strdup("default");
	c->meta->finalizers = calloc(1, sizeof(char *));
	c->meta->finalizers[0] = strdup("karpenter.sh/termination");
	c->meta->n_finalizers = 1;
	c->node_class_ref->group = strdup("karpenter.k8s.aws");
	c->node_class_ref->kind = strdup("EC2NodeClass");
	c->node_class_ref->name = strdup("default");
	struct kerf_requirement *q = kerf_requirements_append(&c->requirements);
	q->key = strdup("node.kubernetes.io/instance-type");
	kerf_requirement_add_value(q, "m5.large");
	q->min_values = 1;
	kerf_resources_set(&c->resource_requests, "cpu", 1500, NULL);
	c->expire_after_ms = 720LL * 3600 * 1000;
	ck_assert_msg(ops()->create_nodeclaim(in.state, c, &out, &err) == 0, "%s", err.message);
	ck_assert_str_eq(out->meta->uid, "u-1");
	ck_assert_str_eq(out->meta->resource_version, "7");
	json_t *body = json_loads(fake_http_request(f, 0)->body, 0, NULL);
	json_t *md = json_object_get(body, "metadata"), *spec = json_object_get(body, "spec");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(md, "labels"),
							   "karpenter.sh/nodepool")),
			 "default");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(md, "finalizers"), 0)),
			 "karpenter.sh/termination");
	json_t *req = json_array_get(json_object_get(spec, "requirements"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(req, "operator")), "In");
	ck_assert_int_eq(json_integer_value(json_object_get(req, "minValues")), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(spec, "resources"), "requests"), "cpu")),
	    "1500m");
	ck_assert_str_eq(json_string_value(json_object_get(spec, "expireAfter")), "720h0m0s");
	json_decref(body);
	kerf_nodeclaim_free(out);
	ck_assert_int_eq(ops()->create_nodeclaim(in.state, c, NULL, &err), KERF_E_CONFLICT);
	kerf_nodeclaim_free(c);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

START_TEST(event_recorded)
{
	const struct fake_http_step script[] = {
	    {.method = "POST",
	     .path = "/api/v1/namespaces/web/events",
	     .status = 201,
	     .body = "{}"},
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;

	plugin_for(f, &in);
	struct kerf_event *ev = kerf_event_new();
	ev->kind = KERF_OBJ_POD;
	ev->namespace_ = "web";
	ev->name = "web-1";
	ev->uid = "uid-9";
	ev->type = "Warning";
	ev->reason = "FailedScheduling";
	ev->message = "no NodePool fits: 8 GPUs requested";
	ck_assert_int_eq(ops()->emit_event(in.state, ev, &err), 0);
	json_t *body = json_loads(fake_http_request(f, 0)->body, 0, NULL);
	json_t *io = json_object_get(body, "involvedObject");
	ck_assert_str_eq(json_string_value(json_object_get(io, "kind")), "Pod");
	ck_assert_str_eq(json_string_value(json_object_get(io, "uid")), "uid-9");
	ck_assert_str_eq(json_string_value(json_object_get(body, "reason")), "FailedScheduling");
	ck_assert_str_eq(json_string_value(json_object_get(body, "type")), "Warning");
	json_decref(body);
	kerf_event_free(ev);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

/* ------------------------------------------------------ host: run_command */

START_TEST(host_run_command)
{
	struct kerf_host *h = host_new("cluster/kube", NULL, NULL, NULL);
	struct kerf_error err = KERF_ERROR_INIT;
	char *out = NULL;
	size_t len = 0;
	int status = -1;

	const char *echo[] = {"sh", "-c", "printf '%s' \"$KERF_X\"; echo oops >&2; exit 3", NULL};
	const char *env[] = {"KERF_X=from-env", NULL};
	ck_assert_int_eq(h->run_command(h->ctx, echo, env, 0, 0, &out, &len, &status, &err), 0);
	ck_assert_str_eq(out, "from-env");
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(status, 3);
	h->free(h->ctx, out);
	/* More output than allowed: the program is stopped, nothing is returned. */
	const char *lots[] = {"sh", "-c", "yes | head -c 100000", NULL};
	out = NULL;
	ck_assert_int_eq(h->run_command(h->ctx, lots, NULL, 0, 1000, &out, &len, &status, &err),
			 KERF_E_RANGE);
	ck_assert_ptr_null(out);
	/* A program that outlives its time is killed (it would sleep a minute). */
	const char *slow[] = {"sleep", "60", NULL};
	ck_assert_int_eq(h->run_command(h->ctx, slow, NULL, 200, 0, &out, &len, &status, &err),
			 KERF_E_TIMEOUT);
	const char *none[] = {"/nonexistent/kerf-helper", NULL};
	ck_assert_int_eq(h->run_command(h->ctx, none, NULL, 0, 0, &out, &len, &status, &err),
			 KERF_E_IO);
	host_free(h);
}
END_TEST

/* ------------------------------------------------------------ rate limit */

START_TEST(rate_limit_bucket)
{
	struct kube_bucket b;

	/* client-go's defaults: a burst of 10 at once, then 5 a second. */
	kube_bucket_init(&b, 5, 10, 1000);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(kube_bucket_take(&b, 1000), 0);
	ck_assert_int_eq(kube_bucket_take(&b, 1000), 200);
	ck_assert_int_eq(kube_bucket_take(&b, 1100), 100);
	ck_assert_int_eq(kube_bucket_take(&b, 1200), 0);
	ck_assert_int_eq(kube_bucket_take(&b, 1200), 200);
	/* A long quiet spell refills to the burst, no further. */
	ck_assert_int_eq(kube_bucket_take(&b, 100000), 0);
	int taken = 1;
	while (kube_bucket_take(&b, 100000) == 0)
		taken++;
	ck_assert_int_eq(taken, 10);
	/* Three a second: the wait rounds up, never down to a busy loop. */
	kube_bucket_init(&b, 3, 1, 0);
	ck_assert_int_eq(kube_bucket_take(&b, 0), 0);
	ck_assert_int_eq(kube_bucket_take(&b, 0), 334);
	ck_assert_int_eq(kube_bucket_take(&b, 333), 1);
	ck_assert_int_eq(kube_bucket_take(&b, 334), 0);
}
END_TEST

START_TEST(read_retries_429_after_retry_after)
{
	const struct fake_http_header retry[] = {{"Retry-After", "0"}, {NULL, NULL}};
	const char *lease =
	    "/apis/coordination.k8s.io/v1/namespaces/kerf/leases/kerf-leader-election";
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = lease,
	     .status = 429,
	     .headers = retry,
	     .body = "{\"kind\":\"Status\",\"message\":\"too many requests\"}"},
	    {.method = "GET", .path = lease, .status = 404, .body = "{\"kind\":\"Status\"}"},
	    {.method = "POST",
	     .path = "/apis/coordination.k8s.io/v1/namespaces/kerf/leases",
	     .status = 201,
	     .body = "{}"},
	};
	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
	char kc[256], yaml[512];
	struct plugin_instance in;
	struct kerf_error err = KERF_ERROR_INIT;
	bool held = false;

	kubeconfig(fake_http_url(f), "    token: t\n", kc, sizeof(kc));
	snprintf(yaml, sizeof(yaml),
		 "kubeconfig: %s\nleader_election: {enabled: true, retry_period: 10m}\n", kc);
	ck_assert_msg(make(yaml, &in, &err) == 0, "%s", err.message);
	ck_assert_msg(ops()->acquire_lease(in.state, "me", 15000, &held, &err) == 0, "%s",
		      err.message);
	ck_assert(held);
	ck_assert_ptr_null(fake_http_failure(f));
	ck_assert_uint_eq(fake_http_pending(f), 0);
	/* The Lease it made names kerf as holder for the configured 15 s. */
	json_t *body = json_loads(fake_http_request(f, 2)->body, 0, NULL);
	json_t *spec = json_object_get(body, "spec");
	ck_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), "me");
	ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 15);
	json_decref(body);
	/* Asked again within retry_period: the answer stands, no request is made. */
	ck_assert_int_eq(ops()->acquire_lease(in.state, "me", 15000, &held, &err), 0);
	ck_assert(held);
	ck_assert_uint_eq(fake_http_n_requests(f), 3);
	instance_destroy(&in);
	fake_http_stop(f);
}
END_TEST

/* ------------------------------------------------------------- decoding */

START_TEST(malformed_objects_name_the_field)
{
	struct kerf_host *h = host_new("cluster/kube", NULL, NULL, NULL);
	struct kerf_error err = KERF_ERROR_INIT;
	void *out = NULL;
	static const struct {
		kerf_object_kind kind;
		const char *json;
		const char *field;
	} cases[] = {
	    {KERF_OBJ_NODE,
	     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"spec\":{"
	     "\"taints\":[{\"key\":\"k\",\"effect\":\"Sometimes\"}]}}",
	     "spec.taints[0].effect"},
	    {KERF_OBJ_NODE,
	     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{"
	     "\"allocatable\":{\"cpu\":\"lots\"}}}",
	     "status.allocatable.cpu"},
	    {KERF_OBJ_POD,
	     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
	     "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"memory\":\"-1\"}}}]}}",
	     "spec.containers[0].resources.requests[memory]"},
	    {KERF_OBJ_NODECLAIM,
	     "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\",\"metadata\":{\"name\":"
	     "\"c\"},\"spec\":{\"nodeClassRef\":{\"group\":\"g\",\"kind\":\"K\",\"name\":\"n\"},"
	     "\"requirements\":[{\"key\":\"k\",\"operator\":\"Maybe\"}]}}",
	     "spec.requirements[0].operator"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j =
		    kube_json_parse("t", cases[i].json, strlen(cases[i].json), 1 << 20, &err);
		ck_assert_msg(j != NULL, "%s", err.message);
		int rc = kube_decode(h, cases[i].kind, "GET /x", j, &out, &err);
		json_decref(j);
		ck_assert_int_eq(rc, KERF_E_CONFIG);
		ck_assert_msg(strstr(err.message, cases[i].field), "case %zu: %s", i, err.message);
	}
	/* JSON beyond the limits is refused before it is decoded. */
	char deep[400];
	size_t n = 0;
	for (int d = 0; d < KUBE_MAX_DEPTH + 1; d++)
		deep[n++] = '[';
	for (int d = 0; d < KUBE_MAX_DEPTH + 1; d++)
		deep[n++] = ']';
	ck_assert_ptr_null(kube_json_parse("deep", deep, n, 1 << 20, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "nested deeper"));
	ck_assert_ptr_null(kube_json_parse("big", "{}", 2, 1, &err));
	ck_assert_int_eq(err.code, KERF_E_RANGE);
	ck_assert_ptr_null(kube_json_parse("bad", "{\"a\":", 5, 100, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "malformed JSON"));
	host_free(h);
}
END_TEST

START_TEST(list_pages_split_without_json)
{
	struct kube_page pg;
	const char *page =
	    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"42\","
	    "\"continue\":\"kc1.2\",\"remainingItemCount\":3},\"items\":[ {\"metadata\":{\"name\":"
	    "\"a\",\"annotations\":{\"x\":\"} ] \\\" {\"}},\"spec\":{}} , {\"apiVersion\":\"v1\","
	    "\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"}},{}]}";
	ck_assert_int_eq(kube_page_scan(page, strlen(page), &pg), 0);
	ck_assert_uint_eq(pg.n, 3);
	ck_assert_str_eq(pg.cont, "kc1.2");
	ck_assert_str_eq(pg.resource_version, "42");
	/* Each span is exactly one item, braces inside strings notwithstanding. */
	ck_assert_int_eq(page[pg.items[0].off], '{');
	ck_assert_int_eq(page[pg.items[0].off + pg.items[0].len - 1], '}');
	json_t *j = json_loadb(page + pg.items[0].off, pg.items[0].len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(json_object_get(j, "metadata"), "annotations"), "x")),
			 "} ] \" {");
	json_decref(j);
	ck_assert(!pg.items[0].typed);
	ck_assert(pg.items[1].typed);
	ck_assert_uint_eq(pg.items[2].len, 2);
	kube_page_clear(&pg);

	/* Pages it does not take apart go the JSON way, which says what is wrong. */
	static const char *const refused[] = {
	    "{\"items\":[{\"a\":1}",			  /* cut short */
	    "{\"items\":{}}",				  /* not an array */
	    "{\"metadata\":{\"continue\":\"a\\u0062\"}}", /* an escape in the token */
	    "{\"items\":[]} x",				  /* trailing text */
	    "[]",
	    "{\"a\" 1}",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(kube_page_scan(refused[i], strlen(refused[i]), &pg) == -1, "%s",
			      refused[i]);
	char deep[300];
	size_t n = 0;
	n += (size_t)snprintf(deep, sizeof(deep), "{\"items\":[");
	for (int d = 0; d < KUBE_MAX_DEPTH; d++)
		deep[n++] = '[';
	for (int d = 0; d < KUBE_MAX_DEPTH; d++)
		deep[n++] = ']';
	deep[n++] = ']';
	deep[n++] = '}';
	ck_assert_int_eq(kube_page_scan(deep, n, &pg), -1);
	ck_assert_int_eq(kube_page_scan("{\"items\":null}", 14, &pg), 0);
	ck_assert_uint_eq(pg.n, 0);
	kube_page_clear(&pg);
}
END_TEST

START_TEST(api_objects_decode_like_manifests)
{
	struct kerf_host *h = host_new("cluster/kube", NULL, NULL, NULL);
	struct kerf_error err = KERF_ERROR_INIT;
	void *out = NULL;
	const char *node =
	    "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"ip-10-0-0-1\","
	    "\"uid\":\"u\",\"resourceVersion\":\"12\",\"creationTimestamp\":\"2026-12-07T10:00:"
	    "00Z\",\"labels\":{\"karpenter.sh/nodepool\":\"default\"},\"managedFields\":[]},"
	    "\"spec\":{\"providerID\":\"aws:///us-east-1a/i-1\",\"podCIDR\":\"10.0.0.0/24\","
	    "\"taints\":[{\"key\":\"karpenter.sh/unregistered\",\"effect\":\"NoExecute\"}]},"
	    "\"status\":{\"capacity\":{\"cpu\":\"2\",\"memory\":\"8Gi\",\"pods\":\"29\","
	    "\"hugepages-2Mi\":\"0\"},\"allocatable\":{\"cpu\":\"1930m\",\"memory\":\"7Gi\","
	    "\"pods\":\"29\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	    "\"nodeInfo\":{\"kubeletVersion\":\"v1.31\"},\"addresses\":[]}}";
	json_t *j = kube_json_parse("t", node, strlen(node), 1 << 20, &err);
	ck_assert_msg(kube_decode(h, KERF_OBJ_NODE, "GET /api/v1/nodes", j, &out, &err) == 0, "%s",
		      err.message);
	json_decref(j);
	struct kerf_node *n = out;
	ck_assert_str_eq(n->provider_id, "aws:///us-east-1a/i-1");
	ck_assert(n->ready);
	ck_assert_int_eq(n->allocatable.cpu_millis, 1930);
	ck_assert_int_eq(n->capacity.memory_bytes, 8LL << 30);
	ck_assert_uint_eq(n->taints.n, 1);
	ck_assert_int_eq(n->taints.items[0]->effect, KERF_EFFECT_NO_EXECUTE);
	ck_assert_str_eq(n->meta->resource_version, "12");
	kerf_node_free(n);
	host_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kube");
	TCase *tc = tcase_create("connection");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, token_from_kubeconfig);
	tcase_add_test(tc, token_file_reread_after_401);
	tcase_add_loop_test(tc, exec_credential_cached_until_expiry, 0, 2);
	tcase_add_test(tc, exec_credential_refreshed_when_expired);
	tcase_add_test(tc, exec_credential_wrong_version);
	tcase_add_test(tc, kubeconfig_merge);
	tcase_add_test(tc, kubeconfig_errors_name_the_place);
	tcase_add_test(tc, in_cluster);
	tcase_add_test(tc, insecure_warns);
	suite_add_tcase(s, tc);
	tc = tcase_create("writes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, eviction_answers);
	tcase_add_test(tc, node_patch_conflict);
	tcase_add_test(tc, nodeclaim_create_as_karpenter_writes_it);
	tcase_add_test(tc, event_recorded);
	tcase_add_test(tc, rate_limit_bucket);
	tcase_add_test(tc, host_run_command);
	tcase_add_test(tc, read_retries_429_after_retry_after);
	suite_add_tcase(s, tc);
	tc = tcase_create("decoding");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, malformed_objects_name_the_field);
	tcase_add_test(tc, api_objects_decode_like_manifests);
	tcase_add_test(tc, list_pages_split_without_json);
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
