#!/bin/sh
# CTest's test_monaco: copies this package into OUT (the build tree), installs its pinned npm
# dependencies there with `npm ci` (again only when package-lock.json changed), then runs test.mjs.
# usage: run.sh OUT HUD_SERVER_BIN HUD_LSP_BIN
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! command -v npm >/dev/null; then
  echo "test_monaco: skipped: needs ${CHROMIUM:-/usr/bin/chromium} and npm (scripts/dev.sh deps installs them)"
  exit 77
fi
pkg=$out/pkg
mkdir -p "$pkg/page"
cp "$src/package.json" "$src/package-lock.json" "$src"/*.mjs "$pkg/"
cp "$src"/page/* "$pkg/page/"
if ! cmp -s "$pkg/package-lock.json" "$pkg/node_modules/.hud-installed-lock" 2>/dev/null; then
  (cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$pkg/package-lock.json" "$pkg/node_modules/.hud-installed-lock"
fi
HUD_MONACO_OUT=$out HUD_SERVER_BIN=$2 HUD_LSP_BIN=$3 exec node "$pkg/test.mjs"
