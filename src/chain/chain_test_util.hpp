// Helpers for the chain module's tests: regtest blocks on any parent, signed spends, a
// chain state over a real LevelDB in a temporary directory, and an observer that records
// what it hears. Test code only.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chain/chainstate.hpp"
#include "chain/storage_format.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"
#include "store/leveldb_database.hpp"
#include "tests/util/block_builder.hpp"
#include "tests/util/test_util.hpp"
#include "util/clock.hpp"

namespace peerchain::chain::test {

inline const core::Params& regtest() { return core::params(core::Network::kRegtest); }

// Where a new block goes: its parent's hash, height and time.
struct Parent {
    core::Uint256 hash;
    std::uint32_t height = 0;
    std::uint32_t time = 0;
};

inline Parent genesis_parent(const core::Params& p = regtest()) {
    return {p.genesis_hash, 0, p.genesis.header.time};
}
inline Parent parent_of(const core::Block& block, std::uint32_t height) {
    return {block.hash(), height, block.header.time};
}
inline Parent parent_of(const BlockIndex* index) {
    return {index->hash, index->height, index->header.time};
}

inline crypto::SecretKey test_key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0x11;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}

struct BlockOptions {
    std::vector<core::Transaction> txs;
    core::XOnlyKey miner{};
    core::Amount coinbase_extra = 0;  // paid on top of the subsidy (fees, or too much)
    std::string data;                 // coinbase data: makes sibling blocks differ
    std::uint32_t time_delta = 10;
    std::int64_t coinbase_height_delta = 0;
};

// A mined block on `parent` with a coinbase paying the subsidy (plus coinbase_extra) to
// `miner`, then the given transactions.
inline core::Block build_block(const Parent& parent, const BlockOptions& o = {},
                               const core::Params& p = regtest()) {
    core::Block b;
    b.header.prev_hash = parent.hash;
    b.header.time = parent.time + o.time_delta;
    b.header.bits = p.pow_limit_bits;
    const std::uint32_t height = parent.height + 1;
    b.txs.push_back(
        core::make_coinbase(static_cast<std::uint32_t>(height + o.coinbase_height_delta),
                            core::block_subsidy(height, p) + o.coinbase_extra, o.miner,
                            util::Bytes(o.data.begin(), o.data.end())));
    for (const auto& tx : o.txs) b.txs.push_back(tx);
    testutil::fix_merkle(b);
    testutil::mine(b, p);
    return b;
}

inline core::BlockPtr share(core::Block b) {
    return std::make_shared<const core::Block>(std::move(b));
}

// `n` blocks on `parent`, each with coinbase data `tag` + its position.
inline std::vector<core::BlockPtr> build_branch(const Parent& parent, int n, const std::string& tag,
                                                const core::XOnlyKey& miner = {}) {
    std::vector<core::BlockPtr> out;
    Parent at = parent;
    for (int i = 0; i < n; ++i) {
        BlockOptions o;
        o.data = tag + std::to_string(i + 1);
        o.miner = miner;
        out.push_back(share(build_block(at, o)));
        at = parent_of(*out.back(), at.height + 1);
    }
    return out;
}

// A transaction spending `inputs` (outpoint and the output it holds, all owned by `key`)
// to `outputs`, signed.
inline core::Transaction signed_spend(
    const std::vector<std::pair<core::OutPoint, core::TxOut>>& inputs,
    std::vector<core::TxOut> outputs, const crypto::SecretKey& key,
    const core::Params& p = regtest()) {
    core::Transaction tx;
    std::vector<core::TxOut> spent;
    for (const auto& [outpoint, out] : inputs) {
        core::TxIn in;
        in.prevout = outpoint;
        tx.inputs.push_back(in);
        spent.push_back(out);
    }
    tx.outputs = std::move(outputs);
    const core::SignatureHasher hasher(tx, spent, p);
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        tx.inputs[i].signature = key.sign(hasher.for_input(i));
    }
    return tx;
}

// The first output of a block's coinbase.
inline core::OutPoint coinbase_outpoint(const core::Block& block) {
    return {block.txs.at(0).txid(), 0};
}

// `base` (the blocks at heights 1..base.size()) and `n` blocks on it paying `key`. Once
// coinbases mature, each new block also spends the coinbase of the block coinbase_maturity
// below it into `split` outputs to `key`, so that coins move and blocks carry undo data.
// Signed with fixed auxiliary randomness: the same arguments build the same chain, in a
// child process too.
inline std::vector<core::BlockPtr> extend_with_spends(std::vector<core::BlockPtr> base, int n,
                                                      const std::string& tag,
                                                      const crypto::SecretKey& key, int split = 2) {
    const core::Params& p = regtest();
    const core::XOnlyKey pub = key.public_key();
    for (int i = 0; i < n; ++i) {
        const auto height = static_cast<std::uint32_t>(base.size() + 1);
        const Parent parent = base.empty() ? genesis_parent() : parent_of(*base.back(), height - 1);
        BlockOptions o;
        o.miner = pub;
        o.data = tag + std::to_string(height);
        if (height > p.coinbase_maturity) {
            const core::Block& mature = *base[height - p.coinbase_maturity - 1];
            const core::TxOut& out = mature.txs[0].outputs[0];
            core::Transaction tx;
            core::TxIn in;
            in.prevout = coinbase_outpoint(mature);
            tx.inputs.push_back(in);
            core::Amount left = out.amount;
            for (int k = 0; k < split; ++k) {
                const core::Amount a = k + 1 == split ? left : out.amount / split;
                tx.outputs.push_back(core::TxOut{a, pub});
                left -= a;
            }
            const std::vector<core::TxOut> spent{out};
            const core::SignatureHasher hasher(tx, spent, p);
            tx.inputs[0].signature = key.sign(hasher.for_input(0), {});
            o.txs.push_back(std::move(tx));
        }
        base.push_back(share(build_block(parent, o)));
    }
    return base;
}

// Records observer calls as short strings; blocks are named by label() when given one.
class Recorder : public ChainObserver {
  public:
    void label(const core::Uint256& hash, std::string name) { labels_[hash] = std::move(name); }
    void label_all(const std::vector<core::BlockPtr>& blocks, const std::string& prefix) {
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            label(blocks[i]->hash(), prefix + std::to_string(i + 1));
        }
    }
    std::string name(const core::Uint256& hash) const {
        auto it = labels_.find(hash);
        return it != labels_.end() ? it->second : hash.to_hex().substr(0, 8);
    }

    void on_block_connected(const core::BlockPtr& block, const BlockIndex* index) override {
        EXPECT_EQ(block->hash(), index->hash);
        events.push_back("+" + name(index->hash));
    }
    void on_block_disconnected(const core::BlockPtr& block, const BlockIndex* index) override {
        EXPECT_EQ(block->hash(), index->hash);
        events.push_back("-" + name(index->hash));
    }
    void on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                        const BlockIndex* fork) override {
        events.push_back("tip " + name(new_tip->hash) + " from " + name(old_tip->hash) + " fork " +
                         name(fork->hash));
    }
    void on_block_rejected(const core::Uint256& hash, const core::ValidationResult& why) override {
        events.push_back("reject " + name(hash) + " " + why.reason);
    }

    std::vector<std::string> take() { return std::exchange(events, {}); }

    std::vector<std::string> events;

  private:
    std::map<core::Uint256, std::string> labels_;
};

// A data directory with a LevelDB and a Chainstate over it, reopenable.
class ChainHarness {
  public:
    explicit ChainHarness(const core::Params& p = regtest(), ChainstateOptions options = {})
        : params_(&p), options_(options), clock_(p.genesis.header.time + 100'000'000) {
        // Reorgs log at info; the tests make many.
        spdlog::set_level(spdlog::level::warn);
        if (options_.script_threads == 0) options_.script_threads = 2;
        reopen();
    }

    Chainstate& chain() { return *chain_; }
    Recorder& recorder() { return recorder_; }
    util::ManualClock& clock() { return clock_; }
    store::Database& db() { return *db_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    ChainstateOptions& options() { return options_; }

    void close() {
        chain_.reset();
        db_.reset();
    }
    // Closes (flushing) and opens again, with `p` when given.
    void reopen(const core::Params* p = nullptr) {
        close();
        if (p != nullptr) params_ = p;
        auto db = store::open_leveldb(dir_.path() / "db", {});
        ASSERT_TRUE(db) << db.error().to_string();
        db_ = std::move(*db);
        options_.blocks_dir = dir_.path() / "db" / "blocks";
        auto chain = Chainstate::open(*db_, *params_, clock_, &recorder_, options_);
        ASSERT_TRUE(chain) << chain.error().to_string();
        chain_ = std::move(*chain);
    }
    util::Result<std::unique_ptr<Chainstate>> try_open(const core::Params& p) {
        close();
        auto db = store::open_leveldb(dir_.path() / "db", {});
        if (!db) return util::Unexpected(db.error());
        db_ = std::move(*db);
        options_.blocks_dir = dir_.path() / "db" / "blocks";
        return Chainstate::open(*db_, p, clock_, &recorder_, options_);
    }

    // Feeds blocks in order and expects each to be accepted.
    void feed(const std::vector<core::BlockPtr>& blocks) {
        for (const auto& b : blocks) {
            const auto r = chain_->process_block(b);
            ASSERT_TRUE(r.is_ok()) << r.to_string();
        }
    }

  private:
    testutil::TempDir dir_;
    const core::Params* params_;
    ChainstateOptions options_;
    util::ManualClock clock_;
    Recorder recorder_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<Chainstate> chain_;
};

// A copy of the store as a kill -9 would leave it: LevelDB has handed every returned write
// to the kernel, and the test writes nothing while copying.
inline void copy_store(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// A result's reject reason, or "ok".
inline std::string reason(const core::ValidationResult& r) { return r.is_ok() ? "ok" : r.reason; }

// The recorder's events for connecting prefix<from>..prefix<to>: "+A1", "+A2", ...
inline std::vector<std::string> connects(const std::string& prefix, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) out.push_back("+" + prefix + std::to_string(i));
    return out;
}

// Every 'c' record of the store, in key order.
inline std::vector<std::pair<util::Bytes, util::Bytes>> stored_coins(const store::Database& db) {
    std::vector<std::pair<util::Bytes, util::Bytes>> out;
    auto it = db.new_iterator(util::Bytes{'c'});
    for (it->seek_to_first(); it->valid(); it->next()) {
        out.emplace_back(util::Bytes(it->key().begin(), it->key().end()),
                         util::Bytes(it->value().begin(), it->value().end()));
    }
    EXPECT_TRUE(it->status());
    return out;
}

// Files every block index record under its hash alone ('i' hash:32), as stores of format 4
// and before did; the caller then writes such a version.
inline void key_index_by_hash(store::Database& db) {
    store::WriteBatch batch;
    auto it = db.new_iterator(util::Bytes{storage::kIndexPrefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        ASSERT_EQ(it->key().size(), storage::IndexKey{}.size());
        batch.put(storage::hash_key(storage::kLegacyIndexPrefix,
                                    core::Uint256::from_bytes(it->key().subspan(5))),
                  it->value());
        batch.erase(it->key());
    }
    ASSERT_TRUE(it->status());
    ASSERT_TRUE(db.write(batch, /*sync=*/true));
}

// An index record's key as formats 5 and 6 had it: 'i' height:u32be hash:32.
inline storage::IndexKey legacy_index_key(std::uint32_t height, const core::Uint256& hash) {
    storage::IndexKey key = storage::index_key(height, hash);
    key[0] = storage::kLegacyIndexPrefix;
    return key;
}

// Files every block index record under its format 5 and 6 key; the caller then writes
// such a version.
inline void key_index_as_format_6(store::Database& db) {
    store::WriteBatch batch;
    auto it = db.new_iterator(util::Bytes{storage::kIndexPrefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        util::Bytes key(it->key().begin(), it->key().end());
        key[0] = storage::kLegacyIndexPrefix;
        batch.put(key, it->value());
        batch.erase(it->key());
    }
    ASSERT_TRUE(it->status());
    ASSERT_TRUE(db.write(batch, /*sync=*/true));
}

}  // namespace peerchain::chain::test
