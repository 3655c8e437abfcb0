/* SPDX-License-Identifier: Apache-2.0 */
/* Declares KERF_CAP_CLUSTER_EVENTS without emit_event. */
#include "abi_ops.h"

static const struct kerf_cluster_ops ops = {ABI_CLUSTER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-cap-events"),
	.kinds = KERF_KIND_CLUSTER,
	.capabilities = KERF_CAP_CLUSTER_EVENTS,
	.create = tp_create,
	KERF_PLUGIN_OPS(cluster, ops),
};
