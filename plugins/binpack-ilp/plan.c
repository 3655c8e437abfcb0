/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * plan.c - binpack-ilp's plans: an integer solution of the master rebuilt as
 * nodes with their options, the way FFD builds its own.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilp.h"

/* Options of a new node holding `a`, no larger than ref in the pool's limited dims. */
static size_t node_options(const struct solver *s, uint32_t pool, const struct ffd_assign *a,
			   size_t n, const int64_t *sum, int32_t zone, uint32_t mask,
			   const int64_t *ref_cap, struct ffd_option *opts)
{
	const struct kerf_pack_group *first = s->p->groups[a[0].group];
	size_t m = 0;

	for (size_t i = 0; i < first->n_types; i++) {
		uint32_t t = first->types[i];
		const int64_t *cap = ffd_capacity_of(s->p, pool, t);
		bool ok = true;
		for (size_t j = 1; j < n && ok; j++)
			ok = ffd_lists(s->p->groups[a[j].group]->types,
				       s->p->groups[a[j].group]->n_types, t);
		for (size_t d = 0; d < s->nd && ok; d++)
			ok = sum[d] <= s->p->types[t]->allocatable[d] &&
			     (!dim_limited(s, pool, d) || cap[d] <= ref_cap[d]);
		if (ok && ffd_best_offering(s->p, t, zone, mask, &opts[m]))
			m++;
	}
	qsort(opts, m, sizeof(*opts), ffd_option_cmp);
	return m;
}

/* Fills plan node pn for a new node of column c's pool holding a[0..n), but for the assignments. */
static void new_node(const struct solver *s, const struct column *c, const struct ffd_assign *a,
		     size_t n, struct kerf_pack_node *pn, struct ffd_option *opts)
{
	const struct kerf_pack_problem *p = s->p;
	int64_t *sum = zalloc(s, s->nd, sizeof(int64_t));
	const int64_t *ref_cap = ffd_capacity_of(s->p, c->pool, c->type);
	int32_t zone = -1;
	uint32_t mask = CT_ALL;
	size_t m;

	for (size_t j = 0; j < n; j++) {
		const struct kerf_pack_group *gr = p->groups[a[j].group];
		for (size_t d = 0; d < s->nd; d++)
			sum[d] += (int64_t)a[j].count * gr->request[d];
		if (gr->zone >= 0)
			zone = gr->zone;
		mask &= gr->capacity_types;
	}
	m = node_options(s, c->pool, a, n, sum, zone, mask, ref_cap, opts);
	if (m == 0 || opts[0].price > c->price)
		/* The priority picked a dearer capacity type: keep the column's. */
		m = node_options(s, c->pool, a, n, sum, zone, 1u << c->ct, ref_cap, opts);
	/* Every option for now: trim_options keeps those the limits and max_types allow. */
	pn->nodepool = c->pool;
	pn->zone = opts[0].zone;
	pn->capacity_type = opts[0].ct;
	pn->type = opts[0].type;
	pn->price = opts[0].price;
	pn->n_options = m;
	pn->options = zalloc(s, m, sizeof(uint32_t));
	for (size_t i = 0; i < m; i++)
		pn->options[i] = opts[i].type;
	hfree(s, sum);
}

/*
 * Why pods of group g are left out of this plan, from the plan itself: what
 * its pool has left once the plan's new nodes are charged (the chosen
 * type's capacity, as the master counts them), not what FFD's plan would
 * have left.
 */
static char *unplaced_reason(const struct solver *s, const struct kerf_pack_plan *plan, uint32_t g)
{
	const struct kerf_pack_problem *p = s->p;
	uint32_t pool = p->groups[g]->nodepool;
	const struct kerf_pack_pool *pp = p->pools[pool];
	int64_t *rem = zalloc(s, p->n_dims, sizeof(int64_t));
	int64_t nodes = pp->nodes_remaining;
	char buf[256];
	char *out;

	memcpy(rem, pp->remaining, p->n_dims * sizeof(int64_t));
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		const int64_t *cap;
		if (n->open_index >= 0 || n->nodepool != pool)
			continue;
		cap = ffd_capacity_of(p, pool, n->type);
		for (size_t d = 0; d < p->n_dims; d++)
			if (rem[d] != INT64_MAX)
				rem[d] = rem[d] > cap[d] ? rem[d] - cap[d] : 0;
		if (nodes != INT64_MAX && nodes > 0)
			nodes--;
	}
	if (!ffd_explain(p, g, rem, nodes, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf),
			 "nodepool %s limits leave no room for these pods in the cheapest plan",
			 pp->name ? pp->name : "?");
	hfree(s, rem);
	out = s->host->strdup(s->host->ctx, buf);
	return out;
}

/*
 * The plan of an integer solution x (by column, 1-based, slacks first):
 * columns in index order take what their groups still need.
 */
struct kerf_pack_plan *ilp_plan_of(struct solver *s, const double *x)
{
	const struct kerf_pack_problem *p = s->p;
	struct kerf_pack_plan *plan = kerf_pack_plan_new();
	uint32_t *need = zalloc(s, s->ng, sizeof(uint32_t));
	struct ffd_option *opts = zalloc(s, p->n_types, sizeof(*opts));

	for (size_t g = 0; g < s->ng; g++)
		need[g] = p->groups[g]->count;
	for (size_t j = 0; j < s->ncol; j++) {
		const struct column *c = &s->cols[j];
		long mult = lround(x[s->ng + 1 + j]);
		for (long r = 0; r < mult; r++) {
			struct ffd_assign *a = zalloc(s, c->n, sizeof(*a));
			struct kerf_pack_node *pn;
			size_t n = 0;
			for (size_t i = 0; i < c->n; i++) {
				uint32_t take = c->a[i].count < need[c->a[i].group]
						    ? c->a[i].count
						    : need[c->a[i].group];
				if (!take)
					continue;
				need[c->a[i].group] -= take;
				a[n].group = c->a[i].group;
				a[n].count = take;
				n++;
			}
			if (n == 0) {
				hfree(s, a);
				break;
			}
			pn = kerf_pack_plan_add_node(plan);
			if (c->open >= 0) {
				pn->open_index = c->open;
				pn->nodepool = p->groups[a[0].group]->nodepool;
				pn->zone = p->open[c->open]->zone;
				pn->capacity_type = p->open[c->open]->capacity_type;
				pn->type = p->open[c->open]->type;
				pn->n_options = 1;
				pn->options = zalloc(s, 1, sizeof(uint32_t));
				pn->options[0] = pn->type;
			} else {
				new_node(s, c, a, n, pn, opts);
				plan->total_price += pn->price;
			}
			ffd_plan_assign(pn, a, n);
			hfree(s, a);
		}
	}
	for (size_t g = 0; g < s->ng; g++) {
		struct kerf_pack_unplaced *un;
		if (!need[g])
			continue;
		un = kerf_pack_plan_add_unplaced(plan);
		un->group = (uint32_t)g;
		un->count = need[g];
		un->reason = unplaced_reason(s, plan, g);
	}
	hfree(s, opts);
	hfree(s, need);
	return plan;
}

uint64_t ilp_placed_pods(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan)
{
	uint64_t n = 0;

	for (size_t g = 0; g < p->n_groups; g++)
		n += p->groups[g]->count;
	for (size_t u = 0; u < plan->n_unplaced; u++)
		n -= plan->unplaced[u]->count;
	return n;
}
