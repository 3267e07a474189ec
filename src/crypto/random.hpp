// Random bytes from the operating system through OpenSSL's generator: keys, and secrets
// such as the address book's bucketing key that peers must not be able to guess.
//
// Thread-safety: safe from any thread.
#pragma once

#include <cstdint>
#include <span>

namespace peerchain::crypto {

// Fills `out` with random bytes. Throws std::runtime_error when the system has none to
// give (only at start-up in practice, before OpenSSL's generator is seeded).
void random_bytes(std::span<std::uint8_t> out);

}  // namespace peerchain::crypto
