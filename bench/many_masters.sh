#!/usr/bin/env bash
# Several masters at once on one tasks queue and one results queue: K `tasker submit --wait`
# runs of M trivial tasks each, started together, served by one agent with SLOTS slots, for K in
# 2 and 4, against one master alone with the same K x M tasks (the agent and daemon do the same
# work), on SQLite and (when TASKER_TEST_SQS_ENDPOINT is set) on SQS (moto). Checks that every
# master got every one of its results.
#
#   bench/many_masters.sh [M=20] [SLOTS=4] [TASKER=build/tasker]   (needs DOCKER_HOST and
#                                         TASKER_TEST_IMAGE: source the harness's env file)
set -euo pipefail
cd "$(dirname "$0")/.."
m=${1:-20}
slots=${2:-4}
tasker=${3:-build/tasker}
image=${TASKER_TEST_IMAGE:-tasker-test/busybox:latest}
work=$(mktemp -d)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# K masters of M tasks on broker $1 with an agent; prints "K seconds-of-the-slowest".
masters() { # BROKER K M
  local broker=$1 k=$2 m=$3 prefix="mm-$$-$RANDOM"
  "$tasker" queue create "$prefix-t" --broker "$broker" >/dev/null
  "$tasker" queue create "$prefix-r" --broker "$broker" >/dev/null
  "$tasker" agent --broker "$broker" --tasks "$prefix-t" --results "$prefix-r" --slots "$slots" \
    --network none --poll-wait 1 </dev/null >"$work/agent.log" 2>&1 &
  agent_pid=$!
  local pids=()
  for j in $(seq 1 "$k"); do
    for i in $(seq 1 "$m"); do
      printf '{"id":"m%d-%d","image":"%s","arguments":"echo %d"}\n' "$j" "$i" "$image" "$i"
    done >"$work/tasks-$j.jsonl"
  done
  for j in $(seq 1 "$k"); do
    ( start=$(date +%s.%N)
      "$tasker" submit "$work/tasks-$j.jsonl" --wait --progress none --timeout 300 \
        --broker "$broker" --tasks "$prefix-t" --results "$prefix-r" >"$work/results-$j.jsonl" 2>/dev/null
      echo "$start $(date +%s.%N)" >"$work/time-$j" ) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=
  for j in $(seq 1 "$k"); do
    [ "$(grep -c '"isSuccess":true' "$work/results-$j.jsonl")" -eq "$m" ] ||
      { echo "master $j of $k: not every result" >&2; exit 1; }
  done
  python3 -c '
import sys
spans = [tuple(map(float, open(p).read().split())) for p in sys.argv[2:]]
print(sys.argv[1], f"{max(e for _, e in spans) - min(s for s, _ in spans):.2f}")' "$k" "$work"/time-*
  rm -f "$work"/time-* "$work"/results-*
  "$tasker" queue delete "$prefix-t" --broker "$broker" >/dev/null 2>&1 || true
  "$tasker" queue delete "$prefix-r" --broker "$broker" >/dev/null 2>&1 || true
}

backends=("sqlite:$work/q.db")
[ -n "${TASKER_TEST_SQS_ENDPOINT:-}" ] && backends+=("sqs://")
export AWS_ENDPOINT_URL=${TASKER_TEST_SQS_ENDPOINT:-} AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
for broker in "${backends[@]}"; do
  for k in 2 4; do
    read -r _ alone < <(masters "$broker" 1 $((k * m)))
    read -r _ together < <(masters "$broker" "$k" "$m")
    echo "${broker%%:*}: $k masters x $m tasks at once: ${together} s; one master x $((k * m)): ${alone} s" \
      "($(python3 -c "print(f'{$together / $alone:.2f}')")x)"
  done
done
