/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi-frozen.c - a provider, cluster and packer compiled against the frozen
 * ABI 2.0 headers in tests/abi/frozen-2.0, never against include/: what a
 * third party built on kerf 2.0 would ship.  make check loads it into the
 * current host (check_loader) and into a host and libkerf whose every model
 * object has gained a field (check_abi_compat).  Everything it builds for
 * the host comes from libkerf's constructors; everything it reads from the
 * host it reads by the 2.0 layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#define ZONE "zone-a"

static int fz_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	*out = (void *)host;
	return 0;
}

static void fz_destroy(void *instance)
{
}

/* ------------------------------------------------------------ provider */

static void add_type(struct kerf_instance_type_list *l, const char *name, int64_t cpu_millis,
		     int64_t memory, kerf_price_t price)
{
	struct kerf_instance_type *it = kerf_instance_type_list_append(l);
	struct kerf_requirement *r = kerf_requirements_append(&it->requirements);
	struct kerf_offering *o = kerf_instance_type_add_offering(it);

	it->name = strdup(name);
	r->key = strdup("node.kubernetes.io/instance-type");
	r->op = KERF_OP_IN;
	kerf_requirement_add_value(r, name);
	kerf_resources_set(&it->capacity, KERF_RESOURCE_CPU, cpu_millis, NULL);
	kerf_resources_set(&it->capacity, KERF_RESOURCE_MEMORY, memory, NULL);
	kerf_resources_set(&it->capacity, KERF_RESOURCE_PODS, 20, NULL);
	it->allocatable = it->capacity;
	o->zone = strdup(ZONE);
	o->capacity_type = KERF_CAPACITY_ON_DEMAND;
	o->price = price;
	o->available = true;
}

static int fz_instance_types(void *inst, const struct kerf_node_class *node_class,
			     struct kerf_instance_type_list **out, struct kerf_error *err)
{
	struct kerf_instance_type_list *l = kerf_instance_type_list_new();

	add_type(l, "frozen.small", 2000, 4LL << 30, 50000);
	add_type(l, "frozen.large", 8000, 32LL << 30, 400000);
	*out = l;
	return 0;
}

/* The instance type the claim asks for: the first value of its instance-type requirement. */
static const char *claim_type(const struct kerf_nodeclaim *claim)
{
	for (size_t i = 0; i < claim->requirements.n; i++) {
		const struct kerf_requirement *r = claim->requirements.items[i];
		if (strcmp(r->key, "node.kubernetes.io/instance-type") == 0 && r->n_values)
			return r->values[0];
	}
	return NULL;
}

static int fz_launch(void *inst, const struct kerf_nodeclaim *claim,
		     const struct kerf_node_class *node_class, struct kerf_instance **out,
		     struct kerf_error *err)
{
	const char *type = claim_type(claim);
	const char *pool = kerf_labels_get(&claim->meta->labels, "karpenter.sh/nodepool");
	struct kerf_instance *in;
	size_t n;

	if (!type)
		return kerf_error_set(err, KERF_E_INVALID, "claim %s names no instance type",
				      claim->meta->name);
	in = kerf_instance_new();
	n = strlen("frozen:///" ZONE "/") + strlen(claim->meta->name) + 1;
	in->provider_id = malloc(n);
	snprintf(in->provider_id, n, "frozen:///" ZONE "/%s", claim->meta->name);
	in->instance_type = strdup(type);
	in->zone = strdup(ZONE);
	in->capacity_type = KERF_CAPACITY_ON_DEMAND;
	in->state = strdup("pending");
	kerf_labels_set(&in->tags, "karpenter.sh/nodeclaim", claim->meta->name);
	kerf_labels_set(&in->tags, "karpenter.sh/nodepool", pool ? pool : "");
	*out = in;
	return 0;
}

static int fz_terminate(void *inst, const char *provider_id, struct kerf_error *err)
{
	return KERF_E_NOTFOUND;
}

static int fz_get(void *inst, const char *provider_id, struct kerf_instance **out,
		  struct kerf_error *err)
{
	return KERF_E_NOTFOUND;
}

static int fz_list(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	*out = kerf_instance_list_new();
	return 0;
}

/* ------------------------------------------------------------ cluster */

static void deliver_pod(const struct kerf_event_sink *sink)
{
	struct kerf_pod *pod = kerf_pod_new();
	struct kerf_toleration *t = kerf_tolerations_append(&pod->tolerations);

	pod->meta->api_version = strdup("v1");
	pod->meta->kind = strdup("Pod");
	pod->meta->name = strdup("frozen-pod");
	pod->meta->namespace_ = strdup("default");
	kerf_labels_set(&pod->meta->labels, "app", "frozen");
	kerf_resources_set(&pod->requests, KERF_RESOURCE_CPU, 1500, NULL);
	kerf_resources_set(&pod->requests, KERF_RESOURCE_PODS, 1, NULL);
	pod->phase = KERF_POD_PENDING;
	pod->unschedulable = true;
	t->key = strdup("dedicated");
	t->op = KERF_TOLERATION_EXISTS;
	t->effect = KERF_EFFECT_NO_SCHEDULE;
	sink->on_object(sink->ctx, KERF_EVENT_ADDED, KERF_OBJ_POD, pod);
	kerf_pod_free(pod);
}

static void deliver_node(const struct kerf_event_sink *sink)
{
	struct kerf_node *node = kerf_node_new();
	struct kerf_taint *t = kerf_taints_append(&node->taints);

	node->meta->api_version = strdup("v1");
	node->meta->kind = strdup("Node");
	node->meta->name = strdup("frozen-node");
	kerf_labels_set(&node->meta->labels, "node.kubernetes.io/instance-type", "frozen.small");
	node->provider_id = strdup("frozen:///" ZONE "/frozen-node");
	kerf_resources_set(&node->allocatable, KERF_RESOURCE_CPU, 2000, NULL);
	node->capacity = node->allocatable;
	node->ready = true;
	t->key = strdup("dedicated");
	t->value = strdup("frozen");
	t->effect = KERF_EFFECT_NO_SCHEDULE;
	sink->on_object(sink->ctx, KERF_EVENT_ADDED, KERF_OBJ_NODE, node);
	kerf_node_free(node);
}

static int fz_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	static const kerf_object_kind kinds[] = {KERF_OBJ_POD, KERF_OBJ_NODE, KERF_OBJ_NODEPOOL,
						 KERF_OBJ_NODECLAIM, KERF_OBJ_NODE_CLASS};

	deliver_pod(sink);
	deliver_node(sink);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		sink->on_object(sink->ctx, KERF_EVENT_SYNCED, kinds[i], NULL);
	return 0;
}

static int fz_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	return 0;
}

static int fz_claim(void *inst, const struct kerf_nodeclaim *claim,
		struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	return 0;
}

static int fz_by_name(void *inst, const char *name, struct kerf_error *err)
{
	return 0;
}

static int fz_update_node(void *inst, const struct kerf_node *node,
		struct kerf_node **stored, struct kerf_error *err)
{
	return 0;
}

static int fz_evict(void *inst, const char *namespace_, const char *name, struct kerf_error *err)
{
	return 0;
}

/* ------------------------------------------------------------ packer */

/*
 * Each group on new nodes of its first type at that type's first offering,
 * as many pods a node as its cpu holds: simple enough that the test can
 * work out the plan, and it reads every array of the problem.
 */
static int fz_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
		    struct kerf_pack_plan **out, struct kerf_error *err)
{
	struct kerf_pack_plan *plan = kerf_pack_plan_new();

	for (size_t g = 0; g < problem->n_groups; g++) {
		const struct kerf_pack_group *grp = problem->groups[g];
		const struct kerf_pack_type *t = problem->types[grp->types[0]];
		const struct kerf_pack_offering *o = t->offerings[0];
		uint32_t per_node = (uint32_t)(t->allocatable[0] / grp->request[0]);
		for (uint32_t left = grp->count; left > 0;) {
			struct kerf_pack_node *n = kerf_pack_plan_add_node(plan);
			struct kerf_pack_assignment *a = kerf_pack_node_add_assignment(n);
			n->nodepool = grp->nodepool;
			n->zone = o->zone;
			n->capacity_type = o->capacity_type;
			n->type = grp->types[0];
			n->price = o->price;
			n->options = malloc(sizeof(*n->options));
			n->options[0] = grp->types[0];
			n->n_options = 1;
			a->group = (uint32_t)g;
			a->count = left < per_node ? left : per_node;
			left -= a->count;
			plan->total_price += o->price;
		}
	}
	*out = plan;
	return 0;
}

/* ------------------------------------------------------------ descriptor */

static const struct kerf_provider_ops provider_ops = {
    .get_instance_types = fz_instance_types,
    .create = fz_launch,
    .delete_instance = fz_terminate,
    .get = fz_get,
    .list = fz_list,
};

static const struct kerf_cluster_ops cluster_ops = {
    .start = fz_start,
    .poll = fz_poll,
    .create_nodeclaim = fz_claim,
    .update_nodeclaim = fz_claim,
    .delete_nodeclaim = fz_by_name,
    .update_node = fz_update_node,
    .delete_node = fz_by_name,
    .evict_pod = fz_evict,
};

static const struct kerf_packer_ops packer_ops = {.solve = fz_solve};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "abi-frozen",
    .version = "2.0.0",
    .description = "built against the frozen ABI 2.0 headers",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_PROVIDER | KERF_KIND_CLUSTER | KERF_KIND_PACKER,
    .create = fz_create,
    .destroy = fz_destroy,
    KERF_PLUGIN_OPS(provider, provider_ops),
    KERF_PLUGIN_OPS(cluster, cluster_ops),
    KERF_PLUGIN_OPS(packer, packer_ops),
};
