/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the ec2 provider's readers of AWS answers.  The first byte
 * picks the reader ('0' instance types and offerings, '1' spot prices, '2'
 * subnets, groups and images, '3' CreateFleet, '4' instances, 'j' Pricing
 * products), the rest is the response body, parsed as the AWS
 * client parses it (aws_xml_parse, aws_json_parse: size and depth
 * limits) and handed to the reader, as the plugin does.
 */
#include <stdlib.h>

#include "aws.h"
#include "ec2_launch.h"
#include "ec2_prices.h"
#include "ec2_types.h"
#include "fuzz.h"

static void xml_readers(unsigned which, const xmlDoc *d)
{
	struct kerf_error err = KERF_ERROR_INIT;
	struct ec2_itypes t = {0};
	struct ec2_prices p = {0};
	struct ec2_resolved r = {0};
	struct ec2_fleet_result f;
	struct kerf_instance_list *l;
	char **subnets = NULL, **groups = NULL;

	switch ((which - '0') % 7) {
	case 0:
		(void)ec2_itypes_add_page(&t, d, &err);
		ec2_itypes_sort(&t);
		(void)ec2_itypes_add_offerings(&t, d, &err);
		for (size_t i = 0; i < t.n; i++) {
			struct kerf_instance_type *it = kerf_instance_type_new();
			ec2_itype_fill(&t.items[i], "us-east-1", NULL, 7500, it);
			kerf_instance_type_free(it);
		}
		ec2_itypes_clear(&t);
		break;
	case 1:
		(void)ec2_prices_add_spot(&p, d, &err);
		ec2_prices_sort(&p);
		ec2_prices_clear(&p);
		break;
	case 2:
		(void)ec2_add_subnets(&r, d, &err);
		(void)ec2_add_groups(&r, d, &err);
		(void)ec2_add_images(&r, d, &err);
		ec2_resolved_pick_images(&r);
		ec2_resolved_clear(&r);
		break;
	case 3:
		if (ec2_fleet_read(d, &f, &err) == 0)
			ec2_fleet_result_clear(&f);
		break;
	default:
		l = kerf_instance_list_new();
		(void)ec2_instances_read(d, l, &subnets, &groups, &err);
		for (size_t i = 0; i < l->n; i++) {
			free(subnets[i]);
			free(groups[i]);
		}
		free(subnets);
		free(groups);
		kerf_instance_list_free(l);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *d = NULL;
	json_t *j = NULL;

	if (size < 1)
		return 0;
	if (data[0] == 'j') {
		struct ec2_prices p = {0};
		if (aws_json_parse((const char *)data + 1, size - 1, &j, &err) == 0) {
			(void)ec2_prices_add_products(&p, j, &err);
			json_decref(j);
		}
		ec2_prices_clear(&p);
		return 0;
	}
	if (aws_xml_parse((const char *)data + 1, size - 1, &d, &err) == 0) {
		xml_readers(data[0], d);
		xmlFreeDoc(d);
	}
	return 0;
}
