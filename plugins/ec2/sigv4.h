/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256), the algorithm
 * alone: canonical request, string to sign, signing key and Authorization
 * header of one request, from explicit inputs.  No I/O and no clock: the
 * caller passes the X-Amz-Date it also sends, so the same code signs the
 * client's requests, checks them in the fake endpoint and runs AWS's test
 * suite byte for byte.  Out of memory aborts.
 */
#ifndef KERF_EC2_SIGV4_H
#define KERF_EC2_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sigv4_header {
	const char *name;
	const char *value;
};

/* A request as it goes on the wire; everything borrowed. */
struct sigv4_request {
	const char *method;
	const char *path;  /* request target's path, as sent (not decoded) */
	const char *query; /* after '?', as sent (percent-encoded); NULL or "" when none */
	/* Every header to sign, in the order sent; repeated names are joined
	 * with ',' in that order.  Must include host and x-amz-date. */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body; /* NULL when none */
	size_t body_len;
	/* Remove "." and ".." segments and empty segments from the path, as
	 * every service but S3 expects; the path's bytes are then
	 * percent-encoded once more, as AWS's double encoding requires. */
	bool normalize_path;
};

/* What signing produced; free with sigv4_result_free. */
struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers; /* "host;x-amz-date" */
	char *authorization;  /* the Authorization header's value */
	char signature[65];   /* lowercase hex */
};

/*
 * Signs req for (region, service) at amz_date ("20150830T123600Z", the
 * date of the credential scope is its first 8 characters).  Returns 0, or
 * -1 when amz_date is not of that form or a header name is empty.
 * Never logs; out->authorization holds no secret.
 */
int sigv4_sign(const struct sigv4_request *req, const char *access_key, const char *secret_key,
	       const char *region, const char *service, const char *amz_date,
	       struct sigv4_result *out);
/* Frees the strings of r and zeroes it.  NULL allowed. */
void sigv4_result_free(struct sigv4_result *r);

/* "YYYYMMDDTHHMMSSZ" for milliseconds since the epoch (UTC). */
void sigv4_amz_date(int64_t wall_ms, char out[17]);
/* Lowercase hex SHA-256 of data. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/*
 * Appends s percent-encoded as SigV4 wants (unreserved A-Z a-z 0-9 - _ . ~
 * kept, every other byte %XX uppercase); '/' kept when keep_slash.
 * Returns a malloc'd string.
 */
char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash);

#endif
