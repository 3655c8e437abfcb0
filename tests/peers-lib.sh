# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the tests that run on a real etcd, kube-apiserver and (when
# asked) kube-scheduler, as built and cached by scripts/kube-peers.sh.
# Every server listens on 127.0.0.1 on a port found free at run time and is
# stopped by its pid when the test exits.
#
#   peers_have [scheduler]    0 when the binaries (and kubectl, openssl) are there
#   peers_start WORK [APISERVER_FLAG...]
#                             etcd and kube-apiserver (token auth, RBAC);
#                             writes WORK/kubeconfig for a system:masters user
#   peers_scheduler           kube-scheduler on that kubeconfig
#   peers_stop                stops what was started (the caller's EXIT trap)
#   k ARGS                    kubectl on that kubeconfig
#
# Waits give up only after a generous guard; nothing is asserted on time.
PEERS=${KERF_PEERS_DIR:-/var/cache/kerf-peers/1.20.2}
KUBECTL=${KUBECTL:-kubectl}
: "${PYTHON:=python3}"
peers_etcd_pid=
peers_api_pid=
peers_sched_pid=
peers_work=

peers_have() {
	[ -x "$PEERS/kube-apiserver" ] && [ -x "$PEERS/etcd" ] &&
		command -v "$KUBECTL" >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 &&
		{ [ "${1:-}" != scheduler ] || [ -x "$PEERS/kube-scheduler" ]; }
}

peers_fail() {
	echo "$peers_name: FAIL: $*" >&2
	exit 1
}

peers_free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

k() { "$KUBECTL" --kubeconfig "$peers_work/kubeconfig" "$@" </dev/null; }

peers_start() {
	peers_work=$1
	shift
	etcd_port=$(peers_free_port)
	peer_port=$(peers_free_port)
	api_port=$(peers_free_port)
	"$PEERS/etcd" --data-dir "$peers_work/etcd" \
		--listen-client-urls "http://127.0.0.1:$etcd_port" \
		--advertise-client-urls "http://127.0.0.1:$etcd_port" \
		--listen-peer-urls "http://127.0.0.1:$peer_port" \
		--initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
		--initial-cluster "default=http://127.0.0.1:$peer_port" >"$peers_work/etcd.log" 2>&1 &
	peers_etcd_pid=$!
	openssl genrsa -out "$peers_work/sa.key" 2048 2>/dev/null
	openssl rsa -in "$peers_work/sa.key" -pubout -out "$peers_work/sa.pub" 2>/dev/null
	echo 'admin-token,kerf-test,1,"system:masters"' >"$peers_work/tokens.csv"
	"$PEERS/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
		--cert-dir "$peers_work/certs" --token-auth-file "$peers_work/tokens.csv" \
		--authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/24 \
		--service-account-issuer https://kubernetes.default.svc \
		--service-account-key-file "$peers_work/sa.pub" \
		--service-account-signing-key-file "$peers_work/sa.key" "$@" \
		>"$peers_work/apiserver.log" 2>&1 &
	peers_api_pid=$!
	cat >"$peers_work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    insecure-skip-tls-verify: true
users:
- name: test
  user: {token: admin-token}
contexts:
- name: test
  context: {cluster: test, user: test}
current-context: test
KUBECONFIG
	HOME=$peers_work/home
	export HOME
	tries=0
	until k get --raw /readyz >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ $tries -le 900 ] ||
			peers_fail "kube-apiserver never became ready: $(tail -5 "$peers_work/apiserver.log")"
		kill -0 "$peers_api_pid" 2>/dev/null ||
			peers_fail "kube-apiserver exited: $(tail -5 "$peers_work/apiserver.log")"
		sleep 0.2
	done
}

peers_scheduler() {
	"$PEERS/kube-scheduler" --kubeconfig "$peers_work/kubeconfig" --leader-elect=false \
		--port 0 --secure-port 0 >"$peers_work/scheduler.log" 2>&1 &
	peers_sched_pid=$!
}

peers_stop() {
	for pid in $peers_sched_pid $peers_api_pid $peers_etcd_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $peers_sched_pid $peers_api_pid $peers_etcd_pid; do
		wait "$pid" 2>/dev/null || true
	done
}
