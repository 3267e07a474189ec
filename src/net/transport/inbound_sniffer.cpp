#include "net/transport/inbound_sniffer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <exception>
#include <utility>

#include "net/transport/ws_session.hpp"

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr FramePrefix kWebSocketStart{'G', 'E', 'T', ' '};
}  // namespace

InboundSniffer::InboundSniffer(std::shared_ptr<TransportState> state, SessionId id,
                               tcp::socket socket, std::string remote_address, Slot slot)
    : state_(std::move(state)),
      id_(id),
      remote_address_(std::move(remote_address)),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      timer_(executor_),
      slot_(std::move(slot)) {}

void InboundSniffer::start() {
    net::dispatch(executor_, [self = shared_from_this()] {
        if (self->done_) return;
        try {
            self->timer_.expires_after(self->state_->limits().handshake_timeout);
            self->timer_.async_wait(boost::beast::bind_front_handler(&InboundSniffer::on_timer,
                                                                     self->shared_from_this()));
            net::async_read(self->socket_, net::buffer(self->first_),
                            boost::beast::bind_front_handler(&InboundSniffer::on_read,
                                                             self->shared_from_this()));
        } catch (const std::exception& e) {
            self->drop(std::string("internal error: ") + e.what());
        } catch (...) {
            self->drop("internal error");
        }
    });
}

void InboundSniffer::cancel() {
    net::post(executor_, [self = shared_from_this()] { self->finish(); });
}

void InboundSniffer::on_timer(boost::system::error_code ec) {
    if (ec || done_) return;
    drop("sent fewer than 4 bytes in " +
         std::to_string(state_->limits().handshake_timeout.count()) + " ms");
}

void InboundSniffer::on_read(boost::system::error_code ec, std::size_t /*bytes*/) {
    if (done_) return;
    if (ec) return drop("closed before its first 4 bytes: " + ec.message());
    try {
        hand_over();
    } catch (const std::exception& e) {
        drop(std::string("internal error: ") + e.what());
    } catch (...) {
        drop("internal error");
    }
}

void InboundSniffer::hand_over() {
    const auto& limits = state_->limits();
    if (first_ == kWebSocketStart) {
        if (!limits.websocket) return drop("websocket transport is disabled");
        auto session =
            std::make_shared<WsSession>(state_, id_, Direction::kInbound, std::move(socket_),
                                        remote_address_, std::string(), std::move(slot_));
        finish();
        if (!state_->add_session(session)) return;  // stopping: dropping it closes the socket
        return session->start_server(util::Bytes(first_.begin(), first_.end()));
    }
    if (!limits.tcp) return drop("not a WebSocket upgrade, and tcp transport is disabled");
    if (auto refused = check_frame_length(frame_length(first_), limits.max_message_size)) {
        return drop("tcp: " + *refused);
    }
    auto session =
        std::make_shared<TcpSession>(state_, id_, Direction::kInbound, std::move(socket_),
                                     remote_address_, std::string(), std::move(slot_));
    finish();
    if (!state_->add_session(session)) return;  // stopping: dropping it closes the socket
    session->start(first_);
}

void InboundSniffer::drop(const std::string& why) noexcept {
    if (done_) return;
    try {
        spdlog::debug("p2p inbound {} dropped: {}", remote_address_, why);
    } catch (...) {
    }
    finish();
}

void InboundSniffer::finish() noexcept {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    // Does nothing once the socket went to a session.
    boost::system::error_code ignored;
    socket_.close(ignored);
    slot_.release();
    state_->remove_pending(id_);
}

}  // namespace peerchain::net::transport::detail
