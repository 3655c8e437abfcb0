/* SPDX-License-Identifier: Apache-2.0 */
/* A correct packer plugin, with a config schema. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

static const struct kerf_config_key schema[] = {ABI_SCHEMA_KEYS, {.key = NULL}};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-good"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	.destroy = tp_destroy,
	KERF_PLUGIN_SCHEMA(schema),
	KERF_PLUGIN_OPS(packer, ops),
};
