#include "chain/block_storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "crypto/sha256.hpp"

namespace peerchain::chain {

BlockStorage::BlockStorage(store::Database& db, store::FlatFiles& files, const core::Params& params)
    : db_(db), files_(files), params_(params) {}

util::Result<void> BlockStorage::write_version(std::uint32_t version) {
    store::WriteBatch batch;
    batch.put(storage::version_key(), storage::encode_u32(version));
    return db_.write(batch, /*sync=*/true);
}

// --- Opening -----------------------------------------------------------------------------

util::Result<bool> BlockStorage::open_format(std::span<Index* const> indexes) {
    auto version = db_.get(storage::version_key());
    if (!version) return util::Unexpected(std::move(version).error());
    if (*version) {
        auto v = storage::decode_u32(**version);
        if (!v) return util::Unexpected(std::move(v).error());
        if (*v > storage::kFormatVersion) {
            return util::Unexpected(util::Errc::kInvalidArgument,
                                    "chain database format " + std::to_string(*v) +
                                        " is newer than this node's (" +
                                        std::to_string(storage::kFormatVersion) + ")");
        }
        if (*v == 0) return util::Unexpected(util::Errc::kCorruption, "chain database version 0");
        if (*v <= storage::kLastLegacyIndexFormat) {
            // Formats 1 to 6 differ from 7 and 8 in the index records' keys; those of format
            // 1 and 2 learn on the way that new bodies go to the flat files.
            if (auto r = rekey_index(); !r) return util::Unexpected(r.error());
            const std::uint32_t now = storage::indexes_complete(*v)
                                          ? storage::kFormatVersion
                                          : storage::kUnindexedFormatVersion;
            if (auto r = write_version(now); !r) return util::Unexpected(r.error());
            *v = now;
        }
        if (!indexes.empty()) {
            if (*v == storage::kFormatVersion) return false;
            return true;  // upgrade_indexes builds them, then writes the version
        }
        // Without indexes, the blocks connected from now on get no index entries: the store
        // must stop saying its indexes are complete before the first of them is written.
        if (*v != storage::kUnindexedFormatVersion) {
            if (auto r = write_version(storage::kUnindexedFormatVersion); !r) {
                return util::Unexpected(r.error());
            }
            if (storage::indexes_complete(*v)) {
                spdlog::warn(
                    "chain: running without indexes; the next start with them rebuilds them "
                    "from the stored blocks");
            }
        }
        return false;
    }
    for (const std::uint8_t prefix : {storage::kIndexPrefix, storage::kLegacyIndexPrefix}) {
        auto it = db_.new_iterator(util::Bytes{prefix});
        it->seek_to_first();
        if (it->valid()) {
            return util::Unexpected(util::Errc::kCorruption,
                                    "chain database has block index entries but no version");
        }
        if (auto r = it->status(); !r) return util::Unexpected(r.error());
    }

    const core::Block& genesis = params_.genesis;
    store::WriteBatch batch;
    batch.put(storage::version_key(),
              storage::encode_u32(indexes.empty() ? storage::kUnindexedFormatVersion
                                                  : storage::kFormatVersion));
    auto pos = files_.append(genesis.encode());
    if (!pos) return util::Unexpected(std::move(pos).error());
    batch.put(storage::index_key(0, params_.genesis_hash),
              storage::encode_index(genesis.header, 0, kHaveData | kHaveUndo, *pos).span());
    // Genesis spends nothing, so it has no undo record.
    std::vector<core::Uint256> txids;
    for (const auto& tx : genesis.txs) txids.push_back(tx.txid());
    const IndexedBlock indexed{genesis, params_.genesis_hash, 0, txids, {}};
    for (Index* index : indexes) index->index_stored_block(indexed, batch);
    batch.put(storage::coins_tip_key(), params_.genesis_hash.span());
    if (auto r = files_.sync(); !r) return util::Unexpected(r.error());
    if (auto r = db_.write(batch, /*sync=*/true); !r) return util::Unexpected(r.error());
    return false;
}

util::Result<void> BlockStorage::rekey_index() {
    constexpr std::size_t kBatchBytes = 8u << 20;
    constexpr std::size_t kHashKeySize = 1 + core::Uint256::kSize;  // formats 1 to 4
    store::WriteBatch batch;
    std::size_t moved = 0;
    auto it = db_.new_iterator(util::Bytes{storage::kLegacyIndexPrefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        const util::ByteSpan key = it->key();
        if (key.size() != kHashKeySize && key.size() != storage::IndexKey{}.size()) {
            return util::Unexpected(util::Errc::kCorruption,
                                    "block index key of " + std::to_string(key.size()) + " bytes");
        }
        const core::Uint256 hash = core::Uint256::from_bytes(key.last(core::Uint256::kSize));
        auto record = storage::decode_index(it->value());
        if (!record) {
            return util::Unexpected(util::Errc::kCorruption,
                                    "block " + hash.to_hex() + ": " + record.error().message);
        }
        if (key.size() != kHashKeySize) {
            const auto expected = storage::index_key(record->height, hash);
            if (!std::equal(key.begin() + 1, key.end(), expected.begin() + 1)) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    "block index entry " + hash.to_hex() + " is filed under another height");
            }
        }
        // Each record moves in one batch with its old key's erasure: a crash part way
        // leaves every record under one key, and the next open moves the rest.
        batch.put(storage::index_key(record->height, hash), it->value());
        batch.erase(key);
        ++moved;
        if (batch.approximate_size() >= kBatchBytes) {
            if (auto r = db_.write(batch); !r) return r;
            batch.clear();
        }
    }
    if (auto r = it->status(); !r) return r;
    if (auto r = db_.write(batch, /*sync=*/true); !r) return r;
    if (moved != 0) {
        spdlog::info("chain: {} block index records moved to the keys of format {}", moved,
                     storage::kFormatVersion);
    }
    return {};
}

util::Result<void> BlockStorage::upgrade_indexes(std::span<const BlockIndex* const> chain,
                                                 std::span<Index* const> indexes) {
    spdlog::info(
        "chain: upgrading the store to format {}: indexing the transactions of {} blocks and "
        "the coins",
        storage::kFormatVersion, chain.size());
    // Written in pieces without the version, so a crash part way leaves a format-1 store
    // that the next open upgrades again (every write here is an idempotent put or delete).
    constexpr std::size_t kBatchBytes = 8u << 20;
    store::WriteBatch batch;
    auto write_if_full = [&]() -> util::Result<void> {
        if (batch.approximate_size() < kBatchBytes) return {};
        auto r = db_.write(batch);
        batch.clear();
        return r;
    };
    // A store that a node ran without indexes (--no-index) may keep the 'o' entries of an
    // earlier indexed run, among them those of coins spent since: no flush erases them any
    // more, so they go now, before the stored coins get theirs. Stale 't' and 'a' entries
    // may stay: they name blocks, and readers skip those outside the active chain, as after
    // a reorg; the blocks still in it get the same entries again.
    std::size_t stale = 0;
    {
        auto it = db_.new_iterator(util::Bytes{storage::kAddressCoinPrefix});
        for (it->seek_to_first(); it->valid(); it->next()) {
            batch.erase(it->key());
            ++stale;
            if (auto r = write_if_full(); !r) return r;
        }
        if (auto r = it->status(); !r) return r;
    }
    if (stale != 0) spdlog::info("chain: erased {} address coin entries to rebuild", stale);
    for (const BlockIndex* node : chain) {
        if (auto r = index_stored_block(node, indexes, batch); !r) return r;
        if (auto r = write_if_full(); !r) return r;
        if (node->height % 10000 == 0 && node->height > 0) {
            spdlog::info("chain: indexed {} of {} blocks", node->height, chain.size());
        }
    }
    // The coins on disk are those of the coins tip, the end of `chain`.
    std::size_t coins = 0;
    auto it = db_.new_iterator(util::Bytes{storage::kCoinPrefix});
    for (it->seek_to_first(); it->valid(); it->next()) {
        auto outpoint = storage::decode_coin_key(it->key());
        if (!outpoint) return util::Unexpected(std::move(outpoint).error());
        auto coin = storage::decode_coin(it->value());
        if (!coin) return util::Unexpected(std::move(coin).error());
        for (Index* index : indexes) index->index_stored_coin(*outpoint, *coin, batch);
        ++coins;
        if (auto r = write_if_full(); !r) return r;
    }
    if (auto r = it->status(); !r) return r;
    batch.put(storage::version_key(), storage::encode_u32(storage::kFormatVersion));
    // Every block to the coins tip has its history entries now, whatever was deferred.
    batch.erase(storage::history_tip_key());
    if (auto r = db_.write(batch, /*sync=*/true); !r) return r;
    spdlog::info("chain: store upgraded to format {} ({} blocks, {} coins indexed)",
                 storage::kFormatVersion, chain.size(), coins);
    return {};
}

util::Result<std::vector<StoredHeader>> BlockStorage::load_headers() const {
    std::vector<StoredHeader> records;
    {
        auto it = db_.new_iterator(util::Bytes{storage::kIndexPrefix});
        for (it->seek_to_first(); it->valid(); it->next()) {
            const util::ByteSpan key = it->key();
            if (key.size() != storage::IndexKey{}.size()) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    "block index key of " + std::to_string(key.size()) + " bytes");
            }
            const core::Uint256 hash = core::Uint256::from_bytes(key.subspan(5));
            auto record = storage::decode_index(it->value());
            if (!record) {
                return util::Unexpected(util::Errc::kCorruption,
                                        "block " + hash.to_hex() + ": " + record.error().message);
            }
            const auto expected = storage::index_key(record->height, hash);
            if (!std::equal(key.begin(), key.end(), expected.begin())) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    "block index entry " + hash.to_hex() + " is filed under another height");
            }
            if (record->header.hash() != hash) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    "block index entry " + hash.to_hex() + " holds the header of another block");
            }
            records.push_back({hash, *record});
        }
        if (auto r = it->status(); !r) return util::Unexpected(r.error());
    }
    // Parents before children.
    std::stable_sort(records.begin(), records.end(),
                     [](const StoredHeader& a, const StoredHeader& b) {
                         return a.record.height < b.record.height;
                     });
    if (records.empty() || records.front().record.height != 0) {
        return util::Unexpected(util::Errc::kCorruption, "chain database has no genesis block");
    }
    if (records.front().hash != params_.genesis_hash) {
        return util::Unexpected(
            util::Errc::kInvalidArgument,
            "the chain database belongs to another network: its genesis block is " +
                records.front().hash.to_hex() + ", but " + params_.name + "'s is " +
                params_.genesis_hash.to_hex());
    }
    return records;
}

util::Result<core::Uint256> BlockStorage::coins_tip() const {
    auto tip_bytes = db_.get(storage::coins_tip_key());
    if (!tip_bytes) return util::Unexpected(std::move(tip_bytes).error());
    if (!*tip_bytes || (*tip_bytes)->size() != core::Uint256::kSize) {
        return util::Unexpected(util::Errc::kCorruption, "chain database has no valid coins tip");
    }
    return core::Uint256::from_bytes(**tip_bytes);
}

// --- Reading -----------------------------------------------------------------------------

util::Result<store::FlatPos> BlockStorage::append_block(util::ByteSpan bytes) {
    return files_.append(bytes);
}

util::Result<void> BlockStorage::flush_blocks() { return files_.flush(); }

util::Result<void> BlockStorage::sync_blocks() { return files_.sync(); }

util::Result<util::Bytes> BlockStorage::read_block_bytes(const core::Uint256& hash,
                                                         store::FlatPos pos) const {
    if (pos.null()) {
        // Stored by format 2 or before, under 'b'.
        auto value = db_.get(storage::hash_key(storage::kBlockPrefix, hash));
        if (!value) return util::Unexpected(std::move(value).error());
        if (!*value) {
            return util::Unexpected(util::Errc::kNotFound,
                                    "block " + hash.to_hex() + " is not stored");
        }
        return std::move(**value);
    }
    auto bytes = files_.read(pos);
    if (!bytes) {
        return util::Unexpected(bytes.error().code,
                                "block " + hash.to_hex() + ": " + bytes.error().message);
    }
    // A position that survived while the file's bytes did not (a power loss between them)
    // would name another block, or none: the header must be this block's.
    if (bytes->size() < core::kHeaderSize ||
        core::Uint256(crypto::sha256d(util::ByteSpan(*bytes).first(core::kHeaderSize))) != hash) {
        return util::Unexpected(util::Errc::kCorruption,
                                "block " + hash.to_hex() +
                                    ": the flat files hold another block at " +
                                    files_.file_path(pos.file).filename().string() + " offset " +
                                    std::to_string(pos.offset));
    }
    return std::move(*bytes);
}

util::Result<core::BlockPtr> BlockStorage::read_block(const core::Uint256& hash,
                                                      store::FlatPos pos) const {
    auto bytes = read_block_bytes(hash, pos);
    if (!bytes) return util::Unexpected(std::move(bytes).error());
    auto block = core::decode_block(*bytes, params_.max_block_size);
    if (!block) {
        return util::Unexpected(util::Errc::kCorruption,
                                "stored block " + hash.to_hex() + ": " + block.error().message);
    }
    return core::BlockPtr(std::make_shared<const core::Block>(std::move(*block)));
}

util::Result<void> BlockStorage::index_stored_block(const BlockIndex* index,
                                                    std::span<Index* const> indexes,
                                                    store::WriteBatch& batch) const {
    auto block = read_block(index->hash, index->data_pos);
    if (!block) return util::Unexpected(std::move(block).error());
    const core::Block& b = **block;
    auto undo = read_undo(index, b);
    if (!undo) return util::Unexpected(std::move(undo).error());
    std::vector<core::Uint256> txids;
    txids.reserve(b.txs.size());
    for (const auto& tx : b.txs) txids.push_back(tx.txid());
    const IndexedBlock indexed{b, index->hash, index->height, txids, *undo};
    for (Index* i : indexes) i->index_stored_block(indexed, batch);
    return {};
}

util::Result<std::vector<Coin>> BlockStorage::read_undo(const BlockIndex* index,
                                                        const core::Block& block) const {
    std::size_t spends = 0;
    for (std::size_t t = 1; t < block.txs.size(); ++t) spends += block.txs[t].inputs.size();
    std::vector<Coin> undo;
    if (spends != 0) {
        auto undo_bytes = db_.get(storage::hash_key(storage::kUndoPrefix, index->hash));
        if (!undo_bytes) return util::Unexpected(std::move(undo_bytes).error());
        if (!*undo_bytes) {
            return util::Unexpected(util::Errc::kCorruption, "no undo data for " + describe(index));
        }
        auto decoded = storage::decode_undo(**undo_bytes);
        if (!decoded) return util::Unexpected(std::move(decoded).error());
        undo = std::move(*decoded);
    }
    if (undo.size() != spends) {
        return util::Unexpected(util::Errc::kCorruption,
                                "undo data does not match block " + describe(index));
    }
    return undo;
}

util::Result<std::vector<Coin>> BlockStorage::read_undo_range(const BlockIndex* index,
                                                              std::size_t first,
                                                              std::size_t count) const {
    auto bytes = db_.get(storage::hash_key(storage::kUndoPrefix, index->hash));
    if (!bytes) return util::Unexpected(std::move(bytes).error());
    if (!*bytes) {
        return util::Unexpected(util::Errc::kCorruption, "no undo data for " + describe(index));
    }
    auto coins = storage::decode_undo_range(**bytes, first, count);
    if (!coins) {
        return util::Unexpected(util::Errc::kCorruption,
                                "undo data of " + describe(index) + ": " + coins.error().message);
    }
    return coins;
}

}  // namespace peerchain::chain
