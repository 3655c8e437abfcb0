#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Each SDK header compiles alone, as C11 and as C++17, with warnings as
# errors: a header that needs another included first, or that C++ rejects,
# fails here rather than in a plugin's build.  make check sets CC, CXX and
# top_srcdir.
set -u
inc="$top_srcdir/include"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for h in "$inc"/kerf/*.h; do
	name="kerf/${h##*/}"
	printf '#include <%s>\n' "$name" >"$tmp/alone.c"
	cp "$tmp/alone.c" "$tmp/alone.cc"
	if $CC -std=c11 -Wall -Wextra -Werror -pedantic -I"$inc" -fsyntax-only "$tmp/alone.c"; then
		passed=$((passed + 1))
	else
		echo "FAIL: <$name> alone as C11"
		failed=$((failed + 1))
	fi
	if $CXX -std=c++17 -Wall -Wextra -Werror -pedantic -I"$inc" -fsyntax-only "$tmp/alone.cc"; then
		passed=$((passed + 1))
	else
		echo "FAIL: <$name> alone as C++17"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
