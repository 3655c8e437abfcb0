/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evq.c - the loop thread's inbox (evq.h).
 *
 * A mutex-guarded singly linked list with a tail pointer: pushes are O(1)
 * and a take hands the whole list over at once, so the loop holds the
 * lock for two pointer swaps however many events a burst brought.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kerf/kerf.h>

#include "evq.h"
#include "util.h"

struct evq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct evq_item *head, *tail;
	size_t n;
	bool woken;
};

struct evq *evq_new(void)
{
	struct evq *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;

	pthread_mutex_init(&q->mu, NULL);
	/* Waits are bounded in real monotonic time: the wall clock may jump. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

void evq_item_free(struct evq_item *it)
{
	if (!it)
		return;
	if (it->what == EVQ_OBJECT && it->object) {
		switch (it->kind) {
		case KERF_OBJ_POD:
		case KERF_OBJ_DAEMONSET:
			kerf_pod_free(it->object);
			break;
		case KERF_OBJ_NODE:
			kerf_node_free(it->object);
			break;
		case KERF_OBJ_NODEPOOL:
			kerf_nodepool_free(it->object);
			break;
		case KERF_OBJ_NODECLAIM:
			kerf_nodeclaim_free(it->object);
			break;
		case KERF_OBJ_NODE_CLASS:
			kerf_node_class_free(it->object);
			break;
		}
	}
	kerf_instance_event_free(it->instance);
	free(it);
}

void evq_free(struct evq *q)
{
	if (!q)
		return;
	for (struct evq_item *it = q->head, *next; it; it = next) {
		next = it->next;
		evq_item_free(it);
	}
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static void push(struct evq *q, struct evq_item *it)
{
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void *copy_object(kerf_object_kind kind, const void *object)
{
	if (!object)
		return NULL;
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		return kerf_pod_copy(object);
	case KERF_OBJ_NODE:
		return kerf_node_copy(object);
	case KERF_OBJ_NODEPOOL:
		return kerf_nodepool_copy(object);
	case KERF_OBJ_NODECLAIM:
		return kerf_nodeclaim_copy(object);
	case KERF_OBJ_NODE_CLASS:
		return kerf_node_class_copy(object);
	}
	return NULL;
}

void evq_push_object(struct evq *q, kerf_event_type type, kerf_object_kind kind,
		     const void *object)
{
	struct evq_item *it = xcalloc(1, sizeof(*it));
	it->what = EVQ_OBJECT;
	it->type = type;
	it->kind = kind;
	/* An unknown kind is kept, without its object, so the loop can say so. */
	it->object = type == KERF_EVENT_SYNCED ? NULL : copy_object(kind, object);
	push(q, it);
}

void evq_push_instance(struct evq *q, const struct kerf_instance_event *ev)
{
	struct evq_item *it = xcalloc(1, sizeof(*it));
	it->what = EVQ_INSTANCE;
	it->instance = kerf_instance_event_new();
	if (ev) {
		it->instance->type = ev->type;
		it->instance->provider_id = ev->provider_id ? xstrdup(ev->provider_id) : NULL;
		it->instance->at = ev->at;
		it->instance->deadline = ev->deadline;
		it->instance->reason = ev->reason ? xstrdup(ev->reason) : NULL;
	}
	push(q, it);
}

void evq_push_done(struct evq *q, void (*fn)(void *arg), void *arg)
{
	struct evq_item *it = xcalloc(1, sizeof(*it));
	it->what = EVQ_DONE;
	it->fn = fn;
	it->arg = arg;
	push(q, it);
}

void evq_push_note(struct evq *q, void (*fn)(void *arg), void *arg)
{
	struct evq_item *it = xcalloc(1, sizeof(*it));
	it->what = EVQ_NOTE;
	it->fn = fn;
	it->arg = arg;
	push(q, it);
}

struct evq_item *evq_take(struct evq *q, int64_t wait_ms)
{
	struct evq_item *list;

	pthread_mutex_lock(&q->mu);
	if (!q->head && !q->woken && wait_ms > 0) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(wait_ms / 1000);
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!q->head && !q->woken)
			if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT)
				break;
	}
	list = q->head;
	q->head = q->tail = NULL;
	q->n = 0;
	q->woken = false;
	pthread_mutex_unlock(&q->mu);
	return list;
}

void evq_wake(struct evq *q)
{
	pthread_mutex_lock(&q->mu);
	q->woken = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t evq_pending(struct evq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	evq_push_object(ctx, type, kind, object);
}

static void on_instance(void *ctx, const struct kerf_instance_event *ev)
{
	evq_push_instance(ctx, ev);
}

struct kerf_event_sink evq_cluster_sink(struct evq *q)
{
	return (struct kerf_event_sink){.ctx = q, .on_object = on_object};
}

struct kerf_provider_sink evq_provider_sink(struct evq *q)
{
	return (struct kerf_provider_sink){.ctx = q, .on_instance = on_instance};
}
