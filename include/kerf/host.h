/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/host.h - the services the host gives each plugin instance.
 *
 * A plugin reaches the outside world only through this table: it never
 * calls into kerfd's internals, never links libcurl, and never reads the
 * environment or the clock directly.  That is what lets the same plugin run
 * against a real cloud, a loopback fake server or the simulator's virtual
 * clock without knowing which.
 *
 * Every service takes `ctx` (the table's own ctx field) first.  The table
 * and ctx stay valid from create() until destroy() returns.
 *
 * Threads (docs/plugin-abi.md, "Execution model").  Every service here is
 * thread-safe: a plugin may call any of them from any thread, its own
 * threads included, at any time between create() and the return of
 * destroy(); a plugin that starts threads joins them in destroy().  The
 * services that block say so (HTTP, read_file); the others return at
 * once.  Each instance has HTTP connections of its own, so one plugin's
 * long watches never hold up another's requests.
 *
 * Append-only: `size` is sizeof(struct kerf_host) as the host compiled it,
 * so a plugin built against a newer minor checks `size` before using a slot
 * added after ABI 2.0 (KERF_HOST_HAS below).
 */
#ifndef KERF_HOST_H
#define KERF_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/cluster.h>
#include <kerf/error.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	KERF_LOG_ERROR = 0,
	KERF_LOG_WARN = 1,
	KERF_LOG_INFO = 2,
	KERF_LOG_DEBUG = 3,
	KERF_LOG_TRACE = 4,
} kerf_log_level;

struct kerf_http_header {
	const char *name;
	const char *value;
};

/*
 * An HTTP request.  Everything is borrowed for the duration of the call.
 * Zero fields mean the host's defaults: timeout_ms 0 is the configured
 * default (30 s), max_response_bytes 0 is 64 MiB, ca_file NULL is the system
 * trust store.
 */
struct kerf_http_request {
	const char *method; /* "GET", "POST", ... */
	const char *url;
	size_t n_headers;
	const struct kerf_http_header *headers;
	const void *body; /* NULL when none */
	size_t body_len;
	int64_t timeout_ms;
	const char *ca_file;
	const char *client_cert_file;
	const char *client_key_file;
	bool insecure_skip_tls_verify;
	size_t max_response_bytes;
};

struct kerf_http_owned_header {
	char *name;
	char *value;
};

/* A response, owned by the caller of http_request; free with http_response_free. */
struct kerf_http_response {
	int status;
	size_t n_headers;
	struct kerf_http_owned_header *headers;
	char *body; /* NUL-terminated for convenience; body_len excludes the NUL */
	size_t body_len;
};

/*
 * Called by http_stream for each piece of a streaming response body, in
 * order, after the status is known.  Return 0 to keep reading, anything
 * else to stop the stream (http_stream then returns 0).
 */
typedef int (*kerf_http_data_fn)(void *arg, int status, const char *data, size_t len);

/*
 * ABI 2.1.  What a request may carry beyond struct kerf_http_request, for
 * http_request_ex and http_stream_ex; borrowed for the call.  `size` is
 * sizeof(struct kerf_http_extra) as the caller built it, so a later minor
 * may append fields: the host reads none past it.
 *
 * ca_pem, client_cert_pem, client_key_pem: TLS material held in memory
 *   (a kubeconfig's certificate-authority-data, client-certificate-data,
 *   client-key-data), PEM text of the given lengths; NULL leaves that
 *   part to the request's file fields.
 * cancel: when not NULL, the host looks at *cancel at least once a
 *   second while the call waits, and ends it with KERF_E_TIMEOUT once it is
 *   nonzero (an idle watch stream, so a plugin's destroy() need not wait
 *   for the server).  The plugin writes it atomically.
 */
struct kerf_http_extra {
	uint32_t size;
	const char *ca_pem;
	size_t ca_pem_len;
	const char *client_cert_pem;
	size_t client_cert_pem_len;
	const char *client_key_pem;
	size_t client_key_pem_len;
	const volatile int *cancel;
};

/* Config value types a plugin can declare in its schema (kerf/plugin.h). */
typedef enum {
	KERF_CFG_STRING = 0,
	KERF_CFG_INT = 1,
	KERF_CFG_BOOL = 2,
	KERF_CFG_DURATION = 3,    /* Go duration, read as milliseconds */
	KERF_CFG_QUANTITY = 4,    /* Kubernetes quantity, read in whole units */
	KERF_CFG_STRING_LIST = 5, /* YAML sequence of scalars */
} kerf_config_type;

struct kerf_host {
	uint32_t size;      /* sizeof(struct kerf_host) as the host built it */
	uint16_t abi_major; /* the host's KERF_ABI_MAJOR */
	uint16_t abi_minor; /* the host's KERF_ABI_MINOR */
	void *ctx;
	const char *instance_name; /* "provider/sim", "packer/binpack-ffd" */

	/*
	 * Logging.  The host prefixes each line with the plugin's kind and
	 * name, drops lines below the configured level, and replaces every
	 * registered secret and every credential-looking value
	 * (Authorization, bearer tokens, AWS secret keys and session tokens)
	 * with "[REDACTED]".  Never blocks on the network.
	 */
	void (*log)(void *ctx, kerf_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Registers a string (copied) that must never appear in log output. */
	void (*register_secret)(void *ctx, const char *secret);

	/*
	 * Allocation from the process's C library heap, the one allocator
	 * of kerf/types.h: what a plugin allocates here may go into objects
	 * it hands to the host, and libkerf's kerf_*_free() release it.  Out
	 * of memory aborts the process with a message, so these never return
	 * NULL for a non-zero size.
	 */
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t n, size_t size);
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	char *(*strdup)(void *ctx, const char *s);
	void (*free)(void *ctx, void *ptr);

	/*
	 * The host clock in milliseconds (kerf/types.h): wall time for
	 * instants written to objects, monotonic time for durations.  Under
	 * the simulator's virtual clock both advance only when the host
	 * advances simulated time, so a plugin that waits on them waits in
	 * simulated time.
	 */
	kerf_wall_ms_t (*wall_ms)(void *ctx);
	kerf_mono_ms_t (*mono_ms)(void *ctx);

	/*
	 * HTTP.  The host owns libcurl, proxies, CA policy and timeouts.
	 * http_request blocks the calling thread until the whole response
	 * arrived or the timeout passed; *out is set only on success (any
	 * status the server sent).  Calls from several threads run at once,
	 * each on a kept-alive connection of this instance's own.  Errors:
	 * KERF_E_TIMEOUT, KERF_E_IO (connection refused, reset, TLS failure;
	 * retryable set), KERF_E_RANGE (body above the cap).
	 */
	int (*http_request)(void *ctx, const struct kerf_http_request *req,
			    struct kerf_http_response **out, struct kerf_error *err);
	void (*http_response_free)(void *ctx, struct kerf_http_response *resp);
	/*
	 * Streaming variant for long watches: blocks the calling thread until
	 * the server closes the response, fn asks to stop, or req->timeout_ms
	 * passes (then KERF_E_TIMEOUT).  fn runs on the calling thread.  Bodies
	 * of error statuses are delivered the same way.  Each stream has a
	 * connection of its own, so a plugin holds N watches on N threads.
	 */
	int (*http_stream)(void *ctx, const struct kerf_http_request *req, kerf_http_data_fn fn,
			   void *arg, struct kerf_error *err);

	/*
	 * Files and environment.  read_file reads at most max_bytes (larger
	 * files are KERF_E_RANGE) into *out, allocated with the host allocator
	 * and NUL-terminated.  getenv returns NULL when unset; the string is
	 * borrowed until the next call.
	 */
	int (*read_file)(void *ctx, const char *path, size_t max_bytes, char **out, size_t *len,
			 struct kerf_error *err);
	const char *(*getenv)(void *ctx, const char *name);

	/*
	 * The plugin's validated config section (kerf.yaml, under the plugin's
	 * name).  Values not given in the file come from the schema default.
	 * Each getter returns 0, KERF_E_NOTFOUND when the key has neither a
	 * value nor a default, or KERF_E_INVALID when the key is not declared
	 * with that type.  Strings are borrowed for the instance's lifetime.
	 */
	int (*config_string)(void *ctx, const char *key, const char **out);
	int (*config_int)(void *ctx, const char *key, int64_t *out);
	int (*config_bool)(void *ctx, const char *key, bool *out);
	int (*config_duration)(void *ctx, const char *key, int64_t *out_ms);
	int (*config_quantity)(void *ctx, const char *key, int64_t *out);
	int (*config_list)(void *ctx, const char *key, size_t *n_out, const char *const **out);

	/*
	 * ABI 2.0.  Real monotonic time in milliseconds, never virtual: what
	 * bounds how long work may take (a packer's time budget, a deadline
	 * on computation), which must hold in real time even while the host
	 * clock above is simulated.
	 */
	kerf_mono_ms_t (*real_mono_ms)(void *ctx);

	/*
	 * ABI 2.1.  The one decoder of Kubernetes objects: decodes `text`
	 * (one object as JSON or YAML, the API server's or a manifest
	 * file's; `name` is what messages call it, e.g. "GET
	 * /api/v1/nodes") with the same readers kerf applies to manifest
	 * files, into a new object of `kind` built with its libkerf
	 * constructor: a struct kerf_pod (Pod; KERF_OBJ_DAEMONSET: a
	 * DaemonSet's template), kerf_node, kerf_nodepool, kerf_nodeclaim
	 * or kerf_node_class (checked by the provider serving its kind when
	 * one is loaded).  *out is owned by the caller (the matching
	 * kerf_*_free).  Errors: KERF_E_PARSE (syntax, nesting or size
	 * limits), KERF_E_CONFIG (the object breaks its schema: the message
	 * names the field), KERF_E_INVALID (another kind of object, NULL
	 * arguments).  Does not block.
	 */
	int (*decode_object)(void *ctx, kerf_object_kind kind, const char *name, const char *text,
			     size_t len, void **out, struct kerf_error *err);
	/*
	 * ABI 2.1.  Runs a program (argv[0] searched in PATH, argv
	 * NULL-terminated) with the host's environment plus `env`
	 * ("NAME=value" strings, NULL-terminated; NULL for none), stdin
	 * from /dev/null, and waits for it, at most timeout_ms (0: 30 s;
	 * then it is killed and KERF_E_TIMEOUT returned).  Its standard
	 * output, at most max_output bytes (0: 1 MiB; more is KERF_E_RANGE),
	 * goes to *out (host allocator, NUL-terminated, *out_len without the
	 * NUL) and its exit status to *exit_status; standard error goes to
	 * the host's log at debug level.  For credential helpers (a
	 * kubeconfig's exec plugin).  Errors: KERF_E_IO (cannot start),
	 * KERF_E_TIMEOUT, KERF_E_RANGE.  Blocks.
	 */
	int (*run_command)(void *ctx, const char *const *argv, const char *const *env,
			   int64_t timeout_ms, size_t max_output, char **out, size_t *out_len,
			   int *exit_status, struct kerf_error *err);
	/*
	 * ABI 2.1.  http_request and http_stream with the extras of struct
	 * kerf_http_extra (extra NULL: exactly the 2.0 calls).
	 */
	int (*http_request_ex)(void *ctx, const struct kerf_http_request *req,
				const struct kerf_http_extra *extra, struct kerf_http_response **out,
				struct kerf_error *err);
	int (*http_stream_ex)(void *ctx, const struct kerf_http_request *req,
			       const struct kerf_http_extra *extra, kerf_http_data_fn fn, void *arg,
			       struct kerf_error *err);
};

/* True when the host table has the slot `field` (added in some minor). */
#define KERF_HOST_HAS(host, field)                                                                 \
	((host)->size >= offsetof(struct kerf_host, field) + sizeof((host)->field) &&              \
	 (host)->field != NULL)

#ifdef __cplusplus
}
#endif
#endif
