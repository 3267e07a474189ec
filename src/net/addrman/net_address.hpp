// NetAddress: where a peer listens, as the address book, the dialer and the ban list see
// it: a canonical host, a port, and the transports the peer speaks there. Hosts come from
// peers (addr messages, version messages) and from users, so parse() checks and
// canonicalizes everything; a NetAddress made by parse() compares equal to another exactly
// when they name the same endpoint the same way.
//
// Host classes, used by the locality rule and the address groups:
//   loopback  127.0.0.0/8, ::1, the name "localhost"
//   private   10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), 169.254/16 (link
//             local), fc00::/7 (unique local), fe80::/10 (link local)
//   routable  any other IP that parse() accepts
//   name      a DNS name other than "localhost": neither of the above until resolved
//
// Thread-safety: a plain value type and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace peerchain::net::addrman {

// Transport bits of NetAddress::transports.
inline constexpr std::uint8_t kTransportWebSocket = 1;
inline constexpr std::uint8_t kTransportTcp = 2;
inline constexpr std::uint8_t kTransportMask = kTransportWebSocket | kTransportTcp;

inline constexpr std::size_t kMaxHostLength = 253;  // the DNS limit (RFC 1035)
inline constexpr std::size_t kMaxLabelLength = 63;

struct NetAddress {
    // An IPv4 dotted quad ("1.2.3.4"), an IPv6 address in its compressed lower-case form
    // without brackets ("2001:db8::1"; an IPv4-mapped one is written as IPv4), or a
    // lower-case DNS name.
    std::string host;
    std::uint16_t port = 0;
    std::uint8_t transports = 0;  // kTransport* bits, at least one

    // Checks and canonicalizes. `host` may be an IPv6 literal in brackets. Unknown transport
    // bits are cleared. Fails with kInvalidArgument, naming what is wrong, on: an empty or
    // over-long host, port 0, no known transport, a host that is neither an IP literal nor
    // a DNS name (labels of 1..63 letters, digits, '-' or '_'; a last label that is all
    // digits, or anything the system's resolver would read as a number such as
    // "0x7f000001", is refused as a malformed IP), an IPv6 zone id, and addresses no peer
    // can listen on: 0.0.0.0/8, multicast (224/4, ff00::/8), 240/4 with the broadcast
    // address, the unspecified ::, deprecated IPv4-compatible ::/96, and the documentation
    // ranges 192.0.2/24, 198.51.100/24, 203.0.113/24 and 2001:db8::/32.
    static util::Result<NetAddress> parse(std::string_view host, std::uint16_t port,
                                          std::uint8_t transports);

    bool is_ip() const;
    bool is_loopback() const;
    bool is_private() const;
    // An IP that is neither loopback nor private. A name is never routable.
    bool is_routable() const;

    // The address group, for bucketing in the address book and for "one outbound peer per
    // group": "ip4:1.2" (the /16) for a routable IPv4, "ip6:2a01:4f8" (the /32) for a
    // routable IPv6, "name:<host>" for a name. Loopback and private addresses are grouped
    // by host and port ("local:127.0.0.1:6001", "local:[fe80::1]:6001"), so that many
    // nodes on one machine or one LAN are as many groups.
    std::string group() const;

    // For a private address, the block it belongs to ("10/8", "172.16/12", "192.168/16",
    // "100.64/10", "169.254/16", "fc00::/7", "fe80::/10"); empty for any other.
    std::string local_network() const;

    // "1.2.3.4:5", "[::1]:5", "node.example:5".
    std::string host_port() const;
    // The dialable URL by the first transport offered: "ws://1.2.3.4:5", "tcp://[::1]:5".
    std::string to_string() const;

    bool operator==(const NetAddress&) const = default;
};

// Hashes host and port, not the transports (equal addresses hash equal). Not keyed: use an
// ordered map where peers choose the keys and the map is large.
struct NetAddressHasher {
    std::size_t operator()(const NetAddress& address) const noexcept;
};

// The canonical form of a host alone, with the checks of NetAddress::parse ("[::1]" and
// "::ffff:127.0.0.1" become "::1" and "127.0.0.1", "Node.Example" becomes "node.example").
util::Result<std::string> canonical_host(std::string_view host);

// The host and the port of a socket address as the transport writes it ("1.2.3.4:5678",
// "[::1]:5678"): the host without brackets (empty when the text has no host), and the
// port (0 when there is none or it does not parse).
std::string host_of(std::string_view address);
std::uint16_t port_of(std::string_view address);

// The locality rule for an address a peer at `source_host` (its IP, as the socket sees it)
// tells us about: a loopback candidate only from a loopback source; a private one only from
// a source on the same private block or a loopback source; a routable one from anyone. A
// name is never taken from a peer (it may resolve to one of our loopback or private
// addresses and so slip past this rule); manual and self-announced addresses, which the
// caller trusts, skip this rule. A source host that does not parse counts as routable.
bool accept_from(const NetAddress& candidate, std::string_view source_host);

}  // namespace peerchain::net::addrman
