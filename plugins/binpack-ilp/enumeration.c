/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * enumeration.c - binpack-ilp's enumeration of every maximal pattern below a
 * reduced cost, which makes the master's integer optimum the problem's.
 */
#include <math.h>

#include "ilp.h"

/*
 * Leaves of the search tree of every pattern, saturating: the sum over
 * kinds of the product of (most pods + 1) per compatible group.
 */
double ilp_pattern_leaves(const struct solver *s)
{
	double total = 0;

	for (size_t kk = 0; kk < s->nk && total <= ILP_FULL_LEAVES; kk++) {
		const struct bkind *k = &s->kinds[kk];
		double prod = 1;
		for (size_t i = 0; i < k->ng && prod <= ILP_FULL_LEAVES; i++) {
			uint32_t g = s->kg[k->goff + i];
			prod *=
			    1 + fits(s->nd, k->room, s->p->groups[g]->request, per_node_cap(s, g));
		}
		total += prod;
	}
	return total;
}

/* True when no item can take one more pod next to the chosen counts. */
static bool maximal(const struct solver *s)
{
	for (size_t j = 0; j < s->n_items; j++) {
		uint32_t g = s->it_g[j];
		bool clash = false;
		if (s->it_cnt[j] >= s->it_ub[j] ||
		    !fits(s->nd, s->resid, s->p->groups[g]->request, 1))
			continue;
		for (size_t c = s->conf_off[g]; c < s->conf_off[g + 1] && !clash; c++) {
			int32_t o = s->item_of[s->conf[c]];
			clash = o >= 0 && s->it_cnt[o] > 0;
		}
		if (!clash)
			return false;
	}
	return true;
}

/*
 * Adds as columns the maximal patterns of kind k over items i.. worth at
 * least `need` at the items' values, until s->dfs_limit search nodes or
 * s->enum_cap columns (then s->dfs_aborted).
 */
static void enumerate(struct solver *s, const struct bkind *k, size_t i, double value, double need)
{
	const int64_t *req;
	uint32_t kmax;

	if (s->dfs_aborted)
		return;
	s->clk->work += ILP_WORK_ENUM_NODE;
	if (++s->dfs_nodes > s->dfs_limit || s->ncol >= s->enum_cap || ilp_out_of_time(s)) {
		s->dfs_aborted = true;
		return;
	}
	if (i == s->n_items) {
		struct column c;
		if (value < need || !maximal(s))
			return;
		c = ilp_kind_column(s, k, s->n_items);
		c.n = 0;
		for (size_t j = 0; j < s->n_items; j++)
			if (s->it_cnt[j]) {
				c.a[c.n].group = s->it_g[j];
				c.a[c.n].count = s->it_cnt[j];
				c.n++;
			}
		if (c.n)
			ilp_add_column(s, &c);
		else
			hfree(s, c.a);
		return;
	}
	if (value + ilp_items_bound(s, i) < need)
		return;
	req = s->p->groups[s->it_g[i]]->request;
	kmax = s->it_blocked[i] ? 0 : fits(s->nd, s->resid, req, s->it_ub[i]);
	if (kmax > 0)
		ilp_block_partners(s, i, 1);
	for (uint32_t n = kmax; n > 0; n--) {
		for (size_t d = 0; d < s->nd; d++)
			s->resid[d] -= (int64_t)n * req[d];
		s->sur_left -= n * s->it_size[i];
		s->it_cnt[i] = n;
		enumerate(s, k, i + 1, value + s->it_val[i] * n, need);
		s->sur_left += n * s->it_size[i];
		for (size_t d = 0; d < s->nd; d++)
			s->resid[d] += (int64_t)n * req[d];
	}
	if (kmax > 0)
		ilp_block_partners(s, i, -1);
	s->it_cnt[i] = 0;
	enumerate(s, k, i + 1, value, need);
}

/*
 * Adds every maximal pattern of every kind with a reduced cost of at most
 * delta at the duals in s->y (delta infinite: every maximal pattern), at
 * most cap of them.
 * Returns true when none was left out.  A node can always be filled up to
 * a maximal pattern of its kind at the same price (the extra pods trimmed
 * away), so maximal patterns are all the master needs.
 */
bool ilp_enumerate_kinds(struct solver *s, double delta, size_t cap, int64_t until)
{
	struct ratio *tmp = zalloc(s, s->ng, sizeof(*tmp));
	bool complete = true;
	long limit = s->dfs_limit;

	s->enum_cap = s->ncol + cap;
	s->search_until = until;
	for (size_t kk = 0; kk < s->nk && complete; kk++) {
		const struct bkind *k = &s->kinds[kk];
		double need = isinf(delta)
				  ? -INFINITY
				  : (double)k->price / ILP_MICRO - ilp_kind_const(s, k) - delta;
		ilp_load_items(s, k, tmp, true);
		s->dfs_nodes = 0;
		s->dfs_limit = ILP_ENUM_NODES;
		s->dfs_aborted = false;
		enumerate(s, k, 0, 0, need - ILP_RC_EPS);
		ilp_unload_items(s);
		complete = !s->dfs_aborted && ilp_now(s->clk) < until;
	}
	s->dfs_limit = limit;
	hfree(s, tmp);
	return complete;
}
