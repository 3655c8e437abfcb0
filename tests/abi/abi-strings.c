/* SPDX-License-Identifier: Apache-2.0 */
/* Leaves out two of the required strings. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	.name = "abi-strings",
	.description = "loader test plugin",
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
