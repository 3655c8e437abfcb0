#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# kerf's kube plugin, loaded by kerfd as in production, against a real
# kube-apiserver 1.20.2 and etcd with `kerfctl crds` installed:
# - authentication by client certificate (verified TLS) and by token;
# - lists of every kind kerf reads in pages of two (page_size), pods of
#   several namespaces, nodes, DaemonSets, NodePools, NodeClaims and
#   EC2NodeClasses, counted in kerfd's status line against the server's;
# - a watch: objects made after the sync reach kerf's cache;
# - the Lease with two identities: the second kerfd stands by while the
#   first holds it and takes it when the first dies;
# - an Event kerf writes for a pod it cannot place.
# kube-e2e.sh covers the NodeClaim, Node and consolidation writes.
#
# Skipped (77) when the peers are not built (scripts/kube-peers.sh).
set -eu
NAME=kube-conformance
. "${top_srcdir:-..}/tests/kube-real.sh"
real_start

k create namespace a >/dev/null && k create namespace b >/dev/null || fail "namespaces"
objs=$work/objs.yaml
: >"$objs"
i=0
while [ $i -lt 5 ]; do
	cat >>"$objs" <<EOK
---
apiVersion: v1
kind: Node
metadata: {name: n$i, labels: {kubernetes.io/arch: amd64}}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
---
apiVersion: v1
kind: Pod
metadata: {name: p$i, namespace: $([ $((i % 2)) -eq 0 ] && echo a || echo b)}
spec:
  nodeName: n$i
  containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {requests: {cpu: 100m}}}]
EOK
	i=$((i + 1))
done
cat >>"$objs" <<EOK
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds, namespace: kube-system}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec:
      containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {requests: {cpu: 50m}}}]
EOK
k apply -f "$objs" >"$work/objs.out" 2>&1 || fail "objects: $(cat "$work/objs.out")"
k apply -f "$top_srcdir/examples/sim/demo/general.yaml" >"$work/pool.out" 2>&1 ||
	fail "NodePool: $(cat "$work/pool.out")"
k apply --validate=false -f "$top_srcdir/tests/data/karpenter-examples/nodeclaim-launched.yaml" \
	>"$work/nc.out" 2>&1 || fail "NodeClaim: $(cat "$work/nc.out")"

lease="    page_size: 2
    leader_election:
      enabled: true
      name: kerf-conformance
      namespace: default
      lease_duration: 10s
      renew_deadline: 8s
      retry_period: 500ms"
KUBECONFIG_FOR_KERF=$work/kubeconfig-cert kerf_config "$work/kerf-a.yaml" "$lease"
start_kerfd "$work/kerf-a.yaml" "$work/kerfd-a.log"
a_pid=$kerfd_pid
grep -q "insecure-skip-tls-verify" "$work/kerfd-a.log" && fail "the certificate kubeconfig verifies TLS"
status='pods=5 (pending=5 unschedulable=0) nodes=5 nodepools=1 nodeclaims=1 nodeclasses=1 daemonsets=1'
grep -q "status: $status" "$work/kerfd-a.log" ||
	fail "kerf's cache after paged lists: $(grep 'status:' "$work/kerfd-a.log" | head -1), want $status"
wait_for 60 "kerfd (certificate) takes the Lease" grep -q "leader lease acquired" "$work/kerfd-a.log"
holder=$(k get lease -n default kerf-conformance -o jsonpath='{.spec.holderIdentity}')
[ -n "$holder" ] || fail "no Lease holder"

# A second kerfd, by token, stands by while the first holds the Lease, and
# takes it once the first is gone and the Lease has run out.
kerf_config "$work/kerf-b.yaml" "$lease"
start_kerfd "$work/kerf-b.yaml" "$work/kerfd-b.log"
b_pid=$kerfd_pid
[ "$(k get lease -n default kerf-conformance -o jsonpath='{.spec.holderIdentity}')" = "$holder" ] ||
	fail "the Lease changed hands while its holder renewed it"
grep -q "leader lease acquired" "$work/kerfd-b.log" && fail "both kerfd hold the Lease"
kill -KILL "$a_pid"
wait "$a_pid" 2>/dev/null || true
wait_for 120 "the second kerfd takes the Lease" grep -q "leader lease acquired" "$work/kerfd-b.log"
holder_b=$(k get lease -n default kerf-conformance -o jsonpath='{.spec.holderIdentity}')
[ -n "$holder_b" ] && [ "$holder_b" != "$holder" ] || fail "the Lease's holder is $holder_b"

# The watch: a pod no NodePool can take, made after the sync, reaches kerf,
# which records a FailedScheduling Event for it.
cat >"$work/big.yaml" <<EOK
apiVersion: v1
kind: Pod
metadata: {name: huge, namespace: a}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9, resources: {requests: {cpu: "5000"}}}]
EOK
k apply -f "$work/big.yaml" >/dev/null || fail "pod huge"
# No scheduler runs here: mark it as the scheduler would.
k get pod -n a huge -o json | "$PYTHON" -c '
import json, sys
p = json.load(sys.stdin)
p["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                              "message": "0/5 nodes are available"}]
json.dump(p, sys.stdout)' >"$work/huge-status.json"
# kubectl has no --subresource here: PUT the status through the raw API.
k replace --raw /api/v1/namespaces/a/pods/huge/status -f "$work/huge-status.json" >/dev/null ||
	fail "pod status"
wait_for 60 "kerf's Event for the pod it cannot place" sh -c \
	"$KUBECTL --kubeconfig $work/kubeconfig get events -n a -o jsonpath='{range .items[*]}{.source.component} {.involvedObject.name}{\"\\n\"}{end}' | grep -q '^kerf huge'"
grep 'status:' "$work/kerfd-b.log" | tail -1
echo "$NAME: ok"
