#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# kill -9 of kerfd in the middle of a run, then a restart against the same
# simulated world (the sim's state_file): every NodeClaim the first run
# created is adopted, no name is used twice, no claim gets a second
# instance, and no instance is left without a claim.  Asserted on the
# state file, the decision log and kerfd's log, never on elapsed time; the
# waits only give up after a generous guard.
set -eu
: "${top_srcdir:=..}"
KERFD=${KERFD:-../core/kerfd}
PYTHON=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kill-restart.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
cp "$top_srcdir/tests/data/restart/"*.yaml "$work/"

# Run 1: stopped with SIGKILL once the first NodeClaims were launched.
"$KERFD" --config "$work/kerf.yaml" >"$work/run1.out" 2>"$work/run1.log" &
pid=$!
tries=0
until grep -q '"event":"launched"' "$work/decisions.jsonl" 2>/dev/null; do
	tries=$((tries + 1))
	if [ $tries -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "kill-restart: run 1 launched nothing" >&2
		cat "$work/run1.log" >&2
		exit 1
	fi
	sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
cp "$work/state.jsonl" "$work/state-at-kill.jsonl"

# Run 2: the same world; long enough for the nodes to join and the pods to land.
"$KERFD" --config "$work/kerf.yaml" --until 8s --report "$work/report.json" \
	>"$work/run2.out" 2>"$work/run2.log" || {
	echo "kill-restart: run 2 failed" >&2
	cat "$work/run2.log" >&2
	exit 1
}

"$PYTHON" - "$work" <<'PY'
import json, os, re, sys
work = sys.argv[1]

def state(path):
    claims, instances = {}, []
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if "nodeclaim" in o:
                c = o["nodeclaim"]
                claims[c["meta"]["name"]] = c
            elif "instance" in o:
                instances.append(o["instance"])
    return claims, instances

def tag(inst, key):
    return (inst.get("tags") or {}).get(key)

fails = []
at_kill, _ = state(os.path.join(work, "state-at-kill.jsonl"))
final_claims, final_instances = state(os.path.join(work, "state.jsonl"))
log2 = open(os.path.join(work, "run2.log")).read()
adopted = set(re.findall(r"adopted NodeClaim (\S+)", log2))
if not at_kill:
    fails.append("run 1 left no NodeClaim in the cluster")
if adopted != set(at_kill):
    fails.append("adopted %s, but the cluster held %s" % (sorted(adopted), sorted(at_kill)))

launched = {1: [], 2: []}
with open(os.path.join(work, "decisions.jsonl")) as f:
    run = 1
    for line in f:
        o = json.loads(line)
        if o.get("event") == "adopted":
            run = 2
        if o.get("event") == "launched":
            launched[run].append(o["nodeclaim"])
names = launched[1] + launched[2]
if len(names) != len(set(names)):
    fails.append("a NodeClaim name was used twice: %s" % names)
if set(launched[2]) & set(at_kill):
    fails.append("run 2 launched a name run 1 had: %s" % (set(launched[2]) & set(at_kill)))

owners = {}
for inst in final_instances:
    owner = tag(inst, "karpenter.sh/nodeclaim")
    owners.setdefault(owner, []).append(inst["provider_id"])
for owner, ids in owners.items():
    if owner not in final_claims:
        fails.append("instance %s has no NodeClaim (%s)" % (ids, owner))
    if len(ids) > 1:
        fails.append("NodeClaim %s has %d instances: %s" % (owner, len(ids), ids))
for name in final_claims:
    if name not in owners:
        fails.append("NodeClaim %s has no instance" % name)
if len(final_instances) != 6:
    fails.append("%d instances for six pods that need one each" % len(final_instances))
report = json.load(open(os.path.join(work, "report.json")))
pending = report["pods"]["pending"]
if pending != 0:
    fails.append("pods still pending after the restart: %s" % pending)
for f in fails:
    print("kill-restart: " + f, file=sys.stderr)
sys.exit(1 if fails else 0)
PY
