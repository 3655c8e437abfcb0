/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_write.c - what kerf writes to the API server.
 *
 * NodeClaims (karpenter.sh/v1) are created as Karpenter creates them: the
 * NodePool as owner (with its uid, blockOwnerDeletion), the
 * karpenter.sh/nodepool label, the finalizers kerf asks for
 * (karpenter.sh/termination), the requirements, taints, startup taints,
 * resource requests, expireAfter and terminationGracePeriod.  Their status
 * goes through the status subresource as a JSON merge patch: the
 * conditions Launched, Registered, Initialized and Ready with Karpenter's
 * reasons, providerID, nodeName, imageID, capacity and allocatable.
 *
 * Labels, finalizers, taints and cordon of claims and nodes are merge
 * patches too.  When the object kerf writes carries a resourceVersion,
 * the patch carries it as a precondition, so the API server answers 409
 * (KERF_E_CONFLICT) when the object changed meanwhile; the host then reads
 * the object again and retries.  Labels kerf drops are sent as null,
 * found from what the cache last saw.
 *
 * Pods leave through the eviction subresource (policy/v1 Eviction, or
 * v1beta1 where discovery finds no v1), so PodDisruptionBudgets hold: a
 * 429 is the budget's refusal, KERF_E_THROTTLED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

/* ------------------------------------------------------------- encoders */

static json_t *labels_json(const struct kerf_labels *l)
{
	json_t *o = json_object();
	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i]->key,
				    json_string(l->items[i]->value ? l->items[i]->value : ""));
	return o;
}

/* Labels of `l`, and null for each label of `old` (NULL: none known) that l lacks. */
static json_t *labels_patch(const struct kerf_labels *l, const struct kerf_meta *old)
{
	json_t *o = labels_json(l);
	for (size_t i = 0; old && i < old->labels.n; i++)
		if (!kerf_labels_get(l, old->labels.items[i]->key))
			json_object_set_new(o, old->labels.items[i]->key, json_null());
	return o;
}

static json_t *requirements_json(const struct kerf_requirements *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct kerf_requirement *q = r->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "key", json_string(q->key));
		json_object_set_new(o, "operator", json_string(kerf_operator_name(q->op)));
		if (q->n_values) {
			json_t *v = json_array();
			for (size_t k = 0; k < q->n_values; k++)
				json_array_append_new(v, json_string(q->values[k]));
			json_object_set_new(o, "values", v);
		}
		if (q->min_values > 0)
			json_object_set_new(o, "minValues", json_integer(q->min_values));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *taints_json(const struct kerf_taints *t)
{
	json_t *a = json_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct kerf_taint *x = t->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "key", json_string(x->key));
		if (x->value && *x->value)
			json_object_set_new(o, "value", json_string(x->value));
		json_object_set_new(o, "effect", json_string(kerf_effect_name(x->effect)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *quantity_json(int64_t v, int scale)
{
	char buf[64];
	if (kerf_quantity_format(v, scale, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "%lld%s", (long long)v, scale == 3 ? "m" : "");
	return json_string(buf);
}

static json_t *resources_json(const struct kerf_resources *r)
{
	json_t *o = json_object();
	if (r->present & KERF_RES_CPU)
		json_object_set_new(o, KERF_RESOURCE_CPU, quantity_json(r->cpu_millis, 3));
	if (r->present & KERF_RES_MEMORY)
		json_object_set_new(o, KERF_RESOURCE_MEMORY, quantity_json(r->memory_bytes, 0));
	if (r->present & KERF_RES_EPHEMERAL)
		json_object_set_new(o, KERF_RESOURCE_EPHEMERAL,
				    quantity_json(r->ephemeral_bytes, 0));
	if (r->present & KERF_RES_PODS)
		json_object_set_new(o, KERF_RESOURCE_PODS, quantity_json(r->pods, 0));
	for (uint32_t i = 0; i < r->n_ext && i < KERF_RESOURCES_EXT_MAX; i++)
		json_object_set_new(o, r->ext[i].name, quantity_json(r->ext[i].value, 0));
	return o;
}

static json_t *duration_json(int64_t ms)
{
	char buf[64];
	if (kerf_duration_format(ms, buf, sizeof(buf)) < 0)
		return json_string("Never");
	return json_string(buf);
}

static json_t *finalizers_json(const struct kerf_meta *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->n_finalizers; i++)
		json_array_append_new(a, json_string(m->finalizers[i]));
	return a;
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	kube_format_time(ms, buf, sizeof(buf));
	return json_string(buf);
}

/* The cached meta of a cluster-scoped object (a copy), NULL when not cached. */
static struct kerf_meta *cached_meta(struct kube *k, kerf_object_kind kind, const char *key)
{
	struct kube_informer *in = kube_informer_of(k, kind);
	struct kerf_meta *m = NULL;
	if (!in || !key)
		return NULL;
	pthread_mutex_lock(&in->lock);
	struct kube_entry *e = kube_cache_get(&in->cache, key);
	if (e)
		m = kerf_meta_copy(kerf_object_meta(kind, e->object));
	pthread_mutex_unlock(&in->lock);
	return m;
}

json_t *kube_nodeclaim_json(struct kube *k, const struct kerf_nodeclaim *c)
{
	json_t *o = json_object(), *md = json_object(), *spec = json_object();
	const char *np =
	    c->nodepool ? c->nodepool : kerf_labels_get(&c->meta->labels, "karpenter.sh/nodepool");

	json_object_set_new(o, "apiVersion", json_string("karpenter.sh/v1"));
	json_object_set_new(o, "kind", json_string("NodeClaim"));
	json_object_set_new(md, "name", json_string(c->meta->name));
	json_t *labels = labels_json(&c->meta->labels);
	if (np)
		json_object_set_new(labels, "karpenter.sh/nodepool", json_string(np));
	json_object_set_new(md, "labels", labels);
	if (c->meta->annotations.n)
		json_object_set_new(md, "annotations", labels_json(&c->meta->annotations));
	if (c->meta->n_finalizers)
		json_object_set_new(md, "finalizers", finalizers_json(c->meta));
	if (np) {
		struct kerf_meta *pool = cached_meta(k, KERF_OBJ_NODEPOOL, np);
		const char *uid = pool ? pool->uid : NULL;
		if (uid) {
			json_t *ref = json_object();
			json_object_set_new(ref, "apiVersion", json_string("karpenter.sh/v1"));
			json_object_set_new(ref, "kind", json_string("NodePool"));
			json_object_set_new(ref, "name", json_string(np));
			json_object_set_new(ref, "uid", json_string(uid));
			json_object_set_new(ref, "blockOwnerDeletion", json_true());
			json_t *refs = json_array();
			json_array_append_new(refs, ref);
			json_object_set_new(md, "ownerReferences", refs);
		}
		kerf_meta_free(pool);
	}
	json_object_set_new(o, "metadata", md);

	json_t *ref = json_object();
	const struct kerf_node_class_ref *r = c->node_class_ref;
	json_object_set_new(ref, "group", json_string(r->group ? r->group : ""));
	json_object_set_new(ref, "kind", json_string(r->kind ? r->kind : ""));
	json_object_set_new(ref, "name", json_string(r->name ? r->name : ""));
	json_object_set_new(spec, "nodeClassRef", ref);
	json_object_set_new(spec, "requirements", requirements_json(&c->requirements));
	if (c->taints.n)
		json_object_set_new(spec, "taints", taints_json(&c->taints));
	if (c->startup_taints.n)
		json_object_set_new(spec, "startupTaints", taints_json(&c->startup_taints));
	json_t *res = json_object();
	json_object_set_new(res, "requests", resources_json(&c->resource_requests));
	json_object_set_new(spec, "resources", res);
	json_object_set_new(spec, "expireAfter", duration_json(c->expire_after_ms));
	if (c->termination_grace_period_ms >= 0)
		json_object_set_new(spec, "terminationGracePeriod",
				    duration_json(c->termination_grace_period_ms));
	json_object_set_new(o, "spec", spec);
	return o;
}

static json_t *condition(const char *type, bool is_true, int64_t at_ms, const char *reason,
			 const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "status", json_string(is_true ? "True" : "Unknown"));
	json_object_set_new(o, "lastTransitionTime", time_json(at_ms));
	json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "message", json_string(message));
	return o;
}

/* The status subresource's merge patch: what kerf knows of the claim's lifecycle. */
static json_t *nodeclaim_status_json(const struct kerf_nodeclaim *c, int64_t now_ms)
{
	json_t *st = json_object(), *conds = json_array();
	int64_t created = c->meta->creation_ms ? c->meta->creation_ms : now_ms;
	bool launched = c->launched_ms > 0, registered = c->registered_ms > 0,
	     initialized = c->initialized_ms > 0;

	json_array_append_new(conds,
			      condition("Launched", launched, launched ? c->launched_ms : created,
					launched ? "Launched" : "AwaitingReconciliation",
					launched ? "" : "object is awaiting reconciliation"));
	json_array_append_new(
	    conds, condition("Registered", registered, registered ? c->registered_ms : created,
			     registered ? "Registered" : "AwaitingReconciliation",
			     registered ? "" : "object is awaiting reconciliation"));
	json_array_append_new(
	    conds, condition("Initialized", initialized, initialized ? c->initialized_ms : created,
			     initialized ? "Initialized" : "AwaitingReconciliation",
			     initialized ? "" : "object is awaiting reconciliation"));
	json_array_append_new(conds, condition("Ready", initialized,
					       initialized ? c->initialized_ms : created,
					       initialized ? "Ready" : "UnhealthyDependents",
					       initialized ? "" : "Initialized=Unknown"));
	json_object_set_new(st, "conditions", conds);
	if (c->provider_id)
		json_object_set_new(st, "providerID", json_string(c->provider_id));
	if (c->node_name)
		json_object_set_new(st, "nodeName", json_string(c->node_name));
	if (c->image_id)
		json_object_set_new(st, "imageID", json_string(c->image_id));
	if (c->capacity.present || c->capacity.n_ext)
		json_object_set_new(st, "capacity", resources_json(&c->capacity));
	if (c->allocatable.present || c->allocatable.n_ext)
		json_object_set_new(st, "allocatable", resources_json(&c->allocatable));
	if (c->last_pod_event_ms)
		json_object_set_new(st, "lastPodEventTime", time_json(c->last_pod_event_ms));
	json_t *o = json_object();
	json_object_set_new(o, "status", st);
	return o;
}

/* ------------------------------------------------------------- requests */

/*
 * Sends body (taken) to path and decodes the answer into *stored (when not
 * NULL) as an object of kind.  `what` names the write in messages.
 */
static int write_json(struct kube *k, const char *method, const char *path, json_t *body,
		      const char *content_type, kerf_object_kind kind, const char *what,
		      void **stored, struct kerf_error *err)
{
	const struct kerf_host *h = k->host;
	struct kerf_http_response *r = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (body && !text)
		abort();
	int rc = kube_do(k->client, method, path, text, content_type, false, &r, err);
	free(text);
	if (rc)
		return rc;
	if ((rc = kube_status_error(r, what, err)) == 0 && stored) {
		json_t *j = kube_json_parse(what, r->body, r->body_len, KUBE_MAX_OBJECT_BYTES, err);
		rc = j ? kube_decode(h, kind, what, j, stored, err) : KERF_E_PARSE;
		json_decref(j);
	}
	h->http_response_free(h->ctx, r);
	return rc;
}

#define MERGE_PATCH "application/merge-patch+json"

static void meta_precondition(json_t *md, const struct kerf_meta *m)
{
	if (m->resource_version && *m->resource_version)
		json_object_set_new(md, "resourceVersion", json_string(m->resource_version));
}

static bool has_status(const struct kerf_nodeclaim *c)
{
	return c->launched_ms || c->registered_ms || c->initialized_ms || c->provider_id ||
	       c->node_name;
}

static int patch_status(struct kube *k, const struct kerf_nodeclaim *claim,
			const char *resource_version, struct kerf_nodeclaim **stored,
			struct kerf_error *err)
{
	char path[512], what[300];
	json_t *body = nodeclaim_status_json(claim, k->host->wall_ms(k->host->ctx));
	if (resource_version) {
		json_t *md = json_object();
		json_object_set_new(md, "resourceVersion", json_string(resource_version));
		json_object_set_new(body, "metadata", md);
	}
	snprintf(path, sizeof(path), "/apis/karpenter.sh/v1/nodeclaims/%s/status",
		 claim->meta->name);
	snprintf(what, sizeof(what), "NodeClaim %s: status", claim->meta->name);
	return write_json(k, "PATCH", path, body, MERGE_PATCH, KERF_OBJ_NODECLAIM, what,
			  (void **)stored, err);
}

int kube_create_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
			  struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	struct kube *k = inst;
	struct kerf_nodeclaim *made = NULL;
	char what[300];

	if (!claim || !claim->meta || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "create_nodeclaim: no name");
	snprintf(what, sizeof(what), "create NodeClaim %s", claim->meta->name);
	int rc =
	    write_json(k, "POST", "/apis/karpenter.sh/v1/nodeclaims", kube_nodeclaim_json(k, claim),
		       NULL, KERF_OBJ_NODECLAIM, what, (void **)&made, err);
	if (rc == KERF_E_CONFLICT)
		return kerf_error_set(err, KERF_E_CONFLICT, "NodeClaim %s already exists",
				      claim->meta->name);
	if (rc)
		return rc;
	/* A claim created with a status (adopted, or resumed) gets it through the subresource. */
	if (has_status(claim)) {
		struct kerf_nodeclaim *after = NULL;
		rc = patch_status(k, claim, NULL, &after, err);
		if (rc == 0) {
			kerf_nodeclaim_free(made);
			made = after;
		}
	}
	if (rc == 0 && stored)
		*stored = made;
	else
		kerf_nodeclaim_free(made);
	return rc;
}

/* ------------------------------------------------------------ fake kubelet */

static int read_node(struct kube *k, const char *name, struct kerf_node **out,
		     struct kerf_error *err)
{
	const struct kerf_host *h = k->host;
	struct kerf_http_response *r = NULL;
	char path[512], what[300];

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	snprintf(what, sizeof(what), "get Node %s", name);
	int rc = kube_do(k->client, "GET", path, NULL, NULL, true, &r, err);
	if (rc)
		return rc;
	if ((rc = kube_status_error(r, what, err)) == 0) {
		json_t *j = kube_json_parse(what, r->body, r->body_len, KUBE_MAX_OBJECT_BYTES, err);
		rc = j ? kube_decode(h, KERF_OBJ_NODE, what, j, (void **)out, err) : KERF_E_PARSE;
		json_decref(j);
	}
	h->http_response_free(h->ctx, r);
	return rc;
}

/* The node's taints without the not-ready one; NULL when it has none. */
static json_t *taints_but_not_ready(const struct kerf_node *n)
{
	json_t *taints = json_array();
	bool found = false;

	for (size_t i = 0; i < n->taints.n; i++) {
		if (strcmp(n->taints.items[i]->key, "node.kubernetes.io/not-ready") == 0) {
			found = true;
			continue;
		}
		struct kerf_taints one = {.n = 1, .items = n->taints.items + i};
		json_t *a = taints_json(&one);
		json_array_extend(taints, a);
		json_decref(a);
	}
	if (!found) {
		json_decref(taints);
		return NULL;
	}
	return taints;
}

/*
 * The API server's admission gives every new Node the not-ready taint, and
 * the node lifecycle controller takes it off once the node reports Ready.
 * The fake kubelet's nodes are Ready from their create, and a bare API
 * server runs no such controller, so the fake kubelet takes it off itself.
 * kerf's registration writes the same node's taints meanwhile, so the patch
 * carries the resourceVersion it was computed from, and a conflict reads
 * the node again.
 */
#define CLEAR_NOT_READY_TRIES 8

static int fake_kubelet_clear_not_ready(struct kube *k, const struct kerf_node *made,
					struct kerf_error *err)
{
	struct kerf_node *fresh = NULL;
	const struct kerf_node *n = made;
	char path[512], what[300];
	int rc = 0;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", made->meta->name);
	snprintf(what, sizeof(what), "fake kubelet: Node %s ready", made->meta->name);
	for (int i = 0; i < CLEAR_NOT_READY_TRIES; i++) {
		json_t *taints = n->ready ? taints_but_not_ready(n) : NULL;
		if (!taints)
			break;
		json_t *body = json_object(), *md = json_object(), *spec = json_object();
		meta_precondition(md, n->meta);
		json_object_set_new(body, "metadata", md);
		json_object_set_new(spec, "taints", taints);
		json_object_set_new(body, "spec", spec);
		rc = write_json(k, "PATCH", path, body, MERGE_PATCH, KERF_OBJ_NODE, what, NULL,
				err);
		if (rc != KERF_E_CONFLICT)
			break;
		kerf_node_free(fresh);
		fresh = NULL;
		kerf_error_clear(err);
		if ((rc = read_node(k, made->meta->name, &fresh, err)) != 0)
			break;
		n = fresh;
	}
	kerf_node_free(fresh);
	return rc;
}

/*
 * With `fake_kubelet` (a simulated provider's instances have no kubelet),
 * a launched claim gets the Node its kubelet would register: named after
 * the claim, its providerID, the labels its requirements pin (one value
 * of In) and its own, its taints and karpenter.sh/unregistered (which
 * kerf's registration removes), capacity and allocatable, and Ready.
 * Startup taints are left out: no agent would ever remove them.  A node
 * of that name already there is left as it is.
 */
static int fake_kubelet_register(struct kube *k, const struct kerf_nodeclaim *c,
				 struct kerf_error *err)
{
	const char *name = c->node_name ? c->node_name : c->meta->name;
	char path[512], what[300];

	struct kerf_meta *have = cached_meta(k, KERF_OBJ_NODE, name);
	if (have) {
		kerf_meta_free(have);
		return 0;
	}
	json_t *o = json_object(), *md = json_object(), *spec = json_object();
	json_t *labels = labels_json(&c->meta->labels);
	for (size_t i = 0; i < c->requirements.n; i++) {
		const struct kerf_requirement *q = c->requirements.items[i];
		if (q->op == KERF_OP_IN && q->n_values == 1 && !json_object_get(labels, q->key))
			json_object_set_new(labels, q->key, json_string(q->values[0]));
	}
	if (c->nodepool)
		json_object_set_new(labels, "karpenter.sh/nodepool", json_string(c->nodepool));
	json_object_set_new(labels, "kubernetes.io/hostname", json_string(name));
	json_object_set_new(o, "apiVersion", json_string("v1"));
	json_object_set_new(o, "kind", json_string("Node"));
	json_object_set_new(md, "name", json_string(name));
	json_object_set_new(md, "labels", labels);
	json_object_set_new(o, "metadata", md);
	json_object_set_new(spec, "providerID", json_string(c->provider_id));
	json_t *taints = taints_json(&c->taints), *t = json_object();
	json_object_set_new(t, "key", json_string("karpenter.sh/unregistered"));
	json_object_set_new(t, "effect", json_string("NoExecute"));
	json_array_append_new(taints, t);
	json_object_set_new(spec, "taints", taints);
	json_object_set_new(o, "spec", spec);
	/* Status too, as a kubelet registers: a Node keeps it from its create. */
	int64_t now = k->host->wall_ms(k->host->ctx);
	json_t *st = json_object(), *conds = json_array(), *ready = json_object();
	json_object_set_new(st, "capacity", resources_json(&c->capacity));
	json_object_set_new(st, "allocatable", resources_json(&c->allocatable));
	json_object_set_new(ready, "type", json_string("Ready"));
	json_object_set_new(ready, "status", json_string("True"));
	json_object_set_new(ready, "reason", json_string("KubeletReady"));
	json_object_set_new(ready, "message", json_string("kerf's fake kubelet"));
	json_object_set_new(ready, "lastHeartbeatTime", time_json(now));
	json_object_set_new(ready, "lastTransitionTime", time_json(now));
	json_array_append_new(conds, ready);
	json_object_set_new(st, "conditions", conds);
	json_object_set_new(o, "status", json_incref(st));
	struct kerf_node *made = NULL;
	snprintf(what, sizeof(what), "fake kubelet: create Node %s", name);
	int rc = write_json(k, "POST", "/api/v1/nodes", o, NULL, KERF_OBJ_NODE, what,
			    (void **)&made, err);
	bool ready_now = rc == 0 && made->ready;
	if (ready_now)
		rc = fake_kubelet_clear_not_ready(k, made, err);
	kerf_node_free(made);
	made = NULL;
	if (rc == KERF_E_CONFLICT || ready_now || rc) {
		json_decref(st);
		return rc == KERF_E_CONFLICT ? 0 : rc;
	}
	/* A server that dropped the status on create takes it through the subresource. */
	json_t *body = json_object();
	json_object_set_new(body, "status", st);
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", name);
	snprintf(what, sizeof(what), "fake kubelet: Node %s status", name);
	rc = write_json(k, "PATCH", path, body, MERGE_PATCH, KERF_OBJ_NODE, what, (void **)&made,
			err);
	if (rc == 0 && made->ready)
		rc = fake_kubelet_clear_not_ready(k, made, err);
	kerf_node_free(made);
	return rc;
}

int kube_update_nodeclaim(void *inst, const struct kerf_nodeclaim *claim,
			  struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	struct kube *k = inst;
	struct kerf_nodeclaim *mid = NULL;
	char path[512], what[300];

	if (!claim || !claim->meta || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "update_nodeclaim: no name");
	struct kerf_meta *old = cached_meta(k, KERF_OBJ_NODECLAIM, claim->meta->name);
	json_t *body = json_object(), *md = json_object();
	json_object_set_new(md, "labels", labels_patch(&claim->meta->labels, old));
	json_object_set_new(md, "finalizers", finalizers_json(claim->meta));
	meta_precondition(md, claim->meta);
	json_object_set_new(body, "metadata", md);
	kerf_meta_free(old);
	snprintf(path, sizeof(path), "/apis/karpenter.sh/v1/nodeclaims/%s", claim->meta->name);
	snprintf(what, sizeof(what), "update NodeClaim %s", claim->meta->name);
	int rc = write_json(k, "PATCH", path, body, MERGE_PATCH, KERF_OBJ_NODECLAIM, what,
			    (void **)&mid, err);
	if (rc)
		return rc;
	/* The status carries the version the metadata patch produced: nothing came between. */
	rc = patch_status(k, claim,
			  claim->meta->resource_version ? mid->meta->resource_version : NULL,
			  stored, err);
	kerf_nodeclaim_free(mid);
	if (rc == 0 && k->fake_kubelet && claim->provider_id && claim->launched_ms &&
	    !claim->meta->deletion_ms) {
		struct kerf_error kerr = KERF_ERROR_INIT;
		/* The claim is written; a node that could not be made is tried at its next update.
		 */
		if (fake_kubelet_register(k, claim, &kerr))
			k->host->log(k->host->ctx, KERF_LOG_WARN, "%s", kerr.message);
	}
	return rc;
}

static int delete_path(struct kube *k, const char *path, const char *what, struct kerf_error *err)
{
	return write_json(k, "DELETE", path, NULL, NULL, KERF_OBJ_NODE, what, NULL, err);
}

int kube_delete_nodeclaim(void *inst, const char *name, struct kerf_error *err)
{
	char path[512], what[300];
	if (!name)
		return kerf_error_set(err, KERF_E_INVALID, "delete_nodeclaim: no name");
	snprintf(path, sizeof(path), "/apis/karpenter.sh/v1/nodeclaims/%s", name);
	snprintf(what, sizeof(what), "delete NodeClaim %s", name);
	return delete_path(inst, path, what, err);
}

int kube_update_node(void *inst, const struct kerf_node *node, struct kerf_node **stored,
		     struct kerf_error *err)
{
	struct kube *k = inst;
	char path[512], what[300];

	if (!node || !node->meta || !node->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "update_node: no name");
	struct kerf_meta *old = cached_meta(k, KERF_OBJ_NODE, node->meta->name);
	json_t *body = json_object(), *md = json_object(), *spec = json_object();
	json_object_set_new(md, "labels", labels_patch(&node->meta->labels, old));
	json_object_set_new(md, "finalizers", finalizers_json(node->meta));
	meta_precondition(md, node->meta);
	json_object_set_new(body, "metadata", md);
	json_object_set_new(spec, "taints", taints_json(&node->taints));
	json_object_set_new(spec, "unschedulable", json_boolean(node->unschedulable));
	json_object_set_new(body, "spec", spec);
	kerf_meta_free(old);
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", node->meta->name);
	snprintf(what, sizeof(what), "update Node %s", node->meta->name);
	return write_json(k, "PATCH", path, body, MERGE_PATCH, KERF_OBJ_NODE, what, (void **)stored,
			  err);
}

int kube_update_node_class_status(void *inst, const struct kerf_node_class *node_class,
				  const char *status, struct kerf_error *err)
{
	struct kube *k = inst;
	const struct kerf_node_class_ref *ref = node_class ? node_class->ref : NULL;
	const char *name = node_class && node_class->meta ? node_class->meta->name : NULL;
	char path[512], what[300];
	json_error_t jerr;
	json_t *st = NULL;

	if (!ref || !ref->group || !ref->kind || strcmp(ref->group, "karpenter.k8s.aws") != 0 ||
	    strcmp(ref->kind, "EC2NodeClass") != 0)
		return kerf_error_set(
		    err, KERF_E_UNSUPPORTED, "node class kind %s/%s: only EC2NodeClass is stored",
		    ref && ref->group ? ref->group : "", ref && ref->kind ? ref->kind : "");
	if (!name || !*name)
		return kerf_error_set(err, KERF_E_INVALID, "EC2NodeClass: no name");
	snprintf(what, sizeof(what), "EC2NodeClass %s: status", name);
	if (!status || !(st = json_loads(status, JSON_REJECT_DUPLICATES, &jerr)) ||
	    !json_is_object(st)) {
		json_decref(st);
		return kerf_error_set(err, KERF_E_INVALID, "%s: not a JSON object", what);
	}
	snprintf(path, sizeof(path), "/apis/karpenter.k8s.aws/v1/ec2nodeclasses/%s/status", name);
	return write_json(k, "PATCH", path, json_pack("{s:o}", "status", st), MERGE_PATCH,
			  KERF_OBJ_NODE_CLASS, what, NULL, err);
}

int kube_delete_node(void *inst, const char *name, struct kerf_error *err)
{
	char path[512], what[300];
	if (!name)
		return kerf_error_set(err, KERF_E_INVALID, "delete_node: no name");
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	snprintf(what, sizeof(what), "delete Node %s", name);
	return delete_path(inst, path, what, err);
}

int kube_evict_pod(void *inst, const char *namespace_, const char *name, struct kerf_error *err)
{
	struct kube *k = inst;
	char path[768], what[600];

	if (!name)
		return kerf_error_set(err, KERF_E_INVALID, "evict_pod: no name");
	const char *ns = namespace_ && *namespace_ ? namespace_ : "default";
	json_t *body = json_object(), *md = json_object();
	json_object_set_new(body, "apiVersion", json_string(k->eviction_version));
	json_object_set_new(body, "kind", json_string("Eviction"));
	json_object_set_new(md, "name", json_string(name));
	json_object_set_new(md, "namespace", json_string(ns));
	json_object_set_new(body, "metadata", md);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/eviction", ns, name);
	snprintf(what, sizeof(what), "evict pod %s/%s", ns, name);
	int rc = write_json(k, "POST", path, body, NULL, KERF_OBJ_POD, what, NULL, err);
	if (rc == KERF_E_THROTTLED)
		/* A PodDisruptionBudget says not now: a normal answer (kerf/cluster.h). */
		k->host->log(k->host->ctx, KERF_LOG_DEBUG, "%s", err ? err->message : what);
	if (rc == 0 && k->fake_kubelet) {
		/*
		 * An evicted pod only goes once its node's kubelet confirms its
		 * containers stopped.  The fake kubelet's nodes (every node kerf
		 * drains when it is on) run none, so it confirms at once, as a
		 * kubelet whose containers exit immediately would.
		 */
		json_t *opts = json_pack("{s:s, s:s, s:i}", "apiVersion", "v1", "kind",
					 "DeleteOptions", "gracePeriodSeconds", 0);
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
		snprintf(what, sizeof(what), "fake kubelet: end pod %s/%s", ns, name);
		rc = write_json(k, "DELETE", path, opts, NULL, KERF_OBJ_POD, what, NULL, err);
		if (rc == KERF_E_NOTFOUND)
			rc = 0;
	}
	return rc;
}

int kube_delete_pod(void *inst, const char *namespace_, const char *name, const char *uid,
		    int64_t grace_period_s, struct kerf_error *err)
{
	char path[768], what[600];

	if (!name)
		return kerf_error_set(err, KERF_E_INVALID, "delete_pod: no name");
	if (grace_period_s < 0)
		return kerf_error_set(err, KERF_E_INVALID, "delete_pod %s: grace period %lld s",
				      name, (long long)grace_period_s);
	const char *ns = namespace_ && *namespace_ ? namespace_ : "default";
	json_t *body = json_object();
	json_object_set_new(body, "apiVersion", json_string("v1"));
	json_object_set_new(body, "kind", json_string("DeleteOptions"));
	json_object_set_new(body, "gracePeriodSeconds", json_integer(grace_period_s));
	if (uid && *uid)
		json_object_set_new(body, "preconditions", json_pack("{s:s}", "uid", uid));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	snprintf(what, sizeof(what), "delete pod %s/%s", ns, name);
	return write_json(inst, "DELETE", path, body, NULL, KERF_OBJ_POD, what, NULL, err);
}

/* --------------------------------------------------------------- events */

static const char *kind_name(kerf_object_kind kind, const char **api_version)
{
	switch (kind) {
	case KERF_OBJ_POD:
		*api_version = "v1";
		return "Pod";
	case KERF_OBJ_NODE:
		*api_version = "v1";
		return "Node";
	case KERF_OBJ_NODEPOOL:
		*api_version = "karpenter.sh/v1";
		return "NodePool";
	case KERF_OBJ_NODECLAIM:
		*api_version = "karpenter.sh/v1";
		return "NodeClaim";
	case KERF_OBJ_NODE_CLASS:
		*api_version = "karpenter.k8s.aws/v1";
		return "EC2NodeClass";
	case KERF_OBJ_DAEMONSET:
		*api_version = "apps/v1";
		return "DaemonSet";
	}
	*api_version = "v1";
	return "Pod";
}

int kube_emit_event(void *inst, const struct kerf_event *ev, struct kerf_error *err)
{
	struct kube *k = inst;
	const struct kerf_host *h = k->host;
	const char *av, *kind;
	char name[512], path[512], what[600];

	if (!ev || !ev->name || !ev->reason)
		return kerf_error_set(err, KERF_E_INVALID, "emit_event: no object or reason");
	kind = kind_name(ev->kind, &av);
	/* Cluster-scoped objects' events live in "default", as kubectl describe looks for them. */
	const char *ns = ev->namespace_ && *ev->namespace_ ? ev->namespace_ : "default";
	int64_t now = h->wall_ms(h->ctx);
	/* Names as client-go's recorder makes them: the object's and a unique suffix. */
	snprintf(name, sizeof(name), "%.200s.%llx", ev->name, (unsigned long long)now * 1000);
	json_t *o = json_object(), *md = json_object(), *io = json_object(), *src = json_object();
	json_object_set_new(o, "apiVersion", json_string("v1"));
	json_object_set_new(o, "kind", json_string("Event"));
	json_object_set_new(md, "name", json_string(name));
	json_object_set_new(md, "namespace", json_string(ns));
	json_object_set_new(o, "metadata", md);
	json_object_set_new(io, "apiVersion", json_string(av));
	json_object_set_new(io, "kind", json_string(kind));
	json_object_set_new(io, "name", json_string(ev->name));
	if (ev->namespace_ && *ev->namespace_)
		json_object_set_new(io, "namespace", json_string(ev->namespace_));
	if (ev->uid)
		json_object_set_new(io, "uid", json_string(ev->uid));
	json_object_set_new(o, "involvedObject", io);
	json_object_set_new(o, "reason", json_string(ev->reason));
	json_object_set_new(o, "message", json_string(ev->message ? ev->message : ""));
	json_object_set_new(o, "type", json_string(ev->type ? ev->type : "Normal"));
	json_object_set_new(src, "component", json_string("kerf"));
	json_object_set_new(o, "source", src);
	json_object_set_new(o, "firstTimestamp", time_json(now));
	json_object_set_new(o, "lastTimestamp", time_json(now));
	json_object_set_new(o, "count", json_integer(1));
	json_object_set_new(o, "reportingComponent", json_string("kerf"));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", ns);
	snprintf(what, sizeof(what), "event %s on %s %s", ev->reason, kind, ev->name);
	return write_json(k, "POST", path, o, NULL, KERF_OBJ_POD, what, NULL, err);
}

/* ---------------------------------------------------------------- lease */

/* The lease's spec with `identity` holding it from now. */
static json_t *lease_spec(struct kube *k, const char *identity, int64_t duration_ms,
			  const json_t *old_spec, bool renew)
{
	char micro[64];
	int64_t now = k->host->wall_ms(k->host->ctx);
	json_t *spec = json_object();
	json_int_t transitions = json_integer_value(json_object_get(old_spec, "leaseTransitions"));

	kube_format_time(now, micro, sizeof(micro));
	/* MicroTime: RFC 3339 with six fractional digits. */
	char mt[64];
	snprintf(mt, sizeof(mt), "%.19s.%06lldZ", micro, (long long)(now % 1000) * 1000);
	json_object_set_new(spec, "holderIdentity", json_string(identity));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer((duration_ms + 999) / 1000));
	json_object_set_new(spec, "renewTime", json_string(mt));
	if (renew && json_string_value(json_object_get(old_spec, "acquireTime")))
		json_object_set(spec, "acquireTime", json_object_get(old_spec, "acquireTime"));
	else
		json_object_set_new(spec, "acquireTime", json_string(mt));
	json_object_set_new(spec, "leaseTransitions",
			    json_integer(renew ? transitions : transitions + (old_spec ? 1 : 0)));
	return spec;
}

static int lease_try(struct kube *k, const char *identity, int64_t duration_ms, bool *held,
		     struct kerf_error *err)
{
	const struct kerf_host *h = k->host;
	char path[512], what[300];
	struct kerf_http_response *r = NULL;

	snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
		 k->le_namespace, k->le_name);
	snprintf(what, sizeof(what), "Lease %s/%s", k->le_namespace, k->le_name);
	int rc = kube_do(k->client, "GET", path, NULL, NULL, true, &r, err);
	if (rc)
		return rc;
	if (r->status == 404) {
		h->http_response_free(h->ctx, r);
		json_t *o = json_object(), *md = json_object();
		json_object_set_new(o, "apiVersion", json_string("coordination.k8s.io/v1"));
		json_object_set_new(o, "kind", json_string("Lease"));
		json_object_set_new(md, "name", json_string(k->le_name));
		json_object_set_new(md, "namespace", json_string(k->le_namespace));
		json_object_set_new(o, "metadata", md);
		json_object_set_new(o, "spec", lease_spec(k, identity, duration_ms, NULL, false));
		snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases",
			 k->le_namespace);
		rc = write_json(k, "POST", path, o, NULL, KERF_OBJ_POD, what, NULL, err);
		*held = rc == 0;
		return rc == KERF_E_CONFLICT ? 0 : rc;
	}
	if ((rc = kube_status_error(r, what, err)) != 0) {
		h->http_response_free(h->ctx, r);
		return rc;
	}
	json_t *lease = kube_json_parse(what, r->body, r->body_len, KUBE_MAX_OBJECT_BYTES, err);
	h->http_response_free(h->ctx, r);
	if (!lease)
		return KERF_E_PARSE;
	json_t *spec = json_object_get(lease, "spec");
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	const char *renew = json_string_value(json_object_get(spec, "renewTime"));
	json_int_t secs = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	int64_t renew_ms = 0;
	bool mine = holder && strcmp(holder, identity) == 0;
	bool expired = !holder || !*holder || !renew || !kube_parse_time(renew, &renew_ms) ||
		       h->wall_ms(h->ctx) >= renew_ms + (int64_t)secs * 1000;
	if (!mine && !expired) {
		json_decref(lease);
		*held = false;
		return 0;
	}
	/* An update with the read resourceVersion: two candidates cannot both win. */
	json_object_set_new(lease, "spec", lease_spec(k, identity, duration_ms, spec, mine));
	rc = write_json(k, "PUT", path, lease, NULL, KERF_OBJ_POD, what, NULL, err);
	*held = rc == 0;
	return rc == KERF_E_CONFLICT ? 0 : rc;
}

int kube_acquire_lease(void *inst, const char *identity, int64_t duration_ms, bool *held,
		       struct kerf_error *err)
{
	struct kube *k = inst;
	const struct kerf_host *h = k->host;

	if (!identity || !held)
		return kerf_error_set(err, KERF_E_INVALID, "acquire_lease: no identity");
	if (!k->le_enabled) {
		*held = true;
		return 0;
	}
	if (k->le_duration_ms > 0)
		duration_ms = k->le_duration_ms;
	int64_t now = h->mono_ms(h->ctx);
	pthread_mutex_lock(&k->le_lock);
	if (k->le_tried_ms && now - k->le_tried_ms < k->le_retry_ms) {
		/* Asked again within the retry period: the last answer stands. */
		*held = k->le_held;
		pthread_mutex_unlock(&k->le_lock);
		return 0;
	}
	k->le_tried_ms = now;
	pthread_mutex_unlock(&k->le_lock);
	int rc = lease_try(k, identity, duration_ms, held, err);
	now = h->mono_ms(h->ctx);
	pthread_mutex_lock(&k->le_lock);
	if (rc == 0 && *held) {
		k->le_held = true;
		k->le_renewed_ms = now;
	} else if (rc == 0 || !k->le_held || now - k->le_renewed_ms >= k->le_renew_deadline_ms) {
		/* Lost, or not renewed within the deadline: stop acting now. */
		if (k->le_held)
			h->log(h->ctx, KERF_LOG_WARN, "leader lease %s/%s lost", k->le_namespace,
			       k->le_name);
		k->le_held = false;
		*held = false;
	} else {
		/* A failed renew inside the renew deadline keeps the lease for now. */
		*held = true;
		rc = 0;
	}
	pthread_mutex_unlock(&k->le_lock);
	return rc;
}
