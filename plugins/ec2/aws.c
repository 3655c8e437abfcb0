/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws.c - the AWS client: endpoints, signing of each request, retries with
 * jittered back-off, error mapping, and the Query, JSON 1.1 and REST-JSON
 * protocols on top.
 */
#include "aws_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws_buf.h"
#include "sigv4.h"

/* ------------------------------------------------------------ params */

void aws_params_add(struct aws_params *p, const char *name, const char *value)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct aws_param *items = realloc(p->items, cap * sizeof(*items));
		if (!items)
			abort();
		p->items = items;
		p->cap = cap;
	}
	p->items[p->n].name = aws_xstrdup(name);
	p->items[p->n].value = aws_xstrdup(value ? value : "");
	p->n++;
}

void aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *v = aws_xmalloc(n > 0 ? (size_t)n + 1 : 1);
	v[0] = '\0';
	if (n > 0) {
		va_start(ap, fmt);
		vsnprintf(v, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	aws_params_add(p, name, v);
	free(v);
}

void aws_params_clear(struct aws_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].value);
	}
	free(p->items);
	p->items = NULL;
	p->n = p->cap = 0;
}

/* ------------------------------------------------------------ credentials */

void aws_creds_clear(struct aws_creds *cr)
{
	if (!cr)
		return;
	aws_free_secret(cr->access_key);
	aws_free_secret(cr->secret_key);
	aws_free_secret(cr->session_token);
	memset(cr, 0, sizeof(*cr));
}

void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	dst->access_key = src->access_key ? aws_xstrdup(src->access_key) : NULL;
	dst->secret_key = src->secret_key ? aws_xstrdup(src->secret_key) : NULL;
	dst->session_token = src->session_token ? aws_xstrdup(src->session_token) : NULL;
	dst->expires_ms = src->expires_ms;
}

static bool creds_fresh(const struct aws_creds *cr, int64_t now_ms, int64_t margin_ms)
{
	return cr->expires_ms == 0 || now_ms + margin_ms < cr->expires_ms;
}

/*
 * The credentials to sign with, copied out so the request runs without
 * the lock.  Resolves on first use, and again when the current ones are
 * within AWS_CREDS_REFRESH_MS of expiry or `force` (an expired-token
 * answer).  A failed refresh keeps credentials that have not expired yet.
 */
static int client_creds(struct aws_client *c, struct aws_creds *copy, bool force,
			struct kerf_error *err)
{
	const struct kerf_host *h = c->host;
	pthread_mutex_lock(&c->lock);
	int64_t now = h->wall_ms(h->ctx);
	if (c->have_creds && !force && creds_fresh(&c->creds, now, AWS_CREDS_REFRESH_MS)) {
		aws_creds_copy(copy, &c->creds);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	struct aws_creds fresh = {0};
	char source[sizeof(c->source)] = "";
	/* Resolution calls STS or metadata services, which take no client lock. */
	int rc = aws_creds_resolve(c, &fresh, source, sizeof(source), err);
	if (rc == 0) {
		aws_creds_clear(&c->creds);
		c->creds = fresh;
		c->have_creds = true;
		snprintf(c->source, sizeof(c->source), "%s", source);
		h->log(h->ctx, KERF_LOG_INFO, "aws: credentials from %s%s", source,
		       fresh.expires_ms ? " (temporary, refreshed before expiry)" : "");
	} else if (c->have_creds && !force && creds_fresh(&c->creds, now, 0)) {
		h->log(h->ctx, KERF_LOG_WARN,
		       "aws: refreshing credentials failed (%s); using the current ones until "
		       "they expire",
		       err ? err->message : kerf_strerror(rc));
		rc = 0;
	}
	if (rc == 0)
		aws_creds_copy(copy, &c->creds);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int aws_client_resolve_credentials(struct aws_client *c, struct kerf_error *err)
{
	struct aws_creds cr = {0};
	int rc = client_creds(c, &cr, false, err);
	aws_creds_clear(&cr);
	return rc;
}

const char *aws_client_credential_source(struct aws_client *c)
{
	pthread_mutex_lock(&c->lock);
	const char *s = c->have_creds ? c->source : NULL;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* ------------------------------------------------------------ client */

static const char *const SIGNING_NAME[AWS_SERVICE_COUNT] = {
    [AWS_EC2] = "ec2",	       [AWS_STS] = "sts", [AWS_SSM] = "ssm",
    [AWS_PRICING] = "pricing", [AWS_IMDS] = "",	  [AWS_EKS] = "eks"};

static void default_sleep(void *arg, int64_t ms)
{
	(void)arg;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static char *host_getenv_dup(const struct kerf_host *h, const char *name)
{
	const char *v = h->getenv(h->ctx, name);
	return v && *v ? aws_xstrdup(v) : NULL;
}

static bool valid_url(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7]) || (strncmp(u, "https://", 8) == 0 && u[8]);
}

static char *trim_slash(const char *u)
{
	size_t l = strlen(u);
	while (l > 0 && u[l - 1] == '/')
		l--;
	return aws_xstrndup(u, l);
}

int aws_client_new(const struct kerf_host *host, const struct aws_config *cfg,
		   struct aws_client **out, struct kerf_error *err)
{
	*out = NULL;
	struct aws_client *c = aws_xcalloc(1, sizeof(*c));
	c->host = host;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->rng_lock, NULL);
	c->sleep_ms = default_sleep;
	c->region = cfg->region && *cfg->region ? aws_xstrdup(cfg->region) : NULL;
	if (!c->region)
		c->region = host_getenv_dup(host, "AWS_REGION");
	if (!c->region)
		c->region = host_getenv_dup(host, "AWS_DEFAULT_REGION");
	c->profile = cfg->profile && *cfg->profile ? aws_xstrdup(cfg->profile) : NULL;
	if (!c->region)
		c->region = aws_profile_region(c);
	if (!c->region) {
		aws_client_free(c);
		return kerf_error_set(
		    err, KERF_E_CONFIG,
		    "aws: no region (set region in kerf.yaml, AWS_REGION, or region "
		    "in the profile of the AWS config file)");
	}
	c->pricing_region = aws_xstrdup(
	    cfg->pricing_region && *cfg->pricing_region ? cfg->pricing_region : "us-east-1");
	c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : AWS_DEFAULT_MAX_ATTEMPTS;
	const char *suffix =
	    strncmp(c->region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
	for (int s = 0; s < AWS_SERVICE_COUNT; s++) {
		const char *o = cfg->endpoint[s];
		if (!o && s == AWS_IMDS)
			o = host->getenv(host->ctx, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
		if (o && *o) {
			if (!valid_url(o)) {
				int rc =
				    kerf_error_set(err, KERF_E_CONFIG,
						   "aws: endpoint for %s is not an http(s) URL: %s",
						   s == AWS_IMDS ? "imds" : SIGNING_NAME[s], o);
				aws_client_free(c);
				return rc;
			}
			c->endpoint[s] = trim_slash(o);
			continue;
		}
		struct aws_buf b = {0};
		switch ((enum aws_service)s) {
		case AWS_EC2:
		case AWS_STS:
		case AWS_SSM:
		case AWS_EKS:
			aws_buf_addf(&b, "https://%s.%s.%s", SIGNING_NAME[s], c->region, suffix);
			break;
		case AWS_PRICING:
			aws_buf_addf(&b, "https://api.pricing.%s.%s", c->pricing_region, suffix);
			break;
		case AWS_IMDS:
			aws_buf_adds(&b, "http://169.254.169.254");
			break;
		case AWS_SERVICE_COUNT:
			break;
		}
		c->endpoint[s] = aws_buf_detach(&b);
	}
	uint64_t seed = (uint64_t)host->real_mono_ms(host->ctx) ^ (uint64_t)(uintptr_t)c;
	c->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	*out = c;
	return 0;
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	aws_creds_clear(&c->creds);
	free(c->region);
	free(c->pricing_region);
	free(c->profile);
	for (int s = 0; s < AWS_SERVICE_COUNT; s++)
		free(c->endpoint[s]);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->rng_lock);
	free(c);
}

void aws_client_set_sleep(struct aws_client *c, void (*sleep_ms)(void *arg, int64_t ms), void *arg)
{
	c->sleep_ms = sleep_ms ? sleep_ms : default_sleep;
	c->sleep_arg = arg;
}

void aws_client_set_seed(struct aws_client *c, uint64_t seed)
{
	pthread_mutex_lock(&c->rng_lock);
	c->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	pthread_mutex_unlock(&c->rng_lock);
}

/* ------------------------------------------------------------ back-off */

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#define AWS_BACKOFF_BASE_MS 200
#define AWS_BACKOFF_THROTTLE_BASE_MS 1000
#define AWS_BACKOFF_CAP_MS 20000

int64_t aws_backoff_ms(int retry, bool throttled, int64_t retry_after_ms, uint64_t *state)
{
	int64_t ceiling = throttled ? AWS_BACKOFF_THROTTLE_BASE_MS : AWS_BACKOFF_BASE_MS;
	for (int i = 1; i < retry && ceiling < AWS_BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > AWS_BACKOFF_CAP_MS)
		ceiling = AWS_BACKOFF_CAP_MS;
	int64_t d = (int64_t)(next_random(state) % (uint64_t)(ceiling + 1));
	if (retry_after_ms > d)
		d = retry_after_ms > AWS_BACKOFF_CAP_MS ? AWS_BACKOFF_CAP_MS : retry_after_ms;
	return d;
}

/* ------------------------------------------------------------ one exchange */

/* "https://host:port/path" -> authority "host:port" and path "/path" (or "/"). */
static void split_url(const char *url, char **authority, char **path)
{
	const char *a = strstr(url, "://");
	a = a ? a + 3 : url;
	const char *p = strchr(a, '/');
	*authority = p ? aws_xstrndup(a, (size_t)(p - a)) : aws_xstrdup(a);
	*path = aws_xstrdup(p ? p : "/");
}

static const char *response_header(const struct kerf_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static int send_once(struct aws_client *c, const struct aws_call *call,
		     const struct aws_creds *creds, struct kerf_http_response **resp,
		     struct kerf_error *err)
{
	const struct kerf_host *h = c->host;
	struct aws_buf url = {0};
	char *authority, *base_path;
	if (call->url) {
		aws_buf_adds(&url, call->url);
		split_url(call->url, &authority, &base_path);
	} else {
		split_url(c->endpoint[call->svc], &authority, &base_path);
		aws_buf_adds(&url, c->endpoint[call->svc]);
		if (call->path) {
			/* An endpoint with a path of its own prefixes the call's. */
			struct aws_buf p = {0};
			if (strcmp(base_path, "/") != 0)
				aws_buf_adds(&p, base_path);
			aws_buf_adds(&p, call->path);
			free(base_path);
			base_path = aws_buf_detach(&p);
			aws_buf_adds(&url, call->path);
		} else if (strcmp(base_path, "/") == 0) {
			aws_buf_addc(&url, '/');
		}
		if (call->query && *call->query) {
			aws_buf_addc(&url, '?');
			aws_buf_adds(&url, call->query);
		}
	}

	struct kerf_http_header hdr[16];
	size_t n = 0;
	char amz_date[17];
	sigv4_amz_date(h->wall_ms(h->ctx), amz_date);
	if (creds) {
		hdr[n++] = (struct kerf_http_header){"Host", authority};
		hdr[n++] = (struct kerf_http_header){"X-Amz-Date", amz_date};
	}
	if (call->content_type)
		hdr[n++] = (struct kerf_http_header){"Content-Type", call->content_type};
	if (call->target)
		hdr[n++] = (struct kerf_http_header){"X-Amz-Target", call->target};
	if (creds && creds->session_token)
		hdr[n++] = (struct kerf_http_header){"X-Amz-Security-Token", creds->session_token};
	struct sigv4_result sig = {0};
	if (creds) {
		const char *region = call->svc == AWS_PRICING ? c->pricing_region : c->region;
		struct sigv4_header sh[16];
		for (size_t i = 0; i < n; i++)
			sh[i] = (struct sigv4_header){hdr[i].name, hdr[i].value};
		struct sigv4_request sr = {.method = call->method,
					   .path = base_path,
					   .query = call->url ? NULL : call->query,
					   .headers = sh,
					   .n_headers = n,
					   .body = call->body,
					   .body_len = call->body_len,
					   .normalize_path = true};
		if (call->url) {
			const char *q = strchr(call->url, '?');
			sr.query = q ? q + 1 : NULL;
			char *qm = strchr(base_path, '?');
			if (qm)
				*qm = '\0';
		}
		if (sigv4_sign(&sr, creds->access_key, creds->secret_key, region,
			       SIGNING_NAME[call->svc], amz_date, &sig) != 0) {
			free(authority);
			free(base_path);
			aws_buf_free(&url);
			return kerf_error_set(err, KERF_E_INTERNAL, "aws: cannot sign the request");
		}
		hdr[n++] = (struct kerf_http_header){"Authorization", sig.authorization};
	}
	for (size_t i = 0; i < call->n_extra && n < sizeof(hdr) / sizeof(hdr[0]); i++)
		hdr[n++] = call->extra[i];

	struct kerf_http_request req = {.method = call->method,
					.url = url.data,
					.n_headers = n,
					.headers = hdr,
					.body = call->body,
					.body_len = call->body_len,
					.timeout_ms = call->timeout_ms,
					.max_response_bytes = AWS_MAX_RESPONSE_BYTES};
	int rc = h->http_request(h->ctx, &req, resp, err);
	sigv4_result_free(&sig);
	free(authority);
	free(base_path);
	aws_buf_free(&url);
	return rc;
}

/*
 * Whether an auth answer may mean only that the credentials went stale:
 * an expired token always, and with temporary credentials also a key AWS
 * no longer knows (a session revoked or rotated before its expiry).
 */
static bool stale_credentials(const char *code, bool temporary)
{
	if (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "ExpiredTokenException") == 0 ||
	    strcmp(code, "RequestExpired") == 0 || strcmp(code, "InvalidToken") == 0)
		return true;
	return temporary &&
	       (strcmp(code, "AuthFailure") == 0 || strcmp(code, "InvalidClientTokenId") == 0 ||
		strcmp(code, "UnrecognizedClientException") == 0);
}

static int64_t retry_after(const struct kerf_http_response *r)
{
	const char *v = response_header(r, "Retry-After");
	if (!v)
		return 0;
	char *end;
	long long s = strtoll(v, &end, 10);
	if (end == v || s < 0 || s > 3600)
		return 0;
	return (int64_t)s * 1000;
}

static void wait_before_retry(struct aws_client *c, const struct aws_call *call, int attempt,
			      int max, bool throttled, int64_t hint_ms, const char *why)
{
	pthread_mutex_lock(&c->rng_lock);
	int64_t ms = aws_backoff_ms(attempt, throttled, hint_ms, &c->rng);
	pthread_mutex_unlock(&c->rng_lock);
	const struct kerf_host *h = c->host;
	h->log(h->ctx, KERF_LOG_DEBUG, "aws: %s %s attempt %d/%d: %s; retrying in %lld ms",
	       call->svc == AWS_IMDS ? "imds" : SIGNING_NAME[call->svc],
	       call->target ? call->target : call->method, attempt, max, why, (long long)ms);
	c->sleep_ms(c->sleep_arg, ms);
}

int aws_exchange(struct aws_client *c, const struct aws_call *call,
		 struct kerf_http_response **resp, struct kerf_error *err)
{
	const struct kerf_host *h = c->host;
	*resp = NULL;
	int max = call->max_attempts > 0 ? call->max_attempts : c->max_attempts;
	bool refreshed = false;
	int rc = 0;
	for (int attempt = 1;; attempt++) {
		struct kerf_error e = KERF_ERROR_INIT;
		struct aws_creds chain = {0};
		const struct aws_creds *creds = call->creds;
		if (call->use_chain) {
			rc = client_creds(c, &chain, false, err);
			if (rc != 0)
				return rc;
			creds = &chain;
		}
		bool temporary = creds && creds->session_token;
		struct kerf_http_response *r = NULL;
		rc = send_once(c, call, creds, &r, &e);
		aws_creds_clear(&chain);
		if (rc != 0) {
			bool transient = rc == KERF_E_IO || rc == KERF_E_TIMEOUT || e.retryable;
			if (!transient || attempt >= max) {
				if (err) {
					kerf_error_clear(err);
					err->retryable = transient;
					kerf_error_set(err, rc, "aws: %s after %d attempt%s: %s",
						       rc == KERF_E_TIMEOUT ? "timed out"
									    : "connection failed",
						       attempt, attempt == 1 ? "" : "s", e.message);
				}
				return rc;
			}
			wait_before_retry(c, call, attempt, max, false, 0, e.message);
			continue;
		}
		if (r->status >= 200 && r->status < 300) {
			*resp = r;
			return 0;
		}
		char code[64], msg[384];
		const char *etype = response_header(r, "x-amzn-ErrorType");
		if (!aws_error_decode(r->body, r->body_len, etype, code, sizeof(code), msg,
				      sizeof(msg)))
			code[0] = '\0';
		rc = aws_error_map(code, r->status);
		int status = r->status;
		int64_t hint = retry_after(r);
		h->http_response_free(h->ctx, r);
		if (rc == KERF_E_AUTH && call->use_chain && !refreshed &&
		    stale_credentials(code, temporary)) {
			/* The credentials expired early (revoked, clock skew): fetch new
			 * ones once, without counting it as an attempt against AWS. */
			refreshed = true;
			struct aws_creds fresh = {0};
			if (client_creds(c, &fresh, true, NULL) == 0) {
				aws_creds_clear(&fresh);
				attempt--;
				continue;
			}
		}
		bool retry = rc == KERF_E_THROTTLED || rc == KERF_E_HTTP;
		if (retry && attempt < max) {
			char why[160];
			snprintf(why, sizeof(why), "HTTP %d %s", status, code[0] ? code : "");
			wait_before_retry(c, call, attempt, max, rc == KERF_E_THROTTLED, hint, why);
			continue;
		}
		if (err) {
			kerf_error_clear(err);
			err->http_status = status;
			err->retryable = retry || rc == KERF_E_CAPACITY;
			err->retry_after_ms = hint;
			snprintf(err->provider_code, sizeof(err->provider_code), "%s", code);
			if (code[0])
				kerf_error_set(err, rc, "%s: %s", code,
					       msg[0] ? msg : "(no message)");
			else
				kerf_error_set(err, rc, "aws: HTTP %d from %s", status,
					       call->svc == AWS_IMDS ? "imds"
								     : SIGNING_NAME[call->svc]);
		}
		return rc;
	}
}

/* ------------------------------------------------------------ protocols */

static const char *query_version(enum aws_service svc)
{
	return svc == AWS_STS ? "2011-06-15" : "2016-11-15";
}

static void form_add(struct aws_buf *b, const char *name, const char *value)
{
	if (b->len)
		aws_buf_addc(b, '&');
	char *n = sigv4_uri_encode(name, strlen(name), false);
	char *v = sigv4_uri_encode(value, strlen(value), false);
	aws_buf_adds(b, n);
	aws_buf_addc(b, '=');
	aws_buf_adds(b, v);
	free(n);
	free(v);
}

static int query_common(struct aws_client *c, enum aws_service svc, const char *action,
			const struct aws_params *params, const struct aws_creds *creds,
			bool use_chain, xmlDoc **out, struct kerf_error *err)
{
	*out = NULL;
	struct aws_buf body = {0};
	form_add(&body, "Action", action);
	form_add(&body, "Version", query_version(svc));
	for (size_t i = 0; params && i < params->n; i++)
		form_add(&body, params->items[i].name, params->items[i].value);
	struct aws_call call = {.svc = svc,
				.method = "POST",
				.content_type = "application/x-www-form-urlencoded; charset=utf-8",
				.body = body.data,
				.body_len = body.len,
				.creds = creds,
				.use_chain = use_chain};
	struct kerf_http_response *r = NULL;
	int rc = aws_exchange(c, &call, &r, err);
	aws_buf_free(&body);
	if (rc != 0)
		return rc;
	rc = aws_xml_parse(r->body, r->body_len, out, err);
	c->host->http_response_free(c->host->ctx, r);
	return rc;
}

int aws_query(struct aws_client *c, enum aws_service svc, const char *action,
	      const struct aws_params *params, xmlDoc **out, struct kerf_error *err)
{
	return query_common(c, svc, action, params, NULL, true, out, err);
}

int aws_query_with(struct aws_client *c, enum aws_service svc, const char *action,
		   const struct aws_params *params, const struct aws_creds *creds, xmlDoc **out,
		   struct kerf_error *err)
{
	return query_common(c, svc, action, params, creds, false, out, err);
}

static int json_common(struct aws_client *c, struct aws_call *call, const json_t *body,
		       json_t **out, struct kerf_error *err)
{
	*out = NULL;
	char *text = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			return kerf_error_set(err, KERF_E_INVALID, "aws: request body is not JSON");
		call->body = text;
		call->body_len = strlen(text);
	}
	struct kerf_http_response *r = NULL;
	int rc = aws_exchange(c, call, &r, err);
	free(text);
	if (rc != 0)
		return rc;
	if (r->body_len == 0)
		*out = json_object();
	else
		rc = aws_json_parse(r->body, r->body_len, out, err);
	c->host->http_response_free(c->host->ctx, r);
	return rc;
}

int aws_json(struct aws_client *c, enum aws_service svc, const char *target, const json_t *body,
	     json_t **out, struct kerf_error *err)
{
	static const char empty[] = "{}";
	struct aws_call call = {.svc = svc,
				.method = "POST",
				.content_type = "application/x-amz-json-1.1",
				.target = target,
				.body = empty,
				.body_len = sizeof(empty) - 1,
				.use_chain = true};
	return json_common(c, &call, body, out, err);
}

int aws_rest_json(struct aws_client *c, enum aws_service svc, const char *method, const char *path,
		  const json_t *body, json_t **out, struct kerf_error *err)
{
	struct aws_call call = {.svc = svc,
				.method = method,
				.path = path,
				.content_type = body ? "application/json" : NULL,
				.use_chain = true};
	return json_common(c, &call, body, out, err);
}

int aws_query_pages(struct aws_client *c, enum aws_service svc, const char *action,
		    const struct aws_params *params, size_t max_pages,
		    int (*page)(void *arg, xmlDoc *doc, struct kerf_error *err), void *arg,
		    struct kerf_error *err)
{
	if (max_pages == 0)
		max_pages = 1000;
	struct aws_params p = {0};
	char *token = NULL;
	int rc = 0;
	for (size_t i = 0;; i++) {
		if (i == max_pages) {
			rc = kerf_error_set(err, KERF_E_RANGE,
					    "aws: %s returned more than %zu pages", action,
					    max_pages);
			break;
		}
		aws_params_clear(&p);
		for (size_t k = 0; params && k < params->n; k++)
			aws_params_add(&p, params->items[k].name, params->items[k].value);
		if (token)
			aws_params_add(&p, "NextToken", token);
		xmlDoc *doc = NULL;
		rc = aws_query(c, svc, action, &p, &doc, err);
		if (rc != 0)
			break;
		free(token);
		token = aws_xml_text(xmlDocGetRootElement(doc), "nextToken");
		rc = page(arg, doc, err);
		xmlFreeDoc(doc);
		if (rc != 0 || !token || !*token)
			break;
	}
	free(token);
	aws_params_clear(&p);
	return rc;
}

/* ------------------------------------------------------------ time */

int64_t aws_parse_iso8601(const char *s)
{
	int y, mo, d, hh, mm, ss;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mm, &ss) != 6)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = hh,
			.tm_min = mm,
			.tm_sec = ss};
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t * 1000;
}
