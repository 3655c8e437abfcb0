/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provisioner.h - Karpenter's provisioning controller around prov_run():
 * the batcher, NodeClaim creation and launch, and the NodeClaim lifecycle
 * (Launched, Registered, Initialized, deleted when registration times out),
 * with the figures kerfd's summary and --report print.
 *
 * The daemon feeds it every object the cluster plugin delivers and the
 * NodePools and node classes of kerf.yaml's manifests, and calls
 * provisioner_reconcile() after each poll.  Times are the host clock's, so
 * a simulation under the virtual clock makes the same decisions as a real
 * run, only faster.
 */
#ifndef KERF_CORE_PROVISIONER_H
#define KERF_CORE_PROVISIONER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kerf/cluster.h>
#include <kerf/error.h>
#include <kerf/packer.h>
#include <kerf/provider.h>
#include <kerf/types.h>

#include "cfg.h"
#include "decision_log.h"
#include "provision.h"

/* Karpenter deletes a NodeClaim whose node has not registered after this long. */
#define PROVISIONER_REGISTRATION_TTL_MS (15 * 60 * 1000)
/* An offering that ran out of capacity is left out of batches for this long. */
#define PROVISIONER_UNAVAILABLE_TTL_MS (3 * 60 * 1000)
/* Instance types and prices are fetched again after this long. */
#define PROVISIONER_TYPES_TTL_MS (5 * 60 * 1000)
/* How often the provider's instances are listed to find leaked ones. */
#define PROVISIONER_GC_INTERVAL_MS (2 * 60 * 1000)
/* A listed instance no NodeClaim owns is terminated once it is this old. */
#define PROVISIONER_GC_GRACE_MS (30 * 1000)
/* How often initialized claims are asked whether they drifted. */
#define PROVISIONER_DRIFT_INTERVAL_MS (5 * 60 * 1000)

struct cluster_state;
struct evq;
struct host_clock;
struct pool;

struct provisioner_config {
	const struct kerf_cluster_ops *cluster;
	void *cluster_inst;
	bool cluster_events;	 /* the cluster implements emit_event */
	bool cluster_finalizers; /* the cluster keeps finalizers (KERF_CAP_CLUSTER_FINALIZERS) */
	const struct kerf_provider_ops *provider;
	void *provider_inst;
	/* The default packer: NodePools that choose none use it. */
	const struct kerf_packer_ops *packer;
	void *packer_inst;
	const char *packer_name;
	/*
	 * Every packer loaded, the default among them, for NodePools that
	 * choose by name; borrowed.  Empty: only the default exists.
	 */
	size_t n_packers;
	const struct prov_packer *packers;
	/* kerf.yaml's nodepools.<name> entries; borrowed.  An annotation wins over them. */
	size_t n_pool_packing;
	const struct cfg_nodepool *pool_packing;
	int64_t batch_idle_ms;
	int64_t batch_max_ms;
	/*
	 * NULL: off.  Otherwise one line per batch and per NodeClaim lifecycle
	 * event (docs/config.md, settings.decision_log); borrowed.
	 */
	struct decision_log *decision_log;
	/*
	 * The daemon's: the records every controller reads, the host clock,
	 * the workers blocking plugin calls run on, and the loop's inbox they
	 * report to.  Borrowed; all used from the loop thread only.
	 */
	struct cluster_state *state;
	struct host_clock *clock;
	struct pool *workers;
	struct evq *evq;
	/* Seeds NodeClaim name suffixes: the same seed, the same names. */
	uint64_t name_seed;
};

struct provisioner;

struct provisioner *provisioner_new(const struct provisioner_config *cfg);
void provisioner_free(struct provisioner *p); /* NULL allowed */

/*
 * Every object the cluster delivers (borrowed for the call), after the
 * daemon applied it to the cluster state: the controller reacts (opens a
 * batch, adopts a NodeClaim, ends a claim whose node went away).
 */
void provisioner_on_object(struct provisioner *p, kerf_event_type type, kerf_object_kind kind,
			   const void *object);

/* An instance event from the provider (borrowed for the call). */
void provisioner_on_instance(struct provisioner *p, const struct kerf_instance_event *ev);

/* Karpenter-style NodePool annotations that choose the packers (docs/config.md). */
#define PROVISIONER_PACKER_ANNOTATION "kerf.dev/packer"
#define PROVISIONER_SHADOW_ANNOTATION "kerf.dev/packer-shadow"

/*
 * A NodePool's packer selection as written: its kerf.dev/packer annotation,
 * else kerf.yaml's nodepools.<name>.packer, else NULL (the default packer);
 * the same for the shadow.  *_at say where each came from, for messages.
 * Everything is borrowed from np and pools.  kerfd and kerfctl simulate
 * both choose through it.
 */
struct prov_selection {
	const char *packer, *packer_at;
	const char *shadow, *shadow_at;
};
void prov_selection_of(const struct cfg_nodepool *pools, size_t n_pools,
		       const struct kerf_nodepool *np, struct prov_selection *out);

/*
 * A NodePool or node class from kerf.yaml's manifests; borrowed until
 * provisioner_free.  The NodePool's packer selection is resolved here: its
 * annotations, else its nodepools.<name> entry, else the default packer.
 * Returns KERF_E_CONFIG naming the NodePool, the annotation and the loaded
 * packers when a selection names a packer that is not loaded or cannot be
 * parsed; the NodePool is not added then.
 */
int provisioner_add_nodepool(struct provisioner *p, const struct kerf_nodepool *np,
			     struct kerf_error *err);
void provisioner_add_node_class(struct provisioner *p, const struct kerf_node_class *nc);

/*
 * Runs a due batch and moves NodeClaims along their lifecycle, at the host
 * clock's time.  Blocking plugin calls go to the workers; their results
 * come back through the evq and are applied when the daemon runs them.
 */
int provisioner_reconcile(struct provisioner *p, struct kerf_error *err);

/*
 * Called once the cluster and provider are started: fetches every
 * NodePool's instance types and lists the provider's instances (their
 * names only; collection waits for adoption), so the first batch need not
 * wait for either.
 */
void provisioner_start(struct provisioner *p);

/* Pods seen bound to a node so far, DaemonSet pods excepted. */
size_t provisioner_pods_scheduled(const struct provisioner *p);

/* Plugin calls handed to the workers whose results have not been applied yet. */
size_t provisioner_in_flight(const struct provisioner *p);

/*
 * True when nothing can change without new pods: no batch open, no NodeClaim
 * between Launched and Initialized, and every pending pod has been found
 * unschedulable by the last batch it was in.
 */
bool provisioner_settled(const struct provisioner *p);

/*
 * The next host-clock monotonic time at which provisioner_reconcile() has
 * something to do by itself (a batch closing, a registration deadline, a
 * refresh); INT64_MAX: none.
 */
kerf_mono_ms_t provisioner_next_ms(const struct provisioner *p);

struct provisioner_status {
	size_t pods_pending; /* unbound pods, DaemonSet pods excepted */
	size_t nodes;
	size_t claims_launching;
	kerf_price_t price_per_hour;
};

void provisioner_status(const struct provisioner *p, struct provisioner_status *out);

/* The run's summary as text (start_ms: when the run began, for the total cost). */
void provisioner_summary(const struct provisioner *p, FILE *f, int64_t start_ms, int64_t now_ms);

/* The same as one JSON document; KERF_E_IO when the file cannot be written. */
int provisioner_report(const struct provisioner *p, const char *path, int64_t start_ms,
		       int64_t now_ms, struct kerf_error *err);

#endif
