/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h - allocation and string helpers shared by the core.
 *
 * Out of memory is not recoverable in a small daemon: the x* allocators log
 * where it happened and abort, so callers never check for NULL.
 */
#ifndef KERF_CORE_UTIL_H
#define KERF_CORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *kc_xmalloc_at(size_t size, const char *file, int line);
void *kc_xcalloc_at(size_t n, size_t size, const char *file, int line);
void *kc_xrealloc_at(void *ptr, size_t size, const char *file, int line);
char *kc_xstrdup_at(const char *s, const char *file, int line);
char *kc_xstrndup_at(const char *s, size_t n, const char *file, int line);

#define xmalloc(sz) kc_xmalloc_at((sz), __FILE__, __LINE__)
#define xcalloc(n, sz) kc_xcalloc_at((n), (sz), __FILE__, __LINE__)
#define xrealloc(p, sz) kc_xrealloc_at((p), (sz), __FILE__, __LINE__)
#define xstrdup(s) kc_xstrdup_at((s), __FILE__, __LINE__)
#define xstrndup(s, n) kc_xstrndup_at((s), (n), __FILE__, __LINE__)
/* A copy of s, or NULL for NULL. */
#define xstrdup_or_null(s) ((s) ? xstrdup(s) : NULL)

/* Frees *pp and sets it to NULL. */
#define xfree(p)                                                                                   \
	do {                                                                                       \
		free(p);                                                                           \
		(p) = NULL;                                                                        \
	} while (0)

/* Grows an array (ptr, cap) so that it holds at least `need` elements. */
#define xgrow(ptr, cap, need)                                                                      \
	do {                                                                                       \
		if ((need) > (cap)) {                                                              \
			size_t nc_ = (cap) ? (cap) * 2 : 8;                                        \
			while (nc_ < (need))                                                       \
				nc_ *= 2;                                                          \
			(ptr) = xrealloc((ptr), nc_ * sizeof(*(ptr)));                             \
			(cap) = nc_;                                                               \
		}                                                                                  \
	} while (0)

/* Appends elem to the array (ptr, n), growing it by one element. */
#define xpush(ptr, n, elem)                                                                        \
	do {                                                                                       \
		(ptr) = xrealloc((ptr), ((n) + 1) * sizeof(*(ptr)));                               \
		(ptr)[(n)++] = (elem);                                                             \
	} while (0)

/* A growable NUL-terminated string. */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer to the caller (never NULL) and resets sb. */
char *sb_detach(struct strbuf *sb);

/*
 * 64-bit FNV-1a.  A hash starts at FNV1A_OFFSET and folds bytes in with
 * fnv1a_update, in as many pieces as the caller likes: the result depends
 * only on the bytes, in order.
 */
#define FNV1A_OFFSET 0xcbf29ce484222325ull
#define FNV1A_PRIME 0x100000001b3ull

uint64_t fnv1a_update(uint64_t h, const void *bytes, size_t n);
/* fnv1a_update(FNV1A_OFFSET, s, strlen(s)) in one pass. */
uint64_t str_fnv1a(const char *s);

/*
 * A hash map from byte strings to non-NULL pointers: open addressing with
 * linear probing, at most half full so probes stay short, its capacity a
 * power of two so masking wraps.  Keys (never NULL, but may be empty) are
 * borrowed, not copied: each must stay put and unchanged while its entry
 * is in the map (the value usually owns it).  Zero-initialised is empty.
 */
struct hmap_slot {
	uint64_t hash;
	const void *key; /* NULL: the slot is empty */
	size_t len;
	void *val;
};

struct hmap {
	size_t n, cap;
	struct hmap_slot *slots;
};

/* The value for key[0..len), or NULL. */
void *hmap_get(const struct hmap *m, const void *key, size_t len);
/* Sets key's value (val not NULL), adding the key or taking this key pointer for it. */
void hmap_set(struct hmap *m, const void *key, size_t len, void *val);
/* Removes key; returns the value it had, or NULL when it was not there. */
void *hmap_del(struct hmap *m, const void *key, size_t len);
/* Empties the map, calling free_val (NULL: none) on every value. */
void hmap_clear(struct hmap *m, void (*free_val)(void *val));

/* The same for NUL-terminated keys; a NULL key is never in the map. */
static inline void *hmap_get_str(const struct hmap *m, const char *key)
{
	return key ? hmap_get(m, key, strlen(key)) : NULL;
}

static inline void hmap_set_str(struct hmap *m, const char *key, void *val)
{
	hmap_set(m, key, strlen(key), val);
}

static inline void *hmap_del_str(struct hmap *m, const char *key)
{
	return hmap_del(m, key, strlen(key));
}

/*
 * Owned strings with a hash index, each known by the order it was added
 * in: interning domain values, node names, cache keys.  Zero-initialised
 * is empty.
 */
struct strset {
	size_t n, cap;
	char **items;
	struct hmap index; /* item -> its index + 1 */
};

/* The index of v, or -1 (also for v NULL). */
long strset_find(const struct strset *s, const char *v);
/* The index of v, added (copied) when new. */
size_t strset_add(struct strset *s, const char *v);
void strset_clear(struct strset *s);

/*
 * The real clocks, never the host's virtual one (host.h): CLOCK_REALTIME
 * in milliseconds since the epoch, and CLOCK_MONOTONIC, which no clock
 * change moves, for intervals.  now_mono_ns is for timing calls that take
 * less than a millisecond.
 */
int64_t now_wall_ms(void);
int64_t now_mono_ms(void);
int64_t now_mono_ns(void);

/* Levenshtein distance between a and b, or SIZE_MAX when either is longer than 64. */
size_t str_edit_distance(const char *a, const char *b);

/* True when s[0..n) is a DNS-1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])?. */
bool str_dns_subdomain(const char *s, size_t n);

/* True when s ends with suffix. */
int str_ends_with(const char *s, const char *suffix);

#endif
