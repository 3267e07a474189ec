// sighash.json and addresses.json (README.md has their schema).
#include <algorithm>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/params.hpp"
#include "core/serialize.hpp"
#include "core/sighash.hpp"
#include "crypto/bech32.hpp"
#include "tests/conformance/formats_vectors.hpp"

namespace peerchain::conformance {
namespace {

using core::Network;
using core::Transaction;
using core::TxOut;

// The message of docs/PROTOCOL.md 1.2 "Signature message", before the tagged hash, written
// from the text so that the test can show the code hashes exactly these bytes.
util::Bytes sighash_preimage(const Transaction& tx, const std::vector<TxOut>& spent,
                             const core::Params& p, std::uint32_t index) {
    // Not empty at first, as in core/sighash.cpp (GCC 12 -O3, bug 107852).
    util::Bytes out(p.magic.begin(), p.magic.end());
    core::Writer w(out);
    w.u32(tx.version);
    w.compact_size(tx.inputs.size());
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        w.hash(tx.inputs[i].prevout.txid);
        w.u32(tx.inputs[i].prevout.index);
        w.i64(spent[i].amount);
        w.bytes(spent[i].recipient);
    }
    w.compact_size(tx.outputs.size());
    for (const auto& o : tx.outputs) {
        w.i64(o.amount);
        w.bytes(o.recipient);
    }
    w.u32(tx.lock_time);
    w.var_bytes(tx.data);
    w.u32(index);
    return out;
}

// Signs every input of `tx` with the key named for it and records each step.
json::object sighash_case(const std::string& name, const std::string& note, Transaction tx,
                          const std::vector<std::string>& signers,
                          const std::vector<core::Amount>& amounts, const core::Params& p) {
    std::vector<TxOut> spent;
    for (std::size_t i = 0; i < signers.size(); ++i)
        spent.push_back(TxOut{amounts[i], named_key(signers[i])});
    const core::SignatureHasher hasher(tx, spent, p);
    json::array inputs;
    for (std::uint32_t i = 0; i < tx.inputs.size(); ++i) {
        const crypto::SecretKey key = named_secret(signers[i]);
        const auto aux = named_hash("peerchain conformance aux " + name + " " + std::to_string(i));
        const crypto::Digest sighash = hasher.for_input(i);
        tx.inputs[i].signature = key.sign(sighash, aux.bytes());
        const util::Bytes preimage = sighash_preimage(tx, spent, p, i);
        NODE_ASSERT(crypto::tagged_hash("peerchain/sighash", preimage) == sighash);
        json::object o;
        o["index"] = i;
        o["secret_key"] = util::to_hex(key.bytes());
        o["public_key"] = util::to_hex(key.public_key());
        o["aux"] = util::to_hex(aux.span());
        o["preimage"] = util::to_hex(preimage);
        o["sighash"] = util::to_hex(sighash);
        o["signature"] = util::to_hex(tx.inputs[i].signature);
        inputs.push_back(std::move(o));
    }
    for (std::size_t i = 0; i < tx.inputs.size(); ++i)
        NODE_ASSERT(core::verify_input(tx, i, spent, p));
    json::array spent_json;
    for (const auto& out : spent) {
        json::object o;
        o["amount"] = out.amount;
        o["recipient"] = util::to_hex(out.recipient);
        spent_json.push_back(std::move(o));
    }
    json::object o;
    o["name"] = name;
    o["note"] = note;
    o["network"] = p.name;
    o["tx_hex"] = util::to_hex(tx.encode());
    o["txid"] = tx.txid().to_hex();
    o["spent"] = std::move(spent_json);
    o["inputs"] = std::move(inputs);
    return o;
}

Transaction payment() {
    Transaction tx;
    tx.inputs.resize(2);
    tx.inputs[0].prevout = core::OutPoint{named_hash("sighash funding 1"), 0};
    tx.inputs[1].prevout = core::OutPoint{named_hash("sighash funding 2"), 1};
    tx.outputs = {TxOut{4 * core::kCoin, named_key("bob")},
                  TxOut{core::kCoin - 10'000, named_key("alice")}};
    tx.data = {'p', 'a', 'y'};
    return tx;
}

json::object address_case(const std::string& note, const core::Params& p, const core::XOnlyKey& key,
                          bool upper) {
    std::string address = core::encode_address(key, p);
    if (upper) {
        std::transform(address.begin(), address.end(), address.begin(), [](char c) {
            return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        });
    }
    NODE_ASSERT(core::decode_address(address, p) && *core::decode_address(address, p) == key);
    json::object o;
    o["network"] = p.name;
    o["key"] = util::to_hex(key);
    o["address"] = address;
    o["note"] = note;
    return o;
}

}  // namespace

json::value sighash_vectors() {
    const core::Params& dev = core::params(Network::kDev);
    const core::Params& rt = core::params(Network::kRegtest);
    json::array cases;
    const std::vector<core::Amount> two = {3 * core::kCoin, 2 * core::kCoin};
    cases.push_back(sighash_case("payment on dev", "two inputs of one key, two outputs, data",
                                 payment(), {"alice", "alice"}, two, dev));
    cases.push_back(sighash_case("payment on regtest",
                                 "the same transaction and coins as \"payment on dev\": only the "
                                 "magic differs, so every sighash and signature does",
                                 payment(), {"alice", "alice"}, two, rt));
    Transaction three;
    three.inputs.resize(3);
    for (std::uint32_t i = 0; i < 3; ++i) {
        three.inputs[i].prevout =
            core::OutPoint{named_hash("sighash funding 3"), static_cast<std::uint32_t>(i * 7)};
    }
    three.outputs = {TxOut{1, named_key("carol")}, TxOut{2 * core::kCoin, named_key("dave")},
                     TxOut{0, named_key("erin")}};
    cases.push_back(sighash_case(
        "three inputs, two keys", "inputs signed by bob, carol, bob; no data; three outputs", three,
        {"bob", "carol", "bob"}, {core::kCoin, 5 * core::kCoin, 123'456}, rt));
    json::object root;
    root["about"] =
        "Signature messages of docs/PROTOCOL.md 1.2 and their BIP340 signatures: preimage is "
        "the message before tagged_hash(\"peerchain/sighash\", .), sighash the 32 bytes signed, "
        "aux the BIP340 auxiliary randomness used.";
    root["cases"] = std::move(cases);
    return root;
}

json::value address_vectors() {
    const core::Params& dev = core::params(Network::kDev);
    const core::Params& rt = core::params(Network::kRegtest);
    auto key_from_hex = [](const char* hex) {
        auto b = util::from_hex(hex);
        NODE_ASSERT(b && b->size() == 32);
        core::XOnlyKey k;
        std::copy(b->begin(), b->end(), k.begin());
        return k;
    };
    // The public key of BIP340 test vector 1, the example of docs/PROTOCOL.md 1.9.
    const core::XOnlyKey bip340 =
        key_from_hex("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659");
    // A key whose first byte is zero, so that its address starts with 'q' groups.
    core::XOnlyKey leading_zero{};
    for (int i = 0; leading_zero[0] != 0 || i == 0; ++i)
        leading_zero = named_key("leading zero " + std::to_string(i));

    json::array valid;
    for (const core::Params* p : {&dev, &rt}) {
        valid.push_back(address_case("BIP340 vector 1 key (PROTOCOL.md 1.9)", *p, bip340, false));
        valid.push_back(address_case("key of 'alice'", *p, named_key("alice"), false));
        valid.push_back(address_case("key with a leading zero byte", *p, leading_zero, false));
        valid.push_back(
            address_case("all upper case: accepted (BIP173 allows one case)", *p, bip340, true));
    }

    json::array invalid;
    auto add = [&](const char* reason, const core::Params& p, const std::string& address) {
        auto r = core::decode_address(address, p);
        NODE_ASSERT(!r);
        json::object o;
        o["network"] = p.name;
        o["address"] = address;
        o["reason"] = reason;
        o["message"] = r.error().message;
        invalid.push_back(std::move(o));
    };
    using crypto::Bech32Encoding;
    const auto groups = crypto::bytes_to_groups(bip340);
    const std::string good = core::encode_address(bip340, dev);
    add("wrong-network", dev, core::encode_address(bip340, rt));
    add("wrong-network", rt, good);
    add("unknown-prefix", dev, crypto::bech32_encode(Bech32Encoding::kBech32m, "bc", groups));
    add("bech32-checksum", dev, crypto::bech32_encode(Bech32Encoding::kBech32, "pc", groups));
    std::string mixed = good;
    mixed[20] = static_cast<char>(mixed[20] - 32);
    add("mixed-case", dev, mixed);
    std::string mixed_hrp = good;
    mixed_hrp[0] = 'P';
    add("mixed-case", dev, mixed_hrp);
    auto shorter = groups;
    shorter.pop_back();
    add("wrong-length", dev, crypto::bech32_encode(Bech32Encoding::kBech32m, "pc", shorter));
    auto longer = groups;
    longer.push_back(0);
    add("wrong-length", dev, crypto::bech32_encode(Bech32Encoding::kBech32m, "pc", longer));
    add("wrong-length", dev, crypto::bech32_encode(Bech32Encoding::kBech32m, "pc", {}));
    auto padded = groups;
    padded.back() |= 1;
    add("non-zero-padding", dev, crypto::bech32_encode(Bech32Encoding::kBech32m, "pc", padded));
    // BIP340 test vector 5's public key: not the x coordinate of a curve point.
    const core::XOnlyKey off =
        key_from_hex("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34");
    add("not-on-curve", dev, core::encode_address(off, dev));
    add("not-on-curve", rt, core::encode_address(off, rt));
    std::string bad_char = good;
    bad_char[30] = 'b';  // b, i, o and 1 are not in the charset
    add("bad-character", dev, bad_char);
    std::string bad_sum = good;
    bad_sum[10] = bad_sum[10] == 'q' ? 'p' : 'q';
    add("bad-checksum", dev, bad_sum);
    std::string bad_last = good;
    bad_last.back() = bad_last.back() == 'q' ? 'p' : 'q';
    add("bad-checksum", dev, bad_last);
    add("too-long", dev, good + std::string(30, 'q'));
    add("no-separator", dev, good.substr(0, 2) + good.substr(3));
    add("character-out-of-range", dev, good.substr(0, 20) + " " + good.substr(21));
    add("no-separator", dev, "");

    json::object root;
    root["about"] =
        "Addresses of docs/PROTOCOL.md 1.9. Every valid one decodes to its key; every "
        "lower-case one is what encoding the key gives. Every invalid one must be refused; "
        "`message` is peerchain's text, informative only.";
    root["valid"] = std::move(valid);
    root["invalid"] = std::move(invalid);
    return root;
}

}  // namespace peerchain::conformance
