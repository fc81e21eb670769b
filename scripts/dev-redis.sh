#!/usr/bin/env bash
# Makes sure a Redis server answers at 127.0.0.1:6379 (the cluster-mode tests need one; the API
# itself only uses Redis when REDIS_URL is set). Starts an installed server that is
# stopped; installs Redis from Debian's packages (as root) when none is installed.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The cluster tests also start a Redis server of their own (to restart it), so the binary must be
# here even when something already answers on 6379.
if ! command -v redis-server >/dev/null; then
  echo "dev-redis: installing Redis from Debian's packages" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
answers && exit 0
echo "dev-redis: starting Redis" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
for _ in $(seq 1 40); do answers && exit 0; sleep 0.25; done
echo "dev-redis: Redis did not come up on 127.0.0.1:6379" >&2
exit 1
