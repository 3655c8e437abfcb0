/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the positioned YAML tree (every YAML kerf reads goes through it). */
#include <stdlib.h>

#include "fuzz.h"
#include "yamltree.h"

/*
 * The typed getters on every scalar, as the readers call them, and every
 * child visited once: a stack of nodes, since aliases make the tree a DAG
 * whose walk could be long, bounded by the reader's expansion limit.
 */
static void walk(const struct yt_node *root)
{
	size_t n = 0, cap = 64;
	const struct yt_node **stack = malloc(cap * sizeof(*stack));

	if (!stack)
		abort();
	stack[n++] = root;
	while (n) {
		const struct yt_node *node = stack[--n];
		size_t kids = node->type == YT_SCALAR ? 0 : node->n * (node->type == YT_MAP ? 2 : 1);
		int64_t v;
		bool b;

		(void)yt_get_int64(node, &v);
		(void)yt_get_bool(node, &b);
		(void)yt_is_null(node);
		(void)yt_scalar_str(node);
		if (n + kids > cap) {
			cap = 2 * (n + kids);
			stack = realloc(stack, cap * sizeof(*stack));
			if (!stack)
				abort();
		}
		for (size_t i = 0; i < node->n && node->type == YT_MAP; i++) {
			stack[n++] = node->pairs[i].key;
			stack[n++] = node->pairs[i].value;
		}
		for (size_t i = 0; i < node->n && node->type == YT_SEQ; i++)
			stack[n++] = node->items[i];
	}
	free(stack);
}

/* Each document read on its own, as kerfctl reads files; the first kept past the reading. */
static int walk_each(void *ctx, struct yt_stream *doc, struct kerf_error *err)
{
	struct yt_stream **kept = ctx;

	(void)err;
	if (doc->docs[0].root)
		walk(doc->docs[0].root);
	if (!*kept)
		*kept = yt_stream_ref(doc);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yt_stream *s = NULL, *kept = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	(void)yt_parse_each("fuzz.yaml", (const char *)data, size, 0, walk_each, &kept, &err);
	if (kept && kept->docs[0].root)
		walk(kept->docs[0].root);
	yt_stream_free(kept);
	if (yt_parse_string("fuzz.yaml", (const char *)data, size, &s, &err) != 0)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->docs[i].root)
			walk(s->docs[i].root);
	yt_stream_free(s);
	return 0;
}
