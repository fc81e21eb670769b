#!/usr/bin/env bash
# Makes sure schemathesis (the OpenAPI fuzzer the generated-input test runs) is installed in a
# local virtualenv at target/tools/schemathesis. Installs Python 3 and venv as root when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV=target/tools/schemathesis
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x "$VENV/bin/st" ] && "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "dev-fuzz: installing Python 3 and venv from Debian's packages" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
echo "dev-fuzz: installing schemathesis $VERSION into $VENV" >&2
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
