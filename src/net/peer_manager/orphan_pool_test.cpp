#include "net/peer_manager/orphan_pool.hpp"

#include <gtest/gtest.h>

#include "tests/util/test_util.hpp"

namespace peerchain::net::peer_manager {
namespace {

core::Uint256 h(std::uint32_t n) {
    core::Uint256 v;
    for (int i = 0; i < 4; ++i) v.data()[i] = static_cast<std::uint8_t>(n >> (8 * i));
    v.data()[31] = 2;
    return v;
}

// A transaction spending output `index` of `parent` (never checked here).
TxPtr spend(const core::Uint256& parent, std::uint32_t index, core::Amount amount = 1000) {
    core::Transaction tx;
    tx.inputs.push_back(core::TxIn{{parent, index}, {}});
    tx.outputs.push_back(core::TxOut{amount, {}});
    return std::make_shared<const core::Transaction>(std::move(tx));
}

TEST(OrphanPool, FindsChildrenAndExpires) {
    OrphanPool pool(OrphanLimits{}, testutil::rng());
    auto a = spend(h(1), 0);
    auto b = spend(h(1), 1);
    ASSERT_TRUE(pool.add(a, a->txid(), 7, 1000));
    ASSERT_TRUE(pool.add(b, b->txid(), 8, 1100));
    EXPECT_FALSE(pool.add(a, a->txid(), 7, 1000));
    EXPECT_EQ(pool.children_of(h(1)), (std::vector<core::Uint256>{a->txid(), b->txid()}));
    EXPECT_EQ(pool.erase_for_peer(8), 1u);
    EXPECT_EQ(pool.expire(1000 + 20 * 60 - 1), 0u);
    EXPECT_EQ(pool.expire(1000 + 20 * 60), 1u);
    EXPECT_EQ(pool.size(), 0u);
    EXPECT_TRUE(pool.children_of(h(1)).empty());
}

TEST(OrphanPool, BoundedInCountAndSize) {
    OrphanLimits limits;
    limits.max_orphans = 5;
    limits.max_tx_size = 200;
    OrphanPool pool(limits, testutil::rng());
    for (std::uint32_t i = 0; i < 50; ++i) {
        auto tx = spend(h(i), 0);
        EXPECT_TRUE(pool.add(tx, tx->txid(), 1, 0));
        EXPECT_LE(pool.size(), 5u);
    }
    core::Transaction big = *spend(h(99), 0);
    big.data.assign(300, 0xab);
    auto big_ptr = std::make_shared<const core::Transaction>(big);
    EXPECT_FALSE(pool.add(big_ptr, big_ptr->txid(), 1, 0));
}

TEST(OrphanPool, BlockDropsConflictsAndNamesChildrenToRetry) {
    OrphanPool pool(OrphanLimits{}, testutil::rng());
    // `child` waits for `parent`; `conflict` spends what the block's tx spends.
    core::Transaction parent = *spend(h(50), 0);
    auto child = spend(parent.txid(), 0);
    auto conflict = spend(h(50), 0, 999);
    pool.add(child, child->txid(), 1, 0);
    pool.add(conflict, conflict->txid(), 1, 0);
    core::Block block;
    block.txs.push_back(core::make_coinbase(1, 50, {}, {}));
    block.txs.push_back(parent);
    EXPECT_EQ(pool.erase_for_block(block), std::vector<core::Uint256>{child->txid()});
    EXPECT_FALSE(pool.contains(conflict->txid()));
    EXPECT_TRUE(pool.contains(child->txid()));
    EXPECT_TRUE(pool.take(child->txid()).has_value());
    EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace peerchain::net::peer_manager
