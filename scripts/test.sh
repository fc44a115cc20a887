#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts the services the integration tests
# need (tests/harness.sh), runs the whole CTest suite, then the fuzzers for a bounded time.
# Services it started are stopped on exit, even when tests fail.
#
#   scripts/test.sh                 everything
#   TASKER_FUZZ_SECONDS=0 ...       skip the fuzz run
#   CTEST_ARGS="-R Queue" ...       pass arguments to ctest (e.g. a subset)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

fuzz_seconds=${TASKER_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" != 0 ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTASKER_FUZZ=ON -DTASKER_TESTS=OFF -DTASKER_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs"
fi

export TASKER_HARNESS_DIR=${TASKER_HARNESS_DIR:-/tmp/tasker-harness-$(id -u)}
trap 'tests/harness.sh stop' EXIT
# shellcheck disable=SC1090
source <(tests/harness.sh start)
# Integration tests fail, rather than skip, when a service they need is missing.
export TASKER_REQUIRE_SERVICES=1

status=0
if [ "$fuzz_seconds" != 0 ]; then
  # Each fuzz target runs from its checked-in corpus for a bounded time; a crash fails the run.
  for fuzzer in build-fuzz/*_fuzz; do
    name=$(basename "$fuzzer")
    corpus=$root/fuzz/corpus/${name%_fuzz}
    work=$(mktemp -d)
    echo "fuzz: $name for ${fuzz_seconds}s from $corpus"
    if ! "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$root/build-fuzz/$name-" "$work" "$corpus" >"build-fuzz/$name.log" 2>&1; then
      echo "fuzz: $name FAILED; see build-fuzz/$name.log"
      tail -40 "build-fuzz/$name.log"
      status=1
    else
      grep -E '^Done|#[0-9]+.*DONE' "build-fuzz/$name.log" | tail -1 || true
    fi
    rm -rf "$work"
  done
fi

# shellcheck disable=SC2086
(cd build && ctest --output-on-failure --timeout 600 ${CTEST_ARGS:-}) || status=1
exit $status
