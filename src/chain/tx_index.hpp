// TxIndex: where each transaction of the active chain sits, by txid ('t' records,
// docs/STORAGE.md), so that a transaction is found with its block and the coins its inputs
// spent, read from the stored block and undo data.
//
// An entry names its block: a transaction that two branches hold has one entry per block,
// and a reader keeps the one whose block is in the active chain, so a reorg deletes
// nothing. The genesis transactions are indexed too.
//
// Ownership: borrows the database, the block storage and the chain view, which outlive it.
// Thread-safety: the Index hooks run on the chain executor; find() may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "chain/block_index.hpp"
#include "chain/coin.hpp"
#include "chain/index.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "store/database.hpp"

namespace peerchain::chain {

class BlockStorage;

// Where a transaction of the active chain sits, and what its inputs spent.
struct TxLocation {
    const BlockIndex* block = nullptr;
    std::uint32_t position = 0;  // in block->txs; 0 is the coinbase
    core::Transaction tx;
    // The coins its inputs spent, in input order (from the block's undo data); empty for a
    // coinbase. Fee = sum of their amounts - sum of tx's outputs.
    std::vector<Coin> spent;
};

class TxIndex final : public Index {
  public:
    TxIndex(const store::Database& db, const BlockStorage& blocks, const ChainView& chain);

    // A 't' entry per transaction.
    void on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) override;
    void index_stored_block(const IndexedBlock& block, store::WriteBatch& batch) override;

    // The transaction `txid` if a block of the active chain holds it, else nullopt (also on
    // a read error or damaged record, which is logged).
    std::optional<TxLocation> find(const core::Uint256& txid) const;

  private:
    const store::Database& db_;
    const BlockStorage& blocks_;
    const ChainView& chain_;
};

}  // namespace peerchain::chain
