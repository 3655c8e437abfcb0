/* SPDX-License-Identifier: Apache-2.0 */
/* Declares a valid name that is not its file name. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-other"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
