#!/usr/bin/env bash
# Bad command lines: each is one line on stderr naming the command and the flag, exit status 2
# (the README's "bad flags, configuration or input"), nothing on stdout; --help and --version
# still print and succeed.
set -uo pipefail
tasker=$1
fail() { echo "FAIL: $*"; exit 1; }

expect_usage_error() { # WANT ARGS...
  local want=$1
  shift
  local out err status
  err=$(mktemp)
  out=$("$tasker" "$@" 2>"$err" </dev/null)
  status=$?
  local said
  said=$(cat "$err")
  rm -f "$err"
  [ $status -eq 2 ] || fail "tasker $*: exit $status, want 2 ($said)"
  [ -z "$out" ] || fail "tasker $*: wrote to stdout: $out"
  [ "$said" = "$want" ] || fail "tasker $*: said '$said', want '$want'"
}

expect_usage_error "tasker submit: --calls-in-flight: Value 100 not in range 0 to 64 (see tasker submit --help)" \
  submit --calls-in-flight 100 /dev/null
expect_usage_error "tasker submit: Could not convert: --window = many (see tasker submit --help)" \
  submit --window many /dev/null
expect_usage_error "tasker queue: --visibility: Value 99999 not in range 0 to 43200 (see tasker queue --help)" \
  queue create q --visibility 99999
expect_usage_error "tasker agent: The following argument was not expected: --bogus (see tasker agent --help)" \
  agent --bogus
expect_usage_error "tasker: unknown command 'sumbit': the commands are run submit agent exec queue validate results status runs report version (see tasker --help)" \
  sumbit tasks.jsonl
expect_usage_error "tasker: A subcommand is required (see tasker --help)"

# Every numeric flag is range-checked in one line: negative, too large, NaN, infinity, text
# (issue 14.6: --slots -1 and 100000 aborted with "terminate called", exit 134; NaN was accepted).
expect_usage_error "tasker agent: --slots: '-1' is not a number from 1 to 1024 (see tasker agent --help)" \
  agent --slots -1
expect_usage_error "tasker agent: --slots: '100000' is not a number from 1 to 1024 (see tasker agent --help)" \
  agent --slots 100000
expect_usage_error "tasker agent: --visibility: 'nan' is not a number from 1 to 43200 s (see tasker agent --help)" \
  agent --visibility nan
for wait in 100 -1 nan; do
  expect_usage_error "tasker agent: --poll-wait: '$wait' is not a number from 0 to 20 s (see tasker agent --help)" \
    agent --poll-wait "$wait"
done
expect_usage_error "tasker agent: --grace: 'inf' is not a number from 0 to 43200 s (see tasker agent --help)" \
  agent --grace inf
expect_usage_error "tasker agent: --max-attempts: '0' is not a number from 1 to 1000 (see tasker agent --help)" \
  agent --max-attempts 0
expect_usage_error "tasker agent: --default-timeout: '-3' is not a number from 0 to 604800 s (see tasker agent --help)" \
  agent --default-timeout -3
for timeout in nan -5; do
  expect_usage_error "tasker run: --timeout: '$timeout' is not a number from 0 to 31536000 s (see tasker run --help)" \
    run --timeout "$timeout" /dev/null
done
expect_usage_error "tasker run: --slots: '0' is not a number from 1 to 1024 (see tasker run --help)" \
  run --slots 0 /dev/null
expect_usage_error "tasker submit: --timeout: '1e400' is not a number from 0 to 31536000 s (see tasker submit --help)" \
  submit --timeout 1e400 /dev/null
expect_usage_error "tasker submit: --window: '-1' is not a number from 1 to 100000000 (see tasker submit --help)" \
  submit --window -1 /dev/null
expect_usage_error "tasker exec: --timeout: 'nan' is not a number from 0 to 604800 s (see tasker exec --help)" \
  exec --timeout nan '{}'
nproc_said=$(nProc=100000 Q_TASK=t Q_RESULTS=r "$tasker" agent --broker sqlite:/nonexistent/q.db 2>&1 </dev/null)
nproc_status=$?
[ $nproc_status -eq 2 ] || fail "nProc=100000: exit $nproc_status, want 2 ($nproc_said)"
[ "$nproc_said" = "tasker agent: nProc: '100000' is not a whole number from 1 to 1024" ] ||
  fail "nProc=100000 said '$nproc_said'"

help=$("$tasker" submit --help) || fail "submit --help: exit $?"
grep -q -- '--calls-in-flight' <<<"$help" || fail "submit --help lists no --calls-in-flight"
version=$("$tasker" --version) || fail "--version: exit $?"
grep -q '^tasker ' <<<"$version" || fail "--version printed '$version'"
echo "usage: all checks passed"
