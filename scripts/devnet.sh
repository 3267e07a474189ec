#!/usr/bin/env bash
# Builds peerchain (Release) and starts a local network on this machine with
# `peerchain testnet`, three nodes by default:
#
#   node     HTTP API and explorer     P2P (WebSocket and TCP on one port)
#   node-1   http://127.0.0.1:3001/    127.0.0.1:6001        the seed
#   node-2   http://127.0.0.1:3002/    127.0.0.1:6002        told only of node-1
#   node-3   http://127.0.0.1:3003/    127.0.0.1:6003        told only of node-1
#   ...      (up to 64 nodes with --nodes N)
#
# Every node but the first is told only of it; they find each other through its gossip and
# dial each other by themselves (GET /peers, GET /peers/known). A data dir belongs to one
# network, so each network has its own folder: data in ./devnet/<network>/node-K, logs in
# ./devnet/<network>/node-K.log, kept for the next start (--fresh starts from genesis).
# Ctrl-C stops them all. A node that fails to start is reported with the end of its log.
#
# Usage: scripts/devnet.sh [--network dev|regtest] [--nodes N] [--mine] [--fresh]
# Environment: BUILD_DIR (default build-release), HTTP_PORT (the first node's API port,
# default 3001; node K gets HTTP_PORT+K-1), P2P_PORT (likewise, default 6001).
# Packages are installed and CMake configured only when missing; the build is Ninja's,
# which does nothing when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

network=dev
fresh=0
nodes=3
mine=()
usage="usage: $0 [--network dev|regtest] [--nodes N] [--mine] [--fresh]"
while [ $# -gt 0 ]; do
    case "$1" in
        --network) network=${2:?$usage}; shift 2 ;;
        --nodes) nodes=${2:?$usage}; shift 2 ;;
        --mine) mine=(--mine); shift ;;
        --fresh) fresh=1; shift ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
done
case "$network" in dev|regtest) ;; *) echo "--network: dev or regtest" >&2; exit 2 ;; esac
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || [ "$nodes" -lt 1 ] || [ "$nodes" -gt 64 ]; then
    echo "--nodes: 1 to 64" >&2
    exit 2
fi
http_port=${HTTP_PORT:-3001}
p2p_port=${P2P_PORT:-6001}
# The nodes get their settings as flags; these must not reach them from this shell.
unset HTTP_PORT P2P_PORT PEERS DATA_DIR NETWORK MINE MINE_TO

scripts/install-deps.sh
build=${BUILD_DIR:-build-release}
if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DPEERCHAIN_BUILD_TESTS=OFF -DPEERCHAIN_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" -j2 --target peerchain
bin=$build/src/app/peerchain

dir=devnet/$network
[ "$fresh" = 1 ] && rm -rf "$dir"
mkdir -p "$dir"

cat <<MSG
Starting $nodes $network nodes (data and logs in $dir/). Once they are up, try:

  $bin status --data-dir $dir/node-1
  $bin peers --data-dir $dir/node-1
  $bin mine 3 --data-dir $dir/node-1
  $bin block 1 --data-dir $dir/node-1
  $bin events --data-dir $dir/node-1
  $bin wallet balance --data-dir $dir/node-1

(Mined coins can be spent after 100 more blocks; on regtest that takes a moment.)

MSG
exec "$bin" testnet --nodes "$nodes" --network "$network" --dir "$dir" \
    --http-port "$http_port" --p2p-port "$p2p_port" ${mine[@]+"${mine[@]}"}
