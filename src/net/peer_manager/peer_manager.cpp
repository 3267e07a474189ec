#include "net/peer_manager/peer_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "core/params.hpp"
#include "net/peer_manager/orphan_pool.hpp"
#include "net/peer_manager/rolling_set.hpp"
#include "net/peer_manager/tx_request_tracker.hpp"
#include "net/wire/message.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::net::peer_manager {

const char* direction_name(Direction direction) noexcept {
    return direction == Direction::kInbound ? "inbound" : "outbound";
}

namespace {

using chain::BlockIndex;
using core::Uint256;
using HashSet = std::unordered_set<Uint256, core::Uint256Hasher>;

// The host part of "host:port" or "[v6]:port", without brackets; empty if unparsable.
std::string host_of(const std::string& address) {
    if (!address.empty() && address.front() == '[') {
        const auto close = address.find(']');
        return close == std::string::npos ? std::string() : address.substr(1, close - 1);
    }
    const auto colon = address.rfind(':');
    return colon == std::string::npos ? address : address.substr(0, colon);
}

bool valid_addr_host(const std::string& host) {
    if (host.empty() || host.size() > wire::kMaxHostLength) return false;
    return std::all_of(host.begin(), host.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string short_hash(const Uint256& hash) { return hash.to_hex().substr(0, 16); }

// The port of "host:port" or "[v6]:port"; 0 if unparsable.
std::uint16_t port_of(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || (address.front() == '[' && colon < address.find(']'))) {
        return 0;
    }
    unsigned value = 0;
    const std::string digits = address.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) return 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return 0;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value > 65535 ? 0 : static_cast<std::uint16_t>(value);
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// What a peer's address is discouraged under: the host, or for a loopback host (where
// every peer of one machine shares it) the host with the port the peer listens on.
// Empty when there is nothing to key it by (a loopback peer that does not listen).
std::string discourage_key(const std::string& host, std::uint16_t listen_port) {
    if (host.empty()) return {};
    if (!is_loopback(host)) return host;
    if (listen_port == 0) return {};
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(listen_port);
}

// The last line of defence for "nothing throws out of the chain executor": the handlers
// catch per peer; this catches what escapes a whole event (an allocation failure).
template <typename F>
void guarded(const char* what, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        spdlog::error("p2p: {} handling failed: {}", what, e.what());
    } catch (...) {
        spdlog::error("p2p: {} handling failed", what);
    }
}

}  // namespace

class PeerManager::Impl {
  public:
    Impl(chain::Chainstate& chain, mempool::Mempool& mempool, PeerSender& sender,
         const util::Clock& clock, Config config)
        : chain_(chain),
          mempool_(mempool),
          sender_(sender),
          clock_(clock),
          config_(std::move(config)),
          params_(chain.params()),
          limits_(wire::DecodeLimits::from(params_)),
          rng_(config_.rng_seed != 0 ? config_.rng_seed : std::random_device{}()),
          tx_requests_(TxRequestLimits{config_.max_tx_announcements,
                                       config_.max_tx_in_flight_per_peer, config_.max_tx_in_flight,
                                       config_.tx_request_timeout}),
          orphans_(OrphanLimits{config_.max_orphans, params_.max_tx_size, config_.orphan_expiry},
                   rng_),
          recent_rejects_(config_.max_recent_rejects),
          recent_confirmed_(config_.max_recent_confirmed) {
        config_.max_headers_per_message =
            std::clamp<std::size_t>(config_.max_headers_per_message, 1, wire::kMaxHeaders);
        config_.max_blocks_in_flight = std::max<std::size_t>(config_.max_blocks_in_flight, 1);
        config_.block_download_window = std::max<std::uint32_t>(config_.block_download_window, 1);
        config_.max_announce_headers =
            std::clamp<std::size_t>(config_.max_announce_headers, 1, wire::kMaxHeaders);
    }

    void on_peer_connected(PeerId id, ConnectionInfo info);
    void on_message(PeerId id, util::ByteSpan bytes);
    void on_peer_disconnected(PeerId id, const std::string& reason);
    void on_tick();
    void on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                        const BlockIndex* fork);
    void on_block_connected(const core::Block& block);
    void relay_transaction(const Uint256& txid);
    // After every event: queued announcements go out, and the API copy is refreshed.
    void finish_event();

    std::vector<PeerInfo> peers() const {
        util::LockGuard lock(info_mutex_);
        std::vector<PeerInfo> out;
        out.reserve(info_.size());
        for (const auto& [id, info] : info_) out.push_back(info);
        return out;
    }
    std::size_t peer_count() const {
        util::LockGuard lock(info_mutex_);
        return info_.size();
    }
    std::size_t handshaken_peer_count() const {
        util::LockGuard lock(info_mutex_);
        return static_cast<std::size_t>(
            std::count_if(info_.begin(), info_.end(),
                          [](const auto& kv) { return kv.second.handshake_complete; }));
    }
    RelayInfo relay_info() const {
        util::LockGuard lock(info_mutex_);
        return relay_info_;
    }

    std::vector<std::string> discouraged() const {
        const std::int64_t t = now();
        util::LockGuard lock(discouraged_mutex_);
        std::vector<std::pair<std::int64_t, std::string>> live;
        for (const auto& [key, until] : discouraged_) {
            if (until > t) live.emplace_back(until, key);
        }
        std::sort(live.begin(), live.end());
        std::vector<std::string> out;
        out.reserve(live.size());
        for (auto& [until, key] : live) out.push_back(std::move(key));
        return out;
    }
    bool is_discouraged(const std::string& address) const {
        const std::string host = host_of(address);
        return is_discouraged_key(discourage_key(host, 0)) ||
               is_discouraged_key(discourage_key(host, port_of(address)));
    }

  private:
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

        // The most-work block the peer is known to have, and the best header we sent it.
        const BlockIndex* best_known = nullptr;
        const BlockIndex* best_header_sent = nullptr;
        std::int64_t getheaders_sent_at = -1;  // an unanswered getheaders; -1 none
        int unconnecting_headers = 0;

        HashSet in_flight;  // blocks requested from it
        // When it last delivered a requested block, or when its first request went out.
        std::int64_t last_block_progress = 0;
        HashSet not_found;  // blocks it said it does not have: not asked again
        // Every block on the path to best_known above the fork point, up to and including
        // this one, is stored or in flight: request_blocks starts after it instead of
        // walking the whole window for every block that arrives. Reset whenever a request
        // is released without its block (and every tick, to be safe).
        const BlockIndex* download_cursor = nullptr;

        std::deque<Uint256> serve_queue;     // blocks it asked for, not yet sent
        std::deque<Uint256> tx_serve_queue;  // transactions it asked for, not yet sent
        std::size_t served_this_tick = 0;
        bool getaddr_answered = false;

        // Transactions it is known to have: announced by it, sent or announced to it.
        RollingSet known_txs{1};
        std::vector<Uint256> pending_tx_inv;  // to announce at the end of this event
        bool mempool_requested = false;       // we sent it `mempool`
        std::int64_t mempool_answered_at = -1;
        std::int64_t unsolicited_window_start = 0;
        std::size_t unsolicited_in_window = 0;

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
    };

    std::int64_t now() const { return clock_.now_seconds(); }
    Peer* find(PeerId id) {
        auto it = peers_.find(id);
        return it == peers_.end() ? nullptr : &it->second;
    }

    void send(Peer& peer, const wire::Message& message);
    void send_bytes(Peer& peer, util::Bytes bytes);
    void drop(Peer& peer, const std::string& reason, bool misbehaving);
    void publish(const Peer& peer);

    void dispatch(Peer& peer, wire::Message& message);
    void handle(Peer& peer, wire::VersionMessage& m);
    void handle(Peer& peer, const wire::VerackMessage& m);
    void handle(Peer& peer, const wire::PingMessage& m);
    void handle(Peer& peer, const wire::PongMessage& m);
    void handle(Peer& peer, const wire::GetAddrMessage& m);
    void handle(Peer& peer, const wire::AddrMessage& m);
    void handle(Peer& peer, const wire::InvMessage& m);
    void handle(Peer& peer, const wire::GetDataMessage& m);
    void handle(Peer& peer, const wire::NotFoundMessage& m);
    void handle(Peer& peer, const wire::GetHeadersMessage& m);
    void handle(Peer& peer, const wire::HeadersMessage& m);
    void handle(Peer& peer, wire::BlockMessage& m);
    void handle(Peer& peer, wire::TxMessage& m);
    void handle(Peer& peer, const wire::MempoolMessage& m);
    void handle(Peer& peer, const wire::UnknownMessage& m);

    void send_version(Peer& peer);
    void complete_handshake(Peer& peer);
    void send_getheaders(Peer& peer, const BlockIndex* from, bool force);
    void announce(Peer& peer, const BlockIndex* tip);
    void serve(Peer& peer);
    void request_blocks(Peer& peer);
    void request_blocks_from_all();
    void release_in_flight(const Uint256& hash);
    void release_all_in_flight(Peer& peer);
    void reset_download_cursors() {
        for (auto& [id, p] : peers_) p.download_cursor = nullptr;
    }
    void update_best_known(Peer& peer, const BlockIndex* index);
    bool peer_has(const Peer& peer, const BlockIndex* index) const;

    bool relay_ready() const;
    bool already_have_tx(const Uint256& txid) const;
    void request_txs(Peer& peer);
    void request_txs_from_all();
    void process_tx(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid);
    void keep_orphan(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid);
    void retry_orphans(std::deque<Uint256> candidates, bool candidates_are_parents);
    void announce_tx(const Uint256& txid);
    void flush_tx_announcements(Peer& peer);
    void maybe_request_mempool(Peer& peer);
    void publish_relay_info();

    std::string discourage_key_of(const Peer& peer) const;
    void discourage(const Peer& peer);
    bool is_discouraged_key(const std::string& key) const;

  public:
    void set_listen_port(std::uint16_t port) { config_.listen_port = port; }

  private:
    chain::Chainstate& chain_;
    mempool::Mempool& mempool_;
    PeerSender& sender_;
    const util::Clock& clock_;
    Config config_;
    const core::Params& params_;
    const wire::DecodeLimits limits_;
    std::mt19937_64 rng_;

    // A std::map keeps references to peers valid while others come and go.
    std::map<PeerId, Peer> peers_;
    // Every block requested and not yet received, and from whom (one peer per block).
    std::unordered_map<Uint256, PeerId, core::Uint256Hasher> in_flight_;
    // The nonces of the version messages we sent, to spot a connection to ourselves.
    std::unordered_map<std::uint64_t, PeerId> our_nonces_;
    // Whether the last tip change left us more than one block behind the best header.
    bool syncing_ = false;

    TxRequestTracker tx_requests_;
    OrphanPool orphans_;
    // Refused for policy; cleared when the tip changes (what was refused may fit then).
    RollingSet recent_rejects_;
    // In recently connected blocks; cleared on a reorg (they may be back in the pool).
    RollingSet recent_confirmed_;
    // Orphans spending outputs of blocks just connected: tried when the tip has moved.
    std::vector<Uint256> orphans_to_retry_;
    std::uint64_t txs_accepted_ = 0;
    std::uint64_t txs_ignored_ = 0;

    mutable util::Mutex info_mutex_;
    std::map<PeerId, PeerInfo> info_ GUARDED_BY(info_mutex_);
    RelayInfo relay_info_ GUARDED_BY(info_mutex_);

    // Address key -> discouraged until (clock seconds).
    mutable util::Mutex discouraged_mutex_;
    std::map<std::string, std::int64_t> discouraged_ GUARDED_BY(discouraged_mutex_);
};

// --- Plumbing -------------------------------------------------------------------------------

void PeerManager::Impl::send(Peer& peer, const wire::Message& message) {
    send_bytes(peer, wire::encode_message(message));
}

void PeerManager::Impl::send_bytes(Peer& peer, util::Bytes bytes) {
    if (peer.disconnecting) return;
    peer.bytes_sent += bytes.size();
    ++peer.messages_sent;
    sender_.send(peer.id, std::make_shared<const util::Bytes>(std::move(bytes)));
}

void PeerManager::Impl::drop(Peer& peer, const std::string& reason, bool misbehaving) {
    if (peer.disconnecting) return;
    peer.disconnecting = true;
    if (misbehaving) {
        spdlog::warn("p2p: disconnecting peer {} ({}): {}", peer.id, peer.info.address, reason);
        discourage(peer);
    } else {
        spdlog::info("p2p: disconnecting peer {} ({}): {}", peer.id, peer.info.address, reason);
    }
    release_all_in_flight(peer);
    peer.serve_queue.clear();
    peer.tx_serve_queue.clear();
    peer.pending_tx_inv.clear();
    tx_requests_.remove_peer(peer.id);
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    sender_.disconnect(peer.id, reason);
    publish(peer);
    request_blocks_from_all();
    request_txs_from_all();
}

void PeerManager::Impl::publish(const Peer& peer) {
    PeerInfo info;
    info.id = peer.id;
    info.address = peer.info.address;
    info.url = peer.info.url;
    info.direction = peer.info.direction;
    info.handshake_complete = peer.handshake_done;
    if (peer.version_received) {
        info.user_agent = peer.version.user_agent;
        info.protocol_version = peer.version.protocol_version;
        info.services = peer.version.services;
        info.listen_port = peer.version.listen_port;
        info.start_height = peer.version.best_height;
    }
    info.best_known_height = peer.best_known ? peer.best_known->height : -1;
    info.ping_ms = peer.ping_ms;
    info.connected_since = peer.connected_at;
    info.blocks_in_flight = peer.in_flight.size();
    info.txs_in_flight = tx_requests_.in_flight(peer.id);
    info.bytes_sent = peer.bytes_sent;
    info.bytes_received = peer.bytes_received;
    info.messages_sent = peer.messages_sent;
    info.messages_received = peer.messages_received;
    util::LockGuard lock(info_mutex_);
    info_[peer.id] = std::move(info);
}

// --- Connection events ----------------------------------------------------------------------

void PeerManager::Impl::on_peer_connected(PeerId id, ConnectionInfo info) {
    if (peers_.contains(id)) {
        spdlog::error("p2p: peer {} connected twice; ignored", id);
        return;
    }
    Peer& peer = peers_[id];
    peer.id = id;
    peer.info = std::move(info);
    peer.connected_at = now();
    peer.last_block_progress = peer.connected_at;
    peer.known_txs = RollingSet(config_.max_known_txs);
    spdlog::info("p2p: peer {} connected, {} {}{}", id, direction_name(peer.info.direction),
                 peer.info.address, peer.info.url.empty() ? "" : " (" + peer.info.url + ")");
    // An inbound loopback peer is known by its listening port only after its version.
    if (is_discouraged_key(discourage_key_of(peer))) {
        drop(peer, "discouraged address", false);
        return;
    }
    if (peer.info.direction == Direction::kOutbound) send_version(peer);
    publish(peer);
}

void PeerManager::Impl::on_peer_disconnected(PeerId id, const std::string& reason) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    if (!peer.disconnecting) {
        spdlog::info("p2p: peer {} ({}) disconnected{}{}", id, peer.info.address,
                     reason.empty() ? "" : ": ", reason);
    }
    release_all_in_flight(peer);
    tx_requests_.remove_peer(id);
    orphans_.erase_for_peer(id);
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    peers_.erase(it);
    {
        util::LockGuard lock(info_mutex_);
        info_.erase(id);
    }
    request_blocks_from_all();
    request_txs_from_all();
}

void PeerManager::Impl::on_message(PeerId id, util::ByteSpan bytes) {
    Peer* peer = find(id);
    if (peer == nullptr || peer->disconnecting) return;
    peer->bytes_received += bytes.size();
    ++peer->messages_received;
    auto message = wire::decode_message(bytes, limits_);
    if (!message) {
        drop(*peer, "malformed message: " + message.error().message, true);
        return;
    }
    try {
        dispatch(*peer, *message);
    } catch (const std::exception& e) {
        spdlog::error("p2p: peer {}: handling {} failed: {}", id,
                      wire::message_type_name(wire::message_type_byte(*message)), e.what());
        drop(*peer, std::string("internal error: ") + e.what(), false);
    }
    publish(*peer);
}

void PeerManager::Impl::dispatch(Peer& peer, wire::Message& message) {
    // An honest peer's first message is its version. Messages we do not know are allowed
    // between version and verack (where newer protocol versions negotiate features, as
    // Bitcoin's wtxidrelay and sendaddrv2 do), never before it.
    if (!peer.version_received && !std::holds_alternative<wire::VersionMessage>(message)) {
        drop(peer,
             std::string(wire::message_type_name(wire::message_type_byte(message))) +
                 " before version",
             true);
        return;
    }
    const bool handshake_message = std::holds_alternative<wire::VersionMessage>(message) ||
                                   std::holds_alternative<wire::VerackMessage>(message) ||
                                   std::holds_alternative<wire::UnknownMessage>(message);
    if (!peer.handshake_done && !handshake_message) {
        drop(peer,
             std::string(wire::message_type_name(wire::message_type_byte(message))) +
                 " before handshake",
             true);
        return;
    }
    std::visit([&](auto& m) { handle(peer, m); }, message);
}

void PeerManager::Impl::on_tick() {
    const std::int64_t t = now();
    reset_download_cursors();
    tx_requests_.expire(t);
    orphans_.expire(t);
    for (auto& [id, peer] : peers_) {
        if (peer.disconnecting) continue;
        peer.served_this_tick = 0;
        serve(peer);
        if (!peer.handshake_done) {
            if (t - peer.connected_at >= config_.handshake_timeout.count()) {
                drop(peer, "handshake timeout", false);
            }
            continue;
        }
        if (peer.ping_pending && t - peer.ping_sent_at >= config_.ping_timeout.count()) {
            drop(peer, "ping timeout", false);
            continue;
        }
        if (!peer.in_flight.empty() &&
            t - peer.last_block_progress >= config_.block_stall_timeout.count()) {
            drop(peer,
                 "stalling: " + std::to_string(peer.in_flight.size()) +
                     " blocks in flight, none delivered in " +
                     std::to_string(t - peer.last_block_progress) + " s",
                 false);
            continue;
        }
        if (!peer.ping_pending && t >= peer.next_ping_at) {
            peer.ping_pending = true;
            peer.ping_nonce = rng_();
            peer.ping_sent_at = t;
            peer.ping_sent_steady = std::chrono::steady_clock::now();
            send(peer, wire::PingMessage{peer.ping_nonce});
        }
        maybe_request_mempool(peer);
        publish(peer);
    }
    request_blocks_from_all();
    // Requests that timed out above go to other peers that announced the same.
    request_txs_from_all();
}

// --- Handshake ------------------------------------------------------------------------------

void PeerManager::Impl::send_version(Peer& peer) {
    std::uint64_t nonce = 0;
    while (nonce == 0 || our_nonces_.contains(nonce)) nonce = rng_();
    our_nonces_[nonce] = peer.id;
    peer.our_nonce = nonce;
    const BlockIndex* tip = chain_.tip();
    wire::VersionMessage v;
    v.magic = params_.magic;
    v.protocol_version = wire::kProtocolVersion;
    v.services = wire::kServiceNetwork;
    v.best_height = tip->height;
    v.best_work = tip->chain_work;
    v.nonce = nonce;
    v.listen_port = config_.listen_port;
    v.user_agent = config_.user_agent.substr(0, wire::kMaxUserAgentLength);
    v.time = now();
    send(peer, v);
    peer.version_sent = true;
}

void PeerManager::Impl::handle(Peer& peer, wire::VersionMessage& m) {
    if (peer.version_received) {
        drop(peer, "duplicate version", true);
        return;
    }
    if (m.magic != params_.magic) {
        std::string theirs = "an unknown network";
        for (auto net : {core::Network::kDev, core::Network::kRegtest}) {
            if (core::params(net).magic == m.magic)
                theirs = "network '" + core::params(net).name + "'";
        }
        drop(peer,
             "wrong network magic " + util::to_hex(m.magic) + ": peer is on " + theirs +
                 ", we are on '" + params_.name + "'",
             false);
        return;
    }
    if (m.protocol_version < wire::kMinProtocolVersion) {
        drop(peer,
             "protocol version " + std::to_string(m.protocol_version) + " too old (minimum " +
                 std::to_string(wire::kMinProtocolVersion) + ")",
             false);
        return;
    }
    if (auto it = our_nonces_.find(m.nonce); it != our_nonces_.end()) {
        // Bitcoin's check: our own version came back, so we dialed ourselves. Both ends
        // of the loop are ours; close both.
        const PeerId other = it->second;
        drop(peer, "self-connection", false);
        if (Peer* p = find(other); p != nullptr && p != &peer) drop(*p, "self-connection", false);
        return;
    }
    peer.version_received = true;
    peer.version = std::move(m);
    if (is_discouraged_key(discourage_key_of(peer))) {
        drop(peer, "discouraged address", false);
        return;
    }
    spdlog::debug("p2p: peer {} version: {} protocol {} height {}", peer.id,
                  peer.version.user_agent, peer.version.protocol_version, peer.version.best_height);
    if (!peer.version_sent) send_version(peer);
    send(peer, wire::VerackMessage{});
}

void PeerManager::Impl::handle(Peer& peer, const wire::VerackMessage&) {
    if (!peer.version_received) {
        drop(peer, "verack before version", true);
        return;
    }
    if (peer.handshake_done) {
        drop(peer, "duplicate verack", true);
        return;
    }
    complete_handshake(peer);
}

void PeerManager::Impl::complete_handshake(Peer& peer) {
    peer.handshake_done = true;
    peer.next_ping_at = now();
    spdlog::info("p2p: peer {} ({}, {}) ready: \"{}\" protocol {} height {}", peer.id,
                 peer.info.address, direction_name(peer.info.direction), peer.version.user_agent,
                 peer.version.protocol_version, peer.version.best_height);
    // Headers-first sync: ask what it has past our best header, and tell it our tip (the
    // seeds' QUERY_LATEST answered unasked).
    send_getheaders(peer, chain_.best_header(), true);
    const BlockIndex* tip = chain_.tip();
    send(peer, wire::HeadersMessage{{tip->header}});
    peer.best_header_sent = tip;
}

// --- Keep-alive and addresses -------------------------------------------------------------

void PeerManager::Impl::handle(Peer& peer, const wire::PingMessage& m) {
    send(peer, wire::PongMessage{m.nonce});
}

void PeerManager::Impl::handle(Peer& peer, const wire::PongMessage& m) {
    // A pong for another ping (late, or unasked) is ignored, as Bitcoin does.
    if (!peer.ping_pending || m.nonce != peer.ping_nonce) return;
    peer.ping_pending = false;
    peer.ping_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - peer.ping_sent_steady)
                       .count();
    peer.next_ping_at = now() + config_.ping_interval.count();
}

void PeerManager::Impl::handle(Peer& peer, const wire::GetAddrMessage&) {
    // Answered once per connection, so that a peer cannot make us repeat the list.
    if (peer.getaddr_answered) return;
    peer.getaddr_answered = true;
    wire::AddrMessage reply;
    for (const auto& [id, other] : peers_) {
        if (id == peer.id || !other.handshake_done || other.disconnecting) continue;
        if (other.version.listen_port == 0) continue;
        std::string host = host_of(other.info.address);
        if (!valid_addr_host(host)) continue;
        reply.addresses.push_back({std::move(host), other.version.listen_port, now()});
        if (reply.addresses.size() == wire::kMaxAddresses) break;
    }
    send(peer, reply);
}

void PeerManager::Impl::handle(Peer&, const wire::AddrMessage&) {
    // TODO(#address-book): keep the addresses for dialing once there is an address book.
}

// --- Headers --------------------------------------------------------------------------------

void PeerManager::Impl::send_getheaders(Peer& peer, const BlockIndex* from, bool force) {
    const std::int64_t t = now();
    if (!force && peer.getheaders_sent_at >= 0 &&
        t - peer.getheaders_sent_at < config_.getheaders_timeout.count()) {
        return;  // one is on its way; its answer reaches at least as far
    }
    wire::GetHeadersMessage m;
    m.locator = chain_.locator(from);
    if (m.locator.size() > wire::kMaxLocatorHashes) {
        // Never happens below height 2^90, but keep genesis last if it does.
        m.locator[wire::kMaxLocatorHashes - 1] = m.locator.back();
        m.locator.resize(wire::kMaxLocatorHashes);
    }
    send(peer, m);
    peer.getheaders_sent_at = t;
}

void PeerManager::Impl::handle(Peer& peer, const wire::GetHeadersMessage& m) {
    const BlockIndex* fork = chain_.find_fork(m.locator);
    // The locator shows what the peer has: no need to announce those blocks to it.
    update_best_known(peer, fork);
    const BlockIndex* tip = chain_.tip();
    wire::HeadersMessage reply;
    if (tip->height > fork->height) {
        const std::uint32_t count = static_cast<std::uint32_t>(
            std::min<std::size_t>(config_.max_headers_per_message, tip->height - fork->height));
        const BlockIndex* end = chain_.at_height(fork->height + count);
        reply.headers.resize(count);
        const BlockIndex* b = end;
        for (std::uint32_t i = count; i > 0; --i, b = b->prev) reply.headers[i - 1] = b->header;
        if (!m.stop_hash.is_zero()) {
            for (std::size_t i = 0; i < reply.headers.size(); ++i) {
                if (reply.headers[i].hash() == m.stop_hash) {
                    reply.headers.resize(i + 1);
                    end = end->ancestor(fork->height + static_cast<std::uint32_t>(i + 1));
                    break;
                }
            }
        }
        if (!peer.best_header_sent || end->chain_work > peer.best_header_sent->chain_work) {
            peer.best_header_sent = end;
        }
    }
    send(peer, reply);
}

void PeerManager::Impl::handle(Peer& peer, const wire::HeadersMessage& m) {
    if (m.headers.empty()) {
        peer.getheaders_sent_at = -1;  // it has nothing more for us
        maybe_request_mempool(peer);
        return;
    }
    for (std::size_t i = 1; i < m.headers.size(); ++i) {
        if (m.headers[i].prev_hash != m.headers[i - 1].hash()) {
            drop(peer, "non-continuous headers", true);
            return;
        }
    }
    const BlockIndex* last = nullptr;
    const auto result = chain_.process_headers(m.headers, &last);
    switch (result.code) {
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
        case core::ValidationCode::kTimeFuture:  // keep what came before it; no punishment
        case core::ValidationCode::kPolicy:
            break;
        case core::ValidationCode::kMissingPrev:
            // Headers we cannot place: the peer is on a chain we do not know (the seeds'
            // "query all"). Ask with our locator; bounded so that it cannot keep us busy.
            if (++peer.unconnecting_headers > config_.max_unconnecting_headers) {
                drop(peer, "too many headers that do not connect", true);
                return;
            }
            send_getheaders(peer, chain_.best_header(), false);
            return;
        case core::ValidationCode::kInvalid:
            drop(peer, "invalid header: " + result.to_string(), true);
            return;
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: storing headers failed: {}", peer.id, result.to_string());
            return;
    }
    peer.getheaders_sent_at = -1;
    peer.unconnecting_headers = 0;
    if (last == nullptr) return;
    update_best_known(peer, last);

    // A full batch means there is more; so does a batch that ends below the height the
    // peer claimed at the handshake (its batch limit may be smaller than ours).
    const bool full = m.headers.size() >= config_.max_headers_per_message;
    if (result.is_ok() || result.code == core::ValidationCode::kDuplicate) {
        if (full || last->height < peer.version.best_height) {
            if (full) {
                spdlog::info("p2p: headers sync from peer {}: height {}", peer.id, last->height);
            }
            send_getheaders(peer, last, true);
        }
    }
    request_blocks(peer);
    maybe_request_mempool(peer);
}

// --- Blocks ---------------------------------------------------------------------------------

void PeerManager::Impl::handle(Peer& peer, const wire::InvMessage& m) {
    bool unknown_block = false;
    const bool want_txs = relay_ready();
    for (const auto& item : m.items) {
        if (item.type == wire::InvType::kBlock && chain_.lookup(item.hash) == nullptr) {
            unknown_block = true;
        } else if (item.type == wire::InvType::kTx) {
            peer.known_txs.insert(item.hash);
            // Beyond max_tx_announcements the tracker keeps nothing: an inv flood costs
            // the flooder, not our memory.
            if (want_txs && !already_have_tx(item.hash)) tx_requests_.announce(peer.id, item.hash);
        }
        // Other types are ignored.
    }
    if (unknown_block) send_getheaders(peer, chain_.best_header(), false);
    request_txs(peer);
}

void PeerManager::Impl::handle(Peer& peer, const wire::GetDataMessage& m) {
    const auto blocks = static_cast<std::size_t>(
        std::count_if(m.items.begin(), m.items.end(),
                      [](const wire::InvItem& i) { return i.type == wire::InvType::kBlock; }));
    if (peer.serve_queue.size() + blocks > config_.max_getdata_blocks) {
        drop(peer,
             "getdata flood: " + std::to_string(peer.serve_queue.size() + blocks) +
                 " blocks requested (limit " + std::to_string(config_.max_getdata_blocks) + ")",
             true);
        return;
    }
    const auto txs = static_cast<std::size_t>(
        std::count_if(m.items.begin(), m.items.end(),
                      [](const wire::InvItem& i) { return i.type == wire::InvType::kTx; }));
    if (peer.tx_serve_queue.size() + txs > config_.max_getdata_txs) {
        drop(peer,
             "getdata flood: " + std::to_string(peer.tx_serve_queue.size() + txs) +
                 " transactions requested (limit " + std::to_string(config_.max_getdata_txs) + ")",
             true);
        return;
    }
    wire::NotFoundMessage not_found;
    for (const auto& item : m.items) {
        if (item.type == wire::InvType::kTx) {
            // Answered from the pool when served (it may change before then).
            peer.tx_serve_queue.push_back(item.hash);
            continue;
        }
        if (item.type == wire::InvType::kBlock) {
            const BlockIndex* index = chain_.lookup(item.hash);
            if (index != nullptr) {
                const auto status = chain_.status(index);
                if ((status & chain::kHaveData) != 0 &&
                    (status & (chain::kFailedValid | chain::kFailedChild)) == 0) {
                    peer.serve_queue.push_back(item.hash);
                    continue;
                }
            }
        }
        // Unknown types are never served.
        not_found.items.push_back(item);
    }
    if (!not_found.items.empty()) send(peer, not_found);
    serve(peer);
}

void PeerManager::Impl::serve(Peer& peer) {
    wire::NotFoundMessage not_found;
    // Transactions first: they are small, and a payment waits on them.
    while (!peer.tx_serve_queue.empty() && !peer.disconnecting &&
           peer.served_this_tick < config_.serve_bytes_per_tick) {
        const Uint256 txid = peer.tx_serve_queue.front();
        peer.tx_serve_queue.pop_front();
        const auto entry = mempool_.get(txid);
        if (!entry) {
            not_found.items.push_back({wire::InvType::kTx, txid});
            if (not_found.items.size() == wire::kMaxInvItems) {
                send(peer, not_found);
                not_found.items.clear();
            }
            continue;
        }
        peer.known_txs.insert(txid);
        auto bytes = wire::encode_message(wire::TxMessage{*entry->tx});
        peer.served_this_tick += bytes.size();
        send_bytes(peer, std::move(bytes));
    }
    while (!peer.serve_queue.empty() && !peer.disconnecting &&
           peer.served_this_tick < config_.serve_bytes_per_tick) {
        const Uint256 hash = peer.serve_queue.front();
        peer.serve_queue.pop_front();
        const BlockIndex* index = chain_.lookup(hash);
        auto bytes = index != nullptr ? chain_.read_block_bytes(index)
                                      : util::Result<util::Bytes>(util::Unexpected(
                                            util::Errc::kNotFound, "unknown block"));
        if (!bytes) {
            if (bytes.error().code != util::Errc::kNotFound) {
                spdlog::error("p2p: reading block {} failed: {}", hash.to_hex(),
                              bytes.error().to_string());
            }
            not_found.items.push_back({wire::InvType::kBlock, hash});
            continue;
        }
        peer.served_this_tick += bytes->size();
        send_bytes(peer, wire::encode_block_message(*bytes));
    }
    if (!not_found.items.empty()) send(peer, not_found);
}

void PeerManager::Impl::handle(Peer& peer, const wire::NotFoundMessage& m) {
    bool released = false;
    bool tx_released = false;
    for (const auto& item : m.items) {
        if (item.type == wire::InvType::kTx) {
            if (tx_requests_.requested_from(peer.id, item.hash)) tx_released = true;
            tx_requests_.not_found(peer.id, item.hash);
            continue;
        }
        if (item.type != wire::InvType::kBlock || !peer.in_flight.contains(item.hash)) continue;
        release_in_flight(item.hash);
        // Not asked again from this peer; others may have it.
        if (peer.not_found.size() >= config_.max_getdata_blocks) peer.not_found.clear();
        peer.not_found.insert(item.hash);
        released = true;
    }
    if (released) {
        reset_download_cursors();
        request_blocks_from_all();
    }
    if (tx_released) request_txs_from_all();
}

void PeerManager::Impl::handle(Peer& peer, wire::BlockMessage& m) {
    auto block = std::make_shared<const core::Block>(std::move(m.block));
    const Uint256 hash = block->hash();
    if (peer.in_flight.contains(hash)) peer.last_block_progress = now();
    release_in_flight(hash);

    const PeerId id = peer.id;
    bool is_new = false;
    // May call on_tip_changed (through the node's chain observer) before it returns.
    const auto result = chain_.process_block(block, &is_new);
    switch (result.code) {
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
            update_best_known(peer, chain_.lookup(hash));
            break;
        case core::ValidationCode::kInvalid:
            drop(peer, "invalid block " + hash.to_hex() + ": " + result.to_string(), true);
            return;
        case core::ValidationCode::kMissingPrev:
            // An unasked block on a chain we do not know: get the headers first.
            send_getheaders(peer, chain_.best_header(), false);
            break;
        case core::ValidationCode::kTimeFuture:
        case core::ValidationCode::kPolicy:
            spdlog::debug("p2p: peer {}: block {} not accepted: {}", id, short_hash(hash),
                          result.to_string());
            break;
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: storing block {} failed: {}", id, hash.to_hex(),
                          result.to_string());
            break;
    }
    request_blocks(peer);
}

void PeerManager::Impl::handle(Peer& peer, wire::TxMessage& m) {
    auto tx = std::make_shared<const core::Transaction>(std::move(m.tx));
    const Uint256 txid = tx->txid();
    peer.known_txs.insert(txid);
    if (!tx_requests_.received(peer.id, txid)) {
        // Unasked: a light client may push its own payment, but a flood must not make us
        // validate without end (each costs signature checks).
        const std::int64_t t = now();
        if (t - peer.unsolicited_window_start >= 60) {
            peer.unsolicited_window_start = t;
            peer.unsolicited_in_window = 0;
        }
        if (peer.unsolicited_in_window >= config_.unsolicited_tx_allowance) {
            ++txs_ignored_;
            spdlog::debug("p2p: peer {}: unsolicited tx {} ignored", peer.id, short_hash(txid));
            return;
        }
        ++peer.unsolicited_in_window;
    }
    if (already_have_tx(txid)) {
        tx_requests_.forget(txid);
        return;
    }
    process_tx(peer, tx, txid);
}

// What the pool's verdict means for the sender (STYLE.md "Errors", DESIGN.md section 5):
// consensus-invalid data is misbehaviour; a policy refusal never is.
void PeerManager::Impl::process_tx(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid) {
    const auto result = mempool_.accept(tx);
    tx_requests_.forget(txid);
    switch (result.code) {
        case core::ValidationCode::kOk:
            ++txs_accepted_;
            spdlog::debug("p2p: peer {}: tx {} accepted", peer.id, short_hash(txid));
            announce_tx(txid);
            retry_orphans({txid}, true);
            return;
        case core::ValidationCode::kMissingPrev:
            keep_orphan(peer, tx, txid);
            return;
        case core::ValidationCode::kInvalid:
            recent_rejects_.insert(txid);
            drop(peer, "invalid transaction " + txid.to_hex() + ": " + result.to_string(), true);
            return;
        case core::ValidationCode::kPolicy:
            recent_rejects_.insert(txid);
            spdlog::debug("p2p: peer {}: tx {} refused: {}", peer.id, short_hash(txid),
                          result.to_string());
            return;
        case core::ValidationCode::kDuplicate:
            return;
        case core::ValidationCode::kTimeFuture:
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: tx {} not accepted: {}", peer.id, short_hash(txid),
                          result.to_string());
            return;
    }
}

void PeerManager::Impl::keep_orphan(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid) {
    std::vector<Uint256> parents;
    for (const auto& in : tx->inputs) {
        if (chain_.coin(in.prevout) || mempool_.output(in.prevout)) continue;
        const Uint256& parent = in.prevout.txid;
        // A parent we refused, or one we have (in a block or the pool) without the output:
        // the orphan can never enter, so it is refused too (Bitcoin does the same).
        if (recent_rejects_.contains(parent) || recent_confirmed_.contains(parent) ||
            mempool_.contains(parent)) {
            recent_rejects_.insert(txid);
            spdlog::debug("p2p: peer {}: tx {} spends a refused or spent output", peer.id,
                          short_hash(txid));
            return;
        }
        if (std::find(parents.begin(), parents.end(), parent) == parents.end()) {
            parents.push_back(parent);
        }
    }
    if (!orphans_.add(tx, txid, peer.id, now())) return;
    ++txs_accepted_;
    spdlog::debug("p2p: peer {}: tx {} kept as an orphan ({} missing parents, {} orphans)", peer.id,
                  short_hash(txid), parents.size(), orphans_.size());
    // The sender must have the parents: ask it for them.
    for (const auto& parent : parents) {
        if (!orphans_.contains(parent)) tx_requests_.announce(peer.id, parent);
    }
    request_txs(peer);
}

// Tries orphans again, iteratively (a chain of orphans could be long enough to overflow
// the stack if each acceptance recursed into the next). `candidates` are either parents
// just accepted (their orphan children are tried) or orphans to try themselves.
void PeerManager::Impl::retry_orphans(std::deque<Uint256> candidates, bool candidates_are_parents) {
    std::deque<Uint256> work;
    if (candidates_are_parents) {
        for (const auto& parent : candidates) {
            for (const auto& child : orphans_.children_of(parent)) work.push_back(child);
        }
    } else {
        work = std::move(candidates);
    }
    while (!work.empty()) {
        const Uint256 txid = work.front();
        work.pop_front();
        const OrphanPool::Orphan* orphan = orphans_.find(txid);
        if (orphan == nullptr) continue;
        const auto result = mempool_.accept(orphan->tx);
        if (result.code == core::ValidationCode::kMissingPrev) continue;  // another parent
        const auto taken = orphans_.take(txid);
        switch (result.code) {
            case core::ValidationCode::kOk:
                spdlog::debug("p2p: orphan tx {} accepted", short_hash(txid));
                announce_tx(txid);
                for (const auto& child : orphans_.children_of(txid)) work.push_back(child);
                break;
            case core::ValidationCode::kInvalid:
                recent_rejects_.insert(txid);
                if (Peer* from = find(taken->from); from != nullptr) {
                    drop(*from,
                         "invalid orphan transaction " + txid.to_hex() + ": " + result.to_string(),
                         true);
                }
                break;
            case core::ValidationCode::kPolicy:
                recent_rejects_.insert(txid);
                break;
            default:
                spdlog::debug("p2p: orphan tx {} dropped: {}", short_hash(txid),
                              result.to_string());
                break;
        }
    }
}

void PeerManager::Impl::handle(Peer& peer, const wire::MempoolMessage&) {
    // A pool listing costs a walk of the pool: at most once per interval.
    const std::int64_t t = now();
    if (peer.mempool_answered_at >= 0 &&
        t - peer.mempool_answered_at < config_.mempool_answer_interval.count()) {
        spdlog::debug("p2p: peer {}: mempool request too soon; ignored", peer.id);
        return;
    }
    peer.mempool_answered_at = t;
    wire::InvMessage inv;
    for (const auto& entry : mempool_.entries()) {
        if (!peer.known_txs.insert(entry.txid)) continue;
        inv.items.push_back({wire::InvType::kTx, entry.txid});
        if (inv.items.size() == wire::kMaxInvItems) {
            send(peer, inv);
            inv.items.clear();
        }
    }
    if (!inv.items.empty()) send(peer, inv);
}

// --- Transaction relay ----------------------------------------------------------------------

// Bitcoin ignores transactions during its initial block download: their parents are in
// blocks we do not have yet, so they would only fill the orphan pool.
bool PeerManager::Impl::relay_ready() const {
    return chain_.best_header()->height <= chain_.tip()->height + 1;
}

bool PeerManager::Impl::already_have_tx(const Uint256& txid) const {
    return recent_rejects_.contains(txid) || recent_confirmed_.contains(txid) ||
           orphans_.contains(txid) || mempool_.contains(txid);
}

void PeerManager::Impl::request_txs(Peer& peer) {
    if (!peer.handshake_done || peer.disconnecting) return;
    const auto txids = tx_requests_.next_requests(
        peer.id, now(), [this](const Uint256& txid) { return already_have_tx(txid); });
    wire::GetDataMessage request;
    for (const auto& txid : txids) {
        request.items.push_back({wire::InvType::kTx, txid});
        if (request.items.size() == wire::kMaxInvItems) {
            send(peer, request);
            request.items.clear();
        }
    }
    if (!request.items.empty()) send(peer, request);
}

void PeerManager::Impl::request_txs_from_all() {
    for (auto& [id, peer] : peers_) request_txs(peer);
}

void PeerManager::Impl::announce_tx(const Uint256& txid) {
    for (auto& [id, peer] : peers_) {
        if (!peer.handshake_done || peer.disconnecting) continue;
        if (!peer.known_txs.insert(txid)) continue;
        peer.pending_tx_inv.push_back(txid);
        if (peer.pending_tx_inv.size() == wire::kMaxInvItems) flush_tx_announcements(peer);
    }
}

void PeerManager::Impl::flush_tx_announcements(Peer& peer) {
    if (peer.pending_tx_inv.empty()) return;
    wire::InvMessage inv;
    inv.items.reserve(peer.pending_tx_inv.size());
    for (const auto& txid : peer.pending_tx_inv) inv.items.push_back({wire::InvType::kTx, txid});
    peer.pending_tx_inv.clear();
    send(peer, inv);
}

void PeerManager::Impl::relay_transaction(const Uint256& txid) {
    if (!mempool_.contains(txid)) return;
    // Ours now: no need to fetch it from anyone.
    tx_requests_.forget(txid);
    announce_tx(txid);
}

// A peer learns our pool once, when neither side is still catching up on blocks (before
// that its transactions would spend outputs one of us does not have).
void PeerManager::Impl::maybe_request_mempool(Peer& peer) {
    if (!peer.handshake_done || peer.disconnecting || peer.mempool_requested) return;
    if (!relay_ready() || peer.getheaders_sent_at >= 0) return;
    if (peer.best_known != nullptr && peer.best_known->chain_work > chain_.tip()->chain_work) {
        return;
    }
    peer.mempool_requested = true;
    send(peer, wire::MempoolMessage{});
}

void PeerManager::Impl::on_block_connected(const core::Block& block) {
    for (const auto& tx : block.txs) {
        const Uint256 txid = tx.txid();
        tx_requests_.forget(txid);
        recent_confirmed_.insert(txid);
    }
    for (const auto& txid : orphans_.erase_for_block(block)) orphans_to_retry_.push_back(txid);
}

void PeerManager::Impl::finish_event() {
    for (auto& [id, peer] : peers_) {
        if (!peer.disconnecting) flush_tx_announcements(peer);
    }
    publish_relay_info();
}

void PeerManager::Impl::publish_relay_info() {
    RelayInfo info;
    info.orphans = orphans_.size();
    info.txs_in_flight = tx_requests_.in_flight();
    info.tx_announcements = tx_requests_.tracked();
    info.recent_rejects = recent_rejects_.size();
    info.txs_accepted = txs_accepted_;
    info.txs_ignored = txs_ignored_;
    util::LockGuard lock(info_mutex_);
    relay_info_ = info;
}

// --- Discouragement -----------------------------------------------------------------------

std::string PeerManager::Impl::discourage_key_of(const Peer& peer) const {
    const std::string host = host_of(peer.info.address);
    // An outbound peer's address carries the port it listens on; an inbound one's an
    // ephemeral port, so its version message tells.
    std::uint16_t listen_port = 0;
    if (peer.info.direction == Direction::kOutbound) {
        listen_port = port_of(peer.info.address);
    } else if (peer.version_received) {
        listen_port = peer.version.listen_port;
    }
    return discourage_key(host, listen_port);
}

// Bitcoin Core's discouragement: no ban list an attacker could fill to split the network,
// just a bounded memory of addresses we neither accept nor dial for a while.
void PeerManager::Impl::discourage(const Peer& peer) {
    const std::string key = discourage_key_of(peer);
    if (key.empty()) return;
    const std::int64_t t = now();
    util::LockGuard lock(discouraged_mutex_);
    std::erase_if(discouraged_, [t](const auto& kv) { return kv.second <= t; });
    if (!discouraged_.contains(key) && discouraged_.size() >= config_.max_discouraged) {
        auto oldest =
            std::min_element(discouraged_.begin(), discouraged_.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        discouraged_.erase(oldest);
    }
    discouraged_[key] = t + config_.discourage_time.count();
    spdlog::warn("p2p: discouraging {} for {} s", key, config_.discourage_time.count());
}

bool PeerManager::Impl::is_discouraged_key(const std::string& key) const {
    if (key.empty()) return false;
    util::LockGuard lock(discouraged_mutex_);
    auto it = discouraged_.find(key);
    return it != discouraged_.end() && it->second > now();
}

void PeerManager::Impl::handle(Peer& peer, const wire::UnknownMessage& m) {
    // Forward compatibility: a newer peer may speak messages we do not know.
    spdlog::debug("p2p: peer {}: ignoring message type {} ({} bytes)", peer.id, m.type,
                  m.payload_size);
}

// --- Download scheduling ------------------------------------------------------------------

bool PeerManager::Impl::peer_has(const Peer& peer, const BlockIndex* index) const {
    if (index == nullptr) return true;
    for (const BlockIndex* known : {peer.best_known, peer.best_header_sent}) {
        if (known != nullptr && known->height >= index->height &&
            known->ancestor(index->height) == index) {
            return true;
        }
    }
    return false;
}

void PeerManager::Impl::update_best_known(Peer& peer, const BlockIndex* index) {
    if (index == nullptr) return;
    if (peer.best_known == nullptr || index->chain_work > peer.best_known->chain_work) {
        peer.best_known = index;
    }
}

void PeerManager::Impl::release_in_flight(const Uint256& hash) {
    auto it = in_flight_.find(hash);
    if (it == in_flight_.end()) return;
    if (Peer* owner = find(it->second)) owner->in_flight.erase(hash);
    in_flight_.erase(it);
}

void PeerManager::Impl::release_all_in_flight(Peer& peer) {
    for (const auto& hash : peer.in_flight) in_flight_.erase(hash);
    peer.in_flight.clear();
    reset_download_cursors();
}

void PeerManager::Impl::request_blocks_from_all() {
    for (auto& [id, peer] : peers_) request_blocks(peer);
}

// Bitcoin's FindNextBlocksToDownload, simplified: walk the peer's best chain from where it
// leaves ours, at most block_download_window blocks ahead, and ask for the blocks nobody
// is fetching, up to the peer's in-flight limit.
void PeerManager::Impl::request_blocks(Peer& peer) {
    if (!peer.handshake_done || peer.disconnecting) return;
    if (peer.in_flight.size() >= config_.max_blocks_in_flight) return;
    const BlockIndex* target = peer.best_known;
    const BlockIndex* tip = chain_.tip();
    if (target == nullptr || target->chain_work <= tip->chain_work) return;
    if ((chain_.status(target) & (chain::kFailedValid | chain::kFailedChild)) != 0) return;
    const BlockIndex* fork = chain::last_common_ancestor(tip, target);
    const std::uint32_t end_height = std::min<std::uint64_t>(
        target->height, std::uint64_t{fork->height} + config_.block_download_window);
    const BlockIndex* start = fork;
    if (const BlockIndex* cursor = peer.download_cursor;
        cursor != nullptr && cursor->height > fork->height && cursor->height <= target->height &&
        target->ancestor(cursor->height) == cursor) {
        start = cursor;
    }
    wire::GetDataMessage request;
    const bool was_idle = peer.in_flight.empty();
    bool contiguous = true;  // everything from the fork up to here is stored or in flight
    for (std::uint32_t h = start->height + 1; h <= end_height; ++h) {
        const BlockIndex* b = target->ancestor(h);
        const auto status = chain_.status(b);
        if ((status & (chain::kFailedValid | chain::kFailedChild)) != 0) break;
        if ((status & chain::kHaveData) == 0 && !in_flight_.contains(b->hash)) {
            if (peer.not_found.contains(b->hash) ||
                peer.in_flight.size() >= config_.max_blocks_in_flight) {
                contiguous = false;
                if (peer.in_flight.size() >= config_.max_blocks_in_flight) break;
                continue;
            }
            in_flight_[b->hash] = peer.id;
            peer.in_flight.insert(b->hash);
            request.items.push_back({wire::InvType::kBlock, b->hash});
        }
        if (contiguous) peer.download_cursor = b;
    }
    if (request.items.empty()) return;
    if (was_idle) peer.last_block_progress = now();
    spdlog::debug("p2p: requesting {} blocks from peer {} (after height {})", request.items.size(),
                  peer.id, start->height);
    send(peer, request);
}

// --- Announcements ----------------------------------------------------------------------

void PeerManager::Impl::on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                                       const BlockIndex* fork) {
    if (new_tip == nullptr) return;
    // Sparingly: every reorg, every 1000 blocks, and the moment a sync catches up.
    const BlockIndex* best = chain_.best_header();
    if (fork != nullptr && old_tip != nullptr && fork != old_tip) {
        spdlog::info("p2p: reorg to tip {} at height {} (fork at height {})",
                     short_hash(new_tip->hash), new_tip->height, fork->height);
    } else if (new_tip->height % 1000 == 0) {
        spdlog::info("p2p: tip {} at height {} (best header {})", short_hash(new_tip->hash),
                     new_tip->height, best->height);
    } else if (syncing_ && new_tip == best) {
        spdlog::info("p2p: caught up at height {}, tip {}", new_tip->height,
                     short_hash(new_tip->hash));
    } else {
        spdlog::debug("p2p: tip {} at height {}", short_hash(new_tip->hash), new_tip->height);
    }
    syncing_ = best->height > new_tip->height + 1;
    for (auto& [id, peer] : peers_) {
        if (peer.handshake_done && !peer.disconnecting) announce(peer, new_tip);
    }
    request_blocks_from_all();

    // What was refused for policy may fit on the new tip (Bitcoin resets its reject filter
    // here); after a reorg, confirmed transactions may be back in the pool.
    recent_rejects_.clear();
    if (fork != nullptr && old_tip != nullptr && fork != old_tip) recent_confirmed_.clear();
    std::deque<Uint256> retry(orphans_to_retry_.begin(), orphans_to_retry_.end());
    orphans_to_retry_.clear();
    retry_orphans(std::move(retry), false);
    for (auto& [id, peer] : peers_) maybe_request_mempool(peer);
}

void PeerManager::Impl::announce(Peer& peer, const BlockIndex* tip) {
    if (peer_has(peer, tip)) return;
    std::vector<core::BlockHeader> headers;
    const BlockIndex* b = tip;
    while (b != nullptr && !peer_has(peer, b) && headers.size() < config_.max_announce_headers) {
        headers.push_back(b->header);
        b = b->prev;
    }
    if (b != nullptr && !peer_has(peer, b)) {
        // Too far from what it knows: the tip alone; it asks for the rest with getheaders.
        headers.assign(1, tip->header);
    } else {
        std::reverse(headers.begin(), headers.end());
    }
    send(peer, wire::HeadersMessage{std::move(headers)});
    peer.best_header_sent = tip;
}

// --- PeerManager ------------------------------------------------------------------------

PeerManager::PeerManager(chain::Chainstate& chain, mempool::Mempool& mempool, PeerSender& sender,
                         const util::Clock& clock, Config config)
    : impl_(std::make_unique<Impl>(chain, mempool, sender, clock, std::move(config))) {}

PeerManager::~PeerManager() = default;

void PeerManager::on_peer_connected(PeerId peer, ConnectionInfo info) {
    guarded("connect", [&] { impl_->on_peer_connected(peer, std::move(info)); });
    guarded("connect", [&] { impl_->finish_event(); });
}
void PeerManager::on_message(PeerId peer, util::ByteSpan message) {
    guarded("message", [&] { impl_->on_message(peer, message); });
    guarded("message", [&] { impl_->finish_event(); });
}
void PeerManager::on_peer_disconnected(PeerId peer, const std::string& reason) {
    guarded("disconnect", [&] { impl_->on_peer_disconnected(peer, reason); });
    guarded("disconnect", [&] { impl_->finish_event(); });
}
void PeerManager::set_listen_port(std::uint16_t port) { impl_->set_listen_port(port); }
void PeerManager::on_tick() {
    guarded("tick", [&] { impl_->on_tick(); });
    guarded("tick", [&] { impl_->finish_event(); });
}
void PeerManager::on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                                 const chain::BlockIndex* fork) {
    guarded("tip change", [&] { impl_->on_tip_changed(new_tip, old_tip, fork); });
    guarded("tip change", [&] { impl_->finish_event(); });
}
void PeerManager::on_block_connected(const core::BlockPtr& block, const chain::BlockIndex*) {
    if (block == nullptr) return;
    guarded("block connected", [&] { impl_->on_block_connected(*block); });
}
void PeerManager::relay_transaction(const core::Uint256& txid) {
    guarded("relay", [&] { impl_->relay_transaction(txid); });
    guarded("relay", [&] { impl_->finish_event(); });
}
RelayInfo PeerManager::relay_info() const { return impl_->relay_info(); }
std::vector<std::string> PeerManager::discouraged() const { return impl_->discouraged(); }
bool PeerManager::is_discouraged(const std::string& address) const {
    return impl_->is_discouraged(address);
}
std::vector<PeerInfo> PeerManager::peers() const { return impl_->peers(); }
std::size_t PeerManager::peer_count() const { return impl_->peer_count(); }
std::size_t PeerManager::handshaken_peer_count() const { return impl_->handshaken_peer_count(); }

}  // namespace peerchain::net::peer_manager
