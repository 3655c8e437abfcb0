/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision.c - one provisioning batch: NodePools, pod groups, the NodePool
 * each group lands in and the inter-pod constraints as packing constraints.
 * provision_plan.c builds the packing problem and reads the plan back.
 *
 * Inter-pod constraints, as the packer sees them (kerf/packer.h):
 *   - zone topology spread (DoNotSchedule, and ScheduleAnyway, which
 *     Karpenter tries as required first) whose selector matches the group
 *     splits it into zone-pinned slices, water-filled onto the least
 *     populated zone first (existing matching pods counted) while the skew
 *     against every domain stays within maxSkew; the domains are the
 *     zones of every pool that may launch and of existing nodes, that the
 *     pod's node selection allows, so a zone the group cannot reach can
 *     hold it back; with fewer domains than minDomains the global minimum
 *     counts as 0, so no zone takes more than maxSkew.  Pods left without
 *     a zone try the next pool, then relax, then stay pending;
 *   - hostname topology spread caps the group at maxSkew pods per node (a
 *     new node starts at 0, the global minimum, so minDomains, which
 *     only ever lowers the minimum to 0, changes nothing);
 *   - required hostname anti-affinity matching the group itself caps it at
 *     one pod per node; matching another group makes the two conflict;
 *   - required zone anti-affinity matching itself gives each pod its own
 *     zone (zones holding matching pods excluded); pods beyond the number
 *     of zones stay pending;
 *   - required zone affinity follows existing matching pods to their zones,
 *     or, matching only itself, keeps the whole group in its cheapest zone;
 *     groups whose affinity selects pods of other groups are constrained
 *     after those, and pin them to a zone when they have none yet;
 *   - required hostname affinity whose only peers are pending in the batch
 *     joins the nodes the packer gives those peers (a new node's instance
 *     types narrow to those that hold it too);
 *   - host ports: one pod per node per port, and groups sharing a port
 *     conflict.
 * Existing nodes whose pods clash with a group (anti-affinity both ways,
 * host ports, hostname caps) are simply not offered to it.
 *
 * Required pod affinity that no pod matches (not even the pod itself)
 * leaves the group unschedulable.
 *
 * Preferred pod affinity and anti-affinity and ScheduleAnyway spreads
 * count as required, as Karpenter first tries them; a pod they leave
 * nowhere (no zone left, or the packer could not place it in the last
 * pool) takes one relaxation step in Karpenter's order (preferred pod
 * affinity, preferred anti-affinity, preferred node affinity, a
 * ScheduleAnyway spread) and is solved again in the next round
 * (prov_relax).
 *
 * Not modelled: hostname pod affinity matching only the group itself.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/scheduling.h>
#include <kerf/taints.h>

#include "provision_int.h"
#include "util.h"

#define ZONE_KEY "topology.kubernetes.io/zone"
#define CT_KEY "karpenter.sh/capacity-type"
#define NODEPOOL_KEY "karpenter.sh/nodepool"
#define TYPE_KEY "node.kubernetes.io/instance-type"
#define SPECIAL_ALL (KERF_TYPE_GPU | KERF_TYPE_ACCELERATOR | KERF_TYPE_METAL)

#define WHY_MAX 512

/* Extended resources that mean "this pod wants an accelerator". */
static const char *const device_resources[] = {
    KERF_RESOURCE_NVIDIA_GPU, KERF_RESOURCE_AMD_GPU, KERF_RESOURCE_NEURON,
    "aws.amazon.com/neuroncore", "aws.amazon.com/neurondevice", "habana.ai/gaudi",
};
#define N_DEVICE_RESOURCES (sizeof(device_resources) / sizeof(device_resources[0]))

/* ------------------------------------------------------------ dimensions */

static const char *const fixed_dims[] = {KERF_RESOURCE_CPU, KERF_RESOURCE_MEMORY,
					 KERF_RESOURCE_EPHEMERAL, KERF_RESOURCE_PODS};

static void add_name(char ***v, size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], name) == 0)
			return;
	xgrow(*v, *cap, *n + 1);
	(*v)[(*n)++] = xstrdup(name);
}

static void add_ext_names(char ***v, size_t *n, size_t *cap, const struct kerf_resources *r)
{
	for (uint32_t i = 0; i < r->n_ext; i++)
		add_name(v, n, cap, r->ext[i].name);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cpu, memory, ephemeral-storage, pods, then every extended resource anyone names. */
static void build_dims(struct prov *p)
{
	const struct prov_input *in = p->in;
	size_t cap = 0;

	for (size_t i = 0; i < N_FIXED_DIMS; i++)
		add_name(&p->dim_names, &p->nd, &cap, fixed_dims[i]);
	for (size_t i = 0; i < in->n_pods; i++)
		add_ext_names(&p->dim_names, &p->nd, &cap, &in->pods[i]->requests);
	for (size_t i = 0; i < in->n_daemonsets; i++)
		add_ext_names(&p->dim_names, &p->nd, &cap, &in->daemonsets[i]->requests);
	for (size_t i = 0; i < in->n_pools; i++)
		add_ext_names(&p->dim_names, &p->nd, &cap, &in->pools[i].nodepool->limits);
	qsort(p->dim_names + N_FIXED_DIMS, p->nd - N_FIXED_DIMS, sizeof(char *), str_cmp);
}

/* ------------------------------------------------------------ zones */

static void build_zones(struct prov *p)
{
	const struct prov_input *in = p->in;
	size_t cap = 0;

	for (size_t i = 0; i < in->n_pools; i++) {
		const struct kerf_instance_type_list *l = in->pools[i].types;
		for (size_t t = 0; l && t < l->n; t++)
			for (size_t o = 0; o < l->items[t]->n_offerings; o++)
				if (l->items[t]->offerings[o]->zone)
					add_name(&p->zones, &p->n_zones, &cap,
						 l->items[t]->offerings[o]->zone);
	}
	for (size_t e = 0; e < in->n_existing; e++)
		if (in->existing[e].zone)
			add_name(&p->zones, &p->n_zones, &cap, in->existing[e].zone);
	if (p->n_zones)
		qsort(p->zones, p->n_zones, sizeof(char *), str_cmp);
}

/* ------------------------------------------------------------ pools */

static int pool_cmp(const void *a, const void *b)
{
	const struct pstate *x = a, *y = b;

	if (x->np->weight != y->np->weight)
		return x->np->weight > y->np->weight ? -1 : 1;
	return strcmp(x->np->meta->name, y->np->meta->name);
}

/* Does a DaemonSet's pod run on this pool's nodes?  Taints and strict requirements. */
static bool daemon_runs_on(const struct pstate *ps, const struct kerf_pod *ds)
{
	return kerf_pod_tolerates(ds, &ps->np->taints, NULL, 0) &&
	       kerf_pod_compatible_with(ds, ps->reqs, NULL, 0);
}

static bool value_has(const struct kerf_reqset *s, const char *key, const char *needle)
{
	const char *const *v;
	size_t n = kerf_reqset_values(s, key, &v);

	if (kerf_reqset_operator(s, key) != KERF_OP_IN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], needle))
			return true;
	return false;
}

static bool key_prefixed(const struct kerf_reqset *s, const char *prefix, size_t n)
{
	for (size_t i = 0; i < kerf_reqset_count(s); i++)
		if (strncmp(kerf_reqset_key(s, i), prefix, n) == 0)
			return true;
	return false;
}

/* The provider's classes; a type offering a GPU or Neuron device is one whatever it says. */
static unsigned special_of(const struct kerf_instance_type *it)
{
	unsigned sp = it->classes & SPECIAL_ALL;

	if (kerf_resources_get(&it->allocatable, KERF_RESOURCE_NVIDIA_GPU, NULL) > 0 ||
	    kerf_resources_get(&it->allocatable, KERF_RESOURCE_AMD_GPU, NULL) > 0)
		sp |= KERF_TYPE_GPU;
	if (kerf_resources_get(&it->allocatable, KERF_RESOURCE_NEURON, NULL) > 0)
		sp |= KERF_TYPE_ACCELERATOR;
	return sp;
}

static bool offering_allowed(const struct kerf_reqset *s, const struct kerf_offering *o)
{
	return o->available && kerf_reqset_allows(s, ZONE_KEY, o->zone) &&
	       kerf_reqset_allows(s, CT_KEY, kerf_capacity_type_name(o->capacity_type));
}

static struct ptype *new_ptype(struct prov *p)
{
	xgrow(p->types, p->cap_types, p->n_types + 1);
	struct ptype *t = &p->types[p->n_types++];
	memset(t, 0, sizeof(*t));
	t->alloc = xcalloc(p->nd, sizeof(int64_t));
	t->cap = xcalloc(p->nd, sizeof(int64_t));
	t->pool = SIZE_MAX;
	return t;
}

/*
 * The DaemonSets of the pool that a node of type `r` runs too (Karpenter
 * decides it per instance type: an amd64-only DaemonSet costs an arm64
 * node nothing).  NULL when they are all of the pool's; otherwise a new
 * sum, and `over` their vector.
 */
static struct kerf_resources *type_overhead(struct prov *p, const struct pstate *ps,
					    const struct kerf_reqset *r, int64_t *over)
{
	const struct prov_input *in = p->in;
	struct kerf_reqset *comb = NULL;
	struct kerf_resources *sum = NULL;
	bool skipped = false;

	if (ps->n_daemons == 0)
		return NULL;
	comb = kerf_reqset_copy(ps->reqs);
	if (!comb || kerf_reqset_intersect(comb, r, NULL))
		abort();
	sum = xcalloc(1, sizeof(*sum));
	kerf_resources_init(sum);
	for (size_t d = 0; d < in->n_daemonsets; d++) {
		const struct kerf_pod *ds = in->daemonsets[d];
		if (!daemon_runs_on(ps, ds))
			continue;
		if (kerf_pod_compatible_with(ds, comb, NULL, 0))
			kerf_resources_add(sum, &ds->requests);
		else
			skipped = true;
	}
	kerf_reqset_free(comb);
	if (!skipped) {
		free(sum);
		return NULL;
	}
	prov_vector(p, sum, over);
	return sum;
}

/* The requirement sets of l's instance types, built on the first call for l. */
static int type_reqsets(struct prov *p, const struct kerf_instance_type_list *l,
			struct kerf_reqset ***out, struct kerf_error *err)
{
	struct kerf_reqset **r;

	for (size_t i = 0; i < p->n_typesets; i++)
		if (p->typesets[i].list == l) {
			*out = p->typesets[i].reqs;
			return 0;
		}
	r = xcalloc(l->n ? l->n : 1, sizeof(*r));
	p->typesets = xrealloc(p->typesets, (p->n_typesets + 1) * sizeof(*p->typesets));
	p->typesets[p->n_typesets++] = (struct typeset){l, r};
	for (size_t i = 0; i < l->n; i++) {
		int rc;
		if (!(r[i] = kerf_reqset_new()))
			return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
		if ((rc = kerf_reqset_add_requirements(r[i], &l->items[i]->requirements, err)) != 0)
			return rc;
	}
	*out = r;
	return 0;
}

/* The pool's instance types that its own requirements allow, as packing types. */
static int pool_types(struct prov *p, struct pstate *ps, const struct kerf_instance_type_list *l,
		      struct kerf_error *err)
{
	struct kerf_reqset **reqs = NULL;
	int64_t *pool_over, *over;
	int rc;

	ps->first_type = p->n_types;
	if (l && (rc = type_reqsets(p, l, &reqs, err)) != 0)
		return rc;
	pool_over = xcalloc(p->nd, sizeof(int64_t));
	over = xcalloc(p->nd, sizeof(int64_t));
	prov_vector(p, &ps->overhead, pool_over);
	for (size_t i = 0; l && i < l->n; i++) {
		const struct kerf_instance_type *it = l->items[i];
		const struct kerf_reqset *r = reqs[i];
		if (!kerf_reqset_compatible(r, ps->reqs, KERF_REQSET_ALLOW_UNDEFINED, NULL, 0))
			continue;
		struct ptype *t = new_ptype(p);
		t->it = it;
		t->reqs = r;
		t->pool = (size_t)(ps - p->pools);
		t->special = special_of(it);
		t->overhead = type_overhead(p, ps, r, over);
		const int64_t *less = t->overhead ? over : pool_over;
		prov_vector(p, &it->allocatable, t->alloc);
		prov_vector(p, &it->capacity, t->cap);
		for (size_t d = 0; d < p->nd; d++)
			t->alloc[d] = t->alloc[d] > less[d] ? t->alloc[d] - less[d] : 0;
		t->off = xcalloc(it->n_offerings ? it->n_offerings : 1, sizeof(*t->off));
		for (size_t o = 0; o < it->n_offerings; o++) {
			const struct kerf_offering *of = it->offerings[o];
			long z = prov_zone_index(p, of->zone);
			if (z < 0 || !offering_allowed(ps->reqs, of))
				continue;
			t->off[t->n_off++] = (struct kerf_pack_offering){
			    (uint32_t)z, of->capacity_type, of->price};
		}
	}
	ps->n_types = p->n_types - ps->first_type;
	free(over);
	free(pool_over);
	return 0;
}

/* Limits less the capacity of what this pool already has or is launching. */
static void pool_remaining(struct prov *p, struct pstate *ps)
{
	const struct kerf_nodepool *np = ps->np;
	int64_t *used = xcalloc(p->nd, sizeof(int64_t));
	int64_t *cap = xcalloc(p->nd, sizeof(int64_t));
	int64_t nodes = 0;

	for (size_t e = 0; e < p->in->n_existing; e++) {
		const struct prov_existing *ex = &p->in->existing[e];
		if (!ex->nodepool || strcmp(ex->nodepool, ps->np->meta->name) != 0)
			continue;
		prov_vector(p, &ex->capacity, cap);
		for (size_t d = 0; d < p->nd; d++)
			used[d] += cap[d];
		nodes++;
	}
	ps->remaining = xcalloc(p->nd, sizeof(int64_t));
	prov_vector(p, &np->limits, ps->remaining);
	for (size_t d = 0; d < p->nd; d++) {
		bool present;
		kerf_resources_get(&np->limits, p->dim_names[d], &present);
		if (!present)
			ps->remaining[d] = INT64_MAX;
		else
			ps->remaining[d] = ps->remaining[d] > used[d] ? ps->remaining[d] - used[d] : 0;
	}
	ps->nodes_remaining = INT64_MAX;
	if (np->limit_nodes >= 0)
		ps->nodes_remaining = np->limit_nodes > nodes ? np->limit_nodes - nodes : 0;
	free(used);
	free(cap);
}

static int build_pools(struct prov *p, struct kerf_error *err)
{
	const struct prov_input *in = p->in;
	int rc;

	p->n_pools = in->n_pools;
	p->pools = xcalloc(p->n_pools ? p->n_pools : 1, sizeof(*p->pools));
	for (size_t i = 0; i < in->n_pools; i++) {
		p->pools[i].input = i;
		p->pools[i].np = in->pools[i].nodepool;
	}
	qsort(p->pools, p->n_pools, sizeof(*p->pools), pool_cmp);
	for (size_t i = 0; i < p->n_pools; i++) {
		struct pstate *ps = &p->pools[i];
		const char *name = ps->np->meta->name;
		/* Karpenter leaves static pools to their controller, skips those not Ready. */
		if (ps->np->replicas >= 0)
			ps->closed =
			    "a static NodePool (spec.replicas) is not used for pending pods";
		else
			ps->closed = in->pools[ps->input].not_ready;
		if (!(ps->reqs = kerf_reqset_new()))
			return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
		if ((rc = kerf_reqset_add_requirements(ps->reqs, &ps->np->requirements, err)) ||
		    (rc = kerf_reqset_add_labels(ps->reqs, &ps->np->template_labels, err)) ||
		    (rc = kerf_reqset_add(ps->reqs, NODEPOOL_KEY, KERF_OP_IN, &name, 1, 0, err)))
			return rc;
		kerf_resources_init(&ps->overhead);
		for (size_t d = 0; d < in->n_daemonsets; d++)
			if (daemon_runs_on(ps, in->daemonsets[d])) {
				kerf_resources_add(&ps->overhead, &in->daemonsets[d]->requests);
				ps->n_daemons++;
			}
		if (!ps->closed && (rc = pool_types(p, ps, in->pools[ps->input].types, err)) != 0)
			return rc;
		pool_remaining(p, ps);
	}
	return 0;
}

/* ------------------------------------------------------------ grouping */

static void sb_labels(struct strbuf *sb, const struct kerf_labels *l)
{
	for (size_t i = 0; i < l->n; i++)
		sb_printf(sb, "%s=%s,", l->items[i]->key, l->items[i]->value);
	sb_puts(sb, ";");
}

static void sb_reqs(struct strbuf *sb, const struct kerf_requirements *r)
{
	for (size_t i = 0; i < r->n; i++) {
		sb_printf(sb, "%s %d %d[", r->items[i]->key, (int)r->items[i]->op,
			  (int)r->items[i]->min_values);
		for (size_t v = 0; v < r->items[i]->n_values; v++)
			sb_printf(sb, "%s,", r->items[i]->values[v]);
		sb_puts(sb, "]");
	}
	sb_puts(sb, ";");
}

static void sb_terms(struct strbuf *sb, struct kerf_pod_affinity_term *const *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sb_printf(sb, "%s:", t[i]->topology_key ? t[i]->topology_key : "");
		sb_labels(sb, &t[i]->selector->match_labels);
		sb_reqs(sb, &t[i]->selector->match_expressions);
		for (size_t j = 0; j < t[i]->n_namespaces; j++)
			sb_printf(sb, "%s,", t[i]->namespaces[j]);
	}
	sb_puts(sb, "|");
}

static void sb_wterms(struct strbuf *sb, struct kerf_weighted_pod_affinity_term *const *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sb_printf(sb, "%d*", (int)t[i]->weight);
		sb_terms(sb, &t[i]->term, 1);
	}
	sb_puts(sb, "|");
}

static void sb_resources(struct strbuf *sb, const struct kerf_resources *r)
{
	sb_printf(sb, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %u", r->cpu_millis,
		  r->memory_bytes, r->ephemeral_bytes, r->pods, r->present);
	for (uint32_t i = 0; i < r->n_ext; i++)
		sb_printf(sb, " %s=%" PRId64, r->ext[i].name, r->ext[i].value);
	sb_puts(sb, ";");
}

/* Everything that can make two pending pods land differently, as one string. */
static char *shape_key(const struct kerf_pod *pod, const struct podst *ps)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_printf(&sb, "%zu;%zu;%s;", ps->min_pool, ps->relaxed,
		  pod->meta->namespace_ ? pod->meta->namespace_ : "");
	sb_labels(&sb, &pod->meta->labels);
	sb_resources(&sb, &pod->requests);
	sb_labels(&sb, &pod->node_selector);
	for (size_t i = 0; i < pod->n_required_terms; i++)
		sb_reqs(&sb, pod->required_terms[i]);
	sb_puts(&sb, "|");
	for (size_t i = 0; i < pod->n_preferred_terms; i++) {
		sb_printf(&sb, "%d:", (int)pod->preferred_terms[i]->weight);
		sb_reqs(&sb, &pod->preferred_terms[i]->preference);
	}
	sb_puts(&sb, "|");
	for (size_t i = 0; i < pod->tolerations.n; i++) {
		const struct kerf_toleration *t = pod->tolerations.items[i];
		sb_printf(&sb, "%s %d %s %d,", t->key ? t->key : "", (int)t->op,
			  t->value ? t->value : "", (int)t->effect);
	}
	sb_puts(&sb, "|");
	for (size_t i = 0; i < pod->n_spreads; i++) {
		const struct kerf_topology_spread *s = pod->spreads[i];
		sb_printf(&sb, "%d %s %d:", (int)s->max_skew, s->topology_key ? s->topology_key : "",
			  (int)s->when_unsatisfiable);
		sb_labels(&sb, &s->selector->match_labels);
		sb_reqs(&sb, &s->selector->match_expressions);
	}
	sb_puts(&sb, "|");
	sb_terms(&sb, pod->affinity, pod->n_affinity);
	sb_terms(&sb, pod->anti_affinity, pod->n_anti_affinity);
	sb_wterms(&sb, pod->preferred_affinity, pod->n_preferred_affinity);
	sb_wterms(&sb, pod->preferred_anti_affinity, pod->n_preferred_anti_affinity);
	for (size_t i = 0; i < pod->n_host_ports; i++)
		sb_printf(&sb, "%u/%s/%s,", (unsigned)pod->host_ports[i]->port,
			  pod->host_ports[i]->protocol,
			  pod->host_ports[i]->host_ip ? pod->host_ports[i]->host_ip : "");
	return sb_detach(&sb);
}

/* Preferred pod terms and preferred node terms: the steps before any spread is dropped. */
static size_t soft_terms(const struct kerf_pod *pod)
{
	return pod->n_preferred_affinity + pod->n_preferred_anti_affinity + pod->n_preferred_terms;
}

/* Every relaxation step the pod can take (prov_relax). */
static size_t relax_steps(const struct kerf_pod *pod)
{
	size_t n = soft_terms(pod);

	for (size_t i = 0; i < pod->n_spreads; i++)
		n += pod->spreads[i]->when_unsatisfiable == KERF_SPREAD_SCHEDULE_ANYWAY;
	return n;
}

/*
 * The ScheduleAnyway spreads the group's relaxation steps beyond its soft
 * terms dropped, in Karpenter's order: the first ScheduleAnyway spread of
 * the list goes, and the list's last takes its place.
 */
static void group_spreads_off(struct group *g)
{
	const struct kerf_pod *pod = g->rep;
	size_t before = soft_terms(pod);
	size_t drop = g->relaxed > before ? g->relaxed - before : 0;
	size_t n = pod->n_spreads;
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));

	g->spread_off = xcalloc(n ? n : 1, sizeof(*g->spread_off));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (; drop > 0; drop--) {
		size_t i = 0;
		while (i < n &&
		       pod->spreads[order[i]]->when_unsatisfiable != KERF_SPREAD_SCHEDULE_ANYWAY)
			i++;
		if (i == n)
			break;
		g->spread_off[order[i]] = true;
		order[i] = order[--n];
	}
	free(order);
}

struct keyed {
	char *key;
	size_t pod;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->pod < y->pod ? -1 : x->pod > y->pod;
}

static int group_first_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->pods[0] < y->pods[0] ? -1 : x->pods[0] > y->pods[0];
}

/* Groups the pending pods of this round; groups are ordered by their first pod. */
static void build_groups(struct prov *p)
{
	const struct prov_input *in = p->in;
	struct keyed *k = xcalloc(in->n_pods ? in->n_pods : 1, sizeof(*k));
	size_t n = 0;

	for (size_t i = 0; i < in->n_pods; i++) {
		k[n].key = shape_key(in->pods[i], &p->pods[i]);
		k[n++].pod = i;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && strcmp(k[j].key, k[i].key) == 0)
			j++;
		xgrow(p->groups, p->cap_groups, p->n_groups + 1);
		struct group *g = &p->groups[p->n_groups++];
		memset(g, 0, sizeof(*g));
		g->n = j - i;
		g->pods = xcalloc(g->n, sizeof(size_t));
		for (size_t m = i; m < j; m++)
			g->pods[m - i] = k[m].pod;
		g->rep = in->pods[k[i].pod];
		g->min_pool = p->pods[k[i].pod].min_pool;
		g->relaxed = p->pods[k[i].pod].relaxed;
		g->pool = -1;
		group_spreads_off(g);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
	if (p->n_groups)
		qsort(p->groups, p->n_groups, sizeof(*p->groups), group_first_cmp);
}

/* ------------------------------------------------------------ choosing a pool */

static bool pod_wants_device(const struct kerf_pod *pod)
{
	for (size_t i = 0; i < N_DEVICE_RESOURCES; i++)
		if (kerf_resources_get(&pod->requests, device_resources[i], NULL) > 0)
			return true;
	return false;
}

/* A provider's class selector against requirements r (kerf/provider.h). */
static bool selector_matches(const struct kerf_reqset *r, const struct kerf_class_selector *sel)
{
	size_t n = strlen(sel->key);

	if (n && sel->key[n - 1] == '*')
		return key_prefixed(r, sel->key, n - 1);
	if (sel->value)
		return value_has(r, sel->key, sel->value);
	return kerf_reqset_operator(r, sel->key) == KERF_OP_IN;
}

/*
 * The KERF_TYPE_* classes of the types a pod with requirements r may get.
 * GPU, accelerator and bare-metal types are for pods that ask for them: by
 * requesting a device resource (GPU and accelerator types), by naming the
 * instance type, or by a requirement the pool's provider declares asks for
 * them (its class selectors).  Karpenter itself leans on price to keep them
 * away; kerf makes it a rule so a cheap spot GPU never hosts a web server.
 */
static unsigned special_allowed(bool wants_device, const struct kerf_reqset *r,
				const struct kerf_class_selector *sel)
{
	unsigned ok = wants_device ? KERF_TYPE_GPU | KERF_TYPE_ACCELERATOR : 0;

	if (kerf_reqset_operator(r, TYPE_KEY) == KERF_OP_IN)
		return SPECIAL_ALL;
	for (; sel && sel->key; sel++)
		if (selector_matches(r, sel))
			ok |= sel->classes;
	return ok & SPECIAL_ALL;
}

static bool fits_vec(size_t nd, const int64_t *req, const int64_t *have)
{
	for (size_t d = 0; d < nd; d++)
		if (req[d] > have[d])
			return false;
	return true;
}

static void sb_vector(const struct prov *p, struct strbuf *sb, const int64_t *v)
{
	size_t start = sb->len;

	for (size_t d = 0; d < p->nd; d++) {
		char q[48];
		if (v[d] == 0 || d == 3)
			continue;
		kerf_quantity_format(v[d], d == 0 ? 3 : 0, q, sizeof(q));
		sb_printf(sb, "%s%s=%s", sb->len > start ? " " : "", p->dim_names[d], q);
	}
}

/* Counts the distinct values surviving types give key, for minValues. */
static size_t distinct_values(const struct prov *p, const uint32_t *types, size_t n,
			      const char *key)
{
	size_t count = 0, cap = 0;
	char **seen = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *const *v;
		size_t nv = kerf_reqset_values(p->types[types[i]].reqs, key, &v);
		for (size_t j = 0; j < nv; j++)
			add_name(&seen, &count, &cap, v[j]);
	}
	for (size_t i = 0; i < count; i++)
		free(seen[i]);
	free(seen);
	return count;
}

static size_t ct_slot(kerf_capacity_type c)
{
	return c <= KERF_CAPACITY_RESERVED ? (size_t)c : KERF_CAPACITY_RESERVED + 1;
}

/*
 * A canonical text for one pool, device request and pod requirement set:
 * equal sets write the same requirements back (and the same requirements
 * make an equal set), every part length-prefixed so no two inputs run
 * together.  NULL when out of memory.
 */
static char *filter_key(size_t pi, bool wants_device, const struct kerf_reqset *podreq)
{
	struct kerf_requirements r;
	struct strbuf sb;

	if (kerf_reqset_to_requirements(podreq, &r, NULL))
		return NULL;
	sb_init(&sb);
	sb_printf(&sb, "%zu %d", pi, (int)wants_device);
	for (size_t i = 0; i < r.n; i++) {
		const struct kerf_requirement *q = r.items[i];
		sb_printf(&sb, ";%zu:%s %d %d", strlen(q->key), q->key, (int)q->op,
			  (int)q->min_values);
		for (size_t v = 0; v < q->n_values; v++)
			sb_printf(&sb, " %zu:%s", strlen(q->values[v]), q->values[v]);
	}
	kerf_requirements_clear(&r);
	return sb_detach(&sb);
}

/*
 * Pool `pi`'s types that the combined requirements `comb` admit (requirements,
 * special types, an allowed offering), computed once per distinct key and
 * then looked up.  NULL when out of memory.
 */
static const struct tfilter *type_filter(struct prov *p, size_t pi, bool wants_device,
					 const struct kerf_reqset *podreq,
					 const struct kerf_reqset *comb)
{
	const struct pstate *ps = &p->pools[pi];
	char *key = filter_key(pi, wants_device, podreq);
	struct tfilter *f;
	unsigned special_ok;
	long at;

	if (!key)
		return NULL;
	if ((at = strset_find(&p->filter_keys, key)) >= 0) {
		free(key);
		return &p->filters[at];
	}
	at = (long)strset_add(&p->filter_keys, key);
	free(key);
	xgrow(p->filters, p->cap_filters, (size_t)at + 1);
	f = &p->filters[at];
	memset(f, 0, sizeof(*f));
	/* Zones and capacity types once, so offerings are tested by index. */
	f->zone_ok = xcalloc(p->n_zones ? p->n_zones : 1, 1);
	for (size_t z = 0; z < p->n_zones; z++)
		f->zone_ok[z] = kerf_reqset_allows(comb, ZONE_KEY, p->zones[z]);
	for (size_t c = 0; c < sizeof(f->ct_ok); c++)
		f->ct_ok[c] = kerf_reqset_allows(comb, CT_KEY,
						 kerf_capacity_type_name((kerf_capacity_type)c));
	special_ok = special_allowed(wants_device, comb, p->in->pools[ps->input].class_selectors);
	f->types = xcalloc(ps->n_types ? ps->n_types : 1, sizeof(uint32_t));
	for (size_t i = 0; i < ps->n_types; i++) {
		size_t t = ps->first_type + i;
		const struct ptype *pt = &p->types[t];
		bool offered = false;
		if (!kerf_reqset_compatible(pt->reqs, comb, KERF_REQSET_ALLOW_UNDEFINED, NULL, 0))
			continue;
		f->n_req++;
		if (pt->special & ~special_ok)
			continue;
		f->n_special++;
		for (size_t o = 0; o < pt->it->n_offerings && !offered; o++) {
			const struct kerf_offering *of = pt->it->offerings[o];
			long z = prov_zone_index(p, of->zone);
			offered = z >= 0 && of->available && f->zone_ok[z] &&
				  f->ct_ok[ct_slot(of->capacity_type)];
		}
		if (!offered)
			continue;
		f->n_offered++;
		f->types[f->n_types++] = (uint32_t)t;
	}
	return f;
}

/*
 * Tries pool `pi` for the group with pod requirements `podreq`.  On success
 * fills the group's combined set and types and returns true; otherwise adds
 * one reason to `why` and returns false.
 */
static bool try_pool(struct prov *p, struct group *g, size_t pi, const struct kerf_reqset *podreq,
		     struct reasons *why)
{
	const struct pstate *ps = &p->pools[pi];
	const char *name = ps->np->meta->name;
	char buf[WHY_MAX];
	struct kerf_reqset *comb;
	const struct tfilter *f;
	const struct kerf_taint *bad;
	uint32_t *types;
	size_t n_req, n_special, n_offered, n_fit = 0, n = 0;
	bool ok = true;

	if (ps->closed) {
		reasons_add(why, name, "%s", ps->closed);
		return false;
	}
	if (!kerf_tolerations_tolerate_all(&g->rep->tolerations, &ps->np->taints,
					   g->prefer_tolerated, &bad)) {
		kerf_taint_format(bad, buf, sizeof(buf));
		reasons_add(why, name, "untolerated taint {%s}", buf);
		return false;
	}
	if (!kerf_reqset_compatible(ps->reqs, podreq, KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN, buf,
				    sizeof(buf))) {
		reasons_add(why, name, "incompatible requirements: %s", buf);
		return false;
	}
	comb = kerf_reqset_copy(ps->reqs);
	if (!comb || kerf_reqset_intersect(comb, podreq, NULL)) {
		kerf_reqset_free(comb);
		reasons_add(why, name, "out of memory");
		return false;
	}
	if (!(f = type_filter(p, pi, pod_wants_device(g->rep), podreq, comb))) {
		kerf_reqset_free(comb);
		reasons_add(why, name, "out of memory");
		return false;
	}
	n_req = f->n_req;
	n_special = f->n_special;
	n_offered = f->n_offered;
	types = xcalloc(f->n_types ? f->n_types : 1, sizeof(uint32_t));
	for (size_t i = 0; i < f->n_types; i++) {
		uint32_t t = f->types[i];
		const struct ptype *pt = &p->types[t];
		bool limited = false;
		if (!fits_vec(p->nd, g->request, pt->alloc))
			continue;
		n_fit++;
		for (size_t d = 0; d < p->nd; d++)
			limited = limited || pt->cap[d] > ps->remaining[d];
		if (limited || ps->nodes_remaining <= 0)
			continue;
		types[n++] = t;
	}
	if (n == 0) {
		struct strbuf sb;
		sb_init(&sb);
		if (n_req == 0) {
			kerf_reqset_format(comb, buf, sizeof(buf));
			sb_printf(&sb, "no instance type satisfies requirements %s", buf);
		} else if (n_special == 0) {
			sb_puts(&sb, "only GPU, accelerator or bare-metal instance types match, "
				     "and the pod does not ask for one");
		} else if (n_offered == 0) {
			sb_puts(&sb, "no compatible instance type is offered in the allowed zones "
				     "and capacity types");
		} else if (n_fit == 0) {
			sb_puts(&sb, "no compatible instance type has room for ");
			sb_vector(p, &sb, g->request);
			if (ps->overhead.n_ext || ps->overhead.cpu_millis ||
			    ps->overhead.memory_bytes)
				sb_puts(&sb, " plus DaemonSet overhead");
		} else if (ps->nodes_remaining <= 0) {
			sb_printf(&sb, "limit nodes %" PRId64 " exceeded", ps->np->limit_nodes);
		} else {
			char lim[48], rem[48];
			size_t d = 0;
			/* Name the first limited dimension that rules out the smallest fitting type. */
			for (size_t dd = 0; dd < p->nd; dd++)
				if (ps->remaining[dd] != INT64_MAX) {
					d = dd;
					break;
				}
			for (size_t i = 0; i < ps->n_types; i++) {
				const struct ptype *pt = &p->types[ps->first_type + i];
				for (size_t dd = 0; dd < p->nd; dd++)
					if (pt->cap[dd] > ps->remaining[dd]) {
						d = dd;
						i = ps->n_types;
						break;
					}
			}
			kerf_quantity_format(
			    kerf_resources_get(&ps->np->limits, p->dim_names[d], NULL),
			    d == 0 ? 3 : 0, lim, sizeof(lim));
			kerf_quantity_format(ps->remaining[d], d == 0 ? 3 : 0, rem, sizeof(rem));
			sb_printf(&sb, "limit %s %s exceeded (%s remaining)", p->dim_names[d], lim,
				  rem);
		}
		reasons_add(why, name, "%s", sb.buf);
		sb_free(&sb);
		ok = false;
	}
	for (size_t i = 0; ok && i < kerf_reqset_count(comb); i++) {
		const char *key = kerf_reqset_key(comb, i);
		int32_t mv = kerf_reqset_min_values(comb, key);
		size_t have;
		if (mv <= 0)
			continue;
		have = distinct_values(p, types, n, key);
		if (have < (size_t)mv) {
			reasons_add(why, name,
				    "minValues: %s needs %d distinct values, compatible instance "
				    "types give %zu",
				    key, (int)mv, have);
			ok = false;
		}
	}
	if (!ok) {
		kerf_reqset_free(comb);
		free(types);
		return false;
	}
	kerf_reqset_free(g->combined);
	free(g->types);
	g->combined = comb;
	g->types = types;
	g->n_types = n;
	g->filter = (size_t)(f - p->filters);
	g->pool = (long)pi;
	return true;
}

/* The preferred term Karpenter drops next: the heaviest, the first written among equals. */
static size_t heaviest_preferred(const struct kerf_pod *pod)
{
	size_t best = 0;

	for (size_t i = 1; i < pod->n_preferred_terms; i++)
		if (pod->preferred_terms[i]->weight > pod->preferred_terms[best]->weight)
			best = i;
	return best;
}

/* The shallow view `relaxed`, whose list is `prefs`, loses its heaviest preferred term. */
static void drop_heaviest(struct kerf_pod *relaxed, struct kerf_preferred_term **prefs)
{
	size_t h = heaviest_preferred(relaxed);

	memmove(&prefs[h], &prefs[h + 1], (relaxed->n_preferred_terms - h - 1) * sizeof(*prefs));
	relaxed->n_preferred_terms--;
}

/* Tries the pools from the group's first allowed one with the pod's requirements as relaxed. */
static int try_pools(struct prov *p, struct group *g, const struct kerf_pod *relaxed, size_t term,
		     bool *placed, struct kerf_error *err)
{
	struct kerf_reqset *r = NULL;
	struct kerf_error why;
	int rc;

	*placed = false;
	reasons_clear(&g->refusals);
	kerf_error_clear(&why);
	/* The heaviest remaining preference counts as required, as in Karpenter. */
	rc = kerf_pod_requirements_with_preferences(relaxed, term, 1, &r, &why);
	if (rc == KERF_E_INFEASIBLE || rc == KERF_E_INVALID) {
		for (size_t pi = g->min_pool; pi < p->n_pools; pi++)
			reasons_add(&g->refusals, p->pools[pi].np->meta->name, "%s", why.message);
		return 0;
	}
	if (rc != 0)
		return kerf_error_set(err, rc, "%s", why.message);
	kerf_reqset_free(g->podreq);
	g->podreq = r;
	for (size_t pi = g->min_pool; pi < p->n_pools && !*placed; pi++)
		*placed = try_pool(p, g, pi, r, &g->refusals);
	return 0;
}

/* True when a pool the group may still try has a PreferNoSchedule taint. */
static bool prefer_taints(const struct prov *p, const struct group *g)
{
	for (size_t pi = g->min_pool; pi < p->n_pools; pi++)
		for (size_t i = 0; i < p->pools[pi].np->taints.n; i++)
			if (p->pools[pi].np->taints.items[i]->effect ==
			    KERF_EFFECT_PREFER_NO_SCHEDULE)
				return true;
	return false;
}

/*
 * Karpenter relaxes a pod in one order whatever left it nowhere: a
 * preferred node term goes only after every preferred pod term, and
 * PreferNoSchedule is tolerated only after everything else, ScheduleAnyway
 * spreads included.  When choosing a pool dropped node terms (`steps`
 * counts the pod terms before them) or tolerated PreferNoSchedule, the
 * steps before those are taken too.
 */
static void catch_up(struct prov *p, struct group *g, size_t steps)
{
	size_t pod_terms = g->rep->n_preferred_affinity + g->rep->n_preferred_anti_affinity;

	if (steps <= pod_terms)
		steps = 0;
	if (g->prefer_tolerated)
		steps = relax_steps(g->rep);
	if (steps <= g->relaxed)
		return;
	g->relaxed = steps;
	for (size_t k = 0; k < g->n; k++)
		p->pods[g->pods[k]].relaxed = steps;
	free(g->spread_off);
	group_spreads_off(g);
}

/*
 * Karpenter's relaxation when no pool accepts the group: each required
 * node-affinity term in turn (the last one stays), then the preferred terms
 * dropped one at a time, heaviest first, until none is left, and last
 * PreferNoSchedule taints tolerated (until then they repel like NoSchedule).
 */
static int choose_pool(struct prov *p, struct group *g, struct kerf_error *err)
{
	/* A shallow view of the pod whose list of preferred terms shrinks. */
	struct kerf_pod relaxed = *g->rep;
	size_t terms = kerf_pod_requirement_terms(g->rep);
	struct kerf_preferred_term **prefs = NULL;
	bool placed = false;
	int rc = 0;
	size_t pod_terms = g->rep->n_preferred_affinity + g->rep->n_preferred_anti_affinity;
	size_t dropped = g->relaxed > pod_terms ? g->relaxed - pod_terms : 0;

	g->request = xcalloc(p->nd, sizeof(int64_t));
	prov_vector(p, &g->rep->requests, g->request);
	if (relaxed.n_preferred_terms) {
		prefs = xcalloc(relaxed.n_preferred_terms, sizeof(*prefs));
		memcpy(prefs, relaxed.preferred_terms, relaxed.n_preferred_terms * sizeof(*prefs));
		relaxed.preferred_terms = prefs;
	}
	/* Preferred node terms the pod dropped in earlier rounds (prov_relax). */
	for (; dropped > 0 && relaxed.n_preferred_terms; dropped--)
		drop_heaviest(&relaxed, prefs);
	for (size_t t = 0; t < terms && !placed && rc == 0; t++)
		rc = try_pools(p, g, &relaxed, t, &placed, err);
	while (!placed && rc == 0 && relaxed.n_preferred_terms) {
		drop_heaviest(&relaxed, prefs);
		rc = try_pools(p, g, &relaxed, terms - 1, &placed, err);
	}
	/* Karpenter's last relaxation: PreferNoSchedule taints tolerated. */
	if (!placed && rc == 0 && prefer_taints(p, g)) {
		g->prefer_tolerated = true;
		rc = try_pools(p, g, &relaxed, terms - 1, &placed, err);
	}
	catch_up(p, g, pod_terms + g->rep->n_preferred_terms - relaxed.n_preferred_terms);
	free(prefs);
	if (rc == 0 && p->n_pools == 0)
		reasons_add(&g->refusals, NULL, "no NodePool exists");
	return rc;
}

/* ------------------------------------------------------------ inter-pod constraints */

int prov_add_pgroup(struct prov *p, size_t group, size_t first, uint32_t count, int32_t zone)
{
	xgrow(p->pgroups, p->cap_pgroups, p->n_pgroups + 1);
	p->pgroups[p->n_pgroups++] = (struct pgroup){group, first, count, zone};
	return 0;
}

/* The zones a group can land in: allowed by its requirements and offered by a type. */
static void group_zones(struct prov *p, struct group *g)
{
	uint8_t *offered = xcalloc(p->n_zones ? p->n_zones : 1, 1);
	/* g->combined's zones and capacity types, as its pool's filter computed them. */
	const struct tfilter *f = g->n_types ? &p->filters[g->filter] : NULL;

	g->zones = xcalloc(p->n_zones ? p->n_zones : 1, 1);
	g->ct_mask = 0;
	for (size_t i = 0; i < g->n_types; i++) {
		const struct ptype *pt = &p->types[g->types[i]];
		for (size_t o = 0; o < pt->n_off; o++) {
			const struct kerf_pack_offering *of = &pt->off[o];
			if (!f->ct_ok[ct_slot(of->capacity_type)])
				continue;
			offered[of->zone] = 1;
			if (!f->zone_ok[of->zone])
				continue;
			g->zones[of->zone] = 1;
			g->ct_mask |= 1u << of->capacity_type;
		}
	}
	g->n_offered_zones = 0;
	for (size_t z = 0; z < p->n_zones; z++)
		g->n_offered_zones += offered[z];
	free(offered);
	/* A group with no pool may still use an existing node in any zone. */
	if (g->pool < 0) {
		memset(g->zones, 1, p->n_zones);
		g->ct_mask = (1u << KERF_CAPACITY_ON_DEMAND) | (1u << KERF_CAPACITY_SPOT) |
			     (1u << KERF_CAPACITY_RESERVED);
	}
}

/* The zone whose cheapest allowed offering among the group's types is cheapest. */
static int32_t cheapest_zone(const struct prov *p, const struct group *g)
{
	int32_t best = -1;
	kerf_price_t best_price = INT64_MAX;

	for (size_t i = 0; i < g->n_types; i++) {
		const struct ptype *pt = &p->types[g->types[i]];
		for (size_t o = 0; o < pt->n_off; o++) {
			const struct kerf_pack_offering *of = &pt->off[o];
			if (!g->zones[of->zone] || !(g->ct_mask & (1u << of->capacity_type)))
				continue;
			if (of->price < best_price ||
			    (of->price == best_price && (int32_t)of->zone < best)) {
				best_price = of->price;
				best = (int32_t)of->zone;
			}
		}
	}
	if (best < 0)
		for (size_t z = 0; z < p->n_zones && best < 0; z++)
			if (g->zones[z])
				best = (int32_t)z;
	return best;
}

/* The single zone a group is confined to, -1 when any of several. */
static int32_t pinned_zone(const struct prov *p, const struct group *g)
{
	size_t n = 0;

	for (size_t z = 0; z < p->n_zones; z++)
		n += g->zones[z];
	if (g->pool < 0 || n == g->n_offered_zones)
		return -1;
	/*
	 * The packer takes one zone or all of them: a strict subset of several
	 * zones is narrowed to its cheapest, which is where the packer would
	 * put the first node anyway.
	 */
	return n ? cheapest_zone(p, g) : -1;
}

/* Existing pods per zone that `sel` (of pod `owner`) selects, plus earlier groups of this batch. */
static void count_zone_pods(const struct prov *p, size_t gi, const struct kerf_pod *owner,
			    bool (*sel)(const void *, const struct kerf_pod *, const struct kerf_pod *),
			    const void *term, int64_t *counts)
{
	const struct prov_input *in = p->in;

	memset(counts, 0, p->n_zones * sizeof(int64_t));
	for (size_t e = 0; e < in->n_existing; e++) {
		long z = prov_zone_index(p, in->existing[e].zone);
		if (z < 0)
			continue;
		for (size_t k = 0; k < in->existing[e].n_pods; k++)
			if (sel(term, owner, in->existing[e].pods[k]))
				counts[z]++;
	}
	for (size_t i = 0; i < p->n_pgroups; i++) {
		const struct pgroup *pg = &p->pgroups[i];
		if (pg->group == gi || pg->zone < 0)
			continue;
		if (sel(term, owner, p->groups[pg->group].rep))
			counts[pg->zone] += pg->count;
	}
}

static bool sel_spread(const void *t, const struct kerf_pod *owner, const struct kerf_pod *other)
{
	return prov_spread_selects(t, owner, other);
}

static bool sel_term(const void *t, const struct kerf_pod *owner, const struct kerf_pod *other)
{
	return prov_term_selects(t, owner, other);
}

/*
 * Splits the group's pods over its zones, least populated first, while the
 * skew against the least populated domain stays within maxSkew.  A domain
 * the group cannot reach still counts: its pods stay where they are, so it
 * can hold the others back.  `floor0`: fewer domains than minDomains, so
 * the global minimum is 0.  Returns how many pods got a zone.
 */
static size_t water_fill(struct prov *p, size_t gi, int64_t *counts, uint32_t *per_zone,
			 const uint8_t *domains, int64_t max_skew, bool floor0)
{
	const struct group *g = &p->groups[gi];
	size_t k = 0;

	memset(per_zone, 0, p->n_zones * sizeof(uint32_t));
	for (; k < g->n; k++) {
		long best = -1;
		int64_t min = floor0 ? 0 : INT64_MAX;
		for (size_t z = 0; z < p->n_zones; z++) {
			if ((domains[z] || g->zones[z]) && counts[z] < min)
				min = counts[z];
			if (g->zones[z] && (best < 0 || counts[z] < counts[best]))
				best = (long)z;
		}
		if (best < 0 || counts[best] + 1 - min > max_skew)
			break;
		counts[best]++;
		per_zone[best]++;
	}
	return k;
}

/*
 * The zones a zone spread of the group counts, as Karpenter builds its
 * domains: every zone offered by a NodePool that may launch and whose
 * requirements the pod's nodeSelector and required node affinity accept
 * (whether or not this pod fits its types there), or holding an existing
 * node, that the pod's node selection allows (nodeAffinityPolicy Honor;
 * taints are ignored, nodeTaintsPolicy Ignore, both the defaults).
 * Returns how many.
 */
static size_t spread_domains(struct prov *p, const struct group *g, uint8_t *domains)
{
	size_t terms = kerf_pod_requirement_terms(g->rep), n = 0;
	struct kerf_reqset **r = xcalloc(terms, sizeof(*r));

	memset(domains, 0, p->n_zones);
	for (size_t t = 0; t < terms; t++)
		if (kerf_pod_requirements(g->rep, t, &r[t], NULL))
			r[t] = NULL;
	for (size_t e = 0; e < p->in->n_existing; e++) {
		long z = prov_zone_index(p, p->in->existing[e].zone);
		if (z >= 0)
			domains[z] = 1;
	}
	for (size_t pi = 0; pi < p->n_pools; pi++) {
		const struct pstate *ps = &p->pools[pi];
		bool compatible = false;
		for (size_t t = 0; t < terms && !compatible; t++)
			compatible = r[t] && kerf_reqset_compatible(
						 ps->reqs, r[t],
						 KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN, NULL, 0);
		for (size_t t = 0; compatible && !ps->closed && t < ps->n_types; t++) {
			const struct ptype *pt = &p->types[ps->first_type + t];
			for (size_t o = 0; o < pt->n_off; o++)
				domains[pt->off[o].zone] = 1;
		}
	}
	for (size_t z = 0; z < p->n_zones; z++) {
		bool allowed = false;
		for (size_t t = 0; t < terms && !allowed; t++)
			allowed = r[t] && kerf_reqset_allows(r[t], ZONE_KEY, p->zones[z]);
		domains[z] = domains[z] && allowed;
		n += domains[z] || g->zones[z];
	}
	for (size_t t = 0; t < terms; t++)
		kerf_reqset_free(r[t]);
	free(r);
	return n;
}

static void fail_pods(struct prov *p, const struct group *g, size_t from, size_t to,
		      const char *text)
{
	for (size_t k = from; k < to; k++) {
		struct podst *ps = &p->pods[g->pods[k]];
		ps->where = POD_FAILED;
		reasons_append(&ps->final, &g->refusals);
		reasons_add(&ps->final, g->pool >= 0 ? p->pools[g->pool].np->meta->name : NULL,
			    "%s", text);
	}
}

/*
 * Pods a required constraint leaves without a place before packing: they
 * try the next pool, as the packer's leftovers do, then relax, then stay
 * pending with `text`.
 */
static void constraint_leftovers(struct prov *p, const struct group *g, size_t from, size_t to,
				 const char *text)
{
	if (g->pool >= 0 && (size_t)g->pool + 1 < p->n_pools) {
		for (size_t k = from; k < to; k++) {
			struct podst *ps = &p->pods[g->pods[k]];
			ps->where = POD_FAILED;
			reasons_append(&ps->carried, &g->refusals);
			reasons_add(&ps->carried, p->pools[g->pool].np->meta->name, "%s", text);
			ps->min_pool = (size_t)g->pool + 1;
		}
		if (to > from)
			p->again = true;
		return;
	}
	if (!prov_relax(p, g, g->pods + from, to - from))
		fail_pods(p, g, from, to, text);
}

/*
 * True when some pod the batch knows of, other than the group's own, falls
 * under the affinity term: on a node, launching, or pending in another
 * group.
 */
static bool term_has_peer(const struct prov *p, size_t gi, const struct kerf_pod_affinity_term *t)
{
	const struct kerf_pod *pod = p->groups[gi].rep;

	for (size_t e = 0; e < p->in->n_existing; e++)
		for (size_t k = 0; k < p->in->existing[e].n_pods; k++)
			if (prov_term_selects(t, pod, p->in->existing[e].pods[k]))
				return true;
	for (size_t o = 0; o < p->n_groups; o++)
		if (o != gi && prov_term_selects(t, pod, p->groups[o].rep))
			return true;
	return false;
}

/*
 * The required affinity term no pod can ever satisfy, or NULL: nothing
 * matches its selector and the pod does not match it itself (the one case
 * the scheduler lets through).  Karpenter reports such a pod unschedulable
 * rather than launch a node it will never be bound to.
 */
static const struct kerf_pod_affinity_term *unsatisfiable_affinity(const struct prov *p, size_t gi)
{
	const struct kerf_pod *pod = p->groups[gi].rep;

	for (size_t i = 0; i < pod->n_affinity; i++) {
		const struct kerf_pod_affinity_term *t = pod->affinity[i];
		if (!prov_term_selects(t, pod, pod) && !term_has_peer(p, gi, t))
			return t;
	}
	return NULL;
}

/* The weighted terms' terms, heaviest first, manifest order among equals. */
static void by_weight(struct kerf_weighted_pod_affinity_term *const *t, size_t n,
		      const struct kerf_pod_affinity_term **out)
{
	size_t *o = xcalloc(n ? n : 1, sizeof(*o));

	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && t[o[j - 1]]->weight < t[i]->weight) {
			o[j] = o[j - 1];
			j--;
		}
		o[j] = i;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = t[o[i]]->term;
	free(o);
}

/*
 * The preferred pod terms the group still treats as required.  Karpenter
 * tries every preference as a requirement first and, for a pod that fits
 * nowhere, drops the heaviest preferred pod affinity term, then (none
 * left) the heaviest preferred anti-affinity term, one per attempt.
 */
static void group_soft(struct group *g)
{
	const struct kerf_pod *pod = g->rep;
	size_t na = pod->n_preferred_affinity, nn = pod->n_preferred_anti_affinity;
	size_t da = g->relaxed < na ? g->relaxed : na;
	size_t dn = g->relaxed - da < nn ? g->relaxed - da : nn;

	g->soft = xcalloc(na + nn + 1, sizeof(*g->soft));
	by_weight(pod->preferred_affinity, na, g->soft);
	by_weight(pod->preferred_anti_affinity, nn, g->soft + na);
	g->n_soft_aff = na - da;
	g->n_soft_anti = nn - dn;
	memmove(g->soft, g->soft + da, g->n_soft_aff * sizeof(*g->soft));
	memmove(g->soft + g->n_soft_aff, g->soft + na + dn, g->n_soft_anti * sizeof(*g->soft));
}

bool prov_relax(struct prov *p, const struct group *g, const size_t *pods, size_t n)
{
	if (g->relaxed >= relax_steps(g->rep))
		return false;
	for (size_t i = 0; i < n; i++) {
		struct podst *ps = &p->pods[pods[i]];
		ps->relaxed = g->relaxed + 1;
		ps->min_pool = 0;
		reasons_clear(&ps->carried);
	}
	p->again = true;
	return n > 0;
}

/*
 * Targets of the group's zone affinity that the batch has not pinned to a
 * zone go to their cheapest zone the group also allows, so the group can
 * follow them there.
 */
static void pin_targets(struct prov *p, size_t gi, const struct kerf_pod_affinity_term *t)
{
	const struct group *g = &p->groups[gi];

	for (size_t i = 0; i < p->n_pgroups; i++) {
		struct pgroup *pg = &p->pgroups[i];
		const struct group *target = &p->groups[pg->group];
		int32_t z;
		if (pg->group == gi || pg->zone >= 0 || !prov_term_selects(t, g->rep, target->rep))
			continue;
		z = cheapest_zone(p, target);
		if (z < 0 || !g->zones[z])
			for (z = 0; z < (int32_t)p->n_zones && !(g->zones[z] && target->zones[z]);
			     z++)
				;
		if (z < (int32_t)p->n_zones)
			pg->zone = z;
	}
}

/*
 * True when a required affinity term of the group selects the pods of
 * another group of the batch but not its own: those targets are
 * constrained first, as Karpenter places them first, so the group can
 * follow them.  A term the group matches itself needs no target: the
 * first such group takes its cheapest zone and the later ones follow it.
 */
static bool follows_batch(const struct prov *p, size_t gi)
{
	const struct kerf_pod *pod = p->groups[gi].rep;

	for (size_t i = 0; i < pod->n_affinity; i++) {
		if (prov_term_selects(pod->affinity[i], pod, pod))
			continue;
		for (size_t o = 0; o < p->n_groups; o++)
			if (o != gi && prov_term_selects(pod->affinity[i], pod, p->groups[o].rep))
				return true;
	}
	return false;
}

/* A preferred affinity term treated as required that no pod can satisfy. */
static bool soft_unsatisfiable(const struct prov *p, size_t gi)
{
	const struct group *g = &p->groups[gi];

	for (size_t i = 0; i < g->n_soft_aff; i++)
		if (!prov_term_selects(g->soft[i], g->rep, g->rep) &&
		    !term_has_peer(p, gi, g->soft[i]))
			return true;
	return false;
}

/* Zone pod affinity: follow existing peers, or keep a self-affine group in one zone. */
static bool zone_affinity(struct prov *p, size_t gi, int64_t *counts)
{
	struct group *g = &p->groups[gi];
	const struct kerf_pod *pod = g->rep;
	bool one_zone = false;

	for (size_t i = 0; i < pod->n_affinity + g->n_soft_aff; i++) {
		const struct kerf_pod_affinity_term *t =
		    i < pod->n_affinity ? pod->affinity[i] : g->soft[i - pod->n_affinity];
		bool any = false;
		if (prov_is_key(t->topology_key, HOSTNAME_KEY)) {
			bool existing = false;
			for (size_t e = 0; e < p->in->n_existing && !existing; e++)
				for (size_t k = 0; k < p->in->existing[e].n_pods; k++)
					if (prov_term_selects(t, pod, p->in->existing[e].pods[k]))
						existing = true;
			g->needs_peer = g->needs_peer || existing;
			if (!existing && i < pod->n_affinity && !prov_term_selects(t, pod, pod))
				g->waits = t;
			continue;
		}
		if (!prov_is_key(t->topology_key, ZONE_KEY))
			continue;
		pin_targets(p, gi, t);
		count_zone_pods(p, gi, pod, sel_term, t, counts);
		for (size_t z = 0; z < p->n_zones; z++)
			any = any || counts[z] > 0;
		if (any) {
			for (size_t z = 0; z < p->n_zones; z++)
				if (!counts[z])
					g->zones[z] = 0;
		} else if (prov_term_selects(t, pod, pod)) {
			one_zone = true;
		}
	}
	return one_zone;
}

/* Hostname spread, and zone spread that does not count the group itself. */
static const struct kerf_topology_spread *spreads(struct prov *p, size_t gi, int64_t *counts)
{
	struct group *g = &p->groups[gi];
	const struct kerf_pod *pod = g->rep;
	const struct kerf_topology_spread *zone_spread = NULL;

	/*
	 * ScheduleAnyway counts as DoNotSchedule until a relaxation step drops
	 * it: Karpenter tries it as required first and drops it only for a pod
	 * that then fits nowhere.
	 */
	for (size_t i = 0; i < pod->n_spreads; i++) {
		const struct kerf_topology_spread *s = pod->spreads[i];
		if (g->spread_off[i])
			continue;
		if (prov_is_key(s->topology_key, HOSTNAME_KEY) && prov_spread_selects(s, pod, pod)) {
			uint32_t cap = s->max_skew > 0 ? (uint32_t)s->max_skew : 1;
			if (!g->max_per_node || cap < g->max_per_node)
				g->max_per_node = cap;
			g->hostname_bound = true;
		} else if (prov_is_key(s->topology_key, ZONE_KEY)) {
			if (prov_spread_selects(s, pod, pod)) {
				zone_spread = s;
				continue;
			}
			/* Pods it does not count: only zones within the skew of the emptiest. */
			count_zone_pods(p, gi, pod, sel_spread, s, counts);
			int64_t min = INT64_MAX;
			for (size_t z = 0; z < p->n_zones; z++)
				if (g->zones[z] && counts[z] < min)
					min = counts[z];
			for (size_t z = 0; z < p->n_zones; z++)
				if (counts[z] - min > s->max_skew)
					g->zones[z] = 0;
		}
	}
	return zone_spread;
}

/* Does a required zone anti-affinity term of `owner` select `other`? */
static bool zone_repels(const struct kerf_pod *owner, const struct kerf_pod *other)
{
	for (size_t i = 0; i < owner->n_anti_affinity; i++)
		if (prov_is_key(owner->anti_affinity[i]->topology_key, ZONE_KEY) &&
		    prov_term_selects(owner->anti_affinity[i], owner, other))
			return true;
	return false;
}

/* Hostname anti-affinity to itself and zone anti-affinity; true when zones must differ. */
static bool anti_affinity(struct prov *p, size_t gi, int64_t *counts)
{
	struct group *g = &p->groups[gi];
	const struct kerf_pod *pod = g->rep;
	bool distinct = false;

	for (size_t i = 0; i < pod->n_anti_affinity + g->n_soft_anti; i++) {
		const struct kerf_pod_affinity_term *t =
		    i < pod->n_anti_affinity ? pod->anti_affinity[i]
					     : g->soft[g->n_soft_aff + i - pod->n_anti_affinity];
		if (prov_is_key(t->topology_key, HOSTNAME_KEY)) {
			if (prov_term_selects(t, pod, pod)) {
				g->max_per_node = 1;
				g->hostname_bound = true;
			}
		} else if (prov_is_key(t->topology_key, ZONE_KEY)) {
			count_zone_pods(p, gi, pod, sel_term, t, counts);
			for (size_t z = 0; z < p->n_zones; z++)
				if (counts[z])
					g->zones[z] = 0;
			distinct = distinct || prov_term_selects(t, pod, pod);
		}
	}
	/*
	 * The other way round: a placed pod's required zone anti-affinity that
	 * selects this group keeps it out of that pod's zone.
	 */
	for (size_t e = 0; e < p->in->n_existing; e++) {
		long z = prov_zone_index(p, p->in->existing[e].zone);
		for (size_t k = 0; z >= 0 && k < p->in->existing[e].n_pods; k++)
			if (zone_repels(p->in->existing[e].pods[k], pod))
				g->zones[z] = 0;
	}
	for (size_t i = 0; i < p->n_pgroups; i++) {
		const struct pgroup *pg = &p->pgroups[i];
		if (pg->group != gi && pg->zone >= 0 && zone_repels(p->groups[pg->group].rep, pod))
			g->zones[pg->zone] = 0;
	}
	/* A host port is taken by the first pod on a node. */
	if (pod->n_host_ports)
		g->max_per_node = 1;
	return distinct;
}

static bool any_zone(const struct prov *p, const struct group *g)
{
	for (size_t z = 0; z < p->n_zones; z++)
		if (g->zones[z])
			return true;
	return false;
}

/* Turns one group's spread and affinity into pack groups. */
static void constrain_group(struct prov *p, size_t gi)
{
	struct group *g = &p->groups[gi];
	int64_t *counts = xcalloc(p->n_zones ? p->n_zones : 1, sizeof(int64_t));
	uint32_t *per_zone = xcalloc(p->n_zones ? p->n_zones : 1, sizeof(uint32_t));
	const struct kerf_topology_spread *zone_spread;
	const struct kerf_pod_affinity_term *lonely;
	bool distinct, one_zone;
	size_t placed = 0;

	if ((lonely = unsatisfiable_affinity(p, gi)) != NULL) {
		struct strbuf why;
		sb_init(&why);
		sb_printf(&why, "required pod affinity (%s): no pod matches its selector",
			  lonely->topology_key ? lonely->topology_key : "no topologyKey");
		fail_pods(p, g, 0, g->n, why.buf);
		sb_free(&why);
		free(counts);
		free(per_zone);
		return;
	}
	group_soft(g);
	if (soft_unsatisfiable(p, gi) && prov_relax(p, g, g->pods, g->n)) {
		free(counts);
		free(per_zone);
		return;
	}
	group_zones(p, g);
	zone_spread = spreads(p, gi, counts);
	distinct = anti_affinity(p, gi, counts);
	one_zone = zone_affinity(p, gi, counts);
	if (g->needs_peer) {
		/* Only the nodes of its peers will do: no new node can hold them. */
		g->n_types = 0;
	}
	if (g->waits && !g->needs_peer) {
		/*
		 * Its hostname peers are pods of this batch: a node of its own
		 * would never be bound.  It joins their new nodes once the packer
		 * has placed them (join_followers).
		 */
		g->joins = true;
		free(counts);
		free(per_zone);
		return;
	}
	if (distinct) {
		for (size_t z = 0; z < p->n_zones && placed < g->n; z++)
			if (g->zones[z])
				prov_add_pgroup(p, gi, placed++, 1, (int32_t)z);
		if (!prov_relax(p, g, g->pods + placed, g->n - placed))
			fail_pods(
			    p, g, placed, g->n,
			    "zone anti-affinity: every allowed zone already holds a matching pod");
	} else if (zone_spread) {
		uint8_t *dom = xcalloc(p->n_zones ? p->n_zones : 1, 1);
		size_t domains = spread_domains(p, g, dom);
		int64_t skew = zone_spread->max_skew > 0 ? zone_spread->max_skew : 1;
		/* Fewer zones than minDomains: the global minimum is 0, maxSkew caps a zone. */
		bool floor0 =
		    zone_spread->min_domains > 0 && (size_t)zone_spread->min_domains > domains;
		count_zone_pods(p, gi, g->rep, sel_spread, zone_spread, counts);
		size_t filled = water_fill(p, gi, counts, per_zone, dom, skew, floor0);
		for (size_t z = 0; z < p->n_zones; z++) {
			if (!per_zone[z])
				continue;
			prov_add_pgroup(p, gi, placed, per_zone[z], (int32_t)z);
			placed += per_zone[z];
		}
		free(dom);
		if (filled < g->n && !any_zone(p, g)) {
			/* No zone at all: the packer says why. */
			prov_add_pgroup(p, gi, 0, (uint32_t)g->n, -1);
		} else if (filled < g->n) {
			struct strbuf why;
			sb_init(&why);
			if (floor0)
				sb_printf(
				    &why,
				    "topology spread: minDomains %d but %zu zone%s allowed, so "
				    "a zone holds at most maxSkew (%lld) matching pods",
				    (int)zone_spread->min_domains, domains, domains == 1 ? "" : "s",
				    (long long)skew);
			else
				sb_printf(
				    &why,
				    "topology spread (%s): another pod in any zone it may use "
				    "would exceed maxSkew %lld over the %zu zones counted",
				    zone_spread->when_unsatisfiable == KERF_SPREAD_SCHEDULE_ANYWAY
					? "ScheduleAnyway"
					: "DoNotSchedule",
				    (long long)skew, domains);
			constraint_leftovers(p, g, placed, g->n, why.buf);
			sb_free(&why);
		}
	} else if (g->pool >= 0 && !any_zone(p, g)) {
		/* Pod (anti-)affinity took every zone: "any zone" would be wrong. */
		constraint_leftovers(p, g, 0, g->n,
				     "pod affinity or anti-affinity: no zone it may use is left");
	} else {
		int32_t zone = one_zone ? cheapest_zone(p, g) : pinned_zone(p, g);
		prov_add_pgroup(p, gi, 0, (uint32_t)g->n, zone);
	}
	free(counts);
	free(per_zone);
}

/* ------------------------------------------------------------ the batch */

static void groups_clear(struct prov *p)
{
	for (size_t i = 0; i < p->n_groups; i++) {
		struct group *g = &p->groups[i];
		free(g->pods);
		kerf_reqset_free(g->podreq);
		kerf_reqset_free(g->combined);
		free(g->types);
		free(g->zones);
		free(g->request);
		free(g->soft);
		free(g->spread_off);
		reasons_clear(&g->refusals);
	}
	p->n_groups = 0;
	p->n_pgroups = 0;
}

static void prov_clear(struct prov *p)
{
	groups_clear(p);
	free(p->groups);
	free(p->pgroups);
	for (size_t i = 0; i < p->n_types; i++) {
		free(p->types[i].overhead);
		free(p->types[i].alloc);
		free(p->types[i].cap);
		free(p->types[i].off);
	}
	free(p->types);
	for (size_t i = 0; i < p->n_typesets; i++) {
		for (size_t j = 0; j < p->typesets[i].list->n; j++)
			kerf_reqset_free(p->typesets[i].reqs[j]);
		free(p->typesets[i].reqs);
	}
	free(p->typesets);
	for (size_t i = 0; i < p->filter_keys.n; i++) {
		free(p->filters[i].types);
		free(p->filters[i].zone_ok);
	}
	free(p->filters);
	strset_clear(&p->filter_keys);
	for (size_t i = 0; i < p->n_pools; i++) {
		kerf_reqset_free(p->pools[i].reqs);
		free(p->pools[i].remaining);
	}
	free(p->pools);
	for (size_t i = 0; i < p->nd; i++)
		free(p->dim_names[i]);
	free(p->dim_names);
	for (size_t i = 0; i < p->n_zones; i++)
		free(p->zones[i]);
	free(p->zones);
	for (size_t i = 0; p->pods && i < p->in->n_pods; i++) {
		reasons_clear(&p->pods[i].carried);
		reasons_clear(&p->pods[i].final);
	}
	free(p->pods);
}

static void result_clear(struct prov_result *r)
{
	for (size_t i = 0; i < r->n_claims; i++) {
		kerf_nodeclaim_free(r->claims[i].claim);
		free(r->claims[i].options);
		free(r->claims[i].pods);
	}
	free(r->claims);
	for (size_t i = 0; i < r->n_reused; i++)
		free(r->reused[i].pods);
	free(r->reused);
	for (size_t i = 0; i < r->n_unschedulable; i++) {
		struct reasons tmp = {r->unschedulable[i].n_reasons, r->unschedulable[i].n_reasons,
				      r->unschedulable[i].reasons};
		reasons_clear(&tmp);
	}
	free(r->unschedulable);
	free(r->pool_stats);
	memset(r, 0, sizeof(*r));
}

void prov_result_free(struct prov_result *r)
{
	if (!r)
		return;
	result_clear(r);
	free(r);
}

/* One round: group, choose pools, constrain, pack. */
static int round_solve(struct prov *p, struct prov_result *res, bool *spilled,
		       struct kerf_error *err)
{
	int rc;

	groups_clear(p);
	p->again = false;
	for (size_t i = 0; i < p->in->n_pods; i++) {
		p->pods[i].where = POD_PENDING;
		reasons_clear(&p->pods[i].final);
	}
	build_groups(p);
	for (size_t gi = 0; gi < p->n_groups; gi++) {
		if ((rc = choose_pool(p, &p->groups[gi], err)) != 0)
			return rc;
		if (!follows_batch(p, gi))
			constrain_group(p, gi);
	}
	for (size_t gi = 0; gi < p->n_groups; gi++)
		if (follows_batch(p, gi))
			constrain_group(p, gi);
	return plan_solve(p, res, spilled, err);
}

/* Pods nobody placed, with their reasons, in pod order. */
static void collect_unschedulable(struct prov *p, struct prov_result *res)
{
	size_t n = 0;

	for (size_t i = 0; i < p->in->n_pods; i++)
		n += p->pods[i].where == POD_FAILED || p->pods[i].where == POD_PENDING;
	res->unschedulable = xcalloc(n ? n : 1, sizeof(*res->unschedulable));
	for (size_t i = 0; i < p->in->n_pods; i++) {
		struct podst *ps = &p->pods[i];
		struct reasons all = {0};
		if (ps->where != POD_FAILED && ps->where != POD_PENDING)
			continue;
		reasons_append(&all, &ps->carried);
		reasons_append(&all, &ps->final);
		struct prov_unschedulable *u = &res->unschedulable[res->n_unschedulable++];
		u->pod = i;
		u->n_reasons = all.n;
		u->reasons = all.items;
	}
}

int prov_run(const struct prov_input *in, struct prov_result **out, struct kerf_error *err)
{
	struct prov p;
	struct prov_result *res;
	bool spilled = true;
	size_t most_soft = 0;
	int rc = 0;

	if (!in || !out || !in->packer || !in->packer->solve)
		return kerf_error_set(err, KERF_E_INVALID, "provisioning needs a packer");
	memset(&p, 0, sizeof(p));
	p.in = in;
	p.max_types = in->max_instance_types ? in->max_instance_types : PROV_MAX_INSTANCE_TYPES;
	p.pods = xcalloc(in->n_pods ? in->n_pods : 1, sizeof(*p.pods));
	res = xcalloc(1, sizeof(*res));
	build_dims(&p);
	build_zones(&p);
	if ((rc = build_pools(&p, err)) != 0)
		goto out;
	/*
	 * A pod the packer could not place in its pool (a limit reached by the
	 * batch itself) moves on to the next pool, and the batch is solved
	 * again; pools only ever move forward, so this ends within n_pools
	 * rounds.
	 */
	/*
	 * A pod that drops a preference starts again from the first pool, so
	 * each preference a pod can drop adds as many rounds again.
	 */
	for (size_t i = 0; i < in->n_pods; i++) {
		size_t n = relax_steps(in->pods[i]);
		if (n > most_soft)
			most_soft = n;
	}
	p.again = true;
	for (size_t round = 0; (spilled || p.again) && round <= (p.n_pools + 1) * (most_soft + 1);
	     round++) {
		result_clear(res);
		if ((rc = round_solve(&p, res, &spilled, err)) != 0)
			goto out;
	}
	collect_unschedulable(&p, res);
	res->n_groups = p.n_groups;
out:
	prov_clear(&p);
	if (rc) {
		prov_result_free(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* ------------------------------------------------------------ split packing */

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

uint64_t prov_batch_hash(const char *const *keys, size_t n)
{
	const char **sorted = xcalloc(n + 1, sizeof(*sorted));
	uint64_t h = FNV1A_OFFSET;

	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), key_cmp);
	for (size_t i = 0; i < n; i++)
		h = fnv1a_update(h, sorted[i], strlen(sorted[i]) + 1); /* the NUL separates keys */
	free(sorted);
	return h;
}

size_t prov_split_pick(const char *nodepool, uint64_t batch_hash, const unsigned *weights,
			      size_t n)
{
	uint64_t h = fnv1a_update(batch_hash, nodepool, strlen(nodepool) + 1), total = 0;

	for (size_t i = 0; i < n; i++)
		total += weights[i];
	if (n < 2 || total == 0)
		return 0;
	/* FNV's low bits mix poorly on short inputs; fold the high half in. */
	uint64_t r = (h ^ (h >> 32)) % total;
	for (size_t i = 0; i < n; i++) {
		if (r < weights[i])
			return i;
		r -= weights[i];
	}
	return n - 1;
}
