#include "core/arith_uint256.hpp"

#include <cmath>

namespace peerchain::core {

ArithUint256 ArithUint256::from_le(const Uint256& v) noexcept {
    ArithUint256 out;
    const std::uint8_t* p = v.data();
    for (int i = 0; i < kLimbs; ++i) {
        out.limbs_[i] = std::uint32_t{p[4 * i]} | (std::uint32_t{p[4 * i + 1]} << 8) |
                        (std::uint32_t{p[4 * i + 2]} << 16) | (std::uint32_t{p[4 * i + 3]} << 24);
    }
    return out;
}

Uint256 ArithUint256::to_le() const noexcept {
    Uint256 out;
    std::uint8_t* p = out.data();
    for (int i = 0; i < kLimbs; ++i) {
        for (int b = 0; b < 4; ++b) p[4 * i + b] = static_cast<std::uint8_t>(limbs_[i] >> (8 * b));
    }
    return out;
}

std::optional<ArithUint256> ArithUint256::from_compact(std::uint32_t compact) noexcept {
    const unsigned size = compact >> 24;
    std::uint32_t mantissa = compact & 0x007fffff;
    const bool negative = mantissa != 0 && (compact & 0x00800000) != 0;
    // The value is mantissa * 256^(size-3); anything past 256 bits overflows.
    const bool overflow = mantissa != 0 && ((size > 34) || (mantissa > 0xff && size > 33) ||
                                            (mantissa > 0xffff && size > 32));
    if (negative || overflow) return std::nullopt;
    ArithUint256 out;
    if (size <= 3) {
        mantissa >>= 8 * (3 - size);
        out = ArithUint256(mantissa);
    } else {
        out = ArithUint256(mantissa);
        out <<= 8 * (size - 3);
    }
    return out;
}

std::uint32_t ArithUint256::to_compact() const noexcept {
    unsigned size = (bits() + 7) / 8;
    std::uint32_t mantissa;
    if (size <= 3) {
        mantissa = limbs_[0] << (8 * (3 - size));
    } else {
        mantissa = (*this >> (8 * (size - 3))).limbs_[0];
    }
    // The sign bit is not ours to set: move a byte into the exponent instead.
    if (mantissa & 0x00800000) {
        mantissa >>= 8;
        ++size;
    }
    return mantissa | (size << 24);
}

bool ArithUint256::is_zero() const noexcept {
    for (std::uint32_t l : limbs_) {
        if (l != 0) return false;
    }
    return true;
}

unsigned ArithUint256::bits() const noexcept {
    for (int i = kLimbs - 1; i >= 0; --i) {
        if (limbs_[i] != 0) {
            return static_cast<unsigned>(32 * i) + 32u -
                   static_cast<unsigned>(__builtin_clz(limbs_[i]));
        }
    }
    return 0;
}

double ArithUint256::to_double() const noexcept {
    double out = 0;
    double scale = 1;
    for (std::uint32_t l : limbs_) {
        out += scale * l;
        scale *= 4294967296.0;
    }
    return out;
}

std::string ArithUint256::to_hex() const { return to_le().to_hex(); }

ArithUint256& ArithUint256::operator+=(const ArithUint256& b) noexcept {
    std::uint64_t carry = 0;
    for (int i = 0; i < kLimbs; ++i) {
        const std::uint64_t n = carry + limbs_[i] + b.limbs_[i];
        limbs_[i] = static_cast<std::uint32_t>(n);
        carry = n >> 32;
    }
    return *this;
}

ArithUint256 ArithUint256::operator~() const noexcept {
    ArithUint256 out;
    for (int i = 0; i < kLimbs; ++i) out.limbs_[i] = ~limbs_[i];
    return out;
}

ArithUint256& ArithUint256::operator-=(const ArithUint256& b) noexcept {
    ArithUint256 negated = ~b;
    negated += ArithUint256(1);
    return *this += negated;
}

ArithUint256& ArithUint256::operator<<=(unsigned shift) noexcept {
    ArithUint256 a(*this);
    *this = ArithUint256();
    const unsigned k = shift / 32;
    shift %= 32;
    for (unsigned i = 0; i < kLimbs; ++i) {
        if (i + k + 1 < kLimbs && shift != 0) limbs_[i + k + 1] |= (a.limbs_[i] >> (32 - shift));
        if (i + k < kLimbs) limbs_[i + k] |= (a.limbs_[i] << shift);
    }
    return *this;
}

ArithUint256& ArithUint256::operator>>=(unsigned shift) noexcept {
    ArithUint256 a(*this);
    *this = ArithUint256();
    const unsigned k = shift / 32;
    shift %= 32;
    for (unsigned i = 0; i < kLimbs; ++i) {
        if (i >= k + 1 && shift != 0) limbs_[i - k - 1] |= (a.limbs_[i] << (32 - shift));
        if (i >= k) limbs_[i - k] |= (a.limbs_[i] >> shift);
    }
    return *this;
}

ArithUint256& ArithUint256::operator/=(const ArithUint256& divisor) noexcept {
    NODE_ASSERT(!divisor.is_zero());
    ArithUint256 div = divisor;
    ArithUint256 num = *this;
    *this = ArithUint256();
    const unsigned num_bits = num.bits();
    const unsigned div_bits = div.bits();
    if (div_bits > num_bits) return *this;
    unsigned shift = num_bits - div_bits;
    div <<= shift;
    for (;;) {
        if (num >= div) {
            num -= div;
            limbs_[shift / 32] |= (1u << (shift & 31));
        }
        if (shift == 0) break;
        div >>= 1;
        --shift;
    }
    return *this;
}

}  // namespace peerchain::core
