// The HTTP server under hostile load (issue 8, point 7), over real loopback sockets: silent
// and trickling sockets, a per-client cap, eviction of the longest-waiting connection, the
// header deadline. Other clients are other loopback addresses (127.0.0.2, 127.0.0.3).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "api/server/http_server.hpp"
#include "api/server/http_test_support.hpp"

namespace peerchain::api {
namespace {

using namespace std::chrono_literals;
using namespace test_support;

class HttpLoadTest : public HttpServerTest {
  protected:
    // A socket that connects and sends nothing; returns once the server holds it, so that
    // the order of such sockets is the order of their arrival.
    std::unique_ptr<Client> silent(const char* source = nullptr) {
        const std::size_t before = server_->connection_count();
        auto c = std::make_unique<Client>(server_->port(), 0, source);
        EXPECT_TRUE(c->connected());
        EXPECT_TRUE(eventually([&] { return server_->connection_count() > before; }));
        return c;
    }

    void expect_served_from(const char* source) {
        Client c(server_->port(), 0, source);
        ASSERT_TRUE(c.send(get("/fast")));
        auto r = c.read_reply();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200u);
    }
};

TEST_F(HttpLoadTest, SilentAndTricklingSocketsDoNotLockOutAnHonestClient) {
    HttpServerConfig config;
    config.max_connections = 16;
    config.max_per_client = 8;
    start(config, 2);
    std::vector<std::unique_ptr<Client>> slow;
    for (int i = 0; i < 150; ++i) {
        slow.push_back(std::make_unique<Client>(server_->port()));
        if (i % 3 == 0) slow.back()->send("GET /fast HTTP/1.1\r\nHost: x\r\n");  // never ends
    }
    // The honest client is on the same address as all of them, like a page on the same
    // machine as an attacker's script.
    for (int i = 0; i < 3; ++i) expect_served_from(nullptr);
    // The slow ones were pushed out rather than refused, and the server holds no more than
    // its limit once the evicted ones are closed.
    EXPECT_TRUE(eventually([&] { return server_->connection_count() <= 16; }));
}

TEST_F(HttpLoadTest, AClientAtItsCapLosesItsOwnLongestWaitingConnection) {
    HttpServerConfig config;
    config.max_connections = 10;
    config.max_per_client = 2;
    start(config);
    auto other = silent("127.0.0.2");  // waits longest, but is another client
    auto first = silent();
    auto second = silent();
    expect_served_from(nullptr);
    EXPECT_TRUE(first->wait_closed());
    EXPECT_FALSE(other->has_data());  // still open: a closed socket would read as EOF
    EXPECT_FALSE(second->has_data());
}

TEST_F(HttpLoadTest, AFullServerLosesTheLongestWaitingConnectionOfAll) {
    HttpServerConfig config;
    config.max_connections = 3;
    config.max_per_client = 3;
    start(config);
    auto oldest = silent("127.0.0.2");
    auto a = silent();
    auto b = silent();
    expect_served_from("127.0.0.3");
    EXPECT_TRUE(oldest->wait_closed());
    EXPECT_FALSE(a->has_data());
    EXPECT_FALSE(b->has_data());
}

TEST_F(HttpLoadTest, ABusyConnectionOrStreamIsNotEvictedByAnIdleOne) {
    HttpServerConfig config;
    config.max_connections = 10;
    config.max_per_client = 2;
    start(config);
    Client busy(server_->port());
    ASSERT_TRUE(busy.send(get("/keep")));
    ASSERT_TRUE(kept_entered_.wait());
    auto idle = silent();
    expect_served_from(nullptr);  // takes the idle one's place, not the busy one's
    EXPECT_TRUE(idle->wait_closed());
    {
        std::lock_guard lock(kept_mutex_);
        ASSERT_EQ(kept_.size(), 1u);
        kept_[0](Response::ok({{"kept", true}}));
        kept_.clear();
    }
    auto r = busy.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
}

TEST_F(HttpLoadTest, HeaderDeadlineClosesASilentSocketButTheBodyHasItsOwn) {
    HttpServerConfig config;
    config.header_timeout = 200ms;
    start(config);
    Client quiet(server_->port());
    EXPECT_TRUE(quiet.wait_closed());

    // Headers in time, the body after the header deadline has passed: still served.
    const std::string body = R"({"data": "late body"})";
    Client c(server_->port());
    ASSERT_TRUE(c.send("POST /mine HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n"));
    std::this_thread::sleep_for(400ms);
    ASSERT_TRUE(c.send(body));
    auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->json().at("mined"), "late body");
}

// 1,000 sockets must fit: a soft open-file limit of 1,024 (a common default) is raised to
// the hard limit when the server starts.
TEST_F(HttpLoadTest, StartRaisesTheOpenFileSoftLimit) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    if (before.rlim_max <= 1024) GTEST_SKIP() << "the hard limit leaves nothing to raise";
    rlimit low{1024, before.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    start();
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &before);
}

}  // namespace
}  // namespace peerchain::api
