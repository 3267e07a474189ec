// TCP transport tests (tcp:// links, length-prefixed frames, one port for both transports)
// over real sockets on 127.0.0.1 ephemeral ports. Each wait is bounded; a failure shows up
// as a failed wait, never as a hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/transport/test_support.hpp"
#include "net/transport/transport.hpp"

namespace peerchain::net::transport {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

std::string tcp_url_for(std::uint16_t port) { return "tcp://127.0.0.1:" + std::to_string(port); }

util::Bytes prefix_of(std::uint32_t length) {
    return {static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
            static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24)};
}

util::Bytes frame_of(std::string_view message) {
    auto out = prefix_of(static_cast<std::uint32_t>(message.size()));
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// A peer written by hand on its own io_context, for bytes no Transport would send.
class RawPeer {
  public:
    explicit RawPeer(std::uint16_t port) : socket_(io_) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    }
    void write(const util::Bytes& bytes) { asio::write(socket_, asio::buffer(bytes)); }
    void write(std::string_view text) { asio::write(socket_, asio::buffer(text)); }
    // Exactly n bytes, or nothing if the link closed or the wait ran out first.
    std::optional<util::Bytes> read(std::size_t n, std::chrono::milliseconds timeout = kWait) {
        util::Bytes out(n);
        boost::system::error_code result = asio::error::timed_out;
        asio::async_read(socket_, asio::buffer(out),
                         [&](boost::system::error_code ec, std::size_t) { result = ec; });
        io_.restart();
        io_.run_for(timeout);
        if (result) return std::nullopt;
        return out;
    }
    // What ended the link from the other side, or timed_out.
    boost::system::error_code wait_closed(std::chrono::milliseconds timeout = kWait) {
        return read_until_closed(io_, socket_, timeout);
    }

  private:
    asio::io_context io_;
    tcp::socket socket_;
};

// The server's session with `peer` once it has sent its first frame; nullptr if none
// opened in time.
std::shared_ptr<Session> said_hello(RawPeer& peer, Recorder& server_events) {
    peer.write(frame_of("hello"));
    if (!server_events.wait_opened(1)) return nullptr;
    return server_events.opened().at(0);
}

Limits tcp_only() {
    Limits limits;
    limits.websocket = false;
    return limits;
}

Limits ws_only() {
    Limits limits;
    limits.tcp = false;
    return limits;
}

TEST_F(TransportTest, TcpExchangesMessagesBothWays) {
    Limits limits;
    limits.max_message_size = 1024 * 1024;
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events, limits);
    Transport client(io_, client_events, limits);
    const auto url = tcp_url_for(server->listen_port());
    ASSERT_TRUE(client.dial(url));

    // The dialer's session opens on connect; the listener's once the first frame starts
    // (in the protocol the dialer speaks first, with its version).
    ASSERT_TRUE(client_events.wait_opened(1));
    const auto outbound = client_events.opened().at(0);
    ASSERT_TRUE(outbound->send(bytes_of("version")));
    ASSERT_TRUE(server_events.wait_opened(1));
    ASSERT_TRUE(server_events.wait_messages(1));
    EXPECT_EQ(server_events.messages().at(0).second, *bytes_of("version"));
    const auto inbound = server_events.opened().at(0);
    EXPECT_EQ(inbound->transport(), Scheme::kTcp);
    EXPECT_EQ(outbound->transport(), Scheme::kTcp);
    EXPECT_EQ(inbound->direction(), Direction::kInbound);
    EXPECT_EQ(outbound->direction(), Direction::kOutbound);
    EXPECT_EQ(outbound->url(), url);
    EXPECT_EQ(inbound->url(), "");
    EXPECT_EQ(outbound->remote_address(), "127.0.0.1:" + std::to_string(server->listen_port()));
    EXPECT_EQ(server->inbound_count(), 1u);
    EXPECT_EQ(client.outbound_count(), 1u);

    // Sizes around the first read step (256 KiB) and the cap itself.
    const std::vector<std::size_t> sizes{
        1, 2, 300, 256 * 1024, 256 * 1024 + 1, 700'000, limits.max_message_size};
    auto message = [](std::size_t size, std::uint8_t seed) {
        util::Bytes m(size);
        for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::uint8_t>(seed + i * 7);
        return std::make_shared<const util::Bytes>(std::move(m));
    };
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        ASSERT_TRUE(outbound->send(message(sizes[i], static_cast<std::uint8_t>(i))));
        ASSERT_TRUE(inbound->send(message(sizes[i], static_cast<std::uint8_t>(100 + i))));
    }
    ASSERT_TRUE(server_events.wait_messages(1 + sizes.size()));
    ASSERT_TRUE(client_events.wait_messages(sizes.size()));
    const auto at_server = server_events.messages();
    const auto at_client = client_events.messages();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        EXPECT_EQ(at_server[1 + i].first, inbound->id());
        ASSERT_EQ(at_server[1 + i].second, *message(sizes[i], static_cast<std::uint8_t>(i)));
        ASSERT_EQ(at_client[i].second, *message(sizes[i], static_cast<std::uint8_t>(100 + i)));
        // Read into a buffer of exactly the frame's length: held_bytes() counts no slack.
        EXPECT_EQ(at_server[1 + i].second.capacity(), sizes[i]);
    }

    // A frame cannot carry an empty message, nor one over the cap; the session stays open.
    EXPECT_FALSE(outbound->send(std::make_shared<const util::Bytes>()));
    EXPECT_FALSE(outbound->send(message(limits.max_message_size + 1, 0)));
    EXPECT_TRUE(outbound->is_open());

    outbound->close("bye");
    EXPECT_FALSE(outbound->is_open());
    ASSERT_TRUE(server_events.wait_closed(1));
    ASSERT_TRUE(client_events.wait_closed(1));
    // TCP carries no close reason: the peer only sees the link end.
    EXPECT_EQ(server_events.closed().at(inbound->id()), "connection closed by peer");
    EXPECT_EQ(client_events.closed().at(outbound->id()), "bye");
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));
    EXPECT_TRUE(eventually([&] { return client.outbound_count() == 0; }));
}

TEST_F(TransportTest, OnePortServesWebSocketAndTcpAtOnce) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(client.dial(tcp_url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(2));
    for (const auto& session : client_events.opened()) {
        const auto expected =
            session->url().starts_with("tcp://") ? Scheme::kTcp : Scheme::kWebSocket;
        EXPECT_EQ(session->transport(), expected);
        ASSERT_TRUE(session->send(bytes_of(scheme_name(expected))));
    }
    ASSERT_TRUE(server_events.wait_opened(2));
    ASSERT_TRUE(server_events.wait_messages(2));

    std::map<Scheme, std::shared_ptr<Session>> by_kind;
    for (const auto& session : server_events.opened()) by_kind[session->transport()] = session;
    ASSERT_EQ(by_kind.size(), 2u);
    ASSERT_TRUE(by_kind.at(Scheme::kTcp)->send(bytes_of("to tcp")));
    ASSERT_TRUE(by_kind.at(Scheme::kWebSocket)->send(bytes_of("to ws")));
    ASSERT_TRUE(client_events.wait_messages(2));
    for (const auto& [id, payload] : server_events.messages()) {
        const auto kind = id == by_kind.at(Scheme::kTcp)->id() ? Scheme::kTcp : Scheme::kWebSocket;
        EXPECT_EQ(payload, *bytes_of(scheme_name(kind)));
    }
    EXPECT_EQ(server->inbound_count(), 2u);
}

TEST_F(TransportTest, TcpFramesAreLittleEndianLengthThenMessage) {
    Recorder server_events;
    auto server = make_server(server_events);
    RawPeer peer(server->listen_port());
    // One byte at a time: the reader must put a prefix and a message together from pieces.
    for (const auto byte : frame_of("hello")) peer.write(util::Bytes{byte});
    ASSERT_TRUE(server_events.wait_messages(1));
    EXPECT_EQ(server_events.messages().at(0).second, *bytes_of("hello"));
    const auto session = server_events.opened().at(0);
    EXPECT_EQ(session->transport(), Scheme::kTcp);

    const util::Bytes big(300, 0xab);
    ASSERT_TRUE(session->send(bytes_of("abc")));
    ASSERT_TRUE(session->send(std::make_shared<const util::Bytes>(big)));
    EXPECT_EQ(peer.read(7), (util::Bytes{3, 0, 0, 0, 'a', 'b', 'c'}));
    EXPECT_EQ(peer.read(4), (util::Bytes{0x2c, 0x01, 0, 0}));
    EXPECT_EQ(peer.read(300), big);
}

// Many frames in one write, frames cut across writes at odd places, frames around the read
// buffer's size: each arrives whole, in order. And many messages sent at once arrive in
// order (they go out several to a write).
TEST_F(TransportTest, TcpManyFramesInOneReadAndFramesAcrossReads) {
    Limits limits;
    limits.max_message_size = 1024 * 1024;
    Recorder server_events;
    auto server = make_server(server_events, limits);
    RawPeer peer(server->listen_port());
    std::vector<util::Bytes> sent;
    const std::vector<std::size_t> sizes{1,      5, 300,       65'531,  65'532, 65'533, 2,
                                         70'000, 3, 64 * 1024, 200'000, 7,      1,      300'000};
    util::Bytes stream;
    for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            util::Bytes m(sizes[i]);
            for (std::size_t k = 0; k < m.size(); ++k) {
                m[k] = static_cast<std::uint8_t>(round * 31 + i * 7 + k);
            }
            auto prefix = prefix_of(static_cast<std::uint32_t>(m.size()));
            stream.insert(stream.end(), prefix.begin(), prefix.end());
            stream.insert(stream.end(), m.begin(), m.end());
            sent.push_back(std::move(m));
        }
    }
    // 500 tiny frames in one go, then the rest in pieces of odd sizes.
    for (int i = 0; i < 500; ++i) {
        const util::Bytes m{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)};
        auto prefix = prefix_of(2);
        stream.insert(stream.end(), prefix.begin(), prefix.end());
        stream.insert(stream.end(), m.begin(), m.end());
        sent.push_back(m);
    }
    std::size_t at = 0;
    const std::vector<std::size_t> pieces{3, 1, 65'536, 9, 100'003, 2, 131'072};
    for (std::size_t p = 0; at < stream.size(); ++p) {
        const std::size_t n = std::min(pieces[p % pieces.size()], stream.size() - at);
        peer.write(util::Bytes(stream.begin() + static_cast<std::ptrdiff_t>(at),
                               stream.begin() + static_cast<std::ptrdiff_t>(at + n)));
        at += n;
    }
    ASSERT_TRUE(server_events.wait_messages(sent.size()));
    const auto got = server_events.messages();
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        ASSERT_EQ(got[i].second, sent[i]) << "message " << i;
        EXPECT_EQ(got[i].second.capacity(), sent[i].size()) << "message " << i;
    }

    // The other way: 1,000 messages queued at once reach the peer whole and in order.
    const auto session = server_events.opened().at(0);
    util::Bytes expected;
    for (int i = 0; i < 1000; ++i) {
        util::Bytes m(1 + i % 300, static_cast<std::uint8_t>(i));
        auto prefix = prefix_of(static_cast<std::uint32_t>(m.size()));
        expected.insert(expected.end(), prefix.begin(), prefix.end());
        expected.insert(expected.end(), m.begin(), m.end());
        ASSERT_TRUE(session->send(std::make_shared<const util::Bytes>(std::move(m))));
    }
    EXPECT_EQ(peer.read(expected.size()), expected);
    EXPECT_TRUE(eventually([&] { return session->queued_bytes() == 0; }));
}

TEST_F(TransportTest, TcpLengthOverTheCapClosesBeforeThePayload) {
    Limits limits;
    limits.max_message_size = 1024;
    Recorder server_events;
    auto server = make_server(server_events, limits);

    // As the first frame: the listener drops the connection; no session was ever open.
    {
        RawPeer peer(server->listen_port());
        peer.write(prefix_of(1025));
        const auto ec = peer.wait_closed();
        EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    }
    // Later in a session: on_close says why.
    RawPeer peer(server->listen_port());
    peer.write(frame_of("first"));
    ASSERT_TRUE(server_events.wait_messages(1));
    peer.write(prefix_of(0xffffffff));
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    ASSERT_TRUE(server_events.wait_closed(1));
    const auto reason = server_events.closed().begin()->second;
    EXPECT_TRUE(contains(reason, "message too big")) << reason;
    EXPECT_EQ(server_events.opened().size(), 1u);
    EXPECT_EQ(server_events.messages().size(), 1u);
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));

    // A frame of exactly the cap passes.
    Recorder client_events;
    Transport client(io_, client_events, limits);
    ASSERT_TRUE(client.dial(tcp_url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    ASSERT_TRUE(client_events.opened().at(0)->send(std::make_shared<const util::Bytes>(1024)));
    ASSERT_TRUE(server_events.wait_messages(2));
    EXPECT_EQ(server_events.messages().at(1).second.size(), 1024u);
}

TEST_F(TransportTest, TcpEmptyFrameIsRefused) {
    Recorder server_events;
    auto server = make_server(server_events);
    {
        RawPeer peer(server->listen_port());
        peer.write(prefix_of(0));
        const auto ec = peer.wait_closed();
        EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    }
    EXPECT_TRUE(server_events.opened().empty());

    RawPeer peer(server->listen_port());
    peer.write(frame_of("x"));
    ASSERT_TRUE(server_events.wait_messages(1));
    peer.write(prefix_of(0));
    ASSERT_TRUE(server_events.wait_closed(1));
    EXPECT_EQ(server_events.closed().begin()->second, "empty frame");
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
}

TEST_F(TransportTest, ConnectionSendingTwoBytesIsDroppedAfterHandshakeTimeout) {
    Limits limits;
    limits.handshake_timeout = 200ms;
    Recorder server_events;
    auto server = make_server(server_events, limits);

    RawPeer peer(server->listen_port());
    peer.write(util::Bytes{5, 0});
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 1; }));
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));
    EXPECT_TRUE(server_events.opened().empty());
    EXPECT_TRUE(server_events.closed().empty());
}

TEST_F(TransportTest, TcpOnlyRefusesWebSocket) {
    Recorder server_events;
    auto server = make_server(server_events, tcp_only());

    // Someone else's WebSocket upgrade is closed at once.
    RawPeer peer(server->listen_port());
    peer.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"));
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();

    // A WebSocket dial to it fails as a dial.
    Recorder ws_events;
    Transport ws_client(io_, ws_events);
    ASSERT_TRUE(ws_client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(ws_events.wait_dial_failures(1));
    EXPECT_TRUE(contains(ws_events.dial_failures().at(0).second, "upgrade failed"))
        << ws_events.dial_failures().at(0).second;
    EXPECT_TRUE(server_events.opened().empty());

    // It does not dial ws:// either, but tcp:// works.
    Recorder client_events;
    Transport client(io_, client_events, tcp_only());
    auto refused = client.dial(url_for(server->listen_port()));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, util::Errc::kInvalidArgument);
    EXPECT_EQ(refused.error().message, "websocket transport is disabled");
    EXPECT_EQ(client.outbound_count(), 0u);
    ASSERT_TRUE(client.dial(tcp_url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(1));
    ASSERT_TRUE(client_events.opened().at(0)->send(bytes_of("version")));
    ASSERT_TRUE(server_events.wait_opened(1));
    EXPECT_EQ(server_events.opened().at(0)->transport(), Scheme::kTcp);
}

TEST_F(TransportTest, WebSocketOnlyRefusesTcp) {
    Recorder server_events;
    auto server = make_server(server_events, ws_only());

    RawPeer peer(server->listen_port());
    peer.write(frame_of("version"));
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();

    // A tcp:// dial has no upgrade to fail: it opens on connect, then sees the close.
    Recorder tcp_events;
    Transport tcp_client(io_, tcp_events);
    ASSERT_TRUE(tcp_client.dial(tcp_url_for(server->listen_port())));
    ASSERT_TRUE(tcp_events.wait_opened(1));
    ASSERT_TRUE(tcp_events.opened().at(0)->send(bytes_of("version")));
    ASSERT_TRUE(tcp_events.wait_closed(1));
    EXPECT_EQ(tcp_events.closed().begin()->second, "connection closed by peer");
    EXPECT_TRUE(server_events.opened().empty());
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));

    Recorder client_events;
    Transport client(io_, client_events, ws_only());
    auto refused = client.dial(tcp_url_for(server->listen_port()));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, util::Errc::kInvalidArgument);
    EXPECT_EQ(refused.error().message, "tcp transport is disabled");
    ASSERT_TRUE(client.dial(url_for(server->listen_port())));
    ASSERT_TRUE(server_events.wait_opened(1));
    EXPECT_EQ(server_events.opened().at(0)->transport(), Scheme::kWebSocket);
}

TEST_F(TransportTest, TcpSlowReaderIsClosedWhenSendQueueFills) {
    Limits limits;
    limits.max_message_size = 256 * 1024;
    limits.max_send_queue_bytes = 1024 * 1024;
    Recorder server_events;
    auto server = make_server(server_events, limits);

    // Says hello, then never reads: the kernel buffers fill, then our queue.
    RawPeer peer(server->listen_port());
    const auto session = said_hello(peer, server_events);
    ASSERT_NE(session, nullptr);

    expect_closed_when_queue_fills(server_events, limits, session);
}

// A sender that paused for a slow reader hears when the reader has caught up: the wish
// fires once the queue is down to its level, not before, and once.
TEST_F(TransportTest, WhenDrainedFiresOnceTheReaderHasCaughtUp) {
    Limits limits;
    limits.max_message_size = 1024 * 1024;
    limits.max_send_queue_bytes = 64 * 1024 * 1024;
    Recorder server_events;
    auto server = make_server(server_events, limits);
    RawPeer peer(server->listen_port());
    const auto session = said_hello(peer, server_events);
    ASSERT_NE(session, nullptr);

    // Already below: fires soon.
    std::atomic<int> fired{0};
    session->when_drained(1u << 30, [&] { ++fired; });
    EXPECT_TRUE(eventually([&] { return fired.load() == 1; }));

    // 16 MiB the peer does not read: far more than the kernel's buffers take.
    const auto chunk = std::make_shared<const util::Bytes>(512 * 1024, 0x5a);
    for (int i = 0; i < 32; ++i) ASSERT_TRUE(session->send(chunk));
    EXPECT_TRUE(eventually([&] { return session->queued_bytes() > 4u * 1024 * 1024; }));
    std::atomic<int> drained{0};
    session->when_drained(1024 * 1024, [&] { ++drained; });
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(drained.load(), 0) << "fired while " << session->queued_bytes() << " bytes wait";
    // The peer reads everything: the wish fires, once.
    const std::size_t frame = std::size_t{4} + chunk->size();
    ASSERT_TRUE(peer.read(32 * frame, 30s));
    EXPECT_TRUE(eventually([&] { return drained.load() == 1; }));
    EXPECT_LE(session->queued_bytes(), 1024u * 1024);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(drained.load(), 1);
    EXPECT_EQ(fired.load(), 1);
}

TEST_F(TransportTest, TcpSendQueueCountsTheOverheadOfEachMessage) {
    expect_queue_counts_overhead(tcp_url_for);
}

TEST_F(TransportTest, SilentTcpSessionTimesOut) {
    Limits limits;
    limits.idle_timeout = 200ms;
    Recorder server_events;
    auto server = make_server(server_events, limits);
    RawPeer peer(server->listen_port());
    peer.write(frame_of("hello"));
    ASSERT_TRUE(server_events.wait_opened(1));
    ASSERT_TRUE(server_events.wait_closed(1));
    EXPECT_EQ(server_events.closed().begin()->second, "timed out");
    const auto ec = peer.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
}

TEST_F(TransportTest, StopClosesTcpSessionsAndPendingConnections) {
    Recorder server_events;
    Recorder client_events;
    auto server = make_server(server_events);
    Transport client(io_, client_events);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.dial(tcp_url_for(server->listen_port())));
    ASSERT_TRUE(client_events.wait_opened(2));
    for (const auto& session : client_events.opened()) ASSERT_TRUE(session->send(bytes_of("v")));
    ASSERT_TRUE(server_events.wait_opened(2));
    // And one connection that has not said which transport it speaks.
    RawPeer quiet(server->listen_port());
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 3; }));

    server->stop();
    ASSERT_EQ(server_events.closed().size(), 2u);
    for (const auto& [id, reason] : server_events.closed()) EXPECT_EQ(reason, "transport stopped");
    ASSERT_TRUE(client_events.wait_closed(2));
    for (const auto& [id, reason] : client_events.closed()) {
        EXPECT_EQ(reason, "connection closed by peer");
    }
    const auto ec = quiet.wait_closed();
    EXPECT_TRUE(closed_by_peer(ec)) << ec.message();
    EXPECT_TRUE(eventually([&] { return server->inbound_count() == 0; }));
}

}  // namespace
}  // namespace peerchain::net::transport
