#!/usr/bin/env bash
# Refreshes the third-party browser assets the binary embeds (crates/transport/assets/vendor),
# from the npm registry, at the versions pinned here. Run by hand when upgrading; the build never
# downloads anything.
set -euo pipefail
cd "$(dirname "$0")/.."

LIVEKIT_CLIENT=2.23.0
RAPIDOC=9.3.8
out=crates/transport/assets/vendor
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "livekit-client@${LIVEKIT_CLIENT}" "rapidoc@${RAPIDOC}" >/dev/null)
tar xzf "$work/livekit-client-${LIVEKIT_CLIENT}.tgz" -C "$work"
cp "$work/package/dist/livekit-client.umd.js" "$out/livekit-client.umd.js"
cp "$work/package/LICENSE" "$out/livekit-client.LICENSE.txt"
rm -rf "$work/package"
tar xzf "$work/rapidoc-${RAPIDOC}.tgz" -C "$work"
cp "$work/package/dist/rapidoc-min.js" "$out/rapidoc-min.js"
cp "$work/package/dist/rapidoc-min.js.LICENSE.txt" "$out/rapidoc-min.js.LICENSE.txt"
echo "vendored livekit-client ${LIVEKIT_CLIENT} and rapidoc ${RAPIDOC} into ${out}"
