// ScriptCheckPool: a few worker threads that check a block's signatures together with the
// thread that asks (Bitcoin's CCheckQueue, much simplified). The chain executor collects
// one job per input during its sequential pass over the coins, then hands them all here.
//
// Thread-safety: run() is called from one thread at a time (the chain executor); the
// check function is called concurrently from the workers and the caller and must be safe
// for that.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::chain {

class ScriptCheckPool {
  public:
    // `threads` counts the caller: 0 means the hardware concurrency, 1 means no worker.
    explicit ScriptCheckPool(unsigned threads);
    ~ScriptCheckPool();
    ScriptCheckPool(const ScriptCheckPool&) = delete;
    ScriptCheckPool& operator=(const ScriptCheckPool&) = delete;

    // Calls check(i) for every i in [0, n) until one returns false (or throws). Returns the
    // index of a failed check, or nullopt when all passed. After a failure the remaining
    // indices may be skipped.
    std::optional<std::size_t> run(std::size_t n, const std::function<bool(std::size_t)>& check);

    unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  private:
    void worker();
    void work();

    util::Mutex mutex_;
    std::condition_variable start_;
    std::condition_variable done_;
    std::uint64_t generation_ GUARDED_BY(mutex_) = 0;
    unsigned running_ GUARDED_BY(mutex_) = 0;
    bool stopping_ GUARDED_BY(mutex_) = false;

    // The current run; written by run() before a new generation starts.
    const std::function<bool(std::size_t)>* check_ = nullptr;
    std::size_t count_ = 0;
    std::atomic<std::size_t> next_{0};
    std::atomic<std::size_t> failed_{0};

    std::vector<std::thread> workers_;
};

}  // namespace peerchain::chain
