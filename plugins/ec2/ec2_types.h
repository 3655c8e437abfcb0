/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_types.h - EC2's instance types as kerf sees them.
 *
 * DescribeInstanceTypes pages are read into struct ec2_itype, the figures
 * Karpenter's AWS provider turns into labels and resources, and
 * DescribeInstanceTypeOfferings pages add the zones each is offered in.
 * Memory is malloc'd; out of memory aborts.
 */
#ifndef KERF_EC2_TYPES_H
#define KERF_EC2_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include <kerf/kerf.h>

#include "nodeclass.h"

struct ec2_itype {
	char *name;		/* "c5.2xlarge" */
	char *family;		/* "c5" */
	char *category;		/* "c" */
	char *size;		/* "2xlarge" */
	int64_t generation;	/* 5; -1 when the name has none */
	char *arch;		/* "amd64", "arm64" */
	char *cpu_manufacturer; /* "intel"; NULL when EC2 does not say */
	char *hypervisor;	/* "nitro", "xen"; "" for bare metal */
	bool bare_metal;
	bool encryption_in_transit;
	bool on_demand, spot; /* supportedUsageClasses */
	struct ec2_type_figures fig;
	char *gpu_name, *gpu_manufacturer; /* one kind of GPU only, else NULL */
	int64_t gpu_count, gpu_memory_mib;
	char *acc_name, *acc_manufacturer; /* one kind of accelerator only, else NULL */
	int64_t acc_count;
	int64_t bandwidth_mbps; /* -1 when unknown */
	int64_t local_nvme_gb;	/* -1 when none */
	size_t n_zones;		/* from the offerings, sorted */
	char **zones;
};

struct ec2_itypes {
	size_t n, cap;
	struct ec2_itype *items;
};

/*
 * Appends the types of one DescribeInstanceTypes response page.
 * KERF_E_PARSE (err says which) when the page is not such a response or an
 * item lacks its name, vCPUs, memory or architecture.
 */
int ec2_itypes_add_page(struct ec2_itypes *t, const xmlDoc *page, struct kerf_error *err);
/* Sorts by name; ec2_itypes_find needs it. */
void ec2_itypes_sort(struct ec2_itypes *t);
const struct ec2_itype *ec2_itypes_find(const struct ec2_itypes *t, const char *name);
/*
 * Adds the zones of one DescribeInstanceTypeOfferings page
 * (LocationType availability-zone) to the types it names; types it does
 * not know are skipped.  KERF_E_PARSE when it is not such a response.
 */
int ec2_itypes_add_offerings(struct ec2_itypes *t, const xmlDoc *page, struct kerf_error *err);
void ec2_itypes_clear(struct ec2_itypes *t);

#define EC2_MAX_LABELS 24

struct ec2_label {
	const char *key;
	const char *value; /* NULL: the type has none (DoesNotExist) */
	char buf[24];
};

/*
 * The well-known labels of a type as Karpenter's AWS provider sets them
 * (instance-type, arch, os, region, windows-build and the
 * karpenter.k8s.aws/instance-* ones).  `os` is "linux" or "windows",
 * windows_build NULL on Linux.  Values point into t, region, os and out.
 */
size_t ec2_itype_labels(const struct ec2_itype *t, const char *region, const char *os,
			const char *windows_build, struct ec2_label out[EC2_MAX_LABELS]);

/* KERF_TYPE_* bits: GPU, accelerator, bare metal. */
uint32_t ec2_itype_classes(const struct ec2_itype *t);

/*
 * Fills `it` (new from libkerf, no offerings) with the type's name, labels
 * as requirements (In the value, or DoesNotExist), and its capacity and
 * allocatable under Karpenter's defaults (ec2_default_resources) as the
 * node class changes them (ec2_node_class_resources; nc NULL: none).
 */
void ec2_itype_fill(const struct ec2_itype *t, const char *region, const struct ec2_node_class *nc,
		    int64_t vm_overhead_milli, struct kerf_instance_type *it);
#endif
