// SHA-256, double SHA-256 and BIP340-style tagged hashes.
//
// Sha256 is a streaming hasher; the one-shot functions cover the common cases. The block
// transform is chosen once at start-up: SHA-NI where the CPU has it, else portable C++.
//
// Thread-safety: a Sha256 object is not shared between threads; the free functions are
// safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "util/bytes.hpp"

namespace peerchain::crypto {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256() noexcept { reset(); }

    Sha256& write(util::ByteSpan data) noexcept;
    // Writes the digest and leaves the hasher reset.
    Digest finalize() noexcept;
    void reset() noexcept;

private:
    std::uint32_t state_[8];
    std::uint8_t buffer_[64];
    std::uint64_t length_;  // bytes written so far
};

Digest sha256(util::ByteSpan data) noexcept;
// SHA256(SHA256(data)): block ids, txids.
Digest sha256d(util::ByteSpan data) noexcept;

// A hasher preloaded with SHA256(tag) || SHA256(tag), as in BIP340, so that hashes made
// for one purpose can never be mistaken for hashes made for another.
Sha256 tagged_hasher(std::string_view tag) noexcept;
Digest tagged_hash(std::string_view tag, util::ByteSpan data) noexcept;

// The name of the transform in use ("sha-ni" or "portable"), for logs and benchmarks.
const char* sha256_implementation() noexcept;

namespace detail {
// Applies `blocks` 64-byte blocks to state. Exposed for the miner and the benchmarks.
void sha256_transform(std::uint32_t state[8], const std::uint8_t* data,
                      std::size_t blocks) noexcept;
void sha256_transform_portable(std::uint32_t state[8], const std::uint8_t* data,
                               std::size_t blocks) noexcept;
}  // namespace detail

}  // namespace peerchain::crypto
