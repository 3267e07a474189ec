#include "net/transport/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream_base.hpp>
#include <utility>

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {
constexpr const char* kAgent = "peerchain";
}  // namespace

std::string format_endpoint(const tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
    }
    const auto host = address.to_string();
    const auto port = std::to_string(endpoint.port());
    return address.is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

std::string printable(std::string_view text, std::size_t max_size) {
    std::string out(text.substr(0, max_size));
    for (auto& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) c = '?';
    }
    return out;
}

WsSession::WsSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
                     tcp::socket socket, std::string remote_address, std::string url, Slot slot)
    : Session(id, direction, std::move(remote_address), std::move(url)),
      state_(std::move(state)),
      executor_(socket.get_executor()),
      ws_(std::move(socket)),
      slot_(std::move(slot)) {}

// Every completion handler and posted function runs through here: whatever it throws
// (bad_alloc, a Beast or Asio exception) is logged and drops this peer only, never the I/O
// thread (STYLE.md, Errors).
template <typename F>
void WsSession::guarded(const char* where, F&& f) noexcept {
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

void WsSession::configure(bool server) {
    const auto& limits = state_->limits();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = limits.handshake_timeout;
    if (limits.idle_timeout.count() > 0) {
        timeout.idle_timeout = limits.idle_timeout;
        timeout.keep_alive_pings = true;
    } else {
        timeout.idle_timeout = websocket::stream_base::none();
        timeout.keep_alive_pings = false;
    }
    ws_.set_option(timeout);
    // The frame header is checked against this before the payload is read (RFC 6455
    // section 10.4), so a peer cannot make us buffer more than one maximum message.
    ws_.read_message_max(limits.max_message_size);
    // One message, one frame: Beast would otherwise split writes into 4 KiB frames.
    ws_.auto_fragment(false);
    ws_.binary(true);
    if (server) {
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(beast::http::field::server, kAgent); }));
    } else {
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(beast::http::field::user_agent, kAgent); }));
    }
}

void WsSession::start_server() {
    net::dispatch(executor_, [self = shared_from_this()] {
        self->guarded("accept", [&] {
            if (self->phase_ != Phase::kHandshake) return;
            self->configure(true);
            // Beast reads the upgrade request under the handshake timeout, with its own
            // bound on the header size, and refuses anything that is not an upgrade.
            self->ws_.async_accept(
                beast::bind_front_handler(&WsSession::on_handshake, self->shared_from_this()));
        });
    });
}

void WsSession::start_client(std::string host_header, std::string target) {
    net::dispatch(executor_, [self = shared_from_this(), host = std::move(host_header),
                              path = std::move(target)] {
        self->guarded("handshake", [&] {
            if (self->phase_ != Phase::kHandshake) return;
            self->configure(false);
            self->ws_.async_handshake(
                host, path,
                beast::bind_front_handler(&WsSession::on_handshake, self->shared_from_this()));
        });
    });
}

void WsSession::on_handshake(beast::error_code ec) {
    guarded("on_handshake", [&] {
        if (phase_ != Phase::kHandshake) return;
        if (ec) {
            const auto reason = "upgrade failed: " + describe(ec);
            if (direction() == Direction::kOutbound) {
                state_->call_handler("on_dial_failed",
                                     [&] { state_->handler().on_dial_failed(url(), reason); });
            } else {
                spdlog::debug("p2p inbound {} dropped: {}", remote_address(), reason);
            }
            hard_close(reason);
            return;
        }
        phase_ = Phase::kOpen;
        spdlog::debug("p2p session {} open: {} {}", id(), direction_name(direction()),
                      remote_address());
        auto self = shared_from_this();
        const auto result = state_->call_handler("on_open", [&] {
            opened_.store(true);
            state_->handler().on_open(self);
        });
        if (result == CallResult::kRefused) return hard_close("transport stopped");
        if (result == CallResult::kThrew) return hard_close("handler error in on_open");
        do_read();
    });
}

void WsSession::do_read() {
    read_bytes_.clear();
    read_view_.emplace(read_bytes_, state_->limits().max_message_size);
    ws_.async_read(*read_view_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    guarded("on_read", [&] {
        if (phase_ == Phase::kDown) return;
        if (ec) return hard_close(describe(ec));
        if (phase_ != Phase::kOpen) return;
        if (!ws_.got_binary()) {
            read_view_.reset();
            read_bytes_ = util::Bytes();
            return start_close(websocket::close_code::unknown_data,
                               "text frame refused: peer messages are binary");
        }
        // The message was read straight into read_bytes_; hand that vector over as is.
        read_view_.reset();
        util::Bytes payload = std::move(read_bytes_);
        read_bytes_ = util::Bytes();

        auto self = shared_from_this();
        const auto result = state_->call_handler(
            "on_message", [&] { state_->handler().on_message(self, std::move(payload)); });
        if (result == CallResult::kRefused) return;  // stop() closes us
        if (result == CallResult::kThrew) return hard_close("handler error in on_message");
        do_read();
    });
}

bool WsSession::send(std::shared_ptr<const util::Bytes> payload) {
    if (!payload || closing_.load()) return false;
    const auto size = payload->size();
    const auto& limits = state_->limits();
    if (size > limits.max_message_size) {
        spdlog::warn("p2p session {}: refusing to send {} bytes, over max_message_size {}", id(),
                     size, limits.max_message_size);
        return false;
    }
    // Counted before the post, so that a flood of sends is refused before it allocates.
    const auto queued = queued_bytes_.fetch_add(size) + size;
    if (queued > limits.max_send_queue_bytes) {
        queued_bytes_.fetch_sub(size);
        closing_.store(true);
        net::post(executor_, [self = shared_from_this(), limit = limits.max_send_queue_bytes] {
            self->guarded("send queue overflow", [&] {
                self->hard_close("too slow: send queue over " + std::to_string(limit) + " bytes");
            });
        });
        return false;
    }
    net::post(executor_, [self = shared_from_this(), p = std::move(payload)]() mutable {
        self->guarded("send", [&] { self->enqueue(std::move(p)); });
    });
    return true;
}

void WsSession::enqueue(std::shared_ptr<const util::Bytes> payload) {
    if (phase_ != Phase::kOpen) {
        queued_bytes_.fetch_sub(payload->size());
        return;
    }
    write_queue_.push_back(std::move(payload));
    if (!writing_) do_write();
}

void WsSession::do_write() {
    writing_ = true;
    const auto& front = *write_queue_.front();
    ws_.async_write(net::buffer(front.data(), front.size()),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code ec, std::size_t /*bytes*/) {
    guarded("on_write", [&] {
        writing_ = false;
        if (!write_queue_.empty()) {
            queued_bytes_.fetch_sub(write_queue_.front()->size());
            write_queue_.pop_front();
        }
        if (phase_ == Phase::kDown) return;
        if (ec) return hard_close("write failed: " + describe(ec));
        if (phase_ == Phase::kOpen && !write_queue_.empty()) do_write();
    });
}

void WsSession::close(std::string reason) {
    closing_.store(true);
    net::post(executor_, [self = shared_from_this(), r = std::move(reason)]() mutable {
        self->guarded("close", [&] { self->start_close(websocket::close_code::normal, r); });
    });
}

bool WsSession::is_open() const noexcept { return !closing_.load(); }

void WsSession::stop_close() {
    closing_.store(true);
    net::post(executor_, [self = shared_from_this()] {
        self->guarded("stop", [&] {
            self->start_close(websocket::close_code::going_away, "transport stopped");
        });
    });
}

bool WsSession::claim_close_notification() noexcept {
    return opened_.load() && !close_notified_.exchange(true);
}

void WsSession::start_close(websocket::close_code code, std::string reason) {
    if (phase_ == Phase::kClosing || phase_ == Phase::kDown) return;
    if (phase_ == Phase::kHandshake) return hard_close(std::move(reason));
    phase_ = Phase::kClosing;
    closing_.store(true);
    close_reason_ = std::move(reason);
    drop_queue();
    // The closing handshake is bounded by handshake_timeout (Beast's timeout option).
    ws_.async_close(websocket::close_reason(code, printable(close_reason_)),
                    beast::bind_front_handler(&WsSession::on_closed, shared_from_this()));
}

void WsSession::on_closed(beast::error_code ec) {
    guarded("on_closed", [&] {
        if (ec && ec != websocket::error::closed) {
            spdlog::debug("p2p session {}: closing handshake: {}", id(), ec.message());
        }
        hard_close(close_reason_);
    });
}

void WsSession::drop_queue() noexcept {
    // The message being written stays until its write completes.
    const std::size_t keep = writing_ ? 1 : 0;
    while (write_queue_.size() > keep) {
        queued_bytes_.fetch_sub(write_queue_.back()->size());
        write_queue_.pop_back();
    }
}

void WsSession::hard_close(std::string reason) noexcept {
    if (phase_ == Phase::kDown) return;
    try {
        if (close_reason_.empty()) close_reason_ = std::move(reason);
    } catch (...) {
    }
    closing_.store(true);
    // Closing the socket cancels the pending read, write and timers; their handlers find
    // the session down and return.
    beast::get_lowest_layer(ws_).close();
    go_down();
}

void WsSession::go_down() noexcept {
    phase_ = Phase::kDown;
    drop_queue();
    slot_.release();
    if (opened_.load()) {
        state_->call_handler("on_close", [&] {
            if (!close_notified_.exchange(true)) state_->handler().on_close(id(), close_reason_);
        });
    }
    state_->remove_session(id());
    spdlog::debug("p2p session {} ({}) closed: {}", id(), remote_address(), close_reason_);
}

std::string WsSession::describe(beast::error_code ec) const {
    if (ec == websocket::error::closed) {
        const auto& reason = ws_.reason();
        std::string out = "closed by peer (" + std::to_string(reason.code);
        if (!reason.reason.empty())
            out += ": " + printable({reason.reason.data(), reason.reason.size()});
        return out + ")";
    }
    if (ec == websocket::error::message_too_big) {
        return "message too big: over " + std::to_string(state_->limits().max_message_size) +
               " bytes";
    }
    if (ec == beast::error::timeout) {
        return phase_ == Phase::kHandshake ? "handshake timed out" : "timed out";
    }
    if (ec == net::error::eof || ec == net::error::connection_reset ||
        ec == beast::http::error::end_of_stream) {
        return "connection closed by peer";
    }
    return ec.message();
}

}  // namespace peerchain::net::transport::detail
