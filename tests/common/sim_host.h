/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_host.h - a fake host for the sim plugin's tests: config getters
 * answer from `sim_cfg` as kerfd's host would from a kerf.yaml section
 * (KERF_E_NOTFOUND for an unset key without a default), the clocks return
 * `sim_clock_ms`, which only moves when a test moves it, as under the
 * simulator's virtual clock (the monotonic one `sim_mono_offset_ms` behind),
 * and log lines are kept for inspection.  The plugin may call it from
 * several threads: the clock is only moved between ops, and log lines
 * are appended under a mutex.
 */
#ifndef KERF_TEST_SIM_HOST_H
#define KERF_TEST_SIM_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <kerf/plugin.h>

#define SIM_HOST_MAX_ITEMS 8

struct sim_host_list {
	size_t n;
	const char *items[SIM_HOST_MAX_ITEMS];
};

/* What the config getters answer; sim_host_reset() puts the test defaults back. */
struct sim_host_config {
	const char *catalogue;
	const char *region;
	struct sim_host_list zones;
	int64_t seed;
	int64_t spot_variation_percent;
	int64_t ice_probability_percent;
	int64_t launch_delay_ms;
	int64_t ready_delay_ms;
	int64_t ready_spread_ms;
	int64_t terminate_delay_ms;
	struct sim_host_list unavailable_offerings;
	struct sim_host_list launch_failures;
	struct sim_host_list include_types;
	struct sim_host_list workloads;
	const char *scenario; /* NULL: not set */
	const char *trace;    /* NULL: not set */
	int64_t trace_time_scale;
	int64_t bind_delay_ms;
	int64_t termination_grace_ms;
	const char *state_file; /* NULL: not set */
};

extern struct sim_host_config sim_cfg;
extern int64_t sim_clock_ms;
/* The monotonic clock reads sim_clock_ms minus this (0 after a reset). */
extern int64_t sim_mono_offset_ms;
extern const struct kerf_host sim_fake_host;

/*
 * The catalogue at `catalogue`, three zones of us-east-1, seed 1, 10 %
 * spot variation, launch 30 s, ready 15 s, terminate 30 s, no workloads,
 * the clock at 1700000000000 and no log lines.
 */
void sim_host_reset(const char *catalogue);

/* Up to three items (NULL ends the list early). */
void sim_host_set_list(struct sim_host_list *l, const char *a, const char *b, const char *c);

/* True when some log line since the reset contains `needle`. */
int sim_host_logged(const char *needle);

#endif
