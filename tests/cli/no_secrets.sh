#!/usr/bin/env bash
# Given recognisable dummy secrets (AWS secret key and session token, a registry password in a
# DOCKER_CONFIG auth, TASKER_SIGNING_KEY and TASKER_SIGNING_KEY_ACCEPT, a secret in a task's env), tasker should never write any
# of them, nor the base64 forms of the registry credentials, to any output: the agent at debug
# level in text and JSON, `tasker submit --wait`, `tasker run -v` and `tasker exec`, on good tasks
# and on the failure paths (wrong endpoint, refused registry auth, a bad task line, an unparsable
# Docker config).
#
# The check proves it can fail: every run it plants a secret in a copy of the captured output and
# requires the scan to find it; TASKER_NO_SECRETS_PLANT=1 plants one in the real output too, so the
# whole script must then fail.
set -uo pipefail
tasker=$(realpath "$1")
if [ -z "${DOCKER_HOST:-}" ] || [ -z "${TASKER_TEST_SQS_ENDPOINT:-}" ] || [ -z "${TASKER_TEST_IMAGE:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }

work=$(mktemp -d)
out=$work/out
mkdir -p "$out" "$work/docker-config" "$work/bad-docker-config"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$tasker" queue delete "$Q_TASK" >/dev/null 2>&1 || true
  "$tasker" queue delete "$Q_RESULTS" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The secrets: long, unique, and nothing tasker would ever print by chance.
aws_secret=NoSecretsAwsSecretKey7f3b9c2e1d
session_token=NoSecretsSessionToken4a8e6f0b2c
registry_user=nosecrets-user
registry_password=NoSecretsRegistryPassword9d1c
signing_key=NoSecretsSigningKey5e2a7b3f8c
accepted_key=NoSecretsAcceptedKey6b1d4e9a7f
task_secret=NoSecretsTaskEnvValue3c9f1a6e
registry=${TASKER_TEST_REGISTRY:-127.0.0.1:1}
auth=$(printf '%s:%s' "$registry_user" "$registry_password" | base64 -w0)
cat >"$work/docker-config/config.json" <<JSON
{"auths": {"$registry": {"auth": "$auth"}, "https://index.docker.io/v1/": {"auth": "$auth"}}}
JSON
# A config whose auth is not base64: the error must not quote it.
printf '{"auths": {"%s": {"auth": "%s!"}}}\n' "$registry" "$registry_password" >"$work/bad-docker-config/config.json"

export AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=$aws_secret AWS_SESSION_TOKEN=$session_token
export TASKER_SIGNING_KEY=$signing_key TASKER_SIGNING_KEY_ACCEPT=$accepted_key DOCKER_CONFIG=$work/docker-config
export Q_TASK=nosecrets-tasks-$$ Q_RESULTS=nosecrets-results-$$
unset TASKER_BROKER

# Every string that must not appear: each secret, and the registry credentials as base64 and
# base64url at each of the three alignments they can take inside a longer encoded text (the
# config's auth and the X-Registry-Auth header both carry them encoded).
secrets=("$aws_secret" "$session_token" "$registry_password" "$signing_key" "$accepted_key" "$task_secret" "$auth")
while IFS= read -r form; do secrets+=("$form"); done < <(python3 - "$registry_password" <<'PY'
import base64, sys
secret = sys.argv[1].encode()
for pad in range(3):
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(b"x" * pad + secret).decode().rstrip("=")
        start = (pad * 4 + 2) // 3 + 1   # skip characters that depend on what comes before
        print(text[start:start + len(secret)])  # characters fully inside the secret's bytes
PY
)

# Prints each secret found in the files under DIR; fails when any is.
scan() {
  local dir=$1 found=0 secret
  for secret in "${secrets[@]}"; do
    [ ${#secret} -ge 12 ] || continue
    if grep -rlaF -- "$secret" "$dir" >/dev/null; then
      echo "secret '$secret' found in: $(grep -rlaF -- "$secret" "$dir" | tr '\n' ' ')"
      found=1
    fi
  done
  return $found
}

image=$TASKER_TEST_IMAGE
cat >"$work/tasks.jsonl" <<JSONL
{"id":"good","image":"$image","network":"none","arguments":"echo fine","env":{"TOKEN":"$task_secret"}}
{"id":"fails","image":"$image","network":"none","arguments":"sh -c 'echo oops >&2; exit 3'","env":{"TOKEN":"$task_secret"}}
this line is not a task $task_secret
{"id":"private","image":"$registry/nosecrets/missing:1","network":"none","arguments":"true","env":{"TOKEN":"$task_secret"}}
{"id":"bad-field","image":"$image","arguments":"true","env":{"TOKEN":7},"user":"$task_secret\u0001"}
JSONL

"$tasker" queue create "$Q_TASK" >"$out/queue-create.out" 2>&1 || fail "queue create: $(cat "$out/queue-create.out")"
"$tasker" queue create "$Q_RESULTS" >>"$out/queue-create.out" 2>&1 || fail "queue create results"

# An agent at the most verbose level, in text and another in JSON.
"$tasker" agent --name nosecrets-text-$$ --slots 2 --poll-wait 1 --network none --log-level debug \
  >"$out/agent-text.out" 2>"$out/agent-text.err" &
pids+=($!)
"$tasker" agent --name nosecrets-json-$$ --slots 2 --poll-wait 1 --network none --log-level debug --log-json \
  >"$out/agent-json.out" 2>"$out/agent-json.err" &
pids+=($!)

timeout 120 "$tasker" submit --wait --progress json "$work/tasks.jsonl" >"$out/submit.out" 2>"$out/submit.err"
status=$?
[ $status -eq 1 ] || fail "submit --wait exit status $status, want 1: $(cat "$out/submit.err")"
[ "$(grep -c "\"id\":" "$out/submit.out")" -eq 3 ] || fail "want 3 results: $(cat "$out/submit.out" "$out/submit.err")"
grep -q '"id":"good","isSuccess":true' "$out/submit.out" || fail "good task: $(cat "$out/submit.out")"
grep -q '"id":"private","isSuccess":false' "$out/submit.out" || fail "private image: $(cat "$out/submit.out")"

# Bad messages straight on the queue, as any sender could write them.
"$tasker" submit "$work/tasks.jsonl" >"$out/submit-only.out" 2>"$out/submit-only.err"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()

# Failure paths: an endpoint that refuses connections, the agent and the master alike.
AWS_ENDPOINT_URL=http://127.0.0.1:1 timeout 20 "$tasker" submit --wait --timeout 5 "$work/tasks.jsonl" \
  >"$out/submit-wrong-endpoint.out" 2>"$out/submit-wrong-endpoint.err"
AWS_ENDPOINT_URL=http://127.0.0.1:1 timeout 8 "$tasker" agent --name nosecrets-down-$$ --log-level debug \
  --poll-wait 1 >"$out/agent-wrong-endpoint.out" 2>"$out/agent-wrong-endpoint.err"
[ -s "$out/agent-wrong-endpoint.err" ] || fail "the agent logged nothing against a dead endpoint"

# The embedded runner and one-off exec, with the registry's refusal and a config it cannot read.
(cd "$work" && timeout 120 "$tasker" run -v --progress json --state-dir "$work/state" "$work/tasks.jsonl" \
  >"$out/run.out" 2>"$out/run.err")
grep -q '"id":"good","isSuccess":true' "$out/run.out" || fail "run: good task: $(cat "$out/run.out" "$out/run.err")"
private_task='{"id":"exec","image":"'$registry'/nosecrets/missing:1","network":"none","arguments":"true"}'
timeout 60 "$tasker" exec "$private_task" >"$out/exec.out" 2>"$out/exec.err"
DOCKER_CONFIG=$work/bad-docker-config timeout 60 "$tasker" exec "$private_task" \
  >"$out/exec-bad-config.out" 2>"$out/exec-bad-config.err"
grep -q 'config' "$out/exec-bad-config.out" "$out/exec-bad-config.err" || fail "bad config not reported: $(cat "$out"/exec-bad-config.*)"

if [ "${TASKER_NO_SECRETS_PLANT:-}" = 1 ]; then
  echo "planted: AWS_SECRET_ACCESS_KEY=$aws_secret" >>"$out/agent-text.err"
fi

# The scan can fail: a copy with each kind of secret planted is caught.
for planted in "$aws_secret" "X-Registry-Auth: $(printf '{"password":"%s"}' "$registry_password" | base64 -w0 | tr '+/' '-_')"; do
  rm -rf "$work/selfcheck" && cp -r "$out" "$work/selfcheck" && echo "$planted" >>"$work/selfcheck/submit.err"
  scan "$work/selfcheck" >/dev/null && fail "self-check: the scan missed a planted secret: $planted"
done

if ! scan "$out"; then
  for f in "$out"/*; do echo "== $f"; head -c 3000 "$f"; done
  fail "a secret was written to the output"
fi
echo "no_secrets: $(cat "$out"/* | wc -l) lines of output from agent, submit, run and exec hold none of ${#secrets[@]} secret forms"
