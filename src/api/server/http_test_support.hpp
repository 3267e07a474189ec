// Shared by the HTTP server's tests: a raw-socket HTTP/1.1 client that sends exactly what a
// broken or hostile client would, a bounded latch, and a fixture that runs an HttpServer on
// an ephemeral loopback port with a few test routes. Every socket read is bounded by a
// receive timeout, so a regression fails instead of hanging.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/errors.hpp"
#include "api/server/http_server.hpp"

namespace peerchain::api::test_support {

using namespace std::chrono_literals;

inline const std::string kToken(64, 'c');
constexpr auto kIoTimeout = 5s;

struct Reply {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    boost::json::value json() const { return boost::json::parse(body); }
    std::string error_code() const {
        return std::string(json().at("error").at("code").as_string());
    }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// A blocking HTTP/1.1 client on a raw socket.
class Client {
  public:
    // `receive_buffer`: a small kernel receive buffer, for a client that stops reading.
    explicit Client(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (receive_buffer > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        }
        timeval tv{static_cast<time_t>(kIoTimeout.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return connected_; }

    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // One response; nullopt when the connection ends or times out first. `head`: the
    // answer to a HEAD request, which has no body whatever Content-Length says.
    std::optional<Reply> read_reply(bool head = false) {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) return std::nullopt;
        }
        Reply reply;
        std::string_view head_text(buf_.data(), end);
        const std::size_t line_end = head_text.find("\r\n");
        const std::string_view status_line = head_text.substr(0, line_end);
        if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return std::nullopt;
        reply.status = static_cast<unsigned>(std::stoi(std::string(status_line.substr(9, 3))));
        std::string_view rest = line_end == std::string_view::npos ? std::string_view{}
                                                                   : head_text.substr(line_end + 2);
        while (!rest.empty()) {
            const std::size_t eol = rest.find("\r\n");
            const std::string_view line = rest.substr(0, eol);
            const std::size_t colon = line.find(':');
            std::string name(line.substr(0, colon));
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            reply.headers[name] = std::string(value);
            rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
        }
        buf_.erase(0, end + 4);
        std::size_t length = 0;
        if (!head && reply.headers.count("content-length")) {
            length = std::stoul(reply.headers["content-length"]);
        }
        while (buf_.size() < length) {
            if (!fill()) return std::nullopt;
        }
        reply.body = buf_.substr(0, length);
        buf_.erase(0, length);
        return reply;
    }

    // Whether the server closes the connection (after any bytes it still sends) in time.
    bool wait_closed() {
        while (true) {
            char chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n == 0) return true;
            if (n < 0) return errno == ECONNRESET;
        }
    }

    // Reads until the bytes received after the last reply contain `needle`; returns them
    // all and forgets them. nullopt when the connection ends or times out first.
    std::optional<std::string> read_until(std::string_view needle) {
        while (buf_.find(needle) == std::string::npos) {
            if (!fill()) return std::nullopt;
        }
        return std::exchange(buf_, std::string());
    }

    // Closes the connection from this side (the server sees the client leave).
    void close() {
        ::close(fd_);
        fd_ = -1;
    }

    // Whether any byte is ready to read right now.
    bool has_data() const {
        if (!buf_.empty()) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }

  private:
    bool fill() {
        char chunk[16384];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

inline std::string get(std::string_view target, std::string_view extra = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra) +
           "\r\n";
}

inline std::string post(std::string_view target, std::string_view body,
                        std::string_view extra = {}) {
    return "POST " + std::string(target) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
           std::string(body);
}

// Whether `condition` becomes true within kIoTimeout, polled.
inline bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// A one-shot latch with a bounded wait.
class Latch {
  public:
    void open() {
        std::lock_guard lock(m_);
        open_ = true;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout = kIoTimeout) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, timeout, [&] { return open_; });
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

class HttpServerTest : public ::testing::Test {
  protected:
    HttpServerTest() : work_(boost::asio::make_work_guard(io_)) {
        router_ = std::make_shared<Router>(Auth(kToken));
        router_->add(Method::kGet, "/blocks/{id}", Access::kOpen,
                     sync_handler([](const Request& r) {
                         return Response::ok({{"id", r.param("id")}, {"query", r.query.size()}});
                     }));
        router_->add(Method::kPost, {"/mineBlock", "/mine"}, Access::kLoopbackOrToken,
                     sync_handler([](const Request& r) {
                         auto body = r.json_body();
                         if (!body) return bad_json(body.error());
                         const auto* data = body->as_object().if_contains("data");
                         if (data == nullptr) return bad_request("missing data");
                         return Response::ok({{"mined", *data}, {"path", r.path}});
                     }));
        router_->add(Method::kGet, "/fast", Access::kOpen, sync_handler([](const Request&) {
                         return Response::ok({{"fast", true}});
                     }));
        router_->add(Method::kGet, "/throw", Access::kOpen,
                     [](const Request&, Responder) -> void { throw std::runtime_error("boom"); });
        router_->add(Method::kGet, "/local", Access::kLoopbackOrToken,
                     sync_handler([](const Request&) {
                         return Response::ok({{"local", true}});
                     }));
        router_->add(Method::kGet, "/secret", Access::kTokenAlways,
                     sync_handler([](const Request&) {
                         return Response::ok({{"secret", 42}});
                     }));
        // Answers from another thread once the test opens `release_`, a little later still.
        router_->add(Method::kGet, "/slow", Access::kOpen, [this](const Request&, Responder r) {
            spawn([this, r] {
                slow_entered_.open();
                release_.wait();
                std::this_thread::sleep_for(50ms);
                r(Response::ok({{"slow", true}}));
            });
        });
        // Answers from another thread after ?ms= milliseconds.
        router_->add(Method::kGet, "/delayed", Access::kOpen,
                     [this](const Request& req, Responder r) {
                         const int ms = std::stoi(std::string(req.query_param("ms").value_or("0")));
                         spawn([r, ms] {
                             std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                             r(Response::ok({{"ms", ms}}));
                         });
                     });
        // Hands the responder to a thread that drops it unanswered.
        router_->add(Method::kGet, "/drop", Access::kOpen, [this](const Request&, Responder r) {
            spawn([r]() mutable {
                std::this_thread::sleep_for(20ms);
                Responder gone = std::move(r);
            });
        });
        // Keeps the responder for the test to use.
        router_->add(Method::kGet, "/keep", Access::kOpen, [this](const Request&, Responder r) {
            std::lock_guard lock(kept_mutex_);
            kept_.push_back(r);
            kept_entered_.open();
        });
    }

    ~HttpServerTest() override {
        release_.open();
        server_.reset();
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
        std::lock_guard lock(spawned_mutex_);
        for (auto& t : spawned_) t.join();
    }

    void start(HttpServerConfig config = {}, int io_threads = 1) {
        config.port = 0;
        server_ = std::make_unique<HttpServer>(io_, router_, config);
        auto started = server_->start();
        ASSERT_TRUE(started) << started.error().to_string();
        ASSERT_NE(server_->port(), 0);
        for (int i = 0; i < io_threads; ++i) threads_.emplace_back([this] { io_.run(); });
    }

    void spawn(std::function<void()> f) {
        std::lock_guard lock(spawned_mutex_);
        spawned_.emplace_back(std::move(f));
    }

    std::optional<Reply> roundtrip(const std::string& request) {
        Client c(server_->port());
        if (!c.send(request)) return std::nullopt;
        return c.read_reply();
    }

    void expect_serving() {
        auto r = roundtrip(get("/fast"));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200u);
    }

    // Waits (bounded) until the server counts at most `n` connections.
    bool wait_connections_at_most(std::size_t n) {
        const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
        while (server_->connection_count() > n) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::shared_ptr<Router> router_;
    std::unique_ptr<HttpServer> server_;
    std::vector<std::thread> threads_;
    std::mutex spawned_mutex_;
    std::vector<std::thread> spawned_;
    Latch slow_entered_;
    Latch release_;
    std::mutex kept_mutex_;
    std::vector<Responder> kept_;
    Latch kept_entered_;
};

inline void expect_json_error(const std::optional<Reply>& r, unsigned status,
                              const std::string& code) {
    ASSERT_TRUE(r) << "no reply";
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->error_code(), code);
    EXPECT_TRUE(r->json().at("error").at("message").is_string());
}

}  // namespace peerchain::api::test_support
