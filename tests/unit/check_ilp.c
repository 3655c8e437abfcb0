/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * check_ilp.c - the binpack-ilp packer, loaded as kerfd loads it.
 *
 * binpack-ilp and binpack-ffd are both opened from the build tree through
 * the core loader.  Small random problems are solved exactly by brute force
 * here (every pod on every node, every node on every offering) and the
 * packer must match that price; larger ones are compared with FFD, which
 * the packer must never lose to, and with the packer's own lower bound.
 * Every plan goes through plan_check.
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kerf/plugin.h>

#include "ilp.h"
#include "loader.h"
#include "util.h"
#include "../common/host_alloc.h"
#include "../common/plan_check.h"
#include "../common/plugin_config.h"

#define ILP_DIR KERF_TEST_BUILDDIR "/plugins/binpack-ilp/.libs"
#define FFD_DIR KERF_TEST_BUILDDIR "/plugins/binpack-ffd/.libs"

/* ------------------------------------------------------------ fake host */

static int64_t cfg_budget_ms;	 /* 0: not configured */
static int64_t cfg_gap_bps = -1; /* -1: not configured */
static int64_t cfg_max_types;	 /* 0: not configured */
static int64_t cfg_work_limit;	 /* 0: not configured */
/*
 * What the host serves for a key the test did not configure: binpack-ilp's
 * defaults.  binpack-ffd, on the same table, reads only max_instance_types,
 * which both schemas declare alike.
 */
static struct cfg_section *defaults;
static size_t debug_lines;
static char last_debug[1024];

static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level != KERF_LOG_DEBUG)
		return;
	debug_lines++;
	va_start(ap, fmt);
	vsnprintf(last_debug, sizeof(last_debug), fmt, ap);
	va_end(ap);
}

/*
 * real_mono_ms, which only the emergency stop reads, is the real clock,
 * except in the tests of the limits: there it is the test's and moves only
 * by clock_tick_ms at each read.  A tick of 0 never lets real time stop a
 * solve (the counted work alone ends it, as on an infinitely fast machine);
 * the emergency-stop test sets a tick so that reading the clock is what
 * spends the time.
 */
static bool clock_fake;
static int64_t clock_now_ms, clock_tick_ms;

static int64_t fh_real_mono_ms(void *ctx)
{
	if (!clock_fake)
		return now_mono_ms();
	clock_now_ms += clock_tick_ms;
	return clock_now_ms;
}

/*
 * The host clock stands still, as the simulator's virtual clock does while
 * a solve runs: a packer that timed its budget on it would never see the
 * budget run out, and the budget test would catch it.
 */
static int64_t fh_host_clock(void *ctx)
{
	return 1000;
}

static int fh_config_int(void *ctx, const char *key, int64_t *out)
{
	if (strcmp(key, "max_instance_types") == 0 && cfg_max_types) {
		*out = cfg_max_types;
		return 0;
	}
	if (strcmp(key, "work_limit") == 0 && cfg_work_limit) {
		*out = cfg_work_limit;
		return 0;
	}
	if (strcmp(key, "relative_gap_bps") == 0 && cfg_gap_bps >= 0) {
		*out = cfg_gap_bps;
		return 0;
	}
	return cfg_section_int(defaults, key, out);
}

static int fh_config_duration(void *ctx, const char *key, int64_t *out)
{
	if (strcmp(key, "time_budget") == 0 && cfg_budget_ms) {
		*out = cfg_budget_ms;
		return 0;
	}
	return cfg_section_duration(defaults, key, out);
}

static const struct kerf_host fake_host = {
    .size = sizeof(struct kerf_host),
    .abi_major = KERF_ABI_MAJOR,
    .abi_minor = KERF_ABI_MINOR,
    .instance_name = "packer/test",
    .log = fh_log,
    TH_ALLOC_SLOTS,
    .wall_ms = fh_host_clock,
    .mono_ms = fh_host_clock,
    .config_int = fh_config_int,
    .config_duration = fh_config_duration,
    .real_mono_ms = fh_real_mono_ms,
};

/*
 * A table that ends before real_mono_ms, its host clock the real one (here
 * the test's): the slot is filled, but past `size`, so a packer must not
 * call it.  ilp_create makes the packer instance on host_table.
 */
static struct kerf_host old_host;
static const struct kerf_host *host_table;

static int64_t fh_past_the_end(void *ctx)
{
	ck_abort_msg("real_mono_ms read past the end of the host table");
	return 0;
}

/* ------------------------------------------------------------ the plugins */

static struct loader *ldr;
static const struct loader_plugin *ilp, *ffd;
static void *ilp_inst, *ffd_inst;

static int ilp_create(void)
{
	struct kerf_error err;

	kerf_error_clear(&err);
	return loader_create(ilp, host_table, &ilp_inst, &err);
}

static void setup(void)
{
	const char *dirs[] = {ILP_DIR, FFD_DIR};
	struct kerf_error err;
	int rc;

	cfg_budget_ms = 0;
	cfg_work_limit = 0;
	cfg_gap_bps = -1;
	cfg_max_types = 0;
	debug_lines = 0;
	host_table = &fake_host;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 2, &ldr, &err), 0);
	rc = loader_open(ldr, "binpack-ilp", KERF_KIND_PACKER, &ilp, &err);
	ck_assert_msg(rc == 0, "open binpack-ilp: %d %s", rc, err.message);
	rc = tc_plugin_section(ilp, NULL, &defaults, &err);
	ck_assert_msg(rc == 0, "binpack-ilp's defaults: %d %s", rc, err.message);
	rc = loader_open(ldr, "binpack-ffd", KERF_KIND_PACKER, &ffd, &err);
	ck_assert_msg(rc == 0, "open binpack-ffd: %d %s", rc, err.message);
	rc = loader_create(ffd, &fake_host, &ffd_inst, &err);
	ck_assert_msg(rc == 0, "create binpack-ffd: %d %s", rc, err.message);
}

static void teardown(void)
{
	if (ilp && ilp_inst)
		loader_destroy(ilp, ilp_inst);
	if (ffd && ffd_inst)
		loader_destroy(ffd, ffd_inst);
	ilp_inst = ffd_inst = NULL;
	ilp = ffd = NULL;
	loader_free(ldr);
	ldr = NULL;
	cfg_section_free(defaults);
	defaults = NULL;
}

/* The ILP instance with the configuration set so far. */
static void ilp_up(void)
{
	int rc = ilp_create();

	ck_assert_msg(rc == 0, "create binpack-ilp: %d", rc);
}

/* ------------------------------------------------------------ problems */

#define ND 3
enum { CPU, MEM, PODS };
static const char *const dims[ND] = {"cpu", "memory", "pods"};
static const char *const zone_names[] = {"z0", "z1", "z2"};
static const char *const pool_names[] = {"p0", "p1"};

#define MT 420
#define MO 4
#define MG 320
#define MP 2
#define MOPEN 3
#define MC 8

/*
 * One problem in fixed arrays: what packer.h points at lives here, the
 * objects laid out as the host may and the lists pointing into them.
 */
struct inst {
	struct kerf_pack_problem p;
	struct kerf_pack_type types[MT];
	const struct kerf_pack_type *type_list[MT];
	int64_t alloc[MT][ND];
	int64_t cap[MT][ND];
	const int64_t *capv[MT];
	struct kerf_pack_offering offers[MT][MO];
	const struct kerf_pack_offering *offer_list[MT][MO];
	char tname[MT][12];
	struct kerf_pack_group groups[MG];
	const struct kerf_pack_group *group_list[MG];
	int64_t req[MG][ND];
	uint32_t gtypes[MG][MT];
	struct kerf_pack_pool pools[MP];
	const struct kerf_pack_pool *pool_list[MP];
	int64_t prem[MP][ND];
	struct kerf_pack_conflict conf[MC];
	const struct kerf_pack_conflict *conf_list[MC];
	struct kerf_pack_open_node open[MOPEN];
	const struct kerf_pack_open_node *open_list[MOPEN];
	int64_t orem[MOPEN][ND];
	uint32_t ogroups[MOPEN][MG];
};

/* A zeroed problem whose lists point at its arrays. */
static struct inst *inst_new(void)
{
	struct inst *in = th_must(calloc(1, sizeof(*in)));

	for (size_t t = 0; t < MT; t++) {
		in->type_list[t] = &in->types[t];
		in->types[t].offerings = in->offer_list[t];
		for (size_t o = 0; o < MO; o++)
			in->offer_list[t][o] = &in->offers[t][o];
	}
	for (size_t g = 0; g < MG; g++)
		in->group_list[g] = &in->groups[g];
	for (size_t i = 0; i < MP; i++)
		in->pool_list[i] = &in->pools[i];
	for (size_t c = 0; c < MC; c++)
		in->conf_list[c] = &in->conf[c];
	for (size_t o = 0; o < MOPEN; o++)
		in->open_list[o] = &in->open[o];
	in->p.types = in->type_list;
	in->p.groups = in->group_list;
	in->p.conflicts = in->conf_list;
	in->p.open = in->open_list;
	in->p.pools = in->pool_list;
	return in;
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: the same problems on every platform. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n ? (uint32_t)(((rng * 2685821657736338717ull) >> 33) % n) : 0;
}

/* Sizes of the random problems. */
struct shape {
	uint32_t zones, types, offers, pools, groups, count, open, conflicts;
	uint32_t max_pods; /* 0: no cap on the batch */
};

static struct inst *gen(const struct shape *sh)
{
	struct inst *in = inst_new();
	struct kerf_pack_problem *p = &in->p;
	uint32_t nz = 1 + rnd(sh->zones), nt = 2 + rnd(sh->types - 1), np = 1 + rnd(sh->pools);
	uint32_t ng = 1 + rnd(sh->groups), pods = 0;

	p->n_dims = ND;
	p->dim_names = dims;
	p->n_zones = nz;
	p->zone_names = zone_names;
	p->n_types = nt;
	for (uint32_t t = 0; t < nt; t++) {
		struct kerf_pack_type *ty = &in->types[t];
		uint32_t no = 1 + rnd(sh->offers);
		snprintf(in->tname[t], sizeof(in->tname[t]), "t%u", t);
		in->alloc[t][CPU] = 1000 * (1 + rnd(8));
		in->alloc[t][MEM] = 1024 * (1 + rnd(16));
		in->alloc[t][PODS] = 2 + rnd(10);
		for (size_t d = 0; d < ND; d++)
			in->cap[t][d] = in->alloc[t][d] + (d == PODS ? 0 : rnd(300));
		in->capv[t] = in->cap[t];
		ty->name = in->tname[t];
		ty->allocatable = in->alloc[t];
		for (uint32_t o = 0; o < no; o++) {
			in->offers[t][o].zone = rnd(nz);
			in->offers[t][o].capacity_type = (kerf_capacity_type)rnd(3);
			/* Roughly by size, with noise, so no type is simply best. */
			in->offers[t][o].price =
			    (kerf_price_t)(in->alloc[t][CPU] / 10 + in->alloc[t][MEM] / 20 + 10 +
					   rnd(150));
		}
		ty->n_offerings = no;
	}
	p->n_pools = np;
	for (uint32_t i = 0; i < np; i++) {
		struct kerf_pack_pool *pp = &in->pools[i];
		pp->name = pool_names[i];
		for (size_t d = 0; d < ND; d++)
			in->prem[i][d] = INT64_MAX;
		pp->remaining = in->prem[i];
		pp->type_capacity = in->capv;
		pp->nodes_remaining = INT64_MAX;
		if (rnd(4) == 0)
			pp->nodes_remaining = 1 + rnd(4);
		if (rnd(4) == 0)
			in->prem[i][CPU] = 1000 * (2 + rnd(16));
	}
	for (uint32_t g = 0; g < ng; g++) {
		struct kerf_pack_group *gr = &in->groups[g];
		uint32_t k = 0, want = 1 + rnd(sh->count);
		if (sh->max_pods && pods + want > sh->max_pods)
			want = sh->max_pods > pods ? sh->max_pods - pods : 0;
		if (want == 0)
			break;
		pods += want;
		in->req[g][CPU] = 250 * (1 + rnd(12));
		in->req[g][MEM] = 256 * (1 + rnd(24));
		in->req[g][PODS] = 1;
		gr->count = want;
		gr->request = in->req[g];
		gr->nodepool = rnd(np);
		gr->zone = rnd(4) == 0 ? (int32_t)rnd(nz) : -1;
		gr->capacity_types = 1 + rnd(7);
		gr->max_per_node = rnd(4) == 0 ? 1 + rnd(2) : 0;
		for (uint32_t t = 0; t < nt; t++)
			if (rnd(5) != 0)
				in->gtypes[g][k++] = t;
		gr->n_types = k;
		gr->types = in->gtypes[g];
		p->n_groups = g + 1;
	}
	for (uint32_t c = rnd(sh->conflicts + 1); c > 0 && p->n_groups; c--) {
		in->conf[p->n_conflicts].a = rnd((uint32_t)p->n_groups);
		in->conf[p->n_conflicts].b = rnd((uint32_t)p->n_groups);
		p->n_conflicts++;
	}
	for (uint32_t o = rnd(sh->open + 1); o > 0; o--) {
		struct kerf_pack_open_node *on = &in->open[p->n_open];
		uint32_t n = 0;
		on->type = rnd(nt);
		on->zone = rnd(nz);
		on->capacity_type = (kerf_capacity_type)rnd(3);
		in->orem[p->n_open][CPU] = 500 * rnd(8);
		in->orem[p->n_open][MEM] = 512 * rnd(16);
		in->orem[p->n_open][PODS] = rnd(6);
		on->remaining = in->orem[p->n_open];
		for (uint32_t g = 0; g < p->n_groups; g++)
			if (rnd(3) != 0)
				in->ogroups[p->n_open][n++] = g;
		on->n_groups = n;
		on->groups = in->ogroups[p->n_open];
		p->n_open++;
	}
	return in;
}

/* ------------------------------------------------------------ brute force */

#define MAXPODS 6

/* A search over every placement of every pod, and every offering per new node. */
struct brute {
	const struct kerf_pack_problem *p;
	size_t npods;
	uint32_t pod_group[MAXPODS];
	int node_of[MAXPODS]; /* -1: unplaced; < n_open: open node; else new node */
	uint64_t best_placed;
	kerf_price_t best_cost;
	/* new nodes of the current leaf */
	size_t n_new;
	uint32_t new_pool[MAXPODS];
	int64_t new_sum[MAXPODS][ND];
	int64_t pool_used[MP][ND];
	kerf_price_t cost;
};

static bool lists(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* True when pod k may join the pods already on node n (groups, conflicts, caps). */
static bool may_join(const struct brute *b, size_t k, int n)
{
	const struct kerf_pack_problem *p = b->p;
	uint32_t g = b->pod_group[k], same = 0;

	for (size_t j = 0; j < k; j++) {
		if (b->node_of[j] != n)
			continue;
		if (b->pod_group[j] == g)
			same++;
		for (size_t c = 0; c < p->n_conflicts; c++) {
			uint32_t x = p->conflicts[c]->a, y = p->conflicts[c]->b;
			if ((x == g && y == b->pod_group[j]) || (y == g && x == b->pod_group[j]))
				return false;
		}
		if (n >= (int)p->n_open &&
		    p->groups[b->pod_group[j]]->nodepool != p->groups[g]->nodepool)
			return false;
	}
	return !p->groups[g]->max_per_node || same < p->groups[g]->max_per_node;
}

/* Offerings for new node i, tried in every combination under the pools' limits. */
static void choose(struct brute *b, size_t i, uint64_t placed, int64_t *pool_nodes)
{
	const struct kerf_pack_problem *p = b->p;
	uint32_t pool;

	if (placed == b->best_placed && b->cost >= b->best_cost)
		return;
	if (i == b->n_new) {
		b->best_placed = placed;
		b->best_cost = b->cost;
		return;
	}
	pool = b->new_pool[i];
	if (pool_nodes[pool] >= p->pools[pool]->nodes_remaining)
		return;
	for (uint32_t t = 0; t < p->n_types; t++) {
		const int64_t *cap = p->pools[pool]->type_capacity[t];
		bool ok = true;
		for (size_t d = 0; d < ND && ok; d++) {
			ok = b->new_sum[i][d] <= p->types[t]->allocatable[d];
			if (p->pools[pool]->remaining[d] != INT64_MAX)
				ok = ok &&
				     b->pool_used[pool][d] + cap[d] <= p->pools[pool]->remaining[d];
		}
		for (size_t k = 0; k < b->npods && ok; k++)
			if (b->node_of[k] == (int)(p->n_open + i))
				ok = lists(p->groups[b->pod_group[k]]->types,
					   p->groups[b->pod_group[k]]->n_types, t);
		for (size_t o = 0; ok && o < p->types[t]->n_offerings; o++) {
			const struct kerf_pack_offering *of = p->types[t]->offerings[o];
			bool allowed = true;
			for (size_t k = 0; k < b->npods && allowed; k++) {
				const struct kerf_pack_group *gr = p->groups[b->pod_group[k]];
				if (b->node_of[k] != (int)(p->n_open + i))
					continue;
				allowed = (gr->zone < 0 || (uint32_t)gr->zone == of->zone) &&
					  (gr->capacity_types & (1u << of->capacity_type));
			}
			if (!allowed)
				continue;
			for (size_t d = 0; d < ND; d++)
				b->pool_used[pool][d] += cap[d];
			pool_nodes[pool]++;
			b->cost += of->price;
			choose(b, i + 1, placed, pool_nodes);
			b->cost -= of->price;
			pool_nodes[pool]--;
			for (size_t d = 0; d < ND; d++)
				b->pool_used[pool][d] -= cap[d];
		}
	}
}

static void leaf(struct brute *b)
{
	const struct kerf_pack_problem *p = b->p;
	int64_t open_sum[MOPEN][ND] = {{0}};
	int64_t pool_nodes[MP] = {0};
	uint64_t placed = 0;

	b->n_new = 0;
	memset(b->new_sum, 0, sizeof(b->new_sum));
	for (size_t k = 0; k < b->npods; k++) {
		int n = b->node_of[k];
		const int64_t *req = p->groups[b->pod_group[k]]->request;
		if (n < 0)
			continue;
		placed++;
		if (n < (int)p->n_open) {
			for (size_t d = 0; d < ND; d++)
				open_sum[n][d] += req[d];
			continue;
		}
		n -= (int)p->n_open;
		if ((size_t)n + 1 > b->n_new)
			b->n_new = (size_t)n + 1;
		b->new_pool[n] = p->groups[b->pod_group[k]]->nodepool;
		for (size_t d = 0; d < ND; d++)
			b->new_sum[n][d] += req[d];
	}
	if (placed < b->best_placed)
		return;
	for (size_t o = 0; o < p->n_open; o++)
		for (size_t d = 0; d < ND; d++)
			if (open_sum[o][d] > p->open[o]->remaining[d])
				return;
	memset(b->pool_used, 0, sizeof(b->pool_used));
	b->cost = 0;
	choose(b, 0, placed, pool_nodes);
}

static void place(struct brute *b, size_t k, size_t n_new)
{
	const struct kerf_pack_problem *p = b->p;
	uint32_t g;

	if (k == b->npods) {
		leaf(b);
		return;
	}
	g = b->pod_group[k];
	b->node_of[k] = -1;
	place(b, k + 1, n_new);
	for (size_t o = 0; o < p->n_open; o++) {
		const struct kerf_pack_open_node *on = p->open[o];
		if (!lists(on->groups, on->n_groups, g) ||
		    (p->groups[g]->zone >= 0 && (uint32_t)p->groups[g]->zone != on->zone) ||
		    !(p->groups[g]->capacity_types & (1u << on->capacity_type)) ||
		    !may_join(b, k, (int)o))
			continue;
		b->node_of[k] = (int)o;
		place(b, k + 1, n_new);
	}
	for (size_t i = 0; i <= n_new && i < MAXPODS; i++) {
		int n = (int)(p->n_open + i);
		if (i < n_new && !may_join(b, k, n))
			continue;
		b->node_of[k] = n;
		place(b, k + 1, i == n_new ? n_new + 1 : n_new);
	}
	b->node_of[k] = -1;
}

/* The most pods any plan places, and the least such a plan costs. */
static void brute_force(const struct kerf_pack_problem *p, uint64_t *placed, kerf_price_t *cost)
{
	struct brute b;

	memset(&b, 0, sizeof(b));
	b.p = p;
	for (size_t g = 0; g < p->n_groups; g++)
		for (uint32_t i = 0; i < p->groups[g]->count; i++) {
			ck_assert_uint_lt(b.npods, MAXPODS);
			b.pod_group[b.npods++] = (uint32_t)g;
		}
	b.best_cost = 0;
	place(&b, 0, 0);
	*placed = b.best_placed;
	*cost = b.best_cost;
}

/* ------------------------------------------------------------ helpers */

static uint64_t placed_of(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan)
{
	uint64_t n = 0;

	for (size_t g = 0; g < p->n_groups; g++)
		n += p->groups[g]->count;
	for (size_t u = 0; u < plan->n_unplaced; u++)
		n -= plan->unplaced[u]->count;
	return n;
}

static struct kerf_pack_plan *run(const struct loader_plugin *pl, void *inst,
				  const struct kerf_pack_problem *p, int64_t budget_ms)
{
	struct kerf_pack_plan *plan = NULL;
	struct kerf_error err;
	char why[512];
	int rc;

	kerf_error_clear(&err);
	rc = pl->packer.solve(inst, p, budget_ms, &plan, &err);
	ck_assert_msg(rc == 0, "%s: %d %s", pl->desc.name, rc, err.message);
	ck_assert_msg(plan_check(p, plan, why, sizeof(why)) == 0, "%s plan_check: %s",
		      pl->desc.name, why);
	return plan;
}

static void assert_same_plan(const struct kerf_pack_plan *x, const struct kerf_pack_plan *y)
{
	ck_assert_uint_eq(x->n_nodes, y->n_nodes);
	ck_assert_uint_eq(x->n_unplaced, y->n_unplaced);
	ck_assert_int_eq(x->total_price, y->total_price);
	ck_assert_int_eq(x->lower_bound, y->lower_bound);
	for (size_t i = 0; i < x->n_nodes; i++) {
		const struct kerf_pack_node *a = x->nodes[i], *b = y->nodes[i];
		ck_assert_int_eq(a->open_index, b->open_index);
		ck_assert_uint_eq(a->type, b->type);
		ck_assert_uint_eq(a->zone, b->zone);
		ck_assert_int_eq(a->price, b->price);
		ck_assert_uint_eq(a->n_options, b->n_options);
		ck_assert_uint_eq(a->n_assign, b->n_assign);
		ck_assert(memcmp(a->options, b->options, a->n_options * sizeof(uint32_t)) == 0);
		for (size_t k = 0; k < a->n_assign; k++) {
			ck_assert_uint_eq(a->assign[k]->group, b->assign[k]->group);
			ck_assert_uint_eq(a->assign[k]->count, b->assign[k]->count);
		}
	}
	for (size_t i = 0; i < x->n_unplaced; i++) {
		ck_assert_uint_eq(x->unplaced[i]->group, y->unplaced[i]->group);
		ck_assert_uint_eq(x->unplaced[i]->count, y->unplaced[i]->count);
	}
}

/*
 * In a pool with a resource limit no option of a new node may be larger, in
 * a limited dimension, than the chosen type, and no node has more options
 * than max_types: the launcher may pick any of them.
 */
static void assert_options_fit(const struct kerf_pack_problem *p, const struct kerf_pack_plan *plan,
			       size_t max_types)
{
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		const struct kerf_pack_pool *pp = p->pools[n->nodepool];
		ck_assert_uint_le(n->n_options, max_types);
		if (n->open_index >= 0)
			continue;
		for (size_t k = 0; k < n->n_options; k++)
			for (size_t d = 0; d < p->n_dims; d++)
				ck_assert_msg(
				    pp->remaining[d] == INT64_MAX ||
					pp->type_capacity[n->options[k]][d] <=
					    pp->type_capacity[n->type][d],
				    "node %zu: option %u larger than the chosen type in %s", i,
				    n->options[k], p->dim_names[d]);
	}
}

/*
 * Solves with both packers and asserts binpack-ilp's plan is no worse than
 * FFD's: at least as many pods placed and, placing as many, no dearer, with
 * a bound no plan placing as many beats (FFD's included) and options the
 * limits allow.  Returns how much cheaper it is (0: same or more pods);
 * *bound (NULL: not wanted) gets binpack-ilp's lower bound.
 */
static kerf_price_t assert_not_worse(const struct kerf_pack_problem *p, int64_t budget_ms,
				     kerf_price_t *bound)
{
	struct kerf_pack_plan *a = run(ilp, ilp_inst, p, budget_ms);
	struct kerf_pack_plan *f = run(ffd, ffd_inst, p, 0);
	uint64_t pa = placed_of(p, a), pf = placed_of(p, f);
	kerf_price_t saved = 0;

	ck_assert_msg(pa >= pf, "ILP places %" PRIu64 ", FFD %" PRIu64, pa, pf);
	if (pa == pf) {
		ck_assert_int_le(a->lower_bound, f->total_price);
		ck_assert_msg(a->total_price <= f->total_price,
			      "ILP %" PRId64 " above FFD %" PRId64, a->total_price, f->total_price);
		saved = f->total_price - a->total_price;
	}
	ck_assert_int_le(a->lower_bound, a->total_price);
	assert_options_fit(p, a, 60);
	if (bound)
		*bound = a->lower_bound;
	kerf_pack_plan_free(a);
	kerf_pack_plan_free(f);
	return saved;
}

/* ------------------------------------------------------------ tests */

START_TEST(descriptor)
{
	const struct kerf_config_key *k = ilp->schema;

	ck_assert_str_eq(ilp->desc.name, "binpack-ilp");
	ck_assert_uint_eq(ilp->desc.kinds, KERF_KIND_PACKER);
	ck_assert(ilp->desc.capabilities & KERF_CAP_PACKER_OPTIMAL);
	ck_assert(ilp->desc.capabilities & KERF_CAP_PACKER_TIME_BUDGET);
	ck_assert_str_eq(k[0].key, "time_budget");
	ck_assert_int_eq(k[0].type, KERF_CFG_DURATION);
	ck_assert_str_eq(k[0].default_value, "1s");
	ck_assert_str_eq(k[1].key, "relative_gap_bps");
	ck_assert_str_eq(k[2].key, "max_instance_types");
	ck_assert_str_eq(k[3].key, "work_limit");
	ck_assert_str_eq(k[3].default_value, "0");
	ck_assert_ptr_null(k[4].key);
}
END_TEST

/* The schema's ranges: kerfd stops with the position before create() runs. */
START_TEST(config_errors)
{
	static const struct {
		const char *yaml, *message;
	} bad[] = {
	    {"time_budget: 0s\n", "kerf.yaml:1:1: plugins.binpack-ilp.time_budget: must be from "
				  "1ms to 596h31m23.647s, not \"0s\""},
	    {"time_budget: 600h\n", "kerf.yaml:1:1: plugins.binpack-ilp.time_budget: must be from "
				    "1ms to 596h31m23.647s, not \"600h\""},
	    {"relative_gap_bps: 20000\n", "kerf.yaml:1:1: plugins.binpack-ilp.relative_gap_bps: "
					  "must be from 0 to 10000, not \"20000\""},
	    {"relative_gap_bps: -1\n", "kerf.yaml:1:1: plugins.binpack-ilp.relative_gap_bps: must "
				       "be from 0 to 10000, not \"-1\""},
	    {"max_instance_types: -3\n", "kerf.yaml:1:1: plugins.binpack-ilp.max_instance_types: "
					 "must be at least 1, not \"-3\""},
	    {"work_limit: -1\n", "kerf.yaml:1:1: plugins.binpack-ilp.work_limit: must be from 0 "
				 "to 1152921504606846975, not \"-1\""},
	};
	struct cfg_section *s = NULL;
	struct kerf_error err;
	int64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kerf_error_clear(&err);
		ck_assert_int_eq(tc_plugin_section(ilp, bad[i].yaml, &s, &err), KERF_E_CONFIG);
		ck_assert_str_eq(err.message, bad[i].message);
		ck_assert_ptr_null(s);
	}
	/* The ends of each range are accepted. */
	ck_assert_int_eq(tc_plugin_section(ilp,
					   "time_budget: 1ms\nrelative_gap_bps: 10000\n"
					   "max_instance_types: 1\n",
					   &s, &err),
			 0);
	ck_assert_int_eq(cfg_section_duration(s, "time_budget", &v), 0);
	ck_assert_int_eq(v, 1);
	cfg_section_free(s);
}
END_TEST

/* Two pods, one cpu-heavy and one memory-heavy: one big node beats two small. */
START_TEST(shares_a_node_when_cheaper)
{
	struct inst *in = inst_new();
	struct kerf_pack_problem *p = &in->p;
	struct kerf_pack_plan *plan;
	static const int64_t alloc[3][ND] = {
	    {4000, 4096, 10}, {1000, 16384, 10}, {4000, 16384, 10}};
	static const kerf_price_t price[3] = {150, 120, 200};

	p->n_dims = ND;
	p->dim_names = dims;
	p->n_zones = 1;
	p->zone_names = zone_names;
	p->n_types = 3;
	for (uint32_t t = 0; t < 3; t++) {
		memcpy(in->alloc[t], alloc[t], sizeof(alloc[t]));
		in->capv[t] = in->alloc[t];
		in->types[t].name = "t";
		in->types[t].allocatable = in->alloc[t];
		in->types[t].n_offerings = 1;
		in->offers[t][0].price = price[t];
		in->gtypes[0][t] = in->gtypes[1][t] = t;
	}
	p->n_pools = 1;
	for (size_t d = 0; d < ND; d++)
		in->prem[0][d] = INT64_MAX;
	in->pools[0] = (struct kerf_pack_pool){.name = "p0",
					       .remaining = in->prem[0],
					       .type_capacity = in->capv,
					       .nodes_remaining = INT64_MAX};
	p->n_groups = 2;
	for (uint32_t g = 0; g < 2; g++) {
		in->req[g][CPU] = g ? 500 : 3500;
		in->req[g][MEM] = g ? 12000 : 2048;
		in->req[g][PODS] = 1;
		in->groups[g] =
		    (struct kerf_pack_group){1, in->req[g], 0, 3, in->gtypes[g], -1, 7, 0};
	}
	ilp_up();
	plan = run(ilp, ilp_inst, p, 0);
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->nodes[0]->type, 2);
	ck_assert_int_eq(plan->total_price, 200);
	ck_assert(plan->optimal);
	ck_assert_int_eq(plan->lower_bound, 200);
	kerf_pack_plan_free(plan);
	free(in);
}
END_TEST

/* ------------------------------------------------------------ compact model */

/*
 * An exact optimum by a model that shares nothing with binpack-ilp's: one
 * binary per possible node of each offering and one integer per group on
 * it, solved by GLPK's branch-and-bound with no time limit and no gap.  It
 * covers problems of one pool without limits, open nodes or conflicts (zone
 * and capacity-type choices and max_per_node it keeps).  A node of offering
 * k costs c_k, so no plan cheaper than `cap` has more than cap / c_k of
 * them (nor more than there are pods): that bounds the nodes per offering,
 * and y_i >= y_i+1 breaks the
 * symmetry between them.  Returns the optimum in micro-dollars, or -1 when
 * some pod fits nowhere.
 */
static kerf_price_t compact_optimum(const struct kerf_pack_problem *p, kerf_price_t cap)
{
	glp_prob *lp = glp_create_prob();
	size_t nnz = 0, cnz = 1024;
	int *ia = malloc(cnz * sizeof(int)), *ja = malloc(cnz * sizeof(int));
	double *ar = malloc(cnz * sizeof(double));
	int row_of_group = 0, nrows, term = glp_term_out(GLP_OFF);
	kerf_price_t best = -1;
	glp_iocp parm;

#define NZ(r, c, v)                                                                                \
	do {                                                                                       \
		if (nnz + 1 >= cnz) {                                                              \
			cnz *= 2;                                                                  \
			ia = realloc(ia, cnz * sizeof(int));                                       \
			ja = realloc(ja, cnz * sizeof(int));                                       \
			ar = realloc(ar, cnz * sizeof(double));                                    \
		}                                                                                  \
		nnz++;                                                                             \
		ia[nnz] = (r);                                                                     \
		ja[nnz] = (c);                                                                     \
		ar[nnz] = (v);                                                                     \
	} while (0)

	glp_set_obj_dir(lp, GLP_MIN);
	/* Rows 1..n_groups: every pod of the group placed. */
	row_of_group = glp_add_rows(lp, (int)p->n_groups);
	for (size_t g = 0; g < p->n_groups; g++)
		glp_set_row_bnds(lp, row_of_group + (int)g, GLP_FX, p->groups[g]->count,
				 p->groups[g]->count);
	for (uint32_t t = 0; t < p->n_types; t++) {
		const struct kerf_pack_type *ty = p->types[t];
		for (size_t o = 0; o < ty->n_offerings; o++) {
			const struct kerf_pack_offering *of = ty->offerings[o];
			int64_t nodes = of->price > 0 ? cap / of->price : 0, prev = 0, fit = 0;
			for (size_t g = 0; g < p->n_groups; g++)
				fit += p->groups[g]->count;
			if (nodes > fit)
				nodes = fit;
			for (int64_t i = 0; i < nodes; i++) {
				/* The node: y, its capacity rows, its groups. */
				int y = glp_add_cols(lp, 1), r = glp_add_rows(lp, (int)p->n_dims);
				glp_set_col_kind(lp, y, GLP_BV);
				glp_set_obj_coef(lp, y, (double)of->price);
				for (size_t d = 0; d < p->n_dims; d++) {
					glp_set_row_bnds(lp, r + (int)d, GLP_UP, 0, 0);
					NZ(r + (int)d, y, -(double)ty->allocatable[d]);
				}
				if (prev) {
					int sym = glp_add_rows(lp, 1);
					glp_set_row_bnds(lp, sym, GLP_LO, 0, 0);
					NZ(sym, prev, 1);
					NZ(sym, y, -1);
				}
				prev = y;
				for (size_t g = 0; g < p->n_groups; g++) {
					const struct kerf_pack_group *gr = p->groups[g];
					bool listed = false;
					double most = gr->count;
					int x;
					for (size_t k = 0; k < gr->n_types; k++)
						listed = listed || gr->types[k] == t;
					if (!listed ||
					    (gr->zone >= 0 && (uint32_t)gr->zone != of->zone) ||
					    !(gr->capacity_types & (1u << of->capacity_type)))
						continue;
					if (gr->max_per_node && gr->max_per_node < most)
						most = gr->max_per_node;
					x = glp_add_cols(lp, 1);
					glp_set_col_kind(lp, x, GLP_IV);
					glp_set_col_bnds(lp, x, GLP_DB, 0, most);
					NZ(row_of_group + (int)g, x, 1);
					for (size_t d = 0; d < p->n_dims; d++)
						if (gr->request[d])
							NZ(r + (int)d, x, (double)gr->request[d]);
				}
			}
		}
	}
#undef NZ
	nrows = glp_get_num_rows(lp);
	ck_assert_int_gt(nrows, 0);
	if (glp_get_num_cols(lp) > 0) {
		glp_load_matrix(lp, (int)nnz, ia, ja, ar);
		glp_init_iocp(&parm);
		parm.presolve = GLP_ON;
		parm.mip_gap = 0;
		parm.gmi_cuts = GLP_ON;
		parm.mir_cuts = GLP_ON;
		parm.msg_lev = GLP_MSG_OFF;
		if (glp_intopt(lp, &parm) == 0 && glp_mip_status(lp) == GLP_OPT)
			best = (kerf_price_t)llround(glp_mip_obj_val(lp));
	}
	glp_delete_prob(lp);
	glp_term_out(term);
	free(ia);
	free(ja);
	free(ar);
	return best;
}

/*
 * Instances of 10 to 30 pods against the compact model's optimum: the
 * packer's bound is below it, its plan within the 1 % gap above it, and
 * equal to it on most.
 */
START_TEST(matches_compact_optimum)
{
	static const struct shape sh = {3, 3, 2, 1, 4, 10, 0, 0, 30};
	size_t n = 0, exact = 0;

	ilp_up();
	rng = 0x636f6du; /* "com" */
	while (n < 24) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *plan;
		uint64_t pods = 0;
		kerf_price_t opt;
		for (size_t g = 0; g < in->p.n_groups; g++)
			pods += in->p.groups[g]->count;
		in->pools[0].nodes_remaining = INT64_MAX;
		in->prem[0][CPU] = INT64_MAX;
		plan = run(ilp, ilp_inst, &in->p, 0);
		if (pods < 10 || plan->n_unplaced) {
			kerf_pack_plan_free(plan);
			free(in);
			continue;
		}
		opt = compact_optimum(&in->p, plan->total_price);
		ck_assert_msg(opt > 0, "instance %zu: the compact model found no plan", n);
		ck_assert_msg(plan->lower_bound <= opt,
			      "instance %zu (%" PRIu64 " pods): bound %" PRId64
			      " above the optimum %" PRId64,
			      n, pods, plan->lower_bound, opt);
		ck_assert_msg(plan->total_price * 100 <= opt * 101,
			      "instance %zu (%" PRIu64 " pods): price %" PRId64
			      ", optimum %" PRId64,
			      n, pods, plan->total_price, opt);
		if (plan->total_price == opt)
			exact++;
		n++;
		kerf_pack_plan_free(plan);
		free(in);
	}
	ck_assert_uint_ge(exact, n * 3 / 4);
}
END_TEST

/*
 * The same instances with work limits that stop column generation early:
 * what a solve cut short proves (the dive's pricing records no bound, the
 * kinds left open are priced again under the knapsack's LP) must still be
 * below the exact optimum, and its plan no cheaper than it.
 */
START_TEST(cut_solves_bound_below_optimum)
{
	static const struct shape sh = {3, 3, 2, 1, 4, 10, 0, 0, 30};
	static const int64_t limits[] = {35000, 50000, 80000, 150000};
	size_t n = 0;

	rng = 0x637574u; /* "cut" */
	while (n < 16) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *plan;
		uint64_t pods = 0;
		kerf_price_t opt;
		for (size_t g = 0; g < in->p.n_groups; g++)
			pods += in->p.groups[g]->count;
		in->pools[0].nodes_remaining = INT64_MAX;
		in->prem[0][CPU] = INT64_MAX;
		cfg_work_limit = limits[n % 4];
		if (ilp_inst)
			loader_destroy(ilp, ilp_inst);
		ilp_inst = NULL;
		ilp_up();
		plan = run(ilp, ilp_inst, &in->p, 0);
		if (pods < 10 || plan->n_unplaced) {
			kerf_pack_plan_free(plan);
			free(in);
			continue;
		}
		opt = compact_optimum(&in->p, plan->total_price);
		ck_assert_msg(opt > 0, "instance %zu: the compact model found no plan", n);
		ck_assert_msg(plan->lower_bound <= opt,
			      "instance %zu (%" PRIu64 " pods, work limit %" PRId64
			      "): bound %" PRId64 " above the optimum %" PRId64,
			      n, pods, cfg_work_limit, plan->lower_bound, opt);
		ck_assert_msg(plan->total_price >= opt,
			      "instance %zu: price %" PRId64 " below the optimum %" PRId64, n,
			      plan->total_price, opt);
		n++;
		kerf_pack_plan_free(plan);
		free(in);
	}
	cfg_work_limit = 0;
}
END_TEST

/*
 * binpack-ilp explains pods it leaves out by its own plan.  Limit 9 cpu;
 * types S (3 cpu, $50), A (4 cpu, $100) and B (4 cpu allocatable, 8
 * capacity, $90); two 4-cpu pods and one 3-cpu pod.  FFD charges its first
 * node B's 8 cpu (the largest of its options, as Karpenter does), leaves 1
 * cpu and places one pod; the ILP places two on A and S for $150 and leaves
 * 2 cpu, which is what its reason must say.
 */
START_TEST(reasons_from_its_own_plan)
{
	struct inst *in = inst_new();
	struct kerf_pack_problem *p = &in->p;
	struct kerf_pack_plan *plan;
	static const int64_t alloc[3] = {3000, 4000, 4000}, cap[3] = {3000, 4000, 8000};
	static const kerf_price_t price[3] = {50, 100, 90};

	p->n_dims = ND;
	p->dim_names = dims;
	p->n_zones = 1;
	p->zone_names = zone_names;
	p->n_types = 3;
	for (uint32_t t = 0; t < 3; t++) {
		in->alloc[t][CPU] = alloc[t];
		in->alloc[t][MEM] = 1 << 30;
		in->alloc[t][PODS] = 10;
		memcpy(in->cap[t], in->alloc[t], sizeof(in->alloc[t]));
		in->cap[t][CPU] = cap[t];
		in->capv[t] = in->cap[t];
		in->types[t].name = "t";
		in->types[t].allocatable = in->alloc[t];
		in->types[t].n_offerings = 1;
		in->offers[t][0].price = price[t];
		in->gtypes[0][t] = in->gtypes[1][t] = t;
	}
	p->n_pools = 1;
	for (size_t d = 0; d < ND; d++)
		in->prem[0][d] = INT64_MAX;
	in->prem[0][CPU] = 9000;
	in->pools[0] = (struct kerf_pack_pool){.name = "p0",
					       .remaining = in->prem[0],
					       .type_capacity = in->capv,
					       .nodes_remaining = INT64_MAX};
	p->n_groups = 2;
	for (uint32_t g = 0; g < 2; g++) {
		in->req[g][CPU] = g ? 3000 : 4000;
		in->req[g][MEM] = 1024;
		in->req[g][PODS] = 1;
		in->groups[g] =
		    (struct kerf_pack_group){g ? 1 : 2, in->req[g], 0, 3, in->gtypes[g], -1, 7, 0};
	}
	ilp_up();
	plan = run(ilp, ilp_inst, p, 0);
	ck_assert_int_eq(plan->total_price, 150);
	ck_assert_uint_eq(plan->n_unplaced, 1);
	ck_assert_uint_eq(plan->unplaced[0]->group, 0);
	ck_assert_str_eq(plan->unplaced[0]->reason,
			 "nodepool p0 limit cpu exceeded (remaining cpu=2000m)");
	kerf_pack_plan_free(plan);
	free(in);
}
END_TEST

START_TEST(tiny_matches_brute_force)
{
	static const struct shape sh = {2, 3, 2, 2, 3, 3, 2, 2, 5};
	size_t optimal = 0, n = 500;

	cfg_gap_bps = 0;
	ilp_up();
	rng = 0x696c70u; /* "ilp" */
	for (size_t i = 0; i < n; i++) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *plan = run(ilp, ilp_inst, &in->p, 0);
		uint64_t want_placed;
		kerf_price_t want_cost;
		brute_force(&in->p, &want_placed, &want_cost);
		ck_assert_msg(placed_of(&in->p, plan) == want_placed,
			      "instance %zu: %" PRIu64 " pods placed, brute force %" PRIu64, i,
			      placed_of(&in->p, plan), want_placed);
		ck_assert_msg(plan->total_price == want_cost,
			      "instance %zu: price %" PRId64 ", brute force %" PRId64, i,
			      plan->total_price, want_cost);
		ck_assert_int_le(plan->lower_bound, want_cost);
		if (plan->optimal)
			optimal++;
		kerf_pack_plan_free(plan);
		free(in);
	}
	/* Every pattern fits in the master here, so the optimum is proven when all pods fit. */
	ck_assert_uint_ge(optimal, n * 3 / 4);
}
END_TEST

START_TEST(never_worse_than_ffd)
{
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 6, 0};
	size_t n = 400, cheaper = 0, bounded = 0;

	ilp_up();
	rng = 0x6b657266u;
	for (size_t i = 0; i < n; i++) {
		struct inst *in = gen(&sh);
		kerf_price_t bound;
		if (assert_not_worse(&in->p, 0, &bound) > 0)
			cheaper++;
		if (bound > 0)
			bounded++;
		free(in);
	}
	/* The point of the packer: it finds cheaper plans, and proves bounds, often. */
	ck_assert_uint_gt(cheaper, n / 10);
	ck_assert_uint_gt(bounded, n / 2);
}
END_TEST

/* An instance of binpack-ilp that stops at once: its bound is the batch's alone. */
static void *loose_up(void)
{
	struct kerf_error err;
	void *inst = NULL;
	int64_t gap = cfg_gap_bps;

	cfg_gap_bps = 10000;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_create(ilp, &fake_host, &inst, &err), 0);
	cfg_gap_bps = gap;
	return inst;
}

/*
 * Ten tiny pods in mutual anti-affinity among 310 groups, so the batch is
 * cut: the volume bound is a fraction of a node, but ten nodes there must
 * be, and the batch's bound says so.  The piece with the conflicts comes
 * first and the other fills its nodes, so the plan is those ten nodes.
 */
START_TEST(batch_bound_counts_nodes)
{
	struct inst *in = inst_new();
	struct kerf_pack_conflict *conf = th_must(calloc(45, sizeof(*conf)));
	const struct kerf_pack_conflict **conf_list = th_must(calloc(45, sizeof(*conf_list)));
	struct kerf_pack_problem *p = &in->p;
	struct kerf_pack_plan *plan;
	size_t nc = 0;

	p->n_dims = ND;
	p->dim_names = dims;
	p->n_zones = 1;
	p->zone_names = zone_names;
	p->conflicts = conf_list;
	p->n_types = 1;
	in->alloc[0][CPU] = 4000;
	in->alloc[0][MEM] = 8192;
	in->alloc[0][PODS] = 400;
	in->capv[0] = in->alloc[0];
	in->types[0] = (struct kerf_pack_type){"t", in->alloc[0], 1, in->offer_list[0]};
	in->offers[0][0].price = 100;
	p->n_pools = 1;
	for (size_t d = 0; d < ND; d++)
		in->prem[0][d] = INT64_MAX;
	in->pools[0] = (struct kerf_pack_pool){.name = "p0",
					       .remaining = in->prem[0],
					       .type_capacity = in->capv,
					       .nodes_remaining = INT64_MAX};
	p->n_groups = 310;
	for (uint32_t g = 0; g < 310; g++) {
		in->req[g][CPU] = 1;
		in->req[g][MEM] = 1;
		in->req[g][PODS] = 1;
		in->gtypes[g][0] = 0;
		in->groups[g] =
		    (struct kerf_pack_group){1, in->req[g], 0, 1, in->gtypes[g], -1, 7, 0};
	}
	for (uint32_t a = 0; a < 10; a++)
		for (uint32_t b = a + 1; b < 10; b++) {
			conf[nc] = (struct kerf_pack_conflict){a, b};
			conf_list[nc] = &conf[nc];
			nc++;
		}
	p->n_conflicts = nc;
	ilp_up();
	plan = run(ilp, ilp_inst, p, 0);
	ck_assert_int_eq(plan->n_unplaced, 0);
	ck_assert_int_eq(plan->lower_bound, 10 * 100);
	ck_assert_int_eq(plan->total_price, 10 * 100);
	ck_assert(plan->optimal);
	kerf_pack_plan_free(plan);
	free(conf);
	free(conf_list);
	free(in);
}
END_TEST

/* With conflicts and per-node caps, the batch's bound never passes the optimum. */
START_TEST(batch_bound_below_optimum)
{
	static const struct shape sh = {2, 3, 2, 2, 4, 3, 2, 6, 5};
	size_t n = 400, bounded = 0;
	void *loose;

	ilp_up();
	loose = loose_up();
	rng = 0x636f756eu;
	for (size_t i = 0; i < n; i++) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *plan = run(ilp, loose, &in->p, 0);
		uint64_t want_placed, all = 0;
		kerf_price_t want_cost;
		brute_force(&in->p, &want_placed, &want_cost);
		for (size_t g = 0; g < in->p.n_groups; g++)
			all += in->groups[g].count;
		if (want_placed == all) {
			ck_assert_msg(plan->lower_bound <= want_cost,
				      "instance %zu: bound %" PRId64 ", optimum %" PRId64, i,
				      plan->lower_bound, want_cost);
			if (plan->lower_bound > 0)
				bounded++;
		}
		kerf_pack_plan_free(plan);
		free(in);
	}
	ck_assert_uint_gt(bounded, n / 4);
	loader_destroy(ilp, loose);
}
END_TEST

/* ... nor the price of the best plan found on bigger ones. */
START_TEST(batch_bound_below_plans)
{
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 8, 0};
	size_t n = 150;
	void *loose;

	ilp_up();
	loose = loose_up();
	rng = 0x706c616eu;
	for (size_t i = 0; i < n; i++) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *b = run(ilp, loose, &in->p, 0);
		struct kerf_pack_plan *a = run(ilp, ilp_inst, &in->p, 0);
		if (a->n_unplaced == 0)
			ck_assert_msg(b->lower_bound <= a->total_price,
				      "instance %zu: bound %" PRId64 ", plan %" PRId64, i,
				      b->lower_bound, a->total_price);
		kerf_pack_plan_free(a);
		kerf_pack_plan_free(b);
		free(in);
	}
	loader_destroy(ilp, loose);
}
END_TEST

/* A problem with a few hundred types and groups: far more than a short budget solves. */
static struct inst *big_problem(void)
{
	static const struct shape sh = {3, MT, MO, 1, MG, 40, 0, 0, 0};
	struct inst *in;

	rng = 7;
	in = gen(&sh);
	/* gen draws sizes at random; make this one large for sure. */
	while (in->p.n_groups < MG / 2 || in->p.n_types < MT / 2) {
		free(in);
		in = gen(&sh);
	}
	for (size_t i = 0; i < in->p.n_pools; i++) {
		in->pools[i].nodes_remaining = INT64_MAX;
		in->prem[i][CPU] = INT64_MAX;
	}
	return in;
}

/*
 * Solves on the test's clock standing still, so that nothing but counted
 * work can end the solve, and checks it spent about `limit` units: at
 * least half (the problem must be too big to finish sooner, or the test
 * proves nothing) and at most a fifth over (each phase checks the clock
 * between steps of bounded size).
 */
static struct kerf_pack_plan *assert_work(const struct inst *in, int64_t budget_ms, int64_t limit)
{
	struct kerf_pack_plan *plan;

	clock_fake = true;
	clock_tick_ms = 0;
	plan = run(ilp, ilp_inst, &in->p, budget_ms);
	clock_fake = false;
	ck_assert(!plan->hit_time_limit);
	ck_assert_msg(plan->work <= limit + limit / 5, "limit %" PRId64 " units: spent %" PRId64,
		      limit, plan->work);
	ck_assert_msg(plan->work >= limit / 2,
		      "spent %" PRId64 " of %" PRId64 " units: make big_problem bigger", plan->work,
		      limit);
	return plan;
}

static void ilp_reload(void)
{
	loader_destroy(ilp, ilp_inst);
	ilp_inst = NULL;
	ilp_up();
}

/*
 * Counted work ends a solve; without a work_limit it is the work an idle
 * core does in half the time budget, the core's budget winning over the
 * configured one.
 */
START_TEST(work_limit_respected)
{
	struct inst *in = big_problem();

	cfg_work_limit = 200000;
	ilp_up();
	kerf_pack_plan_free(assert_work(in, 0, 200000));
	cfg_work_limit = 0;
	cfg_budget_ms = 150;
	ilp_reload();
	kerf_pack_plan_free(assert_work(in, 0, 150 * ILP_WORK_PER_MS / 2));
	kerf_pack_plan_free(assert_work(in, 300, 300 * ILP_WORK_PER_MS / 2));
	free(in);
}
END_TEST

/*
 * Real time is an emergency stop.  The test's clock advances `tick` ms at
 * every read (budget_ms: what the packer should take, handed over or
 * configured), and a million units of work allowed: the solve reads the
 * clock between its steps far more often than a budget of a dozen ticks
 * lasts.  It ends within a few reads of the budget (the one that finds it
 * spent, the first-fit passes that give the later parts their plans, and
 * the one that times the solve) and says real time stopped it, where the
 * same solve on a clock standing still runs its work out and does not.  No
 * real time is measured.
 */
static void assert_stopped(const struct inst *in, int64_t handed_ms, int64_t budget_ms,
			   int64_t tick)
{
	struct kerf_pack_plan *full, *cut;

	clock_fake = true;
	clock_tick_ms = 0;
	full = run(ilp, ilp_inst, &in->p, handed_ms);
	clock_tick_ms = tick;
	cut = run(ilp, ilp_inst, &in->p, handed_ms);
	clock_fake = false;
	ck_assert(!full->hit_time_limit);
	ck_assert(cut->hit_time_limit);
	ck_assert_msg(cut->solve_ms <= budget_ms + 5 * tick,
		      "budget %" PRId64 " ms: solve_ms %" PRId64, budget_ms, cut->solve_ms);
	kerf_pack_plan_free(full);
	kerf_pack_plan_free(cut);
}

START_TEST(time_limit_stops)
{
	struct inst *in = big_problem();

	cfg_work_limit = 1000000;
	ilp_up();
	assert_stopped(in, 300, 300, 25);
	/* The configured budget, when the core gives none. */
	cfg_budget_ms = 150;
	ilp_reload();
	assert_stopped(in, 0, 150, 12);
	free(in);
}
END_TEST

/* A host table without real_mono_ms: the emergency stop is timed on its host clock. */
START_TEST(time_limit_without_real_clock)
{
	struct inst *in = big_problem();

	old_host = fake_host;
	old_host.size = offsetof(struct kerf_host, real_mono_ms);
	old_host.mono_ms = fh_real_mono_ms;
	old_host.real_mono_ms = fh_past_the_end;
	host_table = &old_host;
	cfg_work_limit = 1000000;
	ilp_up();
	assert_stopped(in, 300, 300, 25);
	free(in);
}
END_TEST

/* Empty groups, groups no type takes, exhausted pools and full open nodes. */
START_TEST(degenerate_problems)
{
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 6, 0};

	ilp_up();
	rng = 77;
	for (int i = 0; i < 60; i++) {
		struct inst *in = gen(&sh);
		uint32_t g = rnd((uint32_t)in->p.n_groups);
		switch (i % 4) {
		case 0:
			in->groups[g].count = 0;
			break;
		case 1:
			in->groups[g].n_types = 0;
			break;
		case 2:
			in->pools[0].nodes_remaining = 0;
			in->prem[in->p.n_pools - 1][CPU] = 0;
			break;
		default:
			for (size_t o = 0; o < in->p.n_open; o++)
				memset(in->orem[o], 0, sizeof(in->orem[o]));
			break;
		}
		assert_not_worse(&in->p, 0, NULL);
		free(in);
	}
}
END_TEST

START_TEST(max_instance_types_caps_options)
{
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 6, 0};

	cfg_max_types = 2;
	ilp_up();
	rng = 31;
	for (int i = 0; i < 20; i++) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *plan = run(ilp, ilp_inst, &in->p, 0);
		assert_options_fit(&in->p, plan, 2);
		kerf_pack_plan_free(plan);
		free(in);
	}
}
END_TEST

/*
 * Batches of over 300 groups in one pool are cut into pieces solved in
 * sequence: the pieces must share the pool's limits and the open nodes
 * (room, conflicts) exactly as one solve would.
 */
START_TEST(cut_batches_share_limits)
{
	static const struct shape sh = {3, 40, 4, 1, MG, 4, 3, 6, 0};

	ilp_up();
	rng = 2026;
	for (int i = 0; i < 3; i++) {
		struct inst *in = gen(&sh);
		while (in->p.n_groups <= 300) {
			free(in);
			in = gen(&sh);
		}
		/* Limits that bind: a third of what the pods ask for, 50 nodes. */
		in->prem[0][CPU] = 0;
		for (size_t g = 0; g < in->p.n_groups; g++)
			in->prem[0][CPU] += in->req[g][CPU] * in->groups[g].count / 3;
		in->pools[0].nodes_remaining = 50;
		for (size_t c = 0; c < in->p.n_conflicts; c++)
			in->conf[c].b = in->conf[c].a; /* some hostname anti-affinity */
		assert_not_worse(&in->p, 400, NULL);
		free(in);
	}
}
END_TEST

/*
 * A cut batch of over 300 plain groups deals them out to its pieces by
 * size, every other one to a piece, behind the few spreading groups: the
 * pieces still share the open nodes and the earlier pieces' room, and the
 * plan must still hold and cost no more than FFD's.
 */
START_TEST(cut_batches_deal_by_size)
{
	static const struct shape sh = {2, 30, 3, 1, MG, 5, 2, 0, 0};

	ilp_up();
	rng = 0x646561u;
	for (int i = 0; i < 3; i++) {
		struct inst *in = gen(&sh);
		size_t plain = 0;
		while (in->p.n_groups <= 310) {
			free(in);
			in = gen(&sh);
		}
		in->pools[0].nodes_remaining = INT64_MAX;
		in->prem[0][CPU] = INT64_MAX;
		for (size_t g = 0; g < in->p.n_groups; g++) {
			if (g % 40)
				in->groups[g].max_per_node = 0;
			plain += in->groups[g].max_per_node == 0;
		}
		ck_assert_uint_gt(plain, 300);
		assert_not_worse(&in->p, 400, NULL);
		free(in);
	}
}
END_TEST

/*
 * Nodes `scale` times the usual, of up to `pods` pods, and many groups: more
 * than the pricing search settles, so bounds come from the knapsacks' LPs
 * and dynamic programs and patterns from the LPs' rounding.  The bounds
 * must still hold against every plan there is.
 */
static void assert_large_nodes_bounded(int64_t scale, int64_t pods)
{
	static const struct shape sh = {2, 6, 2, 1, 60, 40, 0, 4, 0};
	size_t n = 12, bounded = 0;

	for (size_t i = 0; i < n; i++) {
		struct inst *in = gen(&sh);
		kerf_price_t bound;
		for (size_t t = 0; t < in->p.n_types; t++) {
			in->alloc[t][CPU] *= scale;
			in->alloc[t][MEM] *= scale;
			in->alloc[t][PODS] = pods;
			for (size_t d = 0; d < ND; d++)
				in->cap[t][d] = in->alloc[t][d];
		}
		for (size_t g = 0; g < in->p.n_groups; g++)
			in->groups[g].max_per_node = 0;
		in->pools[0].nodes_remaining = INT64_MAX;
		in->prem[0][CPU] = INT64_MAX;
		assert_not_worse(&in->p, 300, &bound);
		if (bound > 0)
			bounded++;
		free(in);
	}
	ck_assert_uint_gt(bounded, n / 2);
}

START_TEST(large_nodes_bounded)
{
	ilp_up();
	rng = 0x6c6172u;
	assert_large_nodes_bounded(12, 110);
	assert_large_nodes_bounded(3, 30);
}
END_TEST

static atomic_bool busy_stop;

static void *busy(void *arg)
{
	volatile uint64_t x = (uintptr_t)arg;

	while (!atomic_load_explicit(&busy_stop, memory_order_relaxed))
		x = x * 6364136223846793005ull + 1;
	return NULL;
}

/*
 * The same problem gives the same plan however busy the machine is: the
 * real clock, two threads spinning beside the solves (the machine's cores
 * and more), and work limits that cut most solves short, where time would
 * have decided.  The budget is far beyond any solve, so only a solver that
 * still looked at time could tell the runs apart.
 */
/* FNV-1a over the decisions of a plan, so whole runs can be compared. */
static uint64_t digest_add(uint64_t h, int64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (uint64_t)v >> (8 * i) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t plan_digest(uint64_t h, const struct kerf_pack_plan *p)
{
	h = digest_add(h, (int64_t)p->n_nodes);
	h = digest_add(h, p->total_price);
	h = digest_add(h, p->lower_bound);
	h = digest_add(h, p->work);
	for (size_t i = 0; i < p->n_nodes; i++) {
		const struct kerf_pack_node *n = p->nodes[i];
		h = digest_add(h, n->open_index);
		h = digest_add(h, n->type);
		h = digest_add(h, n->zone);
		h = digest_add(h, n->price);
		for (size_t k = 0; k < n->n_options; k++)
			h = digest_add(h, n->options[k]);
		for (size_t k = 0; k < n->n_assign; k++) {
			h = digest_add(h, n->assign[k]->group);
			h = digest_add(h, n->assign[k]->count);
		}
	}
	for (size_t i = 0; i < p->n_unplaced; i++) {
		h = digest_add(h, p->unplaced[i]->group);
		h = digest_add(h, p->unplaced[i]->count);
	}
	return h;
}

/*
 * The digest of the twenty plans below on any machine at any load, in any
 * build (the sanitizers included): a run that differs from it solved
 * differently from every other run, which is what counted work rules out.
 * A change to the solver that changes its plans changes this on purpose.
 */
#define DETERMINISTIC_DIGEST 0x2f16beb5a24c1df0ULL

START_TEST(deterministic)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 6, 0};
	pthread_t th[2];

	atomic_store(&busy_stop, false);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, busy, (void *)(uintptr_t)(i + 1)), 0);
	rng = 99;
	for (int i = 0; i < 20; i++) {
		struct inst *in = gen(&sh);
		struct kerf_pack_plan *a, *b;
		cfg_work_limit = i % 2 ? 2000 + 1500 * i : 0;
		ilp_reload();
		a = run(ilp, ilp_inst, &in->p, 600000);
		b = run(ilp, ilp_inst, &in->p, 600000);
		ck_assert(!a->hit_time_limit && !b->hit_time_limit);
		ck_assert_int_eq(a->work, b->work);
		assert_same_plan(a, b);
		h = plan_digest(h, a);
		kerf_pack_plan_free(a);
		kerf_pack_plan_free(b);
		free(in);
	}
	atomic_store(&busy_stop, true);
	for (size_t i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ck_assert_msg(h == DETERMINISTIC_DIGEST, "plans digest 0x%016llx, recorded 0x%016llx",
		      (unsigned long long)h, (unsigned long long)DETERMINISTIC_DIGEST);
}
END_TEST

/* GLPK prints to stdout unless told not to; kerfctl -o json owns stdout. */
START_TEST(quiet_on_stdout)
{
	static const struct shape sh = {3, 16, 4, 2, 12, 30, 3, 6, 0};
	FILE *tmp = tmpfile();
	int saved;
	long size;

	ck_assert_ptr_nonnull(tmp);
	ilp_up();
	rng = 5;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(tmp), STDOUT_FILENO), 0);
	for (int i = 0; i < 10; i++) {
		struct inst *in = gen(&sh);
		kerf_pack_plan_free(run(ilp, ilp_inst, &in->p, 0));
		free(in);
	}
	fflush(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(saved);
	fseek(tmp, 0, SEEK_END);
	size = ftell(tmp);
	fclose(tmp);
	ck_assert_int_eq(size, 0);
	/* The statistics go to the debug log instead. */
	ck_assert_uint_gt(debug_lines, 0);
	ck_assert_ptr_nonnull(strstr(last_debug, "bound"));
}
END_TEST

START_TEST(empty_batch)
{
	struct inst *in = inst_new();
	struct kerf_pack_plan *plan;

	in->p.n_dims = ND;
	in->p.dim_names = dims;
	ilp_up();
	plan = run(ilp, ilp_inst, &in->p, 0);
	ck_assert_uint_eq(plan->n_nodes, 0);
	ck_assert_int_eq(plan->total_price, 0);
	ck_assert(plan->optimal);
	kerf_pack_plan_free(plan);
	free(in);
}
END_TEST

static Suite *ilp_suite(void)
{
	Suite *s = suite_create("binpack-ilp");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Sanitizer builds run the random sets several times slower. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, descriptor);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, shares_a_node_when_cheaper);
	tcase_add_test(tc, empty_batch);
	tcase_add_test(tc, tiny_matches_brute_force);
	tcase_add_test(tc, matches_compact_optimum);
	tcase_add_test(tc, cut_solves_bound_below_optimum);
	tcase_add_test(tc, never_worse_than_ffd);
	tcase_add_test(tc, batch_bound_counts_nodes);
	tcase_add_test(tc, batch_bound_below_optimum);
	tcase_add_test(tc, batch_bound_below_plans);
	tcase_add_test(tc, work_limit_respected);
	tcase_add_test(tc, time_limit_stops);
	tcase_add_test(tc, time_limit_without_real_clock);
	tcase_add_test(tc, degenerate_problems);
	tcase_add_test(tc, max_instance_types_caps_options);
	tcase_add_test(tc, reasons_from_its_own_plan);
	tcase_add_test(tc, cut_batches_share_limits);
	tcase_add_test(tc, cut_batches_deal_by_size);
	tcase_add_test(tc, large_nodes_bounded);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, quiet_on_stdout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ilp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
