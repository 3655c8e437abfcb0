/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lifecycle.c - the NodeClaim lifecycle and every plugin call it makes:
 * launch, status writes, registration, adoption of what a
 * previous run left, garbage collection of leaked instances, drift checks
 * and instance-type fetches.
 *
 * Every call that may block goes to the workers (pool.h) as a job that
 * owns copies of what it sends, so the loop thread never waits on the
 * network and a worker never reads loop state.  The job comes back through
 * the evq as a DONE item, and its result is applied on the loop thread.
 *
 * A batch's launches are applied together, in the batch's order, once the
 * last of them returns: the decision log and the state then come out the
 * same whatever order the cloud answered in, which keeps simulated runs
 * reproducible while the launches themselves run in parallel.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "evq.h"
#include "log.h"
#include "pool.h"
#include "provisioner_int.h"
#include "util.h"

void prov_submit(struct provisioner *p, void (*fn)(void *arg), void *arg)
{
	p->in_flight++;
	pool_submit(p->cfg.workers, fn, arg);
}

void prov_done(struct provisioner *p)
{
	p->in_flight--;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------- launches */

struct launch_group;

struct launch_job {
	struct provisioner *p;
	struct launch_group *g;
	struct claim_rec *c;	      /* loop thread only */
	struct kerf_nodeclaim *claim; /* what the worker sends */
	struct kerf_node_class *nc;   /* the worker's copy */
	char **options;		      /* the type names the plan allowed, NULL-ended */
	bool relaunch;		      /* the claim exists already: only the instance is missing */
	int create_rc;		      /* create_nodeclaim */
	int rc;			      /* the provider */
	struct kerf_error err;
	struct kerf_nodeclaim *stored;
	struct kerf_instance *inst;
	json_t *line_claim; /* its entry in the batch's line; NULL for a relaunch */
	struct kerf_resources req;
};

struct launch_group {
	size_t n, done;
	struct launch_job **jobs;
	json_t *line; /* the batch's decision-log line, NULL for a relaunch */
};

/* What one worker runs: one claim, or every claim of one node class when the provider batches. */
struct launch_unit {
	size_t n;
	struct launch_job **jobs;
};

static void launch_done(void *arg);

static void launch_run(void *arg)
{
	struct launch_unit *u = arg;
	struct provisioner *p = u->jobs[0]->p;
	const struct kerf_provider_ops *prov = p->cfg.provider;
	size_t ok = 0;

	for (size_t i = 0; i < u->n; i++) {
		struct launch_job *j = u->jobs[i];
		kerf_error_clear(&j->err);
		if (!j->relaunch)
			j->create_rc = p->cfg.cluster->create_nodeclaim(
			    p->cfg.cluster_inst, j->claim, &j->stored, &j->err);
		ok += j->create_rc == 0;
	}
	if (u->n > 1 && prov->create_batch && ok > 0) {
		const struct kerf_nodeclaim **claims = xcalloc(ok, sizeof(*claims));
		struct kerf_instance **out = xcalloc(ok, sizeof(*out));
		struct kerf_error **errs = xcalloc(ok, sizeof(*errs));
		int *rcs = xcalloc(ok, sizeof(*rcs));
		struct kerf_error err = KERF_ERROR_INIT;
		size_t k = 0;
		for (size_t i = 0; i < u->n; i++)
			if (u->jobs[i]->create_rc == 0) {
				claims[k] = u->jobs[i]->claim;
				errs[k++] = &u->jobs[i]->err;
			}
		int rc = prov->create_batch(p->cfg.provider_inst, ok, claims, u->jobs[0]->nc, out,
					    rcs, errs, &err);
		k = 0;
		for (size_t i = 0; i < u->n; i++) {
			struct launch_job *j = u->jobs[i];
			if (j->create_rc != 0)
				continue;
			if (rc) {
				j->rc = rc;
				j->err = err;
			} else {
				j->rc = rcs[k];
				j->inst = out[k];
			}
			k++;
		}
		free(claims);
		free(out);
		free(errs);
		free(rcs);
	} else {
		for (size_t i = 0; i < u->n; i++) {
			struct launch_job *j = u->jobs[i];
			if (j->create_rc == 0)
				j->rc = prov->create(p->cfg.provider_inst, j->claim, j->nc,
						     &j->inst, &j->err);
		}
	}
	for (size_t i = 0; i < u->n; i++)
		evq_push_done(p->cfg.evq, launch_done, u->jobs[i]);
	free(u->jobs);
	free(u);
}

static void job_free(struct launch_job *j)
{
	kerf_nodeclaim_free(j->claim);
	kerf_nodeclaim_free(j->stored);
	kerf_node_class_free(j->nc);
	kerf_instance_free(j->inst);
	strv_free(j->options);
	json_decref(j->line_claim);
	free(j);
}

/*
 * An offering the provider found without capacity is left out of batches
 * for PROVISIONER_UNAVAILABLE_TTL_MS, as Karpenter's unavailable-offerings
 * cache does, so the retry picks another and the offering comes back later.
 */
static void mark_unavailable(struct provisioner *p, char **types, const char *zone,
			     kerf_capacity_type ct)
{
	kerf_mono_ms_t until = prov_now(p) + PROVISIONER_UNAVAILABLE_TTL_MS;
	for (size_t i = 0; zone && types && types[i]; i++) {
		struct unavailable *u = NULL;
		for (size_t k = 0; k < p->n_unavail && !u; k++)
			if (p->unavail[k].ct == ct && strcmp(p->unavail[k].type, types[i]) == 0 &&
			    strcmp(p->unavail[k].zone, zone) == 0)
				u = &p->unavail[k];
		if (!u) {
			xgrow(p->unavail, p->cap_unavail, p->n_unavail + 1);
			u = &p->unavail[p->n_unavail++];
			u->type = xstrdup(types[i]);
			u->zone = xstrdup(zone);
			u->ct = ct;
		}
		u->until = until;
	}
}

struct name_job {
	struct provisioner *p;
	char *name;
	int rc;
	struct kerf_error err;
};

/* A claim whose launch failed goes, finalizer and all. */
struct remove_job {
	struct provisioner *p;
	struct kerf_nodeclaim *claim;
	int rc;
	struct kerf_error err;
};

static void remove_claim_done(void *arg)
{
	struct remove_job *j = arg;
	prov_done(j->p);
	if (j->rc && j->rc != KERF_E_NOTFOUND)
		log_warn(COMPONENT, "NodeClaim %s: delete failed: %s", j->claim->meta->name,
			 prov_err_text(&j->err, j->rc));
	kerf_nodeclaim_free(j->claim);
	free(j);
}

static void remove_claim_run(void *arg)
{
	struct remove_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = prov_claim_remove(j->p, j->claim, &j->err);
	evq_push_done(j->p->cfg.evq, remove_claim_done, j);
}

static void delete_instance_done(void *arg)
{
	struct name_job *j = arg;
	prov_done(j->p);
	if (j->rc && j->rc != KERF_E_NOTFOUND)
		log_warn(COMPONENT, "instance %s: terminate failed: %s", j->name,
			 prov_err_text(&j->err, j->rc));
	free(j->name);
	free(j);
}

static void delete_instance_run(void *arg)
{
	struct name_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.provider->delete_instance(j->p->cfg.provider_inst, j->name, &j->err);
	evq_push_done(j->p->cfg.evq, delete_instance_done, j);
}

static void submit_by_name(struct provisioner *p, void (*run)(void *), const char *name)
{
	struct name_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->name = xstrdup(name);
	prov_submit(p, run, j);
}

/* The claim's fields and labels once its instance exists, as Karpenter fills them in. */
static void launched(struct provisioner *p, struct claim_rec *c, const struct kerf_instance *inst)
{
	struct pool_rec *pr = &p->pools[c->pool];
	struct kerf_nodeclaim *claim = c->claim;
	if (inst->instance_type) {
		free(c->type_name);
		c->type_name = xstrdup(inst->instance_type);
	}
	if (inst->zone) {
		free(c->zone);
		c->zone = xstrdup(inst->zone);
	}
	c->capacity_type = inst->capacity_type;
	const struct kerf_instance_type *t = prov_find_type(pr->types, c->type_name);
	c->price = prov_offering_price(t, c->zone, c->capacity_type, c->price);
	c->launching = false;
	claim->state = KERF_CLAIM_LAUNCHED;
	free(claim->provider_id);
	claim->provider_id = xstrdup_or_null(inst->provider_id);
	free(claim->image_id);
	claim->image_id = xstrdup_or_null(inst->image_id);
	claim->launched_ms = prov_wall(p);
	if (t) {
		claim->capacity = t->capacity;
		claim->allocatable = t->allocatable;
	}
	char price[24];
	snprintf(price, sizeof(price), "%lld", (long long)c->price);
	if ((c->type_name &&
	     kerf_labels_set(&claim->meta->labels, LABEL_INSTANCE_TYPE, c->type_name)) ||
	    kerf_labels_set(&claim->meta->annotations, ANNOTATION_LAUNCH_PRICE, price) ||
	    (c->zone && kerf_labels_set(&claim->meta->labels, LABEL_ZONE, c->zone)) ||
	    kerf_labels_set(&claim->meta->labels, LABEL_CAPACITY_TYPE,
			    kerf_capacity_type_name(c->capacity_type)))
		abort();
	/* As Karpenter fills in a launched claim: the labels its instance type pins, which
	 * registration hands on to the node, so its NodePool's requirements hold there. */
	for (size_t i = 0; t && i < t->requirements.n; i++) {
		const struct kerf_requirement *rq = t->requirements.items[i];
		if (rq->op == KERF_OP_IN && rq->n_values == 1 &&
		    !kerf_labels_get(&claim->meta->labels, rq->key) &&
		    kerf_labels_set(&claim->meta->labels, rq->key, rq->values[0]))
			abort();
	}
	kerf_labels_clear(&c->labels);
	prov_launching_labels(c, t);
	state_claim_set_pid(p->st, c);
}

enum launch_outcome { LAUNCH_DROPPED, LAUNCH_FAILED, LAUNCH_OK };

/* Why a failed launch failed, for its log line and its launch-failed event. */
static const char *launch_error(const struct launch_job *j)
{
	if (j->create_rc)
		return prov_err_text(&j->err, j->create_rc);
	return j->rc ? prov_err_text(&j->err, j->rc) : "no instance";
}

/* Applies one launch's result. */
static enum launch_outcome apply_launch(struct provisioner *p, struct launch_job *j)
{
	struct claim_rec *c = j->c;
	const char *name = c->claim->meta->name;

	if (j->stored) {
		free(c->claim->meta->uid);
		c->claim->meta->uid = xstrdup_or_null(j->stored->meta->uid);
		free(c->claim->meta->resource_version);
		c->claim->meta->resource_version =
		    xstrdup_or_null(j->stored->meta->resource_version);
	}
	if (c->gone || c->deleting) {
		/* Deleted while it launched: what the cloud made for it must not stay. */
		if (j->rc == 0 && j->inst && j->inst->provider_id)
			submit_by_name(p, delete_instance_run, j->inst->provider_id);
		return LAUNCH_DROPPED;
	}
	if (j->create_rc) {
		log_warn(COMPONENT, "NodeClaim %s: create failed: %s", name, launch_error(j));
		prov_release_pods(p, c);
		state_claim_end(p->st, c, prov_now(p));
		return LAUNCH_FAILED;
	}
	if (j->rc || !j->inst) {
		log_warn(COMPONENT, "NodeClaim %s: launch failed: %s", name, launch_error(j));
		if (j->rc == KERF_E_CAPACITY)
			mark_unavailable(p, j->options, c->zone, c->capacity_type);
		struct remove_job *rj = xcalloc(1, sizeof(*rj));
		rj->p = p;
		rj->claim = kerf_nodeclaim_copy(c->claim);
		prov_submit(p, remove_claim_run, rj);
		/* Its pods wait for the next batch, which picks other offerings. */
		prov_release_pods(p, c);
		state_claim_end(p->st, c, prov_now(p));
		return LAUNCH_FAILED;
	}
	launched(p, c, j->inst);
	log_info(COMPONENT, "%s NodeClaim %s: %s %s %s $%.4f/h",
		 j->relaunch ? "relaunched" : "launched", name, c->type_name, c->zone,
		 kerf_capacity_type_name(c->capacity_type), (double)c->price / 1e6);
	prov_claim_update(p, c);
	return LAUNCH_OK;
}

static void group_apply(struct provisioner *p, struct launch_group *g)
{
	enum launch_outcome *outcome = xcalloc(g->n + 1, sizeof(*outcome));
	json_t *claims = json_array();
	struct kerf_resources req, alloc;
	kerf_price_t price = 0;

	memset(&req, 0, sizeof(req));
	memset(&alloc, 0, sizeof(alloc));
	for (size_t i = 0; i < g->n; i++) {
		struct launch_job *j = g->jobs[i];
		outcome[i] = apply_launch(p, j);
		if (outcome[i] != LAUNCH_OK || !j->line_claim)
			continue;
		prov_claim_fields(p, j->line_claim, j->c);
		json_array_append(claims, j->line_claim);
		price += j->c->price;
		req.cpu_millis += j->req.cpu_millis;
		req.memory_bytes += j->req.memory_bytes;
		alloc.cpu_millis += j->c->claim->allocatable.cpu_millis;
		alloc.memory_bytes += j->c->claim->allocatable.memory_bytes;
	}
	if (g->line) {
		json_t *r = json_object(), *a = json_object();
		json_object_set_new(r, "cpu_millicores", json_integer(req.cpu_millis));
		json_object_set_new(r, "memory_bytes", json_integer(req.memory_bytes));
		json_object_set_new(a, "cpu_millicores", json_integer(alloc.cpu_millis));
		json_object_set_new(a, "memory_bytes", json_integer(alloc.memory_bytes));
		json_object_set_new(g->line, "nodeclaims", claims);
		json_object_set_new(g->line, "price_micro_usd_per_hour", json_integer(price));
		json_object_set_new(g->line, "requested", r);
		json_object_set_new(g->line, "allocatable", a);
		prov_batch_line_done(p, g->line);
		g->line = NULL;
	} else {
		json_decref(claims);
	}
	/* After the batch's line: it plans the claims these events report on. */
	for (size_t i = 0; i < g->n; i++) {
		if (outcome[i] == LAUNCH_OK)
			prov_claim_event(p, g->jobs[i]->relaunch ? "relaunched" : "launched",
					 g->jobs[i]->c);
		else if (outcome[i] == LAUNCH_FAILED)
			prov_launch_failed_event(p, g->jobs[i]->c, launch_error(g->jobs[i]));
	}
	for (size_t i = 0; i < g->n; i++)
		job_free(g->jobs[i]);
	free(g->jobs);
	free(g);
	free(outcome);
}

static void launch_done(void *arg)
{
	struct launch_job *j = arg;
	struct provisioner *p = j->p;
	prov_done(p);
	if (++j->g->done == j->g->n)
		group_apply(p, j->g);
}

static struct kerf_node_class *class_copy(const struct pool_rec *pr)
{
	return pr->nc ? kerf_node_class_copy(pr->nc) : NULL;
}

void prov_launch(struct provisioner *p, size_t n, struct claim_rec **claims, char ***options,
		 json_t *line, json_t **claim_lines, const struct kerf_resources *reqs)
{
	struct launch_group *g = xcalloc(1, sizeof(*g));
	g->n = n;
	g->jobs = xcalloc(n + 1, sizeof(*g->jobs));
	g->line = line;
	for (size_t i = 0; i < n; i++) {
		struct launch_job *j = xcalloc(1, sizeof(*j));
		j->p = p;
		j->g = g;
		j->c = claims[i];
		if (p->cfg.cluster_finalizers && !claims[i]->adopted)
			prov_add_finalizer(claims[i]->claim->meta);
		j->claim = kerf_nodeclaim_copy(claims[i]->claim);
		j->nc = class_copy(&p->pools[claims[i]->pool]);
		j->options = options ? options[i] : NULL;
		j->relaunch = claims[i]->adopted;
		j->line_claim = claim_lines ? claim_lines[i] : NULL;
		if (reqs)
			j->req = reqs[i];
		g->jobs[i] = j;
	}
	if (n == 0) {
		group_apply(p, g);
		return;
	}
	/*
	 * One worker per claim, so a slow launch holds up no other; with a
	 * batching provider, one call per node class, as a fleet request.
	 */
	bool *taken = xcalloc(n, sizeof(*taken));
	for (size_t i = 0; i < n; i++) {
		if (taken[i])
			continue;
		struct launch_unit *u = xcalloc(1, sizeof(*u));
		u->jobs = xcalloc(n - i, sizeof(*u->jobs));
		u->jobs[u->n++] = g->jobs[i];
		taken[i] = true;
		for (size_t k = i + 1; p->cfg.provider->create_batch && k < n; k++)
			if (!taken[k] && claims[k]->pool == claims[i]->pool) {
				u->jobs[u->n++] = g->jobs[k];
				taken[k] = true;
			}
		p->in_flight += u->n;
		pool_submit(p->cfg.workers, launch_run, u);
	}
	free(taken);
}

/* ---------------------------------------------------------- status writes */

struct update_job {
	struct provisioner *p;
	struct claim_rec *c;
	struct kerf_nodeclaim *claim;
	struct kerf_nodeclaim *stored;
	int rc;
	struct kerf_error err;
};

static void update_done(void *arg)
{
	struct update_job *j = arg;
	struct claim_rec *c = j->c;
	struct provisioner *p = j->p;
	prov_done(p);
	c->updating = false;
	if (j->rc == 0 && j->stored) {
		free(c->claim->meta->resource_version);
		c->claim->meta->resource_version =
		    xstrdup_or_null(j->stored->meta->resource_version);
	} else if (j->rc == KERF_E_CONFLICT) {
		/* Someone wrote it since: write again on top of what the cluster has now. */
		const struct kerf_nodeclaim *seen =
		    state_observed_claim(p->st, c->claim->meta->name);
		free(c->claim->meta->resource_version);
		c->claim->meta->resource_version =
		    seen ? xstrdup_or_null(seen->meta->resource_version) : NULL;
		c->update_again = true;
		log_debug(COMPONENT, "NodeClaim %s: status update conflicted; writing again",
			  c->claim->meta->name);
	} else if (j->rc && j->rc != KERF_E_NOTFOUND) {
		log_warn(COMPONENT, "NodeClaim %s: status update failed: %s", c->claim->meta->name,
			 prov_err_text(&j->err, j->rc));
	}
	kerf_nodeclaim_free(j->claim);
	kerf_nodeclaim_free(j->stored);
	free(j);
	if (c->update_again && !c->gone && !c->deleting)
		prov_claim_update(p, c);
}

static void update_run(void *arg)
{
	struct update_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.cluster->update_nodeclaim(j->p->cfg.cluster_inst, j->claim, &j->stored,
						    &j->err);
	evq_push_done(j->p->cfg.evq, update_done, j);
}

void prov_claim_update(struct provisioner *p, struct claim_rec *c)
{
	/* One write at a time per claim, or the second would conflict with the first. */
	if (c->updating) {
		c->update_again = true;
		return;
	}
	c->updating = true;
	c->update_again = false;
	struct update_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->c = c;
	j->claim = kerf_nodeclaim_copy(c->claim);
	prov_submit(p, update_run, j);
}

/* ----------------------------------------------------------- registration */

struct node_job {
	struct provisioner *p;
	struct claim_rec *c;
	struct kerf_node *node;
	int rc;
	struct kerf_error err;
};

static void register_done(void *arg)
{
	struct node_job *j = arg;
	struct provisioner *p = j->p;
	struct claim_rec *c = j->c;
	prov_done(p);
	c->registering = false;
	if (j->rc) {
		log_warn(COMPONENT, "node %s: registration update failed: %s", j->node->meta->name,
			 prov_err_text(&j->err, j->rc));
	} else if (!c->gone && !c->deleting) {
		c->registered = true;
		c->claim->state = KERF_CLAIM_REGISTERED;
		c->claim->registered_ms = prov_wall(p);
		free(c->claim->node_name);
		c->claim->node_name = xstrdup(j->node->meta->name);
		free(c->node_name);
		c->node_name = xstrdup(j->node->meta->name);
		prov_claim_update(p, c);
		log_info(COMPONENT, "NodeClaim %s registered as node %s", c->claim->meta->name,
			 j->node->meta->name);
		prov_claim_event(p, "registered", c);
	}
	kerf_node_free(j->node);
	free(j);
}

static void register_run(void *arg)
{
	struct node_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.cluster->update_node(j->p->cfg.cluster_inst, j->node, NULL, &j->err);
	evq_push_done(j->p->cfg.evq, register_done, j);
}

bool prov_has_taint_key(const struct kerf_taints *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->items[i]->key, key) == 0)
			return true;
	return false;
}

void prov_add_finalizer(struct kerf_meta *m)
{
	for (size_t i = 0; i < m->n_finalizers; i++)
		if (strcmp(m->finalizers[i], PROV_FINALIZER) == 0)
			return;
	m->finalizers = xrealloc(m->finalizers, (m->n_finalizers + 2) * sizeof(char *));
	m->finalizers[m->n_finalizers++] = xstrdup(PROV_FINALIZER);
	m->finalizers[m->n_finalizers] = NULL;
}

/* Karpenter's registration: the node takes the claim's labels and taints, and loses unregistered.
 */
static void do_register(struct provisioner *p, struct claim_rec *c, const struct kerf_node *n)
{
	struct kerf_node *u = kerf_node_new();
	u->meta->name = xstrdup(n->meta->name);
	u->meta->resource_version = xstrdup_or_null(n->meta->resource_version);
	kerf_labels_copy(&u->meta->labels, &n->meta->labels);
	kerf_labels_copy(&u->meta->labels, &c->claim->meta->labels);
	if (kerf_labels_set(&u->meta->labels, LABEL_REGISTERED, "true"))
		abort();
	for (size_t i = 0; i < n->taints.n; i++)
		if (strcmp(n->taints.items[i]->key, TAINT_UNREGISTERED) != 0 &&
		    kerf_taints_add(&u->taints, n->taints.items[i]))
			abort();
	for (size_t i = 0; i < c->claim->taints.n; i++)
		if (!prov_has_taint_key(&u->taints, c->claim->taints.items[i]->key) &&
		    kerf_taints_add(&u->taints, c->claim->taints.items[i]))
			abort();
	u->unschedulable = n->unschedulable;
	for (size_t i = 0; i < n->meta->n_finalizers; i++) {
		u->meta->finalizers =
		    xrealloc(u->meta->finalizers, (u->meta->n_finalizers + 2) * sizeof(char *));
		u->meta->finalizers[u->meta->n_finalizers++] = xstrdup(n->meta->finalizers[i]);
		u->meta->finalizers[u->meta->n_finalizers] = NULL;
	}
	/* Deleting the node by hand then drains it before the instance goes. */
	if (p->cfg.cluster_finalizers)
		prov_add_finalizer(u->meta);
	struct node_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->c = c;
	j->node = u;
	c->registering = true;
	prov_submit(p, register_run, j);
}

static bool initialized(const struct claim_rec *c, const struct kerf_node *n)
{
	if (!n->ready || prov_has_taint_key(&n->taints, TAINT_UNREGISTERED) ||
	    prov_has_taint_key(&n->taints, TAINT_NOT_READY))
		return false;
	for (size_t i = 0; i < c->claim->startup_taints.n; i++)
		if (prov_has_taint_key(&n->taints, c->claim->startup_taints.items[i]->key))
			return false;
	return true;
}

void prov_lifecycle(struct provisioner *p)
{
	kerf_mono_ms_t now = prov_now(p);
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		if (c->gone || c->deleting || c->launching || c->initialized || c->registering)
			continue;
		const struct node_rec *nr = state_node_by_pid(p->st, c->claim->provider_id);
		if (!c->registered && nr) {
			do_register(p, c, nr->node);
		} else if (!c->registered &&
			   now - c->launched_ms >= PROVISIONER_REGISTRATION_TTL_MS) {
			log_warn(COMPONENT,
				 "NodeClaim %s did not register within %d minutes: deleting it",
				 c->claim->meta->name, PROVISIONER_REGISTRATION_TTL_MS / 60000);
			prov_terminate(p, c, "registration-timeout", false);
		} else if (c->registered && nr && initialized(c, nr->node)) {
			c->initialized = true;
			c->claim->state = KERF_CLAIM_INITIALIZED;
			c->claim->initialized_ms = prov_wall(p);
			prov_claim_update(p, c);
			log_info(COMPONENT, "NodeClaim %s initialized", c->claim->meta->name);
			prov_claim_event(p, "initialized", c);
			prov_release_pods(p, c);
		}
	}
}

/* --------------------------------------------------------------- adoption */

struct get_job {
	struct provisioner *p;
	struct claim_rec *c;
	char *provider_id;
	struct kerf_instance *inst;
	int rc;
	struct kerf_error err;
};

static void get_done(void *arg)
{
	struct get_job *j = arg;
	struct provisioner *p = j->p;
	struct claim_rec *c = j->c;
	prov_done(p);
	c->checking = false;
	if (j->rc == KERF_E_NOTFOUND) {
		log_warn(COMPONENT, "NodeClaim %s: its instance %s is gone", c->claim->meta->name,
			 j->provider_id);
		prov_terminate(p, c, "instance-gone", false);
	} else if (j->rc) {
		log_warn(COMPONENT, "NodeClaim %s: describing instance %s failed: %s",
			 c->claim->meta->name, j->provider_id, prov_err_text(&j->err, j->rc));
	} else if (j->inst && !c->gone) {
		/* What the claim did not say about its instance, the provider does. */
		if (!c->type_name && j->inst->instance_type)
			c->type_name = xstrdup(j->inst->instance_type);
		if (!c->zone && j->inst->zone)
			c->zone = xstrdup(j->inst->zone);
		c->capacity_type = j->inst->capacity_type;
		const struct kerf_instance_type *t =
		    prov_find_type(p->pools[c->pool].types, c->type_name);
		c->price = prov_offering_price(t, c->zone, c->capacity_type, c->price);
	}
	kerf_instance_free(j->inst);
	free(j->provider_id);
	free(j);
}

static void get_run(void *arg)
{
	struct get_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.provider->get(j->p->cfg.provider_inst, j->provider_id, &j->inst, &j->err);
	evq_push_done(j->p->cfg.evq, get_done, j);
}

static kerf_capacity_type capacity_type_of(const char *name)
{
	return name && strcmp(name, "spot") == 0       ? KERF_CAPACITY_SPOT
	       : name && strcmp(name, "reserved") == 0 ? KERF_CAPACITY_RESERVED
						       : KERF_CAPACITY_ON_DEMAND;
}

/* The kerf.dev/launch-price kerf wrote on the claim at its launch; 0 when none. */
static kerf_price_t launch_price(const struct kerf_nodeclaim *nc)
{
	const char *v = kerf_labels_get(&nc->meta->annotations, ANNOTATION_LAUNCH_PRICE);
	char *end;
	if (!v)
		return 0;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	return errno || end == v || *end || n < 0 ? 0 : (kerf_price_t)n;
}

/*
 * A NodeClaim of one of kerf's NodePools that this process did not launch:
 * what a previous kerfd left (or another replica, before this one took the
 * lease).  It is taken over where it stands: counted as capacity, moved
 * along its lifecycle, and given an instance when it has none yet (create
 * is idempotent on the claim's name, so a launch the previous run started
 * gets the same instance, never a second one).
 */
void prov_adopt(struct provisioner *p, const struct kerf_nodeclaim *nc)
{
	const char *name = nc->meta->name;
	if (!name || nc->meta->deletion_ms || state_claim_by_name(p->st, name))
		return;
	for (size_t i = 0; i < p->st->n_claims; i++)
		if (strcmp(p->st->claims[i]->claim->meta->name, name) == 0)
			return; /* ended here; the cluster has not caught up */
	const char *pool =
	    nc->nodepool ? nc->nodepool : kerf_labels_get(&nc->meta->labels, LABEL_NODEPOOL);
	ssize_t pi = pool ? prov_pool_index(p, pool) : -1;
	if (pi < 0)
		return;
	struct claim_rec *c = xcalloc(1, sizeof(*c));
	c->claim = kerf_nodeclaim_copy(nc);
	c->pool = (size_t)pi;
	c->adopted = true;
	c->type_name = xstrdup_or_null(kerf_labels_get(&nc->meta->labels, LABEL_INSTANCE_TYPE));
	c->zone = xstrdup_or_null(kerf_labels_get(&nc->meta->labels, LABEL_ZONE));
	c->capacity_type =
	    capacity_type_of(kerf_labels_get(&nc->meta->labels, LABEL_CAPACITY_TYPE));
	const struct kerf_instance_type *t = prov_find_type(p->pools[pi].types, c->type_name);
	/* An offering no longer listed (or not listed yet) keeps the price it was launched at. */
	c->price = prov_offering_price(t, c->zone, c->capacity_type, launch_price(nc));
	c->launched_ms = prov_now(p);
	c->registered = nc->state >= KERF_CLAIM_REGISTERED && nc->state != KERF_CLAIM_DELETING;
	c->initialized = nc->state == KERF_CLAIM_INITIALIZED;
	c->node_name = xstrdup_or_null(nc->node_name);
	prov_launching_labels(c, t);
	c->launching = !nc->provider_id;
	state_claim_add(p->st, c);
	log_info(COMPONENT, "adopted NodeClaim %s of NodePool %s (%s)", name, pool,
		 nc->provider_id ? nc->provider_id : "no instance yet");
	prov_claim_event(p, "adopted", c);
	if (!nc->provider_id) {
		struct claim_rec *one[1] = {c};
		prov_launch(p, 1, one, NULL, NULL, NULL, NULL);
		return;
	}
	struct get_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->c = c;
	j->provider_id = xstrdup(nc->provider_id);
	c->checking = true;
	prov_submit(p, get_run, j);
}

/* ----------------------------------------------------- garbage collection */

struct list_job {
	struct provisioner *p;
	kerf_mono_ms_t started;
	struct kerf_instance_list *list;
	int rc;
	struct kerf_error err;
};

static void gc_done(void *arg)
{
	struct list_job *j = arg;
	struct provisioner *p = j->p;
	struct hmap listed = {0};
	prov_done(p);
	p->gc_running = false;
	for (size_t i = 0; j->rc == 0 && j->list && i < j->list->n; i++) {
		const char *owner = kerf_labels_get(&j->list->items[i]->tags, TAG_NODECLAIM);
		if (owner)
			strset_add(&p->names_on_instances, owner);
	}
	if (j->rc) {
		/*
		 * Launches do not wait on a provider that cannot list: names
		 * are random outside the simulator, so a clash is unlikely.
		 * The list is tried again soon rather than a period later.
		 */
		log_warn(COMPONENT, "listing instances failed: %s", prov_err_text(&j->err, j->rc));
		p->listed = true;
		p->next_gc_ms = prov_now(p) + PROVISIONER_GC_GRACE_MS;
		goto out;
	}
	p->listed = true;
	if (!p->adopted_scan)
		goto out; /* the start's list: names only, nothing is collected before adoption */
	kerf_wall_ms_t wall = prov_wall(p);
	for (size_t i = 0; j->list && i < j->list->n; i++) {
		const struct kerf_instance *in = j->list->items[i];
		if (!in->provider_id)
			continue;
		hmap_set_str(&listed, in->provider_id, (void *)in);
		if (state_claim_by_pid(p->st, in->provider_id))
			continue;
		const char *owner = kerf_labels_get(&in->tags, TAG_NODECLAIM);
		const struct claim_rec *c = owner ? state_claim_by_name(p->st, owner) : NULL;
		if (c && (c->launching || c->deleting))
			continue; /* its launch has not been applied yet, or it is going */
		if (in->launch_ms > 0 && wall - in->launch_ms < PROVISIONER_GC_GRACE_MS)
			continue;
		if (in->state && (strcmp(in->state, "terminated") == 0 ||
				  strcmp(in->state, "shutting-down") == 0))
			continue;
		log_warn(COMPONENT, "instance %s (%s) has no NodeClaim: terminating it",
			 in->provider_id, owner ? owner : "untagged");
		submit_by_name(p, delete_instance_run, in->provider_id);
	}
	/* Claims whose instance the provider no longer lists lost it: the claim goes too. */
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		if (c->gone || c->deleting || c->launching || c->checking ||
		    !c->claim->provider_id || c->launched_ms >= j->started ||
		    hmap_get_str(&listed, c->claim->provider_id))
			continue;
		log_warn(COMPONENT, "NodeClaim %s: the provider no longer lists its instance %s",
			 c->claim->meta->name, c->claim->provider_id);
		prov_terminate(p, c, "instance-gone", false);
	}
out:
	hmap_clear(&listed, NULL);
	kerf_instance_list_free(j->list);
	free(j);
}

static void gc_run(void *arg)
{
	struct list_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.provider->list(j->p->cfg.provider_inst, &j->list, &j->err);
	evq_push_done(j->p->cfg.evq, gc_done, j);
}

void prov_gc(struct provisioner *p)
{
	if (p->gc_running)
		return;
	p->gc_running = true;
	struct list_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->started = prov_now(p);
	prov_submit(p, gc_run, j);
}

/* ------------------------------------------------------------------ drift */

struct drift_job {
	struct provisioner *p;
	size_t n;
	struct claim_rec **claims;
	struct kerf_nodeclaim **copies;
	struct kerf_node_class **classes;
	bool *drifted;
	char **reasons;
	int rc;
	struct kerf_error err;
};

static void drift_done(void *arg)
{
	struct drift_job *j = arg;
	prov_done(j->p);
	if (j->rc && j->rc != KERF_E_UNSUPPORTED)
		log_warn(COMPONENT, "drift check failed: %s", prov_err_text(&j->err, j->rc));
	for (size_t i = 0; i < j->n; i++) {
		struct claim_rec *c = j->claims[i];
		if (j->drifted[i] && !c->drifted && !c->gone) {
			/* Replacing it is the disruption controller's decision; this records it. */
			c->drifted = true;
			log_info(COMPONENT, "NodeClaim %s drifted: %s", c->claim->meta->name,
				 j->reasons[i] ? j->reasons[i] : "no reason given");
			prov_claim_event(j->p, "drifted", c);
		}
		free(j->reasons[i]);
		kerf_nodeclaim_free(j->copies[i]);
		kerf_node_class_free(j->classes[i]);
	}
	free(j->claims);
	free(j->copies);
	free(j->classes);
	free(j->drifted);
	free(j->reasons);
	free(j);
}

static void drift_run(void *arg)
{
	struct drift_job *j = arg;
	for (size_t i = 0; i < j->n && !j->rc; i++) {
		kerf_error_clear(&j->err);
		j->rc = j->p->cfg.provider->is_drifted(j->p->cfg.provider_inst, j->copies[i],
						       j->classes[i], &j->drifted[i],
						       &j->reasons[i], &j->err);
	}
	evq_push_done(j->p->cfg.evq, drift_done, j);
}

void prov_drift(struct provisioner *p)
{
	if (!p->cfg.provider->is_drifted)
		return;
	struct drift_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	for (size_t i = 0; i < p->st->n_claims; i++) {
		struct claim_rec *c = p->st->claims[i];
		if (c->gone || c->deleting || !c->initialized || c->drifted)
			continue;
		xpush(j->claims, j->n, c);
	}
	if (j->n == 0) {
		free(j);
		return;
	}
	j->copies = xcalloc(j->n, sizeof(*j->copies));
	j->classes = xcalloc(j->n, sizeof(*j->classes));
	j->drifted = xcalloc(j->n, sizeof(*j->drifted));
	j->reasons = xcalloc(j->n, sizeof(*j->reasons));
	for (size_t i = 0; i < j->n; i++) {
		j->copies[i] = kerf_nodeclaim_copy(j->claims[i]->claim);
		j->classes[i] = class_copy(&p->pools[j->claims[i]->pool]);
	}
	prov_submit(p, drift_run, j);
}

/* --------------------------------------------------------- instance types */

struct types_job {
	struct provisioner *p;
	size_t pool;
	struct kerf_node_class *nc;
	struct kerf_instance_type_list *types;
	int rc;
	struct kerf_error err;
	/* The status written last (a copy) and, when this job wrote a new one, its text. */
	char *status_before;
	char *status_written;
};

static void types_done(void *arg)
{
	struct types_job *j = arg;
	struct provisioner *p = j->p;
	struct pool_rec *pr = &p->pools[j->pool];
	prov_done(p);
	pr->fetching = false;
	pr->types_at = prov_now(p);
	if (j->rc || !j->types) {
		log_warn(COMPONENT, "NodePool %s: instance types: %s", pr->np->meta->name,
			 j->rc ? prov_err_text(&j->err, j->rc) : "the provider returned none");
		/* Asked again soon, not after a whole refresh period. */
		pr->types_at -= PROVISIONER_TYPES_TTL_MS - 10000;
		kerf_instance_type_list_free(j->types);
	} else {
		size_t n = 0;
		for (size_t i = 0; i < j->types->n; i++)
			n += j->types->items[i]->n_offerings;
		kerf_instance_type_list_free(pr->types);
		free(pr->available);
		pr->types = j->types;
		pr->available = xcalloc(n + 1, sizeof(*pr->available));
		n = 0;
		for (size_t i = 0; i < pr->types->n; i++)
			for (size_t o = 0; o < pr->types->items[i]->n_offerings; o++)
				pr->available[n++] = pr->types->items[i]->offerings[o]->available;
		log_debug(COMPONENT, "NodePool %s: %zu instance types", pr->np->meta->name,
			  pr->types->n);
	}
	if (j->status_written) {
		free(pr->status_written);
		pr->status_written = j->status_written;
	}
	free(j->status_before);
	kerf_node_class_free(j->nc);
	free(j);
}

/*
 * Writes what the provider resolved for the node class to its status,
 * when both plugins can and it changed.  Run after every instance-type
 * fetch, failed or not: a class whose selectors find nothing is the one
 * whose conditions users need to see.
 */
static void write_class_status(struct types_job *j)
{
	const struct provisioner_config *c = &j->p->cfg;
	struct kerf_error err = KERF_ERROR_INIT;
	char *status = NULL;
	int rc;

	if (!j->nc || !c->provider->node_class_status || !c->cluster->update_node_class_status)
		return;
	rc = c->provider->node_class_status(c->provider_inst, j->nc, &status, &err);
	if (rc == 0 && status && !(j->status_before && strcmp(status, j->status_before) == 0)) {
		rc = c->cluster->update_node_class_status(c->cluster_inst, j->nc, status, &err);
		if (rc == 0) {
			j->status_written = status;
			status = NULL;
		}
	}
	if (rc)
		log_warn(COMPONENT, "%s %s: status: %s", j->nc->ref->kind, j->nc->meta->name,
			 prov_err_text(&err, rc));
	free(status);
}

static void types_run(void *arg)
{
	struct types_job *j = arg;
	kerf_error_clear(&j->err);
	j->rc = j->p->cfg.provider->get_instance_types(j->p->cfg.provider_inst, j->nc, &j->types,
						       &j->err);
	write_class_status(j);
	evq_push_done(j->p->cfg.evq, types_done, j);
}

void prov_fetch_types(struct provisioner *p, size_t pool)
{
	struct pool_rec *pr = &p->pools[pool];
	if (pr->fetching)
		return;
	pr->fetching = true;
	struct types_job *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->pool = pool;
	j->nc = class_copy(pr);
	j->status_before = pr->status_written ? xstrdup(pr->status_written) : NULL;
	prov_submit(p, types_run, j);
}
