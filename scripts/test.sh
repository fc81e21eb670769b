#!/usr/bin/env bash
# Runs the whole test suite: unit, repository (real Postgres) and black-box (real server) tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
scripts/dev-redis.sh
scripts/dev-browser.sh
scripts/dev-pdf.sh
scripts/dev-fuzz.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"

drop_test_databases() {
  command -v psql >/dev/null || return 0
  psql "$TEST_DATABASE_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'tt\_test\_%'" 2>/dev/null |
    while read -r name; do psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null || true; done
}

drop_test_databases
trap drop_test_databases EXIT
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
