#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# consolidation-day.sh KERFD [SRCDIR] - what consolidation saves over a
# simulated day with a daily load curve, and what it costs the pods.
#
# Two days, each run three times under the virtual clock on the sim
# cluster and provider, everything else the same: multi-node consolidation
# `packing` (kerf's), `karpenter` (Karpenter's method), and consolidation
# off (`consolidateAfter: Never`).
#
#  - diurnal: 24 hours from 00:00 UTC.  Three Deployments, each under a
#    PodDisruptionBudget (web 1 cpu / 2Gi, maxUnavailable 10%; api 2 cpu
#    / 4Gi, minAvailable 80%; cache 0.5 cpu / 6Gi, maxUnavailable 1), are
#    scaled every hour along a cosine from 20% of their peak at 03:00 to
#    the peak (240, 120, 160 replicas) at 15:00.  One on-demand NodePool of
#    m5, c5 and r5, WhenEmptyOrUnderutilized, consolidateAfter 1m.
#  - alibaba: examples/sim/alibaba.yaml, the Alibaba GPU trace compressed
#    10,000 times so its 149 days pass in about 25 minutes of cluster time,
#    with examples/sim/general.yaml (consolidateAfter 1m).
#
# For each run: simulated seconds, nodes launched, total cost, and the
# cost over the day's longest run (a run that ended sooner keeps paying
# its last fleet's price until then), consolidation decisions, pods
# evicted, PodDisruptionBudget refusals and breaks (the simulator logs a
# pod that went with its node while its budget would have refused the
# eviction), and the longest any pod waited to be scheduled against what
# provisioning needs: the batch's longest window (batch_max_duration)
# plus the longest a node of the run took from launch to initialised.
# The last column is "ok" when no budget was broken and no pod waited
# longer than that.
set -eu
kerfd=$1
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/kerf-bench-day.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# ----------------------------------------------------------- diurnal day
mkdir "$dir/diurnal" "$dir/alibaba"
cat >"$dir/diurnal/pool.yaml" <<'YAML'
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
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 1m
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5, c5, r5]}
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
YAML

deployment() { # name replicas cpu memory budget
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
        - {name: $1, image: busybox, resources: {requests: {cpu: "$3", memory: $4}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: $1, namespace: default}
spec:
  $5
  selector: {matchLabels: {app: $1}}
YAML
}
{
	deployment web 48 1 2Gi 'maxUnavailable: "10%"'
	deployment api 24 2 4Gi 'minAvailable: "80%"'
	deployment cache 32 500m 6Gi 'maxUnavailable: 1'
} >"$dir/diurnal/workload.yaml"
awk 'BEGIN {
	pi = atan2(0, -1)
	split("web api cache", name, " ")
	split("240 120 160", peak, " ")
	for (h = 1; h <= 24; h++) {
		f = 0.2 + 0.8 * (1 - cos(2 * pi * (h - 3) / 24)) / 2
		for (k = 1; k <= 3; k++)
			printf "- at: %dh\n  scale: {kind: Deployment, name: %s, replicas: %d}\n",
			    h, name[k], int(peak[k] * f + 0.5)
	}
}' >"$dir/diurnal/scenario.yaml"
sed 's/consolidateAfter: 1m/consolidateAfter: Never/' "$dir/diurnal/pool.yaml" \
	>"$dir/diurnal/pool-off.yaml"

diurnal_config() { # method pool
	cat <<YAML
cluster: sim
provider: sim
packers: [binpack-ffd]
manifests: [$2]
nodepools:
  default: {consolidation: $1}
plugins:
  sim: {workloads: [workload.yaml], scenario: scenario.yaml}
settings:
  log_level: warn
  metrics_address: ""
  health_address: ""
  clock: virtual
  virtual_start: 2026-01-05T00:00:00Z
YAML
}
diurnal_config packing pool.yaml >"$dir/diurnal/packing.yaml"
diurnal_config karpenter pool.yaml >"$dir/diurnal/karpenter.yaml"
diurnal_config packing pool-off.yaml >"$dir/diurnal/off.yaml"

# ----------------------------------------------------------- Alibaba day
cp "$src/examples/sim/general.yaml" "$dir/alibaba/general.yaml"
sed 's/consolidateAfter: 1m/consolidateAfter: Never/' "$src/examples/sim/general.yaml" \
	>"$dir/alibaba/general-off.yaml"
alibaba_config() { # method manifest
	sed -e "s|^  - general.yaml|  - $2|" \
		-e "s|trace: ../traces/|trace: $src/examples/traces/|" \
		"$src/examples/sim/alibaba.yaml"
	printf 'nodepools:\n  general: {consolidation: %s}\n' "$1"
}
alibaba_config packing general.yaml >"$dir/alibaba/packing.yaml"
alibaba_config karpenter general.yaml >"$dir/alibaba/karpenter.yaml"
alibaba_config packing general-off.yaml >"$dir/alibaba/off.yaml"

# ------------------------------------------------------------------ runs
for day in diurnal alibaba; do
	for run in packing karpenter off; do
		(cd "$dir/$day" && "$kerfd" --config "$run.yaml" --report "$run.json" \
			--decision-log "$run.jsonl" >"$run.out" 2>"$run.err")
	done
done

python3 - "$dir" <<'PY'
import json, os, re, sys

top = sys.argv[1]
print("%-8s %-9s %9s %8s %10s %10s %9s %8s %8s %6s %8s %8s %s" % (
    "day", "run", "simulated", "launched", "total", "same span", "decisions",
    "evicted", "refused", "broken", "max wait", "bound", "check"))
for day in ("diurnal", "alibaba"):
    d = os.path.join(top, day)
    cfg = open(os.path.join(d, "packing.yaml")).read()
    m = re.search(r"batch_max_duration: (\d+)s", cfg)
    batch_max = int(m.group(1)) if m else 10
    runs = {}
    for run in ("packing", "karpenter", "off"):
        rep = json.load(open(os.path.join(d, run + ".json")))
        init = 0
        for line in open(os.path.join(d, run + ".jsonl")):
            o = json.loads(line)
            if o.get("event") == "initialized":
                init = max(init, o["since_launch_ms"])
        broken = sum("PodDisruptionBudget" in l and "broken" in l
                     for l in open(os.path.join(d, run + ".err")))
        runs[run] = (rep, init, broken)
    span = max(r[0]["simulated_seconds"] for r in runs.values())
    for run, (rep, init, broken) in runs.items():
        same = rep["total_cost"] + rep["cost_per_hour"] * (span - rep["simulated_seconds"]) / 3600
        wait = rep["time_to_schedule_seconds"]["max"]
        bound = batch_max + init / 1000
        ok = "ok" if broken == 0 and rep["pods"]["pending"] == 0 and wait <= bound else "FAIL"
        dis = rep["disruption"]
        print("%-8s %-9s %8.0fs %8d %10s %10s %9d %8d %8d %6d %7.0fs %7.0fs %s" % (
            day, run, rep["simulated_seconds"], rep["nodes"]["launched"],
            "$%.2f" % rep["total_cost"], "$%.2f" % same, dis["decisions"],
            dis["pods_evicted"], dis["evictions_refused"], broken, wait, bound, ok))
PY
