#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kerf's SigV4 signer against botocore on 500 generated requests (fixed
# seed): tests/sigv4-botocore.py.  botocore comes from Debian's
# python3-botocore (scripts/install-deps.sh), or any Python that has it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
signer=./unit/check_sigv4
if [ ! -x "$signer" ]; then
	echo "sigv4-botocore: $signer not built (the ec2 plugin is disabled)"
	exit 77
fi
for py in /usr/bin/python3 "${PYTHON:-python3}" python3; do
	if "$py" -c 'import botocore' 2>/dev/null; then
		exec "$py" "$here/sigv4-botocore.py" "$signer" 500 20261207
	fi
done
echo "sigv4-botocore: no Python with botocore; install python3-botocore (scripts/install-deps.sh)" >&2
exit 1
