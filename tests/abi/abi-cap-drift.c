/* SPDX-License-Identifier: Apache-2.0 */
/* Declares KERF_CAP_PROVIDER_DRIFT without is_drifted. */
#include "abi_ops.h"

static const struct kerf_provider_ops ops = {ABI_PROVIDER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-cap-drift"),
	.kinds = KERF_KIND_PROVIDER,
	.capabilities = KERF_CAP_PROVIDER_SPOT | KERF_CAP_PROVIDER_DRIFT,
	.create = tp_create,
	KERF_PLUGIN_OPS(provider, ops),
};
