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
            self->read_buffer_ = std::make_unique<std::uint8_t[]>(kReadBufferSize);
            if (first_prefix) {
                std::copy(first_prefix->begin(), first_prefix->end(), self->read_buffer_.get());
                self->read_end_ = kFramePrefixSize;
            }
            self->consume();
        });
    });
}

void TcpSession::start_reading() {
    // After a pause (SessionBase calls this only then): the quiet was ours, and what the
    // peer sent meanwhile waits in the socket; the idle timeout counts from now.
    last_read_ = std::chrono::steady_clock::now();
    consume();
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

void TcpSession::consume() {
    const std::uint8_t* buffer = read_buffer_.get();
    while (read_end_ - read_begin_ >= kFramePrefixSize) {
        FramePrefix prefix;
        std::copy_n(buffer + read_begin_, kFramePrefixSize, prefix.begin());
        const auto length = frame_length(prefix);
        // Checked before a byte of the message is allocated or read.
        if (auto refused = check_frame_length(length, state_->limits().max_message_size)) {
            return start_close(CloseCode::kUnacceptable, std::move(*refused));
        }
        const std::size_t have = read_end_ - read_begin_ - kFramePrefixSize;
        const std::uint8_t* first = buffer + read_begin_ + kFramePrefixSize;
        if (have < length && length > kReadBufferSize - kFramePrefixSize) {
            // It cannot fit the buffer: what came of it moves to its own, which the rest
            // is read into.
            message_length_ = length;
            message_ = util::Bytes();
            grow_message();
            std::copy_n(first, have, message_.begin());
            message_filled_ = have;
            read_begin_ = read_end_ = 0;
            return read_message();
        }
        if (have < length) break;
        util::Bytes payload(first, first + length);
        read_begin_ += kFramePrefixSize + length;
        if (!deliver(std::move(payload))) return;
    }
    read_chunk();
}

void TcpSession::read_chunk() {
    // What is left of a message moves to the front, so that the rest fits behind it.
    if (read_begin_ > 0) {
        std::copy(read_buffer_.get() + read_begin_, read_buffer_.get() + read_end_,
                  read_buffer_.get());
        read_end_ -= read_begin_;
        read_begin_ = 0;
    }
    socket_.async_read_some(
        net::buffer(read_buffer_.get() + read_end_, kReadBufferSize - read_end_),
        boost::beast::bind_front_handler(&TcpSession::on_chunk, self<TcpSession>()));
}

void TcpSession::on_chunk(boost::system::error_code ec, std::size_t bytes) {
    guarded("on_read", [&] {
        if (!read_done(ec, bytes)) return;
        read_end_ += bytes;
        consume();
    });
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
        if (deliver(std::move(payload))) consume();
    });
}

void TcpSession::write_messages(std::span<const util::Bytes* const> payloads) {
    // SessionBase::send refuses empty and oversized messages, and Limits::validate keeps
    // max_message_size far below 2^32, so each length fits its prefix.
    write_prefixes_.clear();
    for (const util::Bytes* payload : payloads) {
        write_prefixes_.push_back(frame_prefix(static_cast<std::uint32_t>(payload->size())));
    }
    // One gather write: the prefixes and the payloads go out without being copied
    // together, as many messages as are queued (up to kMaxWriteBatch) in one system call.
    write_buffers_.clear();
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        write_buffers_.push_back(net::buffer(write_prefixes_[i]));
        write_buffers_.push_back(net::buffer(payloads[i]->data(), payloads[i]->size()));
    }
    net::async_write(socket_, write_buffers_,
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
        // While reading is paused the quiet is ours: the time counts as heard from.
        if (reading_paused()) last_read_ = std::chrono::steady_clock::now();
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
