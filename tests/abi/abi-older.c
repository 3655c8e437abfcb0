/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cluster plugin whose ops table ends after acquire_lease, as the table
 * of a plugin built against a minor without the later ops would.  The
 * optional emit_event is set in the table here on purpose, without
 * KERF_CAP_CLUSTER_EVENTS: the loader must go by the declared size and
 * still see it as NULL (or it would reject the op without its bit), which
 * proves it never reads past what a plugin declared.
 */
#include "abi_ops.h"

static const struct kerf_cluster_ops ops = {ABI_CLUSTER_OPS, .acquire_lease = tp_acquire_lease,
					    .emit_event = tp_emit_event};

KERF_PLUGIN_DEFINE = {
	.magic = KERF_PLUGIN_MAGIC,
	.abi_major = KERF_ABI_MAJOR,
	.abi_minor = 0,
	.size = sizeof(struct kerf_plugin_descriptor),
	ABI_STRINGS("abi-older"),
	.kinds = KERF_KIND_CLUSTER,
	.capabilities = KERF_CAP_CLUSTER_LEASE,
	.create = tp_create,
	.destroy = tp_destroy,
	.cluster = &ops,
	.cluster_ops_size = KERF_OPS_END(struct kerf_cluster_ops, acquire_lease),
};
