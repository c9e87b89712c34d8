#!/usr/bin/env bash
# Node sensor against plain Node, `node --cpu-prof` and OpenTelemetry's auto-instrumentation,
# side by side in one run: a call-heavy microbenchmark and an Express app under autocannon, each
# ratio with a 95% interval (goals: <= 1.5x call-heavy, <= 3% Express throughput). The npm
# packages (pinned, bench/node/package-lock.json) are installed into the build tree.
# Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG="$BUILD_DIR/sensor/node/hud-sensor"
if [ ! -f "$PKG/hud_sensor.node" ]; then
  echo "sensor_node_compare: $PKG/hud_sensor.node not built (node headers missing?)"
  exit 0
fi
exec node "$HERE/sensor_node_compare_bench.mjs" "$PKG" "$BUILD_DIR/bench-sensor-node-compare" "$@"
