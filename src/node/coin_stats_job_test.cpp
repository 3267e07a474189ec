// CoinStatsJob over a real chain state and store: a run answers with the stats of the tip,
// a second run while one is under way is refused at once (never queued), a run that ends
// lets the next one start, and a stop answers a run that had not started its walk.
#include "node/coin_stats_job.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "chain/chain_test_util.hpp"
#include "util/executor.hpp"

namespace peerchain::node {
namespace {

using chain::test::ChainHarness;

// Holds the chain executor until released, as a long block would.
class Blocker {
  public:
    explicit Blocker(util::SerialExecutor& executor) {
        executor.post([f = released_.get_future().share()] { f.wait(); });
    }
    ~Blocker() { release(); }
    void release() {
        if (!done_) released_.set_value();
        done_ = true;
    }

  private:
    std::promise<void> released_;
    bool done_ = false;
};

TEST(CoinStatsJob, OneRunAtATimeWithTheStatsOfTheTip) {
    ChainHarness h;
    h.feed(chain::test::build_branch(chain::test::genesis_parent(), 6, "j"));
    util::SerialExecutor executor("chain");
    CoinStatsJob job(h.chain(), h.db(), executor);

    Blocker blocker(executor);
    std::promise<util::Result<chain::CoinStats>> first;
    ASSERT_TRUE(job.run([&first](util::Result<chain::CoinStats> r) { first.set_value(r); }));
    bool second_called = false;
    EXPECT_FALSE(
        job.run([&second_called](util::Result<chain::CoinStats>) { second_called = true; }));
    blocker.release();
    const auto got = first.get_future().get();
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->height, 6u);
    EXPECT_EQ(got->tip, h.chain().tip()->hash);
    EXPECT_EQ(got->coins, 6u);
    EXPECT_FALSE(second_called);

    // The coins were in the cache only (no flush before): the run flushed them first.
    auto it = h.db().new_iterator();
    const auto direct = chain::compute_coin_stats(*it, h.chain());
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->digest, got->digest);

    // Done, so the next run starts.
    std::promise<util::Result<chain::CoinStats>> again;
    ASSERT_TRUE(job.run([&again](util::Result<chain::CoinStats> r) { again.set_value(r); }));
    const auto got_again = again.get_future().get();
    ASSERT_TRUE(got_again);
    EXPECT_EQ(got_again->digest, got->digest);
    job.stop();
    executor.stop();
}

TEST(CoinStatsJob, AStopAnswersTheRunThatWaits) {
    ChainHarness h;
    util::SerialExecutor executor("chain");
    CoinStatsJob job(h.chain(), h.db(), executor);
    Blocker blocker(executor);
    std::promise<util::Result<chain::CoinStats>> result;
    ASSERT_TRUE(job.run([&result](util::Result<chain::CoinStats> r) { result.set_value(r); }));
    job.stop();
    blocker.release();
    const auto got = result.get_future().get();
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, util::Errc::kUnavailable);

    std::promise<util::Result<chain::CoinStats>> later;
    ASSERT_TRUE(job.run([&later](util::Result<chain::CoinStats> r) { later.set_value(r); }));
    const auto refused = later.get_future().get();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, util::Errc::kUnavailable);
    executor.stop();
}

}  // namespace
}  // namespace peerchain::node
