// Internal to net/transport: WsSession, a Session over a Beast WebSocket stream, and the
// helpers the listener and dialer share with it.
//
// Thread-safety: the Session interface and stop_close() / claim_close_notification() are
// safe from any thread; everything else runs on the session's strand.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/transport/session.hpp"
#include "net/transport/transport_state.hpp"

namespace peerchain::net::transport::detail {

// "1.2.3.4:5678" or "[::1]:5678"; an IPv4-mapped IPv6 address is shown as IPv4.
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Printable ASCII only (others become '?'), at most max_size bytes: for text a peer chose,
// before it reaches a log or a handler.
std::string printable(std::string_view text, std::size_t max_size = 123);

class WsSession final : public Session, public std::enable_shared_from_this<WsSession> {
  public:
    // socket must be connected and use a strand as its executor. slot is held until the
    // session is down.
    WsSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
              boost::asio::ip::tcp::socket socket, std::string remote_address, std::string url,
              Slot slot);

    // Starts the upgrade: as server (inbound) or as client with the Host header and target.
    void start_server();
    void start_client(std::string host_header, std::string target);

    bool send(std::shared_ptr<const util::Bytes> payload) override;
    void close(std::string reason) override;
    bool is_open() const noexcept override;

    // For TransportState::stop(): close with code 1001 without notifying the handler, and
    // take over the duty of calling on_close (true when the session had on_open and nobody
    // has called on_close yet; then the caller must).
    void stop_close();
    bool claim_close_notification() noexcept;

  private:
    enum class Phase { kHandshake, kOpen, kClosing, kDown };

    template <typename F>
    void guarded(const char* where, F&& f) noexcept;
    void configure(bool server);
    void on_handshake(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void enqueue(std::shared_ptr<const util::Bytes> payload);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void start_close(boost::beast::websocket::close_code code, std::string reason);
    void on_closed(boost::beast::error_code ec);
    void drop_queue() noexcept;
    void hard_close(std::string reason) noexcept;
    void go_down() noexcept;
    std::string describe(boost::beast::error_code ec) const;

    const std::shared_ptr<TransportState> state_;
    const boost::asio::any_io_executor executor_;  // the strand
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;

    // Read from any thread.
    std::atomic<bool> closing_{false};
    std::atomic<bool> opened_{false};
    std::atomic<bool> close_notified_{false};
    std::atomic<std::size_t> queued_bytes_{0};

    // Strand only.
    Phase phase_ = Phase::kHandshake;
    Slot slot_;
    // The message being read goes straight into read_bytes_, which on_message then takes.
    util::Bytes read_bytes_;
    std::optional<boost::asio::dynamic_vector_buffer<std::uint8_t, std::allocator<std::uint8_t>>>
        read_view_;
    std::deque<std::shared_ptr<const util::Bytes>> write_queue_;
    bool writing_ = false;
    std::string close_reason_;
};

}  // namespace peerchain::net::transport::detail
