/*
 * kerf/types.h - the shared model: labels, requirements, taints, pods,
 * nodes, NodePools, NodeClaims, node classes, instance types and offerings.
 *
 * Plain C structs.  Ownership is uniform: a struct owns every string and
 * array it points to, and its kerf_*_free() (in libkerf; every one accepts
 * NULL) frees them.  Plugins that build these structs for the host allocate
 * every pointer with the host allocator (kerf/host.h), which is malloc-
 * compatible with libkerf's free functions.  Counts are size_t next to the
 * array they count.  Units: millicores, bytes, micro-dollars per hour,
 * milliseconds since the Unix epoch (times) or plain milliseconds
 * (durations).
 *
 * All of these are part of ABI 1.0; a minor bump may only append fields at
 * the end of a struct.
 */
#ifndef KERF_TYPES_H
#define KERF_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/quantity.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Micro-dollars per hour: 1 USD/h is 1000000. */
typedef int64_t kerf_price_t;

/* ------------------------------------------------------------ labels */

struct kerf_label {
	char *key;
	char *value;
};

/* A map of string to string, kept sorted by key with unique keys. */
struct kerf_labels {
	size_t n;
	struct kerf_label *items;
};

/* --------------------------------------------------------- requirements */

typedef enum {
	KERF_OP_IN = 0,
	KERF_OP_NOT_IN = 1,
	KERF_OP_EXISTS = 2,
	KERF_OP_DOES_NOT_EXIST = 3,
	KERF_OP_GT = 4,
	KERF_OP_LT = 5,
	KERF_OP_GTE = 6,
	KERF_OP_LTE = 7,
} kerf_operator;

/*
 * One node selector requirement as written in a manifest: key, operator,
 * values, and Karpenter's minValues (0 when not given).
 */
struct kerf_requirement {
	char *key;
	kerf_operator op;
	size_t n_values;
	char **values;
	int32_t min_values;
};

/* A list of requirements, ANDed together (a NodePool's, one affinity term's). */
struct kerf_requirements {
	size_t n;
	struct kerf_requirement *items;
};

/* -------------------------------------------------------------- taints */

typedef enum {
	KERF_EFFECT_ANY = 0, /* tolerations only: matches every effect */
	KERF_EFFECT_NO_SCHEDULE = 1,
	KERF_EFFECT_PREFER_NO_SCHEDULE = 2,
	KERF_EFFECT_NO_EXECUTE = 3,
} kerf_taint_effect;

struct kerf_taint {
	char *key;
	char *value; /* NULL when empty */
	kerf_taint_effect effect;
};

struct kerf_taints {
	size_t n;
	struct kerf_taint *items;
};

typedef enum {
	KERF_TOLERATION_EQUAL = 0,
	KERF_TOLERATION_EXISTS = 1,
} kerf_toleration_op;

/* No tolerationSeconds: the toleration lasts for ever. */
#define KERF_TOLERATION_FOREVER INT64_MIN

struct kerf_toleration {
	char *key; /* NULL: every key (operator Exists only) */
	kerf_toleration_op op;
	char *value; /* NULL when empty */
	kerf_taint_effect effect;
	int64_t toleration_seconds; /* KERF_TOLERATION_FOREVER when unset */
};

struct kerf_tolerations {
	size_t n;
	struct kerf_toleration *items;
};

/* ------------------------------------------------------------- objects */

/* Metadata common to every object kerf reads or writes. */
struct kerf_meta {
	char *api_version; /* "karpenter.sh/v1", "v1", ... */
	char *kind;        /* "NodePool", "Pod", ... */
	char *name;
	char *namespace_;  /* NULL for cluster-scoped objects */
	char *uid;
	char *resource_version;
	struct kerf_labels labels;
	struct kerf_labels annotations;
	int64_t creation_ms; /* 0 when unknown */
	int64_t deletion_ms; /* 0 unless being deleted */
	size_t n_finalizers;
	char **finalizers;
	char *owner_kind; /* controller owner reference, NULL when none */
	char *owner_name;
};

/* -------------------------------------------------------------- pods */

struct kerf_label_selector {
	struct kerf_labels match_labels;
	struct kerf_requirements match_expressions; /* In, NotIn, Exists, DoesNotExist */
};

struct kerf_preferred_term {
	int32_t weight;
	struct kerf_requirements preference;
};

struct kerf_pod_affinity_term {
	struct kerf_label_selector selector;
	size_t n_namespaces;
	char **namespaces; /* empty: the pod's own namespace */
	char *topology_key;
};

struct kerf_weighted_pod_affinity_term {
	int32_t weight;
	struct kerf_pod_affinity_term term;
};

typedef enum {
	KERF_SPREAD_DO_NOT_SCHEDULE = 0,
	KERF_SPREAD_SCHEDULE_ANYWAY = 1,
} kerf_spread_policy;

struct kerf_topology_spread {
	int32_t max_skew;
	char *topology_key;
	kerf_spread_policy when_unsatisfiable;
	struct kerf_label_selector selector;
	int32_t min_domains; /* 0 when unset */
};

struct kerf_host_port {
	uint16_t port;
	char protocol[8]; /* "TCP", "UDP", "SCTP" */
	char *host_ip;    /* NULL: every address */
};

typedef enum {
	KERF_POD_PENDING = 0,
	KERF_POD_RUNNING = 1,
	KERF_POD_SUCCEEDED = 2,
	KERF_POD_FAILED = 3,
	KERF_POD_UNKNOWN = 4,
} kerf_pod_phase;

struct kerf_pod {
	struct kerf_meta meta;
	char *node_name; /* NULL while unbound */
	kerf_pod_phase phase;
	bool unschedulable;   /* condition PodScheduled=False, reason Unschedulable */
	bool daemonset;       /* owned by a DaemonSet */
	bool do_not_disrupt;  /* karpenter.sh/do-not-disrupt: "true" */
	int32_t priority;
	char *priority_class;
	/*
	 * Effective requests: the larger of the sum over containers and the
	 * largest init container, plus pod overhead; "pods" is always 1.
	 */
	struct kerf_resources requests;
	struct kerf_labels node_selector;
	/* Required node affinity: the pod fits when any one term matches. */
	size_t n_required_terms;
	struct kerf_requirements *required_terms;
	size_t n_preferred_terms;
	struct kerf_preferred_term *preferred_terms;
	struct kerf_tolerations tolerations;
	size_t n_spreads;
	struct kerf_topology_spread *spreads;
	size_t n_affinity;
	struct kerf_pod_affinity_term *affinity; /* required pod affinity */
	size_t n_anti_affinity;
	struct kerf_pod_affinity_term *anti_affinity; /* required anti-affinity */
	size_t n_preferred_affinity;
	struct kerf_weighted_pod_affinity_term *preferred_affinity;
	size_t n_preferred_anti_affinity;
	struct kerf_weighted_pod_affinity_term *preferred_anti_affinity;
	size_t n_host_ports;
	struct kerf_host_port *host_ports;
};

/* -------------------------------------------------------------- nodes */

struct kerf_node {
	struct kerf_meta meta;
	char *provider_id; /* "aws:///us-east-1a/i-0123..." */
	struct kerf_taints taints;
	struct kerf_resources capacity;
	struct kerf_resources allocatable;
	bool ready;
	bool unschedulable; /* cordoned */
};

/* ------------------------------------------------------------ NodePool */

typedef enum {
	KERF_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED = 0, /* Karpenter's default */
	KERF_CONSOLIDATE_WHEN_EMPTY = 1,
	KERF_CONSOLIDATE_BALANCED = 2,
} kerf_consolidation_policy;

/* Bits of kerf_budget.reasons; 0 means every reason. */
#define KERF_REASON_UNDERUTILIZED (1u << 0)
#define KERF_REASON_EMPTY (1u << 1)
#define KERF_REASON_DRIFTED (1u << 2)

struct kerf_budget {
	int32_t nodes;        /* a count, or a percentage when nodes_percent */
	bool nodes_percent;
	char *schedule;       /* five-field cron or @daily etc.; NULL: always active */
	int64_t duration_ms;  /* how long the window lasts after each schedule hit; 0 with no schedule */
	uint32_t reasons;     /* KERF_REASON_* bits; 0: all reasons */
};

struct kerf_node_class_ref {
	char *group; /* "karpenter.k8s.aws" */
	char *kind;  /* "EC2NodeClass" */
	char *name;
};

/* Limits: a NodePool's ceiling.  `nodes` is -1 when not limited. */
struct kerf_limits {
	struct kerf_resources resources;
	int64_t nodes;
};

struct kerf_nodepool {
	struct kerf_meta meta;
	/* spec.template */
	struct kerf_labels template_labels;
	struct kerf_labels template_annotations;
	struct kerf_node_class_ref node_class_ref;
	struct kerf_requirements requirements;
	struct kerf_taints taints;
	struct kerf_taints startup_taints;
	int64_t expire_after_ms;               /* default 720h; KERF_DURATION_NEVER */
	int64_t termination_grace_period_ms;   /* -1 when unset */
	/* spec.disruption */
	kerf_consolidation_policy consolidation_policy;
	int64_t consolidate_after_ms; /* default 0; KERF_DURATION_NEVER for "Never" */
	size_t n_budgets;
	struct kerf_budget *budgets; /* default: one budget of 10% */
	struct kerf_limits limits;
	int32_t weight; /* 0 when unset (1..100 otherwise) */
	/* appended (manifests) */
	int64_t replicas; /* spec.replicas, a static NodePool; -1 when unset */
	int64_t status_nodes; /* status.nodes */
	struct kerf_resources status_resources; /* status.resources */
};

/* ------------------------------------------------------------ NodeClaim */

typedef enum {
	KERF_CLAIM_PENDING = 0,
	KERF_CLAIM_LAUNCHED = 1,
	KERF_CLAIM_REGISTERED = 2,
	KERF_CLAIM_INITIALIZED = 3,
	KERF_CLAIM_DELETING = 4,
} kerf_claim_state;

struct kerf_nodeclaim {
	struct kerf_meta meta;
	char *nodepool; /* label karpenter.sh/nodepool */
	/* spec */
	struct kerf_node_class_ref node_class_ref;
	struct kerf_requirements requirements;
	struct kerf_taints taints;
	struct kerf_taints startup_taints;
	struct kerf_resources resource_requests;
	int64_t expire_after_ms;
	int64_t termination_grace_period_ms; /* -1 when unset */
	/* status */
	kerf_claim_state state;
	char *provider_id;
	char *node_name;
	char *image_id;
	struct kerf_resources capacity;
	struct kerf_resources allocatable;
	int64_t launched_ms;
	int64_t registered_ms;
	int64_t initialized_ms;
	/* appended (manifests) */
	int64_t last_pod_event_ms; /* status.lastPodEventTime, 0 when unset */
};

/* ---------------------------------------------------------- node class */

struct kerf_doc; /* kerf/doc.h */

/* Whether a node class is ready, as its status.conditions[type=Ready] says.  ABI 2.0. */
typedef enum {
	KERF_READY_UNKNOWN = 0, /* no Ready condition, or status Unknown */
	KERF_READY_TRUE = 1,
	KERF_READY_FALSE = 2,
} kerf_readiness;

/*
 * A node class: the provider-specific half of a NodePool.  The core knows
 * it only by its reference, its readiness and its document; the provider
 * that serves its kind (kerf_provider_ops.node_class_kinds) validated the
 * document when it was loaded and reads what it needs from `doc` with
 * kerf/doc.h.  The node class owns the document (kerf_node_class_free frees
 * it), and the document keeps the positions it was read with.  ABI 2.0.
 */
struct kerf_node_class {
	struct kerf_meta meta;
	struct kerf_node_class_ref ref; /* group (of apiVersion), kind, metadata.name */
	kerf_readiness ready;
	struct kerf_doc *doc; /* the whole object: apiVersion, kind, metadata, spec, status */
};

/* ------------------------------------------------- instance types */

typedef enum {
	KERF_CAPACITY_ON_DEMAND = 0,
	KERF_CAPACITY_SPOT = 1,
	KERF_CAPACITY_RESERVED = 2,
} kerf_capacity_type;

struct kerf_offering {
	char *zone;
	kerf_capacity_type capacity_type;
	kerf_price_t price; /* micro-dollars per hour */
	bool available;
	char *reservation_id; /* reserved offerings only */
};

/*
 * Bits of kerf_instance_type.classes (ABI 2.0): types a pod gets only when
 * it asks for them (kerf/provider.h, struct kerf_class_selector).
 */
#define KERF_TYPE_GPU (1u << 0)
#define KERF_TYPE_ACCELERATOR (1u << 1)
#define KERF_TYPE_METAL (1u << 2)

struct kerf_instance_type {
	char *name;
	/*
	 * What the type satisfies: its well-known labels (arch, os,
	 * instance-type, family, size, category, generation, cpu, memory,
	 * gpu...).  Each requirement is an In with the type's value(s).
	 */
	struct kerf_requirements requirements;
	struct kerf_resources capacity;
	struct kerf_resources allocatable; /* capacity less kube/system reserved and eviction threshold */
	size_t n_offerings;
	struct kerf_offering *offerings;
	/*
	 * ABI 2.0.  KERF_TYPE_* bits the provider sets; a type offering an
	 * NVIDIA or AMD GPU or a Neuron device resource counts as GPU or
	 * accelerator whatever it says.
	 */
	uint32_t classes;
};

struct kerf_instance_type_list {
	size_t n;
	struct kerf_instance_type *items;
};

/* A cloud instance as the provider reports it. */
struct kerf_instance {
	char *provider_id;
	char *instance_type;
	char *zone;
	kerf_capacity_type capacity_type;
	char *image_id;
	struct kerf_labels tags;
	int64_t launch_ms;
	char *state; /* "pending", "running", "shutting-down", "terminated" ... */
};

struct kerf_instance_list {
	size_t n;
	struct kerf_instance *items;
};

/* ------------------------------------------------------------ free */

/*
 * Each frees everything the object owns and then the object itself;
 * NULL is allowed.  The *_clear variants free what an embedded object owns
 * and zero it, without freeing the object itself.  ABI 1.0.
 */
void kerf_labels_clear(struct kerf_labels *l);
void kerf_requirements_clear(struct kerf_requirements *r);
void kerf_taints_clear(struct kerf_taints *t);
void kerf_tolerations_clear(struct kerf_tolerations *t);
void kerf_meta_clear(struct kerf_meta *m);
void kerf_pod_free(struct kerf_pod *p);
void kerf_node_free(struct kerf_node *n);
void kerf_nodepool_free(struct kerf_nodepool *np);
void kerf_nodeclaim_free(struct kerf_nodeclaim *nc);
void kerf_node_class_free(struct kerf_node_class *nc);
void kerf_instance_type_clear(struct kerf_instance_type *it);
void kerf_instance_type_list_free(struct kerf_instance_type_list *l);
void kerf_instance_clear(struct kerf_instance *in);
void kerf_instance_free(struct kerf_instance *in);
void kerf_instance_list_free(struct kerf_instance_list *l);

/* ------------------------------------------------------------ labels API */

/* The value for key, or NULL.  Binary search; l must be sorted.  ABI 1.0. */
const char *kerf_labels_get(const struct kerf_labels *l, const char *key);

/*
 * Sets key to value (both copied), keeping l sorted.  Returns 0 or
 * KERF_E_NOMEM.  ABI 1.0.
 */
int kerf_labels_set(struct kerf_labels *l, const char *key, const char *value);

/* Names for enums, for messages and output.  Static strings.  ABI 1.0. */
const char *kerf_operator_name(kerf_operator op);
const char *kerf_effect_name(kerf_taint_effect e);
const char *kerf_capacity_type_name(kerf_capacity_type c);

#ifdef __cplusplus
}
#endif
#endif
