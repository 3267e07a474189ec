// Uint256: an opaque 32-byte value (hashes, txids, block ids) stored in the byte order the
// hash function produced it. As in Bitcoin, its hex text is the bytes reversed, so that a
// block id that meets a proof-of-work target shows its leading zeros.
//
// Thread-safety: a plain value type.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "util/bytes.hpp"

namespace peerchain::core {

class Uint256 {
  public:
    static constexpr std::size_t kSize = 32;

    constexpr Uint256() noexcept : bytes_{} {}
    explicit Uint256(const std::array<std::uint8_t, kSize>& bytes) noexcept : bytes_(bytes) {}

    // From exactly 32 bytes in storage order. Asserts on another length.
    static Uint256 from_bytes(util::ByteSpan bytes) noexcept;
    // From 64 hex digits in display (reversed) order; kDecode on anything else.
    static util::Result<Uint256> from_hex(std::string_view hex);

    std::string to_hex() const;  // display order

    bool is_zero() const noexcept;
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::array<std::uint8_t, kSize>& bytes() const noexcept { return bytes_; }
    util::ByteSpan span() const noexcept { return {bytes_.data(), kSize}; }

    // A cheap hash for unordered containers: the values are already uniform.
    std::uint64_t cheap_hash() const noexcept {
        std::uint64_t h;
        std::memcpy(&h, bytes_.data(), sizeof(h));
        return h;
    }

    friend bool operator==(const Uint256&, const Uint256&) = default;
    friend auto operator<=>(const Uint256& a, const Uint256& b) noexcept {
        return std::memcmp(a.bytes_.data(), b.bytes_.data(), kSize) <=> 0;
    }

  private:
    std::array<std::uint8_t, kSize> bytes_;
};

struct Uint256Hasher {
    std::size_t operator()(const Uint256& v) const noexcept {
        return static_cast<std::size_t>(v.cheap_hash());
    }
};

}  // namespace peerchain::core
