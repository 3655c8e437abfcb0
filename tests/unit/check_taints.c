/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_taints.c - taint/toleration matching and the taint syntax.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/cluster.h>
#include <kerf/doc.h>
#include <kerf/scheduling.h>
#include <kerf/taints.h>

#define N_ELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define NS KERF_EFFECT_NO_SCHEDULE
#define PNS KERF_EFFECT_PREFER_NO_SCHEDULE
#define NE KERF_EFFECT_NO_EXECUTE
#define ANY KERF_EFFECT_ANY
#define EQ KERF_TOLERATION_EQUAL
#define EX KERF_TOLERATION_EXISTS

static const struct {
	struct kerf_toleration tol;
	struct kerf_taint taint;
	bool want;
} tolerates[] = {
    /* Empty key with Exists tolerates everything. */
    {{NULL, EX, NULL, ANY, KERF_TOLERATION_FOREVER}, {"a", "b", NS}, true},
    {{"", EX, NULL, ANY, KERF_TOLERATION_FOREVER}, {"a", NULL, NE}, true},
    /* ...but only for its effect when it names one. */
    {{NULL, EX, NULL, NS, KERF_TOLERATION_FOREVER}, {"a", NULL, NE}, false},
    {{"a", EX, NULL, ANY, KERF_TOLERATION_FOREVER}, {"a", "x", PNS}, true},
    {{"a", EX, NULL, ANY, KERF_TOLERATION_FOREVER}, {"b", "x", NS}, false},
    {{"a", EQ, "x", NS, KERF_TOLERATION_FOREVER}, {"a", "x", NS}, true},
    {{"a", EQ, "x", NS, KERF_TOLERATION_FOREVER}, {"a", "y", NS}, false},
    {{"a", EQ, "x", NS, KERF_TOLERATION_FOREVER}, {"a", "x", NE}, false},
    {{"a", EQ, "x", ANY, KERF_TOLERATION_FOREVER}, {"a", "x", NE}, true},
    /* An unset value equals an empty one. */
    {{"a", EQ, NULL, NS, KERF_TOLERATION_FOREVER}, {"a", NULL, NS}, true},
    {{"a", EQ, "", NS, KERF_TOLERATION_FOREVER}, {"a", NULL, NS}, true},
    {{"a", EQ, NULL, NS, KERF_TOLERATION_FOREVER}, {"a", "", NS}, true},
    {{"a", EQ, NULL, NS, KERF_TOLERATION_FOREVER}, {"a", "x", NS}, false},
    {{"a", EQ, "x", NS, KERF_TOLERATION_FOREVER}, {"a", NULL, NS}, false},
    /* tolerationSeconds does not change matching. */
    {{"a", EX, NULL, NE, 300}, {"a", NULL, NE}, true},
};

START_TEST(toleration_tolerates)
{
	ck_assert_msg(kerf_toleration_tolerates(&tolerates[_i].tol, &tolerates[_i].taint) ==
			  tolerates[_i].want,
		      "case %d", _i);
}
END_TEST

START_TEST(tolerate_all)
{
	struct kerf_taint taint_objs[] = {
	    {"dedicated", "gpu", NS},
	    {"soft", NULL, PNS},
	    {"node.kubernetes.io/unreachable", NULL, NE},
	};
	struct kerf_taint *taint_items[] = {&taint_objs[0], &taint_objs[1], &taint_objs[2]};
	struct kerf_taints taints = {3, taint_items};
	struct kerf_toleration tol_objs[] = {
	    {"dedicated", EQ, "gpu", NS, KERF_TOLERATION_FOREVER},
	    {"node.kubernetes.io/unreachable", EX, NULL, NE, 300},
	};
	struct kerf_toleration *tol_items[] = {&tol_objs[0], &tol_objs[1]};
	struct kerf_tolerations tols = {2, tol_items};
	const struct kerf_taint *first = NULL;

	ck_assert(!kerf_tolerations_tolerate_all(&tols, &taints, false, &first));
	ck_assert_ptr_eq(first, taint_items[1]);
	ck_assert(kerf_tolerations_tolerate_all(&tols, &taints, true, &first));
	ck_assert_ptr_null(first);

	tols.n = 1;
	ck_assert(!kerf_tolerations_tolerate_all(&tols, &taints, true, &first));
	ck_assert_ptr_eq(first, taint_items[2]);
	ck_assert(!kerf_tolerations_tolerate_all(&tols, &taints, true, NULL));

	/* No tolerations: only an untainted node, or one with soft taints. */
	ck_assert(!kerf_tolerations_tolerate_all(NULL, &taints, true, &first));
	ck_assert_ptr_eq(first, taint_items[0]);
	ck_assert(kerf_tolerations_tolerate_all(NULL, NULL, false, &first));
	taints.items = &taint_items[1];
	taints.n = 1;
	ck_assert(kerf_tolerations_tolerate_all(NULL, &taints, true, &first));
	ck_assert(!kerf_tolerations_tolerate_all(NULL, &taints, false, &first));

	ck_assert(kerf_tolerations_tolerate(&tols, taint_items[0]));
	ck_assert(!kerf_tolerations_tolerate(NULL, taint_items[0]));
	ck_assert(!kerf_toleration_tolerates(NULL, taint_items[0]));
}
END_TEST

static const struct {
	const char *text;
	const char *key, *value;
	kerf_taint_effect effect;
	const char *formatted;
} good_taints[] = {
    {"dedicated=gpu:NoSchedule", "dedicated", "gpu", NS, "dedicated=gpu:NoSchedule"},
    {"example.com/special:NoExecute", "example.com/special", NULL, NE,
     "example.com/special:NoExecute"},
    {"k=:PreferNoSchedule", "k", NULL, PNS, "k:PreferNoSchedule"},
    {"karpenter.sh/unregistered:NoExecute", "karpenter.sh/unregistered", NULL, NE,
     "karpenter.sh/unregistered:NoExecute"},
    {"nvidia.com/gpu=true:NoSchedule", "nvidia.com/gpu", "true", NS,
     "nvidia.com/gpu=true:NoSchedule"},
};

START_TEST(taint_parse_good)
{
	struct kerf_taint *t = NULL;
	struct kerf_error err;
	char buf[128];

	kerf_error_clear(&err);
	ck_assert_msg(kerf_taint_parse(good_taints[_i].text, &t, &err) == 0, "%s: %s",
		      good_taints[_i].text, err.message);
	ck_assert_str_eq(t->key, good_taints[_i].key);
	if (good_taints[_i].value)
		ck_assert_str_eq(t->value, good_taints[_i].value);
	else
		ck_assert_ptr_null(t->value);
	ck_assert_int_eq(t->effect, good_taints[_i].effect);
	ck_assert_int_eq(kerf_taint_format(t, buf, sizeof(buf)),
			 (int)strlen(good_taints[_i].formatted));
	ck_assert_str_eq(buf, good_taints[_i].formatted);
	kerf_taint_free(t);
	kerf_taint_free(NULL);
}
END_TEST

static const struct {
	const char *text;
	const char *message;
} bad_taints[] = {
    {"dedicated", "invalid taint \"dedicated\": expected key[=value]:effect"},
    {"dedicated=gpu", "invalid taint \"dedicated=gpu\": expected key[=value]:effect"},
    {"a:Never",
     "invalid taint \"a:Never\": unknown effect \"Never\" (want NoSchedule, PreferNoSchedule or "
     "NoExecute)"},
    {"a:", "invalid taint \"a:\": unknown effect \"\" (want NoSchedule, PreferNoSchedule or "
	   "NoExecute)"},
    {":NoSchedule", "invalid taint \":NoSchedule\": label key is empty"},
    {"=v:NoSchedule", "invalid taint \"=v:NoSchedule\": label key is empty"},
    {"bad key:NoSchedule",
     "invalid taint \"bad key:NoSchedule\": label key \"bad key\": name must consist of "
     "alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"},
    {"k=bad value:NoSchedule",
     "invalid taint \"k=bad value:NoSchedule\": label value \"bad value\" must consist of "
     "alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"},
    {"k=a=b:NoSchedule",
     "invalid taint \"k=a=b:NoSchedule\": label value \"a=b\" must consist of alphanumerics, '-', "
     "'_' or '.', and start and end with an alphanumeric"},
};

START_TEST(taint_parse_bad)
{
	struct kerf_taint junk = {(char *)"junk", NULL, NS};
	struct kerf_taint *t = &junk;
	struct kerf_error err;

	kerf_error_clear(&err);
	ck_assert_int_eq(kerf_taint_parse(bad_taints[_i].text, &t, &err), KERF_E_PARSE);
	ck_assert_int_eq(err.code, KERF_E_PARSE);
	ck_assert_str_eq(err.message, bad_taints[_i].message);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(taint_format_small)
{
	struct kerf_taint t = {(char *)"dedicated", (char *)"gpu", NS};
	char buf[8];

	ck_assert_int_eq(kerf_taint_format(&t, buf, sizeof(buf)), KERF_E_RANGE);
	ck_assert_str_eq(buf, "dedicat");
	ck_assert_int_eq(kerf_taint_format(&t, NULL, 0), KERF_E_RANGE);
	ck_assert_int_eq(kerf_taint_format(NULL, buf, sizeof(buf)), KERF_E_INVALID);
}
END_TEST

START_TEST(taint_equality)
{
	struct kerf_taint a = {(char *)"k", NULL, NS};
	struct kerf_taint b = {(char *)"k", (char *)"", NS};
	struct kerf_taint c = {(char *)"k", (char *)"v", NS};
	struct kerf_taint d = {(char *)"k", NULL, NE};
	struct kerf_taint *items[] = {&c, &d};
	struct kerf_taints list = {2, items};

	ck_assert(kerf_taint_equal(&a, &b));
	ck_assert(!kerf_taint_equal(&a, &c));
	ck_assert(kerf_taint_match(&a, &c));
	ck_assert(!kerf_taint_match(&a, &d));
	ck_assert(!kerf_taint_equal(&a, NULL));
	ck_assert(kerf_taints_contains(&list, &c));
	ck_assert(!kerf_taints_contains(&list, &a));
	ck_assert(!kerf_taints_contains(NULL, &a));
	ck_assert_ptr_eq(kerf_taints_find(&list, "k", NS), items[0]);
	ck_assert_ptr_eq(kerf_taints_find(&list, "k", NE), items[1]);
	ck_assert_ptr_null(kerf_taints_find(&list, "k", PNS));
	ck_assert_ptr_null(kerf_taints_find(&list, "x", NS));
}
END_TEST

START_TEST(taints_add)
{
	struct kerf_taints t = {0, NULL};
	struct kerf_taint a = {(char *)"k", (char *)"v1", NS};
	struct kerf_taint b = {(char *)"k", (char *)"v2", NS};
	struct kerf_taint c = {(char *)"k", NULL, NE};
	struct kerf_taint bad = {NULL, NULL, NS};

	ck_assert_int_eq(kerf_taints_add(&t, &a), 0);
	ck_assert_int_eq(kerf_taints_add(&t, &c), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_ptr_ne(t.items[0]->key, a.key); /* copied */
	/* Same key and effect: replaced, not duplicated. */
	ck_assert_int_eq(kerf_taints_add(&t, &b), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_str_eq(t.items[0]->value, "v2");
	ck_assert_ptr_null(t.items[1]->value);
	ck_assert_int_eq(kerf_taints_add(&t, &bad), KERF_E_INVALID);
	ck_assert_int_eq(kerf_taints_add(&t, NULL), KERF_E_INVALID);
	kerf_taints_clear(&t);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.items);
}
END_TEST

START_TEST(enum_names)
{
	ck_assert_str_eq(kerf_effect_name(KERF_EFFECT_ANY), "");
	ck_assert_str_eq(kerf_effect_name(NS), "NoSchedule");
	ck_assert_str_eq(kerf_effect_name(PNS), "PreferNoSchedule");
	ck_assert_str_eq(kerf_effect_name(NE), "NoExecute");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_IN), "In");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_NOT_IN), "NotIn");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_EXISTS), "Exists");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_DOES_NOT_EXIST), "DoesNotExist");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_GT), "Gt");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_LT), "Lt");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_GTE), "Gte");
	ck_assert_str_eq(kerf_operator_name(KERF_OP_LTE), "Lte");
	ck_assert_str_eq(kerf_capacity_type_name(KERF_CAPACITY_ON_DEMAND), "on-demand");
	ck_assert_str_eq(kerf_capacity_type_name(KERF_CAPACITY_SPOT), "spot");
	ck_assert_str_eq(kerf_capacity_type_name(KERF_CAPACITY_RESERVED), "reserved");
	ck_assert_str_eq(kerf_strerror(KERF_OK), "success");
	ck_assert_str_eq(kerf_strerror(KERF_E_RANGE), "value out of range");
	ck_assert_str_eq(kerf_strerror(KERF_E_PLUGIN_CREATE),
			 "plugin instance could not be created");
	ck_assert_str_eq(kerf_strerror(-9999), "unknown error");
	for (int c = 0; c >= KERF_E_RANGE; c--)
		ck_assert_str_ne(kerf_strerror(c), "unknown error");
	ck_assert_str_eq(kerf_strerror(KERF_E_PLUGIN_CAPABILITY),
			 "plugin capability bits and optional ops disagree");
	for (int c = KERF_E_PLUGIN_NOTFOUND; c >= KERF_E_PLUGIN_CAPABILITY; c--)
		ck_assert_str_ne(kerf_strerror(c), "unknown error");
}
END_TEST

/* The label map and the free functions live with the model; exercised here. */
START_TEST(labels_map)
{
	struct kerf_labels l = {0, NULL};

	ck_assert_ptr_null(kerf_labels_get(&l, "a"));
	ck_assert_int_eq(kerf_labels_set(&l, "b", "2"), 0);
	ck_assert_int_eq(kerf_labels_set(&l, "a", "1"), 0);
	ck_assert_int_eq(kerf_labels_set(&l, "c", "3"), 0);
	ck_assert_int_eq(kerf_labels_set(&l, "b", "two"), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.items[0]->key, "a");
	ck_assert_str_eq(l.items[1]->key, "b");
	ck_assert_str_eq(l.items[2]->key, "c");
	ck_assert_str_eq(kerf_labels_get(&l, "b"), "two");
	ck_assert_str_eq(kerf_labels_get(&l, "c"), "3");
	ck_assert_ptr_null(kerf_labels_get(&l, "d"));
	ck_assert_ptr_null(kerf_labels_get(NULL, "a"));
	ck_assert_int_eq(kerf_labels_set(&l, NULL, "x"), KERF_E_INVALID);
	kerf_labels_clear(&l);
	ck_assert_uint_eq(l.n, 0);
	kerf_labels_clear(NULL);
}
END_TEST

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

/* Builds fully populated objects: a leak checker run catches any field left behind. */
START_TEST(free_functions)
{
	struct kerf_pod *p = kerf_pod_new();
	struct kerf_nodepool *np = kerf_nodepool_new();
	struct kerf_node_class *nc = kerf_node_class_new();
	struct kerf_instance_type_list *itl = kerf_instance_type_list_new();
	struct kerf_instance_list *il = kerf_instance_list_new();
	struct kerf_nodeclaim *claim = kerf_nodeclaim_new();
	struct kerf_node *node = kerf_node_new();
	struct kerf_taint t = {(char *)"k", (char *)"v", NS};
	struct kerf_requirement *r;
	struct kerf_pod_affinity_term *term;
	struct kerf_instance_type *it;
	struct kerf_instance *in;

	p->meta->name = xstrdup("pod");
	p->meta->namespace_ = xstrdup("default");
	p->meta->n_finalizers = 1;
	p->meta->finalizers = calloc(1, sizeof(char *));
	p->meta->finalizers[0] = xstrdup("f");
	kerf_labels_set(&p->meta->labels, "app", "web");
	kerf_labels_set(&p->meta->annotations, "a", "b");
	p->meta->owner_kind = xstrdup("ReplicaSet");
	p->node_name = xstrdup("n1");
	kerf_labels_set(&p->node_selector, "k", "v");
	r = kerf_requirements_append(kerf_pod_add_required_term(p));
	r->key = xstrdup("k");
	kerf_requirement_add_value(r, "v");
	r = kerf_requirements_append(&kerf_pod_add_preferred_term(p)->preference);
	r->key = xstrdup("k");
	kerf_tolerations_append(&p->tolerations)->key = xstrdup("k");
	kerf_pod_add_spread(p)->topology_key = xstrdup("zone");
	kerf_labels_set(&p->spreads[0]->selector->match_labels, "app", "web");
	term = kerf_pod_add_anti_affinity(p);
	term->topology_key = xstrdup("host");
	term->n_namespaces = 1;
	term->namespaces = calloc(1, sizeof(char *));
	term->namespaces[0] = xstrdup("ns");
	kerf_pod_add_affinity(p)->topology_key = xstrdup("zone");
	kerf_pod_add_preferred_affinity(p)->term->topology_key = xstrdup("zone");
	kerf_labels_set(&kerf_pod_add_preferred_anti_affinity(p)->term->selector->match_labels,
			"app", "web");
	kerf_pod_add_host_port(p)->host_ip = xstrdup("0.0.0.0");
	kerf_pod_free(p);

	np->meta->name = xstrdup("default");
	kerf_labels_set(&np->template_labels, "team", "a");
	np->node_class_ref->name = xstrdup("default");
	np->node_class_ref->kind = xstrdup("EC2NodeClass");
	kerf_taints_add(&np->taints, &t);
	kerf_taints_add(&np->startup_taints, &t);
	kerf_nodepool_add_budget(np)->schedule = xstrdup("@daily");
	kerf_nodepool_free(np);

	nc->meta->name = xstrdup("default");
	nc->ref->group = xstrdup("karpenter.k8s.aws");
	nc->ref->kind = xstrdup("EC2NodeClass");
	nc->ref->name = xstrdup("default");
	ck_assert_int_eq(kerf_doc_parse("nc.yaml", "spec: {role: r}", 15, &nc->doc, NULL), 0);
	kerf_node_class_free(nc);

	it = kerf_instance_type_list_append(itl);
	it->name = xstrdup("m5.large");
	r = kerf_requirements_append(&it->requirements);
	r->key = xstrdup("kubernetes.io/arch");
	kerf_requirement_add_value(r, "amd64");
	kerf_instance_type_add_offering(it)->zone = xstrdup("us-east-1a");
	kerf_instance_type_list_free(itl);

	in = kerf_instance_list_append(il);
	in->provider_id = xstrdup("aws:///us-east-1a/i-1");
	kerf_labels_set(&in->tags, "Name", "x");
	kerf_instance_list_free(il);

	claim->nodepool = xstrdup("default");
	claim->provider_id = xstrdup("aws:///us-east-1a/i-1");
	kerf_taints_add(&claim->taints, &t);
	kerf_nodeclaim_free(claim);

	node->provider_id = xstrdup("aws:///us-east-1a/i-1");
	kerf_taints_add(&node->taints, &t);
	kerf_node_free(node);

	kerf_pod_free(NULL);
	kerf_nodepool_free(NULL);
	kerf_node_class_free(NULL);
	kerf_instance_type_list_free(NULL);
	kerf_instance_list_free(NULL);
	kerf_instance_free(NULL);
	kerf_instance_type_free(NULL);
	kerf_offering_free(NULL);
	kerf_nodeclaim_free(NULL);
	kerf_node_free(NULL);
	kerf_meta_free(NULL);
	kerf_label_free(NULL);
	kerf_label_selector_free(NULL);
	kerf_requirement_free(NULL);
	kerf_toleration_free(NULL);
	kerf_topology_spread_free(NULL);
	kerf_pod_affinity_term_free(NULL);
	kerf_weighted_pod_affinity_term_free(NULL);
	kerf_preferred_term_free(NULL);
	kerf_host_port_free(NULL);
	kerf_budget_free(NULL);
	kerf_node_class_ref_free(NULL);
	kerf_event_free(NULL);
	kerf_tolerations_clear(NULL);
	kerf_requirements_clear(NULL);
	kerf_taints_clear(NULL);
}
END_TEST

/* What a constructor fills in is what a field unknown to an older plugin reads as. */
START_TEST(constructor_defaults)
{
	struct kerf_nodepool *np = kerf_nodepool_new();
	struct kerf_nodeclaim *nc = kerf_nodeclaim_new();
	struct kerf_toleration *tol = kerf_toleration_new();
	struct kerf_weighted_pod_affinity_term *w = kerf_weighted_pod_affinity_term_new();
	struct kerf_topology_spread *s = kerf_topology_spread_new();
	struct kerf_pod *p = kerf_pod_new();
	struct kerf_node *n = kerf_node_new();
	struct kerf_node_class *cls = kerf_node_class_new();
	struct kerf_event *e = kerf_event_new();

	ck_assert_ptr_nonnull(np->meta);
	ck_assert_ptr_nonnull(np->node_class_ref);
	ck_assert_int_eq(np->expire_after_ms, 720LL * 3600 * 1000);
	ck_assert_int_eq(np->termination_grace_period_ms, -1);
	ck_assert_int_eq(np->limit_nodes, -1);
	ck_assert_int_eq(np->replicas, -1);
	ck_assert_uint_eq(np->n_budgets, 0);
	ck_assert_ptr_nonnull(nc->meta);
	ck_assert_ptr_nonnull(nc->node_class_ref);
	ck_assert_int_eq(nc->expire_after_ms, 720LL * 3600 * 1000);
	ck_assert_int_eq(nc->termination_grace_period_ms, -1);
	ck_assert_int_eq(tol->toleration_seconds, KERF_TOLERATION_FOREVER);
	ck_assert_ptr_nonnull(w->term);
	ck_assert_ptr_nonnull(w->term->selector);
	ck_assert_ptr_nonnull(s->selector);
	/* An empty selector selects everything; a missing one, nothing. */
	ck_assert(kerf_label_selector_matches(s->selector, NULL));
	ck_assert(!kerf_label_selector_matches(NULL, NULL));
	ck_assert_ptr_nonnull(p->meta);
	ck_assert_ptr_nonnull(n->meta);
	ck_assert_ptr_nonnull(cls->meta);
	ck_assert_ptr_nonnull(cls->ref);
	ck_assert_ptr_null(cls->doc);
	ck_assert_ptr_null(e->name);
	ck_assert_int_eq(kerf_tolerations_append(&p->tolerations)->toleration_seconds,
			 KERF_TOLERATION_FOREVER);
	kerf_nodepool_free(np);
	kerf_nodeclaim_free(nc);
	kerf_toleration_free(tol);
	kerf_weighted_pod_affinity_term_free(w);
	kerf_topology_spread_free(s);
	kerf_pod_free(p);
	kerf_node_free(n);
	kerf_node_class_free(cls);
	kerf_event_free(e);
}
END_TEST

/* Copies are deep: the copy outlives its source. */
START_TEST(copies)
{
	struct kerf_nodeclaim *c = kerf_nodeclaim_new(), *cc;
	struct kerf_node *n = kerf_node_new(), *nn;
	struct kerf_requirement *r;
	struct kerf_taint t = {(char *)"k", NULL, NE};

	c->meta->name = xstrdup("c-1");
	kerf_labels_set(&c->meta->labels, "a", "1");
	c->nodepool = xstrdup("default");
	c->node_class_ref->name = xstrdup("default");
	r = kerf_requirements_append(&c->requirements);
	r->key = xstrdup("zone");
	kerf_requirement_add_value(r, "a");
	kerf_requirement_add_value(r, "b");
	kerf_taints_add(&c->startup_taints, &t);
	c->state = KERF_CLAIM_LAUNCHED;
	cc = kerf_nodeclaim_copy(c);
	kerf_nodeclaim_free(c);
	ck_assert_str_eq(cc->meta->name, "c-1");
	ck_assert_str_eq(kerf_labels_get(&cc->meta->labels, "a"), "1");
	ck_assert_str_eq(cc->nodepool, "default");
	ck_assert_str_eq(cc->node_class_ref->name, "default");
	ck_assert_uint_eq(cc->requirements.n, 1);
	ck_assert_uint_eq(cc->requirements.items[0]->n_values, 2);
	ck_assert_str_eq(cc->requirements.items[0]->values[1], "b");
	ck_assert_str_eq(cc->startup_taints.items[0]->key, "k");
	ck_assert_int_eq(cc->state, KERF_CLAIM_LAUNCHED);
	kerf_nodeclaim_free(cc);

	n->meta->name = xstrdup("n-1");
	kerf_taints_add(&n->taints, &t);
	n->ready = true;
	nn = kerf_node_copy(n);
	kerf_node_free(n);
	ck_assert_str_eq(nn->meta->name, "n-1");
	ck_assert_uint_eq(nn->taints.n, 1);
	ck_assert(nn->ready);
	kerf_node_free(nn);
	ck_assert_ptr_null(kerf_node_copy(NULL));
	ck_assert_ptr_null(kerf_nodeclaim_copy(NULL));
	ck_assert_ptr_null(kerf_meta_copy(NULL));
	ck_assert_ptr_null(kerf_pod_copy(NULL));
}
END_TEST

static Suite *taints_suite(void)
{
	Suite *s = suite_create("taints");
	TCase *tc = tcase_create("taints");

	tcase_add_loop_test(tc, toleration_tolerates, 0, N_ELEMS(tolerates));
	tcase_add_test(tc, tolerate_all);
	tcase_add_loop_test(tc, taint_parse_good, 0, N_ELEMS(good_taints));
	tcase_add_loop_test(tc, taint_parse_bad, 0, N_ELEMS(bad_taints));
	tcase_add_test(tc, taint_format_small);
	tcase_add_test(tc, taint_equality);
	tcase_add_test(tc, taints_add);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, enum_names);
	tcase_add_test(tc, labels_map);
	tcase_add_test(tc, free_functions);
	tcase_add_test(tc, constructor_defaults);
	tcase_add_test(tc, copies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *s = taints_suite();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
