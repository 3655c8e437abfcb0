/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - kerf.yaml: the core schema and per-plugin sections.
 *
 * Every key is documented in docs/config.md and kerf.yaml(5).  Validation
 * errors are KERF_E_CONFIG with "file:line:column: dotted.key: message";
 * YAML syntax errors are KERF_E_PARSE, unreadable files KERF_E_IO.
 */
#ifndef KERF_CORE_CFG_H
#define KERF_CORE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/plugin.h>

#include "yamltree.h"

/* Defaults of the settings section (Karpenter's where it has one). */
#define CFG_DEFAULT_PACKER "binpack-ffd"
#define CFG_DEFAULT_BATCH_IDLE_MS 1000
#define CFG_DEFAULT_BATCH_MAX_MS 10000
/* Plugin calls (launches, writes, lists) running at once on the workers. */
#define CFG_DEFAULT_LAUNCH_PARALLELISM 32
/* settings.max_nodepools: Karpenter clusters have tens; scheduling time grows with them. */
#define CFG_DEFAULT_MAX_NODEPOOLS 1000
#define CFG_MAX_LAUNCH_PARALLELISM 1024
#define CFG_DEFAULT_METRICS_ADDRESS ":8080"
#define CFG_DEFAULT_HEALTH_ADDRESS ":8081"

/* ------------------------------------------------------ plugin sections */

/* One plugin's validated section with defaults filled. */
struct cfg_section;

/*
 * Copies a plugin's schema (entries of key_size bytes each, as the plugin
 * compiled them, up to the one whose key is NULL) into *out: host-sized
 * entries with the fields the plugin's headers lacked zeroed, ended by a
 * NULL key; free() it.  *out is NULL for a NULL schema.  Then checks it as
 * cfg_section_build does, so a bad default or a field its type does not
 * take fails here: KERF_E_INVALID with "plugin "<name>": config schema:
 * key "<key>": ...".
 */
int cfg_schema_copy(const char *plugin, const struct kerf_config_key *schema, size_t key_size,
		    struct kerf_config_key **out, struct kerf_error *err);

/*
 * Validates `node` (the map under plugins.<name>; NULL or a null scalar when
 * the file has no section) against `schema` (host-sized entries, as
 * cfg_schema_copy makes them; NULL: the plugin takes no keys), fills in
 * defaults and registers secret values with the log redaction.  Paths are
 * left as written (cfg_plugin_section resolves them).  Errors:
 * KERF_E_CONFIG for the section ("file:line:column: plugins.<name>.<key>:
 * ..."; a missing required key of an absent section has no position),
 * KERF_E_INVALID for a schema the plugin declared wrongly (as
 * cfg_schema_copy).
 */
int cfg_section_build(const struct yt_node *node, const char *plugin_name,
		      const struct kerf_config_key *schema, struct cfg_section **out,
		      struct kerf_error *err);
void cfg_section_free(struct cfg_section *s);

/*
 * Same semantics as the host getters in kerf/host.h: 0, KERF_E_NOTFOUND
 * when the key has no value and no default, KERF_E_INVALID when the key is
 * not declared with that type.  Strings and lists are borrowed from s; a
 * list is never NULL (also when empty) and is NULL-terminated.
 */
int cfg_section_string(const struct cfg_section *s, const char *key, const char **out);
int cfg_section_int(const struct cfg_section *s, const char *key, int64_t *out);
int cfg_section_bool(const struct cfg_section *s, const char *key, bool *out);
int cfg_section_duration(const struct cfg_section *s, const char *key, int64_t *out_ms);
int cfg_section_quantity(const struct cfg_section *s, const char *key, int64_t *out);
int cfg_section_list(const struct cfg_section *s, const char *key, size_t *n,
		     const char *const **out);

/* ------------------------------------------------------------ kerf.yaml */

struct cfg_nodepool {
	char *name;
	char *packer;		    /* "name" or "a=50,b=50"; NULL when not set */
	char *packer_shadow;	    /* one packer name; NULL when not set */
	/* consolidation: karpenter (prefix search) rather than packing (the default) */
	bool consolidation_karpenter;
	const struct yt_node *node; /* the map under nodepools.<name>, for messages */
};

struct cfg {
	char *path;	  /* as given (the name, for cfg_load_string) */
	char *dir;	  /* directory relative paths are resolved against */
	char *plugin_dir; /* resolved; NULL when not set */
	char *cluster;
	char *provider;
	size_t n_packers;
	char **packers;
	char *default_packer;
	size_t n_manifests;
	char **manifests; /* resolved paths */
	int64_t batch_idle_ms, batch_max_ms;
	int64_t launch_parallelism;
	int64_t max_pods_per_workload; /* kerfctl simulate's limits (kerf/workload.h) */
	int64_t max_pods;
	int64_t max_nodepools; /* of the manifests (mf_set.max_nodepools) */
	int log_level; /* kerf_log_level */
	int log_json;
	char *metrics_address; /* "" disables */
	char *health_address;  /* "" disables */
	int virtual_clock;
	int64_t virtual_start_ms; /* settings.virtual_start: the virtual wall clock's start; 0: now */
	char *decision_log; /* resolved; "" = off */
	size_t n_nodepools;
	struct cfg_nodepool *nodepools;
	struct yt_stream *yaml; /* kept so plugin sections can be validated later */
};

/* Parses and validates the core schema; *out is set only on success. */
int cfg_load_file(const char *path, struct cfg **out, struct kerf_error *err);
/*
 * The same for text in memory.  `name` (NULL: "kerf.yaml") is what messages
 * call it, and relative paths are resolved against its directory.
 */
int cfg_load_string(const char *name, const char *text, struct cfg **out, struct kerf_error *err);
void cfg_free(struct cfg *c);

/* The map under plugins.<name>, or NULL when absent or null. */
const struct yt_node *cfg_plugin_node(const struct cfg *c, const char *plugin_name);

/*
 * cfg_section_build for plugins.<name> of c, with a missing required key of
 * an absent section positioned at the top of the file, and relative paths
 * (path keys, from the file or the default) resolved against c->dir, as
 * the core's own paths are.
 */
int cfg_plugin_section(const struct cfg *c, const char *plugin_name,
		       const struct kerf_config_key *schema, struct cfg_section **out,
		       struct kerf_error *err);

/* The nodepools.<name> entry, or NULL. */
const struct cfg_nodepool *cfg_nodepool_find(const struct cfg *c, const char *name);

/*
 * One entry of a packer selection: "binpack-ilp" is one entry of weight
 * 100; "a=50,b=50" splits by relative weight.  The same syntax serves
 * nodepools.<name>.packer and the kerf.dev/packer NodePool annotation.
 */
struct cfg_packer_weight {
	char *name;
	unsigned weight; /* 1..CFG_PACKER_WEIGHT_MAX */
};

#define CFG_PACKER_WEIGHT_MAX 10000

/*
 * Parses a packer selection into a new array (free with
 * cfg_packer_weights_free).  Names must be plugin names and must not repeat;
 * weights are decimal 1..CFG_PACKER_WEIGHT_MAX.  Returns 0 or KERF_E_PARSE
 * with a message that quotes the text.
 */
int cfg_packer_spec_parse(const char *text, size_t *n_out, struct cfg_packer_weight **out,
			  struct kerf_error *err);
void cfg_packer_weights_free(size_t n, struct cfg_packer_weight *w);

/* True for a valid plugin name: [a-z0-9-]+. */
bool cfg_plugin_name_valid(const char *name);

/* "error", "warn", ... to a kerf_log_level; -1 when unknown. */
int cfg_log_level_parse(const char *name);
/* The name of a kerf_log_level; "unknown" when out of range. */
const char *cfg_log_level_name(int level);

#endif
