// Pausing a session's reading (Session::pause_reading / resume_reading), on both
// transports, over real sockets on 127.0.0.1 ephemeral ports. Each wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "net/transport/test_support.hpp"
#include "net/transport/transport.hpp"

namespace peerchain::net::transport {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

std::shared_ptr<const util::Bytes> numbered(std::uint32_t i, std::size_t size) {
    auto bytes = std::make_shared<util::Bytes>(size, static_cast<std::uint8_t>(i * 7));
    for (int b = 0; b < 4; ++b) (*bytes)[b] = static_cast<std::uint8_t>(i >> (8 * b));
    return bytes;
}

std::uint32_t number_of(const util::Bytes& bytes) {
    std::uint32_t i = 0;
    for (int b = 0; b < 4; ++b) i |= std::uint32_t{bytes.at(b)} << (8 * b);
    return i;
}

class PauseTest : public TransportTest, public ::testing::WithParamInterface<const char*> {
  protected:
    // The transports go while the I/O threads still run, before the recorders they report
    // to.
    void TearDown() override {
        client_.reset();
        server_.reset();
        TransportTest::TearDown();
    }

    // A listening server with `server_limits` that reports to server_events_, and a client
    // with `client_limits` dialed to it over the transport under test; sender() is the
    // client's open session.
    void connect(Limits server_limits = {}, Limits client_limits = {}) {
        server_ = make_server(server_events_, server_limits);
        client_ = std::make_unique<Transport>(io_, client_events_, client_limits);
        ASSERT_TRUE(client_->dial(std::string(GetParam()) +
                                  "://127.0.0.1:" + std::to_string(server_->listen_port())));
        ASSERT_TRUE(client_events_.wait_opened(1));
    }
    std::shared_ptr<Session> sender() { return client_events_.opened().at(0); }

    Recorder server_events_;
    Recorder client_events_;
    std::unique_ptr<Transport> server_;
    std::unique_ptr<Transport> client_;
};

// The server pauses after the first message. Nothing more arrives, however long it waits
// (far more than the kernel buffers hold is sent), and after resume everything arrives,
// in order, on the same session.
TEST_P(PauseTest, APausedSessionDeliversNothingUntilResumed) {
    Limits limits;
    limits.max_message_size = 64 * 1024;
    limits.max_send_queue_bytes = 64 * 1024 * 1024;
    // Shared: the hook outlives this body until TearDown stops the server.
    auto seen = std::make_shared<std::atomic<int>>(0);
    server_events_.message_hook = [seen](const std::shared_ptr<Session>& session) {
        if (seen->fetch_add(1) == 0) session->pause_reading();
    };
    ASSERT_NO_FATAL_FAILURE(connect(limits, limits));
    const auto sender = this->sender();

    constexpr std::uint32_t kMessages = 400;  // 16 MiB
    const std::size_t size = 40 * 1024;
    for (std::uint32_t i = 0; i < kMessages; ++i) ASSERT_TRUE(sender->send(numbered(i, size)));
    ASSERT_TRUE(server_events_.wait_messages(1));
    // What the peer sent waits in the kernel's buffers, then in its send queue.
    EXPECT_TRUE(eventually([&] { return sender->queued_bytes() > 0; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(server_events_.messages().size(), 1u);

    const auto receiver = server_events_.opened().at(0);
    EXPECT_TRUE(receiver->is_open());
    receiver->resume_reading();
    ASSERT_TRUE(server_events_.wait_messages(kMessages));
    const auto messages = server_events_.messages();
    ASSERT_EQ(messages.size(), kMessages);
    for (std::uint32_t i = 0; i < kMessages; ++i) {
        EXPECT_EQ(messages[i].first, receiver->id());
        ASSERT_EQ(messages[i].second.size(), size);
        EXPECT_EQ(number_of(messages[i].second), i);
    }
    EXPECT_TRUE(server_events_.closed().empty());
}

// The quiet of a paused session is ours: the idle timeout does not close it (nor, on
// WebSocket, the keep-alive pings that go unanswered while we do not read).
TEST_P(PauseTest, APausedSessionOutlastsTheIdleTimeout) {
    Limits limits;
    limits.idle_timeout = 200ms;
    server_events_.message_hook = [](const std::shared_ptr<Session>& session) {
        session->pause_reading();
    };
    ASSERT_NO_FATAL_FAILURE(connect(limits));
    const auto sender = this->sender();
    ASSERT_TRUE(sender->send(bytes_of("first")));
    ASSERT_TRUE(server_events_.wait_messages(1));

    std::this_thread::sleep_for(1s);  // five idle timeouts
    EXPECT_TRUE(server_events_.closed().empty());
    const auto receiver = server_events_.opened().at(0);
    ASSERT_TRUE(sender->send(bytes_of("second")));
    receiver->resume_reading();
    ASSERT_TRUE(server_events_.wait_messages(2));
    EXPECT_EQ(server_events_.messages().at(1).second, *bytes_of("second"));
    EXPECT_TRUE(server_events_.closed().empty());
    EXPECT_TRUE(receiver->is_open());
}

// A resume without a pause does nothing; a pause and resume before any message leaves
// reading on.
TEST_P(PauseTest, ResumeWithoutPauseAndPauseUndoneBeforeAMessage) {
    ASSERT_NO_FATAL_FAILURE(connect());
    const auto sender = this->sender();
    ASSERT_TRUE(sender->send(bytes_of("one")));
    ASSERT_TRUE(server_events_.wait_messages(1));
    const auto receiver = server_events_.opened().at(0);
    receiver->resume_reading();
    receiver->pause_reading();
    receiver->resume_reading();
    for (const char* text : {"two", "three"}) ASSERT_TRUE(sender->send(bytes_of(text)));
    ASSERT_TRUE(server_events_.wait_messages(3));
    EXPECT_EQ(server_events_.messages().at(2).second, *bytes_of("three"));
}

INSTANTIATE_TEST_SUITE_P(BothTransports, PauseTest, ::testing::Values("ws", "tcp"),
                         [](const auto& param) { return std::string(param.param); });

}  // namespace
}  // namespace peerchain::net::transport
