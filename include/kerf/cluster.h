/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/cluster.h - the ops a cluster plugin offers.
 *
 * A cluster plugin is kerf's view of Kubernetes: it lists and watches pods,
 * nodes, NodePools, NodeClaims and node classes into the host's cache
 * through an event sink, and writes back what the core decides.  Calling
 * conventions are those of kerf/provider.h.
 *
 * Threads (docs/plugin-abi.md, "Execution model").  start() and poll() are
 * called from the host's loop thread only.  The write ops (NodeClaims,
 * nodes, evictions, events, the lease) may be called from any host thread
 * and concurrently with each other and with poll(): the host's launch
 * workers write NodeClaims while the loop polls.  A plugin that watches
 * several streams runs them on threads of its own and calls the sink from
 * there; poll() may then simply wait.
 */
#ifndef KERF_CLUSTER_H
#define KERF_CLUSTER_H

#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cluster capability bits (descriptor `capabilities`). */
#define KERF_CAP_CLUSTER_LEASE (1ull << 16)         /* implements acquire_lease */
#define KERF_CAP_CLUSTER_EVENTS (1ull << 17)        /* implements emit_event */
/*
 * The plugin can run on the host's virtual clock (kerf.yaml settings.clock:
 * virtual), never waiting in poll(), and implements virtual_end.
 */
#define KERF_CAP_CLUSTER_VIRTUAL_TIME (1ull << 18)
/*
 * ABI 2.1.  The plugin keeps metadata.finalizers as the API server does:
 * update_nodeclaim and update_node write meta->finalizers too, and
 * delete_nodeclaim / delete_node of an object that has finalizers only
 * mark it (meta->deletion_ms, delivered as MODIFIED); it goes (DELETED)
 * once an update removes its last finalizer.  With it kerf puts
 * karpenter.sh/termination on the NodeClaims it launches and on their
 * nodes, so a NodeClaim or node deleted by hand is drained before its
 * instance goes.  Without it kerf adds no finalizer and a hand deletion
 * ends the claim at once.
 */
#define KERF_CAP_CLUSTER_FINALIZERS (1ull << 19)

typedef enum {
	KERF_OBJ_POD = 0,        /* struct kerf_pod */
	KERF_OBJ_NODE = 1,       /* struct kerf_node */
	KERF_OBJ_NODEPOOL = 2,   /* struct kerf_nodepool */
	KERF_OBJ_NODECLAIM = 3,  /* struct kerf_nodeclaim */
	KERF_OBJ_NODE_CLASS = 4, /* struct kerf_node_class */
	/*
	 * ABI 2.0.  struct kerf_pod: a DaemonSet's pod template, with meta
	 * naming the DaemonSet, daemonset = true and node_name NULL.  A
	 * cluster plugin may leave DaemonSets out; kerfd then infers their
	 * overhead from the DaemonSet pods it sees.
	 */
	KERF_OBJ_DAEMONSET = 5,
} kerf_object_kind;

typedef enum {
	KERF_EVENT_ADDED = 0,
	KERF_EVENT_MODIFIED = 1,
	KERF_EVENT_DELETED = 2,
	KERF_EVENT_SYNCED = 3, /* the initial list of `kind` is complete; object is NULL */
} kerf_event_type;

/*
 * Where a cluster plugin delivers objects.  `object` points to the object
 * for `kind`, built with its libkerf constructor (kerf/types.h), and is
 * borrowed for the call only: the host copies what it keeps.  on_object is
 * thread-safe and never blocks on the network: it may be called from any
 * thread (inside start() or poll(), or from the plugin's own watch
 * threads) until destroy() returns.  Events of one kind must arrive in the
 * order the cluster made them; the host applies each on its loop thread in
 * the order received.  ABI 2.0.
 */
struct kerf_event_sink {
	void *ctx;
	void (*on_object)(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object);
};

/*
 * Object (kerf/types.h): a Kubernetes Event about an object, built by the
 * host and borrowed by emit_event for the call.  The strings are borrowed
 * too: the event owns none of them.  ABI 2.0.
 */
struct kerf_event {
	kerf_object_kind kind;
	const char *namespace_; /* NULL for cluster-scoped objects */
	const char *name;
	const char *uid;
	const char *type;   /* "Normal" or "Warning" */
	const char *reason; /* "FailedScheduling", "Launched", ... */
	const char *message;
};

/*
 * The meta of `object`, an object of `kind` as the sink receives it; NULL
 * for a NULL object or an unknown kind.  ABI 2.0.
 */
const struct kerf_meta *kerf_object_meta(kerf_object_kind kind, const void *object);

/*
 * A new, zeroed event (kind KERF_OBJ_POD, every string NULL) of the
 * running kerf's size, and its free, which releases the struct only (NULL
 * allowed).  Aborts when memory runs out.  ABI 2.0.
 */
struct kerf_event *kerf_event_new(void);
void kerf_event_free(struct kerf_event *e);

struct kerf_cluster_ops {
	/*
	 * Required (2.0).  Copies the sink (the struct itself is borrowed
	 * for this call; the ctx and function in it stay valid until
	 * destroy), lists every object kind delivering ADDED, then SYNCED
	 * per kind, and starts watching.  Blocks for the initial lists.
	 */
	int (*start)(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err);
	/*
	 * Required (2.0).  Delivers the changes that arrived since the last
	 * call through the sink, waiting at most timeout_ms of the host clock
	 * for the first one (0: do not wait; a plugin on the virtual clock
	 * never waits).
	 */
	int (*poll)(void *inst, int64_t timeout_ms, struct kerf_error *err);
	/*
	 * Required (2.0).  NodeClaim writes.  create_nodeclaim stores a new
	 * claim (KERF_E_CONFLICT when the name is taken); update_nodeclaim
	 * writes its status and labels, KERF_E_CONFLICT when the claim's
	 * meta->resource_version is set and stale.  When `stored` is not
	 * NULL, *stored receives the claim as the cluster stored it (with the
	 * uid and resource_version it assigned), owned by the caller
	 * (kerf_nodeclaim_free).
	 */
	int (*create_nodeclaim)(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_nodeclaim **stored, struct kerf_error *err);
	int (*update_nodeclaim)(void *inst, const struct kerf_nodeclaim *claim,
				struct kerf_nodeclaim **stored, struct kerf_error *err);
	int (*delete_nodeclaim)(void *inst, const char *name, struct kerf_error *err);
	/*
	 * Required (2.0).  Replaces a node's labels, taints and unschedulable
	 * flag (cordon) with those in `node`; KERF_E_CONFLICT as above.
	 * `stored` as for update_nodeclaim.
	 */
	int (*update_node)(void *inst, const struct kerf_node *node, struct kerf_node **stored,
			   struct kerf_error *err);
	/* Required (2.0).  Deletes the Node object. */
	int (*delete_node)(void *inst, const char *name, struct kerf_error *err);
	/*
	 * Required (2.0).  Evicts a pod through the eviction API, so
	 * PodDisruptionBudgets apply: KERF_E_THROTTLED (retryable) when a
	 * budget forbids it now, KERF_E_NOTFOUND when it is gone.  A refusal
	 * is a normal answer, not a failure: the host retries it with
	 * back-off and logs it at debug level only (ABI 2.1 makes this the
	 * documented contract; 2.0 plugins already answer so).
	 */
	int (*evict_pod)(void *inst, const char *namespace_, const char *name, struct kerf_error *err);
	/*
	 * Optional (2.0).  Tries to take or renew the leader lease for
	 * `identity` for duration_ms; *held says whether this identity holds
	 * it afterwards.  Without it the host assumes it is the only replica.
	 */
	int (*acquire_lease)(void *inst, const char *identity, int64_t duration_ms, bool *held,
			     struct kerf_error *err);
	/* Optional (2.0).  Records a Kubernetes Event. */
	int (*emit_event)(void *inst, const struct kerf_event *event, struct kerf_error *err);
	/*
	 * Required with KERF_CAP_CLUSTER_VIRTUAL_TIME (2.0).  Sets *end_ms to
	 * the host-clock monotonic time at which the plugin's scripted
	 * actions run out (its last arrival or scenario step), 0 when it has
	 * none.  A run on the virtual clock ends once the clock has passed it
	 * and nothing is pending or launching.  Called after start().
	 */
	int (*virtual_end)(void *inst, kerf_mono_ms_t *end_ms, struct kerf_error *err);
	/*
	 * Optional (2.1).  Writes `status`, the JSON text of one object that a
	 * provider's node_class_status made (borrowed for the call), as the
	 * status of the node class that node_class->ref names, through its
	 * status subresource: the fields it holds replace the stored ones.
	 * KERF_E_NOTFOUND when the node class is gone, KERF_E_UNSUPPORTED for
	 * a kind the plugin does not store.  Blocks on the network.  Without
	 * it node class statuses are not written.
	 */
	int (*update_node_class_status)(void *inst, const struct kerf_node_class *node_class,
					const char *status, struct kerf_error *err);
	/*
	 * Optional (2.1).  Deletes a pod, bypassing PodDisruptionBudgets,
	 * with a grace period of grace_period_s seconds (0: at once; the
	 * kubelet still stops it) when the pod's uid is still `uid` (NULL:
	 * any uid), so a pod of the same name made since is left alone.
	 * KERF_E_NOTFOUND when it is gone, KERF_E_CONFLICT when the uid
	 * differs.  Blocks for one write.  The termination controller uses
	 * it only when a node's terminationGracePeriod runs out: without it
	 * pods still on the node then simply go with the instance.
	 */
	int (*delete_pod)(void *inst, const char *namespace_, const char *name, const char *uid,
			  int64_t grace_period_s, struct kerf_error *err);
};

#ifdef __cplusplus
}
#endif
#endif
