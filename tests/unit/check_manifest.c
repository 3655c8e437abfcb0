/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_manifest.c - Karpenter v1 manifests: the good corpus parses into the
 * expected structs, every file of the bad corpus gives exactly the
 * diagnostics listed in its .expected file (one "LINE:COL: message" per
 * line, the file name prepended by the test).  Node classes go to the
 * provider serving their kind: here a test provider, so that the core is
 * seen to know none (check_nodeclass_ec2 runs EC2NodeClass through sim).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "manifest.h"

#define MDIR KERF_TEST_DATADIR "/manifests"

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int load(struct mf_set *set, const char *path, struct mf_diags *d, struct kerf_error *err)
{
	mf_set_init(set);
	memset(d, 0, sizeof(*d));
	kerf_error_clear(err);
	return mf_load_file(set, path, d, err);
}

static void dump(const struct mf_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  %s\n", d->items[i].message);
}

/* ---------------------------------------------------------- the corpus */

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static size_t check_bad_file(const char *name)
{
	char path[1024], exp_path[1024];
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	char *expected, *line, *save = NULL;
	size_t i = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/bad/%s", MDIR, name);
	snprintf(exp_path, sizeof(exp_path), "%.*s.expected", (int)(strlen(path) - 5), path);
	expected = read_text(exp_path);
	ck_assert_msg(expected != NULL, "%s has no .expected file", name);
	rc = load(&set, path, &d, &err);
	if (rc != KERF_E_CONFIG)
		dump(&d);
	ck_assert_msg(rc == KERF_E_CONFIG, "%s: rc %d", name, rc);
	ck_assert_int_eq(err.code, KERF_E_CONFIG);
	ck_assert_uint_gt(d.n, 0);
	ck_assert_uint_eq(err.line, d.items[0].line);
	ck_assert_uint_eq(err.column, d.items[0].column);
	for (line = strtok_r(expected, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[2048];
		snprintf(want, sizeof(want), "%s:%s", path, line);
		if (i >= d.n || strcmp(d.items[i].message, want) != 0) {
			dump(&d);
			ck_abort_msg("%s: diagnostic %zu:\n  want %s\n  got  %s", name, i, want,
				     i < d.n ? d.items[i].message : "(none)");
		}
		i++;
	}
	if (i != d.n)
		dump(&d);
	ck_assert_msg(i == d.n, "%s: %zu diagnostics, %zu expected", name, d.n, i);
	/* Invalid objects are left out. */
	ck_assert_uint_eq(set.n_nodepools + set.n_nodeclaims + set.n_node_classes, 0);
	free(expected);
	mf_diags_clear(&d);
	mf_set_clear(&set);
	return i;
}

START_TEST(bad_corpus)
{
	DIR *dir = opendir(MDIR "/bad");
	struct dirent *e;
	size_t files = 0, diags = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!ends_with(e->d_name, ".yaml"))
			continue;
		diags += check_bad_file(e->d_name);
		files++;
	}
	closedir(dir);
	ck_assert_uint_ge(files, 17);
	ck_assert_uint_ge(diags, 70);
}
END_TEST

START_TEST(good_corpus)
{
	DIR *dir = opendir(MDIR "/good");
	struct dirent *e;
	size_t files = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		char path[1024];
		struct mf_set set;
		struct mf_diags d;
		struct kerf_error err = KERF_ERROR_INIT;
		int rc;

		if (!ends_with(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/good/%s", MDIR, e->d_name);
		rc = load(&set, path, &d, &err);
		if (rc)
			dump(&d);
		ck_assert_msg(rc == 0, "%s: rc %d: %s", e->d_name, rc, err.message);
		ck_assert_uint_eq(d.n, 0);
		mf_diags_clear(&d);
		mf_set_clear(&set);
		files++;
	}
	closedir(dir);
	ck_assert_uint_ge(files, 2);
}
END_TEST

/* The messages the brief promises, spelled out in full. */
START_TEST(key_messages)
{
	static const struct {
		const char *file, *needle;
	} cases[] = {
	    {"np-gt-two-values.yaml",
	     ":15:19: NodePool/gen: spec.template.spec.requirements[0].values: operator 'Gt' "
	     "requires a single non-negative integer value, got 2 values"},
	    {"np-minvalues.yaml",
	     ":19:22: NodePool/ray-worker-nodepool: spec.template.spec.requirements[1].minValues: "
	     "minValues (3) exceeds the number of values (2)"},
	    {"np-restricted.yaml",
	     ":21:16: NodePool/restricted: spec.template.spec."
	     "requirements[0].key: label \"kubernetes.io/foo\" is restricted"},
	    {"np-restricted.yaml", ":23:16: NodePool/restricted: spec.template.spec."
				   "requirements[1].key: label \"karpenter.sh/nodepool\" is "
				   "restricted"},
	    {"np-unknown-field.yaml", ":16:7: NodePool/typo: spec.template.spec.requirment: "
				      "unknown field \"requirment\" (did you mean "
				      "\"requirements\"?)"},
	    {"np-limits.yaml", ":14:10: NodePool/limits: spec.limits.cpu: invalid quantity "
			       "\"12Zi\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[1024];
		struct mf_set set;
		struct mf_diags d;
		struct kerf_error err = KERF_ERROR_INIT;
		bool found = false;

		snprintf(path, sizeof(path), "%s/bad/%s", MDIR, cases[i].file);
		ck_assert_int_eq(load(&set, path, &d, &err), KERF_E_CONFIG);
		for (size_t j = 0; j < d.n && !found; j++) {
			const char *m = d.items[j].message;
			found = strncmp(m, path, strlen(path)) == 0 && strstr(m, cases[i].needle);
		}
		if (!found)
			dump(&d);
		ck_assert_msg(found, "%s: no diagnostic containing %s", cases[i].file,
			      cases[i].needle);
		mf_diags_clear(&d);
		mf_set_clear(&set);
	}
}
END_TEST

/* ------------------------------------------------------------- fields */

static const struct kerf_requirement *find_req(const struct kerf_requirements *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->items[i]->key, key) == 0)
			return r->items[i];
	}
	return NULL;
}

START_TEST(nodepool_defaults_and_budgets)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_nodepool *np;
	const struct kerf_requirement *r;
	bool present;

	ck_assert_int_eq(load(&set, MDIR "/good/nodepool-defaults.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 2);
	np = set.nodepools[0];
	ck_assert_str_eq(np->meta->name, "minimal");
	ck_assert_int_eq(np->expire_after_ms, 720LL * 3600 * 1000);
	ck_assert_int_eq(np->consolidation_policy, KERF_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED);
	ck_assert_int_eq(np->consolidate_after_ms, 0);
	ck_assert_uint_eq(np->n_budgets, 1);
	ck_assert_int_eq(np->budgets[0]->nodes, 10);
	ck_assert(np->budgets[0]->nodes_percent);
	ck_assert_uint_eq(np->budgets[0]->reasons, 0);
	ck_assert_int_eq(np->limit_nodes, -1);
	ck_assert_uint_eq(np->limits.present, 0);
	ck_assert_uint_eq(np->requirements.n, 0);
	ck_assert_int_eq(np->weight, 0);

	np = set.nodepools[1];
	ck_assert_str_eq(np->meta->name, "budgets");
	ck_assert_int_eq(np->weight, 50);
	ck_assert_int_eq(np->expire_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(np->termination_grace_period_ms, 5400000);
	ck_assert_int_eq(np->consolidation_policy, KERF_CONSOLIDATE_BALANCED);
	ck_assert_int_eq(np->consolidate_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(np->limit_nodes, 20);
	ck_assert_int_eq(kerf_resources_get(&np->limits, "nvidia.com/gpu", &present), 8);
	ck_assert(present);
	ck_assert_uint_eq(np->n_budgets, 3);
	ck_assert_int_eq(np->budgets[0]->nodes, 0);
	ck_assert(!np->budgets[0]->nodes_percent);
	ck_assert_str_eq(np->budgets[0]->schedule, "@daily");
	ck_assert_int_eq(np->budgets[0]->duration_ms, 600000);
	ck_assert_uint_eq(np->budgets[0]->reasons, KERF_REASON_DRIFTED | KERF_REASON_EMPTY);
	ck_assert_int_eq(np->budgets[1]->nodes, 100);
	ck_assert(np->budgets[1]->nodes_percent);
	ck_assert_uint_eq(np->budgets[1]->reasons, KERF_REASON_UNDERUTILIZED);
	ck_assert_int_eq(np->budgets[2]->nodes, 3);
	ck_assert_int_eq(np->budgets[2]->duration_ms, 5400000);
	ck_assert_str_eq(kerf_labels_get(&np->template_labels, "node.kubernetes.io/pool"), "batch");
	r = find_req(&np->requirements, "karpenter.k8s.aws/instance-cpu");
	ck_assert_int_eq(r->op, KERF_OP_LTE);
	r = find_req(&np->requirements, "topology.kubernetes.io/zone");
	ck_assert_int_eq(r->op, KERF_OP_NOT_IN);
	ck_assert_uint_eq(r->n_values, 0);
	ck_assert_uint_eq(np->startup_taints.n, 1);
	ck_assert_int_eq(np->startup_taints.items[0]->effect, KERF_EFFECT_NO_EXECUTE);
	ck_assert_ptr_null(np->startup_taints.items[0]->value);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(nodeclaim_list_and_others)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_nodeclaim *nc;

	ck_assert_int_eq(load(&set, MDIR "/good/nodeclaim-and-list.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_nodeclaims, 1);
	ck_assert_uint_eq(set.n_other, 2);
	ck_assert_str_eq(yt_map_get(set.other[0], "kind")->scalar, "Pod");
	ck_assert_str_eq(yt_map_get(set.other[1], "kind")->scalar, "Deployment");
	nc = set.nodeclaims[0];
	ck_assert_str_eq(nc->meta->name, "default-x7k2p");
	ck_assert_str_eq(nc->nodepool, "default");
	ck_assert_str_eq(nc->meta->owner_kind, "NodePool");
	ck_assert_str_eq(nc->meta->owner_name, "default");
	ck_assert_uint_eq(nc->meta->n_finalizers, 1);
	ck_assert_int_eq(nc->meta->creation_ms, 1706903640000LL);
	ck_assert_str_eq(nc->node_class_ref->name, "default");
	ck_assert_uint_eq(nc->requirements.n, 2);
	ck_assert_int_eq(nc->requirements.items[1]->min_values, 2);
	ck_assert_int_eq(nc->resource_requests.cpu_millis, 1500);
	ck_assert_int_eq(nc->resource_requests.memory_bytes, 2LL << 30);
	ck_assert_int_eq(nc->resource_requests.pods, 5);
	ck_assert_int_eq(nc->expire_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(nc->termination_grace_period_ms, 48LL * 3600 * 1000);
	ck_assert_int_eq(nc->state, KERF_CLAIM_REGISTERED);
	ck_assert_int_eq(nc->launched_ms, 1706903674000LL);
	ck_assert_int_eq(nc->registered_ms, 1706903700000LL);
	ck_assert_int_eq(nc->initialized_ms, 0);
	ck_assert_int_eq(nc->last_pod_event_ms, 1706904000500LL);
	ck_assert_str_eq(nc->provider_id, "aws:///us-west-2a/i-0123456789abcdef0");
	ck_assert_str_eq(nc->image_id, "ami-0123456789abcdef0");
	ck_assert_int_eq(nc->capacity.cpu_millis, 2000);
	ck_assert_int_eq(nc->allocatable.cpu_millis, 1930);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/* ------------------------------------------------------------ node classes */

/* A provider of the test's own: TestNodeClass (test.example.com/v1) needs spec.image. */
static int test_validate(const struct kerf_doc_node *object, struct kerf_decoder *dec)
{
	static const char *const fields[] = {"image", NULL};
	const struct kerf_doc_node *spec = kerf_doc_get(object, "spec");
	size_t m;

	if (!spec) {
		kerf_decoder_missing(dec, object, "spec");
		return KERF_E_CONFIG;
	}
	m = kerf_decoder_push(dec, "spec");
	if (kerf_decoder_map(dec, spec)) {
		kerf_decoder_known_fields(dec, spec, fields);
		if (!kerf_decoder_get_string(dec, spec, "image", NULL))
			kerf_decoder_missing(dec, spec, "image");
	}
	kerf_decoder_pop(dec, m);
	return kerf_decoder_errors(dec) ? KERF_E_CONFIG : 0;
}

static const struct kerf_node_class_kind test_kinds[] = {
    {"test.example.com", "v1", "TestNodeClass"},
    {NULL, NULL, NULL},
};

static const struct kerf_provider_ops test_ops = {
    .node_class_kinds = test_kinds,
    .validate_node_class = test_validate,
};

static const char node_classes_yaml[] = "apiVersion: test.example.com/v1\n"
					"kind: TestNodeClass\n"
					"metadata:\n"
					"  name: good\n"
					"spec:\n"
					"  image: img-1\n"
					"status:\n"
					"  conditions:\n"
					"    - type: Ready\n"
					"      status: \"False\"\n"
					"---\n"
					"apiVersion: test.example.com/v1\n"
					"kind: TestNodeClass\n"
					"metadata:\n"
					"  name: Bad_Name\n"
					"spec:\n"
					"  imag: x\n"
					"---\n"
					"apiVersion: test.example.com/v1beta1\n"
					"kind: TestNodeClass\n"
					"metadata: {name: old}\n"
					"---\n"
					"apiVersion: test.example.com/v1\n"
					"kind: TestNodeClas\n"
					"metadata: {name: typo}\n"
					"---\n"
					"apiVersion: test.example.com/v1\n"
					"kind: TestNodeClassList\n"
					"items:\n"
					"  - apiVersion: test.example.com/v1\n"
					"    kind: TestNodeClass\n"
					"    metadata: {name: listed}\n"
					"    spec: {image: img-2}\n"
					"---\n"
					"apiVersion: acme.example.com/v1\n"
					"kind: AcmeNodeClass\n"
					"metadata: {name: nobody}\n"
					"---\n"
					"apiVersion: karpenter.sh/v1\n"
					"kind: TestNodeClass\n"
					"metadata: {name: wrong-group}\n"
					"---\n"
					"apiVersion: test.example.com/v1\n"
					"kind: NodePool\n"
					"metadata: {name: pool}\n";

/* The provider's diagnostics join the core's, positioned and sorted; valid classes are kept. */
START_TEST(node_class_dispatch)
{
	static const char *const want[] = {
	    "t.yaml:15:9: TestNodeClass/Bad_Name: metadata.name: \"Bad_Name\" is not a valid name: "
	    "a lowercase RFC 1123 subdomain of at most 253 characters ([a-z0-9.-], alphanumeric at "
	    "both ends) is required",
	    "t.yaml:17:3: TestNodeClass/Bad_Name: spec.imag: unknown field \"imag\" (did you mean "
	    "\"image\"?)",
	    "t.yaml:17:3: TestNodeClass/Bad_Name: spec.image: required field is missing",
	    "t.yaml:19:13: TestNodeClass/old: apiVersion: apiVersion "
	    "\"test.example.com/v1beta1\" is not supported: kerf reads test.example.com/v1",
	    "t.yaml:24:7: TestNodeClas/typo: kind: unknown kind \"TestNodeClas\" for apiVersion "
	    "\"test.example.com/v1\" (did you mean \"TestNodeClass\"?)",
	    "t.yaml:36:7: AcmeNodeClass/nobody: kind: no loaded provider serves node class kind "
	    "\"AcmeNodeClass\" of apiVersion \"acme.example.com/v1\" (the providers loaded serve "
	    "TestNodeClass (test))",
	    "t.yaml:40:7: TestNodeClass/wrong-group: kind: unknown kind \"TestNodeClass\" for "
	    "apiVersion \"karpenter.sh/v1\" (TestNodeClass is test.example.com/v1)",
	    "t.yaml:44:7: NodePool/pool: kind: unknown kind \"NodePool\" for apiVersion "
	    "\"test.example.com/v1\" (NodePool is karpenter.sh/v1)",
	};
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err;
	const struct kerf_node_class *nc;
	const struct kerf_doc_node *root;

	mf_set_init(&set);
	ck_assert_int_eq(mf_set_add_provider(&set, "test", &test_ops, &err), 0);
	ck_assert_int_eq(
	    mf_load_string(&set, "t.yaml", node_classes_yaml, strlen(node_classes_yaml), &d, &err),
	    KERF_E_CONFIG);
	if (d.n != sizeof(want) / sizeof(want[0]))
		dump(&d);
	ck_assert_uint_eq(d.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.n; i++)
		ck_assert_str_eq(d.items[i].message, want[i]);
	ck_assert_uint_eq(set.n_node_classes, 2);
	nc = set.node_classes[0];
	ck_assert_str_eq(nc->ref->group, "test.example.com");
	ck_assert_str_eq(nc->ref->kind, "TestNodeClass");
	ck_assert_str_eq(nc->ref->name, "good");
	ck_assert_str_eq(nc->meta->api_version, "test.example.com/v1");
	ck_assert_int_eq(nc->ready, KERF_READY_FALSE);
	root = kerf_doc_root(nc->doc);
	ck_assert_str_eq(kerf_doc_scalar(kerf_doc_get(kerf_doc_get(root, "spec"), "image")),
			 "img-1");
	ck_assert_uint_eq(kerf_doc_line(kerf_doc_get(root, "spec")), 6);
	ck_assert_str_eq(kerf_doc_file(root), "t.yaml");
	nc = set.node_classes[1];
	ck_assert_str_eq(nc->ref->name, "listed");
	ck_assert_int_eq(nc->ready, KERF_READY_UNKNOWN);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/* Without a provider the core reads no node class, but says why. */
START_TEST(node_class_kinds)
{
	static const char text[] = "apiVersion: test.example.com/v1\n"
				   "kind: TestNodeClass\n"
				   "metadata: {name: alone}\n"
				   "---\n"
				   "apiVersion: test.example.com/v1\n"
				   "kind: TestThing\n"
				   "metadata: {name: other}\n";
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err;

	mf_set_init(&set);
	ck_assert_int_eq(mf_load_string(&set, "t.yaml", text, strlen(text), &d, &err),
			 KERF_E_CONFIG);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.items[0].message,
			 "t.yaml:2:7: TestNodeClass/alone: kind: no loaded provider serves node "
			 "class kind \"TestNodeClass\" of apiVersion \"test.example.com/v1\" (no "
			 "provider is loaded)");
	/* Any other kind is someone else's document (a workload, say). */
	ck_assert_uint_eq(set.n_other, 1);
	ck_assert_uint_eq(set.n_node_classes, 0);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(provider_checks)
{
	static const struct kerf_node_class_kind no_version[] = {
	    {"test.example.com", NULL, "TestNodeClass"},
	    {NULL, NULL, NULL},
	};
	static const struct kerf_provider_ops no_validate = {.node_class_kinds = test_kinds};
	static const struct kerf_provider_ops bad_kind = {.node_class_kinds = no_version,
							  .validate_node_class = test_validate};
	static const struct kerf_provider_ops none = {0};
	struct mf_set set;
	struct kerf_error err;

	mf_set_init(&set);
	kerf_error_clear(&err);
	ck_assert_int_eq(mf_set_add_provider(&set, "lazy", &no_validate, &err),
			 KERF_E_PLUGIN_INCOMPLETE);
	ck_assert_str_eq(err.message, "plugin \"lazy\": serves node class kind TestNodeClass but "
				      "has no validate_node_class");
	ck_assert_int_eq(mf_set_add_provider(&set, "odd", &bad_kind, &err),
			 KERF_E_PLUGIN_INCOMPLETE);
	ck_assert_int_eq(mf_set_add_provider(&set, "none", &none, &err), 0);
	ck_assert_int_eq(mf_set_add_provider(&set, "first", &test_ops, &err), 0);
	ck_assert_int_eq(mf_set_add_provider(&set, "second", &test_ops, &err), 0);
	ck_assert_uint_eq(set.n_kinds, 1);
	ck_assert_str_eq(
	    mf_set_node_class_kind(&set, "test.example.com", "TestNodeClass")->provider, "first");
	ck_assert_ptr_null(mf_set_node_class_kind(&set, "other.example.com", "TestNodeClass"));
	mf_set_clear(&set);
}
END_TEST

/* ------------------------------------------------------------ API edges */

/*
 * Objects are unique by kind and name, across documents and files: a
 * NodePool repeated under one name (concatenated files) would add up its
 * limits and reuse NodeClaim names.
 */
START_TEST(duplicate_objects)
{
	static const char pool[] = "apiVersion: karpenter.sh/v1\n"
				   "kind: NodePool\n"
				   "metadata:\n"
				   "  name: %s\n"
				   "spec:\n"
				   "  limits: {cpu: 80}\n"
				   "  template:\n"
				   "    spec:\n"
				   "      nodeClassRef: {group: g, kind: K, name: nc}\n"
				   "      requirements: []\n";
	static const char claim[] = "apiVersion: karpenter.sh/v1\n"
				    "kind: NodeClaim\n"
				    "metadata: {name: c}\n"
				    "spec:\n"
				    "  nodeClassRef: {group: g, kind: K, name: nc}\n"
				    "  requirements: []\n";
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err = KERF_ERROR_INIT;
	char one[1024], two[4096];

	snprintf(one, sizeof(one), pool, "ray");
	snprintf(two, sizeof(two), "%s---\n%s---\n%s---\n%s", claim, one, claim, one);
	mf_set_init(&set);
	ck_assert_int_eq(mf_load_string(&set, "a.yaml", one, strlen(one), &d, &err), 0);
	ck_assert_int_eq(mf_load_string(&set, "b.yaml", two, strlen(two), &d, &err), KERF_E_CONFIG);
	ck_assert_uint_eq(set.n_nodepools, 1);
	ck_assert_uint_eq(set.n_nodeclaims, 1);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.items[0].message, "b.yaml:11:9: NodePool/ray: metadata.name: a NodePool "
					     "named \"ray\" is already defined at a.yaml:4:9");
	ck_assert_str_eq(d.items[1].message, "b.yaml:21:18: NodeClaim/c: metadata.name: a "
					     "NodeClaim named \"c\" is already defined at "
					     "b.yaml:3:18");
	ck_assert_str_eq(d.items[2].message, "b.yaml:29:9: NodePool/ray: metadata.name: a NodePool "
					     "named \"ray\" is already defined at a.yaml:4:9");
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/*
 * max_nodepools bounds the NodePools of a set across files: the first past
 * it is the one error, at its document, and no later one is kept.
 */
START_TEST(max_nodepools)
{
	static const char pool[] = "apiVersion: karpenter.sh/v1\n"
				   "kind: NodePool\n"
				   "metadata: {name: %s}\n"
				   "spec:\n"
				   "  template:\n"
				   "    spec:\n"
				   "      nodeClassRef: {group: g, kind: K, name: nc}\n"
				   "      requirements: []\n";
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err = KERF_ERROR_INIT;
	char a[512], b[512], c[512], two[2048];

	snprintf(a, sizeof(a), pool, "a");
	snprintf(b, sizeof(b), pool, "b");
	snprintf(c, sizeof(c), pool, "c");
	snprintf(two, sizeof(two), "%s---\n%s", b, c);
	mf_set_init(&set);
	set.max_nodepools = 1;
	ck_assert_int_eq(mf_load_string(&set, "a.yaml", a, strlen(a), &d, &err), 0);
	ck_assert_int_eq(mf_load_string(&set, "b.yaml", two, strlen(two), &d, &err), KERF_E_CONFIG);
	ck_assert_uint_eq(set.n_nodepools, 1);
	ck_assert_str_eq(set.nodepools[0]->meta->name, "a");
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.items[0].message, "b.yaml:1:1: NodePool/b: NodePool 2 is more than may "
					     "be loaded: 1 (raise settings.max_nodepools)");
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/* A set that counts other kinds keeps no tree: a file of Pods costs it nothing. */
START_TEST(other_kinds_counted)
{
	static const char text[] =
	    "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n"
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n"
	    "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n";
	struct mf_set set;
	struct kerf_error err = KERF_ERROR_INIT;

	mf_set_init(&set);
	set.other_counted = true;
	ck_assert_int_eq(mf_load_string(&set, "p.yaml", text, strlen(text), NULL, &err), 0);
	ck_assert_uint_eq(set.n_other, 0);
	ck_assert_uint_eq(set.n_streams, 0);
	ck_assert_uint_eq(set.n_other_kinds, 2);
	ck_assert_str_eq(set.other_kinds[0].kind, "Pod");
	ck_assert_uint_eq(set.other_kinds[0].n, 2);
	ck_assert_str_eq(set.other_kinds[1].kind, "Deployment");
	ck_assert_uint_eq(set.other_kinds[1].n, 1);
	mf_set_clear(&set);

	/* Otherwise the documents are kept, and their tree with them. */
	mf_set_init(&set);
	ck_assert_int_eq(mf_load_string(&set, "p.yaml", text, strlen(text), NULL, &err), 0);
	ck_assert_uint_eq(set.n_other, 3);
	ck_assert_uint_eq(set.n_streams, 1);
	ck_assert_uint_eq(set.n_other_kinds, 0);
	mf_set_clear(&set);
}
END_TEST

START_TEST(load_string_and_single_parsers)
{
	static const char good[] = "apiVersion: karpenter.sh/v1\n"
				   "kind: NodePool\n"
				   "metadata: {name: s}\n"
				   "spec:\n"
				   "  template:\n"
				   "    spec:\n"
				   "      nodeClassRef: {group: g, kind: K, name: nc}\n"
				   "      requirements: []\n";
	static const char other[] = "apiVersion: karpenter.sh/v1\n"
				    "kind: NodePool\n"
				    "metadata: {name: t}\n"
				    "spec:\n"
				    "  template:\n"
				    "    spec:\n"
				    "      nodeClassRef: {group: g, kind: K, name: nc}\n"
				    "      requirements: []\n";
	static const char bad_yaml[] = "a: [1, 2\n";
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err = KERF_ERROR_INIT;
	struct yt_stream *st;
	struct kerf_nodepool *np;
	struct kerf_nodeclaim *nc;

	mf_set_init(&set);
	ck_assert_int_eq(mf_load_string(&set, "inline.yaml", good, strlen(good), &d, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 1);
	/* Appends: a second load adds to the set; NULL diags is allowed. */
	ck_assert_int_eq(mf_load_string(&set, "other.yaml", other, strlen(other), NULL, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 2);
	ck_assert_int_eq(mf_load_string(&set, "broken.yaml", bad_yaml, strlen(bad_yaml), &d, &err),
			 KERF_E_PARSE);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(mf_load_file(&set, MDIR "/does-not-exist.yaml", &d, &err), KERF_E_IO);
	mf_set_clear(&set);

	ck_assert_int_eq(yt_parse_string("one.yaml", good, strlen(good), &st, &err), 0);
	ck_assert_int_eq(mf_parse_nodepool(st->docs[0].root, &np, NULL), 0);
	ck_assert_str_eq(np->meta->name, "s");
	kerf_nodepool_free(np);
	/* The wrong parser for the document: kind and apiVersion are checked. */
	ck_assert_int_eq(mf_parse_nodeclaim(st->docs[0].root, &nc, &d), KERF_E_CONFIG);
	ck_assert_ptr_null(nc);
	ck_assert_uint_ge(d.n, 2);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "one.yaml:2:7: NodeClaim/s: kind: must be "
							 "\"NodeClaim\", not \"NodePool\""));
	mf_diags_clear(&d);
	yt_stream_free(st);
}
END_TEST

START_TEST(patterns)
{
	char why[256];

	ck_assert(mf_duration_pattern("720h", true));
	ck_assert(mf_duration_pattern("1h30m10s", false));
	ck_assert(mf_duration_pattern("Never", true));
	ck_assert(!mf_duration_pattern("Never", false));
	ck_assert(!mf_duration_pattern("1d", true));
	ck_assert(!mf_duration_pattern("1.5h", true));
	ck_assert(!mf_duration_pattern("", true));
	ck_assert(mf_budget_duration_pattern("8h"));
	ck_assert(mf_budget_duration_pattern("1h30m"));
	ck_assert(mf_budget_duration_pattern("10m0s"));
	ck_assert(mf_budget_duration_pattern("1h0s"));
	ck_assert(!mf_budget_duration_pattern("30s"));
	ck_assert(!mf_budget_duration_pattern("1h30m10s"));
	ck_assert(mf_budget_nodes_pattern("0"));
	ck_assert(mf_budget_nodes_pattern("100%"));
	ck_assert(mf_budget_nodes_pattern("7%"));
	ck_assert(mf_budget_nodes_pattern("12345"));
	ck_assert(!mf_budget_nodes_pattern("101%"));
	ck_assert(!mf_budget_nodes_pattern("-1"));
	ck_assert(!mf_budget_nodes_pattern("%"));
	ck_assert(mf_dns_subdomain("ray-worker.pool"));
	ck_assert(!mf_dns_subdomain("Ray"));
	ck_assert(!mf_dns_subdomain("-a"));
	ck_assert(mf_cron_valid("0 9 * * mon-fri", why, sizeof(why)));
	ck_assert(mf_cron_valid("@annually", why, sizeof(why)));
	ck_assert(mf_cron_valid("*/5 * ? * *", why, sizeof(why)));
	ck_assert(mf_cron_valid("0 0 1 JAN,jul 0", why, sizeof(why)));
	ck_assert(mf_cron_valid("30  2  *  *  6", why, sizeof(why)));
	ck_assert(!mf_cron_valid("0 9 * *", why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "expected 5 fields"));
	ck_assert(!mf_cron_valid("0 9 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("60 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * 0 * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * * 13 *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * * * 7", why, sizeof(why)));
	ck_assert(!mf_cron_valid("5-1 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("*/0 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("@every 5m", why, sizeof(why)));
	ck_assert(!mf_cron_valid("TZ=UTC 0 9 * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("1,,2 * * * *", why, sizeof(why)));
}
END_TEST

START_TEST(times)
{
	int64_t ms;

	ck_assert(mf_parse_time("1970-01-01T00:00:00Z", &ms));
	ck_assert_int_eq(ms, 0);
	ck_assert(mf_parse_time("2024-02-29T12:00:00.123Z", &ms));
	ck_assert_int_eq(ms, 1709208000123LL);
	ck_assert(mf_parse_time("2024-02-02T21:54:34+02:00", &ms));
	ck_assert_int_eq(ms, 1706903674000LL);
	ck_assert(!mf_parse_time("2024-02-30", &ms));
	ck_assert(!mf_parse_time("2024-13-01T00:00:00Z", &ms));
	ck_assert(!mf_parse_time("2024-01-01T00:00:00", &ms));
	ck_assert(!mf_parse_time("2024-01-01 00:00:00Z", &ms));
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_corpus);
	tcase_add_test(tc, good_corpus);
	tcase_add_test(tc, key_messages);
	tcase_add_test(tc, nodepool_defaults_and_budgets);
	tcase_add_test(tc, nodeclaim_list_and_others);
	tcase_add_test(tc, node_class_dispatch);
	tcase_add_test(tc, node_class_kinds);
	tcase_add_test(tc, provider_checks);
	tcase_add_test(tc, load_string_and_single_parsers);
	tcase_add_test(tc, duplicate_objects);
	tcase_add_test(tc, max_nodepools);
	tcase_add_test(tc, other_kinds_counted);
	tcase_add_test(tc, patterns);
	tcase_add_test(tc, times);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
