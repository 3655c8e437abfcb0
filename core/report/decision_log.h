/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision_log.h - settings.decision_log: kerfd's provisioning decisions and
 * NodeClaim lifecycle events as JSON lines, one compact object per line,
 * for tools that compare NodePools and packers after a run.
 *
 * Every line starts with "time_ms", the host clock's wall time when the
 * line was made (simulated time under the virtual clock).  The file is
 * opened for appending, so consecutive runs add to it, and each line goes
 * out in one write(2): a reader never sees half a line, even while kerfd
 * is still running.  A write cut short (a full disk) is cut back to the
 * line's start, so the file holds whole lines only.  A failed write is
 * logged once and the line dropped; the daemon carries on, since the log
 * is a record, not part of the loop, and reports the loss when it ends
 * (decision_log_status).
 */
#ifndef KERF_CORE_DECISION_LOG_H
#define KERF_CORE_DECISION_LOG_H

#include <jansson.h>
#include <stdint.h>

#include <kerf/error.h>

struct decision_log;

/* The wall time each line is stamped with. */
typedef int64_t (*decision_log_clock_fn)(void *ctx);

/* Opens (creating it 0644) path for appending; KERF_E_IO with err filled in on failure. */
int decision_log_open(const char *path, decision_log_clock_fn clock, void *clock_ctx,
		      struct decision_log **out, struct kerf_error *err);
/*
 * Flushes the file to the disk (fsync) and closes it; NULL allowed.
 * KERF_E_IO naming the file and the reason when either fails.  Frees l
 * either way.
 */
int decision_log_close(struct decision_log *l, struct kerf_error *err);

/*
 * 0 while every line was written; after a failed write KERF_E_IO with
 * "decision log PATH: write failed: REASON (N lines lost)".
 */
int decision_log_status(const struct decision_log *l, struct kerf_error *err);

/* A new line's object with "time_ms" set, for the caller to fill and hand to emit. */
json_t *decision_log_line(const struct decision_log *l);

/* Writes obj as one line and releases it (the reference is stolen). */
void decision_log_emit(struct decision_log *l, json_t *obj);

#endif
