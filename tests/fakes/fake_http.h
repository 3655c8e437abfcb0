/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_http.h - a scripted loopback HTTP server for tests (libmicrohttpd).
 *
 * The server listens on 127.0.0.1 on a free port and answers requests from
 * a script, strictly in order: request i must match step i (method and
 * request target), otherwise it is answered 500 and the mismatch is kept
 * for fake_http_failure().  Every request is recorded (method, raw target
 * with query, headers, body) for assertions after the fact.
 *
 * The fake has no test-framework dependency: it reports, the test asserts.
 * Each connection gets its own thread, so a delayed or streaming step does
 * not hold up other clients; fake_http_stop cuts every delay short.
 *
 * Typical use:
 *
 *	static const struct fake_http_step script[] = {
 *		{.method = "GET", .path = "/healthz", .body = "ok"},
 *		{.method = "POST", .path = "/v1/items", .status = 201, .echo = true},
 *	};
 *	struct fake_http *f = fake_http_start(script, FAKE_HTTP_N(script));
 *	... requests against fake_http_url(f) ...
 *	ck_assert_ptr_null(fake_http_failure(f));
 *	ck_assert_uint_eq(fake_http_pending(f), 0);
 *	fake_http_stop(f);
 */
#ifndef KERF_TESTS_FAKE_HTTP_H
#define KERF_TESTS_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define FAKE_HTTP_N(array) (sizeof(array) / sizeof((array)[0]))

/* Header lists in steps end at the first entry whose name is NULL. */
struct fake_http_header {
	const char *name;
	const char *value;
};

/* One piece of a streamed body.  Lists end at the first data == NULL. */
struct fake_http_chunk {
	const char *data;
	size_t len;   /* 0: strlen(data) */
	int delay_ms; /* pause before this piece is sent */
};

struct fake_http_step {
	const char *method; /* NULL: any method */
	const char *path;   /* raw request target, query included; NULL: any */
	bool prefix;	    /* path matches as a prefix instead of exactly */
	int status;	    /* 0: 200 */
	const struct fake_http_header *headers;
	const char *body; /* NULL: empty */
	size_t body_len;  /* 0: strlen(body) */
	bool echo;	  /* answer with the request's body instead of body */
	int delay_ms;	  /* pause after the request arrived, before the status */
	/* When set, the body is sent with chunked encoding piece by piece
	 * (body and echo are ignored). */
	const struct fake_http_chunk *chunks;
	/* When > 0, the body is that many JSON lines, sent chunked one piece
	 * each, naming the request so a client can tell its streams apart:
	 *   {"target":"<raw request target>","seq":<0, 1, ...>}\n
	 * (body, echo and chunks are ignored). */
	size_t events;
	/* A streamed body (chunks or events) starts only once this many
	 * requests have arrived, so a test can prove streams are open at
	 * the same time; the wait ends early when the server stops. */
	size_t start_after;
};

struct fake_http_record_header {
	char *name;
	char *value;
};

/* A request as the server saw it. */
struct fake_http_record {
	char *method;
	char *url; /* raw request target, "/path?query", not decoded */
	size_t n_headers;
	struct fake_http_record_header *headers;
	char *body; /* NUL-terminated; body_len excludes the NUL */
	size_t body_len;
	size_t step; /* index of the step that answered; (size_t)-1 on mismatch */
};

struct fake_http;

/*
 * Starts a server with a copy of steps[0..n) (the caller's array may go
 * away).  Returns NULL, with the reason on stderr, when the daemon cannot
 * start.
 */
struct fake_http *fake_http_start(const struct fake_http_step *steps, size_t n);
/* Appends steps (copied) to the script of a running server. */
void fake_http_add(struct fake_http *f, const struct fake_http_step *steps, size_t n);
/* "http://127.0.0.1:PORT", valid until fake_http_stop. */
const char *fake_http_url(const struct fake_http *f);
unsigned fake_http_port(const struct fake_http *f);

/* Number of requests recorded so far (matching or not). */
size_t fake_http_n_requests(struct fake_http *f);
/* Number of TCP connections accepted so far; fewer than requests means
 * clients kept connections alive. */
size_t fake_http_n_connections(struct fake_http *f);
/* Request i in arrival order; valid until fake_http_stop.  NULL past the end. */
const struct fake_http_record *fake_http_request(struct fake_http *f, size_t i);
/* Waits until at least n requests were recorded; false after timeout_ms. */
bool fake_http_wait_requests(struct fake_http *f, size_t n, int timeout_ms);
/* Value of a request header (case-insensitive name); NULL when absent. */
const char *fake_http_record_header(const struct fake_http_record *r, const char *name);

/* Steps not yet used. */
size_t fake_http_pending(struct fake_http *f);
/* The first ordering problem ("request 2: got GET /a, expected POST /b"),
 * NULL while every request matched its step. */
const char *fake_http_failure(struct fake_http *f);

/* Interrupts pending delays, stops the daemon (joining its threads) and
 * frees everything.  NULL allowed. */
void fake_http_stop(struct fake_http *f);

#endif
