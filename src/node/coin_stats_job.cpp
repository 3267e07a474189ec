#include "node/coin_stats_job.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <system_error>
#include <utility>

namespace peerchain::node {

CoinStatsJob::CoinStatsJob(chain::Chainstate& chain, store::Database& db,
                           util::SerialExecutor& executor,
                           std::function<void(const std::string&)> store_failed)
    : chain_(chain), db_(db), executor_(executor), store_failed_(std::move(store_failed)) {}

CoinStatsJob::~CoinStatsJob() { stop(); }

bool CoinStatsJob::run(Done done) {
    {
        util::LockGuard lock(mutex_);
        if (running_) return false;
        if (!stopping_) running_ = true;
    }
    if (stop_flag_.load()) {
        finish(util::Unexpected(util::Errc::kUnavailable, "the node is stopping"), done);
        return true;
    }
    if (!executor_.post([this, done] { start_walk(done); })) {
        finish(util::Unexpected(util::Errc::kUnavailable, "the node is stopping"), done);
    }
    return true;
}

void CoinStatsJob::start_walk(Done done) {
    if (stop_flag_.load()) {
        return finish(util::Unexpected(util::Errc::kUnavailable, "the node is stopping"), done);
    }
    // The coins of the cache and the blocks held back during initial sync reach the store
    // (the sync batch is written before the coins): the snapshot below then holds the
    // whole set of the tip, with the tip it belongs to.
    if (auto flushed = chain_.flush(); !flushed) {
        spdlog::error("coins digest: flush: {}", flushed.error().to_string());
        if (store_failed_) store_failed_("storage failure: " + flushed.error().to_string());
        return finish(util::Unexpected(flushed.error()), done);
    }
    std::shared_ptr<store::Iterator> snapshot = db_.new_iterator();

    // The walk before, if any, has called finish() and is about to return.
    std::thread previous;
    {
        util::LockGuard lock(mutex_);
        previous = std::move(walker_);
    }
    if (previous.joinable()) previous.join();

    bool started = false;
    bool stopping = false;
    {
        util::LockGuard lock(mutex_);
        stopping = stopping_;
        if (!stopping) {
            try {
                walker_ = std::thread([this, snapshot = std::move(snapshot), done]() mutable {
                    pthread_setname_np(pthread_self(), "coinstats");
                    auto result = chain::compute_coin_stats(*snapshot, chain_, &stop_flag_);
                    // The snapshot pins files of the store: let go of it before answering.
                    snapshot.reset();
                    if (!result && result.error().code != util::Errc::kUnavailable) {
                        spdlog::error("coins digest: {}", result.error().to_string());
                    }
                    finish(std::move(result), done);
                });
                started = true;
            } catch (const std::system_error& e) {
                spdlog::warn("coins digest: no thread: {}", e.what());
            }
        }
    }
    if (!started) {
        finish(util::Unexpected(util::Errc::kUnavailable,
                                stopping ? "the node is stopping" : "cannot start a thread now"),
               done);
    }
}

void CoinStatsJob::finish(util::Result<chain::CoinStats> result, const Done& done) {
    {
        // Before the answer: a client that asks again as soon as it has one is not refused.
        util::LockGuard lock(mutex_);
        running_ = false;
    }
    done(std::move(result));
}

void CoinStatsJob::stop() {
    std::thread walker;
    {
        util::LockGuard lock(mutex_);
        stopping_ = true;
        stop_flag_.store(true);
        walker = std::move(walker_);
    }
    if (walker.joinable()) walker.join();
}

}  // namespace peerchain::node
