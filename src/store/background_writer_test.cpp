#include "store/background_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "store/leveldb_database.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::store {
namespace {

using testutil::bytes_of_text;
using testutil::TempDir;

std::unique_ptr<Database> open_ok(const std::filesystem::path& dir) {
    auto db = open_leveldb(dir, {});
    EXPECT_TRUE(db) << db.error().to_string();
    return db ? std::move(db).value() : nullptr;
}

std::string get_text(const Database& db, const std::string& key) {
    auto value = db.get(bytes_of_text(key));
    if (!value || !*value) return "<none>";
    return std::string((*value)->begin(), (*value)->end());
}

WriteBatch one_put(const std::string& key, const std::string& value) {
    WriteBatch b;
    b.put(bytes_of_text(key), bytes_of_text(value));
    return b;
}

TEST(BackgroundWriter, WritesInQueueOrderAndWaitWrittenSeesThemAll) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);
    BackgroundWriter writer(*db, std::size_t{1} << 20, "test-writer");
    // The same key many times, and a key of its own per batch: the last put must win and
    // every batch must be there once wait_written returns.
    for (int i = 0; i < 500; ++i) {
        WriteBatch b = one_put("same", std::to_string(i));
        b.put(bytes_of_text("k" + std::to_string(i)), bytes_of_text(std::to_string(i)));
        ASSERT_TRUE(writer.enqueue(std::move(b)));
    }
    ASSERT_TRUE(writer.wait_written());
    EXPECT_EQ(writer.queued_bytes(), 0u);
    EXPECT_EQ(get_text(*db, "same"), "499");
    for (int i = 0; i < 500; ++i)
        EXPECT_EQ(get_text(*db, "k" + std::to_string(i)), std::to_string(i));
}

TEST(BackgroundWriter, ABatchOverTheBoundStillGoesAndTheDestructorWritesWhatIsQueued) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);
    {
        BackgroundWriter writer(*db, 16, "test-writer");
        ASSERT_TRUE(writer.enqueue(one_put("big", std::string(4096, 'x'))));
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(writer.enqueue(one_put("n", std::to_string(i))));
        }
        ASSERT_TRUE(writer.enqueue(WriteBatch{}));  // empty: nothing to do, no failure
    }
    EXPECT_EQ(get_text(*db, "big"), std::string(4096, 'x'));
    EXPECT_EQ(get_text(*db, "n"), "49");
}

// A real write failure: the file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the
// log append fail with EFBIG. Runs in a child process, since the limit is per process;
// the exit code says which expectation failed.
[[noreturn]] void write_past_the_size_limit(const std::filesystem::path& dir) {
    auto opened = open_leveldb(dir, {});
    if (!opened) std::_Exit(10);
    auto db = std::move(opened).value();
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 << 10, 64 << 10};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(11);
    {
        BackgroundWriter writer(*db, std::size_t{1} << 30, "test-writer");
        if (!writer.enqueue(one_put("huge", std::string(1 << 20, 'h')))) std::_Exit(12);
        (void)writer.enqueue(one_put("after", "a"));  // refused or dropped, either way
        if (writer.wait_written()) std::_Exit(13);
        if (writer.enqueue(one_put("later", "l"))) std::_Exit(14);
    }
    if (get_text(*db, "after") != "<none>" || get_text(*db, "later") != "<none>") std::_Exit(15);
    std::_Exit(0);
}

TEST(BackgroundWriterDeathTest, AFailedWriteIsReportedAndNothingAfterItLands) {
    TempDir tmp;
    const auto dir = tmp.path() / "db";
    ASSERT_TRUE(open_ok(dir));
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(write_past_the_size_limit(dir), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace peerchain::store
