/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_catalogue.c - reads data/ec2-catalogue.tsv into the world's types.
 *
 * The file is what scripts/gen-catalogue.py writes: '#' comment lines, one
 * header row naming the columns, then one tab-separated row per instance
 * type with '-' for an absent value.  Columns are found by name, so the
 * generator may reorder them or add new ones without breaking older
 * plugins; a column the plugin needs but the header lacks is an error on
 * the header's line.  The text is split in place and kept, so the types'
 * strings cost no further allocations.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_world.h"

enum col_kind {
	COL_STR,     /* required text */
	COL_OPT_STR, /* text or '-' (NULL) */
	COL_INT,     /* required non-negative integer */
	COL_OPT_INT, /* integer or '-' (-1) */
};

struct column {
	const char *name;
	enum col_kind kind;
	size_t off;
};

#define STR(f) offsetof(struct sim_type, f)

/* clang-format off */
static const struct column columns[] = {
	{"name",                     COL_STR,     STR(name)},
	{"family",                   COL_STR,     STR(family)},
	{"category",                 COL_STR,     STR(category)},
	{"generation",               COL_INT,     STR(generation)},
	{"size",                     COL_STR,     STR(size)},
	{"arch",                     COL_STR,     STR(arch)},
	{"cpu_manufacturer",         COL_OPT_STR, STR(cpu_manufacturer)},
	{"hypervisor",               COL_OPT_STR, STR(hypervisor)},
	{"bare_metal",               COL_INT,     STR(bare_metal)},
	{"vcpu",                     COL_INT,     STR(vcpu)},
	{"memory_mib",               COL_INT,     STR(memory_mib)},
	{"gpu_count",                COL_INT,     STR(gpu_count)},
	{"gpu_name",                 COL_OPT_STR, STR(gpu_name)},
	{"gpu_manufacturer",         COL_OPT_STR, STR(gpu_manufacturer)},
	{"gpu_memory_mib",           COL_OPT_INT, STR(gpu_memory_mib)},
	{"accelerator_count",        COL_INT,     STR(accelerator_count)},
	{"accelerator_name",         COL_OPT_STR, STR(accelerator_name)},
	{"accelerator_manufacturer", COL_OPT_STR, STR(accelerator_manufacturer)},
	{"network_bandwidth_mbps",   COL_OPT_INT, STR(network_bandwidth_mbps)},
	{"local_nvme_gb",            COL_OPT_INT, STR(local_nvme_gb)},
	{"encryption_in_transit",    COL_INT,     STR(encryption_in_transit)},
	{"alloc_cpu_millicores",     COL_INT,     STR(alloc_cpu_millicores)},
	{"alloc_memory_mib",         COL_INT,     STR(alloc_memory_mib)},
	{"alloc_pods",               COL_INT,     STR(alloc_pods)},
	{"alloc_ephemeral_mib",      COL_INT,     STR(alloc_ephemeral_mib)},
	{"alloc_nvidia_gpu",         COL_INT,     STR(alloc_nvidia_gpu)},
	{"alloc_amd_gpu",            COL_INT,     STR(alloc_amd_gpu)},
	{"alloc_neuron",             COL_INT,     STR(alloc_neuron)},
	{"alloc_efa",                COL_INT,     STR(alloc_efa)},
	{"alloc_pod_eni",            COL_INT,     STR(alloc_pod_eni)},
	{"on_demand_micro_usd_hr",   COL_INT,     STR(on_demand)},
	{"spot_micro_usd_hr",        COL_OPT_INT, STR(spot_estimate)},
};
/* clang-format on */

#undef STR

#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

#define MiB (1024ll * 1024)

/*
 * Karpenter's EC2NodeClass gives AL2023 a 20 GiB root volume unless
 * blockDeviceMappings say otherwise; the catalogue's allocatable figure
 * (17 GiB) is what is left of it, and the raw size is not a column.
 */
#define DEFAULT_ROOT_VOLUME (20 * 1024 * MiB)

/* Parse state: where we are in the file, for messages. */
struct cursor {
	const char *path;
	unsigned line;
	size_t n_fields;    /* columns in the header */
	int map[N_COLUMNS]; /* header position of each wanted column */
};

static int perr(struct kerf_error *err, const struct cursor *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct kerf_error *err, const struct cursor *c, const char *fmt, ...)
{
	char what[KERF_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err)
		err->line = c->line;
	return kerf_error_set(err, KERF_E_PARSE, "%s:%u: %.400s", c->path, c->line, what);
}

/* Splits line on tabs in place; returns the field count (up to max stored). */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line;;) {
		char *tab = strchr(p, '\t');
		if (n < max)
			fields[n] = p;
		n++;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static bool parse_int(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static int read_header(struct cursor *c, char **fields, size_t n, struct kerf_error *err)
{
	c->n_fields = n;
	for (size_t k = 0; k < N_COLUMNS; k++) {
		c->map[k] = -1;
		for (size_t i = 0; i < n; i++)
			if (strcmp(fields[i], columns[k].name) == 0)
				c->map[k] = (int)i;
		if (c->map[k] < 0)
			return perr(err, c,
				    "header has no column \"%s\" (is this a kerf EC2 catalogue?)",
				    columns[k].name);
	}
	return 0;
}

static int read_cell(const struct cursor *c, const struct column *col, char *text,
		     struct sim_type *t, struct kerf_error *err)
{
	char *field = (char *)t + col->off;
	bool absent = strcmp(text, "-") == 0;

	switch (col->kind) {
	case COL_STR:
	case COL_OPT_STR:
		if (absent && col->kind == COL_STR)
			break;
		*(const char **)field = absent ? NULL : text;
		return 0;
	case COL_INT:
	case COL_OPT_INT:
		if (absent && col->kind == COL_INT)
			break;
		if (absent) {
			*(int64_t *)field = -1;
			return 0;
		}
		if (!parse_int(text, (int64_t *)field))
			return perr(err, c, "column \"%s\": \"%s\" is not a non-negative integer",
				    col->name, text);
		return 0;
	}
	return perr(err, c, "column \"%s\": a value is required, not \"%s\"", col->name, text);
}

static int set_resources(struct sim_type *t, struct kerf_error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} ext[] = {
	    {KERF_RESOURCE_NVIDIA_GPU, offsetof(struct sim_type, alloc_nvidia_gpu)},
	    {KERF_RESOURCE_AMD_GPU, offsetof(struct sim_type, alloc_amd_gpu)},
	    {KERF_RESOURCE_NEURON, offsetof(struct sim_type, alloc_neuron)},
	    {"vpc.amazonaws.com/efa", offsetof(struct sim_type, alloc_efa)},
	    {"vpc.amazonaws.com/pod-eni", offsetof(struct sim_type, alloc_pod_eni)},
	};
	struct kerf_resources *cap = &t->capacity, *alloc = &t->allocatable;
	int rc;

	kerf_resources_init(cap);
	kerf_resources_init(alloc);
	if ((rc = kerf_resources_set(cap, KERF_RESOURCE_CPU, t->vcpu * 1000, err)) ||
	    (rc = kerf_resources_set(cap, KERF_RESOURCE_MEMORY, t->memory_mib * MiB, err)) ||
	    (rc = kerf_resources_set(cap, KERF_RESOURCE_PODS, t->alloc_pods, err)) ||
	    (rc = kerf_resources_set(cap, KERF_RESOURCE_EPHEMERAL, DEFAULT_ROOT_VOLUME, err)) ||
	    (rc = kerf_resources_set(alloc, KERF_RESOURCE_CPU, t->alloc_cpu_millicores, err)) ||
	    (rc =
		 kerf_resources_set(alloc, KERF_RESOURCE_MEMORY, t->alloc_memory_mib * MiB, err)) ||
	    (rc = kerf_resources_set(alloc, KERF_RESOURCE_PODS, t->alloc_pods, err)) ||
	    (rc = kerf_resources_set(alloc, KERF_RESOURCE_EPHEMERAL, t->alloc_ephemeral_mib * MiB,
				     err)))
		return rc;
	/* Extended resources exist only where the type has them, as on a real node. */
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		int64_t v = *(const int64_t *)((const char *)t + ext[i].off);
		if (v > 0 && ((rc = kerf_resources_set(cap, ext[i].name, v, err)) ||
			      (rc = kerf_resources_set(alloc, ext[i].name, v, err))))
			return rc;
	}
	return 0;
}

static bool included(const struct sim_config *cfg, const char *name)
{
	if (cfg->n_include == 0)
		return true;
	for (size_t i = 0; i < cfg->n_include; i++)
		if (fnmatch(cfg->include_types[i], name, 0) == 0)
			return true;
	return false;
}

static int read_row(struct sim_world *w, struct cursor *c, char **fields, size_t n,
		    struct kerf_error *err)
{
	const struct kerf_host *h = w->host;
	struct sim_type t;
	struct kerf_error rerr = KERF_ERROR_INIT;
	int rc;

	if (n != c->n_fields)
		return perr(err, c, "%zu fields where the header has %zu", n, c->n_fields);
	memset(&t, 0, sizeof(t));
	for (size_t k = 0; k < N_COLUMNS; k++)
		if ((rc = read_cell(c, &columns[k], fields[c->map[k]], &t, err)) != 0)
			return rc;
	if (sim_world_type(w, t.name))
		return perr(err, c, "instance type \"%s\" is listed twice", t.name);
	kerf_error_clear(&rerr);
	if (set_resources(&t, &rerr) != 0)
		return perr(err, c, "instance type \"%s\": %s", t.name, rerr.message);
	if (!included(&w->cfg, t.name))
		return 0;
	if (w->n_types == w->cap_types) {
		/* Doubling: a type holds two resource lists, a catalogue a thousand rows. */
		w->cap_types = w->cap_types ? 2 * w->cap_types : 64;
		w->types = h->realloc(h->ctx, w->types, w->cap_types * sizeof(*w->types));
	}
	w->types[w->n_types++] = t;
	return 0;
}

int sim_catalogue_parse(struct sim_world *w, const char *path, char *text, struct kerf_error *err)
{
	struct cursor c = {.path = path};
	char *fields[N_COLUMNS * 4];
	bool header = false;
	int rc;

	w->catalogue_text = text;
	for (char *line = text, *next; line && *line; line = next) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		next = nl ? nl + 1 : NULL;
		c.line++;
		if (nl)
			*nl = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (*line && *line != '#') {
			size_t n = split(line, fields, sizeof(fields) / sizeof(fields[0]));
			if (n > sizeof(fields) / sizeof(fields[0]))
				return perr(err, &c, "%zu fields: too many", n);
			rc = header ? read_row(w, &c, fields, n, err)
				    : read_header(&c, fields, n, err);
			if (rc)
				return rc;
			header = true;
		}
	}
	if (!header)
		return kerf_error_set(err, KERF_E_PARSE, "%s: no header row", path);
	if (w->n_types == 0)
		return kerf_error_set(err, KERF_E_PARSE, "%s: no instance types%s", path,
				      w->cfg.n_include ? " match include_types" : "");
	return 0;
}
