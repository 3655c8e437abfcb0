/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workload.c - Kubernetes workload objects (Pod, Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job) read into pod templates for the simulator.
 *
 * The reading machinery is the manifest parser's (manifest.h): the same
 * strict decoding, positioned diagnostics and did-you-mean suggestions, so
 * a typo in a Deployment reads like a typo in a NodePool.  The field lists
 * below follow the Kubernetes API reference; fields that do not affect
 * scheduling are listed so that they are accepted, and are not read.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/workload.h>

#include "decode.h"

/* ------------------------------------------------------------ field lists */

/* core/v1 PodSpec. */
static const char *const pod_spec_fields[] = {"activeDeadlineSeconds",
					      "affinity",
					      "automountServiceAccountToken",
					      "containers",
					      "dnsConfig",
					      "dnsPolicy",
					      "enableServiceLinks",
					      "ephemeralContainers",
					      "hostAliases",
					      "hostIPC",
					      "hostNetwork",
					      "hostPID",
					      "hostUsers",
					      "hostname",
					      "hostnameOverride",
					      "imagePullSecrets",
					      "initContainers",
					      "nodeName",
					      "nodeSelector",
					      "os",
					      "overhead",
					      "preemptionPolicy",
					      "priority",
					      "priorityClassName",
					      "readinessGates",
					      "resourceClaims",
					      "resources",
					      "restartPolicy",
					      "runtimeClassName",
					      "schedulerName",
					      "schedulingGates",
					      "securityContext",
					      "serviceAccount",
					      "serviceAccountName",
					      "setHostnameAsFQDN",
					      "shareProcessNamespace",
					      "subdomain",
					      "terminationGracePeriodSeconds",
					      "tolerations",
					      "topologySpreadConstraints",
					      "volumes",
					      NULL};

/* core/v1 Container. */
static const char *const container_fields[] = {"args",
					       "command",
					       "env",
					       "envFrom",
					       "image",
					       "imagePullPolicy",
					       "lifecycle",
					       "livenessProbe",
					       "name",
					       "ports",
					       "readinessProbe",
					       "resizePolicy",
					       "resources",
					       "restartPolicy",
					       "restartPolicyRules",
					       "securityContext",
					       "startupProbe",
					       "stdin",
					       "stdinOnce",
					       "terminationMessagePath",
					       "terminationMessagePolicy",
					       "tty",
					       "volumeDevices",
					       "volumeMounts",
					       "workingDir",
					       NULL};

static const char *const deployment_fields[] = {
    "minReadySeconds", "paused",   "progressDeadlineSeconds", "replicas", "revisionHistoryLimit",
    "selector",	       "strategy", "template",		      NULL};
static const char *const replicaset_fields[] = {"minReadySeconds", "replicas", "selector",
						"template", NULL};
static const char *const statefulset_fields[] = {"minReadySeconds",
						 "ordinals",
						 "persistentVolumeClaimRetentionPolicy",
						 "podManagementPolicy",
						 "replicas",
						 "revisionHistoryLimit",
						 "selector",
						 "serviceName",
						 "template",
						 "updateStrategy",
						 "volumeClaimTemplates",
						 NULL};
static const char *const daemonset_fields[] = {
    "minReadySeconds", "revisionHistoryLimit", "selector", "template", "updateStrategy", NULL};
static const char *const job_fields[] = {"activeDeadlineSeconds",
					 "backoffLimit",
					 "backoffLimitPerIndex",
					 "completionMode",
					 "completions",
					 "managedBy",
					 "manualSelector",
					 "maxFailedIndexes",
					 "parallelism",
					 "podFailurePolicy",
					 "podReplacementPolicy",
					 "selector",
					 "successPolicy",
					 "suspend",
					 "template",
					 "ttlSecondsAfterFinished",
					 NULL};

enum wl_type {
	WL_POD,
	WL_DEPLOYMENT,
	WL_REPLICASET,
	WL_STATEFULSET,
	WL_DAEMONSET,
	WL_JOB,
};

struct kind_info {
	const char *api_version;
	const char *kind;
	const char *list_kind;
	enum wl_type type;
	const char *const *spec_fields; /* controllers only */
};

static const struct kind_info kinds[] = {
    {"v1", "Pod", "PodList", WL_POD, NULL},
    {"apps/v1", "Deployment", "DeploymentList", WL_DEPLOYMENT, deployment_fields},
    {"apps/v1", "ReplicaSet", "ReplicaSetList", WL_REPLICASET, replicaset_fields},
    {"apps/v1", "StatefulSet", "StatefulSetList", WL_STATEFULSET, statefulset_fields},
    {"apps/v1", "DaemonSet", "DaemonSetList", WL_DAEMONSET, daemonset_fields},
    {"batch/v1", "Job", "JobList", WL_JOB, job_fields},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* ------------------------------------------------------------- helpers */


/* The child `field` of map with the path entered, or NULL (nothing pushed). */
static const struct yt_node *enter(struct mf_ctx *c, const struct yt_node *map, const char *field,
				   size_t *mark)
{
	const struct yt_node *v = mf_child(map, field);

	if (v)
		*mark = mf_push(c, field);
	return v;
}

/* A required string field that must not be empty; NULL when bad or missing. */
static const char *required_string(struct mf_ctx *c, const struct yt_node *map, const char *field)
{
	const struct yt_node *v = mf_child(map, field);
	const char *s = NULL;
	size_t m;

	if (!v) {
		mf_missing(c, map, field);
		return NULL;
	}
	m = mf_push(c, field);
	if ((s = mf_str(c, v)) != NULL && !*s) {
		mf_error(c, v, "must not be empty");
		s = NULL;
	}
	mf_pop(c, m);
	return s;
}

/* Checks a label key held in node v (already entered in the path). */
static bool check_key(struct mf_ctx *c, const struct yt_node *v, const char *key)
{
	char why[256];

	if (kerf_label_key_valid(key, why, sizeof(why)))
		return true;
	mf_error(c, v, "%s", why);
	return false;
}

/* A list of strings into a new array; label keys are checked when `keys`. */
static void string_list(struct mf_ctx *c, const struct yt_node *seq, bool keys, size_t *n,
			char ***out)
{
	if (!mf_is_seq(c, seq))
		return;
	*out = xcalloc(seq->n ? seq->n : 1, sizeof(char *));
	for (size_t i = 0; i < seq->n; i++) {
		size_t m = mf_push_index(c, i);
		const char *s = mf_str(c, seq->items[i]);
		if (s && (!keys || check_key(c, seq->items[i], s)))
			(*out)[(*n)++] = xstrdup(s);
		mf_pop(c, m);
	}
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Index of s in the NULL-terminated list, or -1. */
static int index_of(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++) {
		if (strcmp(s, list[i]) == 0)
			return i;
	}
	return -1;
}

/* ------------------------------------------------------ match expressions */

/* In kerf_operator order, so an index is the operator. */
static const char *const label_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
static const char *const node_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", NULL};
static const char *const field_ops[] = {"In", "NotIn", NULL};

/* A base-10 integer as Gt and Lt take it; strtoll alone would skip leading blanks. */
static bool integer_text(const char *s)
{
	const char *digits = s + (*s == '+' || *s == '-');
	char *end;

	if (*digits < '0' || *digits > '9')
		return false;
	(void)strtoll(s, &end, 10);
	return *end == '\0';
}

/*
 * One LabelSelectorRequirement (ops = label_ops), NodeSelectorRequirement
 * (node_ops) or node field selector requirement (field_ops: metadata.name,
 * stored on kubernetes.io/hostname).  False when it was not stored.
 */
static bool parse_expr(struct mf_ctx *c, const struct yt_node *it, const char *const *ops,
		       struct kerf_requirement *r)
{
	static const char *const fields[] = {"key", "operator", "values", NULL};
	const struct yt_node *kn, *on, *vn;
	const char *key, *op;
	size_t m;
	int opi;

	if (!mf_is_map(c, it))
		return false;
	mf_known_fields(c, it, fields);
	key = required_string(c, it, "key");
	kn = mf_child(it, "key");
	if (key) {
		m = mf_push(c, "key");
		if (ops == field_ops && strcmp(key, "metadata.name") != 0) {
			mf_error(c, kn, "unsupported value \"%s\": supported values: \"metadata.name\"",
				 key);
			key = NULL;
		} else if (ops != field_ops && !check_key(c, kn, key)) {
			key = NULL;
		}
		mf_pop(c, m);
	}
	if (!(on = mf_child(it, "operator"))) {
		mf_missing(c, it, "operator");
		op = NULL;
	} else {
		on = mf_get_enum(c, it, "operator", ops, NULL);
		op = on->type == YT_SCALAR ? on->scalar : NULL;
	}
	opi = op ? index_of(op, ops) : -1;
	vn = mf_child(it, "values");
	if (!key || opi < 0)
		return false;
	r->key = xstrdup(ops == field_ops ? "kubernetes.io/hostname" : key);
	r->op = (kerf_operator)opi;
	if (vn) {
		m = mf_push(c, "values");
		string_list(c, vn, false, &r->n_values, &r->values);
		mf_pop(c, m);
	}
	m = mf_push(c, "values");
	if ((r->op == KERF_OP_IN || r->op == KERF_OP_NOT_IN) && r->n_values == 0)
		mf_error(c, vn ? vn : it, "must be specified when `operator` is 'In' or 'NotIn'");
	else if (ops == field_ops && r->n_values != 1)
		mf_error(c, vn, "must be only one value when `operator` is 'In' or 'NotIn' for node "
				"field selector");
	else if ((r->op == KERF_OP_EXISTS || r->op == KERF_OP_DOES_NOT_EXIST) && r->n_values)
		mf_error(c, vn, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
	else if ((r->op == KERF_OP_GT || r->op == KERF_OP_LT) &&
		 (r->n_values != 1 || !integer_text(r->values[0])))
		mf_error(c, vn ? vn : it,
			 "must be a single integer when `operator` is 'Lt' or 'Gt'");
	mf_pop(c, m);
	return true;
}

/* A list of expressions appended to out. */
static void parse_exprs(struct mf_ctx *c, const struct yt_node *seq, const char *const *ops,
			struct kerf_requirements *out)
{
	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		size_t m = mf_push_index(c, i);
		struct kerf_requirement *r = kerf_requirement_new();
		if (parse_expr(c, seq->items[i], ops, r))
			xpush(out->items, out->n, r);
		else
			kerf_requirement_free(r);
		mf_pop(c, m);
	}
}

/* The expressions in map's field, when present, appended to out. */
static void exprs_field(struct mf_ctx *c, const struct yt_node *map, const char *field,
			const char *const *ops, struct kerf_requirements *out)
{
	size_t m;
	const struct yt_node *v = enter(c, map, field, &m);

	if (!v)
		return;
	parse_exprs(c, v, ops, out);
	mf_pop(c, m);
}

/* A part of a pod spec read into the pod. */
typedef void (*pod_part_fn)(struct mf_ctx *c, const struct yt_node *n, struct kerf_pod *pod);

/* Reads map's field, when present, with fn under its own path. */
static void pod_field(struct mf_ctx *c, const struct yt_node *map, const char *field,
		      pod_part_fn fn, struct kerf_pod *pod)
{
	size_t m;
	const struct yt_node *v = enter(c, map, field, &m);

	if (!v)
		return;
	fn(c, v, pod);
	mf_pop(c, m);
}

/* A metav1.LabelSelector. */
static void parse_label_selector(struct mf_ctx *c, const struct yt_node *n,
				 struct kerf_label_selector *out)
{
	static const char *const fields[] = {"matchExpressions", "matchLabels", NULL};
	const struct yt_node *v;
	size_t m;

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	if ((v = enter(c, n, "matchLabels", &m)) != NULL) {
		if (mf_string_map(c, v, &out->match_labels))
			mf_check_label_syntax(c, v, true);
		mf_pop(c, m);
	}
	exprs_field(c, n, "matchExpressions", label_ops, &out->match_expressions);
}

/*
 * matchLabelKeys / mismatchLabelKeys: the API server adds `key In [value]`
 * (NotIn for mismatch) with the pod's own label value to the selector; a
 * key the pod has no label for adds nothing.
 */
static void merge_label_keys(struct mf_ctx *c, const struct yt_node *map, const char *field,
			     kerf_operator op, const struct kerf_labels *pod_labels, bool have_selector,
			     struct kerf_label_selector *sel)
{
	const struct yt_node *v;
	char **keys = NULL;
	size_t n = 0, m;

	if (!(v = enter(c, map, field, &m)))
		return;
	if (!have_selector)
		mf_error(c, v, "must not be specified when labelSelector is not set");
	string_list(c, v, true, &n, &keys);
	mf_pop(c, m);
	for (size_t i = 0; i < n; i++) {
		const char *val = kerf_labels_get(pod_labels, keys[i]);
		struct kerf_requirement *r;
		if (!val)
			continue;
		r = kerf_requirements_append(&sel->match_expressions);
		r->key = xstrdup(keys[i]);
		r->op = op;
		kerf_requirement_add_value(r, val);
	}
	strv_free(keys, n);
}

/* ---------------------------------------------------------- node affinity */

/* A NodeSelectorTerm: its expressions and fields, ANDed. */
static void parse_node_term(struct mf_ctx *c, const struct yt_node *n,
			    struct kerf_requirements *out)
{
	static const char *const fields[] = {"matchExpressions", "matchFields", NULL};

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	exprs_field(c, n, "matchExpressions", node_ops, out);
	exprs_field(c, n, "matchFields", field_ops, out);
}

static void parse_required_node(struct mf_ctx *c, const struct yt_node *n, struct kerf_pod *pod)
{
	static const char *const fields[] = {"nodeSelectorTerms", NULL};
	const struct yt_node *terms;
	size_t m;

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	if (!(terms = mf_child(n, "nodeSelectorTerms"))) {
		mf_missing(c, n, "nodeSelectorTerms");
		return;
	}
	m = mf_push(c, "nodeSelectorTerms");
	if (mf_is_seq(c, terms)) {
		if (terms->n == 0)
			mf_error(c, terms, "must have at least one node selector term");
		for (size_t i = 0; i < terms->n; i++) {
			size_t mi = mf_push_index(c, i);
			parse_node_term(c, terms->items[i], kerf_pod_add_required_term(pod));
			mf_pop(c, mi);
		}
	}
	mf_pop(c, m);
}

/* The weight of a preferred term: required, 1..100. */
static int32_t parse_weight(struct mf_ctx *c, const struct yt_node *it)
{
	int64_t w = 0;

	if (!mf_child(it, "weight"))
		mf_missing(c, it, "weight");
	else
		mf_get_int(c, it, "weight", 1, 100, &w);
	return (int32_t)w;
}

static void parse_preferred_node(struct mf_ctx *c, const struct yt_node *seq, struct kerf_pod *pod)
{
	static const char *const fields[] = {"preference", "weight", NULL};

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *v;
		size_t mi = mf_push_index(c, i), m;

		if (mf_is_map(c, it)) {
			struct kerf_preferred_term *t = kerf_pod_add_preferred_term(pod);

			mf_known_fields(c, it, fields);
			t->weight = parse_weight(c, it);
			if (!(v = enter(c, it, "preference", &m))) {
				mf_missing(c, it, "preference");
			} else {
				parse_node_term(c, v, &t->preference);
				mf_pop(c, m);
			}
		}
		mf_pop(c, mi);
	}
}

static void parse_node_affinity(struct mf_ctx *c, const struct yt_node *n, struct kerf_pod *pod)
{
	static const char *const fields[] = {"preferredDuringSchedulingIgnoredDuringExecution",
					     "requiredDuringSchedulingIgnoredDuringExecution", NULL};

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	pod_field(c, n, fields[1], parse_required_node, pod);
	pod_field(c, n, fields[0], parse_preferred_node, pod);
}

/* ----------------------------------------------------------- pod affinity */

/*
 * A PodAffinityTerm.  Returns false for a term without labelSelector: it
 * selects no pods, so it has no effect and is not stored.
 */
static bool parse_pod_term(struct mf_ctx *c, const struct yt_node *n,
			   const struct kerf_labels *pod_labels, struct kerf_pod_affinity_term *t)
{
	static const char *const fields[] = {"labelSelector",	  "matchLabelKeys", "mismatchLabelKeys",
					     "namespaceSelector", "namespaces",	    "topologyKey",
					     NULL};
	const struct yt_node *v, *sel;
	struct kerf_label_selector *ns_sel;
	const char *key;
	size_t m;

	if (!mf_is_map(c, n))
		return false;
	mf_known_fields(c, n, fields);
	if ((key = required_string(c, n, "topologyKey")) != NULL) {
		m = mf_push(c, "topologyKey");
		if (check_key(c, mf_child(n, "topologyKey"), key))
			t->topology_key = xstrdup(key);
		mf_pop(c, m);
	}
	if ((sel = enter(c, n, "labelSelector", &m)) != NULL) {
		parse_label_selector(c, sel, t->selector);
		mf_pop(c, m);
	}
	merge_label_keys(c, n, "matchLabelKeys", KERF_OP_IN, pod_labels, sel != NULL, t->selector);
	merge_label_keys(c, n, "mismatchLabelKeys", KERF_OP_NOT_IN, pod_labels, sel != NULL,
			 t->selector);
	if ((v = enter(c, n, "namespaces", &m)) != NULL) {
		string_list(c, v, false, &t->n_namespaces, &t->namespaces);
		mf_pop(c, m);
	}
	/* Checked, then dropped: the model has no namespace selector. */
	if ((v = enter(c, n, "namespaceSelector", &m)) != NULL) {
		ns_sel = kerf_label_selector_new();
		parse_label_selector(c, v, ns_sel);
		kerf_label_selector_free(ns_sel);
		mf_pop(c, m);
	}
	return sel != NULL;
}

static void parse_required_pod_terms(struct mf_ctx *c, const struct yt_node *seq,
				     const struct kerf_labels *pod_labels, size_t *n,
				     struct kerf_pod_affinity_term ***out)
{
	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		size_t mi = mf_push_index(c, i);
		struct kerf_pod_affinity_term *t = kerf_pod_affinity_term_new();
		if (parse_pod_term(c, seq->items[i], pod_labels, t))
			xpush(*out, *n, t);
		else
			kerf_pod_affinity_term_free(t);
		mf_pop(c, mi);
	}
}

static void parse_weighted_pod_terms(struct mf_ctx *c, const struct yt_node *seq,
				     const struct kerf_labels *pod_labels, size_t *n,
				     struct kerf_weighted_pod_affinity_term ***out)
{
	static const char *const fields[] = {"podAffinityTerm", "weight", NULL};

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *v;
		struct kerf_weighted_pod_affinity_term *w = kerf_weighted_pod_affinity_term_new();
		size_t mi = mf_push_index(c, i), m;
		bool keep = false;

		if (mf_is_map(c, it)) {
			mf_known_fields(c, it, fields);
			w->weight = parse_weight(c, it);
			if (!(v = enter(c, it, "podAffinityTerm", &m))) {
				mf_missing(c, it, "podAffinityTerm");
			} else {
				keep = parse_pod_term(c, v, pod_labels, w->term);
				mf_pop(c, m);
			}
		}
		if (keep)
			xpush(*out, *n, w);
		else
			kerf_weighted_pod_affinity_term_free(w);
		mf_pop(c, mi);
	}
}

/* PodAffinity or PodAntiAffinity: both hold the same two lists of terms. */
static void parse_pod_affinity(struct mf_ctx *c, const struct yt_node *n, bool anti,
			       struct kerf_pod *pod)
{
	static const char *const fields[] = {"preferredDuringSchedulingIgnoredDuringExecution",
					     "requiredDuringSchedulingIgnoredDuringExecution", NULL};
	const struct kerf_labels *labels = &pod->meta->labels;
	const struct yt_node *v;
	size_t m;

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	if ((v = enter(c, n, fields[1], &m)) != NULL) {
		parse_required_pod_terms(c, v, labels,
					 anti ? &pod->n_anti_affinity : &pod->n_affinity,
					 anti ? &pod->anti_affinity : &pod->affinity);
		mf_pop(c, m);
	}
	if ((v = enter(c, n, fields[0], &m)) != NULL) {
		parse_weighted_pod_terms(
		    c, v, labels, anti ? &pod->n_preferred_anti_affinity : &pod->n_preferred_affinity,
		    anti ? &pod->preferred_anti_affinity : &pod->preferred_affinity);
		mf_pop(c, m);
	}
}

static void parse_pod_affinity_field(struct mf_ctx *c, const struct yt_node *n,
				     struct kerf_pod *pod)
{
	parse_pod_affinity(c, n, false, pod);
}

static void parse_pod_anti_affinity_field(struct mf_ctx *c, const struct yt_node *n,
					  struct kerf_pod *pod)
{
	parse_pod_affinity(c, n, true, pod);
}

static void parse_affinity(struct mf_ctx *c, const struct yt_node *n, struct kerf_pod *pod)
{
	static const char *const fields[] = {"nodeAffinity", "podAffinity", "podAntiAffinity",
					     NULL};

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	pod_field(c, n, "nodeAffinity", parse_node_affinity, pod);
	pod_field(c, n, "podAffinity", parse_pod_affinity_field, pod);
	pod_field(c, n, "podAntiAffinity", parse_pod_anti_affinity_field, pod);
}

/* ------------------------------------------------------------ tolerations */

static const char *const effect_names[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute",
					   NULL};

static void parse_toleration(struct mf_ctx *c, const struct yt_node *it, struct kerf_toleration *t)
{
	static const char *const fields[] = {"effect", "key", "operator", "tolerationSeconds",
					     "value", NULL};
	static const char *const ops[] = {"Equal", "Exists", NULL};
	const struct yt_node *v;
	char *op = NULL, *effect = NULL, why[256];
	int64_t secs;
	size_t m;

	t->toleration_seconds = KERF_TOLERATION_FOREVER;
	mf_known_fields(c, it, fields);
	if ((v = mf_get_string(c, it, "key", &t->key)) != NULL && t->key) {
		m = mf_push(c, "key");
		if (!*t->key)
			xfree(t->key);
		else
			check_key(c, v, t->key);
		mf_pop(c, m);
	}
	mf_get_enum(c, it, "operator", ops, &op);
	t->op = op && strcmp(op, "Exists") == 0 ? KERF_TOLERATION_EXISTS : KERF_TOLERATION_EQUAL;
	if ((v = mf_get_string(c, it, "value", &t->value)) != NULL && t->value) {
		m = mf_push(c, "value");
		if (!*t->value)
			xfree(t->value);
		else if (t->op == KERF_TOLERATION_EXISTS)
			mf_error(c, v, "value must be empty when `operator` is 'Exists'");
		else if (!kerf_label_value_valid(t->value, why, sizeof(why)))
			mf_error(c, v, "%s", why);
		mf_pop(c, m);
	}
	if (!t->key && t->op != KERF_TOLERATION_EXISTS) {
		m = mf_push(c, "operator");
		mf_error(c, mf_child(it, "operator") ? mf_child(it, "operator") : it,
			 "operator must be Exists when `key` is empty, which means \"match all "
			 "values and all keys\"");
		mf_pop(c, m);
	}
	mf_get_enum(c, it, "effect", effect_names, &effect);
	t->effect = effect ? (kerf_taint_effect)index_of(effect, effect_names) : KERF_EFFECT_ANY;
	if (mf_get_int(c, it, "tolerationSeconds", INT64_MIN + 1, INT64_MAX, &secs)) {
		/* Kubernetes evicts at once for zero and negative values. */
		t->toleration_seconds = secs < 0 ? 0 : secs;
		if (t->effect != KERF_EFFECT_NO_EXECUTE) {
			m = mf_push(c, "effect");
			mf_error(c, mf_child(it, "effect") ? mf_child(it, "effect") : it,
				 "effect must be 'NoExecute' when `tolerationSeconds` is set");
			mf_pop(c, m);
		}
	}
	free(op);
	free(effect);
}

static void parse_tolerations(struct mf_ctx *c, const struct yt_node *seq, struct kerf_pod *pod)
{
	struct kerf_tolerations *out = &pod->tolerations;

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		size_t m = mf_push_index(c, i);
		if (mf_is_map(c, seq->items[i]))
			parse_toleration(c, seq->items[i], kerf_tolerations_append(out));
		mf_pop(c, m);
	}
}

/* ------------------------------------------------------- topology spread */

static void parse_spread(struct mf_ctx *c, const struct yt_node *it,
			 const struct kerf_labels *pod_labels, struct kerf_topology_spread *s)
{
	static const char *const fields[] = {"labelSelector",	  "matchLabelKeys",
					     "maxSkew",		  "minDomains",
					     "nodeAffinityPolicy", "nodeTaintsPolicy",
					     "topologyKey",	  "whenUnsatisfiable",
					     NULL};
	static const char *const when[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
	static const char *const policies[] = {"Honor", "Ignore", NULL};
	const struct yt_node *sel;
	char *w = NULL;
	const char *key;
	int64_t i64;
	size_t m;

	mf_known_fields(c, it, fields);
	if (!mf_child(it, "maxSkew"))
		mf_missing(c, it, "maxSkew");
	else if (mf_get_int(c, it, "maxSkew", 1, INT32_MAX, &i64))
		s->max_skew = (int32_t)i64;
	if ((key = required_string(c, it, "topologyKey")) != NULL) {
		m = mf_push(c, "topologyKey");
		if (check_key(c, mf_child(it, "topologyKey"), key))
			s->topology_key = xstrdup(key);
		mf_pop(c, m);
	}
	if (!mf_child(it, "whenUnsatisfiable"))
		mf_missing(c, it, "whenUnsatisfiable");
	mf_get_enum(c, it, "whenUnsatisfiable", when, &w);
	s->when_unsatisfiable = w && strcmp(w, "ScheduleAnyway") == 0 ? KERF_SPREAD_SCHEDULE_ANYWAY
								      : KERF_SPREAD_DO_NOT_SCHEDULE;
	if (mf_get_int(c, it, "minDomains", 1, INT32_MAX, &i64)) {
		s->min_domains = (int32_t)i64;
		if (w && s->when_unsatisfiable != KERF_SPREAD_DO_NOT_SCHEDULE) {
			m = mf_push(c, "minDomains");
			mf_error(c, mf_child(it, "minDomains"),
				 "can only use minDomains if whenUnsatisfiable=DoNotSchedule");
			mf_pop(c, m);
		}
	}
	free(w);
	if ((sel = enter(c, it, "labelSelector", &m)) != NULL) {
		parse_label_selector(c, sel, s->selector);
		mf_pop(c, m);
	}
	merge_label_keys(c, it, "matchLabelKeys", KERF_OP_IN, pod_labels, sel != NULL, s->selector);
	/* Checked only: kerf spreads with the defaults (Honor, Ignore). */
	mf_get_enum(c, it, "nodeAffinityPolicy", policies, NULL);
	mf_get_enum(c, it, "nodeTaintsPolicy", policies, NULL);
}

static void parse_spreads(struct mf_ctx *c, const struct yt_node *seq, struct kerf_pod *pod)
{
	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		size_t m = mf_push_index(c, i);
		if (mf_is_map(c, seq->items[i]))
			parse_spread(c, seq->items[i], &pod->meta->labels,
				     kerf_pod_add_spread(pod));
		mf_pop(c, m);
	}
}

/* -------------------------------------------------------------- resources */

/* Names of the resources set in r, in a fixed order. */
static size_t res_names(const struct kerf_resources *r,
			const char *names[4 + KERF_RESOURCES_EXT_MAX])
{
	static const char *const fixed[] = {KERF_RESOURCE_CPU, KERF_RESOURCE_MEMORY,
					    KERF_RESOURCE_EPHEMERAL, KERF_RESOURCE_PODS};
	size_t n = 0;

	for (unsigned d = 0; d < 4; d++) {
		if (r->present & (1u << d))
			names[n++] = fixed[d];
	}
	for (uint32_t i = 0; i < r->n_ext; i++)
		names[n++] = r->ext[i].name;
	return n;
}

/* dst = max(dst, src) resource by resource; false when dst has no room. */
static bool res_max(struct kerf_resources *dst, const struct kerf_resources *src)
{
	const char *names[4 + KERF_RESOURCES_EXT_MAX];
	size_t n = res_names(src, names);

	for (size_t i = 0; i < n; i++) {
		bool present;
		int64_t a = kerf_resources_get(dst, names[i], &present);
		int64_t b = kerf_resources_get(src, names[i], NULL);
		if ((!present || b > a) && kerf_resources_set(dst, names[i], b, NULL))
			return false;
	}
	return true;
}

static bool is_hugepages(const char *name)
{
	return strncmp(name, "hugepages-", 10) == 0;
}

/* Extended resources: domain-qualified names outside kubernetes.io. */
static bool is_extended(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t dl = slash ? (size_t)(slash - name) : 0;

	if (!slash)
		return false;
	if (dl == 13 && strncmp(name, "kubernetes.io", 13) == 0)
		return false;
	return !(dl > 14 && strncmp(slash - 14, ".kubernetes.io", 14) == 0) &&
	       strncmp(name, "requests.", 9) != 0;
}

/* Where a resource list appears: it decides which names are allowed. */
enum res_scope {
	RES_CONTAINER,
	RES_POD_LEVEL, /* spec.resources: cpu, memory, hugepages */
	RES_OVERHEAD,
};

/* Checks a resource name for its scope; the message says what is allowed. */
static bool check_res_name(struct mf_ctx *c, const struct yt_node *k, enum res_scope scope)
{
	static const char *const standard[] = {KERF_RESOURCE_CPU, KERF_RESOURCE_MEMORY,
					       KERF_RESOURCE_EPHEMERAL, NULL};
	const char *name = k->scalar, *s;
	char why[256];

	if (!kerf_label_key_valid(name, why, sizeof(why))) {
		mf_error(c, k, "invalid resource name \"%s\": %s", name, why);
		return false;
	}
	if (scope == RES_POD_LEVEL) {
		if (strcmp(name, KERF_RESOURCE_CPU) == 0 || strcmp(name, KERF_RESOURCE_MEMORY) == 0 ||
		    is_hugepages(name))
			return true;
		mf_error(c, k, "unsupported resource name \"%s\": pod-level resources may only be "
			       "cpu, memory and hugepages-<size>", name);
		return false;
	}
	if (index_of(name, standard) >= 0 || is_hugepages(name) || is_extended(name))
		return true;
	if (scope == RES_OVERHEAD && strchr(name, '/'))
		return true;
	s = mf_suggest(name, standard);
	mf_error(c, k,
		 "unsupported resource name \"%s\": must be cpu, memory, ephemeral-storage, "
		 "hugepages-<size> or a domain-qualified extended resource%s%s%s",
		 name, s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
	return false;
}

/* A ResourceList: every name checked for its scope, every quantity parsed. */
static void parse_res_list(struct mf_ctx *c, const struct yt_node *n, enum res_scope scope,
			   struct kerf_resources *out)
{
	struct kerf_error err = KERF_ERROR_INIT;

	if (!mf_is_map(c, n))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *k = n->pairs[i].key, *v = n->pairs[i].value;
		size_t m = mf_push_key(c, k->scalar);
		const char *text = mf_quantity_text(c, v);
		int64_t milli;

		kerf_error_clear(&err);
		if (text && check_res_name(c, k, scope)) {
			if (kerf_resources_set_quantity(out, k->scalar, text, &err))
				mf_error(c, v, "%s", err.message);
			else if (is_extended(k->scalar) &&
				 (kerf_quantity_parse(text, 3, &milli, NULL) || milli % 1000))
				mf_error(c, v, "must be an integer");
		}
		mf_pop(c, m);
	}
}

/* An error at requests[name] of the ResourceRequirements being read. */
static void request_error(struct mf_ctx *c, const struct yt_node *at, const char *name,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void request_error(struct mf_ctx *c, const struct yt_node *at, const char *name,
			  const char *fmt, ...)
{
	size_t m = mf_push(c, "requests"), m2 = mf_push_key(c, name);
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	mf_error(c, at, "%s", sb.buf);
	sb_free(&sb);
	mf_pop(c, m2);
	mf_pop(c, m);
}

/*
 * ResourceRequirements: requests default to limits, cpu/memory/ephemeral
 * requests may not exceed their limits, and hugepages and extended
 * resources (which cannot be overcommitted) need a limit equal to the
 * request.  *req gets the effective requests.
 */
static void parse_requirements_block(struct mf_ctx *c, const struct yt_node *n,
				     enum res_scope scope, struct kerf_resources *req)
{
	static const char *const fields[] = {"claims", "limits", "requests", NULL};
	const struct yt_node *rn = NULL, *ln = NULL;
	const char *names[4 + KERF_RESOURCES_EXT_MAX];
	struct kerf_resources lim;
	size_t m, nn;

	kerf_resources_init(&lim);
	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	if ((ln = enter(c, n, "limits", &m)) != NULL) {
		parse_res_list(c, ln, scope, &lim);
		mf_pop(c, m);
	}
	if ((rn = enter(c, n, "requests", &m)) != NULL) {
		parse_res_list(c, rn, scope, req);
		mf_pop(c, m);
	}
	nn = res_names(&lim, names);
	for (size_t i = 0; i < nn; i++) {
		bool present;
		int64_t l = kerf_resources_get(&lim, names[i], NULL);
		int64_t r = kerf_resources_get(req, names[i], &present);
		const struct yt_node *at = rn ? yt_map_get(rn, names[i]) : NULL;
		int scale = strcmp(names[i], KERF_RESOURCE_CPU) == 0 ? 3 : 0;
		bool exact = is_hugepages(names[i]) || is_extended(names[i]);
		char q[64];

		if (!present) {
			kerf_resources_set(req, names[i], l, NULL);
			continue;
		}
		if (!at || (exact ? r == l : r <= l))
			continue;
		kerf_quantity_format(l, scale, q, sizeof(q));
		request_error(c, at, names[i], "must be %s %s limit of %s",
			      exact ? "equal to" : "less than or equal to", names[i], q);
	}
	if (!rn)
		return;
	nn = res_names(req, names);
	for (size_t i = 0; i < nn; i++) {
		bool present;
		const struct yt_node *at = yt_map_get(rn, names[i]);
		kerf_resources_get(&lim, names[i], &present);
		if (present || !at || !(is_hugepages(names[i]) || is_extended(names[i])))
			continue;
		request_error(c, at, names[i],
			      "a limit must be set for %s, which cannot be overcommitted", names[i]);
	}
}

/* ------------------------------------------------------------- containers */

/* What one container contributes to the pod. */
struct container {
	struct kerf_resources requests;
	bool sidecar; /* an init container with restartPolicy: Always */
};

static void add_host_port(struct mf_ctx *c, const struct yt_node *at, struct kerf_pod *pod,
			  int64_t port, const char *protocol, const char *host_ip)
{
	struct kerf_host_port *hp;

	for (size_t i = 0; i < pod->n_host_ports; i++) {
		hp = pod->host_ports[i];
		if (hp->port == port && strcmp(hp->protocol, protocol) == 0 &&
		    strcmp(hp->host_ip ? hp->host_ip : "", host_ip ? host_ip : "") == 0) {
			mf_error(c, at, "duplicate host port %lld/%s", (long long)port, protocol);
			return;
		}
	}
	hp = kerf_pod_add_host_port(pod);
	hp->port = (uint16_t)port;
	memcpy(hp->protocol, protocol, strlen(protocol) + 1);
	hp->host_ip = host_ip && *host_ip ? xstrdup(host_ip) : NULL;
}

static void parse_ports(struct mf_ctx *c, const struct yt_node *seq, bool host_network,
			struct kerf_pod *pod)
{
	static const char *const fields[] = {"containerPort", "hostIP", "hostPort",
					     "name",	      "protocol", NULL};
	static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i];
		size_t m = mf_push_index(c, i);
		int64_t cport = 0, hport = 0;
		char *proto = NULL, *host_ip = NULL;

		if (mf_is_map(c, it)) {
			mf_known_fields(c, it, fields);
			if (!mf_child(it, "containerPort"))
				mf_missing(c, it, "containerPort");
			mf_get_int(c, it, "containerPort", 1, 65535, &cport);
			mf_get_int(c, it, "hostPort", 0, 65535, &hport);
			mf_get_enum(c, it, "protocol", protocols, &proto);
			mf_get_string(c, it, "hostIP", &host_ip);
			mf_get_string(c, it, "name", NULL);
			/* With the host's network the container port is the host port. */
			if (host_network && !hport)
				hport = cport;
			if (hport && pod)
				add_host_port(c, it, pod, hport, proto ? proto : "TCP", host_ip);
			free(proto);
			free(host_ip);
		}
		mf_pop(c, m);
	}
}

static void parse_container(struct mf_ctx *c, const struct yt_node *it, bool init,
			    bool host_network, struct kerf_pod *pod, struct container *out)
{
	static const char *const init_policies[] = {"Always", NULL};
	static const char *const policies[] = {"Always", "OnFailure", "Never", NULL};
	const struct yt_node *v;
	char *policy = NULL;
	size_t m;

	kerf_resources_init(&out->requests);
	out->sidecar = false;
	if (!mf_is_map(c, it))
		return;
	mf_known_fields(c, it, container_fields);
	required_string(c, it, "name");
	mf_get_enum(c, it, "restartPolicy", init ? init_policies : policies, &policy);
	out->sidecar = init && policy;
	free(policy);
	if ((v = enter(c, it, "resources", &m)) != NULL) {
		parse_requirements_block(c, v, RES_CONTAINER, &out->requests);
		mf_pop(c, m);
	}
	/* The scheduler counts the host ports of regular containers only. */
	if ((v = enter(c, it, "ports", &m)) != NULL) {
		parse_ports(c, v, host_network && !init, init ? NULL : pod);
		mf_pop(c, m);
	}
}

/* Reports that a sum ran out of extended-resource slots. */
static void too_many_resources(struct mf_ctx *c, const struct yt_node *at)
{
	mf_error(c, at, "the pod uses more than %d extended resources",
		 KERF_RESOURCES_EXT_MAX);
}

/*
 * The effective requests, as Kubernetes' PodRequests: regular containers
 * and sidecars run together; each init container runs beside the sidecars
 * started before it; pod-level requests replace the container figures for
 * the resources they name; overhead comes on top.
 */
static void parse_containers(struct mf_ctx *c, const struct yt_node *spec, bool host_network,
			     struct kerf_pod *pod)
{
	const struct yt_node *ctrs = mf_child(spec, "containers");
	const struct yt_node *inits, *v;
	struct kerf_resources sum, sidecars, init_max, tmp, podlvl;
	const char *names[4 + KERF_RESOURCES_EXT_MAX];
	struct container ct;
	size_t m, n;

	kerf_resources_init(&sum);
	kerf_resources_init(&sidecars);
	kerf_resources_init(&init_max);
	kerf_resources_init(&podlvl);
	if (!ctrs) {
		mf_missing(c, spec, "containers");
	} else {
		m = mf_push(c, "containers");
		if (mf_is_seq(c, ctrs)) {
			if (ctrs->n == 0)
				mf_error(c, ctrs, "must have at least one container");
			for (size_t i = 0; i < ctrs->n; i++) {
				size_t mi = mf_push_index(c, i);
				parse_container(c, ctrs->items[i], false, host_network, pod, &ct);
				if (kerf_resources_add(&sum, &ct.requests))
					too_many_resources(c, ctrs->items[i]);
				mf_pop(c, mi);
			}
		}
		mf_pop(c, m);
	}
	if ((inits = enter(c, spec, "initContainers", &m)) != NULL) {
		if (mf_is_seq(c, inits)) {
			for (size_t i = 0; i < inits->n; i++) {
				size_t mi = mf_push_index(c, i);
				parse_container(c, inits->items[i], true, false, pod, &ct);
				bool full;
				if (ct.sidecar) {
					full = kerf_resources_add(&sidecars, &ct.requests) != 0;
					tmp = sidecars;
				} else {
					tmp = sidecars;
					full = kerf_resources_add(&tmp, &ct.requests) != 0;
				}
				if (full || !res_max(&init_max, &tmp))
					too_many_resources(c, inits->items[i]);
				mf_pop(c, mi);
			}
		}
		mf_pop(c, m);
	}
	if (kerf_resources_add(&sum, &sidecars) || !res_max(&sum, &init_max))
		too_many_resources(c, spec);
	if ((v = enter(c, spec, "resources", &m)) != NULL) {
		parse_requirements_block(c, v, RES_POD_LEVEL, &podlvl);
		mf_pop(c, m);
	}
	n = res_names(&podlvl, names);
	for (size_t i = 0; i < n; i++)
		kerf_resources_set(&sum, names[i], kerf_resources_get(&podlvl, names[i], NULL), NULL);
	if ((v = enter(c, spec, "overhead", &m)) != NULL) {
		kerf_resources_init(&tmp);
		parse_res_list(c, v, RES_OVERHEAD, &tmp);
		mf_pop(c, m);
		if (kerf_resources_add(&sum, &tmp))
			too_many_resources(c, v);
	}
	kerf_resources_set(&sum, KERF_RESOURCE_PODS, 1, NULL);
	pod->requests = sum;
}

/* ---------------------------------------------------------------- PodSpec */

static void parse_node_selector(struct mf_ctx *c, const struct yt_node *n, struct kerf_pod *pod)
{
	if (mf_string_map(c, n, &pod->node_selector))
		mf_check_label_syntax(c, n, true);
}

static void parse_pod_spec(struct mf_ctx *c, const struct yt_node *spec, struct kerf_pod *pod)
{
	bool host_network = false;
	int64_t prio, grace;

	if (!mf_is_map(c, spec))
		return;
	mf_known_fields(c, spec, pod_spec_fields);
	mf_get_bool(c, spec, "hostNetwork", &host_network);
	parse_containers(c, spec, host_network, pod);
	pod_field(c, spec, "nodeSelector", parse_node_selector, pod);
	pod_field(c, spec, "affinity", parse_affinity, pod);
	pod_field(c, spec, "tolerations", parse_tolerations, pod);
	pod_field(c, spec, "topologySpreadConstraints", parse_spreads, pod);
	if (mf_get_int(c, spec, "priority", INT32_MIN, INT32_MAX, &prio))
		pod->priority = (int32_t)prio;
	mf_get_string(c, spec, "priorityClassName", &pod->priority_class);
	/* Bounded so that the milliseconds cannot overflow. */
	if (mf_get_int(c, spec, "terminationGracePeriodSeconds", 0, INT64_MAX / 1000, &grace))
		pod->termination_grace_period_ms = grace * 1000;
	mf_get_string(c, spec, "nodeName", &pod->node_name);
	mf_get_string(c, spec, "schedulerName", NULL);
}

/* A Pod's status: the phase and whether the scheduler gave up on it. */
static void parse_pod_status(struct mf_ctx *c, const struct yt_node *st, struct kerf_pod *pod)
{
	static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed",
					     "Unknown", NULL};
	const struct yt_node *conds;
	char *phase = NULL;

	if (!mf_is_map(c, st))
		return;
	/* The rest of status is the server's business and is not checked. */
	mf_get_enum(c, st, "phase", phases, &phase);
	if (phase)
		pod->phase = (kerf_pod_phase)index_of(phase, phases);
	free(phase);
	conds = mf_child(st, "conditions");
	for (size_t i = 0; conds && conds->type == YT_SEQ && i < conds->n; i++) {
		const struct yt_node *t = mf_child(conds->items[i], "type");
		const struct yt_node *s = mf_child(conds->items[i], "status");
		const struct yt_node *r = mf_child(conds->items[i], "reason");
		if (t && s && r && t->type == YT_SCALAR && s->type == YT_SCALAR &&
		    r->type == YT_SCALAR && strcmp(t->scalar, "PodScheduled") == 0 &&
		    strcmp(s->scalar, "False") == 0 && strcmp(r->scalar, "Unschedulable") == 0)
			pod->unschedulable = true;
	}
}

/* ----------------------------------------------------------- controllers */

/* kerf_workload_limits with the defaults filled in. */
struct wl_limits {
	int64_t max_replicas, max_pods, max_objects;
};

/*
 * The controller-specific part of spec: replicas, the selector (which must
 * select the template's labels) and the template itself.
 */
static void parse_controller(struct mf_ctx *c, const struct kind_info *ki,
			     const struct yt_node *spec, struct kerf_workload *w,
			     const struct wl_limits *lim)
{
	struct kerf_label_selector *sel = kerf_label_selector_new();
	const struct yt_node *tmpl, *sn, *ts, *count_at = NULL;
	int64_t replicas = 1, parallelism = 1, completions = -1;
	bool suspend = false;
	size_t m, m2;

	mf_known_fields(c, spec, ki->spec_fields);
	if (ki->type == WL_JOB) {
		mf_get_int(c, spec, "parallelism", 0, INT64_MAX, &parallelism);
		mf_get_int(c, spec, "completions", 0, INT64_MAX, &completions);
		mf_get_bool(c, spec, "suspend", &suspend);
		bool capped = completions >= 0 && completions < parallelism;
		replicas = capped ? completions : parallelism;
		count_at = mf_child(spec, capped ? "completions" : "parallelism");
		if (suspend)
			replicas = 0;
	} else if (ki->type == WL_DAEMONSET) {
		replicas = 0;
	} else {
		mf_get_int(c, spec, "replicas", 0, INT64_MAX, &replicas);
		count_at = mf_child(spec, "replicas");
	}
	if (replicas > lim->max_replicas) {
		/* Each replica becomes a pod in memory: refused here, not by running out of it. */
		m = mf_push(c, count_at == mf_child(spec, "completions") ? "completions"
			       : ki->type == WL_JOB				 ? "parallelism"
										 : "replicas");
		mf_error(c, count_at ? count_at : spec,
			 "%lld pods are more than one workload may have here: %lld "
			 "(settings.max_pods_per_workload)",
			 (long long)replicas, (long long)lim->max_replicas);
		mf_pop(c, m);
		replicas = 0;
	}
	w->replicas = (int32_t)replicas;
	w->daemonset = ki->type == WL_DAEMONSET;
	w->pod->daemonset = w->daemonset;
	if ((sn = enter(c, spec, "selector", &m)) != NULL) {
		parse_label_selector(c, sn, sel);
		if (sel->match_labels.n == 0 && sel->match_expressions.n == 0)
			mf_error(c, sn, "empty selector is invalid for %s", ki->kind);
		mf_pop(c, m);
	} else if (ki->type != WL_JOB) {
		mf_missing(c, spec, "selector");
	}
	if (!(tmpl = enter(c, spec, "template", &m))) {
		mf_missing(c, spec, "template");
		kerf_label_selector_free(sel);
		return;
	}
	if (mf_is_map(c, tmpl)) {
		static const char *const fields[] = {"metadata", "spec", NULL};
		mf_known_fields(c, tmpl, fields);
		mf_parse_metadata(c, tmpl, w->pod->meta, MF_HDR_TEMPLATE);
		if (sn && (sel->match_labels.n || sel->match_expressions.n) &&
		    !kerf_label_selector_matches(sel, &w->pod->meta->labels)) {
			m2 = mf_push(c, "metadata.labels");
			mf_error(c, mf_child(tmpl, "metadata") ? mf_child(tmpl, "metadata") : tmpl,
				 "`selector` does not match template `labels`");
			mf_pop(c, m2);
		}
		if (!(ts = enter(c, tmpl, "spec", &m2))) {
			mf_missing(c, tmpl, "spec");
		} else {
			parse_pod_spec(c, ts, w->pod);
			mf_pop(c, m2);
		}
	}
	mf_pop(c, m);
	kerf_label_selector_free(sel);
}

/* ---------------------------------------------------------------- parsing */

struct wl_state {
	struct mf_diags diags;
	struct kerf_workload_list *list;
	struct wl_limits lim;
	int64_t pods;	 /* pods the workloads so far stand for, the caller's earlier ones too */
	int64_t objects; /* documents and list items seen */
	size_t cap_items;
	bool check_only; /* each workload is freed once checked: only the diagnostics are wanted */
};

static void workload_clear(struct kerf_workload *w)
{
	kerf_pod_free(w->pod);
	free(w->kind);
	free(w->name);
	free(w->namespace_);
	memset(w, 0, sizeof(*w));
}

static void replace(char **slot, const char *s)
{
	free(*slot);
	*slot = s ? xstrdup(s) : NULL;
}

static void parse_workload(struct wl_state *st, const struct yt_node *doc,
			   const struct kind_info *ki)
{
	unsigned flags = MF_HDR_NAMESPACED;
	struct kerf_workload w;
	struct kerf_meta *pm;
	const struct yt_node *spec;
	struct mf_ctx c;
	const char *dnd;
	size_t m;

	memset(&w, 0, sizeof(w));
	w.pod = kerf_pod_new();
	w.line = doc->line;
	w.column = doc->column;
	w.replicas = 1;
	kerf_resources_init(&w.pod->requests);
	if (ki->type == WL_POD || ki->type == WL_JOB)
		flags |= MF_HDR_GENERATE_NAME;
	mf_ctx_init(&c, &st->diags, ki->kind, doc);
	/* The workload's own metadata; a Pod's is the pod's. */
	{
		struct kerf_meta *meta = kerf_meta_new();
		mf_parse_header(&c, doc, meta, flags);
		w.kind = xstrdup(ki->kind);
		w.name = xstrdup(meta->name ? meta->name : "");
		w.namespace_ = xstrdup(meta->namespace_ ? meta->namespace_ : "default");
		if (ki->type == WL_POD) {
			kerf_meta_free(w.pod->meta);
			w.pod->meta = meta;
		} else {
			kerf_meta_free(meta);
		}
	}
	pm = w.pod->meta;
	if (!(spec = enter(&c, doc, "spec", &m))) {
		mf_missing(&c, doc, "spec");
	} else {
		if (ki->type == WL_POD)
			parse_pod_spec(&c, spec, w.pod);
		else if (mf_is_map(&c, spec))
			parse_controller(&c, ki, spec, &w, &st->lim);
		mf_pop(&c, m);
	}
	if (ki->type == WL_POD)
		pod_field(&c, doc, "status", parse_pod_status, w.pod);
	/* The template pod carries the workload's identity. */
	replace(&pm->api_version, "v1");
	replace(&pm->kind, "Pod");
	replace(&pm->name, w.name);
	replace(&pm->namespace_, w.namespace_);
	if (ki->type != WL_POD) {
		replace(&pm->owner_kind, w.kind);
		replace(&pm->owner_name, w.name);
	} else {
		w.pod->daemonset = pm->owner_kind && strcmp(pm->owner_kind, "DaemonSet") == 0;
	}
	dnd = kerf_labels_get(&pm->annotations, "karpenter.sh/do-not-disrupt");
	w.pod->do_not_disrupt = dnd && strcmp(dnd, "true") == 0;
	if (!c.nerr && w.replicas > st->lim.max_pods - st->pods)
		mf_error(&c, doc,
			 "its %d pods bring the workloads to more than %lld pods "
			 "(settings.max_pods)",
			 (int)w.replicas, (long long)st->lim.max_pods);
	if (c.nerr) {
		workload_clear(&w);
	} else if (st->check_only) {
		st->pods += w.replicas;
		workload_clear(&w);
	} else {
		struct kerf_workload_list *l = st->list;
		st->pods += w.replicas;
		xgrow(l->items, st->cap_items, l->n + 1);
		l->items[l->n++] = w;
	}
	mf_ctx_clear(&c);
}

/* The "group" of an apiVersion: "" for "v1", "apps" for "apps/v1". */
static size_t group_len(const char *api)
{
	const char *slash = strchr(api, '/');

	return slash ? (size_t)(slash - api) : 0;
}

/* Groups whose workload kinds kerf knows, so a wrong version is an error. */
static bool workload_group(const char *api)
{
	static const char *const groups[] = {"", "apps", "batch", "extensions", NULL};
	size_t n = group_len(api);

	for (size_t i = 0; groups[i]; i++) {
		if (strlen(groups[i]) == n && strncmp(api, groups[i], n) == 0)
			return true;
	}
	return false;
}

static const char *scalar_field(const struct yt_node *doc, const char *key)
{
	const struct yt_node *v = mf_child(doc, key);

	return v && v->type == YT_SCALAR ? v->scalar : NULL;
}

/* The workload kind (or its typed list, *list set) named kind, or NULL. */
static const struct kind_info *find_kind(const char *kind, bool *list)
{
	for (size_t i = 0; i < N_KINDS; i++) {
		*list = strcmp(kind, kinds[i].list_kind) == 0;
		if (*list || strcmp(kind, kinds[i].kind) == 0)
			return &kinds[i];
	}
	return NULL;
}

/* A workload kind under an apiVersion that is not the one kerf reads. */
static void wrong_api(struct wl_state *st, const struct yt_node *doc, const char *kind,
		      const struct kind_info *ki)
{
	const struct yt_node *md = mf_child(doc, "metadata");
	const char *name = scalar_field(md, "name"), *ns = scalar_field(md, "namespace");
	struct mf_ctx c;
	size_t m;

	mf_ctx_init(&c, &st->diags, kind, doc);
	if (name) {
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s/%s", ns ? ns : "default", name);
		c.name = sb_detach(&sb);
	}
	m = mf_push(&c, "apiVersion");
	mf_error(&c, yt_map_get(doc, "apiVersion"), "\"%s\" is not supported: %s is %s",
		 scalar_field(doc, "apiVersion"), ki->kind, ki->api_version);
	mf_pop(&c, m);
	mf_ctx_clear(&c);
}

/*
 * One document.  Items of a typed list (PodList) may leave out apiVersion
 * and kind, which then come from the list (def).
 */
static void parse_document(struct wl_state *st, const struct yt_node *doc,
			   const struct kind_info *def, int depth)
{
	const struct kind_info *ki;
	const struct yt_node *items;
	const char *api, *kind;
	struct mf_ctx c;
	bool list;

	if (!doc || doc->type != YT_MAP)
		return;
	if (++st->objects > st->lim.max_objects) {
		if (st->objects == st->lim.max_objects + 1) {
			mf_ctx_init(&c, &st->diags, NULL, doc);
			mf_error(&c, doc,
				 "more than %lld objects in one file: the rest is not read "
				 "(split the file)",
				 (long long)st->lim.max_objects);
			mf_ctx_clear(&c);
		}
		return;
	}
	api = scalar_field(doc, "apiVersion");
	kind = scalar_field(doc, "kind");
	if (def && !api && !kind) {
		parse_workload(st, doc, def);
		return;
	}
	if (!api || !kind)
		return;
	if ((ki = find_kind(kind, &list)) != NULL) {
		if (strcmp(api, ki->api_version) != 0) {
			if (workload_group(api))
				wrong_api(st, doc, kind, ki);
			return;
		}
		if (!list) {
			parse_workload(st, doc, ki);
			return;
		}
	} else if (strcmp(api, "v1") != 0 || strcmp(kind, "List") != 0) {
		return;
	}
	if (!(items = mf_child(doc, "items")))
		return;
	mf_ctx_init(&c, &st->diags, kind, doc);
	if (depth > 4) {
		mf_error(&c, doc, "lists nested too deeply");
	} else if (mf_is_seq(&c, items)) {
		for (size_t i = 0; i < items->n; i++)
			parse_document(st, items->items[i], ki, depth + 1);
	}
	mf_ctx_clear(&c);
}

void kerf_workload_list_free(struct kerf_workload_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		workload_clear(&l->items[i]);
	free(l->items);
	free(l);
}

/*
 * Clears a caller's error for a fresh report: the fields every error has,
 * never past them, and its size stays the caller's (kerf/error.h).
 */
static void error_reset(struct kerf_error *err)
{
	uint32_t size;

	if (!err)
		return;
	size = err->size;
	memset(err, 0, offsetof(struct kerf_error, message) + sizeof(err->message));
	err->size = size;
}

int kerf_pod_count_check(int64_t n, int64_t max, const char *what, struct kerf_error *err)
{
	if (max <= 0)
		max = KERF_WORKLOAD_MAX_PODS;
	if (n < 0)
		return kerf_error_set(err, KERF_E_RANGE, "%s: %lld is negative", what, (long long)n);
	if (n > max)
		return kerf_error_set(err, KERF_E_RANGE,
				      "%s: %lld pods are more than one workload may have here: %lld",
				      what, (long long)n, (long long)max);
	return 0;
}

int kerf_workloads_parse_report(const char *name, const char *text, size_t len,
				struct kerf_workload_list **out, char **report,
				struct kerf_error *err)
{
	return kerf_workloads_parse_limited(name, text, len, NULL, out, report, err);
}

int kerf_workloads_parse_limited(const char *name, const char *text, size_t len,
				 const struct kerf_workload_limits *limits,
				 struct kerf_workload_list **out, char **report,
				 struct kerf_error *err)
{
	struct yt_stream *ys = NULL;
	/* A caller that allows more objects than a file's default documents allows those too. */
	size_t max_docs = limits && limits->max_objects > (int64_t)YT_MAX_DOCUMENTS
			      ? (size_t)limits->max_objects
			      : 0;
	int rc;

	if (report)
		*report = NULL;
	if (!out || !text)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_workloads_parse: NULL argument");
	*out = NULL;
	error_reset(err);
	if ((rc = yt_parse_string_limited(name ? name : "<input>", text, len, max_docs, &ys,
					  err)) != 0) {
		if (report && err)
			*report = xstrdup(err->message);
		return rc;
	}
	rc = mf_workloads_from_stream(ys, limits, out, report, err);
	yt_stream_free(ys);
	return rc;
}

struct mf_wl_reader {
	struct wl_state st;
};

struct mf_wl_reader *mf_wl_reader_new(const struct kerf_workload_limits *limits, bool keep)
{
	struct mf_wl_reader *r = xcalloc(1, sizeof(*r));
	struct wl_state *st = &r->st;

	st->check_only = !keep;
	st->lim.max_replicas = KERF_WORKLOAD_MAX_PODS;
	st->lim.max_pods = KERF_SIM_MAX_PODS;
	st->lim.max_objects = KERF_FILE_MAX_OBJECTS;
	if (limits) {
		if (limits->max_pods_per_workload > 0)
			st->lim.max_replicas = limits->max_pods_per_workload;
		if (limits->max_pods > 0)
			st->lim.max_pods = limits->max_pods;
		if (limits->max_objects > 0)
			st->lim.max_objects = limits->max_objects;
		st->pods = limits->pods_before > 0 ? limits->pods_before : 0;
	}
	st->list = xcalloc(1, sizeof(*st->list));
	return r;
}

void mf_wl_reader_feed(struct mf_wl_reader *r, const struct yt_stream *s)
{
	for (size_t i = 0; i < s->n; i++)
		parse_document(&r->st, s->docs[i].root, NULL, 0);
}

int mf_wl_reader_end(struct mf_wl_reader *r, struct kerf_workload_list **out, char **report,
		     struct kerf_error *err)
{
	struct wl_state st = r->st;
	struct strbuf sb;

	free(r);
	if (report)
		*report = NULL;
	if (out)
		*out = NULL;
	if (st.diags.n == 0 && out) {
		*out = st.list;
		return 0;
	}
	kerf_workload_list_free(st.list);
	if (st.diags.n == 0)
		return 0;
	if (err) {
		err->line = st.diags.items[0].line;
		err->column = st.diags.items[0].column;
		if (st.diags.n > 1)
			kerf_error_set(err, KERF_E_CONFIG, "%s (and %zu more errors)",
				       st.diags.items[0].message, st.diags.n - 1);
		else
			kerf_error_set(err, KERF_E_CONFIG, "%s", st.diags.items[0].message);
	}
	if (report) {
		sb_init(&sb);
		for (size_t i = 0; i < st.diags.n; i++)
			sb_printf(&sb, "%s\n", st.diags.items[i].message);
		*report = sb_detach(&sb);
	}
	mf_diags_clear(&st.diags);
	return KERF_E_CONFIG;
}

int mf_workloads_from_stream(const struct yt_stream *ys, const struct kerf_workload_limits *limits,
			     struct kerf_workload_list **out, char **report, struct kerf_error *err)
{
	struct mf_wl_reader *r = mf_wl_reader_new(limits, out != NULL);

	mf_wl_reader_feed(r, ys);
	return mf_wl_reader_end(r, out, report, err);
}

int kerf_workloads_parse(const char *name, const char *text, size_t len,
			 struct kerf_workload_list **out, struct kerf_error *err)
{
	return kerf_workloads_parse_report(name, text, len, out, NULL, err);
}
