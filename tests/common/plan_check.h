/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_check.h - an independent checker for packer plans.
 *
 * Every packer test (first-fit, ILP, later ones) runs its plans through the
 * same checker, so "valid plan" means one thing everywhere and a packer
 * cannot pass its own tests by sharing a bug with them.
 */
#ifndef KERF_TESTS_PLAN_CHECK_H
#define KERF_TESTS_PLAN_CHECK_H

#include <stddef.h>

#include <kerf/packer.h>

/*
 * Returns 0 when `plan` is a valid answer to `p`, else -1 with the first
 * violation, one line, in why (len bytes, may be 0).  Checked:
 *   - every pod of every group is placed exactly once or listed unplaced
 *     with a non-empty one-line reason;
 *   - each new node's assignment fits its chosen type's allocatable, each
 *     open node's fits its remaining, and an open node is used at most once
 *     with its own type, zone and capacity type at price 0;
 *   - every group on a new node is of the node's pool and lists the chosen
 *     type; every group on an open node is in the node's groups list;
 *   - options: non-empty, distinct, include the chosen type, and every
 *     option holds the assignment, is listed by every group on the node and
 *     has an offering the groups allow;
 *   - zones and capacity types of every group on a node;
 *   - the chosen offering exists and its price is the node's price;
 *   - max_per_node and conflicts;
 *   - pool limits: new nodes per pool and the chosen types' capacity;
 *   - total_price is the sum of the new nodes' prices, lower_bound within
 *     [0, total_price].
 */
int plan_check(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan, char *why,
	       size_t len);

#endif
