#!/usr/bin/env bash
# Python sensor: fib (call-heavy), a json workload and a Flask app under wrk, each uninstrumented,
# under the sensor and under cProfile, in one run; plus the sensor's memory. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$HERE/sensor_bench.py" --build-dir "$BUILD_DIR" "$@"
