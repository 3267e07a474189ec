#include "crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace peerchain::crypto {

void random_bytes(std::span<std::uint8_t> out) {
    while (!out.empty()) {
        // RAND_bytes takes an int length.
        const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
        if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
            throw std::runtime_error("no randomness from the OS");
        }
        out = out.subspan(n);
    }
}

}  // namespace peerchain::crypto
