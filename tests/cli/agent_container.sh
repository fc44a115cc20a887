#!/usr/bin/env bash
# docker-tasker's deployment, for real: the agent image (built offline by scripts/agent-image.sh)
# runs as a container with the host's Docker socket mounted at /var/run/docker.sock, Q_TASK,
# Q_RESULTS and the AWS variables, on the host network to reach moto on loopback. A task written
# the way docker-tasker's Python master writes it (boto3, json.dumps) runs on the host daemon, and
# its result is read back with boto3 as the Python master reads it. `docker stop` drains the
# agent: exit status 0 and no container left.
set -euo pipefail
tasker=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }

image=tasker-agent:test-$$
TASKER_BINARY=$tasker "$root/scripts/agent-image.sh" "$image"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT
tasks=container-tasks-$$
results=container-results-$$
cid=""
cleanup() {
  [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
  docker rmi -f "$image" >/dev/null 2>&1 || true
  python3 - "$tasks" "$results" <<'PY' || true
import sys, boto3
sqs = boto3.client("sqs")
for name in sys.argv[1:]:
    try: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception: pass
PY
}
trap cleanup EXIT

# The Python master's side: create the queues and send the seed task as docker-tasker does.
python3 - "$tasks" "$results" "$TASKER_TEST_IMAGE" <<'PY'
import json, sys, boto3
tasks, results, image = sys.argv[1:]
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName=tasks)["QueueUrl"]
sqs.create_queue(QueueName=results)
sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
    {"id": "seed", "image": image, "arguments": "sh -c 'sleep 1; echo 1'"}))
PY

socket=${DOCKER_HOST#unix://}
cid=$(docker run -d --network host -v "$socket:/var/run/docker.sock" \
  -e Q_TASK="$tasks" -e Q_RESULTS="$results" -e nProc=2 \
  -e AWS_ENDPOINT_URL="$TASKER_TEST_SQS_ENDPOINT" -e AWS_ACCESS_KEY_ID=testing \
  -e AWS_SECRET_ACCESS_KEY=testing -e AWS_DEFAULT_REGION=us-east-1 \
  "$image" --network none --poll-wait 1)
agent_name=$(docker inspect -f '{{.Config.Hostname}}' "$cid")

# The Python master reads the result: the three fields, with their types.
python3 - "$results" <<'PY' || { docker logs "$cid" 2>&1 | tail -20; fail "no result from the agent container"; }
import json, sys, time, boto3
sqs = boto3.client("sqs")
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
deadline = time.time() + 90
while time.time() < deadline:
    for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", []):
        body = json.loads(m["Body"])
        assert body["id"] == "seed", body
        assert body["isSuccess"] is True, body
        assert body["payload"] == "1", body
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        print("result:", m["Body"])
        sys.exit(0)
sys.exit(1)
PY

docker stop -t 30 "$cid" >/dev/null
status=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
[ "$status" = 0 ] || { docker logs "$cid" 2>&1 | tail -20; fail "agent container exited $status after docker stop"; }
left=$(docker ps -aq --filter "label=tasker.agent=$agent_name")
[ -z "$left" ] || fail "containers left behind: $left"
# Read whole before grep: with pipefail, `docker logs | grep -q` fails when grep exits at the first
# match and docker logs, still writing, dies of SIGPIPE (this made a CI run fail).
logs=$(docker logs "$cid" 2>&1)
grep -qF "task seed: succeeded" <<<"$logs" || { tail -20 <<<"$logs"; fail "agent log does not show the task"; }
echo "agent_container: all checks passed"
