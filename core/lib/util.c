/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - allocation and string helpers.
 */
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t size, const char *file, int line)
{
	fprintf(stderr, "kerf: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
	abort();
}

void *kc_xmalloc_at(size_t size, const char *file, int line)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size, file, line);
	return p;
}

void *kc_xcalloc_at(size_t n, size_t size, const char *file, int line)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size, file, line);
	return p;
}

void *kc_xrealloc_at(void *ptr, size_t size, const char *file, int line)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		oom(size, file, line);
	return p;
}

char *kc_xstrdup_at(const char *s, const char *file, int line)
{
	return kc_xstrndup_at(s, strlen(s), file, line);
}

char *kc_xstrndup_at(const char *s, size_t n, const char *file, int line)
{
	size_t len = strnlen(s, n);
	char *p = kc_xmalloc_at(len + 1, file, line);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	xgrow(sb->buf, sb->cap, need);
}

void sb_append(struct strbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_reserve(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return p;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_wall_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000;
}

int64_t now_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int str_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t str_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	/* Suggestions are for typos of short keys; longer words are never close. */
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

bool str_dns_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			char c = s[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

uint64_t fnv1a_update(uint64_t h, const void *bytes, size_t n)
{
	const unsigned char *b = bytes;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV1A_PRIME;
	return h;
}

uint64_t str_fnv1a(const char *s)
{
	uint64_t h = FNV1A_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV1A_PRIME;
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t hmap_slot(const struct hmap *m, uint64_t hash, const void *key, size_t len)
{
	size_t mask = m->cap - 1, i = (size_t)hash & mask;

	for (; m->slots[i].key; i = (i + 1) & mask) {
		const struct hmap_slot *s = &m->slots[i];
		if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
			break;
	}
	return i;
}

void *hmap_get(const struct hmap *m, const void *key, size_t len)
{
	if (m->n == 0)
		return NULL;
	return m->slots[hmap_slot(m, fnv1a_update(FNV1A_OFFSET, key, len), key, len)].val;
}

static void hmap_grow(struct hmap *m)
{
	struct hmap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->cap = old_cap ? old_cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].key)
			continue;
		size_t mask = m->cap - 1, j = (size_t)old[i].hash & mask;
		while (m->slots[j].key)
			j = (j + 1) & mask;
		m->slots[j] = old[i];
	}
	free(old);
}

void hmap_set(struct hmap *m, const void *key, size_t len, void *val)
{
	uint64_t hash = fnv1a_update(FNV1A_OFFSET, key, len);
	size_t i;

	if (m->cap > 0) {
		i = hmap_slot(m, hash, key, len);
		if (m->slots[i].key) {
			m->slots[i].key = key;
			m->slots[i].val = val;
			return;
		}
	}
	if (2 * (m->n + 1) > m->cap)
		hmap_grow(m);
	i = hmap_slot(m, hash, key, len);
	m->slots[i] = (struct hmap_slot){hash, key, len, val};
	m->n++;
}

void *hmap_del(struct hmap *m, const void *key, size_t len)
{
	if (m->n == 0)
		return NULL;
	size_t mask = m->cap - 1;
	size_t i = hmap_slot(m, fnv1a_update(FNV1A_OFFSET, key, len), key, len);

	if (!m->slots[i].key)
		return NULL;
	void *val = m->slots[i].val;
	/*
	 * Backward shift instead of a tombstone: every later entry of the run
	 * whose home slot does not lie after the hole moves into it, so lookups
	 * never meet a gap before their key.
	 */
	for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)m->slots[j].hash & mask;
		bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = (struct hmap_slot){0};
	m->n--;
	return val;
}

void hmap_clear(struct hmap *m, void (*free_val)(void *val))
{
	for (size_t i = 0; free_val && i < m->cap; i++) {
		if (m->slots[i].key)
			free_val(m->slots[i].val);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

long strset_find(const struct strset *s, const char *v)
{
	return (long)(uintptr_t)hmap_get_str(&s->index, v) - 1;
}

size_t strset_add(struct strset *s, const char *v)
{
	long found = strset_find(s, v);

	if (found >= 0)
		return (size_t)found;
	xgrow(s->items, s->cap, s->n + 1);
	s->items[s->n] = xstrdup(v);
	hmap_set(&s->index, s->items[s->n], strlen(v), (void *)(uintptr_t)(s->n + 1));
	return s->n++;
}

void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	hmap_clear(&s->index, NULL);
	memset(s, 0, sizeof(*s));
}
