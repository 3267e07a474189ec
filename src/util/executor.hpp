// SerialExecutor: one thread that runs posted tasks one at a time, in order. The node's
// chain executor is one: every chain-state mutation and every peer message is handled on
// it, so validation needs no finer locking.
//
// Thread-safety: post() and stop() may be called from any thread. A task that throws is
// caught and logged to stderr; the executor goes on. The queue is bounded only by the
// callers (peer_manager bounds what each peer may queue).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>

#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::util {

class SerialExecutor {
  public:
    explicit SerialExecutor(const char* name);
    ~SerialExecutor();  // stop()s
    SerialExecutor(const SerialExecutor&) = delete;
    SerialExecutor& operator=(const SerialExecutor&) = delete;

    // Queues a task. Returns false (and drops it) once stop() has begun.
    bool post(std::function<void()> task);
    // Runs the tasks already queued, then joins the thread. Safe to call twice; must not be
    // called from a task.
    void stop();
    bool in_executor_thread() const noexcept;
    std::size_t queued() const;

  private:
    void run();

    const char* name_;
    mutable util::Mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_ GUARDED_BY(mutex_);
    bool stopping_ GUARDED_BY(mutex_) = false;
    std::thread thread_;
};

}  // namespace peerchain::util
