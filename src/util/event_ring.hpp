// EventRing: a bounded, sequence-numbered ring of events that one producer publishes and
// any number of readers follow at their own pace. It is the asynchronous tap of the node's
// event bus (chain/event_bus.hpp): the producer (the chain executor) never waits for a
// reader, and a reader that falls more than `capacity` events behind is cut off: its next
// read says `reset` instead of silently skipping what it missed. Every event keeps its
// sequence number, so a reader that comes back with the last number it saw resumes where
// it left off while the ring still holds the events after it (the HTTP event stream's
// Last-Event-ID).
//
// Thread-safety: publish(), read(), take(), last_sequence(), nudge() and close() may be
// called from any thread. publish() holds the internal lock only to store one event;
// read() copies events out under it, take() moves them. T must be copyable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "util/assert.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::util {

template <typename T>
class EventRing {
  public:
    // Holds at most `capacity` (>= 1) events; the oldest goes when a new one comes.
    explicit EventRing(std::size_t capacity) : capacity_(capacity) { NODE_ASSERT(capacity >= 1); }

    struct Read {
        // Events with their sequence numbers, oldest first.
        std::vector<std::pair<std::uint64_t, T>> events;
        // The reader asked for events the ring no longer holds: `events` starts at the
        // oldest one it still has. A reader must treat this as a gap (start over).
        bool reset = false;
        // The sequence number to ask for next.
        std::uint64_t next = 1;
        // close() was called: no more events will come.
        bool closed = false;
    };

    // Stores an event and wakes waiting readers. Returns its sequence number (1, 2, ...).
    std::uint64_t publish(T event) {
        std::uint64_t seq = 0;
        {
            LockGuard lock(mutex_);
            seq = ++last_;
            events_.emplace_back(seq, std::move(event));
            if (events_.size() > capacity_) events_.pop_front();
        }
        cv_.notify_all();
        return seq;
    }

    // Events numbered `since` and later, at most `max`. When there are none yet, waits up to
    // `timeout` for one (0: does not wait). `since` of 0 means "from the oldest held".
    Read read(std::uint64_t since, std::size_t max,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        UniqueLock lock(mutex_);
        Read out;
        const std::uint64_t oldest = wait_for(lock, since, timeout, out);
        for (std::uint64_t seq = since; seq <= last_ && out.events.size() < max; ++seq) {
            out.events.push_back(events_[static_cast<std::size_t>(seq - oldest)]);
        }
        out.next = out.events.empty() ? since : out.events.back().first + 1;
        return out;
    }

    // read() for a ring's one reader: moves the events out and drops them, with every
    // older one, from the ring. Their destructors then run on the reader's thread,
    // outside the lock the producer needs.
    Read take(std::uint64_t since, std::size_t max,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
        UniqueLock lock(mutex_);
        Read out;
        wait_for(lock, since, timeout, out);
        while (!events_.empty() && events_.front().first < since) events_.pop_front();
        while (!events_.empty() && out.events.size() < max) {
            out.events.push_back(std::move(events_.front()));
            events_.pop_front();
        }
        out.next = out.events.empty() ? since : out.events.back().first + 1;
        return out;
    }

    // The number of the newest event (0 before the first).
    std::uint64_t last_sequence() const {
        LockGuard lock(mutex_);
        return last_;
    }

    std::size_t capacity() const noexcept { return capacity_; }

    // Wakes the readers waiting in read() without an event: a reader that also watches
    // another source (node/event_feed.cpp) is told to look at it.
    void nudge() {
        {
            LockGuard lock(mutex_);
            ++nudges_;
        }
        cv_.notify_all();
    }

    // Wakes every waiting reader; reads still return what is held.
    void close() {
        {
            LockGuard lock(mutex_);
            closed_ = true;
        }
        cv_.notify_all();
    }

  private:
    // Waits as read() says, sets out.closed and out.reset, and moves `since` to the first
    // event to hand out. Returns the number of the oldest event held.
    std::uint64_t wait_for(UniqueLock& lock, std::uint64_t& since,
                           std::chrono::milliseconds timeout, Read& out) const REQUIRES(mutex_) {
        if (since == 0) since = events_.empty() ? last_ + 1 : events_.front().first;
        if (timeout.count() > 0) {
            const std::uint64_t nudges = nudges_;
            cv_.wait_for(lock, timeout, [&]() REQUIRES(mutex_) {
                return closed_ || last_ >= since || nudges_ != nudges;
            });
        }
        out.closed = closed_;
        const std::uint64_t oldest = events_.empty() ? last_ + 1 : events_.front().first;
        if (since < oldest && since <= last_) {
            out.reset = true;
            since = oldest;
        }
        if (since > last_ + 1) since = last_ + 1;  // from the future: start at the next one
        return oldest;
    }

    const std::size_t capacity_;
    mutable Mutex mutex_;
    mutable std::condition_variable cv_;
    std::deque<std::pair<std::uint64_t, T>> events_ GUARDED_BY(mutex_);
    std::uint64_t last_ GUARDED_BY(mutex_) = 0;
    bool closed_ GUARDED_BY(mutex_) = false;
    std::uint64_t nudges_ GUARDED_BY(mutex_) = 0;
};

}  // namespace peerchain::util
