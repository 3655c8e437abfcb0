/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ffd.c - the binpack-ffd packer, loaded as kerfd loads it.
 *
 * The plugin is opened from the build tree through the core loader and
 * driven through a small fake host table, so the test sees exactly the
 * plugin's exported contract.  Every plan any test gets is also run through
 * plan_check, the checker the other packers' tests share.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/plugin.h>

#include "loader.h"
#include "util.h"
#include "../common/host_alloc.h"
#include "../common/plan_check.h"
#include "../common/plugin_config.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/binpack-ffd/.libs"

#define ND 4
enum { CPU, MEM, PODS, GPU };
static const char *const dim_names[ND] = {"cpu", "memory", "pods", "gpu"};

#define Gi (1024ll * 1024 * 1024)
#define Mi (1024ll * 1024)
#define OD KERF_CAPACITY_ON_DEMAND
#define SPOT KERF_CAPACITY_SPOT
#define RES KERF_CAPACITY_RESERVED
#define CT(c) (1u << (c))
#define CT_ANY (CT(OD) | CT(SPOT) | CT(RES))

/* ------------------------------------------------------------ fake host */

static char log_text[16384];
static size_t log_len;
static struct cfg_section *section; /* the plugin's, from plugin_up's YAML */

static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (log_len + 2 >= sizeof(log_text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(log_text + log_len, sizeof(log_text) - log_len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_len +=
	    (size_t)n < sizeof(log_text) - log_len - 2 ? (size_t)n : sizeof(log_text) - log_len - 2;
	log_text[log_len++] = '\n';
	log_text[log_len] = '\0';
}

static int64_t fh_mono_ms(void *ctx)
{
	return now_mono_ms();
}

static int fh_config_int(void *ctx, const char *key, int64_t *out)
{
	return cfg_section_int(section, key, out);
}

static const struct kerf_host fake_host = {
    .size = sizeof(struct kerf_host),
    .abi_major = KERF_ABI_MAJOR,
    .abi_minor = KERF_ABI_MINOR,
    .instance_name = "packer/binpack-ffd",
    .log = fh_log,
    TH_ALLOC_SLOTS,
    .wall_ms = fh_mono_ms,
    .mono_ms = fh_mono_ms,
    .real_mono_ms = th_real_mono_ms,
    .config_int = fh_config_int,
};

/* ------------------------------------------------------------ the plugin */

static struct loader *ldr;
static const struct loader_plugin *plug;
static void *inst;

static void plugin_open(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err;
	int rc;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	rc = loader_open(ldr, "binpack-ffd", KERF_KIND_PACKER, &plug, &err);
	ck_assert_msg(rc == 0, "loader_open: %d %s", rc, err.message);
}

/* The plugin created with `config` as its kerf.yaml section (NULL: none). */
static void plugin_up(const char *config)
{
	struct kerf_error err;
	int rc;

	plugin_open();
	kerf_error_clear(&err);
	rc = tc_plugin_section(plug, config, &section, &err);
	ck_assert_msg(rc == 0, "section: %d %s", rc, err.message);
	rc = loader_create(plug, &fake_host, &inst, &err);
	ck_assert_msg(rc == 0, "create: %d %s", rc, err.message);
}

static void setup(void)
{
	log_len = 0;
	log_text[0] = '\0';
	plugin_up(NULL);
}

static void teardown(void)
{
	if (plug && inst)
		loader_destroy(plug, inst);
	inst = NULL;
	plug = NULL;
	loader_free(ldr);
	ldr = NULL;
	cfg_section_free(section);
	section = NULL;
}

/* ------------------------------------------------------------ problem builder */

#define MAX_ZONES 8
#define MAX_OFFERS 8
#define MAX_POOLS 4
#define MAX_CONFLICTS 64
#define MAX_OPEN 16

/*
 * The problem as the host lends it: objects laid out in the builder's
 * arrays, and the lists of pointers into them the problem holds.
 */
struct tb {
	struct kerf_pack_problem p;
	size_t max_types, max_groups;
	const char *zones[MAX_ZONES];
	uint32_t n_zones;
	struct kerf_pack_type *types;
	const struct kerf_pack_type **type_list;
	int64_t (*alloc)[ND];
	int64_t (*cap)[ND];
	const int64_t **capv;
	struct kerf_pack_offering (*offers)[MAX_OFFERS];
	const struct kerf_pack_offering *(*offer_list)[MAX_OFFERS];
	char (*type_names)[32];
	uint32_t *all_types;
	struct kerf_pack_group *groups;
	const struct kerf_pack_group **group_list;
	int64_t (*req)[ND];
	uint32_t **gtypes; /* explicit type lists, NULL: all types */
	struct kerf_pack_pool pools[MAX_POOLS];
	const struct kerf_pack_pool *pool_list[MAX_POOLS];
	int64_t pool_rem[MAX_POOLS][ND];
	struct kerf_pack_conflict conflicts[MAX_CONFLICTS];
	const struct kerf_pack_conflict *conflict_list[MAX_CONFLICTS];
	struct kerf_pack_open_node open[MAX_OPEN];
	const struct kerf_pack_open_node *open_list[MAX_OPEN];
	int64_t open_rem[MAX_OPEN][ND];
	uint32_t open_groups[MAX_OPEN][64];
};

static struct tb *tb_new(size_t max_types, size_t max_groups)
{
	struct tb *b = th_must(calloc(1, sizeof(*b)));

	b->max_types = max_types;
	b->max_groups = max_groups;
	b->types = th_must(calloc(max_types, sizeof(*b->types)));
	b->type_list = th_must(calloc(max_types, sizeof(*b->type_list)));
	b->alloc = th_must(calloc(max_types, sizeof(*b->alloc)));
	b->cap = th_must(calloc(max_types, sizeof(*b->cap)));
	b->capv = th_must(calloc(max_types, sizeof(*b->capv)));
	b->offers = th_must(calloc(max_types, sizeof(*b->offers)));
	b->offer_list = th_must(calloc(max_types, sizeof(*b->offer_list)));
	b->type_names = th_must(calloc(max_types, sizeof(*b->type_names)));
	b->all_types = th_must(calloc(max_types, sizeof(*b->all_types)));
	b->groups = th_must(calloc(max_groups, sizeof(*b->groups)));
	b->group_list = th_must(calloc(max_groups, sizeof(*b->group_list)));
	b->req = th_must(calloc(max_groups, sizeof(*b->req)));
	b->gtypes = th_must(calloc(max_groups, sizeof(*b->gtypes)));
	for (size_t t = 0; t < max_types; t++) {
		b->type_list[t] = &b->types[t];
		for (size_t o = 0; o < MAX_OFFERS; o++)
			b->offer_list[t][o] = &b->offers[t][o];
	}
	for (size_t g = 0; g < max_groups; g++)
		b->group_list[g] = &b->groups[g];
	for (size_t i = 0; i < MAX_POOLS; i++)
		b->pool_list[i] = &b->pools[i];
	for (size_t c = 0; c < MAX_CONFLICTS; c++)
		b->conflict_list[c] = &b->conflicts[c];
	for (size_t o = 0; o < MAX_OPEN; o++)
		b->open_list[o] = &b->open[o];
	b->p.n_dims = ND;
	b->p.dim_names = dim_names;
	b->p.zone_names = b->zones;
	b->p.types = b->type_list;
	b->p.groups = b->group_list;
	b->p.conflicts = b->conflict_list;
	b->p.open = b->open_list;
	b->p.pools = b->pool_list;
	return b;
}

static void tb_free(struct tb *b)
{
	for (size_t g = 0; g < b->max_groups; g++)
		free(b->gtypes[g]);
	free(b->types);
	free(b->type_list);
	free(b->alloc);
	free(b->cap);
	free(b->capv);
	free(b->offers);
	free(b->offer_list);
	free(b->type_names);
	free(b->all_types);
	free(b->groups);
	free(b->group_list);
	free(b->req);
	free(b->gtypes);
	free(b);
}

static uint32_t tb_zone(struct tb *b, const char *name)
{
	ck_assert_uint_lt(b->n_zones, MAX_ZONES);
	b->zones[b->n_zones] = name;
	b->p.n_zones = b->n_zones + 1;
	return b->n_zones++;
}

static uint32_t tb_type(struct tb *b, const char *name, int64_t cpu_m, int64_t mem, int64_t gpu)
{
	size_t t = b->p.n_types++;

	ck_assert_uint_lt(t, b->max_types);
	snprintf(b->type_names[t], sizeof(b->type_names[t]), "%s", name);
	b->alloc[t][CPU] = cpu_m;
	b->alloc[t][MEM] = mem;
	b->alloc[t][PODS] = 110;
	b->alloc[t][GPU] = gpu;
	memcpy(b->cap[t], b->alloc[t], sizeof(b->cap[t]));
	b->types[t].name = b->type_names[t];
	b->types[t].allocatable = b->alloc[t];
	b->types[t].offerings = b->offer_list[t];
	b->capv[t] = b->cap[t];
	b->all_types[t] = (uint32_t)t;
	return (uint32_t)t;
}

static void tb_offer(struct tb *b, uint32_t t, uint32_t zone, kerf_capacity_type ct,
		     kerf_price_t price)
{
	size_t i = b->types[t].n_offerings++;

	ck_assert_uint_lt(i, MAX_OFFERS);
	b->offers[t][i].zone = zone;
	b->offers[t][i].capacity_type = ct;
	b->offers[t][i].price = price;
}

static uint32_t tb_pool(struct tb *b, const char *name)
{
	size_t i = b->p.n_pools++;

	ck_assert_uint_lt(i, MAX_POOLS);
	b->pools[i].name = name;
	for (size_t d = 0; d < ND; d++)
		b->pool_rem[i][d] = INT64_MAX;
	b->pools[i].remaining = b->pool_rem[i];
	b->pools[i].type_capacity = b->capv;
	b->pools[i].nodes_remaining = INT64_MAX;
	return (uint32_t)i;
}

static uint32_t tb_group(struct tb *b, uint32_t pool, uint32_t count, int64_t cpu_m, int64_t mem,
			 int64_t gpu)
{
	size_t g = b->p.n_groups++;

	ck_assert_uint_lt(g, b->max_groups);
	b->req[g][CPU] = cpu_m;
	b->req[g][MEM] = mem;
	b->req[g][PODS] = 1;
	b->req[g][GPU] = gpu;
	b->groups[g].count = count;
	b->groups[g].request = b->req[g];
	b->groups[g].nodepool = pool;
	b->groups[g].zone = -1;
	b->groups[g].capacity_types = CT_ANY;
	return (uint32_t)g;
}

/* Restricts group g to the n types given (ascending). */
static void tb_group_types(struct tb *b, uint32_t g, size_t n, ...)
{
	va_list ap;

	free(b->gtypes[g]);
	b->gtypes[g] = th_must(calloc(n ? n : 1, sizeof(uint32_t)));
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		b->gtypes[g][i] = va_arg(ap, uint32_t);
	va_end(ap);
	b->groups[g].n_types = n;
	b->groups[g].types = b->gtypes[g];
}

static void tb_conflict(struct tb *b, uint32_t x, uint32_t y)
{
	ck_assert_uint_lt(b->p.n_conflicts, MAX_CONFLICTS);
	b->conflicts[b->p.n_conflicts].a = x;
	b->conflicts[b->p.n_conflicts].b = y;
	b->p.n_conflicts++;
}

static uint32_t tb_open(struct tb *b, uint32_t type, uint32_t zone, kerf_capacity_type ct,
			int64_t cpu_m, int64_t mem, size_t n_groups, ...)
{
	size_t o = b->p.n_open++;
	va_list ap;

	ck_assert_uint_lt(o, MAX_OPEN);
	b->open[o].type = type;
	b->open[o].zone = zone;
	b->open[o].capacity_type = ct;
	b->open_rem[o][CPU] = cpu_m;
	b->open_rem[o][MEM] = mem;
	b->open_rem[o][PODS] = 100;
	b->open_rem[o][GPU] = 0;
	b->open[o].remaining = b->open_rem[o];
	va_start(ap, n_groups);
	for (size_t i = 0; i < n_groups; i++)
		b->open_groups[o][i] = va_arg(ap, uint32_t);
	va_end(ap);
	b->open[o].n_groups = n_groups;
	b->open[o].groups = b->open_groups[o];
	return (uint32_t)o;
}

/* Groups given no explicit list may use every type. */
static const struct kerf_pack_problem *tb_done(struct tb *b)
{
	for (size_t g = 0; g < b->p.n_groups; g++)
		if (!b->gtypes[g]) {
			b->groups[g].n_types = b->p.n_types;
			b->groups[g].types = b->all_types;
		}
	return &b->p;
}

static struct kerf_pack_plan *solve(const struct kerf_pack_problem *p)
{
	struct kerf_pack_plan *plan = NULL;
	struct kerf_error err;
	char why[512];
	int rc;

	kerf_error_clear(&err);
	rc = plug->packer.solve(inst, p, 1000, &plan, &err);
	ck_assert_msg(rc == 0, "solve: %d %s", rc, err.message);
	ck_assert_ptr_nonnull(plan);
	ck_assert_msg(plan_check(p, plan, why, sizeof(why)) == 0, "plan_check: %s", why);
	ck_assert(!plan->optimal);
	ck_assert_int_eq(plan->lower_bound, 0);
	return plan;
}

static void assert_options(const struct kerf_pack_node *n, size_t k, ...)
{
	va_list ap;

	ck_assert_uint_eq(n->n_options, k);
	va_start(ap, k);
	for (size_t i = 0; i < k; i++) {
		uint32_t want = va_arg(ap, uint32_t);
		ck_assert_msg(n->options[i] == want, "option %zu is %u, want %u", i, n->options[i],
			      want);
	}
	va_end(ap);
}

/* Three general-purpose sizes in zone a, on-demand 100/190/400, spot 40/80/150. */
struct catalog {
	uint32_t za, zb, pool, small, medium, large;
};

static struct tb *catalog_new(struct catalog *c)
{
	struct tb *b = tb_new(16, 16);

	c->za = tb_zone(b, "zone-a");
	c->zb = tb_zone(b, "zone-b");
	c->pool = tb_pool(b, "default");
	c->small = tb_type(b, "small", 2000, 4 * Gi, 0);
	c->medium = tb_type(b, "medium", 4000, 8 * Gi, 0);
	c->large = tb_type(b, "large", 8000, 16 * Gi, 0);
	tb_offer(b, c->small, c->za, OD, 100);
	tb_offer(b, c->small, c->za, SPOT, 40);
	tb_offer(b, c->medium, c->za, OD, 190);
	tb_offer(b, c->medium, c->za, SPOT, 80);
	tb_offer(b, c->large, c->za, OD, 400);
	tb_offer(b, c->large, c->za, SPOT, 150);
	return b;
}

/* ------------------------------------------------------------ exact cases */

START_TEST(descriptor)
{
	ck_assert_str_eq(plug->desc.name, "binpack-ffd");
	ck_assert_uint_eq(plug->desc.kinds, KERF_KIND_PACKER);
	ck_assert_ptr_nonnull(plug->schema);
	ck_assert_str_eq(plug->schema[0].key, "max_instance_types");
	ck_assert_str_eq(plug->schema[0].default_value, "60");
	ck_assert(plug->schema[0].has_min && !plug->schema[0].has_max);
	ck_assert_int_eq(plug->schema[0].min, 1);
	ck_assert_ptr_null(plug->schema[1].key);
}
END_TEST

START_TEST(single_pod_cheapest_type)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 1, 1500, 2 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].capacity_types = CT(OD);
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->n_unplaced, 0);
	ck_assert_int_eq(plan->nodes[0]->open_index, -1);
	ck_assert_uint_eq(plan->nodes[0]->type, c.small);
	ck_assert_int_eq(plan->nodes[0]->capacity_type, OD);
	ck_assert_uint_eq(plan->nodes[0]->zone, c.za);
	ck_assert_int_eq(plan->nodes[0]->price, 100);
	ck_assert_int_eq(plan->total_price, 100);
	assert_options(plan->nodes[0], 3, c.small, c.medium, c.large);
	ck_assert_uint_eq(plan->nodes[0]->n_assign, 1);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, g);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 1);
	ck_assert_int_ge(plan->solve_ms, 0);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(small_pods_share_nodes)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 10, 500, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].capacity_types = CT(OD);
	plan = solve(tb_done(b));
	/* First fit: one node takes all ten, so only large (16 x 500m) still holds it. */
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 10);
	ck_assert_uint_eq(plan->nodes[0]->type, c.large);
	assert_options(plan->nodes[0], 1, c.large);
	ck_assert_int_eq(plan->total_price, 400);
	kerf_pack_plan_free(plan);

	/* 40 pods: two full large nodes, and the last eight fill a medium exactly. */
	b->groups[g].count = 40;
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 3);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 16);
	ck_assert_uint_eq(plan->nodes[1]->assign[0]->count, 16);
	ck_assert_uint_eq(plan->nodes[2]->assign[0]->count, 8);
	ck_assert_uint_eq(plan->nodes[2]->type, c.medium);
	assert_options(plan->nodes[2], 2, c.medium, c.large);
	ck_assert_int_eq(plan->total_price, 990);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(heterogeneous_cheapest_total)
{
	struct tb *b = tb_new(8, 8);
	uint32_t z = tb_zone(b, "z");
	uint32_t pool = tb_pool(b, "default");
	uint32_t c5 = tb_type(b, "c5", 4000, 4 * Gi, 0);
	uint32_t m5 = tb_type(b, "m5", 4000, 16 * Gi, 0);
	uint32_t r5 = tb_type(b, "r5", 4000, 32 * Gi, 0);
	uint32_t cpu_heavy, mem_heavy;
	struct kerf_pack_plan *plan;

	tb_offer(b, c5, z, OD, 150);
	tb_offer(b, m5, z, OD, 190);
	tb_offer(b, r5, z, OD, 250);
	cpu_heavy = tb_group(b, pool, 1, 3500, 2 * Gi, 0);
	mem_heavy = tb_group(b, pool, 1, 500, 20 * Gi, 0);
	plan = solve(tb_done(b));
	/* Both share one r5 (250) rather than c5 + r5 (400). */
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->nodes[0]->type, r5);
	assert_options(plan->nodes[0], 1, r5);
	ck_assert_uint_eq(plan->nodes[0]->n_assign, 2);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, cpu_heavy); /* larger cpu first */
	ck_assert_uint_eq(plan->nodes[0]->assign[1]->group, mem_heavy);
	ck_assert_int_eq(plan->total_price, 250);
	kerf_pack_plan_free(plan);

	/* Alone, the cpu-heavy pod takes the cheapest type that fits: c5. */
	b->groups[mem_heavy].count = 0;
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->nodes[0]->type, c5);
	assert_options(plan->nodes[0], 3, c5, m5, r5);
	ck_assert_int_eq(plan->total_price, 150);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(capacity_type_priority)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 1, 1500, 2 * Gi, 0);
	struct kerf_pack_plan *plan;

	tb_done(b);
	b->groups[g].capacity_types = CT(OD) | CT(SPOT);
	plan = solve(&b->p);
	ck_assert_int_eq(plan->nodes[0]->capacity_type, SPOT);
	ck_assert_uint_eq(plan->nodes[0]->type, c.small);
	ck_assert_int_eq(plan->nodes[0]->price, 40);
	kerf_pack_plan_free(plan);

	b->groups[g].capacity_types = CT(OD);
	plan = solve(&b->p);
	ck_assert_int_eq(plan->nodes[0]->capacity_type, OD);
	ck_assert_int_eq(plan->nodes[0]->price, 100);
	kerf_pack_plan_free(plan);

	/* Only spot allowed and small's spot offering gone: medium, the cheapest spot left. */
	b->groups[g].capacity_types = CT(SPOT);
	b->types[c.small].n_offerings = 1;
	plan = solve(&b->p);
	ck_assert_int_eq(plan->nodes[0]->capacity_type, SPOT);
	ck_assert_uint_eq(plan->nodes[0]->type, c.medium);
	assert_options(plan->nodes[0], 2, c.medium, c.large);
	kerf_pack_plan_free(plan);

	/* A reservation wins over spot even when it costs more. */
	b->types[c.small].n_offerings = 2;
	tb_offer(b, c.large, c.za, RES, 300);
	b->groups[g].capacity_types = CT_ANY;
	plan = solve(&b->p);
	ck_assert_int_eq(plan->nodes[0]->capacity_type, RES);
	ck_assert_uint_eq(plan->nodes[0]->type, c.large);
	ck_assert_int_eq(plan->nodes[0]->price, 300);
	assert_options(plan->nodes[0], 3, c.large, c.small, c.medium);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(zone_pinned_groups)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t ga, gb, gany;
	struct kerf_pack_plan *plan;

	tb_offer(b, c.small, c.zb, OD, 110);
	tb_offer(b, c.medium, c.zb, OD, 210);
	ga = tb_group(b, c.pool, 1, 600, 1 * Gi, 0);
	gb = tb_group(b, c.pool, 1, 500, 1 * Gi, 0);
	gany = tb_group(b, c.pool, 1, 400, 1 * Gi, 0);
	b->groups[ga].zone = (int32_t)c.za;
	b->groups[gb].zone = (int32_t)c.zb;
	for (uint32_t g = 0; g < 3; g++)
		b->groups[g].capacity_types = CT(OD);
	plan = solve(tb_done(b));
	/* a and b cannot share; the unpinned pod joins the first node, in zone a. */
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_uint_eq(plan->nodes[0]->zone, c.za);
	ck_assert_uint_eq(plan->nodes[0]->n_assign, 2);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, ga);
	ck_assert_uint_eq(plan->nodes[0]->assign[1]->group, gany);
	ck_assert_uint_eq(plan->nodes[1]->zone, c.zb);
	ck_assert_uint_eq(plan->nodes[1]->type, c.small);
	ck_assert_int_eq(plan->nodes[1]->price, 110);
	/* large is not offered in zone b. */
	assert_options(plan->nodes[1], 2, c.small, c.medium);
	ck_assert_int_eq(plan->total_price, 210);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(max_per_node_one)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 3, 500, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].max_per_node = 1;
	b->groups[g].capacity_types = CT(OD);
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(plan->nodes[i]->assign[0]->count, 1);
		ck_assert_uint_eq(plan->nodes[i]->type, c.small);
	}
	ck_assert_int_eq(plan->total_price, 300);
	kerf_pack_plan_free(plan);

	/* A group in conflict with itself spreads the same way. */
	b->groups[g].max_per_node = 0;
	tb_conflict(b, g, g);
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 3);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(conflicts_separate_groups)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t x = tb_group(b, c.pool, 2, 500, 1 * Gi, 0);
	uint32_t y = tb_group(b, c.pool, 2, 400, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	tb_done(b);
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 1);
	kerf_pack_plan_free(plan);

	tb_conflict(b, y, x);
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_uint_eq(plan->nodes[0]->n_assign, 1);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, x);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 2);
	ck_assert_uint_eq(plan->nodes[1]->assign[0]->group, y);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(pool_node_limit)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 5, 500, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].max_per_node = 1;
	b->pools[c.pool].nodes_remaining = 2;
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_uint_eq(plan->n_unplaced, 1);
	ck_assert_uint_eq(plan->unplaced[0]->group, g);
	ck_assert_uint_eq(plan->unplaced[0]->count, 3);
	ck_assert_str_eq(plan->unplaced[0]->reason, "nodepool default limit nodes exceeded");
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(pool_cpu_limit)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 3, 1500, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].capacity_types = CT(OD);
	b->pool_rem[c.pool][CPU] = 4000;
	plan = solve(tb_done(b));
	/* Only small and medium fit the limit; medium holds two, and is charged in full. */
	ck_assert_uint_eq(plan->n_nodes, 1);
	ck_assert_uint_eq(plan->nodes[0]->type, c.medium);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 2);
	ck_assert_uint_eq(plan->n_unplaced, 1);
	ck_assert_uint_eq(plan->unplaced[0]->count, 1);
	ck_assert_str_eq(plan->unplaced[0]->reason,
			 "nodepool default limit cpu exceeded (remaining cpu=0m)");
	kerf_pack_plan_free(plan);

	/* Capacity, not allocatable, is what limits count. */
	b->pool_rem[c.pool][CPU] = 8000;
	b->cap[c.large][CPU] = 8500;
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_uint_eq(plan->n_unplaced, 0);
	ck_assert_uint_eq(plan->nodes[0]->type, c.medium);
	ck_assert_uint_eq(plan->nodes[1]->type, c.small);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(nothing_fits)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t big = tb_group(b, c.pool, 2, 16000, 2 * Gi, 0);
	uint32_t none = tb_group(b, c.pool, 1, 100, 1 * Mi, 0);
	uint32_t nozone = tb_group(b, c.pool, 1, 100, 1 * Mi, 0);
	struct kerf_pack_plan *plan;

	tb_group_types(b, none, 0);
	b->groups[nozone].zone = (int32_t)c.zb;
	b->groups[nozone].capacity_types = CT(SPOT);
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 0);
	ck_assert_uint_eq(plan->n_unplaced, 3);
	ck_assert_uint_eq(plan->unplaced[0]->group, big);
	ck_assert_uint_eq(plan->unplaced[0]->count, 2);
	ck_assert_str_eq(plan->unplaced[0]->reason,
			 "no instance type in nodepool default fits cpu=16000m memory=2Gi pods=1");
	ck_assert_str_eq(plan->unplaced[1]->reason,
			 "no instance type in nodepool default is compatible");
	ck_assert_str_eq(plan->unplaced[2]->reason,
			 "no compatible instance type in nodepool default is offered in zone "
			 "zone-b as spot");
	ck_assert_int_eq(plan->total_price, 0);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(open_nodes_first)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 3, 1000, 1 * Gi, 0);
	uint32_t other = tb_group(b, c.pool, 1, 100, 1 * Gi, 0);
	struct kerf_pack_plan *plan;

	b->groups[g].capacity_types = CT(OD);
	b->groups[other].capacity_types = CT(OD);
	/* Open node 0 does not admit g; open node 1 has room for two. */
	tb_open(b, c.small, c.za, SPOT, 2000, 4 * Gi, 1, other);
	tb_open(b, c.medium, c.za, OD, 2000, 4 * Gi, 2, g, other);
	plan = solve(tb_done(b));
	/* other's group allows on-demand only, so open node 0 (spot) is refused. */
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_int_eq(plan->nodes[0]->open_index, 1);
	ck_assert_int_eq(plan->nodes[0]->price, 0);
	ck_assert_uint_eq(plan->nodes[0]->type, c.medium);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, g);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->count, 2);
	ck_assert_int_eq(plan->nodes[1]->open_index, -1);
	ck_assert_uint_eq(plan->nodes[1]->n_assign, 2);
	ck_assert_uint_eq(plan->nodes[1]->assign[0]->group, g);
	ck_assert_uint_eq(plan->nodes[1]->assign[0]->count, 1);
	ck_assert_uint_eq(plan->nodes[1]->assign[1]->group, other);
	ck_assert_int_eq(plan->total_price, 100);
	kerf_pack_plan_free(plan);

	/* Allowed on spot, `other` goes to open node 0 and costs nothing. */
	b->groups[other].capacity_types = CT(OD) | CT(SPOT);
	plan = solve(&b->p);
	ck_assert_uint_eq(plan->n_nodes, 3);
	ck_assert_int_eq(plan->nodes[0]->open_index, 0);
	ck_assert_uint_eq(plan->nodes[0]->assign[0]->group, other);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(gpu_group_gets_gpu_types)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t gpu = tb_type(b, "gpu", 8000, 32 * Gi, 1);
	uint32_t gg, plain;
	struct kerf_pack_plan *plan;

	tb_offer(b, gpu, c.za, OD, 1000);
	gg = tb_group(b, c.pool, 2, 1000, 2 * Gi, 1);
	plain = tb_group(b, c.pool, 1, 1000, 2 * Gi, 0);
	tb_group_types(b, plain, 3, c.small, c.medium, c.large);
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 3);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(plan->nodes[i]->type, gpu);
		assert_options(plan->nodes[i], 1, gpu);
		ck_assert_uint_eq(plan->nodes[i]->assign[0]->group, gg);
		ck_assert_uint_eq(plan->nodes[i]->n_assign, 1);
	}
	ck_assert_uint_eq(plan->nodes[2]->type, c.small);
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

START_TEST(max_instance_types_config)
{
	struct catalog c;
	struct tb *b;
	struct kerf_pack_plan *plan;
	struct kerf_error err;

	teardown();
	plugin_up("max_instance_types: 2\n");
	b = catalog_new(&c);
	tb_group(b, c.pool, 1, 100, 1 * Gi, 0);
	plan = solve(tb_done(b));
	assert_options(plan->nodes[0], 2, c.small, c.medium);
	kerf_pack_plan_free(plan);
	tb_free(b);

	/* The schema's minimum: kerfd stops before create() runs. */
	teardown();
	plugin_open();
	kerf_error_clear(&err);
	ck_assert_int_eq(tc_plugin_section(plug, "max_instance_types: 0\n", &section, &err),
			 KERF_E_CONFIG);
	ck_assert_str_eq(err.message, "kerf.yaml:1:1: plugins.binpack-ffd.max_instance_types: must "
				      "be at least 1, not \"0\"");
}
END_TEST

START_TEST(invalid_problem)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t g = tb_group(b, c.pool, 1, 100, 1 * Gi, 0);
	struct kerf_pack_plan *plan = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	tb_group_types(b, g, 2, c.medium, c.small); /* not ascending */
	ck_assert_int_eq(plug->packer.solve(inst, tb_done(b), 0, &plan, &err), KERF_E_INVALID);
	ck_assert_ptr_null(plan);
	b->groups[g].nodepool = 7;
	tb_group_types(b, g, 1, c.small);
	ck_assert_int_eq(plug->packer.solve(inst, &b->p, 0, &plan, &err), KERF_E_INVALID);
	ck_assert_ptr_null(plan);
	tb_free(b);
}
END_TEST

/* The shared checker must catch each kind of broken plan, not just pass good ones. */
START_TEST(plan_check_rejects)
{
	struct catalog c;
	struct tb *b = catalog_new(&c);
	uint32_t a = tb_group(b, c.pool, 10, 500, 1 * Gi, 0);
	uint32_t huge = tb_group(b, c.pool, 1, 64000, 1 * Gi, 0);
	uint32_t o = tb_group(b, c.pool, 1, 100, 1 * Mi, 0);
	struct kerf_pack_plan *plan;
	struct kerf_pack_node *n, *on;
	char why[256];

	b->groups[a].capacity_types = CT(OD);
	tb_open(b, c.small, c.za, OD, 1000, 1 * Gi, 1, o);
	plan = solve(tb_done(b));
	ck_assert_uint_eq(plan->n_nodes, 2);
	ck_assert_uint_eq(plan->n_unplaced, 1);
	ck_assert_uint_eq(plan->unplaced[0]->group, huge);
	on = plan->nodes[0];
	n = plan->nodes[1];
	ck_assert_int_eq(on->open_index, 0);
	ck_assert_uint_eq(n->type, c.large);

#define REJECTS(mutate, undo)                                                                      \
	do {                                                                                       \
		mutate;                                                                            \
		ck_assert_msg(plan_check(&b->p, plan, why, sizeof(why)) != 0,                      \
			      "plan_check accepted: " #mutate);                                    \
		undo;                                                                              \
		ck_assert_msg(plan_check(&b->p, plan, why, sizeof(why)) == 0, "%s", why);          \
	} while (0)

	REJECTS(plan->total_price++, plan->total_price--);
	REJECTS(n->price++, n->price--);
	REJECTS(n->assign[0]->count++, n->assign[0]->count--);
	REJECTS(plan->unplaced[0]->count++, plan->unplaced[0]->count--);
	REJECTS(plan->n_unplaced = 0, plan->n_unplaced = 1);
	REJECTS(n->type = c.small, n->type = c.large);
	REJECTS(n->options[0] = c.small, n->options[0] = c.large);
	REJECTS(n->zone = c.zb, n->zone = c.za);
	REJECTS(n->capacity_type = SPOT, n->capacity_type = OD);
	REJECTS(n->open_index = 0, n->open_index = -1);
	REJECTS(on->assign[0]->group = a, on->assign[0]->group = o);
	REJECTS(on->price = 5, on->price = 0);
	REJECTS(b->open_rem[0][CPU] = 50, b->open_rem[0][CPU] = 1000);
	REJECTS(b->groups[a].max_per_node = 9, b->groups[a].max_per_node = 0);
	REJECTS(b->groups[a].zone = (int32_t)c.zb, b->groups[a].zone = -1);
	REJECTS(b->groups[a].capacity_types = CT(SPOT), b->groups[a].capacity_types = CT(OD));
	REJECTS(tb_group_types(b, a, 2, c.small, c.medium), b->gtypes[a][0] = c.large;
		b->groups[a].n_types = 1);
	REJECTS(b->pools[c.pool].nodes_remaining = 0, b->pools[c.pool].nodes_remaining = INT64_MAX);
	REJECTS(b->pool_rem[c.pool][CPU] = 7999, b->pool_rem[c.pool][CPU] = INT64_MAX);
	REJECTS(b->pool_rem[c.pool][MEM] = 16 * Gi - 1, b->pool_rem[c.pool][MEM] = INT64_MAX);
	REJECTS(plan->unplaced[0]->reason[0] = '\0', plan->unplaced[0]->reason[0] = 'n');
	REJECTS(tb_conflict(b, a, a), b->p.n_conflicts = 0);
#undef REJECTS
	kerf_pack_plan_free(plan);
	tb_free(b);
}
END_TEST

/* ------------------------------------------------------------ random problems */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: fixed seed, same problems on every platform. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (uint32_t)(((rng_state * 2685821657736338717ull) >> 33) % n) : 0;
}

static struct tb *random_problem(void)
{
	struct tb *b = tb_new(16, 12);
	uint32_t nz = 1 + rnd(3), nt = 1 + rnd(12), np = 1 + rnd(2), ng = 1 + rnd(8);
	static const char *const zn[] = {"z0", "z1", "z2"};
	static const char *const pn[] = {"p0", "p1"};

	for (uint32_t z = 0; z < nz; z++)
		tb_zone(b, zn[z]);
	for (uint32_t t = 0; t < nt; t++) {
		char name[16];
		uint32_t n_off = rnd(4);
		snprintf(name, sizeof(name), "t%u", t);
		tb_type(b, name, 1000 * (1 + rnd(16)), Gi * (1 + rnd(32)),
			rnd(4) == 0 ? 1 + rnd(4) : 0);
		b->alloc[t][PODS] = 4 + rnd(30);
		for (size_t d = 0; d < ND; d++)
			b->cap[t][d] = b->alloc[t][d] + (d == PODS ? 0 : rnd(500));
		for (uint32_t o = 0; o < n_off; o++)
			tb_offer(b, t, rnd(nz), (kerf_capacity_type)rnd(3), 10 + rnd(1000));
	}
	for (uint32_t i = 0; i < np; i++) {
		tb_pool(b, pn[i]);
		if (rnd(3) == 0)
			b->pools[i].nodes_remaining = rnd(6);
		if (rnd(3) == 0)
			b->pool_rem[i][CPU] = 1000 * rnd(40);
		if (rnd(4) == 0)
			b->pool_rem[i][MEM] = Gi * rnd(64);
	}
	for (uint32_t g = 0; g < ng; g++) {
		uint32_t k = 0, list[16];
		tb_group(b, rnd(np), 1 + rnd(20), 100 * (1 + rnd(40)), 256 * Mi * (1 + rnd(32)),
			 rnd(5) == 0 ? 1 : 0);
		if (rnd(4) == 0)
			b->groups[g].zone = (int32_t)rnd(nz);
		b->groups[g].capacity_types = 1 + rnd(7);
		if (rnd(4) == 0)
			b->groups[g].max_per_node = 1 + rnd(3);
		for (uint32_t t = 0; t < nt; t++)
			if (rnd(4) != 0)
				list[k++] = t;
		free(b->gtypes[g]);
		b->gtypes[g] = th_must(calloc(k ? k : 1, sizeof(uint32_t)));
		memcpy(b->gtypes[g], list, k * sizeof(uint32_t));
		b->groups[g].n_types = k;
		b->groups[g].types = b->gtypes[g];
	}
	for (uint32_t i = rnd(4); i > 0; i--)
		tb_conflict(b, rnd(ng), rnd(ng));
	for (uint32_t o = rnd(4); o > 0; o--) {
		size_t idx = b->p.n_open++;
		uint32_t n = 0;
		b->open[idx].type = rnd(nt);
		b->open[idx].zone = rnd(nz);
		b->open[idx].capacity_type = (kerf_capacity_type)rnd(3);
		b->open_rem[idx][CPU] = 100 * rnd(80);
		b->open_rem[idx][MEM] = 256 * Mi * rnd(64);
		b->open_rem[idx][PODS] = rnd(20);
		b->open_rem[idx][GPU] = rnd(2);
		b->open[idx].remaining = b->open_rem[idx];
		for (uint32_t g = 0; g < ng; g++)
			if (rnd(2))
				b->open_groups[idx][n++] = g;
		b->open[idx].n_groups = n;
		b->open[idx].groups = b->open_groups[idx];
	}
	return b;
}

static void assert_same_plan(const struct kerf_pack_plan *x, const struct kerf_pack_plan *y)
{
	ck_assert_uint_eq(x->n_nodes, y->n_nodes);
	ck_assert_uint_eq(x->n_unplaced, y->n_unplaced);
	ck_assert_int_eq(x->total_price, y->total_price);
	for (size_t i = 0; i < x->n_nodes; i++) {
		const struct kerf_pack_node *a = x->nodes[i], *b = y->nodes[i];
		ck_assert_int_eq(a->open_index, b->open_index);
		ck_assert_uint_eq(a->nodepool, b->nodepool);
		ck_assert_uint_eq(a->zone, b->zone);
		ck_assert_int_eq(a->capacity_type, b->capacity_type);
		ck_assert_uint_eq(a->type, b->type);
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
		ck_assert_str_eq(x->unplaced[i]->reason, y->unplaced[i]->reason);
	}
}

START_TEST(random_plans_check)
{
	size_t placed_somewhere = 0, unplaced_somewhere = 0;

	rng_state = 0x6b657266u; /* "kerf" */
	for (int i = 0; i < 200; i++) {
		struct tb *b = random_problem();
		struct kerf_pack_plan *x, *y;
		x = solve(tb_done(b));
		y = solve(&b->p);
		assert_same_plan(x, y);
		placed_somewhere += x->n_nodes > 0;
		unplaced_somewhere += x->n_unplaced > 0;
		kerf_pack_plan_free(x);
		kerf_pack_plan_free(y);
		tb_free(b);
	}
	/* The generator must exercise both outcomes or the property says little. */
	ck_assert_uint_gt(placed_somewhere, 100);
	ck_assert_uint_gt(unplaced_somewhere, 20);
}
END_TEST

/* ------------------------------------------------------------ scale */

/*
 * Karpenter's scheduling benchmark size: 20,000 pods over 400 instance
 * types, three zones, on-demand and spot.  Pod shapes repeat, as
 * Deployments make them, so they fold into a few hundred groups; the second
 * run keeps each pod its own group, the packer's worst case.
 */
static struct tb *big_problem(bool one_pod_groups)
{
	static const int64_t cores[] = {1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192};
	static const int64_t gib_per_core[] = {2, 4, 8};
	size_t max_groups = one_pod_groups ? 20000 : 2000;
	struct tb *b = tb_new(400, max_groups);
	uint32_t pool, z[3];
	size_t pods = 0;

	rng_state = 42;
	z[0] = tb_zone(b, "us-east-1a");
	z[1] = tb_zone(b, "us-east-1b");
	z[2] = tb_zone(b, "us-east-1c");
	pool = tb_pool(b, "default");
	for (uint32_t t = 0; t < 400; t++) {
		int64_t c = cores[t % 13], m = gib_per_core[(t / 13) % 3];
		char name[32];
		kerf_price_t od = (kerf_price_t)(c * 40000 + c * m * 5000) * (90 + rnd(21)) / 100;
		snprintf(name, sizeof(name), "f%u.%" PRId64 "x", t / 39, c);
		tb_type(b, name, c * 1000 - 100, c * m * Gi - Gi / 2, 0);
		b->alloc[t][PODS] = 110;
		for (int i = 0; i < 3; i++) {
			tb_offer(b, t, z[i], OD, od);
			if (rnd(4) != 0)
				tb_offer(b, t, z[i], SPOT, od * (25 + rnd(40)) / 100);
		}
	}
	while (pods < 20000) {
		uint32_t n = one_pod_groups ? 1 : 1 + rnd(200);
		uint32_t g;
		if (pods + n > 20000)
			n = (uint32_t)(20000 - pods);
		g = tb_group(b, pool, n, 100 * (1 + rnd(40)), 128 * Mi * (1 + rnd(64)), 0);
		if (rnd(10) == 0)
			b->groups[g].max_per_node = 1 + rnd(2);
		if (rnd(5) == 0)
			b->groups[g].zone = (int32_t)z[rnd(3)];
		pods += n;
	}
	return b;
}

static void run_big(bool one_pod_groups)
{
	struct tb *b = big_problem(one_pod_groups);
	struct kerf_pack_plan *plan;
	int64_t t0 = fh_mono_ms(NULL), t1;
	size_t pods = 0;

	plan = solve(tb_done(b));
	t1 = fh_mono_ms(NULL);
	for (size_t i = 0; i < plan->n_nodes; i++)
		for (size_t a = 0; a < plan->nodes[i]->n_assign; a++)
			pods += plan->nodes[i]->assign[a]->count;
	fprintf(stderr,
		"check_ffd: 20000 pods in %zu groups x 400 types: %zu nodes, $%.2f/h, "
		"solve_ms %" PRId64 " (with plan_check %" PRId64 " ms)\n",
		b->p.n_groups, plan->n_nodes, (double)plan->total_price / 1e6, plan->solve_ms,
		t1 - t0);
	ck_assert_uint_eq(pods, 20000);
	ck_assert_uint_eq(plan->n_unplaced, 0);
	/* Generous: sanitizer builds are several times slower than the ~0.1 s here. */
	ck_assert_int_lt(plan->solve_ms, 10000);
	kerf_pack_plan_free(plan);
	tb_free(b);
}

START_TEST(scale_grouped)
{
	run_big(false);
}
END_TEST

START_TEST(scale_one_pod_groups)
{
	run_big(true);
}
END_TEST

static Suite *ffd_suite(void)
{
	Suite *s = suite_create("binpack-ffd");
	TCase *tc = tcase_create("exact");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, descriptor);
	tcase_add_test(tc, single_pod_cheapest_type);
	tcase_add_test(tc, small_pods_share_nodes);
	tcase_add_test(tc, heterogeneous_cheapest_total);
	tcase_add_test(tc, capacity_type_priority);
	tcase_add_test(tc, zone_pinned_groups);
	tcase_add_test(tc, max_per_node_one);
	tcase_add_test(tc, conflicts_separate_groups);
	tcase_add_test(tc, pool_node_limit);
	tcase_add_test(tc, pool_cpu_limit);
	tcase_add_test(tc, nothing_fits);
	tcase_add_test(tc, open_nodes_first);
	tcase_add_test(tc, gpu_group_gets_gpu_types);
	tcase_add_test(tc, max_instance_types_config);
	tcase_add_test(tc, invalid_problem);
	tcase_add_test(tc, plan_check_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("properties");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_plans_check);
	tcase_add_test(tc, scale_grouped);
	tcase_add_test(tc, scale_one_pod_groups);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = ffd_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
