/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sigv4.c - SigV4 signing (plugins/ec2/sigv4.c) on every case of
 * AWS's Signature Version 4 test suite (tests/data/sigv4, Apache-2.0, see
 * its LICENSE, NOTICE and SOURCE): the canonical request, the string to
 * sign and the Authorization header must match byte for byte.
 *
 * Run as `check_sigv4 --sign`, it is instead the signer that
 * tests/sigv4-botocore.py compares with botocore: one JSON request per
 * input line, one JSON line {"creq", "sts", "authz"} out.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigv4.h"

#define SUITE_DIR KERF_TEST_DATADIR "/sigv4"
#define ACCESS_KEY "AKIDEXAMPLE"
#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* Every case of the 2015-08-30 suite is one folder with NAME.req and answers. */
#define SUITE_CASES 34

static char *cases[64];
static size_t n_cases;

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Collects every folder holding NAME.req under dir (cases nest one level). */
static void collect(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024], req[1400];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", path, e->d_name);
		if (stat(req, &st) == 0 && n_cases < sizeof(cases) / sizeof(cases[0]))
			cases[n_cases++] = strdup(path);
		collect(path);
	}
	closedir(d);
}

struct parsed {
	char *method;
	char *path;
	char *query;
	struct sigv4_header headers[16];
	char *names[16];
	char *values[16];
	size_t n;
	char *body;
};

/*
 * A .req file: "METHOD TARGET HTTP/1.1", headers (a line starting with
 * white space continues the previous value), a blank line, the body.  The
 * target may hold spaces (normalize-path/get-space), so it ends at the
 * last " HTTP/".
 */
static void parse_req(char *text, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	char *eol = strchr(text, '\n');
	ck_assert_ptr_nonnull(eol);
	*eol = '\0';
	char *sp = strchr(text, ' ');
	ck_assert_ptr_nonnull(sp);
	p->method = strndup(text, (size_t)(sp - text));
	char *target = sp + 1;
	char *http = strstr(target, " HTTP/");
	char *last = http;
	while (last && (http = strstr(last + 1, " HTTP/")))
		last = http;
	ck_assert_ptr_nonnull(last);
	*last = '\0';
	char *q = strchr(target, '?');
	p->path = q ? strndup(target, (size_t)(q - target)) : strdup(target);
	p->query = q ? strdup(q + 1) : strdup("");

	char *line = eol + 1;
	while (*line && *line != '\n') {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if ((line[0] == ' ' || line[0] == '\t') && p->n > 0) {
			char *prev = p->values[p->n - 1];
			size_t pl = strlen(prev);
			prev = realloc(prev, pl + 1 + len + 1);
			prev[pl] = '\n';
			memcpy(prev + pl + 1, line, len);
			prev[pl + 1 + len] = '\0';
			p->values[p->n - 1] = prev;
		} else {
			char *colon = memchr(line, ':', len);
			ck_assert_ptr_nonnull(colon);
			ck_assert_uint_lt(p->n, 16);
			p->names[p->n] = strndup(line, (size_t)(colon - line));
			p->values[p->n] = strndup(colon + 1, len - (size_t)(colon + 1 - line));
			p->n++;
		}
		line = end ? end + 1 : line + len;
	}
	p->body = strdup(*line == '\n' ? line + 1 : "");
	for (size_t i = 0; i < p->n; i++)
		p->headers[i] = (struct sigv4_header){p->names[i], p->values[i]};
}

static void parsed_free(struct parsed *p)
{
	free(p->method);
	free(p->path);
	free(p->query);
	for (size_t i = 0; i < p->n; i++) {
		free(p->names[i]);
		free(p->values[i]);
	}
	free(p->body);
}

static const char *header(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

static char *answer(const char *dir, const char *name, const char *ext)
{
	char path[1400];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	return read_all(path);
}

START_TEST(suite_case)
{
	const char *dir = cases[_i];
	const char *name = strrchr(dir, '/') + 1;
	char *req = answer(dir, name, "req");
	struct parsed p;
	parse_req(req, &p);
	/* The session-token case gives the token only in its signed request
	 * (.sreq): it is an input the signer adds and signs. */
	if (strcmp(name, "get-vanilla-with-session-token") == 0) {
		char *sreq = answer(dir, name, "sreq");
		struct parsed s;
		parse_req(sreq, &s);
		const char *tok = header(&s, "X-Amz-Security-Token");
		ck_assert_ptr_nonnull(tok);
		p.names[p.n] = strdup("X-Amz-Security-Token");
		p.values[p.n] = strdup(tok);
		p.headers[p.n] = (struct sigv4_header){p.names[p.n], p.values[p.n]};
		p.n++;
		parsed_free(&s);
		free(sreq);
	}
	const char *date = header(&p, "X-Amz-Date");
	ck_assert_ptr_nonnull(date);
	struct sigv4_request r = {.method = p.method,
				  .path = p.path,
				  .query = p.query,
				  .headers = p.headers,
				  .n_headers = p.n,
				  .body = p.body,
				  .body_len = strlen(p.body),
				  .normalize_path = true};
	struct sigv4_result out;
	ck_assert_int_eq(sigv4_sign(&r, ACCESS_KEY, SECRET_KEY, "us-east-1", "service", date, &out),
			 0);
	char *creq = answer(dir, name, "creq");
	char *sts = answer(dir, name, "sts");
	char *authz = answer(dir, name, "authz");
	ck_assert_msg(strcmp(out.canonical_request, creq) == 0,
		      "%s: canonical request\n--- got\n%s\n--- want\n%s", name,
		      out.canonical_request, creq);
	ck_assert_msg(strcmp(out.string_to_sign, sts) == 0,
		      "%s: string to sign\n--- got\n%s\n--- want\n%s", name, out.string_to_sign,
		      sts);
	ck_assert_msg(strcmp(out.authorization, authz) == 0,
		      "%s: authorization\n--- got\n%s\n--- want\n%s", name, out.authorization,
		      authz);
	sigv4_result_free(&out);
	free(creq);
	free(sts);
	free(authz);
	parsed_free(&p);
	free(req);
}
END_TEST

/* The walk found the whole suite, so no case is silently skipped. */
START_TEST(suite_complete)
{
	ck_assert_uint_eq(n_cases, SUITE_CASES);
}
END_TEST

START_TEST(amz_date_and_hash)
{
	char d[17], h[65];
	sigv4_amz_date(INT64_C(1440938160000), d);
	ck_assert_str_eq(d, "20150830T123600Z");
	sigv4_sha256_hex("", 0, h);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	char *e = sigv4_uri_encode("a b/c~ü", strlen("a b/c~ü"), false);
	ck_assert_str_eq(e, "a%20b%2Fc~%C3%BC");
	free(e);
	e = sigv4_uri_encode("/a b/", 5, true);
	ck_assert_str_eq(e, "/a%20b/");
	free(e);
}
END_TEST

/* A malformed date or an empty header name is refused, not signed. */
START_TEST(bad_inputs)
{
	struct sigv4_header h[] = {{"", "x"}};
	struct sigv4_request r = {.method = "GET", .path = "/", .headers = h, .n_headers = 1};
	struct sigv4_result out;
	ck_assert_int_eq(sigv4_sign(&r, "a", "b", "r", "s", "20150830T123600Z", &out), -1);
	r.n_headers = 0;
	ck_assert_int_eq(sigv4_sign(&r, "a", "b", "r", "s", "2015-08-30", &out), -1);
	ck_assert_int_eq(sigv4_sign(&r, "a", "b", "r", "s", "20150830T123600Z", &out), 0);
	sigv4_result_free(&out);
}
END_TEST

/* The --sign mode: no Check, just a filter. */
static int sign_lines(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *in = json_loadb(line, (size_t)n, 0, &je);
		if (!in) {
			fprintf(stderr, "check_sigv4 --sign: bad input line: %s\n", je.text);
			return 2;
		}
		json_t *hs = json_object_get(in, "headers");
		size_t nh = json_array_size(hs);
		struct sigv4_header *h = calloc(nh + 1, sizeof(*h));
		for (size_t i = 0; i < nh; i++) {
			json_t *pair = json_array_get(hs, i);
			h[i].name = json_string_value(json_array_get(pair, 0));
			h[i].value = json_string_value(json_array_get(pair, 1));
		}
		const char *body = json_string_value(json_object_get(in, "body"));
		struct sigv4_request r = {.method =
					      json_string_value(json_object_get(in, "method")),
					  .path = json_string_value(json_object_get(in, "path")),
					  .query = json_string_value(json_object_get(in, "query")),
					  .headers = h,
					  .n_headers = nh,
					  .body = body,
					  .body_len = body ? strlen(body) : 0,
					  .normalize_path = true};
		struct sigv4_result out;
		if (sigv4_sign(&r, json_string_value(json_object_get(in, "access_key")),
			       json_string_value(json_object_get(in, "secret_key")),
			       json_string_value(json_object_get(in, "region")),
			       json_string_value(json_object_get(in, "service")),
			       json_string_value(json_object_get(in, "date")), &out) != 0) {
			fprintf(stderr, "check_sigv4 --sign: sigv4_sign refused a request\n");
			return 2;
		}
		json_t *o = json_pack("{s:s, s:s, s:s}", "creq", out.canonical_request, "sts",
				      out.string_to_sign, "authz", out.authorization);
		char *text = json_dumps(o, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
		json_decref(o);
		sigv4_result_free(&out);
		free(h);
		json_decref(in);
	}
	free(line);
	return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--sign") == 0)
		return sign_lines();
	collect(SUITE_DIR);
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("aws-suite");
	tcase_add_test(tc, suite_complete);
	tcase_add_loop_test(tc, suite_case, 0, (int)n_cases);
	suite_add_tcase(s, tc);
	tc = tcase_create("helpers");
	tcase_add_test(tc, amz_date_and_hash);
	tcase_add_test(tc, bad_inputs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (size_t i = 0; i < n_cases; i++)
		free(cases[i]);
	return nf ? 1 : 0;
}
