#!/usr/bin/env bash
# Errors a user meets without any service running, each one line in tasker's words with the
# documented exit status (issues 14 and 20):
# - `submit --wait --timeout 3` against an endpoint that accepts TCP and never answers ends with
#   exit 3 within a few seconds of the timeout (it took 152 s and exit 2);
# - an endpoint's password (http://admin:PASSWORD@...) is never printed;
# - TASKER_SIGNING_KEY set but empty is refused, exit 2 (signing was silently off);
# - plain `submit` refuses a repeated id as validate does, and counts a task it could not send
#   (262,144 bytes before the run id is added), exit 1 (it said "1 tasks submitted", exit 0);
# - SIGHUP ends `submit --wait` as SIGTERM does: exit 3, "interrupted", resumable.
set -uo pipefail
tasker=$(realpath "$1")
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
listener=
cleanup() {
  [ -n "$listener" ] && kill "$listener" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset TASKER_BROKER TASKER_SIGNING_KEY TASKER_SIGNING_KEY_FILE Q_TASK Q_RESULTS
printf '%s\n' '{"id":"a","image":"busybox","arguments":"true"}' >one.jsonl

# A listener that accepts connections and never answers.
silent_server='
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
open(sys.argv[1], "w").write(str(server.getsockname()[1]))
held = []
while True:
    held.append(server.accept()[0])
'
python3 -c "$silent_server" "$work/port" </dev/null >/dev/null 2>&1 &
listener=$!
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
port=$(cat port) || fail "the listener did not start"

start=$(date +%s%N)
AWS_ENDPOINT_URL=http://admin:PASSWORD@127.0.0.1:$port timeout 60 "$tasker" submit --wait --timeout 3 \
  --tasks t --results r one.jsonl >hung.out 2>hung.err
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ $status -eq 3 ] || fail "hung endpoint: exit $status after $elapsed_ms ms, want 3: $(cat hung.err)"
[ $elapsed_ms -lt 8000 ] || fail "hung endpoint: --timeout 3 took $elapsed_ms ms"
grep -q 'timed out after 3 s' hung.err || fail "hung endpoint: $(cat hung.err)"

# A refused connection: the error names the endpoint, without its password.
AWS_ENDPOINT_URL=http://admin:PASSWORD@127.0.0.1:1 timeout 60 "$tasker" queue stats t >refused.out 2>refused.err
[ $? -eq 2 ] || fail "refused endpoint: want exit 2: $(cat refused.err)"
grep -q 'at http://127.0.0.1:1' refused.err || fail "refused endpoint not named: $(cat refused.err)"
TASKER_BROKER=http://admin:PASSWORD@127.0.0.1:1/123/q "$tasker" queue stats >address.out 2>&1
AWS_ENDPOINT_URL=http://admin:PASSWORD@127.0.0.1:1 timeout 30 "$tasker" agent --tasks t --results r \
  --log-level debug --exit-when-idle >agent.out 2>&1
grep -l PASSWORD hung.* refused.* address.out agent.out && fail "a password was printed: $(grep -h PASSWORD hung.* refused.* address.out agent.out)"

# An empty signing key is refused like an empty key file.
out=$(TASKER_SIGNING_KEY= "$tasker" submit --broker "sqlite:$work/q.db" --tasks t one.jsonl 2>&1)
status=$?
[ $status -eq 2 ] || fail "empty TASKER_SIGNING_KEY: exit $status, want 2: $out"
[ "$out" = "tasker submit: TASKER_SIGNING_KEY is set but empty: give a key of at least 16 bytes (e.g. \`openssl rand -hex 32\`), or unset it to run without signing" ] ||
  fail "empty TASKER_SIGNING_KEY said: $out"

# Plain submit: a repeated id is refused, as validate refuses it.
"$tasker" queue create t --broker "sqlite:$work/q.db" >/dev/null || fail "queue create"
printf '%s\n' '{"id":"a","image":"busybox","arguments":"true"}' '{"id":"a","image":"busybox","arguments":"false"}' >dup.jsonl
"$tasker" validate dup.jsonl 2>/dev/null && fail "validate accepted a repeated id"
"$tasker" submit --broker "sqlite:$work/q.db" --tasks t dup.jsonl >dup.out 2>dup.err
status=$?
[ $status -eq 1 ] || fail "repeated id: exit $status, want 1: $(cat dup.err)"
grep -q 'run [0-9a-f]*: 1 tasks submitted, 1 invalid$' dup.err || fail "repeated id: $(cat dup.err)"
"$tasker" queue stats t --broker "sqlite:$work/q.db" | grep -q '^t: 1 visible' || fail "repeated id was sent"

# Plain submit: a task the queue cannot take is counted as not sent, exit 1.
python3 - <<'PY'
import json
task = {"id": "big", "image": "busybox", "arguments": ""}
task["arguments"] = "x" * (262144 - len(json.dumps(task, separators=(",", ":"))))
line = json.dumps(task, separators=(",", ":"))
assert len(line) == 262144
open("big.jsonl", "w").write(line + "\n" + json.dumps({"id": "small", "image": "busybox", "arguments": "true"}) + "\n")
PY
"$tasker" submit --broker "sqlite:$work/q.db" --tasks t big.jsonl >big.out 2>big.err
status=$?
[ $status -eq 1 ] || fail "unsendable task: exit $status, want 1: $(cat big.err)"
grep -q 'run [0-9a-f]*: 1 tasks submitted, 0 invalid, 1 not sent$' big.err || fail "unsendable task: $(cat big.err)"
grep -q '^tasker submit: task big: not submitted: the task is 262167 bytes as sent' big.err || fail "unsendable task not named: $(cat big.err)"
[ -s big.out ] && fail "plain submit wrote to stdout: $(cat big.out)"

# SIGHUP stops submit --wait cleanly, as SIGTERM: exit 3, interrupted, the journal kept.
"$tasker" queue create r --broker "sqlite:$work/q.db" >/dev/null || fail "queue create r"
"$tasker" submit --wait --broker "sqlite:$work/q.db" --tasks t --results r --state "$work/j" --progress none \
  one.jsonl >hup.out 2>hup.err &
pid=$!
sleep 2
kill -HUP $pid
wait $pid
status=$?
[ $status -eq 3 ] || fail "SIGHUP: exit $status, want 3: $(cat hup.err)"
grep -q 'interrupted: 1 task(s) without a result: a' hup.err || fail "SIGHUP: $(cat hup.err)"
[ -s "$work/j" ] || fail "SIGHUP: no journal to resume from"
echo "user_errors: all checks passed"
