// CoinStats: a digest of the coins (UTXO) set, as Bitcoin Core's gettxoutsetinfo gives,
// so that two nodes (or one node before and after a crash) can tell whether they hold
// exactly the same coins: `GET /chain/coins` (docs/API.md) answers with it.
//
// The digest is SHA-256 (single) over every coin of the set, in outpoint order (txid
// bytes compared as unsigned bytes, then the output index as a number: the order of the
// 'c' keys in the store), each serialized as
//
//   coin_record := txid:32 index:u32 amount:u64 recipient:32 height:u32 coinbase:u8
//
// 81 bytes, integers little-endian, txid in the byte order SHA-256 produced it (its hex
// text is reversed), coinbase 0 or 1. The empty set's digest is SHA-256 of nothing. The
// record is defined here, not by the storage encoding, so that a change of the store's
// format leaves the digest of a set alone.
//
// The computation reads a store snapshot, not the chain's cache: the caller takes the
// snapshot right after a coins flush (Chainstate::flush), on the chain executor, so that
// the coins on disk are the whole set of the tip (docs/STORAGE.md, section 4), and then
// walks it on any thread while the chain goes on. Memory: constant; work: one pass over
// the coins.
//
// Thread-safety: a pure function of the snapshot; the Chainstate is only queried.
#pragma once

#include <atomic>
#include <cstdint>

#include "chain/chainstate.hpp"
#include "core/amount.hpp"
#include "core/uint256.hpp"
#include "crypto/sha256.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace peerchain::chain {

struct CoinStats {
    std::uint32_t height = 0;  // of the coins tip
    core::Uint256 tip;         // the block whose coins these are ('m' "coins_tip")
    std::uint64_t coins = 0;   // unspent outputs
    core::Amount amount = 0;   // their sum, base units
    crypto::Digest digest{};   // see above
};

// The stats of the coins in `snapshot`, an iterator over the whole store (made with no
// prefix), at the coins tip that snapshot records. Fails with kCorruption for a damaged
// coin record, a missing coins tip or one the chain does not know, a sum beyond the money
// supply; with kIo or kCorruption when the store's read fails; with kUnavailable when
// `stop` (may be null) turns true during the walk.
util::Result<CoinStats> compute_coin_stats(store::Iterator& snapshot, const Chainstate& chain,
                                           const std::atomic<bool>* stop = nullptr);

}  // namespace peerchain::chain
