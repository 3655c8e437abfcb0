/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_doc.c - kerf/doc.h, the document API providers read node classes
 * with: navigation and positions, and a decoder whose messages are kerf's
 * own "file:line:column: Kind/name: path: message".  Only the public
 * header is used, as a plugin would.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

static const char object_text[] = "apiVersion: example.com/v1\n"
				  "kind: TestNodeClass\n"
				  "metadata:\n"
				  "  name: gpu\n"
				  "spec:\n"
				  "  image: img-1\n"
				  "  replicas: 3\n"
				  "  public: true\n"
				  "  tier: gold\n"
				  "  tags: {team: ml, empty: }\n"
				  "  zones: [a, b]\n"
				  "  nothing: null\n"
				  "  count: \"7\"\n";

static struct kerf_doc *parse(const char *text)
{
	struct kerf_doc *d = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_msg(kerf_doc_parse("nc.yaml", text, strlen(text), &d, &err) == 0, "%s",
		      err.message);
	return d;
}

START_TEST(navigation_and_positions)
{
	struct kerf_doc *d = parse(object_text);
	const struct kerf_doc_node *root = kerf_doc_root(d), *spec, *tags, *zones;

	ck_assert_int_eq(kerf_doc_node_type(root), KERF_DOC_MAP);
	ck_assert_uint_eq(kerf_doc_size(root), 4);
	ck_assert_str_eq(kerf_doc_scalar(kerf_doc_key_at(root, 1)), "kind");
	ck_assert_str_eq(kerf_doc_scalar(kerf_doc_value_at(root, 1)), "TestNodeClass");
	ck_assert_ptr_null(kerf_doc_key_at(root, 4));
	spec = kerf_doc_get(root, "spec");
	ck_assert_uint_eq(kerf_doc_line(spec), 6);
	ck_assert_uint_eq(kerf_doc_column(spec), 3);
	ck_assert_str_eq(kerf_doc_file(spec), "nc.yaml");
	ck_assert_str_eq(kerf_doc_scalar(kerf_doc_get(spec, "image")), "img-1");
	/* An explicit null reads as absent; the key is still there to point at. */
	ck_assert_ptr_null(kerf_doc_get(spec, "nothing"));
	ck_assert_uint_eq(kerf_doc_line(kerf_doc_key(spec, "nothing")), 12);
	ck_assert_ptr_null(kerf_doc_get(spec, "absent"));
	tags = kerf_doc_get(spec, "tags");
	ck_assert(kerf_doc_is_null(kerf_doc_value_at(tags, 1)));
	zones = kerf_doc_get(spec, "zones");
	ck_assert_int_eq(kerf_doc_node_type(zones), KERF_DOC_SEQ);
	ck_assert_str_eq(kerf_doc_scalar(kerf_doc_item(zones, 1)), "b");
	ck_assert_ptr_null(kerf_doc_item(zones, 2));
	ck_assert_ptr_null(kerf_doc_item(spec, 0));
	ck_assert_ptr_null(kerf_doc_scalar(zones));
	/* NULL everywhere answers "absent". */
	ck_assert_ptr_null(kerf_doc_get(NULL, "x"));
	ck_assert_uint_eq(kerf_doc_size(NULL), 0);
	ck_assert_uint_eq(kerf_doc_line(NULL), 0);
	ck_assert_ptr_null(kerf_doc_file(NULL));
	ck_assert(kerf_doc_is_null(NULL));
	ck_assert_ptr_null(kerf_doc_root(NULL));
	kerf_doc_free(d);
	kerf_doc_free(NULL);
}
END_TEST

START_TEST(parse_errors)
{
	static const char two[] = "a: 1\n---\nb: 2\n";
	struct kerf_doc *d = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_doc_parse("x.yaml", "a: [1\n", 6, &d, &err), KERF_E_PARSE);
	ck_assert_ptr_null(d);
	ck_assert(strncmp(err.message, "x.yaml:", 7) == 0);
	ck_assert_int_eq(kerf_doc_parse("x.yaml", two, strlen(two), &d, &err), KERF_E_PARSE);
	ck_assert_str_eq(err.message, "x.yaml:2:1: expected one document, found 2");
	ck_assert_int_eq(kerf_doc_parse("x.yaml", "", 0, &d, &err), KERF_E_PARSE);
	ck_assert_int_eq(kerf_doc_parse("x.yaml", NULL, 0, &d, &err), KERF_E_INVALID);
	/* JSON is YAML. */
	ck_assert_int_eq(kerf_doc_parse("x.json", "{\"a\": [1, 2]}", 13, &d, &err), 0);
	ck_assert_uint_eq(kerf_doc_size(kerf_doc_get(kerf_doc_root(d), "a")), 2);
	kerf_doc_free(d);
}
END_TEST

/* ABI 2.1: a text with no document is nothing, not an error. */
START_TEST(parse_optional)
{
	static const char two[] = "a: 1\n---\nb: 2\n";
	static const char *const empty[] = {"", "# only a comment\n", "---\n", "---\n...\n---\n"};
	struct kerf_doc *d = (struct kerf_doc *)(uintptr_t)1;
	struct kerf_error err;

	kerf_error_clear(&err);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		d = (struct kerf_doc *)(uintptr_t)1;
		ck_assert_int_eq(
		    kerf_doc_parse_optional("x.yaml", empty[i], strlen(empty[i]), &d, &err), 0);
		ck_assert_ptr_null(d);
	}
	ck_assert_int_eq(kerf_doc_parse_optional("x.yaml", two, strlen(two), &d, &err),
			 KERF_E_PARSE);
	ck_assert_str_eq(err.message, "x.yaml:2:1: expected one document, found 2");
	ck_assert_int_eq(kerf_doc_parse_optional("x.yaml", "---\na: [x]\n", 11, &d, &err), 0);
	ck_assert_uint_eq(kerf_doc_size(kerf_doc_get(kerf_doc_root(d), "a")), 1);
	kerf_doc_free(d);
}
END_TEST

START_TEST(decoder_messages)
{
	static const char *const spec_fields[] = {"image", "replicas", "public",  "tier",
						  "tags",  "zones",    "nothing", NULL};
	static const char *const tiers[] = {"silver", "bronze", NULL};
	struct kerf_doc *d = parse(object_text);
	const struct kerf_doc_node *root = kerf_doc_root(d), *spec = kerf_doc_get(root, "spec");
	struct kerf_decoder *dec = NULL;
	struct kerf_labels tags = {0};
	struct kerf_error err;
	char *image = NULL, *tier = NULL;
	int64_t n = 0;
	bool b = false;
	size_t m;

	ck_assert_int_eq(kerf_decoder_new("TestNodeClass", root, &dec), 0);
	ck_assert_int_eq(kerf_decoder_check(dec, &err), 0);
	m = kerf_decoder_push(dec, "spec");
	ck_assert(!kerf_decoder_known_fields(dec, spec, spec_fields));
	ck_assert_ptr_nonnull(kerf_decoder_get_string(dec, spec, "image", &image));
	ck_assert_str_eq(image, "img-1");
	ck_assert(!kerf_decoder_get_int(dec, spec, "replicas", 0, 2, &n));
	ck_assert_int_eq(n, 0);
	ck_assert(kerf_decoder_get_bool(dec, spec, "public", &b) && b);
	ck_assert_ptr_nonnull(kerf_decoder_get_enum(dec, spec, "tier", tiers, &tier));
	ck_assert_ptr_null(tier);
	ck_assert_ptr_null(kerf_decoder_get_string(dec, spec, "absent", &image));
	size_t mt = kerf_decoder_push(dec, "tags");
	ck_assert(kerf_decoder_string_map(dec, kerf_doc_get(spec, "tags"), &tags));
	kerf_decoder_pop(dec, mt);
	ck_assert_str_eq(kerf_labels_get(&tags, "team"), "ml");
	ck_assert_str_eq(kerf_labels_get(&tags, "empty"), "");
	ck_assert_ptr_null(kerf_decoder_string(dec, kerf_doc_get(spec, "replicas")));
	ck_assert(!kerf_decoder_seq(dec, kerf_doc_get(spec, "tags")));
	ck_assert(kerf_decoder_map(dec, spec));
	ck_assert(!kerf_decoder_int(dec, kerf_doc_get(spec, "count"), &n));
	size_t mz = kerf_decoder_push(dec, "zones");
	size_t mi = kerf_decoder_push_index(dec, 1);
	kerf_decoder_error(dec, kerf_doc_item(kerf_doc_get(spec, "zones"), 1), "zone %s is %s", "b",
			   "closed");
	kerf_decoder_pop(dec, mi);
	kerf_decoder_pop(dec, mz);
	kerf_decoder_missing(dec, spec, "network");
	kerf_decoder_pop(dec, m);
	kerf_decoder_error(dec, NULL, "whole object");

	static const char *const want[] = {
	    "nc.yaml:13:3: TestNodeClass/gpu: spec.count: unknown field \"count\"",
	    "nc.yaml:7:13: TestNodeClass/gpu: spec.replicas: replicas (3) must be between 0 and 2",
	    "nc.yaml:9:9: TestNodeClass/gpu: spec.tier: unsupported value \"gold\": supported "
	    "values: \"silver\", \"bronze\"",
	    "nc.yaml:7:13: TestNodeClass/gpu: spec: must be a string, not an integer (quote it: "
	    "\"3\")",
	    "nc.yaml:10:9: TestNodeClass/gpu: spec: must be a list, not a mapping",
	    "nc.yaml:13:10: TestNodeClass/gpu: spec: must be an integer, not a string",
	    "nc.yaml:11:14: TestNodeClass/gpu: spec.zones[1]: zone b is closed",
	    "nc.yaml:6:3: TestNodeClass/gpu: spec.network: required field is missing",
	    "nc.yaml:1:1: TestNodeClass/gpu: whole object",
	};
	ck_assert_uint_eq(kerf_decoder_errors(dec), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(kerf_decoder_message(dec, i), want[i]);
	ck_assert_ptr_null(kerf_decoder_message(dec, sizeof(want) / sizeof(want[0])));
	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_decoder_check(dec, &err), KERF_E_CONFIG);
	ck_assert_uint_eq(err.line, 13);
	ck_assert_uint_eq(err.column, 3);
	ck_assert_ptr_nonnull(strstr(err.message, "(and 8 more errors)"));
	free(image);
	kerf_labels_clear(&tags);
	kerf_decoder_free(dec);
	kerf_doc_free(d);
}
END_TEST

START_TEST(did_you_mean_and_conditions)
{
	static const char text[] = "kind: X\n"
				   "spec:\n"
				   "  imagge: a\n"
				   "status:\n"
				   "  conditions:\n"
				   "    - type: Ready\n"
				   "      status: Maybe\n"
				   "      lastTransitionTime: yesterday\n";
	static const char *const fields[] = {"image", NULL};
	struct kerf_doc *d = parse(text);
	const struct kerf_doc_node *root = kerf_doc_root(d);
	const struct kerf_doc_node *conds =
	    kerf_doc_get(kerf_doc_get(root, "status"), "conditions");
	struct kerf_decoder *dec = NULL;

	ck_assert_int_eq(kerf_decoder_new("X", root, &dec), 0);
	kerf_decoder_known_fields(dec, kerf_doc_get(root, "spec"), fields);
	kerf_decoder_push(dec, "status");
	kerf_decoder_push(dec, "conditions");
	kerf_decoder_conditions(dec, conds, true);
	ck_assert_str_eq(kerf_decoder_message(dec, 0),
			 "nc.yaml:3:3: X/(unnamed): imagge: unknown field \"imagge\" (did you mean "
			 "\"image\"?)");
	ck_assert_uint_eq(kerf_decoder_errors(dec), 5);
	ck_assert_int_eq(kerf_decoder_new(NULL, root, &dec), KERF_E_INVALID);
	kerf_decoder_free(dec);
	kerf_decoder_free(NULL);
	kerf_doc_free(d);
}
END_TEST

static Suite *doc_suite(void)
{
	Suite *s = suite_create("doc");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, navigation_and_positions);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, parse_optional);
	tcase_add_test(tc, decoder_messages);
	tcase_add_test(tc, did_you_mean_and_conditions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(doc_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
