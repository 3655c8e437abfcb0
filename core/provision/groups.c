/* SPDX-License-Identifier: Apache-2.0 */
/*
 * groups.c - what every stage of a batch asks about its pods: the reasons
 * kept for pods that fit nowhere, pods' resources as the batch's dense
 * vectors, which pods an affinity term or a spread selects, and whether a
 * pod group may share a node with other pods.  provision.c (grouping,
 * pools, constraints) and provision_plan.c (packing and NodeClaims) both
 * stand on it, so neither calls the other's internals.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/scheduling.h>

#include "provision_int.h"
#include "util.h"

/* ------------------------------------------------------------ reasons */

void reasons_add(struct reasons *r, const char *nodepool, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	xgrow(r->items, r->cap, r->n + 1);
	r->items[r->n].nodepool = nodepool ? xstrdup(nodepool) : NULL;
	r->items[r->n++].text = sb_detach(&sb);
}

void reasons_append(struct reasons *dst, const struct reasons *src)
{
	for (size_t i = 0; i < src->n; i++)
		reasons_add(dst, src->items[i].nodepool, "%s", src->items[i].text);
}

void reasons_clear(struct reasons *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].nodepool);
		free(r->items[i].text);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

void prov_vector(const struct prov *p, const struct kerf_resources *r, int64_t *out)
{
	out[0] = r->cpu_millis;
	out[1] = r->memory_bytes;
	out[2] = r->ephemeral_bytes;
	out[3] = r->pods;
	for (size_t d = N_FIXED_DIMS; d < p->nd; d++)
		out[d] = kerf_resources_get(r, p->dim_names[d], NULL);
}

long prov_zone_index(const struct prov *p, const char *zone)
{
	for (size_t z = 0; zone && z < p->n_zones; z++)
		if (strcmp(p->zones[z], zone) == 0)
			return (long)z;
	return -1;
}

/* ------------------------------------------------------------ which pods a term selects */

bool prov_same_ns(const char *a, const char *b)
{
	return strcmp(a ? a : "default", b ? b : "default") == 0;
}

/* Does pod `other` fall under `owner`'s affinity term? */
bool prov_term_selects(const struct kerf_pod_affinity_term *t, const struct kerf_pod *owner,
		       const struct kerf_pod *other)
{
	bool ns =
	    t->n_namespaces == 0 && prov_same_ns(owner->meta->namespace_, other->meta->namespace_);

	for (size_t i = 0; i < t->n_namespaces && !ns; i++)
		ns = prov_same_ns(t->namespaces[i], other->meta->namespace_);
	return ns && kerf_label_selector_matches(t->selector, &other->meta->labels);
}

bool prov_spread_selects(const struct kerf_topology_spread *s, const struct kerf_pod *owner,
			 const struct kerf_pod *other)
{
	return prov_same_ns(owner->meta->namespace_, other->meta->namespace_) &&
	       kerf_label_selector_matches(s->selector, &other->meta->labels);
}

bool prov_is_key(const char *key, const char *want)
{
	return key && strcmp(kerf_label_normalize(key), want) == 0;
}

/* Two pods may not share a node when a host port of one is taken by the other. */
bool prov_ports_clash(const struct kerf_pod *a, const struct kerf_pod *b)
{
	return !kerf_pod_host_ports_free(a, b->host_ports, b->n_host_ports, NULL, 0);
}

/* Required hostname anti-affinity either way between two pods. */
bool prov_hostname_repels(const struct kerf_pod *a, const struct kerf_pod *b)
{
	for (size_t i = 0; i < a->n_anti_affinity; i++)
		if (prov_is_key(a->anti_affinity[i]->topology_key, HOSTNAME_KEY) &&
		    prov_term_selects(a->anti_affinity[i], a, b))
			return true;
	for (size_t i = 0; i < b->n_anti_affinity; i++)
		if (prov_is_key(b->anti_affinity[i]->topology_key, HOSTNAME_KEY) &&
		    prov_term_selects(b->anti_affinity[i], b, a))
			return true;
	return false;
}

bool pod_fits_existing(const struct prov *p, const struct group *g, size_t e)
{
	const struct prov_existing *ex = &p->in->existing[e];
	const struct kerf_pod *pod = g->rep;
	static const struct kerf_labels no_labels;
	long z = prov_zone_index(p, ex->zone);
	bool peer = false;

	if (ex->unschedulable || (z >= 0 && !g->zones[z]))
		return false;
	if (!kerf_reqset_matches_labels(g->podreq, ex->labels ? ex->labels : &no_labels, NULL, 0))
		return false;
	if (!kerf_pod_tolerates(pod, ex->taints, NULL, 0))
		return false;
	for (size_t k = 0; k < ex->n_pods; k++) {
		const struct kerf_pod *other = ex->pods[k];
		if (prov_ports_clash(pod, other) || prov_hostname_repels(pod, other))
			return false;
		for (size_t i = 0; g->hostname_bound && i < pod->n_spreads; i++)
			if (!g->spread_off[i] &&
			    prov_is_key(pod->spreads[i]->topology_key, HOSTNAME_KEY) &&
			    prov_spread_selects(pod->spreads[i], pod, other))
				return false;
		/* Preferred anti-affinity still counted as required. */
		for (size_t i = g->n_soft_aff; i < g->n_soft_aff + g->n_soft_anti; i++)
			if (prov_is_key(g->soft[i]->topology_key, HOSTNAME_KEY) &&
			    prov_term_selects(g->soft[i], pod, other))
				return false;
		for (size_t i = 0; g->needs_peer && i < pod->n_affinity + g->n_soft_aff; i++) {
			const struct kerf_pod_affinity_term *t =
			    i < pod->n_affinity ? pod->affinity[i] : g->soft[i - pod->n_affinity];
			peer = peer || (prov_is_key(t->topology_key, HOSTNAME_KEY) &&
					prov_term_selects(t, pod, other));
		}
	}
	return !g->needs_peer || peer;
}

/* True when two groups may not share a node: host ports or hostname anti-affinity. */
bool groups_conflict(const struct group *a, const struct group *b)
{
	return prov_ports_clash(a->rep, b->rep) || prov_hostname_repels(a->rep, b->rep);
}
