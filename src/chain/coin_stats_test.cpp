// The coins set's digest (coin_stats.hpp) over a real LevelDB: the same coins reached by
// different paths (a reorg, or straight; flushes in between or not; batched initial sync)
// give the same answer, which is the documented serialization hashed in outpoint order;
// every field of a coin changes it; and it describes the coins tip of its snapshot.
#include "chain/coin_stats.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "chain/chain_test_util.hpp"
#include "chain/storage_format.hpp"
#include "core/serialize.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using test::ChainHarness;

const crypto::SecretKey& owner_key() {
    static const crypto::SecretKey key = test::test_key(9);
    return key;
}

// `base` and `n` blocks on it paying owner_key(); each block past maturity splits an old
// coinbase into `split` outputs, so that two branches with different `split` hold
// different coins.
std::vector<BlockPtr> extend(std::vector<BlockPtr> base, int n, const std::string& tag,
                             int split = 2) {
    return test::extend_with_spends(std::move(base), n, tag, owner_key(), split);
}

CoinStats stats_of(ChainHarness& h) {
    auto it = h.db().new_iterator();
    auto stats = compute_coin_stats(*it, h.chain());
    EXPECT_TRUE(stats) << stats.error().to_string();
    return stats ? *stats : CoinStats{};
}

CoinStats flushed_stats(ChainHarness& h) {
    EXPECT_TRUE(h.chain().flush());
    return stats_of(h);
}

// The coins of the active chain `blocks` (heights 1..), replayed here from the blocks
// alone, and their digest computed by the grammar of coin_stats.hpp.
struct Expected {
    std::uint64_t coins = 0;
    core::Amount amount = 0;
    crypto::Digest digest{};
};
Expected expected_for(const std::vector<BlockPtr>& blocks) {
    std::map<core::OutPoint, Coin> set;  // ordered as the digest asks
    for (std::size_t h = 0; h < blocks.size(); ++h) {
        for (const auto& tx : blocks[h]->txs) {
            const bool coinbase = tx.is_coinbase();
            if (!coinbase) {
                for (const auto& in : tx.inputs) set.erase(in.prevout);
            }
            for (std::uint32_t k = 0; k < tx.outputs.size(); ++k) {
                set[{tx.txid(), k}] =
                    Coin{tx.outputs[k], static_cast<std::uint32_t>(h + 1), coinbase};
            }
        }
    }
    Expected e;
    util::Bytes bytes;
    core::Writer w(bytes);
    for (const auto& [outpoint, coin] : set) {
        w.hash(outpoint.txid);
        w.u32(outpoint.index);
        w.i64(coin.out.amount);
        w.bytes(coin.out.recipient);
        w.u32(coin.height);
        w.u8(coin.coinbase ? 1 : 0);
        ++e.coins;
        e.amount += coin.out.amount;
    }
    EXPECT_EQ(bytes.size(), e.coins * 81);
    e.digest = crypto::sha256(bytes);
    return e;
}

void expect_same(const CoinStats& a, const CoinStats& b) {
    EXPECT_EQ(a.height, b.height);
    EXPECT_EQ(a.tip, b.tip);
    EXPECT_EQ(a.coins, b.coins);
    EXPECT_EQ(a.amount, b.amount);
    EXPECT_EQ(util::to_hex(a.digest), util::to_hex(b.digest));
}

TEST(CoinStats, ReorgAndStraightPathsGiveTheSameDigest) {
    const auto stem = extend({}, 103, "s");
    const auto a = extend(stem, 3, "a", 3);  // spends the coinbases of 4..6 into 3 outputs
    const auto b = extend(stem, 5, "b", 2);  // the same ones (and more) into 2 each

    ChainHarness straight;
    straight.feed(b);
    const CoinStats s = flushed_stats(straight);

    ChainHarness reorged;
    reorged.feed(a);
    ASSERT_TRUE(reorged.chain().flush());  // A's coins reach the store, then leave it
    const CoinStats on_a = stats_of(reorged);
    reorged.feed({b.begin() + 103, b.end()});
    ASSERT_EQ(reorged.chain().tip()->hash, b.back()->hash());
    const CoinStats r = flushed_stats(reorged);

    expect_same(s, r);
    EXPECT_EQ(s.height, 108u);
    EXPECT_EQ(s.tip, b.back()->hash());
    EXPECT_NE(util::to_hex(on_a.digest), util::to_hex(s.digest));

    const Expected e = expected_for(b);
    EXPECT_EQ(s.coins, e.coins);
    EXPECT_EQ(s.amount, e.amount);
    EXPECT_EQ(util::to_hex(s.digest), util::to_hex(e.digest));
    const Expected ea = expected_for(a);
    EXPECT_EQ(util::to_hex(on_a.digest), util::to_hex(ea.digest));
    // 108 coinbases (genesis pays nobody) and 8 spends of one coin into two.
    EXPECT_EQ(s.coins, 108u + 8u);

    // A reopen (which flushes and loads from the store) keeps the answer.
    reorged.reopen();
    expect_same(stats_of(reorged), s);
}

TEST(CoinStats, BatchedInitialSyncGivesTheSameDigestOnceFlushed) {
    const auto chain = extend({}, 140, "c");
    ChainstateOptions o;
    o.sync_lag_blocks = 4;
    o.sync_batch_blocks = 16;
    o.sync_batch_interval = std::chrono::hours(1);
    o.flush_every_blocks = 50;
    ChainHarness synced(test::regtest(), o);
    std::vector<core::BlockHeader> headers;
    for (const auto& blk : chain) headers.push_back(blk->header);
    ASSERT_TRUE(synced.chain().process_headers(headers).is_ok());
    synced.feed({chain.begin(), chain.begin() + 120});
    // The newest blocks wait in the sync batch and 101..120 in the coins cache (flushed at
    // 100): the store alone holds the coins of height 100, and says so.
    const CoinStats before = stats_of(synced);
    EXPECT_EQ(before.height, 100u);
    EXPECT_EQ(util::to_hex(before.digest),
              util::to_hex(expected_for({chain.begin(), chain.begin() + 100}).digest));
    // The flush that GET /chain/coins makes first writes both.
    const CoinStats after = flushed_stats(synced);
    EXPECT_EQ(after.height, 120u);
    EXPECT_EQ(after.tip, chain[119]->hash());

    ChainHarness straight;
    straight.feed({chain.begin(), chain.begin() + 120});
    expect_same(flushed_stats(straight), after);
}

TEST(CoinStats, EveryFieldOfACoinChangesTheDigest) {
    const auto blocks = extend({}, 102, "f");
    ChainHarness h;
    h.feed(blocks);
    const CoinStats base = flushed_stats(h);
    ASSERT_EQ(base.coins, 102u + 2u);  // blocks 101 and 102 each split a coin in two

    // A coin made by the spend of block 102: not a coinbase, not at index 0.
    const core::OutPoint target{blocks[101]->txs[1].txid(), 1};
    const auto key = storage::coin_key(target);
    auto stored = h.db().get(key);
    ASSERT_TRUE(stored && *stored);
    auto coin = storage::decode_coin(**stored);
    ASSERT_TRUE(coin);

    auto with = [&](const Coin& changed) {
        EXPECT_TRUE(h.db().put(key, storage::encode_coin(changed)));
        return stats_of(h);
    };
    Coin c = *coin;
    c.out.amount -= 1;
    const CoinStats amount = with(c);
    EXPECT_EQ(amount.amount, base.amount - 1);
    c = *coin;
    c.out.recipient[5] ^= 1;
    const CoinStats recipient = with(c);
    c = *coin;
    c.height += 1;
    const CoinStats height = with(c);
    c = *coin;
    c.coinbase = !c.coinbase;
    const CoinStats coinbase = with(c);
    for (const CoinStats* s : {&amount, &recipient, &height, &coinbase}) {
        EXPECT_EQ(s->coins, base.coins);
        EXPECT_EQ(s->height, base.height);
        EXPECT_NE(util::to_hex(s->digest), util::to_hex(base.digest));
    }
    // The same coin under another outpoint.
    ASSERT_TRUE(h.db().erase(key));
    ASSERT_TRUE(h.db().put(storage::coin_key({target.txid, 7}), storage::encode_coin(*coin)));
    const CoinStats moved = stats_of(h);
    EXPECT_EQ(moved.coins, base.coins);
    EXPECT_EQ(moved.amount, base.amount);
    EXPECT_NE(util::to_hex(moved.digest), util::to_hex(base.digest));
    ASSERT_TRUE(h.db().erase(storage::coin_key({target.txid, 7})));
    const CoinStats gone = stats_of(h);
    EXPECT_EQ(gone.coins, base.coins - 1);
    EXPECT_EQ(gone.amount, base.amount - coin->out.amount);

    ASSERT_TRUE(h.db().put(key, **stored));
    expect_same(stats_of(h), base);
}

TEST(CoinStats, DamagedRecordsAndAStopAreReported) {
    ChainHarness h;
    h.feed(extend({}, 3, "d"));
    CoinStats base = flushed_stats(h);
    EXPECT_EQ(base.coins, 3u);

    std::atomic<bool> stop{true};
    auto it = h.db().new_iterator();
    auto stopped = compute_coin_stats(*it, h.chain(), &stop);
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().code, util::Errc::kUnavailable);

    ASSERT_TRUE(h.db().put(util::Bytes{'c', 1, 2}, util::Bytes{0}));
    it = h.db().new_iterator();
    auto damaged = compute_coin_stats(*it, h.chain());
    ASSERT_FALSE(damaged);
    EXPECT_EQ(damaged.error().code, util::Errc::kCorruption);
}

}  // namespace
}  // namespace peerchain::chain
