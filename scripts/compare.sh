#!/usr/bin/env bash
# mannequin beside references on the same machine, in one run:
#
#   list      the model list beside a bare axum server returning the same
#             bytes, over the same loopback with the same client (wrk, one
#             thread), interleaved rounds;
#   register  register-ideas (count 10, 16 in flight, no workers) on PostgreSQL
#             for one account and for four, beside SQLite for one;
#             interleaved rounds, medians;
#   pipeline  the no-op pipeline on PostgreSQL (register-ideas through DONE,
#             credits settled) beside graphile-worker draining the same number
#             of no-op jobs (benches/graphile-worker, from npm).
#
#   scripts/compare.sh                       # all three; the list on SQLite, 3 rounds of 5 s
#   scripts/compare.sh list                  # one part
#   MANNEQUIN_COMPARE_MODELS=100000 MANNEQUIN_COMPARE_ROUNDS=2 scripts/compare.sh list
#   MANNEQUIN_BENCH_STACK=scale scripts/compare.sh list   # the list on PostgreSQL
#   MANNEQUIN_COMPARE_JOBS=20000 scripts/compare.sh pipeline
#   MANNEQUIN_COMPARE_MEDIA=/var/tmp scripts/compare.sh pipeline  # the images on that disk
#   MANNEQUIN_COMPARE_BIN=/tmp/older/mannequin scripts/compare.sh register
#                                            # another build of the service (the bench
#                                            # client stays this one), for before/after
#   MANNEQUIN_COMPARE_NO_BUILD=1 …          # measure target/release as it is
#
# The reference (`crates/bare`, `mannequin-bare`) answers every GET with the
# page the service served, which it holds as typed items and serializes with
# serde on each request: the least a server returning that page from its data
# does. `floor` is the same bytes sent as they are (axum and the loopback
# alone). The account is filled straight through the store
# (`mannequin bench-fill`: settled models with a prompt, seed and generator).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${*:-list register pipeline}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
# MANNEQUIN_COMPARE_NO_BUILD=1 measures the binaries already in
# target/release (while the tree holds unfinished work, or between
# alternating runs, so nothing compiles during a measurement).
[ -n "${MANNEQUIN_COMPARE_NO_BUILD:-}" ] || cargo build --release --quiet -p mannequin -p mannequin-bare
bin=${MANNEQUIN_COMPARE_BIN:-target/release/mannequin}
client=target/release/mannequin
bare=target/release/mannequin-bare
port=${MANNEQUIN_BENCH_PORT:-18210}
stack=${MANNEQUIN_BENCH_STACK:-embedded}
pg=${MANNEQUIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
models=${MANNEQUIN_COMPARE_MODELS:-10000}
rounds=${MANNEQUIN_COMPARE_ROUNDS:-3}
secs=${MANNEQUIN_COMPARE_SECONDS:-5}
data=$(mktemp -d)
media=""
db="mannequin_compare_$$"
pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop
  for d in "$db" "${db}_gw" "${db}_pipe" "${db}_reg"; do
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" 2>/dev/null || true
  done
  rm -rf "$data" ${media:+"$media"}
}
trap cleanup EXIT
export MANNEQUIN_LOG=warn MANNEQUIN_RATE_LIMIT=0 MANNEQUIN_METRICS_LISTEN=off
up() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/$2" >/dev/null && return; sleep 0.1; done; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"

list_part() {
  export MANNEQUIN_DATA_DIR="$data"
  if [ "$stack" = scale ]; then
    psql -q "$pg/postgres" -c "CREATE DATABASE $db"
    export MANNEQUIN_DATABASE_URL="$pg/$db"
  fi
  $bin migrate >/dev/null   # an older binary's admin has no --create
  account=$($bin admin account create --name compare --credits 0 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
  key=$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')
  $bin bench-fill --account "$account" --models "$models" >/dev/null
  [ "$stack" != scale ] || psql -q "$MANNEQUIN_DATABASE_URL" -c "ANALYZE"

  $bin serve --listen "127.0.0.1:$port" --no-bootstrap --no-worker >/dev/null &
  pids+=($!)
  up "$port" readyz
  list="http://127.0.0.1:$port/api/external/models"
  curl -fs -H "X-Api-Key: $key" "$list?limit=100" >"$data/page100.json"
  curl -fs -H "X-Api-Key: $key" "$list" >"$data/page1000.json"
  $bare "127.0.0.1:$((port + 1))" "$data/page100.json" >/dev/null &
  pids+=($!)
  $bare "127.0.0.1:$((port + 2))" "$data/page1000.json" >/dev/null &
  pids+=($!)
  $bare "127.0.0.1:$((port + 3))" "$data/page100.json" --static >/dev/null &
  pids+=($!)
  for p in 1 2 3; do up $((port + p)) ""; done

  # One wrk run: requests a second and p99 in ms.
  measure() {
    wrk -t1 -c"$1" -d"${secs}s" --latency -H "X-Api-Key: $key" "$2" 2>&1 | awk '
      /Requests\/sec/ { rps = $2 }
      $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                    p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
      END { printf "%.0f %.2f\n", rps, p99 }'
  }

  echo "list: $stack; account of $models models; wrk 1 thread, ${secs} s a run, $rounds interleaved rounds"
  results="$data/results"
  : >"$results"
  for round in $(seq "$rounds"); do
    for conns in 32 64; do
      for page in 100 1000; do
        query=$([ "$page" = 100 ] && echo "?limit=100" || echo "")
        ref=$([ "$page" = 100 ] && echo 1 || echo 2)
        echo "$conns $page mannequin $(measure "$conns" "$list$query")" >>"$results"
        echo "$conns $page bare $(measure "$conns" "http://127.0.0.1:$((port + ref))/api/external/models$query")" >>"$results"
      done
      echo "$conns 100 floor $(measure "$conns" "http://127.0.0.1:$((port + 3))/")" >>"$results"
    done
    echo "round $round done" >&2
  done

  # Medians over the rounds, then the ratios the issue asks about.
  python3 - "$results" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    conns, page, who, rps, p99 = line.split()
    rows.setdefault((int(conns), int(page), who), []).append((float(rps), float(p99)))
med = {k: (statistics.median(r for r, _ in v), statistics.median(p for _, p in v)) for k, v in rows.items()}
print(f"{'page':>5} {'conns':>5} | {'mannequin req/s':>15} {'p99 ms':>7} | {'bare req/s':>10} {'p99 ms':>7} | {'ratio':>5} {'p99 x':>5} | {'floor req/s':>11}")
for conns in (32, 64):
    for page in (100, 1000):
        m, b = med[(conns, page, "mannequin")], med[(conns, page, "bare")]
        floor = med.get((conns, page, "floor"))
        f = f"{floor[0]:>11.0f}" if floor else f"{'':>11}"
        print(f"{page:>5} {conns:>5} | {m[0]:>15.0f} {m[1]:>7.2f} | {b[0]:>10.0f} {b[1]:>7.2f} | {m[0] / b[0]:>5.2f} {m[1] / b[1]:>5.1f} | {f}")
PY
  stop
}

# The no-op pipeline on PostgreSQL beside graphile-worker, each on a fresh
# database: graphile-worker drains JOBS jobs at concurrency 10 (adding them is
# not timed); mannequin registers JOBS/10 orders of 10 models through the API
# (16 in flight) and one worker process makes them with the no-op generator at
# concurrency 10, timed from the first request to the last model DONE.
# The images go to a fresh folder in MANNEQUIN_COMPARE_MEDIA (/dev/shm where
# it exists): graphile-worker's jobs write no files, and on an ext4 disk that
# just deleted a previous run's 40,000 files, creating new ones (the inode
# search skips recently deleted inodes) took most of the worker's CPU time.
pipeline_part() {
  jobs=${MANNEQUIN_COMPARE_JOBS:-20000}
  media_parent=${MANNEQUIN_COMPARE_MEDIA:-$([ -d /dev/shm ] && echo /dev/shm || echo "$data")}
  media=$(mktemp -d "$media_parent/mannequin-media.XXXXXX")
  (cd benches/graphile-worker && { [ -d node_modules/graphile-worker ] || npm install --silent --no-audit --no-fund; })
  psql -q "$pg/postgres" -c "CREATE DATABASE ${db}_gw"
  gw=$(DATABASE_URL="$pg/${db}_gw" node benches/graphile-worker/bench.mjs "$jobs" 10)
  psql -q "$pg/postgres" -c "DROP DATABASE ${db}_gw WITH (FORCE)"
  psql -q "$pg/postgres" -c "CREATE DATABASE ${db}_pipe"
  (
    export MANNEQUIN_DATABASE_URL="$pg/${db}_pipe" MANNEQUIN_DATA_DIR="$media"
    $bin migrate >/dev/null   # an older binary's admin has no --create
    account=$($bin admin account create --name pipeline --credits 100000000 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
    key=$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')
    $bin serve --listen "127.0.0.1:$((port + 4))" --no-bootstrap --no-worker >/dev/null &
    api=$!
    MANNEQUIN_GENERATOR=noop MANNEQUIN_PUBLIC_URL="http://127.0.0.1:$((port + 4))" \
      $bin worker --generator-concurrency 10 >/dev/null &
    worker=$!
    up $((port + 4)) readyz
    $client bench --url "http://127.0.0.1:$((port + 4))" --api-key "$key" \
      --register-requests $((jobs / 10)) --list-requests 0 | grep 'register → DONE' >"$data/pipe.out"
    kill -TERM "$api" "$worker"; wait "$api" "$worker" 2>/dev/null || true
  )
  rm -rf "$media"
  ours=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "models/s") print $(i-1) }' "$data/pipe.out")
  echo "pipeline on PostgreSQL, $jobs jobs:"
  echo "  $gw"
  echo "  mannequin: $(sed 's/^ *//' "$data/pipe.out")"
  python3 -c "import sys; g = float(sys.argv[1].split(', ')[1].split()[0]); print(f'  ratio: {float(sys.argv[2]) / g:.2f}')" "$gw" "$ours"
}

# register-ideas alone: a server without workers, REGISTERS calls of count
# 10 at 16 in flight, on a fresh database each: PostgreSQL with one account,
# PostgreSQL with four (the calls take turns), SQLite with one.
register_part() {
  calls=${MANNEQUIN_COMPARE_REGISTERS:-2000}
  one() { # $1: sqlite|postgres, $2: accounts; prints "req/s p99-ms"
    local dir="$data/register-$1-$2" keys="" url=""
    rm -rf "$dir"; mkdir -p "$dir"
    if [ "$1" = postgres ]; then
      psql -q "$pg/postgres" -c "CREATE DATABASE ${db}_reg"
      url="$pg/${db}_reg"
    fi
    (
      export MANNEQUIN_DATA_DIR="$dir"
      if [ -n "$url" ]; then export MANNEQUIN_DATABASE_URL="$url"; else unset MANNEQUIN_DATABASE_URL; fi
      $bin migrate >/dev/null   # an older binary's admin has no --create
      for _ in $(seq "$2"); do
        account=$($bin admin account create --name register --credits 100000000 | sed -n 's/.*"accountId": "\(.*\)".*/\1/p')
        keys="$keys${keys:+,}$($bin admin key create --account "$account" | sed -n 's/.*"apiKey": "\(.*\)".*/\1/p')"
      done
      $bin serve --listen "127.0.0.1:$((port + 5))" --no-bootstrap --no-worker >/dev/null &
      server=$!
      up $((port + 5)) readyz
      $client bench --url "http://127.0.0.1:$((port + 5))" --api-key "$keys" \
        --register-requests "$calls" --register-only |
        awk '/register-ideas \(count/ { for (i = 1; i <= NF; i++) { if ($i == "req/s") r = $(i-1); if ($i == "p99") p = $(i+1) } print r, p }'
      kill -TERM "$server"; wait "$server" 2>/dev/null || true
    )
    [ -z "$url" ] || psql -q "$pg/postgres" -c "DROP DATABASE ${db}_reg WITH (FORCE)"
  }
  # The three set-ups in turn, round after round, so that a slow spell of the
  # machine falls on all of them; then the median of each.
  echo "register-ideas, $calls calls of count 10, 16 in flight, no workers, $rounds interleaved rounds:"
  : >"$data/register.out"
  for round in $(seq "$rounds"); do
    for setup in "postgres 1" "postgres 4" "sqlite 1"; do
      # shellcheck disable=SC2086
      echo "$setup $(one $setup | tail -n 1)" >>"$data/register.out"
    done
  done
  python3 - "$data/register.out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    db, accounts, rate, p99 = line.split()
    runs.setdefault((db, accounts), []).append((float(rate), float(p99)))
names = {("postgres", "1"): "PostgreSQL, one account", ("postgres", "4"): "PostgreSQL, four accounts",
         ("sqlite", "1"): "SQLite, one account"}
median = {}
for key, name in names.items():
    rates = [r for r, _ in runs[key]]
    median[key] = statistics.median(rates)
    p99 = statistics.median(p for _, p in runs[key])
    each = "  ".join(f"{r:7.1f}" for r in rates)
    print(f"  {name:27} median {median[key]:7.1f} req/s  p99 {p99:6.1f} ms   (rounds: {each})")
one, four, lite = median[("postgres", "1")], median[("postgres", "4")], median[("sqlite", "1")]
print(f"  PostgreSQL one account / SQLite: {one / lite:.2f};  four accounts / one: {four / one:.2f}")
PY
}

for part in $parts; do
  case $part in
    list) list_part ;;
    register) register_part ;;
    pipeline) pipeline_part ;;
    *) echo "unknown part $part (list, register, pipeline)" >&2; exit 2 ;;
  esac
done
