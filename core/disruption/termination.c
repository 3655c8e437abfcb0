/* SPDX-License-Identifier: Apache-2.0 */
/*
 * termination.c - the termination controller: how a NodeClaim kerf owns
 * ends, whoever decided it (disruption, expiration, an interruption, a
 * NodeClaim or node deleted by hand, a launch that never registered).
 *
 * As Karpenter does, in order:
 *
 *  1. taint the node karpenter.sh/disrupted:NoSchedule (and cordon it),
 *     so nothing new lands on it;
 *  2. drain it through the eviction API in tiers — pods that are not
 *     critical, then critical ones (system-cluster-critical,
 *     system-node-critical), then DaemonSet pods — each tier waiting for
 *     the one before to be gone.  A PodDisruptionBudget's refusal
 *     (KERF_E_THROTTLED) is retried with back-off (1 s doubling to 10 s).
 *     Pods that tolerate the disrupted taint, static pods and finished
 *     pods are left alone.  The claim's terminationGracePeriod is a hard
 *     deadline: a pod whose own terminationGracePeriodSeconds (30 s when
 *     unset) would outlast it is deleted, whatever its tier and budget,
 *     once the node has no more time left than that, with a grace period
 *     that ends at the deadline, so it stops before its node goes (a
 *     cluster plugin without delete_pod leaves it to go with the node).
 *     Once the deadline has passed, the drain stops where it is;
 *  3. terminate the instance through the provider;
 *  4. delete the Node and the NodeClaim, removing karpenter.sh/termination
 *     from each, so the cluster lets them go.
 *
 * Each step that calls a plugin is a job for the workers; the steps
 * themselves are decided on the loop thread, from the cluster state, once
 * per pass, so a drain waits on the cluster, never on a thread.  An end
 * without a drain (the instance is gone already, registration timed out)
 * starts at step 3.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "evq.h"
#include "log.h"
#include "provisioner_int.h"
#include "util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
/* The API server's default spec.terminationGracePeriodSeconds. */
#define POD_GRACE_DEFAULT_MS 30000

enum term_step { STEP_TAINT, STEP_DRAIN, STEP_END };

struct term {
	struct claim_rec *c;
	char *why;
	enum term_step step;
	bool busy; /* a job of this termination is on the workers */
	kerf_mono_ms_t started_ms, deadline_ms, next_ms;
	int64_t backoff_ms;
	struct strset evicted;	  /* keys of pods whose eviction was accepted */
	struct strset deleted;	  /* keys of pods deleted as the deadline nears */
	kerf_mono_ms_t delete_ms; /* when the next pod on the node is to be deleted */
	size_t n_evicted, n_refused, n_deleted;
	bool forced; /* the grace period ran out before the drain finished */
};

/* ------------------------------------------------------------- helpers */

/* The claim as the cluster should keep it until it goes: without kerf's finalizer. */
static struct kerf_nodeclaim *claim_released(const struct kerf_nodeclaim *nc)
{
	struct kerf_nodeclaim *d = kerf_nodeclaim_copy(nc);
	size_t k = 0;
	for (size_t i = 0; i < d->meta->n_finalizers; i++) {
		if (strcmp(d->meta->finalizers[i], PROV_FINALIZER) == 0)
			free(d->meta->finalizers[i]);
		else
			d->meta->finalizers[k++] = d->meta->finalizers[i];
	}
	d->meta->n_finalizers = k;
	/* The finalizer goes whatever else changed meanwhile. */
	free(d->meta->resource_version);
	d->meta->resource_version = NULL;
	return d;
}

int prov_claim_remove(struct provisioner *p, const struct kerf_nodeclaim *nc,
		      struct kerf_error *err)
{
	const struct kerf_cluster_ops *cl = p->cfg.cluster;
	int rc = cl->delete_nodeclaim(p->cfg.cluster_inst, nc->meta->name, err);
	if (rc || !p->cfg.cluster_finalizers)
		return rc;
	struct kerf_nodeclaim *d = claim_released(nc);
	kerf_error_clear(err);
	rc = cl->update_nodeclaim(p->cfg.cluster_inst, d, NULL, err);
	kerf_nodeclaim_free(d);
	return rc;
}

static bool critical(const struct kerf_pod *pod)
{
	return pod->priority_class &&
	       (strcmp(pod->priority_class, "system-cluster-critical") == 0 ||
		strcmp(pod->priority_class, "system-node-critical") == 0);
}

/* The drain tier of a pod on the node, or -1 for one the drain leaves alone. */
static int tier_of(const struct kerf_pod *pod)
{
	static const struct kerf_taint disrupted = {
	    .key = TAINT_DISRUPTED, .value = NULL, .effect = KERF_EFFECT_NO_SCHEDULE};
	if (pod->phase == KERF_POD_SUCCEEDED || pod->phase == KERF_POD_FAILED)
		return -1;
	/* A static pod is the kubelet's: its mirror is owned by the Node. */
	if (pod->meta->owner_kind && strcmp(pod->meta->owner_kind, "Node") == 0)
		return -1;
	if (kerf_tolerations_tolerate(&pod->tolerations, &disrupted))
		return -1;
	return pod->daemonset ? 2 : critical(pod) ? 1 : 0;
}

static void term_free(struct term *t)
{
	if (!t)
		return;
	strset_clear(&t->evicted);
	strset_clear(&t->deleted);
	free(t->why);
	free(t);
}

/* ---------------------------------------------------------------- taint */

struct taint_job {
	struct provisioner *p;
	struct term *t;
	struct kerf_node *node;
	int rc;
	struct kerf_error err;
};

static void taint_done(void *arg)
{
	struct taint_job *j = arg;
	prov_done(j->p);
	j->t->busy = false;
	/* A node that cannot be tainted is drained all the same: its pods must go. */
	if (j->rc && j->rc != KERF_E_NOTFOUND)
		log_warn(COMPONENT, "NodeClaim %s: tainting node %s failed: %s",
			 j->t->c->claim->meta->name, j->node->meta->name,
			 prov_err_text(&j->err, j->rc));
	j->t->step = STEP_DRAIN;
	kerf_node_free(j->node);
	free(j);
}

static void taint_run(void *arg)
{
	struct taint_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.cluster->update_node(j->p->cfg.cluster_inst, j->node, NULL, &j->err);
	evq_push_done(j->p->cfg.evq, taint_done, j);
}

static void taint(struct provisioner *p, struct term *t, const struct kerf_node *n)
{
	struct kerf_node *u = kerf_node_copy(n);
	u->unschedulable = true;
	if (!prov_has_taint_key(&u->taints, TAINT_DISRUPTED)) {
		struct kerf_taint *tt = kerf_taints_append(&u->taints);
		tt->key = xstrdup(TAINT_DISRUPTED);
		tt->effect = KERF_EFFECT_NO_SCHEDULE;
	}
	struct taint_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->t = t;
	j->node = u;
	t->busy = true;
	prov_submit(p, taint_run, j);
}

/* ---------------------------------------------------------------- drain */

struct evict_job {
	struct provisioner *p;
	struct term *t;
	size_t n;
	char **ns, **names, **keys;
	int *rc;
	struct kerf_error err; /* the first failure that was not a refusal */
	int err_rc;
};

static void evict_done(void *arg)
{
	struct evict_job *j = arg;
	struct provisioner *p = j->p;
	struct term *t = j->t;
	size_t refused = 0;
	prov_done(p);
	t->busy = false;
	for (size_t i = 0; i < j->n; i++) {
		if (j->rc[i] == 0 || j->rc[i] == KERF_E_NOTFOUND) {
			strset_add(&t->evicted, j->keys[i]);
			t->n_evicted += j->rc[i] == 0;
			log_debug(COMPONENT, "NodeClaim %s: evicted pod %s",
				  t->c->claim->meta->name, j->keys[i]);
		} else {
			refused++;
		}
		free(j->ns[i]);
		free(j->names[i]);
		free(j->keys[i]);
	}
	t->n_refused += refused;
	p->evictions_refused += refused;
	if (j->err_rc)
		log_warn(COMPONENT, "NodeClaim %s: eviction failed: %s", t->c->claim->meta->name,
			 prov_err_text(&j->err, j->err_rc));
	if (refused) {
		t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (t->backoff_ms > BACKOFF_MAX_MS)
			t->backoff_ms = BACKOFF_MAX_MS;
		t->next_ms = prov_now(p) + t->backoff_ms;
	} else {
		t->backoff_ms = 0;
	}
	free(j->ns);
	free(j->names);
	free(j->keys);
	free(j->rc);
	free(j);
}

static void evict_run(void *arg)
{
	struct evict_job *j = arg;
	const struct kerf_cluster_ops *cl = j->p->cfg.cluster;
	for (size_t i = 0; i < j->n; i++) {
		struct kerf_error err = KERF_ERROR_INIT;
		j->rc[i] = cl->evict_pod(j->p->cfg.cluster_inst, j->ns[i], j->names[i], &err);
		if (j->rc[i] && j->rc[i] != KERF_E_NOTFOUND && j->rc[i] != KERF_E_THROTTLED &&
		    !j->err_rc) {
			j->err_rc = j->rc[i];
			j->err = err;
		}
	}
	evq_push_done(j->p->cfg.evq, evict_done, j);
}

struct delete_job {
	struct provisioner *p;
	struct term *t;
	size_t n;
	char **ns, **names, **uids, **keys;
	int64_t grace_s;
	int *rc;
	struct kerf_error err; /* the first failure */
	int err_rc;
};

static void delete_done(void *arg)
{
	struct delete_job *j = arg;
	struct term *t = j->t;
	prov_done(j->p);
	t->busy = false;
	for (size_t i = 0; i < j->n; i++) {
		/* A pod that failed to go is tried again on the next pass, with less time. */
		if (j->rc[i] == 0 || j->rc[i] == KERF_E_NOTFOUND || j->rc[i] == KERF_E_CONFLICT) {
			strset_add(&t->deleted, j->keys[i]);
			t->n_deleted += j->rc[i] == 0;
		}
		free(j->ns[i]);
		free(j->names[i]);
		free(j->uids[i]);
		free(j->keys[i]);
	}
	if (j->err_rc)
		log_warn(COMPONENT, "NodeClaim %s: pod deletion failed: %s",
			 t->c->claim->meta->name, prov_err_text(&j->err, j->err_rc));
	else if (j->n)
		log_info(COMPONENT,
			 "NodeClaim %s: %zu pod%s deleted with a grace period of %lld s, as the "
			 "node's terminationGracePeriod runs out",
			 t->c->claim->meta->name, j->n, j->n == 1 ? "" : "s",
			 (long long)j->grace_s);
	free(j->ns);
	free(j->names);
	free(j->uids);
	free(j->keys);
	free(j->rc);
	free(j);
}

static void delete_run(void *arg)
{
	struct delete_job *j = arg;
	const struct kerf_cluster_ops *cl = j->p->cfg.cluster;
	for (size_t i = 0; i < j->n; i++) {
		struct kerf_error err = KERF_ERROR_INIT;
		j->rc[i] = cl->delete_pod(j->p->cfg.cluster_inst, j->ns[i], j->names[i], j->uids[i],
					  j->grace_s, &err);
		if (j->rc[i] && j->rc[i] != KERF_E_NOTFOUND && j->rc[i] != KERF_E_CONFLICT &&
		    !j->err_rc) {
			j->err_rc = j->rc[i];
			j->err = err;
		}
	}
	evq_push_done(j->p->cfg.evq, delete_done, j);
}

/*
 * Deletes the pods on the node whose grace period is now as long as the
 * time left, with a grace period of that time, and sets t->delete_ms to
 * when the next one is due.  True when a job was submitted.
 */
static bool delete_outlasting(struct provisioner *p, struct term *t, struct pod_rec *const *pods,
			      size_t n, kerf_mono_ms_t now)
{
	t->delete_ms = INT64_MAX;
	if (!p->cfg.cluster->delete_pod || t->deadline_ms == INT64_MAX)
		return false;
	struct delete_job *j = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct kerf_pod *pod = pods[i]->pod;
		if (tier_of(pod) < 0 || strset_find(&t->deleted, pods[i]->key) >= 0)
			continue;
		int64_t grace = pod->termination_grace_period_ms >= 0
				    ? pod->termination_grace_period_ms
				    : POD_GRACE_DEFAULT_MS;
		kerf_mono_ms_t at = grace < t->deadline_ms ? t->deadline_ms - grace : 0;
		if (at > now) {
			if (at < t->delete_ms)
				t->delete_ms = at;
			continue;
		}
		if (!j) {
			j = xcalloc(1, sizeof(*j));
			j->p = p;
			j->t = t;
			j->ns = xcalloc(n, sizeof(char *));
			j->names = xcalloc(n, sizeof(char *));
			j->uids = xcalloc(n, sizeof(char *));
			j->keys = xcalloc(n, sizeof(char *));
			j->rc = xcalloc(n, sizeof(int));
			j->grace_s = (t->deadline_ms - now) / 1000;
		}
		j->ns[j->n] = xstrdup_or_null(pod->meta->namespace_);
		j->names[j->n] = xstrdup(pod->meta->name);
		j->uids[j->n] = xstrdup_or_null(pod->meta->uid);
		j->keys[j->n++] = xstrdup(pods[i]->key);
	}
	if (!j)
		return false;
	t->busy = true;
	prov_submit(p, delete_run, j);
	return true;
}

/*
 * One drain step: evicts what the lowest tier with pods left has not had
 * evicted yet.  True when the node is drained (or the deadline passed).
 */
static bool drain(struct provisioner *p, struct term *t, const char *node, kerf_mono_ms_t now)
{
	struct pod_rec *const *pods;
	size_t n = state_pods_on_node(p->st, node, &pods);
	int tier = 3;
	for (size_t i = 0; i < n; i++) {
		int k = tier_of(pods[i]->pod);
		if (k >= 0 && k < tier)
			tier = k;
	}
	if (tier == 3)
		return true;
	if (now >= t->deadline_ms) {
		t->forced = true;
		log_warn(COMPONENT,
			 "NodeClaim %s: terminationGracePeriod is over: terminating with pods "
			 "still on node %s",
			 t->c->claim->meta->name, node);
		return true;
	}
	if (delete_outlasting(p, t, pods, n, now) || now < t->next_ms)
		return false;
	struct evict_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->t = t;
	j->ns = xcalloc(n + 1, sizeof(char *));
	j->names = xcalloc(n + 1, sizeof(char *));
	j->keys = xcalloc(n + 1, sizeof(char *));
	j->rc = xcalloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		const struct kerf_pod *pod = pods[i]->pod;
		if (tier_of(pod) != tier || strset_find(&t->evicted, pods[i]->key) >= 0 ||
		    strset_find(&t->deleted, pods[i]->key) >= 0)
			continue;
		j->ns[j->n] = xstrdup_or_null(pod->meta->namespace_);
		j->names[j->n] = xstrdup(pod->meta->name);
		j->keys[j->n++] = xstrdup(pods[i]->key);
	}
	if (j->n == 0) {
		/* Evicted, not gone yet: the next pass looks again. */
		free(j->ns);
		free(j->names);
		free(j->keys);
		free(j->rc);
		free(j);
		return false;
	}
	t->busy = true;
	prov_submit(p, evict_run, j);
	return false;
}

/* ------------------------------------------------------------------ end */

struct end_job {
	struct provisioner *p;
	struct term *t;
	char *claim_name;
	struct kerf_nodeclaim *claim;
	char *provider_id;	/* NULL: no instance */
	struct kerf_node *node; /* NULL: no node */
	int rc;
	struct kerf_error err;
	const char *step;
};

static bool step_failed(struct end_job *j, const char *step, int rc, const struct kerf_error *err)
{
	if (rc == 0 || rc == KERF_E_NOTFOUND)
		return false;
	if (!j->rc) {
		j->rc = rc;
		j->step = step;
		j->err = *err;
	}
	return true;
}

static void end_done(void *arg)
{
	struct end_job *j = arg;
	struct provisioner *p = j->p;
	struct term *t = j->t;
	struct claim_rec *c = t->c;
	prov_done(p);
	if (j->rc)
		log_warn(COMPONENT, "NodeClaim %s: %s failed: %s", j->claim_name, j->step,
			 prov_err_text(&j->err, j->rc));
	if (t->n_evicted || t->n_refused || t->n_deleted)
		log_info(COMPONENT,
			 "NodeClaim %s: %zu pod%s evicted, %zu eviction%s refused by a disruption "
			 "budget, %zu deleted as the grace period ran out%s",
			 j->claim_name, t->n_evicted, t->n_evicted == 1 ? "" : "s", t->n_refused,
			 t->n_refused == 1 ? "" : "s", t->n_deleted,
			 t->forced ? ", grace period over" : "");
	log_info(COMPONENT, "NodeClaim %s terminated (%s)", j->claim_name, t->why);
	p->pods_evicted += t->n_evicted;
	c->drain_ms = prov_now(p) - t->started_ms;
	c->evicted = t->n_evicted;
	c->refused = t->n_refused;
	c->deleted = t->n_deleted;
	prov_release_pods(p, c);
	state_claim_end(p->st, c, prov_now(p));
	prov_capacity_changed(p);
	prov_claim_event(p, t->why, c);
	for (size_t i = 0; i < p->n_terms; i++)
		if (p->terms[i] == t) {
			p->terms[i] = p->terms[--p->n_terms];
			break;
		}
	term_free(t);
	kerf_node_free(j->node);
	kerf_nodeclaim_free(j->claim);
	free(j->provider_id);
	free(j->claim_name);
	free(j);
}

static void end_run(void *arg)
{
	struct end_job *j = arg;
	struct provisioner *p = j->p;
	const struct kerf_cluster_ops *cl = p->cfg.cluster;
	void *ci = p->cfg.cluster_inst;
	struct kerf_error err;
	int rc;

	if (j->provider_id) {
		kerf_error_clear(&err);
		rc = p->cfg.provider->delete_instance(p->cfg.provider_inst, j->provider_id, &err);
		step_failed(j, "instance termination", rc, &err);
	}
	if (j->node) {
		kerf_error_clear(&err);
		rc = cl->delete_node(ci, j->node->meta->name, &err);
		if (!step_failed(j, "node deletion", rc, &err) && rc == 0 &&
		    p->cfg.cluster_finalizers) {
			kerf_error_clear(&err);
			rc = cl->update_node(ci, j->node, NULL, &err);
			step_failed(j, "node finalizer removal", rc, &err);
		}
	}
	kerf_error_clear(&err);
	rc = prov_claim_remove(p, j->claim, &err);
	step_failed(j, "NodeClaim deletion", rc, &err);
	evq_push_done(p->cfg.evq, end_done, j);
}

static void end(struct provisioner *p, struct term *t)
{
	struct claim_rec *c = t->c;
	struct end_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->t = t;
	j->claim_name = xstrdup(c->claim->meta->name);
	j->claim = kerf_nodeclaim_copy(c->claim);
	j->provider_id = xstrdup_or_null(c->claim->provider_id);
	const struct node_rec *nr = state_node_by_pid(p->st, c->claim->provider_id);
	if (nr) {
		/* What the node is written back as once deleted: without kerf's finalizer. */
		struct kerf_node *u = kerf_node_copy(nr->node);
		size_t k = 0;
		for (size_t i = 0; i < u->meta->n_finalizers; i++) {
			if (strcmp(u->meta->finalizers[i], PROV_FINALIZER) == 0)
				free(u->meta->finalizers[i]);
			else
				u->meta->finalizers[k++] = u->meta->finalizers[i];
		}
		u->meta->n_finalizers = k;
		free(u->meta->resource_version);
		u->meta->resource_version = NULL;
		j->node = u;
	}
	t->busy = true;
	t->step = STEP_END;
	prov_submit(p, end_run, j);
}

/* ---------------------------------------------------------------- public */

void prov_terminate(struct provisioner *p, struct claim_rec *c, const char *why, bool drain_it)
{
	if (c->gone || c->deleting)
		return;
	c->deleting = true;
	struct term *t = xcalloc(1, sizeof(*t));
	t->c = c;
	t->why = xstrdup(why);
	t->started_ms = prov_now(p);
	t->delete_ms = INT64_MAX;
	t->deadline_ms = c->claim->termination_grace_period_ms >= 0
			     ? t->started_ms + c->claim->termination_grace_period_ms
			     : INT64_MAX;
	xpush(p->terms, p->n_terms, t);
	const struct node_rec *nr = state_node_by_pid(p->st, c->claim->provider_id);
	if (drain_it && nr) {
		t->step = STEP_TAINT;
		taint(p, t, nr->node);
	} else {
		end(p, t);
	}
}

void prov_terminations(struct provisioner *p)
{
	kerf_mono_ms_t now = prov_now(p);
	/* end() removes nothing here: a termination leaves the list only when its end is applied.
	 */
	for (size_t i = 0; i < p->n_terms; i++) {
		struct term *t = p->terms[i];
		if (t->busy || t->step != STEP_DRAIN)
			continue;
		const struct node_rec *nr = state_node_by_pid(p->st, t->c->claim->provider_id);
		if (!nr || drain(p, t, nr->node->meta->name, now))
			if (!t->busy)
				end(p, t);
	}
}

bool prov_terminating(const struct provisioner *p)
{
	return p->n_terms > 0;
}

kerf_mono_ms_t prov_terminations_next_ms(const struct provisioner *p)
{
	kerf_mono_ms_t next = INT64_MAX;
	for (size_t i = 0; i < p->n_terms; i++) {
		const struct term *t = p->terms[i];
		if (t->busy || t->step != STEP_DRAIN)
			continue;
		kerf_mono_ms_t at = t->next_ms < t->deadline_ms ? t->next_ms : t->deadline_ms;
		if (t->delete_ms < at)
			at = t->delete_ms;
		if (at < next)
			next = at;
	}
	return next;
}

void prov_terminations_free(struct provisioner *p)
{
	for (size_t i = 0; i < p->n_terms; i++)
		term_free(p->terms[i]);
	free(p->terms);
	p->terms = NULL;
	p->n_terms = 0;
}
