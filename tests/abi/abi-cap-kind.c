/* SPDX-License-Identifier: Apache-2.0 */
/* A packer declaring a provider capability. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-cap-kind"),
	.kinds = KERF_KIND_PACKER,
	.capabilities = KERF_CAP_PROVIDER_SPOT,
	.create = tp_create,
	KERF_PLUGIN_OPS(packer, ops),
};
