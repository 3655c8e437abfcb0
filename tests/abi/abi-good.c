/* A correct packer plugin. */
#include "abi_ops.h"

static const struct kerf_packer_ops ops = {ABI_PACKER_OPS};

KERF_PLUGIN_DEFINE = {
	KERF_PLUGIN_HEADER,
	ABI_STRINGS("abi-good"),
	.kinds = KERF_KIND_PACKER,
	.create = tp_create,
	.destroy = tp_destroy,
	KERF_PLUGIN_OPS(packer, ops),
};
