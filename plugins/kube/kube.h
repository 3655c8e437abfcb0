/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube.h - the kube cluster plugin's internals: kerf on a real Kubernetes
 * API server.
 *
 *  kube_config.c  where the API server is and who kerf is to it: a
 *                 kubeconfig (merged as kubectl merges KUBECONFIG) or the
 *                 in-cluster service account;
 *  kube_client.c  every request: credentials (token, token file, exec
 *                 plugin, client certificate), the client-side rate limit
 *                 and back-off on 429;
 *  kube_json.c    JSON limits and the one way objects are decoded (the
 *                 host's decode_object, kerf's manifest readers);
 *  kube_informer.c list-then-watch per resource into the cache, relisting
 *                 on 410 Gone, delivering to the host's sink;
 *  kube_write.c   NodeClaims, Nodes, evictions, Events and the lease.
 *
 * Threads: one informer thread per resource delivers to the sink; the
 * write ops run on the host's workers.  struct kube_client is safe from
 * any thread; each informer's cache is its own thread's, but writes read
 * it (a NodePool's uid, a node's labels) under the informer's lock.
 */
#ifndef KERF_KUBE_H
#define KERF_KUBE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <kerf/kerf.h>

/* -------------------------------------------------------------- config */

/* A kubeconfig exec credential plugin. */
struct kube_exec {
	char *api_version; /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;
	size_t n_args;
	char **args;
	size_t n_env;
	char **env; /* "NAME=value" */
};

/* Where the API server is and how to authenticate to it; every string owned. */
struct kube_conn {
	char *server; /* "https://host:port", no trailing slash */
	char *ca_file;
	char *ca_pem;
	char *cert_file, *cert_pem;
	char *key_file, *key_pem;
	bool insecure;
	char *token;
	char *token_file; /* re-read as it rotates */
	struct kube_exec *exec;
	char *source;	  /* "kubeconfig /path (context x)" or "in-cluster", for messages */
	char *namespace_; /* the context's or the service account's namespace */
};

void kube_conn_free(struct kube_conn *c);

/*
 * Finds the connection as kubectl and client-go do: the `kubeconfig`
 * config key, else $KUBECONFIG (several files, merged: the first file to
 * define a name or current-context wins), else in-cluster (the service
 * account under `sa_dir` when KUBERNETES_SERVICE_HOST is set), else
 * $HOME/.kube/config.  `context` (NULL: current-context) picks the
 * context.  Relative paths in a kubeconfig are relative to its file.
 * Returns 0 with *out set, or KERF_E_CONFIG/KERF_E_NOTFOUND/KERF_E_IO with
 * a message naming the file and field.
 */
int kube_conn_load(const struct kerf_host *h, const char *kubeconfig, const char *context,
		   const char *sa_dir, struct kube_conn **out, struct kerf_error *err);

/* -------------------------------------------------------------- client */

struct kube_client;

/*
 * The client-side rate limit, client-go's token bucket: `burst` requests
 * at once, then `qps` a second.  Counted in thousandths of a request so
 * the arithmetic is exact.
 */
struct kube_bucket {
	int64_t qps, burst;
	int64_t milli; /* tokens held, in thousandths */
	int64_t at_ms; /* monotonic time milli was last brought up to date */
};

void kube_bucket_init(struct kube_bucket *b, int64_t qps, int64_t burst, int64_t now_ms);
/* Takes a token at now_ms and returns 0, or returns how many ms until one is there. */
int64_t kube_bucket_take(struct kube_bucket *b, int64_t now_ms);

struct kube_client_options {
	int64_t qps;   /* requests per second, client-go's 5 by default */
	int64_t burst; /* bucket size, client-go's 10 */
	int64_t timeout_ms;
	int max_retries_429; /* reads retry 429 this many times honouring Retry-After */
};

/* Takes ownership of conn.  Never fails: allocation failure aborts. */
struct kube_client *kube_client_new(const struct kerf_host *h, struct kube_conn *conn,
				    const struct kube_client_options *opt, atomic_bool *stop,
				    const volatile int *cancel);
void kube_client_free(struct kube_client *c);
const struct kube_conn *kube_client_conn(const struct kube_client *c);

/*
 * One request to `path` ("/api/v1/nodes?limit=500"): body (JSON or NULL)
 * with content_type.  Waits for the rate limiter.  With `retry_429` a 429
 * answer is retried after its Retry-After (at most max_retries_429
 * times); otherwise it is returned as a response.  A 401 refreshes the
 * credentials once and retries.  Returns 0 with *out set for any status,
 * or the transport error.
 */
int kube_do(struct kube_client *c, const char *method, const char *path, const char *body,
	    const char *content_type, bool retry_429, struct kerf_http_response **out,
	    struct kerf_error *err);

/* Streams `path` (a watch) through fn; timeout_ms bounds the whole stream. */
int kube_stream(struct kube_client *c, const char *path, int64_t timeout_ms, kerf_http_data_fn fn,
		void *arg, struct kerf_error *err);

/*
 * Maps a non-2xx response to an error: 404 KERF_E_NOTFOUND, 409
 * KERF_E_CONFLICT, 429 KERF_E_THROTTLED with retry_after_ms, 401/403
 * KERF_E_AUTH, 5xx retryable KERF_E_IO, others KERF_E_INVALID; the message
 * holds the API's Status message.  0 for 2xx.
 */
int kube_status_error(const struct kerf_http_response *r, const char *what, struct kerf_error *err);

/* Sleeps ms or until *stop is set; false when stopped. */
bool kube_sleep(atomic_bool *stop, int64_t ms);

/* Retry-After of a response in milliseconds (seconds or an HTTP date is read as seconds only), -1
 * when absent. */
int64_t kube_retry_after_ms(const struct kerf_http_response *r);

/* ---------------------------------------------------------------- JSON */

/* Limits on what the API may make kerf parse. */
#define KUBE_MAX_DEPTH 64
#define KUBE_MAX_LIST_BYTES ((size_t)512 << 20)
#define KUBE_MAX_OBJECT_BYTES ((size_t)4 << 20)

/*
 * Parses JSON text of at most max_bytes nested at most KUBE_MAX_DEPTH
 * deep.  NULL with err set (KERF_E_PARSE, KERF_E_RANGE) otherwise; `what`
 * names the text in messages.
 */
json_t *kube_json_parse(const char *what, const char *text, size_t len, size_t max_bytes,
			struct kerf_error *err);

/*
 * An API object (a JSON object) into the model through the host's one
 * decoder: 0 with *out (an object of `kind`, owned by the caller), or the
 * decoder's error naming the field.
 */
int kube_decode(const struct kerf_host *h, kerf_object_kind kind, const char *what,
		const json_t *obj, void **out, struct kerf_error *err);

/* Frees an object of `kind`; NULL allowed. */
void kube_object_free(kerf_object_kind kind, void *obj);

/* "namespace/name" or "name" of a JSON object's metadata; NULL without a name. */
char *kube_json_key(const json_t *obj);

/*
 * A list page split without building it: each item's span in the text
 * (and whether it names its apiVersion and kind), the list's continue
 * token and resourceVersion.  kube_page_scan returns 0, or -1 for text it
 * does not take apart (malformed, escapes in the metadata, nested past
 * KUBE_MAX_DEPTH): the caller then reads the page with jansson, which
 * says what is wrong.  The fast path of the lists (kube_informer.c).
 */
struct kube_page {
	size_t n, cap;
	struct {
		size_t off, len;
		bool typed;
	} * items;
	char *cont;
	char *resource_version;
};

int kube_page_scan(const char *text, size_t len, struct kube_page *pg);
void kube_page_clear(struct kube_page *pg);

/* RFC 3339 (as the API writes it) to milliseconds since the epoch; false when malformed. */
bool kube_parse_time(const char *s, int64_t *out_ms);
/* Milliseconds since the epoch as "2006-01-02T15:04:05Z" into buf (at least 32 bytes). */
void kube_format_time(int64_t ms, char *buf, size_t size);

/* ------------------------------------------------------------ informers */

/* A resource kerf lists and watches. */
struct kube_resource {
	kerf_object_kind kind;
	const char *name;	 /* "pods", for messages */
	const char *path;	 /* "/api/v1/pods" */
	const char *api_version; /* "v1": list items come without apiVersion and kind */
	const char *kind_name;	 /* "Pod" */
	bool required;		 /* a 404 is an error rather than "not served here" */
};

/* The cache of one resource: key -> entry, as the server last said. */
struct kube_entry {
	char *key;
	char *resource_version;
	void *object; /* decoded, of the informer's kind; writes read labels and uids from it */
	struct kube_entry *next;
};

struct kube_cache {
	size_t n, n_buckets;
	struct kube_entry **buckets;
};

void kube_cache_init(struct kube_cache *c);
void kube_cache_clear(struct kube_cache *c, kerf_object_kind kind);
struct kube_entry *kube_cache_get(const struct kube_cache *c, const char *key);
/* Inserts or replaces (the old entry's contents are freed); takes key, rv and object. */
struct kube_entry *kube_cache_put(struct kube_cache *c, kerf_object_kind kind, char *key, char *rv,
				  void *object);
/* Removes and returns the entry (the caller frees it with kube_entry_free), NULL when absent. */
struct kube_entry *kube_cache_take(struct kube_cache *c, const char *key);
void kube_entry_free(struct kube_entry *e, kerf_object_kind kind);

struct kube_informer {
	struct kube *k;
	struct kube_resource res;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards cache */
	struct kube_cache cache;
	char *resource_version; /* the watch's position */
	bool synced;
	int start_rc; /* the first list's result, read by start() */
	struct kerf_error start_err;
	/* Counters for tests and logs. */
	_Atomic unsigned long lists, watches, relists, events, decode_errors;
};

/* --------------------------------------------------------------- plugin */

#define KUBE_N_RESOURCES 6

struct kube {
	const struct kerf_host *host;
	struct kube_client *client;
	struct kerf_event_sink sink;
	atomic_bool stop;
	int cancel; /* stop, for the host's HTTP calls (kerf_http_extra.cancel) */
	bool started;
	int64_t page_size;
	int64_t watch_timeout_ms;
	char *eviction_version; /* "policy/v1" or "policy/v1beta1", from discovery */
	bool fake_kubelet;	/* make the Node of each launched claim (kube_write.c) */
	/* leader election */
	bool le_enabled;
	char *le_name, *le_namespace;
	int64_t le_duration_ms, le_renew_deadline_ms, le_retry_ms;
	pthread_mutex_t le_lock;
	bool le_held;
	int64_t le_renewed_ms; /* host mono time of the last successful renew */
	int64_t le_tried_ms;   /* host mono time of the last trip to the API server */
	/* the informers and the start() rendezvous */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;
	size_t n_informers;
	struct kube_informer informers[KUBE_N_RESOURCES];
	pthread_mutex_t sink_lock; /* serialises deliveries, so poll() can wait for one */
	pthread_cond_t sink_cond;
	unsigned long delivered;
};

/* Delivers one event through the sink (any thread). */
void kube_deliver(struct kube *k, kerf_event_type type, kerf_object_kind kind, const void *obj);

/* The informer of kind, NULL when not watched. */
struct kube_informer *kube_informer_of(struct kube *k, kerf_object_kind kind);

/* Starts every informer thread and waits for their first lists. */
int kube_informers_start(struct kube *k, struct kerf_error *err);
void kube_informers_stop(struct kube *k);

/* write ops (kube_write.c), the cluster ops of kerf/cluster.h */
int kube_create_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
			  struct kerf_nodeclaim **stored, struct kerf_error *err);
int kube_update_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
			  struct kerf_nodeclaim **stored, struct kerf_error *err);
int kube_delete_nodeclaim(void *inst, const char *name, struct kerf_error *err);
int kube_update_node(void *inst, const struct kerf_node *node, struct kerf_node **stored,
		     struct kerf_error *err);
/*
 * kerf_cluster_ops.update_node_class_status: a merge patch of the
 * EC2NodeClass's status subresource with the provider's status object.
 */
int kube_update_node_class_status(void *inst, const struct kerf_node_class *node_class,
				  const char *status, struct kerf_error *err);
int kube_delete_node(void *inst, const char *name, struct kerf_error *err);
int kube_evict_pod(void *inst, const char *namespace_, const char *name, struct kerf_error *err);
int kube_delete_pod(void *inst, const char *namespace_, const char *name, const char *uid,
		    int64_t grace_period_s, struct kerf_error *err);
int kube_acquire_lease(void *inst, const char *identity, int64_t duration_ms, bool *held,
		       struct kerf_error *err);
int kube_emit_event(void *inst, const struct kerf_event *event, struct kerf_error *err);

/* The NodeClaim as karpenter.sh/v1 JSON (kube_write.c), for create and for tests. */
json_t *kube_nodeclaim_json(struct kube *k, const struct kerf_nodeclaim *claim);

#endif
