// Internal to crypto/: the SHA-NI kernels, built only on x86-64 (PEERCHAIN_HAVE_SHANI) in
// sha256_shani.cpp, the one file compiled with -msha -msse4.1 -mssse3. Call them only when
// sha256_supported(Sha256Impl::kShaNi) is true: anywhere else they fault.
//
// This header stays free of inline functions and templates on purpose: an inline function
// instantiated in the SHA-NI file could be compiled with those instructions and then be
// picked by the linker for the whole binary.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace peerchain::crypto::detail {

void sha256_transform_shani(std::uint32_t state[8], const std::uint8_t* data,
                            std::size_t blocks) noexcept;

// What a nonce scan needs from an 80-byte header, computed once per header.
struct HeaderMidstate {
    std::uint32_t state[8];  // SHA-256 state after the header's first 64 bytes
    std::uint32_t tail[3];   // message words 0..2 of the second block: header bytes 64..75
};

// Double-SHA256s the header for nonces first, first+1, ... (mod 2^32), at most `count` of
// them, and stops at the first whose hash, read as a little-endian 256-bit integer, has its
// most significant 32-bit word <= top_target. Returns true when it stopped at such a
// candidate, which is then nonce first + *tried - 1; false when none of the `count` nonces
// qualified. *tried is the number of nonces hashed in order up to and including the
// candidate. The caller confirms a candidate with a full 256-bit comparison.
bool sha256d_scan_shani(const HeaderMidstate& midstate, std::uint32_t first, std::uint32_t count,
                        std::uint32_t top_target, std::uint32_t* tried) noexcept;

}  // namespace peerchain::crypto::detail
