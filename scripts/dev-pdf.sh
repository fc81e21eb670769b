#!/usr/bin/env bash
# Makes sure `pdftotext` is installed (Debian's `poppler-utils`), for the test that reads a
# generated PDF invoice. Installs it as root when missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v pdftotext >/dev/null; then
  exit 0
fi
echo "dev-pdf: installing poppler-utils from Debian's packages" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
