#include "core/pow.hpp"

namespace peerchain::core {

std::optional<ArithUint256> decode_target(std::uint32_t bits, const Params& p) noexcept {
    auto target = ArithUint256::from_compact(bits);
    if (!target || target->is_zero() || *target > p.pow_limit) return std::nullopt;
    return target;
}

bool check_proof_of_work(const Uint256& hash, std::uint32_t bits, const Params& p) noexcept {
    const auto target = decode_target(bits, p);
    return target && ArithUint256::from_le(hash) <= *target;
}

ArithUint256 block_work(std::uint32_t bits) noexcept {
    const auto target = ArithUint256::from_compact(bits);
    if (!target || target->is_zero()) return ArithUint256();
    // 2^256 / (target+1) does not fit in 256 bits, but it equals ~target / (target+1) + 1.
    return (~*target / (*target + ArithUint256(1))) + ArithUint256(1);
}

std::uint32_t next_work_required(std::uint32_t parent_bits, std::int64_t parent_time,
                                 std::int64_t grandparent_time, const Params& p) noexcept {
    if (p.pow_no_retargeting) return p.pow_limit_bits;
    const std::int64_t behind = (parent_time - grandparent_time) - p.target_spacing;
    const std::int64_t exponent = (behind * 65536) / p.asert_half_life;
    std::int64_t shifts = exponent >> 16;  // floor
    const auto frac = static_cast<std::uint64_t>(static_cast<std::uint16_t>(exponent));
    // 2^(frac/65536) * 65536, to within 0.013%, by the cubic of aserti3-2d.
    const std::uint64_t factor = 65536 + ((195766423245049ULL * frac + 971821376ULL * frac * frac +
                                           5127ULL * frac * frac * frac + (1ULL << 47)) >>
                                          48);
    const auto anchor = decode_target(parent_bits, p).value_or(p.pow_limit);

    // anchor * factor needs up to 256+17 bits: multiply into ten limbs.
    std::uint32_t wide[10] = {};
    std::uint64_t carry = 0;
    for (int i = 0; i < ArithUint256::kLimbs; ++i) {
        const std::uint64_t n = std::uint64_t{anchor.limb(i)} * factor + carry;
        wide[i] = static_cast<std::uint32_t>(n);
        carry = n >> 32;
    }
    wide[8] = static_cast<std::uint32_t>(carry);
    wide[9] = static_cast<std::uint32_t>(carry >> 32);
    shifts -= 16;  // factor carried 16 fractional bits

    auto shift_right = [&](std::int64_t n) {
        const auto limbs = static_cast<int>(n / 32);
        const auto bits = static_cast<int>(n % 32);
        for (int i = 0; i < 10; ++i) {
            const int src = i + limbs;
            std::uint64_t v = src < 10 ? wide[src] : 0;
            if (bits != 0) {
                const std::uint64_t hi = src + 1 < 10 ? wide[src + 1] : 0;
                v = (v >> bits) | (hi << (32 - bits));
            }
            wide[i] = static_cast<std::uint32_t>(v);
        }
    };
    auto highest_bit = [&]() -> std::int64_t {
        for (int i = 9; i >= 0; --i) {
            if (wide[i] != 0) return 32 * i + 32 - __builtin_clz(wide[i]);
        }
        return 0;
    };

    ArithUint256 next;
    if (shifts < 0) {
        if (shifts <= -320) return ArithUint256(1).to_compact();
        shift_right(-shifts);
    } else if (highest_bit() + shifts > 256) {
        return p.pow_limit_bits;
    }
    if (wide[8] != 0 || wide[9] != 0) return p.pow_limit_bits;
    for (int i = 0; i < ArithUint256::kLimbs; ++i) next.set_limb(i, wide[i]);
    if (shifts > 0) next <<= static_cast<unsigned>(shifts);
    if (next.is_zero()) next = ArithUint256(1);
    if (next > p.pow_limit) return p.pow_limit_bits;
    return next.to_compact();
}

double difficulty(std::uint32_t bits, const Params& p) noexcept {
    const auto target = ArithUint256::from_compact(bits);
    if (!target || target->is_zero()) return 0;
    return p.pow_limit.to_double() / target->to_double();
}

}  // namespace peerchain::core
