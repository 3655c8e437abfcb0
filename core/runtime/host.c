/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host.c - the services table each plugin instance gets (kerf/host.h).
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kerf/plugin.h>

#include "cfg.h"
#include "command.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "manifest.h"
#include "util.h"

/* ----------------------------------------------------------------- clock */

struct host_clock {
	bool is_virtual;
	/* Atomic because HTTP worker threads may stamp times while the core advances it. */
	_Atomic int64_t now_ms;
};

/* The real clock has no state, so every host without an explicit clock shares this one. */
static struct host_clock shared_real_clock = {.is_virtual = false};

struct host_clock *host_clock_new_real(void)
{
	struct host_clock *c = xcalloc(1, sizeof(*c));
	c->is_virtual = false;
	return c;
}

struct host_clock *host_clock_new_virtual(int64_t start_ms)
{
	struct host_clock *c = xcalloc(1, sizeof(*c));
	c->is_virtual = true;
	atomic_store(&c->now_ms, start_ms);
	return c;
}

void host_clock_free(struct host_clock *c)
{
	if (c && c != &shared_real_clock)
		free(c);
}

bool host_clock_is_virtual(const struct host_clock *c)
{
	return c && c->is_virtual;
}

int64_t host_clock_wall_ms(const struct host_clock *c)
{
	if (c && c->is_virtual)
		return atomic_load(&((struct host_clock *)c)->now_ms);
	return now_wall_ms();
}

int64_t host_clock_mono_ms(const struct host_clock *c)
{
	if (c && c->is_virtual)
		return atomic_load(&((struct host_clock *)c)->now_ms);
	return now_mono_ms();
}

int host_clock_advance(struct host_clock *c, int64_t ms)
{
	if (!c || !c->is_virtual || ms < 0)
		return KERF_E_INVALID;
	int64_t now = atomic_load(&c->now_ms);
	if (ms > INT64_MAX - now)
		return KERF_E_RANGE;
	atomic_store(&c->now_ms, now + ms);
	return 0;
}

int host_clock_set(struct host_clock *c, int64_t ms)
{
	if (!c || !c->is_virtual || ms < atomic_load(&c->now_ms))
		return KERF_E_INVALID;
	atomic_store(&c->now_ms, ms);
	return 0;
}

/* ------------------------------------------------------------ instances */

/* A value getenv handed out.  Each is kept until host_free, so a string
 * one thread holds never changes under it while another thread asks. */
struct host_env_value {
	struct host_env_value *next;
	char *name;
	char *value;
};

/* Everything but env is set in host_new and only read afterwards, so the
 * services share it between threads without a lock. */
/* A data file path handed to the plugin in place of the one configured. */
struct host_data_path {
	char *path;
	struct host_data_path *next;
};

struct host_instance {
	struct kerf_host table; /* first, so the table's address is the instance's */
	char *name;
	struct cfg_section *section;
	struct host_clock *clock;
	struct http_client *http;
	pthread_mutex_t env_lock;
	struct host_env_value *env;
	struct host_data_path *data_paths; /* under env_lock */
	const struct mf_set *manifests;	   /* node class kinds for decode_object; may be NULL */
};

static struct host_instance *inst_of(void *ctx)
{
	return ctx;
}

static void host_log(void *ctx, kerf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(void *ctx, kerf_log_level level, const char *fmt, ...)
{
	if (!log_enabled(level) || !fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, inst_of(ctx)->name, fmt, ap);
	va_end(ap);
}

static void host_register_secret(void *ctx, const char *secret)
{
	log_register_secret(secret);
}

static void *host_malloc(void *ctx, size_t size)
{
	return xmalloc(size);
}

static void *host_calloc(void *ctx, size_t n, size_t size)
{
	return xcalloc(n, size);
}

static void *host_realloc(void *ctx, void *ptr, size_t size)
{
	return xrealloc(ptr, size);
}

static char *host_strdup(void *ctx, const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void host_free_mem(void *ctx, void *ptr)
{
	free(ptr);
}

static int64_t host_wall_ms(void *ctx)
{
	return host_clock_wall_ms(inst_of(ctx)->clock);
}

static int64_t host_mono_ms(void *ctx)
{
	return host_clock_mono_ms(inst_of(ctx)->clock);
}

static int64_t host_real_mono_ms(void *ctx)
{
	return now_mono_ms();
}

static int no_http(struct host_instance *h, struct kerf_error *err)
{
	return kerf_error_set(err, KERF_E_UNSUPPORTED, "%s: this host has no network access",
			      h->name);
}

static int host_http_request(void *ctx, const struct kerf_http_request *req,
			     struct kerf_http_response **out, struct kerf_error *err)
{
	struct host_instance *h = inst_of(ctx);
	if (!h->http)
		return no_http(h, err);
	if (!req || !out)
		return kerf_error_set(err, KERF_E_INVALID, "http_request: no request");
	return http_request(h->http, req, out, err);
}

static void host_http_response_free(void *ctx, struct kerf_http_response *resp)
{
	http_response_free(resp);
}

static int host_http_stream(void *ctx, const struct kerf_http_request *req, kerf_http_data_fn fn,
			    void *arg, struct kerf_error *err)
{
	struct host_instance *h = inst_of(ctx);
	if (!h->http)
		return no_http(h, err);
	if (!req || !fn)
		return kerf_error_set(err, KERF_E_INVALID, "http_stream: no request or callback");
	return http_stream(h->http, req, fn, arg, err);
}

static int host_http_request_ex(void *ctx, const struct kerf_http_request *req,
				 const struct kerf_http_extra *tls, struct kerf_http_response **out,
				 struct kerf_error *err)
{
	struct host_instance *h = inst_of(ctx);
	if (!h->http)
		return no_http(h, err);
	if (!req || !out)
		return kerf_error_set(err, KERF_E_INVALID, "http_request_ex: no request");
	return http_request_ex(h->http, req, tls, out, err);
}

static int host_http_stream_ex(void *ctx, const struct kerf_http_request *req,
				const struct kerf_http_extra *tls, kerf_http_data_fn fn, void *arg,
				struct kerf_error *err)
{
	struct host_instance *h = inst_of(ctx);
	if (!h->http)
		return no_http(h, err);
	if (!req || !fn)
		return kerf_error_set(err, KERF_E_INVALID,
				      "http_stream_ex: no request or callback");
	return http_stream_ex(h->http, req, tls, fn, arg, err);
}

static int host_decode_object(void *ctx, kerf_object_kind kind, const char *name, const char *text,
			      size_t len, void **out, struct kerf_error *err)
{
	return mf_decode_object(inst_of(ctx)->manifests, kind, name, text, len, out, err);
}

static int host_run_command(void *ctx, const char *const *argv, const char *const *env,
			    int64_t timeout_ms, size_t max_output, char **out, size_t *out_len,
			    int *exit_status, struct kerf_error *err)
{
	struct host_instance *h = inst_of(ctx);
	struct strbuf o, e;
	int status = 0;

	if (!out || !exit_status)
		return kerf_error_set(err, KERF_E_INVALID, "run_command: NULL argument");
	sb_init(&o);
	sb_init(&e);
	int rc = command_run(argv, env, timeout_ms, max_output, &o, &e, &status, err);
	if (e.len)
		log_msg(KERF_LOG_DEBUG, h->name, "%s: %s", argv[0], e.buf);
	sb_free(&e);
	if (rc) {
		sb_free(&o);
		return rc;
	}
	if (out_len)
		*out_len = o.len;
	*out = sb_detach(&o);
	*exit_status = status;
	return 0;
}

/*
 * A plugin's default data file (the sim's catalogue) names the installed
 * data directory.  An uninstalled kerfd or kerfctl reads it from the source
 * tree instead, as it finds the build's plugins; errno stays ENOENT when
 * that fails too, so the message names the path the plugin asked for.
 */
static char *build_tree_path(const char *path)
{
	size_t n = strlen(KERF_DATADIR);

	if (strncmp(path, KERF_DATADIR, n) != 0 || path[n] != '/' || !loader_in_build_tree())
		return NULL;
	struct strbuf alt;
	sb_init(&alt);
	sb_printf(&alt, "%s%s", KERF_BUILD_DATADIR, path + n);
	return sb_detach(&alt);
}

static int open_build_tree_data(const char *path)
{
	char *alt = build_tree_path(path);
	int fd = alt ? open(alt, O_RDONLY | O_CLOEXEC) : -1;

	free(alt);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

static int host_read_file(void *ctx, const char *path, size_t max_bytes, char **out, size_t *len,
			  struct kerf_error *err)
{
	if (!path || !out)
		return kerf_error_set(err, KERF_E_INVALID, "read_file: no path");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open_build_tree_data(path);
	if (fd < 0)
		return kerf_error_set(err, KERF_E_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	int serr = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (serr) {
		close(fd);
		return kerf_error_set(err, KERF_E_IO, "%s: %s", path, strerror(serr));
	}
	/* Refuse early when the size is known; files like /proc report 0, so reading still checks.
	 */
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max_bytes) {
		close(fd);
		return kerf_error_set(err, KERF_E_RANGE, "%s: larger than %zu bytes", path,
				      max_bytes);
	}

	size_t cap = 4096, n = 0;
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size + 2 < cap)
		cap = (size_t)st.st_size + 2;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			/* n <= max_bytes here, so doubling is bounded by the cap. */
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			return kerf_error_set(err, KERF_E_IO, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max_bytes) {
			free(buf);
			close(fd);
			return kerf_error_set(err, KERF_E_RANGE, "%s: larger than %zu bytes", path,
					      max_bytes);
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static const char *host_getenv(void *ctx, const char *name)
{
	struct host_instance *h = inst_of(ctx);
	if (!name)
		return NULL;
	pthread_mutex_lock(&h->env_lock);
	const char *now = getenv(name);
	const char *out = NULL;
	for (const struct host_env_value *e = h->env; now && e && !out; e = e->next)
		if (strcmp(e->name, name) == 0 && strcmp(e->value, now) == 0)
			out = e->value;
	if (now && !out) {
		struct host_env_value *e = xcalloc(1, sizeof(*e));
		e->name = xstrdup(name);
		e->value = xstrdup(now);
		e->next = h->env;
		h->env = e;
		out = e->value;
	}
	pthread_mutex_unlock(&h->env_lock);
	return out;
}

/* With no section the plugin declared no keys, so every key is undeclared. */
/*
 * A string naming an installed data file that is not installed reaches an
 * uninstalled build as the build tree's copy, so the plugin reads and logs
 * the path it really uses rather than one that does not exist.
 */
static int host_config_string(void *ctx, const char *key, const char **out)
{
	struct host_instance *h = inst_of(ctx);
	int rc =
	    h->section && key && out ? cfg_section_string(h->section, key, out) : KERF_E_INVALID;
	char *alt;

	if (rc || access(*out, F_OK) == 0 || !(alt = build_tree_path(*out)))
		return rc;
	if (access(alt, F_OK) != 0) {
		free(alt);
		return 0;
	}
	struct host_data_path *d = xcalloc(1, sizeof(*d));
	d->path = alt;
	pthread_mutex_lock(&h->env_lock);
	d->next = h->data_paths;
	h->data_paths = d;
	pthread_mutex_unlock(&h->env_lock);
	*out = alt;
	return 0;
}

static int host_config_int(void *ctx, const char *key, int64_t *out)
{
	struct host_instance *h = inst_of(ctx);
	return h->section && key && out ? cfg_section_int(h->section, key, out) : KERF_E_INVALID;
}

static int host_config_bool(void *ctx, const char *key, bool *out)
{
	struct host_instance *h = inst_of(ctx);
	return h->section && key && out ? cfg_section_bool(h->section, key, out) : KERF_E_INVALID;
}

static int host_config_duration(void *ctx, const char *key, int64_t *out_ms)
{
	struct host_instance *h = inst_of(ctx);
	return h->section && key && out_ms ? cfg_section_duration(h->section, key, out_ms)
					   : KERF_E_INVALID;
}

static int host_config_quantity(void *ctx, const char *key, int64_t *out)
{
	struct host_instance *h = inst_of(ctx);
	return h->section && key && out ? cfg_section_quantity(h->section, key, out)
					: KERF_E_INVALID;
}

static int host_config_list(void *ctx, const char *key, size_t *n_out, const char *const **out)
{
	struct host_instance *h = inst_of(ctx);
	return h->section && key && n_out && out ? cfg_section_list(h->section, key, n_out, out)
						 : KERF_E_INVALID;
}

struct kerf_host *host_new(const char *instance_name, struct cfg_section *section,
			   struct host_clock *clock, struct http_client *http)
{
	struct host_instance *h = xcalloc(1, sizeof(*h));
	h->name = xstrdup(instance_name ? instance_name : "plugin");
	h->section = section;
	h->clock = clock ? clock : &shared_real_clock;
	h->http = http;
	pthread_mutex_init(&h->env_lock, NULL);

	struct kerf_host *t = &h->table;
	t->size = sizeof(*t);
	t->abi_major = KERF_ABI_MAJOR;
	t->abi_minor = KERF_ABI_MINOR;
	t->ctx = h;
	t->instance_name = h->name;
	t->log = host_log;
	t->register_secret = host_register_secret;
	t->malloc = host_malloc;
	t->calloc = host_calloc;
	t->realloc = host_realloc;
	t->strdup = host_strdup;
	t->free = host_free_mem;
	t->wall_ms = host_wall_ms;
	t->mono_ms = host_mono_ms;
	t->http_request = host_http_request;
	t->http_response_free = host_http_response_free;
	t->http_stream = host_http_stream;
	t->read_file = host_read_file;
	t->getenv = host_getenv;
	t->config_string = host_config_string;
	t->config_int = host_config_int;
	t->config_bool = host_config_bool;
	t->config_duration = host_config_duration;
	t->config_quantity = host_config_quantity;
	t->config_list = host_config_list;
	t->real_mono_ms = host_real_mono_ms;
	t->decode_object = host_decode_object;
	t->run_command = host_run_command;
	t->http_request_ex = host_http_request_ex;
	t->http_stream_ex = host_http_stream_ex;
	return t;
}

void host_set_manifests(struct kerf_host *host, const struct mf_set *manifests)
{
	if (host)
		((struct host_instance *)host)->manifests = manifests;
}

void host_free(struct kerf_host *host)
{
	if (!host)
		return;
	struct host_instance *h = (struct host_instance *)host;
	while (h->env) {
		struct host_env_value *e = h->env;
		h->env = e->next;
		free(e->name);
		free(e->value);
		free(e);
	}
	while (h->data_paths) {
		struct host_data_path *d = h->data_paths;
		h->data_paths = d->next;
		free(d->path);
		free(d);
	}
	pthread_mutex_destroy(&h->env_lock);
	free(h->name);
	free(h);
}

struct host_clock *host_clock_of(const struct kerf_host *host)
{
	return host ? ((const struct host_instance *)host)->clock : NULL;
}
