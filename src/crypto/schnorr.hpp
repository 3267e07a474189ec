// BIP340 Schnorr keys and signatures over secp256k1, through libsecp256k1's extrakeys and
// schnorrsig modules.
//
// Thread-safety: every function may be called from any thread (the library context is
// immutable after start-up). SecretKey is a value type; copies are wiped on destruction.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/sha256.hpp"
#include "util/result.hpp"

namespace peerchain::crypto {

using XOnlyPublicKey = std::array<std::uint8_t, 32>;
using SchnorrSignature = std::array<std::uint8_t, 64>;

// True when `sig` is a valid BIP340 signature of the 32-byte `msg` by `pubkey`. False for
// anything else, including a pubkey that is not the x coordinate of a curve point.
bool schnorr_verify(const XOnlyPublicKey& pubkey, const Digest& msg,
                    const SchnorrSignature& sig) noexcept;

// True when `pubkey` is the x coordinate of a point on the curve (BIP340 lift_x succeeds).
bool is_valid_xonly_key(const XOnlyPublicKey& pubkey) noexcept;

class SecretKey {
  public:
    // From 32 bytes; kInvalidArgument when zero or not below the curve order.
    static util::Result<SecretKey> from_bytes(const std::array<std::uint8_t, 32>& bytes);
    // A fresh key from the operating system's random source.
    static SecretKey generate();

    SecretKey(const SecretKey&) = default;
    SecretKey& operator=(const SecretKey&) = default;
    ~SecretKey();

    const std::array<std::uint8_t, 32>& bytes() const noexcept { return bytes_; }
    XOnlyPublicKey public_key() const;
    // BIP340 signature with fresh auxiliary randomness.
    SchnorrSignature sign(const Digest& msg) const;
    // BIP340 signature with the given auxiliary randomness (for known-answer tests).
    SchnorrSignature sign(const Digest& msg, const std::array<std::uint8_t, 32>& aux) const;

  private:
    explicit SecretKey(const std::array<std::uint8_t, 32>& bytes) : bytes_(bytes) {}
    std::array<std::uint8_t, 32> bytes_;
};

}  // namespace peerchain::crypto
