// RollingSet: a set of hashes that keeps at most `capacity` entries and forgets the oldest
// when a new one would go over. The relay keeps what it must remember about peers this way
// (what a peer knows, what was rejected, what was confirmed): memory stays bounded whatever
// peers send, at the price of forgetting old entries, which costs at most a repeated
// announcement or download. Bitcoin Core uses rolling bloom filters for the same purpose;
// an exact set has no false positives, so a transaction is never withheld by mistake.
//
// Thread-safety: none; the owner serializes access (the peer manager runs on the chain
// executor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>

#include "core/uint256.hpp"

namespace peerchain::net::peer_manager {

class RollingSet {
  public:
    // A capacity below 1 is raised to 1.
    explicit RollingSet(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    bool contains(const core::Uint256& hash) const { return entries_.contains(hash); }
    std::size_t size() const { return entries_.size(); }
    std::size_t capacity() const { return capacity_; }

    // Adds `hash` (as the newest entry when it was not there) and evicts the oldest entries
    // beyond the capacity. Returns whether it was new.
    bool insert(const core::Uint256& hash) {
        if (entries_.contains(hash)) return false;
        const std::uint64_t seq = next_seq_++;
        entries_.emplace(hash, seq);
        order_.emplace_back(hash, seq);
        while (entries_.size() > capacity_) evict_oldest();
        // Erased entries leave stale records in order_; keep them from piling up.
        if (order_.size() > 2 * capacity_ + 16) compact();
        return true;
    }

    void erase(const core::Uint256& hash) { entries_.erase(hash); }

    void clear() {
        entries_.clear();
        order_.clear();
    }

  private:
    void evict_oldest() {
        while (!order_.empty()) {
            auto [hash, seq] = order_.front();
            order_.pop_front();
            auto it = entries_.find(hash);
            if (it != entries_.end() && it->second == seq) {
                entries_.erase(it);
                return;
            }
        }
    }
    void compact() {
        std::deque<std::pair<core::Uint256, std::uint64_t>> live;
        for (const auto& record : order_) {
            auto it = entries_.find(record.first);
            if (it != entries_.end() && it->second == record.second) live.push_back(record);
        }
        order_ = std::move(live);
    }

    std::size_t capacity_;
    std::uint64_t next_seq_ = 0;
    std::unordered_map<core::Uint256, std::uint64_t, core::Uint256Hasher> entries_;
    std::deque<std::pair<core::Uint256, std::uint64_t>> order_;  // oldest first
};

}  // namespace peerchain::net::peer_manager
