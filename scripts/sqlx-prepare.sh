#!/usr/bin/env bash
# Compile-time-checked SQL: refreshes the offline query data in .sqlx/ from a scratch database
# migrated from migrations/ (`--check`: only verifies it is current, as CI does). The build
# itself never needs a database: without DATABASE_URL the query macros read .sqlx/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/dev-db.sh
scripts/dev-sqlx.sh
export PATH="$PWD/target/tools/sqlx-cli/bin:$PATH"
server="${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export DATABASE_URL="${server%/*}/talktime_sqlx_prepare"

sqlx database drop -y >/dev/null 2>&1 || true
sqlx database create
sqlx migrate run --source migrations >/dev/null
# Every target and feature, so the test-only queries are described too.
cargo sqlx prepare --workspace "$@" -- --all-targets --all-features
sqlx database drop -y >/dev/null
