#include "net/peer_manager/tx_request_tracker.hpp"

#include <algorithm>

namespace peerchain::net::peer_manager {

TxRequestTracker::TxRequestTracker(TxRequestLimits limits) : limits_(limits) {
    limits_.max_peer_announcements = std::max<std::size_t>(limits_.max_peer_announcements, 1);
    limits_.max_peer_in_flight = std::max<std::size_t>(limits_.max_peer_in_flight, 1);
    limits_.max_in_flight = std::max<std::size_t>(limits_.max_in_flight, 1);
    limits_.timeout = std::max(limits_.timeout, std::chrono::seconds(1));
}

bool TxRequestTracker::announce(PeerId peer, const core::Uint256& txid) {
    Peer& p = peers_[peer];
    if (p.queued.size() + p.requested.size() >= limits_.max_peer_announcements) return false;
    if (p.queued.contains(txid) || p.requested.contains(txid)) return false;
    Tx& tx = txs_[txid];
    if (std::find(tx.announcers.begin(), tx.announcers.end(), peer) != tx.announcers.end()) {
        // It announced before and failed to deliver (timeout, notfound): not again.
        return false;
    }
    tx.announcers.push_back(peer);
    const std::uint64_t seq = next_seq_++;
    p.queue.emplace(seq, txid);
    p.queued.emplace(txid, seq);
    return true;
}

std::vector<core::Uint256> TxRequestTracker::next_requests(
    PeerId peer, std::int64_t now, const std::function<bool(const core::Uint256&)>& already_have) {
    std::vector<core::Uint256> out;
    auto pit = peers_.find(peer);
    if (pit == peers_.end()) return out;
    std::vector<core::Uint256> have;
    for (auto it = pit->second.queue.begin(); it != pit->second.queue.end();) {
        Peer& p = pit->second;
        if (p.requested.size() >= limits_.max_peer_in_flight ||
            in_flight_.size() >= limits_.max_in_flight) {
            break;
        }
        const core::Uint256 txid = it->second;
        if (already_have && already_have(txid)) {
            have.push_back(txid);
            ++it;
            continue;
        }
        Tx& tx = txs_.at(txid);
        if (tx.requested) {
            ++it;
            continue;
        }
        tx.requested = true;
        tx.requested_from = peer;
        tx.deadline = now + limits_.timeout.count();
        in_flight_.insert(txid);
        p.requested.insert(txid);
        p.queued.erase(txid);
        it = p.queue.erase(it);
        out.push_back(txid);
    }
    for (const auto& txid : have) forget(txid);
    return out;
}

bool TxRequestTracker::requested_from(PeerId peer, const core::Uint256& txid) const {
    auto it = txs_.find(txid);
    return it != txs_.end() && it->second.requested && it->second.requested_from == peer;
}

void TxRequestTracker::clear_request(Tx& tx, const core::Uint256& txid) {
    if (!tx.requested) return;
    if (auto pit = peers_.find(tx.requested_from); pit != peers_.end()) {
        pit->second.requested.erase(txid);
    }
    in_flight_.erase(txid);
    tx.requested = false;
    tx.requested_from = 0;
}

bool TxRequestTracker::received(PeerId peer, const core::Uint256& txid) {
    auto it = txs_.find(txid);
    if (it == txs_.end() || !it->second.requested || it->second.requested_from != peer) {
        return false;
    }
    clear_request(it->second, txid);
    return true;
}

void TxRequestTracker::drop_announcement(PeerId peer, const core::Uint256& txid) {
    auto it = txs_.find(txid);
    if (it == txs_.end()) return;
    Tx& tx = it->second;
    if (tx.requested && tx.requested_from == peer) clear_request(tx, txid);
    if (auto pit = peers_.find(peer); pit != peers_.end()) {
        Peer& p = pit->second;
        if (auto q = p.queued.find(txid); q != p.queued.end()) {
            p.queue.erase(q->second);
            p.queued.erase(q);
        }
    }
    // The peer stays among the announcers (so that announcing it again does not make us
    // ask it again) as long as others may still deliver; with none left, all is forgotten.
    const bool others = std::any_of(tx.announcers.begin(), tx.announcers.end(), [&](PeerId a) {
        if (a == peer) return false;
        auto pit = peers_.find(a);
        return pit != peers_.end() &&
               (pit->second.queued.contains(txid) || pit->second.requested.contains(txid));
    });
    if (!others) txs_.erase(it);
}

void TxRequestTracker::not_found(PeerId peer, const core::Uint256& txid) {
    drop_announcement(peer, txid);
}

void TxRequestTracker::expire(std::int64_t now) {
    std::vector<std::pair<PeerId, core::Uint256>> late;
    for (const auto& txid : in_flight_) {
        const Tx& tx = txs_.at(txid);
        if (now >= tx.deadline) late.emplace_back(tx.requested_from, txid);
    }
    for (const auto& [peer, txid] : late) drop_announcement(peer, txid);
}

void TxRequestTracker::forget(const core::Uint256& txid) {
    auto it = txs_.find(txid);
    if (it == txs_.end()) return;
    clear_request(it->second, txid);
    for (PeerId a : it->second.announcers) {
        auto pit = peers_.find(a);
        if (pit == peers_.end()) continue;
        Peer& p = pit->second;
        if (auto q = p.queued.find(txid); q != p.queued.end()) {
            p.queue.erase(q->second);
            p.queued.erase(q);
        }
    }
    txs_.erase(it);
}

void TxRequestTracker::remove_peer(PeerId peer) {
    auto pit = peers_.find(peer);
    if (pit == peers_.end()) return;
    std::vector<core::Uint256> txids;
    for (const auto& [seq, txid] : pit->second.queue) txids.push_back(txid);
    txids.insert(txids.end(), pit->second.requested.begin(), pit->second.requested.end());
    for (const auto& txid : txids) drop_announcement(peer, txid);
    peers_.erase(peer);
    // Remove it from the announcers of what others still offer.
    for (auto& [txid, tx] : txs_) {
        std::erase(tx.announcers, peer);
    }
}

std::size_t TxRequestTracker::announcements(PeerId peer) const {
    auto pit = peers_.find(peer);
    return pit == peers_.end() ? 0 : pit->second.queued.size() + pit->second.requested.size();
}

std::size_t TxRequestTracker::in_flight(PeerId peer) const {
    auto pit = peers_.find(peer);
    return pit == peers_.end() ? 0 : pit->second.requested.size();
}

}  // namespace peerchain::net::peer_manager
