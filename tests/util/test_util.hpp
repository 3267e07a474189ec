// Helpers for unit tests: a seeded RNG that prints its seed, and temporary directories.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"

namespace peerchain::testutil {

// A deterministic RNG. The seed comes from PEERCHAIN_TEST_SEED when set, else from the
// clock, and is printed so that a failing run can be repeated.
std::mt19937_64& rng();
util::Bytes random_bytes(std::size_t n);
// The bytes of `text`, for keys, values and records written as readable text.
inline util::Bytes bytes_of_text(std::string_view text) {
    return util::Bytes(text.begin(), text.end());
}

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

// Starts this test binary again as a child process that runs only the (disabled) test
// `test_name` ("Suite.DISABLED_Name"), with `env` ("NAME=value") added to our environment.
// Crash tests use it: a child re-executed from scratch has its own LevelDB threads, which a
// plain fork would not. The child is killed if this process dies, so an interrupted test
// run never leaves a writer behind. Returns the child's pid (-1 if fork failed).
pid_t spawn_test_child(const std::string& test_name, const std::vector<std::string>& env);

// Polls `has_progress` until it holds (true) or the child exits or the time runs out (a
// test failure, and false).
bool wait_for_child_progress(pid_t pid, const std::function<bool()>& has_progress,
                             std::chrono::seconds timeout);

// SIGKILLs the child and reaps it; a test failure unless it died of that signal.
void kill_child(pid_t pid);

}  // namespace peerchain::testutil
