#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# placement.sh KERFD - what nodes that come up one by one do to kerf's
# plans, per packer, without planned placement (the cluster's scheduler
# places every pod).
#
# kerfd runs on the sim cluster and provider under the virtual clock: 20
# pods of three shapes (4 x 3 cpu, 6 x 1.5 cpu, 10 x 0.5 cpu) on m5.large
# to m5.2xlarge, once with every node Ready 15 s after registering and
# once with sim ready_spread 120s, seeds 1 to 6.  The figures are kerfd's
# summary: batches, nodes launched, cost per hour and time to schedule.
# More than one batch means pods the plan put on one node were taken
# elsewhere by the first Ready node and had to be planned again.
set -eu
kerfd=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/kerf-bench-placement.XXXXXX")
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
metadata: {name: general}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - {key: karpenter.sh/capacity-type, operator: In, values: ["on-demand"]}
        - {key: kubernetes.io/arch, operator: In, values: ["amd64"]}
        - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["m5"]}
YAML

for app in big:4:3:6Gi medium:6:1500m:3Gi small:10:500m:1Gi; do
	IFS=: read -r name n cpu mem <<APP
$app
APP
	cat >>"$dir/apps.yaml" <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $name}
spec:
  replicas: $n
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name}}
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: "$cpu", memory: $mem}}}]
YAML
done

for packer in binpack-ffd binpack-ilp; do
	for spread in 0s 120s; do
		for seed in 1 2 3 4 5 6; do
			cat >"$dir/kerf.yaml" <<YAML
cluster: sim
provider: sim
packers: [$packer]
manifests: [pool.yaml]
plugins:
  sim:
    workloads: [apps.yaml]
    include_types: ["m5.large", "m5.xlarge", "m5.2xlarge"]
    ready_spread: $spread
    seed: $seed
settings:
  log_level: warn
  metrics_address: ""
  health_address: ""
  clock: virtual
  virtual_start: "2026-01-05T08:00:00Z"
YAML
			"$kerfd" -c "$dir/kerf.yaml" --until 30m >"$dir/out" 2>&1
			printf '%s spread %s seed %s:' "$packer" "$spread" "$seed"
			grep -E 'batch|nodes launched|cost per hour|time to schedule' "$dir/out" |
				tr -s ' ' | tr '\n' ' '
			echo
		done
	done
done
