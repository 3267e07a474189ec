#include "store/write_batch.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace peerchain::store {
namespace {

util::Bytes bytes(std::string_view s) {
    const auto span = util::as_bytes(s);
    return {span.begin(), span.end()};
}

util::Bytes bytes(util::ByteSpan s) { return {s.begin(), s.end()}; }

TEST(WriteBatch, KeepsOperationsInOrder) {
    WriteBatch batch;
    EXPECT_TRUE(batch.empty());
    batch.put(util::as_bytes("k1"), util::as_bytes("value"));
    batch.erase(util::as_bytes("k2"));
    batch.put(util::as_bytes(""), util::as_bytes(""));
    ASSERT_EQ(batch.size(), 3u);

    EXPECT_EQ(batch.op(0).kind, WriteBatch::Kind::kPut);
    EXPECT_EQ(bytes(batch.op(0).key), bytes("k1"));
    EXPECT_EQ(bytes(batch.op(0).value), bytes("value"));
    EXPECT_EQ(batch.op(1).kind, WriteBatch::Kind::kErase);
    EXPECT_EQ(bytes(batch.op(1).key), bytes("k2"));
    EXPECT_TRUE(batch.op(1).value.empty());
    EXPECT_EQ(batch.op(2).kind, WriteBatch::Kind::kPut);
    EXPECT_TRUE(batch.op(2).key.empty());
    EXPECT_TRUE(batch.op(2).value.empty());
}

TEST(WriteBatch, AppendKeepsBothBatchesInOrder) {
    WriteBatch first;
    first.put(util::as_bytes("a"), util::as_bytes("1"));
    WriteBatch second;
    second.erase(util::as_bytes("b"));
    second.put(util::as_bytes("a"), util::as_bytes("22"));
    first.append(second);
    second.clear();  // the appended operations own their bytes
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(bytes(first.op(0).key), bytes("a"));
    EXPECT_EQ(bytes(first.op(0).value), bytes("1"));
    EXPECT_EQ(first.op(1).kind, WriteBatch::Kind::kErase);
    EXPECT_EQ(bytes(first.op(1).key), bytes("b"));
    EXPECT_EQ(first.op(2).kind, WriteBatch::Kind::kPut);
    EXPECT_EQ(bytes(first.op(2).key), bytes("a"));
    EXPECT_EQ(bytes(first.op(2).value), bytes("22"));
}

TEST(WriteBatch, SizeGrowsWithContentAndClears) {
    WriteBatch batch;
    const std::size_t empty_size = batch.approximate_size();
    batch.put(util::as_bytes("key"), util::Bytes(1000, 7));
    EXPECT_GE(batch.approximate_size(), empty_size + 1003);
    EXPECT_LE(batch.approximate_size(), empty_size + 1003 + 16);
    batch.clear();
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.approximate_size(), empty_size);
}

// Room made ahead changes nothing a reader sees: the operations and sizes are those put.
TEST(WriteBatch, ReserveKeepsWhatIsThere) {
    WriteBatch batch;
    batch.put(util::as_bytes("a"), util::as_bytes("1"));
    batch.reserve(1 << 16, 1000);
    EXPECT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch.data_size(), 2u);
    batch.erase(util::as_bytes("b"));
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(bytes(batch.op(0).key), bytes("a"));
    EXPECT_EQ(bytes(batch.op(0).value), bytes("1"));
    EXPECT_EQ(batch.op(1).kind, WriteBatch::Kind::kErase);
    EXPECT_EQ(bytes(batch.op(1).key), bytes("b"));
    EXPECT_EQ(batch.data_size(), 3u);
}

TEST(WriteBatchDeathTest, OpOutOfRangeIsABug) {
    WriteBatch batch;
    EXPECT_DEATH((void)batch.op(0), "i < ops_.size");
}

}  // namespace
}  // namespace peerchain::store
