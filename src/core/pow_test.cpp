#include "core/pow.hpp"

#include <gtest/gtest.h>

namespace peerchain::core {
namespace {

TEST(Pow, WorkIsTwoToThe256OverTargetPlusOne) {
    EXPECT_EQ(block_work(0x1d00ffff), ArithUint256(0x100010001ULL));  // Bitcoin difficulty 1
    EXPECT_EQ(block_work(0x207fffff), ArithUint256(2));
    EXPECT_EQ(block_work(0x04923456), ArithUint256());  // negative: no work
    EXPECT_LT(block_work(0x1f00ffff), block_work(0x1e00ffff));
}

TEST(Pow, DecodeTargetRefusesEasierThanTheLimit) {
    const Params& dev = params(Network::kDev);
    EXPECT_TRUE(decode_target(dev.pow_limit_bits, dev));
    EXPECT_TRUE(decode_target(0x1e00ffff, dev));
    EXPECT_FALSE(decode_target(0x2000ffff, dev));
    EXPECT_FALSE(decode_target(0x1f000000, dev));  // zero
    EXPECT_FALSE(decode_target(0x1f800000, dev));  // negative
}

TEST(Pow, RegtestNeverRetargets) {
    const Params& rt = params(Network::kRegtest);
    EXPECT_EQ(next_work_required(rt.pow_limit_bits, 100, 0, rt), rt.pow_limit_bits);
    EXPECT_EQ(next_work_required(rt.pow_limit_bits, 0, 1 << 30, rt), rt.pow_limit_bits);
}

TEST(Pow, AsertHoldsOnScheduleAndMovesByHalfLives) {
    const Params& p = params(Network::kDev);
    const std::uint32_t start = (p.pow_limit >> 8).to_compact();
    const auto base = *ArithUint256::from_compact(start);
    const std::int64_t t = 1'800'000'000;
    // On schedule: unchanged.
    EXPECT_EQ(next_work_required(start, t + p.target_spacing, t, p), start);
    // A parent that came one half-life early: half the target; late: double.
    EXPECT_EQ(next_work_required(start, t + p.target_spacing - p.asert_half_life, t, p),
              (base >> 1).to_compact());
    EXPECT_EQ(next_work_required(start, t + p.target_spacing + p.asert_half_life, t, p),
              (base << 1).to_compact());
    // Never easier than the limit, however late.
    EXPECT_EQ(next_work_required(start, t + 100 * p.asert_half_life, t, p), p.pow_limit_bits);
    EXPECT_EQ(next_work_required(p.pow_limit_bits, 0xffffffffLL, 0, p), p.pow_limit_bits);
}

TEST(Pow, AsertIsMonotonicInSolveTime) {
    const Params& p = params(Network::kDev);
    const std::uint32_t start = (p.pow_limit >> 40).to_compact();
    ArithUint256 previous;
    for (std::int64_t solve = -2 * p.asert_half_life; solve < 3 * p.asert_half_life; solve += 7) {
        const auto target =
            ArithUint256::from_compact(next_work_required(start, 1'000'000 + solve, 1'000'000, p));
        ASSERT_TRUE(target);
        ASSERT_FALSE(target->is_zero());
        if (solve > -2 * p.asert_half_life) {
            EXPECT_GE(*target, previous) << solve;
        }
        previous = *target;
    }
    // A hard target and an absurd negative solve time still give a valid, non-zero target.
    const auto hardest =
        ArithUint256::from_compact(next_work_required(0x1b00ffff, 0, 1LL << 31, p));
    ASSERT_TRUE(hardest);
    EXPECT_FALSE(hardest->is_zero());
}

// Blocks every 5 s against a 10 s target for 2 half-lives' worth of schedule: the target
// falls by about 2^-2, as the absolute schedule says, whatever the path.
TEST(Pow, AsertTelescopesToTheAbsoluteSchedule) {
    const Params& p = params(Network::kDev);
    std::uint32_t bits = (p.pow_limit >> 4).to_compact();
    const auto start = *ArithUint256::from_compact(bits);
    std::int64_t grandparent = 1'000'000;
    std::int64_t parent = grandparent + 5;
    const int blocks = static_cast<int>(2 * p.asert_half_life / 5);
    for (int i = 0; i < blocks; ++i) {
        bits = next_work_required(bits, parent, grandparent, p);
        grandparent = parent;
        parent += 5;
    }
    const double ratio = ArithUint256::from_compact(bits)->to_double() / start.to_double();
    EXPECT_NEAR(ratio, 0.25, 0.01);
}

TEST(Pow, DifficultyIsRelativeToTheLimit) {
    const Params& p = params(Network::kDev);
    EXPECT_DOUBLE_EQ(difficulty(p.pow_limit_bits, p), 1.0);
    EXPECT_NEAR(difficulty((p.pow_limit >> 4).to_compact(), p), 16.0, 0.01);
}

}  // namespace
}  // namespace peerchain::core
