// Internal to net/transport: TcpSession, a Session over a raw TCP socket (tcp:// peers),
// with the same messages as WebSocket framed by a length prefix (PROTOCOL.md section 2):
//
//   frame  := length:u32 message:byte[length]    ; little-endian
//                                                ; 1 <= length <= Limits::max_message_size
//
// The length is checked before anything is allocated for the message; 0 or over the cap
// closes the session. Bytes are read in chunks of up to kReadBufferSize, so that one
// system call takes many small messages (during a sync, a block is a few hundred bytes);
// a message larger than what the chunk holds is read straight into its own buffer. Queued
// messages go out up to kMaxWriteBatch at a time in one gather write. There is no upgrade: an
// outbound session opens when the connect completes, an inbound one when the listener has read the
// first length prefix. TCP has no keep-alive frames: Limits::idle_timeout is a timer that any byte
// received pushes back, and the P2P ping (every 30 s) keeps an honest link alive. TCP has no close
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
#include <span>
#include <string>
#include <vector>

#include "net/transport/session_base.hpp"

namespace peerchain::net::transport::detail {

inline constexpr std::size_t kFramePrefixSize = 4;
inline constexpr std::size_t kReadBufferSize = 64 * 1024;
// 2 buffers a message, and Asio gives one writev at most 64.
inline constexpr std::size_t kMaxWriteBatch = 32;
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
    void write_messages(std::span<const util::Bytes* const> payloads) override;
    std::size_t max_write_batch() const noexcept override { return kMaxWriteBatch; }
    void start_reading() override;
    void close_link(CloseCode code) override;
    void close_socket() noexcept override;

    // Delivers every whole message in the read buffer, then reads more (into the buffer,
    // or into message_ for a message larger than the buffer holds).
    void consume();
    void read_chunk();
    void on_chunk(boost::system::error_code ec, std::size_t bytes);
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
    // Bytes read and not yet consumed are read_buffer_[read_begin_, read_end_).
    std::unique_ptr<std::uint8_t[]> read_buffer_;
    std::size_t read_begin_ = 0;
    std::size_t read_end_ = 0;
    // A message larger than the buffer goes straight into message_, which on_message then
    // takes.
    util::Bytes message_;
    std::size_t message_filled_ = 0;
    std::uint32_t message_length_ = 0;
    // Of the messages being written: their prefixes, and the prefix and payload of each.
    std::vector<FramePrefix> write_prefixes_;
    std::vector<boost::asio::const_buffer> write_buffers_;
};

}  // namespace peerchain::net::transport::detail
