#include "mining/block_assembler.hpp"

#include <gtest/gtest.h>

#include "chain/chain_test_util.hpp"
#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "mempool/mempool.hpp"
#include "tests/util/block_builder.hpp"

namespace peerchain::mining {
namespace {

using NextBlockContext = chain::Chainstate::NextBlockContext;

class BlockAssemblerTest : public ::testing::Test {
  protected:
    BlockAssemblerTest() {
        parent_.hash = params_.genesis_hash;
        parent_.header = params_.genesis.header;
        key_[0] = 0x07;
    }

    NextBlockContext context(std::int64_t min_time) const {
        return NextBlockContext{&parent_, 1, params_.pow_limit_bits, min_time};
    }

    const core::Params& params_ = core::params(core::Network::kRegtest);
    const std::int64_t now_ = params_.genesis.header.time + 1000;
    util::ManualClock clock_{now_};
    BlockAssembler assembler_{params_, clock_};
    chain::BlockIndex parent_;
    core::XOnlyKey key_{};
};

TEST_F(BlockAssemblerTest, BuildsACompleteBlockOnTheParent) {
    const CoinbaseSpec spec{key_, util::Bytes{'h', 'i'}};
    auto tmpl = assembler_.create(context(now_ - 50), spec);
    ASSERT_TRUE(tmpl) << tmpl.error().to_string();
    const core::Block& block = tmpl->block;
    EXPECT_EQ(block.header.prev_hash, params_.genesis_hash);
    EXPECT_EQ(block.header.bits, params_.pow_limit_bits);
    EXPECT_EQ(block.header.time, now_);
    EXPECT_EQ(block.header.merkle_root, core::block_merkle_root(block));
    ASSERT_EQ(block.txs.size(), 1u);
    const core::Transaction& coinbase = block.txs[0];
    EXPECT_TRUE(coinbase.is_coinbase());
    EXPECT_EQ(coinbase.data, spec.data);
    ASSERT_EQ(coinbase.outputs.size(), 1u);
    EXPECT_EQ(coinbase.outputs[0].recipient, key_);
    EXPECT_EQ(coinbase.outputs[0].amount, core::block_subsidy(1, params_));
    EXPECT_EQ(tmpl->reward, core::block_subsidy(1, params_));
    EXPECT_EQ(tmpl->fees, 0);
    EXPECT_EQ(tmpl->height, 1u);
    EXPECT_TRUE(core::check_block_context(block, 1));
    EXPECT_EQ(core::ArithUint256::from_le(core::Uint256(tmpl->target_le)), params_.pow_limit);
}

TEST_F(BlockAssemblerTest, TimeIsNeverBelowTheChainsFloor) {
    auto tmpl = assembler_.create(context(now_ + 30), CoinbaseSpec{key_, {}});
    ASSERT_TRUE(tmpl);
    EXPECT_EQ(tmpl->block.header.time, now_ + 30);
    EXPECT_EQ(assembler_.block_time(now_ + 30), now_ + 30);
    EXPECT_EQ(assembler_.block_time(now_ - 30), now_);
}

// Issue 9: a block stamped 119 s ahead was refused by a peer whose clock was a second
// slow. A template is never further ahead than half the drift a peer allows.
TEST_F(BlockAssemblerTest, RefusesAFloorTooFarAheadOfTheClock) {
    const std::int64_t margin = BlockAssembler::max_time_ahead(params_);
    EXPECT_EQ(margin, params_.max_future_drift / 2);
    auto at_margin = assembler_.create(context(now_ + margin), CoinbaseSpec{key_, {}});
    ASSERT_TRUE(at_margin);
    EXPECT_EQ(at_margin->block.header.time, now_ + margin);

    auto tmpl = assembler_.create(context(now_ + margin + 1), CoinbaseSpec{key_, {}});
    ASSERT_FALSE(tmpl);
    EXPECT_EQ(tmpl.error().code, util::Errc::kUnavailable);
    clock_.advance(1);
    EXPECT_TRUE(assembler_.create(context(now_ + margin + 1), CoinbaseSpec{key_, {}}));
}

TEST_F(BlockAssemblerTest, DataIsBoundedByTheParams) {
    CoinbaseSpec spec{key_, util::Bytes(params_.max_data_size, 0xab)};
    auto tmpl = assembler_.create(context(now_), spec);
    ASSERT_TRUE(tmpl) << tmpl.error().to_string();
    core::Block block = tmpl->block;
    EXPECT_EQ(block.txs[0].data.size(), params_.max_data_size);
    EXPECT_TRUE(core::check_transaction(block.txs[0], params_));

    spec.data.push_back(0);
    auto too_long = assembler_.create(context(now_), spec);
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().code, util::Errc::kInvalidArgument);
    EXPECT_FALSE(check_coinbase_spec(spec, params_));
}

TEST_F(BlockAssemblerTest, RefusesBitsThatDoNotDecode) {
    NextBlockContext ctx = context(now_);
    ctx.bits = 0;
    auto tmpl = assembler_.create(ctx, CoinbaseSpec{key_, {}});
    ASSERT_FALSE(tmpl);
    EXPECT_EQ(tmpl.error().code, util::Errc::kInvalidArgument);
}

TEST_F(BlockAssemblerTest, ExtraNonceChangesTheCoinbaseAndTheMerkleRoot) {
    auto tmpl = assembler_.create(context(now_), CoinbaseSpec{key_, util::Bytes{1, 2, 3}});
    ASSERT_TRUE(tmpl);
    const core::Uint256 root = tmpl->block.header.merkle_root;
    const core::Uint256 txid = tmpl->block.txs[0].txid();

    BlockTemplate bumped = *tmpl;
    BlockAssembler::set_extra_nonce(bumped, 1);
    EXPECT_EQ(bumped.extra_nonce, 1u);
    EXPECT_NE(bumped.block.header.merkle_root, root);
    // The extra nonce sits in the coinbase's signature field: the txid leaves it out, the
    // merkle leaf commits to it.
    EXPECT_EQ(bumped.block.txs[0].txid(), txid);
    EXPECT_NE(bumped.block.txs[0].leaf_hash(), tmpl->block.txs[0].leaf_hash());
    EXPECT_EQ(bumped.block.header.merkle_root, core::block_merkle_root(bumped.block));
    EXPECT_EQ(bumped.block.txs[0].data, tmpl->block.txs[0].data);
    EXPECT_EQ(bumped.block.txs[0].outputs, tmpl->block.txs[0].outputs);
    EXPECT_EQ(bumped.block.txs[0].serialized_size(), tmpl->block.txs[0].serialized_size());
    EXPECT_TRUE(core::check_block_context(bumped.block, 1));

    // The same extra nonce given to create() builds the same block.
    auto direct =
        assembler_.create(context(now_), CoinbaseSpec{key_, util::Bytes{1, 2, 3}}, nullptr, 1);
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->block, bumped.block);
}

// Templates over a real chain with mature coins and a pool of signed spends.
class PoolTemplateTest : public ::testing::Test {
  protected:
    using Input = std::pair<core::OutPoint, core::TxOut>;

    void SetUp() override {
        key_ = std::make_unique<crypto::SecretKey>(chain::test::test_key(7));
        pub_ = key_->public_key();
        chain::test::Parent at = chain::test::genesis_parent();
        for (int i = 0; i < 110; ++i) {
            chain::test::BlockOptions o;
            o.miner = pub_;
            blocks_.push_back(chain::test::share(chain::test::build_block(at, o)));
            at = chain::test::parent_of(*blocks_.back(), at.height + 1);
        }
        h_.feed(blocks_);
        pool_ = std::make_unique<mempool::Mempool>(h_.chain(), h_.clock());
    }

    Input coinbase_of(std::uint32_t height) const {
        const core::Block& b = *blocks_.at(height - 1);
        return {chain::test::coinbase_outpoint(b), b.txs[0].outputs[0]};
    }
    static Input output_of(const core::Transaction& tx) {
        return {core::OutPoint{tx.txid(), 0}, tx.outputs.at(0)};
    }
    core::Transaction pay_fee(const Input& in, core::Amount fee) const {
        return chain::test::signed_spend({in}, {core::TxOut{in.second.amount - fee, pub_}}, *key_);
    }
    void add(const core::Transaction& tx) {
        const auto r = pool_->accept(std::make_shared<const core::Transaction>(tx));
        ASSERT_TRUE(r.is_ok()) << r.to_string();
    }
    static std::vector<core::Uint256> txids_after_coinbase(const core::Block& block) {
        std::vector<core::Uint256> out;
        for (std::size_t i = 1; i < block.txs.size(); ++i) out.push_back(block.txs[i].txid());
        return out;
    }

    const core::Params& params_ = core::params(core::Network::kRegtest);
    chain::test::ChainHarness h_;
    std::unique_ptr<crypto::SecretKey> key_;
    core::XOnlyKey pub_{};
    std::vector<core::BlockPtr> blocks_;
    std::unique_ptr<mempool::Mempool> pool_;
};

TEST_F(PoolTemplateTest, CarriesPoolTransactionsByFeeRateParentsFirstAndTheChainTakesIt) {
    const auto low = pay_fee(coinbase_of(1), 300);
    const auto high = pay_fee(coinbase_of(2), 5000);
    const auto parent = pay_fee(coinbase_of(3), 200);
    const auto child = pay_fee(output_of(parent), 20000);
    for (const auto* tx : {&low, &high, &parent, &child}) add(*tx);

    const BlockAssembler assembler(params_, h_.clock());
    const auto context = h_.chain().next_block_context();
    auto tmpl =
        assembler.create(context, CoinbaseSpec{pub_, util::Bytes{'f', 'e', 'e'}}, pool_.get());
    ASSERT_TRUE(tmpl) << tmpl.error().to_string();
    EXPECT_EQ(txids_after_coinbase(tmpl->block),
              (std::vector<core::Uint256>{parent.txid(), child.txid(), high.txid(), low.txid()}));
    const core::Amount fees = 300 + 5000 + 200 + 20000;
    EXPECT_EQ(tmpl->fees, fees);
    EXPECT_EQ(tmpl->reward, core::block_subsidy(context.height, params_) + fees);
    EXPECT_EQ(tmpl->block.txs[0].outputs.at(0).amount, tmpl->reward);
    EXPECT_EQ(tmpl->pool_generation, pool_->generation());
    EXPECT_EQ(tmpl->block.header.merkle_root, core::block_merkle_root(tmpl->block));
    EXPECT_TRUE(core::check_block_context(tmpl->block, context.height));

    // Mined, the chain accepts it with the fees in the coinbase, and the pool empties.
    core::Block block = tmpl->block;
    testutil::mine(block, params_);
    auto ptr = std::make_shared<const core::Block>(block);
    const auto verdict = h_.chain().process_block(ptr);
    ASSERT_TRUE(verdict.is_ok()) << verdict.to_string();
    EXPECT_EQ(h_.chain().tip()->hash, block.hash());
    const auto reward = h_.chain().coin(chain::test::coinbase_outpoint(block));
    ASSERT_TRUE(reward);
    EXPECT_EQ(reward->out.amount, tmpl->reward);
    EXPECT_TRUE(h_.chain().coin({child.txid(), 0}));
    pool_->remove_for_block(block);
    EXPECT_EQ(pool_->size(), 0u);

    // A template without a pool is the coinbase alone.
    auto bare = assembler.create(h_.chain().next_block_context(), CoinbaseSpec{pub_, {}});
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->block.txs.size(), 1u);
    EXPECT_EQ(bare->fees, 0);
}

TEST_F(PoolTemplateTest, StaysWithinTheBlockSizeLimit) {
    std::vector<core::Transaction> txs;
    for (std::uint32_t h = 1; h <= 10; ++h) {
        txs.push_back(pay_fee(coinbase_of(h), 1000 * h));
        add(txs.back());
    }
    const std::size_t one = txs[0].serialized_size();
    const CoinbaseSpec spec{pub_, util::Bytes(100, 'x')};
    const std::size_t coinbase = core::make_coinbase(111, 0, pub_, spec.data).serialized_size();
    // Room for three transactions and a bit: the three that pay most.
    core::Params small = params_;
    small.max_block_size = core::kHeaderSize + 9 + coinbase + 3 * one + one / 2;
    const BlockAssembler assembler(small, h_.clock());
    auto tmpl = assembler.create(h_.chain().next_block_context(), spec, pool_.get());
    ASSERT_TRUE(tmpl) << tmpl.error().to_string();
    EXPECT_EQ(txids_after_coinbase(tmpl->block),
              (std::vector<core::Uint256>{txs[9].txid(), txs[8].txid(), txs[7].txid()}));
    EXPECT_LE(tmpl->block.serialized_size(), small.max_block_size);
    EXPECT_EQ(tmpl->fees, 10000 + 9000 + 8000);

    // With no room at all past the coinbase, still a valid (coinbase-only) template.
    small.max_block_size = core::kHeaderSize + 9 + coinbase;
    const BlockAssembler tight(small, h_.clock());
    auto alone = tight.create(h_.chain().next_block_context(), spec, pool_.get());
    ASSERT_TRUE(alone);
    EXPECT_EQ(alone->block.txs.size(), 1u);
}

}  // namespace
}  // namespace peerchain::mining
