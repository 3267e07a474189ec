// CoinStatsJob: runs GET /chain/coins (chain/coin_stats.hpp), at most one at a time.
//
// A run flushes the coins cache on the chain executor (which writes the blocks held back
// during initial sync first, docs/STORAGE.md section 3), takes a snapshot of the store in
// the same task, so that the snapshot's coins are exactly those of the tip at that moment,
// and walks the snapshot on a thread of its own ("coinstats"): the chain executor is held
// only for the flush, however large the set. Each run walks the whole set, so a second
// request while one runs is refused at once rather than queued: hostile clients cannot
// pile up work or memory (a walk needs constant memory).
//
// Ownership: node/ owns it; the chain, the store and the executor must outlive it (stop()
// joins the walk, before the executor stops and the store closes).
// Thread-safety: run() and stop() from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "chain/chainstate.hpp"
#include "chain/coin_stats.hpp"
#include "store/database.hpp"
#include "util/executor.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::node {

class CoinStatsJob {
  public:
    using Done = std::function<void(util::Result<chain::CoinStats>)>;

    // `store_failed` hears of a flush that failed (the node stops then, as on any storage
    // failure); the request is answered with the error too.
    CoinStatsJob(chain::Chainstate& chain, store::Database& db, util::SerialExecutor& executor,
                 std::function<void(const std::string&)> store_failed = {});
    ~CoinStatsJob();  // stop()s
    CoinStatsJob(const CoinStatsJob&) = delete;
    CoinStatsJob& operator=(const CoinStatsJob&) = delete;

    // Starts a run and returns true; `done` is called later, from the chain executor or the
    // walk's thread, with the stats or why not: kUnavailable once stop() began, else the
    // flush's or the walk's error. Returns false, and never calls `done`, while a run is
    // under way.
    bool run(Done done);
    // Ends a walk under way (its `done` gets kUnavailable) and joins it; later runs answer
    // kUnavailable. Safe to call twice.
    void stop();

  private:
    // On the chain executor: flush, snapshot, hand the walk to its thread.
    void start_walk(Done done);
    void finish(util::Result<chain::CoinStats> result, const Done& done);

    chain::Chainstate& chain_;
    store::Database& db_;
    util::SerialExecutor& executor_;
    std::function<void(const std::string&)> store_failed_;
    std::atomic<bool> stop_flag_{false};

    util::Mutex mutex_;
    bool running_ GUARDED_BY(mutex_) = false;
    bool stopping_ GUARDED_BY(mutex_) = false;
    std::thread walker_ GUARDED_BY(mutex_);
};

}  // namespace peerchain::node
