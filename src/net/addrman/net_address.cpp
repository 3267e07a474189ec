#include "net/addrman/net_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <functional>
#include <optional>

#include "util/strings.hpp"

namespace peerchain::net::addrman {

namespace {

util::Unexpected invalid(std::string message) {
    return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
}

// A short excerpt of rejected input, so that a hostile string cannot flood logs or API
// errors.
std::string excerpt(std::string_view s) {
    constexpr std::size_t kMax = 40;
    if (s.size() <= kMax) return std::string(s);
    return std::string(s.substr(0, kMax)) + "...";
}

struct Ip {
    bool v4 = false;
    std::array<std::uint8_t, 16> b{};  // network order; an IPv4 in the first four bytes
};

enum class Kind { kUnusable, kLoopback, kPrivate, kRoutable };

struct Class {
    Kind kind = Kind::kUnusable;
    const char* network = "";  // the private block, for kPrivate
};

std::optional<Ip> parse_ip(std::string_view text) {
    if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    const std::string s(text);
    Ip ip;
    if (s.find(':') != std::string::npos) {
        if (inet_pton(AF_INET6, s.c_str(), ip.b.data()) != 1) return std::nullopt;
        constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped.begin(), kMapped.end(), ip.b.begin())) {
            // ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket: one host, one text.
            std::copy(ip.b.begin() + 12, ip.b.end(), ip.b.begin());
            std::fill(ip.b.begin() + 4, ip.b.end(), 0);
            ip.v4 = true;
        }
        return ip;
    }
    if (inet_pton(AF_INET, s.c_str(), ip.b.data()) != 1) return std::nullopt;
    ip.v4 = true;
    return ip;
}

std::string format_ip(const Ip& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.v4 ? AF_INET : AF_INET6, ip.b.data(), buf, sizeof buf);
    return buf;
}

Class classify_v4(const std::array<std::uint8_t, 16>& b) {
    const unsigned a = b[0];
    const unsigned c = b[1];
    // 0/8 "this network", 224/4 multicast, 240/4 reserved with the broadcast address.
    if (a == 0 || a >= 224) return {};
    // RFC 5737 documentation ranges: nobody listens there.
    if ((a == 192 && c == 0 && b[2] == 2) || (a == 198 && c == 51 && b[2] == 100) ||
        (a == 203 && c == 0 && b[2] == 113)) {
        return {};
    }
    if (a == 127) return {Kind::kLoopback};
    if (a == 10) return {Kind::kPrivate, "10/8"};
    if (a == 172 && (c & 0xf0) == 16) return {Kind::kPrivate, "172.16/12"};
    if (a == 192 && c == 168) return {Kind::kPrivate, "192.168/16"};
    if (a == 100 && (c & 0xc0) == 64) return {Kind::kPrivate, "100.64/10"};  // RFC 6598
    if (a == 169 && c == 254) return {Kind::kPrivate, "169.254/16"};
    return {Kind::kRoutable};
}

Class classify_v6(const std::array<std::uint8_t, 16>& b) {
    const bool zero96 = std::all_of(b.begin(), b.begin() + 12, [](auto x) { return x == 0; });
    if (zero96) {
        if (b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 1) return {Kind::kLoopback};
        // :: itself, and the IPv4-compatible form RFC 4291 deprecated.
        return {};
    }
    if (b[0] == 0xff) return {};                                                  // multicast
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return {};  // RFC 3849
    if ((b[0] & 0xfe) == 0xfc) return {Kind::kPrivate, "fc00::/7"};
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return {Kind::kPrivate, "fe80::/10"};
    return {Kind::kRoutable};
}

Class classify(const Ip& ip) { return ip.v4 ? classify_v4(ip.b) : classify_v6(ip.b); }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_name_char(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

util::Result<std::string> check_name(std::string_view host) {
    std::size_t label = 0;
    bool label_numeric = true;
    for (const char c : host) {
        if (c == '.') {
            if (label == 0) return invalid("host '" + excerpt(host) + "' has an empty label");
            label = 0;
            label_numeric = true;
            continue;
        }
        if (!is_name_char(c)) {
            return invalid("host '" + excerpt(host) + "' is not an IP address or a DNS name");
        }
        if (!is_digit(c)) label_numeric = false;
        if (++label > kMaxLabelLength) {
            return invalid("host '" + excerpt(host) + "' has a label over 63 characters");
        }
    }
    if (label == 0) return invalid("host '" + excerpt(host) + "' has an empty label");
    // No top-level domain is all digits (RFC 3696 2), and the resolver reads such text, and
    // forms like "0x7f.1" or "2130706433", as an IPv4 address: a name that is really an IP
    // would escape the checks and the classes above.
    in_addr ignored{};
    if (label_numeric || inet_aton(std::string(host).c_str(), &ignored) != 0) {
        return invalid("'" + excerpt(host) + "' is not a valid IP address");
    }
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(), util::ascii_lower);
    return out;
}

// The canonical host and, for an IP, its class.
struct Parsed {
    std::string host;
    std::optional<Ip> ip;
};

util::Result<Parsed> parse_host(std::string_view host) {
    if (host.empty()) return invalid("empty host");
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    if (host.size() > kMaxHostLength) {
        return invalid("host is " + std::to_string(host.size()) + " characters, over the " +
                       std::to_string(kMaxHostLength) + " allowed");
    }
    if (host.find('%') != std::string_view::npos) return invalid("IPv6 zone ids are not allowed");
    if (auto ip = parse_ip(host)) {
        if (bracketed && ip->v4 && host.find(':') == std::string_view::npos) {
            return invalid("brackets around an IPv4 address");
        }
        if (classify(*ip).kind == Kind::kUnusable) {
            return invalid("'" + excerpt(host) + "' is not an address a peer can listen on");
        }
        return Parsed{format_ip(*ip), ip};
    }
    if (bracketed || host.find(':') != std::string_view::npos) {
        return invalid("'" + excerpt(host) + "' is not an IPv6 address");
    }
    auto name = check_name(host);
    if (!name) return util::Unexpected(std::move(name).error());
    return Parsed{std::move(*name), std::nullopt};
}

std::string hex16(unsigned v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned d = (v >> shift) & 0xf;
        if (d != 0 || started || shift == 0) {
            out += kDigits[d];
            started = true;
        }
    }
    return out;
}

}  // namespace

util::Result<NetAddress> NetAddress::parse(std::string_view host, std::uint16_t port,
                                           std::uint8_t transports) {
    if (port == 0) return invalid("port 0");
    transports &= kTransportMask;
    if (transports == 0) return invalid("no known transport");
    auto parsed = parse_host(host);
    if (!parsed) return util::Unexpected(std::move(parsed).error());
    return NetAddress{std::move(parsed->host), port, transports};
}

bool NetAddress::is_ip() const { return parse_ip(host).has_value(); }

bool NetAddress::is_loopback() const {
    if (host == "localhost") return true;
    const auto ip = parse_ip(host);
    return ip && classify(*ip).kind == Kind::kLoopback;
}

bool NetAddress::is_private() const {
    const auto ip = parse_ip(host);
    return ip && classify(*ip).kind == Kind::kPrivate;
}

bool NetAddress::is_routable() const {
    const auto ip = parse_ip(host);
    return ip && classify(*ip).kind == Kind::kRoutable;
}

std::string NetAddress::group() const {
    const auto ip = parse_ip(host);
    if (!ip) return host == "localhost" ? "local:" + host_port() : "name:" + host;
    if (classify(*ip).kind != Kind::kRoutable) return "local:" + host_port();
    const auto& b = ip->b;
    if (ip->v4) return "ip4:" + std::to_string(b[0]) + "." + std::to_string(b[1]);
    return "ip6:" + hex16((unsigned{b[0]} << 8) | b[1]) + ":" + hex16((unsigned{b[2]} << 8) | b[3]);
}

std::string NetAddress::local_network() const {
    const auto ip = parse_ip(host);
    if (!ip) return {};
    const Class c = classify(*ip);
    return c.kind == Kind::kPrivate ? c.network : "";
}

std::string NetAddress::host_port() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string NetAddress::to_string() const {
    const char* scheme = (transports & kTransportWebSocket) != 0 ? "ws" : "tcp";
    return std::string(scheme) + "://" + host_port();
}

std::size_t NetAddressHasher::operator()(const NetAddress& address) const noexcept {
    const std::size_t h = std::hash<std::string>{}(address.host);
    return h ^ (std::size_t{address.port} * 0x9e3779b97f4a7c15ULL);
}

std::string host_of(std::string_view address) {
    if (!address.empty() && address.front() == '[') {
        const auto close = address.find(']');
        return close == std::string_view::npos ? std::string()
                                               : std::string(address.substr(1, close - 1));
    }
    const auto colon = address.rfind(':');
    return std::string(colon == std::string_view::npos ? address : address.substr(0, colon));
}

std::uint16_t port_of(std::string_view address) {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos ||
        (!address.empty() && address.front() == '[' && colon < address.find(']'))) {
        return 0;
    }
    const auto digits = address.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) return 0;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return 0;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value > 65535 ? 0 : static_cast<std::uint16_t>(value);
}

util::Result<std::string> canonical_host(std::string_view host) {
    auto parsed = parse_host(host);
    if (!parsed) return util::Unexpected(std::move(parsed).error());
    return std::move(parsed->host);
}

bool accept_from(const NetAddress& candidate, std::string_view source_host) {
    const auto ip = parse_ip(candidate.host);
    if (!ip) return false;
    const Class c = classify(*ip);
    if (c.kind == Kind::kRoutable) return true;
    if (c.kind == Kind::kUnusable) return false;
    auto source = parse_host(source_host);
    if (!source || !source->ip) return false;
    const Class s = classify(*source->ip);
    if (s.kind == Kind::kLoopback) return true;
    return c.kind == Kind::kPrivate && s.kind == Kind::kPrivate &&
           std::string_view(c.network) == s.network;
}

}  // namespace peerchain::net::addrman
