#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh BUILDDIR [WORKDIR] - the memory benchmark of docs/performance.md
# ("Memory per input byte"): generates the two large inputs (gen.py) and
# measures `kerfctl validate` on each with /usr/bin/time -v, printing the
# file size, peak RSS, their ratio and the wall time.  Measured, never
# asserted.
set -eu
build=$1
work=${2:-$build/bench-hardening}
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$work"
python3 "$here/gen.py" nodepools 54000 >"$work/nodepools.yaml"
python3 "$here/gen.py" pods 100000 >"$work/pods.yaml"
printf '%-16s %12s %12s %8s %8s\n' input bytes peak-rss-kb ratio wall
for f in nodepools pods; do
	in="$work/$f.yaml"
	/usr/bin/time -v "$build/core/kerfctl" validate -f "$in" >"$work/$f.out" 2>"$work/$f.time"
	size=$(stat -c %s "$in")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$f.time")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$f.time")
	ratio=$(awk -v r="$rss" -v s="$size" 'BEGIN { printf "%.1f", r * 1024 / s }')
	printf '%-16s %12s %12s %8s %8s\n' "$f.yaml" "$size" "$rss" "$ratio" "$wall"
done
