#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts the services the integration tests
# need (tests/harness.sh), runs the fuzzers for a bounded time, the concurrency tests under
# ThreadSanitizer, then the whole CTest suite under AddressSanitizer and UBSan. The suite is built
# with Clang, whose thread-safety analysis (-Werror=thread-safety) fails the build on a lock
# mistake; the ThreadSanitizer build uses the default compiler (GCC on Debian), so both compile
# every change.
# Services it started are stopped on exit, even when tests fail.
#
#   scripts/test.sh                 everything
#   TASKER_FUZZ_SECONDS=0 ...       skip the fuzz run (default 10 s per target; longer to explore)
#   TASKER_TSAN=0 ...               skip the ThreadSanitizer build and run
#   TASKER_SANITIZE= ...            run the suite on a plain build (build/) instead
#   CTEST_ARGS="-R Queue" ...       pass arguments to ctest (e.g. a subset)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh

jobs=$(nproc)
# Sanitizer builds compile at -O1 with line tables only (-g1): half the compile time of -O2 -g
# (measured on src/agent/agent.cc with ASan+UBSan: 15.4 s to 7.7 s of CPU), with the same
# findings and symbolized stack traces.
sanitizer_build=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
# The suite's build: every test, the CLI and the examples, with AddressSanitizer and UBSan (any
# finding fails the process that made it, and so its test).
sanitize=${TASKER_SANITIZE-address,undefined}
suite=build${sanitize:+-asan}
suite_build=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
[ -z "$sanitize" ] || suite_build=("${sanitizer_build[@]}")
CC=clang CXX=clang++ cmake -S . -B "$suite" -G Ninja "${suite_build[@]}" -DTASKER_SANITIZE="$sanitize" \
  -DTASKER_BENCH=OFF >/dev/null
cmake --build "$suite" -j "$jobs"
# A report, not a gate: the functions a reviewer should look at first.
scripts/longest_functions.py --top 5

# The tests of threaded code (agent, master, SQLite queue), alone, with ThreadSanitizer.
tsan=${TASKER_TSAN:-1}
if [ "$tsan" != 0 ]; then
  cmake -S . -B build-tsan -G Ninja "${sanitizer_build[@]}" -DTASKER_SANITIZE=thread \
    -DTASKER_CONCURRENCY_TESTS=ON >/dev/null
  cmake --build build-tsan -j "$jobs"
fi

fuzz_seconds=${TASKER_FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" != 0 ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja "${sanitizer_build[@]}" \
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

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
if [ "$tsan" != 0 ]; then
  echo "ThreadSanitizer: the concurrency tests (build-tsan)"
  # shellcheck disable=SC2086
  (cd build-tsan && ctest --output-on-failure --timeout 600 ${CTEST_ARGS:-}) || status=1
fi
echo "the whole suite ($suite, sanitizers: ${sanitize:-none})"
# shellcheck disable=SC2086
(cd "$suite" && ctest --output-on-failure --timeout 600 ${CTEST_ARGS:-}) || status=1
exit $status
