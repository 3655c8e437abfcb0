/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_requirements.c - requirement sets (Karpenter semantics) and label rules.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>

#include "labels.h"
#include "nodeclass.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MAX_SPECS 4

#define ZONE "topology.kubernetes.io/zone"
#define ARCH "kubernetes.io/arch"
#define ITYPE "node.kubernetes.io/instance-type"
#define CPU "karpenter.k8s.aws/instance-cpu"
#define CTYPE "karpenter.sh/capacity-type"

static kerf_operator op_from_name(const char *name)
{
	static const kerf_operator ops[] = {
	    KERF_OP_IN, KERF_OP_NOT_IN, KERF_OP_EXISTS, KERF_OP_DOES_NOT_EXIST,
	    KERF_OP_GT, KERF_OP_LT,	KERF_OP_GTE,	KERF_OP_LTE};
	for (int i = 0; i < N_ELEMS(ops); i++) {
		if (strcmp(name, kerf_operator_name(ops[i])) == 0)
			return ops[i];
	}
	ck_abort_msg("bad operator %s in test spec", name);
	return KERF_OP_IN;
}

/*
 * Adds one requirement written as "key Op v1,v2 [min=N]" to s: the tables
 * below stay readable this way.
 */
/* Splits s at the first sep: returns s, and *rest the text after it (NULL at the end). */
static char *cut(char *s, char sep, char **rest)
{
	char *p = s ? strchr(s, sep) : NULL;

	if (p)
		*p++ = '\0';
	*rest = p;
	return s;
}

static void add_spec(struct kerf_reqset *s, const char *spec)
{
	char buf[512], *rest, *key, *op, *vals, *extra;
	const char *values[16];
	size_t n = 0;
	int32_t min = 0;
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(buf, sizeof(buf), "%s", spec);
	key = cut(buf, ' ', &rest);
	op = cut(rest, ' ', &rest);
	vals = cut(rest, ' ', &rest);
	extra = rest;
	ck_assert_msg(key && op, "bad spec %s", spec);
	if (vals && strncmp(vals, "min=", 4) == 0) {
		extra = vals;
		vals = NULL;
	}
	if (extra)
		min = (int32_t)strtol(extra + 4, NULL, 10);
	while (vals && n < 16)
		values[n++] = cut(vals, ',', &vals);
	kerf_error_clear(&err);
	int rc = kerf_reqset_add(s, key, op_from_name(op), values, n, min, &err);
	ck_assert_msg(rc == 0, "%s: %s", spec, err.message);
}

static struct kerf_reqset *mk(const char *const specs[MAX_SPECS])
{
	struct kerf_reqset *s = kerf_reqset_new();

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < MAX_SPECS && specs[i]; i++)
		add_spec(s, specs[i]);
	return s;
}

/* ---------------------------------------------------------- intersection */

static const struct {
	const char *specs[MAX_SPECS];
	const char *want;
} intersections[] = {
    {{"k In a,b", "k In b,c"}, "k In [b]"},
    {{"k In a,b", "k NotIn a"}, "k In [b]"},
    {{"k NotIn a", "k In a,b"}, "k In [b]"},
    {{"k NotIn a", "k NotIn b"}, "k NotIn [a, b]"},
    {{"k Exists", "k In a"}, "k In [a]"},
    {{"k Exists", "k Exists"}, "k Exists"},
    {{"k Exists", "k DoesNotExist"}, "k DoesNotExist"},
    {{"k NotIn a", "k DoesNotExist"}, "k DoesNotExist"},
    {{"k In a", "k In b"}, "k DoesNotExist"},
    {{"k In b,a,b"}, "k In [a, b]"},
    {{"k Gt 5", "k Lt 10"}, "k Gte 6 Lte 9"},
    {{"k Gt 5", "k Lt 6"}, "k DoesNotExist"},
    {{"k Gte 5", "k Lte 5"}, "k Gte 5 Lte 5"},
    {{"k Lte 3", "k Gte 4"}, "k DoesNotExist"},
    {{"k Gt 2", "k Gt 7", "k Gte 3"}, "k Gte 8"},
    {{"k Lt 9", "k Lte 3"}, "k Lte 3"},
    {{"k Gt 9223372036854775807"}, "k DoesNotExist"},
    {{"k Lt -9223372036854775808"}, "k DoesNotExist"},
    {{"k In 1,5,10,x", "k Gt 4"}, "k In [10, 5]"},
    {{"k Gte 1", "k In a"}, "k DoesNotExist"},
    {{"k NotIn 7", "k Gte 5"}, "k NotIn [7] Gte 5"},
    {{"k NotIn 3", "k Gte 5"}, "k Gte 5"}, /* bounds drop exclusions they cover */
    {{"k In a,b,c min=2", "k In a,b min=1"}, "k In [a, b] minValues 2"},
    {{"k Exists min=3", "k NotIn x"}, "k NotIn [x] minValues 3"},
    {{"beta.kubernetes.io/arch In amd64", "kubernetes.io/arch In amd64,arm64"},
     "kubernetes.io/arch In [amd64]"},
    {{"failure-domain.beta.kubernetes.io/zone In a", "b In x"},
     "b In [x], topology.kubernetes.io/zone In [a]"},
    {{"k In a,b,c,d,e,f,g"}, "k In [a, b, c, d, e and 2 others]"},
};

START_TEST(intersection)
{
	struct kerf_reqset *s = mk(intersections[_i].specs);
	char buf[512];
	struct kerf_requirements reqs;
	struct kerf_reqset *back;
	char buf2[512];

	ck_assert_int_eq(kerf_reqset_format(s, buf, sizeof(buf)),
			 (int)strlen(intersections[_i].want));
	ck_assert_str_eq(buf, intersections[_i].want);

	/* Written back as requirements and read again, the set is the same. */
	ck_assert_int_eq(kerf_reqset_to_requirements(s, &reqs, NULL), 0);
	back = kerf_reqset_new();
	ck_assert_int_eq(kerf_reqset_add_requirements(back, &reqs, NULL), 0);
	kerf_reqset_format(back, buf2, sizeof(buf2));
	ck_assert_str_eq(buf2, buf);
	kerf_requirements_clear(&reqs);
	kerf_reqset_free(back);
	kerf_reqset_free(s);
}
END_TEST

/* --------------------------------------------------------- compatibility */

static const struct {
	const char *a[MAX_SPECS];
	const char *b[MAX_SPECS];
	unsigned flags;
	bool want;
	const char *why;
} compat[] = {
    {{ITYPE " In m5.large"}, {ITYPE " In m5.large,t3.medium"}, 0, true, ""},
    {{ITYPE " In t3.medium"},
     {ITYPE " In m5.large"},
     0,
     false,
     "key \"node.kubernetes.io/instance-type\" requires In [m5.large] but only In [t3.medium] is "
     "allowed"},
    {{NULL}, {"custom In x"}, 0, false, "key \"custom\" requires In [x] but it is not defined"},
    {{NULL}, {"custom NotIn x"}, 0, true, ""},
    {{NULL}, {"custom DoesNotExist"}, 0, true, ""},
    {{NULL}, {"custom Exists"}, 0, false, "key \"custom\" requires Exists but it is not defined"},
    {{NULL},
     {"custom Exists"},
     KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN,
     false,
     "key \"custom\" requires Exists but it is not defined"},
    {{NULL}, {"custom In x"}, KERF_REQSET_ALLOW_UNDEFINED, true, ""},
    {{NULL},
     {ZONE " In a"},
     0,
     false,
     "key \"topology.kubernetes.io/zone\" requires In [a] but it is not defined"},
    {{NULL}, {ZONE " In a"}, KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN, true, ""},
    {{NULL}, {CPU " Gt 4"}, KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN, true, ""},
    {{ZONE " DoesNotExist"}, {ZONE " DoesNotExist"}, 0, true, ""},
    {{ZONE " NotIn a"}, {ZONE " DoesNotExist"}, 0, true, ""},
    {{ZONE " DoesNotExist"}, {ZONE " NotIn a"}, 0, true, ""},
    {{ZONE " In a"},
     {ZONE " DoesNotExist"},
     0,
     false,
     "key \"topology.kubernetes.io/zone\" requires DoesNotExist but only In [a] is allowed"},
    {{ZONE " DoesNotExist"},
     {ZONE " In a"},
     0,
     false,
     "key \"topology.kubernetes.io/zone\" requires In [a] but only DoesNotExist is allowed"},
    {{ZONE " Exists"}, {ZONE " NotIn a"}, 0, true, ""},
    {{ZONE " In a"}, {ZONE " Exists"}, 0, true, ""},
    {{ZONE " NotIn a"}, {ZONE " NotIn b"}, 0, true, ""},
    {{CPU " Gt 4"},
     {CPU " Lt 3"},
     0,
     false,
     "key \"karpenter.k8s.aws/instance-cpu\" requires Lte 2 but only Gte 5 is allowed"},
    {{CPU " Gt 4"}, {CPU " Lt 6"}, 0, true, ""},
    {{CPU " In 2,4,8"}, {CPU " Gte 8"}, 0, true, ""},
    {{CPU " In 2,4,8"},
     {CPU " Gt 8"},
     0,
     false,
     "key \"karpenter.k8s.aws/instance-cpu\" requires Gte 9 but only In [2, 4, 8] is allowed"},
    {{CPU " Lte 8"}, {CPU " In 16,8"}, 0, true, ""},
    {{ARCH " In amd64"}, {"beta.kubernetes.io/arch In amd64"}, 0, true, ""},
    {{ARCH " In amd64"},
     {"beta.kubernetes.io/arch In arm64"},
     0,
     false,
     "key \"kubernetes.io/arch\" requires In [arm64] but only In [amd64] is allowed"},
    {{"karpenter.k8s.aws/instance-category NotIn t"},
     {"karpenter.k8s.aws/instance-category In t"},
     0,
     false,
     "key \"karpenter.k8s.aws/instance-category\" requires In [t] but only NotIn [t] is allowed"},
    {{CTYPE " In on-demand,spot"}, {CTYPE " Exists"}, 0, true, ""},
    {{"karpenter.sh/nodepool In default"},
     {"karpenter.sh/nodepool NotIn default"},
     0,
     false,
     "key \"karpenter.sh/nodepool\" requires NotIn [default] but only In [default] is allowed"},
    /* Keys only the first side has never matter. */
    {{ZONE " In a", "custom In x"}, {ZONE " In a"}, 0, true, ""},
    /* The first failing key, in key order, is reported. */
    {{ARCH " In amd64", ZONE " In a"},
     {ZONE " In b", ARCH " In arm64"},
     0,
     false,
     "key \"kubernetes.io/arch\" requires In [arm64] but only In [amd64] is allowed"},
};

START_TEST(compatibility)
{
	struct kerf_reqset *a = mk(compat[_i].a), *b = mk(compat[_i].b);
	char why[256] = "junk";

	bool got = kerf_reqset_compatible(a, b, compat[_i].flags, why, sizeof(why));
	ck_assert_msg(got == compat[_i].want, "case %d: got %d (%s)", _i, got, why);
	ck_assert_str_eq(why, compat[_i].why);
	/* why is optional. */
	ck_assert(kerf_reqset_compatible(a, b, compat[_i].flags, NULL, 0) == compat[_i].want);
	kerf_reqset_free(a);
	kerf_reqset_free(b);
}
END_TEST

/* ---------------------------------------------------------------- allows */

static const struct {
	const char *spec;
	const char *key;
	const char *value;
	bool want;
} allows[] = {
    {"k In a,b", "k", "a", true},
    {"k In a,b", "k", "c", false},
    {"k In a,b", "k", NULL, false},
    {"k NotIn a", "k", "a", false},
    {"k NotIn a", "k", "b", true},
    {"k NotIn a", "k", NULL, true},
    {"k Exists", "k", "", true},
    {"k Exists", "k", NULL, false},
    {"k DoesNotExist", "k", "a", false},
    {"k DoesNotExist", "k", NULL, true},
    {"k Gt 4", "k", "5", true},
    {"k Gt 4", "k", "4", false},
    {"k Gt 4", "k", "x", false},
    {"k Gt 4", "k", NULL, false},
    {"k Lte 4", "k", "-3", true},
    {"k Lte 4", "k", "+4", true},
    {"k Lte 4", "k", " 4", false},
    {"k In a", "other", "z", true},
    {"k In a", "other", NULL, true},
    {"beta.kubernetes.io/os In linux", "kubernetes.io/os", "linux", true},
    {"kubernetes.io/os In linux", "beta.kubernetes.io/os", "windows", false},
};

START_TEST(allows_value)
{
	const char *specs[MAX_SPECS] = {allows[_i].spec};
	struct kerf_reqset *s = mk(specs);

	ck_assert_msg(kerf_reqset_allows(s, allows[_i].key, allows[_i].value) == allows[_i].want,
		      "%s allows %s=%s", allows[_i].spec, allows[_i].key,
		      allows[_i].value ? allows[_i].value : "(absent)");
	kerf_reqset_free(s);
}
END_TEST

START_TEST(matches_labels)
{
	const char *specs[MAX_SPECS] = {ARCH " In amd64", ZONE " NotIn us-east-1c",
					"gpu DoesNotExist"};
	struct kerf_reqset *s = mk(specs);
	struct kerf_labels l = {0, NULL};
	char why[256];

	ck_assert_int_eq(kerf_labels_set(&l, ARCH, "amd64"), 0);
	ck_assert(kerf_reqset_matches_labels(s, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(kerf_labels_set(&l, ZONE, "us-east-1c"), 0);
	ck_assert(!kerf_reqset_matches_labels(s, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "key \"topology.kubernetes.io/zone\" requires NotIn [us-east-1c] but "
			      "the label is \"us-east-1c\"");
	ck_assert_int_eq(kerf_labels_set(&l, ZONE, "us-east-1a"), 0);
	ck_assert_int_eq(kerf_labels_set(&l, "gpu", "true"), 0);
	ck_assert(!kerf_reqset_matches_labels(s, &l, why, sizeof(why)));
	ck_assert_str_eq(why, "key \"gpu\" requires DoesNotExist but the label is \"true\"");
	kerf_labels_clear(&l);
	ck_assert_int_eq(kerf_labels_set(&l, ZONE, "us-east-1a"), 0);
	ck_assert(!kerf_reqset_matches_labels(s, &l, why, sizeof(why)));
	ck_assert_str_eq(why,
			 "key \"kubernetes.io/arch\" requires In [amd64] but the label is missing");
	ck_assert(kerf_reqset_matches_labels(NULL, &l, NULL, 0));
	kerf_labels_clear(&l);
	kerf_reqset_free(s);
}
END_TEST

/* --------------------------------------------------------------- queries */

START_TEST(queries)
{
	const char *specs[MAX_SPECS] = {ZONE " In b,a min=2", CPU " Gt 3", CPU " Lte 16",
					"beta.kubernetes.io/arch NotIn arm64"};
	struct kerf_reqset *s = mk(specs);
	const char *const *vals;
	int64_t lo, hi;

	ck_assert_uint_eq(kerf_reqset_count(s), 3);
	ck_assert_str_eq(kerf_reqset_key(s, 0), CPU);
	ck_assert_str_eq(kerf_reqset_key(s, 1), ARCH);
	ck_assert_str_eq(kerf_reqset_key(s, 2), ZONE);
	ck_assert_ptr_null(kerf_reqset_key(s, 3));
	ck_assert(kerf_reqset_has_key(s, "failure-domain.beta.kubernetes.io/zone"));
	ck_assert(!kerf_reqset_has_key(s, "custom"));

	ck_assert_int_eq(kerf_reqset_operator(s, ZONE), KERF_OP_IN);
	ck_assert_int_eq(kerf_reqset_operator(s, ARCH), KERF_OP_NOT_IN);
	ck_assert_int_eq(kerf_reqset_operator(s, CPU), KERF_OP_EXISTS);
	ck_assert_int_eq(kerf_reqset_operator(s, "custom"), KERF_OP_EXISTS);

	ck_assert_uint_eq(kerf_reqset_values(s, ZONE, &vals), 2);
	ck_assert_str_eq(vals[0], "a");
	ck_assert_str_eq(vals[1], "b");
	ck_assert_uint_eq(kerf_reqset_values(s, ARCH, &vals), 1);
	ck_assert_str_eq(vals[0], "arm64");
	ck_assert_uint_eq(kerf_reqset_values(s, "custom", &vals), 0);
	ck_assert_ptr_null(vals);
	ck_assert_uint_eq(kerf_reqset_values(s, ZONE, NULL), 2);

	ck_assert(kerf_reqset_bounds(s, CPU, &lo, &hi));
	ck_assert_int_eq(lo, 4);
	ck_assert_int_eq(hi, 16);
	ck_assert(!kerf_reqset_bounds(s, ZONE, &lo, &hi));
	ck_assert_int_eq(lo, INT64_MIN);
	ck_assert_int_eq(hi, INT64_MAX);

	ck_assert_int_eq(kerf_reqset_min_values(s, ZONE), 2);
	ck_assert_int_eq(kerf_reqset_min_values(s, CPU), 0);

	kerf_reqset_remove(s, "beta.kubernetes.io/arch");
	ck_assert_uint_eq(kerf_reqset_count(s), 2);
	ck_assert(!kerf_reqset_has_key(s, ARCH));
	kerf_reqset_remove(s, "missing");
	ck_assert_uint_eq(kerf_reqset_count(s), 2);
	kerf_reqset_free(s);

	/* NULL sets read as empty. */
	ck_assert_uint_eq(kerf_reqset_count(NULL), 0);
	ck_assert(kerf_reqset_allows(NULL, "k", "v"));
	kerf_reqset_free(NULL);
}
END_TEST

START_TEST(to_requirements_shape)
{
	const char *specs[MAX_SPECS] = {"z In b,a min=2", CPU " Gt 3", CPU " Lte 16", "m NotIn 7"};
	struct kerf_reqset *s = mk(specs);
	struct kerf_requirements r;

	add_spec(s, "m Gte 0");
	ck_assert_int_eq(kerf_reqset_to_requirements(s, &r, NULL), 0);
	ck_assert_uint_eq(r.n, 5);
	ck_assert_str_eq(r.items[0]->key, CPU);
	ck_assert_int_eq(r.items[0]->op, KERF_OP_GTE);
	ck_assert_uint_eq(r.items[0]->n_values, 1);
	ck_assert_str_eq(r.items[0]->values[0], "4");
	ck_assert_int_eq(r.items[1]->op, KERF_OP_LTE);
	ck_assert_str_eq(r.items[1]->values[0], "16");
	ck_assert_str_eq(r.items[2]->key, "m");
	ck_assert_int_eq(r.items[2]->op, KERF_OP_NOT_IN);
	ck_assert_int_eq(r.items[3]->op, KERF_OP_GTE);
	ck_assert_str_eq(r.items[3]->values[0], "0");
	ck_assert_str_eq(r.items[4]->key, "z");
	ck_assert_int_eq(r.items[4]->op, KERF_OP_IN);
	ck_assert_int_eq(r.items[4]->min_values, 2);
	ck_assert_uint_eq(r.items[4]->n_values, 2);
	ck_assert_str_eq(r.items[4]->values[0], "a");
	kerf_requirements_clear(&r);
	kerf_requirements_clear(&r); /* twice is harmless */

	kerf_reqset_free(s);
	ck_assert_int_eq(kerf_reqset_to_requirements(NULL, &r, NULL), 0);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(copy_and_intersect)
{
	const char *pool[MAX_SPECS] = {ARCH " In amd64,arm64", ZONE " In a,b,c", CTYPE " In spot"};
	const char *pod[MAX_SPECS] = {ZONE " In b,d", "custom In x"};
	struct kerf_reqset *a = mk(pool), *b = mk(pod), *c;
	char buf[512];

	c = kerf_reqset_copy(a);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kerf_reqset_intersect(c, b, NULL), 0);
	kerf_reqset_format(c, buf, sizeof(buf));
	ck_assert_str_eq(
	    buf, "custom In [x], karpenter.sh/capacity-type In [spot], "
		 "kubernetes.io/arch In [amd64, arm64], topology.kubernetes.io/zone In [b]");
	/* The original is untouched. */
	kerf_reqset_format(a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "karpenter.sh/capacity-type In [spot], kubernetes.io/arch In [amd64, "
			      "arm64], topology.kubernetes.io/zone In [a, b, c]");
	/* Intersecting with itself changes nothing. */
	ck_assert_int_eq(kerf_reqset_intersect(a, a, NULL), 0);
	kerf_reqset_format(a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "karpenter.sh/capacity-type In [spot], kubernetes.io/arch In [amd64, "
			      "arm64], topology.kubernetes.io/zone In [a, b, c]");
	kerf_reqset_free(c);

	c = kerf_reqset_copy(NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(kerf_reqset_count(c), 0);
	kerf_reqset_free(c);
	kerf_reqset_free(a);
	kerf_reqset_free(b);
}
END_TEST

START_TEST(add_labels_and_requirements)
{
	struct kerf_reqset *s = kerf_reqset_new();
	struct kerf_labels l = {0, NULL};
	char *vals[] = {"amd64", "arm64"};
	struct kerf_requirement arch = {"beta.kubernetes.io/arch", KERF_OP_IN, 2, vals, 0};
	struct kerf_requirement *items[] = {&arch};
	struct kerf_requirements r = {1, items};
	char buf[256];

	ck_assert_int_eq(kerf_labels_set(&l, "team", "a"), 0);
	ck_assert_int_eq(kerf_labels_set(&l, ARCH, "arm64"), 0);
	ck_assert_int_eq(kerf_reqset_add_labels(s, &l, NULL), 0);
	ck_assert_int_eq(kerf_reqset_add_requirements(s, &r, NULL), 0);
	ck_assert_int_eq(kerf_reqset_add_requirements(s, NULL, NULL), 0);
	ck_assert_int_eq(kerf_reqset_add_labels(s, NULL, NULL), 0);
	kerf_reqset_format(s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "kubernetes.io/arch In [arm64], team In [a]");
	kerf_labels_clear(&l);
	kerf_reqset_free(s);
}
END_TEST

START_TEST(add_errors)
{
	struct kerf_reqset *s = kerf_reqset_new();
	struct kerf_error err;
	const char *abc[] = {"abc"}, *two[] = {"1", "2"}, *nul[] = {NULL},
		   *big[] = {"99999999999999999999"};
	char buf[256];

	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_GT, abc, 1, 0, &err), KERF_E_INVALID);
	ck_assert_str_eq(err.message,
			 "requirement \"k\": operator Gt needs exactly one integer value");
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_LTE, two, 2, 0, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_LT, NULL, 0, 0, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_GTE, big, 1, 0, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, "k", (kerf_operator)99, NULL, 0, 0, &err),
			 KERF_E_INVALID);
	ck_assert_str_eq(err.message, "requirement \"k\": unknown operator 99");
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_IN, nul, 1, 0, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_IN, NULL, 1, 0, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_IN, abc, 1, -1, &err), KERF_E_INVALID);
	ck_assert_str_eq(err.message, "requirement \"k\": minValues -1 is negative");
	ck_assert_int_eq(kerf_reqset_add(NULL, "k", KERF_OP_EXISTS, NULL, 0, 0, &err),
			 KERF_E_INVALID);
	ck_assert_int_eq(kerf_reqset_add(s, NULL, KERF_OP_EXISTS, NULL, 0, 0, NULL),
			 KERF_E_INVALID);
	/* Nothing was added by the failures. */
	ck_assert_uint_eq(kerf_reqset_count(s), 0);

	/* In with no values allows nothing, as in Karpenter. */
	ck_assert_int_eq(kerf_reqset_add(s, "k", KERF_OP_IN, NULL, 0, 0, &err), 0);
	ck_assert_int_eq(kerf_reqset_operator(s, "k"), KERF_OP_DOES_NOT_EXIST);

	/* Exists ignores values. */
	ck_assert_int_eq(kerf_reqset_add(s, "e", KERF_OP_EXISTS, abc, 1, 0, &err), 0);
	ck_assert_int_eq(kerf_reqset_operator(s, "e"), KERF_OP_EXISTS);

	ck_assert_int_eq(kerf_reqset_format(s, buf, 8), KERF_E_RANGE);
	ck_assert_str_eq(buf, "e Exist");
	ck_assert_int_eq(kerf_reqset_format(s, NULL, 0), KERF_E_RANGE);
	kerf_reqset_free(s);
}
END_TEST

/* ---------------------------------------------------------------- labels */

START_TEST(normalize_and_well_known)
{
	const char *k = "example.com/x";

	ck_assert_str_eq(kerf_label_normalize("beta.kubernetes.io/arch"), "kubernetes.io/arch");
	ck_assert_str_eq(kerf_label_normalize("beta.kubernetes.io/os"), "kubernetes.io/os");
	ck_assert_str_eq(kerf_label_normalize("beta.kubernetes.io/instance-type"), ITYPE);
	ck_assert_str_eq(kerf_label_normalize("failure-domain.beta.kubernetes.io/zone"), ZONE);
	ck_assert_str_eq(kerf_label_normalize("failure-domain.beta.kubernetes.io/region"),
			 "topology.kubernetes.io/region");
	ck_assert_ptr_eq(kerf_label_normalize(k), k);
	ck_assert_ptr_null(kerf_label_normalize(NULL));

	ck_assert(kerf_label_is_well_known(ZONE));
	ck_assert(kerf_label_is_well_known("topology.kubernetes.io/region"));
	ck_assert(kerf_label_is_well_known(ITYPE));
	ck_assert(kerf_label_is_well_known(ARCH));
	ck_assert(kerf_label_is_well_known("kubernetes.io/os"));
	ck_assert(kerf_label_is_well_known(CTYPE));
	ck_assert(kerf_label_is_well_known("karpenter.sh/nodepool"));
	ck_assert(kerf_label_is_well_known("node.kubernetes.io/windows-build"));
	ck_assert(kerf_label_is_well_known(CPU));
	ck_assert(kerf_label_is_well_known("karpenter.k8s.aws/instance-family"));
	ck_assert(kerf_label_is_well_known("karpenter.k8s.aws/instance-gpu-count"));
	ck_assert(kerf_label_is_well_known("karpenter.k8s.aws/capacity-reservation-id"));
	ck_assert(kerf_label_is_well_known("topology.k8s.aws/zone-id"));
	ck_assert(!kerf_label_is_well_known("kubernetes.io/hostname"));
	ck_assert(!kerf_label_is_well_known("beta.kubernetes.io/arch"));
	ck_assert(!kerf_label_is_well_known("karpenter.k8s.aws/instance-foo"));
	ck_assert(!kerf_label_is_well_known(NULL));
}
END_TEST

/* A provider's labels and domain join Karpenter's when declared, and only then. */
START_TEST(declared_vocabulary)
{
	static const char *const keys[] = {"example.cloud/gpu-count", NULL};
	static const char *const domains[] = {"example.cloud", NULL};
	char why[256];

	ck_assert(!kerf_label_is_well_known("example.cloud/gpu-count"));
	ck_assert_int_eq(kerf_label_check_restricted("example.cloud/x", why, sizeof(why)), 0);
	ck_assert_ptr_null(kc_label_declared_domain("example.cloud/x"));
	kc_labels_declare(keys, domains);
	kc_labels_declare(NULL, NULL);
	ck_assert(kerf_label_is_well_known("example.cloud/gpu-count"));
	ck_assert_int_eq(kerf_label_check_restricted("example.cloud/gpu-count", why, sizeof(why)),
			 0);
	ck_assert_int_eq(kerf_label_check_restricted("sub.example.cloud/x", why, sizeof(why)),
			 KERF_E_INVALID);
	ck_assert_str_eq(why, "label \"sub.example.cloud/x\" is restricted: domain "
			      "\"example.cloud\" is reserved; use a well-known label or a custom "
			      "domain");
	ck_assert_str_eq(kc_label_declared_domain("example.cloud/x"), "example.cloud");
	ck_assert_ptr_null(kc_label_declared_domain("cloud/x"));
}
END_TEST

static const struct {
	const char *key;
	int label_rc;	 /* as a template label */
	int req_rc;	 /* as a requirement key */
	const char *why; /* for the template label */
} restricted[] = {
    {"karpenter.sh/nodepool", KERF_E_INVALID, KERF_E_INVALID,
     "label \"karpenter.sh/nodepool\" is restricted"},
    {"kubernetes.io/hostname", KERF_E_INVALID, KERF_E_INVALID,
     "label \"kubernetes.io/hostname\" is restricted"},
    {"karpenter.sh/capacity-type", 0, 0, ""},
    {"karpenter.sh/foo", KERF_E_INVALID, KERF_E_INVALID,
     "label \"karpenter.sh/foo\" is restricted: domain \"karpenter.sh\" is reserved; use a "
     "well-known label or a custom domain"},
    {"sub.karpenter.sh/foo", KERF_E_INVALID, KERF_E_INVALID,
     "label \"sub.karpenter.sh/foo\" is restricted: domain \"karpenter.sh\" is reserved; use a "
     "well-known label or a custom domain"},
    {"kubernetes.io/arch", 0, 0, ""},
    {"topology.kubernetes.io/zone", 0, 0, ""},
    {"topology.kubernetes.io/foo", KERF_E_INVALID, KERF_E_INVALID,
     "label \"topology.kubernetes.io/foo\" is restricted: domain \"kubernetes.io\" is reserved; "
     "use a well-known label or a custom domain"},
    {"node.kubernetes.io/foo", 0, 0, ""},
    {"foo.node.kubernetes.io/bar", 0, 0, ""},
    {"node-restriction.kubernetes.io/x", 0, 0, ""},
    {"kops.k8s.io/x", 0, 0, ""},
    {"k8s.io/x", KERF_E_INVALID, KERF_E_INVALID,
     "label \"k8s.io/x\" is restricted: domain \"k8s.io\" is reserved; use a well-known label or "
     "a custom domain"},
    {"x.k8s.io/y", KERF_E_INVALID, KERF_E_INVALID,
     "label \"x.k8s.io/y\" is restricted: domain \"k8s.io\" is reserved; use a well-known label "
     "or a custom domain"},
    {"karpenter.k8s.aws/instance-family", 0, 0, ""},
    {"karpenter.k8s.aws/foo", KERF_E_INVALID, KERF_E_INVALID,
     "label \"karpenter.k8s.aws/foo\" is restricted: domain \"karpenter.k8s.aws\" is reserved; "
     "use a well-known label or a custom domain"},
    {"topology.k8s.aws/zone-id", 0, 0, ""},
    {"example.com/team", 0, 0, ""},
    {"team", 0, 0, ""},
    {"beta.kubernetes.io/arch", KERF_E_INVALID, 0,
     "label \"beta.kubernetes.io/arch\" is restricted: domain \"kubernetes.io\" is reserved; use "
     "a well-known label or a custom domain"},
    {"failure-domain.beta.kubernetes.io/zone", KERF_E_INVALID, 0,
     "label \"failure-domain.beta.kubernetes.io/zone\" is restricted: domain \"kubernetes.io\" is "
     "reserved; use a well-known label or a custom domain"},
};

START_TEST(restricted_labels)
{
	char why[256] = "junk";

	ck_assert_int_eq(kerf_label_check_restricted(restricted[_i].key, why, sizeof(why)),
			 restricted[_i].label_rc);
	ck_assert_str_eq(why, restricted[_i].why);
	ck_assert_int_eq(kerf_requirement_key_check_restricted(restricted[_i].key, NULL, 0),
			 restricted[_i].req_rc);
}
END_TEST

static const struct {
	const char *key;
	const char *why;
} keys[] = {
    {"a", ""},
    {"A9", ""},
    {"a.b-c_d", ""},
    {"example.com/MyName", ""},
    {"x/y", ""},
    {"123-abc", ""},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ""}, /* 63 */
    {"", "label key is empty"},
    {"a/b/c", "label key \"a/b/c\" has more than one '/'"},
    {"/a", "label key \"/a\": prefix before '/' is empty"},
    {"example.com/", "label key \"example.com/\": name is empty"},
    {"Example.com/a", "label key \"Example.com/a\": prefix must be a lowercase DNS subdomain (a-z, "
		      "0-9, '-' and '.', "
		      "alphanumeric at both ends of each part)"},
    {"ex..com/a",
     "label key \"ex..com/a\": prefix must be a lowercase DNS subdomain (a-z, 0-9, '-' and '.', "
     "alphanumeric at both ends of each part)"},
    {"-ex.com/a",
     "label key \"-ex.com/a\": prefix must be a lowercase DNS subdomain (a-z, 0-9, '-' and '.', "
     "alphanumeric at both ends of each part)"},
    {"-a",
     "label key \"-a\": name must consist of alphanumerics, '-', '_' or '.', and start and end "
     "with an alphanumeric"},
    {"a-",
     "label key \"a-\": name must consist of alphanumerics, '-', '_' or '.', and start and end "
     "with an alphanumeric"},
    {"a b",
     "label key \"a b\": name must consist of alphanumerics, '-', '_' or '.', and start and end "
     "with an alphanumeric"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
     "label key \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": name is longer than 63 "
     "characters"},
};

START_TEST(label_keys)
{
	char why[512] = "junk";
	bool want = keys[_i].why[0] == '\0';

	ck_assert_msg(kerf_label_key_valid(keys[_i].key, why, sizeof(why)) == want, "%s: %s",
		      keys[_i].key, why);
	ck_assert_str_eq(why, keys[_i].why);
}
END_TEST

START_TEST(label_key_long_prefix)
{
	char key[300], why[256];

	memset(key, 'a', 254);
	memcpy(key + 254, "/x", 3);
	ck_assert(!kerf_label_key_valid(key, why, sizeof(why)));
	ck_assert_str_eq(why,
			 "label key \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": prefix is "
			 "longer than 253 characters");
	/* 253 is allowed. */
	memcpy(key + 253, "/x", 3);
	ck_assert(kerf_label_key_valid(key, NULL, 0));
	ck_assert(!kerf_label_key_valid(NULL, NULL, 0));
}
END_TEST

START_TEST(label_values)
{
	char why[256];
	char v64[65];

	ck_assert(kerf_label_value_valid("", why, sizeof(why)));
	ck_assert_str_eq(why, "");
	ck_assert(kerf_label_value_valid(NULL, why, sizeof(why)));
	ck_assert(kerf_label_value_valid("a", why, sizeof(why)));
	ck_assert(kerf_label_value_valid("m5.large", why, sizeof(why)));
	ck_assert(kerf_label_value_valid("on-demand", why, sizeof(why)));
	ck_assert(kerf_label_value_valid("A_b.c-9", why, sizeof(why)));
	ck_assert(!kerf_label_value_valid("-a", why, sizeof(why)));
	ck_assert_str_eq(why,
			 "label value \"-a\" must consist of alphanumerics, '-', '_' or '.', and "
			 "start and end with an alphanumeric");
	ck_assert(!kerf_label_value_valid("a b", NULL, 0));
	ck_assert(!kerf_label_value_valid("a/b", NULL, 0));
	memset(v64, 'v', 64);
	v64[64] = '\0';
	ck_assert(!kerf_label_value_valid(v64, why, sizeof(why)));
	ck_assert_str_eq(why,
			 "label value \"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...\" is longer "
			 "than 63 characters");
	v64[63] = '\0';
	ck_assert(kerf_label_value_valid(v64, NULL, 0));
}
END_TEST

static const struct {
	const char *key;
	kerf_operator op;
	const char *values[3];
	int32_t min_values;
	const char *message; /* NULL: valid */
} validations[] = {
    {ITYPE, KERF_OP_IN, {"m5.large"}, 1, NULL},
    {"beta.kubernetes.io/arch", KERF_OP_IN, {"amd64"}, 0, NULL},
    {"example.com/team", KERF_OP_EXISTS, {NULL}, 0, NULL},
    {CPU, KERF_OP_GT, {"0"}, 0, NULL},
    {CPU, KERF_OP_LTE, {"64"}, 0, NULL},
    {"kubernetes.io/hostname",
     KERF_OP_IN,
     {"x"},
     0,
     "requirement: label \"kubernetes.io/hostname\" is restricted"},
    {"karpenter.sh/nodepool",
     KERF_OP_IN,
     {"x"},
     0,
     "requirement: label \"karpenter.sh/nodepool\" is restricted"},
    {"bad key",
     KERF_OP_EXISTS,
     {NULL},
     0,
     "requirement: label key \"bad key\": name must consist of alphanumerics, '-', '_' or '.', "
     "and start and end with an alphanumeric"},
    {CPU,
     KERF_OP_GT,
     {"-1"},
     0,
     "requirement \"karpenter.k8s.aws/instance-cpu\": operator Gt must have a single non-negative "
     "integer value"},
    {CPU,
     KERF_OP_LT,
     {"x"},
     0,
     "requirement \"karpenter.k8s.aws/instance-cpu\": operator Lt must have a single non-negative "
     "integer value"},
    {CPU,
     KERF_OP_GTE,
     {"1", "2"},
     0,
     "requirement \"karpenter.k8s.aws/instance-cpu\": operator Gte must have a single "
     "non-negative integer value"},
    {"x", KERF_OP_IN, {NULL}, 0, "requirement \"x\": operator In must have a value"},
    {"x", KERF_OP_IN, {"a"}, 2, "requirement \"x\": minValues 2 is more than the 1 values given"},
    {"x", KERF_OP_EXISTS, {NULL}, 51, "requirement \"x\": minValues 51 is outside 1..50"},
    {"x",
     KERF_OP_IN,
     {"bad value"},
     0,
     "requirement \"x\": label value \"bad value\" must consist of alphanumerics, '-', '_' or "
     "'.', and start and end with an alphanumeric"},
};

START_TEST(requirement_validation)
{
	struct kerf_requirement r;
	struct kerf_error err = KERF_ERROR_INIT;
	char *vals[3];
	size_t n = 0;

	for (; n < 3 && validations[_i].values[n]; n++)
		vals[n] = (char *)validations[_i].values[n];
	r.key = (char *)validations[_i].key;
	r.op = validations[_i].op;
	r.n_values = n;
	r.values = n ? vals : NULL;
	r.min_values = validations[_i].min_values;
	kerf_error_clear(&err);
	int rc = kerf_requirement_validate(&r, &err);
	if (!validations[_i].message) {
		ck_assert_msg(rc == 0, "%s: %s", validations[_i].key, err.message);
	} else {
		ck_assert_int_eq(rc, KERF_E_INVALID);
		ck_assert_str_eq(err.message, validations[_i].message);
	}
}
END_TEST

static Suite *requirements_suite(void)
{
	Suite *s = suite_create("requirements");
	TCase *tc = tcase_create("reqset");

	tcase_add_loop_test(tc, intersection, 0, N_ELEMS(intersections));
	tcase_add_loop_test(tc, compatibility, 0, N_ELEMS(compat));
	tcase_add_loop_test(tc, allows_value, 0, N_ELEMS(allows));
	tcase_add_test(tc, matches_labels);
	tcase_add_test(tc, queries);
	tcase_add_test(tc, to_requirements_shape);
	tcase_add_test(tc, copy_and_intersect);
	tcase_add_test(tc, add_labels_and_requirements);
	tcase_add_test(tc, add_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("labels");
	tcase_add_test(tc, normalize_and_well_known);
	tcase_add_test(tc, declared_vocabulary);
	tcase_add_loop_test(tc, restricted_labels, 0, N_ELEMS(restricted));
	tcase_add_loop_test(tc, label_keys, 0, N_ELEMS(keys));
	tcase_add_test(tc, label_key_long_prefix);
	tcase_add_test(tc, label_values);
	tcase_add_loop_test(tc, requirement_validation, 0, N_ELEMS(validations));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* The cases select on AWS labels, declared as kerfd declares its EC2 provider's. */
	kc_labels_declare(ec2_well_known_labels, ec2_restricted_label_domains);
	Suite *s = requirements_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
