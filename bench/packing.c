/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packing.c - what the cost-optimal packer buys over first-fit decreasing:
 * the same batches through the core's real pipeline (prov_run) once with
 * binpack-ffd and once with binpack-ilp, side by side.
 *
 *   packing [--budget MS] [--work UNITS] [--only WORKLOAD] [--pods N] [--ffd PACKER]
 *           [--ilp PACKER] [--markdown] [--debug]
 *
 * The batches, always in this order:
 *   alibaba    consecutive pods of the Alibaba trace (examples/traces, in
 *              creation order) on the whole EC2 catalogue as the sim plugin
 *              serves it, one NodePool allowing linux on spot and on-demand
 *              (scheduling --trace's setup): for 50, 200 and 1,000 pods, the
 *              first, the middle and the last that many pods of the trace.
 *   karpenter  Karpenter's scheduling benchmark (scheduling PODS's setup),
 *              1,000 and 5,000 pods on its 400 fake types.
 *   mixed      web, batch, memory-heavy and GPU pods (seeded) on the
 *              catalogue and the trace's NodePool, 50, 200 and 1,000 pods;
 *              the core keeps GPU types for the pods that ask for GPUs.
 *
 * Each packer is loaded through the core loader as kerfd loads it and
 * wrapped in a recording packer: the core calls the wrapper, the wrapper
 * calls the plugin and keeps what the plan says (price, proven bound,
 * optimality, the plugin's own solve time, pods placed) with the wall time
 * of the call.  --budget is handed to both as budget_ms (binpack-ffd does
 * not use it).  Solves run one after another, each on one core.
 *
 * Every result passes scheduling's check first.  Then the two are compared:
 * binpack-ilp must place at least the pods binpack-ffd places and, placing
 * as many, cost no more; a bound must not exceed either price, and the plan
 * must price as the NodeClaims built from it do.  Each violation is printed
 * on its own VIOLATION line and the exit status is 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "workloads.h"

/* ------------------------------------------------------------ recording packer */

struct recorder {
	const struct plugin_instance *packer;
	unsigned calls;
	int64_t wall_ns;
	kerf_price_t price;
	kerf_price_t bound;
	bool optimal;
	int64_t solve_ms;
	int64_t cpu_ns;	     /* the calling thread's CPU time: what the work limit is sized on */
	int64_t work;	     /* the plan's counted work */
	bool hit_time_limit; /* real time stopped the solve: the plan may vary run to run */
	kerf_price_t volume_bound; /* the bench's own bound, -1: none (open nodes) */
	size_t placed;
};

/*
 * A bound computed here, not by the packer: in each dimension, every pod at
 * the cheapest price per unit of that dimension among its group's types, the
 * best dimension's sum.  A node of type t costs at least its allocatable
 * times that price in every dimension, and its pods' requests fit in its
 * allocatable, so no plan placing every pod costs less.  Open nodes hold
 * pods for nothing: with any, there is no bound.
 */
static kerf_price_t volume_bound(const struct kerf_pack_problem *p)
{
	double best = 0;

	if (p->n_open)
		return -1;
	for (size_t d = 0; d < p->n_dims; d++) {
		double sum = 0;
		for (size_t g = 0; g < p->n_groups; g++) {
			const struct kerf_pack_group *gr = p->groups[g];
			double unit = -1;
			if (gr->request[d] <= 0)
				continue;
			for (size_t i = 0; i < gr->n_types; i++) {
				const struct kerf_pack_type *ty = p->types[gr->types[i]];
				for (size_t o = 0; o < ty->n_offerings && ty->allocatable[d] > 0;
				     o++) {
					double u = (double)ty->offerings[o]->price /
						   (double)ty->allocatable[d];
					if (unit < 0 || u < unit)
						unit = u;
				}
			}
			if (unit >= 0)
				sum += unit * (double)gr->request[d] * gr->count;
		}
		if (sum > best)
			best = sum;
	}
	/* Rounded down, less a margin for the doubles' rounding. */
	return best > 1 ? (kerf_price_t)(best * (1 - 1e-9)) : 0;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int record_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
			struct kerf_pack_plan **out, struct kerf_error *err)
{
	struct recorder *r = inst;
	const struct kerf_pack_plan *plan;
	int64_t t0 = now_mono_ns(), c0 = thread_cpu_ns();
	int rc = r->packer->plugin->packer.solve(r->packer->state, problem, budget_ms, out, err);

	r->wall_ns += now_mono_ns() - t0;
	r->cpu_ns += thread_cpu_ns() - c0;
	r->calls++;
	if (rc || !*out)
		return rc;
	plan = *out;
	r->price = plan->total_price;
	r->bound = plan->lower_bound;
	r->optimal = plan->optimal;
	r->solve_ms = plan->solve_ms;
	r->work = plan->work;
	r->volume_bound = volume_bound(problem);
	r->hit_time_limit = plan->hit_time_limit;
	r->placed = 0;
	for (size_t i = 0; i < plan->n_nodes; i++)
		for (size_t a = 0; a < plan->nodes[i]->n_assign; a++)
			r->placed += plan->nodes[i]->assign[a]->count;
	return 0;
}

static const struct kerf_packer_ops record_ops = {.solve = record_solve};

/* ------------------------------------------------------------ one batch, two packers */

struct batch {
	char label[32];
	size_t n_pods;
	const struct kerf_pod *const *pods;
	const struct prov_pool *pool;
};

struct outcome {
	struct recorder rec;
	size_t placed;		   /* on NodeClaims, as check() counted them */
	kerf_price_t claims_price; /* of the NodeClaims built from the plan */
};

static void solve_batch(const struct batch *b, const struct plugin_instance *packer,
			int64_t budget_ms, struct outcome *o)
{
	struct prov_input in = {
	    .n_pods = b->n_pods,
	    .pods = b->pods,
	    .n_pools = 1,
	    .pools = b->pool,
	    .packer = &record_ops,
	    .packer_inst = &o->rec,
	    .budget_ms = budget_ms,
	};
	struct prov_result *res = NULL;
	struct kerf_error err;

	memset(o, 0, sizeof(*o));
	o->rec.packer = packer;
	kerf_error_clear(&err);
	if (prov_run(&in, &res, &err))
		die("%s, %s: prov_run: %s", b->label, packer->plugin->desc.name, err.message);
	/* One NodePool: no pod can spill to another, so one solve makes the whole plan. */
	if (o->rec.calls != 1)
		die("%s, %s: the packer was called %u times, not once", b->label,
		    packer->plugin->desc.name, o->rec.calls);
	check(&in, res, &o->placed);
	o->claims_price = res->total_price;
	prov_result_free(res);
}

/* ------------------------------------------------------------ the table */

static bool markdown;
static unsigned violations;
static long only_pods; /* --pods: only the batches of this many pods, 0: all */

/* The target: up to 1,000 pods, within 1 % of the bound in 2 s. */
#define TARGET_PODS 1000
#define TARGET_GAP_PCT 1.0
#define TARGET_MS 2000.0

struct family {
	const char *workload;
	size_t batches, optimal;
	size_t target_batches, target_met; /* batches of up to TARGET_PODS pods */
	kerf_price_t ffd, ilp;
	double worst_gap, worst_ilp_ms;
	bool gap_known;
};

static double usd(kerf_price_t p)
{
	return (double)p / 1e6;
}

static void violation(const struct batch *b, const char *what)
{
	printf("VIOLATION %s (%zu pods): %s\n", b->label, b->n_pods, what);
	violations++;
}

static void header(void)
{
	static const char *const cols[] = {
	    "workload",	    "pods",	 "FFD $/h", "ILP $/h",	  "LP bound $/h", "vol bound $/h",
	    "ILP saving %", "ILP gap %", "optimal", "FFD ms",	  "ILP ms",	  "ILP own ms",
	    "ILP cpu ms",   "ILP work",	 "stopped", "FFD placed", "ILP placed"};
	size_t n = sizeof(cols) / sizeof(cols[0]);

	if (markdown) {
		for (size_t i = 0; i < n; i++)
			printf("| %s ", cols[i]);
		puts("|");
		for (size_t i = 0; i < n; i++)
			printf(i < 1 ? "| --- " : "| ---: ");
		puts("|");
		return;
	}
	printf("%-16s %5s %10s %10s %12s %13s %12s %9s %7s %8s %8s %10s %10s %9s %7s %10s %10s\n",
	       cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8],
	       cols[9], cols[10], cols[11], cols[12], cols[13], cols[14], cols[15], cols[16]);
}

/* A percentage, or "-" when the base is zero and there is none. */
static void pct(char *buf, size_t n, kerf_price_t part, kerf_price_t base)
{
	if (base <= 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.2f", 100.0 * (double)part / (double)base);
}

static void row(const struct batch *b, const struct outcome *f, const struct outcome *i,
		struct family *fam)
{
	const struct recorder *fr = &f->rec, *ir = &i->rec;
	double f_ms = (double)fr->wall_ns / 1e6, i_ms = (double)ir->wall_ns / 1e6;
	char saving[16], gap[16], bound[24], vol[24];

	pct(saving, sizeof(saving), fr->price - ir->price, fr->price);
	pct(gap, sizeof(gap), ir->price - ir->bound, ir->bound);
	if (ir->bound > 0)
		snprintf(bound, sizeof(bound), "%.3f", usd(ir->bound));
	else
		snprintf(bound, sizeof(bound), "-");
	if (ir->volume_bound >= 0)
		snprintf(vol, sizeof(vol), "%.3f", usd(ir->volume_bound));
	else
		snprintf(vol, sizeof(vol), "-");
	double i_cpu = (double)ir->cpu_ns / 1e6;
	const char *stopped = ir->hit_time_limit ? "yes" : "no";

	if (markdown)
		printf("| %s | %zu | %.3f | %.3f | %s | %s | %s | %s | %s | %.1f | %.1f | %" PRId64
		       " | %.1f | %" PRId64 " | %s | %zu | %zu |\n",
		       b->label, b->n_pods, usd(fr->price), usd(ir->price), bound, vol, saving, gap,
		       ir->optimal ? "yes" : "no", f_ms, i_ms, ir->solve_ms, i_cpu, ir->work,
		       stopped, f->placed, i->placed);
	else
		printf("%-16s %5zu %10.3f %10.3f %12s %13s %12s %9s %7s %8.1f %8.1f %10" PRId64
		       " %10.1f %9" PRId64 " %7s %10zu %10zu\n",
		       b->label, b->n_pods, usd(fr->price), usd(ir->price), bound, vol, saving, gap,
		       ir->optimal ? "yes" : "no", f_ms, i_ms, ir->solve_ms, i_cpu, ir->work,
		       stopped, f->placed, i->placed);

	if (i->placed < f->placed)
		violation(b, "the ILP column placed fewer pods than the FFD column");
	if (i->placed == f->placed && ir->price > fr->price)
		violation(b, "the ILP column costs more than the FFD column for as many pods");
	if (i->placed == b->n_pods && ir->volume_bound > ir->price)
		violation(b, "the ILP column costs less than the bench's own volume bound");
	if (f->placed == b->n_pods && i->placed == b->n_pods && ir->bound > fr->price)
		violation(b, "the FFD column costs less than the ILP column's lower bound");
	if (ir->bound > ir->price || fr->bound > fr->price)
		violation(b, "a lower bound above its own plan's price");
	if (fr->placed != f->placed || ir->placed != i->placed)
		violation(b, "a plan assigns a different number of pods than its NodeClaims hold");
	if (fr->price != f->claims_price || ir->price != i->claims_price)
		violation(b, "a plan's total_price differs from its NodeClaims' prices");

	fam->batches++;
	fam->optimal += ir->optimal;
	fam->ffd += fr->price;
	fam->ilp += ir->price;
	if (i_ms > fam->worst_ilp_ms)
		fam->worst_ilp_ms = i_ms;
	if (ir->bound > 0) {
		double g = 100.0 * (double)(ir->price - ir->bound) / (double)ir->bound;

		if (!fam->gap_known || g > fam->worst_gap)
			fam->worst_gap = g;
		fam->gap_known = true;
		if (b->n_pods <= TARGET_PODS)
			fam->target_met += g <= TARGET_GAP_PCT && i_ms <= TARGET_MS;
	}
	fam->target_batches += b->n_pods <= TARGET_PODS;
}

static void summary(const struct family *fams, size_t n)
{
	puts("");
	for (size_t k = 0; k < n; k++) {
		const struct family *f = &fams[k];
		char saving[16];

		if (!f->batches)
			continue;
		pct(saving, sizeof(saving), f->ffd - f->ilp, f->ffd);
		printf("%s: %zu batches, FFD %.3f $/h, ILP %.3f $/h in all (ILP saves %s %%); "
		       "%zu proven optimal; ",
		       f->workload, f->batches, usd(f->ffd), usd(f->ilp), saving, f->optimal);
		if (f->gap_known)
			printf("worst gap to the bound %.2f %%; ", f->worst_gap);
		else
			printf("no bound; ");
		printf("slowest ILP solve %.1f ms", f->worst_ilp_ms);
		if (f->target_batches)
			printf("; within %.0f %% of the bound in %.0f s: %zu of %zu batches of up "
			       "to %d pods",
			       TARGET_GAP_PCT, TARGET_MS / 1e3, f->target_met, f->target_batches,
			       TARGET_PODS);
		putchar('\n');
	}
	if (violations) {
		printf("%u VIOLATIONS: see the VIOLATION lines above\n", violations);
		fprintf(stderr, "packing: %u VIOLATIONS (see the output)\n", violations);
	} else
		puts("no violations");
}

/* ------------------------------------------------------------ mixed workload */

/*
 * A cluster's usual mix, in fixed shares (the remainder web): 40 % web
 * serving pods spread over the zones by app, 30 % CPU-bound batch, 20 %
 * memory-heavy, 10 % GPU inference, each drawing its requests from a few
 * common sizes so that, as in a real cluster, many pods share a shape.
 */
static void mixed_pods(struct pods *ps, size_t count)
{
	static const char *const apps[] = {"web-a", "web-b", "web-c", "web-d"};
	static const int64_t web_cpu[] = {250, 500, 1000}, web_mem[] = {512, 1024, 2048};
	static const int64_t batch_cpu[] = {2000, 4000, 8000}, batch_gib_per_cpu[] = {1, 2};
	static const int64_t mem_cpu[] = {1000, 2000, 4000}, mem_gib[] = {16, 32, 64};
	static const int64_t gpus[] = {1, 1, 1, 2, 4};
	size_t batch = count * 30 / 100, memory = count * 20 / 100, gpu = count * 10 / 100;
	size_t web = count - batch - memory - gpu;

	bench_seed(2023);
	for (size_t i = 0; i < web; i++) {
		const char *app = apps[rnd(4)];
		int64_t cpu = web_cpu[rnd(3)];
		struct kerf_pod *p = new_pod(ps, cpu, web_mem[rnd(3)] * Mi, 0);

		kerf_labels_set(&p->meta->labels, "app", app);
		pod_spread(p, L_ZONE, "app", app);
	}
	for (size_t i = 0; i < batch; i++) {
		int64_t cpu = batch_cpu[rnd(3)];

		new_pod(ps, cpu, cpu / 1000 * batch_gib_per_cpu[rnd(2)] * Gi, 0);
	}
	for (size_t i = 0; i < memory; i++) {
		int64_t cpu = mem_cpu[rnd(3)];

		new_pod(ps, cpu, mem_gib[rnd(3)] * Gi, 0);
	}
	for (size_t i = 0; i < gpu; i++) {
		int64_t n = gpus[rnd(5)];

		new_pod(ps, 4000 * n, 16 * n * Gi, n);
	}
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fputs("usage: packing [--budget MS] [--work UNITS] [--only alibaba|karpenter|mixed]\n"
	      "               [--pods N] [--ffd PACKER] [--ilp PACKER] [--markdown] [--debug]\n",
	      stderr);
	exit(2);
}

/*
 * As kerfd names a packer's instance, so its log lines read the same.
 * `work`: binpack-ilp's work_limit, 0 to leave it to its default.
 */
static void packer_up(struct loader *ldr, struct plugin_instance *p, const char *name, long work)
{
	char instance[128], config[64];
	struct yt_stream *yaml = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	snprintf(instance, sizeof(instance), "packer/%s", name);
	if (work <= 0) {
		plugin_up(ldr, p, name, KERF_KIND_PACKER, instance, NULL);
		return;
	}
	snprintf(config, sizeof(config), "work_limit: %ld\n", work);
	if (yt_parse_string("packer config", config, strlen(config), &yaml, &err))
		die("%s", err.message);
	plugin_up(ldr, p, name, KERF_KIND_PACKER, instance, yaml->docs[0].root);
	yt_stream_free(yaml);
}

static void compare(const struct batch *b, const struct plugin_instance *ffd,
		    const struct plugin_instance *ilp, int64_t budget_ms, struct family *fam)
{
	struct outcome f, i;

	if (only_pods && b->n_pods != (size_t)only_pods)
		return;
	solve_batch(b, ffd, budget_ms, &f);
	solve_batch(b, ilp, budget_ms, &i);
	row(b, &f, &i, fam);
	fflush(stdout);
}

/* Builds a workload of n pods and compares the packers on it as one batch. */
static void compare_made(const char *label, void (*make)(struct pods *, size_t), size_t n,
			 const struct prov_pool *pool, const struct plugin_instance *ffd,
			 const struct plugin_instance *ilp, int64_t budget_ms, struct family *fam)
{
	struct pods ps = {0};
	struct batch b = {.pool = pool};

	make(&ps, n);
	b.n_pods = ps.n;
	b.pods = (const struct kerf_pod *const *)ps.items;
	snprintf(b.label, sizeof(b.label), "%s", label);
	compare(&b, ffd, ilp, budget_ms, fam);
	pods_free(&ps);
}

/* The same pods as `scheduling n`, whichever batch came before. */
static void karpenter_batch(struct pods *ps, size_t n)
{
	bench_seed(42);
	karpenter_pods(ps, n);
}

int main(int argc, char **argv)
{
	const char *dirs[] = {KERF_BENCH_PLUGINDIR "/binpack-ffd/.libs",
			      KERF_BENCH_PLUGINDIR "/binpack-ilp/.libs",
			      KERF_BENCH_PLUGINDIR "/sim/.libs"};
	static const size_t trace_sizes[] = {50, 200, 1000}, karpenter_sizes[] = {1000, 5000},
			    mixed_sizes[] = {50, 200, 1000};
	struct family fams[] = {
	    {.workload = "alibaba"}, {.workload = "karpenter"}, {.workload = "mixed"}};
	const char *only = NULL, *ffd_name = "binpack-ffd", *ilp_name = "binpack-ilp";
	long budget_ms = 1000, work = 0;
	struct loader *ldr;
	struct plugin_instance ffd = {0}, ilp = {0}, sim = {0};
	struct kerf_instance_type_list *catalogue = NULL, *fake = NULL;
	struct mf_set real_set, fake_set;
	struct prov_pool real_pool, fake_pool;
	struct kerf_error err = KERF_ERROR_INIT;
	bool want[3];

	bench_prog = "packing";
	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
			budget_ms = strtol(argv[++i], &end, 10);
			if (*end || budget_ms < 1 || budget_ms > 3600000)
				usage();
		} else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
			work = strtol(argv[++i], &end, 10);
			if (*end || work < 1)
				usage();
		} else if (strcmp(argv[i], "--pods") == 0 && i + 1 < argc) {
			only_pods = strtol(argv[++i], &end, 10);
			if (*end || only_pods < 1)
				usage();
		} else if (strcmp(argv[i], "--debug") == 0) {
			/* The packers' own debug lines: binpack-ilp's per-part solve statistics. */
			log_set_level(KERF_LOG_DEBUG);
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--ffd") == 0 && i + 1 < argc) {
			ffd_name = argv[++i];
		} else if (strcmp(argv[i], "--ilp") == 0 && i + 1 < argc) {
			ilp_name = argv[++i];
		} else if (strcmp(argv[i], "--markdown") == 0) {
			markdown = true;
		} else {
			usage();
		}
	}
	for (size_t k = 0; k < 3; k++)
		want[k] = !only || strcmp(only, fams[k].workload) == 0;
	if (!want[0] && !want[1] && !want[2])
		usage();

	kerf_error_clear(&err);
	if (loader_new_dirs(dirs, 3, &ldr, &err))
		die("%s", err.message);
	packer_up(ldr, &ffd, ffd_name, 0);
	packer_up(ldr, &ilp, ilp_name, work);
	printf("FFD column: %s %s; ILP column: %s %s; budget_ms %ld; work_limit %ld\n", ffd_name,
	       ffd.plugin->desc.version, ilp_name, ilp.plugin->desc.version, budget_ms, work);
	header();

	if (want[0] || want[2]) {
		catalogue = sim_types(ldr, &sim, KERF_BENCH_CATALOGUE);
		bench_nodepool(&real_set, trace_requirements);
		real_pool =
		    (struct prov_pool){.nodepool = real_set.nodepools[0],
				       .types = catalogue,
				       .class_selectors = sim.plugin->provider.class_selectors};
	}
	if (want[0]) {
		struct pods trace = {0};

		trace_pods(&trace, KERF_BENCH_TRACE);
		for (size_t s = 0; s < sizeof(trace_sizes) / sizeof(trace_sizes[0]); s++) {
			size_t n = trace_sizes[s];

			if (n > trace.n)
				die("%s: %zu pods, fewer than %zu", KERF_BENCH_TRACE, trace.n, n);
			/* The first, the middle and the last n pods, by creation time. */
			size_t starts[] = {0, (trace.n - n) / 2, trace.n - n};

			for (size_t k = 0; k < 3; k++) {
				struct batch b = {.n_pods = n, .pool = &real_pool};

				b.pods = (const struct kerf_pod *const *)trace.items + starts[k];
				snprintf(b.label, sizeof(b.label), "alibaba@%zu", starts[k]);
				compare(&b, &ffd, &ilp, budget_ms, &fams[0]);
			}
		}
		pods_free(&trace);
	}
	if (want[1]) {
		fake = karpenter_types(400);
		bench_nodepool(&fake_set, NULL);
		fake_pool = (struct prov_pool){.nodepool = fake_set.nodepools[0], .types = fake};
		for (size_t s = 0; s < sizeof(karpenter_sizes) / sizeof(karpenter_sizes[0]); s++)
			compare_made("karpenter", karpenter_batch, karpenter_sizes[s], &fake_pool,
				     &ffd, &ilp, budget_ms, &fams[1]);
		mf_set_clear(&fake_set);
		kerf_instance_type_list_free(fake);
	}
	if (want[2]) {
		for (size_t s = 0; s < sizeof(mixed_sizes) / sizeof(mixed_sizes[0]); s++)
			compare_made("mixed", mixed_pods, mixed_sizes[s], &real_pool, &ffd, &ilp,
				     budget_ms, &fams[2]);
	}
	summary(fams, 3);

	if (catalogue) {
		mf_set_clear(&real_set);
		kerf_instance_type_list_free(catalogue);
	}
	plugin_down(&sim);
	plugin_down(&ilp);
	plugin_down(&ffd);
	loader_free(ldr);
	return violations ? 1 : 0;
}
