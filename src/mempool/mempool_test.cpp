// The pool over a real Chainstate (LevelDB in a temporary directory, regtest blocks, signed
// spends): acceptance, chains of unconfirmed transactions, every spending rule through the
// pool's path, double spends, fee-rate order and selection, the byte bound with eviction,
// block connection and reorgs, and the saved file.
#include "mempool/mempool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "chain/chain_test_util.hpp"
#include "core/check.hpp"

namespace peerchain::mempool {
namespace {

using chain::test::build_block;
using chain::test::build_branch;
using chain::test::ChainHarness;
using chain::test::parent_of;
using core::Amount;
using core::OutPoint;
using core::Transaction;
using core::TxOut;
using core::ValidationCode;

using Input = std::pair<OutPoint, TxOut>;

std::string reason(const core::ValidationResult& r) { return r.is_ok() ? "ok" : r.reason; }

TxPtr share(Transaction tx) { return std::make_shared<const Transaction>(std::move(tx)); }

class MempoolTest : public ::testing::Test {
  protected:
    void SetUp() override { make_chain(); }

    void make_chain(Options options = {}) {
        key_ = std::make_unique<crypto::SecretKey>(chain::test::test_key(7));
        pub_ = key_->public_key();
        chain::test::Parent at = chain::test::genesis_parent();
        for (int i = 0; i < 110; ++i) {
            chain::test::BlockOptions o;
            o.miner = pub_;
            blocks_.push_back(chain::test::share(build_block(at, o)));
            at = parent_of(*blocks_.back(), at.height + 1);
        }
        h_.feed(blocks_);
        ASSERT_EQ(h_.chain().tip()->height, 110u);
        pool_ = std::make_unique<Mempool>(h_.chain(), h_.clock(), options);
    }
    void reset_pool(Options options) {
        pool_ = std::make_unique<Mempool>(h_.chain(), h_.clock(), options);
    }

    Input coinbase_of(std::uint32_t height) const {
        const core::Block& b = *blocks_.at(height - 1);
        return {chain::test::coinbase_outpoint(b), b.txs[0].outputs[0]};
    }
    static Input output_of(const Transaction& tx, std::uint32_t index = 0) {
        return {OutPoint{tx.txid(), index}, tx.outputs.at(index)};
    }
    Transaction pay(const std::vector<Input>& inputs, std::vector<Amount> amounts) const {
        std::vector<TxOut> outs;
        for (Amount a : amounts) outs.push_back(TxOut{a, pub_});
        return chain::test::signed_spend(inputs, outs, *key_);
    }
    // Spends `in` whole but for `fee`.
    Transaction pay_fee(const Input& in, Amount fee) const {
        return pay({in}, {in.second.amount - fee});
    }
    core::ValidationResult accept(const Transaction& tx) { return pool_->accept(share(tx)); }

    // Mines `txs` into a block on the tip (the coinbase claims `fees`) and tells the pool.
    core::BlockPtr connect(std::vector<Transaction> txs, Amount fees = 0) {
        chain::test::BlockOptions o;
        o.txs = std::move(txs);
        o.coinbase_extra = fees;
        o.miner = pub_;
        auto block = chain::test::share(build_block(parent_of(h_.chain().tip()), o));
        const auto r = h_.chain().process_block(block);
        EXPECT_TRUE(r.is_ok()) << r.to_string();
        pool_->remove_for_block(*block);
        return block;
    }

    std::vector<core::Uint256> txids(const std::vector<TxPtr>& txs) const {
        std::vector<core::Uint256> out;
        for (const auto& tx : txs) out.push_back(tx->txid());
        return out;
    }

    ChainHarness h_;
    std::unique_ptr<crypto::SecretKey> key_;
    core::XOnlyKey pub_{};
    std::vector<core::BlockPtr> blocks_;
    std::unique_ptr<Mempool> pool_;
};

TEST_F(MempoolTest, AcceptsAValidSpend) {
    const auto in = coinbase_of(1);
    const auto tx = pay_fee(in, 1000);
    const auto generation = pool_->generation();
    core::Uint256 txid;
    ASSERT_TRUE(pool_->accept(share(tx), &txid).is_ok());
    EXPECT_EQ(txid, tx.txid());
    EXPECT_NE(pool_->generation(), generation);
    EXPECT_EQ(pool_->size(), 1u);
    EXPECT_EQ(pool_->bytes(), tx.serialized_size());
    EXPECT_TRUE(pool_->contains(txid));
    const auto entry = pool_->get(txid);
    ASSERT_TRUE(entry);
    EXPECT_EQ(*entry->tx, tx);
    EXPECT_EQ(entry->fee, 1000);
    EXPECT_EQ(entry->size, tx.serialized_size());
    EXPECT_EQ(entry->time, h_.clock().now_seconds());
    EXPECT_EQ(entry->ancestors, 0u);
    EXPECT_EQ(entry->descendants, 0u);
    EXPECT_EQ(pool_->spender(in.first), txid);
    EXPECT_EQ(pool_->output({txid, 0}), tx.outputs[0]);
    EXPECT_FALSE(pool_->output({txid, 1}));
    EXPECT_FALSE(pool_->spender({txid, 0}));

    const auto again = accept(tx);
    EXPECT_EQ(again.code, ValidationCode::kDuplicate);
    EXPECT_EQ(again.reason, "txn-already-in-mempool");
    EXPECT_EQ(pool_->size(), 1u);
}

TEST_F(MempoolTest, TellsItsObserverWhatItAccepts) {
    struct Observer final : chain::ChainObserver {
        void on_transaction_added(const std::shared_ptr<const core::Transaction>& tx,
                                  core::Amount fee) override {
            added.emplace_back(tx->txid(), fee);
        }
        std::vector<std::pair<core::Uint256, core::Amount>> added;
    } observer;
    pool_->set_observer(&observer);
    const auto tx = pay_fee(coinbase_of(1), 1000);
    ASSERT_TRUE(accept(tx).is_ok());
    EXPECT_FALSE(accept(tx).is_ok());  // a refusal is not told
    pool_->set_observer(nullptr);
    EXPECT_EQ(observer.added,
              (std::vector<std::pair<core::Uint256, core::Amount>>{{tx.txid(), 1000}}));
}

TEST_F(MempoolTest, ChainOfUnconfirmedSpends) {
    const auto parent = pay_fee(coinbase_of(1), 1000);
    const auto child = pay_fee(output_of(parent), 2000);
    const auto grandchild = pay({output_of(child)}, {1000, output_of(child).second.amount - 4000});
    ASSERT_TRUE(accept(parent).is_ok());
    ASSERT_TRUE(accept(child).is_ok());
    ASSERT_TRUE(accept(grandchild).is_ok()) << accept(grandchild).to_string();
    const auto e = pool_->get(grandchild.txid());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->fee, 3000);
    EXPECT_EQ(e->ancestors, 2u);
    EXPECT_EQ(e->ancestor_fee, 6000);
    EXPECT_EQ(e->ancestor_size,
              parent.serialized_size() + child.serialized_size() + grandchild.serialized_size());
    EXPECT_EQ(pool_->get(parent.txid())->descendants, 2u);
    EXPECT_EQ(pool_->spender(output_of(parent).first), child.txid());
    // And a block can carry the whole chain, fees to the miner.
    const auto sel = pool_->select(1'000'000);
    EXPECT_EQ(txids(sel.txs),
              (std::vector<core::Uint256>{parent.txid(), child.txid(), grandchild.txid()}));
    EXPECT_EQ(sel.fees, 6000);
    std::vector<Transaction> block_txs;
    for (const auto& tx : sel.txs) block_txs.push_back(*tx);
    connect(block_txs, sel.fees);
    EXPECT_EQ(pool_->size(), 0u);
    EXPECT_EQ(pool_->bytes(), 0u);
    EXPECT_TRUE(h_.chain().coin({grandchild.txid(), 1}));
}

TEST_F(MempoolTest, RefusesADoubleSpendOfThePool) {
    const auto in = coinbase_of(1);
    const auto first = pay_fee(in, 1000);
    const auto second = pay_fee(in, 5000);  // pays more: first seen still wins
    ASSERT_TRUE(accept(first).is_ok());
    const auto r = accept(second);
    EXPECT_EQ(r.code, ValidationCode::kPolicy);
    EXPECT_EQ(r.reason, "txn-mempool-conflict");
    EXPECT_NE(r.detail.find("double spend"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find(first.txid().to_hex()), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find(in.first.txid.to_hex() + ":0"), std::string::npos) << r.detail;
    EXPECT_FALSE(pool_->contains(second.txid()));
    EXPECT_EQ(pool_->spender(in.first), first.txid());
}

TEST_F(MempoolTest, RefusesADoubleSpendOfTheChain) {
    const auto in = coinbase_of(1);
    const auto confirmed = pay_fee(in, 1000);
    connect({confirmed}, 1000);
    const auto r = accept(pay_fee(in, 2000));
    EXPECT_EQ(r.code, ValidationCode::kMissingPrev);
    EXPECT_EQ(r.reason, "bad-txns-inputs-missingorspent");
    // The confirmed transaction itself is known, not an orphan.
    const auto known = accept(confirmed);
    EXPECT_EQ(known.code, ValidationCode::kDuplicate);
    EXPECT_EQ(known.reason, "txn-already-known");
    EXPECT_EQ(pool_->size(), 0u);
}

// Each rule of check_transaction / check_tx_inputs / check_tx_signatures, fed through the
// pool, with the code peer_manager acts on.
TEST_F(MempoolTest, EverySpendingRuleThroughThePool) {
    const auto in = coinbase_of(1);
    const Amount value = in.second.amount;
    struct Case {
        std::string name;
        Transaction tx;
        std::string reason;
        ValidationCode code;
    };
    std::vector<Case> cases;

    auto missing = in;
    missing.first.index = 1;
    cases.push_back({"missing input", pay({missing}, {1}), "bad-txns-inputs-missingorspent",
                     ValidationCode::kMissingPrev});
    {
        auto tx = pay_fee(in, 1000);
        tx.inputs[0].signature[7] ^= 1;
        cases.push_back({"bad signature", tx, "bad-txns-signature", ValidationCode::kInvalid});
    }
    cases.push_back(
        {"signature by another key",
         chain::test::signed_spend({in}, {TxOut{value - 1000, pub_}}, chain::test::test_key(8)),
         "bad-txns-signature", ValidationCode::kInvalid});
    cases.push_back({"same input twice", pay({in, in}, {value}), "bad-txns-inputs-duplicate",
                     ValidationCode::kInvalid});
    cases.push_back({"outputs above inputs", pay({in}, {value + 1}), "bad-txns-in-belowout",
                     ValidationCode::kInvalid});
    cases.push_back(
        {"negative output", pay({in}, {-1}), "bad-txns-vout-negative", ValidationCode::kInvalid});
    cases.push_back({"output above the money supply", pay({in}, {core::kMaxMoney + 1}),
                     "bad-txns-vout-toolarge", ValidationCode::kInvalid});
    cases.push_back({"outputs overflowing the money supply",
                     pay({in}, {core::kMaxMoney, core::kMaxMoney}), "bad-txns-txouttotal-toolarge",
                     ValidationCode::kInvalid});
    // (bad-txns-inputvalues-outofrange needs spent coins worth more than all money; no
    // chain of valid blocks holds such coins: core/tx_verify_test.cpp tests it directly.)
    cases.push_back({"immature coinbase", pay_fee(coinbase_of(12), 1000),
                     "bad-txns-premature-spend-of-coinbase", ValidationCode::kPolicy});
    {
        const std::size_t n = chain::test::regtest().max_tx_size / core::kTxOutSize + 1;
        cases.push_back({"oversized transaction", pay({in}, std::vector<Amount>(n, 1)),
                         "bad-txns-oversize", ValidationCode::kInvalid});
    }
    {
        auto tx = pay_fee(in, 100'000);
        tx.data.assign(chain::test::regtest().max_data_size + 1, 0x61);
        cases.push_back({"oversized data", tx, "bad-txns-data-oversize", ValidationCode::kInvalid});
    }
    cases.push_back({"coinbase", core::make_coinbase(111, 50 * core::kCoin, pub_, {}), "coinbase",
                     ValidationCode::kInvalid});
    {
        Transaction tx = pay_fee(in, 1000);
        tx.inputs.clear();
        cases.push_back({"no inputs", tx, "bad-txns-vin-empty", ValidationCode::kInvalid});
    }

    for (const auto& c : cases) {
        const auto r = accept(c.tx);
        EXPECT_EQ(r.reason, c.reason) << c.name << ": " << r.to_string();
        EXPECT_EQ(r.code, c.code) << c.name;
    }
    EXPECT_EQ(pool_->size(), 0u);
    // The mature coinbase next to the immature one is fine.
    EXPECT_TRUE(accept(pay_fee(coinbase_of(11), 1000)).is_ok());
}

TEST_F(MempoolTest, MinimumFeeRate) {
    const auto in = coinbase_of(1);
    const std::size_t size = pay_fee(in, 0).serialized_size();
    const auto low = accept(pay_fee(in, static_cast<Amount>(size) - 1));
    EXPECT_EQ(low.code, ValidationCode::kPolicy);
    EXPECT_EQ(low.reason, "min-fee-not-met");
    EXPECT_TRUE(accept(pay_fee(in, static_cast<Amount>(size))).is_ok());

    Options options;
    options.min_fee_rate = 0;
    reset_pool(options);
    EXPECT_TRUE(accept(pay_fee(coinbase_of(2), 0)).is_ok());
}

TEST_F(MempoolTest, OrdersByFeeRateAndAChildPaysForItsParent) {
    const auto low = pay_fee(coinbase_of(1), 200);
    const auto mid = pay_fee(coinbase_of(2), 2000);
    const auto high = pay_fee(coinbase_of(3), 5000);
    const auto poor_parent = pay_fee(coinbase_of(4), 160);
    const auto rich_child = pay_fee(output_of(poor_parent), 12000);
    for (const auto* tx : {&low, &mid, &high, &poor_parent, &rich_child}) {
        ASSERT_TRUE(accept(*tx).is_ok());
    }
    // poor_parent (below every other rate) comes first with its child: 12160 over two
    // transactions beats high's 5000 over one.
    const auto sel = pool_->select(1'000'000);
    EXPECT_EQ(txids(sel.txs), (std::vector<core::Uint256>{poor_parent.txid(), rich_child.txid(),
                                                          high.txid(), mid.txid(), low.txid()}));
    EXPECT_EQ(sel.fees, 200 + 2000 + 5000 + 160 + 12000);
    std::size_t bytes = 0;
    for (const auto& tx : sel.txs) bytes += tx->serialized_size();
    EXPECT_EQ(sel.bytes, bytes);

    const auto entries = pool_->entries();
    ASSERT_EQ(entries.size(), 5u);
    EXPECT_EQ(entries[0].txid, rich_child.txid());
    EXPECT_EQ(entries[1].txid, high.txid());
    EXPECT_EQ(entries[2].txid, mid.txid());
    EXPECT_EQ(entries[3].txid, low.txid());
    EXPECT_EQ(entries[4].txid, poor_parent.txid());
}

TEST_F(MempoolTest, SelectionStaysWithinItsBytesAndKeepsParentsFirst) {
    std::vector<Transaction> all;
    for (std::uint32_t h = 1; h <= 6; ++h) {
        auto parent = pay_fee(coinbase_of(h), 500 * h);
        auto child = pay_fee(output_of(parent), 3000);
        all.push_back(parent);
        all.push_back(child);
    }
    for (const auto& tx : all) ASSERT_TRUE(accept(tx).is_ok());
    const std::size_t one = all[0].serialized_size();
    for (std::size_t limit : {std::size_t{0}, one - 1, one, 3 * one + 5, 7 * one, 100 * one}) {
        const auto sel = pool_->select(limit);
        EXPECT_LE(sel.bytes, limit);
        std::set<core::Uint256> seen;
        for (const auto& tx : sel.txs) {
            for (const auto& in : tx->inputs) {
                if (pool_->contains(in.prevout.txid)) {
                    EXPECT_TRUE(seen.contains(in.prevout.txid)) << "child before parent";
                }
            }
            seen.insert(tx->txid());
        }
        if (limit >= 12 * one) {
            EXPECT_EQ(sel.txs.size(), 12u);
        }
    }
    // A lone parent fits where its package does not: taken for its own rate.
    const auto sel = pool_->select(one);
    ASSERT_EQ(sel.txs.size(), 1u);
}

TEST_F(MempoolTest, BoundedWithLowestFeeRateEviction) {
    // Every transaction here has one input and one output: the same size.
    const std::size_t one = pay_fee(coinbase_of(1), 1000).serialized_size();
    Options options;
    options.max_bytes = 3 * one;
    reset_pool(options);
    const auto a = pay_fee(coinbase_of(1), 3000);
    const auto b = pay_fee(coinbase_of(2), 1000);  // the lowest rate
    const auto c = pay_fee(coinbase_of(3), 2000);
    for (const auto* tx : {&a, &b, &c}) ASSERT_TRUE(accept(*tx).is_ok());
    EXPECT_EQ(pool_->bytes(), 3 * one);

    // Paying less than (or the same as) the cheapest entry: refused, nothing moves.
    for (Amount fee : {Amount{500}, Amount{1000}}) {
        const auto r = accept(pay_fee(coinbase_of(4), fee));
        EXPECT_EQ(r.code, ValidationCode::kPolicy);
        EXPECT_EQ(r.reason, "mempool-full");
        EXPECT_EQ(pool_->size(), 3u);
    }
    const auto d = pay_fee(coinbase_of(4), 1500);
    ASSERT_TRUE(accept(d).is_ok());
    EXPECT_FALSE(pool_->contains(b.txid()));
    EXPECT_FALSE(pool_->spender(coinbase_of(2).first));
    EXPECT_TRUE(pool_->contains(a.txid()));
    EXPECT_TRUE(pool_->contains(c.txid()));
    EXPECT_EQ(pool_->bytes(), 3 * one);

    // A child never evicts its own parent: d stays, and c (2000) is the cheapest other
    // entry, which a child paying 1100 does not beat.
    const auto r = accept(pay_fee(output_of(d), 1100));
    EXPECT_EQ(r.reason, "mempool-full");
    EXPECT_TRUE(pool_->contains(d.txid()));
}

TEST_F(MempoolTest, EvictionTakesAParentWithItsDescendants) {
    const std::size_t one = pay_fee(coinbase_of(1), 1000).serialized_size();
    Options options;
    options.max_bytes = 4 * one;
    reset_pool(options);
    const auto parent = pay_fee(coinbase_of(1), 600);
    const auto child = pay_fee(output_of(parent), 3000);  // package: 3600 over 2 = 1800 each
    const auto x = pay_fee(coinbase_of(2), 2000);
    const auto y = pay_fee(coinbase_of(3), 2500);
    for (const auto* tx : {&parent, &child, &x, &y}) ASSERT_TRUE(accept(*tx).is_ok());

    // The parent's package is the cheapest (1800 per tx): equal is not enough...
    EXPECT_EQ(reason(accept(pay_fee(coinbase_of(4), 1800))), "mempool-full");
    // ...more is, and the parent leaves with its child.
    const auto z = pay_fee(coinbase_of(4), 1900);
    ASSERT_TRUE(accept(z).is_ok());
    EXPECT_FALSE(pool_->contains(parent.txid()));
    EXPECT_FALSE(pool_->contains(child.txid()));
    EXPECT_TRUE(pool_->contains(x.txid()));
    EXPECT_TRUE(pool_->contains(y.txid()));
    EXPECT_EQ(pool_->size(), 3u);
    EXPECT_EQ(pool_->bytes(), 3 * one);

    // Larger than the whole pool: refused whatever it pays.
    Options tiny;
    tiny.max_bytes = one - 1;
    reset_pool(tiny);
    EXPECT_EQ(reason(accept(pay_fee(coinbase_of(5), 50'000))), "mempool-full");
}

TEST_F(MempoolTest, AncestorAndDescendantLimits) {
    Options options;
    options.max_ancestors = 2;
    options.max_descendants = 3;
    reset_pool(options);
    const auto t1 = pay_fee(coinbase_of(1), 1000);
    const auto t2 = pay_fee(output_of(t1), 1000);
    const auto t3 = pay_fee(output_of(t2), 1000);
    const auto t4 = pay_fee(output_of(t3), 1000);
    ASSERT_TRUE(accept(t1).is_ok());
    ASSERT_TRUE(accept(t2).is_ok());
    ASSERT_TRUE(accept(t3).is_ok());
    const auto r = accept(t4);
    EXPECT_EQ(r.code, ValidationCode::kPolicy);
    EXPECT_EQ(r.reason, "too-long-mempool-chain");

    // Fan out: a parent with two outputs, each spent; a third descendant is the limit.
    const auto root = pay({coinbase_of(2)}, {1000, 1000, coinbase_of(2).second.amount - 5000});
    ASSERT_TRUE(accept(root).is_ok());
    ASSERT_TRUE(accept(pay_fee(output_of(root, 0), 500)).is_ok());
    ASSERT_TRUE(accept(pay_fee(output_of(root, 1), 500)).is_ok());
    const auto third = pay_fee(output_of(root, 2), 1000);
    ASSERT_TRUE(accept(third).is_ok());
    EXPECT_EQ(pool_->get(root.txid())->descendants, 3u);
    const auto fourth = accept(pay_fee(output_of(third), 1000));
    EXPECT_EQ(fourth.reason, "too-long-mempool-chain");
}

TEST_F(MempoolTest, ConnectedBlockRemovesConfirmedAndConflictingEntries) {
    const auto a = pay_fee(coinbase_of(1), 1000);
    const auto a_child = pay_fee(output_of(a), 1000);
    const auto b = pay_fee(coinbase_of(2), 1000);
    const auto b_child = pay_fee(output_of(b), 1000);
    const auto b_grandchild = pay_fee(output_of(b_child), 1000);
    const auto other = pay_fee(coinbase_of(3), 1000);
    for (const auto* tx : {&a, &a_child, &b, &b_child, &b_grandchild, &other}) {
        ASSERT_TRUE(accept(*tx).is_ok());
    }
    // The block confirms a and spends b's coin another way.
    const auto b_rival = pay_fee(coinbase_of(2), 7000);
    const auto generation = pool_->generation();
    connect({a, b_rival}, 8000);
    EXPECT_NE(pool_->generation(), generation);
    EXPECT_FALSE(pool_->contains(a.txid()));
    EXPECT_FALSE(pool_->contains(b.txid()));
    EXPECT_FALSE(pool_->contains(b_child.txid()));
    EXPECT_FALSE(pool_->contains(b_grandchild.txid()));
    EXPECT_TRUE(pool_->contains(other.txid()));
    ASSERT_TRUE(pool_->contains(a_child.txid()));
    // a_child now spends a confirmed coin.
    EXPECT_EQ(pool_->get(a_child.txid())->ancestors, 0u);
    EXPECT_EQ(pool_->size(), 2u);
    EXPECT_EQ(pool_->bytes(), a_child.serialized_size() + other.serialized_size());
    EXPECT_FALSE(pool_->spender(coinbase_of(2).first));
    EXPECT_FALSE(pool_->spender(output_of(b).first));
}

TEST_F(MempoolTest, ReorgBringsTheDisconnectedTransactionsBack) {
    const auto fork = parent_of(h_.chain().tip());
    const auto tx = pay_fee(coinbase_of(1), 1000);
    const auto block = connect({tx}, 1000);
    // A pool transaction that spends the confirmed one.
    const auto child = pay_fee(output_of(tx), 1000);
    ASSERT_TRUE(accept(child).is_ok());
    EXPECT_EQ(pool_->get(child.txid())->ancestors, 0u);

    // A longer branch without tx: the node does what node/ wires from the chain events.
    const auto other = build_branch(fork, 2, "other", pub_);
    h_.feed(other);
    ASSERT_EQ(h_.chain().tip()->hash, other.back()->hash());
    pool_->add_disconnected(block);
    for (const auto& b : other) pool_->remove_for_block(*b);
    EXPECT_EQ(pool_->update_after_reorg(), 1u);
    ASSERT_TRUE(pool_->contains(tx.txid()));
    ASSERT_TRUE(pool_->contains(child.txid()));
    EXPECT_EQ(pool_->get(child.txid())->ancestors, 1u);
    EXPECT_EQ(txids(pool_->select(1'000'000).txs),
              (std::vector<core::Uint256>{tx.txid(), child.txid()}));
    // A second reorg with nothing disconnected brings nothing back and keeps the pool.
    EXPECT_EQ(pool_->update_after_reorg(), 0u);
    EXPECT_EQ(pool_->size(), 2u);
}

TEST_F(MempoolTest, ReorgDropsWhatTheNewChainSpent) {
    const auto fork = parent_of(h_.chain().tip());
    const auto pooled = pay_fee(coinbase_of(1), 1000);
    ASSERT_TRUE(accept(pooled).is_ok());
    // The new branch confirms a rival spend of the same coin.
    const auto rival = pay_fee(coinbase_of(1), 3000);
    chain::test::BlockOptions o;
    o.txs = {rival};
    o.coinbase_extra = 3000;
    const auto b1 = chain::test::share(build_block(fork, o));
    ASSERT_TRUE(h_.chain().process_block(b1).is_ok());
    pool_->remove_for_block(*b1);
    EXPECT_FALSE(pool_->contains(pooled.txid()));
    EXPECT_EQ(pool_->update_after_reorg(), 0u);
    EXPECT_EQ(pool_->size(), 0u);
}

TEST_F(MempoolTest, SaveAndLoadRoundTrip) {
    testutil::TempDir dir;
    const auto path = dir.path() / "mempool.dat";
    // No file yet: nothing to load.
    auto none = pool_->load(path);
    ASSERT_TRUE(none) << none.error().to_string();
    EXPECT_EQ(*none, 0u);

    const auto parent = pay_fee(coinbase_of(1), 1000);
    const auto child = pay({output_of(parent)}, {5, output_of(parent).second.amount - 2005});
    // A transaction with a data payload (what the signature covers too).
    Transaction with_data;
    with_data.inputs.push_back(core::TxIn{coinbase_of(2).first, {}});
    with_data.outputs.push_back(TxOut{coinbase_of(2).second.amount - 100'000, pub_});
    with_data.data = {'l', 'o', 'g'};
    const std::vector<TxOut> spent = {coinbase_of(2).second};
    const core::SignatureHasher hasher(with_data, spent, chain::test::regtest());
    with_data.inputs[0].signature = key_->sign(hasher.for_input(0));
    ASSERT_TRUE(accept(parent).is_ok());
    h_.clock().advance(7);
    ASSERT_TRUE(accept(child).is_ok());
    ASSERT_TRUE(accept(with_data).is_ok());
    ASSERT_TRUE(pool_->save(path));
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

    const auto before = pool_->entries();
    reset_pool({});
    h_.clock().advance(100);
    auto loaded = pool_->load(path);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_EQ(*loaded, 3u);
    const auto after = pool_->entries();
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
        EXPECT_EQ(after[i].txid, before[i].txid);
        EXPECT_EQ(*after[i].tx, *before[i].tx);
        EXPECT_EQ(after[i].fee, before[i].fee);
        EXPECT_EQ(after[i].time, before[i].time);  // entry times survive
        EXPECT_EQ(after[i].ancestors, before[i].ancestors);
    }
    // Loading into a pool that has them already keeps them once.
    auto twice = pool_->load(path);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*twice, 0u);
    EXPECT_EQ(pool_->size(), 3u);
}

TEST_F(MempoolTest, DamagedFilesAreCorruptionNotACrash) {
    testutil::TempDir dir;
    const auto path = dir.path() / "mempool.dat";
    const auto parent = pay_fee(coinbase_of(1), 1000);
    const auto child = pay_fee(output_of(parent), 1000);
    ASSERT_TRUE(accept(parent).is_ok());
    ASSERT_TRUE(accept(child).is_ok());
    ASSERT_TRUE(pool_->save(path));
    std::ifstream in(path, std::ios::binary);
    const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(whole.size(), 20u);

    auto write = [&](const std::string& bytes) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << bytes;
    };
    // Every truncation: a corrupt file, and at most what was whole before the cut.
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        write(whole.substr(0, cut));
        reset_pool({});
        auto r = pool_->load(path);
        ASSERT_FALSE(r) << "cut at " << cut;
        EXPECT_EQ(r.error().code, util::Errc::kCorruption) << "cut at " << cut;
        EXPECT_LE(pool_->size(), 1u);
    }
    // The first entry survives a cut inside the second.
    write(whole.substr(0, whole.size() - 3));
    reset_pool({});
    EXPECT_FALSE(pool_->load(path));
    EXPECT_TRUE(pool_->contains(parent.txid()));
    EXPECT_FALSE(pool_->contains(child.txid()));

    // A trailing byte, a wrong magic, a newer version, a count no file could hold.
    std::string trailing = whole + "x";
    std::string magic = whole;
    magic[0] = 'X';
    std::string version = whole;
    version[4] = 2;
    std::string count = whole.substr(0, 8) + std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    for (const auto* bytes : {&trailing, &magic, &version, &count}) {
        write(*bytes);
        reset_pool({});
        auto r = pool_->load(path);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, util::Errc::kCorruption) << r.error().to_string();
    }
    // A flipped byte inside a transaction: it decodes or not, but a bad signature never
    // enters the pool.
    for (std::size_t at = 9; at < whole.size(); at += 7) {
        std::string flipped = whole;
        flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
        write(flipped);
        reset_pool({});
        (void)pool_->load(path);
        for (const auto& e : pool_->entries()) {
            EXPECT_TRUE(e.txid == parent.txid() || e.txid == child.txid()) << "at " << at;
        }
    }
}

}  // namespace
}  // namespace peerchain::mempool
