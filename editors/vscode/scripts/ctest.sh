#!/usr/bin/env bash
# CTest entry test_vscode: the .vsix with the freshly built hud-lsp (scripts/package.sh: a copy of
# editors/vscode in the build tree, `npm ci` skipped while the lockfile is unchanged), then in that copy
# the type check, node tests and the call-graph panel in headless chromium; the .vsix checked with unzip.
# The tests read test/fixtures recorded anew (scripts/record.mjs) from HUD_LSP and HUD_SERVER on 127.0.0.1.
# usage: ctest.sh SOURCE_DIR WORK_DIR HUD_LSP HUD_SERVER
set -euo pipefail
src=$1 work=$2 lsp=$3 server=$4

for tool in node npm unzip; do
  command -v "$tool" >/dev/null || { echo "test_vscode: $tool not found (scripts/dev.sh deps installs it)" >&2; exit 1; }
done
[ -x "${HUD_CHROMIUM:-/usr/bin/chromium}" ] || { echo "test_vscode: ${HUD_CHROMIUM:-/usr/bin/chromium} not found (scripts/dev.sh deps installs chromium)" >&2; exit 1; }
[ -x "$lsp" ] || { echo "test_vscode: no hud-lsp at $lsp" >&2; exit 1; }
[ -x "$server" ] || { echo "test_vscode: no hud-server at $server" >&2; exit 1; }

t0=$(date +%s.%N)
lspdir=$(mktemp -d)
trap 'rm -rf "$lspdir"' EXIT
cp "$lsp" "$lspdir/hud-lsp"
bash "$src/scripts/package.sh" "$src" "$work" "$lspdir" # copies the sources, npm ci, builds hud.vsix
cd "$work"
t1=$(date +%s.%N)
node scripts/build.mjs lib
node_modules/.bin/tsc -p .
# The answers of this build's hud-lsp replace the committed copy (the tests do not depend on the window).
t_r0=$(date +%s.%N)
HUD_RECORD_WS="$work/record-ws" timeout 60 node "$src/scripts/record.mjs" "$server" "$lsp" "$work/test/fixtures"
t_r1=$(date +%s.%N)
node --test test/
rm -rf artifacts
HUD_VSCODE_ARTIFACTS="$work/artifacts" node --test test-webview/
[ -s artifacts/callgraph.png ] || { echo "test_vscode: no screenshot" >&2; exit 1; }

unzip -l hud.vsix >vsix-contents.txt
cat vsix-contents.txt
for f in extension.vsixmanifest extension/package.json extension/readme.md extension/dist/extension.js \
  extension/bin/linux-x64/hud-lsp extension/media/callgraph.js extension/media/callgraph.css extension/media/hud.svg; do
  grep -q " $f\$" vsix-contents.txt || { echo "test_vscode: $f missing from hud.vsix" >&2; exit 1; }
done
if grep -E ' extension/(src|test|test-webview|node_modules|scripts)/' vsix-contents.txt; then
  echo "test_vscode: sources or dependencies packaged" >&2
  exit 1
fi
rm -rf vsix-check && mkdir vsix-check && (cd vsix-check && unzip -q ../hud.vsix)
cmp vsix-check/extension/bin/linux-x64/hud-lsp "$lsp" || { echo "test_vscode: packaged hud-lsp differs from $lsp" >&2; exit 1; }
[ -x vsix-check/extension/bin/linux-x64/hud-lsp ] || { echo "test_vscode: packaged hud-lsp is not executable" >&2; exit 1; }
# The packaged hud-lsp answers initialize as the extension starts it (--stdio, no service: unconfigured).
node -e '
const { spawn } = require("node:child_process");
const frame = (m) => { const b = JSON.stringify(m); return `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`; };
const p = spawn(process.argv[1], ["--stdio"], { env: { PATH: process.env.PATH, HOME: process.env.HOME || "/tmp", HUD_CONFIG: "/dev/null", ASAN_OPTIONS: "detect_leaks=0" } });
let out = "";
p.stdout.on("data", (d) => (out += d));
const kill = setTimeout(() => { p.kill(); console.error("hud-lsp did not answer in 10 s"); process.exit(1); }, 10000);
p.on("exit", (code) => {
  clearTimeout(kill);
  if (code !== 0 || !out.includes("\"codeLensProvider\"")) { console.error(`hud-lsp exit ${code}: ${out.slice(0, 300)}`); process.exit(1); }
});
p.stdin.write(frame({ jsonrpc: "2.0", id: 1, method: "initialize", params: { processId: null, rootUri: null, capabilities: {}, initializationOptions: { window: "1h" } } }));
p.stdin.write(frame({ jsonrpc: "2.0", id: 2, method: "shutdown" }));
p.stdin.end(frame({ jsonrpc: "2.0", method: "exit" }));
' "$work/vsix-check/extension/bin/linux-x64/hud-lsp"
node -e '
const p = require(process.argv[1]);
const need = ["hud.refresh","hud.setApiKey","hud.toggleLenses","hud.showCallGraph","hud.explain","hud.openInTui","hud.copyDeepLink"];
const have = new Set(p.contributes.commands.map((c) => c.command));
const miss = need.filter((c) => !have.has(c));
if (miss.length) throw new Error("commands missing: " + miss);
if (JSON.stringify(p.extensionKind) !== "[\"workspace\"]") throw new Error("extensionKind");
for (const k of ["hud.url","hud.service","hud.env","hud.window","hud.serverPath","hud.caFile","hud.pathMaps","hud.lens.layout"])
  if (!p.contributes.configuration.properties[k]) throw new Error("setting missing: " + k);
if (p.contributes.configuration.properties["hud.key"]) throw new Error("the API key must not be a setting");
' "$work/vsix-check/extension/package.json"
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v r0="$t_r0" -v r1="$t_r1" -v n="$(stat -c %s hud.vsix)" -v png="$work/artifacts/callgraph.png" \
  'BEGIN { printf "test_vscode: npm ci and package %.1f s, recording %.1f s, tests %.1f s; hud.vsix %d bytes; screenshot %s\n", b - a, r1 - r0, c - b, n, png }'
