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

util::Result<void> BackgroundWriter::enqueue(WriteBatch batch) {
    if (batch.empty()) {
        util::LockGuard lock(mutex_);
        return failure_locked();
    }
    const std::size_t bytes = batch.approximate_size();
    {
        util::UniqueLock lock(mutex_);
        // One batch larger than the bound still goes, alone.
        changed_.wait(lock, [&]() REQUIRES(mutex_) {
            return failed_ || queued_bytes_ == 0 || queued_bytes_ + bytes <= max_queued_bytes_;
        });
        if (failed_) return util::Unexpected(*failed_);
        queue_.push_back(std::move(batch));
        queued_bytes_ += bytes;
        ++queued_count_;
    }
    changed_.notify_all();
    return {};
}

util::Result<void> BackgroundWriter::wait_written() {
    util::UniqueLock lock(mutex_);
    const std::uint64_t target = queued_count_;
    changed_.wait(lock, [&]() REQUIRES(mutex_) { return failed_ || written_count_ >= target; });
    return failure_locked();
}

std::size_t BackgroundWriter::queued_bytes() const {
    util::LockGuard lock(mutex_);
    return queued_bytes_;
}

void BackgroundWriter::run() {
    for (;;) {
        WriteBatch batch;
        {
            util::UniqueLock lock(mutex_);
            changed_.wait(lock, [&]() REQUIRES(mutex_) { return stopping_ || !queue_.empty(); });
            // Stopping still writes what is queued: it was promised to the store.
            if (queue_.empty()) return;
            batch = std::move(queue_.front());
            queue_.pop_front();
        }
        // Not synced: a synced write that must follow these (a coins flush) calls
        // wait_written() first, and syncs them with it. After a failure the queue is
        // empty and stays so: nothing reaches this point.
        auto written = db_.write(batch);
        {
            util::LockGuard lock(mutex_);
            queued_bytes_ -= batch.approximate_size();
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
