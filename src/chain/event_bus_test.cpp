#include "chain/event_bus.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "chain/chain_test_util.hpp"

namespace peerchain::chain {
namespace {

using test::build_branch;
using test::genesis_parent;

// Writes "<name>:<event>" into a log shared by every subscriber, to see the order.
class Named : public ChainObserver {
  public:
    Named(std::string name, std::vector<std::string>& log) : name_(std::move(name)), log_(log) {}
    void on_block_connected(const core::BlockPtr&, const BlockIndex* index) override {
        log_.push_back(name_ + ":+" + std::to_string(index->height));
    }
    void on_block_disconnected(const core::BlockPtr&, const BlockIndex* index) override {
        log_.push_back(name_ + ":-" + std::to_string(index->height));
    }
    void on_tip_changed(const BlockIndex* new_tip, const BlockIndex*, const BlockIndex*) override {
        log_.push_back(name_ + ":tip" + std::to_string(new_tip->height));
    }

  private:
    std::string name_;
    std::vector<std::string>& log_;
};

struct BusChain {
    BusChain() : clock(test::regtest().genesis.header.time + 100'000'000), tap(1000), bus(&tap) {
        auto opened = store::open_leveldb(dir.path() / "db", {});
        EXPECT_TRUE(opened);
        db = std::move(*opened);
        ChainstateOptions options;
        options.script_threads = 1;
        options.blocks_dir = dir.path() / "db" / "blocks";
        auto c = Chainstate::open(*db, test::regtest(), clock, &bus, options);
        EXPECT_TRUE(c);
        chain = std::move(*c);
    }
    testutil::TempDir dir;
    util::ManualClock clock;
    util::EventRing<ChainEvent> tap;
    EventBus bus;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<Chainstate> chain;
};

TEST(EventBus, SubscribersHearEveryEventInTheDeclaredOrderWhateverOrderTheyJoined) {
    BusChain c;
    std::vector<std::string> log;
    Named node("node", log), miner("miner", log), peers("peers", log), pool("pool", log);
    // Joined backwards on purpose: the slot decides the order, not the call order.
    c.bus.subscribe(EventBus::Slot::kNode, &node);
    c.bus.subscribe(EventBus::Slot::kMiner, &miner);
    c.bus.subscribe(EventBus::Slot::kPeers, &peers);
    c.bus.subscribe(EventBus::Slot::kMempool, &pool);

    const auto blocks = build_branch(genesis_parent(), 1, "a");
    ASSERT_TRUE(c.chain->process_block(blocks[0]).is_ok());
    const std::vector<std::string> expected = {
        "pool:+1",   "peers:+1",   "miner:+1",   "node:+1",
        "pool:tip1", "peers:tip1", "miner:tip1", "node:tip1",
    };
    EXPECT_EQ(log, expected);

    // An emptied slot hears nothing more.
    c.bus.subscribe(EventBus::Slot::kMiner, nullptr);
    log.clear();
    const auto next = build_branch(test::parent_of(*blocks[0], 1), 1, "a2");
    ASSERT_TRUE(c.chain->process_block(next[0]).is_ok());
    EXPECT_EQ(log, (std::vector<std::string>{"pool:+2", "peers:+2", "node:+2", "pool:tip2",
                                             "peers:tip2", "node:tip2"}));
}

// The last slot, as the node's metrics: each connected block's time, just before the block.
TEST(EventBus, EachConnectedBlockComesWithTheTimeItTook) {
    class Timer final : public ChainObserver {
      public:
        void on_block_validated(const BlockIndex* index, std::chrono::nanoseconds took) override {
            log.push_back("v" + std::to_string(index->height));
            total += took;
        }
        void on_block_connected(const core::BlockPtr&, const BlockIndex* index) override {
            log.push_back("+" + std::to_string(index->height));
        }
        std::vector<std::string> log;
        std::chrono::nanoseconds total{0};
    } timer;
    BusChain c;
    c.bus.subscribe(EventBus::Slot::kMetrics, &timer);
    for (const auto& b : build_branch(genesis_parent(), 3, "t")) {
        ASSERT_TRUE(c.chain->process_block(b).is_ok());
    }
    EXPECT_EQ(timer.log, (std::vector<std::string>{"v1", "+1", "v2", "+2", "v3", "+3"}));
    EXPECT_GT(timer.total.count(), 0);
}

TEST(EventBus, TheTapSeesAReorgAsValues) {
    BusChain c;
    const auto a = build_branch(genesis_parent(), 2, "a");
    const auto b = build_branch(genesis_parent(), 3, "b");
    for (const auto& block : a) ASSERT_TRUE(c.chain->process_block(block).is_ok());
    const auto before = c.tap.last_sequence();
    for (const auto& block : b) ASSERT_TRUE(c.chain->process_block(block).is_ok());

    auto read = c.tap.read(before + 1, 100);
    ASSERT_FALSE(read.reset);
    std::vector<std::string> kinds;
    for (const auto& [seq, e] : read.events) {
        kinds.push_back(std::string(chain_event_name(e.kind)) + " " + std::to_string(e.height));
    }
    // b1 and b2 tie or lose against a2: stored, not connected. b3 wins: a2, a1 out, b in.
    EXPECT_EQ(kinds, (std::vector<std::string>{"block-disconnected 2", "block-disconnected 1",
                                               "block-connected 1", "block-connected 2",
                                               "block-connected 3", "tip-changed 3"}));
    const ChainEvent& tip = read.events.back().second;
    EXPECT_EQ(tip.hash, b[2]->hash());
    EXPECT_EQ(tip.old_hash, a[1]->hash());
    EXPECT_EQ(tip.old_height, 2u);
    EXPECT_EQ(tip.fork_height, 0u);
    // The blocks themselves ride along, for a reader that renders them off the executor.
    ASSERT_TRUE(read.events[0].second.block && read.events[2].second.block);
    EXPECT_EQ(read.events[0].second.block->hash(), a[1]->hash());  // read back from the store
    EXPECT_EQ(read.events[2].second.block->hash(), b[0]->hash());
}

TEST(EventBus, APoolEntryReachesSubscribersAndTheTapInOrder) {
    struct Pool final : ChainObserver {
        void on_transaction_added(const std::shared_ptr<const core::Transaction>& tx,
                                  core::Amount fee) override {
            seen = tx;
            seen_fee = fee;
        }
        std::shared_ptr<const core::Transaction> seen;
        core::Amount seen_fee = 0;
    } pool;
    BusChain c;
    c.bus.subscribe(EventBus::Slot::kNode, &pool);
    const auto block = build_branch(genesis_parent(), 1, "a")[0];
    auto tx = std::make_shared<const core::Transaction>(block->txs[0]);
    const auto before = c.tap.last_sequence();
    c.bus.on_transaction_added(tx, 250);
    ASSERT_TRUE(c.chain->process_block(block).is_ok());
    EXPECT_EQ(pool.seen, tx);
    EXPECT_EQ(pool.seen_fee, 250);
    auto read = c.tap.read(before + 1, 100);
    ASSERT_GE(read.events.size(), 2u);
    EXPECT_EQ(read.events[0].second.kind, ChainEvent::Kind::kTransactionAdded);
    EXPECT_EQ(read.events[0].second.tx, tx);
    EXPECT_EQ(read.events[0].second.fee, 250);
    EXPECT_EQ(read.events[1].second.kind, ChainEvent::Kind::kBlockConnected);
}

}  // namespace
}  // namespace peerchain::chain
