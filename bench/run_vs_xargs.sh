#!/usr/bin/env bash
# End to end on one machine, side by side on the same daemon in one run: N trivial tasks through
# `tasker run -j P` (embedded queue, in-process agent, master) against `xargs -P P docker run --rm`
# (the usual shell loop). Prints tasks/s for each and the ratio.
#
#   bench/run_vs_xargs.sh [N=200] [P=4]       (needs build/tasker, DOCKER_HOST, TASKER_TEST_IMAGE;
#                                              source the harness's env file for them)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
p=${2:-4}
image=${TASKER_TEST_IMAGE:-tasker-test/busybox:latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for i in $(seq 1 "$n"); do
  printf '{"id":"b%d","image":"%s","arguments":"echo %d","network":"none"}\n' "$i" "$image" "$i"
done >"$work/tasks.jsonl"

seconds() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }

start=$(seconds)
build/tasker run "$work/tasks.jsonl" -j "$p" --progress none --state-dir "$work/state" >"$work/results.jsonl" 2>"$work/run.log"
end=$(seconds)
tasker_s=$(python3 -c "print(f'{$end - $start:.2f}')")
[ "$(grep -c '"isSuccess":true' "$work/results.jsonl")" -eq "$n" ] || { echo "tasker run: not every task succeeded"; exit 1; }

start=$(seconds)
seq 1 "$n" | xargs -P "$p" -I{} docker run --rm --network none "$image" echo {} >"$work/xargs.out"
end=$(seconds)
xargs_s=$(python3 -c "print(f'{$end - $start:.2f}')")
[ "$(wc -l <"$work/xargs.out")" -eq "$n" ] || { echo "xargs: not every container answered"; exit 1; }

python3 - "$n" "$p" "$tasker_s" "$xargs_s" <<'PY'
import sys
n, p, t, x = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{n} tasks, {p}-way: tasker run {t:.2f} s ({n/t:.1f}/s), xargs docker run --rm {x:.2f} s ({n/x:.1f}/s), "
      f"tasker/xargs throughput ratio {x/t:.2f}")
PY
