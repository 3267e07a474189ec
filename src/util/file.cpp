#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace peerchain::util
