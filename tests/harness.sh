#!/usr/bin/env bash
# The test harness: starts what the integration tests need when it is not already there, and
# stops only what it started, by pid.
#
#   tests/harness.sh start    start services; prints the environment to source ("export ...")
#   tests/harness.sh restart-docker   stop and start its private daemon (fault tests)
#   tests/harness.sh stop     stop everything it started
#
# State lives in $TASKER_HARNESS_DIR (default /tmp/tasker-harness-$UID). Services:
#   Docker     reuse a DOCKER_HOST or /var/run/docker.sock that answers, else a private dockerd
#              (private socket, no bridge, no iptables) — needs root.
#   image      tasker-test/busybox:latest, built from the static busybox (no registry needed).
#   moto       moto_server on 127.0.0.1, unless TASKER_TEST_SQS_ENDPOINT is already set.
#   registry   Debian's docker-registry on 127.0.0.1 with htpasswd basic auth.
#   fauxqs     the fauxqs SQS emulator on 127.0.0.1, when tests/fauxqs is installed (npm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib/docker.sh
source "$here/../scripts/lib/docker.sh"
dir=${TASKER_HARNESS_DIR:-/tmp/tasker-harness-$(id -u)}
env_file=$dir/env
image=tasker-test/busybox:latest
registry_user=tasker
registry_password=tasker-registry-password

log() { echo "harness: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts a command in its own session with no terminal attached, so that neither a pipe nor a
# $(...) of the caller is kept open by it; records its pid in $dir/NAME.pid.
spawn() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

wait_for() { # SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      log "$what did not come up within ${seconds}s"
      return 1
    fi
    sleep 0.2
  done
}

start_dockerd() {
  log "starting a private dockerd on $dir/docker.sock"
  start_private_dockerd "$dir"
}

setup_docker() {
  local found
  if found=$(find_docker); then
    log "using the Docker daemon at $found"
    echo "export DOCKER_HOST=$found" >>"$env_file"
  else
    start_dockerd
    echo "export DOCKER_HOST=unix://$dir/docker.sock" >>"$env_file"
  fi
}

setup_image() {
  # shellcheck disable=SC1090
  source "$env_file"
  build_busybox_image "$dir" "$image"
}

setup_moto() {
  if [ -n "${TASKER_TEST_SQS_ENDPOINT:-}" ]; then
    echo "export TASKER_TEST_SQS_ENDPOINT=$TASKER_TEST_SQS_ENDPOINT" >>"$env_file"
    return 0
  fi
  command -v moto_server >/dev/null || { log "moto_server not found (pip install 'moto[server]')"; return 1; }
  local port
  port=$(free_port)
  spawn moto moto_server -H 127.0.0.1 -p "$port"
  wait_for 30 "moto_server (log: $dir/moto.log)" curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/"
  echo "export TASKER_TEST_SQS_ENDPOINT=http://127.0.0.1:$port" >>"$env_file"
}

setup_registry() {
  command -v docker-registry >/dev/null || { log "docker-registry not installed; registry tests will fail"; return 1; }
  local port
  port=$(free_port)
  mkdir -p "$dir/registry/data"
  htpasswd -Bbn "$registry_user" "$registry_password" >"$dir/registry/htpasswd"
  cat >"$dir/registry/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $dir/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
auth: {htpasswd: {realm: tasker-test, path: $dir/registry/htpasswd}}
YAML
  spawn registry docker-registry serve "$dir/registry/config.yml"
  wait_for 30 "docker-registry (log: $dir/registry.log)" \
    sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/v2/ | grep -q 401"
  {
    echo "export TASKER_TEST_REGISTRY=127.0.0.1:$port"
    echo "export TASKER_TEST_REGISTRY_USER=$registry_user"
    echo "export TASKER_TEST_REGISTRY_PASSWORD=$registry_password"
  } >>"$env_file"
}

setup_fauxqs() {
  [ -f "$here/fauxqs/node_modules/fauxqs/package.json" ] || return 0
  local port
  port=$(free_port)
  spawn fauxqs node "$here/fauxqs/serve.mjs" "$port"
  wait_for 30 "fauxqs (log: $dir/fauxqs.log)" sh -c "curl -s -o /dev/null http://127.0.0.1:$port/"
  echo "export TASKER_TEST_FAUXQS_ENDPOINT=http://127.0.0.1:$port" >>"$env_file"
}

stop_one() { # NAME
  stop_by_pid_file "$dir/$1.pid"
}

case "${1:-}" in
  start)
    mkdir -p "$dir"
    # A second start in the same folder would orphan the first one's services: stop them first.
    for name in fauxqs registry moto dockerd; do
      if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
        log "stopping the $name an earlier start in $dir left running"
        stop_one "$name"
      fi
    done
    : >"$env_file"
    echo "export TASKER_HARNESS_DIR=$dir" >>"$env_file"
    echo "export TASKER_TEST_IMAGE=$image" >>"$env_file"
    setup_docker
    setup_image
    setup_moto
    setup_registry
    setup_fauxqs
    cat "$env_file"
    ;;
  restart-docker)
    # For fault tests: stop the private dockerd this harness started and start it again.
    [ -f "$dir/dockerd.pid" ] || { log "no private dockerd to restart (a reused daemon is not ours)"; exit 1; }
    stop_one dockerd
    start_dockerd
    ;;
  stop)
    for name in fauxqs registry moto dockerd; do stop_one "$name"; done
    ;;
  *)
    echo "usage: $0 start|restart-docker|stop" >&2
    exit 2
    ;;
esac
