#include "util/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace peerchain::util {
namespace {

class FileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "peerchain-file-XXXXXX");
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static std::string read(const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    static mode_t mode_of(const std::filesystem::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0);
        return st.st_mode & 0777;
    }

    std::filesystem::path dir_;
};

TEST_F(FileTest, WritesAPrivateFileAndReplacesIt) {
    const auto path = dir_ / "f";
    ASSERT_TRUE(write_file_atomic(path, as_bytes("first")));
    EXPECT_EQ(read(path), "first");
    EXPECT_EQ(mode_of(path), 0600u);
    ASSERT_TRUE(write_file_atomic(path, as_bytes("second")));
    EXPECT_EQ(read(path), "second");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "f.tmp"));
}

TEST_F(FileTest, ALeftoverTmpFileDoesNotLendItsMode) {
    const auto path = dir_ / "f";
    { std::ofstream(dir_ / "f.tmp") << "stale"; }
    std::filesystem::permissions(dir_ / "f.tmp", std::filesystem::perms::all);
    ASSERT_TRUE(write_file_atomic(path, as_bytes("fresh")));
    EXPECT_EQ(read(path), "fresh");
    EXPECT_EQ(mode_of(path), 0600u);
}

TEST_F(FileTest, CreateOnlyNeverReplaces) {
    const auto path = dir_ / "wallet";
    ASSERT_TRUE(write_file_atomic(path, as_bytes("keys"), FileWrite::kCreateOnly));
    auto again = write_file_atomic(path, as_bytes("other keys"), FileWrite::kCreateOnly);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(read(path), "keys");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "wallet.tmp"));
}

TEST_F(FileTest, AMissingDirectoryIsAnIoError) {
    auto r = write_file_atomic(dir_ / "no" / "such" / "f", as_bytes("x"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kIo);
}

TEST_F(FileTest, ReadsBackWhatWasWrittenUpToItsBound) {
    const auto path = dir_ / "f";
    const Bytes content{1, 2, 3, 4, 5};
    ASSERT_TRUE(write_file_atomic(path, content));
    auto whole = read_file(path, 5);
    ASSERT_TRUE(whole) << whole.error().to_string();
    EXPECT_EQ(*whole, content);
    auto over = read_file(path, 4);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, Errc::kCorruption);

    ASSERT_TRUE(write_file_atomic(path, {}));
    auto empty = read_file(path, 0);
    ASSERT_TRUE(empty) << empty.error().to_string();
    EXPECT_TRUE(empty->empty());
}

TEST_F(FileTest, ReadingWhatIsNotThereOrNotAFileFails) {
    auto missing = read_file(dir_ / "missing", 100);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kNotFound);

    auto directory = read_file(dir_, 100);
    ASSERT_FALSE(directory);
    EXPECT_EQ(directory.error().code, Errc::kCorruption);

    // A FIFO is refused at once rather than waited on.
    ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
    auto fifo = read_file(dir_ / "fifo", 100);
    ASSERT_FALSE(fifo);
    EXPECT_EQ(fifo.error().code, Errc::kCorruption);

    // A path through a file is neither missing nor corrupt: the system refuses it.
    ASSERT_TRUE(write_file_atomic(dir_ / "f", as_bytes("x")));
    auto through = read_file(dir_ / "f" / "g", 100);
    ASSERT_FALSE(through);
    EXPECT_EQ(through.error().code, Errc::kIo);
}

TEST_F(FileTest, ReadDoesNotFollowASymlink) {
    ASSERT_TRUE(write_file_atomic(dir_ / "target", as_bytes("secret")));
    std::filesystem::create_symlink(dir_ / "target", dir_ / "link");
    auto r = read_file(dir_ / "link", 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kCorruption);
}

}  // namespace
}  // namespace peerchain::util
