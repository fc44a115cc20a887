#!/usr/bin/env bash
# The install paths of the README: `cmake --install` into a prefix puts a tasker that works from
# any directory in PREFIX/bin, and the Debian package `cpack -G DEB` makes installs with apt
# (its dependencies declared), runs, and uninstalls cleanly. Uses the build the suite runs on.
set -euo pipefail
tasker=$1
build=$(cd "$(dirname "$tasker")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. cmake --install into a prefix of the user's.
cmake --install "$build" --prefix "$work/prefix" >/dev/null
[ -x "$work/prefix/bin/tasker" ] || fail "cmake --install put no tasker in PREFIX/bin"
version=$(cd / && PATH="$work/prefix/bin:$PATH" tasker version)
case $version in
  "tasker "[0-9]*) ;;
  *) fail "installed tasker version printed '$version'" ;;
esac

# 2. The Debian package, installed and removed with apt (root only; a tasker package this test
# did not install is left alone).
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null || ! command -v cpack >/dev/null; then
  echo "skipping the Debian package part: needs root, apt-get and cpack"
  exit 0
fi
if dpkg-query -W -f='${Status}' tasker 2>/dev/null | grep -q "install ok installed"; then
  echo "skipping the Debian package part: a tasker package is already installed"
  exit 0
fi
(cd "$build" && cpack -G DEB -B "$work/package" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb=$(ls "$work"/package/tasker_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for library in libcurl libsqlite3 libssl; do
  case $depends in
    *"$library"*) ;;
    *) fail "the package does not declare $library: Depends: $depends" ;;
  esac
done
cleanup_package() { apt-get remove -y -qq tasker >/dev/null 2>&1 || true; }
trap 'cleanup_package; rm -rf "$work"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log" >&2; fail "apt-get install of the package failed"; }
installed=$(cd / && /usr/bin/tasker version)
[ "$installed" = "$version" ] || fail "the packaged tasker printed '$installed', not '$version'"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tasker >/dev/null 2>&1 || fail "apt-get remove failed"
[ ! -e /usr/bin/tasker ] || fail "/usr/bin/tasker is still there after apt-get remove"
echo "ok: cmake --install and the Debian package ($(basename "$deb")) both give '$version'"
