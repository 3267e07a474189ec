// SHA-256, double SHA-256 and BIP340-style tagged hashes.
//
// Sha256 is a streaming hasher; the one-shot functions cover the common cases. The block
// transform is chosen once, on first use: SHA-NI where the CPU has it (x86-64 with the SHA
// extensions and SSE4.1), else portable C++. Setting the environment variable
// PEERCHAIN_SHA256=portable before the first hash forces the portable transform, so that
// tests and benchmarks can exercise the fallback on any machine.
//
// Thread-safety: a Sha256 object is not shared between threads; the free functions are
// safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/sha256_constants.hpp"
#include "util/bytes.hpp"

namespace peerchain::crypto {

using Digest = std::array<std::uint8_t, 32>;

// The block transforms this build knows.
enum class Sha256Impl {
    kPortable,  // plain C++, runs anywhere
    kShaNi,     // x86 SHA extensions; only where sha256_supported(kShaNi)
};

// True when `impl` can run on this CPU in this build. kPortable always can. Ignores
// PEERCHAIN_SHA256.
bool sha256_supported(Sha256Impl impl) noexcept;

// The transform chosen at first use for Sha256() and the free functions: the fastest
// supported one, unless PEERCHAIN_SHA256=portable.
Sha256Impl sha256_active() noexcept;

// "sha-ni" or "portable", for logs and benchmarks.
const char* sha256_impl_name(Sha256Impl impl) noexcept;

// The name of the transform in use ("sha-ni" or "portable"), for logs and benchmarks.
const char* sha256_implementation() noexcept;

namespace detail {
using Sha256Transform = void (*)(std::uint32_t state[8], const std::uint8_t* data,
                                 std::size_t blocks) noexcept;
}  // namespace detail

class Sha256 {
  public:
    // Uses sha256_active().
    Sha256() noexcept;
    // Uses `impl`, which must be supported (NODE_ASSERT): for tests and benchmarks.
    explicit Sha256(Sha256Impl impl) noexcept;

    Sha256& write(util::ByteSpan data) noexcept;
    // Writes the digest and leaves the hasher reset.
    Digest finalize() noexcept;
    void reset() noexcept;

  private:
    detail::Sha256Transform transform_;
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

namespace detail {

// (kSha256Init and kSha256Round are in crypto/sha256_constants.hpp.)

// Applies `blocks` 64-byte blocks to state. Exposed for the miner and the benchmarks.
void sha256_transform(std::uint32_t state[8], const std::uint8_t* data,
                      std::size_t blocks) noexcept;
void sha256_transform_portable(std::uint32_t state[8], const std::uint8_t* data,
                               std::size_t blocks) noexcept;

// The transform of `impl`, or nullptr when this CPU or build lacks it. Lets tests and
// benchmarks call each transform directly.
Sha256Transform sha256_transform_for(Sha256Impl impl) noexcept;

}  // namespace detail

}  // namespace peerchain::crypto
