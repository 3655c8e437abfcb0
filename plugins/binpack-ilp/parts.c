/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parts.c - binpack-ilp's batches: split into independent parts, large ones
 * cut into pieces solved in sequence, the batch's own bounds, and the
 * packer's solve.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "ilp.h"

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	/* The smaller index is the root, so parts come out in group order. */
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

/* True when pool i's node or resource limits could stop some plan of the batch. */
static bool pool_binds(const struct kerf_pack_problem *p, size_t i)
{
	const struct kerf_pack_pool *pp = p->pools[i];

	if (pp->nodes_remaining != INT64_MAX)
		return true;
	for (size_t d = 0; d < p->n_dims; d++) {
		int64_t most = 0, need = 0, worst;
		if (pp->remaining[d] == INT64_MAX)
			continue;
		for (size_t t = 0; t < p->n_types; t++)
			if (ffd_capacity_of(p, (uint32_t)i, t)[d] > most)
				most = ffd_capacity_of(p, (uint32_t)i, t)[d];
		/* At worst every pod gets a node of its own, of the largest type. */
		for (size_t g = 0; g < p->n_groups; g++)
			if (p->groups[g]->nodepool == i &&
			    (__builtin_mul_overflow((int64_t)p->groups[g]->count, most, &worst) ||
			     __builtin_add_overflow(need, worst, &need)))
				return true;
		if (need > pp->remaining[d])
			return true;
	}
	return false;
}

/*
 * Splits the batch into parts no node, open node or binding pool limit
 * spans: groups are joined when one type (in one pool) could hold both,
 * when one open node takes both, or when they share a pool whose limits
 * could bind.  Parts are solved one after the other, each with its share of
 * the budget, and nothing one does changes what another may do.  part_of
 * gets each group's part (UINT32_MAX for empty groups); returns how many.
 */
static size_t split_parts(const struct kerf_host *host, const struct kerf_pack_problem *p,
			  uint32_t *part_of)
{
	size_t ng = p->n_groups, n = 0;
	uint32_t *parent = host->calloc(host->ctx, ng ? ng : 1, sizeof(uint32_t));
	int64_t *last = host->calloc(host->ctx, p->n_pools * p->n_types + 1, sizeof(int64_t));
	uint32_t *id = host->calloc(host->ctx, ng ? ng : 1, sizeof(uint32_t));

	for (size_t g = 0; g < ng; g++)
		parent[g] = (uint32_t)g;
	for (size_t i = 0; i < p->n_pools * p->n_types; i++)
		last[i] = -1;
	for (size_t g = 0; g < ng; g++) {
		const struct kerf_pack_group *gr = p->groups[g];
		if (!gr->count)
			continue;
		for (size_t i = 0; i < gr->n_types; i++) {
			int64_t *l = &last[(size_t)gr->nodepool * p->n_types + gr->types[i]];
			if (*l >= 0)
				uf_union(parent, (uint32_t)*l, (uint32_t)g);
			*l = (int64_t)g;
		}
	}
	for (size_t i = 0; i < p->n_pools; i++) {
		int64_t first = -1;
		if (!pool_binds(p, i))
			continue;
		for (size_t g = 0; g < ng; g++) {
			if (p->groups[g]->nodepool != i || !p->groups[g]->count)
				continue;
			if (first >= 0)
				uf_union(parent, (uint32_t)first, (uint32_t)g);
			else
				first = (int64_t)g;
		}
	}
	for (size_t o = 0; o < p->n_open; o++) {
		int64_t first = -1;
		for (size_t i = 0; i < p->open[o]->n_groups; i++) {
			uint32_t g = p->open[o]->groups[i];
			if (!p->groups[g]->count)
				continue;
			if (first >= 0)
				uf_union(parent, (uint32_t)first, g);
			else
				first = g;
		}
	}
	for (size_t g = 0; g < ng; g++) {
		uint32_t r;
		if (!p->groups[g]->count) {
			part_of[g] = UINT32_MAX;
			continue;
		}
		r = uf_find(parent, (uint32_t)g);
		/* Roots are the smallest index of their part, so they are met first. */
		if (r == g)
			id[g] = (uint32_t)n++;
		part_of[g] = id[r];
	}
	host->free(host->ctx, parent);
	host->free(host->ctx, last);
	host->free(host->ctx, id);
	return n;
}

/* Moves part's nodes and unplaced pods to the end of plan, and frees part. */
static void plan_append(const struct kerf_host *host, struct kerf_pack_plan *plan,
			struct kerf_pack_plan *part)
{
	plan->nodes = host->realloc(host->ctx, plan->nodes,
				    (plan->n_nodes + part->n_nodes + 1) * sizeof(*plan->nodes));
	if (part->n_nodes)
		memcpy(&plan->nodes[plan->n_nodes], part->nodes,
		       part->n_nodes * sizeof(*plan->nodes));
	plan->n_nodes += part->n_nodes;
	plan->unplaced =
	    host->realloc(host->ctx, plan->unplaced,
			  (plan->n_unplaced + part->n_unplaced + 1) * sizeof(*plan->unplaced));
	if (part->n_unplaced)
		memcpy(&plan->unplaced[plan->n_unplaced], part->unplaced,
		       part->n_unplaced * sizeof(*plan->unplaced));
	plan->n_unplaced += part->n_unplaced;
	plan->total_price += part->total_price;
	plan->lower_bound += part->lower_bound;
	/* The contents are plan's now: only the shells go. */
	part->n_nodes = part->n_unplaced = 0;
	kerf_pack_plan_free(part);
}

/*
 * What the parts solved so far took, as the problem the next part sees:
 * pools with what their limits still allow, open nodes with the room left
 * and only the groups that conflict with nothing placed there.  The
 * sub-problem never leaves this packer, so its objects are copies of the
 * fields this build knows, laid out in arrays the lists point into.
 */
struct taken {
	struct kerf_pack_problem sub;
	struct kerf_pack_group *groups;
	const struct kerf_pack_group **group_list;
	struct kerf_pack_pool *pools;
	const struct kerf_pack_pool **pool_list;
	int64_t *rem; /* n_pools * nd */
	struct kerf_pack_open_node *open;
	const struct kerf_pack_open_node **open_list;
	int64_t *orem;	   /* n_open * nd */
	uint32_t *ogroups; /* each open node's groups still allowed, at ooff[o] */
	size_t *ooff;
	uint8_t *on_open; /* n_open * n_groups: placed there */
	size_t *conf_off; /* conflicts as adjacency lists */
	uint32_t *conf;
	/* The earlier pieces' new nodes, open to the next ones after the batch's own. */
	size_t n_open0, base_og, cap_open, cap_og;
	uint32_t *carried; /* per carried open node, its node in the plan so far */
	uint8_t *mark;	   /* per group, scratch of taken_carry */
};

static void taken_init(const struct kerf_host *host, const struct kerf_pack_problem *p,
		       struct taken *t)
{
	size_t nd = p->n_dims, n = 0;

	memset(t, 0, sizeof(*t));
	t->sub = *p;
	t->groups = host->calloc(host->ctx, p->n_groups + 1, sizeof(*t->groups));
	t->group_list = host->calloc(host->ctx, p->n_groups + 1, sizeof(*t->group_list));
	for (size_t g = 0; g < p->n_groups; g++)
		t->group_list[g] = &t->groups[g];
	t->pools = host->calloc(host->ctx, p->n_pools + 1, sizeof(*t->pools));
	t->pool_list = host->calloc(host->ctx, p->n_pools + 1, sizeof(*t->pool_list));
	t->rem = host->calloc(host->ctx, p->n_pools * nd + 1, sizeof(int64_t));
	for (size_t i = 0; i < p->n_pools; i++) {
		t->pools[i] = *p->pools[i];
		memcpy(&t->rem[i * nd], p->pools[i]->remaining, nd * sizeof(int64_t));
		t->pools[i].remaining = &t->rem[i * nd];
		t->pool_list[i] = &t->pools[i];
	}
	t->open = host->calloc(host->ctx, p->n_open + 1, sizeof(*t->open));
	t->open_list = host->calloc(host->ctx, p->n_open + 1, sizeof(*t->open_list));
	t->orem = host->calloc(host->ctx, p->n_open * nd + 1, sizeof(int64_t));
	t->ooff = host->calloc(host->ctx, p->n_open + 1, sizeof(size_t));
	for (size_t o = 0; o < p->n_open; o++)
		n += p->open[o]->n_groups;
	t->ogroups = host->calloc(host->ctx, n + 1, sizeof(uint32_t));
	for (size_t o = 0, off = 0; o < p->n_open; o++) {
		t->open[o] = *p->open[o];
		t->open_list[o] = &t->open[o];
		memcpy(&t->orem[o * nd], p->open[o]->remaining, nd * sizeof(int64_t));
		t->open[o].remaining = &t->orem[o * nd];
		t->ooff[o] = off;
		memcpy(&t->ogroups[off], p->open[o]->groups,
		       p->open[o]->n_groups * sizeof(uint32_t));
		t->open[o].groups = &t->ogroups[off];
		off += p->open[o]->n_groups;
	}
	t->on_open = host->calloc(host->ctx, p->n_open * p->n_groups + 1, 1);
	t->conf_off = host->calloc(host->ctx, p->n_groups + 1, sizeof(size_t));
	t->conf = host->calloc(host->ctx, 2 * p->n_conflicts + 1, sizeof(uint32_t));
	for (size_t c = 0; c < p->n_conflicts; c++) {
		t->conf_off[p->conflicts[c]->a + 1]++;
		t->conf_off[p->conflicts[c]->b + 1]++;
	}
	for (size_t g = 0; g < p->n_groups; g++)
		t->conf_off[g + 1] += t->conf_off[g];
	{
		size_t *fill = host->calloc(host->ctx, p->n_groups + 1, sizeof(size_t));
		for (size_t c = 0; c < p->n_conflicts; c++) {
			uint32_t a = p->conflicts[c]->a, b = p->conflicts[c]->b;
			t->conf[t->conf_off[a] + fill[a]++] = b;
			t->conf[t->conf_off[b] + fill[b]++] = a;
		}
		host->free(host->ctx, fill);
	}
	t->n_open0 = t->cap_open = p->n_open;
	t->base_og = t->cap_og = n;
	t->mark = host->calloc(host->ctx, p->n_groups + 1, 1);
	t->sub.groups = t->group_list;
	t->sub.pools = t->pool_list;
	t->sub.open = t->open_list;
}

static void taken_free(const struct kerf_host *host, struct taken *t)
{
	host->free(host->ctx, t->groups);
	host->free(host->ctx, t->group_list);
	host->free(host->ctx, t->pools);
	host->free(host->ctx, t->pool_list);
	host->free(host->ctx, t->rem);
	host->free(host->ctx, t->open);
	host->free(host->ctx, t->open_list);
	host->free(host->ctx, t->orem);
	host->free(host->ctx, t->ooff);
	host->free(host->ctx, t->ogroups);
	host->free(host->ctx, t->on_open);
	host->free(host->ctx, t->conf_off);
	host->free(host->ctx, t->conf);
	host->free(host->ctx, t->carried);
	host->free(host->ctx, t->mark);
}

/* Charges a part's plan to what the next parts may use. */
static void taken_charge(const struct kerf_pack_problem *p, struct taken *t,
			 const struct kerf_pack_plan *pp)
{
	size_t nd = p->n_dims;

	for (size_t i = 0; i < pp->n_nodes; i++) {
		const struct kerf_pack_node *n = pp->nodes[i];
		if (n->open_index < 0) {
			const int64_t *cap = ffd_capacity_of(p, n->nodepool, n->type);
			for (size_t d = 0; d < nd; d++)
				if (t->rem[n->nodepool * nd + d] != INT64_MAX)
					t->rem[n->nodepool * nd + d] -= cap[d];
			if (t->pools[n->nodepool].nodes_remaining != INT64_MAX)
				t->pools[n->nodepool].nodes_remaining--;
			continue;
		}
		size_t o = (size_t)n->open_index, keep = 0;
		uint8_t *on = &t->on_open[o * p->n_groups];
		if (o >= t->n_open0)
			continue; /* taken_carry sees the merged plan */
		for (size_t a = 0; a < n->n_assign; a++) {
			const struct kerf_pack_assignment *as = n->assign[a];
			on[as->group] = 1;
			for (size_t d = 0; d < nd; d++)
				t->orem[o * nd + d] -=
				    (int64_t)as->count * p->groups[as->group]->request[d];
		}
		/* Groups in conflict with one now on the node may no longer go there. */
		for (size_t k = 0; k < t->open[o].n_groups; k++) {
			uint32_t g = t->ogroups[t->ooff[o] + k];
			bool clash = false;
			for (size_t e = t->conf_off[g]; e < t->conf_off[g + 1] && !clash; e++)
				clash = on[t->conf[e]] != 0;
			if (!clash)
				t->ogroups[t->ooff[o] + keep++] = g;
		}
		t->open[o].n_groups = keep;
	}
}

/*
 * Offers the plan's new nodes to the next pieces as open nodes, at no
 * price: with the room their pods leave, to the groups of their pool that
 * list their type, allow their offering and conflict with nothing on them.
 * Only pieces of cut components take them: a whole component shares no
 * type of a pool with another, and its bound assumes the batch's open
 * nodes alone.
 */
static void taken_carry(const struct kerf_host *host, const struct kerf_pack_problem *p,
			struct taken *t, const struct kerf_pack_plan *plan, const uint32_t *part_of,
			const bool *whole)
{
	size_t nd = p->n_dims, o = t->n_open0, og = t->base_og;

	for (size_t j = 0; j < plan->n_nodes; j++) {
		const struct kerf_pack_node *n = plan->nodes[j];
		const struct kerf_pack_type *ty = p->types[n->type];
		size_t from = og;
		if (n->open_index >= 0)
			continue;
		if (o == t->cap_open) {
			t->cap_open = t->cap_open * 2 + 64;
			t->open = host->realloc(host->ctx, t->open, t->cap_open * sizeof(*t->open));
			t->open_list = host->realloc(host->ctx, t->open_list,
						     t->cap_open * sizeof(*t->open_list));
			t->orem =
			    host->realloc(host->ctx, t->orem, t->cap_open * nd * sizeof(int64_t));
			t->ooff = host->realloc(host->ctx, t->ooff, t->cap_open * sizeof(size_t));
			t->carried =
			    host->realloc(host->ctx, t->carried, t->cap_open * sizeof(uint32_t));
		}
		if (og + p->n_groups > t->cap_og) {
			t->cap_og = (og + p->n_groups) * 2;
			t->ogroups =
			    host->realloc(host->ctx, t->ogroups, t->cap_og * sizeof(uint32_t));
		}
		memcpy(&t->orem[o * nd], ty->allocatable, nd * sizeof(int64_t));
		for (size_t a = 0; a < n->n_assign; a++) {
			uint32_t g = n->assign[a]->group;
			t->mark[g] = 1;
			for (size_t e = t->conf_off[g]; e < t->conf_off[g + 1]; e++)
				t->mark[t->conf[e]] = 1;
			for (size_t d = 0; d < nd; d++)
				t->orem[o * nd + d] -=
				    (int64_t)n->assign[a]->count * p->groups[g]->request[d];
		}
		for (size_t g = 0; g < p->n_groups; g++) {
			const struct kerf_pack_group *gr = p->groups[g];
			if (!t->mark[g] && part_of[g] != UINT32_MAX && !whole[part_of[g]] &&
			    gr->nodepool == n->nodepool &&
			    ilp_group_allows(gr, n->zone, n->capacity_type) &&
			    ffd_lists(gr->types, gr->n_types, n->type))
				t->ogroups[og++] = (uint32_t)g;
			t->mark[g] = 0;
		}
		t->open[o] = (struct kerf_pack_open_node){.type = n->type,
							  .zone = n->zone,
							  .capacity_type = n->capacity_type,
							  .n_groups = og - from};
		t->ooff[o] = from;
		t->carried[o - t->n_open0] = (uint32_t)j;
		o++;
	}
	/* The arrays may have moved: every open node points into them again. */
	for (size_t k = 0; k < o; k++) {
		t->open[k].remaining = &t->orem[k * nd];
		t->open[k].groups = &t->ogroups[t->ooff[k]];
		t->open_list[k] = &t->open[k];
	}
	t->sub.open = t->open_list;
	t->sub.n_open = o;
}

/*
 * Narrows a node's options to those that still hold its pods, now that
 * pods of other groups joined it: listed by every group on it, with an
 * offering they all allow, and room for the lot.  Its own type stays.
 */
static void node_narrow(const struct kerf_host *host, const struct kerf_pack_problem *p,
			struct kerf_pack_node *n)
{
	int64_t *sum = host->calloc(host->ctx, p->n_dims + 1, sizeof(int64_t));
	uint32_t mask = CT_ALL;
	int32_t zone = -1;
	size_t keep = 0;

	for (size_t a = 0; a < n->n_assign; a++) {
		const struct kerf_pack_group *gr = p->groups[n->assign[a]->group];
		for (size_t d = 0; d < p->n_dims; d++)
			sum[d] += (int64_t)n->assign[a]->count * gr->request[d];
		if (gr->zone >= 0)
			zone = gr->zone;
		mask &= gr->capacity_types;
	}
	for (size_t k = 0; k < n->n_options; k++) {
		uint32_t u = n->options[k];
		struct ffd_option opt;
		bool ok = u == n->type || ffd_best_offering(p, u, zone, mask, &opt);
		for (size_t a = 0; a < n->n_assign && ok; a++)
			ok = ffd_lists(p->groups[n->assign[a]->group]->types,
				       p->groups[n->assign[a]->group]->n_types, u);
		for (size_t d = 0; d < p->n_dims && ok; d++)
			ok = sum[d] <= p->types[u]->allocatable[d];
		if (ok)
			n->options[keep++] = u;
	}
	n->n_options = keep;
	host->free(host->ctx, sum);
}

/*
 * Moves part's nodes and unplaced pods to plan: an open node already in
 * plan, or a node of an earlier piece the part saw as open, takes its pods.
 */
static void plan_merge(const struct kerf_host *host, const struct kerf_pack_problem *p,
		       const struct taken *t, struct kerf_pack_plan *plan,
		       struct kerf_pack_plan *part)
{
	size_t keep = 0;

	for (size_t i = 0; i < part->n_nodes; i++) {
		struct kerf_pack_node *n = part->nodes[i], *into = NULL;
		if (n->open_index >= (int32_t)t->n_open0)
			into = plan->nodes[t->carried[n->open_index - (int32_t)t->n_open0]];
		for (size_t j = 0; j < plan->n_nodes && n->open_index >= 0 && !into; j++)
			if (plan->nodes[j]->open_index == n->open_index)
				into = plan->nodes[j];
		if (!into) {
			part->nodes[keep++] = n;
			continue;
		}
		/* The assignments move over; the rest of n goes. */
		into->assign =
		    host->realloc(host->ctx, into->assign,
				  (into->n_assign + n->n_assign) * sizeof(*into->assign));
		memcpy(&into->assign[into->n_assign], n->assign, n->n_assign * sizeof(*n->assign));
		into->n_assign += n->n_assign;
		n->n_assign = 0;
		if (into->open_index < 0)
			node_narrow(host, p, into);
		kerf_pack_node_free(n);
	}
	part->n_nodes = keep;
	plan_append(host, plan, part);
}

/*
 * mine/left of `work` (0 when none is left), without the product that
 * overflows when the work limit is near its largest.
 */
static int64_t share(int64_t work, size_t mine, size_t left)
{
	if (work <= 0 || left == 0)
		return 0;
	return work / (int64_t)left * (int64_t)mine +
	       work % (int64_t)left * (int64_t)mine / (int64_t)left;
}

/*
 * The parts one after the other, each with its share of what is left of
 * the budget (by its number of groups), each seeing what the earlier ones
 * took, their plans joined.  whole[c] says part c is all of its component:
 * only those bounds add up (components share nothing), and only when every
 * pod is placed; a piece of a component split for size proves nothing for
 * the component.
 */
static int solve_parts(const struct ilp *ip, struct ilp_clock *clk,
		       const struct kerf_pack_problem *problem, const uint32_t *part_of,
		       const bool *whole, size_t n_parts, int64_t deadline,
		       struct kerf_pack_plan **out, struct kerf_error *err)
{
	const struct kerf_host *host = ip->host;
	/*
	 * The gap is the batch's: a part that cannot reach it leaves the others
	 * to make up for it, and small parts close their gap for next to no
	 * time.  Pieces of a cut component prove nothing, so they need not.
	 */
	struct ilp tight = *ip;
	struct taken t;
	struct kerf_pack_plan *plan = kerf_pack_plan_new();
	size_t left = 0;
	int rc = 0;

	tight.gap_bps = ip->gap_bps / 4;
	taken_init(host, problem, &t);
	for (size_t g = 0; g < problem->n_groups; g++)
		if (part_of[g] != UINT32_MAX)
			left++;
	for (uint32_t part = 0; part < n_parts && rc == 0; part++) {
		struct kerf_pack_plan *pp = NULL;
		int64_t now = ilp_now(clk);
		size_t mine = 0;
		for (size_t g = 0; g < problem->n_groups; g++) {
			t.groups[g] = *problem->groups[g];
			if (part_of[g] != part)
				t.groups[g].count = 0;
			else
				mine++;
		}
		rc = ilp_solve_part(whole[part] ? &tight : ip, clk, &t.sub, NULL, now,
				    now + share(deadline - now, mine, left), &pp, err);
		left -= mine;
		if (rc)
			break;
		taken_charge(problem, &t, pp);
		if (!whole[part])
			pp->lower_bound = 0;
		plan_merge(host, problem, &t, plan, pp);
		if (part + 1 < n_parts && !whole[part + 1])
			taken_carry(host, problem, &t, plan, part_of, whole);
	}
	taken_free(host, &t);
	if (rc) {
		kerf_pack_plan_free(plan);
		return rc;
	}
	if (plan->n_unplaced)
		plan->lower_bound = 0;
	*out = plan;
	return 0;
}

/*
 * Cuts components (comp, n_comp of them) of more than ILP_PART_GROUPS
 * groups into pieces of that many: a master that large does not converge
 * within a budget, a piece's may.  Groups in conflict or capped per node
 * come first, in group order, then the rest: those groups decide how many
 * nodes there are, and later pieces fill the room they leave (see
 * taken_carry), where a piece coming after would find too few nodes and
 * open more.  The rest are dealt out by size (the sum of each dimension's
 * share of the batch), every stride-th to one piece, so each piece holds
 * pods of every size and can fill its nodes with the small ones around
 * the large ones, as one master over the whole component would.  On the
 * Karpenter workload this plans 10.5 % from the bound against 11.8 % in
 * group order, and 13.4 % against 18.3 % at 5,000 pods; pieces in
 * decreasing size, FFD's order, did worse at 5,000 (24 %).  Fills
 * part_of (empty groups: UINT32_MAX) and whole (part p is a whole
 * component); returns the number of parts.
 */
static size_t cut_parts(const struct kerf_host *host, const struct kerf_pack_problem *p,
			const uint32_t *comp, size_t n_comp, uint32_t *part_of, bool *whole)
{
	bool *spreads = host->calloc(host->ctx, p->n_groups + 1, sizeof(bool));
	struct ratio *order = host->calloc(host->ctx, p->n_groups + 1, sizeof(*order));
	double *total = host->calloc(host->ctx, p->n_dims + 1, sizeof(double));
	size_t n = 0;

	for (size_t g = 0; g < p->n_groups; g++) {
		part_of[g] = UINT32_MAX;
		spreads[g] = p->groups[g]->max_per_node > 0;
		for (size_t d = 0; d < p->n_dims; d++)
			total[d] += (double)p->groups[g]->request[d] * p->groups[g]->count;
	}
	for (size_t c = 0; c < p->n_conflicts; c++)
		spreads[p->conflicts[c]->a] = spreads[p->conflicts[c]->b] = true;
	for (size_t g = 0; g < p->n_groups; g++) {
		order[g].item = (uint32_t)g;
		for (size_t d = 0; d < p->n_dims; d++)
			if (total[d] > 0)
				order[g].r += (double)p->groups[g]->request[d] / total[d];
	}
	qsort(order, p->n_groups, sizeof(*order), ilp_ratio_cmp);
	for (size_t c = 0; c < n_comp; c++) {
		size_t in = 0, first = n, plain = 0, stride;
		for (size_t g = 0; g < p->n_groups; g++)
			if (comp[g] == c && spreads[g])
				part_of[g] = (uint32_t)(first + in++ / ILP_PART_GROUPS);
		for (size_t g = 0; g < p->n_groups; g++)
			plain += comp[g] == c && !spreads[g];
		stride = (plain + ILP_PART_GROUPS - 1) / ILP_PART_GROUPS;
		for (size_t r = 0; r < stride; r++)
			for (size_t i = 0, k = 0; i < p->n_groups; i++) {
				uint32_t g = order[i].item;
				if (comp[g] != c || spreads[g])
					continue;
				if (k++ % stride == r)
					part_of[g] = (uint32_t)(first + in++ / ILP_PART_GROUPS);
			}
		n = first + (in + ILP_PART_GROUPS - 1) / ILP_PART_GROUPS;
		for (size_t k = first; k < n; k++)
			whole[k] = n - first == 1;
	}
	host->free(host->ctx, total);
	host->free(host->ctx, order);
	host->free(host->ctx, spreads);
	return n;
}

/* A clique's new-node kinds, as a bit set, for sorting equal sets together. */
struct kset {
	uint64_t hash;
	uint32_t c;
};

static int kset_cmp(const void *a, const void *b)
{
	const struct kset *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->c < y->c ? -1 : x->c > y->c;
}

/* Appends one row of the count bound's LP: coefficient coef(k) on every kind in set. */
static void count_row(struct solver *s, glp_prob *lp, const uint64_t *set, double rhs,
		      const double *coef, int *ia, int *ja, double *ar, int *nz)
{
	int row = glp_add_rows(lp, 1);

	glp_set_row_bnds(lp, row, GLP_LO, rhs, 0);
	for (size_t k = 0; k < s->nk; k++)
		if (s->kinds[k].open < 0 && (!set || (set[k / 64] >> (k % 64) & 1)) &&
		    coef[k] > 0) {
			++*nz;
			ia[*nz] = row;
			ja[*nz] = (int)k + 1;
			ar[*nz] = coef[k];
		}
}

/*
 * The count bound: new nodes needed by conflicts and per-node caps.
 * Cliques are the greedy ones of find_cliques; a group alone is a clique
 * too.  Take a plan placing every pod, with x_k new nodes of kind k.
 *
 *  - Conflicting groups never share a node, so the nodes hosting a clique
 *    C's pods host one group of C each, and group g needs at least
 *    ceil(count_g / cap_g) of them, cap_g being the most pods of g any of
 *    its kinds (new or open) holds under max_per_node.  At most one per
 *    open node taking a group of C is open, so with n_C such open nodes
 *    the new nodes hosting C number at least need_C = sum_g ceil(count_g /
 *    cap_g) - n_C, and all are of kinds taking some group of C:
 *    sum_{k in K_C} x_k >= need_C.
 *  - C's pods not on open nodes need room on nodes of K_C: for each
 *    dimension, sum_{k in K_C} room_kd x_k >= max(0, sum_{g in C} count_g
 *    req_gd - sum of those open nodes' remaining room).  Cliques' pods are
 *    disjoint, so cliques with the same K_C add their rooms up and keep
 *    the largest need; the whole batch gives one more such row over all
 *    kinds.
 *
 * Dominated kinds are left out: the kind dominating one takes the same
 * groups with no less room at no higher price, so any solution of the LP
 * stays feasible and no dearer with it instead.  The LP min sum_k c_k x_k,
 * x >= 0, over these rows relaxes every such plan, so any y >= 0 with
 * A^T y <= c bounds it by b.y: GLPK's row duals, clamped to >= 0 and
 * divided by max(1, max_k (A^T y)_k / c_k), are such a y whether or not
 * the simplex finished, and floating-point error is left to ilp_bound_micro's
 * margin.  Returns the bound in dollars, 0 when none is proven.
 */
static double count_bound(struct solver *s, int64_t until)
{
	const struct kerf_pack_problem *p = s->p;
	size_t nd = s->nd, ng = s->ng, nk = s->nk, words = (s->nk + 63) / 64, nsets = 0;
	uint32_t *cap = zalloc(s, ng, sizeof(uint32_t));
	size_t *stamp = zalloc(s, ng, sizeof(size_t));
	uint64_t *set = zalloc(s, ng * words, sizeof(uint64_t));
	double *need = zalloc(s, ng, sizeof(double)), *vol = zalloc(s, ng * nd, sizeof(double));
	double *all = zalloc(s, nd, sizeof(double)), *coef = zalloc(s, nk, sizeof(double));
	double *col = zalloc(s, nk, sizeof(double));
	struct kset *ks = zalloc(s, ng, sizeof(struct kset));
	int *ia = NULL, *ja = NULL;
	double *ar = NULL, bound = 0, worst = 1, by = 0;
	glp_prob *lp = NULL;
	size_t max_nz = 1;
	int nz = 0;
	bool ok = true;

	for (size_t k = 0; k < nk; k++) {
		const struct bkind *b = &s->kinds[k];
		for (size_t i = 0; i < b->ng; i++) {
			uint32_t g = s->kg[b->goff + i];
			uint32_t n = fits(nd, b->room, p->groups[g]->request, per_node_cap(s, g));
			if (n > cap[g])
				cap[g] = n;
			if (b->open < 0)
				set[s->clique[g] * words + k / 64] |= 1ull << (k % 64);
		}
	}
	for (size_t g = 0; g < ng && ok; g++) {
		const struct kerf_pack_group *gr = p->groups[g];
		double *v = &vol[s->clique[g] * nd];
		if (gr->count == 0)
			continue;
		/* A group no node holds leaves pods unplaced: this bound is for plans that place
		 * all. */
		ok = cap[g] > 0;
		need[s->clique[g]] += (gr->count + (uint64_t)cap[g] - 1) / (cap[g] ? cap[g] : 1);
		for (size_t d = 0; d < nd; d++) {
			v[d] += (double)gr->count * (double)gr->request[d];
			all[d] += (double)gr->count * (double)gr->request[d];
		}
	}
	for (size_t k = 0; k < nk && ok; k++) {
		const struct bkind *b = &s->kinds[k];
		if (b->open < 0)
			continue;
		for (size_t d = 0; d < nd; d++)
			all[d] -= (double)b->room[d];
		for (size_t i = 0; i < b->ng; i++) {
			uint32_t c = s->clique[s->kg[b->goff + i]];
			if (stamp[c] == k + 1)
				continue;
			stamp[c] = k + 1;
			need[c] -= 1;
			for (size_t d = 0; d < nd; d++)
				vol[c * nd + d] -= (double)b->room[d];
		}
	}
	/* Equal kind sets merge into the first clique of their run. */
	for (size_t c = 0; c < ng && ok; c++) {
		uint64_t h = 0;
		bool any = need[c] > 0;
		for (size_t d = 0; d < nd; d++) {
			if (vol[c * nd + d] < 0)
				vol[c * nd + d] = 0;
			any = any || vol[c * nd + d] > 0;
		}
		if (!any)
			continue;
		for (size_t w = 0; w < words; w++)
			h = mix(h, set[c * words + w]);
		ks[nsets].hash = h;
		ks[nsets++].c = (uint32_t)c;
	}
	if (nsets)
		qsort(ks, nsets, sizeof(*ks), kset_cmp);
	for (size_t i = 0; i < nsets && ok; i++) {
		uint32_t c = ks[i].c;
		bool merged = false;
		for (size_t j = i; j-- > 0 && ks[j].hash == ks[i].hash && !merged;) {
			uint32_t m = ks[j].c;
			if (m == UINT32_MAX ||
			    memcmp(&set[c * words], &set[m * words], words * sizeof(uint64_t)))
				continue;
			if (need[c] > need[m])
				need[m] = need[c];
			for (size_t d = 0; d < nd; d++)
				vol[m * nd + d] += vol[c * nd + d];
			merged = true;
		}
		if (merged) {
			ks[i].c = UINT32_MAX;
			continue;
		}
		for (size_t k = 0; k < nk; k++)
			max_nz += (nd + 1) * (set[c * words + k / 64] >> (k % 64) & 1);
	}
	max_nz += nd * nk;
	/* Building the LP and setting up its simplex cost about its size: it needs that much left.
	 */
	if (ok && ilp_now(s->clk) + (int64_t)(2 * max_nz / ILP_WORK_NZ) < until) {
		lp = glp_create_prob();
		glp_set_obj_dir(lp, GLP_MIN);
		glp_add_cols(lp, (int)nk);
		for (size_t k = 0; k < nk; k++) {
			glp_set_col_bnds(lp, (int)k + 1, GLP_LO, 0, 0);
			glp_set_obj_coef(
			    lp, (int)k + 1,
			    s->kinds[k].open < 0 ? (double)s->kinds[k].price / ILP_MICRO : 0);
		}
		ia = zalloc(s, max_nz + 1, sizeof(int));
		ja = zalloc(s, max_nz + 1, sizeof(int));
		ar = zalloc(s, max_nz + 1, sizeof(double));
	}
	for (size_t i = 0; i <= nsets && lp; i++) {
		/* The rows of each kind set (scaled to a right-hand side of 1), then the batch's.
		 */
		const uint64_t *ks_set = i < nsets ? &set[ks[i].c * words] : NULL;
		const double *v = i < nsets ? &vol[ks[i].c * nd] : all;
		if (i < nsets && ks[i].c == UINT32_MAX)
			continue;
		if (i < nsets && need[ks[i].c] > 0) {
			for (size_t k = 0; k < nk; k++)
				coef[k] = 1 / need[ks[i].c];
			count_row(s, lp, ks_set, 1, coef, ia, ja, ar, &nz);
		}
		for (size_t d = 0; d < nd; d++) {
			if (!(v[d] > 0))
				continue;
			for (size_t k = 0; k < nk; k++)
				coef[k] = (double)s->kinds[k].room[d] / v[d];
			count_row(s, lp, ks_set, 1, coef, ia, ja, ar, &nz);
		}
	}
	if (lp && glp_get_num_rows(lp) > 0) {
		glp_smcp parm;
		glp_load_matrix(lp, nz, ia, ja, ar);
		glp_init_smcp(&parm);
		parm.msg_lev = GLP_MSG_OFF;
		parm.tm_lim = ilp_glpk_tm_lim(s->clk);
		s->clk->work += 2 * ilp_call_cost(lp);
		parm.it_lim = ilp_iter_limit(until - ilp_now(s->clk), lp);
		glp_simplex(lp, &parm);
		ilp_charge_iters(s->clk, glp_get_it_cnt(lp), lp);
		for (int e = 1; e <= nz; e++) {
			double y = glp_get_row_dual(lp, ia[e]);
			if (y > 0)
				col[ja[e] - 1] += ar[e] * y;
		}
		for (int r = 1; r <= glp_get_num_rows(lp); r++) {
			double y = glp_get_row_dual(lp, r);
			if (y > 0)
				by += y;
		}
		for (size_t k = 0; k < nk; k++) {
			double c = s->kinds[k].open < 0 ? (double)s->kinds[k].price / ILP_MICRO : 0;
			if (col[k] <= 0)
				continue;
			if (c <= 0)
				worst = INFINITY;
			else if (col[k] / c > worst)
				worst = col[k] / c;
		}
		if (isfinite(by) && isfinite(worst))
			bound = by / worst;
	}
	if (lp)
		glp_delete_prob(lp);
	hfree(s, cap);
	hfree(s, stamp);
	hfree(s, set);
	hfree(s, need);
	hfree(s, vol);
	hfree(s, all);
	hfree(s, coef);
	hfree(s, col);
	hfree(s, ks);
	hfree(s, ia);
	hfree(s, ja);
	hfree(s, ar);
	return bound;
}

/*
 * The bounds of the whole batch for plans placing every pod, valid however
 * it is cut: volume and counts.
 */
static kerf_price_t batch_bound(const struct kerf_host *host, struct ilp_clock *clk,
				const struct kerf_pack_problem *p, int64_t until)
{
	struct solver s;
	kerf_price_t lb;

	memset(&s, 0, sizeof(s));
	s.host = host;
	s.clk = clk;
	s.p = p;
	s.deadline_cg = s.deadline = until;
	ilp_solver_init(&s);
	ilp_volume_bounds(&s);
	if (ilp_build_kinds(&s))
		ilp_add_round(&s, count_bound(&s, until), 0);
	lb = ilp_bound_micro(ilp_bound_for(&s, 0));
	ilp_solver_free(&s);
	return lb;
}

/*
 * Drops, in pools with a resource limit, the options larger than the chosen
 * type in a limited dimension (Karpenter charges a node the largest of its
 * options, and the master counted the chosen type's capacity; FFD's nodes
 * get the same rule), then keeps the first max_types that keep the pool's
 * minValues (the host refuses a node that cannot).
 */
static void trim_options(const struct kerf_host *host, const struct kerf_pack_problem *p,
			 struct kerf_pack_plan *plan, size_t max_types)
{
	for (size_t i = 0; i < plan->n_nodes; i++) {
		struct kerf_pack_node *n = plan->nodes[i];
		const int64_t *chosen;
		size_t keep = 0;
		if (n->open_index >= 0)
			continue;
		chosen = ffd_capacity_of(p, n->nodepool, n->type);
		for (size_t k = 0; k < n->n_options; k++) {
			const int64_t *cap = ffd_capacity_of(p, n->nodepool, n->options[k]);
			bool ok = true;
			for (size_t d = 0; d < p->n_dims && ok; d++)
				ok = p->pools[n->nodepool]->remaining[d] == INT64_MAX ||
				     cap[d] <= chosen[d];
			if (ok)
				n->options[keep++] = n->options[k];
		}
		n->n_options = ffd_keep_options(host, p, n->nodepool, n->options, keep, max_types);
		if (n->n_options == 0)
			n->n_options = keep < max_types ? keep : max_types;
	}
}

/*
 * True when every new node of the plan can list options that keep its
 * pool's minValues.  The integer program's patterns know nothing of them;
 * FFD's plan does.
 */
static bool min_values_kept(const struct kerf_host *host, const struct kerf_pack_problem *p,
			    const struct kerf_pack_plan *plan, size_t max_types)
{
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		if (n->open_index < 0 &&
		    !ffd_min_values_met(host, p, n->nodepool, n->options, n->n_options, max_types))
			return false;
	}
	return true;
}

int ilp_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
	      struct kerf_pack_plan **out, struct kerf_error *err)
{
	struct ilp *ip = inst;
	const struct kerf_host *host;
	struct kerf_pack_plan *ffd = NULL, *plan = NULL;
	uint32_t *comp, *part_of;
	bool *whole;
	size_t n_parts;
	struct ilp_clock clk = {0};
	int64_t budget, work, start_ms, deadline;
	kerf_price_t bb = 0;
	bool cut = false;
	int rc, term;

	if (!ip || !out)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ilp: no instance or output");
	host = ip->host;
	budget = budget_ms > 0 ? budget_ms : ip->budget_ms;
	work = ip->work_limit > 0 ? ip->work_limit : budget * ILP_WORK_PER_MS / 2;
	start_ms = ilp_real_ms(host);
	clk.host = host;
	clk.stop_ms = KERF_HOST_HAS(host, real_mono_ms) || KERF_HOST_HAS(host, mono_ms)
			  ? start_ms + budget
			  : INT64_MAX;
	deadline = work;
	/* FFD's plan of the whole batch: the baseline, and the problem checked. */
	rc = ffd_pack(host, ip->max_types, problem, &ffd, err);
	if (rc)
		return rc;
	term = glp_term_out(GLP_OFF);
	comp = host->calloc(host->ctx, problem->n_groups + 1, sizeof(uint32_t));
	part_of = host->calloc(host->ctx, problem->n_groups + 1, sizeof(uint32_t));
	whole = host->calloc(host->ctx, problem->n_groups + 1, sizeof(bool));
	n_parts = cut_parts(host, problem, comp, split_parts(host, problem, comp), part_of, whole);
	for (size_t i = 0; i < n_parts && !cut; i++)
		cut = !whole[i];
	/* A cut batch proves nothing but the batch's bounds: they come first,
	 * with at most a quarter of the budget, so a long solve cannot crowd
	 * them out. */
	if (cut)
		bb = batch_bound(host, &clk, problem, deadline / 4);
	if (n_parts <= 1) {
		rc = ilp_solve_part(ip, &clk, problem, ffd, 0, deadline, &plan, err);
	} else {
		rc = solve_parts(ip, &clk, problem, part_of, whole, n_parts, deadline, &plan, err);
		if (rc == 0) {
			uint64_t pp = ilp_placed_pods(problem, plan),
				 pf = ilp_placed_pods(problem, ffd);
			if (pp > pf || (pp == pf && plan->total_price < ffd->total_price)) {
				kerf_pack_plan_free(ffd);
			} else {
				/* The parts' bound holds for the whole when FFD places every pod
				 * too. */
				ffd->lower_bound = ffd->n_unplaced ? 0 : plan->lower_bound;
				kerf_pack_plan_free(plan);
				plan = ffd;
			}
		} else {
			kerf_pack_plan_free(ffd);
		}
	}
	if (rc == 0 && !min_values_kept(host, problem, plan, ip->max_types)) {
		kerf_pack_plan_free(plan);
		plan = NULL;
		rc = ffd_pack(host, ip->max_types, problem, &plan, err);
	}
	/* Parts miss what the batch's conflicts and caps need together: the
	 * batch's bounds may still be better. */
	if (rc == 0 && !cut && !plan->n_unplaced && plan->lower_bound < plan->total_price &&
	    ilp_now(&clk) < deadline)
		bb = batch_bound(host, &clk, problem, deadline);
	if (rc == 0 && !plan->n_unplaced && bb > plan->lower_bound)
		plan->lower_bound = bb;
	host->free(host->ctx, comp);
	host->free(host->ctx, part_of);
	host->free(host->ctx, whole);
	glp_term_out(term);
	if (rc)
		return rc;
	trim_options(host, problem, plan, ip->max_types);
	if (plan->lower_bound > plan->total_price)
		plan->lower_bound = plan->total_price;
	plan->optimal = plan->lower_bound == plan->total_price;
	plan->solve_ms = ilp_real_ms(host) - start_ms;
	plan->work = clk.work;
	plan->hit_time_limit = clk.stopped;
	host->log(host->ctx, clk.stopped ? KERF_LOG_WARN : KERF_LOG_DEBUG,
		  "ilp: batch of %zu groups in %zu parts: price %.6f, bound %.6f, %" PRId64
		  " of %" PRId64 " units of work, %" PRId64 " ms%s",
		  problem->n_groups, n_parts, (double)plan->total_price / ILP_MICRO,
		  (double)plan->lower_bound / ILP_MICRO, clk.work, work, plan->solve_ms,
		  clk.stopped ? ": stopped by the time limit, the plan may differ run to run" : "");
	*out = plan;
	return 0;
}
