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

#include <pthread.h>

#include <kerf/plugin.h>

#include "sim_cluster.h"
#include "sim_world.h"

struct sim {
	const struct kerf_host *host;
	struct sim_world *world;
	struct sim_cluster *cluster;
	/*
	 * The host calls provider and cluster ops from several threads at
	 * once; every op holds this for its whole run (sim_enter..sim_leave),
	 * the host's sinks included, which never block.
	 */
	pthread_mutex_t lock;
	char *state_file; /* NULL: the world lives only as long as the instance */
};

extern const struct kerf_provider_ops sim_provider_ops;

/* sim_state.c.  Takes the lock and brings the cloud to now (sim_world_settle). */
void sim_enter(struct sim *s);
/*
 * Writes the state file when something in it changed, releases the lock
 * and returns rc, or the write's error when rc was 0 (the change is made;
 * the next op tries the write again).
 */
int sim_leave(struct sim *s, int rc, struct kerf_error *err);

/*
 * The state file (kerf.yaml key state_file): the simulated cloud's
 * instances, the cluster's NodeClaims, the nodes kerf changed and the
 * run's epoch, so a kerfd killed at any point finds the same world when
 * it comes back.  sim_state_load reads it into a new instance when the
 * file exists; sim_state_save replaces it atomically.
 */
int sim_state_load(struct sim *s, struct kerf_error *err);
int sim_state_save(struct sim *s, struct kerf_error *err);

#endif
