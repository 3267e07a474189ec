// The chain's records in the store: keys and value encodings, in one place. The grammar
// is here and in docs/STORAGE.md; every decoder here checks lengths exactly and
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
#include "store/flat_files.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::chain::storage {

// Index records sort after every other kind (docs/STORAGE.md, section 6): written in
// height order, they then only ever append to the end of the key space, and LevelDB moves
// their table files down the levels without rewriting them. Formats 1 to 6 kept them under
// kLegacyIndexPrefix, between the coins and the address coins.
inline constexpr std::uint8_t kIndexPrefix = 'z';
inline constexpr std::uint8_t kLegacyIndexPrefix = 'i';
inline constexpr std::uint8_t kBlockPrefix = 'b';
inline constexpr std::uint8_t kUndoPrefix = 'u';
inline constexpr std::uint8_t kCoinPrefix = 'c';
inline constexpr std::uint8_t kMetaPrefix = 'm';
inline constexpr std::uint8_t kTxIndexPrefix = 't';
inline constexpr std::uint8_t kAddressTxPrefix = 'a';
inline constexpr std::uint8_t kAddressCoinPrefix = 'o';

// 1: blocks, index, undo, coins. 2: adds the transaction and address indexes ('t', 'a',
// 'o'), complete for the chain. 3 and 4: block bodies in flat files (blocks/), their
// positions in the index records; 'b' records of blocks stored before stay and are read
// (docs/STORAGE.md). 5 and 6: index records keyed by height, then hash, instead of by hash
// alone. 7 and 8: the same records under kIndexPrefix instead of kLegacyIndexPrefix. Odd
// versions are without complete indexes, even ones with them.
inline constexpr std::uint32_t kFormatVersion = 8;
// What a node without indexes (--no-index) keeps its store at: the index records it may
// hold from an earlier run stop following the chain, so the next open with indexes must
// build them again, which is what the upgrade from format 1 does (docs/STORAGE.md).
inline constexpr std::uint32_t kUnindexedFormatVersion = 7;
// Formats before the flat files: 2 with indexes, 1 without.
inline constexpr std::uint32_t kLastDatabaseBodiesFormat = 2;
// Formats whose index records are under kLegacyIndexPrefix: 1 to 6.
inline constexpr std::uint32_t kLastLegacyIndexFormat = 6;
// Whether a store of format `version` holds complete indexes.
inline constexpr bool indexes_complete(std::uint32_t version) noexcept { return version % 2 == 0; }

using HashKey = std::array<std::uint8_t, 33>;  // prefix hash:32
using CoinKey = std::array<std::uint8_t, 37>;  // 'c' txid:32 index:u32be

HashKey hash_key(std::uint8_t prefix, const core::Uint256& hash) noexcept;
// A block index record's key: by height first, so that the records of a sync arrive in key
// order and LevelDB's compactions, which rewrite the key ranges that new records overlap,
// leave the older ones where they are (issue 10; a hash spreads them over every range).
using IndexKey = std::array<std::uint8_t, 37>;  // 'z' height:u32be hash:32
IndexKey index_key(std::uint32_t height, const core::Uint256& hash) noexcept;
CoinKey coin_key(const core::OutPoint& outpoint) noexcept;
// The outpoint of a 'c' key; kCorruption for another length or prefix.
util::Result<core::OutPoint> decode_coin_key(util::ByteSpan key);

util::Bytes coins_tip_key();  // 'm' "coins_tip"
util::Bytes version_key();    // 'm' "version"
// Present while the indexes' history entries ('t', 'a') are being built in the background:
// the hash of the block up to which (it and its ancestors) they are complete.
util::Bytes history_tip_key();  // 'm' "history_tip"

//   index_record := header:80 height:u32 status:u32 [file:u32 offset:u32 size:u32]
// The position (store/flat_files.hpp) is there when the body is in the flat files: status
// has kHaveData, and the record is 100 bytes. A record of 88 bytes with kHaveData names a
// body stored under 'b' (format 2 and before).
struct IndexRecord {
    core::BlockHeader header;
    std::uint32_t height = 0;
    std::uint32_t status = 0;
    store::FlatPos pos;  // null: no body in the flat files
};
inline constexpr std::size_t kIndexRecordSize = core::kHeaderSize + 8;
inline constexpr std::size_t kIndexRecordWithPosSize = kIndexRecordSize + 12;
struct EncodedIndex {
    std::array<std::uint8_t, kIndexRecordWithPosSize> bytes;
    std::size_t size = 0;
    util::ByteSpan span() const noexcept { return util::ByteSpan(bytes.data(), size); }
};
// `pos` is written when it is not null (and then status must have kHaveData).
EncodedIndex encode_index(const core::BlockHeader& header, std::uint32_t height,
                          std::uint32_t status, store::FlatPos pos = {}) noexcept;
util::Result<IndexRecord> decode_index(util::ByteSpan bytes);

//   coin := amount:u64 recipient:32 height:u32 coinbase:u8   (coinbase is 0 or 1)
inline constexpr std::size_t kCoinSize = 8 + 32 + 4 + 1;
std::array<std::uint8_t, kCoinSize> encode_coin(const Coin& coin) noexcept;
util::Result<Coin> decode_coin(util::ByteSpan bytes);

//   undo := n:compact_size coin*    (the coins a block spent, in input order)
util::Bytes encode_undo(const std::vector<Coin>& coins);
util::Result<std::vector<Coin>> decode_undo(util::ByteSpan bytes);

// Coins [first, first + count) of an undo record, without decoding the rest; kCorruption
// when the record is damaged or shorter than that.
util::Result<std::vector<Coin>> decode_undo_range(util::ByteSpan bytes, std::size_t first,
                                                  std::size_t count);

// --- Transaction index ---------------------------------------------------------------------
//
//   't' txid:32 block_hash:32 -> tx_location
//   tx_location := position:u32 offset:u32 size:u32 undo_first:u32
//
// One entry per block that holds the transaction (a reorg may put it in two), so a reader
// scans the txid's entries and keeps the one whose block is in the active chain. position
// is the index in the block's transactions; offset and size locate its bytes inside the
// stored block; undo_first is the index in the block's undo record of the coin its first
// input spent (the inputs of earlier transactions come before it).
using TxKey = std::array<std::uint8_t, 65>;
TxKey tx_key(const core::Uint256& txid, const core::Uint256& block_hash) noexcept;
// The block hash of a 't' key; kCorruption for another length or prefix.
util::Result<core::Uint256> decode_tx_key(util::ByteSpan key);

struct TxLocationRecord {
    std::uint32_t position = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    std::uint32_t undo_first = 0;

    friend bool operator==(const TxLocationRecord&, const TxLocationRecord&) = default;
};
inline constexpr std::size_t kTxLocationSize = 16;
std::array<std::uint8_t, kTxLocationSize> encode_tx_location(const TxLocationRecord& r) noexcept;
util::Result<TxLocationRecord> decode_tx_location(util::ByteSpan bytes);

// --- Address index -------------------------------------------------------------------------
//
//   'a' key:32 rheight:u32be block_hash:32 rposition:u32be -> txid:32 received:u64 sent:u64
//   rheight := 0xffffffff - height,  rposition := 0xffffffff - position
//
// One entry per transaction and x-only key that it pays (received: the sum of its outputs
// to the key) or spends from (sent: the sum of the key's coins its inputs spent). The
// reversed height and position make a forward scan of one key newest first; the block
// hash tells a reader whether the entry belongs to the active chain.
using AddressTxKey = std::array<std::uint8_t, 73>;
AddressTxKey address_tx_key(const core::XOnlyKey& key, std::uint32_t height,
                            const core::Uint256& block_hash, std::uint32_t position) noexcept;
struct AddressTxKeyParts {
    std::uint32_t height = 0;
    core::Uint256 block_hash;
    std::uint32_t position = 0;
};
util::Result<AddressTxKeyParts> decode_address_tx_key(util::ByteSpan key);

struct AddressTxRecord {
    core::Uint256 txid;
    core::Amount received = 0;
    core::Amount sent = 0;

    friend bool operator==(const AddressTxRecord&, const AddressTxRecord&) = default;
};
inline constexpr std::size_t kAddressTxSize = 32 + 8 + 8;
std::array<std::uint8_t, kAddressTxSize> encode_address_tx(const AddressTxRecord& r) noexcept;
util::Result<AddressTxRecord> decode_address_tx(util::ByteSpan bytes);

//   'o' key:32 txid:32 index:u32be -> (empty)
//
// Candidates for the key's unspent coins: every coin of the key in the coins set has one
// (a reader checks each against the coins to drop spent ones). See docs/STORAGE.md.
using AddressCoinKey = std::array<std::uint8_t, 69>;
AddressCoinKey address_coin_key(const core::XOnlyKey& key, const core::OutPoint& outpoint) noexcept;
util::Result<core::OutPoint> decode_address_coin_key(util::ByteSpan key);

// `prefix` followed by `bytes`: the scan prefix of one txid ('t') or one key ('a', 'o').
util::Bytes prefixed(std::uint8_t prefix, util::ByteSpan bytes);

util::Bytes encode_u32(std::uint32_t v);
util::Result<std::uint32_t> decode_u32(util::ByteSpan bytes);

}  // namespace peerchain::chain::storage
