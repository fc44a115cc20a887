#!/usr/bin/env bash
# How fast `tasker submit --wait` takes in results, over a network with latency: fauxqs behind
# bench/latency_proxy.py (DELAY_MS each way). N tasks are submitted first with a journal
# (--state); N results for them are put on the results queue (by `tasker submit` of result-shaped
# lines with the same run id); then the timed part: the same `submit --wait` resumed from the
# journal, which sends nothing and receives, journals and deletes the N results.
#
#   bench/wait_latency.sh [N=5000] [DELAY_MS=10]      (needs build/tasker; CALLS=k sets
#                                                      --calls-in-flight, default the queue's)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
delay=${2:-10}
work=$(mktemp -d)
source scripts/lib/docker.sh
source bench/lib.sh
start_sqs_with_latency "$work" "$delay"
write_echo_tasks "$n" "$work/tasks.jsonl"
for i in $(seq 1 "$n"); do
  printf '{"id":"s%d","image":"x","arguments":"x","isSuccess":true,"payload":"%d"}\n' "$i" "$i"
done >"$work/results.jsonl"
build/tasker queue create bench-tasks >/dev/null
build/tasker queue create bench-results >/dev/null
common=(--broker sqs:// --tasks bench-tasks --results bench-results --run-id bench --state "$work/run.journal")
build/tasker submit "$work/tasks.jsonl" "${common[@]}" 2>/dev/null
build/tasker submit "$work/results.jsonl" --broker sqs:// --tasks bench-results --run-id bench 2>/dev/null

start=$(date +%s%N)
got=$(build/tasker submit "$work/tasks.jsonl" "${common[@]}" --wait --progress none ${CALLS:+--calls-in-flight "$CALLS"} 2>"$work/wait.err" | wc -l)
end=$(date +%s%N)
[ "$got" -eq "$n" ] || { cat "$work/wait.err" >&2; echo "got $got results, want $n" >&2; exit 1; }
python3 -c "import sys; n,s=int(sys.argv[1]),(int(sys.argv[3])-int(sys.argv[2]))/1e9; print(f'submit --wait took in {n} results in {s:.1f} s: {n/s:,.0f} results/s (delay {sys.argv[4]} ms each way)')" "$n" "$start" "$end" "$delay"
