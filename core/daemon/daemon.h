/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.h - kerfd's control loop as a library, so kerfd's main() is a
 * command line around it and tests can run the whole daemon in process.
 *
 * Threads (docs/architecture.md, "Execution model"): daemon_run() is the
 * loop thread.  It owns the cluster state and every controller; it polls
 * the cluster plugin, takes what the sinks and the workers pushed to its
 * inbox, applies it in arrival order, and reconciles.  The workers run
 * blocking plugin calls (launches, writes, lists) with at most
 * settings.launch_parallelism at once.  Plugins may run threads of their
 * own and call the sinks from them.
 */
#ifndef KERF_CORE_DAEMON_H
#define KERF_CORE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct daemon_options {
	const char *config;	  /* kerf.yaml (required) */
	const char *report;	  /* --report FILE, or NULL */
	const char *decision_log; /* --decision-log FILE; NULL: settings.decision_log */
	int64_t until_ms;	  /* --until; 0: none */
	/*
	 * When set, the loop also stops once *stop becomes non-zero (kerfd's
	 * signal flag).  Read without a lock: a signal handler may set it.
	 */
	volatile int *stop;
};

struct daemon;

/*
 * Loads the configuration and manifests, loads every plugin and creates
 * its instance, and makes sure --report and the decision log can be
 * created.  All-or-nothing: on failure the error is logged (the
 * configuration's own message goes to stderr) and KERF_E_* returned, with
 * *out set to a daemon that daemon_free() releases either way.
 */
int daemon_start(const struct daemon_options *opt, struct daemon **out);

/*
 * True when a stop (daemon_request_stop, or *opt->stop set by a signal)
 * came while daemon_start ran: it returned 0 at the step it had reached,
 * having logged so, and daemon_run returns 0 without starting.
 */
bool daemon_stopped(const struct daemon *d);

/* What --check prints: one line per plugin instance. */
void daemon_print_instances(const struct daemon *d, FILE *f);

/*
 * Runs the control loop on the calling thread until a stop is requested,
 * --until passes, or a virtual-clock run has nothing left to do; then
 * prints the summary, writes --report (to a temporary file daemon_start
 * made beside it, renamed over it once flushed) and flushes and closes the
 * decision log.  0, or the error that stopped it, or KERF_E_IO when the
 * summary, the report or a decision log line could not be written; every
 * error is logged, a write failure with the file and the reason.
 */
int daemon_run(struct daemon *d);

/* Asks daemon_run() to return soon.  Thread-safe; not async-signal-safe. */
void daemon_request_stop(struct daemon *d);

/* Counters for tests and the status line.  Thread-safe. */
struct daemon_stats {
	uint64_t ticks;	      /* loop iterations */
	uint64_t events;      /* cluster and provider events applied */
	uint64_t in_flight;   /* plugin calls on the workers */
	uint64_t nodeclaims;  /* NodeClaims launched or adopted, ended ones too */
	uint64_t pods_scheduled; /* pods seen bound to a node, DaemonSet pods excepted */
};
void daemon_get_stats(struct daemon *d, struct daemon_stats *out);

void daemon_free(struct daemon *d); /* NULL allowed */

#endif
