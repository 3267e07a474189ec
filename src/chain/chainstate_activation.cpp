#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "chain/assume_valid.hpp"
#include "chain/chainstate_impl.hpp"
#include "chain/storage_format.hpp"
#include "core/check.hpp"
#include "core/sighash.hpp"
#include "core/tx_verify.hpp"

namespace peerchain::chain {

using core::ValidationCode;
using core::ValidationResult;

namespace {

// Blocks (connected or disconnected) whose events are held before the observer hears of
// them: bounds the memory a long activation (a deep reorg, a burst of out-of-order
// blocks) keeps alive. The observer hears of the tip after each such batch.
constexpr std::size_t kMaxPendingBlocks = 32;
// The bytes of records a sync batch gathers before it is written, whatever its age: bounds
// the memory its records and the bodies kept for readers take.
constexpr std::size_t kMaxSyncBatchBytes = 16u << 20;

}  // namespace

// --- Activation --------------------------------------------------------------------------

util::Result<core::BlockPtr> Chainstate::Impl::get_block(const BlockIndex* index) const {
    if (current_block_ != nullptr && index->hash == current_hash_) return current_block_;
    return read_block(index);
}

util::Result<std::optional<Coin>> Chainstate::Impl::fetch_coin(
    const CoinsDelta& delta, const core::OutPoint& outpoint) const {
    if (const std::optional<Coin>* d = delta.find(outpoint)) return *d;
    store::BackgroundWriter::Ticket flushed = 0;
    {
        util::LockGuard lock(mutex_);
        if (const CoinsCache::Entry* e = coins_.find(outpoint)) {
            return e->spent ? std::optional<Coin>() : std::optional<Coin>(e->coin);
        }
        flushed = coins_written_;
    }
    // The last coins flush may still be with the writer (see coin()).
    if (auto w = wait_coins_written(flushed); !w) return util::Unexpected(w.error());
    auto value = db_.get(storage::coin_key(outpoint));
    if (!value) return util::Unexpected(std::move(value).error());
    if (!*value) return std::optional<Coin>();
    auto coin = storage::decode_coin(**value);
    if (!coin) return util::Unexpected(std::move(coin).error());
    return std::optional<Coin>(*coin);
}

ValidationResult Chainstate::Impl::activate_best_chain(const BlockNode* processed,
                                                       ValidationResult* processed_result) {
    for (;;) {
        BlockNode* best = nullptr;
        BlockNode* tip = nullptr;
        {
            util::LockGuard lock(mutex_);
            best = tree_.best_candidate();
            tip = active_.back();
        }
        if (best == nullptr || best->chain_work <= tip->chain_work) break;

        const BlockIndex* fork = last_common_ancestor(tip, best);
        if (fork != tip) {
            spdlog::info("chain: reorganizing from {} to {}, {} blocks back to {}", describe(tip),
                         describe(best), tip->height - fork->height, describe(fork));
        }
        while (tip_node() != fork) {
            if (auto r = disconnect_tip(); !r) return r;
            if (auto r = maybe_flush(); !r) return r;
            if (pending_blocks_ >= kMaxPendingBlocks) flush_events();
        }
        std::vector<BlockNode*> path;
        for (const BlockIndex* b = best; b != fork; b = b->prev) path.push_back(mut(b));
        std::reverse(path.begin(), path.end());
        for (BlockNode* node : path) {
            ValidationResult r = connect_block(node);
            if (r.code == ValidationCode::kInternal) return r;
            if (!r) {
                store::WriteBatch batch;
                mark_failed(node, r, batch);
                if (auto w = write(batch); !w) return store_failure(w.error());
                if (node == processed) *processed_result = std::move(r);
                break;  // choose again: the best valid chain may be the one we left
            }
            if (auto f = maybe_flush(); !f) return f;
            if (pending_blocks_ >= kMaxPendingBlocks) flush_events();
        }
    }
    util::LockGuard lock(mutex_);
    tree_.prune_candidates(active_.back());
    return ValidationResult::ok();
}

ValidationResult Chainstate::Impl::connect_block(BlockNode* node) {
    const auto started = std::chrono::steady_clock::now();
    auto loaded = get_block(node);
    if (!loaded) return store_failure(loaded.error());
    const core::BlockPtr& ptr = *loaded;
    const core::Block& block = *ptr;
    const std::uint32_t height = node->height;

    if (auto r = core::check_block_context(block, height); !r) return r;
    // Under --assume-valid (issue 10) the spent outputs and signature hashes, which serve
    // only the signature checks, are not gathered either. Every other rule still applies.
    const bool check_signatures = !signatures_assumed_valid(node);

    CoinsDelta delta;
    std::vector<Coin> undo;
    // The block being processed was hashed by check_block; a block read back is hashed here.
    const bool have_txids = ptr == current_block_ && current_txids_.size() == block.txs.size();
    std::vector<core::Uint256> txids;
    txids.reserve(block.txs.size());
    core::Amount fees = 0;
    // The outputs each transaction's inputs spend, in input order (what signatures sign).
    std::vector<std::vector<core::TxOut>> spent(block.txs.size());
    struct SigJob {
        std::uint32_t tx;
        std::uint32_t input;
    };
    // One signature hasher per spending transaction, built once its spent outputs are known.
    std::vector<std::optional<core::SignatureHasher>> hashers(block.txs.size());
    auto tx_detail = [&](std::size_t t, const std::string& what) {
        return "tx " + block.txs[t].txid().to_hex() + ": " + what;
    };
    // The signature checks run on the pool while this thread goes on through the coins:
    // each transaction's jobs become ready once its spent outputs and hasher are in place.
    // Sized up front, so that adding jobs never moves those being checked.
    std::size_t inputs = 0;
    if (check_signatures) {
        for (std::size_t t = 1; t < block.txs.size(); ++t) inputs += block.txs[t].inputs.size();
    }
    std::vector<SigJob> jobs(inputs);
    std::size_t job_count = 0;
    const std::function<bool(std::size_t)> check = [&](std::size_t j) {
        const SigJob& job = jobs[j];
        return core::verify_input(*hashers[job.tx], block.txs[job.tx], job.input, spent[job.tx]);
    };
    ScriptCheckPool::Batch checks(script_pool_, check);

    for (std::size_t t = 0; t < block.txs.size(); ++t) {
        const core::Transaction& tx = block.txs[t];
        if (t > 0) {
            std::vector<Coin> coins;
            coins.reserve(tx.inputs.size());
            if (check_signatures) spent[t].reserve(tx.inputs.size());
            for (std::size_t k = 0; k < tx.inputs.size(); ++k) {
                const core::OutPoint& prevout = tx.inputs[k].prevout;
                // Coins spent earlier in this block are gone from the delta, and outputs
                // of later transactions are not in it yet: both read as missing.
                auto fetched = fetch_coin(delta, prevout);
                if (!fetched) return store_failure(fetched.error());
                if (!*fetched) {
                    return ValidationResult::invalid(
                        "bad-txns-inputs-missingorspent",
                        tx_detail(t, "input " + std::to_string(k) + " spends " +
                                         prevout.txid.to_hex() + ":" +
                                         std::to_string(prevout.index)));
                }
                coins.push_back(**fetched);
                if (check_signatures) spent[t].push_back(coins.back().out);
                undo.push_back(coins.back());
                delta.spend(prevout);
            }
            core::Amount fee = 0;
            if (auto r = core::check_tx_inputs(tx, coins, height, params_, &fee); !r) return r;
            fees += fee;
            if (!core::money_range(fees)) {
                return ValidationResult::invalid("bad-txns-accumulated-fee-outofrange");
            }
            if (check_signatures) {
                hashers[t].emplace(tx, spent[t], params_);
                for (std::size_t k = 0; k < tx.inputs.size(); ++k) {
                    jobs[job_count++] = {static_cast<std::uint32_t>(t),
                                         static_cast<std::uint32_t>(k)};
                }
                checks.add_ready(job_count);
            }
        }
        const core::Uint256& txid = txids.emplace_back(have_txids ? current_txids_[t] : tx.txid());
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            delta.add({txid, static_cast<std::uint32_t>(k)}, Coin{tx.outputs[k], height, t == 0});
        }
    }
    if (auto r = core::check_coinbase_value(block, height, fees, params_); !r) return r;

    // While the pool checks: the index entries, which are written only if the block passes.
    // During initial sync the history entries are left for build_indexes(), from the tip
    // where the sync starts (a mark in the store says where) until it has caught up.
    const bool hold_records = syncing();
    const BlockIndex* history_tip = nullptr;
    {
        util::LockGuard lock(mutex_);
        history_tip = history_tip_;
    }
    const bool defer_starts = !indexes_.empty() && history_tip == nullptr && hold_records;
    IndexedBlock indexed{block, node->hash, height, txids, undo};
    indexed.with_history = history_tip == nullptr && !defer_starts;
    store::WriteBatch index_entries;
    for (Index* index : indexes_) index->on_block_connected(indexed, index_entries);

    if (const auto failed = checks.finish()) {
        const SigJob& job = jobs[*failed];
        return ValidationResult::invalid(
            "bad-txns-signature",
            tx_detail(job.tx, "input " + std::to_string(job.input) + " has an invalid signature"));
    }

    // The undo data is written before the connection takes effect in memory (docs/
    // STORAGE.md, section 4), or, during initial sync, goes in the sync batch that is
    // written before anything else. A block that spends nothing has no undo record. The
    // index entries go to the index writer, after the block's own records; during initial
    // sync they wait in the sync batch with the block's body and undo data, which the
    // index queries read.
    const std::uint32_t status = node->status | kHaveUndo;
    store::WriteBatch batch;
    store::WriteBatch& out = node == pending_node_ ? pending_ : batch;
    if (!undo.empty()) {
        out.put(storage::hash_key(storage::kUndoPrefix, node->hash), storage::encode_undo(undo));
    }
    if (hold_records && !index_entries.empty()) {
        out.append(index_entries);
        index_entries.clear();
    }
    if (defer_starts) {
        // The mark vouches for the entries of every block up to the parent: those still
        // queued for the index writer land first, or a kill could leave the mark without
        // them (the roll-forward does not write the history of blocks below a mark).
        if (auto w = wait_written(); !w) return store_failure(w.error());
        out.put(storage::history_tip_key(), node->prev->hash.span());
    }
    if (node == pending_node_) {
        if (auto w = write_pending(kHaveUndo, hold_records); !w) return store_failure(w.error());
    } else {
        if (status != node->status) {
            batch.put(storage::index_key(node->height, node->hash),
                      storage::encode_index(node->header, height, status, node->data_pos).span());
        }
        if (auto w = hold_records ? hold(batch) : write(batch); !w) {
            return store_failure(w.error());
        }
    }
    if (hold_records) {
        ++sync_batch_blocks_;
        if (auto w = write_sync_batch_if_full(); !w) return store_failure(w.error());
    }
    if (auto q = queue_index_entries(std::move(index_entries)); !q) {
        return store_failure(q.error());
    }
    for (Index* index : indexes_) index->after_block_connected(indexed);
    {
        util::LockGuard lock(mutex_);
        coins_.apply(delta);
        node->status = status;
        active_.push_back(node);
        ++coins_generation_;
        if (defer_starts) history_tip_ = node->prev;
    }
    ++changed_since_flush_;
    if (spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("chain: connected {} with {} transactions", describe(node), block.txs.size());
    }
    events_.push_back({Event::Kind::kConnected,
                       ptr,
                       node,
                       node->hash,
                       {},
                       std::chrono::steady_clock::now() - started});
    ++pending_blocks_;
    return ValidationResult::ok();
}

bool Chainstate::Impl::signatures_assumed_valid(const BlockNode* node) const {
    if (!options_.assume_valid) return false;
    bool skip = false;
    {
        util::LockGuard lock(mutex_);
        // Bitcoin's pindexBestHeader: the tree's most-work header even when the tip ties it.
        const BlockIndex* best = tree_.best_header();
        skip = skip_signature_checks(node, tree_.find(*options_.assume_valid),
                                     best != nullptr ? best : active_.back(), params_);
    }
    if (skip && spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("chain: signatures of {} assumed valid", describe(node));
    }
    return skip;
}

ValidationResult Chainstate::Impl::disconnect_tip() {
    BlockNode* node = tip_node();
    NODE_ASSERT(node != genesis_);
    // The undo data read below may still wait in the sync batch or for the writer; reorgs
    // are rare in a sync.
    if (auto w = write_held(); !w) return store_failure(w.error());
    auto loaded = get_block(node);
    if (!loaded) return store_failure(loaded.error());
    const core::Block& block = **loaded;
    auto read = storage_.read_undo(node, block);
    if (!read) return store_failure(read.error());
    const std::vector<Coin>& undo = *read;

    // Undo in reverse: a transaction's outputs go before the coins its inputs spent come
    // back, so a coin created and spent inside the block cancels out.
    CoinsDelta delta;
    std::vector<core::Uint256> txids(block.txs.size());
    std::size_t pos = undo.size();
    for (std::size_t t = block.txs.size(); t-- > 0;) {
        const core::Transaction& tx = block.txs[t];
        const core::Uint256& txid = txids[t] = tx.txid();
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            delta.spend({txid, static_cast<std::uint32_t>(k)});
        }
        if (t == 0) continue;
        for (std::size_t k = tx.inputs.size(); k-- > 0;) {
            delta.add(tx.inputs[k].prevout, undo[--pos]);
        }
    }
    // What the indexes need goes to the index writer before the block leaves the chain in
    // memory (docs/STORAGE.md, section 4); the block's own records stay, it may come back.
    store::WriteBatch index_entries;
    const IndexedBlock indexed{block, node->hash, node->height, txids, undo};
    for (Index* index : indexes_) index->on_block_disconnected(indexed, index_entries);
    if (auto q = queue_index_entries(std::move(index_entries)); !q) {
        return store_failure(q.error());
    }
    for (Index* index : indexes_) index->after_block_disconnected(indexed);
    {
        util::LockGuard lock(mutex_);
        coins_.apply(delta);
        active_.pop_back();
        tree_.add_candidate(node);
        ++coins_generation_;
    }
    ++changed_since_flush_;
    if (spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("chain: disconnected {}", describe(node));
    }
    events_.push_back({Event::Kind::kDisconnected, *loaded, node, node->hash, {}});
    ++pending_blocks_;
    return ValidationResult::ok();
}

// --- Flushing ----------------------------------------------------------------------------

ValidationResult Chainstate::Impl::maybe_flush() {
    bool over = false;
    {
        util::LockGuard lock(mutex_);
        std::size_t bytes = coins_.memory_usage();
        for (const Index* index : indexes_) bytes += index->memory_usage();
        over = bytes > options_.coins_cache_bytes;
    }
    if (!over && changed_since_flush_ < options_.flush_every_blocks) return ValidationResult::ok();
    // Once the sync is over, the header records it left waiting go too.
    if (auto r = syncing() ? flush_coins_behind() : flush_all(); !r) {
        return store_failure(r.error());
    }
    return ValidationResult::ok();
}

util::Result<void> Chainstate::Impl::flush_coins_behind() {
    if (changed_since_flush_ == 0) return {};
    // The block records up to this tip go to the writer first, so they land first.
    if (auto w = write_pending(0, /*hold=*/true); !w) return w;
    if (auto w = write_sync_batch(); !w) return w;
    // Synced, after the block files are: the coins tip must not outlive the bodies below
    // it, nor the records the batches before it hold (the same log syncs those).
    store::BackgroundWriter::WriteOptions options;
    options.sync = true;
    options.before = [this] { return storage_.sync_blocks(); };
    auto ticket = writer_.enqueue(coins_flush_batch(), std::move(options));
    if (!ticket) return util::Unexpected(ticket.error());
    records_queued_ = *ticket;
    coins_flushed(*ticket);
    return {};
}

store::WriteBatch Chainstate::Impl::coins_flush_batch() {
    store::WriteBatch batch;
    {
        util::LockGuard lock(mutex_);
        coins_.write_dirty(batch);
        batch.put(storage::coins_tip_key(), active_.back()->hash.span());
    }
    for (Index* index : indexes_) index->on_flush(batch);
    return batch;
}

void Chainstate::Impl::coins_flushed(store::BackgroundWriter::Ticket ticket) {
    for (Index* index : indexes_) index->after_flush();
    CoinsCache dropped;  // freed after the lock is released
    {
        util::LockGuard lock(mutex_);
        // From here a read that misses the cache waits for the write (wait_coins_written).
        if (ticket != 0) coins_written_ = ticket;
        if (coins_.memory_usage() > options_.coins_cache_bytes) {
            // Over the limit even with only clean coins left: start empty, the store has
            // (or the writer will have) them all.
            std::swap(coins_, dropped);
        } else {
            coins_.mark_flushed(false);
        }
    }
    changed_since_flush_ = 0;
}

util::Result<void> Chainstate::Impl::wait_written() const { return writer_.wait_written(); }

util::Result<void> Chainstate::Impl::wait_coins_written(
    store::BackgroundWriter::Ticket ticket) const {
    return writer_.wait_written(ticket);
}

util::Result<void> Chainstate::Impl::write_held() {
    if (auto w = write_sync_batch(); !w) return w;
    return writer_.wait_written(records_queued_);
}

util::Result<void> Chainstate::Impl::flush_coins() {
    if (changed_since_flush_ == 0) {
        if (auto w = write_pending(0); !w) return w;
        return write_sync_batch();
    }
    const store::WriteBatch batch = coins_flush_batch();
    // The index entries of every block up to this tip land first: a crash after this
    // write then reopens at a tip whose entries are all in the store, and the entries this
    // batch erases were put before.
    if (auto w = write_sync_batch(); !w) return w;
    if (auto w = wait_written(); !w) return w;
    if (auto w = write(batch, /*sync=*/true); !w) return w;
    coins_flushed(0);
    return {};
}

util::Result<void> Chainstate::Impl::write_pending(std::uint32_t extra_status, bool hold) {
    if (pending_node_ == nullptr) return {};
    const BlockNode* node = std::exchange(pending_node_, nullptr);
    pending_.put(storage::index_key(node->height, node->hash),
                 storage::encode_index(node->header, node->height, node->status | extra_status,
                                       node->data_pos)
                     .span());
    if (hold) {
        if (sync_batch_.empty()) sync_batch_started_ = std::chrono::steady_clock::now();
        sync_batch_.append(pending_);
        pending_.clear();
        return {};
    }
    // pending_node_ is null now: write() goes straight to the sync batch and the writer.
    auto r = write(pending_);
    pending_.clear();
    return r;
}

util::Result<void> Chainstate::Impl::queue_index_entries(store::WriteBatch entries) {
    if (auto r = writer_.enqueue(std::move(entries)); !r) return util::Unexpected(r.error());
    return {};
}

util::Result<void> Chainstate::Impl::write(const store::WriteBatch& batch, bool sync) {
    if (auto r = write_pending(0); !r) return r;
    if (auto r = write_sync_batch(); !r) return r;
    // Records of one key keep their order: the chain's own records the writer holds land
    // first. (The index entries it holds have keys of their own; a write that must follow
    // them, a coins flush, waits for them itself.)
    if (auto r = writer_.wait_written(records_queued_); !r) return r;
    // The bodies `batch` may name are written first; a synced write (a coins flush) must
    // not outlive them either.
    if (auto r = sync ? storage_.sync_blocks() : storage_.flush_blocks(); !r) return r;
    return db_.write(batch, sync);
}

// --- Initial sync ------------------------------------------------------------------------

util::Result<void> Chainstate::Impl::write_unwritten_headers() {
    if (unwritten_headers_ == 0) return {};
    store::WriteBatch batch;
    {
        util::LockGuard lock(mutex_);
        tree_.for_each_from(unwritten_from_, [&](BlockNode& n) {
            if (!n.record_unwritten) return;
            n.record_unwritten = false;
            if ((n.status & (kHaveData | kFailedValid | kFailedChild)) != 0) return;
            batch.put(storage::index_key(n.height, n.hash),
                      storage::encode_index(n.header, n.height, n.status).span());
        });
    }
    unwritten_headers_ = 0;
    if (batch.empty()) return {};
    return write(batch);
}

util::Result<void> Chainstate::Impl::flush_all() {
    if (auto w = write_unwritten_headers(); !w) return w;
    if (auto w = flush_coins(); !w) return w;
    return wait_written();  // flush_coins wrote nothing when nothing changed
}

bool Chainstate::Impl::syncing() const {
    if (options_.sync_batch_blocks <= 1) return false;
    util::LockGuard lock(mutex_);
    const BlockIndex* best = tree_.best_header();
    const BlockIndex* tip = active_.back();
    return best != nullptr && best->chain_work > tip->chain_work &&
           best->height > tip->height + options_.sync_lag_blocks;
}

util::Result<void> Chainstate::Impl::hold(const store::WriteBatch& batch) {
    if (sync_batch_.empty()) sync_batch_started_ = std::chrono::steady_clock::now();
    sync_batch_.append(batch);
    return {};
}

util::Result<void> Chainstate::Impl::write_sync_batch_if_full() {
    if (sync_batch_.empty()) return {};
    if (sync_batch_blocks_ >= options_.sync_batch_blocks ||
        sync_batch_.approximate_size() >= kMaxSyncBatchBytes ||
        std::chrono::steady_clock::now() - sync_batch_started_ >= options_.sync_batch_interval) {
        const std::size_t bytes = sync_batch_.data_size();
        const std::size_t ops = sync_batch_.size();
        auto written = write_sync_batch();
        // The sync goes on, and its next batch is about as large: room for it at once,
        // instead of a dozen regrowths (each a copy) of a buffer that starts empty.
        sync_batch_.reserve(bytes, ops);
        return written;
    }
    return {};
}

util::Result<void> Chainstate::Impl::write_sync_batch() {
    if (sync_batch_.empty()) {
        // Nothing held, and maybe the sync is over: the room write_sync_batch_if_full made
        // for a next batch (up to kMaxSyncBatchBytes) is not kept.
        sync_batch_ = store::WriteBatch{};
        return {};
    }
    // The bodies the records name reach the files before the writer can write them.
    if (auto r = storage_.flush_blocks(); !r) return r;
    // Behind the batch being written, no further: a kill loses at most the batch being
    // gathered and this one (docs/STORAGE.md, section 4).
    store::BackgroundWriter::WriteOptions options;
    options.wait_idle = true;
    auto queued = writer_.enqueue(std::exchange(sync_batch_, store::WriteBatch{}), options);
    sync_batch_blocks_ = 0;
    if (!queued) return util::Unexpected(queued.error());
    records_queued_ = *queued;
    return {};
}

util::Result<store::FlatPos> Chainstate::Impl::body_position(const BlockIndex* index) const {
    util::LockGuard lock(mutex_);
    if ((index->status & kHaveData) == 0) {
        return util::Unexpected(util::Errc::kNotFound, describe(index) + " is not stored");
    }
    return index->data_pos;
}

util::Result<core::BlockPtr> Chainstate::Impl::read_block(const BlockIndex* index) const {
    auto pos = body_position(index);
    if (!pos) return util::Unexpected(std::move(pos).error());
    return storage_.read_block(index->hash, *pos);
}

util::Result<util::Bytes> Chainstate::Impl::read_block_bytes(const BlockIndex* index) const {
    auto pos = body_position(index);
    if (!pos) return util::Unexpected(std::move(pos).error());
    return storage_.read_block_bytes(index->hash, *pos);
}

}  // namespace peerchain::chain
