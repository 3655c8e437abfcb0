/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doc.c - kerf/doc.h: the public face of the positioned YAML tree and the
 * decoding layer (yamltree.c, decode.c), so that providers read their node
 * classes with the same typing, strictness and messages as the core.
 *
 * These are thin wrappers: a struct kerf_doc_node is a struct yt_node, and
 * a decoder forwards to the mf_ctx it views.
 */
#include <stdlib.h>
#include <string.h>

#include <kerf/doc.h>

#include "decode.h"

static const struct yt_node *yn(const struct kerf_doc_node *n)
{
	return (const struct yt_node *)n;
}

static const struct kerf_doc_node *dn(const struct yt_node *n)
{
	return (const struct kerf_doc_node *)n;
}

/* ------------------------------------------------------------ documents */

struct kerf_doc *mf_doc_new(struct yt_stream *s, const struct yt_node *root)
{
	struct kerf_doc *d = xcalloc(1, sizeof(*d));

	d->stream = yt_stream_ref(s);
	d->root = root;
	return d;
}

static int doc_parse(const char *name, const char *text, size_t len, bool optional,
		     struct kerf_doc **out, struct kerf_error *err)
{
	struct yt_stream *s = NULL;
	const struct yt_node *root = NULL;
	size_t docs = 0;
	int rc;

	if (!name || !text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_doc_parse: NULL argument");
	if ((rc = yt_parse_string(name, text, len, &s, err)) != 0)
		return rc;
	for (size_t i = 0; i < s->n; i++) {
		if (s->docs[i].root) {
			root = root ? root : s->docs[i].root;
			docs++;
		}
	}
	if (docs == 0 && optional) {
		yt_stream_free(s);
		*out = NULL;
		return 0;
	}
	if (docs != 1) {
		rc = yt_error_at(err, KERF_E_PARSE, name, docs ? s->docs[s->n - 1].line : 1, 1,
				 "expected one document, found %zu", docs);
		yt_stream_free(s);
		return rc;
	}
	*out = mf_doc_new(s, root);
	yt_stream_free(s);
	return 0;
}

int kerf_doc_parse(const char *name, const char *text, size_t len, struct kerf_doc **out,
		   struct kerf_error *err)
{
	return doc_parse(name, text, len, false, out, err);
}

int kerf_doc_parse_optional(const char *name, const char *text, size_t len, struct kerf_doc **out,
			    struct kerf_error *err)
{
	return doc_parse(name, text, len, true, out, err);
}

struct kerf_doc *kerf_doc_copy(const struct kerf_doc *doc)
{
	return doc ? mf_doc_new(doc->stream, doc->root) : NULL;
}

void kerf_doc_free(struct kerf_doc *doc)
{
	if (!doc)
		return;
	yt_stream_free(doc->stream);
	free(doc);
}

const struct kerf_doc_node *kerf_doc_root(const struct kerf_doc *doc)
{
	return doc ? dn(doc->root) : NULL;
}

/* ---------------------------------------------------------------- nodes */

kerf_doc_type kerf_doc_node_type(const struct kerf_doc_node *n)
{
	if (!n)
		return KERF_DOC_SCALAR;
	switch (yn(n)->type) {
	case YT_MAP:
		return KERF_DOC_MAP;
	case YT_SEQ:
		return KERF_DOC_SEQ;
	case YT_SCALAR:
		break;
	}
	return KERF_DOC_SCALAR;
}

const char *kerf_doc_scalar(const struct kerf_doc_node *n)
{
	return yt_scalar_str(yn(n));
}

bool kerf_doc_is_null(const struct kerf_doc_node *n)
{
	return yt_is_null(yn(n));
}

size_t kerf_doc_size(const struct kerf_doc_node *n)
{
	return n && yn(n)->type != YT_SCALAR ? yn(n)->n : 0;
}

const struct kerf_doc_node *kerf_doc_get(const struct kerf_doc_node *map, const char *key)
{
	return key ? dn(mf_child(yn(map), key)) : NULL;
}

const struct kerf_doc_node *kerf_doc_key(const struct kerf_doc_node *map, const char *key)
{
	const struct yt_pair *p = yt_map_pair(yn(map), key);

	return p ? dn(p->key) : NULL;
}

const struct kerf_doc_node *kerf_doc_key_at(const struct kerf_doc_node *map, size_t i)
{
	if (!map || yn(map)->type != YT_MAP || i >= yn(map)->n)
		return NULL;
	return dn(yn(map)->pairs[i].key);
}

const struct kerf_doc_node *kerf_doc_value_at(const struct kerf_doc_node *map, size_t i)
{
	if (!map || yn(map)->type != YT_MAP || i >= yn(map)->n)
		return NULL;
	return dn(yn(map)->pairs[i].value);
}

const struct kerf_doc_node *kerf_doc_item(const struct kerf_doc_node *seq, size_t i)
{
	if (!seq || yn(seq)->type != YT_SEQ || i >= yn(seq)->n)
		return NULL;
	return dn(yn(seq)->items[i]);
}

unsigned kerf_doc_line(const struct kerf_doc_node *n)
{
	return n ? yn(n)->line : 0;
}

unsigned kerf_doc_column(const struct kerf_doc_node *n)
{
	return n ? yn(n)->column : 0;
}

const char *kerf_doc_file(const struct kerf_doc_node *n)
{
	return n ? yn(n)->file : NULL;
}

/* --------------------------------------------------------------- decoder */

int kerf_decoder_new(const char *kind, const struct kerf_doc_node *object,
		     struct kerf_decoder **out)
{
	struct kerf_decoder *d;
	const char *name;

	if (!kind || !object || !out)
		return KERF_E_INVALID;
	d = xcalloc(1, sizeof(*d));
	d->kind = xstrdup(kind);
	mf_ctx_init(&d->own, &d->diags, d->kind, yn(object));
	name = yt_scalar_str(mf_child(mf_child(yn(object), "metadata"), "name"));
	if (name)
		d->own.name = xstrdup(name);
	d->ctx = &d->own;
	*out = d;
	return 0;
}

void kerf_decoder_free(struct kerf_decoder *dec)
{
	if (!dec)
		return;
	mf_ctx_clear(&dec->own);
	mf_diags_clear(&dec->diags);
	free(dec->kind);
	free(dec);
}

size_t kerf_decoder_errors(const struct kerf_decoder *dec)
{
	return dec ? dec->ctx->nerr : 0;
}

const char *kerf_decoder_message(const struct kerf_decoder *dec, size_t i)
{
	const struct mf_ctx *c = dec ? dec->ctx : NULL;

	if (!c || !c->diags || c->first + i >= c->diags->n)
		return NULL;
	return c->diags->items[c->first + i].message;
}

int kerf_decoder_check(const struct kerf_decoder *dec, struct kerf_error *err)
{
	const struct mf_ctx *c = dec ? dec->ctx : NULL;
	const struct mf_diag *first;
	size_t more;

	if (!c || !c->nerr)
		return 0;
	if (!c->diags || c->first >= c->diags->n)
		return kerf_error_set(err, KERF_E_CONFIG, "%s: invalid", c->kind);
	first = &c->diags->items[c->first];
	more = c->diags->n - c->first - 1;
	if (more)
		kerf_error_set(err, KERF_E_CONFIG, "%s (and %zu more error%s)", first->message,
			       more, more == 1 ? "" : "s");
	else
		kerf_error_set(err, KERF_E_CONFIG, "%s", first->message);
	if (err) {
		err->line = first->line;
		err->column = first->column;
	}
	return KERF_E_CONFIG;
}

size_t kerf_decoder_push(struct kerf_decoder *dec, const char *field)
{
	return mf_push(dec->ctx, field);
}

size_t kerf_decoder_push_index(struct kerf_decoder *dec, size_t i)
{
	return mf_push_index(dec->ctx, i);
}

size_t kerf_decoder_push_key(struct kerf_decoder *dec, const char *key)
{
	return mf_push_key(dec->ctx, key);
}

void kerf_decoder_pop(struct kerf_decoder *dec, size_t mark)
{
	mf_pop(dec->ctx, mark);
}

void kerf_decoder_error(struct kerf_decoder *dec, const struct kerf_doc_node *at, const char *fmt,
			...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	mf_error(dec->ctx, yn(at), "%s", sb.buf);
	sb_free(&sb);
}

void kerf_decoder_missing(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			  const char *field)
{
	mf_missing(dec->ctx, yn(map), field);
}

bool kerf_decoder_known_fields(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			       const char *const *known)
{
	return mf_known_fields(dec->ctx, yn(map), known);
}

bool kerf_decoder_map(struct kerf_decoder *dec, const struct kerf_doc_node *n)
{
	return n && mf_is_map(dec->ctx, yn(n));
}

bool kerf_decoder_seq(struct kerf_decoder *dec, const struct kerf_doc_node *n)
{
	return n && mf_is_seq(dec->ctx, yn(n));
}

const char *kerf_decoder_string(struct kerf_decoder *dec, const struct kerf_doc_node *n)
{
	return n ? mf_str(dec->ctx, yn(n)) : NULL;
}

bool kerf_decoder_int(struct kerf_decoder *dec, const struct kerf_doc_node *n, int64_t *out)
{
	int64_t v;

	if (!n || !mf_int(dec->ctx, yn(n), &v))
		return false;
	*out = v;
	return true;
}

bool kerf_decoder_bool(struct kerf_decoder *dec, const struct kerf_doc_node *n, bool *out)
{
	bool v;

	if (!n || !mf_bool(dec->ctx, yn(n), &v))
		return false;
	*out = v;
	return true;
}

const struct kerf_doc_node *kerf_decoder_get_string(struct kerf_decoder *dec,
						    const struct kerf_doc_node *map,
						    const char *field, char **out)
{
	return dn(mf_get_string(dec->ctx, yn(map), field, out));
}

bool kerf_decoder_get_int(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			  const char *field, int64_t lo, int64_t hi, int64_t *out)
{
	return mf_get_int(dec->ctx, yn(map), field, lo, hi, out);
}

bool kerf_decoder_get_bool(struct kerf_decoder *dec, const struct kerf_doc_node *map,
			   const char *field, bool *out)
{
	return mf_get_bool(dec->ctx, yn(map), field, out);
}

const struct kerf_doc_node *kerf_decoder_get_enum(struct kerf_decoder *dec,
						  const struct kerf_doc_node *map,
						  const char *field, const char *const *allowed,
						  char **out)
{
	return dn(mf_get_enum(dec->ctx, yn(map), field, allowed, out));
}

bool kerf_decoder_string_map(struct kerf_decoder *dec, const struct kerf_doc_node *n,
			     struct kerf_labels *out)
{
	return n && mf_string_map(dec->ctx, yn(n), out);
}

void kerf_decoder_conditions(struct kerf_decoder *dec, const struct kerf_doc_node *n,
			     bool reason_required)
{
	if (n)
		mf_check_conditions(dec->ctx, yn(n), reason_required);
}
