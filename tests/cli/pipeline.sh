#!/usr/bin/env bash
# examples/pipeline.py end to end: Python writes tasks into `tasker submit --wait` and reduces the
# JSON-lines results as they arrive, over an embedded queue with one local agent.
set -euo pipefail
tasker=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
unset Q_TASK Q_RESULTS
out=$(python3 "$root/examples/pipeline.py" --tasker "$tasker" --image "$TASKER_TEST_IMAGE" --count 8)
echo "$out"
grep -qx 'sum of squares 1..8: 204 (expected 204)' <<<"$out" || { echo "FAIL: wrong sum"; exit 1; }
echo "pipeline: all checks passed"
