// Block bodies in flat files (docs/STORAGE.md): where they go, a store of the format before
// them, and bytes on disk that are not the block an index record names. Also the index
// records' keys by height (format 5 and 6): a store keyed by hash is moved to them, and a
// record filed under another height is damage.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chain/chain_test_util.hpp"
#include "chain/chainstate.hpp"
#include "chain/storage_format.hpp"
#include "store/leveldb_database.hpp"

namespace peerchain::chain {
namespace {

using test::build_branch;
using test::ChainHarness;
using test::parent_of;
using test::regtest;

std::size_t count_prefix(const store::Database& db, std::uint8_t prefix) {
    std::size_t n = 0;
    auto it = db.new_iterator(util::Bytes{prefix});
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    return n;
}

std::uint32_t stored_version(const store::Database& db) {
    auto v = db.get(storage::version_key());
    return v && *v ? *storage::decode_u32(**v) : 0;
}

TEST(BlockFiles, BodiesGoToTheFlatFilesAndReadBack) {
    ChainHarness h;
    const auto key = test::test_key(1);
    const auto blocks = test::extend_with_spends({}, regtest().coinbase_maturity + 20, "f", key);
    h.feed(blocks);
    // No body in the database: every one, genesis included, is in blocks/.
    EXPECT_EQ(count_prefix(h.db(), storage::kBlockPrefix), 0u);
    EXPECT_GT(std::filesystem::file_size(h.dir() / "db" / "blocks" / "blk00000.dat"), 0u);
    h.reopen();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const BlockIndex* index = h.chain().at_height(static_cast<std::uint32_t>(i + 1));
        ASSERT_NE(index, nullptr);
        auto bytes = h.chain().read_block_bytes(index);
        ASSERT_TRUE(bytes) << bytes.error().to_string();
        EXPECT_EQ(*bytes, blocks[i]->encode());
    }
    auto genesis = h.chain().read_block(h.chain().at_height(0));
    ASSERT_TRUE(genesis);
    EXPECT_EQ((*genesis)->hash(), regtest().genesis_hash);
}

// The harness's store, closed and opened as a bare database, to be changed as an older
// node or a damaged disk would have left it; null (and a failure) when it does not open.
std::unique_ptr<store::Database> closed_database(ChainHarness& h) {
    h.close();
    auto db = store::open_leveldb(h.dir() / "db", {});
    EXPECT_TRUE(db) << db.error().to_string();
    return db ? std::move(*db) : nullptr;
}

// Turns the harness's store into one of format 2: bodies under 'b', index records
// without positions and keyed by hash, no blocks/ directory.
void make_format_2(ChainHarness& h) {
    auto db = closed_database(h);
    ASSERT_TRUE(db);
    auto files = store::FlatFiles::open(h.dir() / "db" / "blocks", {});
    ASSERT_TRUE(files);
    store::WriteBatch batch;
    auto it = db->new_iterator(util::Bytes{storage::kIndexPrefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        auto record = storage::decode_index(it->value());
        ASSERT_TRUE(record);
        if (record->pos.null()) continue;
        auto body = (*files)->read(record->pos);
        ASSERT_TRUE(body);
        const auto hash = core::Uint256::from_bytes(it->key().subspan(5));
        batch.put(storage::hash_key(storage::kBlockPrefix, hash), *body);
        batch.put(it->key(),
                  storage::encode_index(record->header, record->height, record->status).span());
    }
    batch.put(storage::version_key(), storage::encode_u32(storage::kLastDatabaseBodiesFormat));
    ASSERT_TRUE(db->write(batch, true));
    test::key_index_by_hash(*db);
    files->reset();
    std::filesystem::remove_all(h.dir() / "db" / "blocks");
}

TEST(BlockFiles, AStoreOfTheFormatBeforeKeepsItsBodiesAndReorgsThroughThem) {
    ChainHarness h;
    const auto key = test::test_key(2);
    const int n = regtest().coinbase_maturity + 10;
    const auto blocks = test::extend_with_spends({}, n, "old", key);
    h.feed(blocks);
    make_format_2(h);

    h.reopen();
    EXPECT_EQ(stored_version(h.db()), storage::kFormatVersion);
    EXPECT_EQ(h.chain().tip()->hash, blocks.back()->hash());
    EXPECT_EQ(count_prefix(h.db(), storage::kBlockPrefix), static_cast<std::size_t>(n) + 1);
    auto old = h.chain().read_block(h.chain().at_height(5));
    ASSERT_TRUE(old) << old.error().to_string();
    EXPECT_EQ((*old)->hash(), blocks[4]->hash());

    // A longer branch from 5 blocks down: the old bodies and undo data are read to
    // disconnect, the new blocks go to the flat files.
    const auto fork_at = static_cast<std::uint32_t>(n - 5);
    const auto branch = build_branch(parent_of(*blocks[fork_at - 1], fork_at), 7, "new");
    h.feed(branch);
    EXPECT_EQ(h.chain().tip()->hash, branch.back()->hash());
    EXPECT_TRUE(std::filesystem::exists(h.dir() / "db" / "blocks" / "blk00000.dat"));
    EXPECT_EQ(count_prefix(h.db(), storage::kBlockPrefix), static_cast<std::size_t>(n) + 1);

    // And back: the old branch, longer again, reconnects from its bodies under 'b'.
    const auto more = test::extend_with_spends(blocks, 3, "old", key);
    h.feed(std::vector<core::BlockPtr>(more.end() - 3, more.end()));
    EXPECT_EQ(h.chain().tip()->hash, more.back()->hash());
    h.reopen();
    EXPECT_EQ(h.chain().tip()->hash, more.back()->hash());
    const auto stats_before = h.chain().stats();
    EXPECT_EQ(stats_before.height, static_cast<std::uint32_t>(n + 3));
}

TEST(BlockFiles, BytesOnDiskThatAreNotTheBlockReadAsCorruption) {
    ChainHarness h;
    const auto blocks = build_branch(test::genesis_parent(), 3, "c");
    h.feed(blocks);
    const BlockIndex* second = h.chain().at_height(2);
    const BlockIndex* third = h.chain().at_height(3);
    ASSERT_EQ(second->data_pos.size, third->data_pos.size);  // same shape, other bytes
    // The third block's bytes where the second's should be, frame and all intact.
    auto bytes = h.chain().read_block_bytes(third);
    ASSERT_TRUE(bytes);
    {
        std::fstream file(h.dir() / "db" / "blocks" / "blk00000.dat",
                          std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(second->data_pos.offset);
        file.write(reinterpret_cast<const char*>(bytes->data()),
                   static_cast<std::streamsize>(bytes->size()));
    }
    auto read = h.chain().read_block_bytes(second);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, util::Errc::kCorruption);
    EXPECT_NE(read.error().message.find("another block"), std::string::npos)
        << read.error().message;
    EXPECT_FALSE(h.chain().read_block(second));
    EXPECT_TRUE(h.chain().read_block(third));
}

TEST(BlockFiles, OpeningWithoutABlocksDirectoryFails) {
    testutil::TempDir dir;
    auto db = store::open_leveldb(dir.path() / "db", {});
    ASSERT_TRUE(db);
    util::ManualClock clock(regtest().genesis.header.time);
    auto chain = Chainstate::open(**db, regtest(), clock, nullptr, {});
    ASSERT_FALSE(chain);
    EXPECT_EQ(chain.error().code, util::Errc::kInvalidArgument);
}

// Checks that every index record of the reopened store is under its key by height (format
// 7 on), in height order, none left under the old prefix, and that there are `expected`.
void expect_index_keyed_by_height(const store::Database& db, std::size_t expected) {
    EXPECT_EQ(count_prefix(db, storage::kLegacyIndexPrefix), 0u);
    std::size_t records = 0;
    auto it = db.new_iterator(util::Bytes{storage::kIndexPrefix});
    std::uint32_t last_height = 0;
    for (it->seek_to_first(); it->valid(); it->next(), ++records) {
        ASSERT_EQ(it->key().size(), storage::IndexKey{}.size());
        auto record = storage::decode_index(it->value());
        ASSERT_TRUE(record);
        EXPECT_GE(record->height, last_height) << "records in height order";
        last_height = record->height;
    }
    EXPECT_EQ(records, expected);
}

// Index records keyed by the hash alone (formats 1 to 4) move to their keys by height on
// open, also from a store where an earlier open was killed part way through the move: by a
// node of format 6 (some records under the old prefix by height) or of this one.
TEST(BlockIndexKeys, AStoreKeyedByHashMovesToKeysByHeightEvenHalfMoved) {
    ChainHarness h;
    const auto blocks = build_branch(test::genesis_parent(), 40, "k");
    h.feed(blocks);
    {
        auto db = closed_database(h);
        ASSERT_TRUE(db);
        test::key_index_by_hash(*db);
        // Two thirds of them moved already, as a kill during the move leaves it.
        store::WriteBatch batch;
        auto it = db->new_iterator(util::Bytes{storage::kLegacyIndexPrefix});
        for (it->seek_to_first(); it->valid(); it->next()) {
            auto record = storage::decode_index(it->value());
            ASSERT_TRUE(record);
            const auto hash = core::Uint256::from_bytes(it->key().subspan(1));
            if (record->height % 3 == 0) continue;
            if (record->height % 3 == 1) {
                batch.put(test::legacy_index_key(record->height, hash), it->value());
            } else {
                batch.put(storage::index_key(record->height, hash), it->value());
            }
            batch.erase(it->key());
        }
        batch.put(storage::version_key(), storage::encode_u32(4));
        ASSERT_TRUE(db->write(batch, true));
    }
    h.reopen();
    EXPECT_EQ(stored_version(h.db()), storage::kFormatVersion);
    EXPECT_EQ(h.chain().tip()->hash, blocks.back()->hash());
    expect_index_keyed_by_height(h.db(), blocks.size() + 1);
    // It goes on as any store.
    h.feed(build_branch(parent_of(*blocks.back(), 40), 3, "more"));
    EXPECT_EQ(h.chain().tip()->height, 43u);
}

// A store of format 6 (records by height under the old prefix) moves them under the new
// one and keeps whether its indexes are complete: 6 becomes 8, 5 becomes 7.
TEST(BlockIndexKeys, AStoreOfFormat6MovesItsRecordsAndKeepsItsIndexes) {
    for (const std::uint32_t format : {6u, 5u}) {
        SCOPED_TRACE(format);
        ChainHarness h;
        const auto blocks = build_branch(test::genesis_parent(), 30, "f6");
        h.feed(blocks);
        {
            auto db = closed_database(h);
            ASSERT_TRUE(db);
            test::key_index_as_format_6(*db);
            ASSERT_TRUE(db->put(storage::version_key(), storage::encode_u32(format)));
        }
        h.options().indexes = format == 6;
        h.reopen();
        EXPECT_EQ(stored_version(h.db()),
                  format == 6 ? storage::kFormatVersion : storage::kUnindexedFormatVersion);
        EXPECT_EQ(h.chain().tip()->hash, blocks.back()->hash());
        expect_index_keyed_by_height(h.db(), blocks.size() + 1);
        h.feed(build_branch(parent_of(*blocks.back(), 30), 2, "f6-more"));
        EXPECT_EQ(h.chain().tip()->height, 32u);
    }
}

// A record filed under another height than its own is corruption: in this format, and in
// format 6 (found while moving the records to their new keys).
TEST(BlockIndexKeys, ARecordFiledUnderAnotherHeightIsCorruption) {
    for (const bool format_6 : {false, true}) {
        SCOPED_TRACE(format_6 ? "format 6" : "this format");
        ChainHarness h;
        const auto blocks = build_branch(test::genesis_parent(), 5, "w");
        h.feed(blocks);
        {
            auto db = closed_database(h);
            ASSERT_TRUE(db);
            if (format_6) test::key_index_as_format_6(*db);
            const auto key = [&](std::uint32_t height, const core::Uint256& hash) {
                return format_6 ? test::legacy_index_key(height, hash)
                                : storage::index_key(height, hash);
            };
            const auto hash = blocks[2]->hash();  // height 3
            auto value = db->get(key(3, hash));
            ASSERT_TRUE(value && *value);
            store::WriteBatch batch;
            batch.erase(key(3, hash));
            batch.put(key(7, hash), **value);
            if (format_6) batch.put(storage::version_key(), storage::encode_u32(6));
            ASSERT_TRUE(db->write(batch, true));
        }
        auto r = h.try_open(regtest());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, util::Errc::kCorruption);
        EXPECT_NE(r.error().message.find("another height"), std::string::npos) << r.error().message;
    }
}

}  // namespace
}  // namespace peerchain::chain
