#!/usr/bin/env bash
# An idle `tasker agent` in a long poll stops soon after SIGTERM, on SQLite and on SQS (moto):
# the stop cuts the poll short instead of waiting it out. The poll wait is 20 s and the bound
# 5 s, loose for a loaded machine; BENCHMARKS.md has the real figures.
set -euo pipefail
tasker=$1
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill -KILL "$agent_pid" 2>/dev/null || true; fi
  "$tasker" queue delete "stop-tasks-$$" >/dev/null 2>&1 || true
  "$tasker" queue delete "stop-results-$$" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$work/agent.log" 2>/dev/null || true; exit 1; }

now_ms() { date +%s%3N; }

# Starts an idle agent on broker $1, lets it enter its poll, sends SIGTERM and checks how soon
# it is gone.
stop_idle_agent() {
  local broker=$1 label=$2
  for queue in "stop-tasks-$$" "stop-results-$$"; do
    "$tasker" queue create "$queue" --broker "$broker" >/dev/null || fail "$label: queue create $queue"
  done
  "$tasker" agent --broker "$broker" --tasks "stop-tasks-$$" --results "stop-results-$$" \
    --name "stop-$$" --slots 1 --network none --poll-wait 20 </dev/null >"$work/agent.log" 2>&1 &
  agent_pid=$!
  for _ in $(seq 100); do
    grep -q "taking tasks from" "$work/agent.log" && break
    sleep 0.1
  done
  grep -q "taking tasks from" "$work/agent.log" || fail "$label: the agent did not start"
  sleep 1  # inside its first 20 s poll
  local start; start=$(now_ms)
  kill -TERM "$agent_pid"
  local status=0
  for _ in $(seq 100); do
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$agent_pid" 2>/dev/null; then fail "$label: still running 5 s after SIGTERM"; fi
  wait "$agent_pid" || status=$?
  agent_pid=
  local took=$(( $(now_ms) - start ))
  [ "$status" = 0 ] || fail "$label: exit status $status after SIGTERM, want 0"
  grep -q "stopped:" "$work/agent.log" || fail "$label: no stop line in the log"
  echo "$label: idle agent stopped ${took} ms after SIGTERM"
  for queue in "stop-tasks-$$" "stop-results-$$"; do
    "$tasker" queue delete "$queue" --broker "$broker" >/dev/null 2>&1 || true
  done
}

stop_idle_agent "sqlite:$work/queue.db" sqlite
stop_idle_agent "sqs://" sqs
echo "agent_stop: all checks passed"
