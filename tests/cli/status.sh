#!/usr/bin/env bash
# `tasker status` and `tasker runs` from a second terminal, on the embedded default: during a run
# (counts, the tasks running on this machine's Docker with their agent), after a kill -9 (the run
# is in progress, its results so far counted), after the resume ends it (finished, the failures
# with their reasons), --json for scripts, --watch ending with the run, and bad sources in one
# line.
set -euo pipefail
tasker=$1
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
unset Q_TASK Q_RESULTS TASKER_BROKER
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
{
  printf '{"id":"quick-%s","image":"%s","arguments":["sh","-c","echo %s"]}\n' 1 "$TASKER_TEST_IMAGE" 1 2 "$TASKER_TEST_IMAGE" 2
  printf '{"id":"broken","image":"%s","arguments":["sh","-c","echo no such thing >&2; exit 7"]}\n' "$TASKER_TEST_IMAGE"
  for i in 1 2; do printf '{"id":"slow-%s","image":"%s","arguments":["sh","-c","sleep 6; echo %s"]}\n' "$i" "$TASKER_TEST_IMAGE" "$i"; done
  for i in 3 4; do printf '{"id":"later-%s","image":"%s","arguments":["sh","-c","sleep 1; echo %s"]}\n' "$i" "$TASKER_TEST_IMAGE" "$i"; done
} >tasks.jsonl

"$tasker" run tasks.jsonl -j 2 --progress none >first.jsonl 2>first.err &
pid=$!
# Wait until both slow tasks run (the quick ones and the broken one are done by then).
for _ in $(seq 1 100); do
  out=$("$tasker" status 2>&1 || true)
  [[ $out == *"slow-1 on "* && $out == *"slow-2 on "* ]] && break
  sleep 0.2
done
[[ $out == *"7 submitted, 2 succeeded, 1 failed, 4 waiting for a result"* ]] || fail "during the run: $out"
[[ $out == *"running on this machine's Docker: 2"* ]] || fail "running: $out"
[[ $out == *"broken  exit  exit code 7: no such thing"* ]] || fail "failures: $out"
json=$("$tasker" status --json)
python3 - "$json" <<'PY' || fail "status --json: $json"
import json, sys
s = json.loads(sys.argv[1])
assert s["submitted"] == 7 and s["failed"] == 1 and s["waiting"] == 4 and not s["finished"], s
assert sorted(r["id"] for r in s["runningHere"]) == ["slow-1", "slow-2"], s
assert all(r["agent"].startswith("embedded-") for r in s["runningHere"]), s
assert s["failures"] == [{"id": "broken", "error": "exit", "exitCode": 7, "reason": "exit code 7: no such thing"}], s
PY
runs=$("$tasker" runs)
[[ $runs == *" in progress  7 submitted, 2 succeeded, 1 failed  .tasker/run.journal"* ]] || fail "runs during: $runs"

# Killed: the run is in progress, what it journaled still counts.
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
out=$("$tasker" status)
[[ $out == *"7 submitted, 2 succeeded, 1 failed, 4 waiting for a result"* ]] || fail "after kill -9: $out"
[[ $out != *": finished"* ]] || fail "a killed run is not finished: $out"

# Resumed, watched from another process: --watch ends when the run does.
"$tasker" run tasks.jsonl -j 2 --progress none >second.jsonl 2>second.err &
pid=$!
timeout 120 "$tasker" status --watch 0.5 >watch.out || fail "status --watch did not end with the run: $(tail -3 watch.out)"
wait "$pid" || true; pid=""
grep -q "7 submitted, 6 succeeded, 1 failed, 0 waiting for a result" watch.out || fail "watch: $(tail -6 watch.out)"
[ "$(grep -c "submitted," watch.out)" -ge 2 ] || fail "watch reported once: $(cat watch.out)"
out=$("$tasker" status)
[[ $out == *": finished"* && $out == *"7 submitted, 6 succeeded, 1 failed, 0 waiting"* ]] || fail "after the end: $out"
runs=$("$tasker" runs --json)
python3 -c 'import json,sys; r=[json.loads(l) for l in sys.argv[1].splitlines()]; assert len(r)==1 and r[0]["finished"] and r[0]["succeeded"]==6, r' "$runs" \
  || fail "runs --json: $runs"

status=0
err=$("$tasker" status nowhere 2>&1) || status=$?
[ "$status" = 2 ] && [ "$err" = "tasker status: cannot read nowhere: No such file or directory" ] || fail "bad source ($status): $err"
status=0
err=$("$tasker" runs nowhere 2>&1) || status=$?
[ "$status" = 2 ] && [ "$err" = "tasker runs: state directory nowhere does not exist" ] || fail "bad state dir ($status): $err"
echo "PASS: status and runs during, after a kill and after the end"
