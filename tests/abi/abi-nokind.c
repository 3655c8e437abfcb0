/* SPDX-License-Identifier: Apache-2.0 */
/* Offers no kind at all. */
#include "abi_ops.h"

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-nokind"),
	.create = tp_create,
};
