// ScriptCheckPool: a few worker threads that check a block's signatures together with the
// thread that asks (Bitcoin's CCheckQueue, much simplified). The chain executor adds one
// job per input during its sequential pass over the coins (a Batch), and the workers check
// them as they come, so that the pass and the checks overlap; at the end the chain
// executor checks too, and waits for the verdict.
//
// Thread-safety: one Batch (or run()) at a time, from one thread (the chain executor); the
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

    // One run whose jobs become ready while it runs: jobs [0, n) once add_ready(n) was
    // called. Whatever check(i) reads for a job must be in place before the job is made
    // ready, and stay in place until finish() returns or the Batch is destroyed.
    class Batch {
      public:
        Batch(ScriptCheckPool& pool, const std::function<bool(std::size_t)>& check);
        // Without finish(): stops the workers (jobs not yet checked are skipped) and waits
        // until none runs a check.
        ~Batch();
        Batch(const Batch&) = delete;
        Batch& operator=(const Batch&) = delete;

        // Jobs [0, ready) may be checked; `ready` never decreases.
        void add_ready(std::size_t ready);
        // No more jobs: the caller checks what is left with the workers, then waits for
        // them. Returns the index of a failed check (or one that threw), or nullopt when
        // all passed. After a failure the remaining jobs may be skipped.
        std::optional<std::size_t> finish();

      private:
        void end();

        ScriptCheckPool& pool_;
        bool woken_ = false;
        bool ended_ = false;
    };

    // Calls check(i) for every i in [0, n) until one returns false (or throws): a Batch
    // with every job ready at once.
    std::optional<std::size_t> run(std::size_t n, const std::function<bool(std::size_t)>& check);

    unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  private:
    void worker();
    // Checks ready jobs until there are no more and none will come, or one failed.
    void work();
    void wake_waiting();

    util::Mutex mutex_;
    std::condition_variable start_;  // a new generation, or stopping
    std::condition_variable more_;   // jobs ready, closed, or failed
    std::condition_variable done_;   // a worker finished its part of the run
    std::uint64_t generation_ GUARDED_BY(mutex_) = 0;
    unsigned running_ GUARDED_BY(mutex_) = 0;
    bool stopping_ GUARDED_BY(mutex_) = false;

    // The current run; set by the Batch before its workers are woken.
    const std::function<bool(std::size_t)>* check_ = nullptr;
    std::atomic<std::size_t> ready_{0};
    std::atomic<std::size_t> next_{0};
    std::atomic<std::size_t> failed_{0};
    std::atomic<bool> closed_{false};
    std::atomic<unsigned> waiting_{0};  // workers asleep on more_

    std::vector<std::thread> workers_;
};

}  // namespace peerchain::chain
