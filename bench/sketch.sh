#!/usr/bin/env bash
# Duration sketch: ns per add / merge / quantile and quantile error. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
exec "$BUILD_DIR/bench/sketch_bench"
