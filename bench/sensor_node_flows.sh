#!/usr/bin/env bash
# Node sensor flows: what following a request's flow through async work costs per request
# (candidates side by side), and an Express app under autocannon, plain vs the sensor, with a
# 95% interval on the throughput change (goal: within 3%). Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_flows: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_flows_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-flows" "$@"
