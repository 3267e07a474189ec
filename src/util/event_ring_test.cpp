#include "util/event_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace peerchain::util {
namespace {

TEST(EventRing, ReadsFromASequenceNumberOnward) {
    EventRing<std::string> ring(8);
    EXPECT_EQ(ring.last_sequence(), 0u);
    EXPECT_EQ(ring.publish("a"), 1u);
    EXPECT_EQ(ring.publish("b"), 2u);
    EXPECT_EQ(ring.publish("c"), 3u);

    auto all = ring.read(0, 100);
    ASSERT_EQ(all.events.size(), 3u);
    EXPECT_FALSE(all.reset);
    EXPECT_EQ(all.events[0], (std::pair<std::uint64_t, std::string>{1, "a"}));
    EXPECT_EQ(all.next, 4u);

    auto tail = ring.read(2, 100);
    ASSERT_EQ(tail.events.size(), 2u);
    EXPECT_EQ(tail.events[0].second, "b");

    auto capped = ring.read(1, 2);
    ASSERT_EQ(capped.events.size(), 2u);
    EXPECT_EQ(capped.next, 3u);

    auto none = ring.read(4, 100);
    EXPECT_TRUE(none.events.empty());
    EXPECT_EQ(none.next, 4u);
}

TEST(EventRing, AReaderThatFellBehindIsToldItWasCutOff) {
    EventRing<int> ring(4);
    for (int i = 1; i <= 10; ++i) ring.publish(i);
    // Events 1-6 are gone: a reader resuming from 3 must not see a silent gap.
    auto r = ring.read(3, 100);
    EXPECT_TRUE(r.reset);
    ASSERT_EQ(r.events.size(), 4u);
    EXPECT_EQ(r.events.front().first, 7u);
    EXPECT_EQ(r.events.back().second, 10);
    // Resuming from what it holds is no gap.
    EXPECT_FALSE(ring.read(7, 100).reset);
    // A number from the future starts at the next event, without a reset.
    auto future = ring.read(50, 100);
    EXPECT_FALSE(future.reset);
    EXPECT_TRUE(future.events.empty());
    EXPECT_EQ(future.next, 11u);
    // A taker resuming from 3 is told the same, and takes what is held.
    r = ring.take(3, 100);
    EXPECT_TRUE(r.reset);
    ASSERT_EQ(r.events.size(), 4u);
    EXPECT_EQ(r.events.front().first, 7u);
    EXPECT_EQ(r.next, 11u);
    EXPECT_TRUE(ring.read(0, 100).events.empty());
}

TEST(EventRing, AWaitingReaderWakesOnPublishAndOnClose) {
    EventRing<int> ring(16);
    std::atomic<bool> got{false};
    std::thread reader([&] {
        auto r = ring.read(1, 10, std::chrono::seconds(30));
        got = r.events.size() == 1 && r.events[0].second == 42;
    });
    ring.publish(42);
    reader.join();
    EXPECT_TRUE(got);

    std::thread closer_wait([&] {
        auto r = ring.read(2, 10, std::chrono::seconds(30));
        EXPECT_TRUE(r.closed);
        EXPECT_TRUE(r.events.empty());
    });
    ring.close();
    closer_wait.join();
}

TEST(EventRing, ANudgeWakesAWaitingReaderWithoutAnEvent) {
    EventRing<int> ring(16);
    std::atomic<bool> woke{false};
    std::atomic<bool> done{false};
    std::thread reader([&] {
        // Without the nudge this waits the whole hour and the test times out.
        auto r = ring.read(1, 10, std::chrono::hours(1));
        woke = r.events.empty() && !r.closed;
        done = true;
    });
    // A nudge that comes before the reader waits wakes nobody: nudge until it returns.
    while (!done.load()) {
        ring.nudge();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    reader.join();
    EXPECT_TRUE(woke);
}

TEST(EventRing, TheProducerNeverWaitsForReaders) {
    // Nobody reads: a million events still go in, and only the last `capacity` stay.
    EventRing<int> ring(100);
    for (int i = 0; i < 1'000'000; ++i) ring.publish(i);
    auto r = ring.read(0, 1000);
    EXPECT_EQ(r.events.size(), 100u);
    EXPECT_EQ(r.events.back().second, 999'999);
}

}  // namespace
}  // namespace peerchain::util

namespace peerchain::util {
namespace {

TEST(EventRingTake, TakenEventsLeaveTheRingAndAReaderFromBeforeGetsReset) {
    EventRing<std::shared_ptr<int>> ring(100);
    auto held = std::make_shared<int>(7);
    ring.publish(held);
    ring.publish(std::make_shared<int>(8));
    ring.publish(std::make_shared<int>(9));
    EXPECT_EQ(held.use_count(), 2);
    auto r = ring.take(1, 2);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.next, 3u);
    EXPECT_EQ(held.use_count(), 2);  // moved out, not copied
    r = {};
    EXPECT_EQ(held.use_count(), 1);  // the ring no longer keeps it alive
    r = ring.read(1, 10);
    EXPECT_TRUE(r.reset);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(*r.events[0].second, 9);
    EXPECT_EQ(ring.publish(std::make_shared<int>(10)), 4u);
    // Taking from 4 drops 3, which the reader had already seen, with it.
    r = ring.take(4, 10);
    EXPECT_FALSE(r.reset);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(*r.events[0].second, 10);
    r = ring.read(0, 10);
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(r.next, 5u);
}

}  // namespace
}  // namespace peerchain::util
