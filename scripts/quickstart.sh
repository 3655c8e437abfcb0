#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The README's first command: install what is missing, build, run the demo.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror
make -j"$(nproc)" >/dev/null
echo
echo "== kerfctl plugins"
core/kerfctl plugins
echo
echo "== kerfctl validate examples/ray-worker.yaml"
core/kerfctl validate -f examples/ray-worker.yaml
echo
echo "== kerfctl simulate: a Ray-like workload against the ray-worker NodePool (80-cpu limit)"
core/kerfctl simulate -f examples/ray-worker.yaml -f examples/simulate/ray-pods.yaml
echo
echo "== kerfd: the provisioning loop on the simulated cluster and cloud (virtual clock)"
# The demo's decision log is appended to run after run; each demo starts afresh.
rm -f /tmp/kerf-demo.decisions.jsonl
core/kerfd --config examples/sim/kerf.yaml
echo
echo "== kerfctl ab-report: binpack-ffd against binpack-ilp in shadow, from the decision log"
core/kerfctl ab-report /tmp/kerf-demo.decisions.jsonl
