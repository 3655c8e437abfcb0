/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds.c - the AWS credential chain.
 */
#include "aws_int.h"

#include <stdio.h>
#include <string.h>

#include "aws_buf.h"

static int from_env(struct aws_client *c, struct aws_creds *out, bool *found)
{
	const struct kerf_host *h = c->host;
	const char *ak = h->getenv(h->ctx, "AWS_ACCESS_KEY_ID");
	const char *sk = h->getenv(h->ctx, "AWS_SECRET_ACCESS_KEY");
	*found = ak && *ak && sk && *sk;
	if (!*found)
		return 0;
	out->access_key = aws_xstrdup(ak);
	out->secret_key = aws_xstrdup(sk);
	h->register_secret(h->ctx, sk);
	const char *tok = h->getenv(h->ctx, "AWS_SESSION_TOKEN");
	if (tok && *tok) {
		out->session_token = aws_xstrdup(tok);
		h->register_secret(h->ctx, tok);
	}
	return 0;
}

int aws_creds_resolve(struct aws_client *c, struct aws_creds *out, char *source, size_t size,
		      struct kerf_error *err)
{
	bool found = false;
	int rc = from_env(c, out, &found);
	if (rc == 0 && found) {
		snprintf(source, size, "env");
		return 0;
	}
	return kerf_error_set(err, KERF_E_AUTH, "aws: no credentials found");
}
