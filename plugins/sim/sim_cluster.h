/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster.h - the cluster half of the sim plugin: a simulated API
 * server and kube-scheduler over the world the simulated cloud fills.
 *
 * What happens when comes from a script: the workloads present at start,
 * then timed actions read from a scenario file (apply, scale, delete) and
 * from a CSV trace (pods arriving with a shape and a run time), merged in
 * time order.  Everything is read and checked when the instance is
 * created, so a bad file stops kerfd before it touches anything.
 *
 * Internal to the plugin: the .so exports only its descriptor.
 */
#ifndef KERF_SIM_CLUSTER_H
#define KERF_SIM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/plugin.h>
#include <kerf/workload.h>

#include "sim_world.h"

struct sim_cluster_config {
	size_t n_workloads;
	char **workloads;   /* manifest files applied at start */
	char *scenario;	    /* NULL: none */
	char *trace;	    /* NULL: none */
	int64_t trace_time_scale; /* trace times are divided by this */
	int64_t bind_delay_ms;	  /* a pod binds no sooner than this after it is created */
	int64_t termination_grace_ms; /* an evicted pod terminates for this long */
};

enum sim_action_type {
	SIM_ACT_APPLY,	/* create or update the workloads of a manifest file */
	SIM_ACT_SCALE,	/* set a workload's replicas */
	SIM_ACT_DELETE, /* delete a workload and its pods */
	SIM_ACT_TRACE,	/* one trace row: `replicas` pods of one shape */
	/* The simulated cloud acting on instances (sim_world.h): */
	SIM_ACT_INTERRUPT, /* spot interruption notice, termination at its deadline */
	SIM_ACT_TERMINATE, /* terminated outright */
	/* Someone deleting objects by hand (kubectl delete), picked as the cloud's actions pick: */
	SIM_ACT_DELETE_NODECLAIM, /* the NodeClaims of the picked instances */
	SIM_ACT_DELETE_NODE,	  /* their Nodes */
	SIM_ACT_DELETE_NODEPOOL,  /* a NodePool of kerf.yaml's manifests, by `name` */
};

struct sim_action {
	int64_t at_ms; /* after start() */
	enum sim_action_type type;
	struct kerf_workload_list *apply; /* SIM_ACT_APPLY (libkerf-allocated) */
	char *kind;			  /* SIM_ACT_SCALE, SIM_ACT_DELETE */
	char *namespace_;
	char *name; /* also SIM_ACT_DELETE_NODEPOOL's */
	int32_t replicas; /* SIM_ACT_SCALE; SIM_ACT_TRACE: the row's count */
	/* SIM_ACT_TRACE */
	size_t row; /* 0 for the first data row */
	int64_t cpu_millis;
	int64_t memory_mib;
	int64_t gpu;
	int64_t duration_ms; /* run time once bound; -1: runs until deleted */
	struct sim_selector select; /* SIM_ACT_INTERRUPT, SIM_ACT_TERMINATE, SIM_ACT_DELETE_* */
};

/* Actions in the order they run: by at_ms, file order within one time. */
struct sim_script {
	size_t n;
	size_t cap;
	struct sim_action *items;
};

/* Reads a manifest file into workloads; messages name the file. */
int sim_workloads_load(const struct kerf_host *h, const char *path,
		       struct kerf_workload_list **out, struct kerf_error *err);

/*
 * Appends the scenario file's actions.  Apply paths are relative to the
 * scenario's directory.  Errors are "path:line:column: message".
 */
int sim_scenario_load(const struct kerf_host *h, const char *path, struct sim_script *s,
		      struct kerf_error *err);

/* Appends one SIM_ACT_TRACE per data row of a CSV trace. */
int sim_trace_load(const struct kerf_host *h, const char *path, int64_t time_scale,
		   struct sim_script *s, struct kerf_error *err);

/* Sorts by at_ms, keeping the order of actions due at the same time. */
void sim_script_sort(const struct kerf_host *h, struct sim_script *s);
/*
 * When the script's last action is done, in ms after start(): its last
 * action's time, or an interruption's deadline when that comes later; 0
 * for an empty script.
 */
int64_t sim_script_end_ms(const struct sim_script *s);
void sim_script_clear(const struct kerf_host *h, struct sim_script *s);

struct sim_cluster;

/* Loads every file cfg names; takes ownership of cfg (zeroed on return either way). */
int sim_cluster_new(const struct kerf_host *h, struct sim_world *w, struct sim_cluster_config *cfg,
		    struct sim_cluster **out, struct kerf_error *err);
void sim_cluster_free(struct sim_cluster *c);
void sim_cluster_config_clear(const struct kerf_host *h, struct sim_cluster_config *cfg);

extern const struct kerf_cluster_ops sim_cluster_ops;

#endif
