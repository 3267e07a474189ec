// PeerManager against scripted peers, on the test thread (which plays the chain
// executor): handshake rules, protocol violations, timeouts, serving, transaction relay and
// misbehaviour.
#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager_test_util.hpp"

namespace peerchain::net::peer_manager::fixture {
namespace {

// --- Handshake --------------------------------------------------------------------------

TEST_F(PeerManagerTest, OutboundSendsVersionFirst) {
    mine(3);
    const PeerId id = connect(Direction::kOutbound);
    auto sent = drain(id);
    ASSERT_EQ(sent.size(), 2u);
    // Then, between version and verack, that we understand addrv2 (BIP155).
    EXPECT_TRUE(std::holds_alternative<wire::SendAddrV2Message>(sent[1]));
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

// Issue 9: the nonce only serves to spot a connection to ourselves. We never send 0, so
// a peer's 0 can never match one of ours; it is taken (as Bitcoin Core takes it).
TEST_F(PeerManagerTest, AVersionWithNonceZeroIsAccepted) {
    const PeerId id = connect(Direction::kInbound);
    wire::VersionMessage v = version(0, 7000);
    v.nonce = 0;
    feed(id, v);
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
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_TRUE(std::holds_alternative<wire::VersionMessage>(sent[0]));
    EXPECT_TRUE(std::holds_alternative<wire::SendAddrV2Message>(sent[1]));
    EXPECT_TRUE(std::holds_alternative<wire::VerackMessage>(sent[2]));

    feed(id, wire::VerackMessage{});
    sent = drain(id);
    // getheaders, our tip, and our own address (the peer did not ask for addrv2).
    ASSERT_EQ(sent.size(), 3u);
    auto* gh = std::get_if<wire::GetHeadersMessage>(&sent[0]);
    ASSERT_NE(gh, nullptr);
    EXPECT_EQ(gh->locator, chain_->locator(chain_->best_header()));
    auto* h = std::get_if<wire::HeadersMessage>(&sent[1]);
    ASSERT_NE(h, nullptr);
    ASSERT_EQ(h->headers.size(), 1u);
    EXPECT_EQ(h->headers[0], chain_->tip()->header);
    auto* self = std::get_if<wire::AddrMessage>(&sent[2]);
    ASSERT_NE(self, nullptr);
    ASSERT_EQ(self->addresses.size(), 1u);
    EXPECT_EQ(self->addresses[0].host, "10.0.0.254");  // our end of its link
    EXPECT_EQ(self->addresses[0].port, 6001);

    const auto peers = pm_->peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_TRUE(peers[0].handshake_complete);
    EXPECT_EQ(peers[0].user_agent, "/scripted/");
    EXPECT_EQ(peers[0].start_height, 5u);
    EXPECT_EQ(peers[0].listen_port, 7000);
    EXPECT_EQ(peers[0].direction, Direction::kInbound);
    EXPECT_EQ(peers[0].address, "10.0.0.1:40000");
    EXPECT_EQ(peers[0].messages_received, 2u);
    EXPECT_EQ(peers[0].messages_sent, 6u);
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
    feed_raw(id, {18, 9, 9});
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
    ASSERT_EQ(sender_.sent[out].size(), 2u);  // version, sendaddrv2
    const util::Bytes our_version = sender_.sent[out].front();
    const PeerId in = connect(Direction::kInbound, "127.0.0.1:51000");
    feed_raw(in, our_version);
    EXPECT_EQ(reason(in), "self-connection");
    EXPECT_EQ(reason(out), "self-connection");
    EXPECT_TRUE(drain(in).empty());
}

TEST_F(PeerManagerTest, HandshakeTimesOut) {
    const PeerId id = connect(Direction::kInbound);
    EXPECT_EQ(reason_after(id, 10), "handshake timeout");
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
    EXPECT_EQ(reason_after(id, 60), "ping timeout");
}

// While we do not read from a peer (our queue of its messages is full), its pong may be
// among what waits: the ping's clock starts again when reading resumes.
TEST_F(PeerManagerTest, APingDoesNotTimeOutWhileWeDoNotReadThePeer) {
    const PeerId id = ready_peer();
    pm_->on_tick();
    ASSERT_EQ(drain_of<wire::PingMessage>(id).size(), 1u);
    sender_.paused.insert(id);
    for (int i = 0; i < 5; ++i) {
        clock_.advance(60);
        pm_->on_tick();
    }
    EXPECT_FALSE(disconnected(id));
    sender_.paused.erase(id);
    EXPECT_EQ(reason_after(id, 60), "ping timeout");
}

TEST_F(PeerManagerTest, AnswersPingWithItsNonce) {
    const PeerId id = ready_peer();
    feed(id, wire::PingMessage{0xabcdef});
    auto pongs = drain_of<wire::PongMessage>(id);
    ASSERT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0].nonce, 0xabcdefu);
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

TEST_F(PeerManagerTest, APeerThatDoesNotReadIsServedWhenItHasReadNotDropped) {
    mine(3);
    const PeerId slow = ready_peer(3);
    const PeerId other = ready_peer(3);
    drain(slow);
    drain(other);
    // Its link holds more than the backlog allows: nothing more is queued for it, and
    // its requests wait (bounded: one getheaders, its getdata queue) instead of piling up
    // until the link is closed as too slow.
    sender_.backlog[slow] = Config{}.max_send_backlog + 1;
    feed(slow, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    feed(slow, wire::GetHeadersMessage{{chain_->at_height(1)->hash}, {}});  // replaces it
    feed(slow, wire::GetDataMessage{{{wire::InvType::kBlock, chain_->at_height(1)->hash}}});
    pm_->on_tick();
    for (const auto& m : drain(slow)) {
        EXPECT_FALSE(std::holds_alternative<wire::HeadersMessage>(m));
        EXPECT_FALSE(std::holds_alternative<wire::BlockMessage>(m));
    }
    EXPECT_FALSE(disconnected(slow));
    // Others are served meanwhile.
    feed(other, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    EXPECT_EQ(drain_of<wire::HeadersMessage>(other).size(), 1u);
    // It asked to hear when the link has read half of its backlog...
    ASSERT_EQ(sender_.drain_wished.count(slow), 1u);
    EXPECT_EQ(sender_.drain_wished[slow], Config{}.max_send_backlog / 2);
    EXPECT_EQ(sender_.drain_wished.count(other), 0u);
    // ...and when it has, serving goes on at once, not at the next tick: the newest
    // getheaders is answered, then the block.
    sender_.backlog[slow] = 0;
    pm_->on_send_drained(slow);
    pm_->on_send_drained(12345);  // a peer that is gone: nothing happens
    auto sent = drain(slow);
    std::vector<wire::HeadersMessage> headers;
    std::size_t blocks = 0;
    for (auto& m : sent) {
        if (auto* h = std::get_if<wire::HeadersMessage>(&m)) headers.push_back(*h);
        if (std::holds_alternative<wire::BlockMessage>(m)) ++blocks;
    }
    ASSERT_EQ(headers.size(), 1u);
    EXPECT_EQ(headers[0].headers.size(), 2u);  // after height 1: heights 2 and 3
    EXPECT_EQ(blocks, 1u);
}

TEST_F(PeerManagerTest, GetHeadersAnswersCountAgainstTheServingBudget) {
    Config config;
    config.serve_bytes_per_tick = 100;  // one answer of a few headers per tick
    make_manager(config);
    mine(3);
    const PeerId id = ready_peer(3);
    pm_->on_tick();
    drain(id);
    // A peer asking for the whole chain again and again gets one answer per tick.
    for (int i = 0; i < 50; ++i) feed(id, wire::GetHeadersMessage{{regtest().genesis_hash}, {}});
    EXPECT_EQ(drain_of<wire::HeadersMessage>(id).size(), 1u);
    pm_->on_tick();
    EXPECT_EQ(drain_of<wire::HeadersMessage>(id).size(), 1u);  // the one kept waiting
    pm_->on_tick();
    EXPECT_TRUE(drain_of<wire::HeadersMessage>(id).empty());
    EXPECT_FALSE(disconnected(id));
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

TEST_F(PeerManagerTest, AMisbehavingLocalPeerIsDisconnectedButNeverDiscouraged) {
    // A coinbase outside a block is consensus-invalid.
    const core::Transaction coinbase = core::make_coinbase(1, 50, {}, {});
    const PeerId liar = ready_peer(0, 7000, "127.0.0.1:40001");
    feed(liar, wire::TxMessage{coinbase});
    ASSERT_TRUE(disconnected(liar));
    EXPECT_NE(reason(liar).find("invalid transaction"), std::string::npos) << reason(liar);
    // On loopback every node of the machine shares the host, and the port is the peer's to
    // choose: discouraging either would let a liar get an honest node refused. Core never
    // discourages local peers either.
    EXPECT_TRUE(bans_.list().empty());
    const PeerId back = ready_peer(0, 7000, "127.0.0.1:40002");
    EXPECT_FALSE(disconnected(back));
}

TEST_F(PeerManagerTest, AMisbehavingPeerIsDiscouragedByItsHostWhateverPortItClaims) {
    const core::Transaction coinbase = core::make_coinbase(1, 50, {}, {});
    const PeerId liar = ready_peer(0, 7000, "10.0.0.50:40001");
    feed(liar, wire::TxMessage{coinbase});
    ASSERT_TRUE(disconnected(liar));
    EXPECT_TRUE(bans_.is_discouraged("10.0.0.50"));
    // Issue 7: discouragement keyed by a port the peer declares could be aimed at an
    // innocent node. Another host claiming the same listening port is welcome.
    const PeerId other = ready_peer(0, 7000, "10.0.0.51:40003");
    EXPECT_FALSE(disconnected(other));
    // The liar's host is refused from any port, in and out.
    const PeerId back = connect(Direction::kInbound, "10.0.0.50:40002");
    EXPECT_EQ(reason(back), "discouraged address");
    const PeerId dialed = connect(Direction::kOutbound, "10.0.0.50:7001");
    EXPECT_EQ(reason(dialed), "discouraged address");

    clock_.advance(24 * 60 * 60);
    EXPECT_FALSE(bans_.is_discouraged("10.0.0.50"));
    EXPECT_FALSE(disconnected(ready_peer(0, 7000, "10.0.0.50:40004")));
}

TEST_F(PeerManagerTest, BannedAddressesAreRefusedByHostOrByListeningPort) {
    ASSERT_TRUE(bans_.ban("127.0.0.1:7000", 3600));
    // An inbound peer is known by its listening port once its version comes.
    const PeerId banned = connect(Direction::kInbound, "127.0.0.1:40001");
    EXPECT_FALSE(disconnected(banned));
    feed(banned, version(0, 7000));
    EXPECT_EQ(reason(banned), "banned address");
    EXPECT_FALSE(disconnected(ready_peer(0, 7001, "127.0.0.1:40002")));
    EXPECT_EQ(reason(connect(Direction::kOutbound, "127.0.0.1:7000")), "banned address");

    ASSERT_TRUE(bans_.ban("10.0.0.60", 3600));
    EXPECT_EQ(reason(connect(Direction::kInbound, "10.0.0.60:40003")), "banned address");
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
}  // namespace peerchain::net::peer_manager::fixture
