/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_http.c - the host HTTP client against the loopback fake server.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kerf/error.h>
#include <kerf/host.h>

#include "../fakes/fake_http.h"
#include "http.h"
#include "util.h"

/* Generous: the slowest case waits out a few short server delays, and
 * valgrind multiplies everything. */
#define CASE_TIMEOUT 30

static struct http_client *new_client(void)
{
	struct http_client *c = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_client_new(NULL, &c, &err), 0);
	ck_assert_ptr_nonnull(c);
	return c;
}

static struct fake_http *start(const struct fake_http_step *steps, size_t n)
{
	struct fake_http *f = fake_http_start(steps, n);
	ck_assert_ptr_nonnull(f);
	return f;
}

/* Stops the fake after checking it saw exactly its script, in order. */
static void finish(struct fake_http *f)
{
	const char *failure = fake_http_failure(f);
	ck_assert_msg(failure == NULL, "fake_http: %s", failure);
	ck_assert_uint_eq(fake_http_pending(f), 0);
	fake_http_stop(f);
}

static void url_of(char *buf, size_t size, struct fake_http *f, const char *path)
{
	int n = snprintf(buf, size, "%s%s", fake_http_url(f), path);
	ck_assert(n > 0 && (size_t)n < size);
}

static const char *resp_header(const struct kerf_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* ------------------------------------------------------------ plain requests */

START_TEST(get_with_headers)
{
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = "/hello?x=1&y=two",
	     .headers = (const struct fake_http_header[]){{"X-Test", "yes"},
							  {"Content-Type", "text/plain"},
							  {"X-Multi", "a"},
							  {"X-Multi", "b"},
							  {NULL, NULL}},
	     .body = "hi there"},
	    /* The same client again: the kept-alive connection is reused. */
	    {.method = "GET", .path = "/again", .body = "second"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/hello?x=1&y=two");
	const struct kerf_http_header hdrs[] = {{"X-Req", "abc"}, {"X-Empty", ""}};
	struct kerf_http_request req = {
	    .method = "GET", .url = url, .n_headers = 2, .headers = hdrs};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);

	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->body, "hi there");
	ck_assert_uint_eq(resp->body_len, 8);
	ck_assert_str_eq(resp_header(resp, "x-test"), "yes");
	ck_assert_str_eq(resp_header(resp, "Content-Type"), "text/plain");
	size_t multi = 0;
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcmp(resp->headers[i].name, "X-Multi") == 0)
			ck_assert_str_eq(resp->headers[i].value, multi++ ? "b" : "a");
	ck_assert_uint_eq(multi, 2);
	http_response_free(resp);

	url_of(url, sizeof(url), f, "/again");
	req.n_headers = 0;
	req.headers = NULL;
	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_str_eq(resp->body, "second");
	http_response_free(resp);

	ck_assert_uint_eq(fake_http_n_requests(f), 2);
	const struct fake_http_record *r = fake_http_request(f, 0);
	ck_assert_str_eq(r->method, "GET");
	ck_assert_str_eq(r->url, "/hello?x=1&y=two");
	ck_assert_str_eq(fake_http_record_header(r, "X-Req"), "abc");
	ck_assert_str_eq(fake_http_record_header(r, "X-Empty"), "");
	const char *ua = fake_http_record_header(r, "User-Agent");
	ck_assert_ptr_nonnull(ua);
	ck_assert(strncmp(ua, "kerf/", 5) == 0);
	ck_assert_ptr_null(fake_http_record_header(r, "Expect"));
	ck_assert_uint_eq(r->body_len, 0);
	http_client_free(c);
	finish(f);
}
END_TEST

/* Each method with a body, including one with a NUL inside. */
START_TEST(bodies_echoed)
{
	static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE"};
	static const char body[] = "{\"a\":1}\0tail";
	const size_t body_len = sizeof(body) - 1;
	struct fake_http_step script[4];
	memset(script, 0, sizeof(script));
	for (size_t i = 0; i < 4; i++) {
		script[i].method = methods[i];
		script[i].path = "/echo";
		script[i].status = 201;
		script[i].echo = true;
	}
	struct fake_http *f = start(script, 4);
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/echo");
	const struct kerf_http_header hdrs[] = {{"Content-Type", "application/json"}};
	for (size_t i = 0; i < 4; i++) {
		struct kerf_http_request req = {.method = methods[i],
						.url = url,
						.n_headers = 1,
						.headers = hdrs,
						.body = body,
						.body_len = body_len};
		struct kerf_http_response *resp = NULL;
		struct kerf_error err;
		kerf_error_clear(&err);
		ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
		ck_assert_int_eq(resp->status, 201);
		ck_assert_uint_eq(resp->body_len, body_len);
		ck_assert(memcmp(resp->body, body, body_len) == 0);
		ck_assert_int_eq(resp->body[body_len], '\0');
		http_response_free(resp);

		const struct fake_http_record *r = fake_http_request(f, i);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->method, methods[i]);
		ck_assert_uint_eq(r->body_len, body_len);
		ck_assert(memcmp(r->body, body, body_len) == 0);
		ck_assert_str_eq(fake_http_record_header(r, "Content-Type"), "application/json");
	}
	http_client_free(c);
	finish(f);
}
END_TEST

/* A body without a Content-Type goes unlabelled, not as a form. */
START_TEST(post_without_type)
{
	static const struct fake_http_step script[] = {
	    {.method = "POST", .path = "/p", .status = 204},
	    {.method = "HEAD", .path = "/h", .body = "ignored"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/p");
	struct kerf_http_request req = {.method = "POST", .url = url};
	struct kerf_http_response *resp = NULL;
	ck_assert_int_eq(http_request(c, &req, &resp, NULL), 0);
	ck_assert_int_eq(resp->status, 204);
	ck_assert_str_eq(resp->body, "");
	http_response_free(resp);
	const struct fake_http_record *r = fake_http_request(f, 0);
	ck_assert_ptr_null(fake_http_record_header(r, "Content-Type"));
	ck_assert_str_eq(fake_http_record_header(r, "Content-Length"), "0");

	url_of(url, sizeof(url), f, "/h");
	req.method = "HEAD";
	ck_assert_int_eq(http_request(c, &req, &resp, NULL), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_uint_eq(resp->body_len, 0);
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

START_TEST(error_statuses_succeed)
{
	static const struct fake_http_step script[] = {
	    {.method = "GET", .path = "/missing", .status = 404, .body = "not found"},
	    {.method = "GET", .path = "/broken", .status = 500, .body = "boom"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	struct kerf_http_request req = {.method = "GET", .url = url};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);

	url_of(url, sizeof(url), f, "/missing");
	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 404);
	ck_assert_str_eq(resp->body, "not found");
	http_response_free(resp);

	url_of(url, sizeof(url), f, "/broken");
	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 500);
	ck_assert_str_eq(resp->body, "boom");
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

/* After a redirect only the final response's status and headers remain. */
START_TEST(redirect_keeps_last_headers)
{
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = "/old",
	     .status = 302,
	     .headers = (const struct fake_http_header[]){{"Location", "/new"},
							  {"X-First", "1"},
							  {NULL, NULL}},
	     .body = "moved"},
	    {.method = "GET",
	     .path = "/new",
	     .headers = (const struct fake_http_header[]){{"X-Second", "2"}, {NULL, NULL}},
	     .body = "here"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/old");
	struct kerf_http_request req = {.url = url};
	struct kerf_http_response *resp = NULL;
	ck_assert_int_eq(http_request(c, &req, &resp, NULL), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->body, "here");
	ck_assert_str_eq(resp_header(resp, "X-Second"), "2");
	ck_assert_ptr_null(resp_header(resp, "X-First"));
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ failures */

START_TEST(timeout)
{
	static const struct fake_http_step script[] = {
	    {.method = "GET", .path = "/slow", .delay_ms = 5000, .body = "late"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/slow");
	struct kerf_http_request req = {.method = "GET", .url = url, .timeout_ms = 300};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_TIMEOUT);
	int64_t took = now_mono_ms() - t0;
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(err.code, KERF_E_TIMEOUT);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_msg(took >= 250 && took < 4000, "timed out after %lld ms", (long long)took);
	ck_assert_ptr_nonnull(strstr(err.message, "/slow"));
	http_client_free(c);
	finish(f);
}
END_TEST

START_TEST(connection_refused)
{
	struct fake_http *f = start(NULL, 0);
	char url[256];
	url_of(url, sizeof(url), f, "/gone");
	fake_http_stop(f);

	struct http_client *c = new_client();
	struct kerf_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_IO);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(err.code, KERF_E_IO);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_int_eq(err.http_status, 0);
	http_client_free(c);
}
END_TEST

START_TEST(oversized_body)
{
	const size_t big = 300000;
	char *body = xmalloc(big);
	memset(body, 'a', big);
	struct fake_http_step script[] = {
	    {.method = "GET", .path = "/big", .body = body, .body_len = big},
	    {.method = "GET", .path = "/big", .body = body, .body_len = big},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	free(body); /* the fake keeps its own copy */
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/big");
	struct kerf_http_request req = {.method = "GET", .url = url, .max_response_bytes = 100000};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_RANGE);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(err.retryable, 0);

	/* Exactly at the cap is fine, and the aborted transfer left the
	 * client usable. */
	req.max_response_bytes = big;
	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_uint_eq(resp->body_len, big);
	ck_assert_int_eq(resp->body[0], 'a');
	ck_assert_int_eq(resp->body[big - 1], 'a');
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

START_TEST(invalid_requests)
{
	struct fake_http *f = start(NULL, 0);
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/x");
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);

	struct kerf_http_request req = {.method = "GET"};
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_INVALID);

	/* A CR/LF in a value would smuggle in a header of its own. */
	const struct kerf_http_header evil[] = {{"X-Bad", "a\r\nInjected: 1"}};
	req.url = url;
	req.n_headers = 1;
	req.headers = evil;
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_INVALID);

	const struct kerf_http_header bad_name[] = {{"X Bad", "v"}};
	req.headers = bad_name;
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_INVALID);

	req.n_headers = 0;
	req.headers = NULL;
	req.method = "GET /x HTTP/1.1\r\n";
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_INVALID);

	req.method = "GET";
	req.url = "ftp://127.0.0.1/file";
	ck_assert_int_eq(http_request(c, &req, &resp, &err), KERF_E_INVALID);
	ck_assert_int_eq(err.retryable, 0);

	ck_assert_ptr_null(resp);
	ck_assert_uint_eq(fake_http_n_requests(f), 0);
	http_client_free(c);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ streaming */

struct collected {
	struct strbuf data;
	int status;
	size_t calls;
	int64_t first_ms, last_ms;
	size_t stop_after; /* 0: never stop */
};

static int collect(void *arg, int status, const char *data, size_t len)
{
	struct collected *c = arg;
	int64_t t = now_mono_ms();
	if (c->calls == 0)
		c->first_ms = t;
	c->last_ms = t;
	c->calls++;
	c->status = status;
	sb_append(&c->data, data, len);
	return c->stop_after && c->calls >= c->stop_after;
}

START_TEST(stream_chunks_in_order)
{
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = "/watch",
	     .prefix = true,
	     .chunks =
		 (const struct fake_http_chunk[]){
		     {"alpha\n", 0, 0}, {"beta\n", 0, 250}, {"gamma\n", 0, 250}, {NULL, 0, 0}}},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/watch?watch=1&resourceVersion=10");
	struct kerf_http_request req = {.method = "GET", .url = url};
	struct collected got = {0};
	sb_init(&got.data);
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_stream(c, &req, collect, &got, &err), 0);
	ck_assert_int_eq(got.status, 200);
	ck_assert_str_eq(got.data.buf, "alpha\nbeta\ngamma\n");
	/* Pieces arrived as sent, not in one block at the end. */
	ck_assert_uint_ge(got.calls, 3);
	ck_assert_msg(got.last_ms - got.first_ms >= 400, "pieces %lld ms apart",
		      (long long)(got.last_ms - got.first_ms));
	ck_assert_str_eq(fake_http_request(f, 0)->url, "/watch?watch=1&resourceVersion=10");
	sb_free(&got.data);
	http_client_free(c);
	finish(f);
}
END_TEST

/* A watch callback that asks the same client for more: the request runs on
 * a handle of its own while the stream still holds the first one. */
struct side_call {
	struct http_client *c;
	const char *url;
	struct strbuf data;
	size_t calls;
	int rc;
	char *body;
};

static int side_request(void *arg, int status, const char *data, size_t len)
{
	struct side_call *s = arg;
	sb_append(&s->data, data, len);
	if (s->calls++ == 0) {
		struct kerf_http_request req = {.method = "GET", .url = s->url};
		struct kerf_http_response *resp = NULL;
		struct kerf_error err;
		kerf_error_clear(&err);
		s->rc = http_request(s->c, &req, &resp, &err);
		if (s->rc == 0) {
			s->body = xstrdup(resp->body);
			http_response_free(resp);
		}
	}
	return 0;
}

START_TEST(stream_callback_uses_client)
{
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = "/watch",
	     .chunks = (const struct fake_http_chunk[]){{"one\n", 0, 0},
							{"two\n", 0, 100},
							{NULL, 0, 0}}},
	    {.method = "GET", .path = "/side", .body = "side"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256], side[256];
	url_of(url, sizeof(url), f, "/watch");
	url_of(side, sizeof(side), f, "/side");
	struct side_call s = {.c = c, .url = side, .rc = -1};
	sb_init(&s.data);
	struct kerf_http_request req = {.method = "GET", .url = url};
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(http_stream(c, &req, side_request, &s, &err), 0);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_str_eq(s.body, "side");
	ck_assert_str_eq(s.data.buf, "one\ntwo\n");
	free(s.body);
	sb_free(&s.data);
	http_client_free(c);
	finish(f);
}
END_TEST

START_TEST(stream_stops_early)
{
	const struct fake_http_step script[] = {
	    {.method = "GET",
	     .path = "/watch",
	     .chunks =
		 (const struct fake_http_chunk[]){
		     {"first", 0, 0}, {"second", 0, 1000}, {"third", 0, 1000}, {NULL, 0, 0}}},
	    /* The client still works after the abandoned stream. */
	    {.method = "GET", .path = "/after", .body = "ok"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/watch");
	struct kerf_http_request req = {.method = "GET", .url = url};
	struct collected got = {.stop_after = 1};
	sb_init(&got.data);
	struct kerf_error err;
	kerf_error_clear(&err);
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(http_stream(c, &req, collect, &got, &err), 0);
	int64_t took = now_mono_ms() - t0;
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_str_eq(got.data.buf, "first");
	ck_assert_msg(took < 900, "stopping took %lld ms", (long long)took);
	sb_free(&got.data);

	url_of(url, sizeof(url), f, "/after");
	struct kerf_http_response *resp = NULL;
	ck_assert_int_eq(http_request(c, &req, &resp, &err), 0);
	ck_assert_str_eq(resp->body, "ok");
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

START_TEST(stream_statuses_and_timeout)
{
	const struct fake_http_step script[] = {
	    {.method = "GET", .path = "/gone", .status = 410, .body = "{\"reason\":\"Expired\"}"},
	    {.method = "GET", .path = "/empty", .status = 204},
	    {.method = "GET",
	     .path = "/stall",
	     .chunks =
		 (const struct fake_http_chunk[]){{"one", 0, 0}, {"two", 0, 5000}, {NULL, 0, 0}}},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	struct http_client *c = new_client();
	char url[256];
	struct kerf_http_request req = {.method = "GET", .url = url};
	struct kerf_error err;
	kerf_error_clear(&err);

	struct collected got = {0};
	sb_init(&got.data);
	url_of(url, sizeof(url), f, "/gone");
	ck_assert_int_eq(http_stream(c, &req, collect, &got, &err), 0);
	ck_assert_int_eq(got.status, 410);
	ck_assert_str_eq(got.data.buf, "{\"reason\":\"Expired\"}");
	sb_free(&got.data);

	/* An empty body still reports its status once. */
	memset(&got, 0, sizeof(got));
	sb_init(&got.data);
	url_of(url, sizeof(url), f, "/empty");
	ck_assert_int_eq(http_stream(c, &req, collect, &got, &err), 0);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_int_eq(got.status, 204);
	ck_assert_uint_eq(got.data.len, 0);
	sb_free(&got.data);

	memset(&got, 0, sizeof(got));
	sb_init(&got.data);
	url_of(url, sizeof(url), f, "/stall");
	req.timeout_ms = 400;
	ck_assert_int_eq(http_stream(c, &req, collect, &got, &err), KERF_E_TIMEOUT);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_str_eq(got.data.buf, "one");
	sb_free(&got.data);
	http_client_free(c);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ describe */

START_TEST(describe_redacts)
{
	const struct kerf_http_header hdrs[] = {
	    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=abc123"},
	    {"x-amz-security-token", "sessiontoken"},
	    {"Cookie", "session=cookievalue"},
	    {"Accept", "application/json"},
	};
	struct kerf_http_request req = {
	    .method = "POST",
	    .url = "https://ec2.us-east-1.amazonaws.com/?Action=DescribeInstances"
		   "&X-Amz-Credential=AKIDEXAMPLE%2F20240101&X-Amz-Signature=deadbeef"
		   "&X-Amz-Security-Token=querytoken&Version=2016-11-15#frag",
	    .n_headers = 4,
	    .headers = hdrs,
	    .body = "Action=x",
	    .body_len = 8,
	};
	char *s = http_describe_request(&req);
	ck_assert_str_eq(s, "POST https://ec2.us-east-1.amazonaws.com/?Action=DescribeInstances"
			    "&X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]"
			    "&X-Amz-Security-Token=[REDACTED]&Version=2016-11-15#frag"
			    " [Authorization: [REDACTED]; x-amz-security-token: [REDACTED];"
			    " Cookie: [REDACTED]; Accept: application/json] body=8 bytes");
	static const char *const secrets[] = {"AKIDEXAMPLE", "abc123",	 "sessiontoken",
					      "cookievalue", "deadbeef", "querytoken"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		ck_assert_msg(strstr(s, secrets[i]) == NULL, "%s leaked", secrets[i]);
	free(s);

	/* URL passwords go too, and control characters cannot break the line. */
	const struct kerf_http_header odd[] = {{"X-Note", "a\nb"}};
	struct kerf_http_request req2 = {
	    .url = "http://user:hunter2@10.0.0.1:8080/p?q=1", .n_headers = 1, .headers = odd};
	s = http_describe_request(&req2);
	ck_assert_str_eq(s, "GET http://user:[REDACTED]@10.0.0.1:8080/p?q=1 [X-Note: a\\x0ab]");
	free(s);
}
END_TEST

/* ------------------------------------------------------------ proxies */

static void set_proxies(const char *value)
{
	static const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
					    "ALL_PROXY"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (value)
			setenv(names[i], value, 1);
		else
			unsetenv(names[i]);
	}
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
}

START_TEST(proxy_env_skips_loopback)
{
	static const struct fake_http_step script[] = {
	    {.method = "GET", .path = "/direct", .body = "direct"},
	    {.method = "GET", .path = "/direct", .body = "direct"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	/* A proxy nobody listens on: any request routed there fails. */
	set_proxies("http://127.0.0.1:1");
	struct http_client *c = new_client();
	char url[256];
	url_of(url, sizeof(url), f, "/direct");
	struct kerf_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	int rc = http_request(c, &req, &resp, &err);
	ck_assert_msg(rc == 0, "127.0.0.1 went through the proxy: %s", err.message);
	ck_assert_str_eq(resp->body, "direct");
	http_response_free(resp);

	/* localhost as well, through a fresh client (no pooled connection). */
	http_client_free(c);
	c = new_client();
	char local[256];
	int n = snprintf(local, sizeof(local), "http://localhost:%u/direct", fake_http_port(f));
	ck_assert(n > 0 && (size_t)n < sizeof(local));
	req.url = local;
	rc = http_request(c, &req, &resp, &err);
	ck_assert_msg(rc == 0, "localhost went through the proxy: %s", err.message);
	ck_assert_str_eq(resp->body, "direct");
	http_response_free(resp);
	http_client_free(c);
	set_proxies(NULL);
	finish(f);
}
END_TEST

/* Other hosts still honour the environment: with the fake as the proxy,
 * a request for a name that does not resolve reaches the fake. */
START_TEST(proxy_env_honoured_elsewhere)
{
	static const struct fake_http_step script[] = {
	    {.method = "GET", .path = "http://kerf-test.invalid/via-proxy", .body = "proxied"},
	};
	struct fake_http *f = start(script, FAKE_HTTP_N(script));
	set_proxies(fake_http_url(f));
	struct http_client *c = new_client();
	struct kerf_http_request req = {
	    .method = "GET", .url = "http://kerf-test.invalid/via-proxy", .timeout_ms = 5000};
	struct kerf_http_response *resp = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	int rc = http_request(c, &req, &resp, &err);
	set_proxies(NULL);
	ck_assert_msg(rc == 0, "proxy not used: %s", err.message);
	ck_assert_str_eq(resp->body, "proxied");
	http_response_free(resp);
	http_client_free(c);
	finish(f);
}
END_TEST

/* ------------------------------------------------------------ suite */

static void add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	add_case(s, "get", get_with_headers);
	add_case(s, "bodies", bodies_echoed);
	add_case(s, "post_without_type", post_without_type);
	add_case(s, "error_statuses", error_statuses_succeed);
	add_case(s, "redirect", redirect_keeps_last_headers);
	add_case(s, "timeout", timeout);
	add_case(s, "refused", connection_refused);
	add_case(s, "oversized", oversized_body);
	add_case(s, "invalid", invalid_requests);
	add_case(s, "stream", stream_chunks_in_order);
	add_case(s, "stream_stop", stream_stops_early);
	add_case(s, "stream_reenter", stream_callback_uses_client);
	add_case(s, "stream_status", stream_statuses_and_timeout);
	add_case(s, "describe", describe_redacts);
	add_case(s, "proxy_loopback", proxy_env_skips_loopback);
	add_case(s, "proxy_elsewhere", proxy_env_honoured_elsewhere);
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
	SRunner *sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	http_global_cleanup();
	return nf ? 1 : 0;
}
