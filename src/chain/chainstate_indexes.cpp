// Chainstate::Impl, continued: the indexes' history entries deferred during initial sync
// and built afterwards (docs/STORAGE.md, section 3, "Indexes built after the sync").
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

#include "chain/chainstate_impl.hpp"
#include "chain/storage_format.hpp"

namespace peerchain::chain {

namespace {

// A build step's batch is written when it reaches this size, even within its budget.
constexpr std::size_t kMaxBuildBatchBytes = std::size_t{8} << 20;

}  // namespace

util::Result<void> Chainstate::Impl::load_history_tip() {
    if (indexes_.empty()) return {};
    auto stored = db_.get(storage::history_tip_key());
    if (!stored) return util::Unexpected(std::move(stored).error());
    if (!*stored) return {};
    util::LockGuard lock(mutex_);
    const BlockIndex* from = nullptr;
    if ((*stored)->size() == core::Uint256::kSize) {
        from = tree_.find(core::Uint256::from_bytes(**stored));
    }
    if (from == nullptr) {
        // Not a block we know: build from the start rather than trust it.
        spdlog::warn("chain: the indexes' build mark names no known block; building from genesis");
        from = genesis_;
    }
    history_tip_ = from;
    return {};
}

Chainstate::IndexProgress Chainstate::Impl::index_progress() const {
    util::LockGuard lock(mutex_);
    if (history_tip_ == nullptr) return {true, active_.back()->height};
    // A reorg may have left the mark's block off the active chain: its ancestors count.
    const BlockIndex* from = history_tip_;
    while (!in_active_locked(from)) from = from->prev;
    return {false, from->height};
}

util::Result<bool> Chainstate::Impl::build_indexes(std::chrono::milliseconds budget) {
    const BlockIndex* done = nullptr;
    const BlockIndex* tip = nullptr;
    {
        util::LockGuard lock(mutex_);
        if (history_tip_ == nullptr) return false;
        done = history_tip_;
        while (!in_active_locked(done)) done = done->prev;
        tip = active_.back();
    }
    // The sync goes first; its blocks would only be left behind again.
    if (syncing()) return false;
    // The undo data read below may still wait in the sync batch or for the writer.
    if (auto w = write_held(); !w) return util::Unexpected(w.error());

    const auto started = std::chrono::steady_clock::now();
    store::WriteBatch batch;
    while (done != tip) {
        if (!batch.empty() && (std::chrono::steady_clock::now() - started >= budget ||
                               batch.approximate_size() >= kMaxBuildBatchBytes)) {
            break;
        }
        const BlockIndex* next = nullptr;
        {
            util::LockGuard lock(mutex_);
            next = active_[done->height + 1];
        }
        // Every block up to the tip is in the store now (the sync batch was written above).
        if (auto r = storage_.index_stored_block(next, indexes_, batch); !r) {
            return util::Unexpected(r.error());
        }
        done = next;
    }
    const bool complete = done == tip;
    // The mark moves in the batch that holds the entries it vouches for.
    if (complete) {
        batch.erase(storage::history_tip_key());
    } else {
        batch.put(storage::history_tip_key(), done->hash.span());
    }
    if (auto w = write(batch); !w) return util::Unexpected(w.error());
    {
        util::LockGuard lock(mutex_);
        history_tip_ = complete ? nullptr : done;
    }
    if (complete) {
        spdlog::info("chain: indexes built to the tip, {}", describe(done));
    } else if (spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("chain: indexes built to height {} of {}", done->height, tip->height);
    }
    return !complete;
}

}  // namespace peerchain::chain
