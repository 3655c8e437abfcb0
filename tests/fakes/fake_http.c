/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_http.c - scripted loopback HTTP server on libmicrohttpd.
 */
#include "fake_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "util.h"

/* The handler return type changed from int to enum in 0.9.71. */
#if MHD_VERSION >= 0x00097002
#define FAKE_MHD_RESULT enum MHD_Result
#else
#define FAKE_MHD_RESULT int
#endif

#define FAKE_NO_STEP ((size_t)-1)

/* A step as the server keeps it: every string owned, so the caller's
 * script may be a short-lived compound literal. */
struct fake_step {
	char *method;
	char *path;
	bool prefix;
	int status;
	size_t n_headers;
	struct fake_http_record_header *headers;
	char *body;
	size_t body_len;
	bool echo;
	int delay_ms;
	bool streamed;
	size_t n_chunks;
	struct fake_http_chunk *chunks; /* data owned */
	size_t events;
	size_t start_after;
};

struct fake_http {
	struct MHD_Daemon *daemon;
	unsigned port;
	char url[64];

	pthread_mutex_t lock;
	pthread_cond_t cond; /* stopping, new records; CLOCK_MONOTONIC */
	bool stopping;

	struct fake_step **steps; /* pointers stay put while the array grows */
	size_t n_steps, cap_steps;
	size_t next; /* the step the next request must match */

	struct fake_http_record **records;
	size_t n_records, cap_records;
	size_t n_connections;

	bool failed;
	char failure[512];
};

/* One request in flight, from the URI callback to "completed". */
struct fake_conn {
	struct fake_http *f;
	struct fake_http_record *rec;
	size_t cap_headers;
	struct strbuf body;
	bool started;
	bool recorded; /* rec moved to f->records */
};

/* Reader state of a chunked response. */
struct fake_stream {
	struct fake_http *f;
	const struct fake_http_chunk *chunks; /* the step's, or owned */
	size_t n_chunks;
	struct fake_http_chunk *owned; /* events made for this request */
	size_t start_after;
	bool started; /* start_after was reached */
	size_t chunk;
	size_t off;
	bool waited; /* the current chunk's delay has passed */
};

/* ------------------------------------------------------------ helpers */

static char *fake_dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char *fake_memdup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static struct fake_step *fake_step_copy(const struct fake_http_step *in)
{
	struct fake_step *s = xcalloc(1, sizeof(*s));
	s->method = fake_dup_or_null(in->method);
	s->path = fake_dup_or_null(in->path);
	s->prefix = in->prefix;
	s->status = in->status ? in->status : 200;
	if (in->headers) {
		while (in->headers[s->n_headers].name)
			s->n_headers++;
		s->headers = xcalloc(s->n_headers, sizeof(*s->headers));
		for (size_t i = 0; i < s->n_headers; i++) {
			s->headers[i].name = xstrdup(in->headers[i].name);
			s->headers[i].value =
			    xstrdup(in->headers[i].value ? in->headers[i].value : "");
		}
	}
	if (in->body) {
		s->body_len = in->body_len ? in->body_len : strlen(in->body);
		s->body = fake_memdup(in->body, s->body_len);
	} else {
		s->body = fake_memdup("", 0);
	}
	s->echo = in->echo;
	s->delay_ms = in->delay_ms;
	s->events = in->events;
	s->start_after = in->start_after;
	if (in->events) {
		s->streamed = true;
	} else if (in->chunks) {
		s->streamed = true;
		while (in->chunks[s->n_chunks].data)
			s->n_chunks++;
		s->chunks = xcalloc(s->n_chunks, sizeof(*s->chunks));
		for (size_t i = 0; i < s->n_chunks; i++) {
			const struct fake_http_chunk *c = &in->chunks[i];
			size_t len = c->len ? c->len : strlen(c->data);
			s->chunks[i].data = fake_memdup(c->data, len);
			s->chunks[i].len = len;
			s->chunks[i].delay_ms = c->delay_ms;
		}
	}
	return s;
}

static void fake_step_free(struct fake_step *s)
{
	free(s->method);
	free(s->path);
	for (size_t i = 0; i < s->n_headers; i++) {
		free(s->headers[i].name);
		free(s->headers[i].value);
	}
	free(s->headers);
	free(s->body);
	for (size_t i = 0; i < s->n_chunks; i++)
		free((char *)s->chunks[i].data);
	free(s->chunks);
	free(s);
}

static void fake_record_free(struct fake_http_record *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	free(r);
}

/*
 * Sleeps up to ms unless the server is stopping.  Returns false when it
 * is, so a handler gives up instead of holding MHD_stop_daemon's join.
 */
static bool fake_sleep(struct fake_http *f, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (ms > 0) {
		until.tv_sec += ms / 1000;
		until.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && ms > 0) {
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT)
			break;
	}
	bool ok = !f->stopping;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static bool fake_step_matches(const struct fake_step *s, const struct fake_http_record *r)
{
	if (s->method && strcmp(s->method, r->method) != 0)
		return false;
	if (!s->path)
		return true;
	if (s->prefix)
		return strncmp(r->url, s->path, strlen(s->path)) == 0;
	return strcmp(r->url, s->path) == 0;
}

/* ------------------------------------------------------------ MHD callbacks */

/* Runs first for every request with the raw target (query included, not
 * decoded), which the access handler's url argument no longer has.  The
 * return value becomes the request's context. */
static void *fake_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)conn;
	struct fake_conn *fc = xcalloc(1, sizeof(*fc));
	fc->f = cls;
	fc->rec = xcalloc(1, sizeof(*fc->rec));
	fc->rec->url = xstrdup(uri ? uri : "");
	fc->rec->step = FAKE_NO_STEP;
	sb_init(&fc->body);
	return fc;
}

static FAKE_MHD_RESULT fake_on_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	struct fake_conn *fc = cls;
	struct fake_http_record *r = fc->rec;
	xgrow(r->headers, fc->cap_headers, r->n_headers + 1);
	r->headers[r->n_headers].name = xstrdup(key);
	r->headers[r->n_headers].value = xstrdup(value ? value : "");
	r->n_headers++;
	return MHD_YES;
}

/* Waits until n requests were recorded; false when the server stops first. */
static bool fake_wait_records(struct fake_http *f, size_t n)
{
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && f->n_records < n)
		pthread_cond_wait(&f->cond, &f->lock);
	bool ok = !f->stopping;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static ssize_t fake_read_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct fake_stream *st = cls;
	if (!st->started) {
		if (!fake_wait_records(st->f, st->start_after))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		st->started = true;
	}
	while (st->chunk < st->n_chunks) {
		const struct fake_http_chunk *c = &st->chunks[st->chunk];
		if (!st->waited) {
			if (!fake_sleep(st->f, c->delay_ms))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			st->waited = true;
		}
		size_t left = c->len - st->off;
		if (left == 0) {
			st->chunk++;
			st->off = 0;
			st->waited = false;
			continue;
		}
		size_t n = left < max ? left : max;
		memcpy(buf, c->data + st->off, n);
		st->off += n;
		return (ssize_t)n;
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void fake_free_stream(void *cls)
{
	struct fake_stream *st = cls;
	for (size_t i = 0; st->owned && i < st->n_chunks; i++)
		free((char *)st->owned[i].data);
	free(st->owned);
	free(st);
}

/* The event lines of an events step, for the request target `target`. */
static void fake_make_events(struct fake_stream *st, const struct fake_step *s, const char *target)
{
	st->owned = xcalloc(s->events, sizeof(*st->owned));
	for (size_t i = 0; i < s->events; i++) {
		struct strbuf line;
		sb_init(&line);
		sb_printf(&line, "{\"target\":\"%s\",\"seq\":%zu}\n", target, i);
		st->owned[i].len = line.len;
		st->owned[i].data = sb_detach(&line);
	}
	st->chunks = st->owned;
	st->n_chunks = s->events;
}

/* Records the finished request and picks the step that answers it. */
static const struct fake_step *fake_match(struct fake_http *f, struct fake_conn *fc)
{
	const struct fake_step *s = NULL;
	pthread_mutex_lock(&f->lock);
	size_t index = f->n_records;
	if (f->next < f->n_steps && fake_step_matches(f->steps[f->next], fc->rec)) {
		s = f->steps[f->next];
		fc->rec->step = f->next++;
	} else if (!f->failed) {
		f->failed = true;
		if (f->next < f->n_steps) {
			const struct fake_step *want = f->steps[f->next];
			snprintf(f->failure, sizeof(f->failure),
				 "request %zu: got %s %s, expected step %zu: %s %s%s", index,
				 fc->rec->method, fc->rec->url, f->next,
				 want->method ? want->method : "(any)",
				 want->path ? want->path : "(any)", want->prefix ? "*" : "");
		} else {
			snprintf(f->failure, sizeof(f->failure),
				 "request %zu: got %s %s after the script ended", index,
				 fc->rec->method, fc->rec->url);
		}
	}
	xgrow(f->records, f->cap_records, f->n_records + 1);
	f->records[f->n_records++] = fc->rec;
	fc->recorded = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return s;
}

static FAKE_MHD_RESULT fake_respond(struct MHD_Connection *conn, int status,
				    struct MHD_Response *resp)
{
	FAKE_MHD_RESULT ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static FAKE_MHD_RESULT fake_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				       const char *method, const char *version,
				       const char *upload_data, size_t *upload_data_size,
				       void **req_cls)
{
	(void)url;
	(void)version;
	struct fake_http *f = cls;
	struct fake_conn *fc = *req_cls;
	if (!fc)
		return MHD_NO;
	if (!fc->started) {
		/* First call: headers are complete, the body not yet read. */
		fc->started = true;
		fc->rec->method = xstrdup(method);
		MHD_get_connection_values(conn, MHD_HEADER_KIND, fake_on_header, fc);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		sb_append(&fc->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The whole request is in. */
	fc->rec->body_len = fc->body.len;
	fc->rec->body = sb_detach(&fc->body);
	const struct fake_step *s = fake_match(f, fc);
	if (!s) {
		static const char msg[] = "fake_http: unexpected request\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		return fake_respond(conn, 500, resp);
	}
	if (!fake_sleep(f, s->delay_ms))
		return MHD_NO;

	struct MHD_Response *resp;
	if (s->streamed) {
		struct fake_stream *st = xcalloc(1, sizeof(*st));
		st->f = f;
		st->start_after = s->start_after;
		if (s->events) {
			fake_make_events(st, s, fc->rec->url);
		} else {
			st->chunks = s->chunks;
			st->n_chunks = s->n_chunks;
		}
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, fake_read_chunk,
							 st, fake_free_stream);
	} else if (s->echo) {
		resp = MHD_create_response_from_buffer(fc->rec->body_len, fc->rec->body,
						       MHD_RESPMEM_MUST_COPY);
	} else {
		resp = MHD_create_response_from_buffer(s->body_len, s->body, MHD_RESPMEM_MUST_COPY);
	}
	if (!resp)
		return MHD_NO;
	for (size_t i = 0; i < s->n_headers; i++)
		if (MHD_add_response_header(resp, s->headers[i].name, s->headers[i].value) !=
		    MHD_YES)
			fprintf(stderr, "fake_http: MHD refused response header %s\n",
				s->headers[i].name);
	return fake_respond(conn, s->status, resp);
}

static void fake_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct fake_conn *fc = *req_cls;
	if (!fc)
		return;
	if (!fc->recorded)
		fake_record_free(fc->rec);
	sb_free(&fc->body);
	free(fc);
	*req_cls = NULL;
}

static void fake_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			       enum MHD_ConnectionNotificationCode toe)
{
	(void)conn;
	(void)socket_context;
	struct fake_http *f = cls;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&f->lock);
	f->n_connections++;
	pthread_mutex_unlock(&f->lock);
}

/* ------------------------------------------------------------ API */

struct fake_http *fake_http_start(const struct fake_http_step *steps, size_t n)
{
	struct fake_http *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	fake_http_add(f, steps, n);

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A thread per connection lets a step sleep or stream slowly without
	 * stalling other clients of the same fake. */
	f->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
	    NULL, fake_on_request, f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_URI_LOG_CALLBACK, fake_on_uri, f, MHD_OPTION_NOTIFY_COMPLETED,
	    fake_on_completed, f, MHD_OPTION_NOTIFY_CONNECTION, fake_on_connection, f,
	    MHD_OPTION_END);
	if (!f->daemon) {
		fprintf(stderr, "fake_http: MHD_start_daemon on 127.0.0.1 failed\n");
		fake_http_stop(f);
		return NULL;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0) {
		fprintf(stderr, "fake_http: cannot read the bound port\n");
		fake_http_stop(f);
		return NULL;
	}
	f->port = info->port;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", f->port);
	return f;
}

void fake_http_add(struct fake_http *f, const struct fake_http_step *steps, size_t n)
{
	pthread_mutex_lock(&f->lock);
	xgrow(f->steps, f->cap_steps, f->n_steps + n);
	for (size_t i = 0; i < n; i++)
		f->steps[f->n_steps++] = fake_step_copy(&steps[i]);
	pthread_mutex_unlock(&f->lock);
}

const char *fake_http_url(const struct fake_http *f)
{
	return f->url;
}

unsigned fake_http_port(const struct fake_http *f)
{
	return f->port;
}

size_t fake_http_n_requests(struct fake_http *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_records;
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fake_http_n_connections(struct fake_http *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_connections;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const struct fake_http_record *fake_http_request(struct fake_http *f, size_t i)
{
	pthread_mutex_lock(&f->lock);
	const struct fake_http_record *r = i < f->n_records ? f->records[i] : NULL;
	pthread_mutex_unlock(&f->lock);
	return r;
}

bool fake_http_wait_requests(struct fake_http *f, size_t n, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (f->n_records < n) {
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT)
			break;
	}
	bool ok = f->n_records >= n;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

const char *fake_http_record_header(const struct fake_http_record *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

size_t fake_http_pending(struct fake_http *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n_steps - f->next;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const char *fake_http_failure(struct fake_http *f)
{
	pthread_mutex_lock(&f->lock);
	const char *msg = f->failed ? f->failure : NULL;
	pthread_mutex_unlock(&f->lock);
	return msg;
}

void fake_http_stop(struct fake_http *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	for (size_t i = 0; i < f->n_steps; i++)
		fake_step_free(f->steps[i]);
	free(f->steps);
	for (size_t i = 0; i < f->n_records; i++)
		fake_record_free(f->records[i]);
	free(f->records);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
