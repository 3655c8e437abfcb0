/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamltree.h - YAML loaded into a small neutral tree with positions.
 *
 * Everything kerf reads from YAML (kerf.yaml, manifests) goes through this
 * tree, so every error can name file:line:column.  Built with libyaml's
 * event API; aliases are expanded by sharing the anchored node (so a node
 * reached through an alias reports the anchor's position), duplicate
 * mapping keys are errors, and so is a NUL character in a scalar.  Tags
 * are checked: "!" and "!!str" make a scalar text ("!!str true" is not
 * plain); "!!int", "!!bool", "!!null" and "!!float" require a value of that
 * type and make it read as one; "!!map" and "!!seq" must be on a mapping and
 * a list; any other tag is an error.  Merge keys ("<<") are ordinary keys.
 */
#ifndef KERF_CORE_YAMLTREE_H
#define KERF_CORE_YAMLTREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>

enum yt_type {
	YT_SCALAR,
	YT_MAP,
	YT_SEQ,
};

struct yt_node;
struct yt_chunk;

struct yt_pair {
	struct yt_node *key; /* always a scalar */
	struct yt_node *value;
};

/*
 * 48 bytes: a file of small objects is mostly nodes, so their size is most
 * of what reading it costs (docs/performance.md, "Memory per input byte").
 * Lengths fit 32 bits since a file is at most YT_MAX_FILE_BYTES.
 */
struct yt_node {
	enum yt_type type;
	unsigned line;	 /* 1-based */
	unsigned column; /* 1-based */
	/* YT_SCALAR: the text's length; YT_MAP: pairs in document order; YT_SEQ: items */
	uint32_t len;
	uint32_t n;
	bool plain;	  /* YT_SCALAR: unquoted, so "null"/"true" carry their YAML meaning */
	const char *file; /* owned by the stream */
	char *scalar;	  /* YT_SCALAR: NUL-terminated; NULL otherwise */
	union {
		struct yt_pair *pairs;	/* YT_MAP */
		struct yt_node **items; /* YT_SEQ */
	};
};

struct yt_doc {
	struct yt_node *root; /* NULL for an empty document ("---" alone) */
	unsigned line;	      /* where the document starts */
};

struct yt_stream {
	char *file;
	size_t n;
	struct yt_doc *docs;
	/*
	 * How many nodes the documents hold, each counted once.  They live in
	 * chunks the stream owns (an alias shares the anchored node, so the
	 * tree is a DAG and cannot be freed by walking it).
	 */
	size_t n_nodes;
	struct yt_chunk *chunks;
	/* Pair and item arrays too large for a chunk, each its own allocation. */
	void **big;
	size_t n_big, cap_big;
	/*
	 * Holders besides the one that parsed it (yt_stream_ref): a document
	 * handed out on its own (a node class's) keeps its stream alive.
	 */
	_Atomic unsigned extra_refs;
	/*
	 * Anchors compared while resolving aliases: about one an alias, so
	 * tests can prove resolution linear without timing it.
	 */
	uint64_t alias_steps;
};

/*
 * Parses every document of a file or a buffer (`name` is what messages call
 * it).  On a syntax error returns KERF_E_PARSE with "file:line:column: ..."
 * in err and err->line/column set; KERF_E_IO when the file cannot be read,
 * KERF_E_RANGE when it is larger than YT_MAX_FILE_BYTES.
 */
int yt_parse_file(const char *path, struct yt_stream **out, struct kerf_error *err);
int yt_parse_string(const char *name, const char *text, size_t len, struct yt_stream **out,
		    struct kerf_error *err);
/*
 * yt_parse_string() allowing max_documents documents (0: YT_MAX_DOCUMENTS)
 * instead of YT_MAX_DOCUMENTS, for a reader whose own limit on objects a
 * caller may raise.
 */
int yt_parse_string_limited(const char *name, const char *text, size_t len, size_t max_documents,
			    struct yt_stream **out, struct kerf_error *err);
/*
 * Reads a file or a buffer one document at a time, with the limits of
 * yt_parse_string_limited(): each document is a stream of its own (n == 1,
 * its root NULL when empty) handed to each(ctx, doc, err) as soon as it
 * ends and freed when each returns, unless each took a holder
 * (yt_stream_ref), so a reader that keeps little of a large file holds one
 * document's tree at a time.  Returns the first non-zero each() returned
 * (which stops the reading), a parse error (documents before it were
 * handed over) or 0.
 */
typedef int yt_each_fn(void *ctx, struct yt_stream *doc, struct kerf_error *err);
int yt_parse_each(const char *name, const char *text, size_t len, size_t max_documents,
		  yt_each_fn *each, void *ctx, struct kerf_error *err);
int yt_parse_file_each(const char *path, size_t max_documents, yt_each_fn *each, void *ctx,
		       struct kerf_error *err);
/*
 * Drops one holder of s and frees it with the last; NULL allowed.  Every
 * yt_stream_ref() needs one more call.
 */
void yt_stream_free(struct yt_stream *s);
/* Adds a holder to s and returns it; safe from any thread. */
struct yt_stream *yt_stream_ref(struct yt_stream *s);

struct strbuf;
/*
 * Reads a whole file (at most YT_MAX_FILE_BYTES, else KERF_E_RANGE) into
 * out, which is initialised here and owned by the caller; KERF_E_IO when it
 * cannot be read.  For input that other parsers take as text.
 */
int yt_read_file(const char *path, struct strbuf *out, struct kerf_error *err);

/*
 * Limits that keep hostile input from exhausting memory or the stack of code
 * that walks the tree recursively.  An alias costs the size of the subtree
 * it repeats, so "billion laughs" documents fail instead of expanding.
 */
#define YT_MAX_FILE_BYTES (64u << 20)
#define YT_MAX_DEPTH 256
#define YT_MAX_ALIAS_NODES 1000000u
/*
 * Documents in one file (an empty one counts): as many as a file may hold
 * objects (KERF_FILE_MAX_OBJECTS), refused at the first one past it.
 */
#define YT_MAX_DOCUMENTS 150000u
/*
 * Nodes (keys, values and items) in one file: YT_MAX_NODES_BASE plus one per
 * YT_BYTES_PER_NODE bytes of text.  Each costs some 60 bytes of memory, so
 * text denser than that ("[1,1,1,...]", "{a,b,c,...}" at one or two bytes a
 * node) would take 30 to 60 times its size; Kubernetes YAML, even written
 * tersely, has five or more bytes a node.
 */
#define YT_MAX_NODES_BASE 250000u
#define YT_BYTES_PER_NODE 4u

/* The value for key in a map node, or NULL (also when map is not a map). */
const struct yt_node *yt_map_get(const struct yt_node *map, const char *key);

/* The pair for key in a map node, or NULL; for errors positioned at the key. */
const struct yt_pair *yt_map_pair(const struct yt_node *map, const char *key);

/* True for a plain scalar "", "~", "null", "Null", "NULL", and for NULL. */
bool yt_is_null(const struct yt_node *n);

/*
 * Short name of a node's type for messages: "a string", "a mapping",
 * "a list", or "null" for a null scalar.
 */
const char *yt_type_name(const struct yt_node *n);

/* The text of a scalar (never holding a NUL), or NULL when n is not a scalar. */
const char *yt_scalar_str(const struct yt_node *n);

/*
 * A plain scalar true/True/TRUE or false/False/FALSE, the booleans YAML 1.1
 * and 1.2 agree on; yes/no/on/off and quoted text are not booleans.
 * Returns 0 or KERF_E_INVALID.
 */
int yt_get_bool(const struct yt_node *n, bool *out);

/*
 * A plain decimal integer with an optional sign.  Returns 0, KERF_E_INVALID
 * for anything else (quoted, hex, "1e3", "1_000") or KERF_E_RANGE when it
 * does not fit in int64.
 */
int yt_get_int64(const struct yt_node *n, int64_t *out);

/*
 * Records an error positioned at node `at`: the message becomes
 * "file:line:column: <formatted>", err->line and err->column are set, and
 * code is returned.
 */
int yt_error(struct kerf_error *err, int code, const struct yt_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int yt_verror(struct kerf_error *err, int code, const struct yt_node *at, const char *fmt,
	      va_list ap) __attribute__((format(printf, 4, 0)));
/* The same for a position without a node (file may be NULL: no prefix). */
int yt_error_at(struct kerf_error *err, int code, const char *file, unsigned line, unsigned column,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
