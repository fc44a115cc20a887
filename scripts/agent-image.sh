#!/usr/bin/env bash
# Builds the tasker agent image with no network: the locally built `tasker` binary, the shared
# libraries it links (as ldd lists them) and the CA certificates, imported into Docker as one
# layer. The image runs `tasker agent`, configured by Q_TASK, Q_RESULTS, nProc and the AWS
# variables, and drives the host's daemon through a mounted /var/run/docker.sock.
#
#   scripts/agent-image.sh [IMAGE]        (default tasker-agent:local; any name, with or
#                                          without a tag (then :latest), with or without a
#                                          registry host and port; needs build/tasker, or
#                                          TASKER_BINARY, and DOCKER_HOST or /var/run/docker.sock)
# With internet, docker/Dockerfile builds the equivalent image from source.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-tasker-agent:local}
binary=${TASKER_BINARY:-build/tasker}
[ -x "$binary" ] || { echo "agent-image: $binary not found: build first (cmake --build build --target tasker)" >&2; exit 1; }
# shellcheck source=lib/docker.sh
source scripts/lib/docker.sh
host=$(find_docker) || { echo "agent-image: no Docker daemon answers" >&2; exit 1; }
socket=${host#unix://}

rootfs=$(mktemp -d /tmp/tasker-agent-image.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/var/run"
cp "$binary" "$rootfs/usr/local/bin/tasker"
strip "$rootfs/usr/local/bin/tasker" 2>/dev/null || true
# Every library the binary loads, at the same path, and the dynamic loader itself.
for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"

changes=$(python3 -c 'import urllib.parse,sys; print("&".join("changes=" + urllib.parse.quote(c) for c in sys.argv[1:]))' \
  'ENTRYPOINT ["/usr/local/bin/tasker", "agent"]' 'ENV PATH=/usr/local/bin')
# NAME[:TAG]: the tag is what follows the last ':' after the last '/' (a registry's port,
# as in localhost:5000/agent, is not a tag); no tag means latest, as docker itself reads it.
last=${image##*/}
if [[ $last == *:* ]]; then
  repo=${image%:*}
  tag=${image##*:}
else
  repo=$image
  tag=latest
fi
[[ -n $repo && -n $tag && $image != *@* ]] || { echo "agent-image: '$image' is not an image name (NAME[:TAG])" >&2; exit 2; }
image=$repo:$tag
tar -C "$rootfs" -c . | curl -sf --unix-socket "$socket" -X POST -H 'Content-Type: application/x-tar' \
  --data-binary @- "http://localhost/images/create?fromSrc=-&repo=$repo&tag=$tag&$changes" >/dev/null
curl -sf --unix-socket "$socket" "http://localhost/images/$image/json" >/dev/null \
  || { echo "agent-image: importing $image failed" >&2; exit 1; }
echo "agent-image: built $image"
