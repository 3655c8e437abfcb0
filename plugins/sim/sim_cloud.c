/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cloud.c - the provider half of the sim plugin: a simulated EC2.
 *
 * Instance types come from the catalogue with Karpenter's allocatable
 * figures and the labels Karpenter's AWS provider sets.  Offerings are
 * every configured zone on demand, plus spot where the catalogue has a spot
 * estimate, priced and made unavailable by the world's seeded rules.
 * Launches behave like an EC2 fleet request with Karpenter's
 * price-capacity-optimized strategy, simplified: spot when the claim allows
 * it and some allowed spot offering has capacity, else on demand, the
 * cheapest available offering within that capacity type.  An offering in
 * launch_failures is listed as available but its launch fails with
 * InsufficientInstanceCapacity, as EC2's often do.
 *
 * The node class narrows no type or offering: the simulator has one image
 * per architecture and a subnet in every configured zone, so every type is
 * offered whatever the class says (NULL included).  Its kubelet settings
 * and root volume decide each type's capacity and allocatable, as
 * Karpenter's AWS provider computes them (ec2_node_class_resources), both
 * in the types listed and in the nodes launched.  It serves EC2NodeClass
 * with the ec2 plugin's library (plugins/ec2/nodeclass.h), and the class's
 * tags are copied to the instances launched with it, as EC2NodeClass
 * spec.tags are.
 *
 * The cloud also speaks first: start() takes the host's instance-event
 * sink, through which a scenario's interruptions and terminations
 * (sim_world.h) arrive.  Every op runs under struct sim's lock (sim.h),
 * taken by the wrappers at the end of this file.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <kerf/kerf.h>

#include "nodeclass.h"
#include "sim.h"

static const kerf_capacity_type capacity_types[] = {KERF_CAPACITY_SPOT, KERF_CAPACITY_ON_DEMAND};
#define N_CAPACITY_TYPES (sizeof(capacity_types) / sizeof(capacity_types[0]))

/* ------------------------------------------------------- instance types */

/* key In values (n > 0) or, with no values, key DoesNotExist. */
static void set_requirement(const struct kerf_host *h, struct kerf_requirement *r, const char *key,
			    const char *const *values, size_t n)
{
	r->key = h->strdup(h->ctx, key);
	r->op = n ? KERF_OP_IN : KERF_OP_DOES_NOT_EXIST;
	r->n_values = n;
	r->values = n ? h->calloc(h->ctx, n, sizeof(*r->values)) : NULL;
	for (size_t i = 0; i < n; i++)
		r->values[i] = h->strdup(h->ctx, values[i]);
}

static void fill_requirements(const struct sim_world *w, const struct sim_type *t,
			      struct kerf_requirements *reqs)
{
	const struct kerf_host *h = w->host;
	struct sim_label labels[SIM_MAX_LABELS];
	const char *cts[N_CAPACITY_TYPES];
	size_t n = sim_type_labels(w, t, labels), n_ct = 0;

	for (size_t i = 0; i < n; i++)
		set_requirement(h, kerf_requirements_append(reqs), labels[i].key, &labels[i].value,
				labels[i].value ? 1 : 0);
	/*
	 * As Karpenter's AWS provider does: every zone and capacity type the
	 * type is offered in, available or not; availability is per offering.
	 */
	set_requirement(h, kerf_requirements_append(reqs), SIM_L_ZONE,
			(const char *const *)w->cfg.zones, w->cfg.n_zones);
	for (size_t c = N_CAPACITY_TYPES; c-- > 0;)
		if (sim_offer_exists(t, capacity_types[c]))
			cts[n_ct++] = kerf_capacity_type_name(capacity_types[c]);
	set_requirement(h, kerf_requirements_append(reqs), SIM_L_CAPACITY_TYPE, cts, n_ct);
}

static void fill_type(const struct sim_world *w, const struct sim_type *t,
		      const struct ec2_node_class *nc, struct kerf_instance_type *it)
{
	const struct kerf_host *h = w->host;

	it->name = h->strdup(h->ctx, t->name);
	fill_requirements(w, t, &it->requirements);
	it->capacity = t->capacity;
	it->allocatable = t->allocatable;
	ec2_node_class_resources(nc, &it->capacity, &it->allocatable);
	it->classes = sim_type_classes(t);
	for (size_t z = 0; z < w->cfg.n_zones; z++) {
		for (size_t c = 0; c < N_CAPACITY_TYPES; c++) {
			kerf_capacity_type ct = capacity_types[c];
			struct kerf_offering *o;

			if (!sim_offer_exists(t, ct))
				continue;
			o = kerf_instance_type_add_offering(it);
			o->zone = h->strdup(h->ctx, w->cfg.zones[z]);
			o->capacity_type = ct;
			o->price = sim_offer_price(w, t, z, ct);
			o->available = sim_offer_available(w, t, z, ct);
		}
	}
}

static int get_instance_types(void *inst, const struct kerf_node_class *node_class,
				  struct kerf_instance_type_list **out, struct kerf_error *err)
{
	const struct sim_world *w = ((struct sim *)inst)->world;
	struct kerf_instance_type_list *l;
	struct ec2_node_class *nc = NULL;
	int rc;

	/* The class's kubelet and root volume decide what a node of each type can hold. */
	if (node_class && (rc = ec2_node_class_parse(node_class, &nc, err)) != 0)
		return rc;
	l = kerf_instance_type_list_new();
	/* libkerf's constructors and the host allocator abort rather than fail, so nothing here
	 * can. */
	for (size_t i = 0; i < w->n_types; i++)
		fill_type(w, &w->types[i], nc, kerf_instance_type_list_append(l));
	ec2_node_class_free(nc);
	*out = l;
	return 0;
}

/* ------------------------------------------------------------ instances */

static int copy_tags(struct kerf_labels *dst, const struct kerf_labels *src)
{
	int rc = 0;

	for (size_t i = 0; i < src->n && rc == 0; i++)
		rc = kerf_labels_set(dst, src->items[i]->key, src->items[i]->value);
	return rc;
}

static int describe(const struct sim_world *w, const struct sim_instance *in, int64_t now_ms,
		    struct kerf_instance *out, struct kerf_error *err)
{
	const struct kerf_host *h = w->host;

	out->provider_id = h->strdup(h->ctx, in->provider_id);
	out->instance_type = h->strdup(h->ctx, in->type->name);
	out->zone = h->strdup(h->ctx, w->cfg.zones[in->zone]);
	out->capacity_type = in->capacity_type;
	out->image_id = h->strdup(h->ctx, in->image_id);
	out->launch_ms = in->launch_ms;
	out->state = h->strdup(h->ctx, sim_instance_state(w, in, now_ms));
	if (copy_tags(&out->tags, &in->tags) != 0)
		return kerf_error_set(err, KERF_E_NOMEM, "sim: out of memory describing %s",
				      in->provider_id);
	return 0;
}

static int new_instance(const struct sim_world *w, const struct sim_instance *in, int64_t now_ms,
			struct kerf_instance **out, struct kerf_error *err)
{
	struct kerf_instance *d = kerf_instance_new();
	int rc = describe(w, in, now_ms, d, err);

	if (rc) {
		kerf_instance_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* The offering create() settled on. */
struct pick {
	const struct sim_type *type;
	size_t zone;
	kerf_capacity_type ct;
	kerf_price_t price;
	size_t n_allowed; /* offerings the claim allows, available or not */
};

static bool type_allowed(const struct sim_world *w, const struct sim_type *t,
			 const struct ec2_node_class *nc, const struct kerf_reqset *want,
			 const struct kerf_nodeclaim *claim)
{
	struct sim_label labels[SIM_MAX_LABELS];
	struct kerf_resources capacity = t->capacity, allocatable = t->allocatable;
	size_t n;

	ec2_node_class_resources(nc, &capacity, &allocatable);
	if (!kerf_resources_fit(&claim->resource_requests, &allocatable, NULL))
		return false;
	/* Cheap reject first: claims nearly always list their instance types. */
	if (!kerf_reqset_allows(want, SIM_L_INSTANCE_TYPE, t->name))
		return false;
	n = sim_type_labels(w, t, labels);
	for (size_t i = 0; i < n; i++)
		if (!kerf_reqset_allows(want, labels[i].key, labels[i].value))
			return false;
	return true;
}

/* Spot before on demand; then the lower price; the first found wins a tie. */
static bool better(const struct pick *p, kerf_capacity_type ct, kerf_price_t price)
{
	if (!p->type)
		return true;
	if (ct != p->ct)
		return ct == KERF_CAPACITY_SPOT;
	return price < p->price;
}

static void choose(const struct sim_world *w, const struct ec2_node_class *nc,
		   const struct kerf_reqset *want, const struct kerf_nodeclaim *claim,
		   struct pick *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < w->n_types; i++) {
		const struct sim_type *t = &w->types[i];

		if (!type_allowed(w, t, nc, want, claim))
			continue;
		for (size_t z = 0; z < w->cfg.n_zones; z++) {
			if (!kerf_reqset_allows(want, SIM_L_ZONE, w->cfg.zones[z]))
				continue;
			for (size_t c = 0; c < N_CAPACITY_TYPES; c++) {
				kerf_capacity_type ct = capacity_types[c];
				kerf_price_t price;

				if (!sim_offer_exists(t, ct) ||
				    !kerf_reqset_allows(want, SIM_L_CAPACITY_TYPE,
							kerf_capacity_type_name(ct)))
					continue;
				p->n_allowed++;
				if (!sim_offer_available(w, t, z, ct))
					continue;
				price = sim_offer_price(w, t, z, ct);
				if (better(p, ct, price)) {
					p->type = t;
					p->zone = z;
					p->ct = ct;
					p->price = price;
				}
			}
		}
	}
}

/*
 * Not retryable: the simulator's capacity is a stable function of the
 * configuration and the seed, so the same claim fails the same way.  kerf
 * reacts to KERF_E_CAPACITY by trying other offerings with a new claim.
 */
__attribute__((format(printf, 2, 3))) static int no_capacity(struct kerf_error *err,
							     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = kerf_error_vset(err, KERF_E_CAPACITY, fmt, ap);
	va_end(ap);
	if (err) {
		err->retryable = 0;
		snprintf(err->provider_code, sizeof(err->provider_code), "%s",
			 "InsufficientInstanceCapacity");
	}
	return rc;
}

/*
 * The tags Karpenter puts on a launched instance, over the node class's
 * own.  The class is read from its document at each launch: that costs
 * microseconds beside a launch, and nothing can go stale.
 */
static int claim_tags(const struct kerf_nodeclaim *claim, const struct kerf_node_class *node_class,
		      struct kerf_labels *tags, struct kerf_error *err)
{
	const char *class_name = claim->node_class_ref->name;
	struct ec2_node_class *ec2 = NULL;
	int rc = 0;

	if (node_class && (rc = ec2_node_class_parse(node_class, &ec2, err)) != 0)
		return rc;
	if (ec2 && copy_tags(tags, &ec2->tags) != 0)
		rc = KERF_E_NOMEM;
	ec2_node_class_free(ec2);
	if (!class_name && node_class)
		class_name = node_class->meta->name;
	if (rc == 0 && claim->nodepool)
		rc = kerf_labels_set(tags, SIM_TAG_NODEPOOL, claim->nodepool);
	if (rc == 0)
		rc = kerf_labels_set(tags, SIM_TAG_NODECLAIM, claim->meta->name);
	if (rc == 0 && class_name)
		rc = kerf_labels_set(tags, SIM_TAG_NODECLASS, class_name);
	return rc;
}

static int create_instance(void *inst, const struct kerf_nodeclaim *claim,
			       const struct kerf_node_class *node_class, struct kerf_instance **out,
			       struct kerf_error *err)
{
	struct sim_world *w = ((struct sim *)inst)->world;
	const struct kerf_host *h = w->host;
	int64_t now = h->wall_ms(h->ctx);
	struct kerf_labels tags = {0};
	struct ec2_node_class *nc = NULL;
	struct sim_instance *in;
	struct kerf_reqset *want;
	struct pick p;
	int rc;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "sim: NodeClaim without a name");
	in = sim_world_find_claim(w, claim->meta->name, now);
	if (in)
		return new_instance(w, in, now, out, err);

	if (node_class && (rc = ec2_node_class_parse(node_class, &nc, err)) != 0)
		return rc;
	want = kerf_reqset_new();
	if (!want) {
		ec2_node_class_free(nc);
		return kerf_error_set(err, KERF_E_NOMEM, "sim: out of memory");
	}
	rc = kerf_reqset_add_requirements(want, &claim->requirements, err);
	if (rc == 0)
		choose(w, nc, want, claim, &p);
	kerf_reqset_free(want);
	if (rc || !p.type || sim_offer_launch_fails(w, p.type, p.zone, p.ct)) {
		ec2_node_class_free(nc);
		nc = NULL;
	}
	if (rc)
		return rc;
	if (!p.type)
		return no_capacity(err,
				   "sim: NodeClaim %s: none of the %zu offerings it allows in %s "
				   "has capacity",
				   claim->meta->name, p.n_allowed, w->cfg.region);
	/*
	 * The pick is listed as available, yet the launch fails: the fleet
	 * request overrides only the offering it settled on, so nothing else
	 * is tried, and the caller's cache of unavailable offerings is what
	 * steers its next attempt elsewhere.
	 */
	if (sim_offer_launch_fails(w, p.type, p.zone, p.ct))
		return no_capacity(err,
				   "sim: NodeClaim %s: no capacity for %s in %s (%s), "
				   "though it is offered",
				   claim->meta->name, p.type->name, w->cfg.zones[p.zone],
				   kerf_capacity_type_name(p.ct));
	if ((rc = claim_tags(claim, node_class, &tags, err)) != 0) {
		ec2_node_class_free(nc);
		kerf_labels_clear(&tags);
		if (rc == KERF_E_NOMEM)
			kerf_error_set(err, rc, "sim: out of memory tagging %s", claim->meta->name);
		return rc;
	}
	in = sim_world_launch(w, claim->meta->name, p.type, p.zone, p.ct, now);
	in->tags = tags;
	ec2_node_class_resources(nc, &in->capacity, &in->allocatable);
	ec2_node_class_free(nc);
	h->log(h->ctx, KERF_LOG_INFO,
	       "launched %s (%s, %s, %s, %" PRId64 " micro-USD/h) for NodeClaim %s",
	       in->provider_id, p.type->name, w->cfg.zones[p.zone], kerf_capacity_type_name(p.ct),
	       p.price, claim->meta->name);
	return new_instance(w, in, now, out, err);
}

static int not_found(struct kerf_error *err, const char *provider_id)
{
	return kerf_error_set(err, KERF_E_NOTFOUND, "sim: no instance %s",
			      provider_id ? provider_id : "(null)");
}

static int delete_instance(void *inst, const char *provider_id, struct kerf_error *err)
{
	struct sim_world *w = ((struct sim *)inst)->world;
	const struct kerf_host *h = w->host;
	int64_t now = h->wall_ms(h->ctx);
	struct sim_instance *in = provider_id ? sim_world_find_id(w, provider_id, now) : NULL;

	/*
	 * An instance already shutting down counts as gone: its termination
	 * is under way and nothing more can be done to it.
	 */
	if (!in || in->deleted)
		return not_found(err, provider_id);
	in->deleted = true;
	in->delete_ms = now;
	w->dirty = true;
	h->log(h->ctx, KERF_LOG_INFO, "terminating %s (%s)", in->provider_id, in->type->name);
	return 0;
}

static int get_instance(void *inst, const char *provider_id, struct kerf_instance **out,
		   struct kerf_error *err)
{
	const struct sim_world *w = ((struct sim *)inst)->world;
	int64_t now = w->host->wall_ms(w->host->ctx);
	const struct sim_instance *in = provider_id ? sim_world_find_id(w, provider_id, now) : NULL;

	if (!in)
		return not_found(err, provider_id);
	return new_instance(w, in, now, out, err);
}

static int list_instances(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	const struct sim_world *w = ((struct sim *)inst)->world;
	const struct kerf_host *h = w->host;
	int64_t now = h->wall_ms(h->ctx);
	struct kerf_instance_list *l = kerf_instance_list_new();

	for (size_t i = 0; i < w->n_instances; i++) {
		const struct sim_instance *in = w->instances[i];
		int rc;

		if (sim_instance_time(w, in, SIM_GONE) <= now)
			continue;
		/* In the list first, so kerf_instance_list_free sees a half-built entry. */
		rc = describe(w, in, now, kerf_instance_list_append(l), err);
		if (rc) {
			kerf_instance_list_free(l);
			return rc;
		}
	}
	*out = l;
	return 0;
}

/*
 * Events for the interruptions still running: a restarted kerfd never
 * saw them, and a cloud's queue would still hold the notices.
 */
static int start_events(void *inst, const struct kerf_provider_sink *sink, struct kerf_error *err)
{
	struct sim_world *w = ((struct sim *)inst)->world;

	if (!sink || !sink->on_instance)
		return kerf_error_set(err, KERF_E_INVALID, "sim: provider start without a sink");
	if (w->events.on_instance)
		return kerf_error_set(err, KERF_E_INVALID, "sim: provider already started");
	w->events = *sink;
	for (size_t i = 0; i < w->n_instances; i++) {
		const struct sim_instance *in = w->instances[i];

		if (in->interrupt_ms && !in->deleted)
			sim_world_event(w, in, KERF_INSTANCE_INTERRUPTED, in->interrupt_ms,
					in->interrupt_ms + SIM_INTERRUPT_NOTICE_MS,
					"Spot Instance Interruption Warning");
	}
	return 0;
}

/* ------------------------------------------------------------ locking */

static int locked_get_instance_types(void *inst, const struct kerf_node_class *node_class,
				     struct kerf_instance_type_list **out, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, get_instance_types(inst, node_class, out, err), err);
}

static int locked_create(void *inst, const struct kerf_nodeclaim *claim,
			 const struct kerf_node_class *node_class, struct kerf_instance **out,
			 struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, create_instance(inst, claim, node_class, out, err), err);
}

static int locked_delete(void *inst, const char *provider_id, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, delete_instance(inst, provider_id, err), err);
}

static int locked_get(void *inst, const char *provider_id, struct kerf_instance **out,
		      struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, get_instance(inst, provider_id, out, err), err);
}

static int locked_list(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, list_instances(inst, out, err), err);
}

static int locked_start(void *inst, const struct kerf_provider_sink *sink, struct kerf_error *err)
{
	sim_enter(inst);
	return sim_leave(inst, start_events(inst, sink, err), err);
}

const struct kerf_provider_ops sim_provider_ops = {
    .get_instance_types = locked_get_instance_types,
    .create = locked_create,
    .delete_instance = locked_delete,
    .get = locked_get,
    .list = locked_list,
    /* The simulator is EC2's stand-in until the ec2 plugin exists: it serves EC2NodeClass. */
    .node_class_kinds = ec2_node_class_kinds,
    .validate_node_class = ec2_validate_node_class,
    .well_known_labels = ec2_well_known_labels,
    .restricted_label_domains = ec2_restricted_label_domains,
    .class_selectors = ec2_class_selectors,
    .start = locked_start,
};
