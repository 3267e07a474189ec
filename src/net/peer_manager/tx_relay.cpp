#include "net/peer_manager/tx_relay.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace peerchain::net::peer_manager {

using core::Uint256;

TxRelay::TxRelay(PeerContext& context, const chain::Chainstate& chain, mempool::Mempool& mempool,
                 const Config& config, std::mt19937_64& rng)
    : context_(context),
      chain_(chain),
      mempool_(mempool),
      config_(config),
      tx_requests_(TxRequestLimits{config.max_tx_announcements, config.max_tx_in_flight_per_peer,
                                   config.max_tx_in_flight, config.tx_request_timeout}),
      orphans_(OrphanLimits{config.max_orphans, chain.params().max_tx_size, config.orphan_expiry},
               rng),
      recent_rejects_(config.max_recent_rejects),
      recent_confirmed_(config.max_recent_confirmed) {}

// Bitcoin ignores transactions during its initial block download: their parents are in
// blocks we do not have yet, so they would only fill the orphan pool.
bool TxRelay::ready() const { return chain_.best_header()->height <= chain_.tip()->height + 1; }

bool TxRelay::already_have(const Uint256& txid) const {
    return recent_rejects_.contains(txid) || recent_confirmed_.contains(txid) ||
           orphans_.contains(txid) || mempool_.contains(txid);
}

// --- Announcements and requests ---------------------------------------------------------------

void TxRelay::on_inv(Peer& peer, const std::vector<wire::InvItem>& items) {
    const bool want = ready();
    for (const auto& item : items) {
        if (item.type != wire::InvType::kTx) continue;
        peer.known_txs.insert(item.hash);
        // Beyond max_tx_announcements the tracker keeps nothing: an inv flood costs the
        // flooder, not our memory.
        if (want && !already_have(item.hash)) tx_requests_.announce(peer.id, item.hash);
    }
    request(peer);
}

void TxRelay::request(Peer& peer) {
    if (!peer.active()) return;
    const auto txids = tx_requests_.next_requests(
        peer.id, context_.now(), [this](const Uint256& txid) { return already_have(txid); });
    wire::GetDataMessage message;
    for (const auto& txid : txids) {
        message.items.push_back({wire::InvType::kTx, txid});
        if (message.items.size() == wire::kMaxInvItems) {
            context_.send(peer, message);
            message.items.clear();
        }
    }
    if (!message.items.empty()) context_.send(peer, message);
}

void TxRelay::request_from_all() {
    for (auto& [id, peer] : context_.peers()) request(peer);
}

void TxRelay::announce(const Uint256& txid) {
    for (auto& [id, peer] : context_.peers()) {
        if (!peer.active()) continue;
        if (!peer.known_txs.insert(txid)) continue;
        peer.pending_tx_inv.push_back(txid);
        if (peer.pending_tx_inv.size() == wire::kMaxInvItems) flush_announcements(peer);
    }
}

void TxRelay::flush_announcements(Peer& peer) {
    if (peer.pending_tx_inv.empty() || peer.disconnecting) return;
    wire::InvMessage inv;
    inv.items.reserve(peer.pending_tx_inv.size());
    for (const auto& txid : peer.pending_tx_inv) inv.items.push_back({wire::InvType::kTx, txid});
    peer.pending_tx_inv.clear();
    context_.send(peer, inv);
}

void TxRelay::relay_transaction(const Uint256& txid) {
    if (!mempool_.contains(txid)) return;
    // Ours now: no need to fetch it from anyone.
    tx_requests_.forget(txid);
    announce(txid);
}

// We ask a peer for its pool once, when neither side is still catching up on blocks
// (before that its transactions would spend outputs one of us does not have). Issue 9: a
// peer far behind (at genesis right after the handshake, answering our getheaders with
// nothing) was asked at once. Our side: not in block download, our getheaders answered,
// and the peer shows no more work than our tip. Its side: it is known to have our tip, or
// a block with at least the work of our tip's parent (one block behind is a block in
// flight, not a sync). Called again whenever one of these can change: headers from it,
// its getheaders, a block sent to it, a new tip, and every tick.
void TxRelay::maybe_request_mempool(Peer& peer) {
    if (!peer.active() || peer.mempool_requested) return;
    if (!ready() || peer.getheaders_sent_at >= 0) return;
    const chain::BlockIndex* tip = chain_.tip();
    if (peer.best_known != nullptr && peer.best_known->chain_work > tip->chain_work) return;
    // Every peer of the network has genesis.
    const chain::BlockIndex* known =
        peer.best_known != nullptr ? peer.best_known : chain_.at_height(0);
    const chain::BlockIndex* level = tip->prev != nullptr ? tip->prev : tip;
    if (known == nullptr || known->chain_work < level->chain_work) return;
    peer.mempool_requested = true;
    context_.send(peer, wire::MempoolMessage{});
}

// --- Serving --------------------------------------------------------------------------------

void TxRelay::queue_getdata(Peer& peer, const std::vector<wire::InvItem>& items) {
    for (const auto& item : items) {
        // Answered from the pool when served (it may change before then).
        if (item.type == wire::InvType::kTx) peer.tx_serve_queue.push_back(item.hash);
    }
}

void TxRelay::serve(Peer& peer, wire::NotFoundMessage& not_found) {
    while (!peer.tx_serve_queue.empty() && !peer.disconnecting && context_.can_serve(peer)) {
        const Uint256 txid = peer.tx_serve_queue.front();
        peer.tx_serve_queue.pop_front();
        const auto entry = mempool_.get(txid);
        if (!entry) {
            not_found.items.push_back({wire::InvType::kTx, txid});
            if (not_found.items.size() == wire::kMaxInvItems) {
                context_.send(peer, not_found);
                not_found.items.clear();
            }
            continue;
        }
        peer.known_txs.insert(txid);
        auto bytes = wire::encode_message(wire::TxMessage{*entry->tx});
        peer.served_this_tick += bytes.size();
        context_.send_bytes(peer, std::move(bytes));
    }
}

void TxRelay::on_notfound(Peer& peer, const std::vector<wire::InvItem>& items) {
    bool released = false;
    for (const auto& item : items) {
        if (item.type != wire::InvType::kTx) continue;
        if (tx_requests_.requested_from(peer.id, item.hash)) released = true;
        tx_requests_.not_found(peer.id, item.hash);
    }
    if (released) request_from_all();
}

void TxRelay::on_mempool(Peer& peer) {
    // A pool listing costs a walk of the pool: at most once per interval.
    const std::int64_t t = context_.now();
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
            context_.send(peer, inv);
            inv.items.clear();
        }
    }
    if (!inv.items.empty()) context_.send(peer, inv);
}

// --- Transactions from peers ------------------------------------------------------------------

void TxRelay::on_tx(Peer& peer, wire::TxMessage& message) {
    auto tx = std::make_shared<const core::Transaction>(std::move(message.tx));
    const Uint256 txid = tx->txid();
    peer.known_txs.insert(txid);
    if (!tx_requests_.received(peer.id, txid)) {
        // Unasked: a light client may push its own payment, but a flood must not make us
        // validate without end (each costs signature checks).
        const std::int64_t t = context_.now();
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
    if (already_have(txid)) {
        tx_requests_.forget(txid);
        return;
    }
    process(peer, tx, txid);
}

// What the pool's verdict means for the sender (STYLE.md "Errors", DESIGN.md section 5):
// consensus-invalid data is misbehaviour; a policy refusal never is.
void TxRelay::process(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid) {
    const auto result = mempool_.accept(tx);
    tx_requests_.forget(txid);
    switch (result.code) {
        case core::ValidationCode::kOk:
            ++txs_accepted_;
            peer.last_tx_at = context_.now();
            spdlog::debug("p2p: peer {}: tx {} accepted", peer.id, short_hash(txid));
            announce(txid);
            retry_orphans({txid}, true);
            return;
        case core::ValidationCode::kMissingPrev:
            keep_orphan(peer, tx, txid);
            return;
        case core::ValidationCode::kInvalid:
            recent_rejects_.insert(txid);
            context_.drop(peer, invalid_reason("invalid transaction", txid, result), true);
            return;
        case core::ValidationCode::kPolicy:
            recent_rejects_.insert(txid);
            spdlog::debug("p2p: peer {}: tx {} refused: {}", peer.id, short_hash(txid),
                          result.to_string());
            send_reject(peer, txid, result.reason, result.detail);
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

void TxRelay::keep_orphan(Peer& peer, const mempool::TxPtr& tx, const Uint256& txid) {
    std::vector<Uint256> parents;
    for (const auto& in : tx->inputs) {
        if (chain_.coin(in.prevout) || mempool_.output(in.prevout)) continue;
        const Uint256& parent = in.prevout.txid;
        // A parent we refused, or one we have (in a block or the pool) without the output:
        // the orphan can never enter, so it is refused too (Bitcoin does the same). A
        // parent in the chain means the output is spent there (issue 9: also one confirmed
        // long ago, which was kept as an orphan and asked for in vain before).
        const bool refused = recent_rejects_.contains(parent) || mempool_.contains(parent);
        if (refused || recent_confirmed_.contains(parent) || chain_.find_transaction(parent)) {
            recent_rejects_.insert(txid);
            spdlog::debug("p2p: peer {}: tx {} spends a refused or spent output", peer.id,
                          short_hash(txid));
            if (!refused) {
                send_reject(peer, txid, "bad-txns-inputs-missingorspent",
                            "input spends " + parent.to_hex() + ":" +
                                std::to_string(in.prevout.index) +
                                ", already spent in the chain (double spend)");
            }
            return;
        }
        if (std::find(parents.begin(), parents.end(), parent) == parents.end()) {
            parents.push_back(parent);
        }
    }
    if (!orphans_.add(tx, txid, peer.id, context_.now())) return;
    ++txs_accepted_;
    spdlog::debug("p2p: peer {}: tx {} kept as an orphan ({} missing parents, {} orphans)", peer.id,
                  short_hash(txid), parents.size(), orphans_.size());
    // The sender must have the parents: ask it for them.
    for (const auto& parent : parents) {
        if (!orphans_.contains(parent)) tx_requests_.announce(peer.id, parent);
    }
    request(peer);
}

// Issue 9: a policy refusal, or a spend of an output the chain has spent, is something the
// sender could not see from its side; it hears why instead of nothing. Never for invalid
// data (that disconnects, the reason in the close frame), duplicates or kept orphans.
void TxRelay::send_reject(Peer& peer, const Uint256& txid, const std::string& reason,
                          const std::string& detail) {
    context_.send(peer, wire::make_reject(wire::InvType::kTx, txid, reason, detail));
}

// Tries orphans again, iteratively (a chain of orphans could be long enough to overflow
// the stack if each acceptance recursed into the next). `candidates` are either parents
// just accepted (their orphan children are tried) or orphans to try themselves.
void TxRelay::retry_orphans(std::deque<Uint256> candidates, bool candidates_are_parents) {
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
                announce(txid);
                for (const auto& child : orphans_.children_of(txid)) work.push_back(child);
                break;
            case core::ValidationCode::kInvalid:
                recent_rejects_.insert(txid);
                if (Peer* from = context_.find(taken->from); from != nullptr) {
                    context_.drop(*from, invalid_reason("invalid orphan transaction", txid, result),
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

// --- Chain events -----------------------------------------------------------------------------

void TxRelay::on_block_connected(const core::Block& block, std::uint32_t height) {
    // A block a sync connects far below the best header: its transactions are asked for by
    // no one (ready() is false, so nothing is requested), and by the time the sync is over
    // only the last blocks' are worth remembering as confirmed. Hashing every transaction
    // of every block of a sync again for nothing is what this skips (issue 10).
    if (chain_.best_header()->height > height + kRememberBelowBest) {
        for (const auto& txid : orphans_.erase_for_block(block)) orphans_to_retry_.push_back(txid);
        return;
    }
    for (const auto& tx : block.txs) {
        // A coinbase is never relayed on its own, so nobody announces it to be asked for
        // or refused (a sync of coinbase-only blocks would hash each one for nothing).
        if (tx.is_coinbase()) continue;
        const Uint256 txid = tx.txid();
        tx_requests_.forget(txid);
        recent_confirmed_.insert(txid);
    }
    for (const auto& txid : orphans_.erase_for_block(block)) orphans_to_retry_.push_back(txid);
}

void TxRelay::on_tip_changed(bool reorg) {
    // What was refused for policy may fit on the new tip (Bitcoin resets its reject filter
    // here); after a reorg, confirmed transactions may be back in the pool.
    recent_rejects_.clear();
    if (reorg) recent_confirmed_.clear();
    std::deque<Uint256> retry(orphans_to_retry_.begin(), orphans_to_retry_.end());
    orphans_to_retry_.clear();
    retry_orphans(std::move(retry), false);
    for (auto& [id, peer] : context_.peers()) maybe_request_mempool(peer);
}

// --- Peers and time ---------------------------------------------------------------------------

void TxRelay::on_tick(std::int64_t now) {
    tx_requests_.expire(now);
    orphans_.expire(now);
}

void TxRelay::drop_peer(Peer& peer) {
    peer.tx_serve_queue.clear();
    peer.pending_tx_inv.clear();
    tx_requests_.remove_peer(peer.id);
}

void TxRelay::remove_peer(PeerId id) {
    tx_requests_.remove_peer(id);
    orphans_.erase_for_peer(id);
}

RelayInfo TxRelay::info() const {
    RelayInfo info;
    info.orphans = orphans_.size();
    info.txs_in_flight = tx_requests_.in_flight();
    info.tx_announcements = tx_requests_.tracked();
    info.recent_rejects = recent_rejects_.size();
    info.txs_accepted = txs_accepted_;
    info.txs_ignored = txs_ignored_;
    return info;
}

}  // namespace peerchain::net::peer_manager
