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
 */
#ifndef KERF_PROVIDER_H
#define KERF_PROVIDER_H

#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Provider capability bits (descriptor `capabilities`). */
#define KERF_CAP_PROVIDER_SPOT (1ull << 0)     /* offers spot capacity */
#define KERF_CAP_PROVIDER_RESERVED (1ull << 1) /* offers reserved capacity */
#define KERF_CAP_PROVIDER_DRIFT (1ull << 2)    /* implements is_drifted */

struct kerf_provider_ops {
	/*
	 * Required (2.0).  Lists every instance type the node class can launch,
	 * with allocatable resources and one offering per zone and capacity
	 * type (price, availability).  `node_class` may be NULL for the
	 * provider's defaults.
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
	/* Required (2.0).  Terminates the instance; KERF_E_NOTFOUND when it is gone already. */
	int (*delete)(void *inst, const char *provider_id, struct kerf_error *err);
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
};

#ifdef __cplusplus
}
#endif
#endif
