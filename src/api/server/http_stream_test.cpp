// Streamed bodies (Response::stream) over real loopback sockets: pieces written as the
// stream gives them, the end of a stream, and every way a stream is cancelled (the client
// leaves, the client stops reading, the server stops).
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/response.hpp"
#include "api/server/http_server.hpp"
#include "api/server/http_test_support.hpp"

namespace peerchain::api {
namespace {

using namespace std::chrono_literals;
using namespace test_support;

// A stream whose pieces the test hands over from its own thread.
class TestStream : public BodyStream {
  public:
    void pull(Next next) override {
        std::lock_guard lock(m_);
        pending_ = std::move(next);
        ++pulls_;
        cv_.notify_all();
    }
    void cancel() noexcept override {
        std::lock_guard lock(m_);
        ++cancels_;
        stale_ = std::move(pending_);
        pending_ = nullptr;
        cv_.notify_all();
    }

    // Waits (bounded) for a pull and answers it with `piece`.
    bool give(std::optional<std::string> piece) {
        Next next;
        {
            std::unique_lock lock(m_);
            if (!cv_.wait_for(lock, kIoTimeout, [&] { return pending_ != nullptr; })) return false;
            next = std::exchange(pending_, nullptr);
        }
        next(std::move(piece));
        return true;
    }
    bool wait_cancelled() {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, kIoTimeout, [&] { return cancels_ > 0; });
    }
    int cancels() {
        std::lock_guard lock(m_);
        return cancels_;
    }
    int pulls() {
        std::lock_guard lock(m_);
        return pulls_;
    }
    // The pull that was waiting when cancel() came, answered late.
    void answer_stale(std::string piece) {
        Next next;
        {
            std::lock_guard lock(m_);
            next = std::exchange(stale_, nullptr);
        }
        if (next) next(std::move(piece));
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    Next pending_;
    Next stale_;
    int pulls_ = 0;
    int cancels_ = 0;
};

// Gives 64 KiB at once on every pull, forever.
class FloodStream : public BodyStream {
  public:
    void pull(Next next) override { next(std::string(64 * 1024, 'f')); }
    void cancel() noexcept override { cancelled_.open(); }
    Latch cancelled_;
};

class HttpStreamTest : public HttpServerTest {
  protected:
    HttpStreamTest() {
        router_->add(Method::kGet, "/stream", Access::kOpen, [this](const Request&, Responder r) {
            auto stream = std::make_shared<TestStream>();
            {
                std::lock_guard lock(streams_mutex_);
                streams_.push_back(stream);
            }
            Response response = Response::ok_stream(stream, "text/event-stream");
            response.headers.push_back({"X-Stream", "yes"});
            r(std::move(response));
        });
        router_->add(Method::kGet, "/flood", Access::kOpen, [this](const Request&, Responder r) {
            r(Response::ok_stream(flood_, "application/octet-stream"));
        });
        router_->add(Method::kGet, "/refused", Access::kOpen, [this](const Request&, Responder r) {
            Response response = not_found("no such stream");
            response.stream = refused_;
            r(std::move(response));
        });
    }

    // The n-th stream a request opened, once it exists.
    std::shared_ptr<TestStream> stream(std::size_t n) {
        std::shared_ptr<TestStream> found;
        eventually([&] {
            std::lock_guard lock(streams_mutex_);
            if (streams_.size() > n) found = streams_[n];
            return found != nullptr;
        });
        return found;
    }

    // Whether the server let go of `s`: only the test holds it, in streams_ and in `s`.
    static bool released(const std::shared_ptr<TestStream>& s) {
        return eventually([&] { return s.use_count() == 2; });
    }

    std::mutex streams_mutex_;
    std::vector<std::shared_ptr<TestStream>> streams_;
    std::shared_ptr<FloodStream> flood_ = std::make_shared<FloodStream>();
    std::shared_ptr<TestStream> refused_ = std::make_shared<TestStream>();
};

std::optional<Reply> open_stream(Client& c, const std::string& request = get("/stream")) {
    if (!c.send(request)) return std::nullopt;
    return c.read_reply(/*head=*/true);
}

TEST_F(HttpStreamTest, WritesPiecesAsTheStreamGivesThemAndClosesAtItsEnd) {
    start();
    Client c(server_->port());
    auto head = open_stream(c);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200u);
    EXPECT_EQ(head->header("content-type"), "text/event-stream");
    EXPECT_EQ(head->header("cache-control"), "no-cache");
    EXPECT_EQ(head->header("connection"), "close");
    EXPECT_EQ(head->header("access-control-allow-origin"), "*");
    EXPECT_EQ(head->header("x-stream"), "yes");
    EXPECT_EQ(head->headers.count("content-length"), 0u);
    EXPECT_EQ(head->headers.count("transfer-encoding"), 0u);

    auto s = stream(0);
    ASSERT_TRUE(s);
    EXPECT_FALSE(c.has_data());  // nothing is written before the stream gives it
    ASSERT_TRUE(s->give("data: one\n\n"));
    auto first = c.read_until("\n\n");
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, "data: one\n\n");
    ASSERT_TRUE(s->give("data: two\n\n"));
    auto second = c.read_until("\n\n");
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, "data: two\n\n");

    ASSERT_TRUE(s->give(std::nullopt));
    EXPECT_TRUE(c.wait_closed());
    EXPECT_TRUE(released(s));
    EXPECT_EQ(s->cancels(), 0);  // it ended itself
    EXPECT_EQ(s->pulls(), 3);
    expect_serving();
}

TEST_F(HttpStreamTest, HeadOfAStreamIsItsHeadersAlone) {
    start();
    Client c(server_->port());
    auto head = open_stream(c, "HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200u);
    EXPECT_EQ(head->header("content-type"), "text/event-stream");
    EXPECT_TRUE(c.wait_closed());
    auto s = stream(0);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->wait_cancelled());
    EXPECT_TRUE(released(s));
    EXPECT_EQ(s->pulls(), 0);
    EXPECT_EQ(s->cancels(), 1);
}

TEST_F(HttpStreamTest, ClientLeavingCancelsTheStreamOnce) {
    start();
    std::shared_ptr<TestStream> s;
    {
        Client c(server_->port());
        ASSERT_TRUE(open_stream(c));
        s = stream(0);
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->give("data: x\n\n"));
        ASSERT_TRUE(c.read_until("\n\n"));
        c.close();  // while the next pull waits: no write is on its way
        EXPECT_TRUE(s->wait_cancelled());
    }
    EXPECT_TRUE(released(s));
    s->answer_stale("data: late\n\n");  // ignored, harmlessly
    EXPECT_TRUE(wait_connections_at_most(0));
    EXPECT_EQ(s->cancels(), 1);
    expect_serving();
}

TEST_F(HttpStreamTest, ClientThatDoesNotReadIsCutOff) {
    HttpServerConfig config;
    config.write_timeout = 200ms;
    start(config);
    Client c(server_->port(), /*receive_buffer=*/4096);
    ASSERT_TRUE(c.send(get("/flood")));
    // The client reads nothing; the server's writes stall once the buffers are full.
    EXPECT_TRUE(flood_->cancelled_.wait());
    EXPECT_TRUE(wait_connections_at_most(0));
    EXPECT_TRUE(eventually([&] { return flood_.use_count() == 1; }));
    expect_serving();
}

TEST_F(HttpStreamTest, StopCancelsOpenStreams) {
    start();
    Client a(server_->port());
    Client b(server_->port());
    ASSERT_TRUE(open_stream(a));
    ASSERT_TRUE(open_stream(b));
    auto sa = stream(0);
    auto sb = stream(1);
    ASSERT_TRUE(sa && sb);
    ASSERT_TRUE(sa->give("data: a\n\n"));
    ASSERT_TRUE(a.read_until("\n\n"));

    server_->stop();
    EXPECT_TRUE(sa->wait_cancelled());
    EXPECT_TRUE(sb->wait_cancelled());
    EXPECT_TRUE(a.wait_closed());
    EXPECT_TRUE(b.wait_closed());
    EXPECT_TRUE(released(sa));
    EXPECT_TRUE(released(sb));
    EXPECT_EQ(sa->cancels(), 1);
    EXPECT_EQ(sb->cancels(), 1);
}

TEST_F(HttpStreamTest, StreamOnAnErrorAnswerIsCancelledUnused) {
    start();
    expect_json_error(roundtrip(get("/refused")), 404, "not-found");
    EXPECT_TRUE(refused_->wait_cancelled());
    EXPECT_EQ(refused_->pulls(), 0);
    EXPECT_EQ(refused_->cancels(), 1);
}

}  // namespace
}  // namespace peerchain::api
