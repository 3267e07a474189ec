// Wire messages: the P2P protocol's byte layouts, as pure codecs. One message travels in one
// WebSocket binary frame (or, later, one length-prefixed TCP frame); the frame gives its
// length, so a message carries no length or checksum of its own.
//
//   message      := type:u8 payload                 (at most kMaxMessageSize bytes in all)
//
//   type payload
//   1    version    := magic:4 protocol_version:u32 services:u64 best_height:u32
//                      best_work:32 nonce:u64 listen_port:u16 user_agent:string(256)
//                      time:i64
//   2    verack     := (empty)
//   3    ping       := nonce:u64
//   4    pong       := nonce:u64                    (the nonce of the ping it answers)
//   5    getaddr    := (empty)
//   6    addr       := count:compact_size(<= 1000) address*
//   7    inv        := count:compact_size(<= 50000) item*
//   8    getdata    := count:compact_size(<= 50000) item*
//   9    notfound   := count:compact_size(<= 50000) item*
//   10   getheaders := count:compact_size(<= 101) locator_hash:32* stop_hash:32
//   11   headers    := count:compact_size(<= 2000) header:80*          (core/block.hpp)
//   12   block      := block                (core/block.hpp; <= Params::max_block_size)
//   13   tx         := tx                   (core/transaction.hpp; <= Params::max_tx_size)
//   14   mempool    := (empty)
//   15   sendaddrv2 := (empty)                      (between version and verack only)
//   16   addrv2     := count:compact_size(<= 1000) address_v2*
//   17   reject     := inv_type:u8 hash:32 reason:string(64) detail:string(256)
//                      (why we refused an item the peer sent; informative only)
//
//   address      := host:host_string port:u16 last_seen:i64
//   address_v2   := host:host_string port:u16 last_seen:i64 transports:u8
//                   (transports: bit 0 = WebSocket, bit 1 = TCP; other bits are kept
//                    as sent and ignored by receivers)
//   item         := inv_type:u8 hash:32     (inv_type 1 = tx by txid, 2 = block by id)
//   string(n)    := len:compact_size(<= n) byte*   (printable ASCII, 0x20..0x7e)
//   host_string  := len:compact_size(1..255) byte* (0x21..0x7e: a DNS name, an IPv4
//                                                    literal or an IPv6 literal without
//                                                    brackets)
//   best_work    := the chain work of the sender's tip, a 256-bit little-endian integer
//   listen_port  := the port the sender accepts peers on; 0 = not listening
//   time         := the sender's clock, seconds since the Unix epoch
//
// Integers are little-endian; compact_size is Bitcoin's (core/serialize.hpp), shortest
// form only. Every count is checked against its limit and against the bytes that remain
// before anything is allocated, and a payload with bytes after its last field is refused.
// A type this list does not name decodes to UnknownMessage (receivers ignore it, so that a
// later protocol version can add messages); a known type with a malformed payload is an
// error. inv_type values other than 1 and 2 decode as they are and are ignored.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/arith_uint256.hpp"
#include "core/block.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::net::wire {

inline constexpr std::uint32_t kProtocolVersion = 1;
// Peers below this version are refused at the handshake.
inline constexpr std::uint32_t kMinProtocolVersion = 1;

inline constexpr std::size_t kMaxMessageSize = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxUserAgentLength = 256;
inline constexpr std::size_t kMaxHostLength = 255;
inline constexpr std::size_t kMaxAddresses = 1000;
inline constexpr std::size_t kMaxInvItems = 50'000;
inline constexpr std::size_t kMaxLocatorHashes = 101;
inline constexpr std::size_t kMaxHeaders = 2000;
inline constexpr std::size_t kMaxRejectReasonLength = 64;
inline constexpr std::size_t kMaxRejectDetailLength = 256;

// Service bits of the version message.
inline constexpr std::uint64_t kServiceNetwork = 1;  // serves full blocks

enum class MessageType : std::uint8_t {
    kVersion = 1,
    kVerack = 2,
    kPing = 3,
    kPong = 4,
    kGetAddr = 5,
    kAddr = 6,
    kInv = 7,
    kGetData = 8,
    kNotFound = 9,
    kGetHeaders = 10,
    kHeaders = 11,
    kBlock = 12,
    kTx = 13,
    kMempool = 14,
    kSendAddrV2 = 15,
    kAddrV2 = 16,
    kReject = 17,
};

// "version", "verack", ... for a known type; "unknown" otherwise.
const char* message_type_name(std::uint8_t type) noexcept;

enum class InvType : std::uint8_t {
    kTx = 1,
    kBlock = 2,
};

struct InvItem {
    InvType type = InvType::kBlock;  // may hold a value not named above (ignored)
    core::Uint256 hash;

    friend bool operator==(const InvItem&, const InvItem&) = default;
};

// The transports bits of an addrv2 entry. An addr entry (the first format, from before
// TCP) stands for a WebSocket listener.
inline constexpr std::uint8_t kAddrWebSocket = 1;
inline constexpr std::uint8_t kAddrTcp = 2;

struct NetAddress {
    std::string host;
    std::uint16_t port = 0;
    std::int64_t last_seen = 0;  // seconds since the Unix epoch
    // addrv2 only: which transports the listener takes. addr decodes as kAddrWebSocket
    // and does not carry it.
    std::uint8_t transports = kAddrWebSocket;

    friend bool operator==(const NetAddress&, const NetAddress&) = default;
};

struct VersionMessage {
    std::array<std::uint8_t, 4> magic{};
    std::uint32_t protocol_version = kProtocolVersion;
    std::uint64_t services = kServiceNetwork;
    std::uint32_t best_height = 0;
    core::ArithUint256 best_work;
    std::uint64_t nonce = 0;
    std::uint16_t listen_port = 0;
    std::string user_agent;
    std::int64_t time = 0;

    friend bool operator==(const VersionMessage&, const VersionMessage&) = default;
};

struct VerackMessage {
    friend bool operator==(const VerackMessage&, const VerackMessage&) = default;
};
struct PingMessage {
    std::uint64_t nonce = 0;
    friend bool operator==(const PingMessage&, const PingMessage&) = default;
};
struct PongMessage {
    std::uint64_t nonce = 0;
    friend bool operator==(const PongMessage&, const PongMessage&) = default;
};
struct GetAddrMessage {
    friend bool operator==(const GetAddrMessage&, const GetAddrMessage&) = default;
};
struct AddrMessage {
    std::vector<NetAddress> addresses;
    friend bool operator==(const AddrMessage&, const AddrMessage&) = default;
};
struct InvMessage {
    std::vector<InvItem> items;
    friend bool operator==(const InvMessage&, const InvMessage&) = default;
};
struct GetDataMessage {
    std::vector<InvItem> items;
    friend bool operator==(const GetDataMessage&, const GetDataMessage&) = default;
};
struct NotFoundMessage {
    std::vector<InvItem> items;
    friend bool operator==(const NotFoundMessage&, const NotFoundMessage&) = default;
};
struct GetHeadersMessage {
    std::vector<core::Uint256> locator;  // newest first, as Chainstate::locator() gives
    core::Uint256 stop_hash;             // all zero: as many as allowed
    friend bool operator==(const GetHeadersMessage&, const GetHeadersMessage&) = default;
};
struct HeadersMessage {
    std::vector<core::BlockHeader> headers;
    friend bool operator==(const HeadersMessage&, const HeadersMessage&) = default;
};
struct BlockMessage {
    core::Block block;
    friend bool operator==(const BlockMessage&, const BlockMessage&) = default;
};
struct TxMessage {
    core::Transaction tx;
    friend bool operator==(const TxMessage&, const TxMessage&) = default;
};
struct MempoolMessage {
    friend bool operator==(const MempoolMessage&, const MempoolMessage&) = default;
};
// "Send me addrv2 instead of addr" (Bitcoin's BIP155 sendaddrv2): sent between version
// and verack by a peer that understands addrv2.
struct SendAddrV2Message {
    friend bool operator==(const SendAddrV2Message&, const SendAddrV2Message&) = default;
};
// addr with each address's transports.
struct AddrV2Message {
    std::vector<NetAddress> addresses;
    friend bool operator==(const AddrV2Message&, const AddrV2Message&) = default;
};
// Why the sender refused an item we sent it (a transaction it will not relay, a block
// too far in the future): for the log, never acted on. `reason` is a token of
// docs/reject-reasons.md; `detail` free text. Both printable ASCII within their limits
// (make_reject builds one from any text).
struct RejectMessage {
    InvType type = InvType::kTx;  // may hold a value not named above
    core::Uint256 hash;
    std::string reason;
    std::string detail;
    friend bool operator==(const RejectMessage&, const RejectMessage&) = default;
};
// A reject whose reason and detail are cut to their limits, with every byte outside
// printable ASCII replaced by '?', so that any text can be sent.
RejectMessage make_reject(InvType type, const core::Uint256& hash, std::string_view reason,
                          std::string_view detail);

// A type byte this version does not know. The payload is not kept.
struct UnknownMessage {
    std::uint8_t type = 0;
    std::size_t payload_size = 0;
    friend bool operator==(const UnknownMessage&, const UnknownMessage&) = default;
};

using Message =
    std::variant<VersionMessage, VerackMessage, PingMessage, PongMessage, GetAddrMessage,
                 AddrMessage, InvMessage, GetDataMessage, NotFoundMessage, GetHeadersMessage,
                 HeadersMessage, BlockMessage, TxMessage, MempoolMessage, SendAddrV2Message,
                 AddrV2Message, RejectMessage, UnknownMessage>;

// The type byte of `message`; for UnknownMessage, the type it carried.
std::uint8_t message_type_byte(const Message& message) noexcept;

// Size limits that come from the network's consensus parameters.
struct DecodeLimits {
    std::size_t max_block_size;
    std::size_t max_tx_size;

    static DecodeLimits from(const core::Params& params) noexcept {
        return {params.max_block_size, params.max_tx_size};
    }
};

// Decodes one whole message. Fails with kDecode, and a message naming the type and what is
// wrong, on: empty input, more than kMaxMessageSize bytes, a payload that is short, has
// trailing bytes, a count or length over its limit or over what the remaining bytes could
// hold, non-canonical compact sizes, strings with bytes outside their alphabet, a block or
// transaction over its limit or that does not parse. A type byte not in MessageType gives
// UnknownMessage. Never throws and never reads outside `bytes`.
util::Result<Message> decode_message(util::ByteSpan bytes, const DecodeLimits& limits) noexcept;

// Encodes a message. Assumes it respects the limits above (asserts otherwise: building an
// oversized message is a bug of the sender) and is not an UnknownMessage.
util::Bytes encode_message(const Message& message);

// A block message built from a block's stored bytes, without decoding them.
util::Bytes encode_block_message(util::ByteSpan block_bytes);

}  // namespace peerchain::net::wire
