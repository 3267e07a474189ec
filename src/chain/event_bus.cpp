#include "chain/event_bus.hpp"

#include <utility>

namespace peerchain::chain {

const char* chain_event_name(ChainEvent::Kind kind) noexcept {
    switch (kind) {
        case ChainEvent::Kind::kBlockConnected:
            return "block-connected";
        case ChainEvent::Kind::kBlockDisconnected:
            return "block-disconnected";
        case ChainEvent::Kind::kTipChanged:
            return "tip-changed";
        case ChainEvent::Kind::kBlockRejected:
            return "block-rejected";
        case ChainEvent::Kind::kTransactionAdded:
            return "transaction-added";
    }
    return "unknown";
}

void EventBus::subscribe(Slot slot, ChainObserver* observer) noexcept {
    slots_[static_cast<std::size_t>(slot)].store(observer, std::memory_order_release);
}

void EventBus::publish(ChainEvent event) {
    if (tap_ != nullptr) tap_->publish(std::move(event));
}

void EventBus::publish_block(ChainEvent::Kind kind, const core::BlockPtr& block,
                             const BlockIndex* index) {
    if (tap_ == nullptr || index == nullptr) return;
    ChainEvent e;
    e.kind = kind;
    e.hash = index->hash;
    e.height = index->height;
    e.tx_count = block ? block->txs.size() : 0;
    e.block = block;
    e.size = index->data_pos.size;
    publish(std::move(e));
}

void EventBus::on_block_connected(const core::BlockPtr& block, const BlockIndex* index) {
    each([&](ChainObserver& o) { o.on_block_connected(block, index); });
    publish_block(ChainEvent::Kind::kBlockConnected, block, index);
}

void EventBus::on_block_validated(const BlockIndex* index, std::chrono::nanoseconds took) {
    each([&](ChainObserver& o) { o.on_block_validated(index, took); });
}

void EventBus::on_block_disconnected(const core::BlockPtr& block, const BlockIndex* index) {
    each([&](ChainObserver& o) { o.on_block_disconnected(block, index); });
    publish_block(ChainEvent::Kind::kBlockDisconnected, block, index);
}

void EventBus::on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                              const BlockIndex* fork) {
    each([&](ChainObserver& o) { o.on_tip_changed(new_tip, old_tip, fork); });
    if (tap_ == nullptr || new_tip == nullptr) return;
    ChainEvent e;
    e.kind = ChainEvent::Kind::kTipChanged;
    e.hash = new_tip->hash;
    e.height = new_tip->height;
    if (old_tip != nullptr) {
        e.old_hash = old_tip->hash;
        e.old_height = old_tip->height;
    }
    e.fork_height = fork != nullptr ? fork->height : e.old_height;
    publish(std::move(e));
}

void EventBus::on_block_rejected(const core::Uint256& hash, const core::ValidationResult& why) {
    each([&](ChainObserver& o) { o.on_block_rejected(hash, why); });
    if (tap_ == nullptr) return;
    ChainEvent e;
    e.kind = ChainEvent::Kind::kBlockRejected;
    e.hash = hash;
    e.reason = why.to_string();
    publish(std::move(e));
}

void EventBus::on_transaction_added(const std::shared_ptr<const core::Transaction>& tx,
                                    core::Amount fee) {
    each([&](ChainObserver& o) { o.on_transaction_added(tx, fee); });
    if (tap_ == nullptr || !tx) return;
    ChainEvent e;
    e.kind = ChainEvent::Kind::kTransactionAdded;
    e.tx = tx;
    e.fee = fee;
    publish(std::move(e));
}

}  // namespace peerchain::chain
