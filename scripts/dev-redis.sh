#!/usr/bin/env bash
# Makes sure a Redis server answers at 127.0.0.1:6379 (the tests of the shared rate limiter need
# one; the API itself only uses Redis when REDIS_URL is set). Starts an installed server that is
# stopped; installs Redis from Debian's packages (as root) when none is installed.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

answers && exit 0
if ! command -v redis-server >/dev/null; then
  echo "dev-redis: installing Redis from Debian's packages" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
echo "dev-redis: starting Redis" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
for _ in $(seq 1 40); do answers && exit 0; sleep 0.25; done
echo "dev-redis: Redis did not come up on 127.0.0.1:6379" >&2
exit 1
