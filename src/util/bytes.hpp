// Byte containers and hex text, the vocabulary every layer above speaks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace peerchain::util {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

inline ByteSpan as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A u32 in little-endian order (the byte order of PROTOCOL.md and docs/STORAGE.md): written
// to, or read from, 4 bytes at `at`.
inline void put_u32(std::uint8_t* at, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t get_u32(const std::uint8_t* at) noexcept {
    return std::uint32_t{at[0]} | (std::uint32_t{at[1]} << 8) | (std::uint32_t{at[2]} << 16) |
           (std::uint32_t{at[3]} << 24);
}

// Lower-case hex of the bytes, in order.
std::string to_hex(ByteSpan bytes);

// Parses hex (either case, even length, no prefix). Fails with kDecode on any other text.
Result<Bytes> from_hex(std::string_view hex);

}  // namespace peerchain::util
