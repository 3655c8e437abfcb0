/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/types.h - the shared model: labels, requirements, taints, pods,
 * nodes, NodePools, NodeClaims, node classes, instance types and offerings.
 *
 * Values and objects.  The model is made of two kinds of struct, so that a
 * minor release can add a field to any part of it without breaking a
 * plugin built against an older minor:
 *
 *  - Values are frozen for the whole ABI major: struct kerf_resources
 *    (kerf/quantity.h) and the list headers, struct kerf_labels,
 *    kerf_requirements, kerf_taints, kerf_tolerations,
 *    kerf_instance_type_list, kerf_instance_list and every `n_x` count
 *    with its `x` array inside an object, and the static declarations of
 *    a provider's ops table (kerf/provider.h: struct
 *    kerf_node_class_kind, kerf_class_selector).  A value may be embedded
 *    in an object and declared anywhere.
 *  - Objects are the other structs here, struct kerf_event
 *    (kerf/cluster.h) and the problem and plan structs of kerf/packer.h.
 *    A minor may append fields at the end of an object, so only the
 *    newest side knows its size: an object lives alone on the heap and is
 *    reached through a pointer.  It is never embedded in another object
 *    and never laid out in an array; a list of objects is an array of
 *    pointers (`struct kerf_offering **offerings`).  A plugin builds an
 *    object with its constructor, kerf_*_new() or an append helper that
 *    builds the element and adds it to its list: libkerf allocates the
 *    size of the running kerf, zeroed and with the defaults documented
 *    here, so a field the plugin does not know reads as its default and is
 *    freed with the rest.  A plugin never declares an object, allocates
 *    one with sizeof or copies one with '=' (kerf_*_copy() make deep
 *    copies).
 *
 * One allocator.  Everything that crosses between the host, a plugin and
 * libkerf (objects, the arrays of list headers, the strings in both) comes
 * from the process's C library heap: libkerf's constructors, append and
 * copy helpers allocate there, and the host table's allocation slots
 * (kerf/host.h) are the same heap.  Whoever is handed a result owns it and
 * releases it with libkerf: kerf_*_free() for objects, kerf_*_clear() for
 * values, and every one accepts NULL.  An object owns every string, array
 * and object it points to; a list header owns its array and the elements
 * in it.  Constructors and helpers that cannot report an error abort the
 * process when memory runs out, as the host allocator does, so they never
 * return NULL.
 *
 * Units: millicores, bytes, micro-dollars per hour, milliseconds since the
 * Unix epoch (times, kerf_wall_ms_t) or plain milliseconds (durations).
 * Every time a field or service carries names its clock in its type:
 * kerf_wall_ms_t for instants written to objects and logs, kerf_mono_ms_t
 * for the clock durations are measured on (kerf/host.h).
 *
 * Every struct and enum here is ABI 2.0; each function says when it was
 * added.
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

/*
 * Wall time: milliseconds since the Unix epoch, what objects and logs
 * carry (creationTimestamp, status.lastPodEventTime).  It can jump; never
 * subtract it from a kerf_mono_ms_t.  ABI 2.0.
 */
typedef int64_t kerf_wall_ms_t;
/*
 * Monotonic time: milliseconds from an arbitrary origin, for measuring
 * durations (batch windows, timeouts, back-off).  Under the simulator it
 * is the virtual clock.  ABI 2.0.
 */
typedef int64_t kerf_mono_ms_t;

/* ------------------------------------------------------------ labels */

/* Object. */
struct kerf_label {
	char *key;
	char *value;
};

/* Value: a map of string to string, kept sorted by key with unique keys. */
struct kerf_labels {
	size_t n;
	struct kerf_label **items;
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
 * Object: one node selector requirement as written in a manifest: key,
 * operator, values, and Karpenter's minValues (0 when not given).
 */
struct kerf_requirement {
	char *key;
	kerf_operator op;
	size_t n_values;
	char **values;
	int32_t min_values;
};

/* Value: requirements ANDed together (a NodePool's, one affinity term's). */
struct kerf_requirements {
	size_t n;
	struct kerf_requirement **items;
};

/* -------------------------------------------------------------- taints */

typedef enum {
	KERF_EFFECT_ANY = 0, /* tolerations only: matches every effect */
	KERF_EFFECT_NO_SCHEDULE = 1,
	KERF_EFFECT_PREFER_NO_SCHEDULE = 2,
	KERF_EFFECT_NO_EXECUTE = 3,
} kerf_taint_effect;

/* Object. */
struct kerf_taint {
	char *key;
	char *value; /* NULL when empty */
	kerf_taint_effect effect;
};

/* Value. */
struct kerf_taints {
	size_t n;
	struct kerf_taint **items;
};

typedef enum {
	KERF_TOLERATION_EQUAL = 0,
	KERF_TOLERATION_EXISTS = 1,
} kerf_toleration_op;

/* No tolerationSeconds: the toleration lasts for ever. */
#define KERF_TOLERATION_FOREVER INT64_MIN

/* Object. */
struct kerf_toleration {
	char *key; /* NULL: every key (operator Exists only) */
	kerf_toleration_op op;
	char *value; /* NULL when empty */
	kerf_taint_effect effect;
	int64_t toleration_seconds; /* KERF_TOLERATION_FOREVER when unset (the default) */
};

/* Value. */
struct kerf_tolerations {
	size_t n;
	struct kerf_toleration **items;
};

/* ------------------------------------------------------------- objects */

/* Object: metadata common to every object kerf reads or writes. */
struct kerf_meta {
	char *api_version; /* "karpenter.sh/v1", "v1", ... */
	char *kind;        /* "NodePool", "Pod", ... */
	char *name;
	char *namespace_;  /* NULL for cluster-scoped objects */
	char *uid;
	char *resource_version;
	struct kerf_labels labels;
	struct kerf_labels annotations;
	kerf_wall_ms_t creation_ms; /* 0 when unknown */
	kerf_wall_ms_t deletion_ms; /* 0 unless being deleted */
	size_t n_finalizers;
	char **finalizers;
	char *owner_kind; /* controller owner reference, NULL when none */
	char *owner_name;
};

/* -------------------------------------------------------------- pods */

/* Object.  NULL where one is expected selects nothing (Kubernetes' nil selector). */
struct kerf_label_selector {
	struct kerf_labels match_labels;
	struct kerf_requirements match_expressions; /* In, NotIn, Exists, DoesNotExist */
};

/* Object. */
struct kerf_preferred_term {
	int32_t weight;
	struct kerf_requirements preference;
};

/* Object. */
struct kerf_pod_affinity_term {
	struct kerf_label_selector *selector; /* an empty one from the constructor */
	size_t n_namespaces;
	char **namespaces; /* empty: the pod's own namespace */
	char *topology_key;
};

/* Object. */
struct kerf_weighted_pod_affinity_term {
	int32_t weight;
	struct kerf_pod_affinity_term *term; /* built by the constructor */
};

typedef enum {
	KERF_SPREAD_DO_NOT_SCHEDULE = 0,
	KERF_SPREAD_SCHEDULE_ANYWAY = 1,
} kerf_spread_policy;

/* Object. */
struct kerf_topology_spread {
	int32_t max_skew;
	char *topology_key;
	kerf_spread_policy when_unsatisfiable;
	struct kerf_label_selector *selector; /* an empty one from the constructor */
	int32_t min_domains; /* 0 when unset */
};

/* Object. */
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

/* Object. */
struct kerf_pod {
	struct kerf_meta *meta;
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
	struct kerf_requirements **required_terms;
	size_t n_preferred_terms;
	struct kerf_preferred_term **preferred_terms;
	struct kerf_tolerations tolerations;
	size_t n_spreads;
	struct kerf_topology_spread **spreads;
	size_t n_affinity;
	struct kerf_pod_affinity_term **affinity; /* required pod affinity */
	size_t n_anti_affinity;
	struct kerf_pod_affinity_term **anti_affinity; /* required anti-affinity */
	size_t n_preferred_affinity;
	struct kerf_weighted_pod_affinity_term **preferred_affinity;
	size_t n_preferred_anti_affinity;
	struct kerf_weighted_pod_affinity_term **preferred_anti_affinity;
	size_t n_host_ports;
	struct kerf_host_port **host_ports;
	/*
	 * spec.terminationGracePeriodSeconds in ms, -1 when unset (the API
	 * server's default is 30 s).  The termination controller deletes a
	 * pod whose grace period would outlast its node's before the node's
	 * deadline (2.1).
	 */
	int64_t termination_grace_period_ms;
};

/* -------------------------------------------------------------- nodes */

/* Object. */
struct kerf_node {
	struct kerf_meta *meta;
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

/* Object. */
struct kerf_budget {
	int32_t nodes;        /* a count, or a percentage when nodes_percent */
	bool nodes_percent;
	char *schedule;       /* five-field cron or @daily etc.; NULL: always active */
	int64_t duration_ms;  /* how long the window lasts after each schedule hit; 0 with no schedule */
	uint32_t reasons;     /* KERF_REASON_* bits; 0: all reasons */
};

/* Object. */
struct kerf_node_class_ref {
	char *group; /* "karpenter.k8s.aws" */
	char *kind;  /* "EC2NodeClass" */
	char *name;
};

/*
 * Object.  Scalar defaults from the constructor are Karpenter's for a spec
 * that leaves them out; lists start empty (the manifest reader adds
 * Karpenter's default budget).  spec.limits is `limits` (the resources
 * capped; an absent dimension is not limited) and `limit_nodes`.
 */
struct kerf_nodepool {
	struct kerf_meta *meta;
	/* spec.template */
	struct kerf_labels template_labels;
	struct kerf_labels template_annotations;
	struct kerf_node_class_ref *node_class_ref; /* an empty one from the constructor */
	struct kerf_requirements requirements;
	struct kerf_taints taints;
	struct kerf_taints startup_taints;
	int64_t expire_after_ms;               /* default 720h; KERF_DURATION_NEVER */
	int64_t termination_grace_period_ms;   /* -1 when unset (the default) */
	/* spec.disruption */
	kerf_consolidation_policy consolidation_policy;
	int64_t consolidate_after_ms; /* default 0; KERF_DURATION_NEVER for "Never" */
	size_t n_budgets;
	struct kerf_budget **budgets;
	struct kerf_resources limits;           /* spec.limits, all but nodes */
	int64_t limit_nodes;                    /* spec.limits.nodes; -1 when unset (the default) */
	int32_t weight;                         /* 0 when unset (1..100 otherwise) */
	int64_t replicas;                       /* a static NodePool's; -1 when unset (the default) */
	int64_t status_nodes;                   /* status.nodes */
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

/* Object. */
struct kerf_nodeclaim {
	struct kerf_meta *meta;
	char *nodepool; /* label karpenter.sh/nodepool */
	/* spec */
	struct kerf_node_class_ref *node_class_ref; /* an empty one from the constructor */
	struct kerf_requirements requirements;
	struct kerf_taints taints;
	struct kerf_taints startup_taints;
	struct kerf_resources resource_requests;
	int64_t expire_after_ms;             /* default 720h */
	int64_t termination_grace_period_ms; /* -1 when unset (the default) */
	/* status */
	kerf_claim_state state;
	char *provider_id;
	char *node_name;
	char *image_id;
	struct kerf_resources capacity;
	struct kerf_resources allocatable;
	kerf_wall_ms_t launched_ms;
	kerf_wall_ms_t registered_ms;
	kerf_wall_ms_t initialized_ms;
	kerf_wall_ms_t last_pod_event_ms; /* status.lastPodEventTime, 0 when unset */
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
 * Object: a node class, the provider-specific half of a NodePool.  The
 * core knows it only by its reference, its readiness and its document; the
 * provider that serves its kind (kerf_provider_ops.node_class_kinds)
 * validated the document when it was loaded and reads what it needs from
 * `doc` with kerf/doc.h.  The node class owns the document
 * (kerf_node_class_free frees it), and the document keeps the positions it
 * was read with.  ABI 2.0.
 */
struct kerf_node_class {
	struct kerf_meta *meta;
	/* group (of apiVersion), kind, metadata.name; an empty one from the constructor */
	struct kerf_node_class_ref *ref;
	kerf_readiness ready;
	struct kerf_doc *doc; /* the whole object: apiVersion, kind, metadata, spec, status */
};

/* ------------------------------------------------- instance types */

typedef enum {
	KERF_CAPACITY_ON_DEMAND = 0,
	KERF_CAPACITY_SPOT = 1,
	KERF_CAPACITY_RESERVED = 2,
} kerf_capacity_type;

/* Object. */
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

/* Object. */
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
	struct kerf_offering **offerings;
	/*
	 * ABI 2.0.  KERF_TYPE_* bits the provider sets; a type offering an
	 * NVIDIA or AMD GPU or a Neuron device resource counts as GPU or
	 * accelerator whatever it says.
	 */
	uint32_t classes;
};

/* Value. */
struct kerf_instance_type_list {
	size_t n;
	struct kerf_instance_type **items;
};

/* Object: a cloud instance as the provider reports it. */
struct kerf_instance {
	char *provider_id;
	char *instance_type;
	char *zone;
	kerf_capacity_type capacity_type;
	char *image_id;
	struct kerf_labels tags;
	kerf_wall_ms_t launch_ms;
	char *state; /* "pending", "running", "shutting-down", "terminated" ... */
};

/* Value. */
struct kerf_instance_list {
	size_t n;
	struct kerf_instance **items;
};

/* ---------------------------------------------------------- list values */

/*
 * Each frees every element of the list and its array, and leaves the
 * header empty ({0, NULL}); NULL is allowed.  ABI 2.0.
 */
void kerf_labels_clear(struct kerf_labels *l);
void kerf_requirements_clear(struct kerf_requirements *r);
void kerf_taints_clear(struct kerf_taints *t);
void kerf_tolerations_clear(struct kerf_tolerations *t);

/* The value for key, or NULL.  Binary search; l must be sorted.  ABI 2.0. */
const char *kerf_labels_get(const struct kerf_labels *l, const char *key);

/*
 * Sets key to value (both copied), keeping l sorted.  Returns 0,
 * KERF_E_INVALID (a NULL argument) or KERF_E_NOMEM (l unchanged).  ABI 2.0.
 */
int kerf_labels_set(struct kerf_labels *l, const char *key, const char *value);

/*
 * Append deep copies of src's elements to dst (empty it first for a plain
 * copy): labels through kerf_labels_set() (a NULL value as ""), taints and
 * requirements as they are, in src's order.  Abort when memory runs out.
 * ABI 2.0.
 */
void kerf_labels_copy(struct kerf_labels *dst, const struct kerf_labels *src);
void kerf_requirements_copy(struct kerf_requirements *dst, const struct kerf_requirements *src);
void kerf_taints_copy(struct kerf_taints *dst, const struct kerf_taints *src);

/*
 * Appends a new requirement (key NULL, op In, no values), taint (key NULL,
 * effect ANY) or toleration (key NULL, op Equal, effect ANY,
 * toleration_seconds KERF_TOLERATION_FOREVER) and returns it, owned by the
 * list.  Valid until the list is cleared.  Appending a taint does not
 * check for one with the same key and effect; kerf_taints_add()
 * (kerf/taints.h) does.  ABI 2.0.
 */
struct kerf_requirement *kerf_requirements_append(struct kerf_requirements *r);
struct kerf_taint *kerf_taints_append(struct kerf_taints *t);
struct kerf_toleration *kerf_tolerations_append(struct kerf_tolerations *t);

/* Appends a copy of value to r's values.  ABI 2.0. */
void kerf_requirement_add_value(struct kerf_requirement *r, const char *value);

/* --------------------------------------------------------- constructors */

/*
 * New, zeroed objects of the running kerf's size, with the defaults their
 * structs document: every top-level object (pod, node, NodePool,
 * NodeClaim, node class) gets an empty meta, NodePools and NodeClaims an
 * empty node_class_ref, a node class an empty ref, affinity terms and spreads an empty selector, a
 * weighted term its term.  The caller owns the result and frees it with the
 * matching kerf_*_free(); each free function releases everything the
 * object owns, then the object, and accepts NULL.  ABI 2.0.
 */
struct kerf_label *kerf_label_new(void);
struct kerf_requirement *kerf_requirement_new(void);
struct kerf_taint *kerf_taint_new(void);
struct kerf_toleration *kerf_toleration_new(void);
struct kerf_meta *kerf_meta_new(void);
struct kerf_label_selector *kerf_label_selector_new(void);
struct kerf_preferred_term *kerf_preferred_term_new(void);
struct kerf_pod_affinity_term *kerf_pod_affinity_term_new(void);
struct kerf_weighted_pod_affinity_term *kerf_weighted_pod_affinity_term_new(void);
struct kerf_topology_spread *kerf_topology_spread_new(void);
struct kerf_host_port *kerf_host_port_new(void);
struct kerf_pod *kerf_pod_new(void);
struct kerf_node *kerf_node_new(void);
struct kerf_budget *kerf_budget_new(void);
struct kerf_node_class_ref *kerf_node_class_ref_new(void);
struct kerf_nodepool *kerf_nodepool_new(void);
struct kerf_nodeclaim *kerf_nodeclaim_new(void);
struct kerf_node_class *kerf_node_class_new(void);
struct kerf_offering *kerf_offering_new(void);
struct kerf_instance_type *kerf_instance_type_new(void);
struct kerf_instance *kerf_instance_new(void);

void kerf_label_free(struct kerf_label *l);
void kerf_requirement_free(struct kerf_requirement *r);
void kerf_taint_free(struct kerf_taint *t);
void kerf_toleration_free(struct kerf_toleration *t);
void kerf_meta_free(struct kerf_meta *m);
void kerf_label_selector_free(struct kerf_label_selector *s);
void kerf_preferred_term_free(struct kerf_preferred_term *t);
void kerf_pod_affinity_term_free(struct kerf_pod_affinity_term *t);
void kerf_weighted_pod_affinity_term_free(struct kerf_weighted_pod_affinity_term *t);
void kerf_topology_spread_free(struct kerf_topology_spread *s);
void kerf_host_port_free(struct kerf_host_port *p);
void kerf_pod_free(struct kerf_pod *p);
void kerf_node_free(struct kerf_node *n);
void kerf_budget_free(struct kerf_budget *b);
void kerf_node_class_ref_free(struct kerf_node_class_ref *r);
void kerf_nodepool_free(struct kerf_nodepool *np);
void kerf_nodeclaim_free(struct kerf_nodeclaim *nc);
void kerf_node_class_free(struct kerf_node_class *nc);
void kerf_offering_free(struct kerf_offering *o);
void kerf_instance_type_free(struct kerf_instance_type *it);
void kerf_instance_free(struct kerf_instance *in);

/*
 * Build an element with its constructor, append it to the object's list
 * and return it, owned by the object.  ABI 2.0.
 */
struct kerf_requirements *kerf_pod_add_required_term(struct kerf_pod *p);
struct kerf_preferred_term *kerf_pod_add_preferred_term(struct kerf_pod *p);
struct kerf_topology_spread *kerf_pod_add_spread(struct kerf_pod *p);
struct kerf_pod_affinity_term *kerf_pod_add_affinity(struct kerf_pod *p);
struct kerf_pod_affinity_term *kerf_pod_add_anti_affinity(struct kerf_pod *p);
struct kerf_weighted_pod_affinity_term *kerf_pod_add_preferred_affinity(struct kerf_pod *p);
struct kerf_weighted_pod_affinity_term *kerf_pod_add_preferred_anti_affinity(struct kerf_pod *p);
struct kerf_host_port *kerf_pod_add_host_port(struct kerf_pod *p);
struct kerf_budget *kerf_nodepool_add_budget(struct kerf_nodepool *np);
struct kerf_offering *kerf_instance_type_add_offering(struct kerf_instance_type *it);

/*
 * Deep copies of every field the running kerf knows, including fields
 * appended after the caller's minor.  The caller frees the copy with the
 * matching kerf_*_free().  NULL gives NULL; out of memory aborts.  ABI 2.0.
 */
struct kerf_meta *kerf_meta_copy(const struct kerf_meta *m);
struct kerf_pod *kerf_pod_copy(const struct kerf_pod *p);
struct kerf_node *kerf_node_copy(const struct kerf_node *n);
struct kerf_nodeclaim *kerf_nodeclaim_copy(const struct kerf_nodeclaim *nc);
struct kerf_nodepool *kerf_nodepool_copy(const struct kerf_nodepool *np);
struct kerf_node_class *kerf_node_class_copy(const struct kerf_node_class *nc); /* shares the doc */

/* ------------------------------------------------ provider result lists */

/*
 * An empty list on the heap, as a provider op returns it.  The caller owns
 * it and frees it, elements included, with the matching _free().  ABI 2.0.
 */
struct kerf_instance_type_list *kerf_instance_type_list_new(void);
struct kerf_instance_list *kerf_instance_list_new(void);
void kerf_instance_type_list_free(struct kerf_instance_type_list *l);
void kerf_instance_list_free(struct kerf_instance_list *l);

/*
 * Append a new instance type or instance (kerf_*_new()) and return it,
 * owned by the list.  ABI 2.0.
 */
struct kerf_instance_type *kerf_instance_type_list_append(struct kerf_instance_type_list *l);
struct kerf_instance *kerf_instance_list_append(struct kerf_instance_list *l);

/* -------------------------------------------------------------- names */

/* Names for enums, for messages and output.  Static strings.  ABI 2.0. */
const char *kerf_operator_name(kerf_operator op);
const char *kerf_effect_name(kerf_taint_effect e);
const char *kerf_capacity_type_name(kerf_capacity_type c);

#ifdef __cplusplus
}
#endif
#endif
