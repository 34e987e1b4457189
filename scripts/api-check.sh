#!/usr/bin/env bash
# Checks the served OpenAPI description against the server with schemathesis
# (every check, a fixed seed so that a run can be repeated), on the embedded
# stack and on PostgreSQL + NATS. Exits non-zero on any failure.
#
#   scripts/api-check.sh              # both stacks (PostgreSQL and NATS running here)
#   MANNEQUIN_API_CHECK_STACKS=embedded scripts/api-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install -q schemathesis
st=$(python3 -c 'import shutil, sys; print(shutil.which("st") or sys.exit(1))') \
  || st="$(dirname "$(python3 -c 'import sys; print(sys.executable)')")/st"
cargo build --quiet
bin=target/debug/mannequin
pg=${MANNEQUIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

check() {  # label, then extra `serve` flags
  local label=$1; shift
  local data port pid key status=0
  data=$(mktemp -d)
  port=$(free_port)
  MANNEQUIN_LOG=warn MANNEQUIN_METRICS_LISTEN=off "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" \
    --rate-limit 0 --starter-credits 1000000000 --generator noop --no-webhook-delivery "$@" >"$data/serve.log" 2>&1 &
  pid=$!
  # Ready once it listens and has printed the starter key (up to 30 s); a
  # server that never gets there says why instead of ending the run silently.
  key=
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      key=$(grep -o 'mk_live_[A-Za-z0-9._]*' "$data/serve.log" | head -1 || true)
      [ -n "$key" ] && break
    fi
    sleep 0.1
  done
  if [ -z "$key" ]; then
    echo "schemathesis, $label stack: the server did not start; its log:"
    cat "$data/serve.log"
    kill -TERM "$pid" 2>/dev/null || true
    return 1
  fi
  echo "schemathesis, $label stack"
  "$st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/external/openapi.json" \
    -H "Authorization: Bearer $key" --checks all --max-examples 50 --seed 20261129 \
    --no-color || status=$?
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  return "$status"
}

for stack in ${MANNEQUIN_API_CHECK_STACKS:-embedded scale}; do
  case $stack in
    embedded) check embedded ;;
    scale)
      db="mannequin_apicheck_$$"
      psql -q "$pg" -c "CREATE DATABASE $db"
      status=0
      check "PostgreSQL + NATS" --database-url "${pg%/*}/$db" --queue nats \
        --nats-stream "mannequin-apicheck-$$" || status=$?
      psql -q "$pg" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
      [ "$status" = 0 ] || exit "$status"
      ;;
  esac
done
