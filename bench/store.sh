#!/usr/bin/env bash
# Store ingest cost per invocation row, in-process (bench/store_ingest: batchgen batches straight into
# srv_store_ingest, no HTTP, no JSON). Target: <= ~4-5 us of CPU per row, so that decoding, HTTP and
# the store together reach bench/ingest.sh's 100k rows/s on 2 cores.
# Knobs: STORE_BATCHES (600), STORE_ROWS (1000), STORE_THREADS (2).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
"$BUILD_DIR/bench/store_ingest" --batches "${STORE_BATCHES:-600}" --rows "${STORE_ROWS:-1000}" \
  --threads "${STORE_THREADS:-2}"
