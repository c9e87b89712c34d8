#!/usr/bin/env bash
# Node sensor: call-heavy overhead (recursive fib,
# plain vs instrumented, interleaved runs) and the rewrite's cost per source size.
# Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node" "$@"
