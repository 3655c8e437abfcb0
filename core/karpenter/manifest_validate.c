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

#include "manifest.h"

/* ------------------------------------------------------------ patterns */

static bool is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

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

/* (([0-9]+(\.[0-9]*)?)|(\.[0-9]+)) */
static bool skip_decimal(const char **s)
{
	size_t a = skip_digits(s);

	if (**s == '.') {
		(*s)++;
		size_t b = skip_digits(s);
		return a > 0 || b > 0;
	}
	return a > 0;
}

bool mf_quantity_pattern(const char *s)
{
	static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
					       "m",  "k",  "M",	 "G",  "T",  "P",  "E"};

	if (*s == '+' || *s == '-')
		s++;
	if (!skip_decimal(&s))
		return false;
	if (*s == '\0')
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i]) == 0)
			return true;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		return skip_decimal(&s) && *s == '\0';
	}
	return false;
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
 * (NodePools), not NodeClaims.  Returns the rule's message or NULL.
 */
static const char *cel_label_restricted(const char *key, bool nodepool_rule)
{
	if (strcmp(key, "karpenter.sh/capacity-type") != 0 &&
	    strcmp(key, "karpenter.sh/nodepool") != 0 && domain_ends_with(key, "karpenter.sh"))
		return "label domain \"karpenter.sh\" is restricted";
	if (nodepool_rule && strcmp(key, "karpenter.sh/nodepool") == 0)
		return "label \"karpenter.sh/nodepool\" is restricted";
	if (strcmp(key, "kubernetes.io/hostname") == 0)
		return "label \"kubernetes.io/hostname\" is restricted";
	if (domain_ends_with(key, "karpenter.k8s.aws") &&
	    !(strncmp(key, "karpenter.k8s.aws/", 18) == 0 && kerf_label_is_well_known(key)))
		return "label domain \"karpenter.k8s.aws\" is restricted";
	return NULL;
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
		const char *msg;

		if (!kerf_label_key_valid(k->scalar, why, sizeof(why)))
			mf_error(c, k, "%s", why);
		else if ((msg = cel_label_restricted(k->scalar, true)) != NULL)
			mf_error(c, k, "%s", msg);
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
	static const char *const fields[] = {"key", "operator", "values", "minValues", NULL};
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
		const char *msg;
		if (key) {
			r->key = xstrdup(key);
			have_key = true;
			if (strlen(key) > 316)
				mf_error(c, kn, "must be at most 316 characters");
			else if (!kerf_label_key_valid(key, why, sizeof(why)))
				mf_error(c, kn, "%s", why);
			else if ((msg = cel_label_restricted(key, nodepool)) != NULL)
				mf_error(c, kn, "%s", msg);
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
	static const char *const fields[] = {"key", "value", "effect", "timeAdded", NULL};
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
	static const char *const fields[] = {"group", "kind", "name", NULL};
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

/* ----------------------------------------------------------- conditions */

void mf_check_conditions(struct mf_ctx *c, const struct yt_node *n, bool reason_required)
{
	static const char *const fields[] = {"lastTransitionTime",
					     "message",
					     "observedGeneration",
					     "reason",
					     "status",
					     "type",
					     NULL};

	if (!mf_is_seq(c, n))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *it = n->items[i], *v;
		size_t mi = mf_push_index(c, i), m;
		const char *s;
		int64_t ms;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		mf_known_fields(c, it, fields);
		for (size_t f = 0; fields[f]; f++) {
			bool required = strcmp(fields[f], "observedGeneration") != 0 &&
					(reason_required || (strcmp(fields[f], "message") != 0 &&
							     strcmp(fields[f], "reason") != 0));
			if (!(v = mf_child(it, fields[f]))) {
				if (required)
					mf_missing(c, it, fields[f]);
				continue;
			}
			m = mf_push(c, fields[f]);
			if (strcmp(fields[f], "observedGeneration") == 0) {
				if (mf_int(c, v, &ms) && ms < 0)
					mf_error(c, v, "must be at least 0");
			} else if ((s = mf_str(c, v)) != NULL) {
				if (strcmp(fields[f], "lastTransitionTime") == 0 &&
				    !mf_parse_time(s, &ms))
					mf_error(c, v, "\"%s\" is not an RFC 3339 date-time", s);
				else if (strcmp(fields[f], "status") == 0 && strcmp(s, "True") &&
					 strcmp(s, "False") && strcmp(s, "Unknown"))
					mf_error(c, v,
						 "unsupported value \"%s\": supported values: "
						 "\"True\", \"False\", \"Unknown\"",
						 s);
				else if (strcmp(fields[f], "type") == 0 && !*s)
					mf_error(c, v, "must not be empty");
			}
			mf_pop(c, m);
		}
		mf_pop(c, mi);
	}
}

/* --------------------------------------------------------- EC2NodeClass */

/* The pattern has no anchors: `prefix[0-9a-z]+` anywhere in s. */
static bool contains_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	for (const char *p = strstr(s, prefix); p; p = strstr(p + 1, prefix)) {
		if (is_lower_alnum(p[pl]))
			return true;
	}
	return false;
}

/* ^prefix[0-9a-z]+$ */
static bool anchored_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(s, prefix, pl) != 0 || !s[pl])
		return false;
	for (s += pl; *s; s++) {
		if (!is_lower_alnum(*s))
			return false;
	}
	return true;
}

/* tags of a selector term: at most 20, no empty keys or values. */
static void term_tags(struct mf_ctx *c, const struct yt_node *term, struct kerf_labels *out)
{
	const struct yt_node *v = mf_child(term, "tags");
	size_t m;

	if (!v)
		return;
	m = mf_push(c, "tags");
	if (mf_string_map(c, v, out)) {
		if (v->n > 20)
			mf_error(c, v, "must have at most 20 tags, got %zu", v->n);
		for (size_t i = 0; i < out->n; i++) {
			if (!out->items[i]->key[0] || !out->items[i]->value[0]) {
				mf_error(c, v, "empty tag keys or values aren't supported");
				break;
			}
		}
	}
	mf_pop(c, m);
}

enum term_kind { TERM_SUBNET, TERM_SG, TERM_AMI, TERM_CR };

static void parse_terms(struct mf_ctx *c, const struct yt_node *spec, const char *field,
			enum term_kind kind, struct kerf_selector_terms *out)
{
	static const char *const subnet_fields[] = {"id", "tags", NULL};
	static const char *const sg_fields[] = {"id", "name", "tags", NULL};
	static const char *const ami_fields[] = {"alias",	 "id",	 "name", "owner",
						 "ssmParameter", "tags", NULL};
	static const char *const cr_fields[] = {"id", "instanceMatchCriteria", "ownerID", "tags",
						NULL};
	static const char *const imc[] = {"open", "targeted", NULL};
	const char *const *fields = kind == TERM_SUBNET ? subnet_fields
				    : kind == TERM_SG	? sg_fields
				    : kind == TERM_AMI	? ami_fields
							: cr_fields;
	const struct yt_node *seq = mf_child(spec, field);
	size_t m, n_id_combo = 0, n_name_combo = 0, n_alias = 0;

	if (!seq) {
		if (kind != TERM_CR)
			mf_missing(c, spec, field);
		return;
	}
	m = mf_push(c, field);
	if (!mf_is_seq(c, seq)) {
		mf_pop(c, m);
		return;
	}
	if (seq->n > 30)
		mf_error(c, seq, "must have at most 30 items, got %zu", seq->n);
	if (seq->n == 0) {
		if (kind == TERM_SUBNET)
			mf_error(c, seq, "subnetSelectorTerms cannot be empty");
		else if (kind == TERM_SG)
			mf_error(c, seq, "securityGroupSelectorTerms cannot be empty");
		else if (kind == TERM_AMI)
			mf_error(c, seq, "must have at least 1 item");
	}
	out->items = xcalloc(seq->n ? seq->n : 1, sizeof(*out->items));
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *v;
		size_t mi = mf_push_index(c, i), mf;
		struct kerf_selector_term *t;
		bool has_tags, has_id, has_name, has_alias, has_owner, has_ssm, has_imc, has_oid;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		t = &out->items[out->n++];
		mf_known_fields(c, it, fields);
		term_tags(c, it, &t->tags);
		has_tags = mf_child(it, "tags") != NULL;
		has_id = (v = mf_get_string(c, it, "id", &t->id)) != NULL;
		if (has_id && t->id) {
			mf = mf_push(c, "id");
			if (kind == TERM_SUBNET && !contains_id(t->id, "subnet-"))
				mf_error(c, v, "\"%s\" does not match the pattern subnet-[0-9a-z]+",
					 t->id);
			else if (kind == TERM_SG && !contains_id(t->id, "sg-"))
				mf_error(c, v, "\"%s\" does not match the pattern sg-[0-9a-z]+",
					 t->id);
			else if (kind == TERM_AMI && !contains_id(t->id, "ami-"))
				mf_error(c, v, "\"%s\" does not match the pattern ami-[0-9a-z]+",
					 t->id);
			else if (kind == TERM_CR && !anchored_id(t->id, "cr-"))
				mf_error(c, v, "\"%s\" does not match the pattern ^cr-[0-9a-z]+$",
					 t->id);
			mf_pop(c, mf);
		}
		has_name = kind != TERM_SUBNET && kind != TERM_CR &&
			   mf_get_string(c, it, "name", &t->name) != NULL;
		has_owner = kind == TERM_AMI && mf_get_string(c, it, "owner", &t->owner) != NULL;
		has_ssm = kind == TERM_AMI &&
			  mf_get_string(c, it, "ssmParameter", &t->ssm_parameter) != NULL;
		has_alias = false;
		if (kind == TERM_AMI && (v = mf_get_string(c, it, "alias", &t->alias)) != NULL) {
			has_alias = true;
			n_alias++;
			if (t->alias) {
				static const char *const fams[] = {"al2",	   "al2023",
								   "bottlerocket", "windows2019",
								   "windows2022",  "windows2025"};
				const char *at = strchr(t->alias, '@');
				size_t fl = at ? (size_t)(at - t->alias) : 0;
				bool fam_ok = false, fmt_ok = at && fl > 0 && at[1];
				for (size_t k = 0; k < fl && fmt_ok; k++)
					fmt_ok = isalnum((unsigned char)t->alias[k]);
				size_t fam_len = at ? fl : strlen(t->alias);
				for (size_t k = 0; k < 6 && !fam_ok; k++)
					fam_ok = strlen(fams[k]) == fam_len &&
						 strncmp(fams[k], t->alias, fam_len) == 0;
				mf = mf_push(c, "alias");
				if (strlen(t->alias) > 30)
					mf_error(c, v, "must be at most 30 characters");
				else if (!fmt_ok)
					mf_error(c, v,
						 "'alias' is improperly formatted, must match the "
						 "format 'family@version'");
				else if (!fam_ok)
					mf_error(c, v,
						 "family is not supported, must be one of the "
						 "following: 'al2', 'al2023', 'bottlerocket', "
						 "'windows2019', 'windows2022', 'windows2025'");
				else if (strncmp(t->alias, "windows", 7) == 0 &&
					 strcmp(at + 1, "latest") != 0)
					mf_error(
					    c, v,
					    "windows families may only specify version 'latest'");
				mf_pop(c, mf);
			}
		}
		has_imc = kind == TERM_CR && mf_get_enum(c, it, "instanceMatchCriteria", imc,
						      &t->instance_match_criteria) != NULL;
		has_oid = false;
		if (kind == TERM_CR && (v = mf_get_string(c, it, "ownerID", &t->owner_id)) != NULL) {
			has_oid = true;
			if (t->owner_id) {
				bool ok = strlen(t->owner_id) == 12;
				for (size_t k = 0; ok && k < 12; k++)
					ok = is_digit_c(t->owner_id[k]);
				mf = mf_push(c, "ownerID");
				if (!ok)
					mf_error(c, v, "\"%s\" must be a 12-digit account ID",
						 t->owner_id);
				mf_pop(c, mf);
			}
		}
		switch (kind) {
		case TERM_SUBNET:
			if (!has_tags && !has_id)
				mf_error(c, it, "expected at least one, got none, ['tags', 'id']");
			if (has_id && has_tags)
				n_id_combo++;
			break;
		case TERM_SG:
			if (!has_tags && !has_id && !has_name)
				mf_error(c, it,
					 "expected at least one, got none, ['tags', 'id', 'name']");
			if (has_id && (has_tags || has_name))
				n_id_combo++;
			if (has_name && (has_tags || has_id))
				n_name_combo++;
			break;
		case TERM_AMI:
			if (!has_tags && !has_id && !has_name && !has_alias && !has_ssm)
				mf_error(c, it,
					 "expected at least one, got none, ['tags', 'id', 'name', "
					 "'alias', 'ssmParameter']");
			if (has_id && (has_alias || has_tags || has_name || has_owner))
				mf_error(c, it,
					 "'id' is mutually exclusive, cannot be set with a "
					 "combination of other fields in amiSelectorTerms");
			if (has_alias && (has_id || has_tags || has_name || has_owner))
				mf_error(c, it,
					 "'alias' is mutually exclusive, cannot be set with a "
					 "combination of other fields in amiSelectorTerms");
			break;
		case TERM_CR:
			if (!has_tags && !has_id && !has_imc)
				mf_error(c, it,
					 "expected at least one, got none, ['tags', 'id', "
					 "'instanceMatchCriteria']");
			if (has_id && (has_tags || has_oid || has_imc))
				n_id_combo++;
			break;
		}
		mf_pop(c, mi);
	}
	/*
	 * The CRD writes these exclusions as !self.all(...): they only fail when
	 * every term combines the fields.  kerf applies them as Karpenter does.
	 */
	if (seq->n > 0 && n_id_combo == seq->n) {
		if (kind == TERM_SUBNET)
			mf_error(c, seq,
				 "'id' is mutually exclusive, cannot be set with a combination of "
				 "other fields in a subnet selector term");
		else if (kind == TERM_SG)
			mf_error(c, seq,
				 "'id' is mutually exclusive, cannot be set with a combination of "
				 "other fields in a security group selector term");
		else if (kind == TERM_CR)
			mf_error(
			    c, seq,
			    "'id' is mutually exclusive, cannot be set along with other fields "
			    "in a capacity reservation selector term");
	}
	if (kind == TERM_SG && seq->n > 0 && n_name_combo == seq->n)
		mf_error(c, seq,
			 "'name' is mutually exclusive, cannot be set with a combination of other "
			 "fields in a security group selector term");
	if (kind == TERM_AMI && n_alias > 0 && seq->n != 1)
		mf_error(c, seq,
			 "'alias' is mutually exclusive, cannot be set with a combination of other "
			 "amiSelectorTerms");
	mf_pop(c, m);
}

static const char *const eviction_signals[] = {"memory.available",
					       "nodefs.available",
					       "nodefs.inodesFree",
					       "imagefs.available",
					       "imagefs.inodesFree",
					       "pid.available",
					       NULL};

/* ^((\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)%||<quantity>)$ */
static bool eviction_value_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (s[n - 1] == '%') {
		const char *p = s;
		size_t a = skip_digits(&p), b = 0;
		if (*p == '.') {
			p++;
			b = skip_digits(&p);
			if (b == 0 || b > 2)
				return false;
		}
		if (p != s + n - 1 || a == 0)
			return false;
		if (a <= 2)
			return true;
		if (a == 3 && strncmp(s, "100", 3) == 0) {
			for (size_t k = 4; k < 4 + b; k++) {
				if (s[k] != '0')
					return false;
			}
			return true;
		}
		return false;
	}
	return mf_quantity_pattern(s);
}

static void eviction_map(struct mf_ctx *c, const struct yt_node *kub, const char *field,
			 bool values_are_thresholds, struct kerf_labels *out)
{
	const struct yt_node *v = mf_child(kub, field);
	size_t m;

	if (!v)
		return;
	m = mf_push(c, field);
	if (mf_string_map(c, v, out)) {
		bool keys_ok = true;
		for (size_t i = 0; i < v->n; i++) {
			const struct yt_node *k = v->pairs[i].key, *val = v->pairs[i].value;
			bool known = false;
			for (size_t j = 0; eviction_signals[j] && !known; j++)
				known = strcmp(k->scalar, eviction_signals[j]) == 0;
			if (!known)
				keys_ok = false;
			if (values_are_thresholds && val->type == YT_SCALAR &&
			    !eviction_value_ok(val->scalar)) {
				size_t mk = mf_push_key(c, k->scalar);
				mf_error(
				    c, val,
				    "invalid threshold \"%s\": use a percentage (\"10%%\") or a "
				    "quantity (\"100Mi\")",
				    val->scalar);
				mf_pop(c, mk);
			}
			if (!values_are_thresholds && val->type == YT_SCALAR) {
				int64_t ms;
				struct kerf_error err = KERF_ERROR_INIT;
				size_t mk = mf_push_key(c, k->scalar);
				if (kerf_duration_parse(val->scalar, false, &ms, &err))
					mf_error(c, val, "%s", err.message);
				mf_pop(c, mk);
			}
		}
		if (!keys_ok)
			mf_error(c, v,
				 "valid keys for %s are ['memory.available','nodefs.available',"
				 "'nodefs.inodesFree','imagefs.available','imagefs.inodesFree',"
				 "'pid.available']",
				 field);
	}
	mf_pop(c, m);
}

static void reserved_map(struct mf_ctx *c, const struct yt_node *kub, const char *field,
			 struct kerf_resources *out)
{
	const struct yt_node *v = mf_child(kub, field);
	size_t m;

	if (!v)
		return;
	m = mf_push(c, field);
	if (mf_is_map(c, v)) {
		bool keys_ok = true;
		for (size_t i = 0; i < v->n; i++) {
			const struct yt_node *k = v->pairs[i].key, *val = v->pairs[i].value;
			const char *s;
			size_t mk;
			if (strcmp(k->scalar, "cpu") && strcmp(k->scalar, "memory") &&
			    strcmp(k->scalar, "ephemeral-storage") && strcmp(k->scalar, "pid"))
				keys_ok = false;
			mk = mf_push_key(c, k->scalar);
			if ((s = mf_str(c, val)) != NULL) {
				struct kerf_error err;
				int64_t q;
				kerf_error_clear(&err);
				if (s[0] == '-')
					mf_error(c, val,
						 "%s value cannot be a negative resource quantity",
						 field);
				else if (!mf_quantity_pattern(s) ||
					 kerf_quantity_parse(s, strcmp(k->scalar, "cpu") ? 0 : 3,
							     &q, &err))
					mf_error(c, val, "%s",
						 err.message[0] ? err.message : "invalid quantity");
				else
					kerf_resources_set(out, k->scalar, q, NULL);
			}
			mf_pop(c, mk);
		}
		if (!keys_ok)
			mf_error(c, v,
				 "valid keys for %s are ['cpu','memory','ephemeral-storage','pid']",
				 field);
	}
	mf_pop(c, m);
}

static void parse_kubelet(struct mf_ctx *c, const struct yt_node *k, struct kerf_kubelet *out)
{
	static const char *const fields[] = {"clusterDNS",
					     "cpuCFSQuota",
					     "evictionHard",
					     "evictionMaxPodGracePeriod",
					     "evictionSoft",
					     "evictionSoftGracePeriod",
					     "imageGCHighThresholdPercent",
					     "imageGCLowThresholdPercent",
					     "kubeReserved",
					     "maxPods",
					     "podsPerCore",
					     "systemReserved",
					     NULL};
	const struct yt_node *v, *soft, *grace;
	int64_t x;
	bool b;
	size_t m;

	if (!mf_is_map(c, k))
		return;
	mf_known_fields(c, k, fields);
	if ((v = mf_child(k, "clusterDNS")) != NULL) {
		m = mf_push(c, "clusterDNS");
		if (mf_is_seq(c, v)) {
			out->cluster_dns = xcalloc(v->n ? v->n : 1, sizeof(char *));
			for (size_t i = 0; i < v->n; i++) {
				size_t mi = mf_push_index(c, i);
				const char *s = mf_str(c, v->items[i]);
				if (s)
					out->cluster_dns[out->n_cluster_dns++] = xstrdup(s);
				mf_pop(c, mi);
			}
		}
		mf_pop(c, m);
	}
	if (mf_get_bool(c, k, "cpuCFSQuota", &b))
		out->cpu_cfs_quota_set = b ? 1 : 0;
	eviction_map(c, k, "evictionHard", true, &out->eviction_hard);
	eviction_map(c, k, "evictionSoft", true, &out->eviction_soft);
	eviction_map(c, k, "evictionSoftGracePeriod", false, &out->eviction_soft_grace_period);
	if (mf_get_int(c, k, "evictionMaxPodGracePeriod", INT32_MIN, INT32_MAX, &x))
		out->eviction_max_pod_grace_period = (int32_t)x;
	if (mf_get_int(c, k, "imageGCHighThresholdPercent", 0, 100, &x))
		out->image_gc_high_threshold_percent = (int32_t)x;
	if (mf_get_int(c, k, "imageGCLowThresholdPercent", 0, 100, &x))
		out->image_gc_low_threshold_percent = (int32_t)x;
	reserved_map(c, k, "kubeReserved", &out->kube_reserved);
	reserved_map(c, k, "systemReserved", &out->system_reserved);
	if (mf_get_int(c, k, "maxPods", 0, INT32_MAX, &x))
		out->max_pods = (int32_t)x;
	if (mf_get_int(c, k, "podsPerCore", 0, INT32_MAX, &x))
		out->pods_per_core = (int32_t)x;
	if (out->image_gc_high_threshold_percent >= 0 && out->image_gc_low_threshold_percent >= 0 &&
	    out->image_gc_high_threshold_percent <= out->image_gc_low_threshold_percent)
		mf_error(c, mf_child(k, "imageGCHighThresholdPercent"),
			 "imageGCHighThresholdPercent must be greater than "
			 "imageGCLowThresholdPercent");
	soft = mf_child(k, "evictionSoft");
	grace = mf_child(k, "evictionSoftGracePeriod");
	if (soft && soft->type == YT_MAP) {
		for (size_t i = 0; i < soft->n; i++) {
			if (!grace || !mf_child(grace, soft->pairs[i].key->scalar)) {
				mf_error(c, soft->pairs[i].key,
					 "evictionSoft OwnerKey does not have a matching "
					 "evictionSoftGracePeriod");
				break;
			}
		}
	}
	if (grace && grace->type == YT_MAP) {
		for (size_t i = 0; i < grace->n; i++) {
			if (!soft || !mf_child(soft, grace->pairs[i].key->scalar)) {
				mf_error(
				    c, grace->pairs[i].key,
				    "evictionSoftGracePeriod OwnerKey does not have a matching "
				    "evictionSoft");
				break;
			}
		}
	}
}

/* volumeSize: 1-59000Gi, 1-64000G, and the CRD's Ti/T alternatives. */
static bool volume_size_pattern(const char *s)
{
	const char *p = s;
	size_t n = skip_digits(&p);
	long v = n && n <= 6 ? strtol(s, NULL, 10) : -1;

	if (n > 0 && s[0] == '0')
		return false;
	if (strcmp(p, "Gi") == 0)
		return v >= 1 && v <= 59000;
	if (strcmp(p, "G") == 0)
		return v >= 1 && v <= 64000;
	if (strcmp(p, "Ti") == 0)
		return n == 0 || (v >= 1 && v <= 9) || v == 58 ||
		       (n == 2 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '7');
	if (strcmp(p, "T") == 0)
		return n == 0 || (v >= 1 && v <= 64);
	return false;
}

static void parse_block_devices(struct mf_ctx *c, const struct yt_node *seq,
				struct kerf_ec2_node_class *e)
{
	static const char *const fields[] = {"deviceName", "ebs", "rootVolume", NULL};
	static const char *const ebs_fields[] = {"deleteOnTermination",
						 "encrypted",
						 "iops",
						 "kmsKeyID",
						 "snapshotID",
						 "throughput",
						 "volumeInitializationRate",
						 "volumeSize",
						 "volumeType",
						 NULL};
	static const char *const vtypes[] = {"standard", "io1", "io2", "gp2",
					     "sc1",	 "st1", "gp3", NULL};
	size_t roots = 0;

	if (!mf_is_seq(c, seq))
		return;
	if (seq->n > 50)
		mf_error(c, seq, "must have at most 50 items, got %zu", seq->n);
	e->block_device_mappings = xcalloc(seq->n ? seq->n : 1, sizeof(*e->block_device_mappings));
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i], *ebs, *v;
		size_t mi = mf_push_index(c, i), m;
		struct kerf_block_device_mapping *b;
		int64_t x;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		b = &e->block_device_mappings[e->n_block_device_mappings++];
		mf_known_fields(c, it, fields);
		mf_get_string(c, it, "deviceName", &b->device_name);
		if (mf_get_bool(c, it, "rootVolume", &b->root_volume) && b->root_volume)
			roots++;
		if ((ebs = mf_child(it, "ebs")) != NULL) {
			m = mf_push(c, "ebs");
			if (mf_is_map(c, ebs)) {
				mf_known_fields(c, ebs, ebs_fields);
				b->has_delete_on_termination = mf_get_bool(
				    c, ebs, "deleteOnTermination", &b->delete_on_termination);
				b->has_encrypted = mf_get_bool(c, ebs, "encrypted", &b->encrypted);
				if (mf_get_int(c, ebs, "iops", INT64_MIN, INT64_MAX, &x))
					b->iops = x;
				if (mf_get_int(c, ebs, "throughput", INT64_MIN, INT64_MAX, &x))
					b->throughput = x;
				if (mf_get_int(c, ebs, "volumeInitializationRate", 100, 300, &x))
					b->volume_initialization_rate = (int32_t)x;
				mf_get_string(c, ebs, "kmsKeyID", &b->kms_key_id);
				mf_get_string(c, ebs, "snapshotID", &b->snapshot_id);
				mf_get_enum(c, ebs, "volumeType", vtypes, &b->volume_type);
				if ((v = mf_child(ebs, "volumeSize")) != NULL) {
					size_t mv = mf_push(c, "volumeSize");
					const char *s = mf_str(c, v);
					struct kerf_error err;
					kerf_error_clear(&err);
					if (s && !volume_size_pattern(s))
						mf_error(c, v,
							 "invalid volume size \"%s\": use 1Gi to "
							 "59000Gi, 1G to 64000G, or the Ti/T "
							 "equivalents",
							 s);
					else if (s && kerf_quantity_parse(
							  s, 0, &b->volume_size_bytes, &err))
						mf_error(c, v, "%s", err.message);
					mf_pop(c, mv);
				}
				if (!mf_child(ebs, "snapshotID") && !mf_child(ebs, "volumeSize"))
					mf_error(c, ebs,
						 "snapshotID or volumeSize must be defined");
				if (mf_child(ebs, "volumeInitializationRate") &&
				    (!b->snapshot_id || !b->snapshot_id[0]))
					mf_error(c, ebs,
						 "snapshotID must be set when "
						 "volumeInitializationRate is set");
			}
			mf_pop(c, m);
		}
		mf_pop(c, mi);
	}
	if (roots > 1)
		mf_error(c, seq, "must have only one blockDeviceMappings with rootVolume");
}

static void parse_network_interfaces(struct mf_ctx *c, const struct yt_node *seq,
				     struct kerf_ec2_node_class *e)
{
	static const char *const fields[] = {"deviceIndex", "interfaceType", "networkCardIndex",
					     NULL};
	static const char *const types[] = {"interface", "efa-only", NULL};
	bool primary = false;

	if (!mf_is_seq(c, seq))
		return;
	if (seq->n > 150)
		mf_error(c, seq, "must have at most 150 items, got %zu", seq->n);
	e->network_interfaces = xcalloc(seq->n ? seq->n : 1, sizeof(*e->network_interfaces));
	for (size_t i = 0; i < seq->n; i++) {
		const struct yt_node *it = seq->items[i];
		size_t mi = mf_push_index(c, i);
		struct kerf_network_interface *ni;
		char *type = NULL;
		int64_t x;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		ni = &e->network_interfaces[e->n_network_interfaces++];
		mf_known_fields(c, it, fields);
		for (size_t f = 0; fields[f]; f++) {
			if (!mf_child(it, fields[f]))
				mf_missing(c, it, fields[f]);
		}
		if (mf_get_int(c, it, "deviceIndex", 0, INT32_MAX, &x))
			ni->device_index = (int32_t)x;
		if (mf_get_int(c, it, "networkCardIndex", 0, INT32_MAX, &x))
			ni->network_card_index = (int32_t)x;
		mf_get_enum(c, it, "interfaceType", types, &type);
		ni->efa_only = type && strcmp(type, "efa-only") == 0;
		if (type && !ni->efa_only && ni->device_index == 0 && ni->network_card_index == 0)
			primary = true;
		free(type);
		mf_pop(c, mi);
	}
	if (seq->n > 0 && !primary)
		mf_error(c, seq,
			 "networkInterfaces must include a primary interface with "
			 "interfaceType='interface'");
	for (size_t i = 0; i < e->n_network_interfaces; i++) {
		const struct kerf_network_interface *a = &e->network_interfaces[i];
		bool bad = false;
		for (size_t j = 0; j < e->n_network_interfaces && !bad; j++) {
			const struct kerf_network_interface *b = &e->network_interfaces[j];
			if (i == j || a->network_card_index != b->network_card_index)
				continue;
			bad = a->device_index == b->device_index || (a->efa_only && b->efa_only);
		}
		if (bad) {
			mf_error(c, seq,
				 "networkInterfaces must not have duplicate networkCardIndex and "
				 "deviceIndex pairs, and can have at most one efa device per "
				 "network card");
			break;
		}
	}
}

static void parse_ec2_tags(struct mf_ctx *c, const struct yt_node *spec,
			   struct kerf_ec2_node_class *e)
{
	const struct yt_node *v = mf_child(spec, "tags");
	size_t m;

	if (!v)
		return;
	m = mf_push(c, "tags");
	if (mf_string_map(c, v, &e->tags)) {
		for (size_t i = 0; i < v->n; i++) {
			const struct yt_node *k = v->pairs[i].key;
			const char *key = k->scalar;
			size_t mk = mf_push_key(c, key);
			if (!*key)
				mf_error(c, k, "empty tag keys aren't supported");
			else if (strcmp(key, "eks:eks-cluster-name") == 0)
				mf_error(
				    c, k,
				    "tag contains a restricted tag matching eks:eks-cluster-name");
			else if (strncmp(key, "kubernetes.io/cluster", 21) == 0)
				mf_error(c, k,
					 "tag contains a restricted tag matching "
					 "kubernetes.io/cluster/");
			else if (strcmp(key, "karpenter.sh/nodepool") == 0 ||
				 strcmp(key, "karpenter.sh/nodeclaim") == 0 ||
				 strcmp(key, "karpenter.k8s.aws/ec2nodeclass") == 0)
				mf_error(c, k, "tag contains a restricted tag matching %s", key);
			mf_pop(c, mk);
		}
	}
	mf_pop(c, m);
}

/* amiFamily for an alias family ("al2023" -> "AL2023"), or NULL. */
static const char *alias_family(const char *alias)
{
	static const char *const map[][2] = {
	    {"al2", "AL2"},
	    {"al2023", "AL2023"},
	    {"bottlerocket", "Bottlerocket"},
	    {"windows2019", "Windows2019"},
	    {"windows2022", "Windows2022"},
	    {"windows2025", "Windows2025"},
	};
	const char *at = strchr(alias, '@');
	size_t n = at ? (size_t)(at - alias) : strlen(alias);

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i][0]) == n && strncmp(alias, map[i][0], n) == 0)
			return map[i][1];
	}
	return NULL;
}

void mf_parse_ec2_spec(struct mf_ctx *c, const struct yt_node *spec, struct kerf_ec2_node_class *e)
{
	static const char *const fields[] = {"amiFamily",
					     "amiSelectorTerms",
					     "associatePublicIPAddress",
					     "blockDeviceMappings",
					     "capacityReservationSelectorTerms",
					     "connectionTracking",
					     "context",
					     "cpuOptions",
					     "detailedMonitoring",
					     "instanceProfile",
					     "instanceStorePolicy",
					     "ipPrefixCount",
					     "kubelet",
					     "metadataOptions",
					     "networkInterfaces",
					     "placementGroupSelector",
					     "role",
					     "securityGroupSelectorTerms",
					     "subnetSelectorTerms",
					     "tags",
					     "userData",
					     NULL};
	static const char *const families[] = {"AL2",	      "AL2023",	     "Bottlerocket",
					       "Custom",      "Windows2019", "Windows2022",
					       "Windows2025", NULL};
	static const char *const raid[] = {"RAID0", NULL};
	static const char *const en_dis[] = {"enabled", "disabled", NULL};
	static const char *const tokens[] = {"required", "optional", NULL};
	const struct yt_node *v, *role, *prof, *fam_node;
	const char *alias = NULL;
	int64_t x;
	bool b;
	size_t m;

	if (!mf_is_map(c, spec))
		return;
	mf_known_fields(c, spec, fields);
	parse_terms(c, spec, "subnetSelectorTerms", TERM_SUBNET, &e->subnet_selector_terms);
	parse_terms(c, spec, "securityGroupSelectorTerms", TERM_SG,
		    &e->security_group_selector_terms);
	parse_terms(c, spec, "amiSelectorTerms", TERM_AMI, &e->ami_selector_terms);
	parse_terms(c, spec, "capacityReservationSelectorTerms", TERM_CR,
		    &e->capacity_reservation_selector_terms);
	fam_node = mf_get_enum(c, spec, "amiFamily", families, &e->ami_family);

	role = mf_get_string(c, spec, "role", &e->role);
	if (role && e->role && !e->role[0]) {
		m = mf_push(c, "role");
		mf_error(c, role, "role cannot be empty");
		mf_pop(c, m);
	}
	prof = mf_get_string(c, spec, "instanceProfile", &e->instance_profile);
	if (prof && e->instance_profile && !e->instance_profile[0]) {
		m = mf_push(c, "instanceProfile");
		mf_error(c, prof, "instanceProfile cannot be empty");
		mf_pop(c, m);
	}
	if (!!role == !!prof)
		mf_error(c, role ? role : spec,
			 "must specify exactly one of ['role', 'instanceProfile']");

	mf_get_string(c, spec, "userData", &e->user_data);
	mf_get_string(c, spec, "context", &e->context);
	parse_ec2_tags(c, spec, e);
	if ((v = mf_child(spec, "kubelet")) != NULL) {
		m = mf_push(c, "kubelet");
		e->has_kubelet = true;
		parse_kubelet(c, v, &e->kubelet);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "blockDeviceMappings")) != NULL) {
		m = mf_push(c, "blockDeviceMappings");
		parse_block_devices(c, v, e);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "metadataOptions")) != NULL) {
		static const char *const mo_fields[] = {"httpEndpoint", "httpProtocolIPv6",
							"httpPutResponseHopLimit", "httpTokens",
							NULL};
		m = mf_push(c, "metadataOptions");
		if (mf_is_map(c, v)) {
			mf_known_fields(c, v, mo_fields);
			mf_get_enum(c, v, "httpEndpoint", en_dis, &e->http_endpoint);
			mf_get_enum(c, v, "httpProtocolIPv6", en_dis, &e->http_protocol_ipv6);
			mf_get_enum(c, v, "httpTokens", tokens, &e->http_tokens);
			if (mf_get_int(c, v, "httpPutResponseHopLimit", 1, 64, &x))
				e->http_put_response_hop_limit = (int32_t)x;
		}
		mf_pop(c, m);
	}
	if (mf_get_bool(c, spec, "associatePublicIPAddress", &b))
		e->associate_public_ip_address = b ? 1 : 0;
	mf_get_bool(c, spec, "detailedMonitoring", &e->detailed_monitoring);
	mf_get_enum(c, spec, "instanceStorePolicy", raid, &e->instance_store_policy);
	if (mf_get_int(c, spec, "ipPrefixCount", 0, INT32_MAX, &x))
		e->ip_prefix_count = (int32_t)x;
	if ((v = mf_child(spec, "connectionTracking")) != NULL) {
		static const char *const ct_fields[] = {"tcpEstablishedTimeout", "udpStreamTimeout",
							"udpTimeout", NULL};
		m = mf_push(c, "connectionTracking");
		if (mf_is_map(c, v)) {
			mf_known_fields(c, v, ct_fields);
			if (mf_get_int(c, v, "tcpEstablishedTimeout", 60, 432000, &x))
				e->tcp_established_timeout = (int32_t)x;
			if (mf_get_int(c, v, "udpStreamTimeout", 60, 180, &x))
				e->udp_stream_timeout = (int32_t)x;
			if (mf_get_int(c, v, "udpTimeout", 30, 60, &x))
				e->udp_timeout = (int32_t)x;
			if (!mf_child(v, "tcpEstablishedTimeout") &&
			    !mf_child(v, "udpStreamTimeout") && !mf_child(v, "udpTimeout"))
				mf_error(c, v,
					 "at least one of tcpEstablishedTimeout, udpStreamTimeout, "
					 "or udpTimeout must be set");
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "cpuOptions")) != NULL) {
		static const char *const cpu_fields[] = {"nestedVirtualization", NULL};
		m = mf_push(c, "cpuOptions");
		if (mf_is_map(c, v)) {
			mf_known_fields(c, v, cpu_fields);
			mf_get_enum(c, v, "nestedVirtualization", en_dis, &e->nested_virtualization);
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "networkInterfaces")) != NULL) {
		m = mf_push(c, "networkInterfaces");
		parse_network_interfaces(c, v, e);
		mf_pop(c, m);
	}
	if ((v = mf_child(spec, "placementGroupSelector")) != NULL) {
		static const char *const pg_fields[] = {"id", "name", NULL};
		m = mf_push(c, "placementGroupSelector");
		if (mf_is_map(c, v)) {
			const struct yt_node *id, *name;
			mf_known_fields(c, v, pg_fields);
			id = mf_get_string(c, v, "id", &e->placement_group_id);
			name = mf_get_string(c, v, "name", &e->placement_group_name);
			if (id && e->placement_group_id &&
			    !anchored_id(e->placement_group_id, "pg-")) {
				size_t mi = mf_push(c, "id");
				mf_error(c, id, "\"%s\" does not match the pattern ^pg-[0-9a-z]+$",
					 e->placement_group_id);
				mf_pop(c, mi);
			}
			if (name && e->placement_group_name && !e->placement_group_name[0]) {
				size_t mi = mf_push(c, "name");
				mf_error(c, name, "must not be empty");
				mf_pop(c, mi);
			}
			if (!id && !name)
				mf_error(c, v, "expected at least one, got none, ['name', 'id']");
			if (id && name)
				mf_error(c, v, "'name' and 'id' are mutually exclusive");
		}
		mf_pop(c, m);
	}

	/* Cross-field rules on amiFamily and aliases. */
	for (size_t i = 0; i < e->ami_selector_terms.n; i++) {
		if (e->ami_selector_terms.items[i].alias)
			alias = e->ami_selector_terms.items[i].alias;
	}
	if (alias && e->ami_family) {
		const char *want = alias_family(alias);
		if (want && strcmp(e->ami_family, "Custom") != 0 &&
		    strcmp(e->ami_family, want) != 0) {
			m = mf_push(c, "amiFamily");
			mf_error(
			    c, fam_node,
			    "if set, amiFamily must be '%s' or 'Custom' when using %s %s alias",
			    want, want[0] == 'A' ? "an" : "a", want);
			mf_pop(c, m);
		}
	}
	if (!alias && !fam_node && mf_child(spec, "amiSelectorTerms"))
		mf_error(c, mf_child(spec, "amiSelectorTerms"),
			 "must specify amiFamily if amiSelectorTerms does not contain an alias");
	if (alias && !e->ami_family) {
		const char *fam = alias_family(alias);
		if (fam)
			e->ami_family = xstrdup(fam);
	}
}

/* A list of mappings with known fields (status lists): shape checks only. */
static void status_list(struct mf_ctx *c, const struct yt_node *st, const char *field,
			const char *const *fields)
{
	const struct yt_node *v = mf_child(st, field);
	size_t m;

	if (!v)
		return;
	m = mf_push(c, field);
	if (mf_is_seq(c, v)) {
		for (size_t i = 0; i < v->n; i++) {
			size_t mi = mf_push_index(c, i);
			if (mf_is_map(c, v->items[i]))
				mf_known_fields(c, v->items[i], fields);
			mf_pop(c, mi);
		}
	}
	mf_pop(c, m);
}

void mf_check_ec2_status(struct mf_ctx *c, const struct yt_node *st)
{
	static const char *const fields[] = {"amis",
					     "capacityReservations",
					     "conditions",
					     "instanceProfile",
					     "securityGroups",
					     "subnets",
					     NULL};
	static const char *const ami[] = {"deprecated", "id", "name", "requirements", NULL};
	static const char *const cr[] = {"availabilityZone",
					 "endTime",
					 "id",
					 "instanceMatchCriteria",
					 "instanceType",
					 "interruptible",
					 "ownerID",
					 "reservationType",
					 "state",
					 NULL};
	static const char *const sg[] = {"id", "name", NULL};
	static const char *const sn[] = {"id", "zone", "zoneID", NULL};
	const struct yt_node *v;
	size_t m;

	if (!mf_is_map(c, st))
		return;
	mf_known_fields(c, st, fields);
	status_list(c, st, "amis", ami);
	status_list(c, st, "capacityReservations", cr);
	status_list(c, st, "securityGroups", sg);
	status_list(c, st, "subnets", sn);
	mf_get_string(c, st, "instanceProfile", NULL);
	if ((v = mf_child(st, "conditions")) != NULL) {
		m = mf_push(c, "conditions");
		mf_check_conditions(c, v, true);
		mf_pop(c, m);
	}
}
