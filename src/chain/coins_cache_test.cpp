// The coins cache's dirty/fresh bookkeeping, checked against what a flush writes, and the
// per-block delta.
#include "chain/coins_cache.hpp"

#include <gtest/gtest.h>

#include "chain/storage_format.hpp"

namespace peerchain::chain {
namespace {

core::OutPoint op(std::uint8_t n, std::uint32_t index = 0) {
    core::OutPoint o;
    o.txid.data()[0] = n;
    o.index = index;
    return o;
}

Coin coin(core::Amount amount, std::uint32_t height = 1) {
    Coin c;
    c.out.amount = amount;
    c.out.recipient[0] = 7;
    c.height = height;
    return c;
}

// What a flush would write: key -> value, or key -> nothing for an erase.
std::vector<std::pair<util::Bytes, std::optional<util::Bytes>>> flushed(const CoinsCache& cache) {
    store::WriteBatch batch;
    cache.write_dirty(batch);
    std::vector<std::pair<util::Bytes, std::optional<util::Bytes>>> out;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto o = batch.op(i);
        util::Bytes key(o.key.begin(), o.key.end());
        if (o.kind == store::WriteBatch::Kind::kPut) {
            out.emplace_back(key, util::Bytes(o.value.begin(), o.value.end()));
        } else {
            out.emplace_back(key, std::nullopt);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

util::Bytes key_of(const core::OutPoint& o) {
    const auto k = storage::coin_key(o);
    return {k.begin(), k.end()};
}

util::Bytes value_of(const Coin& c) {
    const auto v = storage::encode_coin(c);
    return {v.begin(), v.end()};
}

TEST(CoinsCache, FreshCoinSpentBeforeAFlushLeavesNoTrace) {
    CoinsCache cache;
    cache.add(op(1), coin(5));
    ASSERT_NE(cache.find(op(1)), nullptr);
    EXPECT_EQ(cache.dirty_count(), 1u);
    cache.spend(op(1));
    EXPECT_EQ(cache.find(op(1)), nullptr);
    EXPECT_EQ(cache.dirty_count(), 0u);
    EXPECT_TRUE(flushed(cache).empty());
}

TEST(CoinsCache, SpendingAStoredCoinWritesAnErase) {
    CoinsCache cache;
    cache.spend(op(2));  // a coin the store has, never cached
    const auto* e = cache.find(op(2));
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->spent);
    const auto writes = flushed(cache);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].first, key_of(op(2)));
    EXPECT_FALSE(writes[0].second);
    cache.mark_flushed(false);
    EXPECT_EQ(cache.find(op(2)), nullptr);
    EXPECT_EQ(cache.dirty_count(), 0u);
}

TEST(CoinsCache, CoinBackOverASpentMarkerIsWrittenOverTheStore) {
    CoinsCache cache;
    cache.spend(op(3));         // spent a stored coin (a block connected)...
    cache.add(op(3), coin(9));  // ...and it came back (that block disconnected)
    const auto writes = flushed(cache);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].second, value_of(coin(9)));
    // Not fresh: spending it again must erase it from the store.
    cache.spend(op(3));
    const auto again = flushed(cache);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_FALSE(again[0].second);
}

TEST(CoinsCache, FlushedCoinsStayCleanAndSpendingThemErases) {
    CoinsCache cache;
    cache.add(op(4), coin(1));
    cache.add(op(5), coin(2));
    EXPECT_EQ(flushed(cache).size(), 2u);
    cache.mark_flushed(false);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.dirty_count(), 0u);
    EXPECT_TRUE(flushed(cache).empty());
    cache.spend(op(4));
    const auto writes = flushed(cache);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].first, key_of(op(4)));
    EXPECT_FALSE(writes[0].second);
    cache.mark_flushed(true);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_GT(CoinsCache().memory_usage() + 1, 0u);
}

TEST(CoinsCache, MemoryUsageGrowsWithEntries) {
    CoinsCache cache;
    const auto empty = cache.memory_usage();
    for (std::uint8_t i = 0; i < 100; ++i) cache.add(op(i, i), coin(i));
    EXPECT_GT(cache.memory_usage(), empty + 100 * sizeof(Coin));
}

TEST(CoinsDelta, CoinCreatedAndSpentInOneBlockCancels) {
    CoinsDelta delta;
    delta.add(op(1), coin(3));
    ASSERT_NE(delta.find(op(1)), nullptr);
    EXPECT_TRUE(delta.find(op(1))->has_value());
    delta.spend(op(1));
    EXPECT_EQ(delta.find(op(1)), nullptr);
    delta.spend(op(2));  // from the cache or store
    ASSERT_NE(delta.find(op(2)), nullptr);
    EXPECT_FALSE(delta.find(op(2))->has_value());

    CoinsCache cache;
    cache.apply(delta);
    EXPECT_EQ(cache.find(op(1)), nullptr);
    ASSERT_NE(cache.find(op(2)), nullptr);
    EXPECT_TRUE(cache.find(op(2))->spent);
}

}  // namespace
}  // namespace peerchain::chain
