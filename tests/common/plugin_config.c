/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin_config.c - plugin sections from YAML text (plugin_config.h).
 */
#include <string.h>

#include "plugin_config.h"
#include "yamltree.h"

int tc_plugin_section(const struct loader_plugin *p, const char *yaml, struct cfg_section **out,
		      struct kerf_error *err)
{
	struct yt_stream *ys = NULL;
	int rc;

	if (!yaml)
		return cfg_section_build(NULL, p->desc.name, p->schema, out, err);
	rc = yt_parse_string("kerf.yaml", yaml, strlen(yaml), &ys, err);
	if (rc == 0)
		rc = cfg_section_build(ys->n ? ys->docs[0].root : NULL, p->desc.name, p->schema,
				       out, err);
	yt_stream_free(ys);
	return rc;
}
