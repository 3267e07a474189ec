// The Chainstate over a real LevelDB: growing the chain, reopening, locators,
// headers-first sync and queries from other threads. Reorgs and failed branches are in
// chainstate_reorg_test.cpp, the consensus rules in chainstate_rules_test.cpp, the crash
// test in chainstate_crash_test.cpp and the indexes in index_test.cpp.
#include "chain/chainstate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "chain/chain_test_util.hpp"
#include "chain/storage_format.hpp"
#include "core/pow.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using core::ValidationCode;
using test::build_block;
using test::build_branch;
using test::ChainHarness;
using test::connects;
using test::parent_of;
using test::regtest;

TEST(Chainstate, NewDatabaseStartsAtGenesis) {
    ChainHarness h;
    Chainstate& c = h.chain();
    ASSERT_NE(c.tip(), nullptr);
    EXPECT_EQ(c.tip(), c.genesis());
    EXPECT_EQ(c.tip()->hash, regtest().genesis_hash);
    EXPECT_EQ(c.tip()->height, 0u);
    EXPECT_EQ(c.at_height(0), c.genesis());
    EXPECT_EQ(c.at_height(1), nullptr);
    EXPECT_EQ(c.best_header(), c.genesis());
    EXPECT_EQ(c.status(c.genesis()) & kHaveData, kHaveData);
    // The genesis coinbase never enters the coins set.
    EXPECT_FALSE(c.coin(test::coinbase_outpoint(regtest().genesis)));
    auto block = c.read_block(c.genesis());
    ASSERT_TRUE(block);
    EXPECT_EQ(**block, regtest().genesis);
}

TEST(Chainstate, ExtendsAChainOf50Blocks) {
    ChainHarness h;
    const auto blocks = build_branch(test::genesis_parent(), 50, "a");
    h.recorder().label_all(blocks, "A");
    h.recorder().label(regtest().genesis_hash, "G");
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        bool is_new = false;
        const auto r = h.chain().process_block(blocks[i], &is_new);
        ASSERT_TRUE(r.is_ok()) << r.to_string();
        EXPECT_TRUE(is_new);
        EXPECT_EQ(h.chain().tip()->hash, blocks[i]->hash());
    }
    Chainstate& c = h.chain();
    EXPECT_EQ(c.tip()->height, 50u);
    EXPECT_EQ(c.best_header(), c.tip());
    for (std::uint32_t height = 1; height <= 50; ++height) {
        const BlockIndex* index = c.at_height(height);
        ASSERT_NE(index, nullptr);
        EXPECT_EQ(index->hash, blocks[height - 1]->hash());
        EXPECT_EQ(index->height, height);
        EXPECT_TRUE(c.in_active_chain(index));
        EXPECT_EQ(c.lookup(index->hash), index);
        EXPECT_EQ(c.status(index) & (kHaveData | kHaveUndo), kHaveData | kHaveUndo);
        EXPECT_EQ(index->chain_work,
                  index->prev->chain_work + core::block_work(index->header.bits));
        const auto coin = c.coin(test::coinbase_outpoint(*blocks[height - 1]));
        ASSERT_TRUE(coin);
        EXPECT_EQ(coin->height, height);
        EXPECT_TRUE(coin->coinbase);
        EXPECT_EQ(coin->out.amount, core::block_subsidy(height, regtest()));
        auto stored = c.read_block(index);
        ASSERT_TRUE(stored);
        EXPECT_EQ(**stored, *blocks[height - 1]);
        auto bytes = c.read_block_bytes(index);
        ASSERT_TRUE(bytes);
        EXPECT_EQ(*bytes, blocks[height - 1]->encode());
    }
    const auto stats = c.stats();
    EXPECT_EQ(stats.height, 50u);
    EXPECT_EQ(stats.tip_hash, blocks.back()->hash());
    EXPECT_EQ(stats.headers, 51u);
    EXPECT_EQ(stats.best_header_height, 50u);

    const auto events = h.recorder().take();
    ASSERT_EQ(events.size(), 100u);
    EXPECT_EQ(events[0], "+A1");
    EXPECT_EQ(events[1], "tip A1 from G fork G");
    EXPECT_EQ(events[98], "+A50");
    EXPECT_EQ(events[99], "tip A50 from A49 fork A49");

    // The same block again is stored already: ok, not new, nothing happens.
    bool is_new = true;
    EXPECT_TRUE(c.process_block(blocks[10], &is_new).is_ok());
    EXPECT_FALSE(is_new);
    const BlockIndex* known = nullptr;
    const auto dup = c.process_header(blocks[10]->header, &known);
    EXPECT_EQ(dup.code, ValidationCode::kDuplicate);
    EXPECT_EQ(known, c.at_height(11));
    EXPECT_TRUE(h.recorder().take().empty());

    const auto next = c.next_block_context();
    EXPECT_EQ(next.parent, c.tip());
    EXPECT_EQ(next.height, 51u);
    EXPECT_EQ(next.bits, regtest().pow_limit_bits);
    EXPECT_EQ(next.min_time, c.tip()->median_time_past() + c.params().min_time_above_median);
}

// --- Persistence ---------------------------------------------------------------------------

TEST(Chainstate, ReopenGivesTheSameTipAndCoins) {
    ChainstateOptions options;
    options.flush_every_blocks = 7;
    ChainHarness h(regtest(), options);
    const auto blocks = build_branch(test::genesis_parent(), 30, "r");
    h.feed(blocks);
    const auto before = h.chain().stats();
    h.reopen();
    const auto after = h.chain().stats();
    EXPECT_EQ(after.height, 30u);
    EXPECT_EQ(after.tip_hash, before.tip_hash);
    EXPECT_EQ(after.chain_work, before.chain_work);
    EXPECT_EQ(after.headers, before.headers);
    for (std::uint32_t height = 1; height <= 30; ++height) {
        EXPECT_EQ(h.chain().at_height(height)->hash, blocks[height - 1]->hash());
        EXPECT_TRUE(h.chain().coin(test::coinbase_outpoint(*blocks[height - 1])));
    }
    // Reopening emits nothing.
    EXPECT_TRUE(h.recorder().take().size() == 60u);
    h.reopen();
    EXPECT_TRUE(h.recorder().take().empty());
}

TEST(Chainstate, HeadersSurviveReopen) {
    ChainHarness h;
    const auto blocks = build_branch(test::genesis_parent(), 20, "h");
    std::vector<core::BlockHeader> headers;
    for (const auto& b : blocks) headers.push_back(b->header);
    ASSERT_TRUE(h.chain().process_headers(headers).is_ok());
    h.feed({blocks.begin(), blocks.begin() + 5});
    h.reopen();
    EXPECT_EQ(h.chain().best_header()->hash, blocks.back()->hash());
    EXPECT_EQ(h.chain().tip()->height, 5u);
    h.feed({blocks.begin() + 5, blocks.end()});
    EXPECT_EQ(h.chain().tip()->hash, blocks.back()->hash());
}

TEST(Chainstate, AnotherNetworksDatabaseRefusesToOpen) {
    ChainHarness h;
    h.feed(build_branch(test::genesis_parent(), 2, "n"));
    auto other = h.try_open(core::params(core::Network::kDev));
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, util::Errc::kInvalidArgument);
    EXPECT_NE(other.error().message.find("another network"), std::string::npos)
        << other.error().message;
    // The database is untouched by the attempt.
    h.reopen();
    EXPECT_EQ(h.chain().tip()->height, 2u);
}

TEST(Chainstate, NewerFormatRefusesToOpen) {
    ChainHarness h;
    h.close();
    {
        auto db = store::open_leveldb(h.dir() / "db", {});
        ASSERT_TRUE(db);
        ASSERT_TRUE(
            (*db)->put(storage::version_key(), storage::encode_u32(storage::kFormatVersion + 1)));
    }
    auto r = h.try_open(regtest());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
}

// --- Locators ------------------------------------------------------------------------------

TEST(Chainstate, LocatorAndFindFork) {
    ChainHarness h;
    const auto main = build_branch(test::genesis_parent(), 100, "m");
    h.feed(main);
    Chainstate& c = h.chain();
    const auto loc = c.locator();
    std::vector<std::uint32_t> heights;
    for (const auto& hash : loc) heights.push_back(c.lookup(hash)->height);
    // Ten steps of one, then doubling (Bitcoin's LocatorEntries).
    const std::vector<std::uint32_t> expected = {100, 99, 98, 97, 96, 95, 94, 93, 92,
                                                 91,  90, 89, 87, 83, 75, 59, 27, 0};
    EXPECT_EQ(heights, expected);
    EXPECT_EQ(c.find_fork(loc), c.tip());

    // A peer on a fork from height 40 sends its locator. With a short fork the locator
    // still lists block 40 itself; with a long one only sparser blocks below it.
    const auto side = build_branch(parent_of(*main[39], 40), 5, "side");
    h.feed(side);
    const BlockIndex* side_tip = c.lookup(side.back()->hash());
    ASSERT_NE(side_tip, nullptr);
    EXPECT_FALSE(c.in_active_chain(side_tip));
    EXPECT_EQ(c.find_fork(c.locator(side_tip)), c.at_height(40));
    const auto longer = build_branch(parent_of(*side.back(), 45), 25, "longer");
    h.feed(longer);
    const BlockIndex* longer_tip = c.lookup(longer.back()->hash());
    EXPECT_EQ(longer_tip->height, 70u);
    // 70..60, 59, 57, 53, 45, 29, 0: the highest of ours is 29.
    EXPECT_EQ(c.find_fork(c.locator(longer_tip)), c.at_height(29));
    // Issue 9: the first (newest) hash on our chain wins, not the last, or every answer
    // would start from genesis.
    EXPECT_EQ(c.find_fork(
                  {side.back()->hash(), main[9]->hash(), main[4]->hash(), regtest().genesis_hash}),
              c.at_height(10));
    // Nothing known: genesis.
    core::Uint256 unknown;
    unknown.data()[0] = 9;
    EXPECT_EQ(c.find_fork({unknown}), c.genesis());
    EXPECT_EQ(c.find_fork({}), c.genesis());
    // A locator from ahead of our tip on our own chain: our tip.
    const auto ahead = build_branch(parent_of(*main.back(), 100), 3, "ahead");
    std::vector<core::BlockHeader> headers;
    for (const auto& b : ahead) headers.push_back(b->header);
    const BlockIndex* last = nullptr;
    ASSERT_TRUE(c.process_headers(headers, &last).is_ok());
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->hash, ahead.back()->hash());
    EXPECT_EQ(c.find_fork({ahead.back()->hash()}), c.tip());
    EXPECT_EQ(c.locator(c.genesis()), std::vector<core::Uint256>{regtest().genesis_hash});
}

// --- Headers first -------------------------------------------------------------------------

TEST(Chainstate, HeadersFirstThenBlocksOutOfOrder) {
    ChainHarness h;
    const auto blocks = build_branch(test::genesis_parent(), 100, "x");
    h.recorder().label_all(blocks, "X");
    h.recorder().label(regtest().genesis_hash, "G");
    std::vector<core::BlockHeader> headers;
    for (const auto& b : blocks) headers.push_back(b->header);
    const BlockIndex* last = nullptr;
    ASSERT_TRUE(h.chain().process_headers(headers, &last).is_ok());
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->height, 100u);
    EXPECT_EQ(h.chain().best_header(), last);
    EXPECT_EQ(h.chain().tip(), h.chain().genesis());
    EXPECT_EQ(h.chain().stats().headers, 101u);
    // Sending them again is harmless.
    ASSERT_TRUE(h.chain().process_headers(headers).is_ok());

    // Blocks arrive in a shuffled order (children often before parents), except block 1,
    // which comes last: nothing connects until it arrives, then everything does, in order.
    std::vector<BlockPtr> order(blocks.begin() + 1, blocks.end());
    std::shuffle(order.begin(), order.end(), testutil::rng());
    for (const auto& b : order) {
        bool is_new = false;
        ASSERT_TRUE(h.chain().process_block(b, &is_new).is_ok());
        EXPECT_TRUE(is_new);
        EXPECT_EQ(h.chain().tip(), h.chain().genesis());
    }
    EXPECT_TRUE(h.recorder().take().empty());
    ASSERT_TRUE(h.chain().process_block(blocks[0]).is_ok());
    EXPECT_EQ(h.chain().tip()->hash, blocks.back()->hash());
    const auto events = h.recorder().take();
    std::vector<std::string> expected = connects("X", 1, 100);
    // The observer hears of the tip each time a batch of connections is delivered.
    std::vector<std::string> got_connects;
    std::vector<std::string> tips;
    for (const auto& e : events) (e[0] == '+' ? got_connects : tips).push_back(e);
    EXPECT_EQ(got_connects, expected);
    ASSERT_FALSE(tips.empty());
    EXPECT_EQ(tips.back().substr(0, 9), "tip X100 ");
    for (const auto& b : blocks) EXPECT_TRUE(h.chain().coin(test::coinbase_outpoint(*b)));

    // A header on an unknown parent, inside a batch: the batch stops there.
    auto orphan = build_block(parent_of(*blocks.back(), 100));
    orphan.header.prev_hash.data()[3] ^= 1;
    testutil::mine(orphan, regtest());
    const auto next = build_block(parent_of(*blocks.back(), 100));
    const BlockIndex* stopped = nullptr;
    const auto r = h.chain().process_headers({next.header, orphan.header}, &stopped);
    EXPECT_EQ(r.code, ValidationCode::kMissingPrev);
    EXPECT_EQ(stopped, h.chain().lookup(next.hash()));
}

// Readers on other threads while the chain executor connects blocks and reorganizes: every
// query stays answerable and consistent with itself (run under tsan to check the locking).
TEST(Chainstate, QueriesFromOtherThreadsWhileBlocksConnect) {
    ChainHarness h;
    const auto main = build_branch(test::genesis_parent(), 200, "q");
    const auto fork = build_branch(parent_of(*main[149], 150), 60, "r");
    Chainstate& c = h.chain();
    std::atomic<bool> done{false};
    std::atomic<int> reads{0};
    auto reader = [&] {
        while (!done.load()) {
            const BlockIndex* t = c.tip();
            EXPECT_NE(t, nullptr);
            EXPECT_NE(c.at_height(0), nullptr);
            const auto stats = c.stats();
            EXPECT_GE(stats.headers, 1u);
            const auto loc = c.locator(t);
            EXPECT_EQ(loc.back(), regtest().genesis_hash);
            EXPECT_NE(c.find_fork(loc), nullptr);
            EXPECT_NE(c.status(t) & kHaveData, 0u);
            (void)c.in_active_chain(t);
            (void)c.best_header();
            (void)c.next_block_context();
            if (t->height > 0) {
                auto block = c.read_block(t);
                EXPECT_TRUE(block);
                if (block) (void)c.coin(test::coinbase_outpoint(**block));
            }
            ++reads;
        }
    };
    std::thread r1(reader);
    std::thread r2(reader);
    for (int i = 0; i < 10000 && reads.load() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    h.feed(main);
    h.feed(fork);
    done = true;
    r1.join();
    r2.join();
    EXPECT_EQ(c.tip()->hash, fork.back()->hash());
    EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace peerchain::chain
