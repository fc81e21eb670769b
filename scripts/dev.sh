#!/usr/bin/env bash
# Runs the API locally on http://127.0.0.1:8000 with a local database, demo data and the demo
# telecallers online (`talktime demo`); the console is at http://127.0.0.1:8000/console.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/talktime}"
export BIND_ADDR="${BIND_ADDR:-127.0.0.1:8000}"
# A development server on purpose: without APP_ENV the server runs as production.
export APP_ENV="${APP_ENV:-development}"
# A phone that signs in with a fixed code (others: the code is in this log).
export OTP_TEST_NUMBERS="${OTP_TEST_NUMBERS:-9000000001:123456}"
if command -v psql >/dev/null; then
  psql "${DATABASE_URL%/*}/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'talktime'" | grep -q 1 ||
    psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE talktime"
fi
# Every target, as scripts/test.sh builds them: the same features and profile, so one command
# after the other rebuilds nothing (the binary alone would unify features differently).
cargo build --workspace --all-targets
exec ./target/debug/talktime demo
