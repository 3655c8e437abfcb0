/* SPDX-License-Identifier: Apache-2.0 */
/*
 * budgets.c - disruption budgets (budgets.h).
 *
 * A schedule is matched minute by minute: a budget with a schedule is in
 * force when the schedule fired at some minute of the last `duration`,
 * which is at most a few thousand minutes for the windows NodePools use,
 * and is worked out only for pools with a disruption to make.
 */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "budgets.h"

#define MINUTE_MS 60000

struct cron {
	uint64_t minute; /* bit i: minute i */
	uint32_t hour, dom, month, dow;
	bool dom_star, dow_star;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (names != NULL) a three-letter name; -1 when it is neither. */
static int value_of(const char *s, size_t n, const char *const *names, int first, size_t n_names)
{
	if (n == 3 && names)
		for (size_t i = 0; i < n_names; i++)
			if (strncasecmp(s, names[i], 3) == 0)
				return first + (int)i;
	int v = 0;
	if (n == 0 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* One field into bits; false when it does not parse. */
static bool field(const char *s, size_t n, int lo, int hi, const char *const *names, int first,
		  size_t n_names, uint64_t *bits, bool *star)
{
	*bits = 0;
	*star = n == 1 && s[0] == '*';
	for (size_t at = 0; at < n;) {
		size_t end = at;
		while (end < n && s[end] != ',')
			end++;
		const char *part = s + at;
		size_t len = end - at, range = len;
		int step = 1, a, b;
		const char *slash = memchr(part, '/', len);
		if (slash) {
			range = (size_t)(slash - part);
			step = value_of(slash + 1, len - range - 1, NULL, 0, 0);
			if (step <= 0)
				return false;
		}
		if (range == 1 && part[0] == '*') {
			a = lo;
			b = hi;
		} else {
			const char *dash = memchr(part, '-', range);
			size_t la = dash ? (size_t)(dash - part) : range;
			a = value_of(part, la, names, first, n_names);
			b = dash    ? value_of(dash + 1, range - la - 1, names, first, n_names)
			    : slash ? hi
				    : a;
			if (a < 0 || b < 0)
				return false;
		}
		if (a < lo || b > hi || a > b)
			return false;
		for (int v = a; v <= b; v += step)
			*bits |= 1ull << v;
		at = end + 1;
	}
	return true;
}

static bool cron_parse(const char *expr, struct cron *c)
{
	static const struct {
		const char *name, *expr;
	} descriptors[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
			   {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
			   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
			   {"@hourly", "0 * * * *"}};
	for (size_t i = 0; i < sizeof(descriptors) / sizeof(descriptors[0]); i++)
		if (strcmp(expr, descriptors[i].name) == 0)
			expr = descriptors[i].expr;
	const char *f[5];
	size_t len[5], n = 0;
	for (const char *p = expr; *p;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n == 5)
			return false;
		f[n] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		len[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n != 5)
		return false;
	uint64_t bits[5];
	bool star[5];
	if (!field(f[0], len[0], 0, 59, NULL, 0, 0, &bits[0], &star[0]) ||
	    !field(f[1], len[1], 0, 23, NULL, 0, 0, &bits[1], &star[1]) ||
	    !field(f[2], len[2], 1, 31, NULL, 0, 0, &bits[2], &star[2]) ||
	    !field(f[3], len[3], 1, 12, month_names, 1, 12, &bits[3], &star[3]) ||
	    !field(f[4], len[4], 0, 7, day_names, 0, 7, &bits[4], &star[4]))
		return false;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint32_t)bits[3];
	/* 7 is Sunday too. */
	c->dow = (uint32_t)(bits[4] | (bits[4] >> 7 & 1));
	c->dom_star = star[2];
	c->dow_star = star[4];
	return true;
}

static bool cron_at(const struct cron *c, kerf_wall_ms_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return false;
	if (!(c->minute >> tm.tm_min & 1) || !(c->hour >> tm.tm_hour & 1) ||
	    !(c->month >> (tm.tm_mon + 1) & 1))
		return false;
	bool dom = c->dom >> tm.tm_mday & 1, dow = c->dow >> tm.tm_wday & 1;
	if (!c->dom_star && !c->dow_star)
		return dom || dow;
	return dom && dow;
}

bool budget_cron_matches(const char *expr, kerf_wall_ms_t wall_ms)
{
	struct cron c;
	return expr && cron_parse(expr, &c) && cron_at(&c, wall_ms);
}

bool budget_active(const struct kerf_budget *b, kerf_wall_ms_t wall_ms)
{
	struct cron c;
	if (!b->schedule)
		return true;
	if (!cron_parse(b->schedule, &c) || b->duration_ms <= 0)
		return false;
	kerf_wall_ms_t minute = wall_ms - ((wall_ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
	/* A hit at `minute` covers [minute, minute + duration). */
	for (kerf_wall_ms_t m = minute; m > wall_ms - b->duration_ms; m -= MINUTE_MS)
		if (cron_at(&c, m))
			return true;
	return false;
}

size_t budget_allowed(const struct kerf_nodepool *np, uint32_t reason, size_t total,
		      kerf_wall_ms_t wall_ms)
{
	size_t allowed = SIZE_MAX;
	for (size_t i = 0; i < np->n_budgets; i++) {
		const struct kerf_budget *b = np->budgets[i];
		if ((b->reasons && !(b->reasons & reason)) || !budget_active(b, wall_ms))
			continue;
		size_t n = b->nodes < 0	      ? 0
			   : b->nodes_percent ? ((size_t)b->nodes * total + 99) / 100
					      : (size_t)b->nodes;
		if (n < allowed)
			allowed = n;
	}
	return allowed;
}
