/*
 * sim.h - one instance of the sim plugin and the kinds' op tables.
 *
 * Each kind's create() call gets its own struct sim; the world it points to
 * is where the simulated cloud and cluster meet (sim_world.h).
 */
#ifndef KERF_SIM_H
#define KERF_SIM_H

#include <kerf/plugin.h>

#include "sim_world.h"

struct sim {
	const struct kerf_host *host;
	struct sim_world *world;
};

extern const struct kerf_provider_ops sim_provider_ops;

#endif
