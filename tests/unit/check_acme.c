/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_acme.c - the out-of-tree example provider (examples/plugins/
 * acme-cloud) as kerfctl uses it, built here from its source: its own node
 * class kind validated with positions, its own labels honoured, its GPU
 * machines kept for the pods that ask for them.  Nothing in the core names
 * Acme; KERF_PLUGIN_PATH is all kerfctl is told.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/slurp.h"

#define KERFCTL KERF_TEST_BUILDDIR "/core/kerfctl"
#define ACME_DIR KERF_TEST_BUILDDIR "/tests/acme/.libs"
#define EXAMPLE KERF_TEST_SRCDIR "/examples/plugins/acme-cloud/"

struct run {
	int status;
	char *out;
	char *err;
};

/* Runs `kerfctl ARGS`, with acme on the plugin path when `acme`. */
static void kerfctl(struct run *r, bool acme, const char *args)
{
	char cmd[4096];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "KERF_PLUGIN_PATH='%s' '%s' %s",
				  acme ? ACME_DIR : "", KERFCTL, args),
			 (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

START_TEST(validate_reports_positions)
{
	static const char *const want[] = {
	    EXAMPLE "nodeclass-bad.yaml:7:3: AcmeNodeClass/broken: spec.network: required field "
		    "is missing\n",
	    EXAMPLE
	    "nodeclass-bad.yaml:7:10: AcmeNodeClass/broken: spec.image: \"ubuntu-24.04\" is "
	    "not an Acme image (acme-image-VERSION)\n",
	    EXAMPLE "nodeclass-bad.yaml:8:3: AcmeNodeClass/broken: spec.netwrok: unknown field "
		    "\"netwrok\" (did you mean \"network\"?)\n",
	    EXAMPLE "nodeclass-bad.yaml:9:12: AcmeNodeClass/broken: spec.maxPods: maxPods (500) "
		    "must be between 10 and 250\n",
	};
	struct run r;
	const char *at;

	kerfctl(&r, true, "validate -f " EXAMPLE "nodeclass-bad.yaml");
	ck_assert_int_eq(r.status, 1);
	at = r.err;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_msg(strncmp(at, want[i], strlen(want[i])) == 0, "want %s\ngot %s",
			      want[i], r.err);
		at += strlen(want[i]);
	}
	ck_assert_str_eq(at, "4 errors\n");
	run_free(&r);

	kerfctl(&r, true, "validate -f " EXAMPLE "nodepool.yaml");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, EXAMPLE "nodepool.yaml: ok (1 NodePool, 1 AcmeNodeClass)\n");
	run_free(&r);
}
END_TEST

/* Without the plugin nothing can read an AcmeNodeClass, and kerfctl says so where it is. */
START_TEST(validate_without_provider)
{
	struct run r;

	kerfctl(&r, false, "validate -f " EXAMPLE "nodepool.yaml");
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, EXAMPLE
			     "nodepool.yaml:3:7: AcmeNodeClass/default: kind: no "
			     "loaded provider serves node class kind "
			     "\"AcmeNodeClass\" of apiVersion \"acme.example.com/v1\"") != NULL,
		      "%s", r.err);
	run_free(&r);
}
END_TEST

/* The claim holding pod `name` ("default/NAME"), from kerfctl's JSON. */
static const char *type_of(const json_t *doc, const char *name)
{
	const json_t *claims = json_object_get(doc, "nodeclaims"), *c, *p;
	size_t i, k;

	json_array_foreach(claims, i, c)
	{
		json_array_foreach(json_object_get(c, "pods"), k, p)
		{
			if (strcmp(json_string_value(p), name) == 0)
				return str_at(c, "instance_type");
		}
	}
	ck_abort_msg("pod %s is on no NodeClaim", name);
	return NULL;
}

START_TEST(simulate_uses_acme_labels_and_classes)
{
	struct run r;
	json_t *doc;

	kerfctl(&r, true, "simulate -o json -f " EXAMPLE "nodepool.yaml -f " EXAMPLE "pods.yaml");
	ck_assert_msg(r.status == 0, "%s", r.err);
	doc = json_loads(r.out, 0, NULL);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "unschedulable")), 0);
	/* A GPU request, and a selector on Acme's gpu-count: the GPU machine. */
	ck_assert_str_eq(type_of(doc, "default/train"), "g1.large");
	ck_assert_str_eq(type_of(doc, "default/render"), "g1.large");
	/* Acme's family label is well known: the NodePool need not define it. */
	ck_assert_str_eq(type_of(doc, "default/batch"), "m1.xlarge");
	/* A pod asking for nothing special never gets the GPU machine. */
	ck_assert_str_ne(type_of(doc, "default/web"), "g1.large");
	json_decref(doc);
	run_free(&r);
}
END_TEST

static Suite *acme_suite(void)
{
	Suite *s = suite_create("acme");
	TCase *tc = tcase_create("kerfctl");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, validate_reports_positions);
	tcase_add_test(tc, validate_without_provider);
	tcase_add_test(tc, simulate_uses_acme_labels_and_classes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acme_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
