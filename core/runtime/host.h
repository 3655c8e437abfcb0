/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host.h - the struct kerf_host table the core hands each plugin instance,
 * and the clock behind it.
 *
 * One table per instance: its ctx carries the instance's name (used as the
 * log component), its validated config section, the instance's HTTP client
 * and the clock.  The core owns every one of those; the table only borrows
 * them, so they must outlive host_free().
 *
 * Every service in the table may be called from any thread at once
 * (kerf/host.h).  real_mono_ms is always CLOCK_MONOTONIC, whatever the
 * clock; a string from getenv stays valid until host_free, stronger than
 * the ABI's "until the next call" because another thread's call could
 * otherwise end it.
 */
#ifndef KERF_CORE_HOST_H
#define KERF_CORE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <kerf/host.h>

struct cfg_section;
struct http_client;

/* ----------------------------------------------------------------- clock */

/*
 * Either the real clocks (CLOCK_REALTIME for wall time, CLOCK_MONOTONIC for
 * intervals) or a virtual clock that moves only when the core moves it.
 * Under the virtual clock wall and monotonic time are the same number, so
 * a plugin's deadlines and timestamps agree in simulated time.
 */
struct host_clock;

struct host_clock *host_clock_new_real(void);
struct host_clock *host_clock_new_virtual(int64_t start_ms);
void host_clock_free(struct host_clock *c); /* NULL allowed */

bool host_clock_is_virtual(const struct host_clock *c);
int64_t host_clock_wall_ms(const struct host_clock *c);
int64_t host_clock_mono_ms(const struct host_clock *c);

/*
 * Moves a virtual clock forward by ms (>= 0) or to ms since the epoch.
 * Time never runs backwards: a negative step or an earlier time is
 * KERF_E_INVALID, and so is either call on a real clock.
 */
int host_clock_advance(struct host_clock *c, int64_t ms);
int host_clock_set(struct host_clock *c, int64_t ms);

/* ------------------------------------------------------------------ host */

/*
 * Builds the table for one instance.  instance_name ("provider/sim") is
 * copied; section (NULL: the plugin declared no config), clock (NULL: a
 * process-wide real clock) and http (NULL: HTTP calls fail with
 * KERF_E_UNSUPPORTED, for runs that must not touch the network) are
 * borrowed.  Never fails: allocation failure aborts.
 */
struct kerf_host *host_new(const char *instance_name, struct cfg_section *section,
			   struct host_clock *clock, struct http_client *http);
void host_free(struct kerf_host *host); /* NULL allowed */

struct mf_set;
/*
 * The manifests whose node class kinds decode_object reads node classes
 * with (borrowed; must outlive the table).  Without it decode_object
 * refuses node classes.
 */
void host_set_manifests(struct kerf_host *host, const struct mf_set *manifests);

/* The clock a table was built with (the shared real clock when none was given). */
struct host_clock *host_clock_of(const struct kerf_host *host);

#endif
