/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/doc.h - read-only YAML/JSON documents with positions, and a decoder
 * that reports positioned errors the way kerf does.
 *
 * A node class reaches its provider as the whole object it was read from
 * (struct kerf_node_class.doc): the provider reads the fields it defines
 * with these calls and reports every problem as one diagnostic
 *
 *   file:line:column: Kind/name: field.path: message
 *
 * exactly as kerf's own manifest readers do, so `kerfctl validate` and kerfd
 * print the provider's errors beside the core's.
 *
 * Documents are trees of nodes: scalars (text), mappings (keys in document
 * order, unique) and sequences.  Nodes are borrowed from their document and
 * valid while it lives; nothing here modifies a document.  Every function
 * accepts a NULL node where it takes one and then answers "absent" (NULL,
 * 0 or false).  Nothing here blocks or does I/O; out of memory aborts, as in
 * every libkerf decoder.  All of it is ABI 2.0 but kerf_doc_parse_optional
 * (2.1).
 *
 * This is kerf's one YAML reader, offered to plugins for whatever they read
 * (node classes, a simulator's scenario): parsing is iterative and refuses,
 * with file:line:column, nesting deeper than 256 levels, text over 64 MiB,
 * more than 150,000 documents, more than 250,000 nodes plus one per 4
 * bytes of text, aliases expanding to more than a million nodes, duplicate
 * keys, a NUL character in a string and tags other than YAML's own (a
 * "!!int" must hold an integer, and so on).  Anchors are resolved through
 * a hash, so aliases cost linear time.
 */
#ifndef KERF_DOC_H
#define KERF_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A parsed document; owns its nodes.  ABI 2.0. */
struct kerf_doc;
/* One node of a document, borrowed from it.  ABI 2.0. */
struct kerf_doc_node;
/* Where the diagnostics about one object go, with the field path being read.  ABI 2.0. */
struct kerf_decoder;

typedef enum {
	KERF_DOC_SCALAR = 0,
	KERF_DOC_MAP = 1,
	KERF_DOC_SEQ = 2,
} kerf_doc_type;

/* ------------------------------------------------------------ documents */

/*
 * Parses text (YAML, so JSON too; `name` is the file name messages use)
 * holding exactly one document.  On success *out is a new document the
 * caller frees with kerf_doc_free() and 0 is returned; otherwise *out is
 * left alone and KERF_E_PARSE (syntax, or not exactly one non-empty
 * document) or KERF_E_INVALID (NULL arguments) is returned with a
 * positioned message in err.  Does not block.  ABI 2.0.
 */
int kerf_doc_parse(const char *name, const char *text, size_t len, struct kerf_doc **out,
		   struct kerf_error *err);

/*
 * The same for text that may hold no document at all (empty, comments
 * only, or empty documents): then *out is set to NULL and 0 returned, so a
 * reader can take an empty file as "nothing".  More than one non-empty
 * document is KERF_E_PARSE as in kerf_doc_parse.  Does not block.  ABI 2.1.
 */
int kerf_doc_parse_optional(const char *name, const char *text, size_t len, struct kerf_doc **out,
			    struct kerf_error *err);

/* Frees a document and every node of it; NULL allowed.  Does not block.  ABI 2.0. */
void kerf_doc_free(struct kerf_doc *doc);
/*
 * Another handle on the same document (it is immutable, so the two share
 * it; freeing either leaves the other valid), NULL for NULL.  Safe from any
 * thread.  Aborts when memory runs out.  ABI 2.0.
 */
struct kerf_doc *kerf_doc_copy(const struct kerf_doc *doc);

/* The document's root node, never NULL for a document.  Does not block.  ABI 2.0. */
const struct kerf_doc_node *kerf_doc_root(const struct kerf_doc *doc);

/* ---------------------------------------------------------------- nodes */

/* The node's type; KERF_DOC_SCALAR for NULL.  Does not block.  ABI 2.0. */
kerf_doc_type kerf_doc_node_type(const struct kerf_doc_node *n);

/*
 * A scalar's text, borrowed from the document; NULL for a mapping, a
 * sequence, NULL, or text holding a NUL byte.  Does not block.  ABI 2.0.
 */
const char *kerf_doc_scalar(const struct kerf_doc_node *n);

/*
 * True for YAML's null: NULL, or an unquoted "", "~", "null", "Null" or
 * "NULL".  Does not block.  ABI 2.0.
 */
bool kerf_doc_is_null(const struct kerf_doc_node *n);

/* The entries of a mapping or items of a sequence; 0 for anything else.  Does not block.  ABI 2.0.
 */
size_t kerf_doc_size(const struct kerf_doc_node *n);

/*
 * The value of `key` in a mapping, borrowed; NULL when absent, when the
 * value is null, or when map is not a mapping (so an optional field written
 * as "field:" reads as absent).  Does not block.  ABI 2.0.
 */
const struct kerf_doc_node *kerf_doc_get(const struct kerf_doc_node *map, const char *key);

/*
 * The key node of `key` in a mapping (to position an error at the key
 * rather than the value), or NULL.  Does not block.  ABI 2.0.
 */
const struct kerf_doc_node *kerf_doc_key(const struct kerf_doc_node *map, const char *key);

/*
 * Entry i of a mapping in document order: its key (always a scalar) and
 * its value; NULL when map is not a mapping or i is out of range.  Does not
 * block.  ABI 2.0.
 */
const struct kerf_doc_node *kerf_doc_key_at(const struct kerf_doc_node *map, size_t i);
const struct kerf_doc_node *kerf_doc_value_at(const struct kerf_doc_node *map, size_t i);

/* Item i of a sequence, or NULL.  Does not block.  ABI 2.0. */
const struct kerf_doc_node *kerf_doc_item(const struct kerf_doc_node *seq, size_t i);

/*
 * Where the node starts: 1-based line and column (0 for NULL), and the file
 * name the document was read from (borrowed; NULL for NULL).  A node reached
 * through a YAML alias reports its anchor's position.  Does not block.
 * ABI 2.0.
 */
unsigned kerf_doc_line(const struct kerf_doc_node *n);
unsigned kerf_doc_column(const struct kerf_doc_node *n);
const char *kerf_doc_file(const struct kerf_doc_node *n);

/* --------------------------------------------------------------- decoder */

/*
 * A decoder for one object (`object`, the whole document: apiVersion, kind,
 * metadata...), whose diagnostics it keeps.  Messages name the object
 * "Kind/name", the name read from metadata.name ("(unnamed)" without one);
 * kind is copied.  Returns 0 with *out set (free it with
 * kerf_decoder_free), or KERF_E_INVALID for NULL arguments.  The host
 * hands validate_node_class a decoder of its own; providers make one when
 * they read a node class for get_instance_types or create.  Does not
 * block.  ABI 2.0.
 */
int kerf_decoder_new(const char *kind, const struct kerf_doc_node *object,
		     struct kerf_decoder **out);

/* Frees a decoder from kerf_decoder_new and its diagnostics; NULL allowed.  ABI 2.0. */
void kerf_decoder_free(struct kerf_decoder *dec);

/* How many errors were reported about the object so far.  Does not block.  ABI 2.0. */
size_t kerf_decoder_errors(const struct kerf_decoder *dec);

/*
 * Diagnostic i of the object, "file:line:column: Kind/name: path: message",
 * in the order reported, borrowed from the decoder; NULL past the last.
 * Does not block.  ABI 2.0.
 */
const char *kerf_decoder_message(const struct kerf_decoder *dec, size_t i);

/*
 * 0 when nothing was reported; otherwise KERF_E_CONFIG, with err (NULL
 * allowed) holding the first diagnostic, its line and column, and how many
 * more there are.  Does not block.  ABI 2.0.
 */
int kerf_decoder_check(const struct kerf_decoder *dec, struct kerf_error *err);

/*
 * The field path messages carry ("spec.image", "spec.tags[team]",
 * "spec.disks[1]").  Each push appends one step and returns a mark;
 * kerf_decoder_pop(dec, mark) goes back to where the path was before that
 * push.  Does not block.  ABI 2.0.
 */
size_t kerf_decoder_push(struct kerf_decoder *dec, const char *field);
size_t kerf_decoder_push_index(struct kerf_decoder *dec, size_t i);
size_t kerf_decoder_push_key(struct kerf_decoder *dec, const char *key);
void kerf_decoder_pop(struct kerf_decoder *dec, size_t mark);

/*
 * Reports a problem at node `at` (the object when NULL) under the current
 * path; the message is printf-formatted.  Does not block.  ABI 2.0.
 */
void kerf_decoder_error(struct kerf_decoder *dec, const struct kerf_doc_node *at, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

/* Reports `field` of map as missing ("field: required field is missing").  ABI 2.0. */
void kerf_decoder_missing(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			  const char *field);

/*
 * Strict decoding: reports every key of map not in `known` (NULL-terminated)
 * as an unknown field, with "did you mean" when one is close.  Returns false
 * when there was one; true also when map is not a mapping.  Does not block.
 * ABI 2.0.
 */
bool kerf_decoder_known_fields(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			       const char *const *known);

/*
 * Type checks on a present node: each reports a mismatch at n ("must be a
 * string, not an integer (quote it: \"42\")") and returns false or NULL.
 * kerf_decoder_string returns the text borrowed from the document; _int
 * and _bool store through out only on success.  YAML 1.1 typing applies, as
 * in Kubernetes: an unquoted 42, true or null is not a string.  Does not
 * block.  ABI 2.0.
 */
bool kerf_decoder_map(struct kerf_decoder *dec, const struct kerf_doc_node *n);
bool kerf_decoder_seq(struct kerf_decoder *dec, const struct kerf_doc_node *n);
const char *kerf_decoder_string(struct kerf_decoder *dec, const struct kerf_doc_node *n);
bool kerf_decoder_int(struct kerf_decoder *dec, const struct kerf_doc_node *n, int64_t *out);
bool kerf_decoder_bool(struct kerf_decoder *dec, const struct kerf_doc_node *n, bool *out);

/*
 * Optional fields of map, each checked under its own path step and absent
 * when missing or null.
 *
 * kerf_decoder_get_string: when present returns the value node and, when
 * it is a string and out is not NULL, replaces *out with a copy (the caller
 * frees it with free(); the old *out is freed).
 * kerf_decoder_get_int: true when present, an integer and within [lo, hi]
 * (stored in *out); out of range reports "field (x) must be between lo and
 * hi" ("at least lo" when hi is INT32_MAX or INT64_MAX).
 * kerf_decoder_get_bool: true when present and a boolean (stored in *out).
 * kerf_decoder_get_enum: like get_string, and a value not in `allowed`
 * (NULL-terminated) is reported with the supported values and not copied.
 * None blocks.  ABI 2.0.
 */
const struct kerf_doc_node *kerf_decoder_get_string(struct kerf_decoder *dec,
						    const struct kerf_doc_node *map,
						    const char *field, char **out);
bool kerf_decoder_get_int(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			  const char *field, int64_t lo, int64_t hi, int64_t *out);
bool kerf_decoder_get_bool(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			   const char *field, bool *out);
const struct kerf_doc_node *kerf_decoder_get_enum(struct kerf_decoder *dec,
						  const struct kerf_doc_node *map,
						  const char *field, const char *const *allowed,
						  char **out);

/*
 * A mapping of strings to strings (tags, labels) added to *out, which the
 * caller owns and frees with kerf_labels_clear(); an unquoted empty value
 * reads as "".  Returns false when n is not a mapping or a value is not a
 * string (each reported).  Does not block.  ABI 2.0.
 */
bool kerf_decoder_string_map(struct kerf_decoder *dec, const struct kerf_doc_node *n,
			     struct kerf_labels *out);

/*
 * Checks a Kubernetes status.conditions list: known fields, type, status
 * True/False/Unknown, RFC 3339 lastTransitionTime, and reason and message
 * when `reason_required`.  Does not block.  ABI 2.0.
 */
void kerf_decoder_conditions(struct kerf_decoder *dec, const struct kerf_doc_node *n,
			     bool reason_required);

#ifdef __cplusplus
}
#endif
#endif
