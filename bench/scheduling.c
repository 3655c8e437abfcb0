/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scheduling.c - how fast one provisioning batch is, and how much memory it
 * takes, on the workload of Karpenter's own scheduling benchmark and on a
 * real trace.
 *
 *   scheduling [--runs N] [--header] PODS
 *       Karpenter's workload (pkg/controllers/provisioning/scheduling/
 *       scheduling_benchmark_test.go, kubernetes-sigs/karpenter): its 400
 *       fake instance types and PODS pods split evenly into plain pods,
 *       zone topology spread, hostname topology spread, zone pod affinity
 *       and hostname pod anti-affinity, the remainder plain.
 *   scheduling [--runs N] [--header] --trace [CSV]
 *       Every pod of a trace in the simulator's CSV form (default: the
 *       Alibaba trace under examples/traces) as one batch, against the
 *       whole EC2 catalogue as the sim plugin offers it with its default
 *       configuration, and one NodePool allowing linux on spot and
 *       on-demand.
 *
 * Only prov_run is timed, as Karpenter times only Solve(): building the
 * pods and instance types is setup.  With --runs N the batch runs N times
 * and the median is reported.  Peak RSS is the process's, after the runs:
 * run one size per process (bench/run.sh does) so it belongs to that size.
 *
 * Every result is checked before it is reported, so a fast wrong answer
 * cannot pass for a fast one: each pod is placed exactly once or reported
 * unschedulable, no node holds more than its allocatable, and no two pods
 * with hostname anti-affinity share a node.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "util.h"
#include "workloads.h"

/*
 * FNV-1a over every decision of the result: an optimisation that keeps the
 * digest of every workload changed only the speed, not what kerf launches.
 */
static uint64_t digest(const struct prov_result *r)
{
	uint64_t h = FNV1A_OFFSET;

	for (size_t c = 0; c < r->n_claims; c++) {
		const struct prov_claim *cl = &r->claims[c];
		int32_t ct = (int32_t)cl->capacity_type;

		for (size_t o = 0; o < cl->n_options; o++)
			h = fnv1a_update(h, cl->options[o]->name, strlen(cl->options[o]->name) + 1);
		h = fnv1a_update(h, cl->zone, strlen(cl->zone) + 1);
		h = fnv1a_update(h, &ct, sizeof(ct));
		h = fnv1a_update(h, &cl->price, sizeof(cl->price));
		h = fnv1a_update(h, cl->pods, cl->n_pods * sizeof(*cl->pods));
	}
	for (size_t u = 0; u < r->n_unschedulable; u++)
		h = fnv1a_update(h, &r->unschedulable[u].pod, sizeof(r->unschedulable[u].pod));
	return h;
}

/* ------------------------------------------------------------ main */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void usage(void)
{
	fputs("usage: scheduling [--runs N] [--header] PODS\n"
	      "       scheduling [--runs N] [--header] --trace [CSV]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dirs[] = {KERF_BENCH_PLUGINDIR "/binpack-ffd/.libs",
			      KERF_BENCH_PLUGINDIR "/sim/.libs"};
	const char *trace = NULL, *workload;
	bool header = false, use_trace = false;
	long runs = 1, count = 0;
	struct pods ps = {0};
	struct plugin_instance packer = {0}, sim = {0};
	struct kerf_instance_type_list *types;
	struct mf_set set;
	struct loader *ldr;
	struct prov_pool pools[1];
	struct prov_input in = {0};
	struct prov_result *res = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	struct rusage ru;
	int64_t *ns;
	size_t placed = 0;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--header") == 0) {
			header = true;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = strtol(argv[++i], &end, 10);
			if (*end || runs < 1 || runs > 1000)
				usage();
		} else if (strcmp(argv[i], "--trace") == 0) {
			use_trace = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				trace = argv[++i];
		} else if (argv[i][0] != '-' && !count) {
			count = strtol(argv[i], &end, 10);
			if (*end || count < 1 || count > 10000000)
				usage();
		} else {
			usage();
		}
	}
	if (use_trace == (count > 0))
		usage();

	bench_prog = "scheduling";
	kerf_error_clear(&err);
	if (loader_new_dirs(dirs, 2, &ldr, &err))
		die("%s", err.message);
	plugin_up(ldr, &packer, "binpack-ffd", KERF_KIND_PACKER, "packer/binpack-ffd", NULL);

	if (use_trace) {
		if (!trace)
			trace = KERF_BENCH_TRACE;
		trace_pods(&ps, trace);
		types = sim_types(ldr, &sim, KERF_BENCH_CATALOGUE);
		bench_nodepool(&set, trace_requirements);
		workload = "alibaba-trace";
	} else {
		karpenter_pods(&ps, (size_t)count);
		types = karpenter_types(400);
		bench_nodepool(&set, NULL);
		workload = "karpenter-400";
	}

	pools[0] = (struct prov_pool){.nodepool = set.nodepools[0],
				      .types = types,
				      .class_selectors =
					  use_trace ? sim.plugin->provider.class_selectors : NULL};
	in.n_pods = ps.n;
	in.pods = (const struct kerf_pod *const *)ps.items;
	in.n_pools = 1;
	in.pools = pools;
	in.packer = &packer.plugin->packer;
	in.packer_inst = packer.state;

	ns = xcalloc((size_t)runs, sizeof(*ns));
	for (long r = 0; r < runs; r++) {
		int64_t t0;

		prov_result_free(res);
		res = NULL;
		t0 = now_mono_ns();
		if (prov_run(&in, &res, &err))
			die("prov_run: %s", err.message);
		ns[r] = now_mono_ns() - t0;
	}
	qsort(ns, (size_t)runs, sizeof(*ns), cmp_i64);
	check(&in, res, &placed);
	getrusage(RUSAGE_SELF, &ru);

	if (header)
		printf("%-14s %5s %6s %6s %7s %6s %8s %8s %7s %7s %4s  %s\n", "workload", "types",
		       "pods", "claims", "unsched", "groups", "wall_ms", "min_ms", "pods/s",
		       "rss_MiB", "runs", "digest");
	{
		double med = (double)ns[runs / 2] / 1e6, min = (double)ns[0] / 1e6;

		printf("%-14s %5zu %6zu %6zu %7zu %6zu %8.1f %8.1f %7.0f %7.1f %4ld  %016" PRIx64
		       "\n",
		       workload, types->n, ps.n, res->n_claims, res->n_unschedulable, res->n_groups,
		       med, min, (double)ps.n / (med / 1e3), (double)ru.ru_maxrss / 1024.0, runs,
		       digest(res));
	}
	free(ns);
	prov_result_free(res);
	mf_set_clear(&set);
	kerf_instance_type_list_free(types);
	pods_free(&ps);
	plugin_down(&sim);
	plugin_down(&packer);
	loader_free(ldr);
	return 0;
}
