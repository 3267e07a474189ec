#include "store/flat_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/test_util.hpp"

namespace peerchain::store {
namespace {

using testutil::bytes_of_text;
using testutil::TempDir;

std::unique_ptr<FlatFiles> open_ok(const std::filesystem::path& dir,
                                   FlatFiles::Options options = {}) {
    auto files = FlatFiles::open(dir, options);
    EXPECT_TRUE(files) << files.error().to_string();
    return files ? std::move(files).value() : nullptr;
}

std::string read_text(const FlatFiles& files, FlatPos pos) {
    auto r = files.read(pos);
    if (!r) return "<" + std::string(util::errc_name(r.error().code)) + ">";
    return std::string(r->begin(), r->end());
}

TEST(FlatFiles, ReadsBackWhatWasAppendedAfterReopening) {
    TempDir dir;
    std::vector<FlatPos> positions;
    {
        auto files = open_ok(dir.path() / "blocks");
        for (int i = 0; i < 50; ++i) {
            auto pos = files->append(bytes_of_text("record " + std::to_string(i)));
            ASSERT_TRUE(pos) << pos.error().to_string();
            positions.push_back(*pos);
        }
        EXPECT_EQ(read_text(*files, positions[7]), "record 7");
        ASSERT_TRUE(files->sync());
    }
    auto files = open_ok(dir.path() / "blocks");
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(read_text(*files, positions[i]), "record " + std::to_string(i));
    // Appending goes on after the last record: nothing written before moves.
    auto next = files->append(bytes_of_text("after reopening"));
    ASSERT_TRUE(next);
    EXPECT_GT(next->offset, positions.back().offset);
    EXPECT_EQ(read_text(*files, *next), "after reopening");
    EXPECT_EQ(read_text(*files, positions.back()), "record 49");
}

TEST(FlatFiles, StartsANewFileWhenTheNextRecordWouldNotFit) {
    TempDir dir;
    FlatFiles::Options options;
    options.max_file_bytes = 100;
    auto files = open_ok(dir.path(), options);
    const std::string forty(40, 'x');
    std::vector<FlatPos> positions;
    for (int i = 0; i < 5; ++i) {
        auto pos = files->append(bytes_of_text(forty + std::to_string(i)));
        ASSERT_TRUE(pos);
        positions.push_back(*pos);
    }
    ASSERT_TRUE(files->flush());
    // 49 bytes framed: two to a file.
    EXPECT_EQ(positions[0].file, 0u);
    EXPECT_EQ(positions[1].file, 0u);
    EXPECT_EQ(positions[2].file, 1u);
    EXPECT_EQ(positions[2].offset, FlatFiles::kFrameSize);
    EXPECT_EQ(positions[4].file, 2u);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "blk00002.dat"));
    EXPECT_LE(std::filesystem::file_size(dir.path() / "blk00000.dat"), 100u);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(read_text(*files, positions[i]), forty + std::to_string(i));
    // A record larger than a file is refused; an empty one too.
    EXPECT_EQ(files->append(bytes_of_text(std::string(93, 'y'))).error().code,
              util::Errc::kInvalidArgument);
    EXPECT_EQ(files->append({}).error().code, util::Errc::kInvalidArgument);
    // Reopened, appending goes on in the last file.
    files.reset();
    files = open_ok(dir.path(), options);
    auto pos = files->append(bytes_of_text("z"));
    ASSERT_TRUE(pos);
    EXPECT_EQ(pos->file, 2u);
    EXPECT_EQ(read_text(*files, positions[3]), forty + "3");
}

TEST(FlatFiles, APositionThatNamesNoRecordReadsAsCorruption) {
    TempDir dir;
    auto files = open_ok(dir.path());
    auto a = files->append(bytes_of_text("first record"));
    auto b = files->append(bytes_of_text("second"));
    ASSERT_TRUE(a && b);
    // Inside a record, with a wrong size, past the end, in a file that is not there.
    EXPECT_EQ(read_text(*files, {a->file, a->offset + 2, a->size - 2}), "<corruption>");
    EXPECT_EQ(read_text(*files, {a->file, a->offset, a->size + 1}), "<corruption>");
    EXPECT_EQ(read_text(*files, {b->file, b->offset + 100, 6}), "<corruption>");
    EXPECT_EQ(read_text(*files, {b->file, 2, 6}), "<corruption>");
    EXPECT_EQ(read_text(*files, {7, a->offset, a->size}), "<not-found>");
    EXPECT_EQ(read_text(*files, FlatPos{}), "<corruption>");
}

TEST(FlatFiles, AFileCutShortByACrashLosesOnlyItsTail) {
    TempDir dir;
    FlatPos kept;
    FlatPos cut;
    {
        auto files = open_ok(dir.path());
        kept = *files->append(bytes_of_text("kept"));
        cut = *files->append(bytes_of_text("cut in the middle"));
        ASSERT_TRUE(files->flush());
    }
    // A power loss that kept part of the last record, then garbage a torn write left.
    std::filesystem::resize_file(dir.path() / "blk00000.dat", cut.offset + 3);
    {
        std::ofstream out(dir.path() / "blk00000.dat", std::ios::binary | std::ios::app);
        out << "\x01\x02";
    }
    auto files = open_ok(dir.path());
    EXPECT_EQ(read_text(*files, kept), "kept");
    EXPECT_EQ(read_text(*files, cut), "<corruption>");
    auto next = files->append(bytes_of_text("next"));
    ASSERT_TRUE(next);
    EXPECT_EQ(read_text(*files, *next), "next");
    EXPECT_EQ(read_text(*files, kept), "kept");
    EXPECT_TRUE(files->sync());
}

TEST(FlatFiles, RecordsAreWrittenByFlushAndReadFromMemoryBefore) {
    TempDir dir;
    FlatPos flushed;
    FlatPos lost;
    {
        auto files = open_ok(dir.path());
        flushed = *files->append(bytes_of_text("flushed"));
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "blk00000.dat"));
        ASSERT_TRUE(files->flush());
        EXPECT_EQ(std::filesystem::file_size(dir.path() / "blk00000.dat"),
                  FlatFiles::kFrameSize + 7);
        lost = *files->append(bytes_of_text("never flushed"));
        EXPECT_EQ(read_text(*files, lost), "never flushed");
        EXPECT_EQ(read_text(*files, flushed), "flushed");
        // Gone with the process, as after a kill: nothing stored could name it yet.
    }
    auto files = open_ok(dir.path());
    EXPECT_EQ(read_text(*files, flushed), "flushed");
    EXPECT_EQ(read_text(*files, lost), "<corruption>");
    auto next = files->append(bytes_of_text("next"));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->offset, lost.offset);
    // A large batch of records is written without a flush being asked for.
    for (int i = 0; i < 1000; ++i)
        ASSERT_TRUE(files->append(bytes_of_text(std::string(2000, 'b'))));
    EXPECT_GT(std::filesystem::file_size(dir.path() / "blk00000.dat"), FlatFiles::kBufferBytes);
    ASSERT_TRUE(files->sync());
}

TEST(FlatFiles, ReadsRunBesideAppends) {
    TempDir dir;
    FlatFiles::Options options;
    options.max_file_bytes = 4096;
    auto files = open_ok(dir.path(), options);
    std::vector<FlatPos> positions;
    for (int i = 0; i < 200; ++i)
        positions.push_back(*files->append(bytes_of_text(std::string(100, 'a' + i % 26))));
    std::thread reader([&] {
        for (int round = 0; round < 20; ++round) {
            for (int i = 0; i < 200; ++i) {
                EXPECT_EQ(read_text(*files, positions[i]), std::string(100, 'a' + i % 26));
            }
        }
    });
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(files->append(bytes_of_text(std::string(100, 'q'))));
    reader.join();
}

// The read syscalls this process has made (Linux: /proc/self/io).
std::uint64_t read_syscalls() {
    std::ifstream in("/proc/self/io");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
        if (key == "syscr:") return value;
    }
    ADD_FAILURE() << "no syscr in /proc/self/io";
    return 0;
}

std::string record_text(int i) { return "record " + std::to_string(i) + std::string(60, '.'); }

// Issue 10: records read in the order they were written (a peer syncing from us) take one
// system call for many; what a thread read ahead never hides a record appended after it,
// and reads elsewhere (an API lookup) still read just their record.
TEST(FlatFiles, ReadingInOrderReadsAheadAndSeesLaterAppends) {
    TempDir dir;
    auto files = open_ok(dir.path());
    std::vector<FlatPos> positions;
    for (int i = 0; i < 3000; ++i)
        positions.push_back(*files->append(bytes_of_text(record_text(i))));
    ASSERT_TRUE(files->flush());
    const std::uint64_t before = read_syscalls();
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(read_text(*files, positions[i]), record_text(i));
    // About 80 bytes a frame: 3,000 records are under a megabyte, a few reads ahead.
    EXPECT_LT(read_syscalls() - before, 20u);

    // More records, flushed after the last read ahead ended at the file's old end.
    for (int i = 3000; i < 3100; ++i)
        positions.push_back(*files->append(bytes_of_text(record_text(i))));
    ASSERT_TRUE(files->flush());
    for (int i = 2990; i < 3100; ++i) ASSERT_EQ(read_text(*files, positions[i]), record_text(i));
    for (int i : {7, 2999, 15, 3050, 0}) EXPECT_EQ(read_text(*files, positions[i]), record_text(i));
    EXPECT_EQ(read_text(*files, {positions[5].file, positions[5].offset + 1, positions[5].size}),
              "<corruption>");
    // A record larger than half the read-ahead is read on its own, between small ones.
    const std::string large(FlatFiles::kReadAheadBytes, 'L');
    const FlatPos big = *files->append(bytes_of_text(large));
    const FlatPos after = *files->append(bytes_of_text(record_text(9999)));
    ASSERT_TRUE(files->flush());
    EXPECT_EQ(read_text(*files, positions.back()), record_text(3099));
    EXPECT_EQ(read_text(*files, big), large);
    EXPECT_EQ(read_text(*files, after), record_text(9999));
    EXPECT_EQ(read_text(*files, {big.file, big.offset, big.size - 1}), "<corruption>");
}

// Each FlatFiles has its own records: what one read ahead is never served for another,
// though the positions are the same.
TEST(FlatFiles, TwoFilesSetsInOneThreadDoNotShareWhatWasReadAhead) {
    TempDir one;
    TempDir two;
    auto a = open_ok(one.path());
    auto b = open_ok(two.path());
    std::vector<FlatPos> pa;
    std::vector<FlatPos> pb;
    for (int i = 0; i < 100; ++i) {
        pa.push_back(*a->append(bytes_of_text("a" + record_text(i))));
        pb.push_back(*b->append(bytes_of_text("b" + record_text(i))));
    }
    ASSERT_TRUE(a->flush());
    ASSERT_TRUE(b->flush());
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(pa[i], pb[i]);
        EXPECT_EQ(read_text(*a, pa[i]), "a" + record_text(i));
        EXPECT_EQ(read_text(*b, pb[i]), "b" + record_text(i));
    }
}

}  // namespace
}  // namespace peerchain::store
