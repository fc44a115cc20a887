#!/usr/bin/env bash
# Submit rate of `tasker submit` (no --wait) and the master's peak RSS, for N tasks, to fauxqs (a
# fast SQS emulator on loopback) and to the embedded SQLite queue; and, on the same fauxqs in the
# same run, the one-message-per-call boto3 loop that docker-tasker's Python master is.
#
#   bench/submit_rate.sh [N=100000] [BOTO3_N=3000]     (needs build/tasker and tests/fauxqs
#                                                        installed: scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${1:-100000}
boto_n=${2:-3000}
work=$(mktemp -d)
source scripts/lib/docker.sh
source bench/lib.sh
port=$(free_port)
start_fauxqs "$work" "$port"
trap 'stop_by_pid_file "$work/fauxqs.pid"; rm -rf "$work"' EXIT
wait_for_http "http://127.0.0.1:$port/"

export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
write_echo_tasks "$n" "$work/tasks.jsonl"

# Runs a command, prints "SECONDS PEAK_RSS_KIB".
measure() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }

build/tasker queue create bench-tasks --broker sqs:// >/dev/null
read -r faux_s faux_kib < <(measure build/tasker submit "$work/tasks.jsonl" --broker sqs:// --tasks bench-tasks)
build/tasker queue create bench-tasks --broker "sqlite:$work/q.db" >/dev/null
read -r lite_s lite_kib < <(measure build/tasker submit "$work/tasks.jsonl" --broker "sqlite:$work/q.db" --tasks bench-tasks)

boto_rate=$(python3 bench/boto3_send_loop.py "$boto_n")
python3 - "$n" "$faux_s" "$faux_kib" "$lite_s" "$lite_kib" "$boto_rate" <<'PY'
import sys
n = int(sys.argv[1]); fs, fk, ls, lk, boto = (float(x) for x in sys.argv[2:])
print(f"{n} tasks: fauxqs {n/fs:,.0f}/s (peak RSS {fk/1024:.1f} MiB), sqlite {n/ls:,.0f}/s (peak RSS {lk/1024:.1f} MiB); "
      f"boto3 one-per-call loop {boto:,.0f}/s; tasker/boto3 on fauxqs {n/fs/boto:.1f}x")
PY
