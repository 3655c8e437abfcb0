/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_quantity.c - quantities, durations and resource lists.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/quantity.h>

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------ quantities */

static const struct {
	const char *text;
	int scale;
	int64_t want;
} good_quantities[] = {
    {"500m", 3, 500},
    {"2", 3, 2000},
    {"1.5", 3, 1500},
    {"0.1", 3, 100},
    {".5", 3, 500},
    {"1.", 0, 1},
    {"+1", 0, 1},
    {"-0", 0, 0},
    {"0", 3, 0},
    {"100u", 3, 1}, /* 0.1 millicore rounds up */
    {"1n", 3, 1},
    {"1m", 0, 1},
    {"500m", 0, 1}, /* half a byte is a byte */
    {"1e-3", 0, 1},
    {"1e-3", 3, 1},
    {"320Gi", 0, 343597383680LL},
    {"1G", 0, 1000000000LL},
    {"1Ki", 0, 1024},
    {"0.5Ki", 0, 512},
    {"1.5Gi", 0, 1610612736LL},
    {"1.23456789Ki", 0, 1265}, /* 1264.19751936 */
    {"129e6", 0, 129000000LL},
    {"1e+3", 0, 1000},
    {"1E3", 0, 1000},
    {"1E", 0, 1000000000000000000LL},
    {"7Ei", 0, 8070450532247928832LL},
    {"12.5k", 0, 12500},
    {"1.0001k", 0, 1001},
    {"100M", 3, 100000000000LL},
    {"9223372036854775807", 0, INT64_MAX},
    {"9223372036854775.807", 3, INT64_MAX},
    {"0.0000000000000000000001", 0, 1},
    {"0e999999999999", 0, 0},
    {"1e-999999999999", 0, 1},
    {"000000000000000000000000001k", 0, 1000},
};

START_TEST(quantity_good)
{
	struct kerf_error err;
	int64_t v = -42;

	kerf_error_clear(&err);
	int rc = kerf_quantity_parse(good_quantities[_i].text, good_quantities[_i].scale, &v, &err);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", good_quantities[_i].text, rc, err.message);
	ck_assert_msg(v == good_quantities[_i].want, "%s at scale %d: got %lld want %lld",
		      good_quantities[_i].text, good_quantities[_i].scale, (long long)v,
		      (long long)good_quantities[_i].want);
}
END_TEST

static const struct {
	const char *text;
	int code;
	const char *message;
} bad_quantities[] = {
    {"12Zi", KERF_E_PARSE, "invalid quantity \"12Zi\": unknown suffix \"Zi\""},
    {"1.2.3", KERF_E_PARSE, "invalid quantity \"1.2.3\": unknown suffix \".3\""},
    {"", KERF_E_PARSE, "invalid quantity \"\": empty"},
    {" 1", KERF_E_PARSE, "invalid quantity \" 1\": expected a number"},
    {"1 ", KERF_E_PARSE, "invalid quantity \"1 \": unknown suffix \" \""},
    {"Gi", KERF_E_PARSE, "invalid quantity \"Gi\": expected a number"},
    {"1GiB", KERF_E_PARSE, "invalid quantity \"1GiB\": unknown suffix \"GiB\""},
    {"0x10", KERF_E_PARSE, "invalid quantity \"0x10\": unknown suffix \"x10\""},
    {"1e", KERF_E_PARSE, "invalid quantity \"1e\": unknown suffix \"e\""},
    {"1e1.5", KERF_E_PARSE, "invalid quantity \"1e1.5\": unknown suffix \"e1.5\""},
    {"1e+", KERF_E_PARSE, "invalid quantity \"1e+\": unknown suffix \"e+\""},
    {"1ki", KERF_E_PARSE, "invalid quantity \"1ki\": unknown suffix \"ki\""},
    {"1K", KERF_E_PARSE, "invalid quantity \"1K\": unknown suffix \"K\""},
    {".", KERF_E_PARSE, "invalid quantity \".\": expected a number"},
    {"+", KERF_E_PARSE, "invalid quantity \"+\": expected a number"},
    {"--1", KERF_E_PARSE, "invalid quantity \"--1\": expected a number"},
    {"1,5", KERF_E_PARSE, "invalid quantity \"1,5\": unknown suffix \",5\""},
    {"-1", KERF_E_RANGE, "quantity \"-1\" is negative"},
    {"-0.5Gi", KERF_E_RANGE, "quantity \"-0.5Gi\" is negative"},
    {"8Ei", KERF_E_RANGE, "quantity \"8Ei\" is out of range"},
    {"9223372036854775808", KERF_E_RANGE, "quantity \"9223372036854775808\" is out of range"},
    {"10E", KERF_E_RANGE, "quantity \"10E\" is out of range"},
    {"1e999999999999", KERF_E_RANGE, "quantity \"1e999999999999\" is out of range"},
};

START_TEST(quantity_bad)
{
	struct kerf_error err;
	int64_t v = 42;

	kerf_error_clear(&err);
	int rc = kerf_quantity_parse(bad_quantities[_i].text, 0, &v, &err);
	ck_assert_msg(rc == bad_quantities[_i].code, "\"%s\": rc %d want %d",
		      bad_quantities[_i].text, rc, bad_quantities[_i].code);
	ck_assert_int_eq(err.code, rc);
	ck_assert_str_eq(err.message, bad_quantities[_i].message);
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(quantity_scale_overflow)
{
	int64_t v;
	struct kerf_error err = KERF_ERROR_INIT;

	ck_assert_int_eq(kerf_quantity_parse("9223372036854775807", 3, &v, &err), KERF_E_RANGE);
	ck_assert_int_eq(kerf_quantity_parse("1", -1, &v, &err), KERF_E_INVALID);
	ck_assert_int_eq(kerf_quantity_parse(NULL, 0, &v, NULL), KERF_E_INVALID);
	/* err may be NULL. */
	ck_assert_int_eq(kerf_quantity_parse("x", 0, &v, NULL), KERF_E_PARSE);
}
END_TEST

static const struct {
	int64_t value;
	int scale;
	const char *want;
} formats[] = {
    {1500, 3, "1500m"},
    {2000, 3, "2"},
    {0, 3, "0"},
    {0, 0, "0"},
    {1, 0, "1"},
    {2048, 3, "2048m"},
    {1024000, 3, "1Ki"},
    {343597383680LL, 0, "320Gi"},
    {1000000000LL, 0, "1G"},
    {1024, 0, "1Ki"},
    {1000, 0, "1k"},
    {1536, 0, "1536"},
    {1024000, 0, "1024k"},
    {1073741824000LL, 0, "1000Gi"},
    {1152921504606846976LL, 0, "1Ei"},
    {INT64_MAX, 0, "9223372036854775807"},
    {-1500, 3, "-1500m"},
    {-2048, 0, "-2Ki"},
};

START_TEST(quantity_format)
{
	char buf[64];
	int64_t back;
	int n = kerf_quantity_format(formats[_i].value, formats[_i].scale, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)strlen(formats[_i].want));
	ck_assert_str_eq(buf, formats[_i].want);
	if (formats[_i].value >= 0) {
		ck_assert_int_eq(kerf_quantity_parse(buf, formats[_i].scale, &back, NULL), 0);
		ck_assert_int_eq(back, formats[_i].value);
	}
}
END_TEST

START_TEST(quantity_format_errors)
{
	char buf[4];

	ck_assert_int_eq(kerf_quantity_format(1024, 0, buf, 4), 3);
	ck_assert_int_eq(kerf_quantity_format(1025, 0, buf, 4), KERF_E_RANGE);
	ck_assert_int_eq(kerf_quantity_format(1, 0, NULL, 0), KERF_E_RANGE);
	ck_assert_int_eq(kerf_quantity_format(1, 2, buf, sizeof(buf)), KERF_E_INVALID);
}
END_TEST

/* Every value written and read back must survive, at both scales. */
START_TEST(quantity_roundtrip)
{
	char buf[64];
	int64_t back;

	for (int64_t v = 0; v < 5000; v += 7) {
		for (int scale = 0; scale <= 3; scale += 3) {
			ck_assert_int_gt(kerf_quantity_format(v, scale, buf, sizeof(buf)), 0);
			ck_assert_int_eq(kerf_quantity_parse(buf, scale, &back, NULL), 0);
			ck_assert_int_eq(back, v);
		}
	}
	for (int shift = 0; shift < 63; shift++) {
		int64_t v = (int64_t)1 << shift;
		ck_assert_int_gt(kerf_quantity_format(v, 0, buf, sizeof(buf)), 0);
		ck_assert_int_eq(kerf_quantity_parse(buf, 0, &back, NULL), 0);
		ck_assert_int_eq(back, v);
	}
}
END_TEST

/* ------------------------------------------------------------- durations */

static const struct {
	const char *text;
	bool allow_never;
	int64_t want;
} good_durations[] = {
    {"300ms", false, 300},
    {"30s", false, 30000},
    {"1h30m", false, 5400000},
    {"1h30m0s", false, 5400000},
    {"720h", false, 2592000000LL},
    {"0s", false, 0},
    {"0", false, 0},
    {"-0s", false, 0},
    {"+5s", false, 5000},
    {"1.5h", false, 5400000},
    {"1.5s", false, 1500},
    {".5s", false, 500},
    {"1.s", false, 1000},
    {"0.001s", false, 1},
    {"1m0.5s", false, 60500},
    {"1000us", false, 1},
    {"1000\xc2\xb5s", false, 1},
    {"1000\xce\xbcs", false, 1},
    {"1000000ns", false, 1},
    {"1s500ms", false, 1500},
    {"0.25m", false, 15000},
    {"2562047h", false, 9223369200000LL},
    {"1.0000000000001s", false, 1000}, /* below a nanosecond: dropped as Go does */
    {"Never", true, KERF_DURATION_NEVER},
};

START_TEST(duration_good)
{
	struct kerf_error err;
	int64_t v = -42;

	kerf_error_clear(&err);
	int rc =
	    kerf_duration_parse(good_durations[_i].text, good_durations[_i].allow_never, &v, &err);
	ck_assert_msg(rc == 0, "%s: rc %d: %s", good_durations[_i].text, rc, err.message);
	ck_assert_msg(v == good_durations[_i].want, "%s: got %lld want %lld",
		      good_durations[_i].text, (long long)v, (long long)good_durations[_i].want);
}
END_TEST

static const struct {
	const char *text;
	int code;
	const char *message;
} bad_durations[] = {
    {"", KERF_E_PARSE, "invalid duration \"\": empty"},
    {"10", KERF_E_PARSE, "invalid duration \"10\": missing unit"},
    {"1h30", KERF_E_PARSE, "invalid duration \"1h30\": missing unit"},
    {"1d", KERF_E_PARSE, "invalid duration \"1d\": unknown unit \"d\""},
    {"1H", KERF_E_PARSE, "invalid duration \"1H\": unknown unit \"H\""},
    {"1h 30m", KERF_E_PARSE, "invalid duration \"1h 30m\": unknown unit \"h \""},
    {"1s ", KERF_E_PARSE, "invalid duration \"1s \": unknown unit \"s \""},
    {" 1s", KERF_E_PARSE, "invalid duration \" 1s\": expected a number at \" 1s\""},
    {"never", KERF_E_PARSE, "invalid duration \"never\": expected a number at \"never\""},
    {"s", KERF_E_PARSE, "invalid duration \"s\": expected a number at \"s\""},
    {".s", KERF_E_PARSE, "invalid duration \".s\": expected a number"},
    {"-", KERF_E_PARSE, "invalid duration \"-\": expected a number"},
    {"-1s", KERF_E_PARSE, "invalid duration \"-1s\": negative durations are not allowed"},
    {"1500us", KERF_E_PARSE, "invalid duration \"1500us\": finer than a millisecond"},
    {"0.5ms", KERF_E_PARSE, "invalid duration \"0.5ms\": finer than a millisecond"},
    {"1ns", KERF_E_PARSE, "invalid duration \"1ns\": finer than a millisecond"},
    {"Never", KERF_E_PARSE, "invalid duration \"Never\": \"Never\" is not allowed here"},
    {"2562048h", KERF_E_RANGE, "duration \"2562048h\" is out of range"},
    {"99999999999999999999s", KERF_E_RANGE, "duration \"99999999999999999999s\" is out of range"},
    {"2562047h2562047h", KERF_E_RANGE, "duration \"2562047h2562047h\" is out of range"},
};

START_TEST(duration_bad)
{
	struct kerf_error err;
	int64_t v = 42;

	kerf_error_clear(&err);
	int rc = kerf_duration_parse(bad_durations[_i].text, false, &v, &err);
	ck_assert_msg(rc == bad_durations[_i].code, "\"%s\": rc %d want %d", bad_durations[_i].text,
		      rc, bad_durations[_i].code);
	ck_assert_int_eq(err.code, rc);
	ck_assert_str_eq(err.message, bad_durations[_i].message);
	ck_assert_int_eq(v, 42);
}
END_TEST

static const struct {
	int64_t ms;
	const char *want;
} duration_formats[] = {
    {0, "0s"},
    {1, "1ms"},
    {300, "300ms"},
    {1000, "1s"},
    {1500, "1.5s"},
    {1050, "1.05s"},
    {30000, "30s"},
    {61001, "1m1.001s"},
    {90000, "1m30s"},
    {3600000, "1h0m0s"},
    {5400000, "1h30m0s"},
    {2592000000LL, "720h0m0s"},
    {-1500, "-1.5s"},
    {KERF_DURATION_NEVER, "Never"},
};

START_TEST(duration_format)
{
	char buf[64];
	int64_t back;
	int n = kerf_duration_format(duration_formats[_i].ms, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)strlen(duration_formats[_i].want));
	ck_assert_str_eq(buf, duration_formats[_i].want);
	if (duration_formats[_i].ms >= 0) {
		ck_assert_int_eq(kerf_duration_parse(buf, true, &back, NULL), 0);
		ck_assert_int_eq(back, duration_formats[_i].ms);
	}
}
END_TEST

START_TEST(duration_format_small_buffer)
{
	char buf[3];

	ck_assert_int_eq(kerf_duration_format(0, buf, sizeof(buf)), 2);
	ck_assert_int_eq(kerf_duration_format(1500, buf, sizeof(buf)), KERF_E_RANGE);
	ck_assert_int_eq(kerf_duration_format(KERF_DURATION_NEVER, buf, sizeof(buf)), KERF_E_RANGE);
}
END_TEST

START_TEST(duration_roundtrip)
{
	char buf[64];
	int64_t back;

	for (int64_t ms = 0; ms < 4000000; ms += 997) {
		ck_assert_int_gt(kerf_duration_format(ms, buf, sizeof(buf)), 0);
		ck_assert_int_eq(kerf_duration_parse(buf, false, &back, NULL), 0);
		ck_assert_int_eq(back, ms);
	}
}
END_TEST

/* -------------------------------------------------------- resource lists */

START_TEST(resources_set_get)
{
	struct kerf_resources r;
	struct kerf_error err = KERF_ERROR_INIT;
	bool present = true;

	kerf_resources_init(&r);
	ck_assert_int_eq(kerf_resources_get(&r, "cpu", &present), 0);
	ck_assert(!present);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "cpu", "500m", &err), 0);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "memory", "500m", &err), 0);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "ephemeral-storage", "20Gi", &err), 0);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "pods", "110", &err), 0);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "nvidia.com/gpu", "2", &err), 0);
	ck_assert_int_eq(r.cpu_millis, 500);
	ck_assert_int_eq(r.memory_bytes, 1);
	ck_assert_int_eq(r.ephemeral_bytes, 21474836480LL);
	ck_assert_int_eq(r.pods, 110);
	ck_assert_uint_eq(r.present,
			  KERF_RES_CPU | KERF_RES_MEMORY | KERF_RES_EPHEMERAL | KERF_RES_PODS);
	ck_assert_int_eq(kerf_resources_get(&r, "nvidia.com/gpu", &present), 2);
	ck_assert(present);
	ck_assert_int_eq(kerf_resources_get(&r, "cpu", &present), 500);
	ck_assert(present);
	ck_assert_int_eq(kerf_resources_get(&r, "amd.com/gpu", &present), 0);
	ck_assert(!present);
	ck_assert_int_eq(kerf_resources_get(&r, "pods", NULL), 110);

	/* Replacing keeps one entry. */
	ck_assert_int_eq(kerf_resources_set(&r, "nvidia.com/gpu", 4, &err), 0);
	ck_assert_uint_eq(r.n_ext, 1);
	ck_assert_int_eq(r.ext[0].value, 4);

	/* A limit of zero is still a limit. */
	kerf_resources_init(&r);
	ck_assert_int_eq(kerf_resources_set(&r, "memory", 0, &err), 0);
	ck_assert_uint_eq(r.present, KERF_RES_MEMORY);
}
END_TEST

START_TEST(resources_ext_sorted_and_full)
{
	struct kerf_resources r;
	struct kerf_error err = KERF_ERROR_INIT;
	const char *names[] = {"z.io/x", "a.io/x", "m.io/x", "b.io/x", "y.io/x", "c.io/x",
			       "x.io/x", "d.io/x", "w.io/x", "f.io/x", "v.io/x", "g.io/x",
			       "u.io/x", "h.io/x", "t.io/x", "i.io/x"};
	char longname[KERF_RESOURCE_NAME_MAX + 1];

	kerf_resources_init(&r);
	for (int i = 0; i < N_ELEMS(names); i++)
		ck_assert_int_eq(kerf_resources_set(&r, names[i], i, &err), 0);
	ck_assert_uint_eq(r.n_ext, KERF_RESOURCES_EXT_MAX);
	for (uint32_t i = 1; i < r.n_ext; i++)
		ck_assert_int_lt(strcmp(r.ext[i - 1].name, r.ext[i].name), 0);
	ck_assert_int_eq(kerf_resources_get(&r, "z.io/x", NULL), 0);
	ck_assert_int_eq(kerf_resources_get(&r, "d.io/x", NULL), 7);
	ck_assert_int_eq(kerf_resources_get(&r, "i.io/x", NULL), 15);

	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_resources_set(&r, "e.io/x", 1, &err), KERF_E_RANGE);
	ck_assert_str_eq(
	    err.message,
	    "resource \"e.io/x\": a resource list holds at most 16 extended resources");
	/* An existing one can still be updated. */
	ck_assert_int_eq(kerf_resources_set(&r, "a.io/x", 9, &err), 0);

	ck_assert_int_eq(kerf_resources_set(&r, "", 1, &err), KERF_E_INVALID);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(kerf_resources_set(&r, longname, 1, &err), KERF_E_INVALID);
	longname[KERF_RESOURCE_NAME_MAX - 1] = '\0';
	kerf_resources_init(&r);
	ck_assert_int_eq(kerf_resources_set(&r, longname, 1, &err), 0);
}
END_TEST

START_TEST(resources_set_quantity_error)
{
	struct kerf_resources r;
	struct kerf_error err;

	kerf_resources_init(&r);
	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "memory", "12Zi", &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message,
			 "resource \"memory\": invalid quantity \"12Zi\": unknown suffix \"Zi\"");
	ck_assert_int_eq(kerf_resources_set_quantity(&r, "cpu", "9223372036854775807", &err),
			 KERF_E_RANGE);
	ck_assert_str_eq(err.message,
			 "resource \"cpu\": quantity \"9223372036854775807\" is out of range");
	ck_assert_uint_eq(r.present, 0);
}
END_TEST

START_TEST(resources_add_sub)
{
	struct kerf_resources a, b, saved;

	kerf_resources_init(&a);
	kerf_resources_init(&b);
	kerf_resources_set(&a, "cpu", INT64_MAX - 1, NULL);
	kerf_resources_set(&a, "b.io/x", 1, NULL);
	kerf_resources_set(&b, "cpu", 5, NULL);
	kerf_resources_set(&b, "memory", 100, NULL);
	kerf_resources_set(&b, "a.io/x", 2, NULL);
	kerf_resources_set(&b, "b.io/x", 3, NULL);
	ck_assert_int_eq(kerf_resources_add(&a, &b), 0);
	ck_assert_int_eq(a.cpu_millis, INT64_MAX);
	ck_assert_int_eq(a.memory_bytes, 100);
	ck_assert_uint_eq(a.present, KERF_RES_CPU | KERF_RES_MEMORY);
	ck_assert_uint_eq(a.n_ext, 2);
	ck_assert_str_eq(a.ext[0].name, "a.io/x");
	ck_assert_int_eq(a.ext[0].value, 2);
	ck_assert_int_eq(a.ext[1].value, 4);

	kerf_resources_sub(&a, &b);
	ck_assert_int_eq(a.cpu_millis, INT64_MAX - 5);
	ck_assert_int_eq(a.memory_bytes, 0);
	ck_assert_int_eq(kerf_resources_get(&a, "a.io/x", NULL), 0);
	ck_assert_int_eq(kerf_resources_get(&a, "b.io/x", NULL), 1);
	kerf_resources_sub(&a, &b);
	kerf_resources_sub(&a, &b);
	ck_assert_int_eq(kerf_resources_get(&a, "b.io/x", NULL), 0);
	ck_assert_int_eq(a.memory_bytes, 0);

	/* An add that cannot fit the extended resources leaves dst alone. */
	kerf_resources_init(&a);
	kerf_resources_init(&b);
	for (int i = 0; i < KERF_RESOURCES_EXT_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d.io/x", i);
		kerf_resources_set(&a, name, 1, NULL);
	}
	kerf_resources_set(&b, "zz.io/x", 1, NULL);
	kerf_resources_set(&b, "cpu", 1, NULL);
	saved = a;
	ck_assert_int_eq(kerf_resources_add(&a, &b), KERF_E_RANGE);
	ck_assert(memcmp(&a, &saved, sizeof(a)) == 0);
}
END_TEST

START_TEST(resources_fit_exceed)
{
	struct kerf_resources want, have, limit;
	char failed[KERF_RESOURCE_NAME_MAX];

	kerf_resources_init(&want);
	kerf_resources_init(&have);
	kerf_resources_set(&want, "cpu", 1000, NULL);
	kerf_resources_set(&want, "memory", 1024, NULL);
	kerf_resources_set(&have, "cpu", 2000, NULL);
	kerf_resources_set(&have, "memory", 1024, NULL);
	ck_assert(kerf_resources_fit(&want, &have, failed));
	ck_assert_str_eq(failed, "");

	kerf_resources_set(&want, "memory", 1025, NULL);
	ck_assert(!kerf_resources_fit(&want, &have, failed));
	ck_assert_str_eq(failed, "memory");
	ck_assert(!kerf_resources_fit(&want, &have, NULL));

	kerf_resources_set(&want, "memory", 1, NULL);
	kerf_resources_set(&want, "nvidia.com/gpu", 1, NULL);
	ck_assert(!kerf_resources_fit(&want, &have, failed));
	ck_assert_str_eq(failed, "nvidia.com/gpu");
	kerf_resources_set(&have, "nvidia.com/gpu", 1, NULL);
	ck_assert(kerf_resources_fit(&want, &have, failed));

	/* Missing from have counts as zero. */
	kerf_resources_set(&want, "pods", 1, NULL);
	ck_assert(!kerf_resources_fit(&want, &have, failed));
	ck_assert_str_eq(failed, "pods");

	kerf_resources_init(&limit);
	ck_assert(!kerf_resources_exceed(&want, &limit, failed));
	kerf_resources_set(&limit, "cpu", 1000, NULL);
	ck_assert(!kerf_resources_exceed(&want, &limit, failed)); /* equal is fine */
	kerf_resources_set(&limit, "memory", 0, NULL);
	ck_assert(kerf_resources_exceed(&want, &limit, failed));
	ck_assert_str_eq(failed, "memory");
	kerf_resources_set(&limit, "memory", 10, NULL);
	kerf_resources_set(&limit, "nvidia.com/gpu", 0, NULL);
	ck_assert(kerf_resources_exceed(&want, &limit, failed));
	ck_assert_str_eq(failed, "nvidia.com/gpu");
}
END_TEST

static Suite *quantity_suite(void)
{
	Suite *s = suite_create("quantity");
	TCase *tc = tcase_create("quantity");

	tcase_add_loop_test(tc, quantity_good, 0, N_ELEMS(good_quantities));
	tcase_add_loop_test(tc, quantity_bad, 0, N_ELEMS(bad_quantities));
	tcase_add_test(tc, quantity_scale_overflow);
	tcase_add_loop_test(tc, quantity_format, 0, N_ELEMS(formats));
	tcase_add_test(tc, quantity_format_errors);
	tcase_add_test(tc, quantity_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_loop_test(tc, duration_good, 0, N_ELEMS(good_durations));
	tcase_add_loop_test(tc, duration_bad, 0, N_ELEMS(bad_durations));
	tcase_add_loop_test(tc, duration_format, 0, N_ELEMS(duration_formats));
	tcase_add_test(tc, duration_format_small_buffer);
	tcase_add_test(tc, duration_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("resources");
	tcase_add_test(tc, resources_set_get);
	tcase_add_test(tc, resources_ext_sorted_and_full);
	tcase_add_test(tc, resources_set_quantity_error);
	tcase_add_test(tc, resources_add_sub);
	tcase_add_test(tc, resources_fit_exceed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = quantity_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
