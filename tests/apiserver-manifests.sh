#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# kerf's manifests on a real kube-apiserver 1.20.2 with etcd
# (scripts/kube-peers.sh builds and caches them), authorizing with RBAC:
# - the CRDs `kerfctl crds` prints are accepted as structural schemas with
#   valid defaults, serve the three kinds, and validate objects: Karpenter's
#   examples and a NodeClaim as Karpenter writes it are created, with
#   defaults filled in; objects that break a pattern, an enum, a range or a
#   required field are refused;
# - deploy/ applies, and its RBAC gives kerf's service account what kerf
#   uses and nothing it does not (kubectl auth can-i as that account).
#
# Skipped (77) when the peers are not built: run scripts/kube-peers.sh as
# root once.  Waits give up only after a generous guard; nothing is
# asserted on elapsed time.
set -eu
: "${top_srcdir:=..}"
: "${PYTHON:=python3}"
NAME=apiserver-manifests
. "$top_srcdir/tests/kube-real.sh"
real_start

"$KERFCTL" crds >"$work/crds.yaml" || fail "kerfctl crds"
k apply -f "$work/crds.yaml" >"$work/apply.out" 2>&1 || fail "apply crds: $(cat "$work/apply.out")"
for c in nodepools.karpenter.sh nodeclaims.karpenter.sh ec2nodeclasses.karpenter.k8s.aws; do
	k wait --for condition=established --timeout=120s "crd/$c" >/dev/null ||
		fail "$c is not established: $(k get crd "$c" -o yaml)"
	# A structural schema: the server reports no NonStructuralSchema condition.
	[ -z "$(k get crd "$c" -o jsonpath='{.status.conditions[?(@.type=="NonStructuralSchema")].status}')" ] ||
		fail "$c: the server finds the schema non-structural"
done

ex="$top_srcdir/tests/data/karpenter-examples"
k apply -f "$ex/general-purpose.yaml" -f "$ex/spot.yaml" -f "$ex/nodeclaim-launched.yaml" \
	>"$work/objects.out" 2>&1 || fail "Karpenter's objects refused: $(cat "$work/objects.out")"
# Defaults, as the schema gives them.
[ "$(k get nodepool general-purpose -o jsonpath='{.spec.disruption.budgets[0].nodes}')" = "10%" ] ||
	fail "the default budget was not filled in"
[ "$(k get nodepool general-purpose -o jsonpath='{.spec.template.spec.expireAfter}')" = 720h ] ||
	fail "the default expireAfter was not filled in"
# The status subresource: the main resource does not store status.
[ -z "$(k get nodeclaim default-x7k2p -o jsonpath='{.status.providerID}')" ] ||
	fail "status was stored through the main resource"

# Refusals, each for the field it breaks.
bad() {
	printf '%s\n' "$2" >"$work/bad.yaml"
	# --validate=false: the server refuses, not kubectl's check of the published schema.
	if k create --validate=false -f "$work/bad.yaml" >"$work/bad.out" 2>&1; then
		fail "the server accepted an object with a bad $1"
	fi
	grep -q "$1" "$work/bad.out" || fail "refused, but not for $1: $(cat "$work/bad.out")"
}
np='apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: bad}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]'
bad spec.weight "$np
  weight: 500"
bad spec.disruption.consolidateAfter "$np
  disruption: {consolidateAfter: soon}"
bad spec.disruption.consolidationPolicy "$np
  disruption: {consolidateAfter: 0s, consolidationPolicy: Sometimes}"
bad spec.template.spec.nodeClassRef 'apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: bad}
spec:
  template:
    spec:
      requirements: []'
bad spec.amiSelectorTerms 'apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: bad}
spec:
  subnetSelectorTerms: [{id: subnet-1}]
  securityGroupSelectorTerms: [{id: sg-1}]'
# deploy/: the service account may do what kerf does, and no more.
k apply -f "$top_srcdir/deploy/" >"$work/deploy.out" 2>&1 || fail "apply deploy/: $(cat "$work/deploy.out")"
sa=system:serviceaccount:kerf:kerf
can() {
	# $1: yes or no; the rest: kubectl auth can-i's arguments
	want=$1
	shift
	got=$(k auth can-i --as "$sa" "$@" 2>/dev/null || true)
	[ "$got" = "$want" ] || fail "can-i $*: $got, want $want"
}
can yes list pods --all-namespaces
can yes watch pods --all-namespaces
can yes delete pods -n default
can yes create pods --subresource eviction -n default
can no create pods --subresource binding -n default
can no create pods -n default
can yes patch nodes
can yes delete nodes
can no create nodes
can yes create nodeclaims.karpenter.sh
can yes update nodeclaims.karpenter.sh --subresource status
can yes list nodepools.karpenter.sh
can no update nodepools.karpenter.sh
can yes list ec2nodeclasses.karpenter.k8s.aws
can no delete ec2nodeclasses.karpenter.k8s.aws
can yes patch ec2nodeclasses.karpenter.k8s.aws --subresource status
can no patch ec2nodeclasses.karpenter.k8s.aws
can yes create events -n default
can no get secrets -n kerf
can no list configmaps --all-namespaces
can yes create leases.coordination.k8s.io -n kerf
can yes update leases.coordination.k8s.io/kerf-leader-election -n kerf
can no update leases.coordination.k8s.io/another -n kerf
can no update leases.coordination.k8s.io/kerf-leader-election -n default
# The fake kubelet's extra verbs come only with its own binding.
k apply -f "$top_srcdir/deploy/fake-kubelet/" >/dev/null || fail "apply deploy/fake-kubelet/"
can yes create nodes
can yes patch nodes --subresource status

echo "apiserver-manifests: ok"
