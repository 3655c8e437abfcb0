/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.h - one instance of the sim plugin and the kinds' op tables.
 *
 * kerfd creates one instance for every role a plugin fills, so with
 * `cluster: sim` and `provider: sim` both op tables get the same struct
 * sim: the simulated cluster sees the instances the simulated cloud
 * launches through the shared world (sim_world.h).
 */
#ifndef KERF_SIM_H
#define KERF_SIM_H

#include <kerf/plugin.h>

#include "sim_cluster.h"
#include "sim_world.h"

struct sim {
	const struct kerf_host *host;
	struct sim_world *world;
	struct sim_cluster *cluster;
};

extern const struct kerf_provider_ops sim_provider_ops;

#endif
