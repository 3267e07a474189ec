#include "core/serialize.hpp"

#include <gtest/gtest.h>

#include "core/block.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::core {
namespace {

util::Bytes encode_compact(std::uint64_t n) {
    util::Bytes out;
    Writer(out).compact_size(n);
    return out;
}

TEST(Serialize, CompactSizeRoundTripsAtEveryBoundary) {
    for (std::uint64_t n : {0ULL, 1ULL, 0xfcULL, 0xfdULL, 0xffffULL, 0x10000ULL, 0xffffffffULL,
                            0x100000000ULL, ~0ULL}) {
        const auto bytes = encode_compact(n);
        EXPECT_EQ(bytes.size(), compact_size_length(n));
        Reader r(bytes);
        std::uint64_t back = 0;
        ASSERT_TRUE(r.compact_size(back, ~0ULL)) << n;
        EXPECT_EQ(back, n);
        EXPECT_TRUE(r.at_end());
    }
}

TEST(Serialize, CompactSizeRejectsNonCanonicalAndOverMax) {
    const util::Bytes long_small = {0xfd, 0x10, 0x00};  // 16 in three bytes
    Reader r1(long_small);
    std::uint64_t n;
    EXPECT_FALSE(r1.compact_size(n, ~0ULL));
    const util::Bytes big = encode_compact(1000);
    Reader r2(big);
    EXPECT_FALSE(r2.compact_size(n, 999));
    EXPECT_TRUE(r2.failed());
}

TEST(Serialize, ReaderNeverReadsPastItsInput) {
    const util::Bytes three = {1, 2, 3};
    Reader r(three);
    std::uint32_t v;
    EXPECT_FALSE(r.u32(v));
    std::uint8_t b;
    EXPECT_FALSE(r.u8(b));  // stays failed
    util::Bytes out;
    const util::Bytes claims_more = {0x05, 1, 2};
    Reader r2(claims_more);
    EXPECT_FALSE(r2.var_bytes(out, 100));
}

TEST(Serialize, IntegersAreLittleEndian) {
    util::Bytes out;
    Writer w(out);
    w.u32(0x01020304);
    w.u16(0x0506);
    EXPECT_EQ(out, (util::Bytes{4, 3, 2, 1, 6, 5}));
}

Transaction sample_tx() {
    Transaction tx;
    tx.version = 2;
    TxIn in;
    in.prevout.txid.data()[0] = 7;
    in.prevout.index = 3;
    in.signature[0] = 0xaa;
    tx.inputs = {in, in};
    tx.inputs[1].prevout.index = 4;
    tx.outputs = {TxOut{5 * kCoin, XOnlyKey{1}}, TxOut{1, XOnlyKey{2}}};
    tx.lock_time = 9;
    tx.data = {'h', 'i'};
    return tx;
}

TEST(Transaction, RoundTrips) {
    const Transaction tx = sample_tx();
    const auto bytes = tx.encode();
    EXPECT_EQ(bytes.size(), tx.serialized_size());
    auto back = decode_transaction(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, tx);
}

TEST(Transaction, TxidLeavesSignaturesOutButTheLeafDoesNot) {
    Transaction a = sample_tx();
    Transaction b = a;
    b.inputs[0].signature[5] ^= 1;
    EXPECT_EQ(a.txid(), b.txid());
    EXPECT_NE(a.leaf_hash(), b.leaf_hash());
    b.data.push_back('!');
    EXPECT_NE(a.txid(), b.txid());
}

TEST(Transaction, DecodeRejectsTrailingShortAndHostileCounts) {
    auto bytes = sample_tx().encode();
    bytes.push_back(0);
    EXPECT_FALSE(decode_transaction(bytes));
    bytes.pop_back();
    bytes.pop_back();
    EXPECT_FALSE(decode_transaction(bytes));
    // Claims 2^32 inputs with nothing behind them: refused before allocating.
    const util::Bytes hostile = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff};
    EXPECT_FALSE(decode_transaction(hostile));
}

TEST(Block, HeaderIsEightyBytesAndRoundTrips) {
    BlockHeader h;
    h.version = 3;
    h.prev_hash.data()[31] = 1;
    h.merkle_root.data()[0] = 2;
    h.time = 1234567;
    h.bits = 0x207fffff;
    h.nonce = 42;
    const auto bytes = h.encode();
    EXPECT_EQ(bytes.size(), 80u);
    auto back = decode_header(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, h);
    EXPECT_FALSE(decode_header(util::ByteSpan(bytes.data(), 79)));
}

TEST(Block, RoundTripsAndRespectsTheSizeLimit) {
    Block block;
    block.header.bits = 0x207fffff;
    block.txs = {make_coinbase(1, 50, XOnlyKey{3}, {'x'}), sample_tx()};
    const auto bytes = block.encode();
    EXPECT_EQ(bytes.size(), block.serialized_size());
    auto back = decode_block(bytes, 1'000'000);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, block);
    EXPECT_FALSE(decode_block(bytes, bytes.size() - 1));
    auto extra = bytes;
    extra.push_back(0);
    EXPECT_FALSE(decode_block(extra, 1'000'000));
}

TEST(Block, RandomBytesNeverDecodeIntoACrash) {
    for (int i = 0; i < 2000; ++i) {
        const auto junk = testutil::random_bytes(testutil::rng()() % 400);
        (void)decode_block(junk, 1'000'000);
        (void)decode_transaction(junk);
        (void)decode_header(junk);
    }
    // Valid prefix, then junk.
    const auto good = make_coinbase(1, 50, XOnlyKey{}, {}).encode();
    for (std::size_t cut = 0; cut < good.size(); ++cut) {
        EXPECT_FALSE(decode_transaction(util::ByteSpan(good.data(), cut)));
    }
}

TEST(Uint256, HexIsReversedForDisplay) {
    Uint256 h;
    h.data()[31] = 0xab;
    h.data()[0] = 0x01;
    const std::string hex = h.to_hex();
    EXPECT_EQ(hex.substr(0, 2), "ab");
    EXPECT_EQ(hex.substr(62, 2), "01");
    EXPECT_EQ(*Uint256::from_hex(hex), h);
    EXPECT_FALSE(Uint256::from_hex("abc"));
    EXPECT_FALSE(Uint256::from_hex(std::string(64, 'x')));
}

}  // namespace
}  // namespace peerchain::core
