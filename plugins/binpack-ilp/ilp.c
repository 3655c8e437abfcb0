/*
 * ilp.c - binpack-ilp, the cost-optimal packer on GLPK.
 *
 * Model.  Identical pods are already one group with a count, so the model
 * never looks at single pods or single nodes.  A PATTERN is one node's
 * worth of pods: a bin kind (a new node of one NodePool, instance type and
 * offering, or one of the open nodes) plus a count per group that fits it,
 * respects max_per_node and the conflicts, and uses only groups that list
 * the type and allow the zone and capacity type.  The master problem
 * (Gilmore-Gomory) picks an integer multiplicity x_k per pattern:
 *
 *   min  sum_k c_k x_k + P sum_g s_g
 *   s.t. sum_k a_gk x_k + s_g >= count_g        every group g   (duals pi_g >= 0)
 *        sum_{k on open node o} x_k <= 1        every open node
 *        sum_{k new in pool p} x_k <= nodes     pools with a node limit
 *        sum_{k new in pool p} cap_td x_k <= rem_d   limited dims (scaled to rem_d)
 *
 * s_g are pods left unplaced at a penalty P per pod, more than any plan of
 * the batch costs, so placing pods always comes first.  Identical nodes are
 * one column with a multiplicity, which removes the node-permutation
 * symmetry that makes per-pod assignment models stall.
 *
 * Columns.  FFD's plan seeds the master (its nodes are the first columns),
 * with one homogeneous pattern per group.  Then column generation on the
 * LP relaxation: each round the LP's duals price every bin kind - a
 * multi-dimensional bounded knapsack with conflicts, solved by depth-first
 * search under a node cap, pruned by per-dimension, surrogate and
 * Lagrangian bounds (multipliers fitted per kind by coordinate descent on
 * the knapsack's LP dual) - and the most negative reduced-cost patterns
 * join.  Bin kinds dominated by another of the same pool and compatible
 * groups (allocatable >=, price <=, and in the pool's limited dimensions a
 * capacity <=) are never priced: any pattern of theirs is a cheaper pattern
 * of the dominating kind.  glp_intopt then solves the master over the
 * generated columns, FFD's plan handed in as its first incumbent, or a
 * better one a dive finds first: the LP's columns kept at their floors,
 * one rounded up at a time, the LP solved again, until it is integral.
 *
 * Lower bound.  For duals y of the right signs (clamped: >= rows y >= 0,
 * <= rows y <= 0, and pi_g <= P), reduced costs rc_k = c_k - y.A_k and
 * D = y.b, every feasible x costs at least D + sum_k rc_k x_k.  For a bin
 * kind b, rc >= rcLB_b = c_b - (node and limit duals of b) - UB_b where UB_b
 * bounds the pricing maximum: exact when the search finished, otherwise the
 * best of the knapsack's relaxations (conflicts ignored): per dimension,
 * surrogate, Lagrangian, and for a kind the search cannot settle the
 * knapsack's LP solved outright (whose rounded solution is also a column:
 * on large nodes it is the pattern the search's greedy dive misses) and,
 * where the rooms are few units of the requests' common divisors (small
 * nodes, where the LP loses most), the exact dynamic program.  So new nodes
 * have rc_k >= -theta c_k with theta = max(0, max_b -rcLB_b / c_b), and an
 * open node, used at most once, adds at least min(0, rcLB_o).  With
 * D' = D + sum_o min(0, rcLB_o), a plan with u unplaced pods whose new
 * nodes cost N satisfies N + P u >= D' - theta N, hence
 *
 *   N >= (D' - P u) / (1 + theta),
 *
 * which bounds every plan that places at least as many pods (with P this
 * large, in practice only plans placing every pod get a bound above 0).
 * One kind with a bad ratio need not cost every node that ratio: for plans
 * placing every pod, each kind's nodes are capped in number (capped_bound,
 * node_cap) and the loss sum_b rcLB_b x_b is a fractional knapsack over
 * the kinds, worst ratio first.
 * The best over all rounds is reported, rounded to whole micro-dollars only
 * past a margin for floating-point error (plan prices are whole
 * micro-dollars).  When the pricing proves no pattern has a negative
 * reduced cost, theta is 0 and the bound is the LP optimum over all
 * patterns.  A volume bound joins it: every pod costs at least its
 * cheapest price per unit of resource (see volume_bound).
 *
 * Proofs.  On small problems every maximal pattern is a column (a node can
 * always be filled up to one at the same price, the extra pods trimmed
 * away), so glp_intopt's optimum is the problem's.  Otherwise, once the LP
 * is optimal over all patterns, any plan cheaper than the incumbent uses
 * only columns whose reduced cost is below the difference of the two, so
 * enumerating those makes glp_intopt's optimum the problem's again, when
 * the enumeration finishes.  A plan meeting its bound is reported optimal.
 *
 * Plans.  Every plan the integer program gives is rebuilt like FFD builds
 * its own: each node's options are the types that hold its whole
 * assignment, are listed by every group on it and have an allowed
 * offering, ordered by capacity-type priority (reserved, spot, on-demand),
 * price and index.  In a pool with a resource limit, options are
 * restricted to types no larger (in the limited dimensions) than the
 * pattern's, and then than the chosen one, so the pool is charged exactly
 * what the LP counted.  If the priority would pick something dearer than
 * the pattern's offering, the node keeps the pattern's capacity type, so a
 * node never costs more than its column.  The answer is the better of
 * FFD's plan and the integer program's: more pods placed first, then the
 * lower price.
 *
 * Parts.  Groups that share no instance type (in a pool), no open node and
 * no pool whose limits could bind are independent: each part is solved on
 * its own, one after the other, with a share of the budget by its number
 * of groups and a quarter of the gap (the gap is the batch's, and one part
 * that cannot close it needs the others closer), and their bounds add up.
 * A part of more than ILP_PART_GROUPS groups is cut into pieces solved in
 * sequence, each seeing the pool limits and open-node room the earlier ones
 * took, and the earlier pieces' new nodes as open nodes with the room their
 * pods leave (at no price: they are paid for).  Groups in conflict or
 * capped per node go first, since they decide how many nodes there are;
 * the pieces after fill those nodes, each with pods of every size.  Pieces prove no bound.  So the whole batch gets bounds of its own,
 * valid however it is cut, and the best bound stands: the volume bound and
 * a count bound, a small LP over the new-node kinds whose rows say how many
 * nodes each clique of conflicting groups needs under max_per_node and how
 * much room its pods take (see count_bound).  A cut batch computes them
 * before its pieces, with at most a quarter of the budget; otherwise they
 * come after, when time is left and the parts left a gap.
 *
 * Determinism: rounds, search nodes and branch-and-bound nodes are capped
 * by counts, so a solve that finishes inside its time budget always gives
 * the same plan; the budget is a safety net for problems too big for it.
 * GLPK prints nothing (terminal output off, message level off).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include <kerf/plugin.h>

#include "../binpack-ffd/ffd.h"

#define ILP_DEFAULT_MAX_TYPES 60
#define ILP_MAX_ROUNDS 400	 /* column-generation rounds */
#define ILP_DFS_NODES 3000	 /* search nodes per bin kind and round, at first */
#define ILP_DFS_NODES_MAX 800000 /* ... growing to this when the search proves too little */
#define ILP_STALL 6		 /* rounds over which a stalled LP is told */
#define ILP_MIN_MS 5		 /* a part with less time than this keeps FFD's plan */
#define ILP_PART_GROUPS 300	 /* most groups one master takes: larger components are cut */
#define ILP_FEW_ITEMS 128	 /* knapsacks this small get the tighter, slower bounds */
#define ILP_DP_WORK (1l << 23)	 /* most updates of one knapsack's dynamic program */
#define ILP_BB_NODES 20000	 /* branch-and-bound nodes */
#define ILP_COLS_PER_ROUND 60	 /* patterns added per round, most negative first */
#define ILP_CG_SHARE 60		 /* percent of the budget column generation may use */
#define ILP_RC_EPS 1e-7		 /* reduced costs above -eps count as non-negative */
#define ILP_MICRO 1e6		 /* micro-dollars per dollar */
#define ILP_FULL_LEAVES 60000	 /* enumerate every pattern when the search is this small */
#define ILP_ENUM_NODES 2000000	 /* search nodes per kind when enumerating patterns */
#define ILP_ENUM_COLUMNS 4000	 /* most columns one enumeration adds (intopt slows past that) */

#define CT_ALL                                                                                     \
	((1u << KERF_CAPACITY_ON_DEMAND) | (1u << KERF_CAPACITY_SPOT) |                            \
	 (1u << KERF_CAPACITY_RESERVED))

struct ilp {
	const struct kerf_host *host;
	size_t max_types;
	int64_t budget_ms;
	int64_t gap_bps;
};

/* A node the master can use: a new node of one offering, or an open node. */
struct bkind {
	int32_t open; /* index into problem->open, -1: a new node */
	uint32_t pool;
	uint32_t type;
	uint32_t zone;
	kerf_capacity_type ct;
	kerf_price_t price;
	const int64_t *room;
	size_t goff, ng; /* its compatible groups: s->kg[goff .. goff + ng) */
	uint64_t hash;
};

/* A column: a bin kind's type and offering, and per-group counts. */
struct column {
	int32_t open;
	uint32_t pool;
	uint32_t type;
	uint32_t zone;
	kerf_capacity_type ct;
	kerf_price_t price;
	size_t n;
	struct ffd_assign *a; /* ascending groups */
	uint64_t hash;
};

/* One round's ingredients of the bound, kept to finish it once u is known. */
struct round_bound {
	double dprime;
	double theta;
	double all; /* the bound on plans placing every pod, in dollars */
};

/* A bin kind's share of the capped bound: its ratio -rcLB_b / c_b and c_b U_b. */
struct loss {
	double theta;
	double spend;
};

struct solver {
	const struct kerf_host *host;
	const struct kerf_pack_problem *p;
	size_t nd, ng;
	int64_t deadline_cg, deadline;
	double penalty; /* P, dollars per unplaced pod */

	size_t *conf_off; /* CSR: conflict partners per group */
	uint32_t *conf;
	bool *self_conflict;

	size_t nk;
	struct bkind *kinds;
	uint32_t *kg; /* compatible groups of all kinds */
	size_t n_kg, cap_kg;

	size_t ncol, cap_col;
	struct column *cols;

	/* rows: groups, open nodes, pool node rows, pool limit rows */
	int *row_open;	   /* per open node, 0: none */
	int *row_nodes;	   /* per pool */
	int *row_lim;	   /* per pool * nd */
	double *lim_scale; /* per pool * nd */
	int n_rows;

	glp_prob *lp;
	double *y; /* duals by row, 1-based */

	size_t n_rounds, cap_rounds;
	struct round_bound *rounds;
	bool lp_complete;  /* pricing proved no negative reduced cost */
	bool all_relevant; /* every column an optimal plan may need is in the master */
	double lp_z;	   /* the LP optimum over all patterns, once lp_complete */

	/* the best integer solution so far, by column (1-based, slacks first) */
	double *inc_x;
	size_t inc_len;
	double inc_obj;
	bool inc_mip; /* found by glp_intopt, not FFD's */
	int lp_iters;
	int bb_nodes;

	/* pricing scratch */
	int32_t *item_of; /* per group: item index, -1 */
	uint32_t *it_g;
	double *it_val;
	uint32_t *it_ub;
	uint32_t *it_cnt, *it_best;
	uint32_t *it_blocked;
	double *sfx_sum;
	double *sfx_ratio;
	double *it_size;       /* surrogate size: sum over dimensions of request / room */
	uint32_t *clique;      /* per group: its clique of mutually conflicting groups */
	double *clique_best;   /* per clique, scratch of items_bound (all 0 between calls) */
	uint32_t *clique_hit;  /* the cliques items_bound touched */
	double *pre_w, *pre_v; /* prefix sums of whole items' surrogate sizes and values */
	double *lam;	       /* Lagrange multipliers of the dimensions, this kind */
	double *kind_lam;      /* the last multipliers fitted, per kind (nk * nd) */
	double *kind_rclb;     /* per kind, the last round's bound on its reduced costs */
	bool *kind_proven;     /* per kind, that bound is exact or non-negative */
	bool same_duals;       /* the master has not changed since the last round */
	bool proving;	       /* the LP has stalled: kinds get the costlier bounds */
	double *sfx_red;       /* suffix sums of ub * max(0, value - lam . request) */
	double sur_left;       /* surrogate room left */
	int64_t *resid;
	size_t n_items;
	double best_val;
	bool found;
	long dfs_nodes, dfs_limit;
	int64_t search_until; /* no search goes on past this, however few its nodes */
	size_t enum_cap;      /* the master's columns an enumeration stops at */
	bool dfs_aborted;
};

/* ------------------------------------------------------------ helpers */

static void *zalloc(const struct solver *s, size_t n, size_t size)
{
	return s->host->calloc(s->host->ctx, n ? n : 1, size ? size : 1);
}

static void hfree(const struct solver *s, void *ptr)
{
	if (ptr)
		s->host->free(s->host->ctx, ptr);
}

static int64_t now_ms(const struct kerf_host *host)
{
	return KERF_HOST_HAS(host, mono_ms) ? host->mono_ms(host->ctx) : 0;
}

static bool dim_limited(const struct solver *s, uint32_t pool, size_t d)
{
	return s->p->pools[pool]->remaining[d] != INT64_MAX;
}

/* Pods of `req` that fit in room (at most cap, so the count is a uint32_t). */
static uint32_t fits(size_t nd, const int64_t *room, const int64_t *req, uint32_t cap)
{
	return (uint32_t)ffd_fits(nd, room, NULL, req, cap);
}

/* Most pods of g one node may hold, before capacity. */
static uint32_t per_node_cap(const struct solver *s, uint32_t g)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	uint32_t k = gr->count;

	if (gr->max_per_node && gr->max_per_node < k)
		k = gr->max_per_node;
	if (s->self_conflict[g] && k > 1)
		k = 1;
	return k;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* ------------------------------------------------------------ bin kinds */

static void push_kg(struct solver *s, uint32_t g)
{
	if (s->n_kg == s->cap_kg) {
		s->cap_kg = s->cap_kg ? s->cap_kg * 2 : 1024;
		s->kg = s->host->realloc(s->host->ctx, s->kg, s->cap_kg * sizeof(*s->kg));
	}
	s->kg[s->n_kg++] = g;
}

static struct bkind *push_kind(struct solver *s, size_t *cap)
{
	if (s->nk == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		s->kinds = s->host->realloc(s->host->ctx, s->kinds, *cap * sizeof(*s->kinds));
	}
	memset(&s->kinds[s->nk], 0, sizeof(s->kinds[0]));
	return &s->kinds[s->nk++];
}

static bool group_allows(const struct kerf_pack_group *gr, uint32_t zone, kerf_capacity_type ct)
{
	return (gr->zone < 0 || (uint32_t)gr->zone == zone) && (gr->capacity_types & (1u << ct));
}

/* Closes a kind's group list: its hash, or drops the kind when no group fits. */
static void finish_kind(struct solver *s, struct bkind *k)
{
	uint64_t h = mix(k->pool + 1, k->open + 2);

	k->ng = s->n_kg - k->goff;
	if (k->ng == 0) {
		s->nk--;
		return;
	}
	for (size_t i = 0; i < k->ng; i++)
		h = mix(h, s->kg[k->goff + i]);
	k->hash = h;
}

static int kind_cmp(const void *a, const void *b)
{
	const struct bkind *x = a, *y = b;

	if (x->open != y->open)
		return x->open < y->open ? -1 : 1;
	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->ng != y->ng)
		return x->ng < y->ng ? -1 : 1;
	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return (int)x->ct - (int)y->ct;
}

static bool same_groups(const struct solver *s, const struct bkind *x, const struct bkind *y)
{
	return x->open == y->open && x->pool == y->pool && x->hash == y->hash && x->ng == y->ng &&
	       memcmp(&s->kg[x->goff], &s->kg[y->goff], x->ng * sizeof(uint32_t)) == 0;
}

/* True when kind a (no dearer) makes kind b redundant: see the top of the file. */
static bool dominates(const struct solver *s, const struct bkind *a, const struct bkind *b)
{
	const int64_t *ca = ffd_capacity_of(s->p, a->pool, a->type),
		      *cb = ffd_capacity_of(s->p, b->pool, b->type);

	if (a->price > b->price)
		return false;
	for (size_t d = 0; d < s->nd; d++) {
		if (a->room[d] < b->room[d])
			return false;
		if (dim_limited(s, a->pool, d) && ca[d] > cb[d])
			return false;
	}
	return true;
}

/*
 * Every offering of every type a pool's groups list, with the groups it can
 * take, then only the kinds no other kind of the same groups dominates.
 * Returns false when the deadline passed first.
 */
static bool build_kinds(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	size_t cap = 0, kept = 0;
	uint32_t **tgroups = zalloc(s, p->n_types, sizeof(*tgroups));
	size_t *tn = zalloc(s, p->n_types, sizeof(size_t));
	size_t *tcap = zalloc(s, p->n_types, sizeof(size_t));
	bool ok = true;

	/* Groups per type, by pool (groups come in index order, so lists ascend). */
	for (uint32_t pool = 0; pool < p->n_pools && ok; pool++) {
		for (size_t t = 0; t < p->n_types; t++)
			tn[t] = 0;
		for (size_t g = 0; g < s->ng; g++) {
			const struct kerf_pack_group *gr = p->groups[g];
			if (gr->nodepool != pool || gr->count == 0)
				continue;
			for (size_t i = 0; i < gr->n_types; i++) {
				uint32_t t = gr->types[i];
				if (!fits(s->nd, p->types[t]->allocatable, gr->request, 1))
					continue;
				if (tn[t] == tcap[t]) {
					tcap[t] = tcap[t] ? tcap[t] * 2 : 8;
					tgroups[t] = s->host->realloc(s->host->ctx, tgroups[t],
								      tcap[t] * sizeof(uint32_t));
				}
				tgroups[t][tn[t]++] = (uint32_t)g;
			}
		}
		if (p->pools[pool]->nodes_remaining <= 0)
			continue;
		for (size_t t = 0; t < p->n_types && ok; t++) {
			const struct kerf_pack_type *ty = p->types[t];
			const int64_t *c = ffd_capacity_of(s->p, pool, t);
			bool room = tn[t] > 0;
			if ((t & 63) == 63)
				ok = now_ms(s->host) < s->deadline_cg;
			for (size_t d = 0; d < s->nd && room; d++)
				room = !dim_limited(s, pool, d) ||
				       c[d] <= p->pools[pool]->remaining[d];
			for (size_t o = 0; o < ty->n_offerings && room; o++) {
				const struct kerf_pack_offering *of = ty->offerings[o];
				struct bkind *k = push_kind(s, &cap);
				k->open = -1;
				k->pool = pool;
				k->type = (uint32_t)t;
				k->zone = of->zone;
				k->ct = of->capacity_type;
				k->price = of->price;
				k->room = ty->allocatable;
				k->goff = s->n_kg;
				for (size_t i = 0; i < tn[t]; i++)
					if (group_allows(p->groups[tgroups[t][i]], of->zone,
							 of->capacity_type))
						push_kg(s, tgroups[t][i]);
				finish_kind(s, k);
			}
		}
		ok = now_ms(s->host) < s->deadline_cg;
	}
	for (size_t t = 0; t < p->n_types; t++)
		hfree(s, tgroups[t]);
	hfree(s, tgroups);
	hfree(s, tn);
	hfree(s, tcap);

	for (size_t o = 0; o < p->n_open; o++) {
		const struct kerf_pack_open_node *on = p->open[o];
		struct bkind *k = push_kind(s, &cap);
		k->open = (int32_t)o;
		k->type = on->type;
		k->zone = on->zone;
		k->ct = on->capacity_type;
		k->room = on->remaining;
		k->goff = s->n_kg;
		for (size_t i = 0; i < on->n_groups; i++) {
			uint32_t g = on->groups[i];
			if (p->groups[g]->count &&
			    group_allows(p->groups[g], on->zone, on->capacity_type) &&
			    fits(s->nd, on->remaining, p->groups[g]->request, 1))
				push_kg(s, g);
		}
		finish_kind(s, k);
	}
	if (!ok)
		return false;

	if (s->nk)
		qsort(s->kinds, s->nk, sizeof(*s->kinds), kind_cmp);
	/* Within each run of equal group sets (cheapest first), keep the skyline. */
	for (size_t i = 0; i < s->nk;) {
		size_t j = i, run_start = kept;
		while (j < s->nk && same_groups(s, &s->kinds[i], &s->kinds[j]))
			j++;
		for (size_t c = i; c < j; c++) {
			bool dom = false;
			for (size_t k = run_start; k < kept && !dom; k++)
				dom = s->kinds[k].open < 0 &&
				      dominates(s, &s->kinds[k], &s->kinds[c]);
			if (!dom)
				s->kinds[kept++] = s->kinds[c];
		}
		i = j;
	}
	s->nk = kept;
	s->kind_lam = zalloc(s, s->nk * s->nd, sizeof(double));
	s->kind_rclb = zalloc(s, s->nk, sizeof(double));
	s->kind_proven = zalloc(s, s->nk, sizeof(bool));
	return true;
}

/* ------------------------------------------------------------ columns */

static uint64_t column_hash(const struct column *c)
{
	uint64_t h = mix((uint64_t)(c->open + 1), c->pool);

	h = mix(h, c->type);
	h = mix(h, c->zone);
	h = mix(h, (uint64_t)c->ct);
	for (size_t i = 0; i < c->n; i++)
		h = mix(mix(h, c->a[i].group), c->a[i].count);
	return h;
}

static bool same_column(const struct column *x, const struct column *y)
{
	return x->hash == y->hash && x->open == y->open && x->pool == y->pool &&
	       x->type == y->type && x->zone == y->zone && x->ct == y->ct && x->n == y->n &&
	       memcmp(x->a, y->a, x->n * sizeof(*x->a)) == 0;
}

static int assign_cmp(const void *a, const void *b)
{
	const struct ffd_assign *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

/* Index of column c among the master's, adding it when new (takes c->a). */
static size_t add_column(struct solver *s, struct column *c)
{
	int *ind;
	double *val;
	int n = 0, j;

	qsort(c->a, c->n, sizeof(*c->a), assign_cmp);
	c->hash = column_hash(c);
	for (size_t i = 0; i < s->ncol; i++)
		if (same_column(&s->cols[i], c)) {
			hfree(s, c->a);
			return i;
		}
	if (s->ncol == s->cap_col) {
		s->cap_col = s->cap_col ? s->cap_col * 2 : 64;
		s->cols = s->host->realloc(s->host->ctx, s->cols, s->cap_col * sizeof(*s->cols));
	}
	s->cols[s->ncol] = *c;

	ind = zalloc(s, c->n + s->nd + 3, sizeof(int));
	val = zalloc(s, c->n + s->nd + 3, sizeof(double));
	for (size_t i = 0; i < c->n; i++) {
		ind[++n] = (int)c->a[i].group + 1;
		val[n] = c->a[i].count;
	}
	if (c->open >= 0) {
		ind[++n] = s->row_open[c->open];
		val[n] = 1;
	} else {
		const int64_t *cap = ffd_capacity_of(s->p, c->pool, c->type);
		if (s->row_nodes[c->pool]) {
			ind[++n] = s->row_nodes[c->pool];
			val[n] = 1;
		}
		for (size_t d = 0; d < s->nd; d++) {
			size_t r = c->pool * s->nd + d;
			if (s->row_lim[r] && cap[d] != 0) {
				ind[++n] = s->row_lim[r];
				val[n] = (double)cap[d] / s->lim_scale[r];
			}
		}
	}
	j = glp_add_cols(s->lp, 1);
	glp_set_mat_col(s->lp, j, n, ind, val);
	glp_set_col_bnds(s->lp, j, GLP_LO, 0.0, 0.0);
	glp_set_obj_coef(s->lp, j, (double)c->price / ILP_MICRO);
	glp_set_col_stat(s->lp, j, GLP_NL);
	hfree(s, ind);
	hfree(s, val);
	return s->ncol++;
}

/* The master's rows and slack columns (columns 1..ng are the slacks). */
static void build_master(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	int r;

	s->lp = glp_create_prob();
	glp_set_obj_dir(s->lp, GLP_MIN);
	glp_add_rows(s->lp, (int)s->ng);
	for (size_t g = 0; g < s->ng; g++)
		glp_set_row_bnds(s->lp, (int)g + 1, GLP_LO, p->groups[g]->count, 0.0);
	r = (int)s->ng;
	s->row_open = zalloc(s, p->n_open, sizeof(int));
	for (size_t o = 0; o < p->n_open; o++) {
		s->row_open[o] = ++r;
		glp_add_rows(s->lp, 1);
		glp_set_row_bnds(s->lp, r, GLP_UP, 0.0, 1.0);
	}
	s->row_nodes = zalloc(s, p->n_pools, sizeof(int));
	s->row_lim = zalloc(s, p->n_pools * s->nd, sizeof(int));
	s->lim_scale = zalloc(s, p->n_pools * s->nd, sizeof(double));
	for (size_t i = 0; i < p->n_pools; i++) {
		const struct kerf_pack_pool *pp = p->pools[i];
		if (pp->nodes_remaining != INT64_MAX) {
			s->row_nodes[i] = ++r;
			glp_add_rows(s->lp, 1);
			glp_set_row_bnds(
			    s->lp, r, GLP_UP, 0.0,
			    (double)(pp->nodes_remaining > 0 ? pp->nodes_remaining : 0));
		}
		for (size_t d = 0; d < s->nd; d++) {
			size_t k = i * s->nd + d;
			if (!dim_limited(s, (uint32_t)i, d))
				continue;
			s->row_lim[k] = ++r;
			s->lim_scale[k] = pp->remaining[d] > 1 ? (double)pp->remaining[d] : 1.0;
			glp_add_rows(s->lp, 1);
			glp_set_row_bnds(s->lp, r, GLP_UP, 0.0,
					 pp->remaining[d] > 0
					     ? (double)pp->remaining[d] / s->lim_scale[k]
					     : 0.0);
		}
	}
	s->n_rows = r;
	s->y = zalloc(s, (size_t)r + 1, sizeof(double));
	glp_add_cols(s->lp, (int)s->ng);
	for (size_t g = 0; g < s->ng; g++) {
		int ind[2] = {0, (int)g + 1};
		double val[2] = {0, 1};
		glp_set_mat_col(s->lp, (int)g + 1, 1, ind, val);
		glp_set_col_bnds(s->lp, (int)g + 1, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(s->lp, (int)g + 1, s->penalty);
		glp_set_col_kind(s->lp, (int)g + 1, GLP_IV);
	}
}

/* A column of kind k with room for n counts. */
static struct column kind_column(const struct solver *s, const struct bkind *k, size_t n)
{
	struct column c = {.open = k->open,
			   .pool = k->pool,
			   .type = k->type,
			   .zone = k->zone,
			   .ct = k->ct,
			   .price = k->price,
			   .n = n};

	c.a = zalloc(s, n, sizeof(*c.a));
	return c;
}

/* FFD's nodes as columns, and FFD's solution as the first incumbent. */
static void seed_ffd(struct solver *s, const struct kerf_pack_plan *ffd)
{
	size_t *idx = zalloc(s, ffd->n_nodes, sizeof(size_t));
	double *x;

	for (size_t i = 0; i < ffd->n_nodes; i++) {
		const struct kerf_pack_node *n = ffd->nodes[i];
		struct column c = {.open = n->open_index,
				   .pool = n->nodepool,
				   .type = n->type,
				   .zone = n->zone,
				   .ct = n->capacity_type,
				   .price = n->price,
				   .n = n->n_assign};
		c.a = zalloc(s, n->n_assign, sizeof(*c.a));
		for (size_t a = 0; a < n->n_assign; a++) {
			c.a[a].group = n->assign[a]->group;
			c.a[a].count = n->assign[a]->count;
		}
		idx[i] = add_column(s, &c);
	}
	x = zalloc(s, s->ng + s->ncol + 1, sizeof(double));
	for (size_t i = 0; i < ffd->n_nodes; i++)
		x[s->ng + 1 + idx[i]] += 1;
	for (size_t u = 0; u < ffd->n_unplaced; u++)
		x[ffd->unplaced[u]->group + 1] += ffd->unplaced[u]->count;
	hfree(s, idx);
	s->inc_x = x;
	s->inc_len = s->ng + s->ncol + 1;
	s->inc_obj = 0;
	for (size_t j = 1; j < s->inc_len; j++)
		s->inc_obj += x[j] * glp_get_obj_coef(s->lp, (int)j);
}

/* Stretches the incumbent over columns added since (at 0). */
static void incumbent_fit(struct solver *s)
{
	size_t len = s->ng + s->ncol + 1;

	if (s->inc_len == len)
		return;
	s->inc_x = s->host->realloc(s->host->ctx, s->inc_x, len * sizeof(double));
	for (size_t j = s->inc_len; j < len; j++)
		s->inc_x[j] = 0;
	s->inc_len = len;
}

/*
 * One homogeneous pattern per group: as many of its pods as a node takes,
 * on the kind with the lowest price per pod.  They bound each group's dual
 * by a real price per pod from the first round, where FFD's columns alone
 * leave the master degenerate and its duals wild.
 */
static void seed_homogeneous(struct solver *s)
{
	double *best = zalloc(s, s->ng, sizeof(double));
	size_t *kind = zalloc(s, s->ng, sizeof(size_t));
	uint32_t *pods = zalloc(s, s->ng, sizeof(uint32_t));

	for (size_t kk = 0; kk < s->nk; kk++) {
		const struct bkind *k = &s->kinds[kk];
		if (k->open >= 0)
			continue;
		for (size_t i = 0; i < k->ng; i++) {
			uint32_t g = s->kg[k->goff + i];
			uint32_t u =
			    fits(s->nd, k->room, s->p->groups[g]->request, per_node_cap(s, g));
			double per_pod = (double)k->price / u;
			if (u && (!pods[g] || per_pod < best[g])) {
				best[g] = per_pod;
				kind[g] = kk;
				pods[g] = u;
			}
		}
	}
	for (size_t g = 0; g < s->ng; g++) {
		const struct bkind *k;
		struct column c;
		if (!pods[g])
			continue;
		k = &s->kinds[kind[g]];
		c = kind_column(s, k, 1);
		c.a[0].group = (uint32_t)g;
		c.a[0].count = pods[g];
		add_column(s, &c);
	}
	hfree(s, best);
	hfree(s, kind);
	hfree(s, pods);
}

/* ------------------------------------------------------------ pricing */

struct ratio {
	double r;
	uint32_t item;
};

static int ratio_cmp(const void *a, const void *b)
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
		qsort(tmp, m, sizeof(*tmp), ratio_cmp);
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
static bool out_of_time(const struct solver *s)
{
	return (s->dfs_nodes & 4095) == 0 && now_ms(s->host) >= s->search_until;
}

/* Blocks (+1) or frees (-1) the later items in conflict with item i. */
static void block_partners(struct solver *s, size_t i, int by)
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
static double items_bound(struct solver *s, size_t i)
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

	if (++s->dfs_nodes > s->dfs_limit || out_of_time(s)) {
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
	bound = items_bound(s, i);
	if (value + bound <= s->best_val * (1 + 1e-12) + 1e-12)
		return;
	req = s->p->groups[s->it_g[i]]->request;
	kmax = s->it_blocked[i] ? 0 : fits(s->nd, s->resid, req, s->it_ub[i]);
	if (kmax > 0)
		block_partners(s, i, 1);
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
		block_partners(s, i, -1);
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
			qsort(tmp, m, sizeof(*tmp), ratio_cmp);
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
	qsort(tmp, n, sizeof(*tmp), ratio_cmp);
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
	if (glp_simplex(lp, &parm) == 0 && glp_get_status(lp) == GLP_OPT) {
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
static size_t load_items(struct solver *s, const struct bkind *k, struct ratio *tmp, bool all)
{
	const struct kerf_pack_problem *p = s->p;
	size_t n = 0;

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
	qsort(tmp, n, sizeof(*tmp), ratio_cmp);
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

static void unload_items(struct solver *s)
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
	if (load_items(s, k, tmp, false) == 0)
		return cutoff;
	if (s->proving)
		lp_ub = knapsack_lp(s, k->room, tmp);
	memcpy(lam, s->lam, s->nd * sizeof(double));
	/* Most kinds cannot beat their price at all: the root bound says so at once. */
	root = items_bound(s, 0);
	if (root <= cutoff + ILP_RC_EPS) {
		unload_items(s);
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
	if (s->dfs_aborted && isinf(lp_ub) && now_ms(s->host) < s->search_until)
		lp_ub = knapsack_lp(s, k->room, tmp);
	if (lp_ub < root)
		root = lp_ub;
	if (s->dfs_aborted && s->proving && now_ms(s->host) < s->search_until) {
		double dp = knapsack_dp(s, k->room);
		if (dp < root)
			root = dp;
	}
	unload_items(s);
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
static double kind_const(const struct solver *s, const struct bkind *k)
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

static void add_round(struct solver *s, double dprime, double theta)
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
static void volume_bounds(struct solver *s)
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
			add_round(s, total[w], 0);
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
static int price_round(struct solver *s)
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
		double cost = (double)k->price / ILP_MICRO, cutoff = cost - kind_const(s, k), ub,
		       rclb;
		bool exact;
		if ((kk & 31) == 31 && now_ms(s->host) >= s->deadline_cg) {
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
	if (!cut) {
		add_round(s, dsum + open_sum, theta);
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
		struct column c = kind_column(s, k, cands[i].n);
		for (size_t j = 0; j < c.n; j++) {
			c.a[j].group = counts[2 * (cands[i].off + j)];
			c.a[j].count = counts[2 * (cands[i].off + j) + 1];
		}
		add_column(s, &c);
		if (s->ncol > before)
			added++;
	}
	hfree(s, counts);
	hfree(s, cands);
	hfree(s, losses);
	hfree(s, tmp);
	return cut ? -1 : added;
}

/* ------------------------------------------------------------ enumeration */

/*
 * Leaves of the search tree of every pattern, saturating: the sum over
 * kinds of the product of (most pods + 1) per compatible group.
 */
static double pattern_leaves(const struct solver *s)
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
	if (++s->dfs_nodes > s->dfs_limit || s->ncol >= s->enum_cap || out_of_time(s)) {
		s->dfs_aborted = true;
		return;
	}
	if (i == s->n_items) {
		struct column c;
		if (value < need || !maximal(s))
			return;
		c = kind_column(s, k, s->n_items);
		c.n = 0;
		for (size_t j = 0; j < s->n_items; j++)
			if (s->it_cnt[j]) {
				c.a[c.n].group = s->it_g[j];
				c.a[c.n].count = s->it_cnt[j];
				c.n++;
			}
		if (c.n)
			add_column(s, &c);
		else
			hfree(s, c.a);
		return;
	}
	if (value + items_bound(s, i) < need)
		return;
	req = s->p->groups[s->it_g[i]]->request;
	kmax = s->it_blocked[i] ? 0 : fits(s->nd, s->resid, req, s->it_ub[i]);
	if (kmax > 0)
		block_partners(s, i, 1);
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
		block_partners(s, i, -1);
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
static bool enumerate_kinds(struct solver *s, double delta, size_t cap, int64_t until)
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
				  : (double)k->price / ILP_MICRO - kind_const(s, k) - delta;
		load_items(s, k, tmp, true);
		s->dfs_nodes = 0;
		s->dfs_limit = ILP_ENUM_NODES;
		s->dfs_aborted = false;
		enumerate(s, k, 0, 0, need - ILP_RC_EPS);
		unload_items(s);
		complete = !s->dfs_aborted && now_ms(s->host) < until;
	}
	s->dfs_limit = limit;
	hfree(s, tmp);
	return complete;
}

/* ------------------------------------------------------------ the plan */

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
 * The plan of an integer solution x (by column, 1-based, slacks first):
 * columns in index order take what their groups still need.
 */
static struct kerf_pack_plan *plan_of(struct solver *s, const double *x,
				      const struct kerf_pack_plan *ffd)
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
		const char *why = NULL;
		struct kerf_pack_unplaced *un;
		if (!need[g])
			continue;
		for (size_t u = 0; u < ffd->n_unplaced && !why; u++)
			if (ffd->unplaced[u]->group == g)
				why = ffd->unplaced[u]->reason;
		un = kerf_pack_plan_add_unplaced(plan);
		un->group = (uint32_t)g;
		un->count = need[g];
		if (why) {
			un->reason = s->host->strdup(s->host->ctx, why);
		} else {
			char buf[160];
			const char *name = p->pools[p->groups[g]->nodepool]->name;
			snprintf(
			    buf, sizeof(buf),
			    "nodepool %s limits leave no room for these pods in the cheapest plan",
			    name ? name : "?");
			un->reason = s->host->strdup(s->host->ctx, buf);
		}
	}
	hfree(s, opts);
	hfree(s, need);
	return plan;
}

static uint64_t placed_pods(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan)
{
	uint64_t n = 0;

	for (size_t g = 0; g < p->n_groups; g++)
		n += p->groups[g]->count;
	for (size_t u = 0; u < plan->n_unplaced; u++)
		n -= plan->unplaced[u]->count;
	return n;
}

/* ------------------------------------------------------------ the solve */

struct mip_cb {
	const double *x; /* the incumbent, 1-based */
	bool given;
	int nodes;
};

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
	if (t > ILP_BB_NODES)
		glp_ios_terminate(tree);
}

/* The bound in dollars for plans placing all but u pods, best over the rounds. */
static double bound_for(const struct solver *s, uint64_t u)
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
static kerf_price_t bound_micro(double dollars)
{
	double m = dollars * ILP_MICRO;

	m -= 1e-9 * fabs(m) + 1e-3;
	if (!(m > 0))
		return 0;
	if (m > 9e18)
		return INT64_MAX;
	return (kerf_price_t)ceil(m);
}

static void solver_free(struct solver *s)
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

static void solver_init(struct solver *s)
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

/* Solves the master LP within the time left; false when it is not optimal. */
static bool solve_lp(struct solver *s, int64_t until)
{
	glp_smcp parm;
	int64_t left = until - now_ms(s->host);

	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF;
	parm.tm_lim = left > 1 ? (left < INT32_MAX ? (int)left : INT32_MAX) : 1;
	if (glp_simplex(s->lp, &parm) != 0 || glp_get_status(s->lp) != GLP_OPT)
		return false;
	return true;
}

/*
 * Runs glp_intopt over the columns there are, until `until`, from the
 * incumbent, and keeps what it finds if better.  Over a master holding
 * every relevant column, a proven optimum (within the gap) is a bound.
 */
static void solve_mip(struct solver *s, double gap, int64_t until)
{
	glp_iocp parm;
	struct mip_cb cb = {NULL, false, 0};
	int64_t left = until - now_ms(s->host);
	int st;

	if (left < 2)
		return;
	incumbent_fit(s);
	cb.x = s->inc_x;
	for (size_t j = 0; j < s->ncol; j++)
		glp_set_col_kind(s->lp, (int)(s->ng + 1 + j), GLP_IV);
	glp_init_iocp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	parm.presolve = GLP_OFF;
	parm.tm_lim = left < INT32_MAX ? (int)left : INT32_MAX;
	parm.mip_gap = gap;
	parm.cb_func = mip_callback;
	parm.cb_info = &cb;
	parm.fp_heur = GLP_ON;
	glp_intopt(s->lp, &parm);
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
		add_round(s, glp_mip_obj_val(s->lp) * (1 - gap) * (1 - 2e-7), 0);
}

/*
 * A dive from the master's LP optimum to an integer solution: columns keep
 * at least the floor of their value (those near the next unit, and the one
 * nearest, are rounded up) and the LP is solved again for what is left,
 * until it is integral.  With many pods per column the rounding costs
 * little, and on large masters it finds plans glp_intopt's own heuristics
 * miss within the time.  The lower bounds are lifted again after.
 */
static void dive(struct solver *s, int64_t until)
{
	int n = (int)(s->ng + s->ncol);
	bool ok = true;

	incumbent_fit(s);
	for (int iter = 0; iter < n && ok; iter++) {
		int far = 0;
		double best_frac = 0;
		bool integral = true;
		ok = now_ms(s->host) < until && solve_lp(s, until);
		for (int j = 1; j <= n && ok; j++) {
			double x = glp_get_col_prim(s->lp, j), fl = floor(x + 1e-6), frac = x - fl;
			if (frac <= 1e-6)
				continue;
			integral = false;
			if (frac >= 0.8)
				fl += 1;
			else if (frac > best_frac) {
				best_frac = frac;
				far = j;
			}
			if (fl > glp_get_col_lb(s->lp, j))
				glp_set_col_bnds(s->lp, j, GLP_LO, fl, 0.0);
		}
		if (!ok)
			break;
		if (integral) {
			double obj = glp_get_obj_val(s->lp);
			if (obj < s->inc_obj) {
				s->inc_obj = obj;
				s->inc_mip = true;
				for (int j = 1; j <= n; j++)
					s->inc_x[j] = floor(glp_get_col_prim(s->lp, j) + 0.5);
			}
			break;
		}
		if (far)
			glp_set_col_bnds(s->lp, far, GLP_LO, ceil(glp_get_col_prim(s->lp, far)),
					 0.0);
	}
	for (int j = 1; j <= n; j++)
		glp_set_col_bnds(s->lp, j, GLP_LO, 0.0, 0.0);
}

/* True when the incumbent is within the gap of the best bound so far. */
static bool within_gap(const struct solver *s, double gap)
{
	return s->inc_obj - bound_for(s, 0) <= gap * s->inc_obj;
}

/*
 * Solves one part of the batch (the problem with every other group's count
 * at 0) between start and deadline: FFD's plan (ffd, or computed here when
 * NULL; taken over either way), then column generation and the integer
 * program.  *out is the better plan with its bound.
 */
static int solve_part(const struct ilp *ip, const struct kerf_pack_problem *problem,
		      struct kerf_pack_plan *ffd, int64_t start, int64_t deadline,
		      struct kerf_pack_plan **out, struct kerf_error *err)
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
	s.p = problem;
	s.dfs_limit = ILP_DFS_NODES;
	s.deadline = deadline - budget / 20;
	s.deadline_cg = start + budget * ILP_CG_SHARE / 100;
	solver_init(&s);
	best = ffd;
	/* With next to no time left, FFD's plan is the answer. */
	if (pods > 0 && deadline - now_ms(host) >= ILP_MIN_MS && build_kinds(&s)) {
		build_master(&s);
		seed_ffd(&s, ffd);
		seed_homogeneous(&s);
		volume_bounds(&s);
		if (pattern_leaves(&s) <= ILP_FULL_LEAVES)
			s.all_relevant =
			    enumerate_kinds(&s, INFINITY, ILP_ENUM_COLUMNS, s.deadline_cg);
		for (size_t round = 0; s.n_rounds < ILP_MAX_ROUNDS; round++) {
			int added;
			lp_ok = solve_lp(&s, s.deadline_cg);
			if (!lp_ok)
				break;
			s.lp_iters = glp_get_it_cnt(s.lp);
			added = price_round(&s);
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
		dive(&s, now_ms(host) + (s.deadline - now_ms(host)) / 3);
		/* intopt needs an optimal basis of the columns as they now are. */
		lp_ok = solve_lp(&s, s.deadline);
		/* With the LP solved over every pattern, a second pass may follow: time for it. */
		if (lp_ok)
			solve_mip(&s, gap,
				  s.lp_complete && !s.all_relevant
				      ? now_ms(host) + (s.deadline - now_ms(host)) / 3
				      : s.deadline);
		/*
		 * Every column of a plan cheaper than the incumbent has a reduced
		 * cost below their difference (the duals are optimal over all
		 * patterns), so with those columns the master holds the optimum.
		 * The slack covers the pricing's tolerance, once per node.  Each
		 * pass may add more columns than the last.
		 */
		for (size_t pass = 0, cap = ILP_ENUM_COLUMNS;
		     pass < 3 && lp_ok && s.lp_complete && !s.all_relevant && !within_gap(&s, gap);
		     pass++, cap *= 4) {
			double delta = s.inc_obj - s.lp_z + ILP_RC_EPS * (double)(pods + 1) + 1e-6;
			int64_t left = s.deadline - now_ms(host);
			s.all_relevant = enumerate_kinds(&s, delta, cap, now_ms(host) + left / 2);
			lp_ok = solve_lp(&s, s.deadline);
			if (lp_ok)
				solve_mip(&s, gap,
					  s.all_relevant || pass == 2
					      ? s.deadline
					      : now_ms(host) + (s.deadline - now_ms(host)) / 2);
		}
		if (s.inc_mip) {
			incumbent_fit(&s);
			mip = plan_of(&s, s.inc_x, ffd);
		}
	}
	if (mip) {
		uint64_t pm = placed_pods(problem, mip), pf = placed_pods(problem, ffd);
		if (pm > pf || (pm == pf && mip->total_price < ffd->total_price)) {
			best = mip;
			from_mip = true;
			kerf_pack_plan_free(ffd);
		} else {
			kerf_pack_plan_free(mip);
		}
	}
	best->lower_bound = bound_micro(bound_for(&s, pods - placed_pods(problem, best)));
	if (best->lower_bound > best->total_price)
		best->lower_bound = best->total_price;
	host->log(host->ctx, KERF_LOG_DEBUG,
		  "ilp: %" PRIu64 " pods in %zu groups, %zu bin kinds, %zu columns, %zu rounds%s, "
		  "%d LP iterations, %d B&B nodes; price %.6f bound %.6f (%s), %" PRId64 " ms",
		  pods, problem->n_groups, s.nk, s.ncol, s.n_rounds,
		  s.lp_complete ? " (LP optimal over all patterns)" : "", s.lp_iters, s.bb_nodes,
		  (double)best->total_price / ILP_MICRO, (double)best->lower_bound / ILP_MICRO,
		  from_mip ? "ILP plan" : "first-fit plan", now_ms(host) - start);
	solver_free(&s);
	*out = best;
	return 0;
}

/* ------------------------------------------------------------ parts */

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
			t->orem = host->realloc(host->ctx, t->orem, t->cap_open * nd * sizeof(int64_t));
			t->ooff = host->realloc(host->ctx, t->ooff, t->cap_open * sizeof(size_t));
			t->carried = host->realloc(host->ctx, t->carried,
						   t->cap_open * sizeof(uint32_t));
		}
		if (og + p->n_groups > t->cap_og) {
			t->cap_og = (og + p->n_groups) * 2;
			t->ogroups = host->realloc(host->ctx, t->ogroups, t->cap_og * sizeof(uint32_t));
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
			    gr->nodepool == n->nodepool && group_allows(gr, n->zone, n->capacity_type) &&
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
 * The parts one after the other, each with its share of what is left of
 * the budget (by its number of groups), each seeing what the earlier ones
 * took, their plans joined.  whole[c] says part c is all of its component:
 * only those bounds add up (components share nothing), and only when every
 * pod is placed; a piece of a component split for size proves nothing for
 * the component.
 */
static int solve_parts(const struct ilp *ip, const struct kerf_pack_problem *problem,
		       const uint32_t *part_of, const bool *whole, size_t n_parts, int64_t deadline,
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
		int64_t now = now_ms(host);
		size_t mine = 0;
		for (size_t g = 0; g < problem->n_groups; g++) {
			t.groups[g] = *problem->groups[g];
			if (part_of[g] != part)
				t.groups[g].count = 0;
			else
				mine++;
		}
		rc = solve_part(whole[part] ? &tight : ip, &t.sub, NULL, now,
				now + (deadline - now) * (int64_t)mine / (int64_t)left, &pp, err);
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
	qsort(order, p->n_groups, sizeof(*order), ratio_cmp);
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
		if (s->kinds[k].open < 0 && (!set || (set[k / 64] >> (k % 64) & 1)) && coef[k] > 0) {
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
 * the simplex finished, and floating-point error is left to bound_micro's
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
		/* A group no node holds leaves pods unplaced: this bound is for plans that place all. */
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
	if (ok && now_ms(s->host) < until) {
		lp = glp_create_prob();
		glp_set_obj_dir(lp, GLP_MIN);
		glp_add_cols(lp, (int)nk);
		for (size_t k = 0; k < nk; k++) {
			glp_set_col_bnds(lp, (int)k + 1, GLP_LO, 0, 0);
			glp_set_obj_coef(lp, (int)k + 1,
					 s->kinds[k].open < 0 ? (double)s->kinds[k].price / ILP_MICRO : 0);
		}
		ia = zalloc(s, max_nz + 1, sizeof(int));
		ja = zalloc(s, max_nz + 1, sizeof(int));
		ar = zalloc(s, max_nz + 1, sizeof(double));
	}
	for (size_t i = 0; i <= nsets && lp; i++) {
		/* The rows of each kind set (scaled to a right-hand side of 1), then the batch's. */
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
		int64_t left = until - now_ms(s->host);
		glp_load_matrix(lp, nz, ia, ja, ar);
		glp_init_smcp(&parm);
		parm.msg_lev = GLP_MSG_OFF;
		parm.tm_lim = left > 1 ? (left < INT32_MAX ? (int)left : INT32_MAX) : 1;
		glp_simplex(lp, &parm);
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
static kerf_price_t batch_bound(const struct kerf_host *host, const struct kerf_pack_problem *p,
				int64_t until)
{
	struct solver s;
	kerf_price_t lb;

	memset(&s, 0, sizeof(s));
	s.host = host;
	s.p = p;
	s.deadline_cg = s.deadline = until;
	solver_init(&s);
	volume_bounds(&s);
	if (build_kinds(&s))
		add_round(&s, count_bound(&s, until), 0);
	lb = bound_micro(bound_for(&s, 0));
	solver_free(&s);
	return lb;
}

/*
 * Drops, in pools with a resource limit, the options larger than the chosen
 * type in a limited dimension (Karpenter charges a node the largest of its
 * options, and the master counted the chosen type's capacity; FFD's nodes
 * get the same rule), then keeps the first max_types.
 */
static void trim_options(const struct kerf_pack_problem *p, struct kerf_pack_plan *plan,
			 size_t max_types)
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
			if (ok && keep < max_types)
				n->options[keep++] = n->options[k];
		}
		n->n_options = keep;
	}
}

static int ilp_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
		     struct kerf_pack_plan **out, struct kerf_error *err)
{
	struct ilp *ip = inst;
	const struct kerf_host *host;
	struct kerf_pack_plan *ffd = NULL, *plan = NULL;
	uint32_t *comp, *part_of;
	bool *whole;
	size_t n_parts;
	int64_t start, deadline;
	kerf_price_t bb = 0;
	bool cut = false;
	int rc, term;

	if (!ip || !out)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ilp: no instance or output");
	host = ip->host;
	start = now_ms(host);
	deadline = start + (budget_ms > 0 ? budget_ms : ip->budget_ms);
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
		bb = batch_bound(host, problem, start + (deadline - start) / 4);
	if (n_parts <= 1) {
		rc = solve_part(ip, problem, ffd, start, deadline, &plan, err);
	} else {
		rc = solve_parts(ip, problem, part_of, whole, n_parts, deadline, &plan, err);
		if (rc == 0) {
			uint64_t pp = placed_pods(problem, plan), pf = placed_pods(problem, ffd);
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
	/* Parts miss what the batch's conflicts and caps need together: the
	 * batch's bounds may still be better. */
	if (rc == 0 && !cut && !plan->n_unplaced && plan->lower_bound < plan->total_price &&
	    now_ms(host) < deadline)
		bb = batch_bound(host, problem, deadline);
	if (rc == 0 && !plan->n_unplaced && bb > plan->lower_bound)
		plan->lower_bound = bb;
	host->free(host->ctx, comp);
	host->free(host->ctx, part_of);
	host->free(host->ctx, whole);
	glp_term_out(term);
	if (rc)
		return rc;
	trim_options(problem, plan, ip->max_types);
	if (plan->lower_bound > plan->total_price)
		plan->lower_bound = plan->total_price;
	plan->optimal = plan->lower_bound == plan->total_price;
	plan->solve_ms = now_ms(host) - start;
	host->log(host->ctx, KERF_LOG_DEBUG,
		  "ilp: batch of %zu groups in %zu parts: price %.6f, bound %.6f, %" PRId64 " ms",
		  problem->n_groups, n_parts, (double)plan->total_price / ILP_MICRO,
		  (double)plan->lower_bound / ILP_MICRO, plan->solve_ms);
	*out = plan;
	return 0;
}

/* ------------------------------------------------------------ plugin */

static int config_get(const struct kerf_host *host, const char *key, kerf_config_type type,
		      int64_t *v, struct kerf_error *err)
{
	int rc;

	if (type == KERF_CFG_DURATION) {
		if (!host->config_duration)
			return 0;
		rc = host->config_duration(host->ctx, key, v);
	} else {
		if (!host->config_int)
			return 0;
		rc = host->config_int(host->ctx, key, v);
	}
	if (rc == 0 || rc == KERF_E_NOTFOUND)
		return 0;
	return kerf_error_set(err, KERF_E_CONFIG, "binpack-ilp: %s could not be read (error %d)",
			      key, rc);
}

static int ilp_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	struct ilp *ip;
	int64_t max_types = ILP_DEFAULT_MAX_TYPES, budget = 1000, gap = 100;
	int rc;

	if ((rc = config_get(host, "max_instance_types", KERF_CFG_INT, &max_types, err)) ||
	    (rc = config_get(host, "time_budget", KERF_CFG_DURATION, &budget, err)) ||
	    (rc = config_get(host, "relative_gap_bps", KERF_CFG_INT, &gap, err)))
		return rc;
	if (max_types < 1)
		return kerf_error_set(
		    err, KERF_E_CONFIG,
		    "binpack-ilp: max_instance_types must be at least 1, not %" PRId64, max_types);
	if (budget < 1 || budget > INT32_MAX)
		return kerf_error_set(err, KERF_E_CONFIG,
				      "binpack-ilp: time_budget must be from 1ms to 24 days, not "
				      "%" PRId64 "ms",
				      budget);
	if (gap < 0 || gap > 10000)
		return kerf_error_set(err, KERF_E_CONFIG,
				      "binpack-ilp: relative_gap_bps must be from 0 to 10000 "
				      "(100%%), not %" PRId64,
				      gap);
	ip = host->calloc(host->ctx, 1, sizeof(*ip));
	ip->host = host;
	ip->max_types = (size_t)max_types;
	ip->budget_ms = budget;
	ip->gap_bps = gap;
	*out = ip;
	return 0;
}

static void ilp_destroy(void *inst)
{
	struct ilp *ip = inst;

	if (ip)
		ip->host->free(ip->host->ctx, ip);
}

static const struct kerf_config_key ilp_schema[] = {
    {"time_budget", KERF_CFG_DURATION, "1s", false,
     "wall time per solve when the core gives no budget of its own"},
    {"relative_gap_bps", KERF_CFG_INT, "100", false,
     "stop once the plan is within this many basis points (1/100 %) of the lower bound"},
    {"max_instance_types", KERF_CFG_INT, "60", false,
     "most instance types offered to the launcher per new node (Karpenter's MaxInstanceTypes)"},
    {NULL, KERF_CFG_STRING, NULL, false, NULL},
};

static const struct kerf_packer_ops ilp_ops = {
    .solve = ilp_solve,
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "binpack-ilp",
    .version = ILP_VERSION,
    .description = "cost-optimal packer: column generation and branch-and-bound on GLPK",
    .license = "GPL-3.0-or-later",
    .kinds = KERF_KIND_PACKER,
    .capabilities = KERF_CAP_PACKER_OPTIMAL | KERF_CAP_PACKER_TIME_BUDGET,
    .config_schema = ilp_schema,
    .create = ilp_create,
    .destroy = ilp_destroy,
    KERF_PLUGIN_OPS(packer, ilp_ops),
};
