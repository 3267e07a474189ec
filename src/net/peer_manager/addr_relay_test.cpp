// AddrRelay against scripted peers: getaddr answers, the token bucket, relay to two peers,
// addrv2 and the transports, our own address.
#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager_test_util.hpp"

namespace peerchain::net::peer_manager::fixture {
namespace {

// --- Addresses ----------------------------------------------------------------------------

std::vector<addrman::AddrMan::Timed> routable(int n, std::int64_t time, int first = 1) {
    std::vector<addrman::AddrMan::Timed> out;
    for (int i = first; i < first + n; ++i) {
        const std::string host = std::to_string(1 + i / 250 % 200) + "." + std::to_string(i % 250) +
                                 ".7." + std::to_string(1 + i % 200);
        out.emplace_back(*addrman::NetAddress::parse(host, 6001, addrman::kTransportWebSocket),
                         time);
    }
    return out;
}

wire::AddrMessage as_addr(const std::vector<addrman::AddrMan::Timed>& entries) {
    wire::AddrMessage m;
    for (const auto& [a, t] : entries) m.addresses.push_back({a.host, a.port, t});
    return m;
}

TEST_F(PeerManagerTest, GetAddrIsAnsweredOnceWithPartOfTheBookThePeerCanReach) {
    const addrman::Source local{"manual", "", true};
    // A book of a few thousand addresses, from many sources (one fills 16 buckets at most).
    for (int source = 0; source < 12; ++source) {
        const std::string host = "9." + std::to_string(source) + ".0.1";
        book_.add(routable(250, clock_.now_seconds(), 1 + source * 250),
                  addrman::Source{"addr from " + host, host, false});
    }
    book_.add({{*addrman::NetAddress::parse("127.0.0.1", 7000, 1), clock_.now_seconds()}}, local);
    const std::size_t size = book_.size();
    ASSERT_GT(size, 1000u);
    const PeerId asker = ready_peer(0, 6003, "10.9.9.9:1234");
    feed(asker, wire::GetAddrMessage{});
    auto addrs = drain_of<wire::AddrMessage>(asker);
    ASSERT_EQ(addrs.size(), 1u);
    // At most 23% of the book, and nothing it could not reach (our loopback address is no
    // use to a peer on a private network).
    EXPECT_GT(addrs[0].addresses.size(), 100u);
    EXPECT_LE(addrs[0].addresses.size(), size * 23 / 100);
    for (const auto& a : addrs[0].addresses) EXPECT_NE(a.host, "127.0.0.1");
    feed(asker, wire::GetAddrMessage{});
    EXPECT_TRUE(drain_of<wire::AddrMessage>(asker).empty());
    EXPECT_FALSE(disconnected(asker));
    // An outbound peer we chose is not answered (it could fingerprint us).
    const PeerId out = connect(Direction::kOutbound, "10.8.8.8:6001");
    feed(out, version(0, 6001));
    feed(out, wire::VerackMessage{});
    drain(out);
    feed(out, wire::GetAddrMessage{});
    EXPECT_TRUE(drain_of<wire::AddrMessage>(out).empty());
}

TEST_F(PeerManagerTest, GetAddrGivesAYoungNetworksFewAddresses) {
    // 23% of four addresses is none; a young network needs every one of them.
    book_.add(routable(4, clock_.now_seconds()), addrman::Source{"manual", "", true});
    const PeerId asker = ready_peer(0, 6003, "10.9.9.9:1234");
    feed(asker, wire::GetAddrMessage{});
    auto addrs = drain_of<wire::AddrMessage>(asker);
    ASSERT_EQ(addrs.size(), 1u);
    EXPECT_EQ(addrs[0].addresses.size(), 4u);
}

TEST_F(PeerManagerTest, AddressesAPeerSendsAreLimitedByItsTokenBucket) {
    const PeerId id = ready_peer(0, 6003, "10.9.9.9:1234");
    // One token to start with: enough for its own address, not for a flood.
    const auto first = routable(5, clock_.now_seconds());
    feed(id, as_addr(first));
    EXPECT_EQ(book_.size(), 1u);
    EXPECT_TRUE(book_.find(first[0].first).has_value());
    EXPECT_FALSE(book_.find(first[1].first).has_value());
    clock_.advance(100);  // 0.1 a second: 10 more
    feed(id, as_addr(routable(20, clock_.now_seconds(), 100)));
    // The 10 processed may share a bucket slot (the first stays), never more than 10 new.
    EXPECT_GE(book_.size(), 9u);
    EXPECT_LE(book_.size(), 11u);
    EXPECT_EQ(pm_->peers()[0].addrs_rate_limited, 4u + 10u);
    const auto list = book_.list();
    for (const auto& info : list) EXPECT_EQ(info.source, "addr from 10.9.9.9:6003");
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, AnOutboundPeerIsAskedForAddressesAndItsAnswerIsTakenNotRelayed) {
    const PeerId other = ready_peer(0, 6004, "10.9.9.10:1234");
    const PeerId out = connect(Direction::kOutbound, "10.8.8.8:6001");
    feed(out, version(0, 6001));
    feed(out, wire::VerackMessage{});
    EXPECT_EQ(drain_of<wire::GetAddrMessage>(out).size(), 1u);
    // The answer may be as big as a message holds: the bucket was topped up for it.
    feed(out, as_addr(routable(1000, clock_.now_seconds())));
    EXPECT_EQ(pm_->peers()[1].addrs_rate_limited, 0u);
    // One source fills at most its 16 new buckets of 64; within them, addresses that land
    // on the same slot keep the first.
    EXPECT_GT(book_.size(), 500u);
    EXPECT_LE(book_.size(), 16u * 64);
    drain(other);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::AddrMessage>(other).empty());
}

TEST_F(PeerManagerTest, ASmallFreshAddrIsRelayedToTwoPeersOnce) {
    std::vector<PeerId> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(ready_peer(0, static_cast<std::uint16_t>(6010 + i),
                                 "10.9.9." + std::to_string(10 + i) + ":1234"));
    }
    for (const PeerId id : ids) drain(id);
    const auto fresh = routable(1, clock_.now_seconds(), 500);
    feed(ids[0], as_addr(fresh));
    pm_->on_tick();
    int got = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        for (const auto& m : drain_of<wire::AddrMessage>(ids[i])) {
            for (const auto& a : m.addresses) {
                if (a.host != fresh[0].first.host) continue;
                EXPECT_NE(i, 0u) << "sent back to its source";
                ++got;
            }
        }
    }
    EXPECT_EQ(got, 2);
    // The same address again: the same targets (the same day), who know it; nothing goes
    // out, so gossip does not echo.
    clock_.advance(10);
    feed(ids[0], as_addr(fresh));
    pm_->on_tick();
    for (const PeerId id : ids) {
        for (const auto& m : drain_of<wire::AddrMessage>(id)) {
            for (const auto& a : m.addresses) EXPECT_NE(a.host, fresh[0].first.host);
        }
    }
    // An old address is not news: stored, not relayed.
    const auto old = routable(1, clock_.now_seconds() - 3600, 600);
    feed(ids[2], as_addr(old));
    pm_->on_tick();
    for (const PeerId id : ids) {
        for (const auto& m : drain_of<wire::AddrMessage>(id)) {
            for (const auto& a : m.addresses) EXPECT_NE(a.host, old[0].first.host);
        }
    }
    EXPECT_TRUE(book_.find(old[0].first).has_value());
}

TEST_F(PeerManagerTest, APeerThatSentSendAddrV2GetsTheTransports) {
    Config config;
    config.transports = wire::kAddrTcp;  // a TCP-only node
    make_manager(config);
    const PeerId v2 = connect(Direction::kInbound, "10.9.9.20:1234");
    feed(v2, version(0, 6020));
    feed(v2, wire::SendAddrV2Message{});
    feed(v2, wire::VerackMessage{});
    const auto self = drain_of<wire::AddrV2Message>(v2);
    ASSERT_EQ(self.size(), 1u);
    ASSERT_EQ(self[0].addresses.size(), 1u);
    EXPECT_EQ(self[0].addresses[0].transports, wire::kAddrTcp);
    // A peer that only knows addr hears nothing of a TCP-only listener.
    const PeerId v1 = ready_peer(0, 6021, "10.9.9.21:1234");
    EXPECT_TRUE(drain_of<wire::AddrMessage>(v1).empty());
    // sendaddrv2 after the handshake means nothing; addrv2 with transports goes to the book.
    feed(v1, wire::SendAddrV2Message{});
    EXPECT_FALSE(disconnected(v1));
    feed(v2, wire::AddrV2Message{{{"1.2.3.4", 6001, clock_.now_seconds(), wire::kAddrTcp}}});
    const auto info = book_.find(*addrman::NetAddress::parse("1.2.3.4", 6001, 2));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->address.transports, addrman::kTransportTcp);
}

TEST_F(PeerManagerTest, OurAddressIsAdvertisedAgainAboutDaily) {
    const PeerId id = ready_peer(0, 6003, "10.9.9.9:1234");
    drain(id);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::AddrMessage>(id).empty());
    clock_.advance(36 * 60 * 60);  // past the longest interval (one and a half days)
    pm_->on_tick();
    const auto again = drain_of<wire::AddrMessage>(id);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].addresses.at(0).host, "10.0.0.254");
}

}  // namespace
}  // namespace peerchain::net::peer_manager::fixture
