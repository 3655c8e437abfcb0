/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provisioner_int.h - what provisioner.c (batches) and lifecycle.c (the
 * NodeClaim lifecycle and the plugin calls it hands to the workers) share.
 */
#ifndef KERF_CORE_PROVISIONER_INT_H
#define KERF_CORE_PROVISIONER_INT_H

#include <jansson.h>
#include <sys/types.h>

#include "provisioner.h"
#include "state.h"

#define COMPONENT "provisioner"

#define LABEL_NODEPOOL "karpenter.sh/nodepool"
#define LABEL_REGISTERED "karpenter.sh/registered"
#define LABEL_INITIALIZED "karpenter.sh/initialized"
#define LABEL_ZONE "topology.kubernetes.io/zone"
#define LABEL_CAPACITY_TYPE "karpenter.sh/capacity-type"
#define LABEL_INSTANCE_TYPE "node.kubernetes.io/instance-type"
#define LABEL_HOSTNAME "kubernetes.io/hostname"
#define TAG_NODECLAIM "karpenter.sh/nodeclaim"
#define TAINT_UNREGISTERED "karpenter.sh/unregistered"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define TAINT_DISRUPTED "karpenter.sh/disrupted"
/* The NodePool template a NodeClaim was made from, and how that hash is computed. */
#define ANNOTATION_POOL_HASH "karpenter.sh/nodepool-hash"
#define ANNOTATION_POOL_HASH_VERSION "karpenter.sh/nodepool-hash-version"
/*
 * kerf's own: the price (micro-USD per hour) a NodeClaim was launched at,
 * so a claim adopted after its offering was withdrawn still has one.
 */
#define ANNOTATION_LAUNCH_PRICE "kerf.dev/launch-price"
#define POOL_HASH_VERSION "kerf-v1"
/* On NodeClaims and nodes kerf owns, with a cluster that keeps finalizers. */
#define PROV_FINALIZER "karpenter.sh/termination"

/* How a NodePool's batches are packed (docs/config.md, "Packers per NodePool"). */
struct pool_packing {
	const char *mode; /* "single", "split" or "shadow" */
	char *selection;  /* as written, for the decision log */
	size_t n;
	const struct prov_packer **packers;
	unsigned *weights;
	const struct prov_packer *shadow; /* NULL: none */
};

/*
 * A NodePool kerf provisions for, from kerf.yaml's manifests or the
 * cluster.  Never removed, so claims can name it by index: a NodePool the
 * cluster deletes is only marked.
 */
struct pool_rec {
	struct kerf_nodepool *np;	/* owned copy */
	struct kerf_node_class *nc;	/* owned copy; NULL until its class is known */
	bool deleted;
	/*
	 * The provider's instance types, owned; NULL until the first fetch
	 * returns.  `available` keeps each offering's availability as the
	 * provider gave it (offerings in list order), so the ones kerf found
	 * out of capacity can come back when their time is up.
	 */
	struct kerf_instance_type_list *types;
	bool *available;
	kerf_mono_ms_t types_at;
	bool fetching;
	/* The node class status last written for this pool's class, so an unchanged one is not written again. */
	char *status_written;
	struct pool_packing packing;
	const struct prov_packer *chosen; /* the packer of the batch being run */
};

/* An offering a launch found without capacity, left out until `until`. */
struct unavailable {
	char *type, *zone;
	kerf_capacity_type ct;
	kerf_mono_ms_t until;
};

struct launch_group;
struct term;

/* Disruption reasons, in the order the figures keep them. */
enum disruption_reason {
	DISRUPT_EMPTY,
	DISRUPT_DRIFTED,
	DISRUPT_UNDERUTILIZED,
	DISRUPT_EXPIRED,
	DISRUPT_N_REASONS
};

struct disruption_figures {
	size_t decisions;
	size_t nodes[DISRUPT_N_REASONS]; /* nodes disrupted by reason */
	size_t pods_moved;
	kerf_price_t saved; /* micro-dollars per hour: price before less price after, summed */
};

/* A Kubernetes Event waiting for the workers: every string owned but type and reason. */
struct prov_event {
	kerf_object_kind kind;
	char *namespace_, *name, *uid, *message;
	const char *type, *reason;
};

struct provisioner {
	struct provisioner_config cfg;
	struct cluster_state *st; /* the daemon's, borrowed */
	size_t n_pools, cap_pools;
	struct pool_rec *pools;
	/* Pool name -> index + 1, so that adding 50,000 NodePools is not quadratic. */
	struct hmap pool_index;
	size_t n_classes, cap_classes;
	struct kerf_node_class **classes; /* owned copies: manifests' and the cluster's */
	bool batch_open;
	kerf_mono_ms_t batch_first_ms, batch_last_ms;
	size_t batches;
	size_t pods_scheduled;
	size_t n_tts, cap_tts;
	int64_t *tts; /* pod creation to bound, ms */
	struct prov_packer dflt;
	struct ab_report *ab; /* every batch's per-NodePool figures, for the A/B summary */
	size_t n_unavail, cap_unavail;
	struct unavailable *unavail;
	uint64_t rng; /* NodeClaim name suffixes */
	size_t in_flight; /* jobs handed to the workers, not yet applied */
	kerf_mono_ms_t next_gc_ms, next_drift_ms;
	bool gc_running;
	/*
	 * The provider has listed its instances once.  Until then nothing is
	 * launched: a new claim's name must not be one an instance still
	 * carries (`names_on_instances`, every karpenter.sh/nodeclaim tag ever
	 * listed), or the provider, idempotent on the name, would hand that
	 * instance to it.
	 */
	bool listed;
	struct strset names_on_instances;
	bool adopted_scan; /* the cluster's NodeClaims were looked at once synced */
	size_t n_terms;
	struct term **terms; /* terminations under way (core/disruption/termination.c) */
	size_t pods_evicted, evictions_refused;
	/* What the disruption controller did (core/disruption), for the summary and --report. */
	struct disruption_figures disruption;
	/*
	 * Events wait here for the workers, a few at a time, so neither the
	 * loop thread nor a worker waits long on the plugin's rate limit.
	 */
	size_t n_events, cap_events, events_head;
	struct prov_event *events;
	bool events_busy; /* a job of events is on the workers */
	size_t events_queued, events_sent, events_failed; /* for --report */
};

/* provisioner.c */
const char *prov_err_text(const struct kerf_error *e, int rc);
kerf_mono_ms_t prov_now(const struct provisioner *p);
kerf_wall_ms_t prov_wall(const struct provisioner *p);
void prov_batch_touch(struct provisioner *p, kerf_mono_ms_t now);
bool prov_pod_waiting(const struct pod_rec *r);
void prov_release_pods(struct provisioner *p, const struct claim_rec *c);
/*
 * Capacity went away (a claim ended): pods the last batch refused may have
 * been refused for room that no longer exists, so they are looked at again.
 */
void prov_capacity_changed(struct provisioner *p);
void prov_claim_event(struct provisioner *p, const char *event, const struct claim_rec *c);
/*
 * Queues a Kubernetes Event (copying the strings but type and reason,
 * which are literals) for the workers; nothing when the cluster plugin
 * emits none.
 */
void prov_event_queue(struct provisioner *p, kerf_object_kind kind, const struct kerf_meta *m,
		      const char *type, const char *reason, const char *message);
/* Releases what the event owns. */
void prov_event_clear(struct prov_event *e);
/* Hands the next few queued events to the workers unless some are there already. */
void prov_events_flush(struct provisioner *p);
void prov_claim_fields(const struct provisioner *p, json_t *o, const struct claim_rec *c);
void prov_launch_failed_event(struct provisioner *p, const struct claim_rec *c, const char *why);
const struct kerf_instance_type *prov_find_type(const struct kerf_instance_type_list *l,
						const char *name);
kerf_price_t prov_offering_price(const struct kerf_instance_type *t, const char *zone,
				 kerf_capacity_type ct, kerf_price_t fallback);
void prov_launching_labels(struct claim_rec *c, const struct kerf_instance_type *t);
/* A fresh name, the pool's and five random characters, that no claim or instance has. */
char *prov_claim_name(struct provisioner *p, const char *pool);
ssize_t prov_pool_index(const struct provisioner *p, const char *name);
/* A batch's decision-log line with its launches filled in: to the A/B figures and the log. */
void prov_batch_line_done(struct provisioner *p, json_t *line);

/*
 * The hash of what a NodePool's template gives its nodes (labels,
 * annotations, taints, startup taints, node class, expireAfter,
 * terminationGracePeriod; not requirements, which drift on their own), as
 * a decimal string in out.
 */
void prov_pool_hash(const struct kerf_nodepool *np, char *out, size_t len);

/* What moving the pods off some claims would take (prov_consolidate). */
struct prov_consolidation {
	bool fits;	/* every pod placed, on the other nodes and at most the new ones */
	size_t pods;	/* pods that would move */
	size_t n_new;	/* new nodes it needs */
	kerf_price_t new_price;
	/* With one new node: its type, capacity type, and its options cheaper than old_price_limit. */
	const char *new_type; /* borrowed until the next batch */
	kerf_capacity_type new_capacity_type;
	kerf_price_t old_price_limit; /* set by the caller before the call */
	size_t cheaper_types;
	struct claim_rec *launched; /* the replacement, when launched */
};

/*
 * Karpenter's consolidation simulation: the pods a drain of `victims`
 * would move, scheduled as a batch on every other node and NodeClaim
 * (the victims' nodes taken out) and at most new ones.  With launch, a
 * single new NodeClaim is launched (its pods are not nominated: they stay
 * where they are until the drain) and returned in out->launched.
 */
int prov_consolidate(struct provisioner *p, size_t n, struct claim_rec *const *victims, bool launch,
		     struct prov_consolidation *out, struct kerf_error *err);

/* lifecycle.c */
/*
 * Hands the batch's claims to the workers.  The group takes the batch's
 * decision-log line (o, finished when the last launch is applied) and the
 * claims (records already in the state, launching).
 */
void prov_launch(struct provisioner *p, size_t n, struct claim_rec **claims, char ***options,
		 json_t *line, json_t **claim_lines, const struct kerf_resources *reqs);
void prov_lifecycle(struct provisioner *p);
void prov_adopt(struct provisioner *p, const struct kerf_nodeclaim *nc);
void prov_fetch_types(struct provisioner *p, size_t pool);
void prov_gc(struct provisioner *p);
void prov_drift(struct provisioner *p);
void prov_claim_update(struct provisioner *p, struct claim_rec *c);
/* Hands fn(arg) to the workers; its completion must call prov_done() first. */
void prov_submit(struct provisioner *p, void (*fn)(void *arg), void *arg);
void prov_done(struct provisioner *p);
bool prov_has_taint_key(const struct kerf_taints *t, const char *key);
/* Adds PROV_FINALIZER to m unless it has it. */
void prov_add_finalizer(struct kerf_meta *m);

/* core/disruption/termination.c */
/*
 * Ends c: with drain, taint and drain its node first (the file's comment
 * says how); then terminate its instance and delete its node and claim.
 * `why` names the end in the log and the decision log.  Nothing happens
 * when c is ending already.
 */
void prov_terminate(struct provisioner *p, struct claim_rec *c, const char *why, bool drain);
/* Moves every termination under way one step along; each pass. */
void prov_terminations(struct provisioner *p);
bool prov_terminating(const struct provisioner *p);
/* When a drain waiting on a back-off or its grace period must look again; INT64_MAX: none. */
kerf_mono_ms_t prov_terminations_next_ms(const struct provisioner *p);
void prov_terminations_free(struct provisioner *p);
/*
 * On a worker: deletes the NodeClaim and, with finalizers, writes it back
 * without kerf's so the cluster lets it go.
 */
int prov_claim_remove(struct provisioner *p, const struct kerf_nodeclaim *nc,
		      struct kerf_error *err);

#endif
