#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# SPDX headers on kerf's tracked sources.
#
#   scripts/spdx.sh --check   list the files without a header (or with the
#                             wrong licence) and exit 1 if there are any
#   scripts/spdx.sh --apply   give every file without one its header
#
# binpack-ilp links GLPK, so its sources and the tests that exist only for
# it are GPL-3.0-or-later; everything else is Apache-2.0.  Data, generated
# files and other projects' files keep the terms they came with (NOTICE).
set -euo pipefail

usage() {
	echo "usage: $0 --check | --apply" >&2
	exit 2
}

[ $# -eq 1 ] || usage
case $1 in
--check | --apply) mode=${1#--} ;;
*) usage ;;
esac

# Only tracked files: a build tree inside the checkout must not be touched.
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$top"

# Prints how FILE is commented ("c" or "hash"), or nothing if it takes no header.
style() {
	case $1 in
	# libtoolize and autoconf-archive copies are other projects' files.
	m4/libtool.m4 | m4/lt*.m4 | m4/ax_*.m4) ;;
	data/* | */data/* | examples/traces/*) ;;
	*.c | *.h) echo c ;;
	*.py | *.sh | *.m4 | Makefile.am | */Makefile.am | configure.ac | .ci/run) echo hash ;;
	esac
}

licence() {
	case $1 in
	*binpack-ilp/* | tests/*check_ilp*.c) echo GPL-3.0-or-later ;;
	# The example a third party copies to start a provider: as permissive as it says.
	examples/plugins/acme-cloud/*) echo MIT ;;
	*) echo Apache-2.0 ;;
	esac
}

# Within the first three lines, so that it can follow a #! line and a
# Python coding line.
declared() {
	head -n 3 -- "$1" | sed -n 's/.*SPDX-License-Identifier: *\([^ *]*\).*/\1/p' | head -n 1
}

insert() {
	local file=$1 line=$2 tmp skip=0
	# The kernel reads #! only from the first line, and Python a coding
	# declaration only from the first two.
	if head -n 1 -- "$file" | grep -q '^#!'; then
		skip=1
		if sed -n 2p -- "$file" | grep -Eq '^[ \t\f]*#.*coding[:=]'; then
			skip=2
		fi
	fi
	tmp=$(mktemp)
	{
		head -n "$skip" -- "$file"
		printf '%s\n' "$line"
		tail -n "+$((skip + 1))" -- "$file"
	} >"$tmp"
	# Rewritten in place, so the mode (executable scripts) stays as it was.
	cat -- "$tmp" >"$file"
	rm -f -- "$tmp"
}

bad=0
while IFS= read -r -d '' f; do
	if [ ! -f "$f" ] || [ -L "$f" ]; then
		continue
	fi
	s=$(style "$f")
	[ -n "$s" ] || continue
	want=$(licence "$f")
	have=$(declared "$f")
	if [ -n "$have" ]; then
		if [ "$have" != "$want" ]; then
			# A declared licence is a decision, so it is reported, never rewritten.
			echo "$f: SPDX-License-Identifier $have, expected $want"
			bad=1
		fi
		continue
	fi
	if [ "$mode" = check ]; then
		echo "$f: no SPDX-License-Identifier (expected $want)"
		bad=1
	elif [ "$s" = c ]; then
		insert "$f" "/* SPDX-License-Identifier: $want */"
		echo "$f: $want"
	else
		insert "$f" "# SPDX-License-Identifier: $want"
		echo "$f: $want"
	fi
done < <(git ls-files -z)

exit "$bad"
