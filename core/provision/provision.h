/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision.h - one provisioning batch: Karpenter's scheduling simulation
 * turned into a packing problem, solved by a packer plugin, and read back as
 * NodeClaims.
 *
 * The batch is pure: it takes everything it needs as borrowed input
 * (pending pods, NodePools with their instance types, the capacity that
 * already exists or is launching, DaemonSet templates, a packer) and returns
 * a result the caller owns.  No clock, no I/O: the daemon's batching timers
 * and the NodeClaim lifecycle sit around it, and `kerfctl simulate` calls it
 * once.  The same input gives the same result.
 *
 * What the batch decides, in order:
 *   1. Identical pending pods become one group (requests, namespace, labels,
 *      node selection, tolerations, spread, affinity and host ports equal).
 *   2. Each group picks the first NodePool (weight descending, then name)
 *      that can launch a node for one of its pods (static NodePools, with
 *      spec.replicas, and pools not ready never do, as in Karpenter): requirements compatible,
 *      taints tolerated, some instance type compatible, offered, big enough
 *      after DaemonSet overhead and within the pool's limits.  Node affinity
 *      is relaxed as Karpenter relaxes it when nothing fits: the first
 *      required term first, then the next; the heaviest preferred term is
 *      treated as required and dropped, heaviest first, until none is left;
 *      PreferNoSchedule taints repel until that last relaxation.
 *      Every pool that refused gets one reason.
 *   3. Inter-pod constraints become packing constraints (see provision.c).
 *   4. The packer places the groups on existing nodes with room first, then
 *      on new nodes; pods whose required hostname affinity follows pods
 *      of the batch join the nodes it gives those; its plan becomes
 *      NodeClaims.  A group the packer cannot
 *      place in its pool (typically a limit) falls through to the next pool
 *      that accepts it, as Karpenter's scheduler does.
 */
#ifndef KERF_CORE_PROVISION_H
#define KERF_CORE_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/packer.h>
#include <kerf/provider.h>
#include <kerf/types.h>

/* Karpenter caps the instance types one NodeClaim lists. */
#define PROV_MAX_INSTANCE_TYPES 60

/* A packer plugin instance as a batch uses it. */
struct prov_packer {
	const struct kerf_packer_ops *ops;
	void *inst;
	const char *name; /* for the statistics; borrowed */
};

/*
 * A NodePool with what its node class can launch, and the packers that plan
 * its nodes in this batch.
 */
struct prov_pool {
	const struct kerf_nodepool *nodepool;
	const struct kerf_instance_type_list *types; /* the provider's list for its node class */
	/* The provider's (ABI 2.0), for its special types; NULL: none. */
	const struct kerf_class_selector *class_selectors;
	const struct prov_packer *packer; /* NULL: the input's packer */
	/*
	 * NULL: none.  Otherwise it solves the same problem as the pool's
	 * packer, after it; its plan is measured (prov_pool_stats.shadow) and
	 * dropped, never acted on.
	 */
	const struct prov_packer *shadow;
	/*
	 * NULL: the pool may launch nodes.  Otherwise why it may not, one line
	 * (its nodeClassRef names no node class, so Karpenter would hold it
	 * not Ready): the pool launches nothing and every pod is told so.
	 */
	const char *not_ready;
};

/*
 * A node, or a NodeClaim still launching, and the pods bound or nominated to
 * it.  Its pods count for topology spread and anti-affinity, its capacity
 * counts against its NodePool's limits, and its free room is offered to the
 * batch before any new node is opened.
 */
struct prov_existing {
	const char *name;
	const char *nodepool;      /* NULL: not launched by kerf (no limit accounting) */
	const char *instance_type;
	const char *zone;
	kerf_capacity_type capacity_type;
	const struct kerf_labels *labels; /* the node's labels, NULL: none */
	const struct kerf_taints *taints; /* NULL: none */
	struct kerf_resources capacity;   /* for NodePool limits */
	struct kerf_resources allocatable;
	size_t n_pods;
	const struct kerf_pod *const *pods; /* DaemonSet pods included */
	bool unschedulable;                 /* cordoned or being deleted: no new pods */
};

struct prov_input {
	size_t n_pods;
	const struct kerf_pod *const *pods; /* pending */
	size_t n_pools;
	const struct prov_pool *pools;
	size_t n_existing;
	const struct prov_existing *existing;
	size_t n_daemonsets;
	const struct kerf_pod *const *daemonsets; /* one pod template per DaemonSet */
	const struct kerf_packer_ops *packer; /* the default packer */
	void *packer_inst;
	const char *packer_name; /* for the statistics; NULL: "packer" */
	int64_t budget_ms;      /* handed to every packer */
	size_t max_instance_types; /* 0: PROV_MAX_INSTANCE_TYPES */
};

/* A NodeClaim the batch would create. */
struct prov_claim {
	struct kerf_nodeclaim *claim; /* name "<nodepool>-<n>", requirements, requests, taints */
	size_t pool;                  /* index into input pools */
	const struct kerf_instance_type *type; /* the cheapest option, borrowed from the input */
	size_t n_options;
	const struct kerf_instance_type **options; /* cheapest first, the chosen one first */
	const char *zone;                          /* borrowed from the input */
	kerf_capacity_type capacity_type;
	kerf_price_t price;
	size_t n_pods;
	size_t *pods; /* indexes into input pods */
};

/* Pods the batch puts on a node or claim that already exists. */
struct prov_reuse {
	size_t existing; /* index into input existing */
	size_t n_pods;
	size_t *pods;
};

struct prov_reason {
	char *nodepool; /* NULL: not about one NodePool (e.g. no NodePool at all) */
	char *text;     /* one line */
};

struct prov_unschedulable {
	size_t pod; /* index into input pods */
	size_t n_reasons;
	struct prov_reason *reasons;
};

/* What one packer's plan for one NodePool amounts to. */
struct prov_plan_stats {
	const char *packer; /* borrowed from the input */
	size_t pods;        /* of the pool, handed to the packer */
	size_t placed;      /* on new nodes and on existing ones */
	size_t placed_new;
	size_t nodes; /* new ones */
	kerf_price_t price;       /* of the new nodes, per hour */
	kerf_price_t lower_bound; /* the packer's proven bound on price; 0: none */
	bool optimal;
	struct kerf_resources requested;   /* pods on new nodes: cpu and memory */
	struct kerf_resources allocatable; /* of the new nodes, DaemonSets taken off */
	double solve_ms;		   /* real time of the packer call */
	int64_t work;			   /* the call's counted work, in the packer's units */
	bool hit_time_limit;		   /* real time cut the call short */
};

/*
 * Per NodePool that had pods in the batch's last round, in the order pools
 * are tried.  When every such pool uses the default packer and none has a
 * shadow, all pools are solved in one call and solve_ms is that call's.
 */
struct prov_pool_stats {
	size_t pool; /* index into input pools */
	struct prov_plan_stats primary;
	bool has_shadow;
	struct prov_plan_stats shadow;
};

struct prov_result {
	size_t n_pool_stats;
	struct prov_pool_stats *pool_stats;
	size_t n_claims;
	struct prov_claim *claims;
	size_t n_reused;
	struct prov_reuse *reused;
	size_t n_unschedulable;
	struct prov_unschedulable *unschedulable; /* in pod order */
	kerf_price_t total_price;                 /* of the new claims, per hour */
	size_t n_groups;                          /* distinct pod shapes packed */
};

/*
 * Runs one batch.  On success *out is a new result (free with
 * prov_result_free) and 0 is returned; otherwise a negative KERF_E_* with
 * err filled in: KERF_E_INVALID for input that breaks the contract above
 * (no packer), or the packer's own failure.
 */
int prov_run(const struct prov_input *in, struct prov_result **out, struct kerf_error *err);

void prov_result_free(struct prov_result *r); /* NULL allowed */

/*
 * Which entry of a weighted selection a batch takes: a stable hash of the
 * NodePool's name and the batch's pod keys ("namespace/name", any order)
 * modulo the total weight, so a rerun of the same workload decides the
 * same.
 */
size_t prov_split_pick(const char *nodepool, uint64_t batch_hash, const unsigned *weights,
		       size_t n);
/* The batch hash prov_split_pick() takes: FNV-1a over the sorted keys. */
uint64_t prov_batch_hash(const char *const *keys, size_t n);

#endif
