#include "net/transport/peer_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace peerchain::net::transport {
namespace {

TEST(PeerUrl, AcceptsTheSeedForms) {
    auto a = parse_peer_url("ws://127.0.0.1:6001");
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->scheme, Scheme::kWebSocket);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 6001);
    EXPECT_EQ(a->path, "/");
    EXPECT_EQ(a->to_string(), "ws://127.0.0.1:6001");

    auto b = parse_peer_url("ws://localhost:6001");
    ASSERT_TRUE(b) << b.error().to_string();
    EXPECT_EQ(b->host, "localhost");
    EXPECT_EQ(b->host_port(), "localhost:6001");

    auto c = parse_peer_url("ws://[::1]:6001");
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->port, 6001);
    EXPECT_EQ(c->host_port(), "[::1]:6001");
    EXPECT_EQ(c->to_string(), "ws://[::1]:6001");
}

TEST(PeerUrl, AcceptsPathUpperCaseSchemeAndServiceNames) {
    auto a = parse_peer_url("WS://node_1.example.org:65535/p2p");
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->host, "node_1.example.org");
    EXPECT_EQ(a->port, 65535);
    EXPECT_EQ(a->path, "/p2p");
    EXPECT_EQ(a->to_string(), "ws://node_1.example.org:65535/p2p");
    auto b = parse_peer_url("ws://a:1/");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->to_string(), "ws://a:1");
}

void expect_rejected(const std::string& text) {
    auto r = parse_peer_url(text);
    ASSERT_FALSE(r) << "accepted: " << text;
    EXPECT_EQ(r.error().code, util::Errc::kInvalidArgument);
    EXPECT_FALSE(r.error().message.empty());
}

TEST(PeerUrl, RejectsBadInput) {
    expect_rejected("http://x:1");
    expect_rejected("ws://host");
    expect_rejected("ws://host:");
    expect_rejected("ws://host:0");
    expect_rejected("ws://host:99999");
    expect_rejected("ws://host:65536");
    expect_rejected("ws://host:-1");
    expect_rejected("ws://host:6001x");
    expect_rejected("");
    expect_rejected("ws://" + std::string(300, 'a') + ":6001");
    expect_rejected("ws://:6001");
    expect_rejected("ws://::1:6001");
    expect_rejected("ws://[::1]");
    expect_rejected("ws://[::1:6001");
    expect_rejected("ws://[not-v6]:6001");
    expect_rejected("ws://user@host:6001");
    expect_rejected("ws://ho st:6001");
    expect_rejected("ws://host..x:6001");
    expect_rejected("ws://1.2.3.999:6001");
    expect_rejected("ws://host:6001/#frag");
    expect_rejected("wss://host:6001");
    expect_rejected("localhost:6001");
    expect_rejected("ws://" + std::string(64, 'a') + ".b:6001");
    expect_rejected("ws://h:1/" + std::string(kMaxUrlLength, 'p'));
}

TEST(PeerUrl, MessagesNameTheProblem) {
    EXPECT_NE(parse_peer_url("http://x:1").error().message.find("scheme"), std::string::npos);
    EXPECT_NE(parse_peer_url("ws://host").error().message.find("missing port"), std::string::npos);
    EXPECT_NE(parse_peer_url("ws://host:0").error().message.find("out of range"),
              std::string::npos);
}

TEST(PeerUrl, AcceptsTcp) {
    auto a = parse_peer_url("tcp://127.0.0.1:6001");
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->scheme, Scheme::kTcp);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 6001);
    EXPECT_EQ(a->path, "/");
    EXPECT_EQ(a->to_string(), "tcp://127.0.0.1:6001");
    EXPECT_EQ(a->host_port(), "127.0.0.1:6001");

    auto b = parse_peer_url("TCP://[::1]:6002/");  // a lone "/" is no path
    ASSERT_TRUE(b) << b.error().to_string();
    EXPECT_EQ(b->scheme, Scheme::kTcp);
    EXPECT_EQ(b->host, "::1");
    EXPECT_EQ(b->to_string(), "tcp://[::1]:6002");

    auto c = parse_peer_url("tcp://node-2.example.org:65535");
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ(c->to_string(), "tcp://node-2.example.org:65535");
    EXPECT_STREQ(scheme_name(c->scheme), "tcp");
}

TEST(PeerUrl, RejectsBadTcp) {
    expect_rejected("tcp://host");
    EXPECT_NE(parse_peer_url("tcp://host").error().message.find("missing port"), std::string::npos);
    expect_rejected("tcp://host:0");
    expect_rejected("tcp://host:6001/p2p");
    EXPECT_NE(parse_peer_url("tcp://host:6001/p2p").error().message.find("no path"),
              std::string::npos);
    expect_rejected("tcp://user@host:6001");
    expect_rejected("tcp://::1:6001");
    expect_rejected("tcps://host:6001");
    expect_rejected("tcp:/host:6001");
}

TEST(PeerUrl, ErrorsNameBothSchemes) {
    const auto message = parse_peer_url("udp://host:1").error().message;
    EXPECT_NE(message.find("ws://host:port"), std::string::npos) << message;
    EXPECT_NE(message.find("tcp://host:port"), std::string::npos) << message;
}

}  // namespace
}  // namespace peerchain::net::transport
