// Transaction relay between nodes with real chains and real pools, linked in memory:
// inv/getdata/tx across a line of nodes, the mempool message, orphans, and peers that
// send invalid, refused or unasked transactions.
#include <gtest/gtest.h>

#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/test_network.hpp"
#include "net/wire/message.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::peer_manager::testing {
namespace {

const crypto::SecretKey& owner() {
    static const crypto::SecretKey key = test_key(1);
    return key;
}

core::XOnlyKey someone(std::uint8_t n) {
    return test_key(static_cast<std::uint8_t>(100 + n)).public_key();
}

// `coins` blocks paying owner(), then 100 more so that their coinbases are mature.
void fund(TestNode& node, int coins) {
    node.mine(coins, node.name(), owner().public_key());
    node.mine(100, node.name());
}

bool all_at(std::initializer_list<TestNode*> nodes, std::uint32_t height) {
    for (auto* n : nodes) {
        if (n->height() != height) return false;
    }
    return true;
}

// Lets every node handle what is queued, twice round, so that nothing is still on its way.
void settle(std::initializer_list<TestNode*> nodes) {
    for (int round = 0; round < 3; ++round) {
        for (auto* n : nodes) n->run([] { return 0; });
    }
}

// Every transaction went at most once to each peer, in a tx message and in an inv.
void expect_nothing_twice(TestNode& node) {
    for (const auto& counts : {node.sender().txs_sent(), node.sender().txs_announced()}) {
        for (const auto& [peer, per_tx] : counts) {
            for (const auto& [txid, n] : per_tx) {
                EXPECT_EQ(n, 1) << node.name() << " to peer " << peer << ": " << txid.to_hex();
            }
        }
    }
}

wire::InvMessage inv_of(const std::vector<core::Uint256>& txids) {
    wire::InvMessage inv;
    for (const auto& txid : txids) inv.items.push_back({wire::InvType::kTx, txid});
    return inv;
}

template <typename T>
std::vector<T> only(const std::vector<wire::Message>& messages) {
    std::vector<T> out;
    for (const auto& m : messages) {
        if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
}

TEST(Relay, TransactionsCrossALineOfThreeNodesOnceEach) {
    TestNetwork net;
    auto& a = net.add_node("a");
    auto& b = net.add_node("b");
    auto& c = net.add_node("c");
    fund(a, 1);
    net.start_ticking();
    const auto [a_to_b, b_from_a] = net.connect(a, b);
    const auto [b_to_c, c_from_b] = net.connect(b, c);
    ASSERT_TRUE(wait_until([&] { return all_at({&a, &b, &c}, 101); }));

    // A payment and its unconfirmed child, submitted at A as the HTTP API does.
    const auto tx1 = pay(a.coinbase_at(1), owner(), 1000, owner().public_key());
    const auto tx2 = pay(output_of(tx1), owner(), 1000, someone(1));
    ASSERT_TRUE(a.submit(tx1).is_ok());
    ASSERT_TRUE(a.submit(tx2).is_ok());
    ASSERT_TRUE(wait_until([&] { return b.mempool().size() == 2 && c.mempool().size() == 2; }))
        << "b has " << b.mempool().size() << ", c has " << c.mempool().size();
    EXPECT_TRUE(c.mempool().contains(tx1.txid()));
    EXPECT_TRUE(c.mempool().contains(tx2.txid()));
    settle({&a, &b, &c});

    for (auto* n : {&a, &b, &c}) {
        expect_nothing_twice(*n);
        EXPECT_TRUE(n->sender().disconnects().empty()) << n->name();
    }
    // Announced and sent down the line; never back to the peer it came from.
    EXPECT_EQ(a.sender().txs_announced()[a_to_b][tx1.txid()], 1);
    EXPECT_EQ(a.sender().txs_sent()[a_to_b][tx1.txid()], 1);
    EXPECT_EQ(b.sender().txs_sent()[b_to_c][tx2.txid()], 1);
    EXPECT_EQ(b.sender().txs_announced()[b_from_a].count(tx1.txid()), 0u);
    EXPECT_EQ(c.sender().txs_announced()[c_from_b].count(tx1.txid()), 0u);
}

TEST(Relay, APeerThatConnectsLaterLearnsThePool) {
    TestNetwork net;
    auto& a = net.add_node("a");
    fund(a, 2);
    const auto tx1 = pay(a.coinbase_at(1), owner(), 1000, someone(1));
    const auto tx2 = pay(a.coinbase_at(2), owner(), 5000, someone(2));
    ASSERT_TRUE(a.submit(tx1).is_ok());
    ASSERT_TRUE(a.submit(tx2).is_ok());

    auto& d = net.add_node("d");
    net.start_ticking();
    net.connect(d, a);
    ASSERT_TRUE(wait_until([&] { return d.height() == 102 && d.mempool().size() == 2; }))
        << "d at " << d.height() << " with " << d.mempool().size();
    settle({&a, &d});
    expect_nothing_twice(a);
    expect_nothing_twice(d);
}

TEST(Relay, ConfirmedTransactionsAreNotFetchedAgain) {
    TestNetwork net;
    auto& a = net.add_node("a");
    auto& b = net.add_node("b");
    fund(a, 1);
    net.start_ticking();
    net.connect(a, b);
    ASSERT_TRUE(wait_until([&] { return all_at({&a, &b}, 101); }));
    const auto tx = pay(a.coinbase_at(1), owner(), 1000, someone(1));
    ASSERT_TRUE(a.submit(tx).is_ok());
    ASSERT_TRUE(wait_until([&] { return b.mempool().contains(tx.txid()); }));

    a.mine(1, "a", core::XOnlyKey{}, {tx});
    ASSERT_TRUE(wait_until([&] { return all_at({&a, &b}, 102); }));
    settle({&a, &b});
    EXPECT_EQ(b.mempool().size(), 0u);

    auto& peer = net.add_scripted_peer();
    net.connect(peer, b);
    ASSERT_TRUE(peer.handshake(regtest().magic, 102));
    peer.send(inv_of({tx.txid()}));
    const auto before = peer.sync();
    ASSERT_TRUE(before);
    EXPECT_TRUE(only<wire::GetDataMessage>(*before).empty());
}

TEST(Relay, InvalidSignatureDisconnectsAndDiscouragesTheSender) {
    TestNetwork net;
    auto& a = net.add_node("a");
    fund(a, 1);
    net.start_ticking();
    auto& liar = net.add_scripted_peer();
    net.connect(liar, a);
    ASSERT_TRUE(liar.handshake(regtest().magic, 101));

    auto bad = pay(a.coinbase_at(1), owner(), 1000, someone(1));
    bad.inputs[0].signature[10] ^= 1;
    liar.send(inv_of({bad.txid()}));
    const auto ask = liar.expect<wire::GetDataMessage>();
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->items, inv_of({bad.txid()}).items);
    liar.send(wire::TxMessage{bad});
    ASSERT_TRUE(wait_until([&] { return liar.is_closed(); }));
    EXPECT_NE(liar.close_reason().find("bad-txns-signature"), std::string::npos)
        << liar.close_reason();
    EXPECT_TRUE(a.bans().is_discouraged("10.0.0.9"));
    EXPECT_EQ(a.mempool().size(), 0u);

    // The same address cannot come back: refused right after it connects.
    auto& again = net.add_scripted_peer();
    net.connect(again, a);
    ASSERT_TRUE(wait_until([&] { return again.is_closed(); }));
    EXPECT_NE(again.close_reason().find("discouraged"), std::string::npos) << again.close_reason();
}

TEST(Relay, PolicyRefusalsAndDoubleSpendsAreNotPunished) {
    TestNetwork net;
    auto& a = net.add_node("a");
    fund(a, 1);
    net.start_ticking();
    auto& peer = net.add_scripted_peer();
    net.connect(peer, a);
    ASSERT_TRUE(peer.handshake(regtest().magic, 101));
    const auto coin = a.coinbase_at(1);

    // Below the minimum fee rate: refused, remembered, not fetched again.
    const auto free_tx = pay(coin, owner(), 0, someone(1));
    peer.send(wire::TxMessage{free_tx});
    ASSERT_TRUE(peer.sync());
    EXPECT_FALSE(a.mempool().contains(free_tx.txid()));
    peer.send(inv_of({free_tx.txid()}));
    auto before = peer.sync();
    ASSERT_TRUE(before);
    EXPECT_TRUE(only<wire::GetDataMessage>(*before).empty());

    // A good one, the way peers send them.
    const auto tx = pay(coin, owner(), 1000, someone(2));
    peer.send(inv_of({tx.txid()}));
    ASSERT_TRUE(peer.expect<wire::GetDataMessage>());
    peer.send(wire::TxMessage{tx});
    before = peer.sync();
    ASSERT_TRUE(before);
    EXPECT_TRUE(a.mempool().contains(tx.txid()));
    EXPECT_TRUE(only<wire::InvMessage>(*before).empty());  // it came from this peer

    // A double spend of it: refused (first seen wins), not punished.
    const auto double_spend = pay(coin, owner(), 3000, someone(3));
    peer.send(wire::TxMessage{double_spend});
    ASSERT_TRUE(peer.sync());
    EXPECT_FALSE(a.mempool().contains(double_spend.txid()));
    EXPECT_TRUE(a.mempool().contains(tx.txid()));
    EXPECT_FALSE(peer.is_closed());
    EXPECT_TRUE(a.bans().list().empty());
}

TEST(Relay, AnOrphanWaitsForItsParentThenBothEnter) {
    TestNetwork net;
    auto& a = net.add_node("a");
    fund(a, 1);
    net.start_ticking();
    auto& peer = net.add_scripted_peer();
    net.connect(peer, a);
    ASSERT_TRUE(peer.handshake(regtest().magic, 101));
    const auto parent = pay(a.coinbase_at(1), owner(), 1000, owner().public_key());
    const auto child = pay(output_of(parent), owner(), 1000, someone(1));

    peer.send(wire::TxMessage{child});
    const auto ask = peer.expect<wire::GetDataMessage>();
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->items, inv_of({parent.txid()}).items);
    ASSERT_TRUE(peer.sync());
    EXPECT_EQ(a.peer_manager().relay_info().orphans, 1u);
    EXPECT_EQ(a.mempool().size(), 0u);

    peer.send(wire::TxMessage{parent});
    ASSERT_TRUE(peer.sync());
    EXPECT_TRUE(a.mempool().contains(parent.txid()));
    EXPECT_TRUE(a.mempool().contains(child.txid()));
    EXPECT_EQ(a.peer_manager().relay_info().orphans, 0u);
    EXPECT_FALSE(peer.is_closed());
}

TEST(Relay, FloodsOfUnaskedTransactionsAndAnnouncementsAreBounded) {
    TestNetwork net;
    auto& a = net.add_node("a");
    net.start_ticking();
    auto& peer = net.add_scripted_peer();
    net.connect(peer, a);
    ASSERT_TRUE(peer.handshake(regtest().magic, 0));
    const Config defaults;

    // Fifty transactions nobody asked for, each spending an output nobody knows.
    std::vector<wire::Message> seen;
    for (int i = 0; i < 50; ++i) {
        core::Transaction tx;
        core::TxIn in;
        const auto bytes = testutil::random_bytes(32);
        std::copy(bytes.begin(), bytes.end(), in.prevout.txid.data());
        tx.inputs.push_back(in);
        tx.outputs.push_back(core::TxOut{1000, someone(1)});
        peer.send(wire::TxMessage{tx});
    }
    auto before = peer.sync();
    ASSERT_TRUE(before);
    seen.insert(seen.end(), before->begin(), before->end());
    auto info = a.peer_manager().relay_info();
    EXPECT_EQ(info.orphans, defaults.unsolicited_tx_allowance);
    EXPECT_EQ(info.txs_ignored, 50 - defaults.unsolicited_tx_allowance);

    // Two full inv messages of unknown transactions.
    for (int round = 0; round < 2; ++round) {
        std::vector<core::Uint256> txids;
        for (std::size_t i = 0; i < wire::kMaxInvItems; ++i) {
            core::Uint256 txid;
            const auto bytes = testutil::random_bytes(32);
            std::copy(bytes.begin(), bytes.end(), txid.data());
            txids.push_back(txid);
        }
        peer.send(inv_of(txids));
    }
    before = peer.sync();
    ASSERT_TRUE(before);
    seen.insert(seen.end(), before->begin(), before->end());
    std::size_t requested = 0;
    for (const auto& ask : only<wire::GetDataMessage>(seen)) requested += ask.items.size();
    EXPECT_EQ(requested, defaults.max_tx_in_flight_per_peer);
    info = a.peer_manager().relay_info();
    EXPECT_LE(info.tx_announcements, defaults.max_tx_announcements);
    EXPECT_EQ(info.txs_in_flight, defaults.max_tx_in_flight_per_peer);
    EXPECT_FALSE(peer.is_closed());
}

}  // namespace
}  // namespace peerchain::net::peer_manager::testing
