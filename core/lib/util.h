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

/* The 64-bit FNV-1a hash of a string. */
uint64_t str_fnv1a(const char *s);

/*
 * Owned strings with a hash index, each known by the order it was added
 * in: interning domain values, node names, cache keys.  Zero-initialised
 * is empty.
 */
struct strset {
	size_t n, cap;
	char **items;
	size_t n_slots;
	size_t *slots; /* item index + 1; 0 is an empty slot */
};

/* The index of v, or -1 (also for v NULL). */
long strset_find(const struct strset *s, const char *v);
/* The index of v, added (copied) when new. */
size_t strset_add(struct strset *s, const char *v);
void strset_clear(struct strset *s);

/* Levenshtein distance between a and b, or SIZE_MAX when either is longer than 64. */
size_t str_edit_distance(const char *a, const char *b);

/* True when s[0..n) is a DNS-1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])?. */
bool str_dns_subdomain(const char *s, size_t n);

/* True when s ends with suffix. */
int str_ends_with(const char *s, const char *suffix);

#endif
