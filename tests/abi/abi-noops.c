/* SPDX-License-Identifier: Apache-2.0 */
/* Offers packer without a packer ops table. */
#include "abi_ops.h"

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-noops"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
};
