/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * solve.c - binpack-ilp's solve of one part of a batch: the solver's state,
 * column generation, the dive and glp_intopt, and the part's bound.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "ilp.h"

struct mip_cb {
	const double *x; /* the incumbent, 1-based */
	bool given;
	int nodes;
	struct ilp_clock *clk;
	int64_t until; /* on the work clock */
	int64_t base;  /* the clock's reading when glp_intopt started */
	int iters0;    /* the master's iteration count then */
	int64_t node_cost;
};

/* Work glp_intopt has done so far: its simplex iterations and its nodes. */
static int64_t mip_work(const struct mip_cb *cb, glp_prob *lp)
{
	int64_t iters = glp_get_it_cnt(lp) - cb->iters0;

	return iters * ilp_iter_cost(lp) + (int64_t)cb->nodes * cb->node_cost;
}

static void mip_callback(glp_tree *tree, void *info)
{
	struct mip_cb *cb = info;
	int a, n, t;

	if (glp_ios_reason(tree) == GLP_IHEUR && !cb->given) {
		cb->given = true;
		glp_ios_heur_sol(tree, cb->x);
	}
	glp_ios_tree_size(tree, &a, &n, &t);
	cb->nodes = t;
	cb->clk->work = cb->base + mip_work(cb, glp_ios_get_prob(tree));
	if (t > ILP_BB_NODES || ilp_now(cb->clk) >= cb->until)
		glp_ios_terminate(tree);
}

/* The bound in dollars for plans placing all but u pods, best over the rounds. */
double ilp_bound_for(const struct solver *s, uint64_t u)
{
	double best = 0;

	for (size_t i = 0; i < s->n_rounds; i++) {
		const struct round_bound *r = &s->rounds[i];
		double v;
		if (u == 0 && r->all > best)
			best = r->all;
		if (!isfinite(r->theta))
			continue;
		v = (r->dprime - s->penalty * (double)u) / (1 + r->theta);
		if (v > best)
			best = v;
	}
	return best;
}

/* Whole micro-dollars no plan can beat: the bound less a margin for rounding. */
kerf_price_t ilp_bound_micro(double dollars)
{
	double m = dollars * ILP_MICRO;

	m -= 1e-9 * fabs(m) + 1e-3;
	if (!(m > 0))
		return 0;
	if (m > 9e18)
		return INT64_MAX;
	return (kerf_price_t)ceil(m);
}

void ilp_solver_free(struct solver *s)
{
	if (s->lp)
		glp_delete_prob(s->lp);
	for (size_t i = 0; i < s->ncol; i++)
		hfree(s, s->cols[i].a);
	hfree(s, s->cols);
	hfree(s, s->kinds);
	hfree(s, s->kg);
	hfree(s, s->conf_off);
	hfree(s, s->conf);
	hfree(s, s->self_conflict);
	hfree(s, s->row_open);
	hfree(s, s->row_nodes);
	hfree(s, s->row_lim);
	hfree(s, s->lim_scale);
	hfree(s, s->y);
	hfree(s, s->rounds);
	hfree(s, s->inc_x);
	hfree(s, s->item_of);
	hfree(s, s->it_g);
	hfree(s, s->it_val);
	hfree(s, s->it_ub);
	hfree(s, s->it_cnt);
	hfree(s, s->it_best);
	hfree(s, s->it_blocked);
	hfree(s, s->sfx_sum);
	hfree(s, s->sfx_ratio);
	hfree(s, s->it_size);
	hfree(s, s->clique);
	hfree(s, s->clique_best);
	hfree(s, s->clique_hit);
	hfree(s, s->pre_w);
	hfree(s, s->pre_v);
	hfree(s, s->lam);
	hfree(s, s->sfx_red);
	hfree(s, s->kind_lam);
	hfree(s, s->kind_rclb);
	hfree(s, s->kind_proven);
	hfree(s, s->resid);
}

/*
 * Partitions the groups into cliques of mutually conflicting groups,
 * greedily in index order: a group joins the first clique all of whose
 * members it conflicts with (a group in no conflict stands alone).
 */
static void find_cliques(struct solver *s)
{
	uint32_t *head = zalloc(s, s->ng, sizeof(uint32_t)),
		 *next = zalloc(s, s->ng, sizeof(uint32_t));
	uint8_t *mark = zalloc(s, s->ng, 1);
	size_t n = 0;

	s->clique = zalloc(s, s->ng, sizeof(uint32_t));
	s->clique_best = zalloc(s, s->ng, sizeof(double));
	s->clique_hit = zalloc(s, s->ng, sizeof(uint32_t));
	for (size_t g = 0; g < s->ng; g++) {
		size_t c = n;
		for (size_t e = s->conf_off[g]; e < s->conf_off[g + 1]; e++)
			mark[s->conf[e]] = 1;
		for (size_t k = 0; k < n && c == n && s->conf_off[g + 1] > s->conf_off[g]; k++) {
			bool all = true;
			for (uint32_t m = head[k]; m != UINT32_MAX && all; m = next[m])
				all = mark[m] != 0;
			if (all)
				c = k;
		}
		for (size_t e = s->conf_off[g]; e < s->conf_off[g + 1]; e++)
			mark[s->conf[e]] = 0;
		if (c == n)
			head[n++] = UINT32_MAX;
		s->clique[g] = (uint32_t)c;
		next[g] = head[c];
		head[c] = (uint32_t)g;
	}
	hfree(s, head);
	hfree(s, next);
	hfree(s, mark);
}

void ilp_solver_init(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	double maxcost = 0;

	s->nd = p->n_dims;
	s->ng = p->n_groups;
	s->conf_off = zalloc(s, s->ng + 1, sizeof(size_t));
	s->conf = zalloc(s, 2 * p->n_conflicts, sizeof(uint32_t));
	s->self_conflict = zalloc(s, s->ng, sizeof(bool));
	for (size_t c = 0; c < p->n_conflicts; c++) {
		uint32_t a = p->conflicts[c]->a, b = p->conflicts[c]->b;
		if (a == b) {
			s->self_conflict[a] = true;
			continue;
		}
		s->conf_off[a + 1]++;
		s->conf_off[b + 1]++;
	}
	for (size_t g = 0; g < s->ng; g++)
		s->conf_off[g + 1] += s->conf_off[g];
	{
		size_t *fill = zalloc(s, s->ng + 1, sizeof(size_t));
		for (size_t c = 0; c < p->n_conflicts; c++) {
			uint32_t a = p->conflicts[c]->a, b = p->conflicts[c]->b;
			if (a == b)
				continue;
			s->conf[s->conf_off[a] + fill[a]++] = b;
			s->conf[s->conf_off[b] + fill[b]++] = a;
		}
		hfree(s, fill);
	}
	for (size_t t = 0; t < p->n_types; t++)
		for (size_t o = 0; o < p->types[t]->n_offerings; o++)
			if ((double)p->types[t]->offerings[o]->price / ILP_MICRO > maxcost)
				maxcost = (double)p->types[t]->offerings[o]->price / ILP_MICRO;
	{
		/* More than any plan of these pods costs, so placing pods comes first. */
		double pods = 1;
		for (size_t g = 0; g < s->ng; g++)
			pods += p->groups[g]->count;
		s->penalty = (pods < 1e6 ? pods : 1e6) * maxcost + 1;
	}
	s->item_of = zalloc(s, s->ng, sizeof(int32_t));
	for (size_t g = 0; g < s->ng; g++)
		s->item_of[g] = -1;
	s->it_g = zalloc(s, s->ng, sizeof(uint32_t));
	s->it_val = zalloc(s, s->ng, sizeof(double));
	s->it_ub = zalloc(s, s->ng, sizeof(uint32_t));
	s->it_cnt = zalloc(s, s->ng, sizeof(uint32_t));
	s->it_best = zalloc(s, s->ng, sizeof(uint32_t));
	s->it_blocked = zalloc(s, s->ng, sizeof(uint32_t));
	s->sfx_sum = zalloc(s, s->ng + 1, sizeof(double));
	s->sfx_ratio = zalloc(s, (s->ng + 1) * (s->nd ? s->nd : 1), sizeof(double));
	s->it_size = zalloc(s, s->ng, sizeof(double));
	find_cliques(s);
	s->pre_w = zalloc(s, s->ng + 1, sizeof(double));
	s->pre_v = zalloc(s, s->ng + 1, sizeof(double));
	s->lam = zalloc(s, s->nd, sizeof(double));
	s->sfx_red = zalloc(s, s->ng + 1, sizeof(double));
	s->resid = zalloc(s, s->nd, sizeof(int64_t));
}

/*
 * Solves the master LP within the work left before `until`; false when it
 * is not optimal, or when no work is left for GLPK at all.
 */
static bool solve_lp(struct solver *s, int64_t until)
{
	glp_smcp parm;
	int64_t left = until - ilp_now(s->clk) - ilp_call_cost(s->lp);
	int iters = glp_get_it_cnt(s->lp), rc;

	if (left < 1)
		return false;
	s->clk->work += ilp_call_cost(s->lp);
	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF;
	parm.it_lim = ilp_iter_limit(left, s->lp);
	parm.tm_lim = ilp_glpk_tm_lim(s->clk);
	rc = glp_simplex(s->lp, &parm);
	ilp_charge_iters(s->clk, glp_get_it_cnt(s->lp) - iters, s->lp);
	return rc == 0 && glp_get_status(s->lp) == GLP_OPT;
}

/*
 * Runs glp_intopt over the columns there are, until `until`, from the
 * incumbent, and keeps what it finds if better.  Over a master holding
 * every relevant column, a proven optimum (within the gap) is a bound.
 */
static void solve_mip(struct solver *s, double gap, int64_t until)
{
	glp_iocp parm;
	struct mip_cb cb = {NULL, false, 0, s->clk, until, 0, 0, 0};
	int st;

	cb.node_cost = ILP_WORK_BB_NODE + ilp_call_cost(s->lp);
	if (until - ilp_now(s->clk) < 2 * cb.node_cost)
		return;
	ilp_incumbent_fit(s);
	cb.x = s->inc_x;
	cb.base = s->clk->work;
	cb.iters0 = glp_get_it_cnt(s->lp);
	for (size_t j = 0; j < s->ncol; j++)
		glp_set_col_kind(s->lp, (int)(s->ng + 1 + j), GLP_IV);
	glp_init_iocp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF;
	parm.tm_lim = ilp_glpk_tm_lim(s->clk);
	/*
	 * GLPK's gap is relative to the objective, unplaced pods' penalty
	 * included: with pods left over it would stop at once, however far
	 * the nodes' price is from the best.  The gap is the nodes' price's.
	 */
	{
		double unplaced = 0;
		for (size_t g = 1; g <= s->ng; g++)
			unplaced += s->inc_x[g];
		if (unplaced > 0 && s->inc_obj > 0)
			gap *= fmax(0, s->inc_obj - s->penalty * unplaced) / s->inc_obj;
	}
	parm.mip_gap = gap;
	parm.cb_func = mip_callback;
	parm.cb_info = &cb;
	parm.fp_heur = GLP_ON;
	glp_intopt(s->lp, &parm);
	s->clk->work = cb.base + mip_work(&cb, s->lp);
	s->bb_nodes += cb.nodes;
	st = glp_mip_status(s->lp);
	if (st != GLP_OPT && st != GLP_FEAS)
		return;
	if (glp_mip_obj_val(s->lp) < s->inc_obj) {
		s->inc_obj = glp_mip_obj_val(s->lp);
		s->inc_mip = true;
		for (size_t j = 1; j < s->inc_len; j++)
			s->inc_x[j] = glp_mip_col_val(s->lp, (int)j);
	}
	/* glp_intopt prunes within its objective tolerance (1e-7): so does the bound. */
	if (s->all_relevant && st == GLP_OPT)
		ilp_add_round(s, glp_mip_obj_val(s->lp) * (1 - gap) * (1 - 2e-7), 0);
}

struct frac {
	double f;
	int j;
};

static int frac_cmp(const void *a, const void *b)
{
	const struct frac *x = a, *y = b;

	if (x->f != y->f)
		return x->f > y->f ? -1 : 1;
	return x->j - y->j;
}

/*
 * The LP's solution at its floors, the pods it leaves packed first-fit
 * decreasing within what the floors leave of the pools' limits: (*obj,
 * when cheaper than `than`) the price, and the plan's nodes join the
 * master as columns and x as one each.  Not with open nodes (the floors
 * may have taken them).  Returns true when it found the cheaper plan.
 */
static bool round_ffd(struct solver *s, double *x, const double *act, double than, double *obj)
{
	const struct kerf_pack_problem *p = s->p;
	struct kerf_pack_problem sub = *p;
	struct kerf_pack_group *gs;
	const struct kerf_pack_group **gl;
	struct kerf_pack_pool *ps;
	const struct kerf_pack_pool **pl;
	int64_t *rem;
	struct kerf_pack_plan *plan = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	double price = 0;
	size_t left = 0;
	bool better = false;

	if (p->n_open || s->max_types == 0)
		return false;
	gs = zalloc(s, s->ng, sizeof(*gs));
	gl = zalloc(s, s->ng, sizeof(*gl));
	ps = zalloc(s, p->n_pools, sizeof(*ps));
	pl = zalloc(s, p->n_pools, sizeof(*pl));
	rem = zalloc(s, p->n_pools * s->nd, sizeof(int64_t));
	for (size_t i = 0; i < p->n_pools; i++) {
		ps[i] = *p->pools[i];
		memcpy(&rem[i * s->nd], p->pools[i]->remaining, s->nd * sizeof(int64_t));
		ps[i].remaining = &rem[i * s->nd];
		pl[i] = &ps[i];
	}
	/* What the columns at their floors take of the pools' limits. */
	for (size_t j = 0; j < s->ncol; j++) {
		const struct column *c = &s->cols[j];
		const int64_t *cap = ffd_capacity_of(p, c->pool, c->type);
		int64_t k = (int64_t)x[s->ng + 1 + j];
		if (k <= 0)
			continue;
		if (ps[c->pool].nodes_remaining != INT64_MAX)
			ps[c->pool].nodes_remaining -= k;
		for (size_t d = 0; d < s->nd; d++)
			if (rem[c->pool * s->nd + d] != INT64_MAX)
				rem[c->pool * s->nd + d] -= k * cap[d];
	}
	sub.pools = pl;
	for (size_t g = 0; g < s->ng; g++) {
		double need = (double)p->groups[g]->count - act[g + 1];
		gs[g] = *p->groups[g];
		gs[g].count = need > 0.5 ? (uint32_t)ceil(need - 1e-6) : 0;
		left += gs[g].count > 0;
		gl[g] = &gs[g];
	}
	sub.groups = gl;
	for (int j = 1; j <= (int)(s->ng + s->ncol); j++)
		price += x[j] * glp_get_obj_coef(s->lp, j);
	s->clk->work += 1 + (int64_t)(left * p->n_types / ILP_WORK_SCAN);
	if (left && ffd_pack(s->host, s->max_types, &sub, &plan, &err) == 0) {
		price += (double)plan->total_price / ILP_MICRO;
		for (size_t u = 0; u < plan->n_unplaced; u++)
			price += s->penalty * plan->unplaced[u]->count;
		if (price < than) {
			for (size_t u = 0; u < plan->n_unplaced; u++)
				x[plan->unplaced[u]->group + 1] += plan->unplaced[u]->count;
			for (size_t i = 0; i < plan->n_nodes; i++) {
				const struct kerf_pack_node *n = plan->nodes[i];
				struct column c = {.open = n->open_index,
						   .pool = n->nodepool,
						   .type = n->type,
						   .zone = n->zone,
						   .ct = n->capacity_type,
						   .price = n->price,
						   .n = n->n_assign};
				size_t j;
				c.a = zalloc(s, n->n_assign, sizeof(*c.a));
				for (size_t a = 0; a < n->n_assign; a++) {
					c.a[a].group = n->assign[a]->group;
					c.a[a].count = n->assign[a]->count;
				}
				j = ilp_add_column(s, &c);
				x[s->ng + 1 + j] += 1;
			}
			*obj = price;
			better = true;
		}
	}
	kerf_pack_plan_free(plan);
	hfree(s, gs);
	hfree(s, gl);
	hfree(s, ps);
	hfree(s, pl);
	hfree(s, rem);
	return better;
}

/*
 * The LP's solution rounded to an integer one: every column at its floor,
 * then the fractional ones rounded up, largest fraction first, while a
 * group they hold still lacks pods.  Kept as the incumbent when it is
 * cheaper and within the master's <= rows (open nodes, pool limits).
 * Each step of a dive gets one, so a dive cut short still leaves a plan.
 */
static void round_greedy(struct solver *s)
{
	int n = (int)(s->ng + s->ncol), rows = s->n_rows;
	double *x = zalloc(s, (size_t)n + 1, sizeof(double)), *xf, *act0,
	       *act = zalloc(s, (size_t)rows + 1, sizeof(double)),
	       *val = zalloc(s, (size_t)rows + 1, sizeof(double));
	int *ind = zalloc(s, (size_t)rows + 1, sizeof(int));
	struct frac *fr = zalloc(s, (size_t)n, sizeof(*fr));
	size_t nf = 0;
	double obj = 0;
	bool ok = true;

	s->clk->work += ilp_call_cost(s->lp);
	for (int j = 1; j <= n; j++) {
		double v = glp_get_col_prim(s->lp, j), fl = floor(v + 1e-6);
		int len;
		x[j] = fl;
		if (v - fl > 1e-6)
			fr[nf++] = (struct frac){v - fl, j};
		if (fl <= 0)
			continue;
		len = glp_get_mat_col(s->lp, j, ind, val);
		for (int k = 1; k <= len; k++)
			act[ind[k]] += fl * val[k];
	}
	/* The floors again, for round_ffd, which may add columns (x grows with them). */
	act0 = zalloc(s, (size_t)rows + 1, sizeof(double));
	memcpy(act0, act, ((size_t)rows + 1) * sizeof(double));
	xf = zalloc(s, (size_t)n + 1, sizeof(double));
	memcpy(xf, x, ((size_t)n + 1) * sizeof(double));
	qsort(fr, nf, sizeof(*fr), frac_cmp);
	for (size_t i = 0; i < nf; i++) {
		int len = glp_get_mat_col(s->lp, fr[i].j, ind, val);
		bool needed = false;
		for (int k = 1; k <= len && !needed; k++)
			needed = ind[k] <= (int)s->ng &&
				 act[ind[k]] < glp_get_row_lb(s->lp, ind[k]) - 1e-9;
		if (!needed)
			continue;
		x[fr[i].j] += 1;
		for (int k = 1; k <= len; k++)
			act[ind[k]] += val[k];
	}
	for (int r = 1; r <= rows && ok; r++)
		ok = glp_get_row_type(s->lp, r) == GLP_LO
			 ? act[r] >= glp_get_row_lb(s->lp, r) - 1e-9
			 : act[r] <= glp_get_row_ub(s->lp, r) + 1e-9;
	for (int j = 1; j <= n; j++)
		obj += x[j] * glp_get_obj_coef(s->lp, j);
	if (ok && obj < s->inc_obj * (1 - 1e-12)) {
		ilp_incumbent_fit(s);
		s->inc_obj = obj;
		s->inc_mip = true;
		memcpy(s->inc_x, x, ((size_t)n + 1) * sizeof(double));
	}
	{
		/* Room for every column FFD's plan of the rest may add. */
		size_t most = (size_t)n + 1;
		double ffd_obj;
		for (size_t g = 0; g < s->ng; g++)
			most += s->p->groups[g]->count;
		xf = s->host->realloc(s->host->ctx, xf, most * sizeof(double));
		memset(xf + n + 1, 0, (most - (size_t)n - 1) * sizeof(double));
		if (round_ffd(s, xf, act0, s->inc_obj * (1 - 1e-12), &ffd_obj)) {
			ilp_incumbent_fit(s);
			s->inc_obj = ffd_obj;
			s->inc_mip = true;
			memcpy(s->inc_x, xf, (s->ng + s->ncol + 1) * sizeof(double));
		}
	}
	hfree(s, xf);
	hfree(s, act0);
	hfree(s, x);
	hfree(s, act);
	hfree(s, val);
	hfree(s, ind);
	hfree(s, fr);
}

/*
 * A dive from the master's LP optimum to an integer solution: columns keep
 * at least the floor of their value (those past half a unit, and the one
 * nearest, are rounded up) and the LP is solved again for what is left,
 * until it is integral.  Each step first prices the LP of what is left
 * (ILP_DIVE_ROUNDS rounds, each kind's search at its first size): its
 * duals value only the pods the fixed columns leave over, so the patterns
 * found are for those, where the columns of the whole batch's LP cover
 * them only with waste.  Every step's solution, rounded (round_greedy),
 * is a plan, so a dive the work limit cuts short still leaves one.  The
 * lower bounds are lifted again after.
 */
static void dive(struct solver *s, int64_t until)
{
	int64_t cg = s->deadline_cg;
	long dfs = s->dfs_limit;
	bool ok = true, proving = s->proving;
	uint8_t *hit = zalloc(s, s->ng + 1, 1);
	int *ind = zalloc(s, (size_t)s->n_rows + 1, sizeof(int));
	double *val = zalloc(s, (size_t)s->n_rows + 1, sizeof(double)),
	       *y = zalloc(s, (size_t)s->n_rows + 1, sizeof(double));

	/* The enumeration reads the duals of the LP over all patterns: they stay. */
	memcpy(y, s->y, ((size_t)s->n_rows + 1) * sizeof(double));
	s->diving = true;
	s->proving = false;
	s->deadline_cg = until;
	s->dfs_limit = ILP_DFS_NODES;
	for (int iter = 0; ok && iter < (int)(s->ng + s->ncol); iter++) {
		int n;
		size_t nf = 0;
		struct frac *fr;
		ok = ilp_now(s->clk) < until && solve_lp(s, until);
		for (int round = 0; ok && iter > 0 && !s->lp_complete && round < ILP_DIVE_ROUNDS;
		     round++) {
			s->same_duals = false;
			if (ilp_price_round(s) <= 0)
				break;
			ok = solve_lp(s, until);
		}
		if (!ok)
			break;
		round_greedy(s);
		n = (int)(s->ng + s->ncol);
		fr = zalloc(s, (size_t)n, sizeof(*fr));
		for (int j = 1; j <= n; j++) {
			double x = glp_get_col_prim(s->lp, j), fl = floor(x + 1e-6);
			if (x - fl > 1e-6)
				fr[nf++] = (struct frac){x - fl, j};
			if (fl > glp_get_col_lb(s->lp, j))
				glp_set_col_bnds(s->lp, j, GLP_LO, fl, 0.0);
		}
		/*
		 * Up: the largest fraction, and those past half a unit that hold
		 * no group another column rounded up in this step holds (two such
		 * would cover the same pods twice).
		 */
		qsort(fr, nf, sizeof(*fr), frac_cmp);
		memset(hit, 0, s->ng + 1);
		for (size_t i = 0; i < nf && (i == 0 || fr[i].f >= ILP_DIVE_UP); i++) {
			int len = glp_get_mat_col(s->lp, fr[i].j, ind, val);
			bool clash = false;
			for (int k = 1; k <= len && !clash; k++)
				clash = ind[k] <= (int)s->ng && hit[ind[k]];
			if (clash)
				continue;
			for (int k = 1; k <= len; k++)
				if (ind[k] <= (int)s->ng)
					hit[ind[k]] = 1;
			glp_set_col_bnds(s->lp, fr[i].j, GLP_LO,
					 ceil(glp_get_col_prim(s->lp, fr[i].j)), 0.0);
		}
		hfree(s, fr);
		if (nf == 0)
			break;
	}
	for (int j = 1; j <= (int)(s->ng + s->ncol); j++)
		glp_set_col_bnds(s->lp, j, GLP_LO, 0.0, 0.0);
	memcpy(s->y, y, ((size_t)s->n_rows + 1) * sizeof(double));
	hfree(s, y);
	hfree(s, hit);
	hfree(s, ind);
	hfree(s, val);
	s->diving = false;
	s->proving = proving;
	s->deadline_cg = cg;
	s->dfs_limit = dfs;
	s->same_duals = false;
}

/* True when the incumbent is within the gap of the best bound so far. */
static bool within_gap(const struct solver *s, double gap)
{
	return s->inc_obj - ilp_bound_for(s, 0) <= gap * s->inc_obj;
}

/*
 * Solves one part of the batch (the problem with every other group's count
 * at 0) between start and deadline: FFD's plan (ffd, or computed here when
 * NULL; taken over either way), then column generation and the integer
 * program.  *out is the better plan with its bound.
 */
int ilp_solve_part(const struct ilp *ip, struct ilp_clock *clk,
		   const struct kerf_pack_problem *problem, struct kerf_pack_plan *ffd,
		   int64_t start, int64_t deadline, struct kerf_pack_plan **out,
		   struct kerf_error *err)
{
	const struct kerf_host *host = ip->host;
	struct solver s;
	struct kerf_pack_plan *best, *mip = NULL;
	double gap = (double)ip->gap_bps / 10000.0, stall[ILP_STALL] = {0};
	int64_t budget = deadline - start;
	uint64_t pods = 0;
	bool lp_ok = false, from_mip = false;

	if (!ffd) {
		int rc = ffd_pack(host, ip->max_types, problem, &ffd, err);
		if (rc)
			return rc;
	}
	for (size_t g = 0; g < problem->n_groups; g++)
		pods += problem->groups[g]->count;
	memset(&s, 0, sizeof(s));
	s.host = host;
	s.clk = clk;
	s.p = problem;
	s.max_types = ip->max_types;
	s.dfs_limit = ILP_DFS_NODES;
	s.deadline = deadline - budget / 20;
	s.deadline_cg = start + budget / 100 * ILP_CG_SHARE + budget % 100 * ILP_CG_SHARE / 100;
	ilp_solver_init(&s);
	best = ffd;
	/* With next to no time left, FFD's plan is the answer. */
	if (pods > 0 && deadline - ilp_now(clk) >= ILP_MIN_WORK && ilp_build_kinds(&s)) {
		/*
		 * Over hundreds of kinds, the first rounds' columns need not be each
		 * kind's best: a shallower search gets the LP near its optimum in a
		 * fraction of the work, and the search deepens once it finds nothing.
		 */
		if (s.nk > 0 && ILP_ROUND_NODES / (long)s.nk < s.dfs_limit)
			s.dfs_limit = ILP_ROUND_NODES / (long)s.nk > ILP_DFS_MIN
					  ? ILP_ROUND_NODES / (long)s.nk
					  : ILP_DFS_MIN;
		ilp_build_master(&s);
		ilp_seed_ffd(&s, ffd);
		ilp_seed_homogeneous(&s);
		ilp_volume_bounds(&s);
		if (ilp_pattern_leaves(&s) <= ILP_FULL_LEAVES)
			s.all_relevant =
			    ilp_enumerate_kinds(&s, INFINITY, ILP_ENUM_COLUMNS, s.deadline_cg);
		for (size_t round = 0; s.n_rounds < ILP_MAX_ROUNDS; round++) {
			int added;
			lp_ok = solve_lp(&s, s.deadline_cg);
			if (!lp_ok)
				break;
			s.lp_iters = glp_get_it_cnt(s.lp);
			added = ilp_price_round(&s);
			if (added < 0 || s.lp_complete)
				break;
			/*
			 * Tailing off (the LP's value moved less than 0.01 % in the last
			 * ILP_STALL rounds): the bound matters more than the columns.
			 * From here on each kind the quick bounds leave open gets its
			 * knapsack's LP (and, small, its dynamic program); the columns
			 * found still join, as each one found means theta cannot reach
			 * 0 without it, and once none does the search goes deeper.
			 */
			stall[round % ILP_STALL] = s.rounds[s.n_rounds - 1].dprime;
			if (round >= ILP_STALL &&
			    stall[(round + 1) % ILP_STALL] - stall[round % ILP_STALL] <=
				1e-4 * stall[round % ILP_STALL])
				s.proving = true;
			s.same_duals = added == 0;
			if (s.same_duals) {
				/* Nothing new, nothing proven: search harder, or give up. */
				if (s.dfs_limit >= ILP_DFS_NODES_MAX)
					break;
				s.dfs_limit *= 8;
				continue;
			}
			/* The incumbent is within the gap already: nothing left to win. */
			if (within_gap(&s, gap))
				break;
		}
		/*
		 * Column generation ran out of work before the LP was proven: the
		 * kinds that keep the bound loose get the costlier bounds, with an
		 * eighth of what is left.
		 */
		if (!s.lp_complete)
			ilp_tighten_bound(&s, ilp_now(clk) + (s.deadline - ilp_now(clk)) / 8);
		/*
		 * With the LP proven over all patterns the enumeration and
		 * glp_intopt can still prove a plan optimal: they keep two thirds.
		 * Without, the dive is what finds the plan: it gets three quarters.
		 */
		dive(&s, s.lp_complete ? ilp_now(clk) + (s.deadline - ilp_now(clk)) / 3
				       : s.deadline - (s.deadline - ilp_now(clk)) / 4);
		/* intopt needs an optimal basis of the columns as they now are. */
		lp_ok = solve_lp(&s, s.deadline);
		/* With the LP solved over every pattern, a second pass may follow: time for it. */
		if (lp_ok)
			solve_mip(&s, gap,
				  s.lp_complete && !s.all_relevant
				      ? ilp_now(clk) + (s.deadline - ilp_now(clk)) / 3
				      : s.deadline);
		/*
		 * Every column of a plan cheaper than the incumbent has a reduced
		 * cost below their difference (the duals are optimal over all
		 * patterns), so with those columns the master holds the optimum.
		 * The slack covers the pricing's tolerance, once per node.  Each
		 * pass may add more columns than the last, and needs GLPK after
		 * its enumeration: none starts without ILP_MIN_WORK left.
		 */
		for (size_t pass = 0, cap = ILP_ENUM_COLUMNS;
		     pass < 3 && lp_ok && s.lp_complete && !s.all_relevant &&
		     !within_gap(&s, gap) && s.deadline - ilp_now(clk) >= ILP_MIN_WORK;
		     pass++, cap *= 4) {
			double delta = s.inc_obj - s.lp_z + ILP_RC_EPS * (double)(pods + 1) + 1e-6;
			int64_t left = s.deadline - ilp_now(clk);
			s.all_relevant =
			    ilp_enumerate_kinds(&s, delta, cap, ilp_now(clk) + left / 2);
			lp_ok = solve_lp(&s, s.deadline);
			if (lp_ok)
				solve_mip(&s, gap,
					  s.all_relevant || pass == 2
					      ? s.deadline
					      : ilp_now(clk) + (s.deadline - ilp_now(clk)) / 2);
		}
		if (s.inc_mip) {
			ilp_incumbent_fit(&s);
			mip = ilp_plan_of(&s, s.inc_x);
		}
	}
	if (mip) {
		uint64_t pm = ilp_placed_pods(problem, mip), pf = ilp_placed_pods(problem, ffd);
		if (pm > pf || (pm == pf && mip->total_price < ffd->total_price)) {
			best = mip;
			from_mip = true;
			kerf_pack_plan_free(ffd);
		} else {
			kerf_pack_plan_free(mip);
		}
	}
	best->lower_bound =
	    ilp_bound_micro(ilp_bound_for(&s, pods - ilp_placed_pods(problem, best)));
	if (best->lower_bound > best->total_price)
		best->lower_bound = best->total_price;
	host->log(host->ctx, KERF_LOG_DEBUG,
		  "ilp: %" PRIu64 " pods in %zu groups, %zu bin kinds, %zu columns, %zu rounds%s, "
		  "%d LP iterations, %d B&B nodes; price %.6f bound %.6f (%s), %" PRId64 " units",
		  pods, problem->n_groups, s.nk, s.ncol, s.n_rounds,
		  s.lp_complete ? " (LP optimal over all patterns)" : "", s.lp_iters, s.bb_nodes,
		  (double)best->total_price / ILP_MICRO, (double)best->lower_bound / ILP_MICRO,
		  from_mip ? "ILP plan" : "first-fit plan", clk->work - start);
	ilp_solver_free(&s);
	*out = best;
	return 0;
}
