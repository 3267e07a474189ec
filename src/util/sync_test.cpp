#include "util/sync.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <thread>

namespace peerchain::util {
namespace {

// Whether another thread finds the mutex free.
bool free_elsewhere(Mutex& mutex) {
    bool locked = false;
    std::thread([&] {
        if (mutex.try_lock()) {
            locked = true;
            mutex.unlock();
        }
    }).join();
    return locked;
}

struct Counter {
    Mutex mutex;
    std::condition_variable cv;
    int value GUARDED_BY(mutex) = 0;
};

TEST(Sync, LockGuardHoldsTheMutexForItsScope) {
    Counter c;
    {
        LockGuard lock(c.mutex);
        ++c.value;
        EXPECT_FALSE(free_elsewhere(c.mutex));
    }
    EXPECT_TRUE(free_elsewhere(c.mutex));
}

TEST(Sync, UniqueLockUnlocksAndRelocks) {
    Counter c;
    {
        UniqueLock lock(c.mutex);
        EXPECT_TRUE(lock.owns_lock());
        lock.unlock();
        EXPECT_FALSE(lock.owns_lock());
        EXPECT_TRUE(free_elsewhere(c.mutex));
        lock.lock();
        ++c.value;
        EXPECT_FALSE(free_elsewhere(c.mutex));
    }
    EXPECT_TRUE(free_elsewhere(c.mutex));
}

TEST(Sync, ReverseLockFreesTheMutexForItsScopeOnly) {
    Counter c;
    UniqueLock lock(c.mutex);
    {
        ReverseLock unlocked(c.mutex);
        EXPECT_TRUE(free_elsewhere(c.mutex));
    }
    EXPECT_FALSE(free_elsewhere(c.mutex));
    ++c.value;
}

TEST(Sync, ReverseLockRelocksWhenAnExceptionLeaves) {
    Counter c;
    LockGuard lock(c.mutex);
    try {
        ReverseLock unlocked(c.mutex);
        throw 1;
    } catch (int) {
    }
    EXPECT_FALSE(free_elsewhere(c.mutex));
    ++c.value;
}

TEST(Sync, ConditionVariableWaitsOnUniqueLock) {
    Counter c;
    std::thread producer([&] {
        {
            LockGuard lock(c.mutex);
            c.value = 1;
        }
        c.cv.notify_one();
    });
    {
        UniqueLock lock(c.mutex);
        c.cv.wait(lock, [&]() REQUIRES(c.mutex) { return c.value == 1; });
        EXPECT_EQ(c.value, 1);
    }
    producer.join();
}

}  // namespace
}  // namespace peerchain::util
