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
    EXPECT_EQ(next_work_required(5, 0, rt), rt.pow_limit_bits);
    EXPECT_EQ(next_work_required(5000, 1u << 31, rt), rt.pow_limit_bits);
}

TEST(Pow, AsertHoldsOnScheduleAndMovesByHalfLives) {
    const Params& p = params(Network::kDev);
    const std::int64_t t0 = p.genesis.header.time;
    const auto limit = p.pow_limit;
    // On schedule: the anchor's target.
    EXPECT_EQ(next_work_required(100, t0 + 100 * p.target_spacing, p), p.pow_limit_bits);
    // One half-life early: half the target.
    const auto half = ArithUint256::from_compact(
        next_work_required(100, t0 + 100 * p.target_spacing - p.asert_half_life, p));
    ASSERT_TRUE(half);
    EXPECT_EQ(half->to_compact(), (limit >> 1).to_compact());
    // Ten half-lives early: 2^-10.
    const auto tenth = ArithUint256::from_compact(
        next_work_required(100, t0 + 100 * p.target_spacing - 10 * p.asert_half_life, p));
    EXPECT_EQ(tenth->to_compact(), (limit >> 10).to_compact());
    // Late: never easier than the limit, however late.
    EXPECT_EQ(next_work_required(100, t0 + 1000000, p), p.pow_limit_bits);
    EXPECT_EQ(next_work_required(1, 0xffffffffLL, p), p.pow_limit_bits);
}

TEST(Pow, AsertIsMonotonicInTime) {
    const Params& p = params(Network::kDev);
    const std::int64_t due = p.genesis.header.time + 5000 * p.target_spacing;
    ArithUint256 previous;
    for (std::int64_t early = 0; early < 40 * p.asert_half_life; early += 97) {
        const auto target = ArithUint256::from_compact(next_work_required(5000, due - early, p));
        ASSERT_TRUE(target);
        ASSERT_FALSE(target->is_zero());
        if (early > 0) {
            EXPECT_LE(*target, previous) << early;
        }
        previous = *target;
    }
    // Absurdly early still gives a valid, non-zero target.
    const auto hardest = ArithUint256::from_compact(next_work_required(4000000, 0, p));
    ASSERT_TRUE(hardest);
    EXPECT_FALSE(hardest->is_zero());
}

TEST(Pow, DifficultyIsRelativeToTheLimit) {
    const Params& p = params(Network::kDev);
    EXPECT_DOUBLE_EQ(difficulty(p.pow_limit_bits, p), 1.0);
    EXPECT_NEAR(difficulty((p.pow_limit >> 4).to_compact(), p), 16.0, 0.01);
}

}  // namespace
}  // namespace peerchain::core
