// Chainstate::Impl: the state behind a Chainstate and the functions that change it. Three
// files implement it: chainstate.cpp (opening, headers, accepting blocks, the observer's
// events, queries and the public functions), chainstate_activation.cpp (moving the active
// chain: choosing the best chain, connecting and disconnecting blocks with their coins,
// undo data and index entries, reorgs, and flushing the coins) and chainstate_indexes.cpp
// (the index history left out during initial sync and built after it). Private to the
// chain module: only those files include it.
//
// Ownership: the Chainstate owns its Impl, which owns the header tree, the coins cache,
// the indexes and the block storage, and borrows the database, the params, the clock and
// the observer.
// Thread-safety: as chainstate.hpp says. mutex_ guards what queries from other threads
// read; the members marked "chain executor only" are touched by the chain executor alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chain/address_index.hpp"
#include "chain/block_storage.hpp"
#include "chain/block_tree.hpp"
#include "chain/chainstate.hpp"
#include "chain/coins_cache.hpp"
#include "chain/index.hpp"
#include "chain/script_check_pool.hpp"
#include "chain/tx_index.hpp"
#include "core/validation.hpp"
#include "store/background_writer.hpp"
#include "store/write_batch.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::chain {

class Chainstate::Impl final : public ChainView {
  public:
    Impl(store::Database& db, std::unique_ptr<store::FlatFiles> files, const core::Params& params,
         const util::Clock& clock, ChainObserver* observer, ChainstateOptions options)
        : db_(db),
          params_(params),
          clock_(clock),
          observer_(observer),
          options_(options),
          files_(std::move(files)),
          storage_(db, *files_, params),
          tx_index_(db, storage_, *this),
          address_index_(db, *this),
          indexes_(options.indexes ? std::vector<Index*>{&tx_index_, &address_index_}
                                   : std::vector<Index*>{}),
          script_pool_(options.script_threads),
          writer_(db, kMaxWriterQueueBytes, "chain-writer") {}

    ~Impl() override;  // flushes

    util::Result<void> load();

    core::ValidationResult process_header(const core::BlockHeader& header, const BlockIndex** out);
    core::ValidationResult process_headers(const std::vector<core::BlockHeader>& headers,
                                           const BlockIndex** last,
                                           std::span<const core::Uint256> hashes);
    // `checked`: check_block_alone of `block`, or null to run it here.
    core::ValidationResult process_block(const core::BlockPtr& block, bool* is_new,
                                         const core::CheckedBlock* checked);
    util::Result<void> flush_coins();
    // write_unwritten_headers, then flush_coins: everything in memory reaches the store.
    util::Result<void> flush_all();
    // Writes the block records held for the sync batch and waits until the writer has
    // them, and every record before them, in the store.
    util::Result<void> write_held();

    // Queries.
    const BlockIndex* tip() const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return active_.back();
    }
    const BlockIndex* best_header() const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        // On equal work the tip wins, as it does for fork choice: a header of a branch
        // that only ties the active chain is not "ahead" of it. (After a restart the tree
        // breaks ties by load order, which need not be the order the node saw them in.)
        const BlockIndex* best = tree_.best_header();
        const BlockIndex* tip = active_.back();
        if (best == nullptr || tip->chain_work >= best->chain_work) return tip;
        return best;
    }
    const BlockIndex* genesis() const noexcept { return genesis_; }
    const BlockIndex* lookup(const core::Uint256& hash) const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return tree_.find(hash);
    }
    const BlockIndex* at_height(std::uint32_t height) const override EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return height < active_.size() ? active_[height] : nullptr;
    }
    bool in_active_chain(const BlockIndex* index) const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return in_active_locked(index);
    }
    std::uint32_t status(const BlockIndex* index) const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return index->status;
    }
    ChainStats stats() const EXCLUDES(mutex_);
    std::vector<core::Uint256> locator(const BlockIndex* from) const;
    const BlockIndex* find_fork(const std::vector<core::Uint256>& locator) const EXCLUDES(mutex_);
    // kNotFound when the block's body is not stored.
    util::Result<util::Bytes> read_block_bytes(const BlockIndex* index) const override
        EXCLUDES(mutex_);
    util::Result<core::BlockPtr> read_block(const BlockIndex* index) const EXCLUDES(mutex_);
    // Where the body of `index` is (null: under 'b'), under the lock; kNotFound when the
    // block is not stored.
    util::Result<store::FlatPos> body_position(const BlockIndex* index) const EXCLUDES(mutex_);
    std::optional<Coin> coin(const core::OutPoint& outpoint) const EXCLUDES(mutex_);
    // Without indexes their records may be those of an earlier run, which no longer follow
    // the chain: nothing is read from them.
    bool has_indexes() const noexcept { return !indexes_.empty(); }
    std::optional<TxLocation> find_transaction(const core::Uint256& txid) const {
        if (!has_indexes()) return std::nullopt;
        return tx_index_.find(txid);
    }
    std::vector<AddressTx> address_history(const core::XOnlyKey& key, std::size_t limit) const {
        if (!has_indexes()) return {};
        return address_index_.history(key, limit);
    }
    std::vector<std::pair<core::OutPoint, Coin>> address_coins(const core::XOnlyKey& key) const {
        if (!has_indexes()) return {};
        return address_index_.coins(key);
    }
    NextBlockContext next_block_context() const EXCLUDES(mutex_);

    const core::Params& params() const noexcept { return params_; }

    // ChainView, for the indexes' queries.
    const BlockIndex* find_active(const core::Uint256& hash) const override EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        const BlockNode* b = tree_.find(hash);
        return b != nullptr && in_active_locked(b) ? b : nullptr;
    }
    std::uint64_t coins_generation() const override EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return coins_generation_;
    }
    util::Result<std::vector<std::pair<core::OutPoint, Coin>>> unspent_coins(
        const std::vector<core::OutPoint>& outpoints) const override EXCLUDES(mutex_);
    void wait_for_index_entries() const override;
    Chainstate::IndexProgress index_progress() const EXCLUDES(mutex_);
    util::Result<bool> build_indexes(std::chrono::milliseconds budget);

  private:
    // What the batches queued for the writer may hold, at most, before the chain waits for
    // it: a few large blocks' index entries.
    static constexpr std::size_t kMaxWriterQueueBytes = std::size_t{32} << 20;

    // Blocks (connected or disconnected) and refusals, held until flush_events() tells the
    // observer, with no lock held.
    struct Event {
        enum class Kind { kConnected, kDisconnected, kRejected };
        Kind kind;
        core::BlockPtr block;
        const BlockIndex* index = nullptr;
        core::Uint256 hash;
        core::ValidationResult why;
        std::chrono::nanoseconds took{0};  // kConnected: checking and connecting it
    };

    static core::ValidationResult store_failure(const util::Error& e) {
        return core::ValidationResult::fail(core::ValidationCode::kInternal, "store-failure",
                                            e.to_string());
    }
    // Nodes are owned, mutable, by the tree; the public type hands out const pointers.
    static BlockNode* mut(const BlockIndex* index) {
        return const_cast<BlockNode*>(static_cast<const BlockNode*>(index));
    }

    bool in_active_locked(const BlockIndex* index) const REQUIRES(mutex_) {
        return index != nullptr && index->height < active_.size() &&
               active_[index->height] == index;
    }
    BlockNode* tip_node() const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return active_.back();
    }

    core::ValidationResult accept_header(const core::BlockHeader& header, const core::Uint256& hash,
                                         BlockNode** out, store::WriteBatch* batch);
    // Logs a refusal and queues its event; reject() also returns it.
    void note_rejected(const core::Uint256& hash, const core::ValidationResult& why);
    core::ValidationResult reject(const core::Uint256& hash, core::ValidationResult why);
    void mark_failed(BlockNode* node, const core::ValidationResult& why, store::WriteBatch& batch);
    void flush_events();

    // In chainstate_activation.cpp.
    core::ValidationResult activate_best_chain(const BlockNode* processed,
                                               core::ValidationResult* processed_result);
    core::ValidationResult connect_block(BlockNode* node);
    // Whether --assume-valid lets `node` connect without its signatures checked
    // (assume_valid.hpp); false when the option is off.
    bool signatures_assumed_valid(const BlockNode* node) const EXCLUDES(mutex_);
    core::ValidationResult disconnect_tip();
    util::Result<core::BlockPtr> get_block(const BlockIndex* index) const;
    util::Result<std::optional<Coin>> fetch_coin(const CoinsDelta& delta,
                                                 const core::OutPoint& outpoint) const
        EXCLUDES(mutex_);
    core::ValidationResult maybe_flush();
    // flush_coins with the write left to the writer (during initial sync): it syncs the
    // block files and writes the coins, synced, while the chain goes on (docs/STORAGE.md,
    // section 3). Reads of the store that miss the cache wait for it (coins_written_).
    util::Result<void> flush_coins_behind();
    // A coins flush's batch: every dirty coin, the coins tip, and what the indexes write
    // with it.
    store::WriteBatch coins_flush_batch();
    // Once that batch is written, or handed to the writer as `ticket` (0: written here):
    // the cache forgets what it holds.
    void coins_flushed(store::BackgroundWriter::Ticket ticket);
    // Waits until every batch queued for the writer is in the store.
    util::Result<void> wait_written() const;
    // Waits until the last coins flush is in the store, when a read of a coin missed the
    // cache after `ticket` was taken from coins_written_ (under mutex_).
    util::Result<void> wait_coins_written(store::BackgroundWriter::Ticket ticket) const;
    // Writes the held-back block with its index record (status plus `extra_status`), or
    // adds them to sync_batch_ when `hold`.
    util::Result<void> write_pending(std::uint32_t extra_status, bool hold = false);
    // Writes `batch` after the held-back block, sync_batch_ and the records the writer
    // holds (records_queued_); returns once it is in the store.
    util::Result<void> write(const store::WriteBatch& batch, bool sync = false);
    // Hands a block's index entries to the writer (waits while its queue is full).
    util::Result<void> queue_index_entries(store::WriteBatch entries);
    // In chainstate_indexes.cpp: reads history_tip_ from the store (load()).
    util::Result<void> load_history_tip();
    // Initial sync (docs/STORAGE.md, section 3): whether the best header is far enough
    // ahead of the tip that block records may wait in sync_batch_.
    bool syncing() const EXCLUDES(mutex_);
    // Adds a connected block's records to sync_batch_ (write_sync_batch_if_full decides).
    util::Result<void> hold(const store::WriteBatch& batch);
    util::Result<void> write_sync_batch_if_full();
    util::Result<void> write_sync_batch();
    // Writes the records of the headers process_headers marked (every header it accepts;
    // during initial sync they wait) that are still headers only: a block stored,
    // connected or failed since had its record written with it.
    util::Result<void> write_unwritten_headers();

    store::Database& db_;
    const core::Params& params_;
    const util::Clock& clock_;
    ChainObserver* const observer_;
    const ChainstateOptions options_;
    const std::unique_ptr<store::FlatFiles> files_;  // the block bodies
    BlockStorage storage_;
    TxIndex tx_index_;
    AddressIndex address_index_;
    // Every index the chain keeps up to date, in the order they write.
    const std::vector<Index*> indexes_;

    // Guards the tree, the active chain and the coins cache, and every node's status.
    // Only the chain executor changes them (holding the lock); it also reads node fields
    // without the lock, which is safe because no one else writes them.
    mutable util::Mutex mutex_;
    BlockTree tree_ GUARDED_BY(mutex_);
    std::vector<BlockNode*> active_ GUARDED_BY(mutex_);
    CoinsCache coins_ GUARDED_BY(mutex_);
    // Counts changes of the coins set (blocks connected or disconnected), so that a reader
    // can tell whether it saw one coins set from start to end.
    std::uint64_t coins_generation_ GUARDED_BY(mutex_) = 0;
    // The indexes' history entries are complete for this block and its ancestors and
    // missing after it, until build_indexes() writes them; nullptr when complete. Changed
    // by the chain executor only (docs/STORAGE.md, section 3).
    const BlockIndex* history_tip_ GUARDED_BY(mutex_) = nullptr;
    // The writer's ticket of the last coins flush left to it (0: none): the cache forgot
    // what that flush holds, so a read that misses the cache waits for it.
    store::BackgroundWriter::Ticket coins_written_ GUARDED_BY(mutex_) = 0;
    BlockNode* genesis_ = nullptr;  // set once by load()

    // Chain executor only.
    ScriptCheckPool script_pool_;
    std::uint32_t changed_since_flush_ = 0;  // blocks connected or disconnected
    bool notify_ = false;                    // false while opening
    std::vector<Event> events_;
    std::size_t pending_blocks_ = 0;
    const BlockIndex* notified_tip_ = nullptr;
    // The block process_block is handling, so that connecting it needs no read back.
    core::Uint256 current_hash_;
    core::BlockPtr current_block_;
    std::vector<core::Uint256> current_txids_;  // of current_block_, by check_block
    // Its index record (with the body's position in the flat files), held back until it
    // connects (the common case in sync) or process_block returns, so that the record, the
    // undo data and the connection reach the store in one write. Any other write goes
    // after it (write()), so records of one key keep their order.
    store::WriteBatch pending_;
    BlockNode* pending_node_ = nullptr;
    // During initial sync, the records of the blocks accepted or connected since the last
    // write, in order, written as one batch before any other write (write()), before a
    // disconnect reads undo data, and when it is full, old or the sync is over. Their
    // bodies are in the flat files already. sync_batch_blocks_ counts the blocks connected
    // into it, since sync_batch_started_.
    store::WriteBatch sync_batch_;
    std::uint32_t sync_batch_blocks_ = 0;
    // Headers accepted during initial sync whose records were not written, marked
    // BlockNode::record_unwritten (docs/STORAGE.md, section 3): as Bitcoin Core writes
    // block-index entries at a flush, most of them are written once, when their block
    // connects, not a first time as headers. How many were marked, and the tree position
    // (insertion order) of the first.
    std::size_t unwritten_headers_ = 0;
    std::size_t unwritten_from_ = 0;
    std::chrono::steady_clock::time_point sync_batch_started_;
    // The writer's ticket of the last batch of the chain's own records it was given (a
    // sync batch or a coins flush, not index entries): write() and write_held() wait for
    // it, so that those records land in order.
    store::BackgroundWriter::Ticket records_queued_ = 0;

    // Writes, off the chain executor and in the order they were given, the indexes'
    // entries of each block and, during initial sync, sync_batch_ and the coins flushes
    // (docs/STORAGE.md, sections 3 and 4). Any other write waits for the records it holds
    // first (write()), and any read of what it may hold waits for that. Mutable: readers
    // wait on it. Last: it writes what is queued when destroyed, before the members above
    // go.
    mutable store::BackgroundWriter writer_;
};

}  // namespace peerchain::chain
