#include "store/leveldb_database.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/util/test_util.hpp"

extern char** environ;

namespace peerchain::store {
namespace {

using testutil::TempDir;

util::Bytes bytes(std::string_view s) {
    const auto span = util::as_bytes(s);
    return {span.begin(), span.end()};
}

util::Bytes bytes(util::ByteSpan s) { return {s.begin(), s.end()}; }

std::unique_ptr<Database> open_ok(const std::filesystem::path& dir, const Options& options = {}) {
    auto db = open_leveldb(dir, options);
    EXPECT_TRUE(db) << db.error().to_string();
    return db ? std::move(db).value() : nullptr;
}

std::optional<util::Bytes> get_ok(const Database& db, util::ByteSpan key) {
    auto value = db.get(key);
    EXPECT_TRUE(value) << value.error().to_string();
    return value ? *value : std::nullopt;
}

// Every key and value the iterator yields from its first position to its end.
std::vector<std::pair<util::Bytes, util::Bytes>> scan(Iterator& it) {
    std::vector<std::pair<util::Bytes, util::Bytes>> out;
    for (; it.valid(); it.next()) out.emplace_back(bytes(it.key()), bytes(it.value()));
    EXPECT_TRUE(it.status());
    return out;
}

TEST(LevelDbDatabase, PutGetEraseRoundTrip) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);

    EXPECT_EQ(get_ok(*db, util::as_bytes("missing")), std::nullopt);
    auto missing = db->exists(util::as_bytes("missing"));
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);

    ASSERT_TRUE(db->put(util::as_bytes("key"), util::as_bytes("value")));
    EXPECT_EQ(get_ok(*db, util::as_bytes("key")), bytes("value"));
    auto present = db->exists(util::as_bytes("key"));
    ASSERT_TRUE(present);
    EXPECT_TRUE(*present);

    ASSERT_TRUE(db->put(util::as_bytes("key"), util::as_bytes("other"), /*sync=*/true));
    EXPECT_EQ(get_ok(*db, util::as_bytes("key")), bytes("other"));

    ASSERT_TRUE(db->erase(util::as_bytes("key")));
    EXPECT_EQ(get_ok(*db, util::as_bytes("key")), std::nullopt);
    // Erasing an absent key is not an error.
    EXPECT_TRUE(db->erase(util::as_bytes("key")));
}

TEST(LevelDbDatabase, EmptyAndLargeValues) {
    TempDir tmp;
    const util::Bytes large = testutil::random_bytes((std::size_t{5} << 20) + 123);
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        WriteBatch batch;
        batch.put(util::as_bytes("empty"), {});
        batch.put(util::as_bytes("large"), large);
        ASSERT_TRUE(db->write(batch));
        // An empty value is present, not absent.
        EXPECT_EQ(get_ok(*db, util::as_bytes("empty")), util::Bytes{});
        EXPECT_EQ(get_ok(*db, util::as_bytes("large")), large);
    }
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_EQ(get_ok(*db, util::as_bytes("empty")), util::Bytes{});
    EXPECT_EQ(get_ok(*db, util::as_bytes("large")), large);
}

TEST(LevelDbDatabase, LaterOperationInABatchWins) {
    TempDir tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    WriteBatch batch;
    batch.put(util::as_bytes("a"), util::as_bytes("1"));
    batch.erase(util::as_bytes("a"));
    batch.erase(util::as_bytes("b"));
    batch.put(util::as_bytes("b"), util::as_bytes("2"));
    ASSERT_TRUE(db->write(batch));
    EXPECT_EQ(get_ok(*db, util::as_bytes("a")), std::nullopt);
    EXPECT_EQ(get_ok(*db, util::as_bytes("b")), bytes("2"));
}

// Readers on other threads see every batch whole or not at all: each batch sets all keys
// of the prefix to the same value, and an iterator reads one consistent snapshot.
TEST(LevelDbDatabase, BatchIsVisibleAllOrNothing) {
    TempDir tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    constexpr int kKeys = 8;
    constexpr std::uint32_t kBatches = 20000;
    const util::Bytes prefix{'p'};

    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::atomic<int> scans{0};
    auto reader = [&] {
        while (!done.load()) {
            auto it = db->new_iterator(prefix);
            it->seek_to_first();
            const auto rows = scan(*it);
            if (rows.empty()) continue;
            if (rows.size() != kKeys) ++torn;
            for (const auto& row : rows) {
                if (row.second != rows.front().second) ++torn;
            }
            ++scans;
        }
    };
    std::thread r1(reader);
    std::thread r2(reader);
    for (std::uint32_t i = 0; i < kBatches; ++i) {
        WriteBatch batch;
        const util::Bytes value{static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
        for (int k = 0; k < kKeys; ++k) {
            batch.put(util::Bytes{'p', static_cast<std::uint8_t>(k)}, value);
        }
        ASSERT_TRUE(db->write(batch));
    }
    done = true;
    r1.join();
    r2.join();
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GT(scans.load(), 0);
}

TEST(LevelDbDatabase, PrefixIterationYieldsExactlyThePrefixInOrder) {
    TempDir tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);

    // Keys of prefixes 0x01, 0x02, 0x03 and 0xff in random order, plus edge keys around
    // prefix 0x02.
    std::vector<util::Bytes> keys;
    for (std::uint8_t p : {0x01, 0x02, 0x03, 0xff}) {
        for (int i = 0; i < 50; ++i) {
            util::Bytes key{p};
            const auto tail = testutil::random_bytes(1 + testutil::rng()() % 8);
            key.insert(key.end(), tail.begin(), tail.end());
            keys.push_back(key);
        }
    }
    keys.push_back({0x02});
    keys.push_back({0x02, 0xff, 0xff});
    keys.push_back({0x01, 0xff, 0xff, 0xff});
    std::shuffle(keys.begin(), keys.end(), testutil::rng());
    WriteBatch batch;
    for (const auto& key : keys) batch.put(key, util::Bytes(key.rbegin(), key.rend()));
    ASSERT_TRUE(db->write(batch));

    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    auto with_prefix = [&](std::uint8_t p) {
        std::vector<util::Bytes> out;
        for (const auto& key : keys) {
            if (key.front() == p) out.push_back(key);
        }
        return out;
    };
    auto keys_of = [](const std::vector<std::pair<util::Bytes, util::Bytes>>& rows) {
        std::vector<util::Bytes> out;
        for (const auto& row : rows) {
            EXPECT_EQ(row.second, util::Bytes(row.first.rbegin(), row.first.rend()));
            out.push_back(row.first);
        }
        return out;
    };

    for (std::uint8_t p : {0x01, 0x02, 0x03, 0xff}) {
        auto it = db->new_iterator(util::Bytes{p});
        it->seek_to_first();
        EXPECT_EQ(keys_of(scan(*it)), with_prefix(p)) << "prefix " << int{p};
    }
    auto none = db->new_iterator(util::Bytes{0x04});
    none->seek_to_first();
    EXPECT_FALSE(none->valid());
    EXPECT_TRUE(none->status());

    auto all = db->new_iterator();
    all->seek_to_first();
    EXPECT_EQ(keys_of(scan(*all)), keys);

    // Seeks stay inside the prefix: before it lands on its first key, past it ends.
    const auto p2 = with_prefix(0x02);
    auto it = db->new_iterator(util::Bytes{0x02});
    it->seek(util::Bytes{0x01, 0xff});
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(bytes(it->key()), p2.front());
    it->seek(p2[p2.size() / 2]);
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(bytes(it->key()), p2[p2.size() / 2]);
    it->seek(util::Bytes{0x02, 0xff, 0xff, 0x00});
    EXPECT_FALSE(it->valid());
    it->seek(util::Bytes{0x03});
    EXPECT_FALSE(it->valid());
    EXPECT_TRUE(it->status());
}

TEST(LevelDbDatabase, IteratorReadsASnapshot) {
    TempDir tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->put(util::Bytes{'x', 1}, util::as_bytes("old")));
    auto it = db->new_iterator(util::Bytes{'x'});
    ASSERT_TRUE(db->put(util::Bytes{'x', 1}, util::as_bytes("new")));
    ASSERT_TRUE(db->put(util::Bytes{'x', 2}, util::as_bytes("new")));
    it->seek_to_first();
    const auto rows = scan(*it);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].second, bytes("old"));
}

TEST(LevelDbDatabase, ReopenKeepsData) {
    TempDir tmp;
    const auto dir = tmp.path() / "nested" / "db";
    {
        auto db = open_ok(dir);
        ASSERT_TRUE(db);
        for (int i = 0; i < 1000; ++i) {
            ASSERT_TRUE(db->put(util::as_bytes("k" + std::to_string(i)),
                                util::as_bytes("v" + std::to_string(i))));
        }
        ASSERT_TRUE(db->erase(util::as_bytes("k7")));
    }
    Options existing;
    existing.create_if_missing = false;
    auto db = open_ok(dir, existing);
    ASSERT_TRUE(db);
    for (int i = 0; i < 1000; ++i) {
        const auto value = get_ok(*db, util::as_bytes("k" + std::to_string(i)));
        if (i == 7) {
            EXPECT_EQ(value, std::nullopt);
        } else {
            EXPECT_EQ(value, bytes("v" + std::to_string(i)));
        }
    }
}

TEST(LevelDbDatabase, MissingDirectoryWithoutCreateFails) {
    TempDir tmp;
    Options existing;
    existing.create_if_missing = false;
    auto db = open_leveldb(tmp.path() / "absent", existing);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, util::Errc::kNotFound);
    // An existing but empty directory holds no database either.
    auto empty = open_leveldb(tmp.path(), existing);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, util::Errc::kNotFound);
}

TEST(LevelDbDatabase, RegularFileIsNotADataDirectory) {
    TempDir tmp;
    const auto file = tmp.path() / "file";
    std::ofstream(file) << "not a database";
    auto db = open_leveldb(file, {});
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, util::Errc::kIo);
    EXPECT_NE(db.error().message.find("is not a directory"), std::string::npos)
        << db.error().message;
    auto below = open_leveldb(file / "db", {});
    ASSERT_FALSE(below);
    EXPECT_EQ(below.error().code, util::Errc::kIo);
}

TEST(LevelDbDatabase, SecondOpenInThisProcessFails) {
    TempDir tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    auto second = open_leveldb(tmp.path(), {});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, util::Errc::kIo);
    EXPECT_NE(second.error().message.find("is in use by another peerchain process?"),
              std::string::npos)
        << second.error().message;
    db.reset();
    EXPECT_TRUE(open_ok(tmp.path()));
}

TEST(LevelDbDatabase, SizeStatsAndCompaction) {
    TempDir tmp;
    Options options;
    options.write_buffer_bytes = 256 << 10;
    auto db = open_ok(tmp.path(), options);
    ASSERT_TRUE(db);
    for (std::uint32_t i = 0; i < 400; ++i) {
        ASSERT_TRUE(db->put(
            util::Bytes{'s', static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)},
            testutil::random_bytes(10000)));
    }
    db->compact_range({}, {});
    EXPECT_GT(db->approximate_size(util::Bytes{'s'}, {}), 1u << 20);
    EXPECT_EQ(db->approximate_size(util::Bytes{'t'}, util::Bytes{'u'}), 0u);
    EXPECT_FALSE(db->stats().empty());
}

// --- Tests with a second process -------------------------------------------------------
//
// The child re-executes this test binary, so that it starts with a fresh LevelDB (a fork
// alone would inherit LevelDB's background thread state without the thread), and runs
// StoreChild.Run below, which reads its orders from the environment. It reports progress
// by writing a counter at the start of a small file, which outlives a kill -9.

constexpr std::string_view kModeEnv = "PEERCHAIN_STORE_CHILD_MODE";
constexpr std::string_view kDirEnv = "PEERCHAIN_STORE_CHILD_DIR";
constexpr std::string_view kProgressEnv = "PEERCHAIN_STORE_CHILD_PROGRESS";

pid_t spawn_child(std::string_view mode, const std::filesystem::path& dir,
                  const std::filesystem::path& progress) {
    std::ofstream(progress, std::ios::trunc).flush();
    return testutil::spawn_test_child(
        "StoreChild.DISABLED_Run",
        {std::string(kModeEnv) + "=" + std::string(mode), std::string(kDirEnv) + "=" + dir.string(),
         std::string(kProgressEnv) + "=" + progress.string()});
}

// The counter the child last reported, if any.
std::optional<std::uint64_t> read_progress(const std::filesystem::path& progress) {
    std::ifstream in(progress, std::ios::binary);
    std::uint64_t value = 0;
    if (!in.read(reinterpret_cast<char*>(&value), sizeof(value))) return std::nullopt;
    return value;
}

void write_progress(int fd, std::uint64_t value) {
    if (pwrite(fd, &value, sizeof(value), 0) != sizeof(value)) _exit(3);
}

bool wait_for_progress(pid_t pid, const std::filesystem::path& progress) {
    return testutil::wait_for_child_progress(
        pid, [&] { return read_progress(progress).has_value(); }, std::chrono::seconds(30));
}

using testutil::kill_child;

// The crash test's batches. Batch i puts one key under each of the prefixes 'a', 'b' and
// 'c', sets the marker key 'm' to i, and erases the keys of batch i - kLive. So after
// batch L the store holds exactly batches max(0, L - kLive + 1) ..= L and the marker.
constexpr std::uint32_t kLive = 5;
const util::Bytes kMarker{'m'};

util::Bytes crash_key(std::uint8_t prefix, std::uint32_t i) {
    return {prefix, static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i >> 16),
            static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
}

util::Bytes crash_value(std::uint8_t prefix, std::uint32_t i) {
    std::size_t size = 0;
    if (prefix == 'a') size = (i * 37) % 4096;
    // Every 16th batch is large, so that memtables fill and compactions run all the time.
    if (prefix == 'c') size = i % 16 == 0 ? std::size_t{256} << 10 : 100;
    util::Bytes value(size);
    for (std::size_t k = 0; k < size; ++k) value[k] = static_cast<std::uint8_t>(i + k);
    return value;
}

WriteBatch crash_batch(std::uint32_t i) {
    WriteBatch batch;
    for (std::uint8_t p : {'a', 'b', 'c'}) {
        batch.put(crash_key(p, i), crash_value(p, i));
        if (i >= kLive) batch.erase(crash_key(p, i - kLive));
    }
    batch.put(kMarker, crash_key('m', i));
    return batch;
}

std::optional<std::uint32_t> read_marker(const Database& db) {
    auto value = db.get(kMarker);
    if (!value || !*value) return std::nullopt;
    const util::Bytes& v = **value;
    if (v.size() != 5) return std::nullopt;
    return (std::uint32_t{v[1]} << 24) | (std::uint32_t{v[2]} << 16) | (std::uint32_t{v[3]} << 8) |
           std::uint32_t{v[4]};
}

[[noreturn]] void run_writer(const std::filesystem::path& dir, int progress_fd) {
    Options options;
    options.write_buffer_bytes = 256 << 10;
    auto db = open_leveldb(dir, options);
    if (!db) _exit(2);
    const auto last = read_marker(**db);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (std::uint32_t i = last ? *last + 1 : 0; std::chrono::steady_clock::now() < deadline; ++i) {
        if (!(*db)->write(crash_batch(i))) _exit(2);
        write_progress(progress_fd, i);
    }
    _exit(0);
}

[[noreturn]] void run_holder(const std::filesystem::path& dir, int progress_fd) {
    auto db = open_leveldb(dir, {});
    if (!db) _exit(2);
    write_progress(progress_fd, 1);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    _exit(0);
}

TEST(StoreChild, DISABLED_Run) {
    const char* mode = std::getenv(kModeEnv.data());
    const char* dir = std::getenv(kDirEnv.data());
    const char* progress = std::getenv(kProgressEnv.data());
    if (mode == nullptr || dir == nullptr || progress == nullptr) {
        GTEST_SKIP() << "runs only as the child of another test";
    }
    const int fd = open(progress, O_WRONLY);
    if (fd < 0) _exit(2);
    if (std::string_view(mode) == "writer") run_writer(dir, fd);
    if (std::string_view(mode) == "holder") run_holder(dir, fd);
    _exit(2);
}

TEST(LevelDbDatabase, SecondOpenFromAnotherProcessFails) {
    TempDir tmp;
    const auto dir = tmp.path() / "db";
    const pid_t pid = spawn_child("holder", dir, tmp.path() / "progress");
    ASSERT_GT(pid, 0);
    if (wait_for_progress(pid, tmp.path() / "progress")) {
        auto db = open_leveldb(dir, {});
        ASSERT_FALSE(db);
        EXPECT_EQ(db.error().code, util::Errc::kIo);
        EXPECT_NE(db.error().message.find("data directory " + dir.string() +
                                          " is in use by another peerchain process?"),
                  std::string::npos)
            << db.error().message;
    }
    kill_child(pid);
    // The kernel drops the lock with the process.
    EXPECT_TRUE(open_ok(dir));
}

// A writer killed with SIGKILL at a random moment, several times over the same store:
// every batch is wholly present or wholly absent, and every write that returned is kept.
TEST(LevelDbDatabase, KilledWriterLeavesWholeBatches) {
    TempDir tmp;
    const auto dir = tmp.path() / "db";
    const auto progress = tmp.path() / "progress";
    std::optional<std::uint32_t> previous;
    for (int round = 0; round < 5; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const pid_t pid = spawn_child("writer", dir, progress);
        ASSERT_GT(pid, 0);
        const bool started = wait_for_progress(pid, progress);
        if (started) {
            std::this_thread::sleep_for(std::chrono::microseconds(testutil::rng()() % 300000));
        }
        kill_child(pid);
        ASSERT_TRUE(started);
        const auto returned = read_progress(progress);
        ASSERT_TRUE(returned);

        auto db = open_ok(dir);
        ASSERT_TRUE(db);
        const auto last = read_marker(*db);
        ASSERT_TRUE(last);
        // The batch in flight at the kill may or may not have landed; none after it can.
        EXPECT_TRUE(*last == *returned || *last == *returned + 1)
            << "last " << *last << " returned " << *returned;
        if (previous) {
            EXPECT_GT(*last, *previous);
        }
        previous = last;

        std::vector<std::pair<util::Bytes, util::Bytes>> expected;
        for (std::uint8_t p : {'a', 'b', 'c'}) {
            for (std::uint32_t i = *last >= kLive ? *last - kLive + 1 : 0; i <= *last; ++i) {
                expected.emplace_back(crash_key(p, i), crash_value(p, i));
            }
        }
        expected.emplace_back(kMarker, crash_key('m', *last));
        auto it = db->new_iterator();
        it->seek_to_first();
        const auto rows = scan(*it);
        ASSERT_EQ(rows.size(), expected.size());
        for (std::size_t k = 0; k < rows.size(); ++k) {
            EXPECT_EQ(rows[k].first, expected[k].first) << "row " << k;
            EXPECT_TRUE(rows[k].second == expected[k].second) << "row " << k;
        }
    }
}

}  // namespace
}  // namespace peerchain::store
