// The chain's records in the store: keys and value encodings, in one place. The grammar
// is in chainstate.hpp and docs/STORAGE.md; every decoder here checks lengths exactly and
// reports damaged bytes as kCorruption.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "chain/coin.hpp"
#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::chain::storage {

inline constexpr std::uint8_t kIndexPrefix = 'i';
inline constexpr std::uint8_t kBlockPrefix = 'b';
inline constexpr std::uint8_t kUndoPrefix = 'u';
inline constexpr std::uint8_t kCoinPrefix = 'c';
inline constexpr std::uint8_t kMetaPrefix = 'm';

inline constexpr std::uint32_t kFormatVersion = 1;

using HashKey = std::array<std::uint8_t, 33>;  // prefix hash:32
using CoinKey = std::array<std::uint8_t, 37>;  // 'c' txid:32 index:u32be

HashKey hash_key(std::uint8_t prefix, const core::Uint256& hash) noexcept;
CoinKey coin_key(const core::OutPoint& outpoint) noexcept;
// The outpoint of a 'c' key; kCorruption for another length or prefix.
util::Result<core::OutPoint> decode_coin_key(util::ByteSpan key);

util::Bytes coins_tip_key();  // 'm' "coins_tip"
util::Bytes version_key();    // 'm' "version"

//   index_record := header:80 height:u32 status:u32
struct IndexRecord {
    core::BlockHeader header;
    std::uint32_t height = 0;
    std::uint32_t status = 0;
};
inline constexpr std::size_t kIndexRecordSize = core::kHeaderSize + 8;
std::array<std::uint8_t, kIndexRecordSize> encode_index(const core::BlockHeader& header,
                                                        std::uint32_t height,
                                                        std::uint32_t status) noexcept;
util::Result<IndexRecord> decode_index(util::ByteSpan bytes);

//   coin := amount:u64 recipient:32 height:u32 coinbase:u8   (coinbase is 0 or 1)
inline constexpr std::size_t kCoinSize = 8 + 32 + 4 + 1;
std::array<std::uint8_t, kCoinSize> encode_coin(const Coin& coin) noexcept;
util::Result<Coin> decode_coin(util::ByteSpan bytes);

//   undo := n:compact_size coin*    (the coins a block spent, in input order)
util::Bytes encode_undo(const std::vector<Coin>& coins);
util::Result<std::vector<Coin>> decode_undo(util::ByteSpan bytes);

util::Bytes encode_u32(std::uint32_t v);
util::Result<std::uint32_t> decode_u32(util::ByteSpan bytes);

}  // namespace peerchain::chain::storage
