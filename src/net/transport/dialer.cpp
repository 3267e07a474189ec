#include "net/transport/dialer.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <utility>

#include "net/transport/tcp_session.hpp"
#include "net/transport/ws_session.hpp"

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Dialer::Dialer(std::shared_ptr<TransportState> state, SessionId id, PeerUrl url,
               std::string url_text, Slot slot)
    : state_(std::move(state)),
      id_(id),
      url_(std::move(url)),
      url_text_(std::move(url_text)),
      strand_(net::make_strand(state_->io())),
      resolver_(strand_),
      socket_(strand_),
      timer_(strand_),
      slot_(std::move(slot)) {}

template <typename F>
void Dialer::guarded(const char* where, F&& f) noexcept {
    try {
        std::forward<F>(f)();
    } catch (const std::exception& e) {
        spdlog::error("p2p dial {}: exception in {}: {}", url_.to_string(), where, e.what());
        try {
            fail(std::string("internal error in ") + where);
        } catch (...) {
            finish();
        }
    } catch (...) {
        spdlog::error("p2p dial {}: unknown exception in {}", url_.to_string(), where);
        finish();
    }
}

void Dialer::start() {
    net::dispatch(strand_, [self = shared_from_this()] {
        self->guarded("start", [&] {
            if (self->done_) return;
            self->timer_.expires_after(self->state_->limits().handshake_timeout);
            self->timer_.async_wait(
                boost::beast::bind_front_handler(&Dialer::on_timer, self->shared_from_this()));
            self->resolver_.async_resolve(
                self->url_.host, std::to_string(self->url_.port),
                boost::beast::bind_front_handler(&Dialer::on_resolve, self->shared_from_this()));
        });
    });
}

void Dialer::cancel() {
    net::post(strand_, [self = shared_from_this()] {
        self->cancelled_ = true;
        self->finish();
    });
}

void Dialer::on_timer(boost::system::error_code ec) {
    guarded("on_timer", [&] {
        if (ec || done_) return;
        // The resolver cannot interrupt getaddrinfo, but cancel() makes its handler complete
        // as aborted; closing the socket ends a connect attempt and skips the addresses left.
        timed_out_ = true;
        resolver_.cancel();
        boost::system::error_code ignored;
        socket_.close(ignored);
    });
}

void Dialer::on_resolve(boost::system::error_code ec, tcp::resolver::results_type results) {
    guarded("on_resolve", [&] {
        if (done_) return;
        if (timed_out_) return fail("timed out resolving " + url_.host);
        if (ec) return fail("cannot resolve " + url_.host + ": " + ec.message());
        net::async_connect(
            socket_, results,
            boost::beast::bind_front_handler(&Dialer::on_connect, shared_from_this()));
    });
}

void Dialer::on_connect(boost::system::error_code ec, const tcp::endpoint& endpoint) {
    guarded("on_connect", [&] {
        if (done_) return;
        if (timed_out_) return fail("timed out connecting to " + url_.host_port());
        if (ec) return fail("cannot connect to " + url_.host_port() + ": " + ec.message());
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        if (url_.scheme == Scheme::kTcp) {
            // No upgrade: the link is open, and on_open comes now, even if the peer then
            // closes at once (e.g. it is full or speaks only WebSocket).
            auto session = std::make_shared<TcpSession>(
                state_, id_, Direction::kOutbound, std::move(socket_), format_endpoint(endpoint),
                url_text_, std::move(slot_));
            finish();
            if (!state_->add_session(session)) return;  // stopping: dropping it closes it
            return session->start(std::nullopt);
        }
        auto session =
            std::make_shared<WsSession>(state_, id_, Direction::kOutbound, std::move(socket_),
                                        format_endpoint(endpoint), url_text_, std::move(slot_));
        finish();
        if (!state_->add_session(session)) return;  // stopping: dropping it closes the socket
        session->start_client(url_.host_port(), url_.path);
    });
}

void Dialer::fail(const std::string& reason) {
    finish();
    if (cancelled_) return;
    spdlog::debug("p2p dial {} failed: {}", url_text_, reason);
    state_->call_handler("on_dial_failed",
                         [&] { state_->handler().on_dial_failed(url_text_, reason); });
}

void Dialer::finish() noexcept {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    slot_.release();
    state_->remove_pending(id_);
}

}  // namespace peerchain::net::transport::detail
