#include "core/arith_uint256.hpp"

#include <gtest/gtest.h>

namespace peerchain::core {
namespace {

// Compact vectors from Bitcoin Core's arith_uint256_tests.
TEST(ArithUint256, CompactEncoding) {
    struct Case {
        std::uint32_t compact;
        std::uint64_t value;
        std::uint32_t back;
    };
    for (const Case& c :
         {Case{0x01003456, 0, 0}, Case{0x01123456, 0x12, 0x01120000},
          Case{0x02123456, 0x1234, 0x02123400}, Case{0x03123456, 0x123456, 0x03123456},
          Case{0x04123456, 0x12345600, 0x04123456}, Case{0x05009234, 0x92340000, 0x05009234}}) {
        auto v = ArithUint256::from_compact(c.compact);
        ASSERT_TRUE(v) << std::hex << c.compact;
        EXPECT_EQ(*v, ArithUint256(c.value)) << std::hex << c.compact;
        EXPECT_EQ(v->to_compact(), c.back) << std::hex << c.compact;
    }
    auto big = ArithUint256::from_compact(0x20123456);
    ASSERT_TRUE(big);
    EXPECT_EQ(big->to_hex(), "1234560000000000000000000000000000000000000000000000000000000000");
    EXPECT_EQ(big->to_compact(), 0x20123456u);
}

TEST(ArithUint256, CompactRejectsNegativeAndOverflow) {
    EXPECT_FALSE(ArithUint256::from_compact(0x04923456));  // sign bit
    EXPECT_FALSE(ArithUint256::from_compact(0x01fedcba));
    EXPECT_FALSE(ArithUint256::from_compact(0xff123456));  // past 256 bits
    EXPECT_FALSE(ArithUint256::from_compact(0x21010000));
}

TEST(ArithUint256, ArithmeticAndOrder) {
    const ArithUint256 a(0xffffffffffffffffULL);
    const ArithUint256 one(1);
    const ArithUint256 sum = a + one;
    EXPECT_EQ(sum.limb(2), 1u);
    EXPECT_EQ(sum - one, a);
    EXPECT_LT(a, sum);
    EXPECT_EQ((one << 255) >> 255, one);
    EXPECT_EQ((one << 200).bits(), 201u);
    EXPECT_EQ(ArithUint256(1000) / ArithUint256(7), ArithUint256(142));
    EXPECT_EQ((one << 255) / (one << 250), ArithUint256(32));
    EXPECT_EQ(ArithUint256(5) / ArithUint256(6), ArithUint256());
    EXPECT_EQ(ArithUint256().bits(), 0u);
}

TEST(ArithUint256, LittleEndianRoundTrip) {
    Uint256 h;
    for (std::size_t i = 0; i < 32; ++i) h.data()[i] = static_cast<std::uint8_t>(i + 1);
    const auto v = ArithUint256::from_le(h);
    EXPECT_EQ(v.limb(0), 0x04030201u);
    EXPECT_EQ(v.to_le(), h);
}

}  // namespace
}  // namespace peerchain::core
