#!/usr/bin/env bash
# Runs the API locally on http://127.0.0.1:8000 with a local database and demo data.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/talktime}"
export BIND_ADDR="${BIND_ADDR:-127.0.0.1:8000}"
if command -v psql >/dev/null; then
  psql "${DATABASE_URL%/*}/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'talktime'" | grep -q 1 ||
    psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE talktime"
fi
cargo build --bin talktime
./target/debug/talktime seed --demo
exec ./target/debug/talktime serve
