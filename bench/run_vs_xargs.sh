#!/usr/bin/env bash
# End to end on one machine, side by side on the same daemon in one run: N trivial tasks through
# `tasker run -j P` (embedded queue, in-process agent, master), through the bare Engine-API floor
# (create, start, wait, logs, remove over the socket and nothing else: `docker_runtime_bench
# floor`), and through `xargs -P P docker run --rm` (the usual shell loop). The three take turns
# in ROUNDS rounds of N/ROUNDS tasks each (the machine's load drifts; each sees the same), and the
# times are summed per mode. Prints tasks/s for each, the ratios, and for tasker's tasks a timeline
# from the daemon's events and the time each result line was printed:
# create -> start -> exit -> result printed -> container removed.
#
#   bench/run_vs_xargs.sh [N=120] [P=4] [ROUNDS=3]   (needs build/tasker, build/docker_runtime_bench
#                                                     (TASKER_BENCH=ON), DOCKER_HOST,
#                                                     TASKER_TEST_IMAGE: source the harness's env)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-120}
p=${2:-4}
rounds=${3:-3}
per_round=$((n / rounds))
image=${TASKER_TEST_IMAGE:-tasker-test/busybox:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { python3 -c 'import time; print(f"{time.time():.3f}")'; }

# Runs a command, printing each stdout line after the wall-clock milliseconds it came at.
stamped() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
for line in proc.stdout:
    print(f"{time.time() * 1000:.1f} {line.strip()}", flush=True)
sys.exit(proc.wait())
PY
}

: >"$work/times"
# Streamed while the rounds run: the daemon keeps only its last 256 events for --since.
docker events --filter label=tasker.task-id \
  --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "tasker.task-id"}}' \
  </dev/null >"$work/events" 2>/dev/null &
events_pid=$!
trap 'kill "$events_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
  for i in $(seq 1 "$per_round"); do
    printf '{"id":"r%d-%d","image":"%s","arguments":"echo %d","network":"none"}\n' "$round" "$i" "$image" "$i"
  done >"$work/tasks-$round.jsonl"

  start=$(seconds)
  stamped build/tasker run "$work/tasks-$round.jsonl" -j "$p" --progress none \
    --state-dir "$work/state-$round" >"$work/results-$round.txt" 2>"$work/run-$round.log"
  end=$(seconds)
  [ "$(grep -c '"isSuccess":true' "$work/results-$round.txt")" -eq "$per_round" ] ||
    { echo "tasker run: not every task succeeded"; cat "$work/run-$round.log"; exit 1; }
  echo "tasker $start $end" >>"$work/times"

  start=$(seconds)
  build/docker_runtime_bench floor "$per_round" "$p" "$image" >/dev/null
  end=$(seconds)
  echo "floor $start $end" >>"$work/times"

  start=$(seconds)
  seq 1 "$per_round" | xargs -P "$p" -I{} docker run --rm --network none "$image" echo {} >"$work/xargs.out"
  end=$(seconds)
  [ "$(wc -l <"$work/xargs.out")" -eq "$per_round" ] || { echo "xargs: not every container answered"; exit 1; }
  echo "xargs $start $end" >>"$work/times"
done
sleep 1  # the last removals
kill "$events_pid"
wait "$events_pid" 2>/dev/null || true

python3 - "$work" "$n" "$p" "$rounds" "$per_round" <<'PY'
import pathlib, statistics, sys
work = pathlib.Path(sys.argv[1])
n, p, rounds, per_round = map(int, sys.argv[2:])
total = {}
for line in (work / "times").read_text().splitlines():
    mode, start, end = line.split()
    total[mode] = total.get(mode, 0.0) + float(end) - float(start)
tasks = per_round * rounds
rate = {mode: tasks / t for mode, t in total.items()}
print(f"{tasks} tasks, {p}-way, {rounds} interleaved rounds of {per_round}:")
for mode, label in (("tasker", f"tasker run -j {p}"), ("floor", "bare Engine-API floor"),
                    ("xargs", f"xargs -P{p} docker run --rm")):
    print(f"  {label:28s} {total[mode]:7.2f} s  {rate[mode]:5.2f} tasks/s  "
          f"x{rate[mode] / rate['floor']:.2f} of floor")

# The timeline of tasker's tasks: daemon events (ms) and when each result line was printed.
at = {}
for line in (work / "events").read_text().splitlines():
    parts = line.split()
    if len(parts) != 3:
        continue
    nano, action, task = parts
    at.setdefault(task, {}).setdefault(action, int(nano) / 1e6)
for round in range(1, rounds + 1):
    for line in (work / f"results-{round}.txt").read_text().splitlines():
        ms, body = line.split(" ", 1)
        task = body.split('"id":"', 1)[1].split('"', 1)[0]
        at.setdefault(task, {})["printed"] = float(ms)
steps = [("create", "start"), ("start", "die"), ("die", "printed"), ("printed", "destroy")]
names = {"create": "create", "start": "start", "die": "exit", "printed": "result printed",
         "destroy": "removed"}
complete = [t for t in at.values() if all(k in t for k in ("create", "start", "die", "printed", "destroy"))]
print(f"timeline of {len(complete)} tasker tasks, median (p90) ms:")
for a, b in steps:
    gaps = sorted(t[b] - t[a] for t in complete)
    print(f"  {names[a]:>14s} -> {names[b]:<14s} {statistics.median(gaps):7.1f} ({gaps[int(len(gaps) * 0.9)]:.1f})")
# How much of the slots' time a container was being created, started or run: the rest is the
# agent and queue between one task's result and the next one's create.
times = {}
for line in (work / "times").read_text().splitlines():
    mode, start, end = line.split()
    if mode == "tasker":
        times.setdefault("wall", 0.0)
        times["wall"] += (float(end) - float(start)) * 1000
busy = sum(t["printed"] - t["create"] for t in complete)
print(f"  slot time from create to result printed: {busy / (p * times['wall']) * 100:.0f}% of "
      f"{p} slots x the run's wall time")
PY
