/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_host.c - the logger (levels, formats, redaction) and the host
 * table plugins get (allocation, clocks, files, environment, config).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <kerf/kerf.h>

/* By path: the autoconf config.h in the build root shadows a bare "config.h". */
#include "cfg.h"
#include "host.h"
#include "log.h"
#include "util.h"
#include "yamltree.h"

/* ------------------------------------------------------------ capture */

static struct strbuf captured;
static size_t captured_lines;

static void capture(void *arg, kerf_log_level level, const char *line, size_t len)
{
	(void)arg;
	(void)level;
	sb_append(&captured, line, len);
	captured_lines++;
}

static void capture_setup(void)
{
	sb_init(&captured);
	sb_puts(&captured, "");
	captured_lines = 0;
	log_init(KERF_LOG_INFO, false);
	log_set_sink(capture, NULL);
}

static void capture_teardown(void)
{
	log_shutdown();
	sb_free(&captured);
}

static void reset_capture(void)
{
	captured.len = 0;
	captured.buf[0] = '\0';
	captured_lines = 0;
}

/* ------------------------------------------------------------ redaction */

static const struct {
	const char *in;
	const char *want;
} redactions[] = {
    {"Authorization: Bearer abc.def.ghi", "Authorization: [REDACTED]"},
    {"authorization=AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ff\nnext line",
     "authorization=[REDACTED]\nnext line"},
    {"sent header Bearer eyJhbGciOi.payload.sig to server",
     "sent header Bearer [REDACTED] to server"},
    {"GET /?X-Amz-Security-Token=FQoGZX%2Fabc&X-Amz-Date=20250101",
     "GET /?X-Amz-Security-Token=[REDACTED]&X-Amz-Date=20250101"},
    {"{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG\", \"AccessKeyId\": \"AKIA1\"}",
     "{\"SecretAccessKey\": \"[REDACTED]\", \"AccessKeyId\": \"AKIA1\"}"},
    {"<SecretAccessKey>wJalr+XUt/nFEMI</SecretAccessKey>",
     "<SecretAccessKey>[REDACTED]</SecretAccessKey>"},
    {"aws_secret_access_key = wJalrXUtnFEMI", "aws_secret_access_key = [REDACTED]"},
    {"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI sh run", "AWS_SECRET_ACCESS_KEY=[REDACTED] sh run"},
    {"url https://x/watch?token=abc123&limit=5", "url https://x/watch?token=[REDACTED]&limit=5"},
    {"Cookie: session=1; id=2", "Cookie: [REDACTED]"},
    /* Prose that only mentions a keyword is left alone. */
    {"authorization failed for user bob", "authorization failed for user bob"},
    {"no token here", "no token here"},
    {"Authorization:", "Authorization:"},
    {"", ""},
};

START_TEST(redact_patterns)
{
	char *out = log_redact(redactions[_i].in);
	ck_assert_str_eq(out, redactions[_i].want);
	free(out);
}
END_TEST

START_TEST(redact_registered_secrets)
{
	log_register_secret("abc");
	log_register_secret("abcdef");
	log_register_secret("abc"); /* twice: ignored */
	log_register_secret("");    /* empty: ignored, or everything would match */
	log_register_secret(NULL);
	char *out = log_redact("x abcdef y abc z ab");
	/* The longer secret wins, so no tail of it ("def") leaks. */
	ck_assert_str_eq(out, "x [REDACTED] y [REDACTED] z ab");
	free(out);

	log_msg(KERF_LOG_INFO, "provider/test", "key is %s!", "abcdef");
	ck_assert_ptr_null(strstr(captured.buf, "abc"));
	ck_assert_ptr_nonnull(strstr(captured.buf, "key is [REDACTED]!"));

	log_shutdown();
	out = log_redact("abc");
	ck_assert_str_eq(out, "abc");
	free(out);
}
END_TEST

START_TEST(redact_in_log_lines)
{
	log_msg(KERF_LOG_WARN, NULL, "request: Authorization: Bearer sekrit-token");
	ck_assert_ptr_null(strstr(captured.buf, "sekrit"));
	ck_assert_ptr_nonnull(strstr(captured.buf, "Authorization: [REDACTED]"));
}
END_TEST

/* ------------------------------------------------------------ formats */

static int64_t fixed_time(void *arg)
{
	return *(int64_t *)arg;
}

START_TEST(text_format)
{
	int64_t t = 1500; /* 1970-01-01T00:00:01.500Z */
	log_set_time(fixed_time, &t);
	log_msg(KERF_LOG_INFO, "provider/sim", "launched %d\nsecond line", 3);
	ck_assert_str_eq(captured.buf,
			 "1970-01-01T00:00:01.500Z INFO  provider/sim: launched 3\\nsecond line\n");
	ck_assert_uint_eq(captured_lines, 1);

	reset_capture();
	log_msg(KERF_LOG_ERROR, NULL, "plain");
	ck_assert_str_eq(captured.buf, "1970-01-01T00:00:01.500Z ERROR plain\n");
}
END_TEST

START_TEST(levels)
{
	log_msg(KERF_LOG_DEBUG, "c", "hidden");
	ck_assert_uint_eq(captured_lines, 0);
	ck_assert(!log_enabled(KERF_LOG_DEBUG));
	ck_assert(log_enabled(KERF_LOG_INFO));

	log_set_level(KERF_LOG_TRACE);
	ck_assert_int_eq(log_get_level(), KERF_LOG_TRACE);
	log_msg(KERF_LOG_TRACE, "c", "shown");
	ck_assert_uint_eq(captured_lines, 1);

	log_set_level(KERF_LOG_ERROR);
	log_msg(KERF_LOG_WARN, "c", "hidden");
	ck_assert_uint_eq(captured_lines, 1);
	/* Out-of-range levels from a plugin are clamped, never used as an index. */
	log_msg((kerf_log_level)-7, "c", "clamped to error");
	ck_assert_uint_eq(captured_lines, 2);

	ck_assert_str_eq(log_level_name(KERF_LOG_WARN), "warn");
	ck_assert_str_eq(log_level_name((kerf_log_level)42), "unknown");
}
END_TEST

START_TEST(json_format)
{
	int64_t t = 86400000 + 42; /* 1970-01-02T00:00:00.042Z */
	log_init(KERF_LOG_INFO, true);
	log_set_time(fixed_time, &t);
	log_register_secret("hunter2");
	log_msg(KERF_LOG_WARN, "packer/ffd",
		"quote \" backslash \\ tab\t nl\n pw hunter2 bad \xff");

	ck_assert_uint_eq(captured_lines, 1);
	ck_assert_int_eq(captured.buf[captured.len - 1], '\n');
	/* One line: the only newline is the terminator. */
	ck_assert_ptr_eq(strchr(captured.buf, '\n'), captured.buf + captured.len - 1);

	json_error_t jerr;
	json_t *o = json_loads(captured.buf, 0, &jerr);
	ck_assert_msg(o != NULL, "not JSON: %s: %s", jerr.text, captured.buf);
	ck_assert_str_eq(json_string_value(json_object_get(o, "time")), "1970-01-02T00:00:00.042Z");
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(o, "component")), "packer/ffd");
	ck_assert_str_eq(json_string_value(json_object_get(o, "msg")),
			 "quote \" backslash \\ tab\t nl\n pw [REDACTED] bad \xef\xbf\xbd");
	ck_assert_uint_eq(json_object_size(o), 4);
	json_decref(o);

	/* No component: the key is left out. */
	reset_capture();
	log_msg(KERF_LOG_INFO, NULL, "x");
	o = json_loads(captured.buf, 0, &jerr);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(json_object_get(o, "component"));
	json_decref(o);
}
END_TEST

/* ------------------------------------------------------------ clock */

START_TEST(virtual_clock)
{
	struct host_clock *c = host_clock_new_virtual(1000);
	ck_assert(host_clock_is_virtual(c));
	ck_assert_int_eq(host_clock_wall_ms(c), 1000);
	ck_assert_int_eq(host_clock_mono_ms(c), 1000);

	ck_assert_int_eq(host_clock_advance(c, 500), 0);
	ck_assert_int_eq(host_clock_wall_ms(c), 1500);
	ck_assert_int_eq(host_clock_mono_ms(c), 1500);
	ck_assert_int_eq(host_clock_advance(c, 0), 0);
	ck_assert_int_eq(host_clock_set(c, 60000), 0);
	ck_assert_int_eq(host_clock_wall_ms(c), 60000);

	/* Time never runs backwards. */
	ck_assert_int_eq(host_clock_advance(c, -1), KERF_E_INVALID);
	ck_assert_int_eq(host_clock_set(c, 59999), KERF_E_INVALID);
	ck_assert_int_eq(host_clock_wall_ms(c), 60000);
	ck_assert_int_eq(host_clock_advance(c, INT64_MAX), KERF_E_RANGE);

	/* A plugin sees the same time through its table. */
	struct kerf_host *h = host_new("cluster/sim", NULL, c, NULL);
	ck_assert_ptr_eq(host_clock_of(h), c);
	ck_assert_int_eq(h->wall_ms(h->ctx), 60000);
	host_clock_advance(c, 250);
	ck_assert_int_eq(h->mono_ms(h->ctx), 60250);
	ck_assert_int_eq(h->wall_ms(h->ctx), 60250);
	host_free(h);
	host_clock_free(c);
}
END_TEST

START_TEST(real_clock)
{
	struct host_clock *c = host_clock_new_real();
	ck_assert(!host_clock_is_virtual(c));
	ck_assert_int_eq(host_clock_advance(c, 1), KERF_E_INVALID);
	ck_assert_int_eq(host_clock_set(c, 1), KERF_E_INVALID);
	/* Later than 2020-01-01, and monotonic time does not go back. */
	ck_assert_int_gt(host_clock_wall_ms(c), 1577836800000LL);
	int64_t a = host_clock_mono_ms(c);
	ck_assert_int_ge(host_clock_mono_ms(c), a);
	host_clock_free(c);

	/* Without a clock a host uses the real one. */
	struct kerf_host *h = host_new("provider/x", NULL, NULL, NULL);
	ck_assert(!host_clock_is_virtual(host_clock_of(h)));
	ck_assert_int_gt(h->wall_ms(h->ctx), 1577836800000LL);
	host_free(h);
}
END_TEST

/* The real monotonic clock a plugin bounds its work with ignores the
 * virtual clock, which stands still unless the core moves it. */
START_TEST(real_mono_under_virtual_clock)
{
	/* An epoch instant: no machine's monotonic clock has run for 54 years. */
	struct host_clock *c = host_clock_new_virtual(1700000000000LL);
	struct kerf_host *h = host_new("packer/x", NULL, c, NULL);
	ck_assert(KERF_HOST_HAS(h, real_mono_ms));
	int64_t virt = h->mono_ms(h->ctx);

	int64_t before = now_mono_ms();
	int64_t r0 = h->real_mono_ms(h->ctx);
	int64_t after = now_mono_ms();
	ck_assert_int_le(before, r0);
	ck_assert_int_le(r0, after);
	ck_assert_int_ne(r0, virt);

	/* Wait for real time to move, by ordering: no duration is asserted. */
	int64_t r1 = r0;
	while (r1 == r0) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		r1 = h->real_mono_ms(h->ctx);
	}
	ck_assert_int_gt(r1, r0);
	ck_assert_int_eq(h->mono_ms(h->ctx), virt);
	ck_assert_int_eq(h->wall_ms(h->ctx), virt);

	/* Moving simulated time a day ahead leaves real time where it was. */
	ck_assert_int_eq(host_clock_advance(c, 86400000), 0);
	ck_assert_int_eq(h->mono_ms(h->ctx), virt + 86400000);
	int64_t r2 = h->real_mono_ms(h->ctx);
	ck_assert_int_ge(r2, r1);
	ck_assert_int_le(r2, now_mono_ms());
	host_free(h);
	host_clock_free(c);
}
END_TEST

/* ------------------------------------------------------------ threads */

#define THREADS 8
#define LINES_PER_THREAD 200

struct worker {
	struct kerf_host *h;
	int id;
	size_t env_hits;
};

static void *log_worker(void *arg)
{
	struct worker *w = arg;
	char secret[32];
	snprintf(secret, sizeof(secret), "sec-%d-%s", w->id, "a9f3c1");
	w->h->register_secret(w->h->ctx, secret);
	for (int i = 0; i < LINES_PER_THREAD; i++) {
		w->h->log(w->h->ctx, KERF_LOG_INFO, "worker %d line %d key %s end", w->id, i,
			  secret);
		const char *v = w->h->getenv(w->h->ctx, "KERF_CHECK_HOST_THREADS");
		if (v && strcmp(v, "shared") == 0)
			w->env_hits++;
	}
	return NULL;
}

/* Many threads log through one table, each with a secret of its own: every
 * line arrives whole and redacted, and getenv answers each of them. */
START_TEST(services_from_threads)
{
	ck_assert_int_eq(setenv("KERF_CHECK_HOST_THREADS", "shared", 1), 0);
	struct kerf_host *h = host_new("cluster/x", NULL, NULL, NULL);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.h = h, .id = i};
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_uint_eq(w[i].env_hits, LINES_PER_THREAD);
	}
	unsetenv("KERF_CHECK_HOST_THREADS");

	ck_assert_uint_eq(captured_lines, THREADS * LINES_PER_THREAD);
	ck_assert_ptr_null(strstr(captured.buf, "a9f3c1"));
	/* Each line is one message, start to end: none was cut into by another. */
	size_t lines = 0, next[THREADS] = {0};
	for (const char *p = captured.buf; *p; lines++) {
		const char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		int id, n;
		const char *msg = strstr(p, "cluster/x: worker ");
		ck_assert_msg(msg && msg < nl, "line %zu: %.*s", lines, (int)(nl - p), p);
		ck_assert_int_eq(sscanf(msg, "cluster/x: worker %d line %d", &id, &n), 2);
		ck_assert(id >= 0 && id < THREADS);
		/* One thread's lines keep its order. */
		ck_assert_uint_eq((size_t)n, next[id]);
		next[id]++;
		const char *tail = " key [REDACTED] end";
		size_t tl = strlen(tail);
		ck_assert((size_t)(nl - p) >= tl && memcmp(nl - tl, tail, tl) == 0);
		p = nl + 1;
	}
	ck_assert_uint_eq(lines, THREADS * LINES_PER_THREAD);
	host_free(h);
}
END_TEST

/* getenv's strings stay put when the variable changes, as another thread
 * may still be reading one. */
START_TEST(getenv_strings_stay_valid)
{
	struct kerf_host *h = host_new("provider/x", NULL, NULL, NULL);
	ck_assert_int_eq(setenv("KERF_CHECK_HOST_VAR", "one", 1), 0);
	const char *first = h->getenv(h->ctx, "KERF_CHECK_HOST_VAR");
	ck_assert_str_eq(first, "one");
	ck_assert_ptr_eq(h->getenv(h->ctx, "KERF_CHECK_HOST_VAR"), first);
	ck_assert_int_eq(setenv("KERF_CHECK_HOST_VAR", "two", 1), 0);
	const char *second = h->getenv(h->ctx, "KERF_CHECK_HOST_VAR");
	ck_assert_str_eq(second, "two");
	ck_assert_str_eq(first, "one");
	unsetenv("KERF_CHECK_HOST_VAR");
	ck_assert_ptr_null(h->getenv(h->ctx, "KERF_CHECK_HOST_VAR"));
	ck_assert_str_eq(second, "two");
	ck_assert_ptr_null(h->getenv(h->ctx, NULL));
	host_free(h);
}
END_TEST

/* ------------------------------------------------------------ host table */

START_TEST(table_basics)
{
	struct kerf_host *h = host_new("provider/acme", NULL, NULL, NULL);
	ck_assert_uint_eq(h->size, sizeof(struct kerf_host));
	ck_assert_uint_eq(h->abi_major, KERF_ABI_MAJOR);
	ck_assert_uint_eq(h->abi_minor, KERF_ABI_MINOR);
	ck_assert_str_eq(h->instance_name, "provider/acme");
	ck_assert(KERF_HOST_HAS(h, config_list));

	char *s = h->strdup(h->ctx, "copy");
	ck_assert_str_eq(s, "copy");
	ck_assert_ptr_null(h->strdup(h->ctx, NULL));
	int *v = h->calloc(h->ctx, 4, sizeof(int));
	ck_assert_int_eq(v[3], 0);
	v = h->realloc(h->ctx, v, 100 * sizeof(int));
	v[99] = 1;
	h->free(h->ctx, v);
	h->free(h->ctx, s);
	h->free(h->ctx, h->malloc(h->ctx, 0));

	ck_assert_int_eq(setenv("KERF_CHECK_HOST_VAR", "value", 1), 0);
	ck_assert_str_eq(h->getenv(h->ctx, "KERF_CHECK_HOST_VAR"), "value");
	unsetenv("KERF_CHECK_HOST_VAR");
	ck_assert_ptr_null(h->getenv(h->ctx, "KERF_CHECK_HOST_VAR"));

	/* No HTTP client: network calls fail cleanly instead of crashing. */
	struct kerf_error err;
	kerf_error_clear(&err);
	struct kerf_http_request req = {.method = "GET", .url = "http://127.0.0.1:1/"};
	struct kerf_http_response *resp = NULL;
	ck_assert_int_eq(h->http_request(h->ctx, &req, &resp, &err), KERF_E_UNSUPPORTED);
	ck_assert_ptr_null(resp);
	ck_assert_ptr_nonnull(strstr(err.message, "provider/acme"));

	/* No section: the plugin declared no keys. */
	const char *str;
	ck_assert_int_eq(h->config_string(h->ctx, "region", &str), KERF_E_INVALID);
	host_free(h);
	host_free(NULL);
}
END_TEST

START_TEST(host_log_component)
{
	struct kerf_host *h = host_new("provider/acme", NULL, NULL, NULL);
	h->register_secret(h->ctx, "tok-123456");
	h->log(h->ctx, KERF_LOG_INFO, "calling with %s", "tok-123456");
	h->log(h->ctx, KERF_LOG_DEBUG, "dropped");
	ck_assert_uint_eq(captured_lines, 1);
	ck_assert_ptr_nonnull(
	    strstr(captured.buf, " INFO  provider/acme: calling with [REDACTED]\n"));
	ck_assert_ptr_null(strstr(captured.buf, "tok-123456"));
	host_free(h);
}
END_TEST

/* ------------------------------------------------------------ files */

static char *temp_file(const char *content, size_t len)
{
	char tmpl[] = "/tmp/check_host.XXXXXX";
	int fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return xstrdup(tmpl);
}

START_TEST(read_file)
{
	struct kerf_host *h = host_new("provider/x", NULL, NULL, NULL);
	struct kerf_error err;
	char *path = temp_file("hello\0world", 11);
	char *buf = NULL;
	size_t len = 0;

	kerf_error_clear(&err);
	ck_assert_int_eq(h->read_file(h->ctx, path, 11, &buf, &len, &err), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert_int_eq(memcmp(buf, "hello\0world", 12), 0); /* NUL-terminated too */
	h->free(h->ctx, buf);

	buf = NULL;
	ck_assert_int_eq(h->read_file(h->ctx, path, 10, &buf, &len, &err), KERF_E_RANGE);
	ck_assert_ptr_null(buf);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	ck_assert_ptr_nonnull(strstr(err.message, "10 bytes"));
	unlink(path);
	free(path);

	path = temp_file("", 0);
	ck_assert_int_eq(h->read_file(h->ctx, path, 0, &buf, NULL, &err), 0);
	ck_assert_str_eq(buf, "");
	h->free(h->ctx, buf);
	unlink(path);
	free(path);

	kerf_error_clear(&err);
	ck_assert_int_eq(h->read_file(h->ctx, "/nonexistent/kerf/file", 100, &buf, &len, &err),
			 KERF_E_IO);
	ck_assert_int_eq(err.code, KERF_E_IO);
	ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent/kerf/file"));
	ck_assert_ptr_nonnull(strstr(err.message, strerror(ENOENT)));

	ck_assert_int_eq(h->read_file(h->ctx, "/tmp", 100, &buf, &len, &err), KERF_E_IO);
	ck_assert_ptr_nonnull(strstr(err.message, strerror(EISDIR)));

	/* /proc files report size 0: the cap must hold while reading too. */
	if (access("/proc/self/status", R_OK) == 0) {
		ck_assert_int_eq(h->read_file(h->ctx, "/proc/self/status", 16, &buf, &len, &err),
				 KERF_E_RANGE);
		ck_assert_int_eq(
		    h->read_file(h->ctx, "/proc/self/status", 1 << 20, &buf, &len, &err), 0);
		ck_assert_uint_gt(len, 16);
		ck_assert_uint_eq(strlen(buf), len);
		h->free(h->ctx, buf);
	}
	host_free(h);
}
END_TEST

/* An uninstalled build reads the installed data directory's files from the source tree. */
START_TEST(read_file_build_tree_data)
{
	struct kerf_host *h = host_new("provider/x", NULL, NULL, NULL);
	struct kerf_error err;
	char *buf = NULL, *want = NULL;
	size_t len = 0, want_len = 0;

	kerf_error_clear(&err);
	ck_assert_int_eq(h->read_file(h->ctx, KERF_TEST_SRCDIR "/data/ec2-catalogue.tsv", 1 << 24,
				      &want, &want_len, &err),
			 0);
	ck_assert_msg(h->read_file(h->ctx, KERF_DATADIR "/ec2-catalogue.tsv", 1 << 24, &buf, &len,
				   &err) == 0,
		      "%s", err.message);
	ck_assert_uint_eq(len, want_len);
	ck_assert_int_eq(memcmp(buf, want, len), 0);
	h->free(h->ctx, buf);
	h->free(h->ctx, want);

	ck_assert_int_eq(
	    h->read_file(h->ctx, KERF_DATADIR "/no-such-file", 100, &buf, &len, &err), KERF_E_IO);
	ck_assert_ptr_nonnull(strstr(err.message, KERF_DATADIR "/no-such-file"));
	ck_assert_ptr_nonnull(strstr(err.message, strerror(ENOENT)));
	host_free(h);
}
END_TEST

/*
 * A configured path to an installed data file that is not installed comes
 * back as the build tree's copy, the file read_file would read, so the
 * plugin can log the path it really reads; other strings come back as set.
 */
START_TEST(config_string_build_tree_data)
{
	static const struct kerf_config_key data_schema[] = {
	    {.key = "catalogue",
	     .type = KERF_CFG_STRING,
	     .default_value = KERF_DATADIR "/ec2-catalogue.tsv"},
	    {.key = "missing",
	     .type = KERF_CFG_STRING,
	     .default_value = KERF_DATADIR "/no-such-file"},
	    {.key = NULL},
	};
	struct kerf_error err;
	struct cfg_section *sec = NULL;
	const char *s;

	if (access(KERF_DATADIR "/ec2-catalogue.tsv", F_OK) == 0)
		return; /* installed: nothing to stand in for */
	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_section_build(NULL, "sim", data_schema, &sec, &err), 0);
	struct kerf_host *h = host_new("provider/sim", sec, NULL, NULL);
	ck_assert_int_eq(h->config_string(h->ctx, "catalogue", &s), 0);
	ck_assert_str_eq(s, KERF_BUILD_DATADIR "/ec2-catalogue.tsv");
	ck_assert_int_eq(access(s, R_OK), 0);
	ck_assert_int_eq(h->config_string(h->ctx, "missing", &s), 0);
	ck_assert_str_eq(s, KERF_DATADIR "/no-such-file");
	host_free(h);
	cfg_section_free(sec);
}
END_TEST

/* ------------------------------------------------------------ config */

static const struct kerf_config_key schema[] = {
    {.key = "region", .type = KERF_CFG_STRING, .default_value = "acme-west-1"},
    {.key = "endpoint", .type = KERF_CFG_STRING},
    {.key = "retries", .type = KERF_CFG_INT, .default_value = "3"},
    {.key = "spot", .type = KERF_CFG_BOOL, .default_value = "false"},
    {.key = "timeout", .type = KERF_CFG_DURATION, .default_value = "30s"},
    {.key = "disk", .type = KERF_CFG_QUANTITY},
    {.key = "zones", .type = KERF_CFG_STRING_LIST},
    {.key = "token", .type = KERF_CFG_STRING, .secret = true},
    {.key = NULL},
};

START_TEST(config_getters)
{
	static const char yaml[] = "region: acme-east-2\n"
				   "retries: 7\n"
				   "spot: true\n"
				   "timeout: 1m30s\n"
				   "disk: 2Gi\n"
				   "zones: [a, b]\n";
	struct yt_stream *ys = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_string("t.yaml", yaml, strlen(yaml), &ys, &err), 0);
	struct cfg_section *sec = NULL;
	ck_assert_msg(cfg_section_build(ys->docs[0].root, "acme", schema, &sec, &err) == 0, "%s",
		      err.message);

	struct kerf_host *h = host_new("provider/acme", sec, NULL, NULL);
	const char *s;
	int64_t i;
	bool b;
	size_t n;
	const char *const *list;

	ck_assert_int_eq(h->config_string(h->ctx, "region", &s), 0);
	ck_assert_str_eq(s, "acme-east-2");
	ck_assert_int_eq(h->config_int(h->ctx, "retries", &i), 0);
	ck_assert_int_eq(i, 7);
	ck_assert_int_eq(h->config_bool(h->ctx, "spot", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(h->config_duration(h->ctx, "timeout", &i), 0);
	ck_assert_int_eq(i, 90000);
	ck_assert_int_eq(h->config_quantity(h->ctx, "disk", &i), 0);
	ck_assert_int_eq(i, 2LL * 1024 * 1024 * 1024);
	ck_assert_int_eq(h->config_list(h->ctx, "zones", &n, &list), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "a");
	ck_assert_str_eq(list[1], "b");

	/* No value and no default. */
	ck_assert_int_eq(h->config_string(h->ctx, "endpoint", &s), KERF_E_NOTFOUND);
	/* Wrong type and undeclared keys. */
	ck_assert_int_eq(h->config_int(h->ctx, "region", &i), KERF_E_INVALID);
	ck_assert_int_eq(h->config_string(h->ctx, "nope", &s), KERF_E_INVALID);
	ck_assert_int_eq(h->config_string(h->ctx, NULL, &s), KERF_E_INVALID);

	host_free(h);
	cfg_section_free(sec);

	/* An absent section gets every default. */
	ck_assert_int_eq(cfg_section_build(NULL, "acme", schema, &sec, &err), 0);
	h = host_new("provider/acme", sec, NULL, NULL);
	ck_assert_int_eq(h->config_string(h->ctx, "region", &s), 0);
	ck_assert_str_eq(s, "acme-west-1");
	ck_assert_int_eq(h->config_int(h->ctx, "retries", &i), 0);
	ck_assert_int_eq(i, 3);
	ck_assert_int_eq(h->config_bool(h->ctx, "spot", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(h->config_duration(h->ctx, "timeout", &i), 0);
	ck_assert_int_eq(i, 30000);
	ck_assert_int_eq(h->config_quantity(h->ctx, "disk", &i), KERF_E_NOTFOUND);
	host_free(h);
	cfg_section_free(sec);
	yt_stream_free(ys);
}
END_TEST

/* A secret key's value reaches the plugin as written and never the log. */
START_TEST(config_secret)
{
	static const char yaml[] = "token: tok-from-kerf-yaml\n";
	struct yt_stream *ys = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_string("t.yaml", yaml, strlen(yaml), &ys, &err), 0);
	struct cfg_section *sec = NULL;
	ck_assert_msg(cfg_section_build(ys->docs[0].root, "acme", schema, &sec, &err) == 0, "%s",
		      err.message);
	struct kerf_host *h = host_new("provider/acme", sec, NULL, NULL);
	const char *s;

	ck_assert_int_eq(h->config_string(h->ctx, "token", &s), 0);
	ck_assert_str_eq(s, "tok-from-kerf-yaml");
	h->log(h->ctx, KERF_LOG_INFO, "token %s, url https://x/?t=%s", s, s);
	log_msg(KERF_LOG_ERROR, "core", "plugin said: %s", s);
	ck_assert_uint_eq(captured_lines, 2);
	ck_assert_ptr_nonnull(strstr(captured.buf, "provider/acme: token [REDACTED], url "
						   "https://x/?t=[REDACTED]\n"));
	ck_assert_ptr_nonnull(strstr(captured.buf, "core: plugin said: [REDACTED]\n"));
	ck_assert_ptr_null(strstr(captured.buf, "tok-from-kerf-yaml"));
	host_free(h);
	cfg_section_free(sec);
	yt_stream_free(ys);
}
END_TEST

static Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("log");
	tcase_add_checked_fixture(tc, capture_setup, capture_teardown);
	tcase_add_loop_test(tc, redact_patterns, 0,
			    (int)(sizeof(redactions) / sizeof(redactions[0])));
	tcase_add_test(tc, redact_registered_secrets);
	tcase_add_test(tc, redact_in_log_lines);
	tcase_add_test(tc, text_format);
	tcase_add_test(tc, levels);
	tcase_add_test(tc, json_format);
	tcase_add_test(tc, host_log_component);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_checked_fixture(tc, capture_setup, capture_teardown);
	tcase_add_test(tc, virtual_clock);
	tcase_add_test(tc, real_clock);
	tcase_add_test(tc, real_mono_under_virtual_clock);
	tcase_add_test(tc, table_basics);
	tcase_add_test(tc, services_from_threads);
	tcase_add_test(tc, getenv_strings_stay_valid);
	tcase_add_test(tc, read_file);
	tcase_add_test(tc, read_file_build_tree_data);
	tcase_add_test(tc, config_string_build_tree_data);
	tcase_add_test(tc, config_getters);
	tcase_add_test(tc, config_secret);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(host_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
