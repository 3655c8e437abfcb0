/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ec2_launch.c - the requests behind EC2NodeClass resolution and
 * launches (selector filters, AMI alias parameters, launch template data
 * and its name, CreateFleet overrides and allocation strategy, the
 * ClientToken) and the readers of AWS-shaped answers (tests/data/ec2).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "ec2_launch.h"

#define DATA KERF_TEST_DATADIR "/ec2/"

static xmlDoc *load(const char *name)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;
	xmlDoc *d = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	ck_assert_int_eq(aws_xml_parse(buf, (size_t)n, &d, &err), 0);
	free(buf);
	return d;
}

static const char *param(const struct aws_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return p->items[i].value;
	return NULL;
}

static size_t count_prefix(const struct aws_params *p, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += strncmp(p->items[i].name, prefix, strlen(prefix)) == 0;
	return n;
}

START_TEST(selector_filters)
{
	struct ec2_selector_term t = {0};
	struct aws_params p = {0};

	kerf_labels_set(&t.tags, "karpenter.sh/discovery", "demo");
	kerf_labels_set(&t.tags, "tier", "*");
	ec2_term_params(&t, EC2_SUBNETS, &p);
	ck_assert_str_eq(param(&p, "Filter.1.Name"), "tag:karpenter.sh/discovery");
	ck_assert_str_eq(param(&p, "Filter.1.Value.1"), "demo");
	/* "*" matches any value: a tag-key filter. */
	ck_assert_str_eq(param(&p, "Filter.2.Name"), "tag-key");
	ck_assert_str_eq(param(&p, "Filter.2.Value.1"), "tier");
	aws_params_clear(&p);
	kerf_labels_clear(&t.tags);

	t.id = "sg-0123";
	ec2_term_params(&t, EC2_SECURITY_GROUPS, &p);
	ck_assert_str_eq(param(&p, "GroupId.1"), "sg-0123");
	aws_params_clear(&p);
	t.id = NULL;
	t.name = "eks-cluster-sg-demo";
	ec2_term_params(&t, EC2_SECURITY_GROUPS, &p);
	ck_assert_str_eq(param(&p, "Filter.1.Name"), "group-name");
	aws_params_clear(&p);

	/* An image by name alone: the account's and Amazon's, only available ones. */
	t.name = "golden-*";
	ec2_term_params(&t, EC2_IMAGES, &p);
	ck_assert_str_eq(param(&p, "Filter.1.Name"), "name");
	ck_assert_str_eq(param(&p, "Filter.1.Value.1"), "golden-*");
	ck_assert_str_eq(param(&p, "Owner.1"), "self");
	ck_assert_str_eq(param(&p, "Owner.2"), "amazon");
	ck_assert_str_eq(param(&p, "Filter.2.Name"), "state");
	aws_params_clear(&p);
	t.owner = "111122223333";
	ec2_term_params(&t, EC2_IMAGES, &p);
	ck_assert_str_eq(param(&p, "Owner.1"), "111122223333");
	ck_assert_ptr_null(param(&p, "Owner.2"));
	aws_params_clear(&p);
}
END_TEST

START_TEST(resolution_answers)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_resolved r = {0};
	xmlDoc *s = load("describe-subnets.xml"), *g = load("describe-security-groups.xml"),
	       *i = load("describe-images.xml");

	ck_assert_int_eq(ec2_add_subnets(&r, s, &err), 0);
	ck_assert_int_eq(ec2_add_subnets(&r, s, &err), 0); /* a second term finding the same */
	ck_assert_uint_eq(r.n_subnets, 3);
	ck_assert_str_eq(ec2_resolved_subnet(&r, "us-east-1a")->id, "subnet-0a1b2c3d4e5f60001");
	ck_assert_str_eq(ec2_resolved_subnet(&r, "us-east-1b")->zone_id, "use1-az2");
	ck_assert_ptr_null(ec2_resolved_subnet(&r, "us-east-1c"));
	ck_assert_int_eq(ec2_add_groups(&r, g, &err), 0);
	ck_assert_uint_eq(r.n_groups, 1);
	ck_assert_str_eq(r.groups[0].name, "eks-cluster-sg-demo");
	ck_assert_int_eq(ec2_add_images(&r, i, &err), 0);
	ec2_resolved_pick_images(&r);
	ck_assert_uint_eq(r.n_images, 2);
	ck_assert_str_eq(ec2_resolved_image(&r, "amd64")->id, "ami-0aaaaaaaaaaaaaa02");
	ck_assert_str_eq(ec2_resolved_image(&r, "arm64")->id, "ami-0bbbbbbbbbbbbbb01");
	ck_assert_int_eq(ec2_add_groups(&r, s, &err), KERF_E_PARSE);
	ck_assert(strstr(err.message, "securityGroupInfo") != NULL);
	xmlFreeDoc(s);
	xmlFreeDoc(g);
	xmlFreeDoc(i);
	ec2_resolved_clear(&r);
}
END_TEST

START_TEST(alias_parameters)
{
	static const struct {
		const char *alias, *arch, *want;
	} cases[] = {
	    {"al2023@latest", "amd64",
	     "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/"
	     "image_id"},
	    {"al2023@v20241115", "arm64",
	     "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard/"
	     "amazon-eks-node-al2023-arm64-standard-1.31-v20241115/image_id"},
	    {"al2@latest", "arm64",
	     "/aws/service/eks/optimized-ami/1.31/amazon-linux-2-arm64/recommended/image_id"},
	    {"al2@v20241115", "amd64",
	     "/aws/service/eks/optimized-ami/1.31/amazon-linux-2/amazon-eks-node-1.31-v20241115/"
	     "image_id"},
	    {"bottlerocket@latest", "amd64",
	     "/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_id"},
	    {"bottlerocket@v1.26.2", "arm64",
	     "/aws/service/bottlerocket/aws-k8s-1.31/arm64/1.26.2/image_id"},
	    {"windows2022@latest", "amd64",
	     "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/"
	     "image_id"},
	};
	struct kerf_error err = KERF_ERROR_INIT;
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(
		    ec2_alias_parameter(cases[i].alias, "1.31", cases[i].arch, &out, &err), 0);
		ck_assert_str_eq(out, cases[i].want);
		free(out);
	}
	ck_assert_int_eq(ec2_alias_parameter("windows2019@latest", "1.31", "arm64", &out, &err),
			 KERF_E_NOTFOUND);
	ck_assert_int_eq(ec2_alias_parameter("ubuntu@latest", "1.31", "amd64", &out, &err),
			 KERF_E_INVALID);
}
END_TEST

static void default_class(struct ec2_node_class *nc)
{
	memset(nc, 0, sizeof(*nc));
	nc->associate_public_ip_address = -1;
	nc->ami_family = "AL2023";
}

START_TEST(template_data_and_name)
{
	const char *groups[] = {"sg-1", "sg-2"};
	struct ec2_node_class nc;
	struct ec2_template_input in = {.nc = &nc,
					.cluster = "demo",
					.image_id = "ami-1",
					.user_data = "hello",
					.instance_profile = "KarpenterNodeInstanceProfile",
					.n_groups = 2,
					.group_ids = groups};
	struct aws_params d = {0}, d2 = {0};
	char *name, *name2;

	default_class(&nc);
	ec2_template_params(&in, &d, &name);
	ck_assert_str_eq(param(&d, "LaunchTemplateData.ImageId"), "ami-1");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.UserData"), "aGVsbG8=");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.IamInstanceProfile.Name"),
			 "KarpenterNodeInstanceProfile");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.SecurityGroupId.2"), "sg-2");
	/* IMDSv2 required by default. */
	ck_assert_str_eq(param(&d, "LaunchTemplateData.MetadataOptions.HttpTokens"), "required");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit"),
			 "1");
	/* AL2023's 20 GiB encrypted gp3 root volume when the class names none. */
	ck_assert_str_eq(param(&d, "LaunchTemplateData.BlockDeviceMapping.1.DeviceName"),
			 "/dev/xvda");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize"), "20");
	ck_assert_str_eq(param(&d, "LaunchTemplateData.BlockDeviceMapping.1.Ebs.Encrypted"),
			 "true");
	ck_assert(strncmp(name, "kerf/demo/", 10) == 0 && strlen(name) == 30);

	/* The same options, the same name: the template is reused. */
	ec2_template_params(&in, &d2, &name2);
	ck_assert_str_eq(name, name2);
	aws_params_clear(&d2);
	free(name2);
	/* Another image, another template. */
	in.image_id = "ami-2";
	ec2_template_params(&in, &d2, &name2);
	ck_assert_str_ne(name, name2);
	aws_params_clear(&d2);
	free(name2);
	/* A public address moves the groups onto the interface. */
	nc.associate_public_ip_address = 1;
	nc.ami_family = "Bottlerocket";
	ec2_template_params(&in, &d2, &name2);
	ck_assert_str_eq(param(&d2, "LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1"),
			 "sg-1");
	ck_assert_ptr_null(param(&d2, "LaunchTemplateData.SecurityGroupId.1"));
	ck_assert_str_eq(param(&d2, "LaunchTemplateData.BlockDeviceMapping.2.DeviceName"),
			 "/dev/xvdb");
	aws_params_clear(&d2);
	free(name2);
	aws_params_clear(&d);
	free(name);
}
END_TEST

START_TEST(fleet_request)
{
	struct ec2_override o[70];
	struct kerf_labels tags = {0};
	struct aws_params p = {0};
	char types[70][16];

	for (size_t i = 0; i < 70; i++) {
		snprintf(types[i], sizeof(types[i]), "t%zu.large", i);
		o[i] = (struct ec2_override){.template_name = i % 2 ? "lt-arm" : "lt-x86",
					     .type = types[i],
					     .subnet = "subnet-1",
					     .zone = "us-east-1a",
					     .price = (int64_t)i};
	}
	kerf_labels_set(&tags, "karpenter.sh/nodeclaim", "general-abcde");
	ec2_fleet_params("kerf-token", KERF_CAPACITY_SPOT, 70, o, &tags, &p);
	ck_assert_str_eq(param(&p, "Type"), "instant");
	ck_assert_str_eq(param(&p, "ClientToken"), "kerf-token");
	ck_assert_str_eq(param(&p, "TargetCapacitySpecification.DefaultTargetCapacityType"),
			 "spot");
	ck_assert_str_eq(param(&p, "SpotOptions.AllocationStrategy"), "price-capacity-optimized");
	ck_assert_ptr_null(param(&p, "OnDemandOptions.AllocationStrategy"));
	/* At most 60 overrides, one config per template. */
	ck_assert_uint_eq(count_prefix(&p, "LaunchTemplateConfigs.1.Overrides.") / 3 +
			      count_prefix(&p, "LaunchTemplateConfigs.2.Overrides.") / 3,
			  EC2_MAX_OVERRIDES);
	ck_assert_str_eq(
	    param(&p, "LaunchTemplateConfigs.2.LaunchTemplateSpecification.LaunchTemplateName"),
	    "lt-arm");
	ck_assert_str_eq(param(&p, "LaunchTemplateConfigs.1.Overrides.2.InstanceType"), "t2.large");
	ck_assert_str_eq(param(&p, "TagSpecification.1.ResourceType"), "instance");
	ck_assert_str_eq(param(&p, "TagSpecification.1.Tag.1.Value"), "general-abcde");
	aws_params_clear(&p);
	ec2_fleet_params("kerf-token", KERF_CAPACITY_ON_DEMAND, 1, o, &tags, &p);
	ck_assert_str_eq(param(&p, "OnDemandOptions.AllocationStrategy"), "lowest-price");
	ck_assert_str_eq(param(&p, "TargetCapacitySpecification.DefaultTargetCapacityType"),
			 "on-demand");
	aws_params_clear(&p);
	kerf_labels_clear(&tags);
}
END_TEST

START_TEST(client_token_per_claim)
{
	struct kerf_nodeclaim *a = kerf_nodeclaim_new(), *b = kerf_nodeclaim_new();
	char *ta, *ta2, *tb;

	a->meta->name = strdup("general-abcde");
	a->meta->uid = strdup("uid-1");
	b->meta->name = strdup("general-fghij");
	b->meta->uid = strdup("uid-2");
	ta = ec2_client_token(a);
	ta2 = ec2_client_token(a);
	tb = ec2_client_token(b);
	ck_assert_str_eq(ta, ta2);
	ck_assert_str_ne(ta, tb);
	ck_assert_uint_le(strlen(ta), 64);
	free(ta);
	free(ta2);
	free(tb);
	kerf_nodeclaim_free(a);
	kerf_nodeclaim_free(b);
}
END_TEST

START_TEST(fleet_answer)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_fleet_result r;
	xmlDoc *d = load("create-fleet.xml"), *bad = load("describe-subnets.xml");

	ck_assert_int_eq(ec2_fleet_read(d, &r, &err), 0);
	ck_assert_str_eq(r.instance_id, "i-0123456789abcdef0");
	ck_assert_str_eq(r.type, "c5.xlarge");
	ck_assert_str_eq(r.zone, "us-east-1b");
	ck_assert_int_eq(r.ct, KERF_CAPACITY_SPOT);
	ck_assert_uint_eq(r.n_errors, 1);
	ck_assert_str_eq(r.errors[0].code, "InsufficientInstanceCapacity");
	ck_assert_str_eq(r.errors[0].type, "c5.large");
	ck_assert_str_eq(r.errors[0].zone, "us-east-1a");
	ec2_fleet_result_clear(&r);
	ck_assert_int_eq(ec2_fleet_read(bad, &r, &err), KERF_E_PARSE);
	xmlFreeDoc(d);
	xmlFreeDoc(bad);
}
END_TEST

START_TEST(instances_answer)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct kerf_instance_list *l = kerf_instance_list_new();
	char **subnets = NULL, **groups = NULL;
	xmlDoc *d = load("describe-instances.xml");

	ck_assert_int_eq(ec2_instances_read(d, l, &subnets, &groups, &err), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->items[0]->provider_id, "aws:///us-east-1b/i-0123456789abcdef0");
	ck_assert_str_eq(l->items[0]->instance_type, "c5.xlarge");
	ck_assert_int_eq(l->items[0]->capacity_type, KERF_CAPACITY_SPOT);
	ck_assert_str_eq(l->items[0]->state, "running");
	ck_assert_int_eq(l->items[0]->launch_ms, 1796683262000ll);
	ck_assert_str_eq(kerf_labels_get(&l->items[0]->tags, "karpenter.sh/nodeclaim"),
			 "general-abcde");
	ck_assert_int_eq(l->items[1]->capacity_type, KERF_CAPACITY_ON_DEMAND);
	ck_assert_str_eq(subnets[1], "subnet-0a1b2c3d4e5f60001");
	ck_assert_str_eq(groups[0], "sg-0000000000000000a,sg-0123456789abcdef0");
	for (size_t i = 0; i < l->n; i++) {
		free(subnets[i]);
		free(groups[i]);
	}
	free(subnets);
	free(groups);
	ck_assert_str_eq(ec2_instance_id(l->items[0]->provider_id), "i-0123456789abcdef0");
	ck_assert_ptr_null(ec2_instance_id("sim:///us-east-1a/x"));
	kerf_instance_list_free(l);
	xmlFreeDoc(d);
	ck_assert_int_eq(ec2_parse_time("2026-12-07T22:41:02.5Z"), 1796683262500ll);
	ck_assert_int_eq(ec2_parse_time("yesterday"), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ec2_launch");
	TCase *tc = tcase_create("launch");

	tcase_add_test(tc, selector_filters);
	tcase_add_test(tc, resolution_answers);
	tcase_add_test(tc, alias_parameters);
	tcase_add_test(tc, template_data_and_name);
	tcase_add_test(tc, fleet_request);
	tcase_add_test(tc, client_token_per_claim);
	tcase_add_test(tc, fleet_answer);
	tcase_add_test(tc, instances_answer);
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
