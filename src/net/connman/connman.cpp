#include "net/connman/connman.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "crypto/random.hpp"
#include "net/connman/eviction.hpp"
#include "net/wire/message.hpp"
#include "util/file.hpp"

namespace peerchain::net::connman {

namespace {

using addrman::host_of;

constexpr const char* kBookFile = "peers.dat";
constexpr const char* kBanFile = "banlist.dat";
constexpr const char* kManualFile = "manual-peers";
// Automatic dials started per tick, and how soon an address may be tried again.
constexpr int kDialsPerTick = 2;
constexpr std::int64_t kRetryAfter = 60;
// The manual-peers file is small: a line per peer.
constexpr std::size_t kMaxManualFileBytes = 128 * 1024;
// Room for connections that have not opened yet, beside max_inbound open sessions.
constexpr std::size_t kPendingInbound = 32;
// Our own hosts remembered from the local end of links (a node has few addresses).
constexpr std::size_t kMaxLocalHosts = 16;

peer_manager::Direction to_peer_direction(transport::Direction d) {
    return d == transport::Direction::kInbound ? peer_manager::Direction::kInbound
                                               : peer_manager::Direction::kOutbound;
}

std::uint8_t transport_bit(transport::Scheme scheme) {
    return scheme == transport::Scheme::kTcp ? addrman::kTransportTcp
                                             : addrman::kTransportWebSocket;
}

std::optional<addrman::NetAddress> address_of(const transport::PeerUrl& url) {
    auto parsed = addrman::NetAddress::parse(url.host, url.port, transport_bit(url.scheme));
    if (!parsed) return std::nullopt;
    return *parsed;
}

// The URL to dial an address of the book with: WebSocket when both sides speak it.
std::optional<std::string> url_for(const addrman::NetAddress& address, std::uint8_t ours) {
    const std::uint8_t both = address.transports & ours;
    if (both == 0) return std::nullopt;
    addrman::NetAddress one = address;
    one.transports = (both & addrman::kTransportWebSocket) != 0 ? addrman::kTransportWebSocket
                                                                : addrman::kTransportTcp;
    return one.to_string();
}

}  // namespace

ConnMan::ConnMan(boost::asio::io_context& io, util::SerialExecutor& executor,
                 const util::Clock& clock, Config config)
    : io_(io),
      executor_(executor),
      clock_(clock),
      config_(std::move(config)),
      book_(config_.book, clock),
      bans_(
          [&] {
              addrman::BanManConfig b = config_.bans;
              if (!config_.data_dir.empty()) b.path = config_.data_dir / kBanFile;
              return b;
          }(),
          clock) {
    if (config_.metrics != nullptr) {
        auto& bytes = config_.metrics->counter_family(
            "peerchain_p2p_bytes_total",
            "Bytes of P2P messages received (in) and sent (out), by message type; framing "
            "left out.",
            {"direction", "command"});
        for (std::size_t t = 0; t < kMessageTypes; ++t) {
            const char* name = wire::message_type_name(static_cast<std::uint8_t>(t));
            bytes_in_[t] = &bytes.labels({"in", name});
            bytes_out_[t] = &bytes.labels({"out", name});
        }
        receive_pauses_ = &config_.metrics->counter(
            "peerchain_p2p_receive_pauses_total",
            "Times reading from a peer paused because its messages waiting to be handled "
            "passed the receive buffer (--max-receive-buffer).");
    }
    crypto::random_bytes(eviction_key_);
    std::uint64_t seed = 0;
    crypto::random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&seed), sizeof(seed)));
    util::LockGuard lock(mutex_);
    rng_.seed(seed);
}

ConnMan::~ConnMan() { stop(); }

std::uint8_t ConnMan::transports() const noexcept {
    return static_cast<std::uint8_t>((config_.websocket ? addrman::kTransportWebSocket : 0) |
                                     (config_.tcp ? addrman::kTransportTcp : 0));
}

util::Result<void> ConnMan::start(peer_manager::PeerManager& peers) {
    peers_.store(&peers);
    if (!config_.data_dir.empty()) {
        // A file that does not check is moved aside (kept for a look, never overwritten by
        // the next save) and the node starts without it.
        auto set_aside = [](const std::filesystem::path& path) {
            std::error_code ec;
            std::filesystem::rename(path, path.string() + ".bad", ec);
            return path.string() + ".bad";
        };
        const auto path = config_.data_dir / kBookFile;
        if (auto loaded = book_.load(path); !loaded) {
            spdlog::warn("address book {}: {}; moved to {}, starting with an empty book",
                         path.string(), loaded.error().message, set_aside(path));
        } else if (*loaded > 0) {
            spdlog::info("address book: {} addresses from {}", *loaded, path.string());
        }
        if (auto loaded = bans_.load(); !loaded) {
            spdlog::warn("ban list: {}; moved to {}, starting without bans", loaded.error().message,
                         set_aside(config_.data_dir / kBanFile));
        } else if (*loaded > 0) {
            spdlog::info("ban list: {} bans", *loaded);
        }
        load_manual_peers();
    }
    next_book_save_.store(now() + config_.book_save_interval.count());

    transport::Limits limits = config_.limits;
    limits.websocket = config_.websocket;
    limits.tcp = config_.tcp;
    limits.max_inbound = config_.max_inbound + kPendingInbound;
    limits.max_outbound = config_.max_outbound + kMaxManualPeers + kDialsPerTick;
    if (auto valid = limits.validate(); !valid) return util::Unexpected(valid.error());
    transport_ = std::make_unique<transport::Transport>(io_, *this, limits);
    if (auto r = transport_->listen(config_.bind_address, config_.port); !r) {
        return util::Unexpected(
            r.error().code, "P2P port " + std::to_string(config_.port) + ": " + r.error().message);
    }
    return {};
}

void ConnMan::stop() {
    if (stopped_.exchange(true)) return;
    if (transport_) transport_->stop();
    if (peers_.load() != nullptr) save_book();
}

std::uint16_t ConnMan::listen_port() const noexcept {
    return transport_ ? transport_->listen_port() : 0;
}

std::shared_ptr<transport::Session> ConnMan::session(transport::SessionId id) const {
    util::LockGuard lock(mutex_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.session;
}

bool ConnMan::refused(const std::string& host, std::uint16_t port) const {
    return bans_.is_banned(host, port) || bans_.is_discouraged(host);
}

std::int64_t ConnMan::backoff(int failures) {
    std::int64_t wait = config_.min_backoff.count();
    for (int i = 1; i < failures && wait < config_.max_backoff.count(); ++i) wait *= 2;
    wait = std::min<std::int64_t>(wait, config_.max_backoff.count());
    // +-25%, so that nodes that lost the same peer do not all come back at once.
    const std::int64_t spread = wait / 4;
    if (spread > 0) {
        wait +=
            static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
    }
    return now() + std::max<std::int64_t>(1, wait);
}

bool ConnMan::connected_or_dialing(const std::string& url) const {
    if (dialing_.contains(url)) return true;
    return std::any_of(outbound_.begin(), outbound_.end(),
                       [&](const auto& kv) { return kv.second.url == url; });
}

// --- Manual peers ---------------------------------------------------------------------------

util::Result<void> ConnMan::add_peer(const std::string& text) {
    if (stopped_.load() || !transport_) {
        return util::Unexpected(util::Errc::kUnavailable, "node is stopping");
    }
    auto parsed = transport::parse_peer_url(text);
    if (!parsed) return util::Unexpected(parsed.error());
    if ((transport_bit(parsed->scheme) & transports()) == 0) {
        return util::Unexpected(util::Errc::kInvalidArgument,
                                std::string(transport::scheme_name(parsed->scheme)) +
                                    " transport is disabled on this node");
    }
    if (refused(parsed->host, parsed->port)) {
        return util::Unexpected(util::Errc::kUnavailable,
                                parsed->host_port() + " is banned or discouraged");
    }
    const std::string url = parsed->to_string();
    bool dial_now = false;
    {
        util::LockGuard lock(mutex_);
        auto it = manual_.find(url);
        if (it == manual_.end()) {
            if (manual_.size() >= kMaxManualPeers) {
                return util::Unexpected(util::Errc::kUnavailable,
                                        "already " + std::to_string(kMaxManualPeers) +
                                            " manual peers; remove one first");
            }
            it = manual_.emplace(url, Manual{*parsed, 0, 0, false}).first;
        }
        it->second.self = false;
        it->second.failures = 0;
        it->second.next_attempt = 0;
        if (!connected_or_dialing(url)) {
            dialing_[url] = Outbound{true, url, address_of(*parsed), "", false};
            dial_now = true;
        }
    }
    save_manual_peers();
    if (auto address = address_of(*parsed)) {
        book_.add({{*address, now()}}, addrman::Source{"manual", "", true});
    }
    if (dial_now) {
        spdlog::info("connecting to {}", url);
        dial(url);
    }
    return {};
}

util::Result<void> ConnMan::remove_peer(const std::string& address) {
    auto parsed = transport::parse_peer_url(
        address.find("://") != std::string::npos ? address : "ws://" + address);
    if (!parsed || (address.find("://") == std::string::npos && parsed->path != "/")) {
        return util::Unexpected(
            util::Errc::kInvalidArgument,
            "expected a peer URL or host:port, got '" + address.substr(0, 80) + "'");
    }
    const std::string host_port = parsed->host_port();
    std::vector<std::shared_ptr<transport::Session>> to_close;
    bool found = false;
    {
        util::LockGuard lock(mutex_);
        for (auto it = manual_.begin(); it != manual_.end();) {
            if (it->second.url.host_port() == host_port) {
                it = manual_.erase(it);
                found = true;
            } else {
                ++it;
            }
        }
        for (auto& [url, d] : dialing_) {
            if (d.address && d.address->host_port() == host_port) d.manual = false;
        }
        for (auto& [id, entry] : sessions_) {
            const auto& s = *entry.session;
            bool match = false;
            if (auto out = outbound_.find(id); out != outbound_.end()) {
                match = out->second.address && out->second.address->host_port() == host_port;
                if (match) out->second.manual = false;
            } else if (s.remote_address() == host_port) {
                match = true;
            }
            if (match) to_close.push_back(entry.session);
        }
    }
    if (found) save_manual_peers();
    // Nor is it dialed from the book (gossip may bring it back later, as any address).
    if (auto in_book = address_of(*parsed)) book_.remove(*in_book);
    for (const auto& s : to_close) s->close("removed by the operator");
    if (!found && to_close.empty()) {
        return util::Unexpected(util::Errc::kNotFound,
                                "no manual peer or connection at " + host_port);
    }
    return {};
}

std::vector<ManualPeer> ConnMan::manual_peers() const {
    util::LockGuard lock(mutex_);
    std::vector<ManualPeer> out;
    for (const auto& entry : manual_) {
        const std::string& url = entry.first;
        const auto& m = entry.second;
        ManualPeer p;
        p.url = url;
        p.failures = m.failures;
        p.connected = std::any_of(outbound_.begin(), outbound_.end(), [&](const auto& kv) {
            return kv.second.url == url && kv.second.ready;
        });
        p.next_attempt = connected_or_dialing(url) ? 0 : m.next_attempt;
        out.push_back(std::move(p));
    }
    return out;
}

bool ConnMan::is_manual(peer_manager::PeerId id) const {
    util::LockGuard lock(mutex_);
    auto it = outbound_.find(id);
    return it != outbound_.end() && it->second.manual;
}

void ConnMan::load_manual_peers() {
    const auto path = config_.data_dir / kManualFile;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return;  // none yet
    if (size > kMaxManualFileBytes) {
        spdlog::warn("{}: {} bytes, more than a manual-peers file holds; ignored", path.string(),
                     size);
        return;
    }
    std::ifstream in(path);
    std::string line;
    std::size_t loaded = 0;
    util::LockGuard lock(mutex_);
    while (std::getline(in, line) && manual_.size() < kMaxManualPeers) {
        if (line.empty()) continue;
        auto parsed = transport::parse_peer_url(line);
        if (!parsed) {
            spdlog::warn("{}: skipping '{}': {}", path.string(), line.substr(0, 80),
                         parsed.error().message);
            continue;
        }
        manual_.emplace(parsed->to_string(), Manual{*parsed, 0, 0, false});
        ++loaded;
    }
    if (loaded > 0) spdlog::info("manual peers: {} from {}", loaded, path.string());
}

void ConnMan::save_manual_peers() const {
    if (config_.data_dir.empty()) return;
    util::LockGuard save(save_mutex_);
    std::string text;
    {
        util::LockGuard lock(mutex_);
        for (const auto& [url, m] : manual_) text += url + "\n";
    }
    if (auto r = util::write_file_atomic(config_.data_dir / kManualFile, util::as_bytes(text));
        !r) {
        spdlog::warn("manual peers not saved: {}", r.error().message);
    }
}

void ConnMan::save_book() const {
    if (config_.data_dir.empty()) return;
    if (auto r = book_.save(config_.data_dir / kBookFile); !r) {
        spdlog::warn("address book not saved: {}", r.error().message);
    }
}

// --- Bans -----------------------------------------------------------------------------------

util::Result<addrman::BanEntry> ConnMan::ban(const std::string& address, std::int64_t seconds) {
    auto key = addrman::parse_ban_address(address);
    if (!key) return util::Unexpected(key.error());
    auto banned = bans_.ban(*key, seconds);
    // In effect even when it could not be saved: disconnect first, then report.
    std::vector<std::pair<std::shared_ptr<transport::Session>, std::uint16_t>> sessions;
    std::map<peer_manager::PeerId, std::uint16_t> listen_ports;
    if (auto* peers = peers_.load()) {
        for (const auto& info : peers->peers()) listen_ports[info.id] = info.listen_port;
    }
    {
        util::LockGuard lock(mutex_);
        for (const auto& [id, entry] : sessions_) {
            std::uint16_t port = 0;
            if (auto out = outbound_.find(id); out != outbound_.end() && out->second.address) {
                port = out->second.address->port;
            } else if (auto lp = listen_ports.find(id); lp != listen_ports.end()) {
                port = lp->second;
            }
            sessions.emplace_back(entry.session, port);
        }
    }
    for (const auto& [s, port] : sessions) {
        if (bans_.is_banned(host_of(s->remote_address()), port)) s->close("banned address");
    }
    if (!banned) return util::Unexpected(banned.error());
    for (const auto& entry : bans_.list()) {
        if (entry.address == *key && entry.kind == addrman::BanKind::kBanned) return entry;
    }
    // Over already (a clock that jumped): as it was made.
    const std::int64_t t = now();
    return addrman::BanEntry{addrman::BanKind::kBanned, *key, t, t + seconds};
}

util::Result<bool> ConnMan::unban(const std::string& address) { return bans_.unban(address); }

// --- Dialing --------------------------------------------------------------------------------

void ConnMan::dial(const std::string& url) {
    if (auto r = transport_ ? transport_->dial(url)
                            : util::Result<void>(
                                  util::Unexpected(util::Errc::kUnavailable, "node is stopping"));
        !r) {
        on_dial_failed(url, r.error().message);
    }
}

std::optional<ConnMan::Outbound> ConnMan::pick_outbound() {
    std::set<std::string> groups;
    std::set<std::string> busy;  // host:port we are connected to or dialing
    std::set<std::string> self;
    std::set<std::string> local_hosts;
    {
        util::LockGuard lock(mutex_);
        for (const auto& [url, d] : dialing_) {
            if (!d.group.empty()) groups.insert(d.group);
            if (d.address) busy.insert(d.address->host_port());
        }
        for (const auto& [id, o] : outbound_) {
            if (!o.group.empty()) groups.insert(o.group);
            if (o.address) busy.insert(o.address->host_port());
        }
        // A node linked to us the other way is dialed all the same, as Bitcoin Core does:
        // outbound peers are the ones we chose (an inbound peer is anyone's choice), and
        // only an outbound link asks the peer for its addresses.
        self = self_;
        local_hosts = local_hosts_;
    }
    // Our own listening address is not dialed (Bitcoin Core skips its local addresses):
    // the handshake's nonce would catch it, after a connection and a log line each time.
    const std::uint16_t listening = listen_port();
    const auto ours_too = [&](const addrman::NetAddress& a) {
        return a.port == listening && local_hosts.contains(a.host);
    };
    const std::uint8_t ours = transports();
    const std::int64_t t = now();
    for (int tries = 0; tries < 8; ++tries) {
        auto picked = book_.select(false, [&](const addrman::NetAddress& a) {
            const std::string hp = a.host_port();
            return (a.transports & ours) != 0 && !busy.contains(hp) && !self.contains(hp) &&
                   !ours_too(a) && !groups.contains(a.group()) && !refused(a.host, a.port);
        });
        if (!picked) return std::nullopt;
        if (picked->last_try > t - kRetryAfter) {
            busy.insert(picked->address.host_port());
            continue;
        }
        auto url = url_for(picked->address, ours);
        if (!url) continue;
        return Outbound{false, *url, picked->address, picked->address.group(), false};
    }
    return std::nullopt;
}

void ConnMan::on_tick() {
    if (stopped_.load() || !transport_) return;
    const std::int64_t t = now();
    std::vector<std::string> to_dial;
    std::size_t automatic = 0;
    {
        util::LockGuard lock(mutex_);
        for (auto& [url, m] : manual_) {
            if (m.self || t < m.next_attempt || connected_or_dialing(url)) continue;
            if (refused(m.url.host, m.url.port)) continue;
            dialing_[url] = Outbound{true, url, address_of(m.url), "", false};
            to_dial.push_back(url);
        }
        for (const auto& [url, d] : dialing_) automatic += d.manual ? 0 : 1;
        for (const auto& [id, o] : outbound_) automatic += o.manual ? 0 : 1;
    }
    for (int n = 0; n < kDialsPerTick && automatic < config_.max_outbound; ++n) {
        auto next = pick_outbound();
        if (!next) break;
        book_.attempt(*next->address, false);
        {
            util::LockGuard lock(mutex_);
            if (connected_or_dialing(next->url)) continue;
            dialing_[next->url] = *next;
        }
        ++automatic;
        spdlog::debug("p2p: dialing {} from the address book", next->url);
        to_dial.push_back(next->url);
    }
    for (const auto& url : to_dial) dial(url);
    if (t >= next_book_save_.load()) {
        next_book_save_.store(t + config_.book_save_interval.count());
        save_book();
        bans_.sweep();
    }
}

void ConnMan::outbound_failed(Outbound outbound, const std::string& reason) {
    if (outbound.manual) {
        std::int64_t next = 0;
        int failures = 0;
        {
            util::LockGuard lock(mutex_);
            auto it = manual_.find(outbound.url);
            if (it == manual_.end()) return;  // removed meanwhile
            failures = ++it->second.failures;
            next = it->second.next_attempt = backoff(failures);
        }
        spdlog::info("could not connect to {}: {}; next attempt in {} s", outbound.url, reason,
                     next - now());
        return;
    }
    spdlog::debug("p2p: could not connect to {}: {}", outbound.url, reason);
    if (outbound.address) book_.attempt(*outbound.address, true);
}

// --- transport::Handler ---------------------------------------------------------------------

void ConnMan::on_open(std::shared_ptr<transport::Session> session) {
    const auto id = session->id();
    const bool inbound = session->direction() == transport::Direction::kInbound;
    peer_manager::ConnectionInfo info;
    info.direction = to_peer_direction(session->direction());
    info.address = session->remote_address();
    info.url = session->url();
    info.local_address = session->local_address();
    info.transport = transport_bit(session->transport());

    std::optional<transport::SessionId> evict;
    bool over = false;
    {
        util::LockGuard lock(mutex_);
        sessions_[id] = SessionEntry{session, make_receive_queue(session)};
        // The host we are reached at on this link: with our listening port, an address
        // of ours, which peers' addr messages may offer back to us.
        const std::string local = host_of(session->local_address());
        if (!local.empty() && local_hosts_.size() < kMaxLocalHosts) local_hosts_.insert(local);
        if (inbound) {
            const std::string host = host_of(session->remote_address());
            inbound_[id] = Inbound{now(), host, "inbound:" + host, false};
            over = inbound_.size() > config_.max_inbound;
        } else if (auto it = dialing_.find(session->url()); it != dialing_.end()) {
            outbound_[id] = std::move(it->second);
            dialing_.erase(it);
        } else {
            outbound_[id] = Outbound{false, session->url(), std::nullopt, "", false};
        }
    }
    if (over) {
        evict = pick_eviction(id);
        if (evict) {
            if (auto victim = this->session(*evict)) {
                spdlog::info("p2p: inbound slots full: evicting {} for {}",
                             victim->remote_address(), session->remote_address());
                victim->abort("evicted: inbound slots full");
            }
        } else {
            spdlog::info("p2p: inbound slots full, every peer protected: refusing {}",
                         session->remote_address());
            session->abort("inbound slots full");
        }
    }
    executor_.post([this, id, info] { peers_.load()->on_peer_connected(id, info); });
}

std::optional<transport::SessionId> ConnMan::pick_eviction(transport::SessionId newcomer) {
    std::map<peer_manager::PeerId, peer_manager::PeerInfo> infos;
    if (auto* peers = peers_.load()) {
        for (auto& info : peers->peers()) infos[info.id] = std::move(info);
    }
    std::vector<EvictionCandidate> candidates;
    {
        util::LockGuard lock(mutex_);
        for (const auto& [id, in] : inbound_) {
            if (id == newcomer) continue;
            EvictionCandidate c;
            c.id = id;
            c.connected_at = in.connected_at;
            c.group = in.group;
            if (auto it = infos.find(id); it != infos.end()) {
                c.handshake_done = it->second.handshake_complete;
                c.ping_ms = it->second.ping_ms;
                c.last_block_at = it->second.last_block_at;
                c.last_tx_at = it->second.last_tx_at;
            }
            candidates.push_back(std::move(c));
        }
    }
    return select_inbound_to_evict(std::move(candidates), eviction_key_);
}

std::shared_ptr<ReceiveQueue> ConnMan::make_receive_queue(
    const std::shared_ptr<transport::Session>& session) {
    std::weak_ptr<transport::Session> link = session;
    return std::make_shared<ReceiveQueue>(
        config_.receive_buffer_bytes, [link, pauses = receive_pauses_](bool pause) {
            const auto s = link.lock();
            if (!s) return;
            if (!pause) return s->resume_reading();
            spdlog::debug("p2p peer {}: reading paused, its messages wait to be handled", s->id());
            if (pauses != nullptr) pauses->inc();
            s->pause_reading();
        });
}

void ConnMan::on_message(std::shared_ptr<transport::Session> session, util::Bytes payload) {
    std::shared_ptr<ReceiveQueue> queue;
    {
        util::LockGuard lock(mutex_);
        auto it = sessions_.find(session->id());
        if (it == sessions_.end()) return;
        queue = it->second.queue;
    }
    count(bytes_in_, payload);
    // Decoded (and a block checked on its own) here, on the transport's thread, beside the
    // chain executor's work rather than in it.
    const std::size_t raw = transport::held_bytes(payload);
    peer_manager::PreparedMessage prepared = peers_.load()->prepare(payload);
    payload = util::Bytes{};
    // Counted as the memory the message holds while it waits (its buffer, or what decoding
    // made of it, and what the queue keeps of it), not only its payload: many tiny
    // messages are not free. Over the receive buffer, the queue pauses this link.
    const std::size_t held = std::max(raw, prepared.memory() + transport::kQueuedMessageOverhead);
    if (!queue->add(held)) {
        session->close("flooding: too much unprocessed data");
        return;
    }
    executor_.post(
        [this, id = session->id(), queue, held, prepared = std::move(prepared)]() mutable {
            queue->remove(held);
            peers_.load()->on_message(id, std::move(prepared));
        });
}

void ConnMan::on_close(transport::SessionId id, std::string reason) {
    std::optional<Outbound> failed;
    {
        util::LockGuard lock(mutex_);
        sessions_.erase(id);
        inbound_.erase(id);
        if (auto it = outbound_.find(id); it != outbound_.end()) {
            Outbound o = std::move(it->second);
            outbound_.erase(it);
            if (o.ready && o.manual) {
                // It was up: come back soon, from the start of the backoff.
                if (auto m = manual_.find(o.url); m != manual_.end()) {
                    m->second.failures = 0;
                    m->second.next_attempt = backoff(1);
                }
            } else if (!o.ready) {
                failed = std::move(o);
            }
        }
    }
    if (failed) outbound_failed(std::move(*failed), reason);
    executor_.post([this, id, reason] { peers_.load()->on_peer_disconnected(id, reason); });
}

void ConnMan::on_dial_failed(std::string url, std::string reason) {
    std::optional<Outbound> failed;
    {
        util::LockGuard lock(mutex_);
        if (auto it = dialing_.find(url); it != dialing_.end()) {
            failed = std::move(it->second);
            dialing_.erase(it);
        }
    }
    if (failed) {
        outbound_failed(std::move(*failed), reason);
    } else {
        spdlog::warn("could not connect to {}: {}", url, reason);
    }
}

// --- peer_manager::PeerSender ---------------------------------------------------------------

void ConnMan::count(std::array<util::metrics::Counter*, kMessageTypes>& counters,
                    const util::Bytes& message) noexcept {
    if (message.empty()) return;
    const std::size_t type = message[0] < kMessageTypes ? message[0] : 0;
    if (counters[type] != nullptr) counters[type]->inc(message.size());
}

void ConnMan::send(peer_manager::PeerId id, std::shared_ptr<const util::Bytes> message) {
    if (auto s = session(id)) {
        count(bytes_out_, *message);
        s->send(std::move(message));
    }
}

void ConnMan::disconnect(peer_manager::PeerId id, std::string reason) {
    if (auto s = session(id)) s->close(std::move(reason));
}

std::size_t ConnMan::queued_bytes(peer_manager::PeerId id) const {
    auto s = session(id);
    return s ? s->queued_bytes() : 0;
}

bool ConnMan::reading_paused(peer_manager::PeerId id) const {
    util::LockGuard lock(mutex_);
    auto it = sessions_.find(id);
    return it != sessions_.end() && it->second.queue->paused();
}

void ConnMan::notify_when_drained(peer_manager::PeerId id, std::size_t below) {
    if (auto s = session(id)) {
        s->when_drained(below, [this, id] {
            executor_.post([this, id] { peers_.load()->on_send_drained(id); });
        });
    }
}

void ConnMan::peer_ready(peer_manager::PeerId id, std::uint16_t listen_port) {
    std::optional<addrman::NetAddress> good;
    std::optional<addrman::NetAddress> heard;
    std::string heard_host;
    bool crowded = false;
    std::string group;
    {
        util::LockGuard lock(mutex_);
        if (auto out = outbound_.find(id); out != outbound_.end()) {
            out->second.ready = true;
            if (out->second.manual) {
                if (auto m = manual_.find(out->second.url); m != manual_.end()) {
                    m->second.failures = 0;
                }
            }
            good = out->second.address;
        } else if (auto in = inbound_.find(id); in != inbound_.end()) {
            in->second.ready = true;
            auto s = sessions_.find(id);
            if (listen_port != 0 && s != sessions_.end()) {
                auto parsed = addrman::NetAddress::parse(
                    in->second.host, listen_port, transport_bit(s->second.session->transport()));
                if (parsed) {
                    heard = *parsed;
                    heard_host = in->second.host;
                    in->second.group = parsed->group();
                }
            }
            group = in->second.group;
            const auto same = std::count_if(inbound_.begin(), inbound_.end(), [&](const auto& kv) {
                return kv.second.ready && kv.second.group == group;
            });
            crowded = static_cast<std::size_t>(same) > config_.max_inbound_per_group;
        }
    }
    if (good) {
        // A manual peer goes into the book too, as a known good address.
        book_.add({{*good, now()}}, addrman::Source{"connected", "", true});
        book_.good(*good);
    }
    if (heard) book_.add({{*heard, now()}}, addrman::Source{"inbound", heard_host, false});
    if (crowded) {
        if (auto s = session(id)) {
            s->close("too many inbound peers from " + group + " (limit " +
                     std::to_string(config_.max_inbound_per_group) + ")");
        }
    }
}

void ConnMan::self_connection(peer_manager::PeerId id) {
    std::optional<addrman::NetAddress> address;
    {
        util::LockGuard lock(mutex_);
        auto out = outbound_.find(id);
        if (out == outbound_.end()) return;
        address = out->second.address;
        if (address) self_.insert(address->host_port());
        if (out->second.manual) {
            if (auto m = manual_.find(out->second.url); m != manual_.end()) m->second.self = true;
            spdlog::warn("manual peer {} is this node itself; not dialing it again",
                         out->second.url);
        }
    }
    if (address) book_.remove(*address);
}

}  // namespace peerchain::net::connman
