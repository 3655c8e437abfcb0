/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls a function no library provides.  Linked without -z defs so the
 * shared object exists; with RTLD_NOW the loader must refuse it at load
 * time instead of crashing on the first call.
 */
#include "abi_ops.h"

int abi_missing_function(void);

static int create_calls_missing(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	*out = NULL;
	return abi_missing_function();
}

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-unresolved"),
	.kinds = KERF_KIND_PACKER,
	.create = create_calls_missing,
	KERF_PLUGIN_OPS(packer, ops),
};
