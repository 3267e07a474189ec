#include "net/peer_manager/tx_request_tracker.hpp"

#include <gtest/gtest.h>

namespace peerchain::net::peer_manager {
namespace {

core::Uint256 h(std::uint32_t n) {
    core::Uint256 v;
    for (int i = 0; i < 4; ++i) v.data()[i] = static_cast<std::uint8_t>(n >> (8 * i));
    v.data()[31] = 1;
    return v;
}

const auto kNone = [](const core::Uint256&) { return false; };

TEST(TxRequestTracker, OneRequestAtATimeThenTheNextAnnouncerAfterTimeout) {
    TxRequestTracker t(TxRequestLimits{});
    ASSERT_TRUE(t.announce(1, h(1)));
    ASSERT_TRUE(t.announce(2, h(1)));
    EXPECT_FALSE(t.announce(1, h(1)));  // again: nothing new
    EXPECT_EQ(t.next_requests(1, 100, kNone), std::vector<core::Uint256>{h(1)});
    EXPECT_TRUE(t.next_requests(2, 100, kNone).empty());  // in flight to peer 1
    EXPECT_TRUE(t.requested_from(1, h(1)));
    t.expire(159);
    EXPECT_TRUE(t.next_requests(2, 159, kNone).empty());
    t.expire(160);  // 60 s
    EXPECT_FALSE(t.requested_from(1, h(1)));
    EXPECT_EQ(t.next_requests(2, 160, kNone), std::vector<core::Uint256>{h(1)});
    // Peer 1 failed it: announcing again does not make us ask it again.
    EXPECT_FALSE(t.announce(1, h(1)));
    EXPECT_TRUE(t.received(2, h(1)));
    EXPECT_FALSE(t.received(2, h(1)));
    t.forget(h(1));
    EXPECT_EQ(t.tracked(), 0u);
}

TEST(TxRequestTracker, NotFoundAndDisconnectPassTheRequestOn) {
    TxRequestTracker t(TxRequestLimits{});
    for (PeerId p : {1, 2, 3}) t.announce(p, h(7));
    ASSERT_EQ(t.next_requests(1, 0, kNone).size(), 1u);
    t.not_found(1, h(7));
    ASSERT_EQ(t.next_requests(2, 0, kNone).size(), 1u);
    t.remove_peer(2);
    EXPECT_EQ(t.in_flight(), 0u);
    EXPECT_EQ(t.next_requests(3, 0, kNone), std::vector<core::Uint256>{h(7)});
    t.not_found(3, h(7));
    EXPECT_EQ(t.tracked(), 0u);  // nobody left to ask
}

TEST(TxRequestTracker, BoundsPerPeerAndInAll) {
    TxRequestLimits limits;
    limits.max_peer_announcements = 50;
    limits.max_peer_in_flight = 10;
    limits.max_in_flight = 15;
    TxRequestTracker t(limits);
    std::size_t kept = 0;
    for (std::uint32_t i = 0; i < 1000; ++i) kept += t.announce(1, h(i)) ? 1 : 0;
    EXPECT_EQ(kept, 50u);
    EXPECT_EQ(t.announcements(1), 50u);
    EXPECT_EQ(t.next_requests(1, 0, kNone).size(), 10u);
    EXPECT_TRUE(t.next_requests(1, 0, kNone).empty());
    for (std::uint32_t i = 1000; i < 1020; ++i) t.announce(2, h(i));
    EXPECT_EQ(t.next_requests(2, 0, kNone).size(), 5u);  // the global bound
    EXPECT_EQ(t.in_flight(), 15u);
    // Answers make room again, in announcement order.
    t.received(1, h(0));
    t.forget(h(0));
    EXPECT_EQ(t.next_requests(1, 0, kNone), std::vector<core::Uint256>{h(10)});
}

TEST(TxRequestTracker, WhatWeAlreadyHaveIsForgottenNotRequested) {
    TxRequestTracker t(TxRequestLimits{});
    t.announce(1, h(1));
    t.announce(1, h(2));
    t.announce(2, h(2));
    const auto got = t.next_requests(1, 0, [](const core::Uint256& txid) { return txid == h(2); });
    EXPECT_EQ(got, std::vector<core::Uint256>{h(1)});
    EXPECT_TRUE(t.next_requests(2, 0, kNone).empty());
    EXPECT_EQ(t.tracked(), 1u);
}

}  // namespace
}  // namespace peerchain::net::peer_manager
