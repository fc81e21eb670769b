#!/usr/bin/env bash
# Makes sure sqlx-cli (which checks that the committed offline query data in .sqlx/ matches the
# queries and the migrations) is installed at target/tools/sqlx-cli, built from crates.io with
# Postgres support only. The first build takes a few minutes; later runs find it.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.9.0
ROOT=target/tools/sqlx-cli
if [ -x "$ROOT/bin/cargo-sqlx" ] && "$ROOT/bin/cargo-sqlx" sqlx --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
echo "dev-sqlx: installing sqlx-cli $VERSION into $ROOT" >&2
cargo install --quiet --locked --root "$ROOT" --version "$VERSION" --no-default-features --features postgres sqlx-cli
