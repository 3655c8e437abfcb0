/* SPDX-License-Identifier: Apache-2.0 */
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
#include <unistd.h>

#include <kerf/kerf.h>

#include "cfg.h"
#include "host.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "manifest.h"
#include "decision_log.h"
#include "provisioner.h"
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
#define N_KINDS 6 /* KERF_OBJ_DAEMONSET is the last */

enum { OBJ_POD_PENDING = 1u << 0, OBJ_POD_UNSCHEDULABLE = 1u << 1 };

struct cache_entry {
	unsigned flags;
	char *key; /* "namespace/name", or "name" for cluster-scoped objects */
};

struct cache {
	struct hmap objects[N_KINDS]; /* key -> struct cache_entry, one map per kind */
	size_t count[N_KINDS];
	size_t pods_pending;
	size_t pods_unschedulable;
	bool synced[N_KINDS];
	uint64_t events;
};

static const char *const kind_names[N_KINDS] = {"pods",	      "nodes",	      "nodepools",
						"nodeclaims", "node classes", "daemonsets"};

static void cache_init(struct cache *c)
{
	memset(c, 0, sizeof(*c));
}

static void cache_entry_free(void *entry)
{
	struct cache_entry *e = entry;
	free(e->key);
	free(e);
}

static void cache_clear(struct cache *c)
{
	for (size_t k = 0; k < N_KINDS; k++)
		hmap_clear(&c->objects[k], cache_entry_free);
	memset(c, 0, sizeof(*c));
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
	const struct kerf_meta *m = kerf_object_meta(kind, object);
	if (!m || !m->name) {
		log_warn(COMPONENT, "cluster plugin sent %s without a name", kind_names[kind]);
		return;
	}
	struct strbuf key;
	sb_init(&key);
	if (m->namespace_)
		sb_printf(&key, "%s/", m->namespace_);
	sb_puts(&key, m->name);

	struct hmap *objects = &c->objects[kind];
	if (type == KERF_EVENT_DELETED) {
		struct cache_entry *e = hmap_del(objects, key.buf, key.len);
		if (e) {
			count_flags(c, e->flags, false);
			c->count[kind]--;
			cache_entry_free(e);
		}
		sb_free(&key);
		return;
	}
	unsigned flags = object_flags(kind, object);
	struct cache_entry *e = hmap_get(objects, key.buf, key.len);
	if (e) {
		/* ADDED for a known object happens after a watch restarts: treat it as MODIFIED. */
		count_flags(c, e->flags, false);
		e->flags = flags;
		count_flags(c, flags, true);
		sb_free(&key);
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->flags = flags;
	size_t len = key.len;
	e->key = sb_detach(&key);
	hmap_set(objects, e->key, len, e);
	c->count[kind]++;
	count_flags(c, flags, true);
}

/* --------------------------------------------------------------- daemon */

/* One plugin instance.  A plugin that fills two roles (sim: cluster and provider) gets one. */
struct instance {
	struct plugin_instance pi;
	uint32_t kinds;
	char *name; /* "provider/acme", "cluster+provider/sim" */
};

struct daemon {
	struct cfg *cfg;
	struct loader *loader;
	bool http_ready;
	struct host_clock *clock;
	size_t n_instances;
	struct instance *instances;
	struct instance *cluster;
	struct instance *provider;
	struct instance **packers; /* cfg->n_packers, in config order */
	struct prov_packer *prov_packers; /* the same, as the provisioner takes them */
	struct cache cache;
	int64_t last_status_ms;
	size_t last_unschedulable;
	struct mf_set manifests; /* kerf.yaml's NodePools and node classes */
	struct provisioner *prov;
	int64_t start_ms;
	int64_t script_end_ms; /* after start: when the simulated cluster runs out of actions */
	int64_t until_ms;      /* --until; 0: none */
	const char *report;    /* --report FILE */
	const char *decision_log_path; /* --decision-log FILE; NULL: settings.decision_log */
	struct decision_log *decision_log;
	bool tty;	       /* stderr is a terminal: one status line, redrawn */
	int64_t last_redraw_ms; /* real time of the last redraw */
	char status_line[160];
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
		if (strcmp(d->instances[i].pi.plugin->desc.name, name) == 0)
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
		in->pi.plugin = p;
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
	sb_printf(&sb, "/%s", in->pi.plugin->desc.name);
	in->name = sb_detach(&sb);
}

static int create_instance(struct daemon *d, struct instance *in)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	instance_name(in);
	const struct instance_env env = {.cfg = d->cfg, .clock = d->clock, .network = true};
	int rc = instance_create(&in->pi, in->name, &env, &err);
	if (rc) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	log_info(COMPONENT, "%s: %s %s (ABI %u.%u) from %s", in->name, in->pi.plugin->desc.name,
		 in->pi.plugin->desc.version, (unsigned)in->pi.plugin->desc.abi_major,
		 (unsigned)in->pi.plugin->desc.abi_minor, in->pi.plugin->path);
	return 0;
}

/*
 * kerf.yaml's manifests: the NodePools and node classes kerf provisions for.
 * Every problem in every file is printed (file:line:column) before kerfd
 * gives up, as `kerfctl validate` would print them.  Node classes are the
 * provider's to validate, so the provider is loaded (not created) first.
 */
static int load_manifests(struct daemon *d)
{
	const struct cfg *c = d->cfg;
	const struct loader_plugin *prov = d->provider->pi.plugin;
	struct kerf_error perr;
	int status = 0;
	mf_set_init(&d->manifests);
	kerf_error_clear(&perr);
	if ((status =
		 mf_set_add_provider(&d->manifests, prov->desc.name, &prov->provider, &perr))) {
		role_error(c, "provider", 0, perr.message);
		return status;
	}
	for (size_t i = 0; i < c->n_manifests; i++) {
		struct mf_diags diags = {0};
		struct kerf_error err;
		kerf_error_clear(&err);
		int rc = mf_load_file(&d->manifests, c->manifests[i], &diags, &err);
		if (rc == KERF_E_CONFIG && diags.n) {
			for (size_t k = 0; k < diags.n; k++)
				log_error(COMPONENT, "%s", diags.items[k].message);
		} else if (rc) {
			role_error(c, "manifests", i, err_text(&err, rc));
		}
		mf_diags_clear(&diags);
		if (rc)
			status = rc;
	}
	if (status == 0)
		log_info(COMPONENT, "manifests: %zu NodePool%s, %zu node class%s",
			 d->manifests.n_nodepools, d->manifests.n_nodepools == 1 ? "" : "s",
			 d->manifests.n_node_classes, d->manifests.n_node_classes == 1 ? "" : "es");
	return status;
}

/*
 * When the simulated cluster's timed actions run out: the last scenario
 * action or trace arrival, in the sim plugin's own units (trace seconds
 * divided by trace_time_scale).  The plugin reports changes, not its plans,
 * so kerfd reads the same files to know when a run may end.  0 when the
 * cluster is not the simulator or has neither file.
 */
static int64_t trace_end_ms(const char *path, int64_t scale)
{
	struct strbuf text;
	struct kerf_error err = KERF_ERROR_INIT;
	int64_t end = 0;
	if (yt_read_file(path, &text, &err) != 0)
		return 0;
	for (const char *line = text.buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		if (*line >= '0' && *line <= '9') {
			int64_t s = 0;
			for (const char *q = line; *q >= '0' && *q <= '9' && s < INT64_MAX / 10000; q++)
				s = s * 10 + (*q - '0');
			/* The plugin divides the arrival in milliseconds by the scale. */
			if (s * 1000 / scale > end)
				end = s * 1000 / scale;
		}
		line = nl ? nl + 1 : NULL;
	}
	sb_free(&text);
	return end;
}

static int64_t scenario_end_ms(const char *path)
{
	struct yt_stream *ys = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	int64_t end = 0;
	if (yt_parse_file(path, &ys, &err) != 0)
		return 0;
	const struct yt_node *root = ys->n ? ys->docs[0].root : NULL;
	for (size_t i = 0; root && root->type == YT_SEQ && i < root->n; i++) {
		const char *at = yt_scalar_str(yt_map_get(root->items[i], "at"));
		int64_t ms;
		if (at && kerf_duration_parse(at, false, &ms, NULL) == 0 && ms > end)
			end = ms;
	}
	yt_stream_free(ys);
	return end;
}

static int64_t script_end_ms(const struct instance *cluster)
{
	const char *trace = NULL, *scenario = NULL;
	int64_t scale = 1, end = 0;
	if (strcmp(cluster->pi.plugin->desc.name, "sim") != 0 || !cluster->pi.section)
		return 0;
	if (cfg_section_string(cluster->pi.section, "trace", &trace) == 0 && trace) {
		if (cfg_section_int(cluster->pi.section, "trace_time_scale", &scale) != 0 ||
		    scale < 1)
			scale = 1;
		end = trace_end_ms(trace, scale);
	}
	if (cfg_section_string(cluster->pi.section, "scenario", &scenario) == 0 && scenario) {
		int64_t s = scenario_end_ms(scenario);
		if (s > end)
			end = s;
	}
	return end;
}

/*
 * The host clock's wall time, for log lines (under the virtual clock they
 * carry simulated time, so they line up with plugin logs) and for the
 * decision log.
 */
static int64_t clock_wall_ms(void *clock)
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
		d->clock = host_clock_new_virtual(now_wall_ms());
		log_set_time(clock_wall_ms, d->clock);
	} else {
		d->clock = host_clock_new_real();
	}

	if ((rc = http_global_init(&err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	d->http_ready = true;
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
	if ((rc = load_manifests(d)) != 0)
		return rc;
	/* Every plugin loads before any create() runs, so a bad file fails fast and cheaply. */
	for (size_t i = 0; i < d->n_instances; i++)
		if ((rc = create_instance(d, &d->instances[i])) != 0)
			return rc;

	/* The default packer solves every batch; the first one listed when none is named. */
	struct instance *packer = c->n_packers ? d->packers[0] : NULL;
	for (size_t i = 0; c->default_packer && i < c->n_packers; i++)
		if (strcmp(d->packers[i]->pi.plugin->desc.name, c->default_packer) == 0)
			packer = d->packers[i];
	if (!packer) {
		role_error(c, "packers", 0, "no packer: provisioning needs one");
		return KERF_E_CONFIG;
	}
	const char *dl = d->decision_log_path ? d->decision_log_path : c->decision_log;
	kerf_error_clear(&err);
	if (*dl && (rc = decision_log_open(dl, clock_wall_ms, d->clock, &d->decision_log, &err))) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	d->prov_packers = xcalloc(c->n_packers + 1, sizeof(*d->prov_packers));
	for (size_t i = 0; i < c->n_packers; i++)
		d->prov_packers[i] =
		    (struct prov_packer){&d->packers[i]->pi.plugin->packer, d->packers[i]->pi.state,
					 d->packers[i]->pi.plugin->desc.name};
	struct provisioner_config pc = {
	    .cluster = &d->cluster->pi.plugin->cluster,
	    .cluster_inst = d->cluster->pi.state,
	    .cluster_events =
		(d->cluster->pi.plugin->desc.capabilities & KERF_CAP_CLUSTER_EVENTS) != 0,
	    .provider = &d->provider->pi.plugin->provider,
	    .provider_inst = d->provider->pi.state,
	    .packer = &packer->pi.plugin->packer,
	    .packer_inst = packer->pi.state,
	    .packer_name = packer->pi.plugin->desc.name,
	    .n_packers = c->n_packers,
	    .packers = d->prov_packers,
	    .n_pool_packing = c->n_nodepools,
	    .pool_packing = c->nodepools,
	    .decision_log = d->decision_log,
	    .batch_idle_ms = c->batch_idle_ms,
	    .batch_max_ms = c->batch_max_ms,
	};
	d->prov = provisioner_new(&pc);
	for (size_t i = 0; i < d->manifests.n_node_classes; i++)
		provisioner_add_node_class(d->prov, d->manifests.node_classes[i]);
	for (size_t i = 0; i < d->manifests.n_nodepools; i++) {
		kerf_error_clear(&err);
		rc = provisioner_add_nodepool(d->prov, d->manifests.nodepools[i], &err);
		if (rc) {
			log_error(COMPONENT, "%s", err_text(&err, rc));
			return rc;
		}
	}
	d->script_end_ms = script_end_ms(d->cluster);
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	provisioner_free(d->prov);
	decision_log_close(d->decision_log);
	/* Destroy in reverse creation order: later instances may have been built on earlier ones.
	 */
	for (size_t i = d->n_instances; i-- > 0;) {
		struct instance *in = &d->instances[i];
		instance_destroy(&in->pi);
		free(in->name);
	}
	free(d->instances);
	free(d->packers);
	free(d->prov_packers);
	loader_free(d->loader);
	if (d->http_ready)
		http_global_cleanup();
	log_set_time(NULL, NULL);
	host_clock_free(d->clock);
	cfg_free(d->cfg);
	mf_set_clear(&d->manifests);
	cache_clear(&d->cache);
	memset(d, 0, sizeof(*d));
}

static void log_status(struct daemon *d)
{
	const struct cache *c = &d->cache;
	log_info(COMPONENT,
		 "status: pods=%zu (pending=%zu unschedulable=%zu) nodes=%zu nodepools=%zu "
		 "nodeclaims=%zu nodeclasses=%zu daemonsets=%zu events=%llu",
		 c->count[KERF_OBJ_POD], c->pods_pending, c->pods_unschedulable,
		 c->count[KERF_OBJ_NODE], c->count[KERF_OBJ_NODEPOOL], c->count[KERF_OBJ_NODECLAIM],
		 c->count[KERF_OBJ_NODE_CLASS], c->count[KERF_OBJ_DAEMONSET],
		 (unsigned long long)c->events);
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
	if (!d->tty && now_ms - d->last_status_ms >= STATUS_INTERVAL_MS) {
		log_status(d);
		d->last_status_ms = now_ms;
	}
	return provisioner_reconcile(d->prov, now_ms, err);
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

/* The cluster's events feed both the counting cache and the provisioner. */
static void on_event(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	struct daemon *d = ctx;
	on_object(&d->cache, type, kind, object);
	if ((unsigned)kind < N_KINDS)
		provisioner_on_object(d->prov, type, kind, object, host_clock_wall_ms(d->clock));
}

/* ------------------------------------------------------------- progress */

static void format_status(struct daemon *d, int64_t now_ms)
{
	struct provisioner_status st;
	int64_t t = (now_ms - d->start_ms) / 1000;
	provisioner_status(d->prov, &st);
	snprintf(d->status_line, sizeof(d->status_line),
		 "[%02lld:%02lld:%02lld] pending pods %zu, nodes %zu (%zu launching), $%.4f/h",
		 (long long)(t / 3600), (long long)(t / 60 % 60), (long long)(t % 60),
		 st.pods_pending, st.nodes, st.claims_launching, (double)st.price_per_hour / 1e6);
}

/* Log lines go above the status line, which is drawn again under them. */
static void tty_sink(void *arg, kerf_log_level level, const char *line, size_t len)
{
	const struct daemon *d = arg;
	(void)level;
	fputs("\r\033[K", stderr);
	fwrite(line, 1, len, stderr);
	fputs(d->status_line, stderr);
	fflush(stderr);
}

#define TTY_REDRAW_MS 100

static void progress(struct daemon *d, int64_t now_ms)
{
	if (d->tty) {
		/* Real time: a virtual run must not redraw faster than anyone reads. */
		int64_t real = now_mono_ms();
		if (real - d->last_redraw_ms < TTY_REDRAW_MS)
			return;
		d->last_redraw_ms = real;
		format_status(d, now_ms);
		fprintf(stderr, "\r\033[K%s", d->status_line);
		fflush(stderr);
	} else if (now_ms - d->last_status_ms >= STATUS_INTERVAL_MS) {
		format_status(d, now_ms);
		log_info(COMPONENT, "%s", d->status_line);
	}
}

/*
 * True when a virtual-clock run has nothing left to do, or --until is
 * reached.  polled_ms is when the cluster last moved: the clock may be
 * ahead of it, and actions due in between have not run yet.
 */
static bool run_over(struct daemon *d, int64_t polled_ms, int64_t now_ms)
{
	if (d->until_ms && now_ms - d->start_ms >= d->until_ms) {
		log_info(COMPONENT, "--until reached");
		return true;
	}
	if (!host_clock_is_virtual(d->clock) || polled_ms - d->start_ms < d->script_end_ms)
		return false;
	if (!provisioner_settled(d->prov))
		return false;
	log_info(COMPONENT, "simulation finished: no more actions, nothing pending or launching");
	return true;
}

static void finish(struct daemon *d)
{
	int64_t now = host_clock_mono_ms(d->clock);
	if (d->tty) {
		log_set_sink(NULL, NULL);
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	provisioner_summary(d->prov, stdout, d->start_ms, now);
	fflush(stdout);
	if (d->report) {
		struct kerf_error err;
		kerf_error_clear(&err);
		int rc = provisioner_report(d->prov, d->report, d->start_ms, now, &err);
		if (rc)
			log_error(COMPONENT, "%s", err_text(&err, rc));
		else
			log_info(COMPONENT, "report written to %s", d->report);
	}
}

static int daemon_run(struct daemon *d)
{
	const struct kerf_cluster_ops *ops = &d->cluster->pi.plugin->cluster;
	void *cl = d->cluster->pi.state;
	struct kerf_event_sink sink = {d, on_event};
	struct kerf_error err = KERF_ERROR_INIT;

	/* The cluster lists no NodePools or classes of its own: kerf.yaml's manifests are them. */
	for (size_t i = 0; i < d->manifests.n_node_classes; i++)
		on_object(&d->cache, KERF_EVENT_ADDED, KERF_OBJ_NODE_CLASS,
			  d->manifests.node_classes[i]);
	for (size_t i = 0; i < d->manifests.n_nodepools; i++)
		on_object(&d->cache, KERF_EVENT_ADDED, KERF_OBJ_NODEPOOL, d->manifests.nodepools[i]);
	d->start_ms = host_clock_mono_ms(d->clock);
	d->tty = isatty(STDERR_FILENO) != 0;
	if (d->tty) {
		format_status(d, d->start_ms);
		log_set_sink(tty_sink, d);
	}
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
		int64_t now = host_clock_mono_ms(d->clock);
		rc = reconcile(d, now, &err);
		if (rc)
			log_warn(COMPONENT, "reconcile: %s", err_text(&err, rc));
		progress(d, now);
		if (run_over(d, before, now))
			break;
	}
	if (stop_signal)
		log_info(COMPONENT, "%s received, shutting down", strsignal(stop_signal));
	log_status(d);
	finish(d);
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
		"Usage: kerfd --config FILE [--check] [--until DURATION] [--report FILE]\n"
		"             [--decision-log FILE]\n"
		"  -c, --config FILE  kerf.yaml to run with (required)\n"
		"      --check        validate the configuration, load and create every plugin,\n"
		"                     then exit\n"
		"      --until DURATION  stop after this much cluster time (\"2h\", \"90s\")\n"
		"      --report FILE  write the summary printed at the end as JSON\n"
		"      --decision-log FILE  append decisions as JSON lines here instead of\n"
		"                     settings.decision_log's file\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"until", required_argument, NULL, 'u'},
	    {"report", required_argument, NULL, 'r'},
	    {"decision-log", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *report = NULL, *decision_log = NULL;
	int64_t until = 0;
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
		case 'u':
			if (kerf_duration_parse(optarg, false, &until, NULL) != 0 || until <= 0) {
				fprintf(stderr, "kerfd: --until: \"%s\" is not a positive duration\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			report = optarg;
			break;
		case 'd':
			decision_log = optarg;
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
	d.until_ms = until;
	d.report = report;
	d.decision_log_path = decision_log;
	int rc = daemon_start(&d, config);
	if (rc == 0 && check) {
		printf("configuration ok: %s\n", config);
		for (size_t i = 0; i < d.n_instances; i++) {
			const struct instance *in = &d.instances[i];
			printf("  %-24s %s %s (ABI %u.%u) %s\n", in->name, in->pi.plugin->desc.name,
			       in->pi.plugin->desc.version, (unsigned)in->pi.plugin->desc.abi_major,
			       (unsigned)in->pi.plugin->desc.abi_minor, in->pi.plugin->path);
		}
	} else if (rc == 0) {
		rc = daemon_run(&d);
	}
	daemon_stop(&d);
	log_shutdown();
	return rc ? 1 : 0;
}
