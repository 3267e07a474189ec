#include "net/transport/limits.hpp"

#include <gtest/gtest.h>

#include <string>

namespace peerchain::net::transport {
namespace {

TEST(Limits, DefaultsAreValid) { EXPECT_TRUE(Limits{}.validate()); }

TEST(Limits, HeldBytesCountsCapacityAndOverhead) {
    util::Bytes tiny(1);
    EXPECT_EQ(held_bytes(tiny), tiny.capacity() + kQueuedMessageOverhead);
    util::Bytes empty;
    EXPECT_EQ(held_bytes(empty), kQueuedMessageOverhead);
    util::Bytes roomy;
    roomy.reserve(4096);
    roomy.push_back(1);
    EXPECT_GE(held_bytes(roomy), 4096 + kQueuedMessageOverhead);
}

TEST(Limits, SendQueueMustHoldOneMaximumMessageWithItsOverhead) {
    Limits limits;
    limits.max_message_size = 1000;
    limits.max_send_queue_bytes = 1000 + kQueuedMessageOverhead;
    EXPECT_TRUE(limits.validate());
    limits.max_send_queue_bytes = 1000 + kQueuedMessageOverhead - 1;
    auto r = limits.validate();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, util::Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find("max_send_queue_bytes"), std::string::npos);
    limits.max_send_queue_bytes = 999;
    EXPECT_FALSE(limits.validate());
}

TEST(Limits, RejectsZeroesAndNegatives) {
    Limits a;
    a.max_message_size = 0;
    EXPECT_FALSE(a.validate());
    Limits b;
    b.handshake_timeout = std::chrono::milliseconds(0);
    EXPECT_FALSE(b.validate());
    Limits c;
    c.idle_timeout = std::chrono::milliseconds(-1);
    EXPECT_FALSE(c.validate());
    Limits d;
    d.max_inbound = 0;
    d.max_outbound = 0;
    EXPECT_FALSE(d.validate());
}

TEST(Limits, AtLeastOneTransport) {
    Limits limits;
    limits.websocket = false;
    EXPECT_TRUE(limits.validate());
    limits.websocket = true;
    limits.tcp = false;
    EXPECT_TRUE(limits.validate());
    limits.websocket = false;
    auto r = limits.validate();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("both disabled"), std::string::npos);
}

TEST(Limits, TcpNeedsTheCapBelowGetReadAsALength) {
    // "GET " read as a little-endian u32.
    EXPECT_EQ(kGetAsFrameLength, 0x47u | 0x45u << 8 | 0x54u << 16 | 0x20u << 24);
    Limits limits;
    limits.max_message_size = kGetAsFrameLength - 1;
    limits.max_send_queue_bytes = kGetAsFrameLength + kQueuedMessageOverhead;
    EXPECT_TRUE(limits.validate());
    limits.max_message_size = kGetAsFrameLength;
    auto r = limits.validate();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("tcp"), std::string::npos);
    limits.tcp = false;  // WebSocket alone has no such limit
    EXPECT_TRUE(limits.validate());
}

}  // namespace
}  // namespace peerchain::net::transport
