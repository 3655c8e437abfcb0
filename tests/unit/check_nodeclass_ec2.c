/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_nodeclass_ec2.c - EC2NodeClass as kerf reads it now that the core
 * knows node classes only by kind: through the sim provider, which serves
 * the kind with the ec2 plugin's library (plugins/ec2/nodeclass.c).  Every
 * file of tests/data/nodeclass/ec2/bad gives exactly the diagnostics of its
 * .expected file, the good corpus and the examples load, and the library
 * reads every field back from the node class's document.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <kerf/kerf.h>

#include "loader.h"
#include "manifest.h"
#include "nodeclass.h"

#define NDIR KERF_TEST_DATADIR "/nodeclass/ec2"
#define DEFAULT_KARPENTER_EXAMPLES "/work/shared/reference/karpenter-crds/examples"

static struct loader *ldr;
static const struct loader_plugin *sim;

static void setup(void)
{
	const char *dirs[] = {KERF_BUILD_PLUGINDIR "/sim/.libs"};
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(loader_new_dirs(dirs, 1, &ldr, &err), 0);
	ck_assert_msg(loader_open(ldr, "sim", KERF_KIND_PROVIDER, &sim, &err) == 0, "%s",
		      err.message);
}

static void teardown(void)
{
	loader_free(ldr);
	ldr = NULL;
	sim = NULL;
}

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

/* A set that reads node classes the way kerfd does with provider sim. */
static int load(struct mf_set *set, const char *path, struct mf_diags *d, struct kerf_error *err)
{
	mf_set_init(set);
	memset(d, 0, sizeof(*d));
	kerf_error_clear(err);
	ck_assert_int_eq(mf_set_add_provider(set, "sim", &sim->provider, err), 0);
	return mf_load_file(set, path, d, err);
}

static void dump(const struct mf_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  %s\n", d->items[i].message);
}

/* The provider's own reading of a node class the host loaded. */
static struct ec2_node_class *parse_class(const struct kerf_node_class *nc)
{
	struct ec2_node_class *e = NULL;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_msg(ec2_node_class_parse(nc, &e, &err) == 0, "%s", err.message);
	return e;
}

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
	struct kerf_error err;
	char *expected, *line, *save = NULL;
	size_t i = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/bad/%s", NDIR, name);
	snprintf(exp_path, sizeof(exp_path), "%.*s.expected", (int)(strlen(path) - 5), path);
	expected = read_text(exp_path);
	ck_assert_msg(expected != NULL, "%s has no .expected file", name);
	rc = load(&set, path, &d, &err);
	if (rc != KERF_E_CONFIG)
		dump(&d);
	ck_assert_msg(rc == KERF_E_CONFIG, "%s: rc %d", name, rc);
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
	free(expected);
	mf_diags_clear(&d);
	mf_set_clear(&set);
	return i;
}

START_TEST(bad_corpus)
{
	DIR *dir = opendir(NDIR "/bad");
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
	ck_assert_uint_ge(files, 5);
	ck_assert_uint_ge(diags, 40);
}
END_TEST

/* The messages kerf has always given, through the plugin now. */
START_TEST(key_messages)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err;
	bool found = false;

	ck_assert_int_eq(load(&set, NDIR "/bad/ec2-role-profile.yaml", &d, &err), KERF_E_CONFIG);
	for (size_t j = 0; j < d.n && !found; j++)
		found =
		    strstr(d.items[j].message, ": EC2NodeClass/both: spec: must specify exactly "
					       "one of ['role', 'instanceProfile']") != NULL;
	ck_assert(found);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

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
	struct kerf_error err;
	const struct kerf_nodepool *np;
	struct ec2_node_class *e;
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
	ck_assert_str_eq(set.node_classes[0]->ref->group, "karpenter.k8s.aws");
	ck_assert_int_eq(set.node_classes[0]->ready, KERF_READY_UNKNOWN);
	e = parse_class(set.node_classes[0]);
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

	ec2_node_class_free(e);
	mf_diags_clear(&d);
	mf_set_clear(&set);
}
END_TEST

START_TEST(ec2_every_field)
{
	struct mf_set set;
	struct mf_diags d;
	struct kerf_error err;
	struct ec2_node_class *e;
	const struct ec2_block_device_mapping *b;
	bool present;

	ck_assert_int_eq(load(&set, NDIR "/good/ec2-full.yaml", &d, &err), 0);
	ck_assert_uint_eq(set.n_node_classes, 1);
	ck_assert_str_eq(kerf_labels_get(&set.node_classes[0]->meta->labels, "team"), "infra");
	e = parse_class(set.node_classes[0]);
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
	ec2_node_class_free(e);
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
	struct kerf_error err;

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
		struct ec2_node_class *e = parse_class(set.node_classes[0]);
		ck_assert_str_eq(e->ami_family, "AL2023");
		ec2_node_class_free(e);
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

/* The provider's reader refuses what is not its kind, and the pattern behind quantities. */
START_TEST(parse_edges)
{
	struct kerf_node_class *other = kerf_node_class_new();
	struct ec2_node_class *e = NULL;
	struct kerf_error err;

	other->ref->group = strdup("acme.example.com");
	other->ref->kind = strdup("AcmeNodeClass");
	other->ref->name = strdup("gpu");
	kerf_error_clear(&err);
	ck_assert_int_eq(ec2_node_class_parse(other, &e, &err), KERF_E_INVALID);
	ck_assert_str_eq(err.message, "AcmeNodeClass/gpu is not an EC2NodeClass");
	ck_assert_ptr_null(e);
	kerf_node_class_free(other);
	ck_assert(ec2_quantity_pattern("1.5Gi"));
	ck_assert(ec2_quantity_pattern("-100m"));
	ck_assert(ec2_quantity_pattern("1e3"));
	ck_assert(!ec2_quantity_pattern("12Zi"));
}
END_TEST

/* m5.large as the catalogue gives it under Karpenter's defaults. */
static void m5_large(struct kerf_resources *cap, struct kerf_resources *alloc)
{
	const int64_t mib = 1024 * 1024;

	kerf_resources_init(cap);
	kerf_resources_init(alloc);
	kerf_resources_set(cap, KERF_RESOURCE_CPU, 2000, NULL);
	kerf_resources_set(cap, KERF_RESOURCE_MEMORY, 8192 * mib, NULL);
	kerf_resources_set(cap, KERF_RESOURCE_PODS, 29, NULL);
	kerf_resources_set(cap, KERF_RESOURCE_EPHEMERAL, 20480 * mib, NULL);
	kerf_resources_set(alloc, KERF_RESOURCE_CPU, 1930, NULL);
	kerf_resources_set(alloc, KERF_RESOURCE_MEMORY, 6903 * mib, NULL);
	kerf_resources_set(alloc, KERF_RESOURCE_PODS, 29, NULL);
	kerf_resources_set(alloc, KERF_RESOURCE_EPHEMERAL, 17408 * mib, NULL);
}

/*
 * Allocatable as Karpenter's AWS provider computes it, worked by hand for
 * an m5.large (2 vCPU, 8 GiB, 29 ENI-limited pods): the kubelet sees
 * 6903 + 574 (kube-reserved for 29 pods) + 100 (eviction) = 7577 MiB.
 */
START_TEST(resources_follow_the_class)
{
	const int64_t mib = 1024 * 1024, gib = 1024 * mib;
	struct ec2_node_class nc;
	struct kerf_resources cap, alloc;

	/* Nothing set: the defaults the catalogue was computed with, unchanged. */
	memset(&nc, 0, sizeof(nc));
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(alloc.cpu_millis, 1930);
	ck_assert_int_eq(alloc.memory_bytes, 6903 * mib);
	ck_assert_int_eq(alloc.pods, 29);
	ck_assert_int_eq(alloc.ephemeral_bytes, 17408 * mib);
	ck_assert_int_eq(cap.ephemeral_bytes, 20 * gib);

	/* maxPods 4: 4 pods, and kube-reserved memory for 4 (299 MiB) instead of 29 (574). */
	nc.kubelet.max_pods = 4;
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(cap.pods, 4);
	ck_assert_int_eq(alloc.pods, 4);
	ck_assert_int_eq(alloc.memory_bytes, (7577 - 299 - 100) * mib);

	/* podsPerCore 1 caps it lower still: 1 x 2 vCPUs. */
	nc.kubelet.pods_per_core = 1;
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(alloc.pods, 2);

	/* kubeReserved cpu, systemReserved memory, a percentage for memory.available. */
	memset(&nc, 0, sizeof(nc));
	kerf_resources_set(&nc.kubelet.kube_reserved, KERF_RESOURCE_CPU, 500, NULL);
	kerf_resources_set(&nc.kubelet.system_reserved, KERF_RESOURCE_MEMORY, gib, NULL);
	kerf_labels_set(&nc.kubelet.eviction_hard, "memory.available", "5%");
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(alloc.cpu_millis, 1500);
	/* 5% of 7577 MiB is 397,253,017.6 bytes, rounded up. */
	ck_assert_int_eq(alloc.memory_bytes, 7577 * mib - 574 * mib - gib - 397253018);
	kerf_labels_clear(&nc.kubelet.eviction_hard);

	/* A 100 GiB root volume: 100 - 1 (kube-reserved) - 10 (10% eviction) GiB. */
	struct ec2_block_device_mapping root = {.device_name = "/dev/xvda",
						.volume_size_bytes = 100 * gib};
	memset(&nc, 0, sizeof(nc));
	nc.n_block_device_mappings = 1;
	nc.block_device_mappings = &root;
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(cap.ephemeral_bytes, 100 * gib);
	ck_assert_int_eq(alloc.ephemeral_bytes, 89 * gib);
	/* rootVolume marks it whatever its device. */
	root.device_name = "/dev/sdf";
	root.root_volume = true;
	m5_large(&cap, &alloc);
	ec2_node_class_resources(&nc, &cap, &alloc);
	ck_assert_int_eq(alloc.ephemeral_bytes, 89 * gib);
}
END_TEST

static Suite *nodeclass_suite(void)
{
	Suite *s = suite_create("nodeclass_ec2");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_corpus);
	tcase_add_test(tc, key_messages);
	tcase_add_test(tc, ray_worker_example);
	tcase_add_test(tc, ec2_every_field);
	tcase_add_test(tc, karpenter_examples);
	tcase_add_test(tc, parse_edges);
	tcase_add_test(tc, resources_follow_the_class);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nodeclass_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
