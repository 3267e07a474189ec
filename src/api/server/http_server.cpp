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
#include "api/json_text.hpp"
#include "util/assert.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Connections being refused with 503 at once; beyond this a new one is closed unanswered.
constexpr std::size_t kMaxRejecting = 16;
// After a closing answer, at most this many unread bytes are drained.
constexpr std::size_t kMaxDrainBytes = 4 * 1024 * 1024;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

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

}  // namespace

namespace detail {

class Session;

// Closed by ~HttpServer, after which Responders no longer touch any connection: the
// io_context may be gone by the time a miner thread answers.
struct Gate {
    util::Mutex mutex;
    bool open GUARDED_BY(mutex) = true;
};

class ServerState : public std::enable_shared_from_this<ServerState> {
  public:
    ServerState(asio::io_context& io_context, std::shared_ptr<const Router> r, HttpServerConfig c)
        : io(io_context),
          router(std::move(r)),
          config(std::move(c)),
          acceptor(asio::make_strand(io_context)),
          accept_retry(acceptor.get_executor()) {}

    util::Result<void> start();
    void stop();
    void accept_next();
    void on_accept(beast::error_code ec, tcp::socket socket);
    void start_session(tcp::socket socket);
    void forget(std::uint64_t id, bool rejected) noexcept;

    asio::io_context& io;
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
    tcp::acceptor acceptor GUARDED_BY(acceptor_mutex);
    asio::steady_timer accept_retry;  // used on the acceptor's strand only

    util::Mutex sessions_mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions GUARDED_BY(sessions_mutex);
    std::uint64_t next_id GUARDED_BY(sessions_mutex) = 0;
};

// One connection. Every member is used on the connection's strand only, except strand_
// (immutable) which Responders read to post the answer back.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<ServerState> server, std::uint64_t id,
            bool rejected)
        : server_(std::move(server)),
          id_(id),
          rejected_(rejected),
          strand_(socket.get_executor()),
          stream_(std::move(socket)),
          buffer_(server_->config.header_limit + 16 * 1024),
          handler_wait_(strand_) {}

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    ~Session() { server_->forget(id_, rejected_); }

    void start() {
        asio::dispatch(strand_, beast::bind_front_handler(&Session::begin, shared_from_this()));
    }

    // Runs on the strand, posted by stop().
    void shutdown() {
        switch (phase_) {
            case Phase::kReading:
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

    const asio::any_io_executor& strand() const noexcept { return strand_; }

  private:
    enum class Phase { kReading, kHandling, kWriting, kClosing, kClosed };

    void begin() {
        beast::error_code ec;
        remote_ = stream_.socket().remote_endpoint(ec);
        if (ec) return close();
        stream_.socket().set_option(tcp::no_delay(true), ec);
        if (rejected_) return send(too_many_connections(), false);
        read_request();
    }

    void read_request() {
        phase_ = Phase::kReading;
        if (server_->stopping) return close();
        method_.reset();
        version_ = 11;
        keep_alive_ = false;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
            server_->config.header_limit, std::numeric_limits<std::uint32_t>::max())));
        parser_->body_limit(server_->config.body_limit);
        // One deadline for the whole request, so that trickling bytes cannot extend it.
        stream_.expires_after(server_->config.read_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
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

    void on_continue_written(beast::error_code ec, std::size_t) {
        if (ec) return close();
        read_body();
    }

    void read_body() {
        if (parser_->is_done()) return dispatch_request();
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_body, shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        dispatch_request();
    }

    void on_read_error(const beast::error_code& ec) {
        if (ec == http::error::body_limit) {
            return send(body_too_large(server_->config.body_limit), false);
        }
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            return send(headers_too_large(server_->config.header_limit), false);
        }
        if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
            !is_http_error(ec)) {
            // The client left, timed out, or the socket failed: nobody to answer.
            if (ec != asio::error::operation_aborted && ec != http::error::end_of_stream) {
                spdlog::debug("api: connection from {} dropped: {}", remote_.address().to_string(),
                              ec.message());
            }
            return close();
        }
        send(bad_request("malformed HTTP request: " + ec.message()), false);
    }

    void dispatch_request() {
        auto& req = parser_->get();
        Request request;
        request.method = *method_;
        request.target = std::string(req.target());
        request.body = std::move(req.body());
        request.authorization = std::string(req[http::field::authorization]);
        request.content_type = std::string(req[http::field::content_type]);
        request.host = std::string(req[http::field::host]);
        request.origin = std::string(req[http::field::origin]);
        request.remote_address = remote_.address().to_string();
        request.remote_port = remote_.port();
        request.remote_is_loopback = is_loopback_address(remote_.address());
        parser_.reset();

        phase_ = Phase::kHandling;
        const std::uint64_t seq = ++seq_;
        // The pending wait keeps this session alive while the handler works, and is
        // destroyed with the io_context if nobody ever answers.
        handler_wait_.expires_at(asio::steady_timer::time_point::max());
        handler_wait_.async_wait([self = shared_from_this()](beast::error_code) {});
        server_->router->handle(std::move(request), make_responder(seq));
    }

    Responder make_responder(std::uint64_t seq) {
        return Responder([weak = weak_from_this(), gate = server_->gate, seq](Response response) {
            util::LockGuard lock(gate->mutex);
            if (!gate->open) return;
            if (auto self = weak.lock()) {
                asio::post(self->strand_, [self, seq, r = std::move(response)]() mutable {
                    self->deliver(seq, std::move(r));
                });
            }
        });
    }

    void deliver(std::uint64_t seq, Response response) {
        if (phase_ != Phase::kHandling || seq != seq_) return;  // answered 503 by stop()
        handler_wait_.cancel();
        send(std::move(response), keep_alive_ && !server_->stopping);
    }

    void send(Response response, bool keep_alive) {
        response = normalize_response(std::move(response));
        const bool head = method_ == Method::kHead;
        res_ = http::response<http::string_body>{};
        res_.version(version_);
        res_.result(response.status);
        res_.set(http::field::server, "peerchain");
        for (const Header& h : response.headers) {
            if (allowed_extra_header(h)) {
                res_.insert(h.name, h.value);
            } else {
                spdlog::warn("api: dropped a response header a handler set: {}",
                             h.name.substr(0, 64));
            }
        }
        if ((method_ == Method::kGet || head) &&
            res_.find(http::field::access_control_allow_origin) == res_.end()) {
            res_.set(http::field::access_control_allow_origin, "*");
        }
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

    void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
        if (ec) return close();
        if (!keep_alive || server_->stopping) return linger();
        read_request();
    }

    // Half-closes and drains what the client still sends, bounded in time and bytes, so that
    // closing with unread bytes does not reset the connection before the client has read
    // the answer.
    void linger() {
        phase_ = Phase::kClosing;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close();
        stream_.expires_after(server_->config.linger_timeout);
        drain();
    }

    void drain() {
        stream_.async_read_some(asio::buffer(drain_),
                                beast::bind_front_handler(&Session::on_drain, shared_from_this()));
    }

    void on_drain(beast::error_code ec, std::size_t n) {
        drained_ += n;
        if (ec || drained_ > kMaxDrainBytes) return close();
        drain();
    }

    void close() {
        phase_ = Phase::kClosed;
        handler_wait_.cancel();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    const std::shared_ptr<ServerState> server_;
    const std::uint64_t id_;
    const bool rejected_;
    const asio::any_io_executor strand_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::empty_body> continue_;
    http::response<http::string_body> res_;
    asio::steady_timer handler_wait_;
    std::array<char, 4096> drain_{};
    std::size_t drained_ = 0;
    tcp::endpoint remote_;
    Phase phase_ = Phase::kReading;
    std::uint64_t seq_ = 0;
    std::optional<Method> method_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
};

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
