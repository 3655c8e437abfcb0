/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workloads.h - what the benchmarks share: the workloads they run (Karpenter's
 * scheduling benchmark, a CSV trace, the real catalogue as the sim plugin
 * serves it), plugins loaded as kerfd loads them, and the check every
 * result passes before any figure is printed.
 *
 * Bench-internal: nothing here is part of libkerf or the plugin SDK.
 */
#ifndef KERF_BENCH_WORKLOADS_H
#define KERF_BENCH_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/plugin.h>

#include "instance.h"
#include "loader.h"
#include "manifest.h"
#include "provision.h"
#include "yamltree.h"

#define Mi (1024ll * 1024)
#define Gi (1024ll * Mi)

#define L_HOSTNAME "kubernetes.io/hostname"
#define L_ZONE "topology.kubernetes.io/zone"

/* Prefixes die()'s messages; each program sets it to its own name first. */
extern const char *bench_prog;

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A fixed stream: the same seed gives the same workload on every run. */
void bench_seed(uint64_t seed);
size_t rnd(size_t n);

struct pods {
	size_t n, cap;
	struct kerf_pod **items;
};

/* A pending pod named pod-<index>; gpus as nvidia.com/gpu, 0 for none. */
struct kerf_pod *new_pod(struct pods *ps, int64_t cpu_m, int64_t mem, int64_t gpus);
void pods_free(struct pods *ps);

/* Gives p a topology spread over key, maxSkew 1, DoNotSchedule, on pods labelled label=value. */
void pod_spread(struct kerf_pod *p, const char *key, const char *label, const char *value);

/* Karpenter's fake.InstanceTypes(n) and its diverse pods (seed 42 first). */
struct kerf_instance_type_list *karpenter_types(size_t n);
void karpenter_pods(struct pods *ps, size_t count);

/* Every pod of a simulator CSV trace, in the file's order. */
void trace_pods(struct pods *ps, const char *path);

void plugin_up(struct loader *ldr, struct plugin_instance *p, const char *name, uint32_t kind,
	       const char *instance, const struct yt_node *config);
void plugin_down(struct plugin_instance *p);

/* Starts the sim plugin on the catalogue file and returns its instance types. */
struct kerf_instance_type_list *sim_types(struct loader *ldr, struct plugin_instance *sim,
					  const char *catalogue);

/*
 * The benchmarks' one NodePool, "default", with limits no batch reaches;
 * requirements is YAML list items under spec.template.spec.requirements,
 * NULL for none.
 */
void bench_nodepool(struct mf_set *set, const char *requirements);

/* The trace's pool: linux, spot or on-demand. */
extern const char trace_requirements[];

/*
 * Dies unless the result places every pod exactly once or reports it
 * unschedulable, no NodeClaim holds more than its type's allocatable and no
 * two pods with hostname anti-affinity share one; *placed counts the pods
 * on NodeClaims.
 */
void check(const struct prov_input *in, const struct prov_result *r, size_t *placed);

#endif
