#!/usr/bin/env bash
# hud-lsp latency and memory: codeLens p50/p99 on a 10k-line file warm and right after a one-character
# edit, didOpen -> lenses with hud-server on loopback, initialize -> first answer on a workspace the size
# of the CPython standard library, RSS. Run by `scripts/dev.sh bench` with BUILD_DIR set (release build).
# Goals: codeLens p99 <= 5 ms warm and after an edit; didOpen -> lenses <= 50 ms; first request <= 300 ms.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
ROUNDS=${ROUNDS:-10}
# Debian's /usr/lib/python3.11 (with libpython3.11-testsuite: ~1.6k files), else this python's stdlib.
STDLIB=${STDLIB:-/usr/lib/python3.11}
[ -d "$STDLIB" ] || STDLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
echo "workspace: $STDLIB, $(find "$STDLIB" -name '*.py' | wc -l) .py files"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows wall times)"
HUD_BUILD_DIR=$BUILD_DIR "$BUILD_DIR/bench/lsp_bench" "$STDLIB" "$ROUNDS"
