// Helpers for unit tests: a seeded RNG that prints its seed, and temporary directories.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>

#include "util/bytes.hpp"

namespace peerchain::testutil {

// A deterministic RNG. The seed comes from PEERCHAIN_TEST_SEED when set, else from the
// clock, and is printed so that a failing run can be repeated.
std::mt19937_64& rng();
util::Bytes random_bytes(std::size_t n);

// A fresh directory under the system temp dir, removed with everything in it on
// destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace peerchain::testutil
