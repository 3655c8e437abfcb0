/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sim_cluster.c - the sim plugin's cluster half, loaded as kerfd
 * loads it: one instance serving both the cluster and the provider ops,
 * on the fake host of tests/common/sim_host.h whose clock only moves when
 * a test moves it.  Manifests, scenarios and traces are written to a
 * fresh directory per test.  Every event the sink receives is recorded,
 * and the tests check the exact sequence a kerfd would see.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "loader.h"
#include "../common/sim_host.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/sim/.libs"
#define CATALOGUE KERF_TEST_SRCDIR "/data/ec2-catalogue.tsv"

/* The fake host's clock when a test starts; times below are offsets from it. */
#define T0 1700000000000ll
/* A claim created at T0 + 1 s registers 30 s later and is ready 15 s after that. */
#define CLAIM_AT 1000
#define REGISTERED_AT (CLAIM_AT + 30000)
#define READY_AT (REGISTERED_AT + 15000)
#define NODE "ip-10-0-0-1.ec2.internal"

static const char *const deployment = "apiVersion: apps/v1\n"
				      "kind: Deployment\n"
				      "metadata: {name: web}\n"
				      "spec:\n"
				      "  replicas: 3\n"
				      "  selector: {matchLabels: {app: web}}\n"
				      "  template:\n"
				      "    metadata: {labels: {app: web}}\n"
				      "    spec:\n"
				      "      containers:\n"
				      "      - name: web\n"
				      "        image: nginx\n"
				      "        resources: {requests: {cpu: 500m, memory: 512Mi}}\n";

static const char *const huge_pod = "apiVersion: v1\n"
				    "kind: Pod\n"
				    "metadata: {name: huge}\n"
				    "spec:\n"
				    "  containers:\n"
				    "  - {name: c, image: x, resources: {requests: {cpu: \"64\"}}}\n";

static const char *const daemonset = "apiVersion: apps/v1\n"
				     "kind: DaemonSet\n"
				     "metadata: {name: agent, namespace: kube-system}\n"
				     "spec:\n"
				     "  selector: {matchLabels: {app: agent}}\n"
				     "  template:\n"
				     "    metadata: {labels: {app: agent}}\n"
				     "    spec:\n"
				     "      tolerations: [{key: example.com/agent-not-ready, "
				     "operator: Exists}]\n"
				     "      containers:\n"
				     "      - {name: a, image: a, resources: {requests: {cpu: 100m}}}\n";

/* ------------------------------------------------------------ recording */

struct rec {
	kerf_event_type type;
	kerf_object_kind kind;
	char name[128];
	char node_name[128];
	kerf_pod_phase phase;
	bool unschedulable;
	bool ready;
	char provider_id[128]; /* nodes */
	bool cordoned;	       /* nodes */
};

#define MAX_RECS 1024
static struct rec recs[MAX_RECS];
static size_t n_recs;

/* The last state of the node seen, whole, to send back as the core would. */
static struct kerf_node *seen_node;

static void seen_node_clear(void)
{
	kerf_node_free(seen_node);
	seen_node = NULL;
}

static void keep_node(const struct kerf_node *n)
{
	seen_node_clear();
	seen_node = kerf_node_copy(n);
}

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	struct rec *r;

	ck_assert_uint_lt(n_recs, MAX_RECS);
	r = &recs[n_recs++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->kind = kind;
	if (type == KERF_EVENT_SYNCED) {
		ck_assert_ptr_null(object);
		return;
	}
	snprintf(r->name, sizeof(r->name), "%s", kerf_object_meta(kind, object)->name);
	if (kind == KERF_OBJ_POD) {
		const struct kerf_pod *p = object;
		snprintf(r->node_name, sizeof(r->node_name), "%s",
			 p->node_name ? p->node_name : "");
		r->phase = p->phase;
		r->unschedulable = p->unschedulable;
	} else if (kind == KERF_OBJ_DAEMONSET) {
		/* The DaemonSet's pod template, named after the DaemonSet. */
		const struct kerf_pod *p = object;
		ck_assert(p->daemonset);
		ck_assert_ptr_null(p->node_name);
		ck_assert_str_eq(p->meta->kind, "DaemonSet");
		ck_assert_str_eq(p->meta->api_version, "apps/v1");
		ck_assert_ptr_nonnull(p->meta->uid);
		snprintf(r->node_name, sizeof(r->node_name), "%s",
			 p->meta->namespace_ ? p->meta->namespace_ : "");
	} else if (kind == KERF_OBJ_NODE) {
		r->ready = ((const struct kerf_node *)object)->ready;
		snprintf(r->provider_id, sizeof(r->provider_id), "%s",
			 ((const struct kerf_node *)object)->provider_id);
		r->cordoned = ((const struct kerf_node *)object)->unschedulable;
		if (type != KERF_EVENT_DELETED)
			keep_node(object);
	}
}

static const struct kerf_event_sink sink = {NULL, on_object};

/* Instance events from the provider's sink, as "INTERRUPTED <id> at=<ms> deadline=<ms>". */
#define MAX_IRECS 64
static char irecs[MAX_IRECS][256];
static size_t n_irecs;

static void on_instance(void *ctx, const struct kerf_instance_event *ev)
{
	static const char *const types[] = {"INTERRUPTED", "RETIRING", "TERMINATED"};

	ck_assert_uint_lt(n_irecs, MAX_IRECS);
	snprintf(irecs[n_irecs++], sizeof(irecs[0]), "%s %s at=%lld deadline=%lld",
		 types[ev->type], ev->provider_id, (long long)(ev->at ? ev->at - T0 : -1),
		 (long long)(ev->deadline ? ev->deadline - T0 : -1));
}

static const struct kerf_provider_sink isink = {NULL, on_instance};

/* "ADDED pod web-0" and the like, for messages. */
static const char *describe(const struct rec *r)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED", "SYNCED"};
	static const char *const kinds[] = {"pod",	 "node",      "nodepool",
					    "nodeclaim", "nodeclass", "daemonset"};
	static char buf[400];

	snprintf(buf, sizeof(buf), "%s %s %s node=%s phase=%d unschedulable=%d ready=%d",
		 types[r->type], kinds[r->kind], r->name, r->node_name, (int)r->phase,
		 r->unschedulable, r->ready);
	return buf;
}

/* Checks that records [from, from + n) are exactly `want`, one description per record. */
static void expect_recs(size_t from, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(from + i < n_recs, "missing event %zu: want \"%s\"", i, want[i]);
		ck_assert_msg(strcmp(describe(&recs[from + i]), want[i]) == 0,
			      "event %zu: want \"%s\", got \"%s\"", i, want[i],
			      describe(&recs[from + i]));
	}
	ck_assert_msg(from + n == n_recs, "%zu more events than expected, first: %s",
		      n_recs - from - n, n_recs > from + n ? describe(&recs[from + n]) : "");
}

#define EXPECT(from, ...)                                                                          \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_recs(from, want_, sizeof(want_) / sizeof(want_[0]));                        \
	} while (0)

/* ------------------------------------------------------------ the plugin */

static char dir[64];
static char paths[8][128];
static size_t n_paths;
static struct loader *ldr;
static const struct loader_plugin *plug;
static void *inst;
static const struct kerf_cluster_ops *cl;
static const struct kerf_provider_ops *pv;

/* Writes a file into the test's directory; returns its path. */
/* A file of len bytes of text, which may hold NUL bytes. */
static const char *put_bytes(const char *name, const char *text, size_t len)
{
	char *p = paths[n_paths++];
	FILE *f;

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return p;
}

static const char *put(const char *name, const char *text)
{
	return put_bytes(name, text, strlen(text));
}

static void setup(void)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	sim_host_reset(CATALOGUE);
	ck_assert_int_eq(sim_clock_ms, T0);
	snprintf(dir, sizeof(dir), "/tmp/check_sim_cluster.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	n_paths = 0;
	n_recs = 0;
	n_irecs = 0;
	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	rc = loader_open(ldr, "sim", KERF_KIND_CLUSTER | KERF_KIND_PROVIDER, &plug, &err);
	ck_assert_msg(rc == 0, "loader_open: %d %s", rc, err.message);
	cl = &plug->cluster;
	pv = &plug->provider;
}

static void teardown(void)
{
	if (inst)
		loader_destroy(plug, inst);
	inst = NULL;
	seen_node_clear();
	loader_free(ldr);
	ldr = NULL;
	for (size_t i = 0; i < n_paths; i++)
		unlink(paths[i]);
	rmdir(dir);
}

static int create_rc(struct kerf_error *err)
{
	kerf_error_clear(err);
	return loader_create(plug, &sim_fake_host, &inst, err);
}

/* Creates the instance with the current config and starts the cluster at T0. */
static void start(void)
{
	struct kerf_error err;
	int rc = create_rc(&err);

	ck_assert_msg(rc == 0, "create: %d %s", rc, err.message);
	kerf_error_clear(&err);
	rc = cl->start(inst, &sink, &err);
	ck_assert_msg(rc == 0, "start: %d %s", rc, err.message);
}

/* Moves the clock to T0 + at and polls; returns the index of the first new event. */
static size_t poll_at(int64_t at)
{
	size_t from = n_recs;
	struct kerf_error err;
	int rc;

	sim_clock_ms = T0 + at;
	kerf_error_clear(&err);
	rc = cl->poll(inst, 1000, &err);
	ck_assert_msg(rc == 0, "poll: %d %s", rc, err.message);
	return from;
}

/* Polls at T0 + at and checks that nothing was reported. */
static void quiet_at(int64_t at)
{
	size_t from = poll_at(at);

	ck_assert_msg(from == n_recs, "%zu unexpected events, first: %s", n_recs - from,
		      describe(&recs[from]));
}

/* ------------------------------------------------------------ claims */

static void claim_in(struct kerf_nodeclaim *c, const char *key, const char *value)
{
	struct kerf_requirement *r = kerf_requirements_append(&c->requirements);

	r->key = strdup(key);
	r->op = KERF_OP_IN;
	kerf_requirement_add_value(r, value);
}

/*
 * An m5.large on-demand claim in us-east-1a with a label and a startup
 * taint, as the core builds one; the caller frees it.
 */
static struct kerf_nodeclaim *claim_new(const char *name)
{
	struct kerf_nodeclaim *c = kerf_nodeclaim_new();
	struct kerf_taint *t = kerf_taints_append(&c->startup_taints);

	c->meta->name = strdup(name);
	kerf_labels_set(&c->meta->labels, "team", "blue");
	c->nodepool = strdup("default");
	claim_in(c, "node.kubernetes.io/instance-type", "m5.large");
	claim_in(c, "karpenter.sh/capacity-type", "on-demand");
	claim_in(c, "topology.kubernetes.io/zone", "us-east-1a");
	t->key = strdup("example.com/agent-not-ready");
	t->effect = KERF_EFFECT_NO_SCHEDULE;
	kerf_resources_init(&c->resource_requests);
	return c;
}

/* What the core does with a claim at T0 + CLAIM_AT: write it, then launch it. */
static char *launch_claim(void)
{
	struct kerf_nodeclaim *c;
	struct kerf_instance *in = NULL;
	struct kerf_error err;
	char *id;
	int rc;

	sim_clock_ms = T0 + CLAIM_AT;
	c = claim_new("default-x7k2p");
	kerf_error_clear(&err);
	rc = cl->create_nodeclaim(inst, c, NULL, &err);
	ck_assert_msg(rc == 0, "create_nodeclaim: %d %s", rc, err.message);
	rc = pv->create(inst, c, NULL, &in, &err);
	ck_assert_msg(rc == 0, "create instance: %d %s", rc, err.message);
	ck_assert_str_eq(in->instance_type, "m5.large");
	id = strdup(in->provider_id);
	kerf_instance_free(in);
	kerf_nodeclaim_free(c);
	return id;
}

/* Writes claim `name` and launches it at the current clock; returns its instance's ID. */
static char *launch_named(const char *name)
{
	struct kerf_nodeclaim *c = claim_new(name);
	struct kerf_instance *in = NULL;
	struct kerf_error err;
	char *id;
	int rc;

	kerf_error_clear(&err);
	rc = cl->create_nodeclaim(inst, c, NULL, &err);
	ck_assert_msg(rc == 0, "create_nodeclaim %s: %d %s", name, rc, err.message);
	rc = pv->create(inst, c, NULL, &in, &err);
	ck_assert_msg(rc == 0, "create instance %s: %d %s", name, rc, err.message);
	id = strdup(in->provider_id);
	kerf_instance_free(in);
	kerf_nodeclaim_free(c);
	return id;
}

static size_t count_recs(size_t from, kerf_event_type type, kerf_object_kind kind)
{
	size_t n = 0;

	for (size_t i = from; i < n_recs; i++)
		n += recs[i].type == type && recs[i].kind == kind;
	return n;
}

/* What the core does once a node registers: drop karpenter.sh/unregistered. */
static void sync_registered(void)
{
	struct kerf_taints *t = &seen_node->taints;
	const struct kerf_taint *x =
	    kerf_taints_find(t, "karpenter.sh/unregistered", KERF_EFFECT_NO_EXECUTE);
	struct kerf_error err = KERF_ERROR_INIT;
	int rc;

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < t->n; i++) {
		if (t->items[i] == x) {
			kerf_taint_free(t->items[i]);
			t->items[i] = t->items[--t->n];
			break;
		}
	}
	kerf_error_clear(&err);
	rc = cl->update_node(inst, seen_node, NULL, &err);
	ck_assert_msg(rc == 0, "update_node: %d %s", rc, err.message);
}

/* A ready node at T0 + READY_AT, the core's part played; returns the first event index after. */
static size_t ready_node(void)
{
	size_t from;

	free(launch_claim());
	poll_at(REGISTERED_AT);
	sync_registered();
	poll_at(REGISTERED_AT + 1000);
	from = n_recs;
	poll_at(READY_AT);
	ck_assert(seen_node->ready);
	return from;
}

/* web's three pods bound to a node that became ready at T0 + READY_AT. */
static void web_on_ready_node(void)
{
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	start();
	poll_at(0);
	ready_node();
}

static const char *label(const char *key)
{
	const char *v = kerf_labels_get(&seen_node->meta->labels, key);

	return v ? v : "(none)";
}

/* ------------------------------------------------------------ tests */

START_TEST(test_start_lists_pending_pods)
{
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	start();
	EXPECT(0, "SYNCED nodepool  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED nodeclass  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED nodeclaim  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED node  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED daemonset  node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-0 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-1 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-2 node= phase=0 unschedulable=0 ready=0",
	       "SYNCED pod  node= phase=0 unschedulable=0 ready=0");
	/* The first scheduling pass finds no node. */
	EXPECT(poll_at(0), "MODIFIED pod web-0 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-1 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-2 node= phase=0 unschedulable=1 ready=0");
	/* Nothing changed: nothing to say. */
	quiet_at(5000);
}
END_TEST

/*
 * DaemonSets are listed themselves (KERF_OBJ_DAEMONSET) from start(), before any node
 * runs their pods (the node name field of the record holds the namespace
 * here), and a scenario's apply and delete of one are reported.
 */
START_TEST(test_start_lists_daemonsets)
{
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment),
			  put("agent.yaml", daemonset), NULL);
	put("other.yaml", "apiVersion: apps/v1\n"
			  "kind: DaemonSet\n"
			  "metadata: {name: logs}\n"
			  "spec:\n"
			  "  selector: {matchLabels: {app: logs}}\n"
			  "  template:\n"
			  "    metadata: {labels: {app: logs}}\n"
			  "    spec:\n"
			  "      containers:\n"
			  "      - {name: l, image: l, resources: {requests: {cpu: 50m}}}\n");
	sim_cfg.scenario = put("scenario.yaml", "- {at: 10s, apply: other.yaml}\n"
						"- at: 20s\n"
						"  delete: {kind: DaemonSet, name: agent, "
						"namespace: kube-system}\n");
	start();
	EXPECT(0, "SYNCED nodepool  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED nodeclass  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED nodeclaim  node= phase=0 unschedulable=0 ready=0",
	       "SYNCED node  node= phase=0 unschedulable=0 ready=0",
	       "ADDED daemonset agent node=kube-system phase=0 unschedulable=0 ready=0",
	       "SYNCED daemonset  node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-0 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-1 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-2 node= phase=0 unschedulable=0 ready=0",
	       "SYNCED pod  node= phase=0 unschedulable=0 ready=0");
	poll_at(0);
	quiet_at(9999);
	/* No node: a new DaemonSet has no pods yet, but the DaemonSet itself is there. */
	EXPECT(poll_at(10000), "ADDED daemonset logs node=default phase=0 unschedulable=0 ready=0");
	EXPECT(poll_at(20000),
	       "DELETED daemonset agent node=kube-system phase=0 unschedulable=0 ready=0");
	quiet_at(30000);
}
END_TEST

START_TEST(test_node_registers_then_pods_bind)
{
	char *id;

	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment),
			  put("huge.yaml", huge_pod), put("agent.yaml", daemonset));
	start();
	poll_at(0);
	id = launch_claim();
	/* The claim write is delivered at the next poll. */
	EXPECT(poll_at(REGISTERED_AT - 1),
	       "ADDED nodeclaim default-x7k2p node= phase=0 unschedulable=0 ready=0");

	/* Registered: labels of the type, the offering and the claim; Karpenter's taints. */
	EXPECT(poll_at(REGISTERED_AT), "ADDED node " NODE " node= phase=0 unschedulable=0 ready=0");
	ck_assert_str_eq(seen_node->provider_id, id);
	ck_assert_str_eq(label("node.kubernetes.io/instance-type"), "m5.large");
	ck_assert_str_eq(label("topology.kubernetes.io/zone"), "us-east-1a");
	ck_assert_str_eq(label("topology.kubernetes.io/region"), "us-east-1");
	ck_assert_str_eq(label("karpenter.sh/capacity-type"), "on-demand");
	ck_assert_str_eq(label("karpenter.sh/nodepool"), "default");
	ck_assert_str_eq(label("kubernetes.io/arch"), "amd64");
	ck_assert_str_eq(label("kubernetes.io/hostname"), NODE);
	ck_assert_str_eq(label("karpenter.k8s.aws/instance-family"), "m5");
	ck_assert_str_eq(label("team"), "blue");
	ck_assert_uint_eq(seen_node->taints.n, 3);
	ck_assert_ptr_nonnull(kerf_taints_find(&seen_node->taints, "karpenter.sh/unregistered",
					       KERF_EFFECT_NO_EXECUTE));
	ck_assert_ptr_nonnull(kerf_taints_find(&seen_node->taints, "node.kubernetes.io/not-ready",
					       KERF_EFFECT_NO_SCHEDULE));
	ck_assert_ptr_nonnull(kerf_taints_find(&seen_node->taints, "example.com/agent-not-ready",
					       KERF_EFFECT_NO_SCHEDULE));
	ck_assert(!seen_node->ready);

	/*
	 * The core drops karpenter.sh/unregistered: the DaemonSet now runs
	 * there, but its pod waits for the node to be ready.
	 */
	sync_registered();
	EXPECT(poll_at(REGISTERED_AT + 1000),
	       "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod agent-0 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod agent-0 node= phase=0 unschedulable=1 ready=0");

	/* Ready: not-ready and the startup taint go, and the pods that fit bind. */
	EXPECT(poll_at(READY_AT), "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "MODIFIED pod web-0 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod web-2 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod agent-0 node=" NODE " phase=1 unschedulable=0 ready=0");
	ck_assert_uint_eq(seen_node->taints.n, 0);
	/* 64 cpus fit no m5.large: huge stays unschedulable, reported once. */
	quiet_at(READY_AT + 60000);
	free(id);
}
END_TEST

START_TEST(test_unregistered_taint_keeps_pods_off)
{
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	start();
	poll_at(0);
	free(launch_claim());
	poll_at(REGISTERED_AT);
	/* Nobody removes karpenter.sh/unregistered: ready, yet nothing binds. */
	EXPECT(poll_at(READY_AT), "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1");
	ck_assert_ptr_nonnull(kerf_taints_find(&seen_node->taints, "karpenter.sh/unregistered",
					       KERF_EFFECT_NO_EXECUTE));
}
END_TEST

START_TEST(test_trace_arrivals_and_durations)
{
	size_t from;

	sim_cfg.trace = put("trace.csv", "arrival_s,cpu_millicores,memory_mib,gpu,count,qos,"
					 "duration_s\n"
					 "0,250,512,0,2,LS,60\n"
					 "\n"
					 "120,250,512,0,1,BE,\n");
	sim_cfg.trace_time_scale = 2;
	start();
	/* SYNCED nodepool, nodeclass, nodeclaim, node, daemonset, then the pods. */
	EXPECT(5, "ADDED pod trace-0-0 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod trace-0-1 node= phase=0 unschedulable=0 ready=0",
	       "SYNCED pod  node= phase=0 unschedulable=0 ready=0");
	poll_at(0);
	from = ready_node();
	EXPECT(from, "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "MODIFIED pod trace-0-0 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod trace-0-1 node=" NODE " phase=1 unschedulable=0 ready=0");
	/* Row 1 arrives at 120 s / 2 and binds at once. */
	quiet_at(59999);
	EXPECT(poll_at(60000), "ADDED pod trace-1-0 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod trace-1-0 node=" NODE " phase=1 unschedulable=0 ready=0");
	/* Row 0 runs 60 s / 2 from binding, succeeds, goes and is not replaced. */
	quiet_at(READY_AT + 29999);
	EXPECT(poll_at(READY_AT + 30000),
	       "MODIFIED pod trace-0-1 node=" NODE " phase=2 unschedulable=0 ready=0",
	       "DELETED pod trace-0-1 node=" NODE " phase=2 unschedulable=0 ready=0",
	       "MODIFIED pod trace-0-0 node=" NODE " phase=2 unschedulable=0 ready=0",
	       "DELETED pod trace-0-0 node=" NODE " phase=2 unschedulable=0 ready=0");
	/* Row 1 has no duration: it runs on. */
	quiet_at(READY_AT + 3600000);
}
END_TEST

START_TEST(test_trace_without_header)
{
	sim_cfg.trace = put("trace.csv", "5,1000,1024,1,1\n");
	start();
	quiet_at(4999);
	EXPECT(poll_at(5000), "ADDED pod trace-0-0 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod trace-0-0 node= phase=0 unschedulable=1 ready=0");
}
END_TEST

START_TEST(test_trace_errors)
{
	struct kerf_error err = KERF_ERROR_INIT;

	sim_cfg.trace = put("trace.csv", "arrival_s,cpu_millicores,memory_mib,count\n1,2,3,4\n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "trace.csv:1: header has no column \"gpu\""), "%s",
		      err.message);
	sim_cfg.trace = put("trace2.csv", "arrival_s,cpu_millicores,memory_mib,gpu,count\n"
					  "1,2,3,4,5\n"
					  "1,-2,3,4,5\n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "trace2.csv:3: cpu_millicores: \"-2\" is not a "
					  "non-negative number"),
		      "%s", err.message);
	/* A row's count is that many pods: bounded as a workload's replicas are. */
	sim_cfg.trace = put("trace3.csv", "arrival_s,cpu_millicores,memory_mib,gpu,count\n"
					  "1,2,3,4,10000\n"
					  "1,2,3,4,2147483647\n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "trace3.csv:3: count: 2147483647 pods are more than one "
					  "workload may have here: 10000"),
		      "%s", err.message);
}
END_TEST

/* A NUL byte ended the file there: the rows after it were dropped without a word. */
START_TEST(test_trace_nul_byte)
{
	static const char text[] = "arrival_s,cpu_millicores,memory_mib,gpu,count\n"
				   "1,2,3,4,5\n"
				   "\0"
				   "9,2,3,4,5\n"
				   "7,2,3,4,5\n";
	struct kerf_error err = KERF_ERROR_INIT;

	sim_cfg.trace = put_bytes("nul.csv", text, sizeof(text) - 1);
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "nul.csv:3:1: a NUL byte"), "%s", err.message);
}
END_TEST

START_TEST(test_scenario_scale_delete_apply)
{
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	put("more.yaml", huge_pod);
	sim_cfg.scenario = put("scenario.yaml", "# grow, shrink, go, and something else\n"
						"- at: 10s\n"
						"  scale: {kind: Deployment, name: web, replicas: 5}\n"
						"- at: 20s\n"
						"  scale:\n"
						"    kind: Deployment\n"
						"    name: web   # in namespace default\n"
						"    namespace: default\n"
						"    replicas: 2\n"
						"- {at: 30s, delete: {kind: Deployment, name: \"web\"}}\n"
						"- at: 40s\n"
						"  apply: more.yaml\n"
						"- at: 50s\n"
						"  delete: {kind: Deployment, name: nothing}\n");
	start();
	poll_at(0);
	quiet_at(9999);
	EXPECT(poll_at(10000), "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-4 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-4 node= phase=0 unschedulable=1 ready=0");
	/* Scaling down removes the newest unbound pods first. */
	EXPECT(poll_at(20000), "DELETED pod web-4 node= phase=0 unschedulable=1 ready=0",
	       "DELETED pod web-3 node= phase=0 unschedulable=1 ready=0",
	       "DELETED pod web-2 node= phase=0 unschedulable=1 ready=0");
	EXPECT(poll_at(30000), "DELETED pod web-1 node= phase=0 unschedulable=1 ready=0",
	       "DELETED pod web-0 node= phase=0 unschedulable=1 ready=0");
	EXPECT(poll_at(40000), "ADDED pod huge node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod huge node= phase=0 unschedulable=1 ready=0");
	quiet_at(50000);
	ck_assert(sim_host_logged("scenario: delete default/nothing: no such workload"));
}
END_TEST

START_TEST(test_scenario_errors)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	    {"- at: 10s\n  sclae: {kind: Deployment, name: web, replicas: 1}\n",
	     "scenario.yaml:2:3: unknown key \"sclae\" in an action"},
	    {"- at: soon\n  delete: {kind: Deployment, name: web}\n",
	     "scenario.yaml:1:7: at: invalid duration"},
	    {"- at: 1s\n  scale: {kind: DaemonSet, name: web, replicas: 1}\n",
	     "scenario.yaml:2:17: scale: kind must be Deployment, ReplicaSet, StatefulSet or Job"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web, replicas: -1}\n",
	     "scenario.yaml:2:50: scale.replicas: expected a whole number from 0"},
	    {"- at: 1s\n  apply: missing.yaml\n  delete: {kind: Pod, name: x}\n",
	     "scenario.yaml:1:3: an action has exactly one of apply, scale, delete, interrupt and "
	     "terminate"},
	    {"- at: 1s\n  apply: missing.yaml\n", "scenario.yaml:2:10: apply: "},
	    {"- at: 1s\n\tapply: x\n",
	     "scenario.yaml:2:1: found a tab character that violates indentation"},
	    {"at: 1s\n", "scenario.yaml:1:1: a scenario is a list of actions"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web\n",
	     "scenario.yaml:3:1: did not find expected ',' or '}' (while parsing a flow mapping at "
	     "line 2, column 10)"},
	    {"- at: 1s\n  delete: {kind: Pod, name: \"a\\0b\"}\n",
	     "scenario.yaml:2:29: a string must not hold a NUL character"},
	    {"- at: !!int 1s\n", "scenario.yaml:1:7: \"1s\" is not a valid !!int"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web, replicas: 10001}\n",
	     "scenario.yaml:2:50: scale.replicas: 10001 pods are more than one workload may have "
	     "here: 10000"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web, replicas: 2147483648}\n",
	     "scenario.yaml:2:50: scale.replicas: 2147483648 pods are more than one workload may "
	     "have here: 10000"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web, replicas: 99999999999999999999}\n",
	     "scenario.yaml:2:50: scale.replicas: too large"},
	    {"- at: 1s\n  scale: {kind: Deployment, name: web, replicas: ' 5'}\n",
	     "scenario.yaml:2:50: scale.replicas: expected a whole number from 0:  5"},
	};
	struct kerf_error err = KERF_ERROR_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim_cfg.scenario = put("scenario.yaml", cases[i].text);
		n_paths--;
		ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
		ck_assert_msg(strstr(err.message, cases[i].message), "case %zu: want \"%s\" in \"%s\"",
			      i, cases[i].message, err.message);
	}
	n_paths++;
}
END_TEST

/*
 * The scenario is read by kerf's YAML reader: nesting that overflowed the
 * stack of the plugin's own parser is a positioned error, and an apply of a
 * file without workloads is refused instead of doing nothing.
 */
START_TEST(test_scenario_reader_limits)
{
	enum { DEPTH = 120000 };
	struct kerf_error err = KERF_ERROR_INIT;
	char *deep = malloc(5 * DEPTH + 64), *c = deep;
	char want[256];

	c += snprintf(c, 64, "- at: 1s\n  scale: ");
	for (int i = 0; i < DEPTH; i++)
		c += snprintf(c, 5, "{a: ");
	*c++ = 'x';
	for (int i = 0; i < DEPTH; i++)
		*c++ = '}';
	*c++ = '\n';
	*c = '\0';
	put("none.yaml", "# the services come later\n---\n");
	sim_cfg.scenario = put("scenario.yaml", deep);
	free(deep);
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "scenario.yaml:2:1026: nesting deeper than 256 levels"),
		      "%s", err.message);

	n_paths--;
	sim_cfg.scenario = put("scenario.yaml", "- at: 1s\n  apply: none.yaml\n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	snprintf(want, sizeof(want),
		 "scenario.yaml:2:10: apply: %s/none.yaml holds no Pod, Deployment, ReplicaSet, "
		 "StatefulSet, DaemonSet or Job",
		 dir);
	ck_assert_msg(strstr(err.message, want), "%s", err.message);
}
END_TEST

/* Launches eight claims at T0 + CLAIM_AT and fills ready_at[] with when each node was Ready. */
static void ready_times(int64_t ready_at[8])
{
	char name[32], *ids[8];

	start();
	sim_clock_ms = T0 + CLAIM_AT;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "default-%d", i);
		ids[i] = launch_named(name);
		ready_at[i] = -1;
	}
	for (int64_t at = REGISTERED_AT; at <= READY_AT + 60000; at += 1000) {
		size_t from = poll_at(at);
		for (size_t r = from; r < n_recs; r++) {
			if (recs[r].kind != KERF_OBJ_NODE || !recs[r].ready)
				continue;
			for (int i = 0; i < 8; i++)
				if (strcmp(recs[r].provider_id, ids[i]) == 0 && ready_at[i] < 0)
					ready_at[i] = at;
		}
	}
	for (int i = 0; i < 8; i++)
		free(ids[i]);
}

/*
 * ready_spread: the nodes of one batch are Ready at different times, each
 * within the spread after ready_delay, and the same ones again on a
 * second run with the seed.
 */
START_TEST(test_ready_spread)
{
	int64_t first[8], again[8];
	bool differ = false;

	sim_cfg.ready_spread_ms = 60000;
	ready_times(first);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_ge(first[i], READY_AT);
		ck_assert_int_le(first[i], READY_AT + 60000);
		differ = differ || first[i] != first[0];
	}
	ck_assert_msg(differ, "all eight nodes were Ready at once");
	teardown();
	setup();
	sim_cfg.ready_spread_ms = 60000;
	ready_times(again);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(again[i], first[i]);
}
END_TEST

/* Without a spread every node is Ready exactly ready_delay after registering. */
START_TEST(test_ready_no_spread)
{
	int64_t at[8];

	ready_times(at);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(at[i], READY_AT);
}
END_TEST

START_TEST(test_evict_recreates)
{
	struct kerf_error err;

	web_on_ready_node();
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), 0);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), KERF_E_NOTFOUND);
	ck_assert_int_eq(cl->evict_pod(inst, "shop", "web-0", &err), KERF_E_NOTFOUND);
	/* The ReplicaSet replaces it with a new name, and it binds where there is room. */
	EXPECT(poll_at(READY_AT + 1000),
	       "DELETED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node=" NODE " phase=1 unschedulable=0 ready=0");
}
END_TEST

/* web (three pods on one m5.large, so a replacement finds no room) and a budget over them. */
static void web_with_pdb(const char *budget)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "%s---\n"
		 "apiVersion: policy/v1\n"
		 "kind: PodDisruptionBudget\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  %s\n"
		 "  selector: {matchLabels: {app: web}}\n",
		 deployment, budget);
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", text), NULL, NULL);
	start();
	poll_at(0);
	ready_node();
}

/*
 * maxUnavailable 1 over three replicas: one eviction goes through, the
 * next is refused while its replacement is not running, and allowed again
 * once it runs.  The node is cordoned so the replacement stays pending.
 */
START_TEST(test_pdb_max_unavailable)
{
	struct kerf_error err;

	web_with_pdb("maxUnavailable: 1");
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-0", &err), 0);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), KERF_E_THROTTLED);
	ck_assert_msg(strstr(err.message, "disruption budget default/web"), "%s", err.message);
	/* The replacement binds (there is room for one), and the budget allows one more. */
	poll_at(READY_AT + 1000);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), 0);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-2", &err), KERF_E_THROTTLED);
}
END_TEST

/* minAvailable as a percentage: 67% of 3 rounds up to 3, so nothing may go. */
START_TEST(test_pdb_min_available_percent)
{
	struct kerf_error err;

	web_with_pdb("minAvailable: \"67%\"");
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-0", &err), KERF_E_THROTTLED);
}
END_TEST

START_TEST(test_pdb_errors)
{
	struct kerf_error err;
	char text[1024];

	snprintf(text, sizeof(text),
		 "%s---\n"
		 "apiVersion: policy/v1\n"
		 "kind: PodDisruptionBudget\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  minAvailable: 1\n"
		 "  maxUnavailable: 1\n",
		 deployment);
	sim_host_set_list(&sim_cfg.workloads, put("bad.yaml", text), NULL, NULL);
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "bad.yaml:20:") &&
			  strstr(err.message, "cannot both be set"),
		      "%s", err.message);
}
END_TEST

/*
 * termination_grace: an evicted pod terminates on its node for 30 s (a
 * budget no longer counts it, its requests still count) while its
 * ReplicaSet's replacement is made at once; it is gone when the grace
 * period is over, and the replacement takes its room.
 */
START_TEST(test_evicted_pod_terminates_for_its_grace)
{
	struct kerf_error err;

	sim_cfg.termination_grace_ms = 30000;
	web_on_ready_node();
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), 0);
	/* Evicting it again while it terminates is accepted, and changes nothing. */
	ck_assert_int_eq(cl->evict_pod(inst, "default", "web-1", &err), 0);
	/* Its requests stay held while it terminates: the replacement finds no room yet. */
	EXPECT(poll_at(READY_AT + 1000),
	       "MODIFIED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node= phase=0 unschedulable=1 ready=0");
	/* Evicted at READY_AT: gone 30 s later. */
	quiet_at(READY_AT + 29999);
	EXPECT(poll_at(READY_AT + 30000),
	       "DELETED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node=" NODE " phase=1 unschedulable=0 ready=0");
}
END_TEST

/*
 * delete_pod: a uid precondition that does not match leaves the pod
 * alone; a deletion with a grace period of 10 s ends it 10 s later, not
 * at termination_grace's 30 s, and a second deletion cannot lengthen it;
 * a grace period of 0 ends a pod at once.
 */
START_TEST(test_deleted_pod_terminates_for_the_given_grace)
{
	struct kerf_error err;

	sim_cfg.termination_grace_ms = 30000;
	web_on_ready_node();
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->delete_pod(inst, "default", "web-1", "not-its-uid", 10, &err),
			 KERF_E_CONFLICT);
	ck_assert_int_eq(cl->delete_pod(inst, "default", "nope", NULL, 10, &err), KERF_E_NOTFOUND);
	ck_assert_int_eq(cl->delete_pod(inst, "default", "web-1", NULL, -1, &err), KERF_E_INVALID);
	ck_assert_int_eq(cl->delete_pod(inst, "default", "web-1", NULL, 10, &err), 0);
	EXPECT(poll_at(READY_AT + 1000),
	       "MODIFIED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node= phase=0 unschedulable=1 ready=0");
	ck_assert_int_eq(cl->delete_pod(inst, "default", "web-1", NULL, 30, &err), 0);
	quiet_at(READY_AT + 9999);
	EXPECT(poll_at(READY_AT + 10000),
	       "DELETED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node=" NODE " phase=1 unschedulable=0 ready=0");
	ck_assert_int_eq(cl->delete_pod(inst, "default", "web-2", NULL, 0, &err), 0);
	EXPECT(poll_at(READY_AT + 10000),
	       "DELETED pod web-2 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "ADDED pod web-4 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-4 node=" NODE " phase=1 unschedulable=0 ready=0");
}
END_TEST

/* A node with a finalizer is only marked by delete; it goes when the finalizer does. */
START_TEST(test_node_finalizer)
{
	struct kerf_error err;

	web_on_ready_node();
	seen_node->meta->n_finalizers = 1;
	seen_node->meta->finalizers = calloc(2, sizeof(char *));
	seen_node->meta->finalizers[0] = strdup("karpenter.sh/termination");
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->update_node(inst, seen_node, NULL, &err), 0);
	ck_assert_int_eq(cl->delete_node(inst, NODE, &err), 0);
	EXPECT(poll_at(READY_AT + 1000),
	       "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1");
	ck_assert_int_gt(seen_node->meta->deletion_ms, 0);
	free(seen_node->meta->finalizers[0]);
	seen_node->meta->n_finalizers = 0;
	ck_assert_int_eq(cl->update_node(inst, seen_node, NULL, &err), 0);
	ck_assert_int_eq(cl->delete_node(inst, NODE, &err), KERF_E_NOTFOUND);
}
END_TEST

START_TEST(test_instance_gone_takes_node_and_pods)
{
	struct kerf_error err = KERF_ERROR_INIT;
	char *id;

	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	start();
	poll_at(0);
	id = launch_claim();
	poll_at(REGISTERED_AT);
	sync_registered();
	poll_at(READY_AT);
	sim_clock_ms = T0 + READY_AT + 1000;
	kerf_error_clear(&err);
	ck_assert_int_eq(pv->delete_instance(inst, id, &err), 0);
	quiet_at(READY_AT + 30999);
	EXPECT(poll_at(READY_AT + 31000),
	       "DELETED pod web-2 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "DELETED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "DELETED pod web-0 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "DELETED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-4 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-5 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-4 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-5 node= phase=0 unschedulable=1 ready=0");
	free(id);
}
END_TEST

/*
 * The same under a budget of maxUnavailable 1: the first pod may go with
 * its node, the other two break the budget, and the simulator says so.
 */
START_TEST(test_node_gone_breaking_a_pdb_is_logged)
{
	struct kerf_error err = KERF_ERROR_INIT;
	char text[2048], *id;

	snprintf(text, sizeof(text),
		 "%s---\n"
		 "apiVersion: policy/v1\n"
		 "kind: PodDisruptionBudget\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  maxUnavailable: 1\n"
		 "  selector: {matchLabels: {app: web}}\n",
		 deployment);
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", text), NULL, NULL);
	start();
	poll_at(0);
	id = launch_claim();
	poll_at(REGISTERED_AT);
	sync_registered();
	poll_at(READY_AT);
	sim_clock_ms = T0 + READY_AT + 1000;
	ck_assert_int_eq(pv->delete_instance(inst, id, &err), 0);
	poll_at(READY_AT + 31000);
	ck_assert(!sim_host_logged("pod default/web-2 went with node"));
	ck_assert(sim_host_logged("pod default/web-1 went with node " NODE
				  ": PodDisruptionBudget default/web broken"));
	ck_assert(sim_host_logged("pod default/web-0 went with node " NODE
				  ": PodDisruptionBudget default/web broken"));
	free(id);
}
END_TEST

START_TEST(test_nodeclaim_writes)
{
	struct kerf_nodeclaim *c;
	struct kerf_error err;

	start();
	c = claim_new("default-abc");
	c->meta->n_finalizers = 1;
	c->meta->finalizers = calloc(1, sizeof(char *));
	c->meta->finalizers[0] = strdup("karpenter.sh/termination");
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->create_nodeclaim(inst, c, NULL, &err), 0);
	ck_assert_int_eq(cl->create_nodeclaim(inst, c, NULL, &err), KERF_E_CONFLICT);
	ck_assert_int_eq(cl->update_nodeclaim(inst, c, NULL, &err), 0);
	/* Written at resourceVersion 1, updated to 2: 1 is stale now. */
	c->meta->resource_version = strdup("1");
	ck_assert_int_eq(cl->update_nodeclaim(inst, c, NULL, &err), KERF_E_CONFLICT);
	ck_assert_msg(strstr(err.message, "resourceVersion 1 is stale (now 2)"), "%s",
		      err.message);
	free(c->meta->resource_version);
	c->meta->resource_version = NULL;
	/* The finalizer holds it: marked, then gone once the finalizer is removed. */
	ck_assert_int_eq(cl->delete_nodeclaim(inst, "default-abc", &err), 0);
	free(c->meta->finalizers[0]);
	free(c->meta->finalizers);
	c->meta->finalizers = NULL;
	c->meta->n_finalizers = 0;
	ck_assert_int_eq(cl->update_nodeclaim(inst, c, NULL, &err), 0);
	ck_assert_int_eq(cl->delete_nodeclaim(inst, "default-abc", &err), KERF_E_NOTFOUND);
	kerf_nodeclaim_free(c);
	EXPECT(poll_at(0), "ADDED nodeclaim default-abc node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED nodeclaim default-abc node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED nodeclaim default-abc node= phase=0 unschedulable=0 ready=0",
	       "DELETED nodeclaim default-abc node= phase=0 unschedulable=0 ready=0");
}
END_TEST

START_TEST(test_node_writes)
{
	struct kerf_error err;

	web_on_ready_node();
	kerf_error_clear(&err);
	/* A stale resourceVersion is refused, as the API server does. */
	free(seen_node->meta->resource_version);
	seen_node->meta->resource_version = strdup("2");
	ck_assert_int_eq(cl->update_node(inst, seen_node, NULL, &err), KERF_E_CONFLICT);
	free(seen_node->meta->resource_version);
	seen_node->meta->resource_version = NULL;
	/* Cordoned: an evicted pod's replacement finds no room. */
	seen_node->unschedulable = true;
	ck_assert_int_eq(cl->update_node(inst, seen_node, NULL, &err), 0);
	ck_assert_int_eq(cl->evict_pod(inst, NULL, "web-0", &err), 0);
	EXPECT(poll_at(READY_AT + 1000),
	       "MODIFIED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "DELETED pod web-0 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "ADDED pod web-3 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-3 node= phase=0 unschedulable=1 ready=0");
	ck_assert(seen_node->unschedulable);
	ck_assert_int_eq(cl->delete_node(inst, NODE, &err), 0);
	ck_assert_int_eq(cl->delete_node(inst, NODE, &err), KERF_E_NOTFOUND);
	EXPECT(poll_at(READY_AT + 2000),
	       "DELETED pod web-2 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "DELETED pod web-1 node=" NODE " phase=1 unschedulable=0 ready=0",
	       "DELETED node " NODE " node= phase=0 unschedulable=0 ready=1",
	       "ADDED pod web-4 node= phase=0 unschedulable=0 ready=0",
	       "ADDED pod web-5 node= phase=0 unschedulable=0 ready=0",
	       "MODIFIED pod web-4 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-5 node= phase=0 unschedulable=1 ready=0");
}
END_TEST

START_TEST(test_bind_delay_and_events)
{
	struct kerf_event *e = kerf_event_new();
	struct kerf_error err = KERF_ERROR_INIT;

	sim_cfg.bind_delay_ms = 5000;
	sim_host_set_list(&sim_cfg.workloads, put("web.yaml", deployment), NULL, NULL);
	start();
	/* Too young to be looked at: not even marked unschedulable. */
	quiet_at(4999);
	EXPECT(poll_at(5000), "MODIFIED pod web-0 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-1 node= phase=0 unschedulable=1 ready=0",
	       "MODIFIED pod web-2 node= phase=0 unschedulable=1 ready=0");
	e->kind = KERF_OBJ_POD;
	e->namespace_ = "default";
	e->name = "web-0";
	e->type = "Warning";
	e->reason = "FailedScheduling";
	e->message = "no NodePool fits";
	kerf_error_clear(&err);
	ck_assert_int_eq(cl->emit_event(inst, e, &err), 0);
	kerf_event_free(e);
	ck_assert(sim_host_logged("event Warning FailedScheduling default/web-0: no NodePool fits"));
}
END_TEST

/* ------------------------------------------------------------ virtual_end */

START_TEST(test_virtual_end)
{
	struct kerf_error err = KERF_ERROR_INIT;
	kerf_mono_ms_t end = 1;

	ck_assert(plug->desc.capabilities & KERF_CAP_CLUSTER_VIRTUAL_TIME);
	/* No script: nothing to wait for. */
	ck_assert_int_eq(create_rc(&err), 0);
	ck_assert_int_eq(cl->virtual_end(inst, &end, &err), KERF_E_INVALID);
	ck_assert_int_eq(cl->start(inst, &sink, &err), 0);
	ck_assert_int_eq(cl->virtual_end(inst, &end, &err), 0);
	ck_assert_int_eq(end, 0);
	loader_destroy(plug, inst);
	inst = NULL;

	/*
	 * The trace's last row at 600 s / 2, a scale at 2m, an interruption at
	 * 4m that terminates 2m later: the script ends at 6m, counted on the
	 * monotonic clock from where it stood at start().
	 */
	sim_cfg.trace = put("trace.csv", "arrival_s,cpu_millicores,memory_mib,gpu,count\n"
					 "0,250,512,0,1\n"
					 "600,250,512,0,1\n");
	sim_cfg.trace_time_scale = 2;
	sim_cfg.scenario = put("scenario.yaml", "- {at: 4m, interrupt: {capacity_type: spot}}\n"
						"- {at: 2m, delete: {kind: Job, name: x}}\n");
	sim_mono_offset_ms = T0 - 5000;
	sim_clock_ms = T0 + 7000;
	start();
	ck_assert_int_eq(cl->virtual_end(inst, &end, &err), 0);
	ck_assert_int_eq(end, 12000 + 360000);
	/* Asked later, the answer stays. */
	sim_clock_ms = T0 + 100000;
	ck_assert_int_eq(cl->virtual_end(inst, &end, &err), 0);
	ck_assert_int_eq(end, 12000 + 360000);
}
END_TEST

/* ------------------------------------------------------------ the cloud acting */

START_TEST(test_interrupt_and_terminate)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance *in = NULL;
	struct kerf_instance_list *l = NULL;
	char *a, *b, *c, want[4][256];
	size_t from;

	sim_cfg.scenario = put("scenario.yaml", "- at: 60s\n"
						"  interrupt: {instance_type: m5.large, count: 2}\n"
						"- {at: 90s, terminate: {nodeclaim: c-c}}\n"
						"- {at: 95s, terminate: {nodepool: elsewhere}}\n");
	start();
	ck_assert_int_eq(pv->start(inst, &isink, &err), 0);
	ck_assert_int_eq(pv->start(inst, &isink, &err), KERF_E_INVALID);
	poll_at(0);
	sim_clock_ms = T0 + CLAIM_AT;
	/* Launched out of name order: the interruption still picks by launch order, then name. */
	b = launch_named("c-b");
	c = launch_named("c-c");
	a = launch_named("c-a");
	poll_at(59999);
	ck_assert_uint_eq(n_irecs, 0);
	poll_at(60000);
	ck_assert_uint_eq(n_irecs, 2);
	snprintf(want[0], sizeof(want[0]), "INTERRUPTED %s at=60000 deadline=180000", a);
	snprintf(want[1], sizeof(want[1]), "INTERRUPTED %s at=60000 deadline=180000", b);
	ck_assert_str_eq(irecs[0], want[0]);
	ck_assert_str_eq(irecs[1], want[1]);
	/* kerf deletes a in time; b it leaves alone. */
	sim_clock_ms = T0 + 80000;
	ck_assert_int_eq(pv->delete_instance(inst, a, &err), 0);
	poll_at(90000);
	ck_assert_uint_eq(n_irecs, 3);
	snprintf(want[2], sizeof(want[2]), "TERMINATED %s at=90000 deadline=-1", c);
	ck_assert_str_eq(irecs[2], want[2]);
	/* A selector that matches nothing does nothing, and says so. */
	poll_at(95000);
	ck_assert_uint_eq(n_irecs, 3);
	ck_assert(sim_host_logged("scenario: terminate: no live instance matches"));
	/* a's and c's nodes go with their instances, 30 s after the deletion and termination. */
	from = poll_at(120000);
	ck_assert_uint_eq(count_recs(from, KERF_EVENT_DELETED, KERF_OBJ_NODE), 2);
	poll_at(179999);
	ck_assert_uint_eq(n_irecs, 3);
	/* A get at the deadline sees it terminating before any poll does. */
	sim_clock_ms = T0 + 180000;
	ck_assert_int_eq(pv->get(inst, b, &in, &err), 0);
	ck_assert_str_eq(in->state, "shutting-down");
	kerf_instance_free(in);
	ck_assert_uint_eq(n_irecs, 4);
	snprintf(want[3], sizeof(want[3]), "TERMINATED %s at=180000 deadline=-1", b);
	ck_assert_str_eq(irecs[3], want[3]);
	poll_at(180000);
	ck_assert_uint_eq(n_irecs, 4);
	/* Gone: get says so, list leaves it out, delete finds nothing. */
	sim_clock_ms = T0 + 210000;
	ck_assert_int_eq(pv->get(inst, b, &in, &err), KERF_E_NOTFOUND);
	ck_assert_int_eq(pv->delete_instance(inst, b, &err), KERF_E_NOTFOUND);
	ck_assert_int_eq(pv->list(inst, &l, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	kerf_instance_list_free(l);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_cloud_action_errors)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	    {"- {at: 1s, interrupt: {pool: x}}\n",
	     "scenario.yaml:1:24: unknown key \"pool\" in interrupt"},
	    {"- {at: 1s, terminate: {count: 0}}\n",
	     "scenario.yaml:1:31: terminate.count: expected a whole number from 1"},
	    {"- {at: 1s, interrupt: {capacity_type: spotty}}\n",
	     "scenario.yaml:1:39: interrupt.capacity_type: expected spot, on-demand or reserved"},
	    {"- {at: 1s, interrupt: now}\n", "scenario.yaml:1:23: interrupt: expected a mapping"},
	    {"- {at: 1s, delete_nodepool: {}}\n",
	     "scenario.yaml:1:29: delete_nodepool: missing \"name\""},
	    {"- {at: 1s, delete_nodepool: {name: a, count: 2}}\n",
	     "scenario.yaml:1:39: unknown key \"count\" in delete_nodepool"},
	    {"- {at: 1s, delete_nodepool: default}\n",
	     "scenario.yaml:1:29: delete_nodepool: expected a mapping {name}"},
	};
	struct kerf_error err = KERF_ERROR_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim_cfg.scenario = put("scenario.yaml", cases[i].text);
		n_paths--;
		ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
		ck_assert_msg(strstr(err.message, cases[i].message), "case %zu: want \"%s\" in \"%s\"",
			      i, cases[i].message, err.message);
	}
	n_paths++;
}
END_TEST

/* ------------------------------------------------------------ threads */

#define N_PAR 8
static const char *const par_names[N_PAR] = {"p-h", "p-c", "p-f", "p-a",
					     "p-g", "p-b", "p-e", "p-d"};
static char *par_ids[N_PAR];

static void *par_launch(void *arg)
{
	size_t first = (size_t)(uintptr_t)arg;

	/* Each thread takes every fourth claim: the calls interleave with the others'. */
	for (size_t i = first; i < N_PAR; i += 4)
		par_ids[i] = launch_named(par_names[i]);
	return NULL;
}

/*
 * One batch launched by four threads at once gives the same IDs as the
 * batch launched one by one in reverse order, and its nodes join in name
 * order whatever order the launches ran in.
 */
START_TEST(test_parallel_launches)
{
	pthread_t t[4];
	char *serial[N_PAR];
	size_t from;

	start();
	sim_clock_ms = T0 + CLAIM_AT;
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, par_launch, (void *)(uintptr_t)i), 0);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	from = poll_at(REGISTERED_AT);
	/* After the 8 queued claim ADDs, the 8 nodes, named in claim-name order. */
	ck_assert_uint_eq(count_recs(from, KERF_EVENT_ADDED, KERF_OBJ_NODECLAIM), N_PAR);
	ck_assert_uint_eq(count_recs(from, KERF_EVENT_ADDED, KERF_OBJ_NODE), N_PAR);
	for (size_t k = 0, seen = 0; k < n_recs - from; k++) {
		const struct rec *r = &recs[from + k];
		char name[64], claim[8];

		if (r->type != KERF_EVENT_ADDED || r->kind != KERF_OBJ_NODE)
			continue;
		seen++;
		snprintf(name, sizeof(name), "ip-10-0-0-%zu.ec2.internal", seen);
		snprintf(claim, sizeof(claim), "p-%c", (char)('a' + seen - 1));
		ck_assert_str_eq(r->name, name);
		for (size_t i = 0; i < N_PAR; i++)
			if (strcmp(par_names[i], claim) == 0)
				ck_assert_str_eq(r->provider_id, par_ids[i]);
	}
	loader_destroy(plug, inst);
	inst = NULL;

	start();
	sim_clock_ms = T0 + CLAIM_AT;
	for (size_t i = N_PAR; i-- > 0;)
		serial[i] = launch_named(par_names[i]);
	for (size_t i = 0; i < N_PAR; i++) {
		ck_assert_str_eq(serial[i], par_ids[i]);
		free(serial[i]);
		free(par_ids[i]);
	}
}
END_TEST

/* ------------------------------------------------------------ the state file */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The state file's text with line `no` (from 1) replaced by `line`. */
static void replace_line(const char *path, unsigned no, const char *line)
{
	char buf[65536], out[65536];
	size_t len = 0, o = 0;
	unsigned at = 1;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (char *s = buf; *s; at++) {
		char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

		if (at == no)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\n", line);
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s", (int)n, s);
		s += n;
	}
	write_file(path, out);
}

/*
 * A world with a state file, killed without a word after three launches,
 * an interruption and a cordon: a new instance on the same file has the
 * claims, the instances, the nodes as kerf left them and the run's epoch.
 */
START_TEST(test_state_file_restart)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_list *l = NULL;
	struct kerf_instance *in = NULL;
	struct kerf_nodeclaim *again;
	char *ids[3], state[160], tmp[170], want[256];
	static const char *const names[3] = {"c-1", "c-2", "c-3"};
	kerf_mono_ms_t end;
	size_t from;

	snprintf(state, sizeof(state), "%s/state.jsonl", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	sim_cfg.state_file = state;
	sim_cfg.scenario = put("scenario.yaml", "- {at: 40s, interrupt: {}}\n"
						"- at: 10m\n"
						"  delete: {kind: Pod, name: nothing}\n");
	start();
	ck_assert_int_eq(pv->start(inst, &isink, &err), 0);
	sim_clock_ms = T0 + CLAIM_AT;
	for (size_t i = 0; i < 3; i++)
		ids[i] = launch_named(names[i]);
	poll_at(REGISTERED_AT);
	/* kerf cordons c-2's node. */
	ck_assert_str_eq(recs[n_recs - 2].provider_id, ids[1]);
	seen_node_clear();
	for (size_t i = 0; i < n_recs; i++)
		if (recs[i].kind == KERF_OBJ_NODE && strcmp(recs[i].provider_id, ids[1]) == 0)
			ck_assert_str_eq(recs[i].name, "ip-10-0-0-2.ec2.internal");
	{
		struct kerf_node *n = kerf_node_new();

		n->meta->name = strdup("ip-10-0-0-2.ec2.internal");
		kerf_labels_set(&n->meta->labels, "cordoned-by", "kerf");
		n->unschedulable = true;
		ck_assert_int_eq(cl->update_node(inst, n, NULL, &err), 0);
		kerf_node_free(n);
	}
	poll_at(40000);
	ck_assert_uint_eq(n_irecs, 1);
	ck_assert(access(tmp, F_OK) != 0);

	/* The crash: no op, no poll, just gone. */
	loader_destroy(plug, inst);
	inst = NULL;
	n_recs = 0;
	n_irecs = 0;
	sim_clock_ms = T0 + 50000;
	sim_mono_offset_ms = T0 + 50000 - 1000;
	ck_assert_int_eq(create_rc(&err), 0);
	ck_assert_int_eq(pv->start(inst, &isink, &err), 0);
	/* The interruption still running is told again, with its deadline; no new one. */
	ck_assert_uint_eq(n_irecs, 1);
	snprintf(want, sizeof(want), "INTERRUPTED %s at=40000 deadline=160000", ids[0]);
	ck_assert_str_eq(irecs[0], want);
	ck_assert_int_eq(cl->start(inst, &sink, &err), 0);
	ck_assert_uint_eq(count_recs(0, KERF_EVENT_ADDED, KERF_OBJ_NODECLAIM), 3);
	ck_assert_uint_eq(count_recs(0, KERF_EVENT_ADDED, KERF_OBJ_NODE), 3);
	for (size_t i = 0, k = 0; i < n_recs; i++) {
		if (recs[i].type != KERF_EVENT_ADDED)
			continue;
		if (recs[i].kind == KERF_OBJ_NODECLAIM)
			ck_assert_str_eq(recs[i].name, names[k++ % 3]);
		if (recs[i].kind == KERF_OBJ_NODE && strcmp(recs[i].provider_id, ids[1]) == 0) {
			ck_assert_str_eq(recs[i].name, "ip-10-0-0-2.ec2.internal");
			ck_assert(recs[i].cordoned);
		}
	}
	poll_at(50000);
	ck_assert_uint_eq(n_irecs, 1);
	/* The epoch is the first run's: the scenario's 10m is 9m10s of monotonic time away. */
	ck_assert_int_eq(cl->virtual_end(inst, &end, &err), 0);
	ck_assert_int_eq(end, 1000 + 600000 - 50000);
	ck_assert_int_eq(pv->list(inst, &l, &err), 0);
	ck_assert_uint_eq(l->n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(l->items[i]->provider_id, ids[i]);
		ck_assert_str_eq(kerf_labels_get(&l->items[i]->tags, "karpenter.sh/nodeclaim"),
				 names[i]);
	}
	kerf_instance_list_free(l);
	/* Launching a known claim again is the same instance; a new node gets a new name. */
	again = claim_new("c-2");
	ck_assert_int_eq(pv->create(inst, again, NULL, &in, &err), 0);
	ck_assert_str_eq(in->provider_id, ids[1]);
	kerf_instance_free(in);
	kerf_nodeclaim_free(again);
	free(launch_named("c-4"));
	from = poll_at(50000 + 30000);
	ck_assert_uint_eq(count_recs(from, KERF_EVENT_ADDED, KERF_OBJ_NODE), 1);
	ck_assert_str_eq(seen_node->meta->name, "ip-10-0-0-4.ec2.internal");
	/* The interruption's deadline passes in this run. */
	poll_at(160000);
	ck_assert_uint_eq(n_irecs, 2);
	loader_destroy(plug, inst);
	inst = NULL;

	/* A corrupt file: its name and line. */
	replace_line(state, 2, "{\"instance\": {\"provider_id\": 7}}");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "state.jsonl:2: \"provider_id\": expected a string"),
		      "%s", err.message);
	replace_line(state, 3, "{\"instance\": {\"provider_id\": ");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "state.jsonl:2: "), "%s", err.message);
	write_file(state, "{\"kerf_sim_state\": 1}\n{\"instance\": {\"provider_id\": \n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "state.jsonl:1: \"epoch_ms\": expected a whole number"),
		      "%s", err.message);
	write_file(state, "hello\n");
	ck_assert_int_eq(create_rc(&err), KERF_E_PLUGIN_CREATE);
	ck_assert_msg(strstr(err.message, "state.jsonl:1: column 5: '[' or '{' expected"), "%s",
		      err.message);
	unlink(state);
	for (size_t i = 0; i < 3; i++)
		free(ids[i]);
}
END_TEST

static Suite *sim_cluster_suite(void)
{
	Suite *s = suite_create("sim_cluster");
	TCase *tc = tcase_create("cluster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_start_lists_pending_pods);
	tcase_add_test(tc, test_start_lists_daemonsets);
	tcase_add_test(tc, test_node_registers_then_pods_bind);
	tcase_add_test(tc, test_unregistered_taint_keeps_pods_off);
	tcase_add_test(tc, test_trace_arrivals_and_durations);
	tcase_add_test(tc, test_trace_without_header);
	tcase_add_test(tc, test_trace_errors);
	tcase_add_test(tc, test_trace_nul_byte);
	tcase_add_test(tc, test_scenario_scale_delete_apply);
	tcase_add_test(tc, test_scenario_errors);
	tcase_add_test(tc, test_scenario_reader_limits);
	tcase_add_test(tc, test_ready_spread);
	tcase_add_test(tc, test_ready_no_spread);
	tcase_add_test(tc, test_evict_recreates);
	tcase_add_test(tc, test_pdb_max_unavailable);
	tcase_add_test(tc, test_pdb_min_available_percent);
	tcase_add_test(tc, test_pdb_errors);
	tcase_add_test(tc, test_node_gone_breaking_a_pdb_is_logged);
	tcase_add_test(tc, test_node_finalizer);
	tcase_add_test(tc, test_evicted_pod_terminates_for_its_grace);
	tcase_add_test(tc, test_deleted_pod_terminates_for_the_given_grace);
	tcase_add_test(tc, test_instance_gone_takes_node_and_pods);
	tcase_add_test(tc, test_nodeclaim_writes);
	tcase_add_test(tc, test_node_writes);
	tcase_add_test(tc, test_bind_delay_and_events);
	tcase_add_test(tc, test_virtual_end);
	tcase_add_test(tc, test_interrupt_and_terminate);
	tcase_add_test(tc, test_cloud_action_errors);
	tcase_add_test(tc, test_parallel_launches);
	tcase_add_test(tc, test_state_file_restart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_cluster_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
