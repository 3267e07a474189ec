#include "mining/block_assembler.hpp"

#include <gtest/gtest.h>

#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"

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

TEST_F(BlockAssemblerTest, RefusesAFloorTooFarAheadOfTheClock) {
    auto tmpl =
        assembler_.create(context(now_ + params_.max_future_drift + 1), CoinbaseSpec{key_, {}});
    ASSERT_FALSE(tmpl);
    EXPECT_EQ(tmpl.error().code, util::Errc::kUnavailable);
    clock_.advance(1);
    EXPECT_TRUE(
        assembler_.create(context(now_ + params_.max_future_drift + 1), CoinbaseSpec{key_, {}}));
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
    auto direct = assembler_.create(context(now_), CoinbaseSpec{key_, util::Bytes{1, 2, 3}}, 1);
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->block, bumped.block);
}

}  // namespace
}  // namespace peerchain::mining
