#!/usr/bin/env bash
# A run resumes only what it is a run of, and prints each result once. `tasker run` killed part
# way, then: given another file (it used to resume the old file's tasks and wait for ever), the
# same file changed, or standard input with other tasks, it refuses in one line naming both and
# the ways on, exit 2; its journal cut in half at the last record (a crash or power loss mid-write)
# is repaired and the task whose record was lost sent again; the resume prints only new results
# (it used to print them all again), or with --replay all of them; a `submit --state` journal
# resumed against another broker is refused.
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
tasks() {  # tasks FILE WORD: 12 tasks printing WORD-i
  for i in $(seq 1 12); do
    printf '{"id":"t-%s","image":"%s","arguments":["sh","-c","sleep 0.3; echo %s-%s"]}\n' "$i" "$TASKER_TEST_IMAGE" "$2" "$i"
  done >"$1"
}
tasks tasks.jsonl a
printf '{"id":"one","image":"%s","arguments":["echo","one"]}\n' "$TASKER_TEST_IMAGE" >one.jsonl
ids() { python3 -c 'import json,sys; [print(json.loads(l)["id"]) for f in sys.argv[1:] for l in open(f) if l.strip()]' "$@"; }

# Starts `tasker run ARGS...` (stdin from $input if set), kills it once 3 results are out.
kill_after_three() {
  local out=$1; shift
  if [ -n "${input:-}" ]; then "$tasker" run "$@" -j 1 --progress none <"$input" >"$out" 2>"$out.err" &
  else "$tasker" run "$@" -j 1 --progress none >"$out" 2>"$out.err" & fi
  pid=$!
  for _ in $(seq 1 300); do [ "$(wc -l <"$out")" -ge 3 ] && break; sleep 0.1; done
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  [ "$(wc -l <"$out")" -ge 3 ] || fail "no 3 results before the kill: $(cat "$out.err")"
}
refused() {  # refused WANT ARGS...: `tasker run ARGS` exits 2 with one line containing WANT
  local status=0 err
  if [ -n "${input:-}" ]; then err=$("$tasker" run "${@:2}" --timeout 60 --progress none <"$input" 2>&1 >/dev/null) || status=$?
  else err=$("$tasker" run "${@:2}" --timeout 60 --progress none 2>&1 >/dev/null) || status=$?; fi
  [ "$status" = 2 ] || fail "tasker run ${*:2}: exit $status, want 2: $err"
  [ "$(grep -c '^tasker run: ' <<<"$err")" = 1 ] || fail "tasker run ${*:2}: want one error line: $err"
  [[ $(grep '^tasker run: ' <<<"$err") == *"$1"* ]] || fail "tasker run ${*:2}: '$err' does not say '$1'"
}

kill_after_three first.jsonl tasks.jsonl
refused "of '$work/tasks.jsonl', not of '$work/one.jsonl': resume it with the same input, discard it (tasker run --fresh" one.jsonl
cp tasks.jsonl saved.jsonl
tasks tasks.jsonl changed
refused "the input is not the one run" tasks.jsonl
cp saved.jsonl tasks.jsonl

# Cut the journal's last record in half, as a crash mid-write leaves it.
journal=.tasker/run.journal
python3 - "$journal" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
body = data[:-1] if data.endswith(b"\n") else data
last = body.rfind(b"\n") + 1
assert b'"result"' in body[last:], body[last:]
open(sys.argv[1], "wb").write(body[:last] + body[last:last + (len(body) - last) // 2])
PY
status=0
"$tasker" run tasks.jsonl -j 2 --progress none >second.jsonl 2>second.err || status=$?
[ "$status" = 0 ] || fail "resume after the cut: exit $status: $(cat second.err)"
grep -q "its last record was cut off" second.err || fail "the cut record was not reported: $(cat second.err)"
[ "$(ids first.jsonl second.jsonl | sort -u | wc -l)" = 12 ] || fail "not every task answered: $(ids first.jsonl second.jsonl | sort | tr '\n' ' ')"
again=$(comm -12 <(ids first.jsonl | sort) <(ids second.jsonl | sort) | wc -l)
[ "$again" -le 1 ] || fail "$again results printed again by the resume (only the one whose record was cut may be)"

# Standard input: checked by its digest as it is read again; --replay prints what the journal held.
rm -rf .tasker
input=tasks.jsonl kill_after_three first-stdin.jsonl -
tasks other.jsonl b
input=other.jsonl refused "the input is not the one run" -
input=tasks.jsonl "$tasker" run - --replay -j 2 --progress none <tasks.jsonl >replayed.jsonl 2>replayed.err \
  || fail "resume --replay: $(cat replayed.err)"
[ "$(ids replayed.jsonl | sort | uniq -c | awk '$1 != 1' | wc -l)" = 0 ] || fail "--replay printed a result twice"
[ "$(ids replayed.jsonl | wc -l)" = 12 ] || fail "--replay printed $(ids replayed.jsonl | wc -l) results, want 12"

# A submit journal resumed against another broker.
"$tasker" queue create t --broker sqlite:a.db >/dev/null && "$tasker" queue create r --broker sqlite:a.db >/dev/null
"$tasker" queue create t --broker sqlite:b.db >/dev/null && "$tasker" queue create r --broker sqlite:b.db >/dev/null
status=0
"$tasker" submit one.jsonl --wait --broker sqlite:a.db --tasks t --results r --state j.journal --timeout 1 \
  --progress none >/dev/null 2>&1 || status=$?
[ "$status" = 3 ] || fail "submit --wait with no agent: exit $status, want 3 (timed out)"
status=0
err=$("$tasker" submit one.jsonl --wait --broker sqlite:b.db --tasks t --results r --state j.journal --timeout 1 \
  --progress none 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [[ $err == *"on broker sqlite:$work/a.db, not sqlite:$work/b.db"* ]] \
  || fail "another broker ($status): $err"
echo "PASS: resume refuses other inputs and brokers, repairs a cut journal, prints once"
