#!/usr/bin/env bash
# The two store engines side by side: the same generated store (query_bench gen: ROWS invocation
# rows, 1000 functions, batches of 50k rows written in-process through srv_store_ingest) into a
# SQLite file and into a ClickHouse database, then the query API's latency (query_bench measure:
# p50/p95 per query over HTTP) against a hud-server on each.
#   bench/store_engines.sh [ROWS]    ROWS (or STORE_BENCH_ROWS): default 1M (about 3 minutes on two
#                                    cores); 10000000 for the 10M-row comparison (about half an hour).
#   STORE_BENCH_REQUESTS: requests per query (default 20). STORE_BENCH_ENGINES: "sqlite clickhouse" (default),
#   or one of them (a second run of one engine after a change).
# Ingest rows/s is over the whole run including the store's close (SQLite folds its write-behind
# journal there). ClickHouse: Debian's clickhouse-server started here on free loopback ports with its
# data in a temporary directory, stopped by pid at the end.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
ROWS=${1:-${STORE_BENCH_ROWS:-1000000}}
N=${STORE_BENCH_REQUESTS:-20}
ENGINES=${STORE_BENCH_ENGINES:-sqlite clickhouse}
CH_SERVER=${CH_SERVER:-/usr/sbin/clickhouse-server}
. "$(dirname "${BASH_SOURCE[0]}")/lib/clickhouse.sh"
DIR=$(mktemp -d /tmp/hud-store-bench-XXXXXX)
CH_PID=""
SRV_PID=""
cleanup() {
  [ -n "$SRV_PID" ] && kill -TERM "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null || true
  [ -n "$CH_PID" ] && kill -TERM "$CH_PID" 2>/dev/null && wait "$CH_PID" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_clickhouse() {
  local http tcp
  http=$(free_port)
  tcp=$(free_port)
  CH_STARTED_PID=""
  ch_start "$DIR/ch" "$http" "$tcp" || { CH_PID=$CH_STARTED_PID; exit 1; }
  CH_PID=$CH_STARTED_PID
  CH_URL="clickhouse://127.0.0.1:$http/hud_bench"
}

# bench ENGINE LOCATION: generate, then measure.
bench() {
  local engine=$1 loc=$2 log="$DIR/$1.server.log" t0 t1 port=""
  echo "== $engine ($loc)"
  t0=$(date +%s%N)
  "$BUILD_DIR/bench/query_bench" gen --db "$loc" --rows "$ROWS" 2>/dev/null
  t1=$(date +%s%N)
  echo "$engine: ingest $ROWS rows in $(( (t1 - t0) / 1000000 )) ms including close:" \
    "$(( ROWS * 1000000000 / (t1 - t0) )) rows/s" | tee "$DIR/$engine.ingest"
  local key
  key=$("$BUILD_DIR/server/hud-server" keys create --env prod --role read --label store-bench --db "$loc" 2>/dev/null | head -1)
  "$BUILD_DIR/server/hud-server" --store "$loc" --listen 127.0.0.1:0 >"$log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 9000); do # startup maintenance may take minutes at 10M rows
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "store bench: hud-server did not start:"; cat "$log"; exit 1; }
  echo "$engine: hud-server listening after $(( ($(date +%s%N) - t1) / 1000000 )) ms (startup maintenance included)"
  local at=$(( t0 / 1000000000 / 60 * 60 )) # where gen's data ends (its clock at the start, in minutes)
  "$BUILD_DIR/bench/query_bench" measure --port "$port" --key "$key" --n "$N" --at "$at" | tee "$DIR/$engine.txt"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

case " $ENGINES " in *" sqlite "*) bench sqlite "$DIR/store.db" ;; esac
case " $ENGINES " in *" clickhouse "*) ;; *) exit 0 ;; esac
[ -x "$CH_SERVER" ] || { echo "store bench: $CH_SERVER not installed: ClickHouse skipped"; exit 0; }
start_clickhouse
bench clickhouse "$CH_URL"
case " $ENGINES " in *" sqlite "*) ;; *) exit 0 ;; esac
echo
echo "ingest side by side ($ROWS rows):"
cat "$DIR/sqlite.ingest" "$DIR/clickhouse.ingest"
echo "p95 side by side ($ROWS rows; ms):"
printf '%-52s %10s %10s\n' query sqlite clickhouse
paste -d'\t' <(sed -n 's/^\(.*\)  *p50 .* p95 *\([0-9.]*\) ms.*/\1\t\2/p' "$DIR/sqlite.txt") \
  <(sed -n 's/^.* p95 *\([0-9.]*\) ms.*/\1/p' "$DIR/clickhouse.txt") |
  awk -F'\t' '{ sub(/ +$/, "", $1); printf "%-52s %10s %10s\n", $1, $2, $3 }'
