#include "net/peer_manager/future_blocks.hpp"

#include <utility>

namespace peerchain::net::peer_manager {

FutureBlocks::Added FutureBlocks::add(core::BlockPtr block, const core::Uint256& hash,
                                      std::size_t bytes, PeerId from, std::int64_t acceptable_at,
                                      std::int64_t now, std::vector<Entry>* evicted) {
    if (by_hash_.contains(hash)) return Added::kDuplicate;
    if (acceptable_at - now > limits_.max_wait.count()) return Added::kTooFar;
    if (bytes > limits_.max_bytes || limits_.max_blocks == 0) return Added::kNoRoom;
    // Room is made from the back (due last). A block due no earlier than every one that
    // would have to go is the one refused, so what is nearly due stays.
    std::size_t freed_blocks = 0;
    std::size_t freed_bytes = 0;
    auto it = queue_.end();
    while (by_hash_.size() - freed_blocks + 1 > limits_.max_blocks ||
           bytes_ - freed_bytes + bytes > limits_.max_bytes) {
        --it;
        if (it->first <= acceptable_at) return Added::kNoRoom;
        ++freed_blocks;
        freed_bytes += it->second.bytes;
    }
    while (freed_blocks-- > 0) {
        auto last = std::prev(queue_.end());
        if (evicted != nullptr) evicted->push_back(last->second);
        erase(last);
    }
    auto at =
        queue_.emplace(acceptable_at, Entry{std::move(block), hash, from, acceptable_at, bytes});
    by_hash_.emplace(hash, at);
    bytes_ += bytes;
    return Added::kKept;
}

std::vector<FutureBlocks::Entry> FutureBlocks::take_ready(std::int64_t now) {
    std::vector<Entry> out;
    while (!queue_.empty() && queue_.begin()->first <= now) {
        Entry entry = queue_.begin()->second;
        erase(queue_.begin());
        out.push_back(std::move(entry));
    }
    return out;
}

bool FutureBlocks::contains(const core::Uint256& hash) const { return by_hash_.contains(hash); }

void FutureBlocks::erase(Queue::iterator it) {
    bytes_ -= it->second.bytes;
    by_hash_.erase(it->second.hash);
    queue_.erase(it);
}

}  // namespace peerchain::net::peer_manager
