#include "net/addrman/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/sha256.hpp"
#include "util/assert.hpp"

namespace peerchain::net::addrman::detail {

void Writer::str(const std::string& s) {
    NODE_ASSERT(s.size() <= 0xffff);
    u16(static_cast<std::uint16_t>(s.size()));
    bytes(util::as_bytes(s));
}

bool Reader::take(std::size_t n) noexcept {
    if (failed_ || in_.size() - pos_ < n) {
        failed_ = true;
        return false;
    }
    return true;
}

bool Reader::bytes(std::uint8_t* out, std::size_t n) noexcept {
    if (!take(n)) return false;
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
}

bool Reader::u8(std::uint8_t& v) noexcept { return bytes(&v, 1); }

bool Reader::u16(std::uint16_t& v) noexcept {
    std::uint8_t b[2];
    if (!bytes(b, 2)) return false;
    v = static_cast<std::uint16_t>(b[0] | (b[1] << 8));
    return true;
}

bool Reader::u32(std::uint32_t& v) noexcept {
    std::uint8_t b[4];
    if (!bytes(b, 4)) return false;
    v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | b[i];
    return true;
}

bool Reader::i64(std::int64_t& v) noexcept {
    std::uint8_t b[8];
    if (!bytes(b, 8)) return false;
    std::uint64_t u = 0;
    for (int i = 7; i >= 0; --i) u = (u << 8) | b[i];
    v = static_cast<std::int64_t>(u);
    return true;
}

bool Reader::str(std::string& out, std::size_t max) {
    std::uint16_t n = 0;
    if (!u16(n)) return false;
    if (n > max || !take(n)) {
        failed_ = true;
        return false;
    }
    const auto* first = in_.data() + pos_;
    if (!std::all_of(first, first + n, [](std::uint8_t c) { return c >= 0x20 && c <= 0x7e; })) {
        failed_ = true;
        return false;
    }
    out.assign(reinterpret_cast<const char*>(first), n);
    pos_ += n;
    return true;
}

void append_checksum(util::Bytes& bytes) {
    const crypto::Digest digest = crypto::sha256(bytes);
    bytes.insert(bytes.end(), digest.begin(), digest.end());
}

util::Result<util::ByteSpan> strip_checksum(util::ByteSpan bytes) {
    constexpr std::size_t kSize = sizeof(crypto::Digest);
    if (bytes.size() < kSize) {
        return util::Unexpected(util::Errc::kCorruption, "shorter than its checksum");
    }
    const auto body = bytes.first(bytes.size() - kSize);
    const crypto::Digest digest = crypto::sha256(body);
    if (!std::equal(digest.begin(), digest.end(), bytes.begin() + body.size())) {
        return util::Unexpected(util::Errc::kCorruption, "checksum mismatch");
    }
    return body;
}

util::Result<util::Bytes> read_file(const std::filesystem::path& path, std::size_t limit) {
    const auto io_error = [&](const char* what) {
        return util::Unexpected(
            util::Errc::kIo, std::string(what) + " " + path.string() + ": " + std::strerror(errno));
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return util::Unexpected(util::Errc::kNotFound, path.string());
        return io_error("cannot open");
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error("cannot stat");
    if (!S_ISREG(st.st_mode)) {
        return util::Unexpected(util::Errc::kCorruption, path.string() + " is not a file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > limit) {
        return util::Unexpected(util::Errc::kCorruption, path.string() + " is larger than " +
                                                             std::to_string(limit) + " bytes");
    }
    util::Bytes bytes(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error("cannot read");
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    return bytes;
}

}  // namespace peerchain::net::addrman::detail
