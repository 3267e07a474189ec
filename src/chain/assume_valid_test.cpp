// --assume-valid (issue 10): which blocks connect without their signatures checked (each of
// the conditions of assume_valid.hpp, alone), and that every other rule still holds for
// them. Headers come first, as in sync, so the best header is ahead of the blocks.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using test::build_block;
using test::ChainHarness;
using test::parent_of;
using test::reason;
using test::regtest;

class AssumeValidTest : public ::testing::Test {
  protected:
    void SetUp() override {
        key_ = std::make_unique<crypto::SecretKey>(test::test_key(7));
        pub_ = key_->public_key();
        base_ = extend(test::genesis_parent(), 100, "base");
        ASSERT_EQ(regtest().assume_valid_burial, 100u);
    }

    // `n` blocks on `at` whose coinbases pay pub_, told apart from other branches by `tag`.
    std::vector<BlockPtr> extend(test::Parent at, int n, const std::string& tag) const {
        std::vector<BlockPtr> out;
        for (int i = 0; i < n; ++i) {
            test::BlockOptions o;
            o.miner = pub_;
            o.data = tag + std::to_string(at.height + 1);
            out.push_back(test::share(build_block(at, o)));
            at = parent_of(*out.back(), at.height + 1);
        }
        return out;
    }
    static test::Parent top(const std::vector<BlockPtr>& chain) {
        return parent_of(*chain.back(), static_cast<std::uint32_t>(chain.size()));
    }
    static std::vector<BlockPtr> join(std::vector<BlockPtr> a, const std::vector<BlockPtr>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    }

    // A spend of the coinbase of base block `height` back to pub_, paying `fee`.
    core::Transaction spend(std::uint32_t height, core::Amount fee = 0) const {
        const core::Block& b = *base_.at(height - 1);
        const core::TxOut out = b.txs[0].outputs[0];
        return test::signed_spend({{test::coinbase_outpoint(b), out}},
                                  {core::TxOut{out.amount - fee, pub_}}, *key_);
    }
    // A block on `parent` holding `tx` with its one signature broken: valid in every other
    // way.
    static BlockPtr with_bad_signature(const test::Parent& parent, core::Transaction tx,
                                       const std::string& tag = "bad") {
        tx.inputs[0].signature[5] ^= 1;
        test::BlockOptions o;
        o.txs = {tx};
        o.data = tag;
        return test::share(build_block(parent, o));
    }

    // A chain state with --assume-valid `assumed` (nullopt: off) that knows the headers of
    // every block of `branches` (in order), as after header sync.
    std::unique_ptr<ChainHarness> open(std::optional<core::Uint256> assumed,
                                       const std::vector<std::vector<BlockPtr>>& branches) const {
        ChainstateOptions options;
        options.assume_valid = assumed;
        auto h = std::make_unique<ChainHarness>(regtest(), options);
        for (const auto& branch : branches) {
            std::vector<core::BlockHeader> headers;
            for (const auto& b : branch) headers.push_back(b->header);
            const auto r = h->chain().process_headers(headers);
            EXPECT_TRUE(r.is_ok() || r.code == core::ValidationCode::kDuplicate) << r.to_string();
        }
        return h;
    }
    // Feeds the blocks in order; the first refusal's reason, or "ok".
    static std::string feed(ChainHarness& h, const std::vector<BlockPtr>& blocks) {
        for (const auto& b : blocks) {
            if (auto r = h.chain().process_block(b); !r) return r.reason;
        }
        return "ok";
    }

    std::unique_ptr<crypto::SecretKey> key_;
    core::XOnlyKey pub_{};
    std::vector<BlockPtr> base_;  // heights 1 to 100: the coinbase of 1 is ripe at 101
};

TEST_F(AssumeValidTest, BadSignatureBelowTheAssumedBlockIsAcceptedOnItsChain) {
    const core::Transaction tx = spend(1, 1000);
    const BlockPtr bad = with_bad_signature(top(base_), tx);
    // 120 blocks on the bad one: the assumed block at 121, the best header at 221.
    const auto rest = extend(parent_of(*bad, 101), 120, "a");
    const auto chain = join(join(base_, {bad}), rest);
    const core::Uint256 assumed = chain.at(120)->hash();

    auto h = open(assumed, {chain});
    EXPECT_EQ(feed(*h, chain), "ok");
    EXPECT_EQ(h->chain().tip()->hash, chain.back()->hash());
    // Its coins moved as a checked block's would.
    EXPECT_FALSE(h->chain().coin(tx.inputs[0].prevout));
    EXPECT_TRUE(h->chain().coin({bad->txs[1].txid(), 0}));

    // Without the option the same chain stops at the bad block.
    auto off = open(std::nullopt, {chain});
    EXPECT_EQ(feed(*off, chain), "bad-txns-signature");
    EXPECT_EQ(off->chain().tip()->height, 100u);
}

TEST_F(AssumeValidTest, AssumedBlockNotAmongTheHeadersChecksEverything) {
    const BlockPtr bad = with_bad_signature(top(base_), spend(1));
    const auto chain = join(join(base_, {bad}), extend(parent_of(*bad, 101), 120, "a"));
    core::Uint256 unknown = chain.at(120)->hash();
    unknown.data()[0] ^= 1;
    auto h = open(unknown, {chain});
    EXPECT_EQ(feed(*h, chain), "bad-txns-signature");
}

TEST_F(AssumeValidTest, SameBlockOffTheAssumedChainIsRefused) {
    // The assumed chain: a good block at 101, the assumed block at 121, headers to 221.
    const BlockPtr good = test::share([&] {
        test::BlockOptions o;
        o.txs = {spend(1)};
        return build_block(top(base_), o);
    }());
    const auto assumed_branch = join({good}, extend(parent_of(*good, 101), 120, "a"));
    // The bad block on the same parent, with more work above it than the assumed chain has:
    // it is an ancestor of the best header, buried, just not of the assumed block.
    const BlockPtr bad = with_bad_signature(top(base_), spend(1));
    const auto bad_branch = join({bad}, extend(parent_of(*bad, 101), 130, "b"));

    auto h = open(assumed_branch.at(20)->hash(), {base_, assumed_branch, bad_branch});
    ASSERT_EQ(feed(*h, base_), "ok");
    EXPECT_EQ(feed(*h, bad_branch), "bad-txns-signature");
    EXPECT_EQ(h->chain().tip()->height, 100u);
}

TEST_F(AssumeValidTest, BestHeaderOnAnotherBranchChecksEverything) {
    // The bad block is below the assumed block, but the best header forks off below it.
    const BlockPtr bad = with_bad_signature(top(base_), spend(1));
    const auto assumed_branch = join({bad}, extend(parent_of(*bad, 101), 120, "a"));
    const auto other = extend(top(base_), 140, "o");

    auto h = open(assumed_branch.at(20)->hash(), {base_, assumed_branch, other});
    ASSERT_EQ(h->chain().best_header()->hash, other.back()->hash());
    EXPECT_EQ(feed(*h, join(base_, assumed_branch)), "bad-txns-signature");
}

TEST_F(AssumeValidTest, BestHeaderWithLessWorkThanTheAssumedBlockChecksEverything) {
    // The assumed block (height 250) sits above a block that breaks a rule found before its
    // parent connects (two coinbases), so its branch fails and the best header becomes
    // another branch's, at 220: buried enough over the bad block at 101, but with less
    // work than the assumed block.
    const BlockPtr bad = with_bad_signature(top(base_), spend(1));
    const BlockPtr broken = test::share([&] {
        test::BlockOptions o;
        o.txs = {core::make_coinbase(102, 1, pub_, {})};
        o.data = "broken";
        return build_block(parent_of(*bad, 101), o);
    }());
    const auto assumed_branch = join({broken}, extend(parent_of(*broken, 102), 158, "a"));
    const auto other = extend(parent_of(*bad, 101), 119, "o");
    const core::Uint256 assumed = assumed_branch.at(148)->hash();

    auto h = open(assumed, {join(join(base_, {bad}), assumed_branch), other});
    ASSERT_EQ(h->chain().lookup(assumed)->height, 250u);
    EXPECT_EQ(reason(h->chain().process_block(broken)), "bad-cb-multiple");
    ASSERT_EQ(h->chain().best_header()->hash, other.back()->hash());
    ASSERT_EQ(h->chain().best_header()->height, 220u);
    ASSERT_EQ(feed(*h, base_), "ok");
    EXPECT_EQ(feed(*h, {bad}), "bad-txns-signature");
}

TEST_F(AssumeValidTest, BlockAboveTheAssumedBlockIsChecked) {
    const auto middle = extend(top(base_), 5, "m");  // 101 to 105; the assumed block is 105
    const BlockPtr bad = with_bad_signature(top(join(base_, middle)), spend(2));  // 106
    const auto rest = extend(parent_of(*bad, 106), 120, "a");
    const auto chain = join(join(join(base_, middle), {bad}), rest);

    auto h = open(middle.back()->hash(), {chain});
    EXPECT_EQ(feed(*h, chain), "bad-txns-signature");
    EXPECT_EQ(h->chain().tip()->hash, middle.back()->hash());
}

TEST_F(AssumeValidTest, BlockMustBeBuriedUnderTheBurialDepth) {
    // The bad block at 101, the assumed block at 150; the best header is 99 blocks above
    // the bad block in the first chain state and 100 in the second.
    const BlockPtr bad = with_bad_signature(top(base_), spend(1));
    const auto rest = extend(parent_of(*bad, 101), 100, "a");  // 102 to 201
    const auto chain = join(join(base_, {bad}), rest);
    const core::Uint256 assumed = chain.at(149)->hash();
    const std::vector<BlockPtr> short_chain(chain.begin(), chain.end() - 1);

    auto shallow = open(assumed, {short_chain});
    EXPECT_EQ(feed(*shallow, short_chain), "bad-txns-signature");
    auto deep = open(assumed, {chain});
    EXPECT_EQ(feed(*deep, chain), "ok");
}

TEST_F(AssumeValidTest, EveryOtherRuleStillHoldsBelowTheAssumedBlock) {
    struct Case {
        std::string expected;
        BlockPtr block;
    };
    const test::Parent at = top(base_);
    core::Transaction missing = spend(1);
    missing.inputs[0].prevout.index = 7;
    test::BlockOptions overpaid;
    overpaid.coinbase_extra = 1;
    overpaid.data = "overpaid";
    const std::vector<Case> cases = {
        {"bad-txns-inputs-missingorspent", with_bad_signature(at, missing, "missing")},
        {"bad-txns-premature-spend-of-coinbase", with_bad_signature(at, spend(2), "immature")},
        {"bad-cb-amount", test::share(build_block(at, overpaid))},
        // The spend pays a fee that the coinbase claims twice over.
        {"bad-cb-amount",
         [&] {
             test::BlockOptions o;
             o.txs = {spend(1, 1000)};
             o.txs[0].inputs[0].signature[5] ^= 1;
             o.coinbase_extra = 2000;
             o.data = "fees";
             return test::share(build_block(at, o));
         }()},
    };
    for (const Case& c : cases) {
        const auto chain = join(join(base_, {c.block}), extend(parent_of(*c.block, 101), 120, "a"));
        auto h = open(chain.at(120)->hash(), {chain});
        EXPECT_EQ(feed(*h, chain), c.expected);
        EXPECT_EQ(h->chain().tip()->height, 100u);
    }
}

}  // namespace
}  // namespace peerchain::chain
