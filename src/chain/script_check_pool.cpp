#include "chain/script_check_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <limits>

namespace peerchain::chain {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

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
    if (n == 0) return std::nullopt;
    check_ = &check;
    count_ = n;
    next_.store(0);
    failed_.store(kNone);
    // One job is not worth waking anyone.
    if (workers_.empty() || n == 1) {
        work();
    } else {
        {
            util::LockGuard lock(mutex_);
            running_ = static_cast<unsigned>(workers_.size());
            ++generation_;
        }
        start_.notify_all();
        work();
        util::UniqueLock lock(mutex_);
        done_.wait(lock, [this]() REQUIRES(mutex_) { return running_ == 0; });
    }
    check_ = nullptr;
    const std::size_t failed = failed_.load();
    return failed == kNone ? std::nullopt : std::optional<std::size_t>(failed);
}

void ScriptCheckPool::work() {
    for (;;) {
        if (failed_.load(std::memory_order_relaxed) != kNone) return;
        const std::size_t i = next_.fetch_add(1);
        if (i >= count_) return;
        bool ok = false;
        try {
            ok = (*check_)(i);
        } catch (...) {
            ok = false;
        }
        if (!ok) {
            std::size_t expected = kNone;
            failed_.compare_exchange_strong(expected, i);
            return;
        }
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
