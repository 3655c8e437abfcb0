/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.c - kerfd's control loop (daemon.h).
 *
 * Start-up is all-or-nothing: the configuration must validate, and every
 * plugin it names (cluster, provider, each packer) must load, accept its
 * config section and create an instance, or kerfd exits 1 with that one
 * failure before touching the cluster.
 *
 * Then one loop thread: poll the cluster plugin (without waiting), take
 * whatever the sinks and the workers pushed to the inbox, apply it to the
 * cluster state in arrival order and let the controllers react, and
 * reconcile once every cache has synced (and, with a lease, while this
 * replica holds it).  Blocking plugin calls go to the workers, so the loop
 * keeps draining events while a launch takes seconds.
 *
 * Under the virtual clock time moves only here: after a pass, the loop
 * waits for every plugin call on the workers to come back, then moves the
 * clock, so a simulated run makes the same decisions however long the
 * calls took in real time.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "cfg.h"
#include "daemon.h"
#include "decision_log.h"
#include "disruption.h"
#include "evq.h"
#include "host.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "manifest.h"
#include "pool.h"
#include "provisioner.h"
#include "state.h"
#include "util.h"

#define COMPONENT "kerfd"

/* The longest the loop waits on its inbox before polling the cluster again. */
#define IDLE_WAIT_MS 100
/* Under the virtual clock, a pass in which the cluster did not move time moves it this far. */
#define VIRTUAL_STEP_MS 1000
/* How often the status line is logged. */
#define STATUS_INTERVAL_MS 60000
/* Back-off after a retryable poll failure, doubling up to the maximum. */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* Leader election, as client-go's defaults: hold for 15 s, renew every 2 s. */
#define LEASE_DURATION_MS 15000
#define LEASE_RETRY_MS 2000

/* One plugin instance.  A plugin that fills two roles (sim: cluster and provider) gets one. */
struct instance {
	struct plugin_instance pi;
	uint32_t kinds;
	char *name; /* "provider/acme", "cluster+provider/sim" */
};

struct daemon {
	struct daemon_options opt;
	struct cfg *cfg;
	struct loader *loader;
	bool http_ready;
	struct host_clock *clock;
	size_t n_instances;
	struct instance *instances;
	struct instance *cluster;
	struct instance *provider;
	struct instance **packers;	  /* cfg->n_packers, in config order */
	struct prov_packer *prov_packers; /* the same, as the provisioner takes them */
	struct mf_set manifests;	  /* kerf.yaml's NodePools and node classes */
	struct cluster_state state;
	struct evq *evq;
	struct pool *workers;
	struct provisioner *prov;
	struct disruption *disr; /* the disruption controller, beside the provisioner */
	struct decision_log *decision_log;
	char *report_tmp; /* --report is written here, then renamed over the report */
	kerf_mono_ms_t start_ms;
	kerf_mono_ms_t script_end_ms; /* a virtual run's last scripted action; 0: none */
	kerf_mono_ms_t last_status_ms;
	bool tty;		/* stderr is a terminal: one status line, redrawn */
	int64_t last_redraw_ms; /* real time of the last redraw */
	char status_line[160];
	/* Leader election (the cluster's acquire_lease); without it, always leader. */
	char *identity;
	bool leader;
	bool lease_pending;
	kerf_mono_ms_t lease_next_ms, lease_until_ms;
	uint64_t results; /* worker results applied, to tell a pass that wrote from a quiet one */
	_Atomic int stop;
	bool stopped; /* a stop came during start-up: daemon_start left the rest undone */
	_Atomic uint64_t ticks, events, in_flight, nodeclaims, pods_scheduled;
};

static bool stopping(const struct daemon *d)
{
	return atomic_load(&d->stop) || (d->opt.stop && *d->opt.stop);
}

/*
 * Start-up can take a while (plugins load catalogues, the first lists
 * run): a SIGINT or SIGTERM meanwhile is looked at between its steps and
 * stops it there, as it would stop the loop.
 */
static bool stopped_in_startup(struct daemon *d, const char *step)
{
	if (!stopping(d))
		return false;
	log_info(COMPONENT, "stop requested during start-up (%s): shutting down", step);
	d->stopped = true;
	return true;
}

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
	const struct instance_env env = {
	    .cfg = d->cfg, .clock = d->clock, .network = true, .manifests = &d->manifests};
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
	/* Pods and other kinds in the files are the cluster's business: keep none of their trees. */
	d->manifests.other_counted = true;
	d->manifests.max_nodepools = (size_t)c->max_nodepools;
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
	for (size_t i = 0; status == 0 && i < d->manifests.n_nodepools; i++) {
		const struct kerf_nodepool *np = d->manifests.nodepools[i];
		const struct kerf_node_class_ref *ref = np->node_class_ref;
		/* Karpenter holds it not Ready; the cluster may still bring the class. */
		if (!mf_set_find_node_class(&d->manifests, ref))
			log_warn(
			    COMPONENT,
			    "NodePool %s: nodeClassRef names %s %s, which no manifest defines; "
			    "nothing is provisioned from it until the cluster has it",
			    np->meta->name, ref->kind ? ref->kind : "node class",
			    ref->name ? ref->name : "(none)");
	}
	if (status == 0)
		log_info(COMPONENT, "manifests: %zu NodePool%s, %zu node class%s",
			 d->manifests.n_nodepools, d->manifests.n_nodepools == 1 ? "" : "s",
			 d->manifests.n_node_classes, d->manifests.n_node_classes == 1 ? "" : "es");
	return status;
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

/* Real randomness for a real cluster; under the virtual clock a fixed seed, so a replay repeats. */
static uint64_t name_seed(const struct daemon *d)
{
	uint64_t seed = 0;
	if (host_clock_is_virtual(d->clock))
		return 0x6b657266ull; /* "kerf" */
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)now_mono_ns() ^ ((uint64_t)getpid() << 32);
	return seed;
}

static int start_plugins(struct daemon *d)
{
	struct cfg *c = d->cfg;
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	if ((rc = http_global_init(&err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	d->http_ready = true;
	if ((rc = loader_new(c->plugin_dir, &d->loader, &err)) != 0) {
		const struct yt_node *at = role_node(c, "plugin_dir", 0);
		if (at)
			log_error(COMPONENT, "%s:%u:%u: %s", c->path, at->line, at->column,
				  err_text(&err, rc));
		else
			log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	if (stopped_in_startup(d, "loading plugins"))
		return 0;
	d->instances = xcalloc(2 + c->n_packers, sizeof(*d->instances));
	d->packers = xcalloc(c->n_packers + 1, sizeof(*d->packers));
	if ((rc = open_role(d, "cluster", 0, c->cluster, KERF_KIND_CLUSTER, &d->cluster)) != 0 ||
	    (rc = open_role(d, "provider", 0, c->provider, KERF_KIND_PROVIDER, &d->provider)) != 0)
		return rc;
	for (size_t i = 0; i < c->n_packers; i++)
		if ((rc = open_role(d, "packers", i, c->packers[i], KERF_KIND_PACKER,
				    &d->packers[i])) != 0)
			return rc;
	if (stopped_in_startup(d, "loading plugins"))
		return 0;
	if (c->virtual_clock &&
	    !(d->cluster->pi.plugin->desc.capabilities & KERF_CAP_CLUSTER_VIRTUAL_TIME)) {
		role_error(c, "cluster", 0,
			   "settings.clock is virtual, but this cluster plugin cannot drive "
			   "virtual time (it lacks the virtual-time capability)");
		return KERF_E_CONFIG;
	}
	if ((rc = load_manifests(d)) != 0)
		return rc;
	/* Every plugin loads before any create() runs, so a bad file fails fast and cheaply. */
	for (size_t i = 0; i < d->n_instances; i++) {
		if (stopped_in_startup(d, "creating plugin instances"))
			return 0;
		if ((rc = create_instance(d, &d->instances[i])) != 0)
			return rc;
	}
	return 0;
}

static int start_provisioner(struct daemon *d)
{
	struct cfg *c = d->cfg;
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	/* The default packer solves every batch; the first one listed when none is named. */
	struct instance *packer = c->n_packers ? d->packers[0] : NULL;
	for (size_t i = 0; c->default_packer && i < c->n_packers; i++)
		if (strcmp(d->packers[i]->pi.plugin->desc.name, c->default_packer) == 0)
			packer = d->packers[i];
	if (!packer) {
		role_error(c, "packers", 0, "no packer: provisioning needs one");
		return KERF_E_CONFIG;
	}
	const char *dl = d->opt.decision_log ? d->opt.decision_log : c->decision_log;
	if (*dl && (rc = decision_log_open(dl, clock_wall_ms, d->clock, &d->decision_log, &err))) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	/*
	 * Under the virtual clock plugin calls run one at a time, in the order
	 * they were made: simulated time stands still while they run, so
	 * parallelism would buy nothing but an order that changes with the
	 * machine's load, and a replay must come out the same anywhere.
	 */
	unsigned workers = c->virtual_clock ? 1 : (unsigned)c->launch_parallelism;
	if ((rc = pool_new(workers, &d->workers, &err)) != 0) {
		log_error(COMPONENT, "%s", err_text(&err, rc));
		return rc;
	}
	d->evq = evq_new();
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
	    .cluster_finalizers =
		(d->cluster->pi.plugin->desc.capabilities & KERF_CAP_CLUSTER_FINALIZERS) != 0,
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
	    .state = &d->state,
	    .clock = d->clock,
	    .workers = d->workers,
	    .evq = d->evq,
	    .name_seed = name_seed(d),
	};
	d->prov = provisioner_new(&pc);
	d->disr = disruption_new(d->prov, d->decision_log);
	for (size_t i = 0; i < d->manifests.n_node_classes; i++)
		provisioner_add_node_class(d->prov, d->manifests.node_classes[i]);
	for (size_t i = 0; i < d->manifests.n_nodepools; i++) {
		if (stopped_in_startup(d, "adding NodePools"))
			return 0;
		kerf_error_clear(&err);
		rc = provisioner_add_nodepool(d->prov, d->manifests.nodepools[i], &err);
		if (rc) {
			log_error(COMPONENT, "%s", err_text(&err, rc));
			return rc;
		}
	}
	return 0;
}

/*
 * --report is checked before the run, not discovered unwritable after it:
 * the temporary file it is written to is made now, beside it (so the
 * rename at the end stays on one file system).
 */
static int prepare_report(struct daemon *d)
{
	const char *path = d->opt.report;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		log_error(COMPONENT, "--report %s: is a directory", path);
		return KERF_E_IO;
	}
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%s.XXXXXX", path);
	int fd = mkstemp(sb.buf);
	if (fd < 0) {
		log_error(COMPONENT, "--report %s: cannot create a file beside it: %s", path,
			  strerror(errno));
		sb_free(&sb);
		return KERF_E_IO;
	}
	close(fd);
	d->report_tmp = sb_detach(&sb);
	return 0;
}

int daemon_start(const struct daemon_options *opt, struct daemon **out)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	struct kerf_error err = KERF_ERROR_INIT;
	*out = d;
	d->opt = *opt;
	state_init(&d->state);
	int rc = cfg_load_file(opt->config, &d->cfg, &err);
	if (rc) {
		/* Not logged: the configuration error is the whole message. */
		fprintf(stderr, "%s\n", err_text(&err, rc));
		return rc;
	}
	log_init((kerf_log_level)d->cfg->log_level, d->cfg->log_json != 0);
	if (d->cfg->virtual_clock) {
		d->clock = host_clock_new_virtual(d->cfg->virtual_start_ms ? d->cfg->virtual_start_ms
									: now_wall_ms());
		log_set_time(clock_wall_ms, d->clock);
	} else {
		d->clock = host_clock_new_real();
	}
	if (opt->report && (rc = prepare_report(d)) != 0)
		return rc;
	if (stopped_in_startup(d, "configuration read"))
		return 0;
	if ((rc = start_plugins(d)) != 0 || d->stopped)
		return rc;
	if (stopped_in_startup(d, "plugin instances created"))
		return 0;
	return start_provisioner(d);
}

bool daemon_stopped(const struct daemon *d)
{
	return d->stopped;
}

void daemon_print_instances(const struct daemon *d, FILE *f)
{
	for (size_t i = 0; i < d->n_instances; i++) {
		const struct instance *in = &d->instances[i];
		fprintf(f, "  %-24s %s %s (ABI %u.%u) %s\n", in->name, in->pi.plugin->desc.name,
			in->pi.plugin->desc.version, (unsigned)in->pi.plugin->desc.abi_major,
			(unsigned)in->pi.plugin->desc.abi_minor, in->pi.plugin->path);
	}
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	/* Workers first: their jobs call into plugins and push to the inbox. */
	pool_free(d->workers);
	evq_free(d->evq);
	disruption_free(d->disr);
	provisioner_free(d->prov);
	struct kerf_error err = KERF_ERROR_INIT;
	if (decision_log_close(d->decision_log, &err) != 0)
		log_error(COMPONENT, "%s", err.message);
	if (d->report_tmp) {
		unlink(d->report_tmp);
		free(d->report_tmp);
	}
	/* Destroy in reverse creation order: later instances may have been built on earlier ones. */
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
	state_clear(&d->state);
	free(d->identity);
	free(d);
}

void daemon_request_stop(struct daemon *d)
{
	atomic_store(&d->stop, 1);
	if (d->evq)
		evq_wake(d->evq);
}

void daemon_get_stats(struct daemon *d, struct daemon_stats *out)
{
	out->ticks = atomic_load(&d->ticks);
	out->events = atomic_load(&d->events);
	out->in_flight = atomic_load(&d->in_flight);
	out->nodeclaims = atomic_load(&d->nodeclaims);
	out->pods_scheduled = atomic_load(&d->pods_scheduled);
}

/* ---------------------------------------------------------------- status */

static void log_status(struct daemon *d)
{
	const struct cluster_state *st = &d->state;
	size_t pending = 0, unschedulable = 0;
	for (size_t i = 0; i < st->n_pods; i++) {
		const struct kerf_pod *p = st->pods[i]->pod;
		pending += p->phase == KERF_POD_PENDING;
		unschedulable += p->unschedulable && !p->node_name;
	}
	log_info(COMPONENT,
		 "status: pods=%zu (pending=%zu unschedulable=%zu) nodes=%zu nodepools=%zu "
		 "nodeclaims=%zu nodeclasses=%zu daemonsets=%zu events=%llu",
		 st->n_pods, pending, unschedulable, st->n_nodes,
		 d->manifests.n_nodepools + st->nodepools.n, st->observed_claims.n,
		 d->manifests.n_node_classes + st->node_classes.n, st->n_ds,
		 (unsigned long long)st->events);
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
 * ahead of it, and actions due in between have not run yet.  quiet: no
 * worker result was applied since that poll, so every write kerf made
 * (a deleted node, an evicted pod) came before it and the cluster has
 * reported what followed; otherwise the next poll may still bring pods
 * back pending.
 */
static bool run_over(struct daemon *d, kerf_mono_ms_t polled_ms, kerf_mono_ms_t now_ms,
		     bool quiet)
{
	if (d->opt.until_ms && now_ms - d->start_ms >= d->opt.until_ms) {
		log_info(COMPONENT, "--until reached");
		return true;
	}
	if (!host_clock_is_virtual(d->clock) || polled_ms - d->start_ms < d->script_end_ms ||
	    !quiet)
		return false;
	if (!provisioner_settled(d->prov) || !disruption_settled(d->disr))
		return false;
	struct provisioner_status st;
	provisioner_status(d->prov, &st);
	/* Settled: whatever is still pending is what no NodePool could take. */
	if (st.pods_pending)
		log_info(COMPONENT,
			 "simulation finished: nothing launching, %zu pod%s pending that no "
			 "NodePool can take",
			 st.pods_pending, st.pods_pending == 1 ? "" : "s");
	else
		log_info(COMPONENT, "simulation finished: nothing pending or launching");
	return true;
}

/* The report into its temporary file, flushed to the disk, then renamed over the report. */
static int write_report(struct daemon *d, kerf_mono_ms_t now)
{
	struct kerf_error err = KERF_ERROR_INIT;
	const char *path = d->opt.report;
	int e = 0, fd;

	/* The report is written by path with stdio, whose failing call leaves its errno. */
	errno = 0;
	if (provisioner_report(d->prov, d->report_tmp, d->start_ms, now, &err) != 0) {
		e = errno ? errno : EIO;
	} else if ((fd = open(d->report_tmp, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
	} else {
		if (fsync(fd) != 0)
			e = errno;
		if (close(fd) != 0 && !e)
			e = errno;
		if (!e && rename(d->report_tmp, path) != 0)
			e = errno;
	}
	if (e) {
		log_error(COMPONENT, "--report %s: cannot write it: %s", path, strerror(e));
		return KERF_E_IO;
	}
	free(d->report_tmp);
	d->report_tmp = NULL;
	log_info(COMPONENT, "report written to %s", path);
	return 0;
}

/*
 * The summary, the report and the decision log's fate: a record that could
 * not be written is an error of the whole run, reported last.
 */
static int finish(struct daemon *d)
{
	kerf_mono_ms_t now = host_clock_mono_ms(d->clock);
	int rc = 0;
	if (d->tty) {
		log_set_sink(NULL, NULL);
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	provisioner_summary(d->prov, stdout, d->start_ms, now);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error(COMPONENT, "standard output: write failed: %s", strerror(errno));
		rc = KERF_E_IO;
	}
	if (d->opt.report && write_report(d, now) != 0)
		rc = KERF_E_IO;
	struct kerf_error err = KERF_ERROR_INIT;
	if (d->decision_log && decision_log_status(d->decision_log, &err) != 0) {
		log_error(COMPONENT, "%s", err.message);
		rc = KERF_E_IO;
	}
	kerf_error_clear(&err);
	if (decision_log_close(d->decision_log, &err) != 0) {
		log_error(COMPONENT, "%s", err.message);
		rc = KERF_E_IO;
	}
	d->decision_log = NULL;
	return rc;
}

/* ------------------------------------------------------------------ lease */

struct lease_job {
	struct daemon *d;
	bool held;
	int rc;
	struct kerf_error err;
};

static void lease_done(void *arg)
{
	struct lease_job *j = arg;
	struct daemon *d = j->d;
	kerf_mono_ms_t now = host_clock_mono_ms(d->clock);
	d->lease_pending = false;
	atomic_fetch_sub(&d->in_flight, 1);
	if (j->rc == 0 && j->held) {
		if (!d->leader)
			log_info(COMPONENT, "leader lease acquired as %s", d->identity);
		d->leader = true;
		d->lease_until_ms = now + LEASE_DURATION_MS;
	} else if (j->rc == 0) {
		/* Another replica holds it: stop acting at once, not when ours would end. */
		if (d->leader)
			log_warn(COMPONENT, "leader lease held by another replica: standing by");
		d->leader = false;
	} else {
		log_warn(COMPONENT, "leader lease: %s", err_text(&j->err, j->rc));
		/* Past the lease's end another replica may act: this one must not. */
		if (d->leader && now >= d->lease_until_ms) {
			log_warn(COMPONENT, "leader lease lost: standing by");
			d->leader = false;
		}
	}
	free(j);
}

static void lease_run(void *arg)
{
	struct lease_job *j = arg;
	struct daemon *d = j->d;
	kerf_error_clear(&j->err);
	j->rc = d->cluster->pi.plugin->cluster.acquire_lease(d->cluster->pi.state, d->identity,
							     LEASE_DURATION_MS, &j->held, &j->err);
	evq_push_done(d->evq, lease_done, j);
}

static void lease_tick(struct daemon *d, kerf_mono_ms_t now)
{
	if (!d->cluster->pi.plugin->cluster.acquire_lease) {
		d->leader = true;
		return;
	}
	if (d->leader && now >= d->lease_until_ms) {
		log_warn(COMPONENT, "leader lease expired before it was renewed: standing by");
		d->leader = false;
	}
	if (d->lease_pending || now < d->lease_next_ms)
		return;
	d->lease_pending = true;
	d->lease_next_ms = now + LEASE_RETRY_MS;
	struct lease_job *j = xcalloc(1, sizeof(*j));
	j->d = d;
	atomic_fetch_add(&d->in_flight, 1);
	pool_submit(d->workers, lease_run, j);
}

/* ------------------------------------------------------------------- loop */

/* Applies what the inbox held, oldest first. */
static void apply(struct daemon *d, struct evq_item *list)
{
	for (struct evq_item *it = list, *next; it; it = next) {
		next = it->next;
		switch (it->what) {
		case EVQ_OBJECT:
			if (!state_apply(&d->state, it->type, it->kind, it->object)) {
				log_warn(COMPONENT,
					 "cluster plugin sent an event for object kind %d without a "
					 "name, or of an unknown kind",
					 (int)it->kind);
				break;
			}
			atomic_fetch_add(&d->events, 1);
			provisioner_on_object(d->prov, it->type, it->kind, it->object);
			disruption_on_object(d->disr, it->type, it->kind, it->object);
			break;
		case EVQ_INSTANCE:
			atomic_fetch_add(&d->events, 1);
			provisioner_on_instance(d->prov, it->instance);
			break;
		case EVQ_DONE:
			d->results++;
			it->fn(it->arg);
			break;
		case EVQ_NOTE:
			it->fn(it->arg);
			break;
		}
		evq_item_free(it);
	}
	atomic_store(&d->in_flight, provisioner_in_flight(d->prov) + (d->lease_pending ? 1 : 0));
	atomic_store(&d->nodeclaims, d->state.n_claims);
	atomic_store(&d->pods_scheduled, provisioner_pods_scheduled(d->prov));
}

static int start_cluster(struct daemon *d)
{
	const struct kerf_cluster_ops *ops = &d->cluster->pi.plugin->cluster;
	void *cl = d->cluster->pi.state;
	struct kerf_event_sink sink = evq_cluster_sink(d->evq);
	struct kerf_error err = KERF_ERROR_INIT;
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "kerfd");
	host[sizeof(host) - 1] = '\0';
	struct strbuf id;
	sb_init(&id);
	sb_printf(&id, "%s_%ld", host, (long)getpid());
	d->identity = sb_detach(&id);

	int rc = ops->start(cl, &sink, &err);
	if (rc) {
		log_error(COMPONENT, "%s: start failed: %s", d->cluster->name, err_text(&err, rc));
		return rc;
	}
	if (host_clock_is_virtual(d->clock)) {
		kerf_mono_ms_t end = 0;
		kerf_error_clear(&err);
		rc = ops->virtual_end ? ops->virtual_end(cl, &end, &err) : KERF_E_UNSUPPORTED;
		if (rc) {
			log_error(COMPONENT, "%s: virtual_end: %s", d->cluster->name,
				  err_text(&err, rc));
			return rc;
		}
		d->script_end_ms = end > d->start_ms ? end - d->start_ms : 0;
	}
	const struct kerf_provider_ops *prov = &d->provider->pi.plugin->provider;
	if (prov->start) {
		struct kerf_provider_sink psink = evq_provider_sink(d->evq);
		kerf_error_clear(&err);
		rc = prov->start(d->provider->pi.state, &psink, &err);
		if (rc) {
			log_error(COMPONENT, "%s: start failed: %s", d->provider->name,
				  err_text(&err, rc));
			return rc;
		}
	}
	return 0;
}

/* Under the virtual clock, every plugin call on the workers comes back before time moves. */
static void settle_workers(struct daemon *d)
{
	while (provisioner_in_flight(d->prov) > 0 || d->lease_pending)
		apply(d, evq_take(d->evq, 1000));
}

int daemon_run(struct daemon *d)
{
	const struct kerf_cluster_ops *ops = &d->cluster->pi.plugin->cluster;
	void *cl = d->cluster->pi.state;
	struct kerf_error err = KERF_ERROR_INIT;
	bool virt = host_clock_is_virtual(d->clock);
	bool synced_logged = false;
	int rc;

	if (d->stopped)
		return 0;
	d->start_ms = host_clock_mono_ms(d->clock);
	d->tty = isatty(STDERR_FILENO) != 0;
	if (d->tty) {
		format_status(d, d->start_ms);
		log_set_sink(tty_sink, d);
	}
	if ((rc = start_cluster(d)) != 0)
		return rc;
	provisioner_start(d->prov);
	/* Under the virtual clock their results are in before the first step, whatever their speed. */
	if (virt)
		settle_workers(d);
	d->last_status_ms = host_clock_mono_ms(d->clock);
	log_info(COMPONENT, "running (%s clock, %lld worker%s); stop with SIGINT or SIGTERM",
		 virt ? "virtual" : "real", virt ? 1LL : (long long)d->cfg->launch_parallelism,
		 !virt && d->cfg->launch_parallelism > 1 ? "s" : "");

	int64_t backoff = 0;
	kerf_mono_ms_t retry_at = 0;
	while (!stopping(d)) {
		kerf_mono_ms_t before = host_clock_mono_ms(d->clock);
		uint64_t results = d->results;
		atomic_fetch_add(&d->ticks, 1);
		if (before >= retry_at) {
			kerf_error_clear(&err);
			rc = ops->poll(cl, 0, &err);
			if (rc && !err.retryable && rc != KERF_E_TIMEOUT && rc != KERF_E_THROTTLED) {
				log_error(COMPONENT, "%s: poll failed: %s", d->cluster->name,
					  err_text(&err, rc));
				settle_workers(d);
				finish(d);
				return rc;
			}
			if (rc) {
				backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
				if (backoff > BACKOFF_MAX_MS)
					backoff = BACKOFF_MAX_MS;
				if (err.retry_after_ms > backoff)
					backoff = err.retry_after_ms;
				log_warn(COMPONENT, "%s: poll failed, retrying in %lld ms: %s",
					 d->cluster->name, (long long)backoff, err_text(&err, rc));
				retry_at = before + backoff;
			} else {
				backoff = 0;
			}
		}
		kerf_mono_ms_t now = host_clock_mono_ms(d->clock);
		int64_t wait = 0;
		if (!virt) {
			kerf_mono_ms_t next = provisioner_next_ms(d->prov);
			if (disruption_next_ms(d->disr) < next)
				next = disruption_next_ms(d->disr);
			wait = next <= now ? 0 : next - now < IDLE_WAIT_MS ? next - now : IDLE_WAIT_MS;
		}
		apply(d, evq_take(d->evq, wait));
		/*
		 * A plugin under the virtual clock returns at once; time passes
		 * only here, before the controllers look: what the cluster
		 * delivered happened during the step, as a real poll would have
		 * returned it at the step's end.
		 */
		if (virt && host_clock_mono_ms(d->clock) == before)
			host_clock_advance(d->clock, VIRTUAL_STEP_MS);

		now = host_clock_mono_ms(d->clock);
		if (state_synced(&d->state)) {
			if (!synced_logged) {
				synced_logged = true;
				log_status(d);
			}
			lease_tick(d, now);
			kerf_error_clear(&err);
			if (d->leader && (rc = provisioner_reconcile(d->prov, &err)) != 0)
				log_warn(COMPONENT, "reconcile: %s", err_text(&err, rc));
			/* Its decisions see the batch just made: nominated nodes are not taken. */
			if (d->leader)
				disruption_reconcile(d->disr);
		}
		if (virt)
			settle_workers(d);
		now = host_clock_mono_ms(d->clock);
		if (!d->tty && now - d->last_status_ms >= STATUS_INTERVAL_MS) {
			log_status(d);
			d->last_status_ms = now;
		}
		progress(d, now);
		if (run_over(d, before, now, d->results == results))
			break;
	}
	if (stopping(d))
		log_info(COMPONENT, "stop requested, shutting down");
	/*
	 * Plugin calls already made finish and are recorded (a launch that
	 * went through gets its status written), so the next kerfd finds the
	 * cluster as this one left it.  No new work starts: only completions
	 * run from here on.
	 */
	size_t waiting = provisioner_in_flight(d->prov);
	if (waiting)
		log_info(COMPONENT, "waiting for %zu plugin call%s in flight", waiting,
			 waiting == 1 ? "" : "s");
	settle_workers(d);
	log_status(d);
	return finish(d);
}
