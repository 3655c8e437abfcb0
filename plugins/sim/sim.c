/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.c - the sim plugin's descriptor, configuration and lifetime.
 *
 * The simulator is a cloud (the provider kind, sim_cloud.c) with the real
 * EC2 catalogue, seeded spot prices and seeded capacity shortages, and
 * instances whose launch, registration and readiness follow the host's
 * clock, virtual under simulation; and a cluster (the cluster kind,
 * sim_cluster.c) whose nodes are those instances and whose pods come from
 * Kubernetes manifests, a scenario and a trace (sim_script.c).  The world
 * they share (sim_world.h) is kept apart from the kinds' ops.
 *
 * kerf.yaml:
 *
 *   cluster: sim
 *   provider: sim
 *   manifests: [nodepools.yaml]        # NodePools, EC2NodeClasses: the core's
 *   plugins:
 *     sim:
 *       zones: [us-east-1a, us-east-1b]
 *       seed: 7
 *       ice_probability_percent: 5
 *       unavailable_offerings: ["p5.48xlarge:*:*", "m5.large:us-east-1a:spot"]
 *       launch_failures: ["m5.xlarge:us-east-1c:spot"]
 *       workloads: [web.yaml]
 *       scenario: scenario.yaml
 *       trace: workload.csv
 *       trace_time_scale: 60
 *
 * Relative file names are relative to the directory of kerf.yaml: the
 * schema marks them as paths and the host resolves them.
 */
#include <inttypes.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim.h"

#ifndef SIM_VERSION
#define SIM_VERSION "0.0.0"
#endif

static const struct kerf_config_key sim_schema[] = {
    {.key = "catalogue",
     .type = KERF_CFG_STRING,
     .default_value = SIM_DEFAULT_CATALOGUE,
     .path = true,
     .description = "EC2 catalogue (tab-separated, from scripts/gen-catalogue.py)"},
    {.key = "region",
     .type = KERF_CFG_STRING,
     .default_value = "us-east-1",
     .description = "region the simulated cloud reports"},
    {.key = "zones",
     .type = KERF_CFG_STRING_LIST,
     .default_value = "us-east-1a,us-east-1b,us-east-1c",
     .description = "availability zones every instance type is offered in"},
    {.key = "seed",
     .type = KERF_CFG_INT,
     .default_value = "1",
     .description = "seed of every simulated decision (spot prices, capacity, instance IDs)"},
    /* Below 100, so a varied spot price stays positive. */
    {.key = "spot_variation_percent",
     .type = KERF_CFG_INT,
     .default_value = "10",
     KERF_CFG_RANGE(0, 99),
     .description = "spot prices vary per type and zone within this many percent of the "
		    "catalogue's estimate"},
    {.key = "launch_delay",
     .type = KERF_CFG_DURATION,
     .default_value = "30s",
     .description = "launch to node registered (EC2 state running)"},
    {.key = "ready_delay",
     .type = KERF_CFG_DURATION,
     .default_value = "15s",
     .description = "node registered to node Ready"},
    {.key = "ready_spread",
     .type = KERF_CFG_DURATION,
     .default_value = "0s",
     .description = "each node is Ready up to this much later than ready_delay, by a "
		    "seeded hash of its instance, so a batch's nodes come up one by one"},
    {.key = "terminate_delay",
     .type = KERF_CFG_DURATION,
     .default_value = "30s",
     .description = "delete to instance gone (EC2 state shutting-down meanwhile)"},
    {.key = "ice_probability_percent",
     .type = KERF_CFG_INT,
     .default_value = "0",
     KERF_CFG_RANGE(0, 100),
     .description = "chance that an offering has no capacity, fixed per type, zone and "
		    "capacity type"},
    {.key = "unavailable_offerings",
     .type = KERF_CFG_STRING_LIST,
     .description = "offerings without capacity, as TYPE:ZONE:CAPACITY-TYPE glob patterns"},
    {.key = "launch_failures",
     .type = KERF_CFG_STRING_LIST,
     .description = "offerings listed as available whose launch fails with "
		    "InsufficientInstanceCapacity, as TYPE:ZONE:CAPACITY-TYPE glob patterns"},
    {.key = "include_types",
     .type = KERF_CFG_STRING_LIST,
     .description = "glob patterns of the instance types to offer; none: every type"},
    {.key = "workloads",
     .type = KERF_CFG_STRING_LIST,
     .path = true,
     .description = "Kubernetes manifests (Pods, Deployments, ReplicaSets, StatefulSets, "
		    "DaemonSets, Jobs) the simulated cluster runs from the start"},
    {.key = "scenario",
     .type = KERF_CFG_STRING,
     .path = true,
     .description = "YAML list of timed actions: - {at: 30s, apply: FILE | scale: {kind, name, "
		    "replicas} | delete: {kind, name} | interrupt: SELECTOR | terminate: "
		    "SELECTOR}"},
    {.key = "trace",
     .type = KERF_CFG_STRING,
     .path = true,
     .description = "CSV of pod arrivals: arrival_s,cpu_millicores,memory_mib,gpu,count[,"
		    "duration_s]"},
    {.key = "trace_time_scale",
     .type = KERF_CFG_INT,
     .default_value = "1",
     KERF_CFG_MIN(1),
     .description = "trace arrival times and durations are divided by this"},
    {.key = "state_file",
     .type = KERF_CFG_STRING,
     .path = true,
     .description = "file that keeps the simulated cloud's instances, NodeClaims and the run's "
		    "epoch across kerfd restarts; written after every change, read at start"},
    {.key = "bind_delay",
     .type = KERF_CFG_DURATION,
     .default_value = "0s",
     .description = "how long after its creation the simulated scheduler may bind a pod"},
    {.key = "termination_grace",
     .type = KERF_CFG_DURATION,
     .default_value = "0s",
     .description = "how long an evicted pod stays terminating (on its node, its requests "
		    "held) before it is gone; its workload replaces it at once"},
    {.key = NULL},
};

/* ------------------------------------------------------------ config */

static int cfg_error(struct kerf_error *err, int rc, const char *key)
{
	return kerf_error_set(err, rc == KERF_E_NOTFOUND ? KERF_E_CONFIG : rc,
			      "sim: config key \"%s\": %s", key, kerf_strerror(rc));
}

static int get_string(const struct kerf_host *h, const char *key, char **out,
		      struct kerf_error *err)
{
	const char *s;
	int rc = h->config_string(h->ctx, key, &s);

	if (rc)
		return cfg_error(err, rc, key);
	*out = h->strdup(h->ctx, s);
	return 0;
}

static int get_int(const struct kerf_host *h, const char *key, int64_t *out, struct kerf_error *err)
{
	int rc = h->config_int(h->ctx, key, out);

	return rc ? cfg_error(err, rc, key) : 0;
}

static int get_duration(const struct kerf_host *h, const char *key, int64_t *out,
			struct kerf_error *err)
{
	int rc = h->config_duration(h->ctx, key, out);

	return rc ? cfg_error(err, rc, key) : 0;
}

/* A list that has no default reads as empty when the file leaves it out. */
static int get_list(const struct kerf_host *h, const char *key, size_t *n,
		    const char *const **items, struct kerf_error *err)
{
	int rc = h->config_list(h->ctx, key, n, items);

	if (rc == KERF_E_NOTFOUND) {
		*n = 0;
		*items = NULL;
		return 0;
	}
	return rc ? cfg_error(err, rc, key) : 0;
}

static char **copy_list(const struct kerf_host *h, const char *const *items, size_t n)
{
	char **out = h->calloc(h->ctx, n ? n : 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = h->strdup(h->ctx, items[i]);
	return out;
}

static int read_zones(const struct kerf_host *h, struct sim_config *cfg, struct kerf_error *err)
{
	const char *const *zones;
	int rc = get_list(h, "zones", &cfg->n_zones, &zones, err);

	if (rc)
		return rc;
	if (cfg->n_zones == 0)
		return kerf_error_set(err, KERF_E_CONFIG, "sim: zones is empty: list at least one");
	for (size_t i = 0; i < cfg->n_zones; i++) {
		if (!zones[i][0])
			return kerf_error_set(err, KERF_E_CONFIG, "sim: zones[%zu] is empty", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(zones[i], zones[j]) == 0)
				return kerf_error_set(err, KERF_E_CONFIG,
						      "sim: zone \"%s\" is listed twice", zones[i]);
		if (strncmp(zones[i], cfg->region, strlen(cfg->region)) != 0)
			h->log(h->ctx, KERF_LOG_WARN, "zone %s is not in region %s", zones[i],
			       cfg->region);
	}
	cfg->zones = copy_list(h, zones, cfg->n_zones);
	return 0;
}

/* A capacity type pattern without glob characters must name one kerf knows. */
static bool capacity_pattern_ok(const char *p)
{
	return strpbrk(p, "*?[") || strcmp(p, "on-demand") == 0 || strcmp(p, "spot") == 0 ||
	       strcmp(p, "reserved") == 0;
}

/* unavailable_offerings and launch_failures share their TYPE:ZONE:CAPACITY-TYPE syntax. */
static int read_offer_patterns(const struct kerf_host *h, const char *key, size_t *n_out,
			       struct sim_offer_pattern **out, struct kerf_error *err)
{
	const char *const *items;
	size_t n;
	int rc = get_list(h, key, &n, &items, err);

	if (rc)
		return rc;
	*out = h->calloc(h->ctx, n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		const char *a = strchr(items[i], ':');
		const char *b = a ? strchr(a + 1, ':') : NULL;
		struct sim_offer_pattern *p = &(*out)[*n_out];

		if (!a || !b || strchr(b + 1, ':') || a == items[i] || b == a + 1 || !b[1])
			return kerf_error_set(
			    err, KERF_E_CONFIG,
			    "sim: %s[%zu] \"%s\": expected "
			    "TYPE:ZONE:CAPACITY-TYPE, e.g. m5.large:us-east-1a:spot",
			    key, i, items[i]);
		if (!capacity_pattern_ok(b + 1))
			return kerf_error_set(err, KERF_E_CONFIG,
					      "sim: %s[%zu] \"%s\": capacity type \"%s\" is not "
					      "on-demand, spot, reserved or a pattern",
					      key, i, items[i], b + 1);
		p->type = h->calloc(h->ctx, (size_t)(a - items[i]) + 1, 1);
		memcpy(p->type, items[i], (size_t)(a - items[i]));
		p->zone = h->calloc(h->ctx, (size_t)(b - a), 1);
		memcpy(p->zone, a + 1, (size_t)(b - a - 1));
		p->capacity_type = h->strdup(h->ctx, b + 1);
		(*n_out)++;
	}
	return 0;
}

/* A string without a default reads as NULL when the file leaves it out. */
static int get_optional_string(const struct kerf_host *h, const char *key, char **out,
			       struct kerf_error *err)
{
	const char *s;
	int rc = h->config_string(h->ctx, key, &s);

	*out = NULL;
	if (rc == KERF_E_NOTFOUND)
		return 0;
	if (rc)
		return cfg_error(err, rc, key);
	if (s[0])
		*out = h->strdup(h->ctx, s);
	return 0;
}

static int read_cluster_config(const struct kerf_host *h, struct sim_cluster_config *cfg,
			       struct kerf_error *err)
{
	const char *const *workloads;
	int rc;

	if ((rc = get_list(h, "workloads", &cfg->n_workloads, &workloads, err)) ||
	    (rc = get_optional_string(h, "scenario", &cfg->scenario, err)) ||
	    (rc = get_optional_string(h, "trace", &cfg->trace, err)) ||
	    (rc = get_int(h, "trace_time_scale", &cfg->trace_time_scale, err)) ||
	    (rc = get_duration(h, "bind_delay", &cfg->bind_delay_ms, err)) ||
	    (rc = get_duration(h, "termination_grace", &cfg->termination_grace_ms, err)))
		return rc;
	cfg->workloads = copy_list(h, workloads, cfg->n_workloads);
	return 0;
}

static int read_config(const struct kerf_host *h, struct sim_config *cfg, struct kerf_error *err)
{
	const char *const *include;
	int rc;

	if ((rc = get_string(h, "catalogue", &cfg->catalogue, err)) ||
	    (rc = get_string(h, "region", &cfg->region, err)) || (rc = read_zones(h, cfg, err)) ||
	    (rc = get_int(h, "seed", &cfg->seed, err)) ||
	    (rc = get_int(h, "spot_variation_percent", &cfg->spot_variation_percent, err)) ||
	    (rc = get_int(h, "ice_probability_percent", &cfg->ice_probability_percent, err)) ||
	    (rc = get_duration(h, "launch_delay", &cfg->launch_delay_ms, err)) ||
	    (rc = get_duration(h, "ready_delay", &cfg->ready_delay_ms, err)) ||
	    (rc = get_duration(h, "ready_spread", &cfg->ready_spread_ms, err)) ||
	    (rc = get_duration(h, "terminate_delay", &cfg->terminate_delay_ms, err)) ||
	    (rc = read_offer_patterns(h, "unavailable_offerings", &cfg->n_unavailable,
				      &cfg->unavailable, err)) ||
	    (rc = read_offer_patterns(h, "launch_failures", &cfg->n_launch_failures,
				      &cfg->launch_failures, err)) ||
	    (rc = get_list(h, "include_types", &cfg->n_include, &include, err)))
		return rc;
	cfg->include_types = copy_list(h, include, cfg->n_include);
	return 0;
}

/* ------------------------------------------------------------ lifetime */

/*
 * One instance serves both kinds, so the cluster's files are read even
 * when only the provider is used; with the defaults there are none.  They
 * are read here rather than at start() so that a bad file stops kerfd
 * (and `kerfd --check`) before anything runs.
 */
static void sim_destroy(void *inst);

static int sim_create(const struct kerf_host *h, void **out, struct kerf_error *err)
{
	struct sim_cluster_config ccfg;
	struct sim_cluster *cl = NULL;
	struct sim_config cfg;
	struct sim_world *w = NULL;
	struct sim *s;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ccfg, 0, sizeof(ccfg));
	rc = read_config(h, &cfg, err);
	if (rc == 0)
		rc = read_cluster_config(h, &ccfg, err);
	if (rc == 0)
		rc = sim_world_new(h, &cfg, &w, err);
	if (rc == 0)
		rc = sim_cluster_new(h, w, &ccfg, &cl, err);
	if (rc) {
		sim_world_free(w);
		sim_config_clear(h, &cfg);
		sim_cluster_config_clear(h, &ccfg);
		return rc;
	}
	s = h->calloc(h->ctx, 1, sizeof(*s));
	s->host = h;
	s->world = w;
	s->cluster = cl;
	pthread_mutex_init(&s->lock, NULL);
	rc = get_optional_string(h, "state_file", &s->state_file, err);
	if (rc == 0 && s->state_file)
		rc = sim_state_load(s, err);
	if (rc) {
		sim_destroy(s);
		return rc;
	}
	h->log(h->ctx, KERF_LOG_INFO,
	       "simulated cloud: %zu instance types from %s, region %s, %zu zones, seed %" PRId64,
	       w->n_types, w->cfg.catalogue, w->cfg.region, w->cfg.n_zones, w->cfg.seed);
	*out = s;
	return 0;
}

static void sim_destroy(void *inst)
{
	struct sim *s = inst;

	if (!s)
		return;
	sim_cluster_free(s->cluster);
	sim_world_free(s->world);
	pthread_mutex_destroy(&s->lock);
	s->host->free(s->host->ctx, s->state_file);
	s->host->free(s->host->ctx, s);
}

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "sim",
    .version = SIM_VERSION,
    .description = "simulated cloud with the EC2 catalogue and simulated cluster, on the host's "
		   "(virtual) clock",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_PROVIDER | KERF_KIND_CLUSTER,
    .capabilities =
	KERF_CAP_PROVIDER_SPOT | KERF_CAP_CLUSTER_EVENTS | KERF_CAP_CLUSTER_VIRTUAL_TIME |
	    KERF_CAP_CLUSTER_FINALIZERS,
    KERF_PLUGIN_SCHEMA(sim_schema),
    .create = sim_create,
    .destroy = sim_destroy,
    KERF_PLUGIN_OPS(provider, sim_provider_ops),
    KERF_PLUGIN_OPS(cluster, sim_cluster_ops),
};
