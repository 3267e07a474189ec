#include "net/connman/receive_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace peerchain::net::connman {
namespace {

struct Link {
    std::vector<bool> calls;  // true: pause, false: resume
    ReceiveQueue::Control control() {
        return [this](bool pause) { calls.push_back(pause); };
    }
};

TEST(ReceiveQueue, PausesAboveTheBufferAndResumesAtHalf) {
    Link link;
    ReceiveQueue queue(1000, link.control());
    EXPECT_TRUE(queue.add(600));
    EXPECT_TRUE(queue.add(400));  // exactly the buffer: still reading
    EXPECT_TRUE(link.calls.empty());
    EXPECT_TRUE(queue.add(300));  // over it: the link pauses, the message is counted
    EXPECT_EQ(link.calls, std::vector<bool>{true});
    EXPECT_TRUE(queue.paused());
    EXPECT_EQ(queue.bytes(), 1300u);

    queue.remove(600);  // 700: above half, still paused
    EXPECT_EQ(link.calls.size(), 1u);
    queue.remove(200);  // 500: half, reading resumes once
    EXPECT_EQ(link.calls, (std::vector<bool>{true, false}));
    EXPECT_FALSE(queue.paused());
    queue.remove(500);
    EXPECT_EQ(queue.bytes(), 0u);
    EXPECT_EQ(link.calls.size(), 2u);
}

TEST(ReceiveQueue, OneMessageLargerThanTheBufferIsTakenAndPauses) {
    // A peer's largest honest message may be bigger than a small buffer: it is taken
    // (the queue was under the buffer when it came), and the link pauses behind it.
    Link link;
    ReceiveQueue queue(100, link.control());
    EXPECT_TRUE(queue.add(5000));
    EXPECT_EQ(link.calls, std::vector<bool>{true});
    queue.remove(5000);
    EXPECT_EQ(link.calls, (std::vector<bool>{true, false}));
}

TEST(ReceiveQueue, AMessageDeliveredWhilePausedIsRefused) {
    Link link;
    ReceiveQueue queue(100, link.control());
    ASSERT_TRUE(queue.add(150));
    EXPECT_FALSE(queue.add(1));  // the link did not pause: flooding
    EXPECT_EQ(queue.bytes(), 150u);
    queue.remove(150);
    EXPECT_TRUE(queue.add(1));
}

// The transport's thread adds while the executor removes: every pause is followed by a
// resume, in that order, and the queue ends empty and reading.
TEST(ReceiveQueue, PausesAndResumesAlternateUnderConcurrentUse) {
    std::vector<bool> calls;
    ReceiveQueue queue(64, [&](bool pause) { calls.push_back(pause); });
    std::atomic<int> added{0};
    constexpr int kMessages = 200'000;
    std::thread remover([&] {
        for (int removed = 0; removed < kMessages;) {
            if (removed < added.load()) {
                queue.remove(8);
                ++removed;
            } else {
                std::this_thread::yield();
            }
        }
    });
    for (int i = 0; i < kMessages; ++i) {
        // As the transport: nothing is delivered while the queue has the link paused.
        while (queue.paused()) std::this_thread::yield();
        ASSERT_TRUE(queue.add(8));
        added.fetch_add(1);
    }
    remover.join();
    EXPECT_EQ(queue.bytes(), 0u);
    EXPECT_FALSE(queue.paused());
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.size() % 2, 0u);
    for (std::size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], i % 2 == 0) << i;
}

}  // namespace
}  // namespace peerchain::net::connman
