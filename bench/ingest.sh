#!/usr/bin/env bash
# Ingest throughput: a release hud-server on a fresh SQLite file, fed realistic gzip batches over
# loopback by bench/ingest_load (N keep-alive connections). Goal: >= 100k invocation rows/s.
# Knobs: INGEST_CONNECTIONS (4), INGEST_BATCHES (600), INGEST_ROWS (1000 rows per batch),
# INGEST_FOLD_MEMORY (MB, 256), INGEST_THREADS (server --threads, 2), INGEST_DISTINCT (batches generated,
# the others reuse their records under their own ids; 0 = all), INGEST_RESEND (5 batches re-sent after
# the load: the cost of a duplicate). Prints the server's peak RSS (VmHWM) and its RSS once idle.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
key=$("$BUILD_DIR/server/hud-server" keys create --env bench --role ingest --db "$tmp/hud.db" 2>/dev/null)
"$BUILD_DIR/server/hud-server" --db "$tmp/hud.db" --listen 127.0.0.1:0 --threads "${INGEST_THREADS:-2}" \
  --fold-memory "${INGEST_FOLD_MEMORY:-256}" >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/out")
[ -n "$port" ] || { echo "ingest bench: server did not start" >&2; cat "$tmp/err" >&2; exit 1; }
"$BUILD_DIR/bench/ingest_load" --port "$port" --key "$key" --connections "${INGEST_CONNECTIONS:-4}" \
  --batches "${INGEST_BATCHES:-600}" --rows "${INGEST_ROWS:-1000}" --distinct "${INGEST_DISTINCT:-0}" \
  --resend "${INGEST_RESEND:-5}"
rss() { awk -v k="$1:" '$1 == k {printf "%.0f MB", $2 / 1024}' "/proc/$server_pid/status"; }
peak=$(rss VmHWM)
sleep 12 # two folds (--fold-every 5s): the accumulators are empty again
echo "ingest: server memory (--fold-memory ${INGEST_FOLD_MEMORY:-256}): peak RSS $peak, idle RSS $(rss VmRSS)"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "ingest: database $(du -h "$tmp/hud.db" | cut -f1), $(sqlite3 "$tmp/hud.db" 'SELECT COUNT(*) FROM calls' 2>/dev/null || echo '?') call rows, $(sqlite3 "$tmp/hud.db" 'SELECT COUNT(*) FROM journal' 2>/dev/null || echo '?') journaled batches left after SIGTERM (0: all folded)"
