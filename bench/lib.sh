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

# Starts fauxqs behind bench/latency_proxy.py (DELAY_MS each way), stopped and WORK removed when
# the calling script exits, and points the AWS variables at the proxy with dummy credentials.
start_sqs_with_latency() { # WORK DELAY_MS
  local work=$1 delay=$2 faux_port proxy_port
  faux_port=$(free_port)
  proxy_port=$(free_port)
  start_fauxqs "$work" "$faux_port"
  setsid python3 bench/latency_proxy.py "$proxy_port" "$faux_port" "$delay" </dev/null >"$work/proxy.log" 2>&1 &
  echo $! >"$work/proxy.pid"
  # shellcheck disable=SC2064  # expanded now, on purpose: WORK is this call's
  trap "stop_by_pid_file '$work/proxy.pid'; stop_by_pid_file '$work/fauxqs.pid'; rm -rf '$work'" EXIT
  wait_for_http "http://127.0.0.1:$proxy_port/"
  export AWS_ENDPOINT_URL=http://127.0.0.1:$proxy_port AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
}
