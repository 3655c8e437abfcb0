#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# consolidation.sh KERFD [N...] - what one multi-node consolidation
# decision costs the disruption controller, over N candidate nodes
# (default: 1000 and 5000), with each NodePool method.
#
# kerfd runs on the sim cluster and provider under the virtual clock: N
# 3-cpu batch pods and N 0.5-cpu web pods fill N m5.xlarge nodes (one of
# each per node); the batch pods go at 3m, leaving N candidates each an
# eighth used, and the scan at 6m, when their consolidateAfter (3m) is
# over, folds them.  Until then no node is a candidate, so no scan runs
# before the one measured (a single-node scan tries every candidate, one
# simulation each: over nodes still full it would cost N simulations of
# N nodes each time the cluster changed); kerfd stops at 6m10s, before
# the decision is carried out (the web scale at 6m30s only keeps the
# virtual run going until then).  The figures are the controller's own
# log line for that scan: candidates, simulations (prov_consolidate
# calls), the real time it took and the loop thread's CPU time (one core,
# whatever else the machine runs); and kerfd's real time and peak memory
# for the whole run.
set -eu
kerfd=$1
shift
[ $# -gt 0 ] || set -- 1000 5000
dir=$(mktemp -d "${TMPDIR:-/tmp}/kerf-bench-consolidation.XXXXXX")
trap 'rm -rf "$dir"' EXIT

cat >"$dir/pool.yaml" <<'YAML'
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: KarpenterNodeRole-bench
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: bench}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: bench}}]
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  disruption:
    consolidateAfter: 3m
    budgets: [{nodes: "100%"}]
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge]}
        - {key: topology.kubernetes.io/zone, operator: In, values: [us-east-1a]}
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
YAML
cat >"$dir/scenario.yaml" <<'YAML'
- at: 3m
  scale: {kind: Deployment, name: batch, namespace: default, replicas: 0}
- at: 6m30s
  scale: {kind: Deployment, name: web, namespace: default, replicas: NODES}
YAML
cp "$dir/scenario.yaml" "$dir/scenario.in"

deployment() { # name replicas cpu
	cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: default}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers:
        - {name: $1, image: busybox, resources: {requests: {cpu: "$3", memory: 256Mi}}}
YAML
}

printf '%-10s %6s %10s %11s %9s %9s %8s %7s %8s\n' method nodes candidates simulations ms \
	"CPU ms" removed "run s" "peak MB"
for n in "$@"; do
	{ deployment batch "$n" 3; deployment web "$n" 500m; } >"$dir/workload.yaml"
	sed "s/NODES/$n/" "$dir/scenario.in" >"$dir/scenario.yaml"
	for method in karpenter packing; do
		cat >"$dir/kerf.yaml" <<YAML
cluster: sim
provider: sim
packers: [binpack-ffd]
manifests: [pool.yaml]
nodepools:
  default: {consolidation: $method}
plugins:
  sim: {workloads: [workload.yaml], scenario: scenario.yaml}
settings:
  log_level: info
  metrics_address: ""
  health_address: ""
  clock: virtual
  virtual_start: 2026-01-05T06:00:00Z
YAML
		(cd "$dir" && /usr/bin/time -f '%e %M' -o time.txt "$kerfd" --config kerf.yaml \
			--until 6m10s >log.txt 2>&1)
		read -r secs kb <"$dir/time.txt"
		sed -n 's/.*multi-node consolidation ([a-z]*) of NodePool default: \([0-9]*\) candidates, \([0-9]*\) simulations, \([0-9.]*\) ms, \([0-9.]*\) ms CPU, \([0-9]*\) nodes to remove.*/\1 \2 \3 \4 \5/p' \
			"$dir/log.txt" |
			head -n 1 |
			while read -r cands sims ms cpu removed; do
				printf '%-10s %6s %10s %11s %9s %9s %8s %7s %8s\n' "$method" "$n" "$cands" \
					"$sims" "$ms" "$cpu" "$removed" "$secs" $((kb / 1024))
			done
	done
done
