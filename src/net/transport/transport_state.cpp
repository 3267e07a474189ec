#include "net/transport/transport_state.hpp"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "net/transport/listener.hpp"
#include "net/transport/session_base.hpp"

namespace peerchain::net::transport::detail {

namespace {
// The transport whose handler this thread is calling, if any: stop() called from inside a
// handler must not wait for that very call to finish.
thread_local const TransportState* tl_handler_call = nullptr;
// The transport whose stop() this thread is running: an on_close called from there may call
// stop() again, which must return rather than wait for itself.
thread_local const TransportState* tl_stopping = nullptr;
}  // namespace

Slot& Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        direction_ = other.direction_;
    }
    return *this;
}

void Slot::release() noexcept {
    if (auto state = std::move(state_)) state->release(direction_);
}

TransportState::TransportState(boost::asio::io_context& io, Handler& handler, const Limits& limits)
    : io_(io), handler_(handler), limits_(limits) {}

SessionId TransportState::next_id() noexcept {
    util::LockGuard lock(mutex_);
    return ++last_id_;
}

util::Result<Slot> TransportState::reserve(const std::shared_ptr<TransportState>& self,
                                           Direction direction) {
    util::LockGuard lock(mutex_);
    if (phase_ != Phase::kRunning) {
        return util::Unexpected(util::Errc::kUnavailable, "transport stopped");
    }
    auto& count = direction == Direction::kInbound ? inbound_ : outbound_;
    const auto max = direction == Direction::kInbound ? limits_.max_inbound : limits_.max_outbound;
    if (count >= max) {
        return util::Unexpected(util::Errc::kUnavailable, std::string(direction_name(direction)) +
                                                              " limit of " + std::to_string(max) +
                                                              " connections reached");
    }
    ++count;
    return Slot(self, direction);
}

util::Result<Slot> TransportState::reserve_by_evicting(
    const std::shared_ptr<TransportState>& self) {
    std::shared_ptr<PendingConnection> pending;
    std::shared_ptr<SessionBase> session;
    {
        util::LockGuard lock(mutex_);
        if (phase_ != Phase::kRunning) {
            return util::Unexpected(util::Errc::kUnavailable, "transport stopped");
        }
        // Ids grow with time: the first match in each map is the oldest of its kind.
        SessionId pending_id = 0;
        for (const auto& [id, weak] : pending_) {
            auto p = weak.lock();
            if (p && p->inbound()) {
                pending = std::move(p);
                pending_id = id;
                break;
            }
        }
        SessionId session_id = 0;
        for (const auto& [id, s] : sessions_) {
            // Not open yet, or closing already (a peer can hold a WebSocket closing
            // handshake for the whole timeout).
            if (s->direction() == Direction::kInbound && (!s->has_opened() || !s->is_open())) {
                session = s;
                session_id = id;
                break;
            }
        }
        if (pending && session) {
            if (pending_id < session_id) {
                session.reset();
            } else {
                pending.reset();
            }
        }
        if (!pending && !session) {
            return util::Unexpected(
                util::Errc::kUnavailable,
                "inbound limit of " + std::to_string(limits_.max_inbound) + " connections reached");
        }
        if (pending) pending_.erase(pending_id);
        ++inbound_;
    }
    if (pending) pending->cancel();
    if (session) session->evict_if_not_open("inbound slots full: evicted before opening");
    return Slot(self, Direction::kInbound);
}

void TransportState::release(Direction direction) noexcept {
    util::LockGuard lock(mutex_);
    auto& count = direction == Direction::kInbound ? inbound_ : outbound_;
    NODE_ASSERT(count > 0);
    --count;
}

std::size_t TransportState::count(Direction direction) const {
    util::LockGuard lock(mutex_);
    return direction == Direction::kInbound ? inbound_ : outbound_;
}

bool TransportState::add_session(const std::shared_ptr<SessionBase>& session) {
    util::LockGuard lock(mutex_);
    if (phase_ != Phase::kRunning) return false;
    sessions_.emplace(session->id(), session);
    return true;
}

void TransportState::remove_session(SessionId id) {
    std::shared_ptr<SessionBase> removed;  // destroyed after the lock is released
    util::LockGuard lock(mutex_);
    // Once stop() has begun it owns the registry: a session must stay listed so that stop()
    // can call its on_close.
    if (phase_ != Phase::kRunning) return;
    if (auto it = sessions_.find(id); it != sessions_.end()) {
        removed = std::move(it->second);
        sessions_.erase(it);
    }
}

bool TransportState::add_pending(SessionId id, const std::shared_ptr<PendingConnection>& pending) {
    util::LockGuard lock(mutex_);
    if (phase_ != Phase::kRunning) return false;
    pending_.emplace(id, pending);
    return true;
}

void TransportState::remove_pending(SessionId id) {
    util::LockGuard lock(mutex_);
    pending_.erase(id);
}

bool TransportState::set_listener(const std::shared_ptr<Listener>& listener) {
    util::LockGuard lock(mutex_);
    if (phase_ != Phase::kRunning || had_listener_) return false;
    listener_ = listener;
    had_listener_ = true;
    return true;
}

bool TransportState::has_listener() const {
    util::LockGuard lock(mutex_);
    return had_listener_;
}

bool TransportState::stopping() const {
    util::LockGuard lock(mutex_);
    return phase_ != Phase::kRunning;
}

bool TransportState::enter(const TransportState*& outer) noexcept {
    util::LockGuard lock(mutex_);
    if (phase_ != Phase::kRunning) return false;
    ++active_calls_;
    outer = tl_handler_call;
    tl_handler_call = this;
    return true;
}

void TransportState::leave(const TransportState* outer) noexcept {
    tl_handler_call = outer;
    util::LockGuard lock(mutex_);
    --active_calls_;
    if (phase_ != Phase::kRunning) cv_.notify_all();
}

void TransportState::log_handler_exception(const char* what, const char* message) noexcept {
    spdlog::error("p2p handler {} threw: {}", what, message);
}

void TransportState::stop() {
    if (tl_stopping == this) return;
    const bool in_handler_call = tl_handler_call == this;
    util::UniqueLock lock(mutex_);
    const bool first = phase_ == Phase::kRunning;
    if (first) phase_ = Phase::kStopping;
    if (in_handler_call) {
        ++stoppers_in_calls_;
        cv_.notify_all();  // another stop() may be waiting for this very call
    }
    // Handler calls already running finish first, except those waiting in stop() too;
    // from here on no new call can start.
    cv_.wait(lock, [&]() REQUIRES(mutex_) { return active_calls_ == stoppers_in_calls_; });
    if (!first) {
        cv_.wait(lock, [&]() REQUIRES(mutex_) { return phase_ == Phase::kStopped; });
        if (in_handler_call) --stoppers_in_calls_;
        return;
    }
    auto sessions = std::move(sessions_);
    sessions_.clear();
    auto pending = std::move(pending_);
    pending_.clear();
    auto listener = std::move(listener_);
    listener_.reset();
    lock.unlock();

    if (listener) listener->close();
    for (const auto& [id, weak] : pending) {
        if (auto connection = weak.lock()) connection->cancel();
    }
    for (const auto& [id, session] : sessions) session->stop_close();
    const TransportState* outer_stop = tl_stopping;
    tl_stopping = this;
    for (const auto& [id, session] : sessions) {
        if (!session->claim_close_notification()) continue;
        try {
            handler_.on_close(id, "transport stopped");
        } catch (const std::exception& e) {
            log_handler_exception("on_close", e.what());
        } catch (...) {
            log_handler_exception("on_close", "unknown exception");
        }
    }
    tl_stopping = outer_stop;
    spdlog::debug("p2p transport stopped, {} sessions closed", sessions.size());
    // Dropped before relocking: a last reference would release its slot, which locks.
    sessions.clear();
    pending.clear();
    listener.reset();

    lock.lock();
    phase_ = Phase::kStopped;
    if (in_handler_call) --stoppers_in_calls_;
    cv_.notify_all();
}

}  // namespace peerchain::net::transport::detail
