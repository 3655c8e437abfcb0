/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.h - a fixed set of worker threads for blocking plugin calls.
 *
 * Provider and cluster write ops may take seconds (a fleet launch, an API
 * server under load); the loop thread hands them to the pool so it keeps
 * draining events and ticking.  At most `threads` jobs run at once; the
 * rest wait in submission order.  A job reports back by pushing a DONE
 * item to the loop's evq (evq.h), never by touching loop state itself.
 */
#ifndef KERF_CORE_POOL_H
#define KERF_CORE_POOL_H

#include <stddef.h>

#include <kerf/error.h>

struct pool;

/* Starts `threads` workers (1..1024).  KERF_E_INVALID for a bad count, KERF_E_IO when a thread cannot start. */
int pool_new(unsigned threads, struct pool **out, struct kerf_error *err);
/* Queues fn(arg) for a worker; never blocks on the workers. */
void pool_submit(struct pool *p, void (*fn)(void *arg), void *arg);
/* Jobs queued or running, from the submitting thread's view. */
size_t pool_pending(struct pool *p);
/* Runs what is queued to the end, joins the workers and frees the pool; NULL allowed. */
void pool_free(struct pool *p);

#endif
