/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_util.c - the core's shared helpers (core/lib/util.c).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The published FNV-1a 64-bit test vectors. */
static const struct {
	const char *text;
	uint64_t hash;
} fnv_vectors[] = {
    {"", 0xcbf29ce484222325ull},       {"a", 0xaf63dc4c8601ec8cull},
    {"b", 0xaf63df4c8601f1a5ull},      {"foo", 0xdcb27518fed9d577ull},
    {"foobar", 0x85944171f73967e8ull}, {"chongo was here!\n", 0x46810940eff5f915ull},
};

START_TEST(fnv1a_known_answers)
{
	const char *t = fnv_vectors[_i].text;
	ck_assert_uint_eq(str_fnv1a(t), fnv_vectors[_i].hash);
	ck_assert_uint_eq(fnv1a_update(FNV1A_OFFSET, t, strlen(t)), fnv_vectors[_i].hash);
}
END_TEST

/* Folding the bytes in pieces gives the hash of the whole. */
START_TEST(fnv1a_streams)
{
	const char *t = "chongo was here!\n";
	size_t n = strlen(t);
	for (size_t cut = 0; cut <= n; cut++) {
		uint64_t h = fnv1a_update(FNV1A_OFFSET, t, cut);
		ck_assert_uint_eq(fnv1a_update(h, t + cut, n - cut), 0x46810940eff5f915ull);
	}
	ck_assert_uint_eq(fnv1a_update(FNV1A_OFFSET, NULL, 0), FNV1A_OFFSET);
}
END_TEST

START_TEST(hmap_basics)
{
	struct hmap m = {0};
	int a, b;
	const char nul1[] = {'x', '\0', 'y'}, nul2[] = {'x', '\0', 'z'};

	ck_assert_ptr_null(hmap_get(&m, "k", 1));
	ck_assert_ptr_null(hmap_del(&m, "k", 1));
	hmap_set(&m, "k", 1, &a);
	ck_assert_ptr_eq(hmap_get(&m, "k", 1), &a);
	hmap_set(&m, "k", 1, &b);
	ck_assert_ptr_eq(hmap_get(&m, "k", 1), &b);
	ck_assert_uint_eq(m.n, 1);

	/* The length is part of the key: empty keys and embedded NULs are keys too. */
	hmap_set(&m, "", 0, &a);
	hmap_set(&m, nul1, sizeof(nul1), &a);
	hmap_set(&m, nul2, sizeof(nul2), &b);
	ck_assert_ptr_eq(hmap_get(&m, "", 0), &a);
	ck_assert_ptr_eq(hmap_get(&m, nul1, sizeof(nul1)), &a);
	ck_assert_ptr_eq(hmap_get(&m, nul2, sizeof(nul2)), &b);
	ck_assert_ptr_null(hmap_get(&m, "x", 1));
	ck_assert_uint_eq(m.n, 4);

	ck_assert_ptr_eq(hmap_del(&m, "k", 1), &b);
	ck_assert_ptr_null(hmap_get(&m, "k", 1));
	ck_assert_uint_eq(m.n, 3);
	hmap_clear(&m, NULL);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(hmap_get(&m, "", 0));
}
END_TEST

#define REF_KEYS 300

static int n_freed;

static void count_free(void *val)
{
	n_freed++;
}

/*
 * Seeded random sets and deletes against a plain array: growth, long
 * probe runs wrapping past the end, and deletes from the middle of a run
 * must never lose or invent a key.
 */
START_TEST(hmap_against_reference)
{
	static char keys[REF_KEYS][16];
	static int vals[REF_KEYS];
	bool in[REF_KEYS] = {false};
	struct hmap m = {0};
	size_t n = 0;
	uint64_t rnd = 42;

	for (int k = 0; k < REF_KEYS; k++)
		snprintf(keys[k], sizeof(keys[k]), "key-%d", k);
	for (int step = 0; step < 20000; step++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		int k = (int)((rnd >> 33) % REF_KEYS);
		bool set = (rnd >> 20) % 3 != 0;
		if (set) {
			hmap_set(&m, keys[k], strlen(keys[k]), &vals[k]);
			n += !in[k];
			in[k] = true;
		} else {
			ck_assert_ptr_eq(hmap_del(&m, keys[k], strlen(keys[k])),
					 in[k] ? &vals[k] : NULL);
			n -= in[k];
			in[k] = false;
		}
		ck_assert_uint_eq(m.n, n);
		if (step % 97 != 0)
			continue;
		for (int j = 0; j < REF_KEYS; j++)
			ck_assert_ptr_eq(hmap_get(&m, keys[j], strlen(keys[j])),
					 in[j] ? &vals[j] : NULL);
	}
	n_freed = 0;
	hmap_clear(&m, count_free);
	ck_assert_int_eq(n_freed, (int)n);
}
END_TEST

START_TEST(strset_order)
{
	struct strset s = {0};
	char name[16];

	ck_assert_int_eq(strset_find(&s, "a"), -1);
	ck_assert_int_eq(strset_find(&s, NULL), -1);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_uint_eq(strset_add(&s, name), (size_t)i);
	}
	ck_assert_uint_eq(strset_add(&s, "n42"), 42);
	ck_assert_uint_eq(s.n, 100);
	ck_assert_int_eq(strset_find(&s, "n99"), 99);
	ck_assert_str_eq(s.items[7], "n7");
	ck_assert_int_eq(strset_find(&s, "n100"), -1);
	strset_clear(&s);
	ck_assert_int_eq(strset_find(&s, "n1"), -1);
}
END_TEST

/* The same clocks in both units; wall time is real time, not some epoch-relative zero. */
START_TEST(clocks)
{
	int64_t ms = now_mono_ms(), ns = now_mono_ns(), ms2 = now_mono_ms();
	ck_assert_int_le(ms, ns / 1000000);
	ck_assert_int_le(ns / 1000000, ms2);
	ck_assert_int_gt(now_wall_ms(), INT64_C(1577836800000)); /* 2020-01-01 */
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("fnv1a");
	tcase_add_loop_test(tc, fnv1a_known_answers, 0, N_ELEMS(fnv_vectors));
	tcase_add_test(tc, fnv1a_streams);
	suite_add_tcase(s, tc);
	tc = tcase_create("hmap");
	tcase_add_test(tc, hmap_basics);
	tcase_add_test(tc, hmap_against_reference);
	tcase_add_test(tc, strset_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("clocks");
	tcase_add_test(tc, clocks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
