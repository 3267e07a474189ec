// HttpServer: the HTTP/1.1 front of the node's JSON API. It accepts connections, parses
// requests within fixed bounds, hands each request to a Router and writes back the one
// Response the handler's Responder delivers. Routes, access checks and error bodies live in
// the Router; this is only bytes, limits and connection lifetimes.
//
// Behaviour at the edges:
// - Limits are enforced before anything is allocated for them: a declared body over
//   body_limit gets 413 body-too-large, headers over header_limit get 431
//   headers-too-large, bytes that are not HTTP get 400 bad-request; each then closes the
//   connection. Headers not complete within header_timeout (slowloris), a body not complete
//   within read_timeout after them, and a kept-alive connection idle for idle_timeout are
//   dropped without an answer.
// - Hostile load (issue 8): one client (IP address) holds at most max_per_client
//   connections and all clients at most max_connections. A newcomer beyond either limit
//   takes the place of the connection that has waited longest for its request's headers
//   (silent, trickling or idle; of its own client when that client is at its cap), which
//   is closed unanswered; connections whose request is handled, answered or streamed are
//   never pushed out. Only when nothing can be pushed out is the newcomer answered 503
//   too-many-connections and closed (beyond 16 such at once, closed unanswered). start()
//   raises the process's open-file soft limit towards its hard limit so that a flood of
//   sockets fails here rather than in accept().
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
// Ownership: either the server owns an io_context and its threads, or the caller owns the
// io_context, runs it on as many threads as it likes and keeps it alive longer than this
// object. Connections live on their own strands. A
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
    // Connections from one IP address; loopback clients (the page, the CLI, streams) count
    // as one client like any other.
    std::size_t max_per_client = 128;
    // Threads of a server that owns its io_context (the constructor without one).
    unsigned threads = 2;
    // To receive a request's headers, from the connection's start or the first byte after an
    // idle wait; trickling bytes do not extend it.
    std::chrono::milliseconds header_timeout{5'000};
    // How long a kept-alive connection may wait for the first byte of its next request.
    std::chrono::milliseconds idle_timeout{15'000};
    std::chrono::milliseconds read_timeout{30'000};   // to receive a body, once headers are in
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
    // `router` must be non-null and fully set up. Runs on `io`, which the caller runs and
    // keeps alive longer than this object; config.threads is not used.
    HttpServer(boost::asio::io_context& io, std::shared_ptr<const Router> router,
               HttpServerConfig config = {});
    // Runs on an io_context of its own, on config.threads threads (at least one) named
    // http-N, from a successful start() to stop(), so that HTTP clients cannot slow whatever
    // else the process runs on its own I/O threads.
    explicit HttpServer(std::shared_ptr<const Router> router, HttpServerConfig config = {});
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

    // On a server with its own threads, stop() also waits (about a second at most) for the
    // answers in flight, closes what is left and joins the threads; it must not be called
    // from a handler running on them.
    void stop();

    // Connections open now, counting those being refused with 503.
    std::size_t connection_count() const noexcept;

  private:
    struct OwnThreads;
    // Declared first, destroyed last: the connections' sockets and timers use its io_context.
    std::unique_ptr<OwnThreads> own_;
    std::shared_ptr<detail::ServerState> state_;
};

// 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms.
bool is_loopback_address(const boost::asio::ip::address& address) noexcept;

}  // namespace peerchain::api
