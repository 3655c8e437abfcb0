/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_client.c - every request kerf sends to the API server goes through
 * kube_do / kube_stream: the bearer credential of the moment, the client
 * certificate, the CA, the client-side rate limit (a token bucket, as
 * client-go's QPS and burst) and back-off on 429 with Retry-After.
 *
 * Credentials.  A static token is sent as it is.  A token file (a
 * projected service-account token rotates about hourly) is re-read every
 * minute and after a 401.  An exec plugin is run when there is no
 * credential yet, when its expirationTimestamp has passed, and after a
 * 401; its ExecCredential may carry a token or a client certificate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kube.h"

#define TOKEN_FILE_REREAD_MS 60000
#define TOKEN_MAX_BYTES ((size_t)1 << 20)
#define EXEC_TIMEOUT_MS 60000
#define RETRY_AFTER_MAX_MS 60000
#define RETRY_AFTER_DEFAULT_MS 1000

struct kube_client {
	const struct kerf_host *h;
	struct kube_conn *conn;
	struct kube_client_options opt;
	atomic_bool *stop;
	const volatile int *cancel;
	pthread_mutex_t lock; /* guards everything below */
	struct kube_bucket bucket;
	/* the current bearer token and where it came from */
	char *token;
	int64_t token_read_ms;	 /* host mono time the token file was read */
	int64_t token_expiry_ms; /* exec: wall time it expires, 0: no expiry */
	char *exec_cert, *exec_key;
	unsigned long generation; /* bumped by every refresh, so a 401 refreshes once */
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

bool kube_sleep(atomic_bool *stop, int64_t ms)
{
	/* In slices, so destroy() never waits for a long back-off to end. */
	while (ms > 0) {
		if (stop && atomic_load(stop))
			return false;
		int64_t step = ms > 50 ? 50 : ms;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		ms -= step;
	}
	return !(stop && atomic_load(stop));
}

struct kube_client *kube_client_new(const struct kerf_host *h, struct kube_conn *conn,
				    const struct kube_client_options *opt, atomic_bool *stop,
				    const volatile int *cancel)
{
	struct kube_client *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->h = h;
	c->conn = conn;
	c->opt = *opt;
	if (c->opt.qps <= 0)
		c->opt.qps = 5;
	if (c->opt.burst <= 0)
		c->opt.burst = 10;
	c->stop = stop;
	c->cancel = cancel;
	kube_bucket_init(&c->bucket, c->opt.qps, c->opt.burst, h->mono_ms(h->ctx));
	pthread_mutex_init(&c->lock, NULL);
	if (conn->token) {
		c->token = xstrdup(conn->token);
		h->register_secret(h->ctx, c->token);
	}
	return c;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	kube_conn_free(c->conn);
	free(c->token);
	free(c->exec_cert);
	free(c->exec_key);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const struct kube_conn *kube_client_conn(const struct kube_client *c)
{
	return c->conn;
}

/* ---------------------------------------------------------- rate limit */

void kube_bucket_init(struct kube_bucket *b, int64_t qps, int64_t burst, int64_t now_ms)
{
	b->qps = qps > 0 ? qps : 5;
	b->burst = burst > 0 ? burst : 10;
	b->milli = b->burst * 1000;
	b->at_ms = now_ms;
}

int64_t kube_bucket_take(struct kube_bucket *b, int64_t now_ms)
{
	/* Milli-tokens: qps of them come back each millisecond. */
	if (now_ms > b->at_ms) {
		b->milli += (now_ms - b->at_ms) * b->qps;
		if (b->milli > b->burst * 1000)
			b->milli = b->burst * 1000;
		b->at_ms = now_ms;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return 0;
	}
	return (1000 - b->milli + b->qps - 1) / b->qps;
}

/* Waits for a token of the bucket; false when stopping. */
static bool rate_wait(struct kube_client *c)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		int64_t wait_ms = kube_bucket_take(&c->bucket, c->h->mono_ms(c->h->ctx));
		pthread_mutex_unlock(&c->lock);
		if (wait_ms == 0)
			return true;
		if (!kube_sleep(c->stop, wait_ms))
			return false;
	}
}

/* ---------------------------------------------------------- credentials */

static int read_token_file(struct kube_client *c, struct kerf_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = c->h->read_file(c->h->ctx, c->conn->token_file, TOKEN_MAX_BYTES, &text, &len, err);
	if (rc)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (len == 0) {
		c->h->free(c->h->ctx, text);
		return kerf_error_set(err, KERF_E_AUTH, "%s: empty token file",
				      c->conn->token_file);
	}
	free(c->token);
	c->token = xstrdup(text);
	c->h->free(c->h->ctx, text);
	c->h->register_secret(c->h->ctx, c->token);
	c->token_read_ms = c->h->mono_ms(c->h->ctx);
	c->generation++;
	return 0;
}

/* Runs the exec plugin and keeps what its ExecCredential says. */
static int run_exec(struct kube_client *c, struct kerf_error *err)
{
	const struct kerf_host *h = c->h;
	const struct kube_exec *e = c->conn->exec;
	char info[256];
	char *out = NULL;
	size_t out_len = 0;
	int status = 0, rc;

	if (!KERF_HOST_HAS(h, run_command))
		return kerf_error_set(err, KERF_E_UNSUPPORTED,
				      "%s: the kubeconfig's exec plugin needs a kerf whose host "
				      "runs commands (ABI 2.1)",
				      c->conn->source);
	const char **argv = calloc(e->n_args + 2, sizeof(char *));
	const char **env = calloc(e->n_env + 2, sizeof(char *));
	if (!argv || !env)
		abort();
	argv[0] = e->command;
	for (size_t i = 0; i < e->n_args; i++)
		argv[i + 1] = e->args[i];
	snprintf(info, sizeof(info),
		 "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		 "\"spec\":{\"interactive\":false}}",
		 e->api_version);
	env[0] = info;
	for (size_t i = 0; i < e->n_env; i++)
		env[i + 1] = e->env[i];
	rc = h->run_command(h->ctx, argv, env, EXEC_TIMEOUT_MS, 0, &out, &out_len, &status, err);
	free(argv);
	free(env);
	if (rc)
		return rc;
	if (status != 0) {
		h->free(h->ctx, out);
		return kerf_error_set(err, KERF_E_AUTH, "exec credential plugin %s exited with %d",
				      e->command, status);
	}
	json_t *j = kube_json_parse("ExecCredential", out, out_len, 1 << 20, err);
	h->free(h->ctx, out);
	if (!j)
		return KERF_E_AUTH;
	const char *av = json_string_value(json_object_get(j, "apiVersion"));
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *st = json_object_get(j, "status");
	rc = 0;
	if (!av || strcmp(av, e->api_version) != 0 || !kind ||
	    strcmp(kind, "ExecCredential") != 0) {
		rc = kerf_error_set(err, KERF_E_AUTH,
				    "exec credential plugin %s: apiVersion: expected %s "
				    "ExecCredential, got %s %s",
				    e->command, e->api_version, av ? av : "none",
				    kind ? kind : "none");
	} else if (!json_is_object(st)) {
		rc = kerf_error_set(err, KERF_E_AUTH, "exec credential plugin %s: status: missing",
				    e->command);
	} else {
		const char *tok = json_string_value(json_object_get(st, "token"));
		const char *cert = json_string_value(json_object_get(st, "clientCertificateData"));
		const char *key = json_string_value(json_object_get(st, "clientKeyData"));
		const char *exp = json_string_value(json_object_get(st, "expirationTimestamp"));
		int64_t exp_ms = 0;
		if (!tok && !(cert && key))
			rc = kerf_error_set(err, KERF_E_AUTH,
					    "exec credential plugin %s: status: neither a token "
					    "nor clientCertificateData and clientKeyData",
					    e->command);
		else if (exp && !kube_parse_time(exp, &exp_ms))
			rc = kerf_error_set(err, KERF_E_AUTH,
					    "exec credential plugin %s: "
					    "status.expirationTimestamp: not RFC 3339: %s",
					    e->command, exp);
		if (rc == 0) {
			free(c->token);
			c->token = tok ? xstrdup(tok) : NULL;
			if (tok)
				h->register_secret(h->ctx, tok);
			free(c->exec_cert);
			free(c->exec_key);
			c->exec_cert = cert ? xstrdup(cert) : NULL;
			c->exec_key = key ? xstrdup(key) : NULL;
			if (key)
				h->register_secret(h->ctx, key);
			c->token_expiry_ms = exp_ms;
			c->generation++;
		}
	}
	json_decref(j);
	return rc;
}

/*
 * Makes the credential current under c->lock: re-reads a token file that
 * is due, runs the exec plugin when its credential expired or `force` (a
 * 401 with the credential of generation `seen`).
 */
static int refresh(struct kube_client *c, bool force, unsigned long seen, struct kerf_error *err)
{
	if (force && c->generation != seen)
		return 0; /* another request refreshed it meanwhile */
	if (c->conn->exec) {
		bool expired =
		    c->token_expiry_ms && c->h->wall_ms(c->h->ctx) >= c->token_expiry_ms - 10000;
		if (force || (!c->token && !c->exec_cert) || expired)
			return run_exec(c, err);
		return 0;
	}
	if (c->conn->token_file && !c->conn->token) {
		int64_t now = c->h->mono_ms(c->h->ctx);
		if (force || !c->token || now - c->token_read_ms >= TOKEN_FILE_REREAD_MS)
			return read_token_file(c, err);
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

struct creds {
	char *auth; /* "Bearer ..." or NULL */
	char *cert, *key;
	unsigned long generation;
};

static void creds_clear(struct creds *cr)
{
	free(cr->auth);
	free(cr->cert);
	free(cr->key);
	memset(cr, 0, sizeof(*cr));
}

static int creds_take(struct kube_client *c, bool force, unsigned long seen, struct creds *cr,
		      struct kerf_error *err)
{
	pthread_mutex_lock(&c->lock);
	int rc = refresh(c, force, seen, err);
	if (rc == 0) {
		if (c->token) {
			size_t n = strlen(c->token) + 8;
			cr->auth = malloc(n);
			if (!cr->auth)
				abort();
			snprintf(cr->auth, n, "Bearer %s", c->token);
		}
		if (c->exec_cert)
			cr->cert = xstrdup(c->exec_cert);
		if (c->exec_key)
			cr->key = xstrdup(c->exec_key);
		cr->generation = c->generation;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

struct call {
	struct kerf_http_request req;
	struct kerf_http_header headers[3];
	struct kerf_http_extra tls;
	bool use_tls; /* material only the 2.1 calls carry */
	char *url;
};

static int call_init(struct kube_client *c, struct call *k, const char *method, const char *path,
		     const char *body, const char *content_type, const struct creds *cr,
		     struct kerf_error *err)
{
	const struct kube_conn *cn = c->conn;
	size_t n = strlen(cn->server) + strlen(path) + 1;
	size_t nh = 0;

	memset(k, 0, sizeof(*k));
	k->url = malloc(n);
	if (!k->url)
		abort();
	snprintf(k->url, n, "%s%s", cn->server, path);
	k->headers[nh++] = (struct kerf_http_header){"Accept", "application/json"};
	if (body)
		k->headers[nh++] = (struct kerf_http_header){
		    "Content-Type", content_type ? content_type : "application/json"};
	if (cr->auth)
		k->headers[nh++] = (struct kerf_http_header){"Authorization", cr->auth};
	k->req.method = method;
	k->req.url = k->url;
	k->req.headers = k->headers;
	k->req.n_headers = nh;
	k->req.body = body;
	k->req.body_len = body ? strlen(body) : 0;
	k->req.timeout_ms = c->opt.timeout_ms;
	k->req.ca_file = cn->ca_file;
	k->req.client_cert_file = cn->cert_file;
	k->req.client_key_file = cn->key_file;
	k->req.insecure_skip_tls_verify = cn->insecure;
	k->req.max_response_bytes = KUBE_MAX_LIST_BYTES;
	k->tls.size = sizeof(k->tls);
	if (cn->ca_pem) {
		k->tls.ca_pem = cn->ca_pem;
		k->tls.ca_pem_len = strlen(cn->ca_pem);
		k->use_tls = true;
	}
	const char *cert = cr->cert ? cr->cert : cn->cert_pem;
	const char *key = cr->key ? cr->key : cn->key_pem;
	if (cert) {
		k->tls.client_cert_pem = cert;
		k->tls.client_cert_pem_len = strlen(cert);
		k->use_tls = true;
	}
	if (key) {
		k->tls.client_key_pem = key;
		k->tls.client_key_pem_len = strlen(key);
		k->use_tls = true;
	}
	k->tls.cancel = c->cancel;
	if (k->use_tls && !KERF_HOST_HAS(c->h, http_request_ex)) {
		free(k->url);
		return kerf_error_set(err, KERF_E_UNSUPPORTED,
				      "%s: certificate data in the kubeconfig needs a kerf whose "
				      "host takes TLS material from memory (ABI 2.1)",
				      cn->source);
	}
	return 0;
}

int64_t kube_retry_after_ms(const struct kerf_http_response *r)
{
	for (size_t i = 0; r && i < r->n_headers; i++) {
		if (strcasecmp(r->headers[i].name, "Retry-After") != 0)
			continue;
		char *end = NULL;
		errno = 0;
		long long s = strtoll(r->headers[i].value, &end, 10);
		if (errno || end == r->headers[i].value || s < 0)
			return -1;
		return s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (int64_t)s * 1000;
	}
	return -1;
}

int kube_do(struct kube_client *c, const char *method, const char *path, const char *body,
	    const char *content_type, bool retry_429, struct kerf_http_response **out,
	    struct kerf_error *err)
{
	const struct kerf_host *h = c->h;
	bool refreshed = false;
	int throttled = 0;

	for (;;) {
		struct creds cr = {0};
		struct call k;
		struct kerf_http_response *r = NULL;
		int rc;

		if (!rate_wait(c))
			return kerf_error_set(err, KERF_E_TIMEOUT, "%s %s: stopping", method, path);
		if ((rc = creds_take(c, false, 0, &cr, err)) != 0)
			return rc;
		if ((rc = call_init(c, &k, method, path, body, content_type, &cr, err)) != 0) {
			creds_clear(&cr);
			return rc;
		}
		/* With the 2.1 call a request in flight ends as soon as the plugin stops. */
		rc = KERF_HOST_HAS(h, http_request_ex)
			 ? h->http_request_ex(h->ctx, &k.req, &k.tls, &r, err)
			 : h->http_request(h->ctx, &k.req, &r, err);
		free(k.url);
		unsigned long gen = cr.generation;
		creds_clear(&cr);
		if (rc)
			return rc;
		if (r->status == 401 && !refreshed &&
		    (c->conn->exec || (c->conn->token_file && !c->conn->token))) {
			h->http_response_free(h->ctx, r);
			refreshed = true;
			struct creds again = {0};
			if ((rc = creds_take(c, true, gen, &again, err)) != 0)
				return rc;
			creds_clear(&again);
			continue;
		}
		if (r->status == 429 && retry_429 && throttled < c->opt.max_retries_429) {
			int64_t wait = kube_retry_after_ms(r);
			h->http_response_free(h->ctx, r);
			throttled++;
			h->log(h->ctx, KERF_LOG_DEBUG,
			       "%s %s: throttled (429), retrying in %lld ms", method, path,
			       (long long)(wait < 0 ? RETRY_AFTER_DEFAULT_MS : wait));
			if (!kube_sleep(c->stop, wait < 0 ? RETRY_AFTER_DEFAULT_MS : wait))
				return kerf_error_set(err, KERF_E_TIMEOUT, "%s %s: stopping",
						      method, path);
			continue;
		}
		*out = r;
		return 0;
	}
}

int kube_stream(struct kube_client *c, const char *path, int64_t timeout_ms, kerf_http_data_fn fn,
		void *arg, struct kerf_error *err)
{
	const struct kerf_host *h = c->h;
	struct creds cr = {0};
	struct call k;
	int rc;

	if (!rate_wait(c))
		return kerf_error_set(err, KERF_E_TIMEOUT, "GET %s: stopping", path);
	if ((rc = creds_take(c, false, 0, &cr, err)) != 0)
		return rc;
	if ((rc = call_init(c, &k, "GET", path, NULL, NULL, &cr, err)) != 0) {
		creds_clear(&cr);
		return rc;
	}
	k.req.timeout_ms = timeout_ms;
	/* With the 2.1 call an idle stream ends as soon as the plugin stops. */
	rc = KERF_HOST_HAS(h, http_stream_ex)
		 ? h->http_stream_ex(h->ctx, &k.req, &k.tls, fn, arg, err)
		 : h->http_stream(h->ctx, &k.req, fn, arg, err);
	free(k.url);
	creds_clear(&cr);
	return rc;
}

int kube_status_error(const struct kerf_http_response *r, const char *what, struct kerf_error *err)
{
	if (r->status >= 200 && r->status < 300)
		return 0;
	const char *msg = NULL;
	json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	if (j)
		msg = json_string_value(json_object_get(j, "message"));
	int code;
	bool retryable = false;
	switch (r->status) {
	case 404:
		code = KERF_E_NOTFOUND;
		break;
	case 409:
		code = KERF_E_CONFLICT;
		break;
	case 429:
		code = KERF_E_THROTTLED;
		retryable = true;
		break;
	case 401:
	case 403:
		code = KERF_E_AUTH;
		break;
	case 422:
	case 400:
		code = KERF_E_INVALID;
		break;
	default:
		code = r->status >= 500 ? KERF_E_IO : KERF_E_HTTP;
		retryable = r->status >= 500;
		break;
	}
	kerf_error_set(err, code, "%s: HTTP %d: %s", what, r->status, msg ? msg : "no message");
	if (err) {
		err->http_status = r->status;
		err->retryable = retryable;
		if (r->status == 429) {
			int64_t ra = kube_retry_after_ms(r);
			err->retry_after_ms = ra < 0 ? RETRY_AFTER_DEFAULT_MS : ra;
		}
	}
	json_decref(j);
	return code;
}
