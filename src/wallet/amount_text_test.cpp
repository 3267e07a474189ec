#include "wallet/amount_text.hpp"

#include <gtest/gtest.h>

namespace peerchain::wallet {
namespace {

core::Amount parsed(std::string_view text) {
    auto r = parse_coins(text);
    EXPECT_TRUE(r) << text;
    return r ? *r : -1;
}

TEST(AmountText, ParsesWholeCoinsAndDecimalsExactly) {
    EXPECT_EQ(parsed("10"), 10 * core::kCoin);
    EXPECT_EQ(parsed("0.5"), 50'000'000);
    EXPECT_EQ(parsed("0.1"), 10'000'000);  // no float: 0.1 is not 0.09999999
    EXPECT_EQ(parsed("0.00000001"), 1);
    EXPECT_EQ(parsed("1.23456789"), 123'456'789);
    EXPECT_EQ(parsed("007.5"), 750'000'000);
    EXPECT_EQ(parsed("0"), 0);
    EXPECT_EQ(parsed("21000000"), core::kMaxMoney);
    EXPECT_EQ(parsed("21000000.00000000"), core::kMaxMoney);
}

TEST(AmountText, RefusesEverythingElse) {
    for (const char* text :
         {"", ".", ".5", "5.", "1.123456789", "-1", "+1", "1e8", " 1", "1 ", "1,5", "1.2.3", "0x10",
          "21000000.00000001", "99999999999999999999999", "1000000000"}) {
        auto r = parse_coins(text);
        EXPECT_FALSE(r) << "'" << text << "'";
        if (!r) {
            EXPECT_EQ(r.error().code, util::Errc::kInvalidArgument);
        }
    }
}

TEST(AmountText, FormatsEightDecimals) {
    EXPECT_EQ(format_coins(0), "0.00000000");
    EXPECT_EQ(format_coins(1), "0.00000001");
    EXPECT_EQ(format_coins(50'000'000), "0.50000000");
    EXPECT_EQ(format_coins(12 * core::kCoin + 3), "12.00000003");
    EXPECT_EQ(format_coins(-150'000'000), "-1.50000000");
    EXPECT_EQ(format_coins(core::kMaxMoney), "21000000.00000000");
    EXPECT_EQ(format_coins(INT64_MIN), "-92233720368.54775808");
}

TEST(AmountText, RoundTrips) {
    for (core::Amount a : {core::Amount{0}, core::Amount{1}, core::Amount{99'999'999}, core::kCoin,
                           core::kMaxMoney - 1, core::kMaxMoney}) {
        EXPECT_EQ(parsed(format_coins(a)), a);
    }
}

}  // namespace
}  // namespace peerchain::wallet
