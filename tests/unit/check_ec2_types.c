/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_types.c - the ec2 provider's instance types from
 * DescribeInstanceTypes and DescribeInstanceTypeOfferings pages shaped as
 * AWS documents them (tests/data/ec2), checked against the sim plugin's
 * catalogue, which was generated from Karpenter's published tables: for a
 * sample of types (burstable, NVMe, NVIDIA and AMD GPUs, Neuron, EFA with
 * four network cards, bare metal, Xen) every label and every figure of
 * capacity and allocatable must be the same, with and without a node
 * class that changes them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include <kerf/plugin.h>

#include "cfg.h"
#include "ec2_catalogue.h"
#include "ec2_types.h"
#include "ec2_xml.h"
#include "loader.h"
#include "manifest.h"
#include "../common/sim_host.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/plugins/sim/.libs"
#define CATALOGUE KERF_TEST_SRCDIR "/data/ec2-catalogue.tsv"
#define DATA KERF_TEST_DATADIR "/ec2/"

static const char *const sample[] = {"t3.micro",  "c5.2xlarge",	 "m5d.large",
				     "g5.xlarge", "inf2.xlarge", "p4d.24xlarge",
				     "a1.metal",  "g4ad.xlarge", "c1.medium"};
#define N_SAMPLE (sizeof(sample) / sizeof(sample[0]))

static xmlDoc *load(const char *name)
{
	char path[512];
	xmlDoc *d;

	snprintf(path, sizeof(path), DATA "%s", name);
	d = xmlReadFile(path, NULL, XML_PARSE_NONET);
	ck_assert_msg(d != NULL, "cannot read %s", path);
	return d;
}

/* Both pages of the fixture, following nextToken as the provider does. */
static void read_types(struct ec2_itypes *t)
{
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *p1 = load("describe-instance-types-1.xml"), *p2, *off;
	char *token = ec2_xml_next_token(p1);

	ck_assert_ptr_nonnull(token);
	ck_assert_str_eq(token, "AAEAAWzdl0Ekl7Yd0eOwXvB6fJR8CRs");
	free(token);
	p2 = load("describe-instance-types-2.xml");
	ck_assert_ptr_null(ec2_xml_next_token(p2));
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(ec2_itypes_add_page(t, p1, &err), 0);
	ck_assert_int_eq(ec2_itypes_add_page(t, p2, &err), 0);
	ec2_itypes_sort(t);
	off = load("describe-instance-type-offerings.xml");
	ck_assert_int_eq(ec2_itypes_add_offerings(t, off, &err), 0);
	xmlFreeDoc(p1);
	xmlFreeDoc(p2);
	xmlFreeDoc(off);
}

static struct loader *ldr;
static const struct loader_plugin *plug;
static void *sim;

static struct kerf_instance_type_list *sim_types(const struct kerf_node_class *nc)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_instance_type_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	sim_host_reset(CATALOGUE);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_int_eq(loader_open(ldr, "sim", KERF_KIND_PROVIDER, &plug, &err), 0);
	ck_assert_int_eq(loader_create(plug, &sim_fake_host, &sim, &err), 0);
	ck_assert_int_eq(plug->provider.get_instance_types(sim, nc, &l, &err), 0);
	loader_destroy(plug, sim);
	loader_free(ldr);
	return l;
}

static const struct kerf_instance_type *find(const struct kerf_instance_type_list *l,
					     const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i]->name, name) == 0)
			return l->items[i];
	ck_abort_msg("sim has no %s", name);
	return NULL;
}

static const struct kerf_requirement *req(const struct kerf_instance_type *t, const char *key)
{
	for (size_t i = 0; i < t->requirements.n; i++)
		if (strcmp(t->requirements.items[i]->key, key) == 0)
			return t->requirements.items[i];
	return NULL;
}

static void same_resources(const char *type, const char *what, const struct kerf_resources *a,
			   const struct kerf_resources *b)
{
	ck_assert_msg(a->cpu_millis == b->cpu_millis && a->memory_bytes == b->memory_bytes &&
			  a->ephemeral_bytes == b->ephemeral_bytes && a->pods == b->pods &&
			  a->present == b->present,
		      "%s %s: ec2 cpu %lld mem %lld eph %lld pods %lld, sim %lld %lld %lld %lld",
		      type, what, (long long)a->cpu_millis, (long long)a->memory_bytes,
		      (long long)a->ephemeral_bytes, (long long)a->pods, (long long)b->cpu_millis,
		      (long long)b->memory_bytes, (long long)b->ephemeral_bytes,
		      (long long)b->pods);
	ck_assert_msg(a->n_ext == b->n_ext, "%s %s: %u extended resources, sim %u", type, what,
		      a->n_ext, b->n_ext);
	for (uint32_t i = 0; i < a->n_ext; i++) {
		ck_assert_str_eq(a->ext[i].name, b->ext[i].name);
		ck_assert_msg(a->ext[i].value == b->ext[i].value, "%s %s %s: %lld, sim %lld", type,
			      what, a->ext[i].name, (long long)a->ext[i].value,
			      (long long)b->ext[i].value);
	}
}

static void compare(const struct kerf_node_class *nc, const struct ec2_node_class *enc)
{
	struct kerf_instance_type_list *l = sim_types(nc);
	struct ec2_itypes t;

	read_types(&t);
	ck_assert_uint_eq(t.n, N_SAMPLE);
	for (size_t i = 0; i < N_SAMPLE; i++) {
		const struct ec2_itype *e = ec2_itypes_find(&t, sample[i]);
		const struct kerf_instance_type *s = find(l, sample[i]);
		struct kerf_instance_type *k = kerf_instance_type_new();

		ck_assert_ptr_nonnull(e);
		ec2_itype_fill(e, "us-east-1", enc, 7500, k);
		/* Every label the sim gives but zone and capacity type, which are offerings'. */
		for (size_t j = 0; j < s->requirements.n; j++) {
			const struct kerf_requirement *sr = s->requirements.items[j];
			const struct kerf_requirement *er = req(k, sr->key);

			if (strcmp(sr->key, "topology.kubernetes.io/zone") == 0 ||
			    strcmp(sr->key, "karpenter.sh/capacity-type") == 0)
				continue;
			ck_assert_msg(er != NULL, "%s: no label %s", sample[i], sr->key);
			ck_assert_msg(er->op == sr->op && er->n_values == sr->n_values,
				      "%s: %s op %d/%zu values, sim %d/%zu", sample[i], sr->key,
				      er->op, er->n_values, sr->op, sr->n_values);
			for (size_t v = 0; v < sr->n_values; v++)
				ck_assert_msg(strcmp(er->values[v], sr->values[v]) == 0,
					      "%s: %s=%s, sim %s", sample[i], sr->key,
					      er->values[v], sr->values[v]);
		}
		ck_assert_uint_eq(k->requirements.n, s->requirements.n - 2);
		same_resources(sample[i], "capacity", &k->capacity, &s->capacity);
		/*
		 * The catalogue's arm64 rows (every one of them) hold 59 MiB less
		 * memory than the EKS formulas give (less under a percentage
		 * eviction threshold); kerf has no source
		 * for that difference, so it is not copied and arm64 memory is left
		 * out of the comparison.
		 */
		if (strcmp(e->arch, "arm64") == 0) {
			int64_t more = k->allocatable.memory_bytes - s->allocatable.memory_bytes;
			ck_assert(more > 0 && more <= 59 * 1024 * 1024);
			k->allocatable.memory_bytes = s->allocatable.memory_bytes;
		}
		same_resources(sample[i], "allocatable", &k->allocatable, &s->allocatable);
		ck_assert_uint_eq(k->classes, s->classes);
		kerf_instance_type_free(k);
	}
	ec2_itypes_clear(&t);
	kerf_instance_type_list_free(l);
}

START_TEST(sample_equals_catalogue)
{
	compare(NULL, NULL);
}
END_TEST

START_TEST(sample_equals_catalogue_under_node_class)
{
	const char *dirs[] = {PLUGIN_DIR};
	struct kerf_error err = KERF_ERROR_INIT;
	struct mf_set set;
	struct mf_diags d;
	struct ec2_node_class *enc = NULL;

	/* The node class read as kerfd reads it with an EC2NodeClass provider. */
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_int_eq(loader_open(ldr, "sim", KERF_KIND_PROVIDER, &plug, &err), 0);
	mf_set_init(&set);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(mf_set_add_provider(&set, "sim", &plug->provider, &err), 0);
	ck_assert_int_eq(mf_load_file(&set, DATA "nodeclass-tuned.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_node_classes, 1);
	ck_assert_int_eq(ec2_node_class_parse(set.node_classes[0], &enc, &err), 0);
	loader_free(ldr);
	compare(set.node_classes[0], enc);
	ec2_node_class_free(enc);
	mf_set_clear(&set);
}
END_TEST

START_TEST(offerings_give_zones)
{
	struct ec2_itypes t;
	const struct ec2_itype *p4d, *c5;

	read_types(&t);
	p4d = ec2_itypes_find(&t, "p4d.24xlarge");
	c5 = ec2_itypes_find(&t, "c5.2xlarge");
	ck_assert_uint_eq(p4d->n_zones, 1);
	ck_assert_str_eq(p4d->zones[0], "us-east-1b");
	ck_assert_uint_eq(c5->n_zones, 3);
	ck_assert(c5->spot && c5->on_demand);
	ck_assert_int_eq(p4d->fig.eni_pods, 737);
	ck_assert_int_eq(p4d->fig.efa_interfaces, 4);
	ec2_itypes_clear(&t);
}
END_TEST

START_TEST(bad_pages)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_itypes t = {0};
	static const char *const pages[] = {
	    "<Response><Errors><Error><Code>AuthFailure</Code></Error></Errors></Response>",
	    "<DescribeInstanceTypesResponse><instanceTypeSet><item><vCpuInfo><defaultVCpus>2"
	    "</defaultVCpus></vCpuInfo></item></instanceTypeSet></DescribeInstanceTypesResponse>",
	    "<DescribeInstanceTypesResponse><instanceTypeSet><item><instanceType>x1.large"
	    "</instanceType></item></instanceTypeSet></DescribeInstanceTypesResponse>",
	};

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		xmlDoc *d = xmlReadMemory(pages[i], (int)strlen(pages[i]), NULL, NULL, 0);
		kerf_error_clear(&err);
		ck_assert_int_eq(ec2_itypes_add_page(&t, d, &err), KERF_E_PARSE);
		ck_assert(strstr(err.message, "DescribeInstanceTypes") != NULL);
		xmlFreeDoc(d);
	}
	ck_assert_uint_eq(t.n, 0);
	ec2_itypes_clear(&t);
}
END_TEST

START_TEST(usd)
{
	int64_t m;

	ck_assert(ec2_parse_usd("0.0850000000", &m) && m == 85000);
	ck_assert(ec2_parse_usd("3.06", &m) && m == 3060000);
	ck_assert(ec2_parse_usd("0.0000001", &m) && m == 1);
	ck_assert(ec2_parse_usd("12", &m) && m == 12000000);
	ck_assert(!ec2_parse_usd("", &m));
	ck_assert(!ec2_parse_usd("-1", &m));
	ck_assert(!ec2_parse_usd("1.2.3", &m));
}
END_TEST

START_TEST(catalogue_sorted)
{
	ck_assert_uint_gt(ec2_catalogue_len, 1000);
	for (size_t i = 1; i < ec2_catalogue_len; i++)
		ck_assert_msg(strcmp(ec2_catalogue[i - 1].name, ec2_catalogue[i].name) < 0,
			      "%s before %s", ec2_catalogue[i - 1].name, ec2_catalogue[i].name);
	ck_assert_int_eq(ec2_catalogue_find("c5.2xlarge")->on_demand, 340000);
	ck_assert_ptr_null(ec2_catalogue_find("c5.huge"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_types");
	TCase *tc = tcase_create("types");

	tcase_add_test(tc, sample_equals_catalogue);
	tcase_add_test(tc, sample_equals_catalogue_under_node_class);
	tcase_add_test(tc, offerings_give_zones);
	tcase_add_test(tc, bad_pages);
	tcase_add_test(tc, usd);
	tcase_add_test(tc, catalogue_sorted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
