/* SPDX-License-Identifier: Apache-2.0 */
/* A packer that sets config_schema but not config_key_size (no KERF_PLUGIN_SCHEMA). */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

static const struct kerf_config_key schema[] = {ABI_SCHEMA_KEYS, {.key = NULL}};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-schemasize"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	.config_schema = schema,
	KERF_PLUGIN_OPS(packer, ops),
};
