/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_abi_compat.c - a plugin built against the frozen ABI 2.0 headers,
 * loaded into a later minor.
 *
 * This program and the libkerf it links are compiled from headers in which
 * every model object has gained a field at its end (made by
 * tests/abi/model-layout.py --append), as a later minor would add one.
 * abi-frozen.so was compiled against tests/abi/frozen-2.0 and links
 * libkerf.so.2 by soname, so in this process its constructors are the
 * grown library's.  Each test passes objects both ways and checks that
 * every field arrives where its reader looks, that the objects the plugin
 * built have the grown size, and that the grown field the plugin never
 * knew of stays as the host set it.  Under ASan a layout mistake is also a
 * heap overflow.
 */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "loader.h"

#define ABI_DIR KERF_TEST_BUILDDIR "/tests/abi/.libs"
#define SENTINEL 0x5eedf00dLL

static struct loader *ldr;
static const struct loader_plugin *plug;
static void *state;

static void log_nothing(void *ctx, kerf_log_level level, const char *fmt, ...)
{
}

static void *host_malloc(void *ctx, size_t n)
{
	return malloc(n ? n : 1);
}

static void *host_calloc(void *ctx, size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

static void *host_realloc(void *ctx, void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

static char *host_strdup(void *ctx, const char *s)
{
	return strdup(s);
}

static void host_free(void *ctx, void *p)
{
	free(p);
}

static const struct kerf_host host = {
    .size = sizeof(struct kerf_host),
    .abi_major = KERF_ABI_MAJOR,
    .abi_minor = KERF_ABI_MINOR,
    .instance_name = "compat/abi-frozen",
    .log = log_nothing,
    .malloc = host_malloc,
    .calloc = host_calloc,
    .realloc = host_realloc,
    .strdup = host_strdup,
    .free = host_free,
};

static void setup(void)
{
	const char *dirs[] = {ABI_DIR};
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "abi-frozen",
				  KERF_KIND_PROVIDER | KERF_KIND_CLUSTER | KERF_KIND_PACKER, &plug,
				  &err) == 0,
		      "%s", err.message);
	ck_assert_int_eq(loader_create(plug, &host, &state, &err), 0);
}

static void teardown(void)
{
	loader_destroy(plug, state);
	loader_free(ldr);
}

/* The object came from the grown libkerf, not from a 2.0-sized allocation. */
#define ASSERT_GROWN(p)                                                                            \
	ck_assert_msg(malloc_usable_size((void *)(p)) >= sizeof(*(p)),                             \
		      #p ": %zu bytes for a %zu-byte object", malloc_usable_size((void *)(p)),     \
		      sizeof(*(p)))

START_TEST(this_build_is_grown)
{
	/* Guards the test itself: the headers it was compiled from did grow. */
	struct kerf_pod *pod = kerf_pod_new();
	ck_assert_int_eq(pod->abi_test_appended, 0);
	ck_assert_int_eq(pod->meta->abi_test_appended, 0);
	pod->abi_test_appended = SENTINEL;
	kerf_pod_free(pod);
	ck_assert_uint_eq(plug->desc.abi_major, 2);
	ck_assert_uint_eq(plug->desc.abi_minor, 0);

	/*
	 * The plugin, loaded, did not bring its own libkerf: the one file
	 * mapped is the grown one this program links, so the plugin's
	 * constructors are the grown library's.
	 */
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], first[2048] = "";
	int files = 0;
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path || !strstr(path, "/libkerf"))
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(first, path) == 0)
			continue;
		snprintf(first, sizeof(first), "%s", path);
		files++;
	}
	fclose(f);
	ck_assert_int_eq(files, 1);
	ck_assert_msg(strstr(first, "/abi/appended/") != NULL, "libkerf mapped from %s", first);
}
END_TEST

START_TEST(provider_instance_types)
{
	struct kerf_instance_type_list *l = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(plug->provider.get_instance_types(state, NULL, &l, &err), 0);
	ck_assert_uint_eq(l->n, 2);
	const struct kerf_instance_type *small = l->items[0], *large = l->items[1];
	ASSERT_GROWN(small);
	ASSERT_GROWN(large);
	ck_assert_str_eq(small->name, "frozen.small");
	ck_assert_str_eq(large->name, "frozen.large");
	ck_assert_int_eq(large->capacity.cpu_millis, 8000);
	ck_assert_int_eq(large->capacity.memory_bytes, 32LL << 30);
	ck_assert_int_eq(large->allocatable.pods, 20);
	ck_assert_uint_eq(large->requirements.n, 1);
	ASSERT_GROWN(large->requirements.items[0]);
	ck_assert_str_eq(large->requirements.items[0]->values[0], "frozen.large");
	ck_assert_uint_eq(large->n_offerings, 1);
	ASSERT_GROWN(large->offerings[0]);
	ck_assert_str_eq(large->offerings[0]->zone, "zone-a");
	ck_assert_int_eq(large->offerings[0]->price, 400000);
	ck_assert(large->offerings[0]->available);
	ck_assert_int_eq(large->abi_test_appended, 0);
	ck_assert_int_eq(large->offerings[0]->abi_test_appended, 0);
	kerf_instance_type_list_free(l);
}
END_TEST

START_TEST(provider_launch)
{
	struct kerf_nodeclaim *claim = kerf_nodeclaim_new();
	struct kerf_requirement *zone = kerf_requirements_append(&claim->requirements);
	struct kerf_requirement *type = kerf_requirements_append(&claim->requirements);
	struct kerf_instance *in = NULL;
	struct kerf_error err;

	/* Fields a 2.0 plugin cannot know of, set where it must not look. */
	claim->abi_test_appended = SENTINEL;
	claim->meta->abi_test_appended = SENTINEL;
	zone->abi_test_appended = SENTINEL;
	claim->meta->name = strdup("general-x7k2p");
	kerf_labels_set(&claim->meta->labels, "karpenter.sh/nodepool", "general");
	claim->meta->labels.items[0]->abi_test_appended = SENTINEL;
	zone->key = strdup("topology.kubernetes.io/zone");
	zone->op = KERF_OP_IN;
	kerf_requirement_add_value(zone, "zone-a");
	type->key = strdup("node.kubernetes.io/instance-type");
	type->op = KERF_OP_IN;
	kerf_requirement_add_value(type, "frozen.large");
	kerf_requirement_add_value(type, "frozen.small");

	kerf_error_clear(&err);
	ck_assert_msg(plug->provider.create(state, claim, NULL, &in, &err) == 0, "%s", err.message);
	ASSERT_GROWN(in);
	ck_assert_str_eq(in->provider_id, "frozen:///zone-a/general-x7k2p");
	ck_assert_str_eq(in->instance_type, "frozen.large");
	ck_assert_str_eq(in->zone, "zone-a");
	ck_assert_str_eq(in->state, "pending");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodeclaim"), "general-x7k2p");
	ck_assert_str_eq(kerf_labels_get(&in->tags, "karpenter.sh/nodepool"), "general");
	ck_assert_int_eq(in->abi_test_appended, 0);
	ck_assert_int_eq(claim->abi_test_appended, SENTINEL);
	ck_assert_int_eq(claim->meta->abi_test_appended, SENTINEL);
	kerf_instance_free(in);
	kerf_nodeclaim_free(claim);
}
END_TEST

struct seen {
	int pods, nodes, synced;
};

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *object)
{
	struct seen *s = ctx;

	if (type == KERF_EVENT_SYNCED) {
		ck_assert_ptr_null(object);
		s->synced++;
		return;
	}
	ck_assert_int_eq(type, KERF_EVENT_ADDED);
	if (kind == KERF_OBJ_POD) {
		const struct kerf_pod *pod = object;
		ASSERT_GROWN(pod);
		ASSERT_GROWN(pod->meta);
		ck_assert_str_eq(pod->meta->name, "frozen-pod");
		ck_assert_str_eq(pod->meta->namespace_, "default");
		ck_assert_str_eq(kerf_labels_get(&pod->meta->labels, "app"), "frozen");
		ck_assert_int_eq(pod->requests.cpu_millis, 1500);
		ck_assert(pod->unschedulable);
		ck_assert_uint_eq(pod->tolerations.n, 1);
		ASSERT_GROWN(pod->tolerations.items[0]);
		ck_assert_str_eq(pod->tolerations.items[0]->key, "dedicated");
		ck_assert_int_eq(pod->tolerations.items[0]->op, KERF_TOLERATION_EXISTS);
		/* The constructor's default for a field the plugin left alone. */
		ck_assert_int_eq(pod->tolerations.items[0]->toleration_seconds,
				 KERF_TOLERATION_FOREVER);
		ck_assert_int_eq(pod->abi_test_appended, 0);
		s->pods++;
	} else {
		ck_assert_int_eq(kind, KERF_OBJ_NODE);
		const struct kerf_node *node = object;
		ASSERT_GROWN(node);
		ck_assert_str_eq(node->meta->name, "frozen-node");
		ck_assert_str_eq(node->provider_id, "frozen:///zone-a/frozen-node");
		ck_assert_int_eq(node->allocatable.cpu_millis, 2000);
		ck_assert(node->ready);
		ck_assert_uint_eq(node->taints.n, 1);
		ck_assert_str_eq(node->taints.items[0]->value, "frozen");
		ck_assert_int_eq(node->taints.items[0]->effect, KERF_EFFECT_NO_SCHEDULE);
		s->nodes++;
	}
}

START_TEST(cluster_events)
{
	struct seen s = {0};
	const struct kerf_event_sink sink = {.ctx = &s, .on_object = on_object};
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(plug->cluster.start(state, &sink, &err), 0);
	ck_assert_int_eq(s.pods, 1);
	ck_assert_int_eq(s.nodes, 1);
	ck_assert_int_eq(s.synced, 5);
}
END_TEST

START_TEST(packer_plan)
{
	/* Two types (2 and 8 cpus), one zone; 5 pods of 1.5 cpu want frozen.large. */
	static const char *const dims[] = {"cpu"}, *const zones[] = {"zone-a"};
	static const int64_t small_alloc[] = {2000}, large_alloc[] = {8000}, req[] = {1500};
	static const uint32_t types_of_group[] = {1};
	struct kerf_pack_offering off_small = {.zone = 0, .price = 50000},
				  off_large = {.zone = 0, .price = 400000};
	const struct kerf_pack_offering *offs_small[] = {&off_small}, *offs_large[] = {&off_large};
	struct kerf_pack_type small = {.name = "frozen.small",
				       .allocatable = small_alloc,
				       .n_offerings = 1,
				       .offerings = offs_small};
	struct kerf_pack_type large = {.name = "frozen.large",
				       .allocatable = large_alloc,
				       .n_offerings = 1,
				       .offerings = offs_large};
	struct kerf_pack_group group = {.count = 5,
					.request = req,
					.n_types = 1,
					.types = types_of_group,
					.zone = -1,
					.capacity_types = 1u << KERF_CAPACITY_ON_DEMAND};
	const struct kerf_pack_type *types[] = {&small, &large};
	const struct kerf_pack_group *groups[] = {&group};
	struct kerf_pack_problem problem = {.n_dims = 1,
					    .dim_names = dims,
					    .n_zones = 1,
					    .zone_names = zones,
					    .n_types = 2,
					    .types = types,
					    .n_groups = 1,
					    .groups = groups};
	struct kerf_pack_plan *plan = NULL;
	struct kerf_error err;

	small.abi_test_appended = large.abi_test_appended = SENTINEL;
	off_small.abi_test_appended = off_large.abi_test_appended = SENTINEL;
	group.abi_test_appended = problem.abi_test_appended = SENTINEL;
	kerf_error_clear(&err);
	ck_assert_int_eq(plug->packer.solve(state, &problem, 1000, &plan, &err), 0);
	ASSERT_GROWN(plan);
	/* 8000 / 1500: five pods to a node, so one frozen.large holds all five. */
	ck_assert_uint_eq(plan->n_nodes, 1);
	const struct kerf_pack_node *n = plan->nodes[0];
	ASSERT_GROWN(n);
	ck_assert_int_eq(n->open_index, -1);
	ck_assert_uint_eq(n->type, 1);
	ck_assert_int_eq(n->price, 400000);
	ck_assert_uint_eq(n->n_assign, 1);
	ASSERT_GROWN(n->assign[0]);
	ck_assert_uint_eq(n->assign[0]->count, 5);
	ck_assert_int_eq(plan->total_price, 400000);
	ck_assert_int_eq(plan->abi_test_appended, 0);
	kerf_pack_plan_free(plan);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("abi-compat");
	TCase *tc = tcase_create("frozen-2.0");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, this_build_is_grown);
	tcase_add_test(tc, provider_instance_types);
	tcase_add_test(tc, provider_launch);
	tcase_add_test(tc, cluster_events);
	tcase_add_test(tc, packer_plan);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
