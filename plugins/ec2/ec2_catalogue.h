/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_catalogue.h - the EC2 catalogue compiled into the plugin.
 *
 * What an isolated VPC cannot ask AWS (the Pricing API is public-only)
 * and what no EC2 API says: on-demand prices, a spot estimate, the branch
 * ENIs (vpc.amazonaws.com/pod-eni) and the network bandwidth Karpenter
 * labels.  Rows are sorted by name (data/ec2-catalogue.tsv is).
 */
#ifndef KERF_EC2_CATALOGUE_H
#define KERF_EC2_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

struct ec2_catalogue_row {
	const char *name;
	int64_t on_demand; /* micro-dollars per hour */
	int64_t spot;	   /* an estimate; -1 when the type has no spot */
	int64_t pod_enis;
	int64_t bandwidth_mbps; /* -1 when unknown */
};

extern const struct ec2_catalogue_row ec2_catalogue[];
extern const size_t ec2_catalogue_len;

/* The row for `type`, or NULL.  Binary search. */
const struct ec2_catalogue_row *ec2_catalogue_find(const char *type);

#endif
