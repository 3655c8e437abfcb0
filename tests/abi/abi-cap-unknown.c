/* SPDX-License-Identifier: Apache-2.0 */
/* Declares a capability bit this kerf does not know, next to a valid one. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-cap-unknown"),
	.kinds = KERF_KIND_PACKER,
	.capabilities = KERF_CAP_PACKER_OPTIMAL | (1ull << 40),
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
