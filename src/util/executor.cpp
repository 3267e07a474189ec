#include "util/executor.hpp"

#include <pthread.h>

#include <cstdio>
#include <exception>

namespace peerchain::util {

SerialExecutor::SerialExecutor(const char* name) : name_(name), thread_([this] { run(); }) {}

SerialExecutor::~SerialExecutor() { stop(); }

bool SerialExecutor::post(std::function<void()> task) {
    {
        util::LockGuard lock(mutex_);
        if (stopping_) return false;
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
}

void SerialExecutor::stop() {
    {
        util::LockGuard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

bool SerialExecutor::in_executor_thread() const noexcept {
    return std::this_thread::get_id() == thread_.get_id();
}

std::size_t SerialExecutor::queued() const {
    util::LockGuard lock(mutex_);
    return tasks_.size();
}

void SerialExecutor::run() {
    pthread_setname_np(pthread_self(), name_);
    for (;;) {
        std::function<void()> task;
        {
            util::UniqueLock lock(mutex_);
            wake_.wait(lock, [this]() REQUIRES(mutex_) { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;  // stopping, and everything queued has run
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: task threw: %s\n", name_, e.what());
        } catch (...) {
            std::fprintf(stderr, "%s: task threw\n", name_);
        }
    }
}

}  // namespace peerchain::util
