// Internal to net/peer_manager: TxRelay, transaction relay through the memory pool
// (docs/PROTOCOL.md 4.9), following Bitcoin Core's net_processing, simplified: inv of
// transactions, getdata and tx, notfound, the `mempool` message, orphans held until their
// parents come, and what a peer is known to have so that nothing goes to it twice.
// Policy refusals are remembered, never punished; a consensus-invalid transaction
// disconnects and discourages its sender.
//
// Per-peer state (known transactions, queued announcements, the tx serve queue) lives in
// Peer; the request tracker, orphans and the recent-reject and recent-confirmed sets live
// here.
//
// Thread-safety: none; the chain executor only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "chain/chainstate.hpp"
#include "mempool/mempool.hpp"
#include "net/peer_manager/orphan_pool.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/rolling_set.hpp"
#include "net/peer_manager/tx_request_tracker.hpp"

namespace peerchain::net::peer_manager {

class TxRelay {
  public:
    TxRelay(PeerContext& context, const chain::Chainstate& chain, mempool::Mempool& mempool,
            const Config& config, std::mt19937_64& rng);

    // --- Messages from a peer past the handshake ---
    // The transaction items of an inv (other items are ignored here).
    void on_inv(Peer& peer, const std::vector<wire::InvItem>& items);
    void on_tx(Peer& peer, wire::TxMessage& message);
    // The transaction items of a getdata are queued for serving (the caller has checked
    // the queue limit); served by serve().
    void queue_getdata(Peer& peer, const std::vector<wire::InvItem>& items);
    // The transaction items of a notfound. Returns true when one was requested from it.
    void on_notfound(Peer& peer, const std::vector<wire::InvItem>& items);
    void on_mempool(Peer& peer);

    // Sends queued transactions to `peer` while its per-tick byte budget lasts. Those the
    // pool no longer has are added to `not_found`, for the caller to send with its own.
    void serve(Peer& peer, wire::NotFoundMessage& not_found);
    // Sends `mempool` once, when neither side is still catching up.
    void maybe_request_mempool(Peer& peer);
    // Queued announcements go out in one inv (at the end of every event).
    void flush_announcements(Peer& peer);
    // Asks peers for the transactions they announced that we still want.
    void request_from_all();

    // A transaction of this node's own entered the pool: announce it to every peer.
    void relay_transaction(const core::Uint256& txid);

    // --- Chain events (after the pool has seen them) ---
    // Blocks further than this below the best header (a sync) leave no trace in the
    // requests and the recently-confirmed filter: a day of blocks at Bitcoin's pace.
    static constexpr std::uint32_t kRememberBelowBest = 144;
    // `block` joined the active chain at `height`.
    void on_block_connected(const core::Block& block, std::uint32_t height);
    void on_tip_changed(bool reorg);

    // --- Peers and time ---
    void on_tick(std::int64_t now);
    // The peer is being dropped: nothing more is served to it or asked of it.
    void drop_peer(Peer& peer);
    // The link is gone: its orphans go too.
    void remove_peer(PeerId id);

    std::size_t in_flight(PeerId peer) const { return tx_requests_.in_flight(peer); }
    RelayInfo info() const;
    // Whether the node is near enough to the best header to want transactions: Bitcoin
    // ignores them in initial block download.
    bool ready() const;

  private:
    bool already_have(const core::Uint256& txid) const;
    void request(Peer& peer);
    void process(Peer& peer, const mempool::TxPtr& tx, const core::Uint256& txid);
    void keep_orphan(Peer& peer, const mempool::TxPtr& tx, const core::Uint256& txid);
    void retry_orphans(std::deque<core::Uint256> candidates, bool candidates_are_parents);
    void announce(const core::Uint256& txid);
    // Tells the sender why its transaction was refused (at most once per tx message).
    void send_reject(Peer& peer, const core::Uint256& txid, const std::string& reason,
                     const std::string& detail);

    PeerContext& context_;
    const chain::Chainstate& chain_;
    mempool::Mempool& mempool_;
    const Config& config_;

    TxRequestTracker tx_requests_;
    OrphanPool orphans_;
    // Refused for policy; cleared when the tip changes (what was refused may fit then).
    RollingSet recent_rejects_;
    // In recently connected blocks; cleared on a reorg (they may be back in the pool).
    RollingSet recent_confirmed_;
    // Orphans spending outputs of blocks just connected: tried when the tip has moved.
    std::vector<core::Uint256> orphans_to_retry_;
    std::uint64_t txs_accepted_ = 0;
    std::uint64_t txs_ignored_ = 0;
};

}  // namespace peerchain::net::peer_manager
