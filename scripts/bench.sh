#!/usr/bin/env bash
# Measures Talktime on this machine: the machine's own limits first, at their best (pgbench TPC-B
# and select-only with the prepared protocol at 8, 16 and 32 clients, the best of each kept), then
# every talktime-load scenario against a release build of the server, each figure printed as a
# ratio to its limit, with the tool's and the server's CPU share. Then the latency scenarios
# again with the server and the tool pinned to different cores (taskset), so a latency can be
# told apart from the tool's own cost. Not a test: the figures go into docs/benchmarks.md by hand.
#
# Extra arguments go to talktime-load in the first pass (e.g. --only list,calls).
# BENCH_PINNED=0 skips the pinned pass; BENCH_PINNED_ONLY names its scenarios
# (default idle,setup,fanout,chats: setup needs the idle sockets open).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
cargo build --release -p talktime-api -p talktime-load

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
PG_DB=talktime_bench_pgbench
APP_DB=talktime_bench
APP_URL="${ADMIN_URL%/*}/${APP_DB}"
PORT="${BENCH_PORT:-8000}"
SECONDS_EACH="${BENCH_PGBENCH_SECONDS:-15}"
CLIENTS="${BENCH_PGBENCH_CLIENTS:-8 16 32}"
JWT_SECRET="bench-jwt-secret-0123456789abcdef0123456789"
export JWT_SECRET

fresh_db() {
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1
  psql "$ADMIN_URL" -qc "CREATE DATABASE $1" >/dev/null
}

echo "== machine limits: pgbench scale 10, prepared protocol, 2 threads, ${SECONDS_EACH} s each; best of ${CLIENTS} clients"
fresh_db "$PG_DB"
PG_URL="${ADMIN_URL%/*}/${PG_DB}"
pgbench -q -i -s 10 "$PG_URL" >/dev/null 2>&1
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }
TPCB_ALL=() SELECT_ALL=()
for clients in $CLIENTS; do
  tpcb=$(pgbench -M prepared -c "$clients" -j 2 -T "$SECONDS_EACH" "$PG_URL" 2>/dev/null | tps)
  select=$(pgbench -M prepared -S -c "$clients" -j 2 -T "$SECONDS_EACH" "$PG_URL" 2>/dev/null | tps)
  echo "  ${clients} clients: TPC-B ${tpcb} TPS, -S ${select} TPS"
  TPCB_ALL+=("$tpcb") SELECT_ALL+=("$select")
done
TPCB=$(best "${TPCB_ALL[@]}")
SELECT=$(best "${SELECT_ALL[@]}")
echo "pgbench TPC-B: ${TPCB} TPS    pgbench -S: ${SELECT} TPS    (best of each)"

# One socket per file descriptor: let both processes open as many as the machine allows.
ulimit -n "$(ulimit -Hn)"
LOG=target/bench-server.log
SERVER=
stop_server() { [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }; SERVER=; }
trap stop_server EXIT

# start_server [taskset-prefix...]: a fresh database and a server on it.
start_server() {
  fresh_db "$APP_DB"
  APP_ENV=development BIND_ADDR="127.0.0.1:${PORT}" DATABASE_URL="$APP_URL" TRUSTED_PROXIES=127.0.0.0/8 \
    RUST_LOG=warn "$@" target/release/talktime serve >"$LOG" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.1
  done
}

# load [taskset-prefix...] -- [talktime-load arguments...]
load() {
  local prefix=()
  while [ "$1" != -- ]; do prefix+=("$1"); shift; done
  shift
  "${prefix[@]}" target/release/talktime-load --server "127.0.0.1:${PORT}" --database-url "$APP_URL" \
    --server-pid "$SERVER" --select-tps "$SELECT" --tpcb-tps "$TPCB" "$@"
}

status=0
start_server
echo "== talktime-load against target/release/talktime (pid ${SERVER}), unpinned"
load -- --json target/bench.json "$@" || status=$?
stop_server

if [ "${BENCH_PINNED:-1}" != 0 ] && [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ] && command -v taskset >/dev/null; then
  start_server taskset -c 0
  echo "== the latency scenarios again: server on CPU 0, talktime-load on CPU 1 (PostgreSQL unpinned)"
  load taskset -c 1 -- --json target/bench-pinned.json --only "${BENCH_PINNED_ONLY:-idle,setup,fanout,chats}" \
    || status=$?
  stop_server
fi
exit "$status"
