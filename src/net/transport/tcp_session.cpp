#include "net/transport/tcp_session.hpp"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <utility>

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// A message is read into a buffer that grows with what has arrived, from this size up by
// doubling, never past the frame's length. Allocating the whole length at once would let a
// peer that sends 4 bytes of prefix and nothing more hold max_message_size of our memory
// per connection; Bitcoin Core's V1Transport grows its buffer in steps for the same reason.
// Every message up to this size, nearly all of them, is read into one allocation that
// fits it exactly, with no copy.
constexpr std::size_t kFirstReadSize = 256 * 1024;
}  // namespace

std::uint32_t frame_length(const FramePrefix& prefix) noexcept {
    return static_cast<std::uint32_t>(prefix[0]) | static_cast<std::uint32_t>(prefix[1]) << 8 |
           static_cast<std::uint32_t>(prefix[2]) << 16 |
           static_cast<std::uint32_t>(prefix[3]) << 24;
}

FramePrefix frame_prefix(std::uint32_t length) noexcept {
    return {static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
            static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24)};
}

std::optional<std::string> check_frame_length(std::uint32_t length, std::size_t max_message_size) {
    if (length == 0) return "empty frame";
    if (length > max_message_size) {
        return message_too_big(max_message_size) + " (frame of " + std::to_string(length) + ")";
    }
    return std::nullopt;
}

TcpSession::TcpSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
                       tcp::socket socket, std::string remote_address, std::string url, Slot slot)
    : SessionBase(std::move(state), id, direction, Scheme::kTcp, socket.get_executor(),
                  std::move(remote_address), local_endpoint(socket), std::move(url),
                  std::move(slot)),
      socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()) {}

void TcpSession::start(std::optional<FramePrefix> first_prefix) {
    net::dispatch(executor_, [self = self<TcpSession>(), first_prefix] {
        self->guarded("start", [&] {
            if (self->phase_ != Phase::kHandshake) return;
            if (!self->open()) return;
            self->last_read_ = std::chrono::steady_clock::now();
            self->arm_idle_timer();
            if (!first_prefix) return self->read_prefix();
            self->read_prefix_ = *first_prefix;
            self->prefix_filled_ = kFramePrefixSize;
            self->begin_message();
        });
    });
}

void TcpSession::start_reading() { read_prefix(); }

void TcpSession::read_prefix() {
    prefix_filled_ = 0;
    socket_.async_read_some(
        net::buffer(read_prefix_),
        boost::beast::bind_front_handler(&TcpSession::on_prefix, self<TcpSession>()));
}

bool TcpSession::read_done(boost::system::error_code ec, std::size_t bytes) {
    if (phase_ == Phase::kDown) return false;
    if (ec) {
        hard_close(describe(ec));
        return false;
    }
    if (phase_ != Phase::kOpen) return false;
    if (bytes > 0) last_read_ = std::chrono::steady_clock::now();
    return true;
}

void TcpSession::on_prefix(boost::system::error_code ec, std::size_t bytes) {
    guarded("on_read", [&] {
        if (!read_done(ec, bytes)) return;
        prefix_filled_ += bytes;
        if (prefix_filled_ < kFramePrefixSize) {
            socket_.async_read_some(
                net::buffer(read_prefix_.data() + prefix_filled_,
                            kFramePrefixSize - prefix_filled_),
                boost::beast::bind_front_handler(&TcpSession::on_prefix, self<TcpSession>()));
            return;
        }
        begin_message();
    });
}

void TcpSession::begin_message() {
    const auto length = frame_length(read_prefix_);
    // Checked before a byte of the message is allocated or read.
    if (auto refused = check_frame_length(length, state_->limits().max_message_size)) {
        return start_close(CloseCode::kUnacceptable, std::move(*refused));
    }
    message_length_ = length;
    message_ = util::Bytes();
    message_filled_ = 0;
    grow_message();
    read_message();
}

void TcpSession::grow_message() {
    const std::size_t next =
        std::min<std::size_t>(message_length_, std::max(kFirstReadSize, 2 * message_.size()));
    // reserve() first, so that the capacity is what we asked for, not vector's doubling.
    message_.reserve(next);
    message_.resize(next);
}

void TcpSession::read_message() {
    socket_.async_read_some(
        net::buffer(message_.data() + message_filled_, message_.size() - message_filled_),
        boost::beast::bind_front_handler(&TcpSession::on_message_bytes, self<TcpSession>()));
}

void TcpSession::on_message_bytes(boost::system::error_code ec, std::size_t bytes) {
    guarded("on_read", [&] {
        if (!read_done(ec, bytes)) return;
        message_filled_ += bytes;
        if (message_filled_ < message_.size()) return read_message();
        if (message_.size() < message_length_) {
            grow_message();
            return read_message();
        }
        util::Bytes payload = std::move(message_);
        message_ = util::Bytes();
        if (deliver(std::move(payload))) read_prefix();
    });
}

void TcpSession::write_message(const util::Bytes& payload) {
    // SessionBase::send refuses empty and oversized messages, and Limits::validate keeps
    // max_message_size far below 2^32, so the length fits its prefix.
    write_prefix_ = frame_prefix(static_cast<std::uint32_t>(payload.size()));
    // One gather write: the prefix and the payload go out without being copied together.
    const std::array<net::const_buffer, 2> buffers{net::buffer(write_prefix_),
                                                   net::buffer(payload.data(), payload.size())};
    net::async_write(socket_, buffers,
                     boost::beast::bind_front_handler(&TcpSession::on_write, self<TcpSession>()));
}

void TcpSession::arm_idle_timer() {
    const auto idle = state_->limits().idle_timeout;
    if (idle.count() <= 0) return;
    // One timer for the whole session: reads only move last_read_, and the timer, when it
    // fires, sleeps again for what is left.
    idle_timer_.expires_at(last_read_ + idle);
    idle_timer_.async_wait(
        boost::beast::bind_front_handler(&TcpSession::on_idle_timer, self<TcpSession>()));
}

void TcpSession::on_idle_timer(boost::system::error_code ec) {
    guarded("on_idle_timer", [&] {
        if (ec || phase_ != Phase::kOpen) return;
        if (std::chrono::steady_clock::now() - last_read_ >= state_->limits().idle_timeout) {
            return hard_close("timed out");
        }
        arm_idle_timer();
    });
}

void TcpSession::close_link(CloseCode /*code*/) {
    // No close frame to send and no unsent message to flush: the reason is for our side.
    hard_close(close_reason_);
}

void TcpSession::close_socket() noexcept {
    idle_timer_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace peerchain::net::transport::detail
