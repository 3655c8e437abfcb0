/*
 * ilp.c - the binpack-ilp plugin: its configuration and descriptor.  How it
 * solves is in ilp.h.
 */
#include <inttypes.h>

#include "ilp.h"

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
