/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requirements.c - Karpenter's requirement sets and label rules.
 *
 * Each key holds a sorted, unique array of values that is either the allowed
 * set or, when `complement` is set, the excluded set; inclusive integer
 * bounds apply on top.  This is the representation Karpenter's
 * scheduling.Requirement uses, so intersection, compatibility and the
 * operator a key reports all follow its rules, including the quirks (a
 * complement with bounds reports Exists; bounds vanish from finite sets once
 * they have filtered them).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>

#include "labels.h"
#include "util.h"

struct req {
	char *key;
	bool complement;
	bool has_gte, has_lte;
	int64_t gte, lte;
	int32_t min_values;
	size_t n;
	char **values;
};

struct kerf_reqset {
	size_t n, cap;
	struct req *items;
};

/* ------------------------------------------------------------- helpers */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static void free_values(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void req_clear(struct req *r)
{
	free(r->key);
	free_values(r->values, r->n);
	memset(r, 0, sizeof(*r));
}

/* Copies n borrowed strings; NULL on failure (nothing leaked). */
static char **dup_values(const char *const *v, size_t n)
{
	char **out;

	if (n == 0)
		return NULL;
	out = calloc(n, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = dup_str(v[i]);
		if (!out[i]) {
			free_values(out, i);
			return NULL;
		}
	}
	return out;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's strconv.Atoi: optional sign, base-10 digits, nothing else. */
static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;
	const char *p = s;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return false;
	*out = (int64_t)v;
	return true;
}

static bool within(const char *value, bool has_gte, int64_t gte, bool has_lte, int64_t lte)
{
	int64_t v;

	if (!has_gte && !has_lte)
		return true;
	if (!parse_int(value, &v))
		return false;
	if (has_gte && v < gte)
		return false;
	if (has_lte && v > lte)
		return false;
	return true;
}

static bool values_has(const struct req *r, const char *value)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->values[mid], value);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static kerf_operator req_op(const struct req *r)
{
	if (r->complement)
		return r->n ? KERF_OP_NOT_IN : KERF_OP_EXISTS;
	return r->n ? KERF_OP_IN : KERF_OP_DOES_NOT_EXIST;
}

static bool req_has(const struct req *r, const char *value)
{
	bool in = values_has(r, value);

	if (r->complement ? in : !in)
		return false;
	return within(value, r->has_gte, r->gte, r->has_lte, r->lte);
}

/* A string builder that never overflows and remembers truncation. */
struct fixbuf {
	char *buf;
	size_t len, pos;
	bool trunc;
};

static void fb_printf(struct fixbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fb_printf(struct fixbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->buf || b->len == 0) {
		b->trunc = true;
		return;
	}
	if (b->pos >= b->len - 1) {
		b->trunc = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->trunc = true;
		return;
	}
	if ((size_t)n >= b->len - b->pos) {
		b->pos = b->len - 1;
		b->trunc = true;
	} else {
		b->pos += (size_t)n;
	}
}

/* Values shown per key before "and N others", as Karpenter does. */
#define DESCRIBE_VALUES_MAX 5

static void describe(struct fixbuf *b, const struct req *r)
{
	kerf_operator op = req_op(r);
	const char *sep = "";

	if (op == KERF_OP_IN || op == KERF_OP_NOT_IN) {
		fb_printf(b, "%s [", kerf_operator_name(op));
		for (size_t i = 0; i < r->n && i < DESCRIBE_VALUES_MAX; i++)
			fb_printf(b, "%s%s", i ? ", " : "", r->values[i]);
		if (r->n > DESCRIBE_VALUES_MAX)
			fb_printf(b, " and %zu others", r->n - DESCRIBE_VALUES_MAX);
		fb_printf(b, "]");
		sep = " ";
	} else if (op == KERF_OP_DOES_NOT_EXIST || (!r->has_gte && !r->has_lte)) {
		fb_printf(b, "%s", kerf_operator_name(op));
		sep = " ";
	}
	if (r->has_gte) {
		fb_printf(b, "%sGte %lld", sep, (long long)r->gte);
		sep = " ";
	}
	if (r->has_lte)
		fb_printf(b, "%sLte %lld", sep, (long long)r->lte);
	if (r->min_values)
		fb_printf(b, " minValues %d", (int)r->min_values);
}

static const char *describe_str(const struct req *r, char *buf, size_t len)
{
	struct fixbuf b = {buf, len, 0, false};

	buf[0] = '\0';
	describe(&b, r);
	return buf;
}

/* Writes a formatted reason to why, when there is one. */
static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- the set */

static size_t set_find(const struct kerf_reqset *s, const char *key, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->items[mid].key, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* The requirement on a key that is already normalized (another set's key). */
static const struct req *set_get_normal(const struct kerf_reqset *s, const char *key)
{
	bool found;
	size_t i;

	if (!s)
		return NULL;
	i = set_find(s, key, &found);
	return found ? &s->items[i] : NULL;
}

static const struct req *set_get(const struct kerf_reqset *s, const char *key)
{
	if (!key)
		return NULL;
	return set_get_normal(s, kerf_label_normalize(key));
}

struct kerf_reqset *kerf_reqset_new(void)
{
	return calloc(1, sizeof(struct kerf_reqset));
}

void kerf_reqset_free(struct kerf_reqset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		req_clear(&s->items[i]);
	free(s->items);
	free(s);
}

static int req_copy(struct req *dst, const struct req *src)
{
	*dst = *src;
	dst->key = dup_str(src->key);
	dst->values = dup_values((const char *const *)src->values, src->n);
	if (!dst->key || (src->n && !dst->values)) {
		free(dst->key);
		free_values(dst->values, src->n);
		memset(dst, 0, sizeof(*dst));
		return KERF_E_NOMEM;
	}
	return 0;
}

struct kerf_reqset *kerf_reqset_copy(const struct kerf_reqset *s)
{
	struct kerf_reqset *c = kerf_reqset_new();

	if (!c || !s || s->n == 0)
		return c;
	c->items = calloc(s->n, sizeof(*c->items));
	if (!c->items) {
		free(c);
		return NULL;
	}
	c->cap = s->n;
	for (size_t i = 0; i < s->n; i++) {
		if (req_copy(&c->items[i], &s->items[i])) {
			kerf_reqset_free(c);
			return NULL;
		}
		c->n++;
	}
	return c;
}

/*
 * out = a intersected with b, as Karpenter's Requirement.Intersection.
 * out->key is left NULL; the values are fresh copies.
 */
static int req_intersect(const struct req *a, const struct req *b, struct req *out)
{
	enum { UNION, A_MINUS_B, B_MINUS_A, BOTH } mode;
	const char **tmp = NULL;
	size_t i = 0, j = 0, k = 0;

	memset(out, 0, sizeof(*out));
	out->complement = a->complement && b->complement;
	out->min_values = a->min_values > b->min_values ? a->min_values : b->min_values;
	out->has_gte = a->has_gte || b->has_gte;
	if (a->has_gte && b->has_gte)
		out->gte = a->gte > b->gte ? a->gte : b->gte;
	else
		out->gte = a->has_gte ? a->gte : b->gte;
	out->has_lte = a->has_lte || b->has_lte;
	if (a->has_lte && b->has_lte)
		out->lte = a->lte < b->lte ? a->lte : b->lte;
	else
		out->lte = a->has_lte ? a->lte : b->lte;
	if (out->has_gte && out->has_lte && out->gte > out->lte) {
		/* Bounds that cross leave nothing: DoesNotExist. */
		out->complement = false;
		out->has_gte = out->has_lte = false;
		out->gte = out->lte = 0;
		return 0;
	}

	if (a->complement && b->complement)
		mode = UNION;
	else if (!a->complement && b->complement)
		mode = A_MINUS_B;
	else if (a->complement && !b->complement)
		mode = B_MINUS_A;
	else
		mode = BOTH;

	if (a->n + b->n) {
		tmp = malloc((a->n + b->n) * sizeof(*tmp));
		if (!tmp)
			return KERF_E_NOMEM;
	}
	while (i < a->n || j < b->n) {
		int c;
		const char *v;
		bool in_a, in_b, keep = false;

		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = strcmp(a->values[i], b->values[j]);
		in_a = c <= 0;
		in_b = c >= 0;
		v = in_a ? a->values[i] : b->values[j];
		if (in_a)
			i++;
		if (in_b)
			j++;
		switch (mode) {
		case UNION:
			keep = true;
			break;
		case A_MINUS_B:
			keep = in_a && !in_b;
			break;
		case B_MINUS_A:
			keep = in_b && !in_a;
			break;
		case BOTH:
			keep = in_a && in_b;
			break;
		}
		if (keep && within(v, out->has_gte, out->gte, out->has_lte, out->lte))
			tmp[k++] = v;
	}
	if (k) {
		out->values = dup_values(tmp, k);
		if (!out->values) {
			free(tmp);
			return KERF_E_NOMEM;
		}
		out->n = k;
	}
	free(tmp);
	if (!out->complement) {
		out->has_gte = out->has_lte = false;
		out->gte = out->lte = 0;
	}
	return 0;
}

/* Karpenter's HasIntersection: some value both allow, without building it. */
static bool req_overlaps(const struct req *a, const struct req *b)
{
	bool has_gte = a->has_gte || b->has_gte, has_lte = a->has_lte || b->has_lte;
	int64_t gte = INT64_MIN, lte = INT64_MAX;

	if (a->has_gte)
		gte = a->gte;
	if (b->has_gte && b->gte > gte)
		gte = b->gte;
	if (a->has_lte)
		lte = a->lte;
	if (b->has_lte && b->lte < lte)
		lte = b->lte;
	if (has_gte && has_lte && gte > lte)
		return false;
	if (a->complement && b->complement)
		return true;
	if (a->complement || b->complement) {
		const struct req *fin = a->complement ? b : a;
		const struct req *comp = a->complement ? a : b;
		for (size_t i = 0; i < fin->n; i++) {
			if (!values_has(comp, fin->values[i]) &&
			    within(fin->values[i], has_gte, gte, has_lte, lte))
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (values_has(b, a->values[i]) && within(a->values[i], has_gte, gte, has_lte, lte))
			return true;
	}
	return false;
}

/* Makes room for and inserts r (taking ownership) at position i. */
static int set_insert(struct kerf_reqset *s, size_t i, struct req *r)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct req *items = realloc(s->items, cap * sizeof(*items));
		if (!items)
			return KERF_E_NOMEM;
		s->items = items;
		s->cap = cap;
	}
	memmove(&s->items[i + 1], &s->items[i], (s->n - i) * sizeof(*s->items));
	s->items[i] = *r;
	s->n++;
	return 0;
}

/* Intersects the set with r (key already normalised; r->key unused). */
static int set_merge(struct kerf_reqset *s, const char *key, const struct req *r,
		     struct kerf_error *err)
{
	bool found;
	size_t i = set_find(s, key, &found);
	struct req merged;

	if (found) {
		if (req_intersect(&s->items[i], r, &merged))
			return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
		merged.key = s->items[i].key;
		free_values(s->items[i].values, s->items[i].n);
		s->items[i] = merged;
		return 0;
	}
	if (req_copy(&merged, &(struct req){.key = (char *)key,
					    .complement = r->complement,
					    .has_gte = r->has_gte,
					    .has_lte = r->has_lte,
					    .gte = r->gte,
					    .lte = r->lte,
					    .min_values = r->min_values,
					    .n = r->n,
					    .values = r->values}))
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
	if (set_insert(s, i, &merged)) {
		req_clear(&merged);
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
	}
	return 0;
}

int kerf_reqset_add(struct kerf_reqset *s, const char *key, kerf_operator op,
		    const char *const *values, size_t n_values, int32_t min_values,
		    struct kerf_error *err)
{
	struct req r;
	const char **sorted = NULL;
	int64_t bound = 0;
	int rc;

	if (!s || !key)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_reqset_add: NULL argument");
	if (n_values && !values)
		return kerf_error_set(err, KERF_E_INVALID, "requirement \"%s\": values missing",
				      key);
	for (size_t i = 0; i < n_values; i++) {
		if (!values[i])
			return kerf_error_set(err, KERF_E_INVALID,
					      "requirement \"%s\": value %zu is NULL", key, i);
	}
	if (min_values < 0)
		return kerf_error_set(err, KERF_E_INVALID,
				      "requirement \"%s\": minValues %d is negative", key,
				      (int)min_values);
	key = kerf_label_normalize(key);
	memset(&r, 0, sizeof(r));
	r.min_values = min_values;

	switch (op) {
	case KERF_OP_IN:
	case KERF_OP_NOT_IN:
		r.complement = op == KERF_OP_NOT_IN;
		if (n_values) {
			size_t k = 0;
			sorted = malloc(n_values * sizeof(*sorted));
			if (!sorted)
				return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
			memcpy(sorted, values, n_values * sizeof(*sorted));
			qsort(sorted, n_values, sizeof(*sorted), cmp_strp);
			for (size_t i = 0; i < n_values; i++) {
				if (k == 0 || strcmp(sorted[k - 1], sorted[i]) != 0)
					sorted[k++] = sorted[i];
			}
			/* Borrowed pointers: set_merge copies what it keeps. */
			r.values = (char **)sorted;
			r.n = k;
		}
		break;
	case KERF_OP_EXISTS:
		r.complement = true;
		break;
	case KERF_OP_DOES_NOT_EXIST:
		break;
	case KERF_OP_GT:
	case KERF_OP_LT:
	case KERF_OP_GTE:
	case KERF_OP_LTE:
		if (n_values != 1 || !parse_int(values[0], &bound))
			return kerf_error_set(
			    err, KERF_E_INVALID,
			    "requirement \"%s\": operator %s needs exactly one integer value", key,
			    kerf_operator_name(op));
		r.complement = true;
		/* Gt and Lt become inclusive bounds, as in Karpenter. */
		if (op == KERF_OP_GT && bound < INT64_MAX)
			bound++;
		else if (op == KERF_OP_LT && bound > INT64_MIN)
			bound--;
		else if (op == KERF_OP_GT || op == KERF_OP_LT)
			r.complement = false; /* nothing beyond the int64 range: DoesNotExist */
		if (r.complement && (op == KERF_OP_GT || op == KERF_OP_GTE)) {
			r.has_gte = true;
			r.gte = bound;
		} else if (r.complement) {
			r.has_lte = true;
			r.lte = bound;
		}
		break;
	default:
		return kerf_error_set(err, KERF_E_INVALID,
				      "requirement \"%s\": unknown operator %d", key, (int)op);
	}
	rc = set_merge(s, key, &r, err);
	free(sorted);
	return rc;
}

int kerf_reqset_add_requirement(struct kerf_reqset *s, const struct kerf_requirement *r,
				struct kerf_error *err)
{
	if (!r)
		return kerf_error_set(err, KERF_E_INVALID,
				      "kerf_reqset_add_requirement: NULL argument");
	return kerf_reqset_add(s, r->key, r->op, (const char *const *)r->values, r->n_values,
			       r->min_values, err);
}

int kerf_reqset_add_requirements(struct kerf_reqset *s, const struct kerf_requirements *r,
				 struct kerf_error *err)
{
	if (!r)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		int rc = kerf_reqset_add_requirement(s, r->items[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

int kerf_reqset_add_labels(struct kerf_reqset *s, const struct kerf_labels *l,
			   struct kerf_error *err)
{
	if (!l)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const char *v = l->items[i]->value ? l->items[i]->value : "";
		int rc = kerf_reqset_add(s, l->items[i]->key, KERF_OP_IN, &v, 1, 0, err);
		if (rc)
			return rc;
	}
	return 0;
}

int kerf_reqset_intersect(struct kerf_reqset *dst, const struct kerf_reqset *src,
			  struct kerf_error *err)
{
	if (!dst)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_reqset_intersect: NULL argument");
	if (!src)
		return 0;
	for (size_t i = 0; i < src->n; i++) {
		int rc = set_merge(dst, src->items[i].key, &src->items[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

void kerf_reqset_remove(struct kerf_reqset *s, const char *key)
{
	bool found;
	size_t i;

	if (!s || !key)
		return;
	i = set_find(s, kerf_label_normalize(key), &found);
	if (!found)
		return;
	req_clear(&s->items[i]);
	memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(*s->items));
	s->n--;
}

size_t kerf_reqset_count(const struct kerf_reqset *s)
{
	return s ? s->n : 0;
}

const char *kerf_reqset_key(const struct kerf_reqset *s, size_t i)
{
	return s && i < s->n ? s->items[i].key : NULL;
}

bool kerf_reqset_has_key(const struct kerf_reqset *s, const char *key)
{
	return set_get(s, key) != NULL;
}

kerf_operator kerf_reqset_operator(const struct kerf_reqset *s, const char *key)
{
	const struct req *r = set_get(s, key);

	return r ? req_op(r) : KERF_OP_EXISTS;
}

size_t kerf_reqset_values(const struct kerf_reqset *s, const char *key, const char *const **values)
{
	const struct req *r = set_get(s, key);

	if (values)
		*values = r ? (const char *const *)r->values : NULL;
	return r ? r->n : 0;
}

bool kerf_reqset_bounds(const struct kerf_reqset *s, const char *key, int64_t *min, int64_t *max)
{
	const struct req *r = set_get(s, key);
	bool has_gte = r && r->has_gte, has_lte = r && r->has_lte;

	if (min)
		*min = has_gte ? r->gte : INT64_MIN;
	if (max)
		*max = has_lte ? r->lte : INT64_MAX;
	return has_gte || has_lte;
}

int32_t kerf_reqset_min_values(const struct kerf_reqset *s, const char *key)
{
	const struct req *r = set_get(s, key);

	return r ? r->min_values : 0;
}

/* A node without the label satisfies DoesNotExist and a plain NotIn only. */
static bool req_allows_absent(const struct req *r)
{
	if (!r->complement)
		return r->n == 0;
	return r->n > 0 && !r->has_gte && !r->has_lte;
}

bool kerf_reqset_allows(const struct kerf_reqset *s, const char *key, const char *value)
{
	const struct req *r = set_get(s, key);

	if (!r)
		return true;
	return value ? req_has(r, value) : req_allows_absent(r);
}

bool kerf_reqset_matches_labels(const struct kerf_reqset *s, const struct kerf_labels *labels,
				char *why, size_t whylen)
{
	char desc[256];

	if (why && whylen)
		why[0] = '\0';
	if (!s)
		return true;
	for (size_t i = 0; i < s->n; i++) {
		const struct req *r = &s->items[i];
		const char *v = kerf_labels_get(labels, r->key);

		if (v ? req_has(r, v) : req_allows_absent(r))
			continue;
		if (v)
			set_why(why, whylen, "key \"%s\" requires %s but the label is \"%s\"",
				r->key, describe_str(r, desc, sizeof(desc)), v);
		else
			set_why(why, whylen, "key \"%s\" requires %s but the label is missing",
				r->key, describe_str(r, desc, sizeof(desc)));
		return false;
	}
	return true;
}

static bool op_excludes_only(kerf_operator op)
{
	return op == KERF_OP_NOT_IN || op == KERF_OP_DOES_NOT_EXIST;
}

bool kerf_reqset_compatible(const struct kerf_reqset *a, const struct kerf_reqset *b,
			    unsigned flags, char *why, size_t whylen)
{
	char da[256], db[256];

	if (why && whylen)
		why[0] = '\0';
	if (!b)
		return true;
	for (size_t i = 0; i < b->n; i++) {
		const struct req *rb = &b->items[i];
		const struct req *ra = set_get_normal(a, rb->key);

		if (!ra) {
			if (op_excludes_only(req_op(rb)) || (flags & KERF_REQSET_ALLOW_UNDEFINED))
				continue;
			if ((flags & KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN) &&
			    kerf_label_is_well_known(rb->key))
				continue;
			set_why(why, whylen, "key \"%s\" requires %s but it is not defined",
				rb->key, describe_str(rb, db, sizeof(db)));
			return false;
		}
		if (req_overlaps(ra, rb))
			continue;
		/* Two requirements that only exclude agree on a node without the label. */
		if (op_excludes_only(req_op(rb)) && op_excludes_only(req_op(ra)))
			continue;
		set_why(why, whylen, "key \"%s\" requires %s but only %s is allowed", rb->key,
			describe_str(rb, db, sizeof(db)), describe_str(ra, da, sizeof(da)));
		return false;
	}
	return true;
}

/* A new requirement in *out, or KERF_E_NOMEM with *out NULL. */
static int req_emit(struct kerf_requirement **out, const char *key, kerf_operator op,
		    const char *const *values, size_t n, int32_t min_values)
{
	struct kerf_requirement *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return KERF_E_NOMEM;
	r->key = dup_str(key);
	r->values = dup_values(values, n);
	r->n_values = n;
	if (!r->key || (n && !r->values)) {
		kerf_requirement_free(r);
		return KERF_E_NOMEM;
	}
	r->op = op;
	r->min_values = min_values;
	*out = r;
	return 0;
}

int kerf_reqset_to_requirements(const struct kerf_reqset *s, struct kerf_requirements *out,
				struct kerf_error *err)
{
	size_t total = 0, k = 0;

	if (!out)
		return kerf_error_set(err, KERF_E_INVALID,
				      "kerf_reqset_to_requirements: NULL argument");
	memset(out, 0, sizeof(*out));
	if (!s || s->n == 0)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct req *r = &s->items[i];
		bool bounded = r->has_gte || r->has_lte;
		total += (req_op(r) == KERF_OP_EXISTS && bounded) ? 0 : 1;
		total += r->has_gte + r->has_lte;
	}
	out->items = calloc(total, sizeof(*out->items));
	if (!out->items)
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		const struct req *r = &s->items[i];
		kerf_operator op = req_op(r);
		char num[24];
		const char *nv = num;
		int rc = 0;

		if (!(op == KERF_OP_EXISTS && (r->has_gte || r->has_lte)))
			rc = req_emit(&out->items[k++], r->key, op, (const char *const *)r->values,
				      r->n, r->min_values);
		if (!rc && r->has_gte) {
			snprintf(num, sizeof(num), "%lld", (long long)r->gte);
			rc = req_emit(&out->items[k++], r->key, KERF_OP_GTE, &nv, 1, r->min_values);
		}
		if (!rc && r->has_lte) {
			snprintf(num, sizeof(num), "%lld", (long long)r->lte);
			rc = req_emit(&out->items[k++], r->key, KERF_OP_LTE, &nv, 1, r->min_values);
		}
		if (rc) {
			out->n = k;
			kerf_requirements_clear(out);
			return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
		}
	}
	out->n = k;
	return 0;
}

int kerf_reqset_format(const struct kerf_reqset *s, char *buf, size_t len)
{
	struct fixbuf b = {buf, len, 0, false};

	if (!buf || len == 0)
		return KERF_E_RANGE;
	buf[0] = '\0';
	for (size_t i = 0; s && i < s->n; i++) {
		fb_printf(&b, "%s%s ", i ? ", " : "", s->items[i].key);
		describe(&b, &s->items[i]);
	}
	return b.trunc ? KERF_E_RANGE : (int)b.pos;
}

/* ------------------------------------------------------------- labels */

static const struct {
	const char *alias, *stable;
} label_aliases[] = {
    {"beta.kubernetes.io/arch", "kubernetes.io/arch"},
    {"beta.kubernetes.io/os", "kubernetes.io/os"},
    {"beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type"},
    {"failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/zone"},
    {"failure-domain.beta.kubernetes.io/region", "topology.kubernetes.io/region"},
};

const char *kerf_label_normalize(const char *key)
{
	if (!key)
		return NULL;
	/*
	 * Every requirement look-up comes through here, and almost no key is an
	 * alias: all of them start with "beta." or "failure-domain.", so one
	 * character rules out the rest without the strcmp loop.
	 */
	if (key[0] != 'b' && key[0] != 'f')
		return key;
	for (size_t i = 0; i < sizeof(label_aliases) / sizeof(label_aliases[0]); i++) {
		if (strcmp(key, label_aliases[i].alias) == 0)
			return label_aliases[i].stable;
	}
	return key;
}

/*
 * Karpenter's own WellKnownLabels.  Providers add theirs (kc_labels_declare),
 * as Karpenter's cloud providers extend the set when they start.
 */
static const char *const well_known[] = {
    "karpenter.sh/nodepool",
    "karpenter.sh/capacity-type",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "node.kubernetes.io/windows-build",
};

/* Written once at start-up, before any reader: see labels.h. */
static struct strset declared_keys, declared_domains;

void kc_labels_declare(const char *const *keys, const char *const *domains)
{
	for (size_t i = 0; keys && keys[i]; i++)
		strset_add(&declared_keys, keys[i]);
	for (size_t i = 0; domains && domains[i]; i++)
		strset_add(&declared_domains, domains[i]);
}

bool kerf_label_is_well_known(const char *key)
{
	if (!key)
		return false;
	for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
		if (strcmp(key, well_known[i]) == 0)
			return true;
	}
	return strset_find(&declared_keys, key) >= 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

const char *kc_label_declared_domain(const char *key)
{
	const char *slash = key ? strchr(key, '/') : NULL;
	size_t n = slash ? (size_t)(slash - key) : (key ? strlen(key) : 0);

	for (size_t i = 0; key && i < declared_domains.n; i++)
		if (has_suffix(key, n, declared_domains.items[i]))
			return declared_domains.items[i];
	return NULL;
}

/*
 * Karpenter matches domains with a plain suffix test (so "xkubernetes.io"
 * counts as kubernetes.io); kerf does the same so that a NodePool Karpenter
 * accepts is accepted here and vice versa.
 */
static int check_restricted(const char *key, char *why, size_t whylen)
{
	static const char *const exceptions[] = {"kops.k8s.io", "node.kubernetes.io",
						 "node-restriction.kubernetes.io"};
	static const char *const restricted[] = {"kubernetes.io", "k8s.io", "karpenter.sh"};
	const char *slash, *declared;
	size_t dlen;

	if (why && whylen)
		why[0] = '\0';
	if (!key) {
		set_why(why, whylen, "label key is NULL");
		return KERF_E_INVALID;
	}
	if (strcmp(key, "karpenter.sh/nodepool") == 0 ||
	    strcmp(key, "kubernetes.io/hostname") == 0) {
		set_why(why, whylen, "label \"%s\" is restricted", key);
		return KERF_E_INVALID;
	}
	if (kerf_label_is_well_known(key))
		return 0;
	slash = strchr(key, '/');
	if (!slash)
		return 0;
	dlen = (size_t)(slash - key);
	for (size_t i = 0; i < sizeof(exceptions) / sizeof(exceptions[0]); i++) {
		if (has_suffix(key, dlen, exceptions[i]))
			return 0;
	}
	for (size_t i = 0; i < sizeof(restricted) / sizeof(restricted[0]); i++) {
		if (has_suffix(key, dlen, restricted[i])) {
			set_why(why, whylen,
				"label \"%s\" is restricted: domain \"%s\" is reserved; use a "
				"well-known label or a custom domain",
				key, restricted[i]);
			return KERF_E_INVALID;
		}
	}
	if ((declared = kc_label_declared_domain(key)) != NULL) {
		set_why(why, whylen,
			"label \"%s\" is restricted: domain \"%s\" is reserved; use a "
			"well-known label or a custom domain",
			key, declared);
		return KERF_E_INVALID;
	}
	return 0;
}

int kerf_label_check_restricted(const char *key, char *why, size_t whylen)
{
	return check_restricted(key, why, whylen);
}

int kerf_requirement_key_check_restricted(const char *key, char *why, size_t whylen)
{
	return check_restricted(kerf_label_normalize(key), why, whylen);
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], length checked by the caller. */
static bool name_chars_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	}
	return true;
}

#define LABEL_NAME_MAX 63
#define DNS_SUBDOMAIN_MAX 253

bool kerf_label_key_valid(const char *key, char *why, size_t whylen)
{
	const char *slash, *name;
	size_t nlen;

	if (why && whylen)
		why[0] = '\0';
	if (!key || !*key) {
		set_why(why, whylen, "label key is empty");
		return false;
	}
	slash = strchr(key, '/');
	name = key;
	if (slash) {
		size_t plen = (size_t)(slash - key);
		if (strchr(slash + 1, '/')) {
			set_why(why, whylen, "label key \"%s\" has more than one '/'", key);
			return false;
		}
		if (plen == 0) {
			set_why(why, whylen, "label key \"%s\": prefix before '/' is empty", key);
			return false;
		}
		if (plen > DNS_SUBDOMAIN_MAX) {
			set_why(why, whylen,
				"label key \"%.40s...\": prefix is longer than %d characters", key,
				DNS_SUBDOMAIN_MAX);
			return false;
		}
		if (!str_dns_subdomain(key, plen)) {
			set_why(why, whylen,
				"label key \"%s\": prefix must be a lowercase DNS subdomain (a-z, "
				"0-9, '-' and '.', alphanumeric at both ends of each part)",
				key);
			return false;
		}
		name = slash + 1;
	}
	nlen = strlen(name);
	if (nlen == 0) {
		set_why(why, whylen, "label key \"%s\": name is empty", key);
		return false;
	}
	if (nlen > LABEL_NAME_MAX) {
		set_why(why, whylen, "label key \"%.40s...\": name is longer than %d characters",
			key, LABEL_NAME_MAX);
		return false;
	}
	if (!name_chars_ok(name, nlen)) {
		set_why(why, whylen,
			"label key \"%s\": name must consist of alphanumerics, '-', '_' or '.', "
			"and start and end with an alphanumeric",
			key);
		return false;
	}
	return true;
}

bool kerf_label_value_valid(const char *value, char *why, size_t whylen)
{
	size_t n;

	if (why && whylen)
		why[0] = '\0';
	if (!value)
		return true;
	n = strlen(value);
	if (n == 0)
		return true;
	if (n > LABEL_NAME_MAX) {
		set_why(why, whylen, "label value \"%.40s...\" is longer than %d characters", value,
			LABEL_NAME_MAX);
		return false;
	}
	if (!name_chars_ok(value, n)) {
		set_why(why, whylen,
			"label value \"%s\" must consist of alphanumerics, '-', '_' or '.', and "
			"start and end with an alphanumeric",
			value);
		return false;
	}
	return true;
}

/* Karpenter's CRD caps minValues at 50. */
#define MIN_VALUES_MAX 50

int kerf_requirement_validate(const struct kerf_requirement *r, struct kerf_error *err)
{
	char why[KERF_ERROR_MSG_MAX - 64];
	const char *key;
	int64_t v;

	if (!r || !r->key)
		return kerf_error_set(err, KERF_E_INVALID, "requirement has no key");
	key = kerf_label_normalize(r->key);
	if (!kerf_label_key_valid(key, why, sizeof(why)))
		return kerf_error_set(err, KERF_E_INVALID, "requirement: %s", why);
	if (kerf_requirement_key_check_restricted(key, why, sizeof(why)))
		return kerf_error_set(err, KERF_E_INVALID, "requirement: %s", why);
	if ((unsigned)r->op > KERF_OP_LTE)
		return kerf_error_set(err, KERF_E_INVALID,
				      "requirement \"%s\": unknown operator %d", key, (int)r->op);
	if (r->n_values && !r->values)
		return kerf_error_set(err, KERF_E_INVALID, "requirement \"%s\": values missing",
				      key);
	for (size_t i = 0; i < r->n_values; i++) {
		if (!r->values[i])
			return kerf_error_set(err, KERF_E_INVALID,
					      "requirement \"%s\": value %zu is NULL", key, i);
	}
	/* Before the syntax check, which would call "-1" a bad label value. */
	if (r->op == KERF_OP_GT || r->op == KERF_OP_LT || r->op == KERF_OP_GTE ||
	    r->op == KERF_OP_LTE) {
		if (r->n_values != 1 || !parse_int(r->values[0], &v) || v < 0)
			return kerf_error_set(err, KERF_E_INVALID,
					      "requirement \"%s\": operator %s must have a single "
					      "non-negative integer value",
					      key, kerf_operator_name(r->op));
	}
	for (size_t i = 0; i < r->n_values; i++) {
		if (!kerf_label_value_valid(r->values[i], why, sizeof(why)))
			return kerf_error_set(err, KERF_E_INVALID, "requirement \"%s\": %s", key,
					      why);
	}
	if (r->op == KERF_OP_IN && r->n_values == 0)
		return kerf_error_set(err, KERF_E_INVALID,
				      "requirement \"%s\": operator In must have a value", key);
	if (r->min_values < 0 || r->min_values > MIN_VALUES_MAX)
		return kerf_error_set(err, KERF_E_INVALID,
				      "requirement \"%s\": minValues %d is outside 1..%d", key,
				      (int)r->min_values, MIN_VALUES_MAX);
	if (r->op == KERF_OP_IN && r->n_values < (size_t)r->min_values)
		return kerf_error_set(
		    err, KERF_E_INVALID,
		    "requirement \"%s\": minValues %d is more than the %zu values given", key,
		    (int)r->min_values, r->n_values);
	return 0;
}
