// Every consensus rule of check.hpp, each fed a block or transaction crafted to break
// exactly that rule; the rest of the block stays valid.
#include "core/check.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/pow.hpp"
#include "tests/util/block_builder.hpp"

namespace peerchain::core {
namespace {

const Params& rt() { return params(Network::kRegtest); }

Block valid_block() {
    Block b = testutil::make_block(rt(), rt().genesis_hash, 1, rt().genesis.header.time + 10);
    testutil::mine(b, rt());
    return b;
}

Transaction spend(std::uint8_t seed, Amount amount = kCoin) {
    Transaction tx;
    TxIn in;
    in.prevout.txid.data()[0] = seed;
    in.prevout.txid.data()[1] = 1;
    tx.inputs.push_back(in);
    tx.outputs.push_back(TxOut{amount, XOnlyKey{seed}});
    return tx;
}

// Adds transactions, fixes the merkle root and re-mines, so only the rule under test breaks.
Block with_txs(std::vector<Transaction> txs) {
    Block b = valid_block();
    for (auto& tx : txs) b.txs.push_back(std::move(tx));
    testutil::fix_merkle(b);
    testutil::mine(b, rt());
    return b;
}

std::string reason(const ValidationResult& r) { return r.is_ok() ? "ok" : r.reason; }

TEST(CheckBlock, AcceptsAValidBlock) {
    EXPECT_EQ(reason(check_block(valid_block(), rt())), "ok");
    EXPECT_EQ(reason(check_block(with_txs({spend(1), spend(2)}), rt())), "ok");
}

TEST(CheckBlock, BadProofOfWork) {
    Block b = valid_block();
    testutil::unmine(b, rt());
    const auto r = check_block(b, rt());
    EXPECT_EQ(reason(r), "high-hash");
    EXPECT_EQ(r.code, ValidationCode::kInvalid);
}

TEST(CheckBlock, BitsEasierThanTheLimitOrMalformed) {
    const Params& dev = params(Network::kDev);
    Block b = testutil::make_block(dev, dev.genesis_hash, 1, dev.genesis.header.time + 10);
    b.header.bits = 0x207fffff;  // regtest's limit is far easier than dev's
    testutil::mine(b, rt());
    EXPECT_EQ(reason(check_block(b, dev)), "bad-diffbits");
    b.header.bits = 0x04923456;  // negative
    EXPECT_EQ(reason(check_block(b, dev)), "bad-diffbits");
}

TEST(CheckBlock, WrongMerkleRoot) {
    Block b = valid_block();
    b.header.merkle_root.data()[0] ^= 1;
    testutil::mine(b, rt());
    EXPECT_EQ(reason(check_block(b, rt())), "bad-merkle-root");
}

TEST(CheckBlock, Oversized) {
    Block b = valid_block();
    b.txs[0].data.assign(rt().max_block_size, 'x');
    testutil::fix_merkle(b);
    testutil::mine(b, rt());
    EXPECT_EQ(reason(check_block(b, rt())), "bad-blk-length");
}

TEST(CheckBlock, NoCoinbase) {
    Block empty = valid_block();
    empty.txs.clear();
    testutil::mine(empty, rt());
    EXPECT_EQ(reason(check_block(empty, rt())), "bad-cb-missing");
    Block b = valid_block();
    b.txs[0] = spend(1);
    testutil::fix_merkle(b);
    testutil::mine(b, rt());
    EXPECT_EQ(reason(check_block(b, rt())), "bad-cb-missing");
}

TEST(CheckBlock, SecondCoinbase) {
    EXPECT_EQ(reason(check_block(with_txs({make_coinbase(1, 1, XOnlyKey{9}, {})}), rt())),
              "bad-cb-multiple");
}

TEST(CheckBlock, DuplicateTransactions) {
    EXPECT_EQ(reason(check_block(with_txs({spend(1), spend(1)}), rt())), "bad-txns-duplicate");
}

TEST(CheckBlock, AnInvalidTransactionInvalidatesTheBlock) {
    const auto r = check_block(with_txs({spend(1, -1)}), rt());
    EXPECT_EQ(reason(r), "bad-txns-vout-negative");
    EXPECT_NE(r.detail.find("tx "), std::string::npos);
}

// What a node runs on the thread that decoded a block: check_block's verdict, and the
// hashes the chain then reuses instead of computing them again.
TEST(CheckBlock, AloneGivesTheVerdictAndTheHashes) {
    const Block good = with_txs({spend(1), spend(2)});
    const CheckedBlock checked = check_block_alone(std::make_shared<const Block>(good), rt());
    EXPECT_EQ(reason(checked.result), "ok");
    EXPECT_EQ(checked.hash, good.hash());
    ASSERT_EQ(checked.txids.size(), good.txs.size());
    for (std::size_t i = 0; i < good.txs.size(); ++i)
        EXPECT_EQ(checked.txids[i], good.txs[i].txid());
    ASSERT_NE(checked.block, nullptr);
    EXPECT_EQ(*checked.block, good);

    Block bad = good;
    bad.header.merkle_root.data()[0] ^= 1;
    testutil::mine(bad, rt());
    const CheckedBlock refused = check_block_alone(std::make_shared<const Block>(bad), rt());
    EXPECT_EQ(reason(refused.result), "bad-merkle-root");
    EXPECT_EQ(refused.hash, bad.hash());
    EXPECT_EQ(reason(check_block_alone(
                         std::make_shared<const Block>(with_txs({spend(1), spend(1)})), rt())
                         .result),
              "bad-txns-duplicate");
}

TEST(CheckTransaction, EachRule) {
    Transaction no_in = spend(1);
    no_in.inputs.clear();
    EXPECT_EQ(reason(check_transaction(no_in, rt())), "bad-txns-vin-empty");

    Transaction no_out = spend(1);
    no_out.outputs.clear();
    EXPECT_EQ(reason(check_transaction(no_out, rt())), "bad-txns-vout-empty");

    EXPECT_EQ(reason(check_transaction(spend(1, -5), rt())), "bad-txns-vout-negative");
    EXPECT_EQ(reason(check_transaction(spend(1, kMaxMoney + 1), rt())), "bad-txns-vout-toolarge");

    Transaction overflow = spend(1, kMaxMoney);
    overflow.outputs.push_back(overflow.outputs[0]);
    EXPECT_EQ(reason(check_transaction(overflow, rt())), "bad-txns-txouttotal-toolarge");

    Transaction twice = spend(1);
    twice.inputs.push_back(twice.inputs[0]);
    EXPECT_EQ(reason(check_transaction(twice, rt())), "bad-txns-inputs-duplicate");

    Transaction null_prevout = spend(1);
    null_prevout.inputs.push_back(TxIn{});
    EXPECT_EQ(reason(check_transaction(null_prevout, rt())), "bad-txns-prevout-null");

    Transaction big_data = spend(1);
    big_data.data.assign(rt().max_data_size + 1, 'd');
    EXPECT_EQ(reason(check_transaction(big_data, rt())), "bad-txns-data-oversize");

    Transaction big = spend(1);
    for (int i = 0; i < 2600; ++i) big.outputs.push_back(TxOut{1, XOnlyKey{}});
    EXPECT_EQ(reason(check_transaction(big, rt())), "bad-txns-oversize");

    Transaction v2 = spend(1);
    v2.version = 2;
    EXPECT_EQ(reason(check_transaction(v2, rt())), "bad-txns-version");

    Transaction locked = spend(1);
    locked.lock_time = 12345;
    EXPECT_EQ(reason(check_transaction(locked, rt())), "bad-txns-locktime");

    Transaction max_data = spend(1);
    max_data.data.assign(rt().max_data_size, 'd');
    EXPECT_EQ(reason(check_transaction(max_data, rt())), "ok");
}

TEST(CheckContext, RegtestTimeMayEqualMedianTimePast) {
    // Regtest blocks come faster than one a second: a time equal to the median is allowed,
    // so that mining thousands of blocks does not push the chain's time ahead of the clock.
    const Block b = valid_block();
    HeaderContext ctx{1, b.header.time + 1, rt().pow_limit_bits, b.header.time};
    EXPECT_EQ(reason(check_header_context(b.header, ctx, rt())), "time-too-old");
    ctx.median_time_past = b.header.time;
    EXPECT_EQ(reason(check_header_context(b.header, ctx, rt())), "ok");
}

TEST(CheckContext, DevTimeMustExceedMedianTimePast) {
    const Params& dev = params(Network::kDev);
    BlockHeader h = valid_block().header;
    h.bits = dev.pow_limit_bits;
    HeaderContext ctx{1, h.time, dev.pow_limit_bits, h.time};
    EXPECT_EQ(reason(check_header_context(h, ctx, dev)), "time-too-old");
    ctx.median_time_past = h.time - 1;
    EXPECT_EQ(reason(check_header_context(h, ctx, dev)), "ok");
}

TEST(CheckContext, TimeTooFarInTheFutureMayBecomeValid) {
    const Block b = valid_block();
    HeaderContext ctx{1, 0, rt().pow_limit_bits, b.header.time - rt().max_future_drift - 1};
    const auto r = check_header_context(b.header, ctx, rt());
    EXPECT_EQ(reason(r), "time-too-new");
    EXPECT_EQ(r.code, ValidationCode::kTimeFuture);
    ctx.now += 1;
    EXPECT_EQ(reason(check_header_context(b.header, ctx, rt())), "ok");
}

TEST(CheckContext, BitsMustBeTheExpectedOnes) {
    const Block b = valid_block();
    HeaderContext ctx{1, 0, rt().pow_limit_bits - 1, b.header.time};
    EXPECT_EQ(reason(check_header_context(b.header, ctx, rt())), "bad-diffbits");
}

TEST(CheckContext, OnlyHeaderVersionOneIsValid) {
    for (const std::uint32_t version : {0u, 2u, 0xffffffffu}) {
        Block b = valid_block();
        b.header.version = version;
        testutil::mine(b, rt());
        const HeaderContext ctx{1, 0, rt().pow_limit_bits, b.header.time};
        EXPECT_EQ(reason(check_header_context(b.header, ctx, rt())), "bad-version") << version;
    }
}

TEST(CheckContext, ACoinbaseHasVersionOneAndNoLockTimeToo) {
    Block b = valid_block();
    b.txs[0].version = 7;
    EXPECT_EQ(reason(check_transaction(b.txs[0], rt())), "bad-txns-version");
    b.txs[0].version = 1;
    b.txs[0].lock_time = 12345;
    EXPECT_EQ(reason(check_transaction(b.txs[0], rt())), "bad-txns-locktime");
}

TEST(CheckContext, CoinbaseCommitsToHeight) {
    const Block b = valid_block();
    EXPECT_EQ(reason(check_block_context(b, 1)), "ok");
    EXPECT_EQ(reason(check_block_context(b, 2)), "bad-cb-height");
}

TEST(CheckContext, CoinbaseMayNotPayMoreThanSubsidyPlusFees) {
    Block b = valid_block();
    EXPECT_EQ(reason(check_coinbase_value(b, 1, 0, rt())), "ok");
    b.txs[0].outputs[0].amount += 1;
    EXPECT_EQ(reason(check_coinbase_value(b, 1, 0, rt())), "bad-cb-amount");
    EXPECT_EQ(reason(check_coinbase_value(b, 1, 1, rt())), "ok");
}

}  // namespace
}  // namespace peerchain::core
