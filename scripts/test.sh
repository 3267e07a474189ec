#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: unit tests, then the
# integration and scenario tests that start real peerchain processes on loopback.
# Usage: scripts/test.sh [ctest args...]   (build dir: $BUILD_DIR, default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2 "$@"
