#include "tests/util/test_util.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace peerchain::testutil {

std::mt19937_64& rng() {
    static std::mt19937_64 engine = [] {
        std::uint64_t seed;
        if (const char* env = std::getenv("PEERCHAIN_TEST_SEED")) {
            seed = std::strtoull(env, nullptr, 10);
        } else {
            seed = static_cast<std::uint64_t>(
                std::chrono::steady_clock::now().time_since_epoch().count());
        }
        std::fprintf(stderr, "PEERCHAIN_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
        return std::mt19937_64(seed);
    }();
    return engine;
}

util::Bytes random_bytes(std::size_t n) {
    util::Bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng()());
    return out;
}

TempDir::TempDir() {
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0;; ++attempt) {
        auto candidate = base / ("peerchain-test-" + std::to_string(rng()()));
        std::error_code ec;
        if (std::filesystem::create_directory(candidate, ec)) {
            path_ = candidate;
            return;
        }
        NODE_ASSERT(attempt < 100);
    }
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace peerchain::testutil
