/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sim_cloud.c - the sim plugin's provider half, loaded as kerfd loads it.
 *
 * The plugin comes from the build tree through the core loader and runs
 * against the fake host of tests/common/sim_host.h, whose config getters
 * return this file's values and whose wall clock only moves when a test
 * moves it, as under the simulator's virtual clock.  The catalogue is the
 * source tree's.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kerf/plugin.h>
#include <kerf/requirements.h>

#include "cfg.h"
#include "loader.h"
#include "../common/plugin_config.h"
#include "manifest.h"
#include "../common/sim_host.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/sim/.libs"
#define CATALOGUE KERF_TEST_SRCDIR "/data/ec2-catalogue.tsv"

#define Mi (1024ll * 1024)
#define OD KERF_CAPACITY_ON_DEMAND
#define SPOT KERF_CAPACITY_SPOT
#define AWS "karpenter.k8s.aws/instance-"

/* ------------------------------------------------------------ the plugin */

static struct loader *ldr;
static const struct loader_plugin *plug;
static void *inst;
static const struct kerf_provider_ops *ops;
/* The NodeClaims a test built (claim_init), freed by teardown. */
static struct kerf_nodeclaim *made[16];
static size_t n_made;

static void setup(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err;
	int rc;

	sim_host_reset(CATALOGUE);
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	rc = loader_open(ldr, "sim", KERF_KIND_PROVIDER, &plug, &err);
	ck_assert_msg(rc == 0, "loader_open: %d %s", rc, err.message);
	ops = &plug->provider;
}

/* Creates an instance with the current cfg; returns create's rc. */
static int up_rc(struct kerf_error *err)
{
	kerf_error_clear(err);
	return loader_create(plug, &sim_fake_host, &inst, err);
}

static void up(void)
{
	struct kerf_error err = KERF_ERROR_INIT;
	int rc = up_rc(&err);

	ck_assert_msg(rc == 0, "create: %d %s", rc, err.message);
}

static void down(void)
{
	if (inst)
		loader_destroy(plug, inst);
	inst = NULL;
}

static void teardown(void)
{
	while (n_made > 0)
		kerf_nodeclaim_free(made[--n_made]);
	down();
	plug = NULL;
	loader_free(ldr);
	ldr = NULL;
}

/* ------------------------------------------------------------ helpers */

static struct kerf_instance_type_list *types(void)
{
	struct kerf_instance_type_list *l = NULL;
	struct kerf_error err;
	int rc;

	kerf_error_clear(&err);
	rc = ops->get_instance_types(inst, NULL, &l, &err);
	ck_assert_msg(rc == 0, "get_instance_types: %d %s", rc, err.message);
	return l;
}

static const struct kerf_instance_type *find_type(const struct kerf_instance_type_list *l,
						  const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i]->name, name) == 0)
			return l->items[i];
	ck_abort_msg("no instance type %s", name);
	return NULL;
}

static const struct kerf_requirement *find_req(const struct kerf_instance_type *t, const char *key)
{
	for (size_t i = 0; i < t->requirements.n; i++)
		if (strcmp(t->requirements.items[i]->key, key) == 0)
			return t->requirements.items[i];
	return NULL;
}

/* The single value of `key In [v]`, "<absent>" for DoesNotExist, NULL when not listed. */
static const char *req_value(const struct kerf_instance_type *t, const char *key)
{
	const struct kerf_requirement *r = find_req(t, key);

	if (!r)
		return NULL;
	if (r->op == KERF_OP_DOES_NOT_EXIST)
		return "<absent>";
	ck_assert_int_eq(r->op, KERF_OP_IN);
	ck_assert_uint_eq(r->n_values, 1);
	return r->values[0];
}

struct want_label {
	const char *key; /* without the karpenter.k8s.aws/instance- prefix when aws */
	const char *value;
};

/* Checks each key's single value; AWS keys are given without their common prefix. */
static void expect_labels(const struct kerf_instance_type *t, const struct want_label *w, size_t n)
{
	char key[256];

	for (size_t i = 0; i < n; i++) {
		const char *got;

		snprintf(key, sizeof(key), "%s%s", strchr(w[i].key, '/') ? "" : AWS, w[i].key);
		got = req_value(t, key);
		ck_assert_msg(got && strcmp(got, w[i].value) == 0, "%s %s: want \"%s\", got \"%s\"",
			      t->name, key, w[i].value, got ? got : "(not listed)");
	}
}

#define EXPECT_LABELS(t, ...)                                                                      \
	do {                                                                                       \
		const struct want_label want_[] = {__VA_ARGS__};                                   \
		expect_labels(t, want_, sizeof(want_) / sizeof(want_[0]));                         \
	} while (0)

static const struct kerf_offering *find_offer(const struct kerf_instance_type *t, const char *zone,
					      kerf_capacity_type ct)
{
	for (size_t i = 0; i < t->n_offerings; i++)
		if (strcmp(t->offerings[i]->zone, zone) == 0 &&
		    t->offerings[i]->capacity_type == ct)
			return t->offerings[i];
	return NULL;
}

/* One catalogue cell by column name, read independently of the plugin. */
static int64_t catalogue_int(const char *type, const char *column)
{
	FILE *f = fopen(CATALOGUE, "r");
	char line[4096], head[4096];
	int col = -1;
	int64_t v = -2;

	ck_assert_ptr_nonnull(f);
	head[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok;
		int i = 0;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!head[0]) {
			snprintf(head, sizeof(head), "%s", line);
			for (tok = strtok_r(head, "\t", &save); tok;
			     tok = strtok_r(NULL, "\t", &save), i++)
				if (strcmp(tok, column) == 0)
					col = i;
			continue;
		}
		if (strncmp(line, type, strlen(type)) != 0 || line[strlen(type)] != '\t')
			continue;
		for (tok = strtok_r(line, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save), i++)
			if (i == col)
				v = strtoll(tok, NULL, 10);
	}
	fclose(f);
	ck_assert_int_ge(col, 0);
	return v;
}

static size_t catalogue_rows(void)
{
	FILE *f = fopen(CATALOGUE, "r");
	char line[4096];
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && line[0] != '\n')
			n++;
	fclose(f);
	return n - 1; /* the header */
}

/* A NodeClaim for tests, built as a host builds one; teardown frees it. */
struct claim {
	struct kerf_nodeclaim *nc;
};

static void claim_init(struct claim *c, const char *name)
{
	ck_assert_uint_lt(n_made, sizeof(made) / sizeof(made[0]));
	c->nc = made[n_made++] = kerf_nodeclaim_new();
	c->nc->meta->name = strdup(name);
	c->nc->nodepool = strdup("default");
	c->nc->node_class_ref->name = strdup("default-class");
	kerf_resources_init(&c->nc->resource_requests);
}

static void claim_in(struct claim *c, const char *key, const char *a, const char *b)
{
	struct kerf_requirement *r = kerf_requirements_append(&c->nc->requirements);

	r->key = strdup(key);
	r->op = KERF_OP_IN;
	kerf_requirement_add_value(r, a);
	if (b)
		kerf_requirement_add_value(r, b);
}

static struct kerf_instance *launch(struct claim *c)
{
	struct kerf_instance *in = NULL;
	struct kerf_error err;
	int rc;

	kerf_error_clear(&err);
	rc = ops->create(inst, c->nc, NULL, &in, &err);
	ck_assert_msg(rc == 0, "create %s: %d %s", c->nc->meta->name, rc, err.message);
	return in;
}

static struct kerf_instance *get(const char *provider_id, int want_rc)
{
	struct kerf_instance *in = NULL;
	struct kerf_error err;
	int rc;

	kerf_error_clear(&err);
	rc = ops->get(inst, provider_id, &in, &err);
	ck_assert_msg(rc == want_rc, "get %s: %d %s", provider_id, rc, err.message);
	return in;
}

/* ------------------------------------------------------------ catalogue */

START_TEST(test_type_count)
{
	struct kerf_instance_type_list *l;

	up();
	l = types();
	ck_assert_uint_eq(l->n, catalogue_rows());
	ck_assert_uint_gt(l->n, 1000);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_include_types)
{
	struct kerf_instance_type_list *l;

	sim_host_set_list(&sim_cfg.include_types, "t3.*", "m5.large", NULL);
	up();
	l = types();
	/* t3.nano .. t3.2xlarge, plus m5.large */
	ck_assert_uint_eq(l->n, 8);
	for (size_t i = 0; i < l->n; i++)
		ck_assert(strncmp(l->items[i]->name, "t3.", 3) == 0 ||
			  strcmp(l->items[i]->name, "m5.large") == 0);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_m5_large)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;

	up();
	l = types();
	t = find_type(l, "m5.large");
	ck_assert_int_eq(t->allocatable.cpu_millis, 1930);
	ck_assert_int_eq(t->allocatable.memory_bytes, 6903 * Mi);
	ck_assert_int_eq(t->allocatable.pods, 29);
	ck_assert_int_eq(t->allocatable.ephemeral_bytes, 17408 * Mi);
	ck_assert_int_eq(kerf_resources_get(&t->allocatable, "vpc.amazonaws.com/pod-eni", NULL), 9);
	ck_assert(!(kerf_resources_get(&t->allocatable, KERF_RESOURCE_NVIDIA_GPU, NULL)));
	ck_assert_int_eq(t->capacity.cpu_millis, 2000);
	ck_assert_int_eq(t->capacity.memory_bytes, 8192 * Mi);
	EXPECT_LABELS(t, {"node.kubernetes.io/instance-type", "m5.large"},
		      {"kubernetes.io/arch", "amd64"}, {"kubernetes.io/os", "linux"},
		      {"topology.kubernetes.io/region", "us-east-1"}, {"category", "m"},
		      {"family", "m5"}, {"generation", "5"}, {"size", "large"}, {"cpu", "2"},
		      {"cpu-manufacturer", "intel"}, {"memory", "8192"}, {"hypervisor", "nitro"},
		      {"network-bandwidth", "750"}, {"encryption-in-transit-supported", "false"},
		      {"gpu-name", "<absent>"}, {"local-nvme", "<absent>"},
		      {"node.kubernetes.io/windows-build", "<absent>"});
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_accelerators)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;

	up();
	l = types();
	t = find_type(l, "g5.xlarge");
	ck_assert_int_eq(kerf_resources_get(&t->allocatable, KERF_RESOURCE_NVIDIA_GPU, NULL), 1);
	ck_assert_int_eq(kerf_resources_get(&t->capacity, KERF_RESOURCE_NVIDIA_GPU, NULL), 1);
	EXPECT_LABELS(t, {"gpu-name", "a10g"}, {"gpu-manufacturer", "nvidia"}, {"gpu-count", "1"},
		      {"gpu-memory", "22888"}, {"local-nvme", "250"});
	t = find_type(l, "g4ad.xlarge");
	ck_assert_int_eq(kerf_resources_get(&t->allocatable, KERF_RESOURCE_AMD_GPU, NULL), 1);
	t = find_type(l, "inf2.xlarge");
	ck_assert_int_eq(kerf_resources_get(&t->allocatable, KERF_RESOURCE_NEURON, NULL), 1);
	EXPECT_LABELS(t, {"accelerator-name", "inferentia2"}, {"accelerator-manufacturer", "aws"},
		      {"accelerator-count", "1"});
	t = find_type(l, "p5.48xlarge");
	ck_assert_int_eq(kerf_resources_get(&t->allocatable, "vpc.amazonaws.com/efa", NULL), 32);
	t = find_type(l, "a1.metal");
	/* EC2 reports no hypervisor for bare metal; Karpenter's label is then empty. */
	ck_assert_str_eq(req_value(t, "karpenter.k8s.aws/instance-hypervisor"), "");
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_on_demand_price)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;
	int64_t want = catalogue_int("t3.medium", "on_demand_micro_usd_hr");

	up();
	l = types();
	t = find_type(l, "t3.medium");
	ck_assert_int_eq(want, 41600);
	for (size_t z = 0; z < sim_cfg.zones.n; z++) {
		const struct kerf_offering *o = find_offer(t, sim_cfg.zones.items[z], OD);
		ck_assert_ptr_nonnull(o);
		ck_assert_int_eq(o->price, want);
		ck_assert(o->available);
	}
	ck_assert_uint_eq(t->n_offerings, 2 * sim_cfg.zones.n);
	kerf_instance_type_list_free(l);
}
END_TEST

/* ------------------------------------------------------------ spot */

/* Every spot price of every type, in list order, into a fresh array. */
static int64_t *spot_prices(size_t *n)
{
	struct kerf_instance_type_list *l = types();
	int64_t *p = calloc(l->n * SIM_HOST_MAX_ITEMS + 1, sizeof(*p));

	ck_assert_ptr_nonnull(p);

	*n = 0;
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < l->items[i]->n_offerings; k++)
			if (l->items[i]->offerings[k]->capacity_type == SPOT)
				p[(*n)++] = l->items[i]->offerings[k]->price;
	kerf_instance_type_list_free(l);
	return p;
}

START_TEST(test_spot_variation)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;
	int64_t est = catalogue_int("m5.large", "spot_micro_usd_hr");
	int64_t *a, *b, *c;
	size_t na, nb, nc, differ = 0;
	bool zones_differ = false;

	up();
	l = types();
	t = find_type(l, "m5.large");
	for (size_t z = 0; z < sim_cfg.zones.n; z++) {
		const struct kerf_offering *o = find_offer(t, sim_cfg.zones.items[z], SPOT);
		ck_assert_ptr_nonnull(o);
		ck_assert_int_ge(o->price, est - est / 10);
		ck_assert_int_le(o->price, est + est / 10);
		if (z && o->price != find_offer(t, sim_cfg.zones.items[0], SPOT)->price)
			zones_differ = true;
	}
	ck_assert(zones_differ);
	/* Types without a spot estimate have no spot offering at all. */
	t = find_type(l, "c8a.12xlarge");
	ck_assert_ptr_null(find_offer(t, "us-east-1a", SPOT));
	kerf_instance_type_list_free(l);

	/* Deterministic: asking again, or in a new world, gives the same prices. */
	a = spot_prices(&na);
	b = spot_prices(&nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(a, b, na * sizeof(*a)) == 0);
	down();
	up();
	free(b);
	b = spot_prices(&nb);
	ck_assert(memcmp(a, b, na * sizeof(*a)) == 0);

	/* Seed-dependent. */
	down();
	sim_cfg.seed = 2;
	up();
	c = spot_prices(&nc);
	ck_assert_uint_eq(na, nc);
	for (size_t i = 0; i < na; i++)
		differ += a[i] != c[i];
	ck_assert_uint_gt(differ, na / 2);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_spot_bounds_all_types)
{
	struct kerf_instance_type_list *l;

	sim_cfg.spot_variation_percent = 25;
	up();
	l = types();
	for (size_t i = 0; i < l->n; i++) {
		const struct kerf_instance_type *t = l->items[i];
		int64_t est = catalogue_int(t->name, "spot_micro_usd_hr");
		for (size_t k = 0; k < t->n_offerings; k++) {
			int64_t p = t->offerings[k]->price;
			if (t->offerings[k]->capacity_type != SPOT)
				continue;
			ck_assert_msg(p >= est - est / 4 && p <= est + est / 4 && p > 0,
				      "%s %s: %" PRId64 " outside 25%% of %" PRId64, t->name,
				      t->offerings[k]->zone, p, est);
		}
		/* Only a sample: catalogue_int rereads the file. */
		i += 37;
	}
	kerf_instance_type_list_free(l);
	down();
	sim_cfg.spot_variation_percent = 0;
	up();
	l = types();
	ck_assert_int_eq(find_offer(find_type(l, "m5.large"), "us-east-1b", SPOT)->price,
			 catalogue_int("m5.large", "spot_micro_usd_hr"));
	kerf_instance_type_list_free(l);
}
END_TEST

/* ------------------------------------------------------------ zones and capacity */

START_TEST(test_zones_from_config)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;
	const struct kerf_requirement *r;

	sim_cfg.region = "eu-west-1";
	sim_host_set_list(&sim_cfg.zones, "eu-west-1b", "eu-west-1c", NULL);
	up();
	l = types();
	t = find_type(l, "t3.medium");
	ck_assert_uint_eq(t->n_offerings, 4);
	ck_assert_ptr_nonnull(find_offer(t, "eu-west-1b", OD));
	ck_assert_ptr_nonnull(find_offer(t, "eu-west-1c", SPOT));
	ck_assert_ptr_null(find_offer(t, "us-east-1a", OD));
	ck_assert_str_eq(req_value(t, "topology.kubernetes.io/region"), "eu-west-1");
	r = find_req(t, "topology.kubernetes.io/zone");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->op, KERF_OP_IN);
	ck_assert_uint_eq(r->n_values, 2);
	ck_assert_str_eq(r->values[0], "eu-west-1b");
	ck_assert_str_eq(r->values[1], "eu-west-1c");
	r = find_req(t, "karpenter.sh/capacity-type");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->n_values, 2);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_ice_all)
{
	struct kerf_instance_type_list *l;
	struct kerf_instance *in = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	struct claim c;
	int rc;

	sim_cfg.ice_probability_percent = 100;
	up();
	l = types();
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < l->items[i]->n_offerings; k++)
			ck_assert(!l->items[i]->offerings[k]->available);
	kerf_instance_type_list_free(l);
	claim_init(&c, "ice-claim");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	kerf_error_clear(&err);
	rc = ops->create(inst, c.nc, NULL, &in, &err);
	ck_assert_int_eq(rc, KERF_E_CAPACITY);
	ck_assert_ptr_null(in);
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_str_eq(err.provider_code, "InsufficientInstanceCapacity");
	ck_assert_msg(strstr(err.message, "ice-claim") != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_ice_partial_stable)
{
	struct kerf_instance_type_list *l1, *l2;
	size_t down_n = 0, total = 0;

	sim_cfg.ice_probability_percent = 30;
	up();
	l1 = types();
	l2 = types();
	for (size_t i = 0; i < l1->n; i++)
		for (size_t k = 0; k < l1->items[i]->n_offerings; k++) {
			bool a = l1->items[i]->offerings[k]->available;
			ck_assert(a == l2->items[i]->offerings[k]->available);
			down_n += !a;
			total++;
		}
	/* Roughly 30%: far more than a handful, far fewer than most. */
	ck_assert_uint_gt(down_n, total / 5);
	ck_assert_uint_lt(down_n, total * 2 / 5);
	kerf_instance_type_list_free(l1);
	kerf_instance_type_list_free(l2);
}
END_TEST

START_TEST(test_unavailable_offerings)
{
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;

	sim_host_set_list(&sim_cfg.unavailable_offerings, "m5.large:us-east-1a:spot", "p5.48xlarge:*:*", NULL);
	up();
	l = types();
	t = find_type(l, "m5.large");
	ck_assert(!find_offer(t, "us-east-1a", SPOT)->available);
	ck_assert(find_offer(t, "us-east-1a", OD)->available);
	ck_assert(find_offer(t, "us-east-1b", SPOT)->available);
	t = find_type(l, "p5.48xlarge");
	for (size_t k = 0; k < t->n_offerings; k++)
		ck_assert(!t->offerings[k]->available);
	ck_assert(find_offer(find_type(l, "m5.xlarge"), "us-east-1a", SPOT)->available);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_unavailable_offerings_malformed)
{
	struct kerf_error err = KERF_ERROR_INIT;

	sim_host_set_list(&sim_cfg.unavailable_offerings, "m5.large:spot", NULL, NULL);
	ck_assert_int_eq(up_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "m5.large:spot") != NULL, "%s", err.message);
	sim_host_set_list(&sim_cfg.unavailable_offerings, "m5.large:us-east-1a:ondemand", NULL, NULL);
	ck_assert_int_eq(up_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "\"ondemand\"") != NULL, "%s", err.message);
}
END_TEST

/* The schema's ranges: kerfd stops with the position before create() runs. */
START_TEST(test_config_ranges)
{
	static const struct {
		const char *yaml, *message;
	} bad[] = {
	    {"spot_variation_percent: 100\n", "kerf.yaml:1:1: plugins.sim.spot_variation_percent: "
					      "must be from 0 to 99, not \"100\""},
	    {"ice_probability_percent: -1\n", "kerf.yaml:1:1: plugins.sim.ice_probability_percent: "
					      "must be from 0 to 100, not \"-1\""},
	    {"trace_time_scale: 0\n",
	     "kerf.yaml:1:1: plugins.sim.trace_time_scale: must be at least 1, not \"0\""},
	};
	struct cfg_section *s = NULL;
	struct kerf_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kerf_error_clear(&err);
		ck_assert_int_eq(tc_plugin_section(plug, bad[i].yaml, &s, &err), KERF_E_CONFIG);
		ck_assert_str_eq(err.message, bad[i].message);
	}
	ck_assert_int_eq(tc_plugin_section(plug,
					   "spot_variation_percent: 99\nice_probability_percent: "
					   "100\ntrace_time_scale: 1\n",
					   &s, &err),
			 0);
	cfg_section_free(s);
}
END_TEST

/* The file keys are relative to kerf.yaml's directory; the installed catalogue is absolute. */
START_TEST(test_config_paths)
{
	struct cfg *c = NULL;
	struct cfg_section *s = NULL;
	struct kerf_error err;
	const char *str;
	const char *const *list;
	size_t n;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_load_string("/srv/sim/kerf.yaml",
					 "cluster: sim\nprovider: sim\nplugins:\n  sim:\n"
					 "    workloads: [web.yaml, /abs/batch.yaml]\n"
					 "    scenario: s/scenario.yaml\n    trace: ../t.csv\n",
					 &c, &err),
			 0);
	ck_assert_msg(cfg_plugin_section(c, "sim", plug->schema, &s, &err) == 0, "%s", err.message);
	ck_assert_int_eq(cfg_section_list(s, "workloads", &n, &list), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "/srv/sim/web.yaml");
	ck_assert_str_eq(list[1], "/abs/batch.yaml");
	ck_assert_int_eq(cfg_section_string(s, "scenario", &str), 0);
	ck_assert_str_eq(str, "/srv/sim/s/scenario.yaml");
	ck_assert_int_eq(cfg_section_string(s, "trace", &str), 0);
	ck_assert_str_eq(str, "/srv/sim/../t.csv");
	ck_assert_int_eq(cfg_section_string(s, "catalogue", &str), 0);
	ck_assert_str_eq(str, plug->schema[0].default_value);
	ck_assert_int_eq(str[0], '/');
	cfg_section_free(s);
	cfg_free(c);
}
END_TEST

/* ------------------------------------------------------------ launching */

START_TEST(test_create_cheapest)
{
	struct kerf_instance *in;
	struct claim c;

	up();
	claim_init(&c, "od-claim");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", "t3.medium");
	claim_in(&c, "karpenter.sh/capacity-type", "on-demand", NULL);
	in = launch(&c);
	ck_assert_str_eq(in->instance_type, "t3.medium");
	ck_assert_int_eq(in->capacity_type, OD);
	/* Every zone has the same on-demand price: the first configured wins. */
	ck_assert_str_eq(in->zone, "us-east-1a");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodeclaim"), "od-claim");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodepool"), "default");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.k8s.aws/ec2nodeclass"),
			 "default-class");
	ck_assert_int_eq(in->launch_ms, sim_clock_ms);
	ck_assert(strncmp(in->image_id, "ami-", 4) == 0);
	kerf_instance_free(in);
}
END_TEST

/* The node class is sim's to read (EC2NodeClass): its spec.tags go on the instance. */
START_TEST(test_create_node_class_tags)
{
	static const char text[] = "apiVersion: karpenter.k8s.aws/v1\n"
				   "kind: EC2NodeClass\n"
				   "metadata: {name: tagged}\n"
				   "spec:\n"
				   "  role: KarpenterNodeRole\n"
				   "  amiSelectorTerms: [{alias: al2023@latest}]\n"
				   "  subnetSelectorTerms: [{tags: {team: infra}}]\n"
				   "  securityGroupSelectorTerms: [{tags: {team: infra}}]\n"
				   "  tags: {team: infra, cost-center: \"42\"}\n";
	struct kerf_node_class *other = kerf_node_class_new();
	struct kerf_instance *in = NULL;
	struct kerf_error err;
	struct mf_set set;
	struct claim c;

	up();
	mf_set_init(&set);
	kerf_error_clear(&err);
	ck_assert_int_eq(mf_set_add_provider(&set, "sim", ops, &err), 0);
	ck_assert_int_eq(mf_load_string(&set, "nc.yaml", text, strlen(text), NULL, &err), 0);
	ck_assert_uint_eq(set.n_node_classes, 1);
	claim_init(&c, "tagged-claim");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.medium", NULL);
	ck_assert_int_eq(ops->create(inst, c.nc, set.node_classes[0], &in, &err), 0);
	ck_assert_str_eq(kerf_labels_get(&in->tags, "team"), "infra");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "cost-center"), "42");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodeclaim"), "tagged-claim");
	kerf_instance_free(in);
	/* A node class of a kind sim does not serve is refused, not misread. */
	other->ref->group = strdup("acme.example.com");
	other->ref->kind = strdup("AcmeNodeClass");
	other->ref->name = strdup("gpu");
	claim_init(&c, "other-claim");
	in = NULL;
	ck_assert_int_eq(ops->create(inst, c.nc, other, &in, &err), KERF_E_INVALID);
	ck_assert_ptr_null(in);
	kerf_node_class_free(other);
	mf_set_clear(&set);
}
END_TEST

START_TEST(test_create_prefers_spot)
{
	struct kerf_instance_type_list *l;
	struct kerf_instance *in;
	struct claim c;
	int64_t best = INT64_MAX;
	const char *best_zone = NULL;

	up();
	l = types();
	for (size_t z = 0; z < sim_cfg.zones.n; z++) {
		const struct kerf_offering *o =
		    find_offer(find_type(l, "t3.large"), sim_cfg.zones.items[z], SPOT);
		if (o->price < best) {
			best = o->price;
			best_zone = sim_cfg.zones.items[z];
		}
	}
	claim_init(&c, "spot-claim");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", NULL);
	claim_in(&c, "karpenter.sh/capacity-type", "on-demand", "spot");
	in = launch(&c);
	ck_assert_int_eq(in->capacity_type, SPOT);
	ck_assert_str_eq(in->zone, best_zone);
	kerf_instance_free(in);

	/* A zone requirement narrows the choice; spot unavailable there falls back to on demand. */
	down();
	sim_host_set_list(&sim_cfg.unavailable_offerings, "t3.large:us-east-1c:spot", NULL, NULL);
	up();
	claim_init(&c, "zonal");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", NULL);
	claim_in(&c, "topology.kubernetes.io/zone", "us-east-1c", NULL);
	in = launch(&c);
	ck_assert_str_eq(in->zone, "us-east-1c");
	ck_assert_int_eq(in->capacity_type, OD);
	kerf_instance_free(in);
	kerf_instance_type_list_free(l);
}
END_TEST

/*
 * An offering in launch_failures is listed as available, and a create
 * whose cheapest pick it is fails whole with InsufficientInstanceCapacity,
 * every time, instead of falling back to the next offering: the cheapest
 * t3.large spot zone fails, another zone or on demand launches.
 */
START_TEST(test_launch_failures)
{
	struct kerf_instance_type_list *l;
	struct kerf_instance_list *all = NULL;
	struct kerf_instance *in;
	struct kerf_error err;
	struct claim c;
	char pattern[64];
	int64_t best = INT64_MAX;
	const char *best_zone = NULL, *other_zone = NULL;

	up();
	l = types();
	for (size_t z = 0; z < sim_cfg.zones.n; z++) {
		const struct kerf_offering *o =
		    find_offer(find_type(l, "t3.large"), sim_cfg.zones.items[z], SPOT);
		if (o->price < best) {
			other_zone = best_zone;
			best = o->price;
			best_zone = sim_cfg.zones.items[z];
		} else if (!other_zone) {
			other_zone = sim_cfg.zones.items[z];
		}
	}
	kerf_instance_type_list_free(l);
	ck_assert_ptr_nonnull(other_zone);
	ck_assert_str_ne(other_zone, best_zone);
	down();
	ck_assert_int_lt(snprintf(pattern, sizeof(pattern), "t3.*:%s:spot", best_zone),
			 (int)sizeof(pattern));
	sim_host_set_list(&sim_cfg.launch_failures, pattern, NULL, NULL);
	up();

	/* Listed as available, unlike unavailable_offerings. */
	l = types();
	ck_assert(find_offer(find_type(l, "t3.large"), best_zone, SPOT)->available);
	kerf_instance_type_list_free(l);

	/* Pinned to the failing offering, and free to pick any zone: the pick fails both times. */
	for (int pinned = 1; pinned >= 0; pinned--) {
		for (int attempt = 0; attempt < 2; attempt++) {
			claim_init(&c, pinned ? "pinned" : "anywhere");
			claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", NULL);
			claim_in(&c, "karpenter.sh/capacity-type", "spot", NULL);
			if (pinned)
				claim_in(&c, "topology.kubernetes.io/zone", best_zone, NULL);
			in = NULL;
			kerf_error_clear(&err);
			ck_assert_int_eq(ops->create(inst, c.nc, NULL, &in, &err), KERF_E_CAPACITY);
			ck_assert_ptr_null(in);
			ck_assert_int_eq(err.retryable, 0);
			ck_assert_str_eq(err.provider_code, "InsufficientInstanceCapacity");
			ck_assert_msg(strstr(err.message, "t3.large") &&
					  strstr(err.message, best_zone) &&
					  strstr(err.message, "(spot)"),
				      "%s", err.message);
		}
	}
	kerf_error_clear(&err);
	ck_assert_int_eq(ops->list(inst, &all, &err), 0);
	ck_assert_uint_eq(all->n, 0);
	kerf_instance_list_free(all);

	/* Another zone, or on demand in the same one, launches. */
	claim_init(&c, "elsewhere");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", NULL);
	claim_in(&c, "karpenter.sh/capacity-type", "spot", NULL);
	claim_in(&c, "topology.kubernetes.io/zone", other_zone, NULL);
	in = launch(&c);
	ck_assert_str_eq(in->zone, other_zone);
	ck_assert_int_eq(in->capacity_type, SPOT);
	kerf_instance_free(in);
	claim_init(&c, "on-demand");
	claim_in(&c, "node.kubernetes.io/instance-type", "t3.large", NULL);
	claim_in(&c, "karpenter.sh/capacity-type", "on-demand", NULL);
	claim_in(&c, "topology.kubernetes.io/zone", best_zone, NULL);
	in = launch(&c);
	ck_assert_str_eq(in->zone, best_zone);
	ck_assert_int_eq(in->capacity_type, OD);
	kerf_instance_free(in);
}
END_TEST

START_TEST(test_launch_failures_malformed)
{
	struct kerf_error err = KERF_ERROR_INIT;

	sim_host_set_list(&sim_cfg.launch_failures, "t3.large:*:spot", "t3.large:spot", NULL);
	ck_assert_int_eq(up_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "launch_failures[1] \"t3.large:spot\"") != NULL, "%s",
		      err.message);
}
END_TEST

START_TEST(test_create_resources_and_labels)
{
	struct kerf_instance *in;
	struct claim c;

	up();
	claim_init(&c, "arm");
	claim_in(&c, "kubernetes.io/arch", "arm64", NULL);
	claim_in(&c, "karpenter.k8s.aws/instance-family", "m7g", NULL);
	claim_in(&c, "karpenter.sh/capacity-type", "on-demand", NULL);
	kerf_resources_set(&c.nc->resource_requests, KERF_RESOURCE_CPU, 3000, NULL);
	in = launch(&c);
	/* The smallest m7g with 3 allocatable CPUs is the xlarge. */
	ck_assert_str_eq(in->instance_type, "m7g.xlarge");
	kerf_instance_free(in);
}
END_TEST

START_TEST(test_create_idempotent)
{
	struct kerf_instance *a, *b;
	struct kerf_instance_list *l = NULL;
	struct claim c;

	up();
	claim_init(&c, "same");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	a = launch(&c);
	sim_clock_ms += 5000;
	b = launch(&c);
	ck_assert_str_eq(a->provider_id, b->provider_id);
	ck_assert_int_eq(a->launch_ms, b->launch_ms);
	ck_assert_int_eq(ops->list(inst, &l, NULL), 0);
	ck_assert_uint_eq(l->n, 1);
	kerf_instance_list_free(l);
	kerf_instance_free(a);
	kerf_instance_free(b);
}
END_TEST

static bool provider_id_ok(const char *id, const char *zone)
{
	char prefix[64];
	const char *hex;

	snprintf(prefix, sizeof(prefix), "aws:///%s/i-", zone);
	if (strncmp(id, prefix, strlen(prefix)) != 0)
		return false;
	hex = id + strlen(prefix);
	if (strlen(hex) != 17)
		return false;
	for (; *hex; hex++)
		if (!strchr("0123456789abcdef", *hex))
			return false;
	return true;
}

START_TEST(test_provider_id)
{
	struct kerf_instance *a, *b;
	char first[128];
	struct claim c;

	up();
	claim_init(&c, "one");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	a = launch(&c);
	ck_assert_msg(provider_id_ok(a->provider_id, a->zone), "%s", a->provider_id);
	snprintf(first, sizeof(first), "%s", a->provider_id);
	claim_init(&c, "two");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	b = launch(&c);
	ck_assert_msg(provider_id_ok(b->provider_id, b->zone), "%s", b->provider_id);
	ck_assert_str_ne(a->provider_id, b->provider_id);
	kerf_instance_free(a);
	kerf_instance_free(b);

	/* Same seed and claim, same ID, whatever launched before; another seed, another. */
	down();
	up();
	claim_init(&c, "two");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	a = launch(&c);
	ck_assert_str_ne(a->provider_id, first);
	kerf_instance_free(a);
	claim_init(&c, "one");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	a = launch(&c);
	ck_assert_str_eq(a->provider_id, first);
	kerf_instance_free(a);
	down();
	sim_cfg.seed = 99;
	up();
	a = launch(&c);
	ck_assert_str_ne(a->provider_id, first);
	kerf_instance_free(a);
}
END_TEST

START_TEST(test_pending_to_running)
{
	struct kerf_instance *in, *g;
	int64_t t0 = sim_clock_ms;
	struct claim c;

	sim_cfg.launch_delay_ms = 45000;
	up();
	claim_init(&c, "boot");
	claim_in(&c, "node.kubernetes.io/instance-type", "c5.large", NULL);
	in = launch(&c);
	ck_assert_str_eq(in->state, "pending");
	ck_assert_int_eq(in->launch_ms, t0);
	sim_clock_ms = t0 + 44999;
	g = get(in->provider_id, 0);
	ck_assert_str_eq(g->state, "pending");
	kerf_instance_free(g);
	sim_clock_ms = t0 + 45000;
	g = get(in->provider_id, 0);
	ck_assert_str_eq(g->state, "running");
	ck_assert_int_eq(g->launch_ms, t0);
	kerf_instance_free(g);
	kerf_instance_free(in);
}
END_TEST

START_TEST(test_delete)
{
	struct kerf_instance *in, *g;
	struct kerf_instance_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	struct claim c;

	up();
	claim_init(&c, "doomed");
	claim_in(&c, "node.kubernetes.io/instance-type", "m5.large", NULL);
	in = launch(&c);
	ck_assert_int_eq(ops->delete_instance(inst, in->provider_id, NULL), 0);
	g = get(in->provider_id, 0);
	ck_assert_str_eq(g->state, "shutting-down");
	kerf_instance_free(g);
	kerf_error_clear(&err);
	ck_assert_int_eq(ops->delete_instance(inst, in->provider_id, &err), KERF_E_NOTFOUND);
	ck_assert_msg(strstr(err.message, in->provider_id) != NULL, "%s", err.message);
	sim_clock_ms += sim_cfg.terminate_delay_ms;
	get(in->provider_id, KERF_E_NOTFOUND);
	ck_assert_int_eq(ops->delete_instance(inst, in->provider_id, NULL), KERF_E_NOTFOUND);
	ck_assert_int_eq(ops->list(inst, &l, NULL), 0);
	ck_assert_uint_eq(l->n, 0);
	kerf_instance_list_free(l);
	get("aws:///us-east-1a/i-00000000000000000", KERF_E_NOTFOUND);
	kerf_instance_free(in);
}
END_TEST

/* ------------------------------------------------------------ malformed catalogues */

static char bad_path[256];

/* Writes the real header plus `rows` to a temp file and points cfg at it. */
static void write_catalogue(const char *header, const char *rows)
{
	FILE *f;
	int fd;

	snprintf(bad_path, sizeof(bad_path), "/tmp/check_sim_cloud.XXXXXX");
	fd = mkstemp(bad_path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# test catalogue\n%s\n%s", header, rows);
	fclose(f);
	sim_cfg.catalogue = bad_path;
}

static const char *real_header(char *buf, size_t len)
{
	FILE *f = fopen(CATALOGUE, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(buf, (int)len, f) && buf[0] == '#')
		;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

#define M5_ROW                                                                                     \
	"m5.large\tm5\tm\t5\tlarge\tamd64\tintel\tnitro\t0\t2\t8192\t0\t-\t-\t-\t0\t-\t-\t750\t-"  \
	"\t0\t"                                                                                    \
	"1930\t6903\t29\t17408\t0\t0\t0\t0\t9\t96000\t32640\t15-20%\n"

static void expect_create_error(const char *needle)
{
	struct kerf_error err = KERF_ERROR_INIT;

	ck_assert_int_eq(up_rc(&err), KERF_E_PLUGIN_CREATE);
	unlink(bad_path);
	ck_assert_msg(strstr(err.message, needle) != NULL, "want \"%s\" in: %s", needle,
		      err.message);
}

START_TEST(test_malformed_row)
{
	char header[4096], needle[512];

	real_header(header, sizeof(header));
	write_catalogue(header, M5_ROW "c5.large\tc5\tc\t5\tlarge\tamd64\tintel\tnitro\t0\ttwo\n");
	snprintf(needle, sizeof(needle), "%s:4: 10 fields where the header has 33", bad_path);
	expect_create_error(needle);

	write_catalogue(header,
			M5_ROW "c5.large\tc5\tc\t5\tlarge\tamd64\tintel\tnitro\t0\ttwo\t4096"
			       "\t0\t-\t-\t-\t0\t-\t-\t750\t-\t0\t1930\t3055\t29\t17408\t0\t0"
			       "\t0\t0\t9\t85000\t-\t-\n");
	snprintf(needle, sizeof(needle),
		 "%s:4: column \"vcpu\": \"two\" is not a non-negative integer", bad_path);
	expect_create_error(needle);

	write_catalogue(header, M5_ROW M5_ROW);
	snprintf(needle, sizeof(needle), "%s:4: instance type \"m5.large\" is listed twice",
		 bad_path);
	expect_create_error(needle);

	write_catalogue("name\tfamily", "m5.large\tm5\n");
	snprintf(needle, sizeof(needle), "%s:2: header has no column \"category\"", bad_path);
	expect_create_error(needle);
}
END_TEST

START_TEST(test_columns_by_name)
{
	char header[4096], buf[4096], *tab;
	struct kerf_instance_type_list *l;
	const struct kerf_instance_type *t;

	/* Moving the first column to the end must not matter. */
	real_header(header, sizeof(header));
	tab = strchr(header, '\t');
	snprintf(buf, sizeof(buf), "%s\tname", tab + 1);
	write_catalogue(buf, "m5\tm\t5\tlarge\tamd64\tintel\tnitro\t0\t2\t8192\t0\t-\t-\t-\t0\t-\t-"
			     "\t750\t-\t0\t1930\t6903\t29\t17408\t0\t0\t0\t0\t9\t96000\t32640\t-"
			     "\tm5.large\n");
	up();
	unlink(bad_path);
	l = types();
	ck_assert_uint_eq(l->n, 1);
	t = find_type(l, "m5.large");
	ck_assert_int_eq(t->allocatable.memory_bytes, 6903 * Mi);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(test_missing_catalogue)
{
	struct kerf_error err = KERF_ERROR_INIT;

	sim_cfg.catalogue = "/nonexistent/ec2-catalogue.tsv";
	ck_assert_int_eq(up_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "/nonexistent/ec2-catalogue.tsv") != NULL, "%s",
		      err.message);
}
END_TEST

/* ------------------------------------------------------------ suite */

static Suite *sim_cloud_suite(void)
{
	Suite *s = suite_create("sim_cloud");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_type_count);
	tcase_add_test(tc, test_include_types);
	tcase_add_test(tc, test_m5_large);
	tcase_add_test(tc, test_accelerators);
	tcase_add_test(tc, test_on_demand_price);
	tcase_add_test(tc, test_spot_variation);
	tcase_add_test(tc, test_spot_bounds_all_types);
	tcase_add_test(tc, test_zones_from_config);
	tcase_add_test(tc, test_ice_all);
	tcase_add_test(tc, test_ice_partial_stable);
	tcase_add_test(tc, test_unavailable_offerings);
	tcase_add_test(tc, test_unavailable_offerings_malformed);
	tcase_add_test(tc, test_config_ranges);
	tcase_add_test(tc, test_config_paths);
	tcase_add_test(tc, test_create_cheapest);
	tcase_add_test(tc, test_create_node_class_tags);
	tcase_add_test(tc, test_create_prefers_spot);
	tcase_add_test(tc, test_launch_failures);
	tcase_add_test(tc, test_launch_failures_malformed);
	tcase_add_test(tc, test_create_resources_and_labels);
	tcase_add_test(tc, test_create_idempotent);
	tcase_add_test(tc, test_provider_id);
	tcase_add_test(tc, test_pending_to_running);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_malformed_row);
	tcase_add_test(tc, test_columns_by_name);
	tcase_add_test(tc, test_missing_catalogue);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_cloud_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
