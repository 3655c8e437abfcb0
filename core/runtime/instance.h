/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance.h - one plugin instance, made the same way by kerfd, kerfctl
 * and the benchmarks: its config section validated against the plugin's
 * schema (defaults filled in), its host table, then the plugin's create().
 */
#ifndef KERF_CORE_INSTANCE_H
#define KERF_CORE_INSTANCE_H

#include <stdbool.h>

#include <kerf/error.h>

#include "loader.h"

struct cfg;
struct cfg_section;
struct host_clock;
struct http_client;
struct http_options;
struct yt_node;
struct mf_set;

/* Zero-initialised is "not created"; the caller sets plugin before instance_create. */
struct plugin_instance {
	const struct loader_plugin *plugin;
	struct cfg_section *section;
	struct kerf_host *host;
	struct http_client *http; /* the instance's own; NULL without network */
	void *state;		  /* from the plugin's create() */
};

/*
 * Where an instance's config, clock and network come from; zero-initialised
 * is every default and no network.  With network, each instance gets an
 * HTTP client of its own, so one plugin's watches never wait for another's
 * connections; the process must have called http_global_init.
 */
struct instance_env {
	const struct cfg *cfg;	      /* kerf.yaml: the section is its plugins.<plugin name> */
	const struct yt_node *config; /* without cfg, the section itself; neither: defaults */
	struct host_clock *clock;     /* NULL: the real clock */
	bool network;		      /* false: HTTP calls fail, for runs kept off the network */
	const struct http_options *http_options; /* the instance's client; NULL: defaults */
	const struct mf_set *manifests; /* node class kinds for decode_object; NULL: none */
};

/*
 * Creates the instance of in->plugin known as `name` ("provider/sim", its
 * log component).  Errors are those of cfg_plugin_section or
 * cfg_section_build for the section, of http_client_new for the client
 * and of loader_create for create() (KERF_E_PLUGIN_CREATE); on failure
 * everything built is released again and *in keeps only its plugin.
 */
int instance_create(struct plugin_instance *in, const char *name, const struct instance_env *env,
		    struct kerf_error *err);

/*
 * Destroys the plugin's state (whose destroy() joins the plugin's threads),
 * then the host table, the HTTP client and the section; *in keeps its
 * plugin.
 */
void instance_destroy(struct plugin_instance *in);

#endif
