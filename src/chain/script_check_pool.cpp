#include "chain/script_check_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <limits>

namespace peerchain::chain {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
// failed_ when a Batch was abandoned: not a job index, never reported.
constexpr std::size_t kAbandoned = kNone - 1;

}  // namespace

ScriptCheckPool::ScriptCheckPool(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

ScriptCheckPool::~ScriptCheckPool() {
    {
        util::LockGuard lock(mutex_);
        stopping_ = true;
    }
    start_.notify_all();
    for (auto& t : workers_) t.join();
}

std::optional<std::size_t> ScriptCheckPool::run(std::size_t n,
                                                const std::function<bool(std::size_t)>& check) {
    Batch batch(*this, check);
    batch.add_ready(n);
    return batch.finish();
}

ScriptCheckPool::Batch::Batch(ScriptCheckPool& pool, const std::function<bool(std::size_t)>& check)
    : pool_(pool) {
    pool_.check_ = &check;
    pool_.ready_.store(0);
    pool_.next_.store(0);
    pool_.failed_.store(kNone);
    pool_.closed_.store(false);
}

ScriptCheckPool::Batch::~Batch() {
    if (ended_) return;
    std::size_t expected = kNone;
    pool_.failed_.compare_exchange_strong(expected, kAbandoned);
    end();
}

void ScriptCheckPool::Batch::add_ready(std::size_t ready) {
    if (ready <= pool_.ready_.load(std::memory_order_relaxed)) return;
    pool_.ready_.store(ready);
    // The first jobs wake the workers; one job alone is not worth it, the caller checks
    // it in finish().
    if (!woken_ && !pool_.workers_.empty() && ready > 1) {
        woken_ = true;
        {
            util::LockGuard lock(pool_.mutex_);
            pool_.running_ = static_cast<unsigned>(pool_.workers_.size());
            ++pool_.generation_;
        }
        pool_.start_.notify_all();
        return;
    }
    // A worker that found nothing to do sleeps; it counted itself in waiting_ before it
    // looked at ready_, so one of the two sees the other's change.
    if (pool_.waiting_.load() > 0) pool_.wake_waiting();
}

std::optional<std::size_t> ScriptCheckPool::Batch::finish() {
    end();
    const std::size_t failed = pool_.failed_.load();
    return failed == kNone || failed == kAbandoned ? std::nullopt
                                                   : std::optional<std::size_t>(failed);
}

void ScriptCheckPool::Batch::end() {
    ended_ = true;
    pool_.closed_.store(true);
    if (woken_) pool_.wake_waiting();
    pool_.work();
    if (woken_) {
        util::UniqueLock lock(pool_.mutex_);
        pool_.done_.wait(lock, [this]() REQUIRES(pool_.mutex_) { return pool_.running_ == 0; });
    }
    pool_.check_ = nullptr;
}

void ScriptCheckPool::wake_waiting() {
    // Taking the lock orders this wake-up after a worker's check of its predicate, which
    // it makes under the lock: it is either not yet asleep or woken here.
    { util::LockGuard lock(mutex_); }
    more_.notify_all();
}

void ScriptCheckPool::work() {
    for (;;) {
        if (failed_.load(std::memory_order_relaxed) != kNone) return;
        std::size_t i = next_.load();
        if (i < ready_.load()) {
            if (!next_.compare_exchange_weak(i, i + 1)) continue;
            bool ok = false;
            try {
                ok = (*check_)(i);
            } catch (...) {
                ok = false;
            }
            if (!ok) {
                std::size_t expected = kNone;
                failed_.compare_exchange_strong(expected, i);
                wake_waiting();
                return;
            }
            continue;
        }
        if (closed_.load()) {
            if (next_.load() >= ready_.load()) return;
            continue;
        }
        util::UniqueLock lock(mutex_);
        waiting_.fetch_add(1);
        more_.wait(lock, [this]() REQUIRES(mutex_) {
            return next_.load() < ready_.load() || closed_.load() || failed_.load() != kNone;
        });
        waiting_.fetch_sub(1);
    }
}

void ScriptCheckPool::worker() {
    pthread_setname_np(pthread_self(), "sigcheck");
    std::uint64_t seen = 0;
    for (;;) {
        {
            util::UniqueLock lock(mutex_);
            start_.wait(lock, [&]() REQUIRES(mutex_) { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        work();
        {
            util::LockGuard lock(mutex_);
            if (--running_ == 0) done_.notify_one();
        }
    }
}

}  // namespace peerchain::chain
