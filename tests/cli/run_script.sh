#!/usr/bin/env bash
# The README's main command, scripts/run.sh, on the build under test (TASKER_BUILD_DIR skips its
# install and build steps): SimpleSum on the embedded default, no AWS, prints 55 and nothing else
# on stdout, and keeps the finished run's journal in its state directory.
set -euo pipefail
tasker=$1
build=$(cd "$(dirname "$tasker")" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${DOCKER_HOST:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$build/simple_sum" ] || fail "no simple_sum beside $tasker"
unset Q_TASK Q_RESULTS TASKER_BROKER
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

out=$(TASKER_BUILD_DIR=$build SIMPLESUM_STATE_DIR=$state timeout 300 "$root/scripts/run.sh" 2>"$state/run.err") \
  || fail "scripts/run.sh exited $?: $(tail -5 "$state/run.err")"
[ "$out" = 55 ] || fail "scripts/run.sh printed '$out', want 55; stderr: $(tail -5 "$state/run.err")"
journals=$(find "$state" -name 'run-*.journal' | wc -l)
[ "$journals" -eq 1 ] || fail "want the finished run's journal in the state directory, found $journals"
echo "run_script: all checks passed"
