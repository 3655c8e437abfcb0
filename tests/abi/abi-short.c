/* SPDX-License-Identifier: Apache-2.0 */
/* Declares a descriptor past the header but shorter than the ABI 2.0 one. */
#include "abi_ops.h"

KERF_PLUGIN_DEFINE = {
	.magic = KERF_PLUGIN_MAGIC,
	.abi_major = KERF_ABI_MAJOR,
	.abi_minor = KERF_ABI_MINOR,
	.size = 24,
	ABI_STRINGS("abi-short"),
};
