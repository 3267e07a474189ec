#include "net/transport/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
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

WsSession::WsSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
                     tcp::socket socket, std::string remote_address, std::string url, Slot slot)
    : SessionBase(std::move(state), id, direction, Scheme::kWebSocket, socket.get_executor(),
                  std::move(remote_address), local_endpoint(socket), std::move(url),
                  std::move(slot)),
      ws_(std::move(socket)) {}

void WsSession::set_timeouts(bool idle) {
    const auto& limits = state_->limits();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = limits.handshake_timeout;
    if (idle && limits.idle_timeout.count() > 0) {
        timeout.idle_timeout = limits.idle_timeout;
        timeout.keep_alive_pings = true;
    } else {
        timeout.idle_timeout = websocket::stream_base::none();
        timeout.keep_alive_pings = false;
    }
    ws_.set_option(timeout);
    idle_timeout_off_ = !idle;
}

void WsSession::configure(bool server) {
    const auto& limits = state_->limits();
    set_timeouts(true);
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

void WsSession::start_server(util::Bytes already_read) {
    net::dispatch(executor_, [self = self<WsSession>(), first = std::move(already_read)] {
        self->guarded("accept", [&] {
            if (self->phase_ != Phase::kHandshake) return;
            self->configure(true);
            // Beast copies the bytes already read into its buffer before this returns,
            // reads the rest of the upgrade request under the handshake timeout, with its
            // own bound on the header size, and refuses anything that is not an upgrade.
            self->ws_.async_accept(net::buffer(first),
                                   beast::bind_front_handler(&WsSession::on_handshake, self));
        });
    });
}

void WsSession::start_client(std::string host_header, std::string target) {
    net::dispatch(executor_, [self = self<WsSession>(), host = std::move(host_header),
                              path = std::move(target)] {
        self->guarded("handshake", [&] {
            if (self->phase_ != Phase::kHandshake) return;
            self->configure(false);
            self->ws_.async_handshake(host, path,
                                      beast::bind_front_handler(&WsSession::on_handshake, self));
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
        if (open()) start_reading();
    });
}

void WsSession::on_reading_paused() {
    // Beast's idle timer runs whether or not a read is pending, and would close a link
    // that is quiet only because we stopped reading it. With the idle timeout off its
    // timer lapses; the next read sets it again.
    set_timeouts(false);
}

void WsSession::start_reading() {
    if (idle_timeout_off_) set_timeouts(true);
    read_bytes_.clear();
    read_view_.emplace(read_bytes_, state_->limits().max_message_size);
    ws_.async_read(*read_view_, beast::bind_front_handler(&WsSession::on_read, self<WsSession>()));
}

void WsSession::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    guarded("on_read", [&] {
        if (phase_ == Phase::kDown) return;
        if (ec) return hard_close(describe(ec));
        if (phase_ != Phase::kOpen) return;
        if (!ws_.got_binary()) {
            read_view_.reset();
            read_bytes_ = util::Bytes();
            return start_close(CloseCode::kUnacceptable,
                               "text frame refused: peer messages are binary");
        }
        // The message was read straight into read_bytes_; hand that vector over as is.
        read_view_.reset();
        util::Bytes payload = std::move(read_bytes_);
        read_bytes_ = util::Bytes();
        if (deliver(std::move(payload))) start_reading();
    });
}

void WsSession::write_messages(std::span<const util::Bytes* const> payloads) {
    // One message a write (max_write_batch() is 1): Beast frames and writes each alone.
    const util::Bytes& payload = *payloads.front();
    ws_.async_write(net::buffer(payload.data(), payload.size()),
                    beast::bind_front_handler(&WsSession::on_write, self<WsSession>()));
}

void WsSession::close_link(CloseCode code) {
    auto ws_code = websocket::close_code::normal;
    if (code == CloseCode::kGoingAway) ws_code = websocket::close_code::going_away;
    if (code == CloseCode::kUnacceptable) ws_code = websocket::close_code::unknown_data;
    // The closing handshake is bounded by handshake_timeout (Beast's timeout option).
    ws_.async_close(websocket::close_reason(ws_code, printable(close_reason_)),
                    beast::bind_front_handler(&WsSession::on_closed, self<WsSession>()));
}

void WsSession::on_closed(beast::error_code ec) {
    guarded("on_closed", [&] {
        if (ec && ec != websocket::error::closed) {
            spdlog::debug("p2p session {}: closing handshake: {}", id(), ec.message());
        }
        hard_close(close_reason_);
    });
}

void WsSession::close_socket() noexcept { beast::get_lowest_layer(ws_).close(); }

std::string WsSession::describe(beast::error_code ec) const {
    if (ec == websocket::error::closed) {
        const auto& reason = ws_.reason();
        std::string out = "closed by peer (" + std::to_string(reason.code);
        if (!reason.reason.empty())
            out += ": " + printable({reason.reason.data(), reason.reason.size()});
        return out + ")";
    }
    if (ec == websocket::error::message_too_big) {
        return message_too_big(state_->limits().max_message_size);
    }
    if (ec == beast::http::error::end_of_stream) return "connection closed by peer";
    return SessionBase::describe(ec);
}

}  // namespace peerchain::net::transport::detail
