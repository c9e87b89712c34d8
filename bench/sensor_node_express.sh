#!/usr/bin/env bash
# Node sensor: instructions per request of an Express app, plain against the sensor (callgrind,
# in-process client, fixed request counts), with a 95% interval on the ratio. Run by
# scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_express: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_express_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-express" "$@"
