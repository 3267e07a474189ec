// The client commands' requests and tables, from answers shaped as the node's routes give
// them (docs/API.md). The commands against a real node are in tests/integration/test_cli.py.
#include "app/node_cli.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace peerchain::app {
namespace {

using Kind = NodeCommand::Kind;

NodeCommand cmd(Kind kind, std::string id = {}) {
    NodeCommand c;
    c.kind = kind;
    c.id = std::move(id);
    return c;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string kHash(64, 'a');

TEST(NodeCli, RequestsGoToTheDocumentedRoutes) {
    EXPECT_EQ(make_node_request(cmd(Kind::kStatus))->target, "/status");
    EXPECT_EQ(make_node_request(cmd(Kind::kPeers))->target, "/peers");
    EXPECT_EQ(make_node_request(cmd(Kind::kMempool))->target, "/mempool");
    EXPECT_EQ(make_node_request(cmd(Kind::kBlock, "12"))->target, "/blocks/12");
    EXPECT_EQ(make_node_request(cmd(Kind::kBlock, kHash))->target, "/blocks/" + kHash);
    EXPECT_EQ(make_node_request(cmd(Kind::kTx, kHash))->target, "/transactions/" + kHash);

    auto add = make_node_request(cmd(Kind::kAddPeer, "ws://127.0.0.1:6001"));
    ASSERT_TRUE(add);
    EXPECT_EQ(add->method, "POST");
    EXPECT_EQ(add->target, "/addPeer");
    EXPECT_EQ(boost::json::parse(add->body).at("peer").as_string(), "ws://127.0.0.1:6001");
}

TEST(NodeCli, MineAsksForCountAndPayee) {
    NodeCommand c = cmd(Kind::kMine);
    c.count = 7;
    auto r = make_node_request(c);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->target, "/mineBlock");
    auto body = boost::json::parse(r->body).as_object();
    EXPECT_EQ(body.at("count").as_int64(), 7);
    EXPECT_FALSE(body.contains("to"));
    c.to = "pcrt1xyz";
    body = boost::json::parse(make_node_request(c)->body).as_object();
    EXPECT_EQ(body.at("to").as_string(), "pcrt1xyz");
    c.count = 0;
    EXPECT_FALSE(make_node_request(c));
}

TEST(NodeCli, BadIdsAreRefusedBeforeAnyRequest) {
    for (const char* bad : {"", "-1", "1.5", "abc", "12345678901", "../status"}) {
        EXPECT_FALSE(make_node_request(cmd(Kind::kBlock, bad))) << bad;
    }
    EXPECT_FALSE(make_node_request(cmd(Kind::kTx, "12")));
    EXPECT_FALSE(make_node_request(cmd(Kind::kTx, std::string(64, 'g'))));
}

TEST(NodeCli, StatusTable) {
    const std::string out = format_node_answer(
        cmd(Kind::kStatus),
        R"({"network":"regtest","height":104,"tipHash":"5834","chainwork":"00000d2",)"
        R"("bits":"207fffff","difficulty":1E0,"medianTime":0,"bestHeaderHeight":104,)"
        R"("peers":2,"mining":{"continuous":false,"threads":1,"hashesPerSecond":0,)"
        R"("blocksFound":3}})");
    EXPECT_TRUE(contains(out, "network      regtest\n")) << out;
    EXPECT_TRUE(contains(out, "height       104\n")) << out;
    EXPECT_TRUE(contains(out, "difficulty   1 (bits 207fffff)\n")) << out;
    EXPECT_TRUE(contains(out, "chain work   0xd2\n")) << out;
    EXPECT_TRUE(contains(out, "median time  1970-01-01 00:00:00 UTC\n")) << out;
    EXPECT_TRUE(contains(out, "on request, 1 thread, 0 hashes/s, 3 blocks found")) << out;
}

TEST(NodeCli, PeersAndMempoolTables) {
    EXPECT_EQ(format_node_answer(cmd(Kind::kPeers), "[]"), "no peers\n");
    const std::string peers = format_node_answer(
        cmd(Kind::kPeers),
        R"([{"id":1,"address":"127.0.0.1:6001","direction":"outbound","transport":"ws",)"
        R"("manual":true,"userAgent":"/p/","syncedHeight":21,"pingMs":3}])");
    EXPECT_EQ(peers,
              "ID  DIRECTION  TRANSPORT  ADDRESS         HEIGHT  PING  MANUAL  AGENT\n"
              "1   outbound   ws         127.0.0.1:6001  21      3 ms  yes     /p/\n");

    EXPECT_EQ(format_node_answer(cmd(Kind::kMempool), "[]"), "the pool is empty\n");
    const std::string pool = format_node_answer(
        cmd(Kind::kMempool), R"([{"txid":"ab","fee":382,"size":191,"feeRate":2,"time":0}])");
    EXPECT_TRUE(contains(pool, "ab    0.00000382  191   2         1970-01-01")) << pool;
}

TEST(NodeCli, BlockAndTransaction) {
    const std::string block = format_node_answer(
        cmd(Kind::kBlock, "1"),
        R"({"index":1,"hash":"h1","previousHash":"h0","timestamp":0,"data":"hi\n","bits":"207fffff",)"
        R"("difficulty":1,"nonce":0,"size":233,"confirmations":2,"transactions":[)"
        R"({"txid":"t1","coinbase":true,"outputs":[{"amount":5000000000}],"outputTotal":5000000000,)"
        R"("fee":0,"data":""}]})");
    EXPECT_TRUE(contains(block, "height         1\n")) << block;
    EXPECT_TRUE(contains(block, "data           \"hi\\x0a\"\n")) << block;
    EXPECT_TRUE(contains(block, "1 transaction:\n")) << block;
    EXPECT_TRUE(contains(block, "t1    1        50.00000000  coinbase\n")) << block;

    const std::string tx = format_node_answer(
        cmd(Kind::kTx, kHash),
        R"({"txid":"t2","coinbase":false,"inputs":[{"txid":"t1","index":0,"amount":5000000000,)"
        R"("address":"pcrtA"}],"outputs":[{"amount":100000000,"address":"pcrtB"}],"fee":382,)"
        R"("size":191,"data":"rent","inMempool":false,"blockHash":"h2","blockHeight":2,)"
        R"("confirmations":1})");
    EXPECT_TRUE(contains(tx, "status  in block 2 (h2), 1 confirmations\n")) << tx;
    EXPECT_TRUE(contains(tx, "fee     0.00000382\n")) << tx;
    EXPECT_TRUE(contains(tx, "data    \"rent\"\n")) << tx;
    EXPECT_TRUE(contains(tx, "  t1:0    50.00000000  pcrtA\n")) << tx;
    EXPECT_TRUE(contains(tx, "  0      1.00000000  pcrtB\n")) << tx;
}

TEST(NodeCli, MinedBlocksAndUnexpectedShapes) {
    EXPECT_EQ(
        format_node_answer(cmd(Kind::kMine), R"({"count":1,"blocks":[{"height":5,"hash":"h5"}]})"),
        "mined 1 block:\nHEIGHT  HASH\n5       h5\n");
    // Not the expected shape: the body as it is, so nothing is lost.
    EXPECT_EQ(format_node_answer(cmd(Kind::kPeers), R"({"odd":1})"), "{\"odd\":1}\n");
    EXPECT_EQ(format_node_answer(cmd(Kind::kStatus), "not json"), "not json\n");
}

}  // namespace
}  // namespace peerchain::app
