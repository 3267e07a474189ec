// Internal to net/transport: TcpSession, a Session over a raw TCP socket (tcp:// peers),
// with the same messages as WebSocket framed by a length prefix (PROTOCOL.md section 2):
//
//   frame  := length:u32 message:byte[length]    ; little-endian
//                                                ; 1 <= length <= Limits::max_message_size
//
// The length is checked before anything is allocated for the message; 0 or over the cap
// closes the session. There is no upgrade: an outbound session opens when the connect
// completes, an inbound one when the listener has read the first length prefix.
// TCP has no keep-alive frames: Limits::idle_timeout is a timer that any byte received
// pushes back, and the P2P ping (every 30 s) keeps an honest link alive. TCP has no close
// frame either: close(reason) shuts the socket down at once, dropping unsent messages,
// and the reason goes to the handler and the log only.
//
// Thread-safety: as SessionBase; everything here runs on the session's strand.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/transport/session_base.hpp"

namespace peerchain::net::transport::detail {

inline constexpr std::size_t kFramePrefixSize = 4;
using FramePrefix = std::array<std::uint8_t, kFramePrefixSize>;

std::uint32_t frame_length(const FramePrefix& prefix) noexcept;
FramePrefix frame_prefix(std::uint32_t length) noexcept;
// Why a frame of this length is refused ("empty frame", "message too big: ..."), or
// nothing when 1 <= length <= max_message_size.
std::optional<std::string> check_frame_length(std::uint32_t length, std::size_t max_message_size);

class TcpSession final : public SessionBase {
  public:
    // socket must be connected and use a strand as its executor. slot is held until the
    // session is down.
    TcpSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
               boost::asio::ip::tcp::socket socket, std::string remote_address, std::string url,
               Slot slot);

    // Opens the session (on_open) and starts reading. first_prefix: the first length
    // prefix, when the listener has read it already (it must pass check_frame_length).
    void start(std::optional<FramePrefix> first_prefix);

  private:
    void write_message(const util::Bytes& payload) override;
    void start_reading() override;
    void close_link(CloseCode code) override;
    void close_socket() noexcept override;

    void read_prefix();
    void on_prefix(boost::system::error_code ec, std::size_t bytes);
    void begin_message();
    void grow_message();
    void read_message();
    void on_message_bytes(boost::system::error_code ec, std::size_t bytes);
    // False when the read ended the session.
    bool read_done(boost::system::error_code ec, std::size_t bytes);
    void arm_idle_timer();
    void on_idle_timer(boost::system::error_code ec);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer idle_timer_;

    // Strand only.
    std::chrono::steady_clock::time_point last_read_;
    FramePrefix read_prefix_{};
    std::size_t prefix_filled_ = 0;
    // The message being read goes straight into message_, which on_message then takes.
    util::Bytes message_;
    std::size_t message_filled_ = 0;
    std::uint32_t message_length_ = 0;
    FramePrefix write_prefix_{};  // of the message being written
};

}  // namespace peerchain::net::transport::detail
