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
pg=${MANNEQUIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
. scripts/serve-lib.sh

check() {  # label, then extra `serve` flags
  local label=$1; shift
  local status=0
  start_server --generator noop "$@" || { echo "schemathesis, $label stack: no server"; return 1; }
  echo "schemathesis, $label stack"
  "$st" --config-file scripts/schemathesis.toml run "$SERVER_URL/api/external/openapi.json" \
    -H "Authorization: Bearer $SERVER_KEY" --checks all --max-examples 50 --seed 20261129 \
    --no-color || status=$?
  stop_server
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
