/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_check.c - an independent checker for packer plans.
 *
 * Written from packer.h alone, without looking at how any packer works, and
 * deliberately simple (quadratic where that is clearer): it has to be
 * obviously right more than it has to be fast.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_check.h"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool lists(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* For the problem's lists, which packer.h documents as ascending. */
static bool sorted_has(const uint32_t *v, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == x)
			return true;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool zone_ok(const struct kerf_pack_group *g, uint32_t zone)
{
	return g->zone < 0 || (uint32_t)g->zone == zone;
}

static bool ct_ok(const struct kerf_pack_group *g, kerf_capacity_type ct)
{
	return (unsigned)ct < 32 && (g->capacity_types & (1u << ct)) != 0;
}

/* The capacity a pool's limits are counted on; allocatable when the core gave none. */
static const int64_t *capacity_of(const struct kerf_pack_problem *p, uint32_t pool, uint32_t t)
{
	const struct kerf_pack_pool *pp = p->pools[pool];

	if (pp->type_capacity && pp->type_capacity[t])
		return pp->type_capacity[t];
	return p->types[t]->allocatable;
}

/* True when type t has an offering every group on node n allows. */
static bool type_offered_for(const struct kerf_pack_problem *p, const struct kerf_pack_node *n,
			     uint32_t t)
{
	const struct kerf_pack_type *ty = p->types[t];

	for (size_t o = 0; o < ty->n_offerings; o++) {
		bool ok = true;
		for (size_t a = 0; a < n->n_assign && ok; a++) {
			const struct kerf_pack_group *g = p->groups[n->assign[a]->group];
			ok = zone_ok(g, ty->offerings[o]->zone) &&
			     ct_ok(g, ty->offerings[o]->capacity_type);
		}
		if (ok)
			return true;
	}
	return false;
}

int plan_check(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan, char *why,
	       size_t len)
{
	size_t nd = p->n_dims;
	uint64_t *placed = calloc(p->n_groups ? p->n_groups : 1, sizeof(uint64_t));
	int64_t *sum = calloc(nd ? nd : 1, sizeof(int64_t));
	int64_t *pool_nodes = calloc(p->n_pools ? p->n_pools : 1, sizeof(int64_t));
	int64_t *pool_used = calloc((p->n_pools * nd) > 0 ? p->n_pools * nd : 1, sizeof(int64_t));
	bool *open_used = calloc(p->n_open ? p->n_open : 1, sizeof(bool));
	kerf_price_t total = 0;
	int rc = -1;

	if (!placed || !sum || !pool_nodes || !pool_used || !open_used) {
		fail(why, len, "plan_check: out of memory");
		goto out;
	}
	if (!plan) {
		fail(why, len, "no plan");
		goto out;
	}
	if ((plan->n_nodes && !plan->nodes) || (plan->n_unplaced && !plan->unplaced)) {
		fail(why, len, "plan arrays missing");
		goto out;
	}

	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		const int64_t *room;

		if (n->n_assign == 0 || !n->assign) {
			fail(why, len, "node %zu has no pods", i);
			goto out;
		}
		memset(sum, 0, nd * sizeof(int64_t));
		for (size_t a = 0; a < n->n_assign; a++) {
			const struct kerf_pack_assignment *as = n->assign[a];
			const struct kerf_pack_group *g;
			if (as->group >= p->n_groups || as->count == 0) {
				fail(why, len, "node %zu assignment %zu: bad group %u or count %u",
				     i, a, as->group, as->count);
				goto out;
			}
			g = p->groups[as->group];
			for (size_t b = 0; b < a; b++)
				if (n->assign[b]->group == as->group) {
					fail(why, len, "node %zu lists group %u twice", i,
					     as->group);
					goto out;
				}
			if (g->max_per_node && as->count > g->max_per_node) {
				fail(why, len, "node %zu has %u pods of group %u, max_per_node %u",
				     i, as->count, as->group, g->max_per_node);
				goto out;
			}
			if (!zone_ok(g, n->zone) || !ct_ok(g, n->capacity_type)) {
				fail(why, len,
				     "node %zu: zone %u / capacity type %d not allowed for "
				     "group %u",
				     i, n->zone, (int)n->capacity_type, as->group);
				goto out;
			}
			placed[as->group] += as->count;
			for (size_t d = 0; d < nd; d++) {
				int64_t add;
				if (__builtin_mul_overflow((int64_t)as->count, g->request[d],
							   &add) ||
				    __builtin_add_overflow(sum[d], add, &sum[d])) {
					fail(why, len, "node %zu: requests overflow", i);
					goto out;
				}
			}
		}
		for (size_t c = 0; c < p->n_conflicts; c++) {
			const struct kerf_pack_conflict *cf = p->conflicts[c];
			uint32_t na = 0, nb = 0;
			for (size_t a = 0; a < n->n_assign; a++) {
				if (n->assign[a]->group == cf->a)
					na = n->assign[a]->count;
				if (n->assign[a]->group == cf->b)
					nb = n->assign[a]->count;
			}
			if (cf->a == cf->b ? na > 1 : (na && nb)) {
				fail(why, len, "node %zu holds conflicting groups %u and %u", i,
				     cf->a, cf->b);
				goto out;
			}
		}

		if (n->open_index >= 0) {
			const struct kerf_pack_open_node *on;
			if ((size_t)n->open_index >= p->n_open) {
				fail(why, len, "node %zu: open_index %d out of range", i,
				     n->open_index);
				goto out;
			}
			if (open_used[n->open_index]) {
				fail(why, len, "open node %d used twice", n->open_index);
				goto out;
			}
			open_used[n->open_index] = true;
			on = p->open[n->open_index];
			if (n->type != on->type || n->zone != on->zone ||
			    n->capacity_type != on->capacity_type || n->price != 0) {
				fail(why, len,
				     "node %zu does not match open node %d (type, zone, "
				     "capacity type, price 0)",
				     i, n->open_index);
				goto out;
			}
			for (size_t a = 0; a < n->n_assign; a++)
				if (!sorted_has(on->groups, on->n_groups, n->assign[a]->group)) {
					fail(why, len, "open node %d does not allow group %u",
					     n->open_index, n->assign[a]->group);
					goto out;
				}
			room = on->remaining;
		} else {
			const struct kerf_pack_type *ty;
			bool offered = false;
			if (n->open_index != -1 || n->nodepool >= p->n_pools ||
			    n->type >= p->n_types) {
				fail(why, len, "node %zu: bad open_index, nodepool or type", i);
				goto out;
			}
			ty = p->types[n->type];
			for (size_t a = 0; a < n->n_assign; a++) {
				const struct kerf_pack_group *g = p->groups[n->assign[a]->group];
				if (g->nodepool != n->nodepool) {
					fail(why, len,
					     "node %zu in pool %u holds group %u of pool %u", i,
					     n->nodepool, n->assign[a]->group, g->nodepool);
					goto out;
				}
				if (!sorted_has(g->types, g->n_types, n->type)) {
					fail(why, len, "node %zu: group %u does not allow type %s",
					     i, n->assign[a]->group, ty->name ? ty->name : "?");
					goto out;
				}
			}
			for (size_t o = 0; o < ty->n_offerings; o++)
				if (ty->offerings[o]->zone == n->zone &&
				    ty->offerings[o]->capacity_type == n->capacity_type &&
				    ty->offerings[o]->price == n->price)
					offered = true;
			if (!offered) {
				fail(why, len,
				     "node %zu: type %s has no offering in zone %u, capacity "
				     "type %d at price %lld",
				     i, ty->name ? ty->name : "?", n->zone, (int)n->capacity_type,
				     (long long)n->price);
				goto out;
			}
			if (__builtin_add_overflow(total, n->price, &total)) {
				fail(why, len, "total price overflows");
				goto out;
			}
			pool_nodes[n->nodepool]++;
			{
				const int64_t *cap = capacity_of(p, n->nodepool, n->type);
				int64_t *used = &pool_used[(size_t)n->nodepool * nd];
				for (size_t d = 0; d < nd; d++)
					if (__builtin_add_overflow(used[d], cap[d], &used[d]))
						used[d] = INT64_MAX;
			}
			room = ty->allocatable;
		}
		for (size_t d = 0; d < nd; d++)
			if (sum[d] > room[d]) {
				fail(why, len, "node %zu: %s %lld requested, %lld available", i,
				     p->dim_names[d], (long long)sum[d], (long long)room[d]);
				goto out;
			}

		/* Options: the types a launcher may use instead of the chosen one. */
		if (n->n_options == 0 || !n->options) {
			fail(why, len, "node %zu has no options", i);
			goto out;
		}
		if (!lists(n->options, n->n_options, n->type)) {
			fail(why, len, "node %zu: chosen type is not among its options", i);
			goto out;
		}
		for (size_t k = 0; k < n->n_options; k++) {
			uint32_t t = n->options[k];
			if (t >= p->n_types || lists(n->options, k, t)) {
				fail(why, len, "node %zu: option %zu bad or repeated", i, k);
				goto out;
			}
			if (n->open_index >= 0) {
				if (t != n->type) {
					fail(why, len, "open node %d offers another type",
					     n->open_index);
					goto out;
				}
				continue;
			}
			for (size_t d = 0; d < nd; d++)
				if (sum[d] > p->types[t]->allocatable[d]) {
					fail(why, len, "node %zu: option %s does not hold %s", i,
					     p->types[t]->name ? p->types[t]->name : "?",
					     p->dim_names[d]);
					goto out;
				}
			for (size_t a = 0; a < n->n_assign; a++)
				if (!sorted_has(p->groups[n->assign[a]->group]->types,
						p->groups[n->assign[a]->group]->n_types, t)) {
					fail(why, len,
					     "node %zu: option %s not allowed for group %u", i,
					     p->types[t]->name ? p->types[t]->name : "?",
					     n->assign[a]->group);
					goto out;
				}
			if (!type_offered_for(p, n, t)) {
				fail(why, len, "node %zu: option %s has no allowed offering", i,
				     p->types[t]->name ? p->types[t]->name : "?");
				goto out;
			}
		}
	}

	for (size_t i = 0; i < p->n_pools; i++) {
		const struct kerf_pack_pool *pp = p->pools[i];
		if (pool_nodes[i] > 0 && pool_nodes[i] > pp->nodes_remaining) {
			fail(why, len, "pool %s: %lld new nodes, %lld allowed",
			     pp->name ? pp->name : "?", (long long)pool_nodes[i],
			     (long long)pp->nodes_remaining);
			goto out;
		}
		for (size_t d = 0; d < nd; d++) {
			int64_t u = pool_used[i * nd + d];
			if (pp->remaining[d] != INT64_MAX && pool_nodes[i] > 0 &&
			    u > pp->remaining[d]) {
				fail(why, len, "pool %s: new nodes have %s %lld, limit leaves %lld",
				     pp->name ? pp->name : "?", p->dim_names[d], (long long)u,
				     (long long)pp->remaining[d]);
				goto out;
			}
		}
	}

	for (size_t u = 0; u < plan->n_unplaced; u++) {
		const struct kerf_pack_unplaced *un = plan->unplaced[u];
		if (un->group >= p->n_groups || un->count == 0) {
			fail(why, len, "unplaced %zu: bad group %u or count %u", u, un->group,
			     un->count);
			goto out;
		}
		if (!un->reason || !un->reason[0] || strchr(un->reason, '\n')) {
			fail(why, len, "unplaced group %u: reason missing or not one line",
			     un->group);
			goto out;
		}
		placed[un->group] += un->count;
	}
	for (size_t g = 0; g < p->n_groups; g++)
		if (placed[g] != p->groups[g]->count) {
			fail(why, len, "group %zu: %llu pods accounted for, %u in the group", g,
			     (unsigned long long)placed[g], p->groups[g]->count);
			goto out;
		}
	if (plan->total_price != total) {
		fail(why, len, "total_price %lld, new nodes sum to %lld",
		     (long long)plan->total_price, (long long)total);
		goto out;
	}
	if (plan->lower_bound < 0 || plan->lower_bound > plan->total_price) {
		fail(why, len, "lower_bound %lld outside [0, %lld]", (long long)plan->lower_bound,
		     (long long)plan->total_price);
		goto out;
	}
	if (plan->solve_ms < 0) {
		fail(why, len, "negative solve_ms");
		goto out;
	}
	rc = 0;
	if (why && len)
		why[0] = '\0';
out:
	free(placed);
	free(sum);
	free(pool_nodes);
	free(pool_used);
	free(open_used);
	return rc;
}
