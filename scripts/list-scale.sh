#!/usr/bin/env bash
# Lists an account of 1k, 10k, 100k and 1M models: the first page, a page
# halfway (a cursor), and the approved models (1%), each `limit=100`, p50 and
# p99 over MANNEQUIN_LIST_REQUESTS requests (default 300) at 16 in flight.
# Each size gets a fresh database filled straight through the store
# (`mannequin bench-fill`), then a release server on it.
#
#   scripts/list-scale.sh                             # embedded SQLite
#   MANNEQUIN_BENCH_STACK=scale scripts/list-scale.sh # PostgreSQL (a database of its own)
#   MANNEQUIN_LIST_SIZES="1000 10000" scripts/list-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mannequin
port=${MANNEQUIN_BENCH_PORT:-18192}
stack=${MANNEQUIN_BENCH_STACK:-embedded}
pg=${MANNEQUIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); stack: $stack"
for n in ${MANNEQUIN_LIST_SIZES:-1000 10000 100000 1000000}; do
  data=$(mktemp -d)
  export MANNEQUIN_LOG=warn MANNEQUIN_DATA_DIR="$data" MANNEQUIN_RATE_LIMIT=0
  if [ "$stack" = scale ]; then
    db="mannequin_list_$$_$n"
    psql -q "$pg/postgres" -c "CREATE DATABASE $db"
    export MANNEQUIN_DATABASE_URL="$pg/$db"
  fi
  account=$($bin admin account create --create --name list --credits 0 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
  key=$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')
  $bin bench-fill --account "$account" --models "$n"
  [ "$stack" != scale ] || psql -q "$MANNEQUIN_DATABASE_URL" -c "ANALYZE"
  $bin serve --listen "127.0.0.1:$port" --no-bootstrap --no-worker --metrics-listen off >/dev/null &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  echo "== $n models"
  $bin bench --url "http://127.0.0.1:$port" --api-key "$key" --register-requests 0 \
    --list-requests "${MANNEQUIN_LIST_REQUESTS:-300}" --deep-after $((n / 2)) |
    grep -E 'limit=100'
  kill "$server"; wait "$server" 2>/dev/null || true
  [ "$stack" != scale ] || psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rm -rf "$data"
done
