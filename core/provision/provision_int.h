/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision_int.h - the state one provisioning batch shares between
 * provision.c (pools, groups, NodePool choice, inter-pod constraints) and
 * provision_plan.c (the packing problem and reading the plan back).
 * Not for use outside those files.
 */
#ifndef KERF_CORE_PROVISION_INT_H
#define KERF_CORE_PROVISION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/requirements.h>

#include "provision.h"
#include "util.h"

/* One reason a NodePool refused (or could not place) a pod. */
struct reasons {
	size_t n, cap;
	struct prov_reason *items;
};

/*
 * One packing type: an instance type as one pool would launch it (its
 * allocatable less the DaemonSets its nodes run in that pool, its offerings narrowed
 * to the pool's zones and capacity types), or an existing node, which has
 * no offerings so only its own open slot can use it.
 */
struct ptype {
	const struct kerf_instance_type *it; /* NULL for an existing node */
	/* The type's labels, borrowed from prov.typesets; NULL for an existing node. */
	const struct kerf_reqset *reqs;
	size_t pool;			     /* index into prov.pools; SIZE_MAX: existing */
	int64_t *alloc;
	int64_t *cap;
	size_t n_off;
	struct kerf_pack_offering *off;
	unsigned special; /* KERF_TYPE_* classes: types a pod only gets when it asks for them */
	/* The DaemonSets a node of this type runs, when fewer than its pool's; NULL: the pool's. */
	struct kerf_resources *overhead;
};

/*
 * What a pool's types look like to one set of pod requirements, kept per
 * (pool, pod requirements, device request): none of it depends on the rest
 * of the group, and groups that differ only in what they request (every
 * group of a typical batch) share it instead of filtering every type again.
 */
struct tfilter {
	size_t n_req, n_special, n_offered; /* types passing each step, for the refusal */
	size_t n_types;
	uint32_t *types;  /* ptypes passing all three, in pool order */
	uint8_t *zone_ok; /* n_zones flags: zones the combined requirements allow */
	uint8_t ct_ok[KERF_CAPACITY_RESERVED + 2]; /* per capacity type, the last "unknown" */
};

/* A NodePool, in the order pools are tried. */
struct pstate {
	size_t input; /* index into prov_input.pools */
	const struct kerf_nodepool *np;
	struct kerf_reqset *reqs;	/* requirements, template labels, karpenter.sh/nodepool */
	struct kerf_resources overhead; /* DaemonSets that would run on its nodes */
	size_t n_daemons;		/* how many */
	size_t first_type, n_types;	/* its ptypes */
	int64_t *remaining;		/* limits less what exists or launches */
	int64_t nodes_remaining;
	/* NULL: it may launch nodes; otherwise why it never does (static, not ready). */
	const char *closed;
};

/* Pods of one shape that are decided together. */
struct group {
	size_t n;
	size_t *pods;
	const struct kerf_pod *rep;
	size_t min_pool;	      /* pools before this one already refused or spilled it */
	long pool;		      /* index into prov.pools, -1: none */
	struct kerf_reqset *podreq;   /* the pod's requirements as relaxed */
	struct kerf_reqset *combined; /* podreq with the chosen pool's */
	size_t filter;		      /* into prov.filters: the chosen pool's */
	size_t n_types;
	uint32_t *types;
	uint8_t *zones;	  /* n_zones flags: zones it may land in */
	uint32_t ct_mask; /* capacity types it allows */
	int64_t *request;
	uint32_t max_per_node;
	bool hostname_bound;	/* hostname spread/anti-affinity: no open node holding its peers */
	bool prefer_tolerated;	/* PreferNoSchedule tolerated: the last relaxation */
	bool needs_peer;	/* hostname affinity to existing pods: only their nodes */
	/* Hostname affinity whose only peers are pending in the batch, or NULL. */
	const struct kerf_pod_affinity_term *waits;
	bool joins; /* it waits: its pods join its peers' new nodes after packing */
	size_t relaxed; /* relaxation steps taken so far (prov_relax) */
	/* Per spread of the pod: a ScheduleAnyway spread relaxation dropped. */
	bool *spread_off;
	/* The preferred pod terms still counted as required: affinity, then anti-affinity. */
	size_t n_soft_aff, n_soft_anti;
	const struct kerf_pod_affinity_term **soft;
	size_t n_offered_zones; /* zones its types offer, whatever its zone requirement */
	struct reasons refusals;
};

/* A slice of a group as the packer sees it. */
struct pgroup {
	size_t group;
	size_t first; /* into the group's pods */
	uint32_t count;
	int32_t zone;
};

/* Where one pod ended up in the round being solved. */
enum { POD_PENDING, POD_NEW, POD_REUSED, POD_FAILED };

struct podst {
	int where;
	size_t index;		/* claim or existing */
	size_t min_pool;	/* carried from round to round */
	size_t relaxed;		/* relaxation steps taken, round to round (prov_relax) */
	struct reasons carried; /* refusals and spills from earlier rounds */
	struct reasons final;	/* the reasons reported when unschedulable */
};

struct prov {
	const struct prov_input *in;
	size_t max_types;
	size_t nd;
	char **dim_names;
	size_t n_zones;
	char **zones;
	size_t n_pools;
	struct pstate *pools;
	size_t n_types, cap_types;
	struct ptype *types;
	/*
	 * Each instance type list's requirement sets, one per item, built once a
	 * run: the pools of one node class share the provider's list, and
	 * building them again for every pool made many pools slow.
	 */
	size_t n_typesets;
	struct typeset {
		const struct kerf_instance_type_list *list;
		struct kerf_reqset **reqs;
	} * typesets;
	size_t n_groups, cap_groups;
	struct group *groups;
	size_t n_pgroups, cap_pgroups;
	struct pgroup *pgroups;
	struct podst *pods;
	int64_t **existing_used;   /* per existing node, requests already on it */
	struct strset filter_keys; /* canonical keys of filters, same indices */
	size_t cap_filters;
	struct tfilter *filters;
	/* A pod dropped a preference or moved on to a later pool this round: solve again. */
	bool again;
};

/* ---- groups.c */
#define HOSTNAME_KEY "kubernetes.io/hostname"
/* cpu, memory, ephemeral-storage and pods lead every resource vector. */
#define N_FIXED_DIMS 4

void reasons_add(struct reasons *r, const char *nodepool, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void reasons_append(struct reasons *dst, const struct reasons *src);
void reasons_clear(struct reasons *r);
void prov_vector(const struct prov *p, const struct kerf_resources *r, int64_t *out);
/* The index of zone in p->zones, -1 when unknown or NULL. */
long prov_zone_index(const struct prov *p, const char *zone);
/* Does pod `other` fall under `owner`'s affinity term / spread? */
bool prov_term_selects(const struct kerf_pod_affinity_term *t, const struct kerf_pod *owner,
		       const struct kerf_pod *other);
bool prov_spread_selects(const struct kerf_topology_spread *s, const struct kerf_pod *owner,
			 const struct kerf_pod *other);
bool prov_same_ns(const char *a, const char *b);
/* key, normalised, equals want. */
bool prov_is_key(const char *key, const char *want);
bool prov_ports_clash(const struct kerf_pod *a, const struct kerf_pod *b);
bool prov_hostname_repels(const struct kerf_pod *a, const struct kerf_pod *b);
bool pod_fits_existing(const struct prov *p, const struct group *g, size_t e);
bool groups_conflict(const struct group *a, const struct group *b);

/* ---- provision.c */
/*
 * The pods take one more relaxation step and are tried again next round
 * from the first pool, as Karpenter relaxes a pod that fits nowhere: the
 * heaviest preferred pod affinity term, then anti-affinity term, then
 * preferred node-affinity term, then a ScheduleAnyway topology spread, one
 * per step.  False when the group has nothing left to drop.
 */
bool prov_relax(struct prov *p, const struct group *g, const size_t *pods, size_t n);
int prov_add_pgroup(struct prov *p, size_t group, size_t first, uint32_t count, int32_t zone);

/* ---- provision_plan.c */
/*
 * Builds the packing problem from the groups, calls the packer and records
 * the outcome in p->pods and out (claims, reuse, total).  *spilled is set
 * when a pod the packer could not place may still try a later pool: the
 * caller then throws out away and solves again.
 */
int plan_solve(struct prov *p, struct prov_result *out, bool *spilled, struct kerf_error *err);

#endif
