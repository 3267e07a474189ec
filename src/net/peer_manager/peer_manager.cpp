#include "net/peer_manager/peer_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <utility>
#include <variant>

#include "core/params.hpp"
#include "net/peer_manager/addr_relay.hpp"
#include "net/peer_manager/block_download.hpp"
#include "net/peer_manager/block_intake.hpp"
#include "net/peer_manager/header_sync.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/tx_relay.hpp"
#include "net/wire/message.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::net::peer_manager {

const char* direction_name(Direction direction) noexcept {
    return direction == Direction::kInbound ? "inbound" : "outbound";
}

std::string short_hash(const core::Uint256& hash) { return hash.to_hex().substr(0, 16); }

std::string invalid_reason(std::string_view what, const core::Uint256& id,
                           const core::ValidationResult& why) {
    std::string out = std::string(what) + ": " + why.reason + ": " + id.to_hex();
    if (!why.detail.empty()) out += " (" + why.detail + ")";
    return out;
}

namespace {

using addrman::host_of;
using addrman::port_of;

using chain::BlockIndex;
using core::Uint256;

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

class PeerManager::Impl final : public PeerContext {
  public:
    Impl(chain::Chainstate& chain, mempool::Mempool& mempool, PeerSender& sender,
         addrman::AddrMan& book, addrman::BanMan& bans, const util::Clock& clock, Config config)
        : chain_(chain),
          sender_(sender),
          bans_(bans),
          clock_(clock),
          config_(clamped(std::move(config))),
          params_(chain.params()),
          limits_(wire::DecodeLimits::from(params_)),
          rng_(config_.rng_seed != 0 ? config_.rng_seed : std::random_device{}()),
          downloader_(*this, chain_, config_),
          relay_(*this, chain_, mempool, config_, rng_),
          headers_(*this, chain_, config_, downloader_, relay_),
          blocks_(*this, chain_, config_, downloader_, headers_),
          addr_relay_(*this, book, config_, rng_) {}

    void on_peer_connected(PeerId id, ConnectionInfo info);
    void on_message(PeerId id, PreparedMessage prepared);
    const wire::DecodeLimits& limits() const { return limits_; }
    const core::Params& params() const { return params_; }
    void on_peer_disconnected(PeerId id, const std::string& reason);
    void on_tick();
    void on_send_drained(PeerId id) {
        if (Peer* peer = find(id); peer != nullptr && !peer->disconnecting) serve(*peer);
    }
    void on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                        const BlockIndex* fork);
    void on_block_connected(const core::Block& block, std::uint32_t height) {
        relay_.on_block_connected(block, height);
    }
    void relay_transaction(const Uint256& txid) { relay_.relay_transaction(txid); }
    // After every event: queued announcements go out, and the API copy is refreshed.
    void finish_event();
    void set_listen_port(std::uint16_t port) { config_.listen_port = port; }
    void set_observer(PeerObserver* observer) { observer_ = observer; }

    std::vector<PeerInfo> peers_info() const {
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

    // --- PeerContext ---
    std::map<PeerId, Peer>& peers() override { return peers_; }
    Peer* find(PeerId id) override {
        auto it = peers_.find(id);
        return it == peers_.end() ? nullptr : &it->second;
    }
    void send(Peer& peer, const wire::Message& message) override {
        send_bytes(peer, wire::encode_message(message));
    }
    void send_bytes(Peer& peer, util::Bytes bytes) override;
    void drop(Peer& peer, const std::string& reason, bool misbehaving) override;
    std::int64_t now() const override { return clock_.now_seconds(); }
    bool can_serve(const Peer& peer) const override {
        return peer.served_this_tick < config_.serve_bytes_per_tick &&
               sender_.queued_bytes(peer.id) <= config_.max_send_backlog;
    }

  private:
    static Config clamped(Config c) {
        c.max_headers_per_message =
            std::clamp<std::size_t>(c.max_headers_per_message, 1, wire::kMaxHeaders);
        c.max_blocks_in_flight = std::max<std::size_t>(c.max_blocks_in_flight, 1);
        c.block_download_window = std::max<std::uint32_t>(c.block_download_window, 1);
        c.max_announce_headers =
            std::clamp<std::size_t>(c.max_announce_headers, 1, wire::kMaxHeaders);
        return c;
    }

    void publish(const Peer& peer);
    PeerInfo info_of(const Peer& peer) const;

    void dispatch(Peer& peer, wire::Message& message);
    void handle(Peer& peer, wire::VersionMessage& m);
    void handle(Peer& peer, const wire::VerackMessage& m);
    void handle(Peer& peer, const wire::PingMessage& m);
    void handle(Peer& peer, const wire::PongMessage& m);
    void handle(Peer& peer, const wire::GetAddrMessage&) { addr_relay_.on_getaddr(peer); }
    void handle(Peer& peer, const wire::AddrMessage& m) {
        addr_relay_.on_addr(peer, m.addresses, false);
    }
    void handle(Peer& peer, const wire::SendAddrV2Message&) {
        // Only between version and verack means anything (BIP155); later it is ignored.
        if (!peer.handshake_done) peer.wants_addrv2 = true;
    }
    void handle(Peer& peer, const wire::AddrV2Message& m) {
        addr_relay_.on_addr(peer, m.addresses, true);
    }
    void handle(Peer& peer, const wire::InvMessage& m);
    void handle(Peer& peer, const wire::GetDataMessage& m);
    void handle(Peer& peer, const wire::NotFoundMessage& m);
    void handle(Peer& peer, const wire::GetHeadersMessage& m) { headers_.on_getheaders(peer, m); }
    void handle(Peer& peer, const wire::HeadersMessage& m) {
        headers_.on_headers(peer, m, header_hashes_);
    }
    void handle(Peer& peer, wire::BlockMessage& m) {
        if (checked_block_ != nullptr) {
            blocks_.on_block(peer, *checked_block_);
        } else {
            blocks_.on_block(peer,
                             core::check_block_alone(
                                 std::make_shared<const core::Block>(std::move(m.block)), params_));
        }
    }
    void handle(Peer& peer, wire::TxMessage& m) { relay_.on_tx(peer, m); }
    void handle(Peer& peer, const wire::MempoolMessage&) { relay_.on_mempool(peer); }
    void handle(Peer& peer, const wire::RejectMessage& m);
    void handle(Peer& peer, const wire::UnknownMessage& m);

    void send_version(Peer& peer);
    void complete_handshake(Peer& peer);
    void serve(Peer& peer);

    // Why the peer may not stay (banned or discouraged address), or nothing.
    std::optional<std::string> refused(const Peer& peer) const;
    void publish_relay_info();

    chain::Chainstate& chain_;
    PeerSender& sender_;
    addrman::BanMan& bans_;
    const util::Clock& clock_;
    Config config_;
    const core::Params& params_;
    const wire::DecodeLimits limits_;
    // The block of the message being handled, as prepare_message checked it.
    const core::CheckedBlock* checked_block_ = nullptr;
    // The header hashes of the message being handled, from prepare_message.
    std::span<const core::Uint256> header_hashes_;
    std::mt19937_64 rng_;

    // A std::map keeps references to peers valid while others come and go.
    std::map<PeerId, Peer> peers_;
    // The nonces of the version messages we sent, to spot a connection to ourselves.
    std::unordered_map<std::uint64_t, PeerId> our_nonces_;

    BlockDownloader downloader_;
    TxRelay relay_;
    HeaderSync headers_;
    BlockIntake blocks_;
    AddrRelay addr_relay_;

    PeerObserver* observer_ = nullptr;  // chain executor only

    mutable util::Mutex info_mutex_;
    std::map<PeerId, PeerInfo> info_ GUARDED_BY(info_mutex_);
    RelayInfo relay_info_ GUARDED_BY(info_mutex_);
};

// --- Plumbing -------------------------------------------------------------------------------

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
        // Bitcoin Core's discouragement: no ban list an attacker could fill to split the
        // network, a bounded memory of hosts we neither accept nor dial for a while, keyed
        // by what the peer cannot choose (its IP). A local peer is only disconnected: on
        // loopback every node of the machine shares the host.
        const std::string host = host_of(peer.info.address);
        if (bans_.discourage(host)) {
            spdlog::warn("p2p: discouraging {} for 24 h", host);
        }
    } else {
        spdlog::info("p2p: disconnecting peer {} ({}): {}", peer.id, peer.info.address, reason);
    }
    downloader_.release_all(peer);
    peer.serve_queue.clear();
    relay_.drop_peer(peer);
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    sender_.disconnect(peer.id, reason);
    publish(peer);
    downloader_.request_from_all();
    relay_.request_from_all();
}

void PeerManager::Impl::publish(const Peer& peer) {
    PeerInfo info = info_of(peer);
    util::LockGuard lock(info_mutex_);
    info_[peer.id] = std::move(info);
}

PeerInfo PeerManager::Impl::info_of(const Peer& peer) const {
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
    info.txs_in_flight = relay_.in_flight(peer.id);
    info.bytes_sent = peer.bytes_sent;
    info.bytes_received = peer.bytes_received;
    info.messages_sent = peer.messages_sent;
    info.messages_received = peer.messages_received;
    info.transport = peer.info.transport;
    info.last_block_at = peer.last_block_at;
    info.last_tx_at = peer.last_tx_at;
    info.addrs_rate_limited = peer.addrs_rate_limited;
    return info;
}

void PeerManager::Impl::finish_event() {
    for (auto& [id, peer] : peers_) relay_.flush_announcements(peer);
    publish_relay_info();
}

void PeerManager::Impl::publish_relay_info() {
    const RelayInfo info = relay_.info();
    util::LockGuard lock(info_mutex_);
    relay_info_ = info;
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
    peer.known_addresses = RollingSet(config_.max_known_addresses);
    spdlog::info("p2p: peer {} connected, {} {}{}", id, direction_name(peer.info.direction),
                 peer.info.address, peer.info.url.empty() ? "" : " (" + peer.info.url + ")");
    // An inbound peer's listening port, which a ban may name, comes with its version.
    if (auto why = refused(peer)) {
        drop(peer, *why, false);
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
    downloader_.release_all(peer);
    relay_.remove_peer(id);
    if (peer.our_nonce != 0) our_nonces_.erase(peer.our_nonce);
    if (peer.handshake_done && observer_ != nullptr) observer_->on_peer_gone(info_of(peer));
    peers_.erase(it);
    {
        util::LockGuard lock(info_mutex_);
        info_.erase(id);
    }
    downloader_.request_from_all();
    relay_.request_from_all();
}

void PeerManager::Impl::on_message(PeerId id, PreparedMessage prepared) {
    Peer* peer = find(id);
    if (peer == nullptr || peer->disconnecting) return;
    peer->bytes_received += prepared.size;
    ++peer->messages_received;
    auto& message = prepared.message;
    if (!message) {
        drop(*peer, "malformed message: " + message.error().message, true);
        return;
    }
    checked_block_ = prepared.block ? &*prepared.block : nullptr;
    header_hashes_ = prepared.header_hashes;
    try {
        dispatch(*peer, *message);
    } catch (const std::exception& e) {
        spdlog::error("p2p: peer {}: handling {} failed: {}", id,
                      wire::message_type_name(wire::message_type_byte(*message)), e.what());
        drop(*peer, std::string("internal error: ") + e.what(), false);
    }
    checked_block_ = nullptr;
    header_hashes_ = {};
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
                                   std::holds_alternative<wire::SendAddrV2Message>(message) ||
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
    downloader_.reset_cursors();
    relay_.on_tick(t);
    addr_relay_.on_tick(t);
    blocks_.on_tick(t);
    headers_.on_tick(t);
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
        if (sender_.reading_paused(peer.id)) {
            // Its answers wait unread on our side: the clocks start again once we read.
            peer.ping_sent_at = t;
            peer.last_block_progress = t;
        }
        if (peer.ping_pending && t - peer.ping_sent_at >= config_.ping_timeout.count()) {
            drop(peer, "ping timeout", false);
            continue;
        }
        if (auto stalling = downloader_.stalling(peer, t)) {
            drop(peer, *stalling, false);
            continue;
        }
        if (!peer.ping_pending && t >= peer.next_ping_at) {
            peer.ping_pending = true;
            peer.ping_nonce = rng_();
            peer.ping_sent_at = t;
            peer.ping_sent_steady = std::chrono::steady_clock::now();
            send(peer, wire::PingMessage{peer.ping_nonce});
        }
        relay_.maybe_request_mempool(peer);
        publish(peer);
    }
    downloader_.request_from_all();
    // Requests that timed out above go to other peers that announced the same.
    relay_.request_from_all();
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
    // Between version and verack: we understand addrv2 (BIP155's negotiation).
    send(peer, wire::SendAddrV2Message{});
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
        for (const PeerId id : {peer.id, other}) {
            if (Peer* p = find(id); p != nullptr && !p->disconnecting) {
                sender_.self_connection(id);
                drop(*p, "self-connection", false);
            }
        }
        return;
    }
    peer.version_received = true;
    peer.version = std::move(m);
    if (auto why = refused(peer)) {
        drop(peer, *why, false);
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
    // Headers-first sync: ask what it has past our best header, and tell it our tip.
    headers_.start(peer);
    addr_relay_.on_handshake(peer);
    sender_.peer_ready(peer.id, peer.version.listen_port);
    if (observer_ != nullptr) observer_->on_peer_ready(info_of(peer));
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

// --- Inventory, serving and blocks ----------------------------------------------------------

void PeerManager::Impl::handle(Peer& peer, const wire::InvMessage& m) {
    headers_.on_inv(peer, m.items);
    relay_.on_inv(peer, m.items);
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
    relay_.queue_getdata(peer, m.items);
    wire::NotFoundMessage not_found;
    for (const auto& item : m.items) {
        if (item.type == wire::InvType::kTx) continue;
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
    headers_.serve_deferred(peer);
    wire::NotFoundMessage not_found;
    // Transactions first: they are small, and a payment waits on them.
    relay_.serve(peer, not_found);
    while (!peer.serve_queue.empty() && !peer.disconnecting && can_serve(peer)) {
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
        // What we send it, it has (issue 9: a peer syncing from us is known to have caught
        // up when we sent it our tip, and only then asked for its pool).
        headers_.update_best_known(peer, index);
        relay_.maybe_request_mempool(peer);
    }
    if (!not_found.items.empty()) send(peer, not_found);
    // Held back by a full link, not by the tick's budget: go on once it has read half of
    // its backlog (a sync asks for blocks only as it receives them, so waiting for the
    // tick would leave both sides idle for up to a second).
    const bool waiting = !peer.serve_queue.empty() || !peer.tx_serve_queue.empty() ||
                         peer.deferred_getheaders.has_value();
    if (waiting && !peer.disconnecting &&
        sender_.queued_bytes(peer.id) > config_.max_send_backlog) {
        sender_.notify_when_drained(peer.id, config_.max_send_backlog / 2);
    }
}

void PeerManager::Impl::handle(Peer& peer, const wire::NotFoundMessage& m) {
    downloader_.not_found(peer, m.items);
    relay_.on_notfound(peer, m.items);
}

// Issue 9: informative only. Acting on it would let a peer steer us with claims we cannot
// check; punishing it would make a compatible peer's honest report cost it the link.
void PeerManager::Impl::handle(Peer& peer, const wire::RejectMessage& m) {
    spdlog::debug("p2p: peer {} rejects {} {}: {} ({})", peer.id,
                  m.type == wire::InvType::kTx      ? "tx"
                  : m.type == wire::InvType::kBlock ? "block"
                                                    : "item",
                  m.hash.to_hex(), m.reason, m.detail);
}

void PeerManager::Impl::handle(Peer& peer, const wire::UnknownMessage& m) {
    // Forward compatibility: a newer peer may speak messages we do not know.
    spdlog::debug("p2p: peer {}: ignoring message type {} ({} bytes)", peer.id, m.type,
                  m.payload_size);
}

// --- Bans and discouragement ---------------------------------------------------------------

std::optional<std::string> PeerManager::Impl::refused(const Peer& peer) const {
    const std::string host = host_of(peer.info.address);
    // An outbound peer's address carries the port it listens on; an inbound one's an
    // ephemeral port, so its version message tells (a ban may name host:port).
    std::uint16_t port = 0;
    if (peer.info.direction == Direction::kOutbound) {
        port = port_of(peer.info.address);
    } else if (peer.version_received) {
        port = peer.version.listen_port;
    }
    if (bans_.is_banned(host, port)) return std::string("banned address");
    if (bans_.is_discouraged(host)) return std::string("discouraged address");
    return std::nullopt;
}

// --- Announcements ----------------------------------------------------------------------

void PeerManager::Impl::on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                                       const BlockIndex* fork) {
    if (new_tip == nullptr) return;
    const bool reorg = fork != nullptr && old_tip != nullptr && fork != old_tip;
    // Every reorg; a sync's progress and its end are the node's SyncProgress lines.
    const BlockIndex* best = chain_.best_header();
    if (reorg) {
        spdlog::info("p2p: reorg to tip {} at height {} (fork at height {})",
                     short_hash(new_tip->hash), new_tip->height, fork->height);
    } else if (spdlog::should_log(spdlog::level::debug)) {
        // Guarded: a sync changes the tip thousands of times a second, and the hash's text
        // would be built for nothing at the default level.
        spdlog::debug("p2p: tip {} at height {} (best header {})", short_hash(new_tip->hash),
                      new_tip->height, best->height);
    }
    for (auto& [id, peer] : peers_) {
        if (peer.active()) headers_.announce(peer, new_tip);
    }
    downloader_.request_from_all();
    relay_.on_tip_changed(reorg);
}

// --- PeerManager ------------------------------------------------------------------------

PeerManager::PeerManager(chain::Chainstate& chain, mempool::Mempool& mempool, PeerSender& sender,
                         addrman::AddrMan& book, addrman::BanMan& bans, const util::Clock& clock,
                         Config config)
    : impl_(std::make_unique<Impl>(chain, mempool, sender, book, bans, clock, std::move(config))) {}

PeerManager::~PeerManager() = default;

void PeerManager::on_peer_connected(PeerId peer, ConnectionInfo info) {
    guarded("connect", [&] { impl_->on_peer_connected(peer, std::move(info)); });
    guarded("connect", [&] { impl_->finish_event(); });
}
void PeerManager::on_message(PeerId peer, util::ByteSpan message) {
    on_message(peer, prepare(message));
}
void PeerManager::on_message(PeerId peer, PreparedMessage message) {
    guarded("message", [&] { impl_->on_message(peer, std::move(message)); });
    guarded("message", [&] { impl_->finish_event(); });
}
PreparedMessage PeerManager::prepare(util::ByteSpan message) const {
    return prepare_message(message, impl_->limits(), impl_->params());
}
void PeerManager::on_peer_disconnected(PeerId peer, const std::string& reason) {
    guarded("disconnect", [&] { impl_->on_peer_disconnected(peer, reason); });
    guarded("disconnect", [&] { impl_->finish_event(); });
}
void PeerManager::set_listen_port(std::uint16_t port) { impl_->set_listen_port(port); }
void PeerManager::set_observer(PeerObserver* observer) { impl_->set_observer(observer); }
void PeerManager::on_send_drained(PeerId peer) {
    guarded("drained", [&] { impl_->on_send_drained(peer); });
    guarded("drained", [&] { impl_->finish_event(); });
}

void PeerManager::on_tick() {
    guarded("tick", [&] { impl_->on_tick(); });
    guarded("tick", [&] { impl_->finish_event(); });
}
void PeerManager::on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                                 const chain::BlockIndex* fork) {
    guarded("tip change", [&] { impl_->on_tip_changed(new_tip, old_tip, fork); });
    guarded("tip change", [&] { impl_->finish_event(); });
}
void PeerManager::on_block_connected(const core::BlockPtr& block, const chain::BlockIndex* index) {
    if (block == nullptr || index == nullptr) return;
    guarded("block connected", [&] { impl_->on_block_connected(*block, index->height); });
}
void PeerManager::relay_transaction(const core::Uint256& txid) {
    guarded("relay", [&] { impl_->relay_transaction(txid); });
    guarded("relay", [&] { impl_->finish_event(); });
}
RelayInfo PeerManager::relay_info() const { return impl_->relay_info(); }
std::vector<PeerInfo> PeerManager::peers() const { return impl_->peers_info(); }
std::size_t PeerManager::peer_count() const { return impl_->peer_count(); }
std::size_t PeerManager::handshaken_peer_count() const { return impl_->handshaken_peer_count(); }

}  // namespace peerchain::net::peer_manager
