/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ffd.h - the first-fit-decreasing solver, shared by the binpack-ffd plugin
 * and binpack-ilp (which starts from FFD's plan).  Internal to the build:
 * not part of the installed SDK.
 */
#ifndef KERF_FFD_H
#define KERF_FFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/plugin.h>

/*
 * Packs `p` first-fit decreasing, at most max_types options per new node.
 * On success *out is a new plan (lower_bound 0, optimal false) the caller
 * frees with kerf_pack_plan_free(), and 0 is returned; otherwise a negative
 * KERF_E_* with err set (an invalid problem is KERF_E_INVALID).  Logs one
 * debug line.
 */
int ffd_pack(const struct kerf_host *host, size_t max_types, const struct kerf_pack_problem *p,
	     struct kerf_pack_plan **out, struct kerf_error *err);

/*
 * The pieces of FFD's model the other packers share, so that every packer
 * judges fit, limits and offerings the same way.
 */

/* How many more pods of `req` fit in alloc - used (used NULL: empty), at most cap. */
uint64_t ffd_fits(size_t nd, const int64_t *alloc, const int64_t *used, const int64_t *req,
		  uint64_t cap);

/* The capacity pool's limits count for type t: type_capacity, else allocatable. */
const int64_t *ffd_capacity_of(const struct kerf_pack_problem *p, uint32_t pool, size_t t);

/* True when the ascending list v of n holds x. */
bool ffd_lists(const uint32_t *v, size_t n, uint32_t x);

/*
 * Why group g gets no new node, as FFD words it, when its pool has `rem`
 * (n_dims values) and nodes_left nodes left: no compatible, offered or
 * fitting type, or the limits that rule out every type that fits (with
 * what remains).  Writes one line into buf; returns false when no limit
 * rules a fitting type out (the text then says only "resource limits").
 */
bool ffd_explain(const struct kerf_pack_problem *p, uint32_t g, const int64_t *rem,
		 int64_t nodes_left, char *buf, size_t len);

/* Pods of one group on a node while a plan is built. */
struct ffd_assign {
	uint32_t group;
	uint32_t count;
};

/* Appends a[0..n) to the plan node's assignments. */
void ffd_plan_assign(struct kerf_pack_node *pn, const struct ffd_assign *a, size_t n);

/* A type with the offering a new node would launch it on. */
struct ffd_option {
	uint32_t type;
	int tier; /* capacity-type priority: 0 reserved, 1 spot, 2 on-demand */
	kerf_price_t price;
	uint32_t zone;
	kerf_capacity_type ct;
};

/* qsort order of options: priority tier, then price, then type index. */
int ffd_option_cmp(const void *a, const void *b);

/*
 * Type t's best offering for a node in zone (-1: any) allowing the capacity
 * types in mask: priority tier, then price, then zone index.  False when t
 * has none.
 */
bool ffd_best_offering(const struct kerf_pack_problem *p, size_t t, int32_t zone, uint32_t mask,
		       struct ffd_option *out);

/*
 * Karpenter's minValues on a node's options (ABI 2.1, kerf_pack_pool.min_values).
 *
 * ffd_min_values_met: true when the n types listed span every minValues of
 * the pool, and each fits in max_types options.
 *
 * ffd_keep_options: shortens a node's options (types, best first) to at
 * most max, keeping the pool's minValues: the best type of each value a key
 * still lacks is kept ahead of better types of values already counted, and
 * the kept ones stay best first.  Returns how many are kept; 0 when they
 * cannot span minValues.  Scratch memory comes from host.
 */
bool ffd_min_values_met(const struct kerf_host *host, const struct kerf_pack_problem *p,
			uint32_t pool, const uint32_t *types, size_t n, size_t max_types);
size_t ffd_keep_options(const struct kerf_host *host, const struct kerf_pack_problem *p,
			uint32_t pool, uint32_t *types, size_t n, size_t max);

#endif
