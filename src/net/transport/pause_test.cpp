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

std::string scheme_url(const char* scheme, std::uint16_t port) {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

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

class PauseTest : public TransportTest, public ::testing::WithParamInterface<const char*> {};

// The server pauses after the first message. Nothing more arrives, however long it waits
// (far more than the kernel buffers hold is sent), and after resume everything arrives,
// in order, on the same session.
TEST_P(PauseTest, APausedSessionDeliversNothingUntilResumed) {
    Limits limits;
    limits.max_message_size = 64 * 1024;
    limits.max_send_queue_bytes = 64 * 1024 * 1024;
    Recorder server_events;
    std::atomic<int> seen{0};
    server_events.message_hook = [&](const std::shared_ptr<Session>& session) {
        if (seen.fetch_add(1) == 0) session->pause_reading();
    };
    auto server = make_server(server_events, limits);
    Recorder client_events;
    Transport client(io_, client_events, limits);
    ASSERT_TRUE(client.dial(scheme_url(GetParam(), server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto sender = client_events.opened().at(0);

    constexpr std::uint32_t kMessages = 400;  // 16 MiB
    const std::size_t size = 40 * 1024;
    for (std::uint32_t i = 0; i < kMessages; ++i) ASSERT_TRUE(sender->send(numbered(i, size)));
    ASSERT_TRUE(server_events.wait_messages(1));
    // What the peer sent waits in the kernel's buffers, then in its send queue.
    EXPECT_TRUE(eventually([&] { return sender->queued_bytes() > 0; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(server_events.messages().size(), 1u);

    const auto receiver = server_events.opened().at(0);
    EXPECT_TRUE(receiver->is_open());
    receiver->resume_reading();
    ASSERT_TRUE(server_events.wait_messages(kMessages));
    const auto messages = server_events.messages();
    ASSERT_EQ(messages.size(), kMessages);
    for (std::uint32_t i = 0; i < kMessages; ++i) {
        EXPECT_EQ(messages[i].first, receiver->id());
        ASSERT_EQ(messages[i].second.size(), size);
        EXPECT_EQ(number_of(messages[i].second), i);
    }
    EXPECT_TRUE(server_events.closed().empty());
}

// The quiet of a paused session is ours: the idle timeout does not close it (nor, on
// WebSocket, the keep-alive pings that go unanswered while we do not read).
TEST_P(PauseTest, APausedSessionOutlastsTheIdleTimeout) {
    Limits limits;
    limits.idle_timeout = 200ms;
    Recorder server_events;
    server_events.message_hook = [&](const std::shared_ptr<Session>& session) {
        session->pause_reading();
    };
    auto server = make_server(server_events, limits);
    Recorder client_events;
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(scheme_url(GetParam(), server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto sender = client_events.opened().at(0);
    ASSERT_TRUE(sender->send(bytes_of("first")));
    ASSERT_TRUE(server_events.wait_messages(1));

    std::this_thread::sleep_for(1s);  // five idle timeouts
    EXPECT_TRUE(server_events.closed().empty());
    const auto receiver = server_events.opened().at(0);
    ASSERT_TRUE(sender->send(bytes_of("second")));
    receiver->resume_reading();
    ASSERT_TRUE(server_events.wait_messages(2));
    EXPECT_EQ(server_events.messages().at(1).second, *bytes_of("second"));
    EXPECT_TRUE(server_events.closed().empty());
    EXPECT_TRUE(receiver->is_open());
}

// A resume without a pause does nothing; a pause and resume before any message leaves
// reading on.
TEST_P(PauseTest, ResumeWithoutPauseAndPauseUndoneBeforeAMessage) {
    Recorder server_events;
    auto server = make_server(server_events);
    Recorder client_events;
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(scheme_url(GetParam(), server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto sender = client_events.opened().at(0);
    ASSERT_TRUE(sender->send(bytes_of("one")));
    ASSERT_TRUE(server_events.wait_messages(1));
    const auto receiver = server_events.opened().at(0);
    receiver->resume_reading();
    receiver->pause_reading();
    receiver->resume_reading();
    for (const char* text : {"two", "three"}) ASSERT_TRUE(sender->send(bytes_of(text)));
    ASSERT_TRUE(server_events.wait_messages(3));
    EXPECT_EQ(server_events.messages().at(2).second, *bytes_of("three"));
}

INSTANTIATE_TEST_SUITE_P(BothTransports, PauseTest, ::testing::Values("ws", "tcp"),
                         [](const auto& param) { return std::string(param.param); });

}  // namespace
}  // namespace peerchain::net::transport
