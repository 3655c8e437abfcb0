/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Karpenter manifests (NodePool, NodeClaim, lists) as kerfctl validate loads them. */
#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_set set;
	struct mf_diags diags = {0, NULL};
	struct kerf_error err = KERF_ERROR_INIT;

	mf_set_init(&set);
	(void)mf_load_string(&set, "fuzz.yaml", (const char *)data, size, &diags, &err);
	mf_diags_clear(&diags);
	mf_set_clear(&set);
	return 0;
}
