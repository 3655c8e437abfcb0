/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - the host's HTTP client on libcurl.
 */
/* core/config.h (kerf.yaml) shadows the autoconf header for both include
 * forms, so reach the build directory's config.h through -I. explicitly. */
#include <config.h>

#include "http.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "util.h"

/* Hosts a developer's or a node's proxy must never see.  The literal
 * 127.0.0.1 is listed besides the CIDR because curl before 7.86 matches
 * no_proxy entries as host names only. */
#define HTTP_LOOPBACK_NOPROXY "localhost,127.0.0.1,127.0.0.0/8,::1"

/* Idle handles kept per client.  Each holds its kept-alive connections, so
 * this bounds the sockets a client keeps open between bursts; more
 * concurrent calls still run, on handles dropped when they finish. */
#define HTTP_MAX_IDLE_HANDLES 8

/* One curl easy handle, owned by one call at a time.  curl forbids using a
 * handle from two threads at once, and its connection cache lives in the
 * handle, so reusing handles is what keeps connections alive. */
struct http_handle {
	CURL *easy;
	struct http_handle *next; /* in the client's idle list */
	char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
	int64_t default_timeout_ms;
	int64_t connect_timeout_ms;
	char *user_agent;
	pthread_mutex_t lock; /* guards idle and n_idle */
	/* Most recently used first: its connection is the likeliest still open. */
	struct http_handle *idle;
	size_t n_idle;
};

/* State of one transfer, shared with the curl callbacks. */
struct http_xfer {
	struct http_handle *h;
	/* http_request */
	struct kerf_http_owned_header *headers;
	size_t n_headers, cap_headers;
	struct strbuf body;
	size_t max_body;
	bool too_big;
	/* http_stream */
	kerf_http_data_fn fn;
	void *arg;
	bool delivered;
	bool stopped;
};

/* ------------------------------------------------------------ globals */

static pthread_mutex_t http_global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned http_global_refs;

int http_global_init(struct kerf_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&http_global_lock);
	if (http_global_refs == 0) {
		CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (cc != CURLE_OK)
			rc = kerf_error_set(err, KERF_E_INTERNAL, "curl_global_init: %s",
					    curl_easy_strerror(cc));
	}
	if (rc == 0)
		http_global_refs++;
	pthread_mutex_unlock(&http_global_lock);
	return rc;
}

void http_global_cleanup(void)
{
	pthread_mutex_lock(&http_global_lock);
	if (http_global_refs > 0 && --http_global_refs == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&http_global_lock);
}

/* ------------------------------------------------------------ redaction */

static bool http_header_is_secret(const char *name)
{
	static const char *const secret[] = {"Authorization", "Proxy-Authorization",
					     "X-Amz-Security-Token", "Cookie"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strcasecmp(name, secret[i]) == 0)
			return true;
	return false;
}

static bool http_param_is_secret(const char *name, size_t len)
{
	static const char *const secret[] = {"X-Amz-Signature", "X-Amz-Credential",
					     "X-Amz-Security-Token"};
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strlen(secret[i]) == len && strncasecmp(name, secret[i], len) == 0)
			return true;
	return false;
}

/* Appends s[0..n) escaping control bytes, so a hostile value cannot forge
 * extra log lines. */
static void http_sb_escaped(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			sb_printf(sb, "\\x%02x", ch);
		else
			sb_append(sb, &s[i], 1);
	}
}

/* Appends url with the userinfo password and the signing query parameters
 * replaced by [REDACTED]. */
static void http_sb_redacted_url(struct strbuf *sb, const char *url)
{
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		size_t auth_len = strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', auth_len);
		if (at) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon) {
				http_sb_escaped(sb, url, (size_t)(colon + 1 - url));
				sb_puts(sb, "[REDACTED]");
				p = at;
			}
		}
	}
	size_t before_query = strcspn(p, "?#");
	http_sb_escaped(sb, p, before_query);
	p += before_query;
	if (*p != '?') {
		http_sb_escaped(sb, p, strlen(p));
		return;
	}
	sb_append(sb, "?", 1);
	p++;
	size_t query_len = strcspn(p, "#");
	const char *end = p + query_len;
	while (p < end) {
		size_t param_len = strcspn(p, "&#");
		if (param_len > (size_t)(end - p))
			param_len = (size_t)(end - p);
		const char *eq = memchr(p, '=', param_len);
		size_t name_len = eq ? (size_t)(eq - p) : param_len;
		if (eq && http_param_is_secret(p, name_len)) {
			http_sb_escaped(sb, p, name_len + 1);
			sb_puts(sb, "[REDACTED]");
		} else {
			http_sb_escaped(sb, p, param_len);
		}
		p += param_len;
		if (p < end) { /* the '&' */
			sb_append(sb, p, 1);
			p++;
		}
	}
	http_sb_escaped(sb, end, strlen(end));
}

static const char *http_method(const struct kerf_http_request *req)
{
	return req->method && req->method[0] ? req->method : "GET";
}

char *http_describe_request(const struct kerf_http_request *req)
{
	struct strbuf sb;
	sb_init(&sb);
	if (!req) {
		sb_puts(&sb, "(no request)");
		return sb_detach(&sb);
	}
	const char *m = http_method(req);
	http_sb_escaped(&sb, m, strlen(m));
	sb_puts(&sb, " ");
	if (req->url)
		http_sb_redacted_url(&sb, req->url);
	else
		sb_puts(&sb, "(no url)");
	if (req->n_headers > 0 && req->headers) {
		sb_puts(&sb, " [");
		for (size_t i = 0; i < req->n_headers; i++) {
			const struct kerf_http_header *h = &req->headers[i];
			const char *name = h->name ? h->name : "";
			if (i > 0)
				sb_puts(&sb, "; ");
			http_sb_escaped(&sb, name, strlen(name));
			sb_puts(&sb, ": ");
			if (http_header_is_secret(name))
				sb_puts(&sb, "[REDACTED]");
			else if (h->value)
				http_sb_escaped(&sb, h->value, strlen(h->value));
		}
		sb_puts(&sb, "]");
	}
	if (req->body)
		sb_printf(&sb, " body=%zu bytes", req->body_len);
	return sb_detach(&sb);
}

/* ------------------------------------------------------------ errors */

/* Sets err with the request named safely and the retry hint. */
static int http_fail(struct kerf_error *err, int code, bool retryable,
		     const struct kerf_http_request *req, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int http_fail(struct kerf_error *err, int code, bool retryable,
		     const struct kerf_http_request *req, const char *fmt, ...)
{
	if (!err)
		return code;
	struct strbuf sb;
	sb_init(&sb);
	if (req) {
		const char *m = http_method(req);
		http_sb_escaped(&sb, m, strlen(m));
		sb_puts(&sb, " ");
		if (req->url)
			http_sb_redacted_url(&sb, req->url);
		sb_puts(&sb, ": ");
	}
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	/* A reused err must not keep a previous failure's provider code. */
	kerf_error_clear(err);
	kerf_error_set(err, code, "%s", sb.buf);
	err->retryable = retryable;
	err->http_status = 0;
	sb_free(&sb);
	return code;
}

/* Maps a failed transfer to a kerf code.  Transport trouble is retryable;
 * a request curl cannot even express is not. */
static int http_map_curl(struct kerf_error *err, CURLcode cc, const struct http_xfer *x,
			 const struct kerf_http_request *req)
{
	const char *detail = x->h->errbuf[0] ? x->h->errbuf : curl_easy_strerror(cc);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return http_fail(err, KERF_E_TIMEOUT, true, req, "%s", detail);
	case CURLE_ABORTED_BY_CALLBACK:
		return http_fail(err, KERF_E_TIMEOUT, false, req, "cancelled by the caller");
	case CURLE_WRITE_ERROR:
		if (x->too_big)
			return http_fail(err, KERF_E_RANGE, false, req,
					 "response body exceeds %zu bytes", x->max_body);
		return http_fail(err, KERF_E_IO, true, req, "%s", detail);
	case CURLE_OUT_OF_MEMORY:
		return http_fail(err, KERF_E_NOMEM, false, req, "%s", detail);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_UNKNOWN_OPTION:
		return http_fail(err, KERF_E_INVALID, false, req, "%s", detail);
	case CURLE_TOO_MANY_REDIRECTS:
		return http_fail(err, KERF_E_IO, false, req, "%s", detail);
	default:
		/* Refused, reset, DNS, TLS, truncated or garbled replies: the
		 * network or the peer may well recover. */
		return http_fail(err, KERF_E_IO, true, req, "%s", detail);
	}
}

/* ------------------------------------------------------------ client */

static struct http_handle *http_handle_new(void)
{
	CURL *easy = curl_easy_init();
	if (!easy)
		return NULL;
	struct http_handle *h = xcalloc(1, sizeof(*h));
	h->easy = easy;
	return h;
}

static void http_handle_free(struct http_handle *h)
{
	curl_easy_cleanup(h->easy);
	free(h);
}

int http_client_new(const struct http_options *opt, struct http_client **out,
		    struct kerf_error *err)
{
	*out = NULL;
	int64_t timeout = opt ? opt->default_timeout_ms : 0;
	int64_t connect = opt ? opt->connect_timeout_ms : 0;
	if (timeout < 0 || connect < 0)
		return kerf_error_set(err, KERF_E_INVALID, "http client: negative timeout");
	pthread_mutex_lock(&http_global_lock);
	bool ready = http_global_refs > 0;
	pthread_mutex_unlock(&http_global_lock);
	/* Without it curl_easy_init would run curl_global_init itself, on
	 * whichever thread got there first. */
	if (!ready)
		return kerf_error_set(err, KERF_E_INVALID,
				      "http client: http_global_init has not been called");
	/* One handle up front, so a client that exists can make a request. */
	struct http_handle *h = http_handle_new();
	if (!h)
		return kerf_error_set(err, KERF_E_INTERNAL, "curl_easy_init failed");
	struct http_client *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->idle = h;
	c->n_idle = 1;
	c->default_timeout_ms = timeout ? timeout : HTTP_DEFAULT_TIMEOUT_MS;
	c->connect_timeout_ms = connect ? connect : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	c->user_agent = xstrdup(opt && opt->user_agent ? opt->user_agent : "kerf/" PACKAGE_VERSION);
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	while (c->idle) {
		struct http_handle *h = c->idle;
		c->idle = h->next;
		http_handle_free(h);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->user_agent);
	free(c);
}

/* Takes an idle handle, or makes one when every handle is in use. */
static struct http_handle *http_acquire(struct http_client *c)
{
	pthread_mutex_lock(&c->lock);
	struct http_handle *h = c->idle;
	if (h) {
		c->idle = h->next;
		c->n_idle--;
	}
	pthread_mutex_unlock(&c->lock);
	if (!h)
		h = http_handle_new();
	if (h)
		h->next = NULL;
	return h;
}

static void http_release(struct http_client *c, struct http_handle *h)
{
	pthread_mutex_lock(&c->lock);
	bool keep = c->n_idle < HTTP_MAX_IDLE_HANDLES;
	if (keep) {
		h->next = c->idle;
		c->idle = h;
		c->n_idle++;
	}
	pthread_mutex_unlock(&c->lock);
	/* Closing sockets is slow enough to keep out of the lock. */
	if (!keep)
		http_handle_free(h);
}

void http_response_free(struct kerf_http_response *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	free(r);
}

/* ------------------------------------------------------------ callbacks */

static void http_xfer_clear_headers(struct http_xfer *x)
{
	for (size_t i = 0; i < x->n_headers; i++) {
		free(x->headers[i].name);
		free(x->headers[i].value);
	}
	x->n_headers = 0;
}

static size_t http_trim_end(const char *s, size_t n)
{
	while (n > 0 &&
	       (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

/* Collects "Name: value" lines.  A status line starts a new response, so
 * after redirects and 100 Continue only the final response's headers stay. */
static size_t http_on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t total = size * nmemb;
	size_t n = http_trim_end(data, total);
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		http_xfer_clear_headers(x);
		return total;
	}
	if (n == 0)
		return total;
	if ((data[0] == ' ' || data[0] == '\t') && x->n_headers > 0) {
		/* obs-fold: a continuation of the previous value */
		size_t skip = 0;
		while (skip < n && (data[skip] == ' ' || data[skip] == '\t'))
			skip++;
		struct kerf_http_owned_header *h = &x->headers[x->n_headers - 1];
		struct strbuf sb;
		sb_init(&sb);
		sb_puts(&sb, h->value);
		sb_append(&sb, " ", 1);
		sb_append(&sb, data + skip, n - skip);
		free(h->value);
		h->value = sb_detach(&sb);
		return total;
	}
	const char *colon = memchr(data, ':', n);
	if (!colon)
		return total;
	size_t name_len = http_trim_end(data, (size_t)(colon - data));
	const char *v = colon + 1;
	const char *end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	xgrow(x->headers, x->cap_headers, x->n_headers + 1);
	x->headers[x->n_headers].name = xstrndup(data, name_len);
	x->headers[x->n_headers].value = xstrndup(v, (size_t)(end - v));
	x->n_headers++;
	return total;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;
	if (n > x->max_body - x->body.len) {
		x->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	sb_append(&x->body, data, n);
	return n;
}

static long http_current_status(struct http_handle *h)
{
	long status = 0;
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static size_t http_on_stream(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;
	if (n == 0)
		return 0;
	x->delivered = true;
	if (x->fn(x->arg, (int)http_current_status(x->h), data, n) != 0) {
		x->stopped = true;
		return 0;
	}
	return n;
}

/* ------------------------------------------------------------ requests */

static bool http_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return true;
	return false;
}

static bool http_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static bool http_req_has_header(const struct kerf_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return true;
	return false;
}

/* Rejects what curl would send verbatim and a peer would misread: a CR or
 * LF in a header would let a value inject headers of its own. */
static int http_validate(const struct kerf_http_request *req, struct kerf_error *err)
{
	if (!req || !req->url || !req->url[0])
		return http_fail(err, KERF_E_INVALID, false, NULL, "HTTP request without a URL");
	if (!http_is_token(http_method(req)))
		return http_fail(err, KERF_E_INVALID, false, req, "invalid method");
	if (http_has_ctl(req->url))
		return http_fail(err, KERF_E_INVALID, false, req, "control character in URL");
	if (req->n_headers > 0 && !req->headers)
		return http_fail(err, KERF_E_INVALID, false, req, "headers missing");
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct kerf_http_header *h = &req->headers[i];
		if (!h->name || !http_is_token(h->name))
			return http_fail(err, KERF_E_INVALID, false, req,
					 "invalid header name at index %zu", i);
		if (h->value && http_has_ctl(h->value))
			return http_fail(err, KERF_E_INVALID, false, req,
					 "control character in header %s", h->name);
	}
	if (req->body_len > 0 && !req->body)
		return http_fail(err, KERF_E_INVALID, false, req, "body_len without body");
	if (req->timeout_ms < 0)
		return http_fail(err, KERF_E_INVALID, false, req, "negative timeout");
	return 0;
}

/* curl takes timeouts as long, which is 32 bits on some targets. */
static long http_clamp_long(int64_t v)
{
	return v > LONG_MAX ? LONG_MAX : (long)v;
}

/* The environment's no_proxy plus loopback: setting CURLOPT_NOPROXY makes
 * curl ignore no_proxy, so both go into the one list. */
static void http_noproxy(struct strbuf *sb)
{
	const char *env = getenv("no_proxy");
	if (!env || !env[0])
		env = getenv("NO_PROXY");
	if (env && strcmp(env, "*") == 0) {
		sb_puts(sb, "*");
		return;
	}
	if (env && env[0]) {
		sb_puts(sb, env);
		sb_puts(sb, ",");
	}
	sb_puts(sb, HTTP_LOOPBACK_NOPROXY);
}

static struct curl_slist *http_slist_add(struct curl_slist *list, const char *line)
{
	struct curl_slist *n = curl_slist_append(list, line);
	if (!n) {
		fprintf(stderr, "kerf: out of memory in curl_slist_append\n");
		abort();
	}
	return n;
}

/* A field of extra, when the caller's struct has it. */
#define HTTP_EXTRA_HAS(x, field)                                                                   \
	((x)->size >= offsetof(struct kerf_http_extra, field) + sizeof((x)->field) &&              \
	 (x)->field != NULL)

/* curl asks at least once a second, idle or not; nonzero aborts the transfer. */
static int http_on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return __atomic_load_n((const volatile int *)p, __ATOMIC_RELAXED) != 0;
}

/* PEM from memory (curl copies blobs, CURL_BLOB_COPY) and the caller's cancel flag. */
static void http_setup_extra(CURL *e, const struct kerf_http_extra *tls)
{
	struct curl_blob b = {.flags = CURL_BLOB_COPY};

	if (HTTP_EXTRA_HAS(tls, ca_pem)) {
		b.data = (void *)tls->ca_pem;
		b.len = tls->ca_pem_len;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (HTTP_EXTRA_HAS(tls, client_cert_pem)) {
		b.data = (void *)tls->client_cert_pem;
		b.len = tls->client_cert_pem_len;
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (HTTP_EXTRA_HAS(tls, client_key_pem)) {
		b.data = (void *)tls->client_key_pem;
		b.len = tls->client_key_pem_len;
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (HTTP_EXTRA_HAS(tls, cancel)) {
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, http_on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)tls->cancel);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	}
}

/*
 * Configures h->easy for req.  *headers receives the list curl reads during
 * the transfer (free it after perform).
 */
static void http_setup(struct http_client *c, struct http_handle *h,
		       const struct kerf_http_request *req, const struct kerf_http_extra *tls,
		       struct curl_slist **headers)
{
	CURL *e = h->easy;
	/* Keeps live connections, DNS and TLS session caches; drops options. */
	curl_easy_reset(e);
	h->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	/* A daemon's signal handlers are its own: no SIGALRM for DNS timeouts. */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : c->default_timeout_ms;
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, http_clamp_long(timeout));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, http_clamp_long(c->connect_timeout_ms));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	/* Neither the URL nor a redirect may lead anywhere but HTTP(S). */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* Everything curl can decode; large list responses shrink a lot. */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* A proxy's CONNECT reply is not the server's response. */
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);

	struct strbuf np;
	sb_init(&np);
	http_noproxy(&np);
	/* curl copies string options, so the buffer can go right away. */
	curl_easy_setopt(e, CURLOPT_NOPROXY, np.buf);
	sb_free(&np);

	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (req->client_cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert_file);
	if (req->client_key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key_file);
	if (tls)
		http_setup_extra(e, tls);
	if (req->insecure_skip_tls_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}

	const char *m = http_method(req);
	bool sends_body =
	    req->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (sends_body) {
		/* POSTFIELDS with an explicit size sends binary bodies as they
		 * are and a Content-Length even when empty; the custom method
		 * keeps that body on PUT, PATCH and DELETE. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}

	struct curl_slist *list = NULL;
	struct strbuf line;
	sb_init(&line);
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct kerf_http_header *hd = &req->headers[i];
		line.len = 0;
		/* "Name;" is curl's spelling of a header with an empty value;
		 * "Name:" would delete it instead. */
		if (hd->value && hd->value[0])
			sb_printf(&line, "%s: %s", hd->name, hd->value);
		else
			sb_printf(&line, "%s;", hd->name);
		list = http_slist_add(list, line.buf);
	}
	sb_free(&line);
	/* curl waits up to a second for 100 Continue on large bodies; the
	 * APIs kerf talks to answer directly. */
	if (!http_req_has_header(req, "Expect"))
		list = http_slist_add(list, "Expect:");
	/* curl labels every POSTFIELDS body as a form; only the caller knows
	 * the real type, and a body it did not label is sent unlabelled. */
	if (sends_body && !http_req_has_header(req, "Content-Type"))
		list = http_slist_add(list, "Content-Type:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
	*headers = list;
}

int http_request(struct http_client *c, const struct kerf_http_request *req,
		 struct kerf_http_response **out, struct kerf_error *err)
{
	return http_request_ex(c, req, NULL, out, err);
}

int http_request_ex(struct http_client *c, const struct kerf_http_request *req,
		     const struct kerf_http_extra *tls, struct kerf_http_response **out,
		     struct kerf_error *err)
{
	int rc = http_validate(req, err);
	if (rc)
		return rc;
	struct http_handle *h = http_acquire(c);
	if (!h)
		return http_fail(err, KERF_E_INTERNAL, false, req, "curl_easy_init failed");
	struct http_xfer x = {.h = h};
	sb_init(&x.body);
	x.max_body =
	    req->max_response_bytes ? req->max_response_bytes : HTTP_DEFAULT_MAX_RESPONSE_BYTES;
	struct curl_slist *headers = NULL;
	http_setup(c, h, req, tls, &headers);
	curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &x);
	CURLcode cc = curl_easy_perform(h->easy);
	/* The list must outlive the transfer; drop curl's pointer to it too. */
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	if (cc != CURLE_OK) {
		rc = http_map_curl(err, cc, &x, req);
		http_release(c, h);
		http_xfer_clear_headers(&x);
		free(x.headers);
		sb_free(&x.body);
		return rc;
	}
	struct kerf_http_response *r = xcalloc(1, sizeof(*r));
	r->status = (int)http_current_status(h);
	http_release(c, h);
	r->headers = x.headers;
	r->n_headers = x.n_headers;
	r->body_len = x.body.len;
	r->body = sb_detach(&x.body);
	*out = r;
	return 0;
}

int http_stream(struct http_client *c, const struct kerf_http_request *req, kerf_http_data_fn fn,
		void *arg, struct kerf_error *err)
{
	return http_stream_ex(c, req, NULL, fn, arg, err);
}

int http_stream_ex(struct http_client *c, const struct kerf_http_request *req,
		    const struct kerf_http_extra *tls, kerf_http_data_fn fn, void *arg,
		    struct kerf_error *err)
{
	int rc = http_validate(req, err);
	if (rc)
		return rc;
	if (!fn)
		return http_fail(err, KERF_E_INVALID, false, req, "no stream callback");
	struct http_handle *h = http_acquire(c);
	if (!h)
		return http_fail(err, KERF_E_INTERNAL, false, req, "curl_easy_init failed");
	struct http_xfer x = {.h = h, .fn = fn, .arg = arg};
	struct curl_slist *headers = NULL;
	http_setup(c, h, req, tls, &headers);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, http_on_stream);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &x);
	CURLcode cc = curl_easy_perform(h->easy);
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	int status = (int)http_current_status(h);
	if (x.stopped)
		rc = 0;
	else if (cc != CURLE_OK)
		rc = http_map_curl(err, cc, &x, req);
	/* The handle goes back before fn runs again, so fn may use the client. */
	http_release(c, h);
	if (rc == 0 && !x.stopped && !x.delivered)
		fn(arg, status, "", 0);
	return rc;
}
