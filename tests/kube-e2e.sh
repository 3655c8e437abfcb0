#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# kerf end to end on a real kube-apiserver and kube-scheduler 1.20.2: kerf's
# CRDs, a NodePool and its EC2NodeClass applied with kubectl, 40 pending pods
# of four shapes created with kubectl, then kerfd with the kube plugin, the
# sim provider and the fake kubelet (as examples/kube.yaml).  Asserted:
# NodeClaims are created and accepted, read back and valid by `kerfctl
# validate`; their Nodes appear Ready; the real scheduler binds every pod;
# every NodeClaim reaches Initialized; with the pods gone, consolidation
# deletes the nodes and their claims.
#
# Measured, not asserted: per batch, the pods kerf planned for its new
# NodeClaims against the pods the scheduler bound to those claims' nodes
# (printed as "placement:" lines), pod by pod: the decision log names the
# pods planned for each claim (a bare pod is its own owner).  PACKER
# (binpack-ffd or binpack-ilp) chooses the packer.
#
# Skipped (77) when the peers are not built (scripts/kube-peers.sh).
set -eu
NAME=kube-e2e
. "${top_srcdir:-..}/tests/kube-real.sh"
PACKER=${PACKER:-binpack-ffd}
real_start
real_scheduler

cat >"$work/pool.yaml" <<EOK
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: e2e}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: KarpenterNodeRole-e2e
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: e2e}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: e2e}}]
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: e2e}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: e2e}
      requirements:
      - {key: kubernetes.io/arch, operator: In, values: [amd64]}
      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
      - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
      - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["4"]}
      - {key: karpenter.k8s.aws/instance-cpu, operator: Lt, values: ["9"]}
  limits: {cpu: 400}
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 5s}
EOK
k apply -f "$work/pool.yaml" >"$work/pool.out" 2>&1 || fail "NodePool: $(cat "$work/pool.out")"

# Four shapes, ten pods each, on nodes of at most 8 vCPUs: a batch needs
# several nodes.
: >"$work/pods.yaml"
for shape in "a 250m 512Mi" "b 500m 1Gi" "c 1 2Gi" "d 2 3Gi"; do
	set -- $shape
	i=0
	while [ $i -lt 10 ]; do
		cat >>"$work/pods.yaml" <<EOK
---
apiVersion: v1
kind: Pod
metadata: {name: $1-$i, labels: {app: $1}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
    resources: {requests: {cpu: "$2", memory: $3}}
EOK
		i=$((i + 1))
	done
done
k apply -f "$work/pods.yaml" >"$work/pods.out" 2>&1 || fail "pods: $(cat "$work/pods.out")"
# The scheduler finds no node and marks them unschedulable, as kerf expects.
wait_for 120 "the scheduler marks the pods unschedulable" \
	sh -c "[ \$($KUBECTL --kubeconfig $work/kubeconfig get pods -o jsonpath='{range .items[*]}{.status.conditions[?(@.reason==\"Unschedulable\")].reason}{\"\\n\"}{end}' | grep -c Unschedulable) -eq 40 ]"

kerf_config "$work/kerf.yaml" ""
start_kerfd "$work/kerf.yaml" "$work/kerfd.log"

pending() { k get pods --field-selector spec.nodeName= -o name | wc -l; }
wait_for 300 "every pod bound ($(pending) pending)" sh -c "[ \$($KUBECTL --kubeconfig $work/kubeconfig get pods --field-selector spec.nodeName= -o name | wc -l) -eq 0 ]"

initialized() {
	k get nodeclaims -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Initialized")].status}{"\n"}{end}' >"$work/init.txt"
	[ -s "$work/init.txt" ] && ! grep -qv ' True$' "$work/init.txt"
}
wait_for 300 "every NodeClaim Initialized" initialized
claims=$(wc -l <"$work/init.txt")
ready=$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
[ "$ready" -ge "$claims" ] || fail "$claims NodeClaims but $ready Ready nodes"

# Every NodeClaim as the server stores it, checked by kerf's model (schema
# and Karpenter's CEL rules, which 1.20 ignores).
k get nodeclaims,nodepools,ec2nodeclasses -o yaml >"$work/readback.yaml"
"$KERFCTL" validate -f "$work/readback.yaml" >"$work/validate.out" 2>&1 ||
	fail "the NodeClaims kerf wrote are not valid: $(cat "$work/validate.out")"
grep -q " $claims NodeClaims*[,)]" "$work/validate.out" ||
	fail "kerfctl validate did not check the $claims NodeClaims: $(cat "$work/validate.out")"

# Planned against bound, per batch.
k get pods -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' >"$work/bound.txt"
k get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.labels.karpenter\.sh/nodeclaim}{"\n"}{end}' >"$work/nodes.txt"
"$PYTHON" - "$work/decisions.jsonl" "$work/bound.txt" "$work/nodes.txt" "$PACKER" <<'EOP' >"$work/placement.txt" || fail "placement: $(cat "$work/placement.txt")"
import json, sys
dec, bound, nodes, packer = sys.argv[1:5]
claim_of = {}
for line in open(nodes):
    f = line.split()
    if f:
        claim_of[f[0]] = f[1] if len(f) > 1 else f[0]
on = {}
for line in open(bound):
    f = line.split()
    if len(f) == 2:
        on["default/" + f[0]] = claim_of.get(f[1], f[1])
tp = tb = 0
claims = set()
for line in open(dec):
    d = json.loads(line)
    if "batch" not in d or not d.get("nodeclaims"):
        continue
    planned = landed = 0
    for c in d["nodeclaims"]:
        claims.add(c["name"])
        for pod, n in c["owners"].items():
            planned += n
            landed += on.get(pod) == c["name"]
    tp += planned
    tb += landed
    print("placement: packer=%s batch=%d claims=%d planned=%d bound_as_planned=%d"
          % (packer, d["batch"], len(d["nodeclaims"]), planned, landed))
print("placement: packer=%s total planned=%d bound_as_planned=%d nodeclaims=%d"
      % (packer, tp, tb, len(claims)))
EOP
cat "$work/placement.txt"

# Scale to nothing: the empty nodes are consolidated away with their claims.
# No kubelet confirms a graceful deletion.
k delete pods --all --grace-period=0 --force >/dev/null 2>&1 || fail "delete pods"
wait_for 300 "the pods deleted" sh -c "[ -z \"\$($KUBECTL --kubeconfig $work/kubeconfig get pods -o name)\" ]"
wait_for 300 "the empty nodes consolidated ($(k get nodeclaims -o name | wc -l) NodeClaims left)" \
	sh -c "[ -z \"\$($KUBECTL --kubeconfig $work/kubeconfig get nodeclaims -o name)\" ] && [ -z \"\$($KUBECTL --kubeconfig $work/kubeconfig get nodes -o name)\" ]"
kill "$kerfd_pid"
wait "$kerfd_pid" || true
echo "$NAME: ok"
