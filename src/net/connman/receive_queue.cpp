#include "net/connman/receive_queue.hpp"

#include <utility>

namespace peerchain::net::connman {

ReceiveQueue::ReceiveQueue(std::size_t buffer, Control control)
    : buffer_(buffer), control_(std::move(control)) {}

bool ReceiveQueue::add(std::size_t held) {
    util::LockGuard lock(mutex_);
    if (bytes_ > buffer_) return false;
    bytes_ += held;
    if (bytes_ > buffer_ && !paused_) {
        paused_ = true;
        control_(true);
    }
    return true;
}

void ReceiveQueue::remove(std::size_t held) {
    util::LockGuard lock(mutex_);
    bytes_ -= held;
    if (paused_ && bytes_ <= buffer_ / 2) {
        paused_ = false;
        control_(false);
    }
}

std::size_t ReceiveQueue::bytes() const {
    util::LockGuard lock(mutex_);
    return bytes_;
}

bool ReceiveQueue::paused() const {
    util::LockGuard lock(mutex_);
    return paused_;
}

}  // namespace peerchain::net::connman
