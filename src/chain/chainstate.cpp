#include "chain/chainstate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>

#include "chain/address_index.hpp"
#include "chain/block_storage.hpp"
#include "chain/block_tree.hpp"
#include "chain/coins_cache.hpp"
#include "chain/index.hpp"
#include "chain/script_check_pool.hpp"
#include "chain/storage_format.hpp"
#include "chain/tx_index.hpp"
#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "core/sighash.hpp"
#include "core/tx_verify.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::chain {

using core::ValidationCode;
using core::ValidationResult;

namespace {

// Blocks (connected or disconnected) whose events are held before the observer hears of
// them: bounds the memory a long activation (a deep reorg, a burst of out-of-order
// blocks) keeps alive. The observer hears of the tip after each such batch.
constexpr std::size_t kMaxPendingBlocks = 32;

ValidationResult store_failure(const util::Error& e) {
    return ValidationResult::fail(ValidationCode::kInternal, "store-failure", e.to_string());
}

// Nodes are owned, mutable, by the tree; the public type hands out const pointers.
BlockNode* mut(const BlockIndex* index) {
    return const_cast<BlockNode*>(static_cast<const BlockNode*>(index));
}

struct Event {
    enum class Kind { kConnected, kDisconnected, kRejected };
    Kind kind;
    core::BlockPtr block;
    const BlockIndex* index = nullptr;
    core::Uint256 hash;
    ValidationResult why;
};

}  // namespace

class Chainstate::Impl final : public ChainView {
  public:
    Impl(store::Database& db, const core::Params& params, const util::Clock& clock,
         ChainObserver* observer, ChainstateOptions options)
        : db_(db),
          params_(params),
          clock_(clock),
          observer_(observer),
          options_(options),
          storage_(db, params),
          tx_index_(db, storage_, *this),
          address_index_(db, *this),
          indexes_{&tx_index_, &address_index_},
          script_pool_(options.script_threads) {}

    ~Impl() {
        if (auto r = flush_coins(); !r) {
            spdlog::error("chain: flushing the coins at shutdown failed: {}",
                          r.error().to_string());
        }
    }

    util::Result<void> load();

    ValidationResult process_header(const core::BlockHeader& header, const BlockIndex** out);
    ValidationResult process_headers(const std::vector<core::BlockHeader>& headers,
                                     const BlockIndex** last);
    ValidationResult process_block(const core::BlockPtr& block, bool* is_new);
    util::Result<void> flush_coins();

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
    util::Result<util::Bytes> read_block_bytes(const BlockIndex* index) const {
        return storage_.read_block_bytes(index);
    }
    util::Result<core::BlockPtr> read_block(const BlockIndex* index) const {
        return storage_.read_block(index);
    }
    std::optional<Coin> coin(const core::OutPoint& outpoint) const EXCLUDES(mutex_);
    std::optional<TxLocation> find_transaction(const core::Uint256& txid) const {
        return tx_index_.find(txid);
    }
    std::vector<AddressTx> address_history(const core::XOnlyKey& key, std::size_t limit) const {
        return address_index_.history(key, limit);
    }
    std::vector<std::pair<core::OutPoint, Coin>> address_coins(const core::XOnlyKey& key) const {
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

  private:
    bool in_active_locked(const BlockIndex* index) const REQUIRES(mutex_) {
        return index != nullptr && index->height < active_.size() &&
               active_[index->height] == index;
    }
    BlockNode* tip_node() const EXCLUDES(mutex_) {
        util::LockGuard lock(mutex_);
        return active_.back();
    }

    ValidationResult accept_header(const core::BlockHeader& header, const core::Uint256& hash,
                                   BlockNode** out, store::WriteBatch* batch);
    // Logs a refusal and queues its event; reject() also returns it.
    void note_rejected(const core::Uint256& hash, const ValidationResult& why);
    ValidationResult reject(const core::Uint256& hash, ValidationResult why);
    void mark_failed(BlockNode* node, const ValidationResult& why, store::WriteBatch& batch);
    ValidationResult activate_best_chain(const BlockNode* processed,
                                         ValidationResult* processed_result);
    ValidationResult connect_block(BlockNode* node);
    ValidationResult disconnect_tip();
    util::Result<core::BlockPtr> get_block(const BlockIndex* index) const;
    util::Result<std::optional<Coin>> fetch_coin(const CoinsDelta& delta,
                                                 const core::OutPoint& outpoint) const
        EXCLUDES(mutex_);
    ValidationResult maybe_flush();
    void flush_events();
    // Writes the held-back block with its index record (status plus `extra_status`).
    util::Result<void> write_pending(std::uint32_t extra_status);
    // Writes `batch` after the held-back block.
    util::Result<void> write(const store::WriteBatch& batch, bool sync = false);

    store::Database& db_;
    const core::Params& params_;
    const util::Clock& clock_;
    ChainObserver* const observer_;
    const ChainstateOptions options_;
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
    // Its body, held back until it connects (the common case in sync) or process_block
    // returns, so that body, undo data and index record reach the store in one write. Any
    // other write goes after it (write()), so records of one key keep their order.
    store::WriteBatch pending_;
    BlockNode* pending_node_ = nullptr;
};

// --- Opening -----------------------------------------------------------------------------

util::Result<void> Chainstate::Impl::load() {
    auto upgrade = storage_.open_format(indexes_);
    if (!upgrade) return util::Unexpected(std::move(upgrade).error());
    auto records = storage_.load_headers();
    if (!records) return util::Unexpected(std::move(records).error());

    std::size_t skipped = 0;
    BlockNode* coins_tip = nullptr;
    {
        util::LockGuard lock(mutex_);
        for (const StoredHeader& l : *records) {
            BlockNode* prev = nullptr;
            if (l.record.height == 0) {
                if (l.hash != params_.genesis_hash) {
                    ++skipped;
                    continue;
                }
            } else {
                prev = tree_.find(l.record.header.prev_hash);
                // A header whose parent's record never reached the store (a write that
                // failed) is dropped; it can be fetched again.
                if (prev == nullptr || prev->height + 1 != l.record.height) {
                    ++skipped;
                    continue;
                }
            }
            BlockNode* node =
                tree_.insert(l.hash, l.record.header, prev, l.record.status & ~kHaveData);
            if (prev == nullptr) genesis_ = node;
            if ((l.record.status & kHaveData) != 0) tree_.set_have_data(node);
        }

        auto tip_hash = storage_.coins_tip();
        if (!tip_hash) return util::Unexpected(std::move(tip_hash).error());
        coins_tip = tree_.find(*tip_hash);
        if (coins_tip == nullptr || (coins_tip->status & kHaveData) == 0) {
            return util::Unexpected(util::Errc::kCorruption, "the coins tip is not a stored block");
        }
        active_.assign(coins_tip->height + 1, nullptr);
        for (const BlockIndex* b = coins_tip; b != nullptr; b = b->prev)
            active_[b->height] = mut(b);
    }
    if (skipped != 0) {
        spdlog::warn("chain: ignored {} block index entries without a parent", skipped);
    }
    notified_tip_ = coins_tip;
    // Before rolling forward: disconnecting relies on the 'o' entries of the stored coins.
    if (*upgrade) {
        std::vector<const BlockIndex*> chain;
        {
            util::LockGuard lock(mutex_);
            chain.assign(active_.begin(), active_.end());
        }
        if (auto r = storage_.upgrade_indexes(chain, indexes_); !r) return r;
    }

    // Roll the coins from their tip to the best stored chain.
    ValidationResult unused;
    if (auto r = activate_best_chain(nullptr, &unused); !r) {
        return util::Unexpected(util::Errc::kIo, "rolling the chain forward: " + r.to_string());
    }
    events_.clear();
    pending_blocks_ = 0;
    notify_ = observer_ != nullptr;
    const BlockIndex* t = tip_node();
    notified_tip_ = t;
    spdlog::info("chain: {} headers loaded, tip {}, coins were at height {}", records->size(),
                 describe(t), coins_tip->height);
    return {};
}

// --- Headers -----------------------------------------------------------------------------

void Chainstate::Impl::note_rejected(const core::Uint256& hash, const ValidationResult& why) {
    spdlog::warn("chain: rejected block {}: {}", hash.to_hex(), why.to_string());
    events_.push_back({Event::Kind::kRejected, nullptr, nullptr, hash, why});
}

ValidationResult Chainstate::Impl::reject(const core::Uint256& hash, ValidationResult why) {
    note_rejected(hash, why);
    return why;
}

ValidationResult Chainstate::Impl::accept_header(const core::BlockHeader& header,
                                                 const core::Uint256& hash, BlockNode** out,
                                                 store::WriteBatch* batch) {
    BlockNode* prev = nullptr;
    {
        util::LockGuard lock(mutex_);
        if (BlockNode* known = tree_.find(hash)) {
            *out = known;
            if (known->failed()) {
                return ValidationResult::invalid("duplicate-invalid",
                                                 "block " + hash.to_hex() + " is known invalid");
            }
            return ValidationResult::fail(ValidationCode::kDuplicate, "duplicate");
        }
        prev = tree_.find(header.prev_hash);
    }
    // Proof of work first: it is what makes a header cost its sender something. (As
    // core::check_header_pow, without hashing the header again.)
    if (!core::decode_target(header.bits, params_)) {
        return reject(
            hash, ValidationResult::invalid("bad-diffbits", "bits do not encode a valid target"));
    }
    if (!core::check_proof_of_work(hash, header.bits, params_)) {
        return reject(
            hash, ValidationResult::invalid("high-hash", "proof of work does not meet its target"));
    }
    if (prev == nullptr) {
        return ValidationResult::fail(ValidationCode::kMissingPrev, "prev-blk-not-found",
                                      "previous block " + header.prev_hash.to_hex());
    }
    if (prev->failed()) {
        return reject(hash,
                      ValidationResult::invalid(
                          "bad-prevblk", "previous block " + prev->hash.to_hex() + " is invalid"));
    }
    const std::int64_t grandparent_time =
        prev->prev != nullptr ? std::int64_t{prev->prev->header.time}
                              : std::int64_t{prev->header.time} - params_.target_spacing;
    const core::HeaderContext ctx{
        prev->height + 1, prev->median_time_past(),
        core::next_work_required(prev->header.bits, prev->header.time, grandparent_time, params_),
        clock_.now_seconds()};
    if (auto r = core::check_header_context(header, ctx, params_); !r) {
        return reject(hash, std::move(r));
    }
    BlockNode* node = nullptr;
    {
        util::LockGuard lock(mutex_);
        node = tree_.insert(hash, header, prev, 0);
    }
    if (batch != nullptr) {
        batch->put(storage::hash_key(storage::kIndexPrefix, hash),
                   storage::encode_index(header, node->height, node->status));
    }
    *out = node;
    return ValidationResult::ok();
}

ValidationResult Chainstate::Impl::process_header(const core::BlockHeader& header,
                                                  const BlockIndex** out) {
    store::WriteBatch batch;
    BlockNode* node = nullptr;
    ValidationResult r = accept_header(header, header.hash(), &node, &batch);
    if (out != nullptr) *out = node;
    if (!batch.empty()) {
        if (auto w = db_.write(batch); !w) r = store_failure(w.error());
    }
    flush_events();
    return r;
}

ValidationResult Chainstate::Impl::process_headers(const std::vector<core::BlockHeader>& headers,
                                                   const BlockIndex** last) {
    store::WriteBatch batch;
    const BlockIndex* last_ok = nullptr;
    ValidationResult result;
    for (const auto& header : headers) {
        BlockNode* node = nullptr;
        ValidationResult r = accept_header(header, header.hash(), &node, &batch);
        if (r.is_ok() || r.code == ValidationCode::kDuplicate) {
            last_ok = node;
            continue;
        }
        result = std::move(r);
        break;
    }
    if (last != nullptr) *last = last_ok;
    if (!batch.empty()) {
        if (auto w = db_.write(batch); !w) result = store_failure(w.error());
    }
    flush_events();
    return result;
}

// --- Blocks ------------------------------------------------------------------------------

void Chainstate::Impl::mark_failed(BlockNode* node, const ValidationResult& why,
                                   store::WriteBatch& batch) {
    std::vector<BlockNode*> changed;
    {
        util::LockGuard lock(mutex_);
        changed = tree_.mark_failed(node);
    }
    for (const BlockNode* n : changed) {
        batch.put(storage::hash_key(storage::kIndexPrefix, n->hash),
                  storage::encode_index(n->header, n->height, n->status));
    }
    if (changed.size() > 1) {
        spdlog::warn("chain: {} descendants of {} marked invalid", changed.size() - 1,
                     node->hash.to_hex());
    }
    note_rejected(node->hash, why);
}

ValidationResult Chainstate::Impl::process_block(const core::BlockPtr& block, bool* is_new) {
    if (is_new != nullptr) *is_new = false;
    const core::Uint256 hash = block->hash();
    // A new header's index record; on success the record with kHaveData replaces it.
    store::WriteBatch header_batch;
    BlockNode* node = nullptr;
    ValidationResult r = accept_header(block->header, hash, &node, &header_batch);
    if (!r.is_ok() && r.code != ValidationCode::kDuplicate) {
        flush_events();
        return r;
    }
    if ((node->status & kHaveData) != 0) {
        flush_events();
        return ValidationResult::ok();
    }

    if (auto checked = core::check_block(*block, params_); !checked) {
        // Only when the transactions match the header's merkle root does the header itself
        // commit to the broken block; otherwise the block may be a valid one that was
        // mutated on the way (Bitcoin's BLOCK_MUTATED) and the header stays good.
        if (checked.reason != "bad-merkle-root" &&
            core::block_merkle_root(*block) == block->header.merkle_root) {
            mark_failed(node, checked, header_batch);
        } else {
            note_rejected(hash, checked);
        }
        if (!header_batch.empty()) {
            if (auto w = db_.write(header_batch); !w) {
                spdlog::error("chain: {}", w.error().to_string());
            }
        }
        flush_events();
        return checked;
    }

    pending_.clear();
    pending_.put(storage::hash_key(storage::kBlockPrefix, hash), block->encode());
    pending_node_ = node;
    {
        util::LockGuard lock(mutex_);
        tree_.set_have_data(node);
    }
    if (is_new != nullptr) *is_new = true;

    current_hash_ = hash;
    current_block_ = block;
    ValidationResult result;
    ValidationResult activated = activate_best_chain(node, &result);
    current_block_.reset();
    if (auto w = write_pending(0); !w && activated) activated = store_failure(w.error());
    flush_events();
    if (!activated) return activated;
    return result;
}

util::Result<core::BlockPtr> Chainstate::Impl::get_block(const BlockIndex* index) const {
    if (current_block_ != nullptr && index->hash == current_hash_) return current_block_;
    return read_block(index);
}

util::Result<std::optional<Coin>> Chainstate::Impl::fetch_coin(
    const CoinsDelta& delta, const core::OutPoint& outpoint) const {
    if (const std::optional<Coin>* d = delta.find(outpoint)) return *d;
    {
        util::LockGuard lock(mutex_);
        if (const CoinsCache::Entry* e = coins_.find(outpoint)) {
            return e->spent ? std::optional<Coin>() : std::optional<Coin>(e->coin);
        }
    }
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
    auto loaded = get_block(node);
    if (!loaded) return store_failure(loaded.error());
    const core::BlockPtr& ptr = *loaded;
    const core::Block& block = *ptr;
    const std::uint32_t height = node->height;

    if (auto r = core::check_block_context(block, height); !r) return r;

    CoinsDelta delta;
    std::vector<Coin> undo;
    std::vector<core::Uint256> txids;
    txids.reserve(block.txs.size());
    core::Amount fees = 0;
    // The outputs each transaction's inputs spend, in input order (what signatures sign).
    std::vector<std::vector<core::TxOut>> spent(block.txs.size());
    struct SigJob {
        std::uint32_t tx;
        std::uint32_t input;
    };
    std::vector<SigJob> jobs;
    // One signature hasher per spending transaction, built once its spent outputs are known.
    std::vector<std::optional<core::SignatureHasher>> hashers(block.txs.size());
    auto tx_detail = [&](std::size_t t, const std::string& what) {
        return "tx " + block.txs[t].txid().to_hex() + ": " + what;
    };

    for (std::size_t t = 0; t < block.txs.size(); ++t) {
        const core::Transaction& tx = block.txs[t];
        if (t > 0) {
            std::vector<Coin> coins;
            coins.reserve(tx.inputs.size());
            spent[t].reserve(tx.inputs.size());
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
                spent[t].push_back(coins.back().out);
                undo.push_back(coins.back());
                delta.spend(prevout);
                jobs.push_back({static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(k)});
            }
            core::Amount fee = 0;
            if (auto r = core::check_tx_inputs(tx, coins, height, params_, &fee); !r) return r;
            fees += fee;
            if (!core::money_range(fees)) {
                return ValidationResult::invalid("bad-txns-accumulated-fee-outofrange");
            }
            hashers[t].emplace(tx, spent[t], params_);
        }
        const core::Uint256& txid = txids.emplace_back(tx.txid());
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            delta.add({txid, static_cast<std::uint32_t>(k)}, Coin{tx.outputs[k], height, t == 0});
        }
    }
    if (auto r = core::check_coinbase_value(block, height, fees, params_); !r) return r;

    if (!jobs.empty()) {
        const auto failed = script_pool_.run(jobs.size(), [&](std::size_t j) {
            const SigJob& job = jobs[j];
            return core::verify_input(*hashers[job.tx], block.txs[job.tx], job.input,
                                      spent[job.tx]);
        });
        if (failed) {
            const SigJob& job = jobs[*failed];
            return ValidationResult::invalid(
                "bad-txns-signature", tx_detail(job.tx, "input " + std::to_string(job.input) +
                                                            " has an invalid signature"));
        }
    }

    // The undo data and the indexes go in one batch, before the connection takes effect
    // in memory (docs/STORAGE.md, section 4). A block that spends nothing has no undo
    // record.
    const std::uint32_t status = node->status | kHaveUndo;
    store::WriteBatch batch;
    store::WriteBatch& out = node == pending_node_ ? pending_ : batch;
    if (!undo.empty()) {
        out.put(storage::hash_key(storage::kUndoPrefix, node->hash), storage::encode_undo(undo));
    }
    const IndexedBlock indexed{block, node->hash, height, txids, undo};
    for (Index* index : indexes_) index->on_block_connected(indexed, out);
    if (node == pending_node_) {
        if (auto w = write_pending(kHaveUndo); !w) return store_failure(w.error());
    } else {
        if (status != node->status) {
            batch.put(storage::hash_key(storage::kIndexPrefix, node->hash),
                      storage::encode_index(node->header, height, status));
        }
        if (auto w = write(batch); !w) return store_failure(w.error());
    }
    for (Index* index : indexes_) index->after_block_connected(indexed);
    {
        util::LockGuard lock(mutex_);
        coins_.apply(delta);
        node->status = status;
        active_.push_back(node);
        ++coins_generation_;
    }
    ++changed_since_flush_;
    if (spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("chain: connected {} with {} transactions", describe(node), block.txs.size());
    }
    events_.push_back({Event::Kind::kConnected, ptr, node, node->hash, {}});
    ++pending_blocks_;
    return ValidationResult::ok();
}

ValidationResult Chainstate::Impl::disconnect_tip() {
    BlockNode* node = tip_node();
    NODE_ASSERT(node != genesis_);
    auto loaded = get_block(node);
    if (!loaded) return store_failure(loaded.error());
    const core::Block& block = **loaded;
    std::size_t spends = 0;
    for (std::size_t t = 1; t < block.txs.size(); ++t) spends += block.txs[t].inputs.size();
    auto read = storage_.read_undo(node, spends);
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
    // What the indexes need goes to the store before the block leaves the chain in memory
    // (docs/STORAGE.md, section 4); the block's own records stay, it may come back.
    store::WriteBatch batch;
    const IndexedBlock indexed{block, node->hash, node->height, txids, undo};
    for (Index* index : indexes_) index->on_block_disconnected(indexed, batch);
    if (!batch.empty()) {
        if (auto w = write(batch); !w) return store_failure(w.error());
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

// --- Flushing and events -----------------------------------------------------------------

ValidationResult Chainstate::Impl::maybe_flush() {
    bool over = false;
    {
        util::LockGuard lock(mutex_);
        std::size_t bytes = coins_.memory_usage();
        for (const Index* index : indexes_) bytes += index->memory_usage();
        over = bytes > options_.coins_cache_bytes;
    }
    if (!over && changed_since_flush_ < options_.flush_every_blocks) return ValidationResult::ok();
    if (auto r = flush_coins(); !r) return store_failure(r.error());
    return ValidationResult::ok();
}

util::Result<void> Chainstate::Impl::flush_coins() {
    if (changed_since_flush_ == 0) return {};
    store::WriteBatch batch;
    {
        util::LockGuard lock(mutex_);
        coins_.write_dirty(batch);
        batch.put(storage::coins_tip_key(), active_.back()->hash.span());
    }
    for (Index* index : indexes_) index->on_flush(batch);
    if (auto w = write(batch, /*sync=*/true); !w) return w;
    for (Index* index : indexes_) index->after_flush();
    CoinsCache dropped;  // freed after the lock is released
    {
        util::LockGuard lock(mutex_);
        if (coins_.memory_usage() > options_.coins_cache_bytes) {
            // Over the limit even with only clean coins left: start empty, the store has
            // them all now.
            std::swap(coins_, dropped);
        } else {
            coins_.mark_flushed(false);
        }
    }
    changed_since_flush_ = 0;
    return {};
}

util::Result<void> Chainstate::Impl::write_pending(std::uint32_t extra_status) {
    if (pending_node_ == nullptr) return {};
    const BlockNode* node = std::exchange(pending_node_, nullptr);
    pending_.put(storage::hash_key(storage::kIndexPrefix, node->hash),
                 storage::encode_index(node->header, node->height, node->status | extra_status));
    auto r = db_.write(pending_);
    pending_.clear();
    return r;
}

util::Result<void> Chainstate::Impl::write(const store::WriteBatch& batch, bool sync) {
    if (auto r = write_pending(0); !r) return r;
    return db_.write(batch, sync);
}

void Chainstate::Impl::flush_events() {
    std::vector<Event> events;
    events.swap(events_);
    pending_blocks_ = 0;
    if (!notify_) return;
    for (const Event& e : events) {
        switch (e.kind) {
            case Event::Kind::kConnected:
                observer_->on_block_connected(e.block, e.index);
                break;
            case Event::Kind::kDisconnected:
                observer_->on_block_disconnected(e.block, e.index);
                break;
            case Event::Kind::kRejected:
                observer_->on_block_rejected(e.hash, e.why);
                break;
        }
    }
    const BlockIndex* t = tip_node();
    if (t != notified_tip_) {
        const BlockIndex* old = notified_tip_;
        notified_tip_ = t;
        observer_->on_tip_changed(t, old, last_common_ancestor(t, old));
    }
}

// --- Queries -----------------------------------------------------------------------------

ChainStats Chainstate::Impl::stats() const {
    util::LockGuard lock(mutex_);
    ChainStats s;
    const BlockIndex* t = active_.back();
    s.height = t->height;
    s.tip_hash = t->hash;
    s.chain_work = t->chain_work;
    s.best_header_height = tree_.best_header() != nullptr ? tree_.best_header()->height : 0;
    s.headers = tree_.size();
    s.coins_cached = coins_.size();
    return s;
}

std::vector<core::Uint256> Chainstate::Impl::locator(const BlockIndex* from) const {
    if (from == nullptr) from = tip();
    std::vector<core::Uint256> out;
    std::uint32_t step = 1;
    for (const BlockIndex* b = from; b != nullptr;) {
        out.push_back(b->hash);
        if (b->height == 0) break;
        b = b->ancestor(b->height > step ? b->height - step : 0);
        if (out.size() > 10) step *= 2;
    }
    return out;
}

const BlockIndex* Chainstate::Impl::find_fork(const std::vector<core::Uint256>& locator) const {
    util::LockGuard lock(mutex_);
    const BlockIndex* t = active_.back();
    for (const auto& hash : locator) {
        const BlockNode* b = tree_.find(hash);
        if (b == nullptr) continue;
        if (in_active_locked(b)) return b;
        // A block ahead of our tip on our own chain: the peer has all we have.
        if (b->ancestor(t->height) == t) return t;
    }
    return genesis_;
}

std::optional<Coin> Chainstate::Impl::coin(const core::OutPoint& outpoint) const {
    {
        util::LockGuard lock(mutex_);
        if (const CoinsCache::Entry* e = coins_.find(outpoint)) {
            return e->spent ? std::nullopt : std::optional<Coin>(e->coin);
        }
    }
    // Not cached: the store holds what the last flush wrote, which is never older than
    // the moment the cache missed.
    auto value = db_.get(storage::coin_key(outpoint));
    if (!value || !*value) return std::nullopt;
    auto c = storage::decode_coin(**value);
    if (!c) return std::nullopt;
    return *c;
}

util::Result<std::vector<std::pair<core::OutPoint, Coin>>> Chainstate::Impl::unspent_coins(
    const std::vector<core::OutPoint>& outpoints) const {
    std::vector<std::pair<core::OutPoint, Coin>> out;
    std::vector<core::OutPoint> uncached;
    {
        util::LockGuard lock(mutex_);
        for (const core::OutPoint& outpoint : outpoints) {
            const CoinsCache::Entry* e = coins_.find(outpoint);
            if (e == nullptr) {
                uncached.push_back(outpoint);
            } else if (!e->spent) {
                out.emplace_back(outpoint, e->coin);
            }
        }
    }
    // Not cached: the store holds what the last flush wrote (see coin()).
    for (const core::OutPoint& outpoint : uncached) {
        auto value = db_.get(storage::coin_key(outpoint));
        if (!value) return util::Unexpected(std::move(value).error());
        if (!*value) continue;
        auto c = storage::decode_coin(**value);
        if (!c) return util::Unexpected(std::move(c).error());
        out.emplace_back(outpoint, *c);
    }
    return out;
}

Chainstate::NextBlockContext Chainstate::Impl::next_block_context() const {
    const BlockIndex* t = tip();
    const std::int64_t grandparent_time =
        t->prev != nullptr ? std::int64_t{t->prev->header.time}
                           : std::int64_t{t->header.time} - params_.target_spacing;
    return {t, t->height + 1,
            core::next_work_required(t->header.bits, t->header.time, grandparent_time, params_),
            t->median_time_past() + 1};
}

// --- Chainstate --------------------------------------------------------------------------

Chainstate::Chainstate() = default;

Chainstate::~Chainstate() = default;

util::Result<std::unique_ptr<Chainstate>> Chainstate::open(store::Database& db,
                                                           const core::Params& params,
                                                           const util::Clock& clock,
                                                           ChainObserver* observer,
                                                           ChainstateOptions options) {
    std::unique_ptr<Chainstate> chain(new Chainstate());
    chain->impl_ = std::make_unique<Impl>(db, params, clock, observer, options);
    if (auto r = chain->impl_->load(); !r) return util::Unexpected(r.error());
    return chain;
}

core::ValidationResult Chainstate::process_header(const core::BlockHeader& header,
                                                  const BlockIndex** out) {
    return impl_->process_header(header, out);
}

core::ValidationResult Chainstate::process_headers(const std::vector<core::BlockHeader>& headers,
                                                   const BlockIndex** last) {
    return impl_->process_headers(headers, last);
}

core::ValidationResult Chainstate::process_block(const core::BlockPtr& block, bool* is_new) {
    return impl_->process_block(block, is_new);
}

util::Result<void> Chainstate::flush() { return impl_->flush_coins(); }

const core::Params& Chainstate::params() const noexcept { return impl_->params(); }
const BlockIndex* Chainstate::tip() const { return impl_->tip(); }
const BlockIndex* Chainstate::best_header() const { return impl_->best_header(); }
const BlockIndex* Chainstate::genesis() const { return impl_->genesis(); }
const BlockIndex* Chainstate::lookup(const core::Uint256& hash) const {
    return impl_->lookup(hash);
}
const BlockIndex* Chainstate::at_height(std::uint32_t height) const {
    return impl_->at_height(height);
}
bool Chainstate::in_active_chain(const BlockIndex* index) const {
    return impl_->in_active_chain(index);
}
std::uint32_t Chainstate::status(const BlockIndex* index) const { return impl_->status(index); }
ChainStats Chainstate::stats() const { return impl_->stats(); }
std::vector<core::Uint256> Chainstate::locator(const BlockIndex* from) const {
    return impl_->locator(from);
}
const BlockIndex* Chainstate::find_fork(const std::vector<core::Uint256>& locator) const {
    return impl_->find_fork(locator);
}
util::Result<core::BlockPtr> Chainstate::read_block(const BlockIndex* index) const {
    return impl_->read_block(index);
}
util::Result<util::Bytes> Chainstate::read_block_bytes(const BlockIndex* index) const {
    return impl_->read_block_bytes(index);
}
std::optional<Coin> Chainstate::coin(const core::OutPoint& outpoint) const {
    return impl_->coin(outpoint);
}
std::optional<TxLocation> Chainstate::find_transaction(const core::Uint256& txid) const {
    return impl_->find_transaction(txid);
}
std::vector<AddressTx> Chainstate::address_history(const core::XOnlyKey& key,
                                                   std::size_t limit) const {
    return impl_->address_history(key, limit);
}
std::vector<std::pair<core::OutPoint, Coin>> Chainstate::address_coins(
    const core::XOnlyKey& key) const {
    return impl_->address_coins(key);
}
Chainstate::NextBlockContext Chainstate::next_block_context() const {
    return impl_->next_block_context();
}

}  // namespace peerchain::chain
