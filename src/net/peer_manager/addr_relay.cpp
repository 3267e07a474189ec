#include "net/peer_manager/addr_relay.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "crypto/sha256.hpp"

namespace peerchain::net::peer_manager {

namespace {

using addrman::host_of;

// Only a small unsolicited addr is relayed, and only fresh addresses in it (Core: 10, and
// 10 minutes): an answer to getaddr, or an old address, is not news.
constexpr std::size_t kMaxRelayedPerMessage = 10;
constexpr std::int64_t kFreshSeconds = 10 * 60;
// Addresses relayed to each peer for an address and a day (Core: 2).
constexpr std::size_t kRelayTargets = 2;
// What a getaddr answer holds at most: a part of the book, as Core's GETADDR_PERCENT, so
// that a peer cannot scrape the whole book in one go; but at least this many from a small
// book (23% of a young network's few addresses is none).
constexpr std::size_t kGetAddrPercent = 23;
constexpr std::size_t kGetAddrMinimum = 100;

std::uint8_t known_transports(std::uint8_t bits) {
    return static_cast<std::uint8_t>(bits & (wire::kAddrWebSocket | wire::kAddrTcp));
}

// The address a peer gave for itself: the host we see, with the port it listens on.
std::string peer_label(const Peer& peer) {
    if (peer.info.direction == Direction::kOutbound || peer.version.listen_port == 0) {
        return peer.info.address;
    }
    const std::string host = host_of(peer.info.address);
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(peer.version.listen_port);
}

}  // namespace

AddrRelay::AddrRelay(PeerContext& context, addrman::AddrMan& book, const Config& config,
                     std::mt19937_64& rng)
    : context_(context), book_(book), config_(config), rng_(rng) {
    for (auto& b : key_) b = static_cast<std::uint8_t>(rng_());
}

core::Uint256 AddrRelay::address_key(const wire::NetAddress& address) const {
    crypto::Sha256 h;
    h.write(key_);
    h.write(util::as_bytes(address.host));
    const std::uint8_t port[2] = {static_cast<std::uint8_t>(address.port),
                                  static_cast<std::uint8_t>(address.port >> 8)};
    h.write(port);
    core::Uint256 out;
    const auto digest = h.finalize();
    std::copy(digest.begin(), digest.end(), out.data());
    return out;
}

wire::NetAddress AddrRelay::own_address(const Peer& peer) const {
    if (config_.listen_port == 0) return {};
    const std::string host =
        config_.external_host.empty() ? host_of(peer.info.local_address) : config_.external_host;
    auto parsed = addrman::NetAddress::parse(host, config_.listen_port, config_.transports);
    if (!parsed) return {};
    return {parsed->host, parsed->port, context_.now(), parsed->transports};
}

void AddrRelay::refill(Peer& peer, std::int64_t now) const {
    if (now > peer.addr_tokens_at) {
        peer.addr_tokens = std::min(
            config_.addr_burst,
            peer.addr_tokens + static_cast<double>(now - peer.addr_tokens_at) * config_.addr_rate);
    }
    peer.addr_tokens_at = now;
}

void AddrRelay::on_handshake(Peer& peer) {
    const std::int64_t now = context_.now();
    peer.addr_tokens_at = now;
    if (peer.info.direction == Direction::kOutbound) {
        // Its answer is welcome: room for it in the bucket (Core does the same).
        context_.send(peer, wire::GetAddrMessage{});
        peer.getaddr_sent = true;
        peer.addr_tokens += static_cast<double>(wire::kMaxAddresses);
    }
    advertise(peer);
}

void AddrRelay::advertise(Peer& peer) {
    const std::int64_t now = context_.now();
    const std::int64_t interval =
        std::max<std::int64_t>(1, config_.self_advertise_interval.count());
    peer.next_self_advertisement =
        now + interval / 2 +
        static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(interval));
    const wire::NetAddress self = own_address(peer);
    if (self.host.empty()) return;
    peer.known_addresses.insert(address_key(self));
    send(peer, {self});
}

void AddrRelay::send(Peer& peer, std::vector<wire::NetAddress> addresses) {
    if (!peer.wants_addrv2) {
        // addr carries no transports: it stands for WebSocket listeners only.
        std::erase_if(addresses, [](const wire::NetAddress& a) {
            return (a.transports & wire::kAddrWebSocket) == 0;
        });
    }
    for (std::size_t at = 0; at < addresses.size(); at += wire::kMaxAddresses) {
        const auto end = addresses.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                 addresses.size(), at + wire::kMaxAddresses));
        std::vector<wire::NetAddress> part(addresses.begin() + static_cast<std::ptrdiff_t>(at),
                                           end);
        if (peer.wants_addrv2) {
            context_.send(peer, wire::AddrV2Message{std::move(part)});
        } else {
            context_.send(peer, wire::AddrMessage{std::move(part)});
        }
    }
}

void AddrRelay::on_getaddr(Peer& peer) {
    // Answered once per connection, and only to inbound peers: an outbound peer is one we
    // chose, and answering it would let it fingerprint us (Core does the same).
    if (peer.getaddr_answered || peer.info.direction != Direction::kInbound) return;
    peer.getaddr_answered = true;
    const std::string peer_host = host_of(peer.info.address);
    const bool v2 = peer.wants_addrv2;
    const auto sample = book_.sample(
        wire::kMaxAddresses, kGetAddrPercent,
        [&](const addrman::NetAddress& a) {
            return addrman::accept_from(a, peer_host) &&
                   (v2 || (a.transports & addrman::kTransportWebSocket) != 0);
        },
        kGetAddrMinimum);
    std::vector<wire::NetAddress> reply;
    reply.reserve(sample.size());
    for (const auto& [address, last_seen] : sample) {
        wire::NetAddress entry{address.host, address.port, last_seen, address.transports};
        peer.known_addresses.insert(address_key(entry));
        reply.push_back(std::move(entry));
    }
    if (reply.empty()) {
        context_.send(peer, wire::AddrMessage{});
        return;
    }
    send(peer, std::move(reply));
}

void AddrRelay::on_addr(Peer& peer, const std::vector<wire::NetAddress>& addresses, bool v2) {
    const std::int64_t now = context_.now();
    refill(peer, now);
    // The answer to our getaddr (Core: a message under the maximum ends it) is stored,
    // never relayed: it is not news.
    const bool answer = peer.getaddr_sent;
    if (addresses.size() < wire::kMaxAddresses) peer.getaddr_sent = false;
    const bool relay_ok = !answer && addresses.size() <= kMaxRelayedPerMessage;
    const std::string peer_host = host_of(peer.info.address);

    std::vector<addrman::AddrMan::Timed> accepted;
    std::size_t limited = 0;
    for (const auto& entry : addresses) {
        if (peer.addr_tokens < 1) {
            ++limited;
            continue;
        }
        peer.addr_tokens -= 1;
        peer.known_addresses.insert(address_key(entry));
        const std::uint8_t transports =
            v2 ? known_transports(entry.transports) : wire::kAddrWebSocket;
        auto parsed = addrman::NetAddress::parse(entry.host, entry.port, transports);
        if (!parsed || !addrman::accept_from(*parsed, peer_host)) continue;
        if (entry.last_seen > now + kFreshSeconds) continue;
        accepted.emplace_back(*parsed, entry.last_seen);
        if (relay_ok && entry.last_seen >= now - kFreshSeconds) {
            relay(*parsed, {parsed->host, parsed->port, entry.last_seen, parsed->transports},
                  peer.id);
        }
    }
    if (limited > 0) {
        peer.addrs_rate_limited += limited;
        spdlog::debug("p2p: peer {}: {} addresses beyond its rate limit ignored", peer.id, limited);
    }
    if (accepted.empty()) return;
    const std::size_t added =
        book_.add(accepted, addrman::Source{"addr from " + peer_label(peer), peer_host, false});
    spdlog::debug("p2p: peer {}: {} addresses, {} new in the book", peer.id, accepted.size(),
                  added);
}

// Bitcoin Core's RelayAddress: the targets come from a keyed hash of the address, the day
// and each peer, so that the same address goes to the same two peers all day (it does not
// echo) and nobody can pick them.
void AddrRelay::relay(const addrman::NetAddress& address, const wire::NetAddress& entry,
                      PeerId from) {
    const std::uint64_t day = static_cast<std::uint64_t>(context_.now() / (24 * 60 * 60));
    const core::Uint256 addr_key = address_key(entry);
    std::vector<std::pair<core::Uint256, Peer*>> ranked;
    for (auto& [id, peer] : context_.peers()) {
        if (id == from || !peer.active()) continue;
        if (!addrman::accept_from(address, host_of(peer.info.address))) continue;
        crypto::Sha256 h;
        h.write(key_);
        h.write(util::ByteSpan(addr_key.data(), core::Uint256::kSize));
        std::uint8_t tail[16];
        for (int i = 0; i < 8; ++i) {
            tail[i] = static_cast<std::uint8_t>(day >> (8 * i));
            tail[8 + i] = static_cast<std::uint8_t>(id >> (8 * i));
        }
        h.write(tail);
        const auto digest = h.finalize();
        core::Uint256 rank;
        std::copy(digest.begin(), digest.end(), rank.data());
        ranked.emplace_back(rank, &peer);
    }
    const std::size_t n = std::min(kRelayTargets, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                      [](const auto& a, const auto& b) { return b.first < a.first; });
    for (std::size_t i = 0; i < n; ++i) queue(*ranked[i].second, entry);
}

void AddrRelay::queue(Peer& peer, const wire::NetAddress& address) {
    if (!peer.known_addresses.insert(address_key(address))) return;
    if (peer.addr_queue.size() >= wire::kMaxAddresses) {
        // Full: a random one makes room, so that no sender decides what survives.
        peer.addr_queue[rng_() % peer.addr_queue.size()] = address;
        return;
    }
    peer.addr_queue.push_back(address);
}

void AddrRelay::on_tick(std::int64_t now) {
    for (auto& [id, peer] : context_.peers()) {
        if (!peer.active()) continue;
        if (!peer.addr_queue.empty()) send(peer, std::exchange(peer.addr_queue, {}));
        if (now >= peer.next_self_advertisement) advertise(peer);
    }
}

}  // namespace peerchain::net::peer_manager
