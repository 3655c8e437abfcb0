#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen.py KIND COUNT > FILE - the large inputs of the memory benchmark (run.sh).

nodepools: COUNT NodePools of about 1 KB each (labels, requirements, taints,
limits), each under its own name; pods: COUNT Pods of about 170 bytes, as a
trace replayed into manifests would give.
"""
import sys

NODEPOOL = """apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: pool-{i}
  labels: {{team: team-{t}, tier: batch}}
spec:
  weight: {w}
  limits: {{cpu: "{cpu}", memory: {mem}Gi}}
  disruption: {{consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 30s}}
  template:
    metadata:
      labels: {{pool: pool-{i}, team: team-{t}}}
    spec:
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
      expireAfter: 720h
      taints:
      - {{key: example.com/team, value: team-{t}, effect: NoSchedule}}
      requirements:
      - {{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}}
      - {{key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}}
      - {{key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}}
      - {{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["4"]}}
      - {{key: topology.kubernetes.io/zone, operator: In, values: [us-east-1a, us-east-1b]}}
---
"""

POD = """apiVersion: v1
kind: Pod
metadata: {{name: p-{i}, namespace: default}}
spec:
  containers:
  - {{name: c, image: x, resources: {{requests: {{cpu: {c}m, memory: {m}Mi}}}}}}
---
"""


def main():
    kind, count = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    for i in range(count):
        if kind == "nodepools":
            out.write(NODEPOOL.format(i=i, t=i % 37, w=1 + i % 100, cpu=100 + i % 900,
                                      mem=400 + i % 3000))
        elif kind == "pods":
            out.write(POD.format(i=i, c=100 + i % 3900, m=128 + i % 8000))
        else:
            sys.exit("gen.py: KIND is nodepools or pods")


main()
