#!/usr/bin/env bash
# Measures Talktime on this machine: the machine's own limits first (pgbench TPC-B and select-only
# against the same PostgreSQL), then every talktime-load scenario against a release build of the
# server, each figure printed as a ratio to its limit. Not a test: the figures go into
# docs/benchmarks.md by hand. Extra arguments go to talktime-load (e.g. --only list,calls).
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
JWT_SECRET="bench-jwt-secret-0123456789abcdef0123456789"
export JWT_SECRET

for db in "$PG_DB" "$APP_DB"; do
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" >/dev/null
  psql "$ADMIN_URL" -qc "CREATE DATABASE ${db}" >/dev/null
done

echo "== machine limits: pgbench (scale 10, 8 clients, 2 threads, ${SECONDS_EACH} s each)"
PG_URL="${ADMIN_URL%/*}/${PG_DB}"
pgbench -q -i -s 10 "$PG_URL" >/dev/null 2>&1
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1; }
TPCB=$(pgbench -c 8 -j 2 -T "$SECONDS_EACH" "$PG_URL" 2>/dev/null | tps)
SELECT=$(pgbench -S -c 8 -j 2 -T "$SECONDS_EACH" "$PG_URL" 2>/dev/null | tps)
echo "pgbench TPC-B: ${TPCB} TPS    pgbench -S: ${SELECT} TPS"

# One socket per file descriptor: let both processes open as many as the machine allows.
ulimit -n "$(ulimit -Hn)"
LOG=target/bench-server.log
APP_ENV=development BIND_ADDR="127.0.0.1:${PORT}" DATABASE_URL="$APP_URL" TRUSTED_PROXIES=127.0.0.0/8 \
  RUST_LOG=warn target/release/talktime serve >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

echo "== talktime-load against target/release/talktime (pid ${SERVER})"
target/release/talktime-load --server "127.0.0.1:${PORT}" --database-url "$APP_URL" --server-pid "$SERVER" \
  --select-tps "$SELECT" --tpcb-tps "$TPCB" --json target/bench.json "$@"
