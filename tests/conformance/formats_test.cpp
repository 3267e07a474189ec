// The node against the committed format vectors of tests/conformance (README.md):
// genesis.json, serialization.json and merkle.json here; pow.json, asert.json,
// sighash.json and addresses.json in formats_crypto_test.cpp. Every value in a file is
// recomputed by the code and compared, so a file and the code cannot drift apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "crypto/sha256.hpp"
#include "tests/conformance/formats_json.hpp"

namespace peerchain::conformance {
namespace {

json::value load(const char* name) { return read_vectors(PEERCHAIN_CONFORMANCE_DIR, name); }

const core::Params& network(const json::value& v) { return network_of(v); }

// The bytes the txid hashes, cut from the full serialization at the offsets PROTOCOL.md
// 1.2 gives: each input's 64-byte signature follows its 32-byte prev_txid and 4-byte index.
util::Bytes without_signatures(const util::Bytes& full, std::size_t n_inputs) {
    const std::size_t first = 4 + core::compact_size_length(n_inputs);
    util::Bytes out(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(first));
    for (std::size_t i = 0; i < n_inputs; ++i) {
        const auto at = full.begin() + static_cast<std::ptrdiff_t>(first + i * core::kTxInSize);
        out.insert(out.end(), at, at + 36);
    }
    out.insert(out.end(),
               full.begin() + static_cast<std::ptrdiff_t>(first + n_inputs * core::kTxInSize),
               full.end());
    return out;
}

void check_header(const json::value& v) {
    SCOPED_TRACE(str(v, "name"));
    const util::Bytes raw = bytes(v, "hex");
    auto decoded = core::decode_header(raw);
    ASSERT_TRUE(decoded) << decoded.error().message;
    const core::BlockHeader fields = header_from(at(v, "fields"));
    EXPECT_EQ(*decoded, fields);
    const auto encoded = fields.encode();
    EXPECT_EQ(util::to_hex(encoded), util::to_hex(raw));
    EXPECT_EQ(fields.hash(), hash(v, "id"));
    EXPECT_EQ(at(v, "valid_at_head").as_bool(), fields.version == core::kHeaderVersion);
}

void check_tx(const json::value& v) {
    SCOPED_TRACE(str(v, "name"));
    const util::Bytes raw = bytes(v, "hex");
    auto decoded = core::decode_transaction(raw);
    ASSERT_TRUE(decoded) << decoded.error().message;
    const core::Transaction fields = tx_from(at(v, "fields"));
    EXPECT_EQ(*decoded, fields);
    EXPECT_EQ(util::to_hex(fields.encode()), util::to_hex(raw));
    EXPECT_EQ(fields.serialized_size(), raw.size());
    EXPECT_EQ(fields.is_coinbase(), at(v, "is_coinbase").as_bool());
    // The txid hashes the transaction without its signatures (cut out, not zeroed); the
    // leaf hashes all of it.
    const util::Bytes preimage = bytes(v, "txid_preimage");
    EXPECT_EQ(util::to_hex(preimage), util::to_hex(without_signatures(raw, fields.inputs.size())));
    EXPECT_EQ(preimage.size(), raw.size() - 64 * fields.inputs.size());
    EXPECT_EQ(core::Uint256(crypto::sha256d(preimage)), hash(v, "txid"));
    EXPECT_EQ(fields.txid(), hash(v, "txid"));
    EXPECT_EQ(core::Uint256(crypto::tagged_hash("peerchain/leaf", raw)), hash(v, "leaf"));
    EXPECT_EQ(fields.leaf_hash(), hash(v, "leaf"));
    const bool valid =
        static_cast<bool>(core::check_transaction(fields, core::params(core::Network::kDev)));
    EXPECT_EQ(at(v, "valid_at_head").as_bool(), valid);
}

TEST(Conformance, EveryFormatFileHasATest) {
    // A file added without a reader here would be a vector nothing checks. The rejects
    // files belong to the rejects suite (rejects.md).
    std::set<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(PEERCHAIN_CONFORMANCE_DIR)) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".json" && name.rfind("rejects", 0) != 0) {
            found.insert(name);
        }
    }
    const std::set<std::string> read = {"addresses.json", "asert.json", "genesis.json",
                                        "merkle.json",    "pow.json",   "serialization.json",
                                        "sighash.json"};
    EXPECT_EQ(found, read);
}

TEST(Conformance, Genesis) {
    const json::value file = load("genesis.json");
    std::set<std::string> networks;
    for (const auto& v : at(file, "networks").as_array()) {
        const core::Params& p = network(v);
        SCOPED_TRACE(p.name);
        networks.insert(p.name);
        const json::value& params = at(v, "params");
        EXPECT_EQ(util::Bytes(p.magic.begin(), p.magic.end()), bytes(params, "magic"));
        EXPECT_EQ(p.pow_limit_bits, bits(params, "pow_limit_bits"));
        EXPECT_EQ(p.pow_limit, number(params, "pow_limit"));
        EXPECT_EQ(p.pow_no_retargeting, at(params, "pow_no_retargeting").as_bool());
        EXPECT_EQ(p.target_spacing, int64(params, "target_spacing"));
        EXPECT_EQ(p.asert_half_life, int64(params, "asert_half_life"));
        EXPECT_EQ(p.initial_subsidy, int64(params, "initial_subsidy"));
        EXPECT_EQ(p.halving_interval, uint64(params, "halving_interval"));
        EXPECT_EQ(p.coinbase_maturity, uint64(params, "coinbase_maturity"));
        EXPECT_EQ(p.max_future_drift, int64(params, "max_future_drift"));
        EXPECT_EQ(p.min_time_above_median, int64(params, "min_time_above_median"));
        EXPECT_EQ(p.max_block_size, uint64(params, "max_block_size"));
        EXPECT_EQ(p.max_tx_size, uint64(params, "max_tx_size"));
        EXPECT_EQ(p.max_data_size, uint64(params, "max_data_size"));
        EXPECT_EQ(p.address_hrp, str(params, "address_hrp"));

        const util::Bytes raw = bytes(v, "block_hex");
        auto block = core::decode_block(raw, p.max_block_size);
        ASSERT_TRUE(block) << block.error().message;
        EXPECT_EQ(*block, p.genesis);
        EXPECT_EQ(util::to_hex(p.genesis.encode()), util::to_hex(raw));
        check_header(at(v, "header"));
        check_tx(at(v, "coinbase"));
        EXPECT_EQ(p.genesis.header, header_from(at(at(v, "header"), "fields")));
        EXPECT_EQ(p.genesis.txs.size(), 1u);
        EXPECT_EQ(p.genesis.txs[0], tx_from(at(at(v, "coinbase"), "fields")));
        const std::string text = str(v, "data_text");
        EXPECT_EQ(p.genesis.txs[0].data, util::Bytes(text.begin(), text.end()));
        EXPECT_EQ(core::block_merkle_root(p.genesis), hash(v, "merkle_root"));
        EXPECT_EQ(p.genesis.header.merkle_root, hash(v, "merkle_root"));
        EXPECT_EQ(p.genesis_hash, hash(v, "id"));
        EXPECT_EQ(core::block_work(p.genesis.header.bits), number(v, "chain_work"));
        EXPECT_TRUE(core::check_block(p.genesis, p));
    }
    EXPECT_EQ(networks, (std::set<std::string>{"dev", "regtest"}));
}

TEST(Conformance, CompactSize) {
    const json::value file = load("serialization.json");
    for (const auto& v : at(file, "compact_size").as_array()) {
        const std::uint64_t n = uint64(v, "value");
        util::Bytes out;
        core::Writer(out).compact_size(n);
        EXPECT_EQ(util::to_hex(out), str(v, "hex")) << n;
        EXPECT_EQ(core::compact_size_length(n), out.size());
        core::Reader r(out);
        std::uint64_t back = 0;
        EXPECT_TRUE(r.compact_size(back, ~0ULL));
        EXPECT_EQ(back, n);
        EXPECT_TRUE(r.at_end());
    }
    for (const auto& v : at(file, "compact_size_refused").as_array()) {
        const util::Bytes raw = bytes(v, "hex");
        core::Reader r(raw);
        std::uint64_t n = 0;
        EXPECT_FALSE(r.compact_size(n, ~0ULL)) << str(v, "hex");
    }
}

TEST(Conformance, HeadersAndTransactions) {
    const json::value file = load("serialization.json");
    EXPECT_FALSE(at(file, "headers").as_array().empty());
    for (const auto& v : at(file, "headers").as_array()) check_header(v);
    EXPECT_FALSE(at(file, "transactions").as_array().empty());
    for (const auto& v : at(file, "transactions").as_array()) check_tx(v);
    for (const auto& v : at(file, "undecodable_transactions").as_array()) {
        EXPECT_FALSE(core::decode_transaction(bytes(v, "hex"))) << str(v, "name");
    }
    for (const auto& v : at(file, "undecodable_headers").as_array()) {
        auto raw = util::from_hex(v.as_string());
        ASSERT_TRUE(raw);
        EXPECT_FALSE(core::decode_header(*raw));
    }
}

// Signatures never change a txid: the pair differs in signature bytes only, shares one
// txid and has two leaves (the merkle tree commits to the signatures).
TEST(Conformance, SignaturesAreOutsideTheTxid) {
    const json::value file = load("serialization.json");
    const auto& pair = at(file, "same_txid").as_array();
    ASSERT_EQ(pair.size(), 2u);
    for (const auto& v : pair) check_tx(v);
    const util::Bytes a = bytes(pair[0], "hex");
    const util::Bytes b = bytes(pair[1], "hex");
    EXPECT_NE(a, b);
    EXPECT_EQ(hash(pair[0], "txid"), hash(pair[1], "txid"));
    EXPECT_NE(hash(pair[0], "leaf"), hash(pair[1], "leaf"));
    const core::Transaction tx = tx_from(at(pair[0], "fields"));
    EXPECT_EQ(without_signatures(a, tx.inputs.size()), without_signatures(b, tx.inputs.size()));
}

TEST(Conformance, Blocks) {
    const json::value file = load("serialization.json");
    const core::Params& rt = core::params(core::Network::kRegtest);
    for (const auto& v : at(file, "blocks").as_array()) {
        SCOPED_TRACE(str(v, "name"));
        const util::Bytes raw = bytes(v, "hex");
        auto block = core::decode_block(raw, rt.max_block_size);
        ASSERT_TRUE(block) << block.error().message;
        EXPECT_EQ(block->header, header_from(at(v, "header")));
        EXPECT_EQ(util::to_hex(block->encode()), util::to_hex(raw));
        EXPECT_EQ(block->serialized_size(), raw.size());
        EXPECT_EQ(block->hash(), hash(v, "id"));
        const auto& txids = at(v, "txids").as_array();
        ASSERT_EQ(block->txs.size(), txids.size());
        for (std::size_t i = 0; i < txids.size(); ++i) {
            auto want = core::Uint256::from_hex(txids[i].as_string());
            ASSERT_TRUE(want);
            EXPECT_EQ(block->txs[i].txid(), *want);
        }
        EXPECT_EQ(core::block_merkle_root(*block), block->header.merkle_root);
        EXPECT_TRUE(core::check_block(*block, rt)) << core::check_block(*block, rt).to_string();
        // One byte more or less is not a block.
        util::Bytes longer = raw;
        longer.push_back(0);
        EXPECT_FALSE(core::decode_block(longer, rt.max_block_size));
        EXPECT_FALSE(
            core::decode_block(util::ByteSpan(raw).first(raw.size() - 1), rt.max_block_size));
    }
}

TEST(Conformance, MerkleTrees) {
    const json::value file = load("merkle.json");
    std::vector<core::Transaction> txs;
    for (const auto& v : at(file, "transactions").as_array()) {
        auto tx = core::decode_transaction(bytes(v, "hex"));
        ASSERT_TRUE(tx);
        EXPECT_EQ(tx->txid(), hash(v, "txid"));
        EXPECT_EQ(tx->leaf_hash(), hash(v, "leaf"));
        txs.push_back(std::move(*tx));
    }
    std::set<std::size_t> counts;
    for (const auto& tree : at(file, "trees").as_array()) {
        const auto count = static_cast<std::size_t>(uint64(tree, "count"));
        SCOPED_TRACE(count);
        counts.insert(count);
        ASSERT_LE(count, txs.size());
        auto level_of = [](const json::value& row) {
            std::vector<core::Uint256> out;
            for (const auto& h : row.as_array()) {
                auto v = core::Uint256::from_hex(h.as_string());
                NODE_ASSERT(v.has_value());
                out.push_back(*v);
            }
            return out;
        };
        const auto& levels = at(tree, "levels").as_array();
        ASSERT_FALSE(levels.empty());
        std::vector<core::Uint256> leaves;
        for (std::size_t i = 0; i < count; ++i) leaves.push_back(txs[i].leaf_hash());
        EXPECT_EQ(level_of(levels[0]), leaves);
        // Each level from the one below: neighbours paired left to right, an odd last
        // hash carried up unchanged (never paired with itself).
        for (std::size_t k = 0; k + 1 < levels.size(); ++k) {
            const auto below = level_of(levels[k]);
            const auto above = level_of(levels[k + 1]);
            ASSERT_EQ(above.size(), (below.size() + 1) / 2);
            for (std::size_t j = 0; j + 1 < below.size(); j += 2) {
                EXPECT_EQ(above[j / 2], core::merkle_root({below[j], below[j + 1]}));
            }
            if (below.size() % 2 == 1) {
                EXPECT_EQ(above.back(), below.back());
            }
        }
        const auto top = level_of(levels.back());
        ASSERT_EQ(top.size(), 1u);
        EXPECT_EQ(top[0], hash(tree, "root"));
        EXPECT_EQ(core::merkle_root(leaves), hash(tree, "root"));
        core::Block block;
        block.txs.assign(txs.begin(), txs.begin() + static_cast<std::ptrdiff_t>(count));
        EXPECT_EQ(core::block_merkle_root(block), hash(tree, "root"));
    }
    EXPECT_EQ(counts, (std::set<std::size_t>{1, 2, 3, 4, 5, 7, 8, 9}));
}

}  // namespace
}  // namespace peerchain::conformance
