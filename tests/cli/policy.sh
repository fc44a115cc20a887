#!/usr/bin/env bash
# The policy flags on the command line: bad values are one-line errors naming the flag (exit 2);
# `tasker run` and `tasker exec` refuse what `tasker agent` refuses, with the same flags.
set -uo pipefail
tasker=$1
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line, exit 2, naming the flag: for every command that takes the policy flags.
expect_flag_error() { # WANT COMMAND...
  local want=$1
  shift
  local out status
  out=$("$@" 2>&1 </dev/null)
  status=$?
  [ $status -eq 2 ] || fail "$*: exit $status, want 2 ($out)"
  [ "$out" = "$want" ] || fail "$*: said '$out', want '$want'"
}
agent=("$tasker" agent --broker "sqlite:$work/q.db" --tasks t --results r)
expect_flag_error "tasker agent: --allow-mount 'relative': must be an absolute host path such as /data" \
  "${agent[@]}" --allow-mount relative
expect_flag_error "tasker agent: --max-memory '12q': unknown unit 'q' (use b, k, m, g or t)" \
  "${agent[@]}" --max-memory 12q
expect_flag_error "tasker agent: --max-cpus 'lots': must be a number greater than 0 and at most 1024" \
  "${agent[@]}" --max-cpus lots
expect_flag_error "tasker agent: --pids-limit '-3': must be a whole number (0: no limit)" \
  "${agent[@]}" --pids-limit=-3
expect_flag_error "tasker run: --max-memory '12q': unknown unit 'q' (use b, k, m, g or t)" \
  "$tasker" run --state-dir "$work/state" --max-memory 12q /dev/null
expect_flag_error "tasker run: --allow-mount '/no/such/dir': No such file or directory" \
  "$tasker" run --state-dir "$work/state" --allow-mount /no/such/dir /dev/null
# Output is read whole before grep -q (under pipefail, a writer still writing after grep's early
# exit dies of SIGPIPE and fails the pipeline).
help=$("$tasker" agent --help)
grep -q -- '--allow-host-network' <<<"$help" || fail "agent --help lists no --allow-host-network"
help=$("$tasker" run --help)
grep -q -- '--max-memory' <<<"$help" || fail "run --help lists no --max-memory"

if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP (the rest): run under tests/harness.sh"; exit 77
fi
image=$TASKER_TEST_IMAGE

# tasker run: a repeated --allow-image takes one value each (the file is not swallowed), an
# allowed image runs, and the rest is refused with error "policy".
cat >"$work/tasks.jsonl" <<JSON
{"id":"ok","image":"$image","arguments":"echo fine","network":"none"}
{"id":"other","image":"evil/x:1","arguments":"echo pwned","network":"none"}
{"id":"hostnet","image":"$image","arguments":"echo hi","network":"host"}
{"id":"priv","image":"$image","arguments":"echo hi","network":"none","privileged":true}
JSON
out=$("$tasker" run --state-dir "$work/state" --progress none --allow-image 'tasker-test/*' \
  --allow-image busybox "$work/tasks.jsonl" 2>"$work/run.err" </dev/null)
status=$?
echo "$out"
[ $status -eq 1 ] || fail "run: exit $status, want 1 (tasks failed): $(cat "$work/run.err")"
result() { grep "\"id\":\"$1\"" <<<"$out" || fail "no result for $1"; }
result ok | grep -q '"isSuccess":true' || fail "ok did not run"
result other | grep -qF '"error":"policy"' || fail "other image not refused"
result other | grep -qF 'is not allowed on this agent (--allow-image)' || fail "other: wrong reason"
result hostnet | grep -qF '(--allow-host-network)' || fail "host network not refused"
result priv | grep -qF '(--allow-privileged)' || fail "privileged not refused"

# tasker exec: the same refusal, exit 1, nothing run.
out=$("$tasker" exec </dev/null "{\"id\":\"x\",\"image\":\"$image\",\"arguments\":\"true\",\"network\":\"host\"}")
status=$?
[ $status -eq 1 ] || fail "exec: exit $status, want 1"
grep -qF '"error":"policy"' <<<"$out" || fail "exec: not refused: $out"
out=$("$tasker" exec --allow-host-network "{\"id\":\"x\",\"image\":\"$image\",\"arguments\":\"echo up\",\"network\":\"host\"}")
grep -qF '"payload":"up"' <<<"$out" || fail "exec --allow-host-network did not run: $out"
echo "policy: all checks passed"
