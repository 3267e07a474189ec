// Crash consistency: a child process runs a node's chain (blocks with spends, forks and
// reorgs, frequent flushes) and is killed with SIGKILL at a random moment, several times
// over the same data directory. After each kill the parent reopens the chain and checks
// that it lost nothing the child was told was stored, and that its coins set is exactly
// the one a from-scratch replay of its chain produces.
//
// The child re-executes this test binary (as store/leveldb_database_test.cpp does), so it
// starts with a fresh LevelDB, and runs ChainCrashChild.DISABLED_Run with its orders in the
// environment. After every block it writes the tip it was told about (hash, height) at the
// start of a small file, which outlives the kill.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "chain/chain_test_util.hpp"

extern char** environ;

namespace peerchain::chain {
namespace {

constexpr std::string_view kDirEnv = "PEERCHAIN_CHAIN_CHILD_DIR";
constexpr std::string_view kProgressEnv = "PEERCHAIN_CHAIN_CHILD_PROGRESS";
constexpr std::string_view kSeedEnv = "PEERCHAIN_CHAIN_CHILD_SEED";
constexpr std::size_t kProgressSize = 32 + 4;

pid_t spawn_child(const std::filesystem::path& dir, const std::filesystem::path& progress,
                  std::uint64_t seed) {
    std::ofstream(progress, std::ios::trunc).flush();
    return testutil::spawn_test_child("ChainCrashChild.DISABLED_Run",
                                      {std::string(kDirEnv) + "=" + dir.string(),
                                       std::string(kProgressEnv) + "=" + progress.string(),
                                       std::string(kSeedEnv) + "=" + std::to_string(seed)});
}

struct Progress {
    core::Uint256 tip;
    std::uint32_t height = 0;
};

std::optional<Progress> read_progress(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<std::uint8_t, kProgressSize> bytes{};
    if (!in.read(reinterpret_cast<char*>(bytes.data()), bytes.size())) return std::nullopt;
    Progress p;
    std::memcpy(p.tip.data(), bytes.data(), 32);
    std::memcpy(&p.height, bytes.data() + 32, 4);
    return p;
}

// --- The child ---------------------------------------------------------------------------

class ChildNode {
  public:
    ChildNode(Chainstate& chain, std::uint64_t seed) : chain_(chain), rng_(seed) {}

    // One step: usually a block on the tip (spending a mature coinbase and the previous
    // block's payment when it can), sometimes a fork of 2-4 blocks that overtakes it.
    std::vector<core::BlockPtr> next() {
        const BlockIndex* tip = chain_.tip();
        std::vector<core::BlockPtr> out;
        if (rng_() % 8 == 0 && tip->height > 4) {
            const std::uint32_t depth = 1 + static_cast<std::uint32_t>(rng_() % 3);
            test::Parent at = test::parent_of(tip->ancestor(tip->height - depth));
            for (std::uint32_t i = 0; i <= depth; ++i) {
                test::BlockOptions o;
                o.miner = pub_;
                o.data = "fork " + std::to_string(counter_++);
                out.push_back(test::share(test::build_block(at, o)));
                at = test::parent_of(*out.back(), at.height + 1);
            }
            return out;
        }
        test::BlockOptions o;
        o.miner = pub_;
        o.data = "block " + std::to_string(counter_++);
        const std::uint32_t height = tip->height + 1;
        std::vector<std::pair<core::OutPoint, core::TxOut>> inputs;
        const core::Params& p = test::regtest();
        if (height > p.coinbase_maturity) {
            auto mature = chain_.read_block(chain_.at_height(height - p.coinbase_maturity));
            if (mature) {
                const core::OutPoint cb = test::coinbase_outpoint(**mature);
                if (auto c = chain_.coin(cb)) inputs.emplace_back(cb, c->out);
            }
        }
        if (auto last = chain_.read_block(tip); last && (*last)->txs.size() > 1) {
            const core::OutPoint paid{(*last)->txs[1].txid(), 0};
            if (auto c = chain_.coin(paid)) inputs.emplace_back(paid, c->out);
        }
        if (!inputs.empty()) {
            core::Amount total = 0;
            for (const auto& in : inputs) total += in.second.amount;
            // Subsidies halve every 150 regtest blocks: small inputs pay no fee.
            const core::Amount fee = total >= 4000 ? 1000 : 0;
            const core::Amount half = (total - fee) / 2;
            o.txs.push_back(test::signed_spend(
                inputs, {core::TxOut{half, pub_}, core::TxOut{total - fee - half, pub_}}, key_));
            o.coinbase_extra = fee;
        }
        out.push_back(test::share(test::build_block(test::parent_of(tip), o)));
        return out;
    }

  private:
    Chainstate& chain_;
    std::mt19937_64 rng_;
    crypto::SecretKey key_ = test::test_key(3);
    core::XOnlyKey pub_ = key_.public_key();
    std::uint64_t counter_ = 0;
};

[[noreturn]] void run_child(const std::filesystem::path& dir, int progress_fd, std::uint64_t seed) {
    spdlog::set_level(spdlog::level::warn);
    auto db = store::open_leveldb(dir, {});
    if (!db) _exit(2);
    ChainstateOptions options;
    options.flush_every_blocks = 1 + static_cast<std::uint32_t>(seed % 9);
    // Half of the runs also flush (and drop the cache) for size.
    options.coins_cache_bytes = seed % 2 == 0 ? std::size_t{16} << 10 : std::size_t{64} << 20;
    options.script_threads = 2;
    options.blocks_dir = dir / "blocks";
    const auto& p = test::regtest();
    util::ManualClock clock(p.genesis.header.time + 100'000'000);
    auto chain = Chainstate::open(**db, p, clock, nullptr, options);
    if (!chain) _exit(3);
    ChildNode node(**chain, seed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& block : node.next()) {
            if (!(*chain)->process_block(block).is_ok()) _exit(4);
            const BlockIndex* tip = (*chain)->tip();
            std::array<std::uint8_t, kProgressSize> bytes{};
            std::memcpy(bytes.data(), tip->hash.data(), 32);
            std::memcpy(bytes.data() + 32, &tip->height, 4);
            if (pwrite(progress_fd, bytes.data(), bytes.size(), 0) !=
                static_cast<ssize_t>(bytes.size())) {
                _exit(5);
            }
        }
    }
    _exit(0);
}

TEST(ChainCrashChild, DISABLED_Run) {
    const char* dir = std::getenv(kDirEnv.data());
    const char* progress = std::getenv(kProgressEnv.data());
    const char* seed = std::getenv(kSeedEnv.data());
    if (dir == nullptr || progress == nullptr || seed == nullptr) {
        GTEST_SKIP() << "runs only as the child of another test";
    }
    const int fd = open(progress, O_WRONLY);
    if (fd < 0) _exit(2);
    run_child(dir, fd, std::strtoull(seed, nullptr, 10));
}

// --- The parent --------------------------------------------------------------------------

bool wait_for_progress(pid_t pid, const std::filesystem::path& progress) {
    return testutil::wait_for_child_progress(
        pid, [&] { return read_progress(progress).has_value(); }, std::chrono::seconds(60));
}

using testutil::kill_child;

TEST(ChainCrash, KilledNodeReopensAtAConsistentTip) {
    testutil::TempDir tmp;
    const auto dir = tmp.path() / "db";
    const auto progress = tmp.path() / "progress";
    const auto& p = test::regtest();
    util::ManualClock clock(p.genesis.header.time + 100'000'000);
    spdlog::set_level(spdlog::level::warn);
    std::uint32_t spends_seen = 0;
    for (int round = 0; round < 4; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::uint64_t seed = testutil::rng()();
        const pid_t pid = spawn_child(dir, progress, seed);
        ASSERT_GT(pid, 0);
        const bool started = wait_for_progress(pid, progress);
        if (started) {
            std::this_thread::sleep_for(
                std::chrono::microseconds(100000 + testutil::rng()() % 400000));
        }
        kill_child(pid);
        ASSERT_TRUE(started);
        const auto reported = read_progress(progress);
        ASSERT_TRUE(reported);

        auto db = store::open_leveldb(dir, {});
        ASSERT_TRUE(db) << db.error().to_string();
        ChainstateOptions reopen_options;
        reopen_options.blocks_dir = dir / "blocks";
        auto opened = Chainstate::open(**db, p, clock, nullptr, reopen_options);
        ASSERT_TRUE(opened) << opened.error().to_string();
        Chainstate& chain = **opened;
        // Every block the child was told was stored is there, and the tip has at least
        // the work of the last tip it reported.
        const BlockIndex* last = chain.lookup(reported->tip);
        ASSERT_NE(last, nullptr);
        EXPECT_EQ(last->height, reported->height);
        EXPECT_NE(chain.status(last) & kHaveData, 0u);
        const BlockIndex* tip = chain.tip();
        EXPECT_GE(tip->chain_work, last->chain_work);
        EXPECT_EQ(tip, chain.best_header()->ancestor(tip->height) == tip ? tip : nullptr);

        // Replay the chain to that tip into a fresh store: the coins must match exactly.
        testutil::TempDir replay_dir;
        auto replay_db = store::open_leveldb(replay_dir.path(), {});
        ASSERT_TRUE(replay_db);
        ChainstateOptions replay_options;
        replay_options.blocks_dir = replay_dir.path() / "blocks";
        auto replay = Chainstate::open(**replay_db, p, clock, nullptr, replay_options);
        ASSERT_TRUE(replay);
        for (std::uint32_t height = 1; height <= tip->height; ++height) {
            auto block = chain.read_block(chain.at_height(height));
            ASSERT_TRUE(block) << block.error().to_string();
            spends_seen += static_cast<std::uint32_t>((*block)->txs.size() - 1);
            const auto r = (*replay)->process_block(*block);
            ASSERT_TRUE(r.is_ok()) << "height " << height << ": " << r.to_string();
        }
        ASSERT_EQ((*replay)->tip()->hash, tip->hash);
        ASSERT_TRUE(chain.flush());
        ASSERT_TRUE((*replay)->flush());
        const auto coins = test::stored_coins(**db);
        const auto expected = test::stored_coins(**replay_db);
        EXPECT_EQ(coins.size(), expected.size());
        EXPECT_TRUE(coins == expected);
        std::printf("[ crash ] round %d: killed at height %u, reopened at %u, %zu coins\n", round,
                    reported->height, tip->height, coins.size());
    }
    std::printf("[ crash ] %u spending transactions replayed\n", spends_seen);
}

}  // namespace
}  // namespace peerchain::chain
