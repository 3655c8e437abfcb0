/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_cluster_pdb.c - PodDisruptionBudgets (policy/v1) of the simulated
 * cluster, read from the workload files beside the workloads, and the
 * eviction API's answer to them.
 *
 * kerf_workloads_parse() skips kinds that are not workloads, so each
 * PodDisruptionBudget document is read here on its own: the file's other
 * documents are blanked line for line, which leaves the one document with
 * the positions it has in the file, so messages point into the file.
 *
 * A budget allows an eviction when, over the pods of its namespace its
 * selector picks, the healthy ones (bound and Running) exceed the number
 * that must stay: minAvailable, or the matching pods less maxUnavailable
 * (a percentage, rounded up, as the disruption controller rounds).  The
 * matching pods are counted at least at the replicas of the workloads
 * whose template the selector picks, so a pod evicted and not yet
 * replaced still counts as unavailable.  A pod that is not healthy may always be evicted:
 * taking it away makes nothing less available.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/doc.h>
#include <kerf/kerf.h>

#include "sim.h"
#include "sim_cluster_int.h"

#define PDB_MAX_BYTES (16u << 20)

/* Whether the document between [from, to) says kind: PodDisruptionBudget at its top level. */
static bool is_pdb_doc(const char *text, size_t from, size_t to)
{
	static const char key[] = "kind:";
	for (size_t i = from; i < to;) {
		size_t eol = i;
		while (eol < to && text[eol] != '\n')
			eol++;
		if (eol - i > sizeof(key) - 1 && memcmp(text + i, key, sizeof(key) - 1) == 0) {
			size_t v = i + sizeof(key) - 1, e = eol;
			while (v < e && (text[v] == ' ' || text[v] == '\t' || text[v] == '"'))
				v++;
			while (e > v && (text[e - 1] == ' ' || text[e - 1] == '\t' ||
					 text[e - 1] == '\r' || text[e - 1] == '"'))
				e--;
			return e - v == strlen("PodDisruptionBudget") &&
			       memcmp(text + v, "PodDisruptionBudget", e - v) == 0;
		}
		i = eol + 1;
	}
	return false;
}

static bool separator(const char *line, size_t n)
{
	return n >= 3 && memcmp(line, "---", 3) == 0 &&
	       (n == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

/* minAvailable / maxUnavailable: an integer, or a string "N%". */
static bool read_amount(struct kerf_decoder *dec, const struct kerf_doc_node *n, int32_t *value,
			bool *percent)
{
	const char *s = kerf_doc_scalar(n);
	int64_t v;
	if (s && kerf_doc_node_type(n) == KERF_DOC_SCALAR && strchr(s, '%')) {
		char *end;
		long pv = strtol(s, &end, 10);
		if (end == s || strcmp(end, "%") != 0 || pv < 0 || pv > 100) {
			kerf_decoder_error(dec, n, "\"%s\" is neither an integer nor a percentage",
					   s);
			return false;
		}
		*value = (int32_t)pv;
		*percent = true;
		return true;
	}
	if (!kerf_decoder_int(dec, n, &v))
		return false;
	if (v < 0 || v > INT32_MAX) {
		kerf_decoder_error(dec, n, "must be at least 0");
		return false;
	}
	*value = (int32_t)v;
	*percent = false;
	return true;
}

static void read_selector(struct kerf_decoder *dec, const struct kerf_doc_node *sel,
			  struct kerf_label_selector *out)
{
	static const char *const fields[] = {"matchExpressions", "matchLabels", NULL};
	static const char *const expr_fields[] = {"key", "operator", "values", NULL};
	static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
	const struct kerf_doc_node *v;
	size_t m;

	if (!kerf_decoder_map(dec, sel))
		return;
	kerf_decoder_known_fields(dec, sel, fields);
	if ((v = kerf_doc_get(sel, "matchLabels")) != NULL && !kerf_doc_is_null(v)) {
		m = kerf_decoder_push(dec, "matchLabels");
		kerf_decoder_string_map(dec, v, &out->match_labels);
		kerf_decoder_pop(dec, m);
	}
	if ((v = kerf_doc_get(sel, "matchExpressions")) == NULL || kerf_doc_is_null(v))
		return;
	m = kerf_decoder_push(dec, "matchExpressions");
	if (kerf_decoder_seq(dec, v)) {
		for (size_t i = 0; i < kerf_doc_size(v); i++) {
			const struct kerf_doc_node *e = kerf_doc_item(v, i), *vals;
			size_t mi = kerf_decoder_push_index(dec, i);
			char *key = NULL, *op = NULL;
			if (kerf_decoder_map(dec, e)) {
				kerf_decoder_known_fields(dec, e, expr_fields);
				if (!kerf_decoder_get_string(dec, e, "key", &key))
					kerf_decoder_missing(dec, e, "key");
				if (!kerf_decoder_get_enum(dec, e, "operator", ops, &op))
					kerf_decoder_missing(dec, e, "operator");
			}
			if (key && op) {
				struct kerf_requirement *r =
				    kerf_requirements_append(&out->match_expressions);
				r->key = key;
				key = NULL;
				r->op = strcmp(op, "In") == 0	    ? KERF_OP_IN
					: strcmp(op, "NotIn") == 0  ? KERF_OP_NOT_IN
					: strcmp(op, "Exists") == 0 ? KERF_OP_EXISTS
								    : KERF_OP_DOES_NOT_EXIST;
				vals = kerf_doc_get(e, "values");
				size_t mv = kerf_decoder_push(dec, "values");
				if (vals && !kerf_doc_is_null(vals) &&
				    kerf_decoder_seq(dec, vals)) {
					for (size_t k = 0; k < kerf_doc_size(vals); k++) {
						const char *s = kerf_decoder_string(
						    dec, kerf_doc_item(vals, k));
						if (s)
							kerf_requirement_add_value(r, s);
					}
				}
				kerf_decoder_pop(dec, mv);
			}
			free(key);
			free(op);
			kerf_decoder_pop(dec, mi);
		}
	}
	kerf_decoder_pop(dec, m);
}

static int read_pdb(struct sim_cluster *c, const struct kerf_doc *doc, struct kerf_error *err)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	static const char *const spec_fields[] = {"maxUnavailable", "minAvailable", "selector",
						  "unhealthyPodEvictionPolicy", NULL};
	const struct kerf_doc_node *root = kerf_doc_root(doc), *md, *spec, *min, *max, *sel;
	struct kerf_decoder *dec;
	struct sim_pdb *b;
	char *api = NULL;
	int rc;

	if ((rc = kerf_decoder_new("PodDisruptionBudget", root, &dec)) != 0)
		return kerf_error_set(err, rc, "sim: cannot decode a PodDisruptionBudget");
	b = c->h->calloc(c->h->ctx, 1, sizeof(*b));
	b->selector = kerf_label_selector_new();
	kerf_decoder_known_fields(dec, root, top);
	if (kerf_decoder_get_string(dec, root, "apiVersion", &api) && api &&
	    strcmp(api, "policy/v1") != 0)
		kerf_decoder_error(dec, kerf_doc_get(root, "apiVersion"),
				   "PodDisruptionBudget is served as policy/v1, not %s", api);
	free(api);
	md = kerf_doc_get(root, "metadata");
	if (md && kerf_decoder_map(dec, md)) {
		size_t m = kerf_decoder_push(dec, "metadata");
		kerf_decoder_get_string(dec, md, "name", &b->name);
		kerf_decoder_get_string(dec, md, "namespace", &b->namespace_);
		kerf_decoder_pop(dec, m);
	}
	if (!b->name)
		kerf_decoder_error(dec, md, "metadata.name: required field is missing");
	spec = kerf_doc_get(root, "spec");
	if (!spec) {
		kerf_decoder_missing(dec, root, "spec");
	} else if (kerf_decoder_map(dec, spec)) {
		size_t m = kerf_decoder_push(dec, "spec");
		kerf_decoder_known_fields(dec, spec, spec_fields);
		min = kerf_doc_get(spec, "minAvailable");
		max = kerf_doc_get(spec, "maxUnavailable");
		if (min && max) {
			kerf_decoder_error(dec, max,
					   "minAvailable and maxUnavailable cannot both be set");
		} else if (min || max) {
			size_t mm = kerf_decoder_push(dec, min ? "minAvailable" : "maxUnavailable");
			b->max_unavailable = max != NULL;
			read_amount(dec, min ? min : max, &b->value, &b->percent);
			kerf_decoder_pop(dec, mm);
		} else {
			/* The API server's default. */
			b->value = 1;
		}
		if ((sel = kerf_doc_get(spec, "selector")) != NULL && !kerf_doc_is_null(sel)) {
			size_t ms = kerf_decoder_push(dec, "selector");
			read_selector(dec, sel, b->selector);
			kerf_decoder_pop(dec, ms);
		} else {
			/* A nil selector picks no pod. */
			kerf_label_selector_free(b->selector);
			b->selector = NULL;
		}
		kerf_decoder_pop(dec, m);
	}
	rc = kerf_decoder_check(dec, err);
	kerf_decoder_free(dec);
	if (rc) {
		simc_pdb_free(c->h, b);
		return rc;
	}
	if (!b->namespace_ && (b->namespace_ = strdup("default")) == NULL)
		abort();
	PUSH(c->h, c->pdbs, c->n_pdbs, c->cap_pdbs, b);
	return 0;
}

/* Parses the document at [start, end) of text, every other line blanked. */
static int read_one(struct sim_cluster *c, const char *path, const char *text, size_t len,
		    size_t start, size_t end, struct kerf_error *err)
{
	const struct kerf_host *h = c->h;
	char *one = h->malloc(h->ctx, len + 1);
	struct kerf_doc *doc = NULL;
	int rc;

	for (size_t i = 0; i < len; i++)
		one[i] = (i >= start && i < end) || text[i] == '\n' ? text[i] : ' ';
	one[len] = '\0';
	rc = kerf_doc_parse(path, one, len, &doc, err);
	if (rc == 0)
		rc = read_pdb(c, doc, err);
	kerf_doc_free(doc);
	h->free(h->ctx, one);
	return rc;
}

int simc_pdbs_load(struct sim_cluster *c, const char *path, struct kerf_error *err)
{
	const struct kerf_host *h = c->h;
	char *text = NULL;
	size_t len = 0;
	int rc = h->read_file(h->ctx, path, PDB_MAX_BYTES, &text, &len, err);
	size_t start = 0, pos = 0;

	if (rc)
		return rc;
	while (rc == 0) {
		size_t eol = pos;
		while (eol < len && text[eol] != '\n')
			eol++;
		bool at_end = pos >= len;
		if (at_end || separator(text + pos, eol - pos)) {
			if (is_pdb_doc(text, start, pos))
				rc = read_one(c, path, text, len, start, pos, err);
			if (at_end)
				break;
			start = eol + 1;
		}
		pos = eol + 1;
	}
	h->free(h->ctx, text);
	return rc;
}

void simc_pdb_free(const struct kerf_host *h, struct sim_pdb *b)
{
	if (!b)
		return;
	free(b->name);
	free(b->namespace_);
	kerf_label_selector_free(b->selector);
	h->free(h->ctx, b);
}

static bool healthy(const struct sim_pod *sp)
{
	return sp->on && sp->pod->phase == KERF_POD_RUNNING && !sp->pod->meta->deletion_ms;
}

static bool selects(const struct sim_pdb *b, const struct kerf_pod *pod)
{
	const char *ns = pod->meta->namespace_ ? pod->meta->namespace_ : "default";
	return b->selector && strcmp(ns, b->namespace_) == 0 &&
	       kerf_label_selector_matches(b->selector, &pod->meta->labels);
}

/* How many more of its pods budget b lets go now (0: none). */
static int64_t allowed(const struct sim_cluster *c, const struct sim_pdb *b)
{
	int64_t expected = 0, up = 0, need;
	for (size_t i = 0; i < c->n_pods; i++) {
		const struct sim_pod *sp = c->pods[i];
		if (sp->pod->phase == KERF_POD_SUCCEEDED || sp->pod->phase == KERF_POD_FAILED ||
		    !selects(b, sp->pod))
			continue;
		expected++;
		up += healthy(sp);
	}
	/* The controllers' scale, as the disruption controller counts, not the pods left. */
	int64_t scale = 0;
	for (size_t i = 0; i < c->n_workloads; i++) {
		const struct sim_workload *wl = c->workloads[i];
		if (!wl->daemonset && wl->duration_ms < 0 && selects(b, wl->tmpl))
			scale += wl->replicas;
	}
	if (scale > expected)
		expected = scale;
	int64_t amount = b->percent ? (b->value * expected + 99) / 100 : b->value;
	need = b->max_unavailable ? expected - amount : amount;
	return up > need ? up - need : 0;
}

const struct sim_pdb *simc_pdb_blocking(const struct sim_cluster *c, const struct sim_pod *sp)
{
	if (!healthy(sp))
		return NULL;
	for (size_t i = 0; i < c->n_pdbs; i++)
		if (selects(c->pdbs[i], sp->pod) && allowed(c, c->pdbs[i]) == 0)
			return c->pdbs[i];
	return NULL;
}
