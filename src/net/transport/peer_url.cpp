#include "net/transport/peer_url.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/error_code.hpp>

#include "util/strings.hpp"

namespace peerchain::net::transport {

namespace {

util::Unexpected invalid(std::string message) {
    return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
}

using util::iequals;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_name_char(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// A user-facing excerpt of rejected input: short, so that a hostile string cannot flood
// logs or API errors.
std::string excerpt(std::string_view s) {
    constexpr std::size_t kMax = 40;
    if (s.size() <= kMax) return std::string(s);
    return std::string(s.substr(0, kMax)) + "...";
}

util::Result<std::string> check_name(std::string_view host) {
    if (host.size() > kMaxHostLength) {
        return invalid("host is " + std::to_string(host.size()) + " characters, over the " +
                       std::to_string(kMaxHostLength) + " allowed");
    }
    bool all_numeric = true;
    std::size_t label = 0;
    for (const char c : host) {
        if (c == '.') {
            if (label == 0) return invalid("host '" + excerpt(host) + "' has an empty label");
            label = 0;
            continue;
        }
        if (!is_name_char(c)) {
            return invalid("host '" + excerpt(host) + "' contains '" + std::string(1, c) + "'");
        }
        if (!is_digit(c)) all_numeric = false;
        if (++label > 63) return invalid("host '" + excerpt(host) + "' has a label over 63");
    }
    if (label == 0) return invalid("host '" + excerpt(host) + "' has an empty label");
    if (all_numeric) {
        // Digits and dots only: it must be a dotted-quad IPv4 address, not a name, so that
        // "1.2.3.999" fails here rather than as a confusing resolver error later.
        boost::system::error_code ec;
        (void)boost::asio::ip::make_address_v4(std::string(host), ec);
        if (ec) return invalid("'" + excerpt(host) + "' is not an IPv4 address");
    }
    return std::string(host);
}

util::Result<std::string> check_ipv6(std::string_view literal) {
    if (literal.find('%') != std::string_view::npos) {
        return invalid("IPv6 zone ids are not supported");
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v6(std::string(literal), ec);
    if (ec) return invalid("'" + excerpt(literal) + "' is not an IPv6 address");
    return address.to_string();
}

util::Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty()) return invalid("missing port: expected host:port");
    if (text.size() > 5) return invalid("port '" + excerpt(text) + "' is out of range 1..65535");
    std::uint32_t value = 0;
    for (const char c : text) {
        if (!is_digit(c)) return invalid("port '" + excerpt(text) + "' is not a number");
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535) {
        return invalid("port " + std::string(text) + " is out of range 1..65535");
    }
    return static_cast<std::uint16_t>(value);
}

}  // namespace

util::Result<PeerUrl> parse_peer_url(std::string_view text) {
    if (text.empty()) return invalid("empty peer URL");
    if (text.size() > kMaxUrlLength) {
        return invalid("peer URL is " + std::to_string(text.size()) + " characters, over the " +
                       std::to_string(kMaxUrlLength) + " allowed");
    }
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            return invalid("peer URL contains a space, control or non-ASCII character");
        }
    }

    PeerUrl url;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        return invalid("'" + excerpt(text) +
                       "' is not a peer URL: expected ws://host:port or tcp://host:port");
    }
    const auto scheme = text.substr(0, sep);
    if (iequals(scheme, "ws")) {
        url.scheme = Scheme::kWebSocket;
    } else if (iequals(scheme, "tcp")) {
        url.scheme = Scheme::kTcp;
    } else if (iequals(scheme, "wss")) {
        return invalid(
            "wss:// (WebSocket over TLS) is not supported: use ws://host:port or "
            "tcp://host:port");
    } else {
        return invalid("unsupported scheme '" + excerpt(scheme) +
                       "': use ws://host:port or tcp://host:port");
    }

    auto rest = text.substr(sep + 3);
    const auto path_start = rest.find('/');
    auto authority = rest.substr(0, path_start);
    if (path_start != std::string_view::npos) {
        const auto path = rest.substr(path_start);
        if (url.scheme == Scheme::kTcp && path != "/") {
            return invalid("tcp:// peer URLs have no path: use tcp://host:port");
        }
        if (path.size() > kMaxPathLength) {
            return invalid("path is over " + std::to_string(kMaxPathLength) + " characters");
        }
        if (path.find('#') != std::string_view::npos) return invalid("fragments are not allowed");
        url.path = std::string(path);
    }
    if (authority.find('@') != std::string_view::npos) {
        return invalid("user info (user@host) is not allowed in a peer URL");
    }
    if (authority.empty()) return invalid("missing host: expected host:port");

    std::string_view port_text;
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return invalid("unterminated '[' in host");
        auto host = check_ipv6(authority.substr(1, close - 1));
        if (!host) return util::Unexpected(std::move(host).error());
        url.host = std::move(*host);
        const auto after = authority.substr(close + 1);
        if (after.empty()) return invalid("missing port: expected [address]:port");
        if (after.front() != ':') return invalid("expected ':' and a port after ']'");
        port_text = after.substr(1);
    } else {
        const auto colon = authority.find(':');
        if (colon == std::string_view::npos) return invalid("missing port: expected host:port");
        if (authority.find(':', colon + 1) != std::string_view::npos) {
            return invalid("an IPv6 address must be written in brackets: [::1]:6001");
        }
        if (colon == 0) return invalid("missing host: expected host:port");
        auto host = check_name(authority.substr(0, colon));
        if (!host) return util::Unexpected(std::move(host).error());
        url.host = std::move(*host);
        port_text = authority.substr(colon + 1);
    }
    auto port = parse_port(port_text);
    if (!port) return util::Unexpected(std::move(port).error());
    url.port = *port;
    return url;
}

const char* scheme_name(Scheme scheme) noexcept {
    switch (scheme) {
        case Scheme::kWebSocket:
            return "ws";
        case Scheme::kTcp:
            return "tcp";
    }
    return "unknown";
}

std::string PeerUrl::host_port() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string PeerUrl::to_string() const {
    std::string out = std::string(scheme_name(scheme)) + "://" + host_port();
    if (path != "/") out += path;
    return out;
}

}  // namespace peerchain::net::transport
