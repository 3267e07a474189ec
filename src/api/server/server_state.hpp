// Internal to api/server: the state an HttpServer shares with its connections. Not part of
// the api module's interface; only http_server.cpp and session.cpp include it.
//
// Thread-safety: the atomics and the mutex-guarded members may be used from any thread; the
// acceptor's retry timer only on the acceptor's strand.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "api/router.hpp"
#include "api/server/http_server.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::api::detail {

class Session;

// Closed by ~HttpServer, after which Responders and body streams no longer touch any
// connection: the io_context may be gone by the time a miner thread answers.
struct Gate {
    util::Mutex mutex;
    bool open GUARDED_BY(mutex) = true;
};

class ServerState : public std::enable_shared_from_this<ServerState> {
  public:
    ServerState(boost::asio::io_context& io_context, std::shared_ptr<const Router> r,
                HttpServerConfig c)
        : io(io_context),
          router(std::move(r)),
          config(std::move(c)),
          acceptor(boost::asio::make_strand(io_context)),
          accept_retry(acceptor.get_executor()) {}

    util::Result<void> start();
    void stop();
    void accept_next();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
    void start_session(boost::asio::ip::tcp::socket socket);
    void forget(std::uint64_t id, bool rejected) noexcept;

    boost::asio::io_context& io;
    const std::shared_ptr<const Router> router;
    const HttpServerConfig config;
    const std::shared_ptr<Gate> gate = std::make_shared<Gate>();
    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint16_t> port{0};
    std::atomic<std::size_t> active{0};
    std::atomic<std::size_t> rejecting{0};

    // The acceptor is closed by stop() from any thread while the accept loop runs on its
    // strand; acceptor_mutex serializes every use of it after construction.
    util::Mutex acceptor_mutex;
    boost::asio::ip::tcp::acceptor acceptor GUARDED_BY(acceptor_mutex);
    boost::asio::steady_timer accept_retry;  // used on the acceptor's strand only

    util::Mutex sessions_mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions GUARDED_BY(sessions_mutex);
    std::uint64_t next_id GUARDED_BY(sessions_mutex) = 0;
};

}  // namespace peerchain::api::detail
