/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * check_ilp_parts.c - binpack-ilp's parts on their own: the bin kinds, the
 * knapsack bound of the pricing, the enumeration of patterns into the
 * master's columns, and the volume bound, each on a small instance worked
 * out by hand in the comments.
 *
 * The parts are linked directly (libilp.la) and driven through ilp.h.  Each
 * solver's work clock has no emergency stop and its deadlines are as far
 * as they go, so no deadline ever passes and nothing here depends on time.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <kerf/plugin.h>

#include "ilp.h"
#include "../common/host_alloc.h"

#define ND 2
enum { CPU, MEM };
static const char *const dim_names[ND] = {"cpu", "memory"};
static const char *const zone_names[] = {"z0", "z1"};

#define OD KERF_CAPACITY_ON_DEMAND
#define SPOT KERF_CAPACITY_SPOT
#define CT(c) (1u << (c))
#define CT_ANY (CT(OD) | CT(SPOT) | CT(KERF_CAPACITY_RESERVED))

static int64_t fh_real_mono_ms(void *ctx)
{
	return 0;
}

static const struct kerf_host fake_host = {
    .size = sizeof(struct kerf_host),
    .abi_major = KERF_ABI_MAJOR,
    .abi_minor = KERF_ABI_MINOR,
    .instance_name = "packer/test",
    TH_ALLOC_SLOTS,
    .real_mono_ms = fh_real_mono_ms,
};

static struct ilp_clock clk = {.host = &fake_host, .stop_ms = INT64_MAX};

/* A solver over p with its conflicts, cliques and bin kinds, as a solve sets it up. */
static struct solver *solver_new(const struct kerf_pack_problem *p)
{
	struct solver *s = th_must(calloc(1, sizeof(*s)));

	s->host = &fake_host;
	s->clk = &clk;
	s->p = p;
	s->deadline_cg = s->deadline = INT64_MAX;
	ilp_solver_init(s);
	ck_assert(ilp_build_kinds(s));
	return s;
}

static void solver_delete(struct solver *s)
{
	ilp_solver_free(s);
	free(s);
}

/* The kind of a new node of type t on offering (zone, ct), or of open node `open`. */
static const struct bkind *kind_of(const struct solver *s, int32_t open, uint32_t t, uint32_t zone,
				   kerf_capacity_type ct)
{
	for (size_t k = 0; k < s->nk; k++) {
		const struct bkind *b = &s->kinds[k];
		if (b->open == open &&
		    (open >= 0 || (b->type == t && b->zone == zone && b->ct == ct)))
			return b;
	}
	return NULL;
}

static void assert_groups(const struct solver *s, const struct bkind *b, const uint32_t *want,
			  size_t n)
{
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->ng, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(s->kg[b->goff + i], want[i]);
}

/* ------------------------------------------------------------ bin kinds */

/*
 * Four types in one pool:
 *
 *   t0  2 cpu  4 mem   z0 on-demand 100
 *   t1  4 cpu  8 mem   z0 on-demand  90, z1 spot 50
 *   t2  8 cpu 32 mem   z0 on-demand 400
 *   t3  2 cpu  8 mem   z1 spot 70
 *
 * g0 (1 cpu, 1 mem) lists every type; g1 (2 cpu, 2 mem) lists t1..t3;
 * g2 (1, 1) lists t1 only, in z0 on-demand; g3 lists every type but has
 * no pods.  Open node 0 (a t1 in z0) has 1 cpu and 1 mem left and allows
 * g0, g1 and g3: only g0 fits there.  So the kinds are t0/z0 {g0},
 * t1/z0 {g0, g1, g2}, t1/z1 {g0, g1}, t2/z0 {g0, g1}, t3/z1 {g0, g1} and
 * the open node {g0}.  Among the three with {g0, g1}, t1/z1 has at least
 * t3's room at a lower price, so t3/z1 goes, unless the pool limits cpu:
 * then t1's 4 cpu count against the limit where t3's 2 would, and t3
 * stays.  t2 (dearer, larger) stays either way.
 */
static const int64_t alloc0[ND] = {2, 4}, alloc1[ND] = {4, 8}, alloc2[ND] = {8, 32},
		     alloc3[ND] = {2, 8};
static const struct kerf_pack_offering off0[] = {{0, OD, 100}},
				       off1[] = {{0, OD, 90}, {1, SPOT, 50}},
				       off2[] = {{0, OD, 400}}, off3[] = {{1, SPOT, 70}};
/* The problem's lists hold pointers (kerf/packer.h): these point into the arrays above. */
static const struct kerf_pack_offering *const
    off0p[] = {&off0[0]},
    *const off1p[] = {&off1[0], &off1[1]}, *const off2p[] = {&off2[0]}, *const off3p[] = {&off3[0]};
static const struct kerf_pack_type kinds_types[] = {{"t0", alloc0, 1, off0p},
						    {"t1", alloc1, 2, off1p},
						    {"t2", alloc2, 1, off2p},
						    {"t3", alloc3, 1, off3p}};
static const struct kerf_pack_type *const kinds_type_list[] = {&kinds_types[0], &kinds_types[1],
							       &kinds_types[2], &kinds_types[3]};
static const int64_t req11[ND] = {1, 1}, req22[ND] = {2, 2};
static const uint32_t types0123[] = {0, 1, 2, 3}, types123[] = {1, 2, 3}, types1[] = {1};
static const struct kerf_pack_group kinds_groups[] = {
    {5, req11, 0, 4, types0123, -1, CT_ANY, 0},
    {2, req22, 0, 3, types123, -1, CT_ANY, 0},
    {1, req11, 0, 1, types1, 0, CT(OD), 0},
    {0, req11, 0, 4, types0123, -1, CT_ANY, 0},
};
static const struct kerf_pack_group *const kinds_group_list[] = {
    &kinds_groups[0], &kinds_groups[1], &kinds_groups[2], &kinds_groups[3]};
static const int64_t open_room[ND] = {1, 1};
static const uint32_t open_groups[] = {0, 1, 3};
static const struct kerf_pack_open_node kinds_open[] = {{1, 0, OD, open_room, 3, open_groups}};
static const struct kerf_pack_open_node *const kinds_open_list[] = {&kinds_open[0]};

static struct kerf_pack_problem kinds_problem(const struct kerf_pack_pool *const *pools)
{
	struct kerf_pack_problem p = {.n_dims = ND,
				      .dim_names = dim_names,
				      .n_zones = 2,
				      .zone_names = zone_names,
				      .n_types = 4,
				      .types = kinds_type_list,
				      .n_groups = 4,
				      .groups = kinds_group_list,
				      .n_open = 1,
				      .open = kinds_open_list,
				      .n_pools = 1,
				      .pools = pools};

	return p;
}

START_TEST(kinds_dominated_dropped)
{
	static const int64_t unlimited[ND] = {INT64_MAX, INT64_MAX};
	static const uint32_t g0[] = {0}, g012[] = {0, 1, 2}, g01[] = {0, 1};
	struct kerf_pack_pool pool = {
	    .name = "default", .remaining = unlimited, .nodes_remaining = INT64_MAX};
	const struct kerf_pack_pool *pools[] = {&pool};
	struct kerf_pack_problem p = kinds_problem(pools);
	struct solver *s = solver_new(&p);

	ck_assert_uint_eq(s->nk, 5);
	assert_groups(s, kind_of(s, -1, 0, 0, OD), g0, 1);
	assert_groups(s, kind_of(s, -1, 1, 0, OD), g012, 3);
	assert_groups(s, kind_of(s, -1, 1, 1, SPOT), g01, 2);
	assert_groups(s, kind_of(s, -1, 2, 0, OD), g01, 2);
	assert_groups(s, kind_of(s, 0, 0, 0, OD), g0, 1);
	ck_assert_ptr_null(kind_of(s, -1, 3, 1, SPOT));
	ck_assert_int_eq(kind_of(s, -1, 1, 1, SPOT)->price, 50);
	solver_delete(s);
}
END_TEST

START_TEST(kinds_limits_keep_smaller)
{
	static const int64_t cpu_limited[ND] = {100, INT64_MAX};
	static const uint32_t g01[] = {0, 1};
	struct kerf_pack_pool pool = {
	    .name = "default", .remaining = cpu_limited, .nodes_remaining = INT64_MAX};
	const struct kerf_pack_pool *pools[] = {&pool};
	struct kerf_pack_problem p = kinds_problem(pools);
	struct solver *s = solver_new(&p);

	ck_assert_uint_eq(s->nk, 6);
	assert_groups(s, kind_of(s, -1, 3, 1, SPOT), g01, 2);
	assert_groups(s, kind_of(s, -1, 1, 1, SPOT), g01, 2);
	solver_delete(s);
}
END_TEST

/* ------------------------------------------------------------ pricing */

/*
 * One type, 10 cpu and 100 mem (memory never binds), so one bin kind.
 * g0 asks 4 cpu and g1 3 cpu (1 mem each), ten pods apiece: a node takes
 * at most ub0 = 2 of g0 and ub1 = 3 of g1.  At duals 5 and 3 the pricing
 * knapsack is max 5 a + 3 b with 4 a + 3 b <= 10, a <= 2, b <= 3, whose
 * optimum is 11 (a = 1, b = 2).
 *
 * The root bound: the multipliers' sweeps put lam_cpu at the ratio of the
 * item that fills the cpu (g0's 2 x 4 = 8, then g1's 3 x 3 = 17 >= 10, so
 * lam_cpu = 3 / 3 = 1) and lam_mem at 0 (memory never fills).  The
 * Lagrangian bound is then lam . room + the items' positive reduced values
 * times what fits: 1 x 10 + (5 - 4) x 2 + 0 = 12.  The others are looser:
 * all items whole 5 x 2 + 3 x 3 = 19, the densest ratio 10 x 5 / 4 = 12.5,
 * and the surrogate holds every item whole (sizes 0.41 x 2 + 0.31 x 3 =
 * 1.75 <= 2 dimensions), 19.  So 12, the LP bound, and above 11 as it
 * must be.
 */
static const int64_t kn_alloc[ND] = {10, 100};
static const struct kerf_pack_offering kn_off[] = {{0, OD, 1000000}};
static const struct kerf_pack_offering *const kn_offp[] = {&kn_off[0]};
static const struct kerf_pack_type kn_types[] = {{"t0", kn_alloc, 1, kn_offp}};
static const struct kerf_pack_type *const kn_type_list[] = {&kn_types[0]};
static const int64_t req41[ND] = {4, 1}, req31[ND] = {3, 1};
static const uint32_t types0[] = {0};
static const struct kerf_pack_group kn_groups[] = {
    {10, req41, 0, 1, types0, -1, CT_ANY, 0},
    {10, req31, 0, 1, types0, -1, CT_ANY, 0},
};
static const struct kerf_pack_group *const kn_group_list[] = {&kn_groups[0], &kn_groups[1]};
static const int64_t kn_unlimited[ND] = {INT64_MAX, INT64_MAX};
static const struct kerf_pack_pool kn_pool = {
    .name = "default", .remaining = kn_unlimited, .nodes_remaining = INT64_MAX};
static const struct kerf_pack_conflict kn_conflict = {0, 1};
static const struct kerf_pack_pool *const kn_pools[] = {&kn_pool};
static const struct kerf_pack_conflict *const kn_conflicts[] = {&kn_conflict};

static struct kerf_pack_problem knapsack_problem(bool conflict)
{
	struct kerf_pack_problem p = {.n_dims = ND,
				      .dim_names = dim_names,
				      .n_zones = 1,
				      .zone_names = zone_names,
				      .n_types = 1,
				      .types = kn_type_list,
				      .n_groups = 2,
				      .groups = kn_group_list,
				      .n_conflicts = conflict ? 1 : 0,
				      .conflicts = kn_conflicts,
				      .n_pools = 1,
				      .pools = kn_pools};

	return p;
}

/* The root bound of the only kind's knapsack at duals y0 and y1; *n gets its items. */
static double root_bound(double y0, double y1, size_t *n)
{
	struct kerf_pack_problem p = knapsack_problem(false);
	struct solver *s = solver_new(&p);
	struct ratio tmp[2];
	double bound;

	ck_assert_uint_eq(s->nk, 1);
	ilp_build_master(s);
	s->y[1] = y0;
	s->y[2] = y1;
	*n = ilp_load_items(s, &s->kinds[0], tmp, false);
	bound = ilp_items_bound(s, 0);
	ilp_unload_items(s);
	solver_delete(s);
	return bound;
}

START_TEST(pricing_root_bound)
{
	size_t n;

	ck_assert_double_eq_tol(root_bound(5, 3, &n), 12, 1e-9);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/*
 * With g1's dual at 0 only g0 is an item (a group no dual prices adds
 * nothing to a pattern's value): the cpu never fills (2 x 4 = 8 < 10), so
 * both multipliers stay 0 and the bound is g0's 2 pods whole, 10, which
 * is also the optimum.
 */
START_TEST(pricing_unpriced_group_left_out)
{
	size_t n;

	ck_assert_double_eq_tol(root_bound(5, 0, &n), 10, 1e-9);
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* ------------------------------------------------------------ enumeration */

/* True when column c of s holds exactly the counts want[g] (0: g absent). */
static bool has_column(const struct solver *s, const uint32_t *want)
{
	for (size_t j = 0; j < s->ncol; j++) {
		const struct column *c = &s->cols[j];
		bool same = true;
		uint32_t got[2] = {0, 0};
		for (size_t i = 0; i < c->n; i++)
			got[c->a[i].group] = c->a[i].count;
		for (size_t g = 0; g < 2; g++)
			same = same && got[g] == want[g];
		if (same)
			return true;
	}
	return false;
}

/*
 * Every maximal pattern of the knapsack instance's node (10 cpu; g0 4 cpu
 * up to 2, g1 3 cpu up to 3): (2, 0) leaves 2 cpu, too little for either;
 * (1, 2) fills the node; (0, 3) leaves 1 cpu.  Any other pattern has room
 * for one more pod.  So three columns join the master, each also a
 * column of the LP (after the two slacks).  With g0 and g1 in conflict,
 * (1, 2) is no pattern and (2, 0) and (0, 3) are maximal as they are.
 */
static void assert_enumerated(bool conflict, const uint32_t (*want)[2], size_t n)
{
	struct kerf_pack_problem p = knapsack_problem(conflict);
	struct solver *s = solver_new(&p);

	ilp_build_master(s);
	ck_assert(ilp_enumerate_kinds(s, INFINITY, 100, INT64_MAX));
	ck_assert_uint_eq(s->ncol, n);
	ck_assert_int_eq(glp_get_num_cols(s->lp), (int)(2 + n));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(has_column(s, want[i]), "no column (%u, %u)", want[i][0], want[i][1]);
	solver_delete(s);
}

START_TEST(enumeration_maximal_patterns)
{
	static const uint32_t all[][2] = {{2, 0}, {1, 2}, {0, 3}};
	static const uint32_t apart[][2] = {{2, 0}, {0, 3}};

	assert_enumerated(false, all, 3);
	assert_enumerated(true, apart, 2);
}
END_TEST

/* ------------------------------------------------------------ volume bound */

/*
 * Ten pods of 1 cpu and 2 mem, on-demand only, on
 *
 *   T   4 cpu 16 mem   on-demand 0.40, spot 0.10
 *   T2  8 cpu 16 mem   on-demand 0.60
 *
 * and an open node with 2 cpu and 4 mem left (two pods, for free).  A
 * pod's share of T is 1/4 cpu, 1/8 mem, 3/16 averaged; of T2 1/8, 1/8,
 * 1/8.  Its cheapest rate per weighting (cpu, mem, average) is
 * min(0.40 x 1/4, 0.60 x 1/8) = 0.075, min(0.40 x 1/8, 0.60 x 1/8) =
 * 0.05 and min(0.40 x 3/16, 0.60 x 1/8) = 0.075; the eight pods not on
 * the open node cost at least 8 x 0.075 = 0.60, the best of the three.
 * One T2 holds those eight: 0.60 is the optimum.  With spot allowed, T
 * costs 0.10 and the cpu weighting gives 8 x 0.10 / 4 = 0.20.
 */
static const int64_t vol_t[ND] = {4, 16}, vol_t2[ND] = {8, 16};
static const struct kerf_pack_offering vol_off[] = {{0, OD, 400000}, {0, SPOT, 100000}},
				       vol_off2[] = {{0, OD, 600000}};
static const struct kerf_pack_offering *const vol_offp[] = {&vol_off[0], &vol_off[1]},
					      *const vol_off2p[] = {&vol_off2[0]};
static const struct kerf_pack_type vol_types[] = {{"T", vol_t, 2, vol_offp},
						  {"T2", vol_t2, 1, vol_off2p}};
static const struct kerf_pack_type *const vol_type_list[] = {&vol_types[0], &vol_types[1]};
static const int64_t req12[ND] = {1, 2}, vol_open_room[ND] = {2, 4};
static const uint32_t types01[] = {0, 1}, vol_open_groups[] = {0};
static const struct kerf_pack_open_node vol_open[] = {
    {0, 0, OD, vol_open_room, 1, vol_open_groups}};
static const struct kerf_pack_open_node *const vol_open_list[] = {&vol_open[0]};

/*
 * The volume bound of the ten pods allowing capacity_types: *rounds gets
 * the rounds it adds, *with_unplaced the bound on plans leaving a pod out.
 */
static double volume_bound(uint32_t capacity_types, size_t *rounds, double *with_unplaced)
{
	struct kerf_pack_group g = {10, req12, 0, 2, types01, -1, capacity_types, 0};
	const struct kerf_pack_group *groups[] = {&g};
	struct kerf_pack_problem p = {.n_dims = ND,
				      .dim_names = dim_names,
				      .n_zones = 1,
				      .zone_names = zone_names,
				      .n_types = 2,
				      .types = vol_type_list,
				      .n_groups = 1,
				      .groups = groups,
				      .n_open = 1,
				      .open = vol_open_list,
				      .n_pools = 1,
				      .pools = kn_pools};
	struct solver *s = th_must(calloc(1, sizeof(*s)));
	double bound;

	s->host = &fake_host;
	s->clk = &clk;
	s->p = &p;
	ilp_solver_init(s);
	ilp_volume_bounds(s);
	*rounds = s->n_rounds;
	*with_unplaced = ilp_bound_for(s, 1);
	bound = ilp_bound_for(s, 0);
	solver_delete(s);
	return bound;
}

START_TEST(volume_bound_cheapest_rate)
{
	size_t rounds;
	double unplaced, b = volume_bound(CT(OD), &rounds, &unplaced);

	ck_assert_double_eq_tol(b, 0.60, 1e-9);
	/* One round per weighting, each with theta 0. */
	ck_assert_uint_eq(rounds, 3);
	/* A plan leaving a pod out pays the penalty in the bound: it proves nothing. */
	ck_assert_double_eq(unplaced, 0);
	ck_assert_int_eq(ilp_bound_micro(b), 600000);
	ck_assert_double_eq_tol(volume_bound(CT_ANY, &rounds, &unplaced), 0.20, 1e-9);
}
END_TEST

/*
 * Prices are whole micro-dollars, so a bound a hair above one (floating-
 * point error) must not round up to the next; one well past it does.
 */
START_TEST(bound_micro_margin)
{
	ck_assert_int_eq(ilp_bound_micro(0.6 + 1e-10), 600000);
	ck_assert_int_eq(ilp_bound_micro(0.6 + 1e-8), 600001);
	ck_assert_int_eq(ilp_bound_micro(0), 0);
	ck_assert_int_eq(ilp_bound_micro(-1), 0);
	ck_assert_int_eq(ilp_bound_micro(NAN), 0);
	ck_assert_int_eq(ilp_bound_micro(1e13), INT64_MAX);
}
END_TEST

static Suite *ilp_parts_suite(void)
{
	Suite *s = suite_create("binpack-ilp parts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, kinds_dominated_dropped);
	tcase_add_test(tc, kinds_limits_keep_smaller);
	tcase_add_test(tc, pricing_root_bound);
	tcase_add_test(tc, pricing_unpriced_group_left_out);
	tcase_add_test(tc, enumeration_maximal_patterns);
	tcase_add_test(tc, volume_bound_cheapest_rate);
	tcase_add_test(tc, bound_micro_margin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ilp_parts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
