// NodeApi: what the HTTP routes need from the running node, declared here so that api/
// depends only on the modules below it; node/ implements it.
//
// Thread-safety: every member may be called from the HTTP server's threads concurrently.
// Callbacks may run on any thread (the chain executor, a miner thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chain/chainstate.hpp"
#include "core/block.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::api {

struct PeerView {
    std::uint64_t id = 0;
    std::string address;    // "host:port" of the remote end
    std::string direction;  // "inbound" or "outbound"
    std::string url;        // the URL dialed (outbound), else empty
    std::string user_agent;
    bool handshake_done = false;
    std::uint32_t start_height = 0;    // the height the peer announced in its version
    std::int64_t synced_height = -1;   // the best block we know the peer has; -1: none
    std::int64_t connected_since = 0;  // unix seconds
    std::int64_t ping_ms = -1;         // last round trip; -1 before the first pong
};

struct MiningView {
    bool continuous = false;  // --mine
    unsigned threads = 0;
    double hashes_per_second = 0;
    std::uint64_t blocks_found = 0;
    std::size_t queued_requests = 0;
};

class NodeApi {
  public:
    virtual ~NodeApi() = default;

    virtual const chain::Chainstate& chain() const = 0;
    virtual std::vector<PeerView> peers() const = 0;
    virtual MiningView mining() const = 0;
    virtual std::string user_agent() const = 0;

    // Starts connecting to `url` ("ws://host:port"). Fails at once with kInvalidArgument
    // for a bad URL or kUnavailable when no more outbound peers are allowed; a connection
    // that fails later shows in the log and in the absence from peers().
    virtual util::Result<void> add_peer(const std::string& url) = 0;

    // Mines one block whose coinbase carries `data`, connects and announces it, then calls
    // `done` with the block and its height, or with the reason it failed (kUnavailable
    // when the miner's queue is full or the node is stopping).
    using MinedCallback = std::function<void(util::Result<core::BlockPtr>)>;
    virtual void mine_block(util::Bytes data, MinedCallback done) = 0;
};

}  // namespace peerchain::api
