/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/workload.h - Kubernetes workloads (Pods, Deployments, ReplicaSets,
 * StatefulSets, Jobs, DaemonSets) read from the YAML users already have,
 * as pod templates with a replica count, for the simulator and
 * `kerfctl simulate`.
 *
 * Decoding is strict, as the API server's: a field the Kubernetes API does
 * not have is an error with a did-you-mean suggestion, and the fields kerf
 * models are type- and value-checked.  Fields of the real API that do not
 * affect scheduling (image, command, env, volumes, probes, securityContext,
 * ...) are accepted and ignored.
 *
 * What each pod carries (struct kerf_pod, kerf/types.h):
 *  - requests: the effective requests Kubernetes schedules by, per resource
 *    max(sum(containers) + sum(sidecars), max over init containers i of
 *    (init_i + sidecars started before i)) + spec.overhead, where a
 *    container's requests default to its limits and pod-level
 *    spec.resources (cpu, memory, hugepages) replaces the container sum
 *    for the resources it names; "pods" is always 1.
 *  - node_selector, required/preferred node affinity (matchFields on
 *    metadata.name becomes a requirement on kubernetes.io/hostname, which
 *    names the node on every common distribution), tolerations, topology
 *    spread constraints and pod (anti-)affinity terms.  matchLabelKeys (and
 *    mismatchLabelKeys) are merged into the label selector as In (NotIn)
 *    the pod's own label values, as the API server does; keys the pod has
 *    no label for are dropped.  namespaceSelector, nodeAffinityPolicy and
 *    nodeTaintsPolicy are checked but not stored (the model has no field:
 *    terms apply to their namespaces or the pod's own, and spreads honour
 *    node affinity and ignore taints, the defaults).
 *  - host ports of the regular containers (with hostNetwork a port's
 *    hostPort defaults to its containerPort); priority and
 *    priorityClassName; nodeName (pre-bound pods); karpenter.sh/do-not-
 *    disrupt; for Pods the ownerReferences controller and status.phase /
 *    the PodScheduled=False Unschedulable condition.
 * schedulerName, schedulingGates, runtimeClassName (and the overhead and
 * node selector its RuntimeClass would add), resourceClaims and
 * volumeClaimTemplates are accepted and not modelled.
 *
 * Nothing here blocks: the functions work on memory only.  Out of memory
 * aborts the process, as the core's YAML reader does.
 */
#ifndef KERF_WORKLOAD_H
#define KERF_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/scheduling.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A pod template and how many copies of it the workload runs.  Owns every
 * pointer.  A value (kerf/types.h): frozen for the whole major, so a list
 * holds it by value; the pod is an object.  ABI 2.0.
 *
 * pod:        the template.  For a Pod document the pod itself; for a
 *             controller its spec.template, with meta->kind "Pod",
 *             meta->name the workload's name, meta->namespace_ the
 *             workload's, meta->labels/annotations the template's and
 *             meta->owner_kind/owner_name the workload's kind and name.
 * replicas:   copies to create: spec.replicas (default 1) for Deployments,
 *             ReplicaSets and StatefulSets; for Jobs parallelism (default
 *             1), capped by completions when set, and 0 while suspended;
 *             1 for a Pod; 0 for a DaemonSet.
 * daemonset:  one copy per matching node instead of `replicas` (the
 *             simulator places them); pod->daemonset is set too.
 * kind, name, namespace_: the document's ("Deployment", "web",
 *             "default" when unset).  A Pod or Job given only
 *             metadata.generateName is named by that prefix.
 * line, column: where the document starts in the input, for messages.
 */
struct kerf_workload {
	struct kerf_pod *pod;
	int32_t replicas;
	bool daemonset;
	char *kind;
	char *name;
	char *namespace_;
	unsigned line;
	unsigned column;
};

/* A value: workloads in document order.  ABI 2.0. */
struct kerf_workload_list {
	size_t n;
	struct kerf_workload *items;
};

/*
 * Parses every YAML document of text (len bytes; `name` is what messages
 * call it, e.g. the file name) and returns each Pod (v1), Deployment,
 * ReplicaSet, StatefulSet, DaemonSet (apps/v1) and Job (batch/v1) as a
 * workload, looking into the items of `v1 List` documents and of typed
 * lists (PodList, DeploymentList, ...).  Documents of other kinds
 * (NodePools, Services, ConfigMaps, CRDs, ...) are skipped silently, and
 * so are documents without apiVersion and kind.  A workload kind under an
 * apiVersion Kubernetes no longer serves (extensions/v1beta1 Deployment)
 * is an error.
 *
 * On success returns 0 and *out is a new list (possibly empty) the caller
 * frees with kerf_workload_list_free().  Otherwise *out is NULL and the
 * code is KERF_E_PARSE (YAML syntax) or KERF_E_CONFIG (an object does not
 * validate), with err (NULL allowed) holding the first problem in file
 * order as "name:line:column: Kind/namespace/name: field.path: message",
 * plus " (and N more errors)" when there were more, and err->line/column
 * set.  KERF_E_INVALID for NULL text or out.  Does not block.  ABI 2.0.
 */
int kerf_workloads_parse(const char *name, const char *text, size_t len,
			 struct kerf_workload_list **out, struct kerf_error *err);

/*
 * kerf_workloads_parse(), and on KERF_E_CONFIG or KERF_E_PARSE every
 * problem, one message per line in file order, in *report (NULL when
 * there were none; the caller frees it with free()).  report may be NULL.
 * ABI 2.0.
 */
int kerf_workloads_parse_report(const char *name, const char *text, size_t len,
				struct kerf_workload_list **out, char **report,
				struct kerf_error *err);

/*
 * Limits on what a text may make kerf hold in memory: every replica
 * becomes a pod.  The defaults are Kubernetes' own scale: a cluster of
 * 5,000 nodes runs at most 150,000 pods.  ABI 2.1.
 */
#define KERF_WORKLOAD_MAX_PODS 10000 /* pods one workload may stand for */
#define KERF_SIM_MAX_PODS 150000     /* pods all workloads together may stand for */
#define KERF_FILE_MAX_OBJECTS 150000 /* documents and list items in one text */

/*
 * A caller's limits for kerf_workloads_parse_limited(); a field <= 0
 * takes the default above.  A value: zero-initialise it.  ABI 2.1.
 *
 * max_pods_per_workload: a Deployment's, ReplicaSet's or StatefulSet's
 *             replicas, a Job's parallelism (or completions) above it are
 *             an error at that field.
 * max_pods:   pods_before plus the replicas of every workload of the text
 *             above it are an error at the workload that crosses it.
 * pods_before: pods the caller already holds (from earlier files).
 * max_objects: documents and list items past it are one error, at the
 *             first one not read.
 */
struct kerf_workload_limits {
	int64_t max_pods_per_workload;
	int64_t max_pods;
	int64_t pods_before;
	int64_t max_objects;
};

/*
 * kerf_workloads_parse_report() with the caller's limits (NULL: the
 * defaults, which the other two parse functions apply).  ABI 2.1.
 */
int kerf_workloads_parse_limited(const char *name, const char *text, size_t len,
				 const struct kerf_workload_limits *limits,
				 struct kerf_workload_list **out, char **report,
				 struct kerf_error *err);

/*
 * For pod counts read elsewhere (a trace's count, a scenario's
 * scale.replicas): 0 when 0 <= n <= max (max <= 0: KERF_WORKLOAD_MAX_PODS);
 * otherwise KERF_E_RANGE with "WHAT: N pods are more than one workload may
 * have here: MAX" (or "WHAT: N is negative"), which the caller positions.
 * Does not block.  ABI 2.1.
 */
int kerf_pod_count_check(int64_t n, int64_t max, const char *what, struct kerf_error *err);

/* Frees the list, its workloads and their pods; NULL is allowed.  ABI 2.0. */
void kerf_workload_list_free(struct kerf_workload_list *l);

/*
 * kerf_label_selector_matches(), which selects pods by their labels, is in
 * kerf/scheduling.h; kerf_pod_copy(), which copies a template for each
 * replica, in kerf/types.h.
 */

#ifdef __cplusplus
}
#endif
#endif
