// AddressIndex: for each x-only key, the transactions of the active chain that pay it or
// spend its coins ('a' records, newest first), and candidates for its unspent coins ('o'
// records), as docs/STORAGE.md lays them out.
//
// History entries name their block, like the transaction index's, so a reorg deletes
// nothing. Coin entries follow the coins set: every coin in it has its entry, on disk and
// at every instant that a reader sees (it waits for the index writer). An entry is queued
// (in the block's batch) before its coin joins the coins set in memory, or comes back to
// it when a block is disconnected; the entries of coins that left the set are erased by
// the coins flush that erases the coins, and the index keeps their keys in memory until
// then. The genesis coinbase, which never enters
// the coins set, has neither kind.
//
// Ownership: borrows the database and the chain view, which outlive it.
// Thread-safety: the Index hooks run on the chain executor; history() and coins() may run
// on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chain/coin.hpp"
#include "chain/index.hpp"
#include "core/amount.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "store/database.hpp"

namespace peerchain::chain {

// One transaction that pays or spends from a key.
struct AddressTx {
    core::Uint256 txid;
    std::uint32_t height = 0;
    core::Uint256 block_hash;
    std::uint32_t position = 0;  // in the block's transactions
    core::Amount received = 0;   // its outputs to the key
    core::Amount sent = 0;       // the key's coins its inputs spent
};

class AddressIndex final : public Index {
  public:
    AddressIndex(const store::Database& db, const ChainView& chain);

    // An 'a' entry per transaction and key it pays or spends from; an 'o' entry per output.
    void on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) override;
    void after_block_connected(const IndexedBlock& block) override;
    // An 'o' entry per coin the block's inputs spent: they are coins again.
    void on_block_disconnected(const IndexedBlock& block, store::WriteBatch& batch) override;
    void after_block_disconnected(const IndexedBlock& block) override;
    // Erases the 'o' entries of the coins that left the coins set since the last flush.
    void on_flush(store::WriteBatch& batch) override;
    void after_flush() override;
    std::size_t memory_usage() const override;
    // 'a' entries only; the 'o' entries come from the stored coins.
    void index_stored_block(const IndexedBlock& block, store::WriteBatch& batch) override;
    void index_stored_coin(const core::OutPoint& outpoint, const Coin& coin,
                           store::WriteBatch& batch) override;

    // The transactions of the active chain that pay `key` or spend its coins, newest first
    // (by height, then by position in the block), at most `limit`. A read error ends the
    // list early (logged).
    std::vector<AddressTx> history(const core::XOnlyKey& key, std::size_t limit) const;
    // The unspent coins of `key` in the active chain, in outpoint order, exact for one
    // tip: when blocks connect during the call it starts over (a few times). Empty on a
    // read error (logged).
    std::vector<std::pair<core::OutPoint, Coin>> coins(const core::XOnlyKey& key) const;

  private:
    using OwnerMap = std::unordered_map<core::OutPoint, core::XOnlyKey, core::OutPointHasher>;

    void put_history(const IndexedBlock& block, store::WriteBatch& batch) const;

    const store::Database& db_;
    const ChainView& chain_;
    // Chain executor only: the 'o' entries of coins that left the coins set since the last
    // flush, erased by the next flush in the batch that erases the coins.
    OwnerMap owned_to_erase_;
};

}  // namespace peerchain::chain
