#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Whether a packer's time budget holds in real time under the virtual
# clock: kerfd replays examples/sim/alibaba.yaml (the Alibaba trace, 10,000
# times faster than recorded) with PACKER as the only packer and its
# time_budget set to BUDGET, and the decision log's solve times are summed
# up.  The packer's solve_ms (each batch's nodepools record) is the real
# time of its solve() call; the batch's adds the scheduling simulation.
#
#   bench/budget.sh [KERFD] [BUDGET] [PACKER]
#       (defaults: core/kerfd, 200ms, binpack-ilp; run from the build tree)
set -e
kerfd=${1:-core/kerfd}
budget=${2:-200ms}
packer=${3:-binpack-ilp}
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/kerf-budget.XXXXXX")
trap 'rm -rf "$dir"' EXIT

cat >"$dir/kerf.yaml" <<EOF
cluster: sim
provider: sim
packers: [$packer]
default_packer: $packer
manifests:
  - $src/examples/sim/general.yaml
plugins:
  sim:
    trace: $src/examples/traces/alibaba-openb-2023.csv
    trace_time_scale: 10000
    seed: 7
  $packer:
    time_budget: $budget
settings:
  batch_idle_duration: 1s
  batch_max_duration: 10s
  log_level: warn
  metrics_address: ""
  health_address: ""
  clock: virtual
  decision_log: $dir/decisions.jsonl
EOF

echo "command: bench/budget.sh $kerfd $budget $packer"
echo "config: examples/sim/alibaba.yaml, packers [$packer], time_budget $budget, clock virtual"
start=$(date +%s)
"$kerfd" --config "$dir/kerf.yaml" >"$dir/summary" 2>"$dir/stderr" || {
	cat "$dir/stderr" >&2
	exit 1
}
echo "kerfd ran $(($(date +%s) - start)) s of real time"

# Batch lines carry the batch's solve_ms first, then one per nodepools record.
awk -v budget="$budget" '
function ms(s) {
	if (s ~ /ms$/) return substr(s, 1, length(s) - 2) + 0
	if (s ~ /s$/) return substr(s, 1, length(s) - 1) * 1000
	return s + 0
}
function grab(s, arr, n,   v) {
	while (match(s, /"solve_ms":[0-9.eE+-]+/)) {
		v = substr(s, RSTART + 11, RLENGTH - 11) + 0
		arr[++n] = v
		s = substr(s, RSTART + RLENGTH)
	}
	return n
}
function sort(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
function pct(a, n, p,   k) {
	k = int((n * p + 99) / 100)
	return a[k < 1 ? 1 : k]
}
function report(name, a, n,   i, sum, over, over15) {
	if (!n) {
		printf "%-8s no solves\n", name
		return
	}
	sort(a, n)
	for (i = 1; i <= n; i++) {
		sum += a[i]
		over += a[i] > b
		over15 += a[i] > 1.5 * b
	}
	printf "%-8s %5d solves  mean %8.1f  p50 %8.1f  p90 %8.1f  p99 %8.1f  worst %8.1f ms\n",
	    name, n, sum / n, pct(a, n, 50), pct(a, n, 90), pct(a, n, 99), a[n]
	printf "%-8s over the budget (%g ms): %d, over 1.5 times it: %d\n", name, b, over, over15
}
BEGIN { b = ms(budget) }
/"batch":/ {
	i = index($0, "\"nodepools\":")
	head = i ? substr($0, 1, i - 1) : $0
	nb = grab(head, batch, nb)
	if (i)
		np = grab(substr($0, i), packer, np)
}
END {
	report("packer", packer, np)
	report("batch", batch, nb)
	split("25 50 100 150 200 250 300 500 1000", edge, " ")
	printf "packer solves by real time (ms):"
	for (k = 1; k <= 10; k++) {
		lo = k == 1 ? 0 : edge[k - 1]
		c = 0
		for (i = 1; i <= np; i++)
			c += packer[i] >= lo && (k == 10 || packer[i] < edge[k])
		printf k == 10 ? "  >=%s: %d" : "  <%s: %d", k == 10 ? lo : edge[k], c
	}
	printf "\n"
}' "$dir/decisions.jsonl"
