// Round trips and corruption checks of the chain's stored records.
#include "chain/storage_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "chain/block_index.hpp"
#include "core/params.hpp"

namespace peerchain::chain::storage {
namespace {

TEST(StorageFormat, IndexRecordRoundTrip) {
    const auto& genesis = core::params(core::Network::kRegtest).genesis.header;
    // A header, or a body stored under 'b' by format 2: no position, 88 bytes.
    const auto bytes = encode_index(genesis, 77, chain::kHaveData | chain::kFailedChild);
    ASSERT_EQ(bytes.size, 88u);
    auto record = decode_index(bytes.span());
    ASSERT_TRUE(record);
    EXPECT_EQ(record->header, genesis);
    EXPECT_EQ(record->height, 77u);
    EXPECT_EQ(record->status, chain::kHaveData | chain::kFailedChild);
    EXPECT_TRUE(record->pos.null());
    auto shorter = decode_index(bytes.span().first(87));
    ASSERT_FALSE(shorter);
    EXPECT_EQ(shorter.error().code, util::Errc::kCorruption);

    // A body in the flat files: its position follows, 100 bytes.
    const store::FlatPos pos{3, 1000, 250};
    const auto with_pos = encode_index(genesis, 9, chain::kHaveData | chain::kHaveUndo, pos);
    ASSERT_EQ(with_pos.size, 100u);
    auto decoded = decode_index(with_pos.span());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->pos, pos);
    EXPECT_EQ(decoded->height, 9u);
    for (std::size_t size : {89u, 99u, 101u}) {
        util::Bytes odd(with_pos.bytes.begin(),
                        with_pos.bytes.begin() + std::min<std::size_t>(size, 100));
        odd.resize(size);
        EXPECT_FALSE(decode_index(odd)) << size;
    }
    // A position without kHaveData, or a null one, is damage.
    auto no_data = encode_index(genesis, 9, chain::kHaveUndo, pos);
    EXPECT_EQ(decode_index(no_data.span()).error().code, util::Errc::kCorruption);
    auto null_pos = with_pos;
    std::fill(null_pos.bytes.begin() + 96, null_pos.bytes.end(), 0);
    EXPECT_EQ(decode_index(null_pos.span()).error().code, util::Errc::kCorruption);
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

// Format 5 and 6: block index records sort by height first, whatever their hashes.
TEST(StorageFormat, IndexKeysSortByHeightThenHash) {
    core::Uint256 low;
    low.data()[0] = 1;
    core::Uint256 high;
    high.data()[0] = 0xff;
    EXPECT_LT(index_key(255, high), index_key(256, low));
    EXPECT_LT(index_key(7, low), index_key(7, high));
    const auto key = index_key(0x01020304, high);
    EXPECT_EQ(key[0], 'z');
    EXPECT_EQ(key[1], 1);  // big-endian
    EXPECT_EQ(key[4], 4);
    EXPECT_EQ(key[5], 0xff);
    EXPECT_EQ(core::Uint256::from_bytes(util::ByteSpan(key).subspan(5)), high);
}

// Index records are written in height order; under the last prefix of all, a newer one
// sorts after every other record of the store (docs/STORAGE.md, section 6).
TEST(StorageFormat, IndexKeysSortAfterEveryOtherKind) {
    for (const std::uint8_t prefix :
         {kLegacyIndexPrefix, kBlockPrefix, kUndoPrefix, kCoinPrefix, kMetaPrefix, kTxIndexPrefix,
          kAddressTxPrefix, kAddressCoinPrefix}) {
        EXPECT_LT(prefix, kIndexPrefix) << prefix;
    }
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

TEST(StorageFormat, UndoRangeDecodesOnlyThoseCoins) {
    std::vector<Coin> coins(5);
    for (std::size_t i = 0; i < coins.size(); ++i) {
        coins[i].out.amount = static_cast<core::Amount>(i + 1);
        coins[i].height = static_cast<std::uint32_t>(10 * i);
    }
    const auto undo = encode_undo(coins);
    auto middle = decode_undo_range(undo, 1, 3);
    ASSERT_TRUE(middle);
    EXPECT_EQ(*middle, std::vector<Coin>(coins.begin() + 1, coins.begin() + 4));
    auto none = decode_undo_range(undo, 5, 0);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    EXPECT_FALSE(decode_undo_range(undo, 4, 2));  // past the end
    EXPECT_FALSE(decode_undo_range(undo, 6, 0));
    // A huge count must not wrap the bound check.
    EXPECT_FALSE(decode_undo_range(undo, 1, std::numeric_limits<std::size_t>::max()));
    auto truncated = undo;
    truncated.pop_back();
    EXPECT_FALSE(decode_undo_range(truncated, 0, 1));  // the record as a whole is damaged
}

TEST(StorageFormat, TxIndexRecords) {
    core::Uint256 txid;
    txid.data()[0] = 0xaa;
    core::Uint256 block;
    block.data()[31] = 0xbb;
    const auto key = tx_key(txid, block);
    EXPECT_EQ(key[0], 't');
    EXPECT_EQ(key[1], 0xaa);
    EXPECT_EQ(key[64], 0xbb);
    // Every entry of one txid sits under its prefix.
    const auto prefix = prefixed(kTxIndexPrefix, txid.span());
    EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), key.begin()));
    auto back = decode_tx_key(key);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, block);
    EXPECT_FALSE(decode_tx_key(util::ByteSpan(key).first(64)));

    const TxLocationRecord loc{3, 1000, 250, 7};
    const auto bytes = encode_tx_location(loc);
    auto decoded = decode_tx_location(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, loc);
    EXPECT_EQ(decode_tx_location(util::ByteSpan(bytes).first(15)).error().code,
              util::Errc::kCorruption);
}

TEST(StorageFormat, AddressHistoryKeysSortNewestFirst) {
    core::XOnlyKey key{};
    key[0] = 7;
    core::Uint256 block_a;
    block_a.data()[0] = 1;
    core::Uint256 block_b;
    block_b.data()[0] = 2;
    // Higher first, then a later position first; blocks of one height side by side.
    const auto h300 = address_tx_key(key, 300, block_a, 0);
    const auto h299_p5 = address_tx_key(key, 299, block_b, 5);
    const auto h299_p1 = address_tx_key(key, 299, block_b, 1);
    const auto h2 = address_tx_key(key, 2, block_a, 0);
    EXPECT_LT(h300, h299_p5);
    EXPECT_LT(h299_p5, h299_p1);
    EXPECT_LT(h299_p1, h2);
    core::XOnlyKey other = key;
    other[31] = 1;
    EXPECT_LT(h2, address_tx_key(other, 1000, block_a, 0));  // keys never interleave

    auto parts = decode_address_tx_key(h299_p5);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->height, 299u);
    EXPECT_EQ(parts->block_hash, block_b);
    EXPECT_EQ(parts->position, 5u);
    EXPECT_FALSE(decode_address_tx_key(util::ByteSpan(h2).first(72)));

    AddressTxRecord record{block_a, 5 * core::kCoin, core::kMaxMoney};
    const auto bytes = encode_address_tx(record);
    auto decoded = decode_address_tx(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, record);
    auto bad = bytes;
    bad[47] = 0x80;  // sent with the top bit set: not a negative amount, corruption
    EXPECT_FALSE(decode_address_tx(bad));
    bad = bytes;
    bad[32] = 0xff;  // received above the money supply
    bad[39] = 0x7f;
    EXPECT_FALSE(decode_address_tx(bad));
    EXPECT_FALSE(decode_address_tx(util::ByteSpan(bytes).first(47)));
}

TEST(StorageFormat, AddressCoinKeys) {
    core::XOnlyKey key{};
    key[5] = 1;
    core::OutPoint a;
    a.txid.data()[0] = 9;
    a.index = 2;
    core::OutPoint b = a;
    b.index = 256;
    EXPECT_LT(address_coin_key(key, a), address_coin_key(key, b));
    const auto k = address_coin_key(key, b);
    EXPECT_EQ(k[0], 'o');
    EXPECT_EQ(k[6], 1);
    auto back = decode_address_coin_key(k);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
    EXPECT_FALSE(decode_address_coin_key(util::ByteSpan(k).first(68)));
    auto wrong = k;
    wrong[0] = 'c';
    EXPECT_FALSE(decode_address_coin_key(wrong));
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
