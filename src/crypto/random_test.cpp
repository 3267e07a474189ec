#include "crypto/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace peerchain::crypto {
namespace {

TEST(Random, FillsWholeBuffersThatDiffer) {
    std::array<std::uint8_t, 32> a{};
    std::array<std::uint8_t, 32> b{};
    random_bytes(a);
    random_bytes(b);
    // 2^-256 chance of a false failure.
    EXPECT_NE(a, b);
    std::vector<std::uint8_t> empty;
    random_bytes(empty);
}

}  // namespace
}  // namespace peerchain::crypto
