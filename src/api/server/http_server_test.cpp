// The HTTP server over real loopback sockets, on ephemeral ports. The client below speaks
// raw bytes so that tests can send exactly what a broken or hostile client would. Every
// socket read is bounded by a receive timeout, so a regression fails instead of hanging.
#include "api/server/http_server.hpp"

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
#include <vector>

#include "api/errors.hpp"

namespace peerchain::api {
namespace {

using namespace std::chrono_literals;

const std::string kToken(64, 'c');
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
    explicit Client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{static_cast<time_t>(kIoTimeout.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Client() { ::close(fd_); }
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

std::string get(std::string_view target, std::string_view extra = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra) +
           "\r\n";
}

std::string post(std::string_view target, std::string_view body, std::string_view extra = {}) {
    return "POST " + std::string(target) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
           std::string(body);
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

void expect_json_error(const std::optional<Reply>& r, unsigned status, const std::string& code) {
    ASSERT_TRUE(r) << "no reply";
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->error_code(), code);
    EXPECT_TRUE(r->json().at("error").at("message").is_string());
}

TEST_F(HttpServerTest, RoutesWithParamsAndAliases) {
    start();
    auto r = roundtrip(get("/blocks/00ab?verbose=1"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("access-control-allow-origin"), "*");
    EXPECT_EQ(r->json().at("id"), "00ab");
    EXPECT_EQ(r->json().at("query"), 1);

    for (const char* path : {"/mineBlock", "/mine"}) {
        r = roundtrip(post(path, R"({"data": "hello"})"));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200u);
        EXPECT_EQ(r->json().at("mined"), "hello");
        EXPECT_EQ(r->json().at("path"), path);
        EXPECT_EQ(r->header("access-control-allow-origin"), "");  // only GET answers carry it
    }
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowedAreJson) {
    start();
    expect_json_error(roundtrip(get("/nowhere")), 404, "not-found");
    auto r = roundtrip(get("/mine"));
    expect_json_error(r, 405, "method-not-allowed");
    EXPECT_EQ(r->header("allow"), "POST, OPTIONS");
    expect_json_error(roundtrip("BREW /fast HTTP/1.1\r\nHost: x\r\n\r\n"), 501, "not-implemented");
}

TEST_F(HttpServerTest, MalformedJsonIsBadJson) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send(post("/mine", "{not json")));
    expect_json_error(c.read_reply(), 400, "bad-json");
    ASSERT_TRUE(c.send(post("/mine", "[1, 2]")));
    expect_json_error(c.read_reply(), 400, "bad-json");
    ASSERT_TRUE(c.send(post("/mine", R"({"data": 1})")));  // the connection is still usable
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
}

TEST_F(HttpServerTest, BodyAtTheLimitIsServedAndOverItIs413) {
    HttpServerConfig config;
    start(config);
    const std::string prefix = R"({"data": ")";
    const std::string suffix = R"("})";
    const std::string fits =
        prefix + std::string(config.body_limit - prefix.size() - suffix.size(), 'x') + suffix;
    ASSERT_EQ(fits.size(), config.body_limit);
    auto r = roundtrip(post("/mine", fits));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);

    Client c(server_->port());
    ASSERT_TRUE(c.send(post("/mine", fits + " ")));
    expect_json_error(c.read_reply(), 413, "body-too-large");
    EXPECT_TRUE(c.wait_closed());
    expect_serving();
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
    HttpServerConfig config;
    config.body_limit = 1000;
    start(config);
    Client c(server_->port());
    std::string request = "POST /mine HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "190\r\n" + std::string(400, 'x') + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(c.send(request));
    expect_json_error(c.read_reply(), 413, "body-too-large");
    EXPECT_TRUE(c.wait_closed());
    expect_serving();
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
    HttpServerConfig config;
    start(config);
    Client c(server_->port());
    ASSERT_TRUE(c.send(get("/fast", "X-Big: " + std::string(config.header_limit, 'h') + "\r\n")));
    expect_json_error(c.read_reply(), 431, "headers-too-large");
    EXPECT_TRUE(c.wait_closed());
    expect_serving();
}

TEST_F(HttpServerTest, GarbageClosesTheConnection) {
    start();
    {
        Client c(server_->port());
        static constexpr char kTlsHello[] =
            "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n";
        ASSERT_TRUE(c.send(std::string_view(kTlsHello, sizeof kTlsHello - 1)));
        auto r = c.read_reply();
        if (r) expect_json_error(r, 400, "bad-request");
        EXPECT_TRUE(c.wait_closed());
    }
    {
        Client c(server_->port());
        ASSERT_TRUE(c.send("GET /fast HTTP/9.9 extra\r\n\r\n"));
        EXPECT_TRUE(c.wait_closed());
    }
    {
        Client c(server_->port());  // binary noise without a line end, past the header limit
        std::string noise(40 * 1024, '\0');
        for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 7 + 1);
        c.send(noise);
        EXPECT_TRUE(c.wait_closed());
    }
    expect_serving();
}

TEST_F(HttpServerTest, ThrowingHandlerIs500AndServingGoesOn) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send(get("/throw")));
    expect_json_error(c.read_reply(), 500, "internal");
    ASSERT_TRUE(c.send(get("/fast")));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    expect_serving();
}

TEST_F(HttpServerTest, AsyncAnswerFromAnotherThreadDoesNotHoldUpOthers) {
    start({}, 1);  // one network thread: a blocked handler would stall everything
    Client slow(server_->port());
    ASSERT_TRUE(slow.send(get("/slow")));
    ASSERT_TRUE(slow_entered_.wait());

    Client fast(server_->port());
    ASSERT_TRUE(fast.send(get("/fast")));
    auto fast_reply = fast.read_reply();
    ASSERT_TRUE(fast_reply);
    EXPECT_EQ(fast_reply->status, 200u);
    // The second request is complete while the first is still unanswered.
    EXPECT_FALSE(slow.has_data());

    release_.open();
    auto slow_reply = slow.read_reply();
    ASSERT_TRUE(slow_reply);
    EXPECT_EQ(slow_reply->status, 200u);
    EXPECT_EQ(slow_reply->json().at("slow"), true);
}

TEST_F(HttpServerTest, DroppedResponderIs500) {
    start();
    expect_json_error(roundtrip(get("/drop")), 500, "internal");
    expect_serving();
}

TEST_F(HttpServerTest, AccessLevelsOverSockets) {
    start();
    auto r = roundtrip(get("/local"));  // loopback needs no token
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);

    r = roundtrip(get("/secret"));
    expect_json_error(r, 401, "unauthorized");
    EXPECT_EQ(r->header("www-authenticate").rfind("Bearer", 0), 0u);
    expect_json_error(
        roundtrip(get("/secret", "Authorization: Bearer " + std::string(64, 'd') + "\r\n")), 401,
        "unauthorized");
    r = roundtrip(get("/secret", "Authorization: Bearer " + kToken + "\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->json().at("secret"), 42);

    // A browser page on another origin gets no loopback exemption.
    r = roundtrip(
        "POST /mine HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
        "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n{\"data\": \"x\"}");
    expect_json_error(r, 401, "unauthorized");
    r = roundtrip("GET /local HTTP/1.1\r\nHost: rebound.example:3001\r\n\r\n");
    expect_json_error(r, 401, "unauthorized");
}

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send(get("/blocks/1")));
    auto first = c.read_reply();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->json().at("id"), "1");
    ASSERT_TRUE(c.send(get("/blocks/2")));
    auto second = c.read_reply();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->json().at("id"), "2");
    EXPECT_EQ(server_->connection_count(), 1u);

    // Three requests in one write; the slowest comes first and is still answered first.
    ASSERT_TRUE(c.send(get("/delayed?ms=150") + get("/fast") + get("/blocks/3")));
    auto a = c.read_reply();
    auto b = c.read_reply();
    auto d = c.read_reply();
    ASSERT_TRUE(a && b && d);
    EXPECT_EQ(a->json().at("ms"), 150);
    EXPECT_EQ(b->json().at("fast"), true);
    EXPECT_EQ(d->json().at("id"), "3");

    ASSERT_TRUE(c.send(get("/fast", "Connection: close\r\n")));
    auto last = c.read_reply();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->header("connection"), "close");
    EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpServerTest, HeadOptionsAndContinue) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send("HEAD /blocks/7 HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto head = c.read_reply(/*head=*/true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200u);
    EXPECT_NE(head->header("content-length"), "0");
    ASSERT_TRUE(c.send(get("/blocks/8")));  // no stray body bytes in between
    auto after = c.read_reply();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->json().at("id"), "8");

    ASSERT_TRUE(
        c.send("OPTIONS /mine HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:3001\r\n"
               "Access-Control-Request-Method: POST\r\n\r\n"));
    auto preflight = c.read_reply();
    ASSERT_TRUE(preflight);
    EXPECT_EQ(preflight->status, 204u);
    EXPECT_EQ(preflight->header("access-control-allow-origin"), "*");
    EXPECT_EQ(preflight->header("access-control-allow-methods"), "POST, OPTIONS");

    const std::string body = R"({"data": "after continue"})";
    ASSERT_TRUE(
        c.send("POST /mine HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n"));
    auto interim = c.read_reply();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100u);
    ASSERT_TRUE(c.send(body));
    auto final_reply = c.read_reply();
    ASSERT_TRUE(final_reply);
    EXPECT_EQ(final_reply->status, 200u);
    EXPECT_EQ(final_reply->json().at("mined"), "after continue");
}

TEST_F(HttpServerTest, ReadTimeoutDropsASlowClient) {
    HttpServerConfig config;
    config.read_timeout = 200ms;
    start(config);
    Client c(server_->port());
    const auto begin = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.send("GET /fast HTTP/1.1\r\nHost: x\r\n"));
    std::this_thread::sleep_for(100ms);
    c.send("X-Drip: 1\r\n");  // trickling bytes do not extend the deadline
    EXPECT_TRUE(c.wait_closed());
    EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);

    Client idle(server_->port());  // an idle keep-alive connection is dropped as well
    ASSERT_TRUE(idle.send(get("/fast")));
    ASSERT_TRUE(idle.read_reply());
    EXPECT_TRUE(idle.wait_closed());
    expect_serving();
}

TEST_F(HttpServerTest, ConnectionLimitAnswers503) {
    HttpServerConfig config;
    config.max_connections = 2;
    start(config);
    std::optional<Client> a(std::in_place, server_->port());
    Client b(server_->port());
    for (Client* c : {&*a, &b}) {
        ASSERT_TRUE(c->send(get("/fast")));
        ASSERT_TRUE(c->read_reply());
    }
    {
        Client over(server_->port());
        over.send(get("/fast"));
        expect_json_error(over.read_reply(), 503, "too-many-connections");
        EXPECT_TRUE(over.wait_closed());
    }
    ASSERT_TRUE(a->send(get("/fast", "Connection: close\r\n")));
    ASSERT_TRUE(a->read_reply());
    EXPECT_TRUE(a->wait_closed());
    a.reset();
    ASSERT_TRUE(wait_connections_at_most(1));
    expect_serving();
}

TEST_F(HttpServerTest, StopAnswersPendingRequestsAndIsIdempotent) {
    start();
    Client pending(server_->port());
    ASSERT_TRUE(pending.send(get("/slow")));
    ASSERT_TRUE(slow_entered_.wait());
    Client idle(server_->port());
    ASSERT_TRUE(idle.send(get("/fast")));
    ASSERT_TRUE(idle.read_reply());

    const auto port = server_->port();
    server_->stop();
    server_->stop();
    expect_json_error(pending.read_reply(), 503, "shutting-down");
    EXPECT_TRUE(pending.wait_closed());
    EXPECT_TRUE(idle.wait_closed());
    EXPECT_FALSE(Client(port).connected());
    release_.open();  // the late answer finds nobody to answer, harmlessly
    EXPECT_FALSE(server_->start());
}

TEST_F(HttpServerTest, ResponderOutlivingTheServerIsHarmless) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send(get("/keep")));
    ASSERT_TRUE(kept_entered_.wait());
    server_.reset();
    std::lock_guard lock(kept_mutex_);
    ASSERT_EQ(kept_.size(), 1u);
    kept_[0](Response::ok({{"late", true}}));
    kept_.clear();
}

TEST_F(HttpServerTest, ManyClientsOnSeveralThreads) {
    start({}, 2);
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 16; ++i) {
        clients.emplace_back([&, i] {
            Client c(server_->port());
            for (int j = 0; j < 5; ++j) {
                const std::string id = std::to_string(i * 100 + j);
                if (!c.send(get((j % 2 ? "/delayed?ms=1&x=" : "/blocks/") + id))) return;
                auto r = c.read_reply();
                if (r && r->status == 200) ok.fetch_add(1);
            }
        });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 16 * 5);
}

TEST_F(HttpServerTest, StartFailsCleanly) {
    start();
    EXPECT_FALSE(server_->start());  // twice

    HttpServerConfig bad;
    bad.address = "not-an-address";
    HttpServer bad_address(io_, router_, bad);
    EXPECT_EQ(bad_address.start().error().code, util::Errc::kInvalidArgument);

    HttpServerConfig taken;
    taken.port = server_->port();
    HttpServer busy(io_, router_, taken);
    EXPECT_EQ(busy.start().error().code, util::Errc::kIo);
    // A failed start may be retried: it fails for the same reason, not as "started before".
    EXPECT_EQ(busy.start().error().code, util::Errc::kIo);
}

TEST(LoopbackAddress, CoversV4V6AndMapped) {
    namespace ip = boost::asio::ip;
    for (const char* a : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
        EXPECT_TRUE(is_loopback_address(ip::make_address(a))) << a;
    }
    for (const char* a : {"10.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "fe80::1"}) {
        EXPECT_FALSE(is_loopback_address(ip::make_address(a))) << a;
    }
}

}  // namespace
}  // namespace peerchain::api
