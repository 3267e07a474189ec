// The Chainstate's fork choice: the most-work chain wins in either arrival order, equal
// work keeps the first tip seen, and a branch that breaks a rule half way is left for the
// best valid chain.
#include <gtest/gtest.h>

#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using test::build_block;
using test::build_branch;
using test::ChainHarness;
using test::connects;
using test::parent_of;
using test::reason;
using test::regtest;

// A common stem of 3 blocks, then branch A of 5 and branch B of 8. Whichever arrives
// first, B ends as the tip, with A's coinbases gone from the coins set and B's in it.
class ReorgTest : public ::testing::TestWithParam<bool> {};

TEST_P(ReorgTest, LongerForkWinsInEitherArrivalOrder) {
    const bool a_first = GetParam();
    ChainHarness h;
    const auto stem = build_branch(test::genesis_parent(), 3, "s");
    const auto fork = parent_of(*stem.back(), 3);
    const auto a = build_branch(fork, 5, "a");
    const auto b = build_branch(fork, 8, "b");
    test::Recorder& rec = h.recorder();
    rec.label_all(stem, "S");
    rec.label_all(a, "A");
    rec.label_all(b, "B");
    h.feed(stem);
    rec.take();

    if (a_first) {
        h.feed(a);
        EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
        rec.take();
        // B1..B5 have at most A5's work: stored, not connected.
        h.feed({b.begin(), b.begin() + 5});
        EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
        EXPECT_TRUE(rec.take().empty());
        h.feed({b.begin() + 5, b.end()});
        std::vector<std::string> expected = {"-A5", "-A4", "-A3", "-A2", "-A1"};
        for (const auto& e : connects("B", 1, 6)) expected.push_back(e);
        expected.push_back("tip B6 from A5 fork S3");
        expected.push_back("+B7");
        expected.push_back("tip B7 from B6 fork B6");
        expected.push_back("+B8");
        expected.push_back("tip B8 from B7 fork B7");
        EXPECT_EQ(rec.take(), expected);
    } else {
        h.feed(b);
        rec.take();
        h.feed(a);
        EXPECT_TRUE(rec.take().empty());
    }

    Chainstate& c = h.chain();
    EXPECT_EQ(c.tip()->hash, b.back()->hash());
    EXPECT_EQ(c.tip()->height, 11u);
    for (std::size_t i = 0; i < b.size(); ++i) {
        EXPECT_EQ(c.at_height(static_cast<std::uint32_t>(4 + i))->hash, b[i]->hash());
        EXPECT_TRUE(c.coin(test::coinbase_outpoint(*b[i]))) << "B" << i + 1;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const BlockIndex* index = c.lookup(a[i]->hash());
        ASSERT_NE(index, nullptr);
        EXPECT_FALSE(c.in_active_chain(index));
        EXPECT_NE(c.status(index) & kHaveData, 0u);
        EXPECT_FALSE(index->failed());
        EXPECT_FALSE(c.coin(test::coinbase_outpoint(*a[i]))) << "A" << i + 1;
    }
    for (const auto& s : stem) EXPECT_TRUE(c.coin(test::coinbase_outpoint(*s)));

    // The coins set survives a reopen (the destructor flushes).
    h.reopen();
    EXPECT_EQ(h.chain().tip()->hash, b.back()->hash());
    for (const auto& blk : b) EXPECT_TRUE(h.chain().coin(test::coinbase_outpoint(*blk)));
    for (const auto& blk : a) EXPECT_FALSE(h.chain().coin(test::coinbase_outpoint(*blk)));
}

INSTANTIATE_TEST_SUITE_P(ArrivalOrder, ReorgTest, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "AFirst" : "BFirst"; });

TEST(Chainstate, EqualWorkKeepsTheFirstSeenTip) {
    const auto a = build_branch(test::genesis_parent(), 3, "a");
    const auto b = build_branch(test::genesis_parent(), 3, "b");
    // Both arrival orders: a restart reloads the two branches' headers in one order (by
    // hash), so one of them sees the branches come back the other way round.
    for (const bool a_first : {true, false}) {
        SCOPED_TRACE(a_first ? "a first" : "b first");
        ChainHarness h;
        h.feed(a_first ? a : b);
        h.feed(a_first ? b : a);
        const core::Uint256 first = (a_first ? a : b).back()->hash();
        EXPECT_EQ(h.chain().tip()->hash, first);
        // A branch that only ties is not ahead of the tip, before a restart or after it.
        EXPECT_EQ(h.chain().best_header(), h.chain().tip());
        h.reopen();
        EXPECT_EQ(h.chain().tip()->hash, first);
        EXPECT_EQ(h.chain().best_header(), h.chain().tip());
    }
}

// --- Failed branches -----------------------------------------------------------------------

// The node is on A (5 blocks); branch B (8 blocks) has a bad block at B3. When B overtakes
// A the node reorganizes, finds B3 bad, marks B3..B8 failed and returns to A.
TEST(Chainstate, InvalidBlockInsideALongerForkFallsBackToTheBestValidChain) {
    ChainHarness h;
    const auto a = build_branch(test::genesis_parent(), 5, "a");
    std::vector<BlockPtr> b = build_branch(test::genesis_parent(), 2, "b");
    {
        test::BlockOptions o;
        o.coinbase_extra = 1;
        o.data = "b3";
        b.push_back(test::share(build_block(parent_of(*b.back(), 2), o)));
    }
    for (const auto& blk : build_branch(parent_of(*b.back(), 3), 5, "b")) b.push_back(blk);
    test::Recorder& rec = h.recorder();
    rec.label(regtest().genesis_hash, "G");
    rec.label_all(a, "A");
    rec.label_all(b, "B");
    h.feed(a);
    rec.take();
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_TRUE(h.chain().process_block(b[i]).is_ok()) << i;
    }
    // B6 is valid itself, so it is accepted; B3 is what failed.
    EXPECT_TRUE(h.chain().process_block(b[5]).is_ok());
    EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
    std::vector<std::string> expected = {
        "-A5", "-A4", "-A3", "-A2", "-A1", "+B1", "+B2", "reject B3 bad-cb-amount", "-B2", "-B1"};
    for (const auto& e : connects("A", 1, 5)) expected.push_back(e);
    EXPECT_EQ(rec.take(), expected);  // the tip is where it was: no tip change

    Chainstate& c = h.chain();
    EXPECT_NE(c.status(c.lookup(b[2]->hash())) & kFailedValid, 0u);
    for (std::size_t i = 3; i < 6; ++i) {
        EXPECT_NE(c.status(c.lookup(b[i]->hash())) & kFailedChild, 0u) << i;
    }
    EXPECT_FALSE(c.lookup(b[1]->hash())->failed());
    EXPECT_EQ(c.best_header()->hash, a.back()->hash());
    for (const auto& blk : a) EXPECT_TRUE(c.coin(test::coinbase_outpoint(*blk)));
    for (const auto& blk : b) EXPECT_FALSE(c.coin(test::coinbase_outpoint(*blk)));
    // Descendants of the failed block are refused.
    EXPECT_EQ(reason(c.process_block(b[6])), "bad-prevblk");

    // The failure is remembered across a reopen.
    h.reopen();
    EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
    EXPECT_NE(h.chain().status(h.chain().lookup(b[2]->hash())) & kFailedValid, 0u);
    EXPECT_NE(h.chain().status(h.chain().lookup(b[5]->hash())) & kFailedChild, 0u);

    // A valid longer branch from B2 still wins.
    const auto c_branch = build_branch(parent_of(*b[1], 2), 5, "c");
    h.feed(c_branch);
    EXPECT_EQ(h.chain().tip()->hash, c_branch.back()->hash());
}

TEST(Chainstate, InvalidTipBlockReturnsItsReason) {
    ChainHarness h;
    const auto a = build_branch(test::genesis_parent(), 3, "a");
    h.feed(a);
    test::BlockOptions o;
    o.coinbase_extra = 1;
    const auto bad = test::share(build_block(parent_of(*a.back(), 3), o));
    EXPECT_EQ(reason(h.chain().process_block(bad)), "bad-cb-amount");
    EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
}

}  // namespace
}  // namespace peerchain::chain
