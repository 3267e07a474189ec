#include "core/sighash.hpp"

#include "crypto/schnorr.hpp"

namespace peerchain::core {

SignatureHasher::SignatureHasher(const Transaction& tx, std::span<const TxOut> spent,
                                 const Params& p)
    : prefix_(crypto::tagged_hasher("peerchain/sighash")) {
    // Starts as the magic rather than empty: GCC 12 at -O3 follows the reallocating branch
    // of a first insert into an empty vector and warns of an overflow there
    // (-Wstringop-overflow, GCC bug 107852), which broke the Release build (issue 10).
    util::Bytes buf(p.magic.begin(), p.magic.end());
    buf.reserve(64 + tx.inputs.size() * 76 + tx.outputs.size() * 40 + tx.data.size());
    Writer w(buf);
    w.u32(tx.version);
    w.compact_size(tx.inputs.size());
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        w.hash(tx.inputs[i].prevout.txid);
        w.u32(tx.inputs[i].prevout.index);
        const TxOut out = i < spent.size() ? spent[i] : TxOut{};
        w.u64(static_cast<std::uint64_t>(out.amount));
        w.bytes(out.recipient);
    }
    w.compact_size(tx.outputs.size());
    for (const auto& out : tx.outputs) {
        w.u64(static_cast<std::uint64_t>(out.amount));
        w.bytes(out.recipient);
    }
    w.u32(tx.lock_time);
    w.var_bytes(tx.data);
    prefix_.write(buf);
}

crypto::Digest SignatureHasher::for_input(std::size_t input_index) const {
    crypto::Sha256 h = prefix_;
    std::uint8_t index[4];
    for (std::size_t i = 0; i < 4; ++i)
        index[i] = static_cast<std::uint8_t>(input_index >> (8 * i));
    return h.write(index).finalize();
}

bool verify_input(const Transaction& tx, std::size_t input_index, std::span<const TxOut> spent,
                  const Params& p) {
    if (spent.size() != tx.inputs.size()) return false;
    return verify_input(SignatureHasher(tx, spent, p), tx, input_index, spent);
}

bool verify_input(const SignatureHasher& hasher, const Transaction& tx, std::size_t input_index,
                  std::span<const TxOut> spent) {
    if (input_index >= tx.inputs.size() || spent.size() != tx.inputs.size()) return false;
    return crypto::schnorr_verify(spent[input_index].recipient, hasher.for_input(input_index),
                                  tx.inputs[input_index].signature);
}

}  // namespace peerchain::core
