// Internal to api/server: one HTTP connection of an HttpServer. It reads a request within
// the configured bounds, hands it to the Router, writes the one answer back (a whole body or
// a BodyStream piece by piece), then reads the next request or closes.
//
// Lifetime: kept alive by its pending operations (shared_from_this). While a handler works
// on after the router returned (its answer will come from another thread) or a body stream
// prepares its next piece, a timer that never expires holds it; the timer is cancelled when
// the answer or the piece arrives, or destroyed with the io_context. An answer given before
// the router returns is sent at once, with no timer. Responders and stream callbacks hold
// only a weak_ptr, the server's Gate and the SyncAnswer slot.
//
// Thread-safety: every member is used on the connection's strand only, except strand_
// (immutable), which Responders read to post the answer back.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/request.hpp"
#include "api/response.hpp"

namespace peerchain::api::detail {

class ServerState;

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> server,
            std::uint64_t id, bool rejected);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Begins serving on the connection's strand.
    void start();
    // Runs on the strand, posted by stop(): answers a waiting handler's request with 503
    // shutting-down, ends a body stream, closes an idle connection.
    void shutdown();

    // Runs on the strand: closes the connection whatever it is doing.
    void abort() { close(); }

    const boost::asio::any_io_executor& strand() const noexcept { return strand_; }

  private:
    enum class Phase { kReading, kHandling, kWriting, kStreaming, kClosing, kClosed };

    void begin();
    void read_request();
    void wait_idle();
    void on_idle_read(boost::beast::error_code ec, std::size_t n);
    void read_header();
    void on_header(boost::beast::error_code ec, std::size_t);
    void on_continue_written(boost::beast::error_code ec, std::size_t);
    void read_body();
    void on_body(boost::beast::error_code ec, std::size_t);
    void on_read_error(const boost::beast::error_code& ec);
    void dispatch_request();
    Responder make_responder(std::uint64_t seq);
    void deliver(std::uint64_t seq, Response response);
    void send(Response response, bool keep_alive);
    template <class Message>
    void set_headers(Message& res, const Response& response) const;
    void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t);
    void linger();
    void drain();
    void on_drain(boost::beast::error_code ec, std::size_t n);
    void close();
    // Keeps this session alive until the timer is cancelled (an answer or a piece came).
    void hold();

    // A streamed body (Response::stream): the head, then one piece per pull().
    void start_stream(Response response);
    void on_stream_head_written(boost::beast::error_code ec, std::size_t);
    void watch_client();
    void on_watch(boost::beast::error_code ec, std::size_t n);
    void pull_next();
    void on_piece(std::uint64_t seq, std::optional<std::string> piece);
    void on_piece_written(boost::beast::error_code ec, std::size_t);

    const std::shared_ptr<ServerState> server_;
    const std::uint64_t id_;
    const bool rejected_;
    const boost::asio::any_io_executor strand_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    boost::beast::http::response<boost::beast::http::empty_body> continue_;
    boost::beast::http::response<boost::beast::http::string_body> res_;
    boost::beast::http::response<boost::beast::http::empty_body> stream_head_;
    std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>>
        stream_head_sr_;
    boost::asio::steady_timer handler_wait_;
    // An answer given on the strand while dispatch_request() runs the router (see there).
    struct SyncAnswer {
        std::atomic<std::thread::id> owner{};
        std::optional<Response> response;  // used by the owner thread only
    };
    const std::shared_ptr<SyncAnswer> sync_answer_ = std::make_shared<SyncAnswer>();
    std::array<char, 4096> drain_{};
    std::size_t drained_ = 0;
    boost::asio::ip::tcp::endpoint remote_;
    Phase phase_ = Phase::kReading;
    std::uint64_t seq_ = 0;
    std::optional<Method> method_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    // The body being streamed; reset when it ends or is cancelled, so that it is cancelled
    // at most once and never kept alive by a closed connection.
    std::shared_ptr<BodyStream> body_;
    std::string piece_;
    std::uint64_t pull_seq_ = 0;
};

}  // namespace peerchain::api::detail
