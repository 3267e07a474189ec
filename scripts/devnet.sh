#!/usr/bin/env bash
# Builds peerchain and starts a local network on this machine, three nodes by default:
#
#   node   HTTP API                P2P (WebSocket and TCP on one port)
#   A      http://127.0.0.1:3001   127.0.0.1:6001        the seed
#   B      http://127.0.0.1:3002   127.0.0.1:6002        told only of A
#   C      http://127.0.0.1:3003   127.0.0.1:6003        told only of A
#   ...    (up to 26 nodes with --nodes N)
#
# Every node but A is told only of A; they find each other through A's gossip and dial
# each other by themselves (GET /peers, GET /peers/known). Data lives in ./devnet/<node>,
# logs in ./devnet/<node>.log. Ctrl-C stops them all.
# Usage: scripts/devnet.sh [--network dev|regtest] [--nodes N] [--fresh]
set -euo pipefail
cd "$(dirname "$0")/.."

network=dev
fresh=0
nodes=3
while [ $# -gt 0 ]; do
    case "$1" in
        --network) network=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --fresh) fresh=1; shift ;;
        *) echo "usage: $0 [--network dev|regtest] [--nodes N] [--fresh]" >&2; exit 2 ;;
    esac
done
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || [ "$nodes" -lt 1 ] || [ "$nodes" -gt 26 ]; then
    echo "--nodes: 1 to 26" >&2
    exit 2
fi

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target peerchain
bin=build/src/app/peerchain

[ "$fresh" = 1 ] && rm -rf devnet
mkdir -p devnet
pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping the network..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait || true
}
trap stop_all INT TERM EXIT

start() {  # name http p2p peers
    local name=$1 http=$2 p2p=$3 peers=$4
    "$bin" node --network "$network" --data-dir "devnet/$name" --http-port "$http" \
        --p2p-port "$p2p" --p2p-bind 127.0.0.1 --miner-threads 1 ${peers:+--peers "$peers"} \
        >>"devnet/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$http/status" >/dev/null 2>&1 && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || { echo "node $name failed:"; tail "devnet/$name.log"; exit 1; }
        sleep 0.1
    done
    echo "node $name did not come up; see devnet/$name.log"
    exit 1
}

names=(A B C D E F G H I J K L M N O P Q R S T U V W X Y Z)
start A 3001 6001 ""
for i in $(seq 2 "$nodes"); do
    start "${names[$((i - 1))]}" $((3000 + i)) $((6000 + i)) ws://127.0.0.1:6001
done

cat <<MSG
$nodes $network nodes are running (logs in devnet/). Each was told only of A; within
seconds they know and dial each other:

  curl -s http://127.0.0.1:3002/peers
  curl -s http://127.0.0.1:3002/peers/known

  curl -s -X POST -H 'Content-Type: application/json' -d '{"data": "hello"}' http://127.0.0.1:3001/mineBlock
  curl -s http://127.0.0.1:3003/blocks/latest
  curl -s http://127.0.0.1:3002/peers
  curl -s http://127.0.0.1:3001/status
  $bin wallet balance --network $network --data-dir devnet/A
  $bin wallet send \$($bin wallet address --network $network --data-dir devnet/B) 10 --network $network --data-dir devnet/A
  curl -s http://127.0.0.1:3003/mempool

(Mined coins can be spent after 100 more blocks; on regtest that takes a moment.)

Press Ctrl-C to stop them; their chains stay in ./devnet for the next start.
MSG
wait
