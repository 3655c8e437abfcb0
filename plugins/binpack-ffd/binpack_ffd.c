/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binpack_ffd.c - the binpack-ffd plugin: the first-fit-decreasing solver of
 * ffd.c behind the packer ops.
 */
#include <stdint.h>

#include <kerf/plugin.h>

#include "ffd.h"

struct ffd {
	const struct kerf_host *host;
	size_t max_types;
};

static int ffd_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
		     struct kerf_pack_plan **out, struct kerf_error *err)
{
	struct ffd *f = inst;

	/* One greedy pass is far inside any budget, hence no KERF_CAP_PACKER_TIME_BUDGET. */
	(void)budget_ms;
	if (!f)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ffd: no instance or output");
	return ffd_pack(f->host, f->max_types, problem, out, err);
}

static int ffd_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	struct ffd *f;
	int64_t max_types;
	/* The host checked the value against the schema and filled in its default. */
	int rc = host->config_int(host->ctx, "max_instance_types", &max_types);

	if (rc)
		return kerf_error_set(
		    err, KERF_E_CONFIG,
		    "binpack-ffd: max_instance_types could not be read (error %d)", rc);
	f = host->calloc(host->ctx, 1, sizeof(*f));
	f->host = host;
	f->max_types = (size_t)max_types;
	*out = f;
	return 0;
}

static void ffd_destroy(void *inst)
{
	struct ffd *f = inst;

	if (f)
		f->host->free(f->host->ctx, f);
}

static const struct kerf_config_key ffd_schema[] = {
    {.key = "max_instance_types",
     .type = KERF_CFG_INT,
     .default_value = "60",
     KERF_CFG_MIN(1),
     .description = "most instance types offered to the launcher per new node (Karpenter's "
		    "MaxInstanceTypes)"},
    {.key = NULL},
};

static const struct kerf_packer_ops ffd_ops = {
    .solve = ffd_solve,
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "binpack-ffd",
    .version = FFD_VERSION,
    .description = "first-fit-decreasing packer over heterogeneous instance types",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_PACKER,
    .capabilities = 0,
    KERF_PLUGIN_SCHEMA(ffd_schema),
    .create = ffd_create,
    .destroy = ffd_destroy,
    KERF_PLUGIN_OPS(packer, ffd_ops),
};
