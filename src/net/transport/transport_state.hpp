// Internal to net/transport: the state a Transport shares with its listener, dials,
// inbound connections not yet sessions, and sessions (they may outlive the Transport object
// while their operations drain from the io_context), the connection slots, and the gate
// every Handler call passes through so that stop() can promise no handler call starts after
// it returns.
//
// Thread-safety: all member functions are safe from any thread; the mutable fields sit
// beside mutex_.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <utility>

#include "net/transport/handler.hpp"
#include "net/transport/limits.hpp"
#include "net/transport/session.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace peerchain::net::transport::detail {

class TransportState;
class SessionBase;
class Listener;

// A connection that is not a session yet: a dial in progress, or an inbound connection
// whose first bytes are awaited. stop() cancels it; a cancelled one reports nothing and
// gives its slot back.
class PendingConnection {
  public:
    virtual ~PendingConnection() = default;
    // Safe from any thread; the work happens on the connection's strand.
    virtual void cancel() = 0;
    // An inbound connection waiting for its first bytes (else a dial).
    virtual bool inbound() const noexcept = 0;
};

// One reserved inbound or outbound connection; gives it back when released or destroyed.
class Slot {
  public:
    Slot() = default;
    Slot(std::shared_ptr<TransportState> state, Direction direction) noexcept
        : state_(std::move(state)), direction_(direction) {}
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    void release() noexcept;

  private:
    std::shared_ptr<TransportState> state_;
    Direction direction_ = Direction::kInbound;
};

enum class CallResult {
    kRefused,  // stop() has begun: the handler was not called
    kDone,
    kThrew,  // the handler threw; it was logged
};

class TransportState {
  public:
    TransportState(boost::asio::io_context& io, Handler& handler, const Limits& limits);

    boost::asio::io_context& io() const noexcept { return io_; }
    Handler& handler() const noexcept { return handler_; }
    const Limits& limits() const noexcept { return limits_; }

    SessionId next_id() noexcept;

    // Takes a connection slot. Fails with kUnavailable when stopping or at the limit.
    // self must be the shared_ptr owning this object.
    util::Result<Slot> reserve(const std::shared_ptr<TransportState>& self, Direction direction);
    // The inbound slots are full: closes the oldest inbound connection that has not opened
    // (still sending its first bytes or its WebSocket upgrade) or is closing (its peer
    // holding back the closing handshake), so that connections that never get that far, or
    // never let go, cannot keep a newcomer out, and takes its slot for the newcomer
    // before it is given back (the count is above the limit for as long as the close
    // takes, and stays so when the victim opened before its close ran, until one of the
    // connections goes). Fails as reserve() when there is no such connection.
    util::Result<Slot> reserve_by_evicting(const std::shared_ptr<TransportState>& self);
    std::size_t count(Direction direction) const;

    // Registration, so that stop() can reach everything. Each add fails (returns false)
    // once stop() has begun; the caller then drops what it tried to add.
    bool add_session(const std::shared_ptr<SessionBase>& session);
    void remove_session(SessionId id);
    bool add_pending(SessionId id, const std::shared_ptr<PendingConnection>& pending);
    void remove_pending(SessionId id);
    bool set_listener(const std::shared_ptr<Listener>& listener);
    bool has_listener() const;
    bool stopping() const;

    // Runs f (which calls the handler) unless stop() has begun, catching and logging what
    // it throws. what names the call for the log.
    template <typename F>
    CallResult call_handler(const char* what, F&& f) noexcept {
        const TransportState* outer = nullptr;
        if (!enter(outer)) return CallResult::kRefused;
        CallResult result = CallResult::kDone;
        try {
            std::forward<F>(f)();
        } catch (const std::exception& e) {
            log_handler_exception(what, e.what());
            result = CallResult::kThrew;
        } catch (...) {
            log_handler_exception(what, "unknown exception");
            result = CallResult::kThrew;
        }
        leave(outer);
        return result;
    }

    void stop();

  private:
    friend class Slot;
    enum class Phase { kRunning, kStopping, kStopped };

    void release(Direction direction) noexcept;
    // enter() remembers in outer which transport's handler call this thread was in, if any;
    // leave() restores it.
    bool enter(const TransportState*& outer) noexcept;
    void leave(const TransportState* outer) noexcept;
    static void log_handler_exception(const char* what, const char* message) noexcept;

    boost::asio::io_context& io_;
    Handler& handler_;
    const Limits limits_;

    mutable util::Mutex mutex_;
    std::condition_variable cv_;
    Phase phase_ GUARDED_BY(mutex_) = Phase::kRunning;
    // Handler calls in progress, and how many of them are inside stop() themselves.
    std::size_t active_calls_ GUARDED_BY(mutex_) = 0;
    std::size_t stoppers_in_calls_ GUARDED_BY(mutex_) = 0;
    SessionId last_id_ GUARDED_BY(mutex_) = 0;
    std::size_t inbound_ GUARDED_BY(mutex_) = 0;
    std::size_t outbound_ GUARDED_BY(mutex_) = 0;
    std::map<SessionId, std::shared_ptr<SessionBase>> sessions_ GUARDED_BY(mutex_);
    std::map<SessionId, std::weak_ptr<PendingConnection>> pending_ GUARDED_BY(mutex_);
    std::shared_ptr<Listener> listener_ GUARDED_BY(mutex_);
    bool had_listener_ GUARDED_BY(mutex_) = false;
};

}  // namespace peerchain::net::transport::detail
