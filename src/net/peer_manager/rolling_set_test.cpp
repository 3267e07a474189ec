#include "net/peer_manager/rolling_set.hpp"

#include <gtest/gtest.h>

namespace peerchain::net::peer_manager {
namespace {

core::Uint256 h(std::uint32_t n) {
    core::Uint256 v;
    for (int i = 0; i < 4; ++i) v.data()[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return v;
}

TEST(RollingSet, ForgetsTheOldestBeyondCapacity) {
    RollingSet set(3);
    EXPECT_TRUE(set.insert(h(1)));
    EXPECT_FALSE(set.insert(h(1)));
    set.insert(h(2));
    set.insert(h(3));
    set.insert(h(4));
    EXPECT_EQ(set.size(), 3u);
    EXPECT_FALSE(set.contains(h(1)));
    EXPECT_TRUE(set.contains(h(2)));
    EXPECT_TRUE(set.contains(h(4)));
}

TEST(RollingSet, EraseAndReinsertKeepTheBound) {
    RollingSet set(10);
    for (std::uint32_t round = 0; round < 1000; ++round) {
        set.insert(h(round % 7));
        set.erase(h((round + 3) % 7));
    }
    for (std::uint32_t i = 100; i < 200; ++i) set.insert(h(i));
    EXPECT_EQ(set.size(), 10u);
    for (std::uint32_t i = 190; i < 200; ++i) EXPECT_TRUE(set.contains(h(i)));
    set.clear();
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.contains(h(199)));
}

}  // namespace
}  // namespace peerchain::net::peer_manager
