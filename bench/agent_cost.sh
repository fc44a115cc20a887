#!/usr/bin/env bash
# What a `tasker agent` costs: its RSS when idle (after a few polls), and its CPU per task while
# `tasker submit --wait` runs N trivial tasks through it over SQS (moto on loopback), read from
# /proc (user + system time of the agent process only).
#
#   bench/agent_cost.sh [N=100] [SLOTS=4] [TASKER=build/tasker]   (needs DOCKER_HOST,
#                 TASKER_TEST_IMAGE and TASKER_TEST_SQS_ENDPOINT: source the harness's env file)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
slots=${2:-4}
tasker=${3:-build/tasker}
image=${TASKER_TEST_IMAGE:-tasker-test/busybox:latest}
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export Q_TASK=cost-tasks-$$ Q_RESULTS=cost-results-$$
work=$(mktemp -d)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  "$tasker" queue delete "$Q_TASK" >/dev/null 2>&1 || true
  "$tasker" queue delete "$Q_RESULTS" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$tasker" queue create "$Q_TASK" >/dev/null
"$tasker" queue create "$Q_RESULTS" >/dev/null
"$tasker" agent --slots "$slots" --network none --poll-wait 1 </dev/null >"$work/agent.log" 2>&1 &
agent_pid=$!
sleep 3
# Clock ticks of user + system time, and resident set size in KiB.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$agent_pid/status"; }
idle_rss=$(rss_kib)
for i in $(seq 1 "$n"); do
  printf '{"id":"c%d","image":"%s","arguments":"echo %d"}\n' "$i" "$image" "$i"
done >"$work/tasks.jsonl"
before=$(cpu_ticks)
start=$(date +%s.%N)
"$tasker" submit "$work/tasks.jsonl" --wait --progress none >"$work/results.jsonl"
end=$(date +%s.%N)
after=$(cpu_ticks)
peak_rss=$(awk '/^VmHWM/ {print $2}' "/proc/$agent_pid/status")
[ "$(grep -c '"isSuccess":true' "$work/results.jsonl")" -eq "$n" ] || { echo "not every task succeeded"; exit 1; }
python3 - "$n" "$slots" "$idle_rss" "$peak_rss" "$before" "$after" "$(getconf CLK_TCK)" "$start" "$end" <<'PY'
import sys
n, slots, idle, peak, before, after, hz = map(int, sys.argv[1:8])
start, end = map(float, sys.argv[8:10])
print(f"agent, {slots} slots, {n} tasks over SQS (moto) in {end - start:.1f} s: "
      f"cpu {(after - before) * 1000 / hz / n:.2f} ms/task, idle RSS {idle / 1024:.1f} MiB, "
      f"peak RSS {peak / 1024:.1f} MiB")
PY
