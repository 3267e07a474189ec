#include "api/json_views.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/util/block_builder.hpp"

namespace peerchain::api {
namespace {

TEST(JsonViews, BlockCarriesTheSeedNamesAndHeaderFields) {
    const auto& p = core::params(core::Network::kRegtest);
    core::Block b = testutil::make_block(p, p.genesis_hash, 1, p.genesis.header.time + 10, "hello");
    testutil::mine(b, p);
    const auto j = block_json(b, BlockPlacement{1, 3}, p);
    EXPECT_EQ(j.at("index").to_number<std::int64_t>(), 1);
    EXPECT_EQ(j.at("hash").as_string(), b.hash().to_hex());
    EXPECT_EQ(j.at("previousHash").as_string(), p.genesis_hash.to_hex());
    EXPECT_EQ(j.at("timestamp").to_number<std::int64_t>(), b.header.time);
    EXPECT_EQ(j.at("data").as_string(), "hello");
    EXPECT_EQ(j.at("bits").as_string(), "207fffff");
    EXPECT_EQ(j.at("merkleRoot").as_string(), b.header.merkle_root.to_hex());
    EXPECT_EQ(j.at("nonce").to_number<std::int64_t>(), b.header.nonce);
    EXPECT_EQ(j.at("confirmations").to_number<std::int64_t>(), 3);
    EXPECT_DOUBLE_EQ(j.at("difficulty").as_double(), 1.0);
    const auto& txs = j.at("transactions").as_array();
    ASSERT_EQ(txs.size(), 1u);
    EXPECT_EQ(txs[0].at("txid").as_string(), b.txs[0].txid().to_hex());
    EXPECT_TRUE(txs[0].at("coinbase").as_bool());
    EXPECT_EQ(txs[0].at("outputs").as_array()[0].at("amount").to_number<std::int64_t>(),
              50 * core::kCoin);
}

TEST(JsonViews, PayloadIsAlwaysValidUtf8) {
    EXPECT_EQ(payload_text({'o', 'k'}), "ok");
    EXPECT_EQ(payload_text({0xe2, 0x82, 0xac}), "\xe2\x82\xac");  // euro sign
    EXPECT_EQ(payload_text({0xff, 'a'}),
              "\xef\xbf\xbd"
              "a");                                                     // not UTF-8
    EXPECT_EQ(payload_text({0xc0, 0x80}), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong NUL
    EXPECT_EQ(payload_text({0xed, 0xa0, 0x80}),
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");                  // surrogate
    EXPECT_EQ(payload_text({0xe2, 0x82}), "\xef\xbf\xbd\xef\xbf\xbd");  // truncated
    // Whatever the bytes, the JSON text parses back.
    core::Transaction tx = core::make_coinbase(1, 1, {}, {0x00, 0xff, '"', '\\', 0x7f});
    const auto text = boost::json::serialize(transaction_json(tx));
    boost::json::error_code ec;
    (void)boost::json::parse(text, ec);
    EXPECT_FALSE(ec);
}

}  // namespace
}  // namespace peerchain::api
