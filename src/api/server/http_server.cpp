#include "api/server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/errors.hpp"
#include "api/server/server_state.hpp"
#include "api/server/session.hpp"
#include "util/assert.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Connections being refused with 503 at once; beyond this a new one is closed unanswered.
constexpr std::size_t kMaxRejecting = 16;

}  // namespace

namespace detail {

util::Result<void> ServerState::start() {
    if (started.exchange(true) || stopping) {
        return util::Unexpected(util::Errc::kInvalidArgument, "the server was started before");
    }
    beast::error_code ec;
    const auto address = asio::ip::make_address(config.address, ec);
    if (ec) {
        started = false;
        return util::Unexpected(util::Errc::kInvalidArgument,
                                "not an IP address: " + config.address);
    }
    const tcp::endpoint endpoint(address, config.port);
    {
        util::LockGuard lock(acceptor_mutex);
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            beast::error_code ignored;
            acceptor.close(ignored);
            started = false;
            return util::Unexpected(util::Errc::kIo, "cannot listen on " + config.address + ":" +
                                                         std::to_string(config.port) + ": " +
                                                         ec.message());
        }
        port = acceptor.local_endpoint(ec).port();
    }
    spdlog::info("api: listening on {}:{}", config.address, port.load());
    accept_next();
    return {};
}

void ServerState::stop() {
    if (stopping.exchange(true)) return;
    {
        util::LockGuard lock(acceptor_mutex);
        beast::error_code ec;
        acceptor.close(ec);
    }
    std::vector<std::shared_ptr<Session>> live;
    {
        util::LockGuard lock(sessions_mutex);
        for (auto& entry : sessions) {
            if (auto s = entry.second.lock()) live.push_back(std::move(s));
        }
    }
    for (auto& s : live) {
        asio::post(s->strand(), [s] { s->shutdown(); });
    }
}

void ServerState::accept_next() {
    util::LockGuard lock(acceptor_mutex);
    if (!acceptor.is_open()) return;
    acceptor.async_accept(asio::make_strand(io),
                          beast::bind_front_handler(&ServerState::on_accept, shared_from_this()));
}

void ServerState::on_accept(beast::error_code ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
        // Out of file descriptors, typically: wait a little instead of spinning on it.
        spdlog::warn("api: accept failed: {}", ec.message());
        accept_retry.expires_after(kAcceptRetryDelay);
        accept_retry.async_wait(
            [self = shared_from_this()](beast::error_code) { self->accept_next(); });
        return;
    }
    start_session(std::move(socket));
    accept_next();
}

void ServerState::start_session(tcp::socket socket) {
    // Only this accept loop adds connections, so the check cannot be raced past the limit.
    const bool rejected = active.load() >= config.max_connections;
    if (rejected && rejecting.load() >= kMaxRejecting) return;  // the socket closes here
    (rejected ? rejecting : active).fetch_add(1);
    std::shared_ptr<Session> session;
    {
        util::LockGuard lock(sessions_mutex);
        const std::uint64_t id = next_id++;
        session = std::make_shared<Session>(std::move(socket), shared_from_this(), id, rejected);
        sessions.emplace(id, session);
    }
    session->start();
}

void ServerState::forget(std::uint64_t id, bool rejected) noexcept {
    {
        util::LockGuard lock(sessions_mutex);
        sessions.erase(id);
    }
    (rejected ? rejecting : active).fetch_sub(1);
}

}  // namespace detail

HttpServer::HttpServer(asio::io_context& io, std::shared_ptr<const Router> router,
                       HttpServerConfig config) {
    NODE_ASSERT(router != nullptr);
    state_ = std::make_shared<detail::ServerState>(io, std::move(router), std::move(config));
}

HttpServer::~HttpServer() {
    stop();
    util::LockGuard lock(state_->gate->mutex);
    state_->gate->open = false;
}

util::Result<void> HttpServer::start() { return state_->start(); }

std::uint16_t HttpServer::port() const noexcept { return state_->port.load(); }

void HttpServer::stop() { state_->stop(); }

std::size_t HttpServer::connection_count() const noexcept {
    return state_->active.load() + state_->rejecting.load();
}

bool is_loopback_address(const asio::ip::address& address) noexcept {
    if (address.is_v4()) return address.to_v4().is_loopback();
    const auto v6 = address.to_v6();
    if (v6.is_loopback()) return true;
    return v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback();
}

}  // namespace peerchain::api
