#include "chain/address_index.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "chain/storage_format.hpp"

namespace peerchain::chain {

namespace {

// Rough heap use of one entry of an unordered_map (node, next pointer, cached hash).
template <typename Map>
constexpr std::size_t map_node_bytes() {
    return sizeof(typename Map::value_type) + 2 * sizeof(void*);
}

}  // namespace

AddressIndex::AddressIndex(const store::Database& db, const ChainView& chain)
    : db_(db), chain_(chain) {}

void AddressIndex::put_history(const IndexedBlock& block, store::WriteBatch& batch) const {
    struct Touch {
        core::XOnlyKey key;
        core::Amount received;
        core::Amount sent;
    };
    std::vector<Touch> touched;
    std::size_t undo_pos = 0;
    for (std::size_t t = 0; t < block.block.txs.size(); ++t) {
        const core::Transaction& tx = block.block.txs[t];
        const std::size_t undo_first = undo_pos;
        if (t > 0) undo_pos += tx.inputs.size();
        touched.clear();
        for (const core::TxOut& out : tx.outputs) touched.push_back({out.recipient, out.amount, 0});
        for (std::size_t k = undo_first; k < undo_pos; ++k) {
            touched.push_back({block.spent[k].out.recipient, 0, block.spent[k].out.amount});
        }
        // One entry per key: sort, then merge neighbours (amounts stay in range: consensus
        // bounds a transaction's outputs and inputs).
        std::sort(touched.begin(), touched.end(),
                  [](const Touch& a, const Touch& b) { return a.key < b.key; });
        for (std::size_t i = 0; i < touched.size();) {
            storage::AddressTxRecord record{block.txids[t], 0, 0};
            std::size_t j = i;
            for (; j < touched.size() && touched[j].key == touched[i].key; ++j) {
                record.received += touched[j].received;
                record.sent += touched[j].sent;
            }
            batch.put(storage::address_tx_key(touched[i].key, block.height, block.hash,
                                              static_cast<std::uint32_t>(t)),
                      storage::encode_address_tx(record));
            i = j;
        }
    }
}

void AddressIndex::on_block_connected(const IndexedBlock& block, store::WriteBatch& batch) {
    if (block.with_history) put_history(block, batch);
    // Every new coin gets its 'o' entry now, before it joins the coins set in memory.
    for (std::size_t t = 0; t < block.block.txs.size(); ++t) {
        const core::Transaction& tx = block.block.txs[t];
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            batch.put(storage::address_coin_key(tx.outputs[k].recipient,
                                                {block.txids[t], static_cast<std::uint32_t>(k)}),
                      {});
        }
    }
}

void AddressIndex::after_block_connected(const IndexedBlock& block) {
    // A spent coin keeps its 'o' entry until the flush that erases the coin; a coin made
    // and spent in this block gets both, and the flush drops the entry.
    std::size_t undo_pos = 0;
    for (std::size_t t = 0; t < block.block.txs.size(); ++t) {
        const core::Transaction& tx = block.block.txs[t];
        if (t > 0) {
            for (const core::TxIn& in : tx.inputs) {
                owned_to_erase_[in.prevout] = block.spent[undo_pos++].out.recipient;
            }
        }
        if (owned_to_erase_.empty()) continue;
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            owned_to_erase_.erase({block.txids[t], static_cast<std::uint32_t>(k)});
        }
    }
}

void AddressIndex::on_block_disconnected(const IndexedBlock& block, store::WriteBatch& batch) {
    // The coins that come back get their 'o' entries again before they are back in memory;
    // the outputs that go lose theirs with the next flush. The 'a' entries stay: readers
    // skip entries of blocks outside the active chain, and the block may come back.
    std::size_t pos = block.spent.size();
    for (std::size_t t = block.block.txs.size(); t-- > 1;) {
        const core::Transaction& tx = block.block.txs[t];
        for (std::size_t k = tx.inputs.size(); k-- > 0;) {
            const Coin& restored = block.spent[--pos];
            batch.put(storage::address_coin_key(restored.out.recipient, tx.inputs[k].prevout), {});
        }
    }
}

void AddressIndex::after_block_disconnected(const IndexedBlock& block) {
    // In the order the block is undone (last transaction first), so that a coin made and
    // spent in the block ends up erased.
    for (std::size_t t = block.block.txs.size(); t-- > 0;) {
        const core::Transaction& tx = block.block.txs[t];
        for (std::size_t k = 0; k < tx.outputs.size(); ++k) {
            owned_to_erase_[{block.txids[t], static_cast<std::uint32_t>(k)}] =
                tx.outputs[k].recipient;
        }
        if (t == 0) continue;
        for (const core::TxIn& in : tx.inputs) owned_to_erase_.erase(in.prevout);
    }
}

void AddressIndex::on_flush(store::WriteBatch& batch) {
    // Each of these coins is gone from the coins set, so this batch erases its 'c' record
    // or the store never had one: no stored coin loses its 'o' entry.
    for (const auto& [outpoint, owner] : owned_to_erase_) {
        batch.erase(storage::address_coin_key(owner, outpoint));
    }
}

void AddressIndex::after_flush() { owned_to_erase_.clear(); }

std::size_t AddressIndex::memory_usage() const {
    return owned_to_erase_.size() * map_node_bytes<OwnerMap>();
}

void AddressIndex::index_stored_block(const IndexedBlock& block, store::WriteBatch& batch) {
    if (block.height == 0) return;  // the genesis coinbase never enters the coins set
    put_history(block, batch);
}

void AddressIndex::index_stored_coin(const core::OutPoint& outpoint, const Coin& coin,
                                     store::WriteBatch& batch) {
    batch.put(storage::address_coin_key(coin.out.recipient, outpoint), {});
}

std::vector<AddressTx> AddressIndex::history(const core::XOnlyKey& key, std::size_t limit) const {
    std::vector<AddressTx> out;
    if (limit == 0) return out;
    chain_.wait_for_index_entries();
    auto it = db_.new_iterator(storage::prefixed(storage::kAddressTxPrefix, key));
    for (it->seek_to_first(); it->valid() && out.size() < limit; it->next()) {
        auto parts = storage::decode_address_tx_key(it->key());
        if (!parts) {
            spdlog::error("chain: address history: {}", parts.error().to_string());
            return out;
        }
        const BlockIndex* active = chain_.at_height(parts->height);
        if (active == nullptr || active->hash != parts->block_hash) {
            continue;  // a block of another branch
        }
        auto record = storage::decode_address_tx(it->value());
        if (!record) {
            spdlog::error("chain: address history: {}", record.error().to_string());
            return out;
        }
        out.push_back({record->txid, parts->height, parts->block_hash, parts->position,
                       record->received, record->sent});
    }
    if (auto r = it->status(); !r) {
        spdlog::error("chain: address history: {}", r.error().to_string());
    }
    return out;
}

std::vector<std::pair<core::OutPoint, Coin>> AddressIndex::coins(const core::XOnlyKey& key) const {
    // Every coin of the key in the coins set has an 'o' entry queued before the coin
    // appears in memory and erased only after it left, so the entries read once those
    // queued are written, while the coins set stays the same, filtered by that set, are
    // exactly the key's coins. When blocks connect meanwhile, start over.
    constexpr int kAttempts = 4;
    std::vector<std::pair<core::OutPoint, Coin>> out;
    for (int attempt = 1;; ++attempt) {
        out.clear();
        const std::uint64_t generation = chain_.coins_generation();
        chain_.wait_for_index_entries();  // of every change `generation` counts
        std::vector<core::OutPoint> candidates;
        {
            auto it = db_.new_iterator(storage::prefixed(storage::kAddressCoinPrefix, key));
            for (it->seek_to_first(); it->valid(); it->next()) {
                auto outpoint = storage::decode_address_coin_key(it->key());
                if (!outpoint) {
                    spdlog::error("chain: address coins: {}", outpoint.error().to_string());
                    return {};
                }
                candidates.push_back(*outpoint);
            }
            if (auto r = it->status(); !r) {
                spdlog::error("chain: address coins: {}", r.error().to_string());
                return {};
            }
        }
        auto unspent = chain_.unspent_coins(candidates);
        if (!unspent) {
            spdlog::error("chain: address coins: {}", unspent.error().to_string());
            return {};
        }
        out = std::move(*unspent);
        if (chain_.coins_generation() == generation || attempt == kAttempts) break;
    }
    // An entry left by a crash may name a coin of another key only if outpoints repeat,
    // which consensus rules out; checked anyway, it costs nothing.
    std::erase_if(out, [&](const auto& entry) { return entry.second.out.recipient != key; });
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

}  // namespace peerchain::chain
