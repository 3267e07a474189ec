// Node: owns and wires every component of a running peerchain node.
//
//   store (LevelDB) -> Chainstate -> EventBus -> Mempool, PeerManager, Miner, Node, metrics
//                                        `-> tap -> EventFeed ("events" thread) -> EventHub
//   chain executor (one thread: every chain mutation and every peer message)
//   PeerManager <-> ConnMan <-> Transport (WebSocket and TCP, the P2P I/O threads)
//   Miner (its own threads) -> BlockSink -> chain executor
//   HttpServer (its own I/O threads) -> routes -> NodeApi (this) -> chain queries, miner,
//   connman, EventHub (GET /events)
//
// node/ owns every component and wires them; it implements the interfaces left for it
// (the bus's last ChainObserver, BlockSink, NodeApi) and is the only module that sees
// them all.
//
// Lifecycle: start() opens the store and the chain, starts the chain executor, the miner,
// the P2P listener and the HTTP API, writes <data-dir>/node.json and dials the configured
// peers. stop() undoes it in reverse: API, miner, connections, executor (drained), chain
// flush, store; it removes node.json and the cookie, only those it wrote itself. A
// storage failure at run time asks for a shutdown (wait() returns) instead of going on
// with a broken store.
//
// Thread-safety: start() and stop() from the owning thread; everything else is internal.
#pragma once

#include <cstdint>
#include <memory>

#include "node/config.hpp"
#include "util/result.hpp"

namespace peerchain::node {

class Node {
  public:
    // Starts a node. Fails (with a message for the user) when the data directory cannot be
    // made or is in use, the store will not open or belongs to another network, or a port
    // cannot be bound.
    static util::Result<std::unique_ptr<Node>> start(const NodeConfig& config);
    ~Node();  // stop()s

    void stop();
    // Blocks until a fatal error asks the node to stop, or `stop_requested` (polled) says so.
    void wait(const std::function<bool()>& stop_requested);

    std::uint16_t http_port() const noexcept;
    std::uint16_t p2p_port() const noexcept;

    class Impl;

  private:
    explicit Node(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Runs a node until SIGINT or SIGTERM and returns the process exit code.
int run_node(const NodeConfig& config);

}  // namespace peerchain::node
