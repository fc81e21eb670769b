#!/usr/bin/env bash
# A day of faults in half an hour (docs/benchmarks.md#soak). Not a test and not run by CI.
#
# Starts a private Redis (port 6390), two release nodes on one fresh database with it (A on 8201,
# B on 8202), a stalled-client process (talktime-load holding idle sockets on node A) and
# talktime-load's `soak` scenario against both nodes; meanwhile it injects a fault every
# SOAK_FAULT_EVERY seconds, in turn: Redis restarted, PostgreSQL restarted (pg_ctlcluster, or
# SOAK_PG_RESTART), node B killed with SIGKILL and started again, the client process stopped
# (SIGSTOP) for SOAK_STALL_SECS and continued. Each fault is logged with its time in
# target/soak-faults.log; the tool logs every call that was not billed with its time.
#
# SOAK_SECONDS (1800), SOAK_FAULT_EVERY (150), SOAK_STALL_SECS (90) change the run; extra
# arguments go to talktime-load (e.g. --soak-calls-per-s 10).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
scripts/dev-redis.sh
cargo build --release -p talktime-api -p talktime-load

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
DB=talktime_soak
APP_URL="${ADMIN_URL%/*}/${DB}"
REDIS_PORT=6390
SECONDS_TOTAL="${SOAK_SECONDS:-1800}"
FAULT_EVERY="${SOAK_FAULT_EVERY:-150}"
STALL_SECS="${SOAK_STALL_SECS:-90}"
JWT_SECRET="soak-jwt-secret-0123456789abcdef0123456789"
export JWT_SECRET
OUT=target/soak
mkdir -p "$OUT"
FAULTS=target/soak-faults.log
: >"$FAULTS"
ulimit -n "$(ulimit -Hn)"

psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${DB} WITH (FORCE)" >/dev/null 2>&1
psql "$ADMIN_URL" -qc "CREATE DATABASE ${DB}" >/dev/null

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 300); do answers "$1" && return 0; sleep 0.1; done; echo "soak: nothing on port $1" >&2; return 1; }
log() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$FAULTS"; }

REDIS=
start_redis() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
  REDIS=$!
  wait_port "$REDIS_PORT"
}

declare -A NODE_PID
start_node() { # name port
  APP_ENV=development BIND_ADDR="127.0.0.1:$2" DATABASE_URL="$APP_URL" TRUSTED_PROXIES=127.0.0.0/8 \
    REDIS_URL="redis://127.0.0.1:${REDIS_PORT}" RUST_LOG=warn target/release/talktime serve >>"$OUT/node-$1.log" 2>&1 &
  NODE_PID[$1]=$!
  echo "${NODE_PID[$1]}" >"$OUT/node-$1.pid"
  wait_port "$2"
}

restart_postgres() {
  if [ -n "${SOAK_PG_RESTART:-}" ]; then
    eval "$SOAK_PG_RESTART"
  else
    local version
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart 2>/dev/null || pg_ctlcluster "$version" main restart
  fi
}

STALLED= TOOL=
cleanup() {
  for pid in "$TOOL" "$STALLED" "${NODE_PID[a]:-}" "${NODE_PID[b]:-}" "$REDIS"; do
    [ -z "$pid" ] || { kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null || true; }
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_redis
start_node a 8201 # migrates the fresh database before B starts
start_node b 8202

# The client to be stalled: a few hundred idle sockets on node A, held for the whole run.
target/release/talktime-load --server 127.0.0.1:8201 --database-url "$APP_URL" --server-pid "${NODE_PID[a]}" \
  --only idle --idle 300 --hold-idle-secs "$((SECONDS_TOTAL + 120))" >"$OUT/stalled-client.log" 2>&1 &
STALLED=$!

log "soak: ${SECONDS_TOTAL} s, a fault every ${FAULT_EVERY} s"
target/release/talktime-load --server 127.0.0.1:8201 --server-pid "${NODE_PID[a]}" --database-url "$APP_URL" \
  --also-server 127.0.0.1:8202 --also-server-pid-file "$OUT/node-b.pid" --only soak \
  --soak-seconds "$SECONDS_TOTAL" --json target/soak.json "$@" >"$OUT/load.log" 2>&1 &
TOOL=$!

faults=(redis postgres node client)
started=$(date +%s)
n=0
while kill -0 "$TOOL" 2>/dev/null && [ $(($(date +%s) - started + FAULT_EVERY)) -lt "$SECONDS_TOTAL" ]; do
  sleep "$FAULT_EVERY"
  kind=${faults[$((n % 4))]}
  n=$((n + 1))
  case $kind in
    redis)
      log "fault: Redis stopped"
      kill "$REDIS"; wait "$REDIS" 2>/dev/null || true
      sleep 2
      start_redis
      log "fault: Redis back" ;;
    postgres)
      log "fault: PostgreSQL restarting"
      restart_postgres
      log "fault: PostgreSQL back" ;;
    node)
      log "fault: node B killed (SIGKILL)"
      kill -KILL "${NODE_PID[b]}"; wait "${NODE_PID[b]}" 2>/dev/null || true
      sleep 5
      start_node b 8202
      log "fault: node B started again (pid ${NODE_PID[b]})" ;;
    client)
      log "fault: client stalled (SIGSTOP, ${STALL_SECS} s)"
      kill -STOP "$STALLED"
      sleep "$STALL_SECS"
      kill -CONT "$STALLED"
      log "fault: client continued" ;;
  esac
done
status=0
wait "$TOOL" || status=$?
TOOL=
grep -Ev '^  \.\. [0-9:]* (call|chat) ' "$OUT/load.log" || true
log "soak: done (talktime-load exit ${status}; every unbilled call with its time in $OUT/load.log)"
exit "$status"
