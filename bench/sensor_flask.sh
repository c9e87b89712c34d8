#!/usr/bin/env bash
# Python sensor: the CPU a Flask app's server process spends per request, plain against instrumented,
# over many interleaved rounds, with a 95% confidence interval on the ratio. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$HERE/sensor_flask_bench.py" --build-dir "$BUILD_DIR" "$@"
