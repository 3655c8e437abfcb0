/* SPDX-License-Identifier: Apache-2.0 */
/* A packer whose config schema has a default outside its own range. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

static const struct kerf_config_key schema[] = {
	ABI_SCHEMA_KEYS,
	{.key = "workers", .type = KERF_CFG_INT, .default_value = "0", KERF_CFG_MIN(1)},
	{.key = NULL},
};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-schema"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_SCHEMA(schema),
	KERF_PLUGIN_OPS(packer, ops),
};
