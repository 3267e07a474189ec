#include "net/addrman/net_address.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace peerchain::net::addrman {
namespace {

NetAddress addr(std::string_view host, std::uint16_t port = 6001,
                std::uint8_t transports = kTransportWebSocket) {
    auto a = NetAddress::parse(host, port, transports);
    EXPECT_TRUE(a) << host << ": " << (a ? "" : a.error().message);
    return a ? *a : NetAddress{};
}

TEST(NetAddress, CanonicalizesHosts) {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"1.2.3.4", "1.2.3.4"},
        {"2001:0DB9:0000::0001", "2001:db9::1"},
        {"[2a01:4f8::1]", "2a01:4f8::1"},
        {"::ffff:8.8.8.8", "8.8.8.8"},
        {"[::FFFF:127.0.0.1]", "127.0.0.1"},
        {"::1", "::1"},
        {"Node-1.Example.ORG", "node-1.example.org"},
        {"under_score.example", "under_score.example"},
        {"LocalHost", "localhost"},
        {"1.2.3.example", "1.2.3.example"},
    };
    for (const auto& c : cases) {
        auto a = NetAddress::parse(c.in, 1, kTransportWebSocket);
        ASSERT_TRUE(a) << c.in << ": " << a.error().message;
        EXPECT_EQ(a->host, c.out) << c.in;
        EXPECT_EQ(canonical_host(c.in).value(), c.out);
    }
}

TEST(NetAddress, RefusesBadInput) {
    const std::string long_label(64, 'a');
    const std::string long_host = std::string(250, 'a') + ".com";
    const char* hosts[] = {
        "",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",
        "239.1.2.3",
        "240.0.0.1",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
        "::",
        "ff02::1",
        "2001:db8::1",
        "::1.2.3.4",
        "fe80::1%eth0",
        "1.2.3",
        "1.2.3.999",
        "01.2.3.4",
        "0x7f000001",
        "0x7f.1",
        "2130706433",
        "a..b",
        ".a",
        "a.",
        "a b",
        "a:b",
        "[1.2.3.4]",
        "[example.com]",
        "[::1",
        "ex!ample",
        "1:2:3:4:5:6:7:8:9",
    };
    for (const char* h : hosts) {
        EXPECT_FALSE(NetAddress::parse(h, 1, kTransportWebSocket)) << h;
    }
    EXPECT_FALSE(NetAddress::parse(long_label + ".com", 1, kTransportWebSocket));
    EXPECT_FALSE(NetAddress::parse(long_host, 1, kTransportWebSocket));
    EXPECT_TRUE(NetAddress::parse(std::string(63, 'a') + ".com", 1, kTransportWebSocket));
    EXPECT_FALSE(NetAddress::parse("1.2.3.4", 0, kTransportWebSocket));
    EXPECT_FALSE(NetAddress::parse("1.2.3.4", 1, 0));
    EXPECT_FALSE(NetAddress::parse("1.2.3.4", 1, 0x80));
    auto a = NetAddress::parse("1.2.3.4", 1, 0xff);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->transports, kTransportWebSocket | kTransportTcp);
}

TEST(NetAddress, Classifies) {
    struct Case {
        const char* host;
        bool ip, loopback, priv, routable;
        const char* network;
    };
    const Case cases[] = {
        {"8.8.8.8", true, false, false, true, ""},
        {"127.0.0.1", true, true, false, false, ""},
        {"127.255.0.9", true, true, false, false, ""},
        {"::1", true, true, false, false, ""},
        {"localhost", false, true, false, false, ""},
        {"10.9.8.7", true, false, true, false, "10/8"},
        {"172.16.0.1", true, false, true, false, "172.16/12"},
        {"172.31.255.1", true, false, true, false, "172.16/12"},
        {"172.32.0.1", true, false, false, true, ""},
        {"192.168.1.20", true, false, true, false, "192.168/16"},
        {"100.64.0.1", true, false, true, false, "100.64/10"},
        {"100.128.0.1", true, false, false, true, ""},
        {"169.254.3.4", true, false, true, false, "169.254/16"},
        {"fd12:3456::1", true, false, true, false, "fc00::/7"},
        {"fe80::1", true, false, true, false, "fe80::/10"},
        {"2a01:4f8::1", true, false, false, true, ""},
        {"node.example", false, false, false, false, ""},
    };
    for (const auto& c : cases) {
        const NetAddress a = addr(c.host);
        EXPECT_EQ(a.is_ip(), c.ip) << c.host;
        EXPECT_EQ(a.is_loopback(), c.loopback) << c.host;
        EXPECT_EQ(a.is_private(), c.priv) << c.host;
        EXPECT_EQ(a.is_routable(), c.routable) << c.host;
        EXPECT_EQ(a.local_network(), c.network) << c.host;
    }
}

TEST(NetAddress, Groups) {
    EXPECT_EQ(addr("1.2.3.4").group(), "ip4:1.2");
    EXPECT_EQ(addr("1.2.200.9").group(), "ip4:1.2");
    EXPECT_EQ(addr("::ffff:1.2.3.4").group(), "ip4:1.2");
    EXPECT_EQ(addr("2a01:4f8:10:20::1").group(), "ip6:2a01:4f8");
    EXPECT_EQ(addr("2a01:4f8:ffff::1").group(), "ip6:2a01:4f8");
    EXPECT_EQ(addr("2001:0:0:1::1").group(), "ip6:2001:0");
    EXPECT_EQ(addr("127.0.0.1", 6001).group(), "local:127.0.0.1:6001");
    EXPECT_EQ(addr("127.0.0.1", 6002).group(), "local:127.0.0.1:6002");
    EXPECT_EQ(addr("::1", 6001).group(), "local:[::1]:6001");
    EXPECT_EQ(addr("192.168.1.2", 7).group(), "local:192.168.1.2:7");
    EXPECT_EQ(addr("localhost", 7).group(), "local:localhost:7");
    EXPECT_EQ(addr("Seed.Example").group(), "name:seed.example");
}

TEST(NetAddress, TextForms) {
    EXPECT_EQ(addr("1.2.3.4", 5).host_port(), "1.2.3.4:5");
    EXPECT_EQ(addr("::1", 5).host_port(), "[::1]:5");
    EXPECT_EQ(addr("1.2.3.4", 5).to_string(), "ws://1.2.3.4:5");
    EXPECT_EQ(addr("::1", 5, kTransportTcp).to_string(), "tcp://[::1]:5");
    EXPECT_EQ(addr("::1", 5, kTransportTcp | kTransportWebSocket).to_string(), "ws://[::1]:5");
}

TEST(NetAddress, EqualityAndHash) {
    EXPECT_EQ(addr("::ffff:1.2.3.4"), addr("1.2.3.4"));
    EXPECT_NE(addr("1.2.3.4", 1), addr("1.2.3.4", 2));
    EXPECT_NE(addr("1.2.3.4", 1, kTransportTcp), addr("1.2.3.4", 1, kTransportWebSocket));
    std::unordered_set<NetAddress, NetAddressHasher> set;
    set.insert(addr("1.2.3.4"));
    set.insert(addr("::FFFF:1.2.3.4"));
    set.insert(addr("1.2.3.4", 9));
    EXPECT_EQ(set.size(), 2u);
}

TEST(NetAddress, LocalityRule) {
    const NetAddress routable = addr("8.8.8.8");
    const NetAddress loopback = addr("127.0.0.1");
    const NetAddress lan = addr("192.168.1.5");
    const NetAddress ula = addr("fd00::5");
    const NetAddress name = addr("seed.example");

    // A routable address from anyone, even a source that does not parse.
    for (const char* src : {"8.8.4.4", "127.0.0.1", "192.168.1.9", "::1", "junk", ""}) {
        EXPECT_TRUE(accept_from(routable, src)) << src;
    }
    // Loopback only from loopback.
    EXPECT_TRUE(accept_from(loopback, "127.0.0.1"));
    EXPECT_TRUE(accept_from(loopback, "::1"));
    EXPECT_TRUE(accept_from(loopback, "::ffff:127.0.0.1"));
    EXPECT_FALSE(accept_from(loopback, "192.168.1.9"));
    EXPECT_FALSE(accept_from(loopback, "8.8.4.4"));
    // Private from the same block or from loopback.
    EXPECT_TRUE(accept_from(lan, "192.168.7.7"));
    EXPECT_TRUE(accept_from(lan, "127.0.0.1"));
    EXPECT_FALSE(accept_from(lan, "10.0.0.1"));
    EXPECT_FALSE(accept_from(lan, "8.8.4.4"));
    EXPECT_TRUE(accept_from(ula, "[fd99::1]"));
    EXPECT_FALSE(accept_from(ula, "192.168.7.7"));
    // Names never come from peers.
    EXPECT_FALSE(accept_from(name, "127.0.0.1"));
    EXPECT_FALSE(accept_from(addr("localhost"), "127.0.0.1"));
    // Not made by parse(): refused.
    EXPECT_FALSE(accept_from(NetAddress{"0.0.0.0", 1, kTransportWebSocket}, "127.0.0.1"));
}

}  // namespace
}  // namespace peerchain::net::addrman
