#include "api/json_views.hpp"

#include <cstdio>

#include "core/address.hpp"
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

boost::json::object transaction_json(const core::Transaction& tx, const core::Params& params) {
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
        v["address"] = core::encode_address(o.recipient, params);
        outputs.push_back(std::move(v));
        total += o.amount;
    }
    out["outputs"] = std::move(outputs);
    out["outputTotal"] = total;
    // A coinbase creates its outputs; it pays no fee (it collects the block's).
    if (tx.is_coinbase()) out["fee"] = 0;
    out["lockTime"] = tx.lock_time;
    out["data"] = payload_text(tx.data);
    out["dataHex"] = util::to_hex(tx.data);
    out["size"] = tx.serialized_size();
    return out;
}

boost::json::object transaction_detail_json(const core::Transaction& tx, const core::Params& params,
                                            const std::vector<core::TxOut>* spent) {
    boost::json::object out = transaction_json(tx, params);
    if (spent != nullptr && !tx.is_coinbase() && spent->size() == tx.inputs.size()) {
        auto& inputs = out["inputs"].as_array();
        core::Amount in_total = 0;
        for (std::size_t i = 0; i < spent->size(); ++i) {
            const core::TxOut& s = (*spent)[i];
            auto& o = inputs[i].as_object();
            o["amount"] = s.amount;
            o["recipient"] = util::to_hex(s.recipient);
            o["address"] = core::encode_address(s.recipient, params);
            in_total += s.amount;
        }
        out["inputTotal"] = in_total;
        out["fee"] = in_total - out["outputTotal"].as_int64();
    }
    out["hex"] = util::to_hex(tx.encode());
    return out;
}

core::Amount fee_rate(core::Amount fee, std::size_t size) {
    return size == 0 ? 0 : fee / static_cast<core::Amount>(size);
}

boost::json::object mempool_entry_json(const mempool::Entry& entry) {
    boost::json::object out;
    out["txid"] = entry.txid.to_hex();
    out["fee"] = entry.fee;
    out["size"] = entry.size;
    out["feeRate"] = fee_rate(entry.fee, entry.size);
    out["time"] = entry.time;
    out["ancestors"] = entry.ancestors;
    out["descendants"] = entry.descendants;
    return out;
}

boost::json::object coin_json(const core::OutPoint& outpoint, const core::Coin& coin,
                              std::uint32_t tip_height, const core::Params& params) {
    boost::json::object out;
    out["txid"] = outpoint.txid.to_hex();
    out["index"] = outpoint.index;
    out["amount"] = coin.out.amount;
    out["height"] = coin.height;
    out["coinbase"] = coin.coinbase;
    // As core::check_tx_inputs: spendable at spend height h when h - height >= maturity.
    const std::uint64_t spend_height = std::uint64_t{tip_height} + 1;
    out["mature"] =
        !coin.coinbase || spend_height >= std::uint64_t{coin.height} + params.coinbase_maturity;
    return out;
}

boost::json::object address_tx_json(const chain::AddressTx& tx, std::uint32_t tip_height) {
    boost::json::object out;
    out["txid"] = tx.txid.to_hex();
    out["height"] = tx.height;
    out["blockHash"] = tx.block_hash.to_hex();
    out["confirmations"] =
        tip_height >= tx.height ? std::int64_t{tip_height} - tx.height + 1 : std::int64_t{0};
    out["received"] = tx.received;
    out["sent"] = tx.sent;
    return out;
}

boost::json::object wallet_coin_json(const WalletCoinView& coin, const core::Params& params) {
    boost::json::object out;
    out["txid"] = coin.outpoint.txid.to_hex();
    out["index"] = coin.outpoint.index;
    out["amount"] = coin.out.amount;
    out["address"] = core::encode_address(coin.out.recipient, params);
    if (coin.height >= 0) {
        out["height"] = coin.height;
    } else {
        out["height"] = nullptr;
    }
    out["coinbase"] = coin.coinbase;
    out["mature"] = coin.mature;
    out["spentInMempool"] = coin.spent_in_pool;
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
    for (const auto& tx : block.txs) txs.push_back(transaction_json(tx, params));
    out["transactions"] = std::move(txs);
    return out;
}

}  // namespace peerchain::api
