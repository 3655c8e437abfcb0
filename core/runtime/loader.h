/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.h - finding, opening and checking plugins.
 *
 * A plugin NAME lives in a file NAME.so.  Directories are searched in this
 * order: plugin_dir from kerf.yaml, each entry of KERF_PLUGIN_PATH
 * (colon-separated), then the installed plugin directory.  When the running
 * executable sits in kerf's own build tree, the build tree's plugin
 * directories come last, so kerfd and kerfctl work without installing.
 *
 * Nothing but the descriptor is read until create() is called; every
 * rejection has its own KERF_E_PLUGIN_* code and a one-line message naming
 * the file and what to do.
 */
#ifndef KERF_CORE_LOADER_H
#define KERF_CORE_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <kerf/plugin.h>

/*
 * A loaded, checked plugin.  `desc` is a host-sized copy of the plugin's
 * descriptor and the ops are host-sized copies of its tables: fields the
 * plugin's (older) headers did not have are zero, so callers test an op for
 * NULL and never read past what the plugin declared.  `schema` is the same
 * for desc.config_schema (cfg_schema_copy), already checked: pass it, not
 * desc.config_schema, to cfg_plugin_section.
 */
struct loader_plugin {
	char *path;
	void *handle; /* from dlopen(RTLD_NOW | RTLD_LOCAL); see loader.c for why not libltdl */
	struct kerf_plugin_descriptor desc;
	struct kerf_provider_ops provider;
	struct kerf_cluster_ops cluster;
	struct kerf_packer_ops packer;
	struct kerf_config_key *schema; /* NULL: the plugin takes no config */
};

struct loader;

/*
 * True when the running executable lies under kerf's build tree: kerfd and
 * kerfctl then also find the build's plugins and the source tree's data
 * files (host.h), so they work without installing.
 */
bool loader_in_build_tree(void);

/*
 * plugin_dir may be NULL; one that is given must be a directory
 * (KERF_E_CONFIG, "plugin_dir DIR: REASON", otherwise).  Reads
 * KERF_PLUGIN_PATH once, here.
 */
int loader_new(const char *plugin_dir, struct loader **out, struct kerf_error *err);
/*
 * A loader searching exactly `dirs`, in order, and nothing else (no
 * environment, no installed or build-tree directory): for tests and for
 * listing one directory.
 */
int loader_new_dirs(const char *const *dirs, size_t n, struct loader **out, struct kerf_error *err);
void loader_free(struct loader *l); /* closes every plugin; NULL allowed */

/* The directories searched, in order. */
size_t loader_dirs(const struct loader *l, const char *const **out);

/*
 * Finds plugin `name`, opens it and checks it offers every kind in `kinds`
 * (KERF_KIND_* bits) with its required ops, a well-formed config schema
 * (KERF_E_PLUGIN_SCHEMA otherwise), and capability bits that belong to
 * kinds it offers and agree with the optional ops it sets
 * (KERF_E_PLUGIN_CAPABILITY otherwise).  Opening the same name twice
 * returns the same plugin.  Two different files declaring the same name
 * are KERF_E_PLUGIN_DUPLICATE.
 */
int loader_open(struct loader *l, const char *name, uint32_t kinds,
		const struct loader_plugin **out, struct kerf_error *err);

/* Opens and checks one file as loader_open does, without a kind requirement. */
int loader_open_file(struct loader *l, const char *path, const struct loader_plugin **out,
		     struct kerf_error *err);

/* What loader_scan reports for each *.so found in the search path. */
struct loader_entry {
	const char *path;
	/*
	 * NULL when no descriptor could be read.  On a rejection only what was
	 * read before it is set: just the frozen header for another major,
	 * and strings may be NULL.
	 */
	const struct kerf_plugin_descriptor *desc;
	int rc;                       /* 0 when it would load */
	const struct kerf_error *err; /* the rejection, when rc != 0 */
};

/*
 * Calls fn for every *.so in every search directory, in search order and
 * sorted by file name within a directory, with the verdict loader_open
 * would give (a file hidden by one of the same name in an earlier
 * directory is KERF_E_PLUGIN_DUPLICATE).  Never calls create(); the entry
 * and everything it points to are valid only during fn.  Plugins not
 * already opened are closed again.  A directory that cannot be listed
 * (other than a missing one) does not stop the scan: the first such
 * failure is returned at the end (KERF_E_IO).
 */
int loader_scan(struct loader *l, void (*fn)(void *arg, const struct loader_entry *e), void *arg,
		struct kerf_error *err);

/*
 * Calls the plugin's create() for one instance.  A failure is returned as
 * KERF_E_PLUGIN_CREATE with `plugin "NAME": create failed: <the plugin's
 * message>`, keeping the plugin's retryable, http_status and provider_code.
 * *out_instance is set only on success.
 */
int loader_create(const struct loader_plugin *p, const struct kerf_host *host, void **out_instance,
		  struct kerf_error *err);
/* Calls the plugin's destroy(), when it has one.  Destroy every instance before loader_free. */
void loader_destroy(const struct loader_plugin *p, void *instance);

/*
 * For kerf's own plugins (sim, binpack-ffd, binpack-ilp, ec2, kube) left
 * out of this build: "it was not built: re-run ./configure with
 * --enable-NAME (...)".  NULL for any other name or a plugin that was built.
 * The not-found message of loader_open appends it.
 */
const char *loader_not_built_hint(const char *name);

#endif
