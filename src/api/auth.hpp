// Access control of the HTTP API: the cookie token and the per-route access levels.
//
// At start the node generates a random 32-byte token, writes its hex to
// <data-dir>/.cookie (mode 0600: only the node's user can read it) and removes the file at
// a clean stop. Clients on the same machine (`peerchain wallet ...`) read the cookie and
// send `Authorization: Bearer <token>`.
//
// Each route declares an Access level:
//   kOpen             anyone who can reach the port.
//   kLoopbackOrToken  a loopback client needs no token; any other client needs it. A browser
//                     cannot borrow the loopback exemption: it applies only when the Host
//                     header (if any) names a loopback host, which stops DNS rebinding, and
//                     the Origin header (if any) is a loopback origin, which stops a foreign
//                     web page from posting to the local node.
//   kTokenAlways      the token is required even from loopback.
// A request to a non-open route that carries an Authorization header must carry the right
// token, even where it needs none, so that a stale cookie shows up at once.
//
// Thread-safety: Auth is immutable after construction; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "api/request.hpp"
#include "util/result.hpp"

namespace peerchain::api {

enum class Access { kOpen, kLoopbackOrToken, kTokenAlways };

enum class AuthOutcome {
    kAllowed,
    kMissingToken,  // the route needs a token and none was sent
    kBadToken,      // a token was sent and it is wrong or malformed
};

inline constexpr std::size_t kTokenBytes = 32;

class Auth {
  public:
    // No token at all: every request that needs a token is refused.
    Auth() = default;
    // A fixed token (tests, or a token the operator configured). No cookie is written.
    explicit Auth(std::string token);

    // Generates a token and writes it to cookie_path(data_dir). Fails with kIo when the
    // cookie cannot be written (the directory must exist) or kUnavailable when the system
    // has no randomness to give.
    static util::Result<Auth> create(const std::filesystem::path& data_dir);

    const std::string& token() const noexcept { return token_; }
    // The cookie this Auth wrote; empty when it wrote none.
    const std::filesystem::path& cookie_file() const noexcept { return cookie_file_; }

    // Whether `authorization` (a header value) is "Bearer <our token>"; the scheme is
    // case-insensitive and the token compared in constant time. False when we have no token.
    bool accepts(std::string_view authorization) const noexcept;

    // Decides whether `request` may use a route of level `access`.
    AuthOutcome authorize(Access access, const Request& request) const noexcept;

    // Removes the cookie this Auth wrote, if it still holds our token (a later node on the
    // same data directory may have replaced it). Succeeds when there is nothing to remove;
    // fails with kIo when removal fails. Safe to call more than once.
    util::Result<void> remove_cookie() const;

  private:
    std::string token_;
    std::filesystem::path cookie_file_;
};

// kTokenBytes random bytes from the kernel, as 64 lower-case hex characters.
util::Result<std::string> generate_token();

// <data_dir>/.cookie
std::filesystem::path cookie_path(const std::filesystem::path& data_dir);

// Writes `token` to cookie_path(data_dir) with mode 0600. The file is created fresh with
// that mode (never readable by others, not even briefly) and renamed into place, so a reader
// sees the old cookie or the whole new one. Fails with kIo.
util::Result<void> write_cookie(const std::filesystem::path& data_dir, std::string_view token);

// The token in cookie_path(data_dir), without trailing whitespace. Fails with kNotFound when
// there is no cookie (the node is not running), kIo when it cannot be read, kDecode when it
// does not hold a token.
util::Result<std::string> read_cookie(const std::filesystem::path& data_dir);

// Equal contents, in time that depends only on the sizes.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// host[:port] split strictly: `host` is a name (dot-separated labels of letters, digits
// and '-'; IPv4 literals are names here) or an IPv6 literal in brackets (kept with them),
// and the port, when a ':' follows, is 1 to 65535 in decimal digits. Anything else (an
// empty port, userinfo, a path, a space, bytes after the port) is nullopt. `host` views
// `text`.
struct HostPort {
    std::string_view host;
    std::optional<std::uint16_t> port;
};
std::optional<HostPort> parse_host_port(std::string_view text) noexcept;

// Whether a Host header value names this machine's loopback: it parses with
// parse_host_port, and its host is "localhost" (any case), a dotted IPv4 address in
// 127.0.0.0/8 or "[::1]". Whatever does not parse is not loopback.
bool is_loopback_host(std::string_view host) noexcept;

// Whether an Origin header value is "http://" or "https://" followed by a loopback host as
// is_loopback_host says, with nothing after it. "null" and every other form are not.
bool is_loopback_origin(std::string_view origin) noexcept;

}  // namespace peerchain::api
