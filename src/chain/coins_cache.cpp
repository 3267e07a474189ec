#include "chain/coins_cache.hpp"

#include "chain/storage_format.hpp"

namespace peerchain::chain {

void CoinsDelta::spend(const core::OutPoint& outpoint) {
    auto it = changes_.find(outpoint);
    if (it != changes_.end() && it->second.has_value()) {
        changes_.erase(it);
    } else {
        changes_[outpoint] = std::nullopt;
    }
}

const CoinsCache::Entry* CoinsCache::find(const core::OutPoint& outpoint) const noexcept {
    auto it = map_.find(outpoint);
    return it == map_.end() ? nullptr : &it->second;
}

void CoinsCache::note_dirty(Entry& e, const core::OutPoint& outpoint) {
    if (e.dirty) return;
    e.dirty = true;
    ++dirty_;
    dirty_list_.push_back(outpoint);
}

void CoinsCache::add(const core::OutPoint& outpoint, const Coin& coin) {
    auto [it, inserted] = map_.try_emplace(outpoint);
    Entry& e = it->second;
    if (inserted) {
        // Not cached means the store has exactly what the last flush wrote, and no unspent
        // coin can be there (see the header): nothing to overwrite.
        e.fresh = true;
    } else if (e.spent) {
        // The marker was dirty: the store still holds the old coin, so this one must be
        // written over it (not fresh).
        e.fresh = false;
    }
    note_dirty(e, outpoint);
    e.coin = coin;
    e.spent = false;
}

void CoinsCache::spend(const core::OutPoint& outpoint) {
    auto [it, inserted] = map_.try_emplace(outpoint);
    Entry& e = it->second;
    if (!inserted && e.fresh) {
        if (e.dirty) --dirty_;
        map_.erase(it);
        return;
    }
    note_dirty(e, outpoint);
    e.coin = Coin{};
    e.spent = true;
    e.fresh = false;
}

void CoinsCache::apply(const CoinsDelta& delta) {
    for (const auto& [outpoint, coin] : delta.changes()) {
        if (coin) {
            add(outpoint, *coin);
        } else {
            spend(outpoint);
        }
    }
}

void CoinsCache::write_dirty(store::WriteBatch& batch) const {
    // At most one operation a listed outpoint: room for them all at once, rather than
    // growing a batch of up to a few MB by doubling.
    batch.reserve(
        batch.data_size() + dirty_list_.size() * (storage::CoinKey{}.size() + storage::kCoinSize),
        batch.size() + dirty_list_.size());
    for (const core::OutPoint& outpoint : dirty_list_) {
        auto it = map_.find(outpoint);
        if (it == map_.end() || !it->second.dirty) continue;
        const auto key = storage::coin_key(outpoint);
        if (it->second.spent) {
            batch.erase(key);
        } else {
            batch.put(key, storage::encode_coin(it->second.coin));
        }
    }
}

void CoinsCache::mark_flushed(bool drop_all) {
    dirty_ = 0;
    if (drop_all) {
        Map().swap(map_);
        std::vector<core::OutPoint>().swap(dirty_list_);
        return;
    }
    for (const core::OutPoint& outpoint : dirty_list_) {
        auto it = map_.find(outpoint);
        if (it == map_.end()) continue;
        if (it->second.spent) {
            map_.erase(it);
        } else {
            it->second.dirty = false;
            it->second.fresh = false;
        }
    }
    dirty_list_.clear();
}

std::size_t CoinsCache::memory_usage() const noexcept {
    // A node holds the pair, a next pointer and the cached hash; each bucket a pointer.
    constexpr std::size_t kNodeBytes = sizeof(Map::value_type) + 2 * sizeof(void*);
    return map_.size() * kNodeBytes + map_.bucket_count() * sizeof(void*) +
           dirty_list_.capacity() * sizeof(core::OutPoint);
}

}  // namespace peerchain::chain
