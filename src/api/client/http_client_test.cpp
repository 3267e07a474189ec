// The client against the node's own HttpServer on an ephemeral loopback port, and against
// raw sockets that misbehave in the ways a wrong port or a broken server would.
#include "api/client/http_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/errors.hpp"
#include "api/router.hpp"
#include "api/server/http_server.hpp"

namespace peerchain::api::client {
namespace {

using namespace std::chrono_literals;

const std::string kToken(64, 'a');

HttpRequest make(std::string method, std::string target, std::string body = {},
                 std::string token = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.bearer_token = std::move(token);
    return r;
}

HttpRequest with_header(std::string name, std::string value) {
    HttpRequest r = make("GET", "/hello");
    r.headers.emplace_back(std::move(name), std::move(value));
    return r;
}

// A loopback TCP socket bound to an ephemeral port; listening only when asked.
class RawSocket {
  public:
    explicit RawSocket(bool listen) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        socklen_t len = sizeof addr;
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
        port_ = ntohs(addr.sin_port);
        if (listen) {
            EXPECT_EQ(::listen(fd_, 4), 0);
        }
    }
    ~RawSocket() { ::close(fd_); }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    std::uint16_t port() const { return port_; }

    // Accepts one connection, reads what the client sent, writes `answer` and closes.
    std::thread serve_once(std::string answer) {
        return std::thread([this, answer] {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            timeval tv{2, 0};
            ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            char buf[4096];
            (void)::recv(c, buf, sizeof buf, 0);
            if (!answer.empty()) (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
            ::close(c);
        });
    }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

class HttpClientTest : public ::testing::Test {
  protected:
    HttpClientTest() : work_(boost::asio::make_work_guard(io_)) {
        auto router = std::make_shared<Router>(Auth(kToken));
        router->add(Method::kGet, "/hello", Access::kOpen, sync_handler([](const Request& r) {
                        return Response::ok({{"hello", "world"}, {"query", r.query.size()}});
                    }));
        router->add(Method::kPost, "/echo", Access::kLoopbackOrToken,
                    sync_handler([](const Request& r) {
                        auto body = r.json_body();
                        if (!body) return bad_json(body.error());
                        return Response::ok(
                            {{"got", *body}, {"contentType", r.content_type}, {"host", r.host}});
                    }));
        router->add(Method::kGet, "/secret", Access::kTokenAlways, sync_handler([](const Request&) {
                        return Response::ok({{"secret", 42}});
                    }));
        router->add(Method::kGet, "/big", Access::kOpen, sync_handler([](const Request&) {
                        return Response::ok({{"blob", std::string(100'000, 'x')}});
                    }));
        router->add(Method::kGet, "/refuse", Access::kOpen, sync_handler([](const Request&) {
                        return error_response(409, "insufficient-funds", "spendable 1.0");
                    }));
        // Never answers while the test runs: the responders are answered when the test ends.
        router->add(Method::kGet, "/hang", Access::kOpen, [this](const Request&, Responder r) {
            std::lock_guard lock(kept_mutex_);
            kept_.push_back(std::move(r));
        });
        HttpServerConfig config;
        config.port = 0;
        server_ = std::make_unique<HttpServer>(io_, router, config);
        auto started = server_->start();
        EXPECT_TRUE(started) << started.error().to_string();
        thread_ = std::thread([this] { io_.run(); });
    }

    ~HttpClientTest() override {
        server_.reset();
        {
            std::lock_guard lock(kept_mutex_);
            for (const auto& r : kept_) r(Response::no_content());
            kept_.clear();
        }
        work_.reset();
        io_.stop();
        thread_.join();
    }

    HttpClient client(std::chrono::milliseconds timeout = 5s,
                      std::size_t answer_limit = 1 << 20) const {
        HttpClientOptions o;
        o.port = server_->port();
        o.timeout = timeout;
        o.answer_limit = answer_limit;
        return HttpClient(o);
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
    std::mutex kept_mutex_;
    std::vector<Responder> kept_;
};

TEST_F(HttpClientTest, GetsJson) {
    auto r = client().request(make("GET", "/hello?a=1&b=2"));
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->status, 200u);
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->content_type, "application/json");
    const auto body = boost::json::parse(r->body);
    EXPECT_EQ(body.at("hello"), "world");
    EXPECT_EQ(body.at("query"), 2);
}

TEST_F(HttpClientTest, PostsAJsonBodyWithALoopbackHost) {
    auto r = client().request(make("POST", "/echo", R"({"to":"pc1x","amount":5})"));
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->status, 200u) << r->body;
    const auto body = boost::json::parse(r->body);
    EXPECT_EQ(body.at("got").at("amount"), 5);
    EXPECT_EQ(body.at("contentType"), "application/json");
    EXPECT_EQ(body.at("host").as_string(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(HttpClientTest, SendsTheBearerToken) {
    auto without = client().request(make("GET", "/secret"));
    ASSERT_TRUE(without);
    EXPECT_EQ(without->status, 401u);
    auto error = parse_api_error(without->body);
    ASSERT_TRUE(error) << without->body;
    EXPECT_EQ(error->code, "unauthorized");

    auto wrong = client().request(make("GET", "/secret", {}, std::string(64, 'b')));
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401u);

    auto right = client().request(make("GET", "/secret", {}, kToken));
    ASSERT_TRUE(right);
    EXPECT_EQ(right->status, 200u);
    EXPECT_EQ(boost::json::parse(right->body).at("secret"), 42);
}

TEST_F(HttpClientTest, ErrorAnswersAreAnswersWithTheirMessage) {
    auto r = client().request(make("GET", "/refuse"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 409u);
    EXPECT_FALSE(r->ok());
    auto error = parse_api_error(r->body);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "insufficient-funds");
    EXPECT_EQ(error->message, "spendable 1.0");

    auto missing = client().request(make("GET", "/nowhere"));
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404u);
    EXPECT_EQ(parse_api_error(missing->body)->code, "not-found");
}

TEST_F(HttpClientTest, AnAnswerOverTheLimitIsRefused) {
    auto r = client(5s, 10'000).request(make("GET", "/big"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kDecode);
    EXPECT_NE(r.error().message.find("larger than 10000"), std::string::npos);

    auto fits = client(5s, 200'000).request(make("GET", "/big"));
    ASSERT_TRUE(fits) << fits.error().to_string();
    EXPECT_EQ(fits->status, 200u);
}

TEST_F(HttpClientTest, AServerThatDoesNotAnswerTimesOut) {
    auto r = client(200ms).request(make("GET", "/hang"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kUnavailable);
    EXPECT_NE(r.error().message.find("no answer"), std::string::npos) << r.error().message;
}

TEST_F(HttpClientTest, RefusesRequestsItCannotSend) {
    const HttpClient c = client();
    for (const HttpRequest& bad : std::vector<HttpRequest>{
             make("BREW", "/hello"),
             make("GET", "hello"),
             make("GET", "/hello\r\nX-Evil: 1"),
             make("GET", "/a b"),
             make("GET", "/hello", {}, "x\r\nX-Evil: 1"),
             with_header("X-Ok", "a\nb"),
             with_header("Bad Name", "v"),
         }) {
        auto r = c.request(bad);
        ASSERT_FALSE(r) << bad.target;
        EXPECT_EQ(r.error().code, util::Errc::kInvalidArgument) << bad.target;
    }
    HttpClientOptions o;
    o.host = "localhost";
    auto r = HttpClient(o).request({});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kInvalidArgument);
}

TEST(HttpClient, NothingListeningIsUnavailable) {
    RawSocket bound(false);  // bound but not listening: the kernel refuses connections
    HttpClientOptions o;
    o.port = bound.port();
    auto r = HttpClient(o).request({});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kUnavailable);
    EXPECT_NE(r.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(o.port)),
              std::string::npos)
        << r.error().message;
}

TEST(HttpClient, AnAnswerThatIsNotHttpIsADecodeError) {
    RawSocket server(true);
    std::thread t = server.serve_once("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    HttpClientOptions o;
    o.port = server.port();
    o.timeout = 5s;
    auto r = HttpClient(o).request({});
    t.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kDecode) << r.error().to_string();
}

TEST(HttpClient, AConnectionClosedBeforeTheAnswerIsAnIoError) {
    RawSocket server(true);
    std::thread t = server.serve_once("");
    HttpClientOptions o;
    o.port = server.port();
    o.timeout = 5s;
    auto r = HttpClient(o).request({});
    t.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kIo) << r.error().to_string();
}

// A streamed (chunked) answer arrives piece by piece and ends when the server ends it.
TEST(HttpClient, StreamsAChunkedAnswer) {
    RawSocket server(true);
    std::thread t = server.serve_once(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        "6\r\nid: 1\n\r\n9\r\ndata: x\n\n\r\n0\r\n\r\n");
    HttpClientOptions o;
    o.port = server.port();
    o.timeout = 5s;
    std::string got;
    auto r = HttpClient(o).stream(
        make("GET", "/events"),
        [&got](std::string_view piece) {
            got += piece;
            return true;
        },
        5s);
    t.join();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->content_type, "text/event-stream");
    EXPECT_EQ(got, "id: 1\ndata: x\n\n");
    EXPECT_TRUE(r->body.empty());
}

TEST(HttpClient, AStreamedErrorAnswerKeepsItsBody) {
    RawSocket server(true);
    std::thread t = server.serve_once(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        "{}");
    HttpClientOptions o;
    o.port = server.port();
    o.timeout = 5s;
    bool called = false;
    auto r = HttpClient(o).stream(
        make("GET", "/events"),
        [&called](std::string_view) {
            called = true;
            return true;
        },
        5s);
    t.join();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->status, 404u);
    EXPECT_EQ(r->body, "{}");
    EXPECT_FALSE(called);
}

TEST(HttpClient, StreamingNothingListeningIsUnavailable) {
    HttpClientOptions o;
    {
        RawSocket closed(false);
        o.port = closed.port();
    }
    auto r = HttpClient(o).stream(
        make("GET", "/events"), [](std::string_view) { return true; }, 1s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kUnavailable);
}

TEST(HttpClient, ParsesOnlyTheApiErrorShape) {
    EXPECT_FALSE(parse_api_error(""));
    EXPECT_FALSE(parse_api_error("{}"));
    EXPECT_FALSE(parse_api_error(R"({"error":"x"})"));
    EXPECT_FALSE(parse_api_error(R"({"error":{"code":1,"message":"m"}})"));
    auto e = parse_api_error(R"({"error":{"code":"c","message":"m"}})");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "c");
    EXPECT_EQ(e->message, "m");
}

TEST(HttpClient, AuthorityBracketsIpv6) {
    HttpClientOptions o;
    o.host = "::1";
    o.port = 3002;
    EXPECT_EQ(HttpClient(o).authority(), "[::1]:3002");
    EXPECT_EQ(HttpClient(HttpClientOptions{}).authority(), "127.0.0.1:3001");
}

}  // namespace
}  // namespace peerchain::api::client
