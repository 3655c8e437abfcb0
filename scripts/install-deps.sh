#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages kerf builds and tests with.  Run as root.
# Packages already present are left alone, so this is cheap to re-run.
# kubernetes-client is Debian's kubectl, which tests/kubectl-fake.sh runs.
set -eu
pkgs="build-essential g++ autoconf automake libtool pkg-config python3
libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev libglpk-dev
check libxml2-dev libmicrohttpd-dev
kubernetes-client"
# Google's kubectl package ships /usr/bin/kubectl too, and apt refuses to
# install both: where it is installed, its kubectl serves the tests.
if dpkg-query -W -f='${Status}' kubectl 2>/dev/null | grep -q "install ok installed"; then
	pkgs=$(echo $pkgs | sed 's/ kubernetes-client//')
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "kerf: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
