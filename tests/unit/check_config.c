/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config.c - kerf.yaml loading, validation and plugin sections.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* By path: the autoconf config.h in the build root shadows a bare "config.h". */
#include "cfg.h"
#include "util.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define GOOD KERF_TEST_DATADIR "/config/good"
#define BAD KERF_TEST_DATADIR "/config/bad"

static struct cfg *load_ok(const char *path)
{
	struct cfg *c = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = cfg_load_file(path, &c, &err);
	ck_assert_msg(rc == 0, "%s: %s", path, err.message);
	return c;
}

/* --------------------------------------------------------- good files */

START_TEST(full_file)
{
	struct cfg *c = load_ok(GOOD "/full.yaml");

	ck_assert_str_eq(c->path, GOOD "/full.yaml");
	ck_assert_str_eq(c->dir, GOOD);
	ck_assert_str_eq(c->plugin_dir, GOOD "/plugins");
	ck_assert_str_eq(c->cluster, "sim");
	ck_assert_str_eq(c->provider, "sim");
	ck_assert_uint_eq(c->n_packers, 2);
	ck_assert_str_eq(c->packers[0], "binpack-ffd");
	ck_assert_str_eq(c->packers[1], "binpack-ilp");
	ck_assert_str_eq(c->default_packer, "binpack-ilp");
	ck_assert_uint_eq(c->n_manifests, 2);
	ck_assert_str_eq(c->manifests[0], GOOD "/nodepools.yaml");
	ck_assert_str_eq(c->manifests[1], "/etc/kerf/extra.yaml");
	ck_assert_int_eq(c->batch_idle_ms, 2000);
	ck_assert_int_eq(c->batch_max_ms, 90000);
	ck_assert_int_eq(c->log_level, KERF_LOG_DEBUG);
	ck_assert_int_eq(c->log_json, 1);
	ck_assert_str_eq(c->metrics_address, "127.0.0.1:8000");
	ck_assert_str_eq(c->health_address, "[::1]:8081");
	ck_assert_int_eq(c->virtual_clock, 1);
	ck_assert_str_eq(c->decision_log, GOOD "/decisions.jsonl");
	ck_assert_int_eq(c->max_nodepools, 5000);

	ck_assert_uint_eq(c->n_nodepools, 3);
	const struct cfg_nodepool *np = cfg_nodepool_find(c, "ray-worker-nodepool");
	ck_assert_ptr_nonnull(np);
	ck_assert_str_eq(np->packer, "binpack-ilp=70, binpack-ffd=30");
	ck_assert_str_eq(np->packer_shadow, "binpack-ffd");
	ck_assert_ptr_nonnull(np->node);
	ck_assert_uint_eq(np->node->line, 27);
	np = cfg_nodepool_find(c, "default");
	ck_assert_str_eq(np->packer, "binpack-ffd");
	ck_assert_ptr_null(np->packer_shadow);
	np = cfg_nodepool_find(c, "empty");
	ck_assert_ptr_null(np->packer);
	ck_assert_ptr_null(np->node);
	ck_assert_ptr_null(cfg_nodepool_find(c, "other"));

	const struct yt_node *sim = cfg_plugin_node(c, "sim");
	ck_assert_ptr_nonnull(sim);
	ck_assert_int_eq(sim->type, YT_MAP);
	ck_assert_ptr_nonnull(yt_map_get(sim, "zones"));
	ck_assert_ptr_null(cfg_plugin_node(c, "binpack-ilp")); /* null section */
	ck_assert_ptr_null(cfg_plugin_node(c, "binpack-ffd"));
	cfg_free(c);
}
END_TEST

START_TEST(defaults)
{
	const char *files[] = {GOOD "/minimal.yaml", GOOD "/nulls.yaml"};

	for (int i = 0; i < N_ELEMS(files); i++) {
		struct cfg *c = load_ok(files[i]);
		ck_assert_ptr_null(c->plugin_dir);
		ck_assert_uint_eq(c->n_packers, 1);
		ck_assert_str_eq(c->packers[0], "binpack-ffd");
		ck_assert_str_eq(c->default_packer, "binpack-ffd");
		ck_assert_uint_eq(c->n_manifests, 0);
		ck_assert_int_eq(c->batch_idle_ms, 1000);
		ck_assert_int_eq(c->batch_max_ms, 10000);
		ck_assert_int_eq(c->log_level, KERF_LOG_INFO);
		ck_assert_int_eq(c->log_json, 0);
		ck_assert_int_eq(c->virtual_clock, 0);
		ck_assert_str_eq(c->decision_log, "");
		ck_assert_int_eq(c->max_nodepools, 1000);
		ck_assert_uint_eq(c->n_nodepools, 0);
		ck_assert_ptr_nonnull(c->yaml);
		if (i == 0) {
			ck_assert_str_eq(c->cluster, "kube");
			ck_assert_str_eq(c->provider, "ec2");
			ck_assert_str_eq(c->metrics_address, ":8080");
			ck_assert_str_eq(c->health_address, ":8081");
		} else {
			ck_assert_str_eq(c->metrics_address, "");
			ck_assert_str_eq(c->health_address, "");
		}
		cfg_free(c);
	}
	cfg_free(NULL);
}
END_TEST

START_TEST(example_config_loads)
{
	struct cfg *c = load_ok(KERF_TEST_SRCDIR "/examples/kerf.yaml");

	ck_assert_str_eq(c->cluster, "sim");
	ck_assert_str_eq(c->provider, "sim");
	ck_assert_str_eq(c->default_packer, "binpack-ffd");
	ck_assert_uint_eq(c->n_manifests, 1);
	ck_assert_str_eq(c->manifests[0], KERF_TEST_SRCDIR "/examples/ray-worker.yaml");
	cfg_free(c);
}
END_TEST

START_TEST(load_string)
{
	struct cfg *c = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_load_string("/etc/kerf/kerf.yaml",
					 "cluster: sim\nprovider: sim\nmanifests: [np.yaml]\n"
					 "settings: {decision_log: /var/log/d.jsonl}\n",
					 &c, &err),
			 0);
	ck_assert_str_eq(c->dir, "/etc/kerf");
	ck_assert_str_eq(c->manifests[0], "/etc/kerf/np.yaml");
	ck_assert_str_eq(c->decision_log, "/var/log/d.jsonl");
	cfg_free(c);

	/* A bare name resolves against the working directory. */
	ck_assert_int_eq(
	    cfg_load_string("kerf.yaml", "cluster: a\nprovider: b\nmanifests: [x]\n", &c, &err), 0);
	ck_assert_str_eq(c->dir, ".");
	ck_assert_str_eq(c->manifests[0], "x");
	cfg_free(c);

	ck_assert_int_eq(
	    cfg_load_string("/kerf.yaml", "cluster: a\nprovider: b\nmanifests: [x]\n", &c, &err),
	    0);
	ck_assert_str_eq(c->dir, "/");
	ck_assert_str_eq(c->manifests[0], "/x");
	cfg_free(c);

	c = NULL;
	ck_assert_int_eq(cfg_load_string("k.yaml", "cluster: [", &c, &err), KERF_E_PARSE);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(cfg_load_string("k.yaml", NULL, &c, &err), KERF_E_INVALID);
	ck_assert_int_eq(cfg_load_file(NULL, &c, &err), KERF_E_INVALID);
}
END_TEST

/* settings.virtual_start: an RFC 3339 time, the virtual wall clock's start. */
START_TEST(virtual_start)
{
	struct cfg *c = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_load_string("kerf.yaml",
					 "cluster: a\nprovider: b\n"
					 "settings: {clock: virtual, virtual_start: "
					 "\"2026-01-05T09:00:00Z\"}\n",
					 &c, &err),
			 0);
	ck_assert_int_eq(c->virtual_start_ms, 1767603600000LL);
	cfg_free(c);
	c = NULL;
	ck_assert_int_eq(cfg_load_string("kerf.yaml",
					 "cluster: a\nprovider: b\n"
					 "settings:\n  virtual_start: monday\n",
					 &c, &err),
			 KERF_E_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.message, "kerf.yaml:4:18: settings.virtual_start: expected an "
					  "RFC 3339 time") != NULL,
		      "%s", err.message);
}
END_TEST

START_TEST(missing_file)
{
	struct cfg *c = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_load_file(BAD "/no-such.yaml", &c, &err), KERF_E_IO);
	ck_assert_ptr_null(c);
}
END_TEST

/* ---------------------------------------------------------- bad files */

static const struct {
	const char *file;
	int code;
	const char *message; /* after "<path>:" */
} bad_files[] = {
    {"empty.yaml", KERF_E_CONFIG, "1:1: empty configuration (cluster and provider are required)"},
    {"comments-only.yaml", KERF_E_CONFIG,
     "1:1: empty configuration (cluster and provider are required)"},
    {"two-docs.yaml", KERF_E_CONFIG, "3:1: expected one YAML document, found 2"},
    {"top-list.yaml", KERF_E_CONFIG, "1:1: expected a mapping at the top level, got a list"},
    {"top-scalar.yaml", KERF_E_CONFIG, "1:1: expected a mapping at the top level, got a string"},
    {"unknown-key.yaml", KERF_E_CONFIG, "3:1: unknown key \"clustr\" (did you mean \"cluster\"?)"},
    {"unknown-key-nohint.yaml", KERF_E_CONFIG, "3:1: unknown key \"zzzzzz\""},
    {"missing-cluster.yaml", KERF_E_CONFIG, "1:1: missing required key \"cluster\""},
    {"missing-provider.yaml", KERF_E_CONFIG, "2:1: missing required key \"provider\""},
    {"null-cluster.yaml", KERF_E_CONFIG, "1:1: cluster: a value is required"},
    {"cluster-list.yaml", KERF_E_CONFIG, "1:1: cluster: expected a string, got a list"},
    {"cluster-nul.yaml", KERF_E_PARSE, "1:10: a string must not hold a NUL character (\"\\0\")"},
    {"bad-plugin-name.yaml", KERF_E_CONFIG,
     "1:1: cluster: invalid plugin name \"Sim\" (lowercase letters, digits and '-')"},
    {"packers-string.yaml", KERF_E_CONFIG, "3:1: packers: expected a list, got a string"},
    {"packers-empty.yaml", KERF_E_CONFIG, "3:1: packers: must name at least one packer"},
    {"packers-dup.yaml", KERF_E_CONFIG, "3:17: packers[2]: \"a\" is listed twice"},
    {"packers-item-map.yaml", KERF_E_CONFIG, "4:5: packers[0]: expected a string, got a mapping"},
    {"packers-bad-name.yaml", KERF_E_CONFIG,
     "4:5: packers[0]: invalid plugin name \"binpack_ffd\" (lowercase letters, digits and '-')"},
    {"default-packer-missing.yaml", KERF_E_CONFIG,
     "4:1: default_packer: packer \"binpack-ilp\" is not in packers (packers: binpack-ffd)"},
    {"default-packer-typo.yaml", KERF_E_CONFIG,
     "3:1: default_packer: packer \"binpack-fdd\" is not in packers (did you mean "
     "\"binpack-ffd\"? packers: binpack-ffd)"},
    {"plugin-dir-empty.yaml", KERF_E_CONFIG, "1:1: plugin_dir: must not be empty"},
    {"manifests-empty-item.yaml", KERF_E_CONFIG, "5:5: manifests[1]: must not be empty"},
    {"manifests-dup.yaml", KERF_E_CONFIG, "3:21: manifests[1]: \"a.yaml\" is listed twice"},
    {"bad-duration.yaml", KERF_E_CONFIG,
     "7:3: settings.batch_idle_duration: invalid duration \"5 parsecs\": unknown unit \" "
     "parsecs\""},
    {"negative-duration.yaml", KERF_E_CONFIG,
     "4:3: settings.batch_max_duration: invalid duration \"-1s\": negative durations "
     "are not allowed"},
    {"batch-order.yaml", KERF_E_CONFIG,
     "5:3: settings.batch_max_duration: 10s is shorter than settings.batch_idle_duration (20s)"},
    {"batch-idle-too-long.yaml", KERF_E_CONFIG,
     "4:3: settings.batch_idle_duration: 20s is longer than settings.batch_max_duration (10s)"},
    {"batch-max-zero.yaml", KERF_E_CONFIG,
     "5:3: settings.batch_max_duration: must be longer than 0s"},
    {"log-level.yaml", KERF_E_CONFIG,
     "4:3: settings.log_level: invalid value \"inf\" (did you mean \"info\"? expected error, "
     "warn, info, debug or trace)"},
    {"log-format.yaml", KERF_E_CONFIG,
     "4:3: settings.log_format: invalid value \"yaml\" (expected text or json)"},
    {"clock.yaml", KERF_E_CONFIG,
     "4:3: settings.clock: invalid value \"simulated\" (expected real or virtual)"},
    {"metrics-address.yaml", KERF_E_CONFIG,
     "4:3: settings.metrics_address: invalid address \"localhost\" (expected host:port, "
     "\":port\" or \"\" to disable)"},
    {"health-port.yaml", KERF_E_CONFIG,
     "4:3: settings.health_address: invalid address \":70000\" (expected host:port, \":port\" "
     "or \"\" to disable)"},
    {"max-nodepools-zero.yaml", KERF_E_CONFIG,
     "4:3: settings.max_nodepools: expected a whole number from 1 to 2147483647, got \"0\""},
    {"settings-list.yaml", KERF_E_CONFIG, "3:1: settings: expected a mapping, got a list"},
    {"settings-unknown.yaml", KERF_E_CONFIG,
     "4:3: settings: unknown key \"log_levle\" (did you mean \"log_level\"?)"},
    {"plugins-string.yaml", KERF_E_CONFIG, "3:1: plugins: expected a mapping, got a string"},
    {"plugin-not-configured.yaml", KERF_E_CONFIG,
     "4:3: plugins: plugin \"ec2\" is not the cluster, the provider or a packer"},
    {"plugin-typo.yaml", KERF_E_CONFIG,
     "4:3: plugins: plugin \"smi\" is not the cluster, the provider or a packer (did you mean "
     "\"sim\"?)"},
    {"plugin-section-list.yaml", KERF_E_CONFIG, "4:3: plugins.sim: expected a mapping, got a list"},
    {"nodepools-list.yaml", KERF_E_CONFIG, "3:1: nodepools: expected a mapping, got a list"},
    {"nodepool-bad-name.yaml", KERF_E_CONFIG,
     "4:3: nodepools: \"Ray\" is not a valid NodePool name (lowercase letters, digits, '-' and "
     "'.')"},
    {"nodepool-string.yaml", KERF_E_CONFIG, "4:3: nodepools.ray: expected a mapping, got a string"},
    {"nodepool-unknown-key.yaml", KERF_E_CONFIG,
     "5:5: nodepools.ray: unknown key \"packr\" (did you mean \"packer\"?)"},
    {"nodepool-packer-not-loaded.yaml", KERF_E_CONFIG,
     "5:5: nodepools.ray.packer: packer \"binpack-ilp\" is not in packers (packers: "
     "binpack-ffd)"},
    {"nodepool-split-not-loaded.yaml", KERF_E_CONFIG,
     "6:5: nodepools.ray.packer: packer \"binpack-ipl\" is not in packers (did you mean "
     "\"binpack-ilp\"? packers: binpack-ffd, binpack-ilp)"},
    {"nodepool-packer-weight.yaml", KERF_E_CONFIG,
     "5:5: nodepools.ray.packer: invalid packer selection \"binpack-ffd=0\": the weight of "
     "\"binpack-ffd\" must be a whole number from 1 to 10000"},
    {"nodepool-packer-list.yaml", KERF_E_CONFIG,
     "5:5: nodepools.ray.packer: expected a string, got a list"},
    {"nodepool-shadow-not-loaded.yaml", KERF_E_CONFIG,
     "5:5: nodepools.ray.packer_shadow: packer \"binpack-ilp\" is not in packers (packers: "
     "binpack-ffd)"},
    {"nodepool-consolidation.yaml", KERF_E_CONFIG,
     "5:20: nodepools.ray.consolidation: expected karpenter or packing, got \"binary\""},
    {"duplicate-key.yaml", KERF_E_PARSE, "3:1: duplicate key \"cluster\""},
    {"syntax-error.yaml", KERF_E_PARSE,
     "5:2: did not find expected key (while parsing a block mapping at line 1, column 1)"},
};

START_TEST(bad_file)
{
	struct cfg *c = NULL;
	struct kerf_error err;
	struct strbuf path, want;

	sb_init(&path);
	sb_init(&want);
	sb_printf(&path, BAD "/%s", bad_files[_i].file);
	sb_printf(&want, "%s:%s", path.buf, bad_files[_i].message);
	kerf_error_clear(&err);
	int rc = cfg_load_file(path.buf, &c, &err);
	ck_assert_msg(rc == bad_files[_i].code, "%s: rc %d (%s)", bad_files[_i].file, rc,
		      err.message);
	ck_assert_int_eq(err.code, rc);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.message, want.buf);
	ck_assert_uint_ne(err.line, 0);
	ck_assert_uint_ne(err.column, 0);
	sb_free(&path);
	sb_free(&want);
}
END_TEST

/* Every file in the corpus is in the table, so a new file cannot go unchecked. */
START_TEST(bad_corpus_complete)
{
	DIR *d = opendir(BAD);
	struct dirent *e;
	int seen = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int i;
		for (i = 0; i < N_ELEMS(bad_files); i++)
			if (strcmp(bad_files[i].file, e->d_name) == 0)
				break;
		ck_assert_msg(i < N_ELEMS(bad_files), "%s is not in bad_files", e->d_name);
		seen++;
	}
	closedir(d);
	ck_assert_int_eq(seen, N_ELEMS(bad_files));
}
END_TEST

/* ---------------------------------------------------- plugin sections */

static const struct kerf_config_key sim_schema[] = {
    {.key = "zones",
     .type = KERF_CFG_STRING_LIST,
     .default_value = "us-east-1a, us-east-1b",
     .description = "zones to simulate"},
    {.key = "seed", .type = KERF_CFG_INT, .default_value = "1", .description = "random seed"},
    {.key = "region",
     .type = KERF_CFG_STRING,
     .default_value = "us-east-1",
     .description = "region"},
    {.key = "spot", .type = KERF_CFG_BOOL, .default_value = "false", .description = "offer spot"},
    {.key = "launch_delay",
     .type = KERF_CFG_DURATION,
     .default_value = "30s",
     .description = "time to launch"},
    {.key = "max_memory",
     .type = KERF_CFG_QUANTITY,
     .default_value = "2Gi",
     .description = "largest instance"},
    {.key = "token", .type = KERF_CFG_STRING, .description = "no default"},
    {.key = "tags",
     .type = KERF_CFG_STRING_LIST,
     .default_value = "",
     .description = "empty default"},
    {.key = NULL},
};

static struct cfg *load_text(const char *text)
{
	struct cfg *c = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = cfg_load_string("kerf.yaml", text, &c, &err);
	ck_assert_msg(rc == 0, "%s", err.message);
	return c;
}

START_TEST(section_values)
{
	struct cfg *c =
	    load_text("cluster: sim\nprovider: sim\nplugins:\n  sim:\n"
		      "    zones: [a, 'b', \"c\"]\n    seed: -7\n    spot: true\n"
		      "    launch_delay: 1m30s\n    max_memory: 1.5Gi\n    region: ~\n");
	struct cfg_section *s = NULL;
	struct kerf_error err;
	const char *str;
	const char *const *list;
	size_t n;
	int64_t v;
	bool b;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_plugin_section(c, "sim", sim_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_list(s, "zones", &n, &list), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0], "a");
	ck_assert_str_eq(list[2], "c");
	ck_assert_ptr_null(list[3]);
	ck_assert_int_eq(cfg_section_int(s, "seed", &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(cfg_section_bool(s, "spot", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_section_duration(s, "launch_delay", &v), 0);
	ck_assert_int_eq(v, 90000);
	ck_assert_int_eq(cfg_section_quantity(s, "max_memory", &v), 0);
	ck_assert_int_eq(v, 1610612736LL);
	/* Null keeps the default. */
	ck_assert_int_eq(cfg_section_string(s, "region", &str), 0);
	ck_assert_str_eq(str, "us-east-1");
	ck_assert_int_eq(cfg_section_string(s, "token", &str), KERF_E_NOTFOUND);
	ck_assert_int_eq(cfg_section_list(s, "tags", &n, &list), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_null(list[0]);

	/* Undeclared keys and wrong types. */
	ck_assert_int_eq(cfg_section_string(s, "nope", &str), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_string(s, "seed", &str), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_int(s, "region", &v), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_bool(s, "seed", &b), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_duration(s, "max_memory", &v), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_quantity(s, "launch_delay", &v), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_list(s, "region", &n, &list), KERF_E_INVALID);
	ck_assert_int_eq(cfg_section_int(NULL, "seed", &v), KERF_E_INVALID);
	cfg_section_free(s);
	cfg_section_free(NULL);
	cfg_free(c);
}
END_TEST

START_TEST(section_defaults)
{
	struct cfg_section *s = NULL;
	struct kerf_error err;
	const char *const *list;
	size_t n;
	int64_t v;
	bool b;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_section_build(NULL, "sim", sim_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_list(s, "zones", &n, &list), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "us-east-1a");
	ck_assert_str_eq(list[1], "us-east-1b");
	ck_assert_int_eq(cfg_section_int(s, "seed", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(cfg_section_bool(s, "spot", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(cfg_section_duration(s, "launch_delay", &v), 0);
	ck_assert_int_eq(v, 30000);
	ck_assert_int_eq(cfg_section_quantity(s, "max_memory", &v), 0);
	ck_assert_int_eq(v, 2147483648LL);
	cfg_section_free(s);

	/* No schema and no section: a plugin that takes no configuration. */
	ck_assert_int_eq(cfg_section_build(NULL, "binpack-ffd", NULL, &s, &err), 0);
	ck_assert_int_eq(cfg_section_int(s, "seed", &v), KERF_E_INVALID);
	cfg_section_free(s);
	ck_assert_int_eq(cfg_section_build(NULL, NULL, NULL, &s, &err), KERF_E_INVALID);
}
END_TEST

/* Ranges in the getters' units: integers, milliseconds, whole units. */
static const struct kerf_config_key rules_schema[] = {
    {.key = "workers", .type = KERF_CFG_INT, .default_value = "4", KERF_CFG_RANGE(1, 64)},
    {.key = "offset", .type = KERF_CFG_INT, KERF_CFG_MAX(-1)},
    {.key = "budget", .type = KERF_CFG_DURATION, .default_value = "1s", KERF_CFG_RANGE(1, 60000)},
    {.key = "grace", .type = KERF_CFG_DURATION, KERF_CFG_MIN(500)},
    {.key = "disk", .type = KERF_CFG_QUANTITY, .default_value = "20Gi", KERF_CFG_MIN(1LL << 30)},
    {.key = "mode",
     .type = KERF_CFG_STRING,
     .default_value = "fast",
     KERF_CFG_VALUES("fast", "exact", "off")},
    {.key = "kinds", .type = KERF_CFG_STRING_LIST, KERF_CFG_VALUES("spot", "on-demand")},
    {.key = "trace", .type = KERF_CFG_STRING, .path = true},
    {.key = "catalogue", .type = KERF_CFG_STRING, .default_value = "data/types.tsv", .path = true},
    {.key = "manifests", .type = KERF_CFG_STRING_LIST, .path = true},
    {.key = "token", .type = KERF_CFG_STRING, .secret = true},
    {.key = NULL},
};

START_TEST(section_rules_accept)
{
	struct cfg *c =
	    load_text("cluster: sim\nprovider: sim\nplugins:\n  sim:\n"
		      "    workers: 64\n    offset: -1\n    budget: 1m\n    grace: 500ms\n"
		      "    disk: 1Gi\n    mode: exact\n    kinds: [on-demand, spot]\n");
	struct cfg_section *s = NULL;
	struct kerf_error err;
	const char *str;
	const char *const *list;
	size_t n;
	int64_t v;

	kerf_error_clear(&err);
	ck_assert_msg(cfg_plugin_section(c, "sim", rules_schema, &s, &err) == 0, "%s", err.message);
	ck_assert_int_eq(cfg_section_int(s, "workers", &v), 0);
	ck_assert_int_eq(v, 64);
	ck_assert_int_eq(cfg_section_duration(s, "budget", &v), 0);
	ck_assert_int_eq(v, 60000);
	ck_assert_int_eq(cfg_section_quantity(s, "disk", &v), 0);
	ck_assert_int_eq(v, 1LL << 30);
	ck_assert_int_eq(cfg_section_string(s, "mode", &str), 0);
	ck_assert_str_eq(str, "exact");
	ck_assert_int_eq(cfg_section_list(s, "kinds", &n, &list), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "on-demand");
	cfg_section_free(s);

	/* The defaults meet their own rules. */
	ck_assert_int_eq(cfg_section_build(NULL, "sim", rules_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_string(s, "mode", &str), 0);
	ck_assert_str_eq(str, "fast");
	ck_assert_int_eq(cfg_section_int(s, "offset", &v), KERF_E_NOTFOUND);
	cfg_section_free(s);
	cfg_free(c);
}
END_TEST

/* Path keys are resolved as the core's own paths are: against kerf.yaml's directory. */
START_TEST(section_paths)
{
	struct cfg *c = NULL;
	struct cfg_section *s = NULL;
	struct kerf_error err;
	const char *str;
	const char *const *list;
	size_t n;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_load_string("/etc/kerf/kerf.yaml",
					 "cluster: sim\nprovider: sim\nmanifests: [pools.yaml]\n"
					 "plugins:\n  sim:\n    trace: traces/t.csv\n"
					 "    manifests: [a.yaml, /abs/b.yaml, '']\n",
					 &c, &err),
			 0);
	ck_assert_str_eq(c->manifests[0], "/etc/kerf/pools.yaml");
	ck_assert_int_eq(cfg_plugin_section(c, "sim", rules_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_string(s, "trace", &str), 0);
	ck_assert_str_eq(str, "/etc/kerf/traces/t.csv");
	/* A relative default too. */
	ck_assert_int_eq(cfg_section_string(s, "catalogue", &str), 0);
	ck_assert_str_eq(str, "/etc/kerf/data/types.tsv");
	ck_assert_int_eq(cfg_section_list(s, "manifests", &n, &list), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0], "/etc/kerf/a.yaml");
	ck_assert_str_eq(list[1], "/abs/b.yaml");
	ck_assert_str_eq(list[2], "");
	cfg_section_free(s);
	cfg_free(c);

	/* A kerf.yaml in the working directory: nothing to prefix. */
	c = load_text("cluster: sim\nprovider: sim\nplugins:\n  sim:\n    trace: t.csv\n");
	ck_assert_int_eq(cfg_plugin_section(c, "sim", rules_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_string(s, "trace", &str), 0);
	ck_assert_str_eq(str, "t.csv");
	cfg_section_free(s);
	cfg_free(c);

	/* No kerf.yaml at all: paths stay as written. */
	ck_assert_int_eq(cfg_section_build(NULL, "sim", rules_schema, &s, &err), 0);
	ck_assert_int_eq(cfg_section_string(s, "catalogue", &str), 0);
	ck_assert_str_eq(str, "data/types.tsv");
	cfg_section_free(s);
}
END_TEST

static const struct kerf_config_key required_schema[] = {
    {.key = "region", .type = KERF_CFG_STRING, .required = true, .description = "required"},
    {.key = "zones", .type = KERF_CFG_STRING_LIST},
    {.key = NULL},
};

static const struct {
	const char *section; /* YAML after "plugins:\n" */
	const struct kerf_config_key *schema;
	const char *message;
} bad_sections[] = {
    {"  sim:\n    zone: [a]\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim: unknown key \"zone\" (did you mean \"zones\"?)"},
    {"  sim:\n    xyzzy: 1\n", sim_schema, "kerf.yaml:5:5: plugins.sim: unknown key \"xyzzy\""},
    {"  sim:\n    zones: a\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.zones: expected a list, got a string"},
    {"  sim:\n    zones: [a, [b]]\n", sim_schema,
     "kerf.yaml:5:16: plugins.sim.zones[1]: expected a string, got a list"},
    {"  sim:\n    zones: [a, ~]\n", sim_schema,
     "kerf.yaml:5:16: plugins.sim.zones[1]: expected a string, got null"},
    {"  sim:\n    seed: abc\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.seed: expected an integer, got \"abc\""},
    {"  sim:\n    seed: '5'\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.seed: expected an integer, got \"5\""},
    {"  sim:\n    seed: 99999999999999999999\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.seed: integer \"99999999999999999999\" is out of range"},
    {"  sim:\n    seed: {a: 1}\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.seed: expected an integer, got a mapping"},
    {"  sim:\n    spot: yes\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.spot: expected true or false, got \"yes\""},
    {"  sim:\n    region: [a]\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.region: expected a string, got a list"},
    {"  sim:\n    launch_delay: soon\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.launch_delay: invalid duration \"soon\": expected a number at "
     "\"soon\""},
    {"  sim:\n    max_memory: lots\n", sim_schema,
     "kerf.yaml:5:5: plugins.sim.max_memory: invalid quantity \"lots\": expected a number"},
    {"  sim:\n    seed: 1\n", NULL,
     "kerf.yaml:5:5: plugins.sim: unknown key \"seed\" (plugin \"sim\" takes no configuration)"},
    {"  sim:\n    zones: [a]\n", required_schema,
     "kerf.yaml:5:5: plugins.sim: missing required key \"region\""},
    {"  sim:\n    region:\n", required_schema,
     "kerf.yaml:5:5: plugins.sim.region: a value is required"},
    {"  sim:\n", required_schema, "kerf.yaml:4:3: plugins.sim: missing required key \"region\""},
    {"  binpack-ffd: {}\n", required_schema,
     "kerf.yaml:3:1: plugins.sim: missing required key \"region\""},
    {"\n", required_schema, "kerf.yaml:3:1: plugins.sim: missing required key \"region\""},
    {"  sim:\n    workers: 65\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.workers: must be from 1 to 64, not \"65\""},
    {"  sim:\n    workers: 0\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.workers: must be from 1 to 64, not \"0\""},
    {"  sim:\n    offset: 0\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.offset: must be at most -1, not \"0\""},
    {"  sim:\n    budget: 1m0.001s\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.budget: must be from 1ms to 1m0s, not \"1m0.001s\""},
    {"  sim:\n    budget: 0s\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.budget: must be from 1ms to 1m0s, not \"0s\""},
    {"  sim:\n    grace: 499ms\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.grace: must be at least 500ms, not \"499ms\""},
    {"  sim:\n    disk: 1023Mi\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.disk: must be at least 1Gi, not \"1023Mi\""},
    {"  sim:\n    mode: fsat\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.mode: invalid value \"fsat\" (did you mean \"fast\"? expected "
     "fast, exact or off)"},
    {"  sim:\n    mode: turbo\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.mode: invalid value \"turbo\" (expected fast, exact or off)"},
    {"  sim:\n    kinds: [spot, ondemand]\n", rules_schema,
     "kerf.yaml:5:19: plugins.sim.kinds[1]: invalid value \"ondemand\" (did you mean "
     "\"on-demand\"? expected spot or on-demand)"},
    {"  sim:\n    token: [tok-abc123]\n", rules_schema,
     "kerf.yaml:5:5: plugins.sim.token: expected a string, got a list"},
};

START_TEST(bad_section)
{
	struct strbuf text;
	struct cfg_section *s = NULL;
	struct kerf_error err;

	sb_init(&text);
	sb_printf(&text, "cluster: sim\nprovider: sim\nplugins:\n%s", bad_sections[_i].section);
	struct cfg *c = load_text(text.buf);
	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_plugin_section(c, "sim", bad_sections[_i].schema, &s, &err),
			 KERF_E_CONFIG);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err.message, bad_sections[_i].message);
	cfg_free(c);
	sb_free(&text);
}
END_TEST

static const struct kerf_config_key group_schema[] = {
    {.key = "le.enabled", .type = KERF_CFG_BOOL, .default_value = "false", .description = "g"},
    {.key = "le.name", .type = KERF_CFG_STRING, .default_value = "x", .description = "g"},
    {.key = "qps", .type = KERF_CFG_INT, .description = "top"},
    {.key = NULL},
};

/* A dotted key is written nested under its group or flat, the same either way. */
START_TEST(section_groups)
{
	static const char *const texts[] = {
	    "  sim:\n    le:\n      enabled: true\n      name: lease\n    qps: 3\n",
	    "  sim:\n    le.enabled: true\n    le: {name: lease}\n    qps: 3\n",
	};
	struct cfg_section *s = NULL;
	struct kerf_error err;
	struct strbuf text;
	const char *str;
	bool b = false;

	sb_init(&text);
	sb_printf(&text, "cluster: sim\nprovider: sim\nplugins:\n%s", texts[_i]);
	struct cfg *c = load_text(text.buf);
	kerf_error_clear(&err);
	ck_assert_msg(cfg_plugin_section(c, "sim", group_schema, &s, &err) == 0, "%s", err.message);
	ck_assert_int_eq(cfg_section_bool(s, "le.enabled", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_section_string(s, "le.name", &str), 0);
	ck_assert_str_eq(str, "lease");
	cfg_section_free(s);
	cfg_free(c);
	sb_free(&text);

	/* A key of no group stays unknown, nested or not. */
	c = load_text("cluster: sim\nprovider: sim\nplugins:\n  sim:\n    le:\n      nmae: y\n");
	ck_assert_int_eq(cfg_plugin_section(c, "sim", group_schema, &s, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, "kerf.yaml:6:7: plugins.sim: unknown key"));
	cfg_free(c);
	c = load_text("cluster: sim\nprovider: sim\nplugins:\n  sim:\n    qps:\n      x: 1\n");
	ck_assert_int_eq(cfg_plugin_section(c, "sim", group_schema, &s, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, "plugins.sim.qps: expected an integer"));
	cfg_free(c);
}
END_TEST

START_TEST(required_without_section)
{
	struct cfg *c = load_text("cluster: sim\nprovider: sim\n");
	struct cfg_section *s = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_plugin_section(c, "sim", required_schema, &s, &err), KERF_E_CONFIG);
	ck_assert_str_eq(err.message,
			 "kerf.yaml:1:1: plugins.sim: missing required key \"region\"");
	/* Without the file there is no position to give. */
	ck_assert_int_eq(cfg_section_build(NULL, "sim", required_schema, &s, &err), KERF_E_CONFIG);
	ck_assert_str_eq(err.message, "plugins.sim: missing required key \"region\"");
	ck_assert_uint_eq(err.line, 0);
	cfg_free(c);
}
END_TEST

static const struct kerf_config_key bad_default_int[] = {
    {.key = "n", .type = KERF_CFG_INT, .default_value = "ten"},
    {.key = NULL},
};
static const struct kerf_config_key bad_default_dur[] = {
    {.key = "d", .type = KERF_CFG_DURATION, .default_value = "1 fortnight"},
    {.key = NULL},
};
static const struct kerf_config_key bad_default_bool[] = {
    {.key = "b", .type = KERF_CFG_BOOL, .default_value = "yes"},
    {.key = NULL},
};
static const struct kerf_config_key bad_default_list[] = {
    {.key = "l", .type = KERF_CFG_STRING_LIST, .default_value = "a,,b"},
    {.key = NULL},
};
static const struct kerf_config_key dup_key[] = {
    {.key = "k", .type = KERF_CFG_STRING},
    {.key = "k", .type = KERF_CFG_INT},
    {.key = NULL},
};
static const struct kerf_config_key bad_type[] = {
    {.key = "k", .type = (kerf_config_type)42},
    {.key = NULL},
};
static const struct kerf_config_key empty_key[] = {
    {.key = "", .type = KERF_CFG_STRING},
    {.key = NULL},
};
static const struct kerf_config_key default_below_min[] = {
    {.key = "n", .type = KERF_CFG_INT, .default_value = "0", KERF_CFG_MIN(1)},
    {.key = NULL},
};
static const struct kerf_config_key default_above_max[] = {
    {.key = "d", .type = KERF_CFG_DURATION, .default_value = "2s", KERF_CFG_MAX(1000)},
    {.key = NULL},
};
static const struct kerf_config_key default_out_of_range[] = {
    {.key = "q", .type = KERF_CFG_QUANTITY, .default_value = "1Gi", KERF_CFG_RANGE(0, 1000)},
    {.key = NULL},
};
static const struct kerf_config_key default_not_a_value[] = {
    {.key = "m",
     .type = KERF_CFG_STRING,
     .default_value = "slow",
     KERF_CFG_VALUES("fast", "exact")},
    {.key = NULL},
};
static const struct kerf_config_key default_item_not_a_value[] = {
    {.key = "l",
     .type = KERF_CFG_STRING_LIST,
     .default_value = "spot,spto",
     KERF_CFG_VALUES("spot", "on-demand")},
    {.key = NULL},
};
static const struct kerf_config_key range_on_string[] = {
    {.key = "s", .type = KERF_CFG_STRING, KERF_CFG_MIN(1)},
    {.key = NULL},
};
static const struct kerf_config_key min_above_max[] = {
    {.key = "n", .type = KERF_CFG_INT, KERF_CFG_RANGE(5, 1)},
    {.key = NULL},
};
static const struct kerf_config_key path_on_int[] = {
    {.key = "n", .type = KERF_CFG_INT, .path = true},
    {.key = NULL},
};
static const struct kerf_config_key values_on_bool[] = {
    {.key = "b", .type = KERF_CFG_BOOL, KERF_CFG_VALUES("true")},
    {.key = NULL},
};
static const struct kerf_config_key empty_values[] = {
    {.key = "m", .type = KERF_CFG_STRING, .values = (const char *const[]){NULL}},
    {.key = NULL},
};
static const struct kerf_config_key secret_default[] = {
    {.key = "token", .type = KERF_CFG_STRING, .default_value = "hunter2", .secret = true},
    {.key = NULL},
};
static const struct kerf_config_key secret_list[] = {
    {.key = "tokens", .type = KERF_CFG_STRING_LIST, .secret = true},
    {.key = NULL},
};

static const struct {
	const struct kerf_config_key *schema;
	const char *message;
} bad_schemas[] = {
    {bad_default_int,
     "plugin \"p\": config schema: key \"n\": default \"ten\": expected an integer, got \"ten\""},
    {bad_default_dur, "plugin \"p\": config schema: key \"d\": default \"1 fortnight\": invalid "
		      "duration \"1 fortnight\": unknown unit \" fortnight\""},
    {bad_default_bool,
     "plugin \"p\": config schema: key \"b\": default \"yes\": expected true or false, got "
     "\"yes\""},
    {bad_default_list,
     "plugin \"p\": config schema: key \"l\": default \"a,,b\" has an empty item"},
    {dup_key, "plugin \"p\": config schema: key \"k\" is declared twice"},
    {bad_type, "plugin \"p\": config schema: key \"k\": unknown type 42"},
    {empty_key, "plugin \"p\": config schema: empty key name"},
    {default_below_min,
     "plugin \"p\": config schema: key \"n\": default \"0\": must be at least 1, not \"0\""},
    {default_above_max,
     "plugin \"p\": config schema: key \"d\": default \"2s\": must be at most 1s, not \"2s\""},
    {default_out_of_range, "plugin \"p\": config schema: key \"q\": default \"1Gi\": must be from "
			   "0 to 1k, not \"1Gi\""},
    {default_not_a_value, "plugin \"p\": config schema: key \"m\": default \"slow\": invalid "
			  "value \"slow\" (expected fast or exact)"},
    {default_item_not_a_value,
     "plugin \"p\": config schema: key \"l\": default \"spot,spto\": invalid value \"spto\" (did "
     "you mean \"spot\"? expected spot or on-demand)"},
    {range_on_string, "plugin \"p\": config schema: key \"s\": min and max apply to int, "
		      "duration and quantity keys, not to string keys"},
    {min_above_max, "plugin \"p\": config schema: key \"n\": min 5 is above max 1"},
    {path_on_int, "plugin \"p\": config schema: key \"n\": path applies to string and string "
		  "list keys, not to int keys"},
    {values_on_bool, "plugin \"p\": config schema: key \"b\": values apply to string and string "
		     "list keys, not to bool keys"},
    {empty_values, "plugin \"p\": config schema: key \"m\": values is empty"},
    {secret_default, "plugin \"p\": config schema: key \"token\": a secret key has no default"},
    {secret_list, "plugin \"p\": config schema: key \"tokens\": secret applies to string keys "
		  "without path or values"},
};

START_TEST(bad_schema)
{
	struct cfg_section *s = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_section_build(NULL, "p", bad_schemas[_i].schema, &s, &err),
			 KERF_E_INVALID);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err.message, bad_schemas[_i].message);
}
END_TEST

/* An entry of a later minor: the host strides by the plugin's size and reads its own fields. */
struct newer_key {
	struct kerf_config_key k;
	int64_t appended;
};

static const struct newer_key newer_schema[] = {
    {{.key = "a", .type = KERF_CFG_INT, .default_value = "2", KERF_CFG_RANGE(1, 3)}, 7},
    {{.key = "b", .type = KERF_CFG_STRING, KERF_CFG_VALUES("x", "y")}, 8},
    {{.key = NULL}, 0},
};

START_TEST(schema_copy)
{
	struct kerf_config_key *copy = NULL;
	struct kerf_error err;
	char want[KERF_ERROR_MSG_MAX];

	kerf_error_clear(&err);
	ck_assert_int_eq(
	    cfg_schema_copy("p", &newer_schema[0].k, sizeof(newer_schema[0]), &copy, &err), 0);
	ck_assert_str_eq(copy[0].key, "a");
	ck_assert_int_eq(copy[0].max, 3);
	ck_assert_str_eq(copy[1].key, "b");
	ck_assert_str_eq(copy[1].values[1], "y");
	ck_assert_ptr_null(copy[2].key);
	free(copy);

	ck_assert_int_eq(cfg_schema_copy("p", NULL, 0, &copy, &err), 0);
	ck_assert_ptr_null(copy);

	/* An entry smaller than ABI 2.0's: the schema was not declared with KERF_PLUGIN_SCHEMA. */
	ck_assert_int_eq(cfg_schema_copy("p", rules_schema, 40, &copy, &err), KERF_E_INVALID);
	snprintf(want, sizeof(want),
		 "plugin \"p\": config_key_size 40 is smaller than the %zu bytes of an ABI 2.0 "
		 "schema entry (declare the schema with KERF_PLUGIN_SCHEMA)",
		 (size_t)KERF_OPS_END(struct kerf_config_key, values));
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(copy);

	ck_assert_int_eq(
	    cfg_schema_copy("p", default_below_min, sizeof(default_below_min[0]), &copy, &err),
	    KERF_E_INVALID);
	ck_assert_str_eq(
	    err.message,
	    "plugin \"p\": config schema: key \"n\": default \"0\": must be at least 1, "
	    "not \"0\"");
	ck_assert_ptr_null(copy);
}
END_TEST

/* ---------------------------------------------------- packer selection */

static const struct {
	const char *text;
	size_t n;
	const char *names[3];
	unsigned weights[3];
} good_specs[] = {
    {"binpack-ffd", 1, {"binpack-ffd"}, {100}},
    {" binpack-ffd ", 1, {"binpack-ffd"}, {100}},
    {"a=50,b=50", 2, {"a", "b"}, {50, 50}},
    {"a = 1 , b=3, c=10000", 3, {"a", "b", "c"}, {1, 3, 10000}},
    {"a=100", 1, {"a"}, {100}},
};

START_TEST(packer_spec_good)
{
	struct cfg_packer_weight *w = NULL;
	size_t n = 0;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_msg(cfg_packer_spec_parse(good_specs[_i].text, &n, &w, &err) == 0, "%s",
		      err.message);
	ck_assert_uint_eq(n, good_specs[_i].n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(w[i].name, good_specs[_i].names[i]);
		ck_assert_uint_eq(w[i].weight, good_specs[_i].weights[i]);
	}
	cfg_packer_weights_free(n, w);
}
END_TEST

static const struct {
	const char *text;
	const char *message;
} bad_specs[] = {
    {"", "invalid packer selection \"\": empty"},
    {"a,b", "invalid packer selection \"a,b\": \"a\" needs a weight (name=weight)"},
    {"a=50,b", "invalid packer selection \"a=50,b\": \"b\" needs a weight (name=weight)"},
    {"a=", "invalid packer selection \"a=\": \"a\" needs a weight (name=weight)"},
    {"a=50,a=50", "invalid packer selection \"a=50,a=50\": \"a\" is listed twice"},
    {"a=50,", "invalid packer selection \"a=50,\": \"\" is not a packer name (lowercase "
	      "letters, digits and '-')"},
    {"Big=1", "invalid packer selection \"Big=1\": \"Big\" is not a packer name (lowercase "
	      "letters, digits and '-')"},
    {"a=x", "invalid packer selection \"a=x\": the weight of \"a\" must be a whole number from "
	    "1 to 10000"},
    {"a=10001", "invalid packer selection \"a=10001\": the weight of \"a\" must be a whole "
		"number from 1 to 10000"},
    {"a=99999999999999999999", "invalid packer selection \"a=99999999999999999999\": the "
			       "weight of \"a\" must be a whole number from 1 to 10000"},
    {"a=-1", "invalid packer selection \"a=-1\": the weight of \"a\" must be a whole number "
	     "from 1 to 10000"},
};

START_TEST(packer_spec_bad)
{
	struct cfg_packer_weight *w = NULL;
	size_t n = 77;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(cfg_packer_spec_parse(bad_specs[_i].text, &n, &w, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, bad_specs[_i].message);
	ck_assert_uint_eq(n, 77);
	ck_assert_ptr_null(w);
}
END_TEST

START_TEST(small_helpers)
{
	ck_assert(cfg_plugin_name_valid("binpack-ffd"));
	ck_assert(cfg_plugin_name_valid("ec2"));
	ck_assert(!cfg_plugin_name_valid(""));
	ck_assert(!cfg_plugin_name_valid(NULL));
	ck_assert(!cfg_plugin_name_valid("a_b"));
	ck_assert(!cfg_plugin_name_valid("A"));
	ck_assert_int_eq(cfg_log_level_parse("error"), KERF_LOG_ERROR);
	ck_assert_int_eq(cfg_log_level_parse("trace"), KERF_LOG_TRACE);
	ck_assert_int_eq(cfg_log_level_parse("INFO"), -1);
	ck_assert_int_eq(cfg_log_level_parse(NULL), -1);
	ck_assert_str_eq(cfg_log_level_name(KERF_LOG_WARN), "warn");
	ck_assert_str_eq(cfg_log_level_name(99), "unknown");
	ck_assert_str_eq(cfg_log_level_name(-1), "unknown");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("kerf.yaml");

	tcase_add_test(tc, full_file);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, example_config_loads);
	tcase_add_test(tc, load_string);
	tcase_add_test(tc, virtual_start);
	tcase_add_test(tc, missing_file);
	tcase_add_loop_test(tc, bad_file, 0, N_ELEMS(bad_files));
	tcase_add_test(tc, bad_corpus_complete);
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_add_test(tc, section_values);
	tcase_add_test(tc, section_defaults);
	tcase_add_loop_test(tc, bad_section, 0, N_ELEMS(bad_sections));
	tcase_add_test(tc, required_without_section);
	tcase_add_loop_test(tc, section_groups, 0, 2);
	tcase_add_loop_test(tc, bad_schema, 0, N_ELEMS(bad_schemas));
	tcase_add_test(tc, section_rules_accept);
	tcase_add_test(tc, section_paths);
	tcase_add_test(tc, schema_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, packer_spec_good, 0, N_ELEMS(good_specs));
	tcase_add_loop_test(tc, packer_spec_bad, 0, N_ELEMS(bad_specs));
	tcase_add_test(tc, small_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = config_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
