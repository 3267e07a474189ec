// The Chainstate's consensus rules, each fed a block that breaks it: the contextual rules
// of headers and blocks (with dev's difficulty rule), then the spending rules.
#include <gtest/gtest.h>

#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using core::ValidationCode;
using test::build_block;
using test::build_branch;
using test::ChainHarness;
using test::parent_of;
using test::reason;
using test::regtest;

// --- Contextual rules ----------------------------------------------------------------------

class RuleTest : public ::testing::Test {
  protected:
    void SetUp() override {
        chain_ = build_branch(test::genesis_parent(), 12, "c");
        h_.feed(chain_);
        tip_ = parent_of(*chain_.back(), 12);
        h_.recorder().take();
    }

    // Feeds a block that must be refused with `expected`; the tip must not move.
    core::ValidationResult expect_refused_r(const core::Block& block, const std::string& expected) {
        const core::Uint256 before = h_.chain().tip()->hash;
        const auto r = h_.chain().process_block(test::share(block));
        EXPECT_EQ(reason(r), expected);
        EXPECT_EQ(h_.chain().tip()->hash, before);
        const BlockIndex* index = h_.chain().lookup(block.hash());
        if (index != nullptr) {
            EXPECT_FALSE(h_.chain().in_active_chain(index));
        }
        return r;
    }
    void expect_refused(const core::Block& block, const std::string& expected) {
        (void)expect_refused_r(block, expected);
    }

    ChainHarness h_;
    std::vector<BlockPtr> chain_;
    test::Parent tip_;
};

TEST_F(RuleTest, UnknownParent) {
    test::Parent nowhere = tip_;
    nowhere.hash.data()[0] ^= 1;
    const auto r = expect_refused_r(build_block(nowhere), "prev-blk-not-found");
    EXPECT_EQ(r.code, ValidationCode::kMissingPrev);
    EXPECT_EQ(h_.chain().lookup(build_block(nowhere).hash()), nullptr);
}

TEST_F(RuleTest, CoinbaseCommitsToAnotherHeight) {
    test::BlockOptions o;
    o.coinbase_height_delta = 1;
    const auto block = build_block(tip_, o);
    const auto r = expect_refused_r(block, "bad-cb-height");
    EXPECT_EQ(r.code, ValidationCode::kInvalid);
    const BlockIndex* index = h_.chain().lookup(block.hash());
    ASSERT_NE(index, nullptr);
    EXPECT_NE(h_.chain().status(index) & kFailedValid, 0u);
    EXPECT_EQ(
        h_.recorder().take(),
        std::vector<std::string>{"reject " + h_.recorder().name(block.hash()) + " bad-cb-height"});
    // Known invalid from now on, as a header and as a block.
    EXPECT_EQ(reason(h_.chain().process_header(block.header)), "duplicate-invalid");
    EXPECT_EQ(reason(h_.chain().process_block(test::share(block))), "duplicate-invalid");
    // And nothing may build on it.
    const auto child = build_block(parent_of(block, 13));
    EXPECT_EQ(reason(h_.chain().process_block(test::share(child))), "bad-prevblk");
}

TEST_F(RuleTest, CoinbasePaysOneUnitTooMuch) {
    test::BlockOptions o;
    o.coinbase_extra = 1;
    expect_refused(build_block(tip_, o), "bad-cb-amount");
}

TEST_F(RuleTest, TimeBelowTheMedianFloor) {
    // A block whose time is under the median of the last 11 (plus one second on dev; the
    // median itself is allowed on regtest).
    const std::int64_t floor =
        h_.chain().tip()->median_time_past() + h_.chain().params().min_time_above_median;
    test::BlockOptions o;
    o.time_delta = 0;
    test::Parent p = tip_;
    p.time = static_cast<std::uint32_t>(floor - 1);
    const auto r = expect_refused_r(build_block(p, o), "time-too-old");
    EXPECT_EQ(r.code, ValidationCode::kInvalid);
}

TEST_F(RuleTest, TimeTooFarInTheFuture) {
    const std::int64_t now = h_.clock().now_seconds();
    test::Parent p = tip_;
    p.time = static_cast<std::uint32_t>(now + regtest().max_future_drift);
    test::BlockOptions o;
    o.time_delta = 1;
    const auto block = build_block(p, o);
    const auto r = expect_refused_r(block, "time-too-new");
    EXPECT_EQ(r.code, ValidationCode::kTimeFuture);
    // Not remembered: once the clock gets there, the same block is fine.
    EXPECT_EQ(h_.chain().lookup(block.hash()), nullptr);
    h_.clock().advance(10);
    EXPECT_TRUE(h_.chain().process_block(test::share(block)).is_ok());
    EXPECT_EQ(h_.chain().tip()->hash, block.hash());
}

TEST_F(RuleTest, WrongBits) {
    core::Block b = build_block(tip_);
    b.header.bits = regtest().pow_limit_bits - 1;  // a valid, harder target: not the expected one
    testutil::mine(b, regtest());
    expect_refused(b, "bad-diffbits");
}

TEST_F(RuleTest, ProofOfWorkNotMet) {
    core::Block b = build_block(tip_);
    testutil::unmine(b, regtest());
    expect_refused(b, "high-hash");
    EXPECT_EQ(h_.chain().lookup(b.hash()), nullptr);
}

TEST_F(RuleTest, DuplicateHeader) {
    const auto r = h_.chain().process_header(chain_[4]->header);
    EXPECT_EQ(r.code, ValidationCode::kDuplicate);
    EXPECT_EQ(reason(h_.chain().process_header(h_.chain().genesis()->header)), "duplicate");
}

// A block whose transactions do not match its header's merkle root may be a good block
// mutated on the way: it is refused, but the header stays valid and the real block is
// accepted afterwards.
TEST_F(RuleTest, MutatedBlockDoesNotPoisonItsHeader) {
    const core::Block good = build_block(tip_);
    core::Block mutated = good;
    mutated.txs[0].data.push_back(1);
    expect_refused(mutated, "bad-merkle-root");
    const BlockIndex* index = h_.chain().lookup(good.hash());
    ASSERT_NE(index, nullptr);
    EXPECT_FALSE(index->failed());
    EXPECT_TRUE(h_.chain().process_block(test::share(good)).is_ok());
    EXPECT_EQ(h_.chain().tip()->hash, good.hash());
}

// On dev the difficulty follows ASERT from the parent's bits and the two last block times:
// blocks built from next_block_context() connect, a block with other bits does not.
TEST(Chainstate, DevNetworkFollowsTheDifficultyRule) {
    const core::Params& dev = core::params(core::Network::kDev);
    ChainHarness h(dev);
    Chainstate& c = h.chain();
    for (int i = 0; i < 3; ++i) {
        const auto next = c.next_block_context();
        core::Block b;
        b.header.prev_hash = next.parent->hash;
        // Faster than the target spacing, so that the target tightens a little each block
        // (genesis is at the easiest target dev allows).
        b.header.time = next.parent->header.time + 1;
        b.header.bits = next.bits;
        b.txs.push_back(
            core::make_coinbase(next.height, core::block_subsidy(next.height, dev), {}, {}));
        testutil::fix_merkle(b);
        if (i == 2) {
            core::Block wrong = b;
            wrong.header.bits = next.bits - 1;  // a harder target than the rule's
            testutil::mine(wrong, dev);
            EXPECT_EQ(reason(c.process_block(test::share(wrong))), "bad-diffbits");
        }
        testutil::mine(b, dev);
        ASSERT_TRUE(c.process_block(test::share(b)).is_ok()) << i;
        EXPECT_EQ(c.tip()->hash, b.hash());
    }
    EXPECT_NE(c.tip()->header.bits, dev.genesis.header.bits);
}

// --- Spending rules ------------------------------------------------------------------------

// A chain of 110 blocks whose coinbases pay a key the test holds: the first ten are mature.
class SpendTest : public ::testing::Test {
  protected:
    void SetUp() override {
        key_ = std::make_unique<crypto::SecretKey>(test::test_key(7));
        pub_ = key_->public_key();
        test::Parent at = test::genesis_parent();
        for (int i = 0; i < 110; ++i) {
            test::BlockOptions o;
            o.miner = pub_;
            blocks_.push_back(test::share(build_block(at, o)));
            at = parent_of(*blocks_.back(), at.height + 1);
        }
        h_.feed(blocks_);
        ASSERT_EQ(h_.chain().tip()->height, 110u);
        h_.recorder().take();
    }

    std::pair<core::OutPoint, core::TxOut> coinbase_of(std::uint32_t height) const {
        const core::Block& b = *blocks_.at(height - 1);
        return {test::coinbase_outpoint(b), b.txs[0].outputs[0]};
    }
    test::Parent tip() { return parent_of(h_.chain().tip()); }
    core::ValidationResult submit(std::vector<core::Transaction> txs, core::Amount fees = 0) {
        test::BlockOptions o;
        o.txs = std::move(txs);
        o.coinbase_extra = fees;
        last_ = build_block(tip(), o);
        return h_.chain().process_block(test::share(last_));
    }
    core::Transaction pay(const std::vector<std::pair<core::OutPoint, core::TxOut>>& inputs,
                          core::Amount amount) const {
        return test::signed_spend(inputs, {core::TxOut{amount, pub_}}, *key_);
    }

    ChainHarness h_;
    std::unique_ptr<crypto::SecretKey> key_;
    core::XOnlyKey pub_{};
    std::vector<BlockPtr> blocks_;
    core::Block last_;
};

TEST_F(SpendTest, ValidSpendMovesTheCoinAndPaysTheFee) {
    const auto in = coinbase_of(1);
    const core::Amount fee = 1000;
    const auto tx = pay({in}, in.second.amount - fee);
    ASSERT_TRUE(submit({tx}, fee).is_ok());
    EXPECT_EQ(h_.chain().tip()->hash, last_.hash());
    EXPECT_FALSE(h_.chain().coin(in.first));
    const auto created = h_.chain().coin({tx.txid(), 0});
    ASSERT_TRUE(created);
    EXPECT_EQ(created->out.amount, in.second.amount - fee);
    EXPECT_FALSE(created->coinbase);
    EXPECT_EQ(created->height, 111u);
    // Spending it again is a double spend across blocks.
    EXPECT_EQ(reason(submit({pay({in}, 1)})), "bad-txns-inputs-missingorspent");
}

TEST_F(SpendTest, FeeCannotBeClaimedTwice) {
    const auto in = coinbase_of(1);
    EXPECT_EQ(reason(submit({pay({in}, in.second.amount - 1000)}, 1001)), "bad-cb-amount");
}

TEST_F(SpendTest, MissingCoin) {
    auto in = coinbase_of(1);
    in.first.index = 1;  // the coinbase has one output
    EXPECT_EQ(reason(submit({pay({in}, 1)})), "bad-txns-inputs-missingorspent");
}

TEST_F(SpendTest, ImmatureCoinbase) {
    // At height 111 the coinbase of height 12 has 99 confirmations on top: one too few.
    const auto in = coinbase_of(12);
    EXPECT_EQ(reason(submit({pay({in}, 1)})), "bad-txns-premature-spend-of-coinbase");
    const auto mature = coinbase_of(11);
    EXPECT_TRUE(submit({pay({mature}, 1)}).is_ok());
}

TEST_F(SpendTest, DoubleSpendInsideABlock) {
    const auto in = coinbase_of(1);
    const auto first = pay({in}, 5);
    const auto second = pay({in}, 6);
    EXPECT_EQ(reason(submit({first, second})), "bad-txns-inputs-missingorspent");
    EXPECT_FALSE(h_.chain().coin({first.txid(), 0}));
    EXPECT_TRUE(h_.chain().coin(in.first));
}

TEST_F(SpendTest, OutputsAboveInputs) {
    const auto in = coinbase_of(1);
    EXPECT_EQ(reason(submit({pay({in}, in.second.amount + 1)})), "bad-txns-in-belowout");
}

TEST_F(SpendTest, BadSignature) {
    const auto in = coinbase_of(1);
    auto tx = pay({in}, 5);
    tx.inputs[0].signature[5] ^= 1;
    EXPECT_EQ(reason(submit({tx})), "bad-txns-signature");
}

TEST_F(SpendTest, SignatureByAnotherKey) {
    // A well-formed signature, by a key that does not own the coin.
    const auto in = coinbase_of(1);
    const auto other = test::signed_spend({in}, {core::TxOut{5, pub_}}, test::test_key(8));
    EXPECT_EQ(reason(submit({other})), "bad-txns-signature");
    EXPECT_TRUE(h_.chain().coin(in.first));
}

TEST_F(SpendTest, SameInputTwiceInOneTransaction) {
    const auto in = coinbase_of(1);
    EXPECT_EQ(reason(submit({pay({in, in}, 5)})), "bad-txns-inputs-duplicate");
}

TEST_F(SpendTest, OutputAmountsOutOfRange) {
    const auto in = coinbase_of(1);
    EXPECT_EQ(reason(submit({pay({in}, -1)})), "bad-txns-vout-negative");
    EXPECT_EQ(reason(submit({pay({in}, core::kMaxMoney + 1)})), "bad-txns-vout-toolarge");
    const auto two = test::signed_spend(
        {in}, {core::TxOut{core::kMaxMoney, pub_}, core::TxOut{core::kMaxMoney, pub_}}, *key_);
    EXPECT_EQ(reason(submit({two})), "bad-txns-txouttotal-toolarge");
    // bad-txns-inputvalues-outofrange needs spent coins worth more than all money: every
    // output a valid block creates is bounded by it and the subsidies sum to less, so no
    // chain of valid blocks reaches it. core/tx_verify_test.cpp tests check_tx_inputs
    // with such coins directly.
}

TEST_F(SpendTest, OversizedTransactionInABlock) {
    const auto in = coinbase_of(1);
    const std::size_t n = regtest().max_tx_size / core::kTxOutSize + 1;
    const auto big =
        test::signed_spend({in}, std::vector<core::TxOut>(n, core::TxOut{1, pub_}), *key_);
    ASSERT_GT(big.serialized_size(), regtest().max_tx_size);
    EXPECT_EQ(reason(submit({big})), "bad-txns-oversize");
    EXPECT_TRUE(h_.chain().coin(in.first));
}

TEST_F(SpendTest, OversizedDataPayloadInABlock) {
    const auto in = coinbase_of(1);
    auto signed_with_data = [&](std::size_t data_size) {
        core::Transaction tx;
        tx.inputs.push_back(core::TxIn{in.first, {}});
        tx.outputs.push_back(core::TxOut{in.second.amount, pub_});
        tx.data.assign(data_size, 'd');
        const std::vector<core::TxOut> spent = {in.second};
        const core::SignatureHasher hasher(tx, spent, regtest());
        tx.inputs[0].signature = key_->sign(hasher.for_input(0));
        return tx;
    };
    EXPECT_EQ(reason(submit({signed_with_data(regtest().max_data_size + 1)})),
              "bad-txns-data-oversize");
    EXPECT_TRUE(submit({signed_with_data(regtest().max_data_size)}).is_ok());
}

TEST_F(SpendTest, CoinbaseThatIsNotFirst) {
    // A second coinbase after the first.
    const auto extra = core::make_coinbase(111, 1, pub_, {});
    EXPECT_EQ(reason(submit({extra})), "bad-cb-multiple");
    // A block whose first transaction is an ordinary spend.
    const auto in = coinbase_of(1);
    test::BlockOptions o;
    o.txs = {pay({in}, in.second.amount)};
    core::Block b = build_block(tip(), o);
    b.txs.erase(b.txs.begin());
    testutil::fix_merkle(b);
    testutil::mine(b, regtest());
    EXPECT_EQ(reason(h_.chain().process_block(test::share(b))), "bad-cb-missing");
    EXPECT_EQ(h_.chain().tip()->height, 110u);
}

TEST_F(SpendTest, FeesGoToTheMinerAndNotOneUnitMore) {
    const auto a = coinbase_of(1);
    const auto b = coinbase_of(2);
    const auto tx_a = pay({a}, a.second.amount - 700);
    const auto tx_b = pay({b}, b.second.amount - 300);
    // The coinbase claims subsidy + both fees + 1: refused.
    EXPECT_EQ(reason(submit({tx_a, tx_b}, 1001)), "bad-cb-amount");
    // Exactly subsidy + fees: accepted, and the miner's coin holds it.
    ASSERT_TRUE(submit({tx_a, tx_b}, 1000).is_ok());
    const auto reward = h_.chain().coin(test::coinbase_outpoint(last_));
    ASSERT_TRUE(reward);
    EXPECT_EQ(reward->out.amount, core::block_subsidy(111, regtest()) + 1000);
    EXPECT_TRUE(reward->coinbase);
}

TEST_F(SpendTest, ChainOfSpendsInsideABlockInOrderOnly) {
    const auto in = coinbase_of(1);
    const auto first = pay({in}, in.second.amount - 10);
    const auto second = pay({{core::OutPoint{first.txid(), 0}, first.outputs[0]}}, 100);
    // The child before its parent: it spends an output that does not exist yet.
    EXPECT_EQ(reason(submit({second, first})), "bad-txns-inputs-missingorspent");
    ASSERT_TRUE(submit({first, second}, in.second.amount - 110).is_ok());
    EXPECT_FALSE(h_.chain().coin({first.txid(), 0}));
    EXPECT_TRUE(h_.chain().coin({second.txid(), 0}));
}

TEST_F(SpendTest, ManyInputsCheckedInParallel) {
    std::vector<core::Transaction> txs;
    for (std::uint32_t height = 1; height <= 8; ++height) {
        const auto in = coinbase_of(height);
        txs.push_back(pay({in}, in.second.amount));
    }
    const std::vector<std::pair<core::OutPoint, core::TxOut>> two = {coinbase_of(9),
                                                                     coinbase_of(10)};
    txs.push_back(pay(two, two[0].second.amount + two[1].second.amount));

    // One bad signature among many is found, wherever it is.
    for (std::size_t bad : {std::size_t{0}, std::size_t{5}, txs.size() - 1}) {
        auto broken = txs;
        broken[bad].inputs.back().signature[0] ^= 0x80;
        EXPECT_EQ(reason(submit(broken)), "bad-txns-signature") << bad;
    }
    ASSERT_TRUE(submit(txs).is_ok());
    for (const auto& tx : txs) EXPECT_TRUE(h_.chain().coin({tx.txid(), 0}));
    for (std::uint32_t height = 1; height <= 10; ++height) {
        EXPECT_FALSE(h_.chain().coin(coinbase_of(height).first));
    }
}

TEST_F(SpendTest, ReorgRestoresSpentCoins) {
    const auto in = coinbase_of(1);
    const auto tx = pay({in}, in.second.amount);
    const test::Parent fork = tip();
    ASSERT_TRUE(submit({tx}).is_ok());
    const core::Block spending = last_;
    EXPECT_FALSE(h_.chain().coin(in.first));
    // A longer branch without the spend.
    const auto other = build_branch(fork, 2, "other");
    h_.feed(other);
    EXPECT_EQ(h_.chain().tip()->hash, other.back()->hash());
    const auto restored = h_.chain().coin(in.first);
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->out, in.second);
    EXPECT_TRUE(restored->coinbase);
    EXPECT_EQ(restored->height, 1u);
    EXPECT_FALSE(h_.chain().coin({tx.txid(), 0}));
    EXPECT_FALSE(h_.chain().coin(test::coinbase_outpoint(spending)));
    // And back again, through a flush and a reopen in between.
    ASSERT_TRUE(h_.chain().flush());
    h_.reopen();
    const auto back = build_branch(parent_of(spending, 111), 2, "back");
    h_.feed(back);
    EXPECT_EQ(h_.chain().tip()->hash, back.back()->hash());
    EXPECT_FALSE(h_.chain().coin(in.first));
    EXPECT_TRUE(h_.chain().coin({tx.txid(), 0}));
}

}  // namespace
}  // namespace peerchain::chain
