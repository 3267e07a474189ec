// The Chainstate over a real LevelDB: growing the chain, reorgs in both arrival orders,
// every contextual and spend rule fed a block that breaks it, failed branches, reopening,
// locators and headers-first sync. The crash test is in chainstate_crash_test.cpp.
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
using test::parent_of;
using test::regtest;

std::string reason(const core::ValidationResult& r) { return r.is_ok() ? "ok" : r.reason; }

std::vector<std::string> connects(const std::string& prefix, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) out.push_back("+" + prefix + std::to_string(i));
    return out;
}

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
    EXPECT_EQ(next.min_time, c.tip()->median_time_past() + 1);
}

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

TEST_F(RuleTest, TimeNotAboveMedianTimePast) {
    // A block whose time equals the median of the last 11: not above it.
    const std::int64_t mtp = h_.chain().tip()->median_time_past();
    test::BlockOptions o;
    o.time_delta = 0;
    test::Parent p = tip_;
    p.time = static_cast<std::uint32_t>(mtp);
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
