#include "api/json_views.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/address.hpp"
#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"
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
    const auto text =
        boost::json::serialize(transaction_json(tx, core::params(core::Network::kRegtest)));
    boost::json::error_code ec;
    (void)boost::json::parse(text, ec);
    EXPECT_FALSE(ec);
}

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

crypto::SecretKey key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0x31;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}

TEST(JsonViews, TransactionDetailShowsSpentCoinsFeeAddressesAndHex) {
    const auto payer = key(1);
    const auto payee = key(2).public_key();
    core::Transaction tx;
    core::TxIn in;
    in.prevout.txid.data()[0] = 3;
    in.prevout.index = 4;
    tx.inputs.push_back(in);
    tx.outputs.push_back(core::TxOut{7 * core::kCoin, payee});
    tx.outputs.push_back(core::TxOut{2 * core::kCoin, payer.public_key()});
    tx.data = {'p', 'a', 'y'};
    const std::vector<core::TxOut> spent{core::TxOut{10 * core::kCoin, payer.public_key()}};
    tx.inputs[0].signature = payer.sign(core::SignatureHasher(tx, spent, regtest()).for_input(0));

    const auto j = transaction_detail_json(tx, regtest(), &spent);
    EXPECT_EQ(j.at("txid").as_string(), tx.txid().to_hex());
    EXPECT_FALSE(j.at("coinbase").as_bool());
    EXPECT_EQ(j.at("fee").as_int64(), core::kCoin);
    EXPECT_EQ(j.at("inputTotal").as_int64(), 10 * core::kCoin);
    EXPECT_EQ(j.at("outputTotal").as_int64(), 9 * core::kCoin);
    EXPECT_EQ(j.at("data").as_string(), "pay");
    EXPECT_EQ(j.at("dataHex").as_string(), "706179");
    EXPECT_EQ(j.at("size").to_number<std::size_t>(), tx.serialized_size());
    const auto& input = j.at("inputs").as_array().at(0);
    EXPECT_EQ(input.at("txid").as_string(), in.prevout.txid.to_hex());
    EXPECT_EQ(input.at("index").to_number<std::int64_t>(), 4);
    EXPECT_EQ(input.at("amount").as_int64(), 10 * core::kCoin);
    EXPECT_EQ(input.at("address").as_string(), core::encode_address(payer.public_key(), regtest()));
    const auto& output = j.at("outputs").as_array().at(0);
    EXPECT_EQ(output.at("amount").as_int64(), 7 * core::kCoin);
    EXPECT_EQ(output.at("recipient").as_string(), util::to_hex(payee));
    EXPECT_EQ(output.at("address").as_string(), core::encode_address(payee, regtest()));
    // The hex is the transaction, byte for byte.
    auto bytes = util::from_hex(std::string(j.at("hex").as_string()));
    ASSERT_TRUE(bytes);
    auto back = core::decode_transaction(*bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, tx);

    // Without the spent outputs (or with the wrong number) there is no fee to show.
    const auto bare = transaction_detail_json(tx, regtest(), nullptr);
    EXPECT_FALSE(bare.contains("fee"));
    EXPECT_FALSE(bare.at("inputs").as_array().at(0).as_object().contains("amount"));
    const std::vector<core::TxOut> short_spent;
    EXPECT_FALSE(transaction_detail_json(tx, regtest(), &short_spent).contains("fee"));
}

TEST(JsonViews, CoinbaseHasFeeZeroAndMarksItself) {
    const auto miner = key(5).public_key();
    const core::Transaction cb = core::make_coinbase(9, 50 * core::kCoin, miner, {});
    const std::vector<core::TxOut> none;
    const auto j = transaction_detail_json(cb, regtest(), &none);
    EXPECT_TRUE(j.at("coinbase").as_bool());
    EXPECT_EQ(j.at("fee").as_int64(), 0);
    EXPECT_FALSE(j.at("inputs").as_array().at(0).as_object().contains("signature"));
    EXPECT_EQ(transaction_json(cb, regtest()).at("fee").as_int64(), 0);
}

TEST(JsonViews, CoinMaturityAtTheBoundary) {
    const auto& p = regtest();
    core::Coin coin{core::TxOut{50 * core::kCoin, key(1).public_key()}, 10, true};
    const core::OutPoint outpoint{core::Uint256(), 0};
    // Spendable in the block at height 10 + maturity, i.e. when the tip is one below.
    EXPECT_FALSE(coin_json(outpoint, coin, 10 + p.coinbase_maturity - 2, p).at("mature").as_bool());
    EXPECT_TRUE(coin_json(outpoint, coin, 10 + p.coinbase_maturity - 1, p).at("mature").as_bool());
    coin.coinbase = false;
    const auto j = coin_json(outpoint, coin, 10, p);
    EXPECT_TRUE(j.at("mature").as_bool());
    EXPECT_EQ(j.at("amount").as_int64(), 50 * core::kCoin);
    EXPECT_EQ(j.at("height").to_number<std::int64_t>(), 10);
    EXPECT_FALSE(j.at("coinbase").as_bool());
}

TEST(JsonViews, PoolEntryAddressTxAndWalletCoin) {
    mempool::Entry e;
    e.txid.data()[0] = 1;
    e.fee = 999;
    e.size = 200;
    e.time = 1700000000;
    e.ancestors = 2;
    e.descendants = 1;
    const auto entry = mempool_entry_json(e);
    EXPECT_EQ(entry.at("fee").as_int64(), 999);
    EXPECT_EQ(entry.at("feeRate").as_int64(), 4);  // rounded down
    EXPECT_EQ(entry.at("size").to_number<std::int64_t>(), 200);
    EXPECT_EQ(entry.at("ancestors").to_number<std::int64_t>(), 2);
    EXPECT_EQ(entry.at("descendants").to_number<std::int64_t>(), 1);
    EXPECT_EQ(entry.at("time").as_int64(), 1700000000);
    EXPECT_EQ(fee_rate(5, 0), 0);

    chain::AddressTx a;
    a.height = 5;
    a.received = 3;
    a.sent = 4;
    const auto at = address_tx_json(a, 9);
    EXPECT_EQ(at.at("confirmations").as_int64(), 5);
    EXPECT_EQ(at.at("received").as_int64(), 3);
    EXPECT_EQ(at.at("sent").as_int64(), 4);

    WalletCoinView c;
    c.out = core::TxOut{12, key(2).public_key()};
    c.spent_in_pool = true;
    const auto wc = wallet_coin_json(c, regtest());
    EXPECT_TRUE(wc.at("height").is_null());
    EXPECT_TRUE(wc.at("spentInMempool").as_bool());
    EXPECT_EQ(wc.at("address").as_string(), core::encode_address(c.out.recipient, regtest()));
}

}  // namespace
}  // namespace peerchain::api
