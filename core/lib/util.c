/*
 * util.c - allocation and string helpers.
 */
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static size_t strset_slot(const struct strset *s, const char *v)
{
	size_t i = (size_t)(str_fnv1a(v) & (s->n_slots - 1));

	while (s->slots[i] && strcmp(s->items[s->slots[i] - 1], v) != 0)
		i = (i + 1) & (s->n_slots - 1);
	return i;
}

long strset_find(const struct strset *s, const char *v)
{
	size_t i;

	if (!v || s->n_slots == 0)
		return -1;
	i = strset_slot(s, v);
	return s->slots[i] ? (long)s->slots[i] - 1 : -1;
}

size_t strset_add(struct strset *s, const char *v)
{
	long found = strset_find(s, v);

	if (found >= 0)
		return (size_t)found;
	/* At most half full, so probes stay short; a power of two, so masking wraps. */
	if (2 * (s->n + 1) > s->n_slots) {
		size_t n_slots = s->n_slots ? s->n_slots * 2 : 16;

		free(s->slots);
		s->slots = xcalloc(n_slots, sizeof(*s->slots));
		s->n_slots = n_slots;
		for (size_t i = 0; i < s->n; i++)
			s->slots[strset_slot(s, s->items[i])] = i + 1;
	}
	xgrow(s->items, s->cap, s->n + 1);
	s->items[s->n] = xstrdup(v);
	s->slots[strset_slot(s, v)] = ++s->n;
	return s->n - 1;
}

void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
