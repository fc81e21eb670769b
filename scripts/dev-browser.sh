#!/usr/bin/env bash
# Makes sure Chromium and ChromeDriver are installed (Debian's `chromium` and `chromium-driver`),
# for the console's browser test. Installs them as root when missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
echo "dev-browser: installing Chromium and ChromeDriver from Debian's packages" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
