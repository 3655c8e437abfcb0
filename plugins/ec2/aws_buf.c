/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_buf.c - the AWS client's growable strings and aborting allocators.
 */
#include "aws_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void aws_oom(void)
{
	fputs("kerf ec2: out of memory\n", stderr);
	abort();
}

void *aws_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		aws_oom();
	return p;
}

void *aws_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		aws_oom();
	return p;
}

char *aws_xstrdup(const char *s)
{
	return aws_xstrndup(s, strlen(s));
}

char *aws_xstrndup(const char *s, size_t n)
{
	char *p = aws_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void aws_free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void aws_buf_reserve(struct aws_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)-1) / 2)
			aws_oom();
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		aws_oom();
	b->data = p;
	b->cap = cap;
}

void aws_buf_add(struct aws_buf *b, const void *data, size_t len)
{
	aws_buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void aws_buf_adds(struct aws_buf *b, const char *s)
{
	aws_buf_add(b, s, strlen(s));
}

void aws_buf_addc(struct aws_buf *b, char c)
{
	aws_buf_add(b, &c, 1);
}

void aws_buf_addf(struct aws_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	aws_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *aws_buf_detach(struct aws_buf *b)
{
	char *s = b->data ? b->data : aws_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void aws_buf_free(struct aws_buf *b)
{
	if (!b)
		return;
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
