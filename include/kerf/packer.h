/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/packer.h - the packing problem and the packer ops.
 *
 * A packer is pure: given the problem the core built from a batch of
 * pending pods, it decides which new nodes to open and which pods go where.
 * No I/O, no host calls other than log and allocation, and the same input
 * gives the same output.  A packer links libkerf for the plan's
 * constructors.
 *
 * The problem is dense so packers never parse labels: resources are
 * vectors of n_dims int64 values (dimension names in dim_names: "cpu" in
 * millicores, "memory" in bytes, "pods", extended resources in units);
 * instance types, zones and NodePools are indexes.  Identical pods are one
 * group with a count, so work scales with distinct shapes, not pod count.
 */
#ifndef KERF_PACKER_H
#define KERF_PACKER_H

#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Packer capability bits (descriptor `capabilities`). */
#define KERF_CAP_PACKER_OPTIMAL (1ull << 32)     /* proves a lower bound / optimality */
#define KERF_CAP_PACKER_TIME_BUDGET (1ull << 33) /* honours budget_ms */

/*
 * The problem.  Every struct of it is an object (kerf/types.h) that the
 * host builds and lends to solve() for the call: lists are arrays of
 * pointers, and a packer reads the fields it knows and never writes or
 * frees any of it (a copy it makes for its own use holds only those
 * fields).  The host is never older than the packer, so these objects need
 * no constructors.
 */

struct kerf_pack_offering {
	uint32_t zone; /* index into zone_names */
	kerf_capacity_type capacity_type;
	kerf_price_t price;
};

struct kerf_pack_type {
	const char *name;
	const int64_t *allocatable; /* n_dims values, DaemonSet overhead already taken off */
	size_t n_offerings;         /* available offerings only */
	const struct kerf_pack_offering *const *offerings;
};

/* Pods with identical requests and constraints. */
struct kerf_pack_group {
	uint32_t count;
	const int64_t *request; /* n_dims values, per pod */
	uint32_t nodepool;      /* index into pools */
	size_t n_types;
	const uint32_t *types; /* compatible instance types, ascending */
	int32_t zone;          /* -1: any zone; otherwise the only zone allowed */
	uint32_t capacity_types; /* bit (1u << kerf_capacity_type) per allowed type */
	uint32_t max_per_node;   /* 0: unlimited (hostname spread, anti-affinity) */
};

/* Two groups that may not share a node (anti-affinity between them). */
struct kerf_pack_conflict {
	uint32_t a;
	uint32_t b;
};

/* A node already launching (or running) with room the batch may use. */
struct kerf_pack_open_node {
	uint32_t type;
	uint32_t zone;
	kerf_capacity_type capacity_type;
	const int64_t *remaining; /* n_dims values */
	size_t n_groups;
	const uint32_t *groups; /* the groups allowed on it, ascending */
};

/*
 * One requirement of a NodePool with minValues (ABI 2.1): a new node's
 * options must span at least `min` distinct values of `key`, as Karpenter
 * requires of a NodeClaim's instance types.
 */
struct kerf_pack_min_values {
	const char *key; /* for reasons */
	uint32_t min;
	uint32_t n_values; /* distinct values among the problem's types */
	const uint32_t *value_of; /* per type (n_types): its value, < n_values; UINT32_MAX: none */
};

/* What a NodePool may still add.  INT64_MAX in a dimension: no limit. */
struct kerf_pack_pool {
	const char *name;
	const int64_t *remaining; /* n_dims values, counted on the types' capacity */
	const int64_t *const *type_capacity; /* per type, n_dims values, for limit accounting */
	int64_t nodes_remaining;  /* INT64_MAX: no limit */
	/*
	 * ABI 2.1.  The pool's minValues.  A packer adds no pod to a new node
	 * whose remaining options would span fewer values, and keeps them when
	 * it shortens a node's options to its maximum; a node that cannot
	 * keep them is not opened.
	 */
	size_t n_min_values;
	const struct kerf_pack_min_values *const *min_values;
};

struct kerf_pack_problem {
	uint32_t n_dims;
	const char *const *dim_names;
	uint32_t n_zones;
	const char *const *zone_names;
	size_t n_types;
	const struct kerf_pack_type *const *types;
	size_t n_groups;
	const struct kerf_pack_group *const *groups;
	size_t n_conflicts;
	const struct kerf_pack_conflict *const *conflicts;
	size_t n_open;
	const struct kerf_pack_open_node *const *open;
	size_t n_pools;
	const struct kerf_pack_pool *const *pools;
};

/*
 * The plan.  Objects (kerf/types.h) the packer builds with the constructors
 * below and hands to the host, which frees the plan with
 * kerf_pack_plan_free().
 */

struct kerf_pack_assignment {
	uint32_t group;
	uint32_t count;
};

/* One node in the plan: either an open node reused or a new one. */
struct kerf_pack_node {
	int32_t open_index; /* index into problem->open, or -1 for a new node (the default) */
	uint32_t nodepool;
	uint32_t zone;
	kerf_capacity_type capacity_type;
	uint32_t type;       /* the chosen (cheapest) type */
	kerf_price_t price;  /* of the chosen offering; 0 for open nodes */
	size_t n_options;
	uint32_t *options;   /* every type that holds the whole assignment, cheapest first */
	size_t n_assign;
	struct kerf_pack_assignment **assign;
};

struct kerf_pack_unplaced {
	uint32_t group;
	uint32_t count;
	char *reason; /* one line */
};

struct kerf_pack_plan {
	size_t n_nodes;
	struct kerf_pack_node **nodes;
	size_t n_unplaced;
	struct kerf_pack_unplaced **unplaced;
	kerf_price_t total_price; /* of the new nodes */
	kerf_price_t lower_bound; /* proven bound on total_price, or 0 when none */
	bool optimal;             /* total_price was proven optimal */
	int64_t solve_ms;
	/*
	 * ABI 2.1.  The work the solve counted, in the packer's own units (0:
	 * it counts none), and whether real time stopped it before its counted
	 * work ran out.  A plan with hit_time_limit set may differ from run to
	 * run; one without it is the same on any machine at any load.
	 */
	int64_t work;
	bool hit_time_limit;
};

/*
 * A new, empty plan of the running kerf's size; aborts when memory runs
 * out.  The caller owns it and frees it with kerf_pack_plan_free().
 * ABI 2.0.
 */
struct kerf_pack_plan *kerf_pack_plan_new(void);

/* Frees a plan and everything in it; NULL allowed.  ABI 2.0. */
void kerf_pack_plan_free(struct kerf_pack_plan *plan);

/*
 * A new node (open_index -1, no options, no assignments) and its free,
 * which releases everything the node owns (NULL allowed).  ABI 2.0.
 */
struct kerf_pack_node *kerf_pack_node_new(void);
void kerf_pack_node_free(struct kerf_pack_node *n);

/*
 * Append a new node (as kerf_pack_node_new()), or a new, zeroed unplaced
 * entry or assignment, and return it, owned by the plan or node.  Abort
 * when memory runs out.  ABI 2.0.
 */
struct kerf_pack_node *kerf_pack_plan_add_node(struct kerf_pack_plan *plan);
struct kerf_pack_unplaced *kerf_pack_plan_add_unplaced(struct kerf_pack_plan *plan);
struct kerf_pack_assignment *kerf_pack_node_add_assignment(struct kerf_pack_node *n);

/* Free an unplaced entry (and its reason) or an assignment; NULL allowed.  ABI 2.0. */
void kerf_pack_unplaced_free(struct kerf_pack_unplaced *u);
void kerf_pack_assignment_free(struct kerf_pack_assignment *a);

struct kerf_packer_ops {
	/*
	 * Required (2.0).  Solves the problem within budget_ms of real time,
	 * measured with the host's real_mono_ms (never the host clock, which
	 * may be virtual; a packer without KERF_CAP_PACKER_TIME_BUDGET may
	 * ignore the budget).  The plan must not depend on how fast the solve
	 * runs: a packer bounds its search by counted work sized to the budget
	 * and uses real time only as an emergency stop, which it reports in
	 * plan->hit_time_limit (2.1).  Called from the host's loop thread, one solve
	 * per instance at a time; it blocks that thread, so the host keeps the
	 * budget short.  Returns a plan in *out.  Every pod is either assigned or listed as
	 * unplaced with a reason.  Deterministic for a given input.
	 */
	int (*solve)(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
		     struct kerf_pack_plan **out, struct kerf_error *err);
};

#ifdef __cplusplus
}
#endif
#endif
