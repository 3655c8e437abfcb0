/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pricing.c - binpack-ilp's column generation: each bin kind's knapsack at
 * the master's duals, searched and bounded, and the lower bounds of each round
 * (with the volume bounds).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "ilp.h"

int ilp_ratio_cmp(const void *a, const void *b)
{
	const struct ratio *x = a, *y = b;

	if (x->r != y->r)
		return x->r > y->r ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

/*
 * An upper bound on the pricing value of the items in room: the smallest
 * over dimensions of the fractional knapsack in that dimension alone.
 */
static double fractional_bound(struct solver *s, const int64_t *room, struct ratio *tmp)
{
	double best = 0;

	for (size_t i = 0; i < s->n_items; i++)
		best += s->it_val[i] * s->it_ub[i];
	for (size_t d = 0; d < s->nd; d++) {
		double v = 0, left = (double)room[d];
		size_t m = 0;
		for (size_t i = 0; i < s->n_items; i++) {
			int64_t r = s->p->groups[s->it_g[i]]->request[d];
			if (r <= 0)
				v += s->it_val[i] * s->it_ub[i];
			else
				tmp[m++] = (struct ratio){s->it_val[i] / (double)r, (uint32_t)i};
		}
		qsort(tmp, m, sizeof(*tmp), ilp_ratio_cmp);
		for (size_t k = 0; k < m && left > 0; k++) {
			uint32_t i = tmp[k].item;
			double w = (double)s->p->groups[s->it_g[i]]->request[d] * s->it_ub[i];
			if (w <= left) {
				v += s->it_val[i] * s->it_ub[i];
				left -= w;
			} else {
				v += tmp[k].r * left;
				left = 0;
			}
		}
		if (v < best)
			best = v;
	}
	return best;
}

/* True, every few thousand search nodes, once search_until has passed. */
bool ilp_out_of_time(const struct solver *s)
{
	return (s->dfs_nodes & 4095) == 0 && ilp_now(s->clk) >= s->search_until;
}

/* Blocks (+1) or frees (-1) the later items in conflict with item i. */
void ilp_block_partners(struct solver *s, size_t i, int by)
{
	uint32_t g = s->it_g[i];

	for (size_t c = s->conf_off[g]; c < s->conf_off[g + 1]; c++) {
		int32_t j = s->item_of[s->conf[c]];
		if (j > (int32_t)i)
			s->it_blocked[j] = (uint32_t)((int)s->it_blocked[j] + by);
	}
}

/*
 * The surrogate bound on items i..: one knapsack whose size is the sum of
 * the dimensions, each as a share of the node, filled fractionally in
 * density order (the items' order).  Conflicts are ignored, so prefix sums
 * and a binary search give it in O(log n).
 */
static double surrogate_bound(const struct solver *s, size_t i)
{
	double want = s->pre_w[i] + s->sur_left;
	size_t lo = i, hi = s->n_items;

	/* The last m with pre_w[m] <= want: items i..m-1 fit whole. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (s->pre_w[mid] <= want)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (lo == s->n_items)
		return s->pre_v[lo] - s->pre_v[i];
	return s->pre_v[lo] - s->pre_v[i] + (want - s->pre_w[lo]) / s->it_size[lo] * s->it_val[lo];
}

/* The best of the per-dimension, surrogate and Lagrangian bounds on items i.. in resid. */
double ilp_items_bound(struct solver *s, size_t i)
{
	double bound = s->sfx_sum[i], sur, lagr = 0;

	for (size_t d = 0; d < s->nd; d++)
		lagr += s->lam[d] * (double)s->resid[d];
	if (s->n_items > ILP_FEW_ITEMS && i > 0) {
		lagr += s->sfx_red[i];
	} else {
		/*
		 * At the root, or with few items: each at most what still fits,
		 * none a conflict rules out, and of each clique of mutually
		 * conflicting groups only the best (a node holds one at most).
		 */
		size_t hits = 0;
		for (size_t j = i; j < s->n_items; j++) {
			const int64_t *r = s->p->groups[s->it_g[j]]->request;
			uint32_t c = s->clique[s->it_g[j]];
			double a = s->it_val[j];
			if (s->it_blocked[j])
				continue;
			for (size_t d = 0; d < s->nd; d++)
				a -= s->lam[d] * (double)r[d];
			if (a <= 0)
				continue;
			a *= fits(s->nd, s->resid, r, s->it_ub[j]);
			if (s->clique_best[c] == 0 && a > 0)
				s->clique_hit[hits++] = c;
			if (a > s->clique_best[c])
				s->clique_best[c] = a;
		}
		for (size_t h = 0; h < hits; h++) {
			lagr += s->clique_best[s->clique_hit[h]];
			s->clique_best[s->clique_hit[h]] = 0;
		}
	}
	if (lagr < bound)
		bound = lagr;

	for (size_t d = 0; d < s->nd; d++) {
		double r = s->sfx_ratio[i * s->nd + d];
		if (r < DBL_MAX && (double)s->resid[d] * r < bound)
			bound = (double)s->resid[d] * r;
	}
	sur = surrogate_bound(s, i);
	return sur < bound ? sur : bound;
}

/* Items i.. in the room left (resid), most pods of item i first. */
static void dfs(struct solver *s, size_t i, double value)
{
	const int64_t *req;
	double bound;
	uint32_t kmax;

	s->clk->work++;
	if (++s->dfs_nodes > s->dfs_limit || ilp_out_of_time(s)) {
		s->dfs_aborted = true;
		return;
	}
	if (value > s->best_val) {
		s->best_val = value;
		s->found = true;
		memcpy(s->it_best, s->it_cnt, s->n_items * sizeof(uint32_t));
	}
	if (i == s->n_items)
		return;
	bound = ilp_items_bound(s, i);
	if (value + bound <= s->best_val * (1 + 1e-12) + 1e-12)
		return;
	req = s->p->groups[s->it_g[i]]->request;
	kmax = s->it_blocked[i] ? 0 : fits(s->nd, s->resid, req, s->it_ub[i]);
	if (kmax > 0)
		ilp_block_partners(s, i, 1);
	for (uint32_t k = kmax; k > 0 && !s->dfs_aborted; k--) {
		for (size_t d = 0; d < s->nd; d++)
			s->resid[d] -= (int64_t)k * req[d];
		s->sur_left -= k * s->it_size[i];
		s->it_cnt[i] = k;
		dfs(s, i + 1, value + s->it_val[i] * k);
		s->sur_left += k * s->it_size[i];
		for (size_t d = 0; d < s->nd; d++)
			s->resid[d] += (int64_t)k * req[d];
	}
	if (kmax > 0)
		ilp_block_partners(s, i, -1);
	s->it_cnt[i] = 0;
	if (!s->dfs_aborted)
		dfs(s, i + 1, value);
}

/* Suffix sums of ub * max(0, value - lam . request): the Lagrangian bound's items part. */
static void reduced_sums(struct solver *s)
{
	s->sfx_red[s->n_items] = 0;
	for (size_t i = s->n_items; i-- > 0;) {
		const int64_t *r = s->p->groups[s->it_g[i]]->request;
		double a = s->it_val[i];
		for (size_t d = 0; d < s->nd; d++)
			a -= s->lam[d] * (double)r[d];
		s->sfx_red[i] = s->sfx_red[i + 1] + (a > 0 ? a * s->it_ub[i] : 0);
	}
}

/*
 * Multipliers for the Lagrangian bound of the items in the kind's room:
 * for any lam >= 0, sum_d lam_d room_d + sum_i ub_i max(0, v_i - lam . r_i)
 * bounds the knapsack (it is the LP relaxation's dual objective).  A few
 * sweeps of exact one-dimensional minimisation bring it near the LP bound,
 * and with lam fixed the same sum over a suffix bounds every search node.
 */
static void fit_multipliers(struct solver *s, const int64_t *room, struct ratio *tmp)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = s->n_items;

	for (size_t d = 0; d < s->nd; d++)
		s->lam[d] = 0;
	for (int sweep = 0; sweep < (n > 2 * ILP_FEW_ITEMS ? 2 : 3); sweep++) {
		for (size_t d = 0; d < s->nd; d++) {
			double w = 0;
			size_t m = 0;
			if (room[d] <= 0)
				continue;
			for (size_t i = 0; i < n; i++) {
				const int64_t *r = p->groups[s->it_g[i]]->request;
				double a = s->it_val[i];
				if (r[d] <= 0)
					continue;
				for (size_t e = 0; e < s->nd; e++)
					if (e != d)
						a -= s->lam[e] * (double)r[e];
				if (a > 0)
					tmp[m++] = (struct ratio){a / (double)r[d], (uint32_t)i};
			}
			qsort(tmp, m, sizeof(*tmp), ilp_ratio_cmp);
			/* The minimum is at the breakpoint where the items above it fill the room.
			 */
			s->lam[d] = 0;
			for (size_t k = 0; k < m; k++) {
				uint32_t i = tmp[k].item;
				w +=
				    (double)s->it_ub[i] * (double)p->groups[s->it_g[i]]->request[d];
				if (w >= (double)room[d]) {
					s->lam[d] = tmp[k].r;
					break;
				}
			}
		}
	}
	reduced_sums(s);
}

/* True when item i conflicts with an item already counted in it_cnt. */
static bool clashes(const struct solver *s, size_t i)
{
	uint32_t g = s->it_g[i];

	for (size_t c = s->conf_off[g]; c < s->conf_off[g + 1]; c++) {
		int32_t o = s->item_of[s->conf[c]];
		if (o >= 0 && s->it_cnt[o] > 0)
			return true;
	}
	return false;
}

/*
 * A pattern from the knapsack LP's solution x: each item's floor(x_i),
 * largest share of the LP's value first and skipping any that clashes with
 * one taken, then whatever still fits in density order.  On a large node the
 * LP mixes items across dimensions where the search's greedy dive fills one
 * dimension first, and flooring loses less than one pod per dimension's
 * basic item, so this is close to the best pattern there.  It becomes the
 * kind's best when it beats best_val.
 */
static void round_lp(struct solver *s, const int64_t *room, const double *x, struct ratio *tmp)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = s->n_items;
	double value = 0;

	memcpy(s->resid, room, s->nd * sizeof(int64_t));
	for (size_t i = 0; i < n; i++)
		tmp[i] = (struct ratio){x[i] * s->it_val[i], (uint32_t)i};
	qsort(tmp, n, sizeof(*tmp), ilp_ratio_cmp);
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < n; j++) {
			size_t i = pass ? j : tmp[j].item;
			const int64_t *r = p->groups[s->it_g[i]]->request;
			uint32_t want = pass ? s->it_ub[i] - s->it_cnt[i]
					     : (uint32_t)floor(x[i] + 1e-9),
				 k;
			if (want == 0 || s->it_val[i] <= 0 || (s->it_cnt[i] == 0 && clashes(s, i)))
				continue;
			k = fits(s->nd, s->resid, r, want);
			for (size_t d = 0; d < s->nd; d++)
				s->resid[d] -= (int64_t)k * r[d];
			s->it_cnt[i] += k;
			value += s->it_val[i] * k;
		}
	if (value > s->best_val) {
		s->best_val = value;
		s->found = true;
		memcpy(s->it_best, s->it_cnt, n * sizeof(uint32_t));
	}
	memset(s->it_cnt, 0, n * sizeof(uint32_t));
	memcpy(s->resid, room, s->nd * sizeof(int64_t));
}

/*
 * The knapsack's LP relaxation (conflicts left out) solved outright.  Its
 * value bounds the pricing maximum; its row duals are the best Lagrange
 * multipliers there are, where the sweeps of fit_multipliers can stall (the
 * function is not smooth), and they go to s->lam; its solution, rounded,
 * is a pattern (round_lp).  Worth it only for the few
 * kinds the search cannot settle.  Returns the LP's value, or INFINITY when
 * the simplex failed.
 */
static double knapsack_lp(struct solver *s, const int64_t *room, struct ratio *tmp)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = s->n_items, nz = 0;
	glp_prob *lp = glp_create_prob();
	int *ia = zalloc(s, n * s->nd + 1, sizeof(int)),
	    *ja = zalloc(s, n * s->nd + 1, sizeof(int));
	double *ar = zalloc(s, n * s->nd + 1, sizeof(double)), *x = zalloc(s, n, sizeof(double));
	double value = INFINITY;
	glp_smcp parm;
	bool ok;

	glp_set_obj_dir(lp, GLP_MAX);
	glp_add_rows(lp, (int)s->nd);
	for (size_t d = 0; d < s->nd; d++)
		glp_set_row_bnds(lp, (int)d + 1, GLP_UP, 0.0, (double)room[d]);
	glp_add_cols(lp, (int)n);
	for (size_t i = 0; i < n; i++) {
		const int64_t *r = p->groups[s->it_g[i]]->request;
		glp_set_col_bnds(lp, (int)i + 1, GLP_DB, 0.0, (double)s->it_ub[i]);
		glp_set_obj_coef(lp, (int)i + 1, s->it_val[i]);
		for (size_t d = 0; d < s->nd; d++)
			if (r[d] > 0) {
				nz++;
				ia[nz] = (int)d + 1;
				ja[nz] = (int)i + 1;
				ar[nz] = (double)r[d];
			}
	}
	glp_load_matrix(lp, (int)nz, ia, ja, ar);
	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	glp_scale_prob(lp, GLP_SF_AUTO);
	ok = glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT;
	ilp_charge_iters(s->clk, glp_get_it_cnt(lp), lp);
	s->clk->work += ilp_call_cost(lp);
	if (ok) {
		/*
		 * GLPK's value is within its tolerances of the LP's optimum: the
		 * Lagrangian dual of the duals found (clamped to >= 0) is a bound
		 * whatever those tolerances, so that is the value returned.
		 */
		double dual = 0;
		for (size_t d = 0; d < s->nd; d++) {
			double y = glp_get_row_dual(lp, (int)d + 1);
			s->lam[d] = y > 0 ? y : 0;
			dual += s->lam[d] * (double)room[d];
		}
		for (size_t i = 0; i < n; i++) {
			const int64_t *r = p->groups[s->it_g[i]]->request;
			double a = s->it_val[i];
			for (size_t d = 0; d < s->nd; d++)
				a -= s->lam[d] * (double)r[d];
			if (a > 0)
				dual += a * s->it_ub[i];
			x[i] = glp_get_col_prim(lp, (int)i + 1);
		}
		value = dual;
		round_lp(s, room, x, tmp);
	}
	glp_delete_prob(lp);
	hfree(s, ia);
	hfree(s, ja);
	hfree(s, ar);
	hfree(s, x);
	reduced_sums(s);
	return value;
}

/*
 * Loads kind k's items: its groups (only those with a positive dual unless
 * `all`), valued at their duals, densest first by surrogate size, with the
 * prefix and suffix sums the bounds read.  Returns how many.
 */
size_t ilp_load_items(struct solver *s, const struct bkind *k, struct ratio *tmp, bool all)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = 0;

	s->clk->work += 1 + (int64_t)(k->ng / ILP_WORK_SCAN);
	for (size_t i = 0; i < k->ng; i++) {
		uint32_t g = s->kg[k->goff + i];
		double pi = s->y[g + 1];
		uint32_t ub;
		if (pi <= ILP_RC_EPS && !all)
			continue;
		ub = fits(s->nd, k->room, p->groups[g]->request, per_node_cap(s, g));
		if (ub == 0)
			continue;
		s->it_g[n] = g;
		s->it_val[n] = pi > 0 ? pi : 0;
		s->it_ub[n] = ub;
		n++;
	}
	s->n_items = n;
	/* Densest first: value per unit of surrogate size (shares of the node summed). */
	s->sur_left = 0;
	for (size_t d = 0; d < s->nd; d++)
		if (k->room[d] > 0)
			s->sur_left += 1;
	for (size_t i = 0; i < n; i++) {
		const int64_t *req = p->groups[s->it_g[i]]->request;
		double w = 0;
		for (size_t d = 0; d < s->nd; d++)
			if (req[d] > 0 && k->room[d] > 0)
				w += (double)req[d] / (double)k->room[d];
		s->it_size[i] = w;
		tmp[i] = (struct ratio){w > 0 ? s->it_val[i] / w : DBL_MAX, (uint32_t)i};
	}
	qsort(tmp, n, sizeof(*tmp), ilp_ratio_cmp);
	{
		/* Reorder items by density (it_cnt/it_best/sfx_* serve as scratch for it). */
		uint32_t *g2 = s->it_cnt, *ub2 = s->it_best;
		double *v2 = s->sfx_sum, *w2 = s->sfx_ratio;
		for (size_t i = 0; i < n; i++) {
			g2[i] = s->it_g[tmp[i].item];
			ub2[i] = s->it_ub[tmp[i].item];
			v2[i] = s->it_val[tmp[i].item];
			w2[i] = s->it_size[tmp[i].item];
		}
		memcpy(s->it_g, g2, n * sizeof(uint32_t));
		memcpy(s->it_ub, ub2, n * sizeof(uint32_t));
		memcpy(s->it_val, v2, n * sizeof(double));
		memcpy(s->it_size, w2, n * sizeof(double));
	}
	for (size_t i = 0; i < n; i++) {
		s->item_of[s->it_g[i]] = (int32_t)i;
		s->it_cnt[i] = s->it_best[i] = s->it_blocked[i] = 0;
		s->pre_w[i + 1] = s->pre_w[i] + s->it_size[i] * s->it_ub[i];
		s->pre_v[i + 1] = s->pre_v[i] + s->it_val[i] * s->it_ub[i];
	}
	s->sfx_sum[n] = 0;
	for (size_t d = 0; d < s->nd; d++)
		s->sfx_ratio[n * s->nd + d] = 0;
	for (size_t i = n; i-- > 0;) {
		const int64_t *req = p->groups[s->it_g[i]]->request;
		s->sfx_sum[i] = s->sfx_sum[i + 1] + s->it_val[i] * s->it_ub[i];
		for (size_t d = 0; d < s->nd; d++) {
			double r = req[d] > 0 ? s->it_val[i] / (double)req[d] : DBL_MAX;
			double nx = s->sfx_ratio[(i + 1) * s->nd + d];
			s->sfx_ratio[i * s->nd + d] = r > nx ? r : nx;
		}
	}
	memcpy(s->resid, k->room, s->nd * sizeof(int64_t));
	fit_multipliers(s, k->room, tmp);
	return n;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * The knapsack's optimum with conflicts left out, by dynamic programming
 * over the room left in each dimension, counted in units of the greatest
 * common divisor of the items' requests there (so nothing is rounded and
 * the value is exact).  A dimension another one implies is dropped: when
 * room_e times the largest ratio r_d / r_e over the items is below room_d,
 * no load that fits in e exceeds d (the pods dimension, mostly).  Bounded
 * counts are split in powers of two.  Small nodes, where the LP's rounding
 * loses most, are where this fits within ILP_DP_WORK; returns INFINITY
 * elsewhere.
 */
static double knapsack_dp(struct solver *s, const int64_t *room)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = s->n_items, nd = s->nd, nu = 0, pieces = 0;
	size_t use[8], radix[8], stride[8], states = 1;
	uint64_t unit[8];
	double *dp, best = 0;

	for (size_t d = 0; d < nd; d++) {
		uint64_t u = 0;
		bool implied = false;
		for (size_t i = 0; i < n; i++)
			u = gcd64(u, (uint64_t)(p->groups[s->it_g[i]]->request[d] > 0
						    ? p->groups[s->it_g[i]]->request[d]
						    : 0));
		if (u == 0)
			continue;
		for (size_t e = 0; e < nd && !implied; e++) {
			double most = 0;
			bool all = e != d && room[e] >= 0;
			for (size_t i = 0; i < n && all; i++) {
				const int64_t *r = p->groups[s->it_g[i]]->request;
				all = r[e] > 0;
				if (all && (double)r[d] / (double)r[e] > most)
					most = (double)r[d] / (double)r[e];
			}
			/*
			 * Strictly within: implications then form no cycle (the
			 * ratios' maxima multiply to at least 1 around one), so a
			 * dropped dimension is always implied by a kept one.
			 */
			implied = all && (double)room[e] * most < (double)room[d] * (1 - 1e-12);
		}
		if (implied)
			continue;
		if (nu == 8)
			return INFINITY;
		use[nu] = d;
		unit[nu] = u;
		radix[nu] = (size_t)((uint64_t)(room[d] > 0 ? room[d] : 0) / u) + 1;
		if ((double)states * (double)radix[nu] > (double)ILP_DP_WORK)
			return INFINITY;
		stride[nu] = states;
		states *= radix[nu];
		nu++;
	}
	for (size_t i = 0; i < n; i++)
		for (uint32_t left = s->it_ub[i], k = 1; left > 0; k *= 2) {
			left -= k < left ? k : left;
			pieces++;
		}
	if ((double)pieces * (double)states > (double)ILP_DP_WORK)
		return INFINITY;
	/* dp[c]: the most value in loads of at most c, c in mixed radix; 0/1 pieces, c downwards.
	 */
	s->clk->work += 1 + (int64_t)(pieces * states / ILP_WORK_DP);
	dp = zalloc(s, states, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		const int64_t *r = p->groups[s->it_g[i]]->request;
		for (uint32_t left = s->it_ub[i], k = 1; left > 0; k *= 2) {
			uint32_t take = k < left ? k : left;
			size_t w[8], off = 0;
			double v = s->it_val[i] * take;
			bool fits_at_all = true;
			left -= take;
			for (size_t j = 0; j < nu; j++) {
				w[j] =
				    (size_t)((uint64_t)(r[use[j]] > 0 ? r[use[j]] : 0) / unit[j]) *
				    take;
				fits_at_all = fits_at_all && w[j] < radix[j];
				off += w[j] * stride[j];
			}
			if (!fits_at_all)
				continue;
			for (size_t c = states; c-- > 0;) {
				bool ok = true;
				for (size_t j = 0; j < nu && ok; j++)
					ok = (c / stride[j]) % radix[j] >= w[j];
				if (ok && dp[c - off] + v > dp[c])
					dp[c] = dp[c - off] + v;
			}
		}
	}
	best = dp[states - 1];
	hfree(s, dp);
	return best;
}

void ilp_unload_items(struct solver *s)
{
	for (size_t i = 0; i < s->n_items; i++)
		s->item_of[s->it_g[i]] = -1;
}

/*
 * Prices kind k: searches the best pattern worth more than cutoff (the
 * kind's price less its node and limit duals).  Returns an upper bound on
 * the best pattern's value, or on max(that, cutoff); *exact says the search
 * finished, and s->found that it_best holds a pattern worth best_val >
 * cutoff.
 */
static double price_kind(struct solver *s, size_t kk, struct ratio *tmp, double cutoff, bool *exact)
{
	const struct bkind *k = &s->kinds[kk];
	double *lam = &s->kind_lam[kk * s->nd], root = 0, lp_ub = INFINITY;

	s->best_val = cutoff;
	s->found = false;
	*exact = true;
	/*
	 * Duals move little from round to round, so the kind's last multipliers
	 * still give a bound close to the best: most kinds are ruled out by it
	 * in one pass, without sorting anything.
	 */
	for (size_t d = 0; d < s->nd; d++)
		root += lam[d] * (double)k->room[d];
	for (size_t i = 0; i < k->ng && root <= cutoff + ILP_RC_EPS; i++) {
		const struct kerf_pack_group *gr = s->p->groups[s->kg[k->goff + i]];
		double a = s->y[s->kg[k->goff + i] + 1];
		if (a <= ILP_RC_EPS)
			continue;
		for (size_t d = 0; d < s->nd; d++)
			a -= lam[d] * (double)gr->request[d];
		if (a > 0)
			root += a * fits(s->nd, k->room, gr->request,
					 per_node_cap(s, s->kg[k->goff + i]));
	}
	if (root <= cutoff + ILP_RC_EPS)
		return root;
	if (ilp_load_items(s, k, tmp, false) == 0)
		return cutoff;
	if (s->proving)
		lp_ub = knapsack_lp(s, k->room, tmp);
	memcpy(lam, s->lam, s->nd * sizeof(double));
	/* Most kinds cannot beat their price at all: the root bound says so at once. */
	root = ilp_items_bound(s, 0);
	if (root <= cutoff + ILP_RC_EPS) {
		ilp_unload_items(s);
		return root;
	}
	s->dfs_nodes = 0;
	s->dfs_aborted = false;
	{
		/*
		 * A search over hundreds of items proves nothing in a few thousand
		 * nodes: there the first dive (the greedy pattern) and a little
		 * backtracking are all it gets, the bound does the rest.
		 */
		long limit = s->dfs_limit;
		if (s->n_items > 2 * ILP_FEW_ITEMS && limit > 4 * (long)s->n_items)
			s->dfs_limit = 4 * (long)s->n_items;
		dfs(s, 0, 0);
		s->dfs_limit = limit;
	}
	/*
	 * The search could not settle the kind: the knapsack's LP bounds it
	 * closer than the per-dimension bounds, and its rounded solution is
	 * often the pattern the search missed.
	 */
	if (s->dfs_aborted && isinf(lp_ub) && ilp_now(s->clk) < s->search_until)
		lp_ub = knapsack_lp(s, k->room, tmp);
	if (lp_ub < root)
		root = lp_ub;
	if (s->dfs_aborted && s->proving && ilp_now(s->clk) < s->search_until) {
		double dp = knapsack_dp(s, k->room);
		if (dp < root)
			root = dp;
	}
	ilp_unload_items(s);
	if (!s->dfs_aborted)
		return s->best_val;
	*exact = false;
	{
		double ub = fractional_bound(s, k->room, tmp);
		if (root < ub)
			ub = root;
		return ub > s->best_val ? ub : s->best_val;
	}
}

/* Node and limit duals of a new node of kind k (open nodes: their row's). */
double ilp_kind_const(const struct solver *s, const struct bkind *k)
{
	double c = 0;

	if (k->open >= 0)
		return s->y[s->row_open[k->open]];
	if (s->row_nodes[k->pool])
		c += s->y[s->row_nodes[k->pool]];
	for (size_t d = 0; d < s->nd; d++) {
		size_t r = k->pool * s->nd + d;
		if (s->row_lim[r])
			c += s->y[s->row_lim[r]] *
			     (double)ffd_capacity_of(s->p, k->pool, k->type)[d] / s->lim_scale[r];
	}
	return c;
}

struct cand {
	double rc;
	size_t kind;
	size_t off, n; /* its pattern: counts[off .. off + n) */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->rc != y->rc)
		return x->rc < y->rc ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

void ilp_add_round(struct solver *s, double dprime, double theta)
{
	if (s->n_rounds == s->cap_rounds) {
		s->cap_rounds = s->cap_rounds ? s->cap_rounds * 2 : 32;
		s->rounds =
		    s->host->realloc(s->host->ctx, s->rounds, s->cap_rounds * sizeof(*s->rounds));
	}
	s->rounds[s->n_rounds].dprime = dprime;
	s->rounds[s->n_rounds].theta = theta;
	s->rounds[s->n_rounds].all = isfinite(theta) ? dprime / (1 + theta) : 0;
	s->n_rounds++;
}

static int loss_cmp(const void *a, const void *b)
{
	const struct loss *x = a, *y = b;

	return x->theta > y->theta ? -1 : x->theta < y->theta;
}

/*
 * The bound on plans placing every pod, with the node counts capped.  An
 * optimal plan has no empty new node, and a node of kind b (or of a kind b
 * dominates, which has b's groups, a price >= c_b and reduced costs >=
 * rcLB_b) holds pods of b's groups only, so it has at most U_b = min(pods
 * of b's groups, floor(inc / c_b)) of them, inc being the incumbent's
 * price (no optimum costs more).  With N the new nodes' cost, x_b their
 * counts, N >= D' + sum_b rcLB_b x_b where sum_b c_b x_b <= N: the most
 * the sum can lose is a fractional knapsack over kinds, loss(N), filled by
 * -rcLB_b / c_b, worst first, each up to c_b U_b.  N + loss(N) grows with
 * N, so the N where it reaches D' bounds N from below; with no caps it is
 * D' / (1 + theta).  n kinds in l, sorted here.
 */
static double capped_bound(double dprime, struct loss *l, size_t n)
{
	double spent = 0, reach = 0;

	if (dprime <= 0)
		return 0;
	qsort(l, n, sizeof(*l), loss_cmp);
	for (size_t i = 0; i < n; i++) {
		double step = (1 + l[i].theta) * l[i].spend;
		if (reach + step >= dprime)
			return spent + (dprime - reach) / (1 + l[i].theta);
		reach += step;
		spent += l[i].spend;
	}
	return spent + (dprime - reach);
}

/*
 * Volume bounds, for weight vectors w >= 0 with sum 1 over the dimensions
 * (each dimension alone, and all alike): a new node of type t at price c
 * holds loads l_d <= allocatable a_d, so c >= sum_d w_d c l_d / a_d, and
 * each pod costs at least its cheapest rate(g) = min over its types t of
 * c_t sum_d w_d r_gd / a_td (c_t its cheapest allowed offering).  Pods on
 * open nodes cost nothing: at most as many as fit there, at their rate.
 * Each is added as a round with theta 0, so they serve when the LP bound
 * is weak (pricing unfinished).
 */
void ilp_volume_bounds(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	size_t nw = s->nd + 1;
	double *rate = zalloc(s, s->ng * nw, sizeof(double)),
	       *total = zalloc(s, nw, sizeof(double));
	double *share = zalloc(s, nw, sizeof(double));

	for (size_t g = 0; g < s->ng; g++) {
		const struct kerf_pack_group *gr = p->groups[g];
		double *rg = &rate[g * nw];
		bool any = false;
		for (size_t i = 0; i < gr->n_types && gr->count; i++) {
			const struct kerf_pack_type *ty = p->types[gr->types[i]];
			kerf_price_t price = INT64_MAX;
			bool fits_type = true;
			for (size_t k = 0; k < ty->n_offerings; k++)
				if (ty->offerings[k]->price < price &&
				    (gr->zone < 0 ||
				     ty->offerings[k]->zone == (uint32_t)gr->zone) &&
				    (gr->capacity_types & (1u << ty->offerings[k]->capacity_type)))
					price = ty->offerings[k]->price;
			if (price == INT64_MAX)
				continue;
			memset(share, 0, nw * sizeof(double));
			for (size_t d = 0; d < s->nd && fits_type; d++) {
				double f;
				if (gr->request[d] <= 0)
					continue;
				fits_type = ty->allocatable[d] >= gr->request[d];
				f = (double)gr->request[d] / (double)ty->allocatable[d];
				share[d] = f;
				share[s->nd] += f / (double)s->nd;
			}
			if (!fits_type)
				continue;
			for (size_t w = 0; w < nw; w++) {
				double r = (double)price / ILP_MICRO * share[w];
				if (!any || r < rg[w])
					rg[w] = r;
			}
			any = true;
		}
		for (size_t w = 0; w < nw; w++)
			total[w] += rg[w] * gr->count;
	}
	for (size_t o = 0; o < p->n_open; o++)
		for (size_t i = 0; i < p->open[o]->n_groups; i++) {
			uint32_t g = p->open[o]->groups[i];
			uint32_t n = fits(s->nd, p->open[o]->remaining, p->groups[g]->request,
					  p->groups[g]->count);
			for (size_t w = 0; w < nw; w++)
				total[w] -= rate[g * nw + w] * n;
		}
	for (size_t w = 0; w < nw; w++)
		if (total[w] > 0)
			ilp_add_round(s, total[w], 0);
	hfree(s, rate);
	hfree(s, total);
	hfree(s, share);
}

/* Reads the clamped duals and D = y.b. */
static double read_duals(struct solver *s)
{
	double dsum = 0;

	for (int i = 1; i <= s->n_rows; i++) {
		double v = glp_get_row_dual(s->lp, i);
		int type = glp_get_row_type(s->lp, i);
		if (type == GLP_LO) {
			if (v < 0)
				v = 0;
			if (v > s->penalty)
				v = s->penalty;
			dsum += v * glp_get_row_lb(s->lp, i);
		} else {
			if (v > 0)
				v = 0;
			dsum += v * glp_get_row_ub(s->lp, i);
		}
		s->y[i] = v;
	}
	return dsum;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * U_b of capped_bound: most nodes of new kind k (price cost > 0), or of the
 * kinds it dominates, in an optimal plan with the fewest nodes.  Each holds
 * a pod of k's groups; none costs more than the incumbent in all.  And when
 * k's groups have no conflict and no max_per_node, no two of those nodes
 * fit in one node of kind k (merged, they would cost less), so all but one
 * are loaded beyond half their room in some dimension, and fewer than
 * 2 V_d / room_d of them in dimension d, V_d all k's pods ask there.
 */
static double node_cap(const struct solver *s, const struct bkind *k, double cost)
{
	const uint32_t *kg = &s->kg[k->goff];
	double pods = 0, most = floor(s->inc_obj / cost + 1e-9), halves = 1;
	bool merge = true;

	for (size_t i = 0; i < k->ng; i++) {
		uint32_t g = kg[i];
		pods += s->p->groups[g]->count;
		merge = merge && !s->self_conflict[g] && !s->p->groups[g]->max_per_node;
		for (size_t c = s->conf_off[g]; c < s->conf_off[g + 1] && merge; c++)
			merge = !bsearch(&s->conf[c], kg, k->ng, sizeof(*kg), u32_cmp);
	}
	for (size_t d = 0; d < s->nd && merge; d++) {
		double v = 0;
		for (size_t i = 0; i < k->ng; i++)
			v += (double)s->p->groups[kg[i]]->count *
			     (double)s->p->groups[kg[i]]->request[d];
		if (v > 0 && k->room[d] > 0)
			halves += floor(2 * v / (double)k->room[d]);
	}
	if (pods < most)
		most = pods;
	return merge && halves < most ? halves : most;
}

/*
 * One round: prices every kind, records the round's bound and adds the
 * best patterns.  Returns how many columns were added, or -1 when the
 * deadline cut the round short.
 */
int ilp_price_round(struct solver *s)
{
	double dsum = read_duals(s), open_sum = 0, theta = 0;
	struct ratio *tmp = zalloc(s, s->ng, sizeof(*tmp));
	struct cand *cands = zalloc(s, s->nk, sizeof(*cands));
	struct loss *losses = zalloc(s, s->nk, sizeof(*losses));
	size_t n_losses = 0;
	uint32_t *counts = NULL;
	size_t nc = 0, n_counts = 0, cap_counts = 0;
	bool all_exact = true, cut = false;
	int added = 0;

	s->search_until = s->deadline_cg;
	for (size_t kk = 0; kk < s->nk; kk++) {
		const struct bkind *k = &s->kinds[kk];
		double cost = (double)k->price / ILP_MICRO, cutoff = cost - ilp_kind_const(s, k),
		       ub, rclb;
		bool exact;
		if (ilp_now(s->clk) >= s->deadline_cg) {
			cut = true;
			break;
		}
		if (s->same_duals && s->kind_proven[kk]) {
			/* Nothing changed since this kind was settled: only the others search
			 * deeper. */
			rclb = s->kind_rclb[kk];
			s->found = false;
		} else {
			ub = price_kind(s, kk, tmp, cutoff, &exact);
			rclb = cutoff - ub;
			s->kind_rclb[kk] = rclb;
			s->kind_proven[kk] = exact || rclb >= -ILP_RC_EPS;
		}
		all_exact = all_exact && s->kind_proven[kk];
		if (k->open >= 0) {
			if (rclb < 0)
				open_sum += rclb;
		} else if (rclb < 0) {
			if (cost <= 0) {
				theta = INFINITY;
			} else {
				double most = node_cap(s, k, cost);
				if (-rclb / cost > theta)
					theta = -rclb / cost;
				losses[n_losses].theta = -rclb / cost;
				losses[n_losses].spend = cost * most;
				n_losses++;
			}
		}
		if (s->found && cutoff - s->best_val < -ILP_RC_EPS) {
			if (n_counts + s->n_items > cap_counts) {
				cap_counts = (n_counts + s->n_items) * 2;
				counts = s->host->realloc(s->host->ctx, counts,
							  cap_counts * 2 * sizeof(uint32_t));
			}
			cands[nc].rc = cutoff - s->best_val;
			cands[nc].kind = kk;
			cands[nc].off = n_counts;
			for (size_t i = 0; i < s->n_items; i++) {
				if (!s->it_best[i])
					continue;
				counts[2 * n_counts] = s->it_g[i];
				counts[2 * n_counts + 1] = s->it_best[i];
				n_counts++;
			}
			cands[nc].n = n_counts - cands[nc].off;
			nc++;
		}
	}
	/* Every kind's kind_rclb is of these duals: ilp_tighten_bound may use them. */
	s->rclb_fresh = !cut && !s->diving;
	s->round_d = dsum;
	if (!cut && !s->diving) {
		ilp_add_round(s, dsum + open_sum, theta);
		if (isfinite(theta)) {
			double all = capped_bound(dsum + open_sum, losses, n_losses);
			if (all > s->rounds[s->n_rounds - 1].all)
				s->rounds[s->n_rounds - 1].all = all;
		}
		if (nc == 0 && all_exact) {
			s->lp_complete = true;
			s->lp_z = dsum;
		}
	}
	qsort(cands, nc, sizeof(*cands), cand_cmp);
	for (size_t i = 0; i < nc && i < ILP_COLS_PER_ROUND; i++) {
		const struct bkind *k = &s->kinds[cands[i].kind];
		size_t before = s->ncol;
		struct column c = ilp_kind_column(s, k, cands[i].n);
		for (size_t j = 0; j < c.n; j++) {
			c.a[j].group = counts[2 * (cands[i].off + j)];
			c.a[j].count = counts[2 * (cands[i].off + j) + 1];
		}
		ilp_add_column(s, &c);
		if (s->ncol > before)
			added++;
	}
	hfree(s, counts);
	hfree(s, cands);
	hfree(s, losses);
	hfree(s, tmp);
	return cut ? -1 : added;
}

/*
 * The last round's bound again, with the kinds that set it priced anew
 * under the costlier bounds (the knapsack's LP, and for small nodes its
 * dynamic program), worst ratio -rcLB_b / c_b first, until `until`.  The
 * last round's duals and every kind's bound on its reduced cost are still
 * those of one round (s->rclb_fresh), so a tighter bound of a few kinds
 * makes a valid round of its own: theta is a maximum over the kinds, and
 * a few kinds whose search was cut short keep it far from 0 where all the
 * others are settled.  Columns the searches find are left out.
 */
void ilp_tighten_bound(struct solver *s, int64_t until)
{
	struct ratio *order = zalloc(s, s->nk, sizeof(*order)),
		     *tmp = zalloc(s, s->ng, sizeof(*tmp));
	struct loss *losses = zalloc(s, s->nk, sizeof(*losses));
	size_t n = 0, n_losses = 0;
	double open_sum = 0, theta = 0;
	bool proving = s->proving;
	int64_t cg = s->deadline_cg;

	if (!s->rclb_fresh || s->nk == 0)
		goto out;
	for (size_t kk = 0; kk < s->nk; kk++) {
		const struct bkind *k = &s->kinds[kk];
		double cost = (double)k->price / ILP_MICRO;
		if (s->kind_proven[kk] || s->kind_rclb[kk] >= 0)
			continue;
		order[n++] = (struct ratio){
		    k->open >= 0 || cost <= 0 ? DBL_MAX : -s->kind_rclb[kk] / cost, (uint32_t)kk};
	}
	qsort(order, n, sizeof(*order), ilp_ratio_cmp);
	s->proving = true;
	s->deadline_cg = s->search_until = until;
	for (size_t i = 0; i < n && ilp_now(s->clk) < until; i++) {
		size_t kk = order[i].item;
		const struct bkind *k = &s->kinds[kk];
		double cutoff = (double)k->price / ILP_MICRO - ilp_kind_const(s, k), ub;
		bool exact;
		s->clk->work += 1 + (int64_t)(k->ng / ILP_WORK_SCAN);
		ub = price_kind(s, kk, tmp, cutoff, &exact);
		if (cutoff - ub > s->kind_rclb[kk])
			s->kind_rclb[kk] = cutoff - ub;
	}
	for (size_t kk = 0; kk < s->nk; kk++) {
		const struct bkind *k = &s->kinds[kk];
		double cost = (double)k->price / ILP_MICRO, rclb = s->kind_rclb[kk];
		if (rclb >= 0)
			continue;
		if (k->open >= 0) {
			open_sum += rclb;
		} else if (cost <= 0) {
			theta = INFINITY;
		} else {
			if (-rclb / cost > theta)
				theta = -rclb / cost;
			losses[n_losses].theta = -rclb / cost;
			losses[n_losses].spend = cost * node_cap(s, k, cost);
			n_losses++;
		}
	}
	ilp_add_round(s, s->round_d + open_sum, theta);
	if (isfinite(theta)) {
		double all = capped_bound(s->round_d + open_sum, losses, n_losses);
		if (all > s->rounds[s->n_rounds - 1].all)
			s->rounds[s->n_rounds - 1].all = all;
	}
out:
	s->proving = proving;
	s->deadline_cg = cg;
	hfree(s, order);
	hfree(s, tmp);
	hfree(s, losses);
}
