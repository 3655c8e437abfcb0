/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_buf.h - a growable byte string for the AWS client, which sees only
 * public headers and so cannot borrow the core's.  Memory comes from
 * malloc; out of memory aborts, as nothing here could recover from it.
 */
#ifndef KERF_EC2_AWS_BUF_H
#define KERF_EC2_AWS_BUF_H

#include <stddef.h>

/* Zero-initialised is empty; data is NUL-terminated whenever non-NULL. */
struct aws_buf {
	char *data;
	size_t len, cap;
};

void aws_buf_add(struct aws_buf *b, const void *data, size_t len);
void aws_buf_adds(struct aws_buf *b, const char *s);
void aws_buf_addc(struct aws_buf *b, char c);
void aws_buf_addf(struct aws_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (never NULL: "" when empty), caller frees; b is empty again. */
char *aws_buf_detach(struct aws_buf *b);
/* Wipes (for secrets) and frees; b is empty again.  NULL allowed. */
void aws_buf_free(struct aws_buf *b);

/* malloc, calloc, strdup and strndup that abort on out of memory. */
void *aws_xmalloc(size_t n);
void *aws_xcalloc(size_t n, size_t size);
char *aws_xstrdup(const char *s);
char *aws_xstrndup(const char *s, size_t n);
/* Overwrites s with zeros then frees it: for keys and tokens.  NULL allowed. */
void aws_free_secret(char *s);

#endif
