// ArithUint256: unsigned 256-bit arithmetic for targets and chain work. Only the operations
// proof of work needs: compare, add, subtract, shift, divide, multiply by a small factor,
// and Bitcoin's compact ("bits") encoding.
//
// Thread-safety: a plain value type.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "core/uint256.hpp"

namespace peerchain::core {

class ArithUint256 {
  public:
    static constexpr int kLimbs = 8;  // 32-bit limbs, least significant first

    constexpr ArithUint256() noexcept : limbs_{} {}
    constexpr explicit ArithUint256(std::uint64_t v) noexcept : limbs_{} {
        limbs_[0] = static_cast<std::uint32_t>(v);
        limbs_[1] = static_cast<std::uint32_t>(v >> 32);
    }

    // A hash read as a little-endian integer, the way proof of work reads block ids.
    static ArithUint256 from_le(const Uint256& v) noexcept;
    Uint256 to_le() const noexcept;

    // Compact encoding: 1 byte of size, 3 bytes of mantissa with a sign bit. Returns nullopt
    // for a negative or overflowing value (which no valid block may claim).
    static std::optional<ArithUint256> from_compact(std::uint32_t compact) noexcept;
    std::uint32_t to_compact() const noexcept;

    bool is_zero() const noexcept;
    unsigned bits() const noexcept;  // position of the highest set bit plus one; 0 for zero
    double to_double() const noexcept;
    std::string to_hex() const;  // 64 digits, most significant first

    ArithUint256& operator+=(const ArithUint256& b) noexcept;
    ArithUint256& operator-=(const ArithUint256& b) noexcept;
    ArithUint256& operator<<=(unsigned shift) noexcept;
    ArithUint256& operator>>=(unsigned shift) noexcept;
    ArithUint256& operator/=(const ArithUint256& divisor) noexcept;  // asserts divisor != 0
    ArithUint256 operator~() const noexcept;

    friend ArithUint256 operator+(ArithUint256 a, const ArithUint256& b) { return a += b; }
    friend ArithUint256 operator-(ArithUint256 a, const ArithUint256& b) { return a -= b; }
    friend ArithUint256 operator/(ArithUint256 a, const ArithUint256& b) { return a /= b; }
    friend ArithUint256 operator<<(ArithUint256 a, unsigned s) { return a <<= s; }
    friend ArithUint256 operator>>(ArithUint256 a, unsigned s) { return a >>= s; }

    friend bool operator==(const ArithUint256&, const ArithUint256&) = default;
    friend std::strong_ordering operator<=>(const ArithUint256& a, const ArithUint256& b) noexcept {
        for (int i = kLimbs - 1; i >= 0; --i) {
            if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
        }
        return std::strong_ordering::equal;
    }

    std::uint32_t limb(int i) const noexcept { return limbs_[i]; }
    void set_limb(int i, std::uint32_t v) noexcept { limbs_[i] = v; }

  private:
    std::uint32_t limbs_[kLimbs];
};

}  // namespace peerchain::core
