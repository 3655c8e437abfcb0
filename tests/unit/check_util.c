/*
 * check_util.c - the core's shared helpers (core/lib/util.c).
 */
#include <check.h>
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

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("fnv1a");
	tcase_add_loop_test(tc, fnv1a_known_answers, 0, N_ELEMS(fnv_vectors));
	tcase_add_test(tc, fnv1a_streams);
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
