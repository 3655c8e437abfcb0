/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigv4.c - AWS Signature Version 4: canonical request, string to sign,
 * signing key and Authorization header.
 */
#include "sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws_buf.h"

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = HEX_LOWER[in[i] >> 4];
		out[2 * i + 1] = HEX_LOWER[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data ? data : (const void *)"", len, md);
	hex_lower(md, sizeof(md), out);
}

void sigv4_amz_date(int64_t wall_ms, char out[17])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode_into(struct aws_buf *b, const char *s, size_t len, bool keep_slash)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			aws_buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
			aws_buf_add(b, e, 3);
		}
	}
}

char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash)
{
	struct aws_buf b = {0};
	uri_encode_into(&b, s, len, keep_slash);
	return aws_buf_detach(&b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Form decoding of one query component: %XX and '+' as a space. */
static char *query_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = aws_xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+') {
			out[n++] = ' ';
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

struct kv {
	char *key; /* encoded */
	char *value;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(struct aws_buf *b, const char *q)
{
	if (!q || !*q)
		return;
	size_t n = 1;
	for (const char *p = q; *p; p++)
		n += *p == '&';
	struct kv *kvs = aws_xcalloc(n, sizeof(*kvs));
	size_t k = 0;
	const char *p = q;
	while (*p) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		if (end > p) {
			const char *eq = memchr(p, '=', (size_t)(end - p));
			const char *kend = eq ? eq : end;
			size_t dl;
			char *dk = query_decode(p, (size_t)(kend - p), &dl);
			kvs[k].key = sigv4_uri_encode(dk, dl, false);
			free(dk);
			char *dv = eq ? query_decode(eq + 1, (size_t)(end - eq - 1), &dl)
				      : aws_xstrdup("");
			if (!eq)
				dl = 0;
			kvs[k].value = sigv4_uri_encode(dv, dl, false);
			free(dv);
			k++;
		}
		p = *end ? end + 1 : end;
	}
	qsort(kvs, k, sizeof(*kvs), kv_cmp);
	for (size_t i = 0; i < k; i++) {
		if (i)
			aws_buf_addc(b, '&');
		aws_buf_adds(b, kvs[i].key);
		aws_buf_addc(b, '=');
		aws_buf_adds(b, kvs[i].value);
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

/*
 * RFC 3986 dot-segment removal, with empty segments dropped too, as AWS
 * requires.  A trailing '/' stays only when the path ends with one.
 */
static char *normalize_path(const char *path)
{
	size_t len = strlen(path);
	const char **seg = aws_xcalloc(len + 1, sizeof(*seg));
	size_t *seglen = aws_xcalloc(len + 1, sizeof(*seglen));
	size_t n = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		size_t l = (size_t)(e - p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				n--;
		} else if (!(l == 1 && p[0] == '.')) {
			seg[n] = p;
			seglen[n++] = l;
		}
		p = e;
	}
	struct aws_buf b = {0};
	for (size_t i = 0; i < n; i++) {
		aws_buf_addc(&b, '/');
		aws_buf_add(&b, seg[i], seglen[i]);
	}
	if (n == 0 || (len > 0 && path[len - 1] == '/'))
		aws_buf_addc(&b, '/');
	free(seg);
	free(seglen);
	return aws_buf_detach(&b);
}

struct hdr {
	char *name; /* lowercase */
	struct aws_buf value;
	size_t first; /* position of the first occurrence, for a stable sort */
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Trims and collapses every run of whitespace (folded lines included) to one space. */
static void add_trimmed(struct aws_buf *b, const char *v)
{
	bool space = false, any = false;
	for (const char *p = v; *p; p++) {
		if (isspace((unsigned char)*p)) {
			space = any;
			continue;
		}
		if (space)
			aws_buf_addc(b, ' ');
		space = false;
		any = true;
		aws_buf_addc(b, *p);
	}
}

static void hmac(const void *key, size_t key_len, const char *data, unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, strlen(data), out, &n);
}

int sigv4_sign(const struct sigv4_request *req, const char *access_key, const char *secret_key,
	       const char *region, const char *service, const char *amz_date,
	       struct sigv4_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!amz_date || strlen(amz_date) != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z')
		return -1;
	for (size_t i = 0; i < req->n_headers; i++)
		if (!req->headers[i].name || !req->headers[i].name[0])
			return -1;

	/* Headers: lowercase names, merged in order of appearance, sorted. */
	struct hdr *h = aws_xcalloc(req->n_headers + 1, sizeof(*h));
	size_t nh = 0;
	for (size_t i = 0; i < req->n_headers; i++) {
		char *lower = aws_xstrdup(req->headers[i].name);
		for (char *c = lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		size_t j;
		for (j = 0; j < nh; j++)
			if (strcmp(h[j].name, lower) == 0)
				break;
		if (j == nh) {
			h[nh].name = lower;
			h[nh].first = i;
			nh++;
		} else {
			free(lower);
			aws_buf_addc(&h[j].value, ',');
		}
		add_trimmed(&h[j].value, req->headers[i].value ? req->headers[i].value : "");
	}
	qsort(h, nh, sizeof(*h), hdr_cmp);

	struct aws_buf creq = {0};
	aws_buf_adds(&creq, req->method);
	aws_buf_addc(&creq, '\n');
	const char *path = req->path && *req->path ? req->path : "/";
	char *norm = req->normalize_path ? normalize_path(path) : aws_xstrdup(path);
	uri_encode_into(&creq, norm, strlen(norm), true);
	free(norm);
	aws_buf_addc(&creq, '\n');
	canonical_query(&creq, req->query);
	aws_buf_addc(&creq, '\n');
	struct aws_buf signed_headers = {0};
	for (size_t i = 0; i < nh; i++) {
		aws_buf_adds(&creq, h[i].name);
		aws_buf_addc(&creq, ':');
		if (h[i].value.data)
			aws_buf_adds(&creq, h[i].value.data);
		aws_buf_addc(&creq, '\n');
		if (i)
			aws_buf_addc(&signed_headers, ';');
		aws_buf_adds(&signed_headers, h[i].name);
		free(h[i].name);
		aws_buf_free(&h[i].value);
	}
	free(h);
	aws_buf_addc(&creq, '\n');
	aws_buf_adds(&creq, signed_headers.data ? signed_headers.data : "");
	aws_buf_addc(&creq, '\n');
	char body_hash[65];
	sigv4_sha256_hex(req->body, req->body ? req->body_len : 0, body_hash);
	aws_buf_adds(&creq, body_hash);

	char date[9];
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	char creq_hash[65];
	sigv4_sha256_hex(creq.data, creq.len, creq_hash);
	struct aws_buf sts = {0};
	aws_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date,
		     region, service, creq_hash);

	/* The signing key: HMAC chain over date, region, service. */
	struct aws_buf k0 = {0};
	aws_buf_addf(&k0, "AWS4%s", secret_key);
	unsigned char k_date[32], k_region[32], k_service[32], k_signing[32], sig[32];
	hmac(k0.data, k0.len, date, k_date);
	aws_buf_free(&k0);
	hmac(k_date, 32, region, k_region);
	hmac(k_region, 32, service, k_service);
	hmac(k_service, 32, "aws4_request", k_signing);
	hmac(k_signing, 32, sts.data, sig);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
	OPENSSL_cleanse(k_signing, sizeof(k_signing));
	hex_lower(sig, 32, out->signature);

	struct aws_buf authz = {0};
	aws_buf_addf(&authz,
		     "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
		     "Signature=%s",
		     access_key, date, region, service,
		     signed_headers.data ? signed_headers.data : "", out->signature);
	out->canonical_request = aws_buf_detach(&creq);
	out->string_to_sign = aws_buf_detach(&sts);
	out->signed_headers = aws_buf_detach(&signed_headers);
	out->authorization = aws_buf_detach(&authz);
	return 0;
}

void sigv4_result_free(struct sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->signed_headers);
	free(r->authorization);
	memset(r, 0, sizeof(*r));
}
