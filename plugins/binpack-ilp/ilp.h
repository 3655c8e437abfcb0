/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ilp.h - binpack-ilp, the cost-optimal packer on GLPK: how it solves, and
 * what its parts share (the solver's state, the limits, the one-line helpers
 * and each part's entry points).  The parts are kinds.c, columns.c,
 * pricing.c, enumeration.c, plan.c, solve.c and parts.c, built as libilp.la
 * so tests can link them; ilp.c is the plugin.  Internal to the build: not
 * part of the installed SDK.
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
 * join.  Over hundreds of kinds the first rounds search each kind less
 * deeply (ILP_ROUND_NODES), deeper once a round finds nothing.  Bin kinds
 * dominated by another of the same pool and compatible
 * groups (allocatable >=, price <=, and in the pool's limited dimensions a
 * capacity <=) are never priced: any pattern of theirs is a cheaper pattern
 * of the dominating kind.  glp_intopt then solves the master over the
 * generated columns, FFD's plan handed in as its first incumbent, or a
 * better one a dive finds first: the LP's columns kept at their floors,
 * a few disjoint ones rounded up at a time, the LP solved again and (while
 * the LP is not proven over all patterns) priced again for the pods the
 * fixed columns leave, until it is integral; each step's solution, rounded
 * up greedily, is a plan too, so a dive cut short still leaves one.
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
 * cheapest price per unit of resource (see ilp_volume_bounds).
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
 * the pieces after fill those nodes, each with pods of every size.  Pieces
 * prove no bound.  So the whole batch gets bounds of its own, valid however
 * it is cut, and the best bound stands: the volume bound and a count bound,
 * a small LP over the new-node kinds whose rows say how many nodes each
 * clique of conflicting groups needs under max_per_node and how much room
 * its pods take (see count_bound).  A cut batch computes them before its
 * pieces, with at most a quarter of the budget; otherwise they come after,
 * when time is left and the parts left a gap.
 *
 * Determinism: the budget is counted work (struct ilp_clock), shared out
 * between the phases and parts as time was, and rounds, search nodes and
 * branch-and-bound nodes are capped by counts besides: a solve gives the
 * same plan wherever and however loaded it runs.  Real time only stops a
 * solve that runs far past its work (plan->hit_time_limit).
 * GLPK prints nothing (terminal output off, message level off).
 */
#ifndef KERF_ILP_H
#define KERF_ILP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glpk.h>

#include <kerf/plugin.h>

#include "../binpack-ffd/ffd.h"

#define ILP_MAX_ROUNDS 400	 /* column-generation rounds */
#define ILP_DFS_NODES 3000	 /* search nodes per bin kind and round, at first */
#define ILP_DFS_NODES_MAX 800000 /* ... growing to this when the search proves too little */
#define ILP_DFS_MIN 300		 /* ... or as few as this, so a round's search ... */
#define ILP_ROUND_NODES 150000	 /* ... over many kinds stays within this many nodes */
#define ILP_STALL 6		 /* rounds over which a stalled LP is told */
#define ILP_MIN_WORK 30000     /* a part (or enumeration pass) with less work left keeps its plan */
#define ILP_PART_GROUPS 300    /* most groups one master takes: larger components are cut */
#define ILP_FEW_ITEMS 128      /* knapsacks this small get the tighter, slower bounds */
#define ILP_DP_WORK (1l << 23) /* most updates of one knapsack's dynamic program */
#define ILP_BB_NODES 20000     /* branch-and-bound nodes */
#define ILP_COLS_PER_ROUND 60  /* patterns added per round, most negative first */
#define ILP_DIVE_ROUNDS 1      /* pricing rounds per step of a dive */
#define ILP_DIVE_UP 0.5	       /* a dive rounds up the columns past this fraction */
#define ILP_CG_SHARE 60	       /* percent of the budget column generation may use */
#define ILP_RC_EPS 1e-7	       /* reduced costs above -eps count as non-negative */
#define ILP_MICRO 1e6	       /* micro-dollars per dollar */
#define ILP_FULL_LEAVES 60000  /* enumerate every pattern when the search is this small */
#define ILP_ENUM_NODES 2000000 /* search nodes per kind when enumerating patterns */
#define ILP_ENUM_COLUMNS 4000  /* most columns one enumeration adds (intopt slows past that) */
/*
 * The work clock's units (see struct ilp_clock): one is about a pricing
 * search node; the rest were measured against one core's CPU time on
 * bench/packing's batches.
 */
#define ILP_WORK_PER_MS 6000 /* units an idle core does in a millisecond */
#define ILP_WORK_ENUM_NODE 4 /* per enumeration node (it may add a column) */
#define ILP_WORK_ITER 20     /* per simplex iteration ... */
#define ILP_WORK_ITER_SIZE 4 /* ... plus one per this many rows and columns */
#define ILP_WORK_BB_NODE 300 /* per branch-and-bound node, beside its iterations ... */
#define ILP_WORK_NZ 1	     /* ... and per GLPK call, plus one per this many nonzeros */
#define ILP_WORK_DP 128	     /* dynamic-program updates per unit */
#define ILP_WORK_SCAN 4	     /* groups scanned per unit */
#define ILP_WORK_COLUMNS 64  /* columns a new one is compared with per unit */

#define CT_ALL                                                                                     \
	((1u << KERF_CAPACITY_ON_DEMAND) | (1u << KERF_CAPACITY_SPOT) |                            \
	 (1u << KERF_CAPACITY_RESERVED))

struct ilp {
	const struct kerf_host *host;
	size_t max_types;
	int64_t budget_ms;
	int64_t work_limit; /* units per solve; 0: budget_ms's worth on an idle core, halved */
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
	struct ilp_clock *clk;
	const struct kerf_pack_problem *p;
	size_t max_types; /* options per new node, for FFD's plans; 0: none made here */
	size_t nd, ng;
	int64_t deadline_cg, deadline; /* on the work clock */
	double penalty;		       /* P, dollars per unplaced pod */

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

	bool rclb_fresh; /* kind_rclb all hold for the last round's duals, y */
	double round_d;	 /* that round's D = y.b */
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
	bool diving;	       /* columns are fixed: a round proves no bound */
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

struct ratio {
	double r;
	uint32_t item;
};

/* Helpers of every part, the searches' innermost loops among them: hence inline. */

static inline void *zalloc(const struct solver *s, size_t n, size_t size)
{
	return s->host->calloc(s->host->ctx, n ? n : 1, size ? size : 1);
}

static inline void hfree(const struct solver *s, void *ptr)
{
	if (ptr)
		s->host->free(s->host->ctx, ptr);
}

/*
 * The solve's clock counts work, not time.  Every decision that depends on
 * how far a solve has got (each phase's share, when a search or GLPK stops)
 * reads it, so the same problem gives the same plan on any machine at any
 * load.  A unit is about what one search node costs; GLPK's simplex
 * iterations, the knapsacks' dynamic programs and the scans over groups are
 * charged in the same units (ILP_WORK_*).  Real time is only an emergency
 * stop: past stop_ms every deadline reads as passed, and the plan says so.
 */
struct ilp_clock {
	const struct kerf_host *host;
	int64_t work;	 /* units spent so far in this solve */
	int64_t stop_ms; /* real time of the emergency stop; INT64_MAX: none */
	bool stopped;	 /* the emergency stop was reached */
};

/* What the clock reads once stopped: past every deadline a solve computes. */
#define ILP_WORK_STOPPED (INT64_MAX / 4)

/*
 * Real time for the emergency stop: real_mono_ms, since the host clock
 * stands still under the simulator while the solve takes real time all the
 * same; a host table without it leaves only its host clock; with neither,
 * no emergency stop happens and the work limit alone bounds the solve.
 */
static inline int64_t ilp_real_ms(const struct kerf_host *host)
{
	if (KERF_HOST_HAS(host, real_mono_ms))
		return host->real_mono_ms(host->ctx);
	return KERF_HOST_HAS(host, mono_ms) ? host->mono_ms(host->ctx) : 0;
}

static inline int64_t ilp_now(struct ilp_clock *c)
{
	if (!c->stopped && c->stop_ms != INT64_MAX && ilp_real_ms(c->host) >= c->stop_ms)
		c->stopped = true;
	return c->stopped ? ILP_WORK_STOPPED : c->work;
}

/*
 * An iteration of GLPK's simplex prices every column and updates the basis
 * factors: its cost grows with the rows and columns of the problem.
 */
static inline int64_t ilp_iter_cost(glp_prob *lp)
{
	return ILP_WORK_ITER + (glp_get_num_rows(lp) + glp_get_num_cols(lp)) / ILP_WORK_ITER_SIZE;
}

/*
 * Setting up a GLPK call (factorising the basis, a branch-and-bound node's
 * cuts and heuristics) costs about as much as reading the whole matrix.
 */
static inline int64_t ilp_call_cost(glp_prob *lp)
{
	return glp_get_num_nz(lp) / ILP_WORK_NZ;
}

/* Charges `iters` simplex iterations on lp. */
static inline void ilp_charge_iters(struct ilp_clock *c, int64_t iters, glp_prob *lp)
{
	c->work += iters * ilp_iter_cost(lp);
}

/* The iteration limit for GLPK that keeps a call on lp within `left` units. */
static inline int ilp_iter_limit(int64_t left, glp_prob *lp)
{
	int64_t n = left / ilp_iter_cost(lp);

	return n < 1 ? 1 : n > INT32_MAX ? INT32_MAX : (int)n;
}

/* GLPK's own time limit: what is left before the emergency stop. */
static inline int ilp_glpk_tm_lim(struct ilp_clock *c)
{
	int64_t left;

	if (c->stopped)
		return 1;
	if (c->stop_ms == INT64_MAX)
		return INT32_MAX;
	left = c->stop_ms - ilp_real_ms(c->host);
	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static inline bool dim_limited(const struct solver *s, uint32_t pool, size_t d)
{
	return s->p->pools[pool]->remaining[d] != INT64_MAX;
}

/* Pods of `req` that fit in room (at most cap, so the count is a uint32_t). */
static inline uint32_t fits(size_t nd, const int64_t *room, const int64_t *req, uint32_t cap)
{
	return (uint32_t)ffd_fits(nd, room, NULL, req, cap);
}

/* Most pods of g one node may hold, before capacity. */
static inline uint32_t per_node_cap(const struct solver *s, uint32_t g)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	uint32_t k = gr->count;

	if (gr->max_per_node && gr->max_per_node < k)
		k = gr->max_per_node;
	if (s->self_conflict[g] && k > 1)
		k = 1;
	return k;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* kinds.c: the bin kinds a master can use. */
bool ilp_group_allows(const struct kerf_pack_group *gr, uint32_t zone, kerf_capacity_type ct);
bool ilp_build_kinds(struct solver *s);

/* columns.c: the master problem and its columns. */
size_t ilp_add_column(struct solver *s, struct column *c);
void ilp_build_master(struct solver *s);
struct column ilp_kind_column(const struct solver *s, const struct bkind *k, size_t n);
void ilp_seed_ffd(struct solver *s, const struct kerf_pack_plan *ffd);
void ilp_incumbent_fit(struct solver *s);
void ilp_seed_homogeneous(struct solver *s);

/* pricing.c: the knapsack of each bin kind, its bounds, and the rounds. */
int ilp_ratio_cmp(const void *a, const void *b);
bool ilp_out_of_time(const struct solver *s);
void ilp_block_partners(struct solver *s, size_t i, int by);
double ilp_items_bound(struct solver *s, size_t i);
size_t ilp_load_items(struct solver *s, const struct bkind *k, struct ratio *tmp, bool all);
void ilp_unload_items(struct solver *s);
double ilp_kind_const(const struct solver *s, const struct bkind *k);
void ilp_add_round(struct solver *s, double dprime, double theta);
void ilp_volume_bounds(struct solver *s);
int ilp_price_round(struct solver *s);
void ilp_tighten_bound(struct solver *s, int64_t until);

/* enumeration.c: every pattern below a reduced cost. */
double ilp_pattern_leaves(const struct solver *s);
bool ilp_enumerate_kinds(struct solver *s, double delta, size_t cap, int64_t until);

/* plan.c: the plan of an integer solution, unplaced pods with the plan's own reasons. */
struct kerf_pack_plan *ilp_plan_of(struct solver *s, const double *x);
uint64_t ilp_placed_pods(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan);

/* solve.c: one part of a batch, from FFD's plan to the integer program. */
double ilp_bound_for(const struct solver *s, uint64_t u);
kerf_price_t ilp_bound_micro(double dollars);
void ilp_solver_free(struct solver *s);
void ilp_solver_init(struct solver *s);
int ilp_solve_part(const struct ilp *ip, struct ilp_clock *clk,
		   const struct kerf_pack_problem *problem, struct kerf_pack_plan *ffd,
		   int64_t start, int64_t deadline, struct kerf_pack_plan **out,
		   struct kerf_error *err);

/* parts.c: a batch cut into parts, and the packer's solve. */
int ilp_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
	      struct kerf_pack_plan **out, struct kerf_error *err);

#endif
