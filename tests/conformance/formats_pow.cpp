// pow.json and asert.json (README.md has their schema).
#include <optional>
#include <string>

#include "core/params.hpp"
#include "core/pow.hpp"
#include "tests/conformance/formats_vectors.hpp"

namespace peerchain::conformance {
namespace {

using core::ArithUint256;
using core::Network;

const core::Params& dev() { return core::params(Network::kDev); }
const core::Params& regtest() { return core::params(Network::kRegtest); }

// Why from_compact refuses `bits`, in the words of docs/PROTOCOL.md 1.5.
std::string compact_reason(std::uint32_t bits) {
    const std::uint32_t mantissa = bits & 0x007fffff;
    if (mantissa != 0 && (bits & 0x00800000) != 0) return "negative";
    return "overflow";
}

json::object compact_case(std::uint32_t bits) {
    json::object o;
    o["bits"] = bits_hex(bits);
    const auto target = ArithUint256::from_compact(bits);
    o["decodes"] = target.has_value();
    if (target) {
        o["target"] = number_hex(*target);
        o["canonical_bits"] = bits_hex(target->to_compact());
    } else {
        o["reason"] = compact_reason(bits);
    }
    return o;
}

json::object network_target_case(const core::Params& p, std::uint32_t bits) {
    json::object o;
    o["network"] = p.name;
    o["bits"] = bits_hex(bits);
    const auto target = core::decode_target(bits, p);
    o["valid"] = target.has_value();
    if (!target) {
        const auto raw = ArithUint256::from_compact(bits);
        o["reason"] = !raw             ? compact_reason(bits)
                      : raw->is_zero() ? std::string("zero")
                                       : std::string("above pow_limit");
    }
    return o;
}

json::object pow_case(const std::string& name, const core::Params& p, const core::BlockHeader& h) {
    json::object o;
    o["name"] = name;
    o["network"] = p.name;
    o["header_hex"] = util::to_hex(h.encode());
    o["id"] = h.hash().to_hex();
    o["bits"] = bits_hex(h.bits);
    o["passes"] = core::check_proof_of_work(h.hash(), h.bits, p);
    return o;
}

json::object asert_case(const std::string& name, const core::Params& p, std::uint32_t parent_bits,
                        std::int64_t parent_time, std::int64_t grandparent_time) {
    json::object o;
    o["name"] = name;
    o["network"] = p.name;
    o["parent_bits"] = bits_hex(parent_bits);
    o["parent_time"] = parent_time;
    o["grandparent_time"] = grandparent_time;
    o["solve"] = parent_time - grandparent_time;
    o["next_bits"] =
        bits_hex(core::next_work_required(parent_bits, parent_time, grandparent_time, p));
    return o;
}

}  // namespace

json::value pow_vectors() {
    json::array compact;
    // Bitcoin's SetCompact cases (arith_uint256_tests.cpp), then the edges of overflow.
    for (std::uint32_t bits :
         {0x00000000u, 0x00123456u, 0x01003456u, 0x02000056u, 0x03000000u, 0x04000000u, 0x00923456u,
          0x01803456u, 0x02800056u, 0x03800000u, 0x04800000u, 0x01123456u, 0x01fedcbau, 0x02123456u,
          0x03123456u, 0x04123456u, 0x04923456u, 0x05009234u, 0x20123456u, 0xff123456u, 0x1d00ffffu,
          0x1f00ffffu, 0x207fffffu, 0x1c00ff00u, 0x1d0000ffu, 0x22000001u, 0x23000001u, 0x220000ffu,
          0x22000100u, 0x2100ffffu, 0x21010000u, 0x20ffffffu, 0x23000000u}) {
        compact.push_back(compact_case(bits));
    }

    json::array encode;
    std::vector<ArithUint256> targets = {ArithUint256(0),          ArithUint256(0x12),
                                         ArithUint256(0x80),       ArithUint256(0x1234),
                                         ArithUint256(0x123456),   ArithUint256(0x800000),
                                         ArithUint256(0x12345600), ArithUint256(0x0123456789ULL)};
    targets.push_back(dev().pow_limit);
    targets.push_back(regtest().pow_limit);
    targets.push_back(ArithUint256(1) << 255);
    targets.push_back(~ArithUint256(0));
    for (const auto& t : targets) {
        json::object o;
        o["target"] = number_hex(t);
        o["bits"] = bits_hex(t.to_compact());
        encode.push_back(std::move(o));
    }

    json::array network_targets;
    for (std::uint32_t bits : {0x1f00ffffu, 0x1e00ffffu, 0x01123456u, 0x1f010000u, 0x2000ffffu,
                               0x1f000000u, 0x1f800000u, 0x1f800001u, 0x01003456u, 0xff123456u}) {
        network_targets.push_back(network_target_case(dev(), bits));
    }
    for (std::uint32_t bits : {0x207fffffu, 0x21000001u, 0x1f00ffffu, 0x2100ffffu, 0x20800000u,
                               0x20ffffffu, 0x23000001u}) {
        network_targets.push_back(network_target_case(regtest(), bits));
    }

    json::array work;
    for (std::uint32_t bits : {0x1d00ffffu, 0x1f00ffffu, 0x207fffffu, 0x1e7fffffu, 0x1f00fd10u,
                               0x01010000u, 0x03000001u, 0x04923456u, 0x1f000000u, 0xff123456u}) {
        json::object o;
        o["bits"] = bits_hex(bits);
        o["work"] = number_hex(core::block_work(bits));
        work.push_back(std::move(o));
    }

    json::array chain_work;
    for (const auto& chain : {std::vector<std::uint32_t>{0x1f00ffff, 0x1f00fd10, 0x1f00ffff,
                                                         0x1e7fffff, 0x1e3fffff, 0x1e7e88bf},
                              std::vector<std::uint32_t>{0x207fffff, 0x207fffff, 0x207fffff}}) {
        json::array bits;
        json::array sums;
        ArithUint256 sum;
        for (std::uint32_t b : chain) {
            sum += core::block_work(b);
            bits.push_back(json::string(bits_hex(b)));
            sums.push_back(json::string(number_hex(sum)));
        }
        json::object o;
        o["bits"] = std::move(bits);
        o["chain_work"] = std::move(sums);
        chain_work.push_back(std::move(o));
    }

    json::array checks;
    checks.push_back(pow_case("dev genesis", dev(), dev().genesis.header));
    core::BlockHeader h = dev().genesis.header;
    ++h.nonce;
    checks.push_back(pow_case("dev genesis with the next nonce", dev(), h));
    checks.push_back(pow_case("regtest genesis", regtest(), regtest().genesis.header));
    checks.push_back(pow_case("regtest genesis checked on dev: bits above the dev pow_limit", dev(),
                              regtest().genesis.header));
    h = regtest().genesis.header;
    h.nonce = 0;
    while (core::check_proof_of_work(h.hash(), h.bits, regtest())) ++h.nonce;
    checks.push_back(pow_case("regtest genesis with a nonce that fails", regtest(), h));
    // A dev header mined to 1e7fffff (about one hash in 2^17), so that its id shows the
    // leading zeros; then one whose id meets the network's limit but not its own bits; then
    // bits that do not decode.
    h = dev().genesis.header;
    h.prev_hash = dev().genesis_hash;
    h.time += 10;
    h.bits = 0x1e7fffff;
    h.nonce = 0;
    while (!core::check_proof_of_work(h.hash(), h.bits, dev())) ++h.nonce;
    checks.push_back(pow_case("dev header mined to 1e7fffff", dev(), h));
    core::BlockHeader harder = h;
    harder.bits = 0x1e00ffff;
    while (core::check_proof_of_work(harder.hash(), harder.bits, dev()) ||
           !core::check_proof_of_work(harder.hash(), 0x1f00ffff, dev())) {
        ++harder.nonce;
    }
    checks.push_back(
        pow_case("dev id meets 1f00ffff but not its own bits 1e00ffff", dev(), harder));
    h.bits = 0x1f800001;
    checks.push_back(pow_case("negative bits never pass", dev(), h));

    json::object root;
    root["about"] =
        "Compact targets, work and the proof-of-work check of docs/PROTOCOL.md 1.5. Targets "
        "and work are 256-bit numbers in 64 hex digits, most significant first.";
    root["compact"] = std::move(compact);
    root["encode"] = std::move(encode);
    root["network_targets"] = std::move(network_targets);
    root["work"] = std::move(work);
    root["chain_work"] = std::move(chain_work);
    root["proof_of_work"] = std::move(checks);
    return root;
}

json::value asert_vectors() {
    const std::int64_t t = 1735689600;  // the genesis time
    const std::uint32_t limit = dev().pow_limit_bits;
    json::array cases;
    auto add = [&](const std::string& name, const core::Params& p, std::uint32_t bits,
                   std::int64_t solve) {
        cases.push_back(asert_case(name, p, bits, t + 1000 + solve, t + 1000));
    };
    add("PROTOCOL.md 1.6 example: on schedule", dev(), 0x1e7fffff, 10);
    add("PROTOCOL.md 1.6 example: solve 0", dev(), 0x1e7fffff, 0);
    add("PROTOCOL.md 1.6 example: solve 20", dev(), 0x1e7fffff, 20);
    add("PROTOCOL.md 1.6 example: one half-life early", dev(), 0x1e7fffff, -590);
    add("PROTOCOL.md 1.6 example: from pow_limit, solve 0", dev(), limit, 0);
    add("one half-life late doubles", dev(), 0x1e3fffff, 610);
    add("one half-life late from 1e7fffff: doubled past pow_limit, clamped", dev(), 0x1e7fffff,
        610);
    add("two half-lives early", dev(), 0x1e7fffff, -1190);
    add("solve 9: exponent -109 (truncated toward zero), shifts -1 (floor)", dev(), 0x1e7fffff, 9);
    add("solve 11: exponent 109", dev(), 0x1e7fffff, 11);
    add("solve 305: half a half-life late", dev(), 0x1e7fffff, 305);
    add("from pow_limit, on schedule", dev(), limit, 10);
    add("from pow_limit, late: clamped to pow_limit", dev(), limit, 20);
    add("from pow_limit, 4294967295 s late: clamped", dev(), limit, 0xffffffffLL);
    add("hard target, very late: shift past 256 bits, clamped", dev(), 0x1b00ffff, 600 * 300);
    add("just below pow_limit, a little late: clamped", dev(), 0x1f00fd10, 20);
    add("huge negative solve (-2^31): target 1", dev(), 0x1e7fffff, -(1LL << 31));
    add("target 1, early: rounds to zero, becomes 1", dev(), 0x01010000, -600);
    add("negative solve, mid-range", dev(), 0x1c0fffff, -3000);
    add("parent bits zero (do not decode): anchored at pow_limit", dev(), 0x1f000000, 10);
    add("parent bits negative: anchored at pow_limit", dev(), 0x1f800001, 0);
    add("parent bits above pow_limit: anchored at pow_limit", dev(), 0x2000ffff, 0);
    add("non-canonical parent bits: next bits are canonical", dev(), 0x1d0000ff, 10);
    cases.push_back(asert_case("genesis parent: grandparent_time := parent_time - spacing", dev(),
                               limit, t, t - dev().target_spacing));
    cases.push_back(asert_case("parent 3 s after its genesis grandparent", dev(), limit, t + 3, t));
    add("regtest never retargets (solve 0)", regtest(), regtest().pow_limit_bits, 0);
    add("regtest never retargets (solve 100000)", regtest(), regtest().pow_limit_bits, 100000);
    add("regtest never retargets (other parent bits)", regtest(), 0x1e7fffff, -590);

    json::object root;
    root["about"] =
        "The bits the block after `parent` must carry (docs/PROTOCOL.md 1.6): "
        "next_bits(parent_bits, parent_time, grandparent_time); solve = parent_time - "
        "grandparent_time.";
    root["cases"] = std::move(cases);
    return root;
}

}  // namespace peerchain::conformance
