// BackgroundWriter: writes batches to a Database on a thread of its own, one after the
// other in the order they were queued, so that the thread that queues them does not wait
// for the storage engine. The chain uses it for its index entries and, during initial
// sync, for its held-back block records and its coins flushes (docs/STORAGE.md, sections
// 3 and 4): they follow the chain a few milliseconds behind instead of sitting on the
// path of every connected block.
//
// Since batches land in queue order, what is in the store after a crash is always the
// batches up to some point of the queue, never a later one without an earlier one.
//
// Memory is bounded: enqueue() waits while more than `max_queued_bytes` (by
// WriteBatch::approximate_size) are queued. The first write that fails stops the writer:
// what is queued after it is dropped, and enqueue() and wait_written() report that
// failure from then on.
//
// Ownership: borrows the database, which must outlive the writer. The destructor writes
// what is queued, then joins the thread.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "store/database.hpp"
#include "store/write_batch.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::store {

class BackgroundWriter {
  public:
    // Names a queued batch: the count of batches queued up to and including it.
    using Ticket = std::uint64_t;

    struct WriteOptions {
        // Written with sync = true (it survives a power loss, and so does every batch
        // before it). `before`, when set, runs on the writer thread just before the write;
        // if it fails the write does not happen and the writer stops as on a failed write.
        // (The chain passes the block files' sync: a synced record must not outlive the
        // bodies it names.)
        bool sync = false;
        std::function<util::Result<void>()> before;
        // Waits first until the writer has nothing left to write: the batch goes in only
        // behind the one being written, so that at most two of the caller's batches (this
        // one and the one before) are ever between it and the store.
        bool wait_idle = false;
    };

    // `thread_name` is at most 15 characters (the kernel's limit).
    BackgroundWriter(Database& db, std::size_t max_queued_bytes, std::string thread_name);
    ~BackgroundWriter();
    BackgroundWriter(const BackgroundWriter&) = delete;
    BackgroundWriter& operator=(const BackgroundWriter&) = delete;

    // Queues `batch` (an empty one is ignored, and its ticket is the last batch's); waits
    // first while the queue is over its bound. Fails, queueing nothing, once a write has
    // failed.
    util::Result<Ticket> enqueue(WriteBatch batch, WriteOptions options);
    util::Result<Ticket> enqueue(WriteBatch batch) { return enqueue(std::move(batch), {}); }
    // Waits until every batch queued before the call is in the store (or a write failed).
    util::Result<void> wait_written();
    // Waits until the batch `ticket` names, and every batch before it, is in the store (or
    // a write failed); at once when it is. Ticket 0 names no batch.
    util::Result<void> wait_written(Ticket ticket);
    // The bytes queued and not yet written.
    std::size_t queued_bytes() const;

  private:
    void run();
    util::Result<void> failure_locked() const REQUIRES(mutex_);

    struct Queued {
        WriteBatch batch;
        WriteOptions options;
    };

    Database& db_;
    const std::size_t max_queued_bytes_;

    mutable util::Mutex mutex_;
    std::condition_variable changed_;  // queued, written, failed or stopping
    std::deque<Queued> queue_ GUARDED_BY(mutex_);
    std::size_t queued_bytes_ GUARDED_BY(mutex_) = 0;
    // Batches ever queued and ever written (or dropped after a failure), counted.
    std::uint64_t queued_count_ GUARDED_BY(mutex_) = 0;
    std::uint64_t written_count_ GUARDED_BY(mutex_) = 0;
    std::optional<util::Error> failed_ GUARDED_BY(mutex_);
    bool stopping_ GUARDED_BY(mutex_) = false;

    std::thread thread_;  // last: started once the members above exist
};

}  // namespace peerchain::store
