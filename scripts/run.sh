#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds tasker, and runs the SimpleSum
# example on the embedded default (a SQLite queue and an in-process agent on the local Docker
# daemon; no AWS). Starts a private Docker daemon when none answers and it may (root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target tasker
echo "tasker built: $(build/tasker version)"
echo "SimpleSum on the embedded queue is coming: 'tasker run' lands with the master (issue 7)."
