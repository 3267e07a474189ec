#include "node/sync_progress.hpp"

#include <gtest/gtest.h>

#include "util/clock.hpp"

namespace peerchain::node {
namespace {

TEST(SyncProgressTest, QuietWhenNotBehind) {
    util::ManualClock clock(1000);
    SyncProgress sync(clock, 5);
    EXPECT_FALSE(sync.tick(10, 10));
    EXPECT_FALSE(sync.tick(11, 10));  // one block announced, not yet fetched
    clock.advance(60);
    EXPECT_FALSE(sync.tick(11, 11));
    EXPECT_FALSE(sync.syncing());
}

TEST(SyncProgressTest, ReportsEveryIntervalThenCaughtUpOnce) {
    util::ManualClock clock(1000);
    SyncProgress sync(clock, 5);
    auto first = sync.tick(1000, 0);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->syncing);
    EXPECT_EQ(first->headers_height, 1000u);
    EXPECT_FALSE(first->eta_seconds);  // no rate yet
    EXPECT_TRUE(sync.syncing());
    for (int s = 1; s < 5; ++s) {
        clock.advance(1);
        EXPECT_FALSE(sync.tick(1000, static_cast<std::uint32_t>(s * 40)));
    }
    clock.advance(1);
    auto second = sync.tick(1000, 200);  // 200 blocks in 5 s
    ASSERT_TRUE(second);
    EXPECT_DOUBLE_EQ(second->blocks_per_second, 40.0);
    ASSERT_TRUE(second->eta_seconds);
    EXPECT_EQ(*second->eta_seconds, 20);  // 800 left at 40/s
    EXPECT_DOUBLE_EQ(second->progress, 0.2);
    EXPECT_EQ(SyncProgress::describe(*second),
              "sync: headers 1000, blocks 200 (20.0%), 40.0 blocks/s, about 20 s left");
    clock.advance(5);
    auto stalled = sync.tick(1200, 200);  // more headers, no blocks
    ASSERT_TRUE(stalled);
    EXPECT_FALSE(stalled->eta_seconds);
    clock.advance(2);
    auto done = sync.tick(1200, 1200);
    ASSERT_TRUE(done);
    EXPECT_FALSE(done->syncing);
    EXPECT_DOUBLE_EQ(done->progress, 1.0);
    EXPECT_DOUBLE_EQ(done->blocks_per_second, 100.0);  // 1200 blocks in 12 s
    EXPECT_EQ(SyncProgress::describe(*done),
              "caught up at height 1200 (best header 1200), 100.0 blocks/s on average");
    EXPECT_FALSE(sync.syncing());
    clock.advance(5);
    EXPECT_FALSE(sync.tick(1200, 1200));  // said once
}

// A sync that is already under way at the first tick that sees it (60,000 blocks a second
// on loopback): the first report has the rate since the last quiet tick, and the average
// counts from there too.
TEST(SyncProgressTest, ASyncFoundUnderWayCountsFromTheLastQuietTick) {
    util::ManualClock clock(1000);
    SyncProgress sync(clock, 5);
    EXPECT_FALSE(sync.tick(10, 10));
    clock.advance(1);
    auto first = sync.tick(100'000, 60'010);
    ASSERT_TRUE(first);
    EXPECT_DOUBLE_EQ(first->blocks_per_second, 60'000.0);
    ASSERT_TRUE(first->eta_seconds);
    EXPECT_EQ(*first->eta_seconds, 1);  // 39,990 left
    EXPECT_EQ(SyncProgress::describe(*first),
              "sync: headers 100000, blocks 60010 (60.0%), 60000.0 blocks/s, about 1 s left");
    clock.advance(1);
    auto done = sync.tick(100'000, 100'000);
    ASSERT_TRUE(done);
    EXPECT_DOUBLE_EQ(done->blocks_per_second, 49'995.0);  // 99,990 blocks in 2 s
    // The next sync counts from the caught-up tick, not from the first one.
    clock.advance(10);
    auto next = sync.tick(100'100, 100'050);
    ASSERT_TRUE(next);
    EXPECT_DOUBLE_EQ(next->blocks_per_second, 5.0);
}

// The node starts and syncs half the chain before its first tick.
TEST(SyncProgressTest, ASyncUnderWayAtTheFirstTickCountsFromTheStart) {
    util::ManualClock clock(1000);
    SyncProgress sync(clock, 5);
    sync.start_at(500);
    clock.advance(1);
    auto first = sync.tick(100'000, 50'500);
    ASSERT_TRUE(first);
    EXPECT_DOUBLE_EQ(first->blocks_per_second, 50'000.0);
}

// The node ticks about once a second, never exactly: the rates come from the times of the
// ticks to the millisecond. In whole seconds, a quiet tick at 10.999 s and the next at
// 12.001 s were 2 s apart, and the rate came out half of what it was.
TEST(SyncProgressTest, RatesCountMillisecondsBetweenTicks) {
    util::ManualClock clock(10);
    clock.advance_millis(999);
    SyncProgress sync(clock, 5);
    EXPECT_FALSE(sync.tick(100, 100));  // quiet at 10.999 s
    clock.advance_millis(1002);         // 12.001 s
    auto first = sync.tick(20000, 1102);
    ASSERT_TRUE(first);
    EXPECT_DOUBLE_EQ(first->blocks_per_second, 1000.0);  // 1,002 blocks in 1.002 s
    clock.advance_millis(4999);  // 17.000 s: not yet an interval since the first report
    EXPECT_FALSE(sync.tick(20000, 6101));
    clock.advance_millis(1);  // 17.001 s
    auto second = sync.tick(20000, 6102);
    ASSERT_TRUE(second);
    EXPECT_DOUBLE_EQ(second->blocks_per_second, 1000.0);  // 5,000 blocks in 5 s
    clock.advance_millis(400);
    auto done = sync.tick(20000, 20000);
    ASSERT_TRUE(done);
    EXPECT_FALSE(done->syncing);
    EXPECT_DOUBLE_EQ(done->blocks_per_second, 19900.0 / 6.402);
}

}  // namespace
}  // namespace peerchain::node
