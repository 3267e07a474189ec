// Internal to net/peer_manager: what the peer manager knows about one connected peer
// (Peer), and what its parts (header sync, block download, transaction relay) need from
// the whole (PeerContext). Bitcoin Core keeps the same split between net_processing's
// Peer/CNodeState and the classes that read them.
//
// Thread-safety: none; everything here lives on the chain executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "chain/block_index.hpp"
#include "core/uint256.hpp"
#include "core/validation.hpp"
#include "net/peer_manager/headers_presync.hpp"
#include "net/peer_manager/peer_sender.hpp"
#include "net/peer_manager/rolling_set.hpp"
#include "net/wire/message.hpp"
#include "util/bytes.hpp"

namespace peerchain::net::peer_manager {

using HashSet = std::unordered_set<core::Uint256, core::Uint256Hasher>;

struct Peer {
    PeerId id = 0;
    ConnectionInfo info;
    std::int64_t connected_at = 0;

    bool version_sent = false;
    bool version_received = false;
    bool handshake_done = false;  // version received, verack received
    bool disconnecting = false;   // we asked the sender to close it
    std::uint64_t our_nonce = 0;
    wire::VersionMessage version;  // theirs, once version_received

    // --- Headers (header_sync.cpp) ---
    // The most-work block the peer is known to have, and the best header we sent it.
    const chain::BlockIndex* best_known = nullptr;
    const chain::BlockIndex* best_header_sent = nullptr;
    std::int64_t getheaders_sent_at = -1;  // an unanswered getheaders; -1 none
    // Headers messages that did not connect although our last getheaders was answered;
    // reset by headers that connect.
    int unconnecting_headers = 0;
    // Following a chain of less work than our tip without storing it (headers_presync.hpp).
    std::unique_ptr<HeadersPresync> presync;
    // Its latest getheaders, waiting for its send queue to drain (upload fairness).
    std::optional<wire::GetHeadersMessage> deferred_getheaders;
    // Its headers stopped at one too far in the future: asked again with getheaders once
    // our clock reaches this second; -1 none.
    std::int64_t future_headers_at = -1;

    // --- Block download (block_download.cpp) ---
    HashSet in_flight;  // blocks requested from it
    // When it last delivered a requested block, or when its first request went out.
    std::int64_t last_block_progress = 0;
    HashSet not_found;  // blocks it said it does not have: not asked again
    // Every block on the path to best_known above the fork point, up to and including
    // this one, is stored or in flight: the next request starts after it instead of
    // walking the whole window for every block that arrives. Reset whenever a request is
    // released without its block (and every tick, to be safe).
    const chain::BlockIndex* download_cursor = nullptr;
    // A block of its best chain up to which we have every block's data (Bitcoin Core's
    // pindexLastCommonBlock): the download window starts here, so that it moves along a
    // branch we are fetching even before that branch overtakes our tip (a deep reorg).
    const chain::BlockIndex* last_common = nullptr;
    std::int64_t last_block_at = -1;  // when it last gave us a new block; -1 never

    // --- Serving (peer_manager.cpp) ---
    std::deque<core::Uint256> serve_queue;     // blocks it asked for, not yet sent
    std::deque<core::Uint256> tx_serve_queue;  // transactions it asked for, not yet sent
    std::size_t served_this_tick = 0;          // bytes of headers, blocks and transactions

    // --- Addresses (addr_relay.cpp) ---
    bool wants_addrv2 = false;      // it sent sendaddrv2
    bool getaddr_answered = false;  // we answered its getaddr (once per connection)
    bool getaddr_sent = false;      // we asked; its answer is not relayed
    // Token bucket of the addresses we process from it.
    double addr_tokens = 1;
    std::int64_t addr_tokens_at = 0;
    std::uint64_t addrs_rate_limited = 0;
    // Addresses it is known to have (sent by it or to it): not sent to it again.
    RollingSet known_addresses{1};
    std::vector<wire::NetAddress> addr_queue;  // to relay to it on the next tick
    std::int64_t next_self_advertisement = 0;

    // --- Transaction relay (tx_relay.cpp) ---
    // Transactions it is known to have: announced by it, sent or announced to it.
    RollingSet known_txs{1};
    std::vector<core::Uint256> pending_tx_inv;  // to announce at the end of this event
    bool mempool_requested = false;             // we sent it `mempool`
    std::int64_t mempool_answered_at = -1;
    std::int64_t unsolicited_window_start = 0;
    std::size_t unsolicited_in_window = 0;
    std::int64_t last_tx_at = -1;  // when it last gave us a transaction the pool took

    // --- Keep-alive ---
    bool ping_pending = false;
    std::uint64_t ping_nonce = 0;
    std::int64_t ping_sent_at = 0;
    std::chrono::steady_clock::time_point ping_sent_steady;
    std::int64_t next_ping_at = 0;
    std::int64_t ping_ms = -1;

    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;

    bool active() const noexcept { return handshake_done && !disconnecting; }
};

// What the parts of the peer manager share: the peers, sending to one, dropping one.
// PeerManager::Impl implements it.
class PeerContext {
  public:
    virtual ~PeerContext() = default;

    // Every connected peer by id (a std::map keeps references valid while others come
    // and go). Peers being dropped are still here until the link is gone.
    virtual std::map<PeerId, Peer>& peers() = 0;
    virtual Peer* find(PeerId id) = 0;
    virtual void send(Peer& peer, const wire::Message& message) = 0;
    virtual void send_bytes(Peer& peer, util::Bytes bytes) = 0;
    // Disconnects the peer with `reason`; `misbehaving` also discourages its address.
    virtual void drop(Peer& peer, const std::string& reason, bool misbehaving) = 0;
    // The clock given to the PeerManager, in seconds.
    virtual std::int64_t now() const = 0;
    // Whether more may be served to the peer now: its per-tick byte budget is not spent and
    // its link is not backed up (upload fairness: a peer asking for the whole chain again
    // and again gets it at the pace it reads, never ahead of the others).
    virtual bool can_serve(const Peer& peer) const = 0;
};

// The first 16 hex digits of a hash, for logs.
std::string short_hash(const core::Uint256& hash);

// The disconnect reason for invalid data: "<what>: <token>: <id> (<detail>)". The token
// comes before the id, so a WebSocket close frame, cut to 123 bytes, always carries it
// (PROTOCOL.md 4.8).
std::string invalid_reason(std::string_view what, const core::Uint256& id,
                           const core::ValidationResult& why);

}  // namespace peerchain::net::peer_manager
