/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin_config.h - a loaded plugin's config section made from YAML text
 * the way kerfd makes it from kerf.yaml, for the tests' fake host tables:
 * the plugin sees its schema's defaults and checks, not the test's guesses.
 */
#ifndef KERF_TEST_PLUGIN_CONFIG_H
#define KERF_TEST_PLUGIN_CONFIG_H

#include <kerf/error.h>

#include "cfg.h"
#include "loader.h"

/*
 * Checks `yaml` (what kerf.yaml would hold under plugins.<name>; NULL: no
 * section, so every default) against p's schema.  Returns 0 with *out set
 * (free with cfg_section_free), or cfg_section_build's code with err
 * filled; positions are given in "kerf.yaml".
 */
int tc_plugin_section(const struct loader_plugin *p, const char *yaml, struct cfg_section **out,
		      struct kerf_error *err);

#endif
