/* SPDX-License-Identifier: Apache-2.0 */
/*
 * object.c - one Kubernetes object, as the API server serves it, into the
 * model: the host's decode_object service (kerf/host.h).  Nothing here is
 * a second reader: Pods and DaemonSets go through the workload reader,
 * NodePools, NodeClaims and node classes through the manifest readers
 * kerf applies to files, so a field means the same from a file and from
 * the API.  Only Nodes have their reader here, as no file of kerf's holds
 * them.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/workload.h>

#include "manifest.h"

/* ---------------------------------------------------------------- nodes */

static void parse_node_taints(struct mf_ctx *c, const struct yt_node *seq, struct kerf_taints *out)
{
	static const char *const fields[] = {"key", "value", "effect", "timeAdded", NULL};
	static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i];
		size_t mi = mf_push_index(c, i);
		char *key = NULL, *value = NULL, *effect = NULL;

		if (mf_is_map(c, it)) {
			mf_known_fields(c, it, fields);
			if (!mf_child(it, "key"))
				mf_missing(c, it, "key");
			if (!mf_child(it, "effect"))
				mf_missing(c, it, "effect");
			mf_get_string(c, it, "key", &key);
			mf_get_string(c, it, "value", &value);
			mf_get_enum(c, it, "effect", effects, &effect);
		}
		if (key && effect) {
			struct kerf_taint *t = kerf_taints_append(out);
			t->key = key;
			key = NULL;
			if (value && *value) {
				t->value = value;
				value = NULL;
			}
			t->effect = strcmp(effect, "NoSchedule") == 0 ? KERF_EFFECT_NO_SCHEDULE
				    : strcmp(effect, "PreferNoSchedule") == 0
					? KERF_EFFECT_PREFER_NO_SCHEDULE
					: KERF_EFFECT_NO_EXECUTE;
		}
		free(key);
		free(value);
		free(effect);
		mf_pop(c, mi);
	}
}

static void parse_node_spec(struct mf_ctx *c, const struct yt_node *spec, struct kerf_node *n)
{
	static const char *const fields[] = {"providerID", "taints",	 "unschedulable", "podCIDR",
					     "podCIDRs",   "externalID", "configSource",  NULL};
	const struct yt_node *v;

	if (!mf_is_map(c, spec))
		return;
	mf_known_fields(c, spec, fields);
	mf_get_string(c, spec, "providerID", &n->provider_id);
	mf_get_bool(c, spec, "unschedulable", &n->unschedulable);
	if ((v = mf_child(spec, "taints")) != NULL) {
		size_t m = mf_push(c, "taints");
		parse_node_taints(c, v, &n->taints);
		mf_pop(c, m);
	}
}

static void parse_node_status(struct mf_ctx *c, const struct yt_node *st, struct kerf_node *n)
{
	static const char *const fields[] = {
	    "capacity",	       "allocatable", "conditions", "addresses",
	    "daemonEndpoints", "nodeInfo",    "images",	    "volumesInUse",
	    "volumesAttached", "phase",	      "config",	    "runtimeHandlers",
	    "features",	       NULL};
	const struct yt_node *v;
	size_t m;

	if (!mf_is_map(c, st))
		return;
	mf_known_fields(c, st, fields);
	if ((v = mf_child(st, "capacity")) != NULL) {
		m = mf_push(c, "capacity");
		mf_parse_resources(c, v, &n->capacity, NULL);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "allocatable")) != NULL) {
		m = mf_push(c, "allocatable");
		mf_parse_resources(c, v, &n->allocatable, NULL);
		mf_pop(c, m);
	}
	if ((v = mf_child(st, "conditions")) != NULL) {
		m = mf_push(c, "conditions");
		if (mf_is_seq(c, v)) {
			for (size_t i = 0; i < v->n; i++) {
				const struct yt_node *cond = v->items[i];
				size_t mi = mf_push_index(c, i);
				char *type = NULL, *status = NULL;
				if (mf_is_map(c, cond)) {
					mf_get_string(c, cond, "type", &type);
					mf_get_string(c, cond, "status", &status);
				}
				if (type && strcmp(type, "Ready") == 0)
					n->ready = status && strcmp(status, "True") == 0;
				free(type);
				free(status);
				mf_pop(c, mi);
			}
		}
		mf_pop(c, m);
	}
}

int mf_parse_node(const struct yt_node *doc, struct kerf_node **out, struct mf_diags *diags)
{
	struct mf_ctx c;
	struct kerf_node *n = kerf_node_new();
	const struct yt_node *v;
	size_t m;
	int rc;

	*out = NULL;
	mf_ctx_init(&c, diags, "Node", doc);
	kerf_resources_init(&n->capacity);
	kerf_resources_init(&n->allocatable);
	if (mf_parse_header(&c, doc, n->meta, 0)) {
		if ((v = mf_child(doc, "spec")) != NULL) {
			m = mf_push(&c, "spec");
			parse_node_spec(&c, v, n);
			mf_pop(&c, m);
		}
		if ((v = mf_child(doc, "status")) != NULL) {
			m = mf_push(&c, "status");
			parse_node_status(&c, v, n);
			mf_pop(&c, m);
		}
	}
	rc = c.nerr ? KERF_E_CONFIG : 0;
	mf_ctx_clear(&c);
	if (rc) {
		kerf_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* ------------------------------------------------------------ any object */

static int pod_of(kerf_object_kind kind, const char *name, const char *text, size_t len, void **out,
		  struct kerf_error *err)
{
	/* One object: a list or a second document is not what was asked for. */
	const struct kerf_workload_limits limits = {.max_objects = 1};
	const char *want = kind == KERF_OBJ_DAEMONSET ? "DaemonSet" : "Pod";
	struct kerf_workload_list *l = NULL;
	int rc = kerf_workloads_parse_limited(name, text, len, &limits, &l, NULL, err);

	if (rc)
		return rc;
	if (l->n != 1 || strcmp(l->items[0].kind, want) != 0) {
		kerf_workload_list_free(l);
		return kerf_error_set(err, KERF_E_INVALID, "%s: not a %s", name, want);
	}
	*out = l->items[0].pod;
	l->items[0].pod = NULL;
	kerf_workload_list_free(l);
	return 0;
}

static const char *api_group(const char *api_version, char *buf, size_t size)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(buf, api_version, n);
	buf[n] = '\0';
	return buf;
}

int mf_decode_object(const struct mf_set *set, kerf_object_kind kind, const char *name,
		     const char *text, size_t len, void **out, struct kerf_error *err)
{
	struct yt_stream *st = NULL;
	struct mf_diags diags = {0};
	const struct yt_node *doc;
	int rc;

	if (!name || !text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "decode_object: NULL argument");
	if (kind == KERF_OBJ_POD || kind == KERF_OBJ_DAEMONSET)
		return pod_of(kind, name, text, len, out, err);
	if ((rc = yt_parse_string(name, text, len, &st, err)) != 0)
		return rc;
	if (st->n != 1 || !st->docs[0].root) {
		yt_stream_free(st);
		return kerf_error_set(err, KERF_E_PARSE, "%s: expected exactly one object", name);
	}
	doc = st->docs[0].root;
	switch (kind) {
	case KERF_OBJ_NODE:
		rc = mf_parse_node(doc, (struct kerf_node **)out, &diags);
		break;
	case KERF_OBJ_NODEPOOL:
		rc = mf_parse_nodepool(doc, (struct kerf_nodepool **)out, &diags);
		break;
	case KERF_OBJ_NODECLAIM:
		rc = mf_parse_nodeclaim(doc, (struct kerf_nodeclaim **)out, &diags);
		break;
	case KERF_OBJ_NODE_CLASS: {
		const char *av = yt_scalar_str(mf_child(doc, "apiVersion"));
		const char *k = yt_scalar_str(mf_child(doc, "kind"));
		char group[256];
		const struct mf_node_class_kind *served =
		    set && av && k
			? mf_set_node_class_kind(set, api_group(av, group, sizeof(group)), k)
			: NULL;
		if (!served) {
			rc = kerf_error_set(err, KERF_E_INVALID,
					    "%s: %s %s is not a node class kind a loaded provider "
					    "serves",
					    name, av ? av : "(no apiVersion)", k ? k : "(no kind)");
			yt_stream_free(st);
			return rc;
		}
		rc = mf_parse_node_class(served, st, doc, (struct kerf_node_class **)out, &diags);
		break;
	}
	default:
		yt_stream_free(st);
		return kerf_error_set(err, KERF_E_INVALID, "%s: unknown object kind %d", name,
				      (int)kind);
	}
	if (rc && diags.n) {
		kerf_error_set(err, KERF_E_CONFIG, "%s%s", diags.items[0].message,
			       diags.n > 1 ? " (and more errors)" : "");
		if (err && err->size >= offsetof(struct kerf_error, column) + sizeof(err->column)) {
			err->line = diags.items[0].line;
			err->column = diags.items[0].column;
		}
		rc = KERF_E_CONFIG;
	} else if (rc) {
		rc = kerf_error_set(err, rc, "%s: invalid object", name);
	}
	mf_diags_clear(&diags);
	yt_stream_free(st);
	return rc;
}
