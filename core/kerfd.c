/*
 * kerfd - the kerf daemon.
 *
 * Start-up is all-or-nothing: the configuration must validate, and every
 * plugin it names (cluster, provider, each packer) must load, accept its
 * config section and create an instance, or kerfd exits 1 with that one
 * failure before touching the cluster.  `--check` stops right there.
 *
 * Then the cluster plugin is started with an event sink that keeps a small
 * cache of what the cluster holds, and the main loop alternates
 * cluster poll -> reconcile until SIGINT or SIGTERM.  Each step of the
 * autoscaler (provisioning, disruption) is a function called from
 * reconcile() with the daemon state, so it plugs in without touching the
 * loop.
 */
/* core/config.h (kerf.yaml) shadows the autoconf header, so name it by path. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kerf/kerf.h>

#include "cfg.h"
#include "host.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "util.h"

#define COMPONENT "kerfd"
#define EXIT_USAGE 2

/* How long one cluster poll may wait for the first change. */
#define POLL_TIMEOUT_MS 1000
/* An empty poll shorter than this is followed by a pause of IDLE_POLL_PAUSE_MS. */
#define IDLE_POLL_MIN_MS 5
#define IDLE_POLL_PAUSE_MS 100
/* How often the status line is logged. */
#define STATUS_INTERVAL_MS 60000
/* Back-off after a retryable poll failure, doubling up to the maximum. */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* ---------------------------------------------------------------- cache */

/*
 * What the daemon knows about the cluster, fed by the cluster plugin's
 * event sink.  Only identity and the few facts counted are kept; the
 * provisioning step will keep full objects as it needs them.
 */
#define N_KINDS 5

enum { OBJ_POD_PENDING = 1u << 0, OBJ_POD_UNSCHEDULABLE = 1u << 1 };

struct cache_entry {
	struct cache_entry *next;
	kerf_object_kind kind;
	unsigned flags;
	char *key; /* "namespace/name", or "name" for cluster-scoped objects */
};

struct cache {
	size_t n_buckets;
	struct cache_entry **buckets;
	size_t n_entries;
	size_t count[N_KINDS];
	size_t pods_pending;
	size_t pods_unschedulable;
	bool synced[N_KINDS];
	uint64_t events;
};

static const char *const kind_names[N_KINDS] = {"pods", "nodes", "nodepools", "nodeclaims",
						"node classes"};

static void cache_init(struct cache *c)
{
	memset(c, 0, sizeof(*c));
	c->n_buckets = 64;
	c->buckets = xcalloc(c->n_buckets, sizeof(*c->buckets));
}

static void cache_clear(struct cache *c)
{
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

static uint64_t hash_key(kerf_object_kind kind, const char *key)
{
	/* FNV-1a over the kind and the key. */
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

static struct cache_entry **cache_slot(struct cache *c, kerf_object_kind kind, const char *key)
{
	struct cache_entry **pp = &c->buckets[hash_key(kind, key) % c->n_buckets];
	while (*pp && ((*pp)->kind != kind || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

static void cache_grow(struct cache *c)
{
	size_t n = c->n_buckets * 2;
	struct cache_entry **b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t at = hash_key(e->kind, e->key) % n;
			e->next = b[at];
			b[at] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n;
}

static void count_flags(struct cache *c, unsigned flags, bool add)
{
	if (flags & OBJ_POD_PENDING) {
		if (add)
			c->pods_pending++;
		else
			c->pods_pending--;
	}
	if (flags & OBJ_POD_UNSCHEDULABLE) {
		if (add)
			c->pods_unschedulable++;
		else
			c->pods_unschedulable--;
	}
}

static unsigned object_flags(kerf_object_kind kind, const void *object)
{
	if (kind != KERF_OBJ_POD)
		return 0;
	const struct kerf_pod *p = object;
	unsigned f = 0;
	if (p->phase == KERF_POD_PENDING)
		f |= OBJ_POD_PENDING;
	if (p->unschedulable)
		f |= OBJ_POD_UNSCHEDULABLE;
	return f;
}

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	struct cache *c = ctx;
	if ((unsigned)kind >= N_KINDS) {
		log_warn(COMPONENT, "cluster plugin sent an event for unknown object kind %d",
			 (int)kind);
		return;
	}
	c->events++;
	if (type == KERF_EVENT_SYNCED) {
		if (!c->synced[kind])
			log_debug(COMPONENT, "initial list of %s complete: %zu", kind_names[kind],
				  c->count[kind]);
		c->synced[kind] = true;
		return;
	}
	/* Every object struct starts with its kerf_meta. */
	const struct kerf_meta *m = object;
	if (!m || !m->name) {
		log_warn(COMPONENT, "cluster plugin sent %s without a name", kind_names[kind]);
		return;
	}
	struct strbuf key;
	sb_init(&key);
	if (m->namespace_)
		sb_printf(&key, "%s/", m->namespace_);
	sb_puts(&key, m->name);

	struct cache_entry **pp = cache_slot(c, kind, key.buf);
	if (type == KERF_EVENT_DELETED) {
		struct cache_entry *e = *pp;
		if (e) {
			*pp = e->next;
			count_flags(c, e->flags, false);
			c->count[kind]--;
			c->n_entries--;
			free(e->key);
			free(e);
		}
		sb_free(&key);
		return;
	}
	unsigned flags = object_flags(kind, object);
	struct cache_entry *e = *pp;
	if (e) {
		/* ADDED for a known object happens after a watch restarts: treat it as MODIFIED. */
		count_flags(c, e->flags, false);
		e->flags = flags;
		count_flags(c, flags, true);
		sb_free(&key);
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->kind = kind;
	e->flags = flags;
	e->key = sb_detach(&key);
	*pp = e;
	c->count[kind]++;
	c->n_entries++;
	count_flags(c, flags, true);
	if (c->n_entries > c->n_buckets)
		cache_grow(c);
}

/* --------------------------------------------------------------- daemon */

/* One plugin instance.  A plugin that fills two roles (sim: cluster and provider) gets one. */
struct instance {
	const struct loader_plugin *plugin;
	uint32_t kinds;
	char *name; /* "provider/ec2", "cluster+provider/sim" */
	struct cfg_section *section;
	struct kerf_host *host;
	void *state; /* from create(); NULL until created */
};

struct daemon {
	struct cfg *cfg;
	struct loader *loader;
	bool http_ready;
	struct http_client *http;
	struct host_clock *clock;
	size_t n_instances;
	struct instance *instances;
	struct instance *cluster;
	struct instance *provider;
	struct instance **packers; /* cfg->n_packers, in config order */
	struct cache cache;
	int64_t last_status_ms;
	size_t last_unschedulable;
};

/* Where a kerf.yaml names a plugin role, for file:line:column messages. */
static const struct yt_node *role_node(const struct cfg *c, const char *key, size_t index)
{
	const struct yt_node *root = c->yaml && c->yaml->n ? c->yaml->docs[0].root : NULL;
	const struct yt_node *n = yt_map_get(root, key);
	if (n && n->type == YT_SEQ)
		return index < n->n ? n->items[index] : NULL;
	return n;
}

static void role_error(const struct cfg *c, const char *key, size_t index, const char *msg)
{
	const struct yt_node *at = role_node(c, key, index);
	char what[48];
	if (strcmp(key, "packers") == 0)
		snprintf(what, sizeof(what), "packers[%zu]", index);
	else
		snprintf(what, sizeof(what), "%s", key);
	if (at)
		log_error(COMPONENT, "%s:%u:%u: %s: %s", c->path, at->line, at->column, what, msg);
	else
		log_error(COMPONENT, "%s: %s: %s", c->path, what, msg);
}

static const char *err_text(const struct kerf_error *e, int rc)
{
	return e->message[0] ? e->message : kerf_strerror(rc);
}

static struct instance *instance_for(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_instances; i++)
		if (strcmp(d->instances[i].plugin->desc.name, name) == 0)
			return &d->instances[i];
	return NULL;
}

/* Opens the plugin for one role; several roles of the same plugin share an instance. */
static int open_role(struct daemon *d, const char *key, size_t index, const char *name,
		     uint32_t kind, struct instance **out)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	const struct loader_plugin *p;
	int rc = loader_open(d->loader, name, kind, &p, &err);
	if (rc) {
		role_error(d->cfg, key, index, err_text(&err, rc));
		return rc;
	}
	struct instance *in = instance_for(d, p->desc.name);
	if (!in) {
		in = &d->instances[d->n_instances++];
		in->plugin = p;
	}
	in->kinds |= kind;
	*out = in;
	return 0;
}

static void instance_name(struct instance *in)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} kinds[] = {
	    {KERF_KIND_CLUSTER, "cluster"},
	    {KERF_KIND_PROVIDER, "provider"},
	    {KERF_KIND_PACKER, "packer"},
	};
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (in->kinds & kinds[i].bit)
			sb_printf(&sb, "%s%s", sb.len ? "+" : "", kinds[i].name);
	sb_printf(&sb, "/%s", in->plugin->desc.name);
	in->name = sb_detach(&sb);
}

static int create_instance(struct daemon *d, struct instance *in)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	instance_name(in);
	int rc = cfg_plugin_section(d->cfg, in->plugin->desc.name, in->plugin->desc.config_schema,
				    &in->section, &err);
	if (rc) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	in->host = host_new(in->name, in->section, d->clock, d->http);
	kerf_error_clear(&err);
	rc = loader_create(in->plugin, in->host, &in->state, &err);
	if (rc) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	log_info(COMPONENT, "%s: %s %s (ABI %u.%u) from %s", in->name, in->plugin->desc.name,
		 in->plugin->desc.version, (unsigned)in->plugin->desc.abi_major,
		 (unsigned)in->plugin->desc.abi_minor, in->plugin->path);
	return 0;
}

/* Under the virtual clock log lines carry simulated time, so they line up with plugin logs. */
static int64_t virtual_log_time(void *clock)
{
	return host_clock_wall_ms(clock);
}

static int daemon_start(struct daemon *d, const char *config_path)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	int rc = cfg_load_file(config_path, &d->cfg, &err);
	if (rc) {
		/* Not logged: the configuration error is the whole message. */
		fprintf(stderr, "%s\n", err_text(&err, rc));
		return rc;
	}
	struct cfg *c = d->cfg;
	log_init((kerf_log_level)c->log_level, c->log_json != 0);

	if (c->virtual_clock) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		d->clock = host_clock_new_virtual((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		log_set_time(virtual_log_time, d->clock);
	} else {
		d->clock = host_clock_new_real();
	}

	if ((rc = http_global_init(&err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	d->http_ready = true;
	if ((rc = http_client_new(NULL, &d->http, &err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	if ((rc = loader_new(c->plugin_dir, &d->loader, &err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}

	d->instances = xcalloc(2 + c->n_packers, sizeof(*d->instances));
	d->packers = xcalloc(c->n_packers + 1, sizeof(*d->packers));
	if ((rc = open_role(d, "cluster", 0, c->cluster, KERF_KIND_CLUSTER, &d->cluster)) != 0 ||
	    (rc = open_role(d, "provider", 0, c->provider, KERF_KIND_PROVIDER, &d->provider)) != 0)
		return rc;
	for (size_t i = 0; i < c->n_packers; i++)
		if ((rc = open_role(d, "packers", i, c->packers[i], KERF_KIND_PACKER,
				    &d->packers[i])) != 0)
			return rc;
	/* Every plugin loads before any create() runs, so a bad file fails fast and cheaply. */
	for (size_t i = 0; i < d->n_instances; i++)
		if ((rc = create_instance(d, &d->instances[i])) != 0)
			return rc;
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	/* Destroy in reverse creation order: later instances may have been built on earlier ones.
	 */
	for (size_t i = d->n_instances; i-- > 0;) {
		struct instance *in = &d->instances[i];
		if (in->state)
			loader_destroy(in->plugin, in->state);
		host_free(in->host);
		cfg_section_free(in->section);
		free(in->name);
	}
	free(d->instances);
	free(d->packers);
	loader_free(d->loader);
	http_client_free(d->http);
	if (d->http_ready)
		http_global_cleanup();
	log_set_time(NULL, NULL);
	host_clock_free(d->clock);
	cfg_free(d->cfg);
	cache_clear(&d->cache);
	memset(d, 0, sizeof(*d));
}

static void log_status(struct daemon *d)
{
	const struct cache *c = &d->cache;
	log_info(COMPONENT,
		 "status: pods=%zu (pending=%zu unschedulable=%zu) nodes=%zu nodepools=%zu "
		 "nodeclaims=%zu nodeclasses=%zu events=%llu",
		 c->count[KERF_OBJ_POD], c->pods_pending, c->pods_unschedulable,
		 c->count[KERF_OBJ_NODE], c->count[KERF_OBJ_NODEPOOL], c->count[KERF_OBJ_NODECLAIM],
		 c->count[KERF_OBJ_NODE_CLASS], (unsigned long long)c->events);
}

/*
 * One pass of the control loop after the cache caught up with the cluster.
 * Steps that act on the cluster are added here, in order; each sees the
 * same cache and clock.
 */
static int reconcile(struct daemon *d, int64_t now_ms, struct kerf_error *err)
{
	const struct cache *c = &d->cache;
	if (c->pods_unschedulable != d->last_unschedulable) {
		log_info(COMPONENT, "%zu unschedulable pod%s (was %zu)", c->pods_unschedulable,
			 c->pods_unschedulable == 1 ? "" : "s", d->last_unschedulable);
		d->last_unschedulable = c->pods_unschedulable;
	}
	if (now_ms - d->last_status_ms >= STATUS_INTERVAL_MS) {
		log_status(d);
		d->last_status_ms = now_ms;
	}
	return 0;
}

/* Sleeps ms of real time or until a signal arrives; under the virtual clock, moves it instead. */
static void pause_ms(struct daemon *d, int64_t ms)
{
	if (host_clock_is_virtual(d->clock)) {
		host_clock_advance(d->clock, ms);
		return;
	}
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (!stop_signal && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int daemon_run(struct daemon *d)
{
	const struct kerf_cluster_ops *ops = &d->cluster->plugin->cluster;
	void *cl = d->cluster->state;
	struct kerf_event_sink sink = {&d->cache, on_object};
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = ops->start(cl, &sink, &err);
	if (rc) {
		log_error(COMPONENT, "%s: start failed: %s", d->cluster->name, err_text(&err, rc));
		return rc;
	}
	d->last_status_ms = host_clock_mono_ms(d->clock);
	d->last_unschedulable = d->cache.pods_unschedulable;
	log_status(d);
	log_info(COMPONENT, "running (%s clock); stop with SIGINT or SIGTERM",
		 host_clock_is_virtual(d->clock) ? "virtual" : "real");

	int64_t backoff = 0;
	while (!stop_signal) {
		int64_t before = host_clock_mono_ms(d->clock);
		uint64_t events = d->cache.events;
		kerf_error_clear(&err);
		rc = ops->poll(cl, POLL_TIMEOUT_MS, &err);
		if (rc && !err.retryable && rc != KERF_E_TIMEOUT && rc != KERF_E_THROTTLED) {
			log_error(COMPONENT, "%s: poll failed: %s", d->cluster->name,
				  err_text(&err, rc));
			return rc;
		}
		if (rc) {
			backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			log_warn(COMPONENT, "%s: poll failed, retrying in %lld ms: %s",
				 d->cluster->name, (long long)backoff, err_text(&err, rc));
			pause_ms(d, backoff);
			continue;
		}
		backoff = 0;
		if (host_clock_is_virtual(d->clock)) {
			/* A plugin under the virtual clock returns at once; time passes only here.
			 */
			if (host_clock_mono_ms(d->clock) == before)
				host_clock_advance(d->clock, POLL_TIMEOUT_MS);
		} else if (d->cache.events == events &&
			   host_clock_mono_ms(d->clock) - before < IDLE_POLL_MIN_MS) {
			/* A plugin that returns at once with nothing new must not make kerfd spin.
			 */
			pause_ms(d, IDLE_POLL_PAUSE_MS);
		}

		kerf_error_clear(&err);
		rc = reconcile(d, host_clock_mono_ms(d->clock), &err);
		if (rc)
			log_warn(COMPONENT, "reconcile: %s", err_text(&err, rc));
	}
	log_info(COMPONENT, "%s received, shutting down", strsignal(stop_signal));
	log_status(d);
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait should return so the loop sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A peer closing a connection must be an error on that request, not the end of kerfd. */
	signal(SIGPIPE, SIG_IGN);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kerfd --config FILE [--check]\n"
		"  -c, --config FILE  kerf.yaml to run with (required)\n"
		"      --check        validate the configuration, load and create every plugin,\n"
		"                     then exit\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	bool check = false;
	int o;
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kerfd (kerf) %s, plugin ABI %d.%d\n", PACKAGE_VERSION,
			       KERF_ABI_MAJOR, KERF_ABI_MINOR);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kerfd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!config) {
		fprintf(stderr, "kerfd: --config is required\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	log_init(KERF_LOG_INFO, false);
	install_signals();
	struct daemon d;
	memset(&d, 0, sizeof(d));
	cache_init(&d.cache);
	int rc = daemon_start(&d, config);
	if (rc == 0 && check) {
		printf("configuration ok: %s\n", config);
		for (size_t i = 0; i < d.n_instances; i++) {
			const struct instance *in = &d.instances[i];
			printf("  %-24s %s %s (ABI %u.%u) %s\n", in->name, in->plugin->desc.name,
			       in->plugin->desc.version, (unsigned)in->plugin->desc.abi_major,
			       (unsigned)in->plugin->desc.abi_minor, in->plugin->path);
		}
	} else if (rc == 0) {
		rc = daemon_run(&d);
	}
	daemon_stop(&d);
	log_shutdown();
	return rc ? 1 : 0;
}
