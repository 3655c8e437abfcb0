/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h - strict, positioned decoding of Kubernetes-style objects from
 * the YAML tree: the layer under the Karpenter manifest readers (engine)
 * and the workload reader (libkerf).  Internal to kerf: not installed.
 *
 * Each reader keeps an mf_ctx per object; every problem it finds becomes an
 * mf_diag "file:line:column: Kind/name: field.path: message", and reading
 * carries on so that one pass reports every error of a file.
 */
#ifndef KERF_CORE_DECODE_H
#define KERF_CORE_DECODE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/types.h>

#include "util.h"
#include "yamltree.h"

/* One validation problem. */
struct mf_diag {
	char *message; /* "file:line:column: Kind/name: field.path: what is wrong" */
	unsigned line, column;
	int code; /* KERF_E_CONFIG */
};

struct mf_diags {
	size_t n;
	struct mf_diag *items;
};

void mf_diags_clear(struct mf_diags *diags);

/* Where diagnostics of one object go, and the field path being read. */
struct mf_ctx {
	struct mf_diags *diags;
	const char *kind; /* "NodePool" */
	char *name;	  /* metadata.name, NULL until known */
	const struct yt_node *doc;
	struct strbuf path;
	unsigned nerr;
	size_t first; /* index of this object's first diagnostic */
};

void mf_ctx_init(struct mf_ctx *c, struct mf_diags *diags, const char *kind,
		 const struct yt_node *doc);
void mf_ctx_clear(struct mf_ctx *c);

/* Records a diagnostic at node `at` (the document when NULL) for the current path. */
void mf_error(struct mf_ctx *c, const struct yt_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path building: each returns a mark for mf_pop(). */
size_t mf_push(struct mf_ctx *c, const char *field);
size_t mf_push_index(struct mf_ctx *c, size_t i);
size_t mf_push_key(struct mf_ctx *c, const char *key);
void mf_pop(struct mf_ctx *c, size_t mark);

/* The value of key in map, or NULL when absent or null. */
const struct yt_node *mf_child(const struct yt_node *map, const char *key);

/*
 * Reports every key of map that is not in the NULL-terminated list `known`
 * (strict decoding), with a suggestion when one is close.  Returns false
 * when there was one.
 */
bool mf_known_fields(struct mf_ctx *c, const struct yt_node *map, const char *const *known);

/* The entry of known closest to name (a typo), or NULL when none is close. */
const char *mf_suggest(const char *name, const char *const *known);

/* Flags for mf_parse_header(). */
/* A missing metadata.name is fine when generateName is given (Pods, Jobs). */
#define MF_HDR_GENERATE_NAME (1u << 0)
/* Messages name the object "Kind/namespace/name" ("default" when unset). */
#define MF_HDR_NAMESPACED (1u << 1)
/* A pod template's metadata: the block and its name are optional. */
#define MF_HDR_TEMPLATE (1u << 2)

/*
 * The common start of every object: a mapping with only the top-level
 * fields (apiVersion, kind, metadata, spec, status), apiVersion and kind as
 * strings, the metadata read into meta and the name known for messages.
 * Returns false when doc is not a mapping.
 */
bool mf_parse_header(struct mf_ctx *c, const struct yt_node *doc, struct kerf_meta *meta,
		     unsigned flags);

/* The ObjectMeta in doc's "metadata" (flags as above) read into meta. */
void mf_parse_metadata(struct mf_ctx *c, const struct yt_node *doc, struct kerf_meta *meta,
		       unsigned flags);

/* Checks the key syntax of a label or annotation map, and the values' when `values`. */
void mf_check_label_syntax(struct mf_ctx *c, const struct yt_node *map, bool values);

/* Reports a missing required field of map. */
void mf_missing(struct mf_ctx *c, const struct yt_node *map, const char *field);

/* Type checks; each reports a mismatch at the node and returns false/NULL. */
bool mf_is_map(struct mf_ctx *c, const struct yt_node *n);
bool mf_is_seq(struct mf_ctx *c, const struct yt_node *n);
const char *mf_str(struct mf_ctx *c, const struct yt_node *n);
bool mf_int(struct mf_ctx *c, const struct yt_node *n, int64_t *out);
bool mf_bool(struct mf_ctx *c, const struct yt_node *n, bool *out);
/* A quantity may be written as a YAML number or a string. */
const char *mf_quantity_text(struct mf_ctx *c, const struct yt_node *n);

/* Sorted string maps (labels, annotations, tags); false on a reported error. */
bool mf_string_map(struct mf_ctx *c, const struct yt_node *n, struct kerf_labels *out);

/* RFC 3339 time to milliseconds since the epoch. */
bool mf_parse_time(const char *s, int64_t *out_ms);

/*
 * Optional fields of map, each read and checked under its own path.
 * mf_get_string copies the text into *out (freeing what was there; out
 * may be NULL) and returns the node when present.  mf_get_int stores a
 * value within [lo, hi] and returns true when present and valid.
 * mf_get_enum accepts only the NULL-terminated `allowed` values.
 */
const struct yt_node *mf_get_string(struct mf_ctx *c, const struct yt_node *map, const char *field,
				    char **out);
bool mf_get_int(struct mf_ctx *c, const struct yt_node *map, const char *field, int64_t lo,
		int64_t hi, int64_t *out);
bool mf_get_bool(struct mf_ctx *c, const struct yt_node *map, const char *field, bool *out);
const struct yt_node *mf_get_enum(struct mf_ctx *c, const struct yt_node *map, const char *field,
				  const char *const *allowed, char **out);

/* Kubernetes status conditions: shape checks only. */
void mf_check_conditions(struct mf_ctx *c, const struct yt_node *n, bool reason_required);

/* DNS-1123 subdomain (object names). */
bool mf_dns_subdomain(const char *s);

/*
 * kerf/doc.h's objects.  A node is a struct yt_node.  A document holds its
 * stream (yt_stream_ref), so a node class keeps its object while the
 * manifests it came from are gone.  A decoder is a view of one mf_ctx: the
 * engine wraps the context of the object it is reading ({.ctx = &c}), so a
 * provider's diagnostics join the core's; kerf_decoder_new makes one that
 * owns its context and diagnostics.
 */
struct kerf_doc {
	struct yt_stream *stream;
	const struct yt_node *root;
};

struct kerf_decoder {
	struct mf_ctx *ctx;
	struct mf_ctx own;
	struct mf_diags diags;
	char *kind;
};

/* A new document holding a reference to s, rooted at root (a node of s). */
struct kerf_doc *mf_doc_new(struct yt_stream *s, const struct yt_node *root);

struct kerf_workload_limits;
struct kerf_workload_list;
/*
 * kerf_workloads_parse_limited() on a tree already read (s is borrowed), so
 * that a caller reading the same file's manifests too parses it once.  With
 * out NULL the workloads are only checked, each freed once read, so that a
 * validator holds one at a time.
 */
int mf_workloads_from_stream(const struct yt_stream *s, const struct kerf_workload_limits *limits,
			     struct kerf_workload_list **out, char **report,
			     struct kerf_error *err);

/*
 * The same fed one document at a time (yt_parse_each): a reader with the
 * caller's limits (NULL: the defaults) that keeps the workloads (keep) or
 * only checks them; feed borrows s for the call; end frees the reader and
 * answers as mf_workloads_from_stream().
 */
struct mf_wl_reader;
struct mf_wl_reader *mf_wl_reader_new(const struct kerf_workload_limits *limits, bool keep);
void mf_wl_reader_feed(struct mf_wl_reader *r, const struct yt_stream *s);
int mf_wl_reader_end(struct mf_wl_reader *r, struct kerf_workload_list **out, char **report,
		     struct kerf_error *err);

#endif
