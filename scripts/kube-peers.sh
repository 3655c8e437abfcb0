#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The real peers kerf's conformance and end-to-end tests run against:
# kube-apiserver and kube-scheduler 1.20.2, built from Debian bookworm's
# `kubernetes` source package (its vendored modules; no network for Go)
# with Go 1.15 from Debian bullseye, and Debian's etcd-server.  Run as root.
#
#   scripts/kube-peers.sh          install/build what is missing, then print
#                                  the directory holding kube-apiserver,
#                                  kube-scheduler and an etcd symlink
#
# The binaries are cached outside the tree ($KERF_PEERS_CACHE, default
# /var/cache/kerf-peers/1.20.2), so only the first run builds (about 10
# minutes on 2 cores); later runs only check and print.
#
# Only golang-1.15-go and its -src come from bullseye: apt pinning gives
# every other bullseye package priority -1, so an upgrade never mixes
# releases.  Bookworm's deb-src line is added for `apt-get source`.
set -eu

version=1.20.2
cache=${KERF_PEERS_CACHE:-/var/cache/kerf-peers/$version}
goroot=/usr/lib/go-1.15

have() {
	[ -x "$cache/kube-apiserver" ] && [ -x "$cache/kube-scheduler" ] && [ -x /usr/bin/etcd ]
}

if have; then
	ln -sf /usr/bin/etcd "$cache/etcd"
	echo "$cache"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log() { echo "kube-peers: $*" >&2; }

# --- apt: bullseye for Go 1.15 only, bookworm sources for kubernetes
# deb822, signed by the archive keyring as Debian 12's own debian.sources is:
# apt refuses one repository named with two different Signed-By values.
list=/etc/apt/sources.list.d/kerf-peers.sources
pin=/etc/apt/preferences.d/kerf-peers
if [ ! -f "$list" ] || [ ! -f "$pin" ]; then
	cat >"$pin" <<'EOF2'
# kerf scripts/kube-peers.sh: nothing from bullseye but Go 1.15.
Package: *
Pin: release n=bullseye
Pin-Priority: -1

Package: golang-1.15-go golang-1.15-src
Pin: release n=bullseye
Pin-Priority: 500
EOF2
	cat >"$list" <<'EOF2'
# kerf scripts/kube-peers.sh (see /etc/apt/preferences.d/kerf-peers)
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF2
	apt-get update -qq || { rm -f "$list" "$pin"; log "apt-get update failed; sources removed"; exit 1; }
fi
need=""
# hack/ copies what it builds into _output/ with rsync.
for p in golang-1.15-go etcd-server dpkg-dev rsync; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	log "installing:$need"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >&2
fi
[ -x "$goroot/bin/go" ] || { log "no Go 1.15 at $goroot"; exit 1; }

# --- source and build, in a scratch directory removed on exit
work=$(mktemp -d /var/tmp/kerf-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
log "fetching the kubernetes source package into $work"
apt-get source -qq --download-only kubernetes/bookworm >&2
dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null
cd src
[ -d vendor ] || { log "the source package has no vendor/ directory"; exit 1; }

# kubernetes' own build (hack/), as Debian's debian/rules drives it: it
# generates the OpenAPI definitions and other code the tarball lacks, and
# builds from vendor/ in a GOPATH that links the tree in.
mkdir -p .go/src/k8s.io "$work/home"
ln -s ../../.. .go/src/k8s.io/kubernetes
# No .git in a source package: the version the binaries report comes from
# this file (hack/lib/version.sh reads it), as for a release tarball.
cat >"$work/version" <<EOF2
KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'
KUBE_GIT_TREE_STATE='archive'
KUBE_GIT_VERSION='v$version'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
EOF2
log "building kube-apiserver and kube-scheduler with $("$goroot/bin/go" version)"
env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GOPATH="$PWD/.go" HOME="$work/home" \
	GOCACHE="$work/gocache" GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
	KUBE_GIT_VERSION_FILE="$work/version" \
	make WHAT="cmd/kube-apiserver cmd/kube-scheduler" \
	GOLDFLAGS="-s -w" >&2
mkdir -p "$work/out"
cp _output/bin/kube-apiserver _output/bin/kube-scheduler "$work/out/"

mkdir -p "$cache"
for cmd in kube-apiserver kube-scheduler; do
	install -m 0755 "$work/out/$cmd" "$cache/$cmd.new"
	mv "$cache/$cmd.new" "$cache/$cmd"
done
ln -sf /usr/bin/etcd "$cache/etcd"
"$cache/kube-apiserver" --version >&2
have || { log "build finished but $cache is incomplete"; exit 1; }
echo "$cache"
