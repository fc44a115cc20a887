#!/usr/bin/env bash
# The detached pattern, on SQLite and on SQS (moto): `tasker submit` without --wait (killed part
# way, then resumed from its --state), an agent answering, and later `tasker results RUN --state`
# from another process (killed part way, then run again): every result is printed exactly once
# over the two collects and nothing is left in the results queue. A later `submit --wait --run-id`
# with nothing to send used to delete every result unseen.
set -euo pipefail
tasker=$1
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ] || [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
unset Q_TASK Q_RESULTS TASKER_BROKER
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cd "$work"
for i in $(seq 1 40); do
  printf '{"id":"d-%s","image":"%s","arguments":["echo","%s"]}\n' "$i" "$TASKER_TEST_IMAGE" "$i"
done >tasks.jsonl
ids() { python3 -c 'import json,sys; [print(json.loads(l)["id"]) for f in sys.argv[1:] for l in open(f) if l.strip()]' "$@"; }

for backend in sqlite sqs; do
  if [ "$backend" = sqlite ]; then broker=sqlite:$work/q.db; else broker=sqs://; fi
  q=(--broker "$broker" --tasks "dt-$$" --results "dr-$$")
  "$tasker" queue create "dt-$$" --broker "$broker" >/dev/null
  # A short visibility: a killed collector's results come back in 5 s, not 30.
  "$tasker" queue create "dr-$$" --broker "$broker" --visibility 5 >/dev/null
  run=detached-$backend-$$
  # Submit, killed at once, then resumed: every task sent once.
  "$tasker" submit tasks.jsonl "${q[@]}" --run-id "$run" --state "submit-$backend.journal" 2>/dev/null &
  pid=$!; sleep 0.2; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  "$tasker" submit tasks.jsonl "${q[@]}" --run-id "$run" --state "submit-$backend.journal" 2>"submit-$backend.err" \
    || fail "$backend: resumed submit: $(cat "submit-$backend.err")"
  # An agent answers them all, then stops.
  "$tasker" agent "${q[@]}" --name "detached-$$" --slots 4 --exit-when-idle --poll-wait 1 --network none \
    >"agent-$backend.log" 2>&1 || fail "$backend: agent: $(tail -3 "agent-$backend.log")"
  # Collected later, killed after a few results, then again: each result printed once.
  "$tasker" results "$run" "${q[@]}" --state "collect-$backend.journal" >"first-$backend.jsonl" 2>/dev/null &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do [ "$(wc -l <"first-$backend.jsonl")" -ge 5 ] && break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  "$tasker" results "$run" "${q[@]}" --state "collect-$backend.journal" --timeout 120 \
    >"second-$backend.jsonl" 2>"second-$backend.err" || fail "$backend: collect: $(cat "second-$backend.err")"
  all=$(ids "first-$backend.jsonl" "second-$backend.jsonl" | sort)
  [ "$(sort -u <<<"$all" | wc -l)" = 40 ] || fail "$backend: $(sort -u <<<"$all" | wc -l) of 40 results collected"
  [ "$(wc -l <<<"$all")" = 40 ] || fail "$backend: a result printed twice: $(uniq -d <<<"$all" | tr '\n' ' ')"
  stats=$("$tasker" queue stats "dr-$$" --broker "$broker")
  [[ $stats == *"0 visible, 0 in flight"* ]] || fail "$backend: results left in the queue: $stats"
  "$tasker" queue delete "dt-$$" --broker "$broker" >/dev/null
  "$tasker" queue delete "dr-$$" --broker "$broker" >/dev/null
done
echo "PASS: detached submit and later collect on SQLite and SQS, every result once"
