/* SPDX-License-Identifier: Apache-2.0 */
/* Declares a provider ops table shorter than the ABI 2.0 one. */
#include "abi_ops.h"

static const struct kerf_provider_ops ops = {ABI_PROVIDER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-shortops"),
	.kinds = KERF_KIND_PROVIDER,
	.create = tp_create,
	.provider = &ops,
	.provider_ops_size = 16,
};
