/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_int.h - what the files of the sim plugin's cluster half share:
 * the simulated cluster's state and the simc_ functions one part calls in
 * another (sim_cluster.c drives the loop; its top comment tells the story).
 *
 * Internal to the plugin and its unit tests: the .so exports only its
 * descriptor.
 */
#ifndef KERF_SIM_CLUSTER_INT_H
#define KERF_SIM_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/kerf.h>

#include "sim_cluster.h"
#include "sim_world.h"

/* Taints the simulated kubelet and node lifecycle controller set. */
#define TAINT_UNREGISTERED "karpenter.sh/unregistered"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"

#define PUSH(h, arr, n, cap, item)                                                                 \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? 2 * (cap) : 16;                                            \
			(arr) = (h)->realloc((h)->ctx, (arr), (cap) * sizeof(*(arr)));             \
		}                                                                                  \
		(arr)[(n)++] = (item);                                                             \
	} while (0)

struct sim_node;

/* A workload: the controller that keeps its pods. */
struct sim_workload {
	char *kind;
	char *namespace_;
	char *name;
	struct kerf_pod *tmpl;
	int32_t replicas;
	bool daemonset;
	int64_t duration_ms; /* trace rows: each pod's run time; -1: runs until deleted */
	int32_t finished;    /* pods that must not be replaced (succeeded; a bare Pod's) */
	int32_t live;	     /* its pods that exist */
	uint64_t next_ordinal;
	struct kerf_pod *ds_object; /* a DaemonSet as listed (KERF_OBJ_DAEMONSET) */
};

struct sim_pod {
	struct kerf_pod *pod;
	struct sim_workload *owner; /* NULL once its workload is deleted */
	struct sim_node *on;	    /* where it is bound; NULL while pending */
	struct sim_node *ds_node;   /* a DaemonSet pod's node */
	uint64_t seq;		    /* creation order: the scheduler queue's tie-break */
	int32_t ordinal;	    /* StatefulSet pods */
	int64_t bound_ms;
	bool terminating; /* evicted or deleted, gone at gone_ms */
	int64_t gone_ms;
};

struct sim_node {
	struct kerf_node *node;
	const struct sim_instance *in;
	struct kerf_taints startup; /* the claim's startup taints, removed at ready */
	size_t index;		    /* position in the scheduler's node list this cycle */
	struct kerf_resources requested;
};

/* A PodDisruptionBudget (policy/v1) read from a workload file. */
struct sim_pdb {
	char *namespace_; /* "default" when unset */
	char *name;
	struct kerf_label_selector *selector; /* NULL: selects no pod */
	int32_t value;			      /* minAvailable, or maxUnavailable when max_unavailable */
	bool percent;			      /* value is a percentage of the matching pods */
	bool max_unavailable;
};

/* A change made outside poll(): a copy of the object as it was. */
struct queued_event {
	kerf_event_type type;
	kerf_object_kind kind;
	void *object;
};

struct sim_cluster {
	const struct kerf_host *h;
	struct sim_world *w;
	struct sim_cluster_config cfg;
	size_t n_initial;
	struct kerf_workload_list **initial; /* cfg.workloads, parsed */
	struct sim_script script;
	size_t next_action;

	struct kerf_event_sink sink;
	bool started;	 /* start() listed everything: changes become events */
	bool delivering; /* inside start() or poll(): the sink may be called */
	bool resumed;	 /* start_ms came from the state file: the run goes on */
	int64_t start_ms;      /* wall time the run began: the script counts from here */
	int64_t start_wall_ms; /* wall and monotonic time of this start() */
	int64_t start_mono_ms;
	/*
	 * Script index after the last cloud action (interrupt, terminate)
	 * that ran: a restart replays the script for its pods but must not
	 * act on the cloud twice.
	 */
	size_t cloud_next;
	/*
	 * Nodes of a state file not registered again yet: an instance that
	 * registers gets its node back (name, labels, taints, cordon) rather
	 * than a new one.
	 */
	size_t n_saved_nodes, cap_saved_nodes;
	struct kerf_node **saved_nodes;
	int64_t seen_ms; /* instance milestones up to here are done */
	bool dirty;	 /* the scheduler has something new to look at */
	bool ds_dirty;	 /* DaemonSets must look at the nodes again */

	size_t n_workloads, cap_workloads;
	struct sim_workload **workloads;
	size_t n_pods, cap_pods;
	struct sim_pod **pods; /* creation order */
	size_t n_nodes, cap_nodes;
	struct sim_node **nodes; /* registration order */
	size_t n_claims, cap_claims;
	struct kerf_nodeclaim **claims;
	size_t n_queue, cap_queue;
	struct queued_event *queue;
	size_t n_pdbs, cap_pdbs;
	struct sim_pdb **pdbs;
	uint64_t evictions, evictions_refused;

	uint64_t resource_version;
	uint64_t uids;
	uint64_t pod_seq;
	uint64_t node_seq;
	uint64_t events_recorded;
};

/* sim_cluster_objects.c: copies, metadata and change events. */
void simc_replace(const struct kerf_host *h, char **dst, const char *s);
void simc_taints_add_all(struct kerf_taints *dst, const struct kerf_taints *src);
int64_t simc_now_ms(const struct sim_cluster *c);
void simc_touch(struct sim_cluster *c, struct kerf_meta *m);
void simc_new_meta(struct sim_cluster *c, struct kerf_meta *m, const char *api_version,
		   const char *kind, int64_t at_ms);
void simc_snapshot_free(kerf_object_kind kind, void *object);
void simc_emit(struct sim_cluster *c, kerf_event_type type, kerf_object_kind kind,
	       const void *object);
void simc_flush_queue(struct sim_cluster *c);

/* sim_cluster_pods.c */
struct sim_pod *simc_find_pod(const struct sim_cluster *c, const char *ns, const char *name,
			      size_t *index);
struct sim_node *simc_find_node(const struct sim_cluster *c, const char *name, size_t *index);
struct sim_pod *simc_pod_create(struct sim_cluster *c, struct sim_workload *wl, const char *name,
				int32_t ordinal, struct sim_node *ds_node);
void simc_pod_remove(struct sim_cluster *c, size_t index, bool succeeded);
/*
 * An eviction: the pod terminates for cfg.termination_grace_ms, still on
 * its node, and its workload replaces it at once (0: it is gone now).
 */
void simc_pod_evict(struct sim_cluster *c, size_t index);
/*
 * A deletion with a grace period of grace_ms: as an eviction, but the pod
 * is gone grace_ms from now (0 or not bound: now); a pod terminating
 * already keeps the earlier end, as the API server shortens a grace period
 * and never lengthens it.
 */
void simc_pod_delete(struct sim_cluster *c, size_t index, int64_t grace_ms);
/* Removes the pods whose grace period is over at now. */
void simc_pods_terminated(struct sim_cluster *c, int64_t now);

/* sim_cluster_pdb.c */
/* Appends the PodDisruptionBudgets of a workload file; errors are "path:line:column: ...". */
int simc_pdbs_load(struct sim_cluster *c, const char *path, struct kerf_error *err);
void simc_pdb_free(const struct kerf_host *h, struct sim_pdb *b);
/* The first budget that forbids evicting sp now, or NULL. */
const struct sim_pdb *simc_pdb_blocking(const struct sim_cluster *c, const struct sim_pod *sp);

/* sim_cluster_workloads.c: the controllers and the script's actions. */
void simc_workload_apply(struct sim_cluster *c, const struct kerf_workload *k);
void simc_workload_free(const struct kerf_host *h, struct sim_workload *wl);
void simc_controllers(struct sim_cluster *c);
void simc_run_action(struct sim_cluster *c, const struct sim_action *a);

/* sim_cluster_nodes.c: the last three are sim_world_reached() callbacks (arg: the cluster). */
const struct kerf_nodeclaim *simc_find_claim(const struct sim_cluster *c, const char *name,
					     size_t *index);
void simc_node_remove(struct sim_cluster *c, size_t index);
void simc_node_register(void *arg, const struct sim_instance *in, int64_t at_ms);
void simc_node_ready(void *arg, const struct sim_instance *in, int64_t at_ms);
void simc_node_gone(void *arg, const struct sim_instance *in, int64_t at_ms);

/* sim_state.c: the node of a state file for this instance, taken out of the saved list. */
struct kerf_node *simc_take_saved_node(struct sim_cluster *c, const char *provider_id);

/* sim_sched.c */
void simc_schedule(struct sim_cluster *c, int64_t now);

/*
 * sim_cluster_writes.c: deletes as the API server does them (the ops',
 * and a scenario's delete_nodeclaim / delete_node): an object with
 * finalizers is only marked.
 */
int simc_claim_delete(struct sim_cluster *c, const char *name, struct kerf_error *err);
int simc_node_delete(struct sim_cluster *c, const char *name, struct kerf_error *err);

/* sim_cluster.c: the loop, whose ops sim_cluster_ops (sim_cluster_writes.c) lists. */
struct sim_cluster *simc_cluster_of(void *inst);
int simc_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err);
int simc_poll(void *inst, int64_t timeout_ms, struct kerf_error *err);
int simc_virtual_end(void *inst, kerf_mono_ms_t *end_ms, struct kerf_error *err);

#endif
