#include "net/connman/eviction.hpp"

#include <gtest/gtest.h>

#include <set>

namespace peerchain::net::connman {
namespace {

const std::array<std::uint8_t, 32> kKey{1, 2, 3};
constexpr std::int64_t kNow = 10'000;  // seconds

EvictionCandidate peer(std::uint64_t id, std::string group, std::int64_t connected_at = 1000) {
    EvictionCandidate c;
    c.id = id;
    c.group = std::move(group);
    c.connected_at = connected_at;
    c.handshake_done = true;
    return c;
}

TEST(Eviction, AnIdleConnectionGoesFirstTheOldestOfThem) {
    std::vector<EvictionCandidate> c;
    for (std::uint64_t i = 1; i <= 20; ++i) c.push_back(peer(i, "ip4:1." + std::to_string(i)));
    auto idle_old = peer(21, "local:127.0.0.1:?", kNow - 50);
    idle_old.handshake_done = false;
    auto idle_new = peer(22, "local:127.0.0.1:?", kNow - 10);
    idle_new.handshake_done = false;
    c.push_back(idle_new);
    c.push_back(idle_old);
    EXPECT_EQ(select_inbound_to_evict(c, kKey), 21u);
}

// A flood of idle connections that reconnect as fast as they are evicted keeps every slot
// young; they must still make way, the oldest first, so that an honest newcomer gets in.
TEST(Eviction, YoungIdleConnectionsAreNotProtected) {
    std::vector<EvictionCandidate> c;
    for (std::uint64_t i = 1; i <= 64; ++i) {
        auto idle = peer(i, "local:127.0.0.1:" + std::to_string(40000 + i), kNow);
        idle.handshake_done = false;
        c.push_back(idle);
    }
    EXPECT_EQ(select_inbound_to_evict(c, kKey), 1u);
    // The honest peer that took the slot completed its handshake: the idle ones go before it.
    c.erase(c.begin());
    c.push_back(peer(100, "local:127.0.0.1:6001", kNow));
    EXPECT_EQ(select_inbound_to_evict(c, kKey), 2u);
}

TEST(Eviction, UsefulPeersAreProtectedAndTheCrowdedGroupLoses) {
    std::vector<EvictionCandidate> c;
    // 30 peers from one /16 (an attacker's), connected late, useless.
    for (std::uint64_t i = 1; i <= 30; ++i)
        c.push_back(peer(i, "ip4:6.6", 5000 + static_cast<std::int64_t>(i)));
    // Honest peers of distinct groups: fast pings, blocks, transactions, long connected.
    std::uint64_t id = 100;
    for (int i = 0; i < 8; ++i) {
        auto p = peer(id++, "ip4:10." + std::to_string(i));
        p.ping_ms = 5 + i;
        c.push_back(p);
    }
    for (int i = 0; i < 4; ++i) {
        auto p = peer(id++, "ip4:20." + std::to_string(i));
        p.last_block_at = kNow - i;
        c.push_back(p);
    }
    for (int i = 0; i < 4; ++i) {
        auto p = peer(id++, "ip4:30." + std::to_string(i));
        p.last_tx_at = kNow - i;
        c.push_back(p);
    }
    std::set<std::uint64_t> evicted;
    // Evict again and again, as newcomers arrive: only the attacker's group loses.
    for (int round = 0; round < 20; ++round) {
        const auto victim = select_inbound_to_evict(c, kKey);
        ASSERT_TRUE(victim);
        EXPECT_LE(*victim, 30u) << "round " << round;
        evicted.insert(*victim);
        std::erase_if(c, [&](const auto& p) { return p.id == *victim; });
    }
    // The youngest of that group went first.
    EXPECT_TRUE(evicted.contains(30u));
}

TEST(Eviction, NothingIsEvictedWhenEveryPeerIsProtected) {
    std::vector<EvictionCandidate> c;
    for (std::uint64_t i = 1; i <= 4; ++i) c.push_back(peer(i, "ip4:1." + std::to_string(i)));
    EXPECT_FALSE(select_inbound_to_evict(c, kKey));
    EXPECT_FALSE(select_inbound_to_evict({}, kKey));
}

TEST(Eviction, TheProtectedGroupsDependOnTheKey) {
    std::vector<EvictionCandidate> c;
    for (std::uint64_t i = 1; i <= 6; ++i) c.push_back(peer(i, "ip4:1." + std::to_string(i)));
    std::set<std::uint64_t> victims;
    for (std::uint8_t k = 0; k < 32; ++k) {
        std::array<std::uint8_t, 32> key{k};
        if (auto v = select_inbound_to_evict(c, key)) victims.insert(*v);
    }
    // With 6 peers, 4 protected by group and one more by connection time: which one is
    // evicted changes with the key, so an attacker cannot aim at a peer.
    EXPECT_GT(victims.size(), 1u);
}

}  // namespace
}  // namespace peerchain::net::connman
