// Round trips and corruption checks of the chain's stored records.
#include "chain/storage_format.hpp"

#include <gtest/gtest.h>

#include "chain/block_index.hpp"
#include "core/params.hpp"

namespace peerchain::chain::storage {
namespace {

TEST(StorageFormat, IndexRecordRoundTrip) {
    const auto& genesis = core::params(core::Network::kRegtest).genesis.header;
    const auto bytes = encode_index(genesis, 77, chain::kHaveData | chain::kFailedChild);
    ASSERT_EQ(bytes.size(), 88u);
    auto record = decode_index(bytes);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->header, genesis);
    EXPECT_EQ(record->height, 77u);
    EXPECT_EQ(record->status, chain::kHaveData | chain::kFailedChild);
    auto shorter = decode_index(util::ByteSpan(bytes).first(87));
    ASSERT_FALSE(shorter);
    EXPECT_EQ(shorter.error().code, util::Errc::kCorruption);
}

TEST(StorageFormat, CoinKeysSortByTransactionThenIndex) {
    core::OutPoint a;
    a.txid.data()[0] = 1;
    a.index = 1;
    core::OutPoint b = a;
    b.index = 256;
    core::OutPoint c = a;
    c.txid.data()[31] = 1;
    c.index = 0;
    EXPECT_LT(coin_key(a), coin_key(b));
    EXPECT_LT(coin_key(b), coin_key(c));
    const auto key = coin_key(b);
    EXPECT_EQ(key[0], 'c');
    EXPECT_EQ(key[35], 1);  // 256 big-endian
    EXPECT_EQ(key[36], 0);
    auto back = decode_coin_key(key);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
    EXPECT_FALSE(decode_coin_key(util::ByteSpan(key).first(36)));
}

TEST(StorageFormat, CoinAndUndoRoundTrip) {
    Coin coin;
    coin.out.amount = 50 * core::kCoin;
    coin.out.recipient[3] = 9;
    coin.height = 123456;
    coin.coinbase = true;
    const auto bytes = encode_coin(coin);
    EXPECT_EQ(bytes.size(), 45u);
    auto back = decode_coin(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, coin);

    auto bad = bytes;
    bad[44] = 2;  // coinbase flag other than 0 or 1
    EXPECT_FALSE(decode_coin(bad));
    bad = bytes;
    bad[7] = 0x80;  // negative amount
    EXPECT_FALSE(decode_coin(bad));

    std::vector<Coin> coins(3, coin);
    coins[1].coinbase = false;
    coins[2].height = 1;
    const auto undo = encode_undo(coins);
    EXPECT_EQ(undo.size(), 1 + 3 * 45u);
    auto decoded = decode_undo(undo);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, coins);
    auto empty = decode_undo(encode_undo({}));
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());

    auto trailing = undo;
    trailing.push_back(0);
    EXPECT_FALSE(decode_undo(trailing));
    auto truncated = undo;
    truncated.pop_back();
    EXPECT_FALSE(decode_undo(truncated));
    // A count larger than the bytes could hold is refused before allocating.
    EXPECT_FALSE(decode_undo(util::Bytes{0xfe, 0xff, 0xff, 0xff, 0x7f}));
}

TEST(StorageFormat, MetaKeysAndU32) {
    EXPECT_EQ(coins_tip_key(), (util::Bytes{'m', 'c', 'o', 'i', 'n', 's', '_', 't', 'i', 'p'}));
    EXPECT_EQ(version_key(), (util::Bytes{'m', 'v', 'e', 'r', 's', 'i', 'o', 'n'}));
    auto v = decode_u32(encode_u32(0x01020304));
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 0x01020304u);
    EXPECT_EQ(encode_u32(1), (util::Bytes{1, 0, 0, 0}));
    EXPECT_FALSE(decode_u32(util::Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace peerchain::chain::storage
