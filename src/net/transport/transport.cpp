#include "net/transport/transport.hpp"

#include <boost/asio/io_context.hpp>

#include "net/transport/dialer.hpp"
#include "net/transport/listener.hpp"
#include "net/transport/peer_url.hpp"
#include "net/transport/transport_state.hpp"
#include "util/assert.hpp"

namespace peerchain::net::transport {

Transport::Transport(boost::asio::io_context& io, Handler& handler, Limits limits) {
    NODE_ASSERT(limits.validate());
    state_ = std::make_shared<detail::TransportState>(io, handler, limits);
}

Transport::~Transport() { stop(); }

util::Result<void> Transport::listen(const std::string& address, std::uint16_t port) {
    if (state_->stopping()) return util::Unexpected(util::Errc::kUnavailable, "transport stopped");
    if (state_->has_listener()) {
        return util::Unexpected(util::Errc::kInvalidArgument, "already listening");
    }
    auto listener = std::make_shared<detail::Listener>(state_);
    auto bound = listener->open(address, port);
    if (!bound) return util::Unexpected(std::move(bound).error());
    if (!state_->set_listener(listener)) {
        listener->close();
        return util::Unexpected(util::Errc::kUnavailable, "transport stopped or already listening");
    }
    listen_port_.store(*bound);
    listener->start();
    return {};
}

std::uint16_t Transport::listen_port() const noexcept { return listen_port_.load(); }

util::Result<void> Transport::dial(std::string_view url) {
    auto parsed = parse_peer_url(url);
    if (!parsed) return util::Unexpected(std::move(parsed).error());
    const auto& limits = state_->limits();
    if (parsed->scheme == Scheme::kWebSocket && !limits.websocket) {
        return util::Unexpected(util::Errc::kInvalidArgument, "websocket transport is disabled");
    }
    if (parsed->scheme == Scheme::kTcp && !limits.tcp) {
        return util::Unexpected(util::Errc::kInvalidArgument, "tcp transport is disabled");
    }
    auto slot = state_->reserve(state_, Direction::kOutbound);
    if (!slot) return util::Unexpected(std::move(slot).error());
    const auto id = state_->next_id();
    auto dialer = std::make_shared<detail::Dialer>(state_, id, std::move(*parsed), std::string(url),
                                                   std::move(*slot));
    if (!state_->add_pending(id, dialer)) {
        return util::Unexpected(util::Errc::kUnavailable, "transport stopped");
    }
    dialer->start();
    return {};
}

void Transport::stop() { state_->stop(); }

std::size_t Transport::inbound_count() const { return state_->count(Direction::kInbound); }

std::size_t Transport::outbound_count() const { return state_->count(Direction::kOutbound); }

const Limits& Transport::limits() const noexcept { return state_->limits(); }

}  // namespace peerchain::net::transport
