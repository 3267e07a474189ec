// Internal to net/peer_manager: AddrRelay, address gossip (docs/PROTOCOL.md 4.7), after
// Bitcoin Core's net_processing (ProcessAddrs, RelayAddress, MaybeSendAddr):
// - after an outbound handshake we ask the peer for its addresses (getaddr), and every
//   peer learns our own listening address, then again about once a day;
// - a getaddr is answered once per connection with a random part of the address book
//   (at most 1,000 addresses, none stale, none the asker could not reach);
// - addresses a peer sends go to the book; each peer's are limited by a token bucket
//   (0.1 a second, bursts of 1,000, the bucket topped up by 1,000 when we ask it), so a
//   flood costs the flooder, not our memory or the book;
// - a small unsolicited addr (at most 10 fresh addresses) is relayed to two peers chosen
//   by a keyed hash of the address and the day: gossip spreads, but the same address
//   does not echo around the network;
// - a peer that sent `sendaddrv2` gets addrv2, which carries each address's transports;
//   others get addr with the WebSocket listeners only.
// Nothing here trusts what a peer says: the book checks every address again
// (addrman::AddrMan::add, the locality rule).
//
// Thread-safety: none; the chain executor only. The book has its own lock.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "net/addrman/addr_man.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/peer_manager.hpp"

namespace peerchain::net::peer_manager {

class AddrRelay {
  public:
    AddrRelay(PeerContext& context, addrman::AddrMan& book, const Config& config,
              std::mt19937_64& rng);

    // The handshake with `peer` is complete: ask an outbound peer for addresses, and tell
    // every peer where we listen.
    void on_handshake(Peer& peer);
    void on_getaddr(Peer& peer);
    // An addr (v2 false) or addrv2 (v2 true) message.
    void on_addr(Peer& peer, const std::vector<wire::NetAddress>& addresses, bool v2);
    // Sends what was queued for relay, and the daily self-advertisements that are due.
    void on_tick(std::int64_t now);

    // Our own address as `peer` should know it: the configured external host or our end of
    // its link, with our listening port and transports. Empty host when we do not listen.
    wire::NetAddress own_address(const Peer& peer) const;

  private:
    void refill(Peer& peer, std::int64_t now) const;
    // Queues `address` for `peer` unless it knows it already.
    void queue(Peer& peer, const wire::NetAddress& address);
    void relay(const addrman::NetAddress& address, const wire::NetAddress& entry, PeerId from);
    void send(Peer& peer, std::vector<wire::NetAddress> addresses);
    void advertise(Peer& peer);
    core::Uint256 address_key(const wire::NetAddress& address) const;

    PeerContext& context_;
    addrman::AddrMan& book_;
    const Config& config_;
    std::mt19937_64& rng_;
    // Keys the choice of relay targets (and the per-peer known-address filter), so that
    // nobody outside can steer which peers an address goes to.
    std::array<std::uint8_t, 32> key_{};
};

}  // namespace peerchain::net::peer_manager
