#include "chain/tx_index.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "chain/block_storage.hpp"
#include "chain/storage_format.hpp"

namespace peerchain::chain {

TxIndex::TxIndex(const store::Database& db, const BlockStorage& blocks, const ChainView& chain)
    : db_(db), blocks_(blocks), chain_(chain) {}

void TxIndex::on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) {
    if (!block.with_history) return;
    const std::vector<core::Transaction>& txs = block.block.txs;
    // The transactions follow the header and their count in the stored block.
    std::size_t offset = core::kHeaderSize + core::compact_size_length(txs.size());
    std::size_t undo_pos = 0;
    for (std::size_t t = 0; t < txs.size(); ++t) {
        const std::size_t size = txs[t].serialized_size();
        const std::size_t undo_first = undo_pos;
        if (t > 0) undo_pos += txs[t].inputs.size();
        storage::TxLocationRecord loc{
            static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(offset),
            static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(undo_first)};
        offset += size;
        batch.put(storage::tx_key(block.txids[t], block.hash), storage::encode_tx_location(loc));
    }
}

void TxIndex::index_stored_block(const IndexedBlock& block, store::WriteBatch& batch) {
    on_block_connected(block, batch);
}

std::optional<TxLocation> TxIndex::find(const core::Uint256& txid) const {
    auto fail = [&](const std::string& what) {
        spdlog::error("chain: looking up transaction {}: {}", txid.to_hex(), what);
        return std::nullopt;
    };
    chain_.wait_for_index_entries();
    // Usually one entry; more when blocks of other branches hold it too.
    const BlockIndex* block = nullptr;
    storage::TxLocationRecord loc;
    {
        auto it = db_.new_iterator(storage::prefixed(storage::kTxIndexPrefix, txid.span()));
        for (it->seek_to_first(); it->valid(); it->next()) {
            auto hash = storage::decode_tx_key(it->key());
            if (!hash) return fail(hash.error().to_string());
            const BlockIndex* b = chain_.find_active(*hash);
            if (b == nullptr) continue;
            block = b;
            auto record = storage::decode_tx_location(it->value());
            if (!record) return fail(record.error().to_string());
            loc = *record;
            break;
        }
        if (auto r = it->status(); !r) return fail(r.error().to_string());
    }
    if (block == nullptr) return std::nullopt;

    auto bytes = chain_.read_block_bytes(block);
    if (!bytes) return fail(bytes.error().to_string());
    if (loc.offset > bytes->size() || loc.size > bytes->size() - loc.offset) {
        return fail("its location lies outside block " + describe(block));
    }
    auto tx = core::decode_transaction(util::ByteSpan(*bytes).subspan(loc.offset, loc.size));
    if (!tx || tx->txid() != txid) return fail("block " + describe(block) + " holds another");
    TxLocation out{block, loc.position, std::move(*tx), {}};
    if (loc.position > 0) {
        auto spent = blocks_.read_undo_range(block, loc.undo_first, out.tx.inputs.size());
        if (!spent) return fail(spent.error().to_string());
        out.spent = std::move(*spent);
    }
    return out;
}

}  // namespace peerchain::chain
