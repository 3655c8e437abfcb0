# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the suites on a real kube-apiserver 1.20.2 (kube-conformance.sh,
# kube-e2e.sh): starts etcd and kube-apiserver on free loopback ports with
# RBAC, a token file and a client CA made here, and writes two kubeconfigs,
# one with a bearer token ($work/kubeconfig) and one with a client
# certificate ($work/kubeconfig-cert), both of system:masters.  The caller
# sets NAME and calls real_start; real_scheduler adds kube-scheduler.  Every
# process started is stopped by its pid when the script ends.
: "${top_srcdir:=..}"
: "${PYTHON:=python3}"
PEERS=${KERF_PEERS_DIR:-/var/cache/kerf-peers/1.20.2}
KERFCTL=${KERFCTL:-../core/kerfctl}
KERFD=${KERFD:-../core/kerfd}
KUBECTL=${KUBECTL:-kubectl}
if [ ! -x "$PEERS/kube-apiserver" ] || [ ! -x "$PEERS/etcd" ] ||
	[ ! -x "$PEERS/kube-scheduler" ] ||
	! command -v "$KUBECTL" >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	echo "$NAME: no kube-apiserver or kube-scheduler in $PEERS (scripts/kube-peers.sh), kubectl or openssl; skipped"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP_WORK:-}" ]; then echo "$NAME: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM
fail() {
	echo "$NAME: FAIL: $*" >&2
	for f in "$work"/kerfd*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -40 "$f" >&2; }
	done
	exit 1
}
free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HOME=$work/home
export HOME
k() { "$KUBECTL" --kubeconfig "$work/kubeconfig" "$@" </dev/null; }
# wait_for GUARD_SECONDS WHAT COMMAND...: COMMAND until it succeeds; the guard
# is only there so a broken run ends.
wait_for() {
	guard=$1
	what=$2
	shift 2
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -le $guard ] || fail "never: $what"
		sleep 1
	done
}

real_start() {
	etcd_port=$(free_port)
	peer_port=$(free_port)
	api_port=$(free_port)
	"$PEERS/etcd" --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
		--advertise-client-urls "http://127.0.0.1:$etcd_port" \
		--listen-peer-urls "http://127.0.0.1:$peer_port" \
		--initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
		--initial-cluster "default=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
	pids="$pids $!"
	api_pid=

	openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
	openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.crt" \
		-days 2 -subj "/CN=kerf-test-ca" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$work/client.key" -out "$work/client.csr" \
		-subj "/O=system:masters/CN=kerf-cert" 2>/dev/null
	openssl x509 -req -in "$work/client.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
		-CAcreateserial -out "$work/client.crt" -days 2 2>/dev/null
	echo 'kerf-token,kerf-test,1,"system:masters"' >"$work/tokens.csv"
	# No controller-manager runs: none makes the default ServiceAccount, so
	# its admission plugin would refuse every pod.  TaintNodesByCondition
	# stays on: nothing but kerf's fake kubelet takes the not-ready taint it
	# puts on every new Node away.
	"$PEERS/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
		--cert-dir "$work/certs" --token-auth-file "$work/tokens.csv" \
		--client-ca-file "$work/ca.crt" \
		--authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/24 \
		--disable-admission-plugins ServiceAccount \
		--service-account-issuer https://kubernetes.default.svc \
		--service-account-key-file "$work/sa.pub" \
		--service-account-signing-key-file "$work/sa.key" \
		${KUBE_APISERVER_FLAGS:-} >"$work/apiserver.log" 2>&1 &
	api_pid=$!
	pids="$pids $api_pid"

	cat >"$work/kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    insecure-skip-tls-verify: true
users:
- name: test
  user: {token: kerf-token}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: default}
current-context: test
EOK
	tries=0
	until k get --raw /readyz >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ $tries -le 900 ] || fail "kube-apiserver never became ready: $(tail -5 "$work/apiserver.log")"
		kill -0 "$api_pid" 2>/dev/null || fail "kube-apiserver exited: $(tail -5 "$work/apiserver.log")"
		sleep 0.2
	done
	# The serving certificate the apiserver made for itself verifies kerf's
	# connection in the certificate kubeconfig.
	cat >"$work/kubeconfig-cert" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $work/certs/apiserver.crt
users:
- name: test
  user: {client-certificate: $work/client.crt, client-key: $work/client.key}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: default}
current-context: test
EOK
	"$KERFCTL" crds >"$work/crds.yaml" || fail "kerfctl crds"
	k apply --validate=false -f "$work/crds.yaml" >"$work/apply.out" 2>&1 ||
		fail "apply crds: $(cat "$work/apply.out")"
	for c in nodepools.karpenter.sh nodeclaims.karpenter.sh ec2nodeclasses.karpenter.k8s.aws; do
		k wait --for condition=established --timeout=120s "crd/$c" >/dev/null ||
			fail "$c is not established"
	done
}

real_scheduler() {
	"$PEERS/kube-scheduler" --kubeconfig "$work/kubeconfig" --leader-elect=false \
		--port 0 --secure-port "$(free_port)" >"$work/scheduler.log" 2>&1 &
	sched_pid=$!
	pids="$pids $sched_pid"
}

# kerf_config FILE EXTRA: a kerf.yaml on the sim provider and the kube
# plugin with the fake kubelet, as examples/kube.yaml, on $work/kubeconfig.
kerf_config() {
	cat >"$1" <<EOK
cluster: kube
provider: sim
packers: [binpack-ffd, binpack-ilp]
default_packer: ${PACKER:-binpack-ffd}
plugins:
  kube:
    kubeconfig: ${KUBECONFIG_FOR_KERF:-$work/kubeconfig}
    fake_kubelet: true
    qps: 50
    burst: 100
$2
settings:
  batch_idle_duration: 1s
  batch_max_duration: 5s
  log_level: info
  clock: real
  decision_log: $work/decisions.jsonl
EOK
}

# start_kerfd CONFIG LOG: kerfd in the background, waiting until its caches
# have synced and it runs.
start_kerfd() {
	"$KERFD" --config "$1" >"$2" 2>&1 &
	kerfd_pid=$!
	pids="$pids $kerfd_pid"
	wait_for 120 "kerfd running (log $2)" grep -q "running (" "$2"
}
