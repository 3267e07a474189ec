// CoinsCache: the write-back cache of the UTXO set over the store, and CoinsDelta, the
// changes of one block collected before they are applied to it.
//
// Each cache entry is a coin or a spent marker. DIRTY means it differs from the store;
// FRESH means the store has no unspent coin there, so spending it can simply forget it
// (Bitcoin's CCoinsCacheEntry flags). A flush writes every dirty entry (a put for a coin,
// an erase for a spent marker) in one batch with the tip the cache belongs to.
//
// Invariants the flags rely on (consensus makes them hold: a coinbase commits to its
// height and every other txid to the coins it spends, so no unspent outpoint is ever
// created twice):
//  - a coin is added only where no unspent coin exists, in the cache or the store;
//  - a spent marker is always dirty (after a flush it is dropped).
//
// Thread-safety: none; the Chainstate guards its cache with its mutex.
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "chain/coin.hpp"
#include "core/transaction.hpp"
#include "store/write_batch.hpp"

namespace peerchain::chain {

class CoinsDelta {
  public:
    // What the delta says about an outpoint: nullptr when untouched; else the entry, whose
    // value is the coin, or empty when spent.
    const std::optional<Coin>* find(const core::OutPoint& outpoint) const noexcept {
        auto it = changes_.find(outpoint);
        return it == changes_.end() ? nullptr : &it->second;
    }
    void add(const core::OutPoint& outpoint, const Coin& coin) { changes_[outpoint] = coin; }
    // A coin this delta added is forgotten (it never reaches the cache); any other is
    // recorded as spent.
    void spend(const core::OutPoint& outpoint);

    const std::unordered_map<core::OutPoint, std::optional<Coin>, core::OutPointHasher>& changes()
        const noexcept {
        return changes_;
    }
    void reserve(std::size_t n) { changes_.reserve(n); }

  private:
    std::unordered_map<core::OutPoint, std::optional<Coin>, core::OutPointHasher> changes_;
};

class CoinsCache {
  public:
    struct Entry {
        Coin coin;
        bool spent = false;
        bool dirty = false;
        bool fresh = false;
    };

    // The entry for `outpoint`, or nullptr when the cache knows nothing of it (then the
    // store has the answer).
    const Entry* find(const core::OutPoint& outpoint) const noexcept;

    void add(const core::OutPoint& outpoint, const Coin& coin);
    void spend(const core::OutPoint& outpoint);
    void apply(const CoinsDelta& delta);

    // Appends every dirty entry to `batch`: a put of the coin or an erase of a spent one.
    void write_dirty(store::WriteBatch& batch) const;
    // After that batch is durable: drops spent markers and marks the rest clean, or drops
    // everything when `drop_all`.
    void mark_flushed(bool drop_all);

    std::size_t size() const noexcept { return map_.size(); }
    std::size_t dirty_count() const noexcept { return dirty_; }
    // An estimate of the heap the cache uses.
    std::size_t memory_usage() const noexcept;

  private:
    using Map = std::unordered_map<core::OutPoint, Entry, core::OutPointHasher>;
    void note_dirty(Entry& e, const core::OutPoint& outpoint);

    Map map_;
    std::size_t dirty_ = 0;
    // Every outpoint that turned dirty since the last flush (an entry may since be gone,
    // or rarely appear twice), so a flush touches only those, however large the cache.
    std::vector<core::OutPoint> dirty_list_;
};

}  // namespace peerchain::chain
