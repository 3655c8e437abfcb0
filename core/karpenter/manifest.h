/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.h - Karpenter v1 manifests (NodePool, NodeClaim and node classes)
 * read from YAML into the model of kerf/types.h and validated the way the
 * Kubernetes API server does with Karpenter's CRDs installed: strict field
 * decoding, the OpenAPI schema (types, enums, patterns, bounds, defaults)
 * and the CEL rules, plus Karpenter's own runtime checks on labels and
 * requirements.  A node class is known by its kind alone: the provider
 * that serves the kind (mf_set_add_provider) validates its document.
 *
 * Every problem becomes one diagnostic naming the file, line and column of
 * the offending node, the object and the field path:
 *
 *   ray.yaml:23:11: NodePool/ray: spec.template.spec.requirements[1].minValues:
 *   minValues (3) exceeds the number of values (2)
 *
 * Loading carries on after an invalid object, so one run reports every
 * error in a file.  Documents of other kinds (Pods, Deployments, ...) are
 * kept as YAML nodes for later parsers.
 */
#ifndef KERF_CORE_MANIFEST_H
#define KERF_CORE_MANIFEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/provider.h>
#include <kerf/cluster.h>
#include <kerf/types.h>

#include "decode.h"

/* A node class kind a loaded provider serves, and the provider's validator. */
struct mf_node_class_kind {
	const struct kerf_node_class_kind *kind; /* borrowed from the provider */
	const char *provider;			 /* the plugin's name, borrowed */
	int (*validate)(const struct kerf_doc_node *object, struct kerf_decoder *dec);
};

/* Everything loaded so far.  Zero it with mf_set_init(), free with mf_set_clear(). */
struct mf_set {
	/* The node class kinds loads accept, from mf_set_add_provider. */
	size_t n_kinds;
	struct mf_node_class_kind *kinds;
	size_t n_nodepools;
	struct kerf_nodepool **nodepools;
	size_t n_nodeclaims;
	struct kerf_nodeclaim **nodeclaims;
	size_t n_node_classes;
	struct kerf_node_class **node_classes;
	/* Documents of other kinds, borrowed from `streams`. */
	size_t n_other;
	const struct yt_node **other;
	/*
	 * Set before loading to keep no document of another kind (other stays
	 * empty) but count them by kind in other_kinds: a set loaded from a
	 * large file of Pods then holds no YAML tree.
	 */
	bool other_counted;
	size_t n_other_kinds;
	struct mf_kind_count {
		char *kind;
		size_t n;
	} * other_kinds;
	/* The parsed YAML, kept alive for `other`. */
	struct yt_stream **streams;
	size_t n_streams;
	/*
	 * "group/Kind/name" of every Karpenter object loaded -> where its name
	 * was read, so that a second one of the same kind and name (also in
	 * another file) is an error naming both places.
	 */
	struct hmap names;
	/*
	 * The most NodePools the set may hold (0: no limit; the callers set
	 * settings.max_nodepools): scheduling costs time in proportion to
	 * them.  The first valid NodePool past it is an error at its document,
	 * and it and every later one are left out.
	 */
	size_t max_nodepools;
	bool nodepools_over;
};

void mf_set_init(struct mf_set *set);
void mf_set_clear(struct mf_set *set);

/*
 * Lets loads into set read the node classes of the kinds provider `name`
 * serves (ops->node_class_kinds, validated by ops->validate_node_class),
 * and declares its well-known labels and restricted label domains to
 * libkerf for the whole process (labels.h), so that NodePools and pods may
 * use them.  The provider's strings and ops must outlive set.  A kind already served
 * by an earlier provider stays with that one.  Returns 0, or
 * KERF_E_PLUGIN_INCOMPLETE when the provider declares kinds without a
 * validator, or a kind without a group, version or name.
 */
int mf_set_add_provider(struct mf_set *set, const char *name, const struct kerf_provider_ops *ops,
			struct kerf_error *err);

/* The provider serving node class kind `kind` of `group`, or NULL. */
const struct mf_node_class_kind *mf_set_node_class_kind(const struct mf_set *set, const char *group,
							const char *kind);

/* The node class of set a nodeClassRef names (name, and kind and group when given), or NULL. */
const struct kerf_node_class *mf_set_find_node_class(const struct mf_set *set,
						     const struct kerf_node_class_ref *ref);

/*
 * Parses every document of the file (or buffer; `name` is what messages
 * call it) and appends the valid objects to set.  Each invalid object adds
 * one or more diagnostics to diags (NULL allowed) and is left out, and so
 * does a NodePool, NodeClaim or node class of the same kind and name as
 * one loaded before, and every NodePool past set->max_nodepools (the first
 * of them gets the one diagnostic).  Returns
 * 0 when there were no diagnostics; KERF_E_CONFIG when there were (err holds
 * the first); KERF_E_PARSE for a YAML syntax error and KERF_E_IO when the
 * file cannot be read (nothing is added then).
 */
int mf_load_file(struct mf_set *set, const char *path, struct mf_diags *diags,
		 struct kerf_error *err);
int mf_load_string(struct mf_set *set, const char *name, const char *text, size_t len,
		   struct mf_diags *diags, struct kerf_error *err);
/*
 * The same for documents already parsed: set takes one holder of st (pass
 * yt_stream_ref(st) to keep yours), which it keeps while it borrows from it
 * (a document of another kind) and drops at once otherwise.  Returns 0 or
 * KERF_E_CONFIG as mf_load_file().
 */
int mf_load_stream(struct mf_set *set, struct yt_stream *st, struct mf_diags *diags,
		   struct kerf_error *err);

/*
 * Single-object parsers from a whole document (a mapping with apiVersion,
 * kind, metadata, spec...).  On success *out is a new object the caller
 * frees with the matching kerf_*_free() and 0 is returned; otherwise *out is
 * NULL, diagnostics are appended to diags (NULL allowed) and KERF_E_CONFIG
 * is returned.
 */
int mf_parse_nodepool(const struct yt_node *doc, struct kerf_nodepool **out,
		      struct mf_diags *diags);
int mf_parse_nodeclaim(const struct yt_node *doc, struct kerf_nodeclaim **out,
		       struct mf_diags *diags);

/*
 * A node class of kind k (the provider validates it) from a whole
 * document of stream st, which the result keeps alive.  0 with *out set,
 * or KERF_E_CONFIG with diagnostics in diags.
 */
int mf_parse_node_class(const struct mf_node_class_kind *k, struct yt_stream *st,
			const struct yt_node *doc, struct kerf_node_class **out,
			struct mf_diags *diags);

/* ---- object.c: one Kubernetes object, as the API serves it */

/*
 * Decodes `text` (one object, JSON or YAML; `name` is what messages call
 * it) into a new object of `kind` (kerf/host.h, decode_object): Pods and
 * DaemonSets through the workload reader, NodePools, NodeClaims and node
 * classes through this file's, Nodes through mf_parse_node.  set (NULL
 * allowed) names the node class kinds and their validators.  Returns 0
 * with *out set, KERF_E_PARSE, KERF_E_CONFIG (err holds the first
 * diagnostic, which names the field) or KERF_E_INVALID.
 */
int mf_decode_object(const struct mf_set *set, kerf_object_kind kind, const char *name,
		     const char *text, size_t len, void **out, struct kerf_error *err);

/*
 * A core/v1 Node: metadata, spec (providerID, taints, unschedulable) and
 * status (capacity, allocatable, the Ready condition); the other fields of
 * the API are type-checked where kerf reads them and otherwise ignored.
 */
int mf_parse_node(const struct yt_node *doc, struct kerf_node **out, struct mf_diags *diags);

/* ---- manifest_validate.c: the CRD rules shared by the readers */

/* The CRD duration patterns. */
bool mf_duration_pattern(const char *s, bool allow_never);
bool mf_budget_duration_pattern(const char *s);
/* ^((100|[0-9]{1,2})%|[0-9]+)$ */
bool mf_budget_nodes_pattern(const char *s);

/*
 * A cron schedule as Karpenter accepts it: five fields or one of the
 * @yearly-style descriptors.  On false, why holds the reason.
 */
bool mf_cron_valid(const char *s, char *why, size_t whylen);

/*
 * Validates a label map (template labels) as the NodePool CRD and Karpenter
 * do: key and value syntax, restricted domains.
 */
void mf_check_template_labels(struct mf_ctx *c, const struct yt_node *map);

/*
 * Parses and validates a requirements list; `nodepool` selects the
 * NodePool rules (karpenter.sh/nodepool restricted, Karpenter's runtime
 * domain checks) rather than the NodeClaim ones.
 */
void mf_parse_requirements(struct mf_ctx *c, const struct yt_node *seq, bool nodepool,
			   struct kerf_requirements *out);

/* Parses and validates a taint list. */
void mf_parse_taints(struct mf_ctx *c, const struct yt_node *seq, struct kerf_taints *out);

/* Reports taints that repeat a key/effect pair within or across the two lists. */
void mf_check_duplicate_taints(struct mf_ctx *c, const struct yt_node *taints_node,
			       const struct yt_node *startup_node);

/* Parses spec.template.spec.nodeClassRef / spec.nodeClassRef. */
void mf_parse_node_class_ref(struct mf_ctx *c, const struct yt_node *n,
			     struct kerf_node_class_ref *out);

/* Resource list (limits, requests, capacity); "nodes" goes to *nodes when not NULL. */
void mf_parse_resources(struct mf_ctx *c, const struct yt_node *n, struct kerf_resources *out,
			int64_t *nodes);

#endif
