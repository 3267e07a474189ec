// PeerUrl: where to dial a peer, written "ws://host:port" (WebSocket, optionally with a
// request path, "ws://host:port/p2p") or "tcp://host:port" (length-prefixed TCP frames).
// The text comes from users and other peers (PEERS, /addPeer, addr messages), so every
// part is bounded and checked before anything is resolved or dialed.
//
// Grammar accepted by parse_peer_url (scheme case-insensitive, no spaces, at most
// kMaxUrlLength characters):
//
//   url       = "ws://" authority [ path ]
//             | "tcp://" authority [ "/" ]  ; no path: TCP has no request target
//   authority = host ":" port
//   host      = name | ipv4 | "[" ipv6 "]"
//   name      = label *( "." label )    ; <= kMaxHostLength chars, labels 1..63 chars of
//                                       ; letters, digits, "-" and "_"
//   port      = 1*5DIGIT                ; 1..65535
//   path      = "/" *pchar              ; printable ASCII except "#"
//
// Thread-safety: a plain value type and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace peerchain::net::transport {

enum class Scheme {
    kWebSocket,  // ws://, one message per binary WebSocket frame
    kTcp,        // tcp://, each message preceded by its length as a u32
};

// "ws" or "tcp".
const char* scheme_name(Scheme scheme) noexcept;

inline constexpr std::size_t kMaxUrlLength = 512;
inline constexpr std::size_t kMaxHostLength = 253;  // the DNS limit (RFC 1035)
inline constexpr std::size_t kMaxPathLength = 200;

struct PeerUrl {
    Scheme scheme = Scheme::kWebSocket;
    std::string host;        // a name, an IPv4 literal, or an IPv6 literal without brackets
    std::uint16_t port = 0;  // never 0 once parsed
    std::string path = "/";  // the WebSocket request target; always "/" for tcp

    // "host:port", with an IPv6 host in brackets: the HTTP Host header and the log name.
    std::string host_port() const;
    // The canonical text: lower-case scheme, and no path when it is "/".
    std::string to_string() const;

    bool operator==(const PeerUrl&) const = default;
};

// Parses a peer URL by the grammar above. Fails with Errc::kInvalidArgument and a message
// fit for a user (it names the part that is wrong) on: empty or over-long text, spaces or
// non-ASCII, a scheme other than ws or tcp, user info, a missing, non-numeric or
// out-of-range port, a bad or over-long host, an IPv6 literal without brackets, a bad path
// or any path on tcp. Never resolves names. Whether this Transport has the scheme enabled
// is for Transport::dial to say.
util::Result<PeerUrl> parse_peer_url(std::string_view text);

}  // namespace peerchain::net::transport
