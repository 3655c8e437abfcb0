/* SPDX-License-Identifier: Apache-2.0 */
/* The descriptor symbol exists but its magic is not kerf's. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	.magic = 0x12345678u,
	.abi_major = KERF_ABI_MAJOR,
	.abi_minor = KERF_ABI_MINOR,
	.size = sizeof(struct kerf_plugin_descriptor),
	ABI_STRINGS("abi-magic"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
