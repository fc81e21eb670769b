#!/usr/bin/env bash
# Formatting, clippy with warnings as errors, and the domain crate's no-I/O rule.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

# The domain crate is pure: no database, HTTP, async runtime or Redis in its dependency tree.
forbidden='^(sqlx|sqlx-core|actix-web|actix-ws|actix-rt|tokio|reqwest|redis|deadpool-redis|hyper|mio) '
if cargo tree -p talktime-domain -e normal --prefix none | grep -E "$forbidden"; then
  echo "talktime-domain depends on an I/O crate (above)" >&2
  exit 1
fi
echo "lint: ok"
