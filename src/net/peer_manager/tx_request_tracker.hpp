// TxRequestTracker: which peer announced which transaction, and which of them we asked for
// it (Bitcoin Core's txrequest.h, simplified). A transaction is requested from one peer at
// a time; a request that is not answered before its deadline, or is answered with
// notfound, passes to another peer that announced it. Everything is bounded: the
// announcements kept per peer, the requests in flight per peer and in all.
//
// Thread-safety: none; the peer manager calls it on the chain executor only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/uint256.hpp"
#include "net/peer_manager/peer_sender.hpp"

namespace peerchain::net::peer_manager {

struct TxRequestLimits {
    // Announcements kept per peer, requested or not (Bitcoin: MAX_PEER_TX_ANNOUNCEMENTS).
    std::size_t max_peer_announcements = 5000;
    // Requests in flight to one peer (Bitcoin: MAX_PEER_TX_REQUEST_IN_FLIGHT).
    std::size_t max_peer_in_flight = 100;
    // Requests in flight to all peers together.
    std::size_t max_in_flight = 1000;
    // How long a peer has to answer a request (Bitcoin: GETDATA_TX_INTERVAL).
    std::chrono::seconds timeout{60};
};

class TxRequestTracker {
  public:
    // Limits below 1 are raised to 1.
    explicit TxRequestTracker(TxRequestLimits limits);

    // `peer` announced `txid`. Returns false (and keeps nothing) when the peer already has
    // max_peer_announcements, or announced it before.
    bool announce(PeerId peer, const core::Uint256& txid);

    // What to ask `peer` for now, in the order it announced them: its announcements that
    // are not in flight to anyone, within the in-flight limits. Each becomes a request to
    // `peer` due by `now + timeout`. Announcements for which `already_have` holds are
    // forgotten instead (for every peer).
    std::vector<core::Uint256> next_requests(
        PeerId peer, std::int64_t now,
        const std::function<bool(const core::Uint256&)>& already_have);

    // Whether `txid` is in flight to `peer`.
    bool requested_from(PeerId peer, const core::Uint256& txid) const;
    // The peer sent `txid`: its request (if any) is answered. Returns whether it was one.
    bool received(PeerId peer, const core::Uint256& txid);
    // The peer said it does not have `txid`: its request and its announcement go, so
    // another announcer may be asked.
    void not_found(PeerId peer, const core::Uint256& txid);
    // Requests past their deadline at `now`: like not_found for their peers.
    void expire(std::int64_t now);
    // Nothing more is needed for `txid` (it was accepted, refused or confirmed).
    void forget(const core::Uint256& txid);
    // The peer is gone: its announcements go, its requests may go to others.
    void remove_peer(PeerId peer);

    std::size_t announcements(PeerId peer) const;  // requested or not
    std::size_t in_flight(PeerId peer) const;
    std::size_t in_flight() const { return in_flight_.size(); }
    std::size_t tracked() const { return txs_.size(); }

  private:
    struct Tx {
        std::vector<PeerId> announcers;  // in announcement order
        bool requested = false;
        PeerId requested_from = 0;
        std::int64_t deadline = 0;
    };
    struct Peer {
        // Its announcements not yet requested from it, by arrival.
        std::map<std::uint64_t, core::Uint256> queue;
        std::unordered_map<core::Uint256, std::uint64_t, core::Uint256Hasher> queued;
        std::unordered_set<core::Uint256, core::Uint256Hasher> requested;
    };

    void drop_announcement(PeerId peer, const core::Uint256& txid);
    void clear_request(Tx& tx, const core::Uint256& txid);

    TxRequestLimits limits_;
    std::uint64_t next_seq_ = 0;
    std::unordered_map<core::Uint256, Tx, core::Uint256Hasher> txs_;
    std::unordered_map<PeerId, Peer> peers_;
    std::unordered_set<core::Uint256, core::Uint256Hasher> in_flight_;
};

}  // namespace peerchain::net::peer_manager
