#include "api/server/http_server.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <thread>
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
// How long stop() lets answers in flight finish, and then closed connections wind down,
// before it stops a server's own threads.
constexpr std::chrono::milliseconds kStopGrace{1'000};

// One client is one IP address, whether it came over IPv4 or as an IPv4-mapped IPv6 address.
std::string client_key(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    }
    return address.to_string();
}

// Sockets the process should be able to hold: the API's connections, those it is refusing
// or evicting, the peers, the store's files and the backlog of a flood of newcomers
// (1,000 slow sockets, issue 8).
constexpr rlim_t kWantedOpenFiles = 8192;

// The soft open-file limit is often 1,024 while the hard one is far higher; accept() then
// fails under a flood long before max_connections is reached. Raising the soft limit up to
// the hard one needs no privilege.
void raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= kWantedOpenFiles) return;
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_max > limit.rlim_cur) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
            spdlog::info("api: raised the open-file limit from {} to {}", before, limit.rlim_cur);
            if (limit.rlim_cur >= kWantedOpenFiles) return;
        } else {
            spdlog::warn("api: cannot raise the open-file limit from {} to {}: {}", before,
                         limit.rlim_max, std::strerror(errno));
            limit.rlim_cur = before;
        }
    }
    spdlog::warn(
        "api: the open-file limit is {} (hard limit {}); under a flood of connections new ones "
        "may fail to be accepted (raise it with ulimit -n)",
        limit.rlim_cur, limit.rlim_max);
}

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
    raise_open_file_limit();
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
    for (auto& s : live_sessions()) {
        asio::post(s->strand(), [s] { s->shutdown(); });
    }
}

void ServerState::abort_all() {
    for (auto& s : live_sessions()) {
        asio::post(s->strand(), [s] { s->abort(); });
    }
}

std::vector<std::shared_ptr<Session>> ServerState::live_sessions() {
    std::vector<std::shared_ptr<Session>> live;
    util::LockGuard lock(sessions_mutex);
    for (auto& entry : sessions) {
        if (auto s = entry.second.lock()) live.push_back(std::move(s));
    }
    return live;
}

bool ServerState::wait_all_closed(std::chrono::milliseconds timeout) {
    util::UniqueLock lock(sessions_mutex);
    return all_closed.wait_for(lock, timeout,
                               [this]() REQUIRES(sessions_mutex) { return sessions.empty(); });
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
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    auto admission = table.admit(client_key(remote.address()), ConnectionTable::Clock::now());
    if (admission.kind == ConnectionTable::Admission::Kind::kDropped) return;  // closes here
    const bool refused = admission.kind == ConnectionTable::Admission::Kind::kRefused;
    auto session =
        std::make_shared<Session>(std::move(socket), shared_from_this(), admission.id, refused);
    std::shared_ptr<Session> victim;
    {
        util::LockGuard lock(sessions_mutex);
        sessions.emplace(admission.id, session);
        if (admission.evict) {
            auto it = sessions.find(*admission.evict);
            if (it != sessions.end()) victim = it->second.lock();
        }
    }
    if (victim) asio::post(victim->strand(), [victim] { victim->abort(); });
    session->start();
}

void ServerState::forget(std::uint64_t id) noexcept {
    table.forget(id);
    {
        util::LockGuard lock(sessions_mutex);
        sessions.erase(id);
    }
    all_closed.notify_all();
}

}  // namespace detail

// The io_context and threads of a server that runs on its own.
struct HttpServer::OwnThreads {
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    util::Mutex mutex;  // serializes start and stop of the threads
    std::vector<std::thread> threads GUARDED_BY(mutex);
};

HttpServer::HttpServer(asio::io_context& io, std::shared_ptr<const Router> router,
                       HttpServerConfig config) {
    NODE_ASSERT(router != nullptr);
    state_ = std::make_shared<detail::ServerState>(io, std::move(router), std::move(config));
}

HttpServer::HttpServer(std::shared_ptr<const Router> router, HttpServerConfig config)
    : own_(std::make_unique<OwnThreads>()) {
    NODE_ASSERT(router != nullptr);
    state_ = std::make_shared<detail::ServerState>(own_->io, std::move(router), std::move(config));
}

HttpServer::~HttpServer() {
    stop();
    util::LockGuard lock(state_->gate->mutex);
    state_->gate->open = false;
}

util::Result<void> HttpServer::start() {
    auto started = state_->start();
    if (!started || !own_) return started;
    util::LockGuard lock(own_->mutex);
    own_->work.emplace(own_->io.get_executor());
    const unsigned count = std::max(1u, state_->config.threads);
    for (unsigned i = 0; i < count; ++i) {
        own_->threads.emplace_back([this, i] {
            const std::string name = "http-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            own_->io.run();
        });
    }
    return started;
}

std::uint16_t HttpServer::port() const noexcept { return state_->port.load(); }

void HttpServer::stop() {
    state_->stop();
    if (!own_) return;
    util::LockGuard lock(own_->mutex);
    if (own_->threads.empty()) return;
    for (const auto& t : own_->threads) NODE_ASSERT(t.get_id() != std::this_thread::get_id());
    // Answers in flight (503 shutting-down) get a moment to be written; then whatever is
    // still open is closed, and the threads end whatever is left.
    if (!state_->wait_all_closed(kStopGrace)) {
        state_->abort_all();
        state_->wait_all_closed(kStopGrace);
    }
    own_->work.reset();
    own_->io.stop();
    for (auto& t : own_->threads) t.join();
    own_->threads.clear();
}

std::size_t HttpServer::connection_count() const noexcept { return state_->table.size(); }

bool is_loopback_address(const asio::ip::address& address) noexcept {
    if (address.is_v4()) return address.to_v4().is_loopback();
    const auto v6 = address.to_v6();
    if (v6.is_loopback()) return true;
    return v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback();
}

}  // namespace peerchain::api
