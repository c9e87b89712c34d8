#!/usr/bin/env bash
# Builds hud.vsix in WORK_DIR from a copy of editors/vscode: `npm ci` (skipped while the lockfile is
# unchanged), the esbuild bundle, and BIN_DIR (hud-lsp, and lib/ when it has one) as bin/linux-x64.
# usage: package.sh SOURCE_DIR WORK_DIR BIN_DIR   -> WORK_DIR/hud.vsix
set -euo pipefail
src=$1 work=$2 bindir=$3
[ -x "$bindir/hud-lsp" ] || { echo "package.sh: no hud-lsp in $bindir" >&2; exit 1; }

mkdir -p "$work"
rm -rf "$work/src" "$work/media" "$work/test" "$work/test-webview" "$work/scripts" "$work/bin" "$work/dist" "$work/out"
(cd "$src" && tar cf - --exclude=./node_modules --exclude=./dist --exclude=./out --exclude=./bin --exclude='*.vsix' .) | (cd "$work" && tar xf -)
cd "$work"
if ! cmp -s package-lock.json node_modules/.hud-lockfile; then
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error
  cp package-lock.json node_modules/.hud-lockfile
fi
mkdir -p bin/linux-x64
cp "$bindir/hud-lsp" bin/linux-x64/hud-lsp
if [ -d "$bindir/lib" ]; then cp -a "$bindir/lib" bin/linux-x64/lib; fi
node scripts/build.mjs bundle
rm -f hud.vsix
node_modules/.bin/vsce package --no-dependencies --skip-license --allow-missing-repository -o hud.vsix >vsce.log 2>&1 ||
  { cat vsce.log >&2; exit 1; }
