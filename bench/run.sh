#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs bench/scheduling once per size, each in a fresh process so that the
# peak RSS printed is that size's alone, then the trace run.
#
#   bench/run.sh [PROGRAM] [RUNS]     (defaults: bench/scheduling, 5 runs each)
set -e
prog=${1:-bench/scheduling}
runs=${2:-5}
header=--header
for pods in 1000 5000 10000 20000; do
	"$prog" --runs "$runs" $header "$pods"
	header=
done
"$prog" --runs "$runs" --trace
