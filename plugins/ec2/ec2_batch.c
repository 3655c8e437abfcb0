/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_batch.c - coalescing concurrent requests into one call (ec2_batch.h).
 */
#include <stdlib.h>

#include "ec2_batch.h"

void ec2_batcher_init(struct ec2_batcher *b, size_t max,
		      void (*run)(void *ctx, size_t n, struct ec2_batch_req **reqs), void *ctx)
{
	b->run = run;
	b->ctx = ctx;
	b->max = max ? max : 1;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->running = false;
	b->head = NULL;
	b->tail = &b->head;
	b->queued = b->calls = 0;
}

void ec2_batcher_destroy(struct ec2_batcher *b)
{
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

void ec2_batch_submit(struct ec2_batcher *b, struct ec2_batch_req *r)
{
	struct ec2_batch_req **batch = malloc(b->max * sizeof(*batch));

	if (!batch)
		abort();
	r->done = false;
	r->next = NULL;
	pthread_mutex_lock(&b->mu);
	*b->tail = r;
	b->tail = &r->next;
	b->queued++;
	while (!r->done) {
		size_t n = 0;

		if (b->running) {
			pthread_cond_wait(&b->cv, &b->mu);
			continue;
		}
		/* No call in flight: this thread makes the next one, for the queue's head. */
		while (b->head && n < b->max) {
			batch[n++] = b->head;
			b->head = b->head->next;
		}
		if (!b->head)
			b->tail = &b->head;
		b->queued -= n;
		b->running = true;
		b->calls++;
		pthread_mutex_unlock(&b->mu);
		b->run(b->ctx, n, batch);
		pthread_mutex_lock(&b->mu);
		for (size_t i = 0; i < n; i++)
			batch[i]->done = true;
		b->running = false;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	free(batch);
}

size_t ec2_batcher_queued(struct ec2_batcher *b)
{
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->queued;
	pthread_mutex_unlock(&b->mu);
	return n;
}

size_t ec2_batcher_calls(struct ec2_batcher *b)
{
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->calls;
	pthread_mutex_unlock(&b->mu);
	return n;
}
