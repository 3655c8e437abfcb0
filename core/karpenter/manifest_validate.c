/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest_validate.c - the pieces of Karpenter's CRD validation shared by
 * the NodePool and NodeClaim readers: patterns, cron schedules, labels,
 * requirements, taints, node class references and resource lists.
 *
 * Messages follow the CEL rule messages of the v1 CRDs where there is one,
 * so that an error reads the way `kubectl apply` would print it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kerf/requirements.h>

#include "crd.h"
#include "labels.h"
#include "manifest.h"

/* ------------------------------------------------------------ patterns */

static bool is_digit_c(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* ^(([0-9]+(s|m|h))+|Never)$ and, without Never, ^([0-9]+(s|m|h))+$ */
bool mf_duration_pattern(const char *s, bool allow_never)
{
	if (allow_never && strcmp(s, "Never") == 0)
		return true;
	if (*s == '\0')
		return false;
	while (*s) {
		if (!is_digit_c(*s))
			return false;
		while (is_digit_c(*s))
			s++;
		if (*s != 's' && *s != 'm' && *s != 'h')
			return false;
		s++;
	}
	return true;
}

/* Skips [0-9]+ and returns the count. */
static size_t skip_digits(const char **s)
{
	size_t n = 0;

	while (is_digit_c(**s)) {
		(*s)++;
		n++;
	}
	return n;
}

/* ^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$ */
bool mf_budget_duration_pattern(const char *s)
{
	if (!skip_digits(&s))
		return false;
	if (*s == 'h') {
		s++;
		if (is_digit_c(*s)) {
			const char *save = s;
			skip_digits(&s);
			if (*s == 'm') {
				s++;
			} else {
				/* "1h" followed by "0s" */
				s = save;
			}
		}
	} else if (*s == 'm') {
		s++;
	} else {
		return false;
	}
	if (*s == '\0')
		return true;
	return strcmp(s, "0s") == 0;
}

/* ^((100|[0-9]{1,2})%|[0-9]+)$ */
bool mf_budget_nodes_pattern(const char *s)
{
	const char *p = s;
	size_t n = skip_digits(&p);

	if (n == 0)
		return false;
	if (*p == '\0')
		return true;
	if (strcmp(p, "%") != 0)
		return false;
	return n <= 2 || (n == 3 && strncmp(s, "100", 3) == 0);
}

/* --------------------------------------------------------------- cron */

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* index 0 is value `min` */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
					  "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_field cron_fields[5] = {
    {"minute", 0, 59, NULL},	      {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day of week", 0, 6, dow_names},
};

static bool cron_value(const struct cron_field *f, const char *s, size_t n, int *out)
{
	long v = 0;

	if (n == 0)
		return false;
	if (f->names) {
		for (int i = 0; f->names[i]; i++) {
			if (strlen(f->names[i]) == n && strncasecmp(f->names[i], s, n) == 0) {
				*out = f->min + i;
				return true;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit_c(s[i]) || v > 1000)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = (int)v;
	return true;
}

/* One comma-separated part of a field: *, ?, N, N-M, each with an optional /step. */
static bool cron_part(const struct cron_field *f, const char *s, size_t n, char *why, size_t whylen)
{
	const char *slash = memchr(s, '/', n);
	size_t rn = slash ? (size_t)(slash - s) : n;
	int lo, hi, step = 1;

	if (slash) {
		const char *st = slash + 1;
		size_t sn = n - rn - 1;
		if (memchr(st, '/', sn) ||
		    !cron_value(&(struct cron_field){"", 0, 0, NULL}, st, sn, &step) || step < 1) {
			snprintf(why, whylen, "%s: invalid step in \"%.*s\"", f->name, (int)n, s);
			return false;
		}
	}
	if ((rn == 1 && (s[0] == '*' || s[0] == '?'))) {
		return true;
	}
	const char *dash = memchr(s, '-', rn);
	if (dash) {
		size_t ln = (size_t)(dash - s);
		if (!cron_value(f, s, ln, &lo) || !cron_value(f, dash + 1, rn - ln - 1, &hi)) {
			snprintf(why, whylen, "%s: invalid range \"%.*s\"", f->name, (int)rn, s);
			return false;
		}
	} else {
		if (!cron_value(f, s, rn, &lo)) {
			snprintf(why, whylen, "%s: invalid value \"%.*s\"", f->name, (int)rn, s);
			return false;
		}
		hi = slash ? f->max : lo;
	}
	if (lo < f->min || hi > f->max || lo > hi) {
		snprintf(why, whylen, "%s: \"%.*s\" is outside %d-%d", f->name, (int)rn, s, f->min,
			 f->max);
		return false;
	}
	return true;
}

bool mf_cron_valid(const char *s, char *why, size_t whylen)
{
	static const char *const descriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
						  "@daily",  "@midnight", "@hourly"};
	const char *p = s;
	size_t nf = 0;

	why[0] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '@') {
		for (size_t i = 0; i < sizeof(descriptors) / sizeof(descriptors[0]); i++) {
			if (strcmp(s, descriptors[i]) == 0)
				return true;
		}
		snprintf(why, whylen,
			 "unknown descriptor \"%s\" (use @yearly, @annually, @monthly, @weekly, "
			 "@daily, @midnight or @hourly)",
			 s);
		return false;
	}
	if (strncmp(p, "TZ=", 3) == 0 || strncmp(p, "CRON_TZ=", 8) == 0) {
		snprintf(why, whylen, "time zones are not supported");
		return false;
	}
	while (*p) {
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (nf < 5) {
			const struct cron_field *f = &cron_fields[nf];
			const char *q = start;
			while (q < p) {
				const char *comma = memchr(q, ',', (size_t)(p - q));
				const char *end = comma ? comma : p;
				if (!cron_part(f, q, (size_t)(end - q), why, whylen))
					return false;
				q = comma ? comma + 1 : p;
				if (comma && q == p) {
					snprintf(why, whylen, "%s: empty list item", f->name);
					return false;
				}
			}
		}
		nf++;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (nf != 5) {
		snprintf(why, whylen,
			 "expected 5 fields (minute hour day-of-month month day-of-week), got %zu",
			 nf);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------- labels */

/* x.find("^([^/]+)").endsWith(domain) */
static bool domain_ends_with(const char *key, const char *domain)
{
	const char *slash = strchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : strlen(key);
	size_t m = strlen(domain);

	return n >= m && memcmp(key + n - m, domain, m) == 0;
}

/*
 * The CEL rules of the CRDs on label keys (template labels, requirement
 * keys).  `nodepool_rule`: karpenter.sh/nodepool itself is restricted
 * (NodePools), not NodeClaims.  A provider's restricted domain is its CRD's
 * rule: only the provider's well-known keys of exactly that domain pass.
 * Returns false with the rule's message in msg when one is broken.
 */
static bool cel_label_restricted(const char *key, bool nodepool_rule, char *msg, size_t len)
{
	const char *d = kc_label_declared_domain(key);
	size_t dl = d ? strlen(d) : 0;

	if (strcmp(key, "karpenter.sh/capacity-type") != 0 &&
	    strcmp(key, "karpenter.sh/nodepool") != 0 && domain_ends_with(key, "karpenter.sh"))
		snprintf(msg, len, "label domain \"karpenter.sh\" is restricted");
	else if (nodepool_rule && strcmp(key, "karpenter.sh/nodepool") == 0)
		snprintf(msg, len, "label \"karpenter.sh/nodepool\" is restricted");
	else if (strcmp(key, "kubernetes.io/hostname") == 0)
		snprintf(msg, len, "label \"kubernetes.io/hostname\" is restricted");
	else if (d &&
		 !(strncmp(key, d, dl) == 0 && key[dl] == '/' && kerf_label_is_well_known(key)))
		snprintf(msg, len, "label domain \"%s\" is restricted", d);
	else
		return true;
	return false;
}

void mf_check_template_labels(struct mf_ctx *c, const struct yt_node *map)
{
	char why[256];

	if (map->n > 100)
		mf_error(c, map, "must have at most 100 labels, got %zu", map->n);
	for (size_t i = 0; i < map->n; i++) {
		const struct yt_node *k = map->pairs[i].key;
		const struct yt_node *v = map->pairs[i].value;
		size_t m = mf_push_key(c, k->scalar);

		if (!kerf_label_key_valid(k->scalar, why, sizeof(why)))
			mf_error(c, k, "%s", why);
		else if (!cel_label_restricted(k->scalar, true, why, sizeof(why)))
			mf_error(c, k, "%s", why);
		else if (kerf_label_check_restricted(k->scalar, why, sizeof(why)))
			mf_error(c, k, "%s", why);
		if (v->type == YT_SCALAR && !yt_is_null(v) &&
		    !kerf_label_value_valid(v->scalar, why, sizeof(why)))
			mf_error(c, v, "%s", why);
		mf_pop(c, m);
	}
}

/* ------------------------------------------------------- requirements */

static const char *const op_names[] = {"In", "NotIn", "Exists", "DoesNotExist",
				       "Gt", "Lt",    "Gte",	"Lte"};

static bool parse_op(const char *s, kerf_operator *op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*op = (kerf_operator)i;
			return true;
		}
	}
	return false;
}

static bool is_nonneg_int(const char *s)
{
	const char *p = s;

	if (*p == '+')
		p++;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (!is_digit_c(*p))
			return false;
	}
	return strlen(s) < 19;
}

static void parse_requirement(struct mf_ctx *c, const struct yt_node *item, bool nodepool,
			      struct kerf_requirement *r, const struct yt_node **values_node)
{
	const char *const *fields = crd_fields(&crd_requirement);
	const struct yt_node *kn, *on, *vn, *mn;
	bool have_op = false, have_key = false;
	int64_t mv = 0;
	char why[256];
	size_t m;

	*values_node = NULL;
	if (!mf_is_map(c, item))
		return;
	mf_known_fields(c, item, fields);
	kn = mf_child(item, "key");
	on = mf_child(item, "operator");
	vn = mf_child(item, "values");
	mn = mf_child(item, "minValues");

	m = mf_push(c, "key");
	if (!kn) {
		mf_pop(c, m);
		mf_missing(c, item, "key");
	} else {
		const char *key = mf_str(c, kn);
		if (key) {
			r->key = xstrdup(key);
			have_key = true;
			if (strlen(key) > 316)
				mf_error(c, kn, "must be at most 316 characters");
			else if (!kerf_label_key_valid(key, why, sizeof(why)))
				mf_error(c, kn, "%s", why);
			else if (!cel_label_restricted(key, nodepool, why, sizeof(why)))
				mf_error(c, kn, "%s", why);
			else if ((nodepool || strcmp(key, "karpenter.sh/nodepool") != 0) &&
				 kerf_requirement_key_check_restricted(key, why, sizeof(why)))
				mf_error(c, kn, "%s", why);
		}
		mf_pop(c, m);
	}

	m = mf_push(c, "operator");
	if (!on) {
		mf_pop(c, m);
		mf_missing(c, item, "operator");
	} else {
		const char *op = mf_str(c, on);
		if (op && parse_op(op, &r->op))
			have_op = true;
		else if (op)
			mf_error(c, on,
				 "unsupported value \"%s\": supported values: \"In\", \"NotIn\", "
				 "\"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\", \"Gte\", \"Lte\"",
				 op);
		mf_pop(c, m);
	}

	m = mf_push(c, "values");
	if (vn && mf_is_seq(c, vn)) {
		*values_node = vn;
		r->values = xcalloc(vn->n ? vn->n : 1, sizeof(char *));
		for (size_t i = 0; i < vn->n; i++) {
			size_t mi = mf_push_index(c, i);
			const char *v = mf_str(c, vn->items[i]);
			if (v) {
				r->values[r->n_values++] = xstrdup(v);
				/* Gt/Lt values are integers, checked below. */
				if (!(have_op && r->op >= KERF_OP_GT) &&
				    !kerf_label_value_valid(v, why, sizeof(why)))
					mf_error(c, vn->items[i], "%s", why);
			}
			mf_pop(c, mi);
		}
	}
	mf_pop(c, m);

	m = mf_push(c, "minValues");
	if (mn && mf_int(c, mn, &mv)) {
		if (mv < 1 || mv > 50) {
			mf_error(c, mn, "minValues (%lld) must be between 1 and 50", (long long)mv);
			mv = 0;
		}
		r->min_values = (int32_t)mv;
	}
	mf_pop(c, m);

	if (!have_op)
		return;
	(void)have_key;
	switch (r->op) {
	case KERF_OP_IN:
		if (!vn || (vn->type == YT_SEQ && vn->n == 0)) {
			m = vn ? mf_push(c, "values") : 0;
			mf_error(c, vn ? vn : item,
				 "requirements with operator 'In' must have a value defined");
			if (vn)
				mf_pop(c, m);
		} else if (r->min_values > 0 && (size_t)r->min_values > r->n_values) {
			m = mf_push(c, "minValues");
			mf_error(c, mn, "minValues (%d) exceeds the number of values (%zu)",
				 (int)r->min_values, r->n_values);
			mf_pop(c, m);
		}
		break;
	case KERF_OP_EXISTS:
	case KERF_OP_DOES_NOT_EXIST:
		if (vn && vn->type == YT_SEQ && vn->n > 0) {
			m = mf_push(c, "values");
			mf_error(c, vn, "operator '%s' must not have values, got %zu",
				 op_names[r->op], vn->n);
			mf_pop(c, m);
		}
		break;
	case KERF_OP_GT:
	case KERF_OP_LT:
	case KERF_OP_GTE:
	case KERF_OP_LTE:
		if (!vn || (vn->type == YT_SEQ && vn->n != 1)) {
			m = vn ? mf_push(c, "values") : 0;
			mf_error(c, vn ? vn : item,
				 "operator '%s' requires a single non-negative integer value, got "
				 "%zu values",
				 op_names[r->op], vn ? vn->n : 0);
			if (vn)
				mf_pop(c, m);
		} else if (r->n_values == 1 && !is_nonneg_int(r->values[0])) {
			m = mf_push(c, "values");
			size_t mi = mf_push_index(c, 0);
			mf_error(c, vn->items[0],
				 "operator '%s' requires a single non-negative integer value, got "
				 "\"%s\"",
				 op_names[r->op], r->values[0]);
			mf_pop(c, mi);
			mf_pop(c, m);
		}
		break;
	case KERF_OP_NOT_IN:
		break;
	}
}

void mf_parse_requirements(struct mf_ctx *c, const struct yt_node *seq, bool nodepool,
			   struct kerf_requirements *out)
{
	if (!mf_is_seq(c, seq))
		return;
	if (seq->n > 100)
		mf_error(c, seq, "must have at most 100 items, got %zu", seq->n);
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *vn;
		size_t m = mf_push_index(c, i);
		struct kerf_requirement *r = kerf_requirements_append(out);
		parse_requirement(c, seq->items[i], nodepool, r, &vn);
		mf_pop(c, m);
	}
}

/* ------------------------------------------------------------- taints */

static bool parse_effect(const char *s, kerf_taint_effect *e)
{
	if (strcmp(s, "NoSchedule") == 0)
		*e = KERF_EFFECT_NO_SCHEDULE;
	else if (strcmp(s, "PreferNoSchedule") == 0)
		*e = KERF_EFFECT_PREFER_NO_SCHEDULE;
	else if (strcmp(s, "NoExecute") == 0)
		*e = KERF_EFFECT_NO_EXECUTE;
	else
		return false;
	return true;
}

void mf_parse_taints(struct mf_ctx *c, const struct yt_node *seq, struct kerf_taints *out)
{
	const char *const *fields = crd_fields(&crd_taint);
	char why[256];

	if (!mf_is_seq(c, seq))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *n;
		size_t mi = mf_push_index(c, i), m;
		struct kerf_taint *t;
		const char *s;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		t = kerf_taints_append(out);
		mf_known_fields(c, it, fields);
		if (!(n = mf_child(it, "key"))) {
			mf_missing(c, it, "key");
		} else {
			m = mf_push(c, "key");
			if ((s = mf_str(c, n)) != NULL) {
				t->key = xstrdup(s);
				if (!kerf_label_key_valid(s, why, sizeof(why)))
					mf_error(c, n, "%s", why);
			}
			mf_pop(c, m);
		}
		if ((n = mf_child(it, "value")) != NULL) {
			m = mf_push(c, "value");
			if ((s = mf_str(c, n)) != NULL) {
				if (*s)
					t->value = xstrdup(s);
				if (!*s)
					mf_error(c, n, "must not be empty (leave the field out)");
				else if (!kerf_label_value_valid(s, why, sizeof(why)))
					mf_error(c, n, "%s", why);
			}
			mf_pop(c, m);
		}
		if (!(n = mf_child(it, "effect"))) {
			mf_missing(c, it, "effect");
		} else {
			m = mf_push(c, "effect");
			if ((s = mf_str(c, n)) != NULL && !parse_effect(s, &t->effect))
				mf_error(c, n,
					 "unsupported value \"%s\": supported values: "
					 "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
					 s);
			mf_pop(c, m);
		}
		if ((n = mf_child(it, "timeAdded")) != NULL) {
			int64_t ms;
			m = mf_push(c, "timeAdded");
			if ((s = mf_str(c, n)) != NULL && !mf_parse_time(s, &ms))
				mf_error(c, n, "\"%s\" is not an RFC 3339 date-time", s);
			mf_pop(c, m);
		}
		mf_pop(c, mi);
	}
}

/* Key and effect of the taint item, NULL when not well formed. */
static bool taint_item(const struct yt_node *it, const char **key, const char **effect)
{
	const struct yt_node *k = mf_child(it, "key"), *e = mf_child(it, "effect");

	if (it->type != YT_MAP || !k || !e || k->type != YT_SCALAR || e->type != YT_SCALAR)
		return false;
	*key = k->scalar;
	*effect = e->scalar;
	return true;
}

void mf_check_duplicate_taints(struct mf_ctx *c, const struct yt_node *taints_node,
			       const struct yt_node *startup_node)
{
	const struct yt_node *lists[2] = {taints_node, startup_node};
	const char *names[2] = {"taints", "startupTaints"};

	for (int a = 0; a < 2; a++) {
		if (!lists[a] || lists[a]->type != YT_SEQ)
			continue;
		for (size_t i = 0; i < lists[a]->n; i++) {
			const char *k1, *e1;
			bool dup = false;
			if (!taint_item(lists[a]->items[i], &k1, &e1))
				continue;
			for (int b = 0; b <= a && !dup; b++) {
				if (!lists[b] || lists[b]->type != YT_SEQ)
					continue;
				size_t lim = b == a ? i : lists[b]->n;
				for (size_t j = 0; j < lim; j++) {
					const char *k2, *e2;
					if (taint_item(lists[b]->items[j], &k2, &e2) &&
					    strcmp(k1, k2) == 0 && strcmp(e1, e2) == 0) {
						size_t m = mf_push(c, names[a]);
						size_t mi = mf_push_index(c, i);
						mf_error(
						    c, lists[a]->items[i],
						    "duplicate taint Key/Effect pair %s=%s (also "
						    "in %s[%zu])",
						    k1, e1, names[b], j);
						mf_pop(c, mi);
						mf_pop(c, m);
						dup = true;
						break;
					}
				}
			}
		}
	}
}

/* ------------------------------------------------------ nodeClassRef */

void mf_parse_node_class_ref(struct mf_ctx *c, const struct yt_node *n,
			     struct kerf_node_class_ref *out)
{
	const char *const *fields = crd_fields(&crd_node_class_ref);
	char **slots[3] = {&out->group, &out->kind, &out->name};

	if (!mf_is_map(c, n))
		return;
	mf_known_fields(c, n, fields);
	for (int i = 0; i < 3; i++) {
		const struct yt_node *v = mf_child(n, fields[i]);
		const char *s;
		size_t m;

		if (!v) {
			mf_missing(c, n, fields[i]);
			continue;
		}
		m = mf_push(c, fields[i]);
		if ((s = mf_str(c, v)) != NULL) {
			*slots[i] = xstrdup(s);
			if (!*s)
				mf_error(c, v, "%s may not be empty", fields[i]);
			else if (i == 0 && strchr(s, '/'))
				mf_error(c, v, "must not contain '/' (a group, not an apiVersion)");
		}
		mf_pop(c, m);
	}
}

/* ------------------------------------------------------------ resources */

void mf_parse_resources(struct mf_ctx *c, const struct yt_node *n, struct kerf_resources *out,
			int64_t *nodes)
{
	if (!mf_is_map(c, n))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *k = n->pairs[i].key, *v = n->pairs[i].value;
		size_t m = mf_push(c, k->scalar);
		const char *text = mf_quantity_text(c, v);
		struct kerf_error err;
		int64_t val;

		kerf_error_clear(&err);
		if (text) {
			int scale = strcmp(k->scalar, KERF_RESOURCE_CPU) == 0 ? 3 : 0;
			if (kerf_quantity_parse(text, scale, &val, &err))
				mf_error(c, v, "%s", err.message);
			else if (nodes && strcmp(k->scalar, "nodes") == 0)
				*nodes = val;
			else if (kerf_resources_set(out, k->scalar, val, &err))
				mf_error(c, k, "%s", err.message);
		}
		mf_pop(c, m);
	}
}
