/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quantity.c - Kubernetes quantities, Go durations and resource lists.
 *
 * Quantities are evaluated on a decimal digit string rather than with
 * floating point, so "1.5Gi", "0.1" at milli scale or "129e6" come out
 * exactly, and whatever is left below the requested scale rounds up the way
 * Kubernetes rounds (a request of "500m" bytes asks for one byte, not zero).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/quantity.h>

/* ------------------------------------------------------------ quantities */

/* Scales beyond this cannot hold even "1" in int64. */
#define QUANTITY_SCALE_MAX 18

/*
 * Explicit exponents are clamped here: far beyond any int64 result, yet small
 * enough that adding the suffix, scale and fraction length cannot overflow.
 */
#define QUANTITY_EXP_CLAMP 1000000000LL

struct qsuffix {
	const char *text;
	int e10; /* power of ten */
	int e2;	 /* power of two */
};

static const struct qsuffix qsuffixes[] = {
    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},	 {"", 0, 0},	{"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},	{"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parses "e<signed integer>" / "E<signed integer>" (the caller checked the
 * first character and that more follows).  Returns false when the rest is
 * not a signed integer.
 */
static bool parse_exponent(const char *s, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;

	s++;
	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		if (v < QUANTITY_EXP_CLAMP)
			v = v * 10 + (*s - '0');
	}
	if (*s != '\0')
		return false;
	if (v > QUANTITY_EXP_CLAMP)
		v = QUANTITY_EXP_CLAMP;
	*out = neg ? -v : v;
	return true;
}

/* Decimal digits, least significant first, to int64; false on overflow. */
static bool digits_to_int64(const unsigned char *d, size_t from, size_t to, int64_t *out)
{
	int64_t v = 0;

	for (size_t i = to; i > from; i--) {
		int digit = d[i - 1];
		if (v > (INT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

/*
 * value = digits * 2^e2 * 10^dexp, rounded up to an integer.  Returns 0,
 * KERF_E_RANGE on overflow or KERF_E_NOMEM.
 */
static int quantity_eval(const char *intd, size_t ni, const char *fracd, size_t nf, int e2,
			 int64_t dexp, int64_t *out)
{
	/* 2^60 adds at most 19 decimal digits. */
	size_t cap = ni + nf + 20;
	unsigned char *d = malloc(cap);
	size_t n = 0;
	int rc = 0;

	if (!d)
		return KERF_E_NOMEM;
	for (size_t i = nf; i > 0; i--)
		d[n++] = (unsigned char)(fracd[i - 1] - '0');
	for (size_t i = ni; i > 0; i--)
		d[n++] = (unsigned char)(intd[i - 1] - '0');
	while (n > 0 && d[n - 1] == 0)
		n--;
	if (n == 0) {
		*out = 0;
		goto done;
	}

	for (int k = 0; k < e2; k += 10) {
		uint32_t carry = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t x = (uint32_t)d[i] * 1024u + carry;
			d[i] = (unsigned char)(x % 10u);
			carry = x / 10u;
		}
		while (carry) {
			d[n++] = (unsigned char)(carry % 10u);
			carry /= 10u;
		}
	}

	if (dexp >= 0) {
		int64_t v;
		if (!digits_to_int64(d, 0, n, &v)) {
			rc = KERF_E_RANGE;
			goto done;
		}
		for (int64_t i = 0; i < dexp; i++) {
			if (v > INT64_MAX / 10) {
				rc = KERF_E_RANGE;
				goto done;
			}
			v *= 10;
		}
		*out = v;
	} else {
		/* Drop the lowest -dexp digits; any non-zero one rounds up. */
		uint64_t k = (uint64_t)(-dexp);
		size_t cut = k < n ? (size_t)k : n;
		bool round_up = false;
		int64_t v = 0;

		for (size_t i = 0; i < cut; i++) {
			if (d[i]) {
				round_up = true;
				break;
			}
		}
		if (!digits_to_int64(d, cut, n, &v) || (round_up && v == INT64_MAX)) {
			rc = KERF_E_RANGE;
			goto done;
		}
		*out = v + (round_up ? 1 : 0);
	}
done:
	free(d);
	return rc;
}

int kerf_quantity_parse(const char *text, int scale, int64_t *out, struct kerf_error *err)
{
	const char *p = text;
	const char *intd, *fracd = NULL, *suffix;
	size_t ni, nf = 0;
	bool neg = false;
	const struct qsuffix *sfx = NULL;
	int64_t exp = 0, v = 0;
	int rc;

	if (!text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_quantity_parse: NULL argument");
	if (scale < 0 || scale > QUANTITY_SCALE_MAX)
		return kerf_error_set(err, KERF_E_INVALID,
				      "kerf_quantity_parse: scale %d out of range", scale);
	if (*p == '\0')
		return kerf_error_set(err, KERF_E_PARSE, "invalid quantity \"\": empty");
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	intd = p;
	while (is_digit(*p))
		p++;
	ni = (size_t)(p - intd);
	if (*p == '.') {
		fracd = ++p;
		while (is_digit(*p))
			p++;
		nf = (size_t)(p - fracd);
	}
	if (ni + nf == 0)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid quantity \"%s\": expected a number", text);

	suffix = p;
	for (size_t i = 0; i < sizeof(qsuffixes) / sizeof(qsuffixes[0]); i++) {
		if (strcmp(suffix, qsuffixes[i].text) == 0) {
			sfx = &qsuffixes[i];
			break;
		}
	}
	/* A lone "E" is exa; "e"/"E" followed by more is an exponent. */
	if (!sfx && (suffix[0] == 'e' || suffix[0] == 'E') && suffix[1] != '\0' &&
	    parse_exponent(suffix, &exp))
		sfx = &qsuffixes[3];
	if (!sfx)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid quantity \"%s\": unknown suffix \"%s\"", text,
				      suffix);

	rc = quantity_eval(intd, ni, fracd, nf, sfx->e2,
			   (int64_t)sfx->e10 + exp + scale - (int64_t)nf, &v);
	if (rc == KERF_E_NOMEM)
		return kerf_error_set(err, rc, "out of memory parsing quantity");
	if (rc)
		return kerf_error_set(err, rc, "quantity \"%s\" is out of range", text);
	if (neg && v != 0)
		return kerf_error_set(err, KERF_E_RANGE, "quantity \"%s\" is negative", text);
	*out = v;
	return 0;
}

static int copy_out(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (!buf || n >= len)
		return KERF_E_RANGE;
	memcpy(buf, s, n + 1);
	return (int)n;
}

int kerf_quantity_format(int64_t value, int scale, char *buf, size_t len)
{
	static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	static const char *const dec[] = {"k", "M", "G", "T", "P", "E"};
	char best[32], cand[32];
	const char *sign = value < 0 ? "-" : "";
	/* Negating through uint64 keeps INT64_MIN well defined. */
	uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;

	if (scale != 0 && scale != 3)
		return KERF_E_INVALID;
	if (scale == 3) {
		if (mag % 1000u != 0) {
			snprintf(best, sizeof(best), "%s%llum", sign, (unsigned long long)mag);
			return copy_out(best, buf, len);
		}
		mag /= 1000u;
	}
	snprintf(best, sizeof(best), "%s%llu", sign, (unsigned long long)mag);
	if (mag == 0)
		return copy_out(best, buf, len);
	/* On equal length a binary suffix wins: memory is usually sized in them. */
	for (int i = 0; i < 6; i++) {
		unsigned shift = 10u * (unsigned)(i + 1);
		if (mag % ((uint64_t)1 << shift) != 0)
			break;
		snprintf(cand, sizeof(cand), "%s%llu%s", sign, (unsigned long long)(mag >> shift),
			 bin[i]);
		if (strlen(cand) < strlen(best))
			memcpy(best, cand, sizeof(best));
	}
	uint64_t div = 1;
	for (int i = 0; i < 6; i++) {
		div *= 1000u;
		if (mag % div != 0)
			break;
		snprintf(cand, sizeof(cand), "%s%llu%s", sign, (unsigned long long)(mag / div),
			 dec[i]);
		if (strlen(cand) < strlen(best))
			memcpy(best, cand, sizeof(best));
	}
	return copy_out(best, buf, len);
}

/* ------------------------------------------------------------- durations */

#define NS_PER_MS 1000000ULL

struct dunit {
	const char *text;
	uint64_t ns;
	int pow10; /* ns == mult * 10^pow10 */
	unsigned mult;
};

static const struct dunit dunits[] = {
    {"ns", 1ULL, 0, 1},		  {"us", 1000ULL, 3, 1},
    {"\xc2\xb5s", 1000ULL, 3, 1}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ULL, 3, 1}, /* U+03BC Greek mu */
    {"ms", 1000000ULL, 6, 1},	  {"s", 1000000000ULL, 9, 1},
    {"m", 60000000000ULL, 10, 6}, {"h", 3600000000000ULL, 11, 36},
};

/* Fraction digits beyond this are below a nanosecond even for hours. */
#define DURATION_FRAC_DIGITS 17

int kerf_duration_parse(const char *text, bool allow_never, int64_t *out_ms, struct kerf_error *err)
{
	const char *s = text;
	bool neg = false;
	uint64_t total = 0;

	if (!text || !out_ms)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_duration_parse: NULL argument");
	if (*s == '\0')
		return kerf_error_set(err, KERF_E_PARSE, "invalid duration \"\": empty");
	if (strcmp(s, "Never") == 0) {
		if (!allow_never)
			return kerf_error_set(
			    err, KERF_E_PARSE,
			    "invalid duration \"Never\": \"Never\" is not allowed here");
		*out_ms = KERF_DURATION_NEVER;
		return 0;
	}
	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out_ms = 0;
		return 0;
	}
	if (*s == '\0')
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid duration \"%s\": expected a number", text);

	while (*s) {
		uint64_t whole = 0, frac = 0;
		int frac_digits = 0;
		bool pre = false, post = false, overflow = false;
		const char *unit;
		size_t ulen;
		const struct dunit *u = NULL;

		if (!is_digit(*s) && *s != '.')
			return kerf_error_set(
			    err, KERF_E_PARSE,
			    "invalid duration \"%s\": expected a number at \"%s\"", text, s);
		for (; is_digit(*s); s++) {
			pre = true;
			if (whole > (UINT64_MAX - 9) / 10)
				overflow = true;
			else
				whole = whole * 10 + (uint64_t)(*s - '0');
		}
		if (*s == '.') {
			for (s++; is_digit(*s); s++) {
				post = true;
				if (frac_digits < DURATION_FRAC_DIGITS) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					frac_digits++;
				}
			}
		}
		if (!pre && !post)
			return kerf_error_set(err, KERF_E_PARSE,
					      "invalid duration \"%s\": expected a number", text);
		unit = s;
		while (*s && *s != '.' && !is_digit(*s))
			s++;
		ulen = (size_t)(s - unit);
		if (ulen == 0)
			return kerf_error_set(err, KERF_E_PARSE,
					      "invalid duration \"%s\": missing unit", text);
		for (size_t i = 0; i < sizeof(dunits) / sizeof(dunits[0]); i++) {
			if (strlen(dunits[i].text) == ulen &&
			    memcmp(dunits[i].text, unit, ulen) == 0) {
				u = &dunits[i];
				break;
			}
		}
		if (!u)
			return kerf_error_set(err, KERF_E_PARSE,
					      "invalid duration \"%s\": unknown unit \"%.*s\"",
					      text, (int)ulen, unit);
		if (overflow || whole > (uint64_t)INT64_MAX / u->ns)
			return kerf_error_set(err, KERF_E_RANGE, "duration \"%s\" is out of range",
					      text);
		whole *= u->ns;
		if (frac) {
			/*
			 * floor(frac / 10^digits * ns), exactly: ns is mult*10^pow10
			 * and frac < 10^17, so frac*mult stays below 2^64.
			 */
			uint64_t add = frac;
			if (frac_digits <= u->pow10) {
				for (int i = frac_digits; i < u->pow10; i++)
					add *= 10;
				add *= u->mult;
			} else {
				add *= u->mult;
				for (int i = u->pow10; i < frac_digits; i++)
					add /= 10;
			}
			whole += add;
		}
		if (whole > (uint64_t)INT64_MAX - total)
			return kerf_error_set(err, KERF_E_RANGE, "duration \"%s\" is out of range",
					      text);
		total += whole;
	}
	if (neg && total != 0)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid duration \"%s\": negative durations are not allowed",
				      text);
	if (total % NS_PER_MS != 0)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid duration \"%s\": finer than a millisecond", text);
	*out_ms = (int64_t)(total / NS_PER_MS);
	return 0;
}

int kerf_duration_format(int64_t ms, char *buf, size_t len)
{
	char out[48];
	size_t n = 0;
	const char *sign = ms < 0 ? "-" : "";
	uint64_t mag = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;

	if (ms == KERF_DURATION_NEVER)
		return copy_out("Never", buf, len);
	if (mag == 0)
		return copy_out("0s", buf, len);
	if (mag < 1000) {
		snprintf(out, sizeof(out), "%s%llums", sign, (unsigned long long)mag);
		return copy_out(out, buf, len);
	}
	uint64_t h = mag / 3600000u, m = mag / 60000u % 60u, sec = mag / 1000u % 60u;
	unsigned frac = (unsigned)(mag % 1000u);

	n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", sign);
	if (h)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%lluh", (unsigned long long)h);
	if (h || m)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%llum", (unsigned long long)m);
	n += (size_t)snprintf(out + n, sizeof(out) - n, "%llu", (unsigned long long)sec);
	if (frac) {
		char f[8];
		size_t fl;
		snprintf(f, sizeof(f), ".%03u", frac);
		fl = strlen(f);
		while (f[fl - 1] == '0')
			f[--fl] = '\0';
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", f);
	}
	snprintf(out + n, sizeof(out) - n, "s");
	return copy_out(out, buf, len);
}

/* -------------------------------------------------------- resource lists */

enum fixed_dim { DIM_CPU, DIM_MEMORY, DIM_EPHEMERAL, DIM_PODS, DIM_NONE };

static const char *const fixed_names[] = {KERF_RESOURCE_CPU, KERF_RESOURCE_MEMORY,
					  KERF_RESOURCE_EPHEMERAL, KERF_RESOURCE_PODS};

static enum fixed_dim fixed_dim_of(const char *name)
{
	for (int i = 0; i < DIM_NONE; i++) {
		if (strcmp(name, fixed_names[i]) == 0)
			return (enum fixed_dim)i;
	}
	return DIM_NONE;
}

static int64_t *fixed_slot(struct kerf_resources *r, enum fixed_dim d)
{
	switch (d) {
	case DIM_CPU:
		return &r->cpu_millis;
	case DIM_MEMORY:
		return &r->memory_bytes;
	case DIM_EPHEMERAL:
		return &r->ephemeral_bytes;
	case DIM_PODS:
		return &r->pods;
	case DIM_NONE:
		break;
	}
	return NULL;
}

static int64_t fixed_value(const struct kerf_resources *r, enum fixed_dim d)
{
	switch (d) {
	case DIM_CPU:
		return r->cpu_millis;
	case DIM_MEMORY:
		return r->memory_bytes;
	case DIM_EPHEMERAL:
		return r->ephemeral_bytes;
	case DIM_PODS:
		return r->pods;
	case DIM_NONE:
		break;
	}
	return 0;
}

/* Index of name in r->ext, or where it would be inserted (*found false). */
static uint32_t ext_find(const struct kerf_resources *r, const char *name, bool *found)
{
	uint32_t lo = 0, hi = r->n_ext;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->ext[mid].name, name);
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

void kerf_resources_init(struct kerf_resources *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int kerf_resources_set(struct kerf_resources *r, const char *name, int64_t value,
		       struct kerf_error *err)
{
	enum fixed_dim d;
	size_t len;
	uint32_t i;
	bool found;

	if (!r || !name || !*name)
		return kerf_error_set(err, KERF_E_INVALID, "resource name is empty");
	len = strlen(name);
	if (len >= KERF_RESOURCE_NAME_MAX)
		return kerf_error_set(err, KERF_E_INVALID,
				      "resource name \"%.*s...\" is longer than %d bytes", 32, name,
				      KERF_RESOURCE_NAME_MAX - 1);
	d = fixed_dim_of(name);
	if (d != DIM_NONE) {
		*fixed_slot(r, d) = value;
		r->present |= 1u << d;
		return 0;
	}
	i = ext_find(r, name, &found);
	if (found) {
		r->ext[i].value = value;
		return 0;
	}
	if (r->n_ext >= KERF_RESOURCES_EXT_MAX)
		return kerf_error_set(
		    err, KERF_E_RANGE,
		    "resource \"%s\": a resource list holds at most %d extended resources", name,
		    KERF_RESOURCES_EXT_MAX);
	memmove(&r->ext[i + 1], &r->ext[i], (r->n_ext - i) * sizeof(r->ext[0]));
	memcpy(r->ext[i].name, name, len + 1);
	r->ext[i].value = value;
	r->n_ext++;
	return 0;
}

int kerf_resources_set_quantity(struct kerf_resources *r, const char *name, const char *quantity,
				struct kerf_error *err)
{
	int64_t v;
	int rc;

	if (!r || !name || !quantity)
		return kerf_error_set(err, KERF_E_INVALID,
				      "kerf_resources_set_quantity: NULL argument");
	rc = kerf_quantity_parse(quantity, strcmp(name, KERF_RESOURCE_CPU) == 0 ? 3 : 0, &v, err);
	if (rc) {
		if (err) {
			char msg[KERF_ERROR_MSG_MAX];
			memcpy(msg, err->message, sizeof(msg));
			kerf_error_set(err, rc, "resource \"%s\": %s", name, msg);
		}
		return rc;
	}
	return kerf_resources_set(r, name, v, err);
}

int64_t kerf_resources_get(const struct kerf_resources *r, const char *name, bool *present)
{
	enum fixed_dim d;
	bool found = false;
	uint32_t i;

	if (present)
		*present = false;
	if (!r || !name)
		return 0;
	d = fixed_dim_of(name);
	if (d != DIM_NONE) {
		if (!(r->present & (1u << d)))
			return 0;
		if (present)
			*present = true;
		return fixed_value(r, d);
	}
	i = ext_find(r, name, &found);
	if (!found)
		return 0;
	if (present)
		*present = true;
	return r->ext[i].value;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

int kerf_resources_add(struct kerf_resources *dst, const struct kerf_resources *src)
{
	struct kerf_resources sum;
	uint32_t i = 0, j = 0;

	if (!dst || !src)
		return KERF_E_INVALID;
	/* Merge into a copy so that dst is untouched when the ext list overflows. */
	sum = *dst;
	for (int d = 0; d < DIM_NONE; d++) {
		int64_t *slot = fixed_slot(&sum, (enum fixed_dim)d);
		*slot = sat_add(*slot, fixed_value(src, (enum fixed_dim)d));
	}
	sum.present |= src->present;
	sum.n_ext = 0;
	while (i < dst->n_ext || j < src->n_ext) {
		const struct kerf_resource *pick;
		int64_t v;
		int c;

		if (i == dst->n_ext)
			c = 1;
		else if (j == src->n_ext)
			c = -1;
		else
			c = strcmp(dst->ext[i].name, src->ext[j].name);
		if (c < 0) {
			pick = &dst->ext[i++];
			v = pick->value;
		} else if (c > 0) {
			pick = &src->ext[j++];
			v = pick->value;
		} else {
			pick = &dst->ext[i++];
			v = sat_add(pick->value, src->ext[j++].value);
		}
		if (sum.n_ext >= KERF_RESOURCES_EXT_MAX)
			return KERF_E_RANGE;
		sum.ext[sum.n_ext] = *pick;
		sum.ext[sum.n_ext].value = v;
		sum.n_ext++;
	}
	*dst = sum;
	return 0;
}

static int64_t clamp_sub(int64_t a, int64_t b)
{
	int64_t v = sat_add(a, b == INT64_MIN ? INT64_MAX : -b);
	return v < 0 ? 0 : v;
}

void kerf_resources_sub(struct kerf_resources *dst, const struct kerf_resources *src)
{
	if (!dst || !src)
		return;
	for (int d = 0; d < DIM_NONE; d++) {
		int64_t *slot = fixed_slot(dst, (enum fixed_dim)d);
		*slot = clamp_sub(*slot, fixed_value(src, (enum fixed_dim)d));
	}
	for (uint32_t i = 0; i < dst->n_ext; i++) {
		bool found;
		uint32_t j = ext_find(src, dst->ext[i].name, &found);
		if (found)
			dst->ext[i].value = clamp_sub(dst->ext[i].value, src->ext[j].value);
		else if (dst->ext[i].value < 0)
			dst->ext[i].value = 0;
	}
}

static void set_failed(char failed[KERF_RESOURCE_NAME_MAX], const char *name)
{
	if (failed)
		snprintf(failed, KERF_RESOURCE_NAME_MAX, "%s", name);
}

bool kerf_resources_fit(const struct kerf_resources *want, const struct kerf_resources *have,
			char failed[KERF_RESOURCE_NAME_MAX])
{
	if (failed)
		failed[0] = '\0';
	if (!want)
		return true;
	for (int d = 0; d < DIM_NONE; d++) {
		if (!(want->present & (1u << d)))
			continue;
		if (fixed_value(want, (enum fixed_dim)d) >
		    kerf_resources_get(have, fixed_names[d], NULL)) {
			set_failed(failed, fixed_names[d]);
			return false;
		}
	}
	for (uint32_t i = 0; i < want->n_ext; i++) {
		if (want->ext[i].value > kerf_resources_get(have, want->ext[i].name, NULL)) {
			set_failed(failed, want->ext[i].name);
			return false;
		}
	}
	return true;
}

bool kerf_resources_exceed(const struct kerf_resources *used, const struct kerf_resources *limit,
			   char failed[KERF_RESOURCE_NAME_MAX])
{
	if (failed)
		failed[0] = '\0';
	if (!limit)
		return false;
	for (int d = 0; d < DIM_NONE; d++) {
		if (!(limit->present & (1u << d)))
			continue;
		if (kerf_resources_get(used, fixed_names[d], NULL) >
		    fixed_value(limit, (enum fixed_dim)d)) {
			set_failed(failed, fixed_names[d]);
			return true;
		}
	}
	for (uint32_t i = 0; i < limit->n_ext; i++) {
		if (kerf_resources_get(used, limit->ext[i].name, NULL) > limit->ext[i].value) {
			set_failed(failed, limit->ext[i].name);
			return true;
		}
	}
	return false;
}
