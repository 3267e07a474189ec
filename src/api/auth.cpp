#include "api/auth.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "util/bytes.hpp"
#include "util/file.hpp"
#include "util/strings.hpp"

namespace peerchain::api {

namespace {

constexpr std::size_t kMaxCookieSize = 1024;

util::Unexpected io_error(const std::string& what, const std::filesystem::path& path) {
    return util::Unexpected(util::Errc::kIo,
                            what + " " + path.string() + ": " + std::strerror(errno));
}

using util::iequals;

// Strips ":port" from host[:port] or [v6]:port; returns the host as written.
std::string_view strip_port(std::string_view host) noexcept {
    if (!host.empty() && host.front() == '[') {
        const std::size_t close = host.find(']');
        return close == std::string_view::npos ? std::string_view{} : host.substr(0, close + 1);
    }
    return host.substr(0, host.find(':'));
}

bool is_ipv4_loopback(std::string_view host) noexcept {
    int octets = 0;
    int first = -1;
    while (true) {
        std::size_t digits = 0;
        int value = 0;
        while (digits < host.size() && host[digits] >= '0' && host[digits] <= '9') {
            value = value * 10 + (host[digits] - '0');
            if (++digits > 3) return false;
        }
        if (digits == 0 || value > 255) return false;
        if (first < 0) first = value;
        ++octets;
        host.remove_prefix(digits);
        if (host.empty()) break;
        if (host.front() != '.' || octets == 4) return false;
        host.remove_prefix(1);
    }
    return octets == 4 && first == 127;
}

}  // namespace

Auth::Auth(std::string token) : token_(std::move(token)) {}

util::Result<Auth> Auth::create(const std::filesystem::path& data_dir) {
    auto token = generate_token();
    if (!token) return util::Unexpected(std::move(token).error());
    auto written = write_cookie(data_dir, *token);
    if (!written) return util::Unexpected(written.error());
    Auth auth(std::move(*token));
    auth.cookie_file_ = cookie_path(data_dir);
    return auth;
}

bool Auth::accepts(std::string_view authorization) const noexcept {
    constexpr std::string_view kScheme = "bearer ";
    if (token_.empty() || authorization.size() < kScheme.size()) return false;
    if (!iequals(authorization.substr(0, kScheme.size()), kScheme)) return false;
    std::string_view presented = authorization.substr(kScheme.size());
    while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
    return constant_time_equal(presented, token_);
}

AuthOutcome Auth::authorize(Access access, const Request& request) const noexcept {
    if (access == Access::kOpen) return AuthOutcome::kAllowed;
    if (!request.authorization.empty()) {
        return accepts(request.authorization) ? AuthOutcome::kAllowed : AuthOutcome::kBadToken;
    }
    if (access == Access::kLoopbackOrToken && request.remote_is_loopback &&
        (request.host.empty() || is_loopback_host(request.host)) &&
        (request.origin.empty() || is_loopback_origin(request.origin))) {
        return AuthOutcome::kAllowed;
    }
    return AuthOutcome::kMissingToken;
}

util::Result<void> Auth::remove_cookie() const {
    if (cookie_file_.empty()) return {};
    auto current = read_cookie(cookie_file_.parent_path());
    if (!current) {
        if (current.error().code == util::Errc::kNotFound) return {};
        return util::Unexpected(current.error());
    }
    if (!constant_time_equal(*current, token_)) return {};
    if (::unlink(cookie_file_.c_str()) != 0 && errno != ENOENT) {
        return io_error("cannot remove", cookie_file_);
    }
    return {};
}

util::Result<std::string> generate_token() {
    std::array<std::uint8_t, kTokenBytes> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return util::Unexpected(util::Errc::kUnavailable,
                                    std::string("getrandom failed: ") + std::strerror(errno));
        }
        filled += static_cast<std::size_t>(n);
    }
    return util::to_hex(bytes);
}

std::filesystem::path cookie_path(const std::filesystem::path& data_dir) {
    return data_dir / ".cookie";
}

util::Result<void> write_cookie(const std::filesystem::path& data_dir, std::string_view token) {
    return util::write_file_atomic(cookie_path(data_dir), util::as_bytes(token));
}

util::Result<std::string> read_cookie(const std::filesystem::path& data_dir) {
    const auto path = cookie_path(data_dir);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            return util::Unexpected(util::Errc::kNotFound, "no cookie at " + path.string());
        }
        return io_error("cannot open", path);
    }
    std::string text;
    std::array<char, 256> chunk{};
    while (text.size() <= kMaxCookieSize) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto error = io_error("cannot read", path);
            ::close(fd);
            return error;
        }
        if (n == 0) break;
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (text.empty() || text.size() > kMaxCookieSize) {
        return util::Unexpected(util::Errc::kDecode, "the cookie holds no token");
    }
    return text;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    // The expected token's length is public; only its bytes are secret.
    if (a.size() != b.size()) return false;
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = static_cast<unsigned char>(
            diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
    }
    return diff == 0;
}

bool is_loopback_host(std::string_view host) noexcept {
    const std::string_view name = strip_port(host);
    return iequals(name, "localhost") || name == "[::1]" || is_ipv4_loopback(name);
}

bool is_loopback_origin(std::string_view origin) noexcept {
    const std::size_t sep = origin.find("://");
    if (sep == std::string_view::npos) return false;  // includes the opaque origin "null"
    std::string_view rest = origin.substr(sep + 3);
    rest = rest.substr(0, rest.find('/'));
    return is_loopback_host(rest);
}

}  // namespace peerchain::api
