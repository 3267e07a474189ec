#include "core/uint256.hpp"

#include <algorithm>

namespace peerchain::core {

Uint256 Uint256::from_bytes(util::ByteSpan bytes) noexcept {
    NODE_ASSERT(bytes.size() == kSize);
    Uint256 out;
    std::memcpy(out.bytes_.data(), bytes.data(), kSize);
    return out;
}

util::Result<Uint256> Uint256::from_hex(std::string_view hex) {
    if (hex.size() != 2 * kSize) {
        return util::Unexpected(util::Errc::kDecode, "a 256-bit hash is 64 hex digits");
    }
    auto bytes = util::from_hex(hex);
    if (!bytes) return util::Unexpected(bytes.error());
    std::reverse(bytes->begin(), bytes->end());
    return from_bytes(*bytes);
}

std::string Uint256::to_hex() const {
    std::array<std::uint8_t, kSize> reversed;
    std::reverse_copy(bytes_.begin(), bytes_.end(), reversed.begin());
    return util::to_hex(reversed);
}

bool Uint256::is_zero() const noexcept {
    return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace peerchain::core
