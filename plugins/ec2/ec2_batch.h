/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_batch.h - one AWS call for many concurrent requests.
 *
 * The host runs launches, checks and deletions on a pool of threads
 * (kerf/provider.h), so ten NodeClaims going at once are ten get() or
 * delete_instance() calls at once.  A batcher turns them into one
 * DescribeInstances or TerminateInstances each time it can, without a
 * timer: the first request to find no call in flight makes one for every
 * request queued (at most `max`); requests arriving meanwhile queue and go
 * in the next call, made by one of them as soon as the current one ends.
 * A lone request is sent at once, so batching never adds latency.
 */
#ifndef KERF_EC2_BATCH_H
#define KERF_EC2_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <kerf/kerf.h>

struct ec2_batch_req {
	const char *id; /* the instance id */
	/* Set by the batch's run for this request. */
	int rc;
	struct kerf_error err;
	void *out;
	/* The batcher's. */
	bool done;
	struct ec2_batch_req *next;
};

struct ec2_batcher {
	/*
	 * Makes one call for reqs[0..n) and sets each one's rc, err and out.
	 * Runs without the batcher's lock, on the thread of one of the
	 * requests.
	 */
	void (*run)(void *ctx, size_t n, struct ec2_batch_req **reqs);
	void *ctx;
	size_t max;
	/* private */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;
	struct ec2_batch_req *head, **tail;
	size_t queued, calls;
};

void ec2_batcher_init(struct ec2_batcher *b, size_t max,
		      void (*run)(void *ctx, size_t n, struct ec2_batch_req **reqs), void *ctx);
void ec2_batcher_destroy(struct ec2_batcher *b);
/* Queues r (its id set) and returns once a call answered it: r->rc, r->err, r->out.  Blocks. */
void ec2_batch_submit(struct ec2_batcher *b, struct ec2_batch_req *r);
/* Requests queued and not yet in a call; calls made so far.  For tests. */
size_t ec2_batcher_queued(struct ec2_batcher *b);
size_t ec2_batcher_calls(struct ec2_batcher *b);

#endif
