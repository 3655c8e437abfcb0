/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision_plan.c - the packing problem of one batch round, the packer
 * call, and the plan read back as NodeClaims, reuse of existing capacity
 * and pods left over.
 *
 * Packing types are the pools' instance types (allocatable less the
 * DaemonSets a node of the type runs in that pool, offerings narrowed to
 * the pool) followed by one type
 * per existing node, which has no offerings: only that node's open slot
 * uses it, so the packer never launches one.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/taints.h>

#include "provision_int.h"
#include "util.h"

#define ZONE_KEY "topology.kubernetes.io/zone"
#define CT_KEY "karpenter.sh/capacity-type"
#define TYPE_KEY "node.kubernetes.io/instance-type"

/*
 * Everything the problem points into, freed together.  The host is never
 * older than a packer, so it lays the problem's objects out in arrays of
 * its own; the problem's lists point into them.
 */
struct pbuild {
	struct kerf_pack_problem prob;
	struct kerf_pack_type *types;
	const struct kerf_pack_type **type_list;
	const struct kerf_pack_offering **offering_list; /* every type's offerings in turn */
	struct kerf_pack_group *groups;
	const struct kerf_pack_group **group_list;
	struct kerf_pack_conflict *conflicts;
	const struct kerf_pack_conflict **conflict_list;
	size_t cap_conflicts;
	struct kerf_pack_open_node *open;
	const struct kerf_pack_open_node **open_list;
	size_t *open_existing; /* open slot -> existing index */
	int64_t **open_rem;
	uint32_t **open_groups;
	struct kerf_pack_pool *pools;
	const struct kerf_pack_pool **pool_list;
	const int64_t **type_cap;
	int64_t *none_remaining; /* the stand-in pool when there is no NodePool */
	struct kerf_pack_min_values **min_values;	     /* per pool, its keys */
	const struct kerf_pack_min_values ***min_value_list; /* per pool */
	size_t n_min_pools;
	size_t n_existing_types;
	size_t first_existing_type;
};

static void pbuild_free(struct pbuild *b)
{
	for (size_t i = 0; i < b->prob.n_open; i++) {
		free(b->open_rem[i]);
		free(b->open_groups[i]);
	}
	free(b->open_rem);
	free(b->open_groups);
	free(b->open);
	free(b->open_list);
	free(b->open_existing);
	free(b->types);
	free(b->type_list);
	free(b->offering_list);
	free(b->groups);
	free(b->group_list);
	free(b->conflicts);
	free(b->conflict_list);
	free(b->type_cap);
	free(b->none_remaining);
	for (size_t i = 0; i < b->n_min_pools; i++) {
		for (size_t k = 0; k < b->pools[i].n_min_values; k++)
			free((void *)b->min_values[i][k].value_of);
		free(b->min_values[i]);
		free(b->min_value_list[i]);
	}
	free(b->min_values);
	free(b->min_value_list);
	free(b->pools);
	free(b->pool_list);
}

/* One packing type per existing node, appended after the pools' types. */
static void existing_types(struct prov *p, struct pbuild *b)
{
	b->first_existing_type = p->n_types;
	for (size_t e = 0; e < p->in->n_existing; e++) {
		const struct prov_existing *ex = &p->in->existing[e];
		xgrow(p->types, p->cap_types, p->n_types + 1);
		struct ptype *t = &p->types[p->n_types++];
		memset(t, 0, sizeof(*t));
		t->pool = SIZE_MAX;
		t->alloc = xcalloc(p->nd, sizeof(int64_t));
		t->cap = xcalloc(p->nd, sizeof(int64_t));
		prov_vector(p, &ex->allocatable, t->alloc);
		prov_vector(p, &ex->capacity, t->cap);
	}
	b->n_existing_types = p->in->n_existing;
}

static void drop_existing_types(struct prov *p, const struct pbuild *b)
{
	for (size_t i = b->first_existing_type; i < p->n_types; i++) {
		free(p->types[i].alloc);
		free(p->types[i].cap);
	}
	p->n_types = b->first_existing_type;
}

static void add_conflict(struct pbuild *b, uint32_t a, uint32_t c)
{
	xgrow(b->conflicts, b->cap_conflicts, b->prob.n_conflicts + 1);
	b->conflicts[b->prob.n_conflicts++] = (struct kerf_pack_conflict){a, c};
}

static void build_conflicts(const struct prov *p, struct pbuild *b)
{
	for (size_t i = 0; i < p->n_pgroups; i++) {
		const struct group *gi = &p->groups[p->pgroups[i].group];
		if (!gi->rep->n_anti_affinity && !gi->rep->n_host_ports)
			continue;
		for (size_t j = 0; j < p->n_pgroups; j++) {
			const struct group *gj = &p->groups[p->pgroups[j].group];
			/* Pairs where both could start the check are added once. */
			bool j_first = (gj->rep->n_anti_affinity || gj->rep->n_host_ports) && j < i;
			if (j == i || j_first || p->pgroups[i].group == p->pgroups[j].group)
				continue;
			if (groups_conflict(gi, gj))
				add_conflict(b, (uint32_t)(i < j ? i : j), (uint32_t)(i < j ? j : i));
		}
	}
}

static void build_open(const struct prov *p, struct pbuild *b)
{
	const struct prov_input *in = p->in;
	size_t n = in->n_existing ? in->n_existing : 1;

	b->open = xcalloc(n, sizeof(*b->open));
	b->open_existing = xcalloc(n, sizeof(size_t));
	b->open_rem = xcalloc(n, sizeof(int64_t *));
	b->open_groups = xcalloc(n, sizeof(uint32_t *));
	int64_t *used = xcalloc(p->nd, sizeof(int64_t));
	for (size_t e = 0; e < in->n_existing; e++) {
		const struct prov_existing *ex = &in->existing[e];
		const int64_t *alloc = p->types[b->first_existing_type + e].alloc;
		size_t o = b->prob.n_open;
		long zone = -1;
		for (size_t z = 0; ex->zone && z < p->n_zones; z++)
			if (strcmp(p->zones[z], ex->zone) == 0)
				zone = (long)z;
		if (zone < 0 || ex->unschedulable)
			continue;
		int64_t *rem = xcalloc(p->nd, sizeof(int64_t));
		memcpy(rem, alloc, p->nd * sizeof(int64_t));
		for (size_t k = 0; k < ex->n_pods; k++) {
			prov_vector(p, &ex->pods[k]->requests, used);
			for (size_t d = 0; d < p->nd; d++)
				rem[d] = rem[d] > used[d] ? rem[d] - used[d] : 0;
		}
		uint32_t *groups = xcalloc(p->n_pgroups ? p->n_pgroups : 1, sizeof(uint32_t));
		size_t ng = 0;
		for (size_t g = 0; g < p->n_pgroups; g++)
			if (pod_fits_existing(p, &p->groups[p->pgroups[g].group], e))
				groups[ng++] = (uint32_t)g;
		b->open_rem[o] = rem;
		b->open_groups[o] = groups;
		b->open_existing[o] = e;
		b->open[o] = (struct kerf_pack_open_node){
		    .type = (uint32_t)(b->first_existing_type + e),
		    .zone = (uint32_t)zone,
		    .capacity_type = ex->capacity_type,
		    .remaining = rem,
		    .n_groups = ng,
		    .groups = groups,
		};
		b->prob.n_open++;
	}
	free(used);
	b->open_list = xcalloc(n, sizeof(*b->open_list));
	for (size_t o = 0; o < b->prob.n_open; o++)
		b->open_list[o] = &b->open[o];
	b->prob.open = b->open_list;
}

/*
 * Pool pi's minValues as the packer sees them: for each key, every type's
 * value as a small index (types of other pools and existing nodes have
 * none).
 */
static void pool_min_values(const struct prov *p, struct pbuild *b, size_t pi)
{
	const struct kerf_reqset *r = p->pools[pi].reqs;
	struct kerf_pack_pool *pp = &b->pools[pi];
	size_t n = 0;

	for (size_t i = 0; i < kerf_reqset_count(r); i++)
		n += kerf_reqset_min_values(r, kerf_reqset_key(r, i)) > 0;
	if (n == 0)
		return;
	b->min_values[pi] = xcalloc(n, sizeof(**b->min_values));
	b->min_value_list[pi] = xcalloc(n, sizeof(**b->min_value_list));
	for (size_t i = 0; i < kerf_reqset_count(r); i++) {
		const char *key = kerf_reqset_key(r, i);
		int32_t min = kerf_reqset_min_values(r, key);
		struct kerf_pack_min_values *mv = &b->min_values[pi][pp->n_min_values];
		uint32_t *value_of = xcalloc(p->n_types ? p->n_types : 1, sizeof(uint32_t));
		struct strset seen = {0};
		if (min <= 0) {
			free(value_of);
			continue;
		}
		for (size_t t = 0; t < p->n_types; t++) {
			const char *const *v;
			value_of[t] = UINT32_MAX;
			if (p->types[t].pool == pi &&
			    kerf_reqset_values(p->types[t].reqs, key, &v) > 0) {
				long at = strset_find(&seen, v[0]);
				value_of[t] =
				    (uint32_t)(at >= 0 ? (size_t)at : strset_add(&seen, v[0]));
			}
		}
		*mv = (struct kerf_pack_min_values){.key = key,
						    .min = (uint32_t)min,
						    .n_values = (uint32_t)seen.n,
						    .value_of = value_of};
		strset_clear(&seen);
		b->min_value_list[pi][pp->n_min_values++] = mv;
	}
	pp->min_values = b->min_value_list[pi];
}

static void build_problem(struct prov *p, struct pbuild *b)
{
	memset(b, 0, sizeof(*b));
	existing_types(p, b);
	b->prob.n_dims = (uint32_t)p->nd;
	b->prob.dim_names = (const char *const *)p->dim_names;
	b->prob.n_zones = (uint32_t)p->n_zones;
	b->prob.zone_names = (const char *const *)p->zones;

	size_t n_off = 0;
	for (size_t t = 0; t < p->n_types; t++)
		n_off += p->types[t].n_off;
	b->offering_list = xcalloc(n_off ? n_off : 1, sizeof(*b->offering_list));
	b->types = xcalloc(p->n_types ? p->n_types : 1, sizeof(*b->types));
	b->type_list = xcalloc(p->n_types ? p->n_types : 1, sizeof(*b->type_list));
	b->type_cap = xcalloc(p->n_types ? p->n_types : 1, sizeof(*b->type_cap));
	n_off = 0;
	for (size_t t = 0; t < p->n_types; t++) {
		const struct ptype *pt = &p->types[t];
		const size_t e = t - b->first_existing_type;
		for (size_t o = 0; o < pt->n_off; o++)
			b->offering_list[n_off + o] = &pt->off[o];
		b->types[t] = (struct kerf_pack_type){
		    .name = pt->it ? pt->it->name : p->in->existing[e].instance_type,
		    .allocatable = pt->alloc,
		    .n_offerings = pt->n_off,
		    .offerings = b->offering_list + n_off,
		};
		n_off += pt->n_off;
		if (!b->types[t].name)
			b->types[t].name = p->in->existing[e].name;
		b->type_cap[t] = pt->cap;
		b->type_list[t] = &b->types[t];
	}
	b->prob.n_types = p->n_types;
	b->prob.types = b->type_list;

	b->groups = xcalloc(p->n_pgroups ? p->n_pgroups : 1, sizeof(*b->groups));
	b->group_list = xcalloc(p->n_pgroups ? p->n_pgroups : 1, sizeof(*b->group_list));
	for (size_t i = 0; i < p->n_pgroups; i++) {
		const struct pgroup *pg = &p->pgroups[i];
		const struct group *g = &p->groups[pg->group];
		b->groups[i] = (struct kerf_pack_group){
		    .count = pg->count,
		    .request = g->request,
		    .nodepool = g->pool >= 0 ? (uint32_t)g->pool : 0,
		    .n_types = g->pool >= 0 ? g->n_types : 0,
		    .types = g->types,
		    .zone = pg->zone,
		    .capacity_types = g->ct_mask,
		    .max_per_node = g->max_per_node,
		};
		b->group_list[i] = &b->groups[i];
	}
	b->prob.n_groups = p->n_pgroups;
	b->prob.groups = b->group_list;
	build_conflicts(p, b);
	b->conflict_list =
	    xcalloc(b->prob.n_conflicts ? b->prob.n_conflicts : 1, sizeof(*b->conflict_list));
	for (size_t c = 0; c < b->prob.n_conflicts; c++)
		b->conflict_list[c] = &b->conflicts[c];
	b->prob.conflicts = b->conflict_list;
	build_open(p, b);

	/* Groups no pool accepts still need a pool index: a stand-in that opens nothing. */
	size_t np = p->n_pools ? p->n_pools : 1;
	b->pools = xcalloc(np, sizeof(*b->pools));
	b->pool_list = xcalloc(np, sizeof(*b->pool_list));
	if (!p->n_pools) {
		b->none_remaining = xcalloc(p->nd, sizeof(int64_t));
		b->pools[0] = (struct kerf_pack_pool){
		    .name = "(none)", .remaining = b->none_remaining, .type_capacity = b->type_cap};
	}
	b->min_values = xcalloc(np, sizeof(*b->min_values));
	b->min_value_list = xcalloc(np, sizeof(*b->min_value_list));
	b->n_min_pools = p->n_pools;
	for (size_t i = 0; i < p->n_pools; i++) {
		b->pools[i] =
		    (struct kerf_pack_pool){.name = p->pools[i].np->meta->name,
					    .remaining = p->pools[i].remaining,
					    .type_capacity = b->type_cap,
					    .nodes_remaining = p->pools[i].nodes_remaining};
		pool_min_values(p, b, i);
	}
	for (size_t i = 0; i < np; i++)
		b->pool_list[i] = &b->pools[i];
	b->prob.n_pools = np;
	b->prob.pools = b->pool_list;
}

/* ------------------------------------------------------------ reading the plan */

static int copy_taints(struct kerf_taints *dst, const struct kerf_taints *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (kerf_taints_add(dst, src->items[i]))
			return KERF_E_NOMEM;
	return 0;
}

static int copy_labels(struct kerf_labels *dst, const struct kerf_labels *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (kerf_labels_set(dst, src->items[i]->key, src->items[i]->value))
			return KERF_E_NOMEM;
	return 0;
}

/*
 * The claim's requirements: the pool's, every pod group's on it, and the
 * packer's decision (instance types, zone, capacity type).
 */
static int claim_requirements(const struct prov *p, const struct kerf_pack_node *n,
			      const struct prov_claim *pc, struct kerf_nodeclaim *c,
			      struct kerf_error *err)
{
	struct kerf_reqset *r = kerf_reqset_copy(p->pools[n->nodepool].reqs);
	const char **names = xcalloc(pc->n_options ? pc->n_options : 1, sizeof(char *));
	const char *ct = kerf_capacity_type_name(n->capacity_type);
	int rc = r ? 0 : KERF_E_NOMEM;

	for (size_t a = 0; rc == 0 && a < n->n_assign; a++)
		rc = kerf_reqset_intersect(
		    r, p->groups[p->pgroups[n->assign[a]->group].group].podreq, err);
	for (size_t i = 0; i < pc->n_options; i++)
		names[i] = pc->options[i]->name;
	if (rc == 0)
		rc = kerf_reqset_add(r, TYPE_KEY, KERF_OP_IN, names, pc->n_options, 0, err);
	if (rc == 0)
		rc = kerf_reqset_add(r, ZONE_KEY, KERF_OP_IN, &pc->zone, 1, 0, err);
	if (rc == 0)
		rc = kerf_reqset_add(r, CT_KEY, KERF_OP_IN, &ct, 1, 0, err);
	if (rc == 0)
		rc = kerf_reqset_to_requirements(r, &c->requirements, err);
	kerf_reqset_free(r);
	free(names);
	if (rc == KERF_E_NOMEM)
		return kerf_error_set(err, rc, "out of memory building a NodeClaim");
	return rc;
}

/* Hands out the next `count` pods of a pack group's slice. */
static size_t take_pods(const struct prov *p, size_t *cursor, uint32_t pg, uint32_t count,
			size_t *out)
{
	const struct pgroup *g = &p->pgroups[pg];
	const struct group *gr = &p->groups[g->group];

	for (uint32_t k = 0; k < count; k++)
		out[k] = gr->pods[g->first + cursor[pg]++];
	return count;
}

static size_t assigned_pods(const struct kerf_pack_node *n)
{
	size_t total = 0;

	for (size_t a = 0; a < n->n_assign; a++)
		total += n->assign[a]->count;
	return total;
}

static int new_claim(struct prov *p, const struct kerf_pack_node *n, size_t *cursor,
		     size_t *seq, struct prov_result *out, struct kerf_error *err)
{
	const struct pstate *ps = &p->pools[n->nodepool];
	const struct kerf_nodepool *np = ps->np;
	struct prov_claim *pc = &out->claims[out->n_claims];
	struct kerf_nodeclaim *c = kerf_nodeclaim_new();
	struct strbuf name;
	int rc;

	pc->claim = c;
	out->n_claims++;
	pc->pool = ps->input;
	pc->type = p->types[n->type].it;
	pc->capacity_type = n->capacity_type;
	pc->price = n->price;
	pc->n_options = n->n_options < p->max_types ? n->n_options : p->max_types;
	pc->options = xcalloc(pc->n_options ? pc->n_options : 1, sizeof(*pc->options));
	for (size_t i = 0; i < pc->n_options; i++)
		pc->options[i] = p->types[n->options[i]].it;
	/* The zone string is the input's, so the result outlives this batch's state. */
	for (size_t o = 0; o < pc->type->n_offerings && !pc->zone; o++)
		if (pc->type->offerings[o]->zone &&
		    strcmp(pc->type->offerings[o]->zone, p->zones[n->zone]) == 0)
			pc->zone = pc->type->offerings[o]->zone;
	pc->pods = xcalloc(assigned_pods(n) + 1, sizeof(size_t));
	for (size_t a = 0; a < n->n_assign; a++)
		pc->n_pods += take_pods(p, cursor, n->assign[a]->group, n->assign[a]->count,
					pc->pods + pc->n_pods);

	sb_init(&name);
	sb_printf(&name, "%s-%zu", np->meta->name, ++seq[n->nodepool]);
	c->meta->name = sb_detach(&name);
	c->meta->api_version = xstrdup("karpenter.sh/v1");
	c->meta->kind = xstrdup("NodeClaim");
	c->nodepool = xstrdup(np->meta->name);
	c->node_class_ref->group = xstrdup_or_null(np->node_class_ref->group);
	c->node_class_ref->kind = xstrdup_or_null(np->node_class_ref->kind);
	c->node_class_ref->name = xstrdup_or_null(np->node_class_ref->name);
	c->expire_after_ms = np->expire_after_ms;
	c->termination_grace_period_ms = np->termination_grace_period_ms;
	c->state = KERF_CLAIM_PENDING;
	kerf_resources_init(&c->resource_requests);
	kerf_resources_add(&c->resource_requests,
			   p->types[n->type].overhead ? p->types[n->type].overhead : &ps->overhead);
	for (size_t i = 0; i < pc->n_pods; i++)
		kerf_resources_add(&c->resource_requests, &p->in->pods[pc->pods[i]]->requests);
	if (copy_labels(&c->meta->labels, &np->template_labels) ||
	    kerf_labels_set(&c->meta->labels, "karpenter.sh/nodepool", np->meta->name) ||
	    copy_labels(&c->meta->annotations, &np->template_annotations) ||
	    copy_taints(&c->taints, &np->taints) ||
	    copy_taints(&c->startup_taints, &np->startup_taints))
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory building a NodeClaim");
	if ((rc = claim_requirements(p, n, pc, c, err)) != 0)
		return rc;
	for (size_t i = 0; i < pc->n_pods; i++) {
		p->pods[pc->pods[i]].where = POD_NEW;
		p->pods[pc->pods[i]].index = out->n_claims - 1;
	}
	out->total_price += n->price;
	return 0;
}

static void reuse(struct prov *p, const struct pbuild *b, const struct kerf_pack_node *n,
		  size_t *cursor, struct prov_result *out)
{
	struct prov_reuse *r = &out->reused[out->n_reused++];

	r->existing = b->open_existing[n->open_index];
	r->pods = xcalloc(assigned_pods(n) + 1, sizeof(size_t));
	for (size_t a = 0; a < n->n_assign; a++)
		r->n_pods += take_pods(p, cursor, n->assign[a]->group, n->assign[a]->count,
				       r->pods + r->n_pods);
	for (size_t i = 0; i < r->n_pods; i++) {
		p->pods[r->pods[i]].where = POD_REUSED;
		p->pods[r->pods[i]].index = r->existing;
	}
}

/*
 * Pods the packer left over.  In a pool that is not the last, they move on
 * to the next pool (carrying the reasons so far); otherwise these are their
 * final reasons.
 */
static void leftovers(struct prov *p, const struct kerf_pack_unplaced *u, size_t *cursor,
		      bool *spilled)
{
	const struct group *g = &p->groups[p->pgroups[u->group].group];
	size_t *pods = xcalloc(u->count + 1, sizeof(size_t));
	size_t n = take_pods(p, cursor, u->group, u->count, pods);
	const char *pool = g->pool >= 0 ? p->pools[g->pool].np->meta->name : NULL;
	bool later = g->pool >= 0 && (size_t)g->pool + 1 < p->n_pools;

	/* No pool left: a pod with a preference left drops it and starts over. */
	if (!later && prov_relax(p, g, pods, n)) {
		free(pods);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct podst *ps = &p->pods[pods[i]];
		struct reasons *to = later ? &ps->carried : &ps->final;
		reasons_append(to, &g->refusals);
		if (pool)
			reasons_add(to, pool, "%s", u->reason ? u->reason : "not placed");
		if (later) {
			ps->min_pool = (size_t)g->pool + 1;
			*spilled = true;
		}
	}
	free(pods);
}

/* ------------------------------------------------------------ packers per pool */

static int call_packer(const struct prov *p, const struct prov_packer *pk,
		       const struct kerf_pack_problem *prob, struct kerf_pack_plan **plan,
		       double *ms, struct kerf_error *err)
{
	/* Real time: a solve takes none on the virtual clock. */
	int64_t t0 = now_mono_ns();
	int rc = pk->ops->solve(pk->inst, prob, p->in->budget_ms, plan, err);

	*ms = (double)(now_mono_ns() - t0) / 1e6;
	if (rc == 0 && !*plan)
		rc = kerf_error_set(err, KERF_E_INTERNAL, "packer %s returned no plan", pk->name);
	return rc;
}

static long dim_index(const struct prov *p, const char *name)
{
	for (size_t d = 0; d < p->nd; d++)
		if (strcmp(p->dim_names[d], name) == 0)
			return (long)d;
	return -1;
}

static void add_dims(const struct prov *p, struct kerf_resources *r, const int64_t *v, int64_t n)
{
	long cpu = dim_index(p, "cpu"), mem = dim_index(p, "memory");

	if (cpu >= 0)
		r->cpu_millis += v[cpu] * n;
	if (mem >= 0)
		r->memory_bytes += v[mem] * n;
}

/*
 * The figures of a plan's part for one pool.  `whole`: every group of the
 * problem is the pool's, so the plan's bound and optimality are the pool's.
 */
static void plan_stats(const struct prov *p, const struct kerf_pack_problem *prob,
		       const struct kerf_pack_plan *plan, uint32_t pool, bool whole,
		       const struct prov_packer *pk, double ms, struct prov_plan_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->packer = pk->name;
	st->solve_ms = ms;
	st->work = plan->work;
	st->hit_time_limit = plan->hit_time_limit;
	if (whole) {
		st->lower_bound = plan->lower_bound;
		st->optimal = plan->optimal;
	}
	for (size_t g = 0; g < prob->n_groups; g++)
		if (prob->groups[g]->nodepool == pool)
			st->pods += prob->groups[g]->count;
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		bool fresh = n->open_index < 0;
		for (size_t a = 0; a < n->n_assign; a++) {
			const struct kerf_pack_assignment *as = n->assign[a];
			const struct kerf_pack_group *g = prob->groups[as->group];
			if (g->nodepool != pool)
				continue;
			st->placed += as->count;
			if (fresh) {
				st->placed_new += as->count;
				add_dims(p, &st->requested, g->request, as->count);
			}
		}
		if (fresh && n->nodepool == pool) {
			st->nodes++;
			st->price += n->price;
			add_dims(p, &st->allocatable, prob->types[n->type]->allocatable, 1);
		}
	}
}

static const struct prov_packer *pool_packer(const struct prov *p, long pool,
					     const struct prov_packer *dflt)
{
	if (pool < 0)
		return dflt;
	const struct prov_pool *in = &p->in->pools[p->pools[pool].input];
	return in->packer ? in->packer : dflt;
}

static const struct prov_packer *pool_shadow(const struct prov *p, long pool)
{
	return pool < 0 ? NULL : p->in->pools[p->pools[pool].input].shadow;
}

static long group_pool(const struct prov *p, size_t pg)
{
	return p->groups[p->pgroups[pg].group].pool;
}

/* True when some pool with groups is not the default packer's alone. */
static bool per_pool(const struct prov *p, const struct prov_packer *dflt)
{
	for (size_t i = 0; i < p->n_pgroups; i++) {
		long pool = group_pool(p, i);
		const struct prov_packer *pk = pool_packer(p, pool, dflt);
		if (pool_shadow(p, pool) || pk->ops != dflt->ops || pk->inst != dflt->inst)
			return true;
	}
	return false;
}

static struct prov_pool_stats *next_stats(const struct prov *p, struct prov_result *out,
					  long pool)
{
	struct prov_pool_stats *st = &out->pool_stats[out->n_pool_stats++];

	memset(st, 0, sizeof(*st));
	st->pool = p->pools[pool].input;
	return st;
}

/* Every pool solved in one call: the plan as it is, figures split by pool. */
static int solve_together(struct prov *p, const struct pbuild *b, const struct prov_packer *dflt,
			  struct prov_result *out, struct kerf_pack_plan **plan,
			  struct kerf_error *err)
{
	double ms;
	int rc = call_packer(p, dflt, &b->prob, plan, &ms, err);
	if (rc)
		return rc;

	bool *has = xcalloc(p->n_pools + 1, sizeof(bool));
	size_t n_with = 0;
	for (size_t i = 0; i < p->n_pgroups; i++) {
		long pool = group_pool(p, i);
		if (pool >= 0 && !has[pool]) {
			has[pool] = true;
			n_with++;
		}
	}
	out->pool_stats = xcalloc(n_with + 1, sizeof(*out->pool_stats));
	for (size_t pool = 0; pool < p->n_pools; pool++)
		if (has[pool])
			plan_stats(p, &b->prob, *plan, (uint32_t)pool, n_with == 1, dflt, ms,
				   &next_stats(p, out, (long)pool)->primary);
	free(has);
	return 0;
}

/*
 * One pool's share of the problem, with open nodes as earlier pools left
 * them.  Its groups are the full problem's; conflicts and open nodes are
 * its own, renumbered.
 */
struct sub {
	struct kerf_pack_problem prob;
	size_t n;
	uint32_t *to_full;
	int32_t *to_sub; /* full group -> sub group, -1: not in this pool */
	const struct kerf_pack_group **group_list;
	struct kerf_pack_conflict *conflicts;
	const struct kerf_pack_conflict **conflict_list;
	struct kerf_pack_open_node *open;
	const struct kerf_pack_open_node **open_list;
	uint32_t *open_groups; /* n_open * n, the groups each open node takes */
};

/* Room left on the open nodes and the groups earlier pools put there. */
struct openstate {
	int64_t *rem; /* n_open * nd */
	uint8_t *on;  /* n_open * n_pgroups */
	uint8_t *blocked; /* n_pgroups, scratch */
};

static void sub_free(struct sub *s)
{
	free(s->to_full);
	free(s->to_sub);
	free(s->group_list);
	free(s->conflicts);
	free(s->conflict_list);
	free(s->open);
	free(s->open_list);
	free(s->open_groups);
}

static void sub_build(const struct prov *p, const struct pbuild *b, long pool,
		      struct openstate *os, struct sub *s)
{
	const struct kerf_pack_problem *full = &b->prob;
	size_t ng = full->n_groups, nd = p->nd;

	memset(s, 0, sizeof(*s));
	s->prob = *full;
	s->to_full = xcalloc(ng + 1, sizeof(uint32_t));
	s->to_sub = xcalloc(ng + 1, sizeof(int32_t));
	s->group_list = xcalloc(ng + 1, sizeof(*s->group_list));
	for (size_t g = 0; g < ng; g++) {
		s->to_sub[g] = -1;
		if (group_pool(p, g) != pool)
			continue;
		s->to_sub[g] = (int32_t)s->n;
		s->to_full[s->n] = (uint32_t)g;
		s->group_list[s->n++] = full->groups[g];
	}
	s->conflicts = xcalloc(full->n_conflicts + 1, sizeof(*s->conflicts));
	s->conflict_list = xcalloc(full->n_conflicts + 1, sizeof(*s->conflict_list));
	s->prob.n_conflicts = 0;
	for (size_t c = 0; c < full->n_conflicts; c++) {
		int32_t a = s->to_sub[full->conflicts[c]->a], z = s->to_sub[full->conflicts[c]->b];
		if (a >= 0 && z >= 0) {
			s->conflicts[s->prob.n_conflicts] =
			    (struct kerf_pack_conflict){(uint32_t)a, (uint32_t)z};
			s->conflict_list[s->prob.n_conflicts] = &s->conflicts[s->prob.n_conflicts];
			s->prob.n_conflicts++;
		}
	}
	s->open = xcalloc(full->n_open + 1, sizeof(*s->open));
	s->open_list = xcalloc(full->n_open + 1, sizeof(*s->open_list));
	s->open_groups = xcalloc(full->n_open * (s->n ? s->n : 1) + 1, sizeof(uint32_t));
	for (size_t o = 0; o < full->n_open; o++) {
		const struct kerf_pack_open_node *fo = full->open[o];
		uint32_t *gl = s->open_groups + o * s->n;
		size_t k = 0;

		/* A group may not join a node holding a group it conflicts with. */
		memset(os->blocked, 0, ng + 1);
		for (size_t c = 0; c < full->n_conflicts; c++) {
			uint32_t a = full->conflicts[c]->a, z = full->conflicts[c]->b;
			if (os->on[o * ng + a])
				os->blocked[z] = 1;
			if (os->on[o * ng + z])
				os->blocked[a] = 1;
		}
		for (size_t i = 0; i < fo->n_groups; i++) {
			int32_t sg = s->to_sub[fo->groups[i]];
			if (sg >= 0 && !os->blocked[fo->groups[i]])
				gl[k++] = (uint32_t)sg;
		}
		s->open[o] = *fo;
		s->open[o].remaining = os->rem + o * nd;
		s->open[o].n_groups = k;
		s->open[o].groups = gl;
		s->open_list[o] = &s->open[o];
	}
	s->prob.n_groups = s->n;
	s->prob.groups = s->group_list;
	s->prob.conflicts = s->conflict_list;
	s->prob.open = s->open_list;
}

/* Takes a pool's plan into the batch's: groups back to full indexes, open room used up. */
static void sub_merge(const struct prov *p, const struct sub *s, struct openstate *os,
		      struct kerf_pack_plan *part, struct kerf_pack_plan *all)
{
	size_t ng = p->n_pgroups, nd = p->nd;

	all->nodes = xrealloc(all->nodes, (all->n_nodes + part->n_nodes + 1) * sizeof(*all->nodes));
	for (size_t i = 0; i < part->n_nodes; i++) {
		struct kerf_pack_node *n = part->nodes[i];
		for (size_t a = 0; a < n->n_assign; a++) {
			uint32_t g = s->to_full[n->assign[a]->group];
			n->assign[a]->group = g;
			if (n->open_index < 0)
				continue;
			int64_t *rem = os->rem + (size_t)n->open_index * nd;
			const int64_t *req = p->groups[p->pgroups[g].group].request;
			for (size_t d = 0; d < nd; d++)
				rem[d] -= req[d] * n->assign[a]->count;
			os->on[(size_t)n->open_index * ng + g] = 1;
		}
		all->nodes[all->n_nodes++] = n;
	}
	all->unplaced = xrealloc(all->unplaced, (all->n_unplaced + part->n_unplaced + 1) *
						    sizeof(*all->unplaced));
	for (size_t i = 0; i < part->n_unplaced; i++) {
		part->unplaced[i]->group = s->to_full[part->unplaced[i]->group];
		all->unplaced[all->n_unplaced++] = part->unplaced[i];
	}
	all->total_price += part->total_price;
	/* The pieces now belong to `all`. */
	part->n_nodes = 0;
	part->n_unplaced = 0;
}

/*
 * Each pool solved by its own packer, in the order pools are tried (pods a
 * pool lets through spill to later pools in the next round, so earlier
 * pools have first claim on open room there too), then its shadow on the
 * same problem.
 */
static int solve_per_pool(struct prov *p, const struct pbuild *b,
			  const struct prov_packer *dflt, struct prov_result *out,
			  struct kerf_pack_plan **plan, struct kerf_error *err)
{
	size_t ng = p->n_pgroups, nd = p->nd, no = b->prob.n_open;
	struct openstate os;
	struct kerf_pack_plan *all = kerf_pack_plan_new();
	int rc = 0;

	os.rem = xcalloc(no * nd + 1, sizeof(int64_t));
	for (size_t o = 0; o < no; o++)
		memcpy(os.rem + o * nd, b->prob.open[o]->remaining, nd * sizeof(int64_t));
	os.on = xcalloc(no * ng + 1, 1);
	os.blocked = xcalloc(ng + 1, 1);
	out->pool_stats = xcalloc(p->n_pools + 1, sizeof(*out->pool_stats));
	/* Pools in order, then the groups no pool takes (the default packer explains them). */
	for (size_t k = 0; k <= p->n_pools && rc == 0; k++) {
		long pool = k < p->n_pools ? (long)k : -1;
		struct sub s;
		struct kerf_pack_plan *part = NULL, *shadow_plan = NULL;
		const struct prov_packer *pk = pool_packer(p, pool, dflt), *sh = pool_shadow(p, pool);
		double ms;

		sub_build(p, b, pool, &os, &s);
		if (s.n == 0) {
			sub_free(&s);
			continue;
		}
		rc = call_packer(p, pk, &s.prob, &part, &ms, err);
		if (rc == 0 && pool >= 0) {
			struct prov_pool_stats *st = next_stats(p, out, pool);
			plan_stats(p, &s.prob, part, (uint32_t)pool, true, pk, ms, &st->primary);
			if (sh) {
				/* A failing challenger costs the comparison, not the batch. */
				struct kerf_error serr;
				kerf_error_clear(&serr);
				if (call_packer(p, sh, &s.prob, &shadow_plan, &ms, &serr) == 0) {
					st->has_shadow = true;
					plan_stats(p, &s.prob, shadow_plan, (uint32_t)pool, true,
						   sh, ms, &st->shadow);
				}
				kerf_pack_plan_free(shadow_plan);
			}
		}
		if (rc == 0)
			sub_merge(p, &s, &os, part, all);
		kerf_pack_plan_free(part);
		sub_free(&s);
	}
	free(os.rem);
	free(os.on);
	free(os.blocked);
	if (rc) {
		kerf_pack_plan_free(all);
		return rc;
	}
	*plan = all;
	return 0;
}

/*
 * NULL when a new node's options, as the claim will list them, keep its
 * pool's minValues; otherwise the first key they fall short on.  Packers
 * keep them (ABI 2.1); this holds any packer to it, so no claim is created
 * that Karpenter would refuse.
 */
static const char *min_values_short(const struct prov *p, const struct kerf_pack_node *n)
{
	const struct kerf_reqset *r = p->pools[n->nodepool].reqs;
	size_t count = n->n_options < p->max_types ? n->n_options : p->max_types;

	for (size_t i = 0; i < kerf_reqset_count(r); i++) {
		const char *key = kerf_reqset_key(r, i);
		int32_t min = kerf_reqset_min_values(r, key);
		struct strset seen = {0};
		bool ok;
		if (min <= 0)
			continue;
		for (size_t o = 0; o < count; o++) {
			const struct ptype *pt = &p->types[n->options[o]];
			const char *const *v;
			if (pt->reqs && kerf_reqset_values(pt->reqs, key, &v) > 0)
				strset_add(&seen, v[0]);
		}
		ok = seen.n >= (size_t)min;
		strset_clear(&seen);
		if (!ok)
			return key;
	}
	return NULL;
}

/* A new node the batch may not create: its pods are left over, with why. */
static void refuse_node(struct prov *p, const struct kerf_pack_node *n, const char *key,
			size_t *cursor, bool *spilled)
{
	struct strbuf why;

	sb_init(&why);
	sb_printf(&why,
		  "minValues: the packer's instance types for a new node give too few "
		  "values of %s",
		  key);
	for (size_t a = 0; a < n->n_assign; a++) {
		struct kerf_pack_unplaced u = {n->assign[a]->group, n->assign[a]->count, why.buf};
		leftovers(p, &u, cursor, spilled);
	}
	sb_free(&why);
}

/* ------------------------------------------------------------ followers */

/* Does every required hostname affinity term of g select a pod the new node n carries? */
static bool node_has_targets(const struct prov *p, const struct group *g,
			     const struct kerf_pack_node *n)
{
	const struct kerf_pod *pod = g->rep;

	for (size_t i = 0; i < pod->n_affinity; i++) {
		const struct kerf_pod_affinity_term *t = pod->affinity[i];
		bool found = false;
		if (!prov_is_key(t->topology_key, HOSTNAME_KEY))
			continue;
		for (size_t a = 0; a < n->n_assign && !found; a++)
			found = prov_term_selects(
			    t, pod, p->groups[p->pgroups[n->assign[a]->group].group].rep);
		if (!found)
			return false;
	}
	return true;
}

static bool group_has_type(const struct group *g, uint32_t t)
{
	for (size_t i = 0; i < g->n_types; i++)
		if (g->types[i] == t)
			return true;
	return false;
}

static const struct kerf_pack_offering *type_offering(const struct ptype *pt, uint32_t zone,
						      kerf_capacity_type ct)
{
	for (size_t o = 0; o < pt->n_off; o++)
		if (pt->off[o].zone == zone && pt->off[o].capacity_type == ct)
			return &pt->off[o];
	return NULL;
}

/*
 * How many of `want` follower pods of g the new node n can take once its
 * options are narrowed to the types that hold them all, within its pool's
 * limits (`pool_cap`: the capacity of the pool's new nodes in the plan).
 * The narrowed options, cheapest first, go to `keep`.
 */
static uint32_t join_room(const struct prov *p, const struct group *g,
			  const struct kerf_pack_node *n, uint32_t want, const int64_t *pool_cap,
			  uint32_t *keep, size_t *n_keep)
{
	const struct pstate *ps = &p->pools[n->nodepool];
	int64_t *used = xcalloc(p->nd, sizeof(int64_t));
	uint32_t k = 0;

	for (size_t a = 0; a < n->n_assign; a++) {
		const struct group *o = &p->groups[p->pgroups[n->assign[a]->group].group];
		for (size_t d = 0; d < p->nd; d++)
			used[d] += o->request[d] * n->assign[a]->count;
	}
	*n_keep = 0;
	for (; k < want; k++) {
		size_t m = 0;
		for (size_t d = 0; d < p->nd; d++)
			used[d] += g->request[d];
		for (size_t o = 0; o < n->n_options; o++) {
			const struct ptype *pt = &p->types[n->options[o]];
			bool fits = group_has_type(g, n->options[o]) &&
				    type_offering(pt, n->zone, n->capacity_type);
			for (size_t d = 0; fits && d < p->nd; d++)
				fits = used[d] <= pt->alloc[d] &&
				       pool_cap[d] - p->types[n->type].cap[d] + pt->cap[d] <=
					   ps->remaining[d];
			if (fits)
				keep[m++] = n->options[o];
		}
		if (m == 0)
			break;
		*n_keep = m;
	}
	free(used);
	return k;
}

/* Does a group on node n keep g off it (host ports, hostname anti-affinity)? */
static bool node_repels(const struct prov *p, const struct group *g, const struct kerf_pack_node *n)
{
	for (size_t a = 0; a < n->n_assign; a++)
		if (groups_conflict(g, &p->groups[p->pgroups[n->assign[a]->group].group]))
			return true;
	return false;
}

/*
 * How many of `want` follower pods of g fit on the open node n (an existing
 * node or a launching NodeClaim) beside what it holds and what the plan
 * adds to it.
 */
static uint32_t join_open(const struct prov *p, const struct pbuild *b, const struct group *g,
			  const struct kerf_pack_node *n, uint32_t want)
{
	size_t o = (size_t)n->open_index;
	int64_t *rem;
	uint32_t k = 0;

	if (!g->podreq || !pod_fits_existing(p, g, b->open_existing[o]))
		return 0;
	rem = xcalloc(p->nd, sizeof(int64_t));
	memcpy(rem, b->open_rem[o], p->nd * sizeof(int64_t));
	for (size_t a = 0; a < n->n_assign; a++) {
		const struct group *o_g = &p->groups[p->pgroups[n->assign[a]->group].group];
		for (size_t d = 0; d < p->nd; d++)
			rem[d] -= o_g->request[d] * n->assign[a]->count;
	}
	for (; k < want; k++) {
		bool fits = true;
		for (size_t d = 0; d < p->nd && fits; d++)
			fits = g->request[d] <= rem[d];
		if (!fits)
			break;
		for (size_t d = 0; d < p->nd; d++)
			rem[d] -= g->request[d];
	}
	free(rem);
	return k;
}

/*
 * How many of `want` follower pods of g the new node n takes once its
 * options narrow to the types that hold them too, within its pool's limits
 * and minValues; n's options, type and price follow.
 */
static uint32_t join_new(const struct prov *p, const struct kerf_pack_plan *plan,
			 const struct group *g, struct kerf_pack_node *n, uint32_t want)
{
	int64_t *pool_cap;
	uint32_t *keep, k;
	size_t n_keep, n_opt = n->n_options;

	if (g->pool < 0 || n->nodepool != (uint32_t)g->pool || !g->zones[n->zone] ||
	    !(g->ct_mask & (1u << n->capacity_type)))
		return 0;
	pool_cap = xcalloc(p->nd, sizeof(int64_t));
	for (size_t j = 0; j < plan->n_nodes; j++)
		if (plan->nodes[j]->open_index < 0 && plan->nodes[j]->nodepool == n->nodepool)
			for (size_t d = 0; d < p->nd; d++)
				pool_cap[d] += p->types[plan->nodes[j]->type].cap[d];
	keep = xcalloc(n->n_options + 1, sizeof(uint32_t));
	k = join_room(p, g, n, want, pool_cap, keep, &n_keep);
	if (k > 0) {
		/* The claim must still keep its pool's minValues. */
		uint32_t *was = n->options;
		n->options = keep;
		n->n_options = n_keep;
		if (min_values_short(p, n)) {
			k = 0;
			n->options = was;
			n->n_options = n_opt;
		} else {
			keep = was;
			n->type = n->options[0];
			n->price =
			    type_offering(&p->types[n->type], n->zone, n->capacity_type)->price;
		}
	}
	free(keep);
	free(pool_cap);
	return k;
}

/*
 * Pods whose required hostname affinity selects only pods pending in this
 * batch join the nodes the plan gives those pods, as Karpenter adds a pod
 * to a node or in-flight NodeClaim holding its targets: open nodes first
 * (as Karpenter tries existing capacity first), then new ones, whose
 * options narrow to the types that hold the follower too.  Those no such
 * node has room for are left over (the next pool, a relaxation, or
 * pending).
 */
static void join_followers(struct prov *p, const struct pbuild *b, struct kerf_pack_plan *plan)
{
	size_t n_groups = p->n_groups;

	for (size_t gi = 0; gi < n_groups; gi++) {
		const struct group *g = &p->groups[gi];
		uint32_t left = (uint32_t)g->n, pg;
		if (!g->joins)
			continue;
		pg = (uint32_t)p->n_pgroups;
		prov_add_pgroup(p, gi, 0, left, -1);
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < plan->n_nodes && left > 0; i++) {
				struct kerf_pack_node *n = plan->nodes[i];
				uint32_t want = g->max_per_node && g->max_per_node < left
						    ? g->max_per_node
						    : left;
				uint32_t k;
				if ((n->open_index >= 0) != (pass == 0) ||
				    !node_has_targets(p, g, n) || node_repels(p, g, n))
					continue;
				k = pass == 0 ? join_open(p, b, g, n, want)
					      : join_new(p, plan, g, n, want);
				if (k > 0) {
					struct kerf_pack_assignment *a =
					    kerf_pack_node_add_assignment(n);
					a->group = pg;
					a->count = k;
					left -= k;
				}
			}
		}
		if (left > 0) {
			struct kerf_pack_unplaced *u = kerf_pack_plan_add_unplaced(plan);
			u->group = pg;
			u->count = left;
			u->reason =
			    xstrdup("required pod affinity (kubernetes.io/hostname): no node of "
				    "the pods it follows has room for it");
		}
	}
}

int plan_solve(struct prov *p, struct prov_result *out, bool *spilled, struct kerf_error *err)
{
	struct pbuild b;
	struct kerf_pack_plan *plan = NULL;
	size_t *cursor = NULL, *seq = NULL;
	const struct prov_packer dflt = {p->in->packer, p->in->packer_inst,
					 p->in->packer_name ? p->in->packer_name : "packer"};
	int rc;

	*spilled = false;
	build_problem(p, &b);
	if (per_pool(p, &dflt))
		rc = solve_per_pool(p, &b, &dflt, out, &plan, err);
	else
		rc = solve_together(p, &b, &dflt, out, &plan, err);
	if (rc)
		goto out;
	join_followers(p, &b, plan);
	cursor = xcalloc(p->n_pgroups + 1, sizeof(size_t));
	seq = xcalloc(p->n_pools + 1, sizeof(size_t));
	out->claims = xcalloc(plan->n_nodes + 1, sizeof(*out->claims));
	out->reused = xcalloc(plan->n_nodes + 1, sizeof(*out->reused));
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct kerf_pack_node *n = plan->nodes[i];
		const char *short_key = NULL;
		if (n->open_index >= 0)
			reuse(p, &b, n, cursor, out);
		else if ((short_key = min_values_short(p, n)) != NULL)
			refuse_node(p, n, short_key, cursor, spilled);
		else if ((rc = new_claim(p, n, cursor, seq, out, err)) != 0)
			goto out;
	}
	for (size_t i = 0; i < plan->n_unplaced; i++)
		leftovers(p, plan->unplaced[i], cursor, spilled);
out:
	kerf_pack_plan_free(plan);
	free(cursor);
	free(seq);
	drop_existing_types(p, &b);
	pbuild_free(&b);
	return rc;
}
