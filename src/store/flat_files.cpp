#include "store/flat_files.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace peerchain::store {

namespace {

util::Unexpected io_error(const std::string& what, int err) {
    return util::Unexpected(util::Errc::kIo, what + ": " + std::strerror(err));
}

using util::get_u32;
using util::put_u32;

std::atomic<std::uint64_t> g_next_id{1};

// This thread's read-ahead (FlatFiles::kReadAheadBytes): `len` bytes of one file of one
// FlatFiles, from `start`, and where its last read ended.
struct ReadAhead {
    std::uint64_t owner = 0;  // FlatFiles::id_; 0: empty
    std::uint32_t file = 0;
    std::uint64_t start = 0;
    std::size_t len = 0;
    std::uint64_t last_end = 0;
    std::unique_ptr<std::uint8_t[]> buf;
};
thread_local ReadAhead t_read_ahead;

// pread(2) of up to `size` bytes, going on after short reads; fewer only at the file's end.
long pread_all(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<long>(got);
}

// Writes all of `bytes` at `offset`, going on after short writes.
bool write_all(int fd, const std::uint8_t* bytes, std::size_t size, off_t offset) {
    while (size > 0) {
        const ssize_t n = ::pwrite(fd, bytes, size, offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
        offset += n;
    }
    return true;
}

// The number of a file named <prefix>NNNNN.dat, or -1.
long file_number(const std::string& name, const std::string& prefix) {
    constexpr std::string_view kSuffix = ".dat";
    if (name.size() != prefix.size() + 5 + kSuffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(kSuffix)) {
        return -1;
    }
    const char* first = name.data() + prefix.size();
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(first, first + 5, n);
    if (ec != std::errc() || end != first + 5) return -1;
    return static_cast<long>(n);
}

}  // namespace

FlatFiles::FlatFiles(std::filesystem::path dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)), id_(g_next_id.fetch_add(1)) {}

FlatFiles::~FlatFiles() {
    util::LockGuard lock(mutex_);
    // Records nobody flushed were never named in a write that reached the store.
    for (int fd : fds_) {
        if (fd >= 0) ::close(fd);
    }
}

util::Result<std::unique_ptr<FlatFiles>> FlatFiles::open(const std::filesystem::path& dir,
                                                         Options options) {
    if (options.max_file_bytes <= kFrameSize) {
        return util::Unexpected(util::Errc::kInvalidArgument, "flat files: file size too small");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return util::Unexpected(util::Errc::kIo, dir.string() + ": " + ec.message());
    std::unique_ptr<FlatFiles> files(new FlatFiles(dir, std::move(options)));
    long last = -1;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        last =
            std::max(last, file_number(entry.path().filename().string(), files->options_.prefix));
    }
    if (ec) return util::Unexpected(util::Errc::kIo, dir.string() + ": " + ec.message());
    util::LockGuard lock(files->mutex_);
    if (last >= 0) {
        files->current_ = static_cast<std::uint32_t>(last);
        const auto size = std::filesystem::file_size(files->file_path(files->current_), ec);
        if (ec) {
            return util::Unexpected(
                util::Errc::kIo, files->file_path(files->current_).string() + ": " + ec.message());
        }
        files->end_ = size;
    }
    return files;
}

std::filesystem::path FlatFiles::file_path(std::uint32_t file) const {
    char name[16];
    std::snprintf(name, sizeof name, "%05u.dat", file);
    return dir_ / (options_.prefix + name);
}

int FlatFiles::fd_locked(std::uint32_t file, bool create) const {
    if (file < fds_.size() && fds_[file] >= 0) return fds_[file];
    const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    const int fd = ::open(file_path(file).c_str(), flags, 0644);
    if (fd < 0) return -1;
    if (fds_.size() <= file) fds_.resize(file + 1, -1);
    fds_[file] = fd;
    return fd;
}

util::Result<FlatPos> FlatFiles::append(util::ByteSpan record) {
    if (record.empty() || record.size() > options_.max_file_bytes - kFrameSize) {
        return util::Unexpected(util::Errc::kInvalidArgument, "flat files: a record of " +
                                                                  std::to_string(record.size()) +
                                                                  " bytes does not fit a file");
    }
    util::LockGuard lock(mutex_);
    const std::uint64_t framed = kFrameSize + record.size();
    if (end_ > 0 && end_ + framed > options_.max_file_bytes) {
        if (auto r = flush_locked(); !r) return util::Unexpected(r.error());
        ++current_;
        end_ = 0;
    }
    std::uint8_t frame[kFrameSize];
    std::memcpy(frame, options_.magic.data(), 4);
    put_u32(frame + 4, static_cast<std::uint32_t>(record.size()));
    buffer_.insert(buffer_.end(), frame, frame + kFrameSize);
    buffer_.insert(buffer_.end(), record.begin(), record.end());
    const FlatPos pos{current_, static_cast<std::uint32_t>(end_ + kFrameSize),
                      static_cast<std::uint32_t>(record.size())};
    end_ += framed;
    if (buffer_.size() >= kBufferBytes) {
        if (auto r = flush_locked(); !r) return util::Unexpected(r.error());
    }
    return pos;
}

util::Result<void> FlatFiles::flush() {
    util::LockGuard lock(mutex_);
    return flush_locked();
}

util::Result<void> FlatFiles::flush_locked() {
    if (buffer_.empty()) return {};
    const bool is_new = end_ == buffer_.size();
    const int fd = fd_locked(current_, /*create=*/true);
    if (fd < 0) return io_error(file_path(current_).string(), errno);
    if (is_new) dir_unsynced_ = true;
    if (!write_all(fd, buffer_.data(), buffer_.size(), static_cast<off_t>(end_ - buffer_.size()))) {
        return io_error(file_path(current_).string(), errno);
    }
    buffer_.clear();
    if (buffer_.capacity() > 2 * kBufferBytes) buffer_.shrink_to_fit();
    if (unsynced_.empty() || unsynced_.back() != current_) unsynced_.push_back(current_);
    return {};
}

util::Result<util::Bytes> FlatFiles::read(FlatPos pos) const {
    if (pos.null() || pos.offset < kFrameSize) {
        return util::Unexpected(util::Errc::kCorruption, "flat files: no record at that position");
    }
    int fd = -1;
    {
        util::LockGuard lock(mutex_);
        // Still in memory: the frame and the record are in buffer_.
        const std::uint64_t buffer_start = end_ - buffer_.size();
        if (pos.file == current_ && pos.offset - kFrameSize >= buffer_start) {
            const std::uint64_t at = pos.offset - kFrameSize - buffer_start;
            if (at + kFrameSize + pos.size > buffer_.size() ||
                std::memcmp(buffer_.data() + at, options_.magic.data(), 4) != 0 ||
                get_u32(buffer_.data() + at + 4) != pos.size) {
                return util::Unexpected(util::Errc::kCorruption,
                                        "flat files: no record at that position");
            }
            const auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(at + kFrameSize);
            return util::Bytes(first, first + pos.size);
        }
        fd = fd_locked(pos.file, /*create=*/false);
    }
    // The file's name only for an error: building it for every read was a visible part
    // of a serving node's chain executor (issue 10).
    const auto path = [&] { return file_path(pos.file).string(); };
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT)
            return util::Unexpected(util::Errc::kNotFound, path() + " does not exist");
        return io_error(path(), err);
    }
    // The frame and the record in one read: through the read-ahead when small, else
    // straight into the frame and the record.
    std::uint8_t frame[kFrameSize];
    util::Bytes bytes(pos.size);
    std::size_t got = 0;
    const std::size_t want = kFrameSize + bytes.size();
    if (want <= kReadAheadBytes / 2) {
        const std::uint8_t* in = nullptr;
        const long n = read_ahead(fd, pos.file, pos.offset - kFrameSize, want, &in);
        if (n < 0) {
            const int err = errno;  // before path() allocates
            return io_error(path(), err);
        }
        got = static_cast<std::size_t>(n);
        if (got == want) {
            std::memcpy(frame, in, kFrameSize);
            std::memcpy(bytes.data(), in + kFrameSize, bytes.size());
        }
    } else {
        while (got < want) {
            iovec parts[2];
            int count = 0;
            if (got < kFrameSize) parts[count++] = {frame + got, kFrameSize - got};
            const std::size_t in_record = got < kFrameSize ? 0 : got - kFrameSize;
            parts[count++] = {bytes.data() + in_record, bytes.size() - in_record};
            const ssize_t n =
                ::preadv(fd, parts, count, static_cast<off_t>(pos.offset - kFrameSize + got));
            if (n < 0) {
                const int err = errno;
                if (err == EINTR) continue;
                return io_error(path(), err);
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
    }
    if (got < want || std::memcmp(frame, options_.magic.data(), 4) != 0 ||
        get_u32(frame + 4) != pos.size) {
        return util::Unexpected(util::Errc::kCorruption,
                                path() + ": no record of " + std::to_string(pos.size) +
                                    " bytes at offset " + std::to_string(pos.offset));
    }
    return bytes;
}

long FlatFiles::read_ahead(int fd, std::uint32_t file, std::uint64_t offset, std::size_t size,
                           const std::uint8_t** out) const {
    ReadAhead& ahead = t_read_ahead;
    const bool same_file = ahead.owner == id_ && ahead.file == file;
    const bool held =
        same_file && offset >= ahead.start && offset + size <= ahead.start + ahead.len;
    if (!held) {
        // Ahead only for a read that starts where the last one ended: a random read (an
        // API lookup, a reorg) costs what it did, one record.
        const bool sequential = same_file && offset == ahead.last_end;
        if (!ahead.buf) ahead.buf = std::make_unique<std::uint8_t[]>(kReadAheadBytes);
        ahead.owner = 0;
        const long n = pread_all(fd, ahead.buf.get(), sequential ? kReadAheadBytes : size, offset);
        if (n < 0) return -1;
        ahead.owner = id_;
        ahead.file = file;
        ahead.start = offset;
        ahead.len = static_cast<std::size_t>(n);
    }
    ahead.last_end = offset + size;
    const std::uint64_t at = offset - ahead.start;
    *out = ahead.buf.get() + at;
    return static_cast<long>(std::min<std::uint64_t>(size, ahead.len - at));
}

util::Result<void> FlatFiles::sync() {
    // One sync at a time: a sync that finds the files taken by another must not return
    // before that one's fdatasyncs are done.
    util::LockGuard serial(sync_mutex_);
    std::vector<std::uint32_t> files;
    std::vector<int> fds;
    bool dir = false;
    {
        util::LockGuard lock(mutex_);
        if (auto r = flush_locked(); !r) return r;
        for (std::uint32_t file : unsynced_) {
            const int fd = fd_locked(file, /*create=*/false);
            if (fd < 0) return io_error(file_path(file).string(), errno);
            fds.push_back(fd);
        }
        files = std::exchange(unsynced_, {});
        dir = std::exchange(dir_unsynced_, false);
    }
    // Descriptors stay open until the destructor, so these are still the files' own.
    auto failed = [&](const std::filesystem::path& path, int err) -> util::Result<void> {
        util::LockGuard lock(mutex_);  // still unsynced: the next sync tries again
        unsynced_.insert(unsynced_.begin(), files.begin(), files.end());
        dir_unsynced_ = dir_unsynced_ || dir;
        return io_error(path.string(), err);
    };
    for (std::size_t i = 0; i < fds.size(); ++i) {
        if (::fdatasync(fds[i]) != 0) {
            const int err = errno;  // before file_path() may change it
            return failed(file_path(files[i]), err);
        }
    }
    if (dir) {
        const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return failed(dir_, errno);
        const int r = ::fsync(dfd);
        const int err = errno;
        ::close(dfd);
        if (r != 0) return failed(dir_, err);
    }
    return {};
}

}  // namespace peerchain::store
