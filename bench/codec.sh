#!/usr/bin/env bash
# Batch decoding: us per invocation row (gunzip, streaming decode + validation). Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
exec "$BUILD_DIR/bench/codec_bench"
