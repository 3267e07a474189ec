// HeaderScanner: the miner's hashing kernel. It searches the nonces of one 80-byte block
// header for a SHA256d at or below a target.
//
// Header layout:
//   version u32 | prev_hash 32 | merkle_root 32 | time u32 (offset 68) | bits u32 |
//   nonce u32 (offset 76), all little-endian.
// A hash meets a target when, read as a 256-bit little-endian integer (byte 31 most
// significant, as Bitcoin reads it), it is <= the target, also given as 32 little-endian
// bytes.
//
// The SHA-256 state after the header's first 64 bytes (the midstate) is computed once; per
// nonce only the second block of the first hash and the 32-byte second hash remain, with
// their padding precomputed, and a hash is compared on its most significant 32 bits first.
// The SHA-NI path hashes three nonces side by side and is used when sha256_active() is
// kShaNi.
//
// Thread-safety: a HeaderScanner is immutable after construction except for set_time(), and
// its const methods may run from several threads at once; the usual arrangement is one
// scanner per miner thread, each over its own nonce range or its own header.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "crypto/sha256.hpp"

namespace peerchain::crypto {

class HeaderScanner {
  public:
    static constexpr std::size_t kHeaderSize = 80;
    static constexpr std::size_t kTimeOffset = 68;
    static constexpr std::size_t kNonceOffset = 76;

    // Uses sha256_active(). The nonce bytes of `header` are ignored.
    explicit HeaderScanner(std::span<const std::uint8_t, kHeaderSize> header) noexcept;
    // Uses `impl`, which must be supported (NODE_ASSERT): for tests and benchmarks.
    HeaderScanner(std::span<const std::uint8_t, kHeaderSize> header, Sha256Impl impl) noexcept;

    // Tries nonces first, first+1, ..., count of them in order (wrapping past 2^32-1), and
    // returns the first whose SHA256d(header) <= target_le, or nullopt when none is. When
    // hashes_done is not null it receives the number of nonces tried, including the one
    // returned: count when nothing was found.
    std::optional<std::uint32_t> scan(std::uint32_t first, std::uint32_t count,
                                      const std::array<std::uint8_t, 32>& target_le,
                                      std::uint64_t* hashes_done) const noexcept;

    // SHA256d of the header with this nonce: the block id once a nonce is found.
    Digest hash(std::uint32_t nonce) const noexcept;

    // Changes the time field (offset 68) without recomputing the midstate: it lies in the
    // header's second block. Not to be called while another thread scans.
    void set_time(std::uint32_t time) noexcept;

    Sha256Impl implementation() const noexcept { return impl_; }

    // True when `hash`, as a 256-bit little-endian integer, is <= `target_le`.
    static bool meets_target(const Digest& hash,
                             const std::array<std::uint8_t, 32>& target_le) noexcept;

  private:
    Sha256Impl impl_;
    std::uint32_t midstate_[8];  // SHA-256 state after header bytes 0..63
    std::uint8_t tail_[16];      // header bytes 64..79; the nonce slot is rewritten per hash
};

}  // namespace peerchain::crypto
