/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ab.c - the A/B packing comparison (core/report/ab.c): Student-t quantiles,
 * paired shadow savings and Welch split comparisons on data whose means and
 * intervals are worked out by hand below, the records it refuses, and the
 * built `kerfctl ab-report` on the decision logs in tests/data/ab.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/slurp.h"
#include "ab.h"
#include "decision_log.h"
#include "util.h"

#define KERFCTL KERF_TEST_BUILDDIR "/core/kerfctl"
#define DATA KERF_TEST_DATADIR "/ab/"

/* ------------------------------------------------------------ building lines */

/* One packer's record for a NodePool in a batch; requests and allocatable fixed. */
static json_t *side(const char *packer, json_int_t pods, json_int_t placed, json_int_t placed_new,
		    json_int_t price)
{
	json_t *o = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:{s:I, s:I}, s:f, "
	    "s:I, s:b}",
	    "packer", packer, "pods", pods, "placed", placed, "placed_new", placed_new, "nodes",
	    (json_int_t)(placed_new ? 1 : 0), "price_micro_usd_per_hour", price, "requested",
	    "cpu_millicores", (json_int_t)1000, "memory_bytes", (json_int_t)1 << 30, "allocatable",
	    "cpu_millicores", (json_int_t)4000, "memory_bytes", (json_int_t)1 << 32, "solve_ms",
	    2.5, "lower_bound_micro_usd_per_hour", (json_int_t)0, "optimal", 0);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* A "nodepools" element: the acting packer's side with the pool, mode and shadow added. */
static json_t *rec(const char *pool, const char *mode, json_t *acted, json_t *shadow)
{
	json_object_set_new(acted, "nodepool", json_string(pool));
	json_object_set_new(acted, "mode", json_string(mode));
	if (strcmp(mode, "split") == 0)
		json_object_set_new(acted, "selection",
				    json_string("binpack-ffd=50,binpack-ilp=50"));
	if (shadow)
		json_object_set_new(acted, "shadow", shadow);
	return acted;
}

/* A batch line holding the records (references stolen). */
static json_t *batch_line(json_int_t batch, json_t *rec1, json_t *rec2)
{
	json_t *recs = json_array();

	json_array_append_new(recs, rec1);
	if (rec2)
		json_array_append_new(recs, rec2);
	return json_pack("{s:I, s:I, s:i, s:s, s:o}", "time_ms", (json_int_t)1795810520000, "batch",
			 batch, "pods", 10, "packer", "binpack-ffd", "nodepools", recs);
}

static void add_ok(struct ab_report *r, json_t *line)
{
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_msg(ab_add_line(r, line, &err) == 0, "%s", err.message);
	json_decref(line);
}

/* One shadow batch in pool "default": binpack-ffd acted, binpack-ilp in shadow. */
static void add_shadow(struct ab_report *r, json_int_t batch, json_int_t placed_a,
		       json_int_t price_a, json_int_t placed_b, json_int_t price_b)
{
	add_ok(r, batch_line(batch,
			     rec("default", "shadow",
				 side("binpack-ffd", 10, placed_a, placed_a, price_a),
				 side("binpack-ilp", 10, placed_b, placed_b, price_b)),
			     NULL));
}

/* One split batch in pool "web" that packer acted on alone. */
static void add_split(struct ab_report *r, json_int_t batch, const char *packer,
		      json_int_t placed_new, json_int_t price)
{
	add_ok(r, batch_line(batch,
			     rec("web", "split",
				 side(packer, placed_new, placed_new, placed_new, price), NULL),
			     NULL));
}

/* ------------------------------------------------------------ reading ab_json */

static const json_t *pool_of(const json_t *doc, const char *name)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "nodepools"), i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "nodepool")), name) == 0)
			return p;
	}
	ck_abort_msg("no NodePool %s", name);
	return NULL;
}

#define ck_assert_near(a, b, tol)                                                                  \
	ck_assert_msg(fabs((a) - (b)) <= (tol), "%s = %.12g, want %.12g", #a, (double)(a),         \
		      (double)(b))

/* ------------------------------------------------------------ Student's t */

START_TEST(t_quantiles)
{
	/* Two-sided 95% points from the standard tables, and non-integer df from Welch. */
	static const struct {
		double df, want;
	} cases[] = {
	    {1, 12.7062047362}, {2, 4.30265272975},    {3, 3.18244630528},   {4, 2.7764451052},
	    {5, 2.57058183564}, {10, 2.22813885199},   {30, 2.0422724563},   {120, 1.97993040508},
	    {2.5, 3.574654842}, {1000, 1.96233908083}, {1e6, 1.95996635681},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_near(ab_t_quantile(0.975, cases[i].df), cases[i].want, 1e-8);
	ck_assert_near(ab_t_quantile(0.975, INFINITY), 1.95996398454, 1e-9);
	ck_assert_near(ab_t_quantile(0.995, 10), 3.16927267262, 1e-8);
	/* Symmetric about 0. */
	ck_assert_near(ab_t_quantile(0.025, 5), -2.57058183564, 1e-8);
	ck_assert_near(ab_t_quantile(0.5, 7), 0, 1e-12);
	/* The rounded values of the tables. */
	ck_assert_near(ab_t_quantile(0.975, 1), 12.706, 5e-4);
	ck_assert_near(ab_t_quantile(0.975, 5), 2.571, 5e-4);
	ck_assert_near(ab_t_quantile(0.975, 10), 2.228, 5e-4);
	ck_assert_near(ab_t_quantile(0.975, 30), 2.042, 5e-4);
	ck_assert_near(ab_t_quantile(0.975, 120), 1.980, 5e-4);
	ck_assert_near(ab_t_quantile(0.975, INFINITY), 1.960, 5e-4);
}
END_TEST

/* ------------------------------------------------------------ shadow pairs */

START_TEST(shadow_pairs_known_data)
{
	struct ab_report *r = ab_new();

	/*
	 * Prices (micro-dollars/h) ffd vs ilp, same pods placed:
	 *   500000-470000, 400000-360000, 600000-550000, 300000-260000, 450000-410000
	 * d = 30000, 40000, 50000, 40000, 40000: mean 40000.
	 * Squared deviations 1e8, 0, 1e8, 0, 0: s^2 = 2e8 / 4 = 5e7, s = 7071.068.
	 * se = s / sqrt(5) = 3162.278; t(0.975, 4) = 2.776445; half = 8779.889.
	 * CI 31220.11 .. 48779.89, all above 0: significant.
	 * Relative: sum d 200000 / sum primary 2250000 = 0.088889.
	 * Unpaired: one batch where ilp placed 10 and ffd 9 (more), one where
	 * ilp placed 8 (fewer): excluded, whatever their prices.
	 */
	add_shadow(r, 1, 10, 500000, 10, 470000);
	add_shadow(r, 2, 10, 400000, 10, 360000);
	add_shadow(r, 3, 9, 100000, 10, 1000);
	add_shadow(r, 4, 10, 600000, 10, 550000);
	add_shadow(r, 5, 10, 300000, 10, 260000);
	add_shadow(r, 6, 10, 450000, 8, 10);
	add_shadow(r, 7, 10, 450000, 10, 410000);
	ck_assert(ab_has_comparison(r));

	json_t *doc = ab_json(r);
	const json_t *p = pool_of(doc, "default");
	const json_t *pair = json_array_get(json_object_get(p, "pairs"), 0);
	ck_assert_str_eq(str_at(p, "mode"), "shadow");
	ck_assert_int_eq(int_at(p, "batches"), 7);
	ck_assert_str_eq(str_at(pair, "primary"), "binpack-ffd");
	ck_assert_str_eq(str_at(pair, "challenger"), "binpack-ilp");
	ck_assert_int_eq(int_at(pair, "n"), 5);
	ck_assert_int_eq(int_at(pair, "excluded"), 2);
	ck_assert_int_eq(int_at(pair, "excluded_challenger_placed_more"), 1);
	ck_assert_int_eq(int_at(pair, "excluded_challenger_placed_fewer"), 1);
	ck_assert_near(real_at(pair, "mean_saving_per_hour"), 0.04, 1e-12);
	ck_assert_near(real_at(pair, "relative_saving"), 200000.0 / 2250000.0, 1e-12);
	ck_assert_near(real_at(pair, "df"), 4, 0);
	ck_assert_near(real_at(pair, "t"), 2.7764451052, 1e-8);
	ck_assert_near(real_at(pair, "ci_low"), 0.03122011, 1e-8);
	ck_assert_near(real_at(pair, "ci_high"), 0.04877989, 1e-8);
	ck_assert(json_is_true(json_object_get(pair, "significant")));
	ck_assert(json_is_false(json_object_get(pair, "identical")));
	ck_assert_str_eq(str_at(pair, "verdict"),
			 "binpack-ilp would have been 8.9% cheaper than binpack-ffd ($0.0400/h per "
			 "batch, 95% CI $0.0312..$0.0488); the difference is significant.");
	ck_assert_str_eq(str_at(p, "verdict"), str_at(pair, "verdict"));

	/* The packer rows count every batch, paired or not. */
	const json_t *ffd = json_array_get(json_object_get(p, "packers"), 0);
	const json_t *ilp = json_array_get(json_object_get(p, "packers"), 1);
	ck_assert_str_eq(str_at(ffd, "role"), "acted");
	ck_assert_str_eq(str_at(ilp, "role"), "shadow");
	ck_assert_int_eq(int_at(ffd, "batches"), 7);
	ck_assert_int_eq(int_at(ffd, "placed"), 69);
	ck_assert_int_eq(int_at(ilp, "placed"), 68);
	ck_assert_int_eq(int_at(ffd, "price_micro_usd_per_hour"), 2800000);
	ck_assert_near(real_at(ffd, "cpu_utilisation"), 0.25, 1e-12);
	ck_assert_near(real_at(ffd, "memory_utilisation"), 0.25, 1e-12);
	ck_assert_near(real_at(ffd, "solve_ms_mean"), 2.5, 1e-12);
	ck_assert(json_is_null(json_object_get(ffd, "bound_gap_mean")));
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(shadow_dearer_not_significant)
{
	struct ab_report *r = ab_new();

	/*
	 * d = -20000, 10000, -50000: mean -20000; deviations 0, 30000, -30000:
	 * s^2 = 1.8e9 / 2 = 9e8, s = 30000, se = 17320.51; t(0.975, 2) = 4.302653,
	 * half = 74524.13: CI -94524.13 .. 54524.13 contains 0.  Relative -60000 /
	 * 600000 = -10%.  The verdict states the extra cost: $0.0200 more, CI of
	 * the extra cost -$0.0545..$0.0945.
	 */
	add_shadow(r, 1, 4, 200000, 4, 220000);
	add_shadow(r, 2, 4, 200000, 4, 190000);
	add_shadow(r, 3, 4, 200000, 4, 250000);
	json_t *doc = ab_json(r);
	const json_t *pair = json_array_get(json_object_get(pool_of(doc, "default"), "pairs"), 0);
	ck_assert_near(real_at(pair, "mean_saving_per_hour"), -0.02, 1e-12);
	ck_assert_near(real_at(pair, "ci_low"), -0.09452413, 1e-8);
	ck_assert_near(real_at(pair, "ci_high"), 0.05452413, 1e-8);
	ck_assert(json_is_false(json_object_get(pair, "significant")));
	ck_assert_str_eq(str_at(pair, "verdict"),
			 "binpack-ilp would have been 10.0% more expensive than binpack-ffd "
			 "($0.0200/h more per batch, 95% CI -$0.0545..$0.0945); not significant at "
			 "95% (CI includes 0).");
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(identical_and_single_pairs)
{
	struct ab_report *r = ab_new();
	json_t *doc;
	const json_t *pair;

	add_shadow(r, 1, 5, 96000, 5, 96000);
	add_shadow(r, 2, 5, 192000, 5, 192000);
	doc = ab_json(r);
	pair = json_array_get(json_object_get(pool_of(doc, "default"), "pairs"), 0);
	ck_assert(json_is_true(json_object_get(pair, "identical")));
	ck_assert(json_is_false(json_object_get(pair, "significant")));
	ck_assert_str_eq(str_at(pair, "verdict"),
			 "identical plans: binpack-ilp would have launched the same hourly price "
			 "as binpack-ffd in all 2 paired batches.");
	json_decref(doc);
	ab_free(r);

	/* One pair: a mean but no interval. */
	r = ab_new();
	add_shadow(r, 1, 5, 192000, 5, 96000);
	doc = ab_json(r);
	pair = json_array_get(json_object_get(pool_of(doc, "default"), "pairs"), 0);
	ck_assert_int_eq(int_at(pair, "n"), 1);
	ck_assert_near(real_at(pair, "mean_saving_per_hour"), 0.096, 1e-12);
	ck_assert(json_is_null(json_object_get(pair, "ci_low")));
	ck_assert(json_is_null(json_object_get(pair, "df")));
	ck_assert_str_eq(
	    str_at(pair, "verdict"),
	    "binpack-ilp would have been 50.0% cheaper than binpack-ffd ($0.0960/h per "
	    "batch in the one paired batch); not enough batches for a confidence "
	    "interval.");
	json_decref(doc);
	ab_free(r);

	/* No pair at all: every batch placed different pods. */
	r = ab_new();
	add_shadow(r, 1, 5, 192000, 4, 96000);
	doc = ab_json(r);
	pair = json_array_get(json_object_get(pool_of(doc, "default"), "pairs"), 0);
	ck_assert_int_eq(int_at(pair, "n"), 0);
	ck_assert(json_is_null(json_object_get(pair, "mean_saving_per_hour")));
	ck_assert_str_eq(str_at(pair, "verdict"),
			 "not enough batches: in none did binpack-ffd and binpack-ilp place the "
			 "same number of pods.");
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(shadow_without_plan)
{
	struct ab_report *r = ab_new();
	json_t *doc;
	const json_t *p;

	/* The shadow packer failed on both batches: nothing to pair, yet a comparison to report. */
	add_ok(r, batch_line(1, rec("default", "shadow", side("binpack-ffd", 4, 4, 4, 1000), NULL),
			     NULL));
	add_ok(r, batch_line(2, rec("default", "shadow", side("binpack-ffd", 4, 4, 4, 1000), NULL),
			     NULL));
	ck_assert(ab_has_comparison(r));
	doc = ab_json(r);
	p = pool_of(doc, "default");
	ck_assert_int_eq(int_at(p, "batches_without_shadow_plan"), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "pairs")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "packers")), 1);
	ck_assert_str_eq(str_at(p, "verdict"),
			 "not enough batches: the shadow packer gave no plan in any of them.");
	json_decref(doc);

	/* Once it plans, its batches are compared and the failed ones only counted. */
	add_shadow(r, 3, 10, 500000, 10, 470000);
	add_shadow(r, 4, 10, 400000, 10, 360000);
	doc = ab_json(r);
	p = pool_of(doc, "default");
	ck_assert_int_eq(int_at(p, "batches_without_shadow_plan"), 2);
	ck_assert_int_eq(int_at(json_array_get(json_object_get(p, "pairs"), 0), "n"), 2);
	ck_assert_ptr_nonnull(strstr(str_at(p, "verdict"), "binpack-ilp would have been"));
	json_decref(doc);
	ab_free(r);
}
END_TEST

/* ------------------------------------------------------------ split */

START_TEST(split_welch)
{
	struct ab_report *r = ab_new();

	/*
	 * Price per pod per batch (micro-dollars/h):
	 *   ffd 40000/4, 60000/5, 77000/7 = 10000, 12000, 11000: mean 11000, s^2 1e6
	 *   ilp 18000/2, 19000/2, 17000/2, 27000/3 = 9000, 9500, 8500, 9000:
	 *       mean 9000, s^2 = (0 + 250000 + 250000 + 0) / 3 = 166666.67
	 *   plus one ilp batch with no pods on new nodes: excluded.
	 * Saving 11000 - 9000 = 2000 (2000 / 11000 = 18.18%).
	 * s1^2/n1 = 333333.33, s2^2/n2 = 41666.67, se^2 = 375000, se = 612.3724.
	 * Welch-Satterthwaite df = 375000^2 / (333333.33^2 / 2 + 41666.67^2 / 3)
	 *   = 1.40625e11 / 5.6134259e10 = 2.5051546; t(0.975, 2.5051546) = 3.5693979.
	 * half = 2185.8009: CI -185.80 .. 4185.80, contains 0.
	 */
	add_split(r, 1, "binpack-ffd", 4, 40000);
	add_split(r, 2, "binpack-ilp", 2, 18000);
	add_split(r, 3, "binpack-ffd", 5, 60000);
	add_split(r, 4, "binpack-ilp", 2, 19000);
	add_split(r, 5, "binpack-ffd", 7, 77000);
	add_split(r, 6, "binpack-ilp", 2, 17000);
	add_split(r, 7, "binpack-ilp", 3, 27000);
	add_ok(r, batch_line(8, rec("web", "split", side("binpack-ilp", 3, 3, 0, 0), NULL), NULL));
	ck_assert(ab_has_comparison(r));

	json_t *doc = ab_json(r);
	const json_t *p = pool_of(doc, "web");
	const json_t *c = json_array_get(json_object_get(p, "split"), 0);
	ck_assert_str_eq(str_at(p, "mode"), "split");
	ck_assert_str_eq(str_at(p, "selection"), "binpack-ffd=50,binpack-ilp=50");
	ck_assert_uint_eq(json_array_size(json_object_get(p, "pairs")), 0);
	ck_assert_str_eq(str_at(c, "baseline"), "binpack-ffd");
	ck_assert_str_eq(str_at(c, "challenger"), "binpack-ilp");
	ck_assert_int_eq(int_at(c, "n_baseline"), 3);
	ck_assert_int_eq(int_at(c, "n_challenger"), 4);
	ck_assert_int_eq(int_at(c, "excluded_no_new_nodes"), 1);
	ck_assert_near(real_at(c, "baseline_per_pod_per_hour"), 0.011, 1e-12);
	ck_assert_near(real_at(c, "challenger_per_pod_per_hour"), 0.009, 1e-12);
	ck_assert_near(real_at(c, "mean_saving_per_pod_per_hour"), 0.002, 1e-12);
	ck_assert_near(real_at(c, "relative_saving"), 2.0 / 11.0, 1e-12);
	ck_assert_near(real_at(c, "df"), 2.5051546392, 1e-9);
	ck_assert_near(real_at(c, "t"), 3.5693979227, 1e-8);
	ck_assert_near(real_at(c, "ci_low"), -185.8008999e-6, 1e-11);
	ck_assert_near(real_at(c, "ci_high"), 4185.8008999e-6, 1e-11);
	ck_assert(json_is_false(json_object_get(c, "significant")));
	ck_assert_str_eq(str_at(c, "verdict"),
			 "binpack-ilp was 18.2% cheaper per pod than binpack-ffd ($0.0020/h per "
			 "pod, 95% CI -$0.0002..$0.0042); not significant at 95% (CI includes 0).");
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(split_equal_variances_significant)
{
	struct ab_report *r = ab_new();

	/*
	 * ffd 10000, 12000, 11000 and ilp 6000, 8000, 7000 per pod: both s^2 1e6,
	 * so Welch's df = (2e6/3)^2 / (2 (1e6/3)^2 / 2) = 4 exactly; se = 816.4966,
	 * t(0.975, 4) = 2.776445, half = 2266.958: CI 1733.042 .. 6266.958.
	 */
	add_split(r, 1, "binpack-ffd", 1, 10000);
	add_split(r, 2, "binpack-ffd", 1, 12000);
	add_split(r, 3, "binpack-ffd", 1, 11000);
	add_split(r, 4, "binpack-ilp", 1, 6000);
	add_split(r, 5, "binpack-ilp", 1, 8000);
	add_split(r, 6, "binpack-ilp", 1, 7000);
	json_t *doc = ab_json(r);
	const json_t *c = json_array_get(json_object_get(pool_of(doc, "web"), "split"), 0);
	ck_assert_near(real_at(c, "df"), 4, 1e-9);
	ck_assert_near(real_at(c, "ci_low"), 1733.0421e-6, 1e-9);
	ck_assert_near(real_at(c, "ci_high"), 6266.9579e-6, 1e-9);
	ck_assert(json_is_true(json_object_get(c, "significant")));
	json_decref(doc);
	ab_free(r);

	/* A packer of the selection that never acted: nothing to compare yet. */
	r = ab_new();
	add_split(r, 1, "binpack-ffd", 1, 10000);
	doc = ab_json(r);
	c = json_array_get(json_object_get(pool_of(doc, "web"), "split"), 0);
	ck_assert_int_eq(int_at(c, "n_challenger"), 0);
	ck_assert_str_eq(str_at(c, "verdict"),
			 "not enough batches: binpack-ilp has none that put pods on new nodes.");
	json_decref(doc);
	ab_free(r);
}
END_TEST

/* ------------------------------------------------------------ lines and records */

START_TEST(non_batch_lines_ignored)
{
	struct ab_report *r = ab_new();
	struct kerf_error err;
	json_t *l;

	kerf_error_clear(&err);
	/* Lifecycle events (even with a "batch" key), and lines that are no batch. */
	l = json_pack("{s:I, s:s, s:s, s:i}", "time_ms", (json_int_t)1, "event", "launched",
		      "nodeclaim", "default-1", "batch", 3);
	ck_assert_int_eq(ab_add_line(r, l, &err), 0);
	json_decref(l);
	l = json_pack("{s:I, s:s}", "time_ms", (json_int_t)1, "note", "hello");
	ck_assert_int_eq(ab_add_line(r, l, &err), 0);
	json_decref(l);
	/* A batch line of an older kerfd: counted, not compared. */
	l = json_pack("{s:I, s:i, s:i}", "time_ms", (json_int_t)1, "batch", 1, "pods", 2);
	ck_assert_int_eq(ab_add_line(r, l, &err), 0);
	json_decref(l);
	ck_assert(!ab_has_comparison(r));
	json_t *doc = ab_json(r);
	ck_assert_int_eq(int_at(doc, "batch_lines"), 1);
	ck_assert_int_eq(int_at(doc, "batch_lines_without_nodepools"), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "nodepools")), 0);
	json_decref(doc);

	/* A single-mode pool is reported but is no comparison. */
	add_ok(r, batch_line(2, rec("gpu", "single", side("binpack-ffd", 2, 2, 2, 1006000), NULL),
			     NULL));
	ck_assert(!ab_has_comparison(r));
	doc = ab_json(r);
	ck_assert_str_eq(str_at(pool_of(doc, "gpu"), "mode"), "single");
	ck_assert(json_is_null(json_object_get(pool_of(doc, "gpu"), "verdict")));
	json_decref(doc);
	ab_free(r);
}
END_TEST

/* Adds line, which must fail with code and exactly message; the report must not change. */
static void add_fails(json_t *line, int code, const char *message)
{
	struct ab_report *r = ab_new();
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(ab_add_line(r, line, &err), code);
	ck_assert_str_eq(err.message, message);
	json_decref(line);
	json_t *doc = ab_json(r);
	ck_assert_int_eq(int_at(doc, "batch_lines"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "nodepools")), 0);
	json_decref(doc);
	ab_free(r);
}

START_TEST(malformed_records_name_the_field)
{
	json_t *a, *b;

	a = side("binpack-ffd", 4, 4, 4, 1000);
	b = side("binpack-ilp", 4, 4, 4, 1000);
	json_object_set_new(b, "placed", json_string("4"));
	add_fails(batch_line(7, rec("default", "shadow", a, b), NULL), KERF_E_PARSE,
		  "batch 7: nodepools[0].shadow.placed: expected a non-negative integer, got a "
		  "string");

	a = side("binpack-ffd", 4, 4, 4, 1000);
	add_fails(batch_line(7, rec("default", "shadow", a, json_string("binpack-ilp")), NULL),
		  KERF_E_PARSE, "batch 7: nodepools[0].shadow: expected an object, got a string");

	add_fails(
	    batch_line(2, rec("default", "canary", side("binpack-ffd", 4, 4, 4, 1000), NULL), NULL),
	    KERF_E_PARSE,
	    "batch 2: nodepools[0].mode: unknown mode \"canary\" (single, split or shadow)");

	a = side("binpack-ffd", 4, 4, 4, 1000);
	json_object_del(json_object_get(a, "requested"), "memory_bytes");
	add_fails(batch_line(3, rec("p", "single", side("binpack-ffd", 1, 1, 1, 1), NULL),
			     rec("q", "single", a, NULL)),
		  KERF_E_PARSE,
		  "batch 3: nodepools[1].requested.memory_bytes: missing (expected a non-negative "
		  "integer)");

	add_fails(batch_line(3, rec("p", "single", side("binpack-ffd", 4, 5, 4, 1000), NULL), NULL),
		  KERF_E_PARSE, "batch 3: nodepools[0].placed: 5 is more than pods (4)");

	a = side("binpack-ffd", 4, 4, 4, 1000);
	json_object_set_new(a, "price_micro_usd_per_hour", json_integer(-1));
	add_fails(batch_line(3, rec("p", "single", a, NULL), NULL), KERF_E_PARSE,
		  "batch 3: nodepools[0].price_micro_usd_per_hour: -1 is out of range (0 to 2^53)");

	a = side("binpack-ffd", 4, 4, 4, 1000);
	json_object_set_new(a, "optimal", json_string("no"));
	add_fails(batch_line(3, rec("p", "single", a, NULL), NULL), KERF_E_PARSE,
		  "batch 3: nodepools[0].optimal: expected true or false, got a string");

	a = side("binpack-ffd", 4, 4, 4, 1000);
	json_object_del(a, "selection");
	json_object_set_new(a, "nodepool", json_string("web"));
	json_object_set_new(a, "mode", json_string("split"));
	add_fails(batch_line(4, a, NULL), KERF_E_PARSE,
		  "batch 4: nodepools[0].selection: missing (expected a non-empty string)");

	add_fails(batch_line(5, rec("p", "single", side("binpack-ffd", 1, 1, 1, 1), NULL),
			     rec("p", "single", side("binpack-ffd", 1, 1, 1, 1), NULL)),
		  KERF_E_PARSE, "batch 5: nodepools[1].nodepool: \"p\" is also nodepools[0]");

	add_fails(json_pack("{s:i, s:s}", "batch", 9, "nodepools", "none"), KERF_E_PARSE,
		  "batch 9: nodepools: expected an array, got a string");
	add_fails(json_pack("[i]", 1), KERF_E_PARSE, "expected a JSON object, got an array");
}
END_TEST

START_TEST(totals_out_of_range)
{
	struct ab_report *r = ab_new();
	struct kerf_error err = KERF_ERROR_INIT;
	json_int_t most = (json_int_t)1 << 53;
	int rc = 0;
	size_t i;

	/* 2^63 / 2^53 = 1024 batches at the largest price fill the total; the next one cannot fit.
	 */
	for (i = 1; i <= 1100 && rc == 0; i++) {
		json_t *l =
		    batch_line((json_int_t)i,
			       rec("p", "single", side("binpack-ffd", 1, 1, 1, most), NULL), NULL);
		kerf_error_clear(&err);
		rc = ab_add_line(r, l, &err);
		json_decref(l);
	}
	ck_assert_int_eq(rc, KERF_E_RANGE);
	ck_assert_uint_eq(i - 1, 1024);
	ck_assert_str_eq(
	    err.message,
	    "batch 1024: nodepools[0]: the NodePool's totals no longer fit in 64 bits");
	json_t *doc = ab_json(r);
	ck_assert_int_eq(int_at(doc, "batch_lines"), 1023);
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(keep_nodepool)
{
	struct ab_report *r = ab_new();
	struct kerf_error err;

	add_shadow(r, 1, 10, 500000, 10, 470000);
	add_ok(r, batch_line(2, rec("gpu", "single", side("binpack-ffd", 2, 2, 2, 1006000), NULL),
			     NULL));
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_keep_nodepool(r, "nope", &err), KERF_E_NOTFOUND);
	ck_assert_str_eq(err.message,
			 "no records for NodePool \"nope\" (the logs have default, gpu)");
	ck_assert_int_eq(ab_keep_nodepool(r, "gpu", &err), 0);
	ck_assert(!ab_has_comparison(r));
	json_t *doc = ab_json(r);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "nodepools")), 1);
	ck_assert_str_eq(str_at(pool_of(doc, "gpu"), "mode"), "single");
	json_decref(doc);
	ab_free(r);
}
END_TEST

START_TEST(read_file_errors)
{
	struct ab_report *r = ab_new();
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, DATA "torn.jsonl", &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message,
			 DATA "torn.jsonl:2:102: string or '}' expected near end of file");
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 102);
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, DATA "malformed.jsonl", &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message,
			 DATA "malformed.jsonl:3: batch 2: nodepools[0].shadow.placed: "
			      "expected a non-negative integer, got a string");
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, DATA "no-such-file.jsonl", &err), KERF_E_IO);
	ck_assert_str_eq(err.message,
			 DATA "no-such-file.jsonl: cannot open: No such file or directory");
	ab_free(r);
}
END_TEST

/* A temporary file holding the given bytes; the caller unlinks it. */
static char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/check_ab.XXXXXX");
	ck_assert_ptr_nonnull(path);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static char *shadow_log_plus(const char *tail)
{
	FILE *f = fopen(DATA "shadow.jsonl", "r");
	ck_assert_ptr_nonnull(f);
	char *text = slurp(f);
	fclose(f);
	size_t n = strlen(text), m = strlen(tail);
	text = realloc(text, n + m + 1);
	memcpy(text + n, tail, m + 1);
	char *path = temp_file(text, n + m);
	free(text);
	return path;
}

/* A file that opens with an empty line: the reader had no buffer to end it in (found by
 * fuzz-ablog). */
START_TEST(read_file_empty_first_line)
{
	char *path = shadow_log_plus("");
	FILE *f = fopen(path, "r");
	char *text = slurp(f);
	fclose(f);
	unlink(path);
	free(path);
	size_t n = strlen(text);
	char *with_blank = malloc(n + 2);
	ck_assert_ptr_nonnull(with_blank);
	with_blank[0] = '\n';
	memcpy(with_blank + 1, text, n + 1);
	free(text);
	path = temp_file(with_blank, n + 1);
	free(with_blank);

	struct ab_report *r = ab_new();
	struct kerf_error err;
	kerf_error_clear(&err);
	ck_assert_msg(ab_read_file(r, path, &err) == 0, "%s", err.message);
	json_t *doc = ab_json(r);
	ck_assert_int_ge(int_at(doc, "batch_lines"), 1);
	json_decref(doc);
	ab_free(r);
	unlink(path);
	free(path);

	path = temp_file("\n;\n", 3);
	r = ab_new();
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, path, &err), KERF_E_PARSE);
	ck_assert_uint_eq(err.line, 2);
	ab_free(r);
	unlink(path);
	free(path);
}
END_TEST

/* What a full disk leaves: the last line cut short, every line before it read. */
START_TEST(read_file_cut_short)
{
	char *path = shadow_log_plus("{\"time_ms\":1795810520000,\"batch\":99,\"nodepo");
	struct ab_report *r = ab_new(), *whole = ab_new();
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_msg(ab_read_file(r, path, &err) == 0, "%s", err.message);
	ck_assert_int_eq(ab_read_file(whole, DATA "shadow.jsonl", &err), 0);
	json_t *a = ab_json(r), *b = ab_json(whole);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	ck_assert_ptr_nonnull(ab_warnings(r));
	ck_assert_ptr_nonnull(strstr(ab_warnings(r), "the last line is cut short (43 bytes "
						     "without a newline): skipped\n"));
	ck_assert_ptr_null(ab_warnings(whole));
	ab_free(r);
	ab_free(whole);
	unlink(path);
	free(path);
}
END_TEST

/* A line that never ends, a key given twice, a solve time no packer takes. */
START_TEST(read_file_limits)
{
	struct kerf_error err;
	struct ab_report *r = ab_new();
	size_t n = AB_LINE_MAX + 10;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	char *path = temp_file(big, n);
	free(big);
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, path, &err), KERF_E_RANGE);
	ck_assert_ptr_nonnull(strstr(err.message, ":1: line longer than 4194304 bytes"));
	unlink(path);
	free(path);

	path = shadow_log_plus("{\"time_ms\":1,\"batch\":9,\"batch\":10}\n");
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_read_file(r, path, &err), KERF_E_PARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "duplicate object key near '\"batch\"'"));
	unlink(path);
	free(path);

	/* A "report" of tiny values would take many times its size once parsed. */
	static const char dense[] = "{\n\"ab\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}\n";
	json_t *ab;
	path = temp_file(dense, strlen(dense));
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_kerfd_report_section(path, &ab, &err), KERF_E_RANGE);
	ck_assert_ptr_null(ab);
	ck_assert_ptr_nonnull(strstr(err.message, ": not a kerfd --report file: 21 values in "));
	unlink(path);
	free(path);

	json_t *line =
	    batch_line(1, rec("default", "single", side("binpack-ffd", 1, 1, 1, 5), NULL), NULL);
	json_t *np = json_array_get(json_object_get(line, "nodepools"), 0);
	json_object_set_new(np, "solve_ms", json_real(1e308));
	kerf_error_clear(&err);
	ck_assert_int_eq(ab_add_line(r, line, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "batch 1: nodepools[0].solve_ms: 1e+308 is not a duration "
				      "from 0 to a day (86400000 ms)");
	json_decref(line);
	ab_free(r);
}
END_TEST

static int64_t fixed_clock(void *ctx)
{
	(void)ctx;
	return 1795810520000;
}

/*
 * A full disk, without root: a file size limit makes write(2) stop short
 * in the middle of a line and then fail with EFBIG.  The log keeps whole
 * lines only, says which file failed and why, and reads back whole.
 */
START_TEST(decision_log_full_disk_whole_lines)
{
	char *path = temp_file("", 0);
	struct kerf_error err;
	int fds[2];

	/*
	 * The lines are made before the fork: a passing ck_assert writes to
	 * Check's own message file, which the child's limit would cut short.
	 */
	json_t *src[10];
	for (json_int_t b = 1; b <= 10; b++)
		src[b - 1] = batch_line(b,
					rec("default", "shadow", side("binpack-ffd", 10, 9, 9, 500),
					    side("binpack-ilp", 10, 9, 9, 400)),
					NULL);

	/* In a child of its own, which calls no Check function once limited. */
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit lim;
		struct decision_log *l;
		getrlimit(RLIMIT_FSIZE, &lim);
		lim.rlim_cur = 1500;
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &lim) != 0 ||
		    decision_log_open(path, fixed_clock, NULL, &l, &err) != 0)
			_exit(2);
		for (int b = 0; b < 10; b++) {
			json_t *line = decision_log_line(l);
			json_object_update(line, src[b]);
			decision_log_emit(l, line);
		}
		int rc = decision_log_status(l, &err);
		if (write(fds[1], err.message, strlen(err.message)) < 0)
			_exit(3);
		_exit(rc == KERF_E_IO && decision_log_close(l, &err) == 0 ? 0 : 1);
	}
	ck_assert_int_ge(pid, 0);
	close(fds[1]);
	for (int b = 0; b < 10; b++)
		json_decref(src[b]);
	FILE *msg = fdopen(fds[0], "r");
	char *message = slurp(msg);
	fclose(msg);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d, %s", status,
		      message);
	ck_assert_msg(strstr(message, "decision log ") && strstr(message, path) &&
			  strstr(message, ": write failed: File too large ("),
		      "%s", message);
	free(message);

	FILE *f = fopen(path, "r");
	char *text = slurp(f);
	fclose(f);
	size_t n = strlen(text);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(text[n - 1], '\n');
	free(text);
	struct ab_report *r = ab_new();
	kerf_error_clear(&err);
	ck_assert_msg(ab_read_file(r, path, &err) == 0, "%s", err.message);
	ck_assert_ptr_null(ab_warnings(r));
	json_t *doc = ab_json(r);
	ck_assert_int_ge(int_at(doc, "batch_lines"), 1);
	json_decref(doc);
	ab_free(r);
	unlink(path);
	free(path);
}
END_TEST

/* ------------------------------------------------------------ kerfctl ab-report */

struct run {
	int status;
	char *out;
	char *err;
	json_t *doc;
};

static void ab_report(struct run *r, const char *args)
{
	char cmd[4096];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "'%s' ab-report %s", KERFCTL, args),
			 (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
	r->doc = json_loads(r->out, 0, NULL);
}

static void run_free(struct run *r)
{
	json_decref(r->doc);
	free(r->out);
	free(r->err);
}

START_TEST(kerfctl_text)
{
	struct run r;

	ab_report(&r, "'" DATA "shadow.jsonl'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(
	    r.out,
	    "NodePool default: shadow, 6 batches\n"
	    "  packer       role    batches  placed  nodes  $/h launched  $/h per pod    cpu  "
	    "memory  solve ms  max ms  bound gap\n"
	    "  binpack-ffd  acted         6      54     11       $2.4420      $0.0555  77.7%   "
	    "42.9%      0.55    0.80          -\n"
	    "  binpack-ilp  shadow        6      55     12       $2.3000      $0.0511  84.5%   "
	    "44.7%    113.33  140.00   2.8% (6)\n"
	    "  binpack-ilp in shadow of binpack-ffd: 5 paired batches, 1 excluded (the packers "
	    "placed different numbers of pods: binpack-ilp placed more in 1)\n"
	    "    mean saving per batch $0.0400/h (8.9% of binpack-ffd's price), 95% CI "
	    "$0.0312..$0.0488 (t 2.776, 4 df)\n"
	    "  verdict: binpack-ilp would have been 8.9% cheaper than binpack-ffd ($0.0400/h per "
	    "batch, 95% CI $0.0312..$0.0488); the difference is significant.\n"
	    "\n"
	    "NodePool gpu: single packer, 2 batches\n"
	    "  packer       role   batches  placed  nodes  $/h launched  $/h per pod    cpu  "
	    "memory  "
	    "solve ms  max ms  bound gap\n"
	    "  binpack-ffd  acted        2       4      2       $2.0120      $0.5030  50.3%   "
	    "53.3%  "
	    "    0.20    0.20          -\n");
	run_free(&r);

	/* Split, identical and single-pair pools; an older log's bare batch lines are noted. */
	ab_report(&r, "'" DATA "split.jsonl' '" DATA "identical.jsonl' '" DATA "old.jsonl'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "NodePool web: split binpack-ffd=50,binpack-ilp=50, "
					    "7 batches\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  binpack-ilp against binpack-ffd, price per pod: 3 "
					    "and 3 batches, 1 excluded (no pods on new nodes)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "(Welch, t 2.776, 4.0 df)\n"));
	ck_assert_ptr_nonnull(
	    strstr(r.out, "  verdict: binpack-ilp was 18.2% cheaper per pod than binpack-ffd "
			  "($0.0020/h per pod, 95% CI -$0.0003..$0.0043); not significant at "
			  "95% (CI includes 0).\n"));
	ck_assert_ptr_nonnull(
	    strstr(r.out, "  verdict: identical plans: binpack-ilp would have launched the same "
			  "hourly price as binpack-ffd in all 3 paired batches.\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "no interval from a single batch\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "NodePool one: shadow, 2 batches\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  1 shadow-mode batch without a shadow plan (the "
					    "shadow packer failed): not compared\n"));
	ck_assert(str_ends_with(r.out, "\n1 batch line without NodePool records (written by a "
				       "kerfd from before them) left out.\n"));
	run_free(&r);

	/* Only the lifecycle events and bare batch lines of an older kerfd. */
	ab_report(&r, "'" DATA "old.jsonl'");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out,
			 "No NodePool records in 1 batch line.\n1 batch line without "
			 "NodePool records (written by a kerfd from before them) left out.\n");
	run_free(&r);
}
END_TEST

START_TEST(kerfctl_json)
{
	struct run r;

	ab_report(&r, "-o json --nodepool web '" DATA "split.jsonl' '" DATA "shadow.jsonl'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(r.doc != NULL, "not JSON: %s", r.out);
	ck_assert_int_eq(int_at(r.doc, "batch_lines"), 13);
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "nodepools")), 1);
	const json_t *p = pool_of(r.doc, "web");
	const json_t *c = json_array_get(json_object_get(p, "split"), 0);
	ck_assert_int_eq(int_at(p, "batches"), 7);
	ck_assert_int_eq(int_at(c, "n_baseline"), 3);
	ck_assert_int_eq(int_at(c, "n_challenger"), 3);
	ck_assert_int_eq(int_at(c, "excluded_no_new_nodes"), 1);
	/* ffd 10000, 12000, 11000 and ilp 8000, 10000, 9000 per pod: df 4, half 2266.958. */
	ck_assert_near(real_at(c, "df"), 4, 1e-9);
	ck_assert_near(real_at(c, "ci_low"), -266.9579e-6, 1e-9);
	ck_assert_near(real_at(c, "ci_high"), 4266.9579e-6, 1e-9);
	const json_t *ilp = json_array_get(json_object_get(p, "packers"), 1);
	ck_assert_str_eq(str_at(ilp, "packer"), "binpack-ilp");
	ck_assert_int_eq(int_at(ilp, "batches"), 4);
	ck_assert_int_eq(int_at(ilp, "optimal_batches"), 3);
	ck_assert_near(real_at(ilp, "bound_gap_mean"), 0, 0);
	run_free(&r);
}
END_TEST

START_TEST(kerfctl_kerfd_report)
{
	struct run r;

	ab_report(&r, "'" DATA "report.json'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(
	    r.out, "From a kerfd --report file: the verdicts only (-o json shows its figures, "
		   "the decision log gives the whole report).\n"
		   "NodePool default (shadow): binpack-ilp would have been 8.9% cheaper than "
		   "binpack-ffd ($0.0400/h per batch, 95% CI $0.0312..$0.0488); the "
		   "difference is significant.\n"
		   "NodePool gpu (single): no comparison (one packer).\n");
	run_free(&r);

	ab_report(&r, "-o json --nodepool gpu '" DATA "report.json'");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_uint_eq(json_array_size(json_object_get(r.doc, "nodepools")), 1);
	ck_assert_str_eq(str_at(pool_of(r.doc, "gpu"), "mode"), "single");
	run_free(&r);

	ab_report(&r, "'" DATA "report-old.json'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "report-old.json: a kerfd --report file without an "
					    "\"ab\" section"));
	run_free(&r);

	ab_report(&r, "'" DATA "shadow.jsonl' '" DATA "report.json'");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "report.json is a kerfd --report file: give it alone"));
	run_free(&r);
}
END_TEST

START_TEST(kerfctl_errors)
{
	struct run r;

	ab_report(&r, "'" DATA "shadow.jsonl' '" DATA "torn.jsonl'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "kerfctl ab-report: " DATA
				"torn.jsonl:2:102: string or '}' expected near end of file\n");
	run_free(&r);

	char *cut = shadow_log_plus("{\"time_ms\":17958");
	char args[256];
	snprintf(args, sizeof(args), "'%s'", cut);
	ab_report(&r, args);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "default"));
	ck_assert_ptr_nonnull(strstr(r.err, "kerfctl ab-report: warning: "));
	ck_assert_ptr_nonnull(strstr(r.err, ":13: the last line is cut short (16 bytes"));
	run_free(&r);
	unlink(cut);
	free(cut);

	/* A report lost to a full disk is a failure that says why. */
	ab_report(&r, "'" DATA "shadow.jsonl' >/dev/full");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "kerfctl: standard output: write failed: No space left on "
				    "device\n") != NULL,
		      "%s", r.err);
	run_free(&r);

	ab_report(&r, "'" DATA "malformed.jsonl'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "malformed.jsonl:3: batch 2: "
					    "nodepools[0].shadow.placed: expected a non-negative "
					    "integer, got a string\n"));
	run_free(&r);

	ab_report(&r, "'" DATA "no-such-file.jsonl'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no-such-file.jsonl: cannot open: No such file"));
	run_free(&r);

	ab_report(&r, "--nodepool nope '" DATA "shadow.jsonl'");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no records for NodePool \"nope\" (the logs have "
					    "default, gpu)"));
	run_free(&r);

	ab_report(&r, "--bogus '" DATA "shadow.jsonl'");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "Usage: kerfctl ab-report"));
	run_free(&r);

	ab_report(&r, "-o yaml '" DATA "shadow.jsonl'");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "-o takes json or text, not \"yaml\""));
	run_free(&r);

	ab_report(&r, "");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no decision log given"));
	run_free(&r);
}
END_TEST

static Suite *ab_suite(void)
{
	Suite *s = suite_create("ab");
	TCase *stats = tcase_create("statistics");
	TCase *records = tcase_create("records");
	TCase *cli = tcase_create("kerfctl");

	tcase_add_test(stats, t_quantiles);
	tcase_add_test(stats, shadow_pairs_known_data);
	tcase_add_test(stats, shadow_dearer_not_significant);
	tcase_add_test(stats, identical_and_single_pairs);
	tcase_add_test(stats, shadow_without_plan);
	tcase_add_test(stats, split_welch);
	tcase_add_test(stats, split_equal_variances_significant);
	suite_add_tcase(s, stats);
	tcase_add_test(records, non_batch_lines_ignored);
	tcase_add_test(records, malformed_records_name_the_field);
	tcase_add_test(records, totals_out_of_range);
	tcase_add_test(records, keep_nodepool);
	tcase_add_test(records, read_file_errors);
	tcase_add_test(records, read_file_empty_first_line);
	tcase_add_test(records, read_file_cut_short);
	tcase_add_test(records, read_file_limits);
	tcase_add_test(records, decision_log_full_disk_whole_lines);
	suite_add_tcase(s, records);
	tcase_set_timeout(cli, 60);
	tcase_add_test(cli, kerfctl_text);
	tcase_add_test(cli, kerfctl_json);
	tcase_add_test(cli, kerfctl_kerfd_report);
	tcase_add_test(cli, kerfctl_errors);
	suite_add_tcase(s, cli);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ab_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
