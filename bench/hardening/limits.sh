#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Worst-case inputs against the hardening target (docs/performance.md,
# "Hardening"): no input of at most 64 MB may make `kerfctl validate`,
# `kerfctl simulate`, `kerfctl ab-report` or `kerfd --check` crash, run
# longer than 10 s or use more than 20 times its size in memory.
#
# Each case is generated into a temporary directory and run once under
# /usr/bin/time -v; the table gives the exit status (1 is a refusal with a
# message, which is fine; 128+N is a crash), the wall time, the CPU time
# (user + system: the programs use one thread, so on a quiet machine the
# two agree, and on a shared one the CPU time is what the program itself
# took, which the 10 s verdict is judged on), the peak resident memory
# and that peak over the input's size.  A small input's
# ratio is dominated by the program's fixed footprint (some 10-30 MB of
# code, the EC2 catalogue and plugins), so the verdict takes the larger of
# 20 x size and that baseline, measured on the smallest valid input.
#
#   bench/hardening/limits.sh [BUILDDIR]     (default: the current directory)
#   SIZE_MB=16 bench/hardening/limits.sh     (scales the large inputs; default 64)
#   TIMEOUT=60 bench/hardening/limits.sh     (seconds of wall time a case may take; default 120)
set -eu
build=$(cd "${1:-.}" && pwd)
kerfctl=$build/core/kerfctl
kerfd=$build/core/kerfd
src=$(cd "$(dirname "$0")/../.." && pwd)
mb=${SIZE_MB:-64}
limit=$((mb * 1024 * 1024))
dir=$(mktemp -d "${TMPDIR:-/tmp}/kerf-limits.XXXXXX")
trap 'rm -rf "$dir"' EXIT
command -v python3 >/dev/null || { echo "limits.sh: needs python3 to make the inputs" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "limits.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }

# ------------------------------------------------------------------ inputs
python3 - "$dir" "$limit" "$src" <<'EOF'
import os, sys
d, limit, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def fill(name, unit, head="", tail=""):
    """name holds head, then unit (@ numbered) repeated up to the limit, then tail."""
    size, i = len(head) + len(tail), 0
    with open(os.path.join(d, name), "w") as f:
        f.write(head)
        while True:
            u = unit.replace("@", str(i))
            if size + len(u) > limit and i > 0:
                break
            f.write(u)
            size += len(u)
            i += 1
        f.write(tail)

pool = open(os.path.join(src, "examples/ray-worker.yaml")).read()
open(os.path.join(d, "pool.yaml"), "w").write(pool)
pod = ("---\napiVersion: v1\nkind: Pod\nmetadata: {name: p@}\nspec:\n  containers:\n"
       "  - name: c\n    image: x\n    resources:\n      requests: {cpu: 100m, memory: 64Mi}\n")
# Pods, one document each: the most objects per byte a real file has.
fill("pods.yaml", pod)
open(os.path.join(d, "one-pod.yaml"), "w").write(pod.replace("@", "0"))
# NodePools, one document each.
np = next(doc for doc in pool.split("\n---\n") if "kind: NodePool" in doc)
fill("nodepools.yaml", "---\n" + np.replace("name: ray-worker-nodepool", "name: np-@", 1) + "\n")
# Tiny documents: "---\n{}\n" as often as fits.
fill("empty-docs.yaml", "---\n{}\n")
# Pods up to the reader's document limit (150,000): the densest file that is read whole.
with open(os.path.join(d, "pods-150k.yaml"), "w") as f:
    for i in range(150000):
        f.write(pod.replace("@", str(i)))
# The densest YAML: a node every two bytes, in a list and as keys without values.
fill("dense-list.yaml", "1,", head="a: [", tail="1]\n")
fill("dense-keys.yaml", "k@,", head="{", tail="z}\n")
# A node every four bytes, as dense as the reader takes whole: a list of millions.
fill("dense-block.yaml", "- a\n")
# One mapping of a million and more distinct keys.
fill("big-map.yaml", "k@: 1\n")
# Deployments at the per-workload limit until the per-simulation limit is crossed.
dep = ("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d@}\nspec:\n"
       "  replicas: 10000\n  selector: {matchLabels: {app: d@}}\n  template:\n"
       "    metadata: {labels: {app: d@}}\n    spec:\n      containers:\n"
       "      - {name: c, image: x, resources: {requests: {cpu: 100m, memory: 64Mi}}}\n")
with open(os.path.join(d, "replicas.yaml"), "w") as f:
    for i in range(16):
        f.write(dep.replace("@", str(i)))
with open(os.path.join(d, "replicas-max.yaml"), "w") as f:
    f.write(dep.replace("@", "0").replace("replicas: 10000", "replicas: 2147483647"))
# Anchors and aliases: every alias names an earlier anchor.
fill("aliases.yaml", "a@: &a@ [x]\nb@: *a@\n")
# Deep flow nesting.
depth = min(limit // 2, 10_000_000)
with open(os.path.join(d, "nested.yaml"), "w") as f:
    f.write("a: " + "[" * depth + "]" * depth + "\n")
# NUL bytes.
with open(os.path.join(d, "zeros.bin"), "wb") as f:
    f.write(b"\0" * limit)
# Decision logs: valid batch lines; one line as long as the file; a line cut short.
line = ('{"time_ms":1795810520000,"batch":@,"pods":10,"packer":"binpack-ffd","nodepools":'
        '[{"nodepool":"default","mode":"shadow","packer":"binpack-ffd","pods":10,"placed":9,'
        '"placed_new":9,"nodes":1,"price_micro_usd_per_hour":500,"requested":{"cpu_millicores":'
        '1000,"memory_bytes":1073741824},"allocatable":{"cpu_millicores":4000,"memory_bytes":'
        '4294967296},"solve_ms":2.5,"lower_bound_micro_usd_per_hour":0,"optimal":false,'
        '"shadow":{"packer":"binpack-ilp","pods":10,"placed":9,"placed_new":9,"nodes":1,'
        '"price_micro_usd_per_hour":4@,"requested":{"cpu_millicores":1000,"memory_bytes":'
        '1073741824},"allocatable":{"cpu_millicores":4000,"memory_bytes":4294967296},'
        '"solve_ms":2.5,"lower_bound_micro_usd_per_hour":0,"optimal":true}}]}\n')
fill("log.jsonl", line)
fill("log-one-line.jsonl", "1,", head="[", tail="1]\n")
fill("log-cut.jsonl", line, tail=line[:100])
fill("report-array.json", "1,", head="{\n\"batches\": 1, \"nodes\": {}, \"ab\": [", tail="1]}\n")
# A kerf.yaml naming the big manifest file.
open(os.path.join(d, "kerf.yaml"), "w").write(
    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [nodepools.yaml]\n"
    "settings:\n  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n")
open(os.path.join(d, "kerf-dense.yaml"), "w").write(
    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [dense-keys.yaml]\n"
    "settings:\n  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n")
open(os.path.join(d, "kerf-block.yaml"), "w").write(
    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [dense-block.yaml]\n"
    "settings:\n  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n")
open(os.path.join(d, "kerf-pods.yaml"), "w").write(
    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [pods-150k.yaml]\n"
    "settings:\n  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n")
open(os.path.join(d, "kerf-small.yaml"), "w").write(
    "cluster: sim\nprovider: sim\npackers: [binpack-ffd]\nmanifests: [pool.yaml]\n"
    "settings:\n  metrics_address: \"\"\n  health_address: \"\"\n  clock: virtual\n")
EOF

# ------------------------------------------------------------------ runs
printf '%-34s %10s %6s %8s %8s %10s %8s  %s\n' case "size(kB)" exit "time(s)" "cpu(s)" "rss(kB)" \
	"rss/size" verdict
worst_time=0
fail=0
baseline=0
run() {
	name=$1 input=$2
	shift 2
	size=$(($(stat -c %s "$dir/$input") / 1024))
	[ "$size" -gt 0 ] || size=1
	set +e
	(cd "$dir" && /usr/bin/time -v -o "$dir/time.txt" timeout "${TIMEOUT:-120}" "$@" >/dev/null 2>"$dir/err.txt")
	status=$?
	set -e
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	cpu=$(sed -n 's/.*User time (seconds): //p; s/.*System time (seconds): //p' "$dir/time.txt" |
		awk '{ s += $1 } END { printf "%.2f", s }')
	ratio=$(awk -v r="$rss" -v s="$size" 'BEGIN { printf "%.1f", r / s }')
	allowed=$((size * 20))
	[ "$allowed" -gt "$baseline" ] || allowed=$baseline
	verdict=ok
	if [ "$status" -gt 2 ]; then verdict="CRASH/TIMEOUT"; fi
	if [ "$rss" -gt "$allowed" ]; then verdict="${verdict} MEMORY"; fi
	if awk -v c="$cpu" 'BEGIN { exit !(c > 10) }'; then verdict="${verdict} SLOW"; fi
	[ "$verdict" = ok ] || fail=1
	printf '%-34s %10s %6s %8s %8s %10s %8s  %s\n' "$name" "$size" "$status" "$wall" "$cpu" "$rss" \
		"$ratio" "$verdict"
	head -c 2000 "$dir/err.txt" | head -2 | cut -c1-200 | sed 's/^/    /'
}

# The fixed footprint: kerfctl simulate on the example's one NodePool file.
(cd "$dir" && /usr/bin/time -v -o "$dir/time.txt" "$kerfctl" simulate -f pool.yaml >/dev/null 2>&1) || true
baseline=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
echo "baseline (kerfctl simulate -f pool.yaml): $baseline kB"

run "validate pods.yaml" pods.yaml "$kerfctl" validate pods.yaml
run "validate nodepools.yaml" nodepools.yaml "$kerfctl" validate nodepools.yaml
run "validate empty-docs.yaml" empty-docs.yaml "$kerfctl" validate empty-docs.yaml
run "validate pods-150k.yaml" pods-150k.yaml "$kerfctl" validate pods-150k.yaml
run "validate dense-list.yaml" dense-list.yaml "$kerfctl" validate dense-list.yaml
run "validate dense-keys.yaml" dense-keys.yaml "$kerfctl" validate dense-keys.yaml
run "validate big-map.yaml" big-map.yaml "$kerfctl" validate big-map.yaml
run "validate dense-block.yaml" dense-block.yaml "$kerfctl" validate dense-block.yaml
run "validate aliases.yaml" aliases.yaml "$kerfctl" validate aliases.yaml
run "validate nested.yaml" nested.yaml "$kerfctl" validate nested.yaml
run "validate zeros.bin" zeros.bin "$kerfctl" validate zeros.bin
run "validate replicas-max.yaml" replicas-max.yaml "$kerfctl" validate replicas-max.yaml
run "simulate pods.yaml" pods.yaml "$kerfctl" simulate -f pool.yaml -f pods.yaml
run "simulate pods-150k.yaml" pods-150k.yaml "$kerfctl" simulate -f pool.yaml -f pods-150k.yaml
run "simulate nodepools.yaml" nodepools.yaml "$kerfctl" simulate -f nodepools.yaml -f one-pod.yaml
run "simulate empty-docs.yaml" empty-docs.yaml "$kerfctl" simulate -f pool.yaml -f empty-docs.yaml
run "simulate dense-list.yaml" dense-list.yaml "$kerfctl" simulate -f pool.yaml -f dense-list.yaml
run "simulate big-map.yaml" big-map.yaml "$kerfctl" simulate -f pool.yaml -f big-map.yaml
run "simulate dense-block.yaml" dense-block.yaml "$kerfctl" simulate -f pool.yaml -f dense-block.yaml
run "simulate replicas.yaml (160k pods)" replicas.yaml "$kerfctl" simulate -f pool.yaml -f replicas.yaml
run "simulate replicas-max.yaml" replicas-max.yaml "$kerfctl" simulate -f pool.yaml -f replicas-max.yaml
run "simulate aliases.yaml" aliases.yaml "$kerfctl" simulate -f pool.yaml -f aliases.yaml
run "ab-report log.jsonl" log.jsonl "$kerfctl" ab-report log.jsonl
run "ab-report log-one-line.jsonl" log-one-line.jsonl "$kerfctl" ab-report log-one-line.jsonl
run "ab-report log-cut.jsonl" log-cut.jsonl "$kerfctl" ab-report log-cut.jsonl
run "ab-report report-array.json" report-array.json "$kerfctl" ab-report report-array.json
run "ab-report zeros.bin" zeros.bin "$kerfctl" ab-report zeros.bin
run "kerfd --check (nodepools.yaml)" nodepools.yaml "$kerfd" --config kerf.yaml --check
run "kerfd --check (pods-150k.yaml)" pods-150k.yaml "$kerfd" --config kerf-pods.yaml --check
run "kerfd --check (dense-keys.yaml)" dense-keys.yaml "$kerfd" --config kerf-dense.yaml --check
run "kerfd --check (dense-block.yaml)" dense-block.yaml "$kerfd" --config kerf-block.yaml --check
exit $fail
