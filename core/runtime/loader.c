/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.c - finding, opening and checking plugins.
 *
 * Plugins are opened with dlopen(RTLD_NOW | RTLD_LOCAL) directly rather
 * than through libltdl: libltdl's dlopen backend always asks for RTLD_LAZY
 * when the platform has it, and lt_dladvise offers no "bind now" advice, so
 * a plugin calling a function that no library provides would load fine and
 * then kill the daemon in the middle of a reconcile loop the first time
 * that call runs.  RTLD_NOW makes that a start-up error with the dynamic
 * linker's own text.  RTLD_LOCAL keeps one plugin's symbols from satisfying
 * another's, so every plugin must link what it uses.
 *
 * Only the descriptor and the ops tables are read before create(): they
 * are copied into host-sized, zeroed structs, never further than the sizes
 * the plugin declared, so an older plugin's missing trailing fields read
 * as zero (NULL op: unsupported).
 */
/* core/config.h (kerf.yaml) shadows the autoconf header, so name it by path. */
#include <config.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "loader.h"
#include "util.h"

/* magic, abi_major, abi_minor and size: the part every major keeps. */
#define LOADER_HEADER_SIZE KERF_OPS_END(struct kerf_plugin_descriptor, size)
/* The descriptor of the major's first minor; a plugin of this major declares at least this. */
#define LOADER_DESC_MIN_SIZE KERF_OPS_END(struct kerf_plugin_descriptor, packer_ops_size)

#define LOADER_KNOWN_KINDS (KERF_KIND_PROVIDER | KERF_KIND_CLUSTER | KERF_KIND_PACKER)

/* A plugin kept open by the loader; the file identity finds re-opens of the same file. */
struct loader_slot {
	struct loader_plugin p;
	dev_t dev;
	ino_t ino;
};

struct loader {
	char **dirs;
	size_t n_dirs;
	size_t cap_dirs;
	struct loader_slot **slots;
	size_t n_slots;
	size_t cap_slots;
};

/* --------------------------------------------------------------- helpers */

static char *path_join(const char *dir, const char *name)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, dir);
	if (sb.len > 0 && sb.buf[sb.len - 1] != '/')
		sb_puts(&sb, "/");
	sb_puts(&sb, name);
	return sb_detach(&sb);
}

/* The file name without directory and without a trailing ".so". */
static char *file_stem(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	return xstrndup(base, n);
}

static bool name_valid(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *c = name; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	}
	return true;
}

static const char *kind_name(uint32_t bit)
{
	switch (bit) {
	case KERF_KIND_PROVIDER:
		return "provider";
	case KERF_KIND_CLUSTER:
		return "cluster";
	case KERF_KIND_PACKER:
		return "packer";
	}
	return "unknown";
}

/* "provider", "provider and cluster", "provider, cluster and packer". */
static void kinds_text(struct strbuf *sb, uint32_t kinds)
{
	static const uint32_t order[] = {KERF_KIND_PROVIDER, KERF_KIND_CLUSTER, KERF_KIND_PACKER};
	size_t total = 0, done = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		total += (kinds & order[i]) != 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(kinds & order[i]))
			continue;
		if (done > 0)
			sb_puts(sb, done + 1 == total ? " and " : ", ");
		sb_puts(sb, kind_name(order[i]));
		done++;
	}
}

static void add_dir(struct loader *l, const char *dir)
{
	if (!dir || !*dir)
		return;
	/* The same directory twice would list its files twice in a scan. */
	for (size_t i = 0; i < l->n_dirs; i++) {
		if (strcmp(l->dirs[i], dir) == 0)
			return;
	}
	xgrow(l->dirs, l->cap_dirs, l->n_dirs + 1);
	l->dirs[l->n_dirs++] = xstrdup(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Entries of `dir` accepted by `want`, sorted, so the order never depends
 * on the file system.  Returns 0 with *n_out 0 when dir does not exist.
 */
static int list_dir(const char *dir, bool (*want)(const char *name), char ***out, size_t *n_out,
		    struct kerf_error *err)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kerf_error_set(err, KERF_E_IO, "%s: cannot list plugins: %s", dir,
				      strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!want(de->d_name))
			continue;
		xgrow(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*n_out = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool want_so(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static bool want_subdir(const char *name)
{
	return name[0] != '.';
}

/*
 * The parent of KERF_BUILD_PLUGINDIR.  An installed kerfd must never pick
 * up plugins from a build tree that happens to still exist on the machine.
 */
bool loader_in_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';

	char *top = xstrdup(KERF_BUILD_PLUGINDIR);
	char *slash = strrchr(top, '/');
	if (!slash || slash == top) {
		free(top);
		return false;
	}
	*slash = '\0';
	/* /proc/self/exe is fully resolved, so compare against the resolved tree. */
	char *real = realpath(top, NULL);
	free(top);
	if (!real)
		return false;
	size_t len = strlen(real);
	bool under = strncmp(exe, real, len) == 0 && exe[len] == '/';
	free(real);
	return under;
}

static void add_build_dirs(struct loader *l)
{
	char **subs;
	size_t n;
	if (list_dir(KERF_BUILD_PLUGINDIR, want_subdir, &subs, &n, NULL) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char *sub = path_join(KERF_BUILD_PLUGINDIR, subs[i]);
		char *libs = path_join(sub, ".libs");
		struct stat st;
		if (stat(libs, &st) == 0 && S_ISDIR(st.st_mode))
			add_dir(l, libs);
		free(libs);
		free(sub);
	}
	free_names(subs, n);
}

/* ---------------------------------------------------------- not-built hint */

struct builtin_plugin {
	const char *name;
	bool built;
	const char *needs; /* NULL: no dependency beyond kerf's own */
};

/* BUILD_PLUGIN_<NAME> comes from configure (config.h) for each plugin it enabled. */
#ifdef BUILD_PLUGIN_SIM
#define LOADER_BUILT_SIM true
#else
#define LOADER_BUILT_SIM false
#endif
#ifdef BUILD_PLUGIN_BINPACK_FFD
#define LOADER_BUILT_BINPACK_FFD true
#else
#define LOADER_BUILT_BINPACK_FFD false
#endif
#ifdef BUILD_PLUGIN_BINPACK_ILP
#define LOADER_BUILT_BINPACK_ILP true
#else
#define LOADER_BUILT_BINPACK_ILP false
#endif
#ifdef BUILD_PLUGIN_EC2
#define LOADER_BUILT_EC2 true
#else
#define LOADER_BUILT_EC2 false
#endif
#ifdef BUILD_PLUGIN_KUBE
#define LOADER_BUILT_KUBE true
#else
#define LOADER_BUILT_KUBE false
#endif

static const struct builtin_plugin builtin_plugins[] = {
    {"sim", LOADER_BUILT_SIM, NULL},
    {"binpack-ffd", LOADER_BUILT_BINPACK_FFD, NULL},
    {"binpack-ilp", LOADER_BUILT_BINPACK_ILP, "needs GLPK, Debian: libglpk-dev"},
    {"ec2", LOADER_BUILT_EC2, "needs libcrypto and libxml2, Debian: libssl-dev libxml2-dev"},
    {"kube", LOADER_BUILT_KUBE, NULL},
};

/* Formats the hint into buf; returns buf, or NULL when there is nothing to say. */
static const char *not_built_hint(const char *name, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(builtin_plugins) / sizeof(builtin_plugins[0]); i++) {
		const struct builtin_plugin *b = &builtin_plugins[i];
		if (strcmp(b->name, name) != 0)
			continue;
		if (b->built)
			return NULL;
		if (b->needs)
			snprintf(buf, size,
				 "it was not built: re-run ./configure with --enable-%s (%s)",
				 b->name, b->needs);
		else
			snprintf(buf, size, "it was not built: re-run ./configure with --enable-%s",
				 b->name);
		return buf;
	}
	return NULL;
}

const char *loader_not_built_hint(const char *name)
{
	/* One buffer per name: the table is fixed, so the strings live forever. */
	static char hints[sizeof(builtin_plugins) / sizeof(builtin_plugins[0])][160];
	for (size_t i = 0; i < sizeof(builtin_plugins) / sizeof(builtin_plugins[0]); i++) {
		if (strcmp(builtin_plugins[i].name, name) == 0)
			return not_built_hint(name, hints[i], sizeof(hints[i]));
	}
	return NULL;
}

/* ------------------------------------------------------------------ checks */

struct loader_op {
	const char *name;
	size_t offset;
};

/* clang-format off */
#define LOADER_OP(type, field) {#field, offsetof(type, field)}
/* clang-format on */

static const struct loader_op provider_required[] = {
    LOADER_OP(struct kerf_provider_ops, get_instance_types),
    LOADER_OP(struct kerf_provider_ops, create),
    LOADER_OP(struct kerf_provider_ops, delete_instance),
    LOADER_OP(struct kerf_provider_ops, get),
    LOADER_OP(struct kerf_provider_ops, list),
};

static const struct loader_op cluster_required[] = {
    LOADER_OP(struct kerf_cluster_ops, start),
    LOADER_OP(struct kerf_cluster_ops, poll),
    LOADER_OP(struct kerf_cluster_ops, create_nodeclaim),
    LOADER_OP(struct kerf_cluster_ops, update_nodeclaim),
    LOADER_OP(struct kerf_cluster_ops, delete_nodeclaim),
    LOADER_OP(struct kerf_cluster_ops, update_node),
    LOADER_OP(struct kerf_cluster_ops, delete_node),
    LOADER_OP(struct kerf_cluster_ops, evict_pod),
};

static const struct loader_op packer_required[] = {
    LOADER_OP(struct kerf_packer_ops, solve),
};

/*
 * Every capability bit: the kind that may declare it and, when the bit
 * promises an optional op, that op.  The host decides from the bits alone
 * (kerfd emits Events only to a cluster declaring KERF_CAP_CLUSTER_EVENTS),
 * so a bit and its op must never disagree.
 */
struct loader_cap {
	uint64_t bit;
	const char *name;
	uint32_t kind;
	const char *op; /* NULL: the bit promises no op */
	size_t offset;	/* of op in the kind's ops table */
};

/* clang-format off */
#define LOADER_CAP(bit, kind) {bit, #bit, kind, NULL, 0}
#define LOADER_CAP_OP(bit, kind, type, field) {bit, #bit, kind, #field, offsetof(type, field)}
/* clang-format on */

static const struct loader_cap caps[] = {
    LOADER_CAP(KERF_CAP_PROVIDER_SPOT, KERF_KIND_PROVIDER),
    LOADER_CAP(KERF_CAP_PROVIDER_RESERVED, KERF_KIND_PROVIDER),
    LOADER_CAP_OP(KERF_CAP_PROVIDER_DRIFT, KERF_KIND_PROVIDER, struct kerf_provider_ops,
		  is_drifted),
    LOADER_CAP_OP(KERF_CAP_CLUSTER_LEASE, KERF_KIND_CLUSTER, struct kerf_cluster_ops,
		  acquire_lease),
    LOADER_CAP_OP(KERF_CAP_CLUSTER_EVENTS, KERF_KIND_CLUSTER, struct kerf_cluster_ops, emit_event),
    LOADER_CAP(KERF_CAP_CLUSTER_VIRTUAL_TIME, KERF_KIND_CLUSTER),
    LOADER_CAP(KERF_CAP_CLUSTER_FINALIZERS, KERF_KIND_CLUSTER),
    LOADER_CAP(KERF_CAP_PACKER_OPTIMAL, KERF_KIND_PACKER),
    LOADER_CAP(KERF_CAP_PACKER_TIME_BUDGET, KERF_KIND_PACKER),
};

/*
 * Copies one ops table into the host's copy `dst` (host_size bytes, zeroed)
 * and checks it: present, at least the table of the major's first minor, required ops set.
 */
static int check_ops(const char *path, const char *stem, uint32_t kind, const void *table,
		     uint32_t declared, void *dst, size_t host_size, size_t min_size,
		     const struct loader_op *req, size_t n_req, struct kerf_error *err)
{
	const char *kn = kind_name(kind);
	if (!table)
		return kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
				      "%s: plugin \"%s\": offers %s but has no %s ops table "
				      "(set it with KERF_PLUGIN_OPS(%s, ...))",
				      path, stem, kn, kn, kn);
	if (declared < min_size)
		return kerf_error_set(
		    err, KERF_E_PLUGIN_INCOMPLETE,
		    "%s: plugin \"%s\": %s ops table is %u bytes, ABI %d.0 needs at "
		    "least %zu; rebuild the plugin against kerf's headers",
		    path, stem, kn, declared, KERF_ABI_MAJOR, min_size);
	memcpy(dst, table, declared < host_size ? declared : host_size);

	struct strbuf missing;
	size_t n_missing = 0;
	sb_init(&missing);
	for (size_t i = 0; i < n_req; i++) {
		void (*fn)(void);
		memcpy(&fn, (const char *)dst + req[i].offset, sizeof(fn));
		if (fn)
			continue;
		if (n_missing++ > 0)
			sb_puts(&missing, ", ");
		sb_puts(&missing, req[i].name);
	}
	int rc = 0;
	if (n_missing > 0)
		rc = kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
				    "%s: plugin \"%s\": required %s %s %s %s NULL; implement %s",
				    path, stem, kn, n_missing == 1 ? "op" : "ops", missing.buf,
				    n_missing == 1 ? "is" : "are", n_missing == 1 ? "it" : "them");
	sb_free(&missing);
	return rc;
}

/* The host's copy of the ops table of one kind. */
static const void *host_ops(const struct loader_plugin *p, uint32_t kind)
{
	switch (kind) {
	case KERF_KIND_PROVIDER:
		return &p->provider;
	case KERF_KIND_CLUSTER:
		return &p->cluster;
	}
	return &p->packer;
}

/*
 * The capability bits against the kinds offered and the optional ops set.
 * Runs on the host's copies, so an op past the plugin's declared table
 * size counts as NULL here as it does everywhere else.
 */
static int check_caps(const struct loader_plugin *p, const char *stem, struct kerf_error *err)
{
	const char *path = p->path;
	uint64_t declared = p->desc.capabilities, known = 0;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		known |= caps[i].bit;
	if (declared & ~known)
		return kerf_error_set(err, KERF_E_PLUGIN_CAPABILITY,
				      "%s: plugin \"%s\": descriptor has unknown capability bits "
				      "0x%" PRIx64
				      "; use only the KERF_CAP_* bits of kerf's headers",
				      path, stem, declared & ~known);

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const struct loader_cap *c = &caps[i];
		bool has_bit = (declared & c->bit) != 0;
		if (has_bit && !(p->desc.kinds & c->kind))
			return kerf_error_set(
			    err, KERF_E_PLUGIN_CAPABILITY,
			    "%s: plugin \"%s\": declares %s but does not offer %s; "
			    "drop the bit or offer the kind",
			    path, stem, c->name, kind_name(c->kind));
		if (!c->op || !(p->desc.kinds & c->kind))
			continue;
		void (*fn)(void);
		memcpy(&fn, (const char *)host_ops(p, c->kind) + c->offset, sizeof(fn));
		if (has_bit && !fn)
			return kerf_error_set(err, KERF_E_PLUGIN_CAPABILITY,
					      "%s: plugin \"%s\": declares %s but its %s op %s is "
					      "NULL; implement it or drop the bit",
					      path, stem, c->name, kind_name(c->kind), c->op);
		if (!has_bit && fn)
			return kerf_error_set(
			    err, KERF_E_PLUGIN_CAPABILITY,
			    "%s: plugin \"%s\": sets the optional %s op %s but does "
			    "not declare %s; add the bit or leave the op NULL",
			    path, stem, kind_name(c->kind), c->op, c->name);
	}
	return 0;
}

/*
 * Everything but the kind and duplicate checks, on an open handle.  On
 * return p->desc holds what could be read: only the frozen header when the
 * major differs (the rest of another major's layout means nothing here),
 * and *have_desc says whether even that was readable.
 */
static int check_descriptor(struct loader_plugin *p, const char *stem, bool *have_desc,
			    struct kerf_error *err)
{
	const char *path = p->path;
	*have_desc = false;

	dlerror();
	const struct kerf_plugin_descriptor *d = dlsym(p->handle, KERF_PLUGIN_SYMBOL);
	if (!d)
		return kerf_error_set(err, KERF_E_PLUGIN_NO_DESCRIPTOR,
				      "%s: not a kerf plugin: it does not export %s "
				      "(define it with KERF_PLUGIN_DEFINE from <kerf/plugin.h>)",
				      path, KERF_PLUGIN_SYMBOL);

	if (d->magic != KERF_PLUGIN_MAGIC)
		return kerf_error_set(err, KERF_E_PLUGIN_BAD_MAGIC,
				      "%s: not a kerf plugin: descriptor magic is 0x%08x, expected "
				      "0x%08x (start the descriptor with KERF_PLUGIN_HEADER)",
				      path, (unsigned)d->magic, (unsigned)KERF_PLUGIN_MAGIC);
	if (d->size < LOADER_HEADER_SIZE)
		return kerf_error_set(
		    err, KERF_E_PLUGIN_BAD_MAGIC,
		    "%s: not a kerf plugin: descriptor size %u is smaller than its "
		    "%zu-byte header (start the descriptor with KERF_PLUGIN_HEADER)",
		    path, (unsigned)d->size, (size_t)LOADER_HEADER_SIZE);

	memset(&p->desc, 0, sizeof(p->desc));
	memcpy(&p->desc, d, LOADER_HEADER_SIZE);
	*have_desc = true;

	/*
	 * `stem` rather than the declared name: the name's place is only
	 * known once the major matches, and the two must agree anyway.
	 */
	if (d->abi_major != KERF_ABI_MAJOR)
		return kerf_error_set(err, KERF_E_PLUGIN_ABI_MAJOR,
				      "%s: plugin \"%s\" was built for plugin ABI %u.%u, this kerf "
				      "supports %d.0 to %d.%d; rebuild the plugin against kerf's "
				      "headers",
				      path, stem, (unsigned)d->abi_major, (unsigned)d->abi_minor,
				      KERF_ABI_MAJOR, KERF_ABI_MAJOR, KERF_ABI_MINOR);
	if (d->abi_minor > KERF_ABI_MINOR)
		return kerf_error_set(err, KERF_E_PLUGIN_ABI_MINOR,
				      "%s: plugin \"%s\" was built for plugin ABI %u.%u, this kerf "
				      "supports %d.0 to %d.%d; upgrade kerf or rebuild the plugin "
				      "against kerf's headers",
				      path, stem, (unsigned)d->abi_major, (unsigned)d->abi_minor,
				      KERF_ABI_MAJOR, KERF_ABI_MAJOR, KERF_ABI_MINOR);
	if (d->size < LOADER_DESC_MIN_SIZE)
		return kerf_error_set(
		    err, KERF_E_PLUGIN_BAD_MAGIC,
		    "%s: plugin \"%s\": descriptor size %u is smaller than the %zu "
		    "bytes of ABI %d.0; rebuild the plugin against kerf's headers",
		    path, stem, (unsigned)d->size, (size_t)LOADER_DESC_MIN_SIZE, KERF_ABI_MAJOR);

	/* Never past what the plugin declared, never past what the host knows. */
	memcpy(&p->desc, d, d->size < sizeof(p->desc) ? d->size : sizeof(p->desc));
	const struct kerf_plugin_descriptor *c = &p->desc;

	struct strbuf missing;
	size_t n_missing = 0;
	sb_init(&missing);
	const char *const fields[] = {"name", "version", "description", "license"};
	const char *const values[] = {c->name, c->version, c->description, c->license};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (values[i] && *values[i])
			continue;
		if (n_missing++ > 0)
			sb_puts(&missing, ", ");
		sb_puts(&missing, fields[i]);
	}
	if (n_missing > 0) {
		int rc = kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
					"%s: plugin \"%s\": descriptor has no %s; name, version, "
					"description and license are required",
					path, stem, missing.buf);
		sb_free(&missing);
		return rc;
	}
	sb_free(&missing);

	if (!name_valid(c->name))
		return kerf_error_set(
		    err, KERF_E_PLUGIN_INCOMPLETE,
		    "%s: plugin name \"%s\" is not valid: use only a-z, 0-9 and '-'", path,
		    c->name);
	if (strcmp(c->name, stem) != 0)
		return kerf_error_set(
		    err, KERF_E_PLUGIN_INCOMPLETE,
		    "%s: plugin declares the name \"%s\"; rename the file to %s.so "
		    "or fix the name",
		    path, c->name, c->name);
	if (!c->create)
		return kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
				      "%s: plugin \"%s\": descriptor has no create function", path,
				      stem);
	if (c->kinds == 0)
		return kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
				      "%s: plugin \"%s\": descriptor offers no kind; set .kinds to "
				      "KERF_KIND_* bits",
				      path, stem);
	if (c->kinds & ~(uint32_t)LOADER_KNOWN_KINDS)
		return kerf_error_set(
		    err, KERF_E_PLUGIN_INCOMPLETE,
		    "%s: plugin \"%s\": descriptor has unknown kind bits 0x%x; this "
		    "kerf knows provider, cluster and packer",
		    path, stem, (unsigned)(c->kinds & ~(uint32_t)LOADER_KNOWN_KINDS));

	int rc;
	if (c->kinds & KERF_KIND_PROVIDER) {
		rc =
		    check_ops(path, stem, KERF_KIND_PROVIDER, c->provider, c->provider_ops_size,
			      &p->provider, sizeof(p->provider),
			      KERF_OPS_END(struct kerf_provider_ops, is_drifted), provider_required,
			      sizeof(provider_required) / sizeof(provider_required[0]), err);
		if (rc != 0)
			return rc;
	}
	if (c->kinds & KERF_KIND_CLUSTER) {
		rc = check_ops(
		    path, stem, KERF_KIND_CLUSTER, c->cluster, c->cluster_ops_size, &p->cluster,
		    sizeof(p->cluster), KERF_OPS_END(struct kerf_cluster_ops, acquire_lease),
		    cluster_required, sizeof(cluster_required) / sizeof(cluster_required[0]), err);
		if (rc != 0)
			return rc;
	}
	if (c->kinds & KERF_KIND_PACKER) {
		rc = check_ops(path, stem, KERF_KIND_PACKER, c->packer, c->packer_ops_size,
			       &p->packer, sizeof(p->packer),
			       KERF_OPS_END(struct kerf_packer_ops, solve), packer_required,
			       sizeof(packer_required) / sizeof(packer_required[0]), err);
		if (rc != 0)
			return rc;
	}
	if ((rc = check_caps(p, stem, err)) != 0)
		return rc;

	struct kerf_error serr;
	kerf_error_clear(&serr);
	if (cfg_schema_copy(stem, c->config_schema, c->config_key_size, &p->schema, &serr) != 0)
		return kerf_error_set(err, KERF_E_PLUGIN_SCHEMA, "%s: %s", path, serr.message);
	return 0;
}

/*
 * Opens `path` (already stat()ed as a regular file) into p and checks it.
 * On failure p->handle may still be open so a scan can show what was read;
 * probe_close() releases it either way.
 */
static int probe_open(const char *path, struct loader_plugin *p, bool *have_desc,
		      struct kerf_error *err)
{
	memset(p, 0, sizeof(*p));
	p->path = xstrdup(path);
	*have_desc = false;

	dlerror();
	p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->handle) {
		const char *why = dlerror();
		return kerf_error_set(err, KERF_E_PLUGIN_DLOPEN,
				      "%s: cannot load: %s (check its dependencies with ldd)", path,
				      why ? why : "unknown dynamic linker error");
	}
	char *stem = file_stem(path);
	int rc = check_descriptor(p, stem, have_desc, err);
	free(stem);
	return rc;
}

static void probe_close(struct loader_plugin *p)
{
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	free(p->schema);
	memset(p, 0, sizeof(*p));
}

/*
 * Keeps an accepted plugin mapped until the process exits, even after
 * loader_free(): libraries a plugin links may have registered exit
 * handlers or thread-key destructors that point into it, and sanitizer
 * leak reports can only name functions of objects still mapped.  Rejected
 * files are still unloaded for real.
 */
static void pin_mapping(const char *path)
{
#ifdef RTLD_NODELETE
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
	if (h)
		dlclose(h);
#else
	(void)path;
#endif
}

/* stat() with the loader's verdicts for missing and non-regular files. */
static int stat_plugin(const char *path, struct stat *st, struct kerf_error *err)
{
	if (stat(path, st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return kerf_error_set(err, KERF_E_PLUGIN_NOTFOUND,
					      "%s: no such file; check the plugin's path", path);
		return kerf_error_set(err, KERF_E_PLUGIN_DLOPEN,
				      "%s: cannot load: %s (check the file's permissions)", path,
				      strerror(errno));
	}
	if (!S_ISREG(st->st_mode))
		return kerf_error_set(err, KERF_E_PLUGIN_DLOPEN,
				      "%s: cannot load: not a regular file (replace it with the "
				      "plugin's shared object)",
				      path);
	return 0;
}

static struct loader_slot *slot_by_file(const struct loader *l, const struct stat *st)
{
	for (size_t i = 0; i < l->n_slots; i++) {
		if (l->slots[i]->dev == st->st_dev && l->slots[i]->ino == st->st_ino)
			return l->slots[i];
	}
	return NULL;
}

static struct loader_slot *slot_by_name(const struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->n_slots; i++) {
		if (strcmp(l->slots[i]->p.desc.name, name) == 0)
			return l->slots[i];
	}
	return NULL;
}

static int check_kinds(const struct loader_plugin *p, uint32_t kinds, struct kerf_error *err)
{
	uint32_t missing = kinds & ~p->desc.kinds;
	if (missing == 0)
		return 0;
	struct strbuf offers, wanted;
	sb_init(&offers);
	sb_init(&wanted);
	kinds_text(&offers, p->desc.kinds);
	kinds_text(&wanted, missing);
	int rc = kerf_error_set(err, KERF_E_PLUGIN_KIND, "plugin \"%s\" (%s) offers %s, not %s",
				p->desc.name, p->path, offers.buf, wanted.buf);
	sb_free(&offers);
	sb_free(&wanted);
	return rc;
}

/* loader_open and loader_open_file once the file is chosen. */
static int open_path(struct loader *l, const char *path, uint32_t kinds,
		     const struct loader_plugin **out, struct kerf_error *err)
{
	if (kinds & ~(uint32_t)LOADER_KNOWN_KINDS)
		return kerf_error_set(err, KERF_E_INVALID, "unknown plugin kind bits 0x%x",
				      (unsigned)(kinds & ~(uint32_t)LOADER_KNOWN_KINDS));
	struct stat st;
	int rc = stat_plugin(path, &st, err);
	if (rc != 0)
		return rc;

	/* Same file (by identity, so a symlink or another spelling counts too). */
	struct loader_slot *have = slot_by_file(l, &st);
	if (have) {
		rc = check_kinds(&have->p, kinds, err);
		if (rc == 0)
			*out = &have->p;
		return rc;
	}

	struct loader_slot *s = xcalloc(1, sizeof(*s));
	bool have_desc;
	rc = probe_open(path, &s->p, &have_desc, err);
	if (rc == 0)
		rc = check_kinds(&s->p, kinds, err);
	if (rc == 0) {
		struct loader_slot *other = slot_by_name(l, s->p.desc.name);
		if (other)
			rc = kerf_error_set(
			    err, KERF_E_PLUGIN_DUPLICATE,
			    "%s: plugin \"%s\" is already loaded from %s; remove one "
			    "of the two files",
			    path, s->p.desc.name, other->p.path);
	}
	if (rc != 0) {
		probe_close(&s->p);
		free(s);
		return rc;
	}
	pin_mapping(path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	xgrow(l->slots, l->cap_slots, l->n_slots + 1);
	l->slots[l->n_slots++] = s;
	*out = &s->p;
	return 0;
}

/* -------------------------------------------------------------------- API */

int loader_new(const char *plugin_dir, struct loader **out, struct kerf_error *err)
{
	struct stat st;

	*out = NULL;
	/* A directory the user named and kerf cannot search is a mistake worth hearing of. */
	if (plugin_dir && stat(plugin_dir, &st) != 0)
		return kerf_error_set(err, KERF_E_CONFIG, "plugin_dir %s: %s", plugin_dir,
				      strerror(errno));
	if (plugin_dir && !S_ISDIR(st.st_mode))
		return kerf_error_set(err, KERF_E_CONFIG, "plugin_dir %s: not a directory",
				      plugin_dir);
	struct loader *l = xcalloc(1, sizeof(*l));
	add_dir(l, plugin_dir);

	const char *env = getenv("KERF_PLUGIN_PATH");
	if (env) {
		const char *p = env;
		for (;;) {
			const char *colon = strchr(p, ':');
			size_t n = colon ? (size_t)(colon - p) : strlen(p);
			/* Empty entries ("a::b", a trailing ':') mean nothing, not ".". */
			if (n > 0) {
				char *dir = xstrndup(p, n);
				add_dir(l, dir);
				free(dir);
			}
			if (!colon)
				break;
			p = colon + 1;
		}
	}

	add_dir(l, KERF_PLUGINDIR);
	if (loader_in_build_tree())
		add_build_dirs(l);

	*out = l;
	kerf_error_clear(err);
	return 0;
}

int loader_new_dirs(const char *const *dirs, size_t n, struct loader **out, struct kerf_error *err)
{
	struct loader *l = xcalloc(1, sizeof(*l));
	for (size_t i = 0; i < n; i++)
		add_dir(l, dirs[i]);
	*out = l;
	kerf_error_clear(err);
	return 0;
}

void loader_free(struct loader *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_slots; i++) {
		probe_close(&l->slots[i]->p);
		free(l->slots[i]);
	}
	free(l->slots);
	for (size_t i = 0; i < l->n_dirs; i++)
		free(l->dirs[i]);
	free(l->dirs);
	free(l);
}

size_t loader_dirs(const struct loader *l, const char *const **out)
{
	*out = (const char *const *)l->dirs;
	return l->n_dirs;
}

int loader_open(struct loader *l, const char *name, uint32_t kinds,
		const struct loader_plugin **out, struct kerf_error *err)
{
	if (!name_valid(name))
		return kerf_error_set(err, KERF_E_INVALID,
				      "plugin name \"%s\" is not valid: use only a-z, 0-9 and '-'",
				      name ? name : "");

	struct strbuf file;
	sb_init(&file);
	sb_printf(&file, "%s.so", name);
	for (size_t i = 0; i < l->n_dirs; i++) {
		char *path = path_join(l->dirs[i], file.buf);
		struct stat st;
		/*
		 * Only a missing file moves on to the next directory: a
		 * broken one that comes first must be reported, not silently
		 * shadowed by an older copy further down the path.
		 */
		if (stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR)) {
			sb_free(&file);
			int rc = open_path(l, path, kinds, out, err);
			free(path);
			return rc;
		}
		free(path);
	}
	sb_free(&file);

	struct strbuf msg;
	sb_init(&msg);
	sb_printf(&msg, "plugin \"%s\" not found (searched: ", name);
	for (size_t i = 0; i < l->n_dirs; i++)
		sb_printf(&msg, "%s%s", i ? ", " : "", l->dirs[i]);
	sb_puts(&msg, ")");
	char hint[160];
	const char *h = not_built_hint(name, hint, sizeof(hint));
	if (h)
		sb_printf(&msg, "; %s", h);
	int rc = kerf_error_set(err, KERF_E_PLUGIN_NOTFOUND, "%s", msg.buf);
	sb_free(&msg);
	return rc;
}

int loader_open_file(struct loader *l, const char *path, const struct loader_plugin **out,
		     struct kerf_error *err)
{
	return open_path(l, path, 0, out, err);
}

/* The first path seen for each file stem during one scan. */
struct scan_seen {
	char *stem;
	char *path;
};

int loader_scan(struct loader *l, void (*fn)(void *arg, const struct loader_entry *e), void *arg,
		struct kerf_error *err)
{
	struct scan_seen *seen = NULL;
	size_t n_seen = 0, cap_seen = 0;
	int first_rc = 0;
	struct kerf_error first_err;
	kerf_error_clear(&first_err);

	for (size_t i = 0; i < l->n_dirs; i++) {
		char **names;
		size_t n;
		struct kerf_error derr;
		kerf_error_clear(&derr);
		int rc = list_dir(l->dirs[i], want_so, &names, &n, &derr);
		if (rc != 0) {
			/* One unreadable directory must not hide the others. */
			if (first_rc == 0) {
				first_rc = rc;
				first_err = derr;
			}
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			char *path = path_join(l->dirs[i], names[j]);
			char *stem = file_stem(path);
			struct kerf_error e;
			kerf_error_clear(&e);
			struct loader_plugin probe;
			memset(&probe, 0, sizeof(probe));
			const struct loader_plugin *shown = NULL;
			bool have_desc = false;
			struct stat st;

			rc = stat_plugin(path, &st, &e);
			if (rc == 0) {
				struct loader_slot *have = slot_by_file(l, &st);
				if (have) {
					shown = &have->p;
					have_desc = true;
				} else {
					rc = probe_open(path, &probe, &have_desc, &e);
					shown = &probe;
				}
			}
			const char *earlier = NULL;
			for (size_t k = 0; k < n_seen; k++) {
				if (strcmp(seen[k].stem, stem) == 0)
					earlier = seen[k].path;
			}
			if (rc == 0 && earlier) {
				rc =
				    kerf_error_set(&e, KERF_E_PLUGIN_DUPLICATE,
						   "%s: plugin \"%s\" is hidden by %s, which comes "
						   "earlier in the search path; remove one of the "
						   "two files",
						   path, stem, earlier);
			} else if (rc == 0 && shown == &probe) {
				struct loader_slot *other = slot_by_name(l, probe.desc.name);
				if (other)
					rc = kerf_error_set(&e, KERF_E_PLUGIN_DUPLICATE,
							    "%s: plugin \"%s\" is already loaded "
							    "from %s; remove one of the two files",
							    path, stem, other->p.path);
			}
			if (!earlier) {
				xgrow(seen, cap_seen, n_seen + 1);
				seen[n_seen].stem = xstrdup(stem);
				seen[n_seen].path = xstrdup(path);
				n_seen++;
			}

			struct loader_entry entry = {
			    .path = path,
			    .desc = have_desc && shown ? &shown->desc : NULL,
			    .rc = rc,
			    .err = rc != 0 ? &e : NULL,
			};
			fn(arg, &entry);
			probe_close(&probe);
			free(stem);
			free(path);
		}
		free_names(names, n);
	}
	for (size_t k = 0; k < n_seen; k++) {
		free(seen[k].stem);
		free(seen[k].path);
	}
	free(seen);
	if (first_rc != 0) {
		if (err)
			*err = first_err;
		return first_rc;
	}
	kerf_error_clear(err);
	return 0;
}

int loader_create(const struct loader_plugin *p, const struct kerf_host *host, void **out_instance,
		  struct kerf_error *err)
{
	struct kerf_error perr;
	kerf_error_clear(&perr);
	void *inst = NULL;
	int rc = p->desc.create(host, &inst, &perr);
	if (rc == 0) {
		*out_instance = inst;
		return 0;
	}
	/* Keep what tells the caller whether to retry; the code says who failed. */
	if (err) {
		kerf_error_clear(err);
		err->retryable = perr.retryable;
		err->http_status = perr.http_status;
		memcpy(err->provider_code, perr.provider_code, sizeof(err->provider_code));
		err->provider_code[sizeof(err->provider_code) - 1] = '\0';
	}
	perr.message[sizeof(perr.message) - 1] = '\0';
	return kerf_error_set(err, KERF_E_PLUGIN_CREATE, "plugin \"%s\": create failed: %s",
			      p->desc.name, perr.message[0] ? perr.message : kerf_strerror(rc));
}

void loader_destroy(const struct loader_plugin *p, void *instance)
{
	if (p->desc.destroy)
		p->desc.destroy(instance);
}
