// Internal to net/transport: SessionBase, what every kind of Session shares whatever the
// framing: the send queue and its cap, the closing/opened/notified flags, the calls into
// the Handler, and the way down (socket closed, slot released, on_close exactly once).
// WsSession and TcpSession derive from it and add only their framing and their close.
// Also the helpers the listener and dialer share with the sessions.
//
// Thread-safety: the Session interface and stop_close() / claim_close_notification() are
// safe from any thread; everything else runs on the session's strand.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/transport/session.hpp"
#include "net/transport/transport_state.hpp"

namespace peerchain::net::transport::detail {

// "1.2.3.4:5678" or "[::1]:5678"; an IPv4-mapped IPv6 address is shown as IPv4.
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Printable ASCII only (others become '?'), at most max_size bytes: for text a peer chose,
// before it reaches a log or a handler.
std::string printable(std::string_view text, std::size_t max_size = 123);

// The local end of a connected socket, as format_endpoint(); empty if it cannot be read.
std::string local_endpoint(const boost::asio::ip::tcp::socket& socket);

// The close reason for a message over Limits::max_message_size, in the same words on
// every transport.
std::string message_too_big(std::size_t max_message_size);

class SessionBase : public Session, public std::enable_shared_from_this<SessionBase> {
  public:
    bool send(std::shared_ptr<const util::Bytes> payload) final;
    void close(std::string reason) final;
    void abort(std::string reason) final;
    bool is_open() const noexcept final;
    std::size_t queued_bytes() const noexcept final { return queued_bytes_.load(); }
    void when_drained(std::size_t below, std::function<void()> callback) final;
    void pause_reading() final { read_paused_.store(true); }
    void resume_reading() final;

    // For TransportState::stop(): close as "going away" without notifying the handler, and
    // take over the duty of calling on_close (true when the session had on_open and nobody
    // has called on_close yet; then the caller must).
    void stop_close();
    bool claim_close_notification() noexcept;
    // Whether on_open was called: the upgrade (WebSocket) or the first bytes (TCP) came.
    bool has_opened() const noexcept { return opened_.load(); }
    // Closes the session at once if, when this runs on its strand, it has still not
    // opened or is closing already (for TransportState::reserve_by_evicting); a session
    // that is open is left alone.
    void evict_if_not_open(std::string reason);

  protected:
    enum class Phase { kHandshake, kOpen, kClosing, kDown };
    // Why a session is closed on purpose. WebSocket sends it as a close code; TCP has no
    // close frame and just shuts the socket down.
    enum class CloseCode {
        kNormal,        // the owner called close()
        kGoingAway,     // the transport stops
        kUnacceptable,  // the peer sent what this transport does not take
    };

    // executor must be the strand the socket uses. slot is held until the session is down.
    SessionBase(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
                Scheme transport, boost::asio::any_io_executor executor, std::string remote_address,
                std::string local_address, std::string url, Slot slot);

    // --- For the framing, on the strand ------------------------------------------------
    // Starts writing `payloads` (1 to max_write_batch() of them, in order), each as one
    // message; the write must complete in on_write, once for all of them. At most one
    // write is in progress; the payloads stay alive and unchanged until on_write.
    virtual void write_messages(std::span<const util::Bytes* const> payloads) = 0;
    // How many queued messages one write may take: a framing that can put several into one
    // system call (TCP: one writev) says more than 1.
    virtual std::size_t max_write_batch() const noexcept { return 1; }
    // Reads the first message after on_open, and goes on reading after a pause.
    virtual void start_reading() = 0;
    // Reading stopped for pause_reading(); start_reading() follows on resume.
    virtual void on_reading_paused() {}
    // Closes the link on purpose; phase_ is kClosing and close_reason_ set. Must end in
    // hard_close().
    virtual void close_link(CloseCode code) = 0;
    // Closes the socket, cancelling every pending operation and timer. Never throws.
    virtual void close_socket() noexcept = 0;

    // Every completion handler and posted function runs through here: whatever it throws
    // (bad_alloc, a Beast or Asio exception) is logged and drops this peer only, never the
    // I/O thread (STYLE.md, Errors).
    template <typename F>
    void guarded(const char* where, F&& f) noexcept {
        try {
            std::forward<F>(f)();
        } catch (const std::exception& e) {
            spdlog::error("p2p session {} ({}): exception in {}: {}", id(), remote_address(), where,
                          e.what());
            hard_close(std::string("internal error in ") + where);
        } catch (...) {
            spdlog::error("p2p session {} ({}): unknown exception in {}", id(), remote_address(),
                          where);
            hard_close(std::string("internal error in ") + where);
        }
    }

    template <typename T>
    std::shared_ptr<T> self() {
        return std::static_pointer_cast<T>(shared_from_this());
    }

    // Makes the session open and calls on_open. False when the session went down instead
    // (stop() has begun, or the handler threw); then nothing more may be started.
    bool open();
    // Hands one whole message to on_message. True when the next one should be read; false
    // when the session went down, or when reading is paused (then resume_reading() calls
    // start_reading()).
    bool deliver(util::Bytes payload);
    // Whether reading stopped for pause_reading() and waits for resume_reading().
    bool reading_paused() const noexcept { return read_parked_; }
    // The completion of write_messages.
    void on_write(boost::system::error_code ec, std::size_t bytes);
    // Starts a close on purpose (a handshake in progress is just dropped). Does nothing if
    // already closing.
    void start_close(CloseCode code, std::string reason);
    // Closes the socket at once and goes down; keeps the first reason given.
    void hard_close(std::string reason) noexcept;
    // Words for an error, for logs and on_close. This one knows what both transports meet
    // (timeouts, the peer going away); a framing adds its own.
    virtual std::string describe(boost::system::error_code ec) const;

    const std::shared_ptr<TransportState> state_;
    const boost::asio::any_io_executor executor_;  // the strand

    // Strand only.
    Phase phase_ = Phase::kHandshake;
    std::string close_reason_;

  private:
    struct Queued {
        std::shared_ptr<const util::Bytes> payload;
        std::size_t held = 0;  // what it was counted as in queued_bytes_
    };

    void enqueue(Queued queued);
    // Calls the drain wish when the queue is down to its level.
    void check_drained() noexcept;
    // Starts the write of the messages at the front of the queue.
    void write_front();
    void drop_queue() noexcept;
    void go_down() noexcept;

    // Read from any thread.
    std::atomic<bool> closing_{false};
    std::atomic<bool> opened_{false};
    std::atomic<bool> close_notified_{false};
    std::atomic<std::size_t> queued_bytes_{0};
    std::atomic<bool> read_paused_{false};  // what the owner asked for

    // Strand only.
    Slot slot_;
    std::deque<Queued> write_queue_;
    std::size_t writing_ = 0;  // messages at the front of write_queue_ being written
    std::vector<const util::Bytes*> write_batch_;
    std::size_t drained_below_ = 0;
    std::function<void()> on_drained_;  // empty: no wish
    bool read_parked_ = false;          // reading stopped at read_paused_
};

}  // namespace peerchain::net::transport::detail
