#include "net/peer_manager/future_blocks.hpp"

#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager_test_util.hpp"

namespace peerchain::net::peer_manager {
namespace {

using Added = FutureBlocks::Added;

core::Uint256 id(std::uint8_t n) {
    core::Uint256 h;
    h.data()[0] = n;
    return h;
}

core::BlockPtr any_block() {
    static const auto block = std::make_shared<const core::Block>(testing::regtest().genesis);
    return block;
}

TEST(FutureBlocks, KeepsUntilDueThenHandsBackInOrder) {
    FutureBlocks blocks({4, 1000, std::chrono::seconds(600)});
    EXPECT_EQ(blocks.add(any_block(), id(1), 10, 7, 130, 100), Added::kKept);
    EXPECT_EQ(blocks.add(any_block(), id(2), 10, 8, 120, 100), Added::kKept);
    EXPECT_EQ(blocks.add(any_block(), id(2), 10, 9, 125, 100), Added::kDuplicate);
    EXPECT_EQ(blocks.size(), 2u);
    EXPECT_EQ(blocks.bytes(), 20u);
    EXPECT_TRUE(blocks.take_ready(119).empty());
    auto ready = blocks.take_ready(130);
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].hash, id(2));
    EXPECT_EQ(ready[0].from, 8u);
    EXPECT_EQ(ready[1].hash, id(1));
    EXPECT_EQ(blocks.size(), 0u);
    EXPECT_EQ(blocks.bytes(), 0u);
}

TEST(FutureBlocks, OnlyWithinTheWait) {
    FutureBlocks blocks({4, 1000, std::chrono::seconds(600)});
    EXPECT_EQ(blocks.add(any_block(), id(1), 10, 1, 700, 100), Added::kKept);
    EXPECT_EQ(blocks.add(any_block(), id(2), 10, 1, 701, 100), Added::kTooFar);
    EXPECT_FALSE(blocks.contains(id(2)));
}

TEST(FutureBlocks, WhenFullTheBlockDueLastGoes) {
    FutureBlocks blocks({2, 1000, std::chrono::seconds(600)});
    ASSERT_EQ(blocks.add(any_block(), id(1), 10, 1, 200, 100), Added::kKept);
    ASSERT_EQ(blocks.add(any_block(), id(2), 10, 1, 300, 100), Added::kKept);
    // Due later than everything held: refused.
    EXPECT_EQ(blocks.add(any_block(), id(3), 10, 1, 400, 100), Added::kNoRoom);
    EXPECT_EQ(blocks.add(any_block(), id(3), 10, 1, 300, 100), Added::kNoRoom);
    // Due sooner: the last one makes room.
    std::vector<FutureBlocks::Entry> evicted;
    EXPECT_EQ(blocks.add(any_block(), id(4), 10, 1, 150, 100, &evicted), Added::kKept);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(evicted[0].hash, id(2));
    EXPECT_TRUE(blocks.contains(id(1)));
    EXPECT_TRUE(blocks.contains(id(4)));
    EXPECT_EQ(blocks.size(), 2u);
}

TEST(FutureBlocks, BytesAreBoundedToo) {
    FutureBlocks blocks({16, 100, std::chrono::seconds(600)});
    EXPECT_EQ(blocks.add(any_block(), id(1), 101, 1, 110, 100), Added::kNoRoom);
    ASSERT_EQ(blocks.add(any_block(), id(2), 40, 1, 300, 100), Added::kKept);
    ASSERT_EQ(blocks.add(any_block(), id(3), 40, 1, 200, 100), Added::kKept);
    // 60 more bytes, due first: the block due last makes room, and that is enough.
    std::vector<FutureBlocks::Entry> evicted;
    EXPECT_EQ(blocks.add(any_block(), id(4), 60, 1, 150, 100, &evicted), Added::kKept);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(evicted[0].hash, id(2));
    EXPECT_EQ(blocks.bytes(), 100u);
    // 90 bytes due before both: both go.
    evicted.clear();
    EXPECT_EQ(blocks.add(any_block(), id(5), 90, 1, 120, 100, &evicted), Added::kKept);
    EXPECT_EQ(evicted.size(), 2u);
    EXPECT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks.bytes(), 90u);
}

}  // namespace
}  // namespace peerchain::net::peer_manager
