/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_host.c - the fake host of the sim plugin's tests (sim_host.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_alloc.h"
#include "sim_host.h"

struct sim_host_config sim_cfg;
int64_t sim_clock_ms;
int64_t sim_mono_offset_ms;

/* Log lines kept since the last reset; older ones are dropped beyond this. */
#define LOG_LINES 256
static char log_lines[LOG_LINES][512];
static size_t n_log;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fh_log(void *ctx, kerf_log_level level, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	va_start(ap, fmt);
	vsnprintf(log_lines[n_log % LOG_LINES], sizeof(log_lines[0]), fmt, ap);
	va_end(ap);
	n_log++;
	pthread_mutex_unlock(&log_lock);
}

int sim_host_logged(const char *needle)
{
	for (size_t i = n_log > LOG_LINES ? n_log - LOG_LINES : 0; i < n_log; i++)
		if (strstr(log_lines[i % LOG_LINES], needle))
			return 1;
	return 0;
}

static int64_t fh_clock(void *ctx)
{
	return sim_clock_ms;
}

static int64_t fh_mono(void *ctx)
{
	return sim_clock_ms - sim_mono_offset_ms;
}

static int fh_read_file(void *ctx, const char *path, size_t max, char **out, size_t *len,
			struct kerf_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return kerf_error_set(err, KERF_E_IO, "%s: cannot open", path);
	buf = th_must(malloc(max + 1));
	n = fread(buf, 1, max, f);
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Which sim_cfg field answers which key, and with what type. */
static const struct {
	const char *key;
	kerf_config_type type;
	void *value;
} cfg_slots[] = {
    {"catalogue", KERF_CFG_STRING, &sim_cfg.catalogue},
    {"region", KERF_CFG_STRING, &sim_cfg.region},
    {"zones", KERF_CFG_STRING_LIST, &sim_cfg.zones},
    {"seed", KERF_CFG_INT, &sim_cfg.seed},
    {"spot_variation_percent", KERF_CFG_INT, &sim_cfg.spot_variation_percent},
    {"ice_probability_percent", KERF_CFG_INT, &sim_cfg.ice_probability_percent},
    {"launch_delay", KERF_CFG_DURATION, &sim_cfg.launch_delay_ms},
    {"ready_delay", KERF_CFG_DURATION, &sim_cfg.ready_delay_ms},
    {"ready_spread", KERF_CFG_DURATION, &sim_cfg.ready_spread_ms},
    {"terminate_delay", KERF_CFG_DURATION, &sim_cfg.terminate_delay_ms},
    {"unavailable_offerings", KERF_CFG_STRING_LIST, &sim_cfg.unavailable_offerings},
    {"launch_failures", KERF_CFG_STRING_LIST, &sim_cfg.launch_failures},
    {"include_types", KERF_CFG_STRING_LIST, &sim_cfg.include_types},
    {"workloads", KERF_CFG_STRING_LIST, &sim_cfg.workloads},
    {"scenario", KERF_CFG_STRING, &sim_cfg.scenario},
    {"trace", KERF_CFG_STRING, &sim_cfg.trace},
    {"trace_time_scale", KERF_CFG_INT, &sim_cfg.trace_time_scale},
    {"bind_delay", KERF_CFG_DURATION, &sim_cfg.bind_delay_ms},
    {"termination_grace", KERF_CFG_DURATION, &sim_cfg.termination_grace_ms},
    {"state_file", KERF_CFG_STRING, &sim_cfg.state_file},
};

/* The sim_cfg field for key, or NULL when the schema does not give it that type. */
static void *cfg_slot(const char *key, kerf_config_type type)
{
	for (size_t i = 0; i < sizeof(cfg_slots) / sizeof(cfg_slots[0]); i++)
		if (strcmp(cfg_slots[i].key, key) == 0)
			return cfg_slots[i].type == type ? cfg_slots[i].value : NULL;
	return NULL;
}

static int fh_config_string(void *ctx, const char *key, const char **out)
{
	const char **v = cfg_slot(key, KERF_CFG_STRING);

	if (!v)
		return KERF_E_INVALID;
	if (!*v)
		return KERF_E_NOTFOUND;
	*out = *v;
	return 0;
}

static int fh_config_int64(const char *key, kerf_config_type type, int64_t *out)
{
	const int64_t *v = cfg_slot(key, type);

	if (!v)
		return KERF_E_INVALID;
	*out = *v;
	return 0;
}

static int fh_config_int(void *ctx, const char *key, int64_t *out)
{
	return fh_config_int64(key, KERF_CFG_INT, out);
}

static int fh_config_duration(void *ctx, const char *key, int64_t *out)
{
	return fh_config_int64(key, KERF_CFG_DURATION, out);
}

static int fh_config_list(void *ctx, const char *key, size_t *n, const char *const **out)
{
	const struct sim_host_list *l = cfg_slot(key, KERF_CFG_STRING_LIST);

	if (!l)
		return KERF_E_INVALID;
	/* As the host does for a list with no default that the file leaves out. */
	if (l->n == 0)
		return KERF_E_NOTFOUND;
	*n = l->n;
	*out = l->items;
	return 0;
}

const struct kerf_host sim_fake_host = {
    .size = sizeof(struct kerf_host),
    .abi_major = KERF_ABI_MAJOR,
    .abi_minor = KERF_ABI_MINOR,
    .instance_name = "cluster+provider/sim",
    .log = fh_log,
    TH_ALLOC_SLOTS,
    .wall_ms = fh_clock,
    .mono_ms = fh_mono,
    .real_mono_ms = th_real_mono_ms,
    .read_file = fh_read_file,
    .config_string = fh_config_string,
    .config_int = fh_config_int,
    .config_duration = fh_config_duration,
    .config_list = fh_config_list,
};

void sim_host_set_list(struct sim_host_list *l, const char *a, const char *b, const char *c)
{
	const char *v[] = {a, b, c};

	l->n = 0;
	for (size_t i = 0; i < 3 && v[i]; i++)
		l->items[l->n++] = v[i];
}

void sim_host_reset(const char *catalogue)
{
	memset(&sim_cfg, 0, sizeof(sim_cfg));
	sim_cfg.catalogue = catalogue;
	sim_cfg.region = "us-east-1";
	sim_host_set_list(&sim_cfg.zones, "us-east-1a", "us-east-1b", "us-east-1c");
	sim_cfg.seed = 1;
	sim_cfg.spot_variation_percent = 10;
	sim_cfg.launch_delay_ms = 30000;
	sim_cfg.ready_delay_ms = 15000;
	sim_cfg.terminate_delay_ms = 30000;
	sim_cfg.trace_time_scale = 1;
	sim_clock_ms = 1700000000000;
	sim_mono_offset_ms = 0;
	n_log = 0;
}
