/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerfctl - the kerf command-line tool: inspects plugins, validates
 * kerf.yaml files and Karpenter manifests, simulates one provisioning
 * batch and compares packers from a decision log, without starting the
 * daemon.
 *
 * Each subcommand is one entry of `commands` with its own option parser.
 * Exit status: 0 success, 1 something was invalid or would be rejected,
 * 2 usage errors.
 */
/* core/config.h (kerf.yaml) shadows the autoconf header, so name it by path. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "ab.h"
#include "cfg.h"
#include "crd.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "manifest.h"
#include "provision.h"
#include "provisioner.h"
#include "util.h"
#include "yamltree.h"

#define EXIT_USAGE 2

struct command {
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static int cmd_plugins(int argc, char **argv);
static int cmd_validate(int argc, char **argv);
static int cmd_simulate(int argc, char **argv);
static int cmd_ab_report(int argc, char **argv);
static int cmd_disruption_report(int argc, char **argv);
static int cmd_crds(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"plugins", "[--plugin-dir DIR] [-c kerf.yaml]",
     "list every plugin in the search path and whether it loads", cmd_plugins},
    {"validate", "-f FILE [-f FILE ...] [--plugin-dir DIR]",
     "check kerf.yaml files and Karpenter manifests", cmd_validate},
    {"simulate", "-f FILE [-f FILE ...] [--packer NAME] [-c kerf.yaml] [-o text|wide|json|yaml]",
     "show the NodeClaims kerf would create for pending pods, without a cluster", cmd_simulate},
    {"ab-report", "[-o text|json] [--nodepool NAME] DECISION_LOG...",
     "compare the packers of shadow and split NodePools from kerfd's decision log", cmd_ab_report},
    {"disruption-report", "[-o text|json] DECISION_LOG...",
     "sum up kerfd's disruption decisions and drains from its decision log", cmd_disruption_report},
    {"crds", "[-o yaml|json] [--kind NodePool|NodeClaim|EC2NodeClass]",
     "print the Karpenter v1 CRDs, made from kerf's manifest model", cmd_crds},
    {"version", "", "print the kerf version and plugin ABI", cmd_version},
    {"help", "[COMMAND]", "show this help or a command's usage", cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: kerfctl COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nRun 'kerfctl help COMMAND' for a command's options.\n"
		"Plugins are searched in plugin_dir, then KERF_PLUGIN_PATH, then %s.\n",
		KERF_PLUGINDIR);
}

static int command_usage(const struct command *c, FILE *f)
{
	fprintf(f, "Usage: kerfctl %s%s%s\n  %s\n", c->name, *c->args ? " " : "", c->args,
		c->summary);
	return EXIT_USAGE;
}

/* The error text for a failure: the message, or the code's text when there is none. */
static const char *err_text(const struct kerf_error *e, int rc)
{
	return e && e->message[0] ? e->message : kerf_strerror(rc);
}

/* ------------------------------------------------------------ names */

static void kinds_text(struct strbuf *sb, uint32_t kinds)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	    {KERF_KIND_PROVIDER, "provider"},
	    {KERF_KIND_CLUSTER, "cluster"},
	    {KERF_KIND_PACKER, "packer"},
	};
	size_t start = sb->len;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (kinds & names[i].bit) {
			sb_printf(sb, "%s%s", sb->len > start ? "," : "", names[i].name);
			kinds &= ~names[i].bit;
		}
	}
	/* A newer plugin may declare a kind this kerfctl has never heard of. */
	if (kinds)
		sb_printf(sb, "%s0x%x", sb->len > start ? "," : "", kinds);
	if (sb->len == start)
		sb_puts(sb, "-");
}

static void caps_text(struct strbuf *sb, uint64_t caps)
{
	/* clang-format off */
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{KERF_CAP_PROVIDER_SPOT, "spot"},
		{KERF_CAP_PROVIDER_RESERVED, "reserved"},
		{KERF_CAP_PROVIDER_DRIFT, "drift"},
		{KERF_CAP_CLUSTER_LEASE, "lease"},
		{KERF_CAP_CLUSTER_EVENTS, "events"},
		{KERF_CAP_CLUSTER_VIRTUAL_TIME, "virtual-time"},
		{KERF_CAP_PACKER_OPTIMAL, "optimal"},
		{KERF_CAP_PACKER_TIME_BUDGET, "time-budget"},
	};
	/* clang-format on */
	size_t start = sb->len;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (caps & names[i].bit) {
			sb_printf(sb, "%s%s", sb->len > start ? "," : "", names[i].name);
			caps &= ~names[i].bit;
		}
	}
	if (caps)
		sb_printf(sb, "%s0x%llx", sb->len > start ? "," : "", (unsigned long long)caps);
	if (sb->len == start)
		sb_puts(sb, "-");
}

/* ------------------------------------------------------------ plugins */

enum { COL_FILE, COL_NAME, COL_KINDS, COL_VERSION, COL_ABI, COL_CAPS, COL_STATUS, N_COLS };

static const char *const col_titles[N_COLS] = {
    "FILE", "NAME", "KINDS", "VERSION", "ABI", "CAPABILITIES", "STATUS",
};

struct plugin_rows {
	size_t n, cap;
	char *(*rows)[N_COLS];
	size_t rejected;
};

/* Descriptor strings come from a plugin that may be hostile: keep the table one line per row. */
static char *cell(const char *s)
{
	if (!s || !*s)
		return xstrdup("-");
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

static void collect_row(void *arg, const struct loader_entry *e)
{
	struct plugin_rows *t = arg;
	xgrow(t->rows, t->cap, t->n + 1);
	char **row = t->rows[t->n++];
	struct strbuf sb;

	row[COL_FILE] = cell(e->path);
	if (e->desc) {
		const struct kerf_plugin_descriptor *d = e->desc;
		row[COL_NAME] = cell(d->name);
		sb_init(&sb);
		kinds_text(&sb, d->kinds);
		row[COL_KINDS] = sb_detach(&sb);
		row[COL_VERSION] = cell(d->version);
		sb_init(&sb);
		sb_printf(&sb, "%u.%u", (unsigned)d->abi_major, (unsigned)d->abi_minor);
		row[COL_ABI] = sb_detach(&sb);
		sb_init(&sb);
		caps_text(&sb, d->capabilities);
		row[COL_CAPS] = sb_detach(&sb);
	} else {
		for (int c = COL_NAME; c <= COL_CAPS; c++)
			row[c] = xstrdup("-");
	}
	if (e->rc == 0) {
		row[COL_STATUS] = xstrdup("loads");
	} else {
		row[COL_STATUS] = cell(err_text(e->err, e->rc));
		t->rejected++;
	}
}

/* Columns padded to their widest cell; the last (the status) is not padded. */
static void print_row(const char *const *cells, const size_t *width)
{
	for (int c = 0; c + 1 < N_COLS; c++)
		printf("%-*s  ", (int)width[c], cells[c]);
	printf("%s\n", cells[N_COLS - 1]);
}

static void print_rows(const struct plugin_rows *t)
{
	size_t width[N_COLS];
	for (int c = 0; c < N_COLS; c++)
		width[c] = strlen(col_titles[c]);
	for (size_t r = 0; r < t->n; r++)
		for (int c = 0; c < N_COLS; c++)
			if (strlen(t->rows[r][c]) > width[c])
				width[c] = strlen(t->rows[r][c]);
	print_row(col_titles, width);
	for (size_t r = 0; r < t->n; r++)
		print_row((const char *const *)t->rows[r], width);
}

static void free_rows(struct plugin_rows *t)
{
	for (size_t r = 0; r < t->n; r++)
		for (int c = 0; c < N_COLS; c++)
			free(t->rows[r][c]);
	free(t->rows);
}

/* One plugin a kerf.yaml names, with the kind it is used as. */
struct role {
	const char *what; /* "cluster", "provider", "packers[1]" */
	const char *name;
	uint32_t kind;
	const struct yt_node *at; /* where the file names it; NULL when defaulted */
};

struct roles {
	size_t n;
	struct role *items;
	char **labels;
};

static void roles_build(const struct cfg *c, struct roles *r)
{
	const struct yt_node *root = c->yaml && c->yaml->n ? c->yaml->docs[0].root : NULL;
	const struct yt_node *packers = yt_map_get(root, "packers");
	r->n = 2 + c->n_packers;
	r->items = xcalloc(r->n, sizeof(*r->items));
	r->labels = xcalloc(c->n_packers + 1, sizeof(*r->labels));
	r->items[0] =
	    (struct role){"cluster", c->cluster, KERF_KIND_CLUSTER, yt_map_get(root, "cluster")};
	r->items[1] = (struct role){"provider", c->provider, KERF_KIND_PROVIDER,
				    yt_map_get(root, "provider")};
	for (size_t i = 0; i < c->n_packers; i++) {
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "packers[%zu]", i);
		r->labels[i] = sb_detach(&sb);
		const struct yt_node *at = NULL;
		if (packers && packers->type == YT_SEQ && i < packers->n)
			at = packers->items[i];
		r->items[2 + i] = (struct role){r->labels[i], c->packers[i], KERF_KIND_PACKER, at};
	}
}

static void roles_free(struct roles *r, size_t n_packers)
{
	for (size_t i = 0; i < n_packers; i++)
		free(r->labels[i]);
	free(r->labels);
	free(r->items);
}

/* Prints "file:line:column: what: message" for a plugin named by a kerf.yaml. */
static void role_error(const struct cfg *c, const struct role *r, const char *msg)
{
	if (r->at)
		fprintf(stderr, "%s:%u:%u: %s: %s\n", c->path, r->at->line, r->at->column, r->what,
			msg);
	else
		fprintf(stderr, "%s:1:1: %s (default \"%s\"): %s\n", c->path, r->what, r->name,
			msg);
}

static int cmd_plugins(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"plugin-dir", required_argument, NULL, 'p'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *plugin_dir = NULL, *config = NULL;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "p:c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			plugin_dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			command_usage(find_command("plugins"), stdout);
			return 0;
		default:
			return command_usage(find_command("plugins"), stderr);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kerfctl plugins: unexpected argument \"%s\"\n", argv[optind]);
		return command_usage(find_command("plugins"), stderr);
	}

	struct kerf_error err;
	kerf_error_clear(&err);
	struct cfg *cfg = NULL;
	int rc;
	if (config && (rc = cfg_load_file(config, &cfg, &err)) != 0) {
		fprintf(stderr, "%s\n", err_text(&err, rc));
		return 1;
	}
	if (!plugin_dir && cfg)
		plugin_dir = cfg->plugin_dir;

	struct loader *l = NULL;
	if ((rc = loader_new(plugin_dir, &l, &err)) != 0) {
		fprintf(stderr, "kerfctl: %s\n", err_text(&err, rc));
		cfg_free(cfg);
		return 1;
	}

	const char *const *dirs;
	size_t n_dirs = loader_dirs(l, &dirs);
	printf("Plugin search path (first match wins):\n");
	for (size_t i = 0; i < n_dirs; i++)
		printf("  %s\n", dirs[i]);
	printf("\n");

	struct plugin_rows rows = {0};
	kerf_error_clear(&err);
	int scan_rc = loader_scan(l, collect_row, &rows, &err);
	if (rows.n)
		print_rows(&rows);
	else
		printf("No plugins found.\n");
	if (scan_rc)
		fprintf(stderr, "kerfctl: %s\n", err_text(&err, scan_rc));

	int status = 0;
	if (cfg) {
		struct roles roles;
		roles_build(cfg, &roles);
		for (size_t i = 0; i < roles.n; i++) {
			const struct loader_plugin *p;
			kerf_error_clear(&err);
			rc = loader_open(l, roles.items[i].name, roles.items[i].kind, &p, &err);
			if (rc) {
				role_error(cfg, &roles.items[i], err_text(&err, rc));
				status = 1;
			}
		}
		roles_free(&roles, cfg->n_packers);
	}
	free_rows(&rows);
	loader_free(l);
	cfg_free(cfg);
	return status;
}

/* ------------------------------------------------------------ validate */

/* Object counts for the "ok (...)" summary, in first-seen order. */
struct kind_count {
	char *kind;
	size_t n;
};

struct counts {
	size_t n, cap;
	struct kind_count *items;
};

static void count_kind(struct counts *c, const char *kind, size_t n)
{
	if (!kind)
		kind = "unknown";
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->items[i].kind, kind) == 0) {
			c->items[i].n += n;
			return;
		}
	}
	xgrow(c->items, c->cap, c->n + 1);
	c->items[c->n].kind = xstrdup(kind);
	c->items[c->n++].n = n;
}

static void count_set(struct counts *c, const struct mf_set *set)
{
	/* NodePools lead the summary even when there are none: they are what kerf scales. */
	count_kind(c, "NodePool", set->n_nodepools);
	count_kind(c, "NodeClaim", set->n_nodeclaims);
	for (size_t i = 0; i < set->n_node_classes; i++)
		count_kind(c, set->node_classes[i]->meta->kind, 1);
	for (size_t i = 0; i < set->n_other; i++)
		count_kind(c, yt_scalar_str(yt_map_get(set->other[i], "kind")), 1);
	for (size_t i = 0; i < set->n_other_kinds; i++)
		count_kind(c, set->other_kinds[i].kind, set->other_kinds[i].n);
}

static void counts_text(struct strbuf *sb, const struct counts *c)
{
	size_t start = sb->len;
	for (size_t i = 0; i < c->n; i++) {
		const struct kind_count *k = &c->items[i];
		if (k->n == 0 && strcmp(k->kind, "NodePool") != 0)
			continue;
		const char *plural = "";
		if (k->n != 1)
			plural = str_ends_with(k->kind, "s") ? "es" : "s";
		sb_printf(sb, "%s%zu %s%s", sb->len > start ? ", " : "", k->n, k->kind, plural);
	}
}

static void counts_free(struct counts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].kind);
	free(c->items);
}

static void print_diags(const struct mf_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->items[i].message);
}

/* The names of the provider plugins a scan finds loadable. */
struct provider_names {
	size_t n, cap;
	char **items;
};

static void collect_provider(void *arg, const struct loader_entry *e)
{
	struct provider_names *pn = arg;

	if (e->rc != 0 || !e->desc || !(e->desc->kinds & KERF_KIND_PROVIDER))
		return;
	xgrow(pn->items, pn->cap, pn->n + 1);
	pn->items[pn->n++] = xstrdup(e->desc->name);
}

/*
 * Lets set read the node class kinds of provider `only` (kerf.yaml's), or
 * with NULL of every provider plugin in the search path.  sim goes first:
 * a kind several plugins serve stays with the first, and the simulator
 * needs no cloud credentials.  A provider that does not open is skipped
 * (`kerfctl plugins` and the kerf.yaml checks say why).  Returns the number
 * of errors printed.
 */
static size_t add_providers(struct loader *l, const char *only, struct mf_set *set)
{
	struct provider_names pn = {0};
	struct kerf_error err;
	size_t errors = 0;

	kerf_error_clear(&err);
	if (only) {
		xgrow(pn.items, pn.cap, 1);
		pn.items[pn.n++] = xstrdup(only);
	} else {
		loader_scan(l, collect_provider, &pn, &err);
		for (size_t i = 1; i < pn.n; i++) {
			if (strcmp(pn.items[i], "sim") == 0) {
				char *sim = pn.items[i];
				memmove(pn.items + 1, pn.items, i * sizeof(*pn.items));
				pn.items[0] = sim;
			}
		}
	}
	for (size_t i = 0; i < pn.n; i++) {
		const struct loader_plugin *p;
		kerf_error_clear(&err);
		if (loader_open(l, pn.items[i], KERF_KIND_PROVIDER, &p, &err) != 0)
			continue;
		if (mf_set_add_provider(set, p->desc.name, &p->provider, &err) != 0) {
			fprintf(stderr, "kerfctl: %s: %s\n", p->path, err.message);
			errors++;
		}
	}
	for (size_t i = 0; i < pn.n; i++)
		free(pn.items[i]);
	free(pn.items);
	return errors;
}

/*
 * Loads one manifest file into set.  Returns the number of errors printed.
 * `at` positions an unreadable file in the kerf.yaml that listed it.
 */
static size_t load_manifests(struct mf_set *set, const char *path, const struct yt_node *at,
			     const char *what)
{
	struct mf_diags diags = {0};
	struct kerf_error err;
	kerf_error_clear(&err);
	int rc = mf_load_file(set, path, &diags, &err);
	size_t errors = 0;
	if (rc == KERF_E_CONFIG && diags.n) {
		print_diags(&diags);
		errors = diags.n;
	} else if (rc == KERF_E_IO && at) {
		fprintf(stderr, "%s:%u:%u: %s: %s\n", at->file, at->line, at->column, what,
			err_text(&err, rc));
		errors = 1;
	} else if (rc) {
		fprintf(stderr, "%s\n", err_text(&err, rc));
		errors = 1;
	}
	mf_diags_clear(&diags);
	return errors;
}

/*
 * One file's readers, fed one document at a time (yt_parse_file_each), so
 * that a large file is never held as a whole tree: its workloads (checked
 * or kept), its manifests in set (and in all, when not NULL, for checks
 * across files; its errors are not reported twice).
 */
struct file_read {
	struct mf_wl_reader *wl;
	struct mf_set *set, *all;
	struct mf_diags diags;
};

static int read_document(void *ctx, struct yt_stream *doc, struct kerf_error *err)
{
	struct file_read *r = ctx;
	struct kerf_error ignored;

	(void)err;
	mf_wl_reader_feed(r->wl, doc);
	kerf_error_clear(&ignored);
	mf_load_stream(r->set, yt_stream_ref(doc), &r->diags, &ignored);
	if (r->all) {
		kerf_error_clear(&ignored);
		mf_load_stream(r->all, yt_stream_ref(doc), NULL, &ignored);
	}
	return 0;
}

/*
 * Reads path into r (set, all and the workload reader made by the caller)
 * and prints every problem: a YAML error alone, else the workloads' then
 * the manifests'.  *out gets the workloads when the reader keeps them (NULL
 * on errors).  Returns the number of errors printed.
 */
static size_t read_file(const char *path, struct file_read *r, struct kerf_workload_list **out)
{
	struct kerf_error err, werr;
	char *report = NULL;
	size_t errors = 0;

	kerf_error_clear(&err);
	kerf_error_clear(&werr);
	int rc = yt_parse_file_each(path, 0, read_document, r, &err);
	int wrc = mf_wl_reader_end(r->wl, out, &report, &werr);
	if (rc) {
		fprintf(stderr, "%s\n", err_text(&err, rc));
		errors = 1;
	} else {
		if (wrc) {
			/* One line per problem. */
			const char *msg = report ? report : err_text(&werr, wrc);
			size_t lines = 0;
			fprintf(stderr, "%s%s", msg, str_ends_with(msg, "\n") ? "" : "\n");
			for (const char *c = msg; *c; c++)
				lines += *c == '\n';
			errors += lines ? lines : 1;
		}
		if (r->diags.n) {
			print_diags(&r->diags);
			errors += r->diags.n;
		}
	}
	if (errors && out) {
		kerf_workload_list_free(*out);
		*out = NULL;
	}
	free(report);
	mf_diags_clear(&r->diags);
	return errors;
}

/* What a file is, from its first two non-empty documents. */
struct file_kind {
	size_t docs;
	bool config;
};

/* A kerf.yaml is one mapping without apiVersion and kind; anything else is manifests. */
static int note_kind(void *ctx, struct yt_stream *doc, struct kerf_error *err)
{
	struct file_kind *k = ctx;
	const struct yt_node *root = doc->docs[0].root;

	(void)err;
	if (!root)
		return 0;
	if (k->docs++ == 0)
		k->config = root->type == YT_MAP && !yt_map_pair(root, "apiVersion") &&
			    !yt_map_pair(root, "kind");
	/* A second document makes manifests: the rest need not be read here. */
	return k->docs > 1;
}

/*
 * Karpenter holds a NodePool whose nodeClassRef names no node class not
 * Ready, and kerfd provisions nothing from it: a warning, since the class
 * may come from elsewhere (the cluster, a file not given).
 */
static void warn_unresolved(const struct mf_set *set, const char *where)
{
	for (size_t i = 0; i < set->n_nodepools; i++) {
		const struct kerf_nodepool *np = set->nodepools[i];
		const struct kerf_node_class_ref *ref = np->node_class_ref;
		if (mf_set_find_node_class(set, ref))
			continue;
		fprintf(stderr,
			"warning: NodePool %s: nodeClassRef names %s %s, not defined in %s; "
			"the NodePool is not Ready until it exists, and kerfd provisions nothing "
			"from it\n",
			np->meta->name, ref->kind ? ref->kind : "node class",
			ref->name ? ref->name : "(none)", where);
	}
}

static size_t validate_config(const char *path, const char *plugin_dir_override)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	struct cfg *cfg = NULL;
	int rc = cfg_load_file(path, &cfg, &err);
	if (rc) {
		fprintf(stderr, "%s\n", err_text(&err, rc));
		return 1;
	}

	size_t errors = 0;
	struct loader *l = NULL;
	const char *plugin_dir = plugin_dir_override ? plugin_dir_override : cfg->plugin_dir;
	if ((rc = loader_new(plugin_dir, &l, &err)) != 0) {
		const struct yt_node *root =
		    cfg->yaml && cfg->yaml->n ? cfg->yaml->docs[0].root : NULL;
		const struct yt_node *at =
		    plugin_dir_override ? NULL : yt_map_get(root, "plugin_dir");
		if (at)
			fprintf(stderr, "%s:%u:%u: %s\n", path, at->line, at->column,
				err_text(&err, rc));
		else
			fprintf(stderr, "%s: %s\n", path, err_text(&err, rc));
		cfg_free(cfg);
		return 1;
	}

	struct roles roles;
	roles_build(cfg, &roles);
	for (size_t i = 0; i < roles.n; i++) {
		const struct role *r = &roles.items[i];
		const struct loader_plugin *p;
		kerf_error_clear(&err);
		rc = loader_open(l, r->name, r->kind, &p, &err);
		if (rc) {
			role_error(cfg, r, err_text(&err, rc));
			errors++;
			continue;
		}
		/* One plugin may fill two roles (sim is cluster and provider): check its section
		 * once. */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(roles.items[j].name, r->name) == 0;
		if (seen)
			continue;
		struct cfg_section *sec = NULL;
		kerf_error_clear(&err);
		rc = cfg_plugin_section(cfg, r->name, p->schema, &sec, &err);
		if (rc) {
			fprintf(stderr, "%s\n", err_text(&err, rc));
			errors++;
		}
		cfg_section_free(sec);
	}
	roles_free(&roles, cfg->n_packers);

	const struct yt_node *root = cfg->yaml && cfg->yaml->n ? cfg->yaml->docs[0].root : NULL;
	const struct yt_node *list = yt_map_get(root, "manifests");
	struct mf_set set;
	mf_set_init(&set);
	set.other_counted = true;
	/* What kerfd would refuse; a manifest file alone is validated without a limit. */
	set.max_nodepools = (size_t)cfg->max_nodepools;
	errors += add_providers(l, cfg->provider, &set);
	for (size_t i = 0; i < cfg->n_manifests; i++) {
		const struct yt_node *at = NULL;
		if (list && list->type == YT_SEQ && i < list->n)
			at = list->items[i];
		char what[48];
		snprintf(what, sizeof(what), "manifests[%zu]", i);
		errors += load_manifests(&set, cfg->manifests[i], at, what);
	}
	if (errors == 0)
		warn_unresolved(&set, "kerf.yaml's manifests");

	if (errors == 0) {
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s: ok (kerf.yaml: cluster %s, provider %s, packer%s ", path,
			  cfg->cluster, cfg->provider, cfg->n_packers == 1 ? "" : "s");
		for (size_t i = 0; i < cfg->n_packers; i++)
			sb_printf(&sb, "%s%s", i ? "," : "", cfg->packers[i]);
		if (cfg->n_manifests) {
			struct counts counts = {0};
			count_set(&counts, &set);
			sb_printf(&sb, "; %zu manifest file%s: ", cfg->n_manifests,
				  cfg->n_manifests == 1 ? "" : "s");
			counts_text(&sb, &counts);
			counts_free(&counts);
		}
		printf("%s)\n", sb.buf);
		sb_free(&sb);
	}
	mf_set_clear(&set);
	loader_free(l);
	cfg_free(cfg);
	return errors;
}

/* `all` (NULL: none) gathers every manifest file's objects, to check references across files. */
static size_t validate_manifests(const char *path, const char *plugin_dir, struct mf_set *all)
{
	struct loader *l = NULL;
	struct kerf_error err;
	struct mf_set set;
	int rc;

	kerf_error_clear(&err);
	if ((rc = loader_new(plugin_dir, &l, &err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err_text(&err, rc));
		return 1;
	}
	mf_set_init(&set);
	set.other_counted = true;
	size_t errors = add_providers(l, NULL, &set);
	/* The workloads it holds are checked as simulate reads them, one at a time. */
	struct file_read r = {.wl = mf_wl_reader_new(NULL, false), .set = &set, .all = all};
	errors += read_file(path, &r, NULL);
	if (errors == 0) {
		struct counts counts = {0};
		struct strbuf sb;
		sb_init(&sb);
		count_set(&counts, &set);
		counts_text(&sb, &counts);
		printf("%s: ok (%s)\n", path, sb.buf);
		sb_free(&sb);
		counts_free(&counts);
	}
	mf_set_clear(&set);
	loader_free(l);
	return errors;
}

static size_t validate_file(const char *path, const char *plugin_dir, struct mf_set *all)
{
	struct file_kind k = {0};
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = yt_parse_file_each(path, 0, note_kind, &k, &err);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err_text(&err, rc));
		return 1;
	}
	if (k.docs == 0) {
		fprintf(stderr,
			"%s:1:1: empty file: neither a kerf.yaml nor Kubernetes manifests\n", path);
		return 1;
	}
	if (k.docs == 1 && k.config)
		return validate_config(path, plugin_dir);
	return validate_manifests(path, plugin_dir, all);
}

static int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"plugin-dir", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *plugin_dir = NULL;
	size_t n_files = 0;
	const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "f:p:h", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			files[n_files++] = optarg;
			break;
		case 'p':
			plugin_dir = optarg;
			break;
		case 'h':
			free(files);
			command_usage(find_command("validate"), stdout);
			return 0;
		default:
			free(files);
			return command_usage(find_command("validate"), stderr);
		}
	}
	/* Bare file names work too, as with most validators. */
	for (int i = optind; i < argc; i++)
		files[n_files++] = argv[i];
	if (n_files == 0) {
		free(files);
		fprintf(stderr, "kerfctl validate: no file given\n");
		return command_usage(find_command("validate"), stderr);
	}

	size_t errors = 0;
	struct loader *l = NULL;
	struct kerf_error err;
	struct mf_set all;
	mf_set_init(&all);
	/* Only its NodePools and node classes are looked at, across the files. */
	all.other_counted = true;
	kerf_error_clear(&err);
	/* A loader that fails is reported by each file's own check. */
	if (loader_new(plugin_dir, &l, &err) == 0)
		add_providers(l, NULL, &all);
	for (size_t i = 0; i < n_files; i++)
		errors += validate_file(files[i], plugin_dir, l ? &all : NULL);
	if (l && errors == 0)
		warn_unresolved(&all, "the files given");
	mf_set_clear(&all);
	loader_free(l);
	free(files);
	if (errors)
		fprintf(stderr, "%zu error%s\n", errors, errors == 1 ? "" : "s");
	return errors ? 1 : 0;
}

/* ------------------------------------------------------------ simulate */

/* What the -f files hold once read: NodePools and node classes, pods to place, DaemonSets. */
struct sim_input {
	struct mf_set set;
	size_t n_lists, cap_lists;
	struct kerf_workload_list **lists;
	size_t n_pods, cap_pods;
	struct kerf_pod **pods;
	size_t n_daemonsets, cap_daemonsets;
	const struct kerf_pod **daemonsets;
};

/*
 * The pending pods a workload stands for: a Pod itself, a controller's
 * replicas as NAME-1.., a StatefulSet's as NAME-0.. with the pod-name label
 * its controller sets, so selectors on that label behave as in a cluster.
 */
static void add_workload_pods(struct sim_input *in, struct kerf_workload *w)
{
	bool is_pod = strcmp(w->kind, "Pod") == 0;
	bool ordinal = strcmp(w->kind, "StatefulSet") == 0;

	for (int32_t r = 0; r < w->replicas; r++) {
		/* A Pod stands for itself: its one copy moves, so a file of Pods is held once. */
		struct kerf_pod *p = is_pod ? w->pod : kerf_pod_copy(w->pod);
		if (is_pod)
			w->pod = NULL;
		if (!is_pod) {
			struct strbuf sb;
			sb_init(&sb);
			sb_printf(&sb, "%s-%d", w->name, ordinal ? (int)r : (int)r + 1);
			free(p->meta->name);
			p->meta->name = sb_detach(&sb);
			if (ordinal &&
			    kerf_labels_set(&p->meta->labels, "statefulset.kubernetes.io/pod-name",
					    p->meta->name) != 0) {
				fprintf(stderr, "kerfctl simulate: out of memory\n");
				abort();
			}
		}
		xgrow(in->pods, in->cap_pods, in->n_pods + 1);
		in->pods[in->n_pods++] = p;
	}
}

/* The workloads of one file as pods to place; in takes l. */
static void add_workloads(struct sim_input *in, const char *path, struct kerf_workload_list *l)
{
	xgrow(in->lists, in->cap_lists, in->n_lists + 1);
	in->lists[in->n_lists++] = l;
	for (size_t i = 0; i < l->n; i++) {
		struct kerf_workload *w = &l->items[i];
		if (w->daemonset) {
			xgrow(in->daemonsets, in->cap_daemonsets, in->n_daemonsets + 1);
			in->daemonsets[in->n_daemonsets++] = w->pod;
		} else if (w->pod->node_name) {
			/* Bound pods belong to nodes this batch knows nothing about. */
			fprintf(stderr,
				"%s:%u:%u: note: %s %s/%s is bound to node %s: not simulated\n",
				path, w->line, w->column, w->kind, w->namespace_, w->name,
				w->pod->node_name);
		} else {
			add_workload_pods(in, w);
		}
	}
}

static void sim_input_clear(struct sim_input *in)
{
	for (size_t i = 0; i < in->n_pods; i++)
		kerf_pod_free(in->pods[i]);
	free(in->pods);
	free(in->daemonsets);
	for (size_t i = 0; i < in->n_lists; i++)
		kerf_workload_list_free(in->lists[i]);
	free(in->lists);
	mf_set_clear(&in->set);
}

/* One plugin instance made as kerfd makes it: its kerf.yaml section (cfg), or its defaults. */
static int sim_plugin_start(struct loader *l, const struct cfg *cfg, const char *name,
			    uint32_t kind, const char *role, struct plugin_instance *pi)
{
	const struct instance_env env = {.cfg = cfg, .network = true};
	struct kerf_error err;
	struct strbuf inst;
	int rc;

	kerf_error_clear(&err);
	rc = loader_open(l, name, kind, &pi->plugin, &err);
	if (rc == 0) {
		sb_init(&inst);
		sb_printf(&inst, "%s/%s", role, name);
		rc = instance_create(pi, inst.buf, &env, &err);
		sb_free(&inst);
	}
	/* A failed create() names the plugin itself; the other failures need the role. */
	if (rc == KERF_E_PLUGIN_CREATE)
		fprintf(stderr, "kerfctl simulate: %s\n", err_text(&err, rc));
	else if (rc)
		fprintf(stderr, "kerfctl simulate: %s %s: %s\n", role, name, err_text(&err, rc));
	return rc;
}

/* The instance types of each NodePool's node class, asked once per class. */
struct sim_classes {
	size_t n;
	const struct kerf_node_class_ref **refs;
	struct kerf_instance_type_list **types;
};

/* The provider instances the NodePools need, each started once. */
struct sim_providers {
	size_t n;
	struct plugin_instance *items;
};

static bool ref_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * The provider that launches a NodePool's nodes: kerf.yaml's, else the one
 * serving its node class kind, started on first use with its defaults.
 */
static int pool_provider(const struct sim_input *in, struct loader *l, const struct cfg *cfg,
			 struct sim_providers *provs, const struct kerf_nodepool *np,
			 const struct plugin_instance **out)
{
	const struct kerf_node_class_ref *ref = np->node_class_ref;
	const struct mf_node_class_kind *served = NULL;
	const char *name;
	int rc;

	if (cfg) {
		name = cfg->provider;
	} else if (ref->group && ref->kind &&
		   (served = mf_set_node_class_kind(&in->set, ref->group, ref->kind)) != NULL) {
		name = served->provider;
	} else {
		fprintf(
		    stderr,
		    "kerfctl simulate: NodePool %s: no provider plugin in the search path serves "
		    "node class kind %s (group %s); install one, or name one in a kerf.yaml (-c)\n",
		    np->meta->name, ref->kind ? ref->kind : "(none)",
		    ref->group ? ref->group : "(none)");
		return KERF_E_CONFIG;
	}
	for (size_t i = 0; i < provs->n; i++)
		if (strcmp(provs->items[i].plugin->desc.name, name) == 0) {
			*out = &provs->items[i];
			return 0;
		}
	provs->items = xrealloc(provs->items, (provs->n + 1) * sizeof(*provs->items));
	memset(&provs->items[provs->n], 0, sizeof(provs->items[provs->n]));
	rc =
	    sim_plugin_start(l, cfg, name, KERF_KIND_PROVIDER, "provider", &provs->items[provs->n]);
	if (rc == 0)
		*out = &provs->items[provs->n];
	/* Kept even when it failed, so that what it holds is freed with the rest. */
	provs->n++;
	return rc;
}

static void sim_providers_clear(struct sim_providers *provs)
{
	for (size_t i = 0; i < provs->n; i++)
		instance_destroy(&provs->items[i]);
	free(provs->items);
}

static int pool_types(const struct sim_input *in, const struct plugin_instance *provider,
		      struct sim_classes *cls, const struct kerf_nodepool *np,
		      struct kerf_instance_type_list **out)
{
	const struct kerf_node_class_ref *ref = np->node_class_ref;
	const char *name = ref->name ? ref->name : "";
	const struct kerf_node_class *nc;
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	for (size_t i = 0; i < cls->n; i++)
		if (ref_eq(cls->refs[i]->name, ref->name) &&
		    ref_eq(cls->refs[i]->kind, ref->kind) &&
		    ref_eq(cls->refs[i]->group, ref->group)) {
			*out = cls->types[i];
			return 0;
		}
	nc = mf_set_find_node_class(&in->set, ref);
	if (!nc)
		fprintf(stderr,
			"kerfctl simulate: note: NodePool %s: %s %s is not in the files given; "
			"the provider's defaults are used\n",
			np->meta->name, ref->kind ? ref->kind : "node class", name);
	kerf_error_clear(&err);
	*out = NULL;
	rc = provider->plugin->provider.get_instance_types(provider->state, nc, out, &err);
	if (rc) {
		fprintf(stderr, "kerfctl simulate: provider %s: instance types for %s: %s\n",
			provider->plugin->desc.name, name, err_text(&err, rc));
		return rc;
	}
	cls->refs = xrealloc(cls->refs, (cls->n + 1) * sizeof(*cls->refs));
	cls->types = xrealloc(cls->types, (cls->n + 1) * sizeof(*cls->types));
	cls->refs[cls->n] = ref;
	cls->types[cls->n++] = *out;
	return 0;
}

static void sim_classes_clear(struct sim_classes *cls)
{
	for (size_t i = 0; i < cls->n; i++)
		kerf_instance_type_list_free(cls->types[i]);
	free(cls->refs);
	free(cls->types);
}

/* Micro-dollars per hour as dollars with four decimals, rounded half up. */
static void price_text(struct strbuf *sb, kerf_price_t micro)
{
	int64_t tenk = (micro + 50) / 100;

	sb_printf(sb, "$%lld.%04lld", (long long)(tenk / 10000), (long long)(tenk % 10000));
}

static double price_dollars(kerf_price_t micro)
{
	return (double)micro / 1e6;
}

static void pod_text(struct strbuf *sb, const struct kerf_pod *p)
{
	sb_printf(sb, "%s/%s", p->meta->namespace_ ? p->meta->namespace_ : "default",
		  p->meta->name);
}

#define SIM_OPTIONS_SHOWN 5

/* The pods nothing could take, each with one reason per NodePool, and the total. */
/* One packer's plan for a pool: price, bound and gap ("no bound" when it proved none). */
static void plan_stats_text(struct strbuf *sb, const struct prov_plan_stats *st)
{
	sb_printf(sb, "%s, ", st->packer);
	price_text(sb, st->price);
	sb_puts(sb, " per hour, ");
	if (st->lower_bound > 0) {
		sb_puts(sb, "bound ");
		price_text(sb, st->lower_bound);
		sb_printf(sb, " (gap %.2f %%)",
			  100.0 * (double)(st->price - st->lower_bound) / (double)st->lower_bound);
	} else {
		sb_puts(sb, "no bound");
	}
	if (st->optimal)
		sb_puts(sb, ", optimal");
	if (st->hit_time_limit)
		sb_puts(sb, ", cut short by its time budget");
}

/* Which packer planned each NodePool, what it proved, and its shadow's plan. */
static void packing_text(struct strbuf *sb, const struct prov_input *pin,
			 const struct prov_result *r)
{
	if (!r->n_pool_stats)
		return;
	sb_puts(sb, "Packing per NodePool:\n");
	for (size_t i = 0; i < r->n_pool_stats; i++) {
		const struct prov_pool_stats *ps = &r->pool_stats[i];
		sb_printf(sb, "  %s: ", pin->pools[ps->pool].nodepool->meta->name);
		plan_stats_text(sb, &ps->primary);
		sb_puts(sb, "\n");
		if (ps->has_shadow) {
			sb_puts(sb, "    shadow (not acted on): ");
			plan_stats_text(sb, &ps->shadow);
			sb_puts(sb, "\n");
		}
	}
	sb_puts(sb, "\n");
}

static void text_tail(struct strbuf *sb, const struct prov_input *pin, const struct prov_result *r)
{
	packing_text(sb, pin, r);
	if (r->n_unschedulable)
		sb_printf(sb, "Unschedulable pods (%zu):\n", r->n_unschedulable);
	for (size_t i = 0; i < r->n_unschedulable; i++) {
		const struct prov_unschedulable *u = &r->unschedulable[i];
		sb_puts(sb, "  ");
		pod_text(sb, pin->pods[u->pod]);
		sb_puts(sb, "\n");
		for (size_t k = 0; k < u->n_reasons; k++)
			sb_printf(sb, "    %s: %s\n",
				  u->reasons[k].nodepool ? u->reasons[k].nodepool : "(no NodePool)",
				  u->reasons[k].text);
	}
	if (r->n_unschedulable)
		sb_puts(sb, "\n");
	sb_puts(sb, "total price per hour: ");
	price_text(sb, r->total_price);
	sb_puts(sb, "\n");
}

/* -o wide: every NodeClaim in full, its other options and its pods by name. */
static void print_wide(const struct prov_input *pin, const struct prov_result *r)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < r->n_claims; i++) {
		const struct prov_claim *c = &r->claims[i];
		char head[32];
		sb_printf(&sb, "NodeClaim %s\n  nodepool:      %s\n  instance type: %s\n",
			  c->claim->meta->name, c->claim->nodepool, c->type->name);
		sb_puts(&sb, "  other options: ");
		/* options[0] is the chosen type. */
		for (size_t o = 1; o < c->n_options && o <= SIM_OPTIONS_SHOWN; o++)
			sb_printf(&sb, "%s%s", o > 1 ? ", " : "", c->options[o]->name);
		if (c->n_options <= 1)
			sb_puts(&sb, "none");
		else if (c->n_options - 1 > SIM_OPTIONS_SHOWN)
			sb_printf(&sb, " and %zu more", c->n_options - 1 - SIM_OPTIONS_SHOWN);
		sb_printf(&sb,
			  "\n  zone:          %s\n  capacity type: %s\n  price:         ", c->zone,
			  kerf_capacity_type_name(c->capacity_type));
		price_text(&sb, c->price);
		snprintf(head, sizeof(head), "pods (%zu):", c->n_pods);
		sb_printf(&sb, " per hour\n  %-15s", head);
		for (size_t k = 0; k < c->n_pods; k++) {
			sb_puts(&sb, k ? ", " : "");
			pod_text(&sb, pin->pods[c->pods[k]]);
		}
		sb_puts(&sb, "\n\n");
	}
	text_tail(&sb, pin, r);
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

#define TABLE_COLUMNS 7

/* One cell, padded to its column; the last ends the line instead. */
static void table_cell(struct strbuf *sb, const char *text, size_t width, bool last)
{
	if (last)
		sb_printf(sb, "%s\n", text);
	else
		sb_printf(sb, "%-*s   ", (int)width, text);
}

/* The default: one line per NodeClaim, as `kubectl get` lists objects. */
static void print_table(const struct prov_input *pin, const struct prov_result *r)
{
	static const char *const head[TABLE_COLUMNS] = {"NAME",	    "NODEPOOL", "TYPE", "ZONE",
							"CAPACITY", "PRICE/H",	"PODS"};
	size_t width[TABLE_COLUMNS];
	char ***cells = xcalloc(r->n_claims + 1, sizeof(*cells));
	struct strbuf sb;

	for (size_t k = 0; k < TABLE_COLUMNS; k++)
		width[k] = strlen(head[k]);
	for (size_t i = 0; i < r->n_claims; i++) {
		const struct prov_claim *c = &r->claims[i];
		struct strbuf price;
		char pods[24];
		sb_init(&price);
		price_text(&price, c->price);
		snprintf(pods, sizeof(pods), "%zu", c->n_pods);
		cells[i] = xcalloc(TABLE_COLUMNS, sizeof(char *));
		cells[i][0] = xstrdup(c->claim->meta->name);
		cells[i][1] = xstrdup(c->claim->nodepool);
		cells[i][2] = xstrdup(c->type->name);
		cells[i][3] = xstrdup(c->zone ? c->zone : "");
		cells[i][4] = xstrdup(kerf_capacity_type_name(c->capacity_type));
		cells[i][5] = sb_detach(&price);
		cells[i][6] = xstrdup(pods);
		for (size_t k = 0; k < TABLE_COLUMNS; k++)
			if (strlen(cells[i][k]) > width[k])
				width[k] = strlen(cells[i][k]);
	}
	sb_init(&sb);
	if (r->n_claims) {
		for (size_t k = 0; k < TABLE_COLUMNS; k++)
			table_cell(&sb, head[k], width[k], k + 1 == TABLE_COLUMNS);
		for (size_t i = 0; i < r->n_claims; i++)
			for (size_t k = 0; k < TABLE_COLUMNS; k++)
				table_cell(&sb, cells[i][k], width[k], k + 1 == TABLE_COLUMNS);
		sb_puts(&sb, "\n");
	} else {
		sb_puts(&sb, "No NodeClaims.\n\n");
	}
	text_tail(&sb, pin, r);
	fputs(sb.buf, stdout);
	sb_free(&sb);
	for (size_t i = 0; i < r->n_claims; i++) {
		for (size_t k = 0; k < TABLE_COLUMNS; k++)
			free(cells[i][k]);
		free(cells[i]);
	}
	free(cells);
}

/* A YAML double-quoted scalar: JSON's escapes are YAML's. */
static void yaml_str(struct strbuf *sb, const char *s)
{
	sb_puts(sb, "\"");
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_printf(sb, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			sb_printf(sb, "\\x%02x", (unsigned char)*s);
		else
			sb_printf(sb, "%c", *s);
	}
	sb_puts(sb, "\"");
}

static void yaml_labels(struct strbuf *sb, const char *indent, const char *name,
			const struct kerf_labels *l)
{
	if (!l->n)
		return;
	sb_printf(sb, "%s%s:\n", indent, name);
	for (size_t i = 0; i < l->n; i++) {
		sb_printf(sb, "%s  ", indent);
		yaml_str(sb, l->items[i]->key);
		sb_puts(sb, ": ");
		yaml_str(sb, l->items[i]->value);
		sb_puts(sb, "\n");
	}
}

static void yaml_quantity(struct strbuf *sb, const char *indent, const char *name, int64_t v,
			  int scale)
{
	char q[48];

	kerf_quantity_format(v, scale, q, sizeof(q));
	sb_printf(sb, "%s%s: ", indent, name);
	yaml_str(sb, q);
	sb_puts(sb, "\n");
}

static void yaml_taints(struct strbuf *sb, const char *name, const struct kerf_taints *t)
{
	if (!t->n)
		return;
	sb_printf(sb, "  %s:\n", name);
	for (size_t i = 0; i < t->n; i++) {
		sb_puts(sb, "    - key: ");
		yaml_str(sb, t->items[i]->key);
		if (t->items[i]->value) {
			sb_puts(sb, "\n      value: ");
			yaml_str(sb, t->items[i]->value);
		}
		sb_printf(sb, "\n      effect: %s\n", kerf_effect_name(t->items[i]->effect));
	}
}

/* -o yaml: the NodeClaims as Karpenter would create them (karpenter.sh/v1). */
static void print_yaml(const struct prov_result *r)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < r->n_claims; i++) {
		const struct kerf_nodeclaim *c = r->claims[i].claim;
		const struct kerf_resources *rq = &c->resource_requests;
		sb_puts(&sb,
			"---\napiVersion: karpenter.sh/v1\nkind: NodeClaim\nmetadata:\n  name: ");
		yaml_str(&sb, c->meta->name);
		sb_puts(&sb, "\n");
		yaml_labels(&sb, "  ", "labels", &c->meta->labels);
		yaml_labels(&sb, "  ", "annotations", &c->meta->annotations);
		sb_puts(&sb, "spec:\n  nodeClassRef:\n    group: ");
		yaml_str(&sb, c->node_class_ref->group);
		sb_puts(&sb, "\n    kind: ");
		yaml_str(&sb, c->node_class_ref->kind);
		sb_puts(&sb, "\n    name: ");
		yaml_str(&sb, c->node_class_ref->name);
		sb_puts(&sb, "\n  requirements:\n");
		for (size_t k = 0; k < c->requirements.n; k++) {
			const struct kerf_requirement *q = c->requirements.items[k];
			sb_puts(&sb, "    - key: ");
			yaml_str(&sb, q->key);
			sb_printf(&sb, "\n      operator: %s\n", kerf_operator_name(q->op));
			if (q->n_values) {
				sb_puts(&sb, "      values:\n");
				for (size_t v = 0; v < q->n_values; v++) {
					sb_puts(&sb, "        - ");
					yaml_str(&sb, q->values[v]);
					sb_puts(&sb, "\n");
				}
			}
			if (q->min_values > 0)
				sb_printf(&sb, "      minValues: %d\n", (int)q->min_values);
		}
		sb_puts(&sb, "  resources:\n    requests:\n");
		yaml_quantity(&sb, "      ", "cpu", rq->cpu_millis, 3);
		yaml_quantity(&sb, "      ", "memory", rq->memory_bytes, 0);
		if (rq->ephemeral_bytes)
			yaml_quantity(&sb, "      ", "ephemeral-storage", rq->ephemeral_bytes, 0);
		yaml_quantity(&sb, "      ", "pods", rq->pods, 0);
		for (uint32_t k = 0; k < rq->n_ext; k++)
			yaml_quantity(&sb, "      ", rq->ext[k].name, rq->ext[k].value, 0);
		yaml_taints(&sb, "taints", &c->taints);
		yaml_taints(&sb, "startupTaints", &c->startup_taints);
		if (c->expire_after_ms < 0)
			sb_puts(&sb, "  expireAfter: Never\n");
		else if (c->expire_after_ms % 3600000 == 0)
			sb_printf(&sb, "  expireAfter: %lldh\n",
				  (long long)(c->expire_after_ms / 3600000));
		else
			sb_printf(&sb, "  expireAfter: %llds\n",
				  (long long)(c->expire_after_ms / 1000));
	}
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

static json_t *pod_json(const struct kerf_pod *p)
{
	struct strbuf sb;
	json_t *j;

	sb_init(&sb);
	pod_text(&sb, p);
	j = json_string(sb.buf);
	sb_free(&sb);
	return j;
}

static json_t *claim_json(const struct prov_input *pin, const struct prov_claim *c)
{
	json_t *o = json_object(), *opts = json_array(), *pods = json_array();

	json_object_set_new(o, "name", json_string(c->claim->meta->name));
	json_object_set_new(o, "nodepool", json_string(c->claim->nodepool));
	json_object_set_new(o, "instance_type", json_string(c->type->name));
	for (size_t k = 0; k < c->n_options; k++)
		json_array_append_new(opts, json_string(c->options[k]->name));
	json_object_set_new(o, "options", opts);
	json_object_set_new(o, "zone", json_string(c->zone));
	json_object_set_new(o, "capacity_type",
			    json_string(kerf_capacity_type_name(c->capacity_type)));
	json_object_set_new(o, "price_per_hour", json_real(price_dollars(c->price)));
	json_object_set_new(o, "price_micro_usd_per_hour", json_integer(c->price));
	for (size_t k = 0; k < c->n_pods; k++)
		json_array_append_new(pods, pod_json(pin->pods[c->pods[k]]));
	json_object_set_new(o, "pods", pods);
	return o;
}

static json_t *plan_stats_json(const struct prov_plan_stats *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "packer", json_string(st->packer));
	json_object_set_new(o, "price_micro_usd_per_hour", json_integer(st->price));
	json_object_set_new(o, "lower_bound_micro_usd_per_hour", json_integer(st->lower_bound));
	json_object_set_new(
	    o, "gap_percent",
	    st->lower_bound > 0
		? json_real(100.0 * (double)(st->price - st->lower_bound) / (double)st->lower_bound)
		: json_null());
	json_object_set_new(o, "optimal", json_boolean(st->optimal));
	json_object_set_new(o, "work", json_integer(st->work));
	json_object_set_new(o, "hit_time_limit", json_boolean(st->hit_time_limit));
	return o;
}

static json_t *packing_json(const struct prov_input *pin, const struct prov_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_pool_stats; i++) {
		const struct prov_pool_stats *ps = &r->pool_stats[i];
		json_t *o = plan_stats_json(&ps->primary);
		json_object_set_new(o, "nodepool",
				    json_string(pin->pools[ps->pool].nodepool->meta->name));
		if (ps->has_shadow)
			json_object_set_new(o, "shadow", plan_stats_json(&ps->shadow));
		json_array_append_new(a, o);
	}
	return a;
}

static void print_json(const struct prov_input *pin, const struct prov_result *r)
{
	json_t *doc = json_object(), *claims = json_array(), *unsched = json_array();
	char *text;

	for (size_t i = 0; i < r->n_claims; i++)
		json_array_append_new(claims, claim_json(pin, &r->claims[i]));
	for (size_t i = 0; i < r->n_unschedulable; i++) {
		const struct prov_unschedulable *u = &r->unschedulable[i];
		json_t *o = json_object(), *reasons = json_array();
		json_object_set_new(o, "pod", pod_json(pin->pods[u->pod]));
		for (size_t k = 0; k < u->n_reasons; k++) {
			json_t *why = json_object();
			json_object_set_new(why, "nodepool",
					    u->reasons[k].nodepool
						? json_string(u->reasons[k].nodepool)
						: json_null());
			json_object_set_new(why, "reason", json_string(u->reasons[k].text));
			json_array_append_new(reasons, why);
		}
		json_object_set_new(o, "reasons", reasons);
		json_array_append_new(unsched, o);
	}
	json_object_set_new(doc, "nodeclaims", claims);
	json_object_set_new(doc, "unschedulable", unsched);
	json_object_set_new(doc, "nodepools", packing_json(pin, r));
	json_object_set_new(doc, "total_price_per_hour", json_real(price_dollars(r->total_price)));
	json_object_set_new(doc, "total_price_micro_usd_per_hour", json_integer(r->total_price));
	/* 15 significant digits print prices as written ($0.1664, not 0.16639999999999999). */
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	if (!text) {
		fprintf(stderr, "kerfctl simulate: out of memory\n");
		abort();
	}
	printf("%s\n", text);
	free(text);
	json_decref(doc);
}

/*
 * The packers a simulation loaded, each once however many NodePools name
 * it.  Each entry is allocated on its own, so the prov_packer a pool
 * points at stays put as more are loaded.
 */
struct sim_packer {
	struct plugin_instance inst;
	struct prov_packer pk;
};

struct sim_packers {
	size_t n, cap;
	struct sim_packer **items;
};

static int sim_packer_named(struct loader *l, const struct cfg *cfg, struct sim_packers *sp,
			    const char *name, const struct prov_packer **out)
{
	struct sim_packer *p;
	int rc;

	for (size_t i = 0; i < sp->n; i++)
		if (strcmp(sp->items[i]->pk.name, name) == 0) {
			*out = &sp->items[i]->pk;
			return 0;
		}
	p = xcalloc(1, sizeof(*p));
	rc = sim_plugin_start(l, cfg, name, KERF_KIND_PACKER, "packer", &p->inst);
	if (rc) {
		instance_destroy(&p->inst);
		free(p);
		return rc;
	}
	p->pk =
	    (struct prov_packer){&p->inst.plugin->packer, p->inst.state, p->inst.plugin->desc.name};
	xgrow(sp->items, sp->cap, sp->n + 1);
	sp->items[sp->n++] = p;
	*out = &p->pk;
	return 0;
}

static void sim_packers_clear(struct sim_packers *sp)
{
	for (size_t i = 0; i < sp->n; i++) {
		instance_destroy(&sp->items[i]->inst);
		free(sp->items[i]);
	}
	free(sp->items);
	memset(sp, 0, sizeof(*sp));
}

/*
 * The batch hash kerfd would give these pods, so a split NodePool takes the
 * packer kerfd would give this batch.
 */
static uint64_t sim_batch_hash(const struct sim_input *in)
{
	char **keys = xcalloc(in->n_pods + 1, sizeof(*keys));
	uint64_t h;

	for (size_t i = 0; i < in->n_pods; i++) {
		struct strbuf sb;
		sb_init(&sb);
		const struct kerf_meta *m = in->pods[i]->meta;
		sb_printf(&sb, "%s/%s", m->namespace_ ? m->namespace_ : "default", m->name);
		keys[i] = sb_detach(&sb);
	}
	h = prov_batch_hash((const char *const *)keys, in->n_pods);
	for (size_t i = 0; i < in->n_pods; i++)
		free(keys[i]);
	free(keys);
	return h;
}

/*
 * Each NodePool's packer as kerfd would choose it for this batch: its
 * kerf.dev/packer annotation, else kerf.yaml's nodepools entry, else the
 * default; a split takes the entry kerfd's hash of this batch picks; the
 * shadow plans beside it.  `forced` (--packer) overrides them all.
 */
static int sim_pool_packers(struct sim_input *in, struct loader *l, const struct cfg *cfg,
			    const char *forced, const char *dflt, struct sim_packers *sp,
			    struct prov_pool *pools)
{
	uint64_t hash = sim_batch_hash(in);
	int rc = 0;

	for (size_t i = 0; i < in->set.n_nodepools && rc == 0; i++) {
		const struct kerf_nodepool *np = in->set.nodepools[i];
		struct prov_selection ps = {0};
		struct cfg_packer_weight *w = NULL;
		struct kerf_error err;
		unsigned *weights;
		size_t n = 0;

		if (!forced)
			prov_selection_of(cfg ? cfg->nodepools : NULL, cfg ? cfg->n_nodepools : 0,
					  np, &ps);
		kerf_error_clear(&err);
		if (cfg_packer_spec_parse(forced      ? forced
					  : ps.packer ? ps.packer
						      : dflt,
					  &n, &w, &err) != 0) {
			fprintf(stderr, "kerfctl simulate: NodePool/%s: %s: %s\n", np->meta->name,
				forced	    ? "--packer"
				: ps.packer ? ps.packer_at
					    : "the default packer",
				err.message);
			return 1;
		}
		weights = xcalloc(n + 1, sizeof(*weights));
		for (size_t k = 0; k < n; k++)
			weights[k] = w[k].weight;
		rc = sim_packer_named(l, cfg, sp,
				      w[prov_split_pick(np->meta->name, hash, weights, n)].name,
				      &pools[i].packer);
		free(weights);
		cfg_packer_weights_free(n, w);
		if (rc == 0 && ps.shadow && strcmp(ps.shadow, pools[i].packer->name) != 0)
			rc = sim_packer_named(l, cfg, sp, ps.shadow, &pools[i].shadow);
	}
	return rc;
}

/* The plugins, the instance types and the batch; returns the exit status. */
static int simulate(struct sim_input *in, struct loader *l, const struct cfg *cfg,
		    const char *packer, const char *output)
{
	struct sim_packers packers = {0};
	const struct prov_packer *dflt = NULL;
	struct sim_providers provs = {0};
	struct sim_classes cls = {0};
	struct prov_pool *pools = xcalloc(in->set.n_nodepools + 1, sizeof(*pools));
	struct prov_result *res = NULL;
	struct prov_input pin;
	struct kerf_error err;
	bool http_ready = false;
	int rc;

	kerf_error_clear(&err);
	/* A provider for a real cloud asks it for prices and offerings. */
	if ((rc = http_global_init(&err)) == 0)
		http_ready = true;
	if (rc) {
		fprintf(stderr, "kerfctl simulate: %s\n", err_text(&err, rc));
		goto out;
	}
	if ((rc = sim_packer_named(l, cfg, &packers,
				   packer			? packer
				   : cfg && cfg->default_packer ? cfg->default_packer
								: CFG_DEFAULT_PACKER,
				   &dflt)) != 0)
		goto out;
	for (size_t i = 0; i < in->set.n_nodepools; i++) {
		const struct kerf_nodepool *np = in->set.nodepools[i];
		const struct plugin_instance *prov = NULL;
		struct kerf_instance_type_list *types;
		if ((rc = pool_provider(in, l, cfg, &provs, np, &prov)) != 0 ||
		    (rc = pool_types(in, prov, &cls, np, &types)) != 0)
			goto out;
		pools[i] =
		    (struct prov_pool){.nodepool = np,
				       .types = types,
				       .class_selectors = prov->plugin->provider.class_selectors};
	}
	if ((rc = sim_pool_packers(in, l, cfg, packer, dflt->name, &packers, pools)) != 0)
		goto out;
	memset(&pin, 0, sizeof(pin));
	pin.n_pods = in->n_pods;
	pin.pods = (const struct kerf_pod *const *)in->pods;
	pin.n_pools = in->set.n_nodepools;
	pin.pools = pools;
	pin.n_daemonsets = in->n_daemonsets;
	pin.daemonsets = in->daemonsets;
	pin.packer = dflt->ops;
	pin.packer_inst = dflt->inst;
	pin.packer_name = dflt->name;
	if ((rc = prov_run(&pin, &res, &err)) != 0) {
		fprintf(stderr, "kerfctl simulate: %s\n", err_text(&err, rc));
		goto out;
	}
	if (strcmp(output, "json") == 0)
		print_json(&pin, res);
	else if (strcmp(output, "yaml") == 0)
		print_yaml(res);
	else if (strcmp(output, "wide") == 0)
		print_wide(&pin, res);
	else
		print_table(&pin, res);
out:
	prov_result_free(res);
	sim_classes_clear(&cls);
	free(pools);
	sim_packers_clear(&packers);
	sim_providers_clear(&provs);
	if (http_ready)
		http_global_cleanup();
	return rc ? 1 : 0;
}

static int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},   {"packer", required_argument, NULL, 'P'},
	    {"config", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *packer = NULL, *config = NULL, *output = "text";
	const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
	const struct command *me = find_command("simulate");
	struct sim_input in;
	struct cfg *cfg = NULL;
	struct loader *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	size_t n_files = 0, errors = 0;
	int o, status;

	optind = 0;
	while ((o = getopt_long(argc, argv, "f:c:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			files[n_files++] = optarg;
			break;
		case 'P':
			packer = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			free(files);
			command_usage(me, stdout);
			return 0;
		default:
			free(files);
			return command_usage(me, stderr);
		}
	}
	for (int i = optind; i < argc; i++)
		files[n_files++] = argv[i];
	if (n_files == 0 || (strcmp(output, "text") != 0 && strcmp(output, "wide") != 0 &&
			     strcmp(output, "json") != 0 && strcmp(output, "yaml") != 0)) {
		if (n_files == 0)
			fprintf(stderr, "kerfctl simulate: no file given\n");
		else
			fprintf(stderr,
				"kerfctl simulate: -o takes text, wide, json or yaml, not \"%s\"\n",
				output);
		free(files);
		return command_usage(me, stderr);
	}
	kerf_error_clear(&err);
	if (config && (o = cfg_load_file(config, &cfg, &err)) != 0) {
		fprintf(stderr, "%s\n", err_text(&err, o));
		free(files);
		return 1;
	}
	if ((o = loader_new(cfg ? cfg->plugin_dir : NULL, &l, &err)) != 0) {
		fprintf(stderr, "kerfctl simulate: %s\n", err_text(&err, o));
		cfg_free(cfg);
		free(files);
		return 1;
	}
	memset(&in, 0, sizeof(in));
	mf_set_init(&in.set);
	/* The node classes are the providers' to read: they must be known first. */
	errors += add_providers(l, cfg ? cfg->provider : NULL, &in.set);
	/* Other kinds are the workloads, read as such: the set need keep no tree. */
	in.set.other_counted = true;
	in.set.max_nodepools = cfg ? (size_t)cfg->max_nodepools : CFG_DEFAULT_MAX_NODEPOOLS;
	for (size_t i = 0; i < n_files; i++) {
		/* Every pod of every file is held at once: the limits are on the whole simulation.
		 */
		const struct kerf_workload_limits lim = {
		    .max_pods_per_workload = cfg ? cfg->max_pods_per_workload : 0,
		    .max_pods = cfg ? cfg->max_pods : 0,
		    .pods_before = (int64_t)in.n_pods,
		};
		struct file_read r = {.wl = mf_wl_reader_new(&lim, true), .set = &in.set};
		struct kerf_workload_list *wl = NULL;
		errors += read_file(files[i], &r, &wl);
		if (wl)
			add_workloads(&in, files[i], wl);
	}
	if (errors) {
		fprintf(stderr, "%zu error%s\n", errors, errors == 1 ? "" : "s");
		status = 1;
	} else {
		status = simulate(&in, l, cfg, packer, output);
	}
	sim_input_clear(&in);
	loader_free(l);
	cfg_free(cfg);
	free(files);
	return status;
}

/* ------------------------------------------------------------ ab-report */

static void print_json_doc(const char *cmd, json_t *doc)
{
	/* 15 significant digits print prices as written ($0.1664, not 0.16639999999999999). */
	char *text =
	    json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));

	if (!text) {
		fprintf(stderr, "kerfctl %s: out of memory\n", cmd);
		abort();
	}
	printf("%s\n", text);
	free(text);
}

/* A kerfd --report file given alone: its "ab" section, which holds no per-batch data. */
static int ab_report_section(const char *path, json_t *ab, const char *nodepool, bool json)
{
	struct kerf_error err;
	int rc;

	kerf_error_clear(&err);
	if ((rc = ab_section_keep_nodepool(ab, nodepool, &err)) != 0) {
		fprintf(stderr, "kerfctl ab-report: %s: %s\n", path, err_text(&err, rc));
		return 1;
	}
	if (json)
		print_json_doc("ab-report", ab);
	else
		ab_section_print(ab, stdout);
	return 0;
}

/* ---------------------------------------------------- disruption-report */

/* What the decision log says about disruption and termination. */
struct disruption_sums {
	json_t *by_reason; /* reason -> nodes */
	json_t *by_method; /* method -> decisions */
	json_t *pending; /* first NodeClaim of a replacing decision -> its saving, until it ends */
	json_int_t decisions, rollbacks, pods_moved, saved, evicted, refused, drains, drain_ms,
	    drain_max_ms;
};

static void json_add(json_t *o, const char *key, json_int_t n)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + n));
}

static json_int_t int_or_0(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void disruption_line(struct disruption_sums *s, const json_t *line)
{
	const char *event = json_string_value(json_object_get(line, "event"));
	if (!event)
		return;
	if (strcmp(event, "disruption") == 0) {
		const json_t *claims = json_object_get(line, "nodeclaims");
		const char *first = json_string_value(json_array_get(claims, 0));
		const char *reason = json_string_value(json_object_get(line, "reason"));
		const char *method = json_string_value(json_object_get(line, "method"));
		json_int_t saving = int_or_0(line, "price_before_micro_usd_per_hour") -
				    int_or_0(line, "price_after_micro_usd_per_hour");
		s->decisions++;
		json_add(s->by_method, method ? method : "unknown", 1);
		json_add(s->by_reason, reason ? reason : "unknown",
			 (json_int_t)json_array_size(claims));
		s->pods_moved += int_or_0(line, "pods");
		/* An expired node's replacement is provisioning's: nothing saved. */
		if (reason && strcmp(reason, "Expired") != 0 && first)
			json_object_set_new(s->pending, first, json_integer(saving));
		return;
	}
	if (strcmp(event, "disruption-rollback") == 0) {
		const char *claim = json_string_value(json_object_get(line, "nodeclaim"));
		s->rollbacks++;
		if (claim)
			json_object_del(s->pending, claim);
		return;
	}
	if (!json_object_get(line, "drain_ms"))
		return;
	/* An ended NodeClaim: its drain, and the saving of the decision that ended it. */
	const char *claim = json_string_value(json_object_get(line, "nodeclaim"));
	const json_t *saving = claim ? json_object_get(s->pending, claim) : NULL;
	if (saving) {
		s->saved += json_integer_value(saving);
		json_object_del(s->pending, claim);
	}
	json_int_t ms = int_or_0(line, "drain_ms");
	s->evicted += int_or_0(line, "evicted");
	s->refused += int_or_0(line, "evictions_refused");
	s->drains++;
	s->drain_ms += ms;
	if (ms > s->drain_max_ms)
		s->drain_max_ms = ms;
}

static int disruption_read(struct disruption_sums *s, const char *path)
{
	char line[1 << 16];
	FILE *f = fopen(path, "r");
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "kerfctl disruption-report: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		lineno++;
		if (!json_is_object(o)) {
			fprintf(stderr, "kerfctl disruption-report: %s:%u: not a JSON object: %s\n",
				path, lineno, jerr.text);
			json_decref(o);
			fclose(f);
			return 1;
		}
		disruption_line(s, o);
		json_decref(o);
	}
	fclose(f);
	return 0;
}

static int cmd_disruption_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct command *me = find_command("disruption-report");
	const char *output = "text";
	int o, status = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			command_usage(me, stdout);
			return 0;
		default:
			return command_usage(me, stderr);
		}
	}
	if (optind == argc) {
		fprintf(stderr, "kerfctl disruption-report: no decision log given\n");
		return command_usage(me, stderr);
	}
	if (strcmp(output, "text") != 0 && strcmp(output, "json") != 0) {
		fprintf(stderr, "kerfctl disruption-report: -o takes json or text, not \"%s\"\n",
			output);
		return command_usage(me, stderr);
	}
	struct disruption_sums s = {
	    .by_reason = json_object(), .by_method = json_object(), .pending = json_object()};
	for (int i = optind; i < argc && !status; i++)
		status = disruption_read(&s, argv[i]);
	if (!status && strcmp(output, "json") == 0) {
		json_t *doc = json_pack("{sI sO sO sI sI sI sI sI sI sI}", "decisions", s.decisions,
					"nodes_by_reason", s.by_reason, "decisions_by_method",
					s.by_method, "rollbacks", s.rollbacks, "pods_moved",
					s.pods_moved, "saved_micro_usd_per_hour", s.saved,
					"pods_evicted", s.evicted, "evictions_refused", s.refused,
					"drains", s.drains, "drain_max_ms", s.drain_max_ms);
		print_json_doc("disruption-report", doc);
		json_decref(doc);
	} else if (!status) {
		const char *key;
		json_t *v;
		printf("disruption decisions: %lld (%lld rolled back)\n", (long long)s.decisions,
		       (long long)s.rollbacks);
		json_object_foreach(s.by_method, key, v)
		    printf("  %-26s %lld\n", key, (long long)json_integer_value(v));
		printf("nodes disrupted by reason:\n");
		json_object_foreach(s.by_reason, key, v)
		    printf("  %-26s %lld\n", key, (long long)json_integer_value(v));
		printf("pods moved:             %lld\n", (long long)s.pods_moved);
		printf("saved per hour:         $%.4f\n", (double)s.saved / 1e6);
		printf("pods evicted:           %lld (%lld evictions refused by a disruption "
		       "budget)\n",
		       (long long)s.evicted, (long long)s.refused);
		printf("drains:                 %lld, mean %.1f s, longest %.1f s\n",
		       (long long)s.drains,
		       s.drains ? (double)s.drain_ms / (double)s.drains / 1000 : 0.0,
		       (double)s.drain_max_ms / 1000);
	}
	json_decref(s.by_reason);
	json_decref(s.by_method);
	json_decref(s.pending);
	return status;
}

static int cmd_ab_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"nodepool", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct command *me = find_command("ab-report");
	const char *output = "text", *nodepool = NULL;
	struct ab_report *r;
	struct kerf_error err = KERF_ERROR_INIT;
	int o, rc, status = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			output = optarg;
			break;
		case 'n':
			nodepool = optarg;
			break;
		case 'h':
			command_usage(me, stdout);
			return 0;
		default:
			return command_usage(me, stderr);
		}
	}
	if (optind == argc) {
		fprintf(stderr, "kerfctl ab-report: no decision log given\n");
		return command_usage(me, stderr);
	}
	if (strcmp(output, "text") != 0 && strcmp(output, "json") != 0) {
		fprintf(stderr, "kerfctl ab-report: -o takes json or text, not \"%s\"\n", output);
		return command_usage(me, stderr);
	}
	bool json = strcmp(output, "json") == 0;
	for (int i = optind; i < argc; i++) {
		json_t *ab;
		kerf_error_clear(&err);
		if ((rc = ab_kerfd_report_section(argv[i], &ab, &err)) != 0) {
			fprintf(stderr, "kerfctl ab-report: %s\n", err_text(&err, rc));
			return 1;
		}
		if (!ab)
			continue;
		if (argc - optind > 1) {
			fprintf(stderr,
				"kerfctl ab-report: %s is a kerfd --report file: give it alone, "
				"or give the decision logs\n",
				argv[i]);
			json_decref(ab);
			return EXIT_USAGE;
		}
		status = ab_report_section(argv[i], ab, nodepool, json);
		json_decref(ab);
		return status;
	}
	r = ab_new();
	for (int i = optind; i < argc && !status; i++) {
		kerf_error_clear(&err);
		if ((rc = ab_read_file(r, argv[i], &err)) != 0) {
			fprintf(stderr, "kerfctl ab-report: %s\n", err_text(&err, rc));
			status = 1;
		}
	}
	const char *warnings = ab_warnings(r);
	for (const char *w = warnings, *nl; w && *w; w = nl + 1) {
		nl = strchr(w, '\n');
		fprintf(stderr, "kerfctl ab-report: warning: %.*s\n", (int)(nl - w), w);
	}
	kerf_error_clear(&err);
	if (!status && nodepool && (rc = ab_keep_nodepool(r, nodepool, &err)) != 0) {
		fprintf(stderr, "kerfctl ab-report: %s\n", err_text(&err, rc));
		status = 1;
	}
	if (!status && json) {
		json_t *doc = ab_json(r);
		print_json_doc("ab-report", doc);
		json_decref(doc);
	} else if (!status) {
		ab_print(r, stdout);
	}
	ab_free(r);
	return status;
}

/* ------------------------------------------------------------ misc */

/* The CustomResourceDefinitions for a cluster without Karpenter: the same
 * field tree `validate` checks manifests against. */
static int cmd_crds(int argc, char **argv)
{
	static const char *const kind_names[CRD_N_KINDS] = {"NodePool", "NodeClaim",
							    "EC2NodeClass"};
	bool json = false;
	int only = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "json") == 0) {
				json = true;
			} else if (strcmp(argv[i], "yaml") != 0) {
				fprintf(stderr, "kerfctl crds: unknown output \"%s\"\n", argv[i]);
				return command_usage(find_command("crds"), stderr);
			}
		} else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
			i++;
			for (int k = 0; k < CRD_N_KINDS; k++)
				if (strcmp(argv[i], kind_names[k]) == 0)
					only = k;
			if (only < 0) {
				fprintf(stderr, "kerfctl crds: unknown kind \"%s\"\n", argv[i]);
				return command_usage(find_command("crds"), stderr);
			}
		} else {
			fprintf(stderr, "kerfctl crds: unexpected argument \"%s\"\n", argv[i]);
			return command_usage(find_command("crds"), stderr);
		}
	}
	json_t *list = json_array();
	for (int k = 0; k < CRD_N_KINDS; k++)
		if (only < 0 || only == k)
			json_array_append_new(list, crd_definition(k));
	if (json) {
		/* One document: a v1 List, which kubectl apply -f takes as it is. */
		json_t *doc =
		    json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", list);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		size_t i;
		json_t *crd;
		json_array_foreach(list, i, crd) {
			crd_write_yaml(stdout, crd);
		}
	}
	json_decref(list);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "kerfctl version: unexpected argument \"%s\"\n", argv[1]);
		return command_usage(find_command("version"), stderr);
	}
	printf("kerfctl (kerf) %s\nplugin ABI %d.%d\nplugin directory %s\n", PACKAGE_VERSION,
	       KERF_ABI_MAJOR, KERF_ABI_MINOR, KERF_PLUGINDIR);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct command *c = find_command(argv[1]);
		if (!c) {
			fprintf(stderr, "kerfctl: unknown command \"%s\"\n", argv[1]);
			usage(stderr);
			return EXIT_USAGE;
		}
		command_usage(c, stdout);
		return 0;
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	/* Messages from the core (loader, config) use the logger: keep them terse. */
	log_init(KERF_LOG_WARN, false);
	int rc;
	if (argc < 2) {
		usage(stderr);
		rc = EXIT_USAGE;
	} else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		rc = 0;
	} else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		rc = cmd_version(1, argv + 1);
	} else {
		const struct command *c = find_command(argv[1]);
		if (c) {
			rc = c->run(argc - 1, argv + 1);
		} else {
			fprintf(stderr, "kerfctl: unknown command \"%s\"\n", argv[1]);
			usage(stderr);
			rc = EXIT_USAGE;
		}
	}
	/* Output lost to a full disk or a closed pipe is a failure, not a success. */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kerfctl: standard output: write failed: %s\n",
			strerror(errno ? errno : EIO));
		if (rc == 0)
			rc = 1;
	}
	log_shutdown();
	return rc;
}
