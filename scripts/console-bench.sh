#!/usr/bin/env bash
# Times the console's pages on an account of 10,000 models: builds a release
# binary, starts the service on fresh storage (no-op generator), fills the
# account through the API (`mannequin bench`), signs in, and fetches each page
# 50 times one after another, printing p50 and p99.
#
#   scripts/console-bench.sh            # TMPDIR=/dev/shm keeps the disk out of it
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mannequin
data=$(mktemp -d)
port=${MANNEQUIN_BENCH_PORT:-18191}
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
export MANNEQUIN_LOG=warn MANNEQUIN_DATA_DIR="$data" MANNEQUIN_RATE_LIMIT=0 MANNEQUIN_GENERATOR=noop
account=$($bin admin account create --create --name console --credits 1000000 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
key=$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')
$bin serve --listen "127.0.0.1:$port" --no-bootstrap --metrics-listen off >/dev/null &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
$bin bench --url "$base" --api-key "$key" --register-requests 1000 --list-requests 1 >/dev/null
cookie=$(curl -s -o /dev/null -D - "$base/console/sign-in" --data-urlencode "apiKey=$key" |
  sed -n 's/^set-cookie: \(mannequin_session=[^;]*\).*/\1/ip')
page() { curl -fs -H "cookie: $cookie" "$base$1"; }
# A page deep in the account: follow "Older models" 80 times (4,800 models in).
deep=/console
for _ in $(seq 80); do
  deep=$(page "$deep" | grep -o 'href="/console?cursor=[^"]*"' | head -1 | sed 's/href="//; s/"$//; s/&amp;/\&/g')
done
model=$(page /console | grep -o 'data-model-id="[^"]*"' | head -1 | cut -d'"' -f2)
echo "machine: $(nproc) cores, $(uname -sr); an account of 10,000 models; 50 requests each, one at a time"
for path in /console "$deep" "/console?status=FAILED" "/console?voting=APPROVED" "/console/models/$model" /console/batches; do
  for _ in $(seq 50); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "cookie: $cookie" "$base$path"
  done | sort -n | awk -v p="$path" '{ t[NR] = $1 } END {
    printf "%-48s p50 %6.1f ms   p99 %6.1f ms\n", substr(p, 1, 48), t[int(NR * 0.5)] * 1000, t[int(NR * 0.99)] * 1000 }'
done
