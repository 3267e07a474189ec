// Mempool: the node's pool of valid unconfirmed transactions, shared by relay
// (net/peer_manager), mining (mining/block_assembler) and the HTTP API and wallet.
//
// A transaction enters when it meets every consensus rule a block at the next height would
// apply (core/check.hpp, core/tx_verify.hpp, signatures) against the active chain's coins
// plus the outputs of transactions already in the pool (so chains of unconfirmed
// transactions work), and this node's policy: a minimum fee rate, a bounded chain of
// unconfirmed ancestors, a bounded pool. First seen wins: a transaction that spends an
// output another pool transaction spends is refused (txn-mempool-conflict).
//
// The pool is bounded by the bytes of its transactions; when full, the entries with the
// lowest fee rate (counting their descendants with them) are evicted until the new one
// fits, or the new one is refused when it pays no more than what it would evict (an equal
// rate would let a sender churn the pool for nothing).
//
// Block events: a connected block removes its transactions and everything in the pool
// that conflicts with them (with descendants). Transactions of blocks a reorg disconnects
// come back: add_disconnected() collects them and update_after_reorg() re-checks the
// whole pool against the new tip.
//
// Reject reasons (ValidationResult; docs/reject-reasons.md):
//   kInvalid: every token of check_transaction, check_tx_inputs and check_tx_signatures,
//             and `coinbase` (a coinbase outside a block). The sender is misbehaving.
//   kMissingPrev: bad-txns-inputs-missingorspent (an input is neither in the chain's
//             coins nor in the pool: an orphan, or a spend of a spent output).
//   kDuplicate: txn-already-in-mempool, txn-already-known (confirmed outputs exist).
//   kPolicy (never punished): txn-mempool-conflict (double spend of a pool transaction,
//             the detail names the pool transaction), min-fee-not-met, mempool-full,
//             too-long-mempool-chain, bad-txns-premature-spend-of-coinbase (may be
//             valid after a reorg, so not the sender's fault here).
//
// It hears the chain's events as the first subscriber of the node's event bus
// (chain/event_bus.hpp), so that relay and mining see a pool that already agrees with a
// new tip.
//
// Thread-safety: mutations (accept, the ChainObserver calls, remove_for_block,
// add_disconnected, update_after_reorg, load, clear) are called from the node's chain executor
// only, the same thread that mutates the Chainstate, so the coins they read do not move under them.
// Queries take an internal lock and may be called from any thread; they return copies
// and shared immutable transactions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "chain/chain_observer.hpp"
#include "chain/chainstate.hpp"
#include "core/amount.hpp"
#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace peerchain::mempool {

using TxPtr = std::shared_ptr<const core::Transaction>;

struct Options {
    // Sum of the serialized sizes of the pool's transactions.
    std::size_t max_bytes = 64u << 20;
    // Base units per byte of serialized transaction (Bitcoin's 1 sat/vB).
    core::Amount min_fee_rate = 1;
    // Unconfirmed ancestors a transaction may have, and descendants one may get
    // (Bitcoin: 25).
    std::size_t max_ancestors = 25;
    std::size_t max_descendants = 25;
};

// One pool transaction, as the queries return it.
struct Entry {
    TxPtr tx;
    core::Uint256 txid;
    core::Amount fee = 0;
    std::size_t size = 0;         // serialized bytes
    std::int64_t time = 0;        // when it entered (the clock's seconds)
    std::size_t ancestors = 0;    // unconfirmed ancestors in the pool (not counting itself)
    std::size_t descendants = 0;  // pool descendants (not counting itself)
    // fee and size of the entry plus all its pool ancestors: what mining ranks by.
    core::Amount ancestor_fee = 0;
    std::size_t ancestor_size = 0;
};

// What a block template takes from the pool.
struct Selection {
    std::vector<TxPtr> txs;  // parents before children
    core::Amount fees = 0;
    std::size_t bytes = 0;
};

class Mempool final : public chain::ChainObserver {
  public:
    // `chain`, `clock` must outlive the pool. The chain is read for coins and the tip.
    Mempool(const chain::Chainstate& chain, const util::Clock& clock, Options options = {});
    ~Mempool() override;
    Mempool(const Mempool&) = delete;
    Mempool& operator=(const Mempool&) = delete;

    // --- Chain executor only ---------------------------------------------------------------

    // Checks `tx` against the chain tip and the pool and adds it. Returns ok, or why it
    // was refused (see the reasons above); `*txid_out`, when given, gets its txid either
    // way. Evicts lower-fee-rate entries when the pool is full.
    core::ValidationResult accept(const TxPtr& tx, core::Uint256* txid_out = nullptr);
    // Who hears of each transaction accept() takes in (on_transaction_added, on the chain
    // executor, after the pool's lock is released): the node's event bus. nullptr: nobody.
    // Must outlive the pool or be replaced first.
    void set_observer(chain::ChainObserver* observer) noexcept { observer_ = observer; }

    // A block joined the active chain: drop its transactions and what conflicts with them.
    void remove_for_block(const core::Block& block);
    // A block left the active chain (a reorg, tip first): keep its transactions (not the
    // coinbase) to offer them back.
    void add_disconnected(const core::BlockPtr& block);
    // After a reorg settled (on_tip_changed): re-checks the pool and the disconnected
    // transactions against the new tip, oldest block first, and keeps those that are
    // still valid. Returns how many disconnected transactions came back.
    std::size_t update_after_reorg();

    // chain::ChainObserver: remove_for_block, add_disconnected, and update_after_reorg
    // once a reorg has settled (logged when transactions come back).
    void on_block_connected(const core::BlockPtr& block, const chain::BlockIndex* index) override;
    void on_block_disconnected(const core::BlockPtr& block,
                               const chain::BlockIndex* index) override;
    void on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                        const chain::BlockIndex* fork) override;

    // Writes every transaction (parents first) with its entry time, atomically
    // (path.tmp, fsync, then rename). Call on a clean shutdown. The file:
    //   file  := magic:"pcmp" version:u32(=1) count:compact_size entry{count}
    //   entry := time:i64 tx_len:compact_size tx:byte{tx_len}   (core/transaction.hpp)
    // Fails with kIo.
    util::Result<void> save(const std::filesystem::path& path) const;
    // Reads a file save() wrote and accepts each transaction again against the current
    // tip; returns how many came back. A missing file is zero; a corrupt one kCorruption
    // (after keeping what could be read before the damage): a bad magic or version, a
    // count or length beyond what the bytes could hold, a transaction that does not
    // decode, trailing bytes, or a file larger than twice max_bytes. Every transaction
    // goes through accept(), so a damaged but decodable one is refused like any other.
    util::Result<std::size_t> load(const std::filesystem::path& path);

    // --- Any thread ------------------------------------------------------------------------

    std::size_t size() const;
    std::size_t bytes() const;
    bool contains(const core::Uint256& txid) const;
    std::optional<Entry> get(const core::Uint256& txid) const;
    // Every entry, highest ancestor fee rate first.
    std::vector<Entry> entries() const;
    // The pool transaction that spends `outpoint`, if any.
    std::optional<core::Uint256> spender(const core::OutPoint& outpoint) const;
    // An output of a pool transaction (unconfirmed), if it exists.
    std::optional<core::TxOut> output(const core::OutPoint& outpoint) const;

    // Transactions for a block of at most `max_bytes` transaction bytes: by ancestor fee
    // rate (a child paying for its parents counts with them), parents before children,
    // skipping what does not fit.
    Selection select(std::size_t max_bytes) const;

    // A counter that changes whenever the pool's contents change (an entry added or
    // removed): a miner rebuilds its template when it moved.
    std::uint64_t generation() const;

  private:
    class Impl;
    chain::ChainObserver* observer_ = nullptr;
    std::unique_ptr<Impl> impl_;
};

}  // namespace peerchain::mempool
