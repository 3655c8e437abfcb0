/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_pods.c - pods of the simulated cluster: lookup, creation from a
 * workload's template (DaemonSet pods pinned to their node) and removal.
 */
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster_int.h"

/* ------------------------------------------------------------ pods */

/* Namespaces are equal when both name the same one, NULL being "default". */
static bool same_namespace(const char *a, const char *b)
{
	return strcmp(a ? a : "default", b ? b : "default") == 0;
}

struct sim_pod *simc_find_pod(const struct sim_cluster *c, const char *ns, const char *name,
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

struct sim_node *simc_find_node(const struct sim_cluster *c, const char *name, size_t *index)
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

struct sim_pod *simc_pod_create(struct sim_cluster *c, struct sim_workload *wl, const char *name,
				int32_t ordinal, struct sim_node *ds_node)
{
	const struct kerf_host *h = c->h;
	struct sim_pod *sp = h->calloc(h->ctx, 1, sizeof(*sp));
	struct kerf_pod *p = kerf_pod_copy(wl->tmpl);

	simc_replace(h, &p->meta->name, name);
	simc_replace(h, &p->meta->namespace_, wl->namespace_);
	simc_new_meta(c, p->meta, "v1", "Pod", simc_now_ms(c));
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
		sp->on = simc_find_node(c, p->node_name, NULL);
	wl->live++;
	PUSH(h, c->pods, c->n_pods, c->cap_pods, sp);
	c->dirty = true;
	simc_emit(c, KERF_EVENT_ADDED, KERF_OBJ_POD, p);
	return sp;
}

/*
 * Removes the pod at index: it succeeded (a finished trace pod) or was
 * deleted (evicted, its node gone, scaled down).  Its owner notices at
 * the next controller pass.
 */
void simc_pod_remove(struct sim_cluster *c, size_t index, bool succeeded)
{
	struct sim_pod *sp = c->pods[index];
	struct kerf_pod *p = sp->pod;
	struct sim_workload *wl = sp->owner;

	if (succeeded) {
		p->phase = KERF_POD_SUCCEEDED;
		simc_touch(c, p->meta);
		simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, p);
	}
	if (!sp->terminating)
		p->meta->deletion_ms = simc_now_ms(c);
	simc_emit(c, KERF_EVENT_DELETED, KERF_OBJ_POD, p);
	/* A terminating pod's workload counted it out when it began to terminate. */
	if (wl && !sp->terminating) {
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

void simc_pod_delete(struct sim_cluster *c, size_t index, int64_t grace_ms)
{
	struct sim_pod *sp = c->pods[index];
	struct sim_workload *wl = sp->owner;
	int64_t now = simc_now_ms(c);

	if (grace_ms <= 0 || !sp->on) {
		simc_pod_remove(c, index, false);
		return;
	}
	if (sp->terminating) {
		if (now + grace_ms < sp->gone_ms)
			sp->gone_ms = now + grace_ms;
		return;
	}
	sp->terminating = true;
	sp->gone_ms = now + grace_ms;
	sp->pod->meta->deletion_ms = now;
	simc_touch(c, sp->pod->meta);
	simc_emit(c, KERF_EVENT_MODIFIED, KERF_OBJ_POD, sp->pod);
	if (wl) {
		wl->live--;
		if (strcmp(wl->kind, "Pod") == 0)
			wl->finished++;
		if (wl->daemonset)
			c->ds_dirty = true;
	}
	c->dirty = true;
}

void simc_pod_evict(struct sim_cluster *c, size_t index)
{
	simc_pod_delete(c, index, c->cfg.termination_grace_ms);
}

void simc_pods_terminated(struct sim_cluster *c, int64_t now)
{
	for (size_t i = c->n_pods; i-- > 0;) {
		const struct sim_pod *sp = c->pods[i];
		if (sp->terminating && sp->gone_ms <= now)
			simc_pod_remove(c, i, false);
	}
}
