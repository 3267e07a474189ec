// EventBus: the one place where the chain's events fan out to the rest of the node, in a
// declared order, plus a bounded asynchronous tap for readers that must never slow the
// chain (the API's event stream, metrics). Bitcoin Core's validationinterface plays the
// same part.
//
// Synchronous subscribers hear every event on the chain executor, in Slot order: the pool
// first (a connected block takes its transactions out, a reorg gives the old branch's back)
// so that the peers announce and the miner builds on a pool that already agrees with the
// new tip; then the peer manager; then the miner; then the node itself (logs, fatal
// errors); last the metrics, which only count (a few atomic additions, nothing that can
// wait). Each event reaches every subscriber before the next event starts.
//
// The tap (optional) receives a ChainEvent value for every event, after the subscribers
// (not on_block_validated, which is for metrics only). A ChainEvent holds shared pointers
// to the block or transaction, so that the tap's reader (node/event_feed.hpp) renders them
// on its own thread: the chain executor only copies a few values.
// It is a util::EventRing: publishing never waits for a reader, and a reader that falls
// behind is cut off with a reset rather than holding the chain back.
//
// Ownership: node/ owns the bus and hands it to the Chainstate as its ChainObserver.
// Subscribers and the tap must outlive their subscription.
// Thread-safety: the ChainObserver calls come from the chain executor (as
// chain_observer.hpp says). subscribe() may be called from any thread; a subscriber that
// was replaced or removed may still be in a call that started before.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "chain/chain_observer.hpp"
#include "core/uint256.hpp"
#include "util/event_ring.hpp"

namespace peerchain::chain {

// What a tap reader sees of one chain event: plain values, safe to keep and copy.
struct ChainEvent {
    enum class Kind : std::uint8_t {
        kBlockConnected,     // hash, height, tx_count
        kBlockDisconnected,  // hash, height, tx_count (a reorg took it out)
        kTipChanged,         // hash/height: the new tip; old_*: the old one; fork_height
        kBlockRejected,      // hash, reason
        kTransactionAdded,   // tx, fee: entered the memory pool
    };
    Kind kind = Kind::kBlockConnected;
    core::Uint256 hash;
    std::uint32_t height = 0;
    std::size_t tx_count = 0;
    core::Uint256 old_hash;
    std::uint32_t old_height = 0;
    // The last block the old and new chains share; old_height when the chain only grew.
    std::uint32_t fork_height = 0;
    std::string reason;
    // kBlockConnected, kBlockDisconnected: the block itself (never null for those), and
    // its serialized size when the store knows it (0: ask the block).
    core::BlockPtr block;
    std::size_t size = 0;
    // kTransactionAdded.
    std::shared_ptr<const core::Transaction> tx;
    core::Amount fee = 0;
};

// "block-connected", "block-disconnected", "tip-changed", "block-rejected",
// "transaction-added".
const char* chain_event_name(ChainEvent::Kind kind) noexcept;

class EventBus final : public ChainObserver {
  public:
    // The order in which synchronous subscribers hear every event.
    enum class Slot : std::size_t { kMempool, kPeers, kMiner, kNode, kMetrics, kCount };

    // `tap` may be null (no asynchronous readers).
    explicit EventBus(util::EventRing<ChainEvent>* tap = nullptr) : tap_(tap) {}

    // Puts `observer` in `slot`, replacing what was there; nullptr empties the slot.
    void subscribe(Slot slot, ChainObserver* observer) noexcept;

    void on_block_connected(const core::BlockPtr& block, const BlockIndex* index) override;
    void on_block_validated(const BlockIndex* index, std::chrono::nanoseconds took) override;
    void on_block_disconnected(const core::BlockPtr& block, const BlockIndex* index) override;
    void on_tip_changed(const BlockIndex* new_tip, const BlockIndex* old_tip,
                        const BlockIndex* fork) override;
    void on_block_rejected(const core::Uint256& hash, const core::ValidationResult& why) override;
    void on_transaction_added(const std::shared_ptr<const core::Transaction>& tx,
                              core::Amount fee) override;

  private:
    template <typename F>
    void each(F&& f) {
        for (auto& slot : slots_) {
            if (ChainObserver* o = slot.load(std::memory_order_acquire)) f(*o);
        }
    }
    void publish(ChainEvent event);
    void publish_block(ChainEvent::Kind kind, const core::BlockPtr& block, const BlockIndex* index);

    std::array<std::atomic<ChainObserver*>, static_cast<std::size_t>(Slot::kCount)> slots_{};
    util::EventRing<ChainEvent>* const tap_;
};

}  // namespace peerchain::chain
