#include "chain/block_storage.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

namespace peerchain::chain {

BlockStorage::BlockStorage(store::Database& db, const core::Params& params)
    : db_(db), params_(params) {}

// --- Opening -----------------------------------------------------------------------------

util::Result<std::vector<StoredHeader>> BlockStorage::load_headers() const {
    std::vector<StoredHeader> records;
    {
        auto it = db_.new_iterator(util::Bytes{storage::kIndexPrefix});
        for (it->seek_to_first(); it->valid(); it->next()) {
            const util::ByteSpan key = it->key();
            if (key.size() != 1 + core::Uint256::kSize) {
                return util::Unexpected(
                    util::Errc::kCorruption,
                    "block index key of " + std::to_string(key.size()) + " bytes");
            }
            const core::Uint256 hash = core::Uint256::from_bytes(key.subspan(1));
            auto record = storage::decode_index(it->value());
            if (!record) {
                return util::Unexpected(util::Errc::kCorruption,
                                        "block " + hash.to_hex() + ": " + record.error().message);
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

util::Result<util::Bytes> BlockStorage::read_block_bytes(const BlockIndex* index) const {
    auto value = db_.get(storage::hash_key(storage::kBlockPrefix, index->hash));
    if (!value) return util::Unexpected(std::move(value).error());
    if (!*value) {
        return util::Unexpected(util::Errc::kNotFound,
                                "block " + index->hash.to_hex() + " is not stored");
    }
    return std::move(**value);
}

util::Result<core::BlockPtr> BlockStorage::read_block(const BlockIndex* index) const {
    auto bytes = read_block_bytes(index);
    if (!bytes) return util::Unexpected(std::move(bytes).error());
    auto block = core::decode_block(*bytes, params_.max_block_size);
    if (!block) {
        return util::Unexpected(util::Errc::kCorruption, "stored block " + index->hash.to_hex() +
                                                             ": " + block.error().message);
    }
    return core::BlockPtr(std::make_shared<const core::Block>(std::move(*block)));
}

util::Result<std::vector<Coin>> BlockStorage::read_undo(const BlockIndex* index,
                                                        std::size_t spends) const {
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
