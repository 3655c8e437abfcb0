/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerfctl crds: the CustomResourceDefinitions made from kerf's manifest
 * model (core/karpenter/crd.c) accept Karpenter's own example manifests
 * and the manifests kerf's tests and examples use, reject what the API
 * server would, print as YAML that reads back as the same tree, and name
 * the same EC2NodeClass fields the ec2 plugin's decoder accepts.
 *
 * The schema checker below is the structural subset of OpenAPI v3 that
 * CRDs use: type, properties (unknown fields are errors here, as
 * `kerfctl validate` makes them), required, enum, pattern (POSIX ERE;
 * the patterns are written to mean the same in RE2), minimum/maximum,
 * minItems/maxItems, maxLength, additionalProperties, int-or-string.
 */
#include <check.h>
#include <dirent.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crd.h"
#include "manifest.h"
#include "util.h"
#include "yamltree.h"

/* ------------------------------------------------------------ YAML to JSON */

static json_t *yaml_to_json(const struct yt_node *n)
{
	if (!n)
		return json_null();
	if (n->type == YT_MAP) {
		json_t *o = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_set_new(o, n->pairs[i].key->scalar,
					    yaml_to_json(n->pairs[i].value));
		return o;
	}
	if (n->type == YT_SEQ) {
		json_t *a = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(a, yaml_to_json(n->items[i]));
		return a;
	}
	/* Plain scalars carry YAML's core-schema types; quoted ones are strings. */
	if (n->plain) {
		if (strcmp(n->scalar, "true") == 0)
			return json_true();
		if (strcmp(n->scalar, "false") == 0)
			return json_false();
		if (strcmp(n->scalar, "null") == 0 || strcmp(n->scalar, "~") == 0 || !n->scalar[0])
			return json_null();
		char *end;
		long long v = strtoll(n->scalar, &end, 10);
		if (!*end && end != n->scalar)
			return json_integer(v);
	}
	return json_string(n->scalar);
}

/* ------------------------------------------------------------ schema check */

struct verdict {
	char first[1024]; /* the problems found */
	int n;
};

static void bad(struct verdict *v, const char *path, const char *what)
{
	/* All of them, "; "-separated, as far as they fit. */
	size_t l = strlen(v->first);
	if (l + 3 < sizeof(v->first)) {
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s%s: %s", v->n ? "; " : "", path, what);
		snprintf(v->first + l, sizeof(v->first) - l, "%s", sb.buf);
		sb_free(&sb);
	}
	v->n++;
}

/* A message around one quoted argument: before "arg" after. */
static void badf(struct verdict *v, const char *path, const char *before, const char *arg,
		 const char *after)
{
	char msg[400];
	snprintf(msg, sizeof(msg), "%s\"%s\"%s", before, arg, after);
	bad(v, path, msg);
}

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	ck_assert_msg(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0, "pattern %s", pattern);
	bool ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void check(const json_t *schema, const json_t *v, const char *path, struct verdict *out)
{
	char sub[512];
	const json_t *any = json_object_get(schema, "anyOf");
	if (json_is_true(json_object_get(schema, "x-kubernetes-int-or-string"))) {
		if (!json_is_integer(v) && !json_is_string(v))
			bad(out, path, "must be an integer or a string");
		if (json_is_string(v) && json_object_get(schema, "pattern") &&
		    !matches(json_string_value(json_object_get(schema, "pattern")),
			     json_string_value(v)))
			badf(out, path, "", json_string_value(v), " is not a quantity");
		return;
	}
	ck_assert_ptr_null(any);
	const char *type = json_string_value(json_object_get(schema, "type"));
	ck_assert_ptr_nonnull(type);
	if (strcmp(type, "object") == 0) {
		if (!json_is_object(v)) {
			bad(out, path, "must be an object");
			return;
		}
		const json_t *props = json_object_get(schema, "properties");
		const json_t *addl = json_object_get(schema, "additionalProperties");
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) {
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			const json_t *ps = props ? json_object_get(props, k) : addl;
			if (ps)
				check(ps, x, sub, out);
			else if (props)
				bad(out, sub, "unknown field");
		}
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(schema, "required"), i, r)
			if (!json_object_get(v, json_string_value(r)))
				badf(out, path, "required field ", json_string_value(r),
				     " is missing");
		return;
	}
	if (strcmp(type, "array") == 0) {
		if (!json_is_array(v)) {
			bad(out, path, "must be an array");
			return;
		}
		json_int_t mx = json_integer_value(json_object_get(schema, "maxItems"));
		json_int_t mn = json_integer_value(json_object_get(schema, "minItems"));
		if ((mx && (json_int_t)json_array_size(v) > mx) ||
		    (json_int_t)json_array_size(v) < mn)
			bad(out, path, "has too many or too few items");
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			check(json_object_get(schema, "items"), x, sub, out);
		}
		return;
	}
	if (strcmp(type, "integer") == 0) {
		if (!json_is_integer(v)) {
			bad(out, path, "must be an integer");
			return;
		}
		const json_t *mn = json_object_get(schema, "minimum");
		const json_t *mx = json_object_get(schema, "maximum");
		if ((mn && json_integer_value(v) < json_integer_value(mn)) ||
		    (mx && json_integer_value(v) > json_integer_value(mx)))
			bad(out, path, "is out of range");
		return;
	}
	if (strcmp(type, "boolean") == 0) {
		if (!json_is_boolean(v))
			bad(out, path, "must be a boolean");
		return;
	}
	ck_assert_str_eq(type, "string");
	if (!json_is_string(v)) {
		bad(out, path, "must be a string");
		return;
	}
	const char *s = json_string_value(v);
	const json_t *en = json_object_get(schema, "enum");
	if (en) {
		bool in = false;
		size_t i;
		json_t *e;
		json_array_foreach(en, i, e)
			in = in || strcmp(json_string_value(e), s) == 0;
		if (!in)
			badf(out, path, "unsupported value ", s, "");
	}
	const json_t *pat = json_object_get(schema, "pattern");
	if (pat && !matches(json_string_value(pat), s))
		badf(out, path, "", s, " does not match the pattern");
	json_int_t ml = json_integer_value(json_object_get(schema, "maxLength"));
	if (ml && (json_int_t)strlen(s) > ml)
		badf(out, path, "", s, " is too long");
	const char *fmt = json_string_value(json_object_get(schema, "format"));
	if (fmt && strcmp(fmt, "date-time") == 0 &&
	    !matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-"
		     "9]{2}:[0-9]{2})$",
		     s))
		badf(out, path, "", s, " is not a date-time");
}

static json_t *schema_for(const char *kind)
{
	static const char *const names[CRD_N_KINDS] = {"NodePool", "NodeClaim", "EC2NodeClass"};
	for (int k = 0; k < CRD_N_KINDS; k++) {
		if (strcmp(names[k], kind) != 0)
			continue;
		json_t *crd = crd_definition(k);
		json_t *v0 =
		    json_array_get(json_object_get(json_object_get(crd, "spec"), "versions"), 0);
		json_t *s =
		    json_incref(json_object_get(json_object_get(v0, "schema"), "openAPIV3Schema"));
		json_decref(crd);
		return s;
	}
	return NULL;
}

/* Checks obj against its kind's CRD; 1 when the kind has none. */
static int verdict_of(const json_t *obj, struct verdict *v)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *schema = kind ? schema_for(kind) : NULL;
	if (!schema)
		return 1;
	memset(v, 0, sizeof(*v));
	check(schema, obj, kind, v);
	json_decref(schema);
	return 0;
}

/* Every document of every .yaml file under dir: those of a Karpenter kind
 * must pass.  Returns how many were checked. */
static int check_dir(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	int checked = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!str_ends_with(e->d_name, ".yaml") || strncmp(e->d_name, "docs-", 5) == 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct yt_stream *s = NULL;
		struct kerf_error err = {0};
		ck_assert_msg(yt_parse_file(path, &s, &err) == 0, "%s: %s", path, err.message);
		for (size_t i = 0; i < s->n; i++) {
			json_t *obj = yaml_to_json(s->docs[i].root);
			struct verdict v;
			if (verdict_of(obj, &v) == 0) {
				ck_assert_msg(v.n == 0, "%s document %zu: %s", path, i + 1,
					      v.first);
				checked++;
			}
			json_decref(obj);
		}
		yt_stream_free(s);
	}
	closedir(d);
	return checked;
}

/* ------------------------------------------------------------ tests */

START_TEST(t_examples_pass)
{
	/* The docs' annotated example shows choices ("720h | Never") where
	 * three values go: placeholders Karpenter's own CRD rejects as well. */
	struct yt_stream *s = NULL;
	struct kerf_error err = {0};
	ck_assert_int_eq(yt_parse_file(KERF_TEST_DATADIR
				       "/karpenter-examples/docs-concepts-nodepools-example.yaml",
				       &s, &err),
			 0);
	json_t *obj = yaml_to_json(s->docs[0].root);
	struct verdict v;
	ck_assert_int_eq(verdict_of(obj, &v), 0);
	ck_assert_msg(v.n == 3, "%d problems: %s", v.n, v.first);
	ck_assert_ptr_nonnull(strstr(v.first, "expireAfter: \"720h | Never\" does not match"));
	ck_assert_ptr_nonnull(strstr(v.first, "consolidateAfter: \"1m | Never\" does not match"));
	ck_assert_ptr_nonnull(
	    strstr(v.first, "unsupported value \"WhenEmptyOrUnderutilized | WhenEmpty\""));
	json_decref(obj);
	yt_stream_free(s);

	ck_assert_int_ge(check_dir(KERF_TEST_DATADIR "/karpenter-examples"), 5);
	ck_assert_int_ge(check_dir(KERF_TEST_DATADIR "/manifests/good"), 2);
	ck_assert_int_ge(check_dir(KERF_TEST_SRCDIR "/examples"), 1);
	ck_assert_int_ge(check_dir(KERF_TEST_SRCDIR "/examples/sim"), 1);
}
END_TEST

/* The checker refuses what the API server would: it can fail. */
START_TEST(t_bad_objects_fail)
{
	static const char *const cases[][2] = {
	    {"{\"kind\":\"NodePool\",\"spec\":{\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":"
	     "\"g\",\"kind\":\"K\",\"name\":\"n\"},\"requirements\":[]}},\"weight\":101}}",
	     "weight"},
	    {"{\"kind\":\"NodePool\",\"spec\":{\"template\":{\"spec\":{\"requirements\":[]}}}}",
	     "nodeClassRef"},
	    {"{\"kind\":\"NodePool\",\"spec\":{\"disruption\":{\"consolidateAfter\":\"5x\"},"
	     "\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":\"g\",\"kind\":\"K\",\"name\":"
	     "\"n\"},\"requirements\":[]}}}}",
	     "consolidateAfter"},
	    {"{\"kind\":\"NodeClaim\",\"spec\":{\"nodeClassRef\":{\"group\":\"g\",\"kind\":\"K\","
	     "\"name\":\"n\"},\"requirements\":[{\"key\":\"a\",\"operator\":\"Near\"}]}}",
	     "Near"},
	    {"{\"kind\":\"NodeClaim\",\"spec\":{\"nodeClassRef\":{\"group\":\"g\",\"kind\":\"K\","
	     "\"name\":\"n\"},\"requirements\":[],\"resources\":{\"requests\":{\"cpu\":\"1 "
	     "core\"}}}}",
	     "quantity"},
	    {"{\"kind\":\"EC2NodeClass\",\"spec\":{\"amiSelectorTerms\":[{\"alias\":\"al2023@"
	     "latest\"}],"
	     "\"subnetSelectorTerms\":[{\"id\":\"subnet-1\"}],\"securityGroupSelectorTerms\":[{"
	     "\"id\":"
	     "\"sg-1\"}],\"amiFamly\":\"AL2\"}}",
	     "unknown field"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = json_loads(cases[i][0], 0, NULL);
		ck_assert_ptr_nonnull(obj);
		struct verdict v;
		ck_assert_int_eq(verdict_of(obj, &v), 0);
		ck_assert_msg(v.n > 0, "case %zu passed", i);
		ck_assert_msg(strstr(v.first, cases[i][1]) != NULL, "case %zu: %s", i, v.first);
		json_decref(obj);
	}
}
END_TEST

/* What kerfctl crds prints reads back as the tree it printed. */
START_TEST(t_yaml_round_trip)
{
	for (int k = 0; k < CRD_N_KINDS; k++) {
		json_t *crd = crd_definition(k);
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		crd_write_yaml(f, crd);
		fclose(f);
		struct yt_stream *s = NULL;
		struct kerf_error err = {0};
		ck_assert_msg(yt_parse_string("crd", text, len, &s, &err) == 0, "%s", err.message);
		ck_assert_uint_eq(s->n, 1);
		json_t *back = yaml_to_json(s->docs[0].root);
		if (!json_equal(back, crd)) {
			char *a = json_dumps(crd, JSON_SORT_KEYS),
			     *b = json_dumps(back, JSON_SORT_KEYS);
			size_t i = 0;
			while (a[i] && a[i] == b[i])
				i++;
			ck_abort_msg("kind %d differs at %.60s / %.60s", k, a + i, b + i);
		}
		json_decref(back);
		yt_stream_free(s);
		free(text);
		json_decref(crd);
	}
	ck_assert_ptr_null(crd_definition(CRD_N_KINDS));
}
END_TEST

/* Every name in the `*fields[]` lists of the ec2 plugin's decoder, and
 * every property of the EC2NodeClass schema (below spec and status). */
static void collect_plugin_fields(struct strset *out)
{
	struct strbuf sb;
	sb_init(&sb);
	struct kerf_error err = {0};
	ck_assert_int_eq(yt_read_file(KERF_TEST_SRCDIR "/plugins/ec2/nodeclass.c", &sb, &err), 0);
	/* Field lists are named *fields[], except in the status decoder, where
	 * every list is one. */
	const char *st = strstr(sb.buf, "static void node_class_status(");
	ck_assert_ptr_nonnull(st);
	const char *st_end = strstr(st, "\n}\n");
	const char *p = sb.buf;
	for (;;) {
		const char *a = strstr(p, "fields[] = {");
		const char *b = strstr(p > st ? p : st, "[] = {");
		if (b && b > st_end)
			b = NULL;
		p = a && (!b || a < b) ? a : b;
		if (!p)
			break;
		const char *end = strstr(p, "};");
		for (const char *q = strchr(p, '"'); q && q < end; q = strchr(q, '"')) {
			const char *c = strchr(q + 1, '"');
			char *name = xstrndup(q + 1, (size_t)(c - q - 1));
			strset_add(out, name);
			free(name);
			q = c + 1;
		}
		p = end;
	}
	sb_free(&sb);
}

static void collect_schema_fields(const json_t *schema, struct strset *out)
{
	const char *k;
	json_t *x;
	json_object_foreach(json_object_get(schema, "properties"), k, x) {
		strset_add(out, k);
		collect_schema_fields(x, out);
	}
	if (json_object_get(schema, "items"))
		collect_schema_fields(json_object_get(schema, "items"), out);
}

START_TEST(t_ec2_fields_agree)
{
	struct strset plugin = {0}, schema = {0};
	collect_plugin_fields(&plugin);
	json_t *s = schema_for("EC2NodeClass");
	collect_schema_fields(json_object_get(json_object_get(s, "properties"), "spec"), &schema);
	collect_schema_fields(json_object_get(json_object_get(s, "properties"), "status"), &schema);
	json_decref(s);
	/* Conditions and AMI requirements are decoded by the core's lists, not the plugin's. */
	static const char *const core_decoded[] = {
	    "conditions",	  "type", "status",   "reason", "message",   "lastTransitionTime",
	    "observedGeneration", "key",  "operator", "values", "minValues", NULL};
	for (size_t i = 0; i < schema.n; i++) {
		bool core = false;
		for (const char *const *c = core_decoded; *c; c++)
			core = core || strcmp(*c, schema.items[i]) == 0;
		ck_assert_msg(core || strset_find(&plugin, schema.items[i]) >= 0,
			      "the schema has %s, the ec2 decoder does not", schema.items[i]);
	}
	for (size_t i = 0; i < plugin.n; i++)
		ck_assert_msg(strset_find(&schema, plugin.items[i]) >= 0,
			      "the ec2 decoder accepts %s, the schema lacks it", plugin.items[i]);
	strset_clear(&plugin);
	strset_clear(&schema);
}
END_TEST

/* The decoder's field lists are the tree's. */
START_TEST(t_decoder_lists_from_tree)
{
	const char *const *f = crd_fields(&crd_budget);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f[0], "nodes");
	size_t n = 0;
	while (f[n])
		n++;
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_eq(crd_fields(&crd_budget), f);
	ck_assert_ptr_nonnull(crd_fields(&crd_node_class_ref));
	ck_assert_ptr_nonnull(crd_fields(&crd_nodeclaim_status));
}
END_TEST

/* The schema node at a dotted path of properties ("[]" steps into items). */
static const json_t *schema_at(const json_t *s, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *seg = strtok_r(buf, ".", &save); seg && s; seg = strtok_r(NULL, ".", &save))
		s = strcmp(seg, "[]") == 0 ? json_object_get(s, "items")
					   : json_object_get(json_object_get(s, "properties"), seg);
	return s;
}

/* A NodePool with one value replaced; 0 when the decoder takes it. */
static int decode_nodepool(const char *policy, const char *reason, const char *op,
			   const char *effect)
{
	bool no_values = strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0;
	bool number = op[0] == 'G' || op[0] == 'L';
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb,
		  "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: e}\nspec:\n"
		  "  disruption: {consolidateAfter: 0s, consolidationPolicy: %s,\n"
		  "    budgets: [{nodes: \"10%%\", reasons: [%s]}]}\n"
		  "  template:\n    spec:\n"
		  "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: d}\n"
		  "      requirements: [{key: example.com/x, operator: %s%s}]\n"
		  "      taints: [{key: example.com/t, effect: %s}]\n",
		  policy, reason, op,
		  no_values ? ""
		  : number  ? ", values: [\"4\"]"
			    : ", values: [a]",
		  effect);
	struct yt_stream *st = NULL;
	struct kerf_error err = {0};
	ck_assert_int_eq(yt_parse_string("np.yaml", sb.buf, sb.len, &st, &err), 0);
	struct kerf_nodepool *np = NULL;
	int rc = mf_parse_nodepool(st->docs[0].root, &np, NULL);
	kerf_nodepool_free(np);
	yt_stream_free(st);
	sb_free(&sb);
	return rc;
}

/* Every value an enum of the NodePool schema allows, the decoder takes too;
 * one it does not list, the decoder refuses. */
START_TEST(t_decoder_takes_schema_enums)
{
	json_t *s = schema_for("NodePool");
	static const char *const paths[] = {
	    "spec.disruption.consolidationPolicy", "spec.disruption.budgets.[].reasons.[]",
	    "spec.template.spec.requirements.[].operator", "spec.template.spec.taints.[].effect"};
	static const char *const ok[] = {"WhenEmpty", "Empty", "In", "NoSchedule"};
	int checked = 0;
	for (size_t p = 0; p < 4; p++) {
		const json_t *en = json_object_get(schema_at(s, paths[p]), "enum");
		ck_assert_msg(json_array_size(en) >= 3, "%s has no enum", paths[p]);
		size_t i;
		json_t *v;
		json_array_foreach(en, i, v) {
			const char *a[4] = {ok[0], ok[1], ok[2], ok[3]};
			a[p] = json_string_value(v);
			ck_assert_msg(decode_nodepool(a[0], a[1], a[2], a[3]) == 0,
				      "the decoder refuses %s: %s", paths[p], a[p]);
			checked++;
		}
		const char *a[4] = {ok[0], ok[1], ok[2], ok[3]};
		a[p] = "Bogus";
		ck_assert_msg(decode_nodepool(a[0], a[1], a[2], a[3]) == KERF_E_CONFIG,
			      "the decoder takes %s: Bogus", paths[p]);
	}
	ck_assert_int_eq(checked, 3 + 3 + 8 + 3);
	json_decref(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crds");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, t_examples_pass);
	tcase_add_test(tc, t_bad_objects_fail);
	tcase_add_test(tc, t_yaml_round_trip);
	tcase_add_test(tc, t_ec2_fields_agree);
	tcase_add_test(tc, t_decoder_lists_from_tree);
	tcase_add_test(tc, t_decoder_takes_schema_enums);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
