#include "api/auth.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

// A name: dot-separated labels of letters, digits and '-', as DNS names and IPv4 literals
// are written; nothing else (no '@', '/', '%', space, empty label or trailing dot).
bool is_host_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || ++label > 63) return false;
    }
    return label > 0;
}

// The inside of [...]: hex digits, ':' and '.' (an embedded IPv4), as IPv6 literals are
// written; no zone id.
bool is_ipv6_literal(std::string_view inside) noexcept {
    if (inside.size() < 2 || inside.size() > 45) return false;
    return std::all_of(inside.begin(), inside.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.';
    });
}

// 1 to 65535 in at most five decimal digits, nothing else.
std::optional<std::uint16_t> parse_port(std::string_view digits) noexcept {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
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

std::optional<HostPort> parse_host_port(std::string_view text) noexcept {
    std::string_view host;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || !is_ipv6_literal(text.substr(1, close - 1))) {
            return std::nullopt;
        }
        host = text.substr(0, close + 1);
        rest = text.substr(close + 1);
    } else {
        const std::size_t colon = text.find(':');
        host = text.substr(0, colon);
        if (!is_host_name(host)) return std::nullopt;
        if (colon != std::string_view::npos) rest = text.substr(colon);
    }
    if (rest.empty()) return HostPort{host, std::nullopt};
    if (rest.front() != ':') return std::nullopt;
    auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    return HostPort{host, port};
}

bool is_loopback_host(std::string_view host) noexcept {
    // Strict on purpose (issue 8): "localhost:80@evil.example" once passed because whatever
    // followed the first ':' was dropped unread.
    const auto parsed = parse_host_port(host);
    if (!parsed) return false;
    const std::string_view name = parsed->host;
    return iequals(name, "localhost") || name == "[::1]" || is_ipv4_loopback(name);
}

bool is_loopback_origin(std::string_view origin) noexcept {
    const std::size_t sep = origin.find("://");
    if (sep == std::string_view::npos) return false;  // includes the opaque origin "null"
    const std::string_view scheme = origin.substr(0, sep);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    // An origin is scheme://host[:port] and nothing after: no path, userinfo or query.
    return is_loopback_host(origin.substr(sep + 3));
}

}  // namespace peerchain::api
