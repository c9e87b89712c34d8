#!/usr/bin/env bash
# Node sensor: the Express app's CPU per request under the sensor and its parts (no timing, flows
# only, imported but disabled) against plain, with every app driven at the same time on one CPU,
# so that all of them see the same moments of the machine. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_sidebyside: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_sidebyside_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-sidebyside" "$@"
