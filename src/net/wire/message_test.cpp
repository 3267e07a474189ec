#include "net/wire/message.hpp"

#include <gtest/gtest.h>

#include "core/serialize.hpp"
#include "net/wire/allocation_probe.hpp"
#include "tests/util/block_builder.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::wire {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }
DecodeLimits limits() { return DecodeLimits::from(regtest()); }

core::Uint256 hash_of(std::uint8_t fill) {
    std::array<std::uint8_t, 32> b;
    b.fill(fill);
    return core::Uint256(b);
}

core::Block sample_block() {
    const auto& p = regtest();
    core::Block block =
        testutil::make_block(p, p.genesis_hash, 1, p.genesis.header.time + 10, "wire test");
    testutil::mine(block, p);
    return block;
}

// One instance of every known message, with non-trivial contents.
std::vector<Message> samples() {
    std::vector<Message> out;
    VersionMessage v;
    v.magic = regtest().magic;
    v.best_height = 1234;
    v.best_work = core::ArithUint256(0x123456789abcdefULL) << 100;
    v.nonce = 0xdeadbeefcafef00dULL;
    v.listen_port = 6001;
    v.user_agent = "/peerchain:0.1.0/";
    v.time = 1795219200;
    out.emplace_back(v);
    out.emplace_back(VerackMessage{});
    out.emplace_back(PingMessage{42});
    out.emplace_back(PongMessage{~std::uint64_t{0}});
    out.emplace_back(GetAddrMessage{});
    out.emplace_back(
        AddrMessage{{{"127.0.0.1", 6001, 1795219200}, {"::1", 6002, -1}, {"node.example", 1, 0}}});
    out.emplace_back(InvMessage{{{InvType::kBlock, hash_of(1)}, {InvType::kTx, hash_of(2)}}});
    out.emplace_back(GetDataMessage{{{InvType::kBlock, hash_of(3)}}});
    out.emplace_back(NotFoundMessage{{{InvType::kBlock, hash_of(4)}, {InvType{7}, hash_of(5)}}});
    out.emplace_back(GetHeadersMessage{{hash_of(6), hash_of(7), regtest().genesis_hash}, {}});
    const core::Block block = sample_block();
    out.emplace_back(HeadersMessage{{regtest().genesis.header, block.header}});
    out.emplace_back(BlockMessage{block});
    out.emplace_back(TxMessage{block.txs[0]});
    out.emplace_back(MempoolMessage{});
    out.emplace_back(SendAddrV2Message{});
    out.emplace_back(AddrV2Message{{{"10.1.2.3", 6001, 1795219200, kAddrWebSocket},
                                    {"::1", 6002, -1, kAddrTcp},
                                    {"127.0.0.1", 6003, 7, kAddrWebSocket | kAddrTcp},
                                    {"203.0.113.9", 1, 0, 0xfc}}});
    out.emplace_back(RejectMessage{InvType::kTx, hash_of(10), "min-fee-not-met", "fee 0 for 1 B"});
    return out;
}

TEST(WireMessage, EveryTypeRoundTrips) {
    const auto all = samples();
    ASSERT_EQ(all.size(), 17u);  // one of each known type
    for (const auto& m : all) {
        const auto bytes = encode_message(m);
        ASSERT_FALSE(bytes.empty());
        EXPECT_EQ(bytes[0], message_type_byte(m));
        auto back = decode_message(bytes, limits());
        ASSERT_TRUE(back) << message_type_name(bytes[0]) << ": " << back.error().to_string();
        EXPECT_EQ(*back, m) << message_type_name(bytes[0]);
    }
}

TEST(WireMessage, TypeNumbersArePinned) {
    // Other implementations depend on these numbers (docs/PROTOCOL.md).
    const char* names[] = {"version", "verack",  "ping",       "pong",       "getaddr", "addr",
                           "inv",     "getdata", "notfound",   "getheaders", "headers", "block",
                           "tx",      "mempool", "sendaddrv2", "addrv2",     "reject"};
    const auto all = samples();
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(message_type_byte(all[i]), i + 1);
        EXPECT_STREQ(message_type_name(static_cast<std::uint8_t>(i + 1)), names[i]);
    }
    EXPECT_STREQ(message_type_name(0), "unknown");
    EXPECT_STREQ(message_type_name(18), "unknown");
}

TEST(WireMessage, VersionLayoutIsPinned) {
    VersionMessage v;
    v.magic = {'p', 'c', 'r', 't'};
    v.protocol_version = 1;
    v.services = 1;
    v.best_height = 2;
    v.best_work = core::ArithUint256(3);
    v.nonce = 4;
    v.listen_port = 5;
    v.user_agent = "ua";
    v.time = 6;
    const auto bytes = encode_message(v);
    const std::string expected =
        "01"                                                                // type
        "70637274"                                                          // magic
        "01000000"                                                          // protocol
        "0100000000000000"                                                  // services
        "02000000"                                                          // best_height
        "0300000000000000000000000000000000000000000000000000000000000000"  // best_work
        "0400000000000000"                                                  // nonce
        "0500"                                                              // listen_port
        "027561"                                                            // user_agent
        "0600000000000000";                                                 // time
    EXPECT_EQ(util::to_hex(bytes), expected);
}

TEST(WireMessage, AddrV2LayoutIsPinned) {
    const auto bytes = encode_message(AddrV2Message{{{"::1", 6001, 5, kAddrWebSocket | kAddrTcp}}});
    const std::string expected =
        "10"                // type 16
        "01"                // count
        "033a3a31"          // host "::1"
        "7117"              // port 6001
        "0500000000000000"  // last_seen
        "03";               // transports: WebSocket and TCP
    EXPECT_EQ(util::to_hex(bytes), expected);
    // An addr entry carries no transports: it decodes as a WebSocket listener.
    auto addr = decode_message(encode_message(AddrMessage{{{"::1", 6001, 5, kAddrTcp}}}), limits());
    ASSERT_TRUE(addr);
    EXPECT_EQ(std::get<AddrMessage>(*addr).addresses[0].transports, kAddrWebSocket);
}

// Issue 9: the reject message other implementations decode.
TEST(WireMessage, RejectLayoutIsPinned) {
    const auto bytes =
        encode_message(RejectMessage{InvType::kTx, hash_of(0xab), "min-fee-not-met", "fee 0"});
    const std::string expected =
        "11"                                                                // type 17
        "01"                                                                // inv_type: tx
        "abababababababababababababababababababababababababababababababab"  // hash
        "0f6d696e2d6665652d6e6f742d6d6574"                                  // reason
        "056665652030";                                                     // detail "fee 0"
    EXPECT_EQ(util::to_hex(bytes), expected);
}

TEST(WireMessage, RejectStringsAreBoundedAndPrintable) {
    RejectMessage m{InvType::kBlock, hash_of(1), std::string(kMaxRejectReasonLength, 'r'),
                    std::string(kMaxRejectDetailLength, 'd')};
    auto back = decode_message(encode_message(m), limits());
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, Message(m));

    // One byte over either limit, or a byte outside printable ASCII, is malformed (built
    // by hand: encode asserts the limits).
    const auto build = [](std::size_t reason_len, std::size_t detail_len, std::uint8_t fill) {
        util::Bytes out;
        core::Writer w(out);
        w.u8(static_cast<std::uint8_t>(MessageType::kReject));
        w.u8(2);
        w.hash(hash_of(1));
        w.var_bytes(util::Bytes(reason_len, fill));
        w.var_bytes(util::Bytes(detail_len, fill));
        return out;
    };
    EXPECT_TRUE(
        decode_message(build(kMaxRejectReasonLength, kMaxRejectDetailLength, 'x'), limits()));
    EXPECT_FALSE(decode_message(build(kMaxRejectReasonLength + 1, 0, 'x'), limits()));
    EXPECT_FALSE(decode_message(build(0, kMaxRejectDetailLength + 1, 'x'), limits()));
    EXPECT_FALSE(decode_message(build(3, 3, '\n'), limits()));
    EXPECT_FALSE(decode_message(build(3, 3, 0x7f), limits()));

    // make_reject fits any text: cut to the limits, other bytes replaced.
    const auto made =
        make_reject(InvType::kTx, hash_of(2), "a\tb", "line\none" + std::string(500, 'z') + "\x80");
    EXPECT_EQ(made.reason, "a?b");
    ASSERT_EQ(made.detail.size(), kMaxRejectDetailLength);
    EXPECT_EQ(made.detail.substr(0, 9), "line?one" + std::string("z"));
    back = decode_message(encode_message(made), limits());
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, Message(made));
}

TEST(WireMessage, LargestListsRoundTrip) {
    InvMessage inv;
    inv.items.assign(kMaxInvItems, InvItem{InvType::kBlock, hash_of(9)});
    HeadersMessage headers;
    headers.headers.assign(kMaxHeaders, regtest().genesis.header);
    GetHeadersMessage gh;
    gh.locator.assign(kMaxLocatorHashes, hash_of(8));
    AddrMessage addr;
    addr.addresses.assign(kMaxAddresses, NetAddress{std::string(kMaxHostLength, 'h'), 1, 2});
    VersionMessage v;
    v.user_agent.assign(kMaxUserAgentLength, 'u');
    AddrV2Message addr2;
    addr2.addresses.assign(kMaxAddresses,
                           NetAddress{std::string(kMaxHostLength, 'h'), 1, 2, kAddrTcp});
    for (const Message& m : std::vector<Message>{inv, headers, gh, addr, addr2, v}) {
        auto back = decode_message(encode_message(m), limits());
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, m);
    }
}

TEST(WireMessage, EveryTruncationFailsAndTrailingBytesFail) {
    for (const auto& m : samples()) {
        const auto bytes = encode_message(m);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            auto r = decode_message(util::ByteSpan(bytes.data(), n), limits());
            ASSERT_FALSE(r) << message_type_name(bytes[0]) << " cut to " << n << " bytes";
            EXPECT_EQ(r.error().code, util::Errc::kDecode);
        }
        auto longer = bytes;
        longer.push_back(0);
        auto r = decode_message(longer, limits());
        ASSERT_FALSE(r) << message_type_name(bytes[0]) << " with a trailing byte";
        EXPECT_EQ(r.error().code, util::Errc::kDecode);
    }
}

TEST(WireMessage, UnknownTypesDecodeAsUnknown) {
    for (int type : {0, 18, 100, 255}) {
        util::Bytes bytes = {static_cast<std::uint8_t>(type), 1, 2, 3};
        auto r = decode_message(bytes, limits());
        ASSERT_TRUE(r) << type;
        const auto* unknown = std::get_if<UnknownMessage>(&*r);
        ASSERT_NE(unknown, nullptr);
        EXPECT_EQ(unknown->type, type);
        EXPECT_EQ(unknown->payload_size, 3u);
        EXPECT_EQ(message_type_byte(*r), type);
    }
    auto empty = decode_message(util::Bytes{}, limits());
    EXPECT_FALSE(empty);
}

util::Bytes with_count(MessageType type, std::uint64_t count, std::size_t filler) {
    util::Bytes out;
    core::Writer w(out);
    w.u8(static_cast<std::uint8_t>(type));
    w.compact_size(count);
    out.resize(out.size() + filler, 0x41);
    return out;
}

TEST(WireMessage, AllocationProbeSeesAnAllocation) {
    testing::AllocationProbe probe;
    char* volatile p = new char[4096];  // volatile: the allocation cannot be elided
    delete[] p;
    EXPECT_GE(probe.largest(), 4096u);
}

TEST(WireMessage, OversizedCountsFailWithoutAllocating) {
    struct Case {
        MessageType type;
        std::size_t limit;
    };
    const Case cases[] = {
        {MessageType::kAddr, kMaxAddresses},           {MessageType::kInv, kMaxInvItems},
        {MessageType::kGetData, kMaxInvItems},         {MessageType::kNotFound, kMaxInvItems},
        {MessageType::kGetHeaders, kMaxLocatorHashes}, {MessageType::kHeaders, kMaxHeaders}};
    for (const auto& c : cases) {
        for (std::uint64_t count : {std::uint64_t{c.limit} + 1, std::uint64_t{1} << 32,
                                    ~std::uint64_t{0}, std::uint64_t{c.limit}}) {
            const auto bytes = with_count(c.type, count, 64);
            testing::AllocationProbe probe;
            auto r = decode_message(bytes, limits());
            EXPECT_FALSE(r) << message_type_name(static_cast<std::uint8_t>(c.type)) << " " << count;
            // Error text aside, nothing near the claimed size was reserved.
            EXPECT_LT(probe.largest(), 1024u)
                << message_type_name(static_cast<std::uint8_t>(c.type)) << " " << count;
        }
    }
    // Strings: a length over the limit, and one longer than the payload.
    for (std::uint64_t len : {std::uint64_t{kMaxUserAgentLength} + 1, ~std::uint64_t{0}}) {
        util::Bytes bytes;
        core::Writer w(bytes);
        w.u8(static_cast<std::uint8_t>(MessageType::kVersion));
        w.bytes(util::Bytes(4 + 4 + 8 + 4 + 32 + 8 + 2, 0));
        w.compact_size(len);
        testing::AllocationProbe probe;
        EXPECT_FALSE(decode_message(bytes, limits()));
        EXPECT_LT(probe.largest(), 1024u);
    }
    // A block that claims 2^32 transactions.
    util::Bytes block;
    core::Writer w(block);
    w.u8(static_cast<std::uint8_t>(MessageType::kBlock));
    regtest().genesis.header.serialize(w);
    w.compact_size(std::uint64_t{1} << 32);
    testing::AllocationProbe probe;
    EXPECT_FALSE(decode_message(block, limits()));
    EXPECT_LT(probe.largest(), 1024u);
}

TEST(WireMessage, SizeLimitsAreEnforced) {
    util::Bytes huge(kMaxMessageSize + 1, 0);
    huge[0] = static_cast<std::uint8_t>(MessageType::kVerack);
    EXPECT_FALSE(decode_message(huge, limits()));

    // A block message one byte over the network's limit fails before it is parsed.
    DecodeLimits tight = limits();
    const auto block_bytes = encode_message(BlockMessage{sample_block()});
    tight.max_block_size = block_bytes.size() - 2;
    EXPECT_FALSE(decode_message(block_bytes, tight));
    tight.max_block_size = block_bytes.size() - 1;
    EXPECT_TRUE(decode_message(block_bytes, tight));

    const auto tx_bytes = encode_message(TxMessage{sample_block().txs[0]});
    tight.max_tx_size = tx_bytes.size() - 2;
    EXPECT_FALSE(decode_message(tx_bytes, tight));
}

TEST(WireMessage, StringsMustBePrintable) {
    VersionMessage v;
    v.user_agent = "ok agent/1.0";
    EXPECT_TRUE(decode_message(encode_message(v), limits()));
    v.user_agent = "bad\nagent";
    EXPECT_FALSE(decode_message(encode_message(v), limits()));

    AddrMessage a{{{"host with space", 1, 0}}};
    EXPECT_FALSE(decode_message(encode_message(a), limits()));
    // An empty host is refused on decode (encode asserts, so build it by hand).
    util::Bytes bytes = {static_cast<std::uint8_t>(MessageType::kAddr), 1, 0, 1, 0};
    bytes.resize(bytes.size() + 8, 0);
    EXPECT_FALSE(decode_message(bytes, limits()));
}

TEST(WireMessage, NonCanonicalCountsFail) {
    // inv with zero items written as 0xfd 0x00 0x00.
    const util::Bytes bytes = {static_cast<std::uint8_t>(MessageType::kInv), 0xfd, 0, 0};
    EXPECT_FALSE(decode_message(bytes, limits()));
    const util::Bytes canonical = {static_cast<std::uint8_t>(MessageType::kInv), 0};
    EXPECT_TRUE(decode_message(canonical, limits()));
}

TEST(WireMessage, BlockMessageFromStoredBytesMatches) {
    const core::Block block = sample_block();
    EXPECT_EQ(encode_block_message(block.encode()), encode_message(BlockMessage{block}));
}

// Random input never crashes the decoder, and whatever decodes re-encodes to the same
// bytes (each grammar has one encoding). Run with PEERCHAIN_TEST_SEED=<n> to repeat.
TEST(WireMessage, RandomBytesNeverCrash) {
    auto& rng = testutil::rng();
    const auto all = samples();
    std::vector<util::Bytes> encoded;
    for (const auto& m : all) encoded.push_back(encode_message(m));
    int decoded = 0;
    for (int i = 0; i < 10'000; ++i) {
        util::Bytes bytes;
        switch (rng() % 3) {
            case 0:  // pure noise, with a type byte that is usually known
                bytes = testutil::random_bytes(rng() % 300);
                if (!bytes.empty() && rng() % 4 != 0) {
                    bytes[0] = static_cast<std::uint8_t>(1 + rng() % 14);
                }
                break;
            case 1: {  // a valid message with a few bytes changed
                bytes = encoded[rng() % encoded.size()];
                const int flips = 1 + static_cast<int>(rng() % 4);
                for (int f = 0; f < flips && bytes.size() > 1; ++f) {
                    bytes[1 + rng() % (bytes.size() - 1)] = static_cast<std::uint8_t>(rng());
                }
                break;
            }
            default: {  // a valid message cut or extended at random
                bytes = encoded[rng() % encoded.size()];
                const auto extra = testutil::random_bytes(rng() % 8);
                bytes.resize(rng() % (bytes.size() + 1));
                bytes.insert(bytes.end(), extra.begin(), extra.end());
                break;
            }
        }
        auto r = decode_message(bytes, limits());
        if (r && !std::holds_alternative<UnknownMessage>(*r)) {
            ++decoded;
            EXPECT_EQ(encode_message(*r), bytes) << util::to_hex(bytes);
        }
    }
    EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace peerchain::net::wire
