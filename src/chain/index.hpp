// Index: an index of the active chain that the Chainstate keeps up to date (TxIndex,
// AddressIndex), and ChainView, what an index's queries ask of the chain. The seam of
// Bitcoin Core's src/index/ and btcd's blockchain/indexers/, but synchronous: an index
// writes its entries into the batch the Chainstate writes anyway for each block it
// connects (the block's undo data, usually its body and index record too), before the
// connection takes effect in memory, so the entries on disk never lag the chain they
// describe, after a crash too (docs/STORAGE.md, section 4).
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
};

class Index {
  public:
    virtual ~Index() = default;

    // --- Following the active chain ----------------------------------------------------

    // `block` joins the active chain: appends its entries to `batch`, which also carries
    // its undo data. No I/O.
    virtual void on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) = 0;
    // The batch of on_block_connected was written; the block joins the active chain in
    // memory next. Not called when the write failed.
    virtual void after_block_connected(const IndexedBlock& /*block*/) {}
    // `block` leaves the active chain: appends what that takes to `batch`, written (when
    // not empty) before the block leaves the active chain in memory. The block may come
    // back. No I/O.
    virtual void on_block_disconnected(const IndexedBlock& /*block*/,
                                       store::WriteBatch& /*batch*/) {}
    // The batch of on_block_disconnected was written; the block leaves the active chain in
    // memory next. Not called when the write failed.
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
    // store, or, when a store of format 1 is upgraded, each block from genesis to the
    // coins tip in order. Appends the entries that name the block to `batch`. No I/O.
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
};

}  // namespace peerchain::chain
