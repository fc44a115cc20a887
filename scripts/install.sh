#!/usr/bin/env bash
# Installs tasker on this machine: what it needs to build (scripts/install-deps.sh, apt), a
# release build, and `cmake --install`, which puts `tasker` in PREFIX/bin.
#
#   scripts/install.sh                   into /usr/local (needs root or sudo)
#   scripts/install.sh --prefix ~/.local into a folder of your own (add ~/.local/bin to PATH)
#
# Afterwards `tasker version` works from any directory. To remove it: delete PREFIX/bin/tasker
# and PREFIX/share/doc/tasker (or, for the Debian package, `apt-get remove tasker`).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    *) echo "install: unknown argument '$1' (usage: scripts/install.sh [--prefix DIR])" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh >&2
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTASKER_TESTS=OFF \
  -DTASKER_BENCH=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target tasker >&2
sudo=""
if [ "$(id -u)" -ne 0 ] && ! [ -w "$(dirname "$prefix")" ] && ! [ -w "$prefix" ]; then sudo=sudo; fi
$sudo cmake --install build-release --prefix "$prefix" >&2
echo "install: $("$prefix/bin/tasker" version) installed as $prefix/bin/tasker"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "install: $prefix/bin is not on PATH; add it (export PATH=\"$prefix/bin:\$PATH\")" ;;
esac
