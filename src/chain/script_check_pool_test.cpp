#include "chain/script_check_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
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

// The chain executor's use: jobs become ready while it goes on through the coins, and the
// workers check them meanwhile, before finish().
TEST(ScriptCheckPool, BatchChecksJobsAsTheyBecomeReady) {
    ScriptCheckPool pool(2);
    for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> seen(300);
        std::atomic<std::size_t> checked{0};
        const std::function<bool(std::size_t)> check = [&](std::size_t i) {
            seen[i].fetch_add(1);
            checked.fetch_add(1);
            return true;
        };
        ScriptCheckPool::Batch batch(pool, check);
        batch.add_ready(10);
        // The worker takes them without the caller's help; a generous bound, not a timing.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (checked.load() < 10 && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::yield();
        }
        ASSERT_EQ(checked.load(), 10u) << "no worker checked the ready jobs before finish()";
        for (std::size_t ready = 20; ready <= seen.size(); ready += 10) batch.add_ready(ready);
        batch.add_ready(5);  // never backwards
        EXPECT_FALSE(batch.finish());
        for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
    }
}

TEST(ScriptCheckPool, BatchReportsAFailureFoundWhileJobsAreAdded) {
    ScriptCheckPool pool(3);
    const std::function<bool(std::size_t)> check = [](std::size_t i) { return i != 123; };
    ScriptCheckPool::Batch batch(pool, check);
    for (std::size_t ready = 1; ready <= 400; ++ready) batch.add_ready(ready);
    const auto failed = batch.finish();
    ASSERT_TRUE(failed);
    EXPECT_EQ(*failed, 123u);
    EXPECT_FALSE(pool.run(50, [](std::size_t) { return true; }));  // the pool goes on
}

// A block refused half way through its coins abandons its checks: the destructor stops
// the workers, no check runs after it, and the pool serves the next block.
TEST(ScriptCheckPool, AnAbandonedBatchStopsItsChecks) {
    ScriptCheckPool pool(2);
    for (int round = 0; round < 20; ++round) {
        std::atomic<bool> gone{false};
        std::atomic<int> after_gone{0};
        {
            const std::function<bool(std::size_t)> check = [&](std::size_t) {
                if (gone.load()) after_gone.fetch_add(1);
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                return true;
            };
            ScriptCheckPool::Batch batch(pool, check);
            batch.add_ready(1000);
        }
        gone.store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(after_gone.load(), 0);
        EXPECT_FALSE(pool.run(100, [](std::size_t) { return true; }));
    }
    {
        // Nothing ever made ready: nothing to stop.
        const std::function<bool(std::size_t)> never = [](std::size_t) { return false; };
        ScriptCheckPool::Batch batch(pool, never);
    }
    const std::function<bool(std::size_t)> never = [](std::size_t) { return false; };
    ScriptCheckPool::Batch empty(pool, never);
    EXPECT_FALSE(empty.finish());
}

}  // namespace
}  // namespace peerchain::chain
