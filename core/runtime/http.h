/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the host's HTTP client; the only place in kerf that uses libcurl.
 *
 * Plugins reach it through the http_* slots of struct kerf_host, so proxy,
 * CA and timeout policy live here once instead of in every plugin.
 *
 * Results follow kerf/host.h: any status the server sent is success (rc 0,
 * resp->status set); only transport failures are errors:
 *   KERF_E_TIMEOUT  the request's (or the client's default) timeout passed;
 *                   retryable.
 *   KERF_E_IO       connection refused or reset, DNS, TLS or protocol
 *                   failure; retryable.
 *   KERF_E_RANGE    the body grew beyond max_response_bytes (64 MiB when 0).
 *   KERF_E_INVALID  a malformed request (no URL, CR/LF in a header, ...).
 * Error messages name the method and the URL with secrets redacted.
 *
 * Redirects are followed (at most 10); the response then carries the last
 * response's status and headers only, as it does after a 100 Continue.
 * Loopback hosts (127.0.0.0/8, localhost, ::1) never go through a proxy;
 * every other URL honours http_proxy / https_proxy / no_proxy as curl does.
 *
 * Thread-safety: a client serves any number of threads at once.  Each call
 * takes a curl handle of the client's own for its duration (an idle one,
 * or a new one when all are busy) and hands it back afterwards, so
 * sequential calls reuse kept-alive connections and a long stream never
 * holds up a request.  http_global_init must have returned 0 before a
 * client is created (http_client_new checks), and the last
 * http_global_cleanup may run only after every client was freed.
 */
#ifndef KERF_CORE_HTTP_H
#define KERF_CORE_HTTP_H

#include <stdint.h>

#include <kerf/error.h>
#include <kerf/host.h>

#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_MAX_RESPONSE_BYTES ((size_t)64 * 1024 * 1024)
#define HTTP_MAX_REDIRECTS 10

/*
 * Initialises libcurl (and through it the TLS library).  Counted: each
 * successful call needs one http_global_cleanup; only the first does work.
 */
int http_global_init(struct kerf_error *err);
/* Undoes one http_global_init; the last one releases libcurl's globals. */
void http_global_cleanup(void);

/* A client: a pool of reusable curl handles, so keep-alive connections, DNS
 * and TLS sessions carry over between requests. */
struct http_client;

struct http_options {
	int64_t default_timeout_ms; /* whole request when req->timeout_ms is 0; 0 -> 30000 */
	int64_t connect_timeout_ms; /* TCP + TLS handshake; 0 -> 10000 */
	const char *user_agent;	    /* NULL -> "kerf/VERSION"; copied */
};

/* opt NULL means every default.  Negative timeouts are KERF_E_INVALID, and
 * so is a call before http_global_init. */
int http_client_new(const struct http_options *opt, struct http_client **out,
		    struct kerf_error *err);
/* NULL allowed.  Closes the client's pooled connections; no call on the
 * client may still be running. */
void http_client_free(struct http_client *c);

/*
 * Sends req and waits for the whole response.  On 0, *out holds the
 * response (free with http_response_free): status, the last response's
 * headers as owned name/value pairs in the order received, and the body,
 * always NUL-terminated (an empty body is "").  *out is untouched on error.
 * A method of NULL means GET; HEAD transfers no body.
 */
int http_request(struct http_client *c, const struct kerf_http_request *req,
		 struct kerf_http_response **out, struct kerf_error *err);

/*
 * Sends req and hands the response body to fn piece by piece as it
 * arrives: fn(arg, status, data, len), data not NUL-terminated and valid
 * only during the call.  Error statuses are delivered the same way.  When
 * the response has an empty body, fn is called once with len 0 so the
 * caller still learns the status.  fn returning nonzero ends the transfer
 * and http_stream returns 0.  The whole stream is bounded by the timeout
 * (KERF_E_TIMEOUT), not by max_response_bytes: a watch may run for hours
 * and its consumer decides how much to keep.  fn may use the same client:
 * its calls run on other handles.
 */
int http_stream(struct http_client *c, const struct kerf_http_request *req, kerf_http_data_fn fn,
		void *arg, struct kerf_error *err);

/*
 * The same with TLS material from memory (kerf/host.h, ABI 2.1); tls NULL
 * is exactly http_request / http_stream.
 */
int http_request_ex(struct http_client *c, const struct kerf_http_request *req,
		     const struct kerf_http_extra *tls, struct kerf_http_response **out,
		     struct kerf_error *err);
int http_stream_ex(struct http_client *c, const struct kerf_http_request *req,
		    const struct kerf_http_extra *tls, kerf_http_data_fn fn, void *arg,
		    struct kerf_error *err);

/* NULL allowed. */
void http_response_free(struct kerf_http_response *r);

/*
 * A one-line summary for logs: method, URL, headers and body size, with the
 * values of Authorization, Proxy-Authorization, X-Amz-Security-Token and
 * Cookie headers, the X-Amz-Signature, X-Amz-Credential and
 * X-Amz-Security-Token query parameters and any password in the URL
 * replaced by "[REDACTED]".  Control characters are escaped as \xNN so the
 * summary stays one line.  Never NULL; free with free().
 */
char *http_describe_request(const struct kerf_http_request *req);

#endif
