/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ilp.c - the binpack-ilp plugin: its configuration and descriptor.  How it
 * solves is in ilp.h.
 */
#include <inttypes.h>

#include "ilp.h"

/* The host checked the value against the schema and filled in its default. */
static int config_get(const struct kerf_host *host, const char *key, kerf_config_type type,
		      int64_t *v, struct kerf_error *err)
{
	int rc = type == KERF_CFG_DURATION ? host->config_duration(host->ctx, key, v)
					   : host->config_int(host->ctx, key, v);

	if (rc == 0)
		return 0;
	return kerf_error_set(err, KERF_E_CONFIG, "binpack-ilp: %s could not be read (error %d)",
			      key, rc);
}

static int ilp_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	struct ilp *ip;
	int64_t max_types, budget, gap, work;
	int rc;

	if ((rc = config_get(host, "max_instance_types", KERF_CFG_INT, &max_types, err)) ||
	    (rc = config_get(host, "time_budget", KERF_CFG_DURATION, &budget, err)) ||
	    (rc = config_get(host, "relative_gap_bps", KERF_CFG_INT, &gap, err)) ||
	    (rc = config_get(host, "work_limit", KERF_CFG_INT, &work, err)))
		return rc;
	ip = host->calloc(host->ctx, 1, sizeof(*ip));
	ip->host = host;
	ip->max_types = (size_t)max_types;
	ip->budget_ms = budget;
	ip->work_limit = work;
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
    /* GLPK takes its time limit as an int of milliseconds. */
    {.key = "time_budget",
     .type = KERF_CFG_DURATION,
     .default_value = "1s",
     KERF_CFG_RANGE(1, INT32_MAX),
     .description = "real time per solve when the core gives no budget of its own: the work "
		    "limit's default is sized to half of it on an idle core, and real time stops "
		    "a solve only at the whole of it"},
    {.key = "relative_gap_bps",
     .type = KERF_CFG_INT,
     .default_value = "100",
     KERF_CFG_RANGE(0, 10000),
     .description = "stop once the plan is within this many basis points (1/100 %) of the "
		    "lower bound"},
    {.key = "max_instance_types",
     .type = KERF_CFG_INT,
     .default_value = "60",
     KERF_CFG_MIN(1),
     .description = "most instance types offered to the launcher per new node (Karpenter's "
		    "MaxInstanceTypes)"},
    {.key = "work_limit",
     .type = KERF_CFG_INT,
     .default_value = "0",
     KERF_CFG_RANGE(0, INT64_MAX / 8),
     .description = "units of counted work per solve, which decide the plan whatever the "
		    "machine's load; 0: the work an idle core does in half the time budget"},
    {.key = NULL},
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
    KERF_PLUGIN_SCHEMA(ilp_schema),
    .create = ilp_create,
    .destroy = ilp_destroy,
    KERF_PLUGIN_OPS(packer, ilp_ops),
};
