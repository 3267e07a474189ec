// The node against pow.json, asert.json, sighash.json and addresses.json of
// tests/conformance (README.md); formats_test.cpp has the others.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/address.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"
#include "crypto/sha256.hpp"
#include "tests/conformance/formats_json.hpp"

namespace peerchain::conformance {
namespace {

json::value load(const char* name) { return read_vectors(PEERCHAIN_CONFORMANCE_DIR, name); }

const core::Params& network(const json::value& v) { return network_of(v); }

const core::Params& other_network(const core::Params& p) {
    return core::params(p.network == core::Network::kDev ? core::Network::kRegtest
                                                         : core::Network::kDev);
}

TEST(Conformance, CompactTargets) {
    const json::value file = load("pow.json");
    for (const auto& v : at(file, "compact").as_array()) {
        const std::uint32_t b = bits(v, "bits");
        SCOPED_TRACE(str(v, "bits"));
        const auto target = core::ArithUint256::from_compact(b);
        ASSERT_EQ(target.has_value(), at(v, "decodes").as_bool());
        if (target) {
            EXPECT_EQ(*target, number(v, "target"));
            EXPECT_EQ(target->to_compact(), bits(v, "canonical_bits"));
        } else {
            // PROTOCOL.md 1.5: negative is the sign bit with a non-zero mantissa.
            const bool negative = (b & 0x007fffff) != 0 && (b & 0x00800000) != 0;
            EXPECT_EQ(str(v, "reason"), negative ? "negative" : "overflow");
        }
    }
    for (const auto& v : at(file, "encode").as_array()) {
        const core::ArithUint256 target = number(v, "target");
        EXPECT_EQ(target.to_compact(), bits(v, "bits")) << str(v, "target");
        // Encoding keeps the top three bytes: what decodes is at most the target.
        const auto back = core::ArithUint256::from_compact(bits(v, "bits"));
        ASSERT_TRUE(back);
        EXPECT_LE(*back, target);
    }
    for (const auto& v : at(file, "network_targets").as_array()) {
        const core::Params& p = network(v);
        const std::uint32_t b = bits(v, "bits");
        SCOPED_TRACE(p.name + " " + str(v, "bits"));
        const auto target = core::decode_target(b, p);
        ASSERT_EQ(target.has_value(), at(v, "valid").as_bool());
        if (target) continue;
        // The reasons of PROTOCOL.md 1.5, in its order.
        const auto raw = core::ArithUint256::from_compact(b);
        const bool negative = (b & 0x007fffff) != 0 && (b & 0x00800000) != 0;
        const std::string reason = negative         ? "negative"
                                   : !raw           ? "overflow"
                                   : raw->is_zero() ? "zero"
                                                    : "above pow_limit";
        EXPECT_EQ(str(v, "reason"), reason);
    }
}

TEST(Conformance, Work) {
    const json::value file = load("pow.json");
    for (const auto& v : at(file, "work").as_array()) {
        EXPECT_EQ(core::block_work(bits(v, "bits")), number(v, "work")) << str(v, "bits");
    }
    for (const auto& v : at(file, "chain_work").as_array()) {
        const auto& chain = at(v, "bits").as_array();
        const auto& sums = at(v, "chain_work").as_array();
        ASSERT_EQ(chain.size(), sums.size());
        core::ArithUint256 sum;
        for (std::size_t i = 0; i < chain.size(); ++i) {
            sum += core::block_work(static_cast<std::uint32_t>(
                std::stoul(std::string(chain[i].as_string()), nullptr, 16)));
            auto want = core::Uint256::from_hex(sums[i].as_string());
            ASSERT_TRUE(want);
            EXPECT_EQ(sum, core::ArithUint256::from_le(*want)) << i;
        }
    }
}

TEST(Conformance, ProofOfWork) {
    const json::value file = load("pow.json");
    std::set<bool> outcomes;
    for (const auto& v : at(file, "proof_of_work").as_array()) {
        SCOPED_TRACE(str(v, "name"));
        const core::Params& p = network(v);
        auto header = core::decode_header(bytes(v, "header_hex"));
        ASSERT_TRUE(header);
        EXPECT_EQ(header->hash(), hash(v, "id"));
        EXPECT_EQ(header->bits, bits(v, "bits"));
        const bool passes = at(v, "passes").as_bool();
        outcomes.insert(passes);
        EXPECT_EQ(core::check_proof_of_work(header->hash(), header->bits, p), passes);
        // PROTOCOL.md 1.5: the id read as a little-endian number, at most the target.
        const auto target = core::decode_target(header->bits, p);
        EXPECT_EQ(target && core::ArithUint256::from_le(header->hash()) <= *target, passes);
    }
    EXPECT_EQ(outcomes, (std::set<bool>{false, true}));
}

TEST(Conformance, Asert) {
    const json::value file = load("asert.json");
    for (const auto& v : at(file, "cases").as_array()) {
        SCOPED_TRACE(str(v, "name"));
        const core::Params& p = network(v);
        const std::int64_t parent_time = int64(v, "parent_time");
        const std::int64_t grandparent_time = int64(v, "grandparent_time");
        EXPECT_EQ(parent_time - grandparent_time, int64(v, "solve"));
        EXPECT_EQ(bits_hex(core::next_work_required(bits(v, "parent_bits"), parent_time,
                                                    grandparent_time, p)),
                  str(v, "next_bits"));
    }
}

TEST(Conformance, SignatureHashesAndSignatures) {
    const json::value file = load("sighash.json");
    std::map<std::string, const json::value*> by_name;
    for (const auto& v : at(file, "cases").as_array()) {
        SCOPED_TRACE(str(v, "name"));
        by_name[str(v, "name")] = &v;
        const core::Params& p = network(v);
        auto tx = core::decode_transaction(bytes(v, "tx_hex"));
        ASSERT_TRUE(tx);
        EXPECT_EQ(tx->txid(), hash(v, "txid"));
        std::vector<core::TxOut> spent;
        for (const auto& s : at(v, "spent").as_array()) {
            spent.push_back(core::TxOut{int64(s, "amount"), key32(s, "recipient")});
        }
        const auto& inputs = at(v, "inputs").as_array();
        ASSERT_EQ(inputs.size(), tx->inputs.size());
        ASSERT_EQ(spent.size(), tx->inputs.size());
        const core::SignatureHasher hasher(*tx, spent, p);
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const json::value& in = inputs[i];
            EXPECT_EQ(uint64(in, "index"), i);
            auto key = crypto::SecretKey::from_bytes(key32(in, "secret_key"));
            ASSERT_TRUE(key);
            EXPECT_EQ(util::to_hex(key->public_key()), str(in, "public_key"));
            EXPECT_EQ(util::to_hex(key->public_key()), util::to_hex(spent[i].recipient));
            const crypto::Digest sighash = key32(in, "sighash");
            EXPECT_EQ(util::to_hex(crypto::tagged_hash("peerchain/sighash", bytes(in, "preimage"))),
                      str(in, "sighash"));
            EXPECT_EQ(util::to_hex(hasher.for_input(i)), str(in, "sighash"));
            const core::Signature sig = [&] {
                const util::Bytes b = bytes(in, "signature");
                NODE_ASSERT(b.size() == 64);
                core::Signature s;
                std::copy(b.begin(), b.end(), s.begin());
                return s;
            }();
            EXPECT_EQ(util::to_hex(key->sign(sighash, key32(in, "aux"))), str(in, "signature"));
            EXPECT_EQ(util::to_hex(tx->inputs[i].signature), str(in, "signature"));
            EXPECT_TRUE(crypto::schnorr_verify(spent[i].recipient, sighash, sig));
            EXPECT_TRUE(core::verify_input(*tx, i, spent, p));
            // The magic is signed: the same bytes do not verify on the other network.
            EXPECT_FALSE(core::verify_input(*tx, i, spent, other_network(p)));
            for (std::size_t bit : {0u, 255u, 256u, 511u}) {
                core::Transaction flipped = *tx;
                flipped.inputs[i].signature[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                EXPECT_FALSE(core::verify_input(flipped, i, spent, p)) << "bit " << bit;
            }
        }
    }
    // One transaction signed on both networks: one txid, different messages.
    ASSERT_TRUE(by_name.count("payment on dev") && by_name.count("payment on regtest"));
    const json::value& dev = *by_name["payment on dev"];
    const json::value& rt = *by_name["payment on regtest"];
    EXPECT_EQ(hash(dev, "txid"), hash(rt, "txid"));
    const auto& dev_in = at(dev, "inputs").as_array();
    const auto& rt_in = at(rt, "inputs").as_array();
    ASSERT_EQ(dev_in.size(), rt_in.size());
    for (std::size_t i = 0; i < dev_in.size(); ++i) {
        EXPECT_NE(str(dev_in[i], "sighash"), str(rt_in[i], "sighash"));
        EXPECT_NE(str(dev_in[i], "signature"), str(rt_in[i], "signature"));
        const util::Bytes a = bytes(dev_in[i], "preimage");
        const util::Bytes b = bytes(rt_in[i], "preimage");
        // Only the four magic bytes differ.
        const auto& dev_magic = core::params(core::Network::kDev).magic;
        const auto& rt_magic = core::params(core::Network::kRegtest).magic;
        ASSERT_EQ(a.size(), b.size());
        EXPECT_TRUE(std::equal(dev_magic.begin(), dev_magic.end(), a.begin()));
        EXPECT_TRUE(std::equal(rt_magic.begin(), rt_magic.end(), b.begin()));
        EXPECT_TRUE(std::equal(a.begin() + 4, a.end(), b.begin() + 4));
    }
}

TEST(Conformance, ValidAddresses) {
    const json::value file = load("addresses.json");
    bool saw_upper = false;
    for (const auto& v : at(file, "valid").as_array()) {
        const core::Params& p = network(v);
        const std::string address = str(v, "address");
        SCOPED_TRACE(address);
        const core::XOnlyKey key = key32(v, "key");
        auto decoded = core::decode_address(address, p);
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(util::to_hex(*decoded), str(v, "key"));
        const bool upper = std::none_of(address.begin(), address.end(),
                                        [](char c) { return c >= 'a' && c <= 'z'; });
        saw_upper = saw_upper || upper;
        if (!upper) {
            EXPECT_EQ(core::encode_address(key, p), address);
        }
        EXPECT_EQ(address.size(), p.address_hrp.size() + 1 + 52 + 6);
        EXPECT_FALSE(core::decode_address(address, other_network(p)));
    }
    EXPECT_TRUE(saw_upper);
}

TEST(Conformance, InvalidAddresses) {
    const json::value file = load("addresses.json");
    // Each reason and what peerchain's message says for it.
    const std::map<std::string, std::string> kMessages = {
        {"wrong-network", " network, this node is on "},
        {"unknown-prefix", "unknown prefix"},
        {"bech32-checksum", "a bech32 checksum where bech32m is required"},
        {"mixed-case", "mixed upper and lower case"},
        {"wrong-length", " groups, expected 52"},
        {"non-zero-padding", "non-zero padding bits"},
        {"not-on-curve", "not a point on the curve"},
        {"bad-character", "invalid data character"},
        {"bad-checksum", "bad bech32m checksum"},
        {"too-long", "longer than 90 characters"},
        {"no-separator", "no separator"},
        {"character-out-of-range", "character out of range"},
    };
    std::set<std::string> reasons;
    for (const auto& v : at(file, "invalid").as_array()) {
        const core::Params& p = network(v);
        const std::string address = str(v, "address");
        SCOPED_TRACE(address);
        auto decoded = core::decode_address(address, p);
        ASSERT_FALSE(decoded);
        EXPECT_EQ(decoded.error().message, str(v, "message"));
        const std::string reason = str(v, "reason");
        reasons.insert(reason);
        ASSERT_TRUE(kMessages.count(reason)) << reason;
        EXPECT_NE(decoded.error().message.find(kMessages.at(reason)), std::string::npos) << reason;
    }
    std::set<std::string> all;
    for (const auto& [reason, message] : kMessages) all.insert(reason);
    EXPECT_EQ(reasons, all);
}

}  // namespace
}  // namespace peerchain::conformance
