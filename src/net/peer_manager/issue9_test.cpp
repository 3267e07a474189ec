// Issue 9: what a compatible peer written from docs/PROTOCOL.md alone ran into. Unconnected
// blocks always ask for headers; blocks and headers from the future are kept or asked for
// again when our clock gets there; `mempool` goes only to a peer that has caught up; policy
// refusals are answered with `reject`.
#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager_test_util.hpp"

namespace peerchain::net::peer_manager::fixture {
namespace {

core::Block block_at_time(const chain::BlockIndex* parent, std::int64_t time,
                          const std::string& tag) {
    core::Block b = testutil::make_block(regtest(), parent->hash, parent->height + 1,
                                         static_cast<std::uint32_t>(time), tag);
    testutil::mine(b, regtest());
    return b;
}

class Issue9Test : public PeerManagerTest {
  protected:
    // An inbound peer past version/verack whose first getheaders is still unanswered.
    PeerId handshaken_peer(std::uint32_t height = 0) {
        const PeerId id = connect(Direction::kInbound);
        feed(id, version(height));
        feed(id, wire::VerackMessage{});
        drain(id);
        return id;
    }
    std::size_t count_getheaders(PeerId id) { return drain_of<wire::GetHeadersMessage>(id).size(); }
    std::int64_t drift() const { return regtest().max_future_drift; }

    // A mature coin of owner(): a block paying it, then 100 more.
    testing::Spendable fund() {
        auto paid = std::make_shared<const core::Block>(
            testing::make_next_block(chain_->tip(), "fund", owner().public_key()));
        NODE_ASSERT(chain_->process_block(paid).is_ok());
        mine(100);
        return testing::output_of(paid->txs[0]);
    }
    static const crypto::SecretKey& owner() {
        static const crypto::SecretKey key = testing::test_key(1);
        return key;
    }
    static core::XOnlyKey someone() { return testing::test_key(77).public_key(); }
};

// --- 1. Unconnected blocks -------------------------------------------------------------------

TEST_F(Issue9Test, AnUnconnectedBlockAsksForHeadersEvenWhileAGetheadersIsOutstanding) {
    mine(2);
    const PeerId id = handshaken_peer(4);  // leaves our first getheaders unanswered
    const auto ahead = build_chain(chain_->tip()->header, 2, 3, "ahead");
    // Each block message whose parent we lack gets exactly one getheaders, at once.
    feed(id, wire::BlockMessage{ahead[1]});
    auto asks = drain_of<wire::GetHeadersMessage>(id);
    ASSERT_EQ(asks.size(), 1u);
    EXPECT_EQ(asks[0].locator.front(), chain_->tip()->hash);
    feed(id, wire::BlockMessage{ahead[2]});
    EXPECT_EQ(count_getheaders(id), 1u);
    feed(id, wire::BlockMessage{ahead[2]});
    EXPECT_EQ(count_getheaders(id), 1u);
    EXPECT_FALSE(disconnected(id));
    EXPECT_EQ(chain_->tip()->height, 2u);

    // Its answer places them; the blocks are fetched and connect.
    feed(id, wire::HeadersMessage{headers_of(ahead)});
    const auto requests = drain_of<wire::GetDataMessage>(id);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].items.size(), 3u);
    for (const auto& b : ahead) feed(id, wire::BlockMessage{b});
    EXPECT_EQ(chain_->tip()->hash, ahead.back().hash());
}

TEST_F(Issue9Test, AnUnconnectedBlockDuringAHeadersPresyncLeavesThePresyncAlone) {
    Config config;
    config.max_headers_per_message = 50;
    make_manager(config);
    mine(60);
    const PeerId id = ready_peer(100);
    const auto side = build_chain(regtest().genesis.header, 0, 100, "side");
    const auto batch = [&](std::size_t from) {
        std::vector<core::BlockHeader> headers;
        for (std::size_t i = from; i < from + 50; ++i) headers.push_back(side[i].header);
        return wire::HeadersMessage{headers};
    };
    feed(id, batch(0));  // lighter than our tip so far: followed, not stored
    ASSERT_EQ(count_getheaders(id), 1u);
    // A block of that chain whose parent we lack: the presync's own getheaders brings it.
    feed(id, wire::BlockMessage{side[70]});
    EXPECT_EQ(count_getheaders(id), 0u);
    // The presync goes on where it was: past our tip's work, it asks again from the fork.
    feed(id, batch(50));
    const auto asks = drain_of<wire::GetHeadersMessage>(id);
    ASSERT_EQ(asks.size(), 1u);
    EXPECT_EQ(asks[0].locator.front(), regtest().genesis_hash);
    EXPECT_FALSE(disconnected(id));
}

// --- 2. Blocks and headers from the future -----------------------------------------------------

TEST_F(Issue9Test, ABlockFromTheFutureIsKeptAndConnectsWhenTheClockGetsThere) {
    mine(2);
    const PeerId id = ready_peer(2);
    const std::int64_t now = clock_.now_seconds();
    const core::Block future = block_at_time(chain_->tip(), now + drift() + 30, "future");
    feed(id, wire::BlockMessage{future});
    // Not punished; told why (its clock runs ahead of ours).
    EXPECT_FALSE(disconnected(id));
    const auto rejects = drain_of<wire::RejectMessage>(id);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].type, wire::InvType::kBlock);
    EXPECT_EQ(rejects[0].hash, future.hash());
    EXPECT_EQ(rejects[0].reason, "time-too-new");
    EXPECT_NE(rejects[0].detail.find("kept"), std::string::npos) << rejects[0].detail;
    EXPECT_EQ(chain_->tip()->height, 2u);

    clock_.advance(29);
    pm_->on_tick();
    EXPECT_EQ(chain_->tip()->height, 2u);
    clock_.advance(1);
    pm_->on_tick();
    EXPECT_EQ(chain_->tip()->hash, future.hash());
    // The sender is credited with it.
    const auto peers = pm_->peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].best_known_height, 3);
    EXPECT_GE(peers[0].last_block_at, 0);
}

TEST_F(Issue9Test, AFutureBlockWhoseSenderLeftIsProcessedForNobody) {
    mine(1);
    const PeerId id = ready_peer(1);
    const core::Block future =
        block_at_time(chain_->tip(), clock_.now_seconds() + drift() + 5, "future");
    feed(id, wire::BlockMessage{future});
    pm_->on_peer_disconnected(id, "gone");
    clock_.advance(5);
    pm_->on_tick();
    EXPECT_EQ(chain_->tip()->hash, future.hash());
}

TEST_F(Issue9Test, ABlockTooFarInTheFutureIsNotKept) {
    mine(1);
    const PeerId id = ready_peer(1);
    const Config defaults;
    const std::int64_t wait = defaults.max_future_wait.count();
    const core::Block far =
        block_at_time(chain_->tip(), clock_.now_seconds() + drift() + wait + 1, "far");
    feed(id, wire::BlockMessage{far});
    const auto rejects = drain_of<wire::RejectMessage>(id);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_NE(rejects[0].detail.find("not kept"), std::string::npos) << rejects[0].detail;
    clock_.advance(wait + 1);
    pm_->on_tick();
    EXPECT_EQ(chain_->tip()->height, 1u);
    // Sent again once acceptable, it is taken at once.
    feed(id, wire::BlockMessage{far});
    EXPECT_EQ(chain_->tip()->hash, far.hash());
    EXPECT_TRUE(drain_of<wire::RejectMessage>(id).empty());
}

TEST_F(Issue9Test, HeadersThatStopAtOneFromTheFutureAreAskedForAgainOnce) {
    mine(2);
    const PeerId id = ready_peer(2);
    const std::int64_t now = clock_.now_seconds();
    const auto next = build_chain(chain_->tip()->header, 2, 1, "next");
    core::Block future = testutil::make_block(regtest(), next[0].hash(), 4,
                                              static_cast<std::uint32_t>(now + drift() + 50), "f");
    testutil::mine(future, regtest());
    feed(id, wire::HeadersMessage{{next[0].header, future.header}});
    EXPECT_FALSE(disconnected(id));
    EXPECT_NE(chain_->lookup(next[0].hash()), nullptr);
    EXPECT_EQ(chain_->lookup(future.hash()), nullptr);
    EXPECT_EQ(count_getheaders(id), 0u);

    clock_.advance(49);
    pm_->on_tick();
    EXPECT_EQ(count_getheaders(id), 0u);
    clock_.advance(1);
    pm_->on_tick();
    const auto asks = drain_of<wire::GetHeadersMessage>(id);
    ASSERT_EQ(asks.size(), 1u);
    EXPECT_EQ(asks[0].locator.front(), next[0].hash());
    clock_.advance(1);
    pm_->on_tick();
    EXPECT_EQ(count_getheaders(id), 0u);
    // Its answer is now accepted.
    feed(id, wire::HeadersMessage{{future.header}});
    EXPECT_NE(chain_->lookup(future.hash()), nullptr);
}

// --- 3. The mempool message --------------------------------------------------------------------

TEST_F(Issue9Test, APeerAtGenesisIsAskedForItsPoolOnlyOnceItHasCaughtUp) {
    mine(5);
    const PeerId id = handshaken_peer(0);
    // Its answer to our getheaders is empty: it has nothing for us.
    feed(id, wire::HeadersMessage{});
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());
    // It syncs from us: headers, then the blocks.
    feed(id, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());
    wire::GetDataMessage first;
    for (std::uint32_t h = 1; h <= 3; ++h) {
        first.items.push_back({wire::InvType::kBlock, chain_->at_height(h)->hash});
    }
    feed(id, first);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());
    // Once it has our blocks, it is asked, once.
    feed(id, wire::GetDataMessage{{{wire::InvType::kBlock, chain_->at_height(4)->hash},
                                   {wire::InvType::kBlock, chain_->at_height(5)->hash}}});
    EXPECT_EQ(drain_of<wire::MempoolMessage>(id).size(), 1u);
    pm_->on_tick();
    feed(id, wire::GetHeadersMessage{{chain_->tip()->hash}, {}});
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());
}

TEST_F(Issue9Test, APeerLevelWithUsIsAskedForItsPoolOnce) {
    mine(5);
    const PeerId id = handshaken_peer(5);
    feed(id, wire::HeadersMessage{});
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());  // not yet known to have our tip
    // Its own handshake announcement: our tip.
    feed(id, wire::HeadersMessage{{chain_->tip()->header}});
    EXPECT_EQ(drain_of<wire::MempoolMessage>(id).size(), 1u);
    for (int i = 0; i < 3; ++i) {
        clock_.advance(1);
        pm_->on_tick();
    }
    mine(1);
    EXPECT_TRUE(drain_of<wire::MempoolMessage>(id).empty());
}

// --- 4. reject -----------------------------------------------------------------------------

TEST_F(Issue9Test, ALowFeeTransactionIsAnsweredWithRejectAndNotPunished) {
    const auto coin = fund();
    const PeerId id = ready_peer(chain_->tip()->height);
    const auto free_tx = testing::pay(coin, owner(), 0, someone());
    feed(id, wire::TxMessage{free_tx});
    const auto rejects = drain_of<wire::RejectMessage>(id);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].type, wire::InvType::kTx);
    EXPECT_EQ(rejects[0].hash, free_tx.txid());
    EXPECT_EQ(rejects[0].reason, "min-fee-not-met");
    EXPECT_FALSE(rejects[0].detail.empty());
    EXPECT_FALSE(disconnected(id));

    // A conflict with the pool: told too.
    const auto paid = testing::pay(coin, owner(), 1000, someone());
    feed(id, wire::TxMessage{paid});
    EXPECT_TRUE(drain_of<wire::RejectMessage>(id).empty());  // accepted
    const auto conflict = testing::pay(coin, owner(), 2000, owner().public_key());
    feed(id, wire::TxMessage{conflict});
    const auto conflicts = drain_of<wire::RejectMessage>(id);
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].reason, "txn-mempool-conflict");
    EXPECT_EQ(conflicts[0].hash, conflict.txid());
    // A duplicate is not answered.
    feed(id, wire::TxMessage{paid});
    EXPECT_TRUE(drain_of<wire::RejectMessage>(id).empty());
    EXPECT_FALSE(disconnected(id));
}

TEST_F(Issue9Test, ASpendOfAnOutputSpentInTheChainIsAnsweredWithReject) {
    const auto coin = fund();
    const auto paid = testing::pay(coin, owner(), 1000, someone());
    auto block = std::make_shared<const core::Block>(
        testing::make_next_block(chain_->tip(), "spend", testing::default_miner(), {paid}));
    ASSERT_TRUE(chain_->process_block(block).is_ok());
    mine(1);  // the block holding it is not the last one
    const PeerId id = ready_peer(chain_->tip()->height);
    const auto again = testing::pay(coin, owner(), 3000, owner().public_key());
    feed(id, wire::TxMessage{again});
    const auto rejects = drain_of<wire::RejectMessage>(id);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].hash, again.txid());
    EXPECT_EQ(rejects[0].reason, "bad-txns-inputs-missingorspent");
    EXPECT_NE(rejects[0].detail.find("double spend"), std::string::npos) << rejects[0].detail;
    EXPECT_EQ(pm_->relay_info().orphans, 0u);
    EXPECT_FALSE(disconnected(id));
}

TEST_F(Issue9Test, AnInvalidTransactionDisconnectsWithoutReject) {
    const auto coin = fund();
    const PeerId id = ready_peer(chain_->tip()->height);
    auto bad = testing::pay(coin, owner(), 1000, someone());
    bad.inputs[0].signature[10] ^= 1;
    feed(id, wire::TxMessage{bad});
    EXPECT_TRUE(drain_of<wire::RejectMessage>(id).empty());
    // The token comes before the txid, so the 123 bytes a WebSocket close frame keeps of
    // the reason always carry it.
    EXPECT_EQ(
        reason(id).rfind("invalid transaction: bad-txns-signature: " + bad.txid().to_hex(), 0), 0u)
        << reason(id);
}

TEST_F(Issue9Test, AReceivedRejectIsOnlyLogged) {
    const PeerId id = ready_peer();
    feed(id, wire::RejectMessage{wire::InvType::kTx, {}, "min-fee-not-met", "fee 0"});
    feed(id, wire::RejectMessage{wire::InvType{9}, {}, "", ""});
    EXPECT_FALSE(disconnected(id));
    EXPECT_TRUE(drain(id).empty());

    // Malformed: a known type that does not decode.
    util::Bytes bad = wire::encode_message(wire::RejectMessage{wire::InvType::kTx, {}, "x", ""});
    bad.push_back(0);
    feed_raw(id, bad);
    EXPECT_NE(reason(id).find("malformed message: reject"), std::string::npos) << reason(id);

    // Before the handshake: a protocol violation as for any known type.
    const PeerId early = connect(Direction::kInbound);
    feed(early, version());
    feed(early, wire::RejectMessage{wire::InvType::kTx, {}, "x", ""});
    EXPECT_EQ(reason(early), "reject before handshake");
}

}  // namespace
}  // namespace peerchain::net::peer_manager::fixture
