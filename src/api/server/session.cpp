#include "api/server/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include "api/errors.hpp"
#include "api/json_text.hpp"
#include "api/server/server_state.hpp"

namespace peerchain::api::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// After a closing answer, at most this many unread bytes are drained; a streaming client
// may send at most this many bytes while it reads the stream.
constexpr std::size_t kMaxDrainBytes = 4 * 1024 * 1024;
// What an idle connection reads at once when its next request begins.
constexpr std::size_t kIdleReadSize = 1024;

bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Header fields a handler may set: a valid name, a value without CR, LF or NUL, and none of
// the fields that frame the message.
bool allowed_extra_header(const Header& h) noexcept {
    if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), is_token_char)) return false;
    if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
    for (std::string_view reserved :
         {"content-type", "content-length", "connection", "transfer-encoding"}) {
        if (beast::iequals(h.name, reserved)) return false;
    }
    return true;
}

bool is_http_error(const beast::error_code& ec) noexcept {
    return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// Whether `response` is answered with its body stream: a 2xx that has a body at all.
bool streams(const Response& response) noexcept {
    return response.stream != nullptr && response.status >= 200 && response.status < 300 &&
           response.status != 204;
}

}  // namespace

Session::Session(tcp::socket socket, std::shared_ptr<ServerState> server, std::uint64_t id,
                 bool rejected)
    : server_(std::move(server)),
      id_(id),
      rejected_(rejected),
      strand_(socket.get_executor()),
      stream_(std::move(socket)),
      buffer_(server_->config.header_limit + 16 * 1024),
      handler_wait_(strand_) {}

Session::~Session() {
    // Only reached when no operation is pending any more, so close() has run or the
    // io_context is being destroyed; either way the stream must not outlive the connection.
    if (body_) body_->cancel();
    server_->forget(id_);
}

void Session::start() {
    asio::dispatch(strand_, beast::bind_front_handler(&Session::begin, shared_from_this()));
}

void Session::shutdown() {
    switch (phase_) {
        case Phase::kReading:
        case Phase::kStreaming:
        case Phase::kClosing:
            close();
            break;
        case Phase::kHandling:
            handler_wait_.cancel();
            send(shutting_down(), false);
            break;
        case Phase::kWriting:  // on_write sees `stopping` and closes
        case Phase::kClosed:
            break;
    }
}

void Session::begin() {
    beast::error_code ec;
    remote_ = stream_.socket().remote_endpoint(ec);
    if (ec) return close();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    if (rejected_) return send(too_many_connections(), false);
    read_request();
}

void Session::read_request() {
    phase_ = Phase::kReading;
    if (server_->stopping) return close();
    method_.reset();
    version_ = 11;
    keep_alive_ = false;
    server_->table.waiting(id_, ConnectionTable::Clock::now());
    if (seq_ > 0 && buffer_.size() == 0) return wait_idle();
    read_header();
}

// A kept-alive connection waits for its next request's first byte within idle_timeout;
// the header deadline starts from that byte.
void Session::wait_idle() {
    stream_.expires_after(server_->config.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadSize),
                            beast::bind_front_handler(&Session::on_idle_read, shared_from_this()));
}

void Session::on_idle_read(beast::error_code ec, std::size_t n) {
    if (ec) return on_read_error(ec);
    buffer_.commit(n);
    read_header();
}

void Session::read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        server_->config.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(server_->config.body_limit);
    // What the idle read brought usually holds the whole header: parsed here, it needs no
    // read operation of its own (with its timer and handler posts), a tenth of a small
    // request's cost (issue 10). A header cut short waits for the rest as below.
    if (buffer_.size() > 0) {
        beast::error_code ec;
        buffer_.consume(parser_->put(buffer_.data(), ec));
        if (ec ? ec != http::error::need_more : parser_->is_header_done()) {
            return on_header(ec, 0);
        }
    }
    // One deadline for all the headers, so that trickling bytes cannot extend it (slowloris).
    stream_.expires_after(server_->config.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
}

void Session::on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    // Chosen for eviction while the headers came in: a newcomer has this connection's place.
    if (!server_->table.waiting_done(id_)) return close();
    // The body (and a 100 Continue) has a deadline of its own.
    stream_.expires_after(server_->config.read_timeout);
    const auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    method_ = parse_method(req.method_string());
    if (!method_) {
        return send(not_implemented(req.method_string().substr(0, 32)), false);
    }
    if (server_->stopping) return send(shutting_down(), false);
    if (!parser_->is_done() && version_ >= 11 &&
        beast::iequals(req[http::field::expect], "100-continue")) {
        continue_ = http::response<http::empty_body>(http::status::continue_, version_);
        http::async_write(
            stream_, continue_,
            beast::bind_front_handler(&Session::on_continue_written, shared_from_this()));
        return;
    }
    read_body();
}

void Session::on_continue_written(beast::error_code ec, std::size_t) {
    if (ec) return close();
    read_body();
}

void Session::read_body() {
    if (parser_->is_done()) return dispatch_request();
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
}

void Session::on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    dispatch_request();
}

void Session::on_read_error(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
        return send(body_too_large(server_->config.body_limit), false);
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return send(headers_too_large(server_->config.header_limit), false);
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        !is_http_error(ec)) {
        // The client left, timed out, or the socket failed: nobody to answer.
        if (ec != asio::error::operation_aborted && ec != http::error::end_of_stream &&
            ec != asio::error::eof) {
            spdlog::debug("api: connection from {} dropped: {}", remote_.address().to_string(),
                          ec.message());
        }
        return close();
    }
    send(bad_request("malformed HTTP request: " + ec.message()), false);
}

void Session::dispatch_request() {
    auto& req = parser_->get();
    Request request;
    request.method = *method_;
    request.target = std::string(req.target());
    request.body = std::move(req.body());
    request.authorization = std::string(req[http::field::authorization]);
    request.content_type = std::string(req[http::field::content_type]);
    request.host = std::string(req[http::field::host]);
    request.origin = std::string(req[http::field::origin]);
    request.last_event_id = std::string(req["Last-Event-ID"].substr(0, 32));
    request.remote_address = remote_.address().to_string();
    request.remote_port = remote_.port();
    request.remote_is_loopback = is_loopback_address(remote_.address());
    parser_.reset();

    phase_ = Phase::kHandling;
    const std::uint64_t seq = ++seq_;
    // Most handlers answer before handle() returns, on this thread: such an answer is sent
    // from here, without the gate's lock, a post back to the strand and the hold timer that
    // an answer from another thread needs (issue 10: they cost a small route a third of
    // what a bare Beast server does).
    sync_answer_->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
    server_->router->handle(std::move(request), make_responder(seq));
    sync_answer_->owner.store(std::thread::id(), std::memory_order_relaxed);
    if (sync_answer_->response) {
        Response response = std::move(*sync_answer_->response);
        sync_answer_->response.reset();
        return send(std::move(response), keep_alive_ && !server_->stopping);
    }
    hold();
}

void Session::hold() {
    handler_wait_.expires_at(asio::steady_timer::time_point::max());
    handler_wait_.async_wait([self = shared_from_this()](beast::error_code) {});
}

Responder Session::make_responder(std::uint64_t seq) {
    return Responder([weak = weak_from_this(), gate = server_->gate, seq,
                      sync = sync_answer_](Response response) {
        // Only dispatch_request() sets the owner, and only for the length of its call to
        // the router; another thread never sees its own id there.
        if (sync->owner.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
            sync->response = std::move(response);
            return;
        }
        util::LockGuard lock(gate->mutex);
        if (!gate->open) return;
        if (auto self = weak.lock()) {
            asio::post(self->strand_, [self, seq, r = std::move(response)]() mutable {
                self->deliver(seq, std::move(r));
            });
        }
    });
}

void Session::deliver(std::uint64_t seq, Response response) {
    if (phase_ != Phase::kHandling || seq != seq_) {  // answered 503 by stop()
        if (response.stream) response.stream->cancel();
        return;
    }
    handler_wait_.cancel();
    send(std::move(response), keep_alive_ && !server_->stopping);
}

template <class Message>
void Session::set_headers(Message& res, const Response& response) const {
    res.version(version_);
    res.result(response.status);
    res.set(http::field::server, "peerchain");
    for (const Header& h : response.headers) {
        if (allowed_extra_header(h)) {
            res.insert(h.name, h.value);
        } else {
            spdlog::warn("api: dropped a response header a handler set: {}", h.name.substr(0, 64));
        }
    }
    if ((method_ == Method::kGet || method_ == Method::kHead) &&
        res.find(http::field::access_control_allow_origin) == res.end()) {
        res.set(http::field::access_control_allow_origin, "*");
    }
}

void Session::send(Response response, bool keep_alive) {
    if (streams(response)) return start_stream(std::move(response));
    // A stream on an answer that has no body (an error, 204) is never pulled.
    if (auto unused = std::exchange(response.stream, nullptr)) unused->cancel();
    response = normalize_response(std::move(response));
    const bool head = method_ == Method::kHead;
    res_ = http::response<http::string_body>{};
    set_headers(res_, response);
    if (response.status != 204) {
        const bool text = !response.content_type.empty() && response.status < 300;
        std::string body = text ? std::move(response.text) : to_json_text(response.body);
        res_.set(http::field::content_type,
                 text ? response.content_type : std::string("application/json"));
        res_.content_length(body.size());
        // A HEAD answer announces the length of the body it does not send.
        if (!head) res_.body() = std::move(body);
    }
    res_.keep_alive(keep_alive);
    phase_ = Phase::kWriting;
    stream_.expires_after(server_->config.write_timeout);
    http::async_write(
        stream_, res_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
}

void Session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return close();
    if (!keep_alive || server_->stopping) return linger();
    read_request();
}

// Half-closes and drains what the client still sends, bounded in time and bytes, so that
// closing with unread bytes does not reset the connection before the client has read the
// answer.
void Session::linger() {
    phase_ = Phase::kClosing;
    server_->table.waiting(id_, ConnectionTable::Clock::now());  // done: a newcomer may evict it
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(server_->config.linger_timeout);
    drain();
}

void Session::drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            beast::bind_front_handler(&Session::on_drain, shared_from_this()));
}

void Session::on_drain(beast::error_code ec, std::size_t n) {
    drained_ += n;
    if (ec || drained_ > kMaxDrainBytes) return close();
    drain();
}

void Session::close() {
    phase_ = Phase::kClosed;
    handler_wait_.cancel();
    if (auto body = std::exchange(body_, nullptr)) body->cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
}

// The head of a streamed answer has no Content-Length: the body ends when the connection
// closes, so the connection does not outlive the stream.
void Session::start_stream(Response response) {
    body_ = std::move(response.stream);
    stream_head_ = http::response<http::empty_body>{};
    set_headers(stream_head_, response);
    stream_head_.set(http::field::content_type, response.content_type.empty()
                                                    ? std::string("application/octet-stream")
                                                    : response.content_type);
    stream_head_.set(http::field::cache_control, "no-cache");
    stream_head_.keep_alive(false);
    phase_ = Phase::kStreaming;
    stream_.expires_after(server_->config.write_timeout);
    http::async_write_header(
        stream_, stream_head_sr_.emplace(stream_head_),
        beast::bind_front_handler(&Session::on_stream_head_written, shared_from_this()));
}

void Session::on_stream_head_written(beast::error_code ec, std::size_t) {
    if (ec || phase_ != Phase::kStreaming) return close();
    if (method_ == Method::kHead || server_->stopping) {
        if (auto body = std::exchange(body_, nullptr)) body->cancel();
        return linger();
    }
    // Reads while the stream is written, so that a client that leaves is noticed even when
    // no piece is on its way. No deadline on this read; each write has its own.
    stream_.expires_never();
    watch_client();
    pull_next();
}

void Session::watch_client() {
    stream_.async_read_some(asio::buffer(drain_),
                            beast::bind_front_handler(&Session::on_watch, shared_from_this()));
}

void Session::on_watch(beast::error_code ec, std::size_t n) {
    if (phase_ != Phase::kStreaming) return;
    drained_ += n;
    if (ec || drained_ > kMaxDrainBytes) return close();
    watch_client();
}

void Session::pull_next() {
    const std::uint64_t seq = ++pull_seq_;
    hold();
    BodyStream::Next next = [weak = weak_from_this(), gate = server_->gate,
                             seq](std::optional<std::string> piece) {
        util::LockGuard lock(gate->mutex);
        if (!gate->open) return;
        if (auto self = weak.lock()) {
            asio::post(self->strand_, [self, seq, p = std::move(piece)]() mutable {
                self->on_piece(seq, std::move(p));
            });
        }
    };
    try {
        body_->pull(std::move(next));
    } catch (const std::exception& e) {
        spdlog::error("api: a body stream failed: {}", e.what());
        close();
    } catch (...) {
        spdlog::error("api: a body stream failed");
        close();
    }
}

void Session::on_piece(std::uint64_t seq, std::optional<std::string> piece) {
    if (phase_ != Phase::kStreaming || seq != pull_seq_ || !body_) return;
    handler_wait_.cancel();
    if (!piece || piece->empty()) {
        body_.reset();  // the stream ended itself: nothing to cancel
        return close();
    }
    piece_ = std::move(*piece);
    // The watch read is pending, so this deadline applies to the write alone.
    stream_.expires_after(server_->config.write_timeout);
    asio::async_write(stream_, asio::buffer(piece_),
                      beast::bind_front_handler(&Session::on_piece_written, shared_from_this()));
}

void Session::on_piece_written(beast::error_code ec, std::size_t) {
    if (ec || phase_ != Phase::kStreaming) return close();
    pull_next();
}

}  // namespace peerchain::api::detail
