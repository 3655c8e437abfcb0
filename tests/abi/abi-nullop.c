/* SPDX-License-Identifier: Apache-2.0 */
/* A provider whose required get and list ops are NULL. */
#include "abi_ops.h"

static const struct kerf_provider_ops ops = {
	.get_instance_types = tp_get_instance_types,
	.create = tp_provider_create,
	.delete_instance = tp_provider_delete,
};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-nullop"),
	.kinds = KERF_KIND_PROVIDER,
	.create = tp_create,
	KERF_PLUGIN_OPS(provider, ops),
};
