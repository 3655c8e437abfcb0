/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi_ops.h - shared pieces of the loader's test plugins.
 *
 * Each tests/abi/abi-*.c is one plugin that is wrong (or right) in exactly
 * one way, so check_loader can assert one code and one message per file.
 * The ops never run: the loader only reads descriptors and ops tables, and
 * only abi-good and abi-createfail have create() called.  The declared name
 * of each plugin is its file stem (abi-good.so declares "abi-good"), as the
 * loader requires.
 */
#ifndef KERF_TESTS_ABI_OPS_H
#define KERF_TESTS_ABI_OPS_H

#include <kerf/plugin.h>

/* Each plugin uses only some of these ops. */
#define ABI_OP static __attribute__((unused))

ABI_OP int tp_create(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	static int instance;
	*out = &instance;
	return 0;
}

ABI_OP void tp_destroy(void *instance)
{
}

ABI_OP int tp_get_instance_types(void *inst, const struct kerf_node_class *node_class,
				     struct kerf_instance_type_list **out, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_provider_create(void *inst, const struct kerf_nodeclaim *claim,
				  const struct kerf_node_class *node_class,
				  struct kerf_instance **out, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_provider_delete(void *inst, const char *provider_id, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_provider_get(void *inst, const char *provider_id, struct kerf_instance **out,
			       struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_provider_list(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_is_drifted(void *inst, const struct kerf_nodeclaim *claim,
			     const struct kerf_node_class *node_class, bool *drifted, char **reason,
			     struct kerf_error *err)
{
	*drifted = false;
	return 0;
}

ABI_OP int tp_start(void *inst, const struct kerf_event_sink *sink, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_poll(void *inst, int64_t timeout_ms, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_claim(void *inst, const struct kerf_nodeclaim *claim,
		struct kerf_nodeclaim **stored, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_by_name(void *inst, const char *name, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_update_node(void *inst, const struct kerf_node *node,
		struct kerf_node **stored, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_evict_pod(void *inst, const char *namespace_, const char *name,
			    struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

ABI_OP int tp_acquire_lease(void *inst, const char *identity, int64_t duration_ms, bool *held,
				struct kerf_error *err)
{
	*held = true;
	return 0;
}

ABI_OP int tp_emit_event(void *inst, const struct kerf_event *event, struct kerf_error *err)
{
	return 0;
}

ABI_OP int tp_solve(void *inst, const struct kerf_pack_problem *problem, int64_t budget_ms,
			struct kerf_pack_plan **out, struct kerf_error *err)
{
	return KERF_E_UNSUPPORTED;
}

/*
 * Tables with every required op set; a plugin copies one and breaks what it
 * tests.  Optional ops are left out: each needs its capability bit.
 */
#define ABI_PROVIDER_OPS                                                                           \
	.get_instance_types = tp_get_instance_types, .create = tp_provider_create,             \
	.delete_instance = tp_provider_delete, .get = tp_provider_get, .list = tp_provider_list

#define ABI_CLUSTER_OPS                                                                            \
	.start = tp_start, .poll = tp_poll, .create_nodeclaim = tp_claim,                    \
	.update_nodeclaim = tp_claim, .delete_nodeclaim = tp_by_name,                          \
	.update_node = tp_update_node, .delete_node = tp_by_name, .evict_pod = tp_evict_pod

#define ABI_PACKER_OPS .solve = tp_solve

/* Schema entries of every kind, well formed; a plugin adds one to break. */
/* clang-format off */
#define ABI_SCHEMA_KEYS                                                                            \
	{.key = "budget", .type = KERF_CFG_DURATION, .default_value = "1s",                       \
	 KERF_CFG_RANGE(1, 60000)},                                                                \
	{.key = "mode", .type = KERF_CFG_STRING, .default_value = "fast",                          \
	 KERF_CFG_VALUES("fast", "exact")},                                                        \
	{.key = "trace", .type = KERF_CFG_STRING, .path = true},                                   \
	{.key = "token", .type = KERF_CFG_STRING, .secret = true}
/* clang-format on */

/* The strings every descriptor needs, for a plugin called `nm`. */
#define ABI_STRINGS(nm)                                                                            \
	.name = nm, .version = "0.0.1", .description = "loader test plugin", .license = "MIT"

#endif
