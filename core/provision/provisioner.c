/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provisioner.c - the provisioning controller: Karpenter's batcher, NodeClaim
 * launch and lifecycle around one prov_run() per batch.
 *
 * Pods are kept as copies of what the cluster delivered.  A pod is waiting
 * when it is pending, unbound, marked Unschedulable by the scheduler, not a
 * DaemonSet's and not nominated to a NodeClaim still on its way.  A waiting
 * pod that no batch has refused yet opens or extends the batch; refused pods
 * ride along in every later batch but do not open one, so a pod that can
 * never fit does not keep the loop busy.
 *
 * A NodeClaim's pods are nominated to it until it is Initialized: they do
 * not go into another batch, and the claim's room counts as existing
 * capacity, so a second batch fills it before it launches anything new.
 */
#include <config.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>
#include <kerf/taints.h>
#include <kerf/workload.h>

#include "ab.h"
#include "evq.h"
#include "host.h"
#include "log.h"
#include "pool.h"
#include "provision.h"
#include "provisioner.h"
#include "state.h"
#include "provisioner_int.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

static void packing_clear(struct pool_packing *pk);

const char *prov_err_text(const struct kerf_error *e, int rc)
{
	return e->message[0] ? e->message : kerf_strerror(rc);
}

kerf_mono_ms_t prov_now(const struct provisioner *p)
{
	return host_clock_mono_ms(p->cfg.clock);
}

kerf_wall_ms_t prov_wall(const struct provisioner *p)
{
	return host_clock_wall_ms(p->cfg.clock);
}

bool prov_pod_waiting(const struct pod_rec *r)
{
	const struct kerf_pod *p = r->pod;
	return p->phase == KERF_POD_PENDING && !p->node_name && p->unschedulable && !p->daemonset &&
	       !p->meta->deletion_ms && !r->nominated;
}

void prov_batch_touch(struct provisioner *p, kerf_mono_ms_t now)
{
	if (!p->batch_open) {
		p->batch_open = true;
		p->batch_first_ms = now;
	}
	p->batch_last_ms = now;
}

/* Pods nominated to c go back to the batcher: c is ready for them, or gone. */
void prov_release_pods(struct provisioner *p, const struct claim_rec *c)
{
	kerf_mono_ms_t now = prov_now(p);
	for (size_t i = 0; i < p->st->n_pods; i++) {
		struct pod_rec *r = p->st->pods[i];
		if (r->nominated != c)
			continue;
		r->nominated = NULL;
		r->refused = false;
		if (prov_pod_waiting(r))
			prov_batch_touch(p, now);
	}
}

void prov_capacity_changed(struct provisioner *p)
{
	kerf_mono_ms_t now = prov_now(p);
	for (size_t i = 0; i < p->st->n_pods; i++) {
		struct pod_rec *r = p->st->pods[i];
		if (!r->refused)
			continue;
		r->refused = false;
		if (prov_pod_waiting(r))
			prov_batch_touch(p, now);
	}
}

ssize_t prov_pool_index(const struct provisioner *p, const char *name)
{
	uintptr_t i = (uintptr_t)hmap_get_str(&p->pool_index, name);

	return i && !p->pools[i - 1].deleted ? (ssize_t)(i - 1) : -1;
}

/* Karpenter's generateName suffix: five characters no word can be spelled with. */
char *prov_claim_name(struct provisioner *p, const char *pool)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	struct strbuf name;
	for (;;) {
		sb_init(&name);
		sb_printf(&name, "%s-", pool);
		for (int i = 0; i < 5; i++) {
			/* xorshift64*: cheap, and the same seed gives the same names. */
			p->rng ^= p->rng >> 12;
			p->rng ^= p->rng << 25;
			p->rng ^= p->rng >> 27;
			uint64_t r = p->rng * 0x2545f4914f6cdd1dull;
			char ch = alphabet[(r >> 33) % (sizeof(alphabet) - 1)];
			sb_append(&name, &ch, 1);
		}
		if (!state_claim_by_name(p->st, name.buf) &&
		    !state_observed_claim(p->st, name.buf) &&
		    strset_find(&p->names_on_instances, name.buf) < 0)
			return sb_detach(&name);
		sb_free(&name);
	}
}

/* ---------------------------------------------------------- decision log */

static const char *pool_name(const struct provisioner *p, const struct claim_rec *c)
{
	return p->pools[c->pool].np->meta->name;
}

/* What a NodeClaim is, as both its batch's line and its launched event give it. */
void prov_claim_fields(const struct provisioner *p, json_t *o, const struct claim_rec *c)
{
	json_object_set_new(o, "nodepool", json_string(pool_name(p, c)));
	json_object_set_new(o, "packer", c->packer ? json_string(c->packer) : json_null());
	json_object_set_new(o, "instance_type", json_string(c->type_name));
	json_object_set_new(o, "zone", json_string(c->zone));
	json_object_set_new(o, "capacity_type",
			    json_string(kerf_capacity_type_name(c->capacity_type)));
	json_object_set_new(o, "price_micro_usd_per_hour", json_integer(c->price));
}

/* A pod's reasons as --report and the decision log give them: [{"nodepool", "reason"}]. */
static json_t *reasons_json(size_t n, const struct prov_reason *r)
{
	json_t *a = json_array();
	for (size_t k = 0; k < n; k++) {
		json_t *why = json_object();
		json_object_set_new(why, "nodepool",
				    r[k].nodepool ? json_string(r[k].nodepool) : json_null());
		json_object_set_new(why, "reason", json_string(r[k].text));
		json_array_append_new(a, why);
	}
	return a;
}

/* One lifecycle line: {"time_ms", "event", "nodeclaim", "nodepool", ...}. */
void prov_claim_event(struct provisioner *p, const char *event, const struct claim_rec *c)
{
	kerf_mono_ms_t now = prov_now(p);
	if (!p->cfg.decision_log)
		return;
	json_t *o = decision_log_line(p->cfg.decision_log);
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "nodeclaim", json_string(c->claim->meta->name));
	if (strcmp(event, "launched") == 0 || strcmp(event, "relaunched") == 0) {
		prov_claim_fields(p, o, c);
		json_object_set_new(o, "provider_id",
				    c->claim->provider_id ? json_string(c->claim->provider_id)
							  : json_null());
	} else {
		json_object_set_new(o, "nodepool", json_string(pool_name(p, c)));
		/* How long the step took from launch: the A/B comparison's startup latency. */
		json_object_set_new(o, "since_launch_ms", json_integer(now - c->launched_ms));
		if (c->node_name)
			json_object_set_new(o, "node", json_string(c->node_name));
		if (c->gone) {
			/*
			 * Its termination: the drain's length, pods evicted, evictions
			 * refused, pods deleted when its grace period ran out.
			 */
			json_object_set_new(o, "drain_ms", json_integer(c->drain_ms));
			json_object_set_new(o, "evicted", json_integer((json_int_t)c->evicted));
			json_object_set_new(o, "evictions_refused",
					    json_integer((json_int_t)c->refused));
			json_object_set_new(o, "pods_deleted",
					    json_integer((json_int_t)c->deleted));
		}
	}
	decision_log_emit(p->cfg.decision_log, o);
}

void prov_launch_failed_event(struct provisioner *p, const struct claim_rec *c, const char *why)
{
	if (!p->cfg.decision_log)
		return;
	json_t *o = decision_log_line(p->cfg.decision_log);
	json_object_set_new(o, "event", json_string("launch-failed"));
	json_object_set_new(o, "nodeclaim", json_string(c->claim->meta->name));
	/* The offering it was planned in: what a capacity failure leaves out for a while. */
	prov_claim_fields(p, o, c);
	json_object_set_new(o, "reason", json_string(why));
	decision_log_emit(p->cfg.decision_log, o);
}

static json_t *resources_json(const struct kerf_resources *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "cpu_millicores", json_integer(r->cpu_millis));
	json_object_set_new(o, "memory_bytes", json_integer(r->memory_bytes));
	return o;
}

/* -------------------------------------------------------------- lifetime */

struct provisioner *provisioner_new(const struct provisioner_config *cfg)
{
	struct provisioner *p = xcalloc(1, sizeof(*p));
	p->cfg = *cfg;
	p->st = cfg->state;
	p->dflt = (struct prov_packer){cfg->packer, cfg->packer_inst, cfg->packer_name};
	p->ab = ab_new();
	/* xorshift needs a state that is not zero. */
	p->rng = cfg->name_seed ? cfg->name_seed : 0x9e3779b97f4a7c15ull;
	return p;
}

static void pool_rec_clear(struct pool_rec *pr)
{
	kerf_nodepool_free(pr->np);
	kerf_node_class_free(pr->nc);
	kerf_instance_type_list_free(pr->types);
	free(pr->available);
	free(pr->status_written);
	packing_clear(&pr->packing);
}

void provisioner_free(struct provisioner *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_pools; i++)
		pool_rec_clear(&p->pools[i]);
	hmap_clear(&p->pool_index, NULL);
	free(p->pools);
	for (size_t i = 0; i < p->n_classes; i++)
		kerf_node_class_free(p->classes[i]);
	free(p->classes);
	for (size_t i = 0; i < p->n_unavail; i++) {
		free(p->unavail[i].type);
		free(p->unavail[i].zone);
	}
	free(p->unavail);
	strset_clear(&p->names_on_instances);
	prov_terminations_free(p);
	for (size_t i = p->events_head; i < p->n_events; i++)
		prov_event_clear(&p->events[i]);
	free(p->events);
	free(p->tts);
	ab_free(p->ab);
	free(p);
}

/*
 * The pool's nodeClassRef names a class nobody has (Karpenter holds it not
 * Ready).  A NodePool a cluster plugin built without a reference takes the
 * provider's defaults.
 */
static bool class_missing(const struct pool_rec *pr)
{
	return pr->np->node_class_ref->name && !pr->nc;
}

void provisioner_start(struct provisioner *p)
{
	for (size_t i = 0; i < p->n_pools; i++)
		if (!class_missing(&p->pools[i]))
			prov_fetch_types(p, i);
	prov_gc(p);
}

size_t provisioner_pods_scheduled(const struct provisioner *p)
{
	return p->pods_scheduled;
}

size_t provisioner_in_flight(const struct provisioner *p)
{
	return p->in_flight + p->events_busy;
}

/* A NodePool's nodeClassRef names nc: name, kind and group alike. */
static bool refers_to(const struct kerf_node_class_ref *ref, const struct kerf_node_class *nc)
{
	return ref->name && nc->ref->name && strcmp(ref->name, nc->ref->name) == 0 &&
	       (!ref->kind || !nc->ref->kind || strcmp(ref->kind, nc->ref->kind) == 0) &&
	       (!ref->group || !nc->ref->group || strcmp(ref->group, nc->ref->group) == 0);
}

/* The pool's class changed: its instance types are fetched again for the new one. */
static void set_pool_class(struct pool_rec *pr, const struct kerf_node_class *nc)
{
	kerf_node_class_free(pr->nc);
	pr->nc = kerf_node_class_copy(nc);
	pr->types_at = INT64_MIN / 2;
}

static void node_class_set(struct provisioner *p, const struct kerf_node_class *nc)
{
	size_t i = 0;
	while (i < p->n_classes && !(refers_to(p->classes[i]->ref, nc)))
		i++;
	if (i == p->n_classes) {
		xgrow(p->classes, p->cap_classes, p->n_classes + 1);
		p->n_classes++;
	} else {
		kerf_node_class_free(p->classes[i]);
	}
	p->classes[i] = kerf_node_class_copy(nc);
	for (size_t k = 0; k < p->n_pools; k++)
		if (refers_to(p->pools[k].np->node_class_ref, nc))
			set_pool_class(&p->pools[k], nc);
}

void provisioner_add_node_class(struct provisioner *p, const struct kerf_node_class *nc)
{
	node_class_set(p, nc);
}

/* ------------------------------------------------------ packers per NodePool */

static void packing_clear(struct pool_packing *pk)
{
	free(pk->selection);
	free(pk->packers);
	free(pk->weights);
	memset(pk, 0, sizeof(*pk));
}

static const struct prov_packer *packer_named(const struct provisioner *p, const char *name)
{
	for (size_t i = 0; i < p->cfg.n_packers; i++)
		if (strcmp(p->cfg.packers[i].name, name) == 0)
			return &p->cfg.packers[i];
	return p->dflt.name && strcmp(p->dflt.name, name) == 0 ? &p->dflt : NULL;
}

static int not_loaded(const struct provisioner *p, const struct kerf_nodepool *np,
		      const char *where, const char *name, struct kerf_error *err)
{
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < p->cfg.n_packers; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", p->cfg.packers[i].name);
	if (!p->cfg.n_packers)
		sb_printf(&sb, "%s", p->dflt.name ? p->dflt.name : "none");
	int rc = kerf_error_set(err, KERF_E_CONFIG,
				"NodePool/%s: %s: packer \"%s\" is not loaded (loaded packers: %s)",
				np->meta->name, where, name, sb.buf);
	sb_free(&sb);
	return rc;
}

void prov_selection_of(const struct cfg_nodepool *pools, size_t n_pools,
		       const struct kerf_nodepool *np, struct prov_selection *out)
{
	const struct cfg_nodepool *cn = NULL;

	for (size_t i = 0; i < n_pools; i++)
		if (strcmp(pools[i].name, np->meta->name) == 0)
			cn = &pools[i];
	out->packer = kerf_labels_get(&np->meta->annotations, PROVISIONER_PACKER_ANNOTATION);
	out->packer_at = "metadata.annotations[" PROVISIONER_PACKER_ANNOTATION "]";
	out->shadow = kerf_labels_get(&np->meta->annotations, PROVISIONER_SHADOW_ANNOTATION);
	out->shadow_at = "metadata.annotations[" PROVISIONER_SHADOW_ANNOTATION "]";
	if (!out->packer && cn && cn->packer) {
		out->packer = cn->packer;
		out->packer_at = "kerf.yaml nodepools.packer";
	}
	if (!out->shadow && cn && cn->packer_shadow) {
		out->shadow = cn->packer_shadow;
		out->shadow_at = "kerf.yaml nodepools.packer_shadow";
	}
}

/* The packer selection of a NodePool: an annotation, else kerf.yaml, else the default. */
static int resolve_packing(const struct provisioner *p, const struct kerf_nodepool *np,
			   struct pool_packing *out, struct kerf_error *err)
{
	struct prov_selection ps;
	const char *sel, *shadow, *sel_at, *shadow_at;
	struct cfg_packer_weight *w = NULL;
	size_t n = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	prov_selection_of(p->cfg.pool_packing, p->cfg.n_pool_packing, np, &ps);
	sel = ps.packer;
	sel_at = ps.packer_at;
	shadow = ps.shadow;
	shadow_at = ps.shadow_at;
	if (!sel)
		sel = p->dflt.name ? p->dflt.name : "";
	struct kerf_error perr;
	kerf_error_clear(&perr);
	if (cfg_packer_spec_parse(sel, &n, &w, &perr) != 0)
		return kerf_error_set(err, KERF_E_CONFIG, "NodePool/%s: %s: %s", np->meta->name,
				      sel_at, perr.message);
	out->packers = xcalloc(n, sizeof(*out->packers));
	out->weights = xcalloc(n, sizeof(*out->weights));
	for (size_t i = 0; i < n && rc == 0; i++) {
		out->packers[i] = packer_named(p, w[i].name);
		out->weights[i] = w[i].weight;
		if (!out->packers[i])
			rc = not_loaded(p, np, sel_at, w[i].name, err);
	}
	out->n = n;
	cfg_packer_weights_free(n, w);
	if (rc == 0 && shadow) {
		out->shadow = packer_named(p, shadow);
		if (!out->shadow)
			rc = not_loaded(p, np, shadow_at, shadow, err);
		else if (n == 1 && out->shadow == out->packers[0])
			rc =
			    kerf_error_set(err, KERF_E_CONFIG,
					   "NodePool/%s: %s: the shadow \"%s\" is the packer "
					   "itself; a shadow is a different packer to compare with",
					   np->meta->name, shadow_at, shadow);
	}
	if (rc) {
		packing_clear(out);
		return rc;
	}
	out->selection = xstrdup(sel);
	out->mode = out->shadow ? "shadow" : n > 1 ? "split" : "single";
	return 0;
}

static int nodepool_set(struct provisioner *p, const struct kerf_nodepool *np,
			struct kerf_error *err)
{
	struct pool_packing packing;
	int rc = resolve_packing(p, np, &packing, err);
	if (rc)
		return rc;
	uintptr_t at = (uintptr_t)hmap_get_str(&p->pool_index, np->meta->name);
	size_t i = at ? at - 1 : p->n_pools;
	struct pool_rec *pr;
	if (i == p->n_pools) {
		xgrow(p->pools, p->cap_pools, p->n_pools + 1);
		pr = &p->pools[p->n_pools++];
		memset(pr, 0, sizeof(*pr));
		pr->types_at = INT64_MIN / 2;
	} else {
		pr = &p->pools[i];
		kerf_nodepool_free(pr->np);
		packing_clear(&pr->packing);
	}
	pr->np = kerf_nodepool_copy(np);
	/* The key is the pool's own copy of its name, replaced with it. */
	hmap_set_str(&p->pool_index, pr->np->meta->name, (void *)(uintptr_t)(i + 1));
	pr->packing = packing;
	pr->deleted = false;
	for (size_t k = 0; k < p->n_classes; k++)
		if (refers_to(np->node_class_ref, p->classes[k]) &&
		    (!pr->nc || !refers_to(pr->np->node_class_ref, pr->nc)))
			set_pool_class(pr, p->classes[k]);
	return 0;
}

int provisioner_add_nodepool(struct provisioner *p, const struct kerf_nodepool *np,
			     struct kerf_error *err)
{
	return nodepool_set(p, np, err);
}

/* ---------------------------------------------------------------- events */

static void pod_event(struct provisioner *p, kerf_event_type type, const struct kerf_pod *pod)
{
	if (type == KERF_EVENT_DELETED)
		return;
	struct pod_rec *r = state_pod(p->st, pod);
	if (!r)
		return;
	if (pod->node_name) {
		r->nominated = NULL;
		r->refused = false;
		if (!r->bound_seen && !pod->daemonset) {
			r->bound_seen = true;
			p->pods_scheduled++;
			/* Both wall times: the pod's creation is an instant the cluster wrote. */
			kerf_wall_ms_t wall = prov_wall(p);
			if (pod->meta->creation_ms > 0 && wall >= pod->meta->creation_ms) {
				xgrow(p->tts, p->cap_tts, p->n_tts + 1);
				p->tts[p->n_tts++] = wall - pod->meta->creation_ms;
			}
		}
	}
	if (prov_pod_waiting(r) && !r->refused)
		prov_batch_touch(p, prov_now(p));
}

static void node_event(struct provisioner *p, kerf_event_type type, const struct kerf_node *node)
{
	struct claim_rec *c = state_claim_of_node(p->st, node);
	if (!c)
		return;
	if (type == KERF_EVENT_DELETED) {
		if (c->registered && !c->deleting) {
			/* Its instance went away under it: the claim ends with it. */
			log_info(COMPONENT, "NodeClaim %s: its node %s was deleted",
				 c->claim->meta->name, node->meta->name);
			prov_terminate(p, c, "node-deleted", false);
		}
		return;
	}
	if (node->meta->deletion_ms && !c->deleting) {
		/* Deleted by hand; the finalizer holds it until it is drained. */
		log_info(COMPONENT, "NodeClaim %s: its node %s is being deleted",
			 c->claim->meta->name, node->meta->name);
		prov_terminate(p, c, "node-deleted", true);
		return;
	}
	if (!c->node_name)
		c->node_name = xstrdup(node->meta->name);
}

static void nodeclaim_event(struct provisioner *p, kerf_event_type type,
			    const struct kerf_nodeclaim *nc)
{
	struct claim_rec *c = state_claim_by_name(p->st, nc->meta->name);
	if (type == KERF_EVENT_DELETED) {
		if (c && !c->deleting && !c->launching) {
			/* Someone deleted it: Karpenter's finalizer would terminate its instance.
			 */
			log_info(COMPONENT, "NodeClaim %s was deleted in the cluster",
				 nc->meta->name);
			prov_terminate(p, c, "deleted", false);
		}
		return;
	}
	if (!c) {
		/* Before the caches synced a previous run's claims are taken over all at once. */
		if (p->adopted_scan)
			prov_adopt(p, nc);
		return;
	}
	/* Our own write coming back: later writes go on top of it. */
	if (nc->meta->resource_version && !c->updating) {
		free(c->claim->meta->resource_version);
		c->claim->meta->resource_version = xstrdup(nc->meta->resource_version);
	}
	if (nc->meta->uid && !c->claim->meta->uid)
		c->claim->meta->uid = xstrdup(nc->meta->uid);
	if (nc->meta->deletion_ms && !c->deleting) {
		log_info(COMPONENT, "NodeClaim %s is being deleted in the cluster", nc->meta->name);
		prov_terminate(p, c, "deleted", true);
	}
}

static void nodepool_event(struct provisioner *p, kerf_event_type type,
			   const struct kerf_nodepool *np)
{
	/*
	 * Gone, or going (a finalizer holds it): whether it came from the
	 * cluster or from kerf.yaml, which the cluster stands for, nothing
	 * more is launched for it, and the disruption controller ends its
	 * NodeClaims.
	 */
	if (type == KERF_EVENT_DELETED || np->meta->deletion_ms) {
		ssize_t i = prov_pool_index(p, np->meta->name);
		if (i >= 0) {
			p->pools[i].deleted = true;
			log_info(COMPONENT,
				 "NodePool %s deleted: no more launches for it, its NodeClaims end",
				 np->meta->name);
		}
		return;
	}
	struct kerf_error err = KERF_ERROR_INIT;
	if (nodepool_set(p, np, &err) != 0)
		log_error(COMPONENT, "%s", err.message);
}

void provisioner_on_object(struct provisioner *p, kerf_event_type type, kerf_object_kind kind,
			   const void *object)
{
	if (type == KERF_EVENT_SYNCED || !object)
		return;
	switch (kind) {
	case KERF_OBJ_POD:
		pod_event(p, type, object);
		break;
	case KERF_OBJ_NODE:
		node_event(p, type, object);
		break;
	case KERF_OBJ_NODECLAIM:
		nodeclaim_event(p, type, object);
		break;
	case KERF_OBJ_NODEPOOL:
		nodepool_event(p, type, object);
		break;
	case KERF_OBJ_NODE_CLASS:
		if (type != KERF_EVENT_DELETED)
			node_class_set(p, object);
		break;
	case KERF_OBJ_DAEMONSET:
		break;
	}
}

void provisioner_on_instance(struct provisioner *p, const struct kerf_instance_event *ev)
{
	struct claim_rec *c = ev->provider_id ? state_claim_by_pid(p->st, ev->provider_id) : NULL;
	const char *why = ev->reason ? ev->reason : "no reason given";
	if (!c) {
		log_debug(COMPONENT, "instance event for %s, which no NodeClaim owns: %s",
			  ev->provider_id ? ev->provider_id : "(no ID)", why);
		return;
	}
	switch (ev->type) {
	case KERF_INSTANCE_INTERRUPTED:
		/* The cloud takes it back in minutes: drain it now, as Karpenter does. */
		log_warn(COMPONENT, "NodeClaim %s: instance %s interrupted (%s): draining it",
			 c->claim->meta->name, ev->provider_id, why);
		prov_terminate(p, c, "interrupted", true);
		break;
	case KERF_INSTANCE_TERMINATED:
		log_warn(COMPONENT, "NodeClaim %s: instance %s terminated (%s)",
			 c->claim->meta->name, ev->provider_id, why);
		prov_terminate(p, c, "instance-terminated", false);
		break;
	case KERF_INSTANCE_RETIRING:
		log_info(COMPONENT, "NodeClaim %s: instance %s should be replaced (%s)",
			 c->claim->meta->name, ev->provider_id, why);
		prov_claim_event(p, "retiring", c);
		break;
	}
}

/* ----------------------------------------------------------------- batch */

struct entry_pods {
	size_t n, cap;
	const struct kerf_pod **pods;
};

struct batch {
	size_t n_pods, cap_pods;
	struct pod_rec **recs;
	const struct kerf_pod **pods;
	size_t n_existing, cap_existing;
	struct prov_existing *existing;
	struct entry_pods *entry_pods;
	struct claim_rec **entry_claim; /* NULL: a node kerf does not own */
	struct kerf_resources *entry_capacity;
	size_t n_ds, cap_ds;
	struct kerf_pod **ds;
	struct prov_pool *pools;
};

static void batch_free(struct batch *b)
{
	free(b->recs);
	free(b->pods);
	for (size_t i = 0; i < b->n_existing; i++)
		free(b->entry_pods[i].pods);
	free(b->existing);
	free(b->entry_pods);
	free(b->entry_claim);
	free(b->entry_capacity);
	for (size_t i = 0; i < b->n_ds; i++)
		kerf_pod_free(b->ds[i]);
	free(b->ds);
	free(b->pools);
}

static size_t add_entry(struct batch *b)
{
	size_t cap = b->cap_existing;
	xgrow(b->existing, b->cap_existing, b->n_existing + 1);
	if (cap != b->cap_existing) {
		b->entry_pods = xrealloc(b->entry_pods, b->cap_existing * sizeof(*b->entry_pods));
		b->entry_claim =
		    xrealloc(b->entry_claim, b->cap_existing * sizeof(*b->entry_claim));
		b->entry_capacity =
		    xrealloc(b->entry_capacity, b->cap_existing * sizeof(*b->entry_capacity));
	}
	size_t i = b->n_existing++;
	memset(&b->existing[i], 0, sizeof(b->existing[i]));
	memset(&b->entry_pods[i], 0, sizeof(b->entry_pods[i]));
	b->entry_claim[i] = NULL;
	return i;
}

const struct kerf_instance_type *prov_find_type(const struct kerf_instance_type_list *l,
						const char *name)
{
	for (size_t i = 0; l && name && i < l->n; i++)
		if (strcmp(l->items[i]->name, name) == 0)
			return l->items[i];
	return NULL;
}

/* Nodes and NodeClaims still launching, with the pods bound or nominated to each. */
static void build_existing(struct provisioner *p, struct batch *b, struct hmap *by_node)
{
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		if (c->gone || c->deleting)
			continue;
		const struct node_rec *nr = state_node_by_pid(p->st, c->claim->provider_id);
		/*
		 * A claim whose node registered and is gone, or whose instance is
		 * still being looked for after a restart, is no room to count on.
		 */
		if ((c->registered && !nr) || c->checking)
			continue;
		size_t e = add_entry(b);
		struct prov_existing *x = &b->existing[e];
		const struct kerf_instance_type *t =
		    prov_find_type(p->pools[c->pool].types, c->type_name);
		c->entry = e;
		b->entry_claim[e] = c;
		x->nodepool = p->pools[c->pool].np->meta->name;
		x->instance_type = c->type_name;
		x->zone = c->zone;
		x->capacity_type = c->capacity_type;
		x->capacity = t ? t->capacity : c->claim->capacity;
		if (nr) {
			x->name = nr->node->meta->name;
			x->labels = &nr->node->meta->labels;
			/* Karpenter ignores startup and lifecycle taints when it counts on a node.
			 */
			x->taints = &c->claim->taints;
			x->allocatable = nr->node->allocatable;
			x->unschedulable = nr->node->unschedulable;
			hmap_set_str(by_node, nr->node->meta->name, (void *)(uintptr_t)(e + 1));
		} else {
			x->name = c->claim->meta->name;
			x->labels = &c->labels;
			x->taints = &c->claim->taints;
			x->allocatable = t ? t->allocatable : c->claim->allocatable;
		}
	}
	for (size_t i = 0; i < p->st->n_nodes; i++) {
		const struct kerf_node *n = p->st->nodes[i]->node;
		if (state_claim_of_node(p->st, n))
			continue;
		size_t e = add_entry(b);
		struct prov_existing *x = &b->existing[e];
		x->name = n->meta->name;
		x->nodepool = kerf_labels_get(&n->meta->labels, LABEL_NODEPOOL);
		x->instance_type =
		    kerf_labels_get(&n->meta->labels, "node.kubernetes.io/instance-type");
		x->zone = kerf_labels_get(&n->meta->labels, LABEL_ZONE);
		x->labels = &n->meta->labels;
		x->taints = &n->taints;
		x->capacity = n->capacity;
		x->allocatable = n->allocatable;
		x->unschedulable = n->unschedulable || !n->ready;
		hmap_set_str(by_node, n->meta->name, (void *)(uintptr_t)(e + 1));
	}
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct pod_rec *r = p->st->pods[i];
		size_t e;
		if (r->pod->node_name) {
			uintptr_t v = (uintptr_t)hmap_get_str(by_node, r->pod->node_name);
			if (!v || r->pod->phase == KERF_POD_SUCCEEDED ||
			    r->pod->phase == KERF_POD_FAILED)
				continue;
			e = v - 1;
		} else if (r->nominated) {
			e = r->nominated->entry;
		} else {
			continue;
		}
		struct entry_pods *ep = &b->entry_pods[e];
		xgrow(ep->pods, ep->cap, ep->n + 1);
		ep->pods[ep->n++] = r->pod;
	}
	for (size_t e = 0; e < b->n_existing; e++) {
		b->existing[e].n_pods = b->entry_pods[e].n;
		b->existing[e].pods = b->entry_pods[e].pods;
	}
}

/*
 * The overhead a DaemonSet puts on a new node: a copy of its pod, not
 * bound, without the hostname term the DaemonSet controller pins each copy
 * to its node with.
 */
static void add_daemonset(struct batch *b, const struct kerf_pod *pod)
{
	struct kerf_pod *t = kerf_pod_copy(pod);
	free(t->node_name);
	t->node_name = NULL;
	t->daemonset = true;
	bool any = false;
	for (size_t k = 0; k < t->n_required_terms; k++) {
		struct kerf_requirements *rq = t->required_terms[k];
		size_t w = 0;
		for (size_t j = 0; j < rq->n; j++) {
			if (strcmp(rq->items[j]->key, LABEL_HOSTNAME) == 0) {
				kerf_requirement_free(rq->items[j]);
				continue;
			}
			rq->items[w++] = rq->items[j];
		}
		rq->n = w;
		any |= w > 0;
	}
	if (!any) {
		for (size_t k = 0; k < t->n_required_terms; k++)
			kerf_requirements_clear(t->required_terms[k]);
		free(t->required_terms);
		t->required_terms = NULL;
		t->n_required_terms = 0;
	}
	xgrow(b->ds, b->cap_ds, b->n_ds + 1);
	b->ds[b->n_ds++] = t;
}

/*
 * One pod template per DaemonSet.  From the DaemonSets themselves when the
 * cluster lists them, so a DaemonSet counts before any node runs its pods;
 * from a cluster that does not, one of each DaemonSet's pods stands for
 * it.
 */
static void build_daemonsets(struct provisioner *p, struct batch *b)
{
	if (p->st->ds_listed) {
		for (size_t i = 0; i < p->st->n_ds; i++)
			add_daemonset(b, p->st->ds[i].tmpl);
		return;
	}
	struct hmap seen = {0};
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct kerf_pod *pod = p->st->pods[i]->pod;
		if (!pod->daemonset || !pod->meta->owner_name ||
		    hmap_get_str(&seen, pod->meta->owner_name))
			continue;
		hmap_set_str(&seen, pod->meta->owner_name, (void *)pod);
		add_daemonset(b, pod);
	}
	hmap_clear(&seen, NULL);
}

/* The simulation's input for a batch built by the functions above (the first n_live pools). */
static struct prov_input batch_input(const struct provisioner *p, const struct batch *b,
				     size_t n_live)
{
	return (struct prov_input){.n_pods = b->n_pods,
				   .pods = b->pods,
				   .n_pools = n_live,
				   .pools = b->pools,
				   .n_existing = b->n_existing,
				   .existing = b->existing,
				   .n_daemonsets = b->n_ds,
				   .daemonsets = (const struct kerf_pod *const *)b->ds,
				   .packer = p->cfg.packer,
				   .packer_inst = p->cfg.packer_inst,
				   .packer_name = p->cfg.packer_name};
}

/* What the claim's node will be labelled with, known before it exists. */
void prov_launching_labels(struct claim_rec *c, const struct kerf_instance_type *t)
{
	kerf_labels_copy(&c->labels, &c->claim->meta->labels);
	for (size_t i = 0; t && i < t->requirements.n; i++) {
		const struct kerf_requirement *rq = t->requirements.items[i];
		if (rq->op == KERF_OP_IN && rq->n_values == 1 &&
		    kerf_labels_set(&c->labels, rq->key, rq->values[0]))
			abort();
	}
	if ((c->zone && kerf_labels_set(&c->labels, LABEL_ZONE, c->zone)) ||
	    kerf_labels_set(&c->labels, LABEL_CAPACITY_TYPE,
			    kerf_capacity_type_name(c->capacity_type)) ||
	    kerf_labels_set(&c->labels, LABEL_HOSTNAME, c->claim->meta->name))
		abort();
}

/*
 * The pool's offerings as the provider gave them, less those a launch
 * found out of capacity within the last PROVISIONER_UNAVAILABLE_TTL_MS.
 * The list is kerf's own copy, so marking it is no one else's business.
 */
static void apply_unavailable(struct provisioner *p, struct pool_rec *pr, kerf_mono_ms_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < pr->types->n; i++) {
		struct kerf_instance_type *t = pr->types->items[i];
		for (size_t o = 0; o < t->n_offerings; o++, k++) {
			struct kerf_offering *of = t->offerings[o];
			of->available = pr->available[k];
			for (size_t u = 0; of->available && u < p->n_unavail; u++) {
				const struct unavailable *un = &p->unavail[u];
				if (un->until > now && un->ct == of->capacity_type && of->zone &&
				    strcmp(un->zone, of->zone) == 0 &&
				    strcmp(un->type, t->name) == 0)
					of->available = false;
			}
		}
	}
}

static void expire_unavailable(struct provisioner *p, kerf_mono_ms_t now)
{
	size_t w = 0;
	for (size_t i = 0; i < p->n_unavail; i++) {
		if (p->unavail[i].until <= now) {
			free(p->unavail[i].type);
			free(p->unavail[i].zone);
			continue;
		}
		p->unavail[w++] = p->unavail[i];
	}
	p->n_unavail = w;
}

/* How long a ready node stays held for the pods a batch left to the scheduler there. */
static int64_t nomination_window(const struct provisioner *p)
{
	int64_t w = 2 * p->cfg.batch_max_ms;
	return w < 10000 ? 10000 : w;
}

static void nominate(struct batch *b, const size_t *pods, size_t n, struct claim_rec *c)
{
	for (size_t i = 0; i < n; i++) {
		struct pod_rec *r = b->recs[pods[i]];
		r->nominated = c;
		r->refused = false;
		/* An earlier batch's refusal no longer says where it stands. */
		state_reasons_free(r->n_reasons, r->reasons);
		r->n_reasons = 0;
		r->reasons = NULL;
	}
}

/*
 * The batch found room for the pod on a node that is ready, yet the
 * scheduler left it pending: nothing to launch, and its one reason says
 * where it would fit, so the summary does not call it unbatched.
 */
static void left_to_scheduler(struct pod_rec *r, const struct prov_existing *ex)
{
	struct strbuf sb;

	r->refused = true;
	state_reasons_free(r->n_reasons, r->reasons);
	sb_init(&sb);
	sb_printf(&sb, "room on ready node %s, where the scheduler has not bound it",
		  ex->name ? ex->name : "(unnamed)");
	r->n_reasons = 1;
	r->reasons = xcalloc(1, sizeof(*r->reasons));
	r->reasons[0].nodepool = xstrdup_or_null(ex->nodepool);
	r->reasons[0].text = sb_detach(&sb);
	log_debug(COMPONENT, "pod %s: %s", r->key, r->reasons[0].text);
}

kerf_price_t prov_offering_price(const struct kerf_instance_type *t, const char *zone,
				 kerf_capacity_type ct, kerf_price_t fallback)
{
	for (size_t o = 0; t && o < t->n_offerings; o++)
		if (t->offerings[o]->capacity_type == ct && zone && t->offerings[o]->zone &&
		    strcmp(t->offerings[o]->zone, zone) == 0)
			return t->offerings[o]->price;
	return fallback;
}

/*
 * The record of one planned claim, launching: it holds its pods'
 * nominations and counts as capacity in later batches from now on, while a
 * worker creates it.
 */
static struct claim_rec *plan_claim(struct provisioner *p, struct batch *b, struct prov_claim *pc,
				    bool nominate_pods)
{
	struct pool_rec *pr = &p->pools[pc->pool];
	struct claim_rec *c = xcalloc(1, sizeof(*c));
	c->claim = pc->claim;
	pc->claim = NULL; /* the record owns it now */
	free(c->claim->meta->name);
	c->claim->meta->name = prov_claim_name(p, pr->np->meta->name);
	c->pool = pc->pool;
	c->packer = pr->chosen ? pr->chosen->name : p->cfg.packer_name;
	c->type_name = xstrdup(pc->type->name);
	c->zone = xstrdup_or_null(pc->zone);
	c->capacity_type = pc->capacity_type;
	c->price = pc->price;
	c->launched_ms = prov_now(p);
	c->launching = true;
	c->claim->capacity = pc->type->capacity;
	c->claim->allocatable = pc->type->allocatable;
	prov_launching_labels(c, pc->type);
	/* What its NodePool's template was: a change to it drifts the claim. */
	char hash[32];
	prov_pool_hash(pr->np, hash, sizeof(hash));
	if (kerf_labels_set(&c->claim->meta->annotations, ANNOTATION_POOL_HASH, hash) ||
	    kerf_labels_set(&c->claim->meta->annotations, ANNOTATION_POOL_HASH_VERSION,
			    POOL_HASH_VERSION))
		abort();
	state_claim_add(p->st, c);
	if (nominate_pods)
		nominate(b, pc->pods, pc->n_pods, c);
	return c;
}

/* Few enough that a worker is back within seconds under the kube plugin's 5 a second. */
#define EVENTS_PER_JOB 16

void prov_event_clear(struct prov_event *e)
{
	free(e->namespace_);
	free(e->name);
	free(e->uid);
	free(e->message);
}

void prov_event_queue(struct provisioner *p, kerf_object_kind kind, const struct kerf_meta *m,
		      const char *type, const char *reason, const char *message)
{
	if (!p->cfg.cluster_events || !p->cfg.cluster->emit_event)
		return;
	xgrow(p->events, p->cap_events, p->n_events + 1);
	struct prov_event *e = &p->events[p->n_events++];
	p->events_queued++;
	e->kind = kind;
	e->namespace_ = xstrdup_or_null(m->namespace_);
	e->name = xstrdup(m->name);
	e->uid = xstrdup_or_null(m->uid);
	e->message = xstrdup(message);
	e->type = type;
	e->reason = reason;
}

struct events_job {
	struct provisioner *p;
	size_t n, failed;
	struct prov_event ev[EVENTS_PER_JOB];
	struct kerf_error err; /* the first failure */
	int err_rc;
};

static void events_done(void *arg)
{
	struct events_job *j = arg;
	struct provisioner *p = j->p;
	p->events_busy = false;
	p->events_sent += j->n - j->failed;
	p->events_failed += j->failed;
	/* An event is worth no more than a debug line: the log said it already. */
	if (j->err_rc)
		log_debug(COMPONENT, "%zu event%s not recorded: %s", j->failed,
			  j->failed == 1 ? "" : "s", prov_err_text(&j->err, j->err_rc));
	for (size_t i = 0; i < j->n; i++)
		prov_event_clear(&j->ev[i]);
	free(j);
}

static void events_run(void *arg)
{
	struct events_job *j = arg;
	const struct provisioner *p = j->p;
	struct kerf_event *ev = kerf_event_new();
	for (size_t i = 0; i < j->n; i++) {
		struct kerf_error err = KERF_ERROR_INIT;
		ev->kind = j->ev[i].kind;
		ev->namespace_ = j->ev[i].namespace_;
		ev->name = j->ev[i].name;
		ev->uid = j->ev[i].uid;
		ev->type = j->ev[i].type;
		ev->reason = j->ev[i].reason;
		ev->message = j->ev[i].message;
		int rc = p->cfg.cluster->emit_event(p->cfg.cluster_inst, ev, &err);
		if (rc) {
			j->failed++;
			if (!j->err_rc) {
				j->err_rc = rc;
				j->err = err;
			}
		}
	}
	kerf_event_free(ev);
	evq_push_note(p->cfg.evq, events_done, j);
}

void prov_events_flush(struct provisioner *p)
{
	if (p->events_busy || p->events_head == p->n_events)
		return;
	struct events_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	while (j->n < EVENTS_PER_JOB && p->events_head < p->n_events)
		j->ev[j->n++] = p->events[p->events_head++];
	if (p->events_head == p->n_events)
		p->events_head = p->n_events = 0;
	/*
	 * Not prov_submit: events in flight are waited for at shutdown
	 * (provisioner_in_flight) but hold up no run (provisioner_settled),
	 * so a simulation's time is not stretched by them.
	 */
	p->events_busy = true;
	pool_submit(p->cfg.workers, events_run, j);
}

static void refuse(struct provisioner *p, struct pod_rec *r, const struct prov_unschedulable *u)
{
	r->refused = true;
	state_reasons_free(r->n_reasons, r->reasons);
	r->n_reasons = u->n_reasons;
	r->reasons = xcalloc(u->n_reasons + 1, sizeof(*r->reasons));
	for (size_t k = 0; k < u->n_reasons; k++) {
		r->reasons[k].nodepool = xstrdup_or_null(u->reasons[k].nodepool);
		r->reasons[k].text = xstrdup(u->reasons[k].text);
	}
	struct strbuf msg;
	sb_init(&msg);
	for (size_t k = 0; k < u->n_reasons; k++) {
		const struct prov_reason *why = &u->reasons[k];
		if (!r->logged)
			log_info(COMPONENT, "pod %s cannot be provisioned for: %s: %s", r->key,
				 why->nodepool ? why->nodepool : "(no NodePool)", why->text);
		sb_printf(&msg, "%s%s: %s", k ? "; " : "",
			  why->nodepool ? why->nodepool : "(no NodePool)", why->text);
	}
	r->logged = true;
	const char *text = msg.len ? msg.buf : "no NodePool can launch a node for it";
	/* One event per pod and reason: a batch that refuses it alike again sends nothing. */
	uint64_t h = str_fnv1a(text) | 1;
	if (h != r->event_hash) {
		r->event_hash = h;
		prov_event_queue(p, KERF_OBJ_POD, r->pod->meta, "Warning", "FailedScheduling",
				 text);
	}
	sb_free(&msg);
}

/* Pods of a claim by their owner ("namespace/owner"; a bare pod stands for itself). */
static json_t *owners_json(const struct batch *b, const struct prov_claim *pc)
{
	json_t *o = json_object();
	for (size_t k = 0; k < pc->n_pods; k++) {
		const struct kerf_pod *pod = b->pods[pc->pods[k]];
		struct strbuf key;
		sb_init(&key);
		sb_printf(&key, "%s/%s", pod->meta->namespace_ ? pod->meta->namespace_ : "default",
			  pod->meta->owner_name ? pod->meta->owner_name : pod->meta->name);
		json_t *n = json_object_get(o, key.buf);
		json_object_set_new(o, key.buf, json_integer(n ? json_integer_value(n) + 1 : 1));
		sb_free(&key);
	}
	return o;
}

/* Microseconds are as fine as a solve time means anything. */
static double round_us(double ms)
{
	return (double)(int64_t)(ms * 1000.0 + 0.5) / 1000.0;
}

static json_t *stats_json(const struct prov_plan_stats *st, json_t *o)
{
	json_object_set_new(o, "packer", json_string(st->packer));
	json_object_set_new(o, "pods", json_integer((json_int_t)st->pods));
	json_object_set_new(o, "placed", json_integer((json_int_t)st->placed));
	json_object_set_new(o, "placed_new", json_integer((json_int_t)st->placed_new));
	json_object_set_new(o, "nodes", json_integer((json_int_t)st->nodes));
	json_object_set_new(o, "price_micro_usd_per_hour", json_integer(st->price));
	json_object_set_new(o, "requested", resources_json(&st->requested));
	json_object_set_new(o, "allocatable", resources_json(&st->allocatable));
	json_object_set_new(o, "solve_ms", json_real(round_us(st->solve_ms)));
	json_object_set_new(o, "work", json_integer(st->work));
	json_object_set_new(o, "hit_time_limit", json_boolean(st->hit_time_limit));
	json_object_set_new(o, "lower_bound_micro_usd_per_hour", json_integer(st->lower_bound));
	json_object_set_new(o, "optimal", json_boolean(st->optimal));
	return o;
}

/* Per NodePool of the batch: how it was packed, and what its shadow would have done. */
static json_t *nodepools_json(const struct provisioner *p, const struct prov_result *res)
{
	json_t *a = json_array();
	for (size_t i = 0; i < res->n_pool_stats; i++) {
		const struct prov_pool_stats *st = &res->pool_stats[i];
		const struct pool_packing *pk = &p->pools[st->pool].packing;
		json_t *o = json_object();
		json_object_set_new(o, "nodepool", json_string(p->pools[st->pool].np->meta->name));
		json_object_set_new(o, "mode", json_string(pk->mode));
		if (pk->n > 1)
			json_object_set_new(o, "selection", json_string(pk->selection));
		stats_json(&st->primary, o);
		if (st->has_shadow)
			json_object_set_new(o, "shadow", stats_json(&st->shadow, json_object()));
		json_array_append_new(a, o);
	}
	return a;
}

/*
 * The batch's line: what it was given and what it could not place, with
 * an entry per planned claim (claim_lines[i], for res->claims[i]) that
 * joins the line's "nodeclaims" once its launch is applied; the launches
 * that fail are left out.  reqs[i] is what the claim's pods request.
 */
static json_t *batch_line(struct provisioner *p, const struct batch *b,
			  const struct prov_result *res, struct claim_rec *const *made,
			  double solve_ms, json_t **claim_lines, struct kerf_resources *reqs)
{
	json_t *o = p->cfg.decision_log ? decision_log_line(p->cfg.decision_log) : json_object();
	json_t *unsched = json_array();
	size_t existing = 0;

	for (size_t i = 0; i < res->n_claims; i++) {
		const struct prov_claim *pc = &res->claims[i];
		json_t *j = json_object();
		json_object_set_new(j, "name", json_string(made[i]->claim->meta->name));
		json_object_set_new(j, "pods", json_integer((json_int_t)pc->n_pods));
		json_object_set_new(j, "owners", owners_json(b, pc));
		claim_lines[i] = j;
		memset(&reqs[i], 0, sizeof(reqs[i]));
		for (size_t k = 0; k < pc->n_pods; k++) {
			reqs[i].cpu_millis += b->pods[pc->pods[k]]->requests.cpu_millis;
			reqs[i].memory_bytes += b->pods[pc->pods[k]]->requests.memory_bytes;
		}
	}
	for (size_t i = 0; i < res->n_reused; i++)
		existing += res->reused[i].n_pods;
	for (size_t i = 0; i < res->n_unschedulable; i++) {
		const struct prov_unschedulable *u = &res->unschedulable[i];
		json_t *j = json_object();
		json_object_set_new(j, "pod", json_string(b->recs[u->pod]->key));
		json_object_set_new(j, "reasons", reasons_json(u->n_reasons, u->reasons));
		json_array_append_new(unsched, j);
	}
	json_object_set_new(o, "batch", json_integer((json_int_t)p->batches));
	json_object_set_new(o, "pods", json_integer((json_int_t)b->n_pods));
	json_object_set_new(o, "packer", json_string(p->cfg.packer_name));
	json_object_set_new(o, "solve_ms", json_real(round_us(solve_ms)));
	json_object_set_new(o, "existing_pods", json_integer((json_int_t)existing));
	json_object_set_new(o, "unschedulable", unsched);
	json_object_set_new(o, "nodepools", nodepools_json(p, res));
	return o;
}

void prov_batch_line_done(struct provisioner *p, json_t *o)
{
	struct kerf_error err;
	kerf_error_clear(&err);
	if (ab_add_line(p->ab, o, &err) != 0)
		log_warn(COMPONENT, "A/B figures: %s", err.message);
	if (p->cfg.decision_log)
		decision_log_emit(p->cfg.decision_log, o);
	else
		json_decref(o);
}

/* The names of the types the plan let the claim launch, for the capacity cache. */
static char **option_names(const struct prov_claim *pc)
{
	char **v = xcalloc(pc->n_options + 1, sizeof(*v));
	for (size_t i = 0; i < pc->n_options; i++)
		v[i] = xstrdup(pc->options[i]->name);
	return v;
}

/*
 * True when every NodePool has its instance types, fetching those that are
 * missing or old; a batch waits for the first fetch, and later ones use
 * the types they have while a refresh is on its way.
 */
static bool pools_ready(struct provisioner *p, kerf_mono_ms_t now)
{
	bool ready = true;
	for (size_t i = 0; i < p->n_pools; i++) {
		struct pool_rec *pr = &p->pools[i];
		/* A pool without its node class launches nothing, so needs no types. */
		if (pr->deleted || class_missing(pr))
			continue;
		if (now - pr->types_at >= PROVISIONER_TYPES_TTL_MS)
			prov_fetch_types(p, i);
		if (!pr->types)
			ready = false;
	}
	return ready;
}

/* Karpenter holds a NodePool whose nodeClassRef resolves to nothing not Ready. */
#define NOT_READY "nodeClassRef names no node class the cluster has: the NodePool is not Ready"

static int run_batch(struct provisioner *p, kerf_mono_ms_t now, struct kerf_error *err)
{
	struct batch b;
	struct hmap by_node = {0};
	struct prov_result *res = NULL;
	size_t n_live = 0;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	p->batch_open = false;
	for (size_t i = 0; i < p->st->n_pods; i++) {
		struct pod_rec *r = p->st->pods[i];
		if (!prov_pod_waiting(r))
			continue;
		xgrow(b.recs, b.cap_pods, b.n_pods + 1);
		b.recs[b.n_pods++] = r;
	}
	if (b.n_pods == 0) {
		batch_free(&b);
		return 0;
	}
	b.pods = xcalloc(b.n_pods, sizeof(*b.pods));
	for (size_t i = 0; i < b.n_pods; i++)
		b.pods[i] = b.recs[i]->pod;
	const char **keys = xcalloc(b.n_pods, sizeof(*keys));
	for (size_t i = 0; i < b.n_pods; i++)
		keys[i] = b.recs[i]->key;
	uint64_t batch_hash = prov_batch_hash(keys, b.n_pods);
	free(keys);
	/* A deleted NodePool takes no part; the packer sees the live ones, indexed as it expects.
	 */
	size_t *pool_of = xcalloc(p->n_pools + 1, sizeof(*pool_of));
	b.pools = xcalloc(p->n_pools + 1, sizeof(*b.pools));
	for (size_t i = 0; i < p->n_pools; i++) {
		struct pool_rec *pr = &p->pools[i];
		if (pr->deleted)
			continue;
		if (pr->types)
			apply_unavailable(p, pr, now);
		pr->chosen = pr->packing.packers[prov_split_pick(
		    pr->np->meta->name, batch_hash, pr->packing.weights, pr->packing.n)];
		pool_of[n_live] = i;
		b.pools[n_live++] =
		    (struct prov_pool){.nodepool = pr->np,
				       .types = pr->types,
				       .class_selectors = p->cfg.provider->class_selectors,
				       .packer = pr->chosen,
				       .shadow = pr->packing.shadow,
				       .not_ready = class_missing(pr) ? NOT_READY : NULL};
	}
	build_existing(p, &b, &by_node);
	build_daemonsets(p, &b);

	struct prov_input in = batch_input(p, &b, n_live);
	p->batches++;
	/* Real time, not the host clock: a solve takes no time on the virtual clock. */
	int64_t t0 = now_mono_ns();
	rc = prov_run(&in, &res, err);
	double solve_ms = (double)(now_mono_ns() - t0) / 1e6;
	if (rc == 0) {
		for (size_t i = 0; i < res->n_claims; i++)
			res->claims[i].pool = pool_of[res->claims[i].pool];
		for (size_t i = 0; i < res->n_pool_stats; i++)
			res->pool_stats[i].pool = pool_of[res->pool_stats[i].pool];
		log_info(COMPONENT,
			 "batch %zu: %zu pod%s, %zu new NodeClaim%s, %zu on existing capacity, "
			 "%zu unschedulable",
			 p->batches, b.n_pods, b.n_pods == 1 ? "" : "s", res->n_claims,
			 res->n_claims == 1 ? "" : "s", res->n_reused, res->n_unschedulable);
		for (size_t i = 0; i < res->n_reused; i++) {
			const struct prov_reuse *u = &res->reused[i];
			struct claim_rec *c = b.entry_claim[u->existing];
			if (c && !c->initialized) {
				nominate(&b, u->pods, u->n_pods, c);
			} else {
				if (c)
					c->nominated_until = now + nomination_window(p);
				for (size_t k = 0; k < u->n_pods; k++)
					left_to_scheduler(b.recs[u->pods[k]],
							  &in.existing[u->existing]);
			}
		}
		for (size_t i = 0; i < res->n_unschedulable; i++)
			refuse(p, b.recs[res->unschedulable[i].pod], &res->unschedulable[i]);
		size_t n = res->n_claims;
		struct claim_rec **made = xcalloc(n + 1, sizeof(*made));
		char ***options = xcalloc(n + 1, sizeof(*options));
		json_t **lines = xcalloc(n + 1, sizeof(*lines));
		struct kerf_resources *reqs = xcalloc(n + 1, sizeof(*reqs));
		for (size_t i = 0; i < n; i++) {
			made[i] = plan_claim(p, &b, &res->claims[i], true);
			options[i] = option_names(&res->claims[i]);
		}
		json_t *line = batch_line(p, &b, res, made, solve_ms, lines, reqs);
		prov_launch(p, n, made, options, line, lines, reqs);
		free(made);
		free(options);
		free(lines);
		free(reqs);
	}
	prov_result_free(res);
	free(pool_of);
	hmap_clear(&by_node, NULL);
	batch_free(&b);
	return rc;
}

/* ------------------------------------------------------------------ drift */

static uint64_t hash_str(uint64_t h, const char *s)
{
	/* The terminating NUL too, so ("ab", "c") and ("a", "bc") differ. */
	return fnv1a_update(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static uint64_t hash_taints(uint64_t h, const struct kerf_taints *t)
{
	for (size_t i = 0; i < t->n; i++) {
		h = hash_str(h, t->items[i]->key);
		h = hash_str(h, t->items[i]->value);
		h = fnv1a_update(h, &t->items[i]->effect, sizeof(t->items[i]->effect));
	}
	return fnv1a_update(h, "|", 1);
}

void prov_pool_hash(const struct kerf_nodepool *np, char *out, size_t len)
{
	uint64_t h = FNV1A_OFFSET;
	const struct kerf_labels *maps[] = {&np->template_labels, &np->template_annotations};
	for (size_t m = 0; m < 2; m++) {
		for (size_t i = 0; i < maps[m]->n; i++) {
			h = hash_str(h, maps[m]->items[i]->key);
			h = hash_str(h, maps[m]->items[i]->value);
		}
		h = fnv1a_update(h, "|", 1);
	}
	h = hash_taints(h, &np->taints);
	h = hash_taints(h, &np->startup_taints);
	h = hash_str(h, np->node_class_ref->group);
	h = hash_str(h, np->node_class_ref->kind);
	h = hash_str(h, np->node_class_ref->name);
	h = fnv1a_update(h, &np->expire_after_ms, sizeof(np->expire_after_ms));
	h = fnv1a_update(h, &np->termination_grace_period_ms,
			 sizeof(np->termination_grace_period_ms));
	snprintf(out, len, "%" PRIu64, h);
}

/* --------------------------------------------------------- consolidation */

/* A pod a drain moves: not finished, not a DaemonSet's, not the kubelet's own. */
static bool moves(const struct kerf_pod *pod)
{
	return pod->phase != KERF_POD_SUCCEEDED && pod->phase != KERF_POD_FAILED &&
	       !pod->daemonset &&
	       !(pod->meta->owner_kind && strcmp(pod->meta->owner_kind, "Node") == 0);
}

int prov_consolidate(struct provisioner *p, size_t n, struct claim_rec *const *victims, bool launch,
		     struct prov_consolidation *out, struct kerf_error *err)
{
	struct batch b;
	struct hmap by_node = {0};
	struct prov_result *res = NULL;
	size_t n_live = 0;
	kerf_mono_ms_t now = prov_now(p);

	kerf_price_t limit = out->old_price_limit;
	memset(&b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	out->old_price_limit = limit;
	for (size_t v = 0; v < n; v++) {
		struct pod_rec *const *pods;
		size_t k = victims[v]->node_name
			       ? state_pods_on_node(p->st, victims[v]->node_name, &pods)
			       : 0;
		for (size_t i = 0; i < k; i++) {
			if (!moves(pods[i]->pod))
				continue;
			xgrow(b.recs, b.cap_pods, b.n_pods + 1);
			b.recs[b.n_pods++] = pods[i];
		}
	}
	out->pods = b.n_pods;
	b.pods = xcalloc(b.n_pods + 1, sizeof(*b.pods));
	for (size_t i = 0; i < b.n_pods; i++)
		b.pods[i] = b.recs[i]->pod;
	size_t *pool_of = xcalloc(p->n_pools + 1, sizeof(*pool_of));
	b.pools = xcalloc(p->n_pools + 1, sizeof(*b.pools));
	for (size_t i = 0; i < p->n_pools; i++) {
		struct pool_rec *pr = &p->pools[i];
		if (pr->deleted || !pr->types)
			continue;
		apply_unavailable(p, pr, now);
		if (!pr->chosen)
			pr->chosen = pr->packing.packers[0];
		pool_of[n_live] = i;
		b.pools[n_live++] =
		    (struct prov_pool){.nodepool = pr->np,
				       .types = pr->types,
				       .class_selectors = p->cfg.provider->class_selectors,
				       .packer = pr->chosen};
	}
	for (size_t v = 0; v < n; v++)
		victims[v]->entry = SIZE_MAX;
	build_existing(p, &b, &by_node);
	/* The candidates' nodes are out: their pods are the ones being placed. */
	for (size_t v = 0; v < n; v++) {
		if (victims[v]->entry == SIZE_MAX) {
			/* Not counted as capacity now (its instance is being looked for): no move.
			 */
			free(pool_of);
			hmap_clear(&by_node, NULL);
			batch_free(&b);
			return 0;
		}
		struct prov_existing *x = &b.existing[victims[v]->entry];
		x->unschedulable = true;
		x->n_pods = 0;
	}
	build_daemonsets(p, &b);

	struct prov_input in = batch_input(p, &b, n_live);
	int rc = prov_run(&in, &res, err);
	if (rc == 0) {
		out->fits = res->n_unschedulable == 0;
		out->n_new = res->n_claims;
		for (size_t i = 0; i < res->n_claims; i++) {
			res->claims[i].pool = pool_of[res->claims[i].pool];
			out->new_price += res->claims[i].price;
		}
		if (res->n_claims == 1) {
			const struct prov_claim *pc = &res->claims[0];
			out->new_type = pc->type->name;
			out->new_capacity_type = pc->capacity_type;
			for (size_t i = 0; i < pc->n_options; i++) {
				const struct kerf_instance_type *t = pc->options[i];
				out->cheaper_types +=
				    prov_offering_price(t, pc->zone, pc->capacity_type, INT64_MAX) <
				    out->old_price_limit;
			}
		}
		if (launch && out->fits && res->n_claims == 1) {
			/* Not nominated: its pods are bound where they are until the drain. */
			struct claim_rec *c = plan_claim(p, &b, &res->claims[0], false);
			char **options = option_names(&res->claims[0]);
			out->launched = c;
			out->new_type = c->type_name;
			prov_launch(p, 1, &c, &options, NULL, NULL, NULL);
		}
	}
	prov_result_free(res);
	free(pool_of);
	hmap_clear(&by_node, NULL);
	batch_free(&b);
	return rc;
}

/* ------------------------------------------------------------- reconcile */

static int cmp_claim_name(const void *a, const void *b)
{
	const struct kerf_nodeclaim *x = *(const struct kerf_nodeclaim *const *)a;
	const struct kerf_nodeclaim *y = *(const struct kerf_nodeclaim *const *)b;
	return strcmp(x->meta->name, y->meta->name);
}

/* Every NodeClaim the cluster listed, in name order so a restart is reproducible. */
static void adopt_all(struct provisioner *p)
{
	const struct hmap *m = &p->st->observed_claims;
	const struct kerf_nodeclaim **v = xcalloc(m->n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			v[n++] = m->slots[i].val;
	qsort(v, n, sizeof(*v), cmp_claim_name);
	for (size_t i = 0; i < n; i++)
		prov_adopt(p, v[i]);
	free(v);
}

int provisioner_reconcile(struct provisioner *p, struct kerf_error *err)
{
	kerf_mono_ms_t now = prov_now(p);
	if (!p->adopted_scan) {
		/* The caches have synced: what the cluster holds of kerf's is taken over once. */
		p->adopted_scan = true;
		adopt_all(p);
		p->next_gc_ms = now + PROVISIONER_GC_GRACE_MS;
		p->next_drift_ms = now + PROVISIONER_DRIFT_INTERVAL_MS;
	}
	prov_lifecycle(p);
	prov_terminations(p);
	expire_unavailable(p, now);
	if (now >= p->next_gc_ms) {
		prov_gc(p);
		p->next_gc_ms = now + PROVISIONER_GC_INTERVAL_MS;
	}
	if (now >= p->next_drift_ms) {
		prov_drift(p);
		p->next_drift_ms = now + PROVISIONER_DRIFT_INTERVAL_MS;
	}
	bool ready = pools_ready(p, now) && p->listed;
	int rc = 0;
	if (ready && p->batch_open &&
	    (now - p->batch_last_ms >= p->cfg.batch_idle_ms ||
	     now - p->batch_first_ms >= p->cfg.batch_max_ms))
		rc = run_batch(p, now, err);
	prov_events_flush(p);
	return rc;
}

bool provisioner_settled(const struct provisioner *p)
{
	/* Events still queued do not hold a run up: they would stretch a simulation's time. */
	if (p->batch_open || p->in_flight || prov_terminating(p))
		return false;
	for (size_t i = 0; i < p->st->n_claims; i++)
		if (!p->st->claims[i]->gone && !p->st->claims[i]->initialized)
			return false;
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct pod_rec *r = p->st->pods[i];
		if (!r->pod->daemonset && !r->pod->node_name && r->pod->phase == KERF_POD_PENDING &&
		    !r->refused)
			return false;
	}
	return true;
}

kerf_mono_ms_t provisioner_next_ms(const struct provisioner *p)
{
	kerf_mono_ms_t next = INT64_MAX;
	/* Queued events go as soon as the last job of them is back. */
	if (!p->events_busy && p->events_head < p->n_events)
		return prov_now(p);
	if (p->batch_open) {
		kerf_mono_ms_t a = p->batch_last_ms + p->cfg.batch_idle_ms;
		kerf_mono_ms_t b = p->batch_first_ms + p->cfg.batch_max_ms;
		next = a < b ? a : b;
	}
	for (size_t i = 0; i < p->st->n_claims; i++) {
		const struct claim_rec *c = p->st->claims[i];
		if (!c->gone && !c->registered && !c->launching &&
		    c->launched_ms + PROVISIONER_REGISTRATION_TTL_MS < next)
			next = c->launched_ms + PROVISIONER_REGISTRATION_TTL_MS;
	}
	if (p->next_gc_ms < next)
		next = p->next_gc_ms;
	kerf_mono_ms_t drains = prov_terminations_next_ms(p);
	return drains < next ? drains : next;
}

static size_t pods_pending(const struct provisioner *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct kerf_pod *pod = p->st->pods[i]->pod;
		n += !pod->daemonset && !pod->node_name && pod->phase == KERF_POD_PENDING;
	}
	return n;
}

void provisioner_status(const struct provisioner *p, struct provisioner_status *out)
{
	memset(out, 0, sizeof(*out));
	out->pods_pending = pods_pending(p);
	out->nodes = p->st->n_nodes;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		const struct claim_rec *c = p->st->claims[i];
		if (c->gone)
			continue;
		out->price_per_hour += c->price;
		out->claims_launching += !c->initialized;
	}
}

/* ---------------------------------------------------------------- report */

struct type_count {
	const char *type;
	kerf_capacity_type ct;
	size_t n;
};

struct figures {
	size_t scheduled, pending, launched, nodes;
	size_t n_types;
	struct type_count *types;
	kerf_price_t price_per_hour;
	double total_cost;
	double cpu_util, mem_util;
	int64_t p50, p90, p99, max;
	double seconds;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_type(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	int c = strcmp(x->type, y->type);
	return c ? c : (int)x->ct - (int)y->ct;
}

/* Nearest-rank percentile of sorted samples. */
static int64_t percentile(const int64_t *v, size_t n, unsigned pct)
{
	if (n == 0)
		return 0;
	size_t rank = (n * pct + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

static void figures(const struct provisioner *p, int64_t start, int64_t now, struct figures *f)
{
	memset(f, 0, sizeof(*f));
	f->scheduled = p->pods_scheduled;
	f->pending = pods_pending(p);
	f->nodes = p->st->n_nodes;
	f->seconds = (double)(now - start) / 1000.0;
	f->types = xcalloc(p->st->n_claims + 1, sizeof(*f->types));
	for (size_t i = 0; i < p->st->n_claims; i++) {
		const struct claim_rec *c = p->st->claims[i];
		int64_t end = c->gone ? c->ended_ms : now;
		/* Ended before the provider made its instance: no node ran, nothing was paid. */
		if (c->gone && c->launching)
			continue;
		f->launched++;
		f->total_cost +=
		    (double)c->price / 1e6 * (double)(end - c->launched_ms) / 3600000.0;
		if (!c->gone)
			f->price_per_hour += c->price;
		size_t k = 0;
		while (k < f->n_types && (strcmp(f->types[k].type, c->type_name) != 0 ||
					  f->types[k].ct != c->capacity_type))
			k++;
		if (k == f->n_types)
			f->types[f->n_types++] =
			    (struct type_count){c->type_name, c->capacity_type, 0};
		f->types[k].n++;
	}
	qsort(f->types, f->n_types, sizeof(*f->types), cmp_type);

	double cpu_req = 0, cpu_alloc = 0, mem_req = 0, mem_alloc = 0;
	for (size_t i = 0; i < p->st->n_nodes; i++) {
		cpu_alloc += (double)p->st->nodes[i]->node->allocatable.cpu_millis;
		mem_alloc += (double)p->st->nodes[i]->node->allocatable.memory_bytes;
	}
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct kerf_pod *pod = p->st->pods[i]->pod;
		if (!pod->node_name || !hmap_get_str(&p->st->node_map, pod->node_name) ||
		    pod->phase == KERF_POD_SUCCEEDED || pod->phase == KERF_POD_FAILED)
			continue;
		cpu_req += (double)pod->requests.cpu_millis;
		mem_req += (double)pod->requests.memory_bytes;
	}
	f->cpu_util = cpu_alloc > 0 ? cpu_req / cpu_alloc : 0;
	f->mem_util = mem_alloc > 0 ? mem_req / mem_alloc : 0;

	int64_t *s = xcalloc(p->n_tts + 1, sizeof(*s));
	if (p->n_tts)
		memcpy(s, p->tts, p->n_tts * sizeof(*s));
	qsort(s, p->n_tts, sizeof(*s), cmp_i64);
	f->p50 = percentile(s, p->n_tts, 50);
	f->p90 = percentile(s, p->n_tts, 90);
	f->p99 = percentile(s, p->n_tts, 99);
	f->max = p->n_tts ? s[p->n_tts - 1] : 0;
	free(s);
}

/* Pending pods grouped by their reasons, so a thousand identical pods read as one line. */
struct reason_group {
	char *text;
	size_t n;
	const char *example;
};

static void pending_groups(const struct provisioner *p, size_t *n_out, struct reason_group **out)
{
	size_t n = 0, cap = 0;
	struct reason_group *g = NULL;
	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct pod_rec *r = p->st->pods[i];
		if (r->pod->daemonset || r->pod->node_name || r->pod->phase != KERF_POD_PENDING)
			continue;
		struct strbuf sb;
		sb_init(&sb);
		for (size_t k = 0; k < r->n_reasons; k++)
			sb_printf(&sb, "%s%s: %s", k ? "; " : "",
				  r->reasons[k].nodepool ? r->reasons[k].nodepool : "(no NodePool)",
				  r->reasons[k].text);
		if (!r->n_reasons)
			sb_puts(&sb, r->nominated ? "waiting for its NodeClaim"
						  : "waiting for the next batch");
		size_t k = 0;
		while (k < n && strcmp(g[k].text, sb.buf) != 0)
			k++;
		if (k == n) {
			xgrow(g, cap, n + 1);
			g[n++] = (struct reason_group){sb_detach(&sb), 0, r->key};
		} else {
			sb_free(&sb);
		}
		g[k].n++;
	}
	*n_out = n;
	*out = g;
}

void provisioner_summary(const struct provisioner *p, FILE *f, int64_t start_ms, int64_t now_ms)
{
	struct figures fg;
	size_t n_groups;
	struct reason_group *groups;
	figures(p, start_ms, now_ms, &fg);
	pending_groups(p, &n_groups, &groups);

	fprintf(f, "\nSummary after %.0f s (%.2f h) of cluster time, %zu batch%s:\n", fg.seconds,
		fg.seconds / 3600.0, p->batches, p->batches == 1 ? "" : "es");
	fprintf(f, "  pods scheduled:     %zu\n", fg.scheduled);
	fprintf(f, "  pods pending:       %zu\n", fg.pending);
	for (size_t i = 0; i < n_groups; i++)
		fprintf(f, "    %zu pod%s (e.g. %s): %s\n", groups[i].n,
			groups[i].n == 1 ? "" : "s", groups[i].example, groups[i].text);
	fprintf(f, "  nodes launched:     %zu (%zu running at the end)\n", fg.launched, fg.nodes);
	for (size_t i = 0; i < fg.n_types; i++)
		fprintf(f, "    %4zu x %s %s\n", fg.types[i].n, fg.types[i].type,
			kerf_capacity_type_name(fg.types[i].ct));
	fprintf(f, "  cost per hour:      $%.4f\n", (double)fg.price_per_hour / 1e6);
	fprintf(f, "  total cost:         $%.4f\n", fg.total_cost);
	fprintf(f, "  utilisation:        cpu %.1f%%, memory %.1f%% (requested / allocatable)\n",
		fg.cpu_util * 100, fg.mem_util * 100);
	fprintf(f, "  time to schedule:   p50 %.1f s, p90 %.1f s, p99 %.1f s (%zu pods)\n",
		(double)fg.p50 / 1000, (double)fg.p90 / 1000, (double)fg.p99 / 1000, p->n_tts);
	if (p->disruption.decisions || p->pods_evicted || p->evictions_refused) {
		const struct disruption_figures *df = &p->disruption;
		fprintf(f,
			"  disruption:         %zu decision%s: %zu empty, %zu drifted, "
			"%zu underutilized, %zu expired; %zu pod%s moved, $%.4f/h saved\n",
			df->decisions, df->decisions == 1 ? "" : "s", df->nodes[DISRUPT_EMPTY],
			df->nodes[DISRUPT_DRIFTED], df->nodes[DISRUPT_UNDERUTILIZED],
			df->nodes[DISRUPT_EXPIRED], df->pods_moved, df->pods_moved == 1 ? "" : "s",
			(double)df->saved / 1e6);
		fprintf(
		    f,
		    "  evictions:          %zu pod%s evicted, %zu refused by a disruption budget\n",
		    p->pods_evicted, p->pods_evicted == 1 ? "" : "s", p->evictions_refused);
	}
	if (ab_has_comparison(p->ab)) {
		fprintf(f, "\nA/B packing (shadow and split NodePools):\n");
		ab_print(p->ab, f);
	}
	for (size_t i = 0; i < n_groups; i++)
		free(groups[i].text);
	free(groups);
	free(fg.types);
}

/* The report's "disruption": decisions, nodes by reason, pods moved and evicted, money saved. */
static json_t *disruption_json(const struct provisioner *p)
{
	static const char *const keys[DISRUPT_N_REASONS] = {"empty", "drifted", "underutilized",
							    "expired"};
	const struct disruption_figures *df = &p->disruption;
	json_t *o = json_object(), *by = json_object();
	json_object_set_new(o, "decisions", json_integer((json_int_t)df->decisions));
	for (size_t i = 0; i < DISRUPT_N_REASONS; i++)
		json_object_set_new(by, keys[i], json_integer((json_int_t)df->nodes[i]));
	json_object_set_new(o, "nodes_by_reason", by);
	json_object_set_new(o, "pods_moved", json_integer((json_int_t)df->pods_moved));
	json_object_set_new(o, "saved_micro_usd_per_hour", json_integer(df->saved));
	json_object_set_new(o, "pods_evicted", json_integer((json_int_t)p->pods_evicted));
	json_object_set_new(o, "evictions_refused", json_integer((json_int_t)p->evictions_refused));
	return o;
}

int provisioner_report(const struct provisioner *p, const char *path, int64_t start_ms,
		       int64_t now_ms, struct kerf_error *err)
{
	struct figures fg;
	figures(p, start_ms, now_ms, &fg);
	json_t *doc = json_object(), *pending = json_array(), *types = json_array();

	for (size_t i = 0; i < p->st->n_pods; i++) {
		const struct pod_rec *r = p->st->pods[i];
		if (r->pod->daemonset || r->pod->node_name || r->pod->phase != KERF_POD_PENDING)
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "pod", json_string(r->key));
		json_object_set_new(o, "reasons", reasons_json(r->n_reasons, r->reasons));
		json_array_append_new(pending, o);
	}
	for (size_t i = 0; i < fg.n_types; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "instance_type", json_string(fg.types[i].type));
		json_object_set_new(o, "capacity_type",
				    json_string(kerf_capacity_type_name(fg.types[i].ct)));
		json_object_set_new(o, "count", json_integer((json_int_t)fg.types[i].n));
		json_array_append_new(types, o);
	}
	json_t *pods = json_object(), *nodes = json_object(), *util = json_object(),
	       *tts = json_object();
	json_object_set_new(doc, "simulated_seconds", json_real(fg.seconds));
	json_object_set_new(doc, "batches", json_integer((json_int_t)p->batches));
	json_object_set_new(pods, "scheduled", json_integer((json_int_t)fg.scheduled));
	json_object_set_new(pods, "pending", json_integer((json_int_t)fg.pending));
	json_object_set_new(doc, "pods", pods);
	json_object_set_new(doc, "pending", pending);
	json_object_set_new(doc, "events",
			    json_pack("{s:I, s:I, s:I}", "queued", (json_int_t)p->events_queued,
				      "sent", (json_int_t)p->events_sent, "failed",
				      (json_int_t)p->events_failed));
	json_object_set_new(nodes, "launched", json_integer((json_int_t)fg.launched));
	json_object_set_new(nodes, "running", json_integer((json_int_t)fg.nodes));
	json_object_set_new(nodes, "by_type", types);
	json_object_set_new(doc, "nodes", nodes);
	json_object_set_new(doc, "cost_per_hour", json_real((double)fg.price_per_hour / 1e6));
	json_object_set_new(doc, "cost_per_hour_micro_usd", json_integer(fg.price_per_hour));
	json_object_set_new(doc, "total_cost", json_real(fg.total_cost));
	json_object_set_new(util, "cpu", json_real(fg.cpu_util));
	json_object_set_new(util, "memory", json_real(fg.mem_util));
	json_object_set_new(doc, "utilisation", util);
	json_object_set_new(tts, "samples", json_integer((json_int_t)p->n_tts));
	json_object_set_new(tts, "p50", json_real((double)fg.p50 / 1000));
	json_object_set_new(tts, "p90", json_real((double)fg.p90 / 1000));
	json_object_set_new(tts, "p99", json_real((double)fg.p99 / 1000));
	json_object_set_new(tts, "max", json_real((double)fg.max / 1000));
	json_object_set_new(doc, "time_to_schedule_seconds", tts);
	json_object_set_new(doc, "ab", ab_json(p->ab));
	json_object_set_new(doc, "disruption", disruption_json(p));
	free(fg.types);

	int rc = json_dump_file(doc, path,
				JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(doc);
	if (rc)
		return kerf_error_set(err, KERF_E_IO, "cannot write report %s", path);
	return 0;
}
