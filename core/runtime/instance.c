/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance.c - one plugin instance: section, host table, create().
 */
#include "instance.h"

#include <stddef.h>

#include "cfg.h"
#include "host.h"
#include "http.h"

int instance_create(struct plugin_instance *in, const char *name, const struct instance_env *env,
		    struct kerf_error *err)
{
	const struct kerf_plugin_descriptor *d = &in->plugin->desc;
	int rc;

	if (env->cfg)
		rc = cfg_plugin_section(env->cfg, d->name, in->plugin->schema, &in->section, err);
	else
		rc = cfg_section_build(env->config, d->name, in->plugin->schema, &in->section, err);
	if (rc == 0 && env->network)
		rc = http_client_new(env->http_options, &in->http, err);
	if (rc == 0) {
		in->host = host_new(name, in->section, env->clock, in->http);
		host_set_manifests(in->host, env->manifests);
		rc = loader_create(in->plugin, in->host, &in->state, err);
	}
	if (rc != 0)
		instance_destroy(in);
	return rc;
}

void instance_destroy(struct plugin_instance *in)
{
	if (in->state)
		loader_destroy(in->plugin, in->state);
	host_free(in->host);
	http_client_free(in->http);
	cfg_section_free(in->section);
	in->state = NULL;
	in->host = NULL;
	in->http = NULL;
	in->section = NULL;
}
