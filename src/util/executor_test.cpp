#include "util/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace peerchain::util {
namespace {

TEST(SerialExecutor, RunsTasksInOrderOnItsOwnThread) {
    SerialExecutor ex("test-exec");
    std::vector<int> seen;
    std::atomic<bool> on_thread{true};
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(ex.post([&, i] {
            if (!ex.in_executor_thread()) on_thread = false;
            seen.push_back(i);
        }));
    }
    ex.stop();
    ASSERT_EQ(seen.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
    EXPECT_TRUE(on_thread);
    EXPECT_FALSE(ex.in_executor_thread());
}

TEST(SerialExecutor, SurvivesAThrowingTaskAndRefusesWorkAfterStop) {
    SerialExecutor ex("test-exec");
    std::atomic<int> ran{0};
    ex.post([] { throw std::runtime_error("boom"); });
    ex.post([&] { ++ran; });
    ex.stop();
    EXPECT_EQ(ran, 1);
    EXPECT_FALSE(ex.post([&] { ++ran; }));
    ex.stop();
}

}  // namespace
}  // namespace peerchain::util
