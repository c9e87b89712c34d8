#!/usr/bin/env bash
# Query API latency (p50/p95) over HTTP with a store of QUERY_BENCH_ROWS invocation rows (default 10M),
# filled in-process through the store (not via HTTP). The store is kept in $BUILD_DIR/bench-query/ and
# reused by later runs (delete it to regenerate). Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
ROWS=${QUERY_BENCH_ROWS:-10000000}
DIR="$BUILD_DIR/bench-query"
DB="$DIR/store-$ROWS.db"
mkdir -p "$DIR"
if [ ! -f "$DB.done" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  "$BUILD_DIR/bench/query_bench" gen --db "$DB" --rows "$ROWS"
  touch "$DB.done"
fi
KEY=$("$BUILD_DIR/server/hud-server" keys create --env prod --role read --label query-bench --db "$DB" 2>/dev/null | head -1)
LOG="$DIR/server.log"
"$BUILD_DIR/server/hud-server" --db "$DB" --listen 127.0.0.1:0 >"$LOG" 2>&1 &
PID=$!
trap 'kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true' EXIT
PORT=""
T0=$(date +%s%N)
# The first start on a store builds its hourly pre-aggregates (fn_hours, call_hours) before listening.
for _ in $(seq 3000); do
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "query bench: hud-server did not start:"; cat "$LOG"; exit 1; }
echo "hud-server listening after $(( ($(date +%s%N) - T0) / 1000000 )) ms"
echo "query latency with $ROWS stored invocation rows (target: top-N and per-file p95 <= 50 ms):"
# Windows end where the generated data ends (a store made yesterday is still measured over its data).
AT=$(cat "$DB.at" 2>/dev/null || stat -c %Y "$DB.done")
"$BUILD_DIR/bench/query_bench" measure --port "$PORT" --key "$KEY" --n "${QUERY_BENCH_REQUESTS:-40}" --at "$AT"
