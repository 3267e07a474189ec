#include "chain/script_check_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

namespace peerchain::chain {
namespace {

TEST(ScriptCheckPool, RunsEveryJobOnSeveralThreads) {
    ScriptCheckPool pool(4);
    EXPECT_EQ(pool.threads(), 4u);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> seen(1000);
        std::mutex m;
        std::set<std::thread::id> threads;
        const auto failed = pool.run(seen.size(), [&](std::size_t i) {
            seen[i].fetch_add(1);
            std::lock_guard lock(m);
            threads.insert(std::this_thread::get_id());
            return true;
        });
        EXPECT_FALSE(failed);
        for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
        EXPECT_GE(threads.size(), 1u);
    }
}

TEST(ScriptCheckPool, ReportsAFailure) {
    ScriptCheckPool pool(3);
    for (std::size_t bad : {std::size_t{0}, std::size_t{17}, std::size_t{499}}) {
        const auto failed = pool.run(500, [&](std::size_t i) { return i != bad; });
        ASSERT_TRUE(failed);
        EXPECT_EQ(*failed, bad);
    }
    EXPECT_FALSE(pool.run(0, [](std::size_t) { return false; }));
    const auto thrown = pool.run(10, [](std::size_t i) -> bool {
        if (i == 3) throw std::runtime_error("boom");
        return true;
    });
    ASSERT_TRUE(thrown);
    EXPECT_EQ(*thrown, 3u);
}

TEST(ScriptCheckPool, SingleThreadRunsInline) {
    ScriptCheckPool pool(1);
    EXPECT_EQ(pool.threads(), 1u);
    const auto me = std::this_thread::get_id();
    EXPECT_FALSE(pool.run(20, [&](std::size_t) { return std::this_thread::get_id() == me; }));
    ScriptCheckPool automatic(0);
    EXPECT_GE(automatic.threads(), 1u);
}

}  // namespace
}  // namespace peerchain::chain
