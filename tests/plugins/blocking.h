/* SPDX-License-Identifier: Apache-2.0 */
/* blocking.h - what check_daemon and the blocking test plugin share (blocking.c). */
#ifndef KERF_TESTS_BLOCKING_H
#define KERF_TESTS_BLOCKING_H

#include <pthread.h>
#include <stdbool.h>

/* Everything under mu; cv is broadcast on every change. */
struct blocking_ctl {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pods;		/* set before kerfd starts: pending pods to list */
	unsigned creates;	/* provider create() calls so far */
	unsigned in_flight;	/* create() calls inside the provider now */
	unsigned max_in_flight; /* the most there ever were at once */
	bool released;		/* create() calls return once this is set */
	unsigned noise;		/* events the plugin's own thread is asked to send */
	unsigned noise_sent;	/* and has sent */
	unsigned long polls;	/* poll() calls */
	unsigned batch_calls;	/* create_batch() calls ("batching" only) */
	unsigned max_batch;	/* the most claims one of them carried */
	unsigned lease_calls;	/* acquire_lease() calls ("batching" only) */
	unsigned before_lease;	/* launches made before the lease was first granted */
	bool hold_create;	/* create() waits while this is set, with in_create set */
	bool in_create;
	unsigned starts;	/* cluster start() calls */
};

/* Exported by blocking.so beside its descriptor. */
struct blocking_ctl *blocking_ctl(void);

#endif
