#!/usr/bin/env bash
# Node sensor: the CPU an Express app spends in the sensor's own code at full speed, per
# request, from `perf record` profiles of plain and instrumented apps under autocannon, as a
# share of plain's CPU per request (a figure the machine's load and steal do not move as they
# move throughput). Needs perf (skipped without it). Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_attrib: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
if ! perf record -e cpu-clock -o /dev/null -q true >/dev/null 2>&1; then
  echo "sensor_node_attrib: skipped (perf cannot record here)"
  exit 0
fi
exec node "$HERE/sensor_node_attrib_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-attrib" "$@"
