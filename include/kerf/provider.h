/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/provider.h - the ops a provider (cloud) plugin offers.
 *
 * The provider turns NodeClaims into instances and tells the core what it
 * can launch.  Every op takes the instance state from create() first and a
 * struct kerf_error * last (NULL allowed), returns 0 or a negative
 * KERF_E_*, and may block on the network (bounded by the host's HTTP
 * timeouts).  Inputs are borrowed for the call.  Outputs are built with
 * libkerf's constructors and owned by the caller, who frees them with the
 * matching kerf_*_free (kerf/types.h).
 *
 * Append-only; the descriptor carries sizeof this table as the plugin saw
 * it, and the host treats ops past that size, or NULL optional ops, as
 * KERF_E_UNSUPPORTED.
 *
 * Threads (docs/plugin-abi.md, "Execution model").  Every op with an
 * instance may be called from any host thread and concurrently with every
 * other op: the host runs a batch's launches on a bounded pool of workers
 * (settings.launch_parallelism), so a provider whose create() takes
 * seconds holds up neither the loop nor the other launches.  A provider
 * guards its own shared state.  A throttled call returns
 * KERF_E_THROTTLED with err->retry_after_ms when the cloud said how long
 * to wait.
 */
#ifndef KERF_PROVIDER_H
#define KERF_PROVIDER_H

#include <kerf/doc.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Provider capability bits (descriptor `capabilities`). */
#define KERF_CAP_PROVIDER_SPOT (1ull << 0)     /* offers spot capacity */
#define KERF_CAP_PROVIDER_RESERVED (1ull << 1) /* offers reserved capacity */
#define KERF_CAP_PROVIDER_DRIFT (1ull << 2)    /* implements is_drifted */

/*
 * A node class kind a provider serves: documents with apiVersion
 * "group/version" and this kind are its node classes (ABI 2.0).
 *
 * Value, frozen for the major, like struct kerf_class_selector below: the
 * plugin declares these arrays as static data read before any instance
 * exists, with no constructor to size them and no count or size the host
 * could use to step over a field a later minor appended, so neither ever
 * grows.  A minor that needs more adds a new op-table field instead.
 */
struct kerf_node_class_kind {
	const char *group;   /* "karpenter.k8s.aws" */
	const char *version; /* "v1" */
	const char *kind;    /* "EC2NodeClass" */
};

/*
 * A requirement that asks for special instance types (ABI 2.0).  GPU,
 * accelerator and bare-metal types (kerf_instance_type.classes) go only to
 * pods that ask for them: by requesting a device resource, by an In on
 * node.kubernetes.io/instance-type, or by a requirement (the pod's or its
 * NodePool's) that one of these selectors matches.  `key` ending in '*'
 * matches a requirement with any operator on any key with that prefix;
 * otherwise an In on exactly `key`, and with `value` set only when one of
 * the In's values contains it.  Value, frozen for the major (see struct
 * kerf_node_class_kind).
 */
struct kerf_class_selector {
	const char *key;   /* "example.com/instance-gpu*", "example.com/instance-family" */
	const char *value; /* NULL, or a substring of an In value ("metal") */
	uint32_t classes;  /* KERF_TYPE_* bits the match lets in */
};

typedef enum {
	/* The cloud is taking the instance back soon (spot interruption notice). */
	KERF_INSTANCE_INTERRUPTED = 0,
	/* The cloud advises replacing it (rebalance recommendation, scheduled maintenance). */
	KERF_INSTANCE_RETIRING = 1,
	/* It stopped or terminated without kerf asking. */
	KERF_INSTANCE_TERMINATED = 2,
} kerf_instance_event_type;

/*
 * Object (kerf/types.h): something the cloud said about one instance.
 * Built with kerf_instance_event_new and borrowed by the sink for the call;
 * the host copies what it keeps.  ABI 2.0.
 */
struct kerf_instance_event {
	kerf_instance_event_type type;
	char *provider_id;
	kerf_wall_ms_t at;	/* when the cloud said it, 0 when unknown */
	kerf_wall_ms_t deadline; /* when the instance goes (interruptions), 0 when unknown */
	char *reason;		/* the cloud's words, "Spot Instance Interruption Warning" */
};

/* A new, zeroed instance event and its free (NULL allowed).  Aborts when memory runs out.  ABI 2.0. */
struct kerf_instance_event *kerf_instance_event_new(void);
void kerf_instance_event_free(struct kerf_instance_event *ev);

/*
 * Where a provider delivers instance events.  on_instance is thread-safe,
 * never blocks, and may be called from any thread (the provider's own
 * queue pollers) from start() until destroy() returns.  ABI 2.0.
 */
struct kerf_provider_sink {
	void *ctx;
	void (*on_instance)(void *ctx, const struct kerf_instance_event *event);
};

struct kerf_provider_ops {
	/*
	 * Required (2.0).  Lists every instance type the node class can launch,
	 * with allocatable resources and one offering per zone and capacity
	 * type (price, availability).  `node_class` may be NULL for the
	 * provider's defaults; otherwise it is of a kind the provider serves,
	 * validated, and the provider reads its document (kerf/doc.h),
	 * caching what it parsed as it likes.
	 */
	int (*get_instance_types)(void *inst, const struct kerf_node_class *node_class,
				  struct kerf_instance_type_list **out, struct kerf_error *err);
	/*
	 * Required (2.0).  Launches one instance for the claim: any of the
	 * instance types, zones and capacity types its requirements allow,
	 * the cheapest available offering first.  Idempotent on the claim's
	 * name.  KERF_E_CAPACITY when no allowed offering has capacity.
	 */
	int (*create)(void *inst, const struct kerf_nodeclaim *claim,
		      const struct kerf_node_class *node_class, struct kerf_instance **out,
		      struct kerf_error *err);
	/*
	 * Required (2.0; `delete` before ABI 2, a C++ keyword).  Terminates the
	 * instance; KERF_E_NOTFOUND when it is gone already.
	 */
	int (*delete_instance)(void *inst, const char *provider_id, struct kerf_error *err);
	/* Required (2.0).  Describes one instance; KERF_E_NOTFOUND when unknown. */
	int (*get)(void *inst, const char *provider_id, struct kerf_instance **out,
		   struct kerf_error *err);
	/* Required (2.0).  Lists every instance this provider launched for kerf. */
	int (*list)(void *inst, struct kerf_instance_list **out, struct kerf_error *err);
	/*
	 * Optional (2.0).  Sets *drifted and, when drifted, *reason (host
	 * allocator, caller frees) to a short reason such as "AMIDrift" when
	 * the claim's instance no longer matches its node class.
	 */
	int (*is_drifted)(void *inst, const struct kerf_nodeclaim *claim,
			  const struct kerf_node_class *node_class, bool *drifted, char **reason,
			  struct kerf_error *err);

	/*
	 * ABI 2.0, data.  The node class kinds this provider serves, ended by
	 * an entry whose kind is NULL; static, read before any instance
	 * exists.  NULL: none.  kerfd and `kerfctl validate` hand every
	 * document of these kinds to validate_node_class, and the node class
	 * the other ops receive is always of one of them.
	 */
	const struct kerf_node_class_kind *node_class_kinds;
	/*
	 * ABI 2.0, required with node_class_kinds.  Validates one node class
	 * document, `object` (the whole object; apiVersion, kind and metadata
	 * were checked by the host, and only the fields the host knows are
	 * there at the top: apiVersion, kind, metadata, spec, status), and
	 * reports every problem through `dec`, which positions and prefixes
	 * them ("file:line:column: Kind/name: spec.field: message").  Called
	 * without an instance, any number of times, from the thread that loads
	 * manifests; must not block nor keep `object` or `dec` after it
	 * returns.  Returns 0 when it reported nothing, KERF_E_CONFIG when it
	 * did.
	 */
	int (*validate_node_class)(const struct kerf_doc_node *object, struct kerf_decoder *dec);
	/*
	 * ABI 2.0, data.  The label keys of this provider's instance types
	 * that users may select on in NodePool requirements and pod node
	 * selection (Karpenter's well-known labels), NULL-terminated; NULL:
	 * none.  Karpenter's own (karpenter.sh/capacity-type,
	 * topology.kubernetes.io/zone, node.kubernetes.io/instance-type,
	 * kubernetes.io/arch...) are the core's and need no declaring.  kerfd
	 * and kerfctl declare them to libkerf for the whole process
	 * (kerf_label_is_well_known).
	 */
	const char *const *well_known_labels;
	/*
	 * ABI 2.0, data.  Label domains only this provider may set
	 * ("example.com"), NULL-terminated; NULL: none.  A NodePool label or
	 * requirement key in such a domain is refused unless it is one of
	 * well_known_labels, as Karpenter's CRDs refuse karpenter.sh.
	 */
	const char *const *restricted_label_domains;
	/*
	 * ABI 2.0, data.  The requirements that ask for this provider's
	 * special instance types, ended by an entry whose key is NULL; NULL:
	 * none (only device requests and instance-type In let them in).
	 */
	const struct kerf_class_selector *class_selectors;

	/*
	 * Optional (2.0).  Starts delivering instance events (interruption,
	 * retirement, termination) through `sink` (copied; its ctx and
	 * function stay valid until destroy).  Called once, from the loop
	 * thread, before any other op with the instance; must not block for
	 * long: a provider that polls a queue does it on a thread of its own.
	 */
	int (*start)(void *inst, const struct kerf_provider_sink *sink, struct kerf_error *err);
	/*
	 * Optional (2.0).  Launches n claims of one node class in one call, as
	 * a cloud's fleet API does.  For each i, rcs[i] is set to 0 with
	 * out[i] the instance (owned by the caller), or to a negative KERF_E_*
	 * with errs[i] (when not NULL) saying why; each claim as create()
	 * would launch it, idempotent on its name.  Returns 0 when the call
	 * went through (whatever rcs say), or an error for the whole call
	 * (then rcs are unset).  When present the host uses it for every
	 * group of claims of one batch that share a node class.
	 */
	int (*create_batch)(void *inst, size_t n, const struct kerf_nodeclaim *const *claims,
			    const struct kerf_node_class *node_class, struct kerf_instance **out,
			    int *rcs, struct kerf_error *const *errs, struct kerf_error *err);
	/*
	 * Optional (2.1).  The status the provider keeps for a node class of a
	 * kind it serves, so that users see what its selectors resolved to:
	 * *status (host allocator, caller frees) receives the JSON text of one
	 * object, the node class's whole .status (for an EC2NodeClass:
	 * subnets, securityGroups, amis, instanceProfile and conditions).  A
	 * node class whose selectors find nothing still gets a status, its
	 * conditions saying what is missing; an error means the cloud could
	 * not be asked.  The host hands the text to the cluster plugin's
	 * update_node_class_status when it changed.  May block on the network.
	 */
	int (*node_class_status)(void *inst, const struct kerf_node_class *node_class,
				 char **status, struct kerf_error *err);
};

#ifdef __cplusplus
}
#endif
#endif
