#!/usr/bin/env bash
# Installs the Debian 12 packages peerchain builds and tests with. Does nothing when they
# are all present already; otherwise needs root (or sudo).
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config git curl python3
    # The multi-host tests: network namespaces, veth pairs and bridges (ip netns, ip link).
    iproute2
    libboost1.81-dev libboost-json1.81-dev libssl-dev libsecp256k1-dev libleveldb-dev
    libspdlog-dev libfmt-dev libcli11-dev
    # tcmalloc, the node's allocator (docs/ARCHITECTURE.md).
    libgoogle-perftools-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    # The second stage of scripts/test.sh: clang with its sanitizer and libFuzzer runtimes,
    # llvm-symbolizer for readable sanitizer reports, and clang-format.
    clang libclang-rt-14-dev llvm clang-format
    # promtool, which checks the node's /metrics in the integration tests.
    prometheus
    # The browser test of the explorer page (tests/browser): headless Chromium.
    chromium
)
# Node.js and npm for the browser test; a Node.js installed otherwise that brings its own
# npm counts (Debian's npm package would conflict with it).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
