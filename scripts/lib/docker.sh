# Shell functions shared by scripts/run.sh and tests/harness.sh: find or start a Docker daemon,
# and build the local busybox image tasks and tests run in. Source it; it defines functions only.

# True when a Docker daemon answers at unix://PATH or tcp://HOST:PORT.
docker_answers() {
  case "$1" in
    unix://*) curl -sf --max-time 3 --unix-socket "${1#unix://}" http://localhost/_ping >/dev/null ;;
    tcp://*) curl -sf --max-time 3 "http://${1#tcp://}/_ping" >/dev/null ;;
    *) return 1 ;;
  esac
}

# Prints the address of a daemon that answers: DOCKER_HOST, else /var/run/docker.sock; fails if
# neither answers.
find_docker() {
  if [ -n "${DOCKER_HOST:-}" ] && docker_answers "$DOCKER_HOST"; then
    echo "$DOCKER_HOST"
  elif docker_answers unix:///var/run/docker.sock; then
    echo unix:///var/run/docker.sock
  else
    return 1
  fi
}

# Starts a private dockerd with its state under DIR (socket DIR/docker.sock, no bridge, no
# iptables), detached from the caller's terminal and pipes; its pid goes to DIR/dockerd.pid.
# Needs root. Waits until it answers.
start_private_dockerd() { # DIR
  local dir=$1
  mkdir -p "$dir/docker"
  command -v dockerd >/dev/null || { echo "dockerd is not installed" >&2; return 1; }
  setsid dockerd --host "unix://$dir/docker.sock" --data-root "$dir/docker/data" \
    --exec-root "$dir/docker/exec" --pidfile "$dir/docker/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false --log-level=warn \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  echo $! >"$dir/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until docker_answers "unix://$dir/docker.sock"; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null; then
      echo "dockerd did not come up; see $dir/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Builds IMAGE (default tasker-test/busybox:latest) from the static busybox on the daemon at
# DOCKER_HOST (a unix socket) unless it is there already: no registry or internet needed.
build_busybox_image() { # WORKDIR [IMAGE]
  local work=$1 image=${2:-tasker-test/busybox:latest}
  local socket=${DOCKER_HOST#unix://}
  if curl -sf --unix-socket "$socket" "http://localhost/images/$image/json" >/dev/null; then
    return 0
  fi
  local busybox
  busybox=$(command -v busybox) || { echo "busybox is not installed (busybox-static)" >&2; return 1; }
  local rootfs=$work/rootfs
  rm -rf "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  local repo=${image%:*} tag=${image##*:}
  # POST /images/create?fromSrc=- is `docker import`: the body is the root filesystem as a tar.
  tar -C "$rootfs" -c . | curl -sf --unix-socket "$socket" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @- \
    "http://localhost/images/create?fromSrc=-&repo=$repo&tag=$tag&changes=ENV%20PATH%3D%2Fbin" \
    >"$work/import.log"
  rm -rf "$rootfs"
  curl -sf --unix-socket "$socket" "http://localhost/images/$image/json" >/dev/null \
    || { echo "importing $image failed: $(cat "$work/import.log")" >&2; return 1; }
}

# Stops a process started with its pid in FILE: TERM, up to 10 s, then KILL.
stop_by_pid_file() { # FILE
  local pid_file=$1
  [ -f "$pid_file" ] || return 0
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}
