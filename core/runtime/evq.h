/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evq.h - the loop thread's inbox: cluster objects, provider instance
 * events and finished background work, from any thread, in arrival order.
 *
 * The cluster and provider sinks (kerf/cluster.h, kerf/provider.h) and the
 * launch workers push here; only the loop thread takes.  Pushing copies
 * what it is given and never blocks on anything but the queue's mutex, so
 * a plugin's watch thread is never held up by what the loop is doing.
 */
#ifndef KERF_CORE_EVQ_H
#define KERF_CORE_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/cluster.h>
#include <kerf/provider.h>

struct evq;

enum evq_what {
	EVQ_OBJECT = 0,	  /* a cluster sink event: type, kind, object */
	EVQ_INSTANCE = 1, /* a provider sink event: instance */
	EVQ_DONE = 2,	  /* background work finished: fn(arg) runs on the loop thread */
	/* As EVQ_DONE, for work that changed nothing kerf watches (an Event recorded). */
	EVQ_NOTE = 3,
};

struct evq_item {
	enum evq_what what;
	kerf_event_type type;
	kerf_object_kind kind;
	void *object; /* a deep copy of the object, owned by the item (NULL for SYNCED) */
	struct kerf_instance_event *instance;
	void (*fn)(void *arg);
	void *arg;
	struct evq_item *next;
};

struct evq *evq_new(void);
/* Frees every item still queued (a DONE item's arg is not touched); NULL allowed. */
void evq_free(struct evq *q);

/* Thread-safe.  Copies `object` (kerf_object_kind decides how); NULL object for SYNCED. */
void evq_push_object(struct evq *q, kerf_event_type type, kerf_object_kind kind,
		     const void *object);
/* Thread-safe.  Copies the event. */
void evq_push_instance(struct evq *q, const struct kerf_instance_event *ev);
/* Thread-safe.  fn(arg) will run on the loop thread when it takes the item. */
void evq_push_done(struct evq *q, void (*fn)(void *arg), void *arg);
/*
 * Thread-safe.  As evq_push_done, for work whose result the cluster will
 * not echo: a virtual-clock run need not wait for a poll after it.
 */
void evq_push_note(struct evq *q, void (*fn)(void *arg), void *arg);

/*
 * Takes every queued item, oldest first, as a list the caller frees with
 * evq_item_free one by one; waits up to wait_ms of real time for the first
 * (0: do not wait) unless evq_wake was called since the last take.  NULL
 * when nothing came.
 */
struct evq_item *evq_take(struct evq *q, int64_t wait_ms);
/* Makes a waiting or the next evq_take return at once.  Thread-safe. */
void evq_wake(struct evq *q);
/* Frees one item and what it owns (not a DONE item's arg); NULL allowed. */
void evq_item_free(struct evq_item *it);

/* Items pushed and not yet taken, for tests and status lines.  Thread-safe. */
size_t evq_pending(struct evq *q);

/* Sinks that push into q, for kerf_cluster_ops.start and kerf_provider_ops.start. */
struct kerf_event_sink evq_cluster_sink(struct evq *q);
struct kerf_provider_sink evq_provider_sink(struct evq *q);

#endif
