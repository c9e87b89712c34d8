#!/usr/bin/env bash
# Python sensor start-up: importing SQLAlchemy plain, instrumented with an empty rewrite cache (cold)
# and with a filled one (warm); times, ratios and peak memory. Run by scripts/dev.sh bench.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$HERE/sensor_import_bench.py" --build-dir "$BUILD_DIR" "$@"
