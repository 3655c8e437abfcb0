/* SPDX-License-Identifier: Apache-2.0 */
/* Implements emit_event without declaring KERF_CAP_CLUSTER_EVENTS. */
#include "abi_ops.h"

static const struct kerf_cluster_ops ops = {ABI_CLUSTER_OPS, .emit_event = tp_emit_event};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-op-events"),
	.kinds = KERF_KIND_CLUSTER,
	.create = tp_create,
	KERF_PLUGIN_OPS(cluster, ops),
};
