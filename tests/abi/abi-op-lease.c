/* SPDX-License-Identifier: Apache-2.0 */
/* Implements acquire_lease without declaring KERF_CAP_CLUSTER_LEASE. */
#include "abi_ops.h"

static const struct kerf_cluster_ops ops = {ABI_CLUSTER_OPS, .acquire_lease = tp_acquire_lease};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-op-lease"),
	.kinds = KERF_KIND_CLUSTER,
	.create = tp_create,
	KERF_PLUGIN_OPS(cluster, ops),
};
