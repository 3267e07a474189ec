// The pure parts of `peerchain testnet`: the arguments each node gets, the ports read from
// node.json and the reason shown for a node that failed. The processes themselves are
// tested in tests/integration/test_cli.py.
#include "app/testnet.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace peerchain::app {
namespace {

bool has_pair(const std::vector<std::string>& args, const std::string& flag,
              const std::string& value) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == flag && args[i + 1] == value) return true;
    }
    return false;
}

bool has(const std::vector<std::string>& args, const std::string& flag) {
    return std::find(args.begin(), args.end(), flag) != args.end();
}

TEST(Testnet, SeedDialsNobodyAndOthersDialTheSeed) {
    TestnetOptions options;
    options.network = "dev";
    const auto first = node_arguments(options, "/d", 1, "");
    EXPECT_EQ(first.front(), "node");
    EXPECT_TRUE(has_pair(first, "--network", "dev"));
    EXPECT_TRUE(has_pair(first, "--data-dir", "/d/node-1"));
    EXPECT_TRUE(has_pair(first, "--http-port", "0"));
    EXPECT_TRUE(has_pair(first, "--p2p-port", "0"));
    EXPECT_TRUE(has_pair(first, "--p2p-bind", "127.0.0.1"));
    EXPECT_FALSE(has(first, "--peers"));
    EXPECT_FALSE(has(first, "--mine"));

    const auto third = node_arguments(options, "/d", 3, "ws://127.0.0.1:6001");
    EXPECT_TRUE(has_pair(third, "--data-dir", "/d/node-3"));
    EXPECT_TRUE(has_pair(third, "--peers", "ws://127.0.0.1:6001"));
}

TEST(Testnet, FixedPortsCountUpFromTheFirst) {
    TestnetOptions options;
    options.http_port = 3001;
    options.p2p_port = 6001;
    const auto second = node_arguments(options, "/d", 2, "ws://127.0.0.1:6001");
    EXPECT_TRUE(has_pair(second, "--http-port", "3002"));
    EXPECT_TRUE(has_pair(second, "--p2p-port", "6002"));
}

TEST(Testnet, OnlyTheFirstMinersMine) {
    TestnetOptions options;
    options.mine = true;
    options.miners = 2;
    EXPECT_TRUE(has(node_arguments(options, "/d", 1, ""), "--mine"));
    EXPECT_TRUE(has(node_arguments(options, "/d", 2, "s"), "--mine"));
    EXPECT_FALSE(has(node_arguments(options, "/d", 3, "s"), "--mine"));
    EXPECT_TRUE(has_pair(node_arguments(options, "/d", 1, ""), "--miner-threads", "1"));
}

TEST(Testnet, PortsComeOnlyFromTheNodesOwnNodeJson) {
    const std::string text = R"({"pid":42,"network":"regtest","httpPort":3001,"p2pPort":6001})";
    auto ports = parse_bound_ports(text, 42);
    ASSERT_TRUE(ports);
    EXPECT_EQ(ports->http, 3001);
    EXPECT_EQ(ports->p2p, 6001);
    EXPECT_FALSE(parse_bound_ports(text, 43));  // a stale file of an earlier process
    EXPECT_FALSE(parse_bound_ports("", 42));
    EXPECT_FALSE(parse_bound_ports(R"({"pid":42,"httpPort":3001)", 42));  // half written
    EXPECT_FALSE(parse_bound_ports(R"({"pid":42,"httpPort":0,"p2pPort":6001})", 42));
}

TEST(Testnet, FailureReasonIsTheEndOfTheLog) {
    EXPECT_EQ(failure_reason("a\nb\n\nc: cannot start\n\n", 2), "  b\n  c: cannot start");
    EXPECT_EQ(failure_reason("one line"), "  one line");
    EXPECT_EQ(failure_reason("1\n2\n3\n", 2), "  2\n  3");
    EXPECT_EQ(failure_reason(""), "(the node wrote nothing to its log)");
    EXPECT_EQ(failure_reason("\n\n  \n"), "(the node wrote nothing to its log)");
}

TEST(Testnet, NodeLineHasUrlP2pAndDir) {
    const std::string line = node_line(2, BoundPorts{3002, 6002}, "/d/node-2", false);
    EXPECT_NE(line.find("http://127.0.0.1:3002/"), std::string::npos);
    EXPECT_NE(line.find("127.0.0.1:6002"), std::string::npos);
    EXPECT_NE(line.find("/d/node-2"), std::string::npos);
}

}  // namespace
}  // namespace peerchain::app
