/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/scheduling.h - the Kubernetes scheduling predicates, once.
 *
 * The core provisioner, the packers' problem builder and the simulated
 * kube-scheduler all decide "may this pod go there?" with these functions,
 * so they cannot disagree.  Two views are offered:
 *
 *  - node side, for a node that exists and whose labels, taints, free
 *    resources and pods are known: kube-scheduler's filters (NodeAffinity,
 *    TaintToleration, NodeResourcesFit, NodePorts, PodTopologySpread,
 *    InterPodAffinity);
 *  - requirement side, for capacity not launched yet, known only as a
 *    requirement set (a NodePool's, an instance type's): Karpenter's way.
 *
 * Reasons: functions that can say why a pod does not fit take `why` and
 * `len` (why may be NULL).  On failure a one-line reason is written there,
 * starting with kube-scheduler's phrase ("node(s) didn't match Pod's node
 * affinity/selector", "untolerated taint {key=value:NoSchedule}",
 * "insufficient cpu", "host port 8080/TCP in use"), sometimes followed by
 * a detail in parentheses; on success why[0] is set to 0.
 *
 * Label keys are compared exactly on the node side, as kube-scheduler
 * does; the requirement side normalises deprecated aliases, as Karpenter
 * does (kerf/requirements.h).  A NULL namespace is "default".
 *
 * Nothing here blocks or keeps a pointer to its arguments.  Functions
 * that allocate and cannot report KERF_E_NOMEM abort on out of memory, as
 * the rest of the core does.  Everything is ABI 2.0.
 */
#ifndef KERF_SCHEDULING_H
#define KERF_SCHEDULING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/requirements.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- selectors */

/*
 * Kubernetes' LabelSelector: every matchLabels pair is present with that
 * value and every matchExpression holds (In: the label is one of the
 * values; NotIn: absent or none of them; Exists; DoesNotExist; any other
 * operator never holds, as the API server rejects it in a selector).  An
 * empty selector matches every label set; a NULL selector matches
 * nothing, like Kubernetes' nil selector.  labels NULL is a pod without
 * labels.  The pod affinity and spread checks below, the workload reader
 * (a controller's selector against its template) and the provisioner all
 * select pods with it.  Does not block.  ABI 2.0.
 */
bool kerf_label_selector_matches(const struct kerf_label_selector *s,
				 const struct kerf_labels *labels);

/* ------------------------------------------------------ node side */

/*
 * NodeAffinity: the pod's nodeSelector (every pair present) and, when the
 * pod has required node-affinity terms, at least one term whose
 * expressions all hold on node_labels (In, NotIn, Exists, DoesNotExist,
 * Gt/Lt compared as integers).  A term without expressions matches no
 * node, as in Kubernetes.  Reason: "node(s) didn't match Pod's node
 * affinity/selector (...)".  ABI 2.0.
 */
bool kerf_pod_matches_node_labels(const struct kerf_pod *pod, const struct kerf_labels *node_labels,
				  char *why, size_t len);

/*
 * TaintToleration: every NoSchedule and NoExecute taint is tolerated by
 * one of the pod's tolerations; PreferNoSchedule never blocks.  taints
 * NULL is an untainted node.  Reason: "untolerated taint
 * {key=value:Effect}" naming the first one.  ABI 2.0.
 */
bool kerf_pod_tolerates(const struct kerf_pod *pod, const struct kerf_taints *taints, char *why,
			size_t len);

/*
 * NodeResourcesFit: every resource the pod requests fits in `free`; a
 * resource missing from `free` counts as 0, so give it "pods" too.
 * Reason: "insufficient <resource>", or "too many pods".  ABI 2.0.
 */
bool kerf_pod_fits_resources(const struct kerf_pod *pod, const struct kerf_resources *free,
			     char *why, size_t len);

/*
 * Kubernetes' host port conflict rule: same port (non-zero), same protocol
 * (empty is TCP) and the same host IP, or either IP is the wildcard (NULL,
 * "" or "0.0.0.0").  ABI 2.0.
 */
bool kerf_host_ports_conflict(const struct kerf_host_port *a, const struct kerf_host_port *b);

/*
 * NodePorts: no host port of the pod conflicts with one of *used[0..n_used)
 * (the host ports of the pods already on the node).  Reason: "host port
 * 8080/TCP in use" (with " on 10.0.0.1" for a specific IP).  ABI 2.0.
 */
bool kerf_pod_host_ports_free(const struct kerf_pod *pod, struct kerf_host_port *const *used,
			      size_t n_used, char *why, size_t len);

/* ------------------------------------------------- requirement side */

/*
 * How many alternatives the pod's required node affinity offers: its
 * number of required terms, or 1 when it has none (the nodeSelector
 * alone).  Pass 0 .. n-1 as `term` below.  ABI 2.0.
 */
size_t kerf_pod_requirement_terms(const struct kerf_pod *pod);

/*
 * The pod's scheduling requirements as a new requirement set (Karpenter's
 * NewPodRequirements): the nodeSelector as `key In [value]` intersected
 * with required node-affinity term `term` (ignored when the pod has no
 * required terms).  The caller frees *out with kerf_reqset_free().
 * Returns 0; KERF_E_INVALID when `term` is out of range or an expression
 * is malformed (a Gt whose value is not an integer); KERF_E_INFEASIBLE
 * when the term has no expressions (it matches no node); KERF_E_NOMEM.
 * *out is NULL on failure.  ABI 2.0.
 */
int kerf_pod_requirements(const struct kerf_pod *pod, size_t term, struct kerf_reqset **out,
			  struct kerf_error *err);

/*
 * As kerf_pod_requirements(), also intersected with the pod's
 * n_preferred_kept heaviest preferred node-affinity terms (ties keep
 * manifest order; more than the pod has means all).  The core relaxes a
 * pod that fits nowhere by calling again with one term fewer, down to 0,
 * which is kerf_pod_requirements().  ABI 2.0.
 */
int kerf_pod_requirements_with_preferences(const struct kerf_pod *pod, size_t term,
					   size_t n_preferred_kept, struct kerf_reqset **out,
					   struct kerf_error *err);

/*
 * Can capacity allowed by `reqs` (a NodePool's requirements, an instance
 * type's, or their intersection) satisfy the pod?  True when, for some
 * alternative (see kerf_pod_requirement_terms()), the pod's requirements
 * are Karpenter-Compatible with reqs, letting through well-known labels
 * reqs does not define (kerf_reqset_compatible() with
 * KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN), as Karpenter's scheduler does.
 * reqs NULL is an empty set.  Reason: the incompatibility of the only
 * alternative, or "none of N node affinity terms is compatible (term 0:
 * ...)".  ABI 2.0.
 */
bool kerf_pod_compatible_with(const struct kerf_pod *pod, const struct kerf_reqset *reqs,
			      char *why, size_t len);

/* ------------------------------------------------------------ topology */

/*
 * Opaque: the pods already placed on a set of nodes, counted per topology
 * domain, for the filters that look at other pods (inter-pod affinity and
 * anti-affinity, topology spread, host ports, free resources).  Build one
 * per scheduling cycle, add pods as the cycle binds or plans them, ask.
 *
 * Counts are kept per (what a constraint selects, topology domain) and
 * made the first time a pod with that constraint is checked (one pass
 * over the placed pods), then maintained as pods are added; so checking
 * the replicas of one workload costs O(constraints x domains), not
 * O(pods).  Because checks fill these caches, a topology is not
 * thread-safe even for checks.
 */
struct kerf_topology;

/*
 * A topology over nodes[0..n_nodes) (node index i below is nodes[i]) and
 * the pods among pods[0..n_pods) that are bound (node_name) to one of
 * them; unbound pods, pods on other nodes and Succeeded/Failed pods are
 * left out.  Pods being deleted still count for affinity but not for
 * spreads, as in kube-scheduler.  Everything needed is copied: the
 * arguments may change or go once this returns.  Free with
 * kerf_topology_free().  Never NULL (aborts on out of memory).  ABI 2.0.
 */
struct kerf_topology *kerf_topology_new(const struct kerf_node *const *nodes, size_t n_nodes,
					const struct kerf_pod *const *pods, size_t n_pods);

/* Frees t; NULL is allowed.  ABI 2.0. */
void kerf_topology_free(struct kerf_topology *t);

/* The number of nodes t was built over.  ABI 2.0. */
size_t kerf_topology_nodes(const struct kerf_topology *t);

/*
 * Records that pod now runs on node_index (the simulated scheduler binds
 * it, the core plans it there): its labels count in every domain of that
 * node, its requests and host ports use the node's room, and its required
 * anti-affinity terms now forbid matching pods (symmetry).  pod is copied.
 * Returns 0 or KERF_E_INVALID (node_index out of range).  ABI 2.0.
 */
int kerf_topology_add_pod(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index);

/*
 * Registers `value` as a domain of topology `key` that has no node yet but
 * could get one (Karpenter: a zone a NodePool may launch into).  Such a
 * domain counts, with 0 pods, in the minimum of every spread over `key`
 * whose pod's node selector and required affinity allow the value.  Only
 * the core does this; kube-scheduler knows no such domains, so the
 * simulated scheduler must not.  Registering twice is harmless.  ABI 2.0.
 */
void kerf_topology_add_domain(struct kerf_topology *t, const char *key, const char *value);

/*
 * The filters that look at other pods, for pod on node_index: required
 * pod affinity (every term's topology domain of the node holds a pod
 * matching all terms; or, when no pod matches and the pod matches its own
 * terms, any node carrying the keys), required anti-affinity (no matching
 * pod in the node's domain), existing pods' anti-affinity against this
 * pod, and DoNotSchedule topology spread (count in the node's domain +
 * 1 if the pod matches - minimum over the eligible domains <= maxSkew;
 * eligible: nodes matching the pod's node affinity/selector that carry
 * every spread key; minimum 0 while fewer than minDomains domains).
 * Namespaces: a term's own, else the pod's; a spread counts pods in the
 * pod's namespace.  Reasons: "node(s) didn't match pod affinity rules",
 * "node(s) didn't match pod anti-affinity rules", "node(s) didn't satisfy
 * existing pods anti-affinity rules", "node(s) didn't match pod topology
 * spread constraints" (with " (missing required label)" when the node
 * lacks the key).  ABI 2.0.
 */
bool kerf_topology_check(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index,
			 char *why, size_t len);

/*
 * kube-scheduler's whole filter chain for pod on node_index, in its order:
 * nodeName ("node(s) didn't match the requested node name"), cordon
 * ("node(s) were unschedulable", unless the pod tolerates
 * node.kubernetes.io/unschedulable:NoSchedule), taints, node affinity,
 * host ports, resources (allocatable less the requests of the pods
 * placed there), then kerf_topology_check().  ABI 2.0.
 */
bool kerf_topology_fits(struct kerf_topology *t, const struct kerf_pod *pod, size_t node_index,
			char *why, size_t len);

/*
 * kerf_topology_check() for a node that does not exist yet and would have
 * node_labels (give it a hostname no existing node has): it holds no pods,
 * its domains count 0 when no node has them, and it is assumed eligible
 * for the pod's spreads (the caller only plans capacity the pod's
 * requirements allow).  Domains registered with kerf_topology_add_domain()
 * join every minimum.  A spread or affinity key missing from node_labels
 * fails as on a real node.  ABI 2.0.
 */
bool kerf_topology_check_labels(struct kerf_topology *t, const struct kerf_pod *pod,
				const struct kerf_labels *node_labels, char *why, size_t len);

/*
 * Only the pod's DoNotSchedule spreads over `key`, for a new node whose
 * `key` label is domain_value: may it go there?  Spreads over other keys
 * are not looked at (for a new node, hostname spreads always allow it).
 * ABI 2.0.
 */
bool kerf_topology_spread_allows(struct kerf_topology *t, const struct kerf_pod *pod,
				 const char *key, const char *domain_value, char *why, size_t len);

/*
 * One domain of a spread: its value and the pods it counts there.  A value
 * (kerf/types.h): frozen for the whole major, so it comes back in an array.
 * ABI 2.0.
 */
struct kerf_domain_count {
	const char *value; /* borrowed from the topology: valid until it is freed */
	int64_t count;
};

/*
 * The eligible domains of the pod's spread constraint `spread` (an index
 * into pod->spreads, any whenUnsatisfiable) with the number of matching
 * pods in each, sorted by value: the domains of the nodes that match the
 * pod's node affinity/selector and carry every key of its spreads of the
 * same kind, plus the registered domains the pod allows.  *out gets an
 * array the caller frees with free() (NULL when there are none), *n its
 * length.  Returns 0 or KERF_E_INVALID (spread out of range).  ABI 2.0.
 */
int kerf_topology_spread_domains(struct kerf_topology *t, const struct kerf_pod *pod,
				 size_t spread, struct kerf_domain_count **out, size_t *n,
				 struct kerf_error *err);

#ifdef __cplusplus
}
#endif
#endif
