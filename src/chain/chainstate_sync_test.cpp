// Initial sync: while the best header is far ahead of the tip, the Chainstate writes the
// records of many blocks in one batch (docs/STORAGE.md, section 3). These tests run it on a
// real LevelDB and check what the batching must keep: a kill between two batches (a copy of
// the store taken while the chain runs) reopens at the last written block with the coins
// of a replay, a reorg that disconnects blocks whose undo data still waits works, and a
// block whose body still waits is served from memory. A child process syncing a chain is
// also killed with SIGKILL (as in chainstate_crash_test.cpp) and must reopen at most one
// batch behind, with the coins of a replay.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"
#include "chain/storage_format.hpp"

namespace peerchain::chain {
namespace {

using core::BlockPtr;
using test::ChainHarness;

const crypto::SecretKey& owner_key() {
    static const crypto::SecretKey key = test::test_key(7);
    return key;
}

// `base` and `n` blocks on it paying owner_key(), with spends that carry undo data
// (test::extend_with_spends), the same in a child process.
std::vector<BlockPtr> extend(std::vector<BlockPtr> base, int n, const std::string& tag) {
    return test::extend_with_spends(std::move(base), n, tag, owner_key());
}

std::vector<core::BlockHeader> headers_of(const std::vector<BlockPtr>& blocks) {
    std::vector<core::BlockHeader> out;
    for (const auto& b : blocks) out.push_back(b->header);
    return out;
}

// Batches of 16 blocks, never written for their age (the tests count blocks, not time),
// and a coins flush every 50 blocks.
// `db_dir`'s blocks go beside its LevelDB files, as the test harness keeps them (which
// sets blocks_dir itself).
ChainstateOptions sync_options(const std::filesystem::path& db_dir = {}) {
    ChainstateOptions o;
    if (!db_dir.empty()) o.blocks_dir = db_dir / "blocks";
    o.sync_lag_blocks = 4;
    o.sync_batch_blocks = 16;
    o.sync_batch_interval = std::chrono::hours(1);
    o.flush_every_blocks = 50;
    return o;
}

// What a kill -9 would leave of `h`'s store now, once its writer has written what it was
// given (a kill may also catch that batch unwritten: KilledWhileSyncing... covers that),
// opened again: a copy in `image`.
struct Reopened {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<Chainstate> chain;  // null when it could not be opened
};
Reopened reopen_copy(ChainHarness& h, const testutil::TempDir& image) {
    h.chain().wait_for_index_entries();  // every batch given to the writer is in the store
    test::copy_store(h.dir() / "db", image.path() / "db");
    Reopened out;
    auto db = store::open_leveldb(image.path() / "db", {});
    if (!db) {
        ADD_FAILURE() << db.error().to_string();
        return out;
    }
    out.db = std::move(*db);
    auto opened = Chainstate::open(*out.db, test::regtest(), h.clock(), nullptr,
                                   sync_options(image.path() / "db"));
    if (!opened) {
        ADD_FAILURE() << opened.error().to_string();
        return out;
    }
    out.chain = std::move(*opened);
    return out;
}

// The stored coins of a chain that connected `blocks` one write at a time, then flushed.
std::vector<std::pair<util::Bytes, util::Bytes>> replayed_coins(
    const std::vector<BlockPtr>& blocks) {
    ChainHarness replay;
    replay.feed(blocks);
    EXPECT_TRUE(replay.chain().flush());
    return test::stored_coins(replay.db());
}

TEST(ChainstateSync, KillBetweenBatchesReopensAtTheLastWrittenBlock) {
    const auto chain = extend({}, 130, "a");
    ChainHarness h(test::regtest(), sync_options());
    ASSERT_TRUE(h.chain().process_headers(headers_of(chain)).is_ok());
    h.feed({chain.begin(), chain.begin() + 120});
    ASSERT_EQ(h.chain().tip()->height, 120u);

    // Writes so far: after blocks 16, 32 and 48, with the coins flush at 50, then after 66,
    // 82 and 98, with the flush at 100, then after 116. Blocks 117..120 wait in memory;
    // their bodies are served from there.
    const BlockIndex* waiting = h.chain().lookup(chain[119]->hash());
    ASSERT_NE(waiting, nullptr);
    EXPECT_NE(h.chain().status(waiting) & kHaveData, 0u);
    auto bytes = h.chain().read_block_bytes(waiting);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(*bytes, chain[119]->encode());
    auto block = h.chain().read_block(waiting);
    ASSERT_TRUE(block) << block.error().to_string();
    EXPECT_EQ((*block)->hash(), chain[119]->hash());

    // What a kill -9 leaves now.
    testutil::TempDir image;
    {
        Reopened reopened = reopen_copy(h, image);
        ASSERT_TRUE(reopened.chain);
        Chainstate& c = *reopened.chain;
        EXPECT_EQ(c.tip()->hash, chain[115]->hash());
        // The index records never claim a body or undo data the store lacks. The headers
        // of the blocks that waited, and of those never fetched, were not written either:
        // during a sync a header's record is written with its block (or when the sync
        // ends, or the chain is flushed), and a header lost in a kill is fetched anew.
        for (std::size_t i = 116; i < chain.size(); ++i) {
            EXPECT_EQ(c.lookup(chain[i]->hash()), nullptr) << "height " << i + 1;
        }
        ASSERT_TRUE(c.flush());
        EXPECT_EQ(test::stored_coins(*reopened.db),
                  replayed_coins({chain.begin(), chain.begin() + 116}));
        // Fetched again, the lost blocks connect as any others.
        for (std::size_t i = 116; i < chain.size(); ++i) {
            ASSERT_TRUE(c.process_block(chain[i]).is_ok()) << "height " << i + 1;
        }
        EXPECT_EQ(c.tip()->hash, chain.back()->hash());
    }

    // The running chain goes on, and writes everything once the sync is over.
    h.feed({chain.begin() + 120, chain.end()});
    EXPECT_EQ(h.chain().tip()->hash, chain.back()->hash());
    testutil::TempDir image2;
    Reopened reopened = reopen_copy(h, image2);
    ASSERT_TRUE(reopened.chain);
    EXPECT_EQ(reopened.chain->tip()->hash, chain.back()->hash());
    ASSERT_TRUE(reopened.chain->flush());
    EXPECT_EQ(test::stored_coins(*reopened.db), replayed_coins(chain));
}

// Issue 10: during a sync, header records are written with their blocks, not first as
// headers; a flush (the node's shutdown) writes those still waiting, and a header that
// arrives once the sync is over is written at once.
TEST(ChainstateSync, HeaderRecordsWaitForTheirBlocksOrAFlush) {
    const auto chain = extend({}, 60, "h");
    ChainHarness h(test::regtest(), sync_options());
    ASSERT_TRUE(h.chain().process_headers(headers_of({chain.begin(), chain.end() - 1})).is_ok());
    h.feed({chain.begin(), chain.begin() + 20});  // a sync batch written after block 16
    // Headers it has already, as a second peer sends them, change nothing.
    ASSERT_TRUE(h.chain().process_headers(headers_of({chain.begin(), chain.begin() + 40})).is_ok());
    {
        testutil::TempDir image;
        Reopened reopened = reopen_copy(h, image);
        ASSERT_TRUE(reopened.chain);
        EXPECT_EQ(reopened.chain->tip()->hash, chain[15]->hash());
        EXPECT_EQ(reopened.chain->lookup(chain[16]->hash()), nullptr);
        EXPECT_EQ(reopened.chain->lookup(chain[58]->hash()), nullptr);
    }
    ASSERT_TRUE(h.chain().flush());
    {
        testutil::TempDir image;
        Reopened reopened = reopen_copy(h, image);
        ASSERT_TRUE(reopened.chain);
        Chainstate& c = *reopened.chain;
        EXPECT_EQ(c.tip()->hash, chain[19]->hash());
        for (std::size_t i = 20; i < 59; ++i) {
            const BlockIndex* b = c.lookup(chain[i]->hash());
            ASSERT_NE(b, nullptr) << "height " << i + 1;
            EXPECT_EQ(c.status(b) & (kHaveData | kHaveUndo), 0u) << "height " << i + 1;
        }
        EXPECT_EQ(c.best_header()->hash, chain[58]->hash());
    }
    // The sync ends; the last header comes on its own and is written at once.
    h.feed({chain.begin() + 20, chain.end() - 1});
    ASSERT_TRUE(h.chain().process_headers({chain.back()->header}).is_ok());
    testutil::TempDir image;
    Reopened reopened = reopen_copy(h, image);
    ASSERT_TRUE(reopened.chain);
    EXPECT_EQ(reopened.chain->tip()->hash, chain[58]->hash());
    EXPECT_NE(reopened.chain->lookup(chain.back()->hash()), nullptr);
}

// The node's tick writes what waits, whatever the batch's size and age.
TEST(ChainstateSync, WriteHeldWritesWhatWaits) {
    const auto chain = extend({}, 40, "w");
    ChainHarness h(test::regtest(), sync_options());
    ASSERT_TRUE(h.chain().process_headers(headers_of(chain)).is_ok());
    h.feed({chain.begin(), chain.begin() + 20});  // written after 16; 17..20 wait
    ASSERT_TRUE(h.chain().write_held());
    testutil::TempDir image;
    Reopened reopened = reopen_copy(h, image);
    ASSERT_TRUE(reopened.chain);
    EXPECT_EQ(reopened.chain->tip()->hash, chain[19]->hash());
}

// Branch A is connected with its undo data still waiting; branch B, stored meanwhile with
// its bodies waiting, overtakes it: the reorg disconnects A (reading its undo data) and
// connects B (reading its bodies), and the coins end as a replay of B's chain.
TEST(ChainstateSync, ReorgWhileRecordsWaitKeepsTheCoinsRight) {
    const auto stem = extend({}, 105, "s");
    const auto a = extend(stem, 10, "a");  // heights 106..115, each spends
    const auto b = extend(stem, 20, "b");  // heights 106..125
    ChainstateOptions options = sync_options();
    options.sync_batch_blocks = 1000;  // nothing is written for the block count
    options.flush_every_blocks = 1000;
    ChainHarness h(test::regtest(), options);
    test::Recorder& rec = h.recorder();
    rec.label_all(a, "A");
    rec.label_all(b, "B");
    ASSERT_TRUE(h.chain().process_headers(headers_of(b)).is_ok());
    h.feed(a);
    EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
    rec.take();

    // B106..B115 tie A's work at most: stored, not connected. B116 overtakes.
    h.feed({b.begin() + 105, b.begin() + 115});
    EXPECT_EQ(h.chain().tip()->hash, a.back()->hash());
    EXPECT_TRUE(rec.take().empty());
    h.feed({b.begin() + 115, b.begin() + 116});
    EXPECT_EQ(h.chain().tip()->hash, b[115]->hash());
    std::vector<std::string> expected;
    for (int i = 115; i >= 106; --i) expected.push_back("-A" + std::to_string(i));
    for (const auto& e : test::connects("B", 106, 116)) expected.push_back(e);
    expected.push_back("tip B116 from A115 fork B105");  // the stem is labelled B too
    EXPECT_EQ(rec.take(), expected);

    // B118 arrives before its parent: stored, its body waiting; B117 then connects both,
    // B118 read from memory.
    h.feed({b.begin() + 117, b.begin() + 118});
    EXPECT_EQ(h.chain().tip()->hash, b[115]->hash());
    h.feed({b.begin() + 116, b.begin() + 117});
    EXPECT_EQ(h.chain().tip()->hash, b[117]->hash());
    h.feed({b.begin() + 118, b.end()});
    EXPECT_EQ(h.chain().tip()->hash, b.back()->hash());
    ASSERT_TRUE(h.chain().flush());
    EXPECT_EQ(test::stored_coins(h.db()), replayed_coins(b));
    h.reopen();
    EXPECT_EQ(h.chain().tip()->hash, b.back()->hash());
}

// Issue 10: during a sync a coins flush goes to the writer, and the cache forgets what it
// holds as it is handed over. A cache too small for any coin is flushed and dropped at
// every block, so every spend reads its coin from the store, behind a flush the writer may
// still be writing: each read must wait for it. Every block connects, and every coin read
// mid-sync (spent ones included) agrees with a replay.
TEST(ChainstateSync, CoinsFlushedBehindTheChainReadBackWhole) {
    const auto chain = extend({}, 120, "f");
    ChainstateOptions options = sync_options();
    options.coins_cache_bytes = 1;
    ChainHarness h(test::regtest(), options);
    ASSERT_TRUE(h.chain().process_headers(headers_of(chain)).is_ok());
    const std::vector<BlockPtr> part(chain.begin(), chain.begin() + 110);  // still syncing
    for (const BlockPtr& block : part) {
        h.feed({block});
        // Read at once: the flush that wrote this coinbase may not have landed yet.
        const core::OutPoint coinbase{block->txs[0].txid(), 0};
        ASSERT_TRUE(h.chain().coin(coinbase).has_value()) << block->hash().to_hex();
    }
    ASSERT_EQ(h.chain().tip()->hash, part.back()->hash());

    std::set<util::Bytes> replayed;
    for (const auto& [key, value] : replayed_coins(part)) replayed.insert(key);
    std::size_t spent = 0;
    for (std::size_t i = 0; i < part.size(); ++i) {
        for (const core::Transaction& tx : part[i]->txs) {
            const core::Uint256 txid = tx.txid();
            for (std::uint32_t k = 0; k < tx.outputs.size(); ++k) {
                const core::OutPoint outpoint{txid, k};
                const auto key = storage::coin_key(outpoint);
                const bool unspent = replayed.count(util::Bytes(key.begin(), key.end())) > 0;
                spent += unspent ? 0 : 1;
                EXPECT_EQ(h.chain().coin(outpoint).has_value(), unspent)
                    << "height " << i + 1 << " output " << k;
            }
        }
    }
    EXPECT_GT(spent, 0u);  // the chain spends: the test reads spent coins too

    h.feed({chain.begin() + 110, chain.end()});
    ASSERT_EQ(h.chain().tip()->hash, chain.back()->hash());
    ASSERT_TRUE(h.chain().flush());
    EXPECT_EQ(test::stored_coins(h.db()), replayed_coins(chain));
}

// --- Killed for real ----------------------------------------------------------------------

constexpr std::string_view kDirEnv = "PEERCHAIN_SYNC_CHILD_DIR";
constexpr std::string_view kProgressEnv = "PEERCHAIN_SYNC_CHILD_PROGRESS";
constexpr int kKillChainLength = 3000;

// Syncs the chain both processes build, from wherever the store stands, writing the height
// of each tip it is told about at the start of the progress file, the one it opened at
// first (a store that already holds the whole chain leaves nothing else to report); then
// waits to be killed.
TEST(ChainSyncChild, DISABLED_Run) {
    const char* dir = std::getenv(kDirEnv.data());
    const char* progress = std::getenv(kProgressEnv.data());
    if (dir == nullptr || progress == nullptr) {
        GTEST_SKIP() << "runs only as the child of another test";
    }
    const int fd = open(progress, O_WRONLY);
    if (fd < 0) _exit(2);
    spdlog::set_level(spdlog::level::warn);
    const auto chain = extend({}, kKillChainLength, "k");
    auto db = store::open_leveldb(dir, {});
    if (!db) _exit(3);
    util::ManualClock clock(test::regtest().genesis.header.time + 100'000'000);
    auto opened = Chainstate::open(**db, test::regtest(), clock, nullptr, sync_options(dir));
    if (!opened) _exit(4);
    Chainstate& c = **opened;
    auto report = [fd](std::uint32_t height) {
        if (pwrite(fd, &height, sizeof height, 0) != static_cast<ssize_t>(sizeof height)) _exit(7);
    };
    report(c.tip()->height);
    if (!c.process_headers(headers_of(chain)).is_ok()) _exit(5);
    for (std::size_t i = c.tip()->height; i < chain.size(); ++i) {
        if (!c.process_block(chain[i]).is_ok()) _exit(6);
        report(c.tip()->height);
    }
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

// Each round kills the child at a random height of the part of the chain it has left, so
// that every round, the last included, kills it mid-sync. (Issue 10: the rounds used to
// kill it at a random time, 20 to 170 ms after its first block; a child that synced the
// rest of the chain within that time left a store holding all of it, and the next round's
// child had no block to report, so the test waited out its timeout. Under a parallel ctest
// run, which slows the parent's polling more than the child, that happened often.)
TEST(ChainstateSync, KilledWhileSyncingReopensAtMostTwoBatchesBehind) {
    testutil::TempDir tmp;
    const auto dir = tmp.path() / "db";
    const auto progress = tmp.path() / "progress";
    const auto chain = extend({}, kKillChainLength, "k");
    util::ManualClock clock(test::regtest().genesis.header.time + 100'000'000);
    spdlog::set_level(spdlog::level::warn);
    auto reported = [&]() -> std::optional<std::uint32_t> {
        std::ifstream in(progress, std::ios::binary);
        std::uint32_t height = 0;
        if (!in.read(reinterpret_cast<char*>(&height), sizeof height)) return std::nullopt;
        return height;
    };
    std::uint32_t from = 0;  // the height the store reopened at
    for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        // In the first half of what is left, so that the next rounds have blocks to sync.
        const std::uint32_t left = kKillChainLength - from;
        const std::uint32_t target =
            from + 1 + static_cast<std::uint32_t>(testutil::rng()() % std::max(1u, left / 2));
        std::ofstream(progress, std::ios::trunc).flush();
        const pid_t pid = testutil::spawn_test_child(
            "ChainSyncChild.DISABLED_Run", {std::string(kDirEnv) + "=" + dir.string(),
                                            std::string(kProgressEnv) + "=" + progress.string()});
        ASSERT_GT(pid, 0);
        const bool reached = testutil::wait_for_child_progress(
            pid,
            [&] {
                const auto h = reported();
                return h && *h >= std::min<std::uint32_t>(target, kKillChainLength);
            },
            std::chrono::seconds(60));
        testutil::kill_child(pid);
        ASSERT_TRUE(reached);
        const std::uint32_t killed_at = *reported();

        auto db = store::open_leveldb(dir, {});
        ASSERT_TRUE(db) << db.error().to_string();
        auto opened = Chainstate::open(**db, test::regtest(), clock, nullptr, sync_options(dir));
        ASSERT_TRUE(opened) << opened.error().to_string();
        Chainstate& c = **opened;
        const BlockIndex* tip = c.tip();
        // A kill before the first write of round 0 leaves genesis, which is allowed too.
        if (tip->height > 0) {
            EXPECT_EQ(tip->hash, chain[tip->height - 1]->hash());
        }
        // The blocks connected since the last batch was written are lost, no more: the
        // batch being gathered and, at most, the one the writer had not yet written (a
        // batch waits for the writer to finish the one before). The child may have
        // connected one more than it reported.
        EXPECT_LE(killed_at, tip->height + 2 * sync_options().sync_batch_blocks);
        EXPECT_LE(tip->height, killed_at + 1);
        // The headers past it were not written (their records go with their blocks).
        if (tip->height < chain.size()) {
            EXPECT_EQ(c.lookup(chain[tip->height]->hash()), nullptr);
        }
        ASSERT_TRUE(c.flush());
        EXPECT_EQ(test::stored_coins(**db),
                  replayed_coins({chain.begin(), chain.begin() + tip->height}));
        std::printf("[ sync crash ] round %d: killed at height %u (past %u), reopened at %u\n",
                    round, killed_at, target, tip->height);
        from = tip->height;
    }
}

// Issue 10: a child started on a store that already holds the whole chain has no block to
// connect; it must still report where it stands, or its parent waits for nothing.
TEST(ChainstateSync, Issue10AChildOnAWholeChainReportsItsTip) {
    const auto chain = extend({}, kKillChainLength, "k");
    ChainHarness h(test::regtest(), sync_options());
    h.feed(chain);
    const auto dir = h.dir() / "db";
    h.close();
    testutil::TempDir tmp;
    const auto progress = tmp.path() / "progress";
    std::ofstream(progress, std::ios::trunc).flush();
    const pid_t pid = testutil::spawn_test_child(
        "ChainSyncChild.DISABLED_Run", {std::string(kDirEnv) + "=" + dir.string(),
                                        std::string(kProgressEnv) + "=" + progress.string()});
    ASSERT_GT(pid, 0);
    std::uint32_t height = 0;
    const bool reported = testutil::wait_for_child_progress(
        pid,
        [&] {
            std::ifstream in(progress, std::ios::binary);
            return static_cast<bool>(in.read(reinterpret_cast<char*>(&height), sizeof height));
        },
        std::chrono::seconds(60));
    testutil::kill_child(pid);
    ASSERT_TRUE(reported);
    EXPECT_EQ(height, static_cast<std::uint32_t>(kKillChainLength));
}

}  // namespace
}  // namespace peerchain::chain
