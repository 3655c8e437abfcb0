/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.c - worker threads for blocking plugin calls (pool.h).
 */
#include <config.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pool.h"
#include "util.h"

struct job {
	void (*fn)(void *arg);
	void *arg;
	struct job *next;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t pending; /* queued + running */
	bool stopping;
	unsigned n_threads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		struct job *j = p->head;
		if (!j)
			break; /* stopping and nothing left */
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->mu);
		p->pending--;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int pool_new(unsigned threads, struct pool **out, struct kerf_error *err)
{
	if (threads < 1 || threads > 1024)
		return kerf_error_set(err, KERF_E_INVALID, "worker pool: %u threads (1..1024)",
				      threads);
	struct pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threads = xcalloc(threads, sizeof(*p->threads));
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			pool_free(p);
			return kerf_error_set(err, KERF_E_IO,
					      "worker pool: cannot start thread %u of %u", i + 1,
					      threads);
		}
		p->n_threads++;
	}
	*out = p;
	return 0;
}

void pool_submit(struct pool *p, void (*fn)(void *arg), void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->pending++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

size_t pool_pending(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	size_t n = p->pending;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
