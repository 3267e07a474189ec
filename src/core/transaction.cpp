#include "core/transaction.hpp"

#include "crypto/sha256.hpp"

namespace peerchain::core {

namespace {

// Largest data payload a decoder will even look at; consensus limits (check.hpp) are
// tighter. Bounds the allocation for a hostile length.
constexpr std::size_t kDecodeMaxData = 4 * 1024 * 1024;

void serialize_tx(const Transaction& tx, Writer& w, bool with_signatures) {
    w.u32(tx.version);
    w.compact_size(tx.inputs.size());
    for (const auto& in : tx.inputs) {
        w.hash(in.prevout.txid);
        w.u32(in.prevout.index);
        if (with_signatures) w.bytes(in.signature);
    }
    w.compact_size(tx.outputs.size());
    for (const auto& out : tx.outputs) {
        w.u64(static_cast<std::uint64_t>(out.amount));
        w.bytes(out.recipient);
    }
    w.u32(tx.lock_time);
    w.var_bytes(tx.data);
}

}  // namespace

void Transaction::serialize(Writer& w) const { serialize_tx(*this, w, true); }

util::Bytes Transaction::encode() const {
    util::Bytes out;
    out.reserve(serialized_size());
    Writer w(out);
    serialize(w);
    return out;
}

std::size_t Transaction::serialized_size() const noexcept {
    return 4 + compact_size_length(inputs.size()) + inputs.size() * kTxInSize +
           compact_size_length(outputs.size()) + outputs.size() * kTxOutSize + 4 +
           compact_size_length(data.size()) + data.size();
}

Uint256 Transaction::txid() const {
    util::Bytes buf;
    buf.reserve(serialized_size());
    Writer w(buf);
    serialize_tx(*this, w, false);
    return Uint256(crypto::sha256d(buf));
}

Uint256 Transaction::leaf_hash() const {
    util::Bytes buf = encode();
    static const crypto::Sha256 kLeafHasher = crypto::tagged_hasher("peerchain/leaf");
    crypto::Sha256 h = kLeafHasher;
    return Uint256(h.write(buf).finalize());
}

util::Result<Transaction> decode_transaction(Reader& r) {
    Transaction tx;
    std::uint64_t n_in = 0;
    std::uint64_t n_out = 0;
    if (!r.u32(tx.version) || !r.compact_size(n_in, r.remaining() / kTxInSize)) {
        return util::Unexpected(util::Errc::kDecode, "transaction: bad header or input count");
    }
    tx.inputs.resize(static_cast<std::size_t>(n_in));
    for (auto& in : tx.inputs) {
        if (!r.hash(in.prevout.txid) || !r.u32(in.prevout.index) || !r.array(in.signature)) {
            return util::Unexpected(util::Errc::kDecode, "transaction: short input");
        }
    }
    if (!r.compact_size(n_out, r.remaining() / kTxOutSize)) {
        return util::Unexpected(util::Errc::kDecode, "transaction: bad output count");
    }
    tx.outputs.resize(static_cast<std::size_t>(n_out));
    for (auto& out : tx.outputs) {
        std::uint64_t amount;
        if (!r.u64(amount) || !r.array(out.recipient)) {
            return util::Unexpected(util::Errc::kDecode, "transaction: short output");
        }
        out.amount = static_cast<Amount>(amount);
    }
    if (!r.u32(tx.lock_time) || !r.var_bytes(tx.data, kDecodeMaxData)) {
        return util::Unexpected(util::Errc::kDecode, "transaction: bad lock time or data");
    }
    return tx;
}

util::Result<Transaction> decode_transaction(util::ByteSpan bytes) {
    Reader r(bytes);
    auto tx = decode_transaction(r);
    if (tx && !r.at_end()) {
        return util::Unexpected(util::Errc::kDecode, "transaction: trailing bytes");
    }
    return tx;
}

Transaction make_coinbase(std::uint32_t height, Amount reward, const XOnlyKey& recipient,
                          util::Bytes data, std::uint64_t extra_nonce) {
    Transaction tx;
    TxIn in;
    in.prevout.index = height;
    for (int i = 0; i < 8; ++i)
        in.signature[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(extra_nonce >> (8 * i));
    tx.inputs.push_back(in);
    tx.outputs.push_back(TxOut{reward, recipient});
    tx.data = std::move(data);
    return tx;
}

}  // namespace peerchain::core
