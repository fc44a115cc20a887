#!/usr/bin/env bash
# The seed's SimpleSum as docker-tasker runs it: Q_TASK / Q_RESULTS on SQS (moto), two agents
# taking the tasks, and examples/simple_sum printing 55.
set -euo pipefail
tasker=$1
simple_sum=$(dirname "$tasker")/simple_sum
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export Q_TASK=simplesum-tasks-$$ Q_RESULTS=simplesum-results-$$
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$tasker" queue delete "$Q_TASK" >/dev/null 2>&1 || true
  "$tasker" queue delete "$Q_RESULTS" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$tasker" queue create "$Q_TASK" >/dev/null
"$tasker" queue create "$Q_RESULTS" >/dev/null
for name in one two; do
  "$tasker" agent --name "simplesum-$name-$$" --slots 3 --network none --poll-wait 1 >"$work/$name.log" 2>&1 &
  pids+=($!)
done
out=$(SIMPLESUM_IMAGE=$TASKER_TEST_IMAGE timeout 120 "$simple_sum")
echo "$out"
[ "$out" = 55 ] || { echo "FAIL: SimpleSum printed '$out', want 55"; tail "$work"/*.log; exit 1; }
# Both agents took part (ten 1-second tasks, three slots each).
for name in one two; do
  grep -q "succeeded" "$work/$name.log" || { echo "FAIL: agent $name ran nothing"; cat "$work/$name.log"; exit 1; }
done
echo "simple_sum_sqs: all checks passed"
