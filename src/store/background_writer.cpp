#include "store/background_writer.hpp"

#include <pthread.h>

#include <utility>

namespace peerchain::store {

BackgroundWriter::BackgroundWriter(Database& db, std::size_t max_queued_bytes,
                                   std::string thread_name)
    : db_(db), max_queued_bytes_(max_queued_bytes) {
    thread_ = std::thread([this, name = std::move(thread_name)] {
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        run();
    });
}

BackgroundWriter::~BackgroundWriter() {
    {
        util::LockGuard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

util::Result<void> BackgroundWriter::failure_locked() const {
    if (failed_) return util::Unexpected(*failed_);
    return {};
}

util::Result<BackgroundWriter::Ticket> BackgroundWriter::enqueue(WriteBatch batch,
                                                                 WriteOptions options) {
    if (batch.empty()) {
        util::LockGuard lock(mutex_);
        if (failed_) return util::Unexpected(*failed_);
        return queued_count_;
    }
    const std::size_t bytes = batch.approximate_size();
    Ticket ticket = 0;
    {
        util::UniqueLock lock(mutex_);
        // One batch larger than the bound still goes, alone. The batch being written counts
        // toward queued_bytes_ until it is in the store.
        changed_.wait(lock, [&]() REQUIRES(mutex_) {
            if (failed_) return true;
            if (options.wait_idle) return queued_bytes_ == 0;
            return queued_bytes_ == 0 || queued_bytes_ + bytes <= max_queued_bytes_;
        });
        if (failed_) return util::Unexpected(*failed_);
        queue_.push_back({std::move(batch), std::move(options)});
        queued_bytes_ += bytes;
        ticket = ++queued_count_;
    }
    changed_.notify_all();
    return ticket;
}

util::Result<void> BackgroundWriter::wait_written() {
    Ticket target = 0;
    {
        util::LockGuard lock(mutex_);
        target = queued_count_;
    }
    return wait_written(target);
}

util::Result<void> BackgroundWriter::wait_written(Ticket ticket) {
    util::UniqueLock lock(mutex_);
    changed_.wait(lock, [&]() REQUIRES(mutex_) { return failed_ || written_count_ >= ticket; });
    return failure_locked();
}

std::size_t BackgroundWriter::queued_bytes() const {
    util::LockGuard lock(mutex_);
    return queued_bytes_;
}

void BackgroundWriter::run() {
    for (;;) {
        Queued next;
        {
            util::UniqueLock lock(mutex_);
            changed_.wait(lock, [&]() REQUIRES(mutex_) { return stopping_ || !queue_.empty(); });
            // Stopping still writes what is queued: it was promised to the store.
            if (queue_.empty()) return;
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        // A synced write syncs the batches before it with it (they are in the same log).
        // After a failure the queue is empty and stays so: nothing reaches this point.
        util::Result<void> written;
        if (next.options.before) written = next.options.before();
        if (written) written = db_.write(next.batch, next.options.sync);
        {
            util::LockGuard lock(mutex_);
            queued_bytes_ -= next.batch.approximate_size();
            ++written_count_;
            if (!written && !failed_) failed_ = written.error();
            if (failed_) {
                // Nothing after a failed write may land: later batches assume it did.
                written_count_ += queue_.size();
                queue_.clear();
                queued_bytes_ = 0;
            }
        }
        changed_.notify_all();
    }
}

}  // namespace peerchain::store
