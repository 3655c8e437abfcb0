/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_json.c - what the API sends, read under limits, and every object
 * into the model through the host's decode_object: the same readers kerf
 * applies to manifest files (kerf/host.h), so there is one decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube.h"

/* Nesting depth of JSON text, counted outside strings; stops past `limit`. */
static size_t json_depth(const char *s, size_t len, size_t limit)
{
	size_t depth = 0, max = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				max = depth;
			if (max > limit)
				return max;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return max;
}

json_t *kube_json_parse(const char *what, const char *text, size_t len, size_t max_bytes,
			struct kerf_error *err)
{
	json_error_t je;

	if (len > max_bytes) {
		kerf_error_set(err, KERF_E_RANGE, "%s: %zu bytes of JSON, more than %zu", what, len,
			       max_bytes);
		return NULL;
	}
	if (json_depth(text, len, KUBE_MAX_DEPTH) > KUBE_MAX_DEPTH) {
		kerf_error_set(err, KERF_E_PARSE, "%s: JSON nested deeper than %d levels", what,
			       KUBE_MAX_DEPTH);
		return NULL;
	}
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		kerf_error_set(err, KERF_E_PARSE, "%s: malformed JSON at line %d column %d: %s",
			       what, je.line, je.column, je.text);
	return j;
}

int kube_decode(const struct kerf_host *h, kerf_object_kind kind, const char *what,
		const json_t *obj, void **out, struct kerf_error *err)
{
	if (!json_is_object(obj))
		return kerf_error_set(err, KERF_E_INVALID, "%s: not a JSON object", what);
	if (!KERF_HOST_HAS(h, decode_object))
		return kerf_error_set(err, KERF_E_UNSUPPORTED,
				      "%s: the kube plugin needs a kerf whose host decodes "
				      "objects (ABI 2.1)",
				      what);
	char *text = json_dumps(obj, JSON_COMPACT);
	if (!text)
		abort();
	int rc = h->decode_object(h->ctx, kind, what, text, strlen(text), out, err);
	free(text);
	return rc;
}

void kube_object_free(kerf_object_kind kind, void *obj)
{
	switch (kind) {
	case KERF_OBJ_POD:
	case KERF_OBJ_DAEMONSET:
		kerf_pod_free(obj);
		break;
	case KERF_OBJ_NODE:
		kerf_node_free(obj);
		break;
	case KERF_OBJ_NODEPOOL:
		kerf_nodepool_free(obj);
		break;
	case KERF_OBJ_NODECLAIM:
		kerf_nodeclaim_free(obj);
		break;
	case KERF_OBJ_NODE_CLASS:
		kerf_node_class_free(obj);
		break;
	}
}

char *kube_json_key(const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	if (!name || !*name)
		return NULL;
	size_t n = strlen(name) + (ns ? strlen(ns) + 1 : 0) + 1;
	char *k = malloc(n);
	if (!k)
		abort();
	if (ns && *ns)
		snprintf(k, n, "%s/%s", ns, name);
	else
		snprintf(k, n, "%s", name);
	return k;
}

/* --------------------------------------------------------------- times */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool kube_parse_time(const char *s, int64_t *out_ms)
{
	int Y, M, D, h, m, sec, ms = 0;
	size_t n = s ? strlen(s) : 0;
	const char *p;

	if (n < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
	    !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		int scale = 100;
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	int off_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return false;
		off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	struct tm tm = {.tm_year = Y - 1900,
			.tm_mon = M - 1,
			.tm_mday = D,
			.tm_hour = h,
			.tm_min = m,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	*out_ms = ((int64_t)t - (int64_t)off_min * 60) * 1000 + ms;
	return true;
}

void kube_format_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------- list pages */

/* Index past the JSON string starting at s[i] == '"', or 0 when it does not end. */
static size_t skip_string(const char *s, size_t len, size_t i, bool *escaped)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\') {
			*escaped = true;
			i++;
		} else if (s[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
		i++;
	return i;
}

/* Index past the value starting at s[i] (any JSON value), or 0 when malformed. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	size_t depth = 0;
	bool esc = false;
	do {
		if (i >= len)
			return 0;
		char ch = s[i];
		if (ch == '"') {
			if (!(i = skip_string(s, len, i, &esc)))
				return 0;
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return 0;
			depth--;
		} else if (depth == 0 && (ch == ',' || ch == ':'))
			return 0;
		i++;
		if (depth == 0 && ch != '{' && ch != '[')
			/* A scalar: to its end. */
			while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
			       s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
				i++;
	} while (depth > 0);
	return i;
}

/* A string value at s[i] without escapes, copied; NULL otherwise. */
static char *plain_string(const char *s, size_t len, size_t i)
{
	bool esc = false;
	size_t end = i < len && s[i] == '"' ? skip_string(s, len, i, &esc) : 0;
	if (!end || esc)
		return NULL;
	char *out = malloc(end - i - 1);
	if (!out)
		abort();
	memcpy(out, s + i + 1, end - i - 2);
	out[end - i - 2] = '\0';
	return out;
}

/*
 * Walks the members of the object at s[i], calling fn for each key (the
 * key's text without quotes, the index of its value).  0 on success,
 * -1 when malformed (or when fn says so).
 */
static int members(const char *s, size_t len, size_t i,
		   int (*fn)(void *arg, const char *key, size_t klen, size_t at), void *arg,
		   size_t *end)
{
	bool esc = false;
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}') {
		*end = i + 1;
		return 0;
	}
	for (;;) {
		if (i >= len || s[i] != '"')
			return -1;
		size_t kend = skip_string(s, len, i, &esc);
		if (!kend || esc)
			return -1;
		size_t v = skip_ws(s, len, kend);
		if (v >= len || s[v] != ':')
			return -1;
		v = skip_ws(s, len, v + 1);
		/* A key with no value before the end: fn may look at s[v]. */
		if (v >= len)
			return -1;
		if (fn && fn(arg, s + i + 1, kend - i - 2, v) != 0)
			return -1;
		size_t after = skip_value(s, len, v);
		if (!after)
			return -1;
		i = skip_ws(s, len, after);
		if (i < len && s[i] == ',') {
			i = skip_ws(s, len, i + 1);
			continue;
		}
		if (i < len && s[i] == '}') {
			*end = i + 1;
			return 0;
		}
		return -1;
	}
}

struct page_scan {
	const char *s;
	size_t len;
	struct kube_page *pg;
	bool typed; /* the current item's apiVersion and kind */
	int n_typed;
};

static int item_key(void *arg, const char *key, size_t klen, size_t at)
{
	struct page_scan *ps = arg;
	(void)at;
	if ((klen == 10 && memcmp(key, "apiVersion", 10) == 0) ||
	    (klen == 4 && memcmp(key, "kind", 4) == 0))
		ps->n_typed++;
	return 0;
}

static int meta_key(void *arg, const char *key, size_t klen, size_t at)
{
	struct page_scan *ps = arg;
	char **slot = NULL;
	if (klen == 8 && memcmp(key, "continue", 8) == 0)
		slot = &ps->pg->cont;
	else if (klen == 15 && memcmp(key, "resourceVersion", 15) == 0)
		slot = &ps->pg->resource_version;
	if (slot && ps->s[at] == '"') {
		free(*slot);
		if (!(*slot = plain_string(ps->s, ps->len, at)))
			return -1;
	}
	return 0;
}

static int page_key(void *arg, const char *key, size_t klen, size_t at)
{
	struct page_scan *ps = arg;
	const char *s = ps->s;
	size_t end;

	if (klen == 8 && memcmp(key, "metadata", 8) == 0)
		return members(s, ps->len, at, meta_key, ps, &end);
	if (!(klen == 5 && memcmp(key, "items", 5) == 0) || s[at] == 'n')
		return 0;
	if (s[at] != '[')
		return -1;
	size_t i = skip_ws(s, ps->len, at + 1);
	if (i < ps->len && s[i] == ']')
		return 0;
	for (;;) {
		ps->n_typed = 0;
		if (members(s, ps->len, i, item_key, ps, &end) != 0)
			return -1;
		struct kube_page *pg = ps->pg;
		if (pg->n == pg->cap) {
			pg->cap = pg->cap ? pg->cap * 2 : 512;
			pg->items = realloc(pg->items, pg->cap * sizeof(*pg->items));
			if (!pg->items)
				abort();
		}
		pg->items[pg->n].off = i;
		pg->items[pg->n].len = end - i;
		pg->items[pg->n].typed = ps->n_typed == 2;
		pg->n++;
		i = skip_ws(s, ps->len, end);
		if (i < ps->len && s[i] == ',') {
			i = skip_ws(s, ps->len, i + 1);
			continue;
		}
		return i < ps->len && s[i] == ']' ? 0 : -1;
	}
}

int kube_page_scan(const char *text, size_t len, struct kube_page *pg)
{
	struct page_scan ps = {.s = text, .len = len, .pg = pg};
	size_t end;
	memset(pg, 0, sizeof(*pg));
	if (json_depth(text, len, KUBE_MAX_DEPTH) > KUBE_MAX_DEPTH ||
	    members(text, len, 0, page_key, &ps, &end) != 0 || skip_ws(text, len, end) != len) {
		kube_page_clear(pg);
		return -1;
	}
	return 0;
}

void kube_page_clear(struct kube_page *pg)
{
	free(pg->items);
	free(pg->cont);
	free(pg->resource_version);
	memset(pg, 0, sizeof(*pg));
}
