#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at 127.0.0.1:5432 with user postgres / password postgres.
# Starts an installed cluster that is stopped; installs PostgreSQL from Debian's packages (as root)
# when none is installed. Does nothing when a server already answers.
set -euo pipefail

HOST=127.0.0.1
PORT=5432
URL="postgres://postgres:postgres@${HOST}:${PORT}/postgres"

answers() { (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

start_cluster() {
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$version" ] || return 1
  echo "dev-db: starting PostgreSQL ${version}" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || as_root pg_ctlcluster "$version" main start
}

if ! answers; then
  if ! start_cluster; then
    echo "dev-db: installing PostgreSQL from Debian's packages" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    start_cluster
  fi
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { echo "dev-db: PostgreSQL did not come up on ${HOST}:${PORT}" >&2; exit 1; }
fi

# A fresh Debian install only knows peer auth for postgres: give it the password the defaults use.
if command -v psql >/dev/null && ! psql "$URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "dev-db: setting the postgres user's password for local TCP logins" >&2
  # From / : the postgres user cannot read root's home, and psql would say so.
  (cd / && as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null)
fi
