/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_nodes.c - the simulated kubelets: instances of the simulated cloud
 * registering as Nodes, turning Ready and going with their instance.
 */
#include <stdio.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"

/* ------------------------------------------------------------ nodes */

const struct kerf_nodeclaim *simc_find_claim(const struct sim_cluster *c, const char *name,
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
			const struct kerf_nodeclaim *claim, const char *name, struct kerf_labels *l)
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

/*
 * The node of an instance a state file knew: as kerf left it (name,
 * labels, taints, cordon), from the same kubelet re-registering after
 * kerfd came back.
 */
static void node_restore(struct sim_cluster *c, struct kerf_node *n, struct kerf_node *saved)
{
	const struct kerf_host *h = c->h;

	simc_replace(h, &n->meta->name, saved->meta->name);
	kerf_labels_copy(&n->meta->labels, &saved->meta->labels);
	simc_taints_add_all(&n->taints, &saved->taints);
	n->unschedulable = saved->unschedulable;
	kerf_node_free(saved);
}

void simc_node_register(void *arg, const struct sim_instance *in, int64_t at_ms)
{
	struct sim_cluster *c = arg;
	const struct kerf_host *h = c->h;
	const struct kerf_nodeclaim *claim = simc_find_claim(c, in->claim, NULL);
	struct kerf_node *saved = simc_take_saved_node(c, in->provider_id);
	struct sim_node *sn = h->calloc(h->ctx, 1, sizeof(*sn));
	struct kerf_node *n = kerf_node_new();
	char name[96];

	if (claim)
		simc_taints_add_all(&sn->startup, &claim->startup_taints);
	if (saved) {
		node_restore(c, n, saved);
		simc_new_meta(c, n->meta, "v1", "Node", at_ms);
	} else {
		node_name(c, name, sizeof(name));
		n->meta->name = h->strdup(h->ctx, name);
		simc_new_meta(c, n->meta, "v1", "Node", at_ms);
		node_labels(c, in, claim, name, &n->meta->labels);
		if (claim) {
			simc_taints_add_all(&n->taints, &claim->taints);
			simc_taints_add_all(&n->taints, &claim->startup_taints);
		}
		/* Karpenter's user data registers the kubelet with this taint; it removes it
		 * once synced. */
		add_taint(h, &n->taints, TAINT_UNREGISTERED, KERF_EFFECT_NO_EXECUTE);
		add_taint(h, &n->taints, TAINT_NOT_READY, KERF_EFFECT_NO_SCHEDULE);
	}
	n->provider_id = h->strdup(h->ctx, in->provider_id);
	n->capacity = in->capacity;
	n->allocatable = in->allocatable;
	sn->node = n;
	sn->in = in;
	PUSH(h, c->nodes, c->n_nodes, c->cap_nodes, sn);
	c->ds_dirty = true;
	c->w->dirty = true;
	h->log(h->ctx, KERF_LOG_INFO, "node %s %s (%s, %s, %s, NodeClaim %s)", n->meta->name,
	       saved ? "registered again" : "registered", in->type->name,
	       c->w->cfg.zones[in->zone], in->provider_id, in->claim);
	simc_emit(c, KERF_EVENT_ADDED, KERF_OBJ_NODE, n);
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

void simc_node_ready(void *arg, const struct sim_instance *in, int64_t at_ms)
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
	simc_touch(c, sn->node->meta);
	c->dirty = true;
	c->ds_dirty = true;
	c->h->log(c->h->ctx, KERF_LOG_DEBUG, "node %s ready", sn->node->meta->name);
	simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_NODE, sn->node);
}

/* Deletes the node and, as the pod garbage collector does, every pod bound or pinned to it. */
void simc_node_remove(struct sim_cluster *c, size_t index)
{
	struct sim_node *sn = c->nodes[index];

	for (size_t i = c->n_pods; i-- > 0;) {
		if (c->pods[i]->on != sn && c->pods[i]->ds_node != sn)
			continue;
		/*
		 * A pod going with its node is no eviction: when a budget would
		 * have refused one, say so, as whoever removed the node without
		 * draining it (or the cloud) broke the budget.
		 */
		const struct sim_pdb *b = c->n_pdbs ? simc_pdb_blocking(c, c->pods[i]) : NULL;
		if (b) {
			const struct kerf_meta *m = c->pods[i]->pod->meta;
			c->h->log(c->h->ctx, KERF_LOG_WARN,
				  "pod %s/%s went with node %s: PodDisruptionBudget %s/%s broken",
				  m->namespace_ ? m->namespace_ : "default", m->name,
				  sn->node->meta->name, b->namespace_, b->name);
		}
		simc_pod_remove(c, i, false);
	}
	sn->node->meta->deletion_ms = simc_now_ms(c);
	simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_NODE, sn->node);
	kerf_node_free(sn->node);
	kerf_taints_clear(&sn->startup);
	c->h->free(c->h->ctx, sn);
	memmove(&c->nodes[index], &c->nodes[index + 1],
		(c->n_nodes - index - 1) * sizeof(*c->nodes));
	c->n_nodes--;
	c->dirty = true;
	c->ds_dirty = true;
	c->w->dirty = true;
}

void simc_node_gone(void *arg, const struct sim_instance *in, int64_t at_ms)
{
	struct sim_cluster *c = arg;
	size_t index;

	if (node_of(c, in, &index)) {
		c->h->log(c->h->ctx, KERF_LOG_INFO, "node %s gone with its instance %s",
			  c->nodes[index]->node->meta->name, in->provider_id);
		simc_node_remove(c, index);
	}
}
