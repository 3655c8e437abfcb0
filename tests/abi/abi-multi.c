/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A correct plugin offering two kinds: provider and cluster, with the
 * optional acquire_lease and emit_event and the bits that go with them.
 */
#include "abi_ops.h"

static const struct kerf_provider_ops provider_ops = {ABI_PROVIDER_OPS};
static const struct kerf_cluster_ops cluster_ops = {
	ABI_CLUSTER_OPS, .acquire_lease = tp_acquire_lease, .emit_event = tp_emit_event};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-multi"),
	.kinds = KERF_KIND_PROVIDER | KERF_KIND_CLUSTER,
	.capabilities = KERF_CAP_CLUSTER_LEASE | KERF_CAP_CLUSTER_EVENTS,
	.create = tp_create,
	.destroy = tp_destroy,
	KERF_PLUGIN_OPS(provider, provider_ops),
	KERF_PLUGIN_OPS(cluster, cluster_ops),
};
