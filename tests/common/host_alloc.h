/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_alloc.h - the allocation slots of the tests' fake host tables, and
 * their real clock.
 *
 * The real host aborts on out-of-memory, so these do too: plugin code under
 * test never sees NULL, exactly as under kerfd.
 */
#ifndef KERF_TEST_HOST_ALLOC_H
#define KERF_TEST_HOST_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* p, or abort() when it is NULL. */
void *th_must(void *p);
void *th_malloc(void *ctx, size_t n);
void *th_calloc(void *ctx, size_t n, size_t size);
void *th_realloc(void *ctx, void *p, size_t n);
char *th_strdup(void *ctx, const char *s);
void th_free(void *ctx, void *p);

/*
 * Real monotonic milliseconds, the real_mono_ms slot as kerfd serves it, for
 * tables whose tests assert nothing on time.
 */
int64_t th_real_mono_ms(void *ctx);

/* The five slots, for a designated initializer of struct kerf_host. */
#define TH_ALLOC_SLOTS                                                                             \
	.malloc = th_malloc, .calloc = th_calloc, .realloc = th_realloc, .strdup = th_strdup,      \
	.free = th_free

#endif
