/* SPDX-License-Identifier: Apache-2.0 */
/* Built against a newer minor than this kerf: it may use host services kerf lacks. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	.magic = KERF_PLUGIN_MAGIC,
	.abi_major = KERF_ABI_MAJOR,
	.abi_minor = KERF_ABI_MINOR + 1,
	.size = sizeof(struct kerf_plugin_descriptor),
	ABI_STRINGS("abi-minor"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
