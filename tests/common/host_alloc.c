/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_alloc.c - allocation slots for the tests' fake hosts (host_alloc.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_alloc.h"

void *th_must(void *p)
{
	if (!p)
		abort();
	return p;
}

void *th_malloc(void *ctx, size_t n)
{
	return th_must(malloc(n ? n : 1));
}

void *th_calloc(void *ctx, size_t n, size_t size)
{
	return th_must(calloc(n ? n : 1, size ? size : 1));
}

void *th_realloc(void *ctx, void *p, size_t n)
{
	return th_must(realloc(p, n ? n : 1));
}

char *th_strdup(void *ctx, const char *s)
{
	return th_must(strdup(s));
}

void th_free(void *ctx, void *p)
{
	free(p);
}

int64_t th_real_mono_ms(void *ctx)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
