/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_yamltree.c - the positioned YAML tree over libyaml events.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yamltree.h"

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct yt_stream *parse_ok(const char *text)
{
	struct yt_stream *s = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = yt_parse_string("t.yaml", text, strlen(text), &s, &err);
	ck_assert_msg(rc == 0, "parse failed: %s", err.message);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* ---------------------------------------------------------- structure */

START_TEST(tree_shape_and_positions)
{
	struct yt_stream *s = parse_ok("# comment\n"
				       "name: kerf\n"
				       "list:\n"
				       "  - a\n"
				       "  - 'b'\n"
				       "map: {x: 1, y: \"2\"}\n"
				       "block: |\n"
				       "  true\n");
	ck_assert_uint_eq(s->n, 1);
	ck_assert_str_eq(s->file, "t.yaml");
	const struct yt_node *root = s->docs[0].root;
	ck_assert_int_eq(root->type, YT_MAP);
	ck_assert_uint_eq(root->n, 4);
	ck_assert_uint_eq(root->line, 2);
	ck_assert_uint_eq(root->column, 1);
	ck_assert_str_eq(root->file, "t.yaml");

	const struct yt_pair *p = yt_map_pair(root, "name");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->key->line, 2);
	ck_assert_uint_eq(p->key->column, 1);
	ck_assert_str_eq(p->value->scalar, "kerf");
	ck_assert_uint_eq(p->value->len, 4);
	ck_assert_uint_eq(p->value->column, 7);
	ck_assert(p->value->plain);

	const struct yt_node *list = yt_map_get(root, "list");
	ck_assert_int_eq(list->type, YT_SEQ);
	ck_assert_uint_eq(list->n, 2);
	ck_assert_str_eq(list->items[0]->scalar, "a");
	ck_assert(list->items[0]->plain);
	ck_assert_uint_eq(list->items[0]->line, 4);
	ck_assert_uint_eq(list->items[0]->column, 5);
	ck_assert_str_eq(list->items[1]->scalar, "b");
	ck_assert(!list->items[1]->plain);

	const struct yt_node *map = yt_map_get(root, "map");
	ck_assert_int_eq(map->type, YT_MAP);
	ck_assert_str_eq(map->pairs[0].key->scalar, "x");
	ck_assert_str_eq(map->pairs[1].key->scalar, "y");
	ck_assert(!yt_map_get(map, "y")->plain);
	ck_assert_uint_eq(map->line, 6);
	ck_assert_uint_eq(map->column, 6);

	const struct yt_node *block = yt_map_get(root, "block");
	ck_assert_str_eq(block->scalar, "true\n");
	ck_assert(!block->plain);

	ck_assert_ptr_null(yt_map_get(root, "nope"));
	ck_assert_ptr_null(yt_map_get(list, "a"));
	ck_assert_ptr_null(yt_map_get(NULL, "a"));
	yt_stream_free(s);
}
END_TEST

START_TEST(tagged_scalar_is_not_plain)
{
	struct yt_stream *s = parse_ok("a: !!str true\nb: true\nc: ! x\n");
	const struct yt_node *root = s->docs[0].root;
	bool b;
	ck_assert(!yt_map_get(root, "a")->plain);
	ck_assert_int_eq(yt_get_bool(yt_map_get(root, "a"), &b), KERF_E_INVALID);
	ck_assert_int_eq(yt_get_bool(yt_map_get(root, "b"), &b), 0);
	ck_assert(b);
	ck_assert(!yt_map_get(root, "c")->plain);
	ck_assert_str_eq(yt_map_get(root, "c")->scalar, "x");
	yt_stream_free(s);
}
END_TEST

/* A core tag that matches its value makes the value read as that type. */
START_TEST(typed_tags)
{
	struct yt_stream *s = parse_ok("i: !!int \"42\"\nb: !!bool 'true'\nn: !!null ''\n"
				       "f: !!float 1.5e3\nm: !!map {a: 1}\nl: !!seq [1]\n");
	const struct yt_node *root = s->docs[0].root;
	int64_t v;
	bool b;
	ck_assert_int_eq(yt_get_int64(yt_map_get(root, "i"), &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(yt_get_bool(yt_map_get(root, "b"), &b), 0);
	ck_assert(b);
	ck_assert(yt_is_null(yt_map_get(root, "n")));
	ck_assert(yt_map_get(root, "f")->plain);
	ck_assert_int_eq(yt_map_get(root, "m")->type, YT_MAP);
	ck_assert_int_eq(yt_map_get(root, "l")->type, YT_SEQ);
	yt_stream_free(s);
}
END_TEST

START_TEST(scalar_with_nul)
{
	static const char *const texts[] = {"a: \"x\\0y\"\n", "a: ok\nb: [\"\\x00\"]\n",
					    "a: ok\n\"k\\0\": v\n"};
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	static const char *const want[] = {
	    "t.yaml:1:4: a string must not hold a NUL character (\"\\0\")",
	    "t.yaml:2:5: a string must not hold a NUL character (\"\\0\")",
	    "t.yaml:2:1: a string must not hold a NUL character (\"\\0\")"};

	for (size_t i = 0; i < 3; i++) {
		kerf_error_clear(&err);
		ck_assert_int_eq(yt_parse_string("t.yaml", texts[i], strlen(texts[i]), &s, &err),
				 KERF_E_PARSE);
		ck_assert_str_eq(err.message, want[i]);
	}
	s = parse_ok("b: xy\n");
	ck_assert_str_eq(yt_scalar_str(yt_map_get(s->docs[0].root, "b")), "xy");
	ck_assert_ptr_null(yt_scalar_str(s->docs[0].root));
	ck_assert_ptr_null(yt_scalar_str(NULL));
	yt_stream_free(s);
}
END_TEST

/* ---------------------------------------------------------- documents */

START_TEST(multi_document)
{
	struct yt_stream *s = parse_ok("a: 1\n---\n- x\n---\n...\n--- plain\n");
	ck_assert_uint_eq(s->n, 4);
	ck_assert_int_eq(s->docs[0].root->type, YT_MAP);
	ck_assert_uint_eq(s->docs[0].line, 1);
	ck_assert_int_eq(s->docs[1].root->type, YT_SEQ);
	ck_assert_uint_eq(s->docs[1].line, 2);
	ck_assert_ptr_null(s->docs[2].root);
	ck_assert_uint_eq(s->docs[2].line, 4);
	ck_assert_str_eq(s->docs[3].root->scalar, "plain");
	yt_stream_free(s);
}
END_TEST

static const char *const empty_streams[] = {"", "\n\n", "# only a comment\n", "  \n# x\n"};

START_TEST(empty_stream_has_no_documents)
{
	struct yt_stream *s = parse_ok(empty_streams[_i]);
	ck_assert_uint_eq(s->n, 0);
	yt_stream_free(s);
}
END_TEST

START_TEST(quoted_empty_root_is_a_document)
{
	struct yt_stream *s = parse_ok("--- \"\"\n");
	ck_assert_uint_eq(s->n, 1);
	ck_assert_ptr_nonnull(s->docs[0].root);
	ck_assert_str_eq(s->docs[0].root->scalar, "");
	ck_assert(!yt_is_null(s->docs[0].root));
	yt_stream_free(s);
}
END_TEST

/* ---------------------------------------------------------- aliases */

START_TEST(alias_shares_node)
{
	struct yt_stream *s = parse_ok("base: &b\n"
				       "  cpu: 1\n"
				       "  mem: &m 2Gi\n"
				       "copy: *b\n"
				       "list: [*b, *m, *m]\n");
	const struct yt_node *root = s->docs[0].root;
	const struct yt_node *base = yt_map_get(root, "base");
	const struct yt_node *list = yt_map_get(root, "list");
	ck_assert_ptr_eq(yt_map_get(root, "copy"), base);
	ck_assert_ptr_eq(list->items[0], base);
	ck_assert_ptr_eq(list->items[1], yt_map_get(base, "mem"));
	ck_assert_ptr_eq(list->items[2], yt_map_get(base, "mem"));
	/* The alias carries the anchored node's position. */
	ck_assert_uint_eq(list->items[1]->line, 3);
	yt_stream_free(s);
}
END_TEST

START_TEST(alias_redefined_anchor)
{
	struct yt_stream *s = parse_ok("a: &x one\nb: &x two\nc: *x\n");
	ck_assert_str_eq(yt_map_get(s->docs[0].root, "c")->scalar, "two");
	yt_stream_free(s);
}
END_TEST

START_TEST(alias_as_key)
{
	struct yt_stream *s = parse_ok("k: &k name\nmap:\n  *k : v\n");
	const struct yt_node *map = yt_map_get(s->docs[0].root, "map");
	ck_assert_str_eq(yt_map_get(map, "name")->scalar, "v");
	yt_stream_free(s);
}
END_TEST

/* ---------------------------------------------------------- errors */

static const struct {
	const char *text;
	int code;
	const char *message;
	unsigned line, column;
} bad_yaml[] = {
    {"a: 1\nb: 2\na: 3\n", KERF_E_PARSE, "t.yaml:3:1: duplicate key \"a\"", 3, 1},
    {"x:\n  a: 1\n  'a': 2\n", KERF_E_PARSE, "t.yaml:3:3: duplicate key \"a\"", 3, 3},
    {"{a: 1, a: 2}", KERF_E_PARSE, "t.yaml:1:8: duplicate key \"a\"", 1, 8},
    {"? [a]\n: b\n", KERF_E_PARSE, "t.yaml:1:3: a mapping key must be a scalar, got a list", 1, 3},
    {"? {a: 1}\n: b\n", KERF_E_PARSE, "t.yaml:1:3: a mapping key must be a scalar, got a mapping",
     1, 3},
    {"m: &m {a: 1}\n*m : x\n", KERF_E_PARSE,
     "t.yaml:1:4: a mapping key must be a scalar, got a mapping", 1, 4},
    {"a: *nope\n", KERF_E_PARSE, "t.yaml:1:4: undefined alias \"nope\"", 1, 4},
    {"a: &x one\n---\nb: *x\n", KERF_E_PARSE, "t.yaml:3:4: undefined alias \"x\"", 3, 4},
    {"a: &x [1, *x]\n", KERF_E_PARSE, "t.yaml:1:11: alias \"x\" refers to a node that contains it",
     1, 11},
    {"a: b: c\n", KERF_E_PARSE, "t.yaml:1:5: mapping values are not allowed in this context", 1, 5},
    {"a: 1\n b: 2\n", KERF_E_PARSE, "t.yaml:2:3: mapping values are not allowed in this context", 2,
     3},
    {"a:\n  - x\n  y: 1\n", KERF_E_PARSE,
     "t.yaml:3:3: did not find expected '-' indicator (while parsing a block collection at "
     "line 2, column 3)",
     3, 3},
    {"a: [1, 2\n", KERF_E_PARSE,
     "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, "
     "column 4)",
     2, 1},
    {"a: \"open\n", KERF_E_PARSE,
     "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at line 1, "
     "column 4)",
     2, 1},
    {"a: 1\nb: \x01\n", KERF_E_PARSE, "t.yaml:2:4: control characters are not allowed (0x01)", 2,
     4},
    {"a: 1\nb: x\xff\n", KERF_E_PARSE, "t.yaml:2:5: invalid leading UTF-8 octet (0xFF)", 2, 5},
    {"a:\tb\n\tc: 1\n", KERF_E_PARSE,
     "t.yaml:2:1: found a tab character that violates indentation (while scanning a plain "
     "scalar at line 1, column 4)",
     2, 1},
    {"a: !!int 12x\n", KERF_E_PARSE, "t.yaml:1:4: \"12x\" is not a valid !!int", 1, 4},
    {"a: !!int ' 5'\n", KERF_E_PARSE, "t.yaml:1:4: \" 5\" is not a valid !!int", 1, 4},
    {"a: !!bool yes\n", KERF_E_PARSE, "t.yaml:1:4: \"yes\" is not a valid !!bool", 1, 4},
    {"a: !!null x\n", KERF_E_PARSE, "t.yaml:1:4: \"x\" is not a valid !!null", 1, 4},
    {"a: !!float 1e\n", KERF_E_PARSE, "t.yaml:1:4: \"1e\" is not a valid !!float", 1, 4},
    {"a: !custom x\n", KERF_E_PARSE, "t.yaml:1:4: unsupported tag \"!custom\"", 1, 4},
    {"a: !!binary aGk=\n", KERF_E_PARSE, "t.yaml:1:4: unsupported tag \"!!binary\"", 1, 4},
    {"a: !!set {x: null}\n", KERF_E_PARSE, "t.yaml:1:4: unsupported tag \"!!set\"", 1, 4},
    {"a: !!map [x]\n", KERF_E_PARSE, "t.yaml:1:4: tag \"!!map\" on a list, not a mapping", 1, 4},
    {"a: !!str {x: 1}\n", KERF_E_PARSE, "t.yaml:1:4: tag \"!!str\" on a mapping, not a scalar", 1,
     4},
    {"- !!seq x\n", KERF_E_PARSE, "t.yaml:1:3: tag \"!!seq\" on a string, not a list", 1, 3},
};

START_TEST(errors_are_positioned)
{
	struct yt_stream *s = (struct yt_stream *)(uintptr_t)1;
	struct kerf_error err;

	kerf_error_clear(&err);
	int rc = yt_parse_string("t.yaml", bad_yaml[_i].text, strlen(bad_yaml[_i].text), &s, &err);
	ck_assert_int_eq(rc, bad_yaml[_i].code);
	ck_assert_int_eq(err.code, bad_yaml[_i].code);
	ck_assert_str_eq(err.message, bad_yaml[_i].message);
	ck_assert_uint_eq(err.line, bad_yaml[_i].line);
	ck_assert_uint_eq(err.column, bad_yaml[_i].column);
	ck_assert_ptr_eq(s, (struct yt_stream *)(uintptr_t)1);
}
END_TEST

START_TEST(duplicate_key_in_large_map)
{
	struct strbuf sb;
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	sb_init(&sb);
	for (int i = 0; i < 500; i++)
		sb_printf(&sb, "key%d: %d\n", i, i);
	/* Distinct keys that collide in no way with the earlier ones still pass. */
	s = parse_ok(sb.buf);
	ck_assert_uint_eq(s->docs[0].root->n, 500);
	ck_assert_str_eq(yt_map_get(s->docs[0].root, "key499")->scalar, "499");
	yt_stream_free(s);

	sb_puts(&sb, "key123: again\n");
	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_string("big.yaml", sb.buf, sb.len, &s, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "big.yaml:501:1: duplicate key \"key123\"");
	sb_free(&sb);
}
END_TEST

/* A mapping past the keys checked one by one reports its first repeated key in document order. */
START_TEST(first_duplicate_in_large_map)
{
	struct strbuf sb;
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	sb_init(&sb);
	for (int i = 0; i < 100; i++)
		sb_printf(&sb, "key%d: %d\n", i, i);
	sb_puts(&sb, "key50: again\nkey10: again\nkey50: thrice\n");
	ck_assert_int_eq(yt_parse_string("big.yaml", sb.buf, sb.len, &s, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "big.yaml:101:1: duplicate key \"key50\"");
	ck_assert_uint_eq(err.line, 101);
	sb_free(&sb);
}
END_TEST

/* Every document costs memory, an empty one too: a file holds at most YT_MAX_DOCUMENTS. */
START_TEST(document_limit)
{
	struct strbuf sb;
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	sb_init(&sb);
	for (unsigned i = 0; i < YT_MAX_DOCUMENTS; i++)
		sb_puts(&sb, "--- 1\n");
	s = parse_ok(sb.buf);
	ck_assert_uint_eq(s->n, YT_MAX_DOCUMENTS);
	yt_stream_free(s);
	sb_puts(&sb, "--- 1\n");
	s = NULL;
	ck_assert_int_eq(yt_parse_string("docs.yaml", sb.buf, sb.len, &s, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "docs.yaml:150001:1: more than 150000 documents in one file: "
				      "split the file");
	ck_assert_uint_eq(err.line, YT_MAX_DOCUMENTS + 1);
	ck_assert_ptr_null(s);

	/* A reader whose own object limit is lower or higher passes it on. */
	ck_assert_int_eq(yt_parse_string_limited("docs.yaml", sb.buf, sb.len, 3, &s, &err),
			 KERF_E_PARSE);
	ck_assert_str_eq(err.message,
			 "docs.yaml:4:1: more than 3 documents in one file: split the file");
	ck_assert_int_eq(
	    yt_parse_string_limited("docs.yaml", sb.buf, sb.len, YT_MAX_DOCUMENTS + 1, &s, &err),
	    0);
	ck_assert_uint_eq(s->n, YT_MAX_DOCUMENTS + 1);
	yt_stream_free(s);
	sb_free(&sb);
}
END_TEST

/*
 * Text denser than a node every YT_BYTES_PER_NODE bytes would cost many
 * times its size in nodes: refused at the node past the allowance.
 */
START_TEST(node_density_limit)
{
	const size_t items = 600000; /* "1," each: 2 bytes a node */
	struct strbuf sb;
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char want[200];

	ck_assert_uint_le(sizeof(struct yt_node), 48);
	sb_init(&sb);
	sb_puts(&sb, "[");
	for (size_t i = 0; i < items; i++)
		sb_puts(&sb, "1,");
	sb_puts(&sb, "1]\n");
	size_t allowed = YT_MAX_NODES_BASE + sb.len / YT_BYTES_PER_NODE;
	ck_assert_uint_lt(allowed, items);
	ck_assert_int_eq(yt_parse_string("dense.yaml", sb.buf, sb.len, &s, &err), KERF_E_PARSE);
	/* The sequence is node 1, so the refused one is item `allowed`, at column 2 * allowed. */
	snprintf(
	    want, sizeof(want),
	    "dense.yaml:1:%zu: more than %zu keys, values and items in %zu bytes: too dense to "
	    "read (at most 250000 plus one per 4 bytes)",
	    2 * allowed, allowed, sb.len);
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(s);
	sb_free(&sb);

	/* The same count of nodes in block style is within the allowance. */
	for (size_t i = 0; i < items; i++)
		sb_puts(&sb, "- 1\n");
	s = parse_ok(sb.buf);
	ck_assert_uint_eq(s->docs[0].root->n, items);
	yt_stream_free(s);
	sb_free(&sb);
}
END_TEST

struct each_log {
	size_t n;
	char lines[8][64];
	struct yt_stream *kept;
	size_t stop_at; /* 1-based document that answers KERF_E_RANGE; 0: none */
};

static int each_doc(void *ctx, struct yt_stream *doc, struct kerf_error *err)
{
	struct each_log *log = ctx;
	const struct yt_node *root = doc->docs[0].root;

	ck_assert_uint_eq(doc->n, 1);
	snprintf(log->lines[log->n++], sizeof(log->lines[0]), "%u %s %s", doc->docs[0].line,
		 root ? yt_type_name(root) : "empty",
		 root && root->type == YT_MAP ? root->pairs[0].key->scalar : "-");
	if (log->n == 2)
		log->kept = yt_stream_ref(doc);
	if (log->n == log->stop_at)
		return kerf_error_set(err, KERF_E_RANGE, "stop");
	return 0;
}

/* One document at a time: each a stream of its own, kept only when the reader takes it. */
START_TEST(parse_each_document)
{
	static const char text[] = "a: 1\n---\nb: &x [1]\nc: *x\n---\n--- [2]\n";
	struct each_log log = {0};
	struct kerf_error err = KERF_ERROR_INIT;

	ck_assert_int_eq(yt_parse_each("e.yaml", text, strlen(text), 0, each_doc, &log, &err), 0);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_str_eq(log.lines[0], "1 a mapping a");
	ck_assert_str_eq(log.lines[1], "2 a mapping b");
	ck_assert_str_eq(log.lines[2], "5 empty -");
	ck_assert_str_eq(log.lines[3], "6 a list -");
	/* The one taken outlives the reading, its alias resolved within it. */
	ck_assert_ptr_eq(yt_map_get(log.kept->docs[0].root, "c"),
			 yt_map_get(log.kept->docs[0].root, "b"));
	ck_assert_str_eq(yt_map_get(log.kept->docs[0].root, "b")->file, "e.yaml");
	yt_stream_free(log.kept);

	/* The reader stops it; a syntax error comes after the documents before it. */
	memset(&log, 0, sizeof(log));
	log.stop_at = 2;
	ck_assert_int_eq(yt_parse_each("e.yaml", text, strlen(text), 0, each_doc, &log, &err),
			 KERF_E_RANGE);
	ck_assert_uint_eq(log.n, 2);
	yt_stream_free(log.kept);
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(yt_parse_each("e.yaml", "x: 1\n---\n[a\n", 12, 0, each_doc, &log, &err),
			 KERF_E_PARSE);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_msg(strncmp(err.message, "e.yaml:4:1: ", 12) == 0, "%s", err.message);
	/* The limits are the whole text's. */
	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(yt_parse_each("e.yaml", text, strlen(text), 2, each_doc, &log, &err),
			 KERF_E_PARSE);
	ck_assert_str_eq(err.message,
			 "e.yaml:5:1: more than 2 documents in one file: split the file");
	yt_stream_free(log.kept);
}
END_TEST

START_TEST(depth_limit)
{
	struct strbuf sb;
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	sb_init(&sb);
	for (int i = 0; i < YT_MAX_DEPTH; i++)
		sb_puts(&sb, "[");
	for (int i = 0; i < YT_MAX_DEPTH; i++)
		sb_puts(&sb, "]");
	s = parse_ok(sb.buf);
	yt_stream_free(s);

	sb_free(&sb);
	for (int i = 0; i <= YT_MAX_DEPTH; i++)
		sb_puts(&sb, "[");
	for (int i = 0; i <= YT_MAX_DEPTH; i++)
		sb_puts(&sb, "]");
	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_string("t.yaml", sb.buf, sb.len, &s, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "t.yaml:1:257: nesting deeper than 256 levels");
	sb_free(&sb);
}
END_TEST

START_TEST(billion_laughs_is_refused)
{
	static const char text[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
				   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
				   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
	struct yt_stream *s = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_string("t.yaml", text, strlen(text), &s, &err), KERF_E_PARSE);
	ck_assert_msg(strstr(err.message, "aliases expand to more than 1000000 nodes"), "%s",
		      err.message);
	ck_assert_uint_eq(err.line, 6);
}
END_TEST

/*
 * Each alias costs about one anchor comparison however many anchors came
 * before it; resolving by scanning them all took 21 s for 40,000.
 */
START_TEST(alias_resolution_is_linear)
{
	enum { N = 100000 };
	struct strbuf sb;
	struct yt_stream *s = NULL;

	sb_init(&sb);
	sb_puts(&sb, "a:\n");
	for (int i = 0; i < N; i++)
		sb_printf(&sb, "  - &x%d %d\n", i, i);
	sb_puts(&sb, "b:\n");
	for (int i = 0; i < N; i++)
		sb_printf(&sb, "  - *x%d\n", i);
	sb_puts(&sb, "c: &x5 again\nd: *x5\n");
	s = parse_ok(sb.buf);
	const struct yt_node *b = yt_map_get(s->docs[0].root, "b");
	ck_assert_uint_eq(b->n, N);
	ck_assert_str_eq(b->items[N - 1]->scalar, "99999");
	ck_assert_str_eq(yt_map_get(s->docs[0].root, "d")->scalar, "again");
	ck_assert_msg(s->alias_steps <= 3 * (uint64_t)(N + 1), "%llu anchor comparisons",
		      (unsigned long long)s->alias_steps);
	yt_stream_free(s);
	sb_free(&sb);
}
END_TEST

START_TEST(file_errors)
{
	struct yt_stream *s = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_file(KERF_TEST_DATADIR "/config/no-such-file.yaml", &s, &err),
			 KERF_E_IO);
	ck_assert_msg(strstr(err.message, "no-such-file.yaml: cannot open: "), "%s", err.message);
	ck_assert_ptr_null(s);

	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_file(KERF_TEST_DATADIR "/config", &s, &err), KERF_E_IO);
	ck_assert_msg(strstr(err.message, "cannot read"), "%s", err.message);

	ck_assert_int_eq(yt_parse_string("x", NULL, 0, &s, &err), KERF_E_INVALID);
}
END_TEST

START_TEST(file_parse)
{
	struct yt_stream *s = NULL;
	struct kerf_error err;
	const char *path = KERF_TEST_DATADIR "/config/good/full.yaml";

	kerf_error_clear(&err);
	ck_assert_int_eq(yt_parse_file(path, &s, &err), 0);
	ck_assert_str_eq(s->file, path);
	ck_assert_uint_eq(s->n, 1);
	ck_assert_str_eq(s->docs[0].root->file, path);
	ck_assert_str_eq(yt_map_get(s->docs[0].root, "cluster")->scalar, "sim");
	yt_stream_free(s);
	yt_stream_free(NULL);
}
END_TEST

/* ---------------------------------------------------------- scalars */

static const struct {
	const char *text;
	int rc;
	bool value;
} bools[] = {
    {"true", 0, true},
    {"True", 0, true},
    {"TRUE", 0, true},
    {"false", 0, false},
    {"False", 0, false},
    {"FALSE", 0, false},
    {"yes", KERF_E_INVALID, false},
    {"on", KERF_E_INVALID, false},
    {"'true'", KERF_E_INVALID, false},
    {"tRue", KERF_E_INVALID, false},
    {"1", KERF_E_INVALID, false},
    {"[true]", KERF_E_INVALID, false},
    {"", KERF_E_INVALID, false},
};

START_TEST(get_bool)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "v: %s\n", bools[_i].text);
	struct yt_stream *s = parse_ok(sb.buf);
	bool v = !bools[_i].value;
	ck_assert_int_eq(yt_get_bool(yt_map_get(s->docs[0].root, "v"), &v), bools[_i].rc);
	if (bools[_i].rc == 0)
		ck_assert_int_eq(v, bools[_i].value);
	yt_stream_free(s);
	sb_free(&sb);
}
END_TEST

static const struct {
	const char *text;
	int rc;
	int64_t value;
} ints[] = {
    {"0", 0, 0},
    {"-0", 0, 0},
    {"+7", 0, 7},
    {"42", 0, 42},
    {"-42", 0, -42},
    {"9223372036854775807", 0, INT64_MAX},
    {"-9223372036854775808", 0, INT64_MIN},
    {"9223372036854775808", KERF_E_RANGE, 0},
    {"-9223372036854775809", KERF_E_RANGE, 0},
    {"99999999999999999999999", KERF_E_RANGE, 0},
    {"010", KERF_E_INVALID, 0},
    {"0x10", KERF_E_INVALID, 0},
    {"1e3", KERF_E_INVALID, 0},
    {"1_000", KERF_E_INVALID, 0},
    {"1.0", KERF_E_INVALID, 0},
    {"'5'", KERF_E_INVALID, 0},
    {"+", KERF_E_INVALID, 0},
    {"", KERF_E_INVALID, 0},
    {"{}", KERF_E_INVALID, 0},
};

START_TEST(get_int64)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "v: %s\n", ints[_i].text);
	struct yt_stream *s = parse_ok(sb.buf);
	int64_t v = 12345;
	ck_assert_int_eq(yt_get_int64(yt_map_get(s->docs[0].root, "v"), &v), ints[_i].rc);
	ck_assert_int_eq(v, ints[_i].rc == 0 ? ints[_i].value : 12345);
	yt_stream_free(s);
	sb_free(&sb);
}
END_TEST

START_TEST(null_and_type_names)
{
	struct yt_stream *s = parse_ok("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\ng: 'null'\n"
				       "h: nil\ni: [1]\nj: {}\n");
	const struct yt_node *r = s->docs[0].root;
	const char *nulls[] = {"a", "b", "c", "d", "e"};
	for (int i = 0; i < N_ELEMS(nulls); i++) {
		ck_assert_msg(yt_is_null(yt_map_get(r, nulls[i])), "%s", nulls[i]);
		ck_assert_str_eq(yt_type_name(yt_map_get(r, nulls[i])), "null");
	}
	ck_assert(!yt_is_null(yt_map_get(r, "f")));
	ck_assert(!yt_is_null(yt_map_get(r, "g")));
	ck_assert(!yt_is_null(yt_map_get(r, "h")));
	ck_assert(!yt_is_null(yt_map_get(r, "i")));
	ck_assert(yt_is_null(NULL));
	ck_assert_str_eq(yt_type_name(yt_map_get(r, "f")), "a string");
	ck_assert_str_eq(yt_type_name(yt_map_get(r, "i")), "a list");
	ck_assert_str_eq(yt_type_name(yt_map_get(r, "j")), "a mapping");
	ck_assert_str_eq(yt_type_name(NULL), "nothing");
	yt_stream_free(s);
}
END_TEST

START_TEST(error_helpers)
{
	struct yt_stream *s = parse_ok("a:\n  b: 1\n");
	struct kerf_error err;
	const struct yt_node *b = yt_map_get(yt_map_get(s->docs[0].root, "a"), "b");

	kerf_error_clear(&err);
	ck_assert_int_eq(yt_error(&err, KERF_E_CONFIG, b, "bad %s", "value"), KERF_E_CONFIG);
	ck_assert_str_eq(err.message, "t.yaml:2:6: bad value");
	ck_assert_int_eq(err.code, KERF_E_CONFIG);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 6);

	ck_assert_int_eq(yt_error(&err, KERF_E_CONFIG, NULL, "plain %d", 1), KERF_E_CONFIG);
	ck_assert_str_eq(err.message, "plain 1");
	ck_assert_uint_eq(err.line, 0);

	ck_assert_int_eq(yt_error_at(&err, KERF_E_PARSE, "f", 9, 8, "x"), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "f:9:8: x");
	ck_assert_int_eq(yt_error(NULL, KERF_E_PARSE, b, "x"), KERF_E_PARSE);
	yt_stream_free(s);
}
END_TEST

/* A shared stream lives until its last holder lets go (ASan sees a leak or a use after free). */
START_TEST(shared_stream)
{
	struct yt_stream *s = parse_ok("a: [1, 2]\n");
	ck_assert_ptr_eq(yt_stream_ref(s), s);
	yt_stream_ref(s);
	yt_stream_free(s);
	yt_stream_free(s);
	ck_assert_str_eq(yt_map_get(s->docs[0].root, "a")->items[1]->scalar, "2");
	yt_stream_free(s);
}
END_TEST

static Suite *yamltree_suite(void)
{
	Suite *s = suite_create("yamltree");
	TCase *tc = tcase_create("tree");

	tcase_add_test(tc, tree_shape_and_positions);
	tcase_add_test(tc, tagged_scalar_is_not_plain);
	tcase_add_test(tc, typed_tags);
	tcase_add_test(tc, scalar_with_nul);
	tcase_add_test(tc, multi_document);
	tcase_add_loop_test(tc, empty_stream_has_no_documents, 0, N_ELEMS(empty_streams));
	tcase_add_test(tc, quoted_empty_root_is_a_document);
	tcase_add_test(tc, alias_shares_node);
	tcase_add_test(tc, alias_redefined_anchor);
	tcase_add_test(tc, alias_as_key);
	tcase_add_test(tc, file_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, errors_are_positioned, 0, N_ELEMS(bad_yaml));
	tcase_add_test(tc, duplicate_key_in_large_map);
	tcase_add_test(tc, first_duplicate_in_large_map);
	tcase_add_test(tc, document_limit);
	tcase_add_test(tc, node_density_limit);
	tcase_add_test(tc, parse_each_document);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, billion_laughs_is_refused);
	tcase_add_test(tc, alias_resolution_is_linear);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, error_helpers);
	tcase_add_test(tc, shared_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("scalars");
	tcase_add_loop_test(tc, get_bool, 0, N_ELEMS(bools));
	tcase_add_loop_test(tc, get_int64, 0, N_ELEMS(ints));
	tcase_add_test(tc, null_and_type_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = yamltree_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
