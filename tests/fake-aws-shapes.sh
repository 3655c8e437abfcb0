#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fake AWS's answers (check_aws --dump) against botocore's service
# models and AWS's documented examples: tests/fake-aws-shapes.py.  Uses the
# newest botocore among the Pythons at hand (Debian's python3-botocore,
# scripts/install-deps.sh, at least).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x ./unit/check_aws ]; then
	echo "fake-aws-shapes: unit/check_aws not built (no ec2 plugin or no libmicrohttpd)"
	exit 77
fi
best= best_version=
for py in "${PYTHON:-python3}" /usr/bin/python3 python3; do
	v=$("$py" -c 'import botocore; print(botocore.__version__)' 2>/dev/null) || continue
	if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best_version" "$v" | sort -V | tail -n 1)" != "$best_version" ]; then
		best=$py best_version=$v
	fi
done
if [ -z "$best" ]; then
	echo "fake-aws-shapes: no Python with botocore; install python3-botocore (scripts/install-deps.sh)" >&2
	exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
./unit/check_aws --dump "$dir"
echo "botocore $best_version ($best)"
"$best" "$here/fake-aws-shapes.py" "$dir"
