// PeerManager against scripted peers, on the test thread (which plays the chain
// executor): handshake rules, protocol violations, timeouts, serving and requesting.
#include "net/peer_manager/peer_manager.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "chain/event_bus.hpp"
#include "core/params.hpp"
#include "core/pow.hpp"
#include "net/peer_manager/test_network.hpp"
#include "net/wire/message.hpp"
#include "store/leveldb_database.hpp"
#include "tests/util/block_builder.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::peer_manager {
namespace {

using testing::regtest;

class RecordingSender final : public PeerSender {
  public:
    void send(PeerId peer, std::shared_ptr<const util::Bytes> message) override {
        sent[peer].push_back(*message);
    }
    void disconnect(PeerId peer, std::string reason) override { disconnected[peer] = reason; }

    std::map<PeerId, std::deque<util::Bytes>> sent;
    std::map<PeerId, std::string> disconnected;
};

// Blocks built outside any Chainstate: a chain of `n` on `parent` (at `parent_height`).
std::vector<core::Block> build_chain(const core::BlockHeader& parent, std::uint32_t parent_height,
                                     int n, const std::string& tag) {
    const auto& p = regtest();
    std::vector<core::Block> out;
    core::BlockHeader prev = parent;
    for (int i = 0; i < n; ++i) {
        const std::uint32_t height = parent_height + 1 + static_cast<std::uint32_t>(i);
        core::Block b = testutil::make_block(p, prev.hash(), height, prev.time + 10,
                                             tag + std::to_string(height));
        testutil::mine(b, p);
        prev = b.header;
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<core::BlockHeader> headers_of(const std::vector<core::Block>& blocks) {
    std::vector<core::BlockHeader> out;
    for (const auto& b : blocks) out.push_back(b.header);
    return out;
}

class PeerManagerTest : public ::testing::Test {
  protected:
    PeerManagerTest() : clock_(regtest().genesis.header.time + 1'000'000) {
        auto db = store::open_leveldb(dir_.path() / "db", store::Options{});
        NODE_ASSERT(db.has_value());
        db_ = std::move(*db);
        chain::ChainstateOptions options;
        options.script_threads = 1;
        auto chain = chain::Chainstate::open(*db_, regtest(), clock_, &bus_, options);
        NODE_ASSERT(chain.has_value());
        chain_ = std::move(*chain);
        mempool_ = std::make_unique<mempool::Mempool>(*chain_, clock_);
        bus_.subscribe(chain::EventBus::Slot::kMempool, mempool_.get());
        make_manager({});
    }
    ~PeerManagerTest() override {
        bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
        bus_.subscribe(chain::EventBus::Slot::kMempool, nullptr);
    }

    void make_manager(Config config) {
        if (config.listen_port == 0) config.listen_port = 6001;
        bus_.subscribe(chain::EventBus::Slot::kPeers, nullptr);
        pm_.reset();
        pm_ = std::make_unique<PeerManager>(*chain_, *mempool_, sender_, clock_, std::move(config));
        // The chain's events reach the pool first, then the peer manager, as in node/.
        bus_.subscribe(chain::EventBus::Slot::kPeers, pm_.get());
    }

    void mine(int n, const std::string& tag = "local") {
        for (int i = 0; i < n; ++i) {
            auto block =
                std::make_shared<const core::Block>(testing::make_next_block(chain_->tip(), tag));
            ASSERT_TRUE(chain_->process_block(block).is_ok());
        }
    }

    // Each peer on its own host unless told otherwise: a misbehaving one gets its host
    // discouraged, which must not refuse the next test peer.
    PeerId connect(Direction direction, std::string address = {}) {
        const PeerId id = ++last_id_;
        if (address.empty()) address = "10.0.0." + std::to_string(id) + ":40000";
        pm_->on_peer_connected(id, {direction, std::move(address), ""});
        return id;
    }

    void feed(PeerId id, const wire::Message& m) { pm_->on_message(id, wire::encode_message(m)); }
    void feed_raw(PeerId id, const util::Bytes& bytes) { pm_->on_message(id, bytes); }

    wire::VersionMessage version(std::uint32_t height = 0, std::uint16_t listen_port = 0) {
        wire::VersionMessage v;
        v.magic = regtest().magic;
        v.best_height = height;
        v.nonce = ++last_nonce_;
        v.listen_port = listen_port;
        v.user_agent = "/scripted/";
        v.time = clock_.now_seconds();
        return v;
    }

    // Everything sent to `id` since the last call, decoded.
    std::vector<wire::Message> drain(PeerId id) {
        std::vector<wire::Message> out;
        for (auto& bytes : sender_.sent[id]) {
            auto m = wire::decode_message(bytes, wire::DecodeLimits::from(regtest()));
            EXPECT_TRUE(m.has_value());
            if (m) out.push_back(std::move(*m));
        }
        sender_.sent[id].clear();
        return out;
    }
    template <typename T>
    std::vector<T> drain_of(PeerId id) {
        std::vector<T> out;
        for (auto& m : drain(id)) {
            if (auto* t = std::get_if<T>(&m)) out.push_back(std::move(*t));
        }
        return out;
    }

    // An inbound peer past the handshake, with what it was sent cleared.
    PeerId ready_peer(std::uint32_t height = 0, std::uint16_t listen_port = 0,
                      std::string address = {}) {
        const PeerId id = connect(Direction::kInbound, std::move(address));
        feed(id, version(height, listen_port));
        feed(id, wire::VerackMessage{});
        drain(id);
        // Answer the getheaders of the handshake, so that later ones are not held back
        // (and the node, in step with it, asks for its pool).
        feed(id, wire::HeadersMessage{});
        drain(id);
        return id;
    }

    bool disconnected(PeerId id) const { return sender_.disconnected.contains(id); }
    std::string reason(PeerId id) const {
        auto it = sender_.disconnected.find(id);
        return it == sender_.disconnected.end() ? "" : it->second;
    }

    testutil::TempDir dir_;
    util::ManualClock clock_;
    chain::EventBus bus_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<chain::Chainstate> chain_;
    std::unique_ptr<mempool::Mempool> mempool_;
    RecordingSender sender_;
    std::unique_ptr<PeerManager> pm_;
    PeerId last_id_ = 0;
    std::uint64_t last_nonce_ = 1000;
};

// --- Handshake --------------------------------------------------------------------------

TEST_F(PeerManagerTest, OutboundSendsVersionFirst) {
    mine(3);
    const PeerId id = connect(Direction::kOutbound);
    auto sent = drain(id);
    ASSERT_EQ(sent.size(), 1u);
    auto* v = std::get_if<wire::VersionMessage>(&sent[0]);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->magic, regtest().magic);
    EXPECT_EQ(v->protocol_version, wire::kProtocolVersion);
    EXPECT_EQ(v->best_height, 3u);
    EXPECT_EQ(v->best_work, chain_->tip()->chain_work);
    EXPECT_NE(v->nonce, 0u);
    EXPECT_EQ(v->listen_port, 6001);
    EXPECT_EQ(v->time, clock_.now_seconds());

    // Its version: we answer verack; its verack completes the handshake.
    feed(id, version(7));
    auto answer = drain(id);
    ASSERT_EQ(answer.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<wire::VerackMessage>(answer[0]));
    EXPECT_EQ(pm_->handshaken_peer_count(), 0u);
    feed(id, wire::VerackMessage{});
    EXPECT_EQ(pm_->handshaken_peer_count(), 1u);
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, InboundAnswersVersionThenSyncsAndAnnouncesTip) {
    mine(2);
    const PeerId id = connect(Direction::kInbound);
    EXPECT_TRUE(drain(id).empty());  // an inbound peer speaks first
    feed(id, version(5, 7000));
    auto sent = drain(id);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<wire::VersionMessage>(sent[0]));
    EXPECT_TRUE(std::holds_alternative<wire::VerackMessage>(sent[1]));

    feed(id, wire::VerackMessage{});
    sent = drain(id);
    ASSERT_EQ(sent.size(), 2u);
    auto* gh = std::get_if<wire::GetHeadersMessage>(&sent[0]);
    ASSERT_NE(gh, nullptr);
    EXPECT_EQ(gh->locator, chain_->locator(chain_->best_header()));
    auto* h = std::get_if<wire::HeadersMessage>(&sent[1]);
    ASSERT_NE(h, nullptr);
    ASSERT_EQ(h->headers.size(), 1u);
    EXPECT_EQ(h->headers[0], chain_->tip()->header);

    const auto peers = pm_->peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_TRUE(peers[0].handshake_complete);
    EXPECT_EQ(peers[0].user_agent, "/scripted/");
    EXPECT_EQ(peers[0].start_height, 5u);
    EXPECT_EQ(peers[0].listen_port, 7000);
    EXPECT_EQ(peers[0].direction, Direction::kInbound);
    EXPECT_EQ(peers[0].address, "10.0.0.1:40000");
    EXPECT_EQ(peers[0].messages_received, 2u);
    EXPECT_EQ(peers[0].messages_sent, 4u);
    EXPECT_GT(peers[0].bytes_received, 0u);
}

TEST_F(PeerManagerTest, MessageBeforeHandshakeDisconnects) {
    const PeerId a = connect(Direction::kInbound);
    feed(a, wire::PingMessage{1});
    EXPECT_EQ(reason(a), "ping before version");

    const PeerId b = connect(Direction::kInbound);
    feed(b, wire::VerackMessage{});
    EXPECT_EQ(reason(b), "verack before version");

    // Between version and verack too.
    const PeerId c = connect(Direction::kInbound);
    feed(c, version());
    feed(c, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    EXPECT_EQ(reason(c), "getheaders before handshake");

    const PeerId d = ready_peer();
    feed(d, version());
    EXPECT_EQ(reason(d), "duplicate version");
}

TEST_F(PeerManagerTest, DisconnectedPeerIsIgnoredUntilGone) {
    const PeerId a = connect(Direction::kInbound);
    feed(a, wire::PingMessage{1});
    ASSERT_TRUE(disconnected(a));
    drain(a);
    feed(a, version());
    EXPECT_TRUE(drain(a).empty());
    EXPECT_EQ(pm_->peer_count(), 1u);
    pm_->on_peer_disconnected(a, "closed");
    EXPECT_EQ(pm_->peer_count(), 0u);
    feed(a, version());  // unknown by now
    EXPECT_TRUE(drain(a).empty());
}

TEST_F(PeerManagerTest, MalformedPayloadOfKnownTypeDisconnects) {
    const PeerId id = ready_peer();
    feed_raw(id, {static_cast<std::uint8_t>(wire::MessageType::kInv), 0xff});
    EXPECT_NE(reason(id).find("malformed message: inv"), std::string::npos) << reason(id);

    const PeerId id2 = ready_peer();
    feed_raw(id2, {static_cast<std::uint8_t>(wire::MessageType::kPing), 1, 2, 3});
    EXPECT_NE(reason(id2).find("malformed"), std::string::npos) << reason(id2);

    // Before the handshake as well.
    const PeerId id3 = connect(Direction::kInbound);
    feed_raw(id3, {static_cast<std::uint8_t>(wire::MessageType::kVersion), 0x70});
    EXPECT_NE(reason(id3).find("malformed message: version"), std::string::npos);

    const PeerId id4 = ready_peer();
    feed_raw(id4, {});
    EXPECT_NE(reason(id4).find("empty"), std::string::npos);
}

TEST_F(PeerManagerTest, UnknownTypeIsIgnored) {
    const PeerId id = connect(Direction::kInbound);
    feed(id, version());
    feed_raw(id, {200, 1, 2, 3});  // between version and verack: a newer peer's negotiation
    feed_raw(id, {0});
    feed(id, wire::VerackMessage{});
    feed_raw(id, {15, 9, 9});
    EXPECT_FALSE(disconnected(id));
    drain(id);
    feed(id, wire::PingMessage{77});
    auto pongs = drain_of<wire::PongMessage>(id);
    ASSERT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0].nonce, 77u);
    EXPECT_EQ(pm_->handshaken_peer_count(), 1u);
}

// Garbage from something that is not a peer: the first message must be a version.
TEST_F(PeerManagerTest, UnknownTypeBeforeVersionDisconnects) {
    const PeerId id = connect(Direction::kInbound);
    feed_raw(id, {0xff, 0xfe, 0xfd});
    EXPECT_EQ(reason(id), "unknown before version");
}

TEST_F(PeerManagerTest, WrongMagicDisconnectsNamingTheNetwork) {
    const PeerId id = connect(Direction::kInbound);
    auto v = version();
    v.magic = core::params(core::Network::kDev).magic;
    feed(id, v);
    EXPECT_NE(reason(id).find("wrong network magic"), std::string::npos) << reason(id);
    EXPECT_NE(reason(id).find("'dev'"), std::string::npos) << reason(id);
    EXPECT_TRUE(drain(id).empty());  // no version or verack for it

    const PeerId id2 = connect(Direction::kInbound);
    v.magic = {1, 2, 3, 4};
    feed(id2, v);
    EXPECT_NE(reason(id2).find("01020304"), std::string::npos) << reason(id2);
    EXPECT_NE(reason(id2).find("unknown network"), std::string::npos) << reason(id2);
}

TEST_F(PeerManagerTest, ObsoleteProtocolVersionDisconnects) {
    const PeerId id = connect(Direction::kInbound);
    auto v = version();
    v.protocol_version = 0;
    feed(id, v);
    EXPECT_NE(reason(id).find("protocol version 0"), std::string::npos) << reason(id);
}

TEST_F(PeerManagerTest, SelfConnectionDisconnectsBothEnds) {
    // We dial ourselves: our outbound version arrives on our own listener.
    const PeerId out = connect(Direction::kOutbound, "127.0.0.1:6001");
    ASSERT_EQ(sender_.sent[out].size(), 1u);
    const util::Bytes our_version = sender_.sent[out].front();
    const PeerId in = connect(Direction::kInbound, "127.0.0.1:51000");
    feed_raw(in, our_version);
    EXPECT_EQ(reason(in), "self-connection");
    EXPECT_EQ(reason(out), "self-connection");
    EXPECT_TRUE(drain(in).empty());
}

TEST_F(PeerManagerTest, HandshakeTimesOut) {
    const PeerId id = connect(Direction::kInbound);
    clock_.advance(9);
    pm_->on_tick();
    EXPECT_FALSE(disconnected(id));
    clock_.advance(1);
    pm_->on_tick();
    EXPECT_EQ(reason(id), "handshake timeout");
}

TEST_F(PeerManagerTest, PingsAndDropsPeerThatStopsAnswering) {
    const PeerId id = ready_peer();
    pm_->on_tick();
    auto pings = drain_of<wire::PingMessage>(id);
    ASSERT_EQ(pings.size(), 1u);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::PingMessage>(id).empty());  // one at a time
    feed(id, wire::PongMessage{pings[0].nonce + 1});       // not ours: ignored
    EXPECT_EQ(pm_->peers()[0].ping_ms, -1);
    feed(id, wire::PongMessage{pings[0].nonce});
    EXPECT_GE(pm_->peers()[0].ping_ms, 0);

    clock_.advance(29);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::PingMessage>(id).empty());
    clock_.advance(1);
    pm_->on_tick();
    ASSERT_EQ(drain_of<wire::PingMessage>(id).size(), 1u);
    clock_.advance(59);
    pm_->on_tick();
    EXPECT_FALSE(disconnected(id));
    clock_.advance(1);
    pm_->on_tick();
    EXPECT_EQ(reason(id), "ping timeout");
}

TEST_F(PeerManagerTest, AnswersPingWithItsNonce) {
    const PeerId id = ready_peer();
    feed(id, wire::PingMessage{0xabcdef});
    auto pongs = drain_of<wire::PongMessage>(id);
    ASSERT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0].nonce, 0xabcdefu);
}

TEST_F(PeerManagerTest, GetAddrListsListeningPeersOnce) {
    ready_peer(0, 6001, "10.1.2.3:5555");
    ready_peer(0, 0, "10.1.2.4:5556");       // not listening
    ready_peer(0, 6002, "[fd00::7]:41000");  // IPv6
    const PeerId asker = ready_peer(0, 6003, "10.9.9.9:1234");
    feed(asker, wire::GetAddrMessage{});
    auto addrs = drain_of<wire::AddrMessage>(asker);
    ASSERT_EQ(addrs.size(), 1u);
    ASSERT_EQ(addrs[0].addresses.size(), 2u);
    EXPECT_EQ(addrs[0].addresses[0].host, "10.1.2.3");
    EXPECT_EQ(addrs[0].addresses[0].port, 6001);
    EXPECT_EQ(addrs[0].addresses[1].host, "fd00::7");
    EXPECT_EQ(addrs[0].addresses[1].port, 6002);
    feed(asker, wire::GetAddrMessage{});
    EXPECT_TRUE(drain_of<wire::AddrMessage>(asker).empty());
    EXPECT_FALSE(disconnected(asker));
}

// --- Serving ------------------------------------------------------------------------------

TEST_F(PeerManagerTest, GetHeadersIsAnsweredWithAtMostTheBatchLimit) {
    Config config;
    config.max_headers_per_message = 10;
    make_manager(config);
    mine(25);
    const PeerId id = ready_peer();

    feed(id, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    auto replies = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_EQ(replies[0].headers.size(), 10u);
    EXPECT_EQ(replies[0].headers[0].prev_hash, regtest().genesis_hash);
    EXPECT_EQ(replies[0].headers[9].hash(), chain_->at_height(10)->hash);

    feed(id, wire::GetHeadersMessage{chain_->locator(chain_->at_height(20)), {}});
    replies = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_EQ(replies[0].headers.size(), 5u);
    EXPECT_EQ(replies[0].headers[0].hash(), chain_->at_height(21)->hash);
    EXPECT_EQ(replies[0].headers[4].hash(), chain_->tip()->hash);

    // Up to the stop hash only.
    feed(id, wire::GetHeadersMessage{{regtest().genesis_hash}, chain_->at_height(3)->hash});
    replies = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].headers.size(), 3u);

    // Nothing past our tip: an empty answer.
    feed(id, wire::GetHeadersMessage{chain_->locator(), {}});
    replies = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_TRUE(replies[0].headers.empty());

    // Hashes we do not know: from genesis.
    feed(id, wire::GetHeadersMessage{{core::Uint256()}, {}});
    replies = drain_of<wire::HeadersMessage>(id);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].headers.size(), 10u);
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, GetDataServesStoredBytesAndOneNotFound) {
    mine(3);
    const PeerId id = ready_peer(3);
    const auto* b1 = chain_->at_height(1);
    const auto* b2 = chain_->at_height(2);
    core::Uint256 unknown;
    unknown.data()[0] = 1;
    feed(id, wire::GetDataMessage{{{wire::InvType::kBlock, b2->hash},
                                   {wire::InvType::kBlock, unknown},
                                   {wire::InvType::kTx, b1->hash},
                                   {wire::InvType::kBlock, b1->hash}}});
    auto& raw = sender_.sent[id];
    ASSERT_EQ(raw.size(), 4u);
    // The unknown block's notfound first (it is decided at once), then the blocks in the
    // order asked, then the transaction's (answered from the pool when served).
    auto nf = wire::decode_message(raw[0], wire::DecodeLimits::from(regtest()));
    ASSERT_TRUE(nf);
    auto* not_found = std::get_if<wire::NotFoundMessage>(&*nf);
    ASSERT_NE(not_found, nullptr);
    ASSERT_EQ(not_found->items.size(), 1u);
    EXPECT_EQ(not_found->items[0].hash, unknown);
    EXPECT_EQ(raw[1], wire::encode_block_message(*chain_->read_block_bytes(b2)));
    EXPECT_EQ(raw[2], wire::encode_block_message(*chain_->read_block_bytes(b1)));
    auto tx_nf = wire::decode_message(raw[3], wire::DecodeLimits::from(regtest()));
    ASSERT_TRUE(tx_nf);
    ASSERT_TRUE(std::holds_alternative<wire::NotFoundMessage>(*tx_nf));
    EXPECT_EQ(std::get<wire::NotFoundMessage>(*tx_nf).items,
              (std::vector<wire::InvItem>{{wire::InvType::kTx, b1->hash}}));
    EXPECT_FALSE(disconnected(id));
}

TEST_F(PeerManagerTest, GetDataFloodDisconnects) {
    Config config;
    config.max_getdata_blocks = 4;
    make_manager(config);
    mine(5);
    const PeerId id = ready_peer(5);
    wire::GetDataMessage request;
    for (std::uint32_t h = 1; h <= 5; ++h) {
        request.items.push_back({wire::InvType::kBlock, chain_->at_height(h)->hash});
    }
    feed(id, request);
    EXPECT_NE(reason(id).find("getdata flood"), std::string::npos) << reason(id);
    EXPECT_TRUE(drain_of<wire::BlockMessage>(id).empty());
}

TEST_F(PeerManagerTest, ServingIsBoundedPerTick) {
    Config config;
    config.serve_bytes_per_tick = 1;  // one block per tick
    make_manager(config);
    mine(3);
    const PeerId id = ready_peer(3);
    pm_->on_tick();  // a tick resets the budget
    drain(id);
    wire::GetDataMessage request;
    for (std::uint32_t h = 1; h <= 3; ++h) {
        request.items.push_back({wire::InvType::kBlock, chain_->at_height(h)->hash});
    }
    feed(id, request);
    auto blocks = drain_of<wire::BlockMessage>(id);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].block.hash(), chain_->at_height(1)->hash);
    pm_->on_tick();
    blocks = drain_of<wire::BlockMessage>(id);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].block.hash(), chain_->at_height(2)->hash);
    pm_->on_tick();
    blocks = drain_of<wire::BlockMessage>(id);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].block.hash(), chain_->at_height(3)->hash);
}

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

TEST_F(PeerManagerTest, StallingPeerIsDroppedAndItsBlocksGoElsewhere) {
    const auto blocks = build_chain(regtest().genesis.header, 0, 3, "remote");
    const PeerId slow = ready_peer(3);
    const PeerId other = ready_peer(3);
    feed(slow, wire::HeadersMessage{headers_of(blocks)});
    ASSERT_EQ(drain_of<wire::GetDataMessage>(slow).size(), 1u);
    feed(other, wire::HeadersMessage{headers_of(blocks)});
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(other).empty());  // all taken by `slow`

    clock_.advance(59);
    pm_->on_tick();
    EXPECT_FALSE(disconnected(slow));
    clock_.advance(1);
    pm_->on_tick();
    EXPECT_NE(reason(slow).find("stalling"), std::string::npos) << reason(slow);
    auto requests = drain_of<wire::GetDataMessage>(other);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].items.size(), 3u);
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

// --- Transaction relay ------------------------------------------------------------------

namespace relay {

core::Uint256 txid_of(std::uint8_t n) {
    core::Uint256 v;
    v.data()[0] = n;
    v.data()[31] = 0x7e;
    return v;
}

}  // namespace relay

TEST_F(PeerManagerTest, UnansweredTxRequestGoesToAnotherAnnouncerAfterTimeout) {
    const PeerId first = ready_peer();
    const PeerId second = ready_peer();
    const auto txid = relay::txid_of(1);
    feed(first, wire::InvMessage{{{wire::InvType::kTx, txid}}});
    feed(second, wire::InvMessage{{{wire::InvType::kTx, txid}}});
    const auto asked = drain_of<wire::GetDataMessage>(first);
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0].items, (std::vector<wire::InvItem>{{wire::InvType::kTx, txid}}));
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(second).empty());  // one request at a time

    clock_.advance(59);
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(second).empty());
    clock_.advance(1);
    pm_->on_tick();
    const auto retry = drain_of<wire::GetDataMessage>(second);
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_EQ(retry[0].items, (std::vector<wire::InvItem>{{wire::InvType::kTx, txid}}));
    EXPECT_TRUE(drain_of<wire::GetDataMessage>(first).empty());
    EXPECT_FALSE(disconnected(first));  // slow is not misbehaving
}

TEST_F(PeerManagerTest, NotFoundPassesTheTxRequestOnAtOnce) {
    const PeerId first = ready_peer();
    const PeerId second = ready_peer();
    const auto txid = relay::txid_of(2);
    feed(first, wire::InvMessage{{{wire::InvType::kTx, txid}}});
    feed(second, wire::InvMessage{{{wire::InvType::kTx, txid}}});
    drain(first);
    feed(first, wire::NotFoundMessage{{{wire::InvType::kTx, txid}}});
    EXPECT_EQ(drain_of<wire::GetDataMessage>(second).size(), 1u);
}

TEST_F(PeerManagerTest, LoopbackPeersAreDiscouragedByTheirListeningPort) {
    // A coinbase outside a block is consensus-invalid.
    const core::Transaction coinbase = core::make_coinbase(1, 50, {}, {});
    const PeerId liar = ready_peer(0, 7000, "127.0.0.1:40001");
    feed(liar, wire::TxMessage{coinbase});
    ASSERT_TRUE(disconnected(liar));
    EXPECT_NE(reason(liar).find("invalid transaction"), std::string::npos) << reason(liar);
    EXPECT_EQ(pm_->discouraged(), std::vector<std::string>{"127.0.0.1:7000"});
    EXPECT_TRUE(pm_->is_discouraged("127.0.0.1:7000"));
    EXPECT_FALSE(pm_->is_discouraged("127.0.0.1:7001"));

    // Inbound from the same host and listening port: refused at its version.
    const PeerId back = connect(Direction::kInbound, "127.0.0.1:40002");
    EXPECT_FALSE(disconnected(back));
    feed(back, version(0, 7000));
    EXPECT_EQ(reason(back), "discouraged address");
    // Another node on the same machine is welcome.
    const PeerId other = ready_peer(0, 7001, "127.0.0.1:40003");
    EXPECT_FALSE(disconnected(other));
    // Dialing it is refused at once.
    const PeerId dialed = connect(Direction::kOutbound, "127.0.0.1:7000");
    EXPECT_EQ(reason(dialed), "discouraged address");

    clock_.advance(24 * 60 * 60);
    EXPECT_TRUE(pm_->discouraged().empty());
    EXPECT_FALSE(pm_->is_discouraged("127.0.0.1:7000"));
}

TEST_F(PeerManagerTest, MempoolRequestIsAnsweredWithWhatThePeerLacksAtMostEveryTenSeconds) {
    const auto key = testing::test_key(1);
    auto funding = testing::make_next_block(chain_->tip(), "fund", key.public_key());
    ASSERT_TRUE(chain_->process_block(std::make_shared<const core::Block>(funding)).is_ok());
    mine(100);
    const auto coin = testing::output_of(funding.txs[0]);
    const auto tx = testing::pay(coin, key, 1000, key.public_key());
    ASSERT_TRUE(mempool_->accept(std::make_shared<const core::Transaction>(tx)).is_ok());

    const PeerId id = ready_peer(101);
    feed(id, wire::MempoolMessage{});
    auto invs = drain_of<wire::InvMessage>(id);
    ASSERT_EQ(invs.size(), 1u);
    EXPECT_EQ(invs[0].items, (std::vector<wire::InvItem>{{wire::InvType::kTx, tx.txid()}}));

    // Served from the pool when asked.
    feed(id, wire::GetDataMessage{{{wire::InvType::kTx, tx.txid()}}});
    auto sent = drain_of<wire::TxMessage>(id);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].tx, tx);

    clock_.advance(9);
    feed(id, wire::MempoolMessage{});
    EXPECT_TRUE(drain(id).empty());  // too soon
    clock_.advance(1);
    feed(id, wire::MempoolMessage{});
    EXPECT_TRUE(drain_of<wire::InvMessage>(id).empty());  // it knows everything we have
    // relay_transaction does not repeat it either; a new peer hears of it.
    const PeerId fresh = ready_peer(101);
    pm_->relay_transaction(tx.txid());
    EXPECT_TRUE(drain_of<wire::InvMessage>(id).empty());
    EXPECT_EQ(drain_of<wire::InvMessage>(fresh).size(), 1u);
}

TEST_F(PeerManagerTest, TxGetDataFloodDisconnects) {
    Config config;
    config.max_getdata_txs = 3;
    make_manager(config);
    const PeerId id = ready_peer();
    wire::GetDataMessage ask;
    for (std::uint8_t i = 0; i < 4; ++i)
        ask.items.push_back({wire::InvType::kTx, relay::txid_of(i)});
    feed(id, ask);
    EXPECT_NE(reason(id).find("getdata flood"), std::string::npos) << reason(id);
}

}  // namespace
}  // namespace peerchain::net::peer_manager
