#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace peerchain::util {

namespace {

Unexpected io_error(const std::string& what, const std::filesystem::path& path) {
    return Unexpected(Errc::kIo, what + " " + path.string() + ": " + std::strerror(errno));
}

bool write_all(int fd, ByteSpan bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

Result<void> write_file_atomic(const std::filesystem::path& path, ByteSpan bytes, FileWrite how,
                               mode_t mode) {
    auto tmp = path;
    tmp += ".tmp";
    // O_EXCL on a fresh name: the file is born with `mode`, whatever a leftover had.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", tmp);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return io_error("cannot create", tmp);
    // The umask may have taken bits away; be exact.
    bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, bytes) && ::fsync(fd) == 0;
    const int saved_errno = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        errno = saved_errno;
        auto error = io_error("cannot write", tmp);
        ::unlink(tmp.c_str());
        return error;
    }
    if (how == FileWrite::kCreateOnly) {
        if (::link(tmp.c_str(), path.c_str()) != 0) {
            const bool exists = errno == EEXIST;
            auto error = io_error("cannot create", path);
            ::unlink(tmp.c_str());
            if (exists) return Unexpected(Errc::kInvalidArgument, path.string() + " exists");
            return error;
        }
        ::unlink(tmp.c_str());
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto error = io_error("cannot rename into", path);
        ::unlink(tmp.c_str());
        return error;
    }
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return io_error("cannot open", dir);
    ok = ::fsync(dfd) == 0;
    ::close(dfd);
    if (!ok) return io_error("cannot sync", dir);
    return {};
}

Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
    // O_NOFOLLOW, as the writer: a symlink planted at our path is refused (ELOOP), not read.
    // O_NONBLOCK, so that opening a FIFO someone put there does not wait for a writer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return Unexpected(Errc::kNotFound, path.string() + " does not exist");
        if (errno == ELOOP) return Unexpected(Errc::kCorruption, path.string() + " is a symlink");
        return io_error("cannot open", path);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error("cannot stat", path);
    if (!S_ISREG(st.st_mode)) {
        return Unexpected(Errc::kCorruption, path.string() + " is not a file");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes) {
        return Unexpected(Errc::kCorruption, path.string() + " is larger than " +
                                                 std::to_string(max_bytes) + " bytes");
    }
    // A file that shrinks meanwhile gives fewer bytes, one that grows no more than we sized:
    // the caller's checks of the content see either.
    Bytes bytes(static_cast<std::size_t>(size));
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error("cannot read", path);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    return bytes;
}

}  // namespace peerchain::util
