// HttpServer: the HTTP/1.1 front of the node's JSON API. It accepts connections, parses
// requests within fixed bounds, hands each request to a Router and writes back the one
// Response the handler's Responder delivers. Routes, access checks and error bodies live in
// the Router; this is only bytes, limits and connection lifetimes.
//
// Behaviour at the edges:
// - Limits are enforced before anything is allocated for them: a declared body over
//   body_limit gets 413 body-too-large, headers over header_limit get 431
//   headers-too-large, bytes that are not HTTP get 400 bad-request; each then closes the
//   connection. A request that is not complete within read_timeout (slowloris) and an idle
//   keep-alive connection are dropped without an answer.
// - Over max_connections open connections, a new one is answered 503 too-many-connections
//   and closed.
// - Keep-alive is supported and pipelined requests are answered in order: a connection
//   reads its next request only once the previous answer is written. While a handler works
//   (for minutes, if it must), its connection waits and every other connection is served.
// - A 2xx Response with a body stream (Response::stream) is answered with its headers
//   (Cache-Control: no-cache, no Content-Length, Connection: close), then the pieces the
//   stream gives, each written within write_timeout; the connection closes when the stream
//   ends. The stream is cancelled once when the client leaves, a write times out or the
//   server stops, and is not kept after that. HEAD gets the headers alone.
// - Unsupported methods get 501 not-implemented. GET and HEAD answers carry
//   Access-Control-Allow-Origin: *. "Expect: 100-continue" is honoured.
// - stop() closes the listening socket at once, answers requests whose handlers are still
//   working with 503 shutting-down, ends body streams and closes every connection; safe to
//   call twice.
//
// Ownership: the caller owns the io_context, runs it on as many threads as it likes and
// keeps it alive longer than this object. Connections live on their own strands. A
// Responder invoked after the HttpServer is destroyed does nothing.
//
// Thread-safety: start(), stop(), port() and connection_count() may be called from any
// thread; the Router must not change once the server has it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.hpp"
#include "util/result.hpp"

namespace peerchain::api {

struct HttpServerConfig {
    std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
    std::uint16_t port = 3001;          // 0: the system picks one; see HttpServer::port()
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;  // request line and header fields together
    std::size_t max_connections = 256;
    std::chrono::milliseconds read_timeout{30'000};   // to receive one whole request
    std::chrono::milliseconds write_timeout{30'000};  // to send one whole answer
    // After an answer that closes the connection, how long unread request bytes are drained
    // so that the client reads the answer instead of a connection reset.
    std::chrono::milliseconds linger_timeout{2'000};
};

namespace detail {
class ServerState;
}  // namespace detail

class HttpServer {
  public:
    // `router` must be non-null and fully set up.
    HttpServer(boost::asio::io_context& io, std::shared_ptr<const Router> router,
               HttpServerConfig config = {});
    // Stops the server; Responders still held elsewhere become no-ops.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds, listens and starts accepting on the io_context. Fails with kInvalidArgument on
    // a bad address, after a successful start() or after stop(); with kIo when the address
    // cannot be bound (in use, no permission). A failed start() may be retried.
    util::Result<void> start();

    // The bound port after a successful start(); 0 before.
    std::uint16_t port() const noexcept;

    void stop();

    // Connections open now, counting those being refused with 503.
    std::size_t connection_count() const noexcept;

  private:
    std::shared_ptr<detail::ServerState> state_;
};

// 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms.
bool is_loopback_address(const boost::asio::ip::address& address) noexcept;

}  // namespace peerchain::api
