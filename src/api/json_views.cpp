#include "api/json_views.hpp"

#include <cstdio>

#include "core/pow.hpp"

namespace peerchain::api {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(const util::Bytes& s, std::size_t i) {
    const std::uint8_t c = s[i];
    if (c < 0x80) return 1;
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((s[i + k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

}  // namespace

std::string payload_text(const util::Bytes& data) {
    std::string out;
    out.reserve(data.size());
    for (std::size_t i = 0; i < data.size();) {
        const std::size_t n = utf8_sequence(data, i);
        if (n == 0) {
            out += "\xef\xbf\xbd";  // U+FFFD
            ++i;
        } else {
            out.append(reinterpret_cast<const char*>(data.data() + i), n);
            i += n;
        }
    }
    return out;
}

std::string bits_hex(std::uint32_t bits) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", bits);
    return buf;
}

boost::json::object transaction_json(const core::Transaction& tx) {
    boost::json::object out;
    out["txid"] = tx.txid().to_hex();
    out["version"] = tx.version;
    out["coinbase"] = tx.is_coinbase();
    boost::json::array inputs;
    for (const auto& in : tx.inputs) {
        boost::json::object o;
        o["txid"] = in.prevout.txid.to_hex();
        o["index"] = in.prevout.index;
        if (!tx.is_coinbase()) o["signature"] = util::to_hex(in.signature);
        inputs.push_back(std::move(o));
    }
    out["inputs"] = std::move(inputs);
    boost::json::array outputs;
    core::Amount total = 0;
    for (const auto& o : tx.outputs) {
        boost::json::object v;
        v["amount"] = o.amount;
        v["recipient"] = util::to_hex(o.recipient);
        outputs.push_back(std::move(v));
        total += o.amount;
    }
    out["outputs"] = std::move(outputs);
    out["outputTotal"] = total;
    out["lockTime"] = tx.lock_time;
    out["data"] = payload_text(tx.data);
    out["dataHex"] = util::to_hex(tx.data);
    out["size"] = tx.serialized_size();
    return out;
}

boost::json::object block_json(const core::Block& block, const BlockPlacement& placement,
                               const core::Params& params) {
    const auto& h = block.header;
    boost::json::object out;
    out["index"] = placement.height;
    out["hash"] = block.hash().to_hex();
    out["previousHash"] = h.prev_hash.to_hex();
    out["timestamp"] = h.time;
    out["data"] = block.txs.empty() ? std::string() : payload_text(block.txs[0].data);
    out["version"] = h.version;
    out["merkleRoot"] = h.merkle_root.to_hex();
    out["bits"] = bits_hex(h.bits);
    out["nonce"] = h.nonce;
    out["difficulty"] = core::difficulty(h.bits, params);
    out["confirmations"] = placement.confirmations;
    out["size"] = block.serialized_size();
    boost::json::array txs;
    for (const auto& tx : block.txs) txs.push_back(transaction_json(tx));
    out["transactions"] = std::move(txs);
    return out;
}

}  // namespace peerchain::api
