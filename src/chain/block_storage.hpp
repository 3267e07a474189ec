// BlockStorage: the chain's blocks in the store, apart from the chain state: creating a
// store (its genesis block), checking its format and upgrading one of format 1, loading
// the block index records and the coins tip when the Chainstate opens, and reading block
// bodies and undo data. Keys and encodings are in storage_format.hpp; what is written
// when, and why a crash leaves a consistent store, in docs/STORAGE.md.
//
// Block bodies go to the flat files (store/flat_files.hpp, the data directory's blocks/);
// bodies of a store of format 2 or before stay under 'b' and are read from there.
//
// Ownership: borrows the database, the flat files and the params, which must outlive it.
// Thread-safety: the reading functions may run on any thread (the database allows
// concurrent reads beside its one writer). open_format and upgrade_indexes write; they run
// while the Chainstate opens, before anyone else can read.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "chain/block_index.hpp"
#include "chain/coin.hpp"
#include "chain/index.hpp"
#include "chain/storage_format.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/uint256.hpp"
#include "store/database.hpp"
#include "store/flat_files.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::chain {

// One block index record as stored, under the hash of its header.
struct StoredHeader {
    core::Uint256 hash;
    storage::IndexRecord record;
};

class BlockStorage {
  public:
    BlockStorage(store::Database& db, store::FlatFiles& files, const core::Params& params);

    // --- Opening ---------------------------------------------------------------------------

    // Checks the store's format version, first creating the store when the database is
    // empty: the version, the genesis block with its entries in `indexes`, and the coins
    // tip (genesis), in one synced batch (the genesis body goes to the flat files first).
    // A store of format 1 to 6 first has its index records moved to their keys under
    // kIndexPrefix (rekey_index), then is set to format 7 (without complete indexes) or 8
    // (with them); bodies stored under 'b' (formats 1 and 2) stay there.
    // Returns whether the store's indexes are incomplete (format 7), so that
    // upgrade_indexes must build them. Fails with kInvalidArgument on a newer
    // format, kCorruption on version 0 or on block index records without a version, and
    // with the store's error when a read or write fails. With no `indexes` (--no-index) the
    // store is created at, or set back to, kUnindexedFormatVersion (synced, before any
    // block is connected), and false is returned.
    util::Result<bool> open_format(std::span<Index* const> indexes);
    // Builds `indexes` over a store of format 7 and then writes the current version,
    // synced: first it erases every 'o' entry (left by a run with indexes before a run
    // without), then writes the entries of each block of `chain` (genesis to the coins tip,
    // in order) from the stored blocks and undo data, then those of each stored coin. Written in
    // batches of about 8 MB; a crash part way leaves the old version, and the next open
    // builds again. Logs its start, progress and end. Fails with the error of a read or
    // write, or kCorruption on a damaged record.
    util::Result<void> upgrade_indexes(std::span<const BlockIndex* const> chain,
                                       std::span<Index* const> indexes);
    // Every block index record, parents before children (by height). Fails with
    // kCorruption on a damaged record, one that holds another block's header, or a store
    // without a genesis block; with kInvalidArgument when the genesis block is another
    // network's (naming both); with the store's error when a read fails.
    util::Result<std::vector<StoredHeader>> load_headers() const;
    // The block the stored coins belong to (docs/STORAGE.md, 'm' "coins_tip"). kCorruption
    // when it is missing or damaged.
    util::Result<core::Uint256> coins_tip() const;

    // --- Reading ---------------------------------------------------------------------------

    // The stored block `hash`, whose body is at `pos` (a block's data_pos, read under the
    // chain's lock; null: under 'b'), as its bytes go on the wire. kNotFound when it is
    // not stored, kCorruption when the bytes there are not that block's.
    util::Result<util::Bytes> read_block_bytes(const core::Uint256& hash, store::FlatPos pos) const;
    // The same, decoded; kCorruption when it does not decode.
    util::Result<core::BlockPtr> read_block(const core::Uint256& hash, store::FlatPos pos) const;

    // --- Writing ---------------------------------------------------------------------------

    // Appends a block's bytes to the flat files (in memory until flush_blocks); the
    // position goes into its index record (docs/STORAGE.md, section 4). Chain executor
    // only.
    util::Result<store::FlatPos> append_block(util::ByteSpan bytes);
    // Writes the bodies appended so far (write(2): they survive a kill); before every
    // write to the database that may name them.
    util::Result<void> flush_blocks();
    // Flushes and makes them durable; before every synced write (a coins flush).
    util::Result<void> sync_blocks();

    // Reads the stored block at `index` and its undo data and appends what `indexes` write
    // for it (Index::index_stored_block) to `batch`: the upgrade from format 1 and the
    // index history built after a sync (chainstate_indexes.cpp) both go through here. Chain
    // executor only: reads the block's data_pos without the chain's lock.
    util::Result<void> index_stored_block(const BlockIndex* index, std::span<Index* const> indexes,
                                          store::WriteBatch& batch) const;
    // The whole undo data of `block` (stored at `index`): the coins its inputs spent, in
    // order; empty, and no read, when it spends none. kCorruption when the record is
    // missing, damaged, or holds another number of coins than the block spends.
    util::Result<std::vector<Coin>> read_undo(const BlockIndex* index,
                                              const core::Block& block) const;
    // Coins [first, first + count) of the block's undo data, without decoding the rest.
    // kCorruption when the record is missing, damaged or shorter.
    util::Result<std::vector<Coin>> read_undo_range(const BlockIndex* index, std::size_t first,
                                                    std::size_t count) const;

  private:
    util::Result<void> write_version(std::uint32_t version);
    // Moves every index record under kLegacyIndexPrefix (formats 1 to 6), keyed by hash
    // alone (1 to 4) or by height and hash (5, 6), to its key under kIndexPrefix, erasing
    // the old key in the same batch; synced at the end. Idempotent.
    util::Result<void> rekey_index();

    store::Database& db_;
    store::FlatFiles& files_;
    const core::Params& params_;
};

}  // namespace peerchain::chain
