/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_streams.c - the execution model of kerf/host.h on real host
 * services: a plugin holds many watches at once, each blocking a thread of
 * its own, while a provider call elsewhere stays blocked; and one client
 * serves concurrent requests on kept-alive connections.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/error.h>
#include <kerf/host.h>

#include "../fakes/fake_http.h"
#include "host.h"
#include "http.h"
#include "util.h"

#define CASE_TIMEOUT 60

#define STREAMS 8
#define EVENTS 50

/* ------------------------------------------------------------ the world */

/*
 * What the host would see: events forwarded by the plugin (the sink), and
 * a provider call that blocks until the test lets it return.  One lock, so
 * an event's arrival and the provider's state are read together.
 */
struct world {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t events;		    /* forwarded so far */
	size_t next_seq[STREAMS];   /* per stream: the seq expected next */
	size_t out_of_order;	    /* duplicates, gaps and reorderings */
	size_t while_provider_free; /* events that arrived outside the call */
	bool provider_blocked;	    /* inside the simulated provider call */
	bool provider_release;	    /* the test lets the call return */
	size_t watches_ended;	    /* watch threads whose stream returned */
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
}

static void world_destroy(struct world *w)
{
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
}

/* The sink a cluster plugin calls from its watch threads. */
static void world_event(struct world *w, int stream, size_t seq)
{
	pthread_mutex_lock(&w->lock);
	if (seq != w->next_seq[stream])
		w->out_of_order++;
	w->next_seq[stream] = seq + 1;
	if (!w->provider_blocked)
		w->while_provider_free++;
	w->events++;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* A provider op that blocks its thread, as a slow cloud API call would. */
static void *provider_call(void *arg)
{
	struct world *w = arg;
	pthread_mutex_lock(&w->lock);
	w->provider_blocked = true;
	pthread_cond_broadcast(&w->changed);
	while (!w->provider_release)
		pthread_cond_wait(&w->changed, &w->lock);
	w->provider_blocked = false;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ------------------------------------------------------------ the plugin */

/*
 * A cluster plugin as the ABI lets one be written: it owns threads, each
 * holding one watch through the host's http_stream, and forwards every
 * event line to the sink.  destroy joins its threads.
 */
struct watch {
	struct plugin *p;
	int index;
	char url[256];
	char target[64];
	struct strbuf partial; /* a line split across pieces */
	int status;
	int rc;
	size_t bad_lines;
	pthread_t thread;
};

struct plugin {
	const struct kerf_host *host;
	struct world *sink;
	struct watch watches[STREAMS];
};

static void watch_line(struct watch *w, const char *line, size_t len)
{
	char want[96];
	snprintf(want, sizeof(want), "{\"target\":\"%s\",\"seq\":", w->target);
	size_t wl = strlen(want);
	char *end = NULL;
	if (len <= wl || memcmp(line, want, wl) != 0) {
		w->bad_lines++;
		return;
	}
	unsigned long long seq = strtoull(line + wl, &end, 10);
	if (end == line + wl || (size_t)(end - line) + 1 != len || *end != '}') {
		w->bad_lines++;
		return;
	}
	world_event(w->p->sink, w->index, (size_t)seq);
}

static int watch_data(void *arg, int status, const char *data, size_t len)
{
	struct watch *w = arg;
	w->status = status;
	sb_append(&w->partial, data, len);
	size_t start = 0;
	for (size_t i = 0; i < w->partial.len; i++) {
		if (w->partial.buf[i] != '\n')
			continue;
		watch_line(w, w->partial.buf + start, i - start);
		start = i + 1;
	}
	memmove(w->partial.buf, w->partial.buf + start, w->partial.len - start);
	w->partial.len -= start;
	w->partial.buf[w->partial.len] = '\0';
	return 0;
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	const struct kerf_host *h = w->p->host;
	struct kerf_http_request req = {.method = "GET", .url = w->url};
	struct kerf_error err;
	kerf_error_clear(&err);
	w->rc = h->http_stream(h->ctx, &req, watch_data, w, &err);
	if (w->rc)
		h->log(h->ctx, KERF_LOG_ERROR, "watch %d: %s", w->index, err.message);
	struct world *sink = w->p->sink;
	pthread_mutex_lock(&sink->lock);
	sink->watches_ended++;
	pthread_cond_broadcast(&sink->changed);
	pthread_mutex_unlock(&sink->lock);
	return NULL;
}

static void plugin_start(struct plugin *p, const struct kerf_host *host, struct world *sink,
			 const char *base)
{
	p->host = host;
	p->sink = sink;
	for (int i = 0; i < STREAMS; i++) {
		struct watch *w = &p->watches[i];
		w->p = p;
		w->index = i;
		w->rc = -1;
		sb_init(&w->partial);
		snprintf(w->target, sizeof(w->target), "/watch/%d?watch=1", i);
		int n = snprintf(w->url, sizeof(w->url), "%s%s", base, w->target);
		ck_assert(n > 0 && (size_t)n < sizeof(w->url));
		ck_assert_int_eq(pthread_create(&w->thread, NULL, watch_thread, w), 0);
	}
}

static void plugin_destroy(struct plugin *p)
{
	for (int i = 0; i < STREAMS; i++) {
		ck_assert_int_eq(pthread_join(p->watches[i].thread, NULL), 0);
		sb_free(&p->watches[i].partial);
	}
}

/* ------------------------------------------------------------ helpers */

static struct http_client *new_client(void)
{
	struct http_client *c = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_client_new(NULL, &c, &err), 0);
	return c;
}

static void finish(struct fake_http *f)
{
	const char *failure = fake_http_failure(f);
	ck_assert_msg(failure == NULL, "fake_http: %s", failure);
	ck_assert_uint_eq(fake_http_pending(f), 0);
	fake_http_stop(f);
}

/* ------------------------------------------------------------ watches */

/*
 * Eight watches on eight threads of one instance.  The server sends no
 * event before all eight requests arrived, so the test passes only if the
 * streams are open at once; the provider call is released only after every
 * event was counted, so each one arrived while it was blocked.
 */
START_TEST(watches_beside_blocked_provider)
{
	struct fake_http_step script[STREAMS];
	for (size_t i = 0; i < STREAMS; i++)
		script[i] = (struct fake_http_step){.method = "GET",
						    .path = "/watch/",
						    .prefix = true,
						    .events = EVENTS,
						    .start_after = STREAMS};
	struct fake_http *f = fake_http_start(script, STREAMS);
	ck_assert_ptr_nonnull(f);
	struct http_client *http = new_client();
	struct kerf_host *host = host_new("cluster/watcher", NULL, NULL, http);

	struct world w;
	world_init(&w);
	pthread_t provider;
	ck_assert_int_eq(pthread_create(&provider, NULL, provider_call, &w), 0);
	pthread_mutex_lock(&w.lock);
	while (!w.provider_blocked)
		pthread_cond_wait(&w.changed, &w.lock);
	pthread_mutex_unlock(&w.lock);

	struct plugin p;
	memset(&p, 0, sizeof(p));
	plugin_start(&p, host, &w, fake_http_url(f));

	/* Also stops waiting when every watch gave up, so a broken stream
	 * fails the assertions below instead of hanging. */
	pthread_mutex_lock(&w.lock);
	while (w.events < (size_t)STREAMS * EVENTS && w.watches_ended < STREAMS)
		pthread_cond_wait(&w.changed, &w.lock);
	bool still_blocked = w.provider_blocked;
	w.provider_release = true;
	pthread_cond_broadcast(&w.changed);
	pthread_mutex_unlock(&w.lock);
	ck_assert_int_eq(pthread_join(provider, NULL), 0);
	ck_assert(still_blocked);

	/* The server ends each stream after its events: the watches return. */
	plugin_destroy(&p);
	ck_assert_uint_eq(w.events, (size_t)STREAMS * EVENTS);
	ck_assert_uint_eq(w.out_of_order, 0);
	ck_assert_uint_eq(w.while_provider_free, 0);
	for (int i = 0; i < STREAMS; i++) {
		const struct watch *wa = &p.watches[i];
		ck_assert_msg(wa->rc == 0, "watch %d: rc %d", i, wa->rc);
		ck_assert_int_eq(wa->status, 200);
		ck_assert_uint_eq(wa->bad_lines, 0);
		ck_assert_uint_eq(wa->partial.len, 0);
		ck_assert_uint_eq(w.next_seq[i], EVENTS);
	}
	/* One connection per watch, each the request of one step. */
	ck_assert_uint_eq(fake_http_n_requests(f), STREAMS);
	ck_assert_uint_eq(fake_http_n_connections(f), STREAMS);
	world_destroy(&w);
	host_free(host);
	http_client_free(http);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ requests */

#define REQUEST_THREADS 8
#define REQUESTS_PER_THREAD 10

struct requester {
	const struct kerf_host *host;
	const char *url;
	int id;
	size_t ok;	/* answered with this thread's own body */
	size_t crossed; /* answered with some other body */
	size_t failed;
};

static void *request_thread(void *arg)
{
	struct requester *r = arg;
	const struct kerf_host *h = r->host;
	for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
		char body[64];
		int n = snprintf(body, sizeof(body), "thread %d request %d", r->id, i);
		struct kerf_http_request req = {
		    .method = "POST", .url = r->url, .body = body, .body_len = (size_t)n};
		struct kerf_http_response *resp = NULL;
		struct kerf_error err;
		kerf_error_clear(&err);
		if (h->http_request(h->ctx, &req, &resp, &err) != 0) {
			r->failed++;
			continue;
		}
		if (resp->status == 200 && strcmp(resp->body, body) == 0)
			r->ok++;
		else
			r->crossed++;
		h->http_response_free(h->ctx, resp);
	}
	return NULL;
}

/*
 * Eight threads share one instance's client, each sending its requests one
 * after another.  Every answer is the thread's own, and the client keeps
 * connections alive: at most one per thread running at once, however many
 * requests went out.
 */
START_TEST(concurrent_requests_reuse_connections)
{
	enum { TOTAL = REQUEST_THREADS * REQUESTS_PER_THREAD };
	struct fake_http_step script[TOTAL];
	for (size_t i = 0; i < TOTAL; i++)
		script[i] =
		    (struct fake_http_step){.method = "POST", .path = "/echo", .echo = true};
	struct fake_http *f = fake_http_start(script, TOTAL);
	ck_assert_ptr_nonnull(f);
	char url[256];
	int n = snprintf(url, sizeof(url), "%s/echo", fake_http_url(f));
	ck_assert(n > 0 && (size_t)n < sizeof(url));
	struct http_client *http = new_client();
	struct kerf_host *host = host_new("provider/requester", NULL, NULL, http);

	pthread_t t[REQUEST_THREADS];
	struct requester r[REQUEST_THREADS];
	for (int i = 0; i < REQUEST_THREADS; i++) {
		r[i] = (struct requester){.host = host, .url = url, .id = i};
		ck_assert_int_eq(pthread_create(&t[i], NULL, request_thread, &r[i]), 0);
	}
	for (int i = 0; i < REQUEST_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_uint_eq(r[i].failed, 0);
		ck_assert_uint_eq(r[i].crossed, 0);
		ck_assert_uint_eq(r[i].ok, REQUESTS_PER_THREAD);
	}
	ck_assert_uint_eq(fake_http_n_requests(f), TOTAL);
	size_t conns = fake_http_n_connections(f);
	ck_assert_uint_ge(conns, 1);
	ck_assert_msg(conns <= REQUEST_THREADS, "%zu connections for %d requests", conns, TOTAL);
	host_free(host);
	http_client_free(http);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ suite */

static Suite *streams_suite(void)
{
	Suite *s = suite_create("streams");
	TCase *tc = tcase_create("watches");
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, watches_beside_blocked_provider);
	suite_add_tcase(s, tc);
	tc = tcase_create("requests");
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, concurrent_requests_reuse_connections);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	if (http_global_init(&err) != 0) {
		fprintf(stderr, "http_global_init: %s\n", err.message);
		return 1;
	}
	SRunner *sr = srunner_create(streams_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	http_global_cleanup();
	return nf ? 1 : 0;
}
