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

// Lower-case hex of the bytes, in order.
std::string to_hex(ByteSpan bytes);

// Parses hex (either case, even length, no prefix). Fails with kDecode on any other text.
Result<Bytes> from_hex(std::string_view hex);

}  // namespace peerchain::util
