#include "net/peer_manager/orphan_pool.hpp"

#include <algorithm>
#include <iterator>

namespace peerchain::net::peer_manager {

OrphanPool::OrphanPool(OrphanLimits limits, std::mt19937_64& rng) : limits_(limits), rng_(rng) {
    limits_.max_orphans = std::max<std::size_t>(limits_.max_orphans, 1);
}

bool OrphanPool::add(TxPtr tx, const core::Uint256& txid, PeerId from, std::int64_t now) {
    if (orphans_.contains(txid)) return false;
    if (tx->serialized_size() > limits_.max_tx_size) return false;
    while (orphans_.size() >= limits_.max_orphans) {
        auto victim = by_age_.begin();
        std::advance(victim, static_cast<std::ptrdiff_t>(std::uniform_int_distribution<std::size_t>(
                                 0, by_age_.size() - 1)(rng_)));
        erase(victim->second);
    }
    const std::uint64_t seq = next_seq_++;
    for (const auto& in : tx->inputs) {
        by_parent_[in.prevout.txid].emplace(seq, txid);
        by_prevout_.emplace(in.prevout, txid);
    }
    by_age_.emplace(seq, txid);
    orphans_.emplace(
        txid, std::make_pair(Orphan{std::move(tx), txid, from, now + limits_.expiry.count()}, seq));
    return true;
}

void OrphanPool::erase(const core::Uint256& txid) {
    auto it = orphans_.find(txid);
    if (it == orphans_.end()) return;
    const auto& [orphan, seq] = it->second;
    for (const auto& in : orphan.tx->inputs) {
        if (auto p = by_parent_.find(in.prevout.txid); p != by_parent_.end()) {
            p->second.erase({seq, txid});
            if (p->second.empty()) by_parent_.erase(p);
        }
        auto [first, last] = by_prevout_.equal_range(in.prevout);
        for (auto o = first; o != last; ++o) {
            if (o->second == txid) {
                by_prevout_.erase(o);
                break;
            }
        }
    }
    by_age_.erase(seq);
    orphans_.erase(it);
}

const OrphanPool::Orphan* OrphanPool::find(const core::Uint256& txid) const {
    auto it = orphans_.find(txid);
    return it == orphans_.end() ? nullptr : &it->second.first;
}

std::optional<OrphanPool::Orphan> OrphanPool::take(const core::Uint256& txid) {
    auto it = orphans_.find(txid);
    if (it == orphans_.end()) return std::nullopt;
    Orphan orphan = it->second.first;
    erase(txid);
    return orphan;
}

std::vector<core::Uint256> OrphanPool::children_of(const core::Uint256& parent) const {
    std::vector<core::Uint256> out;
    auto p = by_parent_.find(parent);
    if (p == by_parent_.end()) return out;
    for (const auto& [seq, child] : p->second) out.push_back(child);
    return out;
}

std::size_t OrphanPool::erase_for_peer(PeerId peer) {
    std::vector<core::Uint256> gone;
    for (const auto& [txid, entry] : orphans_) {
        if (entry.first.from == peer) gone.push_back(txid);
    }
    for (const auto& txid : gone) erase(txid);
    return gone.size();
}

std::size_t OrphanPool::expire(std::int64_t now) {
    std::vector<core::Uint256> gone;
    for (const auto& [txid, entry] : orphans_) {
        if (now >= entry.first.expires_at) gone.push_back(txid);
    }
    for (const auto& txid : gone) erase(txid);
    return gone.size();
}

std::vector<core::Uint256> OrphanPool::erase_for_block(const core::Block& block) {
    if (orphans_.empty()) return {};  // the rule during a sync: no txids to compute
    std::vector<core::Uint256> gone;
    std::vector<core::Uint256> retry;
    for (const auto& tx : block.txs) {
        const core::Uint256 txid = tx.txid();
        if (orphans_.contains(txid)) gone.push_back(txid);
        if (!tx.is_coinbase()) {
            for (const auto& in : tx.inputs) {
                auto [first, last] = by_prevout_.equal_range(in.prevout);
                for (auto o = first; o != last; ++o) {
                    if (o->second != txid) gone.push_back(o->second);
                }
            }
        }
        for (const auto& child : children_of(txid)) retry.push_back(child);
    }
    for (const auto& txid : gone) erase(txid);
    std::erase_if(retry, [&](const core::Uint256& txid) { return !orphans_.contains(txid); });
    std::sort(retry.begin(), retry.end());
    retry.erase(std::unique(retry.begin(), retry.end()), retry.end());
    return retry;
}

}  // namespace peerchain::net::peer_manager
