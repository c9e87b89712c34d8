#!/usr/bin/env bash
# The ClickHouse store as a two-shard cluster beside one ClickHouse, in one run: three Debian
# clickhouse-servers on free loopback ports (data in a temporary directory, stopped by pid at the end):
# one alone, two forming cluster "hudbench" (one shard each, docs/deploy.md).
#   1. Generated store (query_bench gen, STORE_BENCH_ROWS invocation rows, default 1M, 1000 functions,
#      batches of 50k rows through srv_store_ingest in-process, as a node stores a decoded batch): one
#      process into the single ClickHouse, then two processes at once (--part 0/2 and 1/2, the same
#      data between them), one per shard, as two nodes write. Rows/s over the wall time.
#   2. Ingest over HTTP through hud-server (bench/ingest_load, gzip JSON batches of 1000 rows):
#      CLUSTER_BENCH_BATCHES batches (default 300) over 4 connections into one hud-server on the
#      single ClickHouse, then half of them over 2 connections into each of two hud-server nodes (one
#      per shard) at the same time. Rows/s over the slower load's time.
#   3. The query API's latency (query_bench measure: p50/p95 per query over HTTP, STORE_BENCH_REQUESTS
#      per query) on the store of 1 through a hud-server on the single ClickHouse and through one
#      cluster node (its reads go through the Distributed tables to both shards).
# The helpers are this script's own: bench/store_engines.sh runs its benchmark when sourced.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
ROWS=${STORE_BENCH_ROWS:-1000000}
N=${STORE_BENCH_REQUESTS:-20}
HTTP_BATCHES=${CLUSTER_BENCH_BATCHES:-300}
CH_SERVER=${CH_SERVER:-/usr/sbin/clickhouse-server}
. "$(dirname "${BASH_SOURCE[0]}")/lib/clickhouse.sh"
SERVER="$BUILD_DIR/server/hud-server"
[ -x "$CH_SERVER" ] || { echo "store cluster bench: $CH_SERVER not installed: skipped"; exit 0; }
DIR=$(mktemp -d /tmp/hud-cluster-bench-XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# start_clickhouse NAME HTTP TCP EXTRA_XML: a clickhouse-server in $DIR/NAME; waits until it answers.
start_clickhouse() {
  ch_start "$DIR/$1" "$2" "$3" "$4" || exit 1
  PIDS+=("$CH_STARTED_PID")
}

# start_node LOCATION LOGNAME: a hud-server on LOCATION; sets NODE_PID and NODE_PORT.
start_node() {
  local log="$DIR/$2.log"
  "$SERVER" --store "$1" --listen 127.0.0.1:0 >"$log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  NODE_PORT=""
  for _ in $(seq 300); do
    NODE_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1 || true)
    [ -n "$NODE_PORT" ] && return 0
    sleep 0.1
  done
  echo "store cluster bench: hud-server on $1 did not start:"
  cat "$log"
  exit 1
}

stop_node() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

key_for() { "$SERVER" keys create --env prod --role "$2" --label cluster-bench --db "$1" 2>/dev/null | head -1; }

# Shard tables: each node creates its shard's (ClickHouse 18.16 has no distributed DDL without
# ZooKeeper); the first one's listing fails while the other shard has none yet.
shard_tables() { "$SERVER" keys list --db "$1" >/dev/null 2>&1 || true; "$SERVER" keys list --db "$2" >/dev/null; }

# "ingest: R invocation rows/s (B batches/s, T s)" lines: total rows over the slowest time.
rows_per_s() {
  awk '/invocation rows\/s/ { r = $2; t = $(NF - 1); gsub(/[()]/, "", t); rows += r * t; if (t > max) max = t }
       END { if (max > 0) printf "%.0f", rows / max; else print "?" }' "$@"
}

single_http=$(free_port); single_tcp=$(free_port)
c1_http=$(free_port); c1_tcp=$(free_port); c2_http=$(free_port); c2_tcp=$(free_port)
remote="<remote_servers><hudbench><shard><replica><host>127.0.0.1</host><port>$c1_tcp</port></replica></shard><shard><replica><host>127.0.0.1</host><port>$c2_tcp</port></replica></shard></hudbench></remote_servers>"
start_clickhouse single "$single_http" "$single_tcp" ""
start_clickhouse shard1 "$c1_http" "$c1_tcp" "$remote"
start_clickhouse shard2 "$c2_http" "$c2_tcp" "$remote"
SINGLE="clickhouse://127.0.0.1:$single_http"
C1="clickhouse://127.0.0.1:$c1_http"
C2="clickhouse://127.0.0.1:$c2_http"
CL="?cluster=hudbench"
AT=$(( $(date +%s) / 60 * 60 ))

echo "== 1. generated store, $ROWS rows, in-process"
t0=$(ms)
"$BUILD_DIR/bench/query_bench" gen --db "$SINGLE/hud_bench" --rows "$ROWS" --now "$AT" >/dev/null 2>"$DIR/gen0.err" ||
  { cat "$DIR/gen0.err"; exit 1; }
t1=$(ms)
gen_single=$(( ROWS * 1000 / (t1 - t0) ))
echo "single ClickHouse: $ROWS rows in $((t1 - t0)) ms: $gen_single rows/s"
shard_tables "$C1/hud_bench$CL" "$C2/hud_bench$CL"
t0=$(ms)
"$BUILD_DIR/bench/query_bench" gen --db "$C1/hud_bench$CL" --rows "$ROWS" --now "$AT" --part 0/2 >/dev/null 2>"$DIR/gen1.err" &
g1=$!
"$BUILD_DIR/bench/query_bench" gen --db "$C2/hud_bench$CL" --rows "$ROWS" --now "$AT" --part 1/2 >/dev/null 2>"$DIR/gen2.err" &
g2=$!
wait "$g1" || { cat "$DIR/gen1.err"; exit 1; }
wait "$g2" || { cat "$DIR/gen2.err"; exit 1; }
t1=$(ms)
gen_cluster=$(( ROWS * 1000 / (t1 - t0) ))
echo "two shards, two writers at once: $ROWS rows in $((t1 - t0)) ms: $gen_cluster rows/s"
for u in "$C1" "$C2"; do
  echo "  shard ${u##*:}: $(curl -s "http://${u#clickhouse://}/" --data-binary "SELECT sum(rows) FROM hud_bench.batches_local") rows"
done

echo "== 2. ingest over HTTP through hud-server, $HTTP_BATCHES batches of 1000 rows"
LOAD=("$BUILD_DIR/bench/ingest_load" --rows 1000 --distinct 20 --resend 0)
start_node "$SINGLE/hud_http" http-single
key=$(key_for "$SINGLE/hud_http" ingest)
"${LOAD[@]}" --port "$NODE_PORT" --key "$key" --connections 4 --batches "$HTTP_BATCHES" --tag single- \
  >"$DIR/load0.txt" 2>"$DIR/load0.err" || { cat "$DIR/load0.err"; exit 1; }
stop_node "$NODE_PID"
http_single=$(rows_per_s "$DIR/load0.txt")
sed 's/^/  /' "$DIR/load0.txt"
echo "one node, single ClickHouse: $http_single rows/s"
start_node "$C1/hud_http$CL" http-node1
p1=$NODE_PID port1=$NODE_PORT
start_node "$C2/hud_http$CL" http-node2
p2=$NODE_PID port2=$NODE_PORT
key=$(key_for "$C1/hud_http$CL" ingest)
"${LOAD[@]}" --port "$port1" --key "$key" --connections 2 --batches $((HTTP_BATCHES / 2)) --tag node1- \
  >"$DIR/load1.txt" 2>"$DIR/load1.err" &
l1=$!
"${LOAD[@]}" --port "$port2" --key "$key" --connections 2 --batches $((HTTP_BATCHES / 2)) --tag node2- \
  >"$DIR/load2.txt" 2>"$DIR/load2.err" &
l2=$!
wait "$l1" || { cat "$DIR/load1.err"; exit 1; }
wait "$l2" || { cat "$DIR/load2.err"; exit 1; }
stop_node "$p1"
stop_node "$p2"
http_cluster=$(rows_per_s "$DIR/load1.txt" "$DIR/load2.txt")
sed 's/^/  node 1: /' "$DIR/load1.txt"
sed 's/^/  node 2: /' "$DIR/load2.txt"
echo "two nodes, two shards, at once: $http_cluster rows/s"

echo "== 3. queries ($N per query) on the store of 1"
start_node "$SINGLE/hud_bench" query-single
key=$(key_for "$SINGLE/hud_bench" read)
"$BUILD_DIR/bench/query_bench" measure --port "$NODE_PORT" --key "$key" --n "$N" --at "$AT" | tee "$DIR/q_single.txt"
stop_node "$NODE_PID"
start_node "$C1/hud_bench$CL" query-node1
key=$(key_for "$C1/hud_bench$CL" read)
"$BUILD_DIR/bench/query_bench" measure --port "$NODE_PORT" --key "$key" --n "$N" --at "$AT" | tee "$DIR/q_cluster.txt"
stop_node "$NODE_PID"

echo
echo "ClickHouse, one server vs a two-shard cluster ($ROWS rows):"
printf '%-58s %12s %12s\n' "ingest (rows/s)" single cluster
printf '%-58s %12s %12s\n' "  in-process, 1 vs 2 writers" "$gen_single" "$gen_cluster"
printf '%-58s %12s %12s\n' "  HTTP through hud-server, 1 vs 2 nodes" "$http_single" "$http_cluster"
printf '%-58s %12s %12s\n' "query p95 (ms)" single cluster
paste -d'\t' <(sed -n 's/^\(.*\)  *p50 .* p95 *\([0-9.]*\) ms.*/\1\t\2/p' "$DIR/q_single.txt") \
  <(sed -n 's/^.* p95 *\([0-9.]*\) ms.*/\1/p' "$DIR/q_cluster.txt") |
  awk -F'\t' '{ sub(/ +$/, "", $1); printf "  %-56s %12s %12s\n", $1, $2, $3 }'
