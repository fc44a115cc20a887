#!/usr/bin/env bash
# How long `tasker report` takes to write, and headless Chromium to load, the report of a run of
# N tasks (default 100,000; results made up: 16 agents, 2% failed), against the same browser
# loading a 12-task report, so the browser's own start-up cancels out. Side by side, 3 rounds.
#
#   bench/report_render.sh BUILD_DIR [N]
set -euo pipefail
build=$1
n=${2:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$n" "$work" <<'PY'
import json, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
random.seed(7)
t0 = 1764770000000
for name, count in (("big", n), ("small", 12)):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for i in range(count):
            ok = random.random() > 0.02
            r = {"id": f"task-{i}", "isSuccess": ok, "payload": "ok" if ok else "exit code 1: no",
                 "durationMs": random.randint(200, 4000), "startedAt": t0 + i * 25,
                 "agent": f"node-{i % 16}", "attempt": 1}
            if not ok: r.update(error="exit", exitCode=1)
            f.write(json.dumps(r) + "\n")
PY
now() { date +%s.%N; }
load() {
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking \
    --no-first-run --user-data-dir="$work/profile" --dump-dom "file://$1" 2>/dev/null | wc -c
}
echo "round write_big_s html_MB load_small_s load_big_s render_big_minus_small_s"
for round in 1 2 3; do
  a=$(now); "$build/tasker" report "$work/big.jsonl" -o "$work/big.html" 2>/dev/null; b=$(now)
  "$build/tasker" report "$work/small.jsonl" -o "$work/small.html" 2>/dev/null
  c=$(now); load "$work/small.html" >/dev/null; d=$(now); load "$work/big.html" >/dev/null; e=$(now)
  python3 -c "import os,sys; a,b,c,d,e=map(float,sys.argv[1:6]); print(f'{sys.argv[6]} {b-a:.2f} {os.path.getsize(sys.argv[7])/1e6:.2f} {d-c:.2f} {e-d:.2f} {(e-d)-(d-c):.2f}')" \
    "$a" "$b" "$c" "$d" "$e" "$round" "$work/big.html"
done
