#include "util/bytes.hpp"

#include <gtest/gtest.h>

namespace peerchain::util {
namespace {

TEST(Hex, RoundTripsEveryByte) {
    Bytes all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
    const auto hex = to_hex(all);
    EXPECT_EQ(hex.substr(0, 8), "00010203");
    auto back = from_hex(hex);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, all);
}

TEST(Hex, AcceptsUpperCase) {
    auto b = from_hex("ABcd");
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (Bytes{0xab, 0xcd}));
}

TEST(Hex, RejectsOddLengthAndNonDigits) {
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_FALSE(from_hex("0x"));
    EXPECT_EQ(from_hex("g0").error().code, Errc::kDecode);
}

}  // namespace
}  // namespace peerchain::util
