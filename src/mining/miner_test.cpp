#include "mining/miner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/chain_observer.hpp"
#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"
#include "core/check.hpp"
#include "core/pow.hpp"
#include "mempool/mempool.hpp"
#include "store/leveldb_database.hpp"
#include "tests/util/block_builder.hpp"
#include "tests/util/test_util.hpp"
#include "util/executor.hpp"

namespace peerchain::mining {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using NextBlockContext = chain::Chainstate::NextBlockContext;

// A target no test run meets: 2^48 hashes expected. Dev params accept it (it is harder than
// the limit); the chain refuses a block that carries it, but none is ever found.
constexpr std::uint32_t kHardBits = 0x1b00ffff;

std::string text(const util::Bytes& b) { return std::string(b.begin(), b.end()); }

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// What the node does around the miner, on a real chain in a temporary LevelDB: a chain
// executor that runs process_block for the sink, and an observer that tells the miner
// about tip changes.
class Node final : public chain::ChainObserver, public BlockSink {
  public:
    Node(core::Network network, std::int64_t now) : params_(core::params(network)), clock_(now) {
        auto db = store::open_leveldb(dir_.path() / "chain", store::Options{});
        NODE_ASSERT(db);
        db_ = std::move(*db);
        chain::ChainstateOptions options;
        options.script_threads = 1;
        options.blocks_dir = dir_.path() / "chain" / "blocks";
        auto chain = chain::Chainstate::open(*db_, params_, clock_, this, options);
        NODE_ASSERT(chain);
        chain_ = std::move(*chain);
    }
    ~Node() override { executor_.stop(); }

    const core::Params& params() const { return params_; }
    util::ManualClock& clock() { return clock_; }
    chain::Chainstate& chain() { return *chain_; }
    Miner::ContextSource context_source() {
        return [this] { return chain_->next_block_context(); };
    }

    // Called with null before the miner goes away; drain() then makes sure no observer
    // call still uses it.
    void set_miner(Miner* miner) { miner_.store(miner); }

    // Runs `task` on the chain executor and waits for it.
    template <typename F>
    auto run(F task) {
        std::packaged_task<decltype(task())()> job(std::move(task));
        auto result = job.get_future();
        NODE_ASSERT(executor_.post([&job] { job(); }));
        NODE_ASSERT(result.wait_for(10s) == std::future_status::ready);
        return result.get();
    }
    void drain() {
        run([] {});
    }

    // A block from elsewhere: built by the test and connected on the chain executor.
    core::BlockPtr connect_external(const std::string& data) {
        const NextBlockContext ctx = chain_->next_block_context();
        core::Block block =
            testutil::make_block(params_, ctx.parent->hash, ctx.height,
                                 static_cast<std::uint32_t>(clock_.now_seconds()), data);
        block.header.bits = ctx.bits;
        testutil::mine(block, params_);
        auto ptr = std::make_shared<const core::Block>(std::move(block));
        const core::ValidationResult verdict = run([&] { return chain_->process_block(ptr); });
        EXPECT_TRUE(verdict) << verdict.to_string();
        return ptr;
    }

    // While held, submitted blocks wait in the sink until release().
    void hold() {
        std::lock_guard lock(mutex_);
        hold_ = true;
    }
    std::size_t held() const {
        std::lock_guard lock(mutex_);
        return held_.size();
    }
    void release() {
        std::vector<Held> held;
        {
            std::lock_guard lock(mutex_);
            hold_ = false;
            held.swap(held_);
        }
        for (auto& h : held) post(std::move(h.block), std::move(h.done));
    }

    std::vector<core::Uint256> submitted_parents() const {
        std::lock_guard lock(mutex_);
        return submitted_parents_;
    }

    // A pool wired as the node wires it: block events update it before the miner hears of
    // the new tip.
    mempool::Mempool& make_pool() {
        pool_ = std::make_unique<mempool::Mempool>(*chain_, clock_);
        return *pool_;
    }
    // `n` blocks paying `miner`, connected on the chain executor.
    void grow(int n, const core::XOnlyKey& miner) {
        for (int i = 0; i < n; ++i) {
            chain::test::BlockOptions o;
            o.miner = miner;
            auto block = chain::test::share(
                chain::test::build_block(chain::test::parent_of(chain_->tip()), o, params_));
            const auto verdict = run([&] { return chain_->process_block(block); });
            ASSERT_TRUE(verdict.is_ok()) << verdict.to_string();
        }
    }

    void on_block_connected(const core::BlockPtr& block, const chain::BlockIndex*) override {
        if (pool_) pool_->remove_for_block(*block);
    }
    void on_block_disconnected(const core::BlockPtr& block, const chain::BlockIndex*) override {
        if (pool_) pool_->add_disconnected(block);
    }
    void on_tip_changed(const chain::BlockIndex*, const chain::BlockIndex* old_tip,
                        const chain::BlockIndex* fork) override {
        if (pool_ && fork != old_tip) pool_->update_after_reorg();
        if (Miner* miner = miner_.load()) miner->on_tip_changed();
    }

    void submit(core::BlockPtr block, std::function<void(core::ValidationResult)> done) override {
        {
            std::lock_guard lock(mutex_);
            submitted_parents_.push_back(block->header.prev_hash);
            if (hold_) {
                held_.push_back(Held{std::move(block), std::move(done)});
                return;
            }
        }
        post(std::move(block), std::move(done));
    }

  private:
    struct Held {
        core::BlockPtr block;
        std::function<void(core::ValidationResult)> done;
    };

    void post(core::BlockPtr block, std::function<void(core::ValidationResult)> done) {
        auto task = [this, block, done] { done(chain_->process_block(block)); };
        if (!executor_.post(task)) {
            done(core::ValidationResult::fail(core::ValidationCode::kInternal, "shutting-down"));
        }
    }

    const core::Params& params_;
    util::ManualClock clock_;
    testutil::TempDir dir_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    std::unique_ptr<mempool::Mempool> pool_;
    util::SerialExecutor executor_{"chain"};
    std::atomic<Miner*> miner_{nullptr};
    mutable std::mutex mutex_;
    bool hold_ = false;
    std::vector<Held> held_;
    std::vector<core::Uint256> submitted_parents_;
};

// Collects request results, in the order the callbacks ran.
class Results {
  public:
    MineCallback callback() {
        return [this](MineResult r) {
            {
                std::lock_guard lock(mutex_);
                results_.push_back(std::move(r));
            }
            changed_.notify_all();
        };
    }
    // False when fewer than `n` arrived within `timeout`.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
    }
    std::vector<MineResult> get() const {
        std::lock_guard lock(mutex_);
        return results_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<MineResult> results_;
};

class MinerTest : public ::testing::Test {
  protected:
    // The clock starts an hour after genesis: blocks may carry times up to then.
    void make_node(core::Network network) {
        const core::Params& p = core::params(network);
        node_ = std::make_unique<Node>(network, std::int64_t{p.genesis.header.time} + 3600);
    }

    void make_miner(MinerOptions options = {}, Miner::ContextSource source = nullptr) {
        if (!source) source = node_->context_source();
        miner_ = std::make_unique<Miner>(node_->params(), std::move(source), *node_, node_->clock(),
                                         options);
        node_->set_miner(miner_.get());
    }

    static MinerOptions threads(unsigned n) {
        MinerOptions options;
        options.threads = n;
        return options;
    }

    CoinbaseSpec spec(const std::string& data) const {
        return CoinbaseSpec{key_, testutil::bytes_of_text(data)};
    }

    core::BlockPtr block_at(std::uint32_t height) {
        const chain::BlockIndex* index = node_->chain().at_height(height);
        if (index == nullptr) return nullptr;
        auto block = node_->chain().read_block(index);
        return block ? *block : nullptr;
    }

    void TearDown() override {
        if (miner_) miner_->stop();
        if (node_) {
            node_->set_miner(nullptr);
            node_->drain();
        }
        miner_.reset();
        node_.reset();
    }

    core::XOnlyKey key_{0x5a};
    Results results_;
    std::unique_ptr<Node> node_;
    std::unique_ptr<Miner> miner_;
};

TEST_F(MinerTest, OneShotRequestBecomesTheTipWithItsData) {
    make_node(core::Network::kRegtest);
    make_miner(threads(2));
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("hello, chain"), results_.callback()));
    ASSERT_TRUE(results_.wait_for(1, 10s));

    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    ASSERT_NE(r.block, nullptr);
    EXPECT_EQ(r.height, 1u);
    EXPECT_EQ(text(r.block->txs.at(0).data), "hello, chain");
    EXPECT_EQ(r.block->txs[0].outputs.at(0).recipient, key_);
    EXPECT_EQ(r.block->header.prev_hash, node_->params().genesis_hash);
    EXPECT_TRUE(core::check_proof_of_work(r.block->hash(), r.block->header.bits, node_->params()));
    EXPECT_TRUE(core::check_block(*r.block, node_->params()));
    EXPECT_EQ(node_->chain().tip()->hash, r.block->hash());
    EXPECT_EQ(node_->chain().tip()->height, 1u);

    const MinerStats stats = miner_->stats();
    EXPECT_EQ(stats.blocks_found, 1u);
    EXPECT_EQ(stats.blocks_accepted, 1u);
    EXPECT_GE(stats.hashes, 1u);
    EXPECT_EQ(stats.requests, 0u);
    EXPECT_TRUE(stats.running);
    EXPECT_EQ(stats.threads, 2u);
}

TEST_F(MinerTest, TwentyQueuedRequestsLandInOrder) {
    make_node(core::Network::kRegtest);
    make_miner(threads(2));
    // Queued before the threads start, so that all twenty wait at once.
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(miner_->request(spec("request " + std::to_string(i)), results_.callback()));
    }
    EXPECT_EQ(miner_->stats().requests, 20u);
    miner_->start();
    ASSERT_TRUE(results_.wait_for(20, 30s)) << results_.get().size() << " of 20";

    const auto results = results_.get();
    for (std::uint32_t i = 0; i < 20; ++i) {
        SCOPED_TRACE(i);
        ASSERT_TRUE(results[i].accepted()) << results[i].verdict.to_string();
        EXPECT_EQ(results[i].height, i + 1);
        EXPECT_EQ(text(results[i].block->txs.at(0).data), "request " + std::to_string(i));
        const core::BlockPtr stored = block_at(i + 1);
        ASSERT_NE(stored, nullptr);
        EXPECT_EQ(stored->hash(), results[i].block->hash());
    }
    EXPECT_EQ(node_->chain().tip()->height, 20u);
    EXPECT_EQ(miner_->stats().blocks_found, 20u);
}

TEST_F(MinerTest, RequestsAreBoundedAndCheckedUpFront) {
    make_node(core::Network::kRegtest);
    MinerOptions options = threads(1);
    options.max_requests = 4;
    make_miner(options);

    auto too_long = miner_->request(
        CoinbaseSpec{key_, util::Bytes(node_->params().max_data_size + 1, 1)}, results_.callback());
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().code, util::Errc::kInvalidArgument);
    EXPECT_FALSE(miner_->start_continuous(
        CoinbaseSpec{key_, util::Bytes(node_->params().max_data_size + 1)}));

    for (int i = 0; i < 4; ++i) ASSERT_TRUE(miner_->request(spec("q"), results_.callback()));
    auto full = miner_->request(spec("one too many"), results_.callback());
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, util::Errc::kUnavailable);

    // Never started: stop() fails what waits, each callback once.
    miner_->stop();
    ASSERT_TRUE(results_.wait_for(4, 1s));
    const auto results = results_.get();
    ASSERT_EQ(results.size(), 4u);
    for (const auto& r : results) {
        EXPECT_FALSE(r.accepted());
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->code, util::Errc::kUnavailable);
        EXPECT_EQ(r.block, nullptr);
    }
    auto after = miner_->request(spec("late"), results_.callback());
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code, util::Errc::kUnavailable);
}

TEST_F(MinerTest, ContinuousMiningGrowsTheChainAndStopsPromptly) {
    make_node(core::Network::kRegtest);
    make_miner(threads(2));
    miner_->start();
    ASSERT_TRUE(miner_->start_continuous(spec("tag")));
    EXPECT_TRUE(miner_->stats().continuous);
    ASSERT_TRUE(wait_until([&] { return node_->chain().tip()->height >= 5; }, 10s));

    const auto before = Clock::now();
    miner_->stop();
    EXPECT_LT(Clock::now() - before, 2s);
    node_->drain();
    const std::uint32_t height = node_->chain().tip()->height;
    const MinerStats stats = miner_->stats();
    EXPECT_FALSE(stats.running);
    EXPECT_EQ(stats.active_threads, 0u);
    EXPECT_GE(stats.blocks_accepted, 5u);
    EXPECT_GE(stats.blocks_found, stats.blocks_accepted);

    for (std::uint32_t h = 1; h <= height; ++h) {
        const core::BlockPtr block = block_at(h);
        ASSERT_NE(block, nullptr);
        EXPECT_EQ(text(block->txs.at(0).data), "tag");
        EXPECT_EQ(block->txs[0].outputs.at(0).recipient, key_);
    }
    std::this_thread::sleep_for(50ms);
    node_->drain();
    EXPECT_EQ(node_->chain().tip()->height, height);
}

TEST_F(MinerTest, RequestsTakePriorityOverContinuousMining) {
    make_node(core::Network::kRegtest);
    make_miner(threads(2));
    miner_->start();
    ASSERT_TRUE(miner_->start_continuous(spec("background")));
    ASSERT_TRUE(wait_until([&] { return node_->chain().tip()->height >= 2; }, 10s));
    ASSERT_TRUE(miner_->request(spec("urgent"), results_.callback()));
    ASSERT_TRUE(results_.wait_for(1, 10s));
    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    EXPECT_EQ(text(r.block->txs.at(0).data), "urgent");
    miner_->stop_continuous();
    EXPECT_FALSE(miner_->stats().continuous);
    ASSERT_TRUE(wait_until([&] { return miner_->stats().active_threads == 0; }, 2s));
    EXPECT_FALSE(miner_->stats().work_parent);
}

// dev params; the miner is given a target it never meets while the tip is genesis. A block
// from elsewhere then moves the tip, and the request must be mined on it, at once.
TEST_F(MinerTest, TipChangeAbandonsStaleWorkAndRebuildsTheRequest) {
    make_node(core::Network::kDev);
    auto source = [this] {
        NextBlockContext ctx = node_->chain().next_block_context();
        if (ctx.parent->height == 0) ctx.bits = kHardBits;
        return ctx;
    };
    make_miner(threads(2), source);
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("after the tip moved"), results_.callback()));
    ASSERT_TRUE(wait_until(
        [&] {
            const MinerStats s = miner_->stats();
            return s.active_threads == 2 && s.work_parent == node_->params().genesis_hash;
        },
        5s));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(results_.get().size(), 0u);

    const core::BlockPtr external = node_->connect_external("from elsewhere");
    const auto connected = Clock::now();
    ASSERT_TRUE(results_.wait_for(1, 10s));
    // Two workers each hashing a 2^31 slice of a 2^48 target would take minutes; the
    // generation check between chunks makes this milliseconds.
    EXPECT_LT(Clock::now() - connected, 3s);

    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    EXPECT_EQ(r.height, 2u);
    EXPECT_EQ(r.block->header.prev_hash, external->hash());
    EXPECT_EQ(text(r.block->txs.at(0).data), "after the tip moved");
    EXPECT_EQ(node_->chain().tip()->hash, r.block->hash());
    for (const auto& parent : node_->submitted_parents()) {
        EXPECT_NE(parent, node_->params().genesis_hash);
    }
    ASSERT_TRUE(wait_until([&] { return miner_->stats().active_threads == 0; }, 2s));
}

TEST_F(MinerTest, TipChangeMovesHardWorkToTheNewTipAndStopIsPrompt) {
    make_node(core::Network::kDev);
    auto source = [this] {
        NextBlockContext ctx = node_->chain().next_block_context();
        ctx.bits = kHardBits;
        return ctx;
    };
    make_miner(threads(2), source);
    miner_->start();
    ASSERT_TRUE(miner_->start_continuous(spec("")));
    ASSERT_TRUE(wait_until(
        [&] {
            const MinerStats s = miner_->stats();
            return s.active_threads == 2 && s.work_parent == node_->params().genesis_hash;
        },
        5s));

    const core::BlockPtr external = node_->connect_external("from elsewhere");
    const auto connected = Clock::now();
    ASSERT_TRUE(wait_until(
        [&] {
            const MinerStats s = miner_->stats();
            return s.work_parent == external->hash() && s.work_height == 2 && s.active_threads == 2;
        },
        2s));
    EXPECT_LT(Clock::now() - connected, 2s);

    // Hashes keep coming, and the rate shows them.
    const std::uint64_t hashes = miner_->stats().hashes;
    ASSERT_TRUE(wait_until([&] { return miner_->stats().hashes > hashes; }, 2s));
    ASSERT_TRUE(wait_until([&] { return miner_->stats().hash_rate > 0; }, 2s));
    EXPECT_EQ(miner_->stats().blocks_found, 0u);

    const auto before = Clock::now();
    miner_->stop();
    EXPECT_LT(Clock::now() - before, 1s);
    EXPECT_EQ(miner_->stats().active_threads, 0u);
}

TEST_F(MinerTest, StopFailsPendingRequestsWhileHashing) {
    make_node(core::Network::kDev);
    auto source = [this] {
        NextBlockContext ctx = node_->chain().next_block_context();
        ctx.bits = kHardBits;
        return ctx;
    };
    make_miner(threads(2), source);
    miner_->start();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(miner_->request(spec("never"), results_.callback()));
    ASSERT_TRUE(wait_until([&] { return miner_->stats().active_threads == 2; }, 5s));

    const auto before = Clock::now();
    miner_->stop();
    EXPECT_LT(Clock::now() - before, 1s);
    ASSERT_TRUE(results_.wait_for(3, 1s));
    for (const auto& r : results_.get()) {
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->code, util::Errc::kUnavailable);
    }
}

TEST_F(MinerTest, DevBlockAtThePowLimitMeetsCheckBlock) {
    make_node(core::Network::kDev);
    make_miner(threads(2));
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("dev"), results_.callback()));
    ASSERT_TRUE(results_.wait_for(1, 30s));
    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    EXPECT_EQ(r.block->header.bits, node_->params().pow_limit_bits);
    EXPECT_TRUE(core::check_block(*r.block, node_->params()));
    EXPECT_EQ(node_->chain().tip()->hash, r.block->hash());
}

TEST_F(MinerTest, RefusedBlockReportsTheReason) {
    make_node(core::Network::kRegtest);
    // Bits the chain does not expect on regtest, but easy enough to meet (2^16 hashes).
    auto source = [this] {
        NextBlockContext ctx = node_->chain().next_block_context();
        ctx.bits = 0x1f00ffff;
        return ctx;
    };
    make_miner(threads(1), source);
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("refused"), results_.callback()));
    ASSERT_TRUE(results_.wait_for(1, 30s));
    const MineResult r = results_.get().at(0);
    EXPECT_FALSE(r.accepted());
    EXPECT_FALSE(r.error);
    ASSERT_NE(r.block, nullptr);
    EXPECT_EQ(r.verdict.reason, "bad-diffbits");
    EXPECT_EQ(node_->chain().tip()->height, 0u);
    EXPECT_EQ(miner_->stats().requests, 0u);
}

// Our block reaches the chain after another block at the same height: it is stored but
// does not become the tip, so the request is mined again on the new tip.
TEST_F(MinerTest, RequestThatLosesARaceIsMinedAgain) {
    make_node(core::Network::kRegtest);
    make_miner(threads(1));
    node_->hold();
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("race"), results_.callback()));
    ASSERT_TRUE(wait_until([&] { return node_->held() == 1; }, 10s));

    const core::BlockPtr external = node_->connect_external("won the race");
    node_->release();
    ASSERT_TRUE(results_.wait_for(1, 10s));
    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    EXPECT_EQ(r.height, 2u);
    EXPECT_EQ(r.block->header.prev_hash, external->hash());
    EXPECT_EQ(text(r.block->txs.at(0).data), "race");
    EXPECT_EQ(node_->chain().tip()->hash, r.block->hash());
    EXPECT_EQ(miner_->stats().blocks_found, 2u);
}

TEST_F(MinerTest, TemplatesWaitForAClockThatFellBehindTheChain) {
    make_node(core::Network::kRegtest);
    // A context whose time floor is far ahead of the clock: the chain would refuse the
    // block as time-too-new, so nothing is mined until the clock catches up.
    const std::int64_t floor = node_->clock().now_seconds() + 1000;
    auto source = [this, floor] {
        NextBlockContext ctx = node_->chain().next_block_context();
        ctx.min_time = floor;
        return ctx;
    };
    make_miner(threads(1), source);
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("patience"), results_.callback()));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(results_.get().size(), 0u);
    EXPECT_FALSE(miner_->stats().work_parent);

    node_->clock().set(floor);
    ASSERT_TRUE(results_.wait_for(1, 10s));
    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    EXPECT_EQ(r.block->header.time, floor);
}

// --- Transactions from the pool -------------------------------------------------------------

class MinerPoolTest : public MinerTest {
  protected:
    using Input = std::pair<core::OutPoint, core::TxOut>;

    // A regtest chain of 101 blocks whose coinbases pay our key: the first is mature.
    void SetUp() override {
        make_node(core::Network::kRegtest);
        spend_key_ = std::make_unique<crypto::SecretKey>(chain::test::test_key(9));
        node_->grow(101, spend_key_->public_key());
        pool_ = &node_->make_pool();
    }
    Input coinbase_of(std::uint32_t height) {
        const core::BlockPtr b = block_at(height);
        return {chain::test::coinbase_outpoint(*b), b->txs[0].outputs[0]};
    }
    core::Transaction pay_fee(const Input& in, core::Amount fee) const {
        return chain::test::signed_spend(
            {in}, {core::TxOut{in.second.amount - fee, spend_key_->public_key()}}, *spend_key_);
    }
    void add(const core::Transaction& tx) {
        auto ptr = std::make_shared<const core::Transaction>(tx);
        const auto r = node_->run([&] { return pool_->accept(ptr); });
        ASSERT_TRUE(r.is_ok()) << r.to_string();
    }
    MinerOptions with_pool(unsigned n) const {
        MinerOptions options = threads(n);
        options.pool = pool_;
        return options;
    }

    std::unique_ptr<crypto::SecretKey> spend_key_;
    mempool::Mempool* pool_ = nullptr;
};

TEST_F(MinerPoolTest, MinedBlockCarriesThePoolsTransactionsAndPaysTheirFees) {
    const auto parent = pay_fee(coinbase_of(1), 200);
    const auto child = pay_fee({core::OutPoint{parent.txid(), 0}, parent.outputs[0]}, 9000);
    const auto other = pay_fee(coinbase_of(2), 1000);
    add(parent);
    add(child);
    add(other);
    make_miner(with_pool(2));
    miner_->start();
    ASSERT_TRUE(miner_->request(spec("with fees"), results_.callback()));
    ASSERT_TRUE(results_.wait_for(1, 10s));
    const MineResult r = results_.get().at(0);
    ASSERT_TRUE(r.accepted()) << r.verdict.to_string();
    ASSERT_EQ(r.block->txs.size(), 4u);
    EXPECT_EQ(r.block->txs[1].txid(), parent.txid());
    EXPECT_EQ(r.block->txs[2].txid(), child.txid());
    EXPECT_EQ(r.block->txs[3].txid(), other.txid());
    EXPECT_EQ(r.block->txs[0].outputs.at(0).amount,
              core::block_subsidy(r.height, node_->params()) + 200 + 9000 + 1000);
    EXPECT_EQ(node_->chain().tip()->hash, r.block->hash());
    // The block's transactions left the pool as it connected.
    EXPECT_EQ(pool_->size(), 0u);
    EXPECT_TRUE(node_->chain().coin({child.txid(), 0}));
    EXPECT_FALSE(node_->chain().coin(coinbase_of(2).first));
}

TEST_F(MinerPoolTest, NewPoolTransactionsReachTheWorkBeingHashed) {
    auto source = [this] {
        NextBlockContext ctx = node_->chain().next_block_context();
        ctx.bits = kHardBits;
        return ctx;
    };
    make_miner(with_pool(1), source);
    miner_->start();
    ASSERT_TRUE(miner_->start_continuous(spec("")));
    ASSERT_TRUE(wait_until([&] { return miner_->stats().work_parent.has_value(); }, 5s));
    EXPECT_EQ(miner_->stats().work_transactions, 0u);

    add(pay_fee(coinbase_of(1), 1500));
    ASSERT_TRUE(wait_until([&] { return miner_->stats().work_transactions == 1; }, 10s));
    EXPECT_EQ(miner_->stats().work_fees, 1500);
    add(pay_fee(coinbase_of(2), 2500));
    ASSERT_TRUE(wait_until([&] { return miner_->stats().work_transactions == 2; }, 10s));
    EXPECT_EQ(miner_->stats().work_fees, 4000);
    EXPECT_EQ(miner_->stats().work_height, 102u);
    EXPECT_EQ(miner_->stats().blocks_found, 0u);
}

}  // namespace
}  // namespace peerchain::mining
