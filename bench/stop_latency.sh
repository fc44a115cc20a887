#!/usr/bin/env bash
# How soon tasker gets out of the way, side by side in one run on one daemon:
#  - one task through `tasker run` (embedded queue, in-process agent, master) against
#    `tasker exec` (the task alone), R interleaved rounds, and for `tasker run` the time from
#    its result line to the process's exit;
#  - an idle `tasker agent` (poll wait 20 s): time from SIGTERM to exit, on SQLite and, when
#    TASKER_TEST_SQS_ENDPOINT is set (moto), on SQS.
#
#   bench/stop_latency.sh [ROUNDS=5] [TASKER=build/tasker]   (needs DOCKER_HOST and
#                                           TASKER_TEST_IMAGE: source the harness's env file)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
tasker=${2:-build/tasker}
image=${TASKER_TEST_IMAGE:-tasker-test/busybox:latest}
work=$(mktemp -d)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill -KILL "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
task='{"id":"one","image":"'"$image"'","arguments":"echo 1","network":"none"}'
echo "$task" >"$work/one.jsonl"

# Runs a command, stamping each stdout line with the milliseconds since the command started;
# the last line is "exit <ms>".
stamped() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for line in proc.stdout:
    print(f"{(time.monotonic() - start) * 1000:.0f} {line.strip()}")
proc.wait()
print(f"exit {(time.monotonic() - start) * 1000:.0f} {proc.returncode}")
PY
}

for round in $(seq 1 "$rounds"); do
  stamped "$tasker" exec "$task" >"$work/exec-$round.out"
  stamped "$tasker" run "$work/one.jsonl" --progress none --state-dir "$work/state-$round" \
    >"$work/run-$round.out"
done

# Starts an idle agent on broker $1, lets it settle into its poll, and prints the milliseconds
# from SIGTERM to its exit.
agent_stop_ms() {
  local broker=$1 queue_prefix="bench-stop-$$-$RANDOM"
  "$tasker" queue create "$queue_prefix-t" --broker "$broker" >/dev/null
  "$tasker" queue create "$queue_prefix-r" --broker "$broker" >/dev/null
  "$tasker" agent --broker "$broker" --tasks "$queue_prefix-t" --results "$queue_prefix-r" \
    --slots 1 --poll-wait 20 </dev/null >"$work/agent.log" 2>&1 &
  agent_pid=$!
  until grep -q "taking tasks from" "$work/agent.log"; do sleep 0.05; done
  sleep 1.5
  python3 - "$agent_pid" <<'PY'
import os, signal, sys, time
pid = int(sys.argv[1])
start = time.monotonic()
os.kill(pid, signal.SIGTERM)
# Gone, or a zombie (exited, not yet reaped by the shell), ends the wait.
while True:
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(")")[1].split()[0] == "Z":
                break
    except FileNotFoundError:
        break
    time.sleep(0.002)
print(f"{(time.monotonic() - start) * 1000:.0f}")
PY
  wait "$agent_pid" || true
  agent_pid=
  "$tasker" queue delete "$queue_prefix-t" --broker "$broker" >/dev/null 2>&1 || true
  "$tasker" queue delete "$queue_prefix-r" --broker "$broker" >/dev/null 2>&1 || true
}

: >"$work/stops"
for round in $(seq 1 "$rounds"); do
  echo "sqlite $(agent_stop_ms "sqlite:$work/agent.db")" >>"$work/stops"
  if [ -n "${TASKER_TEST_SQS_ENDPOINT:-}" ]; then
    echo "moto $(AWS_ENDPOINT_URL=$TASKER_TEST_SQS_ENDPOINT AWS_ACCESS_KEY_ID=bench \
      AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
      agent_stop_ms "sqs://")" >>"$work/stops"
  fi
done

python3 - "$work" "$rounds" <<'PY'
import pathlib, statistics, sys
work, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def times(path):
    lines = path.read_text().splitlines()
    result = next(int(l.split()[0]) for l in lines if '"id":"one"' in l)
    end = lines[-1].split()
    assert end[2] == "0", f"{path.name} exited {end[2]}"
    return result, int(end[1])
execs = [times(work / f"exec-{r}.out") for r in range(1, rounds + 1)]
runs = [times(work / f"run-{r}.out") for r in range(1, rounds + 1)]
med = statistics.median
print(f"{rounds} interleaved rounds, median (min-max), milliseconds")
print(f"tasker exec, one task: exit {med(e for _, e in execs):.0f} "
      f"({min(e for _, e in execs)}-{max(e for _, e in execs)})")
print(f"tasker run,  one task: result {med(r for r, _ in runs):.0f}, exit {med(e for _, e in runs):.0f} "
      f"({min(e for _, e in runs)}-{max(e for _, e in runs)}), result to exit "
      f"{med(e - r for r, e in runs):.0f} ({min(e - r for r, e in runs)}-{max(e - r for r, e in runs)})")
print(f"tasker run - tasker exec: {med(e for _, e in runs) - med(e for _, e in execs):.0f}")
stops = {}
for line in (work / "stops").read_text().splitlines():
    backend, ms = line.split()
    stops.setdefault(backend, []).append(int(ms))
for backend, values in stops.items():
    print(f"idle agent, {backend}, poll wait 20 s: SIGTERM to exit {med(values):.0f} "
          f"({min(values)}-{max(values)})")
PY
