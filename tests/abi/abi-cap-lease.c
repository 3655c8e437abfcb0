/* SPDX-License-Identifier: Apache-2.0 */
/* Declares KERF_CAP_CLUSTER_LEASE without acquire_lease. */
#include "abi_ops.h"

static const struct kerf_cluster_ops ops = {ABI_CLUSTER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-cap-lease"),
	.kinds = KERF_KIND_CLUSTER,
	.capabilities = KERF_CAP_CLUSTER_LEASE,
	.create = tp_create,
	KERF_PLUGIN_OPS(cluster, ops),
};
