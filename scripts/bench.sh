#!/usr/bin/env bash
# Builds a release binary, starts a server on a fresh data directory, and runs
# `mannequin bench` against it. Extra arguments go to `mannequin bench`.
#   scripts/bench.sh                      # the defaults recorded in docs/performance.md
#   scripts/bench.sh --register-requests 200
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mannequin
data=$(mktemp -d)
port=${MANNEQUIN_BENCH_PORT:-18181}
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT

account=$($bin admin account create --data-dir "$data" --name bench --credits 100000000 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
key=$($bin admin key create --data-dir "$data" --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')

MANNEQUIN_LOG=warn $bin serve --data-dir "$data" --listen "127.0.0.1:$port" --rate-limit 0 \
  --no-bootstrap ${MANNEQUIN_SERVE_ARGS:-} >/dev/null &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
$bin bench --url "http://127.0.0.1:$port" --api-key "$key" --server-pid "$pid" "$@"
