// prepare_message: what the transport's threads work out before a message queues for the
// chain executor, which reuses it instead of computing it again.
#include "net/peer_manager/prepared_message.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "core/block.hpp"
#include "core/params.hpp"
#include "net/wire/message.hpp"
#include "tests/util/block_builder.hpp"

namespace peerchain::net::peer_manager {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

std::vector<core::Block> chain_of(std::uint32_t n) {
    const core::Params& p = regtest();
    std::vector<core::Block> blocks;
    core::Uint256 parent = p.genesis_hash;
    std::uint32_t time = p.genesis.header.time;
    for (std::uint32_t h = 1; h <= n; ++h) {
        time += 60;
        core::Block b = testutil::make_block(p, parent, h, time);
        testutil::mine(b, p);
        parent = b.hash();
        blocks.push_back(std::move(b));
    }
    return blocks;
}

PreparedMessage prepare(const wire::Message& m) {
    return prepare_message(wire::encode_message(m), wire::DecodeLimits::from(regtest()), regtest());
}

TEST(PreparedMessage, HeadersComeWithTheirHashesInOrder) {
    wire::HeadersMessage m;
    std::vector<core::Uint256> expected;
    for (const auto& b : chain_of(5)) {
        m.headers.push_back(b.header);
        expected.push_back(b.hash());
    }
    const PreparedMessage prepared = prepare(m);
    ASSERT_TRUE(prepared.message);
    EXPECT_EQ(prepared.header_hashes, expected);
    EXPECT_FALSE(prepared.block);
    // The hashes count toward what the message holds while it waits.
    EXPECT_GE(prepared.memory(), prepared.size + expected.size() * sizeof(core::Uint256));
}

TEST(PreparedMessage, ABlockIsCheckedAndOtherMessagesCarryNoHashes) {
    const auto blocks = chain_of(1);
    const PreparedMessage block = prepare(wire::BlockMessage{blocks[0]});
    ASSERT_TRUE(block.block);
    EXPECT_TRUE(block.block->result.is_ok());
    EXPECT_EQ(block.block->hash, blocks[0].hash());
    EXPECT_TRUE(block.header_hashes.empty());

    const PreparedMessage empty = prepare(wire::HeadersMessage{});
    ASSERT_TRUE(empty.message);
    EXPECT_TRUE(empty.header_hashes.empty());
}

TEST(PreparedMessage, AMalformedMessageIsAnErrorWithNothingPrepared) {
    util::Bytes bytes = wire::encode_message(wire::HeadersMessage{{chain_of(1)[0].header}});
    bytes.pop_back();
    const PreparedMessage prepared =
        prepare_message(bytes, wire::DecodeLimits::from(regtest()), regtest());
    EXPECT_FALSE(prepared.message);
    EXPECT_TRUE(prepared.header_hashes.empty());
    EXPECT_FALSE(prepared.block);
}

}  // namespace
}  // namespace peerchain::net::peer_manager
