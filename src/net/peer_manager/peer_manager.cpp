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
    Impl(chain::Chainstate& chain, PeerSender& sender, const util::Clock& clock, Config config)
        : chain_(chain),
          sender_(sender),
          clock_(clock),
          config_(std::move(config)),
          params_(chain.params()),
          limits_(wire::DecodeLimits::from(params_)),
          rng_(std::random_device{}()) {
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

        std::deque<Uint256> serve_queue;  // blocks it asked for, not yet sent
        std::size_t served_this_tick = 0;
        bool getaddr_answered = false;

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
    void handle(Peer& peer, const wire::TxMessage& m);
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

  public:
    void set_listen_port(std::uint16_t port) { config_.listen_port = port; }

  private:
    chain::Chainstate& chain_;
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

    mutable util::Mutex info_mutex_;
    std::map<PeerId, PeerInfo> info_ GUARDED_BY(info_mutex_);
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
        // TODO(#discourage): also discourage the address, as DESIGN.md section 5 asks.
        spdlog::warn("p2p: disconnecting peer {} ({}): {}", peer.id, peer.info.address, reason);
    } else {
        spdlog::info("p2p: disconnecting peer {} ({}): {}", peer.id, peer.info.address, reason);
    }
    release_all_in_flight(peer);
    peer.serve_queue.clear();
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    sender_.disconnect(peer.id, reason);
    publish(peer);
    request_blocks_from_all();
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
    spdlog::info("p2p: peer {} connected, {} {}{}", id, direction_name(peer.info.direction),
                 peer.info.address, peer.info.url.empty() ? "" : " (" + peer.info.url + ")");
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
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    peers_.erase(it);
    {
        util::LockGuard lock(info_mutex_);
        info_.erase(id);
    }
    request_blocks_from_all();
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
        publish(peer);
    }
    request_blocks_from_all();
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
}

// --- Blocks ---------------------------------------------------------------------------------

void PeerManager::Impl::handle(Peer& peer, const wire::InvMessage& m) {
    bool unknown_block = false;
    for (const auto& item : m.items) {
        // Transactions wait for the mempool (TODO(#3)); other types are ignored.
        if (item.type == wire::InvType::kBlock && chain_.lookup(item.hash) == nullptr) {
            unknown_block = true;
        }
    }
    if (unknown_block) send_getheaders(peer, chain_.best_header(), false);
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
    wire::NotFoundMessage not_found;
    for (const auto& item : m.items) {
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
        // Transactions are not served before the mempool exists; unknown types never.
        not_found.items.push_back(item);
    }
    if (!not_found.items.empty()) send(peer, not_found);
    serve(peer);
}

void PeerManager::Impl::serve(Peer& peer) {
    wire::NotFoundMessage not_found;
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
    for (const auto& item : m.items) {
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

void PeerManager::Impl::handle(Peer&, const wire::TxMessage&) {
    // TODO(#3): hand to the mempool and relay.
}

void PeerManager::Impl::handle(Peer&, const wire::MempoolMessage&) {
    // TODO(#3): answer with an inv of the pool.
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

PeerManager::PeerManager(chain::Chainstate& chain, PeerSender& sender, const util::Clock& clock,
                         Config config)
    : impl_(std::make_unique<Impl>(chain, sender, clock, std::move(config))) {}

PeerManager::~PeerManager() = default;

void PeerManager::on_peer_connected(PeerId peer, ConnectionInfo info) {
    guarded("connect", [&] { impl_->on_peer_connected(peer, std::move(info)); });
}
void PeerManager::on_message(PeerId peer, util::ByteSpan message) {
    guarded("message", [&] { impl_->on_message(peer, message); });
}
void PeerManager::on_peer_disconnected(PeerId peer, const std::string& reason) {
    guarded("disconnect", [&] { impl_->on_peer_disconnected(peer, reason); });
}
void PeerManager::set_listen_port(std::uint16_t port) { impl_->set_listen_port(port); }
void PeerManager::on_tick() {
    guarded("tick", [&] { impl_->on_tick(); });
}
void PeerManager::on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                                 const chain::BlockIndex* fork) {
    guarded("tip change", [&] { impl_->on_tip_changed(new_tip, old_tip, fork); });
}
void PeerManager::on_block_connected(const core::BlockPtr&, const chain::BlockIndex*) {
    // TODO(#3): remove the block's transactions from relay state.
}
std::vector<PeerInfo> PeerManager::peers() const { return impl_->peers(); }
std::size_t PeerManager::peer_count() const { return impl_->peer_count(); }
std::size_t PeerManager::handshaken_peer_count() const { return impl_->handshaken_peer_count(); }

}  // namespace peerchain::net::peer_manager
