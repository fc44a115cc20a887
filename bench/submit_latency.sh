#!/usr/bin/env bash
# Submit rate over a network with latency: fauxqs behind bench/latency_proxy.py (one-way delay
# DELAY_MS each way, so every SQS call takes at least 2 x DELAY_MS), `tasker submit` of N tasks
# with 1, 2, 4, 8, 16 and 32 calls in flight (--calls-in-flight; CALLS="1 16" picks), and in the
# same run, through the same proxy, the one-message-per-call boto3 loop that docker-tasker's Python
# master is.
#
#   bench/submit_latency.sh [N=20000] [DELAY_MS=10] [BOTO3_N=300]   (needs build/tasker)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
delay=${2:-10}
boto_n=${3:-300}
work=$(mktemp -d)
source scripts/lib/docker.sh
source bench/lib.sh
start_sqs_with_latency "$work" "$delay"
write_echo_tasks "$n" "$work/tasks.jsonl"

rtt=$(python3 - <<'PY'
import time, urllib.request, os
url = os.environ["AWS_ENDPOINT_URL"] + "/"
samples = []
for _ in range(5):
    start = time.time()
    try: urllib.request.urlopen(url).read()
    except Exception: pass
    samples.append(time.time() - start)
print(f"{min(samples) * 1000:.1f}")
PY
)
echo "one HTTP call through the proxy: ${rtt} ms (fresh connection); ${n} tasks each run"
for k in ${CALLS:-1 2 4 8 16 32}; do
  build/tasker queue create "bench-$k" --broker sqs:// >/dev/null
  start=$(date +%s%N)
  build/tasker submit "$work/tasks.jsonl" --broker sqs:// --tasks "bench-$k" --calls-in-flight "$k" 2>/dev/null
  end=$(date +%s%N)
  python3 -c "import sys; n,k,s=int(sys.argv[1]),sys.argv[2],(int(sys.argv[4])-int(sys.argv[3]))/1e9; print(f'tasker submit, {k:>2} in flight: {n/s:8,.0f} tasks/s ({s:.1f} s)')" "$n" "$k" "$start" "$end"
done
boto_rate=$(python3 bench/boto3_send_loop.py "$boto_n")
printf 'boto3 send_message loop:       %8s tasks/s (%d messages)\n' "$boto_rate" "$boto_n"
