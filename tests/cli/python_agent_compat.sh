#!/usr/bin/env bash
# Compatibility with docker-tasker's Python agent: it answers tasks with json.dumps of
# {"id", "isSuccess", "payload"} and knows nothing of runId. tasker's master (tasker submit
# --wait, over SQS on moto) must reduce those results, each once, and end.
set -euo pipefail
tasker=$1
if [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT
tasks=compat-tasks-$$
results=compat-results-$$
work=$(mktemp -d)
python_agent=""
cleanup() {
  [ -n "$python_agent" ] && kill "$python_agent" 2>/dev/null || true
  python3 - "$tasks" "$results" <<'PY' || true
import sys, boto3
sqs = boto3.client("sqs")
for name in sys.argv[1:]:
    try: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception: pass
PY
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$tasks" "$results" <<'PY'
import sys, boto3
sqs = boto3.client("sqs")
for name in sys.argv[1:]:
    sqs.create_queue(QueueName=name)
PY

# docker-tasker's agent loop, reduced to its wire behaviour: one message at a time, the result as
# json.dumps of the three fields, then delete. Each task is answered twice, as at-least-once
# delivery may do.
python3 - "$tasks" "$results" <<'PY' &
import json, sys, boto3
sqs = boto3.client("sqs")
tasks = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
results = sqs.get_queue_url(QueueName=sys.argv[2])["QueueUrl"]
while True:
    for m in sqs.receive_message(QueueUrl=tasks, WaitTimeSeconds=1).get("Messages", []):
        task = json.loads(m["Body"])
        answer = json.dumps({"id": task["id"], "isSuccess": True, "payload": task["arguments"].split()[-1]})
        sqs.send_message(QueueUrl=results, MessageBody=answer)
        sqs.send_message(QueueUrl=results, MessageBody=answer)
        sqs.delete_message(QueueUrl=tasks, ReceiptHandle=m["ReceiptHandle"])
PY
python_agent=$!

for i in 1 2 3 4 5; do
  printf '{"id":"c%d","image":"busybox","arguments":"echo %d"}\n' "$i" "$i"
done >"$work/tasks.jsonl"
"$tasker" submit "$work/tasks.jsonl" --wait --broker sqs:// --tasks "$tasks" --results "$results" \
  --progress none --timeout 120 >"$work/out" 2>"$work/err" || { cat "$work/err"; echo "FAIL: submit failed"; exit 1; }
cat "$work/out"
[ "$(wc -l <"$work/out")" -eq 5 ] || { echo "FAIL: want 5 results, once each"; exit 1; }
sum=$(python3 -c 'import json,sys; print(sum(int(json.loads(l)["payload"]) for l in open(sys.argv[1])))' "$work/out")
[ "$sum" -eq 15 ] || { echo "FAIL: payloads sum to $sum, want 15"; exit 1; }
echo "python_agent_compat: all checks passed"
