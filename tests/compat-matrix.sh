#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# docs/compatibility.md names every field the manifest and workload
# decoders accept: each string of their `*fields[]` lists must appear in a
# `code span` of the matrix (as a name or a path segment), so a field added
# to a decoder without a row in the matrix fails here.  make check sets
# top_srcdir; `compat-matrix.sh --list` prints the fields.
set -u
doc="$top_srcdir/docs/compatibility.md"
sources="$top_srcdir/core/karpenter/manifest.c $top_srcdir/core/karpenter/manifest_validate.c
$top_srcdir/core/karpenter/crd.c
$top_srcdir/plugins/ec2/nodeclass.c $top_srcdir/core/lib/workload.c"

# The strings of every `static const char *const ...fields[] = { ... };`.
fields() {
	# shellcheck disable=SC2086
	awk '/fields\[\] = \{/ { on = 1 }
	     on { line = $0
		  while (match(line, /"[^"]*"/)) {
			print substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		  }
		  if ($0 ~ /\};/) on = 0 }' $sources | sort -u
}

if [ "${1:-}" = "--list" ]; then
	fields
	exit 0
fi
[ -r "$doc" ] || { echo "FAIL: $doc is missing"; exit 1; }
# Every identifier inside a code span of the matrix.
names=$(awk -F'`' '{ for (i = 2; i <= NF; i += 2) print $i }' "$doc" |
	tr -c 'A-Za-z0-9_\n' '\n' | sort -u)
missing=0
total=0
for f in $(fields); do
	total=$((total + 1))
	if ! printf '%s\n' "$names" | grep -qx -- "$f"; then
		echo "FAIL: field \"$f\" is accepted by a decoder but not in docs/compatibility.md"
		missing=$((missing + 1))
	fi
done
echo "$total fields, $missing missing from docs/compatibility.md"
[ "$missing" -eq 0 ]
