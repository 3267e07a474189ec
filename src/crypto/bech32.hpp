// Bech32 (BIP173) and bech32m (BIP350) strings: a human-readable part, the separator '1',
// then 5-bit groups written in a 32-character alphabet, the last six of them a BCH checksum
// over the whole. The two variants differ only in the constant the checksum is xored with.
// This file is generic; core/address.hpp gives the groups a meaning.
//
//   string    = hrp "1" data checksum           ; at most 90 characters, one case
//   hrp       = 1*83 (%x21-7E)                   ; compared and checksummed in lower case
//   data      = *charset                         ; one character per 5-bit group
//   checksum  = 6 charset
//   charset   = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"   ; value 0..31 in this order
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace peerchain::crypto {

enum class Bech32Encoding {
    kBech32,   // BIP173, checksum constant 1
    kBech32m,  // BIP350, checksum constant 0x2bc830a3
};

inline constexpr std::size_t kBech32MaxLength = 90;
inline constexpr std::size_t kBech32ChecksumLength = 6;

struct Bech32Decoded {
    std::string hrp;                 // lower case
    std::vector<std::uint8_t> data;  // 5-bit groups, checksum removed
};

// The lower-case string for `hrp` and the 5-bit groups `data`. Assumes (NODE_ASSERT) that
// hrp is 1..83 characters in %x21-7E, every group is below 32, and the result fits in 90
// characters; upper-case letters in hrp are written in lower case.
std::string bech32_encode(Bech32Encoding encoding, std::string_view hrp,
                          std::span<const std::uint8_t> data);

// Splits and checks `str` against the rules of BIP173 and the checksum of `encoding`.
// kDecode, with the reason, when the string is longer than 90 characters, has a character
// outside %x21-7E, mixes upper and lower case, has no separator, an empty or over-long hrp,
// fewer than six characters after the separator, a character outside the charset after it,
// or a checksum that is wrong for `encoding` (the message says when it is right for the
// other variant). Never reads outside `str`.
util::Result<Bech32Decoded> bech32_decode(std::string_view str, Bech32Encoding encoding);

// Bytes to 5-bit groups, most significant bit first, the last group padded with zero bits.
std::vector<std::uint8_t> bytes_to_groups(std::span<const std::uint8_t> bytes);

// 5-bit groups back to bytes. kDecode when a group is 32 or more, or the leftover bits at
// the end are more than 4 or not all zero (BIP173 padding rule).
util::Result<std::vector<std::uint8_t>> groups_to_bytes(std::span<const std::uint8_t> groups);

}  // namespace peerchain::crypto
