/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ab.c - the A/B packing comparison (see ab.h).
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ab.h"
#include "util.h"

/* Record values are whole numbers a double holds exactly, so the statistics lose nothing. */
#define AB_MAX_VALUE (INT64_C(1) << 53)
/* A solve longer than a day is a damaged record, not a slow packer (kerfd stops a solve sooner). */
#define AB_MAX_SOLVE_MS 86400000.0
/* Past this many degrees of freedom t and the normal quantile agree to 1e-6. */
#define AB_NORMAL_DF 1e7
#define AB_CONFIDENCE 0.95

enum ab_mode { AB_SINGLE, AB_SPLIT, AB_SHADOW, AB_N_MODES };

static const char *const mode_names[AB_N_MODES] = {"single", "split", "shadow"};

/* One packer's plan for one NodePool in one batch: the acting packer's or its shadow's. */
struct ab_side {
	const char *packer;
	int64_t pods, placed, placed_new, nodes, price;
	int64_t req_cpu, req_mem, alloc_cpu, alloc_mem;
	int64_t lower_bound;
	double solve_ms;
	bool optimal;
};

/* One element of a batch line's "nodepools"; strings borrowed from the line. */
struct ab_rec {
	const char *nodepool;
	enum ab_mode mode;
	const char *selection;
	struct ab_side acted, shadow;
	bool has_shadow;
};

/* Totals of one packer in one role (acting or shadow) in one NodePool. */
struct ab_figs {
	char *packer;
	bool shadow;
	size_t batches;
	int64_t pods, placed, placed_new, nodes, price;
	int64_t req_cpu, req_mem, alloc_cpu, alloc_mem;
	double solve_sum, solve_max;
	size_t n_bound, n_optimal;
	double gap_sum;
};

/* A shadow challenger against the packer that acted: one difference per paired batch. */
struct ab_pair {
	char *primary, *challenger;
	size_t n, cap;
	int64_t *d; /* primary price - challenger price, micro-dollars per hour */
	int64_t primary_sum;
	size_t more, fewer; /* unpaired: the challenger placed more or fewer pods */
};

/* A split packer's price per pod in each of its batches. */
struct ab_sample {
	size_t n, cap;
	double *per_pod;
	size_t no_new; /* batches without pods on new nodes: no price per pod */
};

struct ab_pool {
	char *name;
	size_t batches;
	size_t by_mode[AB_N_MODES];
	char *selection;  /* the latest split selection */
	size_t no_shadow; /* shadow-mode batches the shadow packer gave no plan for */
	size_t n_figs, cap_figs;
	struct ab_figs *figs;
	size_t n_pairs, cap_pairs;
	struct ab_pair *pairs;
	/* Split packers in selection order, the first the baseline; samples[i] goes with item i. */
	struct strset split_order;
	size_t cap_samples;
	struct ab_sample *samples;
};

struct ab_report {
	size_t n_pools, cap_pools;
	struct ab_pool *pools;
	size_t batch_lines;
	size_t bare_lines;	/* batch lines without "nodepools" */
	struct strbuf warnings; /* one per line, for ab_warnings() */
};

/* One comparison, paired (shadow) or Welch (split), as the report states it. */
struct ab_cmp {
	const char *baseline, *challenger;
	bool paired;
	size_t n_base, n_chal; /* paired: both the number of pairs */
	size_t excluded;
	double base_mean, chal_mean; /* Welch: price per pod */
	double saving;		     /* mean, micro-dollars per hour: baseline - challenger */
	double rel;		     /* relative saving; NAN when the baseline costs nothing */
	bool has_ci;
	double low, high, t, df;
	bool identical;
};

/* ------------------------------------------------------------ Student's t */

/*
 * The continued fraction of the regularized incomplete beta function,
 * 1 + d1/(1 + d2/(1 + ...)), by the modified Lentz method.
 */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double f = 1, c = 1, d = 0;

	for (int j = 1; j < 100000; j++) {
		double m, dj;
		if (j % 2) {
			m = (j - 1) / 2;
			dj = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		} else {
			m = j / 2;
			dj = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		}
		d = 1 + dj * d;
		d = fabs(d) < tiny ? 1 / tiny : 1 / d;
		c = 1 + dj / c;
		if (fabs(c) < tiny)
			c = tiny;
		f *= c * d;
		if (fabs(c * d - 1) < 1e-15)
			break;
	}
	return f;
}

/*
 * I_x(a, b), with y = 1 - x given so that x near 1 keeps its digits.  The
 * fraction converges quickly only below x = (a + 1) / (a + b + 2); above
 * it, I_x(a, b) = 1 - I_y(b, a) brings x below.
 */
static double ibeta(double a, double b, double x, double y)
{
	bool flip = x > (a + 1) / (a + b + 2);

	if (flip) {
		double t = a;
		a = b;
		b = t;
		t = x;
		x = y;
		y = t;
	}
	double lfront = a * log(x) + b * log(y) - log(a) - (lgamma(a) + lgamma(b) - lgamma(a + b));
	double v = exp(lfront) / beta_cf(a, b, x);
	return flip ? 1 - v : v;
}

/* P(T > t) for t > 0: computed as the upper tail so that it stays accurate far out. */
static double t_upper(double t, double df)
{
	if (df > AB_NORMAL_DF)
		return 0.5 * erfc(t / sqrt(2.0));
	double t2 = t * t;
	return 0.5 * ibeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
}

double ab_t_quantile(double p, double df)
{
	if (p < 0.5)
		return -ab_t_quantile(1 - p, df);
	double q = 1 - p, lo = 0, hi = 1;
	if (q >= 0.5)
		return 0;
	while (t_upper(hi, df) > q && hi < 1e300) {
		lo = hi;
		hi *= 2;
	}
	/* The tail falls monotonically, so halving the bracket always converges. */
	for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
		double mid = (lo + hi) / 2;
		if (t_upper(mid, df) > q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static double mean_of(const double *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

/* The sample variance (n - 1 in the denominator); n >= 2. */
static double var_of(const double *x, size_t n, double mean)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (x[i] - mean) * (x[i] - mean);
	return s / (double)(n - 1);
}

static void set_interval(struct ab_cmp *c, double se, double df)
{
	double half;

	c->df = df;
	c->t = ab_t_quantile(1 - (1 - AB_CONFIDENCE) / 2, df);
	half = c->t * se;
	c->low = c->saving - half;
	c->high = c->saving + half;
	c->has_ci = true;
}

/* mean +- t(0.975, n - 1) s / sqrt(n) over the paired differences. */
static void paired_cmp(const struct ab_pair *p, struct ab_cmp *c)
{
	double *d = xcalloc(p->n + 1, sizeof(*d));
	bool all_zero = true;

	memset(c, 0, sizeof(*c));
	c->baseline = p->primary;
	c->challenger = p->challenger;
	c->paired = true;
	c->n_base = c->n_chal = p->n;
	c->excluded = p->more + p->fewer;
	c->rel = NAN;
	for (size_t i = 0; i < p->n; i++) {
		d[i] = (double)p->d[i];
		all_zero = all_zero && p->d[i] == 0;
	}
	if (p->n) {
		int64_t sum = 0;
		for (size_t i = 0; i < p->n; i++)
			sum += p->d[i];
		c->saving = mean_of(d, p->n);
		if (p->primary_sum > 0)
			c->rel = (double)sum / (double)p->primary_sum;
		c->identical = all_zero;
	}
	if (p->n >= 2)
		set_interval(c, sqrt(var_of(d, p->n, c->saving) / (double)p->n),
			     (double)(p->n - 1));
	free(d);
}

/* Welch: the difference of the means, its standard error and Welch-Satterthwaite df. */
static void welch_cmp(const char *base_name, const struct ab_sample *b, const char *chal_name,
		      const struct ab_sample *c, struct ab_cmp *out)
{
	memset(out, 0, sizeof(*out));
	out->baseline = base_name;
	out->challenger = chal_name;
	out->n_base = b->n;
	out->n_chal = c->n;
	out->excluded = b->no_new + c->no_new;
	out->rel = NAN;
	if (!b->n || !c->n)
		return;
	out->base_mean = mean_of(b->per_pod, b->n);
	out->chal_mean = mean_of(c->per_pod, c->n);
	out->saving = out->base_mean - out->chal_mean;
	if (out->base_mean > 0)
		out->rel = out->saving / out->base_mean;
	if (b->n < 2 || c->n < 2)
		return;
	double vb = var_of(b->per_pod, b->n, out->base_mean) / (double)b->n;
	double vc = var_of(c->per_pod, c->n, out->chal_mean) / (double)c->n;
	double denom = vb * vb / (double)(b->n - 1) + vc * vc / (double)(c->n - 1);
	/* Two constant samples: no spread to estimate, the interval is the difference itself. */
	double df = denom > 0 ? (vb + vc) * (vb + vc) / denom : (double)(b->n + c->n - 2);
	set_interval(out, sqrt(vb + vc), df);
}

static bool cmp_significant(const struct ab_cmp *c)
{
	return c->has_ci && (c->low > 0 || c->high < 0);
}

/* ------------------------------------------------------------ records */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* "at.key: expected WHAT, got ..." for a value that is missing or of the wrong type. */
static int bad_type(const char *at, const char *key, const char *what, const json_t *v,
		    struct kerf_error *err)
{
	if (!v)
		return kerf_error_set(err, KERF_E_PARSE, "%s.%s: missing (expected %s)", at, key,
				      what);
	return kerf_error_set(err, KERF_E_PARSE, "%s.%s: expected %s, got %s", at, key, what,
			      json_kind(v));
}

static int get_count(const json_t *o, const char *at, const char *key, int64_t *out,
		     struct kerf_error *err)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return bad_type(at, key, "a non-negative integer", v, err);
	json_int_t n = json_integer_value(v);
	if (n < 0 || n > AB_MAX_VALUE)
		return kerf_error_set(err, KERF_E_PARSE, "%s.%s: %lld is out of range (0 to 2^53)",
				      at, key, (long long)n);
	*out = n;
	return 0;
}

static int get_string(const json_t *o, const char *at, const char *key, const char **out,
		      struct kerf_error *err)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || !*json_string_value(v))
		return bad_type(at, key, "a non-empty string", v, err);
	*out = json_string_value(v);
	return 0;
}

static int get_resources(const json_t *o, const char *at, const char *key, int64_t *cpu,
			 int64_t *mem, struct kerf_error *err)
{
	const json_t *v = json_object_get(o, key);
	char sub[256];
	int rc;

	if (!json_is_object(v))
		return bad_type(at, key, "an object", v, err);
	snprintf(sub, sizeof(sub), "%s.%s", at, key);
	if ((rc = get_count(v, sub, "cpu_millicores", cpu, err)) != 0)
		return rc;
	return get_count(v, sub, "memory_bytes", mem, err);
}

/* The keys the acting packer's record and its shadow share. */
static int parse_side(const json_t *o, const char *at, struct ab_side *s, struct kerf_error *err)
{
	const json_t *v;
	int rc;

	if ((rc = get_string(o, at, "packer", &s->packer, err)) != 0 ||
	    (rc = get_count(o, at, "pods", &s->pods, err)) != 0 ||
	    (rc = get_count(o, at, "placed", &s->placed, err)) != 0 ||
	    (rc = get_count(o, at, "placed_new", &s->placed_new, err)) != 0 ||
	    (rc = get_count(o, at, "nodes", &s->nodes, err)) != 0 ||
	    (rc = get_count(o, at, "price_micro_usd_per_hour", &s->price, err)) != 0 ||
	    (rc = get_resources(o, at, "requested", &s->req_cpu, &s->req_mem, err)) != 0 ||
	    (rc = get_resources(o, at, "allocatable", &s->alloc_cpu, &s->alloc_mem, err)) != 0 ||
	    (rc = get_count(o, at, "lower_bound_micro_usd_per_hour", &s->lower_bound, err)) != 0)
		return rc;
	v = json_object_get(o, "solve_ms");
	if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
	    !(json_number_value(v) <= AB_MAX_SOLVE_MS))
		return v && json_is_number(v)
			   ? kerf_error_set(err, KERF_E_PARSE,
					    "%s.solve_ms: %g is not a duration from 0 to a day "
					    "(%.0f ms)",
					    at, json_number_value(v), AB_MAX_SOLVE_MS)
			   : bad_type(at, "solve_ms", "a number of milliseconds", v, err);
	s->solve_ms = json_number_value(v);
	v = json_object_get(o, "optimal");
	if (!json_is_boolean(v))
		return bad_type(at, "optimal", "true or false", v, err);
	s->optimal = json_is_true(v);
	if (s->placed > s->pods)
		return kerf_error_set(err, KERF_E_PARSE, "%s.placed: %lld is more than pods (%lld)",
				      at, (long long)s->placed, (long long)s->pods);
	if (s->placed_new > s->placed)
		return kerf_error_set(err, KERF_E_PARSE,
				      "%s.placed_new: %lld is more than placed (%lld)", at,
				      (long long)s->placed_new, (long long)s->placed);
	return 0;
}

static int parse_rec(const json_t *o, const char *at, struct ab_rec *r, struct kerf_error *err)
{
	const char *mode;
	char sub[256];
	int rc;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return kerf_error_set(err, KERF_E_PARSE, "%s: expected an object, got %s", at,
				      json_kind(o));
	if ((rc = get_string(o, at, "nodepool", &r->nodepool, err)) != 0 ||
	    (rc = get_string(o, at, "mode", &mode, err)) != 0)
		return rc;
	for (r->mode = 0; r->mode < AB_N_MODES; r->mode++)
		if (strcmp(mode, mode_names[r->mode]) == 0)
			break;
	if (r->mode == AB_N_MODES)
		return kerf_error_set(err, KERF_E_PARSE,
				      "%s.mode: unknown mode \"%s\" (single, split or shadow)", at,
				      mode);
	if (r->mode == AB_SPLIT && (rc = get_string(o, at, "selection", &r->selection, err)) != 0)
		return rc;
	if ((rc = parse_side(o, at, &r->acted, err)) != 0 || r->mode != AB_SHADOW)
		return rc;
	const json_t *sh = json_object_get(o, "shadow");
	/* A shadow packer that failed leaves its NodePool's batch without a shadow record. */
	if (!sh)
		return 0;
	if (!json_is_object(sh))
		return bad_type(at, "shadow", "an object", sh, err);
	snprintf(sub, sizeof(sub), "%s.shadow", at);
	r->has_shadow = true;
	return parse_side(sh, sub, &r->shadow, err);
}

/* ------------------------------------------------------------ totals */

static bool add64(int64_t *sum, int64_t v)
{
	return !__builtin_add_overflow(*sum, v, sum);
}

/* Adds a batch to f; false, f unchanged, when a total would overflow. */
static bool figs_add(struct ab_figs *f, const struct ab_side *s)
{
	struct ab_figs t = *f;

	if (!add64(&t.pods, s->pods) || !add64(&t.placed, s->placed) ||
	    !add64(&t.placed_new, s->placed_new) || !add64(&t.nodes, s->nodes) ||
	    !add64(&t.price, s->price) || !add64(&t.req_cpu, s->req_cpu) ||
	    !add64(&t.req_mem, s->req_mem) || !add64(&t.alloc_cpu, s->alloc_cpu) ||
	    !add64(&t.alloc_mem, s->alloc_mem))
		return false;
	t.batches++;
	t.solve_sum += s->solve_ms;
	if (s->solve_ms > t.solve_max)
		t.solve_max = s->solve_ms;
	/* The gap as solvers state it, relative to the plan's price; a free plan has none. */
	if (s->lower_bound > 0 && s->price > 0) {
		t.n_bound++;
		t.gap_sum += (double)(s->price - s->lower_bound) / (double)s->price;
	}
	if (s->optimal)
		t.n_optimal++;
	*f = t;
	return true;
}

static struct ab_pool *pool_find(const struct ab_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_pools; i++)
		if (strcmp(r->pools[i].name, name) == 0)
			return &r->pools[i];
	return NULL;
}

static struct ab_pool *pool_get(struct ab_report *r, const char *name)
{
	struct ab_pool *p = pool_find(r, name);

	if (p)
		return p;
	xgrow(r->pools, r->cap_pools, r->n_pools + 1);
	p = &r->pools[r->n_pools++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	return p;
}

static struct ab_figs *figs_find(const struct ab_pool *p, const char *packer, bool shadow)
{
	for (size_t i = 0; p && i < p->n_figs; i++)
		if (p->figs[i].shadow == shadow && strcmp(p->figs[i].packer, packer) == 0)
			return &p->figs[i];
	return NULL;
}

static struct ab_figs *figs_get(struct ab_pool *p, const char *packer, bool shadow)
{
	struct ab_figs *f = figs_find(p, packer, shadow);

	if (f)
		return f;
	xgrow(p->figs, p->cap_figs, p->n_figs + 1);
	f = &p->figs[p->n_figs++];
	memset(f, 0, sizeof(*f));
	f->packer = xstrdup(packer);
	f->shadow = shadow;
	return f;
}

/* Would adding s to the pool's row for (packer, role) keep every total in range? */
static bool figs_fit(const struct ab_report *r, const char *pool, const struct ab_side *s,
		     bool shadow)
{
	const struct ab_figs *f = figs_find(pool_find(r, pool), s->packer, shadow);
	struct ab_figs t;

	if (f)
		t = *f;
	else
		memset(&t, 0, sizeof(t));
	return figs_add(&t, s);
}

static void pair_add(struct ab_pool *p, const struct ab_side *acted, const struct ab_side *sh)
{
	struct ab_pair *q = NULL;

	for (size_t i = 0; i < p->n_pairs && !q; i++)
		if (strcmp(p->pairs[i].primary, acted->packer) == 0 &&
		    strcmp(p->pairs[i].challenger, sh->packer) == 0)
			q = &p->pairs[i];
	if (!q) {
		xgrow(p->pairs, p->cap_pairs, p->n_pairs + 1);
		q = &p->pairs[p->n_pairs++];
		memset(q, 0, sizeof(*q));
		q->primary = xstrdup(acted->packer);
		q->challenger = xstrdup(sh->packer);
	}
	/* Prices of plans that placed different pods measure different work. */
	if (sh->placed != acted->placed) {
		if (sh->placed > acted->placed)
			q->more++;
		else
			q->fewer++;
		return;
	}
	xgrow(q->d, q->cap, q->n + 1);
	q->d[q->n++] = acted->price - sh->price;
	/* Bounded by the acting packer's total price, which figs_fit checked. */
	q->primary_sum += acted->price;
}

/* Adds the names of a selection ("a=70,b=30" or "a") to the split order. */
static void split_order_add(struct ab_pool *p, const char *sel)
{
	while (*sel) {
		size_t item = strcspn(sel, ","), name = strcspn(sel, "=,");
		size_t start = 0;
		while (start < name && sel[start] == ' ')
			start++;
		while (name > start && sel[name - 1] == ' ')
			name--;
		if (name > start) {
			char *s = xstrndup(sel + start, name - start);
			strset_add(&p->split_order, s);
			free(s);
		}
		sel += item;
		if (*sel == ',')
			sel++;
	}
}

static void sample_add(struct ab_pool *p, const struct ab_rec *rec)
{
	split_order_add(p, rec->selection);
	size_t i = strset_add(&p->split_order, rec->acted.packer);
	if (p->split_order.n > p->cap_samples) {
		size_t old = p->cap_samples;
		xgrow(p->samples, p->cap_samples, p->split_order.n);
		memset(p->samples + old, 0, (p->cap_samples - old) * sizeof(*p->samples));
	}
	struct ab_sample *s = &p->samples[i];
	if (!rec->acted.placed_new) {
		s->no_new++;
		return;
	}
	xgrow(s->per_pod, s->cap, s->n + 1);
	s->per_pod[s->n++] = (double)rec->acted.price / (double)rec->acted.placed_new;
}

static void pool_add(struct ab_report *r, const struct ab_rec *rec)
{
	struct ab_pool *p = pool_get(r, rec->nodepool);

	p->batches++;
	p->by_mode[rec->mode]++;
	figs_add(figs_get(p, rec->acted.packer, false), &rec->acted);
	if (rec->has_shadow) {
		figs_add(figs_get(p, rec->shadow.packer, true), &rec->shadow);
		pair_add(p, &rec->acted, &rec->shadow);
	} else if (rec->mode == AB_SHADOW) {
		p->no_shadow++;
	}
	if (rec->mode == AB_SPLIT) {
		if (!p->selection || strcmp(p->selection, rec->selection) != 0) {
			free(p->selection);
			p->selection = xstrdup(rec->selection);
		}
		sample_add(p, rec);
	}
}

/* ------------------------------------------------------------ the report */

struct ab_report *ab_new(void)
{
	struct ab_report *r = xcalloc(1, sizeof(struct ab_report));
	sb_init(&r->warnings);
	return r;
}

static void pool_clear(struct ab_pool *p)
{
	for (size_t i = 0; i < p->n_figs; i++)
		free(p->figs[i].packer);
	free(p->figs);
	for (size_t i = 0; i < p->n_pairs; i++) {
		free(p->pairs[i].primary);
		free(p->pairs[i].challenger);
		free(p->pairs[i].d);
	}
	free(p->pairs);
	for (size_t i = 0; i < p->split_order.n; i++)
		free(p->samples[i].per_pod);
	free(p->samples);
	strset_clear(&p->split_order);
	free(p->selection);
	free(p->name);
}

void ab_free(struct ab_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_pools; i++)
		pool_clear(&r->pools[i]);
	free(r->pools);
	sb_free(&r->warnings);
	free(r);
}

const char *ab_warnings(const struct ab_report *r)
{
	return r->warnings.len ? r->warnings.buf : NULL;
}

int ab_add_line(struct ab_report *r, const json_t *line, struct kerf_error *err)
{
	const json_t *batch, *nps, *o;
	struct ab_rec *recs;
	char at[128];
	size_t i, n;
	int rc = 0;

	if (!json_is_object(line))
		return kerf_error_set(err, KERF_E_PARSE, "expected a JSON object, got %s",
				      json_kind(line));
	batch = json_object_get(line, "batch");
	if (json_object_get(line, "event") || !batch)
		return 0;
	nps = json_object_get(line, "nodepools");
	if (!nps) {
		r->batch_lines++;
		r->bare_lines++;
		return 0;
	}
	if (json_is_integer(batch))
		snprintf(at, sizeof(at), "batch %lld: ", (long long)json_integer_value(batch));
	else
		at[0] = '\0';
	if (!json_is_array(nps))
		return kerf_error_set(err, KERF_E_PARSE, "%snodepools: expected an array, got %s",
				      at, json_kind(nps));
	n = json_array_size(nps);
	recs = xcalloc(n + 1, sizeof(*recs));
	/* Everything is checked before anything is added, so a bad line adds nothing. */
	json_array_foreach(nps, i, o)
	{
		char here[192];
		snprintf(here, sizeof(here), "%snodepools[%zu]", at, i);
		if ((rc = parse_rec(o, here, &recs[i], err)) != 0)
			goto out;
		for (size_t k = 0; k < i; k++)
			if (strcmp(recs[k].nodepool, recs[i].nodepool) == 0) {
				rc = kerf_error_set(err, KERF_E_PARSE,
						    "%s.nodepool: \"%s\" is also nodepools[%zu]",
						    here, recs[i].nodepool, k);
				goto out;
			}
		if (!figs_fit(r, recs[i].nodepool, &recs[i].acted, false) ||
		    (recs[i].has_shadow && !figs_fit(r, recs[i].nodepool, &recs[i].shadow, true))) {
			rc = kerf_error_set(err, KERF_E_RANGE,
					    "%s: the NodePool's totals no longer fit in 64 bits",
					    here);
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		pool_add(r, &recs[i]);
	r->batch_lines++;
out:
	free(recs);
	return rc;
}

/* Room in *buf for one more byte after len and a terminator. */
static int grow_line(char **buf, size_t *cap, size_t len)
{
	if (len + 1 < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 4096;
	char *nb = realloc(*buf, ncap);
	if (!nb)
		return KERF_E_NOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/*
 * The next line of f into *buf (without its newline; *len its length, NUL
 * bytes included), growing *buf up to AB_LINE_MAX.  0 with *eol telling
 * whether a newline ended it, 1 at the end of the file, or KERF_E_RANGE
 * (too long), KERF_E_NOMEM or KERF_E_IO (errno kept).
 */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len, bool *eol)
{
	int ch;

	*len = 0;
	*eol = false;
	while ((ch = getc_unlocked(f)) != EOF) {
		if (ch == '\n') {
			*eol = true;
			break;
		}
		if (*len >= AB_LINE_MAX)
			return KERF_E_RANGE;
		if (grow_line(buf, cap, *len) != 0)
			return KERF_E_NOMEM;
		(*buf)[(*len)++] = (char)ch;
	}
	if (ch == EOF && ferror(f))
		return KERF_E_IO;
	if (ch == EOF && *len == 0)
		return 1;
	/* An empty first line has no buffer yet; its terminator needs one. */
	if (grow_line(buf, cap, *len) != 0)
		return KERF_E_NOMEM;
	(*buf)[*len] = '\0';
	return 0;
}

int ab_read_file(struct ab_report *r, const char *path, struct kerf_error *err)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len;
	unsigned lineno = 0;
	bool eol;
	int rc = 0, got;

	if (!f)
		return kerf_error_set(err, KERF_E_IO, "%s: cannot open: %s", path, strerror(errno));
	while ((got = read_line(f, &buf, &cap, &len, &eol)) == 0) {
		json_error_t jerr;
		json_t *line;
		lineno++;
		while (len > 0 && buf[len - 1] == '\r')
			len--;
		if (strspn(buf, " \t") >= len)
			continue;
		line = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!line && !eol) {
			/* What a full disk or a crash mid-write leaves; the lines before stand. */
			sb_printf(
			    &r->warnings,
			    "%s:%u: the last line is cut short (%zu bytes without a newline): "
			    "skipped\n",
			    path, lineno, len);
			break;
		}
		if (!line) {
			rc = kerf_error_set(err, KERF_E_PARSE, "%s:%u:%d: %s", path, lineno,
					    jerr.column, jerr.text);
			if (err) {
				err->line = lineno;
				err->column = jerr.column > 0 ? (unsigned)jerr.column : 0;
			}
			break;
		}
		rc = ab_add_line(r, line, err);
		json_decref(line);
		if (rc) {
			char msg[KERF_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
			kerf_error_set(err, rc, "%s:%u: %s", path, lineno, msg);
			if (err)
				err->line = lineno;
			break;
		}
	}
	if (got == KERF_E_RANGE)
		rc = kerf_error_set(err, KERF_E_RANGE,
				    "%s:%u: line longer than %d bytes: not a decision log line",
				    path, lineno + 1, AB_LINE_MAX);
	else if (got == KERF_E_NOMEM)
		rc = kerf_error_set(err, KERF_E_NOMEM, "%s:%u: out of memory reading the line",
				    path, lineno + 1);
	else if (got == KERF_E_IO)
		rc = kerf_error_set(err, KERF_E_IO, "%s:%u: read error: %s", path, lineno + 1,
				    strerror(errno));
	if (got < 0 && err)
		err->line = lineno + 1;
	free(buf);
	fclose(f);
	return rc;
}

/*
 * Whether path looks like a kerfd --report file, read whole only then:
 * kerfd writes it indented, its first line "{" alone, where a decision
 * log's first line is a whole object.  A parsed JSON value costs some 64
 * bytes of memory; a report spends at least 8 bytes of text on each (a key,
 * indentation, a newline), so one denser than that is refused rather than
 * parsed into more than a few times its size.
 */
static int report_candidate(const char *path, bool *yes, struct kerf_error *err)
{
	FILE *f = fopen(path, "r");
	size_t bytes = 0, values = 1;
	int ch, first = 0;

	*yes = false;
	if (!f)
		return 0;
	while ((ch = getc_unlocked(f)) == ' ' || ch == '\t' || ch == '\r')
		;
	if (ch == '{') {
		while ((first = getc_unlocked(f)) == ' ' || first == '\t' || first == '\r')
			;
	}
	if (ch != '{' || first != '\n') {
		fclose(f);
		return 0;
	}
	while ((ch = getc_unlocked(f)) != EOF) {
		bytes++;
		values += ch == ',' || ch == ':';
	}
	fclose(f);
	if (bytes < 8 * values)
		return kerf_error_set(err, KERF_E_RANGE,
				      "%s: not a kerfd --report file: %zu values in %zu bytes is "
				      "denser than kerfd writes",
				      path, values, bytes);
	*yes = true;
	return 0;
}

int ab_kerfd_report_section(const char *path, json_t **ab, struct kerf_error *err)
{
	bool candidate;
	int rc = report_candidate(path, &candidate, err);

	*ab = NULL;
	if (rc || !candidate)
		return rc;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	/* A decision log of one line is one object too, but every line of it has time_ms. */
	if (json_is_object(doc) && !json_object_get(doc, "time_ms")) {
		json_t *sec = json_object_get(doc, "ab");
		if (sec)
			*ab = json_incref(sec);
		else if (json_object_get(doc, "batches") && json_object_get(doc, "nodes"))
			rc = kerf_error_set(
			    err, KERF_E_NOTFOUND,
			    "%s: a kerfd --report file without an \"ab\" section (from a kerfd "
			    "older than the A/B report); give its decision log instead",
			    path);
	}
	json_decref(doc);
	return rc;
}

int ab_keep_nodepool(struct ab_report *r, const char *name, struct kerf_error *err)
{
	struct ab_pool *p = pool_find(r, name);

	if (!p) {
		struct strbuf sb;
		sb_init(&sb);
		for (size_t i = 0; i < r->n_pools; i++)
			sb_printf(&sb, "%s%s", i ? ", " : "", r->pools[i].name);
		kerf_error_set(err, KERF_E_NOTFOUND, "no records for NodePool \"%s\" (%s%s)", name,
			       r->n_pools ? "the logs have " : "the logs have no NodePool records",
			       sb.buf);
		sb_free(&sb);
		return KERF_E_NOTFOUND;
	}
	struct ab_pool keep = *p;
	for (size_t i = 0; i < r->n_pools; i++)
		if (&r->pools[i] != p)
			pool_clear(&r->pools[i]);
	r->pools[0] = keep;
	r->n_pools = 1;
	return 0;
}

bool ab_has_comparison(const struct ab_report *r)
{
	for (size_t i = 0; i < r->n_pools; i++)
		if (r->pools[i].by_mode[AB_SHADOW] || r->pools[i].by_mode[AB_SPLIT])
			return true;
	return false;
}

/* ------------------------------------------------------------ comparisons */

/* A pool's comparisons: each shadow pair, then each split packer against the first. */
static size_t pool_cmps(const struct ab_pool *p, struct ab_cmp **out)
{
	size_t n_split = p->split_order.n > 1 ? p->split_order.n - 1 : 0, n = 0;
	struct ab_cmp *c = xcalloc(p->n_pairs + n_split + 1, sizeof(*c));

	for (size_t i = 0; i < p->n_pairs; i++)
		paired_cmp(&p->pairs[i], &c[n++]);
	for (size_t i = 1; i < p->split_order.n; i++)
		welch_cmp(p->split_order.items[0], &p->samples[0], p->split_order.items[i],
			  &p->samples[i], &c[n++]);
	*out = c;
	return n;
}

/* Dollars from micro-dollars, four decimals, the sign in front of the "$". */
static void money(struct strbuf *sb, double micro)
{
	char digits[64];

	snprintf(digits, sizeof(digits), "%.4f", fabs(micro) / 1e6);
	sb_printf(sb, "%s$%s", micro < 0 && strcmp(digits, "0.0000") != 0 ? "-" : "", digits);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/*
 * One sentence.  Amounts are stated in the direction the sentence names:
 * what the challenger saves when cheaper, what it adds when dearer.
 */
static void verdict(struct strbuf *sb, const struct ab_cmp *c)
{
	const char *unit = c->paired ? "per batch" : "per pod";
	double sign = c->saving < 0 ? -1 : 1;

	if (c->paired && !c->n_base) {
		sb_printf(sb,
			  "not enough batches: in none did %s and %s place the same number of "
			  "pods.",
			  c->baseline, c->challenger);
		return;
	}
	if (!c->paired && (!c->n_base || !c->n_chal)) {
		sb_printf(sb, "not enough batches: %s has none that put pods on new nodes.",
			  c->n_base ? c->challenger : c->baseline);
		return;
	}
	if (c->identical) {
		sb_printf(sb, "identical plans: %s would have launched the same hourly price as %s",
			  c->challenger, c->baseline);
		if (c->n_base == 1)
			sb_puts(sb, " in the one paired batch.");
		else
			sb_printf(sb, " in all %zu paired batches.", c->n_base);
		return;
	}
	sb_printf(sb, "%s %s ", c->challenger, c->paired ? "would have been" : "was");
	if (c->saving == 0) {
		sb_printf(sb, "as cheap as %s on average", c->baseline);
	} else {
		if (!isnan(c->rel))
			sb_printf(sb, "%.1f%% ", fabs(c->rel) * 100);
		sb_printf(sb, "%s%s than %s", c->saving > 0 ? "cheaper" : "more expensive",
			  c->paired ? "" : " per pod", c->baseline);
	}
	sb_puts(sb, " (");
	money(sb, sign * c->saving);
	sb_printf(sb, "/h %s%s", c->saving < 0 ? "more " : "", unit);
	if (!c->has_ci) {
		sb_printf(sb, "%s); not enough batches for a confidence interval.",
			  c->paired ? " in the one paired batch" : "");
		return;
	}
	sb_puts(sb, ", 95% CI ");
	money(sb, sign > 0 ? c->low : -c->high);
	sb_puts(sb, "..");
	money(sb, sign > 0 ? c->high : -c->low);
	sb_puts(sb, cmp_significant(c) ? "); the difference is significant."
				       : "); not significant at 95% (CI includes 0).");
}

/* The figures behind the verdict, for the text report. */
static void cmp_detail(struct strbuf *sb, const struct ab_cmp *c, const struct ab_pool *p,
		       size_t pair)
{
	if (c->paired) {
		const struct ab_pair *q = &p->pairs[pair];
		sb_printf(sb, "  %s in shadow of %s: %zu paired %s", c->challenger, c->baseline,
			  c->n_base, plural(c->n_base, "batch", "batches"));
		if (c->excluded) {
			sb_printf(sb,
				  ", %zu excluded (the packers placed different numbers of pods: "
				  "%s placed ",
				  c->excluded, c->challenger);
			if (q->more)
				sb_printf(sb, "more in %zu%s", q->more, q->fewer ? ", " : "");
			if (q->fewer)
				sb_printf(sb, "fewer in %zu", q->fewer);
			sb_puts(sb, ")");
		}
		sb_puts(sb, "\n");
		if (!c->n_base)
			return;
		sb_puts(sb, "    mean saving per batch ");
		money(sb, c->saving);
		sb_puts(sb, "/h");
		if (!isnan(c->rel))
			sb_printf(sb, " (%.1f%% of %s's price)", c->rel * 100, c->baseline);
	} else {
		sb_printf(sb, "  %s against %s, price per pod: %zu and %zu batches", c->challenger,
			  c->baseline, c->n_chal, c->n_base);
		if (c->excluded)
			sb_printf(sb, ", %zu excluded (no pods on new nodes)", c->excluded);
		sb_puts(sb, "\n");
		if (!c->n_base || !c->n_chal)
			return;
		sb_printf(sb, "    %s ", c->baseline);
		money(sb, c->base_mean);
		sb_printf(sb, "/h per pod, %s ", c->challenger);
		money(sb, c->chal_mean);
		sb_puts(sb, "/h; mean saving ");
		money(sb, c->saving);
		sb_puts(sb, "/h per pod");
		if (!isnan(c->rel))
			sb_printf(sb, " (%.1f%%)", c->rel * 100);
	}
	if (c->has_ci) {
		sb_puts(sb, ", 95% CI ");
		money(sb, c->low);
		sb_puts(sb, "..");
		money(sb, c->high);
		sb_printf(sb, " (%st %.3f, %.*f df)", c->paired ? "" : "Welch, ", c->t,
			  c->paired ? 0 : 1, c->df);
	} else {
		sb_puts(sb, ", no interval from a single batch");
	}
	sb_puts(sb, "\n");
}

static const char no_shadow_verdict[] =
    "not enough batches: the shadow packer gave no plan in any of them.";

/* ------------------------------------------------------------ text */

enum {
	COL_PACKER,
	COL_ROLE,
	COL_BATCHES,
	COL_PLACED,
	COL_NODES,
	COL_PRICE,
	COL_PER_POD,
	COL_CPU,
	COL_MEM,
	COL_SOLVE,
	COL_MAX,
	COL_GAP,
	N_COLS
};

static const char *const col_titles[N_COLS] = {
    "packer",	   "role", "batches", "placed",	  "nodes",  "$/h launched",
    "$/h per pod", "cpu",  "memory",  "solve ms", "max ms", "bound gap",
};

static char *cellf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cellf(const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb);
}

static char *money_cell(double micro)
{
	struct strbuf sb;

	sb_init(&sb);
	money(&sb, micro);
	return sb_detach(&sb);
}

static char *share_cell(int64_t num, int64_t den)
{
	return den > 0 ? cellf("%.1f%%", (double)num / (double)den * 100) : xstrdup("-");
}

static void figs_row(char **row, const struct ab_figs *f)
{
	row[COL_PACKER] = xstrdup(f->packer);
	row[COL_ROLE] = xstrdup(f->shadow ? "shadow" : "acted");
	row[COL_BATCHES] = cellf("%zu", f->batches);
	row[COL_PLACED] = cellf("%lld", (long long)f->placed);
	row[COL_NODES] = cellf("%lld", (long long)f->nodes);
	row[COL_PRICE] = money_cell((double)f->price);
	row[COL_PER_POD] =
	    f->placed_new ? money_cell((double)f->price / (double)f->placed_new) : xstrdup("-");
	row[COL_CPU] = share_cell(f->req_cpu, f->alloc_cpu);
	row[COL_MEM] = share_cell(f->req_mem, f->alloc_mem);
	row[COL_SOLVE] = cellf("%.2f", f->batches ? f->solve_sum / (double)f->batches : 0);
	row[COL_MAX] = cellf("%.2f", f->solve_max);
	row[COL_GAP] =
	    f->n_bound ? cellf("%.1f%% (%zu)", f->gap_sum / (double)f->n_bound * 100, f->n_bound)
		       : xstrdup("-");
}

/* Packer and role left-aligned, the figures right-aligned, each column as wide as its widest. */
static void print_table(struct strbuf *sb, const struct ab_pool *p)
{
	char *(*rows)[N_COLS] = xcalloc(p->n_figs + 1, sizeof(*rows));
	size_t width[N_COLS];

	for (size_t i = 0; i < p->n_figs; i++)
		figs_row(rows[i], &p->figs[i]);
	for (int c = 0; c < N_COLS; c++) {
		width[c] = strlen(col_titles[c]);
		for (size_t i = 0; i < p->n_figs; i++)
			if (strlen(rows[i][c]) > width[c])
				width[c] = strlen(rows[i][c]);
	}
	for (size_t i = 0; i <= p->n_figs; i++) {
		const char *const *cells = i ? (const char *const *)rows[i - 1] : col_titles;
		for (int c = 0; c < N_COLS; c++)
			sb_printf(sb, c < COL_BATCHES ? "  %-*s" : "  %*s", (int)width[c],
				  cells[c]);
		/* The last column is left-padded only, so no line ends in blanks. */
		sb_puts(sb, "\n");
	}
	for (size_t i = 0; i < p->n_figs; i++)
		for (int c = 0; c < N_COLS; c++)
			free(rows[i][c]);
	free(rows);
}

static size_t modes_used(const struct ab_pool *p)
{
	size_t n = 0;

	for (int m = 0; m < AB_N_MODES; m++)
		n += p->by_mode[m] != 0;
	return n;
}

static void mode_text(struct strbuf *sb, const struct ab_pool *p)
{
	bool mixed = modes_used(p) > 1, first = true;

	for (int m = 0; m < AB_N_MODES; m++) {
		if (!p->by_mode[m])
			continue;
		sb_puts(sb, first ? "" : ", ");
		first = false;
		if (mixed)
			sb_printf(sb, "%zu ", p->by_mode[m]);
		if (m == AB_SINGLE)
			sb_puts(sb, "single packer");
		else if (m == AB_SPLIT)
			sb_printf(sb, "split %s", p->selection);
		else
			sb_puts(sb, "shadow");
	}
}

void ab_print(const struct ab_report *r, FILE *f)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < r->n_pools; i++) {
		const struct ab_pool *p = &r->pools[i];
		struct ab_cmp *cmps;
		size_t n = pool_cmps(p, &cmps);
		sb_printf(&sb, "%sNodePool %s: ", i ? "\n" : "", p->name);
		mode_text(&sb, p);
		sb_printf(&sb, ", %zu %s\n", p->batches, plural(p->batches, "batch", "batches"));
		print_table(&sb, p);
		if (p->no_shadow)
			sb_printf(&sb,
				  "  %zu shadow-mode %s without a shadow plan (the shadow packer "
				  "failed): not compared\n",
				  p->no_shadow, plural(p->no_shadow, "batch", "batches"));
		for (size_t k = 0; k < n; k++) {
			cmp_detail(&sb, &cmps[k], p, k);
			sb_puts(&sb, "  verdict: ");
			verdict(&sb, &cmps[k]);
			sb_puts(&sb, "\n");
		}
		if (p->no_shadow && !p->n_pairs)
			sb_printf(&sb, "  verdict: %s\n", no_shadow_verdict);
		free(cmps);
	}
	if (!r->n_pools)
		sb_printf(&sb, "No NodePool records in %zu batch %s.\n", r->batch_lines,
			  plural(r->batch_lines, "line", "lines"));
	if (r->bare_lines)
		sb_printf(&sb,
			  "%s%zu batch %s without NodePool records (written by a kerfd from "
			  "before them) left out.\n",
			  r->n_pools ? "\n" : "", r->bare_lines,
			  plural(r->bare_lines, "line", "lines"));
	fputs(sb.buf, f);
	sb_free(&sb);
}

/* ------------------------------------------------------------ JSON */

/* Undefined figures (no batches, no interval) are null: jansson has no NaN. */
static json_t *real_or_null(bool defined, double v)
{
	return defined && isfinite(v) ? json_real(v) : json_null();
}

static json_t *figs_json(const struct ab_figs *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "packer", json_string(f->packer));
	json_object_set_new(o, "role", json_string(f->shadow ? "shadow" : "acted"));
	json_object_set_new(o, "batches", json_integer((json_int_t)f->batches));
	json_object_set_new(o, "pods", json_integer(f->pods));
	json_object_set_new(o, "placed", json_integer(f->placed));
	json_object_set_new(o, "placed_new", json_integer(f->placed_new));
	json_object_set_new(o, "nodes", json_integer(f->nodes));
	json_object_set_new(o, "price_micro_usd_per_hour", json_integer(f->price));
	json_object_set_new(o, "price_per_hour", json_real((double)f->price / 1e6));
	json_object_set_new(
	    o, "price_per_pod_per_hour",
	    real_or_null(f->placed_new > 0, (double)f->price / 1e6 / (double)f->placed_new));
	json_object_set_new(
	    o, "cpu_utilisation",
	    real_or_null(f->alloc_cpu > 0, (double)f->req_cpu / (double)f->alloc_cpu));
	json_object_set_new(
	    o, "memory_utilisation",
	    real_or_null(f->alloc_mem > 0, (double)f->req_mem / (double)f->alloc_mem));
	json_object_set_new(o, "solve_ms_mean",
			    real_or_null(f->batches > 0, f->solve_sum / (double)f->batches));
	json_object_set_new(o, "solve_ms_max", json_real(f->solve_max));
	json_object_set_new(o, "bound_batches", json_integer((json_int_t)f->n_bound));
	json_object_set_new(o, "bound_gap_mean",
			    real_or_null(f->n_bound > 0, f->gap_sum / (double)f->n_bound));
	json_object_set_new(o, "optimal_batches", json_integer((json_int_t)f->n_optimal));
	return o;
}

/* The keys every comparison has, money in dollars per hour. */
static void cmp_json_common(json_t *o, const struct ab_cmp *c, bool has_mean)
{
	struct strbuf sb;

	json_object_set_new(o, "relative_saving", real_or_null(has_mean, c->rel));
	json_object_set_new(o, "ci_low", real_or_null(c->has_ci, c->low / 1e6));
	json_object_set_new(o, "ci_high", real_or_null(c->has_ci, c->high / 1e6));
	json_object_set_new(o, "t", real_or_null(c->has_ci, c->t));
	json_object_set_new(o, "df", real_or_null(c->has_ci, c->df));
	json_object_set_new(o, "significant", json_boolean(cmp_significant(c)));
	sb_init(&sb);
	verdict(&sb, c);
	json_object_set_new(o, "verdict", json_string(sb.buf));
	sb_free(&sb);
}

static json_t *pair_json(const struct ab_cmp *c, const struct ab_pair *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "primary", json_string(c->baseline));
	json_object_set_new(o, "challenger", json_string(c->challenger));
	json_object_set_new(o, "n", json_integer((json_int_t)c->n_base));
	json_object_set_new(o, "excluded", json_integer((json_int_t)c->excluded));
	json_object_set_new(o, "excluded_challenger_placed_more",
			    json_integer((json_int_t)q->more));
	json_object_set_new(o, "excluded_challenger_placed_fewer",
			    json_integer((json_int_t)q->fewer));
	json_object_set_new(o, "mean_saving_per_hour",
			    real_or_null(c->n_base > 0, c->saving / 1e6));
	json_object_set_new(o, "identical", json_boolean(c->identical));
	cmp_json_common(o, c, c->n_base > 0);
	return o;
}

static json_t *split_json(const struct ab_cmp *c)
{
	json_t *o = json_object();
	bool both = c->n_base && c->n_chal;

	json_object_set_new(o, "baseline", json_string(c->baseline));
	json_object_set_new(o, "challenger", json_string(c->challenger));
	json_object_set_new(o, "n_baseline", json_integer((json_int_t)c->n_base));
	json_object_set_new(o, "n_challenger", json_integer((json_int_t)c->n_chal));
	json_object_set_new(o, "excluded_no_new_nodes", json_integer((json_int_t)c->excluded));
	json_object_set_new(o, "baseline_per_pod_per_hour",
			    real_or_null(c->n_base > 0, c->base_mean / 1e6));
	json_object_set_new(o, "challenger_per_pod_per_hour",
			    real_or_null(c->n_chal > 0, c->chal_mean / 1e6));
	json_object_set_new(o, "mean_saving_per_pod_per_hour", real_or_null(both, c->saving / 1e6));
	cmp_json_common(o, c, both);
	return o;
}

static json_t *pool_json(const struct ab_pool *p)
{
	json_t *o = json_object(), *by = json_object(), *figs = json_array();
	json_t *pairs = json_array(), *split = json_array();
	struct ab_cmp *cmps;
	size_t n = pool_cmps(p, &cmps);
	struct strbuf all;

	json_object_set_new(o, "nodepool", json_string(p->name));
	for (int m = 0; m < AB_N_MODES; m++) {
		json_object_set_new(by, mode_names[m], json_integer((json_int_t)p->by_mode[m]));
		if (p->by_mode[m] && modes_used(p) == 1)
			json_object_set_new(o, "mode", json_string(mode_names[m]));
	}
	if (modes_used(p) > 1)
		json_object_set_new(o, "mode", json_string("mixed"));
	json_object_set_new(o, "selection", p->selection ? json_string(p->selection) : json_null());
	json_object_set_new(o, "batches", json_integer((json_int_t)p->batches));
	json_object_set_new(o, "batches_by_mode", by);
	json_object_set_new(o, "batches_without_shadow_plan",
			    json_integer((json_int_t)p->no_shadow));
	for (size_t i = 0; i < p->n_figs; i++)
		json_array_append_new(figs, figs_json(&p->figs[i]));
	json_object_set_new(o, "packers", figs);
	sb_init(&all);
	for (size_t k = 0; k < n; k++) {
		if (cmps[k].paired)
			json_array_append_new(pairs, pair_json(&cmps[k], &p->pairs[k]));
		else
			json_array_append_new(split, split_json(&cmps[k]));
		sb_puts(&all, k ? " " : "");
		verdict(&all, &cmps[k]);
	}
	json_object_set_new(o, "pairs", pairs);
	json_object_set_new(o, "split", split);
	if (!n && p->no_shadow)
		sb_puts(&all, no_shadow_verdict);
	json_object_set_new(o, "verdict", all.len ? json_string(all.buf) : json_null());
	sb_free(&all);
	free(cmps);
	return o;
}

json_t *ab_json(const struct ab_report *r)
{
	json_t *o = json_object(), *pools = json_array();

	json_object_set_new(o, "batch_lines", json_integer((json_int_t)r->batch_lines));
	json_object_set_new(o, "batch_lines_without_nodepools",
			    json_integer((json_int_t)r->bare_lines));
	for (size_t i = 0; i < r->n_pools; i++)
		json_array_append_new(pools, pool_json(&r->pools[i]));
	json_object_set_new(o, "nodepools", pools);
	return o;
}

/* ------------------------------------------------------------ kerfd's report */

int ab_section_keep_nodepool(json_t *ab, const char *name, struct kerf_error *err)
{
	json_t *pools = json_object_get(ab, "nodepools"), *o, *kept;
	size_t i;

	if (!json_is_array(pools))
		return kerf_error_set(err, KERF_E_PARSE,
				      "its \"ab\" section has no \"nodepools\" list");
	if (!name)
		return 0;
	kept = json_array();
	json_array_foreach(pools, i, o)
	{
		const char *pool = json_string_value(json_object_get(o, "nodepool"));
		if (pool && strcmp(pool, name) == 0)
			json_array_append(kept, o);
	}
	if (!json_array_size(kept)) {
		json_decref(kept);
		return kerf_error_set(err, KERF_E_NOTFOUND, "no records for NodePool \"%s\"", name);
	}
	json_object_set_new(ab, "nodepools", kept);
	return 0;
}

void ab_section_print(const json_t *ab, FILE *f)
{
	const json_t *o;
	size_t i;

	fputs("From a kerfd --report file: the verdicts only (-o json shows its figures, the "
	      "decision log gives the whole report).\n",
	      f);
	json_array_foreach(json_object_get(ab, "nodepools"), i, o)
	{
		const char *name = json_string_value(json_object_get(o, "nodepool"));
		const char *mode = json_string_value(json_object_get(o, "mode"));
		const char *v = json_string_value(json_object_get(o, "verdict"));
		fprintf(f, "NodePool %s (%s): %s\n", name ? name : "?", mode ? mode : "?",
			v ? v : "no comparison (one packer).");
	}
}
