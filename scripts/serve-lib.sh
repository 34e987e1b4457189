# Starts and stops a throwaway server for the scripts that check the API from
# outside (api-check.sh, client-check.sh). Source it; needs target/debug/mannequin.
#
#   start_server [serve flags…]   # sets SERVER_URL, SERVER_KEY, SERVER_PID, SERVER_DATA
#   stop_server

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_server() {
  SERVER_DATA=$(mktemp -d)
  local port
  port=$(free_port)
  MANNEQUIN_LOG=warn MANNEQUIN_METRICS_LISTEN=off target/debug/mannequin serve --listen "127.0.0.1:$port" \
    --data-dir "$SERVER_DATA" --rate-limit 0 --starter-credits 1000000000 --no-webhook-delivery "$@" \
    >"$SERVER_DATA/serve.log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  # Ready once it listens and has printed the starter key (up to 30 s); a
  # server that never gets there says why instead of ending the run silently.
  SERVER_KEY=
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      SERVER_KEY=$(grep -o 'mk_live_[A-Za-z0-9._]*' "$SERVER_DATA/serve.log" | head -1 || true)
      [ -n "$SERVER_KEY" ] && return 0
    fi
    sleep 0.1
  done
  echo "the server did not start; its log:"
  cat "$SERVER_DATA/serve.log"
  stop_server
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$SERVER_DATA"
}
