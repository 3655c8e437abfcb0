/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_loader.c - finding, opening and checking plugins.
 *
 * The plugins are the tiny shared objects of tests/abi, each wrong (or
 * right) in one way.  Every rejection is asserted by its exact code and its
 * exact message, so a reworded message is a deliberate change here too.
 * Which of kerf's own plugins this build has comes from tests/Makefile.am
 * as -DBUILD_PLUGIN_* (the quoted "config.h" would find core/config.h).
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance.h"
#include "loader.h"
#include "yamltree.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define ABI_DIR KERF_TEST_BUILDDIR "/tests/abi/.libs"

static char tmp[64];

static void tmp_setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s", "/tmp/kerf-check-loader-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	unsetenv("KERF_PLUGIN_PATH");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tmp_teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("KERF_PLUGIN_PATH");
}

/* tmp/rel, returned in a static buffer per slot so a test can hold a few. */
static const char *tmp_path(int slot, const char *rel)
{
	static char bufs[4][128];
	snprintf(bufs[slot], sizeof(bufs[slot]), "%s/%s", tmp, rel);
	return bufs[slot];
}

static void make_dir(const char *rel)
{
	ck_assert_int_eq(mkdir(tmp_path(3, rel), 0755), 0);
}

/* A real copy, not a link: the dynamic linker tells files apart by inode. */
static void copy_plugin(const char *stem, const char *rel_dir)
{
	char src[512], dst[512], buf[65536];
	snprintf(src, sizeof(src), "%s/%s.so", ABI_DIR, stem);
	snprintf(dst, sizeof(dst), "%s/%s/%s.so", tmp, rel_dir, stem);
	int in = open(src, O_RDONLY);
	ck_assert_msg(in >= 0, "%s: %s (run make check to build the test plugins)", src,
		      strerror(errno));
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ck_assert_int_ge(out, 0);
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
}

static void write_file(const char *rel, const char *text)
{
	FILE *f = fopen(tmp_path(3, rel), "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * Expands a message template: @P the plugin's path, @M/@m the host's ABI
 * major/minor, @N major + 1, @n minor + 1, @D the descriptor size of the
 * major's first minor, @O that minor's provider ops table size, @K its
 * config schema entry size.
 */
static void expand(char *out, size_t size, const char *tpl, const char *path)
{
	size_t o = 0;
	out[0] = '\0';
	for (const char *c = tpl; *c && o + 1 < size; c++) {
		char piece[512];
		if (c[0] != '@' || !c[1]) {
			out[o++] = *c;
			out[o] = '\0';
			continue;
		}
		switch (*++c) {
		case 'P':
			snprintf(piece, sizeof(piece), "%s", path);
			break;
		case 'M':
			snprintf(piece, sizeof(piece), "%d", KERF_ABI_MAJOR);
			break;
		case 'm':
			snprintf(piece, sizeof(piece), "%d", KERF_ABI_MINOR);
			break;
		case 'N':
			snprintf(piece, sizeof(piece), "%d", KERF_ABI_MAJOR + 1);
			break;
		case 'n':
			snprintf(piece, sizeof(piece), "%d", KERF_ABI_MINOR + 1);
			break;
		case 'D':
			snprintf(piece, sizeof(piece), "%zu",
				 KERF_OPS_END(struct kerf_plugin_descriptor, packer_ops_size));
			break;
		case 'O':
			snprintf(piece, sizeof(piece), "%zu",
				 KERF_OPS_END(struct kerf_provider_ops, is_drifted));
			break;
		case 'K':
			snprintf(piece, sizeof(piece), "%zu",
				 KERF_OPS_END(struct kerf_config_key, values));
			break;
		default:
			ck_abort_msg("bad template %s", tpl);
		}
		o += (size_t)snprintf(out + o, size - o, "%s", piece);
		if (o >= size)
			o = size - 1;
	}
}

static const struct {
	const char *stem;
	int code;
	bool has_desc; /* loader_scan shows a descriptor */
	const char *msg;
} rejected[] = {
    {"abi-nodesc", KERF_E_PLUGIN_NO_DESCRIPTOR, false,
     "@P: not a kerf plugin: it does not export kerf_plugin_descriptor "
     "(define it with KERF_PLUGIN_DEFINE from <kerf/plugin.h>)"},
    {"abi-magic", KERF_E_PLUGIN_BAD_MAGIC, false,
     "@P: not a kerf plugin: descriptor magic is 0x12345678, expected 0x6b657266 "
     "(start the descriptor with KERF_PLUGIN_HEADER)"},
    {"abi-tiny", KERF_E_PLUGIN_BAD_MAGIC, false,
     "@P: not a kerf plugin: descriptor size 8 is smaller than its 12-byte header "
     "(start the descriptor with KERF_PLUGIN_HEADER)"},
    {"abi-major", KERF_E_PLUGIN_ABI_MAJOR, true,
     "@P: plugin \"abi-major\" was built for plugin ABI @N.0, this kerf supports @M.0 to "
     "@M.@m; rebuild the plugin against kerf's headers"},
    {"abi-minor", KERF_E_PLUGIN_ABI_MINOR, true,
     "@P: plugin \"abi-minor\" was built for plugin ABI @M.@n, this kerf supports @M.0 to "
     "@M.@m; upgrade kerf or rebuild the plugin against kerf's headers"},
    {"abi-short", KERF_E_PLUGIN_BAD_MAGIC, true,
     "@P: plugin \"abi-short\": descriptor size 24 is smaller than the @D bytes of ABI @M.0; "
     "rebuild the plugin against kerf's headers"},
    {"abi-strings", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-strings\": descriptor has no version, license; name, version, "
     "description and license are required"},
    {"abi-badname", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin name \"Abi_Bad\" is not valid: use only a-z, 0-9 and '-'"},
    {"abi-mismatch", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin declares the name \"abi-other\"; rename the file to abi-other.so or fix the "
     "name"},
    {"abi-nocreate", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-nocreate\": descriptor has no create function"},
    {"abi-nokind", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-nokind\": descriptor offers no kind; set .kinds to KERF_KIND_* bits"},
    {"abi-kinds", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-kinds\": descriptor has unknown kind bits 0x80; this kerf knows "
     "provider, cluster and packer"},
    {"abi-noops", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-noops\": offers packer but has no packer ops table "
     "(set it with KERF_PLUGIN_OPS(packer, ...))"},
    {"abi-shortops", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-shortops\": provider ops table is 16 bytes, ABI @M.0 needs at least @O; "
     "rebuild the plugin against kerf's headers"},
    {"abi-nullop", KERF_E_PLUGIN_INCOMPLETE, true,
     "@P: plugin \"abi-nullop\": required provider ops get, list are NULL; implement them"},
    {"abi-schema", KERF_E_PLUGIN_SCHEMA, true,
     "@P: plugin \"abi-schema\": config schema: key \"workers\": default \"0\": must be at least "
     "1, not \"0\""},
    {"abi-schemasize", KERF_E_PLUGIN_SCHEMA, true,
     "@P: plugin \"abi-schemasize\": config_key_size 0 is smaller than the @K bytes of an ABI "
     "2.0 schema entry (declare the schema with KERF_PLUGIN_SCHEMA)"},
    {"abi-cap-unknown", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-cap-unknown\": descriptor has unknown capability bits 0x10000000000; "
     "use only the KERF_CAP_* bits of kerf's headers"},
    {"abi-cap-kind", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-cap-kind\": declares KERF_CAP_PROVIDER_SPOT but does not offer "
     "provider; drop the bit or offer the kind"},
    {"abi-cap-drift", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-cap-drift\": declares KERF_CAP_PROVIDER_DRIFT but its provider op "
     "is_drifted is NULL; implement it or drop the bit"},
    {"abi-op-drift", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-op-drift\": sets the optional provider op is_drifted but does not "
     "declare KERF_CAP_PROVIDER_DRIFT; add the bit or leave the op NULL"},
    {"abi-cap-lease", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-cap-lease\": declares KERF_CAP_CLUSTER_LEASE but its cluster op "
     "acquire_lease is NULL; implement it or drop the bit"},
    {"abi-op-lease", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-op-lease\": sets the optional cluster op acquire_lease but does not "
     "declare KERF_CAP_CLUSTER_LEASE; add the bit or leave the op NULL"},
    {"abi-cap-events", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-cap-events\": declares KERF_CAP_CLUSTER_EVENTS but its cluster op "
     "emit_event is NULL; implement it or drop the bit"},
    {"abi-op-events", KERF_E_PLUGIN_CAPABILITY, true,
     "@P: plugin \"abi-op-events\": sets the optional cluster op emit_event but does not "
     "declare KERF_CAP_CLUSTER_EVENTS; add the bit or leave the op NULL"},
#ifdef __GLIBC__
    /* The dynamic linker's text is glibc's; other C libraries word it differently. */
    {"abi-unresolved", KERF_E_PLUGIN_DLOPEN, false,
     "@P: cannot load: @P: undefined symbol: abi_missing_function "
     "(check its dependencies with ldd)"},
#endif
};

/* Each rejection, by path and by name, gives the same code and message. */
/* A plugin_dir that is missing or not a directory is an error, not a silent no-op. */
START_TEST(plugin_dir_must_be_a_directory)
{
	struct kerf_error err;
	struct loader *l = (struct loader *)&err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new("/nonexistent/kerf-plugins", &l, &err), KERF_E_CONFIG);
	ck_assert_ptr_null(l);
	ck_assert_str_eq(err.message,
			 "plugin_dir /nonexistent/kerf-plugins: No such file or directory");
	char file[] = "/tmp/check_loader.XXXXXX";
	int fd = mkstemp(file);
	ck_assert_int_ge(fd, 0);
	close(fd);
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new(file, &l, &err), KERF_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.message, ": not a directory"));
	unlink(file);
	ck_assert_int_eq(loader_new("/tmp", &l, &err), 0);
	loader_free(l);
}
END_TEST

START_TEST(rejections)
{
	char path[512], want[2048];
	snprintf(path, sizeof(path), "%s/%s.so", ABI_DIR, rejected[_i].stem);
	expand(want, sizeof(want), rejected[_i].msg, path);

	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	struct kerf_error err;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, &err), 0);
	const struct loader_plugin *p = NULL;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open_file(l, path, &p, &err), rejected[_i].code);
	ck_assert_int_eq(err.code, rejected[_i].code);
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(p);

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, rejected[_i].stem, 0, &p, &err), rejected[_i].code);
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(p);
	loader_free(l);
}
END_TEST

START_TEST(unresolved_symbol_fails_at_load)
{
	/* Whatever the C library's wording, RTLD_NOW must refuse it before any call. */
	char path[512];
	snprintf(path, sizeof(path), "%s/abi-unresolved.so", ABI_DIR);
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(NULL, 0, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open_file(l, path, &p, &err), KERF_E_PLUGIN_DLOPEN);
	ck_assert_ptr_nonnull(strstr(err.message, "abi_missing_function"));
	ck_assert_ptr_nonnull(strstr(err.message, "(check its dependencies with ldd)"));
	loader_free(l);
}
END_TEST

START_TEST(not_a_shared_object)
{
	write_file("junk.so", "This is a text file that happens to end in .so; it is long enough "
			      "to hold a whole ELF header, so the linker looks at its magic.\n");
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(NULL, 0, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	const char *path = tmp_path(0, "junk.so");
	ck_assert_int_eq(loader_open_file(l, path, &p, &err), KERF_E_PLUGIN_DLOPEN);
	char want[2048];
#ifdef __GLIBC__
	expand(want, sizeof(want),
	       "@P: cannot load: @P: invalid ELF header (check its "
	       "dependencies with ldd)",
	       path);
	ck_assert_str_eq(err.message, want);
#else
	expand(want, sizeof(want), "@P: cannot load: ", path);
	ck_assert_int_eq(strncmp(err.message, want, strlen(want)), 0);
#endif
	ck_assert_ptr_null(p);
	loader_free(l);
}
END_TEST

START_TEST(not_a_regular_file)
{
	make_dir("dir.so");
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(NULL, 0, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	const char *path = tmp_path(0, "dir.so");
	ck_assert_int_eq(loader_open_file(l, path, &p, &err), KERF_E_PLUGIN_DLOPEN);
	char want[2048];
	expand(want, sizeof(want),
	       "@P: cannot load: not a regular file (replace it with the plugin's shared object)",
	       path);
	ck_assert_str_eq(err.message, want);

	/* Found by name, it is reported, not skipped for a later directory. */
	const char *dirs[] = {tmp, ABI_DIR};
	struct loader *l2;
	ck_assert_int_eq(loader_new_dirs(dirs, 2, &l2, NULL), 0);
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l2, "dir", 0, &p, &err), KERF_E_PLUGIN_DLOPEN);
	ck_assert_str_eq(err.message, want);
	loader_free(l2);
	loader_free(l);
}
END_TEST

START_TEST(missing_file)
{
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(NULL, 0, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	const char *path = tmp_path(0, "nothere.so");
	ck_assert_int_eq(loader_open_file(l, path, &p, &err), KERF_E_PLUGIN_NOTFOUND);
	char want[2048];
	expand(want, sizeof(want), "@P: no such file; check the plugin's path", path);
	ck_assert_str_eq(err.message, want);
	loader_free(l);
}
END_TEST

START_TEST(invalid_name)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "../abi/.libs/abi-good", 0, &p, &err), KERF_E_INVALID);
	ck_assert_str_eq(err.message,
			 "plugin name \"../abi/.libs/abi-good\" is not valid: use only "
			 "a-z, 0-9 and '-'");
	loader_free(l);
}
END_TEST

START_TEST(good_packer)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL, *again = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &p, &err), 0);
	ck_assert_str_eq(p->path, ABI_DIR "/abi-good.so");
	ck_assert_str_eq(p->desc.name, "abi-good");
	ck_assert_str_eq(p->desc.version, "0.0.1");
	ck_assert_uint_eq(p->desc.abi_major, KERF_ABI_MAJOR);
	ck_assert_uint_eq(p->desc.abi_minor, KERF_ABI_MINOR);
	ck_assert_uint_eq(p->desc.kinds, KERF_KIND_PACKER);
	ck_assert_ptr_nonnull(p->packer.solve);
	/* The host's own copy of the schema, checked. */
	ck_assert_ptr_nonnull(p->schema);
	ck_assert_str_eq(p->schema[0].key, "budget");
	ck_assert_int_eq(p->schema[0].max, 60000);
	ck_assert_str_eq(p->schema[1].values[1], "exact");
	ck_assert(p->schema[3].secret);
	ck_assert_ptr_null(p->schema[4].key);
	/* Kinds not offered stay zeroed. */
	ck_assert_ptr_null(p->provider.get);
	ck_assert_ptr_null(p->cluster.start);

	/* The same name, and the same file under its path, is the same plugin. */
	ck_assert_int_eq(loader_open(l, "abi-good", 0, &again, &err), 0);
	ck_assert_ptr_eq(again, p);
	ck_assert_int_eq(loader_open_file(l, ABI_DIR "/../.libs/abi-good.so", &again, &err), 0);
	ck_assert_ptr_eq(again, p);

	void *inst = NULL;
	ck_assert_int_eq(loader_create(p, NULL, &inst, &err), 0);
	ck_assert_ptr_nonnull(inst);
	loader_destroy(p, inst);
	loader_free(l);
}
END_TEST

START_TEST(good_multi_kind)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(
	    loader_open(l, "abi-multi", KERF_KIND_PROVIDER | KERF_KIND_CLUSTER, &p, &err), 0);
	ck_assert_uint_eq(p->desc.kinds, KERF_KIND_PROVIDER | KERF_KIND_CLUSTER);
	ck_assert_uint_eq(p->desc.capabilities, KERF_CAP_CLUSTER_LEASE | KERF_CAP_CLUSTER_EVENTS);
	ck_assert_ptr_nonnull(p->provider.get_instance_types);
	ck_assert_ptr_null(p->provider.is_drifted);
	ck_assert_ptr_nonnull(p->cluster.evict_pod);
	ck_assert_ptr_nonnull(p->cluster.acquire_lease);
	ck_assert_ptr_nonnull(p->cluster.emit_event);
	loader_free(l);
}
END_TEST

#ifdef BUILD_PLUGIN_SIM
/*
 * The sim plugin links libkerf.so, and so does this program (through the
 * engine): after loading it the process must map exactly one libkerf
 * file, and the plugin's kerf_* calls must land in the host's copy.
 */
static int count_libkerf_maps(char *first, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	first[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path || !strstr(path, "/libkerf"))
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (first[0] == '\0')
			snprintf(first, len, "%s", path);
		else if (strcmp(first, path) == 0)
			continue;
		n++;
	}
	fclose(f);
	return n;
}

START_TEST(one_libkerf_in_process)
{
	const char *dirs[] = {KERF_BUILD_PLUGINDIR "/sim/.libs"};
	char before[1024], after[1024];
	struct loader *l;
	const struct loader_plugin *p = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(count_libkerf_maps(before, sizeof(before)), 1);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, &err), 0);
	ck_assert_msg(loader_open(l, "sim", KERF_KIND_PROVIDER, &p, &err) == 0, "%s", err.message);
	ck_assert_int_eq(count_libkerf_maps(after, sizeof(after)), 1);
	ck_assert_str_eq(before, after);

	/* The host's own SDK calls resolve into that file, not into a static copy. */
	Dl_info info;
	ck_assert_int_ne(dladdr((void *)kerf_labels_get, &info), 0);
	ck_assert_msg(strstr(info.dli_fname, "/libkerf.so") != NULL, "kerf_labels_get is in %s",
		      info.dli_fname);
	loader_free(l);
}
END_TEST
#endif

/* A plugin compiled against the frozen ABI 2.0 headers loads, every kind it offers. */
START_TEST(frozen_2_0_loads)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	const struct loader_plugin *p = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	ck_assert_msg(loader_open(l, "abi-frozen",
				  KERF_KIND_PROVIDER | KERF_KIND_CLUSTER | KERF_KIND_PACKER, &p,
				  &err) == 0,
		      "%s", err.message);
	ck_assert_uint_eq(p->desc.abi_major, 2);
	ck_assert_uint_eq(p->desc.abi_minor, 0);
	ck_assert_ptr_nonnull(p->provider.delete_instance);
	ck_assert_ptr_nonnull(p->cluster.evict_pod);
	ck_assert_ptr_nonnull(p->packer.solve);
	loader_free(l);
}
END_TEST

START_TEST(older_minor_loads)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-older", KERF_KIND_CLUSTER, &p, &err), 0);
	ck_assert_uint_eq(p->desc.abi_minor, 0);
	ck_assert_uint_eq(p->desc.cluster_ops_size,
			  KERF_OPS_END(struct kerf_cluster_ops, acquire_lease));
	ck_assert_ptr_nonnull(p->cluster.start);
	ck_assert_ptr_nonnull(p->cluster.acquire_lease);
	/* Set in the plugin's table but past its declared size: never read. */
	ck_assert_ptr_null(p->cluster.emit_event);
	loader_free(l);
}
END_TEST

START_TEST(kind_not_offered)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PROVIDER, &p, &err),
			 KERF_E_PLUGIN_KIND);
	ck_assert_str_eq(err.message, "plugin \"abi-good\" (" ABI_DIR
				      "/abi-good.so) offers packer, not provider");
	ck_assert_ptr_null(p);

	kerf_error_clear(&err);
	ck_assert_int_eq(
	    loader_open(l, "abi-multi", KERF_KIND_PACKER | KERF_KIND_CLUSTER, &p, &err),
	    KERF_E_PLUGIN_KIND);
	ck_assert_str_eq(err.message, "plugin \"abi-multi\" (" ABI_DIR
				      "/abi-multi.so) offers provider and cluster, not packer");

	/* Already open, the kind is still checked. */
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &p, &err), 0);
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_CLUSTER, &p, &err),
			 KERF_E_PLUGIN_KIND);
	ck_assert_str_eq(err.message, "plugin \"abi-good\" (" ABI_DIR
				      "/abi-good.so) offers packer, not cluster");
	loader_free(l);
}
END_TEST

START_TEST(duplicate_name)
{
	make_dir("d1");
	make_dir("d2");
	copy_plugin("abi-good", "d1");
	copy_plugin("abi-good", "d2");
	const char *p1 = tmp_path(0, "d1/abi-good.so");
	const char *p2 = tmp_path(1, "d2/abi-good.so");
	char want[2048];

	struct loader *l;
	const char *dirs[] = {ABI_DIR};
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL, *q = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open_file(l, p1, &p, &err), 0);

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open_file(l, p2, &q, &err), KERF_E_PLUGIN_DUPLICATE);
	snprintf(want, sizeof(want),
		 "%s: plugin \"abi-good\" is already loaded from %s; remove one of the two files",
		 p2, p1);
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(q);

	/* By name, the search path finds the build's copy: a different file. */
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &q, &err),
			 KERF_E_PLUGIN_DUPLICATE);
	snprintf(want, sizeof(want),
		 "%s/abi-good.so: plugin \"abi-good\" is already loaded from %s; remove one of "
		 "the two files",
		 ABI_DIR, p1);
	ck_assert_str_eq(err.message, want);

	/* The first one is still there and usable. */
	ck_assert_int_eq(loader_open_file(l, p1, &q, &err), 0);
	ck_assert_ptr_eq(q, p);
	loader_free(l);
}
END_TEST

START_TEST(create_failure)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-createfail", KERF_KIND_PACKER, &p, &err), 0);
	void *inst = (void *)&err;
	ck_assert_int_eq(loader_create(p, NULL, &inst, &err), KERF_E_PLUGIN_CREATE);
	ck_assert_int_eq(err.code, KERF_E_PLUGIN_CREATE);
	ck_assert_str_eq(err.message,
			 "plugin \"abi-createfail\": create failed: no credentials found in "
			 "/nonexistent");
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_int_eq(err.http_status, 403);
	ck_assert_str_eq(err.provider_code, "AuthFailure");
	ck_assert_ptr_eq(inst, (void *)&err); /* untouched on failure */
	loader_free(l);
}
END_TEST

/*
 * An instance as kerfd makes one: section, host table, create().  A
 * failure at any step leaves nothing behind but the plugin.
 */
START_TEST(instance_lifecycle)
{
	const char *dirs[] = {ABI_DIR};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	struct plugin_instance pi = {0}, bad = {0}, cfgbad = {0};
	const struct instance_env env = {0};
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &pi.plugin, &err), 0);
	ck_assert_int_eq(instance_create(&pi, "packer/abi-good", &env, &err), 0);
	ck_assert_ptr_nonnull(pi.state);
	ck_assert_ptr_nonnull(pi.section);
	ck_assert_str_eq(pi.host->instance_name, "packer/abi-good");
	instance_destroy(&pi);
	ck_assert_ptr_null(pi.state);
	ck_assert_ptr_null(pi.host);
	ck_assert_ptr_null(pi.section);
	ck_assert_ptr_nonnull(pi.plugin);

	ck_assert_int_eq(loader_open(l, "abi-createfail", KERF_KIND_PACKER, &bad.plugin, &err), 0);
	ck_assert_int_eq(instance_create(&bad, "packer/abi-createfail", &env, &err),
			 KERF_E_PLUGIN_CREATE);
	ck_assert_str_eq(err.message,
			 "plugin \"abi-createfail\": create failed: no credentials found in "
			 "/nonexistent");
	ck_assert_ptr_null(bad.state);
	ck_assert_ptr_null(bad.host);
	ck_assert_ptr_null(bad.section);

	/* A key abi-good's schema does not declare is refused before create(). */
	struct yt_stream *ys;
	ck_assert_int_eq(yt_parse_string("kerf.yaml", "bugdet: 5\n", 10, &ys, &err), 0);
	const struct instance_env with_config = {.config = ys->docs[0].root};
	cfgbad.plugin = pi.plugin;
	ck_assert_int_eq(instance_create(&cfgbad, "packer/abi-good", &with_config, &err),
			 KERF_E_CONFIG);
	ck_assert_msg(strstr(err.message, "unknown key \"bugdet\"") != NULL, "%s", err.message);
	ck_assert_ptr_null(cfgbad.state);
	ck_assert_ptr_null(cfgbad.host);
	ck_assert_ptr_null(cfgbad.section);
	yt_stream_free(ys);
	loader_free(l);
}
END_TEST

/* The build tree's plugin directories, as loader_new adds them for a test binary. */
static void append_build_dirs(char *out, size_t size)
{
	DIR *d = opendir(KERF_BUILD_PLUGINDIR);
	if (!d)
		return;
	char *names[64];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < N_ELEMS(names)) {
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++) {
			if (strcmp(names[j], names[i]) < 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		char libs[512];
		struct stat st;
		snprintf(libs, sizeof(libs), "%s/%s/.libs", KERF_BUILD_PLUGINDIR, names[i]);
		if (stat(libs, &st) == 0 && S_ISDIR(st.st_mode)) {
			size_t len = strlen(out);
			snprintf(out + len, size - len, ", %s", libs);
		}
		free(names[i]);
	}
}

START_TEST(search_order)
{
	make_dir("pd");
	make_dir("env1");
	make_dir("env2");
	copy_plugin("abi-good", "pd");
	copy_plugin("abi-good", "env1");
	copy_plugin("abi-multi", "env2");
	char env[512];
	/* Empty entries are skipped, not taken as the current directory. */
	snprintf(env, sizeof(env), "%s/env1::%s/env2:", tmp, tmp);
	ck_assert_int_eq(setenv("KERF_PLUGIN_PATH", env, 1), 0);

	struct loader *l;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new(tmp_path(0, "pd"), &l, &err), 0);
	/* Read once: later changes do not matter. */
	unsetenv("KERF_PLUGIN_PATH");

	const char *const *dirs;
	size_t n = loader_dirs(l, &dirs);
	ck_assert_uint_ge(n, 4);
	ck_assert_str_eq(dirs[0], tmp_path(0, "pd"));
	ck_assert_str_eq(dirs[1], tmp_path(0, "env1"));
	ck_assert_str_eq(dirs[2], tmp_path(0, "env2"));
	ck_assert_str_eq(dirs[3], KERF_PLUGINDIR);
	/* This test binary runs from the build tree, so its plugin dirs come last. */
	char all[4096], want_all[4096];
	all[0] = '\0';
	snprintf(want_all, sizeof(want_all), "%s, %s, %s, %s", tmp_path(0, "pd"),
		 tmp_path(1, "env1"), tmp_path(2, "env2"), KERF_PLUGINDIR);
	append_build_dirs(want_all, sizeof(want_all));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(all);
		snprintf(all + len, sizeof(all) - len, "%s%s", i ? ", " : "", dirs[i]);
	}
	ck_assert_str_eq(all, want_all);

	/* plugin_dir before KERF_PLUGIN_PATH. */
	const struct loader_plugin *p = NULL;
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &p, &err), 0);
	ck_assert_str_eq(p->path, tmp_path(0, "pd/abi-good.so"));
	/* A later KERF_PLUGIN_PATH entry is searched too. */
	ck_assert_int_eq(loader_open(l, "abi-multi", KERF_KIND_PROVIDER, &p, &err), 0);
	ck_assert_str_eq(p->path, tmp_path(0, "env2/abi-multi.so"));

	/* Not found lists every directory searched, in order. */
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, "abi-nothere", 0, &p, &err), KERF_E_PLUGIN_NOTFOUND);
	char want[2048];
	snprintf(want, sizeof(want), "plugin \"abi-nothere\" not found (searched: %s)", want_all);
	/* A long build path (make distcheck's) fills the message: it is cut, not overrun. */
	want[sizeof(err.message) - 1] = '\0';
	ck_assert_str_eq(err.message, want);
	loader_free(l);

	/* Without plugin_dir, KERF_PLUGIN_PATH comes first. */
	snprintf(env, sizeof(env), "%s/env1", tmp);
	ck_assert_int_eq(setenv("KERF_PLUGIN_PATH", env, 1), 0);
	ck_assert_int_eq(loader_new(NULL, &l, &err), 0);
	n = loader_dirs(l, &dirs);
	ck_assert_str_eq(dirs[0], tmp_path(0, "env1"));
	ck_assert_str_eq(dirs[1], KERF_PLUGINDIR);
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &p, &err), 0);
	ck_assert_str_eq(p->path, tmp_path(0, "env1/abi-good.so"));
	loader_free(l);
}
END_TEST

static const struct {
	const char *name;
	const char *hint; /* when not built */
} builtins[] = {
    {"sim", "it was not built: re-run ./configure with --enable-sim"},
    {"binpack-ffd", "it was not built: re-run ./configure with --enable-binpack-ffd"},
    {"binpack-ilp", "it was not built: re-run ./configure with --enable-binpack-ilp (needs GLPK, "
		    "Debian: libglpk-dev)"},
    {"ec2", "it was not built: re-run ./configure with --enable-ec2 (needs libcrypto and "
	    "libxml2, Debian: libssl-dev libxml2-dev)"},
    {"kube", "it was not built: re-run ./configure with --enable-kube"},
};

static bool builtin_was_built(const char *name)
{
#ifdef BUILD_PLUGIN_SIM
	if (strcmp(name, "sim") == 0)
		return true;
#endif
#ifdef BUILD_PLUGIN_BINPACK_FFD
	if (strcmp(name, "binpack-ffd") == 0)
		return true;
#endif
#ifdef BUILD_PLUGIN_BINPACK_ILP
	if (strcmp(name, "binpack-ilp") == 0)
		return true;
#endif
#ifdef BUILD_PLUGIN_EC2
	if (strcmp(name, "ec2") == 0)
		return true;
#endif
#ifdef BUILD_PLUGIN_KUBE
	if (strcmp(name, "kube") == 0)
		return true;
#endif
	return false;
}

/* kerf's own plugins left out by ./configure say how to get them. */
START_TEST(not_built_hint)
{
	const char *name = builtins[_i].name;
	bool built = builtin_was_built(name);
	const char *hint = loader_not_built_hint(name);
	if (built)
		ck_assert_ptr_null(hint);
	else
		ck_assert_str_eq(hint, builtins[_i].hint);

	const char *dirs[] = {tmp};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &l, NULL), 0);
	const struct loader_plugin *p = NULL;
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_open(l, name, 0, &p, &err), KERF_E_PLUGIN_NOTFOUND);
	char want[2048];
	snprintf(want, sizeof(want), "plugin \"%s\" not found (searched: %s)%s%s", name, tmp,
		 built ? "" : "; ", built ? "" : builtins[_i].hint);
	ck_assert_str_eq(err.message, want);
	loader_free(l);
}
END_TEST

START_TEST(not_built_hint_others)
{
	ck_assert_ptr_null(loader_not_built_hint("abi-good"));
	ck_assert_ptr_null(loader_not_built_hint(""));
}
END_TEST

struct scan_row {
	char path[512];
	int rc;
	bool has_desc;
	char name[64];
	char msg[KERF_ERROR_MSG_MAX];
};

struct scan_result {
	struct scan_row rows[64];
	int n;
};

static void scan_collect(void *arg, const struct loader_entry *e)
{
	struct scan_result *r = arg;
	ck_assert_int_lt(r->n, N_ELEMS(r->rows));
	struct scan_row *row = &r->rows[r->n++];
	snprintf(row->path, sizeof(row->path), "%s", e->path);
	row->rc = e->rc;
	row->has_desc = e->desc != NULL;
	snprintf(row->name, sizeof(row->name), "%s", e->desc && e->rc == 0 ? e->desc->name : "");
	if (e->rc != 0) {
		ck_assert_ptr_nonnull(e->err);
		ck_assert_int_eq(e->err->code, e->rc);
		snprintf(row->msg, sizeof(row->msg), "%s", e->err->message);
	} else {
		ck_assert_ptr_null(e->err);
	}
}

static const struct scan_row *scan_find(const struct scan_result *r, const char *path)
{
	for (int i = 0; i < r->n; i++) {
		if (strcmp(r->rows[i].path, path) == 0)
			return &r->rows[i];
	}
	return NULL;
}

/* Every test plugin is listed, sorted, with the verdict loader_open gives it. */
START_TEST(scan_lists_every_file)
{
	const char *dirs[] = {ABI_DIR, tmp_path(0, "missing-dir")};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 2, &l, NULL), 0);
	struct scan_result *r = calloc(1, sizeof(*r));
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_scan(l, scan_collect, r, &err), 0);

	/* 31 plugins in tests/abi, nothing else ends in .so there. */
	ck_assert_int_eq(r->n, 31);
	for (int i = 1; i < r->n; i++)
		ck_assert_int_lt(strcmp(r->rows[i - 1].path, r->rows[i].path), 0);

	for (int i = 0; i < N_ELEMS(rejected); i++) {
		char path[512], want[2048];
		snprintf(path, sizeof(path), "%s/%s.so", ABI_DIR, rejected[i].stem);
		expand(want, sizeof(want), rejected[i].msg, path);
		const struct scan_row *row = scan_find(r, path);
		ck_assert_msg(row != NULL, "%s not listed", path);
		ck_assert_int_eq(row->rc, rejected[i].code);
		ck_assert_str_eq(row->msg, want);
		ck_assert_int_eq(row->has_desc, rejected[i].has_desc);
	}
	const char *good[] = {"abi-good", "abi-multi", "abi-older", "abi-createfail"};
	for (int i = 0; i < N_ELEMS(good); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s.so", ABI_DIR, good[i]);
		const struct scan_row *row = scan_find(r, path);
		ck_assert_msg(row != NULL, "%s not listed", path);
		ck_assert_int_eq(row->rc, 0);
		ck_assert(row->has_desc);
		ck_assert_str_eq(row->name, good[i]);
	}
	free(r);
	loader_free(l);
}
END_TEST

/* A file hidden by an earlier one of the same name is reported as a duplicate. */
START_TEST(scan_reports_hidden_duplicates)
{
	make_dir("d1");
	make_dir("d2");
	copy_plugin("abi-good", "d1");
	copy_plugin("abi-good", "d2");
	copy_plugin("abi-multi", "d2");
	write_file("d2/junk.so", "not an ELF file, but long enough to hold an ELF header's worth "
				 "of bytes for the dynamic linker to look at.\n");
	const char *dirs[] = {tmp_path(0, "d1"), tmp_path(1, "d2")};
	struct loader *l;
	ck_assert_int_eq(loader_new_dirs(dirs, 2, &l, NULL), 0);

	/* One of them already open: the scan shows it without opening it again. */
	const struct loader_plugin *p = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	ck_assert_int_eq(loader_open(l, "abi-multi", 0, &p, &err), 0);

	struct scan_result *r = calloc(1, sizeof(*r));
	ck_assert_int_eq(loader_scan(l, scan_collect, r, &err), 0);
	ck_assert_int_eq(r->n, 4);
	ck_assert_str_eq(r->rows[0].path, tmp_path(0, "d1/abi-good.so"));
	ck_assert_int_eq(r->rows[0].rc, 0);
	ck_assert_str_eq(r->rows[1].path, tmp_path(0, "d2/abi-good.so"));
	ck_assert_int_eq(r->rows[1].rc, KERF_E_PLUGIN_DUPLICATE);
	ck_assert(r->rows[1].has_desc);
	char want[2048];
	snprintf(want, sizeof(want),
		 "%s: plugin \"abi-good\" is hidden by %s, which comes earlier in the search path; "
		 "remove one of the two files",
		 tmp_path(0, "d2/abi-good.so"), tmp_path(1, "d1/abi-good.so"));
	ck_assert_str_eq(r->rows[1].msg, want);
	ck_assert_str_eq(r->rows[2].path, tmp_path(0, "d2/abi-multi.so"));
	ck_assert_int_eq(r->rows[2].rc, 0);
	ck_assert_str_eq(r->rows[2].name, "abi-multi");
	ck_assert_str_eq(r->rows[3].path, tmp_path(0, "d2/junk.so"));
	ck_assert_int_eq(r->rows[3].rc, KERF_E_PLUGIN_DLOPEN);
	ck_assert(!r->rows[3].has_desc);

	/* The scan closed what it opened: opening by name still works. */
	ck_assert_int_eq(loader_open(l, "abi-good", KERF_KIND_PACKER, &p, &err), 0);
	ck_assert_str_eq(p->path, tmp_path(0, "d1/abi-good.so"));
	free(r);
	loader_free(l);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");

	TCase *tc = tcase_create("reject");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_loop_test(tc, rejections, 0, N_ELEMS(rejected));
	tcase_add_test(tc, plugin_dir_must_be_a_directory);
	tcase_add_test(tc, unresolved_symbol_fails_at_load);
	tcase_add_test(tc, not_a_shared_object);
	tcase_add_test(tc, not_a_regular_file);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, invalid_name);
	tcase_add_test(tc, kind_not_offered);
	tcase_add_test(tc, duplicate_name);
	tcase_add_test(tc, create_failure);
	tcase_add_test(tc, instance_lifecycle);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, good_packer);
	tcase_add_test(tc, good_multi_kind);
	tcase_add_test(tc, older_minor_loads);
	tcase_add_test(tc, frozen_2_0_loads);
#ifdef BUILD_PLUGIN_SIM
	tcase_add_test(tc, one_libkerf_in_process);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("search");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, search_order);
	tcase_add_loop_test(tc, not_built_hint, 0, N_ELEMS(builtins));
	tcase_add_test(tc, not_built_hint_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, scan_lists_every_file);
	tcase_add_test(tc, scan_reports_hidden_duplicates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = loader_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
