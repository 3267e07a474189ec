// Transactions in the UTXO model.
//
//   tx       := version:u32 n_in:compact_size txin* n_out:compact_size txout* lock_time:u32
//               data:compact_size(len) byte*
//   txin     := prev_txid:32 prev_index:u32 signature:64      (BIP340 Schnorr)
//   txout    := amount:u64 recipient:32                        (x-only public key)
//
//   txid     := SHA256d(tx with every signature left out), so a signature can never
//               change a txid (no malleability).
//   leaf     := tagged_hash("peerchain/leaf", tx)              (what the merkle tree commits
//               to: the full transaction, signatures included)
//
// A coinbase has exactly one input whose prev_txid is all zero and whose prev_index is the
// block height; its signature field is free space (the miner's extra nonce). Its `data`
// carries what the miner was asked to record.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <vector>

#include "core/amount.hpp"
#include "core/serialize.hpp"
#include "core/uint256.hpp"
#include "util/bytes.hpp"

namespace peerchain::core {

using XOnlyKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

inline constexpr std::size_t kTxInSize = 32 + 4 + 64;
inline constexpr std::size_t kTxOutSize = 8 + 32;

struct OutPoint {
    Uint256 txid;
    std::uint32_t index = 0;

    friend bool operator==(const OutPoint&, const OutPoint&) = default;
    friend auto operator<=>(const OutPoint&, const OutPoint&) = default;
};

struct OutPointHasher {
    std::size_t operator()(const OutPoint& o) const noexcept {
        return static_cast<std::size_t>(o.txid.cheap_hash() ^
                                        (std::uint64_t{o.index} * 0x9e3779b97f4a7c15ULL));
    }
};

struct TxIn {
    OutPoint prevout;
    Signature signature{};

    friend bool operator==(const TxIn&, const TxIn&) = default;
};

struct TxOut {
    Amount amount = 0;
    XOnlyKey recipient{};

    friend bool operator==(const TxOut&, const TxOut&) = default;
};

struct Transaction {
    std::uint32_t version = 1;
    std::vector<TxIn> inputs;
    std::vector<TxOut> outputs;
    std::uint32_t lock_time = 0;
    util::Bytes data;

    bool is_coinbase() const noexcept {
        return inputs.size() == 1 && inputs[0].prevout.txid.is_zero();
    }

    Uint256 txid() const;
    Uint256 leaf_hash() const;

    void serialize(Writer& w) const;
    util::Bytes encode() const;
    std::size_t serialized_size() const noexcept;

    friend bool operator==(const Transaction&, const Transaction&) = default;
};

// Reads one transaction. Input, output and data counts are checked against what the
// remaining bytes could hold before anything is allocated. Fails with kDecode.
util::Result<Transaction> decode_transaction(Reader& r);
// Reads exactly one transaction; trailing bytes are an error.
util::Result<Transaction> decode_transaction(util::ByteSpan bytes);

// Builds the coinbase for a block at `height`: one output of `reward` to `recipient`.
Transaction make_coinbase(std::uint32_t height, Amount reward, const XOnlyKey& recipient,
                          util::Bytes data, std::uint64_t extra_nonce = 0);

}  // namespace peerchain::core
