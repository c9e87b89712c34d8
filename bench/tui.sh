#!/usr/bin/env bash
# hud-tui with a service of 10k functions: start to the first full screen, a refresh's redraw (the fetched
# data decoded -> the screen updated), and RSS. A release hud-server on a fresh SQLite file on loopback is
# fed realistic batches by bench/ingest_load; hud-tui runs under a private tmux server (a real terminal)
# with HUD_TUI_TIMING, and bench/tui_bench.py turns its milestones into p50/p95/max.
# Goals: first full screen <= 200 ms, refresh redraw <= 16 ms. Knobs: TUI_BENCH_ROUNDS (5 runs per case),
# TUI_BENCH_FUNCTIONS (10000). Run by `scripts/dev.sh bench` with BUILD_DIR set (release build).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FUNCTIONS=${TUI_BENCH_FUNCTIONS:-10000}
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
key=$("$BUILD_DIR/server/hud-server" keys create --env bench --role ingest,read --db "$tmp/hud.db" 2>/dev/null)
"$BUILD_DIR/server/hud-server" --db "$tmp/hud.db" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/out")
[ -n "$port" ] || { echo "tui bench: server did not start" >&2; cat "$tmp/err" >&2; exit 1; }
# Each batch declares every function and has one invocation row per function (sketch, callers, flows),
# in its own minute: four minutes of a 10k-function service.
"$BUILD_DIR/bench/ingest_load" --port "$port" --key "$key" --connections 1 --batches 4 --rows "$FUNCTIONS" \
  --functions "$FUNCTIONS" --minutes 4 >/dev/null
# One read with no-cache folds every acknowledged batch into the tables hud-tui's reads see.
curl -sf -o /dev/null -H "Authorization: Bearer $key" -H "Cache-Control: no-cache" \
  "http://127.0.0.1:$port/v1/functions/top?service=shop&limit=1"
echo "tui: hud-server holds $(sqlite3 "$tmp/hud.db" 'SELECT COUNT(*) FROM functions' 2>/dev/null || echo '?') functions"
echo "tui: load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work slows wall times)"
python3 "$HERE/tui_bench.py" --tui "$BUILD_DIR/tui/hud-tui" --url "http://127.0.0.1:$port" --key "$key" \
  --rounds "${TUI_BENCH_ROUNDS:-5}" --tmp "$tmp"
