// peerchain-conformance-rejects: writes the rejects half of the conformance suite
// (tests/conformance/rejects.json, described in rejects.md): a deterministic regtest base
// chain, then one crafted header, block or transaction per reject token of
// docs/reject-reasons.md, each breaking one rule and otherwise valid.
//
// Everything is built with the node's own code (core's types, merkle, proof of work and
// sighash, crypto's BIP340 signing with fixed auxiliary bytes), so the same build always
// writes the same file. It only builds: conformance_rejects_tests (rejects_test.cpp)
// replays the file through the real Chainstate and Mempool and checks every expectation.
//
// Usage: peerchain-conformance-rejects <path of rejects.json>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "core/block.hpp"
#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"
#include "crypto/sha256.hpp"
#include "tests/util/block_builder.hpp"

namespace peerchain::conformance {
namespace {

namespace json = boost::json;
using core::Amount;
using core::Block;
using core::BlockHeader;
using core::OutPoint;
using core::Transaction;
using core::TxIn;
using core::TxOut;
using core::Uint256;

const core::Params& net() { return core::params(core::Network::kRegtest); }

// The base chain: block h has time genesis + 10 h; the clock of every case is the time a
// block at kTipHeight + 1 would carry.
constexpr std::uint32_t kTipHeight = 110;
constexpr std::uint32_t kSpacing = 10;
// Block 101 (the first height where block 1's coinbase is mature) splits that coinbase
// into kSplitOutputs confirmed outputs of one coin each, which the cases spend.
constexpr std::uint32_t kSplitHeight = 101;
constexpr std::uint32_t kSplitOutputs = 50;
// Coinbases of heights up to 11 are mature at height 111; 12 is the first that is not.
constexpr std::uint32_t kImmatureHeight = 12;

std::uint32_t block_time(std::uint32_t height) {
    return net().genesis.header.time + kSpacing * height;
}
std::int64_t now() { return block_time(kTipHeight + 1); }

crypto::SecretKey key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0xc0;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}
const crypto::SecretKey& key_a() {
    static const crypto::SecretKey k = key(1);
    return k;
}
const crypto::SecretKey& key_b() {
    static const crypto::SecretKey k = key(2);
    return k;
}

// Deterministic BIP340 signatures: the auxiliary bytes are all zero.
void sign(Transaction& tx, const std::vector<TxOut>& spent, const crypto::SecretKey& k) {
    const core::SignatureHasher hasher(tx, spent, net());
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        tx.inputs[i].signature = k.sign(hasher.for_input(i), std::array<std::uint8_t, 32>{});
    }
}

struct Coin {
    OutPoint outpoint;
    TxOut out;
};

// A transaction spending `coins` (all of key A) to `outputs`, signed.
Transaction spend(const std::vector<Coin>& coins, std::vector<TxOut> outputs,
                  const crypto::SecretKey& k = key_a()) {
    Transaction tx;
    std::vector<TxOut> spent;
    for (const Coin& c : coins) {
        tx.inputs.push_back(TxIn{c.outpoint, {}});
        spent.push_back(c.out);
    }
    tx.outputs = std::move(outputs);
    sign(tx, spent, k);
    return tx;
}

TxOut to_a(Amount amount) { return TxOut{amount, key_a().public_key()}; }
TxOut to_b(Amount amount) { return TxOut{amount, key_b().public_key()}; }

Coin output_of(const Transaction& tx, std::uint32_t index) {
    return {OutPoint{tx.txid(), index}, tx.outputs.at(index)};
}

Block make_block(const Uint256& prev, std::uint32_t height, std::uint32_t time,
                 std::vector<Transaction> txs, const std::string& data, Amount extra = 0) {
    Block b;
    b.header.prev_hash = prev;
    b.header.time = time;
    b.header.bits = net().pow_limit_bits;
    b.txs.push_back(core::make_coinbase(height, core::block_subsidy(height, net()) + extra,
                                        key_a().public_key(),
                                        util::Bytes(data.begin(), data.end())));
    for (auto& tx : txs) b.txs.push_back(std::move(tx));
    testutil::fix_merkle(b);
    testutil::mine(b, net());
    return b;
}

// Byte strings as lowercase hex, where "[<hex>*<n>]" stands for the bytes <hex> repeated n
// times: the few vectors over the size limits are mostly one byte or one output repeated.
std::string to_hex_runs(const util::Bytes& bytes) {
    constexpr std::size_t kMinRun = 256;  // bytes a run must cover to be written as one
    constexpr std::size_t kMaxUnit = 64;
    std::string out;
    std::size_t i = 0;
    while (i < bytes.size()) {
        bool ran = false;
        for (std::size_t unit = 1; unit <= kMaxUnit && i + 2 * unit <= bytes.size(); ++unit) {
            std::size_t reps = 1;
            while (i + (reps + 1) * unit <= bytes.size() &&
                   std::equal(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                              bytes.begin() + static_cast<std::ptrdiff_t>(i + unit),
                              bytes.begin() + static_cast<std::ptrdiff_t>(i + reps * unit))) {
                ++reps;
            }
            if (reps >= 2 && reps * unit >= kMinRun) {
                out += "[" + util::to_hex(util::ByteSpan(bytes.data() + i, unit)) + "*" +
                       std::to_string(reps) + "]";
                i += reps * unit;
                ran = true;
                break;
            }
        }
        if (!ran) {
            out += util::to_hex(util::ByteSpan(bytes.data() + i, 1));
            ++i;
        }
    }
    return out;
}

std::string header_hex(const BlockHeader& h) {
    const auto bytes = h.encode();
    return util::to_hex(util::ByteSpan(bytes.data(), bytes.size()));
}

json::object keys_json() {
    json::object out;
    for (const auto& [name, k] :
         {std::pair<std::string, const crypto::SecretKey*>{"A", &key_a()}, {"B", &key_b()}}) {
        const auto pub = k->public_key();
        out[name] = json::object{
            {"secret", util::to_hex(util::ByteSpan(k->bytes().data(), k->bytes().size()))},
            {"public", util::to_hex(util::ByteSpan(pub.data(), pub.size()))}};
    }
    return out;
}

class Writer {
  public:
    // The base chain, built once: coinbases to key A, and block 101 splitting block 1's
    // coinbase.
    Writer() {
        Uint256 prev = net().genesis_hash;
        for (std::uint32_t h = 1; h <= kTipHeight; ++h) {
            std::vector<Transaction> txs;
            if (h == kSplitHeight) {
                std::vector<TxOut> outs(kSplitOutputs, to_a(core::kCoin));
                split_ = spend({coinbase(1)}, outs);
                txs.push_back(split_);
            }
            base_.push_back(make_block(prev, h, block_time(h), std::move(txs), ""));
            prev = base_.back().hash();
        }
    }

    Coin coinbase(std::uint32_t height) const { return output_of(base_.at(height - 1).txs[0], 0); }
    // Split output `n`: confirmed, mature, one coin of key A.
    Coin split(std::uint32_t n) const { return output_of(split_, n); }
    const Transaction& split_tx() const { return split_; }
    const Block& tip() const { return base_.back(); }

    // A block at the next height on the tip, its coinbase tagged with `label` so that
    // every case's block differs from every other's.
    Block next_block(const std::string& label, std::vector<Transaction> txs,
                     Amount extra = 0) const {
        return make_block(tip().hash(), kTipHeight + 1, static_cast<std::uint32_t>(now()),
                          std::move(txs), "conformance " + label, extra);
    }

    json::object header_case(const std::string& token, const std::string& cls, const BlockHeader& h,
                             std::uint32_t height, const std::string& description) {
        json::object c = base_case(token, cls, "header", description);
        c["parent"] = h.prev_hash.to_hex();
        c["height"] = height;
        c["hex"] = header_hex(h);
        c["id"] = h.hash().to_hex();
        return c;
    }
    json::object block_case(const std::string& token, const std::string& cls, const Block& b,
                            std::uint32_t height, const std::string& description,
                            const std::string& kind = "block") {
        json::object c = base_case(token, cls, kind, description);
        c["parent"] = b.header.prev_hash.to_hex();
        c["height"] = height;
        c["hex"] = to_hex_runs(b.encode());
        c["id"] = b.hash().to_hex();
        return c;
    }
    // A crafted transaction alone in a block on the tip (after the coinbase).
    json::object tx_block_case(const std::string& token, const Transaction& tx,
                               const std::string& description) {
        const Block b = next_block(token + " in a block", {tx});
        json::object c =
            block_case(token, "invalid", b, kTipHeight + 1, description, "tx-in-block");
        c["tx_index"] = 1;
        return c;
    }
    json::object pool_case(const std::string& token, const std::string& cls, const Transaction& tx,
                           const std::string& description) {
        json::object c = base_case(token, cls, "mempool-tx", description);
        c["parent"] = tip().hash().to_hex();
        c["height"] = kTipHeight + 1;
        c["hex"] = to_hex_runs(tx.encode());
        c["id"] = tx.txid().to_hex();
        return c;
    }
    static json::object setup_block(const Block& b, const std::string& expect) {
        return {{"kind", "block"},
                {"hex", to_hex_runs(b.encode())},
                {"id", b.hash().to_hex()},
                {"expect", expect}};
    }
    static json::object setup_tx(const Transaction& tx) {
        return {{"kind", "mempool-tx"},
                {"hex", to_hex_runs(tx.encode())},
                {"id", tx.txid().to_hex()},
                {"expect", "ok"}};
    }

    void add(json::object c) { cases_.push_back(std::move(c)); }

    json::object document() const {
        json::array blocks;
        for (const Block& b : base_) blocks.push_back(json::string(to_hex_runs(b.encode())));
        json::object base{{"description",
                           "regtest blocks 1 to 110 on the genesis block; block h has time "
                           "genesis time + 10 h and a coinbase paying the subsidy to key A "
                           "(data empty); block 101 also holds a transaction splitting block "
                           "1's coinbase into 50 outputs of one coin to key A"},
                          {"blocks", std::move(blocks)},
                          {"tip_height", kTipHeight},
                          {"tip_hash", tip().hash().to_hex()},
                          {"split_txid", split_.txid().to_hex()}};
        const core::Params& p = net();
        return {
            {"description",
             "peerchain reject vectors: every reject token of docs/reject-reasons.md with a "
             "header, block or transaction that breaks that one rule (see rejects.md). Written "
             "by peerchain-conformance-rejects; do not edit by hand."},
            {"format", 1},
            {"network", "regtest"},
            {"genesis_hash", p.genesis_hash.to_hex()},
            {"now", now()},
            {"hex", "lowercase hex; \"[<hex>*<n>]\" stands for the bytes <hex> repeated n times"},
            {"keys", keys_json()},
            {"signing",
             "BIP340 over the message of core/sighash.hpp, auxiliary randomness 32 zero bytes"},
            {"pool_options",
             {{"max_bytes", 64u << 20},
              {"min_fee_rate", 1},
              {"max_ancestors", 25},
              {"max_descendants", 25}}},
            {"base_chain", std::move(base)},
            {"cases", cases_}};
    }

  private:
    static json::object base_case(const std::string& token, const std::string& cls,
                                  const std::string& kind, const std::string& description) {
        return {{"token", token}, {"class", cls}, {"kind", kind}, {"description", description}};
    }

    std::vector<Block> base_;
    Transaction split_;
    json::array cases_;
};

BlockHeader next_header(const Writer& w) {
    BlockHeader h;
    h.prev_hash = w.tip().hash();
    h.merkle_root = core::block_merkle_root(w.next_block("header", {}));
    h.time = static_cast<std::uint32_t>(now());
    h.bits = net().pow_limit_bits;
    return h;
}

// Searches nonces until the hash meets the target of `target_bits` (the header's own bits
// unless given: a header with bits that do not decode still gets a hash that would pass).
void mine(BlockHeader& h, std::uint32_t target_bits = 0) {
    if (target_bits == 0) target_bits = h.bits;
    for (h.nonce = 0; !core::check_proof_of_work(h.hash(), target_bits, net()); ++h.nonce) {
    }
}

void header_cases(Writer& w) {
    const std::uint32_t height = kTipHeight + 1;
    {
        BlockHeader h = next_header(w);
        h.version = 2;
        mine(h);
        w.add(w.header_case("bad-version", "invalid", h, height,
                            "version 2; only 1 is valid (PROTOCOL.md 1.1)"));
    }
    {
        Block b;
        b.header = next_header(w);
        testutil::unmine(b, net());
        w.add(w.header_case("high-hash", "invalid", b.header, height,
                            "the header's hash is above the target of its bits"));
    }
    {
        BlockHeader h = next_header(w);
        h.bits = 0x2100ffff;  // decodes to a target above the regtest limit
        mine(h, net().pow_limit_bits);
        w.add(w.header_case("bad-diffbits", "invalid", h, height,
                            "bits 0x2100ffff encode a target easier than the regtest limit "
                            "0x207fffff (the hash meets even the limit)"));
    }
    {
        BlockHeader h = next_header(w);
        h.bits = 0x1f7fffff;  // a valid, harder target that regtest does not ask for
        mine(h);
        w.add(w.header_case("bad-diffbits", "invalid", h, height,
                            "bits 0x1f7fffff, a valid target (met by the hash) but not the "
                            "bits the difficulty rule requires (regtest: always 0x207fffff)"));
    }
    {
        BlockHeader h = next_header(w);
        // The median time of blocks 100 to 110 is block 105's; regtest needs time >= it.
        h.time = block_time(kTipHeight - 5) - 1;
        mine(h);
        w.add(w.header_case("time-too-old", "invalid", h, height,
                            "time one second below the median time of the last 11 blocks "
                            "(block 105's time; regtest's min_time_above_median is 0)"));
    }
    {
        BlockHeader h = next_header(w);
        h.time = static_cast<std::uint32_t>(now() + net().max_future_drift + 1);
        mine(h);
        w.add(w.header_case("time-too-new", "future", h, height,
                            "time now + 121 s: one second past max_future_drift (120 s)"));
    }
    {
        BlockHeader h = next_header(w);
        const std::string unknown = "no such block";
        h.prev_hash = Uint256(crypto::sha256d(
            util::ByteSpan(reinterpret_cast<const std::uint8_t*>(unknown.data()), unknown.size())));
        mine(h);
        json::object c = w.header_case("prev-blk-not-found", "missing", h, height,
                                       "the parent is sha256d(\"no such block\"), unknown");
        c["height"] = nullptr;
        w.add(std::move(c));
    }
    {
        // A block on the tip that fails while connecting marks itself failed; a header on it
        // then names an invalid parent.
        const Block bad = w.next_block("bad-prevblk parent", {}, 1);
        BlockHeader h;
        h.prev_hash = bad.hash();
        h.merkle_root = bad.header.merkle_root;
        h.time = bad.header.time + kSpacing;
        h.bits = net().pow_limit_bits;
        mine(h);
        json::object c = w.header_case("bad-prevblk", "invalid", h, height + 1,
                                       "the parent is a block that was refused (its coinbase "
                                       "pays one base unit too many) and marked invalid");
        c["setup"] = json::array{Writer::setup_block(bad, "bad-cb-amount")};
        w.add(std::move(c));
    }
    w.add(w.header_case("duplicate", "duplicate", w.tip().header, kTipHeight,
                        "the header of the base chain's tip, already in the tree"));
    {
        // A block whose transactions do not match its header may be a valid block mutated
        // on the way: its header stays in the tree as a valid one.
        const Block whole = w.next_block("duplicate after a mutated block",
                                         {spend({w.split(5)}, {to_a(core::kCoin - 1000)})});
        Block mutated = whole;
        mutated.txs.pop_back();
        json::object c = w.header_case("duplicate", "duplicate", whole.header, height,
                                       "the header of a block that came before without its "
                                       "second transaction (bad-merkle-root): the header was "
                                       "kept as valid, not marked invalid");
        c["setup"] = json::array{Writer::setup_block(mutated, "bad-merkle-root")};
        w.add(std::move(c));
    }
    {
        const Block bad = w.next_block("duplicate-invalid header", {}, 1);
        json::object c = w.header_case("duplicate-invalid", "invalid", bad.header, height,
                                       "the header of a block refused before (its coinbase "
                                       "pays one base unit too many), sent again");
        c["setup"] = json::array{Writer::setup_block(bad, "bad-cb-amount")};
        w.add(std::move(c));
    }
    {
        const Block bad = w.next_block("duplicate-invalid block", {}, 1);
        json::object c = w.block_case("duplicate-invalid", "invalid", bad, height,
                                      "a block refused before (its coinbase pays one base unit "
                                      "too many), sent again");
        c["setup"] = json::array{Writer::setup_block(bad, "bad-cb-amount")};
        w.add(std::move(c));
    }
}

void block_cases(Writer& w) {
    const std::uint32_t height = kTipHeight + 1;
    {
        // A chain of valid transactions, each carrying the most data allowed, until the
        // block is over the limit.
        std::vector<Transaction> txs;
        Coin c = w.split(0);
        while (true) {
            Transaction tx;
            tx.inputs.push_back(TxIn{c.outpoint, {}});
            tx.outputs.push_back(to_a(c.out.amount));
            tx.data.assign(net().max_data_size, 0);
            sign(tx, {c.out}, key_a());
            c = output_of(tx, 0);
            txs.push_back(std::move(tx));
            if (w.next_block("size probe", txs).serialized_size() > net().max_block_size) break;
        }
        const Block b = w.next_block("bad-blk-length", txs);
        w.add(w.block_case("bad-blk-length", "invalid", b, height,
                           "a valid chain of " + std::to_string(txs.size()) +
                               " transactions each carrying 65,536 bytes of data: the block "
                               "is " +
                               std::to_string(b.serialized_size()) +
                               " bytes, over max_block_size (1,000,000)"));
    }
    {
        Block b = w.next_block("bad-cb-missing", {spend({w.split(1)}, {to_a(core::kCoin)})});
        b.txs.erase(b.txs.begin());
        testutil::fix_merkle(b);
        testutil::mine(b, net());
        w.add(w.block_case("bad-cb-missing", "invalid", b, height,
                           "the only transaction is a valid spend, not a coinbase"));
    }
    {
        Block b = w.next_block("bad-cb-multiple", {});
        b.txs.push_back(core::make_coinbase(height, 0, key_a().public_key(),
                                            util::Bytes{'s', 'e', 'c', 'o', 'n', 'd'}));
        testutil::fix_merkle(b);
        testutil::mine(b, net());
        w.add(w.block_case("bad-cb-multiple", "invalid", b, height,
                           "a second coinbase (paying nothing) after the first"));
    }
    {
        const Transaction tx = spend({w.split(2)}, {to_a(core::kCoin)});
        const Block b = w.next_block("bad-txns-duplicate", {tx, tx});
        w.add(
            w.block_case("bad-txns-duplicate", "invalid", b, height, "the same valid spend twice"));
    }
    {
        Block b = w.next_block("bad-merkle-root", {spend({w.split(3)}, {to_a(core::kCoin)})});
        b.header.merkle_root = core::block_merkle_root(w.next_block("bad-merkle-root", {}));
        testutil::mine(b, net());
        w.add(w.block_case("bad-merkle-root", "invalid", b, height,
                           "a valid block whose header commits to its coinbase alone, leaving "
                           "out its second transaction (the header is not marked invalid)"));
    }
    {
        Block b = w.next_block("bad-cb-height", {});
        b.txs[0].inputs[0].prevout.index = height + 1;
        testutil::fix_merkle(b);
        testutil::mine(b, net());
        w.add(w.block_case("bad-cb-height", "invalid", b, height,
                           "the coinbase's prev_index is 112, not the block's height 111"));
    }
    {
        const Transaction tx = spend({w.split(4)}, {to_a(core::kCoin - 1000)});
        const Block b = w.next_block("bad-cb-amount", {tx}, 1000 + 1);
        w.add(w.block_case("bad-cb-amount", "invalid", b, height,
                           "the coinbase pays the subsidy plus the block's fees (1,000) plus "
                           "one base unit"));
    }
    {
        Block b = w.next_block("bad-txns-version coinbase", {});
        b.txs[0].version = 2;
        testutil::fix_merkle(b);
        testutil::mine(b, net());
        w.add(w.block_case("bad-txns-version", "invalid", b, height,
                           "the coinbase has version 2 (PROTOCOL.md 1.2)"));
    }
    {
        Block b = w.next_block("bad-txns-locktime coinbase", {});
        b.txs[0].lock_time = 1;
        testutil::fix_merkle(b);
        testutil::mine(b, net());
        w.add(w.block_case("bad-txns-locktime", "invalid", b, height,
                           "the coinbase has lock_time 1 (PROTOCOL.md 1.2)"));
    }
}

// A crafted transaction, in a block and alone to the pool, with the token both report.
// `pool_detail`, when given, is text docs/reject-reasons.md says the pool's detail holds.
void both(Writer& w, const std::string& token, const Transaction& tx,
          const std::string& description, const std::string& pool_class = "invalid",
          const std::string& pool_detail = "") {
    w.add(w.tx_block_case(token, tx, description));
    json::object c = w.pool_case(token, pool_class, tx, description);
    if (!pool_detail.empty()) c["detail"] = pool_detail;
    w.add(std::move(c));
}

void transaction_cases(Writer& w) {
    constexpr Amount kFee = 1000;
    {
        Transaction tx;
        tx.version = 2;
        tx.inputs.push_back(TxIn{w.split(10).outpoint, {}});
        tx.outputs.push_back(to_a(core::kCoin - kFee));
        sign(tx, {w.split(10).out}, key_a());
        both(w, "bad-txns-version", tx, "a signed spend with version 2 (PROTOCOL.md 1.2)");
    }
    {
        Transaction tx;
        tx.lock_time = 1;
        tx.inputs.push_back(TxIn{w.split(11).outpoint, {}});
        tx.outputs.push_back(to_a(core::kCoin - kFee));
        sign(tx, {w.split(11).out}, key_a());
        both(w, "bad-txns-locktime", tx, "a signed spend with lock_time 1 (PROTOCOL.md 1.2)");
    }
    {
        Transaction tx;
        tx.outputs.push_back(to_a(core::kCoin));
        both(w, "bad-txns-vin-empty", tx, "no inputs, one output");
    }
    both(w, "bad-txns-vout-empty", spend({w.split(12)}, {}), "a signed spend with no outputs");
    {
        // The most data allowed, then outputs until the transaction is over the limit.
        Transaction tx;
        tx.inputs.push_back(TxIn{w.split(13).outpoint, {}});
        tx.data.assign(net().max_data_size, 0);
        while (tx.serialized_size() <= net().max_tx_size) tx.outputs.push_back(to_a(10'000));
        sign(tx, {w.split(13).out}, key_a());
        both(w, "bad-txns-oversize", tx,
             "a signed spend of " + std::to_string(tx.serialized_size()) +
                 " bytes (65,536 bytes of data and " + std::to_string(tx.outputs.size()) +
                 " outputs), over max_tx_size (100,000)");
    }
    {
        Transaction tx;
        tx.inputs.push_back(TxIn{w.split(14).outpoint, {}});
        tx.outputs.push_back(to_a(core::kCoin - 100'000));
        tx.data.assign(net().max_data_size + 1, 0);
        sign(tx, {w.split(14).out}, key_a());
        both(w, "bad-txns-data-oversize", tx,
             "a signed spend carrying 65,537 bytes of data, one over max_data_size");
    }
    both(w, "bad-txns-vout-negative", spend({w.split(15)}, {to_a(-1)}),
         "a signed spend whose one output is -1");
    both(w, "bad-txns-vout-toolarge", spend({w.split(16)}, {to_a(core::kMaxMoney + 1)}),
         "a signed spend whose one output is 21,000,000 coins plus one base unit");
    both(w, "bad-txns-txouttotal-toolarge", spend({w.split(17)}, {to_a(core::kMaxMoney), to_a(1)}),
         "a signed spend whose outputs (21,000,000 coins and one base unit) are each in range "
         "but add up past it");
    both(w, "bad-txns-inputs-duplicate",
         spend({w.split(18), w.split(18)}, {to_a(2 * core::kCoin - kFee)}),
         "a signed spend naming the same outpoint in both inputs");
    {
        Transaction tx;
        tx.inputs.push_back(TxIn{w.split(19).outpoint, {}});
        tx.inputs.push_back(TxIn{OutPoint{Uint256(), 0}, {}});
        tx.outputs.push_back(to_a(core::kCoin - kFee));
        // Input 0 signed as if input 1 spent an empty output: the rule is context-free.
        sign(tx, {w.split(19).out, TxOut{}}, key_a());
        tx.inputs[1].signature = {};
        both(w, "bad-txns-prevout-null", tx,
             "a spend whose second input has the null outpoint (txid zero)");
    }
    {
        const std::string unknown = "no such transaction";
        const Coin missing{
            OutPoint{Uint256(crypto::sha256d(util::ByteSpan(
                         reinterpret_cast<const std::uint8_t*>(unknown.data()), unknown.size()))),
                     0},
            to_a(core::kCoin)};
        both(w, "bad-txns-inputs-missingorspent", spend({missing}, {to_a(core::kCoin - kFee)}),
             "a spend of output 0 of sha256d(\"no such transaction\"), which does not exist",
             "missing", "not in the chain or the pool");
        both(w, "bad-txns-inputs-missingorspent",
             spend({w.coinbase(1)}, {to_a(50 * core::kCoin - kFee)}),
             "a spend of block 1's coinbase, already spent by the split transaction of block 101",
             "missing", "already spent in the chain (double spend)");
        const Transaction first = spend({w.split(20)}, {to_a(core::kCoin - kFee)});
        const Transaction second = spend({w.split(20)}, {to_a(core::kCoin - 2 * kFee)});
        const Block b = w.next_block("missingorspent twice", {first, second});
        json::object c =
            w.block_case("bad-txns-inputs-missingorspent", "invalid", b, kTipHeight + 1,
                         "two valid spends of the same output in one block: the second finds "
                         "it spent",
                         "tx-in-block");
        c["tx_index"] = 2;
        w.add(std::move(c));
    }
    both(w, "bad-txns-premature-spend-of-coinbase",
         spend({w.coinbase(kImmatureHeight)}, {to_a(50 * core::kCoin - kFee)}),
         "a spend of block 12's coinbase at height 111: 99 blocks deep, coinbase_maturity is 100",
         "policy");
    both(w, "bad-txns-in-belowout", spend({w.split(21)}, {to_a(core::kCoin + 1)}),
         "a signed spend of one coin paying one coin plus one base unit");
    both(w, "bad-txns-signature", spend({w.split(22)}, {to_a(core::kCoin - kFee)}, key_b()),
         "a spend of key A's output signed by key B");
}

void pool_cases(Writer& w) {
    constexpr Amount kFee = 1000;
    w.add(w.pool_case("coinbase", "invalid", w.tip().txs[0],
                      "the base chain tip's coinbase, sent as a transaction"));
    {
        const Transaction tx = spend({w.split(30)}, {to_a(core::kCoin - kFee)});
        json::object c = w.pool_case("txn-already-in-mempool", "duplicate", tx,
                                     "a valid spend sent again after the pool took it");
        c["setup"] = json::array{Writer::setup_tx(tx)};
        w.add(std::move(c));
    }
    w.add(w.pool_case("txn-already-known", "duplicate", w.split_tx(),
                      "the split transaction of block 101, already confirmed (its input is "
                      "spent, its outputs are in the chain)"));
    {
        const Transaction first = spend({w.split(31)}, {to_a(core::kCoin - kFee)});
        const Transaction second = spend({w.split(31)}, {to_b(core::kCoin - 2 * kFee)});
        json::object c = w.pool_case("txn-mempool-conflict", "policy", second,
                                     "a valid spend of an output a pool transaction already "
                                     "spends (first seen wins), paying more fee");
        c["detail"] = "double spend";
        c["setup"] = json::array{Writer::setup_tx(first)};
        w.add(std::move(c));
    }
    {
        Transaction tx = spend({w.split(32)}, {to_a(core::kCoin)});
        const auto size = static_cast<Amount>(tx.serialized_size());
        tx = spend({w.split(32)}, {to_a(core::kCoin - (size - 1))});
        w.add(w.pool_case("min-fee-not-met", "policy", tx,
                          "a valid spend paying " + std::to_string(size - 1) + " for its " +
                              std::to_string(size) +
                              " bytes, one below min_fee_rate (1 per byte)"));
    }
    {
        json::array setup;
        Coin c = w.split(33);
        for (int i = 0; i < 26; ++i) {
            const Transaction tx = spend({c}, {to_a(c.out.amount - kFee)});
            setup.push_back(Writer::setup_tx(tx));
            c = output_of(tx, 0);
        }
        const Transaction tx = spend({c}, {to_a(c.out.amount - kFee)});
        json::object k = w.pool_case("too-long-mempool-chain", "policy", tx,
                                     "a valid spend of the last of a chain of 26 unconfirmed "
                                     "transactions: 26 ancestors, max_ancestors is 25");
        k["setup"] = std::move(setup);
        w.add(std::move(k));
    }
    {
        const Transaction rich = spend({w.split(34)}, {to_a(core::kCoin - 10 * kFee)});
        const Transaction poor = spend({w.split(35)}, {to_a(core::kCoin - kFee)});
        json::object c = w.pool_case("mempool-full", "policy", poor,
                                     "a valid spend paying 1,000 when the pool (max_bytes 200) "
                                     "holds one transaction paying 10,000 for the same size");
        c["setup"] = json::array{Writer::setup_tx(rich)};
        c["pool_options"] = json::object{{"max_bytes", 200}};
        w.add(std::move(c));
    }
}

// Writes `v` with two-space indents, one member or element a line, so that a changed
// vector shows as a changed line.
void pretty(std::ostream& os, const json::value& v, int indent = 0) {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    if (v.is_object()) {
        const auto& o = v.as_object();
        if (o.empty()) {
            os << "{}";
            return;
        }
        os << "{\n";
        bool first = true;
        for (const auto& m : o) {
            if (!first) os << ",\n";
            first = false;
            os << pad << json::serialize(json::string(m.key())) << ": ";
            pretty(os, m.value(), indent + 2);
        }
        os << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "}";
    } else if (v.is_array()) {
        const auto& a = v.as_array();
        if (a.empty()) {
            os << "[]";
            return;
        }
        os << "[\n";
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i != 0) os << ",\n";
            os << pad;
            pretty(os, a[i], indent + 2);
        }
        os << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "]";
    } else {
        os << json::serialize(v);
    }
}

}  // namespace
}  // namespace peerchain::conformance

int main(int argc, char** argv) {
    using namespace peerchain::conformance;
    if (argc != 2) {
        std::cerr << "usage: peerchain-conformance-rejects <path of rejects.json>\n";
        return 2;
    }
    Writer w;
    header_cases(w);
    block_cases(w);
    transaction_cases(w);
    pool_cases(w);
    std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
    pretty(out, w.document());
    out << "\n";
    out.close();
    if (!out) {
        std::cerr << "cannot write " << argv[1] << "\n";
        return 1;
    }
    return 0;
}
