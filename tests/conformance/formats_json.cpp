#include "tests/conformance/formats_json.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/serialize.hpp"

namespace peerchain::conformance {

std::string bits_hex(std::uint32_t bits) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", bits);
    return buf;
}

std::string number_hex(const core::ArithUint256& v) { return v.to_hex(); }

json::object header_fields(const core::BlockHeader& header) {
    json::object o;
    o["version"] = header.version;
    o["prev_hash"] = header.prev_hash.to_hex();
    o["merkle_root"] = header.merkle_root.to_hex();
    o["time"] = header.time;
    o["bits"] = bits_hex(header.bits);
    o["nonce"] = header.nonce;
    return o;
}

json::object tx_fields(const core::Transaction& tx) {
    json::object o;
    o["version"] = tx.version;
    json::array inputs;
    for (const auto& in : tx.inputs) {
        json::object i;
        i["prev_txid"] = in.prevout.txid.to_hex();
        i["prev_index"] = in.prevout.index;
        i["signature"] = util::to_hex(in.signature);
        inputs.push_back(std::move(i));
    }
    o["inputs"] = std::move(inputs);
    json::array outputs;
    for (const auto& out : tx.outputs) {
        json::object i;
        i["amount"] = out.amount;
        i["recipient"] = util::to_hex(out.recipient);
        outputs.push_back(std::move(i));
    }
    o["outputs"] = std::move(outputs);
    o["lock_time"] = tx.lock_time;
    o["data"] = util::to_hex(tx.data);
    return o;
}

util::Bytes txid_preimage(const core::Transaction& tx) {
    util::Bytes out;
    core::Writer w(out);
    w.u32(tx.version);
    w.compact_size(tx.inputs.size());
    for (const auto& in : tx.inputs) {
        w.hash(in.prevout.txid);
        w.u32(in.prevout.index);
    }
    w.compact_size(tx.outputs.size());
    for (const auto& o : tx.outputs) {
        w.i64(o.amount);
        w.bytes(o.recipient);
    }
    w.u32(tx.lock_time);
    w.var_bytes(tx.data);
    return out;
}

const json::value& at(const json::value& v, std::string_view key) {
    const auto* found = v.as_object().if_contains(key);
    NODE_ASSERT(found != nullptr);
    return *found;
}

std::string str(const json::value& v, std::string_view key) {
    return std::string(at(v, key).as_string());
}

util::Bytes bytes(const json::value& v, std::string_view key) {
    auto b = util::from_hex(str(v, key));
    NODE_ASSERT(b.has_value());
    return std::move(*b);
}

core::Uint256 hash(const json::value& v, std::string_view key) {
    auto h = core::Uint256::from_hex(str(v, key));
    NODE_ASSERT(h.has_value());
    return *h;
}

std::array<std::uint8_t, 32> key32(const json::value& v, std::string_view key) {
    const util::Bytes b = bytes(v, key);
    NODE_ASSERT(b.size() == 32);
    std::array<std::uint8_t, 32> out;
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

std::uint32_t bits(const json::value& v, std::string_view key) {
    const std::string s = str(v, key);
    NODE_ASSERT(s.size() == 8);
    return static_cast<std::uint32_t>(std::stoul(s, nullptr, 16));
}

core::ArithUint256 number(const json::value& v, std::string_view key) {
    const std::string s = str(v, key);
    NODE_ASSERT(s.size() == 64);
    // 64 hex digits, most significant first, are a Uint256's display form of the
    // little-endian bytes.
    auto le = core::Uint256::from_hex(s);
    NODE_ASSERT(le.has_value());
    return core::ArithUint256::from_le(*le);
}

std::int64_t int64(const json::value& v, std::string_view key) {
    return at(v, key).to_number<std::int64_t>();
}

std::uint64_t uint64(const json::value& v, std::string_view key) {
    return at(v, key).to_number<std::uint64_t>();
}

core::BlockHeader header_from(const json::value& fields) {
    core::BlockHeader h;
    h.version = static_cast<std::uint32_t>(uint64(fields, "version"));
    h.prev_hash = hash(fields, "prev_hash");
    h.merkle_root = hash(fields, "merkle_root");
    h.time = static_cast<std::uint32_t>(uint64(fields, "time"));
    h.bits = bits(fields, "bits");
    h.nonce = static_cast<std::uint32_t>(uint64(fields, "nonce"));
    return h;
}

core::Transaction tx_from(const json::value& fields) {
    core::Transaction tx;
    tx.version = static_cast<std::uint32_t>(uint64(fields, "version"));
    for (const auto& in : at(fields, "inputs").as_array()) {
        core::TxIn i;
        i.prevout.txid = hash(in, "prev_txid");
        i.prevout.index = static_cast<std::uint32_t>(uint64(in, "prev_index"));
        const util::Bytes sig = bytes(in, "signature");
        NODE_ASSERT(sig.size() == i.signature.size());
        std::copy(sig.begin(), sig.end(), i.signature.begin());
        tx.inputs.push_back(i);
    }
    for (const auto& out : at(fields, "outputs").as_array()) {
        tx.outputs.push_back(core::TxOut{int64(out, "amount"), key32(out, "recipient")});
    }
    tx.lock_time = static_cast<std::uint32_t>(uint64(fields, "lock_time"));
    tx.data = bytes(fields, "data");
    return tx;
}

json::value read_vectors(const std::string& dir, const std::string& name) {
    std::ifstream f(dir + "/" + name, std::ios::binary);
    NODE_ASSERT(f.good());
    std::stringstream text;
    text << f.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(text.str(), ec);
    NODE_ASSERT(!ec);
    return v;
}

const core::Params& network_of(const json::value& v) {
    auto n = core::parse_network(str(v, "network"));
    NODE_ASSERT(n.has_value());
    return core::params(*n);
}

}  // namespace peerchain::conformance
