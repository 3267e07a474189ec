#include "chain/chainstate.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <utility>

#include "chain/chainstate_impl.hpp"
#include "chain/storage_format.hpp"
#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/pow.hpp"
#include "util/assert.hpp"

namespace peerchain::chain {

using core::ValidationCode;
using core::ValidationResult;

// --- Opening -----------------------------------------------------------------------------

Chainstate::Impl::~Impl() {
    if (auto r = flush_all(); !r) {
        spdlog::error("chain: flushing the coins at shutdown failed: {}", r.error().to_string());
    }
}

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
            if ((l.record.status & kHaveData) != 0) tree_.set_have_data(node, l.record.pos);
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
    if (auto r = load_history_tip(); !r) return r;

    // Roll the coins from their tip to the best stored chain.
    ValidationResult unused;
    if (auto r = activate_best_chain(nullptr, &unused); !r) {
        return util::Unexpected(util::Errc::kIo, "rolling the chain forward: " + r.to_string());
    }
    if (auto w = write_held(); !w) return w;
    events_.clear();
    pending_blocks_ = 0;
    notify_ = observer_ != nullptr;
    const BlockIndex* t = tip_node();
    notified_tip_ = t;
    spdlog::info("chain: {} headers loaded, tip {}, coins were at height {}", records->size(),
                 describe(t), coins_tip->height);
    if (options_.assume_valid) {
        // Once, here: sync itself says nothing per block about it.
        const BlockIndex* assumed = lookup(*options_.assume_valid);
        spdlog::info(
            "chain: assume-valid on: {} ({}) and its ancestors connect without signature "
            "checks once {} blocks of work bury them under the best header; every other rule "
            "is still checked",
            options_.assume_valid->to_hex(),
            assumed != nullptr ? "height " + std::to_string(assumed->height)
                               : "not among our headers yet",
            params_.assume_valid_burial);
    }
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
        batch->put(storage::index_key(node->height, hash),
                   storage::encode_index(header, node->height, node->status).span());
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
        if (auto w = write(batch); !w) r = store_failure(w.error());
    }
    flush_events();
    return r;
}

ValidationResult Chainstate::Impl::process_headers(const std::vector<core::BlockHeader>& headers,
                                                   const BlockIndex** last,
                                                   std::span<const core::Uint256> hashes) {
    NODE_ASSERT(hashes.empty() || hashes.size() == headers.size());
    // The new headers' records are marked to be written, not built here: during a sync
    // they wait (most of them until their blocks connect), otherwise they go below.
    if (unwritten_headers_ == 0) {
        util::LockGuard lock(mutex_);
        unwritten_from_ = tree_.size();  // the position of the first node inserted next
    }
    const BlockIndex* last_ok = nullptr;
    ValidationResult result;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const core::BlockHeader& header = headers[i];
        BlockNode* node = nullptr;
        ValidationResult r =
            accept_header(header, hashes.empty() ? header.hash() : hashes[i], &node, nullptr);
        if (r.is_ok()) {
            node->record_unwritten = true;
            ++unwritten_headers_;
        }
        if (r.is_ok() || r.code == ValidationCode::kDuplicate) {
            last_ok = node;
            continue;
        }
        result = std::move(r);
        break;
    }
    if (last != nullptr) *last = last_ok;
    // Far behind, the records wait; lost in a kill, the headers are fetched again (81
    // bytes each). Otherwise these and any left from a sync are written now.
    if (!syncing()) {
        if (auto w = write_unwritten_headers(); !w) result = store_failure(w.error());
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
        batch.put(storage::index_key(n->height, n->hash),
                  storage::encode_index(n->header, n->height, n->status, n->data_pos).span());
    }
    if (changed.size() > 1) {
        spdlog::warn("chain: {} descendants of {} marked invalid", changed.size() - 1,
                     node->hash.to_hex());
    }
    note_rejected(node->hash, why);
}

ValidationResult Chainstate::Impl::process_block(const core::BlockPtr& block, bool* is_new,
                                                 const core::CheckedBlock* checked) {
    if (is_new != nullptr) *is_new = false;
    const core::Uint256 hash = checked != nullptr ? checked->hash : block->hash();
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

    std::optional<core::CheckedBlock> checked_here;
    if (checked == nullptr)
        checked = &checked_here.emplace(core::check_block_alone(block, params_));
    if (const ValidationResult& refused = checked->result; !refused) {
        // Only when the transactions match the header's merkle root does the header itself
        // commit to the broken block; otherwise the block may be a valid one that was
        // mutated on the way (Bitcoin's BLOCK_MUTATED) and the header stays good.
        if (refused.reason != "bad-merkle-root" &&
            core::block_merkle_root(*block) == block->header.merkle_root) {
            mark_failed(node, refused, header_batch);
        } else {
            note_rejected(hash, refused);
        }
        if (!header_batch.empty()) {
            if (auto w = write(header_batch); !w) {
                spdlog::error("chain: {}", w.error().to_string());
            }
        }
        flush_events();
        return refused;
    }

    // The body goes to the flat files now; its index record, which names it, follows in a
    // later write (docs/STORAGE.md, section 4).
    auto pos = storage_.append_block(block->encode());
    if (!pos) {
        ValidationResult failed = store_failure(pos.error());
        flush_events();
        return failed;
    }
    pending_.clear();
    pending_node_ = node;
    {
        util::LockGuard lock(mutex_);
        tree_.set_have_data(node, *pos);
    }
    if (is_new != nullptr) *is_new = true;

    current_hash_ = hash;
    current_block_ = block;
    if (checked_here) {
        current_txids_ = std::move(checked_here->txids);
    } else {
        current_txids_ = checked->txids;
    }
    ValidationResult result;
    ValidationResult activated = activate_best_chain(node, &result);
    current_block_.reset();
    current_txids_.clear();
    // A block stored but not connected (it arrived before its parent) waits with the others
    // while the sync goes on; when it is over, everything held is written now.
    const bool still_syncing = syncing();
    auto w = write_pending(0, still_syncing);
    if (w) w = still_syncing ? write_sync_batch_if_full() : write_sync_batch();
    if (!w && activated) activated = store_failure(w.error());
    flush_events();
    if (!activated) return activated;
    return result;
}

// --- Events ------------------------------------------------------------------------------

void Chainstate::Impl::flush_events() {
    std::vector<Event> events;
    events.swap(events_);
    pending_blocks_ = 0;
    if (!notify_) return;
    for (const Event& e : events) {
        switch (e.kind) {
            case Event::Kind::kConnected:
                observer_->on_block_validated(e.index, e.took);
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
    store::BackgroundWriter::Ticket flushed = 0;
    {
        util::LockGuard lock(mutex_);
        if (const CoinsCache::Entry* e = coins_.find(outpoint)) {
            return e->spent ? std::nullopt : std::optional<Coin>(e->coin);
        }
        flushed = coins_written_;
    }
    // Not cached: once the last flush is in (the writer may still hold it), the store
    // holds what it wrote, which is never older than the moment the cache missed.
    if (!wait_coins_written(flushed)) return std::nullopt;
    auto value = db_.get(storage::coin_key(outpoint));
    if (!value || !*value) return std::nullopt;
    auto c = storage::decode_coin(**value);
    if (!c) return std::nullopt;
    return *c;
}

void Chainstate::Impl::wait_for_index_entries() const {
    // A failed write has stopped the node (the chain executor saw it first or will); the
    // query reads what is there.
    if (auto r = wait_written(); !r) {
        spdlog::error("chain: index entries not written: {}", r.error().to_string());
    }
}

util::Result<std::vector<std::pair<core::OutPoint, Coin>>> Chainstate::Impl::unspent_coins(
    const std::vector<core::OutPoint>& outpoints) const {
    std::vector<std::pair<core::OutPoint, Coin>> out;
    std::vector<core::OutPoint> uncached;
    store::BackgroundWriter::Ticket flushed = 0;
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
        flushed = coins_written_;
    }
    // Not cached: the store holds what the last flush wrote (see coin()).
    if (!uncached.empty()) {
        if (auto w = wait_coins_written(flushed); !w) return util::Unexpected(w.error());
    }
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
            t->median_time_past() + params_.min_time_above_median};
}

// --- Chainstate --------------------------------------------------------------------------

Chainstate::Chainstate() = default;

Chainstate::~Chainstate() = default;

util::Result<std::unique_ptr<Chainstate>> Chainstate::open(store::Database& db,
                                                           const core::Params& params,
                                                           const util::Clock& clock,
                                                           ChainObserver* observer,
                                                           ChainstateOptions options) {
    if (options.blocks_dir.empty()) {
        return util::Unexpected(util::Errc::kInvalidArgument, "no directory for the block files");
    }
    auto files = store::FlatFiles::open(options.blocks_dir, {});
    if (!files) return util::Unexpected(std::move(files).error());
    std::unique_ptr<Chainstate> chain(new Chainstate());
    chain->impl_ = std::make_unique<Impl>(db, std::move(*files), params, clock, observer, options);
    if (auto r = chain->impl_->load(); !r) return util::Unexpected(r.error());
    return chain;
}

core::ValidationResult Chainstate::process_header(const core::BlockHeader& header,
                                                  const BlockIndex** out) {
    return impl_->process_header(header, out);
}

core::ValidationResult Chainstate::process_headers(const std::vector<core::BlockHeader>& headers,
                                                   const BlockIndex** last,
                                                   std::span<const core::Uint256> hashes) {
    return impl_->process_headers(headers, last, hashes);
}

core::ValidationResult Chainstate::process_block(const core::BlockPtr& block, bool* is_new) {
    return impl_->process_block(block, is_new, nullptr);
}

core::ValidationResult Chainstate::process_block(const core::CheckedBlock& checked, bool* is_new) {
    return impl_->process_block(checked.block, is_new, &checked);
}

util::Result<void> Chainstate::flush() { return impl_->flush_all(); }
util::Result<void> Chainstate::write_held() { return impl_->write_held(); }

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
bool Chainstate::has_indexes() const noexcept { return impl_->has_indexes(); }
void Chainstate::wait_for_index_entries() const { impl_->wait_for_index_entries(); }
Chainstate::IndexProgress Chainstate::index_progress() const { return impl_->index_progress(); }
util::Result<bool> Chainstate::build_indexes(std::chrono::milliseconds budget) {
    return impl_->build_indexes(budget);
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
