/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fake Kubernetes API server (tests/fakes/fake_kube.h) answers as
 * kube-apiserver does, and its faults happen when asked.  Requests go
 * through libcurl directly, not kerf's HTTP service, so the fake is
 * checked on its own.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "../fakes/fake_kube.h"
#include "util.h"

/* ------------------------------------------------------------ client */

struct resp {
	long status;
	json_t *json; /* NULL when the body is not JSON */
	struct strbuf body;
	char retry_after[16];
	CURLcode rc;
	size_t lines;	  /* complete lines received */
	size_t max_lines; /* > 0: stop reading after that many */
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	sb_append(&r->body, p, sz * n);
	for (size_t i = 0; i < sz * n; i++)
		r->lines += p[i] == '\n';
	if (r->max_lines && r->lines >= r->max_lines)
		return 0; /* enough: the test stops the stream */
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	if (sz * n > 13 && strncasecmp(p, "Retry-After: ", 13) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
			 (int)strcspn(p + 13, "\r\n"), p + 13);
	return sz * n;
}

struct creds {
	bool use_ca, use_cert;
	const char *token;
};

static struct resp req_full(struct fake_kube *f, const struct creds *c, const char *method,
			    const char *path, const char *ctype, const char *body, size_t max_lines)
{
	struct resp r = {.max_lines = max_lines};
	sb_init(&r.body);
	CURL *h = curl_easy_init();
	char url[2048];
	snprintf(url, sizeof(url), "%s%s", fake_kube_url(f), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	/* A hang guard, not an assertion: every test ends long before. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	struct curl_slist *hdr = NULL;
	char line[512];
	if (ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		hdr = curl_slist_append(hdr, line);
	}
	if (c && c->token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->token);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (c && c->use_ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, fake_kube_ca_file(f));
	if (c && c->use_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, fake_kube_client_cert_file(f));
		curl_easy_setopt(h, CURLOPT_SSLKEY, fake_kube_client_key_file(f));
	}
	r.rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	r.json = json_loadb(r.body.buf ? r.body.buf : "", r.body.len, 0, NULL);
	return r;
}

static struct resp req(struct fake_kube *f, const char *method, const char *path, const char *ctype,
		       const char *body)
{
	return req_full(f, NULL, method, path, ctype, body, 0);
}

static void resp_free(struct resp *r)
{
	json_decref(r->json);
	sb_free(&r->body);
}

static const char *jstr(const json_t *j, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
		j = json_object_get(j, seg);
	return json_string_value(j);
}

/* The JSON object on line i of a watch stream (new reference), or NULL. */
static json_t *line_json(const struct resp *r, size_t i)
{
	const char *p = r->body.buf ? r->body.buf : "";
	for (; i > 0 && p; i--) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	return json_loadb(p, strcspn(p, "\n"), 0, NULL);
}

static const char *const NODE_FMT =
    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%03d\","
    "\"labels\":{\"pool\":\"%s\"}}}";

static void put_nodes(struct fake_kube *f, int n)
{
	for (int i = 0; i < n; i++) {
		char buf[256];
		snprintf(buf, sizeof(buf), NODE_FMT, i, i % 2 ? "odd" : "even");
		ck_assert_int_eq(fake_kube_put(f, buf), 0);
	}
}

static const char POD[] = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
			  "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":"
			  "\"c\",\"image\":\"x\"}]}}";

/* ------------------------------------------------------------ tests */

START_TEST(t_discovery)
{
	struct fake_kube *f = fake_kube_start(NULL);
	ck_assert_ptr_nonnull(f);
	struct resp r = req(f, "GET", "/api", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "versions"), 0)),
			 "v1");
	resp_free(&r);
	r = req(f, "GET", "/apis", NULL, NULL);
	char *groups = json_dumps(r.json, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(groups, "\"groupVersion\":\"karpenter.sh/v1\""));
	ck_assert_ptr_nonnull(strstr(groups, "\"groupVersion\":\"policy/v1\""));
	ck_assert_ptr_nonnull(strstr(groups, "\"groupVersion\":\"coordination.k8s.io/v1\""));
	free(groups);
	resp_free(&r);
	r = req(f, "GET", "/apis/karpenter.sh/v1", NULL, NULL);
	char *res = json_dumps(r.json, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(res, "\"name\":\"nodeclaims/status\""));
	ck_assert_ptr_nonnull(strstr(res, "\"kind\":\"NodePool\""));
	free(res);
	resp_free(&r);
	r = req(f, "GET", "/api/v1", NULL, NULL);
	res = json_dumps(r.json, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(res, "\"name\":\"pods/eviction\""));
	ck_assert_ptr_nonnull(strstr(res, "\"version\":\"v1\",\"kind\":\"Eviction\""));
	free(res);
	resp_free(&r);
	r = req(f, "GET", "/apis/example.com/v1/things", NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(jstr(r.json, "kind"), "Status");
	resp_free(&r);

	/* An older server: policy/v1 gone, v1beta1 serving the same budgets. */
	fake_kube_hide(f, "policy/v1");
	ck_assert_int_eq(fake_kube_put(f, "{\"apiVersion\":\"policy/v1\",\"kind\":"
					  "\"PodDisruptionBudget\",\"metadata\":{\"name\":\"b\"}}"),
			 0);
	r = req(f, "GET", "/apis/policy/v1/poddisruptionbudgets", NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	r = req(f, "GET", "/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets/b", NULL,
		NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "apiVersion"), "policy/v1beta1");
	resp_free(&r);
	r = req(f, "PATCH", "/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets/b",
		"application/merge-patch+json", "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "apiVersion"), "policy/v1beta1");
	ck_assert_str_eq(jstr(r.json, "metadata.labels.a"), "b");
	resp_free(&r);
	r = req(f, "GET", "/api/v1", NULL, NULL);
	res = json_dumps(r.json, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(res, "\"version\":\"v1beta1\",\"kind\":\"Eviction\""));
	free(res);
	resp_free(&r);
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_create_get_update)
{
	struct fake_kube *f = fake_kube_start(NULL);
	struct resp r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", POD);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(jstr(r.json, "metadata.uid"));
	ck_assert_str_eq(jstr(r.json, "status.phase"), "Pending");
	resp_free(&r);
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", POD);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(jstr(r.json, "reason"), "AlreadyExists");
	resp_free(&r);
	r = req(f, "POST", "/api/v1/namespaces/nowhere/pods", "application/json", POD);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"Bad_Name\"}}");
	ck_assert_int_eq(r.status, 422);
	resp_free(&r);

	/* List items of built-in kinds carry no type; custom resources do. */
	r = req(f, "GET", "/api/v1/pods", NULL, NULL);
	ck_assert_str_eq(jstr(r.json, "kind"), "PodList");
	json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
	ck_assert_ptr_null(json_object_get(item, "kind"));
	ck_assert_str_eq(jstr(item, "metadata.name"), "p1");
	resp_free(&r);

	json_t *pod = fake_kube_get(f, "v1", "Pod", "default", "p1");
	ck_assert_ptr_nonnull(pod);
	char *stale = json_dumps(pod, JSON_COMPACT);
	json_object_set_new(json_object_get(pod, "metadata"), "labels",
			    json_pack("{s:s}", "app", "api"));
	char *fresh = json_dumps(pod, JSON_COMPACT);
	r = req(f, "PUT", "/api/v1/namespaces/default/pods/p1", "application/json", fresh);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "metadata.labels.app"), "api");
	ck_assert_str_ne(jstr(r.json, "metadata.resourceVersion"),
			 jstr(pod, "metadata.resourceVersion"));
	resp_free(&r);
	/* The same resourceVersion again is stale now. */
	r = req(f, "PUT", "/api/v1/namespaces/default/pods/p1", "application/json", stale);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(jstr(r.json, "reason"), "Conflict");
	resp_free(&r);
	free(stale);
	free(fresh);
	json_decref(pod);

	/* A custom resource's update must name its resourceVersion. */
	ck_assert_int_eq(fake_kube_put(f,
				       "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":"
				       "\"NodeClaim\",\"metadata\":{\"name\":\"c1\"},\"spec\":{}}"),
			 0);
	r = req(f, "PUT", "/apis/karpenter.sh/v1/nodeclaims/c1", "application/json",
		"{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\",\"metadata\":{\"name\":"
		"\"c1\"},\"spec\":{\"x\":1}}");
	ck_assert_int_eq(r.status, 422);
	resp_free(&r);
	/* Status goes through its subresource only. */
	r = req(f, "PATCH", "/apis/karpenter.sh/v1/nodeclaims/c1", "application/merge-patch+json",
		"{\"status\":{\"providerID\":\"sim://1\"}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(jstr(r.json, "status.providerID"));
	resp_free(&r);
	r = req(f, "PATCH", "/apis/karpenter.sh/v1/nodeclaims/c1/status",
		"application/merge-patch+json", "{\"status\":{\"providerID\":\"sim://1\"}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "status.providerID"), "sim://1");
	resp_free(&r);
	r = req(f, "PATCH", "/apis/karpenter.sh/v1/nodeclaims/c1",
		"application/strategic-merge-patch+json", "{\"metadata\":{}}");
	ck_assert_int_eq(r.status, 415);
	resp_free(&r);
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_patches_and_finalizers)
{
	struct fake_kube *f = fake_kube_start(NULL);
	ck_assert_int_eq(fake_kube_put(f,
				       "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
				       "{\"name\":\"n1\",\"labels\":{\"a\":\"1\"},\"finalizers\":"
				       "[\"x/y\"]},\"spec\":{}}"),
			 0);
	struct resp r =
	    req(f, "PATCH", "/api/v1/nodes/n1", "application/strategic-merge-patch+json",
		"{\"metadata\":{\"labels\":{\"b\":\"2\"},\"finalizers\":"
		"[\"karpenter.sh/termination\"]},\"spec\":{\"unschedulable\":true,"
		"\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "metadata.labels.a"), "1");
	ck_assert_str_eq(jstr(r.json, "metadata.labels.b"), "2");
	ck_assert_uint_eq(
	    json_array_size(json_object_get(json_object_get(r.json, "metadata"), "finalizers")), 2);
	ck_assert(json_is_true(json_object_get(json_object_get(r.json, "spec"), "unschedulable")));
	resp_free(&r);
	r = req(f, "PATCH", "/api/v1/nodes/n1", "application/json-patch+json",
		"[{\"op\":\"test\",\"path\":\"/metadata/labels/a\",\"value\":\"1\"},"
		"{\"op\":\"remove\",\"path\":\"/metadata/labels/a\"}]");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(jstr(r.json, "metadata.labels.a"));
	resp_free(&r);
	r = req(f, "PATCH", "/api/v1/nodes/n1", "application/json-patch+json",
		"[{\"op\":\"test\",\"path\":\"/metadata/labels/b\",\"value\":\"9\"}]");
	ck_assert_int_eq(r.status, 422);
	resp_free(&r);

	/* Delete with finalizers marks; removing the last one deletes. */
	r = req(f, "DELETE", "/api/v1/nodes/n1", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(jstr(r.json, "metadata.deletionTimestamp"));
	resp_free(&r);
	json_t *n = fake_kube_get(f, "v1", "Node", NULL, "n1");
	ck_assert_ptr_nonnull(jstr(n, "metadata.deletionTimestamp"));
	json_decref(n);
	r = req(f, "PATCH", "/api/v1/nodes/n1", "application/merge-patch+json",
		"{\"metadata\":{\"finalizers\":null}}");
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_ptr_null(fake_kube_get(f, "v1", "Node", NULL, "n1"));
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_binding_and_eviction)
{
	struct fake_kube *f = fake_kube_start(NULL);
	ck_assert_int_eq(fake_kube_put(f, POD), 0);
	const char *bind = "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":"
			   "\"p1\"},\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}";
	struct resp r =
	    req(f, "POST", "/api/v1/namespaces/default/pods/p1/binding", "application/json", bind);
	ck_assert_int_eq(r.status, 201);
	resp_free(&r);
	r = req(f, "POST", "/api/v1/namespaces/default/pods/p1/binding", "application/json", bind);
	ck_assert_int_eq(r.status, 409);
	resp_free(&r);
	json_t *pod = fake_kube_get(f, "v1", "Pod", "default", "p1");
	ck_assert_str_eq(jstr(pod, "spec.nodeName"), "n1");
	json_decref(pod);

	ck_assert_int_eq(
	    fake_kube_put(f, "{\"apiVersion\":\"policy/v1\",\"kind\":"
			     "\"PodDisruptionBudget\",\"metadata\":{\"name\":\"web\"},"
			     "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},"
			     "\"status\":{\"disruptionsAllowed\":0}}"),
	    0);
	const char *ev = "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":"
			 "{\"name\":\"p1\",\"namespace\":\"default\"}}";
	r = req(f, "POST", "/api/v1/namespaces/default/pods/p1/eviction", "application/json", ev);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(jstr(r.json, "reason"), "TooManyRequests");
	resp_free(&r);
	ck_assert_int_eq(
	    fake_kube_put(f, "{\"apiVersion\":\"policy/v1\",\"kind\":"
			     "\"PodDisruptionBudget\",\"metadata\":{\"name\":\"web\"},"
			     "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},"
			     "\"status\":{\"disruptionsAllowed\":1}}"),
	    0);
	r = req(f, "POST", "/api/v1/namespaces/default/pods/p1/eviction", "application/json", ev);
	ck_assert_int_eq(r.status, 201);
	resp_free(&r);
	/* A bound pod waits for its kubelet: terminating, not gone. */
	pod = fake_kube_get(f, "v1", "Pod", "default", "p1");
	ck_assert_ptr_nonnull(jstr(pod, "metadata.deletionTimestamp"));
	json_decref(pod);
	json_t *pdb = fake_kube_get(f, "policy/v1", "PodDisruptionBudget", "default", "web");
	ck_assert_int_eq(json_integer_value(
			     json_object_get(json_object_get(pdb, "status"), "disruptionsAllowed")),
			 0);
	json_decref(pdb);
	r = req(f, "DELETE", "/api/v1/namespaces/default/pods/p1?gracePeriodSeconds=0", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_ptr_null(fake_kube_get(f, "v1", "Pod", "default", "p1"));
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_list_pages)
{
	struct fake_kube *f = fake_kube_start(NULL);
	put_nodes(f, 25);
	struct strbuf seen;
	sb_init(&seen);
	char path[512] = "/api/v1/nodes?limit=10";
	int pages = 0;
	for (;;) {
		struct resp r = req(f, "GET", path, NULL, NULL);
		ck_assert_int_eq(r.status, 200);
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(r.json, "items"), i, it)
			sb_printf(&seen, "%s ", jstr(it, "metadata.name"));
		pages++;
		const char *cont = jstr(r.json, "metadata.continue");
		if (pages == 1)
			ck_assert_int_eq(
			    json_integer_value(json_object_get(json_object_get(r.json, "metadata"),
							       "remainingItemCount")),
			    15);
		if (!cont) {
			resp_free(&r);
			break;
		}
		/* Objects added meanwhile do not show: a continued list is a snapshot. */
		if (pages == 1)
			ck_assert_int_eq(fake_kube_put(f,
						       "{\"apiVersion\":\"v1\",\"kind\":\"Node\","
						       "\"metadata\":{\"name\":\"node-zzz\"}}"),
					 0);
		snprintf(path, sizeof(path), "/api/v1/nodes?limit=10&continue=%s", cont);
		resp_free(&r);
	}
	ck_assert_int_eq(pages, 3);
	ck_assert_ptr_null(strstr(seen.buf, "node-zzz"));
	ck_assert_ptr_nonnull(strstr(seen.buf, "node-000 node-001 "));
	ck_assert_ptr_nonnull(strstr(seen.buf, "node-024 "));
	sb_free(&seen);

	/* Selectors. */
	struct resp r = req(f, "GET", "/api/v1/nodes?labelSelector=pool%3Dodd", NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 12);
	resp_free(&r);
	r = req(f, "GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dnode-003", NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 1);
	resp_free(&r);

	/* A continue token from before a compaction is expired. */
	r = req(f, "GET", "/api/v1/nodes?limit=5", NULL, NULL);
	snprintf(path, sizeof(path), "/api/v1/nodes?limit=5&continue=%s",
		 jstr(r.json, "metadata.continue"));
	resp_free(&r);
	fake_kube_expire_watches(f);
	r = req(f, "GET", path, NULL, NULL);
	ck_assert_int_eq(r.status, 410);
	ck_assert_str_eq(jstr(r.json, "reason"), "Expired");
	resp_free(&r);
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_watch_resume_and_gone)
{
	struct fake_kube *f = fake_kube_start(NULL);
	put_nodes(f, 3);
	unsigned long long rv = fake_kube_resource_version(f);
	put_nodes(f, 2); /* node-000, node-001 again: MODIFIED */
	ck_assert_int_eq(fake_kube_delete(f, "v1", "Node", NULL, "node-002"), 0);
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/nodes?watch=1&resourceVersion=%llu", rv);
	struct resp r = req_full(f, NULL, "GET", path, NULL, NULL, 3);
	ck_assert_uint_ge(r.lines, 3);
	const char *want[] = {"MODIFIED", "MODIFIED", "DELETED"};
	const char *names[] = {"node-000", "node-001", "node-002"};
	for (size_t i = 0; i < 3; i++) {
		json_t *ev = line_json(&r, i);
		ck_assert_str_eq(jstr(ev, "type"), want[i]);
		ck_assert_str_eq(jstr(ev, "object.metadata.name"), names[i]);
		ck_assert_str_eq(jstr(ev, "object.kind"), "Node");
		json_decref(ev);
	}
	resp_free(&r);

	/* From "0": the current objects as ADDED, nothing else. */
	r = req_full(f, NULL, "GET", "/api/v1/nodes?watch=true&resourceVersion=0&timeoutSeconds=1",
		     NULL, NULL, 0);
	ck_assert_int_eq(r.rc, CURLE_OK);
	ck_assert_uint_eq(r.lines, 2);
	resp_free(&r);

	/* After compaction, the old resourceVersion is gone. */
	fake_kube_expire_watches(f);
	r = req_full(f, NULL, "GET", path, NULL, NULL, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.lines, 1);
	json_t *ev = line_json(&r, 0);
	ck_assert_str_eq(jstr(ev, "type"), "ERROR");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev, "object"), "code")),
			 410);
	json_decref(ev);
	resp_free(&r);
	fake_kube_stop(f);
}
END_TEST

struct bg_watch {
	struct fake_kube *f;
	const char *path;
	size_t max_lines;
	struct resp r;
};

static void *bg_watch_run(void *arg)
{
	struct bg_watch *b = arg;
	b->r = req_full(b->f, NULL, "GET", b->path, NULL, NULL, b->max_lines);
	return NULL;
}

static void wait_watches(struct fake_kube *f, unsigned n)
{
	for (int i = 0; i < 6000 && fake_kube_open_watches(f) < n; i++)
		usleep(10000);
	ck_assert_uint_ge(fake_kube_open_watches(f), n);
}

START_TEST(t_live_watch_and_bookmark)
{
	struct fake_kube *f = fake_kube_start(NULL);
	char path[256];
	snprintf(path, sizeof(path),
		 "/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion=%llu",
		 fake_kube_resource_version(f));
	struct bg_watch b = {f, path, 2, {0}};
	pthread_t t;
	pthread_create(&t, NULL, bg_watch_run, &b);
	wait_watches(f, 1);
	put_nodes(f, 1);
	fake_kube_bookmark(f);
	pthread_join(t, NULL);
	json_t *ev = line_json(&b.r, 0);
	ck_assert_str_eq(jstr(ev, "type"), "ADDED");
	json_decref(ev);
	ev = line_json(&b.r, 1);
	ck_assert_str_eq(jstr(ev, "type"), "BOOKMARK");
	char rv[32];
	snprintf(rv, sizeof(rv), "%llu", fake_kube_resource_version(f));
	ck_assert_str_eq(jstr(ev, "object.metadata.resourceVersion"), rv);
	json_decref(ev);
	resp_free(&b.r);
	fake_kube_stop(f);
}
END_TEST

/* A raw client that reads nothing until told, so the server's writes back
 * up and a drop finds an event half sent. */
static int raw_connect(struct fake_kube *f, const char *path)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)fake_kube_port(f))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char rq[512];
	int n = snprintf(rq, sizeof(rq), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	ck_assert_int_eq(write(s, rq, (size_t)n), n);
	return s;
}

START_TEST(t_drop_mid_event)
{
	struct fake_kube *f = fake_kube_start(NULL);
	unsigned long long rv = fake_kube_resource_version(f);
	/* More history than socket buffers hold (~12 MB). */
	char *pad = xmalloc(4097);
	memset(pad, 'x', 4096);
	pad[4096] = '\0';
	for (int i = 0; i < 3000; i++) {
		char *obj = xmalloc(4400);
		snprintf(obj, 4400,
			 "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n%d\","
			 "\"annotations\":{\"pad\":\"%s\"}}}",
			 i, pad);
		ck_assert_int_eq(fake_kube_put(f, obj), 0);
		free(obj);
	}
	free(pad);
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/nodes?watch=1&resourceVersion=%llu", rv);
	int s = raw_connect(f, path);
	wait_watches(f, 1);
	fake_kube_drop_streams(f);
	struct strbuf in;
	sb_init(&in);
	char buf[65536];
	ssize_t n;
	while ((n = read(s, buf, sizeof(buf))) > 0)
		sb_append(&in, buf, (size_t)n);
	close(s);
	/* Chunked, never terminated: the stream was cut, not ended. */
	ck_assert_ptr_nonnull(strstr(in.buf, "Transfer-Encoding: chunked"));
	ck_assert(in.len < 5 || memcmp(in.buf + in.len - 5, "0\r\n\r\n", 5) != 0);
	/* Decode the chunks: whole events, then half of one. */
	const char *p = strstr(in.buf, "\r\n\r\n") + 4;
	struct strbuf body;
	sb_init(&body);
	while (p < in.buf + in.len) {
		char *end;
		unsigned long len = strtoul(p, &end, 16);
		if (end == p || strncmp(end, "\r\n", 2) != 0 || len == 0)
			break;
		const char *data = end + 2;
		size_t avail = (size_t)(in.buf + in.len - data);
		sb_append(&body, data, len < avail ? len : avail);
		p = data + len + 2;
	}
	size_t lines = 0;
	for (size_t i = 0; i < body.len; i++)
		lines += body.buf[i] == '\n';
	ck_assert_uint_lt(lines, 3000);
	ck_assert_uint_gt(body.len, 0);
	ck_assert_int_ne(body.buf[body.len - 1], '\n');
	sb_free(&body);
	sb_free(&in);
	fake_kube_stop(f);
}
END_TEST

START_TEST(t_injected_faults)
{
	struct fake_kube *f = fake_kube_start(NULL);
	fake_kube_fail_next(f, "GET", "/api/v1/nodes", 429, 7, 2);
	for (int i = 0; i < 2; i++) {
		struct resp r = req(f, "GET", "/api/v1/nodes", NULL, NULL);
		ck_assert_int_eq(r.status, 429);
		ck_assert_str_eq(r.retry_after, "7");
		ck_assert_str_eq(jstr(r.json, "reason"), "TooManyRequests");
		resp_free(&r);
	}
	struct resp r = req(f, "GET", "/api/v1/nodes", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_uint_eq(fake_kube_requests(f, "GET", "/api/v1/nodes"), 3);
	ck_assert_uint_eq(fake_kube_requests(f, "POST", NULL), 0);

	fake_kube_answer_next(f, NULL, "/api/v1/pods", 200, "application/json", "{\"items\":[", 1);
	r = req(f, "GET", "/api/v1/pods", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.json);
	ck_assert_str_eq(r.body.buf, "{\"items\":[");
	resp_free(&r);

	/* Malformed and oversized bodies, as the apiserver answers them. */
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", "{\"metadata\":");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(jstr(r.json, "reason"), "BadRequest");
	resp_free(&r);
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", "[1,2]");
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	/* Nested deeper than any object: refused by the decoder's depth limit. */
	char *deep = xmalloc(20001);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", deep);
	ck_assert_int_eq(r.status, 400);
	resp_free(&r);
	free(deep);
	size_t big = 3u * 1024 * 1024 + 10;
	char *huge = xmalloc(big + 1);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	huge[big] = '\0';
	r = req(f, "POST", "/api/v1/namespaces/default/pods", "application/json", huge);
	ck_assert_int_eq(r.status, 413);
	ck_assert_str_eq(jstr(r.json, "reason"), "RequestEntityTooLarge");
	resp_free(&r);
	free(huge);
	fake_kube_stop(f);
}
END_TEST

/* The outcome of each of n requests under random faults, as a string. */
static char *fault_run(unsigned seed, int n)
{
	struct fake_kube *f = fake_kube_start(NULL);
	put_nodes(f, 2);
	fake_kube_random_faults(f, seed, 300);
	struct strbuf out;
	sb_init(&out);
	for (int i = 0; i < n; i++) {
		struct resp r =
		    req(f, "GET", "/api/v1/nodes?resourceVersion=1&limit=1", NULL, NULL);
		sb_printf(&out, "%ld ", r.status);
		resp_free(&r);
	}
	fake_kube_stop(f);
	return sb_detach(&out);
}

START_TEST(t_random_faults_repeat)
{
	char *a = fault_run(42, 40), *b = fault_run(42, 40);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "200 "));
	ck_assert(strstr(a, "429 ") || strstr(a, "410 "));
	free(a);
	free(b);
}
END_TEST

struct bg_req {
	struct fake_kube *f;
	struct resp r;
	_Atomic bool done;
};

static void *bg_req_run(void *arg)
{
	struct bg_req *b = arg;
	b->r = req(b->f, "GET", "/api/v1/nodes", NULL, NULL);
	b->done = true;
	return NULL;
}

START_TEST(t_delay_holds_answer)
{
	struct fake_kube *f = fake_kube_start(NULL);
	fake_kube_delay_ms(f, 600000);
	struct bg_req b = {f, {0}, false};
	pthread_t t;
	pthread_create(&t, NULL, bg_req_run, &b);
	for (int i = 0; i < 6000 && fake_kube_requests(f, "GET", "/api/v1/nodes") == 0; i++)
		usleep(10000);
	ck_assert_uint_eq(fake_kube_requests(f, "GET", "/api/v1/nodes"), 1);
	ck_assert(!b.done);
	fake_kube_stop(f); /* cuts the delay short: the request fails */
	pthread_join(t, NULL);
	ck_assert_int_ne(b.r.status, 200);
	resp_free(&b.r);
}
END_TEST

START_TEST(t_tls_and_auth)
{
	struct fake_kube_options o = {.tls = true, .client_certs = true, .token = "s3cret"};
	struct fake_kube *f = fake_kube_start(&o);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(strncmp(fake_kube_url(f), "https://127.0.0.1:", 18), 0);
	struct creds ok = {true, true, "s3cret"};
	struct resp r = req_full(f, &ok, "GET", "/api/v1/namespaces", NULL, NULL, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 3);
	resp_free(&r);
	struct creds no_token = {true, true, "wrong"};
	r = req_full(f, &no_token, "GET", "/api/v1/namespaces", NULL, NULL, 0);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	struct creds no_cert = {true, false, "s3cret"};
	r = req_full(f, &no_cert, "GET", "/api/v1/namespaces", NULL, NULL, 0);
	ck_assert_int_eq(r.status, 401);
	resp_free(&r);
	/* Without the CA the server's certificate does not verify. */
	struct creds no_ca = {false, true, "s3cret"};
	r = req_full(f, &no_ca, "GET", "/api/v1/namespaces", NULL, NULL, 0);
	ck_assert_int_ne(r.rc, CURLE_OK);
	resp_free(&r);

	FILE *kc = fopen(fake_kube_kubeconfig(f), "r");
	ck_assert_ptr_nonnull(kc);
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, kc);
	text[n] = '\0';
	fclose(kc);
	ck_assert_ptr_nonnull(strstr(text, fake_kube_url(f)));
	ck_assert_ptr_nonnull(strstr(text, fake_kube_ca_file(f)));
	ck_assert_ptr_nonnull(strstr(text, "token: \"s3cret\""));
	ck_assert_ptr_nonnull(strstr(text, fake_kube_client_key_file(f)));
	char *path = xstrdup(fake_kube_kubeconfig(f));
	fake_kube_stop(f);
	ck_assert_int_ne(access(path, F_OK), 0);
	free(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fake_kube");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_discovery);
	tcase_add_test(tc, t_create_get_update);
	tcase_add_test(tc, t_patches_and_finalizers);
	tcase_add_test(tc, t_binding_and_eviction);
	tcase_add_test(tc, t_list_pages);
	tcase_add_test(tc, t_watch_resume_and_gone);
	tcase_add_test(tc, t_live_watch_and_bookmark);
	tcase_add_test(tc, t_drop_mid_event);
	tcase_add_test(tc, t_injected_faults);
	tcase_add_test(tc, t_random_faults_repeat);
	tcase_add_test(tc, t_delay_holds_answer);
	tcase_add_test(tc, t_tls_and_auth);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
