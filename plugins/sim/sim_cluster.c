/*
 * sim_cluster.c - the cluster half of the sim plugin: the API server, the
 * workload controllers, the kubelets and kube-scheduler of a simulated
 * cluster whose nodes are the simulated cloud's instances.
 *
 * Each poll() moves the cluster to the host's clock (virtual under
 * simulation, so nothing here ever sleeps):
 *
 *  1. scenario and trace actions that are due run (apply, scale, delete,
 *     trace rows);
 *  2. instances that reached their registration time join as Nodes, as a
 *     kubelet started by Karpenter's user data registers: labels of the
 *     instance type and offering plus the NodeClaim's, the claim's taints
 *     and startup taints, karpenter.sh/unregistered:NoExecute (Karpenter
 *     removes it once it has synced the node) and
 *     node.kubernetes.io/not-ready:NoSchedule;
 *  3. nodes reaching their ready time turn Ready: the not-ready taint and
 *     the startup taints go (the agents that own startup taints, a CNI for
 *     instance, are not simulated, so they finish when the node is ready);
 *     nodes of terminated instances go, with their pods;
 *  4. pods that ran their trace duration succeed and are deleted;
 *  5. controllers: each workload gets back to its replicas (pods named
 *     <workload>-<n>; a StatefulSet reuses the lowest free ordinal), Jobs
 *     and trace rows do not replace pods that succeeded, a bare Pod is not
 *     replaced at all, and each DaemonSet gets one pod per node it should
 *     run on, pinned there by node affinity as the DaemonSet controller
 *     does;
 *  6. the scheduler, when something changed: pending pods in queue order
 *     (priority, then age) go to the ready node that passes
 *     kerf_topology_fits() (kube-scheduler's filters, shared with the core)
 *     and is least allocated, as kube-scheduler's default scoring picks;
 *     pods that fit nowhere get PodScheduled=False/Unschedulable.
 *
 * Preemption, PodDisruptionBudgets, graceful termination and rollouts of
 * changed templates are not simulated: an applied change affects the
 * pods created afterwards.
 *
 * Events: the sink may only be called from start() and poll(), so a
 * change made by a write op (update_node, evict_pod, ...) is kept as a
 * copy of the object and delivered, in order, at the next poll.
 *
 * DaemonSets are listed themselves too (KERF_OBJ_DAEMONSET): their
 * pod template under the DaemonSet's name, from start() on, before any node
 * runs their pods.
 *
 * NodePools and node classes are not this plugin's: they come from
 * kerf.yaml's `manifests:`, which the core reads with its own manifest
 * validation (a plugin cannot call it), so their initial lists are empty.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>
#include <kerf/scheduling.h>
#include <kerf/workload.h>

#include "sim.h"
#include "sim_cluster.h"

#define MiB (1024ll * 1024)

/* Taints the simulated kubelet and node lifecycle controller set. */
#define TAINT_UNREGISTERED "karpenter.sh/unregistered"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"

#define PUSH(h, arr, n, cap, item)                                                                 \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? 2 * (cap) : 16;                                            \
			(arr) = (h)->realloc((h)->ctx, (arr), (cap) * sizeof(*(arr)));             \
		}                                                                                  \
		(arr)[(n)++] = (item);                                                             \
	} while (0)

struct sim_node;

/* A workload: the controller that keeps its pods. */
struct sim_workload {
	char *kind;
	char *namespace_;
	char *name;
	struct kerf_pod *tmpl;
	int32_t replicas;
	bool daemonset;
	int64_t duration_ms; /* trace rows: each pod's run time; -1: runs until deleted */
	int32_t finished;    /* pods that must not be replaced (succeeded; a bare Pod's) */
	int32_t live;	     /* its pods that exist */
	uint64_t next_ordinal;
	struct kerf_pod *ds_object; /* a DaemonSet as listed (KERF_OBJ_DAEMONSET) */
};

struct sim_pod {
	struct kerf_pod *pod;
	struct sim_workload *owner; /* NULL once its workload is deleted */
	struct sim_node *on;	    /* where it is bound; NULL while pending */
	struct sim_node *ds_node;   /* a DaemonSet pod's node */
	uint64_t seq;		    /* creation order: the scheduler queue's tie-break */
	int32_t ordinal;	    /* StatefulSet pods */
	int64_t bound_ms;
};

struct sim_node {
	struct kerf_node *node;
	const struct sim_instance *in;
	struct kerf_taints startup; /* the claim's startup taints, removed at ready */
	size_t index;		    /* position in the scheduler's node list this cycle */
	struct kerf_resources requested;
};

/* A change made outside poll(): a copy of the object as it was. */
struct queued_event {
	kerf_event_type type;
	kerf_object_kind kind;
	void *object;
};

struct sim_cluster {
	const struct kerf_host *h;
	struct sim_world *w;
	struct sim_cluster_config cfg;
	size_t n_initial;
	struct kerf_workload_list **initial; /* cfg.workloads, parsed */
	struct sim_script script;
	size_t next_action;

	struct kerf_event_sink sink;
	bool started;	 /* start() listed everything: changes become events */
	bool delivering; /* inside start() or poll(): the sink may be called */
	int64_t start_ms;
	int64_t seen_ms; /* instance milestones up to here are done */
	bool dirty;	 /* the scheduler has something new to look at */
	bool ds_dirty;	 /* DaemonSets must look at the nodes again */

	size_t n_workloads, cap_workloads;
	struct sim_workload **workloads;
	size_t n_pods, cap_pods;
	struct sim_pod **pods; /* creation order */
	size_t n_nodes, cap_nodes;
	struct sim_node **nodes; /* registration order */
	size_t n_claims, cap_claims;
	struct kerf_nodeclaim **claims;
	size_t n_queue, cap_queue;
	struct queued_event *queue;

	uint64_t resource_version;
	uint64_t uids;
	uint64_t pod_seq;
	uint64_t node_seq;
	uint64_t events_recorded;
};

/* ------------------------------------------------------------ helpers */

static char *sdup(const struct kerf_host *h, const char *s)
{
	return s ? h->strdup(h->ctx, s) : NULL;
}

static void replace(const struct kerf_host *h, char **dst, const char *s)
{
	h->free(h->ctx, *dst);
	*dst = sdup(h, s);
}

/* Adds each of src's taints to dst, replacing one with the same key and effect. */
static void taints_add_all(struct kerf_taints *dst, const struct kerf_taints *src)
{
	for (size_t i = 0; i < src->n; i++)
		kerf_taints_add(dst, src->items[i]);
}

static int64_t now_ms(const struct sim_cluster *c)
{
	return c->h->wall_ms(c->h->ctx);
}

/* A new resourceVersion: one counter for every object, as etcd's revision. */
static void touch(struct sim_cluster *c, struct kerf_meta *m)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, ++c->resource_version);
	replace(c->h, &m->resource_version, buf);
}

static void new_meta(struct sim_cluster *c, struct kerf_meta *m, const char *api_version,
		     const char *kind, int64_t at_ms)
{
	char buf[40];

	replace(c->h, &m->api_version, api_version);
	replace(c->h, &m->kind, kind);
	snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012" PRIx64, ++c->uids);
	replace(c->h, &m->uid, buf);
	m->creation_ms = at_ms;
	m->deletion_ms = 0;
	touch(c, m);
}

/* ------------------------------------------------------------- events */

static void *snapshot(const struct sim_cluster *c, kerf_object_kind kind, const void *object)
{
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		return kerf_pod_copy(object);
	case KERF_OBJ_NODE:
		return kerf_node_copy(object);
	case KERF_OBJ_NODECLAIM:
		return kerf_nodeclaim_copy(object);
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		break;
	}
	return NULL;
}

static void snapshot_free(kerf_object_kind kind, void *object)
{
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		kerf_pod_free(object);
		break;
	case KERF_OBJ_NODE:
		kerf_node_free(object);
		break;
	case KERF_OBJ_NODECLAIM:
		kerf_nodeclaim_free(object);
		break;
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		break;
	}
}

/*
 * Reports a change: at once inside start()/poll(), else queued as a copy.
 * Before start() has listed, nothing: the initial lists carry the state.
 */
static void emit(struct sim_cluster *c, kerf_event_type type, kerf_object_kind kind,
		 const void *object)
{
	struct queued_event q;

	if (!c->started)
		return;
	if (c->delivering) {
		c->sink.on_object(c->sink.ctx, type, kind, object);
		return;
	}
	q.type = type;
	q.kind = kind;
	q.object = snapshot(c, kind, object);
	PUSH(c->h, c->queue, c->n_queue, c->cap_queue, q);
}

static void flush_queue(struct sim_cluster *c)
{
	for (size_t i = 0; i < c->n_queue; i++) {
		struct queued_event *q = &c->queue[i];
		c->sink.on_object(c->sink.ctx, q->type, q->kind, q->object);
		snapshot_free(q->kind, q->object);
	}
	c->n_queue = 0;
}

/* ------------------------------------------------------------ pods */

/* Namespaces are equal when both name the same one, NULL being "default". */
static bool same_namespace(const char *a, const char *b)
{
	return strcmp(a ? a : "default", b ? b : "default") == 0;
}

static struct sim_pod *find_pod(const struct sim_cluster *c, const char *ns, const char *name,
				size_t *index)
{
	for (size_t i = 0; i < c->n_pods; i++) {
		const struct kerf_meta *m = c->pods[i]->pod->meta;
		if (strcmp(m->name, name) == 0 && same_namespace(m->namespace_, ns)) {
			if (index)
				*index = i;
			return c->pods[i];
		}
	}
	return NULL;
}

static void append_toleration(const struct kerf_host *h, struct kerf_pod *p, const char *key,
			      kerf_taint_effect effect)
{
	struct kerf_toleration *n = kerf_tolerations_append(&p->tolerations);

	n->key = h->strdup(h->ctx, key);
	n->op = KERF_TOLERATION_EXISTS;
	n->effect = effect;
}

static void append_hostname(const struct kerf_host *h, struct kerf_requirements *r,
			    const char *node)
{
	struct kerf_requirement *n = kerf_requirements_append(r);

	n->key = h->strdup(h->ctx, "kubernetes.io/hostname");
	n->op = KERF_OP_IN;
	kerf_requirement_add_value(n, node);
}

/*
 * What the DaemonSet controller does to its pods: node affinity for this
 * one node (added to every required term) and the tolerations it adds
 * so that node conditions do not keep the pod off its node.
 */
static void pin_daemon_pod(const struct kerf_host *h, struct kerf_pod *p, const char *node)
{
	static const struct {
		const char *key;
		kerf_taint_effect effect;
	} tolerations[] = {
	    {"node.kubernetes.io/not-ready", KERF_EFFECT_NO_EXECUTE},
	    {"node.kubernetes.io/unreachable", KERF_EFFECT_NO_EXECUTE},
	    {"node.kubernetes.io/disk-pressure", KERF_EFFECT_NO_SCHEDULE},
	    {"node.kubernetes.io/memory-pressure", KERF_EFFECT_NO_SCHEDULE},
	    {"node.kubernetes.io/pid-pressure", KERF_EFFECT_NO_SCHEDULE},
	    {"node.kubernetes.io/unschedulable", KERF_EFFECT_NO_SCHEDULE},
	};

	if (p->n_required_terms == 0)
		kerf_pod_add_required_term(p);
	for (size_t i = 0; i < p->n_required_terms; i++)
		append_hostname(h, p->required_terms[i], node);
	for (size_t i = 0; i < sizeof(tolerations) / sizeof(tolerations[0]); i++)
		append_toleration(h, p, tolerations[i].key, tolerations[i].effect);
}

static struct sim_node *find_node(const struct sim_cluster *c, const char *name, size_t *index)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		if (strcmp(c->nodes[i]->node->meta->name, name) == 0) {
			if (index)
				*index = i;
			return c->nodes[i];
		}
	}
	return NULL;
}

static struct sim_pod *pod_create(struct sim_cluster *c, struct sim_workload *wl, const char *name,
				  int32_t ordinal, struct sim_node *ds_node)
{
	const struct kerf_host *h = c->h;
	struct sim_pod *sp = h->calloc(h->ctx, 1, sizeof(*sp));
	struct kerf_pod *p = kerf_pod_copy(wl->tmpl);

	replace(h, &p->meta->name, name);
	replace(h, &p->meta->namespace_, wl->namespace_);
	new_meta(c, p->meta, "v1", "Pod", now_ms(c));
	p->phase = KERF_POD_PENDING;
	p->unschedulable = false;
	if (strcmp(wl->kind, "StatefulSet") == 0)
		kerf_labels_set(&p->meta->labels, "statefulset.kubernetes.io/pod-name", name);
	if (ds_node)
		pin_daemon_pod(h, p, ds_node->node->meta->name);
	sp->pod = p;
	sp->owner = wl;
	sp->ordinal = ordinal;
	sp->ds_node = ds_node;
	sp->seq = ++c->pod_seq;
	/* A pod created with spec.nodeName is bound already; the scheduler never sees it. */
	if (p->node_name)
		sp->on = find_node(c, p->node_name, NULL);
	wl->live++;
	PUSH(h, c->pods, c->n_pods, c->cap_pods, sp);
	c->dirty = true;
	emit(c, KERF_EVENT_ADDED, KERF_OBJ_POD, p);
	return sp;
}

/*
 * Removes the pod at index: it succeeded (a finished trace pod) or was
 * deleted (evicted, its node gone, scaled down).  Its owner notices at
 * the next controller pass.
 */
static void pod_remove(struct sim_cluster *c, size_t index, bool succeeded)
{
	struct sim_pod *sp = c->pods[index];
	struct kerf_pod *p = sp->pod;
	struct sim_workload *wl = sp->owner;

	if (succeeded) {
		p->phase = KERF_POD_SUCCEEDED;
		touch(c, p->meta);
		emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, p);
	}
	p->meta->deletion_ms = now_ms(c);
	emit(c, KERF_EVENT_DELETED, KERF_OBJ_POD, p);
	if (wl) {
		wl->live--;
		/* A Job replaces failed pods, not succeeded ones; nothing replaces a bare Pod. */
		if (succeeded || strcmp(wl->kind, "Pod") == 0)
			wl->finished++;
		if (wl->daemonset)
			c->ds_dirty = true;
	}
	memmove(&c->pods[index], &c->pods[index + 1], (c->n_pods - index - 1) * sizeof(*c->pods));
	c->n_pods--;
	kerf_pod_free(p);
	c->h->free(c->h->ctx, sp);
	c->dirty = true;
}

/* ------------------------------------------------------------ workloads */

static struct sim_workload *find_workload(const struct sim_cluster *c, const char *kind,
					  const char *ns, const char *name, size_t *index)
{
	for (size_t i = 0; i < c->n_workloads; i++) {
		struct sim_workload *wl = c->workloads[i];
		if (strcmp(wl->kind, kind) == 0 && strcmp(wl->namespace_, ns) == 0 &&
		    strcmp(wl->name, name) == 0) {
			if (index)
				*index = i;
			return wl;
		}
	}
	return NULL;
}

static struct sim_workload *workload_add(struct sim_cluster *c, const char *kind, const char *ns,
					 const char *name, struct kerf_pod *tmpl)
{
	const struct kerf_host *h = c->h;
	struct sim_workload *wl = h->calloc(h->ctx, 1, sizeof(*wl));

	wl->kind = h->strdup(h->ctx, kind);
	wl->namespace_ = h->strdup(h->ctx, ns);
	wl->name = h->strdup(h->ctx, name);
	wl->tmpl = tmpl;
	wl->duration_ms = -1;
	PUSH(h, c->workloads, c->n_workloads, c->cap_workloads, wl);
	return wl;
}

/*
 * The DaemonSet object itself, as the API lists it: its pod template under
 * the DaemonSet's name.  ADDED the first time, MODIFIED when re-applied.
 */
static void daemonset_object(struct sim_cluster *c, struct sim_workload *wl)
{
	const struct kerf_host *h = c->h;
	struct kerf_pod *ds = kerf_pod_copy(wl->tmpl);
	bool added = wl->ds_object == NULL;

	replace(h, &ds->meta->name, wl->name);
	replace(h, &ds->meta->namespace_, wl->namespace_);
	h->free(h->ctx, ds->node_name);
	ds->node_name = NULL;
	ds->daemonset = true;
	ds->phase = KERF_POD_PENDING;
	ds->unschedulable = false;
	if (added) {
		new_meta(c, ds->meta, "apps/v1", "DaemonSet", now_ms(c));
	} else {
		/* Same object, new spec: keep its identity. */
		replace(h, &ds->meta->api_version, "apps/v1");
		replace(h, &ds->meta->kind, "DaemonSet");
		replace(h, &ds->meta->uid, wl->ds_object->meta->uid);
		ds->meta->creation_ms = wl->ds_object->meta->creation_ms;
		ds->meta->deletion_ms = 0;
		touch(c, ds->meta);
		kerf_pod_free(wl->ds_object);
	}
	wl->ds_object = ds;
	emit(c, added ? KERF_EVENT_ADDED : KERF_EVENT_MODIFIED, KERF_OBJ_DAEMONSET, ds);
}

static void workload_apply(struct sim_cluster *c, const struct kerf_workload *k)
{
	const char *ns = k->namespace_ ? k->namespace_ : "default";
	struct sim_workload *wl = find_workload(c, k->kind, ns, k->name, NULL);
	struct kerf_pod *tmpl = kerf_pod_copy(k->pod);

	if (wl) {
		/* No rollout: the new template is for the pods created from now on. */
		kerf_pod_free(wl->tmpl);
		wl->tmpl = tmpl;
	} else {
		wl = workload_add(c, k->kind, ns, k->name, tmpl);
	}
	wl->replicas = k->replicas;
	wl->daemonset = k->daemonset;
	if (wl->daemonset)
		daemonset_object(c, wl);
	c->ds_dirty = true;
	c->h->log(c->h->ctx, KERF_LOG_DEBUG, "applied %s %s/%s: %d replicas", k->kind, ns, k->name,
		  k->daemonset ? -1 : k->replicas);
}

static void workload_free(const struct kerf_host *h, struct sim_workload *wl)
{
	kerf_pod_free(wl->tmpl);
	kerf_pod_free(wl->ds_object);
	h->free(h->ctx, wl->kind);
	h->free(h->ctx, wl->namespace_);
	h->free(h->ctx, wl->name);
	h->free(h->ctx, wl);
}

static void workload_delete(struct sim_cluster *c, size_t index)
{
	struct sim_workload *wl = c->workloads[index];

	for (size_t i = c->n_pods; i-- > 0;)
		if (c->pods[i]->owner == wl)
			pod_remove(c, i, false);
	if (wl->ds_object) {
		wl->ds_object->meta->deletion_ms = now_ms(c);
		emit(c, KERF_EVENT_DELETED, KERF_OBJ_DAEMONSET, wl->ds_object);
	}
	workload_free(c->h, wl);
	memmove(&c->workloads[index], &c->workloads[index + 1],
		(c->n_workloads - index - 1) * sizeof(*c->workloads));
	c->n_workloads--;
}

/* The pod a scale-down removes first: unbound before bound, then the newest. */
static size_t scale_down_victim(const struct sim_cluster *c, const struct sim_workload *wl)
{
	size_t best = c->n_pods;

	for (size_t i = 0; i < c->n_pods; i++) {
		const struct sim_pod *sp = c->pods[i], *b;
		if (sp->owner != wl)
			continue;
		if (best == c->n_pods) {
			best = i;
			continue;
		}
		b = c->pods[best];
		if (strcmp(wl->kind, "StatefulSet") == 0 ? sp->ordinal > b->ordinal
		    : (!sp->on) != (!b->on)		 ? !sp->on
							 : sp->seq > b->seq)
			best = i;
	}
	return best;
}

/* The lowest StatefulSet ordinal no pod of wl holds. */
static int32_t free_ordinal(const struct sim_cluster *c, const struct sim_workload *wl)
{
	for (int32_t o = 0;; o++) {
		size_t i = 0;
		while (i < c->n_pods && !(c->pods[i]->owner == wl && c->pods[i]->ordinal == o))
			i++;
		if (i == c->n_pods)
			return o;
	}
}

/* The ReplicaSet, StatefulSet and Job controllers, and a Pod's own "controller". */
static void workload_sync(struct sim_cluster *c, struct sim_workload *wl)
{
	int32_t want = wl->replicas - wl->finished;

	if (wl->daemonset)
		return;
	if (want < 0)
		want = 0;
	while (wl->live < want) {
		char name[300];
		int32_t ordinal = 0;

		if (strcmp(wl->kind, "Pod") == 0) {
			snprintf(name, sizeof(name), "%s", wl->name);
		} else if (strcmp(wl->kind, "StatefulSet") == 0) {
			ordinal = free_ordinal(c, wl);
			snprintf(name, sizeof(name), "%s-%" PRId32, wl->name, ordinal);
		} else {
			snprintf(name, sizeof(name), "%s-%" PRIu64, wl->name, wl->next_ordinal++);
		}
		pod_create(c, wl, name, ordinal, NULL);
	}
	while (wl->live > want)
		pod_remove(c, scale_down_victim(c, wl), false);
}

/* Taints with only the given effect, borrowed from t, in buf (t->n entries). */
static struct kerf_taints taints_filter(const struct kerf_taints *t, bool no_execute_only,
					struct kerf_taint **buf)
{
	struct kerf_taints out = {0, buf};

	for (size_t i = 0; i < t->n; i++) {
		struct kerf_taint *x = t->items[i];
		/* A node that is not ready yet still gets its DaemonSet pods created. */
		if (x->key && strcmp(x->key, TAINT_NOT_READY) == 0)
			continue;
		if (no_execute_only && x->effect != KERF_EFFECT_NO_EXECUTE)
			continue;
		buf[out.n++] = x;
	}
	return out;
}

/*
 * The DaemonSet controller's test: a pod is created where the template's
 * node selector and affinity match and NoSchedule/NoExecute taints are
 * tolerated, and stays while NoExecute taints are.
 */
static bool daemon_fits(const struct sim_cluster *c, const struct sim_workload *wl,
			const struct kerf_node *n, bool running)
{
	struct kerf_taint **buf;
	struct kerf_taints t;
	bool ok;

	if (n->meta->deletion_ms ||
	    !kerf_pod_matches_node_labels(wl->tmpl, &n->meta->labels, NULL, 0))
		return false;
	buf = c->h->calloc(c->h->ctx, n->taints.n ? n->taints.n : 1, sizeof(*buf));
	t = taints_filter(&n->taints, running, buf);
	ok = kerf_pod_tolerates(wl->tmpl, &t, NULL, 0);
	c->h->free(c->h->ctx, buf);
	return ok;
}

static void daemonset_sync(struct sim_cluster *c, struct sim_workload *wl)
{
	const struct kerf_host *h = c->h;
	size_t *pod_at = h->calloc(h->ctx, c->n_nodes ? c->n_nodes : 1, sizeof(*pod_at));

	/* pod_at[node index]: 1 + the index of its pod of this DaemonSet, 0 for none. */
	for (size_t i = 0; i < c->n_nodes; i++)
		c->nodes[i]->index = i;
	for (size_t i = 0; i < c->n_pods; i++)
		if (c->pods[i]->owner == wl && c->pods[i]->ds_node)
			pod_at[c->pods[i]->ds_node->index] = i + 1;
	for (size_t i = c->n_nodes; i-- > 0;) {
		struct sim_node *sn = c->nodes[i];
		bool has = pod_at[i] != 0;

		if (!has && daemon_fits(c, wl, sn->node, false)) {
			char name[300];
			snprintf(name, sizeof(name), "%s-%" PRIu64, wl->name, wl->next_ordinal++);
			pod_create(c, wl, name, 0, sn);
		} else if (has && !daemon_fits(c, wl, sn->node, true)) {
			/* Going backwards over nodes keeps the other recorded indices valid. */
			size_t at = pod_at[i] - 1;
			pod_remove(c, at, false);
			for (size_t j = 0; j < i; j++)
				if (pod_at[j] > at + 1)
					pod_at[j]--;
		}
	}
	h->free(h->ctx, pod_at);
}

static void controllers(struct sim_cluster *c)
{
	bool ds = c->ds_dirty;

	c->ds_dirty = false;
	for (size_t i = 0; i < c->n_workloads; i++) {
		struct sim_workload *wl = c->workloads[i];
		if (!wl->daemonset)
			workload_sync(c, wl);
		else if (ds)
			daemonset_sync(c, wl);
	}
}

/* ------------------------------------------------------------ actions */

static struct kerf_pod *trace_template(struct sim_cluster *c, const struct sim_action *a,
				       const char *name)
{
	const struct kerf_host *h = c->h;
	struct kerf_pod *p = kerf_pod_new();

	p->meta->name = h->strdup(h->ctx, name);
	p->meta->namespace_ = h->strdup(h->ctx, "default");
	p->meta->owner_kind = h->strdup(h->ctx, "Job");
	p->meta->owner_name = h->strdup(h->ctx, name);
	kerf_labels_set(&p->meta->labels, "job-name", name);
	kerf_resources_init(&p->requests);
	/* The row's numbers are far below every limit, so these cannot fail. */
	kerf_resources_set(&p->requests, KERF_RESOURCE_CPU, a->cpu_millis, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_MEMORY, a->memory_mib * MiB, NULL);
	if (a->gpu > 0)
		kerf_resources_set(&p->requests, KERF_RESOURCE_NVIDIA_GPU, a->gpu, NULL);
	kerf_resources_set(&p->requests, KERF_RESOURCE_PODS, 1, NULL);
	return p;
}

static void run_action(struct sim_cluster *c, const struct sim_action *a)
{
	const struct kerf_host *h = c->h;
	struct sim_workload *wl;
	size_t index;
	char name[64];

	switch (a->type) {
	case SIM_ACT_APPLY:
		for (size_t i = 0; i < a->apply->n; i++)
			workload_apply(c, &a->apply->items[i]);
		break;
	case SIM_ACT_SCALE:
	case SIM_ACT_DELETE:
		wl = find_workload(c, a->kind, a->namespace_, a->name, &index);
		if (!wl) {
			h->log(h->ctx, KERF_LOG_WARN, "scenario: %s %s/%s: no such workload",
			       a->type == SIM_ACT_SCALE ? "scale" : "delete", a->namespace_,
			       a->name);
			break;
		}
		if (a->type == SIM_ACT_DELETE) {
			workload_delete(c, index);
			break;
		}
		wl->replicas = a->replicas;
		break;
	case SIM_ACT_TRACE:
		snprintf(name, sizeof(name), "trace-%zu", a->row);
		wl = workload_add(c, "Job", "default", name, trace_template(c, a, name));
		wl->replicas = a->replicas;
		wl->duration_ms = a->duration_ms;
		break;
	}
}

/* ------------------------------------------------------------ nodes */

static const struct kerf_nodeclaim *find_claim(const struct sim_cluster *c, const char *name,
					       size_t *index)
{
	for (size_t i = 0; i < c->n_claims; i++) {
		if (strcmp(c->claims[i]->meta->name, name) == 0) {
			if (index)
				*index = i;
			return c->claims[i];
		}
	}
	return NULL;
}

static void add_taint(const struct kerf_host *h, struct kerf_taints *t, const char *key,
		      kerf_taint_effect effect)
{
	struct kerf_taint *x = kerf_taint_new();

	x->key = h->strdup(h->ctx, key);
	x->effect = effect;
	kerf_taints_add(t, x);
	kerf_taint_free(x);
}

/* The node's name as EC2's private DNS gives it: one address per registration. */
static void node_name(struct sim_cluster *c, char *buf, size_t len)
{
	uint64_t k = ++c->node_seq;
	const char *region = c->w->cfg.region;

	if (strcmp(region, "us-east-1") == 0)
		snprintf(buf, len, "ip-10-%u-%u-%u.ec2.internal", (unsigned)((k >> 16) & 255),
			 (unsigned)((k >> 8) & 255), (unsigned)(k & 255));
	else
		snprintf(buf, len, "ip-10-%u-%u-%u.%s.compute.internal",
			 (unsigned)((k >> 16) & 255), (unsigned)((k >> 8) & 255),
			 (unsigned)(k & 255), region);
}

static void node_labels(const struct sim_cluster *c, const struct sim_instance *in,
			const struct kerf_nodeclaim *claim, const char *name,
			struct kerf_labels *l)
{
	const struct sim_world *w = c->w;
	struct sim_label tl[SIM_MAX_LABELS];
	size_t n = sim_type_labels(w, in->type, tl);
	const char *zone = w->cfg.zones[in->zone];

	/* The claim's labels first: what the instance really is wins. */
	if (claim) {
		kerf_labels_copy(l, &claim->meta->labels);
		if (claim->nodepool)
			kerf_labels_set(l, SIM_TAG_NODEPOOL, claim->nodepool);
	}
	for (size_t i = 0; i < n; i++)
		if (tl[i].value)
			kerf_labels_set(l, tl[i].key, tl[i].value);
	kerf_labels_set(l, SIM_L_ZONE, zone);
	kerf_labels_set(l, SIM_L_CAPACITY_TYPE, kerf_capacity_type_name(in->capacity_type));
	kerf_labels_set(l, "kubernetes.io/hostname", name);
	/* The deprecated labels kubelet and the cloud node controller still set. */
	kerf_labels_set(l, "beta.kubernetes.io/arch", in->type->arch);
	kerf_labels_set(l, "beta.kubernetes.io/os", "linux");
	kerf_labels_set(l, "beta.kubernetes.io/instance-type", in->type->name);
	kerf_labels_set(l, "failure-domain.beta.kubernetes.io/zone", zone);
	kerf_labels_set(l, "failure-domain.beta.kubernetes.io/region", w->cfg.region);
}

static void node_register(void *arg, const struct sim_instance *in, int64_t at_ms)
{
	struct sim_cluster *c = arg;
	const struct kerf_host *h = c->h;
	const struct kerf_nodeclaim *claim = find_claim(c, in->claim, NULL);
	struct sim_node *sn = h->calloc(h->ctx, 1, sizeof(*sn));
	struct kerf_node *n = kerf_node_new();
	char name[96];

	node_name(c, name, sizeof(name));
	n->meta->name = h->strdup(h->ctx, name);
	new_meta(c, n->meta, "v1", "Node", at_ms);
	node_labels(c, in, claim, name, &n->meta->labels);
	n->provider_id = h->strdup(h->ctx, in->provider_id);
	if (claim) {
		taints_add_all(&n->taints, &claim->taints);
		taints_add_all(&n->taints, &claim->startup_taints);
		taints_add_all(&sn->startup, &claim->startup_taints);
	}
	/* Karpenter's user data registers the kubelet with this taint; it removes it once synced. */
	add_taint(h, &n->taints, TAINT_UNREGISTERED, KERF_EFFECT_NO_EXECUTE);
	add_taint(h, &n->taints, TAINT_NOT_READY, KERF_EFFECT_NO_SCHEDULE);
	n->capacity = in->type->capacity;
	n->allocatable = in->type->allocatable;
	sn->node = n;
	sn->in = in;
	PUSH(h, c->nodes, c->n_nodes, c->cap_nodes, sn);
	c->ds_dirty = true;
	h->log(h->ctx, KERF_LOG_INFO, "node %s registered (%s, %s, %s, NodeClaim %s)", name,
	       in->type->name, c->w->cfg.zones[in->zone], in->provider_id, in->claim);
	emit(c, KERF_EVENT_ADDED, KERF_OBJ_NODE, n);
}

static struct sim_node *node_of(const struct sim_cluster *c, const struct sim_instance *in,
				size_t *index)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		if (c->nodes[i]->in == in) {
			if (index)
				*index = i;
			return c->nodes[i];
		}
	}
	return NULL;
}

/* Removes the taint with this key and effect (Kubernetes' MatchTaint), if any. */
static void remove_taint(struct kerf_taints *t, const char *key, kerf_taint_effect effect)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct kerf_taint *x = t->items[i];
		if (x->effect == effect && strcmp(x->key ? x->key : "", key ? key : "") == 0) {
			kerf_taint_free(t->items[i]);
			memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof(*t->items));
			t->n--;
			return;
		}
	}
}

static void node_ready(void *arg, const struct sim_instance *in, int64_t at_ms)
{
	struct sim_cluster *c = arg;
	struct sim_node *sn = node_of(c, in, NULL);

	if (!sn)
		return;
	sn->node->ready = true;
	remove_taint(&sn->node->taints, TAINT_NOT_READY, KERF_EFFECT_NO_SCHEDULE);
	for (size_t i = 0; i < sn->startup.n; i++)
		remove_taint(&sn->node->taints, sn->startup.items[i]->key,
			     sn->startup.items[i]->effect);
	touch(c, sn->node->meta);
	c->dirty = true;
	c->ds_dirty = true;
	c->h->log(c->h->ctx, KERF_LOG_DEBUG, "node %s ready", sn->node->meta->name);
	emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODE, sn->node);
}

/* Deletes the node and, as the pod garbage collector does, every pod bound or pinned to it. */
static void node_remove(struct sim_cluster *c, size_t index)
{
	struct sim_node *sn = c->nodes[index];

	for (size_t i = c->n_pods; i-- > 0;)
		if (c->pods[i]->on == sn || c->pods[i]->ds_node == sn)
			pod_remove(c, i, false);
	sn->node->meta->deletion_ms = now_ms(c);
	emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODE, sn->node);
	kerf_node_free(sn->node);
	kerf_taints_clear(&sn->startup);
	c->h->free(c->h->ctx, sn);
	memmove(&c->nodes[index], &c->nodes[index + 1], (c->n_nodes - index - 1) * sizeof(*c->nodes));
	c->n_nodes--;
	c->dirty = true;
	c->ds_dirty = true;
}

static void node_gone(void *arg, const struct sim_instance *in, int64_t at_ms)
{
	struct sim_cluster *c = arg;
	size_t index;

	if (node_of(c, in, &index)) {
		c->h->log(c->h->ctx, KERF_LOG_INFO, "node %s gone with its instance %s",
			  c->nodes[index]->node->meta->name, in->provider_id);
		node_remove(c, index);
	}
}

/* ------------------------------------------------------------ scheduler */

static int64_t headroom(int64_t alloc, int64_t used)
{
	return alloc > 0 ? (alloc - used) * 100 / alloc : 0;
}

/* kube-scheduler's LeastAllocated score: the free share of cpu and memory after placing. */
static int64_t score(const struct sim_node *sn, const struct kerf_pod *p)
{
	const struct kerf_resources *a = &sn->node->allocatable;

	return headroom(a->cpu_millis, sn->requested.cpu_millis + p->requests.cpu_millis) +
	       headroom(a->memory_bytes, sn->requested.memory_bytes + p->requests.memory_bytes);
}

/* Queue order: higher priority first, then the older pod. */
static int queue_cmp(const void *a, const void *b)
{
	const struct sim_pod *x = *(const struct sim_pod *const *)a;
	const struct sim_pod *y = *(const struct sim_pod *const *)b;

	if (x->pod->priority != y->pod->priority)
		return x->pod->priority > y->pod->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool pending(const struct sim_pod *sp)
{
	return !sp->pod->node_name && sp->pod->phase == KERF_POD_PENDING &&
	       !sp->pod->meta->deletion_ms;
}

static void bind(struct sim_cluster *c, struct kerf_topology *topo, struct sim_pod *sp,
		 struct sim_node *sn, int64_t now)
{
	struct kerf_pod *p = sp->pod;

	replace(c->h, &p->node_name, sn->node->meta->name);
	p->phase = KERF_POD_RUNNING;
	p->unschedulable = false;
	sp->on = sn;
	sp->bound_ms = now;
	kerf_resources_add(&sn->requested, &p->requests);
	kerf_topology_add_pod(topo, p, sn->index);
	touch(c, p->meta);
	emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, p);
}

static void schedule_one(struct sim_cluster *c, struct kerf_topology *topo, struct sim_pod *sp,
			 int64_t now)
{
	struct sim_node *best = NULL;
	int64_t best_score = 0;
	size_t n_ready = 0;
	char why[256] = "", first_why[256] = "";

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct sim_node *sn = c->nodes[i];
		int64_t s;

		if (!sn->node->ready || sn->node->meta->deletion_ms)
			continue;
		n_ready++;
		if (!kerf_topology_fits(topo, sp->pod, i, why, sizeof(why))) {
			if (!first_why[0])
				snprintf(first_why, sizeof(first_why), "%s: %s",
					 sn->node->meta->name, why);
			continue;
		}
		s = score(sn, sp->pod);
		if (!best || s > best_score) {
			best = sn;
			best_score = s;
		}
	}
	if (best) {
		bind(c, topo, sp, best, now);
		return;
	}
	if (sp->pod->unschedulable)
		return;
	sp->pod->unschedulable = true;
	touch(c, sp->pod->meta);
	c->h->log(c->h->ctx, KERF_LOG_DEBUG,
		  "pod %s/%s unschedulable: 0/%zu nodes are available%s%s",
		  sp->pod->meta->namespace_ ? sp->pod->meta->namespace_ : "default",
		  sp->pod->meta->name, n_ready, first_why[0] ? "; " : "", first_why);
	emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, sp->pod);
}

static void schedule(struct sim_cluster *c, int64_t now)
{
	const struct kerf_host *h = c->h;
	const struct kerf_node **nodes;
	const struct kerf_pod **pods;
	struct sim_pod **queue;
	struct kerf_topology *topo;
	size_t n_queue = 0;

	if (!c->dirty)
		return;
	c->dirty = false;
	queue = h->calloc(h->ctx, c->n_pods ? c->n_pods : 1, sizeof(*queue));
	for (size_t i = 0; i < c->n_pods; i++) {
		if (!pending(c->pods[i]))
			continue;
		if (now < c->pods[i]->pod->meta->creation_ms + c->cfg.bind_delay_ms) {
			/* Not yet: the scheduler has to look again once the delay has passed. */
			c->dirty = true;
			continue;
		}
		queue[n_queue++] = c->pods[i];
	}
	if (n_queue == 0) {
		h->free(h->ctx, queue);
		return;
	}
	qsort(queue, n_queue, sizeof(*queue), queue_cmp);
	nodes = h->calloc(h->ctx, c->n_nodes ? c->n_nodes : 1, sizeof(*nodes));
	for (size_t i = 0; i < c->n_nodes; i++) {
		nodes[i] = c->nodes[i]->node;
		c->nodes[i]->index = i;
		kerf_resources_init(&c->nodes[i]->requested);
	}
	pods = h->calloc(h->ctx, c->n_pods ? c->n_pods : 1, sizeof(*pods));
	for (size_t i = 0; i < c->n_pods; i++) {
		struct sim_pod *sp = c->pods[i];
		pods[i] = sp->pod;
		if (sp->on && sp->pod->phase != KERF_POD_SUCCEEDED &&
		    sp->pod->phase != KERF_POD_FAILED)
			kerf_resources_add(&sp->on->requested, &sp->pod->requests);
	}
	topo = kerf_topology_new(nodes, c->n_nodes, pods, c->n_pods);
	for (size_t i = 0; i < n_queue; i++)
		schedule_one(c, topo, queue[i], now);
	kerf_topology_free(topo);
	h->free(h->ctx, pods);
	h->free(h->ctx, nodes);
	h->free(h->ctx, queue);
}

/* ------------------------------------------------------------ the loop */

static void finish_pods(struct sim_cluster *c, int64_t now)
{
	for (size_t i = c->n_pods; i-- > 0;) {
		struct sim_pod *sp = c->pods[i];
		if (sp->on && sp->owner && sp->owner->duration_ms >= 0 &&
		    sp->bound_ms + sp->owner->duration_ms <= now)
			pod_remove(c, i, true);
	}
}

/* Everything that happened up to now except scheduling. */
static void advance(struct sim_cluster *c, int64_t now)
{
	while (c->next_action < c->script.n &&
	       c->start_ms + c->script.items[c->next_action].at_ms <= now)
		run_action(c, &c->script.items[c->next_action++]);
	sim_world_reached(c->w, SIM_REGISTERED, c->seen_ms, now, node_register, c);
	sim_world_reached(c->w, SIM_READY, c->seen_ms, now, node_ready, c);
	sim_world_reached(c->w, SIM_GONE, c->seen_ms, now, node_gone, c);
	c->seen_ms = now;
	finish_pods(c, now);
	controllers(c);
}

static struct sim_cluster *cluster_of(void *inst)
{
	return ((struct sim *)inst)->cluster;
}

static void list_kind(struct sim_cluster *c, kerf_object_kind kind)
{
	const struct kerf_event_sink *s = &c->sink;

	switch (kind) {
	case KERF_OBJ_POD:
		for (size_t i = 0; i < c->n_pods; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->pods[i]->pod);
		break;
	case KERF_OBJ_NODE:
		for (size_t i = 0; i < c->n_nodes; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->nodes[i]->node);
		break;
	case KERF_OBJ_NODECLAIM:
		for (size_t i = 0; i < c->n_claims; i++)
			s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->claims[i]);
		break;
	case KERF_OBJ_DAEMONSET:
		for (size_t i = 0; i < c->n_workloads; i++)
			if (c->workloads[i]->ds_object)
				s->on_object(s->ctx, KERF_EVENT_ADDED, kind, c->workloads[i]->ds_object);
		break;
	case KERF_OBJ_NODEPOOL:
	case KERF_OBJ_NODE_CLASS:
		/* kerf.yaml's manifests: the core's, see the top of this file. */
		break;
	}
	s->on_object(s->ctx, KERF_EVENT_SYNCED, kind, NULL);
}

static int sim_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	static const kerf_object_kind kinds[] = {KERF_OBJ_NODEPOOL,  KERF_OBJ_NODE_CLASS,
						 KERF_OBJ_NODECLAIM, KERF_OBJ_NODE,
						 KERF_OBJ_DAEMONSET, KERF_OBJ_POD};
	struct sim_cluster *c = cluster_of(inst);
	int64_t now = now_ms(c);

	if (c->started)
		return kerf_error_set(err, KERF_E_INVALID, "sim: cluster already started");
	if (!sink || !sink->on_object)
		return kerf_error_set(err, KERF_E_INVALID, "sim: start without an event sink");
	c->sink = *sink;
	c->start_ms = now;
	for (size_t i = 0; i < c->n_initial; i++)
		for (size_t j = 0; j < c->initial[i]->n; j++)
			workload_apply(c, &c->initial[i]->items[j]);
	advance(c, now);
	c->delivering = true;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		list_kind(c, kinds[i]);
	c->started = true;
	c->delivering = false;
	c->h->log(c->h->ctx, KERF_LOG_INFO,
		  "simulated cluster started: %zu workloads, %zu pods, %zu nodes, %zu timed actions",
		  c->n_workloads, c->n_pods, c->n_nodes, c->script.n);
	return 0;
}

static int sim_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	int64_t now = now_ms(c);

	if (!c->started)
		return kerf_error_set(err, KERF_E_INVALID, "sim: poll before start");
	/*
	 * Never waits: under the virtual clock time moves only between calls,
	 * and under the real one kerfd paces a plugin that has nothing new.
	 */
	c->delivering = true;
	flush_queue(c);
	advance(c, now);
	schedule(c, now);
	c->delivering = false;
	return 0;
}

/* ------------------------------------------------------------ writes */

static int conflict(struct kerf_error *err, const char *what, const char *name, const char *have,
		    const char *given)
{
	return kerf_error_set(err, KERF_E_CONFLICT,
			      "sim: %s %s: resourceVersion %s is stale (now %s)", what, name, given,
			      have);
}

static bool stale(const struct kerf_meta *stored, const struct kerf_meta *given)
{
	return given->resource_version && stored->resource_version &&
	       strcmp(given->resource_version, stored->resource_version) != 0;
}

static int sim_create_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	struct kerf_nodeclaim *d;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NodeClaim without a name");
	if (find_claim(c, claim->meta->name, NULL))
		return kerf_error_set(err, KERF_E_CONFLICT, "sim: NodeClaim %s already exists",
				      claim->meta->name);
	d = kerf_nodeclaim_copy(claim);
	new_meta(c, d->meta, "karpenter.sh/v1", "NodeClaim", now_ms(c));
	PUSH(c->h, c->claims, c->n_claims, c->cap_claims, d);
	emit(c, KERF_EVENT_ADDED, KERF_OBJ_NODECLAIM, d);
	return 0;
}

static void claim_remove(struct sim_cluster *c, size_t index)
{
	struct kerf_nodeclaim *d = c->claims[index];

	emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODECLAIM, d);
	kerf_nodeclaim_free(d);
	memmove(&c->claims[index], &c->claims[index + 1],
		(c->n_claims - index - 1) * sizeof(*c->claims));
	c->n_claims--;
}

static int sim_update_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	struct kerf_nodeclaim *old, *d;
	size_t index;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NodeClaim without a name");
	if (!find_claim(c, claim->meta->name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no NodeClaim %s",
				      claim->meta->name);
	old = c->claims[index];
	if (stale(old->meta, claim->meta))
		return conflict(err, "NodeClaim", claim->meta->name, old->meta->resource_version,
				claim->meta->resource_version);
	d = kerf_nodeclaim_copy(claim);
	/* What the API server owns stays its own. */
	replace(c->h, &d->meta->uid, old->meta->uid);
	replace(c->h, &d->meta->api_version, old->meta->api_version);
	replace(c->h, &d->meta->kind, old->meta->kind);
	d->meta->creation_ms = old->meta->creation_ms;
	d->meta->deletion_ms = old->meta->deletion_ms;
	touch(c, d->meta);
	c->claims[index] = d;
	kerf_nodeclaim_free(old);
	/* A claim being deleted goes once its last finalizer is removed. */
	if (d->meta->deletion_ms && d->meta->n_finalizers == 0)
		claim_remove(c, index);
	else
		emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODECLAIM, d);
	return 0;
}

static int sim_delete_nodeclaim(void *inst, const char *name, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	struct kerf_nodeclaim *d;
	size_t index;

	if (!name || !find_claim(c, name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no NodeClaim %s",
				      name ? name : "(null)");
	d = c->claims[index];
	if (d->meta->n_finalizers == 0) {
		claim_remove(c, index);
		return 0;
	}
	/* Finalizers hold it: it is marked for deletion, as the API server does. */
	if (!d->meta->deletion_ms) {
		d->meta->deletion_ms = now_ms(c);
		touch(c, d->meta);
		emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODECLAIM, d);
	}
	return 0;
}

static int sim_update_node(void *inst, const struct kerf_node *node, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	struct sim_node *sn;
	struct kerf_node *n;

	if (!node || !node->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: Node without a name");
	sn = find_node(c, node->meta->name, NULL);
	if (!sn)
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no Node %s", node->meta->name);
	n = sn->node;
	if (stale(n->meta, node->meta))
		return conflict(err, "Node", node->meta->name, n->meta->resource_version,
				node->meta->resource_version);
	kerf_labels_clear(&n->meta->labels);
	kerf_labels_copy(&n->meta->labels, &node->meta->labels);
	kerf_taints_clear(&n->taints);
	taints_add_all(&n->taints, &node->taints);
	n->unschedulable = node->unschedulable;
	touch(c, n->meta);
	c->dirty = true;
	c->ds_dirty = true;
	emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODE, n);
	return 0;
}

static int sim_delete_node(void *inst, const char *name, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	size_t index;

	if (!name || !find_node(c, name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no Node %s",
				      name ? name : "(null)");
	node_remove(c, index);
	return 0;
}

static int sim_evict_pod(void *inst, const char *ns, const char *name, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);
	size_t index;

	/* No PodDisruptionBudgets are simulated, so an eviction is always allowed. */
	if (!name || !find_pod(c, ns, name, &index))
		return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no pod %s/%s",
				      ns ? ns : "default", name ? name : "(null)");
	pod_remove(c, index, false);
	return 0;
}

static int sim_emit_event(void *inst, const struct kerf_event *e, struct kerf_error *err)
{
	struct sim_cluster *c = cluster_of(inst);

	if (!e)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NULL event");
	c->events_recorded++;
	c->h->log(c->h->ctx, KERF_LOG_INFO, "event %s %s %s%s%s: %s", e->type ? e->type : "Normal",
		  e->reason ? e->reason : "", e->namespace_ ? e->namespace_ : "",
		  e->namespace_ ? "/" : "", e->name ? e->name : "", e->message ? e->message : "");
	return 0;
}

const struct kerf_cluster_ops sim_cluster_ops = {
    .start = sim_start,
    .poll = sim_poll,
    .create_nodeclaim = sim_create_nodeclaim,
    .update_nodeclaim = sim_update_nodeclaim,
    .delete_nodeclaim = sim_delete_nodeclaim,
    .update_node = sim_update_node,
    .delete_node = sim_delete_node,
    .evict_pod = sim_evict_pod,
    .emit_event = sim_emit_event,
};

/* ------------------------------------------------------------ lifetime */

void sim_cluster_config_clear(const struct kerf_host *h, struct sim_cluster_config *cfg)
{
	for (size_t i = 0; i < cfg->n_workloads; i++)
		h->free(h->ctx, cfg->workloads[i]);
	h->free(h->ctx, cfg->workloads);
	h->free(h->ctx, cfg->scenario);
	h->free(h->ctx, cfg->trace);
	memset(cfg, 0, sizeof(*cfg));
}

int sim_cluster_new(const struct kerf_host *h, struct sim_world *w, struct sim_cluster_config *cfg,
		    struct sim_cluster **out, struct kerf_error *err)
{
	struct sim_cluster *c = h->calloc(h->ctx, 1, sizeof(*c));
	int rc = 0;

	c->h = h;
	c->w = w;
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	c->seen_ms = INT64_MIN;
	c->initial = h->calloc(h->ctx, c->cfg.n_workloads ? c->cfg.n_workloads : 1,
			       sizeof(*c->initial));
	for (size_t i = 0; rc == 0 && i < c->cfg.n_workloads; i++) {
		rc = sim_workloads_load(h, c->cfg.workloads[i], &c->initial[i], err);
		if (rc == 0)
			c->n_initial++;
	}
	if (rc == 0 && c->cfg.scenario)
		rc = sim_scenario_load(h, c->cfg.scenario, &c->script, err);
	if (rc == 0 && c->cfg.trace)
		rc = sim_trace_load(h, c->cfg.trace, c->cfg.trace_time_scale, &c->script, err);
	if (rc) {
		sim_cluster_free(c);
		return rc;
	}
	sim_script_sort(h, &c->script);
	*out = c;
	return 0;
}

void sim_cluster_free(struct sim_cluster *c)
{
	const struct kerf_host *h;

	if (!c)
		return;
	h = c->h;
	for (size_t i = 0; i < c->n_queue; i++)
		snapshot_free(c->queue[i].kind, c->queue[i].object);
	h->free(h->ctx, c->queue);
	for (size_t i = 0; i < c->n_pods; i++) {
		kerf_pod_free(c->pods[i]->pod);
		h->free(h->ctx, c->pods[i]);
	}
	h->free(h->ctx, c->pods);
	for (size_t i = 0; i < c->n_nodes; i++) {
		kerf_node_free(c->nodes[i]->node);
		kerf_taints_clear(&c->nodes[i]->startup);
		h->free(h->ctx, c->nodes[i]);
	}
	h->free(h->ctx, c->nodes);
	for (size_t i = 0; i < c->n_claims; i++)
		kerf_nodeclaim_free(c->claims[i]);
	h->free(h->ctx, c->claims);
	for (size_t i = 0; i < c->n_workloads; i++)
		workload_free(h, c->workloads[i]);
	h->free(h->ctx, c->workloads);
	for (size_t i = 0; i < c->n_initial; i++)
		kerf_workload_list_free(c->initial[i]);
	h->free(h->ctx, c->initial);
	sim_script_clear(h, &c->script);
	sim_cluster_config_clear(h, &c->cfg);
	h->free(h->ctx, c);
}
