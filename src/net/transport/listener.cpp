#include "net/transport/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <chrono>
#include <utility>

#include "net/transport/inbound_sniffer.hpp"

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(std::shared_ptr<TransportState> state)
    : state_(std::move(state)),
      strand_(net::make_strand(state_->io())),
      acceptor_(strand_),
      retry_timer_(strand_) {}

util::Result<std::uint16_t> Listener::open(const std::string& address, std::uint16_t port) {
    boost::system::error_code ec;
    const auto ip = net::ip::make_address(address, ec);
    if (ec) {
        return util::Unexpected(
            util::Errc::kInvalidArgument,
            "listen address '" + printable(address, 64) + "' is not an IP address");
    }
    const tcp::endpoint endpoint(ip, port);
    const auto where = format_endpoint(endpoint);
    auto fail = [&](const char* step) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        return util::Unexpected(util::Errc::kIo,
                                std::string("cannot ") + step + " " + where + ": " + ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("open a socket for");
    // A restarted node must be able to bind again while old connections sit in TIME_WAIT.
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("set up");
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen on");
    const auto local = acceptor_.local_endpoint(ec);
    if (ec) return fail("read the port of");
    spdlog::info("p2p listening on {}", format_endpoint(local));
    return local.port();
}

void Listener::start() {
    net::dispatch(strand_, [self = shared_from_this()] { self->do_accept(); });
}

void Listener::close() {
    net::post(strand_, [self = shared_from_this()] {
        self->closed_ = true;
        boost::system::error_code ec;
        self->acceptor_.close(ec);
        self->retry_timer_.cancel();
    });
}

void Listener::do_accept() {
    if (closed_) return;
    // Each connection gets its own strand (STYLE.md, Concurrency).
    acceptor_.async_accept(
        net::make_strand(state_->io()),
        boost::beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (closed_ || ec == net::error::operation_aborted) return;
    try {
        if (ec) {
            // Typically EMFILE: out of file descriptors. Retrying at once would spin, so
            // back off briefly; connections already open are unaffected.
            spdlog::warn("p2p accept failed: {}", ec.message());
            retry_timer_.expires_after(std::chrono::milliseconds(100));
            retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
                if (!e) self->do_accept();
            });
            return;
        }
        accept_socket(std::move(socket));
    } catch (const std::exception& e) {
        spdlog::error("p2p accept: {}", e.what());
    } catch (...) {
        spdlog::error("p2p accept: unknown exception");
    }
    do_accept();
}

void Listener::accept_socket(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    const auto remote_text = format_endpoint(remote);
    auto slot = state_->reserve(state_, Direction::kInbound);
    if (!slot) slot = state_->reserve_by_evicting(state_);
    if (!slot) {
        // Closed before reading a byte: a full node spends nothing on the newcomer.
        spdlog::debug("p2p inbound {} refused: {}", remote_text, slot.error().message);
        socket.close(ec);
        return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const auto id = state_->next_id();
    auto sniffer = std::make_shared<InboundSniffer>(state_, id, std::move(socket), remote_text,
                                                    std::move(*slot));
    if (!state_->add_pending(id, sniffer)) return;  // stopping: dropping it closes the socket
    sniffer->start();
}

}  // namespace peerchain::net::transport::detail
