/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/plugin.h - the plugin descriptor, ABI version and config schema.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `kerf_plugin_descriptor`, a const struct kerf_plugin_descriptor.  The
 * host reads the descriptor, checks it (magic, ABI, size, required fields
 * and ops) before running any plugin code, then calls create() once per
 * configured instance.  The full contract is docs/plugin-abi.md.
 *
 * Versioning: the major must equal the host's; the plugin's minor must not
 * be newer than the host's.  A minor bump only appends fields to the end of
 * the descriptor, the host table, an ops table, a config schema entry,
 * struct kerf_error or an object of the model (kerf/types.h), and the host
 * never reads past the sizes the plugin declared.
 */
#ifndef KERF_PLUGIN_H
#define KERF_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/host.h>
#include <kerf/provider.h>
#include <kerf/cluster.h>
#include <kerf/packer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KERF_ABI_MAJOR 2
/*
 * ABI history (append-only):
 *   1.0  descriptor, host table, provider/cluster/packer ops.
 *   1.1  cluster ops gained emit_event.
 *   1.2  cluster object kind KERF_OBJ_DAEMONSET.
 *   2.0  the evolvable model: values and objects, lists of pointers,
 *        libkerf constructors, struct kerf_error's size; config schemas
 *        (ranges, values, secret, path; config_key_size); provider op
 *        `delete` renamed delete_instance; provider-neutral node classes
 *        (a document, kerf/doc.h; node_class_kinds, validate_node_class,
 *        well_known_labels, restricted_label_domains, class_selectors;
 *        kerf_instance_type.classes); capability checks at load.
 *   2.1  cluster capability KERF_CAP_CLUSTER_FINALIZERS (kerf/cluster.h);
 *        packing problem: a pool's minValues (kerf_pack_pool.min_values);
 *        plans report their work and hit_time_limit (kerf/packer.h);
 *        workload limits (kerf/workload.h).
 */
#define KERF_ABI_MINOR 1

/* "kerf" in ASCII; catches a shared object that is not a kerf plugin. */
#define KERF_PLUGIN_MAGIC 0x6b657266u

#define KERF_PLUGIN_SYMBOL "kerf_plugin_descriptor"

/* Kinds a plugin may offer; one descriptor may offer several (bit OR). */
#define KERF_KIND_PROVIDER (1u << 0)
#define KERF_KIND_CLUSTER (1u << 1)
#define KERF_KIND_PACKER (1u << 2)

/*
 * One key of the plugin's config section (ABI 2.0).  The host checks the
 * section against these entries before create() runs and reports every
 * mistake as "kerf.yaml:LINE:COLUMN: plugins.<name>.<key>: ...": unknown
 * keys (with a did-you-mean), wrong types, missing required keys, values
 * outside [min, max] and strings outside `values`.  It fills in defaults,
 * resolves paths and registers secrets, so a plugin reads its config
 * through the host getters and checks none of it again.
 *
 * The host also checks the entries themselves when it loads the plugin: a
 * default that does not parse, or that breaks the key's own range or
 * values, and a field that does not apply to the key's type, reject the
 * plugin (KERF_E_PLUGIN_SCHEMA) with a message naming the plugin and key.
 *
 * Entries are read with the size the descriptor declares
 * (config_key_size), so a later minor may append fields here.  The host
 * copies the entries but borrows their strings and `values` for as long as
 * the plugin is loaded: keep the whole schema in static storage.
 */
struct kerf_config_key {
	/* The key as written under plugins.<name>.  NULL ends the schema. */
	const char *key;
	kerf_config_type type;
	/*
	 * Text in the key's own syntax ("30s", "true", "2Gi"; items separated
	 * by commas for lists), parsed and checked by the host exactly like a
	 * value from the file; NULL: none, so the getter returns
	 * KERF_E_NOTFOUND when the file leaves the key out.
	 */
	const char *default_value;
	/* The file must give the key a value. */
	bool required;
	/* One line for documentation and messages. */
	const char *description;
	/*
	 * KERF_CFG_STRING without path, values or a default (a default is in
	 * the plugin's binary for anyone to read): the host registers the
	 * value with the log redaction (as register_secret does), and no
	 * message of the host ever quotes it.
	 */
	bool secret;
	/*
	 * KERF_CFG_STRING or KERF_CFG_STRING_LIST: a file path.  The host
	 * resolves a relative path (and a relative default) against the
	 * directory of kerf.yaml, as it does the core's own paths; the getter
	 * returns the resolved path.  "" stays "".
	 */
	bool path;
	/*
	 * KERF_CFG_INT, KERF_CFG_DURATION or KERF_CFG_QUANTITY: the smallest
	 * and largest accepted value, each checked only when its has_ flag is
	 * set.  In the getter's units: the integer itself, milliseconds for a
	 * duration, whole units for a quantity ("2Gi" is 2147483648).  Write
	 * them with KERF_CFG_MIN, KERF_CFG_MAX or KERF_CFG_RANGE.
	 */
	bool has_min;
	bool has_max;
	int64_t min;
	int64_t max;
	/*
	 * KERF_CFG_STRING or KERF_CFG_STRING_LIST: the accepted values (every
	 * item of a list), NULL-terminated and not empty; NULL: any string.
	 * The host names the closest one in its message.  Write it with
	 * KERF_CFG_VALUES.
	 */
	const char *const *values;
};

/*
 * Designated-initializer pieces for a struct kerf_config_key (C only).
 * KERF_CFG_VALUES makes a compound literal, static only at file scope, so
 * use it in a schema defined outside any function.
 */
#define KERF_CFG_MIN(lo) .has_min = true, .min = (lo)
#define KERF_CFG_MAX(hi) .has_max = true, .max = (hi)
#define KERF_CFG_RANGE(lo, hi) KERF_CFG_MIN(lo), KERF_CFG_MAX(hi)
/* clang-format off */
#define KERF_CFG_VALUES(...) .values = (const char *const[]){__VA_ARGS__, NULL}
/* clang-format on */

struct kerf_plugin_descriptor {
	/* Frozen for every major: these never move. */
	uint32_t magic;     /* KERF_PLUGIN_MAGIC */
	uint16_t abi_major; /* KERF_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor; /* KERF_ABI_MINOR the plugin was built against */
	uint32_t size;      /* sizeof(struct kerf_plugin_descriptor) as the plugin saw it */

	/* 2.0 */
	const char *name;	 /* [a-z0-9-]+, unique among loaded plugins */
	const char *version;	 /* the plugin's own version */
	const char *description; /* one line */
	const char *license;     /* SPDX identifier */
	uint32_t kinds;          /* KERF_KIND_* bits */
	uint64_t capabilities;   /* KERF_CAP_* bits */
	/*
	 * The config schema: entries of config_key_size bytes each, ended by
	 * an entry whose key is NULL; NULL: the plugin takes no config.  Set
	 * both with KERF_PLUGIN_SCHEMA.  ABI 2.0.
	 */
	const struct kerf_config_key *config_schema;
	uint32_t config_key_size; /* sizeof(struct kerf_config_key) as the plugin saw it */

	/*
	 * Creates one instance.  `host` stays valid until destroy().  On
	 * failure returns a negative code with err filled in, and *out is
	 * left alone.  May block (for example to read credentials).
	 */
	int (*create)(const struct kerf_host *host, void **out, struct kerf_error *err);
	/* Frees everything the instance owns; NULL allowed. */
	void (*destroy)(void *instance);

	const struct kerf_provider_ops *provider; /* when kinds has KERF_KIND_PROVIDER */
	uint32_t provider_ops_size;               /* sizeof the table as the plugin saw it */
	const struct kerf_cluster_ops *cluster;
	uint32_t cluster_ops_size;
	const struct kerf_packer_ops *packer;
	uint32_t packer_ops_size;
};

/*
 * Stamps the frozen header with the ABI of the headers being compiled.
 * Use as the first line of the descriptor's initializer:
 *
 *   KERF_PLUGIN_DEFINE = {
 *           KERF_PLUGIN_HEADER,
 *           .name = "acme", ...
 *           KERF_PLUGIN_SCHEMA(acme_schema),
 *           KERF_PLUGIN_OPS(provider, acme_ops),
 *   };
 */
#define KERF_PLUGIN_HEADER                                                                         \
	.magic = KERF_PLUGIN_MAGIC, .abi_major = KERF_ABI_MAJOR, .abi_minor = KERF_ABI_MINOR,      \
	.size = sizeof(struct kerf_plugin_descriptor)

#define KERF_PLUGIN_OPS(kind, table) .kind = &(table), .kind##_ops_size = sizeof(table)

/* The schema array `table` and the size of its entries.  ABI 2.0. */
#define KERF_PLUGIN_SCHEMA(table) .config_schema = (table), .config_key_size = sizeof((table)[0])

#define KERF_PLUGIN_DEFINE                                                                         \
	__attribute__((visibility("default"))) const struct kerf_plugin_descriptor                 \
		kerf_plugin_descriptor

/* Offset just past `field` of an ops table, for checking a table's declared size. */
#define KERF_OPS_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

#ifdef __cplusplus
}
#endif
#endif
