/* SPDX-License-Identifier: Apache-2.0 */
/* Has no create(), so no instance could ever be made. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-nocreate"),
	.kinds = KERF_KIND_PACKER,
	KERF_PLUGIN_OPS(packer, ops),
};
