#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds tasker, and runs the SimpleSum
# example (examples/simple_sum.cc) on the embedded default: an SQLite queue and an in-process
# agent on the local Docker daemon, no AWS. It prints 55.
#
# Docker: a daemon that answers at DOCKER_HOST or /var/run/docker.sock is used; otherwise, as
# root, a private daemon is started for the run and stopped after it. The tasks run in a busybox
# image built locally from Debian's static busybox, so no registry is needed.
#
# TASKER_BUILD_DIR=DIR uses the tasker and simple_sum already built in DIR and skips the install
# and build steps (the test suite runs this script that way: tests/cli/run_script.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TASKER_BUILD_DIR:-}
if [ -z "$build" ]; then
  build=build
  scripts/install-deps.sh >&2
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$(nproc)" --target tasker simple_sum >&2
fi
build=$(cd "$build" && pwd)

# shellcheck source=lib/docker.sh
source scripts/lib/docker.sh
work=$(mktemp -d /tmp/tasker-run.XXXXXX)
cleanup() {
  stop_by_pid_file "$work/dockerd.pid"
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
if found=$(find_docker); then
  export DOCKER_HOST=$found
elif [ "$(id -u)" -eq 0 ]; then
  echo "run: no Docker daemon answers; starting a private one for this run" >&2
  start_private_dockerd "$work"
  export DOCKER_HOST=unix://$work/docker.sock
else
  echo "run: no Docker daemon answers at DOCKER_HOST or /var/run/docker.sock: start Docker, or run as root" >&2
  exit 1
fi
build_busybox_image "$work" tasker-test/busybox:latest

export SIMPLESUM_IMAGE=tasker-test/busybox:latest
export SIMPLESUM_STATE_DIR=${SIMPLESUM_STATE_DIR:-$build/simplesum-state}
"$build/simple_sum"
