/* SPDX-License-Identifier: Apache-2.0 */
/* Passes every check, then fails in create() the way a provider without credentials would. */
#include "abi_ops.h"

static int failing_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	if (err) {
		err->retryable = 1;
		err->http_status = 403;
		snprintf(err->provider_code, sizeof(err->provider_code), "%s", "AuthFailure");
	}
	return kerf_error_set(err, KERF_E_AUTH, "no credentials found in %s", "/nonexistent");
}

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-createfail"),
	.kinds = KERF_KIND_PACKER,
	.create = failing_create,
	KERF_PLUGIN_OPS(packer, ops),
};
