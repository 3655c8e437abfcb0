#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh SRCDIR BUILDDIR SECONDS TARGET... - `make fuzz`: builds kerf with
# clang, ASan, UBSan and libFuzzer's coverage in BUILDDIR (configured once,
# rebuilt each time), then runs each target for SECONDS on a working corpus
# seeded from SRCDIR/tests/fuzz/TARGET.  A crash, leak or timeout is written
# into that directory (crash-*, leak-*, timeout-*), where make check replays
# it: fix the bug and commit the input with the fix.
set -eu
src=$1
build=$2
secs=$3
shift 3

command -v clang >/dev/null 2>&1 || {
	echo "make fuzz needs clang with libFuzzer (Debian: apt-get install clang)" >&2
	exit 1
}
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$src/configure" --enable-sanitizers=address CC=clang CXX=clang++ \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" >configure.out 2>&1 ||
		{ cat configure.out; exit 1; }
fi
make -j"${FUZZ_JOBS:-2}" >make.out 2>&1 || { tail -n 40 make.out; exit 1; }
make -C tests fuzz-programs >>make.out 2>&1 || { tail -n 40 make.out; exit 1; }

status=0
for t in "$@"; do
	work="$build/corpus/$t"
	mkdir -p "$work"
	echo "=== $t: ${secs}s"
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./tests/fuzz/fuzz-"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$src/tests/fuzz/$t/" \
		"$work" "$src/tests/fuzz/$t" >"$build/fuzz-$t.log" 2>&1; then
		status=1
		echo "$t: FOUND a problem; the input is in tests/fuzz/$t/ (log: $build/fuzz-$t.log)"
	fi
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done|^INFO: seed' "$build/fuzz-$t.log" || true
done
exit $status
