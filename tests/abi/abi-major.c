/* SPDX-License-Identifier: Apache-2.0 */
/* Claims the next ABI major: must be rejected before anything past the header is read. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	.magic = KERF_PLUGIN_MAGIC,
	.abi_major = KERF_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct kerf_plugin_descriptor),
	ABI_STRINGS("abi-major"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
