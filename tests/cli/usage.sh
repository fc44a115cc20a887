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

help=$("$tasker" submit --help) || fail "submit --help: exit $?"
grep -q -- '--calls-in-flight' <<<"$help" || fail "submit --help lists no --calls-in-flight"
version=$("$tasker" --version) || fail "--version: exit $?"
grep -q '^tasker ' <<<"$version" || fail "--version printed '$version'"
echo "usage: all checks passed"
