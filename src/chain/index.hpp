// Index: an index of the active chain that the Chainstate keeps up to date (TxIndex,
// AddressIndex), and ChainView, what an index's queries ask of the chain. The seam of
// Bitcoin Core's src/index/ and btcd's blockchain/indexers/, driven by the chain: for each
// block it connects or disconnects, the Chainstate collects the indexes' entries in one
// batch and queues it for its index writer before the change takes effect in memory (in
// initial sync, the batch joins the block's own records in the sync batch). Every coins
// flush waits until the writer has written what it was given, and every query waits for
// the entries of the blocks already connected (ChainView::wait_for_index_entries), so
// neither a reader nor a reopened store sees them lag the chain (docs/STORAGE.md,
// section 4).
//
// The Chainstate calls a list of indexes, which may be empty: validation and the store's
// chain records never depend on one. What an index answers, it answers through its own
// query functions, which the Chainstate's queries delegate to.
//
// Ownership: the Chainstate owns its indexes; an index borrows the database and the
// ChainView, which outlive it.
// Thread-safety: the Index hooks are called on the chain executor, one at a time (or
// while the Chainstate opens). ChainView functions may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "chain/block_index.hpp"
#include "chain/coin.hpp"
#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "store/write_batch.hpp"
#include "util/result.hpp"

namespace peerchain::chain {

// A block as an index sees it. The references are valid during the call only.
struct IndexedBlock {
    const core::Block& block;
    core::Uint256 hash;
    std::uint32_t height = 0;
    std::span<const core::Uint256> txids;  // of block.txs, in order
    // The coins its inputs spend, transaction by transaction, input by input: its undo
    // data. Empty when it spends nothing.
    std::span<const Coin> spent;
    // False during initial sync: the block's history entries (the transaction index, the
    // address histories) are left to the background build (Chainstate::build_indexes);
    // what follows the coins set (the address coin entries) is written all the same.
    bool with_history = true;
};

class Index {
  public:
    virtual ~Index() = default;

    // --- Following the active chain ----------------------------------------------------

    // `block` joins the active chain: appends its entries to `batch`, which goes to the
    // index writer (during initial sync, to the sync batch with the block's own records)
    // only if the block passes its signature checks, which may still run meanwhile. No I/O.
    virtual void on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) = 0;
    // The batch of on_block_connected was queued; the block joins the active chain in
    // memory next. Not called when the block failed or its records' write did.
    virtual void after_block_connected(const IndexedBlock& /*block*/) {}
    // `block` leaves the active chain: appends what that takes to `batch`, queued for the
    // index writer before the block leaves the active chain in memory. The block may come
    // back. No I/O.
    virtual void on_block_disconnected(const IndexedBlock& /*block*/,
                                       store::WriteBatch& /*batch*/) {}
    // The batch of on_block_disconnected was queued; the block leaves the active chain in
    // memory next. Not called when queueing failed.
    virtual void after_block_disconnected(const IndexedBlock& /*block*/) {}
    // The coins are flushed: appends to the batch that writes the coins and the tip they
    // belong to, synced. No I/O.
    virtual void on_flush(store::WriteBatch& /*batch*/) {}
    // The batch of on_flush was written. Not called when the write failed.
    virtual void after_flush() {}
    // The heap the index holds until the next flush; it counts toward the coins cache's
    // limit, which triggers a flush.
    virtual std::size_t memory_usage() const { return 0; }

    // --- Building the index over blocks already connected ------------------------------

    // `block` is in the active chain and its coins are applied: the genesis block of a new
    // store; when a store without complete indexes is upgraded, each block from genesis to the
    // coins tip in order; after an initial sync, each block whose history it left out, in order
    // (Chainstate::build_indexes). Appends the entries that name the block to `batch`. No
    // I/O.
    virtual void index_stored_block(const IndexedBlock& block, store::WriteBatch& batch) = 0;
    // After the upgrade's blocks: one coin of the stored coins set. No I/O.
    virtual void index_stored_coin(const core::OutPoint& /*outpoint*/, const Coin& /*coin*/,
                                   store::WriteBatch& /*batch*/) {}
};

// What an index's queries ask of the chain; the Chainstate answers under its lock.
class ChainView {
  public:
    virtual ~ChainView() = default;

    // The block `hash` if it is in the active chain, else nullptr.
    virtual const BlockIndex* find_active(const core::Uint256& hash) const = 0;
    // The block of the active chain at `height`, or nullptr.
    virtual const BlockIndex* at_height(std::uint32_t height) const = 0;
    // Counts the changes of the coins set (blocks connected or disconnected): a reader that
    // sees the same count before and after its reads saw one coins set.
    virtual std::uint64_t coins_generation() const = 0;
    // The unspent coins among `outpoints`, from the coins cache, then the store (which
    // holds what the last flush wrote), in no particular order. Fails when a read fails or
    // a stored coin is damaged.
    virtual util::Result<std::vector<std::pair<core::OutPoint, Coin>>> unspent_coins(
        const std::vector<core::OutPoint>& outpoints) const = 0;
    // Waits until the index entries of every block connected or disconnected so far are
    // in the store: they are written a little after the block joins or leaves the active
    // chain. A query calls it before it reads them.
    virtual void wait_for_index_entries() const = 0;
    // The stored bytes of the block `index` (one the view returned); kNotFound when its
    // body is not stored, the store's error when the read fails.
    virtual util::Result<util::Bytes> read_block_bytes(const BlockIndex* index) const = 0;
};

}  // namespace peerchain::chain
