/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamltree.c - libyaml events folded into a positioned tree.
 *
 * libyaml's own document API loses the distinction between plain and
 * quoted scalars once composed and does not report duplicate keys, so the
 * tree is built here from parser events with an explicit stack (no
 * recursion, so nesting depth costs heap, not C stack).
 */
#include "yamltree.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util.h"

struct yt_frame {
	struct yt_node *node;
	size_t cap;	     /* of node->pairs or node->items */
	struct yt_node *key; /* mapping: key read, value pending */
	size_t anchor;	     /* index into anchors + 1, 0 when none */
	uint64_t weight;     /* nodes in this subtree, aliases expanded */
};

/*
 * A mapping's first YT_SMALL_MAP keys are checked for duplicates as they
 * come, against the keys before them; a larger mapping (labels by the
 * thousand) is checked once, sorted, when it closes: no index per open
 * mapping, whose memory would outweigh the tree's.
 */
#define YT_SMALL_MAP 16

struct yt_anchor {
	char *name;
	uint64_t hash;
	size_t next; /* the anchor before it in its bucket, + 1; 0 ends the chain */
	struct yt_node *node;
	uint64_t weight;
	bool complete; /* false while the anchored collection is still open */
};

struct yt_builder {
	struct yt_stream *s;
	const char *text;
	size_t text_len;
	struct kerf_error *err;

	size_t docs_cap;

	struct yt_frame *frames;
	size_t n_frames, frames_cap;

	/*
	 * Anchors by name in chained buckets (index + 1, newest first, so a
	 * later anchor shadows an earlier one of the same name): an alias costs
	 * a bucket's walk, not a scan of every anchor before it.
	 */
	struct yt_anchor *anchors;
	size_t n_anchors, anchors_cap;
	size_t *buckets, n_buckets;
	uint64_t alias_weight;

	struct yt_node *root;
	bool have_root;

	const char *file; /* for messages, whichever stream is open */
	size_t max_docs, max_nodes;
	size_t n_docs, n_nodes; /* in the whole text, whatever each document became */
	/* yt_parse_each: every document is a stream of its own, handed to each. */
	yt_each_fn *each;
	void *each_ctx;
};

int yt_verror(struct kerf_error *err, int code, const struct yt_node *at, const char *fmt,
	      va_list ap)
{
	char msg[KERF_ERROR_MSG_MAX];

	if (!err)
		return code;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (at)
		return yt_error_at(err, code, at->file, at->line, at->column, "%s", msg);
	return yt_error_at(err, code, NULL, 0, 0, "%s", msg);
}

int yt_error(struct kerf_error *err, int code, const struct yt_node *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	yt_verror(err, code, at, fmt, ap);
	va_end(ap);
	return code;
}

int yt_error_at(struct kerf_error *err, int code, const char *file, unsigned line, unsigned column,
		const char *fmt, ...)
{
	char msg[KERF_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (file)
		kerf_error_set(err, code, "%s:%u:%u: %s", file, line, column, msg);
	else
		kerf_error_set(err, code, "%s", msg);
	err->line = file ? line : 0;
	err->column = file ? column : 0;
	return code;
}

/* ------------------------------------------------------------- queries */

static bool yt_key_is(const struct yt_node *k, const char *key, size_t klen)
{
	return k->type == YT_SCALAR && k->len == klen && memcmp(k->scalar, key, klen) == 0;
}

const struct yt_pair *yt_map_pair(const struct yt_node *map, const char *key)
{
	if (!map || map->type != YT_MAP || !key)
		return NULL;
	size_t klen = strlen(key);
	for (size_t i = 0; i < map->n; i++)
		if (yt_key_is(map->pairs[i].key, key, klen))
			return &map->pairs[i];
	return NULL;
}

const struct yt_node *yt_map_get(const struct yt_node *map, const char *key)
{
	const struct yt_pair *p = yt_map_pair(map, key);
	return p ? p->value : NULL;
}

bool yt_is_null(const struct yt_node *n)
{
	if (!n)
		return true;
	if (n->type != YT_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->scalar, "~") == 0 || strcmp(n->scalar, "null") == 0 ||
	       strcmp(n->scalar, "Null") == 0 || strcmp(n->scalar, "NULL") == 0;
}

const char *yt_type_name(const struct yt_node *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YT_SCALAR:
		return yt_is_null(n) ? "null" : "a string";
	case YT_MAP:
		return "a mapping";
	case YT_SEQ:
		return "a list";
	}
	return "an unknown node";
}

const char *yt_scalar_str(const struct yt_node *n)
{
	if (!n || n->type != YT_SCALAR)
		return NULL;
	return n->scalar;
}

int yt_get_bool(const struct yt_node *n, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};

	if (!n || n->type != YT_SCALAR || !n->plain)
		return KERF_E_INVALID;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(n->scalar, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(n->scalar, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return KERF_E_INVALID;
}

int yt_get_int64(const struct yt_node *n, int64_t *out)
{
	const char *p;
	bool neg = false;
	uint64_t v = 0;
	/* The magnitude of INT64_MIN is one more than INT64_MAX. */
	uint64_t limit;

	if (!n || n->type != YT_SCALAR || !n->plain)
		return KERF_E_INVALID;
	p = n->scalar;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return KERF_E_INVALID;
	/* YAML 1.1 reads 010 as octal and 1.2 as decimal: refuse to guess. */
	if (p[0] == '0' && p[1] != '\0')
		return KERF_E_INVALID;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return KERF_E_INVALID;
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return KERF_E_RANGE;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* --------------------------------------------------------------- arena */

/*
 * Nodes, their text and their finished pair and item arrays come from
 * chunks owned by the stream: a node costs its size, not its size plus a
 * malloc header and a pointer in a list, and freeing a stream frees a few
 * chunks.  A YAML file becomes about a dozen times its size in memory.
 */
struct yt_chunk {
	struct yt_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define YT_CHUNK_BYTES (256u << 10)
/* A stream's first chunk: a document read on its own is often a few hundred bytes. */
#define YT_FIRST_CHUNK_BYTES (4u << 10)

/* align is a power of two; text takes 1, nodes and arrays their own type's. */
static void *yt_alloc_aligned(struct yt_stream *s, size_t size, size_t align)
{
	struct yt_chunk *c = s->chunks;

	if (c)
		c->used = (c->used + align - 1) & ~(align - 1);
	if (!c || c->cap - c->used < size) {
		/*
		 * A large object gets a chunk of its own, behind the current one;
		 * otherwise chunks double from YT_FIRST_CHUNK_BYTES to YT_CHUNK_BYTES.
		 */
		size_t grown = !c			 ? YT_FIRST_CHUNK_BYTES
			       : c->cap < YT_CHUNK_BYTES ? 2 * c->cap
							 : YT_CHUNK_BYTES;
		size_t cap = size > YT_CHUNK_BYTES / 4 ? size
			     : grown < size	       ? YT_CHUNK_BYTES
						       : grown;
		struct yt_chunk *n = xmalloc(sizeof(*n) + cap);
		n->used = 0;
		n->cap = cap;
		if (c && size > YT_CHUNK_BYTES / 4) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			s->chunks = n;
		}
		c = n;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

/* Moves a finished array out of the heap into the stream's chunks. */
static void *yt_settle(struct yt_stream *s, void *arr, size_t bytes)
{
	void *p = NULL;

	/*
	 * A large one stays where it is, cut to size: a copy would hold it
	 * twice at once (millions of items in one list).
	 */
	if (bytes > YT_CHUNK_BYTES / 4) {
		xgrow(s->big, s->cap_big, s->n_big + 1);
		s->big[s->n_big++] = p = xrealloc(arr, bytes);
		return p;
	}
	if (bytes) {
		p = yt_alloc_aligned(s, bytes, _Alignof(void *));
		memcpy(p, arr, bytes);
	}
	free(arr);
	return p;
}

/* ------------------------------------------------------------- freeing */

struct yt_stream *yt_stream_ref(struct yt_stream *s)
{
	atomic_fetch_add(&s->extra_refs, 1);
	return s;
}

void yt_stream_free(struct yt_stream *s)
{
	if (!s)
		return;
	/* A holder that finds others left goes alone; the last one frees. */
	for (unsigned r = atomic_load(&s->extra_refs); r > 0;)
		if (atomic_compare_exchange_weak(&s->extra_refs, &r, r - 1))
			return;
	for (struct yt_chunk *c = s->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	for (size_t i = 0; i < s->n_big; i++)
		free(s->big[i]);
	free(s->big);
	free(s->docs);
	free(s->file);
	free(s);
}

/* ------------------------------------------------------------- building */

static uint64_t yt_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int yt_new_node(struct yt_builder *b, enum yt_type type, yaml_mark_t mark,
		       struct yt_node **out)
{
	struct yt_stream *s = b->s;

	if (b->n_nodes >= b->max_nodes)
		return yt_error_at(
		    b->err, KERF_E_PARSE, b->file, (unsigned)mark.line + 1,
		    (unsigned)mark.column + 1,
		    "more than %zu keys, values and items in %zu bytes: too dense to "
		    "read (at most %u plus one per %u bytes)",
		    b->max_nodes, b->text_len, YT_MAX_NODES_BASE, YT_BYTES_PER_NODE);
	struct yt_node *n = yt_alloc_aligned(s, sizeof(*n), _Alignof(struct yt_node));

	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (unsigned)mark.line + 1;
	n->column = (unsigned)mark.column + 1;
	n->file = s->file;
	s->n_nodes++;
	b->n_nodes++;
	*out = n;
	return 0;
}

/* Keeps at most two anchors a bucket on average, rehashing as they come. */
static void yt_anchor_index(struct yt_builder *b)
{
	if (b->n_anchors <= 2 * b->n_buckets)
		return;
	b->n_buckets = b->n_buckets ? 2 * b->n_buckets : 64;
	free(b->buckets);
	b->buckets = xcalloc(b->n_buckets, sizeof(*b->buckets));
	for (size_t i = 0; i < b->n_anchors; i++) {
		size_t *head = &b->buckets[b->anchors[i].hash & (b->n_buckets - 1)];
		b->anchors[i].next = *head;
		*head = i + 1;
	}
}

static size_t yt_add_anchor(struct yt_builder *b, const yaml_char_t *name, struct yt_node *node,
			    bool complete)
{
	xgrow(b->anchors, b->anchors_cap, b->n_anchors + 1);
	struct yt_anchor *a = &b->anchors[b->n_anchors++];
	a->name = xstrdup((const char *)name);
	a->hash = str_fnv1a(a->name);
	a->node = node;
	a->weight = 1;
	a->complete = complete;
	if (b->n_anchors > 2 * b->n_buckets) {
		yt_anchor_index(b);
	} else {
		size_t *head = &b->buckets[a->hash & (b->n_buckets - 1)];
		a->next = *head;
		*head = b->n_anchors;
	}
	return b->n_anchors;
}

/* The newest anchor called name, or NULL. */
static struct yt_anchor *yt_find_anchor(struct yt_builder *b, const char *name)
{
	uint64_t hash = str_fnv1a(name);

	if (!b->n_buckets)
		return NULL;
	for (size_t i = b->buckets[hash & (b->n_buckets - 1)]; i; i = b->anchors[i - 1].next) {
		struct yt_anchor *a = &b->anchors[i - 1];
		b->s->alias_steps++;
		if (a->hash == hash && strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* Hangs a finished node (or an alias target) under the open collection. */
static int yt_attach(struct yt_builder *b, struct yt_node *n, uint64_t weight)
{
	if (b->n_frames == 0) {
		if (b->have_root)
			return yt_error(b->err, KERF_E_INTERNAL, n,
					"second root node in a document");
		b->root = n;
		b->have_root = true;
		return 0;
	}

	struct yt_frame *f = &b->frames[b->n_frames - 1];
	struct yt_node *parent = f->node;

	f->weight = yt_sat_add(f->weight, weight);
	if (parent->type == YT_SEQ) {
		xgrow(parent->items, f->cap, (size_t)parent->n + 1);
		parent->items[parent->n++] = n;
		return 0;
	}
	if (!f->key) {
		if (n->type != YT_SCALAR)
			return yt_error(b->err, KERF_E_PARSE, n,
					"a mapping key must be a scalar, got %s", yt_type_name(n));
		for (size_t i = 0; parent->n <= YT_SMALL_MAP && i < parent->n; i++) {
			const struct yt_node *k = parent->pairs[i].key;
			if (k->len == n->len && memcmp(k->scalar, n->scalar, n->len) == 0)
				return yt_error(b->err, KERF_E_PARSE, n, "duplicate key \"%s\"",
						n->scalar);
		}
		f->key = n;
		return 0;
	}
	xgrow(parent->pairs, f->cap, (size_t)parent->n + 1);
	parent->pairs[parent->n].key = f->key;
	parent->pairs[parent->n].value = n;
	parent->n++;
	f->key = NULL;
	return 0;
}

#define YT_TAG "tag:yaml.org,2002:"

/* [-+]?(.inf|.Inf|.INF) or .nan/.NaN/.NAN or a decimal number with an optional exponent. */
static bool yt_float_text(const char *s)
{
	static const char *const special[] = {"inf", "Inf", "INF", "nan", "NaN", "NAN"};
	size_t digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.')
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
			if (strcmp(s + 1, special[i]) == 0)
				return true;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* A scalar tagged !!int, !!bool, !!null or !!float must be one. */
static int yt_check_typed_scalar(struct yt_builder *b, const char *name, const struct yt_node *n,
				 bool *typed)
{
	struct yt_node as_plain = *n;
	bool ok, bv;
	int64_t iv;

	as_plain.plain = true;
	if (strcmp(name, "int") == 0)
		ok = yt_get_int64(&as_plain, &iv) == 0;
	else if (strcmp(name, "bool") == 0)
		ok = yt_get_bool(&as_plain, &bv) == 0;
	else if (strcmp(name, "null") == 0)
		ok = yt_is_null(&as_plain);
	else
		ok = yt_float_text(n->scalar);
	if (!ok)
		return yt_error(b->err, KERF_E_PARSE, n, "\"%s\" is not a valid !!%s", n->scalar,
				name);
	*typed = true;
	return 0;
}

/*
 * A tag names the type a node must have.  "!" (non-specific) and YAML's own
 * str, int, bool, null, float, map and seq are checked against the node;
 * any other tag means a type kerf cannot know, so it is refused rather than
 * silently read as text.  Sets *typed for a scalar tagged int, bool, null or
 * float: it then reads as the plain scalar of that type.
 */
static int yt_check_tag(struct yt_builder *b, const yaml_char_t *tag, enum yt_type type,
			const struct yt_node *n, bool *typed)
{
	const char *t = (const char *)tag;
	const char *want = NULL;

	*typed = false;
	if (!t || strcmp(t, "!") == 0)
		return 0;
	if (strncmp(t, YT_TAG, sizeof(YT_TAG) - 1) == 0) {
		const char *name = t + sizeof(YT_TAG) - 1;
		if (strcmp(name, "map") == 0)
			want = type == YT_MAP ? NULL : "a mapping";
		else if (strcmp(name, "seq") == 0)
			want = type == YT_SEQ ? NULL : "a list";
		else if (type != YT_SCALAR &&
			 (strcmp(name, "str") == 0 || strcmp(name, "int") == 0 ||
			  strcmp(name, "bool") == 0 || strcmp(name, "null") == 0 ||
			  strcmp(name, "float") == 0))
			want = "a scalar";
		else if (strcmp(name, "str") == 0)
			return 0;
		else if (strcmp(name, "int") == 0 || strcmp(name, "bool") == 0 ||
			 strcmp(name, "null") == 0 || strcmp(name, "float") == 0)
			return yt_check_typed_scalar(b, name, n, typed);
		else
			return yt_error(b->err, KERF_E_PARSE, n, "unsupported tag \"!!%s\"", name);
		if (want)
			return yt_error(b->err, KERF_E_PARSE, n, "tag \"!!%s\" on %s, not %s", name,
					yt_type_name(n), want);
		return 0;
	}
	return yt_error(b->err, KERF_E_PARSE, n, "unsupported tag \"%s\"", t);
}

static int yt_open(struct yt_builder *b, enum yt_type type, const yaml_event_t *ev,
		   const yaml_char_t *anchor, const yaml_char_t *tag)
{
	struct yt_node *n;
	bool typed;
	int rc;

	if ((rc = yt_new_node(b, type, ev->start_mark, &n)) != 0)
		return rc;
	if ((rc = yt_check_tag(b, tag, type, n, &typed)) != 0)
		return rc;

	if (b->n_frames >= YT_MAX_DEPTH)
		return yt_error(b->err, KERF_E_PARSE, n, "nesting deeper than %d levels",
				YT_MAX_DEPTH);
	xgrow(b->frames, b->frames_cap, b->n_frames + 1);
	struct yt_frame *f = &b->frames[b->n_frames++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->weight = 1;
	if (anchor)
		f->anchor = yt_add_anchor(b, anchor, n, false);
	return 0;
}

static int yt_key_order(const void *a, const void *b)
{
	const struct yt_node *x = (*(const struct yt_pair *const *)a)->key;
	const struct yt_node *y = (*(const struct yt_pair *const *)b)->key;
	const struct yt_pair *pa = *(const struct yt_pair *const *)a;
	const struct yt_pair *pb = *(const struct yt_pair *const *)b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(x->scalar, y->scalar, x->len)) != 0)
		return c;
	/* Equal keys in document order, so the later of two is the duplicate. */
	return pa < pb ? -1 : pa > pb;
}

static bool yt_same_key(const struct yt_pair *a, const struct yt_pair *b)
{
	return a->key->len == b->key->len &&
	       memcmp(a->key->scalar, b->key->scalar, a->key->len) == 0;
}

/* A mapping too large to have been checked key by key: its first repeated key is an error. */
static int yt_check_big_map(struct yt_builder *b, const struct yt_node *map)
{
	const struct yt_pair **order, *dup = NULL;

	if (map->n <= YT_SMALL_MAP)
		return 0;
	order = xmalloc(map->n * sizeof(*order));
	for (size_t i = 0; i < map->n; i++)
		order[i] = &map->pairs[i];
	qsort(order, map->n, sizeof(*order), yt_key_order);
	for (size_t i = 1; i < map->n; i++)
		if (yt_same_key(order[i - 1], order[i]) && (!dup || order[i] < dup))
			dup = order[i];
	free(order);
	if (dup)
		return yt_error(b->err, KERF_E_PARSE, dup->key, "duplicate key \"%s\"",
				dup->key->scalar);
	return 0;
}

static int yt_close(struct yt_builder *b)
{
	struct yt_frame f = b->frames[--b->n_frames];
	struct yt_node *n = f.node;
	int rc;

	if (n->type == YT_MAP)
		n->pairs = yt_settle(b->s, n->pairs, n->n * sizeof(*n->pairs));
	else
		n->items = yt_settle(b->s, n->items, n->n * sizeof(*n->items));
	if (n->type == YT_MAP && (rc = yt_check_big_map(b, n)) != 0)
		return rc;
	if (f.anchor) {
		b->anchors[f.anchor - 1].complete = true;
		b->anchors[f.anchor - 1].weight = f.weight;
	}
	if (f.key)
		return yt_error(b->err, KERF_E_INTERNAL, f.key, "mapping key without a value");
	return yt_attach(b, f.node, f.weight);
}

static int yt_scalar(struct yt_builder *b, const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	/* libyaml leaves "! x" implicit, but the non-specific tag makes it text. */
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		     ev->data.scalar.plain_implicit && !tag;
	bool typed;
	int rc;

	/* "---" followed by nothing is an empty document, not an empty string. */
	if (b->n_frames == 0 && plain && len == 0 && !ev->data.scalar.anchor) {
		b->have_root = true;
		return 0;
	}
	struct yt_node *n;

	if ((rc = yt_new_node(b, YT_SCALAR, ev->start_mark, &n)) != 0)
		return rc;
	/*
	 * A "\0" escape would cut every C string made of the scalar short, so
	 * that "a\0b" reads as "a": no kerf string may hold one.
	 */
	if (memchr(value, '\0', len))
		return yt_error(b->err, KERF_E_PARSE, n,
				"a string must not hold a NUL character (\"\\0\")");
	n->scalar = yt_alloc_aligned(b->s, len + 1, 1);
	memcpy(n->scalar, value, len);
	n->scalar[len] = '\0';
	n->len = len;
	n->plain = plain;
	if ((rc = yt_check_tag(b, ev->data.scalar.tag, YT_SCALAR, n, &typed)) != 0)
		return rc;
	if (typed)
		n->plain = true;
	if (ev->data.scalar.anchor)
		yt_add_anchor(b, ev->data.scalar.anchor, n, true);
	return yt_attach(b, n, 1);
}

static int yt_alias(struct yt_builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	unsigned line = (unsigned)ev->start_mark.line + 1,
		 col = (unsigned)ev->start_mark.column + 1;

	/* Later anchors of the same name shadow earlier ones (YAML 1.2 7.1). */
	struct yt_anchor *a = yt_find_anchor(b, name);

	if (!a)
		return yt_error_at(b->err, KERF_E_PARSE, b->file, line, col,
				   "undefined alias \"%s\"", name);
	if (!a->complete)
		return yt_error_at(b->err, KERF_E_PARSE, b->file, line, col,
				   "alias \"%s\" refers to a node that contains it", name);
	b->alias_weight = yt_sat_add(b->alias_weight, a->weight);
	if (b->alias_weight > YT_MAX_ALIAS_NODES)
		return yt_error_at(b->err, KERF_E_PARSE, b->file, line, col,
				   "aliases expand to more than %u nodes", YT_MAX_ALIAS_NODES);
	return yt_attach(b, a->node, a->weight);
}

/* libyaml reports reader errors (bad UTF-8, control bytes) by byte offset only. */
static void yt_offset_position(const char *text, size_t len, size_t off, unsigned *line,
			       unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int yt_parser_error(struct yt_builder *b, const yaml_parser_t *p)
{
	const char *file = b->file;
	const char *problem = p->problem ? p->problem : "syntax error";
	unsigned line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return kerf_error_set(b->err, KERF_E_NOMEM, "%s: out of memory parsing YAML", file);
	case YAML_READER_ERROR:
		yt_offset_position(b->text, b->text_len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return yt_error_at(b->err, KERF_E_PARSE, file, line, col, "%s (0x%02X)",
					   problem, (unsigned)p->problem_value);
		return yt_error_at(b->err, KERF_E_PARSE, file, line, col, "%s", problem);
	default:
		break;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (p->context)
		return yt_error_at(b->err, KERF_E_PARSE, file, line, col,
				   "%s (%s at line %u, column %u)", problem, p->context,
				   (unsigned)p->context_mark.line + 1,
				   (unsigned)p->context_mark.column + 1);
	return yt_error_at(b->err, KERF_E_PARSE, file, line, col, "%s", problem);
}

static struct yt_stream *yt_new_stream(const char *file)
{
	struct yt_stream *s = xcalloc(1, sizeof(*s));

	s->file = xstrdup(file);
	return s;
}

static int yt_event(struct yt_builder *b, const yaml_event_t *ev, bool *done)
{
	struct yt_stream *s = b->s;
	int rc;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (b->n_docs >= b->max_docs)
			return yt_error_at(
			    b->err, KERF_E_PARSE, b->file, (unsigned)ev->start_mark.line + 1,
			    (unsigned)ev->start_mark.column + 1,
			    "more than %zu documents in one file: split the file", b->max_docs);
		b->n_docs++;
		if (!s) {
			s = b->s = yt_new_stream(b->file);
			b->docs_cap = 0;
		}
		xgrow(s->docs, b->docs_cap, s->n + 1);
		s->docs[s->n].root = NULL;
		s->docs[s->n].line = (unsigned)ev->start_mark.line + 1;
		s->n++;
		b->root = NULL;
		b->have_root = false;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		s->docs[s->n - 1].root = b->root;
		/* Anchors are scoped to one document. */
		for (size_t i = 0; i < b->n_anchors; i++)
			free(b->anchors[i].name);
		b->n_anchors = 0;
		if (b->n_buckets)
			memset(b->buckets, 0, b->n_buckets * sizeof(*b->buckets));
		if (!b->each)
			return 0;
		/* Handed over whole; the next document starts a stream of its own. */
		b->s = NULL;
		rc = b->each(b->each_ctx, s, b->err);
		yt_stream_free(s);
		return rc;
	case YAML_ALIAS_EVENT:
		return yt_alias(b, ev);
	case YAML_SCALAR_EVENT:
		return yt_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return yt_open(b, YT_SEQ, ev, ev->data.sequence_start.anchor,
			       ev->data.sequence_start.tag);
	case YAML_MAPPING_START_EVENT:
		return yt_open(b, YT_MAP, ev, ev->data.mapping_start.anchor,
			       ev->data.mapping_start.tag);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return yt_close(b);
	}
	return kerf_error_set(b->err, KERF_E_INTERNAL, "%s: unexpected YAML event %d", b->file,
			      (int)ev->type);
}

int yt_parse_string(const char *name, const char *text, size_t len, struct yt_stream **out,
		    struct kerf_error *err)
{
	return yt_parse_string_limited(name, text, len, 0, out, err);
}

/* Reads text into b->s (one stream) or hands each document to b->each. */
static int yt_build(struct yt_builder *b, const char *text, size_t len)
{
	yaml_parser_t parser;
	bool done = false;
	int rc = 0;

	b->text = text;
	b->text_len = len;
	b->max_nodes = YT_MAX_NODES_BASE + len / YT_BYTES_PER_NODE;
	if (!yaml_parser_initialize(&parser))
		return kerf_error_set(b->err, KERF_E_NOMEM, "%s: out of memory parsing YAML",
				      b->file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yt_parser_error(b, &parser);
			break;
		}
		rc = yt_event(b, &ev, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);

	/* Open collections' arrays are still on the heap (pairs and items share a field). */
	for (size_t i = 0; i < b->n_frames; i++)
		free(b->frames[i].node->items);
	free(b->frames);
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	free(b->buckets);
	return rc;
}

int yt_parse_string_limited(const char *name, const char *text, size_t len, size_t max_documents,
			    struct yt_stream **out, struct kerf_error *err)
{
	struct yt_builder b;
	int rc;

	if (!text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "yt_parse_string: NULL argument");
	if (len > YT_MAX_FILE_BYTES)
		return kerf_error_set(err, KERF_E_RANGE, "%s: larger than %u bytes",
				      name ? name : "<string>", YT_MAX_FILE_BYTES);
	memset(&b, 0, sizeof(b));
	b.s = yt_new_stream(name ? name : "<string>");
	b.file = b.s->file;
	b.err = err;
	b.max_docs = max_documents ? max_documents : YT_MAX_DOCUMENTS;
	if ((rc = yt_build(&b, text, len)) != 0) {
		yt_stream_free(b.s);
		return rc;
	}
	*out = b.s;
	return 0;
}

int yt_parse_each(const char *name, const char *text, size_t len, size_t max_documents,
		  yt_each_fn *each, void *ctx, struct kerf_error *err)
{
	struct yt_builder b;
	int rc;

	if (!text || !each)
		return kerf_error_set(err, KERF_E_INVALID, "yt_parse_each: NULL argument");
	if (!name)
		name = "<string>";
	if (len > YT_MAX_FILE_BYTES)
		return kerf_error_set(err, KERF_E_RANGE, "%s: larger than %u bytes", name,
				      YT_MAX_FILE_BYTES);
	memset(&b, 0, sizeof(b));
	b.file = name;
	b.err = err;
	b.max_docs = max_documents ? max_documents : YT_MAX_DOCUMENTS;
	b.each = each;
	b.each_ctx = ctx;
	rc = yt_build(&b, text, len);
	/* A document cut short by an error was never handed over. */
	yt_stream_free(b.s);
	return rc;
}

int yt_parse_file_each(const char *path, size_t max_documents, yt_each_fn *each, void *ctx,
		       struct kerf_error *err)
{
	struct strbuf sb;
	int rc;

	if (!path || !each)
		return kerf_error_set(err, KERF_E_INVALID, "yt_parse_file_each: NULL argument");
	if ((rc = yt_read_file(path, &sb, err)) != 0)
		return rc;
	rc = yt_parse_each(path, sb.buf ? sb.buf : "", sb.len, max_documents, each, ctx, err);
	sb_free(&sb);
	return rc;
}

int yt_read_file(const char *path, struct strbuf *out, struct kerf_error *err)
{
	char chunk[65536];
	FILE *f;

	sb_init(out);
	if (!path)
		return kerf_error_set(err, KERF_E_INVALID, "yt_read_file: NULL argument");
	f = fopen(path, "rb");
	if (!f)
		return kerf_error_set(err, KERF_E_IO, "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		size_t got = fread(chunk, 1, sizeof(chunk), f);
		if (got)
			sb_append(out, chunk, got);
		if (out->len > YT_MAX_FILE_BYTES) {
			fclose(f);
			sb_free(out);
			return kerf_error_set(err, KERF_E_RANGE, "%s: larger than %u bytes", path,
					      YT_MAX_FILE_BYTES);
		}
		if (got < sizeof(chunk))
			break;
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		sb_free(out);
		return kerf_error_set(err, KERF_E_IO, "%s: cannot read: %s", path, strerror(e));
	}
	fclose(f);
	return 0;
}

int yt_parse_file(const char *path, struct yt_stream **out, struct kerf_error *err)
{
	struct strbuf sb;
	int rc;

	if (!path || !out)
		return kerf_error_set(err, KERF_E_INVALID, "yt_parse_file: NULL argument");
	if ((rc = yt_read_file(path, &sb, err)) != 0)
		return rc;
	rc = yt_parse_string(path, sb.buf ? sb.buf : "", sb.len, out, err);
	sb_free(&sb);
	return rc;
}
