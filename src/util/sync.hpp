// Locks the clang thread-safety analysis understands: util::Mutex and its two scoped
// holders, LockGuard and UniqueLock. libstdc++'s std::mutex carries no capability
// attribute, so data marked GUARDED_BY(a std::mutex) cannot be checked; these thin wrappers
// add the attributes and nothing else (see bitcoin src/sync.h).
//
//     mutable util::Mutex mutex_;
//     std::condition_variable cv_;
//     int count_ GUARDED_BY(mutex_) = 0;
//
//     { util::LockGuard lock(mutex_); ++count_; }
//     util::UniqueLock lock(mutex_);
//     cv_.wait(lock, [&]() REQUIRES(mutex_) { return count_ > 0; });
//
// A UniqueLock is a std::unique_lock<std::mutex>, so a plain std::condition_variable waits
// on it. The analysis does not see the unlock and relock inside wait(); the predicate says
// with REQUIRES that it runs under the lock. ReverseLock lets go of a held mutex for a
// scope, e.g. for a call into another module.
//
// Thread-safety: as std::mutex and std::unique_lock. A LockGuard or UniqueLock belongs to
// the thread that made it.
#pragma once

#include <mutex>

#include "util/thread_annotations.hpp"

namespace peerchain::util {

class CAPABILITY("mutex") Mutex {
  public:
    Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    void lock() ACQUIRE() { mutex_.lock(); }
    void unlock() RELEASE() { mutex_.unlock(); }
    bool try_lock() TRY_ACQUIRE(true) { return mutex_.try_lock(); }

    // Tells the analysis that the calling thread holds this mutex; checks nothing at run
    // time. For code the analysis cannot follow, such as a callback run under the lock.
    void assert_held() const ASSERT_CAPABILITY(this) {}

    // The std::mutex inside, for std::condition_variable and other standard facilities.
    // Whatever locks it through here is invisible to the analysis; prefer UniqueLock.
    std::mutex& native() noexcept { return mutex_; }

  private:
    std::mutex mutex_;
};

// Holds a Mutex for its whole lifetime, like std::lock_guard.
class SCOPED_CAPABILITY LockGuard {
  public:
    explicit LockGuard(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
    ~LockGuard() RELEASE() { mutex_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    Mutex& mutex_;
};

// Holds a Mutex from construction, may unlock() and lock() it again, and releases it (if
// held) on destruction. Is a std::unique_lock<std::mutex> for std::condition_variable.
// Only the members declared here are known to the analysis: do not release(), swap or move
// it.
class SCOPED_CAPABILITY UniqueLock : public std::unique_lock<std::mutex> {
  public:
    explicit UniqueLock(Mutex& mutex) ACQUIRE(mutex)
        : std::unique_lock<std::mutex>(mutex.native()) {}
    ~UniqueLock() RELEASE() {}
    UniqueLock(const UniqueLock&) = delete;
    UniqueLock& operator=(const UniqueLock&) = delete;

    void lock() ACQUIRE() { std::unique_lock<std::mutex>::lock(); }
    void unlock() RELEASE() { std::unique_lock<std::mutex>::unlock(); }
};

// Releases a Mutex the thread holds for its own lifetime and takes it back on destruction,
// also when an exception leaves the scope (bitcoin's REVERSE_LOCK). For a call that must
// not run under the lock in the middle of a function that holds it; a UniqueLock that holds
// the mutex stays valid, since it owns the mutex again once this is gone.
class SCOPED_CAPABILITY ReverseLock {
  public:
    explicit ReverseLock(Mutex& mutex) RELEASE(mutex) : mutex_(mutex) { mutex_.unlock(); }
    // RELEASE() on a scoped capability's destructor undoes what its constructor did: here
    // the analysis sees the mutex taken back.
    ~ReverseLock() RELEASE() { mutex_.lock(); }
    ReverseLock(const ReverseLock&) = delete;
    ReverseLock& operator=(const ReverseLock&) = delete;

  private:
    Mutex& mutex_;
};

}  // namespace peerchain::util
