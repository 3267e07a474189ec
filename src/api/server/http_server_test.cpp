// The HTTP server over real loopback sockets, on ephemeral ports, with the raw-socket client
// of http_test_support.hpp.
#include "api/server/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include "api/server/http_test_support.hpp"

namespace peerchain::api {
namespace {

using namespace std::chrono_literals;
using namespace test_support;

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

// The header that ends a keep-alive wait is parsed from what that wait read; one cut
// short there is read on, and a malformed one is refused as on a first request.
TEST_F(HttpServerTest, TheRequestAfterAKeepAliveWaitMayComeInPieces) {
    start();
    Client c(server_->port());
    ASSERT_TRUE(c.send(get("/blocks/1")));
    ASSERT_TRUE(c.read_reply());
    ASSERT_TRUE(c.send("GET /blocks/2 HTTP/1.1\r\nHo"));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.send("st: x\r\n\r\n"));
    auto second = c.read_reply();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->json().at("id"), "2");

    ASSERT_TRUE(c.send("GARBAGE \x01\x02\r\n\r\n"));
    auto refused = c.read_reply();
    if (refused) expect_json_error(refused, 400, "bad-request");
    EXPECT_TRUE(c.wait_closed());
    expect_serving();
}

TEST_F(HttpServerTest, HeaderAndIdleDeadlinesDropASlowClient) {
    HttpServerConfig config;
    config.header_timeout = 200ms;
    config.idle_timeout = 200ms;
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

// Connections whose requests are being handled cannot be evicted: with all of them busy, a
// newcomer is refused.
TEST_F(HttpServerTest, ConnectionLimitAnswers503WhenNothingCanBeEvicted) {
    HttpServerConfig config;
    config.max_connections = 2;
    start(config);
    std::optional<Client> a(std::in_place, server_->port());
    Client b(server_->port());
    for (Client* c : {&*a, &b}) ASSERT_TRUE(c->send(get("/keep")));
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(kept_mutex_);
        return kept_.size() == 2;
    }));
    {
        Client over(server_->port());
        over.send(get("/fast"));
        expect_json_error(over.read_reply(), 503, "too-many-connections");
        EXPECT_TRUE(over.wait_closed());
    }
    {
        std::lock_guard lock(kept_mutex_);
        for (auto& r : kept_) r(Response::ok({{"kept", true}}));
        kept_.clear();
    }
    for (Client* c : {&*a, &b}) {
        auto r = c->read_reply();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200u);
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

// A server with its own io_context and threads serves while the process's other
// io_context (the P2P one, in the node) is stuck, and its stop() answers what is pending,
// closes the rest and joins its threads.
TEST(HttpServerOwnThreads, ServesBesideABlockedIoContextAndStopsCleanly) {
    boost::asio::io_context other;
    Latch unblock;
    boost::asio::post(other, [&] { unblock.wait(); });
    std::thread other_thread([&] { other.run(); });

    Latch entered;
    Latch release;
    std::vector<std::thread> spawned;
    std::mutex spawned_mutex;
    auto router = std::make_shared<Router>(Auth(kToken));
    router->add(Method::kGet, "/fast", Access::kOpen, sync_handler([](const Request&) {
                    return Response::ok({{"fast", true}});
                }));
    router->add(Method::kGet, "/slow", Access::kOpen, [&](const Request&, Responder r) {
        std::lock_guard lock(spawned_mutex);
        spawned.emplace_back([&, r] {
            entered.open();
            release.wait();
            r(Response::ok({{"slow", true}}));
        });
    });
    HttpServerConfig config;
    config.port = 0;
    config.threads = 2;
    auto server = std::make_unique<HttpServer>(router, config);
    ASSERT_TRUE(server->start());
    const auto port = server->port();
    {
        Client c(port);
        ASSERT_TRUE(c.send(get("/fast")));
        auto r = c.read_reply();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200u);
    }
    Client pending(port);
    ASSERT_TRUE(pending.send(get("/slow")));
    ASSERT_TRUE(entered.wait());
    Client idle(port);
    ASSERT_TRUE(idle.send(get("/fast")));
    ASSERT_TRUE(idle.read_reply());

    server->stop();  // returns with its threads joined
    server->stop();
    expect_json_error(pending.read_reply(), 503, "shutting-down");
    EXPECT_TRUE(pending.wait_closed());
    EXPECT_TRUE(idle.wait_closed());
    EXPECT_EQ(server->connection_count(), 0u);
    EXPECT_FALSE(Client(port).connected());
    server.reset();
    release.open();  // the late answer finds nobody to answer, harmlessly
    unblock.open();
    other_thread.join();
    std::lock_guard lock(spawned_mutex);
    for (auto& t : spawned) t.join();
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
