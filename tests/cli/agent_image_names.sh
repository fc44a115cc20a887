#!/usr/bin/env bash
# scripts/agent-image.sh takes any image name: without a tag it builds NAME:latest (it used to
# build NAME:NAME and then fail with "importing NAME failed"), a registry port is not a tag, and a
# name that is not one is refused in one line.
set -euo pipefail
tasker=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${DOCKER_HOST:-}" ]; then
  if [ "${TASKER_REQUIRE_SERVICES:-}" = 1 ]; then echo "FAIL: harness services missing"; exit 1; fi
  echo "SKIP: run under tests/harness.sh"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
untagged=tasker-agent-names-$$
ported=localhost:5999/tasker-agent-names-$$
cleanup() { docker rmi -f "$untagged:latest" "$untagged:$untagged" "$ported:latest" "$ported:v2" >/dev/null 2>&1 || true; }
trap cleanup EXIT

build() { TASKER_BINARY=$tasker "$root/scripts/agent-image.sh" "$@"; }

out=$(build "$untagged" 2>&1) || fail "untagged name: $out"
[[ $out == *"built $untagged:latest"* ]] || fail "untagged name: $out"
docker image inspect "$untagged:latest" >/dev/null || fail "$untagged:latest not built"
! docker image inspect "$untagged:$untagged" >/dev/null 2>&1 || fail "built $untagged:$untagged"

out=$(build "$ported" 2>&1) || fail "registry with a port: $out"
docker image inspect "$ported:latest" >/dev/null || fail "$ported:latest not built: $out"
out=$(build "$ported:v2" 2>&1) || fail "registry with a port and a tag: $out"
docker image inspect "$ported:v2" >/dev/null || fail "$ported:v2 not built: $out"
# The image runs the agent.
docker run --rm --network none "$ported:v2" --help >/dev/null || fail "$ported:v2 does not run tasker agent"

status=0
out=$(build "bad:" 2>&1) || status=$?
[ "$status" = 2 ] || fail "'bad:' accepted (status $status): $out"
[[ $out == *"'bad:' is not an image name"* ]] || fail "'bad:': $out"
echo "PASS"
