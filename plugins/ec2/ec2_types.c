/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_types.c - DescribeInstanceTypes and DescribeInstanceTypeOfferings
 * pages into struct ec2_itype, and the labels Karpenter's AWS provider
 * gives each type.
 *
 * Names are split as Karpenter splits them: the family is what precedes
 * the '.', the size what follows; the category is the family's leading
 * letters and the generation the digits after them, past a "-3tb" memory
 * infix (u-3tb1 is category u, generation 1).  Manufacturers and device
 * names are lower-cased, spaces becoming '-' ("Radeon Pro V520" is
 * radeon-pro-v520).  Pods are the default network card's ENIs times their
 * addresses less one, plus two, Karpenter's ENI-limited figure.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "ec2_catalogue.h"
#include "ec2_types.h"
#include "ec2_xml.h"

static char *dupn(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		abort();
	return d;
}

/* Lower case, spaces as '-': how Karpenter writes device names in labels. */
static char *label_text(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
	return s;
}

static void split_name(struct ec2_itype *t)
{
	const char *dot = strchr(t->name, '.'), *p;
	size_t letters;

	t->family = dupn(t->name, dot ? (size_t)(dot - t->name) : strlen(t->name));
	t->size = dupn(dot ? dot + 1 : "", dot ? strlen(dot + 1) : 0);
	for (letters = 0; islower((unsigned char)t->family[letters]); letters++)
		;
	t->category = dupn(t->family, letters);
	p = t->family + letters;
	/* The high-memory types' "-3tb" comes between category and generation. */
	if (*p == '-' && isdigit((unsigned char)p[1])) {
		const char *q = p + 1;
		while (isdigit((unsigned char)*q))
			q++;
		if (q[0] == 't' && q[1] == 'b')
			p = q + 2;
	}
	t->generation = -1;
	if (isdigit((unsigned char)*p)) {
		t->generation = 0;
		for (; isdigit((unsigned char)*p) && t->generation < 1000000; p++)
			t->generation = t->generation * 10 + (*p - '0');
	}
}

static int64_t int_or(const xmlNode *n, const char *path, int64_t dflt)
{
	int64_t v;

	return ec2_xml_int(n, path, &v) ? v : dflt;
}

/* The default network card's ENIs (the only ones pods get addresses from). */
static int64_t default_card_enis(const xmlNode *net)
{
	int64_t dflt = int_or(net, "defaultNetworkCardIndex", 0);

	for (const xmlNode *c = ec2_xml_items(net, "networkCards"); c; c = aws_xml_next(c))
		if (int_or(c, "networkCardIndex", -1) == dflt)
			return int_or(c, "maximumNetworkInterfaces", 0);
	return int_or(net, "maximumNetworkInterfaces", 0);
}

static int64_t default_card_bandwidth(const xmlNode *net)
{
	int64_t dflt = int_or(net, "defaultNetworkCardIndex", 0), micro;

	for (const xmlNode *c = ec2_xml_items(net, "networkCards"); c; c = aws_xml_next(c))
		if (int_or(c, "networkCardIndex", -1) == dflt) {
			char *gbps = ec2_xml_str(c, "baselineBandwidthInGbps");
			/* Gbps with decimals: read as "dollars" to keep it exact. */
			bool ok = gbps && ec2_parse_usd(gbps, &micro);
			free(gbps);
			return ok ? micro / 1000 : -1;
		}
	return -1;
}

static void read_devices(struct ec2_itype *t, const xmlNode *item)
{
	const xmlNode *gpus = ec2_xml_items(item, "gpuInfo/gpus");
	const xmlNode *neuron = ec2_xml_items(item, "neuronInfo/neuronDevices");
	const xmlNode *inf = ec2_xml_items(item, "inferenceAcceleratorInfo/accelerators");

	for (const xmlNode *g = gpus; g; g = aws_xml_next(g)) {
		char *m = label_text(ec2_xml_str(g, "manufacturer"));
		int64_t count = int_or(g, "count", 0);

		if (m && strcmp(m, "nvidia") == 0)
			t->fig.nvidia_gpus += count;
		else if (m && strcmp(m, "amd") == 0)
			t->fig.amd_gpus += count;
		free(m);
	}
	/* Karpenter labels a device only when the type has a single kind of it. */
	if (gpus && !aws_xml_next(gpus)) {
		t->gpu_name = label_text(ec2_xml_str(gpus, "name"));
		t->gpu_manufacturer = label_text(ec2_xml_str(gpus, "manufacturer"));
		t->gpu_count = int_or(gpus, "count", 0);
		t->gpu_memory_mib = int_or(gpus, "memoryInfo/sizeInMiB", -1);
	}
	for (const xmlNode *d = neuron; d; d = aws_xml_next(d))
		t->fig.neuron_devices += int_or(d, "count", 0);
	if (neuron && !aws_xml_next(neuron)) {
		t->acc_name = label_text(ec2_xml_str(neuron, "name"));
		t->acc_manufacturer = dupn("aws", 3);
		t->acc_count = int_or(neuron, "count", 0);
	} else if (!neuron && inf && !aws_xml_next(inf)) {
		t->acc_name = label_text(ec2_xml_str(inf, "name"));
		t->acc_manufacturer = label_text(ec2_xml_str(inf, "manufacturer"));
		t->acc_count = int_or(inf, "count", 0);
		t->fig.neuron_devices = t->acc_count;
	}
}

static void read_usage(struct ec2_itype *t, const xmlNode *item)
{
	for (const xmlNode *u = ec2_xml_items(item, "supportedUsageClasses"); u;
	     u = aws_xml_next(u)) {
		xmlChar *c = xmlNodeGetContent(u);
		if (c && strcmp((const char *)c, "spot") == 0)
			t->spot = true;
		if (c && strcmp((const char *)c, "on-demand") == 0)
			t->on_demand = true;
		xmlFree(c);
	}
}

static const char *arch_of(const xmlNode *item)
{
	for (const xmlNode *a = ec2_xml_items(item, "processorInfo/supportedArchitectures"); a;
	     a = aws_xml_next(a)) {
		xmlChar *c = xmlNodeGetContent(a);
		const char *arch = NULL;
		if (c && strcmp((const char *)c, "x86_64") == 0)
			arch = "amd64";
		else if (c && strcmp((const char *)c, "arm64") == 0)
			arch = "arm64";
		xmlFree(c);
		if (arch)
			return arch;
	}
	return NULL;
}

static void itype_clear(struct ec2_itype *t)
{
	free(t->name);
	free(t->family);
	free(t->category);
	free(t->size);
	free(t->arch);
	free(t->cpu_manufacturer);
	free(t->hypervisor);
	free(t->gpu_name);
	free(t->gpu_manufacturer);
	free(t->acc_name);
	free(t->acc_manufacturer);
	for (size_t i = 0; i < t->n_zones; i++)
		free(t->zones[i]);
	free(t->zones);
	memset(t, 0, sizeof(*t));
}

static int read_item(struct ec2_itype *t, const xmlNode *item, struct kerf_error *err)
{
	const xmlNode *net = aws_xml_child(item, "networkInfo");
	const struct ec2_catalogue_row *row;
	const char *arch;
	int64_t enis, ips;

	memset(t, 0, sizeof(*t));
	t->name = ec2_xml_str(item, "instanceType");
	if (!t->name || !*t->name)
		return kerf_error_set(err, KERF_E_PARSE,
				      "DescribeInstanceTypes: an item has no instanceType");
	if (!ec2_xml_int(item, "vCpuInfo/defaultVCpus", &t->fig.vcpus) ||
	    !ec2_xml_int(item, "memoryInfo/sizeInMiB", &t->fig.memory_mib) ||
	    !(arch = arch_of(item)))
		return kerf_error_set(err, KERF_E_PARSE,
				      "DescribeInstanceTypes: %s lacks vCPUs, memory or a known "
				      "architecture",
				      t->name);
	t->arch = dupn(arch, strlen(arch));
	split_name(t);
	t->cpu_manufacturer = label_text(ec2_xml_str(item, "processorInfo/manufacturer"));
	t->hypervisor = ec2_xml_str(item, "hypervisor");
	if (!t->hypervisor)
		t->hypervisor = dupn("", 0);
	t->bare_metal = ec2_xml_true(item, "bareMetal");
	t->encryption_in_transit = ec2_xml_true(net, "encryptionInTransitSupported");
	read_usage(t, item);
	enis = default_card_enis(net);
	ips = int_or(net, "ipv4AddressesPerInterface", 0);
	t->fig.eni_pods = enis > 0 && ips > 0 ? enis * (ips - 1) + 2 : 0;
	t->fig.efa_interfaces = int_or(net, "efaInfo/maximumEfaInterfaces", 0);
	t->gpu_count = t->gpu_memory_mib = t->acc_count = -1;
	read_devices(t, item);
	t->local_nvme_gb = -1;
	if (aws_xml_path(item, "instanceStorageInfo")) {
		char *nvme = ec2_xml_str(item, "instanceStorageInfo/nvmeSupport");
		if (!nvme || strcmp(nvme, "unsupported") != 0)
			t->local_nvme_gb = int_or(item, "instanceStorageInfo/totalSizeInGB", -1);
		free(nvme);
	}
	/* EC2 names no branch ENIs and Karpenter labels its own bandwidth table. */
	row = ec2_catalogue_find(t->name);
	t->fig.pod_enis = row ? row->pod_enis : 0;
	t->bandwidth_mbps =
	    row && row->bandwidth_mbps >= 0 ? row->bandwidth_mbps : default_card_bandwidth(net);
	return 0;
}

int ec2_itypes_add_page(struct ec2_itypes *t, const xmlDoc *page, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(page);

	if (!root || !aws_xml_child(root, "instanceTypeSet"))
		return kerf_error_set(err, KERF_E_PARSE,
				      "DescribeInstanceTypes: the response has no instanceTypeSet");
	for (const xmlNode *it = ec2_xml_items(root, "instanceTypeSet"); it;
	     it = aws_xml_next(it)) {
		int rc;
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 64;
			t->items = realloc(t->items, t->cap * sizeof(*t->items));
			if (!t->items)
				abort();
		}
		if ((rc = read_item(&t->items[t->n], it, err)) != 0) {
			itype_clear(&t->items[t->n]);
			return rc;
		}
		t->n++;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ec2_itype *)a)->name, ((const struct ec2_itype *)b)->name);
}

void ec2_itypes_sort(struct ec2_itypes *t)
{
	if (t->n)
		qsort(t->items, t->n, sizeof(*t->items), by_name);
}

const struct ec2_itype *ec2_itypes_find(const struct ec2_itypes *t, const char *name)
{
	struct ec2_itype key = {.name = (char *)name};

	return t->n ? bsearch(&key, t->items, t->n, sizeof(*t->items), by_name) : NULL;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_zone(struct ec2_itype *t, const char *zone)
{
	for (size_t i = 0; i < t->n_zones; i++)
		if (strcmp(t->zones[i], zone) == 0)
			return;
	t->zones = realloc(t->zones, (t->n_zones + 1) * sizeof(*t->zones));
	if (!t->zones)
		abort();
	t->zones[t->n_zones++] = dupn(zone, strlen(zone));
	qsort(t->zones, t->n_zones, sizeof(*t->zones), by_str);
}

int ec2_itypes_add_offerings(struct ec2_itypes *t, const xmlDoc *page, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(page);

	if (!root || !aws_xml_child(root, "instanceTypeOfferingSet"))
		return kerf_error_set(err, KERF_E_PARSE,
				      "DescribeInstanceTypeOfferings: the response has no "
				      "instanceTypeOfferingSet");
	for (const xmlNode *o = ec2_xml_items(root, "instanceTypeOfferingSet"); o;
	     o = aws_xml_next(o)) {
		char *name = ec2_xml_str(o, "instanceType"), *zone = ec2_xml_str(o, "location");
		struct ec2_itype *it = name ? (struct ec2_itype *)ec2_itypes_find(t, name) : NULL;

		if (it && zone && *zone)
			add_zone(it, zone);
		free(name);
		free(zone);
	}
	return 0;
}

void ec2_itypes_clear(struct ec2_itypes *t)
{
	for (size_t i = 0; i < t->n; i++)
		itype_clear(&t->items[i]);
	free(t->items);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------ labels */

static void label_str(struct ec2_label *l, const char *key, const char *value)
{
	l->key = key;
	l->value = value;
}

static void label_int(struct ec2_label *l, const char *key, int64_t value)
{
	l->key = key;
	l->value = NULL;
	if (value >= 0) {
		snprintf(l->buf, sizeof(l->buf), "%" PRId64, value);
		l->value = l->buf;
	}
}

#define AWS "karpenter.k8s.aws/instance-"

size_t ec2_itype_labels(const struct ec2_itype *t, const char *region, const char *os,
			const char *windows_build, struct ec2_label out[EC2_MAX_LABELS])
{
	bool gpu = t->gpu_count > 0 && t->gpu_name;
	bool acc = t->acc_count > 0 && t->acc_name;
	size_t n = 0;

	label_str(&out[n++], "node.kubernetes.io/instance-type", t->name);
	label_str(&out[n++], "kubernetes.io/arch", t->arch);
	label_str(&out[n++], "kubernetes.io/os", os);
	label_str(&out[n++], "topology.kubernetes.io/region", region);
	label_str(&out[n++], "node.kubernetes.io/windows-build", windows_build);
	label_str(&out[n++], AWS "category", t->category);
	label_str(&out[n++], AWS "family", t->family);
	label_int(&out[n++], AWS "generation", t->generation);
	label_str(&out[n++], AWS "size", t->size);
	label_int(&out[n++], AWS "cpu", t->fig.vcpus);
	label_str(&out[n++], AWS "cpu-manufacturer", t->cpu_manufacturer);
	label_int(&out[n++], AWS "memory", t->fig.memory_mib);
	label_str(&out[n++], AWS "hypervisor", t->hypervisor);
	label_str(&out[n++], AWS "encryption-in-transit-supported",
		  t->encryption_in_transit ? "true" : "false");
	label_int(&out[n++], AWS "network-bandwidth", t->bandwidth_mbps);
	label_int(&out[n++], AWS "local-nvme", t->local_nvme_gb);
	label_str(&out[n++], AWS "gpu-name", gpu ? t->gpu_name : NULL);
	label_str(&out[n++], AWS "gpu-manufacturer", gpu ? t->gpu_manufacturer : NULL);
	label_int(&out[n++], AWS "gpu-count", gpu ? t->gpu_count : -1);
	label_int(&out[n++], AWS "gpu-memory", gpu ? t->gpu_memory_mib : -1);
	label_str(&out[n++], AWS "accelerator-name", acc ? t->acc_name : NULL);
	label_str(&out[n++], AWS "accelerator-manufacturer", acc ? t->acc_manufacturer : NULL);
	label_int(&out[n++], AWS "accelerator-count", acc ? t->acc_count : -1);
	return n;
}

#undef AWS

uint32_t ec2_itype_classes(const struct ec2_itype *t)
{
	uint32_t c = 0;

	if ((t->gpu_count > 0 && t->gpu_name) || t->fig.nvidia_gpus > 0 || t->fig.amd_gpus > 0)
		c |= KERF_TYPE_GPU;
	if ((t->acc_count > 0 && t->acc_name) || t->fig.neuron_devices > 0)
		c |= KERF_TYPE_ACCELERATOR;
	if (strstr(t->size, "metal"))
		c |= KERF_TYPE_METAL;
	return c;
}

/* ------------------------------------------------------------ kerf types */

static void set_requirement(struct kerf_requirement *r, const char *key, const char *value)
{
	r->key = strdup(key);
	if (!r->key)
		abort();
	r->op = value ? KERF_OP_IN : KERF_OP_DOES_NOT_EXIST;
	if (value)
		kerf_requirement_add_value(r, value);
}

void ec2_itype_fill(const struct ec2_itype *t, const char *region, const struct ec2_node_class *nc,
		    int64_t vm_overhead_milli, struct kerf_instance_type *it)
{
	struct ec2_label labels[EC2_MAX_LABELS];
	const char *family = nc ? nc->ami_family : NULL;
	const char *os = "linux", *build = NULL;
	size_t n;

	/* Windows nodes carry their OS build, as the kubelet labels them. */
	if (family && strcmp(family, "Windows2019") == 0) {
		os = "windows";
		build = "10.0.17763";
	} else if (family && strcmp(family, "Windows2022") == 0) {
		os = "windows";
		build = "10.0.20348";
	}
	it->name = strdup(t->name);
	if (!it->name)
		abort();
	n = ec2_itype_labels(t, region, os, build, labels);
	for (size_t i = 0; i < n; i++)
		set_requirement(kerf_requirements_append(&it->requirements), labels[i].key,
				labels[i].value);
	ec2_default_resources(&t->fig, vm_overhead_milli, &it->capacity, &it->allocatable);
	ec2_node_class_resources(nc, &it->capacity, &it->allocatable);
	it->classes = ec2_itype_classes(t);
}
