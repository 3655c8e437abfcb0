/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_catalogue.c - lookups in the compiled-in catalogue
 * (ec2_catalogue_data.c, generated from data/ec2-catalogue.tsv).
 */
#include <stdlib.h>
#include <string.h>

#include "ec2_catalogue.h"

static int cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct ec2_catalogue_row *)row)->name);
}

const struct ec2_catalogue_row *ec2_catalogue_find(const char *type)
{
	return bsearch(type, ec2_catalogue, ec2_catalogue_len, sizeof(ec2_catalogue[0]), cmp);
}
