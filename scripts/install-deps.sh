#!/usr/bin/env bash
# Installs everything tasker needs to build and test, from Debian's packages only. Idempotent:
# packages already present are not fetched again. Needs root (or sudo) and apt.
#
# On a machine without apt, install by hand: a C++20 compiler, CMake >= 3.22, Ninja, pkg-config,
# and the development files of libcurl (OpenSSL flavour), OpenSSL, SQLite 3, nlohmann-json >= 3.10,
# CLI11, fmt, prometheus-cpp, GoogleTest/GoogleMock and Google Benchmark; for the tests also Docker
# Engine, a static busybox, the Distribution registry (docker-registry), htpasswd, clang with
# libFuzzer, universal-ctags (the function-length report), Chromium (headless, for the HTML
# report's test), and Python 3 with moto[server] and boto3.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcurl4-openssl-dev libssl-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libfmt-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  docker.io busybox-static docker-registry apache2-utils
  clang libclang-rt-14-dev universal-ctags
  curl ca-certificates procps iproute2 util-linux dpkg-dev file chromium
)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install the packages listed at the top of $0 by hand" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi

# moto_server and boto3 are the SQS endpoint and independent client of the tests; they come from
# the machine's Python (pip reaches no index here, so they cannot be installed by this script).
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import boto3' 2>/dev/null; then
  echo "install-deps: moto_server or boto3 missing: install them with 'pip install moto[server] boto3'" >&2
fi
# fauxqs, the second SQS emulator of the tests, from npm at the version tests/fauxqs pins.
fauxqs_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/fauxqs"
if command -v npm >/dev/null 2>&1; then
  installed=$(node -p 'require(process.argv[1]).version' "$fauxqs_dir/node_modules/fauxqs/package.json" 2>/dev/null || true)
  wanted=$(node -p 'require(process.argv[1]).dependencies.fauxqs' "$fauxqs_dir/package.json")
  if [ "$installed" != "$wanted" ]; then
    echo "install-deps: installing fauxqs $wanted (npm ci in tests/fauxqs)"
    npm ci --prefix "$fauxqs_dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
else
  echo "install-deps: npm not found; the fauxqs tests will be skipped (install nodejs and npm)" >&2
fi
echo "install-deps: all packages present"
