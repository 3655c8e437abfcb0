#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Debian's kubectl (package kubernetes-client) against the fake Kubernetes
# API server (tests/fakes/fake_kube.c), over TLS it verifies with the CA
# the fake made, authenticated by the client certificate the fake signed:
# discovery, create (a Pod and a karpenter.sh/v1 NodeClaim), get, label,
# watch (the ADDED/MODIFIED/DELETED events of changes made meanwhile) and
# delete, and `kubectl apply -f deploy/` (kerf's own manifests).  Also that
# the server is really checked: a kubeconfig without
# the CA fails verification, one without the client certificate is
# refused.  kubectl 1.20 validates created objects against /openapi/v2,
# which the fake does not serve, hence --validate=false.
#
# Waits are for a file to show a line and give up only after a generous
# guard; nothing is asserted on elapsed time.
set -eu
: "${top_srcdir:=..}"
FAKE=${FAKE_KUBE_MAIN:-./fakes/fake_kube_main}
KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" >/dev/null 2>&1; then
	echo "kubectl-fake: no kubectl (Debian: apt-get install kubernetes-client); skipped"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-fake.XXXXXX")
pid=
wpid=
cleanup() {
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
fail() {
	echo "kubectl-fake: FAIL: $*" >&2
	exit 1
}
# Waits until file $1 has a line matching $2 (grep -E), or fails.
wait_for() {
	tries=0
	until grep -Eq "$2" "$1" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -le 600 ] || fail "no line matching '$2' in $1: $(cat "$1" 2>/dev/null)"
		sleep 0.1
	done
}
# kubectl keeps its discovery cache under $HOME/.kube; each run its own.
HOME=$work/home
export HOME
mkdir -p "$HOME"

# A Node stored before the server answers (--load, one JSON object a line).
printf '%s\n' '{"apiVersion":"v1","kind":"Node","metadata":{"name":"seed-1"}}' >"$work/seed.jsonl"
"$FAKE" --tls --client-certs --dir "$work/fake" --load "$work/seed.jsonl" \
	>"$work/fake.out" 2>"$work/fake.err" &
pid=$!
wait_for "$work/fake.out" kubeconfig
kc=$(head -n 1 "$work/fake.out")
[ -r "$kc" ] || fail "the fake printed '$kc', which is not a readable kubeconfig"
k() { "$KUBECTL" --kubeconfig "$kc" "$@" </dev/null; }

# Discovery, over verified TLS.
k version -o json >"$work/version.json" || fail "kubectl version: $(cat "$work/version.json")"
grep -q '"gitVersion": "v1.20.2-fake"' "$work/version.json" || fail "no server version"
k api-resources -o name >"$work/resources" || fail "kubectl api-resources"
for r in pods nodes nodeclaims.karpenter.sh nodepools.karpenter.sh \
	ec2nodeclasses.karpenter.k8s.aws leases.coordination.k8s.io \
	poddisruptionbudgets.policy daemonsets.apps; do
	grep -qx "$r" "$work/resources" || fail "api-resources lacks $r"
done

[ "$(k get nodes -o name)" = node/seed-1 ] || fail "the loaded Node is not listed"

# A watch on pods, started before the changes it must report.
k get pods --watch --output-watch-events -o json >"$work/watch.json" 2>"$work/watch.err" &
wpid=$!

cat >"$work/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    resources: {requests: {cpu: 250m, memory: 64Mi}}
EOF
cat >"$work/nodeclaim.yaml" <<'EOF'
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: default-abcde
  labels: {karpenter.sh/nodepool: default}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: kubernetes.io/arch, operator: In, values: [amd64]}
EOF
k create --validate=false -f "$work/pod.yaml" >"$work/create.out" 2>&1 ||
	fail "create pod: $(cat "$work/create.out")"
grep -q "pod/web-1 created" "$work/create.out" || fail "create said: $(cat "$work/create.out")"
k create --validate=false -f "$work/pod.yaml" >"$work/again.out" 2>&1 &&
	fail "a second create of web-1 succeeded"
grep -q AlreadyExists "$work/again.out" || fail "second create said: $(cat "$work/again.out")"
k create --validate=false -f "$work/nodeclaim.yaml" >/dev/null || fail "create nodeclaim"

# Get, as a table, by name and by field.
k get pods >"$work/get.txt" || fail "get pods"
grep -q '^web-1 ' "$work/get.txt" || fail "get pods: $(cat "$work/get.txt")"
[ "$(k get pod web-1 -o jsonpath='{.status.phase}')" = Pending ] || fail "phase"
[ "$(k get nodeclaims -o name)" = "nodeclaim.karpenter.sh/default-abcde" ] || fail "get nodeclaims"
[ "$(k get nodeclaim default-abcde -o jsonpath='{.spec.nodeClassRef.kind}')" = EC2NodeClass ] ||
	fail "nodeclaim spec"

# A change through a strategic merge patch, then the deletes.
k label pod web-1 tier=frontend >/dev/null || fail "label"
[ "$(k get pod web-1 -o jsonpath='{.metadata.labels.tier}')" = frontend ] || fail "label not stored"
k delete pod web-1 >"$work/delete.out" 2>&1 || fail "delete: $(cat "$work/delete.out")"
k get pod web-1 >"$work/gone.out" 2>&1 && fail "web-1 still there after delete"
grep -q NotFound "$work/gone.out" || fail "get after delete said: $(cat "$work/gone.out")"
k delete nodeclaim default-abcde >/dev/null || fail "delete nodeclaim"
[ -z "$(k get nodeclaims -o name)" ] || fail "nodeclaim still listed"

# The watch saw all three changes of web-1, in order.
wait_for "$work/watch.json" '"type": ?"DELETED"'
grep -Eo '^\{"type": ?"[A-Z]*"' "$work/watch.json" | sed 's/.*"\([A-Z]*\)"$/\1/' |
	tr '\n' ' ' >"$work/events"
[ "$(cat "$work/events")" = "ADDED MODIFIED DELETED " ] ||
	fail "watch events: $(cat "$work/events")"
kill "$wpid" 2>/dev/null || true
wpid=

# kerf's deployment manifests go in as kubectl applies them (the numbered
# files in order: the namespace first), and a second apply changes nothing.
k apply --validate=false -f "$top_srcdir/deploy/" -f "$top_srcdir/deploy/fake-kubelet/" \
	>"$work/apply.out" 2>&1 || fail "apply deploy/: $(cat "$work/apply.out")"
for o in namespace/kerf serviceaccount/kerf clusterrole.rbac.authorization.k8s.io/kerf \
	clusterrolebinding.rbac.authorization.k8s.io/kerf role.rbac.authorization.k8s.io/kerf-leader-election \
	rolebinding.rbac.authorization.k8s.io/kerf-leader-election configmap/kerf deployment.apps/kerf \
	clusterrole.rbac.authorization.k8s.io/kerf-fake-kubelet; do
	grep -q "^$o created" "$work/apply.out" || fail "apply did not create $o: $(cat "$work/apply.out")"
done
[ "$(k -n kerf get deployment kerf -o jsonpath='{.spec.template.spec.serviceAccountName}')" = kerf ] ||
	fail "the Deployment's service account"
k apply --validate=false -f "$top_srcdir/deploy/" >"$work/apply2.out" 2>&1 || fail "second apply"
[ "$(grep -c unchanged "$work/apply2.out")" -eq 8 ] || fail "second apply: $(cat "$work/apply2.out")"

# The server is verified and the client certificate required.
grep -v certificate-authority "$kc" >"$work/no-ca"
"$KUBECTL" --kubeconfig "$work/no-ca" get pods </dev/null >"$work/no-ca.out" 2>&1 &&
	fail "kubectl trusted the fake without its CA"
grep -q "x509" "$work/no-ca.out" || fail "without the CA: $(cat "$work/no-ca.out")"
grep -v "client-" "$kc" >"$work/no-cert"
"$KUBECTL" --kubeconfig "$work/no-cert" get pods </dev/null >"$work/no-cert.out" 2>&1 &&
	fail "the fake served a client without a certificate"

kill "$pid"
wait "$pid" || fail "the fake exited with $? on SIGTERM"
pid=
[ ! -e "$kc" ] || fail "the fake left its kubeconfig behind"
echo "kubectl-fake: ok"
