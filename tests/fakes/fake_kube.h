/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_kube.h - a loopback fake Kubernetes API server for tests
 * (libmicrohttpd, optionally TLS with a CA made at start).
 *
 * The fake keeps an in-memory object store and serves it under the same
 * paths, verbs and JSON shapes as kube-apiserver: discovery, get, list
 * (limit/continue, resourceVersion), watch (chunked JSON lines, bookmarks,
 * timeoutSeconds), create, update with optimistic concurrency, merge and
 * strategic-merge patches, delete with finalizers, the status and binding
 * subresources and policy/v1 evictions.  On top of that it does on demand
 * what a real server cannot be made to do: 410 Gone after compaction,
 * streams cut mid-event, 429 with Retry-After, 409, slow answers and
 * random faults from a seed.
 *
 * Behaviour a client must be ready for, as on kube-apiserver 1.20+:
 *  - list items of built-in kinds carry no apiVersion/kind (the list does);
 *    custom resources' items do;
 *  - a watch from resourceVersion "" or "0" starts with ADDED for every
 *    current object; from an older one it replays history, or sends an
 *    ERROR event with a 410 Status once that history is compacted;
 *  - a continued list is a snapshot of its first page's resourceVersion;
 *  - status goes through the status subresource only (the main resource
 *    ignores it), custom resources' PUTs need metadata.resourceVersion;
 *  - deleting a bound pod with a grace period only marks it (no kubelet
 *    here): fake_kube_delete or a delete with grace 0 removes it; removing
 *    the last finalizer of an object being deleted deletes it;
 *  - server-side apply (application/apply-patch+yaml, JSON bodies only) is
 *    a create or a merge patch: no managed fields.
 *
 * It has no test-framework dependency: it reports, the test asserts.  Every
 * function is thread-safe; handlers run on their own threads so open
 * watches do not hold up other clients.
 *
 * Typical use:
 *
 *	struct fake_kube_options o = {.tls = true, .token = "t0k3n"};
 *	struct fake_kube *f = fake_kube_start(&o);
 *	fake_kube_put(f, "{\"apiVersion\":\"v1\",\"kind\":\"Node\","
 *			 "\"metadata\":{\"name\":\"n1\"}}");
 *	... a client reads fake_kube_kubeconfig(f) ...
 *	fake_kube_stop(f);
 */
#ifndef KERF_TESTS_FAKE_KUBE_H
#define KERF_TESTS_FAKE_KUBE_H

#include <stdbool.h>

#include <jansson.h>

struct fake_kube;

struct fake_kube_options {
	/* Serve HTTPS with a CA and a server certificate (SAN 127.0.0.1 and
	 * localhost) made at start. */
	bool tls;
	/* With tls: require a client certificate signed by the CA. */
	bool client_certs;
	/* Non-NULL: require "Authorization: Bearer <token>" (401 otherwise). */
	const char *token;
	/* Where the CA, certificates, keys and kubeconfig are written; NULL:
	 * a fresh mkdtemp directory, removed by fake_kube_stop. */
	const char *dir;
};

/*
 * Starts a server on 127.0.0.1 and a free port, with an empty store and
 * the built-in namespaces "default" and "kube-system".  opts NULL means
 * plain HTTP without auth.  Returns NULL, with the reason on stderr, when
 * the certificates or the daemon cannot be made.
 */
struct fake_kube *fake_kube_start(const struct fake_kube_options *opts);
/* Ends every stream, stops the daemon (joining its threads), removes the
 * files it wrote and frees everything.  NULL allowed. */
void fake_kube_stop(struct fake_kube *f);
/* "https://127.0.0.1:PORT" (or http without tls); valid until stop. */
const char *fake_kube_url(const struct fake_kube *f);
/* PEM files, valid until stop; NULL without tls. */
const char *fake_kube_ca_file(const struct fake_kube *f);
/* A client certificate signed by the CA (CN "kerf-test", O
 * "system:masters") and its key.  Made whenever tls is on, whether or not
 * the server requires one. */
const char *fake_kube_client_cert_file(const struct fake_kube *f);
const char *fake_kube_client_key_file(const struct fake_kube *f);
/* A kubeconfig file naming this server (cluster, user and context "fake",
 * the current context, namespace "default"): the CA by path, the token
 * when one is required, the client certificate and key when they are. */
const char *fake_kube_kubeconfig(const struct fake_kube *f);

/*
 * The object store.  Objects are JSON with apiVersion, kind and metadata
 * (name; namespace for namespaced kinds).  put creates or replaces the
 * object, sets uid and creationTimestamp on creation, bumps
 * resourceVersion and emits ADDED or MODIFIED to watchers.  Returns 0, or
 * -1 when the text is not such an object or its kind is not served.
 */
int fake_kube_put(struct fake_kube *f, const char *json_text);
/* Deletes an object: DELETED to watchers, or, while finalizers remain,
 * only deletionTimestamp is set (MODIFIED).  namespace_ NULL for
 * cluster-scoped kinds.  Returns 0, or -1 when there is no such object. */
int fake_kube_delete(struct fake_kube *f, const char *api_version, const char *kind,
		     const char *namespace_, const char *name);
/* A copy of the stored object (new reference) or NULL. */
json_t *fake_kube_get(struct fake_kube *f, const char *api_version, const char *kind,
		      const char *namespace_, const char *name);
/* Copies of every object of the kind, in store order (new reference to an
 * array; empty when none). */
json_t *fake_kube_list(struct fake_kube *f, const char *api_version, const char *kind);

/*
 * Faults, for what a real server cannot be made to do on demand.
 *
 * fail_next: the next `times` requests whose method (NULL: any) and path
 * (without query) start with path_prefix (NULL: any) get `status` with a
 * Status body; retry_after_s > 0 adds "Retry-After".  Rules queue up and
 * are consulted in the order they were added.
 */
void fake_kube_fail_next(struct fake_kube *f, const char *method, const char *path_prefix,
			 int status, int retry_after_s, int times);
/* Compacts history at the current resourceVersion, as etcd compaction
 * does: a watch that resumes from an older one gets an ERROR event with a
 * 410 Expired Status (what kube-apiserver sends), a list continue token
 * from before gets 410 Expired.  Open watches are not disturbed. */
void fake_kube_expire_watches(struct fake_kube *f);
/* Cuts every open watch stream; a stream with an event pending ends after
 * half of that event's line, as a dropped connection does. */
void fake_kube_drop_streams(struct fake_kube *f);
/* Every later response waits this long before its status (0: none);
 * fake_kube_stop cuts waits short. */
void fake_kube_delay_ms(struct fake_kube *f, int ms);
/* From now on each request, with probability per_mille/1000 from a
 * generator seeded with seed, gets a random fault: 429 with Retry-After 1,
 * 410 Gone on a list or watch that names a resourceVersion, or, on a
 * watch, a stream cut after some events.  per_mille 0 turns them off. */
void fake_kube_random_faults(struct fake_kube *f, unsigned seed, int per_mille);
/* Number of requests so far whose method (NULL: any) and path (without
 * query) start with path_prefix (NULL: any), faulted ones included. */
unsigned long fake_kube_requests(const struct fake_kube *f, const char *method,
				 const char *path_prefix);

/* Extras beyond the shared contract. */

/* Like fail_next, but answers with this status, Content-Type and raw body
 * (a truncated or malformed JSON document, an oversized one, a broken
 * watch stream): what a real server would never send. */
void fake_kube_answer_next(struct fake_kube *f, const char *method, const char *path_prefix,
			   int status, const char *content_type, const char *body, int times);
/* Every open watch that asked for bookmarks (allowWatchBookmarks) sends one
 * now, with the store's current resourceVersion.  A watch also sends one
 * when its timeoutSeconds run out, just before it ends. */
void fake_kube_bookmark(struct fake_kube *f);
/* Serves a group/version no longer ("policy/v1"): discovery leaves it out
 * and its paths answer 404, as on an older server.  PodDisruptionBudgets
 * stay readable through policy/v1beta1, which shares their store. */
void fake_kube_hide(struct fake_kube *f, const char *group_version);

/* The port the server listens on. */
unsigned fake_kube_port(const struct fake_kube *f);
/* The store's current resourceVersion (as a number). */
unsigned long long fake_kube_resource_version(const struct fake_kube *f);
/* Number of watch streams open right now. */
unsigned fake_kube_open_watches(const struct fake_kube *f);

#endif
