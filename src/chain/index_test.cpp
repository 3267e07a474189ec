// The transaction and address indexes of Chainstate: what find_transaction,
// address_history and address_coins answer after spends, reorgs, flushes, a restart, a
// crash image of the store, and an upgrade from a store of format 1. Every answer is
// checked against a model that replays the active chain from genesis.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "chain/chain_test_util.hpp"
#include "chain/storage_format.hpp"

namespace peerchain::chain {
namespace {

using test::build_block;
using test::ChainHarness;
using test::regtest;
using test::share;

constexpr core::Amount kFee = 1000;

struct Keys {
    std::vector<crypto::SecretKey> secret;
    std::vector<core::XOnlyKey> pub;

    Keys() {
        for (std::uint8_t n = 1; n <= 4; ++n) {
            secret.push_back(test::test_key(n));
            pub.push_back(secret.back().public_key());
        }
    }
    const crypto::SecretKey& owner(const core::XOnlyKey& key) const {
        for (std::size_t i = 0; i < pub.size(); ++i) {
            if (pub[i] == key) return secret[i];
        }
        ADD_FAILURE() << "a coin of an unknown key";
        return secret[0];
    }
};

const Keys& keys() {
    static const Keys k;
    return k;
}

// The model: the coins and the spent coins of every transaction of a chain, replayed.
struct Model {
    std::map<core::OutPoint, Coin> utxo;
    std::map<core::Uint256, std::vector<Coin>> spent_by;  // txid -> coins its inputs spent
};

// `chain` holds the blocks at heights 1..n.
Model replay(const std::vector<core::BlockPtr>& chain) {
    Model m;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const auto height = static_cast<std::uint32_t>(i + 1);
        for (std::size_t t = 0; t < chain[i]->txs.size(); ++t) {
            const core::Transaction& tx = chain[i]->txs[t];
            const core::Uint256 txid = tx.txid();
            std::vector<Coin>& spent = m.spent_by[txid];
            if (t > 0) {
                for (const auto& in : tx.inputs) {
                    auto it = m.utxo.find(in.prevout);
                    EXPECT_NE(it, m.utxo.end());
                    if (it == m.utxo.end()) continue;
                    spent.push_back(it->second);
                    m.utxo.erase(it);
                }
            }
            for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
                m.utxo[{txid, static_cast<std::uint32_t>(k)}] = Coin{tx.outputs[k], height, t == 0};
            }
        }
    }
    return m;
}

// A block on top of `chain` (heights 1..n) with a coinbase to a random key and up to
// `spends` random spends of mature coins, each paying a random key and its change back;
// sometimes a second transaction spends the first one's output inside the block.
core::BlockPtr next_block(const std::vector<core::BlockPtr>& chain, int spends,
                          const std::string& tag) {
    auto& rng = testutil::rng();
    const auto height = static_cast<std::uint32_t>(chain.size() + 1);
    const Model m = replay(chain);
    std::vector<std::pair<core::OutPoint, Coin>> spendable;
    for (const auto& [outpoint, coin] : m.utxo) {
        if (!coin.coinbase || height - coin.height >= regtest().coinbase_maturity) {
            spendable.emplace_back(outpoint, coin);
        }
    }
    std::shuffle(spendable.begin(), spendable.end(), rng);
    test::BlockOptions o;
    o.data = tag + std::to_string(height);
    o.miner = keys().pub[rng() % 4];
    for (int s = 0; s < spends && static_cast<std::size_t>(s) < spendable.size(); ++s) {
        const auto& [outpoint, coin] = spendable[static_cast<std::size_t>(s)];
        const core::XOnlyKey& to = keys().pub[rng() % 4];
        const core::Amount pay = coin.out.amount / 2;
        core::Transaction tx = test::signed_spend(
            {{outpoint, coin.out}},
            {core::TxOut{pay, to}, core::TxOut{coin.out.amount - pay - kFee, coin.out.recipient}},
            keys().owner(coin.out.recipient));
        o.coinbase_extra += kFee;
        if (rng() % 3 == 0) {
            // The payment moves on at once, to yet another key.
            const core::OutPoint first{tx.txid(), 0};
            core::Transaction child = test::signed_spend(
                {{first, tx.outputs[0]}}, {core::TxOut{pay - kFee, keys().pub[rng() % 4]}},
                keys().owner(to));
            o.txs.push_back(std::move(tx));
            o.txs.push_back(std::move(child));
            o.coinbase_extra += kFee;
        } else {
            o.txs.push_back(std::move(tx));
        }
    }
    const test::Parent parent =
        chain.empty() ? test::genesis_parent() : test::parent_of(*chain.back(), height - 1);
    return share(build_block(parent, o));
}

std::vector<core::BlockPtr> extend(std::vector<core::BlockPtr> chain, int n, int spends,
                                   const std::string& tag) {
    for (int i = 0; i < n; ++i) chain.push_back(next_block(chain, spends, tag));
    return chain;
}

// What address_history must answer for `key` on `chain`: newest first.
std::vector<AddressTx> expected_history(const std::vector<core::BlockPtr>& chain, const Model& m,
                                        const core::XOnlyKey& key) {
    std::vector<AddressTx> out;
    for (std::size_t i = chain.size(); i-- > 0;) {
        const auto height = static_cast<std::uint32_t>(i + 1);
        for (std::size_t t = chain[i]->txs.size(); t-- > 0;) {
            const core::Transaction& tx = chain[i]->txs[t];
            AddressTx a{tx.txid(), height, chain[i]->hash(), static_cast<std::uint32_t>(t), 0, 0};
            bool touched = false;
            for (const auto& o : tx.outputs) {
                if (o.recipient == key) {
                    a.received += o.amount;
                    touched = true;
                }
            }
            for (const Coin& c : m.spent_by.at(a.txid)) {
                if (c.out.recipient == key) {
                    a.sent += c.out.amount;
                    touched = true;
                }
            }
            if (touched) out.push_back(a);
        }
    }
    return out;
}

void expect_same(const std::vector<AddressTx>& got, const std::vector<AddressTx>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].txid, want[i].txid) << i;
        EXPECT_EQ(got[i].height, want[i].height) << i;
        EXPECT_EQ(got[i].block_hash, want[i].block_hash) << i;
        EXPECT_EQ(got[i].position, want[i].position) << i;
        EXPECT_EQ(got[i].received, want[i].received) << i;
        EXPECT_EQ(got[i].sent, want[i].sent) << i;
    }
}

// Every index answer of `c` against the model of `chain`; transactions only in `stale`
// blocks must not be found.
void expect_coins_exact(const Chainstate& c, const std::vector<core::BlockPtr>& chain) {
    const Model m = replay(chain);
    for (const auto& key : keys().pub) {
        std::vector<std::pair<core::OutPoint, Coin>> want;
        for (const auto& [outpoint, coin] : m.utxo) {
            if (coin.out.recipient == key) want.emplace_back(outpoint, coin);
        }
        EXPECT_EQ(c.address_coins(key), want);
    }
}

void check_indexes(const Chainstate& c, const std::vector<core::BlockPtr>& chain,
                   const std::vector<core::BlockPtr>& stale = {}) {
    ASSERT_EQ(c.tip()->hash, chain.back()->hash());
    expect_coins_exact(c, chain);
    const Model m = replay(chain);
    for (const auto& key : keys().pub) {
        const auto history = expected_history(chain, m, key);
        expect_same(c.address_history(key, 100000), history);
        const auto first3 = c.address_history(key, 3);
        expect_same(first3, std::vector<AddressTx>(
                                history.begin(),
                                history.begin() + static_cast<std::ptrdiff_t>(
                                                      std::min<std::size_t>(3, history.size()))));
    }
    std::set<core::Uint256> active_txids;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        for (std::size_t t = 0; t < chain[i]->txs.size(); ++t) {
            const core::Transaction& tx = chain[i]->txs[t];
            active_txids.insert(tx.txid());
            const auto found = c.find_transaction(tx.txid());
            ASSERT_TRUE(found) << "height " << i + 1 << " tx " << t;
            EXPECT_EQ(found->block->hash, chain[i]->hash());
            EXPECT_EQ(found->block->height, i + 1);
            EXPECT_EQ(found->position, t);
            EXPECT_EQ(found->tx, tx);
            EXPECT_EQ(found->spent, m.spent_by.at(tx.txid()));
        }
    }
    for (const auto& b : stale) {
        for (const auto& tx : b->txs) {
            if (active_txids.count(tx.txid()) == 0) {
                EXPECT_FALSE(c.find_transaction(tx.txid()));
            }
        }
    }
}

std::set<util::Bytes> keys_with_prefix(const store::Database& db, std::uint8_t prefix) {
    std::set<util::Bytes> out;
    auto it = db.new_iterator(util::Bytes{prefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        out.emplace(it->key().begin(), it->key().end());
    }
    EXPECT_TRUE(it->status());
    return out;
}

// The 'o' entries of the store that no stored coin accounts for (`extra`) and the stored
// coins without an entry (`missing`).
struct OwnedDiff {
    std::set<util::Bytes> extra;
    std::size_t missing = 0;
};
OwnedDiff owned_vs_coins(const store::Database& db) {
    OwnedDiff d;
    d.extra = keys_with_prefix(db, storage::kAddressCoinPrefix);
    for (const auto& [key, value] : test::stored_coins(db)) {
        auto outpoint = storage::decode_coin_key(key);
        auto coin = storage::decode_coin(value);
        EXPECT_TRUE(outpoint && coin);
        if (!outpoint || !coin) continue;
        const auto k = storage::address_coin_key(coin->out.recipient, *outpoint);
        if (d.extra.erase(util::Bytes(k.begin(), k.end())) == 0) ++d.missing;
    }
    return d;
}

// With no flush pending, the 'o' entries are exactly the stored coins by owner: spent
// coins leave nothing behind.
void expect_owned_match_coins(const store::Database& db) {
    const OwnedDiff d = owned_vs_coins(db);
    EXPECT_EQ(d.missing, 0u);
    EXPECT_EQ(d.extra.size(), 0u);
}

struct Opened {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<Chainstate> chain;
};

Opened open_at(const std::filesystem::path& dir, const util::Clock& clock,
               ChainstateOptions options = {}) {
    Opened o;
    options.script_threads = 2;
    options.blocks_dir = dir / "blocks";
    auto db = store::open_leveldb(dir, {});
    EXPECT_TRUE(db) << db.error().to_string();
    if (!db) return o;
    o.db = std::move(*db);
    auto chain = Chainstate::open(*o.db, regtest(), clock, nullptr, options);
    EXPECT_TRUE(chain) << chain.error().to_string();
    if (chain) o.chain = std::move(*chain);
    return o;
}

TEST(Index, TransactionWithItsBlockAndSpentCoins) {
    ChainHarness h;
    const Keys& k = keys();
    std::vector<core::BlockPtr> chain;
    for (int i = 0; i < 101; ++i) {
        test::BlockOptions o;
        o.miner = k.pub[0];
        o.data = "m" + std::to_string(i);
        chain.push_back(share(build_block(
            chain.empty() ? test::genesis_parent() : test::parent_of(*chain.back(), i), o)));
    }
    const core::Transaction& cb = chain[0]->txs[0];
    const core::Transaction spend =
        test::signed_spend({{{cb.txid(), 0}, cb.outputs[0]}},
                           {core::TxOut{7 * core::kCoin, k.pub[1]},
                            core::TxOut{cb.outputs[0].amount - 7 * core::kCoin - kFee, k.pub[0]}},
                           k.secret[0]);
    test::BlockOptions o;
    o.miner = k.pub[2];
    o.coinbase_extra = kFee;
    o.txs = {spend};
    chain.push_back(share(build_block(test::parent_of(*chain.back(), 101), o)));
    h.feed(chain);
    const Chainstate& c = h.chain();

    const auto found = c.find_transaction(spend.txid());
    ASSERT_TRUE(found);
    EXPECT_EQ(found->block, c.tip());
    EXPECT_EQ(found->position, 1u);
    EXPECT_EQ(found->tx, spend);
    ASSERT_EQ(found->spent.size(), 1u);
    EXPECT_EQ(found->spent[0], (Coin{cb.outputs[0], 1, true}));

    const auto coinbase = c.find_transaction(chain.back()->txs[0].txid());
    ASSERT_TRUE(coinbase);
    EXPECT_EQ(coinbase->position, 0u);
    EXPECT_TRUE(coinbase->spent.empty());

    const auto genesis = c.find_transaction(regtest().genesis.txs[0].txid());
    ASSERT_TRUE(genesis);
    EXPECT_EQ(genesis->block, c.genesis());

    core::Uint256 unknown;
    unknown.data()[0] = 0x5a;
    EXPECT_FALSE(c.find_transaction(unknown));

    // Key 1 received 7 coins once; key 0 got 101 coinbases and sent one.
    const auto h1 = c.address_history(k.pub[1], 10);
    ASSERT_EQ(h1.size(), 1u);
    EXPECT_EQ(h1[0].txid, spend.txid());
    EXPECT_EQ(h1[0].received, 7 * core::kCoin);
    EXPECT_EQ(h1[0].sent, 0);
    const auto h0 = c.address_history(k.pub[0], 2);
    ASSERT_EQ(h0.size(), 2u);
    EXPECT_EQ(h0[0].txid, spend.txid());
    EXPECT_EQ(h0[0].height, 102u);
    EXPECT_EQ(h0[0].sent, cb.outputs[0].amount);
    EXPECT_EQ(h0[0].received, cb.outputs[0].amount - 7 * core::kCoin - kFee);
    EXPECT_EQ(h0[1].height, 101u);
    EXPECT_EQ(c.address_history(k.pub[0], 1000).size(), 102u);
    EXPECT_TRUE(c.address_history(k.pub[3], 10).empty());
    EXPECT_TRUE(c.address_history(k.pub[0], 0).empty());

    const auto coins1 = c.address_coins(k.pub[1]);
    ASSERT_EQ(coins1.size(), 1u);
    EXPECT_EQ(coins1[0].first, (core::OutPoint{spend.txid(), 0}));
    EXPECT_EQ(coins1[0].second, (Coin{spend.outputs[0], 102, false}));
    EXPECT_EQ(c.address_coins(k.pub[0]).size(), 101u);  // 100 coinbases left, and change
    check_indexes(c, chain);
}

TEST(Index, ReorgsAndFlushesKeepEveryAnswerExact) {
    ChainstateOptions options;
    options.flush_every_blocks = 3;  // flushes land between, inside and after reorgs
    ChainHarness h(regtest(), options);
    auto main = extend({}, 101, 0, "m");
    main = extend(main, 6, 3, "m");
    h.feed(main);
    check_indexes(h.chain(), main);

    // A longer branch from 3 blocks back, with its own spends (some the same coins).
    const std::vector<core::BlockPtr> base(main.begin(), main.end() - 3);
    const auto side = extend(base, 5, 3, "s");
    h.feed(std::vector<core::BlockPtr>(side.begin() + static_cast<std::ptrdiff_t>(base.size()),
                                       side.end()));
    check_indexes(h.chain(), side, {main.end() - 3, main.end()});

    // The first branch overtakes again.
    const auto main2 = extend(main, 4, 2, "m");
    h.feed(std::vector<core::BlockPtr>(main2.begin() + static_cast<std::ptrdiff_t>(main.size()),
                                       main2.end()));
    check_indexes(h.chain(), main2, {side.end() - 5, side.end()});

    ASSERT_TRUE(h.chain().flush());
    expect_owned_match_coins(h.db());
}

TEST(Index, SameTransactionInBothBranchesIsFoundInTheActiveOne) {
    ChainHarness h;
    auto main = extend({}, 101, 0, "m");
    h.feed(main);
    const Model m = replay(main);
    const auto& [outpoint, coin] = *std::find_if(
        m.utxo.begin(), m.utxo.end(), [](const auto& e) { return e.second.height == 1; });
    const core::XOnlyKey payee = test::test_key(9).public_key();
    const core::Transaction tx =
        test::signed_spend({{outpoint, coin.out}}, {core::TxOut{coin.out.amount - kFee, payee}},
                           keys().owner(coin.out.recipient));
    test::BlockOptions o;
    o.txs = {tx};
    o.coinbase_extra = kFee;
    o.data = "a";
    const auto a = share(build_block(test::parent_of(*main.back(), 101), o));
    o.data = "b";
    const auto b1 = share(build_block(test::parent_of(*main.back(), 101), o));
    const auto b2 = share(build_block(test::parent_of(*b1, 102), {}));
    h.feed({a});
    EXPECT_EQ(h.chain().find_transaction(tx.txid())->block->hash, a->hash());
    h.feed({b1, b2});
    EXPECT_EQ(h.chain().find_transaction(tx.txid())->block->hash, b1->hash());
    const auto history = h.chain().address_history(payee, 10);
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].block_hash, b1->hash());
    auto chain = main;
    chain.push_back(b1);
    chain.push_back(b2);
    check_indexes(h.chain(), chain);
}

TEST(Index, RestartAndCrashImageAnswerAsBefore) {
    ChainstateOptions options;
    options.flush_every_blocks = 1000;  // nothing flushed: a crash reopens at genesis' coins
    ChainHarness h(regtest(), options);
    auto main = extend({}, 101, 0, "m");
    main = extend(main, 5, 3, "m");
    h.feed(main);
    const std::vector<core::BlockPtr> base(main.begin(), main.end() - 2);
    const auto side = extend(base, 3, 2, "s");
    h.feed(std::vector<core::BlockPtr>(side.begin() + static_cast<std::ptrdiff_t>(base.size()),
                                       side.end()));
    check_indexes(h.chain(), side);

    testutil::TempDir image;
    test::copy_store(h.dir() / "db", image.path() / "db");
    {
        Opened crashed = open_at(image.path() / "db", h.clock(), options);
        ASSERT_TRUE(crashed.chain);
        check_indexes(*crashed.chain, side, {main.end() - 2, main.end()});
        ASSERT_TRUE(crashed.chain->flush());
        // The killed node had not yet dropped the 'o' entries of the outputs of the blocks
        // the reorg disconnected, and the reopened one never connects those blocks: their
        // entries stay, and address_coins filters them out (checked above).
        const OwnedDiff d = owned_vs_coins(*crashed.db);
        EXPECT_EQ(d.missing, 0u);
        std::set<util::Bytes> stale_outputs;
        for (auto b = main.end() - 2; b != main.end(); ++b) {
            for (const auto& tx : (*b)->txs) {
                for (std::uint32_t k = 0; k < tx.outputs.size(); ++k) {
                    const auto key =
                        storage::address_coin_key(tx.outputs[k].recipient, {tx.txid(), k});
                    stale_outputs.emplace(key.begin(), key.end());
                }
            }
        }
        EXPECT_FALSE(d.extra.empty());
        for (const auto& key : d.extra) EXPECT_EQ(stale_outputs.count(key), 1u);
    }
    h.reopen();
    check_indexes(h.chain(), side, {main.end() - 2, main.end()});
    expect_owned_match_coins(h.db());
}

// --- Indexes left out during initial sync and built after it ---------------------------

ChainstateOptions sync_options() {
    ChainstateOptions o;
    o.sync_lag_blocks = 4;
    o.sync_batch_blocks = 16;
    o.sync_batch_interval = std::chrono::hours(1);
    return o;
}

// Gives the chain the headers of blocks[from..] first, as a sync does, then the blocks.
void sync_blocks(ChainHarness& h, const std::vector<core::BlockPtr>& blocks, std::size_t from) {
    std::vector<core::BlockHeader> headers;
    for (std::size_t i = from; i < blocks.size(); ++i) headers.push_back(blocks[i]->header);
    const BlockIndex* last = nullptr;
    const auto r = h.chain().process_headers(headers, &last);
    ASSERT_TRUE(r.is_ok()) << r.to_string();
    h.feed(std::vector<core::BlockPtr>(blocks.begin() + static_cast<std::ptrdiff_t>(from),
                                       blocks.end()));
}

// One block per call (a zero budget), until done; the number of calls that left more.
std::size_t build_all(Chainstate& c) {
    std::size_t calls = 0;
    for (;;) {
        auto more = c.build_indexes(std::chrono::milliseconds(0));
        EXPECT_TRUE(more) << more.error().to_string();
        if (!more || !*more) return calls;
        if (++calls > 100000) {
            ADD_FAILURE() << "build_indexes never finishes";
            return calls;
        }
    }
}

TEST(IndexBuild, HistoryLeftOutDuringSyncIsBuiltAfterItAndSurvivesRestarts) {
    ChainHarness h(regtest(), sync_options());
    auto chain = extend(extend({}, 101, 0, "m"), 3, 2, "m");
    h.feed(chain);  // at the tip, one block at a time: indexed as they connect
    const std::size_t synced_from = chain.size();
    EXPECT_TRUE(h.chain().index_progress().complete);
    chain = extend(chain, 30, 3, "m");
    sync_blocks(h, chain, synced_from);

    // The sync left the history of its blocks out; the coins entries are all there.
    const auto progress = h.chain().index_progress();
    EXPECT_FALSE(progress.complete);
    EXPECT_EQ(progress.height, synced_from);
    EXPECT_TRUE(h.chain().find_transaction(chain[synced_from - 1]->txs[1].txid()));
    EXPECT_FALSE(h.chain().find_transaction(chain.back()->txs[1].txid()));
    expect_coins_exact(h.chain(), chain);

    // A few blocks' worth, then a restart: the build goes on from where it was.
    for (int i = 0; i < 5; ++i) {
        auto more = h.chain().build_indexes(std::chrono::milliseconds(0));
        ASSERT_TRUE(more && *more);
    }
    const auto mid = h.chain().index_progress();
    EXPECT_EQ(mid.height, synced_from + 5);
    h.reopen();
    EXPECT_FALSE(h.chain().index_progress().complete);
    EXPECT_EQ(h.chain().index_progress().height, mid.height);

    // What a kill leaves mid-build reopens there too.
    testutil::TempDir image;
    test::copy_store(h.dir() / "db", image.path() / "db");
    {
        Opened crashed = open_at(image.path() / "db", h.clock(), sync_options());
        ASSERT_TRUE(crashed.chain);
        EXPECT_GE(crashed.chain->index_progress().height, mid.height);
        build_all(*crashed.chain);
        EXPECT_TRUE(crashed.chain->index_progress().complete);
        check_indexes(*crashed.chain, chain);
    }

    EXPECT_EQ(build_all(h.chain()), chain.size() - mid.height - 1);
    EXPECT_TRUE(h.chain().index_progress().complete);
    check_indexes(h.chain(), chain);
    EXPECT_FALSE(*h.chain().build_indexes(std::chrono::milliseconds(0)));
    h.reopen();
    EXPECT_TRUE(h.chain().index_progress().complete);
    check_indexes(h.chain(), chain);

    // The next block at the tip is indexed as it connects, as before the sync.
    chain = extend(chain, 1, 2, "m");
    h.feed({chain.back()});
    check_indexes(h.chain(), chain);
}

TEST(IndexBuild, AReorgBelowTheBuildKeepsEveryAnswerExact) {
    ChainHarness h(regtest(), sync_options());
    auto main = extend(extend({}, 101, 0, "m"), 3, 2, "m");
    h.feed(main);
    const std::size_t synced_from = main.size();
    main = extend(main, 20, 3, "m");
    sync_blocks(h, main, synced_from);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(*h.chain().build_indexes(std::chrono::milliseconds(0)));
    ASSERT_EQ(h.chain().index_progress().height, synced_from + 10);

    // A longer branch from below the build's height: the build's mark leaves the active
    // chain, and what it covered below the fork still counts.
    const std::size_t fork = synced_from + 4;
    const std::vector<core::BlockPtr> base(main.begin(),
                                           main.begin() + static_cast<std::ptrdiff_t>(fork));
    const auto side = extend(base, 25, 3, "s");
    h.feed(
        std::vector<core::BlockPtr>(side.begin() + static_cast<std::ptrdiff_t>(fork), side.end()));
    ASSERT_EQ(h.chain().tip()->hash, side.back()->hash());
    EXPECT_FALSE(h.chain().index_progress().complete);
    EXPECT_EQ(h.chain().index_progress().height, fork);
    expect_coins_exact(h.chain(), side);

    build_all(h.chain());
    EXPECT_TRUE(h.chain().index_progress().complete);
    check_indexes(h.chain(), side, {main.begin() + static_cast<std::ptrdiff_t>(fork), main.end()});
    ASSERT_TRUE(h.chain().flush());
    expect_owned_match_coins(h.db());
}

TEST(Index, UpgradesAStoreOfFormatOne) {
    ChainstateOptions options;
    options.flush_every_blocks = 50;  // the coins tip lags: the upgrade is followed by a replay
    ChainHarness h(regtest(), options);
    auto main = extend({}, 101, 0, "m");
    main = extend(main, 10, 3, "m");
    h.feed(main);
    testutil::TempDir image;
    test::copy_store(h.dir() / "db", image.path() / "db");
    h.close();

    // Turn the crash image into what a node of format 1 would have left.
    {
        auto db = store::open_leveldb(image.path() / "db", {});
        ASSERT_TRUE(db);
        store::WriteBatch batch;
        for (std::uint8_t prefix :
             {storage::kTxIndexPrefix, storage::kAddressTxPrefix, storage::kAddressCoinPrefix}) {
            const auto found = keys_with_prefix(**db, prefix);
            EXPECT_FALSE(found.empty());
            for (const auto& key : found) batch.erase(key);
        }
        batch.put(storage::version_key(), storage::encode_u32(1));
        ASSERT_TRUE((*db)->write(batch));
        test::key_index_by_hash(**db);
        auto tip = (*db)->get(storage::coins_tip_key());
        ASSERT_TRUE(tip && *tip);
        EXPECT_NE(core::Uint256::from_bytes(**tip), main.back()->hash());
    }
    Opened upgraded = open_at(image.path() / "db", h.clock(), options);
    ASSERT_TRUE(upgraded.chain);
    auto version = upgraded.db->get(storage::version_key());
    ASSERT_TRUE(version && *version);
    EXPECT_EQ(*storage::decode_u32(**version), storage::kFormatVersion);
    check_indexes(*upgraded.chain, main);
    ASSERT_TRUE(upgraded.chain->flush());
    expect_owned_match_coins(*upgraded.db);
}

std::uint32_t stored_version(const store::Database& db) {
    auto version = db.get(storage::version_key());
    EXPECT_TRUE(version && *version);
    if (!version || !*version) return 0;
    return *storage::decode_u32(**version);
}

// Issue 10: a node run with --no-index writes no index entry, answers no index query, and
// leaves a store that the next open with indexes rebuilds, reorgs of the run without them
// and coins spent by it included.
TEST(Index, RunWithoutIndexesWritesNoneAndTheNextOpenWithThemRebuildsThem) {
    ChainstateOptions options;
    options.flush_every_blocks = 50;
    ChainHarness h(regtest(), options);
    auto main = extend({}, 101, 0, "m");
    main = extend(main, 10, 3, "m");
    h.feed(main);
    ASSERT_EQ(stored_version(h.db()), storage::kFormatVersion);

    h.options().indexes = false;
    h.reopen();
    EXPECT_FALSE(h.chain().has_indexes());
    EXPECT_EQ(stored_version(h.db()), storage::kUnindexedFormatVersion);
    std::map<std::uint8_t, std::set<util::Bytes>> before;
    for (std::uint8_t prefix :
         {storage::kTxIndexPrefix, storage::kAddressTxPrefix, storage::kAddressCoinPrefix}) {
        before[prefix] = keys_with_prefix(h.db(), prefix);
        EXPECT_FALSE(before[prefix].empty());
    }
    // Spends of indexed coins, then a reorg that drops three of those blocks.
    const auto unindexed = extend(main, 10, 3, "n");
    h.feed(std::vector<core::BlockPtr>(unindexed.begin() + static_cast<std::ptrdiff_t>(main.size()),
                                       unindexed.end()));
    const auto side =
        extend(std::vector<core::BlockPtr>(unindexed.begin(), unindexed.end() - 3), 6, 3, "s");
    h.feed(std::vector<core::BlockPtr>(side.end() - 6, side.end()));
    ASSERT_EQ(h.chain().tip()->hash, side.back()->hash());
    // What was indexed is not answered either: it no longer follows the chain.
    const core::Transaction& cb = main[0]->txs[0];
    EXPECT_FALSE(h.chain().find_transaction(cb.txid()));
    EXPECT_TRUE(h.chain().address_coins(cb.outputs[0].recipient).empty());
    EXPECT_TRUE(h.chain().address_history(cb.outputs[0].recipient, 10).empty());
    h.reopen();  // still without: the flushes of the run wrote no entry either
    for (const auto& [prefix, keys] : before) {
        EXPECT_EQ(keys_with_prefix(h.db(), prefix), keys) << "prefix " << prefix;
    }
    EXPECT_EQ(stored_version(h.db()), storage::kUnindexedFormatVersion);

    h.options().indexes = true;
    h.reopen();
    EXPECT_TRUE(h.chain().has_indexes());
    EXPECT_EQ(stored_version(h.db()), storage::kFormatVersion);
    check_indexes(h.chain(), side, {unindexed.end() - 3, unindexed.end()});
    ASSERT_TRUE(h.chain().flush());
    // The 'o' entries of the coins spent while unindexed went with the rebuild.
    expect_owned_match_coins(h.db());
}

TEST(Index, StoreCreatedWithoutIndexesGetsThemOnTheFirstOpenWithThem) {
    ChainstateOptions options;
    options.indexes = false;
    ChainHarness h(regtest(), options);
    EXPECT_EQ(stored_version(h.db()), storage::kUnindexedFormatVersion);
    const auto main = extend({}, 102, 2, "m");
    h.feed(main);
    for (std::uint8_t prefix :
         {storage::kTxIndexPrefix, storage::kAddressTxPrefix, storage::kAddressCoinPrefix}) {
        EXPECT_TRUE(keys_with_prefix(h.db(), prefix).empty()) << "prefix " << prefix;
    }
    h.options().indexes = true;
    h.reopen();
    EXPECT_EQ(stored_version(h.db()), storage::kFormatVersion);
    check_indexes(h.chain(), main);
    ASSERT_TRUE(h.chain().flush());
    expect_owned_match_coins(h.db());
}

}  // namespace
}  // namespace peerchain::chain
