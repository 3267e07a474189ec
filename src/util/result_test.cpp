#include "util/result.hpp"

#include <gtest/gtest.h>

namespace peerchain::util {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) return Unexpected(Errc::kInvalidArgument, "not positive");
    return v;
}

TEST(Result, CarriesValueOrError) {
    auto ok = parse_positive(3);
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 3);
    auto bad = parse_positive(-1);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(bad.error().to_string(), "invalid-argument: not positive");
}

TEST(Result, VoidResult) {
    Result<void> ok;
    EXPECT_TRUE(ok);
    Result<void> bad = Unexpected(Errc::kIo, "disk");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "disk");
}

TEST(AssertDeathTest, AbortsWithTheExpression) {
    EXPECT_DEATH(NODE_ASSERT(1 + 1 == 3), "1 \\+ 1 == 3");
}

}  // namespace
}  // namespace peerchain::util
