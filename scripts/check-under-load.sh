#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs `make -j2 check` RUNS times in a row (default 20) in a configured
# build tree, with a CPU-bound process beside it the whole time, and stops
# at the first failure.  kerf's tests must not depend on how busy the
# machine is; check_ilp's determinism test compares its plans with a digest
# recorded in the test, so every passing run solved alike.
#
#     scripts/check-under-load.sh BUILD_DIR [RUNS]
#
# Prints one line per run (its number, result and wall seconds) and, on a
# failure, the failing tests' logs.
set -eu
build=${1:?usage: check-under-load.sh BUILD_DIR [RUNS]}
runs=${2:-20}
cd "$build"
# The CPU-bound neighbour: a shell loop that never sleeps.
sh -c 'while :; do :; done' &
hog=$!
trap 'kill "$hog" 2>/dev/null || true' EXIT INT TERM
i=1
while [ "$i" -le "$runs" ]; do
	start=$(date +%s)
	if make -j2 check >"check-$i.out" 2>&1; then
		result=pass
	else
		result=FAIL
	fi
	end=$(date +%s)
	echo "run $i: $result, $((end - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ "$result" = FAIL ]; then
		grep -E '^(FAIL|ERROR):' "check-$i.out" || true
		cat tests/test-suite.log
		exit 1
	fi
	i=$((i + 1))
done
echo "$runs of $runs runs passed beside a CPU-bound process"
