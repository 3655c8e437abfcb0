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
 * the descriptor, the host table, an ops table, struct kerf_error or an
 * object of the model (kerf/types.h), and the host never reads past the
 * sizes the plugin declared.
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
 *        libkerf constructors, struct kerf_error's size.
 */
#define KERF_ABI_MINOR 0

/* "kerf" in ASCII; catches a shared object that is not a kerf plugin. */
#define KERF_PLUGIN_MAGIC 0x6b657266u

#define KERF_PLUGIN_SYMBOL "kerf_plugin_descriptor"

/* Kinds a plugin may offer; one descriptor may offer several (bit OR). */
#define KERF_KIND_PROVIDER (1u << 0)
#define KERF_KIND_CLUSTER (1u << 1)
#define KERF_KIND_PACKER (1u << 2)

/*
 * One key of the plugin's config section.  The schema is an array ended by
 * an entry whose key is NULL.  The host rejects unknown keys, wrong types
 * and missing required keys with file:line:column before create() runs,
 * and fills in defaults.  default_value is text in the key's own syntax
 * ("30s", "true", "2Gi"; items separated by commas for lists), or NULL.
 */
struct kerf_config_key {
	const char *key;
	kerf_config_type type;
	const char *default_value;
	bool required;
	const char *description;
};

struct kerf_plugin_descriptor {
	/* Frozen for every major: these never move. */
	uint32_t magic;     /* KERF_PLUGIN_MAGIC */
	uint16_t abi_major; /* KERF_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor; /* KERF_ABI_MINOR the plugin was built against */
	uint32_t size;      /* sizeof(struct kerf_plugin_descriptor) as the plugin saw it */

	/* 2.0 */
	const char *name;        /* [a-z0-9-]+, unique among loaded plugins */
	const char *version;     /* the plugin's own version */
	const char *description; /* one line */
	const char *license;     /* SPDX identifier */
	uint32_t kinds;          /* KERF_KIND_* bits */
	uint64_t capabilities;   /* KERF_CAP_* bits */
	const struct kerf_config_key *config_schema; /* NULL: takes no config */

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
 *           KERF_PLUGIN_OPS(provider, acme_ops),
 *   };
 */
#define KERF_PLUGIN_HEADER                                                                         \
	.magic = KERF_PLUGIN_MAGIC, .abi_major = KERF_ABI_MAJOR, .abi_minor = KERF_ABI_MINOR,      \
	.size = sizeof(struct kerf_plugin_descriptor)

#define KERF_PLUGIN_OPS(kind, table) .kind = &(table), .kind##_ops_size = sizeof(table)

#define KERF_PLUGIN_DEFINE                                                                         \
	__attribute__((visibility("default"))) const struct kerf_plugin_descriptor                 \
		kerf_plugin_descriptor

/* Offset just past `field` of an ops table, for checking a table's declared size. */
#define KERF_OPS_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

#ifdef __cplusplus
}
#endif
#endif
