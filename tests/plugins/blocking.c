/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blocking - a cluster and provider plugin for check_daemon, whose launches
 * block until the test releases them.
 *
 * The cluster lists one NodePool and `pods` pending pods, each too big to
 * share the one instance type with another, so a batch launches one
 * NodeClaim per pod.  The provider's create() counts the calls in it at
 * once and waits for blocking_ctl()->released.  A thread of the plugin's
 * own emits `noise` events on request, from outside any host call, as a
 * watch would.  The test reaches this state through blocking_ctl(), which
 * the .so exports beside its descriptor: it is the same object the loaded
 * plugin uses, since the test dlopens the very file kerfd loaded.
 *
 * Built a second time with BLOCKING_BATCH as "batching", whose provider
 * also offers create_batch, so the host launches a group in one call, and
 * whose cluster offers a leader lease, which kerfd must hold before it acts.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "blocking.h"

static struct blocking_ctl ctl = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
};

struct blocking_ctl *blocking_ctl(void)
{
	return &ctl;
}

struct inst {
	const struct kerf_host *host;
	struct kerf_event_sink sink;
	pthread_t noise;
	bool noise_started;
	bool stopping;
};

static int b_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	struct inst *in = host->calloc(host->ctx, 1, sizeof(*in));
	(void)err;
	pthread_mutex_lock(&ctl.mu);
	ctl.in_create = true;
	pthread_cond_broadcast(&ctl.cv);
	while (ctl.hold_create)
		pthread_cond_wait(&ctl.cv, &ctl.mu);
	ctl.in_create = false;
	pthread_mutex_unlock(&ctl.mu);
	in->host = host;
	*out = in;
	return 0;
}

static void b_destroy(void *p)
{
	struct inst *in = p;
	pthread_mutex_lock(&ctl.mu);
	in->stopping = true;
	ctl.released = true;
	pthread_cond_broadcast(&ctl.cv);
	pthread_mutex_unlock(&ctl.mu);
	if (in->noise_started)
		pthread_join(in->noise, NULL);
	in->host->free(in->host->ctx, in);
}

/* ------------------------------------------------------------- cluster */

static struct kerf_pod *pod(const char *name, bool pending)
{
	struct kerf_pod *p = kerf_pod_new();
	p->meta->name = strdup(name);
	p->meta->namespace_ = strdup("default");
	p->meta->uid = strdup(name);
	p->phase = pending ? KERF_POD_PENDING : KERF_POD_RUNNING;
	p->unschedulable = pending;
	kerf_resources_set(&p->requests, "cpu", 3000, NULL);
	kerf_resources_set(&p->requests, "memory", 1ll << 30, NULL);
	kerf_resources_set(&p->requests, "pods", 1, NULL);
	return p;
}

/* Events from a thread of the plugin's own, outside any host call. */
static void *noise_main(void *arg)
{
	struct inst *in = arg;
	unsigned sent = 0;
	pthread_mutex_lock(&ctl.mu);
	for (;;) {
		while (!in->stopping && sent >= ctl.noise)
			pthread_cond_wait(&ctl.cv, &ctl.mu);
		if (in->stopping)
			break;
		char name[32];
		snprintf(name, sizeof(name), "noise-%u", sent++);
		pthread_mutex_unlock(&ctl.mu);
		struct kerf_pod *p = pod(name, false);
		in->sink.on_object(in->sink.ctx, KERF_EVENT_ADDED, KERF_OBJ_POD, p);
		kerf_pod_free(p);
		pthread_mutex_lock(&ctl.mu);
		ctl.noise_sent = sent;
		pthread_cond_broadcast(&ctl.cv);
	}
	pthread_mutex_unlock(&ctl.mu);
	return NULL;
}

static int b_start(void *p, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	struct inst *in = p;
	in->sink = *sink;
	pthread_mutex_lock(&ctl.mu);
	ctl.starts++;
	pthread_cond_broadcast(&ctl.cv);
	pthread_mutex_unlock(&ctl.mu);
	struct kerf_nodepool *np = kerf_nodepool_new();
	np->meta->name = strdup("default");
	sink->on_object(sink->ctx, KERF_EVENT_ADDED, KERF_OBJ_NODEPOOL, np);
	kerf_nodepool_free(np);
	for (unsigned i = 0; i < ctl.pods; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pod-%03u", i);
		struct kerf_pod *pd = pod(name, true);
		sink->on_object(sink->ctx, KERF_EVENT_ADDED, KERF_OBJ_POD, pd);
		kerf_pod_free(pd);
	}
	for (int k = KERF_OBJ_POD; k <= KERF_OBJ_DAEMONSET; k++)
		sink->on_object(sink->ctx, KERF_EVENT_SYNCED, (kerf_object_kind)k, NULL);
	if (pthread_create(&in->noise, NULL, noise_main, in) != 0)
		return kerf_error_set(err, KERF_E_IO, "blocking: cannot start its thread");
	in->noise_started = true;
	return 0;
}

static int b_poll(void *p, int64_t timeout_ms, struct kerf_error *err)
{
	(void)p;
	(void)timeout_ms;
	(void)err;
	pthread_mutex_lock(&ctl.mu);
	ctl.polls++;
	pthread_mutex_unlock(&ctl.mu);
	return 0;
}

static int b_claim(void *p, const struct kerf_nodeclaim *claim, struct kerf_nodeclaim **stored,
		   struct kerf_error *err)
{
	(void)p;
	(void)err;
	if (stored) {
		*stored = kerf_nodeclaim_copy(claim);
		free((*stored)->meta->resource_version);
		(*stored)->meta->resource_version = strdup("1");
	}
	return 0;
}

static int b_by_name(void *p, const char *name, struct kerf_error *err)
{
	(void)p;
	(void)name;
	(void)err;
	return 0;
}

static int b_update_node(void *p, const struct kerf_node *node, struct kerf_node **stored,
			 struct kerf_error *err)
{
	(void)p;
	(void)node;
	(void)stored;
	(void)err;
	return 0;
}

static int b_evict(void *p, const char *ns, const char *name, struct kerf_error *err)
{
	(void)p;
	(void)ns;
	(void)name;
	(void)err;
	return 0;
}

/* ------------------------------------------------------------ provider */

static int b_types(void *p, const struct kerf_node_class *nc, struct kerf_instance_type_list **out,
		   struct kerf_error *err)
{
	(void)p;
	(void)nc;
	(void)err;
	struct kerf_instance_type_list *l = kerf_instance_type_list_new();
	struct kerf_instance_type *t = kerf_instance_type_list_append(l);
	t->name = strdup("b.large");
	struct kerf_requirement *r = kerf_requirements_append(&t->requirements);
	r->key = strdup("node.kubernetes.io/instance-type");
	kerf_requirement_add_value(r, "b.large");
	kerf_resources_set(&t->capacity, "cpu", 4000, NULL);
	kerf_resources_set(&t->capacity, "memory", 16ll << 30, NULL);
	kerf_resources_set(&t->capacity, "pods", 110, NULL);
	t->allocatable = t->capacity;
	struct kerf_offering *o = kerf_instance_type_add_offering(t);
	o->zone = strdup("zone-a");
	o->capacity_type = KERF_CAPACITY_ON_DEMAND;
	o->price = 100000;
	o->available = true;
	*out = l;
	return 0;
}

/* The instances create() made, for list(); under ctl.mu. */
static char **launched;
static size_t n_launched;

static int b_launch(void *p, const struct kerf_nodeclaim *claim, const struct kerf_node_class *nc,
		    struct kerf_instance **out, struct kerf_error *err)
{
	(void)p;
	(void)nc;
	pthread_mutex_lock(&ctl.mu);
	ctl.in_flight++;
	ctl.creates++;
	if (ctl.in_flight > ctl.max_in_flight)
		ctl.max_in_flight = ctl.in_flight;
	pthread_cond_broadcast(&ctl.cv);
	while (!ctl.released)
		pthread_cond_wait(&ctl.cv, &ctl.mu);
	ctl.in_flight--;
	char id[160];
	snprintf(id, sizeof(id), "blocking:///%s", claim->meta->name);
	char **grown = realloc(launched, (n_launched + 1) * sizeof(*launched));
	if (!grown) {
		pthread_mutex_unlock(&ctl.mu);
		return kerf_error_set(err, KERF_E_NOMEM, "blocking: out of memory");
	}
	launched = grown;
	launched[n_launched++] = strdup(id);
	pthread_cond_broadcast(&ctl.cv);
	pthread_mutex_unlock(&ctl.mu);
	struct kerf_instance *in = kerf_instance_new();
	in->provider_id = strdup(id);
	in->instance_type = strdup("b.large");
	in->zone = strdup("zone-a");
	in->capacity_type = KERF_CAPACITY_ON_DEMAND;
	*out = in;
	return 0;
}

#ifdef BLOCKING_BATCH
/* The lease is always granted; launches before the first grant are counted as a fault. */
static int b_lease(void *p, const char *identity, int64_t duration_ms, bool *held,
		   struct kerf_error *err)
{
	(void)p;
	(void)err;
	pthread_mutex_lock(&ctl.mu);
	if (identity && *identity && duration_ms > 0)
		ctl.lease_calls++;
	pthread_mutex_unlock(&ctl.mu);
	*held = true;
	return 0;
}

/* One fleet-style call for the whole group: counted, never blocked. */
static int b_launch_batch(void *p, size_t n, const struct kerf_nodeclaim *const *claims,
			  const struct kerf_node_class *nc, struct kerf_instance **out, int *rcs,
			  struct kerf_error *const *errs, struct kerf_error *err)
{
	(void)p;
	(void)nc;
	(void)errs;
	(void)err;
	pthread_mutex_lock(&ctl.mu);
	ctl.batch_calls++;
	if (ctl.lease_calls == 0)
		ctl.before_lease++;
	if (n > ctl.max_batch)
		ctl.max_batch = (unsigned)n;
	pthread_mutex_unlock(&ctl.mu);
	for (size_t i = 0; i < n; i++) {
		char id[160];
		snprintf(id, sizeof(id), "batching:///%s", claims[i]->meta->name);
		out[i] = kerf_instance_new();
		out[i]->provider_id = strdup(id);
		out[i]->instance_type = strdup("b.large");
		out[i]->zone = strdup("zone-a");
		rcs[i] = 0;
		pthread_mutex_lock(&ctl.mu);
		ctl.creates++;
		char **grown = realloc(launched, (n_launched + 1) * sizeof(*launched));
		if (grown) {
			launched = grown;
			launched[n_launched++] = strdup(id);
		}
		pthread_cond_broadcast(&ctl.cv);
		pthread_mutex_unlock(&ctl.mu);
	}
	return 0;
}
#endif

static int b_delete(void *p, const char *id, struct kerf_error *err)
{
	(void)p;
	(void)id;
	(void)err;
	return 0;
}

static int b_get(void *p, const char *id, struct kerf_instance **out, struct kerf_error *err)
{
	(void)p;
	(void)out;
	return kerf_error_set(err, KERF_E_NOTFOUND, "blocking: no instance %s", id);
}

static int b_list(void *p, struct kerf_instance_list **out, struct kerf_error *err)
{
	(void)p;
	(void)err;
	*out = kerf_instance_list_new();
	pthread_mutex_lock(&ctl.mu);
	for (size_t i = 0; i < n_launched; i++) {
		struct kerf_instance *in = kerf_instance_list_append(*out);
		in->provider_id = strdup(launched[i]);
		in->instance_type = strdup("b.large");
		in->zone = strdup("zone-a");
	}
	pthread_mutex_unlock(&ctl.mu);
	return 0;
}

static const struct kerf_cluster_ops cluster_ops = {
    .start = b_start,
    .poll = b_poll,
    .create_nodeclaim = b_claim,
    .update_nodeclaim = b_claim,
    .delete_nodeclaim = b_by_name,
    .update_node = b_update_node,
    .delete_node = b_by_name,
    .evict_pod = b_evict,
#ifdef BLOCKING_BATCH
    .acquire_lease = b_lease,
#endif
};

static const struct kerf_provider_ops provider_ops = {
    .get_instance_types = b_types,
    .create = b_launch,
    .delete_instance = b_delete,
    .get = b_get,
    .list = b_list,
#ifdef BLOCKING_BATCH
    .create_batch = b_launch_batch,
#endif
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
#ifdef BLOCKING_BATCH
    .name = "batching",
#else
    .name = "blocking",
#endif
    .version = "0.0.1",
    .description = "check_daemon's blocking cloud and cluster",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_PROVIDER | KERF_KIND_CLUSTER,
#ifdef BLOCKING_BATCH
    .capabilities = KERF_CAP_CLUSTER_LEASE,
#endif
    .create = b_create,
    .destroy = b_destroy,
    KERF_PLUGIN_OPS(provider, provider_ops),
    KERF_PLUGIN_OPS(cluster, cluster_ops),
};
