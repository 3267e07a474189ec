// Transport tests over real sockets on 127.0.0.1 ephemeral ports. Each wait is bounded; a
// failure shows up as a failed wait, never as a hang.
#include "net/transport/transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/transport/test_support.hpp"

namespace peerchain::net::transport {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace test_support;
using namespace std::chrono_literals;

TEST_F(TransportTest, ExchangesBinaryMessagesBothWays) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    const auto url = url_for(server->listen_port());
    ASSERT_TRUE(client.dial(url));

    ASSERT_TRUE(server_events.wait_opened(1));
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto inbound = server_events.opened().at(0);
    const auto outbound = client_events.opened().at(0);
    EXPECT_EQ(inbound->direction(), Direction::kInbound);
    EXPECT_EQ(outbound->direction(), Direction::kOutbound);
    EXPECT_EQ(outbound->url(), url);
    EXPECT_EQ(inbound->url(), "");
    EXPECT_EQ(outbound->remote_address(), "127.0.0.1:" + std::to_string(server->listen_port()));
    EXPECT_TRUE(contains(inbound->remote_address(), "127.0.0.1:"));
    EXPECT_NE(inbound->remote_address(), outbound->remote_address());
    EXPECT_EQ(server->inbound_count(), 1u);
    EXPECT_EQ(client.outbound_count(), 1u);
    EXPECT_TRUE(inbound->is_open());

    const util::Bytes binary{0x00, 0xff, 0x10, 0x00, 0x7f};
    ASSERT_TRUE(outbound->send(std::make_shared<const util::Bytes>(binary)));
    ASSERT_TRUE(inbound->send(bytes_of("pong")));
    ASSERT_TRUE(server_events.wait_messages(1));
    ASSERT_TRUE(client_events.wait_messages(1));
    EXPECT_EQ(server_events.messages().at(0).first, inbound->id());
    EXPECT_EQ(server_events.messages().at(0).second, binary);
    EXPECT_EQ(client_events.messages().at(0).first, outbound->id());
    EXPECT_EQ(client_events.messages().at(0).second, *bytes_of("pong"));

    // An empty message is a message too.
    ASSERT_TRUE(outbound->send(std::make_shared<const util::Bytes>()));
    ASSERT_TRUE(server_events.wait_messages(2));
    EXPECT_TRUE(server_events.messages().at(1).second.empty());

    outbound->close("bye");
    EXPECT_FALSE(outbound->is_open());
    EXPECT_FALSE(outbound->send(bytes_of("late")));
    ASSERT_TRUE(server_events.wait_closed(1));
    ASSERT_TRUE(client_events.wait_closed(1));
    EXPECT_EQ(server_events.closed().at(inbound->id()), "closed by peer (1000: bye)");
    EXPECT_EQ(client_events.closed().at(outbound->id()), "bye");
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));
    EXPECT_EQ(client.outbound_count(), 0u);
}

TEST_F(TransportTest, ThousandMessagesArriveInOrder) {
    constexpr std::uint32_t kCount = 1000;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(1));
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto inbound = server_events.opened().at(0);
    const auto outbound = client_events.opened().at(0);

    auto message = [](std::uint32_t i) {
        // Sizes vary so that short and long writes interleave.
        util::Bytes m(4 + (i * 37) % 3000, static_cast<std::uint8_t>(i));
        for (int b = 0; b < 4; ++b) m[b] = static_cast<std::uint8_t>(i >> (8 * b));
        return std::make_shared<const util::Bytes>(std::move(m));
    };
    // Both directions at once, from two threads.
    std::thread back([&] {
        for (std::uint32_t i = 0; i < kCount; ++i) EXPECT_TRUE(inbound->send(message(i)));
    });
    for (std::uint32_t i = 0; i < kCount; ++i) ASSERT_TRUE(outbound->send(message(i)));
    back.join();

    ASSERT_TRUE(server_events.wait_messages(kCount));
    ASSERT_TRUE(client_events.wait_messages(kCount));
    for (auto* events : {&server_events, &client_events}) {
        const auto got = events->messages();
        ASSERT_EQ(got.size(), kCount);
        for (std::uint32_t i = 0; i < kCount; ++i) ASSERT_EQ(got[i].second, *message(i)) << i;
    }
}

TEST_F(TransportTest, OversizedMessageClosesThatSessionAndListenerKeepsAccepting) {
    Limits limits;
    limits.max_message_size = 1024;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events, limits);
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    ASSERT_TRUE(server_events.wait_opened(1));

    ASSERT_TRUE(client_events.opened().at(0)->send(std::make_shared<const util::Bytes>(1025)));
    ASSERT_TRUE(server_events.wait_closed(1));
    EXPECT_TRUE(contains(server_events.closed().begin()->second, "message too big"));
    ASSERT_TRUE(client_events.wait_closed(1));
    EXPECT_TRUE(contains(client_events.closed().begin()->second, "1009"));
    EXPECT_TRUE(server_events.messages().empty());

    // The listener still serves, and a message of exactly the limit passes.
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(2));
    ASSERT_TRUE(client_events.opened().at(1)->send(std::make_shared<const util::Bytes>(1024)));
    ASSERT_TRUE(server_events.wait_messages(1));
    EXPECT_EQ(server_events.messages().at(0).second.size(), 1024u);

    // Our own limit applies to what we send, without closing the session.
    EXPECT_FALSE(server_events.opened().at(1)->send(std::make_shared<const util::Bytes>(1025)));
    EXPECT_TRUE(server_events.opened().at(1)->is_open());
}

TEST_F(TransportTest, GarbageInsteadOfUpgradeIsDroppedAndServerKeepsServing) {
    Recorder server_events;
    auto server = make_server(server_events);

    asio::io_context raw_io;
    tcp::socket raw(raw_io);
    raw.connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    static const char kGarbage[] = "\x16\x03\x01\x02\x00 not an http request\r\n\r\n";
    const std::string garbage(kGarbage, sizeof kGarbage - 1);
    asio::write(raw, asio::buffer(garbage));
    const auto ec = read_until_closed(raw_io, raw, 5s);
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();

    Recorder client_events;
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    ASSERT_TRUE(client_events.opened().at(0)->send(bytes_of("still here")));
    ASSERT_TRUE(server_events.wait_messages(1));
    EXPECT_EQ(server_events.opened().size(), 1u);
    EXPECT_TRUE(server_events.closed().empty());
    // The garbage connection's slot is freed on the server's strand, which may run a
    // moment after our side saw the close.
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 1u; }))
        << server->inbound_count();
}

TEST_F(TransportTest, SilentConnectionIsDroppedAfterHandshakeTimeout) {
    Limits limits;
    limits.handshake_timeout = 200ms;
    Recorder server_events;
    auto server = make_server(server_events, limits);

    asio::io_context raw_io;
    tcp::socket raw(raw_io);
    raw.connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    const auto started = std::chrono::steady_clock::now();
    const auto ec = read_until_closed(raw_io, raw, 5s);
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));
    EXPECT_TRUE(server_events.opened().empty());
}

TEST_F(TransportTest, TextFrameClosesTheSession) {
    Limits limits;
    limits.idle_timeout = 5s;  // bounds the blocking read below if the server were silent
    Recorder server_events;
    auto server = make_server(server_events, limits);

    asio::io_context raw_io;
    websocket::stream<tcp::socket> ws(raw_io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    ws.handshake("127.0.0.1", "/any/path");  // the server upgrades on any path
    ASSERT_TRUE(server_events.wait_opened(1));

    ws.text(true);
    ws.write(asio::buffer(std::string("{\"type\": \"text\"}")));
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws.read(buffer, ec);
    EXPECT_EQ(ec, websocket::error::closed) << ec.message();
    EXPECT_EQ(ws.reason().code, websocket::close_code::unknown_data);

    ASSERT_TRUE(server_events.wait_closed(1));
    EXPECT_TRUE(contains(server_events.closed().begin()->second, "text frame"));
    EXPECT_TRUE(server_events.messages().empty());
}

TEST_F(TransportTest, InboundLimitIsEnforced) {
    Limits limits;
    limits.max_inbound = 2;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events, limits);
    Transport client(io_, client_events);
    const auto url = url_for(server->listen_port());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(server_events.wait_opened(2));
    ASSERT_TRUE(client_events.wait_opened(2));
    // Both slots hold open sessions: nothing the transport may evict for a newcomer.
    ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(client_events.wait_dial_failures(1));
    EXPECT_EQ(server_events.opened().size(), 2u);
    EXPECT_EQ(server->inbound_count(), 2u);
    EXPECT_EQ(client_events.dial_failures().at(0).first, url);

    // A freed slot is usable again.
    server_events.opened().at(0)->close("make room");
    ASSERT_TRUE(server_events.wait_closed(1));
    ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(server_events.wait_opened(3));
    EXPECT_EQ(server->inbound_count(), 2u);
}

TEST_F(TransportTest, ConnectionsThatNeverOpenCannotKeepANewcomerOut) {
    Limits limits;
    limits.max_inbound = 2;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events, limits);
    // Two connections take every slot and never send a byte (slowloris).
    asio::io_context raw_io;
    tcp::socket idle1(raw_io);
    tcp::socket idle2(raw_io);
    idle1.connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    idle2.connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    ASSERT_TRUE(eventually([&] { return server->inbound_count() == 2; }));
    // An honest peer still gets in: the oldest connection that has not opened makes room.
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(1));
    ASSERT_TRUE(client_events.wait_opened(1));
    EXPECT_TRUE(closed_by_peer(read_until_closed(raw_io, idle1, 5s)));
    // A session that opened is never evicted for a newcomer at this level (the owner of the
    // transport decides that): with the slots taken by it and idle2, a dial still gets in
    // by closing idle2, and a third one is refused.
    Recorder second_events;
    Transport second(io_, second_events);
    ASSERT_TRUE(second.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(2));
    Recorder third_events;
    Transport third(io_, third_events);
    ASSERT_TRUE(third.dial(url_for(server->listen_port())));
    ASSERT_TRUE(third_events.wait_dial_failures(1));
    EXPECT_EQ(server_events.opened().size(), 2u);
}

TEST_F(TransportTest, OutboundLimitRefusesDialAtOnce) {
    Limits limits;
    limits.max_outbound = 1;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events, limits);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    auto second = client.dial(url_for(server->listen_port()));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, util::Errc::kUnavailable);
    auto bad = client.dial("http://127.0.0.1:1");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, util::Errc::kInvalidArgument);
    ASSERT_TRUE(client_events.wait_opened(1));
}

TEST_F(TransportTest, DialToClosedPortReportsDialFailed) {
    std::uint16_t port = 0;
    {
        tcp::acceptor probe(io_, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    Recorder client_events;
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(port)));
    ASSERT_TRUE(client_events.wait_dial_failures(1));
    const auto failure = client_events.dial_failures().at(0);
    EXPECT_EQ(failure.first, url_for(port));
    EXPECT_TRUE(contains(failure.second, "cannot connect")) << failure.second;
    EXPECT_TRUE(client_events.opened().empty());
    EXPECT_TRUE(eventually([&] { return client.outbound_count() == 0; }));
}

TEST_F(TransportTest, SlowReaderIsClosedWhenSendQueueFills) {
    Limits limits;
    limits.max_message_size = 256 * 1024;
    limits.max_send_queue_bytes = 1024 * 1024;
    Recorder server_events;
    auto server = make_server(server_events, limits);

    // Upgrades, then never reads: the kernel buffers fill, then our queue.
    asio::io_context raw_io;
    websocket::stream<tcp::socket> ws(raw_io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), server->listen_port()});
    ws.handshake("127.0.0.1", "/");
    ASSERT_TRUE(server_events.wait_opened(1));
    const auto session = server_events.opened().at(0);

    expect_closed_when_queue_fills(server_events, limits, session);
}

TEST_F(TransportTest, SendQueueCountsTheOverheadOfEachMessage) {
    expect_queue_counts_overhead(url_for);
}

TEST_F(TransportTest, HandlerExceptionClosesOnlyThatSession) {
    Recorder server_events;
    Recorder client_events;
    server_events.message_hook = [](const std::shared_ptr<Session>&) {
        throw std::runtime_error("boom");
    };
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    ASSERT_TRUE(client_events.opened().at(0)->send(bytes_of("x")));
    ASSERT_TRUE(server_events.wait_closed(1));
    EXPECT_TRUE(contains(server_events.closed().begin()->second, "handler error"));
    ASSERT_TRUE(client_events.wait_closed(1));

    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(2));
}

TEST_F(TransportTest, StopWithOpenSessionsReturnsPromptlyAndClosesEach) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    const auto url = url_for(server->listen_port());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(server_events.wait_opened(3));
    ASSERT_TRUE(client_events.wait_opened(3));

    const auto started = std::chrono::steady_clock::now();
    server->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);

    // Every open session got on_close before stop() returned.
    const auto closed = server_events.closed();
    ASSERT_EQ(closed.size(), 3u);
    for (const auto& session : server_events.opened()) {
        ASSERT_TRUE(closed.count(session->id()));
        EXPECT_EQ(closed.at(session->id()), "transport stopped");
        EXPECT_FALSE(session->is_open());
        EXPECT_FALSE(session->send(bytes_of("after stop")));
    }
    server->stop();

    // Peers see a going-away close; what they send meanwhile reaches no handler.
    for (const auto& session : client_events.opened()) (void)session->send(bytes_of("late"));
    ASSERT_TRUE(client_events.wait_closed(3));
    for (const auto& [id, reason] : client_events.closed()) {
        EXPECT_TRUE(contains(reason, "1001")) << reason;
    }
    EXPECT_TRUE(server_events.messages().empty());
    EXPECT_EQ(server_events.closed().size(), 3u);

    EXPECT_FALSE(server->dial(url));
    EXPECT_FALSE(server->listen("127.0.0.1", 0));
    ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(client_events.wait_dial_failures(1));
}

TEST_F(TransportTest, StopFromInsideAHandler) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    server_events.message_hook = [&](const std::shared_ptr<Session>&) { server->stop(); };
    Transport client(io_, client_events);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(2));
    ASSERT_TRUE(server_events.wait_opened(2));
    for (const auto& session : client_events.opened()) ASSERT_TRUE(session->send(bytes_of("stop")));
    ASSERT_TRUE(server_events.wait_closed(2));
    ASSERT_TRUE(client_events.wait_closed(2));
    EXPECT_GE(server_events.messages().size(), 1u);
}

TEST_F(TransportTest, StopCalledAgainFromOnCloseReturns) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    server_events.close_hook = [&] { server->stop(); };
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(1));
    server->stop();
    EXPECT_EQ(server_events.closed().size(), 1u);
}

TEST_F(TransportTest, DialsByHostName) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    // localhost may resolve to ::1 first, where nobody listens: the dial moves on to
    // 127.0.0.1.
    const auto url = "ws://localhost:" + std::to_string(server->listen_port());
    ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(client_events.wait_opened(1));
    EXPECT_EQ(client_events.opened().at(0)->url(), url);
    EXPECT_EQ(client_events.opened().at(0)->remote_address(),
              "127.0.0.1:" + std::to_string(server->listen_port()));
}

TEST_F(TransportTest, DialsIpv6Loopback) {
    Recorder server_events;
    Transport server(io_, server_events);
    if (!server.listen("::1", 0)) GTEST_SKIP() << "no IPv6 loopback here";
    Recorder client_events;
    Transport client(io_, client_events);
    const auto url = "ws://[::1]:" + std::to_string(server.listen_port());
    ASSERT_TRUE(client.dial(url));
    ASSERT_TRUE(client_events.wait_opened(1));
    EXPECT_EQ(client_events.opened().at(0)->remote_address(),
              "[::1]:" + std::to_string(server.listen_port()));
    ASSERT_TRUE(server_events.wait_opened(1));
}

}  // namespace
}  // namespace peerchain::net::transport
