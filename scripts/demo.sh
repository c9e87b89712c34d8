#!/usr/bin/env bash
# The demo on the embedded default store: hud-server on a fresh SQLite file, the example shop (Flask)
# running under the Python sensor in two releases, real HTTP traffic, then what the query API and
# hud-index say, and hud-tui: on a terminal the demo ends inside it (Issues view; q ends the demo), else
# it prints its views once. Called by `scripts/dev.sh demo` with BUILD_DIR set to the release build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
DEMO_DIR=${DEMO_DIR:-$BUILD_DIR/demo}
REQUESTS=${DEMO_REQUESTS:-400}
PY=/usr/bin/python3 # Debian's interpreter: it sees python3-flask.

say() { printf '\n== %s\n' "$*"; }

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
SERVER="$BUILD_DIR/server/hud-server"
DB="$DEMO_DIR/hud.db"

module_dir=$(awk -v py="$(readlink -f $PY)" '$2 == py {print $3}' "$BUILD_DIR/sensor/python/interpreters.txt" | head -n1)
if [ -z "$module_dir" ]; then
  echo "demo: the sensor was not built for $PY (see $BUILD_DIR/sensor/python/interpreters.txt)" >&2
  exit 1
fi

say "hud-server on $DB"
# Least privilege: the sensor's key may only send batches, the queries' key may only read.
new_key() { # role label
  "$SERVER" keys create --env demo --role "$1" --label "$2" --db "$DB" | grep -Eo 'hud_[A-Za-z0-9_-]+' | head -n1
}
INGEST_KEY=$(new_key ingest shop-sensor)
READ_KEY=$(new_key read demo-queries)
[ -n "$INGEST_KEY" ] && [ -n "$READ_KEY" ] || { echo "demo: could not create the API keys" >&2; exit 1; }
"$SERVER" serve --db "$DB" --listen 127.0.0.1:0 >"$DEMO_DIR/server.log" 2>&1 &
SERVER_PID=$!
APP_PID=
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$DEMO_DIR/server.log" && break
  sleep 0.05
done
ADDR=$(grep -Eo 'listening on [0-9.:]+' "$DEMO_DIR/server.log" | awk '{print $3}')
[ -n "$ADDR" ] || { cat "$DEMO_DIR/server.log" >&2; exit 1; }
URL="http://$ADDR"
echo "listening on $URL; API keys for env 'demo': one with the ingest role (sensor), one with the read role (queries)"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_release() { # release-number source-dir
  local release=$1 port
  port=$(free_port)
  say "shop release v$release under the sensor ($REQUESTS requests per endpoint)"
  (cd "$2" &&
    HUD_ENABLE=1 HUD_KEY=$INGEST_KEY HUD_URL=$URL HUD_SERVICE=shop HUD_VERSION=v$release \
      PYTHONPATH="$ROOT/sensor/python:$module_dir" exec $PY -m hud_sensor run app.py --port "$port") \
    >"$DEMO_DIR/shop-v$release.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 200); do
    grep -q 'shop listening' "$DEMO_DIR/shop-v$release.log" && break
    sleep 0.05
  done
  grep '^hud:' "$DEMO_DIR/shop-v$release.log" | head -n 2
  $PY "$ROOT/scripts/demo_report.py" load --url "http://127.0.0.1:$port" --requests "$REQUESTS"
  kill -TERM "$APP_PID"
  wait "$APP_PID" || true
  APP_PID=
  grep '^hud:' "$DEMO_DIR/shop-v$release.log" | tail -n +3 || true
}

# v2 ships a slower discount rule: a copy of the shop whose apply_discounts looks the coupon rules up on
# every request (a real code change: hud sees the function's source hash change).
V2="$DEMO_DIR/shop-v2"
cp -r "$ROOT/examples/shop" "$V2"
find "$V2" -name __pycache__ -prune -exec rm -rf {} +
$PY - "$V2/shop/pricing.py" <<'EOF'
import sys
path = sys.argv[1]
src = open(path).read()
head = "def apply_discounts(total, coupon):\n"
assert head in src, "apply_discounts not found in " + path
# One line, so that every function keeps its first line (the editor's copy is v1).
src = src.replace(head, head + "    __import__('time').sleep(0.004)  # v2: the coupon rules, looked up per request\n")
open(path, "w").write(src)
EOF

run_release 1 "$ROOT/examples/shop"
run_release 2 "$V2"

say "what hud-server knows"
$PY "$ROOT/scripts/demo_report.py" report --url "$URL" --key "$READ_KEY" --service shop

say "the editor's view: functions hud-index finds in the source, with their production figures"
"$BUILD_DIR/index/hud-index" --root "$ROOT/examples/shop" "$ROOT/examples/shop" |
  $PY "$ROOT/scripts/demo_report.py" editor --url "$URL" --key "$READ_KEY" --service shop

# The same data in hud-tui. On a terminal the demo ends inside it, on the Issues view (q quits, which ends the
# demo and stops the servers); otherwise it prints the views once.
TUI=("$BUILD_DIR/tui/hud-tui" --url "$URL" --key "$READ_KEY" --service shop --env demo)
if [ -t 0 ] && [ -t 1 ]; then
  say "done: data in $DB (hud-server serve --db $DB to look again); hud-tui now (Enter: root cause, q: quit)"
  sleep 2
  "${TUI[@]}" --view issues
  exit
fi
for view in functions flows issues; do
  say "hud-tui --once --view $view"
  "${TUI[@]}" --once --view "$view"
done
ROOT_ID=$("${TUI[@]}" --once --view issues --json | $PY -c '
import json, sys
causes = [rc for it in json.load(sys.stdin)["issues"] for rc in it.get("root_causes") or []]
print(causes[0]["function_id"] if causes else "")')
if [ -n "$ROOT_ID" ]; then
  say "hud-tui --once --view detail --function $ROOT_ID (the first root cause)"
  "${TUI[@]}" --once --view detail --function "$ROOT_ID"
fi

say "done: data in $DB (hud-server serve --db $DB to look again)"
