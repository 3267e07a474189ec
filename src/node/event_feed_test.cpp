#include "node/event_feed.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "api/json_text.hpp"
#include "core/address.hpp"
#include "util/clock.hpp"

namespace peerchain::node {
namespace {

namespace json = boost::json;

class EventFeedTest : public ::testing::Test {
  protected:
    // The JSON text after `data: ` of held event `i` (0-based), without the blank line.
    std::string data_text(std::size_t i) const {
        const auto read = hub_.read_after(0, 100);
        const auto& frame = read.events.at(i)->frame();
        const auto at = frame.find("data: ") + 6;
        EXPECT_TRUE(frame.ends_with("}\n\n")) << frame;
        return frame.substr(at, frame.size() - at - 2);
    }
    // The data of held event `i` and its type.
    json::object data(std::size_t i) const { return json::parse(data_text(i)).as_object(); }
    // Feeds the feed a connected `block` at `height`.
    void connect(const std::shared_ptr<core::Block>& block, std::uint32_t height) {
        chain::ChainEvent e;
        e.kind = chain::ChainEvent::Kind::kBlockConnected;
        e.hash = block->hash();
        e.height = height;
        e.block = block;
        feed_.convert(e);
    }
    std::size_t held() const { return hub_.read_after(0, 100).events.size(); }

    const core::Params& params_ = core::params(core::Network::kRegtest);
    util::ManualClock clock_{1'700'000'000};
    util::EventRing<chain::ChainEvent> tap_{16};
    api::EventHub hub_{clock_};
    EventFeed feed_{tap_, hub_, params_};
};

TEST_F(EventFeedTest, AConnectedBlockGivesBlockThenTxConfirmed) {
    core::XOnlyKey alice{};
    alice[0] = 1;
    auto block = std::make_shared<core::Block>();
    block->header.time = 1234;
    block->header.prev_hash.data()[0] = 7;
    block->txs.push_back(core::make_coinbase(5, 5000, alice, {}));
    connect(block, 5);
    ASSERT_EQ(held(), 2u);
    const auto b = data(0);
    EXPECT_EQ(b.at("type"), "block");
    EXPECT_EQ(b.at("seq"), 1);
    EXPECT_EQ(b.at("height"), 5);
    EXPECT_EQ(b.at("hash"), json::value(block->hash().to_hex()));
    EXPECT_EQ(b.at("previousHash"), json::value(block->header.prev_hash.to_hex()));
    EXPECT_EQ(b.at("time"), 1234);
    EXPECT_EQ(b.at("txCount"), 1);
    EXPECT_EQ(b.at("size"), block->serialized_size());
    const auto c = data(1);
    EXPECT_EQ(c.at("type"), "tx-confirmed");
    EXPECT_EQ(c.at("txid"), json::value(block->txs[0].txid().to_hex()));
    EXPECT_EQ(c.at("blockHash"), json::value(block->hash().to_hex()));
    EXPECT_EQ(c.at("addresses").as_array().at(0),
              json::value(core::encode_address(alice, params_)));
}

// Block events are rendered as text, not built as JSON objects: each frame's data is
// exactly what the JSON writer of every other event writes, addresses and all.
TEST_F(EventFeedTest, BlockEventsRenderAsTheJsonWriterWould) {
    core::XOnlyKey alice{};
    alice[0] = 1;
    core::XOnlyKey bob{};
    bob[0] = 2;
    auto block = std::make_shared<core::Block>();
    block->header.time = 99;
    block->txs.push_back(core::make_coinbase(7, 5000, alice, {}));
    core::Transaction pays_two;
    pays_two.inputs.emplace_back();
    pays_two.outputs = {core::TxOut{10, bob}, core::TxOut{20, alice}, core::TxOut{30, bob}};
    block->txs.push_back(pays_two);
    connect(block, 7);
    const auto read = hub_.read_after(0, 100);
    ASSERT_EQ(read.events.size(), 3u);
    for (std::size_t i = 0; i < read.events.size(); ++i) {
        const std::string text = data_text(i);
        EXPECT_EQ(text, api::to_json_text(json::parse(text))) << text;
    }
    const auto two = data(2).at("addresses").as_array();
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two.at(0), json::value(core::encode_address(bob, params_)));
    EXPECT_EQ(two.at(1), json::value(core::encode_address(alice, params_)));
    EXPECT_EQ(read.events[2]->addresses().size(), 2u);
}

TEST_F(EventFeedTest, AReorgTipChangeGivesReorgAndGrowthGivesNothing) {
    chain::ChainEvent grew;
    grew.kind = chain::ChainEvent::Kind::kTipChanged;
    grew.height = 11;
    grew.old_height = 10;
    grew.fork_height = 10;
    feed_.convert(grew);
    EXPECT_EQ(held(), 0u);
    chain::ChainEvent reorg = grew;
    reorg.height = 12;
    reorg.fork_height = 8;
    feed_.convert(reorg);
    ASSERT_EQ(held(), 1u);
    const auto r = data(0);
    EXPECT_EQ(r.at("type"), "reorg");
    EXPECT_EQ(r.at("depth"), 2);
    EXPECT_EQ(r.at("forkHeight"), 8);
    EXPECT_EQ(r.at("oldTip").at("height"), 10);
    EXPECT_EQ(r.at("newTip").at("height"), 12);
}

TEST_F(EventFeedTest, AnAcceptedTransactionGivesTx) {
    core::XOnlyKey bob{};
    bob[1] = 2;
    auto tx = std::make_shared<core::Transaction>(core::make_coinbase(1, 700, bob, {}));
    tx->outputs.push_back(core::TxOut{300, bob});  // the same address once
    chain::ChainEvent e;
    e.kind = chain::ChainEvent::Kind::kTransactionAdded;
    e.tx = tx;
    e.fee = 42;
    feed_.convert(e);
    ASSERT_EQ(held(), 1u);
    const auto t = data(0);
    EXPECT_EQ(t.at("type"), "tx");
    EXPECT_EQ(t.at("fee"), 42);
    EXPECT_EQ(t.at("outputTotal"), 1000);
    EXPECT_EQ(t.at("size"), tx->serialized_size());
    EXPECT_EQ(t.at("addresses").as_array().size(), 1u);
    const auto read = hub_.read_after(0, 1);
    EXPECT_EQ(read.events[0]->addresses().at(0), core::encode_address(bob, params_));
}

TEST_F(EventFeedTest, PeersAndSyncReportsGoThroughTheThreadInOrder) {
    feed_.start();
    net::peer_manager::PeerInfo peer;
    peer.id = 3;
    peer.address = "127.0.0.1:6001";
    peer.direction = net::peer_manager::Direction::kOutbound;
    peer.transport = 2;
    peer.user_agent = "/peerchain:test/";
    feed_.on_peer_ready(peer);
    SyncReport report;
    report.headers_height = 100;
    report.blocks_height = 25;
    report.blocks_per_second = 12.5;
    report.progress = 0.25;
    report.syncing = true;
    feed_.publish_sync(report);
    feed_.on_peer_gone(peer);
    feed_.stop();  // takes what is queued
    ASSERT_EQ(held(), 3u);
    const auto p = data(0);
    EXPECT_EQ(p.at("event"), "connected");
    EXPECT_EQ(p.at("direction"), "outbound");
    EXPECT_EQ(p.at("transport"), "tcp");
    EXPECT_EQ(p.at("userAgent"), "/peerchain:test/");
    const auto s = data(1);
    EXPECT_EQ(s.at("type"), "sync");
    EXPECT_EQ(s.at("blocksPerSecond").as_double(), 12.5);
    EXPECT_TRUE(s.at("etaSeconds").is_null());
    EXPECT_EQ(data(2).at("event"), "disconnected");
    const auto frame = hub_.read_after(1, 1).events[0]->frame();
    EXPECT_NE(frame.find("\"progress\":0.25,"), std::string::npos) << frame;
}

}  // namespace
}  // namespace peerchain::node
