#!/usr/bin/env bash
# Node sensor: the Express app's CPU per request in JavaScript alone (served without sockets)
# under the sensor and its parts (flows only, Express wrapped, imported but disabled) against
# plain, every app at the same time on one CPU. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_inproc: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_inproc_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-inproc" "$@"
