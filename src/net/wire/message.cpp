#include "net/wire/message.hpp"

#include <exception>
#include <type_traits>

#include "core/serialize.hpp"
#include "util/assert.hpp"

namespace peerchain::net::wire {

namespace {

using core::Reader;
using core::Writer;
using util::Errc;
using util::Unexpected;

// message_type_byte() relies on the variant listing the known types in MessageType order.
template <MessageType T, typename M>
constexpr bool kAt =
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(T) - 1, Message>, M>;
static_assert(kAt<MessageType::kVersion, VersionMessage> &&
              kAt<MessageType::kVerack, VerackMessage> && kAt<MessageType::kPing, PingMessage> &&
              kAt<MessageType::kPong, PongMessage> && kAt<MessageType::kGetAddr, GetAddrMessage> &&
              kAt<MessageType::kAddr, AddrMessage> && kAt<MessageType::kInv, InvMessage> &&
              kAt<MessageType::kGetData, GetDataMessage> &&
              kAt<MessageType::kNotFound, NotFoundMessage> &&
              kAt<MessageType::kGetHeaders, GetHeadersMessage> &&
              kAt<MessageType::kHeaders, HeadersMessage> &&
              kAt<MessageType::kBlock, BlockMessage> && kAt<MessageType::kTx, TxMessage> &&
              kAt<MessageType::kMempool, MempoolMessage> &&
              kAt<MessageType::kSendAddrV2, SendAddrV2Message> &&
              kAt<MessageType::kAddrV2, AddrV2Message> && kAt<MessageType::kReject, RejectMessage>);

constexpr std::size_t kInvItemSize = 1 + 32;
// An address is at least a one-byte length, one host byte, the port and the time.
constexpr std::size_t kMinAddressSize = 1 + 1 + 2 + 8;

Unexpected fail(MessageType type, const std::string& what) {
    return Unexpected(
        Errc::kDecode,
        std::string(message_type_name(static_cast<std::uint8_t>(type))) + ": " + what);
}

// Reads a count that must be at most `limit` and that the remaining bytes, at
// `element_size` each, could hold. Says which bound was broken.
util::Result<std::size_t> read_count(Reader& r, MessageType type, std::size_t limit,
                                     std::size_t element_size) {
    std::uint64_t n = 0;
    if (!r.compact_size(n, ~std::uint64_t{0})) return fail(type, "bad count");
    if (n > limit) {
        return fail(type, "count " + std::to_string(n) + " over limit " + std::to_string(limit));
    }
    if (n > r.remaining() / element_size) {
        return fail(type, "count " + std::to_string(n) + " longer than the payload");
    }
    return static_cast<std::size_t>(n);
}

bool in_alphabet(const util::Bytes& s, std::uint8_t low, std::uint8_t high) {
    for (auto c : s) {
        if (c < low || c > high) return false;
    }
    return true;
}

util::Result<std::string> read_string(Reader& r, MessageType type, const char* field,
                                      std::size_t max, std::size_t min, std::uint8_t low) {
    util::Bytes raw;
    if (!r.var_bytes(raw, max)) return fail(type, std::string(field) + ": bad length");
    if (raw.size() < min) return fail(type, std::string(field) + ": empty");
    if (!in_alphabet(raw, low, 0x7e)) {
        return fail(type, std::string(field) + ": not printable ASCII");
    }
    return std::string(raw.begin(), raw.end());
}

util::Result<VersionMessage> decode_version(Reader& r) {
    constexpr auto kType = MessageType::kVersion;
    VersionMessage m;
    core::Uint256 work;
    if (!r.array(m.magic) || !r.u32(m.protocol_version) || !r.u64(m.services) ||
        !r.u32(m.best_height) || !r.hash(work) || !r.u64(m.nonce) || !r.u16(m.listen_port)) {
        return fail(kType, "short");
    }
    m.best_work = core::ArithUint256::from_le(work);
    auto agent = read_string(r, kType, "user_agent", kMaxUserAgentLength, 0, 0x20);
    if (!agent) return Unexpected(std::move(agent).error());
    m.user_agent = std::move(*agent);
    if (!r.i64(m.time)) return fail(kType, "short");
    return m;
}

util::Result<std::uint64_t> decode_nonce(Reader& r, MessageType type) {
    std::uint64_t nonce = 0;
    if (!r.u64(nonce)) return fail(type, "short");
    return nonce;
}

// addr (v2 false) or addrv2 (v2 true): the same entries, addrv2 with a transports byte.
util::Result<std::vector<NetAddress>> decode_addresses(Reader& r, bool v2) {
    const auto type = v2 ? MessageType::kAddrV2 : MessageType::kAddr;
    auto n = read_count(r, type, kMaxAddresses, kMinAddressSize + (v2 ? 1 : 0));
    if (!n) return Unexpected(std::move(n).error());
    std::vector<NetAddress> out;
    out.reserve(*n);
    for (std::size_t i = 0; i < *n; ++i) {
        NetAddress a;
        auto host = read_string(r, type, "host", kMaxHostLength, 1, 0x21);
        if (!host) return Unexpected(std::move(host).error());
        a.host = std::move(*host);
        if (!r.u16(a.port) || !r.i64(a.last_seen)) return fail(type, "short address");
        if (v2 && !r.u8(a.transports)) return fail(type, "short address");
        out.push_back(std::move(a));
    }
    return out;
}

util::Result<std::vector<InvItem>> decode_items(Reader& r, MessageType type) {
    auto n = read_count(r, type, kMaxInvItems, kInvItemSize);
    if (!n) return Unexpected(std::move(n).error());
    std::vector<InvItem> items(*n);
    for (auto& item : items) {
        std::uint8_t t = 0;
        if (!r.u8(t) || !r.hash(item.hash)) return fail(type, "short item");
        item.type = static_cast<InvType>(t);
    }
    return items;
}

util::Result<GetHeadersMessage> decode_getheaders(Reader& r) {
    constexpr auto kType = MessageType::kGetHeaders;
    auto n = read_count(r, kType, kMaxLocatorHashes, core::Uint256::kSize);
    if (!n) return Unexpected(std::move(n).error());
    GetHeadersMessage m;
    m.locator.resize(*n);
    for (auto& h : m.locator) {
        if (!r.hash(h)) return fail(kType, "short locator");
    }
    if (!r.hash(m.stop_hash)) return fail(kType, "short stop hash");
    return m;
}

util::Result<HeadersMessage> decode_headers(Reader& r) {
    constexpr auto kType = MessageType::kHeaders;
    auto n = read_count(r, kType, kMaxHeaders, core::kHeaderSize);
    if (!n) return Unexpected(std::move(n).error());
    HeadersMessage m;
    m.headers.reserve(*n);
    for (std::size_t i = 0; i < *n; ++i) {
        auto h = core::decode_header(r);
        if (!h) return fail(kType, "short header");
        m.headers.push_back(*h);
    }
    return m;
}

util::Result<RejectMessage> decode_reject(Reader& r) {
    constexpr auto kType = MessageType::kReject;
    RejectMessage m;
    std::uint8_t t = 0;
    if (!r.u8(t) || !r.hash(m.hash)) return fail(kType, "short");
    m.type = static_cast<InvType>(t);
    auto reason = read_string(r, kType, "reason", kMaxRejectReasonLength, 0, 0x20);
    if (!reason) return Unexpected(std::move(reason).error());
    m.reason = std::move(*reason);
    auto detail = read_string(r, kType, "detail", kMaxRejectDetailLength, 0, 0x20);
    if (!detail) return Unexpected(std::move(detail).error());
    m.detail = std::move(*detail);
    return m;
}

// Wraps a payload decoder: the payload must be consumed exactly.
template <typename T>
util::Result<Message> finish(util::Result<T> decoded, const Reader& r, MessageType type) {
    if (!decoded) return Unexpected(std::move(decoded).error());
    if (!r.at_end()) return fail(type, "trailing bytes");
    return Message(std::move(*decoded));
}

util::Result<Message> decode_payload(std::uint8_t type_byte, util::ByteSpan payload,
                                     const DecodeLimits& limits) {
    const auto type = static_cast<MessageType>(type_byte);
    Reader r(payload);
    switch (type) {
        case MessageType::kVersion:
            return finish(decode_version(r), r, type);
        case MessageType::kVerack:
            return finish(util::Result<VerackMessage>(VerackMessage{}), r, type);
        case MessageType::kPing: {
            auto nonce = decode_nonce(r, type);
            if (!nonce) return Unexpected(std::move(nonce).error());
            return finish(util::Result<PingMessage>(PingMessage{*nonce}), r, type);
        }
        case MessageType::kPong: {
            auto nonce = decode_nonce(r, type);
            if (!nonce) return Unexpected(std::move(nonce).error());
            return finish(util::Result<PongMessage>(PongMessage{*nonce}), r, type);
        }
        case MessageType::kGetAddr:
            return finish(util::Result<GetAddrMessage>(GetAddrMessage{}), r, type);
        case MessageType::kAddr: {
            auto addresses = decode_addresses(r, false);
            if (!addresses) return Unexpected(std::move(addresses).error());
            return finish(util::Result<AddrMessage>(AddrMessage{std::move(*addresses)}), r, type);
        }
        case MessageType::kInv:
        case MessageType::kGetData:
        case MessageType::kNotFound: {
            auto items = decode_items(r, type);
            if (!items) return Unexpected(std::move(items).error());
            if (!r.at_end()) return fail(type, "trailing bytes");
            if (type == MessageType::kInv) return Message(InvMessage{std::move(*items)});
            if (type == MessageType::kGetData) return Message(GetDataMessage{std::move(*items)});
            return Message(NotFoundMessage{std::move(*items)});
        }
        case MessageType::kGetHeaders:
            return finish(decode_getheaders(r), r, type);
        case MessageType::kHeaders:
            return finish(decode_headers(r), r, type);
        case MessageType::kBlock: {
            if (payload.size() > limits.max_block_size) {
                return fail(type, "block of " + std::to_string(payload.size()) +
                                      " bytes over limit " + std::to_string(limits.max_block_size));
            }
            auto block = core::decode_block(payload, limits.max_block_size);
            if (!block) return fail(type, std::move(block).error().message);
            return Message(BlockMessage{std::move(*block)});
        }
        case MessageType::kTx: {
            if (payload.size() > limits.max_tx_size) {
                return fail(type, "transaction of " + std::to_string(payload.size()) +
                                      " bytes over limit " + std::to_string(limits.max_tx_size));
            }
            auto tx = core::decode_transaction(payload);
            if (!tx) return fail(type, std::move(tx).error().message);
            return Message(TxMessage{std::move(*tx)});
        }
        case MessageType::kMempool:
            return finish(util::Result<MempoolMessage>(MempoolMessage{}), r, type);
        case MessageType::kSendAddrV2:
            return finish(util::Result<SendAddrV2Message>(SendAddrV2Message{}), r, type);
        case MessageType::kAddrV2: {
            auto addresses = decode_addresses(r, true);
            if (!addresses) return Unexpected(std::move(addresses).error());
            return finish(util::Result<AddrV2Message>(AddrV2Message{std::move(*addresses)}), r,
                          type);
        }
        case MessageType::kReject:
            return finish(decode_reject(r), r, type);
    }
    return Message(UnknownMessage{type_byte, payload.size()});
}

void write_items(Writer& w, const std::vector<InvItem>& items) {
    NODE_ASSERT(items.size() <= kMaxInvItems);
    w.compact_size(items.size());
    for (const auto& item : items) {
        w.u8(static_cast<std::uint8_t>(item.type));
        w.hash(item.hash);
    }
}

void write_string(Writer& w, const std::string& s, std::size_t max) {
    NODE_ASSERT(s.size() <= max);
    w.var_bytes(util::as_bytes(s));
}

struct PayloadWriter {
    Writer& w;

    void operator()(const VersionMessage& m) const {
        w.bytes(m.magic);
        w.u32(m.protocol_version);
        w.u64(m.services);
        w.u32(m.best_height);
        w.hash(m.best_work.to_le());
        w.u64(m.nonce);
        w.u16(m.listen_port);
        write_string(w, m.user_agent, kMaxUserAgentLength);
        w.i64(m.time);
    }
    void operator()(const VerackMessage&) const {}
    void operator()(const PingMessage& m) const { w.u64(m.nonce); }
    void operator()(const PongMessage& m) const { w.u64(m.nonce); }
    void operator()(const GetAddrMessage&) const {}
    void addresses(const std::vector<NetAddress>& list, bool v2) const {
        NODE_ASSERT(list.size() <= kMaxAddresses);
        w.compact_size(list.size());
        for (const auto& a : list) {
            NODE_ASSERT(!a.host.empty());
            write_string(w, a.host, kMaxHostLength);
            w.u16(a.port);
            w.i64(a.last_seen);
            if (v2) w.u8(a.transports);
        }
    }
    void operator()(const AddrMessage& m) const { addresses(m.addresses, false); }
    void operator()(const AddrV2Message& m) const { addresses(m.addresses, true); }
    void operator()(const SendAddrV2Message&) const {}
    void operator()(const InvMessage& m) const { write_items(w, m.items); }
    void operator()(const GetDataMessage& m) const { write_items(w, m.items); }
    void operator()(const NotFoundMessage& m) const { write_items(w, m.items); }
    void operator()(const GetHeadersMessage& m) const {
        NODE_ASSERT(m.locator.size() <= kMaxLocatorHashes);
        w.compact_size(m.locator.size());
        for (const auto& h : m.locator) w.hash(h);
        w.hash(m.stop_hash);
    }
    void operator()(const HeadersMessage& m) const {
        NODE_ASSERT(m.headers.size() <= kMaxHeaders);
        w.compact_size(m.headers.size());
        for (const auto& h : m.headers) h.serialize(w);
    }
    void operator()(const BlockMessage& m) const { m.block.serialize(w); }
    void operator()(const TxMessage& m) const { m.tx.serialize(w); }
    void operator()(const MempoolMessage&) const {}
    void operator()(const RejectMessage& m) const {
        w.u8(static_cast<std::uint8_t>(m.type));
        w.hash(m.hash);
        write_string(w, m.reason, kMaxRejectReasonLength);
        write_string(w, m.detail, kMaxRejectDetailLength);
    }
    void operator()(const UnknownMessage&) const { NODE_ASSERT(false); }
};

}  // namespace

const char* message_type_name(std::uint8_t type) noexcept {
    switch (static_cast<MessageType>(type)) {
        case MessageType::kVersion:
            return "version";
        case MessageType::kVerack:
            return "verack";
        case MessageType::kPing:
            return "ping";
        case MessageType::kPong:
            return "pong";
        case MessageType::kGetAddr:
            return "getaddr";
        case MessageType::kAddr:
            return "addr";
        case MessageType::kInv:
            return "inv";
        case MessageType::kGetData:
            return "getdata";
        case MessageType::kNotFound:
            return "notfound";
        case MessageType::kGetHeaders:
            return "getheaders";
        case MessageType::kHeaders:
            return "headers";
        case MessageType::kBlock:
            return "block";
        case MessageType::kTx:
            return "tx";
        case MessageType::kMempool:
            return "mempool";
        case MessageType::kSendAddrV2:
            return "sendaddrv2";
        case MessageType::kAddrV2:
            return "addrv2";
        case MessageType::kReject:
            return "reject";
    }
    return "unknown";
}

RejectMessage make_reject(InvType type, const core::Uint256& hash, std::string_view reason,
                          std::string_view detail) {
    const auto printable = [](std::string_view text, std::size_t max) {
        std::string out(text.substr(0, max));
        for (char& c : out) {
            const auto b = static_cast<unsigned char>(c);
            if (b < 0x20 || b > 0x7e) c = '?';
        }
        return out;
    };
    return RejectMessage{type, hash, printable(reason, kMaxRejectReasonLength),
                         printable(detail, kMaxRejectDetailLength)};
}

std::uint8_t message_type_byte(const Message& message) noexcept {
    if (const auto* unknown = std::get_if<UnknownMessage>(&message)) return unknown->type;
    return static_cast<std::uint8_t>(message.index() + 1);
}

util::Result<Message> decode_message(util::ByteSpan bytes, const DecodeLimits& limits) noexcept {
    try {
        if (bytes.empty()) return Unexpected(Errc::kDecode, "empty message");
        if (bytes.size() > kMaxMessageSize) {
            return Unexpected(Errc::kDecode, "message of " + std::to_string(bytes.size()) +
                                                 " bytes over limit " +
                                                 std::to_string(kMaxMessageSize));
        }
        return decode_payload(bytes[0], bytes.subspan(1), limits);
    } catch (const std::exception& e) {
        // Only allocation can throw here, and every allocation is bounded by the message
        // size; report rather than terminate.
        return Unexpected(Errc::kDecode, std::string("decode failed: ") + e.what());
    }
}

util::Bytes encode_message(const Message& message) {
    util::Bytes out;
    Writer w(out);
    w.u8(message_type_byte(message));
    std::visit(PayloadWriter{w}, message);
    NODE_ASSERT(out.size() <= kMaxMessageSize);
    return out;
}

util::Bytes encode_block_message(util::ByteSpan block_bytes) {
    util::Bytes out;
    out.reserve(block_bytes.size() + 1);
    out.push_back(static_cast<std::uint8_t>(MessageType::kBlock));
    out.insert(out.end(), block_bytes.begin(), block_bytes.end());
    return out;
}

}  // namespace peerchain::net::wire
