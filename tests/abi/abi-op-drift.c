/* SPDX-License-Identifier: Apache-2.0 */
/* Implements is_drifted without declaring KERF_CAP_PROVIDER_DRIFT. */
#include "abi_ops.h"

static const struct kerf_provider_ops ops = {ABI_PROVIDER_OPS, .is_drifted = tp_is_drifted};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-op-drift"),
	.kinds = KERF_KIND_PROVIDER,
	.capabilities = KERF_CAP_PROVIDER_SPOT,
	.create = tp_create,
	KERF_PLUGIN_OPS(provider, ops),
};
