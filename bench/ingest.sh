#!/usr/bin/env bash
# Ingest throughput: a release hud-server on a fresh SQLite file, fed realistic gzip batches over
# loopback by bench/ingest_load (N keep-alive connections). Goal: >= 100k invocation rows/s.
# Knobs: INGEST_CONNECTIONS (4), INGEST_BATCHES (600), INGEST_ROWS (1000 rows per batch).
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
"$BUILD_DIR/server/hud-server" --db "$tmp/hud.db" --listen 127.0.0.1:0 --threads 2 >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/out")
[ -n "$port" ] || { echo "ingest bench: server did not start" >&2; cat "$tmp/err" >&2; exit 1; }
"$BUILD_DIR/bench/ingest_load" --port "$port" --key "$key" --connections "${INGEST_CONNECTIONS:-4}" \
  --batches "${INGEST_BATCHES:-600}" --rows "${INGEST_ROWS:-1000}"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "ingest: database $(du -h "$tmp/hud.db" | cut -f1), $(sqlite3 "$tmp/hud.db" 'SELECT COUNT(*) FROM calls' 2>/dev/null || echo '?') call rows, $(sqlite3 "$tmp/hud.db" 'SELECT COUNT(*) FROM journal' 2>/dev/null || echo '?') journaled batches left after SIGTERM (0: all folded)"
