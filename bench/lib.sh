# Shell functions shared by the bench scripts (sourced; needs scripts/lib/docker.sh for
# stop_by_pid_file).

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts fauxqs on PORT, in its own session, with its pid in WORK/fauxqs.pid and its log beside.
start_fauxqs() { # WORK PORT
  setsid node tests/fauxqs/serve.mjs "$2" </dev/null >"$1/fauxqs.log" 2>&1 &
  echo $! >"$1/fauxqs.pid"
}

# Waits up to 10 s for an HTTP server to answer at URL.
wait_for_http() { # URL
  for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "nothing answers at $1" >&2
  return 1
}

# Writes N trivial tasks (ids s1..sN, busybox echo) as JSON lines to FILE.
write_echo_tasks() { # N FILE
  for i in $(seq 1 "$1"); do
    printf '{"id":"s%d","image":"busybox","arguments":"echo %d"}\n' "$i" "$i"
  done >"$2"
}
