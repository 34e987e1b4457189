#!/usr/bin/env bash
# Builds a release binary, starts the service on fresh storage, and runs
# `mannequin bench` against it. Extra arguments go to `mannequin bench`.
#
#   scripts/bench.sh                      # embedded: SQLite, local disk, in-process worker
#   MANNEQUIN_BENCH_STACK=scale scripts/bench.sh
#                                         # PostgreSQL + NATS: one API process and
#                                         # MANNEQUIN_BENCH_WORKERS worker processes
#   MANNEQUIN_GENERATOR=noop scripts/bench.sh   # the queue and the ledger alone
#   MANNEQUIN_BENCH_FAKE_IMAGE_MS=2000 MANNEQUIN_GENERATOR_CONCURRENCY=256 scripts/bench.sh
#                                         # an image server that takes 2 s a model
#                                         # (`mannequin fake-image-server`, OpenAI's API)
#   scripts/bench.sh --register-requests 200
#   MANNEQUIN_BENCH_WEBHOOK=1 scripts/bench.sh
#                                         # the account has a webhook endpoint (a local
#                                         # receiver that verifies every signature):
#                                         # every model and batch is announced
#
# The scale stack uses the PostgreSQL at MANNEQUIN_BENCH_POSTGRES (default
# postgres://postgres@127.0.0.1:5432; a database of its own, dropped afterwards)
# and the NATS at MANNEQUIN_NATS_URL (stream `mannequin-bench`, empty after a run).
# Images go to local disk in both: the bench measures the service, not a bucket.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mannequin
data=$(mktemp -d)
port=${MANNEQUIN_BENCH_PORT:-18181}
stack=${MANNEQUIN_BENCH_STACK:-embedded}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$stack" = scale ]; then
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

export MANNEQUIN_LOG=${MANNEQUIN_LOG:-warn} MANNEQUIN_DATA_DIR="$data" MANNEQUIN_RATE_LIMIT=0
export MANNEQUIN_METRICS_LISTEN=${MANNEQUIN_METRICS_LISTEN:-off}
[ -z "${MANNEQUIN_BENCH_WEBHOOK:-}" ] || export MANNEQUIN_WEBHOOK_ALLOW_PRIVATE=true
if [ "$stack" = scale ]; then
  pg=${MANNEQUIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
  db="mannequin_bench_$$"
  psql -q "$pg/postgres" -c "CREATE DATABASE $db"
  export MANNEQUIN_DATABASE_URL="$pg/$db" MANNEQUIN_QUEUE=nats MANNEQUIN_NATS_STREAM=mannequin-bench
fi

if [ -n "${MANNEQUIN_BENCH_FAKE_IMAGE_MS:-}" ]; then
  fake_port=$((port + 1))
  $bin fake-image-server --listen "127.0.0.1:$fake_port" --delay-ms "$MANNEQUIN_BENCH_FAKE_IMAGE_MS" >/dev/null &
  pids+=($!)
  export MANNEQUIN_GENERATOR=openai MANNEQUIN_GENERATOR_URL="http://127.0.0.1:$fake_port"
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$fake_port/v1/models" >/dev/null && break
    sleep 0.1
  done
fi

account=$($bin admin account create --create --name bench --credits 100000000 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
key=$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')

if [ "$stack" = scale ]; then
  $bin serve --listen "127.0.0.1:$port" --no-bootstrap --no-worker >/dev/null &
  server=$!
  pids+=($!)
  for _ in $(seq "${MANNEQUIN_BENCH_WORKERS:-1}"); do
    $bin worker ${MANNEQUIN_WORKER_ARGS:-} >/dev/null &
    pids+=($!)
  done
else
  $bin serve --listen "127.0.0.1:$port" --no-bootstrap ${MANNEQUIN_SERVE_ARGS:-} >/dev/null &
  server=$!
  pids+=($!)
fi
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done

if [ -n "${MANNEQUIN_BENCH_WEBHOOK:-}" ]; then
  python3 -c 'import standardwebhooks' 2>/dev/null || python3 -m pip install -q standardwebhooks
  : >"$data/secret"
  python3 scripts/webhook-receiver.py --secret-file "$data/secret" --log "$data/received.jsonl" \
    >"$data/receiver.out" &
  receiver=$!
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$data/receiver.out" 2>/dev/null && break; sleep 0.1; done
  hook_port=$(sed -n 's/listening on //p' "$data/receiver.out")
  curl -fs "http://127.0.0.1:$port/api/external/webhooks" -H "X-Api-Key: $key" \
    -H 'Content-Type: application/json' -d "{\"url\": \"http://127.0.0.1:$hook_port/hooks\"}" |
    sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' >"$data/secret"
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "stack: $stack, generator ${MANNEQUIN_GENERATOR:-builtin}, workers ${MANNEQUIN_BENCH_WORKERS:-in-process}"
$bin bench --url "http://127.0.0.1:$port" --api-key "$key" --server-pid "$server" "$@"
if [ -n "${MANNEQUIN_BENCH_WEBHOOK:-}" ]; then
  # Deliveries trail the models by up to a poll: count once the log stops growing.
  last=-1
  for _ in $(seq 120); do
    n=$(wc -l <"$data/received.jsonl")
    [ "$n" = "$last" ] && break
    last=$n
    sleep 1
  done
  python3 - "$data/received.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["id"] for r in rows}
bad = sum(1 for r in rows if not r["verified"])
span = max(r["at"] for r in rows) - min(r["at"] for r in rows) if rows else 0
rate = f", {len(rows) / span:.0f}/s over {span:.1f} s" if span else ""
print(f"webhooks: {len(rows)} received, {len(ids)} distinct events, {bad} failed verification{rate}")
PY
  cpu() { awk '{ printf "%.1f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
  echo "cpu: server $(cpu "$server") s, receiver $(cpu "$receiver") s (the receiver shares these cores)"
fi
