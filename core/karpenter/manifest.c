/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.c - loading manifest files: documents are dispatched by
 * apiVersion and kind, Karpenter objects are read field by field with
 * strict decoding, and every problem becomes a positioned diagnostic.
 *
 * Reading and validating go together: each field is checked against the
 * CRD (type, enum, pattern, bounds) as it is stored, and the cross-field
 * CEL rules run once the object is read.  An object with any diagnostic is
 * freed and left out of the set.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kerf/requirements.h>

#include "cfg.h"
#include "crd.h"
#include "labels.h"
#include "manifest.h"

/*
 * kerf's own NodePool annotations choose its packers; their syntax is
 * checked here so `kerfctl validate` points at them.  Whether the packers
 * named are loaded only kerfd can tell.
 */
static void check_packer_annotations(struct mf_ctx *c, const struct yt_node *doc)
{
	const struct yt_node *md = mf_child(doc, "metadata");
	const struct yt_node *map = md ? mf_child(md, "annotations") : NULL;

	if (!map || map->type != YT_MAP)
		return;
	size_t outer = mf_push(c, "metadata");
	mf_push(c, "annotations");
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->pairs[i].key->scalar;
		const struct yt_node *v = map->pairs[i].value;
		if (v->type != YT_SCALAR || !v->scalar)
			continue;
		size_t m = mf_push_key(c, k);
		if (strcmp(k, "kerf.dev/packer") == 0) {
			struct cfg_packer_weight *w = NULL;
			struct kerf_error err;
			size_t n = 0;
			kerf_error_clear(&err);
			if (cfg_packer_spec_parse(v->scalar, &n, &w, &err) == 0)
				cfg_packer_weights_free(n, w);
			else
				mf_error(c, v, "%s", err.message);
		} else if (strcmp(k, "kerf.dev/packer-shadow") == 0 &&
			   !cfg_plugin_name_valid(v->scalar)) {
			mf_error(c, v,
				 "\"%s\" is not a packer name (lowercase letters, digits "
				 "and '-')",
				 v->scalar);
		}
		mf_pop(c, m);
	}
	mf_pop(c, outer);
}

/* ------------------------------------------------------------ durations */

/*
 * Reads a duration field with the CRD pattern check.  `pattern`: 0 for
 * expireAfter-style (Never allowed), 1 for terminationGracePeriod, 2 for
 * budget durations.
 */
static void parse_duration(struct mf_ctx *c, const struct yt_node *parent, const char *field,
			   int pattern, int64_t *out)
{
	const struct yt_node *v = mf_child(parent, field);
	struct kerf_error err = KERF_ERROR_INIT;
	const char *s;
	size_t m;
	bool ok;

	if (!v)
		return;
	m = mf_push(c, field);
	if ((s = mf_str(c, v)) != NULL) {
		if (pattern == 0)
			ok = mf_duration_pattern(s, true);
		else if (pattern == 1)
			ok = mf_duration_pattern(s, false);
		else
			ok = mf_budget_duration_pattern(s);
		kerf_error_clear(&err);
		if (!ok)
			mf_error(c, v, "invalid duration \"%s\": %s", s,
				 pattern == 0 ? "use a whole number of hours, minutes and seconds "
						"(\"720h\", \"1h30m\", \"30s\") or \"Never\""
				 : pattern == 1 ? "use a whole number of hours, minutes and "
						  "seconds (\"48h\", \"1h30m\", \"30s\")"
						: "use hours and/or minutes (\"8h\", \"30m\", "
						  "\"1h30m\")");
		else if (kerf_duration_parse(s, pattern == 0, out, &err))
			mf_error(c, v, "%s", err.message);
	}
	mf_pop(c, m);
}

/* ------------------------------------------------------------- NodePool */

static void parse_budgets(struct mf_ctx *c, const struct yt_node *seq, struct kerf_nodepool *np)
{
	const char *const *fields = crd_fields(&crd_budget);
	static const char *const reasons[] = {"Underutilized", "Empty", "Drifted"};

	if (!mf_is_seq(c, seq))
		return;
	if (seq->n > 50)
		mf_error(c, seq, "must have at most 50 items, got %zu", (size_t)seq->n);
	for (size_t i = 0; i < np->n_budgets; i++)
		kerf_budget_free(np->budgets[i]);
	free(np->budgets);
	np->n_budgets = 0;
	np->budgets = NULL;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *v, *sched, *dur;
		size_t mi = mf_push_index(c, i), m;
		struct kerf_budget *b;
		const char *s;
		char why[256];

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		b = kerf_nodepool_add_budget(np);
		b->nodes = 10;
		b->nodes_percent = true;
		mf_known_fields(c, it, fields);
		if ((v = mf_child(it, "nodes")) != NULL) {
			m = mf_push(c, "nodes");
			if ((s = mf_str(c, v)) != NULL) {
				if (!mf_budget_nodes_pattern(s) || strlen(s) > 9) {
					mf_error(
					    c, v,
					    "invalid value \"%s\": must be a count (\"5\") or a "
					    "percentage from 0%% to 100%% (\"10%%\")",
					    s);
				} else {
					b->nodes_percent = strchr(s, '%') != NULL;
					b->nodes = (int32_t)strtol(s, NULL, 10);
				}
			}
			mf_pop(c, m);
		}
		sched = mf_child(it, "schedule");
		dur = mf_child(it, "duration");
		if (sched) {
			m = mf_push(c, "schedule");
			if ((s = mf_str(c, sched)) != NULL) {
				b->schedule = xstrdup(s);
				if (!mf_cron_valid(s, why, sizeof(why)))
					mf_error(c, sched, "invalid schedule \"%s\": %s", s, why);
			}
			mf_pop(c, m);
		}
		parse_duration(c, it, "duration", 2, &b->duration_ms);
		if (!!sched != !!dur) {
			m = mf_push(c, sched ? "duration" : "schedule");
			mf_error(c, sched ? sched : dur, "'schedule' must be set with 'duration'");
			mf_pop(c, m);
		}
		if ((v = mf_child(it, "reasons")) != NULL) {
			m = mf_push(c, "reasons");
			if (mf_is_seq(c, v)) {
				if (v->n > 50)
					mf_error(c, v, "must have at most 50 items, got %zu",
						 (size_t)v->n);
				for (size_t j = 0; j < v->n; j++) {
					size_t mj = mf_push_index(c, j);
					uint32_t bit = 0;
					if ((s = mf_str(c, v->items[j])) != NULL) {
						for (unsigned r = 0; r < 3; r++) {
							if (strcmp(s, reasons[r]) == 0)
								bit = 1u << r;
						}
						if (!bit)
							mf_error(c, v->items[j],
								 "unsupported value \"%s\": "
								 "supported values: "
								 "\"Underutilized\", \"Empty\", "
								 "\"Drifted\"",
								 s);
						else if (b->reasons & bit)
							mf_error(c, v->items[j],
								 "duplicate value \"%s\"", s);
						b->reasons |= bit;
					}
					mf_pop(c, mj);
				}
			}
			mf_pop(c, m);
		}
		mf_pop(c, mi);
	}
}

static void parse_disruption(struct mf_ctx *c, const struct yt_node *d, struct kerf_nodepool *np)
{
	const char *const *fields = crd_fields(&crd_disruption);
	const struct yt_node *v;
	const char *s;
	size_t m;

	if (!mf_is_map(c, d))
		return;
	mf_known_fields(c, d, fields);
	if (!mf_child(d, "consolidateAfter"))
		mf_missing(c, d, "consolidateAfter");
	parse_duration(c, d, "consolidateAfter", 0, &np->consolidate_after_ms);
	if ((v = mf_child(d, "consolidationPolicy")) != NULL) {
		m = mf_push(c, "consolidationPolicy");
		if ((s = mf_str(c, v)) != NULL) {
			if (strcmp(s, "WhenEmptyOrUnderutilized") == 0)
				np->consolidation_policy =
				    KERF_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED;
			else if (strcmp(s, "WhenEmpty") == 0)
				np->consolidation_policy = KERF_CONSOLIDATE_WHEN_EMPTY;
			else if (strcmp(s, "Balanced") == 0)
				np->consolidation_policy = KERF_CONSOLIDATE_BALANCED;
			else
				mf_error(
				    c, v,
				    "unsupported value \"%s\": supported values: \"WhenEmpty\", "
				    "\"WhenEmptyOrUnderutilized\", \"Balanced\"",
				    s);
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(d, "budgets")) != NULL) {
		m = mf_push(c, "budgets");
		parse_budgets(c, v, np);
		mf_pop(c, m);
	}
}

static void parse_template(struct mf_ctx *c, const struct yt_node *t, struct kerf_nodepool *np)
{
	const char *const *fields = crd_fields(&crd_template);
	const char *const *md_fields = crd_fields(&crd_template_meta);
	const char *const *spec_fields = crd_fields(&crd_template_spec);
	const struct yt_node *md, *spec, *v;
	size_t m, m2;

	if (!mf_is_map(c, t))
		return;
	mf_known_fields(c, t, fields);
	if ((md = mf_child(t, "metadata")) != NULL) {
		m = mf_push(c, "metadata");
		if (mf_is_map(c, md)) {
			mf_known_fields(c, md, md_fields);
			if ((v = mf_child(md, "labels")) != NULL) {
				m2 = mf_push(c, "labels");
				if (mf_string_map(c, v, &np->template_labels))
					mf_check_template_labels(c, v);
				mf_pop(c, m2);
			}
			if ((v = mf_child(md, "annotations")) != NULL) {
				m2 = mf_push(c, "annotations");
				mf_string_map(c, v, &np->template_annotations);
				mf_pop(c, m2);
			}
		}
		mf_pop(c, m);
	}
	if (!(spec = mf_child(t, "spec"))) {
		mf_missing(c, t, "spec");
		return;
	}
	m = mf_push(c, "spec");
	if (!mf_is_map(c, spec)) {
		mf_pop(c, m);
		return;
	}
	mf_known_fields(c, spec, spec_fields);
	if (!(v = mf_child(spec, "nodeClassRef"))) {
		mf_missing(c, spec, "nodeClassRef");
	} else {
		m2 = mf_push(c, "nodeClassRef");
		mf_parse_node_class_ref(c, v, np->node_class_ref);
		mf_pop(c, m2);
	}
	if (!(v = mf_child(spec, "requirements"))) {
		mf_missing(c, spec, "requirements");
	} else {
		m2 = mf_push(c, "requirements");
		mf_parse_requirements(c, v, true, &np->requirements);
		mf_pop(c, m2);
	}
	if ((v = mf_child(spec, "taints")) != NULL) {
		m2 = mf_push(c, "taints");
		mf_parse_taints(c, v, &np->taints);
		mf_pop(c, m2);
	}
	if ((v = mf_child(spec, "startupTaints")) != NULL) {
		m2 = mf_push(c, "startupTaints");
		mf_parse_taints(c, v, &np->startup_taints);
		mf_pop(c, m2);
	}
	mf_check_duplicate_taints(c, mf_child(spec, "taints"), mf_child(spec, "startupTaints"));
	parse_duration(c, spec, "expireAfter", 0, &np->expire_after_ms);
	parse_duration(c, spec, "terminationGracePeriod", 1, &np->termination_grace_period_ms);
	mf_pop(c, m);
}

static void parse_nodepool_status(struct mf_ctx *c, const struct yt_node *st,
				  struct kerf_nodepool *np)
{
	const char *const *fields = crd_fields(&crd_nodepool_status);
	const struct yt_node *v;
	int64_t i64;
	size_t m;

	if (!mf_is_map(c, st))
		return;
	mf_known_fields(c, st, fields);
	if ((v = mf_child(st, "conditions")) != NULL) {
		m = mf_push(c, "conditions");
		mf_check_conditions(c, v, true);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "nodeClassObservedGeneration")) != NULL) {
		m = mf_push(c, "nodeClassObservedGeneration");
		mf_int(c, v, &i64);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "nodes")) != NULL) {
		m = mf_push(c, "nodes");
		mf_int(c, v, &np->status_nodes);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "resources")) != NULL) {
		m = mf_push(c, "resources");
		mf_parse_resources(c, v, &np->status_resources, NULL);
		mf_pop(c, m);
	}
}

static void parse_nodepool_spec(struct mf_ctx *c, const struct yt_node *spec,
				struct kerf_nodepool *np)
{
	const char *const *fields = crd_fields(&crd_nodepool_spec);
	const struct yt_node *v, *limits, *weight, *replicas;
	int64_t i64;
	size_t m;

	if (!mf_is_map(c, spec))
		return;
	mf_known_fields(c, spec, fields);
	if (!(v = mf_child(spec, "template"))) {
		mf_missing(c, spec, "template");
	} else {
		m = mf_push(c, "template");
		parse_template(c, v, np);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "disruption")) != NULL) {
		m = mf_push(c, "disruption");
		parse_disruption(c, v, np);
		mf_pop(c, m);
	}
	if ((limits = mf_child(spec, "limits")) != NULL) {
		m = mf_push(c, "limits");
		mf_parse_resources(c, limits, &np->limits, &np->limit_nodes);
		mf_pop(c, m);
	}
	if ((weight = mf_child(spec, "weight")) != NULL) {
		m = mf_push(c, "weight");
		if (mf_int(c, weight, &i64)) {
			if (i64 < 1 || i64 > 100)
				mf_error(c, weight, "weight (%lld) must be between 1 and 100",
					 (long long)i64);
			else
				np->weight = (int32_t)i64;
		}
		mf_pop(c, m);
	}
	if ((replicas = mf_child(spec, "replicas")) != NULL) {
		m = mf_push(c, "replicas");
		if (mf_int(c, replicas, &i64)) {
			if (i64 < 0)
				mf_error(c, replicas, "replicas (%lld) must be at least 0",
					 (long long)i64);
			else
				np->replicas = i64;
		}
		mf_pop(c, m);
		if (limits && limits->type == YT_MAP) {
			for (size_t i = 0; i < limits->n; i++) {
				if (strcmp(limits->pairs[i].key->scalar, "nodes") == 0)
					continue;
				m = mf_push(c, "limits");
				size_t m2 = mf_push(c, limits->pairs[i].key->scalar);
				mf_error(c, limits->pairs[i].key,
					 "only 'limits.nodes' is supported on static NodePools");
				mf_pop(c, m2);
				mf_pop(c, m);
			}
		}
		if (weight) {
			m = mf_push(c, "weight");
			mf_error(c, weight, "'weight' is not supported on static NodePools");
			mf_pop(c, m);
		}
	}
}

/* Checks apiVersion and kind of a document handed to a single-object parser. */
static void check_type(struct mf_ctx *c, const struct yt_node *doc, const struct kerf_meta *meta,
		       const char *api_version, const char *kind)
{
	if (!meta->api_version) {
		if (!mf_child(doc, "apiVersion"))
			mf_missing(c, doc, "apiVersion");
	} else if (strcmp(meta->api_version, api_version) != 0) {
		size_t m = mf_push(c, "apiVersion");
		mf_error(c, yt_map_get(doc, "apiVersion"), "must be \"%s\", not \"%s\"",
			 api_version, meta->api_version);
		mf_pop(c, m);
	}
	if (!meta->kind) {
		if (!mf_child(doc, "kind"))
			mf_missing(c, doc, "kind");
	} else if (strcmp(meta->kind, kind) != 0) {
		size_t m = mf_push(c, "kind");
		mf_error(c, yt_map_get(doc, "kind"), "must be \"%s\", not \"%s\"", kind,
			 meta->kind);
		mf_pop(c, m);
	}
}

static int finish(struct mf_ctx *c, int ok_rc)
{
	int rc = c->nerr ? KERF_E_CONFIG : ok_rc;

	mf_ctx_clear(c);
	return rc;
}

int mf_parse_nodepool(const struct yt_node *doc, struct kerf_nodepool **out, struct mf_diags *diags)
{
	struct mf_ctx c;
	struct kerf_nodepool *np = kerf_nodepool_new();
	struct kerf_budget *b;
	const struct yt_node *v;
	size_t m;

	*out = NULL;
	mf_ctx_init(&c, diags, "NodePool", doc);
	np->consolidation_policy = KERF_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED;
	np->consolidate_after_ms = 0;
	b = kerf_nodepool_add_budget(np);
	b->nodes = 10;
	b->nodes_percent = true;
	kerf_resources_init(&np->limits);
	kerf_resources_init(&np->status_resources);

	if (mf_parse_header(&c, doc, np->meta, 0)) {
		check_type(&c, doc, np->meta, "karpenter.sh/v1", "NodePool");
		check_packer_annotations(&c, doc);
		if (!(v = mf_child(doc, "spec"))) {
			mf_missing(&c, doc, "spec");
		} else {
			m = mf_push(&c, "spec");
			parse_nodepool_spec(&c, v, np);
			mf_pop(&c, m);
		}
		if ((v = mf_child(doc, "status")) != NULL) {
			m = mf_push(&c, "status");
			parse_nodepool_status(&c, v, np);
			mf_pop(&c, m);
		}
	}
	if (c.nerr) {
		kerf_nodepool_free(np);
		return finish(&c, 0);
	}
	*out = np;
	return finish(&c, 0);
}

/* ------------------------------------------------------------ NodeClaim */

static void parse_nodeclaim_spec(struct mf_ctx *c, const struct yt_node *spec,
				 struct kerf_nodeclaim *nc)
{
	const char *const *fields = crd_fields(&crd_nodeclaim_spec);
	const char *const *res_fields = crd_fields(&crd_nodeclaim_resources);
	const struct yt_node *v, *r;
	size_t m, m2;

	if (!mf_is_map(c, spec))
		return;
	mf_known_fields(c, spec, fields);
	if (!(v = mf_child(spec, "nodeClassRef"))) {
		mf_missing(c, spec, "nodeClassRef");
	} else {
		m = mf_push(c, "nodeClassRef");
		mf_parse_node_class_ref(c, v, nc->node_class_ref);
		mf_pop(c, m);
	}
	if (!(v = mf_child(spec, "requirements"))) {
		mf_missing(c, spec, "requirements");
	} else {
		m = mf_push(c, "requirements");
		mf_parse_requirements(c, v, false, &nc->requirements);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "resources")) != NULL) {
		m = mf_push(c, "resources");
		if (mf_is_map(c, v)) {
			mf_known_fields(c, v, res_fields);
			if ((r = mf_child(v, "requests")) != NULL) {
				m2 = mf_push(c, "requests");
				mf_parse_resources(c, r, &nc->resource_requests, NULL);
				mf_pop(c, m2);
			}
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "taints")) != NULL) {
		m = mf_push(c, "taints");
		mf_parse_taints(c, v, &nc->taints);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "startupTaints")) != NULL) {
		m = mf_push(c, "startupTaints");
		mf_parse_taints(c, v, &nc->startup_taints);
		mf_pop(c, m);
	}
	parse_duration(c, spec, "expireAfter", 0, &nc->expire_after_ms);
	parse_duration(c, spec, "terminationGracePeriod", 1, &nc->termination_grace_period_ms);
}

/* The lastTransitionTime of condition `type` when its status is True, or 0. */
static int64_t condition_true_at(const struct yt_node *conds, const char *type)
{
	int64_t ms = 0;

	if (!conds || conds->type != YT_SEQ)
		return 0;
	for (size_t i = 0; i < conds->n; i++) {
		const struct yt_node *t = mf_child(conds->items[i], "type");
		const struct yt_node *s = mf_child(conds->items[i], "status");
		const struct yt_node *l = mf_child(conds->items[i], "lastTransitionTime");
		if (t && s && t->type == YT_SCALAR && s->type == YT_SCALAR &&
		    strcmp(t->scalar, type) == 0 && strcmp(s->scalar, "True") == 0) {
			if (!l || l->type != YT_SCALAR || !mf_parse_time(l->scalar, &ms) || ms == 0)
				ms = 1;
			return ms;
		}
	}
	return 0;
}

static void parse_nodeclaim_status(struct mf_ctx *c, const struct yt_node *st,
				   struct kerf_nodeclaim *nc)
{
	const char *const *fields = crd_fields(&crd_nodeclaim_status);
	const struct yt_node *v, *conds;
	const char *s;
	size_t m;

	if (!mf_is_map(c, st))
		return;
	mf_known_fields(c, st, fields);
	if ((v = mf_child(st, "allocatable")) != NULL) {
		m = mf_push(c, "allocatable");
		mf_parse_resources(c, v, &nc->allocatable, NULL);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "capacity")) != NULL) {
		m = mf_push(c, "capacity");
		mf_parse_resources(c, v, &nc->capacity, NULL);
		mf_pop(c, m);
	}
	if ((conds = mf_child(st, "conditions")) != NULL) {
		m = mf_push(c, "conditions");
		mf_check_conditions(c, conds, false);
		mf_pop(c, m);
		nc->launched_ms = condition_true_at(conds, "Launched");
		nc->registered_ms = condition_true_at(conds, "Registered");
		nc->initialized_ms = condition_true_at(conds, "Initialized");
		if (nc->initialized_ms)
			nc->state = KERF_CLAIM_INITIALIZED;
		else if (nc->registered_ms)
			nc->state = KERF_CLAIM_REGISTERED;
		else if (nc->launched_ms)
			nc->state = KERF_CLAIM_LAUNCHED;
	}
	static const char *const strs[] = {"imageID", "nodeName", "providerID", NULL};
	char **slots[] = {&nc->image_id, &nc->node_name, &nc->provider_id};
	for (size_t f = 0; strs[f]; f++) {
		if (!(v = mf_child(st, strs[f])))
			continue;
		m = mf_push(c, strs[f]);
		if ((s = mf_str(c, v)) != NULL)
			*slots[f] = xstrdup(s);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "lastPodEventTime")) != NULL) {
		m = mf_push(c, "lastPodEventTime");
		if ((s = mf_str(c, v)) != NULL && !mf_parse_time(s, &nc->last_pod_event_ms))
			mf_error(c, v, "\"%s\" is not an RFC 3339 date-time", s);
		mf_pop(c, m);
	}
}

int mf_parse_nodeclaim(const struct yt_node *doc, struct kerf_nodeclaim **out,
		       struct mf_diags *diags)
{
	struct mf_ctx c;
	struct kerf_nodeclaim *nc = kerf_nodeclaim_new();
	const struct yt_node *v;
	const char *np;
	size_t m;

	*out = NULL;
	mf_ctx_init(&c, diags, "NodeClaim", doc);
	nc->state = KERF_CLAIM_PENDING;
	kerf_resources_init(&nc->resource_requests);
	kerf_resources_init(&nc->capacity);
	kerf_resources_init(&nc->allocatable);

	if (mf_parse_header(&c, doc, nc->meta, 0)) {
		check_type(&c, doc, nc->meta, "karpenter.sh/v1", "NodeClaim");
		if (!(v = mf_child(doc, "spec"))) {
			mf_missing(&c, doc, "spec");
		} else {
			m = mf_push(&c, "spec");
			parse_nodeclaim_spec(&c, v, nc);
			mf_pop(&c, m);
		}
		if ((v = mf_child(doc, "status")) != NULL) {
			m = mf_push(&c, "status");
			parse_nodeclaim_status(&c, v, nc);
			mf_pop(&c, m);
		}
		if (nc->meta->deletion_ms)
			nc->state = KERF_CLAIM_DELETING;
		if ((np = kerf_labels_get(&nc->meta->labels, "karpenter.sh/nodepool")) != NULL)
			nc->nodepool = xstrdup(np);
	}
	if (c.nerr) {
		kerf_nodeclaim_free(nc);
		return finish(&c, 0);
	}
	*out = nc;
	return finish(&c, 0);
}

/* ---------------------------------------------------------- node classes */

/* status.conditions[type=Ready], read leniently: the provider checks its shape. */
static kerf_readiness readiness(const struct yt_node *doc)
{
	const struct yt_node *conds = mf_child(mf_child(doc, "status"), "conditions");

	for (size_t i = 0; conds && conds->type == YT_SEQ && i < conds->n; i++) {
		const char *type = yt_scalar_str(mf_child(conds->items[i], "type"));
		const char *status = yt_scalar_str(mf_child(conds->items[i], "status"));
		if (!type || strcmp(type, "Ready") != 0 || !status)
			continue;
		if (strcmp(status, "True") == 0)
			return KERF_READY_TRUE;
		if (strcmp(status, "False") == 0)
			return KERF_READY_FALSE;
		return KERF_READY_UNKNOWN;
	}
	return KERF_READY_UNKNOWN;
}

/*
 * The core reads the header (apiVersion, kind, metadata); the provider
 * serving the kind reads the rest through a decoder on the same context,
 * so its diagnostics are the object's own and sorted with the core's.
 */
static struct kerf_node_class *parse_node_class(struct yt_stream *st, const struct yt_node *doc,
						const struct mf_node_class_kind *k,
						struct mf_diags *diags)
{
	struct mf_ctx c;
	struct kerf_decoder dec = {.ctx = &c};
	struct kerf_node_class *nc = kerf_node_class_new();

	mf_ctx_init(&c, diags, k->kind->kind, doc);
	if (mf_parse_header(&c, doc, nc->meta, 0))
		k->validate((const struct kerf_doc_node *)doc, &dec);
	if (c.nerr) {
		kerf_node_class_free(nc);
		mf_ctx_clear(&c);
		return NULL;
	}
	nc->ref->group = xstrdup(k->kind->group);
	nc->ref->kind = xstrdup(k->kind->kind);
	nc->ref->name = xstrdup(nc->meta->name);
	nc->ready = readiness(doc);
	nc->doc = mf_doc_new(st, doc);
	mf_ctx_clear(&c);
	return nc;
}

int mf_parse_node_class(const struct mf_node_class_kind *k, struct yt_stream *st,
			const struct yt_node *doc, struct kerf_node_class **out,
			struct mf_diags *diags)
{
	*out = parse_node_class(st, doc, k, diags);
	return *out ? 0 : KERF_E_CONFIG;
}

/* ------------------------------------------------------------- loading */

void mf_set_init(struct mf_set *set)
{
	memset(set, 0, sizeof(*set));
}

void mf_set_clear(struct mf_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n_nodepools; i++)
		kerf_nodepool_free(set->nodepools[i]);
	for (size_t i = 0; i < set->n_nodeclaims; i++)
		kerf_nodeclaim_free(set->nodeclaims[i]);
	for (size_t i = 0; i < set->n_node_classes; i++)
		kerf_node_class_free(set->node_classes[i]);
	for (size_t i = 0; i < set->n_streams; i++)
		yt_stream_free(set->streams[i]);
	hmap_clear(&set->names, free);
	for (size_t i = 0; i < set->n_other_kinds; i++)
		free(set->other_kinds[i].kind);
	free(set->other_kinds);
	free(set->kinds);
	free(set->nodepools);
	free(set->nodeclaims);
	free(set->node_classes);
	free(set->other);
	free(set->streams);
	memset(set, 0, sizeof(*set));
}

#define APPEND(arr, n, item)                                                                       \
	do {                                                                                       \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr)));                               \
		(arr)[(n)++] = (item);                                                             \
	} while (0)

int mf_set_add_provider(struct mf_set *set, const char *name, const struct kerf_provider_ops *ops,
			struct kerf_error *err)
{
	const struct kerf_node_class_kind *k = ops->node_class_kinds;

	/* Before any NodePool is read: its requirements may use these labels. */
	kc_labels_declare(ops->well_known_labels, ops->restricted_label_domains);
	if (k && k->kind && !ops->validate_node_class)
		return kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
				      "plugin \"%s\": serves node class kind %s but has no "
				      "validate_node_class",
				      name, k->kind);
	for (; k && k->kind; k++) {
		if (!k->group || !*k->group || !k->version || !*k->version || !*k->kind)
			return kerf_error_set(err, KERF_E_PLUGIN_INCOMPLETE,
					      "plugin \"%s\": node class kind \"%s\" needs a group "
					      "and a version",
					      name, k->kind);
		if (mf_set_node_class_kind(set, k->group, k->kind))
			continue;
		struct mf_node_class_kind entry = {k, name, ops->validate_node_class};
		APPEND(set->kinds, set->n_kinds, entry);
	}
	return 0;
}

const struct mf_node_class_kind *mf_set_node_class_kind(const struct mf_set *set, const char *group,
							const char *kind)
{
	for (size_t i = 0; i < set->n_kinds; i++) {
		const struct kerf_node_class_kind *k = set->kinds[i].kind;
		if (strcmp(k->group, group) == 0 && strcmp(k->kind, kind) == 0)
			return &set->kinds[i];
	}
	return NULL;
}

const struct kerf_node_class *mf_set_find_node_class(const struct mf_set *set,
						     const struct kerf_node_class_ref *ref)
{
	for (size_t i = 0; i < set->n_node_classes; i++) {
		const struct kerf_node_class *nc = set->node_classes[i];
		if (ref->name && strcmp(nc->ref->name, ref->name) == 0 &&
		    (!ref->kind || strcmp(nc->ref->kind, ref->kind) == 0) &&
		    (!ref->group || strcmp(nc->ref->group, ref->group) == 0))
			return nc;
	}
	return NULL;
}

/* The first kind served in group, or NULL. */
static const struct kerf_node_class_kind *group_kind(const struct mf_set *set, const char *group)
{
	for (size_t i = 0; i < set->n_kinds; i++)
		if (strcmp(set->kinds[i].kind->group, group) == 0)
			return set->kinds[i].kind;
	return NULL;
}

/* The served kind named `kind` in any group, or NULL. */
static const struct kerf_node_class_kind *any_kind(const struct mf_set *set, const char *kind)
{
	for (size_t i = 0; i < set->n_kinds; i++)
		if (strcmp(set->kinds[i].kind->kind, kind) == 0)
			return set->kinds[i].kind;
	return NULL;
}

/* "Kind" for "KindList" when Kind is served in group. */
static bool served_list(const struct mf_set *set, const char *group, const char *kind)
{
	size_t n = strlen(kind);

	if (n <= 4 || strcmp(kind + n - 4, "List") != 0)
		return false;
	for (size_t i = 0; i < set->n_kinds; i++) {
		const struct kerf_node_class_kind *k = set->kinds[i].kind;
		if (strcmp(k->group, group) == 0 && strlen(k->kind) == n - 4 &&
		    strncmp(k->kind, kind, n - 4) == 0)
			return true;
	}
	return false;
}

/* A plain-scalar string field of a document, or NULL. */
static const char *doc_string(const struct yt_node *doc, const char *key)
{
	const struct yt_node *v = mf_child(doc, key);

	return v && v->type == YT_SCALAR ? v->scalar : NULL;
}

static void load_document(struct mf_set *set, struct yt_stream *st, const struct yt_node *doc,
			  struct mf_diags *diags, int depth);

/* apiVersion or kind that is missing, or present but not a string ("kind: [NodePool]"). */
static void header_field(struct mf_ctx *c, const struct yt_node *doc, const char *field)
{
	const struct yt_node *v = mf_child(doc, field);

	if (!v) {
		mf_missing(c, doc, field);
		return;
	}
	size_t m = mf_push(c, field);
	mf_str(c, v);
	mf_pop(c, m);
}

/* Kubernetes' v1 List and the *List kinds: every item is a document. */
static void load_list(struct mf_set *set, struct yt_stream *st, const struct yt_node *doc,
		      struct mf_diags *diags, int depth, const char *kind)
{
	const struct yt_node *items = mf_child(doc, "items");
	struct mf_ctx c;

	if (!items)
		return;
	mf_ctx_init(&c, diags, kind, doc);
	if (depth > 4)
		mf_error(&c, doc, "lists nested too deeply");
	else if (mf_is_seq(&c, items)) {
		for (size_t i = 0; i < items->n; i++)
			load_document(set, st, items->items[i], diags, depth + 1);
	}
	mf_ctx_clear(&c);
}

/* A kind of karpenter.sh/v1 that is not NodePool or NodeClaim. */
static void unknown_core_kind(struct mf_ctx *c, const struct mf_set *set, const struct yt_node *doc,
			      const char *api, const char *kind)
{
	static const char *const core_kinds[] = {"NodePool", "NodeClaim", NULL};
	const struct kerf_node_class_kind *k = any_kind(set, kind);
	const char *s = mf_suggest(kind, core_kinds);
	const struct yt_node *at = yt_map_get(doc, "kind");

	if (k)
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\" (%s is %s/%s)", kind,
			 api, k->kind, k->group, k->version);
	else if (s)
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\" (did you mean \"%s\"?)",
			 kind, api, s);
	else
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\"", kind, api);
}

/* A kind of a group some provider serves, that no provider serves. */
static void unknown_class_kind(struct mf_ctx *c, const struct mf_set *set,
			       const struct yt_node *doc, const char *group, const char *api,
			       const char *kind)
{
	const char **known = xcalloc(set->n_kinds + 1, sizeof(*known));
	const struct yt_node *at = yt_map_get(doc, "kind");
	const char *s;
	size_t n = 0;

	for (size_t i = 0; i < set->n_kinds; i++)
		if (strcmp(set->kinds[i].kind->group, group) == 0)
			known[n++] = set->kinds[i].kind->kind;
	s = mf_suggest(kind, known);
	if (strcmp(kind, "NodePool") == 0 || strcmp(kind, "NodeClaim") == 0)
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\" (%s is karpenter.sh/v1)",
			 kind, api, kind);
	else if (s)
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\" (did you mean \"%s\"?)",
			 kind, api, s);
	else
		mf_error(c, at, "unknown kind \"%s\" for apiVersion \"%s\"", kind, api);
	free(known);
}

/*
 * A node class (by Karpenter's naming) of a kind no loaded provider serves:
 * nothing could validate it, and nothing could launch nodes for it.
 */
static void unserved_class(struct mf_ctx *c, const struct mf_set *set, const struct yt_node *doc,
			   const char *api, const char *kind)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < set->n_kinds; i++)
		sb_printf(&sb, "%s%s (%s)", i ? ", " : "", set->kinds[i].kind->kind,
			  set->kinds[i].provider);
	mf_error(c, yt_map_get(doc, "kind"),
		 "no loaded provider serves node class kind \"%s\" of apiVersion \"%s\" (%s%s)",
		 kind, api, set->n_kinds ? "the providers loaded serve " : "no provider is loaded",
		 sb.buf ? sb.buf : "");
	sb_free(&sb);
}

/*
 * Where an object's name was read, copied so that the set need not keep
 * the tree; the key, then the file name, are allocated with it.
 */
struct mf_seen {
	unsigned line, column;
	const char *file;
	char key[];
};

/*
 * Records the object `kind` of group `group` named by `at` (or the whole
 * document when unnamed); false, with a diagnostic naming both places, when
 * one of the same kind and name was loaded before.  Karpenter objects are
 * unique by kind and name: a NodePool repeated by a copy-paste would add up
 * its limits.
 */
static bool first_of_name(struct mf_set *set, struct mf_ctx *c, const char *group, const char *kind,
			  const char *name, const struct yt_node *at)
{
	size_t n = strlen(group) + strlen(kind) + strlen(name) + 3;
	size_t file_len = strlen(at->file) + 1;
	struct mf_seen *seen = xmalloc(sizeof(*seen) + n + file_len);
	const struct mf_seen *before;

	snprintf(seen->key, n, "%s/%s/%s", group, kind, name);
	memcpy(seen->key + n, at->file, file_len);
	seen->file = seen->key + n;
	seen->line = at->line;
	seen->column = at->column;
	before = hmap_get(&set->names, seen->key, n - 1);
	if (!before) {
		hmap_set(&set->names, seen->key, n - 1, seen);
		return true;
	}
	size_t m = mf_push(c, "metadata");
	size_t m2 = mf_push(c, "name");
	mf_error(c, at, "a %s named \"%s\" is already defined at %s:%u:%u", kind, name,
		 before->file, before->line, before->column);
	mf_pop(c, m2);
	mf_pop(c, m);
	free(seen);
	return false;
}

static void count_other(struct mf_set *set, const char *kind)
{
	for (size_t i = 0; i < set->n_other_kinds; i++)
		if (strcmp(set->other_kinds[i].kind, kind) == 0) {
			set->other_kinds[i].n++;
			return;
		}
	APPEND(set->other_kinds, set->n_other_kinds, ((struct mf_kind_count){xstrdup(kind), 1}));
}

static void load_document(struct mf_set *set, struct yt_stream *st, const struct yt_node *doc,
			  struct mf_diags *diags, int depth)
{
	const struct mf_node_class_kind *served;
	const struct kerf_node_class_kind *in_group;
	const struct yt_node *md, *nm;
	const char *api, *kind, *slash;
	struct mf_ctx c;
	char group[128];
	size_t glen;

	mf_ctx_init(&c, diags, NULL, doc);
	if (doc->type != YT_MAP) {
		mf_error(&c, doc, "a manifest must be a mapping, not %s", yt_type_name(doc));
		mf_ctx_clear(&c);
		return;
	}
	api = doc_string(doc, "apiVersion");
	kind = doc_string(doc, "kind");
	md = mf_child(doc, "metadata");
	nm = md ? mf_child(md, "name") : NULL;
	if (nm && nm->type == YT_SCALAR)
		c.name = xstrdup(nm->scalar);
	if (!api || !kind) {
		c.kind = kind ? kind : "Object";
		if (!api)
			header_field(&c, doc, "apiVersion");
		if (!kind)
			header_field(&c, doc, "kind");
		mf_ctx_clear(&c);
		return;
	}
	slash = strchr(api, '/');
	glen = slash ? (size_t)(slash - api) : 0;
	if (glen >= sizeof(group))
		glen = sizeof(group) - 1;
	memcpy(group, api, glen);
	group[glen] = '\0';
	c.kind = kind;
	in_group = group_kind(set, group);

	if (strcmp(group, "karpenter.sh") == 0) {
		if (strcmp(slash + 1, "v1") != 0) {
			size_t m = mf_push(&c, "apiVersion");
			mf_error(&c, yt_map_get(doc, "apiVersion"),
				 "apiVersion \"%s\" is not supported: kerf reads karpenter.sh/v1",
				 api);
			mf_pop(&c, m);
		} else if (strcmp(kind, "NodePool") == 0) {
			struct kerf_nodepool *np;
			if (mf_parse_nodepool(doc, &np, diags) == 0) {
				if (!first_of_name(set, &c, group, kind, np->meta->name, nm)) {
					kerf_nodepool_free(np);
				} else if (set->max_nodepools &&
					   set->n_nodepools >= set->max_nodepools) {
					/* One error, not one per NodePool of a huge file. */
					if (!set->nodepools_over)
						mf_error(&c, doc,
							 "NodePool %zu is more than may be "
							 "loaded: %zu (raise "
							 "settings.max_nodepools)",
							 set->n_nodepools + 1, set->max_nodepools);
					set->nodepools_over = true;
					kerf_nodepool_free(np);
				} else {
					APPEND(set->nodepools, set->n_nodepools, np);
				}
			}
		} else if (strcmp(kind, "NodeClaim") == 0) {
			struct kerf_nodeclaim *nc;
			if (mf_parse_nodeclaim(doc, &nc, diags) == 0) {
				if (first_of_name(set, &c, group, kind, nc->meta->name, nm))
					APPEND(set->nodeclaims, set->n_nodeclaims, nc);
				else
					kerf_nodeclaim_free(nc);
			}
		} else if (strcmp(kind, "NodePoolList") == 0 ||
			   strcmp(kind, "NodeClaimList") == 0) {
			load_list(set, st, doc, diags, depth, kind);
		} else {
			size_t m = mf_push(&c, "kind");
			unknown_core_kind(&c, set, doc, api, kind);
			mf_pop(&c, m);
		}
	} else if (in_group) {
		served = mf_set_node_class_kind(set, group, kind);
		if (strcmp(slash + 1, in_group->version) != 0 &&
		    !(served && strcmp(slash + 1, served->kind->version) == 0)) {
			size_t m = mf_push(&c, "apiVersion");
			mf_error(&c, yt_map_get(doc, "apiVersion"),
				 "apiVersion \"%s\" is not supported: kerf reads %s/%s", api, group,
				 served ? served->kind->version : in_group->version);
			mf_pop(&c, m);
		} else if (served) {
			struct kerf_node_class *ncl = parse_node_class(st, doc, served, diags);
			if (ncl && first_of_name(set, &c, group, kind, ncl->ref->name, nm))
				APPEND(set->node_classes, set->n_node_classes, ncl);
			else
				kerf_node_class_free(ncl);
		} else if (served_list(set, group, kind)) {
			load_list(set, st, doc, diags, depth, kind);
		} else {
			size_t m = mf_push(&c, "kind");
			unknown_class_kind(&c, set, doc, group, api, kind);
			mf_pop(&c, m);
		}
	} else if (str_ends_with(kind, "NodeClass")) {
		size_t m = mf_push(&c, "kind");
		unserved_class(&c, set, doc, api, kind);
		mf_pop(&c, m);
	} else if (strcmp(api, "v1") == 0 && strcmp(kind, "List") == 0) {
		load_list(set, st, doc, diags, depth, kind);
	} else if (set->other_counted) {
		count_other(set, kind);
	} else {
		APPEND(set->other, set->n_other, doc);
	}
	mf_ctx_clear(&c);
}

int mf_load_stream(struct mf_set *set, struct yt_stream *st, struct mf_diags *diags,
		   struct kerf_error *err)
{
	struct mf_diags local = {0, NULL};
	struct mf_diags *d = diags ? diags : &local;
	size_t first = d->n, other_before = set->n_other;
	int rc = 0;

	for (size_t i = 0; i < st->n; i++) {
		if (st->docs[i].root)
			load_document(set, st, st->docs[i].root, d, 0);
	}
	/* Node classes hold their own document; only `other` borrows from the tree. */
	if (set->n_other > other_before)
		APPEND(set->streams, set->n_streams, st);
	else
		yt_stream_free(st);
	if (d->n > first) {
		rc = KERF_E_CONFIG;
		if (err) {
			kerf_error_clear(err);
			err->line = d->items[first].line;
			err->column = d->items[first].column;
			if (d->n - first > 1)
				kerf_error_set(err, KERF_E_CONFIG, "%s (and %zu more errors)",
					       d->items[first].message, d->n - first - 1);
			else
				kerf_error_set(err, KERF_E_CONFIG, "%s", d->items[first].message);
		}
	}
	mf_diags_clear(&local);
	return rc;
}

int mf_load_file(struct mf_set *set, const char *path, struct mf_diags *diags,
		 struct kerf_error *err)
{
	struct yt_stream *st = NULL;
	int rc = yt_parse_file(path, &st, err);

	if (rc)
		return rc;
	return mf_load_stream(set, st, diags, err);
}

int mf_load_string(struct mf_set *set, const char *name, const char *text, size_t len,
		   struct mf_diags *diags, struct kerf_error *err)
{
	struct yt_stream *st = NULL;
	int rc = yt_parse_string(name, text, len, &st, err);

	if (rc)
		return rc;
	return mf_load_stream(set, st, diags, err);
}
