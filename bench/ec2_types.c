/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_types.c - what the ec2 provider spends on EC2's whole catalogue.
 *
 * The catalogue (data/ec2-catalogue.tsv, every type of a region) is
 * written as DescribeInstanceTypes pages of 100 and one
 * DescribeInstanceTypeOfferings answer for six zones, shaped as EC2 sends
 * them, and read the way the plugin reads them, timed in two parts:
 *
 *   refresh: parsing the pages (aws_xml_parse, with its limits) into
 *            struct ec2_itype and adding the zones: what the plugin does
 *            once an instance_types_refresh (1h by default);
 *   list:    turning them into kerf instance types with labels, capacity
 *            and allocatable under a node class and one offering per zone
 *            and capacity type: what every get_instance_types builds.
 *
 *   bench/ec2_types [--runs N]
 *
 * Prints the median of N runs (5) of each part and the peak RSS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <kerf/kerf.h>

#include "aws.h"
#include "ec2_types.h"

#define ZONES 6

struct row {
	char name[64], arch[16], manu[16], hyper[16];
	long vcpu, mem, pods, bare;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The catalogue's rows, by the header's column names. */
static size_t read_catalogue(const char *path, struct row **out)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	static const char *const names[8] = {"name",	   "arch",	"cpu_manufacturer",
					     "hypervisor", "vcpu",	"memory_mib",
					     "alloc_pods", "bare_metal"};
	struct row *rows = NULL;
	size_t n = 0;
	bool header = false;

	if (!f) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		char *fields[64], *save = NULL;
		size_t nf = 0;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, "\t", &save); t && nf < 64;
		     t = strtok_r(NULL, "\t", &save))
			fields[nf++] = t;
		if (!header) {
			for (size_t i = 0; i < nf; i++)
				for (size_t k = 0; k < 8; k++)
					if (strcmp(fields[i], names[k]) == 0)
						col[k] = (int)i;
			header = true;
			continue;
		}
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		if (!rows)
			abort();
		snprintf(rows[n].name, sizeof(rows[n].name), "%s", fields[col[0]]);
		snprintf(rows[n].arch, sizeof(rows[n].arch), "%s",
			 strcmp(fields[col[1]], "amd64") == 0 ? "x86_64" : "arm64");
		snprintf(rows[n].manu, sizeof(rows[n].manu), "%s", fields[col[2]]);
		snprintf(rows[n].hyper, sizeof(rows[n].hyper), "%s", fields[col[3]]);
		rows[n].vcpu = strtol(fields[col[4]], NULL, 10);
		rows[n].mem = strtol(fields[col[5]], NULL, 10);
		rows[n].pods = strtol(fields[col[6]], NULL, 10);
		rows[n].bare = strtol(fields[col[7]], NULL, 10);
		n++;
	}
	fclose(f);
	*out = rows;
	return n;
}

/* Page p (100 types) as EC2 answers it; ENIs chosen to give the catalogue's pod count. */
static char *types_page(const struct row *rows, size_t n, size_t p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	fputs("<DescribeInstanceTypesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	      "<requestId>bench</requestId><instanceTypeSet>",
	      f);
	for (size_t i = p * 100; i < n && i < (p + 1) * 100; i++) {
		const struct row *r = &rows[i];
		long ips = r->pods > 2 ? r->pods - 1 : 2;
		fprintf(f,
			"<item><instanceType>%s</instanceType><currentGeneration>true</"
			"currentGeneration>"
			"<supportedUsageClasses><item>on-demand</item><item>spot</item>"
			"</supportedUsageClasses><bareMetal>%s</bareMetal>%s%s%s"
			"<processorInfo><supportedArchitectures><item>%s</item>"
			"</supportedArchitectures><manufacturer>%s</manufacturer></processorInfo>"
			"<vCpuInfo><defaultVCpus>%ld</defaultVCpus></vCpuInfo>"
			"<memoryInfo><sizeInMiB>%ld</sizeInMiB></memoryInfo>"
			"<networkInfo><maximumNetworkInterfaces>1</maximumNetworkInterfaces>"
			"<defaultNetworkCardIndex>0</defaultNetworkCardIndex><networkCards><item>"
			"<networkCardIndex>0</networkCardIndex><maximumNetworkInterfaces>1"
			"</maximumNetworkInterfaces></item></networkCards>"
			"<ipv4AddressesPerInterface>%ld</ipv4AddressesPerInterface>"
			"<encryptionInTransitSupported>true</encryptionInTransitSupported>"
			"</networkInfo></item>",
			r->name, r->bare ? "true" : "false",
			strcmp(r->hyper, "-") ? "<hypervisor>" : "",
			strcmp(r->hyper, "-") ? r->hyper : "",
			strcmp(r->hyper, "-") ? "</hypervisor>" : "", r->arch, r->manu, r->vcpu,
			r->mem, ips);
	}
	fputs("</instanceTypeSet>", f);
	if ((p + 1) * 100 < n)
		fprintf(f, "<nextToken>page-%zu</nextToken>", p + 1);
	fputs("</DescribeInstanceTypesResponse>", f);
	fclose(f);
	return buf;
}

static char *offerings_page(const struct row *rows, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	fputs("<DescribeInstanceTypeOfferingsResponse "
	      "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>bench</requestId>"
	      "<instanceTypeOfferingSet>",
	      f);
	for (size_t i = 0; i < n; i++)
		for (int z = 0; z < ZONES; z++)
			fprintf(
			    f,
			    "<item><instanceType>%s</instanceType><locationType>availability-zone"
			    "</locationType><location>us-east-1%c</location></item>",
			    rows[i].name, 'a' + z);
	fputs("</instanceTypeOfferingSet></DescribeInstanceTypeOfferingsResponse>", f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	int runs = 5;
	struct row *rows;
	size_t n, pages, off_len, types_out = 0;
	char **page;
	size_t *page_len;
	char *off;
	double *refresh, *list;
	struct rusage ru;

	if (argc == 3 && strcmp(argv[1], "--runs") == 0) {
		long v = strtol(argv[2], NULL, 10);
		runs = v > 0 && v < 1000 ? (int)v : 5;
	}
	n = read_catalogue(KERF_BENCH_CATALOGUE, &rows);
	pages = (n + 99) / 100;
	page = calloc(pages, sizeof(*page));
	page_len = calloc(pages, sizeof(*page_len));
	for (size_t p = 0; p < pages; p++)
		page[p] = types_page(rows, n, p, &page_len[p]);
	off = offerings_page(rows, n, &off_len);
	refresh = calloc((size_t)runs, sizeof(double));
	list = calloc((size_t)runs, sizeof(double));

	for (int r = 0; r < runs; r++) {
		struct kerf_error err = KERF_ERROR_INIT;
		struct ec2_itypes t = {0};
		struct kerf_instance_type_list *l;
		xmlDoc *d;
		double t0 = now_ms(), t1;

		for (size_t p = 0; p < pages; p++) {
			if (aws_xml_parse(page[p], page_len[p], &d, &err) != 0 ||
			    ec2_itypes_add_page(&t, d, &err) != 0) {
				fprintf(stderr, "page %zu: %s\n", p, err.message);
				return 1;
			}
			xmlFreeDoc(d);
		}
		ec2_itypes_sort(&t);
		if (aws_xml_parse(off, off_len, &d, &err) != 0 ||
		    ec2_itypes_add_offerings(&t, d, &err) != 0) {
			fprintf(stderr, "offerings: %s\n", err.message);
			return 1;
		}
		xmlFreeDoc(d);
		t1 = now_ms();
		l = kerf_instance_type_list_new();
		for (size_t i = 0; i < t.n; i++) {
			struct kerf_instance_type *it = kerf_instance_type_list_append(l);
			ec2_itype_fill(&t.items[i], "us-east-1", NULL, 7500, it);
			for (size_t z = 0; z < t.items[i].n_zones; z++)
				for (int c = 0; c < 2; c++) {
					struct kerf_offering *o =
					    kerf_instance_type_add_offering(it);
					o->zone = strdup(t.items[i].zones[z]);
					o->capacity_type =
					    c ? KERF_CAPACITY_ON_DEMAND : KERF_CAPACITY_SPOT;
					o->price = 100000;
					o->available = true;
				}
		}
		list[r] = now_ms() - t1;
		refresh[r] = t1 - t0;
		types_out = l->n;
		kerf_instance_type_list_free(l);
		ec2_itypes_clear(&t);
	}
	qsort(refresh, (size_t)runs, sizeof(double), cmp_double);
	qsort(list, (size_t)runs, sizeof(double), cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("ec2 instance types: %zu types, %zu pages + %d zones of offerings, %d runs\n",
	       types_out, pages, ZONES, runs);
	printf("  refresh (parse pages, add zones):   median %.1f ms\n", refresh[runs / 2]);
	printf("  list (labels, allocatable, %d offerings each): median %.1f ms\n", 2 * ZONES,
	       list[runs / 2]);
	printf("  peak RSS: %ld MiB\n", ru.ru_maxrss / 1024);
	for (size_t p = 0; p < pages; p++)
		free(page[p]);
	free(page);
	free(page_len);
	free(off);
	free(refresh);
	free(list);
	free(rows);
	return 0;
}
