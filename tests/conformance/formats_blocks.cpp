// genesis.json, serialization.json and merkle.json (README.md has their schema).
#include <string>

#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "crypto/schnorr.hpp"
#include "crypto/sha256.hpp"
#include "tests/conformance/formats_vectors.hpp"

namespace peerchain::conformance {
namespace {

using core::Network;
using core::Transaction;

// 64 bytes that look like a signature and are not one: the serialization vectors show
// the format; sighash.json has real signatures.
core::Signature pattern_signature(const std::string& name) {
    const auto a = crypto::sha256(util::as_bytes(name + " r"));
    const auto b = crypto::sha256(util::as_bytes(name + " s"));
    core::Signature sig;
    std::copy(a.begin(), a.end(), sig.begin());
    std::copy(b.begin(), b.end(), sig.begin() + 32);
    return sig;
}

util::Bytes text_bytes(std::string_view s) { return util::Bytes(s.begin(), s.end()); }

json::object tx_vector(const std::string& name, const std::string& note, const Transaction& tx,
                       bool valid_at_head) {
    json::object o;
    o["name"] = name;
    o["note"] = note;
    o["valid_at_head"] = valid_at_head;
    o["hex"] = util::to_hex(tx.encode());
    o["fields"] = tx_fields(tx);
    o["is_coinbase"] = tx.is_coinbase();
    o["txid_preimage"] = util::to_hex(txid_preimage(tx));
    o["txid"] = tx.txid().to_hex();
    o["leaf"] = tx.leaf_hash().to_hex();
    return o;
}

json::object header_vector(const std::string& name, const std::string& note,
                           const core::BlockHeader& h, bool valid_at_head) {
    json::object o;
    o["name"] = name;
    o["note"] = note;
    o["valid_at_head"] = valid_at_head;
    o["hex"] = util::to_hex(h.encode());
    o["fields"] = header_fields(h);
    o["id"] = h.hash().to_hex();
    return o;
}

// A coinbase at height 1234 paying three outputs, with an extra nonce in its signature
// field and a payload: valid in form (version 1, lock_time 0).
Transaction multi_output_coinbase() {
    Transaction tx = core::make_coinbase(1234, 20 * core::kCoin, named_key("miner"),
                                         text_bytes("block data"), 0x0807060504030201ULL);
    tx.outputs.push_back(core::TxOut{25 * core::kCoin, named_key("pool a")});
    tx.outputs.push_back(core::TxOut{5 * core::kCoin + 1, named_key("pool b")});
    return tx;
}

Transaction two_input_tx() {
    Transaction tx;
    tx.inputs.resize(2);
    tx.inputs[0].prevout = core::OutPoint{named_hash("funding a"), 0};
    tx.inputs[0].signature = pattern_signature("two-input 0");
    tx.inputs[1].prevout = core::OutPoint{named_hash("funding b"), 3};
    tx.inputs[1].signature = pattern_signature("two-input 1");
    tx.outputs = {core::TxOut{7 * core::kCoin, named_key("bob")},
                  core::TxOut{123'456'789, named_key("alice")}};
    tx.data = text_bytes("pay bob");
    return tx;
}

}  // namespace

core::Uint256 named_hash(const std::string& name) {
    return core::Uint256(crypto::sha256(util::as_bytes(name)));
}

crypto::SecretKey named_secret(const std::string& name) {
    auto key = crypto::SecretKey::from_bytes(
        crypto::sha256(util::as_bytes("peerchain conformance key " + name)));
    NODE_ASSERT(key.has_value());
    return *key;
}

core::XOnlyKey named_key(const std::string& name) { return named_secret(name).public_key(); }

json::value genesis_vectors() {
    json::array networks;
    for (Network n : {Network::kDev, Network::kRegtest}) {
        const core::Params& p = core::params(n);
        const Transaction& cb = p.genesis.txs.at(0);
        json::object o;
        o["network"] = p.name;
        json::object params;
        params["magic"] = util::to_hex(p.magic);
        params["pow_limit_bits"] = bits_hex(p.pow_limit_bits);
        params["pow_limit"] = number_hex(p.pow_limit);
        params["pow_no_retargeting"] = p.pow_no_retargeting;
        params["target_spacing"] = p.target_spacing;
        params["asert_half_life"] = p.asert_half_life;
        params["initial_subsidy"] = p.initial_subsidy;
        params["halving_interval"] = p.halving_interval;
        params["coinbase_maturity"] = p.coinbase_maturity;
        params["max_future_drift"] = p.max_future_drift;
        params["min_time_above_median"] = p.min_time_above_median;
        params["max_block_size"] = p.max_block_size;
        params["max_tx_size"] = p.max_tx_size;
        params["max_data_size"] = p.max_data_size;
        params["address_hrp"] = p.address_hrp;
        o["params"] = std::move(params);
        o["data_text"] = std::string(cb.data.begin(), cb.data.end());
        o["block_hex"] = util::to_hex(p.genesis.encode());
        o["header"] = header_vector("genesis header", "", p.genesis.header, true);
        o["coinbase"] = tx_vector("genesis coinbase", "", cb, true);
        o["merkle_root"] = core::block_merkle_root(p.genesis).to_hex();
        o["id"] = p.genesis_hash.to_hex();
        o["chain_work"] = number_hex(core::block_work(p.genesis.header.bits));
        networks.push_back(std::move(o));
    }
    json::object root;
    root["about"] =
        "The genesis block of each network (docs/PROTOCOL.md 1.8), its parts and the "
        "consensus parameters of the network.";
    root["networks"] = std::move(networks);
    return root;
}

json::value serialization_vectors() {
    json::array compact;
    for (std::uint64_t n : {0ULL, 1ULL, 0xfcULL, 0xfdULL, 0xffffULL, 0x10000ULL, 0xffffffffULL,
                            0x100000000ULL, ~0ULL}) {
        util::Bytes out;
        core::Writer(out).compact_size(n);
        json::object o;
        o["value"] = n;
        o["hex"] = util::to_hex(out);
        compact.push_back(std::move(o));
    }
    // Lengths a reader must refuse: a longer form than needed, or bytes missing.
    json::array refused;
    for (const auto& [hex, why] : std::vector<std::pair<const char*, const char*>>{
             {"fd0000", "0 in three bytes"},
             {"fdfc00", "252 in three bytes"},
             {"fe00000000", "0 in five bytes"},
             {"feffff0000", "65535 in five bytes"},
             {"ff0000010000000000", "65536 in nine bytes"},
             {"ffffffffff00000000", "0xffffffff in nine bytes"},
             {"fd00", "short: one byte of two"},
             {"fe000001", "short: three bytes of four"},
             {"", "empty"}}) {
        const auto raw = util::from_hex(hex);
        NODE_ASSERT(raw.has_value());
        core::Reader r(*raw);
        std::uint64_t n = 0;
        NODE_ASSERT(!r.compact_size(n, ~0ULL));
        json::object o;
        o["hex"] = hex;
        o["why"] = why;
        refused.push_back(std::move(o));
    }

    const core::Params& dev = core::params(Network::kDev);
    const core::Params& rt = core::params(Network::kRegtest);
    json::array headers;
    headers.push_back(header_vector("dev genesis", "", dev.genesis.header, true));
    headers.push_back(header_vector("regtest genesis", "", rt.genesis.header, true));
    core::BlockHeader odd;
    odd.version = 0x20000004;
    odd.prev_hash = named_hash("some parent");
    odd.merkle_root = named_hash("some root");
    odd.time = 0xfedcba98;
    odd.bits = 0x1b0404cb;
    odd.nonce = 0xdeadbeef;
    NODE_ASSERT(!core::check_proof_of_work(odd.hash(), odd.bits, dev));
    headers.push_back(header_vector("format only",
                                    "format only, not valid: version must be 1 (bad-version) "
                                    "and the id does not meet bits",
                                    odd, false));

    json::array txs;
    txs.push_back(tx_vector("dev genesis coinbase", "", dev.genesis.txs[0], true));
    txs.push_back(tx_vector("coinbase, three outputs",
                            "coinbase at height 1234 (prev_index); extra nonce "
                            "0x0807060504030201 in the first 8 bytes of its signature field",
                            multi_output_coinbase(), true));
    txs.push_back(tx_vector("two inputs, two outputs",
                            "the signatures are byte patterns, not signatures (see sighash.json)",
                            two_input_tx(), true));
    Transaction big_data;
    big_data.inputs.resize(1);
    big_data.inputs[0].prevout = core::OutPoint{named_hash("funding c"), 1};
    big_data.inputs[0].signature = pattern_signature("big data");
    big_data.outputs = {core::TxOut{1, named_key("carol")}};
    big_data.data.resize(300);
    for (std::size_t i = 0; i < big_data.data.size(); ++i)
        big_data.data[i] = static_cast<std::uint8_t>(i);
    txs.push_back(tx_vector("300 bytes of data", "data_len is the three-byte compact_size fd2c01",
                            big_data, true));
    Transaction odd_tx = two_input_tx();
    odd_tx.version = 0xffffffff;
    odd_tx.lock_time = 0x12345678;
    odd_tx.outputs[1].amount = -1;
    txs.push_back(tx_vector("format only: version, lock_time, negative amount",
                            "format only, not valid: version must be 1, lock_time 0, and an "
                            "amount of ffffffffffffffff reads as -1",
                            odd_tx, false));
    txs.push_back(tx_vector("format only: empty",
                            "format only, not valid: the smallest transaction (11 bytes), "
                            "no inputs and no outputs",
                            Transaction{}, false));

    // Two transactions that differ only in their signatures: one txid, two leaves.
    Transaction a = two_input_tx();
    Transaction b = a;
    b.inputs[0].signature = pattern_signature("another 0");
    b.inputs[1].signature = pattern_signature("another 1");
    NODE_ASSERT(a.txid() == b.txid() && a.leaf_hash() != b.leaf_hash());
    json::array same_txid;
    same_txid.push_back(tx_vector("signatures A", "", a, true));
    same_txid.push_back(tx_vector("signatures B", "same as A but for the signatures", b, true));

    // A regtest block of the coinbase and the two-input transaction on the regtest
    // genesis, mined to its bits. Its form is valid; its transactions spend nothing that
    // exists, so no chain would connect it.
    core::Block block;
    block.txs = {multi_output_coinbase(), two_input_tx()};
    block.txs[0].inputs[0].prevout.index = 1;
    block.header.prev_hash = rt.genesis_hash;
    block.header.merkle_root = core::block_merkle_root(block);
    block.header.time = rt.genesis.header.time + 10;
    block.header.bits = rt.pow_limit_bits;
    while (!core::check_proof_of_work(block.hash(), block.header.bits, rt)) ++block.header.nonce;
    json::object blk;
    blk["name"] = "regtest block at height 1";
    blk["note"] =
        "format only: mined to its bits and its merkle root matches, but the second "
        "transaction spends coins that do not exist";
    blk["hex"] = util::to_hex(block.encode());
    blk["header"] = header_fields(block.header);
    blk["id"] = block.hash().to_hex();
    json::array txids;
    for (const auto& tx : block.txs) txids.push_back(json::string(tx.txid().to_hex()));
    blk["txids"] = std::move(txids);
    json::array blocks;
    blocks.push_back(std::move(blk));

    // Bytes that no transaction decoder may accept.
    const util::Bytes good = two_input_tx().encode();
    util::Bytes trailing = good;
    trailing.push_back(0);
    util::Bytes truncated(good.begin(), good.end() - 1);
    util::Bytes long_count = {0x01, 0, 0, 0, 0xfd, 0x02, 0x00};  // 2 inputs, non-canonical
    long_count.insert(long_count.end(), good.begin() + 5, good.end());
    util::Bytes too_many = {0x01, 0, 0, 0, 0x03};  // 3 inputs, bytes for 2
    too_many.insert(too_many.end(), good.begin() + 5, good.end());
    json::array bad_txs;
    auto add_bad = [&](const char* name, const util::Bytes& raw) {
        NODE_ASSERT(!core::decode_transaction(raw));
        json::object o;
        o["name"] = name;
        o["hex"] = util::to_hex(raw);
        bad_txs.push_back(std::move(o));
    };
    add_bad("trailing byte after a valid transaction", trailing);
    add_bad("last byte missing", truncated);
    add_bad("input count 2 written as fd0200 (not the shortest form)", long_count);
    add_bad("input count 3 with bytes for 2", too_many);
    json::array bad_headers;
    const auto header = dev.genesis.header.encode();
    const util::Bytes short_header(header.begin(), header.end() - 1);
    util::Bytes long_header(header.begin(), header.end());
    long_header.push_back(0);
    for (const util::Bytes& raw : std::vector<util::Bytes>{short_header, long_header}) {
        NODE_ASSERT(!core::decode_header(raw));
        bad_headers.push_back(json::string(util::to_hex(raw)));
    }

    json::object root;
    root["about"] =
        "Byte layouts of docs/PROTOCOL.md 1.1-1.3: compact_size, headers, transactions (with "
        "the bytes their txid hashes), a block, and bytes a decoder must refuse.";
    root["compact_size"] = std::move(compact);
    root["compact_size_refused"] = std::move(refused);
    root["headers"] = std::move(headers);
    root["transactions"] = std::move(txs);
    root["same_txid"] = std::move(same_txid);
    root["blocks"] = std::move(blocks);
    root["undecodable_transactions"] = std::move(bad_txs);
    root["undecodable_headers"] = std::move(bad_headers);
    return root;
}

json::value merkle_vectors() {
    // A pool of nine transactions; tree n commits to the first n.
    std::vector<Transaction> pool;
    pool.push_back(
        core::make_coinbase(7, 50 * core::kCoin, named_key("miner"), text_bytes("merkle"), 0));
    for (int k = 1; k < 9; ++k) {
        const std::string name = "merkle " + std::to_string(k);
        Transaction tx;
        tx.inputs.resize(1);
        tx.inputs[0].prevout = core::OutPoint{named_hash(name), static_cast<std::uint32_t>(k)};
        tx.inputs[0].signature = pattern_signature(name);
        tx.outputs = {core::TxOut{k * 1000, named_key(name)}};
        pool.push_back(std::move(tx));
    }
    json::array txs;
    for (const auto& tx : pool) {
        json::object o;
        o["hex"] = util::to_hex(tx.encode());
        o["txid"] = tx.txid().to_hex();
        o["leaf"] = tx.leaf_hash().to_hex();
        txs.push_back(std::move(o));
    }
    json::array trees;
    for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9}) {
        std::vector<core::Uint256> level;
        for (std::size_t i = 0; i < n; ++i) level.push_back(pool[i].leaf_hash());
        json::array levels;
        // Each level from the code: a pair is the root of the two-leaf tree; an odd last
        // hash is carried up as it is.
        while (true) {
            json::array row;
            for (const auto& h : level) row.push_back(json::string(h.to_hex()));
            levels.push_back(std::move(row));
            if (level.size() == 1) break;
            std::vector<core::Uint256> up;
            for (std::size_t i = 0; i + 1 < level.size(); i += 2)
                up.push_back(core::merkle_root({level[i], level[i + 1]}));
            if (level.size() % 2 == 1) up.push_back(level.back());
            level = std::move(up);
        }
        std::vector<core::Uint256> leaves;
        for (std::size_t i = 0; i < n; ++i) leaves.push_back(pool[i].leaf_hash());
        const core::Uint256 root = core::merkle_root(leaves);
        NODE_ASSERT(root == level[0]);
        json::object o;
        o["count"] = n;
        o["levels"] = std::move(levels);
        o["root"] = root.to_hex();
        trees.push_back(std::move(o));
    }
    json::object root;
    root["about"] =
        "Merkle trees of docs/PROTOCOL.md 1.4 over the first `count` transactions of "
        "`transactions`; levels[0] are the leaves, the last level is the root.";
    root["transactions"] = std::move(txs);
    root["trees"] = std::move(trees);
    return root;
}

}  // namespace peerchain::conformance
