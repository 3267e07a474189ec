#include "store/background_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
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

// A `before` that holds the writer inside its batch until release(): on_enter (as set when
// before() is called) runs first
// (on the writer thread), then entered() returns. Destroyed unreleased (a failed
// assertion), it lets the writer go, so that the writer's destructor can join it.
class Gate {
  public:
    std::function<void()> on_enter;

    ~Gate() {
        if (!state_->released) release();
    }
    std::function<util::Result<void>()> before() {
        return [state = state_, enter = on_enter]() -> util::Result<void> {
            if (enter && !state->released) enter();
            state->entered.set_value();
            state->gate.wait();
            return {};
        };
    }
    void entered() { state_->entered.get_future().wait(); }
    void release() {
        state_->released = true;
        state_->open.set_value();
    }

  private:
    struct State {
        std::promise<void> entered;
        std::promise<void> open;
        std::shared_future<void> gate = open.get_future().share();
        std::atomic<bool> released{false};
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Issue 10: a synced write runs its `before` on the writer thread first, after every
// batch queued ahead of it is in the store; a ticket names a batch, and waiting for it
// does not wait for the batches behind it.
TEST(BackgroundWriter, ASyncedWriteRunsItsBeforeFirstAndTicketsNameBatches) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);
    BackgroundWriter writer(*db, std::size_t{1} << 20, "test-writer");
    std::string seen_before;
    Gate gate;
    gate.on_enter = [&] { seen_before = get_text(*db, "first") + "," + get_text(*db, "synced"); };
    auto first = writer.enqueue(one_put("first", "1"));
    ASSERT_TRUE(first);
    BackgroundWriter::WriteOptions options;
    options.sync = true;
    options.before = gate.before();
    auto synced = writer.enqueue(one_put("synced", "2"), std::move(options));
    ASSERT_TRUE(synced);
    EXPECT_EQ(*synced, *first + 1);
    gate.entered();
    // `before` saw the first batch written and its own not yet.
    EXPECT_EQ(seen_before, "1,<none>");
    ASSERT_TRUE(writer.wait_written(*first));  // does not wait for the held one
    EXPECT_EQ(get_text(*db, "synced"), "<none>");
    gate.release();
    ASSERT_TRUE(writer.wait_written(*synced));
    EXPECT_EQ(get_text(*db, "synced"), "2");
    auto empty = writer.enqueue(WriteBatch{});
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, *synced);  // nothing queued: the last batch's ticket
    EXPECT_TRUE(writer.wait_written(0));
}

// A batch queued with wait_idle goes in only once the writer has written the one before.
TEST(BackgroundWriter, WaitIdleQueuesOnlyBehindAnIdleWriter) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);
    BackgroundWriter writer(*db, std::size_t{1} << 20, "test-writer");
    Gate gate;
    BackgroundWriter::WriteOptions held;
    held.before = gate.before();
    ASSERT_TRUE(writer.enqueue(one_put("held", "1"), std::move(held)));
    gate.entered();  // the writer is in the held batch
    std::atomic<bool> queued{false};
    std::thread second([&] {
        BackgroundWriter::WriteOptions options;
        options.wait_idle = true;
        EXPECT_TRUE(writer.enqueue(one_put("second", "2"), options));
        queued = true;
    });
    // Not a timing bound: the enqueue must still be waiting however long this takes.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(queued.load());
    gate.release();
    second.join();
    EXPECT_TRUE(queued.load());
    ASSERT_TRUE(writer.wait_written());
    EXPECT_EQ(get_text(*db, "second"), "2");
}

// A `before` that fails stops the writer as a failed write does: its batch and every
// batch after it never land, and the failure is reported from then on.
TEST(BackgroundWriter, AFailedBeforeStopsTheWriter) {
    TempDir tmp;
    auto db = open_ok(tmp.path() / "db");
    ASSERT_TRUE(db);
    BackgroundWriter writer(*db, std::size_t{1} << 20, "test-writer");
    BackgroundWriter::WriteOptions failing;
    failing.sync = true;
    failing.before = []() -> util::Result<void> {
        return util::Unexpected(util::Errc::kIo, "blocks: no space left");
    };
    ASSERT_TRUE(writer.enqueue(one_put("ok", "1")));
    ASSERT_TRUE(writer.enqueue(one_put("failed", "2"), std::move(failing)));
    auto waited = writer.wait_written();
    ASSERT_FALSE(waited);
    EXPECT_NE(waited.error().to_string().find("no space left"), std::string::npos);
    EXPECT_FALSE(writer.enqueue(one_put("after", "3")));
    EXPECT_EQ(get_text(*db, "ok"), "1");
    EXPECT_EQ(get_text(*db, "failed"), "<none>");
    EXPECT_EQ(get_text(*db, "after"), "<none>");
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
