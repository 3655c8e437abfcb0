/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_int.h - what aws.c and creds.c share: the client's insides, one
 * HTTP exchange with retries, and the credential chain.
 */
#ifndef KERF_EC2_AWS_INT_H
#define KERF_EC2_AWS_INT_H

#include <pthread.h>

#include "aws.h"

/* Refresh expiring credentials this long before they expire. */
#define AWS_CREDS_REFRESH_MS (5 * 60 * 1000)
#define AWS_DEFAULT_MAX_ATTEMPTS 5
/* Calls to the instance metadata service wait this long at most: off EC2
 * nothing answers, and the chain must not stall for the host's 30 s. */
#define AWS_IMDS_TIMEOUT_MS 2000

struct aws_creds {
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL for long-term keys */
	int64_t expires_ms;  /* host wall clock; 0 never expires */
};

void aws_creds_clear(struct aws_creds *cr);
void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src);

struct aws_client {
	const struct kerf_host *host;
	char *region;
	char *pricing_region;
	char *profile;
	char *endpoint[AWS_SERVICE_COUNT]; /* without a trailing '/' */
	int max_attempts;

	/* Held while credentials resolve, so concurrent callers wait for one
	 * refresh instead of each starting their own. */
	pthread_mutex_t lock; /* creds, have_creds, source */
	struct aws_creds creds;
	bool have_creds;
	char source[96];
	pthread_mutex_t rng_lock; /* rng: taken by retries, also during resolution */
	uint64_t rng;

	void (*sleep_ms)(void *arg, int64_t ms);
	void *sleep_arg;
};

/* One HTTP exchange as the retry loop repeats it. */
struct aws_call {
	enum aws_service svc;
	const char *method;
	const char *path;  /* NULL: the endpoint's own path, or "/" */
	const char *query; /* NULL: none */
	const char *content_type;
	const char *target; /* X-Amz-Target, NULL when none */
	const void *body;
	size_t body_len;
	/* Credentials to sign with: NULL with use_chain false sends the
	 * request unsigned (AssumeRoleWithWebIdentity, IMDS, containers). */
	const struct aws_creds *creds;
	bool use_chain; /* sign with the client's credential chain */
	const struct kerf_http_header *extra;
	size_t n_extra;
	int64_t timeout_ms;
	int max_attempts; /* 0: the client's */
	const char *url;  /* full URL instead of the service endpoint (container URIs) */
};

/*
 * Sends call, retrying throttling, 5xx and dropped connections with
 * back-off, and once more with fresh credentials after an expired-token
 * answer.  On 0 *resp is a 2xx response (free with the host).  Blocks.
 */
int aws_exchange(struct aws_client *c, const struct aws_call *call,
		 struct kerf_http_response **resp, struct kerf_error *err);

/* A Query call with explicit credentials (NULL: unsigned), for STS from the chain. */
int aws_query_with(struct aws_client *c, enum aws_service svc, const char *action,
		   const struct aws_params *params, const struct aws_creds *creds, xmlDoc **out,
		   struct kerf_error *err);

/*
 * Runs the credential chain (creds.c) into *out, and names the source in
 * source[size].  Called with c->lock not held.  Blocks.
 */
int aws_creds_resolve(struct aws_client *c, struct aws_creds *out, char *source, size_t size,
		      struct kerf_error *err);

/* The `region` of the client's profile in the shared config file, malloc'd; NULL when none. */
char *aws_profile_region(struct aws_client *c);

/* Seconds-precision ISO 8601 ("2026-12-08T01:02:03Z") to ms since the epoch; -1 when malformed. */
int64_t aws_parse_iso8601(const char *s);

#endif
