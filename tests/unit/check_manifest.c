/*
 * check_manifest.c - Karpenter v1 manifests: the good corpus parses into the
 * expected structs, every file of the bad corpus gives exactly the
 * diagnostics listed in its .expected file (one "LINE:COL: message" per
 * line, the file name prepended by the test).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <kerf/requirements.h>

#include "manifest.h"

#define MDIR KERF_TEST_DATADIR "/manifests"
#define DEFAULT_KARPENTER_EXAMPLES "/work/shared/reference/karpenter-crds/examples"

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int load(struct mf_set *set, const char *path, struct mf_diags *d, struct kerf_error *err)
{
	mf_set_init(set);
	memset(d, 0, sizeof(*d));
	kerf_error_clear(err);
	return mf_load_file(set, path, d, err);
}

static void dump(const struct mf_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  %s\n", d->items[i].message);
}

/* ---------------------------------------------------------- the corpus */

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static size_t check_bad_file(const char *name)
{
	char path[1024], exp_path[1024];
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	char *expected, *line, *save = NULL;
	size_t i = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/bad/%s", MDIR, name);
	snprintf(exp_path, sizeof(exp_path), "%.*s.expected", (int)(strlen(path) - 5), path);
	expected = read_text(exp_path);
	ck_assert_msg(expected != NULL, "%s has no .expected file", name);
	rc = load(&set, path, &d, &err);
	if (rc != KERF_E_CONFIG)
		dump(&d);
	ck_assert_msg(rc == KERF_E_CONFIG, "%s: rc %d", name, rc);
	ck_assert_int_eq(err.code, KERF_E_CONFIG);
	ck_assert_uint_gt(d.n, 0);
	ck_assert_uint_eq(err.line, d.items[0].line);
	ck_assert_uint_eq(err.column, d.items[0].column);
	for (line = strtok_r(expected, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[2048];
		snprintf(want, sizeof(want), "%s:%s", path, line);
		if (i >= d.n || strcmp(d.items[i].message, want) != 0) {
			dump(&d);
			ck_abort_msg("%s: diagnostic %zu:\n  want %s\n  got  %s", name, i, want,
				     i < d.n ? d.items[i].message : "(none)");
		}
		i++;
	}
	if (i != d.n)
		dump(&d);
	ck_assert_msg(i == d.n, "%s: %zu diagnostics, %zu expected", name, d.n, i);
	/* Invalid objects are left out. */
	ck_assert_uint_eq(set.n_nodepools + set.n_nodeclaims + set.n_node_classes, 0);
	free(expected);
	mf_diags_clear(&d);
	mf_set_clear(&set);
	return i;
}

START_TEST(bad_corpus)
{
	DIR *dir = opendir(MDIR "/bad");
	struct dirent *e;
	size_t files = 0, diags = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!ends_with(e->d_name, ".yaml"))
			continue;
		diags += check_bad_file(e->d_name);
		files++;
	}
	closedir(dir);
	ck_assert_uint_ge(files, 20);
	ck_assert_uint_ge(diags, 100);
}
END_TEST

START_TEST(good_corpus)
{
	DIR *dir = opendir(MDIR "/good");
	struct dirent *e;
	size_t files = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		char path[1024];
		struct mf_set set;
		struct mf_diags d;
		struct kerf_error err = KERF_ERROR_INIT;
		int rc;

		if (!ends_with(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/good/%s", MDIR, e->d_name);
		rc = load(&set, path, &d, &err);
		if (rc)
			dump(&d);
		ck_assert_msg(rc == 0, "%s: rc %d: %s", e->d_name, rc, err.message);
		ck_assert_uint_eq(d.n, 0);
		mf_diags_clear(&d);
		mf_set_clear(&set);
		files++;
	}
	closedir(dir);
	ck_assert_uint_ge(files, 3);
}
END_TEST

/* The messages the brief promises, spelled out in full. */
START_TEST(key_messages)
{
	static const struct {
		const char *file, *needle;
	} cases[] = {
	    {"np-gt-two-values.yaml",
	     ":15:19: NodePool/gen: spec.template.spec.requirements[0].values: operator 'Gt' "
	     "requires a single non-negative integer value, got 2 values"},
	    {"np-minvalues.yaml",
	     ":19:22: NodePool/ray-worker-nodepool: spec.template.spec.requirements[1].minValues: "
	     "minValues (3) exceeds the number of values (2)"},
	    {"np-restricted.yaml",
	     ":21:16: NodePool/restricted: spec.template.spec."
	     "requirements[0].key: label \"kubernetes.io/foo\" is restricted"},
	    {"np-restricted.yaml", ":23:16: NodePool/restricted: spec.template.spec."
				   "requirements[1].key: label \"karpenter.sh/nodepool\" is "
				   "restricted"},
	    {"np-unknown-field.yaml", ":16:7: NodePool/typo: spec.template.spec.requirment: "
				      "unknown field \"requirment\" (did you mean "
				      "\"requirements\"?)"},
	    {"np-limits.yaml", ":14:10: NodePool/limits: spec.limits.cpu: invalid quantity "
			       "\"12Zi\""},
	    {"ec2-role-profile.yaml", ": EC2NodeClass/both: spec: must specify exactly one of "
				      "['role', 'instanceProfile']"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[1024];
		struct mf_set set;
		struct mf_diags d;
		struct kerf_error err = KERF_ERROR_INIT;
		bool found = false;

		snprintf(path, sizeof(path), "%s/bad/%s", MDIR, cases[i].file);
		ck_assert_int_eq(load(&set, path, &d, &err), KERF_E_CONFIG);
		for (size_t j = 0; j < d.n && !found; j++) {
			const char *m = d.items[j].message;
			found = strncmp(m, path, strlen(path)) == 0 && strstr(m, cases[i].needle);
		}
		if (!found)
			dump(&d);
		ck_assert_msg(found, "%s: no diagnostic containing %s", cases[i].file,
			      cases[i].needle);
		mf_diags_clear(&d);
		mf_set_clear(&set);
	}
}
END_TEST

/* ------------------------------------------------------------- fields */

static const struct kerf_requirement *find_req(const struct kerf_requirements *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->items[i]->key, key) == 0)
			return r->items[i];
	}
	return NULL;
}

START_TEST(ray_worker_example)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_nodepool *np;
	const struct kerf_ec2_node_class *e;
	const struct kerf_requirement *r;
	int rc = load(&set, KERF_TEST_SRCDIR "/examples/ray-worker.yaml", &d, &err);

	if (rc)
		dump(&d);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(set.n_nodepools, 1);
	ck_assert_uint_eq(set.n_node_classes, 1);
	ck_assert_uint_eq(set.n_nodeclaims, 0);
	ck_assert_uint_eq(set.n_other, 0);

	ck_assert_str_eq(set.node_classes[0]->meta->name, "ray-worker-node-class");
	ck_assert_str_eq(set.node_classes[0]->meta->kind, "EC2NodeClass");
	ck_assert_str_eq(set.node_classes[0]->meta->api_version, "karpenter.k8s.aws/v1");
	e = set.node_classes[0]->ec2;
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->role, "KarpenterNodeRole-my-cluster");
	ck_assert_ptr_null(e->instance_profile);
	ck_assert_str_eq(e->ami_family, "AL2"); /* from the alias */
	ck_assert_uint_eq(e->ami_selector_terms.n, 1);
	ck_assert_str_eq(e->ami_selector_terms.items[0].alias, "al2@latest");
	ck_assert_uint_eq(e->subnet_selector_terms.n, 1);
	ck_assert_str_eq(
	    kerf_labels_get(&e->subnet_selector_terms.items[0].tags, "karpenter.sh/discovery"),
	    "my-cluster");
	ck_assert_uint_eq(e->security_group_selector_terms.n, 1);
	ck_assert_str_eq(kerf_labels_get(&e->security_group_selector_terms.items[0].tags,
					 "karpenter.sh/discovery"),
			 "my-cluster");
	ck_assert_str_eq(e->http_endpoint, "enabled");
	ck_assert_str_eq(e->http_protocol_ipv6, "disabled");
	ck_assert_str_eq(e->http_tokens, "required");
	ck_assert_int_eq(e->http_put_response_hop_limit, 1);
	ck_assert_int_eq(e->associate_public_ip_address, -1);
	ck_assert(!e->has_kubelet);

	np = set.nodepools[0];
	ck_assert_str_eq(np->meta->name, "ray-worker-nodepool");
	ck_assert_str_eq(kerf_labels_get(&np->template_labels, "app-name"), "ray-worker");
	ck_assert_uint_eq(np->template_annotations.n, 1);
	ck_assert_str_eq(np->node_class_ref->group, "karpenter.k8s.aws");
	ck_assert_str_eq(np->node_class_ref->kind, "EC2NodeClass");
	ck_assert_str_eq(np->node_class_ref->name, "ray-worker-node-class");
	ck_assert_uint_eq(np->requirements.n, 6);
	r = find_req(&np->requirements, "kubernetes.io/arch");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->op, KERF_OP_IN);
	ck_assert_uint_eq(r->n_values, 1);
	ck_assert_str_eq(r->values[0], "amd64");
	ck_assert_int_eq(r->min_values, 0);
	r = find_req(&np->requirements, "karpenter.k8s.aws/instance-size");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->n_values, 3);
	ck_assert_str_eq(r->values[2], "xlarge");
	r = find_req(&np->requirements, "karpenter.k8s.aws/instance-generation");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->op, KERF_OP_GT);
	ck_assert_str_eq(r->values[0], "2");
	ck_assert_str_eq(np->requirements.items[2]->key, "karpenter.sh/capacity-type");
	ck_assert_str_eq(np->requirements.items[2]->values[0], "on-demand");
	ck_assert_uint_eq(np->taints.n, 1);
	ck_assert_str_eq(np->taints.items[0]->key, "ray.io/node-type");
	ck_assert_str_eq(np->taints.items[0]->value, "worker");
	ck_assert_int_eq(np->taints.items[0]->effect, KERF_EFFECT_NO_SCHEDULE);
	ck_assert_uint_eq(np->startup_taints.n, 0);
	ck_assert_int_eq(np->limits.cpu_millis, 80000);
	ck_assert_int_eq(np->limits.memory_bytes, 320LL << 30);
	ck_assert_uint_eq(np->limits.present, KERF_RES_CPU | KERF_RES_MEMORY);
	ck_assert_int_eq(np->limit_nodes, -1);
	ck_assert_int_eq(np->expire_after_ms, 360LL * 3600 * 1000);
	ck_assert_int_eq(np->termination_grace_period_ms, -1);
	ck_assert_int_eq(np->consolidation_policy, KERF_CONSOLIDATE_WHEN_EMPTY);
	ck_assert_int_eq(np->consolidate_after_ms, 30000);
	ck_assert_uint_eq(np->n_budgets, 1);
	ck_assert_int_eq(np->budgets[0]->nodes, 10);
	ck_assert(np->budgets[0]->nodes_percent);
	ck_assert_ptr_null(np->budgets[0]->schedule);
	ck_assert_int_eq(np->weight, 0);
	ck_assert_int_eq(np->replicas, -1);

	/* The requirements are a satisfiable set for the requirement engine. */
	struct kerf_reqset *rs = kerf_reqset_new();
	ck_assert_int_eq(kerf_reqset_add_requirements(rs, &np->requirements, NULL), 0);
	ck_assert(kerf_reqset_allows(rs, "karpenter.k8s.aws/instance-generation", "3"));
	ck_assert(!kerf_reqset_allows(rs, "karpenter.k8s.aws/instance-generation", "2"));
	kerf_reqset_free(rs);

	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(nodepool_defaults_and_budgets)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_nodepool *np;
	const struct kerf_requirement *r;
	bool present;

	ck_assert_int_eq(load(&set, MDIR "/good/nodepool-defaults.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 2);
	np = set.nodepools[0];
	ck_assert_str_eq(np->meta->name, "minimal");
	ck_assert_int_eq(np->expire_after_ms, 720LL * 3600 * 1000);
	ck_assert_int_eq(np->consolidation_policy, KERF_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED);
	ck_assert_int_eq(np->consolidate_after_ms, 0);
	ck_assert_uint_eq(np->n_budgets, 1);
	ck_assert_int_eq(np->budgets[0]->nodes, 10);
	ck_assert(np->budgets[0]->nodes_percent);
	ck_assert_uint_eq(np->budgets[0]->reasons, 0);
	ck_assert_int_eq(np->limit_nodes, -1);
	ck_assert_uint_eq(np->limits.present, 0);
	ck_assert_uint_eq(np->requirements.n, 0);
	ck_assert_int_eq(np->weight, 0);

	np = set.nodepools[1];
	ck_assert_str_eq(np->meta->name, "budgets");
	ck_assert_int_eq(np->weight, 50);
	ck_assert_int_eq(np->expire_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(np->termination_grace_period_ms, 5400000);
	ck_assert_int_eq(np->consolidation_policy, KERF_CONSOLIDATE_BALANCED);
	ck_assert_int_eq(np->consolidate_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(np->limit_nodes, 20);
	ck_assert_int_eq(kerf_resources_get(&np->limits, "nvidia.com/gpu", &present), 8);
	ck_assert(present);
	ck_assert_uint_eq(np->n_budgets, 3);
	ck_assert_int_eq(np->budgets[0]->nodes, 0);
	ck_assert(!np->budgets[0]->nodes_percent);
	ck_assert_str_eq(np->budgets[0]->schedule, "@daily");
	ck_assert_int_eq(np->budgets[0]->duration_ms, 600000);
	ck_assert_uint_eq(np->budgets[0]->reasons, KERF_REASON_DRIFTED | KERF_REASON_EMPTY);
	ck_assert_int_eq(np->budgets[1]->nodes, 100);
	ck_assert(np->budgets[1]->nodes_percent);
	ck_assert_uint_eq(np->budgets[1]->reasons, KERF_REASON_UNDERUTILIZED);
	ck_assert_int_eq(np->budgets[2]->nodes, 3);
	ck_assert_int_eq(np->budgets[2]->duration_ms, 5400000);
	ck_assert_str_eq(kerf_labels_get(&np->template_labels, "node.kubernetes.io/pool"), "batch");
	r = find_req(&np->requirements, "karpenter.k8s.aws/instance-cpu");
	ck_assert_int_eq(r->op, KERF_OP_LTE);
	r = find_req(&np->requirements, "topology.kubernetes.io/zone");
	ck_assert_int_eq(r->op, KERF_OP_NOT_IN);
	ck_assert_uint_eq(r->n_values, 0);
	ck_assert_uint_eq(np->startup_taints.n, 1);
	ck_assert_int_eq(np->startup_taints.items[0]->effect, KERF_EFFECT_NO_EXECUTE);
	ck_assert_ptr_null(np->startup_taints.items[0]->value);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(ec2_every_field)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_ec2_node_class *e;
	const struct kerf_block_device_mapping *b;
	bool present;

	ck_assert_int_eq(load(&set, MDIR "/good/ec2-full.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_node_classes, 1);
	ck_assert_str_eq(kerf_labels_get(&set.node_classes[0]->meta->labels, "team"), "infra");
	e = set.node_classes[0]->ec2;
	ck_assert_str_eq(e->ami_family, "AL2023");
	ck_assert_uint_eq(e->ami_selector_terms.n, 3);
	ck_assert_str_eq(e->ami_selector_terms.items[0].name, "my-ami-*");
	ck_assert_str_eq(e->ami_selector_terms.items[0].owner, "123456789012");
	ck_assert_ptr_nonnull(e->ami_selector_terms.items[1].ssm_parameter);
	ck_assert_str_eq(kerf_labels_get(&e->ami_selector_terms.items[2].tags, "team"), "infra");
	ck_assert_ptr_null(e->role);
	ck_assert_str_eq(e->instance_profile, "KarpenterNodeInstanceProfile-my-cluster");
	ck_assert_uint_eq(e->subnet_selector_terms.n, 2);
	ck_assert_str_eq(e->subnet_selector_terms.items[0].id, "subnet-0123456789abcdef0");
	ck_assert_str_eq(e->security_group_selector_terms.items[0].name, "eks-cluster-sg");
	ck_assert_uint_eq(e->capacity_reservation_selector_terms.n, 2);
	ck_assert_str_eq(e->capacity_reservation_selector_terms.items[0].id,
			 "cr-0123456789abcdef0");
	ck_assert_str_eq(e->capacity_reservation_selector_terms.items[1].owner_id, "123456789012");
	ck_assert_str_eq(e->capacity_reservation_selector_terms.items[1].instance_match_criteria,
			 "open");
	ck_assert_str_eq(e->user_data, "echo hello\n");
	ck_assert_str_eq(kerf_labels_get(&e->tags, "team"), "infra");
	ck_assert_str_eq(e->context, "ctx-1");
	ck_assert(e->detailed_monitoring);
	ck_assert_int_eq(e->associate_public_ip_address, 0);
	ck_assert_str_eq(e->instance_store_policy, "RAID0");
	ck_assert_int_eq(e->ip_prefix_count, 2);

	ck_assert(e->has_kubelet);
	ck_assert_int_eq(e->kubelet.max_pods, 110);
	ck_assert_int_eq(e->kubelet.pods_per_core, 4);
	ck_assert_uint_eq(e->kubelet.n_cluster_dns, 1);
	ck_assert_str_eq(e->kubelet.cluster_dns[0], "10.0.0.10");
	ck_assert_int_eq(e->kubelet.cpu_cfs_quota_set, 1);
	ck_assert_int_eq(e->kubelet.system_reserved.cpu_millis, 100);
	ck_assert_int_eq(e->kubelet.system_reserved.memory_bytes, 100LL << 20);
	ck_assert_int_eq(e->kubelet.system_reserved.ephemeral_bytes, 1LL << 30);
	ck_assert_int_eq(kerf_resources_get(&e->kubelet.system_reserved, "pid", &present), 100);
	ck_assert_int_eq(e->kubelet.kube_reserved.cpu_millis, 200);
	ck_assert_str_eq(kerf_labels_get(&e->kubelet.eviction_hard, "memory.available"), "5%");
	ck_assert_str_eq(kerf_labels_get(&e->kubelet.eviction_soft, "memory.available"), "500Mi");
	ck_assert_str_eq(
	    kerf_labels_get(&e->kubelet.eviction_soft_grace_period, "memory.available"), "1m30s");
	ck_assert_int_eq(e->kubelet.eviction_max_pod_grace_period, 60);
	ck_assert_int_eq(e->kubelet.image_gc_high_threshold_percent, 85);
	ck_assert_int_eq(e->kubelet.image_gc_low_threshold_percent, 80);

	ck_assert_uint_eq(e->n_block_device_mappings, 2);
	b = &e->block_device_mappings[0];
	ck_assert_str_eq(b->device_name, "/dev/xvda");
	ck_assert(b->root_volume);
	ck_assert_int_eq(b->volume_size_bytes, 100LL << 30);
	ck_assert_str_eq(b->volume_type, "gp3");
	ck_assert_int_eq(b->iops, 10000);
	ck_assert_int_eq(b->throughput, 125);
	ck_assert(b->encrypted && b->has_encrypted);
	ck_assert(b->delete_on_termination && b->has_delete_on_termination);
	ck_assert_ptr_nonnull(b->kms_key_id);
	b = &e->block_device_mappings[1];
	ck_assert(!b->root_volume);
	ck_assert_str_eq(b->snapshot_id, "snap-0123456789abcdef0");
	ck_assert_int_eq(b->volume_initialization_rate, 200);
	ck_assert(!b->has_encrypted);

	ck_assert_str_eq(e->http_endpoint, "enabled");
	ck_assert_str_eq(e->http_protocol_ipv6, "enabled");
	ck_assert_int_eq(e->http_put_response_hop_limit, 2);
	ck_assert_str_eq(e->http_tokens, "optional");
	ck_assert_int_eq(e->tcp_established_timeout, 3600);
	ck_assert_int_eq(e->udp_stream_timeout, 0);
	ck_assert_int_eq(e->udp_timeout, 30);
	ck_assert_str_eq(e->nested_virtualization, "enabled");
	ck_assert_uint_eq(e->n_network_interfaces, 2);
	ck_assert(!e->network_interfaces[0].efa_only);
	ck_assert(e->network_interfaces[1].efa_only);
	ck_assert_int_eq(e->network_interfaces[1].device_index, 1);
	ck_assert_str_eq(e->placement_group_name, "my-pg");
	ck_assert_ptr_null(e->placement_group_id);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(nodeclaim_list_and_others)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;
	const struct kerf_nodeclaim *nc;

	ck_assert_int_eq(load(&set, MDIR "/good/nodeclaim-and-list.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_nodeclaims, 1);
	ck_assert_uint_eq(set.n_other, 2);
	ck_assert_str_eq(yt_map_get(set.other[0], "kind")->scalar, "Pod");
	ck_assert_str_eq(yt_map_get(set.other[1], "kind")->scalar, "Deployment");
	nc = set.nodeclaims[0];
	ck_assert_str_eq(nc->meta->name, "default-x7k2p");
	ck_assert_str_eq(nc->nodepool, "default");
	ck_assert_str_eq(nc->meta->owner_kind, "NodePool");
	ck_assert_str_eq(nc->meta->owner_name, "default");
	ck_assert_uint_eq(nc->meta->n_finalizers, 1);
	ck_assert_int_eq(nc->meta->creation_ms, 1706903640000LL);
	ck_assert_str_eq(nc->node_class_ref->name, "default");
	ck_assert_uint_eq(nc->requirements.n, 2);
	ck_assert_int_eq(nc->requirements.items[1]->min_values, 2);
	ck_assert_int_eq(nc->resource_requests.cpu_millis, 1500);
	ck_assert_int_eq(nc->resource_requests.memory_bytes, 2LL << 30);
	ck_assert_int_eq(nc->resource_requests.pods, 5);
	ck_assert_int_eq(nc->expire_after_ms, KERF_DURATION_NEVER);
	ck_assert_int_eq(nc->termination_grace_period_ms, 48LL * 3600 * 1000);
	ck_assert_int_eq(nc->state, KERF_CLAIM_REGISTERED);
	ck_assert_int_eq(nc->launched_ms, 1706903674000LL);
	ck_assert_int_eq(nc->registered_ms, 1706903700000LL);
	ck_assert_int_eq(nc->initialized_ms, 0);
	ck_assert_int_eq(nc->last_pod_event_ms, 1706904000500LL);
	ck_assert_str_eq(nc->provider_id, "aws:///us-west-2a/i-0123456789abcdef0");
	ck_assert_str_eq(nc->image_id, "ami-0123456789abcdef0");
	ck_assert_int_eq(nc->capacity.cpu_millis, 2000);
	ck_assert_int_eq(nc->allocatable.cpu_millis, 1930);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/* --------------------------------------------------- Karpenter examples */

static const char *examples_dir(void)
{
	const char *env = getenv("KERF_KARPENTER_EXAMPLES");
	struct stat st;

	if (env && *env)
		return env;
	if (stat(DEFAULT_KARPENTER_EXAMPLES, &st) == 0)
		return DEFAULT_KARPENTER_EXAMPLES;
	return NULL;
}

START_TEST(karpenter_examples)
{
	static const char *const clean[] = {"general-purpose.yaml", "spot.yaml"};
	/*
	 * The docs example is annotated: "720h | Never" lists alternatives, and
	 * it sets replicas together with weight and cpu/memory limits.  The API
	 * server rejects it as written; kerf must say exactly why.
	 */
	static const char *const docs_errors[] = {
	    ":44:20: NodePool/default: spec.template.spec.expireAfter: invalid duration \"720h | "
	    "Never\"",
	    ":95:26: NodePool/default: spec.disruption.consolidationPolicy: unsupported value "
	    "\"WhenEmptyOrUnderutilized | WhenEmpty\"",
	    ":99:23: NodePool/default: spec.disruption.consolidateAfter: invalid duration \"1m | "
	    "Never\"",
	    ":118:5: NodePool/default: spec.limits.cpu: only 'limits.nodes' is supported on static "
	    "NodePools",
	    ":119:5: NodePool/default: spec.limits.memory: only 'limits.nodes' is supported on "
	    "static NodePools",
	    ":127:11: NodePool/default: spec.weight: 'weight' is not supported on static NodePools",
	};
	const char *dir = examples_dir();
	char path[1024];
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err = KERF_ERROR_INIT;

	if (!dir)
		return; /* the reference copies are not on this machine */
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, clean[i]);
		int rc = load(&set, path, &d, &err);
		if (rc)
			dump(&d);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(set.n_nodepools, 1);
		ck_assert_uint_eq(set.n_node_classes, 1);
		ck_assert_str_eq(set.node_classes[0]->ec2->ami_family, "AL2023");
		ck_assert_uint_eq(set.nodepools[0]->requirements.n, 5);
		mf_diags_clear(&d);
		mf_set_clear(&set);
	}
	snprintf(path, sizeof(path), "%s/docs-concepts-nodepools-example.yaml", dir);
	ck_assert_int_eq(load(&set, path, &d, &err), KERF_E_CONFIG);
	if (d.n != 6)
		dump(&d);
	ck_assert_uint_eq(d.n, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_msg(strstr(d.items[i].message, docs_errors[i]) != NULL, "%s",
			      d.items[i].message);
		ck_assert(strncmp(d.items[i].message, path, strlen(path)) == 0);
	}
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

/* ------------------------------------------------------------ API edges */

START_TEST(load_string_and_single_parsers)
{
	static const char good[] = "apiVersion: karpenter.sh/v1\n"
				   "kind: NodePool\n"
				   "metadata: {name: s}\n"
				   "spec:\n"
				   "  template:\n"
				   "    spec:\n"
				   "      nodeClassRef: {group: g, kind: K, name: nc}\n"
				   "      requirements: []\n";
	static const char bad_yaml[] = "a: [1, 2\n";
	struct mf_set set;
	struct mf_diags d = {0, NULL};
	struct kerf_error err = KERF_ERROR_INIT;
	struct yt_stream *st;
	struct kerf_nodepool *np;
	struct kerf_nodeclaim *nc;
	struct kerf_node_class *ncl;

	mf_set_init(&set);
	ck_assert_int_eq(mf_load_string(&set, "inline.yaml", good, strlen(good), &d, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 1);
	/* Appends: a second load adds to the set; NULL diags is allowed. */
	ck_assert_int_eq(mf_load_string(&set, "inline.yaml", good, strlen(good), NULL, &err), 0);
	ck_assert_uint_eq(set.n_nodepools, 2);
	ck_assert_int_eq(mf_load_string(&set, "broken.yaml", bad_yaml, strlen(bad_yaml), &d, &err),
			 KERF_E_PARSE);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(mf_load_file(&set, MDIR "/does-not-exist.yaml", &d, &err), KERF_E_IO);
	mf_set_clear(&set);

	ck_assert_int_eq(yt_parse_string("one.yaml", good, strlen(good), &st, &err), 0);
	ck_assert_int_eq(mf_parse_nodepool(st->docs[0].root, &np, NULL), 0);
	ck_assert_str_eq(np->meta->name, "s");
	kerf_nodepool_free(np);
	/* The wrong parser for the document: kind and apiVersion are checked. */
	ck_assert_int_eq(mf_parse_nodeclaim(st->docs[0].root, &nc, &d), KERF_E_CONFIG);
	ck_assert_ptr_null(nc);
	ck_assert_int_eq(mf_parse_ec2nodeclass(st->docs[0].root, &ncl, &d), KERF_E_CONFIG);
	ck_assert_ptr_null(ncl);
	ck_assert_uint_ge(d.n, 4);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "one.yaml:2:7: NodeClaim/s: kind: must be "
							 "\"NodeClaim\", not \"NodePool\""));
	mf_diags_clear(&d);
	yt_stream_free(st);
}
END_TEST

START_TEST(patterns)
{
	char why[256];

	ck_assert(mf_duration_pattern("720h", true));
	ck_assert(mf_duration_pattern("1h30m10s", false));
	ck_assert(mf_duration_pattern("Never", true));
	ck_assert(!mf_duration_pattern("Never", false));
	ck_assert(!mf_duration_pattern("1d", true));
	ck_assert(!mf_duration_pattern("1.5h", true));
	ck_assert(!mf_duration_pattern("", true));
	ck_assert(mf_budget_duration_pattern("8h"));
	ck_assert(mf_budget_duration_pattern("1h30m"));
	ck_assert(mf_budget_duration_pattern("10m0s"));
	ck_assert(mf_budget_duration_pattern("1h0s"));
	ck_assert(!mf_budget_duration_pattern("30s"));
	ck_assert(!mf_budget_duration_pattern("1h30m10s"));
	ck_assert(mf_budget_nodes_pattern("0"));
	ck_assert(mf_budget_nodes_pattern("100%"));
	ck_assert(mf_budget_nodes_pattern("7%"));
	ck_assert(mf_budget_nodes_pattern("12345"));
	ck_assert(!mf_budget_nodes_pattern("101%"));
	ck_assert(!mf_budget_nodes_pattern("-1"));
	ck_assert(!mf_budget_nodes_pattern("%"));
	ck_assert(mf_quantity_pattern("1.5Gi"));
	ck_assert(mf_quantity_pattern("-100m"));
	ck_assert(mf_quantity_pattern("1e3"));
	ck_assert(!mf_quantity_pattern("12Zi"));
	ck_assert(mf_dns_subdomain("ray-worker.pool"));
	ck_assert(!mf_dns_subdomain("Ray"));
	ck_assert(!mf_dns_subdomain("-a"));
	ck_assert(mf_cron_valid("0 9 * * mon-fri", why, sizeof(why)));
	ck_assert(mf_cron_valid("@annually", why, sizeof(why)));
	ck_assert(mf_cron_valid("*/5 * ? * *", why, sizeof(why)));
	ck_assert(mf_cron_valid("0 0 1 JAN,jul 0", why, sizeof(why)));
	ck_assert(mf_cron_valid("30  2  *  *  6", why, sizeof(why)));
	ck_assert(!mf_cron_valid("0 9 * *", why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "expected 5 fields"));
	ck_assert(!mf_cron_valid("0 9 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("60 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * 0 * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * * 13 *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("* * * * 7", why, sizeof(why)));
	ck_assert(!mf_cron_valid("5-1 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("*/0 * * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("@every 5m", why, sizeof(why)));
	ck_assert(!mf_cron_valid("TZ=UTC 0 9 * * *", why, sizeof(why)));
	ck_assert(!mf_cron_valid("1,,2 * * * *", why, sizeof(why)));
}
END_TEST

START_TEST(times)
{
	int64_t ms;

	ck_assert(mf_parse_time("1970-01-01T00:00:00Z", &ms));
	ck_assert_int_eq(ms, 0);
	ck_assert(mf_parse_time("2024-02-29T12:00:00.123Z", &ms));
	ck_assert_int_eq(ms, 1709208000123LL);
	ck_assert(mf_parse_time("2024-02-02T21:54:34+02:00", &ms));
	ck_assert_int_eq(ms, 1706903674000LL);
	ck_assert(!mf_parse_time("2024-02-30", &ms));
	ck_assert(!mf_parse_time("2024-13-01T00:00:00Z", &ms));
	ck_assert(!mf_parse_time("2024-01-01T00:00:00", &ms));
	ck_assert(!mf_parse_time("2024-01-01 00:00:00Z", &ms));
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_corpus);
	tcase_add_test(tc, good_corpus);
	tcase_add_test(tc, key_messages);
	tcase_add_test(tc, ray_worker_example);
	tcase_add_test(tc, nodepool_defaults_and_budgets);
	tcase_add_test(tc, ec2_every_field);
	tcase_add_test(tc, nodeclaim_list_and_others);
	tcase_add_test(tc, karpenter_examples);
	tcase_add_test(tc, load_string_and_single_parsers);
	tcase_add_test(tc, patterns);
	tcase_add_test(tc, times);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
