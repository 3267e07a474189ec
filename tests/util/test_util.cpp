#include "tests/util/test_util.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

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

pid_t spawn_test_child(const std::string& test_name, const std::vector<std::string>& env) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<std::string> args = {"/proc/self/exe", "--gtest_filter=" + test_name,
                                     "--gtest_also_run_disabled_tests", "--gtest_brief=1"};
    auto pointers = [](std::vector<std::string>& strings) {
        std::vector<char*> out;
        for (auto& s : strings) out.push_back(s.data());
        out.push_back(nullptr);
        return out;
    };
    auto envp = pointers(env_strings);
    auto argv = pointers(args);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
        // Die with the parent; and if it died before this line, go at once.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

bool wait_for_child_progress(pid_t pid, const std::function<bool()>& has_progress,
                             std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (has_progress()) return true;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            ADD_FAILURE() << "child exited early with status " << status;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "child made no progress";
    return false;
}

void kill_child(pid_t pid) {
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

}  // namespace peerchain::testutil
