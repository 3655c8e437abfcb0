/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube.c - the kube cluster plugin: kerf on a real Kubernetes API server.
 * The descriptor, the config schema and the instance lifecycle; the parts
 * are described in kube.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

#ifndef KUBE_VERSION
#define KUBE_VERSION "0.0.0"
#endif

static const struct kerf_config_key kube_schema[] = {
    {.key = "kubeconfig",
     .type = KERF_CFG_STRING,
     .path = true,
     .description = "kubeconfig file; unset: $KUBECONFIG, in-cluster, then ~/.kube/config"},
    {.key = "context",
     .type = KERF_CFG_STRING,
     .description = "kubeconfig context to use; unset: its current-context"},
    {.key = "qps",
     .type = KERF_CFG_INT,
     .default_value = "5",
     KERF_CFG_RANGE(1, 10000),
     .description = "requests per second to the API server (client-side rate limit)"},
    {.key = "burst",
     .type = KERF_CFG_INT,
     .default_value = "10",
     KERF_CFG_RANGE(1, 10000),
     .description = "requests the rate limit lets through at once"},
    {.key = "page_size",
     .type = KERF_CFG_INT,
     .default_value = "500",
     KERF_CFG_RANGE(1, 100000),
     .description = "objects per page of a list (limit/continue)"},
    {.key = "watch_timeout",
     .type = KERF_CFG_DURATION,
     .default_value = "5m",
     KERF_CFG_RANGE(1000, 3600000),
     .description = "how long one watch request lasts before kerf renews it"},
    {.key = "request_timeout",
     .type = KERF_CFG_DURATION,
     .default_value = "30s",
     KERF_CFG_RANGE(100, 600000),
     .description = "deadline of one request other than a watch"},
    {.key = "service_account_dir",
     .type = KERF_CFG_STRING,
     .default_value = "/var/run/secrets/kubernetes.io/serviceaccount",
     .path = true,
     .description = "in-cluster token, ca.crt and namespace"},
    {.key = "fake_kubelet",
     .type = KERF_CFG_BOOL,
     .default_value = "false",
     .description = "make a Ready Node for each launched NodeClaim, as its kubelet would (for "
		    "a simulated provider, whose instances have none)"},
    {.key = "leader_election.enabled",
     .type = KERF_CFG_BOOL,
     .default_value = "false",
     .description = "act only while holding a coordination.k8s.io/v1 Lease"},
    {.key = "leader_election.name",
     .type = KERF_CFG_STRING,
     .default_value = "kerf-leader-election",
     .description = "the Lease's name"},
    {.key = "leader_election.namespace",
     .type = KERF_CFG_STRING,
     .description = "the Lease's namespace; unset: the context's or service account's"},
    {.key = "leader_election.lease_duration",
     .type = KERF_CFG_DURATION,
     .default_value = "15s",
     KERF_CFG_RANGE(1000, 600000),
     .description = "how long a Lease holds without renewal"},
    {.key = "leader_election.renew_deadline",
     .type = KERF_CFG_DURATION,
     .default_value = "10s",
     KERF_CFG_RANGE(500, 600000),
     .description = "the leader gives up acting when it has not renewed for this long"},
    {.key = "leader_election.retry_period",
     .type = KERF_CFG_DURATION,
     .default_value = "2s",
     KERF_CFG_RANGE(100, 600000),
     .description = "least time between two trips to the API server for the Lease"},
    {.key = NULL},
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void kube_free(struct kube *k)
{
	if (!k)
		return;
	kube_informers_stop(k);
	kube_client_free(k->client);
	free(k->eviction_version);
	free(k->le_name);
	free(k->le_namespace);
	pthread_mutex_destroy(&k->le_lock);
	pthread_mutex_destroy(&k->sync_lock);
	pthread_cond_destroy(&k->sync_cond);
	pthread_mutex_destroy(&k->sink_lock);
	pthread_cond_destroy(&k->sink_cond);
	free(k);
}

static int kube_create(const struct kerf_host *h, void **out, struct kerf_error *err)
{
	struct kube *k = calloc(1, sizeof(*k));
	const char *kubeconfig = NULL, *context = NULL, *sa_dir = NULL, *s = NULL;
	struct kube_client_options opt = {.max_retries_429 = 10};
	struct kube_conn *conn = NULL;
	bool b = false;
	int rc;

	if (!k)
		abort();
	k->host = h;
	/* Until start() asks discovery: every server kerf supports serves it. */
	k->eviction_version = xstrdup("policy/v1");
	pthread_mutex_init(&k->le_lock, NULL);
	pthread_mutex_init(&k->sync_lock, NULL);
	pthread_cond_init(&k->sync_cond, NULL);
	pthread_mutex_init(&k->sink_lock, NULL);
	pthread_cond_init(&k->sink_cond, NULL);
	h->config_string(h->ctx, "kubeconfig", &kubeconfig);
	h->config_string(h->ctx, "context", &context);
	h->config_string(h->ctx, "service_account_dir", &sa_dir);
	h->config_int(h->ctx, "qps", &opt.qps);
	h->config_int(h->ctx, "burst", &opt.burst);
	h->config_duration(h->ctx, "request_timeout", &opt.timeout_ms);
	h->config_int(h->ctx, "page_size", &k->page_size);
	h->config_duration(h->ctx, "watch_timeout", &k->watch_timeout_ms);
	if (context && !*context)
		context = NULL;
	rc = kube_conn_load(h, kubeconfig, context, sa_dir ? sa_dir : "", &conn, err);
	if (rc) {
		kube_free(k);
		return rc;
	}
	if (conn->insecure)
		h->log(h->ctx, KERF_LOG_WARN,
		       "%s: insecure-skip-tls-verify is set: the API server's certificate is NOT "
		       "checked, and anyone on the path can read and change what kerf sends "
		       "and sees",
		       conn->source);
	else if (strncmp(conn->server, "http://", 7) == 0)
		h->log(h->ctx, KERF_LOG_WARN,
		       "%s: %s is plain HTTP: nothing kerf sends or sees is encrypted",
		       conn->source, conn->server);
	h->log(h->ctx, KERF_LOG_INFO, "API server %s from %s", conn->server, conn->source);

	h->config_bool(h->ctx, "fake_kubelet", &b);
	k->fake_kubelet = b;
	b = false;
	h->config_bool(h->ctx, "leader_election.enabled", &b);
	k->le_enabled = b;
	h->config_string(h->ctx, "leader_election.name", &s);
	k->le_name = xstrdup(s ? s : "kerf-leader-election");
	s = NULL;
	h->config_string(h->ctx, "leader_election.namespace", &s);
	k->le_namespace = xstrdup(s && *s ? s : conn->namespace_);
	h->config_duration(h->ctx, "leader_election.lease_duration", &k->le_duration_ms);
	h->config_duration(h->ctx, "leader_election.renew_deadline", &k->le_renew_deadline_ms);
	h->config_duration(h->ctx, "leader_election.retry_period", &k->le_retry_ms);
	if (k->le_enabled && k->le_renew_deadline_ms >= k->le_duration_ms) {
		kube_conn_free(conn);
		kube_free(k);
		return kerf_error_set(err, KERF_E_CONFIG,
				      "kube: leader_election.renew_deadline must be shorter than "
				      "lease_duration");
	}
	k->client = kube_client_new(h, conn, &opt, &k->stop, &k->cancel);
	*out = k;
	return 0;
}

static void kube_destroy(void *inst)
{
	kube_free(inst);
}

void kube_deliver(struct kube *k, kerf_event_type type, kerf_object_kind kind, const void *obj)
{
	pthread_mutex_lock(&k->sink_lock);
	k->sink.on_object(k->sink.ctx, type, kind, obj);
	k->delivered++;
	pthread_cond_broadcast(&k->sink_cond);
	pthread_mutex_unlock(&k->sink_lock);
}

/* Which Eviction the server takes: policy/v1 where served, else v1beta1. */
static int discover(struct kube *k, struct kerf_error *err)
{
	const struct kerf_host *h = k->host;
	struct kerf_http_response *r = NULL;
	int rc = kube_do(k->client, "GET", "/apis/policy/v1", NULL, NULL, true, &r, err);
	if (rc)
		return rc;
	free(k->eviction_version);
	k->eviction_version = xstrdup(r->status == 200 ? "policy/v1" : "policy/v1beta1");
	if (r->status != 200)
		h->log(h->ctx, KERF_LOG_INFO, "policy/v1 not served (HTTP %d): evicting with %s",
		       r->status, k->eviction_version);
	h->http_response_free(h->ctx, r);
	return 0;
}

static int kube_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	struct kube *k = inst;
	int rc;

	if (k->started)
		return kerf_error_set(err, KERF_E_INVALID, "kube: already started");
	if (!sink || !sink->on_object)
		return kerf_error_set(err, KERF_E_INVALID, "kube: start without an event sink");
	k->sink = *sink;
	k->started = true;
	if ((rc = discover(k, err)) != 0)
		return rc;
	return kube_informers_start(k, err);
}

static int kube_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	struct kube *k = inst;
	(void)err;
	/* The informer threads deliver as events arrive; poll only waits for the next. */
	if (timeout_ms <= 0)
		return 0;
	pthread_mutex_lock(&k->sink_lock);
	unsigned long seen = k->delivered;
	pthread_mutex_unlock(&k->sink_lock);
	for (int64_t waited = 0; waited < timeout_ms; waited += 50) {
		pthread_mutex_lock(&k->sink_lock);
		bool more = k->delivered != seen;
		pthread_mutex_unlock(&k->sink_lock);
		if (more ||
		    !kube_sleep(&k->stop, timeout_ms - waited < 50 ? timeout_ms - waited : 50))
			break;
	}
	return 0;
}

static const struct kerf_cluster_ops kube_cluster_ops = {
    .start = kube_start,
    .poll = kube_poll,
    .create_nodeclaim = kube_create_nodeclaim,
    .update_nodeclaim = kube_update_nodeclaim,
    .delete_nodeclaim = kube_delete_nodeclaim,
    .update_node = kube_update_node,
    .delete_node = kube_delete_node,
    .evict_pod = kube_evict_pod,
    .acquire_lease = kube_acquire_lease,
    .emit_event = kube_emit_event,
    .update_node_class_status = kube_update_node_class_status,
    .delete_pod = kube_delete_pod,
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "kube",
    .version = KUBE_VERSION,
    .description = "a real Kubernetes API server: informers for pods, nodes and Karpenter's "
		   "objects, NodeClaim and node writes, evictions, events, leader election",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_CLUSTER,
    .capabilities = KERF_CAP_CLUSTER_LEASE | KERF_CAP_CLUSTER_EVENTS | KERF_CAP_CLUSTER_FINALIZERS,
    KERF_PLUGIN_SCHEMA(kube_schema),
    .create = kube_create,
    .destroy = kube_destroy,
    KERF_PLUGIN_OPS(cluster, kube_cluster_ops),
};
