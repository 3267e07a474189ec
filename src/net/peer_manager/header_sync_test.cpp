// HeaderSync and BlockDownloader against scripted peers: headers, block requests, the
// download window, stalling, unconnecting and low-work headers, announcements.
#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager_test_util.hpp"

namespace peerchain::net::peer_manager::fixture {
namespace {

// --- Requesting ---------------------------------------------------------------------------

TEST_F(PeerManagerTest, HeadersLeadToBlockRequestsInAWindow) {
    Config config;
    config.max_blocks_in_flight = 2;
    make_manager(config);
    const auto blocks = build_chain(regtest().genesis.header, 0, 5, "remote");
    const PeerId id = ready_peer(5);
    feed(id, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_EQ(chain_->best_header()->height, 5u);
    auto requests = drain_of<wire::GetDataMessage>(id);
    ASSERT_EQ(requests.size(), 1u);
    ASSERT_EQ(requests[0].items.size(), 2u);
    EXPECT_EQ(requests[0].items[0].hash, blocks[0].hash());
    EXPECT_EQ(requests[0].items[1].hash, blocks[1].hash());
    EXPECT_EQ(pm_->peers()[0].blocks_in_flight, 2u);

    feed(id, wire::BlockMessage{blocks[0]});
    EXPECT_EQ(chain_->tip()->height, 1u);
    requests = drain_of<wire::GetDataMessage>(id);
    ASSERT_EQ(requests.size(), 1u);
    ASSERT_EQ(requests[0].items.size(), 1u);
    EXPECT_EQ(requests[0].items[0].hash, blocks[2].hash());
    EXPECT_EQ(pm_->peers()[0].best_known_height, 5);
}

TEST_F(PeerManagerTest, BlocksAreRequestedOnlyWithinTheWindow) {
    Config config;
    config.max_blocks_in_flight = 10;
    config.block_download_window = 3;
    make_manager(config);
    const auto blocks = build_chain(regtest().genesis.header, 0, 6, "remote");
    const PeerId id = ready_peer(6);
    feed(id, wire::HeadersMessage{headers_of(blocks)});
    auto requests = drain_of<wire::GetDataMessage>(id);
    ASSERT_EQ(requests.size(), 1u);
    ASSERT_EQ(requests[0].items.size(), 3u);  // heights 1..3
    // Block 2 first: stored, but the window stays where the chain is.
    feed(id, wire::BlockMessage{blocks[1]});
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(id).empty());
    feed(id, wire::BlockMessage{blocks[0]});  // the tip moves to 2: heights 4 and 5 open
    requests = drain_of<wire::GetDataMessage>(id);
    ASSERT_EQ(requests.size(), 1u);
    ASSERT_EQ(requests[0].items.size(), 2u);
    EXPECT_EQ(requests[0].items[0].hash, blocks[3].hash());
    EXPECT_EQ(requests[0].items[1].hash, blocks[4].hash());
}

// Issue 10: with the window full, blocks delivered by one peer free its slots one at a
// time. They are asked for again a batch at a time (a sixteenth of the in-flight limit),
// whichever peer asks, not one getdata per block: with two peers, where one holds most of
// the window, a sync used to fall back to one-block requests for the rest of its length.
TEST_F(PeerManagerTest, WithTwoPeersAFullWindowRefillsABatchAtATime) {
    Config config;
    config.max_blocks_in_flight = 64;  // batches of 4
    config.block_download_window = 64;
    make_manager(config);
    const auto blocks = build_chain(regtest().genesis.header, 0, 200, "remote");
    const PeerId first = ready_peer(200);
    const PeerId second = ready_peer(200);
    feed(first, wire::HeadersMessage{headers_of(blocks)});
    feed(second, wire::HeadersMessage{headers_of(blocks)});
    std::size_t asked = 0;
    for (const auto& r : drain_of<wire::GetDataMessage>(first)) asked += r.items.size();
    for (const auto& r : drain_of<wire::GetDataMessage>(second)) asked += r.items.size();
    ASSERT_EQ(asked, 64u);

    // The first peer delivers what it was asked for, in order; the second delivers nothing.
    std::size_t requests = 0;
    std::size_t small = 0;  // fewer blocks than a batch
    std::size_t items = 0;
    for (std::size_t height = 1; height <= 40; ++height) {
        feed(first, wire::BlockMessage{blocks[height - 1]});
        ASSERT_EQ(chain_->tip()->height, height);
        for (PeerId id : {first, second}) {
            for (const auto& r : drain_of<wire::GetDataMessage>(id)) {
                ++requests;
                items += r.items.size();
                if (r.items.size() < 4) ++small;
            }
        }
    }
    // 40 slots freed: the idle second peer takes the first at once (a peer with nothing
    // in flight always asks), the rest go 4 at a time; at most 3 wait for a batch.
    EXPECT_LE(small, 1u);
    EXPECT_GE(items, 37u);
    EXPECT_LE(requests, 11u);
}

TEST_F(PeerManagerTest, StallingPeerIsDroppedAndItsBlocksGoElsewhere) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId slow = ready_peer(3);
    const PeerId other = ready_peer(3);
    feed(slow, wire::HeadersMessage{headers_of(blocks)});
    ASSERT_EQ(drain_of<wire::GetDataMessage>(slow).size(), 1u);
    feed(other, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(other).empty());  // all taken by `slow`

    const std::string why = reason_after(slow, 60);
    EXPECT_NE(why.find("stalling"), std::string::npos) << why;
    auto requests = drain_of<wire::GetDataMessage>(other);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].items.size(), 3u);
}

// Blocks that wait unread on our side while we do not read the peer are not its stall.
TEST_F(PeerManagerTest, APeerWeDoNotReadIsNotStalling) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId peer = ready_peer(3);
    feed(peer, wire::HeadersMessage{headers_of(blocks)});
    ASSERT_EQ(drain_of<wire::GetDataMessage>(peer).size(), 1u);
    sender_.paused.insert(peer);
    clock_.advance(120);
    pm_->on_tick();
    EXPECT_FALSE(disconnected(peer));
    sender_.paused.erase(peer);
    // It answers the ping that tick sent, so that only the stall clock runs.
    for (const auto& ping : drain_of<wire::PingMessage>(peer)) {
        feed(peer, wire::PongMessage{ping.nonce});
    }
    const std::string why = reason_after(peer, 60);
    EXPECT_NE(why.find("stalling"), std::string::npos) << why;
}

TEST_F(PeerManagerTest, DisconnectReleasesBlocksInFlight) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 2, "remote");
    const PeerId first = ready_peer(2);
    const PeerId second = ready_peer(2);
    feed(first, wire::HeadersMessage{headers_of(blocks)});
    feed(second, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(second).empty());
    pm_->on_peer_disconnected(first, "gone");
    auto requests = drain_of<wire::GetDataMessage>(second);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].items.size(), 2u);
}

TEST_F(PeerManagerTest, NotFoundMovesTheRequestToAnotherPeer) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 1, "remote");
    const PeerId first = ready_peer(1);
    const PeerId second = ready_peer(1);
    feed(first, wire::HeadersMessage{headers_of(blocks)});
    feed(second, wire::HeadersMessage{headers_of(blocks)});
    ASSERT_EQ(drain_of<wire::GetDataMessage>(first).size(), 1u);
    feed(first, wire::NotFoundMessage{{{wire::InvType::kBlock, blocks[0].hash()}}});
    EXPECT_EQ(drain_of<wire::GetDataMessage>(second).size(), 1u);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(first).empty());  // not asked again
}

TEST_F(PeerManagerTest, InvalidHeaderDisconnects) {
    auto blocks = build_chain(regtest().genesis.header, 0, 1, "remote");
    testutil::unmine(blocks[0], regtest());
    const PeerId id = ready_peer();
    feed(id, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_NE(reason(id).find("invalid header"), std::string::npos) << reason(id);
    EXPECT_NE(reason(id).find("high-hash"), std::string::npos) << reason(id);
}

TEST_F(PeerManagerTest, NonContinuousHeadersDisconnect) {
    auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId id = ready_peer();
    feed(id, wire::HeadersMessage{{blocks[0].header, blocks[2].header}});
    EXPECT_EQ(reason(id), "non-continuous headers");
}

TEST_F(PeerManagerTest, UnconnectingHeadersAskForTheChainThenDisconnect) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId id = ready_peer(3);
    feed(id, wire::HeadersMessage{{blocks[2].header}});
    auto asks = drain_of<wire::GetHeadersMessage>(id);
    ASSERT_EQ(asks.size(), 1u);
    EXPECT_EQ(asks[0].locator, chain_->locator(chain_->best_header()));
    // While that getheaders is out, more of the same may be announcements sent before the
    // peer saw it (it announces while it reorganises): never counted, not asked again.
    for (int i = 0; i < 20; ++i) feed(id, wire::HeadersMessage{{blocks[2].header}});
    EXPECT_FALSE(disconnected(id));
    EXPECT_TRUE(drain_of<wire::GetHeadersMessage>(id).empty());
    // A peer that still sends what does not connect after each answer is misbehaving: each
    // round (its answer, its unconnecting headers, our next getheaders) counts once.
    for (int round = 2; round <= 10; ++round) {
        feed(id, wire::HeadersMessage{});
        feed(id, wire::HeadersMessage{{blocks[2].header}});
        ASSERT_FALSE(disconnected(id)) << "round " << round;
        EXPECT_EQ(drain_of<wire::GetHeadersMessage>(id).size(), 1u);
    }
    feed(id, wire::HeadersMessage{});
    feed(id, wire::HeadersMessage{{blocks[2].header}});
    EXPECT_NE(reason(id).find("do not connect"), std::string::npos) << reason(id);
}

TEST_F(PeerManagerTest, HeadersThatConnectResetTheUnconnectingCount) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId id = ready_peer(3);
    for (int round = 0; round < 8; ++round) {
        feed(id, wire::HeadersMessage{{blocks[2].header}});
        feed(id, wire::HeadersMessage{});  // our getheaders answered
    }
    // Then the headers connect: an honest peer that kept announcing a chain we lacked.
    feed(id, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_EQ(chain_->best_header()->hash, blocks[2].hash());
    const auto more = build_chain(blocks[2].header, 3, 2, "remote");
    for (int round = 0; round < 8; ++round) {
        feed(id, wire::HeadersMessage{{more[1].header}});
        feed(id, wire::HeadersMessage{});
    }
    EXPECT_FALSE(disconnected(id)) << reason(id);
}

TEST_F(PeerManagerTest, InvOfUnknownBlockAsksForHeaders) {
    mine(1);
    const PeerId id = ready_peer(1);
    feed(id, wire::InvMessage{{{wire::InvType::kBlock, chain_->tip()->hash}}});
    EXPECT_TRUE(drain(id).empty());  // known
    core::Uint256 unknown;
    unknown.data()[5] = 9;
    feed(id, wire::InvMessage{{{wire::InvType::kTx, unknown}}});
    const auto tx_asks = drain_of<wire::GetDataMessage>(id);  // a transaction is fetched
    ASSERT_EQ(tx_asks.size(), 1u);
    EXPECT_EQ(tx_asks[0].items, (std::vector<wire::InvItem>{{wire::InvType::kTx, unknown}}));
    feed(id, wire::InvMessage{{{wire::InvType::kBlock, unknown}}});
    EXPECT_EQ(drain_of<wire::GetHeadersMessage>(id).size(), 1u);
}

TEST_F(PeerManagerTest, InvalidBlockDisconnects) {
    auto blocks = build_chain(regtest().genesis.header, 0, 1, "remote");
    blocks[0].txs[0].data.push_back('!');  // the header no longer commits to it
    const PeerId id = ready_peer(1);
    feed(id, wire::BlockMessage{blocks[0]});
    EXPECT_NE(reason(id).find("invalid block"), std::string::npos) << reason(id);
    EXPECT_NE(reason(id).find("bad-merkle-root"), std::string::npos) << reason(id);
}

TEST_F(PeerManagerTest, UnsolicitedBlockOnOurTipIsAccepted) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 2, "remote");
    const PeerId id = ready_peer(2);
    feed(id, wire::BlockMessage{blocks[0]});
    EXPECT_EQ(chain_->tip()->hash, blocks[0].hash());
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, AnUnsolicitedBlockWithLessWorkThanOurTipIsNotStored) {
    mine(3);
    const auto side = build_chain(regtest().genesis.header, 0, 3, "side");
    const PeerId id = ready_peer(3);
    const std::size_t before = chain_->stats().headers;
    for (const auto& b : side) feed(id, wire::BlockMessage{b});
    // Heights 1 and 2 of a branch have less work than our tip at 3: not stored. Height 3's
    // parent is then unknown, so it is not stored either (the peer is asked for headers).
    EXPECT_EQ(chain_->stats().headers, before);
    EXPECT_EQ(chain_->lookup(side[0].hash()), nullptr);
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, LowWorkHeadersAreFollowedWithoutBeingStored) {
    Config config;
    config.max_headers_per_message = 50;
    make_manager(config);
    mine(200);
    const PeerId id = ready_peer(150);
    const std::size_t before = chain_->stats().headers;
    const auto side = build_chain(regtest().genesis.header, 0, 150, "side");
    // Three full batches of a branch lighter than our tip: the node follows it (each batch
    // is answered with a getheaders from where it ended), stores none of it, and when the
    // branch ends lighter than our tip it lets go without punishing the peer.
    for (int batch = 0; batch < 3; ++batch) {
        std::vector<core::BlockHeader> headers;
        for (int i = 0; i < 50; ++i)
            headers.push_back(side[static_cast<std::size_t>(batch * 50 + i)].header);
        feed(id, wire::HeadersMessage{headers});
        const auto asks = drain_of<wire::GetHeadersMessage>(id);
        ASSERT_EQ(asks.size(), 1u) << "batch " << batch;
        EXPECT_EQ(asks[0].locator.front(), headers.back().hash());
        EXPECT_EQ(chain_->stats().headers, before);
    }
    feed(id, wire::HeadersMessage{});
    EXPECT_EQ(chain_->stats().headers, before);
    EXPECT_FALSE(disconnected(id));
    // The same branch continued past our tip's work is stored, after a second pass.
    const auto longer = build_chain(side.back().header, 150, 60, "side");
    std::vector<core::Block> whole = side;
    whole.insert(whole.end(), longer.begin(), longer.end());
    for (std::size_t at = 0; at < whole.size(); at += 50) {
        std::vector<core::BlockHeader> headers;
        for (std::size_t i = at; i < std::min(whole.size(), at + 50); ++i) {
            headers.push_back(whole[i].header);
        }
        feed(id, wire::HeadersMessage{headers});
    }
    // Past our tip's work at height 201: the node asks again from the fork (genesis).
    auto asks = drain_of<wire::GetHeadersMessage>(id);
    ASSERT_FALSE(asks.empty());
    EXPECT_EQ(asks.back().locator.front(), regtest().genesis_hash);
    EXPECT_EQ(chain_->stats().headers, before);
    for (std::size_t at = 0; at < whole.size(); at += 50) {
        std::vector<core::BlockHeader> headers;
        for (std::size_t i = at; i < std::min(whole.size(), at + 50); ++i) {
            headers.push_back(whole[i].header);
        }
        feed(id, wire::HeadersMessage{headers});
    }
    EXPECT_EQ(chain_->best_header()->hash, whole.back().hash());
    EXPECT_EQ(chain_->stats().headers, before + whole.size());
    EXPECT_FALSE(disconnected(id));
}

// --- Announcing ---------------------------------------------------------------------------

TEST_F(PeerManagerTest, NewTipIsAnnouncedToPeersThatLackIt) {
    const PeerId id = ready_peer();
    mine(1);
    auto announced = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(announced.size(), 1u);
    ASSERT_EQ(announced[0].headers.size(), 1u);
    EXPECT_EQ(announced[0].headers[0], chain_->tip()->header);

    // A peer that sent us the block is not told about it.
    const auto remote = build_chain(chain_->tip()->header, 1, 1, "remote");
    feed(id, wire::HeadersMessage{headers_of(remote)});
    drain(id);
    feed(id, wire::BlockMessage{remote[0]});
    EXPECT_EQ(chain_->tip()->height, 2u);
    EXPECT_TRUE(drain_of<wire::HeadersMessage>(id).empty());
}

TEST_F(PeerManagerTest, ManyNewBlocksAreAnnouncedByAnInvOfTheTip) {
    const PeerId id = ready_peer();
    // Ten blocks that connect in one step: their headers first, the first block last.
    const auto blocks = build_chain(regtest().genesis.header, 0, 10, "batch");
    ASSERT_TRUE(chain_->process_headers(headers_of(blocks)).is_ok());
    for (std::size_t i = blocks.size(); i-- > 1;) {
        ASSERT_TRUE(chain_->process_block(std::make_shared<const core::Block>(blocks[i])).is_ok());
    }
    drain(id);
    ASSERT_TRUE(chain_->process_block(std::make_shared<const core::Block>(blocks[0])).is_ok());
    ASSERT_EQ(chain_->tip()->height, 10u);
    // More than max_announce_headers from what the peer has: a lone header would not
    // connect there, so the tip goes as an inv and the peer asks with its locator.
    const auto sent = drain(id);
    const auto invs = std::count_if(sent.begin(), sent.end(), [&](const wire::Message& m) {
        const auto* inv = std::get_if<wire::InvMessage>(&m);
        return inv != nullptr &&
               inv->items == std::vector<wire::InvItem>{{wire::InvType::kBlock, blocks[9].hash()}};
    });
    EXPECT_EQ(invs, 1);
    for (const auto& m : sent) EXPECT_FALSE(std::holds_alternative<wire::HeadersMessage>(m));
}

TEST_F(PeerManagerTest, AFewNewBlocksAreAnnouncedAsTheirHeaders) {
    const PeerId id = ready_peer();
    const auto blocks = build_chain(regtest().genesis.header, 0, 5, "batch");
    ASSERT_TRUE(chain_->process_headers(headers_of(blocks)).is_ok());
    for (std::size_t i = blocks.size(); i-- > 1;) {
        ASSERT_TRUE(chain_->process_block(std::make_shared<const core::Block>(blocks[i])).is_ok());
    }
    drain(id);
    ASSERT_TRUE(chain_->process_block(std::make_shared<const core::Block>(blocks[0])).is_ok());
    auto announced = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(announced.size(), 1u);
    EXPECT_EQ(announced[0].headers, headers_of(blocks));
}

}  // namespace
}  // namespace peerchain::net::peer_manager::fixture
